//! Host behaviour on the RTL (issue 12, item 9): `done` waits until the host
//! has taken every output spike, so no spike of one inference can leak into
//! the next; `in_valid` gaps and `out_ready` stalls cost exactly the cycles
//! `docs/hw.md` ("Host timing") says.

use onespike_compiler::{map_in_order, HwParams, InputEncoding, Program, QuantNetwork};
use onespike_hw::driver::{Driver, Inputs, Pins, RunConfig};
use onespike_hw::hdl_model::HdlModel;
use onespike_hw::tiny_params;

/// One input, one output neuron: weight 127, threshold 889, T = 8; the
/// output fires at step 7 (V = 127 t), the last step.
fn one_spike_at_the_last_step(p: &HwParams) -> Program {
    let net = QuantNetwork::dense(1, InputEncoding::new(1), 8, 8, vec![(1, 889, vec![127])]);
    map_in_order(&net, p).unwrap()
}

/// What a hand-driven inference saw.
#[derive(Debug, Default)]
struct Seen {
    /// `(cycle, step tag)` of every spike the host took.
    taken: Vec<(u64, u64)>,
    /// Cycles with a spike offered and `out_ready` low.
    refused: u64,
    /// Whether `done` was ever high while a spike waited untaken.
    done_while_full: bool,
    /// The accelerator's cycle counter at `done`.
    cycles: u64,
}

/// Runs one inference with the host's `in_valid` and `out_ready` given per
/// cycle (cycle 0 = the Clear cycle, the first after the start pulse), up
/// to `limit` cycles. `events` are `(step, source)` in order.
fn drive<P: Pins>(
    d: &mut Driver<P>,
    events: &[(u64, u64)],
    in_valid: impl Fn(u64) -> bool,
    out_ready: impl Fn(u64, &onespike_hw::Outputs) -> bool,
    limit: u64,
) -> Seen {
    let idle = d.idle_inputs();
    d.cycle(&Inputs { start: 1, ..idle });
    let mut seen = Seen::default();
    let mut next = 0;
    let mut last = d.pins.eval(&idle);
    for n in 0..limit {
        let mut inp = idle;
        inp.out_ready = out_ready(n, &last) as u64;
        match events.get(next) {
            Some(&(t, src)) => {
                if in_valid(n) {
                    inp.in_valid = 1;
                    inp.in_step = t;
                    inp.in_source = src;
                }
            }
            None => inp.in_end = 1,
        }
        let out = d.cycle(&inp);
        if out.out_valid != 0 {
            if inp.out_ready != 0 {
                seen.taken.push((n, out.out_step));
            } else {
                seen.refused += 1;
                seen.done_while_full |= out.done != 0;
            }
        }
        if inp.in_valid != 0 && out.in_ready != 0 {
            next += 1;
        }
        if out.done != 0 {
            seen.cycles = out.cycles;
            return seen;
        }
        last = out;
    }
    seen.cycles = d.pins.eval(&idle).cycles;
    seen
}

#[test]
fn done_waits_until_the_host_has_taken_the_last_spike() {
    let p = tiny_params();
    let prog = one_spike_at_the_last_step(&p);
    onespike_hw::with_config!(&p, T => {
        let mut d = Driver::new(HdlModel::<T>::new(&p), &p);
        let run = RunConfig::default();
        d.load(&prog, &run).unwrap();
        // Eager host: the spike at step 7, and the cycle count to compare.
        let eager = d.infer(&prog, &[Some(0)], &run).unwrap();
        assert_eq!(eager.spikes.output(), &[onespike_compiler::Spike { step: 7, neuron: 0 }]);
        // out_ready low from step 7 on, for 300 cycles; then high.
        let release = 300;
        let seen = drive(
            &mut d,
            &[(0, 0)],
            |_| true,
            |n, last| n >= release || last.step < 7,
            release + 50,
        );
        assert!(!seen.done_while_full, "done rose while the spike was still in the output register");
        assert!(seen.refused > 200, "the spike waited {} cycles", seen.refused);
        // Taken in the release cycle; done the cycle after; the last
        // Advance counted every cycle it waited.
        assert_eq!(seen.taken, vec![(release, 7)]);
        assert_eq!(seen.cycles, release + 1);
        assert!(seen.cycles > eager.cycles);
        // The next inference, without any input, reports no spike.
        let next = d.infer(&prog, &[None], &run).unwrap();
        assert_eq!(next.spike_count, 0, "a spike of the last inference leaked: {:?}", next.spikes);
        // The event-free formula (N + 2) + T (n + 6) of docs/hw.md.
        assert_eq!(next.cycles, (8 + 2) + 8 * (1 + 6));
    })
    .unwrap();
}

/// 3 inputs -> 5 neurons that never fire; input 0 has 3 synapses.
fn silent_program(p: &HwParams) -> Program {
    #[rustfmt::skip]
    let weights = vec![
        5, 1, 0,
        5, 0, 0,
        5, 0, 0,
        0, 0, 0,
        0, 0, 0,
    ];
    let net = QuantNetwork::dense(3, InputEncoding::new(4), 10, 8, vec![(5, 100_000, weights)]);
    map_in_order(&net, p).unwrap()
}

#[test]
fn an_input_gap_delays_the_event_and_holds_deliver_open() {
    // tests/timing.rs: N = 8, n = 5, T = 10; one event of k = 3 synapses at
    // step 0 costs BASE + k + 3. Cycle 10 is step 0's Integ (the first
    // routing cycle), Deliver starts at cycle 19 = 10 + 1 + (n + 3).
    const BASE: u64 = (8 + 2) + 10 * (5 + 6);
    let p = tiny_params();
    let prog = silent_program(&p);
    onespike_hw::with_config!(&p, T => {
        let mut d = Driver::new(HdlModel::<T>::new(&p), &p);
        d.load(&prog, &RunConfig::default()).unwrap();
        for first in [0u64, 10, 17, 18, 25, 40] {
            // in_valid low before cycle `first` although the event waits.
            let seen = drive(&mut d, &[(0, 0)], |n| n >= first, |_, _| true, 10_000);
            // Taken at max(first, 10); it reaches the FIFO head 2 cycles
            // later; Deliver pops it at max(head, 19).
            let extra = (first.max(10) + 2).saturating_sub(19);
            assert_eq!(seen.cycles, BASE + 3 + 3 + extra, "event offered from cycle {first}");
        }
    })
    .unwrap();
}
