//! Exact continuous-time forward pass of the float network, to measure the
//! accuracy "before" quantization. It follows the ramp model of `docs/semantics.md`:
//! `V_j(t) = sum_{t_i < t} w_ij (t - t_i)`, so neuron `j` fires at the first
//! `t* = (theta + sum_{i in C} w_ij t_i) / sum_{i in C} w_ij` that falls in
//! the interval after the last input of its causal set `C`. A spike later
//! than step `T - 1` is no spike, matching the discrete model, which fires
//! at step `ceil(t*)` and runs steps `0..T`.
//!
//! Networks that are not pure TTFS (leaky or multi-spike neurons, recurrent
//! weights, rate-coded inputs) have no closed form: [`run_discrete`] runs
//! them step by step with the order of operations of the integer model
//! (`docs/semantics.md`), in `f64`, with each shift's exact decay `1 - 2^-k`
//! and no saturation. [`float_class`] picks the right one.

use crate::ir::FloatNetwork;
use crate::neuron::{NeuronModel, Reset};
use crate::spikes::{decide, Decision, Spike, SpikeInput, SpikeRecord};

/// The class of the float network on input events: the exact
/// continuous-time model for TTFS networks, else the discrete float model.
pub fn float_class(net: &FloatNetwork, input: &[Spike]) -> usize {
    let ttfs = net.decision == Decision::FirstSpike
        && net.encoding.coding.is_latency()
        && net
            .layers
            .iter()
            .all(|l| l.neuron.is_ttfs() && l.recurrent.is_none());
    if ttfs {
        let mut steps = vec![None; net.input_size as usize];
        for s in input {
            if let Some(e) = steps.get_mut(s.neuron as usize) {
                if Option::is_none_or(*e, |t: u32| s.step < t) {
                    *e = Some(s.step);
                }
            }
        }
        run_float(net, &steps).class
    } else {
        run_discrete(net, input).class
    }
}

/// Result of the discrete float model.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscreteInference {
    pub spikes: SpikeRecord,
    pub final_v: Vec<f64>,
    pub class: usize,
}

/// The float network step by step, in the integer model's order of
/// operations (integrate every layer, then deliver), without saturation.
pub fn run_discrete<I: SpikeInput + ?Sized>(net: &FloatNetwork, input: &I) -> DiscreteInference {
    let t_max = net.time_steps;
    let mut input_at: Vec<Vec<u32>> = vec![Vec::new(); t_max as usize];
    for s in input.events() {
        if s.step < t_max && s.neuron < net.input_size {
            input_at[s.step as usize].push(s.neuron);
        }
    }
    let sizes: Vec<u32> = net.layers.iter().map(|l| l.outputs).collect();
    let mut v: Vec<Vec<f64>> = sizes.iter().map(|&n| vec![0.0; n as usize]).collect();
    let mut cur = v.clone();
    let mut fired: Vec<Vec<bool>> = sizes.iter().map(|&n| vec![false; n as usize]).collect();
    let mut now: Vec<Vec<u32>> = vec![Vec::new(); sizes.len()];
    let mut spikes = SpikeRecord::new(&sizes);
    for t in 0..t_max {
        for (l, layer) in net.layers.iter().enumerate() {
            now[l].clear();
            let m: NeuronModel = layer.neuron;
            let (dv, di) = (
                NeuronModel::decay_of_shift(m.v_shift),
                NeuronModel::decay_of_shift(m.i_shift),
            );
            let theta = layer.threshold as f64;
            let next = m.reset == Reset::SubtractNext;
            for j in 0..layer.outputs as usize {
                let pending = next && fired[l][j];
                if fired[l][j] && !pending {
                    continue;
                }
                let x = v[l][j] * dv + cur[l][j] - if pending { theta } else { 0.0 };
                let spike = x >= theta;
                v[l][j] = match (spike, m.reset) {
                    (true, Reset::Subtract) => x - theta,
                    (true, Reset::Zero) => 0.0,
                    _ => x,
                };
                if next {
                    fired[l][j] = spike;
                }
                if spike {
                    fired[l][j] = m.reset == Reset::Once || next;
                    now[l].push(j as u32);
                    spikes.push(l, t, j as u32);
                }
                cur[l][j] *= di;
            }
        }
        for (l, layer) in net.layers.iter().enumerate() {
            let n_in = layer.inputs as usize;
            let srcs = if l == 0 {
                &input_at[t as usize]
            } else {
                &now[l - 1]
            };
            for &i in srcs {
                for (j, c) in cur[l].iter_mut().enumerate() {
                    *c += layer.weights[j * n_in + i as usize] as f64;
                }
            }
            if let Some(r) = &layer.recurrent {
                let n = layer.outputs as usize;
                for &i in &now[l] {
                    for (j, c) in cur[l].iter_mut().enumerate() {
                        *c += r[j * n + i as usize] as f64;
                    }
                }
            }
        }
    }
    let final_v = v.pop().unwrap_or_default();
    // The integer decision on float potentials: order-preserving key.
    let key: Vec<i64> = final_v
        .iter()
        .map(|x| (x * 1e6).round().clamp(-9e18, 9e18) as i64)
        .collect();
    let class = decide(net.decision, spikes.output(), &key);
    DiscreteInference {
        spikes,
        final_v,
        class,
    }
}

