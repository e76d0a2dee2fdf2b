//! Mapping benchmarks (figures, not tests): compile time of a 1-million-
//! synapse network (target < 1 s on 2 cores) and cores used versus the
//! lower bound on random pruned networks (target <= 1.05x).
//! Run: `cargo bench -p onespike-compiler --bench map`.

use onespike_compiler::ir::{LayerKind, QuantLayer, FORMAT_VERSION, QUANT_FORMAT};
use onespike_compiler::{map_balanced, HwParams, InputEncoding, QuantNetwork};
use std::time::Instant;

/// xorshift64: a dependency-free, seeded stream so figures are repeatable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn random_net(sizes: &[u32], density: f64, rng: &mut Rng) -> QuantNetwork {
    let layers = sizes
        .windows(2)
        .map(|w| {
            // Per-neuron density varies (0.2x..1.8x) so fan-ins are uneven, as after magnitude pruning.
            let weights = (0..w[1])
                .flat_map(|_| {
                    let d = density * (0.2 + 1.6 * (rng.next() % 1000) as f64 / 1000.0);
                    (0..w[0])
                        .map(|_| {
                            if ((rng.next() % 100_000) as f64) < d * 100_000.0 {
                                1 + (rng.next() % 3) as i32
                            } else {
                                0
                            }
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            QuantLayer {
                kind: LayerKind::Dense,
                inputs: w[0],
                outputs: w[1],
                threshold: 10,
                scale: 1.0,
                weights,
                neuron: Default::default(),
                recurrent: None,
            }
        })
        .collect();
    QuantNetwork {
        format: QUANT_FORMAT.into(),
        version: FORMAT_VERSION,
        input_size: sizes[0],
        encoding: InputEncoding::new(8),
        time_steps: 64,
        weight_bits: 8,
        layers,
        decision: Default::default(),
    }
}

fn main() {
    let mut rng = Rng(0x5eed);
    // 1. Compile time, 1M synapses: 1000 -> 2000 (50 %) -> 10.
    let net = random_net(&[1000, 2000, 10], 0.5, &mut rng);
    let mut p = HwParams::preset("default").unwrap();
    p.cores = 64;
    p.pointer_depth = 4096;
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..5 {
        let t0 = Instant::now();
        last = Some(map_balanced(&net, &p, None).unwrap());
        best = best.min(t0.elapsed().as_secs_f64());
    }
    let (_, rep) = last.unwrap();
    println!(
        "map_balanced 1M-synapse net ({} synapses): best of 5 = {:.3} s; cores {} (lower bound {}), cycles lower bound {:.0}",
        rep.synapses, best, rep.cores_used, rep.cores_lower_bound, rep.cycles_lower_bound
    );

    // 2. Cores used versus the lower bound on random pruned networks.
    let mut worst: f64 = 0.0;
    let mut sum = 0.0;
    let n = 50;
    for k in 0..n {
        let sizes = [
            784,
            64 + (rng.next() % 900) as u32,
            10 + (rng.next() % 200) as u32,
            10,
        ];
        let density = 0.02 + 0.3 * (rng.next() % 1000) as f64 / 1000.0;
        let net = random_net(&sizes, density, &mut rng);
        let mut p = HwParams::preset("default").unwrap();
        p.cores = 256;
        p.weight_depth = [4096, 8192, 16384][k % 3];
        p.pointer_depth = 16384;
        let (_, rep) = map_balanced(&net, &p, None).unwrap();
        worst = worst.max(rep.cores_ratio);
        sum += rep.cores_ratio;
    }
    println!(
        "cores used / lower bound over {n} random pruned nets: mean {:.3}x, worst {:.3}x",
        sum / n as f64,
        worst
    );
}
