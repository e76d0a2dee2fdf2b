//! The training state ([`Trainer`]) and the training loop: initial
//! weights, splitting and encoding the data, the mini-batch loop of an
//! epoch (parallel chunks, straight-through quantization-aware epochs,
//! rewiring events) and the network it produces.
//!
//! The epoch's seeded draws are [`crate::plan`], the Adam step
//! [`crate::optimizer`], evaluation [`crate::eval`], checkpoints
//! [`crate::checkpoint`].

use crate::config::TrainConfig;
use crate::error::{bad, TrainError};
use crate::optimizer::{reduce_and_step, AdamStep};
use crate::plan::EpochPlan;
use crate::prune;
use crate::report::EpochRecord;
use crate::ttfs::{self, LayerView, NetView, SpikeList, TimeMode};
use onespike_compiler::quantize::LayerScale;
use onespike_compiler::{FloatNetwork, HwParams, InputEncoding};
use onespike_dataset::Split;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

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
    /// Latency-coded images as the TTFS trainer reads them; other codings
    /// (rate, rows) as their `(step, channel)` events.
    pub fn new(split: Split, encoding: &InputEncoding) -> Encoded {
        let spikes = (0..split.len())
            .into_par_iter()
            .map(|k| {
                if encoding.coding.is_latency() {
                    SpikeList::encode(encoding, split.image(k))
                } else {
                    let ev = encoding.encode(split.image(k));
                    SpikeList::from_pairs(ev.iter().map(|s| (s.step as f32, s.neuron)).collect())
                }
            })
            .collect();
        Encoded { split, spikes }
    }
}

/// The training and validation images of a run.
pub struct Prepared {
    pub train: Encoded,
    pub val: Encoded,
    /// Which training images `val` is (recorded in the network file).
    pub held_out: onespike_compiler::HeldOut,
}

/// Training state: weights, pruning masks, optimizer moments, the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trainer {
    pub config: TrainConfig,
    /// Per layer, row-major `[outputs][inputs]`; absent synapses are zero.
    pub weights: Vec<Vec<f32>>,
    /// Per layer, `true` where a synapse exists.
    pub masks: Vec<Vec<bool>>,
    pub(crate) adam_m: Vec<Vec<f32>>,
    pub(crate) adam_v: Vec<Vec<f32>>,
    pub(crate) adam_steps: u64,
    /// Moving average of `weights` (empty when `config.ema_decay` is 0).
    #[serde(default)]
    pub averaged: Vec<Vec<f32>>,
    pub epochs_done: usize,
    pub log: Vec<EpochRecord>,
}

/// Batches between two rewiring events while pruning ramps up (there is
/// always one more at the end of each pruning epoch, so a checkpoint never
/// holds half-accumulated gradient magnitudes).
pub(crate) const REWIRE_EVERY_BATCHES: usize = 100;

