//! The network IR: layered TTFS networks in float form (what the trainer
//! writes) and quantized form (what the reference model, the mapper and the
//! hardware run), with a versioned JSON file format.
//!
//! Time is measured in hardware steps in both forms: an input spike of
//! pixel `x` arrives at step `round((1 - x) * (input_steps - 1))`, and the
//! float model's continuous firing time uses the same unit, so quantization
//! scales weights and thresholds but never the time axis.
//!
//! Weights are stored row-major as `[outputs][inputs]`; a weight of exactly
//! zero is an absent (pruned) synapse and costs no memory on the hardware.

use crate::encode::InputEncoding;
use crate::neuron::NeuronModel;
use crate::spikes::Decision;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Version of the network file formats this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// `format` tag of a float network file.
pub const FLOAT_FORMAT: &str = "onespike-float-network";
/// `format` tag of a quantized network file.
pub const QUANT_FORMAT: &str = "onespike-quant-network";

/// Why a network (or any versioned file) was refused.
#[derive(Debug, thiserror::Error)]
pub enum IrError {
    #[error("{origin}: cannot read or write: {source}")]
    Io {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: not valid JSON for this format: {message}")]
    Parse { origin: String, message: String },
    #[error("{origin}: field `{field}`: {message}")]
    Field {
        origin: String,
        field: String,
        message: String,
    },
}

impl IrError {
    pub fn field(origin: &str, field: impl Into<String>, message: impl Into<String>) -> IrError {
        IrError::Field {
            origin: origin.into(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The kind of a layer. Only fully connected layers exist today; the
/// enum is tagged so that convolution and recurrent layers can be added
/// without breaking old files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerKind {
    Dense,
}

/// A float layer: `weights[o * inputs + i]` is the synapse from input `i`
/// to neuron `o`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloatLayer {
    pub kind: LayerKind,
    pub inputs: u32,
    pub outputs: u32,
    /// Firing threshold `theta` of every neuron of the layer.
    pub threshold: f32,
    pub weights: Vec<f32>,
    /// The layer's neuron (default: TTFS; absent from files of TTFS layers).
    #[serde(default, skip_serializing_if = "NeuronModel::is_ttfs")]
    pub neuron: NeuronModel,
    /// Weights from the layer's own neurons, `recurrent[o * outputs + i]`
    /// from neuron `i` to neuron `o` (a spike of step `t` reaches the
    /// layer's currents at `t`, like a feed-forward spike).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrent: Option<Vec<f32>>,
}

/// A trained network with float weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloatNetwork {
    pub format: String,
    pub version: u32,
    pub input_size: u32,
    pub encoding: InputEncoding,
    /// Steps one inference runs (`T`).
    pub time_steps: u32,
    pub layers: Vec<FloatLayer>,
    /// How the output layer's activity decides the class.
    #[serde(default, skip_serializing_if = "Decision::is_first_spike")]
    pub decision: Decision,
    /// The training images the trainer held out (absent from networks a
    /// trainer did not write, such as NIR imports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out: Option<HeldOut>,
}

/// The training images a trainer held out for validation and never
/// trained on: images `first .. first + count` of a training split of
/// `train_images` images whose content has the fingerprint `crc32`
/// (CRC-32 of the held-out images' pixels, then their labels). Choosing
/// the time resolution on these measures the network on images it has not
/// seen; a dataset whose held-out images differ (another split, another
/// order) is refused rather than silently measured on trained images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldOut {
    pub train_images: usize,
    pub first: usize,
    pub count: usize,
    pub crc32: u32,
}

/// A quantized layer: integer weights, integer threshold, and the scale
/// that maps float units to integer units (`w_int ~= w_float * scale`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantLayer {
    pub kind: LayerKind,
    pub inputs: u32,
    pub outputs: u32,
    pub threshold: i64,
    pub scale: f64,
    pub weights: Vec<i32>,
    /// The layer's neuron (default: TTFS; absent from files of TTFS layers).
    #[serde(default, skip_serializing_if = "NeuronModel::is_ttfs")]
    pub neuron: NeuronModel,
    /// Weights from the layer's own neurons, `recurrent[o * outputs + i]`
    /// from neuron `i` to neuron `o`, on the layer's scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrent: Option<Vec<i32>>,
}

/// A network in the integers the hardware computes with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantNetwork {
    pub format: String,
    pub version: u32,
    pub input_size: u32,
    pub encoding: InputEncoding,
    pub time_steps: u32,
    /// Signed width of every weight.
    pub weight_bits: u32,
    pub layers: Vec<QuantLayer>,
    /// How the output layer's activity decides the class.
    #[serde(default, skip_serializing_if = "Decision::is_first_spike")]
    pub decision: Decision,
}

