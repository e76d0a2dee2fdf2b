//! Does a network fit a hardware configuration, and if not, why and what
//! would fit: the diagnosis behind every "does not fit" refusal.
//!
//! The estimate follows the mapper (`partition`): a core holds neurons of
//! one layer, so layer `l` needs at least
//! `max(ceil(outputs / neurons_per_core), ceil(synapses / weight_depth), 1)`
//! cores; one neuron's fan-in must fit one core's weight SRAM; the pointer
//! window of layer `l > 0` spans the source ids of layer `l - 1`'s cores
//! (`(cores - 1) * neurons_per_core` plus the last core's neurons), of layer 0
//! the input channels. A [`Diagnosis`] names the binding resource (the
//! limit that is most over), the layer that binds it, how far over it is,
//! and one configuration that satisfies every limit at once (searched over
//! `neurons_per_core` and `weight_depth`, the other sizes derived), or else
//! the nearest preset that fits.
//!
//! The estimate is a lower bound of the mapper's count (bin packing may need
//! a core more); callers that can map pass a verifier so that the
//! suggestion is one the mapper accepts.

use crate::ir::{FloatNetwork, QuantNetwork};
use crate::params::{HwParams, PRESETS};

/// What the fit check needs of one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerShape {
    pub inputs: u32,
    pub outputs: u32,
    /// Synapses present (non-zero weights), or the expected count.
    pub synapses: u64,
    /// Largest fan-in of one neuron (recurrent synapses included).
    pub max_fan_in: u64,
    /// The layer listens to its own ids too (a second pointer window).
    pub recurrent: bool,
}

/// What the fit check needs of a network.
#[derive(Debug, Clone, PartialEq)]
pub struct NetShape {
    pub input_size: u32,
    pub time_steps: u32,
    /// Weight width; `None` for a float network (quantized to the
    /// configuration's width).
    pub weight_bits: Option<u32>,
    pub layers: Vec<LayerShape>,
}

fn layer_shape<T: PartialEq + Copy>(
    inputs: u32,
    outputs: u32,
    weights: &[T],
    recurrent: Option<&[T]>,
    zero: T,
) -> LayerShape {
    let n_in = (inputs as usize).max(1);
    let n_out = (outputs as usize).max(1);
    let mut fan_in = vec![0u64; outputs as usize];
    for (j, row) in weights.chunks(n_in).enumerate() {
        fan_in[j] += row.iter().filter(|&&w| w != zero).count() as u64;
    }
    if let Some(r) = recurrent {
        for (j, row) in r.chunks(n_out).enumerate() {
            fan_in[j] += row.iter().filter(|&&w| w != zero).count() as u64;
        }
    }
    LayerShape {
        inputs,
        outputs,
        synapses: fan_in.iter().sum(),
        max_fan_in: fan_in.iter().copied().max().unwrap_or(0),
        recurrent: recurrent.is_some(),
    }
}

impl NetShape {
    pub fn of_quant(q: &QuantNetwork) -> NetShape {
        NetShape {
            input_size: q.input_size,
            time_steps: q.time_steps,
            weight_bits: Some(q.weight_bits),
            layers: q
                .layers
                .iter()
                .map(|l| layer_shape(l.inputs, l.outputs, &l.weights, l.recurrent.as_deref(), 0))
                .collect(),
        }
    }

    /// A float network's shape; weights that quantize to zero still count.
    pub fn of_float(f: &FloatNetwork) -> NetShape {
        NetShape {
            input_size: f.input_size,
            time_steps: f.time_steps,
            weight_bits: None,
            layers: f
                .layers
                .iter()
                .map(|l| layer_shape(l.inputs, l.outputs, &l.weights, l.recurrent.as_deref(), 0.0))
                .collect(),
        }
    }

    /// The shape a trainer will produce: `sizes` (input first) with a
    /// fraction `density` of each layer's synapses kept.
    pub fn planned(sizes: &[u32], density: f64, time_steps: u32) -> NetShape {
        let density = density.clamp(0.0, 1.0);
        NetShape {
            input_size: sizes.first().copied().unwrap_or(0),
            time_steps,
            weight_bits: None,
            layers: sizes
                .windows(2)
                .map(|w| {
                    let dense = w[0] as u64 * w[1] as u64;
                    LayerShape {
                        inputs: w[0],
                        outputs: w[1],
                        synapses: (dense as f64 * density).ceil() as u64,
                        max_fan_in: (w[0] as f64 * density).ceil() as u64,
                        recurrent: false,
                    }
                })
                .collect(),
        }
    }

