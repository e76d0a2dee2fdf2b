//! The `onespike` command line: one subcommand per stage of the flow
//! (train, compile, sim, verilog, synth, report), `run`, which chains
//! them into one output folder, and `verify`, which holds the backends to
//! each other. Glue only; the work is in the libraries
//! (`onespike-dataset`, `onespike-train`, `onespike-compiler`,
//! `onespike-sim`, `onespike-hw`, and the harness of `onespike-tests`).
//!
//! The crate `onespike-host` has no library target: nothing may depend on
//! it. It is the only crate that uses `anyhow` and clap.

mod cmd;

use clap::{Parser, Subcommand};

/// onespike: a toolchain for time-to-first-spike (TTFS) neuromorphic hardware.
///
/// Train a sparse TTFS network, compile it onto the accelerator's cores,
/// simulate it cycle-accurately with energy reports, and export the
/// accelerator as synthesizable Verilog. `onespike run` does it all on the
/// built-in MNIST subset.
#[derive(Parser)]
#[command(name = "onespike", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Train(Box<cmd::train::Args>),
    Compile(cmd::compile::Args),
    Sim(cmd::sim::Args),
    Verilog(cmd::verilog::Args),
    Synth(cmd::synth::Args),
    Board(cmd::board::Args),
    Report(cmd::report::Args),
    Run(cmd::run::Args),
    Verify(cmd::verify::Args),
    Import(cmd::nir::ImportArgs),
    Export(cmd::nir::ExportArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => cmd::train::main(*a),
        Command::Compile(a) => cmd::compile::main(a),
        Command::Sim(a) => cmd::sim::main(a),
        Command::Verilog(a) => cmd::verilog::main(a),
        Command::Synth(a) => cmd::synth::main(a),
        Command::Board(a) => cmd::board::main(a),
        Command::Report(a) => cmd::report::main(a),
        Command::Run(a) => cmd::run::main(a),
        Command::Verify(a) => cmd::verify::main(a),
        Command::Import(a) => cmd::nir::import_main(a),
        Command::Export(a) => cmd::nir::export_main(a),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        for cause in e.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        std::process::exit(1);
    }
}
