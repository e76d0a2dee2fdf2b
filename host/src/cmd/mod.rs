//! One module per subcommand: its `Args` (clap) and its `main`.

pub mod compile;
pub mod report;
pub mod run;
pub mod sim;
pub mod synth;
pub mod train;
pub mod verilog;

/// The error of a stage that a later issue builds; says so plainly.
pub fn not_built(stage: &str, issue: u32) -> anyhow::Error {
    anyhow::anyhow!(
        "`onespike {stage}` is not built yet (tracked in issue #{issue}); nothing was run or written"
    )
}

/// Help text shared by every `--config` flag.
pub const CONFIG_HELP: &str =
    "Hardware configuration: a preset name (default, small) or the path of a TOML file";
