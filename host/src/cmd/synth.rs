//! `onespike synth`: Synthesize the exported Verilog with Yosys and nextpnr-ice40: resources (LUT, FF, BRAM) and Fmax.

/// Synthesize the exported Verilog with Yosys and nextpnr-ice40: resources (LUT, FF, BRAM) and Fmax.
///
/// Not built yet: arrives with issue #3.
#[derive(clap::Args)]
pub struct Args {}

pub fn main(_args: Args) -> anyhow::Result<()> {
    Err(super::not_built("synth", 3))
}
