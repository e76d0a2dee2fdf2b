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
    clock_cycle(
        &mut rtl,
        |f| &mut f.clock,
        |f| {
            f.clear.next = true;
            f.push.next = false;
            f.pop.next = false;
        },
    );
    // Phases of bursts and drains, so that the FIFO fills and empties.
    let (mut next_word, mut next_out) = (0u64, 0u64);
    let mut full_cycles = 0;
    for y in 0..cycles {
        let phase = (y / 40) % 3;
        let want_push = rng.gen_bool([0.9, 0.3, 0.6][phase as usize]);
        let want_pop = rng.gen_bool([0.15, 0.9, 0.5][phase as usize]);
        let (mut full, mut valid, mut data) = (false, false, 0);
        clock_cycle(
            &mut rtl,
            |f| &mut f.clock,
            |f| {
                full = f.full.val();
                valid = f.valid.val();
                data = f.data.val().to_u64();
                f.clear.next = false;
                f.push.next = want_push;
                f.push_data.next = (next_word & 0xff).into();
                f.pop.next = want_pop && valid;
            },
        );
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
    clock_cycle(
        &mut rtl,
        |s| &mut s.clock,
        |s| {
            s.reset.next = false;
            s.start.next = true;
            s.time_steps.next = (time_steps as u64).into();
            s.early_exit.next = early_exit;
            s.all_idle.next = true;
            s.all_drained.next = true;
            s.input_quiet.next = true;
            s.output_fired.next = false;
            s.out_free.next = true;
        },
    );
    for y in 0..want_cycles + 10 {
        let idle = !(busy_from..=busy_until).contains(&y) || busy_until < busy_from;
        let (mut clear, mut integ, mut done) = (false, false, false);
        clock_cycle(
            &mut rtl,
            |s| &mut s.clock,
            |s| {
                clear = s.cmd_clear.val();
                integ = s.cmd_integrate.val();
                done = s.done.val();
                counter = s.cycles.val().to_u64();
                s.start.next = false;
                s.all_idle.next = idle;
                s.all_drained.next = idle && y >= deliver_ready;
                // An output core fires in the integrate sweep of its step.
                s.output_fired.next = integ && fire_at == Some(step);
            },
        );
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
    assert_eq!(
        done_at, want_cycles,
        "{what}: done in the cycle after the last Advance"
    );
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

/// The `tiny` core (`hw/tests/core_block.rs` spells the same widths).
type TinyCore = onespike_hw::core::Core<3, 4, 5, 8, 8, 16, 24, 6, 7, 2, 3, 12, 11>;

/// Where each word of one of the simulator's FIFOs is during cycle `y`:
/// whether any word is held (pushed in `p`, held `p + 1 ..= x`).
fn sim_fifo_holds(f: &SimFifo, y: u64) -> bool {
    (0..f.len()).any(|i| f.push_cycle(i) < y && f.pop_cycle(i).is_none_or(|x| x >= y))
}

/// One core of a random single-layer program on `tiny` (core 1: neurons
/// 8..16 of the layer, an output core), in rust-hdl and in the simulator's
/// `Core`, stepped through clear and `steps` integrate/deliver rounds. The
/// bench plays router and step controller: random input events pushed
/// whenever the core does not block, its spikes taken off the bus when
/// granted. In every cycle `busy`, `drained`, `blocks`, `granted` and
/// `output_fired` must be the simulator's; at the end every potential.
fn core_run(seed: u64, steps: u32) -> (u64, u64, u64) {
    use onespike_compiler::{map_in_order, InputEncoding, NeuronModel, QuantNetwork, Reset};
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let p = onespike_hw::tiny_params();
    let inputs = rng.gen_range(2..=p.max_inputs);
    let density = rng.gen_range(0.1..0.9);
    let weights = (0..16 * inputs)
        .map(|_| {
            if rng.gen_bool(density) {
                rng.gen_range(-40..=100)
            } else {
                0
            }
        })
        .collect();
    let threshold = rng.gen_range(20..400);
    let mut net = QuantNetwork::dense(
        inputs,
        InputEncoding::new(steps.min(8)),
        steps,
        8,
        vec![(16, threshold, weights)],
    );
    net.layers[0].neuron = match seed % 4 {
        0 => NeuronModel::TTFS,
        1 => NeuronModel::lif(1),
        2 => NeuronModel {
            v_shift: Some(2),
            i_shift: Some(1),
            reset: Reset::Zero,
        },
        _ => NeuronModel {
            v_shift: None,
            i_shift: None,
            reset: Reset::Subtract,
        },
    };
    let prog = map_in_order(&net, &p).unwrap();
    let loaded = onespike_sim::host_port::load(&prog).unwrap();
    let cfg = &loaded.cores[1];
    assert_eq!(cfg.neurons, 8);
    let ar = loaded.arith;
    let mut sim = onespike_sim::core::Core::new(cfg, p.neurons_per_core, p.fifo_depth);

    let mut rtl = TinyCore::new(&p, 1);
    rtl.connect_all();
    #[derive(Clone, Copy, Default)]
    struct Drive {
        cfg: Option<(u64, u64, u64)>,
        clear: bool,
        integrate: bool,
        deliver: bool,
        /// Push input event `src` (the bench holds it while the core blocks).
        event: Option<u64>,
        vread: u64,
    }
    #[derive(Clone, Copy, Default, Debug, PartialEq)]
    struct Seen {
        busy: bool,
        drained: bool,
        blocks: bool,
        granted: bool,
        output_fired: bool,
        spike_source: u64,
        vread: u64,
    }
    let cycle = |c: &mut TinyCore, d: Drive| -> Seen {
        let mut seen = Seen::default();
        clock_cycle(
            c,
            |c| &mut c.clock,
            |c| {
                c.reset.next = false;
                let (region, index, data) = d.cfg.unwrap_or((0, 0, 0));
                c.cfg_we.next = d.cfg.is_some();
                c.cfg_core.next = 1u64.into();
                c.cfg_region.next = region.into();
                c.cfg_index.next = index.into();
                c.cfg_data.next = data.into();
                c.vread_core.next = 1u64.into();
                c.vread_addr.next = d.vread.into();
                c.cmd_clear.next = d.clear;
                c.cmd_integrate.next = d.integrate;
                c.deliver_en.next = d.deliver;
                // An input event holds the bus (priority over the core's spike).
                c.prio_in.next = d.event.is_some();
                c.bus_valid.next = false;
                c.bus_go.next = false;
                assert!(simulate(c, 1000));
                seen = Seen {
                    busy: c.busy.val(),
                    drained: c.drained.val(),
                    blocks: c.blocks.val(),
                    granted: c.granted.val(),
                    output_fired: c.output_fired.val(),
                    spike_source: c.spike_source.val().to_u64(),
                    vread: c.vread_data.val().to_u64(),
                };
                // The router's route words (docs/hw.md, "Route bits").
                c.push_route.next = c.own_route_word(&p, 1, c.push_source.val().to_u64()).into();
                match d.event {
                    Some(src) => {
                        c.bus_valid.next = true;
                        c.bus_source.next = src.into();
                        c.bus_route.next = c.own_route_word(&p, 1, src).into();
                        c.bus_go.next = !seen.blocks;
                    }
                    None if seen.granted => {
                        c.bus_valid.next = true;
                        c.bus_source.next = seen.spike_source.into();
                        c.bus_route.next = c.head_route.val();
                        c.bus_go.next = true;
                    }
                    None => {}
                }
            },
        );
        seen
    };
    for w in onespike_compiler::regs::host_writes(&prog, Default::default()) {
        if w.core == 1 && w.region != onespike_compiler::regs::REGION_GLOBAL {
            cycle(
                &mut rtl,
                Drive {
                    cfg: Some((w.region, w.index, w.data)),
                    ..Default::default()
                },
            );
        }
    }
    // The simulator's numbering: cycle 0 is the clear command.
    let what = |y: u64| format!("core block (seed {seed}), cycle {y}");
    sim.clear(cfg, None);
    let n = p.neurons_per_core as u64;
    let mut y = 0u64;
    cycle(
        &mut rtl,
        Drive {
            clear: true,
            ..Default::default()
        },
    );
    y += 1;
    while y <= n + 1 {
        let s = cycle(&mut rtl, Drive::default());
        assert_eq!(s.busy, y <= n, "{}: clear busy", what(y));
        y += 1;
    }
    let window = (cfg.listen_base, cfg.listen_end);
    let (mut pushed, mut fired, mut blocked) = (0u64, 0u64, 0u64);
    for _t in 0..steps {
        // Integrate in cycle c, deliver from the simulator's deliver start.
        let c = y;
        let ds = deliver_start(c, cfg.neurons);
        sim.integrate(cfg, &ar, c, ds);
        let mut spikes_popped = 0usize;
        let mut events: Vec<u64> = (0..rng.gen_range(0..14))
            .map(|_| rng.gen_range(window.0..window.1) as u64)
            .collect();
        events.reverse();
        let mut held: Option<u64> = None;
        let mut first = true;
        loop {
            if held.is_none() && !first && rng.gen_bool(0.6) {
                held = events.pop();
            }
            let d = Drive {
                integrate: first,
                deliver: y >= ds,
                event: held,
                ..Default::default()
            };
            let s = cycle(&mut rtl, d);
            first = false;
            let spike_head = sim.spikes.head_valid_cycle().is_some_and(|v| v <= y);
            let busy = sim.busy_within(y, y + 1) == 1;
            let want = Seen {
                busy,
                drained: !busy && !sim_fifo_holds(&sim.fifo, y) && !sim_fifo_holds(&sim.spikes, y),
                blocks: sim.fifo.full_at(y),
                granted: held.is_none() && spike_head,
                output_fired: (0..sim.spikes.len()).any(|i| sim.spikes.push_cycle(i) == y),
                spike_source: s.spike_source,
                vread: s.vread,
            };
            assert_eq!(s, want, "{}: RTL vs the simulator's core", what(y));
            if let Some(src) = held {
                blocked += s.blocks as u64;
                if !s.blocks {
                    sim.push_event(cfg, &ar, y, src as u32, None);
                    pushed += 1;
                    held = None;
                }
            } else if s.granted {
                let local = sim.spike_local[spikes_popped];
                assert_eq!(
                    s.spike_source,
                    p.neuron_source_id(1, local) as u64,
                    "{}: the spike on the bus",
                    what(y)
                );
                sim.spikes.pop_at(y);
                spikes_popped += 1;
                fired += 1;
            }
            y += 1;
            if held.is_none() && events.is_empty() && s.drained && y > ds {
                break;
            }
            assert!(y < c + 5_000, "{}: the step never drained", what(y));
        }
        sim.end_step(cfg, None);
        // Advance, then the next Integ (the step controller's d + 2).
        cycle(&mut rtl, Drive::default());
        y += 1;
    }
    for j in 0..cfg.neurons {
        cycle(
            &mut rtl,
            Drive {
                vread: j as u64,
                ..Default::default()
            },
        );
        let s = cycle(
            &mut rtl,
            Drive {
                vread: j as u64,
                ..Default::default()
            },
        );
        let v = onespike_compiler::layout::sign_extend(s.vread, p.membrane_bits);
        assert_eq!(
            v,
            sim.potential(j),
            "core block (seed {seed}): V of neuron {j}"
        );
    }
    (pushed, fired, blocked)
}

#[test]
fn the_core_model_matches_the_rtl_core_cycle_by_cycle() {
    let (mut events, mut spikes, mut blocked) = (0, 0, 0);
    for seed in 0..24 {
        let (e, s, b) = core_run(seed, 6 + seed as u32 % 10);
        events += e;
        spikes += s;
        blocked += b;
    }
    assert!(
        events > 500 && spikes > 50 && blocked > 20,
        "{events} events, {spikes} spikes, {blocked} cycles blocked on a full FIFO"
    );
}
