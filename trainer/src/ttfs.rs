//! Exact spike-time forward and backward pass of the non-leaky
//! integrate-and-fire neuron with step synaptic current (ramp PSP), one
//! sample at a time (`docs/semantics.md`, "The neuron": the TTFS neuron).
//!
//! A neuron's potential is `V(t) = sum_i w_ij (t - t_i)` over the inputs that
//! arrived before `t`; it fires once, at the first crossing of `theta`:
//! `t_j = (theta + sum_{i in C} w_ij t_i) / W_j`, `W_j = sum_{i in C} w_ij`,
//! over the causal set `C` (inputs before the crossing). The gradients are
//! exact: `dt_j/dw_ij = (t_i - t_j) / W_j` and `dt_j/dt_i = w_ij / W_j`.
//!
//! In [`TimeMode::Discrete`] a spike leaves a neuron at the integer step
//! `ceil(t_j)`, as in the hardware: with all input times integers, `V` is
//! linear between integer steps, so this forward pass gives exactly the
//! reference model's spike steps (for the same weights). The backward pass
//! treats the ceiling as the identity (straight-through), because its true
//! derivative is zero almost everywhere.

// The backward loops walk a spike list by position and index several
// arrays with it (times, sources, per-position gradients) at once.
#![allow(clippy::needless_range_loop)]

/// Spikes entering a layer, sorted by time (ties by source index).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpikeList {
    /// Arrival time of each spike, in hardware steps.
    pub times_steps: Vec<f32>,
    /// Index of the neuron (or pixel) that sent it.
    pub sources: Vec<u32>,
}

impl SpikeList {
    /// Builds a sorted list from `(time, source)` pairs.
    pub fn from_pairs(mut pairs: Vec<(f32, u32)>) -> SpikeList {
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        SpikeList {
            times_steps: pairs.iter().map(|p| p.0).collect(),
            sources: pairs.iter().map(|p| p.1).collect(),
        }
    }

    /// The input spikes of an image under the network's encoding: exactly
    /// the integer steps the hardware receives.
    pub fn encode(encoding: &onespike_compiler::InputEncoding, pixels: &[u8]) -> SpikeList {
        let pairs = pixels
            .iter()
            .enumerate()
            .filter_map(|(i, &p)| encoding.pixel_step(p).map(|t| (t as f32, i as u32)))
            .collect();
        SpikeList::from_pairs(pairs)
    }

    /// The spikes of the same image translated by `(dx, dy)` pixels on a
    /// `rows x cols` grid (data augmentation); spikes that leave the grid
    /// are dropped. A translation keeps the (time, source) order.
    pub fn shifted(&self, rows: usize, cols: usize, dx: i32, dy: i32) -> SpikeList {
        self.filter_map_sources(|s| {
            let r = (s as usize / cols) as i32 + dy;
            let c = (s as usize % cols) as i32 + dx;
            ((0..rows as i32).contains(&r) && (0..cols as i32).contains(&c))
                .then(|| (r as usize * cols + c as usize) as u32)
        })
    }

    /// The spikes of the image mirrored left-right on a `rows x cols` grid
    /// (data augmentation for left-right symmetric classes, such as
    /// Fashion-MNIST's garments).
    pub fn mirrored(&self, cols: usize) -> SpikeList {
        SpikeList::from_pairs(
            self.times_steps
                .iter()
                .zip(&self.sources)
                .map(|(&t, &s)| {
                    let (r, c) = (s as usize / cols, s as usize % cols);
                    (t, (r * cols + cols - 1 - c) as u32)
                })
                .collect(),
        )
    }

    /// The same spikes with each one kept when `keep()` says so (data
    /// augmentation: input spike dropout); keeps the (time, source) order.
    pub fn thinned(&self, mut keep: impl FnMut() -> bool) -> SpikeList {
        self.filter_map_sources(|s| keep().then_some(s))
    }

