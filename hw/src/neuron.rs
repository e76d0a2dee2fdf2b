//! `neuron`: the neuron datapath of a core as its own block, [`NeuronUnit`]:
//! one neuron update per cycle of the integrate sweep, bit for bit
//! `onespike_compiler::neuron::NeuronModel::step` (tested exhaustively at
//! narrow widths in `hw/tests/neuron_block.rs`).
//!
//! Three stages with a register after each of the first two (the pipeline
//! of the integrate sweep, `docs/hw.md`, "Core"):
//!
//! - stage A (the cycle the state memories deliver `V`, `I`, fired): the
//!   leaks `leak(V, v_shift)` and `leak(I, i_shift)`, and, for reset
//!   subtract_next after a spike in the previous step, `V - theta` (the
//!   spike left `V >= theta`: no overflow), where
//!   `leak(x, k) = x >> k` is an arithmetic shift (a logical barrel shift of
//!   `x` with its sign bits flipped, flipped back: sign fill), or 0 when the
//!   leak is off;
//! - stage B (one cycle later): `V' = sat_V(V - leak(V) + I)` and
//!   `I' = I - leak(I)`;
//! - stage C (two cycles after A): spike if `V' >= theta` (signed compare);
//!   `V` written back as `V'`, `V' - theta` (reset subtract) or 0 (reset
//!   zero) on a spike; `I'` written back (only when `I` leaks: otherwise it
//!   is unchanged and not written); the fired flag written with the spike
//!   for reset once (set on a spike) and subtract_next (every update: "spiked
//!   in this step"). A neuron whose fired flag is set writes nothing
//!   and cannot spike, except under subtract_next.
//!
//! The mode word is the `REG_NEURON_MODE` register, decoded here through the
//! field offsets of `onespike_compiler::layout::neuron_mode_layout`; every
//! one of the four reset codes exists.

use crate::{k, ones};
use onespike_compiler::layout::neuron_mode_layout;
use rust_hdl::prelude::*;

/// Width of the neuron-mode register word.
pub const MODE_BITS: usize = 16;
/// Width of the `reset` field.
pub const RESET_BITS: usize = 2;
/// Width of a shift field.
pub const SHIFT_BITS: usize = 6;

