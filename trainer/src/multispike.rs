//! The BPTT trainer's side of [`Trainer`] (`method = bptt`): one epoch of
//! mini-batches through [`crate::bptt`] (parallel chunks, summed in chunk
//! order), quantization-aware epochs on the compiler's quantization of
//! each layer (feed-forward and recurrent weights share its scale, as in
//! `onespike compile`), rewiring, and the float evaluation.
//!
//! The weights live where the TTFS trainer keeps them (`Trainer::weights`,
//! f32, row-major `[outputs][inputs]`): the feed-forward matrix of every
//! layer, then the recurrent matrices ([`TrainConfig::matrix_lengths`]).
//! The passes run in `f64` on those values, as the float model does.
//!
//! [`TrainConfig::matrix_lengths`]: crate::config::TrainConfig::matrix_lengths

use crate::bptt::{self, Algebra, Backprop, Layer, Loss, Net};
use crate::error::TrainError;
use crate::eval::FloatEval;
use crate::optimizer::{reduce_and_step, AdamStep};
use crate::plan::EpochPlan;
use crate::report::EpochRecord;
use crate::trainer::{Encoded, Prepared, Progress, Trainer};
use crate::ttfs::SpikeList;
use ndarray::{Array2, Axis, ShapeBuilder};
use onespike_compiler::quantize::LayerScale;
use onespike_compiler::HwParams;
use rayon::prelude::*;
use std::time::Instant;

/// Images per forward pass in evaluation.
const EVAL_CHUNK: usize = 64;

/// The `f64` matrices of a network and its thresholds. Each is shaped
/// `[outputs][inputs]` like the weights but stored column-major, so the
/// passes read a weight column per input as a contiguous row without
/// transposing once per chunk.
pub(crate) struct Matrices {
    ff: Vec<Array2<f64>>,
    rec: Vec<Option<Array2<f64>>>,
    thetas: Vec<f64>,
}

impl Matrices {
    fn net(&self, trainer: &Trainer) -> Net<'_> {
        let neuron = trainer.config.bptt.neuron();
        Net {
            layers: self
                .ff
                .iter()
                .zip(&self.rec)
                .zip(&self.thetas)
                .map(|((w, r), &theta)| Layer {
                    w: w.view(),
                    rec: r.as_ref().map(|r| r.view()),
                    theta,
                    neuron,
                })
                .collect(),
            time_steps: trainer.config.time_steps as usize,
        }
    }
}

/// The events of a spike list as `(step, channel)`.
pub(crate) fn events(s: &SpikeList) -> Vec<(u32, u32)> {
    s.times_steps
        .iter()
        .zip(&s.sources)
        .map(|(&t, &c)| (t as u32, c))
        .collect()
}

impl Trainer {
    /// For each layer, the index of its recurrent matrix in `weights`.
    fn recurrent_index(&self) -> Vec<Option<usize>> {
        let n_layers = self.config.sizes.len() - 1;
        let mut rec_of = vec![None; n_layers];
        for (r, l) in self.config.recurrent_layers().into_iter().enumerate() {
            rec_of[l] = Some(n_layers + r);
        }
        rec_of
    }

    /// Matrix `k` of `weights` with absent synapses zeroed.
    fn present<'a>(&'a self, weights: &'a [Vec<f32>], k: usize) -> impl Iterator<Item = f32> + 'a {
        weights[k]
            .iter()
            .zip(&self.masks[k])
            .map(|(&x, &m)| if m { x } else { 0.0 })
    }

    /// The weights as the passes read them: the present synapses of `weights`.
    pub(crate) fn float_matrices(&self, weights: &[Vec<f32>]) -> Matrices {
        self.build_matrices(weights, &vec![None; self.config.sizes.len() - 1])
    }