    /// `784-400-10`.
    pub fn arch(&self) -> String {
        std::iter::once(self.input_size)
            .chain(self.layers.iter().map(|l| l.outputs))
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join("-")
    }
}

/// One limit that a network exceeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Over {
    /// The configuration field, e.g. `weight_depth`.
    pub limit: &'static str,
    /// The field's value in the configuration.
    pub have: u64,
    /// What the network needs of it.
    pub need: u64,
    /// The layer that binds it (`None`: the whole network).
    pub layer: Option<usize>,
    /// For `cores`: what the binding layer alone needs.
    pub layer_need: Option<u64>,
    /// One sentence: what needs it and why.
    pub why: String,
}

impl Over {
    /// How far over, as a ratio (the binding limit is the largest).
    fn ratio(&self) -> f64 {
        self.need as f64 / self.have.max(1) as f64
    }
}

/// Cores each layer needs at least (see the module documentation), and
/// which resource sets that count: `true` when the weight SRAM does.
fn layer_cores(l: &LayerShape, p: &HwParams) -> (u64, bool) {
    let by_neurons = (l.outputs as u64).div_ceil(p.neurons_per_core as u64);
    let by_weights = l.synapses.div_ceil(p.weight_depth as u64);
    (by_neurons.max(by_weights).max(1), by_weights > by_neurons)
}

/// Pointer window of every layer, estimated from the cores of the layer
/// before (and, for a recurrent layer, from its own cores: its second window).
fn windows(s: &NetShape, p: &HwParams) -> Vec<u64> {
    let span = |l: &LayerShape| {
        let (k, _) = layer_cores(l, p);
        let last = (l.outputs as u64).div_ceil(k).max(1);
        (k - 1) * p.neurons_per_core as u64 + last
    };
    s.layers
        .iter()
        .enumerate()
        .map(|(l, layer)| {
            let ff = if l == 0 {
                s.input_size as u64
            } else {
                span(&s.layers[l - 1])
            };
            ff + if layer.recurrent { span(layer) } else { 0 }
        })
        .collect()
}

/// Every limit of `p` that `s` exceeds, by the estimate.
pub fn overs(s: &NetShape, p: &HwParams) -> Vec<Over> {
    let mut v = Vec::new();
    if s.time_steps > p.max_time_steps() {
        v.push(Over {
            limit: "step_bits",
            have: p.step_bits as u64,
            need: 64 - (s.time_steps as u64 - 1).leading_zeros() as u64,
            layer: None,
            layer_need: None,
            why: format!(
                "the network runs {} steps, the step counter holds {} (2^step_bits)",
                s.time_steps,
                p.max_time_steps()
            ),
        });
    }
    if let Some(w) = s.weight_bits.filter(|&w| w > p.weight_bits) {
        v.push(Over {
            limit: "weight_bits",
            have: p.weight_bits as u64,
            need: w as u64,
            layer: None,
            layer_need: None,
            why: format!("the network's weights are {w}-bit"),
        });
    }
    if s.input_size > p.max_inputs {
        v.push(Over {
            limit: "max_inputs",
            have: p.max_inputs as u64,
            need: s.input_size as u64,
            layer: Some(0),
            layer_need: None,
            why: format!("the network has {} input channels", s.input_size),
        });
    }
    for (l, (layer, &window)) in s.layers.iter().zip(&windows(s, p)).enumerate() {
        if layer.max_fan_in > p.weight_depth as u64 {
            v.push(Over {
                limit: "weight_depth",
                have: p.weight_depth as u64,
                need: layer.max_fan_in,
                layer: Some(l),
                layer_need: None,
                why: format!(
                    "one neuron of layer {l} has {} synapses, more than one core's weight SRAM holds",
                    layer.max_fan_in
                ),
            });
        }
        if window > p.pointer_depth as u64 {
            v.push(Over {
                limit: "pointer_depth",
                have: p.pointer_depth as u64,
                need: window,
                layer: Some(l),
                layer_need: None,
                why: format!(
                    "layer {l} listens to {window} source ids ({} of its inputs{}), one pointer entry each",
                    layer.inputs,
                    if layer.recurrent {
                        ", then its own neurons' ids: a recurrent layer"
                    } else {
                        ""
                    }
                ),
            });
        }
    }
    let per: Vec<(u64, bool)> = s.layers.iter().map(|l| layer_cores(l, p)).collect();
    let need: u64 = per.iter().map(|c| c.0).sum();
    if need > p.cores as u64 {
        // The layer that takes the most cores binds, by what sets its count.
        let (l, &(k, by_weights)) = per
            .iter()
            .enumerate()
            .max_by_key(|(i, c)| (c.0, std::cmp::Reverse(*i)))
            .expect("a network has layers");
        let layer = &s.layers[l];
        let why = if by_weights {
            format!(
                "weight SRAM binds: layer {l}'s {} synapses fill {k} cores of weight_depth = {} (its {} neurons alone would fill {} at neurons_per_core = {}); the network needs {need} cores in all, {} over",
                layer.synapses,
                p.weight_depth,
                layer.outputs,
                (layer.outputs as u64).div_ceil(p.neurons_per_core as u64),
                p.neurons_per_core,
                need - p.cores as u64
            )
        } else {
            format!(
                "neurons bind: layer {l}'s {} neurons fill {k} cores of neurons_per_core = {}; the network needs {need} cores in all, {} over",
                layer.outputs,
                p.neurons_per_core,
                need - p.cores as u64
            )
        };
        v.push(Over {
            limit: "cores",
            have: p.cores as u64,
            need,
            layer: Some(l),
            layer_need: Some(k),
            why,
        });
    }
    v
}

