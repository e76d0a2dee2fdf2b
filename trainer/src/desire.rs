//! Desire backpropagation (Gerlinghoff, Luo, Goh, Wong, Neurocomputing
//! 2023; issue 17): a spike-based trainer of multi-spike leaky layers with
//! no gradient. Behaviour and hyperparameters follow the authors' public
//! code (`desire_pytorch.py`); this is our own implementation of it, event
//! driven, on the hardware's float semantics.
//!
//! **Forward** (SPEC §2b, `docs/semantics.md` "One step"; the passes of
//! [`crate::bptt`] with a hard spike): per layer and step,
//! `x_t = dv v_{t-1} + I_t`, a spike where `x_t >= theta` and the neuron is
//! not dropped, then the reset; `I_{t+1} = di I_t + W a_t`, with `a_t` the
//! layer's input spikes of step `t` (input events for the first layer).
//! Every layer adds one step of delay, the first one too; so the authors'
//! 20 steps, whose first layer reads its input in the same step, are
//! exactly this pass over `T = 21` steps (`T = input_steps + 1`, the
//! default): every layer runs one step later, and each spike meets the
//! same inputs. Spikes are binary events; a step's current is the sum of
//! the weight columns of that step's input spikes (times the dropout
//! scale while training), so only spikes cost synaptic work.
//!
//! **Dropout** (training only): per image, each input channel and each
//! hidden neuron is kept with probability `1 - p` for all steps (inverted
//! scaling: a kept spike counts `1 / (1 - p)` in the next layer's current).
//! The output layer has none.
//!
//! **Desire** (once per image, after the forward pass, with the weights
//! the pass used). A neuron's desire is ternary: active (`+1` or `-1`) or
//! none. With `n_j` the neuron's spike count and `N* = input_steps -
//! error_margin` the count that means "fires fully":
//!
//! - output layer: error `e_j = n_j / N*`, on the label `1 - n_j / N*`;
//!   active where `e_j > output_threshold`, `+1` on the label, `-1`
//!   elsewhere;
//! - from layer `l` to the layer below: `e_j = |[d_j = +1] - n_j / N*|`,
//!   `sign_j = +-1` for an active, kept neuron and 0 otherwise,
//!   `S_i = sum_j w_ji e_j sign_j`; neuron `i` below is active where
//!   `|S_i| >= desire_threshold`, `+1` where `S_i > 0`.
//!
//! **Update** (desire-gated STDP): the presynaptic trace of input `i` is
//! `tr_i[t] = dv tr_i[t-1] + a_i[t-1]` (`a` binary: a dropout-scaled spike
//! counts 1), the trace of the inputs that reached the step-`t` potential.
//! At every spike of an active, kept neuron `j` at step `t`,
//! `w_ji += lr * sign_j * tr_i[t]` for every input `i`. All layers update
//! after the desire of every layer is known.
//!
//! **Parallel and exact**: one image at a time, as the paper. The cores
//! share the image's neurons: the forward pass of a layer over all steps
//! splits its neurons into ranges (one step of delay per layer makes a
//! layer's whole spike train depend on the layer below only), the desire
//! sums split the lower layer's neurons, the update splits the weight
//! rows. Every value is computed by one thread in a fixed order, so the
//! result does not depend on the number of threads: a parallel run trains
//! the very weights of a serial one, bit for bit (tested).
//!
//! Weights are `f32` like the authors' code, stored `[inputs][outputs]` so
//! that an input spike reads one contiguous weight column.

use crate::config::DesireOptions;
use onespike_compiler::neuron::{NeuronModel, Reset};
use rayon::prelude::*;

/// One layer: `wt[i * outputs + j]` is the weight from input `i` to
/// neuron `j`.
#[derive(Debug, Clone, PartialEq)]
pub struct DesireLayer {
    pub inputs: usize,
    pub outputs: usize,
    pub wt: Vec<f32>,
    pub theta: f32,
}

impl DesireLayer {
    /// A layer from row-major `[outputs][inputs]` weights (the trainer's).
    pub fn from_rows(rows: &[f32], inputs: usize, outputs: usize, theta: f32) -> DesireLayer {
        let mut wt = vec![0.0; inputs * outputs];
        for (j, row) in rows.chunks(inputs).enumerate().take(outputs) {
            for (i, &w) in row.iter().enumerate() {
                wt[i * outputs + j] = w;
            }
        }
        DesireLayer {
            inputs,
            outputs,
            wt,
            theta,
        }
    }

