//! The rust-hdl model of the accelerator behind the [`Pins`] trait: a
//! hand-clocked `simulate()` loop (the threaded `Simulation` API is two
//! orders of magnitude slower, see the project's rust-hdl notes).

use crate::driver::{Inputs, Outputs, Pins};
use crate::top::Top;
use onespike_compiler::HwParams;
use rust_hdl::prelude::*;

/// A `Top` in rust-hdl simulation.
pub struct HdlModel<T> {
    pub top: T,
}

/// Settling budget of one `simulate()` call (delta cycles).
const MAX_DELTAS: usize = 10_000;

impl<
        const NB: usize,
        const CB: usize,
        const PAB: usize,
        const WAB: usize,
        const WB: usize,
        const IB: usize,
        const VB: usize,
        const SB: usize,
        const SB1: usize,
        const SRCB: usize,
        const SRCB1: usize,
        const FB: usize,
        const FB1: usize,
        const PW: usize,
        const WW: usize,
    > HdlModel<Top<NB, CB, PAB, WAB, WB, IB, VB, SB, SB1, SRCB, SRCB1, FB, FB1, PW, WW>>
{
    pub fn new(p: &HwParams) -> Self {
        let mut top = Top::new(p);
        top.connect_all();
        top.clock.next = Clock { clk: false };
        assert!(
            simulate(&mut top, MAX_DELTAS),
            "rust-hdl model did not settle"
        );
        HdlModel { top }
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
        const SB: usize,
        const SB1: usize,
        const SRCB: usize,
        const SRCB1: usize,
        const FB: usize,
        const FB1: usize,
        const PW: usize,
        const WW: usize,
    > Pins for HdlModel<Top<NB, CB, PAB, WAB, WB, IB, VB, SB, SB1, SRCB, SRCB1, FB, FB1, PW, WW>>
{
    fn eval(&mut self, i: &Inputs) -> Outputs {
        let t = &mut self.top;
        t.reset.next = i.reset != 0;
        t.start.next = i.start != 0;
        t.cfg_we.next = i.cfg_we != 0;
        t.cfg_core.next = i.cfg_core.into();
        t.cfg_region.next = i.cfg_region.into();
        t.cfg_index.next = i.cfg_index.into();
        t.cfg_data.next = i.cfg_data.into();
        t.in_valid.next = i.in_valid != 0;
        t.in_source.next = i.in_source.into();
        t.in_step.next = i.in_step.into();
        t.in_end.next = i.in_end != 0;
        t.out_ready.next = i.out_ready != 0;
        t.vread_core.next = i.vread_core.into();
        t.vread_addr.next = i.vread_addr.into();
        t.clock.next = Clock { clk: false };
        assert!(simulate(t, MAX_DELTAS), "rust-hdl model did not settle");
        Outputs {
            done: t.done.val() as u64,
            running: t.running.val() as u64,
            cycles: t.cycles.val().to_u64(),
            step: t.step.val().to_u64(),
            in_ready: t.in_ready.val() as u64,
            out_valid: t.out_valid.val() as u64,
            out_source: t.out_source.val().to_u64(),
            out_step: t.out_step.val().to_u64(),
            vread_data: t.vread_data.val().to_u64(),
        }
    }

    fn tick(&mut self) {
        let t = &mut self.top;
        t.clock.next = Clock { clk: true };
        assert!(simulate(t, MAX_DELTAS), "rust-hdl model did not settle");
        t.clock.next = Clock { clk: false };
        assert!(simulate(t, MAX_DELTAS), "rust-hdl model did not settle");
    }
}
