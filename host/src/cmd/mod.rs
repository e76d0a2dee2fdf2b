//! One module per subcommand: its `Args` (clap) and its `main`; and the
//! checks every subcommand runs before any work: `outputs` (output paths,
//! atomic writes) and `checks` (network against configuration and memory,
//! data against network).

pub mod board;
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

/// Help text shared by every `--config` flag (the preset names from the
/// compiler's table).
pub fn config_help() -> String {
    format!(
        "Hardware configuration: a preset name ({}) or the path of a TOML file (any configuration has RTL: one that is not a preset is compiled once, on first use)",
        onespike_compiler::params::PRESETS.join(", ")
    )
}
