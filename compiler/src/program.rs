//! The program: everything the host port writes into the accelerator for
//! one network (configuration registers and SRAM images), as a versioned
//! file that the simulator and the RTL testbench both load.
//!
//! Ids: input channel `i` is global source id `i` (`< max_inputs`); neuron
//! `local` of core `c` is `HwParams::neuron_source_id(c, local)`. A core
//! listens to the window `listen_base .. listen_base + pointers.len()` of
//! source ids; `pointers[src - listen_base]` gives `(base, count)` of the
//! source's synapse list in `weights`.

use crate::encode::InputEncoding;
use crate::ir::{load_json, save_json, IrError, QuantNetwork, FORMAT_VERSION};
use crate::layout::{PointerEntry, WeightEntry};
use crate::params::HwParams;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// `format` tag of a program file.
pub const PROGRAM_FORMAT: &str = "onespike-program";

/// Where a neuron of the network lives on the hardware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronSlot {
    pub core: u32,
    pub local: u32,
}

/// The image of one core: its registers and its two SRAMs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreImage {
    /// Network layer whose neurons this core holds.
    pub layer: u32,
    /// Firing threshold register.
    pub threshold: i64,
    /// Neurons in use: local indices `0..neurons`.
    pub neurons: u32,
    /// Global source id of pointer entry 0.
    pub listen_base: u32,
    /// Pointer SRAM image, one entry per source id of the listen window.
    pub pointers: Vec<PointerEntry>,
    /// Weight SRAM image.
    pub weights: Vec<WeightEntry>,
}

/// A network mapped onto the accelerator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    pub format: String,
    pub version: u32,
    /// The hardware configuration the program was compiled for.
    pub params: HwParams,
    pub input_size: u32,
    pub encoding: InputEncoding,
    pub time_steps: u32,
    /// Core images; `cores[c]` is hardware core `c`. Cores beyond the end
    /// are unused (no neurons, no listen window).
    pub cores: Vec<CoreImage>,
    /// `neurons[l][j]`: where neuron `j` of layer `l` lives.
    pub neurons: Vec<Vec<NeuronSlot>>,
}

impl Program {
    /// The program of `net` on `p` from a mapper's core images and neuron
    /// placement, validated (every mapper ends here).
    pub fn assemble(
        net: &QuantNetwork,
        p: &HwParams,
        cores: Vec<CoreImage>,
        neurons: Vec<Vec<NeuronSlot>>,
    ) -> Result<Program, IrError> {
        let prog = Program {
            format: PROGRAM_FORMAT.into(),
            version: FORMAT_VERSION,
            params: p.clone(),
            input_size: net.input_size,
            encoding: net.encoding,
            time_steps: net.time_steps,
            cores,
            neurons,
        };
        prog.validate("mapped program")?;
        Ok(prog)
    }

