//! Multi-spike back-propagation through time (issue 13): the forward pass
//! of a stack of dense layers with the hardware's float semantics, the
//! surrogate-gradient backward pass with Yang 2020's switch for the
//! reset's temporal term, and the spike-count loss with its regularizers.
//!
//! **Forward** (`docs/semantics.md`, "One step"; exactly
//! `onespike_compiler::float_eval::run_discrete`, tested spike for spike).
//! Per layer, `x_t` is the potential after the step's integrate and before
//! the reset, `I_t` the current the integrate reads, `s_t` the spikes:
//!
//! ```text
//! x_t     = dv v_{t-1} + I_t - theta p_t     p_t = s_{t-1} under subtract_next, else 0
//! s_t     = H(x_t - theta)
//! v_t     = x_t - theta s_t (subtract) | x_t (1 - s_t) (zero) | x_t (subtract_next)
//! I_{t+1} = di I_t + W a_t + R s_t           a_t: the layer's input spikes of step t
//! ```
//!
//! with `dv = 1 - 2^-v_shift`, `di = 1 - 2^-i_shift` (1 for no leak, 0 for
//! `i_shift = 0`), `a_t` the input events of step `t` for the first layer
//! and the previous layer's `s_t` for the others: one step of delay per
//! layer, and recurrent spikes reach the layer's current one step later.
//! Written with `theta s` and `1 - s`, the reset is bit for bit the
//! hardware's for `s` in `{0, 1}`, and smooth for a soft spike (the
//! finite-difference test uses a logistic spike).
//!
//! **Backward**: `h(u)` is the surrogate of `ds/dx` at `u = x - theta`;
//! `g` the gradient of the loss. Going back from `t = T - 1` with
//! `gx_T = gI_T = 0`:
//!
//! ```text
//! gv_t = dv gx_{t+1}
//! gs_t = dL/ds_t (direct) + R^T gI_{t+1} + W_{l+1}^T gI^{l+1}_{t+1} + reset term
//! gx_t = h(x_t - theta) gs_t + gv_t (1 - s_t under zero, else 1)
//! gI_t = gx_t + di gI_{t+1}
//! dW  += gI_{t+1} a_t^T,  dR += gI_{t+1} s_t^T
//! ```
//!
//! The reset term (Yang 2020, "temporal surrogate BP"), dropped when the
//! reset gradient is `detached`, kept when `full`:
//! `-theta gv_t` (subtract), `-x_t gv_t` (zero), `-theta gx_{t+1}`
//! (subtract_next, whose subtraction lands in the next step undecayed).
//! So the self-loop `dx_{t+1}/dx_t` is `dv (1 - theta h)`, `dv (1 - s - x h)`
//! and `dv - theta h` with the term, `dv`, `dv (1 - s)` and `dv` without.
//!
//! **Loss** per sample, on the output layer's spike counts `n` (the
//! `spike_count` decision): cross-entropy of `softmax(n / tau)` against the
//! (smoothed) label; plus the annealed spike-count term (Allred 2020)
//! `mu_e S / (N T)` with `S` the spikes of every layer and `N` the neurons,
//! and BPSR's spike-rate regularizer `lambda (1/N) sum_j (n_j / T)^2` over
//! every neuron `j` (a squared rate: it presses hardest on the busiest
//! neurons; the exact form is our reading, `docs/training.md`).
//!
//! Dense algebra is `ndarray` (`general_mat_mul`, matrixmultiply's
//! kernels) over a chunk of samples at a time, in `f64` like the float
//! model, so the forward pass makes the same decisions as `run_discrete`.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, Array3, ArrayView2, Axis, Zip};
use onespike_compiler::neuron::{NeuronModel, Reset};
use serde::{Deserialize, Serialize};

/// The surrogate of the spike's derivative, `h(u)` at `u = x - theta`, with
/// slope `k`. The fast sigmoid and the triangle peak at 1 for `u = 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Surrogate {
    /// `1 / (1 + k |u|)^2` (SuperSpike; snnTorch's `fast_sigmoid`).
    #[default]
    FastSigmoid,
    /// `max(0, 1 - k |u|)`.
    Triangle,
    /// `k sigma(k u) (1 - sigma(k u))`: the derivative of the logistic
    /// `sigma(k u)` (snnTorch's `sigmoid`), peaking at `k / 4`.
    Sigmoid,
}

