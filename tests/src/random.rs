//! Random regression cases from a seed: random sparse networks (one to
//! three layers) on the built-in configurations, with inputs chosen to
//! reach the corners of the hardware: worst-case fan-in (every input
//! spiking in one step against small FIFOs), silent inputs, late inputs,
//! early exit, layers spread over several cores.
//!
//! [`random_case`] draws TTFS networks (fire once, latency inputs);
//! [`random_multispike_case`] draws every neuron mode: both resets (and
//! fire-once layers among them), membrane leaks from none to wide shifts,
//! held, leaky and instant currents, recurrent layers, rate-coded inputs
//! with many events per channel, every decision rule, narrow widths where
//! `V` saturates, and hosts that leave gaps in `in_valid` and hold
//! `out_ready` low.
//!
//! [`random_program_case`] draws raw programs that no mapper would write:
//! listen windows anywhere in the source id space (inputs and neurons of
//! any layer mixed, a core's own neurons included: recurrence through the
//! first window), shared and overlapping synapse lists, sources without
//! synapses, unused cores; time steps up to the step counter's limit,
//! bursts that fill FIFOs, and the output-only stream. They have no
//! network form, so the simulator and the RTL judge each other.
//!
//! The same seed gives the same case on every machine (ChaCha8).

use crate::case::{Case, Timing};
use onespike_compiler::encode::InputEncoding;
use onespike_compiler::neuron::{NeuronModel, Reset};
use onespike_compiler::spikes::{Decision, Spike};
use onespike_compiler::Program;
use onespike_compiler::{HwParams, QuantNetwork};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Inputs per random case.
pub const INPUTS_PER_CASE: usize = 3;

/// The random case of `seed`. Every case fits its configuration (a draw
/// that does not fit is redrawn from the same stream).
pub fn random_case(seed: u64) -> Case {
    random_case_on(seed, None)
}

/// [`random_case`] on the configuration `on` (drawn among `tiny`,
/// `tiny_narrow` and `small` when `None`).
pub fn random_case_on(seed: u64, on: Option<&HwParams>) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    loop {
        let drawn = match rng.gen_range(0..10) {
            0..=6 => HwParams::preset("tiny"),
            7 | 8 => HwParams::preset("tiny_narrow"),
            _ => HwParams::preset("small"),
        }
        .expect("built-in preset");
        let params = on.cloned().unwrap_or(drawn);
        let net = random_network(&mut rng, &params);
        let inputs: Vec<Vec<Option<u32>>> = (0..INPUTS_PER_CASE)
            .map(|k| random_input(&mut rng, &net, k))
            .collect();
        let early_exit = rng.gen_bool(0.3);
        if let Ok(case) = Case::record(
            &format!("random case, seed {seed}"),
            params,
            early_exit,
            net,
            inputs,
        ) {
            return case;
        }
    }
}

fn random_network(rng: &mut ChaCha8Rng, p: &HwParams) -> QuantNetwork {
    let layers = rng.gen_range(1..=3usize);
    let n = p.neurons_per_core;
    let input_size = rng.gen_range(2..=p.max_inputs.min(64));
    let mut sizes = vec![input_size];
    for l in 0..layers {
        // Hidden layers may span two cores; the output layer stays small.
        let hi = if l + 1 == layers {
            n.min(10)
        } else {
            (2 * n).min(48)
        };
        sizes.push(rng.gen_range(1..=hi));
    }
    let density: f64 = rng.gen_range(0.08..0.9);
    let wmax = (1i32 << (p.weight_bits - 1)) - 1;
    let narrow = p.membrane_bits <= 12;
    let time_steps = rng.gen_range(4..=p.max_time_steps().min(48));
    let layers = sizes
        .windows(2)
        .map(|w| {
            let (inputs, outputs) = (w[0], w[1]);
            // Mostly excitatory weights, with enough inhibition to matter;
            // thresholds spread from "fires on one spike" to "rarely fires".
            let weights = (0..inputs * outputs)
                .map(|_| {
                    if rng.gen_bool(density) {
                        rng.gen_range(-wmax / 2..=wmax)
                    } else {
                        0
                    }
                })
                .collect();
            let threshold = if narrow {
                rng.gen_range(50..=511)
            } else {
                rng.gen_range(1..=(40 * inputs as i64).max(2))
            };
            (outputs, threshold, weights)
        })
        .collect();
    QuantNetwork::dense(
        input_size,
        InputEncoding::new(time_steps.min(8)),
        time_steps,
        p.weight_bits,
        layers,
    )
}