/// The neuron update of one core; `IB` current bits, `VB` membrane bits.
/// A neuron's state enters at stage A; its write-back leaves at stage C,
/// two cycles later; one neuron per cycle.
#[derive(LogicBlock)]
pub struct NeuronUnit<const IB: usize, const VB: usize> {
    pub clock: Signal<In, Clock>,
    /// Synchronous flush (the core's reset): no neuron in stages B and C
    /// in the next cycle.
    pub flush: Signal<In, Bit>,
    /// Stage A: the state below belongs to a neuron in use this cycle.
    pub valid: Signal<In, Bit>,
    pub v: Signal<In, Bits<VB>>,
    pub i: Signal<In, Bits<IB>>,
    pub fired: Signal<In, Bit>,
    /// Parameters (registers of the core, constant during a run).
    pub theta: Signal<In, Bits<VB>>,
    pub mode: Signal<In, Bits<MODE_BITS>>,
    /// A valid neuron is in stage B or C (the unit is busy).
    pub pipe_busy: Signal<Out, Bit>,
    /// Stage C (two cycles after stage A): a valid neuron is in stage C.
    pub c_valid: Signal<Out, Bit>,
    pub v_we: Signal<Out, Bit>,
    pub v_next: Signal<Out, Bits<VB>>,
    pub i_we: Signal<Out, Bit>,
    pub i_next: Signal<Out, Bits<IB>>,
    /// Write the fired flag (reset once and a spike; subtract_next always)
    /// with the value `f_next` (the spike).
    pub f_we: Signal<Out, Bit>,
    pub f_next: Signal<Out, Bit>,
    pub spike: Signal<Out, Bit>,
    // Stage registers: A -> B, B -> C.
    a_valid: DFF<Bit>,
    a_fired: DFF<Bit>,
    a_v: DFF<Bits<VB>>,
    a_vl: DFF<Bits<VB>>,
    a_i: DFF<Bits<IB>>,
    a_il: DFF<Bits<IB>>,
    b_valid: DFF<Bit>,
    b_fired: DFF<Bit>,
    b_v: DFF<Bits<VB>>,
    b_i: DFF<Bits<IB>>,
    // Mode fields.
    m_reset: Signal<Local, Bits<RESET_BITS>>,
    m_v_leak: Signal<Local, Bit>,
    m_v_shift: Signal<Local, Bits<SHIFT_BITS>>,
    m_i_leak: Signal<Local, Bit>,
    m_i_shift: Signal<Local, Bits<SHIFT_BITS>>,
    m_subtract: Signal<Local, Bit>,
    m_zero: Signal<Local, Bit>,
    m_once: Signal<Local, Bit>,
    m_next: Signal<Local, Bit>,
    // Stage A temporaries.
    pending: Signal<Local, Bit>,
    v_fill: Signal<Local, Bits<VB>>,
    v_shr: Signal<Local, Bits<VB>>,
    v_leaked: Signal<Local, Bits<VB>>,
    v_leaked_neg: Signal<Local, Bit>,
    c_neg: Signal<Local, Bit>,
    c_ext: Signal<Local, Bits<VB>>,
    v_sum: Signal<Local, Bits<VB>>,
    v_sum_neg: Signal<Local, Bit>,
    v_sat: Signal<Local, Bits<VB>>,
    i_fill: Signal<Local, Bits<IB>>,
    i_shr: Signal<Local, Bits<IB>>,
    i_leaked: Signal<Local, Bits<IB>>,
    // Stage B temporaries.
    v_key: Signal<Local, Bits<VB>>,
    theta_key: Signal<Local, Bits<VB>>,
    live: Signal<Local, Bit>,
    fire: Signal<Local, Bit>,
    // Constants.
    reset_lsb: Constant<Bits<8>>,
    v_leak_lsb: Constant<Bits<8>>,
    v_shift_lsb: Constant<Bits<8>>,
    i_leak_lsb: Constant<Bits<8>>,
    i_shift_lsb: Constant<Bits<8>>,
    code_subtract: Constant<Bits<RESET_BITS>>,
    code_zero: Constant<Bits<RESET_BITS>>,
    code_once: Constant<Bits<RESET_BITS>>,
    code_next: Constant<Bits<RESET_BITS>>,
    i_sign: Constant<Bits<IB>>,
    i_ones: Constant<Bits<IB>>,
    i_zero: Constant<Bits<IB>>,
    i_to_v_ext: Constant<Bits<VB>>,
    v_sign: Constant<Bits<VB>>,
    v_ones: Constant<Bits<VB>>,
    v_max: Constant<Bits<VB>>,
    v_min: Constant<Bits<VB>>,
    v_zero: Constant<Bits<VB>>,
}

