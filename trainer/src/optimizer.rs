//! The optimizer: Adam with decoupled weight decay (AdamW) and the optional
//! weight average, fused with the reduction of the per-chunk gradients into
//! one parallel pass over blocks of weights.
//!
//! Determinism: the chunk buffers are summed in chunk order whatever the
//! number of threads; absent synapses (mask `false`) keep their weight and
//! moments.

use rayon::prelude::*;

/// Adam hyper-parameters of one step.
pub(crate) struct AdamStep {
    pub(crate) lr: f32,
    /// `1 - lr * weight_decay`, applied to present weights before the step.
    pub(crate) decay: f32,
    pub(crate) bc1: f32,
    pub(crate) bc2: f32,
    pub(crate) inv_batch: f32,
    /// Decay of the weight average (used when one is kept).
    pub(crate) ema: f32,
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
pub(crate) fn reduce_and_step(
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
