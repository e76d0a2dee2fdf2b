//! Where a training run's options come from: one list of options
//! ([`OPTIONS`]), each with one name used everywhere, set from recipe files
//! (TOML) and then from command-line flags, in that order.
//!
//! The name convention is kebab-case: the option `lr-decay` is the flag
//! `--lr-decay`, the recipe key `lr-decay = 0.95` and the name in every
//! error about it. The command line builds its flags from this list (the
//! trainer has no command-line parser), so a new option is one entry here
//! and one field in [`TrainConfig`].
//!
//! A recipe file is a flat TOML table of options:
//!
//! ```toml
//! data = "../shared/data/mnist"
//! arch = "784-400-10"
//! epochs = 40
//! lr = 1.5e-4
//! mirror = false
//! ```
//!
//! An unknown key, a value of the wrong type and a value out of range are
//! errors naming the file, the key and the limit; options a recipe leaves
//! out keep their defaults. Paths in a recipe (`data`, `config`) are taken
//! as given, relative to the directory the command runs in, like the same
//! flags. Values go through the same parser whichever source gives them,
//! so a recipe and the flags it stands for train the same weights bit for
//! bit (tested with the model hashes of `experiments/train/refactor-hashes.md`).

use crate::bptt::{ResetGrad, Surrogate};
use crate::config::{parse_arch, Method, SsrKind, TrainConfig};
use crate::error::TrainError;
use crate::ttfs::TimeMode;
use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The type of value an option takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `true` or `false` (a flag given alone means `true`).
    Switch,
    /// A non-negative integer.
    Integer,
    /// A number (a TOML integer or float).
    Number,
    /// Text (a TOML string).
    Text,
    /// A leak shift: a non-negative integer, or `none` (a TOML string).
    Shift,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Switch => "true or false",
            Kind::Integer => "an integer",
            Kind::Number => "a number",
            Kind::Text => "a string",
            Kind::Shift => "an integer shift or \"none\"",
        }
    }
}

/// One training option.
pub struct TrainOption {
    /// The one name: `--name` on the command line, `name = ...` in a recipe.
    pub name: &'static str,
    /// One line for `--help`.
    pub help: &'static str,
    pub kind: Kind,
    set: fn(&mut Recipe, &str) -> Result<(), String>,
    /// The current value as text (`None`: not set, e.g. `limit-train`).
    get: fn(&Recipe) -> Option<String>,
}

impl TrainOption {
    /// The option's current value in `recipe`, as text.
    pub fn value(&self, recipe: &Recipe) -> Option<String> {
        (self.get)(recipe)
    }
}

fn int<T: FromStr>(v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("`{v}` is not a non-negative integer"))
}

fn number<T: FromStr>(v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("`{v}` is not a number"))
}

fn switch(v: &str) -> Result<bool, String> {
    match v.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("`{v}` is not true or false")),
    }
}

fn shift(v: &str) -> Result<Option<u32>, String> {
    match v.trim() {
        "none" => Ok(None),
        t => t
            .parse()
            .map(Some)
            .map_err(|_| format!("`{v}` is not a shift (a non-negative integer) or none")),
    }
}

fn show_shift(s: Option<u32>) -> Option<String> {
    Some(s.map_or("none".to_string(), |k| k.to_string()))
}

fn reset(v: &str) -> Result<onespike_compiler::Reset, String> {
    use onespike_compiler::Reset;
    match v.trim() {
        "subtract" => Ok(Reset::Subtract),
        "zero" => Ok(Reset::Zero),
        "subtract_next" => Ok(Reset::SubtractNext),
        _ => Err(format!("`{v}` is not one of subtract, zero, subtract_next")),
    }
}

fn coding(v: &str) -> Result<onespike_compiler::Coding, String> {
    use onespike_compiler::Coding;
    match v.trim() {
        "rate" => Ok(Coding::Rate),
        "rows" => Ok(Coding::Rows),
        "latency" => Ok(Coding::Latency),
        _ => Err(format!("`{v}` is not one of rate, rows, latency")),
    }
}

fn show(v: impl Display) -> Option<String> {
    Some(v.to_string())
}

macro_rules! opt {
    ($name:literal, $kind:ident, $help:literal, $field:ident, $parse:ident) => {
        TrainOption {
            name: $name,
            help: $help,
            kind: Kind::$kind,
            set: |r, v| {
                r.config.$field = $parse(v)?;
                Ok(())
            },
            get: |r| show(r.config.$field),
        }
    };
}