/// Input `k` of a case: the first is worst-case fan-in (every channel at
/// step 0), then a random pattern, then a sparse late one (some spikes at
/// or after `T`, which the hardware must ignore).
fn random_input(rng: &mut ChaCha8Rng, net: &QuantNetwork, k: usize) -> Vec<Option<u32>> {
    let n = net.input_size as usize;
    let t = net.time_steps;
    match k % 3 {
        0 if rng.gen_bool(0.5) => vec![Some(0); n],
        0 | 1 => (0..n)
            .map(|_| rng.gen_bool(0.7).then(|| rng.gen_range(0..t.min(8))))
            .collect(),
        _ => (0..n)
            .map(|_| rng.gen_bool(0.3).then(|| rng.gen_range(0..t + 4)))
            .collect(),
    }
}

/// A random neuron mode: a third fire-once (leaky or not), the rest
/// multi-spike with every reset, leak and current kind.
fn random_neuron(rng: &mut ChaCha8Rng, p: &HwParams) -> NeuronModel {
    let reset = match rng.gen_range(0..9) {
        0..=2 => Reset::Once,
        3 | 4 => Reset::Subtract,
        5 | 6 => Reset::Zero,
        _ => Reset::SubtractNext,
    };
    let v_shift = match rng.gen_range(0..6) {
        0 => None,
        1 => Some(0),
        2 | 3 => Some(rng.gen_range(1..=3)),
        4 => Some(rng.gen_range(4..=8)),
        // Wide: up to the width's last bit (the whole dead zone).
        _ => Some(rng.gen_range(9..p.membrane_bits)),
    };
    let i_shift = match rng.gen_range(0..5) {
        0 | 1 => Some(0),
        2 => None,
        3 => Some(rng.gen_range(1..=2)),
        _ => Some(rng.gen_range(3..=6)),
    };
    // subtract_next takes theta off every potential that reached it, so
    // only a held current drives it into saturation: give narrow widths
    // that corner more often.
    let i_shift = if reset == Reset::SubtractNext && p.membrane_bits <= 12 && rng.gen_bool(0.5) {
        None
    } else {
        i_shift
    };
    NeuronModel {
        v_shift,
        i_shift,
        reset,
    }
}

/// The random multi-spike case of `seed` (see the module doc). Every
/// case fits its configuration (a draw that does not fit is redrawn from
/// the same stream).
pub fn random_multispike_case(seed: u64) -> Case {
    random_multispike_case_on(seed, None)
}

/// [`random_multispike_case`] on the configuration `on` (drawn when `None`).
pub fn random_multispike_case_on(seed: u64, on: Option<&HwParams>) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6d75_6c74_6973_7069);
    loop {
        let drawn = match rng.gen_range(0..10) {
            0..=4 => HwParams::preset("tiny"),
            5..=8 => HwParams::preset("tiny_narrow"),
            _ => HwParams::preset("small"),
        }
        .expect("built-in preset");
        let params = on.cloned().unwrap_or(drawn);
        let net = random_multispike_network(&mut rng, &params);
        let inputs: Vec<Vec<Spike>> = (0..INPUTS_PER_CASE)
            .map(|k| random_events(&mut rng, &net, k))
            .collect();
        let early_exit = rng.gen_bool(0.3);
        let timing = if rng.gen_bool(0.4) {
            Timing {
                seed: rng.gen(),
                in_gap_percent: rng.gen_range(0..=60),
                out_stall_percent: rng.gen_range(0..=80),
            }
        } else {
            Timing::default()
        };
        if let Ok(mut case) = Case::record(
            &format!("random multi-spike case, seed {seed}"),
            params,
            early_exit,
            net,
            inputs,
        ) {
            case.timing = timing;
            return case;
        }
    }
}