impl Trainer {
    /// A fresh trainer with seeded random initial weights.
    pub fn new(config: TrainConfig) -> Result<Trainer, TrainError> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut weights = Vec::new();
        // Feed-forward matrices, then recurrent ones (BPTT), fan-in first.
        let shapes = config.sizes.windows(2).map(|w| (w[0], w[1])).chain(
            config
                .recurrent_layers()
                .into_iter()
                .map(|l| (config.sizes[l + 1], config.sizes[l + 1])),
        );
        let desire = config.method == crate::config::Method::Desire;
        for (n_in, n_out) in shapes {
            let (n_in, n_out) = (n_in as usize, n_out as usize);
            if desire {
                weights.push(crate::desire::kaiming_normal(
                    &mut rng,
                    n_in,
                    n_out,
                    config.init_mean,
                    config.init_width,
                    config.threshold,
                ));
                continue;
            }
            let mean = config.init_mean * config.threshold / n_in as f32;
            let half = config.init_width * config.threshold / (n_in as f32).sqrt();
            weights.push(
                (0..n_in * n_out)
                    .map(|_| mean + half * (2.0 * rng.gen::<f32>() - 1.0))
                    .collect::<Vec<f32>>(),
            );
        }
        // Desire has no optimizer state.
        let zeros: Vec<Vec<f32>> = if desire {
            Vec::new()
        } else {
            weights.iter().map(|w| vec![0.0; w.len()]).collect()
        };
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
        let enc = c.encoding();
        if Some(image_size as u64) != enc.pixels_per_image(c.sizes[0]) {
            let rows = if enc.coding == onespike_compiler::Coding::Rows {
                format!(
                    " (coding = rows: {} columns, input-steps = {} rows)",
                    c.sizes[0], c.input_steps
                )
            } else {
                String::new()
            };
            return Err(TrainError::Data {
                message: format!(
                    "images have {} pixels ({}x{}) but the architecture's input size is {}{rows}",
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
                "val-images",
                c.val_images,
                format!(
                    "must leave training images; the training split has {}",
                    train.len()
                ),
            ));
        }
        let n_train = (train.len() - c.val_images).min(c.limit_train.unwrap_or(usize::MAX));
        if n_train == 0 {
            return Err(bad("limit-train", 0, "must be at least 1"));
        }
        let n = image_size;
        let val = Split {
            rows: train.rows,
            cols: train.cols,
            pixels: train.pixels[(train.len() - c.val_images) * n..].to_vec(),
            labels: train.labels[train.len() - c.val_images..].to_vec(),
        };
        Ok(Prepared {
            train: Encoded::new(train.take(n_train), &enc),
            val: Encoded::new(val, &enc),
            held_out: onespike_dataset::held_out::record(
                train,
                train.len() - c.val_images,
                c.val_images,
            ),
        })
    }

    /// The weights that are evaluated and saved: the moving average when
    /// one is kept, else the trained weights.
    pub(crate) fn eval_weights(&self) -> &[Vec<f32>] {
        if self.averaged.is_empty() {
            &self.weights
        } else {
            &self.averaged
        }
    }

    /// The network to save: [`Trainer::network`] with the record of the
    /// training images `prepared` held out.
    pub fn model(&self, prepared: &Prepared) -> FloatNetwork {
        FloatNetwork {
            held_out: Some(prepared.held_out),
            ..self.network()
        }
    }

    /// The current network (absent synapses are zero weights; the weight
    /// average when `ema_decay` > 0).
    pub fn network(&self) -> FloatNetwork {
        let c = &self.config;
        let mut net = FloatNetwork::zeros(&c.sizes, c.encoding(), c.time_steps, c.threshold);
        let present = |k: usize| -> Vec<f32> {
            self.eval_weights()[k]
                .iter()
                .zip(&self.masks[k])
                .map(|(&x, &keep)| if keep { x } else { 0.0 })
                .collect()
        };
        for (k, layer) in net.layers.iter_mut().enumerate() {
            layer.weights = present(k);
        }
        if c.method.is_multispike() {
            net.decision = onespike_compiler::Decision::SpikeCount;
            for layer in net.layers.iter_mut() {
                layer.neuron = c.bptt.neuron();
            }
            let n_layers = net.layers.len();
            for (r, l) in c.recurrent_layers().into_iter().enumerate() {
                net.layers[l].recurrent = Some(present(n_layers + r));
            }
        }
        net
    }

    pub(crate) fn view<'a>(
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
    /// The hardware's rule is `compiler::quantize::LayerScale`, the one
    /// `quantize` applies, over the present synapses of each layer.
    fn fake_quantized(&self, weight_bits: u32) -> Result<(Vec<Vec<f32>>, Vec<f32>), TrainError> {
        let mut ws = Vec::new();
        let mut thetas = Vec::new();
        for (w, m) in self.weights.iter().zip(&self.masks) {
            let present = w.iter().zip(m).filter(|p| *p.1).map(|(&x, _)| x);
            let rule = LayerScale::new(present, weight_bits)?;
            ws.push(
                w.iter()
                    .zip(m)
                    .map(|(&x, &keep)| {
                        if keep {
                            (rule.weight(x) as f64 / rule.scale) as f32
                        } else {
                            0.0
                        }
                    })
                    .collect(),
            );
            thetas.push((rule.threshold(self.config.threshold) / rule.scale) as f32);
        }
        Ok((ws, thetas))
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
        match self.config.method {
            crate::config::Method::Bptt => return self.bptt_epoch(data, params, progress),
            crate::config::Method::Desire => return self.desire_epoch(data, progress),
            crate::config::Method::Ttfs => {}
        }
        let started = Instant::now();
        let c = self.config.clone();
        let e = self.epochs_done;
        let plan = EpochPlan::new(&c, e, data.train.spikes.len());
        let (qat, mode, lw) = (plan.quantization_aware, plan.mode, plan.loss);
        let lr = plan.learning_rate;
        let order = &plan.order;
        let n_layers = c.sizes.len() - 1;
        let batches = order.len().div_ceil(c.batch_size);
        progress.epoch_start(e + 1, batches);

        let pruning = c.sparsity > 0.0;
        let mut grad_mag: Vec<Vec<f32>> = if pruning {
            self.weights.iter().map(|w| vec![0.0; w.len()]).collect()
        } else {
            Vec::new()
        };
        let prune_epochs = plan.prune_epochs;
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
                quantized = self.fake_quantized(params.weight_bits)?;
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
                        let input = plan.input(&data.train, k);
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
        self.close_epoch(data, &plan, (loss_sum, ce_sum, correct), started)
    }

