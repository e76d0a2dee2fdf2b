//! The configuration of a training run: [`TrainConfig`] (every option, as
//! stored in checkpoints and logs), its defaults and its validation, and
//! [`parse_arch`]. Where the options come from (recipe files and flags, one
//! name each) is [`crate::recipe`].

use crate::bptt::{ResetGrad, Surrogate};
use crate::error::{bad, TrainError};
use crate::ttfs::TimeMode;
use onespike_compiler::neuron::{NeuronModel, Reset};
use onespike_compiler::{Coding, HwParams, InputEncoding};
use serde::{Deserialize, Serialize};

fn show_shift_text(s: Option<u32>) -> String {
    s.map_or("none".into(), |k| k.to_string())
}

/// Parses an architecture such as `784-400-10` into layer sizes.
pub fn parse_arch(arch: &str) -> Result<Vec<u32>, TrainError> {
    let err = |message: String| TrainError::Arch {
        arch: arch.into(),
        message,
    };
    let sizes = arch
        .split('-')
        .map(|s| {
            s.trim().parse::<u32>().map_err(|_| {
                err(format!(
                    "`{s}` is not a layer size (expected sizes joined by `-`, e.g. 784-400-10)"
                ))
            })
        })
        .collect::<Result<Vec<u32>, _>>()?;
    if sizes.len() < 2 {
        return Err(err(
            "needs at least an input and an output size, e.g. 784-10".into(),
        ));
    }
    if let Some(l) = sizes.iter().position(|&s| s == 0) {
        return Err(err(format!("layer {l} has size 0")));
    }
    Ok(sizes)
}

/// Which sparse-firing regularizers `ssr_weight` applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SsrKind {
    /// Membrane-potential-aware (M-SSR).
    M,
    /// Firing-condition-aware (F-SSR).
    F,
    /// Both, each with the full weight.
    Both,
}

impl SsrKind {
    /// The names options and files use, in order.
    pub const NAMES: [&'static str; 3] = ["m", "f", "both"];

    pub fn name(self) -> &'static str {
        match self {
            SsrKind::M => "m",
            SsrKind::F => "f",
            SsrKind::Both => "both",
        }
    }
}

impl std::str::FromStr for SsrKind {
    type Err = String;
    fn from_str(s: &str) -> Result<SsrKind, String> {
        match s {
            "m" => Ok(SsrKind::M),
            "f" => Ok(SsrKind::F),
            "both" => Ok(SsrKind::Both),
            _ => Err(format!("`{s}` is not one of m, f, both")),
        }
    }
}

/// Which trainer a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Exact spike-time gradients of the fire-once TTFS network ([`crate::ttfs`]).
    #[default]
    Ttfs,
    /// Surrogate-gradient BPTT of multi-spike layers ([`crate::bptt`]).
    Bptt,
    /// Desire backpropagation (Gerlinghoff 2023): ternary desire and
    /// desire-gated STDP, one image at a time ([`crate::desire`]).
    Desire,
}

impl Method {
    pub fn is_ttfs(&self) -> bool {
        *self == Method::Ttfs
    }
    pub fn name(self) -> &'static str {
        match self {
            Method::Ttfs => "ttfs",
            Method::Bptt => "bptt",
            Method::Desire => "desire",
        }
    }
    /// Multi-spike layers with the `spike_count` decision and the neuron
    /// of [`BpttOptions::neuron`] (BPTT and Desire).
    pub fn is_multispike(&self) -> bool {
        !self.is_ttfs()
    }
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Method, String> {
        match s {
            "ttfs" => Ok(Method::Ttfs),
            "bptt" => Ok(Method::Bptt),
            "desire" => Ok(Method::Desire),
            _ => Err(format!("`{s}` is not one of ttfs, bptt, desire")),
        }
    }
}

/// The options of the BPTT trainer (`method = bptt`); absent from the
/// files of TTFS runs, which keep their bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BpttOptions {
    /// Membrane leak shift of every layer (`None`: no leak).
    pub v_shift: Option<u32>,
    /// Current leak shift (`Some(0)`: instant synapse; `None`: held).
    pub i_shift: Option<u32>,
    /// Reset after a spike: subtract, zero or subtract_next.
    pub reset: Reset,
    /// Input coding: rate, rows or latency.
    pub coding: Coding,
    /// Hidden layers get recurrent weights.
    pub recurrent: bool,
    pub surrogate: Surrogate,
    /// `None`: the surrogate's own default ([`Surrogate::default_slope`]).
    pub surrogate_slope: Option<f64>,
    /// The reset's temporal term in the backward pass (Yang 2020).
    pub reset_grad: ResetGrad,
    /// Weight of BPSR's spike-rate regularizer.
    pub rate_weight: f32,
}

