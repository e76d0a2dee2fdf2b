//! `host_port`: what the host writes and reads (`hw/src/host_port.rs`
//! and the host driver's contract in `hw/src/driver.rs`).
//!
//! - [`load`]: the registers and SRAM images of every core, as the
//!   driver's host writes leave them: the simulator replays the very list
//!   of writes the driver sends (`onespike_compiler::regs::host_writes`)
//!   through the register map's decoder (`regs::decode_writes`), so words
//!   go through the packed layouts and registers through their widths, and
//!   the model holds exactly what the RTL's memories hold. Cores the
//!   program does not use get no neurons and empty windows.
//! - [`InputStream`]: the input events in the driver's order (by step, then
//!   channel; steps `>= T` dropped), the next one offered in every cycle in
//!   which the host's [`HostTiming`] raises `in_valid`.
//! - [`OutputPort`]: the output spike register. A spike appears on
//!   `out_valid` the cycle after the router hands it over and stays until
//!   a cycle with `out_ready` high takes it; while it waits the register
//!   is not free, and a spike bound for the output stream waits on the bus.

use crate::core::{Arith, CoreConfig};
use crate::SimError;
use onespike_compiler::regs::{decode_writes, host_writes, HostTiming, RunFlags};
use onespike_compiler::spikes::{Decision, SpikeInput, SpikeRecord};
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
    /// `(base, end, core)` of every non-empty listen window (a core of a
    /// recurrent layer has two).
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
    /// How the host decides the class.
    pub decision: Decision,
}

/// Loads `prog` (validated first, as the driver does before writing).
pub fn load(prog: &Program) -> Result<Loaded, SimError> {
    prog.validate("program to simulate")?;
    let p = &prog.params;
    let regs = decode_writes(p, &host_writes(prog, RunFlags::default()));
    let cores: Vec<CoreConfig> = regs
        .cores
        .into_iter()
        .enumerate()
        .map(|(c, r)| {
            let (targets, weights) = r
                .weights
                .iter()
                .map(|w| (w.target, w.weight as i64))
                .unzip();
            CoreConfig {
                index: c as u32,
                layer: prog.cores.get(c).map(|img| img.layer),
                neurons: r.neurons,
                threshold: r.threshold,
                listen_base: r.listen_base,
                listen_end: r.listen_end,
                rec_base: r.rec_base,
                rec_end: r.rec_end,
                rec_pointer: r.rec_pointer,
                neuron: r.neuron,
                is_output: r.output,
                pointers: r.pointers,
                targets,
                weights,
            }
        })
        .collect();
    let windows = cores
        .iter()
        .flat_map(|c| {
            [
                (c.listen_base, c.listen_end, c.index),
                (c.rec_base, c.rec_end, c.index),
            ]
        })
        .filter(|w| w.1 > w.0)
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
        time_steps: regs.time_steps,
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
        arith: Arith::of_widths(p.current_bits, p.membrane_bits),
        decision: prog.decision,
    })
}

/// The input event stream as the driver presents it.
#[derive(Debug, Clone, Default)]
pub struct InputStream {
    /// `(step, channel)`, sorted.
    events: Vec<(u32, u32)>,
    next: usize,
    timing: HostTiming,
}

impl InputStream {
    /// The events of `input` (spike step per channel, or events); refuses
    /// what the driver refuses, with the same limits.
    pub fn new<I: SpikeInput + ?Sized>(
        input: &I,
        l: &Loaded,
        timing: HostTiming,
    ) -> Result<InputStream, SimError> {
        let events =
            onespike_compiler::program::input_events(input, l.input_size, l.time_steps, &l.params)?;
        Ok(InputStream {
            events,
            next: 0,
            timing,
        })
    }

    /// The next event the host holds (whether or not it offers it now).
    pub fn offered(&self) -> Option<(u32, u32)> {
        self.events.get(self.next).copied()
    }

    /// The channel of the event offered in cycle `y` if the router may take
    /// it in step `t` (`in_valid` and `in_step <= t`).
    pub fn offers(&self, t: u32, y: u64) -> Option<u32> {
        match self.offered() {
            Some((s, ch)) if s <= t && self.timing.in_valid(y) => Some(ch),
            _ => None,
        }
    }

    /// Whether an event of step `<= t` is left (offered or withheld).
    pub fn pending(&self, t: u32) -> bool {
        self.offered().is_some_and(|(s, _)| s <= t)
    }

    /// The step controller's `input_quiet` in cycle `y` of step `t`, once
    /// no event of step `<= t` is left: `in_end` (nothing left) or an
    /// offered event of a later step. A cycle in which the host withholds
    /// `in_valid` with events left is not quiet.
    pub fn quiet_at(&self, t: u32, y: u64) -> bool {
        debug_assert!(!self.pending(t));
        self.offered().is_none() || self.timing.in_valid(y)
    }

    /// The first cycle `>= y` in which [`InputStream::quiet_at`] holds.
    pub fn quiet_from(&self, t: u32, mut y: u64) -> u64 {
        while !self.quiet_at(t, y) {
            y += 1;
        }
        y
    }

    /// The router took the offered event (`in_ready`).
    pub fn take(&mut self) {
        self.next += 1;
    }
}

/// The output stream as the host records it.
#[derive(Debug, Clone, Default)]
pub struct OutputPort {
    /// Every spike seen on the output stream, by layer, with its step tag.
    pub spikes: SpikeRecord,
    pub count: u64,
    timing: HostTiming,
    /// The cycle in which the host takes the spike in the register
    /// (`out_ready` high); the register is empty from the next cycle.
    taken_at: Option<u64>,
}

impl OutputPort {
    pub fn new(l: &Loaded, timing: HostTiming) -> OutputPort {
        let sizes: Vec<u32> = l.layer_sizes.iter().map(|&n| n as u32).collect();
        OutputPort {
            spikes: SpikeRecord::new(&sizes),
            count: 0,
            timing,
            taken_at: None,
        }
    }

    /// The register's `out_free` in cycle `y` (empty, or taken this cycle).
    pub fn free_at(&self, y: u64) -> bool {
        self.taken_at.is_none_or(|z| y >= z)
    }

    /// The first cycle in which the register is empty (no spike waits).
    pub fn empty_from(&self) -> u64 {
        self.taken_at.map_or(0, |z| z + 1)
    }

    /// The register takes a spike in cycle `y`: it shows from `y + 1` until
    /// the first cycle with `out_ready` high.
    fn fill(&mut self, y: u64) {
        let mut z = y + 1;
        while !self.timing.out_ready(z) {
            z += 1;
        }
        self.taken_at = Some(z);
    }

    /// The router hands over the spike of `(core, local)` at step `t` in
    /// cycle `y` (the register must be free then).
    pub fn push(
        &mut self,
        l: &Loaded,
        core: u32,
        local: u32,
        t: u32,
        y: u64,
    ) -> Result<(), SimError> {
        let n = l.params.neurons_per_core;
        self.fill(y);
        match l.slot_of[(core * n + local) as usize] {
            Some((layer, j)) => {
                self.spikes.push(layer as usize, t, j);
                self.count += 1;
                Ok(())
            }
            None => Err(SimError::UnknownSpike {
                source_id: l.params.neuron_source_id(core, local) as u64,
            }),
        }
    }
}