    /// Global source ids of the output neurons, in class order.
    pub fn output_ids(&self) -> Vec<u32> {
        self.neurons
            .last()
            .map(|l| {
                l.iter()
                    .map(|s| self.params.neuron_source_id(s.core, s.local))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Maps a global source id back to `(layer, index)` for a neuron
    /// (`None` for input channels and unused ids).
    pub fn neuron_of(&self, id: u32) -> Option<(usize, usize)> {
        let p = &self.params;
        if id < p.max_inputs {
            return None;
        }
        let rel = id - p.max_inputs;
        let (core, local) = (rel / p.neurons_per_core, rel % p.neurons_per_core);
        let c = self.cores.get(core as usize)?;
        if local >= c.neurons {
            return None;
        }
        let l = c.layer as usize;
        self.neurons[l]
            .iter()
            .position(|s| s.core == core && s.local == local)
            .map(|j| (l, j))
    }

    /// Checks the program against its own hardware parameters: capacities,
    /// field widths, and the no-current-saturation rule (see module
    /// `reference`).
    pub fn validate(&self, origin: &str) -> Result<(), IrError> {
        let bad = |field: String, message: String| Err(IrError::field(origin, field, message));
        if self.format != PROGRAM_FORMAT {
            return bad(
                "format".into(),
                format!("is \"{}\", expected \"{PROGRAM_FORMAT}\"", self.format),
            );
        }
        if self.version != FORMAT_VERSION {
            return bad(
                "version".into(),
                format!(
                    "is {}, this build reads version {FORMAT_VERSION}",
                    self.version
                ),
            );
        }
        let p = &self.params;
        p.validate(&format!("{origin}: params"))
            .map_err(|e| IrError::field(origin, "params", e.to_string()))?;
        self.encoding.validate(origin)?;
        if self.input_size == 0 || self.input_size > p.max_inputs {
            return bad(
                "input_size".into(),
                format!(
                    "is {}, must be in 1..={} (max_inputs)",
                    self.input_size, p.max_inputs
                ),
            );
        }
        if self.time_steps == 0 || self.time_steps > p.max_time_steps() {
            return bad(
                "time_steps".into(),
                format!(
                    "is {}, must be in 1..={} (2^step_bits)",
                    self.time_steps,
                    p.max_time_steps()
                ),
            );
        }
        if self.encoding.input_steps > self.time_steps {
            return bad(
                "encoding.input_steps".into(),
                format!(
                    "is {}, more than time_steps = {}",
                    self.encoding.input_steps, self.time_steps
                ),
            );
        }
        if self.cores.len() > p.cores as usize {
            return bad(
                "cores".into(),
                format!(
                    "uses {} cores, the hardware has {}",
                    self.cores.len(),
                    p.cores
                ),
            );
        }
        let (imin, imax) = (
            HwParams::signed_min(p.current_bits),
            HwParams::signed_max(p.current_bits),
        );
        let vmax = HwParams::signed_max(p.membrane_bits);
        let wmax = HwParams::signed_max(p.weight_bits);
        let wmin = HwParams::signed_min(p.weight_bits);
        for (c, core) in self.cores.iter().enumerate() {
            let f = |name: &str| format!("cores[{c}].{name}");
            if core.layer as usize >= self.neurons.len() {
                return bad(
                    f("layer"),
                    format!(
                        "is {}, the network has {} layers",
                        core.layer,
                        self.neurons.len()
                    ),
                );
            }
            if core.neurons > p.neurons_per_core {
                return bad(
                    f("neurons"),
                    format!(
                        "is {}, limit neurons_per_core = {}",
                        core.neurons, p.neurons_per_core
                    ),
                );
            }
            if core.threshold < 1 || core.threshold > vmax {
                return bad(
                    f("threshold"),
                    format!(
                        "is {}, must be in 1..={vmax} (membrane_bits = {})",
                        core.threshold, p.membrane_bits
                    ),
                );
            }
            if core.pointers.len() > p.pointer_depth as usize {
                return bad(
                    f("pointers"),
                    format!(
                        "has {} entries, limit pointer_depth = {}",
                        core.pointers.len(),
                        p.pointer_depth
                    ),
                );
            }
            if core.weights.len() > p.weight_depth as usize {
                return bad(
                    f("weights"),
                    format!(
                        "has {} entries, limit weight_depth = {}",
                        core.weights.len(),
                        p.weight_depth
                    ),
                );
            }
            if core.listen_base as u64 + core.pointers.len() as u64 > p.source_count() {
                return bad(
                    f("listen_base"),
                    format!(
                        "window ends past the last source id {}",
                        p.source_count() - 1
                    ),
                );
            }
            let (mut pos, mut neg) = (
                vec![0i64; core.neurons as usize],
                vec![0i64; core.neurons as usize],
            );
            for (s, e) in core.pointers.iter().enumerate() {
                if e.count > p.neurons_per_core
                    || e.base as u64 + e.count as u64 > core.weights.len() as u64
                {
                    return bad(
                        f(&format!("pointers[{s}]")),
                        format!(
                            "(base {}, count {}) runs past the {} weight entries",
                            e.base,
                            e.count,
                            core.weights.len()
                        ),
                    );
                }
                for w in &core.weights[e.base as usize..(e.base + e.count) as usize] {
                    if w.target >= core.neurons {
                        return bad(
                            f(&format!("pointers[{s}]")),
                            format!(
                                "targets neuron {}, the core uses {}",
                                w.target, core.neurons
                            ),
                        );
                    }
                    if w.weight < wmin as i32 || w.weight > wmax as i32 || w.weight == 0 {
                        return bad(
                            f(&format!("pointers[{s}]")),
                            format!("weight {} is zero or outside {wmin}..={wmax}", w.weight),
                        );
                    }
                    if w.weight > 0 {
                        pos[w.target as usize] += w.weight as i64;
                    } else {
                        neg[w.target as usize] += w.weight as i64;
                    }
                }
            }
            for j in 0..core.neurons as usize {
                if pos[j] > imax || neg[j] < imin {
                    return bad(
                        f("weights"),
                        format!(
                            "neuron {j} could reach current {} (range {imin}..={imax} of current_bits = {}): raise current_bits",
                            if pos[j] > imax { pos[j] } else { neg[j] },
                            p.current_bits
                        ),
                    );
                }
            }
        }
        crate::placement::check(self, origin)?;
        Ok(())
    }

    pub fn load(path: &Path) -> Result<Program, IrError> {
        let prog: Program = load_json(path)?;
        prog.validate(&path.display().to_string())?;
        Ok(prog)
    }

    pub fn save(&self, path: &Path) -> Result<(), IrError> {
        self.validate("program to save")?;
        save_json(path, self)
    }

    /// Number of synapses held across all cores.
    pub fn synapse_count(&self) -> usize {
        self.cores.iter().map(|c| c.weights.len()).sum()
    }
}

/// Why an input cannot be sent to the accelerator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("input has {got} values, the program expects input_size = {expected}")]
    Size { got: usize, expected: usize },
    #[error(
        "input channel {channel}: step {step} is beyond the step counter (2^step_bits = {max})"
    )]
    Step { channel: usize, step: u32, max: u32 },
}

