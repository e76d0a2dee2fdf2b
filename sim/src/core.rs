//! `core`: transaction-level model of one integrate-and-fire core
//! (`hw/src/core.rs`): the state memories `I`, `V`, fired, the pointer and
//! weight SRAM images, the event FIFO and the spike queue, and the core's
//! state machine reduced to the cycles at which it acts.
//!
//! - **Clear**: `N` cycles (every state word of the core, in use or not).
//! - **Integrate** (`cmd_integrate` in cycle `c`): neuron `j` is read in
//!   cycle `c+1+j` and fires (spike queue push) in `c+3+j`; the core is busy
//!   in `c+1 ..= c+n+2` (only `c+1` when `n = 0`). The sweep is computed
//!   in one loop; nothing is stepped cycle by cycle.
//! - **Deliver**: when the router pushes an event in cycle `p`, its whole
//!   schedule follows at once, because it depends only on what came before
//!   it: the word reaches the FIFO head at `v = max(p+2, x_prev+1)`, the
//!   core pops it at `x = max(v, ready)` where `ready` is the Deliver
//!   phase's first cycle for the first event and `x_prev + max(k_prev, 1)`
//!   after that (the next pop overlaps the last weight read); the pointer
//!   entry is seen at `x+1` (`First`), weight reads run `x+1 ..= x+k`, and the
//!   synapse pipeline keeps the core busy two cycles after the last one.
//!   The `k` updates `I = sat(I + w)` are applied in FIFO order, the RTL's
//!   order (the one-entry forward of the RTL makes back-to-back updates of
//!   one target sequential, so the arithmetic is plain sequential code).

use crate::energy::ActionCounts;
use crate::event_fifo::EventFifo;
use crate::trace::{Sig, Trace};
use onespike_compiler::layout::PointerEntry;
use onespike_compiler::neuron::{NeuronModel, NeuronState, Update};
use serde::{Deserialize, Serialize};

/// Saturation bounds of the neuron state (from `HwParams` widths).
pub type Arith = onespike_compiler::neuron::Bounds;

/// The registers and SRAM images of one core as the host port loaded them.
#[derive(Debug, Clone, PartialEq)]
pub struct CoreConfig {
    pub index: u32,
    /// Network layer of its neurons (`None`: the program leaves it unused).
    pub layer: Option<u32>,
    /// Neurons in use, `n`.
    pub neurons: u32,
    /// Threshold register, sign-extended from `membrane_bits`.
    pub threshold: i64,
    /// Listen window `[listen_base, listen_end)` of source ids.
    pub listen_base: u32,
    pub listen_end: u32,
    /// Second window `[rec_base, rec_end)`, whose pointer entries start at
    /// `rec_pointer` (a recurrent layer's own ids).
    pub rec_base: u32,
    pub rec_end: u32,
    pub rec_pointer: u32,
    /// The neuron-mode register.
    pub neuron: NeuronModel,
    /// Output flag: its spikes go to the output stream and end early exit.
    pub is_output: bool,
    /// Pointer SRAM, one entry per source of the window.
    pub pointers: Vec<PointerEntry>,
    /// Weight SRAM: target neuron and sign-extended weight of each entry.
    pub targets: Vec<u32>,
    pub weights: Vec<i64>,
}

impl CoreConfig {
    /// Whether source id `s` lies in one of the listen windows.
    pub fn accepts(&self, s: u32) -> bool {
        self.pointer_index(s).is_some()
    }

    /// The pointer SRAM address of source `s`, if the core listens to it.
    pub fn pointer_index(&self, s: u32) -> Option<usize> {
        if s >= self.listen_base && s < self.listen_end {
            Some((s - self.listen_base) as usize)
        } else if s >= self.rec_base && s < self.rec_end {
            Some((s - self.rec_base + self.rec_pointer) as usize)
        } else {
            None
        }
    }
}

/// What a hardware user wants to know about one core over one inference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreStats {
    pub core: u32,
    /// Layer of its neurons, `None` for a core the program does not use.
    pub layer: Option<u32>,
    pub neurons: u32,
    /// Cycles with the core's `busy` signal high (clear, integrate sweep,
    /// deliver pipeline).
    pub busy_cycles: u64,
    /// Cycles in which an event waited on the bus because this core's event
    /// FIFO was full (back-pressure caused by this core; may overlap busy).
    pub stall_cycles: u64,
    /// Synapse updates `I += w`.
    pub synaptic_ops: u64,
    /// Events pushed into its event FIFO.
    pub events_received: u64,
    /// Received events whose source has no synapse here (one pointer read).
    pub empty_events: u64,
    /// Neurons of this core that fired.
    pub spikes: u64,
    /// Most words its event FIFO held at once (RAM plus head).
    pub fifo_max_occupancy: u32,
    /// Actions priced by the energy model; `cycles_stalled` counts stall
    /// cycles in which the core was not busy, so busy + stalled + idle is
    /// the inference's cycle count.
    pub counts: ActionCounts,
}

