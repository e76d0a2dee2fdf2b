//! `onespike sim`: Simulate a compiled program cycle by cycle on a dataset: accuracy, cycles and energy per inference, JSON report.

/// Simulate a compiled program cycle by cycle on a dataset: accuracy, cycles and energy per inference, JSON report.
///
/// Not built yet: arrives with issue #4.
#[derive(clap::Args)]
pub struct Args {}

pub fn main(_args: Args) -> anyhow::Result<()> {
    Err(super::not_built("sim", 4))
}

/// The sim stage of `onespike run`.
pub fn run_stage(_program: &onespike_compiler::Program, _data: &onespike_host::data::Dataset, _out: &std::path::Path) -> anyhow::Result<()> {
    Err(super::not_built("sim", 4))
}