fn random_multispike_network(rng: &mut ChaCha8Rng, p: &HwParams) -> QuantNetwork {
    let layers = rng.gen_range(1..=3usize);
    let n = p.neurons_per_core;
    let input_size = rng.gen_range(2..=p.max_inputs.min(40));
    let mut sizes = vec![input_size];
    for l in 0..layers {
        let hi = if l + 1 == layers {
            n.min(10)
        } else {
            (2 * n).min(24)
        };
        sizes.push(rng.gen_range(1..=hi));
    }
    let rate = rng.gen_bool(0.4);
    let time_steps = rng.gen_range(4..=p.max_time_steps().min(40));
    let input_steps = if rate {
        rng.gen_range(1..=time_steps)
    } else {
        time_steps.min(8)
    };
    let density: f64 = rng.gen_range(0.1..0.8);
    let wmax = (1i32 << (p.weight_bits - 1)) - 1;
    let narrow = p.membrane_bits <= 12;
    let mut net_layers = Vec::new();
    for w in sizes.windows(2) {
        let (inputs, outputs) = (w[0], w[1]);
        let neuron = random_neuron(rng, p);
        let draw = |rng: &mut ChaCha8Rng, count: u32| -> Vec<i32> {
            (0..count)
                .map(|_| {
                    if rng.gen_bool(density) {
                        rng.gen_range(-wmax / 2..=wmax)
                    } else {
                        0
                    }
                })
                .collect()
        };
        let weights = draw(rng, inputs * outputs);
        let recurrent = (outputs <= n && rng.gen_bool(0.35)).then(|| draw(rng, outputs * outputs));
        // Narrow widths: often the largest threshold, so V saturates first.
        let threshold = if narrow && rng.gen_bool(0.45) {
            511
        } else if narrow {
            rng.gen_range(30..=511)
        } else {
            rng.gen_range(1..=(60 * inputs as i64).max(2))
        };
        net_layers.push((outputs, threshold, weights, neuron, recurrent));
    }
    let encoding = if rate {
        InputEncoding::rate(input_steps)
    } else {
        InputEncoding::new(input_steps)
    };
    let mut net = QuantNetwork::dense(
        input_size,
        encoding,
        time_steps,
        p.weight_bits,
        net_layers
            .iter()
            .map(|(o, t, w, _, _)| (*o, *t, w.clone()))
            .collect(),
    );
    for (layer, (_, _, _, neuron, rec)) in net.layers.iter_mut().zip(net_layers) {
        layer.neuron = neuron;
        layer.recurrent = rec;
    }
    net.decision = match rng.gen_range(0..3) {
        0 => Decision::FirstSpike,
        1 => Decision::SpikeCount,
        _ => Decision::MaxPotential,
    };
    net
}

/// Input `k` of a multi-spike case: rate-coded random pixels for a rate
/// network (many events per channel); for a latency network, all channels
/// at step 0, random steps, or a few channels spiking at many steps.
fn random_events(rng: &mut ChaCha8Rng, net: &QuantNetwork, k: usize) -> Vec<Spike> {
    let n = net.input_size as usize;
    let t = net.time_steps;
    if net.encoding.coding == onespike_compiler::Coding::Rate {
        let pixels: Vec<u8> = (0..n)
            .map(|_| match rng.gen_range(0..4) {
                0 => 0,
                1 => 255,
                _ => rng.gen(),
            })
            .collect();
        return net.encoding.encode(&pixels);
    }
    let mut ev: Vec<Spike> = Vec::new();
    for c in 0..n as u32 {
        match k % 3 {
            0 => ev.push(Spike { step: 0, neuron: c }),
            1 => {
                if rng.gen_bool(0.7) {
                    ev.push(Spike {
                        step: rng.gen_range(0..t.min(8)),
                        neuron: c,
                    });
                }
            }
            _ => {
                if rng.gen_bool(0.3) {
                    for step in 0..t + 3 {
                        if rng.gen_bool(0.4) {
                            ev.push(Spike { step, neuron: c });
                        }
                    }
                }
            }
        }
    }
    ev.sort_unstable();
    ev
}