impl<const IB: usize, const VB: usize> Default for NeuronUnit<IB, VB> {
    fn default() -> Self {
        assert!(IB <= VB, "NeuronUnit: the current may not be wider than V");
        let l = neuron_mode_layout();
        assert_eq!(l.width() as usize, MODE_BITS);
        assert_eq!(l.field("reset").width as usize, RESET_BITS);
        for f in ["v_shift", "i_shift"] {
            assert_eq!(l.field(f).width as usize, SHIFT_BITS);
        }
        let lsb = |f: &str| k::<8>(l.field(f).lsb as u64);
        use onespike_compiler::Reset;
        Self {
            clock: Default::default(),
            flush: Default::default(),
            valid: Default::default(),
            v: Default::default(),
            i: Default::default(),
            fired: Default::default(),
            theta: Default::default(),
            mode: Default::default(),
            pipe_busy: Default::default(),
            c_valid: Default::default(),
            v_we: Default::default(),
            v_next: Default::default(),
            i_we: Default::default(),
            i_next: Default::default(),
            f_we: Default::default(),
            f_next: Default::default(),
            spike: Default::default(),
            a_valid: Default::default(),
            a_fired: Default::default(),
            a_v: Default::default(),
            a_vl: Default::default(),
            a_i: Default::default(),
            a_il: Default::default(),
            b_valid: Default::default(),
            b_fired: Default::default(),
            b_v: Default::default(),
            b_i: Default::default(),
            m_reset: Default::default(),
            m_v_leak: Default::default(),
            m_v_shift: Default::default(),
            m_i_leak: Default::default(),
            m_i_shift: Default::default(),
            m_subtract: Default::default(),
            m_zero: Default::default(),
            m_once: Default::default(),
            m_next: Default::default(),
            pending: Default::default(),
            v_fill: Default::default(),
            v_shr: Default::default(),
            v_leaked: Default::default(),
            v_leaked_neg: Default::default(),
            c_neg: Default::default(),
            c_ext: Default::default(),
            v_sum: Default::default(),
            v_sum_neg: Default::default(),
            v_sat: Default::default(),
            i_fill: Default::default(),
            i_shr: Default::default(),
            i_leaked: Default::default(),
            v_key: Default::default(),
            theta_key: Default::default(),
            live: Default::default(),
            fire: Default::default(),
            reset_lsb: lsb("reset"),
            v_leak_lsb: lsb("v_leak"),
            v_shift_lsb: lsb("v_shift"),
            i_leak_lsb: lsb("i_leak"),
            i_shift_lsb: lsb("i_shift"),
            code_subtract: k(Reset::Subtract.code()),
            code_zero: k(Reset::Zero.code()),
            code_once: k(Reset::Once.code()),
            code_next: k(Reset::SubtractNext.code()),
            i_sign: k(1 << (IB - 1)),
            i_ones: k(ones(IB)),
            i_zero: k(0),
            i_to_v_ext: k(ones(VB) & !ones(IB)),
            v_sign: k(1 << (VB - 1)),
            v_ones: k(ones(VB)),
            v_max: k(ones(VB - 1)),
            v_min: k(1 << (VB - 1)),
            v_zero: k(0),
        }
    }
}

