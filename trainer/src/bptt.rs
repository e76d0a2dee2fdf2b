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
//! Everything is `f64` like the float model, over a chunk of samples at a
//! time. Spikes are binary and sparse (rate input ~13 % of channels per
//! step, hidden layers ~2 spikes per neuron in 22 steps), so products with
//! spikes go through their active entries ([`Active`]): a step's current
//! is the sum of the weight columns of the active inputs (a gather-add, in
//! ascending input order onto the decayed current: `run_discrete`'s very
//! additions), and the weight gradient `sum_t gI_{t+1} a_t^T` only touches
//! the columns of active inputs (a scatter, regrouped by input). Products
//! with dense operands (the surrogate-gradient matrices `gI W`, `gI R`)
//! and spike products above [`SPARSE_BELOW`] density stay dense `ndarray`
//! (`general_mat_mul`, matrixmultiply's kernels); the dense weight
//! gradient is one product over all steps stacked. [`Algebra`] forces
//! either path (tests, `examples/bptt_density.rs`).

use ndarray::linalg::general_mat_mul;
use ndarray::{
    s, Array2, Array3, ArrayView2, ArrayView3, ArrayViewMut2, Axis, CowArray, Ix2, ShapeBuilder,
    Zip,
};
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

/// How the passes multiply by a layer's input spikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algebra {
    /// Per layer (and, in the forward pass, per step): sparse below
    /// [`SPARSE_BELOW`] active inputs, dense at or above it.
    #[default]
    Auto,
    /// Always `general_mat_mul` (matrixmultiply's kernels).
    Dense,
    /// Always the gather-add over active inputs.
    Sparse,
}

/// The density of active inputs (fraction of `(sample, channel)` pairs
/// with a spike at a step, or over all steps for a weight gradient) under
/// which [`Algebra::Auto`] takes the sparse path. The gather-add costs one
/// add per active input and output neuron, the dense product one
/// multiply-add per input and output neuron at a few times the throughput.
/// Measured with `examples/bptt_density.rs` (784-400-10, 8 samples, T =
/// 22, one thread): sparse is 2-6x faster up to 20 %, still ahead at 40 %,
/// even in the forward pass and behind in the backward pass at 50 %.
pub const SPARSE_BELOW: f64 = 0.4;

/// The nonzero entries of a `(T, batch, n)` tensor of spikes, per step
/// and sample, in ascending channel order (the order in which
/// `run_discrete` delivers a step's events): row `t * batch + k` is
/// `idx[start[r]..start[r + 1]]` with values `val[..]` (1 for a spike;
/// a soft spike or a repeated input event otherwise).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Active {
    start: Vec<usize>,
    idx: Vec<u32>,
    val: Vec<f64>,
    batch: usize,
    width: usize,
    /// Every value is exactly 1.
    binary: bool,
}

impl Active {
    fn new(steps: usize, batch: usize, width: usize) -> Active {
        let mut start = Vec::with_capacity(steps * batch + 1);
        start.push(0);
        Active {
            start,
            idx: Vec::new(),
            val: Vec::new(),
            batch,
            width,
            binary: true,
        }
    }

    /// The active channels of a `(T, batch, n)` tensor.
    pub fn of(a: &Array3<f64>) -> Active {
        let (t_max, b, n) = a.dim();
        let mut act = Active::new(t_max, b, n);
        for at in a.outer_iter() {
            act.push_step(at);
        }
        act
    }

