//! Balanced partitioning: splits each layer into core tiles within every
//! capacity limit (neurons per core, weight entries, pointer entries), using
//! as few cores as the limits allow and balancing the busiest core's
//! synaptic events (the cycle lower bound) among them.
//!
//! A core holds neurons of one layer only (the `CoreImage::layer` register
//! gives one threshold per core), so the core lower bound is the sum over
//! layers of `max(ceil(neurons / N), ceil(synapses / weight_depth))`.
//! Within a layer, neurons are placed largest-load-first onto the
//! least-loaded core that still has room (LPT scheduling, a 4/3
//! approximation of the best makespan); if some neuron finds no room, the
//! layer gets one more core and is placed again.
//!
//! Activity: the load of a neuron is the sum, over its synapses, of the
//! expected spikes per inference of the synapse's source. Without measured
//! activity every source counts 1, so load = fan-in (synapse count).

use crate::ir::QuantNetwork;
use crate::layout::{PointerEntry, WeightEntry};
use crate::params::HwParams;
use crate::program::{CoreImage, MapError, NeuronSlot, Program};
use crate::report::MapReport;

/// Expected spikes per inference of every population: `activity[0][i]`
/// for input channel `i`, `activity[l + 1][j]` for neuron `j` of layer `l`
/// (so `activity[l]` are the feed-forward sources of layer `l`, and
/// `activity[l + 1]` the recurrent ones of a recurrent layer).
pub type Activity = Vec<Vec<f64>>;

/// Measures `Activity` as mean spike counts of the reference model over
/// sample inputs (as `InputEncoding::encode` gives them).
pub fn measure_activity<I: crate::spikes::SpikeInput>(
    net: &QuantNetwork,
    samples: &[I],
    opt: crate::reference::RunOptions,
) -> Result<Activity, crate::reference::RefError> {
    let model = crate::reference::ReferenceModel::new(net);
    let mut act: Activity = std::iter::once(net.input_size)
        .chain(net.layers.iter().map(|l| l.outputs))
        .map(|n| vec![0.0; n as usize])
        .collect();
    for s in samples {
        let inf = model.run(s, opt)?;
        for e in s.events() {
            if e.step < net.time_steps {
                act[0][e.neuron as usize] += 1.0;
            }
        }
        for (l, spikes) in inf.spikes.layers.iter().enumerate() {
            for e in spikes {
                act[l + 1][e.neuron as usize] += 1.0;
            }
        }
    }
    let n = samples.len().max(1) as f64;
    for a in act.iter_mut().flatten() {
        *a /= n;
    }
    Ok(act)
}

/// Where every neuron of one layer goes: `core_of[j]` is a core index
/// relative to the layer's first core.
struct LayerPlan {
    cores: u32,
    core_of: Vec<u32>,
}

fn does_not_fit(
    limit: &'static str,
    have: u64,
    layer: usize,
    need: u64,
    suggestion: String,
) -> MapError {
    MapError::DoesNotFit {
        limit,
        have,
        layer,
        need,
        suggestion,
    }
}

