//! The simulator's own properties: the cycle formulas of docs/hw.md, the
//! action counters' invariants, independence of inferences, and the errors
//! of bad input. (The simulator against the reference model and the RTL on
//! random cases, any configuration included, is the regression
//! testbench's: `tests/tests/regression.rs`.)

mod common;

use common::*;
use onespike_compiler::program::InputError;
use onespike_compiler::{HwParams, Program};
use onespike_sim::{simulate, SimError, SimOptions, Simulator};

/// docs/hw.md's pinned example: 3 inputs into 5 neurons that never fire;
/// input 0 has 3 synapses, input 1 one, input 2 none.
fn pinned_program() -> Program {
    use onespike_compiler::ir::{LayerKind, QuantLayer, FORMAT_VERSION, QUANT_FORMAT};
    #[rustfmt::skip]
    let weights = vec![
        5, 1, 0,
        5, 0, 0,
        5, 0, 0,
        0, 0, 0,
        0, 0, 0,
    ];
    let net = onespike_compiler::QuantNetwork {
        format: QUANT_FORMAT.into(),
        version: FORMAT_VERSION,
        input_size: 3,
        encoding: onespike_compiler::InputEncoding::new(4),
        time_steps: 10,
        weight_bits: 8,
        layers: vec![QuantLayer {
            kind: LayerKind::Dense,
            inputs: 3,
            outputs: 5,
            threshold: 100_000,
            scale: 1.0,
            weights,
            neuron: Default::default(),
            recurrent: None,
        }],
        decision: Default::default(),
    };
    onespike_compiler::map_in_order(&net, &HwParams::preset("tiny").unwrap()).unwrap()
}

#[test]
fn the_documented_cycle_costs_hold() {
    let prog = pinned_program();
    let cycles = |input: &[Option<u32>]| {
        simulate(&prog, input, &SimOptions::default())
            .unwrap()
            .cycles
    };
    // (N + 2) + T (n_max + 6) with N = 8, T = 10, n_max = 5.
    let base = 10 + 10 * 11;
    assert_eq!(cycles(&[None, None, None]), base);
    // An event with k synapses adds k + 3, at any step.
    assert_eq!(cycles(&[Some(0), None, None]), base + 3 + 3);
    assert_eq!(cycles(&[Some(7), None, None]), base + 3 + 3);
    assert_eq!(cycles(&[None, Some(0), None]), base + 1 + 3);
    // An event without synapse adds 2.
    assert_eq!(cycles(&[None, None, Some(0)]), base + 2);
    // Back to back: the second pop overlaps the first's last weight read.
    assert_eq!(cycles(&[Some(2), Some(2), None]), base + 3 + 1 + 3);
    // Inputs at or after T never arrive.
    assert_eq!(cycles(&[Some(10), Some(63), None]), base);
}

#[test]
fn counters_add_up() {
    let p = HwParams::preset("tiny").unwrap();
    let net = random_network(3, &NetSpec::new(&[20, 16, 6], 0.5, 16));
    let prog = map(&net, &p, 0);
    let input = random_inputs(3, 20, 1, 0.8, 4).remove(0);
    let r = simulate(&prog, &input, &SimOptions::default()).unwrap();
    let want = reference(&net, &p, &input, false);
    assert_eq!(r.per_core.len(), p.cores as usize);
    let syn: u64 = r.per_core.iter().map(|c| c.synaptic_ops).sum();
    assert_eq!(
        syn,
        want.counts.synaptic_events.iter().sum::<u64>(),
        "synaptic ops = the reference's synaptic events"
    );
    assert_eq!(r.counts.synaptic_accumulates, syn);
    let spikes: u64 = r.per_core.iter().map(|c| c.spikes).sum();
    assert_eq!(spikes, want.counts.spikes.iter().sum::<u64>());
    assert_eq!(r.router.transfers, want.counts.input_spikes + spikes);
    assert_eq!(r.counts.bus_transfers, r.router.transfers);
    let integrations: u64 = want.counts.integrations.iter().sum();
    assert_eq!(r.counts.membrane_updates, integrations);
    for c in &r.per_core {
        let k = &c.counts;
        assert_eq!(
            k.cycles_busy + k.cycles_stalled + k.cycles_idle + k.cycles_gated,
            r.cycles,
            "core {}",
            c.core
        );
        if c.layer.is_some() {
            assert_eq!(k.cycles_busy, c.busy_cycles);
            assert_eq!(k.cycles_gated, 0);
        } else {
            // Power-gated in the energy model: every cycle a gated one.
            assert_eq!(k.cycles_gated, r.cycles, "core {} is unused", c.core);
        }
        assert!(
            c.busy_cycles >= 8 + r.steps_run as u64,
            "clear plus one cycle per sweep at least"
        );
        assert_eq!(k.pointer_reads, c.events_received);
    }
    // 16 + 6 neurons on cores of 8: one of tiny's 4 cores is unused.
    assert_eq!(r.per_core.iter().filter(|c| c.layer.is_none()).count(), 1);
    // Spike queue words: one push and one pop per spike.
    assert_eq!(r.counts.spike_queue_pushes, spikes);
    assert_eq!(r.counts.spike_queue_pops, spikes);
    assert_eq!(
        r.counts.fifo_pushes,
        r.per_core.iter().map(|c| c.events_received).sum::<u64>()
    );
}

