//! The exported Verilog goes through every tool of the flow with zero
//! errors: Verilator lint, Icarus, Yosys `synth_ice40` (memories become
//! SB_RAM40_4K block RAM) and `synth_xilinx`. A tool that is not installed
//! is skipped with a printed note, except under CI, which installs them
//! all (`onespike_hw::export::tool_for_tests`).

use onespike_compiler::HwParams;
use onespike_hw::export::{
    run_tool, tool_for_tests, write_fpga_verilog, write_uart_verilog, write_verilog,
};
use onespike_hw::synth::parse_yosys_stats;
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("onespike-hw-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The shared policy (`tool_for_tests`): a loud skip where the tool is
/// missing, a failure under CI.
fn have(tool: &str) -> bool {
    tool_for_tests(tool)
}

#[test]
fn every_configuration_exports_and_lints_clean() {
    for p in onespike_hw::supported_configs() {
        let dir = scratch(&format!("lint-{}", p.name));
        let top = write_verilog(&p, &dir).unwrap();
        let fpga = write_fpga_verilog(&p, &dir).unwrap();
        let uart = write_uart_verilog(&p, &dir).unwrap();
        let text = std::fs::read_to_string(&top).unwrap();
        assert!(text.contains("module top"), "{}", p.name);
        assert!(std::fs::read_to_string(&uart)
            .unwrap()
            .contains("module uart_top("));
        for f in [&top, &fpga, &uart] {
            let s = f.display().to_string();
            if have("verilator") {
                let out = run_tool("verilator", &["--lint-only", "-Wno-fatal", &s], f).unwrap();
                assert!(!out.contains("%Error"), "{out}");
            }
            if have("iverilog") {
                run_tool("iverilog", &["-o", "/dev/null", &s], f).unwrap();
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn yosys_maps_memories_to_block_ram_on_ice40_and_xilinx() {
    if !have("yosys") {
        return;
    }
    let p = onespike_hw::tiny_params();
    let dir = scratch("yosys");
    let top = write_verilog(&p, &dir).unwrap();
    let s = top.display().to_string();
    let log = dir.join("ice40.log").display().to_string();
    run_tool(
        "yosys",
        &["-q", "-l", &log, "-p", "synth_ice40 -top top", &s],
        &top,
    )
    .unwrap();
    let (luts, _ffs, brams) = parse_yosys_stats(&std::fs::read_to_string(&log).unwrap());
    // Per core: pointer, weight, I and V memories and two FIFOs.
    assert!(brams >= 4 * p.cores as u64, "only {brams} SB_RAM40_4K");
    assert!(luts > 0);
    let xlog = dir.join("xilinx.log").display().to_string();
    run_tool(
        "yosys",
        &["-q", "-l", &xlog, "-p", "synth_xilinx -top top", &s],
        &top,
    )
    .unwrap();
    let x = std::fs::read_to_string(&xlog).unwrap();
    assert!(
        x.contains("RAMB18E1")
            || x.contains("RAMB36E1")
            || x.contains("RAM32M")
            || x.contains("RAM64M"),
        "no RAM cells in synth_xilinx"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A configuration that is not built in (its RTL compiled on first use)
/// exports lint-clean Verilog of its own size: three core instances where
/// `small` has two.
#[test]
fn a_configuration_that_is_not_built_in_exports_lint_clean_verilog() {
    let small = HwParams::preset("small").unwrap();
    let mut p = small.clone();
    p.cores = 3;
    p.name = "small3".into();
    let dir = scratch("small3");
    let top = write_verilog(&p, &dir).unwrap();
    let fpga = write_fpga_verilog(&p, &dir).unwrap();
    let uart = write_uart_verilog(&p, &dir).unwrap();
    let text = std::fs::read_to_string(&top).unwrap();
    let cores = |v: &str| {
        (0..)
            .take_while(|k| v.contains(&format!("cores${k}$cfg_core")))
            .count()
    };
    assert_eq!(cores(&text), 3);
    assert_eq!(cores(&onespike_hw::export::verilog(&small).unwrap()), 2);
    for f in [&top, &fpga, &uart] {
        let s = f.display().to_string();
        if have("verilator") {
            let out = run_tool("verilator", &["--lint-only", "-Wno-fatal", &s], f).unwrap();
            assert!(!out.contains("%Error"), "{out}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