/// Largest values the configuration check accepts (see `HwParams::validate`).
const MAX_CORES: u64 = 256;
const MAX_NEURONS_PER_CORE: u32 = 4096;
const MAX_POINTER_DEPTH: u64 = 1 << 16;
const MAX_WEIGHT_DEPTH: u32 = 1 << 20;
const MAX_INPUTS: u64 = 1 << 16;
const MAX_STEP_BITS: u32 = 16;
const MAX_WEIGHT_BITS: u32 = 16;

fn pow2_at_least(x: u64, floor: u64) -> u64 {
    x.max(floor).max(2).next_power_of_two()
}

/// The configuration `p` grown (never shrunk) to hold `s` with
/// `neurons_per_core = n` and `weight_depth = d`, if one exists.
fn grown(s: &NetShape, p: &HwParams, n: u32, d: u32) -> Option<HwParams> {
    let mut c = p.clone();
    c.neurons_per_core = n;
    c.weight_depth = d;
    if s.layers.iter().any(|l| l.max_fan_in > d as u64) {
        return None;
    }
    let need: u64 = s.layers.iter().map(|l| layer_cores(l, &c).0).sum();
    if need > MAX_CORES {
        return None;
    }
    c.cores = c.cores.max(need as u32);
    let window = windows(s, &c).into_iter().max().unwrap_or(0);
    let pd = pow2_at_least(window, c.pointer_depth as u64);
    let mi = pow2_at_least(s.input_size as u64, c.max_inputs as u64);
    if pd > MAX_POINTER_DEPTH || mi > MAX_INPUTS {
        return None;
    }
    c.pointer_depth = pd as u32;
    c.max_inputs = mi as u32;
    while c.max_time_steps() < s.time_steps {
        if c.step_bits >= MAX_STEP_BITS {
            return None;
        }
        c.step_bits += 1;
    }
    if let Some(w) = s.weight_bits.filter(|&w| w > c.weight_bits) {
        if w > MAX_WEIGHT_BITS {
            return None;
        }
        c.weight_bits = w;
        c.current_bits = c.current_bits.max(w);
        c.membrane_bits = c.membrane_bits.max(c.current_bits);
    }
    c.validate("suggestion").ok()?;
    Some(c)
}

/// Total SRAM words of a configuration, the cost a suggestion minimizes.
fn words(p: &HwParams) -> u64 {
    p.cores as u64 * (p.pointer_depth as u64 + p.weight_depth as u64 + p.neurons_per_core as u64)
}