#[test]
fn bad_input_is_refused_with_the_limit() {
    let prog = pinned_program();
    let o = SimOptions::default();
    let e = simulate(&prog, &[None, None], &o).unwrap_err();
    assert!(
        matches!(
            e,
            SimError::Input(InputError::Size {
                got: 2,
                expected: 3
            })
        ),
        "{e}"
    );
    let e = simulate(&prog, &[Some(64), None, None], &o).unwrap_err();
    assert!(
        e.to_string().contains("channel 0") && e.to_string().contains("64"),
        "{e}"
    );
    let e = simulate(
        &prog,
        &[None, None, None],
        &SimOptions {
            max_cycles: 119,
            ..o
        },
    )
    .unwrap_err();
    assert!(matches!(e, SimError::Timeout { cycles: 119 }), "{e}");
    // Exactly enough cycles is enough.
    assert!(simulate(
        &prog,
        &[None, None, None],
        &SimOptions {
            max_cycles: 120,
            ..o
        }
    )
    .is_ok());
    let mut bad = prog.clone();
    bad.cores[0].threshold = 0;
    let e = simulate(&bad, &[None, None, None], &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cores[0].threshold"), "{e}");
}

#[test]
fn inferences_are_independent_of_what_ran_before() {
    let p = HwParams::preset("tiny").unwrap();
    let net = random_network(8, &NetSpec::new(&[12, 10, 4], 0.4, 20));
    let prog = map(&net, &p, 0);
    let ins = random_inputs(8, 12, 4, 0.6, 8);
    let o = SimOptions::default();
    let mut sim = Simulator::new(&prog).unwrap();
    let seq: Vec<_> = ins.iter().map(|i| sim.run(i, &o).unwrap()).collect();
    for (i, r) in ins.iter().zip(&seq) {
        assert_eq!(&simulate(&prog, i, &o).unwrap(), r);
    }
}

#[test]
fn a_host_that_never_takes_part_is_refused_instead_of_hanging() {
    use onespike_compiler::regs::HostTiming;
    let prog = onespike_compiler::map_in_order(
        &onespike_compiler::QuantNetwork::dense(
            1,
            onespike_compiler::InputEncoding::new(4),
            8,
            8,
            vec![(1, 1, vec![5])],
        ),
        &HwParams::preset("tiny").unwrap(),
    )
    .unwrap();
    let mut sim = onespike_sim::Simulator::new(&prog).unwrap();
    for timing in [
        HostTiming {
            seed: 1,
            in_gap_percent: 100,
            out_stall_percent: 0,
        },
        HostTiming {
            seed: 1,
            in_gap_percent: 0,
            out_stall_percent: 100,
        },
    ] {
        let opts = SimOptions {
            timing,
            ..SimOptions::default()
        };
        let e = sim.run(&[Some(0)], &opts).unwrap_err().to_string();
        assert!(e.contains("percent") && e.contains("below 100"), "{e}");
    }
    // Just below the limit the run ends, later than an eager host's.
    let eager = sim.run(&[Some(0)], &SimOptions::default()).unwrap();
    let slow = sim
        .run(
            &[Some(0)],
            &SimOptions {
                timing: HostTiming {
                    seed: 1,
                    in_gap_percent: 99,
                    out_stall_percent: 99,
                },
                ..SimOptions::default()
            },
        )
        .unwrap();
    assert_eq!(slow.spikes, eager.spikes);
    assert!(slow.cycles > eager.cycles);
}