    /// Ends epoch `plan.epoch`: counts it done, evaluates the network on
    /// the validation images (float and hardware) and returns its log
    /// record. `sums` are the training images' summed loss and
    /// cross-entropy and their number of correct classes.
    pub(crate) fn close_epoch(
        &mut self,
        data: &Prepared,
        plan: &EpochPlan,
        sums: (f64, f64, usize),
        started: Instant,
    ) -> Result<EpochRecord, TrainError> {
        let train_seconds = started.elapsed().as_secs_f64();
        self.epochs_done += 1;
        let fe = self.float_eval(&data.val, self.config.mode);
        let hw = self.hardware_eval(&data.val.split)?;
        let n = plan.order.len().max(1) as f64;
        Ok(EpochRecord {
            epoch: plan.epoch + 1,
            learning_rate: plan.learning_rate,
            count_weight: plan.count_weight as f64,
            quantization_aware: plan.quantization_aware,
            train_loss: sums.0 / n,
            train_cross_entropy: sums.1 / n,
            train_accuracy: sums.2 as f64 / n,
            val_images: data.val.spikes.len(),
            val_float_accuracy: fe.accuracy,
            val_float_spikes_per_neuron: fe.spikes_per_neuron,
            val_hw_accuracy: hw.accuracy,
            val_hw_spikes_per_neuron: hw.spikes_per_neuron,
            sparsity: self.network().sparsity(),
            epoch_seconds: started.elapsed().as_secs_f64(),
            train_seconds,
        })
    }

    /// One rewiring event of every layer at pruning progress `done` in
    /// `(0, 1]`; clears the accumulated gradient magnitudes.
    pub(crate) fn rewire_all(&mut self, grad_mag: &mut [Vec<f32>], done: f64) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use onespike_compiler::quantize::quantize;

    /// The quantization-aware forward pass sees exactly the integers
    /// `onespike compile` will produce, divided by the layer's scale.
    #[test]
    fn fake_quantization_is_the_compilers_quantization() {
        let mut c = TrainConfig::new(vec![12, 5, 3]);
        c.threshold = 0.7;
        let mut t = Trainer::new(c).unwrap();
        // Prune some synapses (zero weight, like rewiring leaves them).
        for (l, m) in t.masks.iter_mut().enumerate() {
            for (i, keep) in m.iter_mut().enumerate() {
                if (i + l) % 3 == 0 {
                    *keep = false;
                    t.weights[l][i] = 0.0;
                }
            }
        }
        t.weights[0][1] = -3.0;
        for bits in [3, 8, 12] {
            let (ws, thetas) = t.fake_quantized(bits).unwrap();
            let (q, _) = quantize(&t.network(), bits).unwrap();
            for (l, layer) in q.layers.iter().enumerate() {
                let back: Vec<f32> = layer
                    .weights
                    .iter()
                    .map(|&w| (w as f64 / layer.scale) as f32)
                    .collect();
                assert_eq!(ws[l], back, "layer {l}, {bits} bits");
                assert_eq!(thetas[l], (layer.threshold as f64 / layer.scale) as f32);
            }
        }
        assert!(t.fake_quantized(1).is_err());
    }
}
