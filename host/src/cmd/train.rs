//! `onespike train`: train a sparse TTFS network or (`--method bptt`,
//! `--method desire`) a multi-spike network (float weights) on a dataset, and the train stage
//! of `onespike run`. Argument parsing,
//! progress bars and files only; the trainer is `onespike_train`.

use super::outputs::{Plan, Staged};
use anyhow::bail;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use onespike_compiler::fit::NetShape;
use onespike_compiler::{FloatNetwork, HwParams};
use onespike_dataset::Dataset;
use onespike_train::recipe::Kind;
use onespike_train::report::{self, EpochRecord, FinalReport};
use onespike_train::{Origin, Progress, Recipe, TrainConfig, Trainer, OPTIONS};
use std::path::{Path, PathBuf};

/// Train a sparse TTFS network or a multi-spike network (float weights) on a dataset.
///
/// `--method ttfs` (default) trains the time-to-first-spike network (`docs/semantics.md`) with exact spike-time
/// gradients, optional sparse-firing regularizers (M-SSR / F-SSR), an
/// annealed spike-count term and pruning with rewiring, then fine-tunes it
/// quantization-aware. `--method bptt` trains leaky multi-spike layers
/// (`--v-shift`, `--i-shift`, `--reset`, `--recurrent`) by surrogate-gradient
/// back-propagation through time on spike counts (`docs/training.md`).
/// `--method desire` trains the same layers by Desire backpropagation
/// (Gerlinghoff 2023: ternary desire from the output error, desire-gated
/// STDP, one image per update; `recipes/mnist-desire.toml`). Every epoch measures validation accuracy in float
/// and through the integer reference model of the hardware (`--config`).
///
/// Options come from the defaults, then a recipe file (`--recipe`, TOML:
/// `lr-decay = 0.95`, one key per option below, named as the flag without
/// `--`), then the flags, each overriding the one before; the published runs
/// are in `recipes/`.
///
/// Writes: the float network (`-o`, JSON, what `onespike compile` reads),
/// the training log (`--log`, CSV or JSON by extension; default
/// `<output>.log.csv` plus `<output>.log.json` with the final test figures),
/// a plot (`--plot`, SVG; default `<output>.svg`), and with `--checkpoint`
/// the full training state after every epoch, which `--resume` continues.
#[derive(clap::Args)]
pub struct Args {
    /// Recipe file (TOML) of training options; flags override its values.
    #[arg(long)]
    pub recipe: Option<PathBuf>,
    #[command(flatten)]
    pub options: OptionFlags,
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
    /// Continue from a checkpoint with its own training options (only --data may be given, the same as before).
    #[arg(long)]
    pub resume: Option<PathBuf>,
}

