//! One module per subcommand: its `Args` (clap) and its `main`.

pub mod compile;
pub mod report;
pub mod run;
pub mod sim;
pub mod synth;
pub mod train;
pub mod verilog;

/// The error of a stage that a later issue builds; says so plainly.
#[derive(Debug, thiserror::Error)]
#[error("`onespike {stage}` is not built yet (tracked in issue #{issue}); nothing was run or written")]
pub struct NotBuilt {
    pub stage: &'static str,
    pub issue: u32,
}

pub fn not_built(stage: &'static str, issue: u32) -> anyhow::Error {
    NotBuilt { stage, issue }.into()
}

/// Runs an optional stage of `onespike run`: a stage that is not built yet
/// is reported and skipped (recorded in `skipped`); any other error stops.
pub fn optional_stage(result: anyhow::Result<()>, skipped: &mut Vec<String>) -> anyhow::Result<()> {
    match result {
        Err(e) => match e.downcast_ref::<NotBuilt>() {
            Some(nb) => {
                println!("      skipped: {nb}");
                skipped.push(format!("{} (issue #{})", nb.stage, nb.issue));
                Ok(())
            }
            None => Err(e),
        },
        Ok(()) => Ok(()),
    }
}

/// Help text shared by every `--config` flag.
pub const CONFIG_HELP: &str =
    "Hardware configuration: a preset name (default, small, tiny, tiny_narrow) or the path of a TOML file";