/// The raw-program case of `seed` (see the module doc): expectations are
/// the simulator's (the reference model applies only where the program
/// happens to have a network form, which these rarely do).
pub fn random_program_case(seed: u64) -> Case {
    random_program_case_on(seed, None)
}

/// [`random_program_case`] on the configuration `on` (drawn when `None`).
pub fn random_program_case_on(seed: u64, on: Option<&HwParams>) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7261_7770_726f_6721);
    let (drawn, steps) = match rng.gen_range(0..10) {
        0..=5 => (HwParams::preset("tiny"), 64u32),
        6 | 7 => (HwParams::preset("tiny_narrow"), 40),
        _ => (HwParams::preset("small"), 32),
    };
    let params = on.cloned().unwrap_or(drawn.expect("built-in preset"));
    let steps = steps.min(params.max_time_steps());
    let time_steps = if rng.gen_bool(0.3) {
        steps
    } else {
        rng.gen_range(1..=steps)
    };
    let prog = random_program(&mut rng, &params, time_steps);
    let n = prog.input_size as usize;
    let max_step = params.max_time_steps();
    // A burst (every spike in the first steps: full FIFOs), spikes spread
    // up to the step counter's limit, and a sparse late one.
    let inputs: Vec<Vec<Option<u32>>> = [(0.9, 3), (0.5, max_step), (0.3, max_step)]
        .iter()
        .map(|&(p, steps)| {
            (0..n)
                .map(|_| rng.gen_bool(p).then(|| rng.gen_range(0..steps)))
                .collect()
        })
        .collect();
    let early_exit = rng.gen_bool(0.4);
    let output_only = rng.gen_bool(0.3);
    let network = prog.network("random program").ok();
    let mut case = Case::of_program(
        &format!("random raw program, seed {seed}"),
        prog,
        network,
        early_exit,
        inputs,
    )
    .expect("a valid program and its own inputs make a case");
    case.output_only = output_only;
    if case.network.is_some() {
        let expected = case.expected.clone();
        case.expected = expected.into_iter().map(|e| case.observed(e)).collect();
    } else {
        crate::backends::record_on_simulator(&mut case)
            .expect("the simulator runs a valid program");
    }
    case
}

