//! `onespike compile`: a trained float network -> a program for the
//! accelerator (quantization, mapping onto cores, SRAM images).

use super::outputs::{Plan, Staged};
use onespike_compiler::pipeline;
use onespike_compiler::reference::{RunOptions, Widths};
use onespike_compiler::{FloatNetwork, HwParams, MapReport, QuantNetwork};
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
    /// Trained float network (JSON), or a NIR file (imported on the fly:
    /// give --encoding and --time-steps, see `onespike import`).
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long, default_value = "default", help = super::config_help())]
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
    /// Steps per inference on the hardware (default: the trained
    /// network's). Stretches the network's time axis exactly (thresholds
    /// scale alike), so a finer step grid costs less accuracy to the
    /// ceiling of each firing time but more cycles. At most 2^step_bits.
    /// For a NIR model: the input steps the peer ran (NIR does not record
    /// them).
    #[arg(long, conflicts_with = "choose_time_steps")]
    pub time_steps: Option<u32>,
    /// Choose the steps per inference from measured accuracy (needs
    /// `--data`): tries 1x, 2x, 4x and 8x the trained resolution within
    /// the step counter on the training images the trainer held out (the
    /// model file's `held_out`; refused when the model has no such record
    /// or `--data` does not hold exactly those images) and keeps the most
    /// accurate; equal accuracy goes to fewer steps (fewer cycles).
    #[arg(long, requires = "data")]
    pub choose_time_steps: bool,
    /// With --choose-time-steps: accept this many percentage points below
    /// the best accuracy for fewer steps (each doubling of the steps costs
    /// cycles and energy). 0 keeps the most accurate.
    #[arg(long, default_value_t = 0.0, requires = "choose_time_steps")]
    pub steps_tolerance: f64,
    #[command(flatten)]
    pub nir: super::nir::NirFlags,
}

/// `net` retimed to `time_steps`, checked against the step counter.
pub fn retime_for(
    net: &FloatNetwork,
    params: &HwParams,
    time_steps: u32,
) -> anyhow::Result<FloatNetwork> {
    Ok(pipeline::retime_for(net, params, time_steps)?)
}

/// The training images `net`'s trainer held out, found in `train`: the
/// images `--choose-time-steps` measures on. Refuses a network without
/// the record (`model` names it) and a dataset (`data`) without exactly
/// those images, before any long work.
pub fn held_out_images(
    net: &FloatNetwork,
    train: &onespike_dataset::Split,
    model: &str,
    data: &str,
) -> anyhow::Result<onespike_dataset::Split> {
    let Some(h) = &net.held_out else {
        anyhow::bail!(
            "--choose-time-steps: {model} has no field `held_out` (which training images its trainer never trained on; `onespike train` records it, a NIR import or an older model file does not), so no images are known to be unseen: give the steps with --time-steps"
        );
    };
    onespike_dataset::held_out::images(train, h).map_err(|e| {
        anyhow::anyhow!("--choose-time-steps: --data {data}: {e} ({model}, field `held_out`)")
    })
}

/// Chooses the steps per inference (see `--choose-time-steps`) on the
/// held-out images (from [`held_out_images`]) and returns the retimed
/// network, printing each trial.
pub fn choose_time_steps(
    net: &FloatNetwork,
    params: &HwParams,
    held_out: &onespike_dataset::Split,
    tolerance_points: f64,
) -> anyhow::Result<FloatNetwork> {
    let n = held_out.len();
    let opt = RunOptions {
        widths: Widths::from(params),
        early_exit: false,
    };
    println!("choosing steps per inference on {n} held-out training images:");
    let (net, _) = pipeline::choose_time_steps(net, params, tolerance_points, |q| {
        let e = onespike_dataset::reference_eval(q, held_out, opt)?;
        println!(
            "  {:>5} steps: accuracy {:.2}%, {:.1} steps run/image",
            q.time_steps,
            100.0 * e.accuracy,
            e.steps_per_image
        );
        Ok::<_, onespike_compiler::reference::RefError>((e.accuracy, ()))
    })?;
    println!("  chosen: {} steps", net.time_steps);
    Ok(net)
}