/// The input events the host sends for `input` (the spike step of each
/// channel, `None` for none), in the order of the host port's contract:
/// `(step, channel)` sorted by step, then channel. Spikes at or after
/// `time_steps` never arrive (reference semantics) and are dropped; a step
/// the step counter cannot hold is refused. Shared by the RTL driver and
/// the simulator, so both see the same stream.
pub fn input_events(
    input: &[Option<u32>],
    input_size: u32,
    time_steps: u32,
    p: &HwParams,
) -> Result<Vec<(u32, u32)>, InputError> {
    if input.len() != input_size as usize {
        return Err(InputError::Size {
            got: input.len(),
            expected: input_size as usize,
        });
    }
    let max = p.max_time_steps();
    let mut events = Vec::new();
    for (channel, s) in input.iter().enumerate() {
        if let Some(step) = *s {
            if step >= max {
                return Err(InputError::Step { channel, step, max });
            }
            if step < time_steps {
                events.push((step, channel as u32));
            }
        }
    }
    events.sort_unstable();
    Ok(events)
}

/// Why a network could not be mapped onto the hardware.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    #[error("network does not fit: {limit} is {have}, layer {layer} needs {need}; {suggestion}")]
    DoesNotFit {
        limit: &'static str,
        have: u64,
        layer: usize,
        need: u64,
        suggestion: String,
    },
    #[error(transparent)]
    Invalid(#[from] IrError),
}

