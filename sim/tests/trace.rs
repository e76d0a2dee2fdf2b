//! The VCD trace against the RTL's pins, cycle by cycle: the rust-hdl
//! model is driven exactly as `onespike_hw::Driver` drives it, every
//! top-level pin is sampled each cycle from `start` to `done`, and the
//! simulator's trace must show the same values in the same cycles.

mod common;

use common::*;
use onespike_compiler::Program;
use onespike_hw::driver::{host_writes, Inputs, Outputs, Pins, RunConfig};
use onespike_hw::hdl_model::HdlModel;
use onespike_hw::tiny_params;
use onespike_sim::{simulate_traced, SimOptions};
use std::collections::HashMap;

const PINS: [&str; 13] = [
    "start",
    "running",
    "done",
    "cycles",
    "step",
    "in_valid",
    "in_source",
    "in_step",
    "in_ready",
    "in_end",
    "out_valid",
    "out_source",
    "out_step",
];

/// Pin values of each cycle from the `start` cycle to the first `done`
/// cycle, with the driver's stimulus.
fn rtl_pins(prog: &Program, input: &[Option<u32>], run: &RunConfig) -> Vec<[u64; 13]> {
    let p = &prog.params;
    onespike_hw::with_config!(p, T => {
        let mut m = HdlModel::<T>::new(p);
        let idle = Inputs { out_ready: 1, ..Default::default() };
        let cycle = |m: &mut HdlModel<T>, i: &Inputs| -> Outputs {
            let o = m.eval(i);
            m.tick();
            o
        };
        for _ in 0..2 {
            cycle(&mut m, &Inputs { reset: 1, ..idle });
        }
        for w in host_writes(prog, run).unwrap() {
            cycle(&mut m, &Inputs { cfg_we: 1, cfg_core: w.core as u64, cfg_region: w.region, cfg_index: w.index, cfg_data: w.data, ..idle });
        }
        let mut events: Vec<(u32, u32)> = input
            .iter()
            .enumerate()
            .filter_map(|(ch, s)| s.filter(|&t| t < prog.time_steps).map(|t| (t, ch as u32)))
            .collect();
        events.sort();
        let row = |i: &Inputs, o: &Outputs| {
            [i.start, o.running, o.done, o.cycles, o.step, i.in_valid, i.in_source, i.in_step, o.in_ready, i.in_end, o.out_valid, o.out_source, o.out_step]
        };
        let start = Inputs { start: 1, ..idle };
        let o = cycle(&mut m, &start);
        let mut rows = vec![row(&start, &o)];
        let mut next = 0;
        loop {
            let mut i = idle;
            match events.get(next) {
                Some(&(t, ch)) => {
                    i.in_valid = 1;
                    i.in_source = ch as u64;
                    i.in_step = t as u64;
                }
                None => i.in_end = 1,
            }
            let o = cycle(&mut m, &i);
            rows.push(row(&i, &o));
            if o.done != 0 {
                break rows;
            }
            if i.in_valid != 0 && o.in_ready != 0 {
                next += 1;
            }
        }
    })
    .unwrap()
}

