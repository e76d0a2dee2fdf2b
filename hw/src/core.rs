//! `core`: one integrate-and-fire core (tile). Holds the neuron state
//! memories (`I`, `V`, fired flag), the pointer SRAM `(base, count)` indexed
//! by the source's offset in the core's listen window, the weight SRAM of
//! `(target, weight)` entries, its event FIFO and its spike queue.
//!
//! The arithmetic is `docs/semantics.md` ("The neuron") exactly: `I = sat(I + w)` per synapse,
//! and in the integrate phase, for each neuron in use, the update of the
//! layer's neuron model (leaks, spike, reset), computed by the
//! [`NeuronUnit`] block. Field offsets of the SRAM words and of the
//! neuron-mode register come from `onespike_compiler::layout`, register
//! addresses from `onespike_compiler::regs`; no literal bit offset appears
//! here.
//!
//! Two listen windows: `listen_base..listen_end` (pointer address
//! `src - listen_base`) and `rec_base..rec_end` (pointer address
//! `src - rec_base + rec_pointer`, the recurrent window). The event FIFO
//! stores the source id and one bit for "second window", set at push;
//! the pointer address is formed at pop. With at most 4 cores the window
//! test is not done here: the bus carries each event's route word
//! (`docs/hw.md`, "Route bits"), which the spike queue stores beside each
//! spike, and the core reads its own two bits.
//!
//! Cycle behaviour (see `docs/hw.md` for the full table):
//! - clear: `N` cycles (every state word, all `neurons_per_core` of them);
//! - integrate: one neuron per cycle, `n` cycles plus two pipeline cycles
//!   (a disabled fire-once neuron is visited but not written; the leak of
//!   `I` is written back in the same sweep, through `I`'s write port, which
//!   no synapse uses during integrate);
//! - deliver: an event with `k >= 1` synapses costs `k` cycles, an event
//!   with none costs one cycle; the pointer read of the next event overlaps
//!   the last weight read of the current one; `I` is written two cycles after
//!   its weight read (a one-entry forward covers back-to-back same targets).

use crate::event_fifo::EventFifo;
use crate::neuron::{NeuronUnit, MODE_BITS};
use crate::spram::SpRam;
use crate::{k, ones};
use onespike_compiler::layout::{PointerEntry, WeightEntry};
use onespike_compiler::params::ROUTE_BITS;
use onespike_compiler::regs::{
    CFG_CORE_BITS, CFG_DATA_BITS, CFG_INDEX_BITS, REGION_POINTER, REGION_REGISTER, REGION_WEIGHT,
    REG_LISTEN_BASE, REG_LISTEN_END, REG_NEURONS, REG_NEURON_MODE, REG_OUTPUT, REG_REC_BASE,
    REG_REC_END, REG_REC_POINTER, REG_THRESHOLD,
};
use onespike_compiler::HwParams;
use rust_hdl::prelude::*;

/// Bit of the route word that says "in core `index`'s first (`window` 0)
/// or second (1) window"; 0 when spikes carry no route bits.
pub fn route_bit(p: &HwParams, index: u32, window: u32) -> u64 {
    if p.routed() {
        (2 * index + window) as u64
    } else {
        0
    }
}

#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum CoreState {
    Idle,
    Clear,
    Integ,
    First,
    Stream,
}

/// One core. Const parameters are the widths of `HwParams` (checked against
/// them in [`Core::new`]): `NB` neuron bits, `CB = NB + 1`, `PAB` pointer
/// address bits, `WAB` weight address bits, `WB` weight bits, `IB` current
/// bits, `VB` membrane bits, `SRCB` source bits, `SRCB1 = SRCB + 1`, `FB`
/// FIFO address bits, `FB1 = FB + 1`, `PW`/`WW` pointer/weight word widths.
#[derive(LogicBlock)]
pub struct Core<
    const NB: usize,
    const CB: usize,
    const PAB: usize,
    const WAB: usize,
    const WB: usize,
    const IB: usize,
    const VB: usize,
    const SRCB: usize,
    const SRCB1: usize,
    const FB: usize,
    const FB1: usize,
    const PW: usize,
    const WW: usize,
> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // From the step controller.
    pub cmd_clear: Signal<In, Bit>,
    pub cmd_integrate: Signal<In, Bit>,
    pub deliver_en: Signal<In, Bit>,
    /// Clear, integrate or a deliver pipeline is in progress.
    pub busy: Signal<Out, Bit>,
    /// Not busy, event FIFO and spike queue empty.
    pub drained: Signal<Out, Bit>,
    // From the host port.
    pub cfg_we: Signal<In, Bit>,
    pub cfg_core: Signal<In, Bits<CFG_CORE_BITS>>,
    pub cfg_region: Signal<In, Bits<2>>,
    pub cfg_index: Signal<In, Bits<CFG_INDEX_BITS>>,
    pub cfg_data: Signal<In, Bits<CFG_DATA_BITS>>,
    pub vread_core: Signal<In, Bits<CFG_CORE_BITS>>,
    pub vread_addr: Signal<In, Bits<NB>>,
    /// `V` of the neuron addressed one cycle earlier, zero unless this core was addressed.
    pub vread_data: Signal<Out, Bits<VB>>,
    // From/to the router.
    /// An event is on the bus (`bus_source`).
    pub bus_valid: Signal<In, Bit>,
    pub bus_source: Signal<In, Bits<SRCB>>,
    /// The bus transfers this cycle: every accepting core pushes.
    pub bus_go: Signal<In, Bit>,
    /// `bus_source` lies in this core's listen window.
    pub accepts: Signal<Out, Bit>,
    /// This core's event FIFO is full: the bus waits (whatever the event's
    /// destination — a register-only condition, kept off the long path).
    pub blocks: Signal<Out, Bit>,
    /// Priority chain: a lower-numbered source already holds the bus.
    pub prio_in: Signal<In, Bit>,
    pub prio_out: Signal<Out, Bit>,
    /// This core's spike is the bus event of this cycle.
    pub granted: Signal<Out, Bit>,
    pub spike_source: Signal<Out, Bits<SRCB>>,
    /// Route bits (`docs/hw.md`, "Route bits"), used when the accelerator
    /// has at most `ROUTE_BITS_MAX_CORES` cores: the route word of the bus
    /// event (bit `2 i` / `2 i + 1`: in core `i`'s first / second window),
    /// which replaces this core's window compare.
    pub bus_route: Signal<In, Bits<ROUTE_BITS>>,
    /// The route word of the spike pushed this cycle (`push_source`'s
    /// windows, from the router), stored beside it in the spike queue.
    pub push_route: Signal<In, Bits<ROUTE_BITS>>,
    /// Source id of the neuron the integrate pipeline may push this cycle.
    pub push_source: Signal<Out, Bits<SRCB1>>,
    /// The route word of the spike at the head of the queue.
    pub head_route: Signal<Out, Bits<ROUTE_BITS>>,
    /// The listen windows (registers, static while running), for the
    /// router's route words.
    pub win_first_lo: Signal<Out, Bits<SRCB1>>,
    pub win_first_hi: Signal<Out, Bits<SRCB1>>,
    pub win_second_lo: Signal<Out, Bits<SRCB1>>,
    pub win_second_hi: Signal<Out, Bits<SRCB1>>,
    pub is_output: Signal<Out, Bit>,
    /// An output-flagged core fired a neuron this cycle.
    pub output_fired: Signal<Out, Bit>,
    // Children.
    fifo: EventFifo<SRCB1, FB, FB1>,
    spikes: EventFifo<NB, NB, CB>,
    /// The spike queue's route words, pushed and popped with `spikes`.
    routes: EventFifo<ROUTE_BITS, NB, CB>,
    ptr_ram: RAM<Bits<PW>, PAB>,
    wgt_ram: SpRam<Bits<WW>, WAB>,
    i_ram: RAM<Bits<IB>, NB>,
    v_ram: RAM<Bits<VB>, NB>,
    f_ram: RAM<Bit, NB>,
    neuron: NeuronUnit<IB, VB>,
    // Registers.
    state: DFF<CoreState>,
    threshold: DFF<Bits<VB>>,
    n_neurons: DFF<Bits<CB>>,
    listen_base: DFF<Bits<SRCB1>>,
    listen_end: DFF<Bits<SRCB1>>,
    output_flag: DFF<Bit>,
    neuron_mode: DFF<Bits<MODE_BITS>>,
    rec_base: DFF<Bits<SRCB1>>,
    rec_end: DFF<Bits<SRCB1>>,
    rec_pointer: DFF<Bits<PAB>>,
    /// `rec_base - rec_pointer` (modulo `2^SRCB1`), registered.
    rec_off: DFF<Bits<SRCB1>>,
    ctr: DFF<Bits<CB>>,
    waddr: DFF<Bits<WAB>>,
    rem: DFF<Bits<CB>>,
    int_valid: DFF<Bit>,
    int_addr: DFF<Bits<NB>>,
    int2_addr: DFF<Bits<NB>>,
    int3_addr: DFF<Bits<NB>>,
    s1_valid: DFF<Bit>,
    s2_valid: DFF<Bit>,
    s2_target: DFF<Bits<NB>>,
    s2_weight: DFF<Bits<WB>>,
    fw_valid: DFF<Bit>,
    fw_target: DFF<Bits<NB>>,
    fw_value: DFF<Bits<IB>>,
    vread_sel: DFF<Bit>,
    // Combinational temporaries.
    sel: Signal<Local, Bit>,
    ctr_next: Signal<Local, Bits<CB>>,
    bus_ext: Signal<Local, Bits<SRCB1>>,
    in_first: Signal<Local, Bit>,
    in_second: Signal<Local, Bit>,
    head_second: Signal<Local, Bit>,
    head_src: Signal<Local, Bits<SRCB1>>,
    head_sub: Signal<Local, Bits<SRCB1>>,
    head_off: Signal<Local, Bits<SRCB1>>,
    p_base: Signal<Local, Bits<WAB>>,
    p_count: Signal<Local, Bits<CB>>,
    w_target: Signal<Local, Bits<NB>>,
    can_take: Signal<Local, Bit>,
    ending: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    w_issue: Signal<Local, Bit>,
    w_neg: Signal<Local, Bit>,
    w_ext: Signal<Local, Bits<IB>>,
    i_old: Signal<Local, Bits<IB>>,
    i_old_neg: Signal<Local, Bit>,
    i_sum: Signal<Local, Bits<IB>>,
    i_sum_neg: Signal<Local, Bit>,
    i_new: Signal<Local, Bits<IB>>,
    // Constants.
    my_index: Constant<Bits<CFG_CORE_BITS>>,
    id_base: Constant<Bits<SRCB>>,
    region_reg: Constant<Bits<2>>,
    region_ptr: Constant<Bits<2>>,
    region_wgt: Constant<Bits<2>>,
    reg_threshold: Constant<Bits<CFG_INDEX_BITS>>,
    reg_neurons: Constant<Bits<CFG_INDEX_BITS>>,
    reg_listen_base: Constant<Bits<CFG_INDEX_BITS>>,
    reg_listen_end: Constant<Bits<CFG_INDEX_BITS>>,
    reg_output: Constant<Bits<CFG_INDEX_BITS>>,
    reg_neuron_mode: Constant<Bits<CFG_INDEX_BITS>>,
    reg_rec_base: Constant<Bits<CFG_INDEX_BITS>>,
    reg_rec_end: Constant<Bits<CFG_INDEX_BITS>>,
    reg_rec_pointer: Constant<Bits<CFG_INDEX_BITS>>,
    src_msb: Constant<Bits<SRCB1>>,
    /// The accelerator routes by route bits; this core's two bits.
    routed: Constant<Bit>,
    route_first_bit: Constant<Bits<8>>,
    route_second_bit: Constant<Bits<8>>,
    src_mask: Constant<Bits<SRCB1>>,
    ptr_base_lsb: Constant<Bits<8>>,
    ptr_count_lsb: Constant<Bits<8>>,
    wgt_target_lsb: Constant<Bits<8>>,
    wgt_weight_lsb: Constant<Bits<8>>,
    cb_zero: Constant<Bits<CB>>,
    cb_one: Constant<Bits<CB>>,
    cb_last: Constant<Bits<CB>>,
    wab_one: Constant<Bits<WAB>>,
    w_sign: Constant<Bits<WB>>,
    w_to_i_ext: Constant<Bits<IB>>,
    i_sign: Constant<Bits<IB>>,
    i_max: Constant<Bits<IB>>,
    i_min: Constant<Bits<IB>>,
    i_zero: Constant<Bits<IB>>,
    v_zero: Constant<Bits<VB>>,
}

