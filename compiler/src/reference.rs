//! The integer reference model (`docs/semantics.md`): the judge that the
//! simulator and the RTL must match spike for spike, in every neuron mode.
//!
//! Per step `t = 0, 1, ..., T-1`:
//! 1. **integrate**, every layer, neurons in index order: the layer's
//!    [`NeuronModel::step`] (leak, `V = sat(V - leak + I)`, spike at
//!    `V >= theta`, reset, current leak; a fired `once` neuron is skipped);
//! 2. **deliver**, every layer: each spike of step `t` (input spikes into
//!    the first layer, layer `l - 1`'s spikes into layer `l`, and layer
//!    `l`'s own spikes into layer `l` through its recurrent weights) does
//!    `I = sat(I + w)` for each of its synapses: inputs in ascending
//!    channel order, then feed-forward sources, then recurrent ones, each
//!    in ascending index order.
//!
//! So a spike at `t` first moves `V` at `t+1`. `I` and `V` saturate at their
//! signed widths. Saturation of `I` is the only place where the order of
//! events within a step could matter; the mapper refuses networks whose
//! fan-in could saturate `I` (see `docs/semantics.md`), so on mapped programs
//! any delivery order gives the same result.
//!
//! The class follows the network's [`Decision`]. With early exit (first
//! spike decision only) the inference ends after the step of the first
//! output spike (that step's deliveries included).

use crate::ir::QuantNetwork;
use crate::neuron::{Bounds, NeuronState, Update};
use crate::params::HwParams;
use crate::spikes::{decide, SpikeInput, SpikeRecord};

/// Signed widths of the neuron state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Widths {
    pub current_bits: u32,
    pub membrane_bits: u32,
}

impl From<&HwParams> for Widths {
    fn from(p: &HwParams) -> Widths {
        Widths {
            current_bits: p.current_bits,
            membrane_bits: p.membrane_bits,
        }
    }
}

impl Widths {
    pub fn bounds(&self) -> Bounds {
        Bounds::of_widths(self.current_bits, self.membrane_bits)
    }
}

/// Options of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    pub widths: Widths,
    /// End the inference after the step of the first output spike (only
    /// under the `first_spike` decision; ignored otherwise).
    pub early_exit: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RefError {
    #[error("input has {got} values, the network expects input_size = {expected}")]
    InputSize { got: usize, expected: usize },
    #[error("input spike on channel {channel}, the network has input_size = {input_size}")]
    InputChannel { channel: u32, input_size: u32 },
}

/// Counts the energy model prices, per layer (index 0 = first weight layer).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Input spikes delivered (those at a step `< T` that ran).
    pub input_spikes: u64,
    /// Spikes emitted by each layer.
    pub spikes: Vec<u64>,
    /// Synapse updates `I += w` into each layer (recurrent ones included).
    pub synaptic_events: Vec<u64>,
    /// Neuron updates (every neuron not disabled, every step run) per layer.
    pub integrations: Vec<u64>,
    /// Updates in which `V` saturated, per layer.
    #[serde(default)]
    pub saturations: Vec<u64>,
}

/// The result of one inference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inference {
    /// Every spike of every layer.
    pub spikes: SpikeRecord,
    /// Membrane potential of each output neuron when the inference ended.
    pub final_v: Vec<i64>,
    /// The decided class.
    pub class: usize,
    /// Steps executed (`T`, or fewer with early exit).
    pub steps_run: u32,
    pub counts: Counts,
}

/// A synapse list by source: `targets[offsets[s]..offsets[s+1]]`.
#[derive(Debug, Clone)]
struct Fanout {
    offsets: Vec<u32>,
    targets: Vec<u32>,
    weights: Vec<i32>,
}