/// Every training option, in the order `--help` lists them.
pub static OPTIONS: &[TrainOption] = &[
    TrainOption {
        name: "data",
        help: "Dataset: `default` (embedded MNIST subset) or a directory of IDX files",
        kind: Kind::Text,
        set: |r, v| {
            r.data = v.to_string();
            Ok(())
        },
        get: |r| Some(r.data.clone()),
    },
    TrainOption {
        name: "arch",
        help: "Layer sizes, input first, e.g. 784-400-10; the input size must match the images",
        kind: Kind::Text,
        set: |r, v| {
            r.config.sizes = parse_arch(v).map_err(|e| e.to_string())?;
            Ok(())
        },
        get: |r| {
            Some(
                r.config
                    .sizes
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join("-"),
            )
        },
    },
    opt!(
        "epochs",
        Integer,
        "Training epochs (the last qat-epochs of them quantization-aware)",
        epochs,
        int
    ),
    opt!(
        "batch-size",
        Integer,
        "Images per mini-batch (one Adam step each)",
        batch_size,
        int
    ),
    opt!(
        "lr",
        Number,
        "Adam learning rate (decays by lr-decay per epoch)",
        learning_rate,
        number
    ),
    opt!(
        "lr-decay",
        Number,
        "Learning-rate multiplier per epoch",
        lr_decay,
        number
    ),
    opt!(
        "seed",
        Integer,
        "Random seed: same seed and options give the same weights",
        seed,
        int
    ),
    opt!(
        "sparsity",
        Number,
        "Target fraction of pruned synapses (0 = dense), reached by rewiring",
        sparsity,
        number
    ),
    opt!(
        "ssr-weight",
        Number,
        "Weight of the sparse-firing regularizer (SSR)",
        ssr_weight,
        number
    ),
    TrainOption {
        name: "ssr",
        help: "Which SSR: m (membrane-potential-aware), f (firing-condition-aware), both",
        kind: Kind::Text,
        set: |r, v| {
            r.config.ssr = v.trim().parse::<SsrKind>()?;
            Ok(())
        },
        get: |r| Some(r.config.ssr.name().to_string()),
    },
    opt!(
        "count-weight",
        Number,
        "Final weight of the spike-count term (rises linearly over training)",
        count_weight,
        number
    ),
    opt!(
        "time-steps",
        Integer,
        "Steps of one inference (T); at most what the hardware's step counter allows",
        time_steps,
        int
    ),
    opt!(
        "input-steps",
        Integer,
        "Input time levels of the pixel encoding",
        input_steps,
        int
    ),
    TrainOption {
        name: "qat-epochs",
        help: "Last epochs trained quantization-aware (hardware steps, quantized weights); fewer than epochs [default: 1, none with epochs = 1]",
        kind: Kind::Integer,
        set: |r, v| {
            r.qat_epochs = Some(int(v)?);
            Ok(())
        },
        get: |r| r.qat_epochs.map(|q| q.to_string()),
    },
    TrainOption {
        name: "continuous",
        help: "Train the non-QAT epochs in continuous time instead of hardware steps",
        kind: Kind::Switch,
        set: |r, v| {
            r.config.mode = if switch(v)? {
                TimeMode::Continuous
            } else {
                TimeMode::Discrete
            };
            Ok(())
        },
        get: |r| show(r.config.mode == TimeMode::Continuous),
    },
    opt!(
        "tau-steps",
        Number,
        "Softmax temperature over output spike times, in steps",
        tau_steps,
        number
    ),
    opt!(
        "target-steps",
        Number,
        "Target spike time of the label neuron, in steps",
        target_steps,
        number
    ),
    opt!(
        "target-weight",
        Number,
        "Weight of the target-time term",
        target_weight,
        number
    ),
    opt!(
        "fire-weight",
        Number,
        "Weight of the able-to-fire term (label neuron, silent hidden neurons)",
        fire_weight,
        number
    ),
    opt!(
        "init-mean",
        Number,
        "Initial weight mean, as init-mean * threshold / fan_in",
        init_mean,
        number
    ),
    opt!(
        "init-width",
        Number,
        "Initial weight half-width (uniform), as init-width * threshold / sqrt(fan_in)",
        init_width,
        number
    ),
    opt!(
        "regrow-fraction",
        Number,
        "Fraction of surviving synapses re-chosen by gradient at each rewiring",
        regrow_fraction,
        number
    ),
    opt!(
        "shift-pixels",
        Integer,
        "Data augmentation: shift each training image by a random (dx, dy) in -N..=N pixels every epoch",
        shift_pixels,
        int
    ),
    opt!(
        "mirror",
        Switch,
        "Data augmentation: mirror each training image left-right with probability 1/2 every epoch",
        mirror,
        switch
    ),
    opt!(
        "weight-decay",
        Number,
        "Decoupled (AdamW) weight decay per step, relative to the learning rate",
        weight_decay,
        number
    ),
    opt!(
        "ema-decay",
        Number,
        "Weight averaging: evaluate and save an exponential moving average of the weights with this decay per step (e.g. 0.999; 0 = off)",
        ema_decay,
        number
    ),
    opt!(
        "rotate-degrees",
        Number,
        "Data augmentation: rotate each training image by a random angle in -D..=D degrees every epoch",
        rotate_degrees,
        number
    ),
    opt!(
        "scale-percent",
        Number,
        "Data augmentation: scale each training image by a random factor in 1 +- P/100 every epoch",
        scale_percent,
        number
    ),
    opt!(
        "label-smoothing",
        Number,
        "Label smoothing of the cross-entropy: the target is 1 - E on the label plus E spread over all classes",
        label_smoothing,
        number
    ),
    opt!(
        "input-dropout",
        Number,
        "Data augmentation: drop each input spike of a training image with probability P every epoch",
        input_dropout,
        number
    ),
    opt!(
        "val-images",
        Integer,
        "Training images held out for validation (from the end of the training split)",
        val_images,
        int
    ),
    TrainOption {
        name: "limit-train",
        help: "Train on the first N training images only [default: all]",
        kind: Kind::Integer,
        set: |r, v| {
            r.config.limit_train = Some(int(v)?);
            Ok(())
        },
        get: |r| r.config.limit_train.map(|n| n.to_string()),
    },
    TrainOption {
        name: "method",
        help: "Trainer: ttfs (exact spike times, fire-once neurons), bptt (surrogate-gradient BPTT of multi-spike layers) or desire (Desire backpropagation: ternary desire and STDP, one image at a time)",
        kind: Kind::Text,
        set: |r, v| {
            r.config.method = v.trim().parse::<Method>()?;
            Ok(())
        },
        get: |r| Some(r.config.method.name().to_string()),
    },
    TrainOption {
        name: "v-shift",
        help: "bptt: membrane leak shift k of every layer (decay 1 - 2^-k), or none [default: 2]",
        kind: Kind::Shift,
        set: |r, v| {
            r.config.bptt.v_shift = shift(v)?;
            Ok(())
        },
        get: |r| show_shift(r.config.bptt.v_shift),
    },
    TrainOption {
        name: "i-shift",
        help: "bptt: current leak shift (0 = instant synapse), or none (held current) [default: 0]",
        kind: Kind::Shift,
        set: |r, v| {
            r.config.bptt.i_shift = shift(v)?;
            Ok(())
        },
        get: |r| show_shift(r.config.bptt.i_shift),
    },
    TrainOption {
        name: "reset",
        help: "bptt: reset after a spike: subtract, zero or subtract_next (snnTorch's)",
        kind: Kind::Text,
        set: |r, v| {
            r.config.bptt.reset = reset(v)?;
            Ok(())
        },
        get: |r| Some(r.config.bptt.reset.name().to_string()),
    },
    TrainOption {
        name: "coding",
        help: "bptt: input coding: rate (input-steps steps), rows (one image row per step; input-steps = rows, arch input = columns) or latency",
        kind: Kind::Text,
        set: |r, v| {
            r.config.bptt.coding = coding(v)?;
            Ok(())
        },
        get: |r| {
            Some(
                match r.config.bptt.coding {
                    onespike_compiler::Coding::Rate => "rate",
                    onespike_compiler::Coding::Rows => "rows",
                    onespike_compiler::Coding::Latency => "latency",
                }
                .to_string(),
            )
        },
    },
    TrainOption {
        name: "recurrent",
        help: "bptt: give every hidden layer recurrent weights (its spikes reach its own currents one step later)",
        kind: Kind::Switch,
        set: |r, v| {
            r.config.bptt.recurrent = switch(v)?;
            Ok(())
        },
        get: |r| show(r.config.bptt.recurrent),
    },
    TrainOption {
        name: "surrogate",
        help: "bptt: surrogate derivative of the spike: fast_sigmoid, triangle or sigmoid",
        kind: Kind::Text,
        set: |r, v| {
            r.config.bptt.surrogate = v.trim().parse::<Surrogate>()?;
            Ok(())
        },
        get: |r| Some(r.config.bptt.surrogate.name().to_string()),
    },
    TrainOption {
        name: "surrogate-slope",
        help: "bptt: slope k of the surrogate [default: 25 for fast_sigmoid, 1 for triangle, 4 for sigmoid]",
        kind: Kind::Number,
        set: |r, v| {
            r.config.bptt.surrogate_slope = Some(number(v)?);
            Ok(())
        },
        get: |r| r.config.bptt.surrogate_slope.map(|k| k.to_string()),
    },
    TrainOption {
        name: "reset-grad",
        help: "bptt: the reset's temporal term in the backward pass (Yang 2020): detached or full",
        kind: Kind::Text,
        set: |r, v| {
            r.config.bptt.reset_grad = v.trim().parse::<ResetGrad>()?;
            Ok(())
        },
        get: |r| Some(r.config.bptt.reset_grad.name().to_string()),
    },
    TrainOption {
        name: "rate-weight",
        help: "bptt: weight of BPSR's spike-rate regularizer (mean squared spike rate per neuron)",
        kind: Kind::Number,
        set: |r, v| {
            r.config.bptt.rate_weight = number(v)?;
            Ok(())
        },
        get: |r| show(r.config.bptt.rate_weight),
    },
    TrainOption {
        name: "dropout",
        help: "desire: dropout of hidden neurons, per image (kept spikes count 1 / (1 - P)) [default: 0.3]",
        kind: Kind::Number,
        set: |r, v| {
            r.config.desire.dropout = number(v)?;
            Ok(())
        },
        get: |r| show(r.config.desire.dropout),
    },
    TrainOption {
        name: "pixel-dropout",
        help: "desire: dropout of input channels, per image (kept spikes count 1 / (1 - P)) [default: 0]",
        kind: Kind::Number,
        set: |r, v| {
            r.config.desire.pixel_dropout = number(v)?;
            Ok(())
        },
        get: |r| show(r.config.desire.pixel_dropout),
    },
    TrainOption {
        name: "desire-threshold",
        help: "desire: a hidden neuron has a desire when the weighted error sum from above reaches this [default: 0.05]",
        kind: Kind::Number,
        set: |r, v| {
            r.config.desire.hidden_threshold = number(v)?;
            Ok(())
        },
        get: |r| show(r.config.desire.hidden_threshold),
    },
    TrainOption {
        name: "output-threshold",
        help: "desire: an output neuron has a desire when its error exceeds this [default: 0.3]",
        kind: Kind::Number,
        set: |r, v| {
            r.config.desire.output_threshold = number(v)?;
            Ok(())
        },
        get: |r| show(r.config.desire.output_threshold),
    },
    TrainOption {
        name: "error-margin",
        help: "desire: a neuron firing input-steps - M times has reached its target count [default: 4]",
        kind: Kind::Integer,
        set: |r, v| {
            r.config.desire.error_margin = int(v)?;
            Ok(())
        },
        get: |r| show(r.config.desire.error_margin),
    },
    TrainOption {
        name: "config",
        help: "Hardware configuration of the hardware-aware evaluation: a preset name (default, small, tiny, tiny_narrow) or the path of a TOML file",
        kind: Kind::Text,
        set: |r, v| {
            r.config.hw_config = v.to_string();
            Ok(())
        },
        get: |r| Some(r.config.hw_config.clone()),
    },
];