    /// The weights row-major `[outputs][inputs]`, into `rows`.
    pub fn to_rows(&self, rows: &mut [f32]) {
        for (i, col) in self.wt.chunks(self.outputs).enumerate() {
            for (j, &w) in col.iter().enumerate() {
                rows[j * self.inputs + i] = w;
            }
        }
    }
}

/// A network for the Desire passes.
#[derive(Debug, Clone, PartialEq)]
pub struct DesireNet {
    pub layers: Vec<DesireLayer>,
    pub neuron: NeuronModel,
    pub time_steps: usize,
}

/// What one image's dropout keeps. `keep[0]` is over the input channels,
/// `keep[l]` over the outputs of layer `l - 1` (hidden layers only), with
/// `scale[l]` the value of a kept spike; `None` keeps everything at 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropout {
    pub keep: Vec<Option<Vec<bool>>>,
    pub scale: Vec<f32>,
}

impl Dropout {
    /// No dropout (evaluation).
    pub fn none(net: &DesireNet) -> Dropout {
        Dropout {
            keep: vec![None; net.layers.len()],
            scale: vec![1.0; net.layers.len()],
        }
    }

    /// Draws the masks of one image: input channels with `pixel_dropout`,
    /// hidden neurons with `dropout`, from `draw` (uniform in [0, 1)).
    pub fn draw(net: &DesireNet, o: &DesireOptions, mut draw: impl FnMut() -> f32) -> Dropout {
        let mut keep = Vec::new();
        let mut scale = Vec::new();
        for l in 0..net.layers.len() {
            let (p, n) = if l == 0 {
                (o.pixel_dropout, net.layers[0].inputs)
            } else {
                (o.dropout, net.layers[l - 1].outputs)
            };
            if p > 0.0 {
                keep.push(Some((0..n).map(|_| draw() >= p).collect()));
                scale.push(1.0 / (1.0 - p));
            } else {
                keep.push(None);
                scale.push(1.0);
            }
        }
        Dropout { keep, scale }
    }

    fn kept(&self, l: usize, i: usize) -> bool {
        self.keep
            .get(l)
            .and_then(|k| k.as_ref())
            .map_or(true, |k| k[i])
    }
}

/// The spikes of one image: `spikes[l][t]`, the neurons of layer `l` that
/// fired at step `t`, ascending; `counts[l][j]` per neuron.
#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    pub spikes: Vec<Vec<Vec<u32>>>,
    pub counts: Vec<Vec<u32>>,
}

/// Input events `(step, channel)` as per-step channel lists over
/// `time_steps` steps (events at later steps never arrive), ascending.
pub fn input_steps(events: &[(u32, u32)], time_steps: usize) -> Vec<Vec<u32>> {
    let mut steps = vec![Vec::new(); time_steps];
    for &(t, c) in events {
        if let Some(s) = steps.get_mut(t as usize) {
            s.push(c);
        }
    }
    for s in &mut steps {
        s.sort_unstable();
    }
    steps
}

/// The input events of the channels `drop` keeps (all without dropout).
fn kept_inputs(input: &[Vec<u32>], drop: &Dropout) -> Vec<Vec<u32>> {
    input
        .iter()
        .map(|s| {
            s.iter()
                .copied()
                .filter(|&c| drop.kept(0, c as usize))
                .collect()
        })
        .collect()
}

/// Neurons per parallel unit: any split gives the same values (each
/// neuron's arithmetic is its own); this one keeps both cores busy.
fn range_len(n: usize) -> usize {
    let parts = 4 * rayon::current_num_threads().max(1);
    n.div_ceil(parts).max(32)
}

fn decays(n: &NeuronModel) -> (f32, f32) {
    let d = |s: Option<u32>| match s {
        None => 1.0,
        Some(k) => 1.0 - (0.5f32).powi(k as i32),
    };
    (d(n.v_shift), d(n.i_shift))
}

