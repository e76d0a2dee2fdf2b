//! The fuzz harness: one function per loader, shared by the cargo-fuzz
//! targets in `fuzz_targets/` (nightly) and by the stable replay test
//! `host/tests/fuzz_replay.rs`, which includes this file as a module and
//! runs the saved corpora, the crash reproducers and a seeded mutation loop
//! through it in CI.
//!
//! Each function feeds arbitrary bytes to a loader exactly as the CLI does
//! (through a file, so the path-taking loader itself runs), then, when the
//! file is accepted, does what the CLI does next with it (quantize, map,
//! simulate, price). Refusals are fine; a panic, an abort or a hang is a
//! bug. Work after loading is bounded so that one input stays quick.

// Two loaders are compiled in from their sources: the IDX reader of
// `onespike-dataset` (so the sanitized build needs only flate2 for it, not
// rayon and the reference model) and the testbench's case files (so it
// needs neither rust-hdl nor the testbench).
#[path = "../../tests/src/case.rs"]
#[allow(dead_code)]
mod case;
#[cfg(not(test))]
#[path = "../../dataset/src/idx.rs"]
#[allow(dead_code)]
mod data;
// In the stable replay test (a test of the host crate) the real module.
#[cfg(test)]
use onespike_dataset::idx as data;

use onespike_compiler::reference::{RunOptions, Widths};
use onespike_compiler::{FloatNetwork, HwParams, Program, QuantNetwork};
use onespike_sim::{ActionCounts, EnergyModel, SimOptions, Simulator, TechTable};
use std::path::PathBuf;

/// Cycle budget of one simulated inference in the harness.
const MAX_CYCLES: u64 = 200_000;
/// Steps beyond which the harness does not run the reference model.
const MAX_STEPS: u32 = 4096;

/// Writes `data` to this process's scratch file for `what` and returns its path.
fn scratch(what: &str, data: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "onespike-fuzz-{}-{what}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, data).expect("the scratch file is writable");
    path
}

/// IDX images and labels, gzipped or not: the first two bytes give where
/// the image file ends; the rest is the label file.
pub fn idx(input: &[u8]) {
    if input.len() < 2 {
        return;
    }
    let cut = (u16::from_le_bytes([input[0], input[1]]) as usize).min(input.len() - 2);
    let (images, labels) = input[2..].split_at(cut);
    if let Ok(split) = data::split_from_bytes(images.to_vec(), "images", labels.to_vec(), "labels")
    {
        for k in 0..split.len() {
            assert_eq!(split.image(k).len(), split.image_size());
        }
        let _ = split.take(3);
        let _ = split.last(3);
    }
    let _ = data::parse_idx(input, data::IMAGES_MAGIC, "x");
}

/// Runs `prog` in the simulator on no input and on every channel spiking
/// at step 0, within a bounded cycle budget.
fn simulate(prog: &Program) {
    let Ok(mut sim) = Simulator::new(prog) else {
        return;
    };
    let opts = SimOptions {
        max_cycles: MAX_CYCLES,
        ..SimOptions::default()
    };
    let n = prog.input_size as usize;
    for input in [vec![None; n], vec![Some(0); n]] {
        if let Ok(run) = sim.run(&input, &opts) {
            let model = EnergyModel::new(&TechTable::default_table(), &prog.params);
            assert!(model.price(&run.counts).total_pj.is_finite());
        }
    }
}

/// Quantizes (where float), maps onto `tiny` and `default` and simulates.
fn compile_and_run(q: &QuantNetwork) {
    if q.time_steps <= MAX_STEPS {
        let opt = RunOptions {
            widths: Widths::from(&HwParams::preset("default").unwrap()),
            early_exit: false,
        };
        let _ = onespike_compiler::ReferenceModel::new(q)
            .run(&vec![Some(0); q.input_size as usize], opt);
    }
    for preset in ["tiny", "default"] {
        let p = HwParams::preset(preset).unwrap();
        if let Ok((prog, _)) = onespike_compiler::map_balanced(q, &p, None) {
            simulate(&prog);
        }
    }
}

/// A float or quantized network file (JSON), then compile and simulate.
pub fn network_json(data: &[u8]) {
    let path = scratch("network.json", data);
    if let Ok(net) = FloatNetwork::load(&path) {
        let input = vec![Some(0); net.input_size as usize];
        let _ = onespike_compiler::float_eval::run_float(&net, &input);
        if let Ok((q, _)) = onespike_compiler::quantize::quantize(&net, 8) {
            compile_and_run(&q);
        }
    }
    if let Ok(q) = QuantNetwork::load(&path) {
        compile_and_run(&q);
    }
    let _ = std::fs::remove_file(&path);
}

