//! The mapping report: structured data first (serde, units in key names),
//! rendered as a table by the host. Cores used versus the lower bound, SRAM
//! bits (sparse versus a dense layout), per-core synapse and neuron counts
//! and the predicted cycle lower bound.

use crate::ir::QuantNetwork;
use crate::layout::{PointerEntry, WeightEntry};
use crate::partition::{cores_lower_bound, Activity};
use crate::program::Program;
use serde::{Deserialize, Serialize};

/// One core's share of the work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoreReport {
    pub core: u32,
    pub layer: u32,
    pub neurons: u32,
    pub synapses: u64,
    pub pointer_entries: u64,
    /// Expected synaptic events per inference (activity-weighted, or the
    /// synapse count when no activity was measured).
    pub synaptic_events_per_inference: f64,
    pub sram_bits: u64,
}

/// What the mapping used and how close it is to the bounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapReport {
    pub cores_used: u32,
    pub cores_available: u32,
    pub cores_lower_bound: u64,
    /// `cores_used / cores_lower_bound`.
    pub cores_ratio: f64,
    pub synapses: u64,
    /// Pointer plus weight SRAM bits of the sparse images.
    pub sram_bits: u64,
    /// Bits a dense layout would need: one `weight_bits` word per (source in
    /// the listen window, neuron of the core).
    pub dense_sram_bits: u64,
    /// Busiest core's synaptic events: one synapse per cycle makes this
    /// the cycle lower bound of the event phases of one inference.
    pub cycles_lower_bound: f64,
    /// Whether `synaptic_events_per_inference` came from measured activity.
    pub measured_activity: bool,
    pub per_core: Vec<CoreReport>,
}

impl MapReport {
    pub fn of(prog: &Program, net: &QuantNetwork, activity: Option<&Activity>) -> MapReport {
        let p = &prog.params;
        let (pw, ww) = (
            PointerEntry::layout(p).width() as u64,
            WeightEntry::layout(p).width() as u64,
        );
        let mut per_core = Vec::with_capacity(prog.cores.len());
        let mut dense = 0u64;
        // Source id -> index within its layer, built once: `neuron_of` scans a
        // layer per call, too slow for every pointer entry of a large network.
        let mut index_of = std::collections::HashMap::new();
        for (l, slots) in prog.neurons.iter().enumerate() {
            for (j, s) in slots.iter().enumerate() {
                index_of.insert(p.neuron_source_id(s.core, s.local), (l, j));
            }
        }
        for (c, core) in prog.cores.iter().enumerate() {
            let mut events = 0.0;
            for (s, e) in core.pointers.iter().enumerate() {
                let src = core.source_of_pointer(s);
                // activity[0]: input channels; activity[l + 1]: layer l's neurons.
                let act = match activity {
                    None => 1.0,
                    Some(a) if src < p.max_inputs => a[0].get(src as usize).copied().unwrap_or(0.0),
                    Some(a) => index_of
                        .get(&src)
                        .and_then(|&(l, j)| a.get(l + 1).and_then(|x| x.get(j)))
                        .copied()
                        .unwrap_or(0.0),
                };
                events += act * e.count as f64;
            }
            let bits = core.pointers.len() as u64 * pw + core.weights.len() as u64 * ww;
            dense += core.pointers.len() as u64 * core.neurons as u64 * p.weight_bits as u64;
            per_core.push(CoreReport {
                core: c as u32,
                layer: core.layer,
                neurons: core.neurons,
                synapses: core.weights.len() as u64,
                pointer_entries: core.pointers.len() as u64,
                synaptic_events_per_inference: events,
                sram_bits: bits,
            });
        }
        let lb = cores_lower_bound(net, p);
        MapReport {
            cores_used: prog.cores.len() as u32,
            cores_available: p.cores,
            cores_lower_bound: lb,
            cores_ratio: prog.cores.len() as f64 / lb.max(1) as f64,
            synapses: prog.synapse_count() as u64,
            sram_bits: per_core.iter().map(|c| c.sram_bits).sum(),
            dense_sram_bits: dense,
            cycles_lower_bound: per_core
                .iter()
                .map(|c| c.synaptic_events_per_inference)
                .fold(0.0, f64::max),
            measured_activity: activity.is_some(),
            per_core,
        }
    }
}
