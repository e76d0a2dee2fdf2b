//! The program: everything the host port writes into the accelerator for
//! one network (configuration registers and SRAM images), as a versioned
//! file that the simulator and the RTL testbench both load.
//!
//! Ids: input channel `i` is global source id `i` (`< max_inputs`); neuron
//! `local` of core `c` is `HwParams::neuron_source_id(c, local)`. A core
//! listens to the window `listen_base .. listen_base + pointers.len()` of
//! source ids; `pointers[src - listen_base]` gives `(base, count)` of the
//! source's synapse list in `weights`. A core of a recurrent layer has a
//! second window, `rec_base .. rec_base + rec_len` (its own layer's ids),
//! whose entries follow the first window's in `pointers`.

use crate::encode::{Coding, InputEncoding};
use crate::ir::{load_json, save_json, IrError, QuantNetwork, FORMAT_VERSION};
use crate::layout::{PointerEntry, WeightEntry};
use crate::neuron::{current_bound, NeuronModel, Reset};
use crate::params::HwParams;
use crate::spikes::Decision;
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
    /// Pointer SRAM image, one entry per source id of the listen window
    /// (then, for a recurrent layer, one per id of the second window).
    pub pointers: Vec<PointerEntry>,
    /// Weight SRAM image.
    pub weights: Vec<WeightEntry>,
    /// Neuron-mode register (absent from files of TTFS cores).
    #[serde(default, skip_serializing_if = "NeuronModel::is_ttfs")]
    pub neuron: NeuronModel,
    /// First source id of the second (recurrent) window.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rec_base: u32,
    /// Ids in the second window (0: none); its pointer entries are the
    /// last `rec_len` of `pointers`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rec_len: u32,
}

fn is_zero(x: &u32) -> bool {
    *x == 0
}

impl CoreImage {
    /// `(listen_end, rec_base, rec_end, rec_pointer)`: the end of the first
    /// window, the second window, and the pointer address of its first id.
    pub fn windows(&self) -> (u32, u32, u32, u32) {
        let ff_len = self.pointers.len() as u32 - self.rec_len.min(self.pointers.len() as u32);
        let (rb, re) = if self.rec_len == 0 {
            (0, 0)
        } else {
            (self.rec_base, self.rec_base + self.rec_len)
        };
        (self.listen_base + ff_len, rb, re, ff_len)
    }

    /// The source id of pointer SRAM address `s`.
    pub fn source_of_pointer(&self, s: usize) -> u32 {
        let (ff_end, rb, _, rp) = self.windows();
        if (s as u32) < ff_end - self.listen_base {
            self.listen_base + s as u32
        } else {
            rb + (s as u32 - rp)
        }
    }

