//! `onespike train`: Train a sparse TTFS network (float weights) on a dataset.

/// Train a sparse TTFS network (float weights) on a dataset.
///
/// Not built yet: arrives with issue #6.
#[derive(clap::Args)]
pub struct Args {}

pub fn main(_args: Args) -> anyhow::Result<()> {
    Err(super::not_built("train", 6))
}

/// The train stage of `onespike run`.
pub fn run_stage(_data: &onespike_host::data::Dataset, _out: &std::path::Path, _seed: u64) -> anyhow::Result<onespike_compiler::FloatNetwork> {
    Err(super::not_built("train", 6))
}