/// Spike times of one inference (`None` = no spike), per layer.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatInference {
    pub spikes: Vec<Vec<Option<f64>>>,
    /// `V` of each output neuron at `T - 1`, which decides when none fires.
    pub final_v: Vec<f64>,
    pub class: usize,
}

/// Fires one neuron: `inputs` are `(time, weight)` sorted by time.
fn fire(inputs: &[(f64, f64)], theta: f64, t_end: f64) -> Option<f64> {
    let (mut w_sum, mut wt_sum) = (0.0, 0.0);
    for (k, &(t_k, w)) in inputs.iter().enumerate() {
        w_sum += w;
        wt_sum += w * t_k;
        // The crossing must fall after this input and no later than the next
        // one (or the end), otherwise the causal set is different.
        let t_next = inputs.get(k + 1).map_or(t_end, |n| n.0.min(t_end));
        if w_sum > 0.0 {
            let t = (theta + wt_sum) / w_sum;
            if t >= t_k && t <= t_next {
                return Some(t);
            }
        }
    }
    None
}

/// Runs the float network on input spike steps (as `InputEncoding::encode` gives them).
pub fn run_float(net: &FloatNetwork, input: &[Option<u32>]) -> FloatInference {
    let t_end = net.time_steps.saturating_sub(1) as f64;
    let mut prev: Vec<Option<f64>> = input.iter().map(|s| s.map(|t| t as f64)).collect();
    let mut spikes = Vec::with_capacity(net.layers.len());
    let mut final_v = Vec::new();
    for (l, layer) in net.layers.iter().enumerate() {
        let n_in = layer.inputs as usize;
        let mut order: Vec<usize> = (0..n_in)
            .filter(|&i| prev[i].is_some_and(|t| t <= t_end))
            .collect();
        order.sort_by(|&a, &b| prev[a].unwrap().total_cmp(&prev[b].unwrap()));
        let mut out = Vec::with_capacity(layer.outputs as usize);
        for j in 0..layer.outputs as usize {
            let row = &layer.weights[j * n_in..(j + 1) * n_in];
            let ins: Vec<(f64, f64)> = order
                .iter()
                .filter(|&&i| row[i] != 0.0)
                .map(|&i| (prev[i].unwrap(), row[i] as f64))
                .collect();
            out.push(fire(&ins, layer.threshold as f64, t_end));
            if l + 1 == net.layers.len() {
                final_v.push(
                    ins.iter()
                        .filter(|(t, _)| *t < t_end)
                        .map(|(t, w)| w * (t_end - t))
                        .sum(),
                );
            }
        }
        spikes.push(out.clone());
        prev = out;
    }
    let last = spikes.last().cloned().unwrap_or_default();
    let class = decide_float(&last, &final_v);
    FloatInference {
        spikes,
        final_v,
        class,
    }
}

