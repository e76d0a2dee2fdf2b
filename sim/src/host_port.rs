//! `host_port`: what the host writes and reads (`hw/src/host_port.rs`
//! and the host driver's contract in `hw/src/driver.rs`).
//!
//! - [`load`]: the registers and SRAM images of every core, as the
//!   driver's host writes leave them: words go through the packed
//!   `PointerEntry` / `WeightEntry` layouts and registers through their
//!   widths, so the model holds exactly what the RTL's memories hold.
//!   Cores the program does not use get no neurons and an empty window.
//! - [`InputStream`]: the input events in the driver's order (by step, then
//!   channel; steps `>= T` dropped), one offered per cycle without bubbles.
//! - [`OutputPort`]: the output spike register. The driver keeps
//!   `out_ready` high, so the register never holds the bus; each spike
//!   appears on `out_valid` the cycle after the router hands it over.

use crate::core::{Arith, CoreConfig};
use crate::SimError;
use onespike_compiler::layout::{sign_extend, PointerEntry, WeightEntry};
use onespike_compiler::{HwParams, Program};

/// A program as loaded into the accelerator.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub params: HwParams,
    /// Global register `T`.
    pub time_steps: u32,
    pub input_size: u32,
    /// Every hardware core (`params.cores` of them).
    pub cores: Vec<CoreConfig>,
    /// `(listen_base, listen_end, core)` of every core with a non-empty window.
    pub windows: Vec<(u32, u32, u32)>,
    /// `(layer, index)` of the neuron at `core * N + local`, if any.
    pub slot_of: Vec<Option<(u32, u32)>>,
    /// Neurons per layer.
    pub layer_sizes: Vec<usize>,
    /// `(core, local)` of each output neuron, in class order.
    pub output_slots: Vec<(u32, u32)>,
    /// Most neurons in use on one core.
    pub n_max: u32,
    pub arith: Arith,
}

/// Loads `prog` (validated first, as the driver does before writing).
pub fn load(prog: &Program) -> Result<Loaded, SimError> {
    prog.validate("program to simulate")?;
    let p = &prog.params;
    let vmask = (1u64 << p.membrane_bits) - 1;
    let last_layer = prog.neurons.len().saturating_sub(1) as u32;
    let mut cores = Vec::with_capacity(p.cores as usize);
    for c in 0..p.cores {
        let cfg = match prog.cores.get(c as usize) {
            Some(img) => {
                let pointers = img
                    .pointers
                    .iter()
                    .map(|e| PointerEntry::unpack(e.pack(p), p))
                    .collect();
                let (targets, weights) = img
                    .weights
                    .iter()
                    .map(|e| {
                        let w = WeightEntry::unpack(e.pack(p), p);
                        (w.target, w.weight as i64)
                    })
                    .unzip();
                CoreConfig {
                    index: c,
                    layer: Some(img.layer),
                    neurons: img.neurons,
                    threshold: sign_extend(img.threshold as u64 & vmask, p.membrane_bits),
                    listen_base: img.listen_base,
                    listen_end: img.listen_base + img.pointers.len() as u32,
                    is_output: img.layer == last_layer,
                    pointers,
                    targets,
                    weights,
                }
            }
            None => CoreConfig {
                index: c,
                layer: None,
                neurons: 0,
                threshold: 0,
                listen_base: 0,
                listen_end: 0,
                is_output: false,
                pointers: Vec::new(),
                targets: Vec::new(),
                weights: Vec::new(),
            },
        };
        cores.push(cfg);
    }
    let windows = cores
        .iter()
        .filter(|c| c.listen_end > c.listen_base)
        .map(|c| (c.listen_base, c.listen_end, c.index))
        .collect();
    let n = p.neurons_per_core as usize;
    let mut slot_of = vec![None; p.cores as usize * n];
    for (l, layer) in prog.neurons.iter().enumerate() {
        for (j, s) in layer.iter().enumerate() {
            slot_of[s.core as usize * n + s.local as usize] = Some((l as u32, j as u32));
        }
    }
    Ok(Loaded {
        params: p.clone(),
        time_steps: prog.time_steps,
        input_size: prog.input_size,
        n_max: cores.iter().map(|c| c.neurons).max().unwrap_or(0),
        cores,
        windows,
        slot_of,
        layer_sizes: prog.neurons.iter().map(|l| l.len()).collect(),
        output_slots: prog
            .neurons
            .last()
            .map(|l| l.iter().map(|s| (s.core, s.local)).collect())
            .unwrap_or_default(),
        arith: Arith {
            i_min: HwParams::signed_min(p.current_bits),
            i_max: HwParams::signed_max(p.current_bits),
            v_min: HwParams::signed_min(p.membrane_bits),
            v_max: HwParams::signed_max(p.membrane_bits),
        },
    })
}

/// The input event stream as the driver presents it.
#[derive(Debug, Clone, Default)]
pub struct InputStream {
    /// `(step, channel)`, sorted.
    events: Vec<(u32, u32)>,
    next: usize,
}

impl InputStream {
    /// The events of `input` (spike step per channel); refuses what the
    /// driver refuses, with the same limits.
    pub fn new(input: &[Option<u32>], l: &Loaded) -> Result<InputStream, SimError> {
        let events =
            onespike_compiler::program::input_events(input, l.input_size, l.time_steps, &l.params)?;
        Ok(InputStream { events, next: 0 })
    }

    /// The offered event (`in_valid`, `in_step`, `in_source`), if any.
    pub fn offered(&self) -> Option<(u32, u32)> {
        self.events.get(self.next).copied()
    }

    /// The channel of the offered event if the router may take it in step
    /// `t` (`in_step <= t`).
    pub fn offers(&self, t: u32) -> Option<u32> {
        match self.offered() {
            Some((s, ch)) if s <= t => Some(ch),
            _ => None,
        }
    }

    /// The router took the offered event (`in_ready`).
    pub fn take(&mut self) {
        self.next += 1;
    }
}

/// The output stream as the host records it.
#[derive(Debug, Clone, Default)]
pub struct OutputPort {
    /// `spikes[l][j]`: the step tag of the spike of neuron `j` of layer `l`.
    pub spikes: Vec<Vec<Option<u32>>>,
    pub count: u64,
}

impl OutputPort {
    pub fn new(l: &Loaded) -> OutputPort {
        OutputPort {
            spikes: l.layer_sizes.iter().map(|&n| vec![None; n]).collect(),
            count: 0,
        }
    }

    /// The router hands over the spike of `(core, local)` at step `t`.
    pub fn push(&mut self, l: &Loaded, core: u32, local: u32, t: u32) -> Result<(), SimError> {
        let n = l.params.neurons_per_core;
        match l.slot_of[(core * n + local) as usize] {
            Some((layer, j)) => {
                self.spikes[layer as usize][j as usize] = Some(t);
                self.count += 1;
                Ok(())
            }
            None => Err(SimError::UnknownSpike {
                source_id: l.params.neuron_source_id(core, local) as u64,
            }),
        }
    }
}