/// The trace's pin values of each cycle (sampled at the cycle's start,
/// where the simulator writes its changes), `cycles` cycles.
fn vcd_pins(text: &[u8], cycles: usize) -> Vec<[u64; 13]> {
    let mut parser = vcd::Parser::new(text);
    let header = parser.parse_header().unwrap();
    let (ts, unit) = header.timescale.unwrap();
    assert_eq!((ts, unit), (1, vcd::TimescaleUnit::PS));
    let mut index = HashMap::new();
    let p = tiny_params();
    for (k, name) in PINS.iter().enumerate() {
        let var = header
            .find_var(&["top", name])
            .unwrap_or_else(|| panic!("no signal top.{name}"));
        let width = match *name {
            "cycles" => 32,
            "step" | "in_step" | "out_step" => p.step_bits,
            "in_source" | "out_source" => p.source_bits(),
            _ => 1,
        };
        assert_eq!(var.size, width, "width of {name}");
        index.insert(var.code, k);
    }
    for name in ["clock", "reset", "out_ready"] {
        assert!(
            header.find_var(&["top", name]).is_some(),
            "no signal top.{name}"
        );
    }
    assert!(header.find_var(&["top", "sim", "core0", "busy"]).is_some());
    let period = (1e6 / p.clock_mhz) as u64;
    let mut rows = Vec::new();
    let mut cur = [0u64; 13];
    let mut now = 0;
    let to_u64 = |v: &[vcd::Value]| {
        v.iter()
            .fold(0u64, |a, b| (a << 1) | (*b == vcd::Value::V1) as u64)
    };
    for cmd in parser {
        match cmd.unwrap() {
            vcd::Command::Timestamp(t) => {
                // Values of cycle k are complete once time passes k * period.
                while now * period < t && rows.len() < cycles {
                    rows.push(cur);
                    now += 1;
                }
            }
            vcd::Command::ChangeScalar(id, v) => {
                if let Some(&k) = index.get(&id) {
                    cur[k] = (v == vcd::Value::V1) as u64;
                }
            }
            vcd::Command::ChangeVector(id, v) => {
                if let Some(&k) = index.get(&id) {
                    cur[k] = to_u64(&v);
                }
            }
            _ => {}
        }
    }
    while rows.len() < cycles {
        rows.push(cur);
    }
    rows
}

#[test]
fn the_trace_shows_the_rtl_pins_cycle_by_cycle() {
    let p = tiny_params();
    let net = random_network(4, &NetSpec::new(&[20, 16, 6], 0.5, 12));
    let prog = map(&net, &p, 0);
    let inputs = random_inputs(4, 20, 2, 0.8, 6);
    let mut compared = 0;
    for (k, input) in inputs.iter().enumerate() {
        for (early_exit, all_spikes) in [(false, true), (true, false)] {
            let opts = SimOptions {
                early_exit,
                all_spikes,
                max_cycles: 1_000_000,
                timing: Default::default(),
            };
            let run = RunConfig {
                early_exit,
                all_spikes,
                max_cycles: 1_000_000,
                timing: Default::default(),
            };
            let (sim, trace) = simulate_traced(&prog, input, &opts).unwrap();
            let mut text = Vec::new();
            trace.write_vcd(&mut text).unwrap();
            let want = rtl_pins(&prog, input, &run);
            // start cycle + Clear ..= last Advance + the done cycle.
            assert_eq!(want.len() as u64, sim.cycles + 2);
            let got = vcd_pins(&text, want.len());
            for (c, (g, w)) in got.iter().zip(&want).enumerate() {
                let diff: Vec<_> = PINS
                    .iter()
                    .zip(g.iter().zip(w))
                    .filter(|(_, (a, b))| a != b)
                    .collect();
                assert!(diff.is_empty(), "input {k}, early exit {early_exit}: cycle {c} (after start) differs (pin, (trace, rtl)): {diff:?}");
            }
            assert!(got.iter().any(|r| r[10] == 1), "no output spike traced");
            assert!(
                got.iter().filter(|r| r[8] == 1).count() > 3,
                "too few input events traced"
            );
            compared += got.len();
        }
    }
    assert!(compared > 500);
}

#[test]
fn write_vcd_names_the_file_on_error() {
    let p = tiny_params();
    let net = random_network(1, &NetSpec::new(&[6, 5], 0.6, 8));
    let prog = map(&net, &p, 0);
    let path = std::path::Path::new("/nonexistent-dir/x.vcd");
    let e = onespike_sim::write_vcd(&prog, &[None; 6], &SimOptions::default(), path).unwrap_err();
    assert!(e.to_string().contains("/nonexistent-dir/x.vcd"), "{e}");
}