/// Earliest output spike wins, ties to the lowest index; with no spike, the largest `V`.
fn decide_float(out: &[Option<f64>], final_v: &[f64]) -> usize {
    let mut best: Option<(f64, usize)> = None;
    for (j, s) in out.iter().enumerate() {
        if let Some(t) = *s {
            if best.is_none_or(|(bt, _)| t < bt) {
                best = Some((t, j));
            }
        }
    }
    match best {
        Some((_, j)) => j,
        None => final_v
            .iter()
            .enumerate()
            .fold(0, |b, (j, &v)| if v > final_v[b] { j } else { b }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::InputEncoding;
    use crate::ir::{FloatLayer, LayerKind, FLOAT_FORMAT, FORMAT_VERSION};

    fn net(weights: Vec<f32>, inputs: u32, outputs: u32, theta: f32) -> FloatNetwork {
        FloatNetwork {
            format: FLOAT_FORMAT.into(),
            version: FORMAT_VERSION,
            input_size: inputs,
            encoding: InputEncoding::new(4),
            time_steps: 16,
            layers: vec![FloatLayer {
                kind: LayerKind::Dense,
                inputs,
                outputs,
                threshold: theta,
                weights,
                neuron: NeuronModel::TTFS,
                recurrent: None,
            }],
            decision: Decision::FirstSpike,
            held_out: None,
        }
    }

    #[test]
    fn single_input_fires_at_theta_over_w_after_it() {
        // V(t) = 2 (t - 3) reaches 5 at t = 5.5.
        let r = run_float(&net(vec![2.0], 1, 1, 5.0), &[Some(3)]);
        assert_eq!(r.spikes[0][0], Some(5.5));
    }

    #[test]
    fn a_later_inhibitory_input_changes_the_causal_set() {
        // w = 1 at t = 0, w = -0.5 at t = 2, theta = 3: alone it would fire at
        // 3 > 2, so the set is both: (3 + 0 - 1) / 0.5 = 4.
        let r = run_float(&net(vec![1.0, -0.5], 2, 1, 3.0), &[Some(0), Some(2)]);
        assert_eq!(r.spikes[0][0], Some(4.0));
    }

    #[test]
    fn discrete_model_of_a_lif_layer() {
        // One LIF neuron, decay 0.5, instant synapse, reset by subtraction:
        // an input spike every step with w = 3 and theta = 4.
        let mut n = net(vec![3.0], 1, 1, 4.0);
        n.layers[0].neuron = NeuronModel {
            v_shift: Some(1),
            i_shift: Some(0),
            reset: Reset::Subtract,
        };
        n.decision = Decision::SpikeCount;
        let input: Vec<Spike> = (0..6).map(|step| Spike { step, neuron: 0 }).collect();
        let r = run_discrete(&n, &input);
        // V: 0, 3, 4.5 -> spike -> 0.5, 3.25, 4.625 -> spike -> 0.625, ...
        assert_eq!(
            r.spikes.layers[0]
                .iter()
                .map(|s| s.step)
                .collect::<Vec<_>>(),
            vec![2, 4, 6]
        );
        // And the TTFS network agrees with the exact model.
        let t = net(vec![2.0, 1.0], 2, 1, 5.0);
        let ev = vec![Some(0), Some(1)].events();
        let exact = run_float(&t, &[Some(0), Some(1)]).spikes[0][0].unwrap();
        let disc = run_discrete(&t, &ev).spikes.first_steps(0)[0].unwrap();
        assert_eq!(disc as f64, exact.ceil());
    }

    #[test]
    fn beyond_the_last_step_is_no_spike_and_v_decides() {
        let r = run_float(&net(vec![0.1, 0.2], 1, 2, 100.0), &[Some(0)]);
        assert_eq!(r.spikes[0], vec![None, None]);
        assert_eq!(r.class, 1);
    }
}
