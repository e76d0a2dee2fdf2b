//! `event_fifo`: the first-word-fall-through FIFO of the accelerator, on a
//! block RAM with a synchronous read. Each core has one for its incoming
//! events (source ids of the current step) and one as its spike queue (local
//! indices of neurons that fired in the integrate phase).
//!
//! Timing (documented in `docs/hw.md`): a word pushed in cycle `c` is
//! visible at the head (`valid`) in cycle `c + 2`; back-to-back pops run at
//! one word per cycle; capacity is `2^AB + 1` words (the RAM plus the head
//! register). `full` reports a full RAM: a push while `full` is ignored, so
//! producers must hold their word (the router does) — nothing is dropped.

use rust_hdl::prelude::*;

/// FIFO of `DW`-bit words, `2^AB` RAM entries; `AB1 = AB + 1`.
#[derive(LogicBlock)]
pub struct EventFifo<const DW: usize, const AB: usize, const AB1: usize> {
    pub clock: Signal<In, Clock>,
    /// Synchronous clear (real reset of the pointers and head).
    pub clear: Signal<In, Bit>,
    pub push: Signal<In, Bit>,
    pub push_data: Signal<In, Bits<DW>>,
    /// The RAM is full: a push in this cycle would be ignored.
    pub full: Signal<Out, Bit>,
    /// Pop the head word (only when `valid`).
    pub pop: Signal<In, Bit>,
    /// A word is at the head (first word fall through).
    pub valid: Signal<Out, Bit>,
    pub data: Signal<Out, Bits<DW>>,
    /// Nothing stored and nothing in flight.
    pub empty: Signal<Out, Bit>,
    ram: RAM<Bits<DW>, AB>,
    wr_ptr: DFF<Bits<AB1>>,
    rd_ptr: DFF<Bits<AB1>>,
    head: DFF<Bits<DW>>,
    head_valid: DFF<Bit>,
    inflight: DFF<Bit>,
    ram_empty: Signal<Local, Bit>,
    ram_full: Signal<Local, Bit>,
    issue: Signal<Local, Bit>,
    ptr_msb: Constant<Bits<AB1>>,
    ptr_one: Constant<Bits<AB1>>,
    ptr_zero: Constant<Bits<AB1>>,
}

impl<const DW: usize, const AB: usize, const AB1: usize> Default for EventFifo<DW, AB, AB1> {
    fn default() -> Self {
        assert_eq!(AB + 1, AB1, "EventFifo: AB1 must be AB + 1");
        Self {
            clock: Default::default(),
            clear: Default::default(),
            push: Default::default(),
            push_data: Default::default(),
            full: Default::default(),
            pop: Default::default(),
            valid: Default::default(),
            data: Default::default(),
            empty: Default::default(),
            ram: Default::default(),
            wr_ptr: Default::default(),
            rd_ptr: Default::default(),
            head: Default::default(),
            head_valid: Default::default(),
            inflight: Default::default(),
            ram_empty: Default::default(),
            ram_full: Default::default(),
            issue: Default::default(),
            ptr_msb: Constant::new(Bits::<AB1>::from(1u64 << AB)),
            ptr_one: Constant::new(Bits::<AB1>::from(1u64)),
            ptr_zero: Constant::new(Bits::<AB1>::from(0u64)),
        }
    }
}

