//! `onespike verilog`: Export the accelerator as synthesizable Verilog for a hardware configuration.

use anyhow::Context;
use onespike_compiler::HwParams;
use std::path::{Path, PathBuf};

/// Export the accelerator as synthesizable Verilog for a hardware configuration.
///
/// Writes `top.v` (the accelerator with its wide host port, top module
/// `top`), `fpga_top.v` (the same behind a serial host interface of ten
/// pins, for pin-limited FPGAs) and `params.toml` (the configuration it was
/// built for). Interfaces and timing: docs/hw.md.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "default", help = super::CONFIG_HELP)]
    pub config: String,
    /// Output folder (created if missing).
    #[arg(short, long, default_value = "verilog")]
    pub out: PathBuf,
}

pub fn main(args: Args) -> anyhow::Result<()> {
    let params = HwParams::from_preset_or_file(&args.config)?;
    run_stage(&params, &args.out)
}

/// The verilog stage of `onespike run`.
pub fn run_stage(params: &HwParams, dir: &Path) -> anyhow::Result<()> {
    let top = onespike_hw::export::write_verilog(params, dir)
        .with_context(|| format!("exporting Verilog for `{}`", params.name))?;
    let fpga = onespike_hw::export::write_fpga_verilog(params, dir)
        .with_context(|| format!("exporting the FPGA top for `{}`", params.name))?;
    println!(
        "Verilog for `{}`: {} and {}",
        params.name,
        top.display(),
        fpga.display()
    );
    Ok(())
}