/// Shape facts shared by both forms, checked by one function.
struct Shape<'a> {
    format: &'a str,
    version: u32,
    expected_format: &'a str,
    input_size: u32,
    encoding: &'a InputEncoding,
    time_steps: u32,
    /// Per layer: inputs, outputs, weights, recurrent weights (if any), neuron.
    layers: Vec<(u32, u32, usize, Option<usize>, NeuronModel)>,
}

/// The shape facts of one layer of either form.
fn layer_shape<T>(
    inputs: u32,
    outputs: u32,
    weights: &[T],
    recurrent: &Option<Vec<T>>,
    neuron: NeuronModel,
) -> (u32, u32, usize, Option<usize>, NeuronModel) {
    (
        inputs,
        outputs,
        weights.len(),
        recurrent.as_ref().map(|r| r.len()),
        neuron,
    )
}

fn check_shape(s: &Shape, origin: &str) -> Result<(), IrError> {
    let bad = |field: String, message: String| Err(IrError::field(origin, field, message));
    if s.format != s.expected_format {
        return bad(
            "format".into(),
            format!("is \"{}\", expected \"{}\"", s.format, s.expected_format),
        );
    }
    if s.version != FORMAT_VERSION {
        return bad(
            "version".into(),
            format!(
                "is {}, this build reads version {FORMAT_VERSION}",
                s.version
            ),
        );
    }
    if s.input_size == 0 {
        return bad("input_size".into(), "must be at least 1".into());
    }
    s.encoding.validate(origin)?;
    if s.encoding.bias_channels >= s.input_size {
        return bad(
            "encoding.bias_channels".into(),
            format!(
                "is {}, must be less than input_size = {} (some channels must carry pixels)",
                s.encoding.bias_channels, s.input_size
            ),
        );
    }
    if s.time_steps < 1 {
        return bad("time_steps".into(), "must be at least 1".into());
    }
    if s.encoding.input_steps > s.time_steps {
        return bad(
            "encoding.input_steps".into(),
            format!(
                "is {}, more than time_steps = {}: late inputs would never arrive",
                s.encoding.input_steps, s.time_steps
            ),
        );
    }
    if s.layers.is_empty() {
        return bad("layers".into(), "must hold at least one layer".into());
    }
    let mut expected_inputs = s.input_size;
    for (l, &(inputs, outputs, n_weights, n_rec, neuron)) in s.layers.iter().enumerate() {
        neuron.validate(origin, &format!("layers[{l}].neuron"))?;
        if let Some(n_rec) = n_rec {
            let want = outputs as u64 * outputs as u64;
            if n_rec as u64 != want {
                return bad(
                    format!("layers[{l}].recurrent"),
                    format!("has {n_rec} entries, expected outputs * outputs = {want}"),
                );
            }
        }
        if inputs != expected_inputs {
            return bad(
                format!("layers[{l}].inputs"),
                format!("is {inputs}, but the layer before gives {expected_inputs}"),
            );
        }
        if outputs == 0 {
            return bad(format!("layers[{l}].outputs"), "must be at least 1".into());
        }
        let want = inputs as u64 * outputs as u64;
        if n_weights as u64 != want {
            return bad(
                format!("layers[{l}].weights"),
                format!("has {n_weights} entries, expected inputs * outputs = {want}"),
            );
        }
        expected_inputs = outputs;
    }
    Ok(())
}

impl FloatNetwork {
    /// A network with all-zero weights and the given layer sizes
    /// (`sizes[0]` is the input size).
    pub fn zeros(sizes: &[u32], encoding: InputEncoding, time_steps: u32, threshold: f32) -> Self {
        let layers = sizes
            .windows(2)
            .map(|w| FloatLayer {
                kind: LayerKind::Dense,
                inputs: w[0],
                outputs: w[1],
                threshold,
                weights: vec![0.0; w[0] as usize * w[1] as usize],
                neuron: NeuronModel::TTFS,
                recurrent: None,
            })
            .collect();
        FloatNetwork {
            format: FLOAT_FORMAT.into(),
            version: FORMAT_VERSION,
            input_size: sizes[0],
            encoding,
            time_steps,
            layers,
            decision: Decision::FirstSpike,
            held_out: None,
        }
    }