impl Default for BpttOptions {
    fn default() -> BpttOptions {
        BpttOptions {
            v_shift: Some(2),
            i_shift: Some(0),
            reset: Reset::Subtract,
            coding: Coding::Rate,
            recurrent: false,
            surrogate: Surrogate::FastSigmoid,
            surrogate_slope: None,
            reset_grad: ResetGrad::Detached,
            rate_weight: 0.0,
        }
    }
}

impl BpttOptions {
    pub fn is_default(&self) -> bool {
        *self == BpttOptions::default()
    }
    /// The neuron of every layer.
    pub fn neuron(&self) -> NeuronModel {
        NeuronModel {
            v_shift: self.v_shift,
            i_shift: self.i_shift,
            reset: self.reset,
        }
    }
    pub fn slope(&self) -> f64 {
        self.surrogate_slope
            .unwrap_or_else(|| self.surrogate.default_slope())
    }
}

/// The options of the Desire trainer (`method = desire`); absent from the
/// files of other runs. Defaults are the authors' code's (MNIST).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesireOptions {
    /// Dropout of hidden neurons: per image, each hidden neuron is kept
    /// with probability `1 - p` for all steps; kept spikes count `1 / (1 - p)`.
    pub dropout: f32,
    /// Dropout of input channels (pixels), the same way.
    pub pixel_dropout: f32,
    /// A hidden neuron has a desire when `|S| >=` this (`S` the weighted
    /// sum of the errors of the layer above).
    pub hidden_threshold: f32,
    /// An output neuron has a desire when its error exceeds this.
    pub output_threshold: f32,
    /// A neuron that fires `input_steps - error_margin` times has reached
    /// its target count (error 0 for desire +1).
    pub error_margin: u32,
}

impl Default for DesireOptions {
    fn default() -> DesireOptions {
        DesireOptions {
            dropout: 0.3,
            pixel_dropout: 0.0,
            hidden_threshold: 0.05,
            output_threshold: 0.30,
            error_margin: 4,
        }
    }
}

impl DesireOptions {
    pub fn is_default(&self) -> bool {
        *self == DesireOptions::default()
    }
}

