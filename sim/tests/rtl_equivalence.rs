//! The simulator against the RTL (rust-hdl model, hand-clocked, through
//! `onespike_hw::Driver`) and the reference model, on random sparse
//! networks of every built-in configuration: spikes, final potentials,
//! steps run, spike count and the cycle counter must all be equal.
//! Covers worst-case fan-in into full FIFOs, early exit, the output-only
//! stream, unused cores, zero-synapse sources and layers spanning cores.

mod common;

use common::*;
use onespike_compiler::{HwParams, Program, QuantNetwork};
use onespike_hw::driver::{Driver, RtlRun, RunConfig};
use onespike_hw::hdl_model::HdlModel;
use onespike_hw::{tiny_narrow_params, tiny_params};
use onespike_sim::{SimOptions, SimRun};

fn rtl_runs(prog: &Program, inputs: &[Vec<Option<u32>>], opts: &SimOptions) -> Vec<RtlRun> {
    let p = &prog.params;
    let run = RunConfig {
        early_exit: opts.early_exit,
        all_spikes: opts.all_spikes,
        max_cycles: opts.max_cycles,
        timing: Default::default(),
    };
    onespike_hw::with_config!(p, T => {
        let mut d = Driver::new(HdlModel::<T>::new(p), p);
        d.load(prog, &run).unwrap();
        inputs.iter().map(|i| d.infer(prog, i, &run).unwrap()).collect::<Vec<_>>()
    })
    .unwrap()
}

fn assert_same(sim: &SimRun, rtl: &RtlRun, what: &str) {
    assert_eq!(sim.spikes, rtl.spikes, "{what}: spikes differ from the RTL");
    assert_eq!(
        sim.final_v, rtl.final_v,
        "{what}: final V differs from the RTL"
    );
    assert_eq!(
        sim.steps_run, rtl.steps_run,
        "{what}: steps run differ from the RTL"
    );
    assert_eq!(
        sim.spike_count, rtl.spike_count,
        "{what}: spike count differs from the RTL"
    );
    assert_eq!(sim.cycles, rtl.cycles, "{what}: cycles differ from the RTL");
}

/// Runs `inputs` on all three models; returns the simulator's runs.
fn check(
    name: &str,
    net: &QuantNetwork,
    prog: &Program,
    inputs: &[Vec<Option<u32>>],
    opts: SimOptions,
) -> Vec<SimRun> {
    let sims = sim_runs(prog, inputs, &opts);
    let rtls = rtl_runs(prog, inputs, &opts);
    for (k, ((sim, rtl), input)) in sims.iter().zip(&rtls).zip(inputs).enumerate() {
        let what = format!("{name} ({}), input {k} {opts:?}", prog.params.name);
        assert_same(sim, rtl, &what);
        assert_matches_reference(
            sim,
            &reference(net, &prog.params, input, opts.early_exit),
            &opts,
            &what,
        );
    }
    sims
}

fn opts(early_exit: bool, all_spikes: bool) -> SimOptions {
    SimOptions {
        early_exit,
        all_spikes,
        max_cycles: 2_000_000,
        timing: Default::default(),
    }
}

/// Random networks of one configuration, each under all four flag
/// combinations; returns the simulator's runs (to check coverage).
fn random_cases(
    p: &HwParams,
    specs: &[NetSpec],
    seeds: std::ops::Range<u64>,
    inputs_per_case: usize,
) -> Vec<SimRun> {
    let mut all = Vec::new();
    for seed in seeds {
        let spec = &specs[seed as usize % specs.len()];
        let net = random_network(seed, spec);
        let prog = map(&net, p, seed);
        let ins = random_inputs(
            seed,
            spec.sizes[0] as usize,
            inputs_per_case,
            0.6,
            spec.input_steps + 2,
        );
        for (e, a) in [(false, true), (true, true), (false, false), (true, false)] {
            all.extend(check(
                &format!("seed {seed} {:?}", spec.sizes),
                &net,
                &prog,
                &ins,
                opts(e, a),
            ));
        }
    }
    all
}

#[test]
fn tiny_random_networks_match_rtl_and_reference() {
    let p = tiny_params();
    let specs = [
        NetSpec::new(&[12, 10, 4], 0.35, 24),
        NetSpec::new(&[6, 5], 0.6, 12),
        NetSpec::new(&[20, 16, 6], 0.5, 16),
        NetSpec::new(&[9, 8, 8, 3], 0.5, 20),
    ];
    let runs = random_cases(&p, &specs, 0..8, 3);
    // The cases must exercise what they claim: back-pressure, early exit,
    // unused cores.
    assert!(
        runs.iter().any(|r| r.router.stall_cycles > 0),
        "no case filled a FIFO"
    );
    assert!(
        runs.iter().any(|r| r.steps_run < 12),
        "no case exited early"
    );
    assert!(
        runs.iter()
            .any(|r| r.per_core.iter().any(|c| c.layer.is_none())),
        "no case left a core unused"
    );
    assert!(
        runs.iter()
            .any(|r| r.per_core.iter().any(|c| c.empty_events > 0)),
        "no zero-synapse event"
    );
}

