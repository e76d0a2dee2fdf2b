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
/// `program.json`, the simulation report with its plots and a VCD trace
/// of one inference, and the Verilog of the configuration.
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
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    println!(
        "[1/5] data: {} ({} train, {} test images)",
        data.name,
        data.train.len(),
        data.test.len()
    );

    println!("[2/5] train");
    let net = super::train::run_stage(&data, &args.out, args.seed)?;

    println!("[3/5] compile for `{}`", params.name);
    let net = super::compile::choose_time_steps(&net, &params, &data.train, 0.0)?;
    let compiled = super::compile::compile_with_activity(&net, &params, Some(&data.train))?;
    super::compile::write_outputs(
        &compiled,
        &args.out.join("program.json"),
        Some(&args.out.join("quantized.json")),
    )?;
    let float_acc = super::compile::report_float_accuracy(&net, &data.test);
    let reference = super::compile::report_accuracy(&compiled.quantized, &data.test, &params)?;

    println!("[4/5] simulate");
    let sim = super::sim::run_stage(&compiled.program, &data, &args.out)?;

    println!("[5/5] export Verilog");
    // rust-hdl widths are const generics: a TOML configuration that is not
    // one of the built-in hardware configurations simulates but cannot be
    // exported. Say so instead of failing the whole run at its last stage.
    match onespike_hw::configs::config_name(&params) {
        Ok(_) => super::verilog::run_stage(&params, &args.out.join("verilog"))?,
        Err(e) => println!("      skipped: {e}"),
    }
    println!("done: everything is in {}", args.out.display());
    let pruned = 1.0
        - compiled.quantized.synapse_count() as f64
            / compiled
                .quantized
                .layers
                .iter()
                .map(|l| l.weights.len())
                .sum::<usize>()
                .max(1) as f64;
    println!(
        "summary ({} test images, `{}` at {} MHz):",
        data.test.len(),
        params.name,
        params.clock_mhz
    );
    println!(
        "  accuracy          float {:.2}%, reference model {:.2}%, simulator {:.2}%",
        100.0 * float_acc,
        100.0 * reference.accuracy,
        100.0 * sim.accuracy
    );
    println!(
        "  sparsity          {:.3} spikes/neuron/image, {:.1}% of synapses pruned",
        reference.spikes_per_neuron,
        100.0 * pruned
    );
    println!(
        "  per inference     {:.0} cycles ({:.0} lower bound), {:.1} us, {:.1} nJ, {:.1} pJ per synaptic op",
        sim.cycles_per_inference.mean,
        sim.cycles_lower_bound_per_inference,
        sim.latency_us.mean,
        sim.energy_per_inference_pj.mean / 1000.0,
        sim.energy_per_synaptic_op_pj
    );
    Ok(())
}
