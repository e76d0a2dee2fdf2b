//! Quantization: float network -> integer network at the hardware's weight
//! width, one scale per layer.
//!
//! The scale maps the layer's largest weight magnitude to the largest
//! weight integer, so `w_int = round(w * scale)` and `theta_int =
//! round(theta * scale)` keep each neuron's firing time (the time axis is
//! not scaled; see `ir`). Weights that round to zero become absent synapses.
//!
//! Time resolution is a separate, exact transformation of the float network
//! ([`retime`]): stretching every spike time by `r` while scaling every
//! threshold by `r` leaves the continuous-time network's decisions unchanged
//! (the ramp potential `sum w (t - t_i)` scales by `r` too), but makes the
//! hardware's step grid finer relative to the network's dynamics, so the
//! ceiling of each firing time costs less. More steps cost more cycles;
//! `host`'s `compile --time-steps` gives `T`, `--choose-time-steps` picks it
//! from measured accuracy.

use crate::ir::{FloatNetwork, IrError, QuantLayer, QuantNetwork, FORMAT_VERSION, QUANT_FORMAT};

/// How a float network was quantized, layer by layer.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QuantReport {
    pub layers: Vec<LayerQuantReport>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LayerQuantReport {
    pub scale: f64,
    /// Root-mean-square of `w_int / scale - w` over present float weights.
    pub weight_rms_error: f64,
    /// Largest `|w_int / scale - w|`.
    pub weight_max_error: f64,
    /// Float synapses that became absent because they rounded to zero.
    pub synapses_rounded_away: usize,
    pub synapses_kept: usize,
}

/// The quantization rule of one layer at a weight width: one scale maps
/// the layer's largest weight magnitude to the largest weight integer,
/// weights round to the nearest integer (saturating at the signed range)
/// and the threshold to the nearest integer, at least 1. [`quantize`]
/// applies it to a whole network; the trainer's quantization-aware epochs
/// apply it to the weights they train, so both see the same integers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerScale {
    /// Integer units per float unit (`w_int = round(w * scale)`).
    pub scale: f64,
    /// The largest weight integer, `2^(weight_bits - 1) - 1`.
    pub weight_max: f64,
}

impl LayerScale {
    /// The rule of a layer whose weights (every weight that adds into the
    /// layer's current: feed-forward and recurrent) are `weights`, at signed
    /// `weight_bits`-bit weights (2..=16). A layer with no non-zero weight
    /// keeps scale 1 (its neurons never fire).
    pub fn new(
        weights: impl IntoIterator<Item = f32>,
        weight_bits: u32,
    ) -> Result<LayerScale, IrError> {
        check_weight_bits(weight_bits)?;
        let weight_max = ((1i64 << (weight_bits - 1)) - 1) as f64;
        let max_abs = weights.into_iter().fold(0f32, |m, w| m.max(w.abs())) as f64;
        let scale = if max_abs > 0.0 {
            weight_max / max_abs
        } else {
            1.0
        };
        Ok(LayerScale { scale, weight_max })
    }

    /// `round(w * scale)`, saturated to `-weight_max - 1..=weight_max`.
    pub fn weight(&self, w: f32) -> i32 {
        (w as f64 * self.scale)
            .round()
            .clamp(-self.weight_max - 1.0, self.weight_max) as i32
    }

    /// `round(theta * scale)`, at least 1 (the caller checks that it fits
    /// its integer).
    pub fn threshold(&self, theta: f32) -> f64 {
        (theta as f64 * self.scale).round().max(1.0)
    }
}

fn check_weight_bits(weight_bits: u32) -> Result<(), IrError> {
    if !(2..=16).contains(&weight_bits) {
        return Err(IrError::field(
            "quantization",
            "weight_bits",
            format!("is {weight_bits}, must be in 2..=16"),
        ));
    }
    Ok(())
}