/// Options of the TTFS trainer that a BPTT run refuses.
const TTFS_ONLY: [&str; 6] = [
    "continuous",
    "target-steps",
    "target-weight",
    "fire-weight",
    "ssr",
    "ssr-weight",
];

/// Options whose default differs under `method = bptt`, and how to take
/// the BPTT default ([`TrainConfig::bptt`]); `time-steps` defaults to
/// `input-steps` plus one step per layer.
type TakeDefault = fn(&mut TrainConfig, &TrainConfig);
static BPTT_DEFAULTS: [(&str, TakeDefault); 4] = [
    ("input-steps", |c, d| c.input_steps = d.input_steps),
    ("lr", |c, d| c.learning_rate = d.learning_rate),
    ("init-mean", |c, d| c.init_mean = d.init_mean),
    ("init-width", |c, d| c.init_width = d.init_width),
];

/// Options whose default differs under `method = desire`, and how to take
/// the Desire default ([`TrainConfig::desire`]); `time-steps` defaults to
/// `input-steps + 1` and `qat-epochs` to 0.
static DESIRE_DEFAULTS: [(&str, TakeDefault); 6] = [
    ("input-steps", |c, d| c.input_steps = d.input_steps),
    ("lr", |c, d| c.learning_rate = d.learning_rate),
    ("lr-decay", |c, d| c.lr_decay = d.lr_decay),
    ("batch-size", |c, d| c.batch_size = d.batch_size),
    ("init-mean", |c, d| c.init_mean = d.init_mean),
    ("init-width", |c, d| c.init_width = d.init_width),
];

