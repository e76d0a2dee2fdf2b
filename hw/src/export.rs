//! Verilog export of the accelerator for a configuration, and checks of the
//! exported text with the installed tools (Verilator lint, Icarus, Yosys).

use crate::HwError;
use onespike_compiler::HwParams;
use rust_hdl::prelude::*;
use std::path::Path;

/// The synthesizable Verilog of the accelerator built for `p` (top module
/// `top`): any configuration. A built-in one is elaborated in this
/// process; any other by its library, compiled on first use
/// ([`crate::generated`]).
pub fn verilog(p: &HwParams) -> Result<String, HwError> {
    match crate::configs::built_in_row(p) {
        Ok(_) => crate::with_config!(p, T => verilog_of(T::new(p))),
        Err(_) => crate::generated::library(p)?.verilog(p, crate::rtl_lib::Which::Top),
    }
}

/// Top module of [`fpga_verilog`]'s text.
pub const FPGA_TOP_MODULE: &str = "fpga_top";

/// The Verilog of the serial-host FPGA top for `p` (top module
/// [`FPGA_TOP_MODULE`]; its submodules are `fpga_top$...`), so that it and
/// `top.v` (module `top`, submodules `top$...`) can live in one project.
/// Any configuration, as [`verilog`].
pub fn fpga_verilog(p: &HwParams) -> Result<String, HwError> {
    match crate::configs::built_in_row(p) {
        Ok(_) => crate::with_fpga_config!(p, F => fpga_verilog_of(F::new(p))),
        Err(_) => crate::generated::library(p)?.verilog(p, crate::rtl_lib::Which::Fpga),
    }
}

/// Top module of [`uart_verilog`]'s text.
pub const UART_TOP_MODULE: &str = "uart_top";

/// The Verilog of the UART-host top for `p` (top module
/// [`UART_TOP_MODULE`]; pins `clock`, `reset`, `rx`, `tx`, `done`; its UART
/// runs at `p.uart_baud`). Any configuration, as [`verilog`].
pub fn uart_verilog(p: &HwParams) -> Result<String, HwError> {
    p.validate(&format!("configuration `{}`", p.name))
        .map_err(|e| HwError::Config(e.to_string()))?;
    match crate::configs::built_in_row(p) {
        Ok(_) => crate::with_uart_config!(p, U => uart_verilog_of(U::new(p))),
        Err(_) => crate::generated::library(p)?.verilog(p, crate::rtl_lib::Which::Uart),
    }
}

/// The Verilog of a UART-host top block (module [`UART_TOP_MODULE`]).
pub fn uart_verilog_of<U: Block>(top: U) -> String {
    rename_modules(&verilog_of(top), "top", UART_TOP_MODULE)
}

/// Writes `uart_top.v`, the UART-host top, into `dir`.
pub fn write_uart_verilog(p: &HwParams, dir: &Path) -> Result<std::path::PathBuf, HwError> {
    write_file(dir, "uart_top.v", &uart_verilog(p)?)
}

