//! Block-level tests of the simulator against the RTL: each of the
//! simulator's block models (`event_fifo`, `step_controller`, `core`)
//! beside the rust-hdl block it models, the block driven alone in a
//! hand-clocked `simulate()` loop under random stimulus, cycle by cycle.
//! A cycle mismatch of the whole accelerator (the regression testbench)
//! that one of these also shows names its block.

use onespike_sim::event_fifo::EventFifo as SimFifo;
use onespike_sim::step_controller::{deliver_start, first_integrate_cycle, is_last_step};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;

/// One cycle of a rust-hdl block: `drive` sets the inputs from the
/// outputs seen with the clock low (so a consumer may react to `valid` in
/// the same cycle, as the RTL's consumers do), then the rising edge.
fn clock_cycle<B: Block, F: FnMut(&mut B)>(
    b: &mut B,
    clock: fn(&mut B) -> &mut Signal<In, Clock>,
    mut drive: F,
) {
    clock(b).next = Clock { clk: false };
    assert!(simulate(b, 1000));
    drive(b);
    assert!(simulate(b, 1000));
    clock(b).next = Clock { clk: true };
    assert!(simulate(b, 1000));
}

/// Random pushes and pops on the RTL FIFO of `2^AB` RAM entries and on the
/// simulator's word-level model: `full` and `valid` must agree in every
/// cycle, and words leave in order. Returns the cycles it was full.
fn fifo_traffic<const AB: usize, const AB1: usize>(seed: u64, cycles: u64) -> u64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rtl = onespike_hw::event_fifo::EventFifo::<8, AB, AB1>::default();
    rtl.connect_all();
    let depth = 1u32 << AB;
    let mut sim = SimFifo::new(depth);
    // Start from a cleared FIFO.
    clock_cycle(&mut rtl, |f| &mut f.clock, |f| {
        f.clear.next = true;
        f.push.next = false;
        f.pop.next = false;
    });
    // Phases of bursts and drains, so that the FIFO fills and empties.
    let (mut next_word, mut next_out) = (0u64, 0u64);
    let mut full_cycles = 0;
    for y in 0..cycles {
        let phase = (y / 40) % 3;
        let want_push = rng.gen_bool([0.9, 0.3, 0.6][phase as usize]);
        let want_pop = rng.gen_bool([0.15, 0.9, 0.5][phase as usize]);
        let (mut full, mut valid, mut data) = (false, false, 0);
        clock_cycle(&mut rtl, |f| &mut f.clock, |f| {
            full = f.full.val();
            valid = f.valid.val();
            data = f.data.val().to_u64();
            f.clear.next = false;
            f.push.next = want_push;
            f.push_data.next = (next_word & 0xff).into();
            f.pop.next = want_pop && valid;
        });
        let sim_full = sim.full_at(y);
        let sim_valid = sim.head_valid_cycle().is_some_and(|v| v <= y);
        assert_eq!(
            (full, valid),
            (sim_full, sim_valid),
            "event FIFO (depth {depth}, seed {seed}), cycle {y}: RTL (full, valid) vs the simulator's model"
        );
        full_cycles += full as u64;
        if want_push && !full {
            sim.push(y);
            next_word += 1;
        }
        if want_pop && valid {
            assert_eq!(data, next_out & 0xff, "event FIFO: words leave in order");
            sim.pop_at(y);
            next_out += 1;
        }
    }
    assert!(next_out > cycles / 4, "the FIFO moved few words");
    full_cycles
}

#[test]
fn the_event_fifo_model_matches_the_rtl_fifo_cycle_by_cycle() {
    let mut full = 0;
    for seed in 0..6 {
        full += fifo_traffic::<2, 3>(seed, 600);
        full += fifo_traffic::<3, 4>(seed + 100, 600);
    }
    assert!(full > 100, "the FIFOs were rarely full ({full} cycles)");
}