/// Every option of a training run. Stored in checkpoints and the log, so a
/// run can be resumed and reproduced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Layer sizes, input first.
    pub sizes: Vec<u32>,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Learning rate multiplier per epoch.
    pub lr_decay: f64,
    pub seed: u64,
    /// Steps of one inference (`T`).
    pub time_steps: u32,
    /// Input time levels (`T_in`) of the pixel encoding.
    pub input_steps: u32,
    /// Firing threshold of every layer (float units; the weights scale with it).
    pub threshold: f32,
    /// Initial weight mean, as `init_mean * threshold / fan_in`.
    pub init_mean: f32,
    /// Initial weight half-width (uniform), as `init_width * threshold / sqrt(fan_in)`.
    pub init_width: f32,
    /// Softmax temperature over output times, in steps.
    pub tau_steps: f32,
    /// Target time of the label neuron, in steps, and the weight of its term.
    pub target_steps: f32,
    pub target_weight: f32,
    /// Weight of the able-to-fire term.
    pub fire_weight: f32,
    pub ssr: SsrKind,
    pub ssr_weight: f32,
    /// Final weight of the spike-count term (rises linearly to it).
    pub count_weight: f32,
    /// Target fraction of pruned synapses over the whole network (0 = dense).
    pub sparsity: f64,
    /// Fraction of surviving synapses re-chosen by gradient at each rewiring.
    pub regrow_fraction: f64,
    /// Last epochs trained quantization-aware (clamped to `epochs - 1`).
    pub qat_epochs: usize,
    /// Time mode of the non-QAT epochs.
    pub mode: TimeMode,
    /// Chunks per mini-batch (parallel units; fixed for determinism).
    pub grad_chunks: usize,
    /// Training images held out (from the end of the training split) for validation.
    pub val_images: usize,
    /// Use at most this many training images (the first ones).
    pub limit_train: Option<usize>,
    /// Hardware preset or TOML file for the hardware-aware evaluation.
    pub hw_config: String,
    /// Data augmentation: every training image is shifted by a random
    /// `(dx, dy)` in `-shift_pixels..=shift_pixels` each epoch (0 = off).
    #[serde(default)]
    pub shift_pixels: u32,
    /// Data augmentation: mirror every training image left-right with
    /// probability 1/2 each epoch.
    #[serde(default)]
    pub mirror: bool,
    /// Decoupled weight decay (AdamW): each step multiplies present weights
    /// by `1 - learning_rate * weight_decay`.
    #[serde(default)]
    pub weight_decay: f64,
    /// Weight averaging: the evaluated and saved network is an exponential
    /// moving average of the trained weights, `a = d a + (1 - d) w` after
    /// every step (`d` = this; 0 = off, the trained weights themselves).
    #[serde(default)]
    pub ema_decay: f64,
    /// Data augmentation: rotate every training image by a random angle in
    /// `-rotate_degrees..=rotate_degrees` each epoch (resampled; 0 = off).
    #[serde(default)]
    pub rotate_degrees: f32,
    /// Data augmentation: scale every training image by a random factor in
    /// `1 +- scale_percent / 100` each epoch (resampled; 0 = off).
    #[serde(default)]
    pub scale_percent: f32,
    /// Label smoothing of the cross-entropy (0 = the one-hot label).
    #[serde(default)]
    pub label_smoothing: f32,
    /// Data augmentation: drop each input spike of a training image with
    /// this probability, afresh each epoch (0 = off).
    #[serde(default)]
    pub input_dropout: f32,
    /// The trainer (default TTFS; absent from TTFS files).
    #[serde(default, skip_serializing_if = "Method::is_ttfs")]
    pub method: Method,
    /// The BPTT trainer's options (absent from files while at their defaults).
    /// The neuron and the coding also apply to `method = desire`.
    #[serde(default, skip_serializing_if = "BpttOptions::is_default")]
    pub bptt: BpttOptions,
    /// The Desire trainer's options (absent from files while at their defaults).
    #[serde(default, skip_serializing_if = "DesireOptions::is_default")]
    pub desire: DesireOptions,
}

impl TrainConfig {
    /// Defaults for a given architecture, tuned on MNIST (docs/training.md).
    pub fn new(sizes: Vec<u32>) -> TrainConfig {
        TrainConfig {
            sizes,
            epochs: 10,
            batch_size: 32,
            learning_rate: 1.5e-4,
            lr_decay: 0.85,
            seed: 1,
            time_steps: 64,
            input_steps: 8,
            threshold: 1.0,
            init_mean: 2.0,
            init_width: 0.5,
            tau_steps: 1.0,
            target_steps: 24.0,
            target_weight: 0.1,
            fire_weight: 1.0,
            ssr: SsrKind::M,
            ssr_weight: 0.0,
            count_weight: 0.0,
            sparsity: 0.0,
            regrow_fraction: 0.05,
            qat_epochs: 1,
            mode: TimeMode::Discrete,
            grad_chunks: 4,
            val_images: 1000,
            limit_train: None,
            hw_config: "default".into(),
            shift_pixels: 0,
            mirror: false,
            weight_decay: 0.0,
            ema_decay: 0.0,
            rotate_degrees: 0.0,
            scale_percent: 0.0,
            label_smoothing: 0.0,
            input_dropout: 0.0,
            method: Method::Ttfs,
            bptt: BpttOptions::default(),
            desire: DesireOptions::default(),
        }
    }

    /// Defaults of the BPTT trainer (`method = bptt`) for an architecture:
    /// where they differ from TTFS's, [`crate::recipe`] takes these for the
    /// options a run leaves out. Rate input over 20 steps, `T` = 20 plus
    /// one step per layer (the delay to the output), zero-mean uniform
    /// weights of half-width `theta / sqrt(fan_in)`, Adam at 1e-3.
    pub fn bptt(sizes: Vec<u32>) -> TrainConfig {
        let layers = sizes.len().saturating_sub(1) as u32;
        TrainConfig {
            method: Method::Bptt,
            input_steps: 20,
            time_steps: 20 + layers,
            learning_rate: 1e-3,
            init_mean: 0.0,
            init_width: 1.0,
            ..TrainConfig::new(sizes)
        }
    }

