//! `onespike report`: Render tables and plots from a simulation report (JSON).

/// Render tables and plots from a simulation report (JSON).
///
/// Not built yet: arrives with issue #4.
#[derive(clap::Args)]
pub struct Args {}

pub fn main(_args: Args) -> anyhow::Result<()> {
    Err(super::not_built("report", 4))
}
