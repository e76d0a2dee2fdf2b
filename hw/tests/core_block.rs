//! Block-level tests of one `Core` in a hand-clocked rust-hdl `simulate()`
//! loop: saturation of `I` and `V` at their widths (which valid programs
//! never reach through the whole accelerator), fire-once, the window
//! filter and the second (recurrent) listen window.

use onespike_compiler::layout::{PointerEntry, WeightEntry};
use onespike_hw::core::Core;
use onespike_hw::host_port::*;
use onespike_hw::tiny_params;
use rust_hdl::prelude::*;

type TinyCore = Core<3, 4, 5, 8, 8, 16, 24, 6, 7, 2, 3, 12, 11>;

struct Bench {
    c: TinyCore,
}

#[derive(Default, Clone, Copy)]
struct In {
    cmd_clear: bool,
    cmd_integrate: bool,
    deliver_en: bool,
    bus: Option<u64>,
    cfg: Option<(u64, u64, u64)>,
    vread: u64,
}

impl Bench {
    fn new() -> Bench {
        let p = tiny_params();
        let mut c = TinyCore::new(&p, 1);
        c.connect_all();
        Bench { c }
    }

    /// One cycle; returns (busy, drained, a neuron fired) before the edge.
    fn cycle(&mut self, i: In) -> (bool, bool, bool) {
        let c = &mut self.c;
        c.reset.next = false;
        c.cmd_clear.next = i.cmd_clear;
        c.cmd_integrate.next = i.cmd_integrate;
        c.deliver_en.next = i.deliver_en;
        c.bus_valid.next = i.bus.is_some();
        c.bus_go.next = i.bus.is_some();
        c.bus_source.next = i.bus.unwrap_or(0).into();
        c.prio_in.next = false;
        let (region, index, data) = i.cfg.unwrap_or((0, 0, 0));
        c.cfg_we.next = i.cfg.is_some();
        c.cfg_core.next = 1u64.into();
        c.cfg_region.next = region.into();
        c.cfg_index.next = index.into();
        c.cfg_data.next = data.into();
        c.vread_core.next = 1u64.into();
        c.vread_addr.next = i.vread.into();
        c.clock.next = Clock { clk: false };
        assert!(simulate(c, 1000));
        // The router's part: route words from the settled windows.
        let p = tiny_params();
        c.bus_route.next = c.own_route_word(&p, 1, i.bus.unwrap_or(0)).into();
        c.push_route.next = c.own_route_word(&p, 1, c.push_source.val().to_u64()).into();
        assert!(simulate(c, 1000));
        let seen = (c.busy.val(), c.drained.val(), c.output_fired.val());
        c.clock.next = Clock { clk: true };
        assert!(simulate(c, 1000));
        seen
    }

    fn write(&mut self, region: u64, index: u64, data: u64) {
        self.cycle(In {
            cfg: Some((region, index, data)),
            ..Default::default()
        });
    }

    /// Runs a command and waits until the core is idle; returns the cycles
    /// and whether a spike reached the queue.
    fn run(&mut self, i: In) -> (u64, bool) {
        self.cycle(i);
        let mut n = 1;
        let mut spike = false;
        loop {
            let (busy, drained, sp) = self.cycle(In {
                deliver_en: i.deliver_en,
                ..Default::default()
            });
            spike |= sp;
            n += 1;
            if !busy && (drained || !i.deliver_en) {
                return (n, spike);
            }
            assert!(n < 10_000);
        }
    }

    fn v(&mut self, j: u64) -> i64 {
        self.cycle(In {
            vread: j,
            ..Default::default()
        });
        self.cycle(In {
            vread: j,
            ..Default::default()
        });
        onespike_compiler::layout::sign_extend(self.c.vread_data.val().to_u64(), 24)
    }
}