    /// Defaults of the Desire trainer (`method = desire`), the authors'
    /// code's: rate input over 20 steps and `T` = 21 (the authors' 20 steps
    /// with the hardware's one step of delay before the first layer; see
    /// [`crate::desire`]), one image per update, learning rate 1e-5 decaying
    /// as `exp(-0.04 epoch)`, Kaiming-normal weights (`init-width` 1 is a
    /// standard deviation of `sqrt(2 / fan_in)` thresholds), no
    /// quantization-aware epoch.
    pub fn desire(sizes: Vec<u32>) -> TrainConfig {
        TrainConfig {
            method: Method::Desire,
            input_steps: 20,
            time_steps: 21,
            batch_size: 1,
            learning_rate: 1e-5,
            lr_decay: (-0.04f64).exp(),
            init_mean: 0.0,
            init_width: 1.0,
            qat_epochs: 0,
            ..TrainConfig::new(sizes)
        }
    }

    /// Checks every option; errors name the option as flags and recipe
    /// files do (`lr-decay`; internal fields such as `grad_chunks` by their
    /// own name).
    pub fn validate(&self) -> Result<HwParams, TrainError> {
        if self.sizes.len() < 2 || self.sizes.contains(&0) {
            return Err(bad(
                "arch",
                format!("{:?}", self.sizes),
                "needs at least two non-zero sizes",
            ));
        }
        if self.epochs == 0 {
            return Err(bad("epochs", self.epochs, "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(bad("batch-size", self.batch_size, "must be at least 1"));
        }
        if self.grad_chunks == 0 {
            return Err(bad("grad_chunks", self.grad_chunks, "must be at least 1"));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(bad("lr", self.learning_rate, "must be a finite number > 0"));
        }
        if !(self.lr_decay > 0.0 && self.lr_decay <= 1.0) {
            return Err(bad("lr-decay", self.lr_decay, "must be in (0, 1]"));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(bad(
                "weight-decay",
                self.weight_decay,
                "must be a finite number >= 0",
            ));
        }
        if !(0.0..1.0).contains(&self.ema_decay) {
            return Err(bad(
                "ema-decay",
                self.ema_decay,
                "must be in [0, 1) (0 = no weight averaging)",
            ));
        }
        if !(0.0..=180.0).contains(&self.rotate_degrees) {
            return Err(bad(
                "rotate-degrees",
                self.rotate_degrees,
                "must be in [0, 180]",
            ));
        }
        if !(0.0..50.0).contains(&self.scale_percent) {
            return Err(bad(
                "scale-percent",
                self.scale_percent,
                "must be in [0, 50)",
            ));
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(bad(
                "label-smoothing",
                self.label_smoothing,
                "must be in [0, 1)",
            ));
        }
        if !(0.0..1.0).contains(&self.input_dropout) {
            return Err(bad(
                "input-dropout",
                self.input_dropout,
                "must be in [0, 1)",
            ));
        }
        if self.shift_pixels > 8 {
            return Err(bad("shift-pixels", self.shift_pixels, "must be in 0..=8"));
        }
        if !(0.0..1.0).contains(&self.sparsity) {
            return Err(bad("sparsity", self.sparsity, "must be in [0, 1)"));
        }
        if !(0.0..=0.5).contains(&self.regrow_fraction) {
            return Err(bad(
                "regrow-fraction",
                self.regrow_fraction,
                "must be in [0, 0.5]",
            ));
        }
        if !(self.threshold > 0.0 && self.threshold.is_finite()) {
            return Err(bad(
                "threshold",
                self.threshold,
                "must be a finite number > 0",
            ));
        }
        if self.tau_steps.is_nan() || self.tau_steps <= 0.0 {
            return Err(bad("tau-steps", self.tau_steps, "must be > 0"));
        }
        for (name, v) in [
            ("ssr-weight", self.ssr_weight),
            ("count-weight", self.count_weight),
            ("fire-weight", self.fire_weight),
            ("target-weight", self.target_weight),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(bad(name, v, "must be a finite number >= 0"));
            }
        }
        for (name, v) in [
            ("init-mean", self.init_mean),
            ("init-width", self.init_width),
            ("target-steps", self.target_steps),
        ] {
            if !v.is_finite() {
                return Err(bad(name, v, "must be a finite number"));
            }
        }
        if self.input_steps < 1 {
            return Err(bad("input-steps", self.input_steps, "must be at least 1"));
        }
        if self.input_steps > self.time_steps {
            return Err(bad(
                "input-steps",
                self.input_steps,
                format!(
                    "is more than time-steps = {}: late inputs would never arrive",
                    self.time_steps
                ),
            ));
        }
        let params = HwParams::from_preset_or_file(&self.hw_config)?;
        self.validate_bptt(&params)?;
        self.validate_desire()?;
        let max_steps = 1u64 << params.step_bits.min(40);
        if self.time_steps as u64 > max_steps || self.time_steps < 2 {
            return Err(bad(
                "time-steps",
                self.time_steps,
                format!(
                    "must be in 2..={max_steps} (the `{}` hardware counts {} step bits)",
                    params.name, params.step_bits
                ),
            ));
        }
        Ok(params)
    }

    /// Quantization-aware epochs as trained: at least one epoch trains in float.
    pub fn qat_epochs_effective(&self) -> usize {
        self.qat_epochs.min(self.epochs - 1)
    }

    /// The Desire options against the method, and the options Desire
    /// has no use for.
    fn validate_desire(&self) -> Result<(), TrainError> {
        let o = &self.desire;
        if self.method != Method::Desire {
            let d = DesireOptions::default();
            let set = [
                ("dropout", o.dropout != d.dropout),
                ("pixel-dropout", o.pixel_dropout != d.pixel_dropout),
                ("desire-threshold", o.hidden_threshold != d.hidden_threshold),
                ("output-threshold", o.output_threshold != d.output_threshold),
                ("error-margin", o.error_margin != d.error_margin),
            ];
            if let Some((name, _)) = set.iter().find(|s| s.1) {
                return Err(bad(
                    name,
                    "(set)",
                    format!(
                        "applies to method = desire only (this run is method = {})",
                        self.method.name()
                    ),
                ));
            }
            return Ok(());
        }
        let base = TrainConfig::new(self.sizes.clone());
        let b = BpttOptions::default();
        // What the gradient trainers have and Desire does not.
        let unused = [
            ("batch-size", self.batch_size != 1),
            ("qat-epochs", self.qat_epochs != 0),
            ("sparsity", self.sparsity != base.sparsity),
            ("ema-decay", self.ema_decay != base.ema_decay),
            ("weight-decay", self.weight_decay != base.weight_decay),
            (
                "label-smoothing",
                self.label_smoothing != base.label_smoothing,
            ),
            ("count-weight", self.count_weight != base.count_weight),
            ("input-dropout", self.input_dropout != base.input_dropout),
            ("tau-steps", self.tau_steps != base.tau_steps),
            ("recurrent", self.bptt.recurrent != b.recurrent),
            ("surrogate", self.bptt.surrogate != b.surrogate),
            (
                "surrogate-slope",
                self.bptt.surrogate_slope != b.surrogate_slope,
            ),
            ("reset-grad", self.bptt.reset_grad != b.reset_grad),
            ("rate-weight", self.bptt.rate_weight != b.rate_weight),
        ];
        if let Some((name, _)) = unused.iter().find(|s| s.1) {
            let why = match *name {
                "batch-size" => "must be 1 with method = desire: one update per image, as the paper (the two cores share each image's neurons instead)",
                "qat-epochs" => "must be 0 with method = desire (no quantization-aware epochs; the hardware figures are after quantization)",
                _ => "does not apply to method = desire",
            };
            return Err(bad(name, "(set)", why));
        }
        for (name, p) in [("dropout", o.dropout), ("pixel-dropout", o.pixel_dropout)] {
            if !(0.0..1.0).contains(&p) {
                return Err(bad(name, p, "must be in [0, 1)"));
            }
        }
        for (name, v) in [
            ("desire-threshold", o.hidden_threshold),
            ("output-threshold", o.output_threshold),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(bad(name, v, "must be a finite number >= 0"));
            }
        }
        if o.error_margin >= self.input_steps {
            return Err(bad(
                "error-margin",
                o.error_margin,
                format!(
                    "must be less than input-steps = {} (the target count is input-steps - error-margin)",
                    self.input_steps
                ),
            ));
        }
        if self.bptt.i_shift != Some(0) {
            return Err(bad(
                "i-shift",
                show_shift_text(self.bptt.i_shift),
                "must be 0 with method = desire (the traces pair each spike with the input it integrated)",
            ));
        }
        Ok(())
    }

