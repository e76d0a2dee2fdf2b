//! One module per subcommand: its `Args` (clap) and its `main`; and the
//! checks every subcommand runs before any work: `outputs` (output paths,
//! atomic writes) and `checks` (network against configuration and memory,
//! data against network).

pub mod checks;
pub mod compile;
pub mod nir;
pub mod outputs;
pub mod report;
pub mod run;
pub mod sim;
pub mod synth;
pub mod train;
pub mod verify;
pub mod verilog;

/// Help text shared by every `--config` flag.
pub const CONFIG_HELP: &str =
    "Hardware configuration: a preset name (default, small, tiny, tiny_narrow) or the path of a TOML file";
