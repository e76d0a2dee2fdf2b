//! The TTFS trainer (issue 6): exact spike-time gradients for the ramp-PSP
//! integrate-and-fire network of `docs/semantics.md`, with the sparse-firing
//! regularizers (M-SSR, F-SSR), an annealed spike-count term, pruning with
//! rewiring, quantization-aware fine-tuning and hardware-aware evaluation
//! through the integer reference model.
//!
//! Module map: [`ttfs`] is the per-sample forward/backward pass, [`augment`]
//! the resampling augmentation, [`prune`] the rewiring, [`report`] the
//! training log and plot; this file holds the configuration, the training
//! loop (with the optional weight average), evaluation and checkpoints. The
//! loss terms and the choices behind them are documented in
//! `docs/training.md`.
//!
//! Determinism: the initial weights and every epoch's shuffle come from
//! ChaCha8 seeded by `seed` (and the epoch number); a mini-batch is split
//! into a fixed number of chunks (`grad_chunks`) whose gradients are summed
//! in chunk order, so the result does not depend on the number of threads.
//! Tests: unit tests in the submodules, integration tests in
//! `host/tests/train.rs`.

pub mod augment;
pub mod prune;
pub mod report;
pub mod templates;
pub mod ttfs;

use crate::data::Split;
use crate::eval::reference_eval;
use onespike_compiler::quantize::quantize;
use onespike_compiler::reference::{RefError, RunOptions, Widths};
use onespike_compiler::{FloatNetwork, HwParams, InputEncoding, IrError, ParamError};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use report::{EpochRecord, FinalReport};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;
use ttfs::{LayerView, LossWeights, NetView, SpikeList, TimeMode};