impl Surrogate {
    /// The names options and files use, in order.
    pub const NAMES: [&'static str; 3] = ["fast_sigmoid", "triangle", "sigmoid"];

    pub fn name(self) -> &'static str {
        match self {
            Surrogate::FastSigmoid => "fast_sigmoid",
            Surrogate::Triangle => "triangle",
            Surrogate::Sigmoid => "sigmoid",
        }
    }

    /// The slope used when none is given (threshold 1): snnTorch's 25 for
    /// the fast sigmoid, a support of `|u| < 1` for the triangle, 4 for the
    /// sigmoid (a peak of 1).
    pub fn default_slope(self) -> f64 {
        match self {
            Surrogate::FastSigmoid => 25.0,
            Surrogate::Triangle => 1.0,
            Surrogate::Sigmoid => 4.0,
        }
    }

    /// `h(u)` with slope `k`.
    pub fn grad(self, u: f64, k: f64) -> f64 {
        match self {
            Surrogate::FastSigmoid => {
                let d = 1.0 + k * u.abs();
                1.0 / (d * d)
            }
            Surrogate::Triangle => (1.0 - k * u.abs()).max(0.0),
            Surrogate::Sigmoid => {
                let s = logistic(k * u);
                k * s * (1.0 - s)
            }
        }
    }
}

impl std::str::FromStr for Surrogate {
    type Err = String;
    fn from_str(s: &str) -> Result<Surrogate, String> {
        match s {
            "fast_sigmoid" => Ok(Surrogate::FastSigmoid),
            "triangle" => Ok(Surrogate::Triangle),
            "sigmoid" => Ok(Surrogate::Sigmoid),
            _ => Err(format!(
                "`{s}` is not one of {}",
                Surrogate::NAMES.join(", ")
            )),
        }
    }
}

fn logistic(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Whether the backward pass keeps the reset's temporal term (Yang 2020).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetGrad {
    /// The spike is a constant in the reset path (the usual BPTT).
    #[default]
    Detached,
    /// The reset's dependence on the spike is differentiated too.
    Full,
}

impl ResetGrad {
    pub const NAMES: [&'static str; 2] = ["detached", "full"];
    pub fn name(self) -> &'static str {
        match self {
            ResetGrad::Detached => "detached",
            ResetGrad::Full => "full",
        }
    }
}

impl std::str::FromStr for ResetGrad {
    type Err = String;
    fn from_str(s: &str) -> Result<ResetGrad, String> {
        match s {
            "detached" => Ok(ResetGrad::Detached),
            "full" => Ok(ResetGrad::Full),
            _ => Err(format!("`{s}` is not one of detached, full")),
        }
    }
}

/// One layer as the passes read it.
pub struct Layer<'a> {
    /// `[outputs][inputs]`.
    pub w: ArrayView2<'a, f64>,
    /// `[outputs][outputs]`, from neuron `i` (column) to `o` (row).
    pub rec: Option<ArrayView2<'a, f64>>,
    pub theta: f64,
    pub neuron: NeuronModel,
}

/// A network as the passes read it.
pub struct Net<'a> {
    pub layers: Vec<Layer<'a>>,
    pub time_steps: usize,
}

/// What the forward pass keeps for the backward pass: per layer, `x_t`
/// (before the reset) and `s_t`, shaped `(T, batch, neurons)`.
pub struct Trace {
    pub x: Vec<Array3<f64>>,
    pub s: Vec<Array3<f64>>,
}

impl Trace {
    /// Spikes per sample and neuron of layer `l`, `(batch, neurons)`.
    pub fn counts(&self, l: usize) -> Array2<f64> {
        self.s[l].sum_axis(Axis(0))
    }
}

/// The backward pass's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backprop {
    pub surrogate: Surrogate,
    pub slope: f64,
    pub reset_grad: ResetGrad,
}

fn decays(n: &NeuronModel) -> (f64, f64) {
    (
        NeuronModel::decay_of_shift(n.v_shift),
        NeuronModel::decay_of_shift(n.i_shift),
    )
}

