//! Shared helpers of the hw integration tests: random sparse networks,
//! random inputs, and the RTL-vs-reference comparison over any `Pins`.

#![allow(dead_code)]

use onespike_compiler::reference::{ReferenceModel, RunOptions, Widths};
use onespike_compiler::regs::HostTiming;
use onespike_compiler::{
    map_balanced, map_in_order, Decision, HwParams, InputEncoding, NeuronModel, Program,
    QuantNetwork, Reset, Spike, SpikeInput,
};
use onespike_hw::driver::{synaptic_lower_bound, Driver, Pins, RunConfig};
use rand::{Rng, SeedableRng};

/// A random network with about `density` of its synapses present.
pub fn random_network(seed: u64, sizes: &[u32], density: f64, time_steps: u32) -> QuantNetwork {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let layers = sizes
        .windows(2)
        .map(|w| {
            let weights = (0..w[0] * w[1])
                .map(|_| {
                    if rng.gen_bool(density) {
                        rng.gen_range(-6..=14)
                    } else {
                        0
                    }
                })
                .collect();
            (w[1], rng.gen_range(8..40), weights)
        })
        .collect();
    let net = QuantNetwork::dense(sizes[0], InputEncoding::new(8), time_steps, 8, layers);
    net.validate("random network").unwrap();
    net
}

pub fn random_inputs(seed: u64, n: usize, count: usize, steps: u32) -> Vec<Vec<Option<u32>>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    (0..count)
        .map(|_| {
            (0..n)
                .map(|_| {
                    if rng.gen_bool(0.7) {
                        Some(rng.gen_range(0..steps))
                    } else {
                        None
                    }
                })
                .collect()
        })
        .collect()
}

/// Runs every input on the RTL behind `pins` and on the reference model
/// (network mapped in order); panics on the first difference. Returns
/// (total cycles, total lower bound).
pub fn check_equivalence<P: Pins, I: SpikeInput>(
    pins: P,
    params: &HwParams,
    net: &QuantNetwork,
    inputs: &[I],
    early_exit: bool,
) -> (u64, u64) {
    let prog = map_in_order(net, params).unwrap();
    check_program(
        pins,
        params,
        net,
        &prog,
        inputs,
        early_exit,
        HostTiming::EAGER,
    )
}

/// [`check_equivalence`] for a given mapping and host timing.
pub fn check_program<P: Pins, I: SpikeInput>(
    pins: P,
    params: &HwParams,
    net: &QuantNetwork,
    prog: &Program,
    inputs: &[I],
    early_exit: bool,
    timing: HostTiming,
) -> (u64, u64) {
    let reference = ReferenceModel::new(net);
    let opt = RunOptions {
        widths: Widths::from(params),
        early_exit,
    };
    let run = RunConfig {
        early_exit,
        all_spikes: true,
        max_cycles: 2_000_000,
        timing,
    };
    let mut d = Driver::new(pins, params);
    d.load(prog, &run).unwrap();
    let (mut cycles, mut bound) = (0, 0);
    let mut spikes_seen = vec![0u64; net.layers.len()];
    for (k, input) in inputs.iter().enumerate() {
        let want = reference.run(input, opt).unwrap();
        for (l, s) in want.spikes.layers.iter().enumerate() {
            spikes_seen[l] += s.len() as u64;
        }
        let got = d.infer(prog, input, &run).unwrap();
        if let Some(diff) = got.spikes.first_difference(&want.spikes) {
            panic!(
                "input {k}: spikes differ, first (layer, rtl only, reference only) = {diff:?} (input {:?})",
                input.events()
            );
        }
        assert_eq!(got.final_v, want.final_v, "input {k}: final V differs");
        assert_eq!(got.steps_run, want.steps_run, "input {k}: steps run differ");
        assert_eq!(got.class, want.class, "input {k}: class differs");
        assert_eq!(got.spike_count, want.spikes.total());
        cycles += got.cycles;
        bound += synaptic_lower_bound(prog, input, &want.spikes, want.steps_run);
    }
    // A test whose network never fires would prove little.
    assert!(
        spikes_seen.iter().all(|&n| n > 0),
        "some layer never fired: {spikes_seen:?}"
    );
    (cycles, bound)
}