    /// Appends the rows of one step, `(batch, n)`.
    fn push_step(&mut self, at: ArrayView2<f64>) {
        for row in at.outer_iter() {
            for (c, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    self.idx.push(c as u32);
                    self.val.push(v);
                    self.binary &= v == 1.0;
                }
            }
            self.start.push(self.idx.len());
        }
    }

    /// Steps recorded.
    pub fn steps(&self) -> usize {
        (self.start.len() - 1) / self.batch.max(1)
    }

    /// Active channels of sample `k` at step `t`, with their values.
    pub fn row(&self, t: usize, k: usize) -> (&[u32], &[f64]) {
        let r = t * self.batch + k;
        let (a, b) = (self.start[r], self.start[r + 1]);
        (&self.idx[a..b], &self.val[a..b])
    }

    /// Active entries at step `t` over all samples.
    pub fn nnz_at(&self, t: usize) -> usize {
        self.start[(t + 1) * self.batch] - self.start[t * self.batch]
    }

    /// The fraction of entries that are active at step `t`.
    pub fn density_at(&self, t: usize) -> f64 {
        self.nnz_at(t) as f64 / (self.batch * self.width).max(1) as f64
    }

    /// The fraction of entries that are active over steps `0..steps`.
    pub fn density_until(&self, steps: usize) -> f64 {
        let nnz = self.start[steps * self.batch] as f64;
        nnz / (steps * self.batch * self.width).max(1) as f64
    }

    fn sparse(&self, density: f64, algebra: Algebra) -> bool {
        match algebra {
            Algebra::Auto => density < SPARSE_BELOW,
            Algebra::Dense => false,
            Algebra::Sparse => true,
        }
    }
}

/// Outputs per block of the sparse kernels: a block's accumulators stay
/// in registers (8 AVX2 registers of 4), and the block's slice of the
/// streamed matrix (`32 x 8` bytes per row) stays in L2 while every sample
/// of a chunk passes over it.
const BLOCK: usize = 32;