pub use onespike_compiler::pipeline::Compiled;

/// Sample images used to measure activity for load balancing.
const ACTIVITY_SAMPLES: usize = 256;

/// Quantizes and maps `net` for `params` (`pipeline::compile`), printing a
/// short report. With `samples`, balances the cores by activity measured
/// with the integer reference model on (up to 256 of) those images;
/// without, load balancing assumes every source spikes once per inference.
pub fn compile_with_activity(
    net: &FloatNetwork,
    params: &HwParams,
    samples: Option<&onespike_dataset::Split>,
) -> anyhow::Result<Compiled> {
    let inputs: Option<Vec<_>> = samples.map(|split| {
        let split = split.take(ACTIVITY_SAMPLES.min(split.len()));
        (0..split.len())
            .map(|k| net.encoding.encode(split.image(k)))
            .collect()
    });
    let c = pipeline::compile(net, params, inputs.as_deref())?;
    println!(
        "compiled for `{}`: {} layers, {} synapses on {} of {} cores",
        params.name,
        c.quantized.layers.len(),
        c.program.synapse_count(),
        c.program.cores.len(),
        params.cores
    );
    for (l, r) in c.quant_report.layers.iter().enumerate() {
        println!(
            "  layer {l}: scale {:.3}, weight error rms {:.2e} max {:.2e}, {} synapses kept, {} rounded to zero",
            r.scale, r.weight_rms_error, r.weight_max_error, r.synapses_kept, r.synapses_rounded_away
        );
    }
    print_report(&c.report);
    if let Some(snug) = &c.no_idle {
        println!(
            "  {} of {} cores idle (power-gated in the energy model); a configuration with cores = {} (else as `{}`) fits this network with no idle core",
            params.cores - snug.cores,
            params.cores,
            snug.cores,
            params.name
        );
    }
    Ok(c)
}

/// Renders the mapping report as a table.
pub fn print_report(r: &MapReport) {
    println!(
        "  cores used {} (lower bound {}, ratio {:.2}x) of {}; SRAM {} bits sparse vs {} dense ({:.1}%)",
        r.cores_used,
        r.cores_lower_bound,
        r.cores_ratio,
        r.cores_available,
        r.sram_bits,
        r.dense_sram_bits,
        100.0 * r.sram_bits as f64 / r.dense_sram_bits.max(1) as f64
    );
    println!(
        "  cycles lower bound (busiest core's synaptic events, {} activity): {:.0}",
        if r.measured_activity {
            "measured"
        } else {
            "uniform"
        },
        r.cycles_lower_bound
    );
    println!(
        "  {:>4} {:>5} {:>7} {:>8} {:>8} {:>10} {:>10}",
        "core", "layer", "neurons", "synapses", "pointers", "events", "sram_bits"
    );
    for c in &r.per_core {
        println!(
            "  {:>4} {:>5} {:>7} {:>8} {:>8} {:>10.0} {:>10}",
            c.core,
            c.layer,
            c.neurons,
            c.synapses,
            c.pointer_entries,
            c.synaptic_events_per_inference,
            c.sram_bits
        );
    }
}

/// `<program>.report.json`, the mapping report beside the program.
pub fn report_path(program: &Path) -> PathBuf {
    let mut rp = program.as_os_str().to_owned();
    rp.push(".report.json");
    PathBuf::from(rp)
}