/// The forward pass of one image (`input`: per-step channel lists).
pub fn forward(net: &DesireNet, input: &[Vec<u32>], drop: &Dropout) -> Pass {
    let t_max = net.time_steps;
    let (dv, di) = decays(&net.neuron);
    let reset = net.neuron.reset;
    let mut spikes: Vec<Vec<Vec<u32>>> = Vec::with_capacity(net.layers.len());
    for (l, layer) in net.layers.iter().enumerate() {
        // The layer's sources per step: kept input channels, or the spikes
        // of the layer below (a dropped hidden neuron never fires).
        let kept_input;
        let src = if l == 0 {
            kept_input = kept_inputs(input, drop);
            &kept_input[..]
        } else {
            &spikes[l - 1][..]
        };
        let scale = drop.scale[l];
        let n = layer.outputs;
        let out_keep = drop.keep.get(l + 1).and_then(|k| k.as_ref());
        let len = range_len(n);
        let parts: Vec<Vec<Vec<u32>>> = (0..n.div_ceil(len))
            .into_par_iter()
            .map(|r| {
                let (a, b) = (r * len, ((r + 1) * len).min(n));
                let mut v = vec![0f32; b - a];
                let mut cur = vec![0f32; b - a];
                let mut prev = vec![false; b - a];
                let mut out = vec![Vec::new(); t_max];
                for (t, fired) in out.iter_mut().enumerate() {
                    for k in 0..b - a {
                        let mut x = v[k] * dv + cur[k];
                        if reset == Reset::SubtractNext && prev[k] {
                            x -= layer.theta;
                        }
                        let s = x >= layer.theta && out_keep.map_or(true, |m| m[a + k]);
                        v[k] = match (reset, s) {
                            (Reset::Subtract, true) => x - layer.theta,
                            (Reset::Zero, true) => 0.0,
                            _ => x,
                        };
                        prev[k] = s;
                        if s {
                            fired.push((a + k) as u32);
                        }
                    }
                    if di == 0.0 {
                        cur.iter_mut().for_each(|c| *c = 0.0);
                    } else if di != 1.0 {
                        cur.iter_mut().for_each(|c| *c *= di);
                    }
                    for &i in src.get(t).map_or(&[][..], |s| &s[..]) {
                        let col = &layer.wt[i as usize * n + a..i as usize * n + b];
                        if scale == 1.0 {
                            cur.iter_mut().zip(col).for_each(|(c, &w)| *c += w);
                        } else {
                            cur.iter_mut().zip(col).for_each(|(c, &w)| *c += scale * w);
                        }
                    }
                }
                out
            })
            .collect();
        let mut merged = vec![Vec::new(); t_max];
        for part in parts {
            for (m, p) in merged.iter_mut().zip(part) {
                m.extend(p);
            }
        }
        spikes.push(merged);
    }
    let counts = net
        .layers
        .iter()
        .zip(&spikes)
        .map(|(layer, s)| {
            let mut c = vec![0u32; layer.outputs];
            for &j in s.iter().flatten() {
                c[j as usize] += 1;
            }
            c
        })
        .collect();
    Pass { spikes, counts }
}

/// The ternary desire of every neuron: `active[l][j]`, and where active,
/// `positive[l][j]` (`+1`) or not (`-1`).
#[derive(Debug, Clone, PartialEq)]
pub struct Desire {
    pub active: Vec<Vec<bool>>,
    pub positive: Vec<Vec<bool>>,
}

/// The desire of every layer for an image of class `label`, from the
/// output layer down, with the weights of the forward pass.
pub fn desire(
    net: &DesireNet,
    pass: &Pass,
    label: usize,
    drop: &Dropout,
    o: &DesireOptions,
    input_steps: u32,
) -> Desire {
    let target = (input_steps - o.error_margin) as f32;
    let n_layers = net.layers.len();
    let mut active = vec![Vec::new(); n_layers];
    let mut positive = vec![Vec::new(); n_layers];
    let last = n_layers - 1;
    let (a, p): (Vec<bool>, Vec<bool>) = pass.counts[last]
        .iter()
        .enumerate()
        .map(|(j, &n)| {
            let rate = n as f32 / target;
            let err = if j == label { 1.0 - rate } else { rate };
            (err > o.output_threshold, j == label)
        })
        .unzip();
    active[last] = a;
    positive[last] = p;
    for l in (1..n_layers).rev() {
        let layer = &net.layers[l];
        // Kept neurons of layer l (the output layer has no dropout).
        let coeff: Vec<f32> = (0..layer.outputs)
            .map(|j| {
                if !active[l][j] || !drop.kept(l + 1, j) {
                    return 0.0;
                }
                let d1 = if positive[l][j] { 1.0 } else { 0.0 };
                let e = (d1 - pass.counts[l][j] as f32 / target).abs();
                e * if positive[l][j] { 1.0 } else { -1.0 }
            })
            .collect();
        let n_out = layer.outputs;
        let sums: Vec<f32> = layer
            .wt
            .par_chunks(n_out)
            .with_min_len(32)
            .map(|col| col.iter().zip(&coeff).map(|(&w, &c)| w * c).sum())
            .collect();
        active[l - 1] = sums.iter().map(|s| s.abs() >= o.hidden_threshold).collect();
        positive[l - 1] = sums.iter().map(|&s| s > 0.0).collect();
    }
    Desire { active, positive }
}