    /// The BPTT options against the method and the hardware's widths.
    fn validate_bptt(&self, params: &HwParams) -> Result<(), TrainError> {
        let b = &self.bptt;
        if self.method.is_ttfs() {
            let d = BpttOptions::default();
            let set = [
                ("v-shift", b.v_shift != d.v_shift),
                ("i-shift", b.i_shift != d.i_shift),
                ("reset", b.reset != d.reset),
                ("coding", b.coding != d.coding),
                ("recurrent", b.recurrent != d.recurrent),
                ("surrogate", b.surrogate != d.surrogate),
                ("surrogate-slope", b.surrogate_slope != d.surrogate_slope),
                ("reset-grad", b.reset_grad != d.reset_grad),
                ("rate-weight", b.rate_weight != d.rate_weight),
            ];
            if let Some((name, _)) = set.iter().find(|s| s.1) {
                return Err(bad(
                    name,
                    "(set)",
                    "applies to method = bptt only (this run is method = ttfs)",
                ));
            }
            return Ok(());
        }
        if b.reset == Reset::Once {
            return Err(bad(
                "reset",
                "once",
                "must be subtract, zero or subtract_next (fire-once is method = ttfs)",
            ));
        }
        for (name, shift, bits) in [
            ("v-shift", b.v_shift, params.membrane_bits),
            ("i-shift", b.i_shift, params.current_bits),
        ] {
            if let Some(k) = shift {
                if k >= bits {
                    return Err(bad(
                        name,
                        k,
                        format!(
                            "must be below {bits} (the `{}` hardware's state width), or none",
                            params.name
                        ),
                    ));
                }
            }
        }
        if let Some(k) = b.surrogate_slope {
            if !(k > 0.0 && k.is_finite()) {
                return Err(bad("surrogate-slope", k, "must be a finite number > 0"));
            }
        }
        if !(b.rate_weight >= 0.0 && b.rate_weight.is_finite()) {
            return Err(bad(
                "rate-weight",
                b.rate_weight,
                "must be a finite number >= 0",
            ));
        }
        if b.recurrent && self.sizes.len() < 3 {
            return Err(bad(
                "recurrent",
                true,
                "needs a hidden layer (the output layer has no recurrent weights)",
            ));
        }
        if b.coding == Coding::Rows && (self.shift_pixels > 0 || self.mirror) {
            return Err(bad(
                if self.mirror {
                    "mirror"
                } else {
                    "shift-pixels"
                },
                "(set)",
                "moves pixels on the image grid: not with coding = rows",
            ));
        }
        if self.resamples() {
            return Err(bad(
                if self.rotate_degrees > 0.0 {
                    "rotate-degrees"
                } else {
                    "scale-percent"
                },
                "(set)",
                "applies to method = ttfs only",
            ));
        }
        Ok(())
    }