    /// The weights as the hardware sees them after `quantize` at
    /// `weight_bits`, back in float units: the compiler's integers divided
    /// by the layer's scale (one scale over the feed-forward and recurrent
    /// weights), the thresholds likewise.
    pub(crate) fn quantized_matrices(
        &self,
        weights: &[Vec<f32>],
        weight_bits: u32,
    ) -> Result<Matrices, TrainError> {
        let rules = self
            .recurrent_index()
            .into_iter()
            .enumerate()
            .map(|(l, r)| {
                let all = self
                    .present(weights, l)
                    .chain(r.into_iter().flat_map(|k| self.present(weights, k)));
                LayerScale::new(all, weight_bits).map(Some)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.build_matrices(weights, &rules))
    }

    fn build_matrices(&self, weights: &[Vec<f32>], rules: &[Option<LayerScale>]) -> Matrices {
        let c = &self.config;
        let (mut ff, mut rec, mut thetas) = (Vec::new(), Vec::new(), Vec::new());
        for (l, r) in self.recurrent_index().into_iter().enumerate() {
            let (n_in, n_out) = (c.sizes[l] as usize, c.sizes[l + 1] as usize);
            let rule = rules[l];
            let conv = |x: f32| match &rule {
                Some(q) => q.weight(x) as f64 / q.scale,
                None => x as f64,
            };
            let matrix = |k: usize, cols: usize| {
                // Column-major: element (j, c) at c * n_out + j.
                let mut v = vec![0.0; n_out * cols];
                let rows = weights[k].chunks(cols).zip(self.masks[k].chunks(cols));
                for (j, (w, m)) in rows.enumerate().take(n_out) {
                    for (c, (&x, &keep)) in w.iter().zip(m).enumerate() {
                        v[c * n_out + j] = if keep { conv(x) } else { 0.0 };
                    }
                }
                Array2::from_shape_vec((n_out, cols).f(), v)
            };
            // The lengths are the configuration's (checked on load).
            if let Ok(w) = matrix(l, n_in) {
                ff.push(w);
            }
            rec.push(r.and_then(|k| matrix(k, n_out).ok()));
            thetas.push(match &rule {
                Some(q) => q.threshold(c.threshold) / q.scale,
                None => c.threshold as f64,
            });
        }
        Matrices { ff, rec, thetas }
    }

    pub(crate) fn bptt_epoch(
        &mut self,
        data: &Prepared,
        params: &HwParams,
        progress: &mut dyn Progress,
    ) -> Result<EpochRecord, TrainError> {
        let started = Instant::now();
        let c = self.config.clone();
        let e = self.epochs_done;
        let plan = EpochPlan::new(&c, e, data.train.spikes.len());
        let qat = plan.quantization_aware;
        let lw = Loss {
            tau: c.tau_steps as f64,
            label_smoothing: c.label_smoothing as f64,
            count_weight: plan.count_weight as f64,
            rate_weight: c.bptt.rate_weight as f64,
        };
        let bp = Backprop {
            surrogate: c.bptt.surrogate,
            slope: c.bptt.slope(),
            reset_grad: c.bptt.reset_grad,
        };
        let n_matrices = self.weights.len();
        let batches = plan.order.len().div_ceil(c.batch_size);
        progress.epoch_start(e + 1, batches);
        let pruning = c.sparsity > 0.0;
        let mut grad_mag: Vec<Vec<f32>> = if pruning {
            self.weights.iter().map(|w| vec![0.0; w.len()]).collect()
        } else {
            Vec::new()
        };
        let (mut loss_sum, mut ce_sum, mut correct) = (0f64, 0f64, 0usize);
        let mut bufs: Vec<Vec<Vec<f32>>> = (0..c.grad_chunks)
            .map(|_| self.weights.iter().map(|w| vec![0.0; w.len()]).collect())
            .collect();
        let (t_max, n_in) = (c.time_steps as usize, c.sizes[0] as usize);
        let mut batch_index = 0usize;
        for batch in plan.order.chunks(c.batch_size) {
            let m = if qat {
                self.quantized_matrices(&self.weights, params.weight_bits)?
            } else {
                self.float_matrices(&self.weights)
            };
            let net = m.net(self);
            let chunk_len = batch.len().div_ceil(c.grad_chunks);
            let parts: Vec<bptt::LossSums> = batch
                .par_chunks(chunk_len)
                .zip(bufs.par_iter_mut())
                .map(|(chunk, grads)| {
                    let ev: Vec<Vec<(u32, u32)>> = chunk
                        .iter()
                        .map(|&k| events(&plan.input(&data.train, k)))
                        .collect();
                    let input = bptt::input_tensor(ev.iter().map(|v| &v[..]), t_max, n_in);
                    let labels: Vec<usize> = chunk
                        .iter()
                        .map(|&k| data.train.split.labels[k] as usize)
                        .collect();
                    let tr = bptt::forward(&net, &input);
                    let (sums, direct) = bptt::loss(&net, &tr, &labels, &lw);
                    bptt::backward_add_f32(&net, &input, &tr, &direct, &bp, Algebra::Auto, grads);
                    sums
                })
                .collect();
            drop(net);
            for p in parts {
                loss_sum += p.total;
                ce_sum += p.cross_entropy;
                correct += p.correct;
            }
            self.adam_steps += 1;
            let steps = self.adam_steps.min(1 << 20) as i32;
            let lr = plan.learning_rate;
            let hp = AdamStep {
                lr: lr as f32,
                decay: (1.0 - lr * c.weight_decay) as f32,
                bc1: (1.0 - 0.9f64.powi(steps)) as f32,
                bc2: (1.0 - 0.999f64.powi(steps)) as f32,
                inv_batch: 1.0 / batch.len() as f32,
                ema: c.ema_decay as f32,
            };
            for l in 0..n_matrices {
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
            #[allow(clippy::manual_is_multiple_of)]
            let due = batch_index % crate::trainer::REWIRE_EVERY_BATCHES == 0;
            if pruning && e < plan.prune_epochs && due && batch_index < batches {
                let done =
                    (e * batches + batch_index) as f64 / (plan.prune_epochs * batches) as f64;
                self.rewire_all(&mut grad_mag, done);
            }
        }
        if pruning && e < plan.prune_epochs {
            self.rewire_all(&mut grad_mag, (e + 1) as f64 / plan.prune_epochs as f64);
        }
        self.close_epoch(data, &plan, (loss_sum, ce_sum, correct), started)
    }

    /// The float model (the passes' forward, as `float_eval::run_discrete`)
    /// on encoded images: accuracy under the `spike_count` decision and
    /// spikes per neuron per image.
    pub fn bptt_float_eval(&self, data: &Encoded) -> FloatEval {
        let m = self.float_matrices(self.eval_weights());
        let net = m.net(self);
        let c = &self.config;
        let (t_max, n_in) = (c.time_steps as usize, c.sizes[0] as usize);
        let idx: Vec<usize> = (0..data.spikes.len()).collect();
        let parts: Vec<(usize, f64)> = idx
            .par_chunks(EVAL_CHUNK)
            .map(|chunk| {
                let ev: Vec<Vec<(u32, u32)>> =
                    chunk.iter().map(|&k| events(&data.spikes[k])).collect();
                let input = bptt::input_tensor(ev.iter().map(|v| &v[..]), t_max, n_in);
                let tr = bptt::forward(&net, &input);
                let out = tr.counts(net.layers.len() - 1);
                let ok = chunk
                    .iter()
                    .zip(out.axis_iter(Axis(0)))
                    .filter(|(&k, n)| bptt::decide(n.view()) == data.split.labels[k] as usize)
                    .count();
                let spikes: f64 = tr.s.iter().map(|s| s.sum()).sum();
                (ok, spikes)
            })
            .collect();
        let n = data.spikes.len().max(1) as f64;
        let neurons: u32 = c.sizes[1..].iter().sum();
        FloatEval {
            accuracy: parts.iter().map(|p| p.0).sum::<usize>() as f64 / n,
            spikes_per_neuron: parts.iter().map(|p| p.1).sum::<f64>() / n / neurons as f64,
        }
    }
}