/// Quantizes `net` to signed `weight_bits`-bit weights, layer by layer
/// with [`LayerScale`].
pub fn quantize(
    net: &FloatNetwork,
    weight_bits: u32,
) -> Result<(QuantNetwork, QuantReport), IrError> {
    net.validate("network to quantize")?;
    check_weight_bits(weight_bits)?;
    let mut layers = Vec::new();
    let mut reports = Vec::new();
    for (l, layer) in net.layers.iter().enumerate() {
        // One scale for the feed-forward and the recurrent weights: both add
        // into the same current.
        let rule = LayerScale::new(
            layer
                .weights
                .iter()
                .chain(layer.recurrent.iter().flatten())
                .copied(),
            weight_bits,
        )?;
        let scale = rule.scale;
        let mut err_sq = 0.0;
        let mut err_max: f64 = 0.0;
        let (mut kept, mut lost) = (0, 0);
        let mut quant = |ws: &[f32]| -> Vec<i32> {
            ws.iter()
                .map(|&w| {
                    let q = rule.weight(w);
                    if w != 0.0 {
                        let e = q as f64 / scale - w as f64;
                        err_sq += e * e;
                        err_max = err_max.max(e.abs());
                        if q == 0 {
                            lost += 1;
                        } else {
                            kept += 1;
                        }
                    }
                    q
                })
                .collect()
        };
        let weights = quant(&layer.weights);
        let recurrent = layer.recurrent.as_deref().map(&mut quant);
        let threshold = rule.threshold(layer.threshold);
        if threshold > i64::MAX as f64 / 2.0 {
            return Err(IrError::field(
                "quantization",
                format!("layers[{l}].threshold"),
                format!("scaled threshold {threshold} does not fit an integer"),
            ));
        }
        layers.push(QuantLayer {
            kind: layer.kind,
            inputs: layer.inputs,
            outputs: layer.outputs,
            threshold: threshold as i64,
            scale,
            weights,
            neuron: layer.neuron,
            recurrent,
        });
        reports.push(LayerQuantReport {
            scale,
            weight_rms_error: (err_sq / (kept + lost).max(1) as f64).sqrt(),
            weight_max_error: err_max,
            synapses_rounded_away: lost,
            synapses_kept: kept,
        });
    }
    let q = QuantNetwork {
        format: QUANT_FORMAT.into(),
        version: FORMAT_VERSION,
        input_size: net.input_size,
        encoding: net.encoding,
        time_steps: net.time_steps,
        weight_bits,
        layers,
        decision: net.decision,
    };
    q.validate("quantized network")?;
    Ok((q, QuantReport { layers: reports }))
}

