//! The simulator against the exported Verilog in Verilator: a broad sweep
//! of random programs (arbitrary windows, recurrence, shared synapse
//! lists) and random mapped networks, cheap because Verilator runs
//! millions of cycles per second. Also the `default` preset when its model
//! was built (it is, unless `ONESPIKE_NO_VERILATE_DEFAULT` was set). Without Verilator at build
//! time the crate has no models: the test says so and checks nothing else.

mod common;

use common::*;
use onespike_compiler::{HwParams, Program};
use onespike_hw::driver::{Driver, RunConfig};
use onespike_hw::{tiny_narrow_params, tiny_params};
use onespike_sim::{SimOptions, Simulator};
use onespike_verilator::VerilatorModel;

/// Runs `inputs` on Verilator and the simulator; panics on any difference.
/// Returns the total stall cycles (to check coverage).
fn check(prog: &Program, inputs: &[Vec<Option<u32>>], opts: SimOptions, what: &str) -> u64 {
    let run = RunConfig {
        early_exit: opts.early_exit,
        all_spikes: opts.all_spikes,
        max_cycles: opts.max_cycles,
        timing: Default::default(),
    };
    let mut d = Driver::new(VerilatorModel::new(&prog.params).unwrap(), &prog.params);
    d.load(prog, &run).unwrap();
    let mut sim = Simulator::new(prog).unwrap();
    let mut stalls = 0;
    for (k, input) in inputs.iter().enumerate() {
        let r = d.infer(prog, input, &run).unwrap();
        let s = sim.run(input, &opts).unwrap();
        let what = format!("{what}, input {k}, {opts:?}");
        assert_eq!(s.spikes, r.spikes, "{what}: spikes");
        assert_eq!(s.final_v, r.final_v, "{what}: final V");
        assert_eq!(s.steps_run, r.steps_run, "{what}: steps run");
        assert_eq!(s.spike_count, r.spike_count, "{what}: spike count");
        assert_eq!(s.cycles, r.cycles, "{what}: cycles");
        stalls += s.router.stall_cycles;
    }
    stalls
}

#[test]
fn random_programs_match_verilator() {
    if !onespike_verilator::available() {
        eprintln!("onespike-verilator was built without Verilator: nothing compared");
        return;
    }
    let mut stalls = 0;
    let mut n = 0;
    for (p, seeds, steps) in [
        (tiny_params(), 1000..1100u64, 64u32),
        (tiny_narrow_params(), 2000..2040, 40),
        (HwParams::preset("small").unwrap(), 3000..3030, 32),
    ] {
        for seed in seeds {
            let prog = random_program(seed, &p, 1 + seed as u32 % steps);
            let mut ins = random_inputs(seed, prog.input_size as usize, 2, 0.9, 3);
            ins.extend(random_inputs(
                seed + 7,
                prog.input_size as usize,
                2,
                0.4,
                p.max_time_steps(),
            ));
            let opts = SimOptions {
                early_exit: seed % 3 == 0,
                all_spikes: seed % 4 != 1,
                max_cycles: 5_000_000,
                timing: Default::default(),
            };
            stalls += check(
                &prog,
                &ins,
                opts,
                &format!("random program {seed} ({})", p.name),
            );
            n += 1;
        }
    }
    assert_eq!(n, 170);
    assert!(stalls > 0, "no FIFO ever filled");
}

#[test]
fn random_networks_match_verilator_and_the_reference() {
    if !onespike_verilator::available() {
        eprintln!("onespike-verilator was built without Verilator: nothing compared");
        return;
    }
    let small = HwParams::preset("small").unwrap();
    for seed in 0..30u64 {
        let (p, spec) = match seed % 3 {
            0 => (tiny_params(), NetSpec::new(&[32, 16, 8, 4], 0.5, 32)),
            1 => (tiny_narrow_params(), NetSpec::new(&[20, 12, 5], 0.6, 24)),
            _ => (small.clone(), NetSpec::new(&[256, 64, 10], 0.08, 32)),
        };
        let net = random_network(seed, &spec);
        let prog = map(&net, &p, seed);
        let ins = random_inputs(seed, spec.sizes[0] as usize, 3, 0.6, spec.input_steps);
        let opts = SimOptions {
            early_exit: seed % 2 == 1,
            all_spikes: true,
            max_cycles: 5_000_000,
            timing: Default::default(),
        };
        check(
            &prog,
            &ins,
            opts,
            &format!("network seed {seed} ({})", p.name),
        );
        let mut sim = Simulator::new(&prog).unwrap();
        for input in &ins {
            let got = sim.run(input, &opts).unwrap();
            assert_matches_reference(
                &got,
                &reference(&net, &p, input, opts.early_exit),
                &opts,
                &format!("seed {seed}"),
            );
        }
    }
}

#[test]
fn the_default_preset_matches_verilator_when_built() {
    if !onespike_verilator::has_default_model() {
        eprintln!("no Verilated `default` model (built with ONESPIKE_NO_VERILATE_DEFAULT): nothing compared");
        return;
    }
    let p = HwParams::preset("default").unwrap();
    for seed in 0..4u64 {
        let prog = random_program(seed, &p, 40);
        let mut ins = random_inputs(seed, prog.input_size as usize, 1, 0.9, 3);
        ins.extend(random_inputs(
            seed + 1,
            prog.input_size as usize,
            1,
            0.3,
            50,
        ));
        check(
            &prog,
            &ins,
            SimOptions {
                max_cycles: 5_000_000,
                ..SimOptions::default()
            },
            &format!("default program {seed}"),
        );
    }
}