    /// Each spike in order, its source replaced by `f(source)` or dropped
    /// where that is `None`; times are kept, so the order stays valid only
    /// for maps that keep the order of sources of equal time (translations,
    /// identity).
    fn filter_map_sources(&self, mut f: impl FnMut(u32) -> Option<u32>) -> SpikeList {
        let mut out = SpikeList {
            times_steps: Vec::with_capacity(self.len()),
            sources: Vec::with_capacity(self.len()),
        };
        for (&t, &s) in self.times_steps.iter().zip(&self.sources) {
            if let Some(s) = f(s) {
                out.times_steps.push(t);
                out.sources.push(s);
            }
        }
        out
    }

    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }
}

/// How spike times travel between layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeMode {
    /// Spikes leave at the exact crossing time (the idealised model).
    Continuous,
    /// Spikes leave at `ceil(crossing)`, the hardware's step.
    Discrete,
}

/// One layer's parameters as the forward pass sees them.
#[derive(Debug, Clone, Copy)]
pub struct LayerView<'a> {
    /// Row-major `[outputs][inputs]`.
    pub weights: &'a [f32],
    pub inputs: usize,
    pub outputs: usize,
    pub threshold: f32,
}

/// A network as the forward pass sees it.
#[derive(Debug, Clone)]
pub struct NetView<'a> {
    pub layers: Vec<LayerView<'a>>,
    pub time_steps: u32,
    pub mode: TimeMode,
}

/// Everything the backward pass needs from one layer's forward pass.
#[derive(Debug, Clone, Default)]
pub struct LayerTrace {
    /// The (sorted) spikes that entered the layer.
    pub input: SpikeList,
    /// Continuous crossing time of each neuron; `INFINITY` if `V` never
    /// reaches `theta` (its slope ends non-positive).
    pub crossing_steps: Vec<f32>,
    /// Number of leading entries of `input` in each neuron's causal set.
    pub causal_len: Vec<u32>,
    /// `W_j`, the summed weight over the causal set.
    pub causal_weight: Vec<f32>,
    /// Whether the neuron spikes within the `T` steps of an inference.
    pub fired: Vec<bool>,
}

/// The forward pass of one sample, layer by layer.
#[derive(Debug, Clone, Default)]
pub struct SampleTrace {
    pub layers: Vec<LayerTrace>,
}

/// Crossing of one neuron: `(t, causal length, W)`; `t = INFINITY` if none.
///
/// Inputs that share a time are added together before the crossing test,
/// because a crossing can only lie between two distinct input times.
/// Absent (zero) weights are walked too: they change nothing in the
/// forward pass but give pruned synapses the gradient that regrowth ranks.
#[inline]
pub fn neuron_crossing(row: &[f32], input: &SpikeList, threshold: f32) -> (f32, u32, f32) {
    crossing_in_groups(row, input, &time_groups(input), threshold)
}

/// End positions (exclusive) of the runs of equal times in a sorted spike
/// list: the groups the crossing test walks.
pub fn time_groups(input: &SpikeList) -> Vec<u32> {
    let t = &input.times_steps;
    let mut ends = Vec::new();
    for p in 0..t.len() {
        if p + 1 == t.len() || t[p + 1] != t[p] {
            ends.push(p as u32 + 1);
        }
    }
    ends
}

