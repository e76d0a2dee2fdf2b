//! `router`: the event bus between the blocks (the bus wiring of
//! `hw/src/top.rs`), one event per cycle during `Integ`, `IntegWait` and
//! `Deliver`.
//!
//! Each cycle it picks one source by fixed priority: the input stream if
//! the host offers an event (`in_valid`) with `in_step <= t`, else the
//! first core (lowest index) whose spike queue has a word at its head. The
//! event moves unless any core's event FIFO RAM is full (whatever the
//! destination), or it is a spike bound for the output stream and the
//! output register is not free: then it waits where it is (and an input
//! event offered meanwhile goes first). When it moves, every core whose
//! listen window contains the source id pushes it, and a core spike bound
//! for the output stream goes into the output register.
//!
//! Idle time is skipped: with no source ready, the router jumps to the
//! cycle in which the next spike reaches a queue head; while blocked by a
//! FIFO, it jumps to the first cycle in which no FIFO is full (nothing is
//! pushed meanwhile, so each full FIFO empties at a known cycle), and by
//! the output register, to the cycle the host takes its spike. Only the
//! cycles of a host's `in_valid` gaps are stepped one by one.

use crate::core::Core;
use crate::host_port::{InputStream, Loaded, OutputPort};
use crate::trace::{Sig, Trace};
use crate::SimError;
use serde::{Deserialize, Serialize};

/// Bus activity over one inference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterStats {
    /// Events moved over the bus (`bus_go`).
    pub transfers: u64,
    /// Of those, input events.
    pub input_events: u64,
    /// Of those, core spikes.
    pub spike_events: u64,
    /// Cycles in which an event was ready but some event FIFO was full.
    pub stall_cycles: u64,
    /// Spikes written into the output register.
    pub output_spikes: u64,
    /// Cycles in which an output-bound spike waited for the output
    /// register (the host held `out_ready` low).
    #[serde(default)]
    pub output_stall_cycles: u64,
}

enum Source {
    Input(u32),
    Core(usize),
}

/// Routes step `t`, whose `Integ` is cycle `c`, until nothing is left to
/// route; returns the first cycle from which the input stream is quiet and
/// every spike queue is empty. Cores have already run this step's sweep.
#[allow(clippy::too_many_arguments)]
pub fn route_step(
    l: &Loaded,
    cores: &mut [Core],
    input: &mut InputStream,
    out: &mut OutputPort,
    stats: &mut RouterStats,
    t: u32,
    c: u64,
    all_spikes: bool,
    mut trace: Option<&mut Trace>,
) -> Result<u64, SimError> {
    let depth = l.params.fifo_depth as usize;
    // Cores with spikes left to route, in priority order.
    let mut pending: Vec<usize> = (0..cores.len())
        .filter(|&k| cores[k].spikes.unpopped() > 0)
        .collect();
    // Cores that received at least `depth` events: the only ones that can be full.
    let mut watch: Vec<usize> = Vec::new();
    let mut y = c;
    loop {
        let source = match input.offers(t, y) {
            Some(ch) => Some(Source::Input(ch)),
            None => pending
                .iter()
                .find(|&&k| cores[k].spikes.head_valid_cycle().is_some_and(|v| v <= y))
                .map(|&k| Source::Core(k)),
        };
        let Some(source) = source else {
            let next_spike = pending
                .iter()
                .filter_map(|&k| cores[k].spikes.head_valid_cycle())
                .min();
            // An input event withheld by the host is tried again next cycle.
            let next_input = input.pending(t).then_some(y + 1);
            match next_spike.into_iter().chain(next_input).min() {
                Some(v) => {
                    y = v;
                    continue;
                }
                None => break,
            }
        };
        if let Source::Core(k) = source {
            let cfg = &l.cores[k];
            if (all_spikes || cfg.is_output) && !out.free_at(y) {
                // Output register taken: wait (an input may go first).
                let free = if input.pending(t) {
                    y + 1
                } else {
                    out.empty_from() - 1
                };
                stats.output_stall_cycles += free - y;
                y = free;
                continue;
            }
        }
        let mut until = y;
        for &k in &watch {
            if cores[k].fifo.full_at(y) {
                let u = cores[k].fifo.unfull_cycle();
                cores[k].note_stall(y, u);
                until = until.max(u);
            }
        }
        if until > y {
            stats.stall_cycles += until - y;
            y = until;
            continue;
        }
        let id = match source {
            Source::Input(ch) => {
                input.take();
                stats.input_events += 1;
                if let Some(tr) = trace.as_deref_mut() {
                    tr.pulse(y, Sig::InReady);
                    present_input(tr, y + 1, input);
                }
                ch
            }
            Source::Core(k) => {
                let core = &mut cores[k];
                let local = core.spike_local[core.spikes.len() - core.spikes.unpopped()];
                core.spikes.pop_at(y);
                core.stats.counts.spike_queue_pops += 1;
                if core.spikes.unpopped() == 0 {
                    pending.retain(|&q| q != k);
                }
                stats.spike_events += 1;
                let cfg = &l.cores[k];
                if all_spikes || cfg.is_output {
                    out.push(l, k as u32, local, t, y)?;
                    stats.output_spikes += 1;
                    if let Some(tr) = trace.as_deref_mut() {
                        tr.set(y + 1, Sig::OutValid, 1);
                        tr.set(
                            y + 1,
                            Sig::OutSource,
                            l.params.neuron_source_id(k as u32, local) as u64,
                        );
                        tr.set(y + 1, Sig::OutStep, t as u64);
                        tr.set(y + 2, Sig::OutValid, 0);
                    }
                }
                if let Some(tr) = trace.as_deref_mut() {
                    tr.add(y + 1, Sig::CoreSpikes(k as u32), -1);
                }
                l.params.neuron_source_id(k as u32, local)
            }
        };
        stats.transfers += 1;
        for &(base, end, k) in &l.windows {
            if id >= base && id < end {
                let k = k as usize;
                cores[k].push_event(&l.cores[k], &l.arith, y, id, trace.as_deref_mut());
                if cores[k].fifo.len() == depth {
                    watch.push(k);
                }
            }
        }
        y += 1;
    }
    Ok(y)
}

/// Traces the input pins from model cycle `y` on: the next event, or
/// `in_end` when none is left.
pub fn present_input(tr: &mut Trace, y: u64, input: &InputStream) {
    match input.offered() {
        Some((step, ch)) => {
            tr.set(y, Sig::InValid, 1);
            tr.set(y, Sig::InSource, ch as u64);
            tr.set(y, Sig::InStep, step as u64);
        }
        None => {
            // The driver's idle inputs: no event fields, `in_end` high.
            tr.set(y, Sig::InValid, 0);
            tr.set(y, Sig::InSource, 0);
            tr.set(y, Sig::InStep, 0);
            tr.set(y, Sig::InEnd, 1);
        }
    }
}