impl Fanout {
    fn of(inputs: u32, outputs: u32, weights: &[i32]) -> Fanout {
        let (n_in, n_out) = (inputs as usize, outputs as usize);
        let mut offsets = Vec::with_capacity(n_in + 1);
        let mut targets = Vec::new();
        let mut ws = Vec::new();
        offsets.push(0);
        for i in 0..n_in {
            for o in 0..n_out {
                let w = weights[o * n_in + i];
                if w != 0 {
                    targets.push(o as u32);
                    ws.push(w);
                }
            }
            offsets.push(targets.len() as u32);
        }
        Fanout {
            offsets,
            targets,
            weights: ws,
        }
    }

    /// Delivers the spikes of `sources` into `state`; returns the synapse updates.
    fn deliver(&self, sources: &[u32], state: &mut [NeuronState], b: &Bounds) -> u64 {
        let mut n = 0;
        for &s in sources {
            let (a, e) = (
                self.offsets[s as usize] as usize,
                self.offsets[s as usize + 1] as usize,
            );
            n += (e - a) as u64;
            for k in a..e {
                crate::neuron::NeuronModel::deliver(
                    &mut state[self.targets[k] as usize],
                    self.weights[k] as i64,
                    b,
                );
            }
        }
        n
    }
}

/// Clamps `x` to the signed `bits`-wide range.
pub fn saturate(x: i64, bits: u32) -> i64 {
    x.clamp(HwParams::signed_min(bits), HwParams::signed_max(bits))
}

/// A network prepared for fast repeated inference.
#[derive(Debug, Clone)]
pub struct ReferenceModel<'a> {
    net: &'a QuantNetwork,
    fanout: Vec<Fanout>,
    recurrent: Vec<Option<Fanout>>,
}