/// Sum of `row` at `sources`, with four independent accumulators: the
/// forward pass is bound by this gather, and one serial sum would wait on
/// the adder's latency at every input.
#[inline]
fn gather_sum(row: &[f32], sources: &[u32]) -> f32 {
    let mut acc = [0f32; 4];
    let mut quads = sources.chunks_exact(4);
    for q in &mut quads {
        for (a, &s) in acc.iter_mut().zip(q) {
            *a += row[s as usize];
        }
    }
    let mut tail = 0f32;
    for &s in quads.remainder() {
        tail += row[s as usize];
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// [`neuron_crossing`] with the groups of equal input times precomputed
/// (once per layer and sample, shared by all the layer's neurons).
#[inline]
fn crossing_in_groups(
    row: &[f32],
    input: &SpikeList,
    ends: &[u32],
    threshold: f32,
) -> (f32, u32, f32) {
    let n = input.len();
    let (mut w_sum, mut wt_sum) = (0f32, 0f32);
    let mut start = 0usize;
    for &end in ends {
        let end = end as usize;
        let t = input.times_steps[start];
        let w = gather_sum(row, &input.sources[start..end]);
        w_sum += w;
        wt_sum += w * t;
        start = end;
        if w_sum <= 0.0 {
            continue;
        }
        let next = if end < n {
            input.times_steps[end]
        } else {
            f32::INFINITY
        };
        let crossing = (threshold + wt_sum) / w_sum;
        if crossing <= next {
            return (crossing, end as u32, w_sum);
        }
    }
    (f32::INFINITY, n as u32, w_sum)
}

/// The step at which a spike with this crossing leaves the neuron, or
/// `None` if it does not fire within `time_steps` steps. The small slack
/// absorbs float rounding of crossings that are exactly integers.
#[inline]
pub fn spike_step(crossing: f32, time_steps: u32, mode: TimeMode) -> Option<f32> {
    if !crossing.is_finite() {
        return None;
    }
    let step = (crossing - 1e-4).ceil().max(0.0);
    if step > (time_steps - 1) as f32 {
        return None;
    }
    Some(match mode {
        TimeMode::Continuous => crossing,
        TimeMode::Discrete => step,
    })
}

/// Runs one sample through the network.
pub fn forward(net: &NetView, input: SpikeList) -> SampleTrace {
    let mut layers = Vec::with_capacity(net.layers.len());
    let mut spikes = input;
    for layer in &net.layers {
        let mut tr = LayerTrace {
            crossing_steps: Vec::with_capacity(layer.outputs),
            causal_len: Vec::with_capacity(layer.outputs),
            causal_weight: Vec::with_capacity(layer.outputs),
            fired: Vec::with_capacity(layer.outputs),
            input: SpikeList::default(),
        };
        let mut out = Vec::new();
        let ends = time_groups(&spikes);
        for j in 0..layer.outputs {
            let row = &layer.weights[j * layer.inputs..(j + 1) * layer.inputs];
            let (t, k, w) = crossing_in_groups(row, &spikes, &ends, layer.threshold);
            let s = spike_step(t, net.time_steps, net.mode);
            if let Some(ts) = s {
                out.push((ts, j as u32));
            }
            tr.crossing_steps.push(t);
            tr.causal_len.push(k);
            tr.causal_weight.push(w);
            tr.fired.push(s.is_some());
        }
        tr.input = spikes;
        spikes = SpikeList::from_pairs(out);
        layers.push(tr);
    }
    SampleTrace { layers }
}

/// Membrane potential at the end of the last step (`T - 1`) from all inputs:
/// what the hardware compares when no output neuron fired.
pub fn final_potential(row: &[f32], input: &SpikeList, time_steps: u32) -> f32 {
    let t_end = (time_steps - 1) as f32;
    input
        .times_steps
        .iter()
        .zip(&input.sources)
        .filter(|(&t, _)| t < t_end)
        .map(|(&t, &s)| row[s as usize] * (t_end - t))
        .sum()
}

/// The first-spike class decision (`docs/semantics.md`, "Decisions") on the forward pass: first output spike
/// (ties to the lowest index), else the largest final potential.
pub fn predict(net: &NetView, trace: &SampleTrace) -> usize {
    let last = net.layers.len() - 1;
    let tr = &trace.layers[last];
    let mut best: Option<(f32, usize)> = None;
    for j in 0..tr.fired.len() {
        if tr.fired[j] {
            let t =
                spike_step(tr.crossing_steps[j], net.time_steps, net.mode).unwrap_or(f32::INFINITY);
            if best.is_none_or(|(bt, _)| t < bt) {
                best = Some((t, j));
            }
        }
    }
    if let Some((_, j)) = best {
        return j;
    }
    let layer = &net.layers[last];
    let mut best_j = 0;
    let mut best_v = f32::NEG_INFINITY;
    for j in 0..layer.outputs {
        let v = final_potential(
            &layer.weights[j * layer.inputs..(j + 1) * layer.inputs],
            &tr.input,
            net.time_steps,
        );
        if v > best_v {
            best_v = v;
            best_j = j;
        }
    }
    best_j
}

/// Weights of the loss terms for one sample. Every term is documented in
/// `docs/training.md`.
#[derive(Debug, Clone, Copy)]
pub struct LossWeights {
    /// Softmax temperature on output times, in steps.
    pub tau_steps: f32,
    /// Label smoothing of the cross-entropy: the target puts `1 - e` on the
    /// label and `e / classes` on every class.
    pub label_smoothing: f32,
    /// Output times beyond this are clamped and get no gradient.
    pub cap_steps: f32,
    /// Target time of the label neuron and the weight of `((t_y - target)/T)^2`.
    pub target_steps: f32,
    pub target_weight: f32,
    /// Weight of the "able to fire" term (label neuron and silent hidden neurons).
    pub fire_weight: f32,
    /// M-SSR and F-SSR weights (already including `--ssr-weight`).
    pub ssr_m: f32,
    pub ssr_f: f32,
    /// Current (annealed) weight of the spike-count term.
    pub count: f32,
}

/// Per-sample loss values and activity.
#[derive(Debug, Clone, Copy, Default)]
pub struct SampleLoss {
    pub cross_entropy: f32,
    pub total: f32,
    pub correct: bool,
    /// Spikes of all non-input neurons.
    pub spikes: u32,
}

/// Output times for the loss: the crossing, clamped to `cap`.
fn loss_time(t: f32, cap: f32) -> (f32, bool) {
    if t.is_finite() && t <= cap {
        (t, true)
    } else {
        (cap, false)
    }
}

/// Forward pass, loss, and exact backward pass of one sample; adds
/// `dLoss/dw` into `grads` (same layout as the weights). `silent[l][j]`
/// marks hidden neurons that fired for no sample of the previous batch,
/// which the fire term revives. `fire_counts[l][j]` is incremented for
/// every spike (so the caller can find silent neurons).
pub fn sample_grad(
    net: &NetView,
    input: SpikeList,
    label: usize,
    lw: &LossWeights,
    silent: &[Vec<bool>],
    grads: &mut [Vec<f32>],
    fire_counts: &mut [Vec<u32>],
) -> SampleLoss {
    let trace = forward(net, input);
    let n_layers = net.layers.len();
    let last = n_layers - 1;
    let t_steps = net.time_steps as f32;
    let hidden_neurons: usize = net.layers[..last].iter().map(|l| l.outputs).sum();
    let hidden_norm = 1.0 / hidden_neurons.max(1) as f32;
    let mut out = SampleLoss {
        correct: predict(net, &trace) == label,
        ..Default::default()
    };
    for (l, tr) in trace.layers.iter().enumerate() {
        for (j, &f) in tr.fired.iter().enumerate() {
            if f {
                fire_counts[l][j] += 1;
                out.spikes += 1;
            }
        }
    }

    // dLoss/dt for the output layer: cross-entropy over -t/tau and the
    // target-time term on the label neuron.
    let out_tr = &trace.layers[last];
    let n_out = out_tr.crossing_steps.len();
    let times: Vec<(f32, bool)> = out_tr
        .crossing_steps
        .iter()
        .map(|&t| loss_time(t, lw.cap_steps))
        .collect();
    let z_max = times
        .iter()
        .map(|x| -x.0 / lw.tau_steps)
        .fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = times
        .iter()
        .map(|x| (-x.0 / lw.tau_steps - z_max).exp())
        .collect();
    let z_sum: f32 = exps.iter().sum();
    // The (smoothed) target distribution over classes.
    let eps = lw.label_smoothing;
    let target = |j: usize| (if j == label { 1.0 - eps } else { 0.0 }) + eps / n_out as f32;
    // In log-sum-exp form: the label's probability can underflow to zero.
    let log_z = z_sum.ln();
    out.cross_entropy = (0..n_out)
        .map(|j| target(j) * (log_z - (-times[j].0 / lw.tau_steps - z_max)))
        .sum();
    out.total = out.cross_entropy;
    let mut g_t: Vec<f32> = (0..n_out)
        .map(|j| {
            if !times[j].1 {
                return 0.0;
            }
            let p = exps[j] / z_sum;
            -(p - target(j)) / lw.tau_steps
        })
        .collect();
    if times[label].1 && lw.target_weight > 0.0 {
        let d = (times[label].0 - lw.target_steps) / t_steps;
        out.total += lw.target_weight * d * d;
        g_t[label] += lw.target_weight * 2.0 * d / t_steps;
    }

    for l in (0..n_layers).rev() {
        let layer = &net.layers[l];
        let tr = &trace.layers[l];
        let theta = layer.threshold;
        let n_in = layer.inputs;
        let inp = &tr.input;
        let mut g_in = vec![0f32; inp.len()];
        let hidden = l < last;
        // The first layer's inputs are pixels: no gradient flows past them.
        let need_in = l > 0;
        // Slope floor for the gradient only: a crossing reached with a
        // nearly flat potential would otherwise give unbounded gradients.
        let slope_floor = theta / t_steps;
        let grad = &mut grads[l];
        for j in 0..layer.outputs {
            let row = &layer.weights[j * n_in..(j + 1) * n_in];
            let grow = &mut grad[j * n_in..(j + 1) * n_in];
            let t_j = tr.crossing_steps[j];
            let k = tr.causal_len[j] as usize;
            let mut g = g_t[j];
            if hidden && tr.fired[j] && lw.count > 0.0 {
                // Spike-count surrogate: (T - t_j)/T per spike; moving the
                // spike past T removes it.
                out.total += lw.count * hidden_norm * (t_steps - t_j) / t_steps;
                g -= lw.count * hidden_norm / t_steps;
            }
            if g != 0.0 && t_j.is_finite() {
                let c = g / tr.causal_weight[j].max(slope_floor);
                for p in 0..k {
                    grow[inp.sources[p] as usize] += c * (inp.times_steps[p] - t_j);
                }
                if need_in {
                    for p in 0..k {
                        g_in[p] += c * row[inp.sources[p] as usize];
                    }
                }
            }
            if hidden && tr.fired[j] && lw.ssr_m > 0.0 {
                // M-SSR: (V_j(T) - theta)/theta = W_j (T - t_j)/theta, written
                // over the causal set as sum_C w (T - t_i) - theta.
                let a = lw.ssr_m * hidden_norm / theta;
                let mut v = -theta;
                for p in 0..k {
                    let s = inp.sources[p] as usize;
                    let dt = t_steps - inp.times_steps[p];
                    v += row[s] * dt;
                    grow[s] += a * dt;
                    if need_in {
                        g_in[p] -= a * row[s];
                    }
                }
                out.total += a * v.max(0.0);
            }
            if hidden && lw.ssr_f > 0.0 {
                // F-SSR: hinge on the firing condition over every input that
                // arrives within the window, sum_i w (T - t_i) >= theta.
                let mut v = -theta;
                for p in 0..inp.len() {
                    v += row[inp.sources[p] as usize] * (t_steps - inp.times_steps[p]);
                }
                if v > 0.0 {
                    let a = lw.ssr_f * hidden_norm / theta;
                    out.total += a * v;
                    for p in 0..inp.len() {
                        let s = inp.sources[p] as usize;
                        grow[s] += a * (t_steps - inp.times_steps[p]);
                        if need_in {
                            g_in[p] -= a * row[s];
                        }
                    }
                }
            }
            let revive = if hidden {
                silent[l][j]
            } else {
                j == label && !tr.fired[j]
            };
            if revive && lw.fire_weight > 0.0 {
                // Able-to-fire term: hinge on theta - V(T) over all inputs
                // pushes up the weights of inputs that did arrive.
                let mut v = 0.0;
                for p in 0..inp.len() {
                    v += row[inp.sources[p] as usize] * (t_steps - inp.times_steps[p]);
                }
                if v < theta {
                    let a = lw.fire_weight / theta * if hidden { hidden_norm } else { 1.0 };
                    out.total += a * (theta - v);
                    for p in 0..inp.len() {
                        grow[inp.sources[p] as usize] -= a * (t_steps - inp.times_steps[p]);
                    }
                }
            }
        }
        if l > 0 {
            let mut prev = vec![0f32; net.layers[l - 1].outputs];
            for (p, &g) in g_in.iter().enumerate() {
                prev[inp.sources[p] as usize] += g;
            }
            g_t = prev;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_matches_the_closed_form() {
        // Inputs at 0 and 2 with weights 1 and 1, theta 3:
        // V(2) = 2 < 3; after 2 slope 2: 2 + 2 (t - 2) = 3 -> t = 2.5.
        let inp = SpikeList::from_pairs(vec![(0.0, 0), (2.0, 1)]);
        let (t, k, w) = neuron_crossing(&[1.0, 1.0], &inp, 3.0);
        assert_eq!((t, k, w), (2.5, 2, 2.0));
        // Theta 1: crosses at 1, before the second input.
        let (t, k, _) = neuron_crossing(&[1.0, 1.0], &inp, 1.0);
        assert_eq!((t, k), (1.0, 1));
        // Inhibition only: never fires.
        assert!(neuron_crossing(&[-1.0, -1.0], &inp, 1.0).0.is_infinite());
    }

    #[test]
    fn shifting_moves_sources_and_drops_what_leaves_the_grid() {
        // A 3x3 grid: pixels 0 (0,0), 4 (1,1), 8 (2,2).
        let inp = SpikeList::from_pairs(vec![(0.0, 4), (1.0, 0), (1.0, 8)]);
        let s = inp.shifted(3, 3, 1, 0);
        assert_eq!(s.sources, vec![5, 1]);
        assert_eq!(s.times_steps, vec![0.0, 1.0]);
        let s = inp.shifted(3, 3, -1, -1);
        assert_eq!(s.sources, vec![0, 4]);
        assert_eq!(inp.shifted(3, 3, 0, 0), inp);
    }

    #[test]
    fn mirroring_swaps_columns_and_keeps_the_order() {
        // 2x3 grid: 0 (0,0) -> 2, 4 (1,1) -> 4, 5 (1,2) -> 3.
        let inp = SpikeList::from_pairs(vec![(0.0, 0), (0.0, 4), (1.0, 5)]);
        let m = inp.mirrored(3);
        assert_eq!(m.sources, vec![2, 4, 3]);
        assert_eq!(m.times_steps, vec![0.0, 0.0, 1.0]);
        assert_eq!(m.mirrored(3), inp);
    }

    #[test]
    fn thinning_keeps_the_chosen_spikes_in_order() {
        let inp = SpikeList::from_pairs(vec![(0.0, 3), (1.0, 0), (1.0, 7), (2.0, 1)]);
        let mut keep = [true, false, true, false].into_iter();
        let t = inp.thinned(|| keep.next().unwrap());
        assert_eq!(t.sources, vec![3, 7]);
        assert_eq!(t.times_steps, vec![0.0, 1.0]);
        assert_eq!(inp.thinned(|| true), inp);
        assert!(inp.thinned(|| false).is_empty());
    }

    #[test]
    fn discrete_spike_is_the_ceiling_and_respects_the_window() {
        assert_eq!(spike_step(2.5, 10, TimeMode::Discrete), Some(3.0));
        assert_eq!(spike_step(3.0, 10, TimeMode::Discrete), Some(3.0));
        assert_eq!(spike_step(9.0, 10, TimeMode::Discrete), Some(9.0));
        assert_eq!(spike_step(9.2, 10, TimeMode::Discrete), None);
        assert_eq!(spike_step(2.5, 10, TimeMode::Continuous), Some(2.5));
    }

    #[test]
    fn loss_is_finite_when_the_label_neuron_is_far_behind() {
        // Output 0 fires at 1, the label (1) at about 167: its softmax
        // probability underflows in f32, the loss must not become infinite.
        let w = [1.0f32, 0.006];
        let net = NetView {
            layers: vec![LayerView {
                weights: &w,
                inputs: 1,
                outputs: 2,
                threshold: 1.0,
            }],
            time_steps: 128,
            mode: TimeMode::Discrete,
        };
        let lw = LossWeights {
            tau_steps: 0.5,
            label_smoothing: 0.0,
            cap_steps: 192.0,
            target_steps: 48.0,
            target_weight: 0.0,
            fire_weight: 0.0,
            ssr_m: 0.0,
            ssr_f: 0.0,
            count: 0.0,
        };
        let mut grads = vec![vec![0.0; 2]];
        let mut fires = vec![vec![0; 2]];
        let input = SpikeList::from_pairs(vec![(0.0, 0)]);
        let s = sample_grad(
            &net,
            input,
            1,
            &lw,
            &[vec![false; 2]],
            &mut grads,
            &mut fires,
        );
        assert!(
            s.cross_entropy.is_finite() && s.cross_entropy > 300.0,
            "{}",
            s.cross_entropy
        );
    }
}