    /// Pointer SRAM address of source `id`, if the core listens to it.
    pub fn pointer_of(&self, id: u32) -> Option<usize> {
        let (ff_end, rb, re, rp) = self.windows();
        if id >= self.listen_base && id < ff_end {
            Some((id - self.listen_base) as usize)
        } else if id >= rb && id < re {
            Some((id - rb + rp) as usize)
        } else {
            None
        }
    }
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
    /// How the host decides the class from the output layer.
    #[serde(default, skip_serializing_if = "Decision::is_first_spike")]
    pub decision: Decision,
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
            decision: net.decision,
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
        // Most spikes one source can send in an inference: a latency input
        // or a fire-once neuron one, anything else one per step.
        let core_once: Vec<bool> = self
            .cores
            .iter()
            .map(|c| c.neuron.reset == Reset::Once)
            .collect();
        let spikes_of = |id: u32| -> i64 {
            if id < p.max_inputs {
                // A bias channel spikes every step; ids past input_size never.
                let bias =
                    id < self.input_size && id + self.encoding.bias_channels >= self.input_size;
                match self.encoding.coding {
                    Coding::Latency if !bias => 1,
                    _ => self.time_steps as i64,
                }
            } else {
                let core = ((id - p.max_inputs) / p.neurons_per_core) as usize;
                if core_once.get(core).copied().unwrap_or(true) {
                    1
                } else {
                    self.time_steps as i64
                }
            }
        };
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
            core.neuron.validate(origin, &f("neuron"))?;
            for (name, k, bits) in [
                ("v_shift", core.neuron.v_shift, p.membrane_bits),
                ("i_shift", core.neuron.i_shift, p.current_bits),
            ] {
                if k.is_some_and(|k| k >= bits) {
                    return bad(
                        f(&format!("neuron.{name}")),
                        format!(
                            "is {}, must be below the state's width {bits} (a wider shift acts like {})",
                            k.unwrap(),
                            bits - 1
                        ),
                    );
                }
            }
            if core.rec_len as usize > core.pointers.len() {
                return bad(
                    f("rec_len"),
                    format!(
                        "is {}, more than the {} pointer entries",
                        core.rec_len,
                        core.pointers.len()
                    ),
                );
            }
            let (ff_end, rb, re, _) = core.windows();
            if ff_end as u64 > p.source_count() || re as u64 > p.source_count() {
                return bad(
                    f("listen_base"),
                    format!(
                        "window ends past the last source id {}",
                        p.source_count() - 1
                    ),
                );
            }
            if re > rb && ff_end > core.listen_base && rb < ff_end && core.listen_base < re {
                return bad(
                    f("rec_base"),
                    format!(
                        "second window {rb}..{re} overlaps the first {}..{ff_end}",
                        core.listen_base
                    ),
                );
            }
            let (mut pos, mut neg) = (
                vec![0i64; core.neurons as usize],
                vec![0i64; core.neurons as usize],
            );
            let (mut pos_run, mut neg_run) = (pos.clone(), neg.clone());
            for (s, e) in core.pointers.iter().enumerate() {
                let m = spikes_of(core.source_of_pointer(s));
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
                    let t = w.target as usize;
                    if w.weight > 0 {
                        pos[t] += w.weight as i64;
                        pos_run[t] = pos_run[t].saturating_add(w.weight as i64 * m);
                    } else {
                        neg[t] += w.weight as i64;
                        neg_run[t] = neg_run[t].saturating_add(w.weight as i64 * m);
                    }
                }
            }
            for j in 0..core.neurons as usize {
                let hi = current_bound(&core.neuron, pos[j], pos_run[j]);
                let lo = -current_bound(&core.neuron, -neg[j], -neg_run[j]);
                if hi > imax || lo < imin {
                    return bad(
                        f("weights"),
                        format!(
                            "neuron {j} could reach current {} (range {imin}..={imax} of current_bits = {}), where the order of events would change the result: raise current_bits{}",
                            if hi > imax { hi } else { lo },
                            p.current_bits,
                            if core.neuron.i_shift != Some(0) && core.neuron.multi_spike() {
                                ", or let the current leak (a smaller i_shift)"
                            } else {
                                ""
                            }
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

    /// The network this program computes, read back from its SRAM images
    /// (the inverse of mapping), so that the reference model can judge a
    /// program whose network is not at hand. Each layer's weights come
    /// from the pointer and weight SRAMs of its cores; two synapses of one
    /// source onto one neuron add up (as the hardware adds them).
    ///
    /// Refused, naming the core and the field, where the program has no
    /// network form: a core that listens to a source of neither the
    /// previous layer (the inputs, for layer 0) nor its own (recurrent),
    /// cores of one layer with different thresholds or neuron modes, or a
    /// summed weight beyond `weight_bits`.
    pub fn network(&self, origin: &str) -> Result<QuantNetwork, IrError> {
        let sizes: Vec<u32> = self.neurons.iter().map(|l| l.len() as u32).collect();
        let mut layers: Vec<crate::ir::QuantLayer> = Vec::with_capacity(sizes.len());
        for (l, &outputs) in sizes.iter().enumerate() {
            let inputs = if l == 0 {
                self.input_size
            } else {
                sizes[l - 1]
            };
            let mut ff = vec![0i64; (inputs * outputs) as usize];
            let mut rec = vec![0i64; (outputs * outputs) as usize];
            let mut any_rec = false;
            let mut head: Option<(usize, i64, NeuronModel)> = None;
            for (c, core) in self.cores.iter().enumerate() {
                if core.layer as usize != l || core.neurons == 0 {
                    continue;
                }
                let field = |f: &str| format!("cores[{c}].{f}");
                match head {
                    None => head = Some((c, core.threshold, core.neuron)),
                    Some((c0, th, m)) => {
                        if th != core.threshold || m != core.neuron {
                            return Err(IrError::field(
                                origin,
                                field("threshold"),
                                format!("layer {l} has cores with different thresholds or neuron modes (cores {c0} and {c}): no network has that form"),
                            ));
                        }
                    }
                }
                // Layer index of each local neuron of this core.
                let index_of = |local: u32| {
                    self.neurons[l]
                        .iter()
                        .position(|s| s.core == c as u32 && s.local == local)
                };
                for (s, ptr) in core.pointers.iter().enumerate() {
                    if ptr.count == 0 {
                        continue;
                    }
                    let id = core.source_of_pointer(s);
                    let (own, from) = if id < self.params.max_inputs {
                        (
                            false,
                            (l == 0 && id < self.input_size).then_some(id as usize),
                        )
                    } else {
                        match self.neuron_of(id) {
                            Some((ls, j)) if ls + 1 == l => (false, Some(j)),
                            Some((ls, j)) if ls == l => (true, Some(j)),
                            _ => (false, None),
                        }
                    };
                    let Some(from) = from else {
                        return Err(IrError::field(
                            origin,
                            field(&format!("pointers[{s}]")),
                            format!("source id {id} is neither layer {l}'s input nor its own layer: the program has no network form, so the reference model cannot run it"),
                        ));
                    };
                    for k in ptr.base..ptr.base + ptr.count {
                        let w = core.weights.get(k as usize).ok_or_else(|| {
                            IrError::field(
                                origin,
                                field(&format!("pointers[{s}]")),
                                "points beyond the weight SRAM image",
                            )
                        })?;
                        let to = index_of(w.target).ok_or_else(|| {
                            IrError::field(
                                origin,
                                field(&format!("weights[{k}]")),
                                format!("target {} is not a placed neuron", w.target),
                            )
                        })?;
                        if own {
                            any_rec = true;
                            rec[to * outputs as usize + from] += w.weight as i64;
                        } else {
                            ff[to * inputs as usize + from] += w.weight as i64;
                        }
                    }
                }
            }
            let (threshold, neuron) = match head {
                Some((_, th, m)) => (th, m),
                None => (
                    HwParams::signed_max(self.params.membrane_bits),
                    NeuronModel::default(),
                ),
            };
            let wmax = HwParams::signed_max(self.params.weight_bits);
            let wmin = HwParams::signed_min(self.params.weight_bits);
            let narrow = |v: Vec<i64>, what: &str| -> Result<Vec<i32>, IrError> {
                v.into_iter()
                    .map(|w| {
                        if !(wmin..=wmax).contains(&w) {
                            Err(IrError::field(
                                origin,
                                format!("layer {l} {what}"),
                                format!("synapses of one source onto one neuron add up to {w}, beyond weight_bits = {}", self.params.weight_bits),
                            ))
                        } else {
                            Ok(w as i32)
                        }
                    })
                    .collect()
            };
            layers.push(crate::ir::QuantLayer {
                kind: crate::ir::LayerKind::Dense,
                inputs,
                outputs,
                threshold,
                scale: 1.0,
                weights: narrow(ff, "weights")?,
                neuron,
                recurrent: if any_rec {
                    Some(narrow(rec, "recurrent weights")?)
                } else {
                    None
                },
            });
        }
        let net = QuantNetwork {
            format: crate::ir::QUANT_FORMAT.into(),
            version: FORMAT_VERSION,
            input_size: self.input_size,
            encoding: self.encoding,
            time_steps: self.time_steps,
            weight_bits: self.params.weight_bits,
            layers,
            decision: self.decision,
        };
        net.validate(origin)?;
        Ok(net)
    }
}

/// Why an input cannot be sent to the accelerator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("input has {got} values, the program expects input_size = {expected}")]
    Size { got: usize, expected: usize },
    #[error("input spike on channel {channel}, the program has input_size = {input_size}")]
    Channel { channel: u32, input_size: u32 },
    #[error(
        "input channel {channel}: step {step} is beyond the step counter (2^step_bits = {max})"
    )]
    Step { channel: usize, step: u32, max: u32 },
}