pub fn main(args: Args) -> anyhow::Result<()> {
    let mut plan = Plan::new();
    plan.input("--model", &args.model)
        .output("-o", &args.output)
        .output("the mapping report beside -o", &report_path(&args.output))
        .output_opt("--quantized", args.quantized.as_deref());
    if Path::new(&args.config).is_file() {
        plan.input("--config", Path::new(&args.config));
    }
    plan.check()?;
    let params = HwParams::from_preset_or_file(&args.config)?;
    let is_nir = onespike_nir::h5::is_hdf5(&args.model);
    if is_nir && args.choose_time_steps {
        anyhow::bail!(
            "--choose-time-steps retimes TTFS networks; --model {} is a NIR network, whose steps are given by --time-steps",
            args.model.display()
        );
    }
    let (net, _) = super::nir::load_model(
        &args.model,
        &args.nir,
        if is_nir { args.time_steps } else { None },
    )?;
    let data = args
        .data
        .as_deref()
        .map(onespike_dataset::load)
        .transpose()?;
    if let Some(d) = &data {
        super::checks::check_data_encoded(
            d,
            "--data",
            &net.encoding,
            net.input_size,
            &format!("the network {}", args.model.display()),
        )?;
    }
    let held_out = match &data {
        Some(d) if args.choose_time_steps => Some(held_out_images(
            &net,
            &d.train,
            &format!("--model {}", args.model.display()),
            &d.name,
        )?),
        _ => None,
    };
    let net = match (args.time_steps, &held_out) {
        _ if is_nir => net,
        (Some(t), _) => retime_for(&net, &params, t)?,
        (None, Some(h)) => choose_time_steps(&net, &params, h, args.steps_tolerance)?,
        _ => net,
    };
    let c = compile_with_activity(&net, &params, data.as_ref().map(|d| &d.train))?;
    if let Some(data) = &data {
        report_float_accuracy(&net, &data.test);
        report_accuracy(&c.quantized, &data.test, &params)?;
    }
    let mut out = Staged::new();
    stage_outputs(&mut out, &c, &args.output, args.quantized.as_deref())?;
    out.commit_and_say()?;
    Ok(())
}

/// Prints the float network's accuracy on `split` (the exact
/// continuous-time forward for TTFS networks, the discrete float model of
/// the neuron modes otherwise), the "before quantization" figure, under
/// the network's own decision rule. Returns the accuracy.
pub fn report_float_accuracy(net: &FloatNetwork, split: &onespike_dataset::Split) -> f64 {
    use rayon::prelude::*;
    let correct: usize = (0..split.len())
        .into_par_iter()
        .filter(|&k| {
            let class = onespike_compiler::float_eval::float_class(
                net,
                &net.encoding.encode(split.image(k)),
            );
            class == split.labels[k] as usize
        })
        .count();
    let acc = correct as f64 / split.len().max(1) as f64;
    println!(
        "float network (before quantization) on {} images: accuracy {:.2}%",
        split.len(),
        100.0 * acc
    );
    acc
}

/// Prints reference-model accuracy of `q` on `split`.
pub fn report_accuracy(
    q: &QuantNetwork,
    split: &onespike_dataset::Split,
    params: &HwParams,
) -> anyhow::Result<onespike_dataset::RefEval> {
    let opt = RunOptions {
        widths: Widths::from(params),
        early_exit: false,
    };
    let e = onespike_dataset::reference_eval(q, split, opt)?;
    println!(
        "reference model on {} images: accuracy {:.2}%, {:.3} spikes/neuron, {:.0} synaptic events/image",
        e.images,
        100.0 * e.accuracy,
        e.spikes_per_neuron,
        e.synaptic_events_per_image
    );
    Ok(e)
}

/// Stages the program, its mapping report and (optionally) the quantized network.
pub fn stage_outputs(
    out: &mut Staged,
    c: &Compiled,
    program: &Path,
    quantized: Option<&Path>,
) -> anyhow::Result<()> {
    c.program.validate("the compiled program")?;
    out.json(program, &c.program)?;
    out.pretty_json(&report_path(program), &c.report)?;
    if let Some(q) = quantized {
        c.quantized.validate("the quantized network")?;
        out.json(q, &c.quantized)?;
    }
    Ok(())
}
