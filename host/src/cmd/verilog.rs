//! `onespike verilog`: Export the accelerator as synthesizable Verilog for a hardware configuration.

/// Export the accelerator as synthesizable Verilog for a hardware configuration.
///
/// Not built yet: arrives with issue #3.
#[derive(clap::Args)]
pub struct Args {}

pub fn main(_args: Args) -> anyhow::Result<()> {
    Err(super::not_built("verilog", 3))
}

/// The verilog stage of `onespike run`.
pub fn run_stage(_params: &onespike_compiler::HwParams, _dir: &std::path::Path) -> anyhow::Result<()> {
    Err(super::not_built("verilog", 3))
}