/// `out += sum_i v_i m[rows_i * stride + j0 ..][.. out.len()]` (`vals =
/// None`: every `v_i = 1`), for `out` at most [`BLOCK`] long. Each element
/// of `out` receives its terms one by one in list order, so the result is
/// the sequential sum's to the bit.
#[inline(always)]
fn add_rows_kernel(
    out: &mut [f64],
    m: &[f64],
    stride: usize,
    j0: usize,
    rows: &[u32],
    vals: Option<&[f64]>,
) {
    if out.len() == BLOCK {
        let mut acc = [0.0; BLOCK];
        acc.copy_from_slice(out);
        match vals {
            None => {
                for &r in rows {
                    let w = &m[r as usize * stride + j0..][..BLOCK];
                    for i in 0..BLOCK {
                        acc[i] += w[i];
                    }
                }
            }
            Some(vals) => {
                for (&r, &v) in rows.iter().zip(vals) {
                    let w = &m[r as usize * stride + j0..][..BLOCK];
                    for i in 0..BLOCK {
                        acc[i] += v * w[i];
                    }
                }
            }
        }
        out.copy_from_slice(&acc);
        return;
    }
    let n = out.len();
    for (k, &r) in rows.iter().enumerate() {
        let w = &m[r as usize * stride + j0..][..n];
        match vals {
            None => out.iter_mut().zip(w).for_each(|(o, &w)| *o += w),
            Some(v) => out.iter_mut().zip(w).for_each(|(o, &w)| *o += v[k] * w),
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn add_rows_avx2(
    out: &mut [f64],
    m: &[f64],
    stride: usize,
    j0: usize,
    rows: &[u32],
    vals: Option<&[f64]>,
) {
    add_rows_kernel(out, m, stride, j0, rows, vals)
}

/// [`add_rows_kernel`] with AVX2 where the processor has it (the same
/// additions in the same order, only wider: IEEE sums, no fused
/// multiply-add, so the same bits either way).
fn add_rows(
    out: &mut [f64],
    m: &[f64],
    stride: usize,
    j0: usize,
    rows: &[u32],
    vals: Option<&[f64]>,
) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2 (checked just above).
        unsafe { add_rows_avx2(out, m, stride, j0, rows, vals) };
        return;
    }
    add_rows_kernel(out, m, stride, j0, rows, vals)
}

/// `out[k, :] += sum over active c of v_c m[c, :]` for every sample `k`
/// of step `t`, adding in ascending `c` (so, for spikes of value 1, the
/// very additions `run_discrete` makes, in its order). `m` is
/// `[inputs][outputs]`, standard layout. Blocks of outputs outside,
/// samples inside, so that a block of `m` is read from L2 by every sample.
fn gather_add(act: &Active, t: usize, m: &ArrayView2<f64>, out: &mut Array2<f64>) {
    let m = m.as_slice().expect("a standard-layout matrix");
    let n = out.ncols();
    let out = out.as_slice_mut().expect("a standard-layout current");
    for j0 in (0..n).step_by(BLOCK) {
        let j1 = (j0 + BLOCK).min(n);
        for (k, o) in out.chunks_exact_mut(n).enumerate() {
            let (idx, val) = act.row(t, k);
            add_rows(&mut o[j0..j1], m, n, j0, idx, (!act.binary).then_some(val));
        }
    }
}

/// `gt[c, :] += sum over t < steps, k, active c of v_c g[t + 1, k, :]`:
/// the transposed weight gradient `sum_t a_t^T g_{t+1}` from the active
/// entries of `a` alone. The entries are regrouped by channel first (a
/// counting sort), so each row of `gt` is a register-blocked sum of the
/// rows of `g` that its channel was active for, in order of `t`, then `k`.
fn scatter_grad(act: &Active, steps: usize, g: &Array3<f64>, target: Target) {
    let (b, n_in) = (act.batch, act.width);
    let end = act.start[steps * b];
    let mut first = vec![0usize; n_in + 1];
    for &c in &act.idx[..end] {
        first[c as usize + 1] += 1;
    }
    for c in 0..n_in {
        first[c + 1] += first[c];
    }
    let mut fill = first.clone();
    let mut rows = vec![0u32; end];
    let mut vals = if act.binary {
        Vec::new()
    } else {
        vec![0.0; end]
    };
    for r in 0..steps * b {
        // Row r = t * b + k of `a` pairs with row (t + 1) * b + k of `g`.
        for e in act.start[r]..act.start[r + 1] {
            let c = act.idx[e] as usize;
            rows[fill[c]] = (r + b) as u32;
            if !act.binary {
                vals[fill[c]] = act.val[e];
            }
            fill[c] += 1;
        }
    }
    let n = g.shape()[2];
    let g = g.as_slice().expect("a standard-layout gradient");
    let sum = |gts: &mut [f64]| {
        for j0 in (0..n).step_by(BLOCK) {
            let j1 = (j0 + BLOCK).min(n);
            for (c, row) in gts.chunks_exact_mut(n).enumerate() {
                let (lo, hi) = (first[c], first[c + 1]);
                if lo < hi {
                    let v = (!act.binary).then(|| &vals[lo..hi]);
                    add_rows(&mut row[j0..j1], g, n, j0, &rows[lo..hi], v);
                }
            }
        }
    };
    match target {
        Target::F64(mut gt) => match gt.as_slice_mut() {
            Some(gts) => sum(gts),
            None => {
                let mut own = gt.as_standard_layout().into_owned();
                sum(own.as_slice_mut().expect("an owned matrix"));
                gt.assign(&own);
            }
        },
        Target::F32(buf) => {
            // Each block sums in f64 registers from zero, then lands in
            // the row-major buffer: no f64 matrix in memory.
            let mut tmp = [0.0; BLOCK];
            for j0 in (0..n).step_by(BLOCK) {
                let w = (j0 + BLOCK).min(n) - j0;
                for c in 0..n_in {
                    let (lo, hi) = (first[c], first[c + 1]);
                    if lo < hi {
                        let v = (!act.binary).then(|| &vals[lo..hi]);
                        tmp[..w].fill(0.0);
                        add_rows(&mut tmp[..w], g, n, j0, &rows[lo..hi], v);
                        for (i, &x) in tmp[..w].iter().enumerate() {
                            buf[(j0 + i) * n_in + c] += x as f32;
                        }
                    }
                }
            }
        }
    }
}

/// Where a weight gradient goes.
enum Target<'a> {
    /// Added to an f64 matrix, `[inputs][outputs]`.
    F64(ArrayViewMut2<'a, f64>),
    /// Summed in f64 over the chunk, then added in f32 to a row-major
    /// `[outputs][inputs]` buffer.
    F32(&'a mut [f32]),
}

/// `sum_{t < steps} a_t^T g_{t+1}` (`[inputs][outputs]`) into `target`:
/// the sparse scatter or one dense product over the stacked steps.
fn weight_grad(
    a: ArrayView3<f64>,
    act: &Active,
    g: &Array3<f64>,
    steps: usize,
    algebra: Algebra,
    target: Target,
) {
    let (b, n_in, n_out) = (a.shape()[1], a.shape()[2], g.shape()[2]);
    if steps == 0 {
        return;
    }
    if act.sparse(act.density_until(steps), algebra) {
        scatter_grad(act, steps, g, target);
    } else {
        let a2 = a
            .slice(s![0..steps, .., ..])
            .into_shape_with_order((steps * b, n_in))
            .expect("contiguous steps");
        let g2 = g
            .slice(s![1..=steps, .., ..])
            .into_shape_with_order((steps * b, n_out))
            .expect("contiguous steps");
        match target {
            Target::F64(mut gt) => general_mat_mul(1.0, &a2.t(), &g2, 1.0, &mut gt),
            Target::F32(buf) => {
                let mut gt = Array2::zeros((n_in, n_out));
                general_mat_mul(1.0, &a2.t(), &g2, 0.0, &mut gt);
                for ((c, j), &x) in gt.indexed_iter() {
                    buf[j * n_in + c] += x as f32;
                }
            }
        }
    }
}

/// `m^T` in standard layout: a view when `m` is stored transposed
/// (column-major), else a copy.
fn transposed(m: ArrayView2<'_, f64>) -> CowArray<'_, f64, Ix2> {
    let t = m.reversed_axes();
    if t.is_standard_layout() {
        CowArray::from(t)
    } else {
        CowArray::from(t.as_standard_layout().into_owned())
    }
}

/// What the forward pass keeps for the backward pass: per layer, `x_t`
/// (before the reset) and `s_t`, shaped `(T, batch, neurons)`, and the
/// active entries of the input and of every layer's spikes.
pub struct Trace {
    pub x: Vec<Array3<f64>>,
    pub s: Vec<Array3<f64>>,
    /// The input's active channels.
    pub input_active: Active,
    /// Per layer, its spikes' active neurons.
    pub active: Vec<Active>,
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
    forward_with(net, input, None, Algebra::Auto)
}

/// [`forward`] with the products taken as `algebra` says.
pub fn forward_using(net: &Net, input: &Array3<f64>, algebra: Algebra) -> Trace {
    forward_with(net, input, None, algebra)
}

/// The forward pass with a hard spike, or with the logistic spike
/// `sigma(k u)` when `soft = Some(k)` (smooth, for finite differences).
///
/// A step's current from binary spikes is a sum of weight columns, one per
/// active input: the sparse path adds them in ascending input order onto
/// the decayed current, as `run_discrete` does, so it makes the float
/// model's very additions; the dense path (`general_mat_mul`) sums the
/// same terms in matrixmultiply's order, equal up to rounding.
pub(crate) fn forward_with(
    net: &Net,
    input: &Array3<f64>,
    soft: Option<f64>,
    algebra: Algebra,
) -> Trace {
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
    // `[inputs][outputs]`: a weight column per input is a contiguous row
    // (no copy when the caller's matrix is stored that way).
    let wt: Vec<CowArray<f64, Ix2>> = net.layers.iter().map(|l| transposed(l.w)).collect();
    let rt: Vec<Option<CowArray<f64, Ix2>>> =
        net.layers.iter().map(|l| l.rec.map(transposed)).collect();
    let input_active = Active::of(input);
    let mut active: Vec<Active> = net
        .layers
        .iter()
        .map(|l| Active::new(t_max, b, l.w.nrows()))
        .collect();
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
            active[l].push_step(s.view());
        }
        for l in 0..net.layers.len() {
            let (a, act) = if l == 0 {
                (input.index_axis(Axis(0), t), &input_active)
            } else {
                (ss[l - 1].index_axis(Axis(0), t), &active[l - 1])
            };
            if act.sparse(act.density_at(t), algebra) {
                gather_add(act, t, &wt[l].view(), &mut cur[l]);
            } else {
                general_mat_mul(1.0, &a, &wt[l], 1.0, &mut cur[l]);
            }
            if let Some(r) = &rt[l] {
                let own = &active[l];
                if own.sparse(own.density_at(t), algebra) {
                    gather_add(own, t, &r.view(), &mut cur[l]);
                } else {
                    general_mat_mul(1.0, &ss[l].index_axis(Axis(0), t), r, 1.0, &mut cur[l]);
                }
            }
        }
    }
    Trace {
        x: xs,
        s: ss,
        input_active,
        active,
    }
}

/// Weight gradients: per layer, the feed-forward matrix's and (for a
/// recurrent layer) the recurrent matrix's, shaped like the weights
/// (`[outputs][inputs]`) and stored column-major (the passes accumulate
/// them transposed; index them, or iterate `.t()` for memory order).
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
    backward_using(net, input, tr, direct, bp, Algebra::Auto)
}

