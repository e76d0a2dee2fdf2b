//! Synaptic pruning with rewiring (after BPSR, Front. Neurosci. 2022):
//! drop the smallest-magnitude synapses toward a target sparsity, and regrow
//! absent synapses whose accumulated gradient is largest.
//!
//! The schedule is the cubic ramp of gradual pruning: the pruned fraction
//! at pruning progress `p` in `[0, 1]` is `s * (1 - (1 - p)^3)`, so most
//! synapses go early, while the network can still recover. Regrown
//! synapses start at weight zero (they cost nothing until training moves
//! them) and the number regrown decays to zero at the last event, so the
//! final network sits exactly at its target.

/// Pruned fraction per layer so that the whole network reaches `target`:
/// the last (output) layer, small and sensitive, is pruned at half the
/// target; the other layers take up the rest.
pub fn layer_targets(sizes: &[usize], target: f64) -> Vec<f64> {
    let n = sizes.len();
    if n == 1 || target <= 0.0 {
        return vec![target.max(0.0); n];
    }
    let total: usize = sizes.iter().sum();
    let last = sizes[n - 1];
    let out_target = target * 0.5;
    let rest = (total - last) as f64;
    let hidden = ((target * total as f64 - out_target * last as f64) / rest).clamp(0.0, 0.995);
    (0..n)
        .map(|l| if l + 1 == n { out_target } else { hidden })
        .collect()
}

/// Scheduled pruned fraction at pruning progress `done` in `[0, 1]`.
pub fn scheduled_fraction(final_fraction: f64, done: f64) -> f64 {
    let done = done.clamp(0.0, 1.0);
    final_fraction * (1.0 - (1.0 - done).powi(3))
}

/// What one rewiring event did to one layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RewireCount {
    pub pruned: usize,
    pub regrown: usize,
}

/// Rewires one layer in place: afterwards exactly `round(fraction * n)`
/// synapses are absent (mask false, weight zero) if that many can be.
/// `regrow_fraction` of the surviving synapses are first freed and then
/// refilled by the absent synapses with the largest `grad_mag`. Ties are
/// broken by index, so the result is deterministic.
pub fn rewire(
    weights: &mut [f32],
    mask: &mut [bool],
    grad_mag: &[f32],
    fraction: f64,
    regrow_fraction: f64,
) -> RewireCount {
    let n = weights.len();
    let target_absent = ((fraction * n as f64).round() as usize).min(n);
    let keep = n - target_absent;
    let regrow = ((regrow_fraction * keep as f64).round() as usize).min(keep);
    // Keep the `keep - regrow` largest present synapses.
    let mut present: Vec<usize> = (0..n).filter(|&i| mask[i]).collect();
    present.sort_by(|&a, &b| {
        weights[b]
            .abs()
            .total_cmp(&weights[a].abs())
            .then(a.cmp(&b))
    });
    let survive = (keep - regrow).min(present.len());
    let mut count = RewireCount::default();
    for &i in &present[survive..] {
        mask[i] = false;
        weights[i] = 0.0;
        count.pruned += 1;
    }
    // Refill up to `keep` from the absent synapses, largest gradient first
    // (including those just pruned: a synapse that matters comes back).
    let want = keep.saturating_sub(survive);
    if want > 0 {
        let mut absent: Vec<usize> = (0..n).filter(|&i| !mask[i]).collect();
        absent.sort_by(|&a, &b| grad_mag[b].total_cmp(&grad_mag[a]).then(a.cmp(&b)));
        for &i in absent.iter().take(want) {
            mask[i] = true;
            count.regrown += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewire_reaches_the_exact_target_and_keeps_the_largest() {
        let mut w: Vec<f32> = (0..100).map(|i| i as f32 - 50.0).collect();
        let mut m = vec![true; 100];
        let g = vec![0.0; 100];
        let c = rewire(&mut w, &mut m, &g, 0.9, 0.0);
        assert_eq!(m.iter().filter(|&&x| !x).count(), 90);
        assert_eq!(c.pruned, 90);
        // The ten largest magnitudes survive: -50..=-46 and 45..=49.
        assert!(m[0] && m[99] && !m[50]);
        assert!(w.iter().zip(&m).all(|(&x, &k)| k || x == 0.0));
    }

    #[test]
    fn regrowth_follows_the_gradient() {
        let mut w = vec![1.0, 2.0, 3.0, 4.0, 0.0, 0.0];
        let mut m = vec![true, true, true, true, false, false];
        let g = vec![0.0, 0.0, 0.0, 0.0, 0.0, 9.0];
        let c = rewire(&mut w, &mut m, &g, 0.5, 0.34);
        assert_eq!(m.iter().filter(|&&x| x).count(), 3);
        assert!(m[5] && m[3] && m[2], "{m:?}");
        assert_eq!(c.regrown, 1);
    }

    #[test]
    fn layer_targets_reach_the_global_fraction() {
        let sizes = [784 * 400, 4000];
        let t = layer_targets(&sizes, 0.9);
        let pruned = t[0] * sizes[0] as f64 + t[1] * sizes[1] as f64;
        assert!((pruned / (sizes[0] + sizes[1]) as f64 - 0.9).abs() < 1e-9);
        assert!((t[1] - 0.45).abs() < 1e-12);
    }
}