/// Writes `text` into `dir/name` (creating `dir`).
fn write_file(dir: &Path, name: &str, text: &str) -> Result<std::path::PathBuf, HwError> {
    std::fs::create_dir_all(dir).map_err(|source| HwError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let file = dir.join(name);
    std::fs::write(&file, text).map_err(|source| HwError::Io {
        path: file.display().to_string(),
        source,
    })?;
    Ok(file)
}

/// The Verilog of an accelerator top block (module `top`).
pub fn verilog_of<T: Block>(mut top: T) -> String {
    top.connect_all();
    generate_verilog(&top)
}

/// The Verilog of a serial-host FPGA top block (module [`FPGA_TOP_MODULE`]).
pub fn fpga_verilog_of<F: Block>(top: F) -> String {
    rename_modules(&verilog_of(top), "top", FPGA_TOP_MODULE)
}

/// `text` with every Verilog identifier `from` or `from$...` (rust-hdl's
/// module names: the top and its submodules by path) starting with `to`
/// instead. Identifiers are whole tokens of `[A-Za-z0-9_$]`, so no other
/// name that merely contains `from` changes.
fn rename_modules(text: &str, from: &str, to: &str) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(text.len() + text.len() / 50);
    let mut rest = text;
    while let Some(start) = rest.find(is_ident) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(|c: char| !is_ident(c)).unwrap_or(tail.len());
        let token = &tail[..end];
        match token.strip_prefix(from) {
            Some(suffix) if suffix.is_empty() || suffix.starts_with('$') => {
                out.push_str(to);
                out.push_str(suffix);
            }
            _ => out.push_str(token),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Writes `fpga_top.v`, the serial-host FPGA top, into `dir`.
pub fn write_fpga_verilog(p: &HwParams, dir: &Path) -> Result<std::path::PathBuf, HwError> {
    write_file(dir, "fpga_top.v", &fpga_verilog(p)?)
}

/// Writes `top.v` (and the parameters it was built for) into `dir`.
pub fn write_verilog(p: &HwParams, dir: &Path) -> Result<std::path::PathBuf, HwError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| HwError::Io { path, source }
    };
    let v = verilog(p)?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let file = dir.join("top.v");
    std::fs::write(&file, v).map_err(io(&file))?;
    let cfg = dir.join("params.toml");
    std::fs::write(&cfg, p.to_toml()).map_err(io(&cfg))?;
    Ok(file)
}

/// Whether `tool` runs on this machine.
pub fn tool_available(tool: &str) -> bool {
    std::process::Command::new(tool)
        .arg(if tool == "iverilog" {
            "-V"
        } else {
            "--version"
        })
        .output()
        .is_ok()
}

/// The skip policy of every test that needs an external tool: `true`
/// where `tool` runs; where it is missing, a loud skip (`false`), except
/// under CI (`CI` set, as `.ci/run` installs every tool), where a missing
/// tool fails the test.
pub fn tool_for_tests(tool: &str) -> bool {
    if tool_available(tool) {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{tool} is not installed, and CI must run every tool's tests (.ci/run installs it)"
    );
    eprintln!("SKIPPED: {tool} is not installed; its checks did not run");
    false
}

/// Runs `cmd args...`; an error carries the tool's stderr.
pub fn run_tool(tool: &str, args: &[&str], file: &Path) -> Result<String, HwError> {
    let out = std::process::Command::new(tool)
        .args(args)
        .output()
        .map_err(|e| HwError::Tool {
            tool: tool.into(),
            file: file.display().to_string(),
            message: e.to_string(),
        })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        return Err(HwError::Tool {
            tool: tool.into(),
            file: file.display().to_string(),
            message: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_module_names_are_renamed() {
        let v = "module top(a);\n  top$acc acc(.stop(top_x), .x(top));\nendmodule\nmodule top$acc(b); // top\n";
        assert_eq!(
            rename_modules(v, "top", "fpga_top"),
            "module fpga_top(a);\n  fpga_top$acc acc(.stop(top_x), .x(fpga_top));\nendmodule\nmodule fpga_top$acc(b); // fpga_top\n"
        );
    }

    #[test]
    fn the_two_files_share_no_module_name() {
        let p = crate::tiny_params();
        let names = |v: &str| -> std::collections::HashSet<String> {
            v.lines()
                .filter_map(|l| l.strip_prefix("module "))
                .map(|l| l.split('(').next().unwrap().trim().to_string())
                .collect()
        };
        let (a, b) = (
            names(&verilog(&p).unwrap()),
            names(&fpga_verilog(&p).unwrap()),
        );
        assert!(b.contains(FPGA_TOP_MODULE) && a.contains("top"));
        assert!(
            a.is_disjoint(&b),
            "{:?}",
            a.intersection(&b).collect::<Vec<_>>()
        );
    }
}