/// [`backward`] with the weight-gradient products taken as `algebra` says
/// (per layer, by the density of its input over the steps). The sparse
/// path sums the same products in another order: equal up to rounding.
pub fn backward_using(
    net: &Net,
    input: &Array3<f64>,
    tr: &Trace,
    direct: &[Array3<f64>],
    bp: &Backprop,
    algebra: Algebra,
) -> Grads {
    let mut g = Grads::zeros(net);
    backward_add(net, input, tr, direct, bp, algebra, &mut g);
    g
}

impl Grads {
    /// Zero gradients for `net`, in the layout [`backward`] returns.
    pub fn zeros(net: &Net) -> Grads {
        let f = |(o, i): (usize, usize)| Array2::zeros((o, i).f());
        Grads {
            w: net.layers.iter().map(|l| f(l.w.dim())).collect(),
            rec: net
                .layers
                .iter()
                .map(|l| l.rec.map(|r| f(r.dim())))
                .collect(),
        }
    }
}

/// [`backward_using`] adding the gradients into `out` (shaped as
/// [`Grads::zeros`] makes them; column-major matrices take the sums
/// without a transpose), so that a caller can keep one set of buffers
/// over many batches.
pub fn backward_add(
    net: &Net,
    input: &Array3<f64>,
    tr: &Trace,
    direct: &[Array3<f64>],
    bp: &Backprop,
    algebra: Algebra,
    out: &mut Grads,
) {
    let gi = current_grads(net, input, tr, direct, bp);
    // dW = sum_{t < T-1} gI_{t+1} a_t^T (gI_T = 0), computed transposed:
    // `[inputs][outputs]`, the memory order of a column-major `out`.
    let steps = net.time_steps.saturating_sub(1);
    for (l, gw) in out.w.iter_mut().enumerate() {
        let (a, act) = layer_input(input, tr, l);
        let gt = gw.view_mut().reversed_axes();
        weight_grad(a, act, &gi[l], steps, algebra, Target::F64(gt));
    }
    for (l, gr) in out.rec.iter_mut().enumerate() {
        if let Some(gr) = gr {
            let gt = gr.view_mut().reversed_axes();
            let (s, act) = (tr.s[l].view(), &tr.active[l]);
            weight_grad(s, act, &gi[l], steps, algebra, Target::F64(gt));
        }
    }
}