/// `key = value` for every field in which `c` differs from `p`.
fn changes(p: &HwParams, c: &HwParams) -> String {
    let mut v = Vec::new();
    let mut f = |name: &str, a: u32, b: u32| {
        if a != b {
            v.push(format!("{name} = {b}"));
        }
    };
    f("cores", p.cores, c.cores);
    f("neurons_per_core", p.neurons_per_core, c.neurons_per_core);
    f("weight_depth", p.weight_depth, c.weight_depth);
    f("pointer_depth", p.pointer_depth, c.pointer_depth);
    f("max_inputs", p.max_inputs, c.max_inputs);
    f("step_bits", p.step_bits, c.step_bits);
    f("weight_bits", p.weight_bits, c.weight_bits);
    f("current_bits", p.current_bits, c.current_bits);
    f("membrane_bits", p.membrane_bits, c.membrane_bits);
    v.join(", ")
}

/// Why a network does not fit, and what would.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    /// The configuration's name.
    pub config: String,
    /// `784-400-10`.
    pub arch: String,
    /// The binding limit (the most over) first, then the others.
    pub overs: Vec<Over>,
    /// A configuration that holds the network (every limit at once).
    pub suggestion: Option<HwParams>,
    /// The smallest built-in preset that holds the network.
    pub preset: Option<String>,
}

impl Diagnosis {
    /// The binding limit.
    pub fn binding(&self) -> &Over {
        &self.overs[0]
    }

    /// The fix, as one sentence that names every changed field.
    pub fn fix(&self, base: &HwParams) -> String {
        let preset = self
            .preset
            .as_ref()
            .filter(|n| **n != self.config)
            .map(|n| format!("the preset `{n}` holds it"));
        match (&self.suggestion, preset) {
            (Some(c), Some(pr)) => format!(
                "to fit every limit at once, set {} in a configuration file (or use --config {}: {pr})",
                changes(base, c),
                self.preset.as_deref().unwrap_or_default()
            ),
            (Some(c), None) => format!(
                "to fit every limit at once, set {} in a configuration file",
                changes(base, c)
            ),
            (None, Some(pr)) => format!(
                "no configuration grown from `{}` holds it; {pr} (--config {})",
                self.config,
                self.preset.as_deref().unwrap_or_default()
            ),
            (None, None) => "no configuration onespike can build holds it: prune it further (--sparsity) or make its layers smaller".to_string(),
        }
    }

    /// The whole refusal in one paragraph.
    pub fn message(&self, base: &HwParams) -> String {
        let b = self.binding();
        let mut s = format!(
            "network {} does not fit `{}`: the binding limit is {} = {}, the network needs {} ({})",
            self.arch, self.config, b.limit, b.have, b.need, b.why
        );
        for o in &self.overs[1..] {
            s.push_str(&format!(
                "; also {} = {}, needs {} ({})",
                o.limit, o.have, o.need, o.why
            ));
        }
        s.push_str("; ");
        s.push_str(&self.fix(base));
        s
    }
}

/// Diagnoses `s` on `p`: `None` when it fits by the estimate. `verify`
/// (when given) must accept a candidate configuration for it to be
/// suggested: the mapper's own check, so that following the suggestion
/// cannot end in a second refusal.
pub fn diagnose(
    s: &NetShape,
    p: &HwParams,
    verify: Option<&dyn Fn(&HwParams) -> bool>,
) -> Option<Diagnosis> {
    let mut overs = overs(s, p);
    if overs.is_empty() && verify.is_none_or(|v| v(p)) {
        return None;
    }
    overs.sort_by(|a, b| b.ratio().total_cmp(&a.ratio()));
    if overs.is_empty() {
        // The estimate fits but the mapper needs more (bin packing).
        let need = p.cores as u64 + 1;
        overs.push(Over {
            limit: "cores",
            have: p.cores as u64,
            need,
            layer: None,
            layer_need: None,
            why: "the synapse lists do not pack into the cores the lower bound gives".into(),
        });
    }
    Some(Diagnosis {
        config: p.name.clone(),
        arch: s.arch(),
        overs,
        suggestion: suggest(s, p, verify),
        preset: nearest_preset(s, verify),
    })
}

