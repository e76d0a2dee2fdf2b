//! `host_port`: the host side of the accelerator. Decodes configuration
//! writes to the global registers, holds the output spike register
//! (valid/ready), and fixes the host address map that the cores decode for
//! their own registers and SRAM images.
//!
//! Address map of a write (`cfg_we` for one cycle, `cfg_core`, `cfg_region`,
//! `cfg_index`, `cfg_data`): region 0 = core registers (`REG_*`), region 1 =
//! pointer SRAM word `cfg_index`, region 2 = weight SRAM word `cfg_index`,
//! region 3 = global registers (`GLOBAL_*`, `cfg_core` ignored). SRAM words
//! are the packed `PointerEntry` / `WeightEntry` of `onespike_compiler::layout`.

use rust_hdl::prelude::*;

/// Width of `cfg_core` and `vread_core` (at most 256 cores).
pub const CFG_CORE_BITS: usize = 8;
/// Width of `cfg_index` (weight SRAMs up to 2^20 words).
pub const CFG_INDEX_BITS: usize = 20;
/// Width of `cfg_data` (membrane up to 40 bits).
pub const CFG_DATA_BITS: usize = 64;

pub const REGION_REGISTER: u64 = 0;
pub const REGION_POINTER: u64 = 1;
pub const REGION_WEIGHT: u64 = 2;
pub const REGION_GLOBAL: u64 = 3;

/// Core register: firing threshold (two's complement, membrane width).
pub const REG_THRESHOLD: u64 = 0;
/// Core register: neurons in use (`0..=neurons_per_core`).
pub const REG_NEURONS: u64 = 1;
/// Core register: first source id of the listen window.
pub const REG_LISTEN_BASE: u64 = 2;
/// Core register: one past the last source id of the listen window.
pub const REG_LISTEN_END: u64 = 3;
/// Core register: bit 0 = this core holds output neurons.
pub const REG_OUTPUT: u64 = 4;

/// Global register: number of time steps `T` (`1..=2^step_bits`).
pub const GLOBAL_TIME_STEPS: u64 = 0;
/// Global register: bit 0 = early exit, bit 1 = every spike on the output
/// stream (otherwise only spikes of output cores).
pub const GLOBAL_FLAGS: u64 = 1;
pub const FLAG_EARLY_EXIT: u64 = 1;
pub const FLAG_ALL_SPIKES: u64 = 2;

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
                self.early.d.next = self.cfg_data.val().get_bit(0);
                self.all.d.next = self.cfg_data.val().get_bit(1);
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
