//! One module per subcommand: its `Args` (clap) and its `main`.

pub mod compile;
pub mod report;
pub mod run;
pub mod sim;
pub mod synth;
pub mod train;
pub mod verilog;

/// Help text shared by every `--config` flag.
pub const CONFIG_HELP: &str =
    "Hardware configuration: a preset name (default, small, tiny, tiny_narrow) or the path of a TOML file";
