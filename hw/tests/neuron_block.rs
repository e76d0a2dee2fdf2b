//! The neuron block (`onespike_hw::neuron::NeuronUnit`) against
//! `onespike_compiler::neuron::NeuronModel::step`, exhaustively at narrow
//! widths: every `V`, every `I`, every valid threshold, every reset code,
//! every leak shift below the state's width plus one far beyond it, leaks
//! off, and both values of the fired flag (for reset subtract_next, whose
//! flag means "spiked in the previous step", only with `V >= theta`: the
//! states a run can reach). The block is fed one case per cycle in a hand-clocked
//! `simulate()` loop and its stage-C outputs are checked two cycles later
//! (the stages of consecutive cases overlap, as in the integrate sweep).

use onespike_compiler::layout::neuron_mode_layout;
use onespike_compiler::neuron::{Bounds, NeuronModel, NeuronState, Reset, Update};
use onespike_hw::neuron::NeuronUnit;
use rust_hdl::prelude::*;

/// One case: the inputs of stage A.
#[derive(Debug, Clone, Copy)]
struct Case {
    v: i64,
    i: i64,
    fired: bool,
    theta: i64,
    word: u64,
}

/// The outputs stage B must show for a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expect {
    v_we: bool,
    v_next: i64,
    i_we: bool,
    i_next: i64,
    f_we: bool,
    f_next: bool,
    spike: bool,
}

fn expect(c: &Case, b: &Bounds) -> Expect {
    let model = NeuronModel::unpack(c.word).expect("every reset code exists");
    let mut s = NeuronState {
        v: c.v,
        i: c.i,
        fired: c.fired,
    };
    match model.step(&mut s, c.theta, b) {
        Update::Skipped => Expect {
            v_we: false,
            v_next: 0,
            i_we: false,
            i_next: 0,
            f_we: false,
            f_next: false,
            spike: false,
        },
        // I is written back only when it leaks (and is unchanged otherwise).
        Update::Done { .. } if model.i_shift.is_none() && s.i != c.i => {
            panic!("the model changed I without a leak: {c:?}")
        }
        Update::Done { spiked: spike, .. } => Expect {
            v_we: true,
            v_next: s.v,
            i_we: model.i_shift.is_some(),
            i_next: if model.i_shift.is_some() { s.i } else { 0 },
            f_we: match model.reset {
                Reset::Once => spike,
                Reset::SubtractNext => true,
                _ => false,
            },
            f_next: spike,
            spike,
        },
    }
}

fn sext(x: u64, bits: usize) -> i64 {
    ((x << (64 - bits)) as i64) >> (64 - bits)
}

fn mask(x: i64, bits: usize) -> u64 {
    (x as u64) & ((1u64 << bits) - 1)
}

/// Mode words: every reset code, each leak off or at
/// every shift below `bits` plus 63.
fn words(v_bits: usize, i_bits: usize) -> Vec<u64> {
    let l = neuron_mode_layout();
    let shifts = |bits: usize| -> Vec<Option<u64>> {
        let mut v = vec![None];
        v.extend((0..bits as u64).map(Some));
        v.push(Some(63));
        v
    };
    let mut out = Vec::new();
    for reset in 0..4u64 {
        for vs in shifts(v_bits) {
            for is in shifts(i_bits) {
                out.push(l.pack_raw(&[
                    reset,
                    vs.is_some() as u64,
                    vs.unwrap_or(0),
                    is.is_some() as u64,
                    is.unwrap_or(0),
                ]));
            }
        }
    }
    out
}