#[test]
fn tiny_narrow_saturating_membranes_match_rtl_and_reference() {
    let p = tiny_narrow_params();
    let mut spec = NetSpec::new(&[16, 8, 4], 0.7, 40);
    // Strong negative currents drive V into its 10-bit floor.
    spec.weights = (-30, 8);
    spec.thresholds = (20, 60);
    let runs = random_cases(&p, &[spec], 20..23, 3);
    let floor = onespike_compiler::HwParams::signed_min(p.membrane_bits);
    assert!(
        runs.iter().any(|r| r.final_v.contains(&floor)),
        "V never saturated"
    );
}

#[test]
fn small_random_networks_match_rtl_and_reference() {
    let p = HwParams::preset("small").unwrap();
    let specs = [
        NetSpec::new(&[100, 40, 10], 0.15, 24),
        NetSpec::new(&[200, 64, 10], 0.1, 16),
    ];
    random_cases(&p, &specs, 30..32, 2);
}

#[test]
fn every_input_in_one_step_into_full_fifos_matches() {
    // 32 inputs (all of tiny's) at step 0 into two cores of 8 neurons with
    // dense weights: 32 events per core against FIFOs of 4.
    let p = tiny_params();
    let spec = NetSpec::new(&[32, 16, 4], 1.0, 16);
    let net = random_network(5, &spec);
    let prog = map(&net, &p, 0);
    let ins = vec![
        vec![Some(0); 32],
        (0..32).map(|i| Some(i % 3)).collect(),
        (0..32).map(|i| Some(31 - i as u32 % 16)).collect(),
    ];
    for o in [opts(false, true), opts(true, false)] {
        let runs = check("fan-in", &net, &prog, &ins, o);
        assert!(runs[0].router.stall_cycles > 0);
        assert!(runs[0]
            .per_core
            .iter()
            .any(|c| c.fifo_max_occupancy == p.fifo_depth + 1));
    }
}

#[test]
fn a_network_that_never_fires_and_an_empty_input_match() {
    let p = tiny_params();
    let mut spec = NetSpec::new(&[10, 6, 3], 0.5, 10);
    spec.thresholds = (100_000, 100_000);
    let net = random_network(9, &spec);
    let prog = map(&net, &p, 0);
    let ins = vec![
        vec![None; 10],
        vec![Some(0); 10],
        (0..10).map(|i| Some(i % 12)).collect(),
    ];
    let runs = check("silent", &net, &prog, &ins, opts(true, true));
    // docs/hw.md: an inference without events costs (N + 2) + T (n_max + 6).
    assert_eq!(runs[0].cycles, (8 + 2) + 10 * (6 + 6));
}

#[test]
fn random_programs_with_arbitrary_windows_and_recurrence_match_rtl() {
    // No reference model here (no network behind these programs): the RTL
    // is the judge.
    // ONESPIKE_SIM_RTL_SEEDS=n adds n more programs per configuration (a
    // longer sweep when the simulator or the RTL changes).
    let extra: u64 = std::env::var("ONESPIKE_SIM_RTL_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut stalls = 0;
    let mut spikes = 0;
    let configs = [
        (tiny_params(), 100..112 + extra, 64u32),
        (tiny_narrow_params(), 10_000..10_004 + extra, 40),
        (
            HwParams::preset("small").unwrap(),
            20_000..20_003 + extra / 4,
            20,
        ),
    ];
    for (p, seeds, steps) in configs {
        for seed in seeds {
            let time_steps = if seed % 3 == 0 {
                steps
            } else {
                1 + seed as u32 % steps
            };
            let prog = random_program(seed, &p, time_steps);
            // Bursts (every spike in the first steps) fill FIFOs; spread inputs
            // reach late steps, up to the step counter's limit.
            let mut ins = random_inputs(seed, prog.input_size as usize, 1, 0.9, 3);
            ins.extend(random_inputs(
                seed + 1,
                prog.input_size as usize,
                1,
                0.5,
                p.max_time_steps(),
            ));
            for o in [opts(seed % 2 == 0, true), opts(seed % 2 == 1, false)] {
                let sims = sim_runs(&prog, &ins, &o);
                let rtls = rtl_runs(&prog, &ins, &o);
                for (k, (s, r)) in sims.iter().zip(&rtls).enumerate() {
                    assert_same(
                        s,
                        r,
                        &format!("random program {seed} ({}), input {k} {o:?}", p.name),
                    );
                    stalls += s.router.stall_cycles;
                    spikes += s.spike_count;
                }
            }
        }
    }
    assert!(stalls > 0 && spikes > 0, "stalls {stalls}, spikes {spikes}");
}
