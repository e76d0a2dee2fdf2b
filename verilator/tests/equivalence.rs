//! The exported Verilog in Verilator, driven by the same host driver as the
//! rust-hdl model: spikes, final potentials and steps must equal the
//! reference model's, and cycle counts must equal the rust-hdl model's —
//! fire-once and multi-spike programs alike.

#[path = "../../hw/tests/common/mod.rs"]
mod common;

use common::*;
use onespike_compiler::regs::HostTiming;
use onespike_compiler::{Decision, HwParams, InputEncoding};
use onespike_hw::hdl_model::HdlModel;
use onespike_hw::{tiny_narrow_params, tiny_params};
use onespike_verilator::VerilatorModel;

/// The shared policy: fails where Verilator is installed but the models
/// were not built, and under CI where it is missing.
fn skip() -> bool {
    !onespike_verilator::models_for_tests()
}

fn check(p: &HwParams, sizes: &[u32], density: f64, seed: u64, n_inputs: usize, early_exit: bool) {
    let net = random_network(seed, sizes, density, 24);
    let inputs = random_inputs(seed, sizes[0] as usize, n_inputs, 8);
    let (vc, vb) = check_equivalence(
        VerilatorModel::new(p).unwrap(),
        p,
        &net,
        &inputs,
        early_exit,
    );
    let (hc, _) = onespike_hw::with_config!(p, T => {
        check_equivalence(HdlModel::<T>::new(p), p, &net, &inputs, early_exit)
    })
    .unwrap();
    assert_eq!(vc, hc, "Verilator and rust-hdl cycle counts differ");
    println!(
        "{} {sizes:?} seed {seed}: {vc} cycles, synaptic lower bound {vb}",
        p.name
    );
}

#[test]
fn tiny_random_sparse_networks_match_reference_and_rust_hdl() {
    if skip() {
        return;
    }
    let p = tiny_params();
    for seed in 2..5 {
        check(&p, &[12, 10, 4], 0.35, seed, 4, false);
    }
    check(&p, &[20, 16, 6], 0.5, 11, 3, false);
    check(&p, &[12, 10, 4], 0.4, 7, 4, true);
}

#[test]
fn small_preset_matches_reference_and_rust_hdl() {
    if skip() {
        return;
    }
    let p = HwParams::preset("small").unwrap();
    check(&p, &[40, 48, 10], 0.3, 21, 2, false);
    check(&p, &[64, 60, 10], 0.25, 22, 2, true);
}

#[test]
fn the_serial_fpga_top_runs_a_program_in_verilator() {
    if skip() {
        return;
    }
    common::serial_smoke(
        onespike_verilator::VerilatorFpgaTiny::new().unwrap(),
        &tiny_params(),
    );
}

#[test]
fn every_input_in_one_step_into_full_fifos_matches_in_verilator() {
    if skip() {
        return;
    }
    let p = tiny_params();
    let net = random_network(5, &[32, 16, 4], 1.0, 16);
    let inputs = vec![vec![Some(0); 32], (0..32).map(|i| Some(i % 3)).collect()];
    let (v, _) = check_equivalence(VerilatorModel::new(&p).unwrap(), &p, &net, &inputs, false);
    let (h, _) = onespike_hw::with_config!(&p, T => check_equivalence(HdlModel::<T>::new(&p), &p, &net, &inputs, false)).unwrap();
    assert_eq!(v, h);
}

/// Multi-spike programs (every reset, leaks, recurrent layers, rate inputs)
/// on Verilator and on rust-hdl: spikes equal the reference model's, cycle
/// counts equal each other's, with an eager host and with gaps and stalls.
fn check_modal(
    p: &HwParams,
    sizes: &[u32],
    seed: u64,
    encoding: InputEncoding,
    timing: HostTiming,
) {
    let decision = [
        Decision::FirstSpike,
        Decision::SpikeCount,
        Decision::MaxPotential,
    ][seed as usize % 3];
    let (net, prog, inputs) = random_modal_case(seed, sizes, 0.4, 20, encoding, decision, p, 3);
    let (vc, _) = check_program(
        VerilatorModel::new(p).unwrap(),
        p,
        &net,
        &prog,
        &inputs,
        true,
        timing,
    );
    let (hc, _) = onespike_hw::with_config!(p, T => {
        check_program(HdlModel::<T>::new(p), p, &net, &prog, &inputs, true, timing)
    })
    .unwrap();
    assert_eq!(
        vc, hc,
        "Verilator and rust-hdl cycle counts differ ({} seed {seed})",
        p.name
    );
}

#[test]
fn multi_spike_programs_of_every_mode_match_in_verilator() {
    if skip() {
        return;
    }
    let stalls = HostTiming {
        seed: 5,
        in_gap_percent: 25,
        out_stall_percent: 50,
    };
    let tiny = tiny_params();
    for seed in 0..8 {
        let enc = if seed % 2 == 0 {
            InputEncoding::new(8)
        } else {
            InputEncoding::rate(12)
        };
        check_modal(&tiny, &[10, 12, 6], seed, enc, HostTiming::EAGER);
    }
    check_modal(&tiny, &[10, 12, 6], 3, InputEncoding::rate(12), stalls);
    let narrow = tiny_narrow_params();
    for seed in [2, 4] {
        check_modal(
            &narrow,
            &[8, 10, 4],
            seed,
            InputEncoding::new(8),
            HostTiming::EAGER,
        );
    }
    let small = HwParams::preset("small").unwrap();
    check_modal(
        &small,
        &[40, 48, 10],
        4,
        InputEncoding::new(8),
        HostTiming::EAGER,
    );
    check_modal(&small, &[40, 60, 10], 3, InputEncoding::rate(10), stalls);
}