fn setup(weight: i32, threshold: i64) -> Bench {
    let p = tiny_params();
    let mut b = Bench::new();
    b.write(REGION_REGISTER, REG_THRESHOLD, threshold as u64 & 0xff_ffff);
    b.write(REGION_REGISTER, REG_NEURONS, 1);
    b.write(REGION_REGISTER, REG_LISTEN_BASE, 10);
    b.write(REGION_REGISTER, REG_LISTEN_END, 11);
    b.write(REGION_REGISTER, REG_OUTPUT, 1);
    b.write(
        REGION_POINTER,
        0,
        PointerEntry { base: 0, count: 1 }.pack(&p),
    );
    b.write(REGION_WEIGHT, 0, WeightEntry { target: 0, weight }.pack(&p));
    let (clear_cycles, _) = b.run(In {
        cmd_clear: true,
        ..Default::default()
    });
    // Command cycle, N busy cycles, the first idle cycle.
    assert_eq!(clear_cycles, 1 + 8 + 1, "clear takes N cycles");
    b
}

fn deliver(b: &mut Bench, events: usize) {
    for _ in 0..events {
        b.cycle(In {
            bus: Some(10),
            ..Default::default()
        });
        b.run(In {
            deliver_en: true,
            ..Default::default()
        });
    }
}

#[test]
fn current_and_potential_saturate_and_the_neuron_fires_once() {
    let max_v = (1i64 << 23) - 1;
    let mut b = setup(127, max_v);
    // 300 * 127 = 38100 > 32767: I saturates at 32767.
    deliver(&mut b, 300);
    let (_, fired) = b.run(In {
        cmd_integrate: true,
        ..Default::default()
    });
    assert!(!fired);
    assert_eq!(b.v(0), 32767);
    // V climbs by 32767 a step until it saturates at 2^23 - 1 = theta: fires then.
    let mut fired_at = None;
    for step in 1..300 {
        let (_, f) = b.run(In {
            cmd_integrate: true,
            ..Default::default()
        });
        if f {
            assert!(fired_at.is_none(), "fired twice");
            fired_at = Some(step);
        }
    }
    // 256 * 32767 = 8388352 < max_v; the 257th integrate saturates.
    assert_eq!(fired_at, Some(256));
    assert_eq!(b.v(0), max_v);
}

#[test]
fn negative_current_saturates_and_v_saturates_at_the_minimum() {
    let mut b = setup(-128, 5);
    deliver(&mut b, 300);
    for _ in 0..300 {
        let (_, f) = b.run(In {
            cmd_integrate: true,
            ..Default::default()
        });
        assert!(!f);
    }
    assert_eq!(b.v(0), -(1i64 << 23));
}

#[test]
fn events_outside_the_window_are_not_taken() {
    let mut b = setup(5, 100);
    for src in [9u64, 11, 40] {
        b.cycle(In {
            bus: Some(src),
            ..Default::default()
        });
    }
    let (cycles, _) = b.run(In {
        deliver_en: true,
        ..Default::default()
    });
    assert_eq!(
        cycles, 2,
        "nothing queued: one command cycle, one idle cycle"
    );
    b.run(In {
        cmd_integrate: true,
        ..Default::default()
    });
    assert_eq!(b.v(0), 0);
}

#[test]
fn second_window_events_use_the_pointer_entries_after_the_first_window() {
    // Window 1: ids 10..11 (pointer 0); window 2: ids 20..22 at pointer
    // addresses 1..3 (`src - rec_base + rec_pointer`).
    let p = tiny_params();
    let mut b = setup(5, 1_000_000);
    b.write(REGION_REGISTER, REG_NEURONS, 3);
    b.write(REGION_REGISTER, REG_REC_BASE, 20);
    b.write(REGION_REGISTER, REG_REC_END, 22);
    b.write(REGION_REGISTER, REG_REC_POINTER, 1);
    for (addr, base, target, weight) in [(1u64, 1, 1, 7), (2, 2, 2, -3)] {
        b.write(
            REGION_POINTER,
            addr,
            PointerEntry { base, count: 1 }.pack(&p),
        );
        b.write(
            REGION_WEIGHT,
            base as u64,
            WeightEntry { target, weight }.pack(&p),
        );
    }
    // 19 and 22 lie outside both windows; 10, 20, 21, 21 are taken.
    for src in [10u64, 19, 20, 21, 22, 21] {
        b.cycle(In {
            bus: Some(src),
            ..Default::default()
        });
    }
    b.run(In {
        deliver_en: true,
        ..Default::default()
    });
    b.run(In {
        cmd_integrate: true,
        ..Default::default()
    });
    assert_eq!((b.v(0), b.v(1), b.v(2)), (5, 7, -6));
}