/// The forward pass on `input`, `(T, batch, inputs)` (1 where a channel
/// spikes at a step): the hardware's float semantics.
pub fn forward(net: &Net, input: &Array3<f64>) -> Trace {
    forward_with(net, input, None)
}

/// The forward pass with a hard spike, or with the logistic spike
/// `sigma(k u)` when `soft = Some(k)` (smooth, for finite differences).
pub(crate) fn forward_with(net: &Net, input: &Array3<f64>, soft: Option<f64>) -> Trace {
    let (t_max, b) = (net.time_steps, input.shape()[1]);
    let shape = |l: &Layer| (b, l.w.nrows());
    let mut v: Vec<Array2<f64>> = net.layers.iter().map(|l| Array2::zeros(shape(l))).collect();
    let mut cur = v.clone();
    let mut prev = v.clone();
    let mut xs: Vec<Array3<f64>> = net
        .layers
        .iter()
        .map(|l| Array3::zeros((t_max, b, l.w.nrows())))
        .collect();
    let mut ss = xs.clone();
    for t in 0..t_max {
        for (l, layer) in net.layers.iter().enumerate() {
            let (dv, di) = decays(&layer.neuron);
            let theta = layer.theta;
            let reset = layer.neuron.reset;
            let next = reset == Reset::SubtractNext;
            let mut x = xs[l].index_axis_mut(Axis(0), t);
            let mut s = ss[l].index_axis_mut(Axis(0), t);
            Zip::from(&mut x)
                .and(&mut s)
                .and(&mut v[l])
                .and(&cur[l])
                .and(&prev[l])
                .for_each(|x, s, v, &c, &p| {
                    // The order of run_discrete: v * dv + I, then the
                    // pending threshold (theta * 0 = 0 is exact).
                    let mut xv = *v * dv + c;
                    if next {
                        xv -= theta * p;
                    }
                    let sv = match soft {
                        None => f64::from(u8::from(xv >= theta)),
                        Some(k) => logistic(k * (xv - theta)),
                    };
                    *x = xv;
                    *s = sv;
                    *v = match reset {
                        Reset::Subtract => xv - theta * sv,
                        Reset::Zero => xv * (1.0 - sv),
                        _ => xv,
                    };
                });
            cur[l] *= di;
            prev[l].assign(&s);
        }
        for (l, layer) in net.layers.iter().enumerate() {
            let a = if l == 0 {
                input.index_axis(Axis(0), t)
            } else {
                ss[l - 1].index_axis(Axis(0), t)
            };
            general_mat_mul(1.0, &a, &layer.w.t(), 1.0, &mut cur[l]);
            if let Some(r) = &layer.rec {
                general_mat_mul(1.0, &ss[l].index_axis(Axis(0), t), &r.t(), 1.0, &mut cur[l]);
            }
        }
    }
    Trace { x: xs, s: ss }
}

/// Weight gradients: per layer, the feed-forward matrix's and (for a
/// recurrent layer) the recurrent matrix's, shaped like the weights.
pub struct Grads {
    pub w: Vec<Array2<f64>>,
    pub rec: Vec<Option<Array2<f64>>>,
}