/// Places the neurons of one layer on the fewest cores that hold them,
/// balancing the per-core load. `syn[j]`: fan-in of neuron j; `load[j]`:
/// its expected synaptic events.
///
/// Each neuron goes to the open core with the least (load, synapses,
/// index) that has room for it: open cores sit in an ordered set, so a
/// placement costs a logarithm of the core count, not the count (a layer of
/// a million neurons places in about a second). A core leaves the set when
/// it is full or too full for every neuron still to place.
fn plan_layer(l: usize, syn: &[u64], load: &[f64], p: &HwParams) -> Result<LayerPlan, MapError> {
    use std::collections::BTreeSet;
    let n = syn.len() as u64;
    let n_per = p.neurons_per_core as u64;
    let depth = p.weight_depth as u64;
    if let Some((j, &s)) = syn.iter().enumerate().max_by_key(|(_, &s)| s) {
        if s > depth {
            return Err(does_not_fit(
                "weight_depth",
                depth,
                l,
                s,
                format!(
                    "neuron {j} alone has {s} synapses, {} over: set weight_depth = {} or prune layer {l} further",
                    s - depth,
                    s.next_power_of_two()
                ),
            ));
        }
    }
    let total: u64 = syn.iter().sum();
    let mut k = n.div_ceil(n_per).max(total.div_ceil(depth)).max(1);
    // Largest load first; ties by larger fan-in, then index, so the plan is deterministic.
    let mut order: Vec<usize> = (0..syn.len()).collect();
    order.sort_by(|&a, &b| {
        load[b]
            .total_cmp(&load[a])
            .then(syn[b].cmp(&syn[a]))
            .then(a.cmp(&b))
    });
    // Smallest fan-in among the neurons from position `i` of `order` on.
    let mut min_after = vec![u64::MAX; order.len() + 1];
    for i in (0..order.len()).rev() {
        min_after[i] = min_after[i + 1].min(syn[order[i]]);
    }
    // Loads are sums of non-negative activities, whose bit patterns order
    // like their values: the set's key is (load bits, synapses, core).
    let key = |load: f64, syn: u64, c: usize| (load.max(0.0).to_bits(), syn, c);
    loop {
        let mut c_load = vec![0.0f64; k as usize];
        let mut c_syn = vec![0u64; k as usize];
        let mut c_n = vec![0u64; k as usize];
        let mut core_of = vec![0u32; syn.len()];
        let mut open: BTreeSet<(u64, u64, usize)> =
            (0..k as usize).map(|c| key(0.0, 0, c)).collect();
        let mut ok = true;
        for (i, &j) in order.iter().enumerate() {
            let best = open.iter().find(|&&(_, s, _)| s + syn[j] <= depth).copied();
            match best {
                Some(entry) => {
                    let c = entry.2;
                    open.remove(&entry);
                    c_load[c] += load[j];
                    c_syn[c] += syn[j];
                    c_n[c] += 1;
                    core_of[j] = c as u32;
                    if c_n[c] < n_per && c_syn[c] + min_after[i + 1].min(depth) <= depth {
                        open.insert(key(c_load[c], c_syn[c], c));
                    }
                }
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return Ok(LayerPlan {
                cores: k as u32,
                core_of,
            });
        }
        // Bin packing by weight entries failed at this count: more cores
        // always terminate, since every neuron fits an empty core alone.
        // One at a time for small layers (the fewest cores), a few percent
        // at a time for large ones (so that retries stay few).
        k += (k / 32).max(1);
    }
}

/// Fan-in and load of every neuron of every layer (see [`plan_layer`]).
type Needs = Vec<(Vec<u64>, Vec<f64>)>;

fn layer_needs(net: &QuantNetwork, activity: Option<&Activity>) -> Needs {
    net.layers
        .iter()
        .enumerate()
        .map(|(l, layer)| {
            let n_in = (layer.inputs as usize).max(1);
            let mut syn = vec![0u64; layer.outputs as usize];
            let mut load = vec![0.0f64; layer.outputs as usize];
            for (j, row) in layer.weights.chunks(n_in).enumerate() {
                for (i, &w) in row.iter().enumerate() {
                    if w != 0 {
                        syn[j] += 1;
                        load[j] += activity.map_or(1.0, |a| a[l][i]);
                    }
                }
            }
            // A recurrent layer's own synapses: sources are its own neurons.
            if let Some(r) = &layer.recurrent {
                let n = (layer.outputs as usize).max(1);
                for (j, row) in r.chunks(n).enumerate() {
                    for (i, &w) in row.iter().enumerate() {
                        if w != 0 {
                            syn[j] += 1;
                            load[j] += activity.map_or(1.0, |a| a[l + 1][i]);
                        }
                    }
                }
            }
            (syn, load)
        })
        .collect()
}

/// Whether the planner places `net` on `p` within every limit.
fn plan_fits(net: &QuantNetwork, needs: &Needs, p: &HwParams) -> bool {
    if net.weight_bits > p.weight_bits
        || net.input_size > p.max_inputs
        || net.input_size > p.pointer_depth
        || net.time_steps > p.max_time_steps()
    {
        return false;
    }
    let mut cores = 0u64;
    // Ids the layer before spans (the inputs for layer 0).
    let mut ff_window = net.input_size as u64;
    for (l, (syn, load)) in needs.iter().enumerate() {
        let Ok(plan) = plan_layer(l, syn, load, p) else {
            return false;
        };
        cores += plan.cores as u64;
        if cores > p.cores as u64 {
            return false;
        }
        // This layer's ids: from the first used core's local 0 to the last
        // used core's last local. The next layer listens to them, and so
        // does this one if it is recurrent (its second window).
        let mut count = vec![0u64; plan.cores as usize];
        plan.core_of.iter().for_each(|&c| count[c as usize] += 1);
        let first = count.iter().position(|&n| n > 0).unwrap_or(0) as u64;
        let last = count.iter().rposition(|&n| n > 0).unwrap_or(0);
        let own = (last as u64 - first) * p.neurons_per_core as u64 + count[last];
        let rec = if net.layers[l].recurrent.is_some() {
            own
        } else {
            0
        };
        if ff_window + rec > p.pointer_depth as u64 {
            return false;
        }
        ff_window = own;
    }
    true
}

/// The refusal of a network that does not fit `p`, from `fit`'s diagnosis.
fn refusal(net: &QuantNetwork, p: &HwParams, verify: &dyn Fn(&HwParams) -> bool) -> MapError {
    let shape = crate::fit::NetShape::of_quant(net);
    let Some(d) = crate::fit::diagnose(&shape, p, Some(verify)) else {
        // Not reached: `diagnose` names a limit whenever `verify(p)` refuses.
        return does_not_fit(
            "cores",
            p.cores as u64,
            0,
            p.cores as u64 + 1,
            String::new(),
        );
    };
    let b = d.binding();
    does_not_fit(
        b.limit,
        b.have,
        b.layer.unwrap_or(0),
        b.layer_need.unwrap_or(b.need),
        format!("{}; {}", b.why, d.fix(p)),
    )
}

/// Refuses, as [`map_balanced`] would (assuming uniform activity), a
/// network that does not fit `p`: quick, so callers run it before any
/// long work such as measuring activity.
pub fn check_fit(net: &QuantNetwork, p: &HwParams) -> Result<(), MapError> {
    net.validate("network to map")?;
    let needs = layer_needs(net, None);
    let verify = |c: &HwParams| plan_fits(net, &needs, c);
    if verify(p) {
        Ok(())
    } else {
        Err(refusal(net, p, &verify))
    }
}

/// Maps a quantized network onto cores with balanced, capacity-checked
/// partitioning. `activity` (see [`measure_activity`]) weights the balance;
/// `None` assumes every source spikes once.
pub fn map_balanced(
    net: &QuantNetwork,
    p: &HwParams,
    activity: Option<&Activity>,
) -> Result<(Program, MapReport), MapError> {
    net.validate("network to map")?;
    if let Some(a) = activity {
        let ok = a.len() == net.layers.len() + 1
            && a[0].len() == net.input_size as usize
            && a.iter()
                .skip(1)
                .zip(&net.layers)
                .all(|(a, l)| a.len() == l.outputs as usize);
        if !ok {
            return Err(MapError::Invalid(crate::ir::IrError::field(
                "activity",
                "shape",
                "does not match the network's layer sizes (inputs, then every layer)",
            )));
        }
    }
    // 1. Plan every layer. A network that does not fit (by the estimate
    //    or by the planner) is refused with the diagnosis of `fit`, whose
    //    suggestion the planner itself has accepted.
    let needs = layer_needs(net, activity);
    let verify = |c: &HwParams| plan_fits(net, &needs, c);
    if !verify(p) {
        return Err(refusal(net, p, &verify));
    }
    let plans = needs
        .iter()
        .enumerate()
        .map(|(l, (syn, load))| plan_layer(l, syn, load, p))
        .collect::<Result<Vec<_>, _>>()?;

    // 2. Slots: local indices in ascending neuron order within each core.
    let mut neurons: Vec<Vec<NeuronSlot>> = Vec::with_capacity(plans.len());
    let mut first = 0u32;
    let mut firsts = Vec::with_capacity(plans.len());
    for pl in &plans {
        let mut next_local = vec![0u32; pl.cores as usize];
        let slots = pl
            .core_of
            .iter()
            .map(|&c| {
                let local = next_local[c as usize];
                next_local[c as usize] += 1;
                NeuronSlot {
                    core: first + c,
                    local,
                }
            })
            .collect();
        neurons.push(slots);
        firsts.push(first);
        first += pl.cores;
    }

    // 3. Images. The listen window of layer l is the id range of layer
    //    l-1's cores, trimmed after the last used id (holes in between
    //    cost a pointer entry with count 0).
    let mut cores: Vec<CoreImage> = Vec::with_capacity(first as usize);
    for (l, layer) in net.layers.iter().enumerate() {
        let src_ids: Vec<u32> = if l == 0 {
            (0..net.input_size).collect()
        } else {
            neurons[l - 1]
                .iter()
                .map(|s| p.neuron_source_id(s.core, s.local))
                .collect()
        };
        let base = src_ids.iter().copied().min().unwrap_or(0);
        let ff_len = src_ids.iter().copied().max().map_or(0, |m| m - base + 1);
        // A recurrent layer's cores also listen to the layer's own ids.
        let own_ids: Vec<u32> = neurons[l]
            .iter()
            .map(|s| p.neuron_source_id(s.core, s.local))
            .collect();
        let (rec_base, rec_len) = match layer.recurrent {
            Some(_) => {
                let b = own_ids.iter().copied().min().unwrap_or(0);
                (b, own_ids.iter().copied().max().map_or(0, |m| m - b + 1))
            }
            None => (0, 0),
        };
        let len = ff_len + rec_len;
        if len > p.pointer_depth {
            return Err(does_not_fit(
                "pointer_depth",
                p.pointer_depth as u64,
                l,
                len as u64,
                format!(
                    "{} over: set pointer_depth = {}",
                    len - p.pointer_depth,
                    len.next_power_of_two()
                ),
            ));
        }
        let pl = &plans[l];
        let n_in = layer.inputs as usize;
        // Per core: synapse lists by source (offset in the window).
        let mut lists: Vec<Vec<Vec<WeightEntry>>> =
            vec![vec![Vec::new(); len as usize]; pl.cores as usize];
        let mut counts = vec![0u32; pl.cores as usize];
        for (j, row) in layer.weights.chunks(n_in).enumerate() {
            let slot = neurons[l][j];
            let c = (slot.core - firsts[l]) as usize;
            counts[c] += 1;
            for (i, &w) in row.iter().enumerate() {
                if w != 0 {
                    lists[c][(src_ids[i] - base) as usize].push(WeightEntry {
                        target: slot.local,
                        weight: w,
                    });
                }
            }
            if let Some(r) = &layer.recurrent {
                let n = layer.outputs as usize;
                for (i, &w) in r[j * n..(j + 1) * n].iter().enumerate() {
                    if w != 0 {
                        let at = ff_len + own_ids[i] - rec_base;
                        lists[c][at as usize].push(WeightEntry {
                            target: slot.local,
                            weight: w,
                        });
                    }
                }
            }
        }
        for (c, per_src) in lists.into_iter().enumerate() {
            let mut pointers = Vec::with_capacity(len as usize);
            let mut weights = Vec::new();
            for mut list in per_src {
                // Ascending target within a list: the hardware does not care, but
                // a canonical image makes diffs and golden files stable.
                list.sort_unstable_by_key(|w| w.target);
                pointers.push(PointerEntry {
                    base: weights.len() as u32,
                    count: list.len() as u32,
                });
                weights.extend(list);
            }
            cores.push(CoreImage {
                layer: l as u32,
                threshold: layer.threshold,
                neurons: counts[c],
                listen_base: base,
                pointers,
                weights,
                neuron: layer.neuron,
                rec_base,
                rec_len,
            });
        }
    }
    let prog = Program::assemble(net, p, cores, neurons)?;
    let report = MapReport::of(&prog, net, activity);
    Ok((prog, report))
}

/// Lower bound on the cores any one-layer-per-core mapping needs.
pub fn cores_lower_bound(net: &QuantNetwork, p: &HwParams) -> u64 {
    net.layers
        .iter()
        .map(|l| {
            let syn = l
                .weights
                .iter()
                .chain(l.recurrent.iter().flatten())
                .filter(|&&w| w != 0)
                .count() as u64;
            (l.outputs as u64)
                .div_ceil(p.neurons_per_core as u64)
                .max(syn.div_ceil(p.weight_depth as u64))
                .max(1)
        })
        .sum()
}