impl<
        const NB: usize,
        const CB: usize,
        const PAB: usize,
        const WAB: usize,
        const WB: usize,
        const IB: usize,
        const VB: usize,
        const SRCB: usize,
        const SRCB1: usize,
        const FB: usize,
        const FB1: usize,
        const PW: usize,
        const WW: usize,
    > Core<NB, CB, PAB, WAB, WB, IB, VB, SRCB, SRCB1, FB, FB1, PW, WW>
{
    /// The route word the router would give `src` if this core (number
    /// `index` of an accelerator for `p`) were the only one: its two window
    /// bits, judged from its window outputs. For benches that drive one
    /// core in place of the router.
    pub fn own_route_word(&self, p: &HwParams, index: u32, src: u64) -> u64 {
        if !p.routed() {
            return 0;
        }
        let inside = |lo: &Signal<Out, Bits<SRCB1>>, hi: &Signal<Out, Bits<SRCB1>>| {
            (lo.val().to_u64()..hi.val().to_u64()).contains(&src) as u64
        };
        (inside(&self.win_first_lo, &self.win_first_hi) << route_bit(p, index, 0))
            | (inside(&self.win_second_lo, &self.win_second_hi) << route_bit(p, index, 1))
    }

    /// Core number `index` of an accelerator built for `p`. The widths of
    /// the type must be those of `p` (the config registry guarantees it).
    pub fn new(p: &HwParams, index: u32) -> Self {
        let w = |n: u32| n as usize;
        assert_eq!(NB, w(p.neuron_bits()));
        assert_eq!(CB, w(p.count_bits()));
        assert_eq!(PAB, w(p.pointer_addr_bits()));
        assert_eq!(WAB, w(p.weight_addr_bits()));
        assert_eq!(WB, w(p.weight_bits));
        assert_eq!(IB, w(p.current_bits));
        assert_eq!(VB, w(p.membrane_bits));
        assert_eq!(SRCB, w(p.source_bits()));
        assert_eq!(SRCB1, SRCB + 1);
        assert_eq!(FB, w(p.fifo_depth.trailing_zeros()));
        assert_eq!(FB1, FB + 1);
        // The second window's pointer address is formed modulo 2^SRCB1.
        assert!(PAB <= SRCB1);
        let pl = PointerEntry::layout(p);
        let wl = WeightEntry::layout(p);
        assert_eq!(PW, w(pl.width()));
        assert_eq!(WW, w(wl.width()));
        Self {
            clock: Default::default(),
            reset: Default::default(),
            cmd_clear: Default::default(),
            cmd_integrate: Default::default(),
            deliver_en: Default::default(),
            busy: Default::default(),
            drained: Default::default(),
            cfg_we: Default::default(),
            cfg_core: Default::default(),
            cfg_region: Default::default(),
            cfg_index: Default::default(),
            cfg_data: Default::default(),
            vread_core: Default::default(),
            vread_addr: Default::default(),
            vread_data: Default::default(),
            bus_valid: Default::default(),
            bus_source: Default::default(),
            bus_go: Default::default(),
            accepts: Default::default(),
            blocks: Default::default(),
            prio_in: Default::default(),
            prio_out: Default::default(),
            granted: Default::default(),
            spike_source: Default::default(),
            bus_route: Default::default(),
            push_route: Default::default(),
            push_source: Default::default(),
            head_route: Default::default(),
            win_first_lo: Default::default(),
            win_first_hi: Default::default(),
            win_second_lo: Default::default(),
            win_second_hi: Default::default(),
            is_output: Default::default(),
            output_fired: Default::default(),
            fifo: Default::default(),
            spikes: Default::default(),
            routes: Default::default(),
            ptr_ram: Default::default(),
            wgt_ram: Default::default(),
            i_ram: Default::default(),
            v_ram: Default::default(),
            f_ram: Default::default(),
            neuron: Default::default(),
            state: Default::default(),
            threshold: Default::default(),
            n_neurons: Default::default(),
            listen_base: Default::default(),
            listen_end: Default::default(),
            output_flag: Default::default(),
            neuron_mode: Default::default(),
            rec_base: Default::default(),
            rec_end: Default::default(),
            rec_pointer: Default::default(),
            rec_off: Default::default(),
            ctr: Default::default(),
            waddr: Default::default(),
            rem: Default::default(),
            int_valid: Default::default(),
            int_addr: Default::default(),
            int2_addr: Default::default(),
            int3_addr: Default::default(),
            s1_valid: Default::default(),
            s2_valid: Default::default(),
            s2_target: Default::default(),
            s2_weight: Default::default(),
            fw_valid: Default::default(),
            fw_target: Default::default(),
            fw_value: Default::default(),
            vread_sel: Default::default(),
            sel: Default::default(),
            ctr_next: Default::default(),
            bus_ext: Default::default(),
            in_first: Default::default(),
            in_second: Default::default(),
            head_second: Default::default(),
            head_src: Default::default(),
            head_sub: Default::default(),
            head_off: Default::default(),
            p_base: Default::default(),
            p_count: Default::default(),
            w_target: Default::default(),
            can_take: Default::default(),
            ending: Default::default(),
            take: Default::default(),
            w_issue: Default::default(),
            w_neg: Default::default(),
            w_ext: Default::default(),
            i_old: Default::default(),
            i_old_neg: Default::default(),
            i_sum: Default::default(),
            i_sum_neg: Default::default(),
            i_new: Default::default(),
            my_index: k(index as u64),
            id_base: k(p.neuron_source_id(index, 0) as u64),
            region_reg: k(REGION_REGISTER),
            region_ptr: k(REGION_POINTER),
            region_wgt: k(REGION_WEIGHT),
            reg_threshold: k(REG_THRESHOLD),
            reg_neurons: k(REG_NEURONS),
            reg_listen_base: k(REG_LISTEN_BASE),
            reg_listen_end: k(REG_LISTEN_END),
            reg_output: k(REG_OUTPUT),
            reg_neuron_mode: k(REG_NEURON_MODE),
            reg_rec_base: k(REG_REC_BASE),
            reg_rec_end: k(REG_REC_END),
            reg_rec_pointer: k(REG_REC_POINTER),
            src_msb: k(1 << SRCB),
            routed: Constant::new(p.routed()),
            route_first_bit: k(route_bit(p, index, 0)),
            route_second_bit: k(route_bit(p, index, 1)),
            src_mask: k(ones(SRCB)),
            ptr_base_lsb: k(pl.field("base").lsb as u64),
            ptr_count_lsb: k(pl.field("count").lsb as u64),
            wgt_target_lsb: k(wl.field("target").lsb as u64),
            wgt_weight_lsb: k(wl.field("weight").lsb as u64),
            cb_zero: k(0),
            cb_one: k(1),
            cb_last: k(p.neurons_per_core as u64 - 1),
            wab_one: k(1),
            w_sign: k(1 << (WB - 1)),
            w_to_i_ext: k(ones(IB) & !ones(WB)),
            i_sign: k(1 << (IB - 1)),
            i_max: k(ones(IB - 1)),
            i_min: k(1 << (IB - 1)),
            i_zero: k(0),
            v_zero: k(0),
        }
    }
}