/// [`backward_add`] into `f32` buffers, row-major `[outputs][inputs]`, one
/// per matrix: every layer's feed-forward matrix, then the recurrent
/// matrices in layer order (the trainer's order of weights). Each
/// gradient is summed over the chunk in `f64` and added rounded to `f32`,
/// as adding [`backward`]'s result would, without an `f64` matrix the
/// size of the weights.
pub fn backward_add_f32(
    net: &Net,
    input: &Array3<f64>,
    tr: &Trace,
    direct: &[Array3<f64>],
    bp: &Backprop,
    algebra: Algebra,
    out: &mut [Vec<f32>],
) {
    let gi = current_grads(net, input, tr, direct, bp);
    let steps = net.time_steps.saturating_sub(1);
    let n_layers = net.layers.len();
    let (ff, rec) = out.split_at_mut(n_layers);
    let mut rec = rec.iter_mut();
    for l in 0..n_layers {
        let (a, act) = layer_input(input, tr, l);
        weight_grad(a, act, &gi[l], steps, algebra, Target::F32(&mut ff[l]));
        if net.layers[l].rec.is_some() {
            let buf = rec.next().expect("a buffer per recurrent matrix");
            let (s, act) = (tr.s[l].view(), &tr.active[l]);
            weight_grad(s, act, &gi[l], steps, algebra, Target::F32(buf));
        }
    }
}

