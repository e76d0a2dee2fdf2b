//! `host_port`: the host side of the accelerator. Decodes configuration
//! writes to the global registers, holds the output spike register
//! (valid/ready) that the step controller waits on before `done`.
//!
//! The address map is the compiler's (`onespike_compiler::regs`, re-exported
//! here): region 0 = core registers (`REG_*`), region 1 = pointer SRAM word
//! `cfg_index`, region 2 = weight SRAM word `cfg_index`, region 3 = global
//! registers (`GLOBAL_*`, `cfg_core` ignored). SRAM words are the packed
//! `PointerEntry` / `WeightEntry`, the flags word is `layout::flags_layout`;
//! no address or bit offset is defined in this crate.

use onespike_compiler::layout::flags_layout;
use rust_hdl::prelude::*;

pub use onespike_compiler::regs::{
    CFG_CORE_BITS, CFG_DATA_BITS, CFG_INDEX_BITS, GLOBAL_FLAGS, GLOBAL_TIME_STEPS, REGION_GLOBAL,
    REGION_POINTER, REGION_REGISTER, REGION_WEIGHT, REG_LISTEN_BASE, REG_LISTEN_END, REG_NEURONS,
    REG_NEURON_MODE, REG_OUTPUT, REG_REC_BASE, REG_REC_END, REG_REC_POINTER, REG_THRESHOLD,
};

/// Global registers and the output spike register. `SB` step bits,
/// `SB1 = SB + 1`, `SRCB` source bits.
#[derive(LogicBlock)]
pub struct HostPort<const SB: usize, const SB1: usize, const SRCB: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub cfg_we: Signal<In, Bit>,
    pub cfg_region: Signal<In, Bits<2>>,
    pub cfg_index: Signal<In, Bits<CFG_INDEX_BITS>>,
    pub cfg_data: Signal<In, Bits<CFG_DATA_BITS>>,
    pub time_steps: Signal<Out, Bits<SB1>>,
    pub early_exit: Signal<Out, Bit>,
    pub all_spikes: Signal<Out, Bit>,
    /// The router hands over a spike this cycle.
    pub out_push: Signal<In, Bit>,
    pub out_push_source: Signal<In, Bits<SRCB>>,
    pub out_push_step: Signal<In, Bits<SB>>,
    /// The output register can take a spike this cycle.
    pub out_free: Signal<Out, Bit>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub out_source: Signal<Out, Bits<SRCB>>,
    pub out_step: Signal<Out, Bits<SB>>,
    ts: DFF<Bits<SB1>>,
    early: DFF<Bit>,
    all: DFF<Bit>,
    ov: DFF<Bit>,
    osrc: DFF<Bits<SRCB>>,
    ostep: DFF<Bits<SB>>,
    region_global: Constant<Bits<2>>,
    idx_steps: Constant<Bits<CFG_INDEX_BITS>>,
    idx_flags: Constant<Bits<CFG_INDEX_BITS>>,
    early_lsb: Constant<Bits<8>>,
    all_lsb: Constant<Bits<8>>,
}

impl<const SB: usize, const SB1: usize, const SRCB: usize> Default for HostPort<SB, SB1, SRCB> {
    fn default() -> Self {
        assert_eq!(SB + 1, SB1);
        Self {
            clock: Default::default(),
            reset: Default::default(),
            cfg_we: Default::default(),
            cfg_region: Default::default(),
            cfg_index: Default::default(),
            cfg_data: Default::default(),
            time_steps: Default::default(),
            early_exit: Default::default(),
            all_spikes: Default::default(),
            out_push: Default::default(),
            out_push_source: Default::default(),
            out_push_step: Default::default(),
            out_free: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            out_source: Default::default(),
            out_step: Default::default(),
            ts: Default::default(),
            early: Default::default(),
            all: Default::default(),
            ov: Default::default(),
            osrc: Default::default(),
            ostep: Default::default(),
            region_global: Constant::new(REGION_GLOBAL.into()),
            idx_steps: Constant::new(GLOBAL_TIME_STEPS.into()),
            idx_flags: Constant::new(GLOBAL_FLAGS.into()),
            early_lsb: Constant::new((flags_layout().field("early_exit").lsb as u64).into()),
            all_lsb: Constant::new((flags_layout().field("all_spikes").lsb as u64).into()),
        }
    }
}

impl<const SB: usize, const SB1: usize, const SRCB: usize> Logic for HostPort<SB, SB1, SRCB> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, ts, early, all, ov, osrc, ostep);
        if self.cfg_we.val() & (self.cfg_region.val() == self.region_global.val()) {
            if self.cfg_index.val() == self.idx_steps.val() {
                self.ts.d.next = bit_cast::<SB1, CFG_DATA_BITS>(self.cfg_data.val());
            }
            if self.cfg_index.val() == self.idx_flags.val() {
                self.early.d.next = self.cfg_data.val().get_bit(self.early_lsb.val().index());
                self.all.d.next = self.cfg_data.val().get_bit(self.all_lsb.val().index());
            }
        }
        self.time_steps.next = self.ts.q.val();
        self.early_exit.next = self.early.q.val();
        self.all_spikes.next = self.all.q.val();
        self.out_free.next = !self.ov.q.val() | self.out_ready.val();
        if self.out_push.val() {
            self.ov.d.next = true;
            self.osrc.d.next = self.out_push_source.val();
            self.ostep.d.next = self.out_push_step.val();
        } else if self.out_ready.val() {
            self.ov.d.next = false;
        }
        if self.reset.val() {
            self.ov.d.next = false;
        }
        self.out_valid.next = self.ov.q.val();
        self.out_source.next = self.osrc.q.val();
        self.out_step.next = self.ostep.q.val();
    }
}