/// Maps a quantized network onto cores in layer order: each layer takes
/// consecutive cores, filled with consecutive neurons, `ceil(n / N)` cores
/// per layer, neurons spread evenly over them. Every core of layer `l`
/// listens to the whole id range of layer `l-1` (or the input channels).
pub fn map_in_order(net: &QuantNetwork, p: &HwParams) -> Result<Program, MapError> {
    net.validate("network to map")?;
    if net.weight_bits > p.weight_bits {
        return Err(MapError::DoesNotFit {
            limit: "weight_bits",
            have: p.weight_bits as u64,
            layer: 0,
            need: net.weight_bits as u64,
            suggestion: format!("quantize to {} bits", p.weight_bits),
        });
    }
    if net.input_size > p.max_inputs {
        return Err(MapError::DoesNotFit {
            limit: "max_inputs",
            have: p.max_inputs as u64,
            layer: 0,
            need: net.input_size as u64,
            suggestion: format!("set max_inputs = {}", net.input_size.next_power_of_two()),
        });
    }
    let n = p.neurons_per_core;
    let mut cores = Vec::new();
    let mut neurons = Vec::new();
    // Source-id window of the previous layer: (base, len).
    let mut prev_window = (0u32, net.input_size);
    // For each previous-layer index: its offset within the window.
    let mut prev_offset: Vec<u32> = (0..net.input_size).collect();
    for (l, layer) in net.layers.iter().enumerate() {
        let n_cores = layer.outputs.div_ceil(n);
        let first = cores.len() as u32;
        if first + n_cores > p.cores {
            let need = first + n_cores;
            return Err(MapError::DoesNotFit {
                limit: "cores",
                have: p.cores as u64,
                layer: l,
                need: need as u64,
                suggestion: format!("set cores = {need}"),
            });
        }
        let per = layer.outputs.div_ceil(n_cores);
        let mut slots = Vec::with_capacity(layer.outputs as usize);
        for j in 0..layer.outputs {
            slots.push(NeuronSlot {
                core: first + j / per,
                local: j % per,
            });
        }
        if prev_window.1 > p.pointer_depth {
            return Err(MapError::DoesNotFit {
                limit: "pointer_depth",
                have: p.pointer_depth as u64,
                layer: l,
                need: prev_window.1 as u64,
                suggestion: format!("set pointer_depth = {}", prev_window.1.next_power_of_two()),
            });
        }
        let n_in = layer.inputs as usize;
        for c in 0..n_cores {
            let lo = c * per;
            let hi = (lo + per).min(layer.outputs);
            let mut pointers = vec![PointerEntry::default(); prev_window.1 as usize];
            let mut weights = Vec::new();
            for i in 0..n_in {
                let base = weights.len() as u32;
                for j in lo..hi {
                    let w = layer.weights[j as usize * n_in + i];
                    if w != 0 {
                        weights.push(WeightEntry {
                            target: j - lo,
                            weight: w,
                        });
                    }
                }
                pointers[prev_offset[i] as usize] = PointerEntry {
                    base,
                    count: weights.len() as u32 - base,
                };
            }
            if weights.len() > p.weight_depth as usize {
                return Err(MapError::DoesNotFit {
                    limit: "weight_depth",
                    have: p.weight_depth as u64,
                    layer: l,
                    need: weights.len() as u64,
                    suggestion: format!(
                        "set weight_depth = {} or prune layer {l} further",
                        weights.len().next_power_of_two()
                    ),
                });
            }
            cores.push(CoreImage {
                layer: l as u32,
                threshold: layer.threshold,
                neurons: hi - lo,
                listen_base: prev_window.0,
                pointers,
                weights,
            });
        }
        let base = p.neuron_source_id(first, 0);
        prev_window = (base, n_cores * n);
        prev_offset = slots
            .iter()
            .map(|s| p.neuron_source_id(s.core, s.local) - base)
            .collect();
        neurons.push(slots);
    }
    let prog = Program::assemble(net, p, cores, neurons)?;
    Ok(prog)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{LayerKind, QuantLayer, QUANT_FORMAT};

    fn small_net() -> QuantNetwork {
        // 3 inputs -> 5 hidden -> 2 outputs, some zeros.
        let w1: Vec<i32> = (0..15)
            .map(|k| if k % 4 == 0 { 0 } else { (k % 7) - 3 })
            .collect();
        let w1: Vec<i32> = w1.into_iter().map(|w| if w == 0 { 1 } else { w }).collect();
        QuantNetwork {
            format: QUANT_FORMAT.into(),
            version: FORMAT_VERSION,
            input_size: 3,
            encoding: InputEncoding::new(4),
            time_steps: 16,
            weight_bits: 8,
            layers: vec![
                QuantLayer {
                    kind: LayerKind::Dense,
                    inputs: 3,
                    outputs: 5,
                    threshold: 3,
                    scale: 1.0,
                    weights: w1,
                },
                QuantLayer {
                    kind: LayerKind::Dense,
                    inputs: 5,
                    outputs: 2,
                    threshold: 4,
                    scale: 1.0,
                    weights: vec![1, 0, 2, 0, 3, 0, 1, 0, 1, 0],
                },
            ],
        }
    }

    fn params(n: u32) -> HwParams {
        let mut p = HwParams::preset("small").unwrap();
        p.neurons_per_core = n;
        p.cores = 8;
        p
    }

    #[test]
    fn every_synapse_lands_once_in_its_core() {
        let net = small_net();
        let p = params(2);
        let prog = map_in_order(&net, &p).unwrap();
        // 5 hidden over 3 cores of 2, 2 outputs on one core.
        assert_eq!(prog.cores.len(), 4);
        assert_eq!(prog.synapse_count(), net.synapse_count());
        // Rebuild the weight matrix from the images.
        for (l, layer) in net.layers.iter().enumerate() {
            for (j, slot) in prog.neurons[l].iter().enumerate() {
                let core = &prog.cores[slot.core as usize];
                for i in 0..layer.inputs as usize {
                    let src = if l == 0 {
                        i as u32
                    } else {
                        let s = prog.neurons[l - 1][i];
                        p.neuron_source_id(s.core, s.local)
                    };
                    let e = core.pointers[(src - core.listen_base) as usize];
                    let got: Vec<i32> = core.weights[e.base as usize..(e.base + e.count) as usize]
                        .iter()
                        .filter(|w| w.target == slot.local)
                        .map(|w| w.weight)
                        .collect();
                    let want = layer.weights[j * layer.inputs as usize + i];
                    assert_eq!(
                        got,
                        if want == 0 { vec![] } else { vec![want] },
                        "layer {l} {i}->{j}"
                    );
                }
            }
        }
        assert_eq!(prog.output_ids().len(), 2);
        let out0 = prog.output_ids()[0];
        assert_eq!(prog.neuron_of(out0), Some((1, 0)));
    }

    #[test]
    fn too_few_cores_names_the_limit_and_a_fix() {
        let net = small_net();
        let mut p = params(2);
        p.cores = 2;
        let msg = map_in_order(&net, &p).unwrap_err().to_string();
        assert!(
            msg.contains("cores") && msg.contains("set cores = 3"),
            "{msg}"
        );
    }

    #[test]
    fn fan_in_that_could_saturate_current_is_refused() {
        let mut net = small_net();
        net.layers[0].weights = vec![127; 15];
        let mut p = params(8);
        p.current_bits = 8;
        p.weight_bits = 8;
        let msg = map_in_order(&net, &p).unwrap_err().to_string();
        assert!(msg.contains("current_bits"), "{msg}");
    }
}