/// The RTL step controller in an environment of cores whose busy windows
/// follow its own commands (clear: `N` cycles; integrate: the sweep of
/// `n_max` neurons, `integrate_busy`) and whose deliver phases drain after
/// a random number of cycles: the cycles of its `cmd_integrate`s, of
/// `done` and its cycle counter must be the simulator's arithmetic.
fn controller_run(seed: u64, n: u32, n_max: u32, time_steps: u32, early_exit: bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rtl = onespike_hw::step_controller::StepController::<5, 6>::default();
    rtl.connect_all();
    // Random extra deliver cycles per step, and the step (if any) in which
    // an output core fires.
    let extra: Vec<u64> = (0..time_steps)
        .map(|_| {
            if rng.gen_bool(0.4) {
                0
            } else {
                rng.gen_range(1..30)
            }
        })
        .collect();
    let fire_at: Option<u32> = rng.gen_bool(0.6).then(|| rng.gen_range(0..time_steps));

    // The simulator's schedule, in its numbering (cycle 0 = Clear).
    let mut want_integ = Vec::new();
    let mut c = first_integrate_cycle(n);
    let mut want_cycles = 0;
    for t in 0..time_steps {
        want_integ.push(c);
        let d = deliver_start(c, n_max) + extra[t as usize];
        if is_last_step(t, time_steps, early_exit, fire_at.is_some_and(|f| f <= t)) {
            want_cycles = d + 2;
            break;
        }
        c = d + 2;
    }

    let mut busy_until = 0u64; // idle from this cycle on (exclusive bound)
    let mut busy_from = 0u64;
    let mut deliver_ready = u64::MAX; // drained from this cycle on
    let mut step = 0u32;
    let mut got_integ = Vec::new();
    let mut got_done = None;
    let mut counter = 0;
    // Cycle -1 (in the simulator's numbering): `start` while idle.
    clock_cycle(&mut rtl, |s| &mut s.clock, |s| {
        s.reset.next = false;
        s.start.next = true;
        s.time_steps.next = (time_steps as u64).into();
        s.early_exit.next = early_exit;
        s.all_idle.next = true;
        s.all_drained.next = true;
        s.input_quiet.next = true;
        s.output_fired.next = false;
        s.out_free.next = true;
    });
    for y in 0..want_cycles + 10 {
        let idle = !(busy_from..=busy_until).contains(&y) || busy_until < busy_from;
        let (mut clear, mut integ, mut done) = (false, false, false);
        clock_cycle(&mut rtl, |s| &mut s.clock, |s| {
            clear = s.cmd_clear.val();
            integ = s.cmd_integrate.val();
            done = s.done.val();
            counter = s.cycles.val().to_u64();
            s.start.next = false;
            s.all_idle.next = idle;
            s.all_drained.next = idle && y >= deliver_ready;
            // An output core fires in the integrate sweep of its step.
            s.output_fired.next = integ && fire_at == Some(step);
        });
        if clear {
            assert_eq!(y, 0, "Clear is the simulator's cycle 0");
            (busy_from, busy_until) = (1, n as u64);
        }
        if integ {
            got_integ.push(y);
            (busy_from, busy_until) = onespike_sim::core::integrate_busy(y, n_max);
            deliver_ready = deliver_start(y, n_max) + extra[step as usize];
            step += 1;
        }
        if done && got_done.is_none() {
            got_done = Some((y, counter));
        }
    }
    let what = format!(
        "step controller (seed {seed}, N {n}, n_max {n_max}, T {time_steps}, early exit {early_exit}, fires at {fire_at:?})"
    );
    assert_eq!(got_integ, want_integ, "{what}: cmd_integrate cycles");
    let (done_at, cycles) = got_done.unwrap_or_else(|| panic!("{what}: never done"));
    assert_eq!(cycles, want_cycles, "{what}: the cycle counter");
    assert_eq!(done_at, want_cycles, "{what}: done in the cycle after the last Advance");
}

#[test]
fn the_step_controller_arithmetic_matches_the_rtl_controller() {
    for seed in 0..40u64 {
        let n = [4u32, 8, 16][seed as usize % 3];
        let n_max = (seed as u32 * 7) % (n + 1);
        let time_steps = 1 + (seed as u32 * 5) % 20;
        controller_run(seed, n, n_max, time_steps, seed % 2 == 1);
    }
}