/// Why training could not start or continue.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("architecture `{arch}`: {message}")]
    Arch { arch: String, message: String },
    #[error("training option `{field}` = {value}: {message}")]
    Config {
        field: &'static str,
        value: String,
        message: String,
    },
    #[error("dataset does not fit the network: {message}")]
    Data { message: String },
    #[error(transparent)]
    Ir(#[from] IrError),
    #[error(transparent)]
    Params(#[from] ParamError),
    #[error("reference model: {0}")]
    Reference(#[from] RefError),
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: String, message: String },
}

fn bad(field: &'static str, value: impl ToString, message: impl Into<String>) -> TrainError {
    TrainError::Config {
        field,
        value: value.to_string(),
        message: message.into(),
    }
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum SsrKind {
    /// Membrane-potential-aware (M-SSR).
    M,
    /// Firing-condition-aware (F-SSR).
    F,
    /// Both, each with the full weight.
    Both,
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
        }
    }

    /// Checks every option; errors name the option.
    pub fn validate(&self) -> Result<HwParams, TrainError> {
        if self.sizes.len() < 2 || self.sizes.contains(&0) {
            return Err(bad(
                "sizes",
                format!("{:?}", self.sizes),
                "needs at least two non-zero sizes",
            ));
        }
        if self.epochs == 0 {
            return Err(bad("epochs", self.epochs, "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(bad("batch_size", self.batch_size, "must be at least 1"));
        }
        if self.grad_chunks == 0 {
            return Err(bad("grad_chunks", self.grad_chunks, "must be at least 1"));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(bad(
                "learning_rate",
                self.learning_rate,
                "must be a finite number > 0",
            ));
        }
        if !(self.lr_decay > 0.0 && self.lr_decay <= 1.0) {
            return Err(bad("lr_decay", self.lr_decay, "must be in (0, 1]"));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(bad(
                "weight_decay",
                self.weight_decay,
                "must be a finite number >= 0",
            ));
        }
        if !(0.0..1.0).contains(&self.ema_decay) {
            return Err(bad(
                "ema_decay",
                self.ema_decay,
                "must be in [0, 1) (0 = no weight averaging)",
            ));
        }
        if !(0.0..=180.0).contains(&self.rotate_degrees) {
            return Err(bad(
                "rotate_degrees",
                self.rotate_degrees,
                "must be in [0, 180]",
            ));
        }
        if !(0.0..50.0).contains(&self.scale_percent) {
            return Err(bad(
                "scale_percent",
                self.scale_percent,
                "must be in [0, 50)",
            ));
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(bad(
                "label_smoothing",
                self.label_smoothing,
                "must be in [0, 1)",
            ));
        }
        if !(0.0..1.0).contains(&self.input_dropout) {
            return Err(bad(
                "input_dropout",
                self.input_dropout,
                "must be in [0, 1)",
            ));
        }
        if self.shift_pixels > 8 {
            return Err(bad("shift_pixels", self.shift_pixels, "must be in 0..=8"));
        }
        if !(0.0..1.0).contains(&self.sparsity) {
            return Err(bad("sparsity", self.sparsity, "must be in [0, 1)"));
        }
        if !(0.0..=0.5).contains(&self.regrow_fraction) {
            return Err(bad(
                "regrow_fraction",
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
            return Err(bad("tau_steps", self.tau_steps, "must be > 0"));
        }
        for (name, v) in [
            ("ssr_weight", self.ssr_weight),
            ("count_weight", self.count_weight),
            ("fire_weight", self.fire_weight),
            ("target_weight", self.target_weight),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(bad(name, v, "must be a finite number >= 0"));
            }
        }
        for (name, v) in [
            ("init_mean", self.init_mean),
            ("init_width", self.init_width),
            ("target_steps", self.target_steps),
        ] {
            if !v.is_finite() {
                return Err(bad(name, v, "must be a finite number"));
            }
        }
        if self.input_steps < 1 {
            return Err(bad("input_steps", self.input_steps, "must be at least 1"));
        }
        if self.input_steps > self.time_steps {
            return Err(bad(
                "input_steps",
                self.input_steps,
                format!(
                    "is more than time_steps = {}: late inputs would never arrive",
                    self.time_steps
                ),
            ));
        }
        let params = HwParams::from_preset_or_file(&self.hw_config)?;
        let max_steps = 1u64 << params.step_bits.min(40);
        if self.time_steps as u64 > max_steps || self.time_steps < 2 {
            return Err(bad(
                "time_steps",
                self.time_steps,
                format!(
                    "must be in 2..={max_steps} (the `{}` hardware counts {} step bits)",
                    params.name, params.step_bits
                ),
            ));
        }
        Ok(params)
    }

    fn qat_epochs_effective(&self) -> usize {
        self.qat_epochs.min(self.epochs - 1)
    }

    fn encoding(&self) -> InputEncoding {
        InputEncoding::new(self.input_steps)
    }

    /// Whether training images are resampled (rotation or scaling), rather
    /// than only moved on the grid.
    fn resamples(&self) -> bool {
        self.rotate_degrees > 0.0 || self.scale_percent > 0.0
    }

    fn ssr_weights(&self) -> (f32, f32) {
        match self.ssr {
            SsrKind::M => (self.ssr_weight, 0.0),
            SsrKind::F => (0.0, self.ssr_weight),
            SsrKind::Both => (self.ssr_weight, self.ssr_weight),
        }
    }
}

/// Receives progress events; the CLI draws bars, tests ignore them.
pub trait Progress {
    fn epoch_start(&mut self, _epoch: usize, _batches: usize) {}
    fn batch_done(&mut self) {}
    fn epoch_end(&mut self, _record: &EpochRecord) {}
}

/// Progress that reports nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// A split with its input spikes encoded once.
pub struct Encoded {
    pub split: Split,
    pub spikes: Vec<SpikeList>,
}

impl Encoded {
    pub fn new(split: Split, encoding: &InputEncoding) -> Encoded {
        let spikes = (0..split.len())
            .into_par_iter()
            .map(|k| SpikeList::encode(encoding, split.image(k)))
            .collect();
        Encoded { split, spikes }
    }
}

/// The training and validation images of a run.
pub struct Prepared {
    pub train: Encoded,
    pub val: Encoded,
}

/// Float-model results on a split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloatEval {
    pub accuracy: f64,
    pub spikes_per_neuron: f64,
}

/// Training state: weights, pruning masks, optimizer moments, the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trainer {
    pub config: TrainConfig,
    /// Per layer, row-major `[outputs][inputs]`; absent synapses are zero.
    pub weights: Vec<Vec<f32>>,
    /// Per layer, `true` where a synapse exists.
    pub masks: Vec<Vec<bool>>,
    adam_m: Vec<Vec<f32>>,
    adam_v: Vec<Vec<f32>>,
    adam_steps: u64,
    /// Moving average of `weights` (empty when `config.ema_decay` is 0).
    #[serde(default)]
    pub averaged: Vec<Vec<f32>>,
    pub epochs_done: usize,
    pub log: Vec<EpochRecord>,
}

/// Adam hyper-parameters of one step.
struct AdamStep {
    lr: f32,
    /// `1 - lr * weight_decay`, applied to present weights before the step.
    decay: f32,
    bc1: f32,
    bc2: f32,
    inv_batch: f32,
    /// Decay of the weight average (used when one is kept).
    ema: f32,
}

/// Elements per block of the parallel reduction: large enough to amortise
/// scheduling, small enough to share work between cores.
const REDUCE_BLOCK: usize = 8192;

/// Sums the chunk gradients (in chunk order, so the result is
/// deterministic), zeroes the buffers, accumulates gradient magnitudes for
/// regrowth, and takes one Adam step on present synapses. Parallel over
/// blocks of weights.
// One slice per array the parallel pass zips together.
#[allow(clippy::too_many_arguments)]
fn reduce_and_step(
    w: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    mask: &[bool],
    mag: Option<&mut [f32]>,
    averaged: Option<&mut [f32]>,
    bufs: Vec<&mut Vec<f32>>,
    hp: &AdamStep,
) {
    let n_blocks = w.len().div_ceil(REDUCE_BLOCK);
    let mut per_block: Vec<Vec<&mut [f32]>> = (0..n_blocks)
        .map(|_| Vec::with_capacity(bufs.len()))
        .collect();
    for buf in bufs {
        for (b, s) in buf.chunks_mut(REDUCE_BLOCK).enumerate() {
            per_block[b].push(s);
        }
    }
    let mut mags: Vec<Option<&mut [f32]>> = match mag {
        Some(g) => g.chunks_mut(REDUCE_BLOCK).map(Some).collect(),
        None => (0..n_blocks).map(|_| None).collect(),
    };
    let mut avgs: Vec<Option<&mut [f32]>> = match averaged {
        Some(a) => a.chunks_mut(REDUCE_BLOCK).map(Some).collect(),
        None => (0..n_blocks).map(|_| None).collect(),
    };
    w.par_chunks_mut(REDUCE_BLOCK)
        .zip(m.par_chunks_mut(REDUCE_BLOCK))
        .zip(v.par_chunks_mut(REDUCE_BLOCK))
        .zip(mask.par_chunks(REDUCE_BLOCK))
        .zip(per_block.par_iter_mut())
        .zip(mags.par_iter_mut())
        .zip(avgs.par_iter_mut())
        .for_each(|((((((w, m), v), mask), grads), mag), avg)| {
            // Plain loops over equal-length slices, with selects instead of
            // branches, so that the compiler vectorizes them.
            let (lr_bc1, inv_bc2) = (hp.lr / hp.bc1, 1.0 / hp.bc2);
            let mut g = [0f32; REDUCE_BLOCK];
            let g = &mut g[..w.len()];
            for buf in grads.iter_mut() {
                for (a, b) in g.iter_mut().zip(buf.iter_mut()) {
                    *a += *b;
                    *b = 0.0;
                }
            }
            for x in g.iter_mut() {
                *x *= hp.inv_batch;
            }
            if let Some(mag) = mag {
                for (a, x) in mag.iter_mut().zip(g.iter()) {
                    *a += x.abs();
                }
            }
            for ((((w, m), v), &keep), &g) in w
                .iter_mut()
                .zip(m.iter_mut())
                .zip(v.iter_mut())
                .zip(mask)
                .zip(g.iter())
            {
                let m1 = 0.9 * *m + 0.1 * g;
                let v1 = 0.999 * *v + 0.001 * g * g;
                let w1 = *w * hp.decay - lr_bc1 * m1 / ((v1 * inv_bc2).sqrt() + 1e-8);
                *m = if keep { m1 } else { *m };
                *v = if keep { v1 } else { *v };
                *w = if keep { w1 } else { *w };
            }
            if let Some(avg) = avg {
                let (d, d1) = (hp.ema, 1.0 - hp.ema);
                for ((a, &w), &keep) in avg.iter_mut().zip(w.iter()).zip(mask) {
                    let a1 = d * *a + d1 * w;
                    *a = if keep { a1 } else { *a };
                }
            }
        });
}

/// Batches between two rewiring events while pruning ramps up (there is
/// always one more at the end of each pruning epoch, so a checkpoint never
/// holds half-accumulated gradient magnitudes).
const REWIRE_EVERY_BATCHES: usize = 100;

/// Format tag and version of checkpoint files.
pub const CHECKPOINT_FORMAT: &str = "onespike-train-checkpoint";
pub const CHECKPOINT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Checkpoint {
    format: String,
    version: u32,
    trainer: Trainer,
}

impl Trainer {
    /// A fresh trainer with seeded random initial weights.
    pub fn new(config: TrainConfig) -> Result<Trainer, TrainError> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut weights = Vec::new();
        for w in config.sizes.windows(2) {
            let (n_in, n_out) = (w[0] as usize, w[1] as usize);
            let mean = config.init_mean * config.threshold / n_in as f32;
            let half = config.init_width * config.threshold / (n_in as f32).sqrt();
            weights.push(
                (0..n_in * n_out)
                    .map(|_| mean + half * (2.0 * rng.gen::<f32>() - 1.0))
                    .collect::<Vec<f32>>(),
            );
        }
        let zeros: Vec<Vec<f32>> = weights.iter().map(|w| vec![0.0; w.len()]).collect();
        let averaged = if config.ema_decay > 0.0 {
            weights.clone()
        } else {
            Vec::new()
        };
        Ok(Trainer {
            averaged,
            masks: weights.iter().map(|w| vec![true; w.len()]).collect(),
            weights,
            adam_m: zeros.clone(),
            adam_v: zeros,
            adam_steps: 0,
            epochs_done: 0,
            log: Vec::new(),
            config,
        })
    }

    /// Splits and encodes the data: validation images are the last
    /// `val_images` of `train`, training images the first ones before them
    /// (at most `limit_train`). Checks that the data fits the architecture.
    pub fn prepare(&self, train: &Split) -> Result<Prepared, TrainError> {
        let c = &self.config;
        let image_size = train.image_size();
        if image_size != c.sizes[0] as usize {
            return Err(TrainError::Data {
                message: format!(
                    "images have {} pixels ({}x{}) but the architecture's input size is {}",
                    image_size, train.rows, train.cols, c.sizes[0]
                ),
            });
        }
        let classes = *c.sizes.last().unwrap() as usize;
        if let Some(&l) = train.labels.iter().find(|&&l| l as usize >= classes) {
            return Err(TrainError::Data {
                message: format!(
                    "label {l} needs at least {} output neurons, the architecture has {classes}",
                    l + 1
                ),
            });
        }
        if c.val_images + 1 > train.len() {
            return Err(bad(
                "val_images",
                c.val_images,
                format!(
                    "must leave training images; the training split has {}",
                    train.len()
                ),
            ));
        }
        let n_train = (train.len() - c.val_images).min(c.limit_train.unwrap_or(usize::MAX));
        if n_train == 0 {
            return Err(bad("limit_train", 0, "must be at least 1"));
        }
        let n = image_size;
        let val = Split {
            rows: train.rows,
            cols: train.cols,
            pixels: train.pixels[(train.len() - c.val_images) * n..].to_vec(),
            labels: train.labels[train.len() - c.val_images..].to_vec(),
        };
        let enc = c.encoding();
        Ok(Prepared {
            train: Encoded::new(train.take(n_train), &enc),
            val: Encoded::new(val, &enc),
        })
    }

    /// The weights that are evaluated and saved: the moving average when
    /// one is kept, else the trained weights.
    fn eval_weights(&self) -> &[Vec<f32>] {
        if self.averaged.is_empty() {
            &self.weights
        } else {
            &self.averaged
        }
    }

    /// The current network (absent synapses are zero weights; the weight
    /// average when `ema_decay` > 0).
    pub fn network(&self) -> FloatNetwork {
        let c = &self.config;
        let mut net = FloatNetwork::zeros(&c.sizes, c.encoding(), c.time_steps, c.threshold);
        for (layer, (w, m)) in net
            .layers
            .iter_mut()
            .zip(self.eval_weights().iter().zip(&self.masks))
        {
            layer.weights = w
                .iter()
                .zip(m)
                .map(|(&x, &keep)| if keep { x } else { 0.0 })
                .collect();
        }
        net
    }

    /// Evaluates the float network on encoded images (parallel, ordered).
    pub fn float_eval(&self, data: &Encoded, mode: TimeMode) -> FloatEval {
        let view = self.view(self.eval_weights(), None, mode);
        let results: Vec<(bool, u32)> = (0..data.spikes.len())
            .into_par_iter()
            .map(|k| {
                let tr = ttfs::forward(&view, data.spikes[k].clone());
                let spikes = tr
                    .layers
                    .iter()
                    .map(|l| l.fired.iter().filter(|&&f| f).count() as u32)
                    .sum();
                (
                    ttfs::predict(&view, &tr) == data.split.labels[k] as usize,
                    spikes,
                )
            })
            .collect();
        let n = results.len().max(1) as f64;
        let neurons: u32 = self.config.sizes[1..].iter().sum();
        FloatEval {
            accuracy: results.iter().filter(|r| r.0).count() as f64 / n,
            spikes_per_neuron: results.iter().map(|r| r.1 as f64).sum::<f64>() / n / neurons as f64,
        }
    }

    /// Quantizes the current network for the hardware configuration and
    /// runs the integer reference model on `split`.
    pub fn hardware_eval(&self, split: &Split) -> Result<crate::eval::RefEval, TrainError> {
        self.hardware_eval_with(split, false)
    }

    /// [`Trainer::hardware_eval`], optionally with the hardware's early exit.
    pub fn hardware_eval_with(
        &self,
        split: &Split,
        early_exit: bool,
    ) -> Result<crate::eval::RefEval, TrainError> {
        let params = self.config.validate()?;
        let (q, _) = quantize(&self.network(), params.weight_bits)?;
        let opt = RunOptions {
            widths: Widths::from(&params),
            early_exit,
        };
        Ok(reference_eval(&q, split, opt)?)
    }

    fn view<'a>(
        &self,
        weights: &'a [Vec<f32>],
        thresholds: Option<&[f32]>,
        mode: TimeMode,
    ) -> NetView<'a> {
        let c = &self.config;
        NetView {
            layers: weights
                .iter()
                .enumerate()
                .map(|(l, w)| LayerView {
                    weights: w,
                    inputs: c.sizes[l] as usize,
                    outputs: c.sizes[l + 1] as usize,
                    threshold: thresholds.map_or(c.threshold, |t| t[l]),
                })
                .collect(),
            time_steps: c.time_steps,
            mode,
        }
    }

    /// Weights and thresholds as the hardware sees them after `quantize`,
    /// back in float units: the forward pass of quantization-aware epochs.
    fn fake_quantized(&self, weight_bits: u32) -> (Vec<Vec<f32>>, Vec<f32>) {
        let wmax = ((1i64 << (weight_bits - 1)) - 1) as f64;
        let mut ws = Vec::new();
        let mut thetas = Vec::new();
        for (w, m) in self.weights.iter().zip(&self.masks) {
            let max_abs = w
                .iter()
                .zip(m)
                .filter(|p| *p.1)
                .fold(0f32, |a, (x, _)| a.max(x.abs())) as f64;
            let scale = if max_abs > 0.0 { wmax / max_abs } else { 1.0 };
            ws.push(
                w.iter()
                    .zip(m)
                    .map(|(&x, &keep)| {
                        if keep {
                            ((x as f64 * scale).round().clamp(-wmax - 1.0, wmax) / scale) as f32
                        } else {
                            0.0
                        }
                    })
                    .collect(),
            );
            thetas.push(((self.config.threshold as f64 * scale).round().max(1.0) / scale) as f32);
        }
        (ws, thetas)
    }

    /// Trains until `until_epoch` epochs are done (at most `config.epochs`),
    /// saving a checkpoint after every epoch if `checkpoint` is given.
    pub fn train(
        &mut self,
        data: &Prepared,
        until_epoch: usize,
        progress: &mut dyn Progress,
        checkpoint: Option<&Path>,
    ) -> Result<(), TrainError> {
        let params = self.config.validate()?;
        while self.epochs_done < until_epoch.min(self.config.epochs) {
            let rec = self.epoch(data, &params, progress)?;
            progress.epoch_end(&rec);
            self.log.push(rec);
            if let Some(path) = checkpoint {
                self.save_checkpoint(path)?;
            }
        }
        Ok(())
    }

    fn epoch(
        &mut self,
        data: &Prepared,
        params: &HwParams,
        progress: &mut dyn Progress,
    ) -> Result<EpochRecord, TrainError> {
        let started = Instant::now();
        let c = self.config.clone();
        let e = self.epochs_done;
        let qat_epochs = c.qat_epochs_effective();
        let main_epochs = c.epochs - qat_epochs;
        let qat = e >= main_epochs;
        let count_weight = c.count_weight * ((e + 1) as f32 / main_epochs as f32).min(1.0);
        let lr = c.learning_rate * c.lr_decay.powi(e as i32);
        let (ssr_m, ssr_f) = c.ssr_weights();
        let lw = LossWeights {
            tau_steps: c.tau_steps,
            label_smoothing: c.label_smoothing,
            cap_steps: c.time_steps as f32 * 1.5,
            target_steps: c.target_steps,
            target_weight: c.target_weight,
            fire_weight: c.fire_weight,
            ssr_m,
            ssr_f,
            count: count_weight,
        };
        let mode = if qat { TimeMode::Discrete } else { c.mode };
        let n_layers = c.sizes.len() - 1;

        let mut order: Vec<usize> = (0..data.train.spikes.len()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(
            c.seed ^ (0x9E37_79B9_7F4A_7C15u64.wrapping_mul(e as u64 + 1)),
        );
        order.shuffle(&mut rng);
        // One random augmentation (dx, dy, mirrored) per training image, by
        // image index, drawn after the shuffle from the same generator: the
        // run stays deterministic and resumable.
        let shift = c.shift_pixels as i32;
        let augment = shift > 0 || c.mirror || c.resamples();
        let augmentations: Vec<(i32, i32, bool)> = if augment {
            (0..order.len())
                .map(|_| {
                    let dx = if shift > 0 {
                        rng.gen_range(-shift..=shift)
                    } else {
                        0
                    };
                    let dy = if shift > 0 {
                        rng.gen_range(-shift..=shift)
                    } else {
                        0
                    };
                    (dx, dy, c.mirror && rng.gen::<bool>())
                })
                .collect()
        } else {
            Vec::new()
        };
        // Rotation and scaling, drawn after the moves above (runs without
        // them draw exactly what they drew before these options existed).
        let warps: Vec<augment::Affine> = if c.resamples() {
            let (rot, scl) = (c.rotate_degrees.to_radians(), c.scale_percent / 100.0);
            augmentations
                .iter()
                .map(|&(dx, dy, mirror)| {
                    let angle = if rot > 0.0 {
                        rng.gen_range(-rot..=rot)
                    } else {
                        0.0
                    };
                    let scale = if scl > 0.0 {
                        1.0 + rng.gen_range(-scl..=scl)
                    } else {
                        1.0
                    };
                    augment::Affine {
                        angle,
                        scale,
                        dx: dx as f32,
                        dy: dy as f32,
                        mirror,
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let encoding = c.encoding();
        let dropout_seed = c.seed ^ 0xD1B5_4A32_D192_ED03u64.wrapping_mul(e as u64 + 1);
        let (rows, cols) = (data.train.split.rows, data.train.split.cols);
        let batches = order.len().div_ceil(c.batch_size);
        progress.epoch_start(e + 1, batches);

        let pruning = c.sparsity > 0.0;
        let mut grad_mag: Vec<Vec<f32>> = if pruning {
            self.weights.iter().map(|w| vec![0.0; w.len()]).collect()
        } else {
            Vec::new()
        };
        // Pruning ramps over every main epoch but the last (so at least one
        // epoch trains at the final sparsity), or over the only one.
        let prune_epochs = main_epochs.saturating_sub(1).max(1);
        let mut batch_index = 0usize;
        let mut silent: Vec<Vec<bool>> = c.sizes[1..]
            .iter()
            .map(|&n| vec![false; n as usize])
            .collect();
        let (mut loss_sum, mut ce_sum, mut correct) = (0f64, 0f64, 0usize);
        // One gradient buffer per chunk, kept across batches and zeroed by
        // the reduction pass that reads it.
        let mut bufs: Vec<Vec<Vec<f32>>> = (0..c.grad_chunks)
            .map(|_| self.weights.iter().map(|w| vec![0.0; w.len()]).collect())
            .collect();
        for batch in order.chunks(c.batch_size) {
            let quantized;
            let view = if qat {
                quantized = self.fake_quantized(params.weight_bits);
                self.view(&quantized.0, Some(&quantized.1), mode)
            } else {
                self.view(&self.weights, None, mode)
            };
            let chunk_len = batch.len().div_ceil(c.grad_chunks);
            let parts: Vec<(Vec<Vec<u32>>, f64, f64, usize)> = batch
                .par_chunks(chunk_len)
                .zip(bufs.par_iter_mut())
                .map(|(chunk, grads)| {
                    let mut fires: Vec<Vec<u32>> =
                        c.sizes[1..].iter().map(|&n| vec![0; n as usize]).collect();
                    let (mut l_sum, mut ce, mut ok) = (0f64, 0f64, 0usize);
                    for &k in chunk {
                        let label = data.train.split.labels[k] as usize;
                        let input = if let Some(a) = warps.get(k) {
                            let image = data.train.split.image(k);
                            SpikeList::encode(&encoding, &augment::warp(image, rows, cols, a))
                        } else {
                            match augmentations.get(k) {
                                Some(&(dx, dy, false)) => {
                                    data.train.spikes[k].shifted(rows, cols, dx, dy)
                                }
                                Some(&(dx, dy, true)) => data.train.spikes[k]
                                    .mirrored(cols)
                                    .shifted(rows, cols, dx, dy),
                                None => data.train.spikes[k].clone(),
                            }
                        };
                        // Each image draws its dropout from its own stream of
                        // the epoch's generator: the same whatever the chunking.
                        let input = if c.input_dropout > 0.0 {
                            let mut r = ChaCha8Rng::seed_from_u64(dropout_seed);
                            r.set_stream(k as u64);
                            input.thinned(|| r.gen::<f32>() >= c.input_dropout)
                        } else {
                            input
                        };
                        let s =
                            ttfs::sample_grad(&view, input, label, &lw, &silent, grads, &mut fires);
                        l_sum += s.total as f64;
                        ce += s.cross_entropy as f64;
                        ok += s.correct as usize;
                    }
                    (fires, l_sum, ce, ok)
                })
                .collect();
            drop(view);
            let mut fires: Vec<Vec<u32>> =
                c.sizes[1..].iter().map(|&n| vec![0; n as usize]).collect();
            for (f, l1, c1, k1) in parts {
                for (a, b) in fires.iter_mut().zip(&f) {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                }
                loss_sum += l1;
                ce_sum += c1;
                correct += k1;
            }
            for l in 0..n_layers {
                silent[l] = fires[l].iter().map(|&n| n == 0).collect();
            }
            self.adam_steps += 1;
            let steps = self.adam_steps.min(1 << 20) as i32;
            let hp = AdamStep {
                lr: lr as f32,
                decay: (1.0 - lr * c.weight_decay) as f32,
                bc1: (1.0 - 0.9f64.powi(steps)) as f32,
                bc2: (1.0 - 0.999f64.powi(steps)) as f32,
                inv_batch: 1.0 / batch.len() as f32,
                ema: c.ema_decay as f32,
            };
            for l in 0..n_layers {
                let mag = if pruning {
                    Some(&mut grad_mag[l][..])
                } else {
                    None
                };
                let layer_bufs: Vec<&mut Vec<f32>> = bufs.iter_mut().map(|b| &mut b[l]).collect();
                let averaged = self.averaged.get_mut(l).map(|a| &mut a[..]);
                reduce_and_step(
                    &mut self.weights[l],
                    &mut self.adam_m[l],
                    &mut self.adam_v[l],
                    &self.masks[l],
                    mag,
                    averaged,
                    layer_bufs,
                    &hp,
                );
            }
            progress.batch_done();
            batch_index += 1;
            // Rewire often and in small steps while pruning ramps up: one
            // large cut per epoch costs accuracy the next epoch must win back.
            // (`%` rather than `is_multiple_of`: the workspace's rust-version is 1.80.)
            #[allow(clippy::manual_is_multiple_of)]
            let due = batch_index % REWIRE_EVERY_BATCHES == 0;
            if pruning && e < prune_epochs && due && batch_index < batches {
                let done = (e * batches + batch_index) as f64 / (prune_epochs * batches) as f64;
                self.rewire_all(&mut grad_mag, done);
            }
        }

        if pruning && e < prune_epochs {
            self.rewire_all(&mut grad_mag, (e + 1) as f64 / prune_epochs as f64);
        }
        self.epochs_done += 1;

        let fe = self.float_eval(&data.val, c.mode);
        let hw = self.hardware_eval(&data.val.split)?;
        let n = order.len().max(1) as f64;
        Ok(EpochRecord {
            epoch: e + 1,
            learning_rate: lr,
            count_weight: count_weight as f64,
            quantization_aware: qat,
            train_loss: loss_sum / n,
            train_cross_entropy: ce_sum / n,
            train_accuracy: correct as f64 / n,
            val_images: data.val.spikes.len(),
            val_float_accuracy: fe.accuracy,
            val_float_spikes_per_neuron: fe.spikes_per_neuron,
            val_hw_accuracy: hw.accuracy,
            val_hw_spikes_per_neuron: hw.spikes_per_neuron,
            sparsity: self.network().sparsity(),
            epoch_seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// One rewiring event of every layer at pruning progress `done` in
    /// `(0, 1]`; clears the accumulated gradient magnitudes.
    fn rewire_all(&mut self, grad_mag: &mut [Vec<f32>], done: f64) {
        let c = &self.config;
        let sizes: Vec<usize> = self.weights.iter().map(|w| w.len()).collect();
        let targets = prune::layer_targets(&sizes, c.sparsity);
        let regrow = c.regrow_fraction * (1.0 - done).max(0.0);
        for l in 0..self.weights.len() {
            let before = self.masks[l].clone();
            let frac = prune::scheduled_fraction(targets[l], done);
            prune::rewire(
                &mut self.weights[l],
                &mut self.masks[l],
                &grad_mag[l],
                frac,
                regrow,
            );
            for (i, &was) in before.iter().enumerate() {
                if was != self.masks[l][i] {
                    self.adam_m[l][i] = 0.0;
                    self.adam_v[l][i] = 0.0;
                    // A pruned or regrown synapse starts its average afresh.
                    if let Some(a) = self.averaged.get_mut(l) {
                        a[i] = self.weights[l][i];
                    }
                }
            }
            grad_mag[l].iter_mut().for_each(|g| *g = 0.0);
        }
    }

    /// Float and hardware figures of the current network on a test split.
    pub fn final_report(&self, test: &Split) -> Result<FinalReport, TrainError> {
        let params = self.config.validate()?;
        let enc = Encoded::new(test.clone(), &self.config.encoding());
        let fe = self.float_eval(&enc, self.config.mode);
        let fc = self.float_eval(&enc, TimeMode::Continuous);
        let hw = self.hardware_eval(test)?;
        let early = self.hardware_eval_with(test, true)?;
        let (q, _) = quantize(&self.network(), params.weight_bits)?;
        let total: usize = q.layers.iter().map(|l| l.weights.len()).sum();
        Ok(FinalReport {
            test_images: test.len(),
            test_float_accuracy: fe.accuracy,
            test_float_spikes_per_neuron: fe.spikes_per_neuron,
            test_float_continuous_accuracy: fc.accuracy,
            test_hw_accuracy: hw.accuracy,
            test_hw_spikes_per_neuron: hw.spikes_per_neuron,
            test_hw_spikes_per_image_by_layer: hw.spikes_per_image_by_layer,
            test_hw_early_exit_accuracy: early.accuracy,
            test_hw_early_exit_spikes_per_neuron: early.spikes_per_neuron,
            float_sparsity: self.network().sparsity(),
            hw_sparsity: 1.0 - q.synapse_count() as f64 / total.max(1) as f64,
            hw_config: params.name,
        })
    }

    /// Writes the whole training state atomically.
    pub fn save_checkpoint(&self, path: &Path) -> Result<(), TrainError> {
        let ck = Checkpoint {
            format: CHECKPOINT_FORMAT.into(),
            version: CHECKPOINT_VERSION,
            trainer: self.clone(),
        };
        Ok(onespike_compiler::ir::save_json(path, &ck)?)
    }

    /// Reads a checkpoint written by [`Trainer::save_checkpoint`].
    pub fn load_checkpoint(path: &Path) -> Result<Trainer, TrainError> {
        let ck: Checkpoint = onespike_compiler::ir::load_json(path)?;
        let err = |message: String| TrainError::Checkpoint {
            path: path.display().to_string(),
            message,
        };
        if ck.format != CHECKPOINT_FORMAT || ck.version != CHECKPOINT_VERSION {
            return Err(err(format!(
                "format `{}` version {}, expected `{CHECKPOINT_FORMAT}` version {CHECKPOINT_VERSION}",
                ck.format, ck.version
            )));
        }
        let t = ck.trainer;
        t.config.validate()?;
        let shapes_ok = t.weights.len() == t.config.sizes.len() - 1
            && t.config.sizes.windows(2).enumerate().all(|(l, w)| {
                let n = (w[0] * w[1]) as usize;
                t.weights[l].len() == n
                    && t.masks[l].len() == n
                    && t.adam_m[l].len() == n
                    && t.adam_v[l].len() == n
            });
        // The weight average exists exactly when averaging is on, shaped like the weights.
        let averaged_ok = if t.config.ema_decay > 0.0 {
            t.averaged.len() == t.weights.len()
                && t.averaged
                    .iter()
                    .zip(&t.weights)
                    .all(|(a, w)| a.len() == w.len())
        } else {
            t.averaged.is_empty()
        };
        let shapes_ok = shapes_ok && averaged_ok;
        if !shapes_ok {
            return Err(err(
                "weight, mask or optimizer arrays do not match the architecture".into(),
            ));
        }
        Ok(t)
    }
}