/// A NIR file (HDF5), imported as snnTorch files are (rate input, 20
/// steps, snnTorch's reset), then compiled and simulated. Graphs too large
/// to import quickly are left alone (the bound keeps one input quick).
pub fn nir_file(data: &[u8]) {
    let path = scratch("net.nir", data);
    if let Ok(file) = onespike_nir::h5::read(&path) {
        let opts = onespike_nir::ImportOptions {
            coding: Some(onespike_compiler::Coding::Rate),
            input_steps: Some(20),
            reset: onespike_nir::ResetRule::Snntorch,
            ..Default::default()
        };
        let small = file.graph.nodes.len() <= 64;
        if small {
            if let Ok((net, _)) = onespike_nir::import("fuzz", None, &file.graph, &opts) {
                let weights: usize = net.layers.iter().map(|l| l.weights.len()).sum();
                if weights <= 200_000 {
                    if let Ok((q, _)) = onespike_compiler::quantize::quantize(&net, 8) {
                        compile_and_run(&q);
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_file(&path);
}

/// A program file (JSON), then load it into the simulator and run it.
pub fn program_json(data: &[u8]) {
    let path = scratch("program.json", data);
    if let Ok(prog) = Program::load(&path) {
        simulate(&prog);
    }
    let _ = std::fs::remove_file(&path);
}

/// A regression case file (JSON), then its reference results and its program.
pub fn case_json(data: &[u8]) {
    let path = scratch("case.json", data);
    if let Ok(case) = case::Case::load(&path) {
        if case.program.time_steps <= MAX_STEPS {
            for input in case.inputs.iter().take(4) {
                let _ = case.reference(input);
            }
        }
        simulate(&case.program);
    }
    let _ = std::fs::remove_file(&path);
}

/// A hardware configuration (TOML), then everything derived from it.
pub fn config_toml(data: &[u8]) {
    let path = scratch("config.toml", data);
    if let Ok(p) = HwParams::load(&path) {
        let _ = (p.source_bits(), p.max_time_steps(), Widths::from(&p));
        let _ = EnergyModel::new(&TechTable::default_table(), &p);
        let mut net =
            FloatNetwork::zeros(&[4, 3, 2], onespike_compiler::InputEncoding::new(2), 4, 1.0);
        net.layers.iter_mut().for_each(|l| l.weights.fill(0.5));
        if let Ok((q, _)) = onespike_compiler::quantize::quantize(&net, p.weight_bits) {
            if let Ok((prog, _)) = onespike_compiler::map_balanced(&q, &p, None) {
                simulate(&prog);
            }
        }
    }
    let _ = std::fs::remove_file(&path);
}

/// A technology table (TOML), then energies priced with it: every accepted
/// table must price a busy inference to a finite figure.
pub fn tech_toml(data: &[u8]) {
    let path = scratch("tech.toml", data);
    if let Ok(t) = TechTable::load(&path) {
        for preset in onespike_compiler::params::PRESETS {
            let p = HwParams::preset(preset).unwrap();
            let model = EnergyModel::new(&t, &p);
            let m = 1 << 20;
            let counts = ActionCounts {
                cycles_busy: m,
                cycles_stalled: m,
                cycles_idle: m,
                cycles_gated: m,
                pointer_reads: m,
                weight_reads: m,
                state_reads: m,
                state_writes: m,
                synaptic_accumulates: m,
                membrane_updates: m,
                compares: m,
                membrane_leaks: m,
                current_leaks: m,
                fifo_pushes: m,
                fifo_pops: m,
                spike_queue_pushes: m,
                spike_queue_pops: m,
                bus_transfers: m,
            };
            let e = model.price(&counts);
            assert!(
                e.total_pj.is_finite(),
                "accepted table prices to {}",
                e.total_pj
            );
        }
    }
    let _ = std::fs::remove_file(&path);
}

/// A simulation report (JSON, as `sim -o` writes and `report` reads), then
/// its derived figures.
pub fn report_json(data: &[u8]) {
    let path = scratch("report.json", data);
    if let Ok(r) = onespike_sim::report::SimReport::load(&path) {
        let _ = serde_json::to_string(&r).expect("a loaded report serializes");
    }
    let _ = std::fs::remove_file(&path);
}
