//! `onespike run`: the whole flow on one dataset into one output folder.

use anyhow::Context;
use onespike_compiler::HwParams;
use std::path::PathBuf;

/// Run the whole flow: train, compile, simulate, report, export Verilog.
///
/// Trains on the dataset (by default the MNIST subset built into the
/// binary), compiles for the hardware configuration, measures accuracy
/// under the integer reference model, and writes every artifact into the
/// output folder: `model.json` (float network), `quantized.json`,
/// `program.json`, and the reports of the later stages. A later stage
/// that is not built yet is reported as skipped; nothing is faked.
#[derive(clap::Args)]
pub struct Args {
    /// Dataset: `default` (embedded MNIST subset) or a directory of IDX files.
    #[arg(long, default_value = "default")]
    pub data: String,
    #[arg(long, default_value = "default", help = super::CONFIG_HELP)]
    pub config: String,
    /// Output folder (created if missing).
    #[arg(short, long, default_value = "onespike-out")]
    pub out: PathBuf,
    /// Random seed of training.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn main(args: Args) -> anyhow::Result<()> {
    let params = HwParams::from_preset_or_file(&args.config)?;
    let data = onespike_host::data::load(&args.data)?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    println!(
        "[1/5] data: {} ({} train, {} test images)",
        data.name,
        data.train.len(),
        data.test.len()
    );

    println!("[2/5] train");
    let net = super::train::run_stage(&data, &args.out, args.seed)?;

    println!("[3/5] compile for `{}`", params.name);
    let net = super::compile::choose_time_steps(&net, &params, &data.train)?;
    let compiled = super::compile::compile_with_activity(&net, &params, Some(&data.train))?;
    super::compile::write_outputs(
        &compiled,
        &args.out.join("program.json"),
        Some(&args.out.join("quantized.json")),
    )?;
    super::compile::report_float_accuracy(&net, &data.test);
    super::compile::report_accuracy(&compiled.quantized, &data.test, &params)?;

    let mut skipped = Vec::new();
    println!("[4/5] simulate");
    super::optional_stage(super::sim::run_stage(&compiled.program, &data, &args.out), &mut skipped)?;

    println!("[5/5] export Verilog");
    super::optional_stage(super::verilog::run_stage(&params, &args.out.join("verilog")), &mut skipped)?;
    println!("done: everything is in {}", args.out.display());
    if !skipped.is_empty() {
        println!("not built yet, so not run: {}", skipped.join(", "));
    }
    Ok(())
}