/// Loads a 3-5 network through the serial FPGA top, runs one input event,
/// and checks the cycle count (the wide port's, see tests/timing.rs) and a
/// final potential.
pub fn serial_smoke<S: onespike_hw::fpga_top::SerialPort>(port: S, p: &HwParams) {
    let weights = vec![5, 1, 0, 5, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0];
    let net = QuantNetwork::dense(3, InputEncoding::new(4), 10, 8, vec![(5, 100_000, weights)]);
    let prog = map_in_order(&net, p).unwrap();
    let mut s = onespike_hw::fpga_top::SerialHost::new(port, p);
    let run = RunConfig {
        early_exit: false,
        all_spikes: true,
        max_cycles: 0,
        timing: HostTiming::EAGER,
    };
    for w in onespike_hw::driver::host_writes(&prog, &run).unwrap() {
        s.send(&[
            ("cfg_we", 1),
            ("cfg_core", w.core as u64),
            ("cfg_region", w.region),
            ("cfg_index", w.index),
            ("cfg_data", w.data),
        ]);
    }
    // Input 0 spikes at step 0; it is the only event (in_end).
    s.send(&[
        ("start", 1),
        ("in_valid", 1),
        ("in_end", 1),
        ("in_source", 0),
        ("in_step", 0),
    ]);
    let mut polls = 0;
    while s.read_field("done") == 0 {
        polls += 1;
        assert!(polls < 100);
    }
    // The wide port's count (tests/timing.rs): (8 + 2) + 10 * (5 + 6) + 3 + 3.
    assert_eq!(s.read_field("cycles"), 126);
    assert_eq!(s.read_field("in_pending"), 0);
    // V of neuron 0: I = 5 from step 1 on, nine steps.
    s.send(&[("in_end", 1), ("vread_core", 0), ("vread_addr", 0)]);
    s.idle();
    assert_eq!(s.read_field("vread_data"), 45);
}

/// Neuron models the random multi-spike networks draw from: every reset,
/// membrane leaks none, 0 (emptied), 1, 2 and 4, currents held, emptied
/// (instant synapse) or leaking by 1 and 3.
pub const RESETS: [Reset; 3] = [Reset::Once, Reset::Subtract, Reset::Zero];
pub const V_SHIFTS: [Option<u32>; 5] = [None, Some(0), Some(1), Some(2), Some(4)];
pub const I_SHIFTS: [Option<u32>; 4] = [None, Some(0), Some(1), Some(3)];

/// A random layered network whose layers each take a neuron model (layer
/// `k` of seed `s` takes the entries `(s + k) mod len` of [`RESETS`],
/// [`V_SHIFTS`] and [`I_SHIFTS`], so that consecutive seeds cover every
/// entry and 60 of them every combination), recurrent weights on about half
/// of the layers, `decision` for the output, and `count` random inputs
/// ([`random_events`]); weights drawn again until the network validates,
/// maps on `p` (`map_balanced`) and every layer spikes on the inputs (in
/// the reference model).
#[allow(clippy::too_many_arguments)]
pub fn random_modal_case(
    seed: u64,
    sizes: &[u32],
    density: f64,
    time_steps: u32,
    encoding: InputEncoding,
    decision: Decision,
    p: &HwParams,
    count: usize,
) -> (QuantNetwork, Program, Vec<Vec<Spike>>) {
    let mut why = String::new();
    for attempt in 0..200u64 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed * 1000 + attempt);
        let mut net = QuantNetwork::dense(
            sizes[0],
            encoding,
            time_steps,
            8,
            sizes
                .windows(2)
                .map(|w| {
                    let weights = (0..w[0] * w[1])
                        .map(|_| {
                            if rng.gen_bool(density) {
                                rng.gen_range(-8..=24)
                            } else {
                                0
                            }
                        })
                        .collect();
                    (w[1], rng.gen_range(4..24), weights)
                })
                .collect(),
        );
        net.decision = decision;
        for (k, l) in net.layers.iter_mut().enumerate() {
            let s = (seed as usize) + k;
            l.neuron = NeuronModel {
                reset: RESETS[s % RESETS.len()],
                v_shift: V_SHIFTS[s % V_SHIFTS.len()],
                i_shift: I_SHIFTS[s % I_SHIFTS.len()],
            };
            if rng.gen_bool(0.5) {
                let n = l.outputs;
                l.recurrent = Some(
                    (0..n * n)
                        .map(|_| {
                            if rng.gen_bool(0.3) {
                                rng.gen_range(-6..=10)
                            } else {
                                0
                            }
                        })
                        .collect(),
                );
            }
        }
        if let Err(e) = net.validate("random modal network") {
            why = e.to_string();
            continue;
        }
        let prog = match map_balanced(&net, p, None) {
            Ok((prog, _)) => prog,
            Err(e) => {
                why = e.to_string();
                continue;
            }
        };
        let inputs = random_events(seed * 1000 + attempt, &net, count);
        let reference = ReferenceModel::new(&net);
        let opt = RunOptions {
            widths: Widths::from(p),
            early_exit: false,
        };
        let mut fired = vec![false; net.layers.len()];
        for i in &inputs {
            let r = reference.run(i, opt).unwrap();
            for (l, f) in fired.iter_mut().enumerate() {
                *f |= !r.spikes.layers[l].is_empty();
            }
        }
        if fired.iter().all(|&f| f) {
            return (net, prog, inputs);
        }
        why = format!("layers fired: {fired:?}");
    }
    panic!(
        "no valid random modal network for seed {seed} on {}: {why}",
        p.name
    );
}

/// Random input events for `net`'s encoding: latency (at most one spike
/// per channel) or rate-coded random pixels.
pub fn random_events(seed: u64, net: &QuantNetwork, count: usize) -> Vec<Vec<Spike>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0xe7e7);
    (0..count)
        .map(|_| {
            let pixels: Vec<u8> = (0..net.input_size)
                .map(|_| if rng.gen_bool(0.6) { rng.gen() } else { 0 })
                .collect();
            net.encoding.encode(&pixels)
        })
        .collect()
}