/// The training options given on the command line, one flag per entry of
/// `onespike_train::OPTIONS` (the same names recipe files use).
pub struct OptionFlags(pub Vec<(&'static str, String)>);

impl clap::FromArgMatches for OptionFlags {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(OptionFlags(
            OPTIONS
                .iter()
                .filter_map(|o| m.get_one::<String>(o.name).map(|v| (o.name, v.clone())))
                .collect(),
        ))
    }
    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for OptionFlags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let defaults = Recipe::new();
        OPTIONS.iter().fold(cmd, |cmd, o| {
            let help = match o.value(&defaults) {
                Some(d) if !o.help.contains("[default:") => format!("{} [default: {d}]", o.help),
                _ => o.help.to_string(),
            };
            let arg = clap::Arg::new(o.name).long(o.name).help(help);
            let arg = match o.kind {
                // `--mirror` alone is `true`; `--mirror=false` turns a recipe's off.
                Kind::Switch => arg
                    .num_args(0..=1)
                    .require_equals(true)
                    .default_missing_value("true")
                    .value_name("BOOL")
                    .value_parser(["true", "false"]),
                Kind::Integer => arg.value_name("N"),
                Kind::Number => arg.value_name("X"),
                Kind::Text => arg.value_name("TEXT"),
                Kind::Shift => arg.value_name("K|none"),
            };
            cmd.arg(arg)
        })
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
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
                "epoch {:>3}: loss {:.4}, train {:.2}%, val float {:.2}% / hardware {:.2}%, {:.3} spikes/neuron (hw), sparsity {:.1}%, {:.1} s (training {:.1} s){}",
                r.epoch,
                r.train_loss,
                100.0 * r.train_accuracy,
                100.0 * r.val_float_accuracy,
                100.0 * r.val_hw_accuracy,
                r.val_hw_spikes_per_neuron,
                100.0 * r.sparsity,
                r.epoch_seconds,
                r.train_seconds,
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

pub fn main(args: Args) -> anyhow::Result<()> {
    let (mut trainer, recipe) = match &args.resume {
        Some(path) => {
            if let Some(r) = &args.recipe {
                bail!(
                    "--recipe {} with --resume {}: a resumed run keeps the checkpoint's training options",
                    r.display(),
                    path.display()
                );
            }
            if let Some((name, _)) = args
                .options
                .0
                .iter()
                .find(|(n, _)| *n != "data" && *n != "epochs")
            {
                bail!(
                    "--{name} with --resume {}: a resumed run keeps the checkpoint's training options (only --data may be given, and --epochs for method = desire)",
                    path.display()
                );
            }
            let mut t = Trainer::load_checkpoint(path)?;
            if let Some((_, v)) = args.options.0.iter().find(|(n, _)| *n == "epochs") {
                // Desire's schedules do not depend on the number of epochs,
                // so its runs may be lengthened or ended early (N at least
                // the epochs done; N = done only writes the outputs).
                if t.config.method != onespike_train::Method::Desire {
                    bail!(
                        "--epochs with --resume {}: a resumed run keeps the checkpoint's training options (its number of epochs sets the {} run's schedules; only method = desire may change it)",
                        path.display(),
                        t.config.method.name()
                    );
                }
                let epochs: usize = v
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--epochs {v}: not a number of epochs"))?;
                if epochs < t.epochs_done.max(1) {
                    bail!(
                        "--epochs {epochs} with --resume {}: the checkpoint has {} epochs done already",
                        path.display(),
                        t.epochs_done
                    );
                }
                t.config.epochs = epochs;
            }
            println!(
                "resuming {} after epoch {} of {} (the checkpoint's training options are used)",
                path.display(),
                t.epochs_done,
                t.config.epochs
            );
            // The checks below name the checkpoint's options as its own.
            let mut recipe =
                Recipe::from_config(t.config.clone(), Origin::Checkpoint(path.clone()));
            if let Some((_, data)) = args.options.0.iter().find(|(n, _)| *n == "data") {
                recipe.set("data", data, Origin::Flag)?;
            }
            (t, recipe)
        }
        None => {
            let mut recipe = match &args.recipe {
                Some(path) => Recipe::load(path)?,
                None => Recipe::new(),
            };
            for (name, value) in &args.options.0 {
                recipe.set(name, value, Origin::Flag)?;
            }
            let c = recipe.finish()?;
            // Before any allocation: a network no configuration holds, or
            // one whose training state does not fit in memory.
            super::checks::check_trainable(
                &recipe.describe("arch"),
                &c.sizes,
                c.sparsity,
                c.time_steps,
            )?;
            (Trainer::new(c)?, recipe)
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
        .input_opt("--recipe", args.recipe.as_deref())
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
        plan.input(
            &recipe.describe("config"),
            Path::new(&trainer.config.hw_config),
        );
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
    let data = onespike_dataset::load(&recipe.data)?;
    // Both splits: the test split is only read after the last epoch.
    let arch = shape_arch(&trainer.config.sizes);
    super::checks::check_data_encoded(
        &data,
        &recipe.describe("data"),
        &trainer.config.encoding(),
        trainer.config.sizes[0],
        &format!("{} {arch}", recipe.describe("arch")),
    )?;
    let prepared = trainer.prepare(&data.train)?;
    if trainer.config.batch_size > prepared.train.spikes.len() {
        bail!(
            "{}: more than the {} training images (one batch would be the whole split): give at most {}",
            recipe.describe_value("batch-size", trainer.config.batch_size),
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
        "test ({} images): float {:.2}% (continuous time {:.2}%), hardware (`{}`) {:.2}%{}, {:.4} spikes/neuron/sample (hw; {:.4} with early exit; per image by layer {:?}), {:.1}% synapses pruned ({:.1}% after quantization)",
        fin.test_images,
        100.0 * fin.test_float_accuracy,
        100.0 * fin.test_float_continuous_accuracy,
        fin.hw_config,
        100.0 * fin.test_hw_accuracy,
        if trainer.config.method.is_multispike() {
            format!(" (a tie wrong, Desire BP's rule: {:.2}%)", 100.0 * fin.test_hw_unique_max_accuracy)
        } else {
            String::new()
        },
        fin.test_hw_spikes_per_neuron,
        fin.test_hw_early_exit_spikes_per_neuron,
        fin.test_hw_spikes_per_image_by_layer
            .iter()
            .map(|s| (s * 10.0).round() / 10.0)
            .collect::<Vec<_>>(),
        100.0 * fin.float_sparsity,
        100.0 * fin.hw_sparsity
    );
    let net = trainer.model(&prepared);
    net.validate("the trained network")?;
    let mut out = Staged::new();
    out.json(&args.output, &net)?;
    stage_log(&mut out, &trainer, Some(&fin), &log, &plot)?;
    out.commit_and_say()?;
    Ok(())
}

/// The train stage of `onespike run`: a quick network (784-400-10, 80 %
/// pruned, 16 steps; `run_config`),
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
    let net = trainer.model(&prepared);
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
    let mut c = TrainConfig::new(vec![inputs, 400, classes.max(2)]);
    c.epochs = 30;
    c.batch_size = 16;
    // A few thousand images: a larger step than the full-data default.
    c.learning_rate = 1e-3;
    c.seed = seed;
    // 80 % pruned: the network fits the `default` preset with cores to
    // spare; 16 steps with a firing target at step 8, as the MNIST runs.
    c.sparsity = 0.8;
    c.ssr_weight = 0.0;
    c.time_steps = 16;
    c.target_steps = 8.0;
    // Few images: augment with one-pixel shifts and evaluate the running
    // average of the weights.
    c.shift_pixels = 1;
    c.ema_decay = 0.999;
    c.val_images = (data.train.len() / 20).clamp(1, 1000);
    // Bound the stage's time on large datasets: it is a demonstration, not
    // the experiment (see docs/training.md for those).
    c.limit_train = Some(6000);
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// `recipes/run.toml` is the run stage's configuration on its default
    /// data, so `onespike train --recipe recipes/run.toml` trains the model
    /// `onespike run` does.
    #[test]
    fn the_shipped_run_recipe_is_the_run_stage() {
        let recipe = Path::new(env!("CARGO_MANIFEST_DIR")).join("../recipes/run.toml");
        let r = Recipe::load(&recipe).unwrap();
        let data = onespike_dataset::embedded_default();
        assert_eq!(r.data, "default");
        assert_eq!(r.finish().unwrap(), run_config(&data, 1));
    }

    /// Every shipped recipe loads and validates (data directories aside).
    #[test]
    fn every_shipped_recipe_is_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../recipes");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                Recipe::load(&path)
                    .and_then(|r| r.finish())
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                n += 1;
            }
        }
        assert!(n >= 3, "{n} recipes in {}", dir.display());
    }
}