impl<const IB: usize, const VB: usize> Logic for NeuronUnit<IB, VB> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, a_valid, a_fired, a_v, a_vl, a_i, a_il, b_valid, b_fired, b_v, b_i);

        // ---- Mode word --------------------------------------------------------
        self.m_reset.next = self
            .mode
            .val()
            .get_bits::<RESET_BITS>(self.reset_lsb.val().index());
        self.m_v_leak.next = self.mode.val().get_bit(self.v_leak_lsb.val().index());
        self.m_v_shift.next = self
            .mode
            .val()
            .get_bits::<SHIFT_BITS>(self.v_shift_lsb.val().index());
        self.m_i_leak.next = self.mode.val().get_bit(self.i_leak_lsb.val().index());
        self.m_i_shift.next = self
            .mode
            .val()
            .get_bits::<SHIFT_BITS>(self.i_shift_lsb.val().index());
        self.m_subtract.next = self.m_reset.val() == self.code_subtract.val();
        self.m_zero.next = self.m_reset.val() == self.code_zero.val();
        self.m_once.next = self.m_reset.val() == self.code_once.val();
        self.m_next.next = self.m_reset.val() == self.code_next.val();

        // ---- Stage A: the leaks V >> v_shift and I >> i_shift -----------------
        // Arithmetic shift: flip a negative value, shift in zeros, flip back.
        self.v_fill.next = self.v_zero.val();
        if (self.v.val() & self.v_sign.val()).any() {
            self.v_fill.next = self.v_ones.val();
        }
        self.v_shr.next =
            ((self.v.val() ^ self.v_fill.val()) >> self.m_v_shift.val()) ^ self.v_fill.val();
        self.a_vl.d.next = self.v_zero.val();
        if self.m_v_leak.val() {
            self.a_vl.d.next = self.v_shr.val();
        }
        self.i_fill.next = self.i_zero.val();
        if (self.i.val() & self.i_sign.val()).any() {
            self.i_fill.next = self.i_ones.val();
        }
        self.i_shr.next =
            ((self.i.val() ^ self.i_fill.val()) >> self.m_i_shift.val()) ^ self.i_fill.val();
        self.a_il.d.next = self.i_zero.val();
        if self.m_i_leak.val() {
            self.a_il.d.next = self.i_shr.val();
        }
        self.a_valid.d.next = self.valid.val();
        self.a_fired.d.next = self.fired.val();
        // subtract_next: the previous step's spike subtracts theta now.
        self.pending.next = self.fired.val() & self.m_next.val();
        self.a_v.d.next = self.v.val();
        if self.pending.val() {
            self.a_v.d.next = self.v.val() - self.theta.val();
        }
        self.a_i.d.next = self.i.val();

        // ---- Stage B: V' = sat(V - leak(V) + I), I' = I - leak(I) ------------
        // |V >> k| <= |V| with the same sign: V - (V >> k) cannot overflow.
        self.v_leaked.next = self.a_v.q.val() - self.a_vl.q.val();
        self.v_leaked_neg.next = (self.v_leaked.val() & self.v_sign.val()).any();
        self.c_neg.next = (self.a_i.q.val() & self.i_sign.val()).any();
        self.c_ext.next = bit_cast::<VB, IB>(self.a_i.q.val());
        if self.c_neg.val() {
            self.c_ext.next = bit_cast::<VB, IB>(self.a_i.q.val()) | self.i_to_v_ext.val();
        }
        self.v_sum.next = self.v_leaked.val() + self.c_ext.val();
        self.v_sum_neg.next = (self.v_sum.val() & self.v_sign.val()).any();
        self.v_sat.next = self.v_sum.val();
        if (self.c_neg.val() == self.v_leaked_neg.val())
            & (self.v_sum_neg.val() != self.v_leaked_neg.val())
        {
            if self.v_leaked_neg.val() {
                self.v_sat.next = self.v_min.val();
            } else {
                self.v_sat.next = self.v_max.val();
            }
        }
        self.i_leaked.next = self.a_i.q.val() - self.a_il.q.val();
        self.b_valid.d.next = self.a_valid.q.val();
        self.b_fired.d.next = self.a_fired.q.val();
        self.b_v.d.next = self.v_sat.val();
        self.b_i.d.next = self.i_leaked.val();
        if self.flush.val() {
            self.a_valid.d.next = false;
            self.b_valid.d.next = false;
        }

        // ---- Stage C: spike, reset, write-back ----------------------------------
        // Signed compare as unsigned with the sign bits flipped.
        self.v_key.next = self.b_v.q.val() ^ self.v_sign.val();
        self.theta_key.next = self.theta.val() ^ self.v_sign.val();
        self.live.next = self.b_valid.q.val() & !(self.b_fired.q.val() & !self.m_next.val());
        self.fire.next = self.live.val() & (self.v_key.val() >= self.theta_key.val());
        self.v_next.next = self.b_v.q.val();
        if self.fire.val() & self.m_subtract.val() {
            self.v_next.next = self.b_v.q.val() - self.theta.val();
        }
        if self.fire.val() & self.m_zero.val() {
            self.v_next.next = self.v_zero.val();
        }
        self.c_valid.next = self.b_valid.q.val();
        self.pipe_busy.next = self.a_valid.q.val() | self.b_valid.q.val();
        self.v_we.next = self.live.val();
        // `I` changes in the sweep only when it leaks.
        self.i_we.next = self.live.val() & self.m_i_leak.val();
        self.i_next.next = self.b_i.q.val();
        self.f_we.next =
            (self.fire.val() & self.m_once.val()) | (self.live.val() & self.m_next.val());
        self.f_next.next = self.fire.val();
        self.spike.next = self.fire.val();
    }
}