/// Feeds every case through the block, one per cycle, in groups of equal
/// threshold and mode (registers of the core, constant during a run: a
/// group ends with two idle cycles that empty the pipeline); returns the
/// cases checked, how many of them spiked, and how many unreachable
/// states were left out.
fn run<const IB: usize, const VB: usize>(
    v_bits: usize,
    i_bits: usize,
    fired: &[bool],
) -> (u64, u64, u64) {
    assert_eq!((VB, IB), (v_bits, i_bits));
    let b = Bounds::of_widths(IB as u32, VB as u32);
    let mut u = NeuronUnit::<IB, VB>::default();
    u.connect_all();
    u.flush.next = false;
    let (mut checked, mut spikes, mut unreachable) = (0u64, 0u64, 0u64);
    for word in words(VB, IB) {
        let next = NeuronModel::unpack(word).unwrap().reset == Reset::SubtractNext;
        for theta in 1..=b.v_max {
            u.theta.next = mask(theta, VB).into();
            u.mode.next = word.into();
            let reachable = move |v: i64, f: bool| !(next && f && v < theta);
            unreachable += (b.v_min..=b.v_max)
                .flat_map(|v| fired.iter().map(move |&f| (v, f)))
                .filter(|&(v, f)| !reachable(v, f))
                .count() as u64
                * (b.i_max - b.i_min + 1) as u64;
            let group = (b.v_min..=b.v_max).flat_map(|v| {
                (b.i_min..=b.i_max).flat_map(move |i| {
                    fired
                        .iter()
                        .filter(move |&&f| reachable(v, f))
                        .map(move |&fired| (v, i, fired))
                })
            });
            // Cases in stages B and C.
            let mut pipe: [Option<Case>; 2] = [None, None];
            for c in group.map(Some).chain([None, None]) {
                let c = c.map(|(v, i, fired)| Case {
                    v,
                    i,
                    fired,
                    theta,
                    word,
                });
                u.valid.next = c.is_some();
                if let Some(c) = &c {
                    u.v.next = mask(c.v, VB).into();
                    u.i.next = mask(c.i, IB).into();
                    u.fired.next = c.fired;
                }
                u.clock.next = Clock { clk: false };
                assert!(simulate(&mut u, 100));
                if let Some(p) = &pipe[1] {
                    let e = expect(p, &b);
                    let got = Expect {
                        v_we: u.v_we.val(),
                        v_next: if e.v_we {
                            sext(u.v_next.val().to_u64(), VB)
                        } else {
                            0
                        },
                        i_we: u.i_we.val(),
                        i_next: if e.i_we {
                            sext(u.i_next.val().to_u64(), IB)
                        } else {
                            0
                        },
                        f_we: u.f_we.val(),
                        f_next: if e.f_we { u.f_next.val() } else { e.f_next },
                        spike: u.spike.val(),
                    };
                    assert!(u.c_valid.val());
                    assert_eq!(got, e, "case {p:?} (mode {:?})", NeuronModel::unpack(word));
                    checked += 1;
                    spikes += e.spike as u64;
                } else {
                    assert!(!u.c_valid.val() && !u.spike.val() && !u.v_we.val());
                }
                u.clock.next = Clock { clk: true };
                assert!(simulate(&mut u, 100));
                pipe = [c, pipe[0]];
            }
        }
    }
    (checked, spikes, unreachable)
}

#[test]
fn every_state_threshold_and_mode_at_5_bit_v_and_3_bit_i() {
    let (n, spikes, left_out) = run::<3, 5>(5, 3, &[false, true]);
    // 4 resets x 7 V shifts x 5 I shifts x 15 thresholds x 32 V x 8 I x 2.
    assert_eq!(n + left_out, 4 * 7 * 5 * 15 * 32 * 8 * 2);
    assert!(left_out > 0 && left_out < n / 8);
    assert!(
        spikes > n / 20,
        "too few spikes to mean much: {spikes} of {n}"
    );
}

#[test]
fn every_state_threshold_and_mode_at_6_bit_v_and_4_bit_i_not_fired() {
    let (n, spikes, left_out) = run::<4, 6>(6, 4, &[false]);
    assert_eq!((n, left_out), (4 * 8 * 6 * 31 * 64 * 16, 0));
    assert!(spikes > n / 20, "{spikes} of {n}");
}

#[test]
fn flush_empties_the_pipeline() {
    let mut u = NeuronUnit::<4, 6>::default();
    u.connect_all();
    u.theta.next = 1u64.into();
    u.mode.next = 0u64.into();
    u.v.next = 5u64.into();
    u.i.next = 3u64.into();
    u.fired.next = false;
    let clock = |u: &mut NeuronUnit<4, 6>, valid: bool, flush: bool| {
        u.valid.next = valid;
        u.flush.next = flush;
        u.clock.next = Clock { clk: false };
        assert!(simulate(u, 100));
        let seen = (
            u.c_valid.val(),
            u.spike.val(),
            u.v_we.val(),
            u.pipe_busy.val(),
        );
        u.clock.next = Clock { clk: true };
        assert!(simulate(u, 100));
        seen
    };
    // Two neurons enter; a flush in the next cycle removes both.
    clock(&mut u, true, false);
    clock(&mut u, true, true);
    assert_eq!(clock(&mut u, false, false), (false, false, false, false));
    assert_eq!(clock(&mut u, false, false), (false, false, false, false));
    // Without the flush the same neuron spikes two cycles later.
    clock(&mut u, true, false);
    clock(&mut u, false, false);
    assert_eq!(clock(&mut u, false, false), (true, true, true, true));
}
