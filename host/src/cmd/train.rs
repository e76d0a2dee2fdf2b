//! `onespike train`: train a sparse TTFS network (float weights) on a
//! dataset, and the train stage of `onespike run`. Argument parsing,
//! progress bars and files only; the trainer is `onespike_train`.

use super::outputs::{Plan, Staged};
use anyhow::bail;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use onespike_compiler::fit::NetShape;
use onespike_compiler::{FloatNetwork, HwParams};
use onespike_dataset::Dataset;
use onespike_train::report::{self, EpochRecord, FinalReport};
use onespike_train::ttfs::TimeMode;
use onespike_train::{parse_arch, Progress, SsrKind, TrainConfig, Trainer};
use std::path::{Path, PathBuf};

/// Train a sparse TTFS network (float weights) on a dataset.
///
/// Trains the time-to-first-spike network (`docs/semantics.md`) with exact spike-time
/// gradients, optional sparse-firing regularizers (M-SSR / F-SSR), an
/// annealed spike-count term and pruning with rewiring, then fine-tunes it
/// quantization-aware. Every epoch measures validation accuracy in float
/// and through the integer reference model of the hardware (`--config`).
///
/// Writes: the float network (`-o`, JSON, what `onespike compile` reads),
/// the training log (`--log`, CSV or JSON by extension; default
/// `<output>.log.csv` plus `<output>.log.json` with the final test figures),
/// a plot (`--plot`, SVG; default `<output>.svg`), and with `--checkpoint`
/// the full training state after every epoch, which `--resume` continues.
#[derive(clap::Args)]
pub struct Args {
    /// Dataset: `default` (embedded MNIST subset) or a directory of IDX files.
    #[arg(long, default_value = "default")]
    pub data: String,
    /// Layer sizes, input first, e.g. 784-400-10. The input size must match the images.
    #[arg(long, default_value = "784-400-10")]
    pub arch: String,
    /// Training epochs (the last --qat-epochs of them quantization-aware).
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Images per mini-batch (one Adam step each).
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Adam learning rate (decays by --lr-decay per epoch).
    #[arg(long, default_value_t = 1.5e-4)]
    pub lr: f64,
    /// Learning-rate multiplier per epoch.
    #[arg(long, default_value_t = 0.85)]
    pub lr_decay: f64,
    /// Random seed: same seed and options give the same weights.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Target fraction of pruned synapses (0 = dense), reached by rewiring.
    #[arg(long, default_value_t = 0.0)]
    pub sparsity: f64,
    /// Weight of the sparse-firing regularizer (SSR).
    #[arg(long, default_value_t = 0.0)]
    pub ssr_weight: f32,
    /// Which SSR: m (membrane-potential-aware), f (firing-condition-aware), both.
    #[arg(long, default_value = "m")]
    pub ssr: SsrKind,
    /// Final weight of the spike-count term (rises linearly over training).
    #[arg(long, default_value_t = 0.0)]
    pub count_weight: f32,
    /// Steps of one inference (T); at most what the hardware's step counter allows.
    #[arg(long, default_value_t = 64)]
    pub time_steps: u32,
    /// Input time levels of the pixel encoding.
    #[arg(long, default_value_t = 8)]
    pub input_steps: u32,
    /// Last epochs trained quantization-aware (hardware steps, quantized
    /// weights); fewer than --epochs. Default: 1 (none with --epochs 1).
    #[arg(long)]
    pub qat_epochs: Option<usize>,
    /// Train the non-QAT epochs in continuous time instead of hardware steps.
    #[arg(long)]
    pub continuous: bool,
    /// Softmax temperature over output spike times, in steps.
    #[arg(long, default_value_t = 1.0)]
    pub tau_steps: f32,
    /// Target spike time of the label neuron, in steps.
    #[arg(long, default_value_t = 24.0)]
    pub target_steps: f32,
    /// Weight of the target-time term.
    #[arg(long, default_value_t = 0.1)]
    pub target_weight: f32,
    /// Weight of the able-to-fire term (label neuron, silent hidden neurons).
    #[arg(long, default_value_t = 1.0)]
    pub fire_weight: f32,
    /// Initial weight mean, as init_mean * threshold / fan_in.
    #[arg(long, default_value_t = 2.0)]
    pub init_mean: f32,
    /// Initial weight half-width (uniform), as init_width * threshold / sqrt(fan_in).
    #[arg(long, default_value_t = 0.5)]
    pub init_width: f32,
    /// Fraction of surviving synapses re-chosen by gradient at each rewiring.
    #[arg(long, default_value_t = 0.05)]
    pub regrow_fraction: f64,
    /// Data augmentation: shift each training image by a random (dx, dy) in -N..=N pixels every epoch.
    #[arg(long, default_value_t = 0)]
    pub shift_pixels: u32,
    /// Data augmentation: mirror each training image left-right with probability 1/2 every epoch.
    #[arg(long)]
    pub mirror: bool,
    /// Decoupled (AdamW) weight decay per step, relative to the learning rate.
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    /// Weight averaging: evaluate and save an exponential moving average of the
    /// weights with this decay per step (e.g. 0.999; 0 = off).
    #[arg(long, default_value_t = 0.0)]
    pub ema_decay: f64,
    /// Data augmentation: rotate each training image by a random angle in -D..=D degrees every epoch.
    #[arg(long, default_value_t = 0.0)]
    pub rotate_degrees: f32,
    /// Data augmentation: scale each training image by a random factor in 1 +- P/100 every epoch.
    #[arg(long, default_value_t = 0.0)]
    pub scale_percent: f32,
    /// Label smoothing of the cross-entropy: the target is 1 - E on the label plus E spread over all classes.
    #[arg(long, default_value_t = 0.0)]
    pub label_smoothing: f32,
    /// Data augmentation: drop each input spike of a training image with probability P every epoch.
    #[arg(long, default_value_t = 0.0)]
    pub input_dropout: f32,
    /// Training images held out for validation (from the end of the training split).
    #[arg(long, default_value_t = 1000)]
    pub val_images: usize,
    /// Train on the first N training images only.
    #[arg(long)]
    pub limit_train: Option<usize>,
    #[arg(long, default_value = "default", help = super::CONFIG_HELP)]
    pub config: String,
    /// Float network to write (JSON).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Training log: `.csv` or `.json` (default: `<output>.log.csv`).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Plot of accuracy, spikes per neuron and sparsity per epoch (SVG; default `<output>.svg`).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Save the training state here after every epoch.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Continue from a checkpoint (give the same --data); its training options win over the flags.
    #[arg(long)]
    pub resume: Option<PathBuf>,
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Progress bars on stderr (hidden when stderr is not a terminal) and one
/// line per epoch on stdout.
struct Bars {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl Progress for Bars {
    fn epoch_start(&mut self, epoch: usize, batches: usize) {
        let bar = ProgressBar::with_draw_target(Some(batches as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "epoch {prefix} [{bar:40}] {pos}/{len} batches, {elapsed} (eta {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(epoch.to_string());
        self.bar = Some(bar);
    }
    fn batch_done(&mut self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }
    fn epoch_end(&mut self, r: &EpochRecord) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        if !self.quiet {
            println!(
                "epoch {:>3}: loss {:.4}, train {:.2}%, val float {:.2}% / hardware {:.2}%, {:.3} spikes/neuron (hw), sparsity {:.1}%, {:.1} s{}",
                r.epoch,
                r.train_loss,
                100.0 * r.train_accuracy,
                100.0 * r.val_float_accuracy,
                100.0 * r.val_hw_accuracy,
                r.val_hw_spikes_per_neuron,
                100.0 * r.sparsity,
                r.epoch_seconds,
                if r.quantization_aware { " (quantization-aware)" } else { "" }
            );
        }
    }
}

#[derive(serde::Serialize)]
struct LogFile<'a> {
    config: &'a TrainConfig,
    epochs: &'a [EpochRecord],
    #[serde(skip_serializing_if = "Option::is_none")]
    test: Option<&'a FinalReport>,
}

/// The log files of `log`: the log itself and, for a CSV log, the JSON
/// beside it that holds the configuration and test figures.
fn log_files(log: &Path) -> (PathBuf, Option<PathBuf>) {
    let is_json = log.extension().is_some_and(|e| e == "json");
    let side = (!is_json).then(|| log.with_extension("json"));
    (log.to_path_buf(), side)
}

/// Stages the log (CSV and/or JSON) and the plot.
fn stage_log(
    out: &mut Staged,
    trainer: &Trainer,
    final_report: Option<&FinalReport>,
    log: &Path,
    plot: &Path,
) -> anyhow::Result<()> {
    let json = serde_json::to_vec_pretty(&LogFile {
        config: &trainer.config,
        epochs: &trainer.log,
        test: final_report,
    })?;
    match log_files(log) {
        (log, None) => out.bytes(&log, &json)?,
        (log, Some(side)) => {
            out.bytes(&log, report::to_csv(&trainer.log).as_bytes())?;
            // The CSV has no room for the configuration and test figures: they go beside it.
            out.bytes(&side, &json)?;
        }
    }
    out.bytes(plot, report::to_svg(&trainer.log).as_bytes())
}

/// `784-400-10`.
fn shape_arch(sizes: &[u32]) -> String {
    sizes
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join("-")
}

/// `--qat-epochs` against `--epochs`: at least one epoch trains in float.
fn qat_epochs(given: Option<usize>, epochs: usize) -> anyhow::Result<usize> {
    match given {
        None => Ok(1.min(epochs.saturating_sub(1))),
        Some(q) if q >= epochs.max(1) => bail!(
            "--qat-epochs {q}: must be less than --epochs {epochs} (the first epochs train in float, the last {q} quantization-aware)"
        ),
        Some(q) => Ok(q),
    }
}

pub fn main(args: Args) -> anyhow::Result<()> {
    let mut trainer = match &args.resume {
        Some(path) => {
            let t = Trainer::load_checkpoint(path)?;
            println!(
                "resuming {} after epoch {} of {} (the checkpoint's training options are used)",
                path.display(),
                t.epochs_done,
                t.config.epochs
            );
            t
        }
        None => {
            let mut c = TrainConfig::new(parse_arch(&args.arch)?);
            c.epochs = args.epochs;
            c.batch_size = args.batch_size;
            c.learning_rate = args.lr;
            c.lr_decay = args.lr_decay;
            c.seed = args.seed;
            c.sparsity = args.sparsity;
            c.ssr_weight = args.ssr_weight;
            c.ssr = args.ssr;
            c.count_weight = args.count_weight;
            c.time_steps = args.time_steps;
            c.input_steps = args.input_steps;
            c.qat_epochs = qat_epochs(args.qat_epochs, args.epochs)?;
            c.mode = if args.continuous {
                TimeMode::Continuous
            } else {
                TimeMode::Discrete
            };
            c.val_images = args.val_images;
            c.tau_steps = args.tau_steps;
            c.target_steps = args.target_steps;
            c.target_weight = args.target_weight;
            c.fire_weight = args.fire_weight;
            c.init_mean = args.init_mean;
            c.init_width = args.init_width;
            c.regrow_fraction = args.regrow_fraction;
            c.limit_train = args.limit_train;
            c.shift_pixels = args.shift_pixels;
            c.mirror = args.mirror;
            c.weight_decay = args.weight_decay;
            c.ema_decay = args.ema_decay;
            c.rotate_degrees = args.rotate_degrees;
            c.scale_percent = args.scale_percent;
            c.label_smoothing = args.label_smoothing;
            c.input_dropout = args.input_dropout;
            c.hw_config = args.config.clone();
            // Before any allocation: a network no configuration holds, or
            // one whose training state does not fit in memory.
            super::checks::check_trainable(&c.sizes, c.sparsity, c.time_steps)?;
            Trainer::new(c)?
        }
    };
    // Everything that can be refused is checked before any epoch runs:
    // the outputs, the data, and whether the network fits `--config`.
    let log = args
        .log
        .clone()
        .unwrap_or_else(|| with_suffix(&args.output, ".log.csv"));
    let plot = args
        .plot
        .clone()
        .unwrap_or_else(|| args.output.with_extension("svg"));
    let (log_file, side) = log_files(&log);
    let mut plan = Plan::new();
    plan.input_opt("--resume", args.resume.as_deref())
        .output("-o", &args.output)
        .output(
            if args.log.is_some() {
                "--log"
            } else {
                "the default --log"
            },
            &log_file,
        )
        .output_opt("the JSON beside the CSV --log", side.as_deref())
        .output(
            if args.plot.is_some() {
                "--plot"
            } else {
                "the default --plot"
            },
            &plot,
        );
    if Path::new(&trainer.config.hw_config).is_file() {
        plan.input("--config", Path::new(&trainer.config.hw_config));
    }
    // Resuming and checkpointing into the same file is how a run continues.
    let same_as_resume = matches!(
        (&args.checkpoint, &args.resume),
        (Some(c), Some(r)) if std::fs::canonicalize(c).ok() == std::fs::canonicalize(r).ok()
    );
    if !same_as_resume {
        plan.output_opt("--checkpoint", args.checkpoint.as_deref());
    }
    plan.check()?;
    let data = onespike_dataset::load(&args.data)?;
    // Both splits: the test split is only read after the last epoch.
    let arch = shape_arch(&trainer.config.sizes);
    super::checks::check_data(
        &data,
        "--data",
        trainer.config.sizes[0],
        &format!("--arch {arch}"),
    )?;
    let prepared = trainer.prepare(&data.train)?;
    if trainer.config.batch_size > prepared.train.spikes.len() {
        bail!(
            "--batch-size {}: more than the {} training images (one batch would be the whole split): give at most {}",
            trainer.config.batch_size,
            prepared.train.spikes.len(),
            prepared.train.spikes.len()
        );
    }
    let params = HwParams::from_preset_or_file(&trainer.config.hw_config)?;
    let shape = NetShape::planned(
        &trainer.config.sizes,
        1.0 - trainer.config.sparsity,
        trainer.config.time_steps,
    );
    if let Some(d) = onespike_compiler::fit::diagnose(&shape, &params, None) {
        eprintln!(
            "note: `onespike compile --config {}` will refuse this network unless it is pruned further: {}",
            trainer.config.hw_config,
            d.message(&params)
        );
    }
    println!(
        "training {} on {} ({} training, {} validation images), {} epochs",
        arch,
        data.name,
        prepared.train.spikes.len(),
        prepared.val.spikes.len(),
        trainer.config.epochs
    );
    let mut bars = Bars {
        bar: None,
        quiet: false,
    };
    let epochs = trainer.config.epochs;
    trainer.train(&prepared, epochs, &mut bars, args.checkpoint.as_deref())?;
    let fin = trainer.final_report(&data.test)?;
    println!(
        "test ({} images): float {:.2}% (continuous time {:.2}%), hardware (`{}`) {:.2}%, {:.4} spikes/neuron/sample (hw; {:.4} with early exit; per image by layer {:?}), {:.1}% synapses pruned ({:.1}% after quantization)",
        fin.test_images,
        100.0 * fin.test_float_accuracy,
        100.0 * fin.test_float_continuous_accuracy,
        fin.hw_config,
        100.0 * fin.test_hw_accuracy,
        fin.test_hw_spikes_per_neuron,
        fin.test_hw_early_exit_spikes_per_neuron,
        fin.test_hw_spikes_per_image_by_layer
            .iter()
            .map(|s| (s * 10.0).round() / 10.0)
            .collect::<Vec<_>>(),
        100.0 * fin.float_sparsity,
        100.0 * fin.hw_sparsity
    );
    let net = trainer.network();
    net.validate("the trained network")?;
    let mut out = Staged::new();
    out.json(&args.output, &net)?;
    stage_log(&mut out, &trainer, Some(&fin), &log, &plot)?;
    out.commit_and_say()?;
    Ok(())
}

/// The train stage of `onespike run`: a small, quick network (784-100-10,
/// 80 % pruned so it fits one core's weight SRAM of the default preset),
/// trained on the given data; writes `model.json`, `train-log.csv`,
/// `train-log.json` and `train-plot.svg` into `out`.
pub fn run_stage(
    data: &Dataset,
    out: &Path,
    seed: u64,
    staged: &mut Staged,
) -> anyhow::Result<FloatNetwork> {
    let mut trainer = Trainer::new(run_config(data, seed))?;
    let prepared = trainer.prepare(&data.train)?;
    let mut bars = Bars {
        bar: None,
        quiet: false,
    };
    let epochs = trainer.config.epochs;
    trainer.train(&prepared, epochs, &mut bars, None)?;
    let fin = trainer.final_report(&data.test)?;
    println!(
        "      test: float {:.2}%, hardware {:.2}%, {:.3} spikes/neuron, {:.1}% synapses pruned",
        100.0 * fin.test_float_accuracy,
        100.0 * fin.test_hw_accuracy,
        fin.test_hw_spikes_per_neuron,
        100.0 * fin.float_sparsity
    );
    let net = trainer.network();
    net.validate("the trained network")?;
    staged.json(&out.join("model.json"), &net)?;
    stage_log(
        staged,
        &trainer,
        Some(&fin),
        &out.join("train-log.csv"),
        &out.join("train-plot.svg"),
    )?;
    Ok(net)
}

/// The training configuration of `onespike run`'s train stage.
pub fn run_config(data: &Dataset, seed: u64) -> TrainConfig {
    let inputs = data.train.image_size() as u32;
    let classes = data.train.labels.iter().copied().max().unwrap_or(0) as u32 + 1;
    let mut c = TrainConfig::new(vec![inputs, 100, classes.max(2)]);
    c.epochs = 10;
    c.batch_size = 16;
    // A few thousand images: a larger step than the full-data default.
    c.learning_rate = 1e-3;
    c.seed = seed;
    c.sparsity = 0.8;
    c.ssr_weight = 0.0;
    c.val_images = (data.train.len() / 10).clamp(1, 1000);
    // Bound the stage's time on large datasets: it is a demonstration, not
    // the experiment (see docs/training.md for those).
    c.limit_train = Some(6000);
    c
}
