//! Benchmark (not a test): the simulator against Verilator on the same
//! MNIST-sized network and the same MNIST test images, on the `default`
//! preset (16 cores of 128 neurons). Prints simulated inferences/s and
//! equivalent cycles/s (the accelerator's cycles per wall-clock second) of
//! both, one thread each, and their ratio; checks on the way that both
//! give the same spikes, potentials and cycle counts.
//!
//! ```text
//! cargo bench -p onespike-sim --bench vs_verilator
//! ```
//!
//! `onespike-verilator` builds the `default` preset's model on first use
//! (cached; see its crate docs). Options:
//! `ONESPIKE_BENCH_PROGRAM=path/program.json` benchmarks a compiled
//! program (e.g. `onespike run`'s) instead of the built-in synthetic
//! 784-128-10 network; `ONESPIKE_BENCH_IMAGES=n` sets how many images
//! Verilator runs (default 20; the simulator runs all 1000 of the embedded
//! subset, repeated until one second has passed).

use flate2::read::GzDecoder;
use onespike_compiler::{map_in_order, HwParams, InputEncoding, Program, QuantNetwork};
use onespike_hw::driver::{Driver, RunConfig};
use onespike_sim::{SimOptions, SimRun, Simulator};
use std::io::Read;
use std::time::Instant;

/// The embedded MNIST test subset's images (IDX, gzipped), 28x28 each.
fn mnist_images() -> Vec<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/mnist-subset/t10k-images-idx3-ubyte.gz"
    );
    let gz = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut raw = Vec::new();
    GzDecoder::new(&gz[..])
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let be = |k: usize| u32::from_be_bytes(raw[k..k + 4].try_into().unwrap()) as usize;
    assert_eq!(be(0), 0x803, "{path}: not an IDX image file");
    let (n, size) = (be(4), be(8) * be(12));
    (0..n)
        .map(|k| raw[16 + k * size..16 + (k + 1) * size].to_vec())
        .collect()
}

/// A synthetic MNIST-sized network: 784 inputs, 128 hidden neurons at 10 %
/// density, 10 outputs at 30 %, weights in -10..=12, 64 steps; its
/// thresholds give about 85 spikes per image (a deterministic
/// pseudo-random pattern, no training needed).
fn synthetic_program(p: &HwParams) -> Program {
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut layer = |inputs: u32, outputs: u32, density_pct: u64, threshold: i64| {
        let weights = (0..inputs * outputs)
            .map(|_| {
                if next() % 100 < density_pct {
                    (next() % 23) as i32 - 10
                } else {
                    0
                }
            })
            .collect();
        (outputs, threshold, weights)
    };
    let layers = vec![layer(784, 128, 10, 400), layer(128, 10, 30, 150)];
    let net = QuantNetwork::dense(784, InputEncoding::new(8), 64, 8, layers);
    map_in_order(&net, p).expect("the synthetic network fits the default preset")
}

fn same(a: &SimRun, b: &onespike_hw::RtlRun) -> bool {
    a.spikes == b.spikes
        && a.final_v == b.final_v
        && a.steps_run == b.steps_run
        && a.cycles == b.cycles
        && a.spike_count == b.spike_count
}

fn main() {
    let p = HwParams::preset("default").unwrap();
    let (prog, what) = match std::env::var("ONESPIKE_BENCH_PROGRAM") {
        Ok(path) => (
            Program::load(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}")),
            path,
        ),
        Err(_) => (
            synthetic_program(&p),
            "synthetic 784-128-10 network".to_string(),
        ),
    };
    let images = mnist_images();
    let inputs: Vec<Vec<onespike_compiler::Spike>> =
        images.iter().map(|im| prog.encoding.encode(im)).collect();
    let opts = SimOptions::default();
    let run = RunConfig {
        early_exit: opts.early_exit,
        all_spikes: opts.all_spikes,
        max_cycles: opts.max_cycles,
        timing: Default::default(),
    };

    // Simulator: every image, repeated until a second has passed.
    let mut sim = Simulator::new(&prog).unwrap();
    let sim_runs: Vec<SimRun> = inputs.iter().map(|i| sim.run(i, &opts).unwrap()).collect();
    let cycles_per_pass: u64 = sim_runs.iter().map(|r| r.cycles).sum();
    let spikes: u64 = sim_runs
        .iter()
        .map(|r| r.per_core.iter().map(|c| c.spikes).sum::<u64>())
        .sum();
    let t0 = Instant::now();
    let mut passes = 0u64;
    while passes == 0 || t0.elapsed().as_secs_f64() < 1.0 {
        for i in &inputs {
            std::hint::black_box(sim.run(i, &opts).unwrap());
        }
        passes += 1;
    }
    let sim_s = t0.elapsed().as_secs_f64();
    let sim_inf = (passes * inputs.len() as u64) as f64 / sim_s;
    let sim_cps = (passes * cycles_per_pass) as f64 / sim_s;

    println!(
        "onespike-sim vs Verilator on `{}` ({what}), embedded MNIST test images",
        p.name
    );
    println!(
        "  workload: {:.0} cycles, {:.1} spikes per inference on average ({} images)",
        cycles_per_pass as f64 / inputs.len() as f64,
        spikes as f64 / inputs.len() as f64,
        inputs.len()
    );
    println!(
        "  simulator: {sim_inf:>12.1} inferences/s  {:>10.3e} cycles/s  (1 thread)",
        sim_cps
    );

    if !onespike_verilator::available() {
        println!("  Verilator: not installed (or ONESPIKE_NO_VERILATOR is set); only the simulator ran");
        return;
    }
    let n: usize = std::env::var("ONESPIKE_BENCH_IMAGES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
        .min(inputs.len());
    let model = onespike_verilator::VerilatorModel::new(&p).unwrap();
    let mut d = Driver::new(model, &p);
    d.load(&prog, &run).unwrap();
    let t0 = Instant::now();
    let mut rtl_cycles = 0u64;
    let mut rtl = Vec::new();
    for i in &inputs[..n] {
        let r = d.infer(&prog, i, &run).unwrap();
        rtl_cycles += r.cycles;
        rtl.push(r);
    }
    let v_s = t0.elapsed().as_secs_f64();
    let mismatches = sim_runs
        .iter()
        .zip(&rtl)
        .filter(|(a, b)| !same(a, b))
        .count();
    assert_eq!(
        mismatches, 0,
        "the simulator and Verilator disagree on {mismatches} of {n} images"
    );
    let v_inf = n as f64 / v_s;
    let v_cps = rtl_cycles as f64 / v_s;
    println!("  Verilator: {v_inf:>12.1} inferences/s  {:>10.3e} cycles/s  (1 thread, {n} images, driver through the Pins FFI)", v_cps);
    println!("  ratio:     {:>12.1}x inferences/s; the {n} images agree on spikes, potentials and cycles", sim_inf / v_inf);
}