/// The float network on a time axis stretched so that an inference runs
/// `time_steps` steps: spike times and thresholds scale by
/// `r = time_steps / net.time_steps`, input levels become
/// `round((input_steps - 1) * r) + 1`.
pub fn retime(net: &FloatNetwork, time_steps: u32) -> Result<FloatNetwork, IrError> {
    net.validate("network to retime")?;
    if time_steps == 0 {
        return Err(IrError::field(
            "retiming",
            "time_steps",
            "must be at least 1",
        ));
    }
    let ttfs = net.encoding.coding.is_latency()
        && net
            .layers
            .iter()
            .all(|l| l.neuron.is_ttfs() && l.recurrent.is_none());
    if !ttfs {
        return Err(IrError::field(
            "retiming",
            "layers",
            "only a TTFS network (latency input, non-leaky fire-once neurons, no recurrence) can be retimed exactly; compile a multi-spike network at its own time_steps",
        ));
    }
    let r = time_steps as f64 / net.time_steps as f64;
    let mut out = net.clone();
    out.time_steps = time_steps;
    let levels = ((net.encoding.input_steps - 1) as f64 * r).round() as u32 + 1;
    out.encoding.input_steps = levels.min(time_steps).max(1);
    for l in &mut out.layers {
        l.threshold = (l.threshold as f64 * r) as f32;
    }
    out.validate("retimed network")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::InputEncoding;

    #[test]
    fn largest_weight_maps_to_the_largest_integer() {
        let mut n = FloatNetwork::zeros(&[2, 2], InputEncoding::new(4), 8, 0.5);
        n.layers[0].weights = vec![0.25, -0.5, 0.001, 0.0];
        let (q, rep) = quantize(&n, 8).unwrap();
        assert_eq!(q.layers[0].weights, vec![64, -127, 0, 0]);
        assert_eq!(q.layers[0].threshold, 127);
        assert_eq!(rep.layers[0].synapses_rounded_away, 1);
        assert_eq!(rep.layers[0].synapses_kept, 2);
        assert!(rep.layers[0].weight_max_error <= 0.5 / rep.layers[0].scale + 1e-12);
    }

    #[test]
    fn layer_scale_is_the_rule_quantize_applies() {
        let mut n = FloatNetwork::zeros(&[3, 2], InputEncoding::new(4), 8, 0.3);
        n.layers[0].weights = vec![0.7, -0.35, 0.0021, -0.7, 0.1234, 0.69];
        for bits in [2, 4, 8, 16] {
            let (q, _) = quantize(&n, bits).unwrap();
            let rule = LayerScale::new(n.layers[0].weights.iter().copied(), bits).unwrap();
            assert_eq!(q.layers[0].scale, rule.scale);
            let want: Vec<i32> = n.layers[0]
                .weights
                .iter()
                .map(|&w| rule.weight(w))
                .collect();
            assert_eq!(q.layers[0].weights, want, "{bits} bits");
            assert_eq!(q.layers[0].threshold as f64, rule.threshold(0.3));
        }
        // Saturation at the signed range, and the width refused outside 2..=16.
        let rule = LayerScale::new([1.0f32], 4).unwrap();
        assert_eq!(
            (rule.weight(1.0), rule.weight(-1.0), rule.weight(-2.0)),
            (7, -7, -8)
        );
        assert!(LayerScale::new([1.0f32], 1).is_err());
        assert!(LayerScale::new([1.0f32], 17).is_err());
        // No weight at all: scale 1.
        assert_eq!(LayerScale::new([0.0f32; 3], 8).unwrap().scale, 1.0);
    }

    #[test]
    fn retiming_stretches_firing_times_and_keeps_decisions() {
        use crate::float_eval::run_float;
        let mut n = FloatNetwork::zeros(&[3, 4, 2], InputEncoding::new(5), 12, 1.0);
        n.layers[0].weights = vec![0.9, 0.2, -0.1, 0.3, 0.8, 0.4, 0.5, 0.5, 0.5, -0.2, 0.6, 0.9];
        n.layers[1].weights = vec![0.7, 0.1, 0.3, 0.2, 0.2, 0.6, 0.4, 0.5];
        let x4 = retime(&n, 48).unwrap();
        assert_eq!((x4.time_steps, x4.encoding.input_steps), (48, 17));
        assert!((x4.layers[1].threshold - 4.0).abs() < 1e-6);
        // Input steps on the level grid (0, 2, 4 of 5 levels) stretch exactly.
        let input = [Some(0), Some(2), Some(4)];
        let stretched = [Some(0), Some(8), Some(16)];
        let (a, b) = (run_float(&n, &input), run_float(&x4, &stretched));
        assert_eq!(a.class, b.class);
        assert!(
            a.spikes.iter().all(|l| l.iter().any(|s| s.is_some())),
            "{a:?}"
        );
        for (la, lb) in a.spikes.iter().zip(&b.spikes) {
            for (ta, tb) in la.iter().zip(lb) {
                match (ta, tb) {
                    (Some(ta), Some(tb)) => assert!((4.0 * ta - tb).abs() < 1e-3, "{ta} vs {tb}"),
                    (None, None) => {}
                    _ => panic!("firing differs: {ta:?} vs {tb:?}"),
                }
            }
        }
        assert!(retime(&n, 0).is_err());
    }
}
