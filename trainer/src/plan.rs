//! The seeded plan of one epoch: everything about epoch `e` that does not
//! depend on the weights, drawn before its first mini-batch.
//!
//! - the schedules: learning rate `lr * lr_decay^e`, the spike-count weight
//!   rising linearly over the main epochs, whether the epoch is
//!   quantization-aware (the last `qat_epochs_effective`), its time mode and
//!   loss weights;
//! - the order of the training images: shuffled by ChaCha8 seeded with
//!   `seed ^ (0x9E3779B97F4A7C15 * (e + 1))`;
//! - one augmentation per training image, by image index, drawn from the
//!   same generator after the shuffle: `(dx, dy, mirrored)`, then (only
//!   when rotating or scaling) the angle and scale. Runs without an option
//!   draw exactly what they drew before the option existed, so adding one
//!   never changes old runs;
//! - input dropout, drawn per image from its own stream (`k`) of a
//!   generator seeded by `seed ^ (0xD1B54A32D192ED03 * (e + 1))`, so the
//!   draw does not depend on how a batch is split over threads.
//!
//! The plan is a pure function of the configuration, the epoch number and
//! the number of training images: resuming at epoch `e` draws it again.

use crate::augment::{self, Affine};
use crate::config::TrainConfig;
use crate::trainer::Encoded;
use crate::ttfs::{LossWeights, SpikeList, TimeMode};
use onespike_compiler::InputEncoding;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The plan of one epoch (see the module documentation).
#[derive(Debug, Clone)]
pub struct EpochPlan {
    /// The epoch, counted from 0.
    pub epoch: usize,
    /// Epochs before the quantization-aware ones.
    pub main_epochs: usize,
    /// Epochs over which pruning ramps up: every main epoch but the last
    /// (so at least one epoch trains at the final sparsity), or the only one.
    pub prune_epochs: usize,
    /// Whether this epoch trains on fake-quantized weights.
    pub quantization_aware: bool,
    pub learning_rate: f64,
    /// The spike-count term's weight this epoch.
    pub count_weight: f32,
    pub loss: LossWeights,
    /// Time mode of the forward pass (always discrete when quantization-aware).
    pub mode: TimeMode,
    /// Training image indices in the order they are visited.
    pub order: Vec<usize>,
    /// Per training image: `(dx, dy, mirrored)` (empty without augmentation).
    moves: Vec<(i32, i32, bool)>,
    /// Per training image: the resampling (empty without rotation or scaling).
    warps: Vec<Affine>,
    dropout_seed: u64,
    input_dropout: f32,
    encoding: InputEncoding,
}

impl EpochPlan {
    /// Draws the plan of epoch `e` (from 0) over `n_train` training images.
    pub fn new(c: &TrainConfig, e: usize, n_train: usize) -> EpochPlan {
        let qat_epochs = c.qat_epochs_effective();
        let main_epochs = c.epochs - qat_epochs;
        let qat = e >= main_epochs;
        let count_weight = c.count_weight * ((e + 1) as f32 / main_epochs as f32).min(1.0);
        let lr = c.learning_rate * c.lr_decay.powi(e as i32);
        let (ssr_m, ssr_f) = c.ssr_weights();
        let loss = LossWeights {
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

        let mut order: Vec<usize> = (0..n_train).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(
            c.seed ^ (0x9E37_79B9_7F4A_7C15u64.wrapping_mul(e as u64 + 1)),
        );
        order.shuffle(&mut rng);
        // One random augmentation (dx, dy, mirrored) per training image, by
        // image index, drawn after the shuffle from the same generator: the
        // run stays deterministic and resumable.
        let shift = c.shift_pixels as i32;
        let augment = shift > 0 || c.mirror || c.resamples();
        let moves: Vec<(i32, i32, bool)> = if augment {
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
        let warps: Vec<Affine> = if c.resamples() {
            let (rot, scl) = (c.rotate_degrees.to_radians(), c.scale_percent / 100.0);
            moves
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
                    Affine {
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
        EpochPlan {
            epoch: e,
            main_epochs,
            prune_epochs: main_epochs.saturating_sub(1).max(1),
            quantization_aware: qat,
            learning_rate: lr,
            count_weight,
            loss,
            mode,
            order,
            moves,
            warps,
            dropout_seed: c.seed ^ 0xD1B5_4A32_D192_ED03u64.wrapping_mul(e as u64 + 1),
            input_dropout: c.input_dropout,
            encoding: c.encoding(),
        }
    }

    /// Training image `k`'s input spikes this epoch: moved, mirrored or
    /// resampled as drawn, then thinned by input dropout.
    pub fn input(&self, train: &Encoded, k: usize) -> SpikeList {
        let (rows, cols) = (train.split.rows, train.split.cols);
        let input = if let Some(a) = self.warps.get(k) {
            let image = train.split.image(k);
            SpikeList::encode(&self.encoding, &augment::warp(image, rows, cols, a))
        } else {
            match self.moves.get(k) {
                Some(&(dx, dy, false)) => train.spikes[k].shifted(rows, cols, dx, dy),
                Some(&(dx, dy, true)) => train.spikes[k].mirrored(cols).shifted(rows, cols, dx, dy),
                None => train.spikes[k].clone(),
            }
        };
        // Each image draws its dropout from its own stream of the epoch's
        // generator: the same whatever the chunking.
        if self.input_dropout > 0.0 {
            let mut r = ChaCha8Rng::seed_from_u64(self.dropout_seed);
            r.set_stream(k as u64);
            input.thinned(|| r.gen::<f32>() >= self.input_dropout)
        } else {
            input
        }
    }
}