/// One core's state during an inference.
#[derive(Debug, Clone)]
pub struct Core {
    neurons_per_core: u32,
    state: Vec<NeuronState>,
    pub fifo: EventFifo,
    /// The spike queue (pushes and pops timed like the event FIFO).
    pub spikes: EventFifo,
    /// Local index of each spike queue word of this step.
    pub spike_local: Vec<u32>,
    /// Earliest cycle of the next pop from the event FIFO.
    ready: u64,
    /// Busy interval of this step's integrate sweep (inclusive).
    integ_busy: (u64, u64),
    /// Merged busy intervals of this step's deliver phase (inclusive).
    deliver_busy: Vec<(u64, u64)>,
    pub stats: CoreStats,
}

impl Core {
    pub fn new(cfg: &CoreConfig, neurons_per_core: u32, fifo_depth: u32) -> Core {
        let n = neurons_per_core as usize;
        Core {
            neurons_per_core,
            state: vec![NeuronState::default(); n],
            fifo: EventFifo::new(fifo_depth),
            spikes: EventFifo::new(neurons_per_core),
            spike_local: Vec::new(),
            ready: 0,
            integ_busy: (0, 0),
            deliver_busy: Vec::new(),
            stats: CoreStats {
                core: cfg.index,
                layer: cfg.layer,
                neurons: cfg.neurons,
                ..Default::default()
            },
        }
    }

    /// Potential of local neuron `j` (the value the `vread` port returns).
    pub fn potential(&self, j: u32) -> i64 {
        self.state[j as usize].v
    }

    /// Start of an inference: `cmd_clear` in cycle 0 zeroes every state
    /// word in cycles `1 ..= N`.
    pub fn clear(&mut self, cfg: &CoreConfig, trace: Option<&mut Trace>) {
        self.state
            .iter_mut()
            .for_each(|x| *x = NeuronState::default());
        self.fifo = EventFifo::new(self.fifo.depth());
        self.spikes.clear();
        self.spike_local.clear();
        self.stats = CoreStats {
            core: cfg.index,
            layer: cfg.layer,
            neurons: cfg.neurons,
            ..Default::default()
        };
        let n = self.neurons_per_core as u64;
        self.stats.busy_cycles += n;
        self.stats.counts.state_writes += n;
        if let Some(tr) = trace {
            tr.interval(Sig::CoreBusy(cfg.index), 1, n);
        }
    }

    /// The integrate sweep of one step, `cmd_integrate` in cycle `c`: every
    /// neuron in use that is not disabled does the layer's neuron update
    /// (`NeuronModel::step`: leak, `V = sat(V - leak + I)`, spike at
    /// `V >= theta`, reset, current leak). Fills the spike queue (push of neuron `j` in cycle
    /// `c+3+j`). Also empties the event FIFO's word list (it is empty at
    /// every step boundary) and sets the first cycle in which the core may
    /// pop an event, `deliver_start` (the first `Deliver` cycle).
    pub fn integrate(&mut self, cfg: &CoreConfig, ar: &Arith, c: u64, deliver_start: u64) {
        let n = cfg.neurons as usize;
        self.spikes.clear();
        self.spike_local.clear();
        self.fifo.clear();
        self.deliver_busy.clear();
        self.ready = deliver_start;
        let mut active = 0u64;
        for j in 0..n {
            match cfg.neuron.step(&mut self.state[j], cfg.threshold, ar) {
                Update::Skipped => continue,
                Update::Done { spiked, .. } => {
                    active += 1;
                    if spiked {
                        self.spikes.push(c + 3 + j as u64);
                        self.spike_local.push(j as u32);
                    }
                }
            }
        }
        let fired = self.spike_local.len() as u64;
        self.integ_busy = integrate_busy(c, cfg.neurons);
        let k = &mut self.stats.counts;
        k.state_reads += n as u64;
        k.membrane_updates += active;
        k.compares += active;
        if cfg.neuron.v_shift.is_some() {
            k.membrane_leaks += active;
        }
        if cfg.neuron.i_shift.is_some() {
            k.current_leaks += active;
        }
        k.state_writes += active;
        k.spike_queue_pushes += fired;
        self.stats.spikes += fired;
    }

    /// Whether any neuron fired in this step's sweep.
    pub fn fired_this_step(&self) -> bool {
        !self.spike_local.is_empty()
    }