/// The options whose default `method` changes (none for TTFS).
fn method_defaults(method: Method) -> &'static [(&'static str, TakeDefault)] {
    match method {
        Method::Ttfs => &[],
        Method::Bptt => &BPTT_DEFAULTS,
        Method::Desire => &DESIRE_DEFAULTS,
    }
}

/// The option called `name`.
pub fn option(name: &str) -> Option<&'static TrainOption> {
    OPTIONS.iter().find(|o| o.name == name)
}

/// Where an option's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    /// A recipe file.
    File(PathBuf),
    /// The command line.
    Flag,
    /// The configuration of a checkpoint being resumed.
    Checkpoint(PathBuf),
}

/// Why a recipe or a flag was refused. Every message names the file or the
/// flag, the option and the limit.
#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    #[error("recipe {path}: {message}")]
    File { path: String, message: String },
    #[error("recipe {path}: unknown option `{key}` (the options are {known})")]
    UnknownKey {
        path: String,
        key: String,
        known: String,
    },
    /// A value refused by its option: `what` is the option with its value
    /// as its source gave it (`--lr-decay 1.5`, `recipe r.toml: lr-decay =
    /// 1.5`).
    #[error("{what}: {message}")]
    Value { what: String, message: String },
    #[error(transparent)]
    Train(#[from] TrainError),
}