/// Presynaptic traces of the inputs that spiked: for each such input
/// (ascending), `tr[t]` over the steps.
fn traces(src: &[Vec<u32>], inputs: usize, t_max: usize, dv: f32) -> Vec<(u32, Vec<f32>)> {
    let mut spike_steps: Vec<Vec<u32>> = vec![Vec::new(); inputs];
    for (t, s) in src.iter().enumerate().take(t_max) {
        for &i in s {
            spike_steps[i as usize].push(t as u32);
        }
    }
    spike_steps
        .into_iter()
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .map(|(i, steps)| {
            let mut tr = vec![0f32; t_max];
            let mut k = 0;
            for t in 1..t_max {
                let mut x = tr[t - 1] * dv;
                while k < steps.len() && steps[k] as usize == t - 1 {
                    x += 1.0;
                    k += 1;
                }
                tr[t] = x;
            }
            (i as u32, tr)
        })
        .collect()
}

/// The desire-gated STDP update of every layer, at learning rate `lr`.
pub fn update(
    net: &mut DesireNet,
    input: &[Vec<u32>],
    pass: &Pass,
    desire: &Desire,
    drop: &Dropout,
    lr: f32,
) {
    let t_max = net.time_steps;
    let (dv, _) = decays(&net.neuron);
    for l in 0..net.layers.len() {
        let kept_input;
        let src = if l == 0 {
            kept_input = kept_inputs(input, drop);
            &kept_input[..]
        } else {
            &pass.spikes[l - 1][..]
        };
        let layer = &mut net.layers[l];
        let n_out = layer.outputs;
        // Active, kept neurons that fired: their signed rate and spike steps.
        let mut post: Vec<(usize, f32, Vec<usize>)> = Vec::new();
        for j in 0..n_out {
            if desire.active[l][j] && drop.kept(l + 1, j) && pass.counts[l][j] > 0 {
                let c = if desire.positive[l][j] { lr } else { -lr };
                post.push((j, c, Vec::new()));
            }
        }
        if post.is_empty() {
            continue;
        }
        let mut slot = vec![usize::MAX; n_out];
        for (k, p) in post.iter().enumerate() {
            slot[p.0] = k;
        }
        for (t, s) in pass.spikes[l].iter().enumerate() {
            for &j in s {
                if slot[j as usize] != usize::MAX {
                    post[slot[j as usize]].2.push(t);
                }
            }
        }
        let tr = traces(src, layer.inputs, t_max, dv);
        let mut rows: Vec<(&(u32, Vec<f32>), &mut [f32])> = Vec::with_capacity(tr.len());
        let mut rest = &mut layer.wt[..];
        let mut at = 0usize;
        for t in &tr {
            let i = t.0 as usize;
            let (_, tail) = rest.split_at_mut((i - at) * n_out);
            let (row, tail) = tail.split_at_mut(n_out);
            rows.push((t, row));
            rest = tail;
            at = i + 1;
        }
        rows.par_iter_mut()
            .with_min_len(16)
            .for_each(|((_, tr), row)| {
                for (j, c, steps) in &post {
                    let sum: f32 = steps.iter().map(|&t| tr[t]).sum();
                    row[*j] += c * sum;
                }
            });
    }
}

/// Whether `label` has the unique maximum count among `counts` (the
/// paper's decision rule: a tie is wrong).
pub fn unique_max(counts: &[u32], label: usize) -> bool {
    let Some(&n) = counts.get(label) else {
        return false;
    };
    counts.iter().enumerate().all(|(j, &m)| j == label || m < n)
}

// ---------------------------------------------------------------------
// The trainer's side (`method = desire`).