impl<
        const NB: usize,
        const CB: usize,
        const PAB: usize,
        const WAB: usize,
        const WB: usize,
        const IB: usize,
        const VB: usize,
        const SRCB: usize,
        const SRCB1: usize,
        const FB: usize,
        const FB1: usize,
        const PW: usize,
        const WW: usize,
    > Logic for Core<NB, CB, PAB, WAB, WB, IB, VB, SRCB, SRCB1, FB, FB1, PW, WW>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            state,
            threshold,
            n_neurons,
            listen_base,
            listen_end,
            output_flag,
            neuron_mode,
            rec_base,
            rec_end,
            rec_pointer,
            rec_off,
            ctr,
            waddr,
            rem,
            int_valid,
            int_addr,
            int2_addr,
            int3_addr,
            s1_valid,
            s2_valid,
            s2_target,
            s2_weight,
            fw_valid,
            fw_target,
            fw_value,
            vread_sel
        );
        self.fifo.clock.next = self.clock.val();
        self.spikes.clock.next = self.clock.val();
        self.neuron.clock.next = self.clock.val();
        self.ptr_ram.read_clock.next = self.clock.val();
        self.ptr_ram.write_clock.next = self.clock.val();
        self.wgt_ram.clock.next = self.clock.val();
        self.i_ram.read_clock.next = self.clock.val();
        self.i_ram.write_clock.next = self.clock.val();
        self.v_ram.read_clock.next = self.clock.val();
        self.v_ram.write_clock.next = self.clock.val();
        self.f_ram.read_clock.next = self.clock.val();
        self.f_ram.write_clock.next = self.clock.val();

        // ---- Host port: registers and SRAM images -------------------------
        self.sel.next = self.cfg_we.val() & (self.cfg_core.val() == self.my_index.val());
        self.ptr_ram.write_address.next = bit_cast::<PAB, CFG_INDEX_BITS>(self.cfg_index.val());
        self.ptr_ram.write_data.next = bit_cast::<PW, CFG_DATA_BITS>(self.cfg_data.val());
        self.ptr_ram.write_enable.next =
            self.sel.val() & (self.cfg_region.val() == self.region_ptr.val());
        self.wgt_ram.write_data.next = bit_cast::<WW, CFG_DATA_BITS>(self.cfg_data.val());
        self.wgt_ram.write_enable.next =
            self.sel.val() & (self.cfg_region.val() == self.region_wgt.val());
        if self.sel.val() & (self.cfg_region.val() == self.region_reg.val()) {
            if self.cfg_index.val() == self.reg_threshold.val() {
                self.threshold.d.next = bit_cast::<VB, CFG_DATA_BITS>(self.cfg_data.val());
            }
            if self.cfg_index.val() == self.reg_neurons.val() {
                self.n_neurons.d.next = bit_cast::<CB, CFG_DATA_BITS>(self.cfg_data.val());
            }
            if self.cfg_index.val() == self.reg_listen_base.val() {
                self.listen_base.d.next = bit_cast::<SRCB1, CFG_DATA_BITS>(self.cfg_data.val());
            }
            if self.cfg_index.val() == self.reg_listen_end.val() {
                self.listen_end.d.next = bit_cast::<SRCB1, CFG_DATA_BITS>(self.cfg_data.val());
            }
            if self.cfg_index.val() == self.reg_output.val() {
                self.output_flag.d.next = self.cfg_data.val().get_bit(0);
            }
            if self.cfg_index.val() == self.reg_neuron_mode.val() {
                self.neuron_mode.d.next = bit_cast::<MODE_BITS, CFG_DATA_BITS>(self.cfg_data.val());
            }
            if self.cfg_index.val() == self.reg_rec_base.val() {
                self.rec_base.d.next = bit_cast::<SRCB1, CFG_DATA_BITS>(self.cfg_data.val());
            }
            if self.cfg_index.val() == self.reg_rec_end.val() {
                self.rec_end.d.next = bit_cast::<SRCB1, CFG_DATA_BITS>(self.cfg_data.val());
            }
            if self.cfg_index.val() == self.reg_rec_pointer.val() {
                self.rec_pointer.d.next = bit_cast::<PAB, CFG_DATA_BITS>(self.cfg_data.val());
            }
        }
        self.rec_off.d.next =
            self.rec_base.q.val() - bit_cast::<SRCB1, PAB>(self.rec_pointer.q.val());
        self.is_output.next = self.output_flag.q.val();

        // ---- Router side: window test, event FIFO, spike queue ------------
        self.bus_ext.next = bit_cast::<SRCB1, SRCB>(self.bus_source.val());
        if self.routed.val() {
            self.in_first.next = self
                .bus_route
                .val()
                .get_bit(self.route_first_bit.val().index());
            self.in_second.next = self
                .bus_route
                .val()
                .get_bit(self.route_second_bit.val().index());
        } else {
            self.in_first.next = (self.bus_ext.val() >= self.listen_base.q.val())
                & (self.bus_ext.val() < self.listen_end.q.val());
            self.in_second.next = (self.bus_ext.val() >= self.rec_base.q.val())
                & (self.bus_ext.val() < self.rec_end.q.val());
        }
        self.win_first_lo.next = self.listen_base.q.val();
        self.win_first_hi.next = self.listen_end.q.val();
        self.win_second_lo.next = self.rec_base.q.val();
        self.win_second_hi.next = self.rec_end.q.val();
        self.accepts.next = self.in_first.val() | self.in_second.val();
        self.fifo.clear.next = self.reset.val() | self.cmd_clear.val();
        self.fifo.push.next = self.bus_go.val() & self.accepts.val();
        // FIFO word: the source id, and above it the "second window" bit.
        self.fifo.push_data.next = self.bus_ext.val();
        if !self.in_first.val() {
            self.fifo.push_data.next = self.bus_ext.val() | self.src_msb.val();
        }
        self.blocks.next = self.fifo.full.val();
        self.spikes.clear.next = self.reset.val() | self.cmd_clear.val();
        self.granted.next = self.spikes.valid.val() & !self.prio_in.val();
        self.prio_out.next = self.prio_in.val() | self.spikes.valid.val();
        self.spikes.pop.next = self.granted.val() & self.bus_go.val();
        self.routes.clock.next = self.clock.val();
        self.routes.clear.next = self.reset.val() | self.cmd_clear.val();
        self.routes.pop.next = self.granted.val() & self.bus_go.val();
        self.head_route.next = self.routes.data.val();
        self.spike_source.next = self.id_base.val() + bit_cast::<SRCB, NB>(self.spikes.data.val());

        // ---- Memory port defaults -----------------------------------------
        self.ctr_next.next = self.ctr.q.val() + self.cb_one.val();
        self.head_second.next = (self.fifo.data.val() & self.src_msb.val()).any();
        self.head_src.next = self.fifo.data.val() & self.src_mask.val();
        self.head_sub.next = self.listen_base.q.val();
        if self.head_second.val() {
            self.head_sub.next = self.rec_off.q.val();
        }
        self.head_off.next = self.head_src.val() - self.head_sub.val();
        self.ptr_ram.read_address.next = bit_cast::<PAB, SRCB1>(self.head_off.val());
        self.p_base.next = self
            .ptr_ram
            .read_data
            .val()
            .get_bits::<WAB>(self.ptr_base_lsb.val().index());
        self.p_count.next = self
            .ptr_ram
            .read_data
            .val()
            .get_bits::<CB>(self.ptr_count_lsb.val().index());
        // The weight SRAM has one port (`SpRam`): the synapse walk's address
        // here and in `First`, the host's write address (below, last) while
        // it loads the image, which it does only while the core is idle.
        self.wgt_ram.address.next = self.waddr.q.val();
        self.w_target.next = self
            .wgt_ram
            .read_data
            .val()
            .get_bits::<NB>(self.wgt_target_lsb.val().index());
        self.i_ram.read_address.next = bit_cast::<NB, CB>(self.ctr.q.val());
        if self.s1_valid.q.val() {
            self.i_ram.read_address.next = self.w_target.val();
        }
        self.v_ram.read_address.next = self.vread_addr.val();
        self.f_ram.read_address.next = bit_cast::<NB, CB>(self.ctr.q.val());
        self.i_ram.write_enable.next = false;
        self.i_ram.write_address.next = self.s2_target.q.val();
        self.i_ram.write_data.next = self.i_zero.val();
        self.v_ram.write_enable.next = false;
        self.v_ram.write_address.next = self.int3_addr.q.val();
        self.v_ram.write_data.next = self.v_zero.val();
        self.f_ram.write_enable.next = false;
        self.f_ram.write_address.next = self.int3_addr.q.val();
        self.f_ram.write_data.next = true;
        self.vread_sel.d.next = self.vread_core.val() == self.my_index.val();
        self.vread_data.next = self.v_zero.val();
        if self.vread_sel.q.val() {
            self.vread_data.next = self.v_ram.read_data.val();
        }

        // ---- Control --------------------------------------------------------
        self.int_valid.d.next = false;
        self.s1_valid.d.next = false;
        self.s2_valid.d.next = self.s1_valid.q.val();
        self.s2_target.d.next = self.w_target.val();
        self.s2_weight.d.next = self
            .wgt_ram
            .read_data
            .val()
            .get_bits::<WB>(self.wgt_weight_lsb.val().index());
        self.fw_valid.d.next = false;
        self.can_take.next = false;
        self.ending.next = false;
        self.w_issue.next = false;
        match self.state.q.val() {
            CoreState::Idle => {
                if self.cmd_clear.val() {
                    self.state.d.next = CoreState::Clear;
                    self.ctr.d.next = self.cb_zero.val();
                } else if self.cmd_integrate.val() {
                    // Neuron 0 is read in the command cycle (the neuron
                    // pipeline has three stages after the read).
                    self.state.d.next = CoreState::Integ;
                    self.ctr.d.next = self.cb_one.val();
                    self.v_ram.read_address.next = bit_cast::<NB, CB>(self.cb_zero.val());
                    self.i_ram.read_address.next = bit_cast::<NB, CB>(self.cb_zero.val());
                    self.f_ram.read_address.next = bit_cast::<NB, CB>(self.cb_zero.val());
                    if self.cb_zero.val() < self.n_neurons.q.val() {
                        self.int_valid.d.next = true;
                        self.int_addr.d.next = bit_cast::<NB, CB>(self.cb_zero.val());
                    }
                } else {
                    self.can_take.next = true;
                }
            }
            CoreState::Clear => {
                // Zero I, V and fired of local neuron `ctr`.
                self.i_ram.write_enable.next = true;
                self.i_ram.write_address.next = bit_cast::<NB, CB>(self.ctr.q.val());
                self.i_ram.write_data.next = self.i_zero.val();
                self.v_ram.write_enable.next = true;
                self.v_ram.write_address.next = bit_cast::<NB, CB>(self.ctr.q.val());
                self.v_ram.write_data.next = self.v_zero.val();
                self.f_ram.write_enable.next = true;
                self.f_ram.write_address.next = bit_cast::<NB, CB>(self.ctr.q.val());
                self.f_ram.write_data.next = false;
                self.ctr.d.next = self.ctr_next.val();
                if self.ctr.q.val() == self.cb_last.val() {
                    self.state.d.next = CoreState::Idle;
                }
            }
            CoreState::Integ => {
                // Issue the reads of neuron `ctr` (1, 2, ...); its update is
                // written three cycles later.
                self.v_ram.read_address.next = bit_cast::<NB, CB>(self.ctr.q.val());
                if self.ctr.q.val() < self.n_neurons.q.val() {
                    self.int_valid.d.next = true;
                    self.int_addr.d.next = bit_cast::<NB, CB>(self.ctr.q.val());
                    self.ctr.d.next = self.ctr_next.val();
                    if self.ctr_next.val() == self.n_neurons.q.val() {
                        self.state.d.next = CoreState::Idle;
                    }
                } else {
                    self.state.d.next = CoreState::Idle;
                }
            }
            CoreState::First => {
                // Pointer entry of the event popped last cycle.
                if self.p_count.val() == self.cb_zero.val() {
                    self.ending.next = true;
                } else {
                    self.w_issue.next = true;
                    self.wgt_ram.address.next = self.p_base.val();
                    self.waddr.d.next = self.p_base.val() + self.wab_one.val();
                    self.rem.d.next = self.p_count.val() - self.cb_one.val();
                    if self.p_count.val() == self.cb_one.val() {
                        self.ending.next = true;
                    } else {
                        self.state.d.next = CoreState::Stream;
                    }
                }
            }
            CoreState::Stream => {
                self.w_issue.next = true;
                self.waddr.d.next = self.waddr.q.val() + self.wab_one.val();
                self.rem.d.next = self.rem.q.val() - self.cb_one.val();
                if self.rem.q.val() == self.cb_one.val() {
                    self.ending.next = true;
                }
            }
            _ => {
                self.state.d.next = CoreState::Idle;
            }
        }
        // Take the next event (pointer read issued now, entry seen in First).
        self.take.next = (self.can_take.val() | self.ending.val())
            & self.deliver_en.val()
            & self.fifo.valid.val();
        self.fifo.pop.next = self.take.val();
        if self.take.val() {
            self.state.d.next = CoreState::First;
        } else if self.ending.val() {
            self.state.d.next = CoreState::Idle;
        }
        self.s1_valid.d.next = self.w_issue.val();

        // ---- Synapse: I = sat(I + w) ------------------------------------------
        self.w_neg.next = (self.s2_weight.q.val() & self.w_sign.val()).any();
        self.w_ext.next = bit_cast::<IB, WB>(self.s2_weight.q.val());
        if self.w_neg.val() {
            self.w_ext.next = bit_cast::<IB, WB>(self.s2_weight.q.val()) | self.w_to_i_ext.val();
        }
        self.i_old.next = self.i_ram.read_data.val();
        if self.fw_valid.q.val() & (self.fw_target.q.val() == self.s2_target.q.val()) {
            self.i_old.next = self.fw_value.q.val();
        }
        self.i_old_neg.next = (self.i_old.val() & self.i_sign.val()).any();
        self.i_sum.next = self.i_old.val() + self.w_ext.val();
        self.i_sum_neg.next = (self.i_sum.val() & self.i_sign.val()).any();
        self.i_new.next = self.i_sum.val();
        if (self.w_neg.val() == self.i_old_neg.val())
            & (self.i_sum_neg.val() != self.i_old_neg.val())
        {
            if self.i_old_neg.val() {
                self.i_new.next = self.i_min.val();
            } else {
                self.i_new.next = self.i_max.val();
            }
        }
        // The integrate sweep writes the leaked current back (never in the
        // same cycle as a synapse: deliveries only run outside integrate).
        if self.neuron.i_we.val() {
            self.i_ram.write_enable.next = true;
            self.i_ram.write_address.next = self.int3_addr.q.val();
            self.i_ram.write_data.next = self.neuron.i_next.val();
        }
        if self.s2_valid.q.val() {
            self.i_ram.write_enable.next = true;
            self.i_ram.write_address.next = self.s2_target.q.val();
            self.i_ram.write_data.next = self.i_new.val();
            self.fw_valid.d.next = true;
            self.fw_target.d.next = self.s2_target.q.val();
            self.fw_value.d.next = self.i_new.val();
        }

        // ---- Integrate: the neuron update (NeuronUnit, two stages) -----------
        self.neuron.flush.next = self.reset.val();
        self.neuron.valid.next = self.int_valid.q.val();
        self.neuron.v.next = self.v_ram.read_data.val();
        self.neuron.i.next = self.i_ram.read_data.val();
        self.neuron.fired.next = self.f_ram.read_data.val();
        self.neuron.theta.next = self.threshold.q.val();
        self.neuron.mode.next = self.neuron_mode.q.val();
        self.int2_addr.d.next = self.int_addr.q.val();
        self.int3_addr.d.next = self.int2_addr.q.val();
        if self.neuron.v_we.val() {
            self.v_ram.write_enable.next = true;
            self.v_ram.write_data.next = self.neuron.v_next.val();
        }
        if self.neuron.f_we.val() {
            self.f_ram.write_enable.next = true;
            self.f_ram.write_data.next = self.neuron.f_next.val();
        }
        self.spikes.push.next = self.neuron.spike.val();
        self.spikes.push_data.next = self.int3_addr.q.val();
        self.push_source.next = bit_cast::<SRCB1, SRCB>(self.id_base.val())
            + bit_cast::<SRCB1, NB>(self.int3_addr.q.val());
        self.routes.push.next = self.neuron.spike.val();
        self.routes.push_data.next = self.push_route.val();
        self.output_fired.next = self.neuron.spike.val() & self.output_flag.q.val();

        if self.wgt_ram.write_enable.val() {
            self.wgt_ram.address.next = bit_cast::<WAB, CFG_INDEX_BITS>(self.cfg_index.val());
        }

        // ---- Status and reset -------------------------------------------------
        self.busy.next = (self.state.q.val() != CoreState::Idle)
            | self.int_valid.q.val()
            | self.neuron.pipe_busy.val()
            | self.s1_valid.q.val()
            | self.s2_valid.q.val();
        self.drained.next = !self.busy.val() & self.fifo.empty.val() & self.spikes.empty.val();
        if self.reset.val() {
            self.state.d.next = CoreState::Idle;
            self.int_valid.d.next = false;
            self.s1_valid.d.next = false;
            self.s2_valid.d.next = false;
            self.fw_valid.d.next = false;
        }
    }
}