    /// The pixel encoding of every image: `input_steps` latency levels
    /// (TTFS), or the BPTT run's coding (`rows`: a pixel above 127 spikes).
    pub fn encoding(&self) -> InputEncoding {
        match (self.method, self.bptt.coding) {
            (Method::Ttfs, _) | (_, Coding::Latency) => InputEncoding::new(self.input_steps),
            (_, Coding::Rate) => InputEncoding::rate(self.input_steps),
            (_, Coding::Rows) => InputEncoding::rows(self.input_steps, 127),
        }
    }

    /// The trained matrices' lengths: every layer's feed-forward weights,
    /// then the recurrent weights of each recurrent layer, in layer order.
    pub fn matrix_lengths(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .sizes
            .windows(2)
            .map(|w| w[0] as usize * w[1] as usize)
            .collect();
        for l in self.recurrent_layers() {
            let n = self.sizes[l + 1] as usize;
            v.push(n * n);
        }
        v
    }

    /// The layers (from 0) with recurrent weights: every hidden layer when
    /// `recurrent` is on (BPTT only).
    pub fn recurrent_layers(&self) -> Vec<usize> {
        if self.method == Method::Bptt && self.bptt.recurrent {
            (0..self.sizes.len().saturating_sub(2)).collect()
        } else {
            Vec::new()
        }
    }

    /// Whether training images are resampled (rotation or scaling), rather
    /// than only moved on the grid.
    pub(crate) fn resamples(&self) -> bool {
        self.rotate_degrees > 0.0 || self.scale_percent > 0.0
    }

    pub(crate) fn ssr_weights(&self) -> (f32, f32) {
        match self.ssr {
            SsrKind::M => (self.ssr_weight, 0.0),
            SsrKind::F => (0.0, self.ssr_weight),
            SsrKind::Both => (self.ssr_weight, self.ssr_weight),
        }
    }
}
