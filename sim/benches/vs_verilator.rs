//! Benchmark (not a test): the simulator against Verilator on the same
//! program and the same MNIST test images, one thread each, in one run:
//! the simulator's steady state and whole job, Verilator through a plain
//! C++ testbench at `-O3` (`onespike_verilator::testbench`; steady state
//! and the whole process), and for comparison the Rust driver through one
//! FFI call per cycle. Stops unless every image's spikes, potentials and
//! cycles agree.
//!
//! ```text
//! cargo bench -p onespike-sim --bench vs_verilator
//! ONESPIKE_BENCH_PROGRAM=onespike-out/program.json cargo bench -p onespike-sim --bench vs_verilator
//! ```
//!
//! The Verilator testbench and model are built on first use and cached.
//! `ONESPIKE_BENCH_PROGRAM` benchmarks a compiled program (e.g. the one
//! `onespike run` writes) instead of the built-in synthetic 784-128-10
//! network; `ONESPIKE_BENCH_IMAGES=n` sets how many images (default 200).

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
    let p = prog.params.clone();
    let n: usize = std::env::var("ONESPIKE_BENCH_IMAGES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let images = mnist_images();
    let n = n.min(images.len());
    let opts = SimOptions::default();
    let run = RunConfig {
        early_exit: opts.early_exit,
        all_spikes: opts.all_spikes,
        max_cycles: opts.max_cycles,
        timing: Default::default(),
    };

    // Simulator, whole job in this process: build the simulator, encode and
    // run the n images once, cold.
    let t0 = Instant::now();
    let mut sim = Simulator::new(&prog).unwrap();
    let inputs: Vec<Vec<onespike_compiler::Spike>> = images[..n]
        .iter()
        .map(|im| prog.encoding.encode(im))
        .collect();
    let sim_runs: Vec<SimRun> = inputs.iter().map(|i| sim.run(i, &opts).unwrap()).collect();
    let sim_whole = t0.elapsed().as_secs_f64();
    // Steady state: the same images again and again for at least a second.
    let t0 = Instant::now();
    let mut passes = 0u64;
    while passes == 0 || t0.elapsed().as_secs_f64() < 1.0 {
        for i in &inputs {
            std::hint::black_box(sim.run(i, &opts).unwrap());
        }
        passes += 1;
    }
    let sim_inf = (passes * n as u64) as f64 / t0.elapsed().as_secs_f64();
    // The same over every core of the machine, one simulator per thread
    // (as `onespike sim` runs a dataset).
    let threads = rayon::current_num_threads();
    let t0 = Instant::now();
    let mut par_passes = 0u64;
    while par_passes == 0 || t0.elapsed().as_secs_f64() < 1.0 {
        use rayon::prelude::*;
        inputs
            .par_iter()
            .map_init(
                || sim.clone(),
                |s, i| std::hint::black_box(s.run(i, &opts).unwrap().cycles),
            )
            .sum::<u64>();
        par_passes += 1;
    }
    let par_inf = (par_passes * n as u64) as f64 / t0.elapsed().as_secs_f64();
    let cycles: u64 = sim_runs.iter().map(|r| r.cycles).sum();
    let spikes: u64 = sim_runs
        .iter()
        .map(|r| r.per_core.iter().map(|c| c.spikes).sum::<u64>())
        .sum();

    println!("onespike-sim vs Verilator on `{}` ({what}), {n} embedded MNIST test images, one thread each", p.name);
    println!(
        "  workload: {:.0} cycles, {:.1} spikes per inference on average",
        cycles as f64 / n as f64,
        spikes as f64 / n as f64
    );
    println!(
        "  simulator:            {sim_inf:>10.1} inferences/s steady state ({:.3e} cycles/s); whole job {:.3} s ({:.1} inferences/s)",
        sim_inf * cycles as f64 / n as f64,
        sim_whole,
        n as f64 / sim_whole
    );
    println!(
        "  simulator, {threads} threads: {par_inf:>10.1} inferences/s steady state ({:.2}x one thread)",
        par_inf / sim_inf
    );
    if !onespike_verilator::available() {
        println!(
            "  Verilator: not installed (or ONESPIKE_NO_VERILATOR is set); only the simulator ran"
        );
        return;
    }

    // Verilator through a plain C++ testbench at -O3 (built once, cached):
    // the steady state is the program's own inference loop; the whole job
    // is the process (model construction, stimulus, host writes, images).
    use onespike_verilator::testbench::{run_testbench, testbench, write_stimulus};
    let exe = testbench(&p).unwrap();
    let stim = std::env::temp_dir().join(format!("onespike-bench-{}.txt", std::process::id()));
    write_stimulus(&prog, &inputs, &run, &stim).unwrap();
    let tb = run_testbench(&exe, &stim).unwrap();
    let _ = std::fs::remove_file(&stim);
    for (k, (got, want)) in tb.inputs.iter().zip(&sim_runs).enumerate() {
        let (spikes, v) = got.record(&prog).unwrap();
        assert!(
            got.cycles == want.cycles && spikes == want.spikes && v == want.final_v,
            "image {k}: the C++ testbench and the simulator disagree ({} vs {} cycles)",
            got.cycles,
            want.cycles
        );
    }
    assert_eq!(tb.inputs.len(), n);
    let tb_inf = n as f64 / tb.run_seconds;
    println!(
        "  Verilator, C++ -O3:   {tb_inf:>10.1} inferences/s steady state ({:.3e} cycles/s); whole process {:.3} s ({:.1} inferences/s; parse {:.3} s, model and host writes {:.3} s)",
        tb_inf * cycles as f64 / n as f64,
        tb.process_seconds,
        n as f64 / tb.process_seconds,
        tb.parse_seconds,
        tb.load_seconds
    );

    // The old way, for comparison: the Rust driver, one FFI call per cycle.
    let m = n.min(20);
    let model = onespike_verilator::VerilatorModel::new(&p).unwrap();
    let mut d = Driver::new(model, &p);
    d.load(&prog, &run).unwrap();
    let t0 = Instant::now();
    for (i, want) in inputs[..m].iter().zip(&sim_runs) {
        let r = d.infer(&prog, i, &run).unwrap();
        assert!(same(want, &r), "the simulator and Verilator (FFI) disagree");
    }
    let ffi_inf = m as f64 / t0.elapsed().as_secs_f64();
    println!("  Verilator, Rust FFI:  {ffi_inf:>10.1} inferences/s ({m} images, the Pins driver one call per cycle)");
    println!(
        "  ratio, simulator / Verilator C++: {:.1}x steady state, {:.1}x whole job; every image agrees on spikes, potentials and cycles",
        sim_inf / tb_inf,
        tb.process_seconds / sim_whole
    );
}