/// The backward pass: `direct[l]` is `dL/ds` of layer `l`, `(T, batch,
/// neurons)`, as the loss gives it; returns the weight gradients summed
/// over the batch.
pub fn backward(
    net: &Net,
    input: &Array3<f64>,
    tr: &Trace,
    direct: &[Array3<f64>],
    bp: &Backprop,
) -> Grads {
    let (t_max, b) = (net.time_steps, input.shape()[1]);
    let n_layers = net.layers.len();
    let mut gw: Vec<Array2<f64>> = net
        .layers
        .iter()
        .map(|l| Array2::zeros(l.w.dim()))
        .collect();
    let mut gr: Vec<Option<Array2<f64>>> = net
        .layers
        .iter()
        .map(|l| l.rec.as_ref().map(|r| Array2::zeros(r.dim())))
        .collect();
    let zeros = || -> Vec<Array2<f64>> {
        net.layers
            .iter()
            .map(|l| Array2::zeros((b, l.w.nrows())))
            .collect()
    };
    let (mut gx_next, mut gi_next) = (zeros(), zeros());
    let full = bp.reset_grad == ResetGrad::Full;
    for t in (0..t_max).rev() {
        let mut gx_now = Vec::with_capacity(n_layers);
        let mut gi_now = Vec::with_capacity(n_layers);
        for (l, layer) in net.layers.iter().enumerate() {
            let s_t = tr.s[l].index_axis(Axis(0), t);
            let x_t = tr.x[l].index_axis(Axis(0), t);
            if t + 1 < t_max {
                let a = if l == 0 {
                    input.index_axis(Axis(0), t)
                } else {
                    tr.s[l - 1].index_axis(Axis(0), t)
                };
                general_mat_mul(1.0, &gi_next[l].t(), &a, 1.0, &mut gw[l]);
                if let Some(g) = &mut gr[l] {
                    general_mat_mul(1.0, &gi_next[l].t(), &s_t, 1.0, g);
                }
            }
            let mut gs = direct[l].index_axis(Axis(0), t).to_owned();
            if let Some(r) = &layer.rec {
                general_mat_mul(1.0, &gi_next[l], r, 1.0, &mut gs);
            }
            if l + 1 < n_layers {
                general_mat_mul(1.0, &gi_next[l + 1], &net.layers[l + 1].w, 1.0, &mut gs);
            }
            let (dv, di) = decays(&layer.neuron);
            let (theta, reset) = (layer.theta, layer.neuron.reset);
            let mut gx = Array2::zeros((b, layer.w.nrows()));
            Zip::from(&mut gx)
                .and(&gs)
                .and(&x_t)
                .and(&s_t)
                .and(&gx_next[l])
                .for_each(|gx, &gs, &x, &s, &gxn| {
                    let gv = dv * gxn;
                    let term = match reset {
                        Reset::Subtract => -theta * gv,
                        Reset::Zero => -x * gv,
                        Reset::SubtractNext => -theta * gxn,
                        Reset::Once => 0.0,
                    };
                    let gs = if full { gs + term } else { gs };
                    let keep = if reset == Reset::Zero { 1.0 - s } else { 1.0 };
                    *gx = gs * bp.surrogate.grad(x - theta, bp.slope) + gv * keep;
                });
            let gi = &gx + &(&gi_next[l] * di);
            gx_now.push(gx);
            gi_now.push(gi);
        }
        gx_next = gx_now;
        gi_next = gi_now;
    }
    Grads { w: gw, rec: gr }
}

/// The loss's settings for one epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loss {
    /// Softmax temperature over output spike counts.
    pub tau: f64,
    pub label_smoothing: f64,
    /// Annealed spike-count term's weight this epoch (Allred 2020).
    pub count_weight: f64,
    /// BPSR spike-rate regularizer's weight.
    pub rate_weight: f64,
}

/// A chunk's loss figures (sums over its samples).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LossSums {
    pub total: f64,
    pub cross_entropy: f64,
    pub correct: usize,
    /// Spikes per layer and neuron, summed over the samples.
    pub spikes: Vec<Vec<f64>>,
}

/// The `spike_count` decision: most output spikes, ties to the lowest index.
pub fn decide(counts: ndarray::ArrayView1<f64>) -> usize {
    let mut best = 0;
    for (j, &n) in counts.iter().enumerate() {
        if n > counts[best] {
            best = j;
        }
    }
    best
}

