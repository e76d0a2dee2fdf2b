//! `onespike verilog`: Export the accelerator as synthesizable Verilog for a hardware configuration.

use super::outputs::{check_folder_files, write_folder, Staged};
use anyhow::Context;
use onespike_compiler::HwParams;
use std::path::{Path, PathBuf};

/// Export the accelerator as synthesizable Verilog for a hardware configuration.
///
/// Writes `top.v` (the accelerator with its wide host port, top module
/// `top`), `fpga_top.v` (module `fpga_top`: the same behind a serial host interface of ten
/// pins, for pin-limited FPGAs), `uart_top.v` (module `uart_top`: the same
/// behind a UART, pins `clock`, `reset`, `rx`, `tx`, `done`, for boards with
/// a USB-serial chip; `onespike board` drives it) and `params.toml` (the configuration it was
/// built for). Interfaces and timing: docs/hw.md. Any configuration: one
/// that is not built in has its RTL compiled once on first use (minutes
/// for the first such configuration, about half a minute for each later
/// one; docs/hw.md, "Any configuration").
#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "default", help = super::config_help())]
    pub config: String,
    /// Output folder (created if missing).
    #[arg(short, long, default_value = "verilog")]
    pub out: PathBuf,
}

/// The files `verilog` writes into its folder.
pub const FILES: [&str; 4] = ["top.v", "fpga_top.v", "uart_top.v", "params.toml"];

pub fn main(args: Args) -> anyhow::Result<()> {
    let config = Path::new(&args.config);
    let inputs: Vec<(&str, &Path)> = if config.is_file() {
        vec![("--config", config)]
    } else {
        Vec::new()
    };
    check_folder_files("-o", &args.out, &FILES, &inputs)?;
    let params = HwParams::from_preset_or_file(&args.config)?;
    write_folder("-o", &args.out, |out| run_stage(&params, &args.out, out))?;
    Ok(())
}

/// The verilog stage of `onespike run`: stages the four files in `dir`
/// (which must exist).
pub fn run_stage(params: &HwParams, dir: &Path, out: &mut Staged) -> anyhow::Result<()> {
    let top = onespike_hw::export::verilog(params)
        .with_context(|| format!("exporting Verilog for `{}`", params.name))?;
    let fpga = onespike_hw::export::fpga_verilog(params)
        .with_context(|| format!("exporting the FPGA top for `{}`", params.name))?;
    let uart = onespike_hw::export::uart_verilog(params)
        .with_context(|| format!("exporting the UART top for `{}`", params.name))?;
    out.bytes(&dir.join("top.v"), top.as_bytes())?;
    out.bytes(&dir.join("fpga_top.v"), fpga.as_bytes())?;
    out.bytes(&dir.join("uart_top.v"), uart.as_bytes())?;
    out.bytes(&dir.join("params.toml"), params.to_toml().as_bytes())?;
    Ok(())
}