impl<'a> ReferenceModel<'a> {
    pub fn new(net: &'a QuantNetwork) -> ReferenceModel<'a> {
        let fanout = net
            .layers
            .iter()
            .map(|l| Fanout::of(l.inputs, l.outputs, &l.weights))
            .collect();
        let recurrent = net
            .layers
            .iter()
            .map(|l| {
                l.recurrent
                    .as_ref()
                    .map(|r| Fanout::of(l.outputs, l.outputs, r))
            })
            .collect();
        ReferenceModel {
            net,
            fanout,
            recurrent,
        }
    }

    /// Runs one inference on input spikes: per-channel spike steps
    /// (`[Option<u32>]`, `None` = no spike) or a list of events.
    pub fn run<I: SpikeInput + ?Sized>(
        &self,
        input: &I,
        opt: RunOptions,
    ) -> Result<Inference, RefError> {
        let net = self.net;
        if let Some(n) = input.channel_count() {
            if n != net.input_size as usize {
                return Err(RefError::InputSize {
                    got: n,
                    expected: net.input_size as usize,
                });
            }
        }
        let t_max = net.time_steps;
        let n_layers = net.layers.len();
        let b = opt.widths.bounds();

        // Input spikes bucketed by step, each bucket in ascending channel order.
        let mut input_at: Vec<Vec<u32>> = vec![Vec::new(); t_max as usize];
        for s in input.events() {
            if s.neuron >= net.input_size {
                return Err(RefError::InputChannel {
                    channel: s.neuron,
                    input_size: net.input_size,
                });
            }
            if s.step < t_max {
                input_at[s.step as usize].push(s.neuron);
            }
        }

        let mut state: Vec<Vec<NeuronState>> = net
            .layers
            .iter()
            .map(|l| vec![NeuronState::default(); l.outputs as usize])
            .collect();
        let sizes: Vec<u32> = net.layers.iter().map(|l| l.outputs).collect();
        let mut spikes = SpikeRecord::new(&sizes);
        let mut counts = Counts {
            input_spikes: 0,
            spikes: vec![0; n_layers],
            synaptic_events: vec![0; n_layers],
            integrations: vec![0; n_layers],
            saturations: vec![0; n_layers],
        };
        let mut fired_now: Vec<Vec<u32>> = vec![Vec::new(); n_layers];
        let mut steps_run = t_max;
        let early_exit = opt.early_exit && net.decision.allows_early_exit();

        for t in 0..t_max {
            // 1. Integrate every layer.
            for (l, layer) in net.layers.iter().enumerate() {
                fired_now[l].clear();
                for (j, s) in state[l].iter_mut().enumerate() {
                    match layer.neuron.step(s, layer.threshold, &b) {
                        Update::Skipped => {}
                        Update::Done { spiked, saturated } => {
                            counts.integrations[l] += 1;
                            counts.saturations[l] += saturated as u64;
                            if spiked {
                                fired_now[l].push(j as u32);
                                spikes.push(l, t, j as u32);
                            }
                        }
                    }
                }
                counts.spikes[l] += fired_now[l].len() as u64;
            }
            // 2. Deliver this step's spikes, sources in ascending order.
            counts.input_spikes += input_at[t as usize].len() as u64;
            for l in 0..n_layers {
                let sources = if l == 0 {
                    &input_at[t as usize]
                } else {
                    &fired_now[l - 1]
                };
                counts.synaptic_events[l] += self.fanout[l].deliver(sources, &mut state[l], &b);
                if let Some(r) = &self.recurrent[l] {
                    counts.synaptic_events[l] += r.deliver(&fired_now[l], &mut state[l], &b);
                }
            }
            if early_exit && !fired_now[n_layers - 1].is_empty() {
                steps_run = t + 1;
                break;
            }
        }

        let final_v: Vec<i64> = state
            .last()
            .map(|l| l.iter().map(|s| s.v).collect())
            .unwrap_or_default();
        let class = decide(net.decision, spikes.output(), &final_v);
        Ok(Inference {
            spikes,
            final_v,
            class,
            steps_run,
            counts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::InputEncoding;
    use crate::ir::{LayerKind, QuantLayer, FORMAT_VERSION, QUANT_FORMAT};
    use crate::neuron::NeuronModel;
    use crate::spikes::Decision;

    const WIDE: RunOptions = RunOptions {
        widths: Widths {
            current_bits: 32,
            membrane_bits: 40,
        },
        early_exit: false,
    };

    /// A network from `(threshold, weights[out][in])` per layer.
    fn net(input_size: u32, time_steps: u32, layers: &[(i64, Vec<Vec<i32>>)]) -> QuantNetwork {
        let mut inputs = input_size;
        let layers = layers
            .iter()
            .map(|(theta, w)| {
                let l = QuantLayer {
                    kind: LayerKind::Dense,
                    inputs,
                    outputs: w.len() as u32,
                    threshold: *theta,
                    scale: 1.0,
                    weights: w.iter().flatten().copied().collect(),
                    neuron: NeuronModel::TTFS,
                    recurrent: None,
                };
                inputs = l.outputs;
                l
            })
            .collect();
        let n = QuantNetwork {
            format: QUANT_FORMAT.into(),
            version: FORMAT_VERSION,
            input_size,
            encoding: InputEncoding::new(time_steps.min(8)),
            time_steps,
            weight_bits: 16,
            layers,
            decision: Decision::FirstSpike,
        };
        n.validate("test").unwrap();
        n
    }

    fn run(n: &QuantNetwork, input: &[Option<u32>], opt: RunOptions) -> Inference {
        ReferenceModel::new(n).run(input, opt).unwrap()
    }

    #[test]
    fn a_spike_first_moves_v_one_step_later() {
        // One input at t=2, weight 5, threshold 5: I=5 after step 2's
        // integrate, V=5 at step 3 -> fires at 3 (ceil((5 + 5*2)/5) = 3).
        let n = net(1, 10, &[(5, vec![vec![5]])]);
        let r = run(&n, &[Some(2)], WIDE);
        assert_eq!(r.spikes.first_steps(0)[0], Some(3));
        // Threshold 6 needs two steps of current: V=5 at 3, 10 at 4.
        let n = net(1, 10, &[(6, vec![vec![5]])]);
        assert_eq!(run(&n, &[Some(2)], WIDE).spikes.first_steps(0)[0], Some(4));
    }

    #[test]
    fn hidden_spike_reaches_the_next_layer_one_step_later() {
        // Input at 0 -> hidden fires at 1 -> output (w=10, theta=10) fires at 2.
        let n = net(1, 10, &[(1, vec![vec![1]]), (10, vec![vec![10]])]);
        let r = run(&n, &[Some(0)], WIDE);
        assert_eq!(r.spikes.first_steps(0)[0], Some(1));
        assert_eq!(r.spikes.first_steps(1)[0], Some(2));
        assert_eq!(r.class, 0);
    }

    #[test]
    fn neuron_fires_at_most_once_and_freezes() {
        let n = net(1, 20, &[(3, vec![vec![4]])]);
        let r = run(&n, &[Some(0)], WIDE);
        assert_eq!(r.spikes.first_steps(0)[0], Some(1));
        assert_eq!(r.counts.spikes[0], 1);
        // Integrated at steps 0 and 1 only.
        assert_eq!(r.counts.integrations[0], 2);
    }

    #[test]
    fn never_reaching_threshold_emits_nothing_and_largest_v_wins() {
        // Two outputs, neither reaches 1000 within 5 steps; the second
        // integrates faster.
        let n = net(1, 5, &[(1000, vec![vec![3], vec![7]])]);
        let r = run(&n, &[Some(0)], WIDE);
        assert_eq!(r.spikes.first_steps(0), vec![None, None]);
        // V at the end of step 4 = w * 4.
        assert_eq!(r.final_v, vec![12, 28]);
        assert_eq!(r.class, 1);
    }

    #[test]
    fn ties_go_to_the_lowest_index() {
        let n = net(1, 10, &[(4, vec![vec![1], vec![4], vec![4], vec![9]])]);
        let r = run(&n, &[Some(0)], WIDE);
        assert_eq!(
            r.spikes.first_steps(0),
            vec![Some(4), Some(1), Some(1), Some(1)]
        );
        assert_eq!(r.class, 1);
        // Equal potentials and no spike: lowest index.
        let first =
            |steps: &[Option<u32>], v: &[i64]| decide(Decision::FirstSpike, &steps.events(), v);
        assert_eq!(first(&[None, None, None], &[3, 5, 5]), 1);
        assert_eq!(first(&[Some(3), Some(2), Some(2)], &[0, 0, 0]), 1);
    }

    #[test]
    fn current_saturates_at_its_width() {
        // current_bits = 8: I saturates at 127. Two inputs of +100 at t=0
        // give I = 127, not 200 and not a wrapped negative value.
        let n = net(2, 4, &[(1_000_000, vec![vec![100, 100]])]);
        let opt = RunOptions {
            widths: Widths {
                current_bits: 8,
                membrane_bits: 24,
            },
            early_exit: false,
        };
        let r = run(&n, &[Some(0), Some(0)], opt);
        assert_eq!(r.final_v, vec![127 * 3]);
        // Saturation is applied per event, in ascending source order: +100,
        // +100 (saturates at 127), then -100 gives 27.
        let n = net(3, 4, &[(1_000_000, vec![vec![100, 100, -100]])]);
        let r = run(&n, &[Some(0), Some(0), Some(0)], opt);
        assert_eq!(r.final_v, vec![27 * 3]);
        // And on the negative side.
        let n = net(2, 3, &[(1_000_000, vec![vec![-100, -100]])]);
        let r = run(&n, &[Some(0), Some(0)], opt);
        assert_eq!(r.final_v, vec![-128 * 2]);
    }

    #[test]
    fn membrane_saturates_instead_of_wrapping() {
        // membrane_bits = 10: V in -512..=511; threshold 511 is reached by
        // saturation at 511, never wraps negative.
        let n = net(1, 40, &[(511, vec![vec![100]])]);
        let opt = RunOptions {
            widths: Widths {
                current_bits: 10,
                membrane_bits: 10,
            },
            early_exit: false,
        };
        let r = run(&n, &[Some(0)], opt);
        // V: 100, 200, ..., 500 at step 5, then 600 -> saturates 511 at step 6.
        assert_eq!(r.spikes.first_steps(0)[0], Some(6));
        // Negative drive saturates at -512 and stays there.
        let n = net(1, 40, &[(5, vec![vec![-100]])]);
        let r = run(&n, &[Some(0)], opt);
        assert_eq!(r.final_v, vec![-512]);
    }

    #[test]
    fn early_exit_stops_after_the_first_output_step() {
        let n = net(1, 50, &[(2, vec![vec![1], vec![2]])]);
        let full = run(&n, &[Some(0)], WIDE);
        assert_eq!(full.spikes.first_steps(0), vec![Some(2), Some(1)]);
        assert_eq!(full.steps_run, 50);
        let early = run(
            &n,
            &[Some(0)],
            RunOptions {
                early_exit: true,
                ..WIDE
            },
        );
        assert_eq!(early.spikes.first_steps(0), vec![None, Some(1)]);
        assert_eq!(early.steps_run, 2);
        assert_eq!(early.class, full.class);
    }

    #[test]
    fn inputs_at_or_after_t_never_arrive() {
        let n = net(2, 4, &[(1, vec![vec![1, 1]])]);
        let r = run(&n, &[Some(4), None], WIDE);
        assert_eq!(r.spikes.first_steps(0)[0], None);
        assert_eq!(r.counts.input_spikes, 0);
    }

    #[test]
    fn counts_synaptic_events_per_layer() {
        // Input 0 has 2 synapses, input 1 has 1 (one zero weight = pruned).
        let n = net(
            2,
            10,
            &[(1, vec![vec![1, 0], vec![1, 1]]), (100, vec![vec![1, 1]])],
        );
        let r = run(&n, &[Some(0), Some(0)], WIDE);
        assert_eq!(r.counts.input_spikes, 2);
        assert_eq!(r.counts.synaptic_events[0], 3);
        // Both hidden neurons fire at 1, each with one synapse to the output.
        assert_eq!(r.counts.spikes[0], 2);
        assert_eq!(r.counts.synaptic_events[1], 2);
    }

    #[test]
    fn wrong_input_length_is_an_error() {
        let n = net(2, 4, &[(1, vec![vec![1, 1]])]);
        let e = ReferenceModel::new(&n).run(&[None], WIDE).unwrap_err();
        assert_eq!(
            e,
            RefError::InputSize {
                got: 1,
                expected: 2
            }
        );
    }

    // ---- Against a continuous-time evaluation -------------------------------

    /// Continuous-time firing of one neuron with ramp PSPs from inputs at
    /// integer times, by intervals between input times: returns
    /// `ceil(t*)` where `t* = (theta + sum w t_i) / sum w` over the causal
    /// set, if `ceil(t*) < t_max`. Exact rational arithmetic.
    fn continuous_fire(inputs: &[(u32, i64)], theta: i64, t_max: u32) -> Option<u32> {
        let mut ev: Vec<(u32, i64)> = inputs.to_vec();
        ev.sort();
        let (mut w_sum, mut wt_sum) = (0i128, 0i128);
        let mut k = 0;
        while k < ev.len() {
            let t_k = ev[k].0;
            while k < ev.len() && ev[k].0 == t_k {
                w_sum += ev[k].1 as i128;
                wt_sum += ev[k].1 as i128 * ev[k].0 as i128;
                k += 1;
            }
            let next = if k < ev.len() {
                ev[k].0 as i128
            } else {
                i128::MAX
            };
            if w_sum > 0 {
                let num = theta as i128 + wt_sum;
                // ceil(num / w_sum); V(t_k) < theta guarantees num/w_sum > t_k.
                let t_star_ceil = (num + w_sum - 1).div_euclid(w_sum);
                // The crossing lies in this interval when t* <= next.
                if num <= next.saturating_mul(w_sum) {
                    return (t_star_ceil < t_max as i128).then_some(t_star_ceil as u32);
                }
            }
        }
        None
    }

    fn continuous_network(n: &QuantNetwork, input: &[Option<u32>]) -> Vec<Vec<Option<u32>>> {
        let mut prev: Vec<Option<u32>> = input.to_vec();
        let mut out = Vec::new();
        for l in &n.layers {
            let cur: Vec<Option<u32>> = (0..l.outputs as usize)
                .map(|o| {
                    let ins: Vec<(u32, i64)> = prev
                        .iter()
                        .enumerate()
                        .filter_map(|(i, s)| {
                            let w = l.weights[o * l.inputs as usize + i];
                            match s {
                                Some(t) if w != 0 => Some((*t, w as i64)),
                                _ => None,
                            }
                        })
                        .collect();
                    continuous_fire(&ins, l.threshold, n.time_steps)
                })
                .collect();
            out.push(cur.clone());
            prev = cur;
        }
        out
    }

    #[test]
    fn continuous_check_of_a_hand_worked_neuron() {
        // Inputs w=3 at t=1 and w=-1 at t=4, theta=10:
        // V(t) = 3(t-1) for t<=4 (=9 at 4), then 3(t-1) - (t-4) = 2t + 1,
        // which reaches 10 at t* = 4.5 -> fires at step 5.
        assert_eq!(continuous_fire(&[(1, 3), (4, -1)], 10, 20), Some(5));
        let n = net(2, 20, &[(10, vec![vec![3, -1]])]);
        assert_eq!(
            run(&n, &[Some(1), Some(4)], WIDE).spikes.first_steps(0)[0],
            Some(5)
        );
        // Threshold 11 is reached exactly at t* = 5: an integer t* is its own ceiling.
        assert_eq!(continuous_fire(&[(1, 3), (4, -1)], 11, 20), Some(5));
        let n = net(2, 20, &[(11, vec![vec![3, -1]])]);
        assert_eq!(
            run(&n, &[Some(1), Some(4)], WIDE).spikes.first_steps(0)[0],
            Some(5)
        );
    }

    use proptest::prelude::*;

    fn arb_case() -> impl Strategy<Value = (QuantNetwork, Vec<Option<u32>>)> {
        (1usize..7, 1usize..6, 1usize..5, 4u32..40).prop_flat_map(|(n_in, n_hid, n_out, t)| {
            let w1 = proptest::collection::vec(-20i32..=30, n_in * n_hid);
            let w2 = proptest::collection::vec(-20i32..=30, n_hid * n_out);
            let th = (1i64..200, 1i64..200);
            let inp = proptest::collection::vec(proptest::option::of(0u32..t), n_in);
            (w1, w2, th, inp).prop_map(move |(w1, w2, (th1, th2), inp)| {
                let rows =
                    |w: &[i32], cols: usize| w.chunks(cols).map(|c| c.to_vec()).collect::<Vec<_>>();
                let n = net(
                    n_in as u32,
                    t,
                    &[(th1, rows(&w1, n_in)), (th2, rows(&w2, n_hid))],
                );
                (n, inp)
            })
        })
    }

    proptest! {
        /// Without saturation, the step model fires at the ceiling of the
        /// continuous firing time, layer by layer.
        #[test]
        fn step_model_equals_continuous_time_ceiling((n, inp) in arb_case()) {
            let r = run(&n, &inp, WIDE);
            let got: Vec<_> = (0..n.layers.len()).map(|l| r.spikes.first_steps(l)).collect();
            prop_assert_eq!(got, continuous_network(&n, &inp));
        }

        /// Early exit never changes the decision, only truncates the run.
        #[test]
        fn early_exit_keeps_the_class((n, inp) in arb_case()) {
            let full = run(&n, &inp, WIDE);
            let early = run(&n, &inp, RunOptions { early_exit: true, ..WIDE });
            if !full.spikes.output().is_empty() {
                prop_assert_eq!(early.class, full.class);
                prop_assert!(early.steps_run <= full.steps_run);
            } else {
                prop_assert_eq!(early, full);
            }
        }
    }
}