/// The loss of a forward pass and its direct gradients `dL/ds` per layer.
pub fn loss(net: &Net, tr: &Trace, labels: &[usize], lw: &Loss) -> (LossSums, Vec<Array3<f64>>) {
    let t_max = net.time_steps as f64;
    let n_layers = net.layers.len();
    let neurons: usize = net.layers.iter().map(|l| l.w.nrows()).sum();
    let mut sums = LossSums {
        spikes: Vec::with_capacity(n_layers),
        ..LossSums::default()
    };
    let mut direct: Vec<Array3<f64>> = tr.s.iter().map(|s| Array3::zeros(s.dim())).collect();
    let (count_g, rate_c) = (
        lw.count_weight / (neurons as f64 * t_max),
        lw.rate_weight / (neurons as f64 * t_max * t_max),
    );
    for (l, d) in direct.iter_mut().enumerate() {
        let counts = tr.counts(l);
        sums.spikes.push(counts.sum_axis(Axis(0)).to_vec());
        let total: f64 = counts.sum();
        let squares: f64 = counts.iter().map(|n| n * n).sum();
        sums.total += count_g * total + rate_c * squares;
        // The same gradient at every step: the terms depend on the counts.
        let g = counts.mapv(|n| count_g + 2.0 * rate_c * n);
        for mut dt in d.axis_iter_mut(Axis(0)) {
            dt += &g;
        }
    }
    let out = tr.counts(n_layers - 1);
    let classes = out.ncols();
    let last = direct.last_mut().expect("at least one layer");
    for (k, &label) in labels.iter().enumerate() {
        let n = out.row(k);
        let z = n.mapv(|c| c / lw.tau);
        let zmax = z.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let e = z.mapv(|v| (v - zmax).exp());
        let p = &e / e.sum();
        let eps = lw.label_smoothing;
        let y = |j: usize| (1.0 - eps) * f64::from(u8::from(j == label)) + eps / classes as f64;
        let ce: f64 = (0..classes).map(|j| -y(j) * p[j].max(1e-300).ln()).sum();
        sums.cross_entropy += ce;
        sums.total += ce;
        sums.correct += usize::from(decide(n) == label);
        let g: Vec<f64> = (0..classes).map(|j| (p[j] - y(j)) / lw.tau).collect();
        for mut dt in last.axis_iter_mut(Axis(0)) {
            let mut row = dt.row_mut(k);
            for (j, x) in row.iter_mut().enumerate() {
                *x += g[j];
            }
        }
    }
    (sums, direct)
}