/// A run's options: the training configuration and the data it reads,
/// with where each option was set.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    pub config: TrainConfig,
    /// `default` (the embedded MNIST subset) or a directory of IDX files.
    pub data: String,
    /// `None`: the default (1, none with a single epoch).
    qat_epochs: Option<usize>,
    origins: BTreeMap<&'static str, Origin>,
}

impl Default for Recipe {
    fn default() -> Recipe {
        Recipe::new()
    }
}

impl Recipe {
    /// Every option at its default (784-400-10 on the embedded subset).
    pub fn new() -> Recipe {
        Recipe {
            config: TrainConfig::new(vec![784, 400, 10]),
            data: "default".into(),
            qat_epochs: None,
            origins: BTreeMap::new(),
        }
    }

    /// The options of an existing configuration (a checkpoint's), every
    /// one but `data` marked as coming from `origin`.
    pub fn from_config(config: TrainConfig, origin: Origin) -> Recipe {
        let mut r = Recipe {
            qat_epochs: Some(config.qat_epochs),
            config,
            ..Recipe::new()
        };
        for o in OPTIONS.iter().filter(|o| o.name != "data") {
            r.origins.insert(o.name, origin.clone());
        }
        r
    }

    /// The defaults, then the options of the recipe file `path`.
    pub fn load(path: &Path) -> Result<Recipe, RecipeError> {
        let mut r = Recipe::new();
        r.apply_file(path)?;
        Ok(r)
    }

    /// Sets the options of the recipe file `path` over the current ones.
    pub fn apply_file(&mut self, path: &Path) -> Result<(), RecipeError> {
        let text = std::fs::read_to_string(path).map_err(|e| RecipeError::File {
            path: path.display().to_string(),
            message: format!("cannot be read: {e}"),
        })?;
        self.apply_toml(&text, path)
    }