impl<const DW: usize, const AB: usize, const AB1: usize> Logic for EventFifo<DW, AB, AB1> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, wr_ptr, rd_ptr, head, head_valid, inflight);
        self.ram.read_clock.next = self.clock.val();
        self.ram.write_clock.next = self.clock.val();
        self.ram_empty.next = self.wr_ptr.q.val() == self.rd_ptr.q.val();
        self.ram_full.next = (self.wr_ptr.q.val() ^ self.rd_ptr.q.val()) == self.ptr_msb.val();
        self.full.next = self.ram_full.val();
        self.valid.next = self.head_valid.q.val() | self.inflight.q.val();
        self.empty.next = self.ram_empty.val() & !self.head_valid.q.val() & !self.inflight.q.val();
        self.data.next = self.head.q.val();
        if self.inflight.q.val() {
            self.data.next = self.ram.read_data.val();
        }
        // Fetch the next RAM word when the head will be free next cycle.
        self.issue.next = !self.ram_empty.val()
            & (!(self.head_valid.q.val() | self.inflight.q.val()) | self.pop.val());
        self.ram.read_address.next = bit_cast::<AB, AB1>(self.rd_ptr.q.val());
        if self.issue.val() {
            self.rd_ptr.d.next = self.rd_ptr.q.val() + self.ptr_one.val();
        }
        self.inflight.d.next = self.issue.val();
        if self.pop.val() {
            self.head_valid.d.next = false;
        } else if self.inflight.q.val() {
            self.head.d.next = self.ram.read_data.val();
            self.head_valid.d.next = true;
        }
        // Write side.
        self.ram.write_address.next = bit_cast::<AB, AB1>(self.wr_ptr.q.val());
        self.ram.write_data.next = self.push_data.val();
        self.ram.write_enable.next = self.push.val() & !self.ram_full.val();
        if self.push.val() & !self.ram_full.val() {
            self.wr_ptr.d.next = self.wr_ptr.q.val() + self.ptr_one.val();
        }
        if self.clear.val() {
            self.wr_ptr.d.next = self.ptr_zero.val();
            self.rd_ptr.d.next = self.ptr_zero.val();
            self.head_valid.d.next = false;
            self.inflight.d.next = false;
            self.ram.write_enable.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Fifo = EventFifo<8, 2, 3>;

    struct Bench {
        f: Fifo,
    }

    impl Bench {
        fn new() -> Bench {
            let mut f = Fifo::default();
            f.connect_all();
            let mut b = Bench { f };
            b.cycle(false, 0, false, true);
            b
        }
        /// Drives one cycle; returns (valid, data, full, empty) seen before the edge.
        fn cycle(
            &mut self,
            push: bool,
            data: u64,
            pop: bool,
            clear: bool,
        ) -> (bool, u64, bool, bool) {
            let f = &mut self.f;
            f.push.next = push;
            f.push_data.next = data.into();
            f.pop.next = pop;
            f.clear.next = clear;
            f.clock.next = Clock { clk: false };
            assert!(simulate(f, 1000));
            let seen = (
                f.valid.val(),
                f.data.val().to_u64(),
                f.full.val(),
                f.empty.val(),
            );
            f.clock.next = Clock { clk: true };
            assert!(simulate(f, 1000));
            seen
        }
    }

    #[test]
    fn a_pushed_word_reaches_the_head_two_cycles_later() {
        let mut b = Bench::new();
        assert_eq!(b.cycle(true, 7, false, false), (false, 0, false, true));
        assert!(
            !b.cycle(false, 0, false, false).0,
            "visible after one cycle"
        );
        let (valid, data, _, empty) = b.cycle(false, 0, false, false);
        assert!(valid && data == 7 && !empty);
        // Popping empties it.
        assert!(b.cycle(false, 0, true, false).0);
        assert_eq!(b.cycle(false, 0, false, false), (false, 7, false, true));
    }

    #[test]
    fn pops_run_back_to_back_and_nothing_is_lost_when_full() {
        let mut b = Bench::new();
        // Push 6 words into a 4-entry RAM, one per cycle; the producer holds
        // a word while `full` (as the router does).
        let mut next = 0u64;
        let mut got = Vec::new();
        for _ in 0..6 {
            let (_, _, full, _) = b.cycle(next < 6, next, false, false);
            if !full {
                next += 1;
            }
        }
        // Capacity: 4 in RAM + 1 at the head.
        assert_eq!(next, 5);
        for _ in 0..12 {
            let pushing = next < 8;
            let (valid, data, full, _) = b.cycle(pushing, next, true, false);
            if pushing && !full {
                next += 1;
            }
            if valid {
                got.push(data);
            }
        }
        assert_eq!(got, (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn clear_empties_the_fifo() {
        let mut b = Bench::new();
        for k in 0..3 {
            b.cycle(true, k, false, false);
        }
        b.cycle(false, 0, false, true);
        for _ in 0..3 {
            let (valid, _, _, empty) = b.cycle(false, 0, false, false);
            assert!(!valid && empty);
        }
    }
}
