//! Random regression cases from a seed: random sparse networks (one to
//! three layers) on the built-in configurations, with inputs chosen to
//! reach the corners of the hardware: worst-case fan-in (every input
//! spiking in one step against small FIFOs), silent inputs, late inputs,
//! early exit, layers spread over several cores.
//!
//! The same seed gives the same case on every machine (ChaCha8).

use crate::case::Case;
use onespike_compiler::encode::InputEncoding;
use onespike_compiler::{HwParams, QuantNetwork};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Inputs per random case.
pub const INPUTS_PER_CASE: usize = 3;

/// The random case of `seed`. Every case fits its configuration (a draw
/// that does not fit is redrawn from the same stream).
pub fn random_case(seed: u64) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    loop {
        let params = match rng.gen_range(0..10) {
            0..=6 => HwParams::preset("tiny"),
            7 | 8 => HwParams::preset("tiny_narrow"),
            _ => HwParams::preset("small"),
        }
        .expect("built-in preset");
        let net = random_network(&mut rng, &params);
        let inputs = (0..INPUTS_PER_CASE)
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
    let density = rng.gen_range(0.08..0.9);
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