    /// Sets the options of a recipe's text (read from `path`, which errors name).
    pub fn apply_toml(&mut self, text: &str, path: &Path) -> Result<(), RecipeError> {
        let file_err = |message: String| RecipeError::File {
            path: path.display().to_string(),
            message,
        };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| file_err(format!("is not TOML: {}", e.message())))?;
        for (key, value) in &table {
            let Some(opt) = option(key) else {
                return Err(RecipeError::UnknownKey {
                    path: path.display().to_string(),
                    key: key.clone(),
                    known: OPTIONS
                        .iter()
                        .map(|o| o.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            };
            let text = match (opt.kind, value) {
                (Kind::Switch, toml::Value::Boolean(b)) => b.to_string(),
                (Kind::Integer, toml::Value::Integer(i)) => i.to_string(),
                (Kind::Number, toml::Value::Integer(i)) => i.to_string(),
                // Shortest text that reads back as the same f64: the same
                // value the flag `--lr 1.5e-4` parses to.
                (Kind::Number, toml::Value::Float(f)) => f.to_string(),
                (Kind::Text, toml::Value::String(s)) => s.clone(),
                (Kind::Shift, toml::Value::Integer(i)) => i.to_string(),
                (Kind::Shift, toml::Value::String(s)) => s.clone(),
                (kind, v) => {
                    return Err(file_err(format!(
                        "option `{key}` = {v}: must be {}",
                        kind.describe()
                    )))
                }
            };
            self.set(opt.name, &text, Origin::File(path.to_path_buf()))?;
        }
        Ok(())
    }

    /// Sets option `name` to `value` (text, as a flag gives it).
    pub fn set(&mut self, name: &str, value: &str, origin: Origin) -> Result<(), RecipeError> {
        let opt = option(name).ok_or_else(|| RecipeError::Value {
            what: with_value(name, value, &origin),
            message: "is not a training option".into(),
        })?;
        (opt.set)(self, value).map_err(|message| RecipeError::Value {
            what: with_value(opt.name, value, &origin),
            message,
        })?;
        self.origins.insert(opt.name, origin);
        Ok(())
    }

    /// Option `name`'s value as text (`None`: unset or no such option).
    pub fn get(&self, name: &str) -> Option<String> {
        option(name).and_then(|o| o.value(self))
    }

    /// Where option `name` was last set.
    pub fn origin(&self, name: &str) -> Origin {
        self.origins.get(name).cloned().unwrap_or(Origin::Default)
    }

    /// Option `name` as errors name it: `--lr-decay`, `recipe r.toml:
    /// lr-decay`, or `lr-decay (default)`.
    pub fn describe(&self, name: &str) -> String {
        describe(name, &self.origin(name))
    }

    /// Option `name` with `value` as its source gives it: `--lr-decay 1.5`,
    /// `recipe r.toml: lr-decay = 1.5`, or `lr-decay = 1.5 (default)`.
    pub fn describe_value(&self, name: &str, value: impl Display) -> String {
        with_value(name, &value.to_string(), &self.origin(name))
    }

    /// The configuration these options give, validated; an error names the
    /// option, where it was set and the limit.
    pub fn finish(&self) -> Result<TrainConfig, RecipeError> {
        let mut c = self.config.clone();
        if c.method.is_multispike() {
            for name in TTFS_ONLY {
                // A checkpoint's configuration carries every option; only
                // a file or a flag sets one.
                if matches!(self.origin(name), Origin::File(_) | Origin::Flag) {
                    return Err(RecipeError::Value {
                        what: self.describe_value(name, self.get(name).unwrap_or_default()),
                        message: format!(
                            "applies to method = ttfs only (this run is method = {})",
                            c.method.name()
                        ),
                    });
                }
            }
            // The method's defaults of the options this run leaves out.
            let (d, delay) = match c.method {
                Method::Desire => (TrainConfig::desire(c.sizes.clone()), 1),
                _ => (TrainConfig::bptt(c.sizes.clone()), c.sizes.len() as u32 - 1),
            };
            for (name, take) in method_defaults(c.method) {
                if self.origin(name) == Origin::Default {
                    take(&mut c, &d);
                }
            }
            if self.origin("time-steps") == Origin::Default {
                c.time_steps = c.input_steps + delay;
            }
        }
        c.qat_epochs = match self.qat_epochs {
            None if c.method == Method::Desire => 0,
            None => 1.min(c.epochs.saturating_sub(1)),
            Some(q) if q >= c.epochs.max(1) => {
                return Err(RecipeError::Value {
                    what: self.describe_value("qat-epochs", q),
                    message: format!(
                        "must be less than {} (the first epochs train in float, the last {q} quantization-aware)",
                        self.describe_value("epochs", c.epochs)
                    ),
                })
            }
            Some(q) => q,
        };
        match c.validate() {
            Ok(_) => Ok(c),
            Err(TrainError::Config {
                option,
                value,
                message,
            }) => Err(RecipeError::Value {
                // The option's own text where it has one (`reset = zero`).
                what: self.describe_value(option, self.get(option).unwrap_or(value)),
                message,
            }),
            Err(TrainError::Params(e)) => Err(RecipeError::Value {
                what: self.describe_value("config", &c.hw_config),
                message: e.to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The options as a recipe file (every option that has a value, but
    /// the TTFS-only ones in a BPTT run).
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let method = self.config.method;
        let multispike = method.is_multispike();
        for o in OPTIONS {
            // A multi-spike run refuses the TTFS-only options, even at their defaults.
            if multispike && TTFS_ONLY.contains(&o.name) {
                continue;
            }
            // Left out, they take their method's defaults in `finish`.
            let method_default = o.name == "time-steps"
                || (method == Method::Desire && o.name == "qat-epochs")
                || method_defaults(method).iter().any(|d| d.0 == o.name);
            if multispike && method_default && self.origin(o.name) == Origin::Default {
                continue;
            }
            if let Some(v) = o.value(self) {
                let v = match o.kind {
                    Kind::Text => toml::Value::String(v).to_string(),
                    Kind::Shift if v == "none" => toml::Value::String(v).to_string(),
                    _ => v,
                };
                out.push_str(&format!("{} = {v}\n", o.name));
            }
        }
        out
    }
}

fn with_value(name: &str, value: &str, origin: &Origin) -> String {
    match origin {
        Origin::Default => format!("{name} = {value} (default)"),
        Origin::File(p) => format!("recipe {}: {name} = {value}", p.display()),
        Origin::Flag => format!("--{name} {value}"),
        Origin::Checkpoint(p) => format!("checkpoint {}: {name} = {value}", p.display()),
    }
}

fn describe(name: &str, origin: &Origin) -> String {
    match origin {
        Origin::Default => format!("{name} (default)"),
        Origin::File(p) => format!("recipe {}: {name}", p.display()),
        Origin::Flag => format!("--{name}"),
        Origin::Checkpoint(p) => format!("checkpoint {}: {name}", p.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Result<Recipe, RecipeError> {
        let mut r = Recipe::new();
        r.apply_toml(text, Path::new("r.toml"))?;
        Ok(r)
    }

    #[test]
    fn every_option_reads_back_what_it_shows() {
        let mut names: Vec<&str> = OPTIONS.iter().map(|o| o.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), OPTIONS.len(), "an option name is used twice");
        let r = Recipe::new();
        for o in OPTIONS {
            assert!(
                o.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{} is not kebab-case",
                o.name
            );
            if let Some(v) = o.value(&r) {
                let mut again = r.clone();
                again.set(o.name, &v, Origin::Flag).unwrap();
                assert_eq!(again.config, r.config, "{}", o.name);
            }
        }
        // A recipe written from the options reads back to the same options.
        let mut r = file("arch = \"784-20-10\"\nlr = 1.5e-4\nmirror = true\nlimit-train = 7\nqat-epochs = 2\nssr = \"both\"\ncontinuous = true\n").unwrap();
        r.set("epochs", "3", Origin::Flag).unwrap();
        let back = file(&r.to_toml()).unwrap();
        assert_eq!(back.finish().unwrap(), r.finish().unwrap());
    }

    #[test]
    fn a_recipe_and_the_same_flags_give_the_same_configuration() {
        let from_file = file(
            "arch = \"784-400-10\"\nepochs = 40\nlr-decay = 0.95\nsparsity = 0.9\nshift-pixels = 1\nssr-weight = 0.1\ntime-steps = 16\ntarget-steps = 8\nlr = 1.5e-4\nval-images = 5000\ninit-width = 0.1\n",
        )
        .unwrap()
        .finish()
        .unwrap();
        let mut flags = Recipe::new();
        for (k, v) in [
            ("arch", "784-400-10"),
            ("epochs", "40"),
            ("lr-decay", "0.95"),
            ("sparsity", "0.9"),
            ("shift-pixels", "1"),
            ("ssr-weight", "0.1"),
            ("time-steps", "16"),
            ("target-steps", "8"),
            ("lr", "1.5e-4"),
            ("val-images", "5000"),
            ("init-width", "0.1"),
        ] {
            flags.set(k, v, Origin::Flag).unwrap();
        }
        assert_eq!(from_file, flags.finish().unwrap());
        assert_eq!(from_file.learning_rate, 1.5e-4);
        assert_eq!(from_file.init_width, 0.1f32);
    }

    #[test]
    fn flags_override_the_recipe_and_errors_name_where_a_value_came_from() {
        let mut r = file("lr-decay = 0.9\nepochs = 3\n").unwrap();
        r.set("lr-decay", "0.5", Origin::Flag).unwrap();
        assert_eq!(r.finish().unwrap().lr_decay, 0.5);
        assert_eq!(r.finish().unwrap().epochs, 3);

        let msg = |text: &str| file(text).and_then(|r| r.finish()).unwrap_err().to_string();
        let m = msg("lr-decay = 1.5\n");
        assert!(
            m.contains("r.toml") && m.contains("lr-decay") && m.contains("(0, 1]"),
            "{m}"
        );
        let m = msg("lr_decay = 0.9\n");
        assert!(
            m.contains("r.toml") && m.contains("unknown option `lr_decay`"),
            "{m}"
        );
        let m = msg("epochs = \"ten\"\n");
        assert!(
            m.contains("r.toml") && m.contains("epochs") && m.contains("integer"),
            "{m}"
        );
        let m = msg("mirror = 1\n");
        assert!(m.contains("mirror") && m.contains("true or false"), "{m}");
        let m = msg("epochs = -1\n");
        assert!(m.contains("epochs") && m.contains("non-negative"), "{m}");
        let m = msg("qat-epochs = 3\nepochs = 3\n");
        assert!(
            m.contains("recipe r.toml: qat-epochs") && m.contains("epochs = 3"),
            "{m}"
        );
        let m = msg("config = \"nope\"\n");
        assert!(
            m.contains("recipe r.toml: config") && m.contains("small"),
            "{m}"
        );
        let m = msg("arch = \"784-x-10\"\n");
        assert!(m.contains("arch") && m.contains("`x`"), "{m}");
        let m = msg("not toml at all [\n");
        assert!(m.contains("r.toml") && m.contains("not TOML"), "{m}");

        let mut r = file("sparsity = 0.5\n").unwrap();
        r.set("sparsity", "1.5", Origin::Flag).unwrap();
        let m = r.finish().unwrap_err().to_string();
        assert!(
            m.starts_with("--sparsity 1.5: ") && m.contains("[0, 1)"),
            "{m}"
        );
        let m = Recipe::new()
            .set("time-steps", "many", Origin::Flag)
            .unwrap_err()
            .to_string();
        assert!(m.starts_with("--time-steps many: "), "{m}");
    }

    #[test]
    fn a_checkpoints_configuration_is_named_as_the_checkpoint() {
        let mut c = TrainConfig::new(vec![784, 10]);
        c.epochs = 3;
        c.qat_epochs = 2;
        let r = Recipe::from_config(c.clone(), Origin::Checkpoint("ck.json".into()));
        assert_eq!(r.finish().unwrap(), c);
        assert_eq!(
            r.describe_value("arch", "784-10"),
            "checkpoint ck.json: arch = 784-10"
        );
        assert_eq!(r.describe("data"), "data (default)");
    }

    #[test]
    fn bptt_options_have_their_defaults_and_limits() {
        use crate::bptt::{ResetGrad, Surrogate};
        use onespike_compiler::{Coding, Reset};
        // Left out under method = bptt: the BPTT defaults (T = inputs + layers).
        let c = file("method = \"bptt\"\narch = \"784-50-10\"\n")
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!((c.input_steps, c.time_steps), (20, 22));
        assert_eq!(
            (c.learning_rate, c.init_mean, c.init_width),
            (1e-3, 0.0, 1.0)
        );
        let c = file("method = \"bptt\"\nv-shift = \"none\"\ni-shift = 3\nreset = \"subtract_next\"\ncoding = \"rows\"\narch = \"28-20-10\"\ninput-steps = 28\nrecurrent = true\nsurrogate = \"triangle\"\nsurrogate-slope = 2\nreset-grad = \"full\"\nrate-weight = 0.5\nlr = 2e-3\n")
            .unwrap();
        let back = file(&c.to_toml()).unwrap().finish().unwrap();
        let c = c.finish().unwrap();
        assert_eq!(back, c);
        let b = &c.bptt;
        assert_eq!(
            (b.v_shift, b.i_shift, b.reset),
            (None, Some(3), Reset::SubtractNext)
        );
        assert_eq!((b.coding, b.recurrent), (Coding::Rows, true));
        assert_eq!(
            (b.surrogate, b.slope(), b.reset_grad),
            (Surrogate::Triangle, 2.0, ResetGrad::Full)
        );
        assert_eq!((c.time_steps, c.learning_rate), (30, 2e-3));
        assert_eq!(c.recurrent_layers(), vec![0]);
        assert_eq!(c.matrix_lengths(), vec![560, 200, 400]);
        // A BPTT checkpoint's configuration reads back as itself.
        let r = Recipe::from_config(c.clone(), Origin::Checkpoint("ck.json".into()));
        assert_eq!(r.finish().unwrap(), c);

        let msg = |text: &str| file(text).and_then(|r| r.finish()).unwrap_err().to_string();
        let m = msg("reset = \"zero\"\n");
        assert!(
            m.contains("reset") && m.contains("method = bptt only"),
            "{m}"
        );
        let m = msg("method = \"bptt\"\nssr-weight = 0.1\n");
        assert!(
            m.contains("recipe r.toml: ssr-weight") && m.contains("method = ttfs only"),
            "{m}"
        );
        let m = msg("method = \"bptt\"\nv-shift = 40\n");
        assert!(m.contains("v-shift") && m.contains("below"), "{m}");
        let m = msg("method = \"bptt\"\nv-shift = \"two\"\n");
        assert!(m.contains("v-shift") && m.contains("none"), "{m}");
        let m = msg("method = \"bptt\"\nreset = \"once\"\n");
        assert!(m.contains("reset") && m.contains("subtract_next"), "{m}");
        let m = msg("method = \"spiky\"\n");
        assert!(m.contains("method") && m.contains("ttfs, bptt"), "{m}");
        let m = msg("method = \"bptt\"\nsurrogate-slope = 0\n");
        assert!(m.contains("surrogate-slope") && m.contains("> 0"), "{m}");
        let m = msg("method = \"bptt\"\narch = \"784-10\"\nrecurrent = true\n");
        assert!(m.contains("recurrent") && m.contains("hidden layer"), "{m}");
        let m = msg("method = \"bptt\"\ncoding = \"rows\"\nmirror = true\n");
        assert!(m.contains("mirror") && m.contains("rows"), "{m}");
    }

    #[test]
    fn qat_epochs_default_to_one_but_none_with_a_single_epoch() {
        let mut r = Recipe::new();
        assert_eq!(r.finish().unwrap().qat_epochs, 1);
        r.set("epochs", "1", Origin::Flag).unwrap();
        assert_eq!(r.finish().unwrap().qat_epochs, 0);
        r.set("epochs", "4", Origin::Flag).unwrap();
        r.set("qat-epochs", "3", Origin::Flag).unwrap();
        assert_eq!(r.finish().unwrap().qat_epochs, 3);
    }
}