    pub fn validate(&self, origin: &str) -> Result<(), IrError> {
        if let Some(h) = &self.held_out {
            if h.count == 0
                || h.first
                    .checked_add(h.count)
                    .is_none_or(|end| end > h.train_images)
            {
                return Err(IrError::field(
                    origin,
                    "held_out",
                    format!(
                        "training images {}..{} must be a non-empty range within the split's {}",
                        h.first,
                        h.first.saturating_add(h.count),
                        h.train_images
                    ),
                ));
            }
        }
        check_shape(
            &Shape {
                format: &self.format,
                version: self.version,
                expected_format: FLOAT_FORMAT,
                input_size: self.input_size,
                encoding: &self.encoding,
                time_steps: self.time_steps,
                layers: self
                    .layers
                    .iter()
                    .map(|l| layer_shape(l.inputs, l.outputs, &l.weights, &l.recurrent, l.neuron))
                    .collect(),
            },
            origin,
        )?;
        for (l, layer) in self.layers.iter().enumerate() {
            if !(layer.threshold.is_finite() && layer.threshold > 0.0) {
                return Err(IrError::field(
                    origin,
                    format!("layers[{l}].threshold"),
                    format!("is {}, must be a finite number > 0", layer.threshold),
                ));
            }
            if let Some(i) = layer.weights.iter().position(|w| !w.is_finite()) {
                return Err(IrError::field(
                    origin,
                    format!("layers[{l}].weights[{i}]"),
                    format!("is {}, must be finite", layer.weights[i]),
                ));
            }
            if let Some(r) = &layer.recurrent {
                if let Some(i) = r.iter().position(|w| !w.is_finite()) {
                    return Err(IrError::field(
                        origin,
                        format!("layers[{l}].recurrent[{i}]"),
                        format!("is {}, must be finite", r[i]),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn load(path: &Path) -> Result<FloatNetwork, IrError> {
        let net: FloatNetwork = load_json(path)?;
        net.validate(&path.display().to_string())?;
        Ok(net)
    }

    pub fn save(&self, path: &Path) -> Result<(), IrError> {
        self.validate("network to save")?;
        save_json(path, self)
    }

    /// Fraction of synapses that are absent (zero), feed-forward and
    /// recurrent weights alike.
    pub fn sparsity(&self) -> f64 {
        let (zeros, total) = self.layers.iter().fold((0usize, 0usize), |(z, t), l| {
            let all = l.weights.iter().chain(l.recurrent.iter().flatten());
            let (lz, lt) = all.fold((0, 0), |(z, t), &w| (z + usize::from(w == 0.0), t + 1));
            (z + lz, t + lt)
        });
        zeros as f64 / total.max(1) as f64
    }
}

impl QuantNetwork {
    /// A dense layered network from `(outputs, threshold, weights)` per
    /// layer (`weights[o * inputs + i]`, zero = no synapse), scale 1, not
    /// yet validated: the builder of tests, examples and generators.
    pub fn dense(
        input_size: u32,
        encoding: InputEncoding,
        time_steps: u32,
        weight_bits: u32,
        layers: Vec<(u32, i64, Vec<i32>)>,
    ) -> QuantNetwork {
        let mut inputs = input_size;
        let layers = layers
            .into_iter()
            .map(|(outputs, threshold, weights)| {
                let l = QuantLayer {
                    kind: LayerKind::Dense,
                    inputs,
                    outputs,
                    threshold,
                    scale: 1.0,
                    weights,
                    neuron: NeuronModel::TTFS,
                    recurrent: None,
                };
                inputs = outputs;
                l
            })
            .collect();
        QuantNetwork {
            format: QUANT_FORMAT.into(),
            version: FORMAT_VERSION,
            input_size,
            encoding,
            time_steps,
            weight_bits,
            layers,
            decision: Decision::FirstSpike,
        }
    }

    pub fn validate(&self, origin: &str) -> Result<(), IrError> {
        check_shape(
            &Shape {
                format: &self.format,
                version: self.version,
                expected_format: QUANT_FORMAT,
                input_size: self.input_size,
                encoding: &self.encoding,
                time_steps: self.time_steps,
                layers: self
                    .layers
                    .iter()
                    .map(|l| layer_shape(l.inputs, l.outputs, &l.weights, &l.recurrent, l.neuron))
                    .collect(),
            },
            origin,
        )?;
        if !(2..=16).contains(&self.weight_bits) {
            return Err(IrError::field(
                origin,
                "weight_bits",
                format!("is {}, must be in 2..=16", self.weight_bits),
            ));
        }
        let wmax = (1i32 << (self.weight_bits - 1)) - 1;
        let wmin = -(1i32 << (self.weight_bits - 1));
        for (l, layer) in self.layers.iter().enumerate() {
            if layer.threshold < 1 {
                return Err(IrError::field(
                    origin,
                    format!("layers[{l}].threshold"),
                    format!("is {}, must be at least 1", layer.threshold),
                ));
            }
            if !(layer.scale.is_finite() && layer.scale > 0.0) {
                return Err(IrError::field(
                    origin,
                    format!("layers[{l}].scale"),
                    format!("is {}, must be a finite number > 0", layer.scale),
                ));
            }
            let empty = Vec::new();
            for (name, ws) in [
                ("weights", &layer.weights),
                ("recurrent", layer.recurrent.as_ref().unwrap_or(&empty)),
            ] {
                if let Some(i) = ws.iter().position(|&w| w < wmin || w > wmax) {
                    return Err(IrError::field(
                        origin,
                        format!("layers[{l}].{name}[{i}]"),
                        format!(
                            "is {}, outside the {}-bit signed range {wmin}..={wmax}",
                            ws[i], self.weight_bits
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn load(path: &Path) -> Result<QuantNetwork, IrError> {
        let net: QuantNetwork = load_json(path)?;
        net.validate(&path.display().to_string())?;
        Ok(net)
    }

    pub fn save(&self, path: &Path) -> Result<(), IrError> {
        self.validate("network to save")?;
        save_json(path, self)
    }

    /// Number of present (non-zero) synapses, recurrent ones included.
    pub fn synapse_count(&self) -> usize {
        self.layers
            .iter()
            .map(|l| {
                l.weights.iter().filter(|&&w| w != 0).count()
                    + l.recurrent
                        .as_ref()
                        .map_or(0, |r| r.iter().filter(|&&w| w != 0).count())
            })
            .sum()
    }

    /// Whether any layer's neurons may spike more than once, or the input
    /// is rate coded (more than one spike per channel).
    pub fn multi_spike(&self) -> bool {
        self.encoding.coding == crate::encode::Coding::Rate
            || self.layers.iter().any(|l| l.neuron.multi_spike())
    }

    /// Layer sizes, input first.
    pub fn sizes(&self) -> Vec<u32> {
        std::iter::once(self.input_size)
            .chain(self.layers.iter().map(|l| l.outputs))
            .collect()
    }
}

/// Reads a JSON file into `T`; errors name the file and, for syntax or
/// type errors, the line and column.
pub fn load_json<T: DeserializeOwned>(path: &Path) -> Result<T, IrError> {
    let origin = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| IrError::Io {
        origin: origin.clone(),
        source,
    })?;
    serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| IrError::Parse {
        origin,
        message: e.to_string(),
    })
}

/// Writes `value` as JSON through a temporary file renamed into place, so a
/// failed write never leaves a half-written file under the final name.
pub fn save_json<T: Serialize>(path: &Path, value: &T) -> Result<(), IrError> {
    let bytes = serde_json::to_vec(value).map_err(|e| IrError::Parse {
        origin: path.display().to_string(),
        message: e.to_string(),
    })?;
    write_atomic(path, &bytes).map_err(|source| IrError::Io {
        origin: path.display().to_string(),
        source,
    })
}

/// Writes `bytes` to `path` atomically (temporary file, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    // A failed write (a full disk) must not leave the temporary behind.
    std::fs::write(&tmp, bytes).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> FloatNetwork {
        let mut n = FloatNetwork::zeros(&[3, 2, 2], InputEncoding::new(4), 16, 1.0);
        n.layers[0].weights = vec![0.5, -0.25, 0.0, 1.0, 1.0, 1.0];
        n.layers[1].weights = vec![1.0, 0.0, 0.0, 1.0];
        n
    }

    #[test]
    fn float_network_round_trips_through_a_file() {
        let dir = std::env::temp_dir().join(format!("onespike-ir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("net.json");
        let n = tiny();
        n.save(&path).unwrap();
        assert_eq!(FloatNetwork::load(&path).unwrap(), n);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn shape_mismatch_names_the_layer_field() {
        let mut n = tiny();
        n.layers[1].inputs = 3;
        let msg = n.validate("net.json").unwrap_err().to_string();
        assert!(
            msg.contains("net.json") && msg.contains("layers[1].inputs"),
            "{msg}"
        );
        let mut n = tiny();
        n.layers[0].weights.pop();
        let msg = n.validate("net.json").unwrap_err().to_string();
        assert!(
            msg.contains("layers[0].weights") && msg.contains("expected"),
            "{msg}"
        );
    }

    #[test]
    fn nan_weight_is_refused_with_its_index() {
        let mut n = tiny();
        n.layers[0].weights[4] = f32::NAN;
        let msg = n.validate("net.json").unwrap_err().to_string();
        assert!(msg.contains("layers[0].weights[4]"), "{msg}");
    }

    #[test]
    fn wrong_version_and_format_are_refused() {
        let mut n = tiny();
        n.version = 99;
        assert!(n.validate("x").unwrap_err().to_string().contains("version"));
        let mut n = tiny();
        n.format = QUANT_FORMAT.into();
        assert!(n.validate("x").unwrap_err().to_string().contains("format"));
    }

    #[test]
    fn malformed_json_error_names_the_file_and_line() {
        let dir = std::env::temp_dir().join(format!("onespike-ir-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("broken.json");
        std::fs::write(
            &path,
            "{\"format\": \"onespike-float-network\",\n \"version\": }",
        )
        .unwrap();
        let msg = FloatNetwork::load(&path).unwrap_err().to_string();
        assert!(
            msg.contains("broken.json") && msg.contains("line 2"),
            "{msg}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