    /// The router pushes an event of source `src` into the event FIFO in
    /// cycle `p`: schedules its pop and pipeline and applies its synapses.
    pub fn push_event(
        &mut self,
        cfg: &CoreConfig,
        ar: &Arith,
        p: u64,
        src: u32,
        trace: Option<&mut Trace>,
    ) {
        let i = self.fifo.len();
        self.fifo.push(p);
        let v = self
            .fifo
            .valid_cycle(i)
            .expect("the previous word's pop is scheduled at its push");
        let x = v.max(self.ready);
        self.fifo.pop_at(x);
        self.fifo.note_occupancy_after_last_push();
        let e = cfg.pointers[cfg
            .pointer_index(src)
            .expect("the router pushes only sources in a window")];
        let k = e.count as u64;
        // `First` at x+1, weight reads x+1 ..= x+k; the cycle of the last
        // read (or `First` alone for k = 0) may pop the next event.
        let ending = x + k.max(1);
        self.ready = ending;
        let busy_end = if k >= 1 { ending + 2 } else { ending };
        match self.deliver_busy.last_mut() {
            Some(last) if x <= last.1 => last.1 = last.1.max(busy_end),
            _ => self.deliver_busy.push((x + 1, busy_end)),
        }
        for w in e.base as usize..(e.base + e.count) as usize {
            NeuronModel::deliver(&mut self.state[cfg.targets[w] as usize], cfg.weights[w], ar);
        }
        let s = &mut self.stats;
        s.events_received += 1;
        s.synaptic_ops += k;
        if k == 0 {
            s.empty_events += 1;
        }
        let c = &mut s.counts;
        c.fifo_pushes += 1;
        c.fifo_pops += 1;
        c.pointer_reads += 1;
        c.weight_reads += k;
        c.state_reads += k;
        c.state_writes += k;
        c.synaptic_accumulates += k;
        if let Some(tr) = trace {
            tr.add(p + 1, Sig::CoreFifo(cfg.index), 1);
            tr.add(x + 1, Sig::CoreFifo(cfg.index), -1);
        }
    }

    /// First cycle from which the core is drained (idle, event FIFO empty),
    /// given no further pushes; `None` if it received no event this step.
    pub fn drain_cycle(&self) -> Option<u64> {
        self.deliver_busy.last().map(|&(_, end)| end + 1)
    }

    /// Busy cycles of this core within `[from, to)`.
    pub fn busy_within(&self, from: u64, to: u64) -> u64 {
        let overlap = |(a, b): (u64, u64)| (b + 1).min(to).saturating_sub(a.max(from));
        let mut n = overlap(self.integ_busy);
        for &iv in self.deliver_busy.iter().rev() {
            if iv.1 < from {
                break;
            }
            n += overlap(iv);
        }
        n
    }

    /// Records a stall of the bus in `[from, to)` caused by this core's
    /// full event FIFO.
    pub fn note_stall(&mut self, from: u64, to: u64) {
        let busy = self.busy_within(from, to);
        self.stats.stall_cycles += to - from;
        self.stats.counts.cycles_stalled += to - from - busy;
    }

    /// End of a step: accounts its busy cycles (and traces them).
    pub fn end_step(&mut self, cfg: &CoreConfig, trace: Option<&mut Trace>) {
        let len = |(a, b): (u64, u64)| b + 1 - a;
        self.stats.busy_cycles +=
            len(self.integ_busy) + self.deliver_busy.iter().map(|&iv| len(iv)).sum::<u64>();
        self.stats.fifo_max_occupancy = self.fifo.max_occupancy;
        if let Some(tr) = trace {
            let sig = Sig::CoreBusy(cfg.index);
            tr.interval(sig, self.integ_busy.0, self.integ_busy.1);
            for &(a, b) in &self.deliver_busy {
                tr.interval(sig, a, b);
            }
        }
    }

    /// End of the inference, `cycles` long: fills in the cycle partition.
    /// A core the program leaves unused (`in_use` false) is power-gated:
    /// all its cycles are gated ones.
    pub fn finish(&mut self, cycles: u64, in_use: bool) {
        let c = &mut self.stats.counts;
        if in_use {
            c.cycles_busy = self.stats.busy_cycles;
            c.cycles_idle = cycles - c.cycles_busy - c.cycles_stalled;
        } else {
            c.cycles_busy = 0;
            c.cycles_stalled = 0;
            c.cycles_idle = 0;
            c.cycles_gated = cycles;
        }
    }
}

/// Busy interval (inclusive) of a core with `n` neurons in use whose
/// integrate command comes in cycle `c`.
pub fn integrate_busy(c: u64, n: u32) -> (u64, u64) {
    if n == 0 {
        (c + 1, c + 1)
    } else {
        (c + 1, c + n as u64 + 2)
    }
}