/// Layer `l`'s input spikes and their active entries.
fn layer_input<'a>(
    input: &'a Array3<f64>,
    tr: &'a Trace,
    l: usize,
) -> (ArrayView3<'a, f64>, &'a Active) {
    if l == 0 {
        (input.view(), &tr.input_active)
    } else {
        (tr.s[l - 1].view(), &tr.active[l - 1])
    }
}

/// The backward recursion: per layer, `gI_t` for `t = 0..T`, with a zero
/// step `T` at the end, `(T + 1, batch, neurons)`.
fn current_grads(
    net: &Net,
    input: &Array3<f64>,
    tr: &Trace,
    direct: &[Array3<f64>],
    bp: &Backprop,
) -> Vec<Array3<f64>> {
    let (t_max, b) = (net.time_steps, input.shape()[1]);
    let n_layers = net.layers.len();
    // gI_t of every step, with a zero step T at the end.
    let mut gi: Vec<Array3<f64>> = net
        .layers
        .iter()
        .map(|l| Array3::zeros((t_max + 1, b, l.w.nrows())))
        .collect();
    let mut gx_next: Vec<Array2<f64>> = net
        .layers
        .iter()
        .map(|l| Array2::zeros((b, l.w.nrows())))
        .collect();
    let mut gx_now = gx_next.clone();
    let mut gs_buf = gx_next.clone();
    let full = bp.reset_grad == ResetGrad::Full;
    for t in (0..t_max).rev() {
        for (l, layer) in net.layers.iter().enumerate() {
            let s_t = tr.s[l].index_axis(Axis(0), t);
            let x_t = tr.x[l].index_axis(Axis(0), t);
            let gs = &mut gs_buf[l];
            gs.assign(&direct[l].index_axis(Axis(0), t));
            if let Some(r) = &layer.rec {
                general_mat_mul(1.0, &gi[l].index_axis(Axis(0), t + 1), r, 1.0, gs);
            }
            if l + 1 < n_layers {
                let g_up = gi[l + 1].index_axis(Axis(0), t + 1);
                general_mat_mul(1.0, &g_up, &net.layers[l + 1].w, 1.0, gs);
            }
            let (dv, di) = decays(&layer.neuron);
            let (theta, reset) = (layer.theta, layer.neuron.reset);
            Zip::from(&mut gx_now[l])
                .and(&*gs)
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
            let (mut now, next) = gi[l].multi_slice_mut((s![t, .., ..], s![t + 1, .., ..]));
            Zip::from(&mut now)
                .and(&gx_now[l])
                .and(&next)
                .for_each(|gi, &gx, &gin| *gi = gx + gin * di);
        }
        std::mem::swap(&mut gx_next, &mut gx_now);
    }
    gi
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

    /// A recurrent hidden layer (weights `w0`, recurrent `r0`) into an
    /// output layer `w1`, both of `neuron` with threshold 1.
    fn recurrent_pair<'a>(
        w0: &'a Array2<f64>,
        r0: &'a Array2<f64>,
        w1: &'a Array2<f64>,
        neuron: NeuronModel,
        time_steps: usize,
    ) -> Net<'a> {
        Net {
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
            time_steps,
        }
    }

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
                let net = recurrent_pair(w0, r0, w1, neuron, 6);
                let tr = forward_with(&net, &input, Some(k), Algebra::Auto);
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

    /// The sparse path (gather-add over active inputs, scatter of the
    /// weight gradient) against the dense one (`general_mat_mul`) on a
    /// random two-layer network with a recurrent layer, for every reset:
    /// the same spikes, potentials and gradients up to rounding (not to
    /// the bit: the two sum the same terms in different orders; the
    /// sparse order is `run_discrete`'s), and the f32 gradient buffers of
    /// `backward_add_f32` are `backward`'s gradients rounded, to the bit.
    #[test]
    fn the_sparse_path_gives_the_dense_paths_trace_and_gradients() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let (n_in, n_hid, n_out, b, t_max) = (60, 40, 7, 5, 14);
        let mut rand_m = |r: usize, c: usize, scale: f64| {
            Array2::from_shape_fn((r, c), |_| scale * (2.0 * rng.gen::<f64>() - 0.6))
        };
        let w0 = rand_m(n_hid, n_in, 0.5);
        let r0 = rand_m(n_hid, n_hid, 0.3);
        let w1 = rand_m(n_out, n_hid, 0.6);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
        let input = Array3::from_shape_fn((t_max, b, n_in), |_| {
            f64::from(u8::from(rng.gen::<f64>() < 0.15))
        });
        let labels = [0usize, 3, 6, 2, 1];
        let lw = Loss {
            tau: 1.0,
            label_smoothing: 0.1,
            count_weight: 0.2,
            rate_weight: 0.5,
        };
        for reset in [Reset::Subtract, Reset::Zero, Reset::SubtractNext] {
            let neuron = NeuronModel {
                v_shift: Some(2),
                i_shift: Some(1),
                reset,
            };
            let net = recurrent_pair(&w0, &r0, &w1, neuron, t_max);
            let dense = forward_using(&net, &input, Algebra::Dense);
            let sparse = forward_using(&net, &input, Algebra::Sparse);
            let spikes: f64 = dense.s.iter().map(|s| s.sum()).sum();
            assert!(spikes > 50.0, "{reset:?}: only {spikes} spikes");
            for l in 0..2 {
                assert_eq!(dense.s[l], sparse.s[l], "{reset:?} layer {l}");
                let dx = (&dense.x[l] - &sparse.x[l]).mapv(f64::abs);
                assert!(dx.iter().all(|&d| d < 1e-12), "{reset:?} layer {l}");
            }
            let (_, direct) = loss(&net, &dense, &labels, &lw);
            for rg in [ResetGrad::Detached, ResetGrad::Full] {
                let bp = Backprop {
                    surrogate: Surrogate::FastSigmoid,
                    slope: 5.0,
                    reset_grad: rg,
                };
                let gd = backward_using(&net, &input, &dense, &direct, &bp, Algebra::Dense);
                let gs = backward_using(&net, &input, &sparse, &direct, &bp, Algebra::Sparse);
                let pairs = [
                    (&gd.w[0], &gs.w[0]),
                    (gd.rec[0].as_ref().unwrap(), gs.rec[0].as_ref().unwrap()),
                    (&gd.w[1], &gs.w[1]),
                ];
                for (m, (a, b)) in pairs.into_iter().enumerate() {
                    let scale = a.iter().fold(0f64, |m, x| m.max(x.abs()));
                    assert!(scale > 0.0, "{reset:?} {rg:?}: matrix {m} has no gradient");
                    for (x, y) in a.iter().zip(b.iter()) {
                        assert!(
                            (x - y).abs() <= 1e-12 * scale,
                            "{reset:?} {rg:?} matrix {m}: {x} vs {y}"
                        );
                    }
                }
                for (alg, tr, g) in [
                    (Algebra::Sparse, &sparse, &gs),
                    (Algebra::Dense, &dense, &gd),
                ] {
                    let mut bufs = vec![
                        vec![0f32; n_hid * n_in],
                        vec![0f32; n_out * n_hid],
                        vec![0f32; n_hid * n_hid],
                    ];
                    backward_add_f32(&net, &input, tr, &direct, &bp, alg, &mut bufs);
                    let want = [&g.w[0], &g.w[1], g.rec[0].as_ref().unwrap()];
                    for (buf, g) in bufs.iter().zip(want) {
                        let rounded: Vec<f32> = g.iter().map(|&x| x as f32).collect();
                        assert_eq!(buf, &rounded, "{reset:?} {rg:?} {alg:?}");
                    }
                }
            }
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