/// A random valid program that no mapper would write: each used core gets
/// a random layer, neuron count (zero allowed) and listen window anywhere
/// in the source id space (inputs and neurons mixed, its own neurons
/// included: recurrence), pointer entries that may share or overlap weight
/// lists or have no synapse, and random thresholds.
fn random_program(rng: &mut ChaCha8Rng, p: &HwParams, time_steps: u32) -> Program {
    use onespike_compiler::layout::{PointerEntry, WeightEntry};
    use onespike_compiler::{CoreImage, NeuronSlot};
    let n = p.neurons_per_core;
    let used = rng.gen_range(1..=p.cores);
    let layers = rng.gen_range(1..=used.min(3));
    let input_size = rng.gen_range(1..=p.max_inputs);
    let imax = HwParams::signed_max(p.current_bits);
    let mut cores = Vec::new();
    for c in 0..used {
        // Every layer gets at least one core; the last core holds the output layer.
        let layer = if c + 1 == used {
            layers - 1
        } else if c < layers {
            c
        } else {
            rng.gen_range(0..layers)
        };
        let neurons = if c + 1 == used || rng.gen_bool(0.85) {
            rng.gen_range(1..=n)
        } else {
            0
        };
        let len = rng.gen_range(1..=p.pointer_depth.min(p.source_count() as u32));
        let base = rng.gen_range(0..=(p.source_count() as u32 - len));
        let mut weights: Vec<WeightEntry> = Vec::new();
        let mut pos = vec![0i64; neurons as usize];
        let mut neg = vec![0i64; neurons as usize];
        let mut pointers = Vec::new();
        for _ in 0..len {
            if neurons == 0 || rng.gen_bool(0.2) {
                pointers.push(PointerEntry {
                    base: rng.gen_range(0..=weights.len() as u32),
                    count: 0,
                });
                continue;
            }
            let k = rng.gen_range(1..=neurons.min(6));
            if !weights.is_empty() && rng.gen_bool(0.2) {
                // Reuse (part of) an existing list if it fits the budget.
                let b = rng.gen_range(0..weights.len() as u32);
                let k = k.min(weights.len() as u32 - b);
                let ok = weights[b as usize..(b + k) as usize].iter().all(|w| {
                    let t = w.target as usize;
                    if w.weight > 0 {
                        pos[t] + (w.weight as i64) <= imax
                    } else {
                        neg[t] + (w.weight as i64) >= -imax
                    }
                });
                if ok && weights.len() < p.weight_depth as usize {
                    for w in &weights[b as usize..(b + k) as usize] {
                        let t = w.target as usize;
                        if w.weight > 0 {
                            pos[t] += w.weight as i64
                        } else {
                            neg[t] += w.weight as i64
                        }
                    }
                    pointers.push(PointerEntry { base: b, count: k });
                    continue;
                }
            }
            if weights.len() + k as usize > p.weight_depth as usize {
                pointers.push(PointerEntry { base: 0, count: 0 });
                continue;
            }
            let b = weights.len() as u32;
            for _ in 0..k {
                let target = rng.gen_range(0..neurons);
                // -20..=40, within the configuration's weight width.
                let wmax = (1i32 << (p.weight_bits - 1)) - 1;
                let mut w = 0;
                while w == 0 {
                    w = rng.gen_range(-20.min(wmax)..=40.min(wmax));
                }
                let t = target as usize;
                if (w > 0 && pos[t] + w as i64 > imax) || (w < 0 && neg[t] + (w as i64) < -imax) {
                    w = if w > 0 { 1 } else { -1 };
                    if (w > 0 && pos[t] + 1 > imax) || (w < 0 && neg[t] - 1 < -imax) {
                        continue;
                    }
                }
                if w > 0 {
                    pos[t] += w as i64
                } else {
                    neg[t] += w as i64
                }
                weights.push(WeightEntry { target, weight: w });
            }
            pointers.push(PointerEntry {
                base: b,
                count: weights.len() as u32 - b,
            });
        }
        cores.push(CoreImage {
            layer,
            threshold: rng.gen_range(5..120),
            neurons,
            listen_base: base,
            pointers,
            weights,
            neuron: Default::default(),
            rec_base: 0,
            rec_len: 0,
        });
    }
    let mut neurons: Vec<Vec<NeuronSlot>> = vec![Vec::new(); layers as usize];
    for (c, img) in cores.iter().enumerate() {
        for local in 0..img.neurons {
            neurons[img.layer as usize].push(NeuronSlot {
                core: c as u32,
                local,
            });
        }
    }
    let prog = Program {
        format: onespike_compiler::program::PROGRAM_FORMAT.into(),
        version: onespike_compiler::ir::FORMAT_VERSION,
        params: p.clone(),
        input_size,
        encoding: InputEncoding::new(1),
        time_steps,
        cores,
        neurons,
        decision: Default::default(),
    };
    prog.validate("random program")
        .expect("the generator keeps within the configuration");
    prog
}

/// Generated case `k` of a `--random` run from `seed`: the three
/// generators in turn (fire-once networks, every neuron mode, raw
/// programs), named for what makes them again.
pub fn generated_case(seed: u64, k: u64, on: Option<&HwParams>) -> (String, Case) {
    let s = seed.wrapping_add(k / 3);
    match k % 3 {
        0 => (format!("random-{s}"), random_case_on(s, on)),
        1 => (
            format!("random-multispike-{s}"),
            random_multispike_case_on(s, on),
        ),
        _ => (format!("raw-program-{s}"), random_program_case_on(s, on)),
    }
}