use crate::error::TrainError;
use crate::plan::EpochPlan;
use crate::report::EpochRecord;
use crate::trainer::{Prepared, Progress, Trainer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// Kaiming-normal initial weights of one `[outputs][inputs]` matrix: mean
/// `init_mean * theta / fan_in`, standard deviation `init_width * theta *
/// sqrt(2 / fan_in)` (PyTorch's `kaiming_normal_` for `init_width` 1,
/// `theta` 1, the authors' initialization).
pub(crate) fn kaiming_normal(
    rng: &mut ChaCha8Rng,
    inputs: usize,
    outputs: usize,
    init_mean: f32,
    init_width: f32,
    theta: f32,
) -> Vec<f32> {
    use rand_distr::{Distribution, Normal};
    let mean = init_mean * theta / inputs as f32;
    let std = init_width * theta * (2.0 / inputs as f32).sqrt();
    // A zero width is a constant matrix (Normal refuses no deviation only
    // when it is negative or not finite, which validation excludes).
    let normal = Normal::new(mean, std.max(0.0)).expect("finite deviation");
    (0..inputs * outputs).map(|_| normal.sample(rng)).collect()
}

impl Trainer {
    /// The network of `weights` for the Desire passes.
    pub fn desire_net(&self, weights: &[Vec<f32>]) -> DesireNet {
        let c = &self.config;
        DesireNet {
            layers: c
                .sizes
                .windows(2)
                .zip(weights)
                .map(|(s, w)| DesireLayer::from_rows(w, s[0] as usize, s[1] as usize, c.threshold))
                .collect(),
            neuron: c.bptt.neuron(),
            time_steps: c.time_steps as usize,
        }
    }

    /// One epoch of Desire backpropagation: every training image once, in
    /// the epoch's order, one update each.
    pub(crate) fn desire_epoch(
        &mut self,
        data: &Prepared,
        progress: &mut dyn Progress,
    ) -> Result<EpochRecord, TrainError> {
        let started = Instant::now();
        let c = self.config.clone();
        let e = self.epochs_done;
        let plan = EpochPlan::new(&c, e, data.train.spikes.len());
        let lr = plan.learning_rate as f32;
        let mut net = self.desire_net(&self.weights);
        progress.epoch_start(e + 1, plan.order.len());
        let seed = c.seed ^ 0x6A09_E667_F3BC_C909u64.wrapping_mul(e as u64 + 1);
        let target = (c.input_steps - c.desire.error_margin) as f64;
        let (mut err_sum, mut ce_sum, mut correct) = (0f64, 0f64, 0usize);
        for &k in &plan.order {
            let events = crate::multispike::events(&plan.input(&data.train, k));
            let input = input_steps(&events, net.time_steps);
            // Each image draws its masks from its own stream.
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(k as u64);
            let drop = Dropout::draw(&net, &c.desire, || rng.gen::<f32>());
            let pass = forward(&net, &input, &drop);
            let label = data.train.split.labels[k] as usize;
            let out = pass.counts.last().expect("a layer");
            let (err, ce, ok) = sample_figures(out, label, target);
            err_sum += err;
            ce_sum += ce;
            correct += ok as usize;
            let d = desire(&net, &pass, label, &drop, &c.desire, c.input_steps);
            update(&mut net, &input, &pass, &d, &drop, lr);
            progress.batch_done();
        }
        for (layer, w) in net.layers.iter().zip(self.weights.iter_mut()) {
            layer.to_rows(w);
        }
        self.close_epoch(data, &plan, (err_sum, ce_sum, correct), started)
    }
}

/// One training image's figures from its output counts: the output error
/// the desire reads (mean over the outputs of `|[j = label] - n_j / N*|`),
/// the cross-entropy of `softmax(n)` (a loss Desire does not descend,
/// logged to compare runs with BPTT's) and whether the class (ties to the
/// lowest index) is the label.
fn sample_figures(counts: &[u32], label: usize, target: f64) -> (f64, f64, bool) {
    let err = counts
        .iter()
        .enumerate()
        .map(|(j, &n)| (f64::from(u8::from(j == label)) - n as f64 / target).abs())
        .sum::<f64>()
        / counts.len().max(1) as f64;
    let max = counts.iter().copied().max().unwrap_or(0) as f64;
    let z: f64 = counts.iter().map(|&n| (n as f64 - max).exp()).sum();
    let ce = -(counts[label] as f64 - max - z.ln());
    let class = counts
        .iter()
        .enumerate()
        .fold(0, |b, (j, &n)| if n > counts[b] { j } else { b });
    (err, ce, class == label)
}