/// The cheapest grown configuration that holds `s` (and that `verify` accepts).
pub fn suggest(
    s: &NetShape,
    p: &HwParams,
    verify: Option<&dyn Fn(&HwParams) -> bool>,
) -> Option<HwParams> {
    let mut cands = Vec::new();
    let mut n = p.neurons_per_core;
    while n <= MAX_NEURONS_PER_CORE {
        let mut d = p.weight_depth;
        while d <= MAX_WEIGHT_DEPTH {
            if let Some(c) = grown(s, p, n, d) {
                cands.push(c);
            }
            d *= 2;
        }
        n *= 2;
    }
    cands.sort_by_key(|c| (words(c), c.neurons_per_core, c.weight_depth));
    // The estimate is a lower bound: if the mapper wants more, give it a
    // few more cores before trying the next shape.
    for c in cands.into_iter().take(8) {
        let Some(v) = verify else { return Some(c) };
        for extra in [0u32, 1, 2, 4] {
            let mut t = c.clone();
            t.cores = (c.cores + extra).min(MAX_CORES as u32);
            if t.validate("suggestion").is_ok() && v(&t) {
                return Some(t);
            }
        }
    }
    None
}

/// The smallest built-in preset that holds `s`.
pub fn nearest_preset(s: &NetShape, verify: Option<&dyn Fn(&HwParams) -> bool>) -> Option<String> {
    let mut presets: Vec<HwParams> = PRESETS
        .iter()
        .filter_map(|n| HwParams::preset(n).ok())
        .collect();
    presets.sort_by_key(words);
    presets
        .into_iter()
        .find(|c| overs(s, c).is_empty() && verify.is_none_or(|v| v(c)))
        .map(|c| c.name)
}

/// Whether any configuration onespike can build holds `s` (by the
/// estimate): `Err` with the reason when none does.
pub fn check_buildable(s: &NetShape) -> Result<(), String> {
    let mut big = HwParams::preset("default").expect("the default preset is valid");
    big.name = "the largest configuration".into();
    big.cores = MAX_CORES as u32;
    big.neurons_per_core = MAX_NEURONS_PER_CORE;
    big.weight_depth = MAX_WEIGHT_DEPTH;
    big.pointer_depth = MAX_POINTER_DEPTH as u32;
    big.max_inputs = MAX_INPUTS as u32;
    big.step_bits = MAX_STEP_BITS;
    let overs = overs(s, &big);
    match overs.first() {
        None => Ok(()),
        Some(o) => Err(format!(
            "network {} fits no configuration onespike can build: {} can be at most {}, the network needs {} ({})",
            s.arch(),
            o.limit,
            o.have,
            o.need,
            o.why
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_sram_binds_196_200_10_on_small_and_the_fix_fits_every_limit() {
        let p = HwParams::preset("small").unwrap();
        let s = NetShape::planned(&[196, 200, 10], 1.0, 32);
        let d = diagnose(&s, &p, None).expect("does not fit");
        let b = d.binding();
        assert_eq!(b.limit, "cores");
        assert_eq!(b.layer, Some(0));
        assert!(b.why.contains("weight SRAM binds"), "{}", b.why);
        let c = d.suggestion.clone().expect("a grown configuration fits");
        assert!(overs(&s, &c).is_empty(), "{:?}", overs(&s, &c));
        assert!(c.validate("x").is_ok());
        let m = d.message(&p);
        assert!(m.contains("set ") && m.contains("small"), "{m}");
    }

    #[test]
    fn a_million_output_layer_on_tiny_gets_a_buildable_suggestion() {
        let p = HwParams::preset("tiny").unwrap();
        let s = NetShape::planned(&[25, 8, 1_000_000], 1.0, 32);
        let d = diagnose(&s, &p, None).unwrap();
        let c = d.suggestion.expect("4096 neurons per core hold it");
        assert!(c.cores <= 256 && c.validate("x").is_ok());
        assert!(overs(&s, &c).is_empty());
    }

    #[test]
    fn what_no_configuration_holds_is_said_so() {
        let s = NetShape::planned(&[784, 100_000, 10], 1.0, 32);
        let e = check_buildable(&s).unwrap_err();
        assert!(e.contains("pointer_depth"), "{e}");
        assert!(check_buildable(&NetShape::planned(&[784, 400, 10], 1.0, 64)).is_ok());
        let p = HwParams::preset("default").unwrap();
        assert!(diagnose(&s, &p, None).unwrap().suggestion.is_none());
    }

    #[test]
    fn a_fitting_network_has_no_diagnosis() {
        let p = HwParams::preset("default").unwrap();
        let s = NetShape::planned(&[784, 100, 10], 0.2, 64);
        assert_eq!(diagnose(&s, &p, None), None);
    }
}
