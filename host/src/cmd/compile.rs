//! `onespike compile`: a trained float network -> a program for the
//! accelerator (quantization, mapping onto cores, SRAM images).

use anyhow::Context;
use onespike_compiler::quantize::quantize;
use onespike_compiler::reference::{RunOptions, Widths};
use onespike_compiler::{map_in_order, FloatNetwork, HwParams, Program, QuantNetwork};
use std::path::{Path, PathBuf};

/// Compile a trained network into a program for the accelerator.
///
/// Reads a float network (JSON, as `onespike train` writes it), quantizes
/// its weights to the configuration's weight width (one scale per layer),
/// maps its layers onto cores and writes the program file (config
/// registers and SRAM images) that the simulator and the RTL load. With
/// `--data`, also reports accuracy under the integer reference model.
#[derive(clap::Args)]
pub struct Args {
    /// Trained float network (JSON).
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long, default_value = "default", help = super::CONFIG_HELP)]
    pub config: String,
    /// Program file to write (JSON).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Also write the quantized network (JSON) here.
    #[arg(long)]
    pub quantized: Option<PathBuf>,
    /// Dataset to measure accuracy on: `default` (embedded MNIST subset) or a directory of IDX files.
    #[arg(long)]
    pub data: Option<String>,
}

/// What compiling produced.
pub struct Compiled {
    pub quantized: QuantNetwork,
    pub program: Program,
}

/// Quantizes and maps `net` for `params`, printing a short report.
pub fn compile(net: &FloatNetwork, params: &HwParams) -> anyhow::Result<Compiled> {
    let (q, rep) = quantize(net, params.weight_bits).context("quantizing")?;
    let program = map_in_order(&q, params).context("mapping onto cores")?;
    println!(
        "compiled for `{}`: {} layers, {} synapses on {} of {} cores",
        params.name,
        q.layers.len(),
        program.synapse_count(),
        program.cores.len(),
        params.cores
    );
    for (l, r) in rep.layers.iter().enumerate() {
        println!(
            "  layer {l}: scale {:.3}, weight error rms {:.2e} max {:.2e}, {} synapses kept, {} rounded to zero",
            r.scale, r.weight_rms_error, r.weight_max_error, r.synapses_kept, r.synapses_rounded_away
        );
    }
    Ok(Compiled { quantized: q, program })
}

pub fn main(args: Args) -> anyhow::Result<()> {
    let params = HwParams::from_preset_or_file(&args.config)?;
    let net = FloatNetwork::load(&args.model)?;
    let c = compile(&net, &params)?;
    if let Some(spec) = &args.data {
        let data = onespike_host::data::load(spec)?;
        report_accuracy(&c.quantized, &data.test, &params)?;
    }
    write_outputs(&c, &args.output, args.quantized.as_deref())
}

/// Prints reference-model accuracy of `q` on `split`.
pub fn report_accuracy(
    q: &QuantNetwork,
    split: &onespike_host::data::Split,
    params: &HwParams,
) -> anyhow::Result<onespike_host::eval::RefEval> {
    let opt = RunOptions {
        widths: Widths::from(params),
        early_exit: false,
    };
    let e = onespike_host::eval::reference_eval(q, split, opt)?;
    println!(
        "reference model on {} images: accuracy {:.2}%, {:.3} spikes/neuron, {:.0} synaptic events/image",
        e.images,
        100.0 * e.accuracy,
        e.spikes_per_neuron,
        e.synaptic_events_per_image
    );
    Ok(e)
}

pub fn write_outputs(c: &Compiled, program: &Path, quantized: Option<&Path>) -> anyhow::Result<()> {
    c.program.save(program)?;
    println!("wrote {}", program.display());
    if let Some(q) = quantized {
        c.quantized.save(q)?;
        println!("wrote {}", q.display());
    }
    Ok(())
}