/// The input events the host sends for `input` (per-channel spike steps
/// or a list of events), in the order of the host port's contract:
/// `(step, channel)` sorted by step, then channel. Spikes at or after
/// `time_steps` never arrive (reference semantics) and are dropped; a step
/// the step counter cannot hold is refused. Shared by the RTL driver and
/// the simulator, so both see the same stream.
pub fn input_events<I: crate::spikes::SpikeInput + ?Sized>(
    input: &I,
    input_size: u32,
    time_steps: u32,
    p: &HwParams,
) -> Result<Vec<(u32, u32)>, InputError> {
    if let Some(n) = input.channel_count() {
        if n != input_size as usize {
            return Err(InputError::Size {
                got: n,
                expected: input_size as usize,
            });
        }
    }
    let max = p.max_time_steps();
    let mut events = Vec::new();
    for s in input.events() {
        if s.neuron >= input_size {
            return Err(InputError::Channel {
                channel: s.neuron,
                input_size,
            });
        }
        if s.step >= max {
            return Err(InputError::Step {
                channel: s.neuron as usize,
                step: s.step,
                max,
            });
        }
        if s.step < time_steps {
            events.push((s.step, s.neuron));
        }
    }
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
    if let Some(l) = net.layers.iter().position(|l| l.recurrent.is_some()) {
        return Err(MapError::Invalid(IrError::field(
            "network to map",
            format!("layers[{l}].recurrent"),
            "the in-order mapper does not map recurrent layers; use the balanced mapper",
        )));
    }
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
                neuron: layer.neuron,
                rec_base: 0,
                rec_len: 0,
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
                    neuron: NeuronModel::TTFS,
                    recurrent: None,
                },
                QuantLayer {
                    kind: LayerKind::Dense,
                    inputs: 5,
                    outputs: 2,
                    threshold: 4,
                    scale: 1.0,
                    weights: vec![1, 0, 2, 0, 3, 0, 1, 0, 1, 0],
                    neuron: NeuronModel::TTFS,
                    recurrent: None,
                },
            ],
            decision: Decision::FirstSpike,
        }
    }

    fn params(n: u32) -> HwParams {
        let mut p = HwParams::preset("small").unwrap();
        p.neurons_per_core = n;
        p.cores = 8;
        p
    }

    #[test]
    fn a_program_reads_back_as_its_network() {
        let net = small_net();
        for n in [2, 8] {
            let prog = map_in_order(&net, &params(n)).unwrap();
            assert_eq!(prog.network("test").unwrap(), net, "{n} neurons per core");
        }
        // Recurrent layers (balanced mapper, second listen window).
        let mut rec = small_net();
        rec.layers[0].recurrent = Some((0..25).map(|k| if k % 6 == 1 { -2 } else { 0 }).collect());
        rec.layers[0].neuron = NeuronModel::lif(1);
        let (prog, _) = crate::map_balanced(&rec, &params(2), None).unwrap();
        assert_eq!(prog.network("test").unwrap(), rec);
        // A core listening to a source of neither neighbouring layer: refused.
        let mut odd = map_in_order(&net, &params(8)).unwrap();
        odd.cores[1].listen_base = 0;
        odd.cores[1].pointers[0] = PointerEntry { base: 0, count: 1 };
        let e = odd.network("odd.json").unwrap_err().to_string();
        assert!(
            e.contains("cores[1].pointers[0]") && e.contains("no network form"),
            "{e}"
        );
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
