//! Shared helpers of the simulator's tests: random sparse networks and
//! inputs, the three models behind one call each, and the comparisons.

#![allow(dead_code)]

use onespike_compiler::ir::{LayerKind, QuantLayer, FORMAT_VERSION, QUANT_FORMAT};
use onespike_compiler::reference::{Inference, ReferenceModel, RunOptions, Widths};
use onespike_compiler::{
    map_balanced, map_in_order, HwParams, InputEncoding, Program, QuantNetwork,
};
use onespike_sim::{SimOptions, SimRun, Simulator};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Shape of a random network.
#[derive(Debug, Clone)]
pub struct NetSpec {
    pub sizes: Vec<u32>,
    pub density: f64,
    pub time_steps: u32,
    pub input_steps: u32,
    /// Weights are drawn from `lo..=hi` (zero redrawn as absent).
    pub weights: (i32, i32),
    pub thresholds: (i64, i64),
}

impl NetSpec {
    pub fn new(sizes: &[u32], density: f64, time_steps: u32) -> NetSpec {
        NetSpec {
            sizes: sizes.to_vec(),
            density,
            time_steps,
            input_steps: 8.min(time_steps),
            weights: (-6, 14),
            thresholds: (8, 40),
        }
    }
}

/// A random network of `spec`; input channel 0 gets no synapse at all (a
/// zero-synapse source in every core that listens to the inputs).
pub fn random_network(seed: u64, spec: &NetSpec) -> QuantNetwork {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let layers = spec
        .sizes
        .windows(2)
        .enumerate()
        .map(|(l, w)| {
            let (n_in, n_out) = (w[0], w[1]);
            let weights = (0..n_in * n_out)
                .map(|k| {
                    let i = k % n_in;
                    if (l == 0 && i == 0) || !rng.gen_bool(spec.density) {
                        0
                    } else {
                        let mut x = 0;
                        while x == 0 {
                            x = rng.gen_range(spec.weights.0..=spec.weights.1);
                        }
                        x
                    }
                })
                .collect();
            QuantLayer {
                kind: LayerKind::Dense,
                inputs: n_in,
                outputs: n_out,
                threshold: rng.gen_range(spec.thresholds.0..=spec.thresholds.1),
                scale: 1.0,
                weights,
                neuron: Default::default(),
                recurrent: None,
            }
        })
        .collect();
    let net = QuantNetwork {
        format: QUANT_FORMAT.into(),
        version: FORMAT_VERSION,
        input_size: spec.sizes[0],
        encoding: InputEncoding::new(spec.input_steps),
        time_steps: spec.time_steps,
        weight_bits: 8,
        layers,
        decision: Default::default(),
    };
    net.validate("random network").unwrap();
    net
}

/// `count` random inputs: each channel spikes with probability `p` at a
/// step in `0..steps` (steps may exceed `T`: those spikes never arrive).
pub fn random_inputs(
    seed: u64,
    n: usize,
    count: usize,
    p: f64,
    steps: u32,
) -> Vec<Vec<Option<u32>>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_1234);
    (0..count)
        .map(|_| {
            (0..n)
                .map(|_| {
                    if rng.gen_bool(p) {
                        Some(rng.gen_range(0..steps))
                    } else {
                        None
                    }
                })
                .collect()
        })
        .collect()
}

/// Maps with the in-order mapper, or on odd seeds with the balanced one
/// (which places neurons differently; in-order where it needs more cores).
pub fn map(net: &QuantNetwork, p: &HwParams, seed: u64) -> Program {
    if seed % 2 == 1 {
        if let Ok((prog, _)) = map_balanced(net, p, None) {
            return prog;
        }
    }
    map_in_order(net, p).unwrap()
}

pub fn reference(
    net: &QuantNetwork,
    p: &HwParams,
    input: &[Option<u32>],
    early_exit: bool,
) -> Inference {
    ReferenceModel::new(net)
        .run(
            input,
            RunOptions {
                widths: Widths::from(p),
                early_exit,
            },
        )
        .unwrap()
}

/// Checks a simulator run against the reference model: the spikes seen
/// on the output stream (all layers, or only the output layer), final
/// potentials and steps run.
pub fn assert_matches_reference(got: &SimRun, want: &Inference, opts: &SimOptions, what: &str) {
    let last = want.spikes.layers.len() - 1;
    for (l, layer) in want.spikes.layers.iter().enumerate() {
        if opts.all_spikes || l == last {
            assert_eq!(
                got.spikes.layers[l], *layer,
                "{what}: spikes of layer {l} differ from the reference"
            );
        } else {
            assert!(
                got.spikes.layers[l].is_empty(),
                "{what}: layer {l} spikes on the output stream"
            );
        }
    }
    assert_eq!(
        got.final_v, want.final_v,
        "{what}: final V differs from the reference"
    );
    assert_eq!(
        got.steps_run, want.steps_run,
        "{what}: steps run differ from the reference"
    );
    let seen: u64 = got.spikes.total();
    assert_eq!(got.spike_count, seen, "{what}: spike count");
}

/// Runs every input on a fresh simulator of `prog`.
pub fn sim_runs(prog: &Program, inputs: &[Vec<Option<u32>>], opts: &SimOptions) -> Vec<SimRun> {
    let mut sim = Simulator::new(prog).unwrap();
    inputs.iter().map(|i| sim.run(i, opts).unwrap()).collect()
}