/// The input of a chunk, `(T, batch, inputs)`, from `(step, channel)`
/// events per sample; events at or after `T` or beyond the inputs never
/// arrive (as in the float model).
pub fn input_tensor<'a>(
    samples: impl ExactSizeIterator<Item = &'a [(u32, u32)]>,
    time_steps: usize,
    inputs: usize,
) -> Array3<f64> {
    let mut a = Array3::zeros((time_steps, samples.len(), inputs));
    for (k, events) in samples.enumerate() {
        for &(t, c) in events {
            if (t as usize) < time_steps && (c as usize) < inputs {
                a[[t as usize, k, c as usize]] += 1.0;
            }
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn lif(v_shift: u32, i_shift: u32, reset: Reset) -> NeuronModel {
        NeuronModel {
            v_shift: Some(v_shift),
            i_shift: Some(i_shift),
            reset,
        }
    }

    /// One input, one neuron (w = 0.6, theta = 1, decay 0.5, instant
    /// current, reset by subtraction), input spikes at steps 0, 1, 2 and
    /// T = 4, loss = the spike count, fast sigmoid with slope 1:
    /// `x = 0, 0.6, 0.9, 1.05` (a spike at step 3), `h = 1/(1+|x-1|)^2`.
    /// By hand, `gx_3 = h_3`; then `gv_t = 0.5 gx_{t+1}`,
    /// `gs_t = 1 (- theta gv_t with the term)`, `gx_t = h_t gs_t + gv_t`,
    /// and `dW = gx_1 + gx_2 + gx_3` (the current of step t+1 carries a_t).
    #[test]
    fn the_backward_pass_matches_the_hand_computation_for_both_reset_settings() {
        let w = array![[0.6]];
        let net = Net {
            layers: vec![Layer {
                w: w.view(),
                rec: None,
                theta: 1.0,
                neuron: lif(1, 0, Reset::Subtract),
            }],
            time_steps: 4,
        };
        let mut input = Array3::zeros((4, 1, 1));
        for t in 0..3 {
            input[[t, 0, 0]] = 1.0;
        }
        let tr = forward(&net, &input);
        let x: Vec<f64> = tr.x[0].iter().copied().collect();
        let s: Vec<f64> = tr.s[0].iter().copied().collect();
        assert_eq!(s, vec![0.0, 0.0, 0.0, 1.0]);
        for (a, b) in x.iter().zip([0.0, 0.6, 0.9, 1.05]) {
            assert!((a - b).abs() < 1e-12, "{x:?}");
        }
        let direct = vec![Array3::from_elem((4, 1, 1), 1.0)];
        let h = |u: f64| 1.0 / (1.0 + u.abs()).powi(2);
        let hs: Vec<f64> = x.iter().map(|&x| h(x - 1.0)).collect();
        for (rg, want, want_gx) in [
            (
                ResetGrad::Detached,
                3.3371750904218436,
                [1.1501845917430333, 1.2799610202207603, 0.9070294784580498],
            ),
            (
                ResetGrad::Full,
                2.5440597332990653,
                [0.7318748042310195, 0.9051554506099961, 0.9070294784580498],
            ),
        ] {
            let bp = Backprop {
                surrogate: Surrogate::FastSigmoid,
                slope: 1.0,
                reset_grad: rg,
            };
            let g = backward(&net, &input, &tr, &direct, &bp);
            assert!((g.w[0][[0, 0]] - want).abs() < 1e-12, "{rg:?}: {}", g.w[0]);
            // The same numbers by the recursion written out.
            let mut gxn = 0.0;
            let mut gx = [0.0; 4];
            for t in (0..4).rev() {
                let gv = 0.5 * gxn;
                let gs = 1.0 - if rg == ResetGrad::Full { gv } else { 0.0 };
                gx[t] = gs * hs[t] + gv;
                gxn = gx[t];
            }
            for (a, b) in gx[1..].iter().zip(want_gx) {
                assert!((a - b).abs() < 1e-12, "{rg:?}: {gx:?}");
            }
        }
    }

    /// The reset term of each reset kind, by hand: w = 1.2, an input spike
    /// at step 0, T = 3, so `x_1 = 1.2` spikes; the loss is `s_2` alone, so
    /// `dW = gx_1`, with `gx_1 = h(x_1 - 1) gs_1 + gv_1 keep`, `gv_1 = 0.5 gx_2`,
    /// `gs_1` the reset term (full) or 0 (detached).
    #[test]
    fn zero_and_subtract_next_reset_terms_by_hand() {
        // x_1 = w = 1.2 (spike), x_2 = dv v_1 + 0 (- theta for subtract_next).
        // Loss = s_2 only. dW = gx_1 (input at step 0 reaches x_1).
        let w = array![[1.2]];
        let mut input = Array3::zeros((3, 1, 1));
        input[[0, 0, 0]] = 1.0;
        let mut direct = Array3::zeros((3, 1, 1));
        direct[[2, 0, 0]] = 1.0;
        let k = 1.0;
        let h = |u: f64| 1.0 / (1.0 + k * u.abs()).powi(2);
        for reset in [Reset::Zero, Reset::SubtractNext, Reset::Subtract] {
            let net = Net {
                layers: vec![Layer {
                    w: w.view(),
                    rec: None,
                    theta: 1.0,
                    neuron: lif(1, 0, reset),
                }],
                time_steps: 3,
            };
            let tr = forward(&net, &input);
            let x1 = tr.x[0][[1, 0, 0]];
            let x2 = tr.x[0][[2, 0, 0]];
            assert_eq!(x1, 1.2);
            assert_eq!(tr.s[0][[1, 0, 0]], 1.0);
            // zero: v_1 = 0, x_2 = 0; subtract_next: x_2 = 0.6 - 1; subtract: 0.1.
            let want_x2 = match reset {
                Reset::Zero => 0.0,
                Reset::SubtractNext => 0.6 - 1.0,
                _ => 0.5 * (1.2 - 1.0),
            };
            assert!((x2 - want_x2).abs() < 1e-12, "{reset:?}: {x2}");
            let gx2 = h(x2 - 1.0);
            for rg in [ResetGrad::Detached, ResetGrad::Full] {
                let full = rg == ResetGrad::Full;
                // gx_1 = h(x_1 - 1) gs_1 + gv_1 keep; gv_1 = 0.5 gx_2.
                let gv1 = 0.5 * gx2;
                let (keep, term) = match reset {
                    Reset::Zero => (0.0, -x1 * gv1),
                    Reset::SubtractNext => (1.0, -gx2),
                    _ => (1.0, -gv1),
                };
                let gs1 = if full { term } else { 0.0 };
                let want = h(x1 - 1.0) * gs1 + gv1 * keep;
                let bp = Backprop {
                    surrogate: Surrogate::FastSigmoid,
                    slope: k,
                    reset_grad: rg,
                };
                let g = backward(&net, &input, &tr, &[direct.clone()], &bp);
                assert!(
                    (g.w[0][[0, 0]] - want).abs() < 1e-12,
                    "{reset:?} {rg:?}: {} vs {want}",
                    g.w[0][[0, 0]]
                );
            }
        }
    }

    /// With a logistic spike the network is smooth, and the `full`
    /// backward pass (with the matching surrogate) is its exact gradient:
    /// central differences agree on every weight, for every reset, with
    /// two layers, a recurrent one and a leaky current.
    #[test]
    fn the_full_gradient_matches_finite_differences_on_a_soft_network() {
        let k = 2.0;
        let w0 = array![[0.8, -0.3, 0.5], [0.2, 0.9, -0.4]];
        let r0 = array![[0.1, -0.6], [0.7, 0.05]];
        let w1 = array![[0.9, -0.2], [-0.5, 1.1]];
        let mut input = Array3::zeros((6, 2, 3));
        for (t, k, c) in [
            (0, 0, 0),
            (1, 0, 1),
            (2, 0, 0),
            (0, 1, 2),
            (1, 1, 2),
            (3, 1, 1),
        ] {
            input[[t, k, c]] = 1.0;
        }
        let labels = [1usize, 0];
        let lw = Loss {
            tau: 1.0,
            label_smoothing: 0.0,
            count_weight: 0.3,
            rate_weight: 0.7,
        };
        for reset in [Reset::Subtract, Reset::Zero, Reset::SubtractNext] {
            let neuron = NeuronModel {
                v_shift: Some(1),
                i_shift: Some(1),
                reset,
            };
            let eval = |w0: &Array2<f64>, r0: &Array2<f64>, w1: &Array2<f64>| {
                let net = Net {
                    layers: vec![
                        Layer {
                            w: w0.view(),
                            rec: Some(r0.view()),
                            theta: 1.0,
                            neuron,
                        },
                        Layer {
                            w: w1.view(),
                            rec: None,
                            theta: 1.0,
                            neuron,
                        },
                    ],
                    time_steps: 6,
                };
                let tr = forward_with(&net, &input, Some(k));
                let (sums, direct) = loss(&net, &tr, &labels, &lw);
                let bp = Backprop {
                    surrogate: Surrogate::Sigmoid,
                    slope: k,
                    reset_grad: ResetGrad::Full,
                };
                (sums.total, backward(&net, &input, &tr, &direct, &bp))
            };
            let (_, g) = eval(&w0, &r0, &w1);
            let eps = 1e-6;
            let mut checked = 0;
            for m in 0..3 {
                let base = [&w0, &r0, &w1][m];
                let analytic = [&g.w[0], g.rec[0].as_ref().unwrap(), &g.w[1]][m];
                for idx in ndarray::indices(base.dim()) {
                    let mut ms = [w0.clone(), r0.clone(), w1.clone()];
                    ms[m][idx] += eps;
                    let up = eval(&ms[0], &ms[1], &ms[2]).0;
                    ms[m][idx] -= 2.0 * eps;
                    let down = eval(&ms[0], &ms[1], &ms[2]).0;
                    let fd = (up - down) / (2.0 * eps);
                    let a = analytic[idx];
                    assert!(
                        (fd - a).abs() < 1e-6 * (1.0 + fd.abs()),
                        "{reset:?}, matrix {m} {idx:?}: fd {fd}, backward {a}"
                    );
                    checked += 1;
                }
            }
            assert_eq!(checked, 6 + 4 + 4);
        }
    }

    #[test]
    fn surrogates_peak_where_documented_and_names_read_back() {
        for name in Surrogate::NAMES {
            let s: Surrogate = name.parse().unwrap();
            assert_eq!(s.name(), name);
            let k = s.default_slope();
            let peak = if s == Surrogate::Sigmoid {
                k / 4.0
            } else {
                1.0
            };
            assert!((s.grad(0.0, k) - peak).abs() < 1e-12);
            assert!(s.grad(0.5, k) < peak && (s.grad(-0.5, k) - s.grad(0.5, k)).abs() < 1e-12);
        }
        assert_eq!(Surrogate::Triangle.grad(1.5, 1.0), 0.0);
        assert!("tri".parse::<Surrogate>().unwrap_err().contains("triangle"));
        assert_eq!("full".parse::<ResetGrad>(), Ok(ResetGrad::Full));
    }
}
