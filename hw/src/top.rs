//! `top`: the whole accelerator — host port, step controller, the cores
//! and the router (event bus) between them.
//!
//! The router lives here because it is the wiring between blocks: one
//! event per cycle moves over the bus. Sources in fixed priority order:
//! the input stream (an event whose step is `<= t`), then core 0's spike
//! queue, core 1's, ... (a daisy chain through the cores' `prio_in` /
//! `prio_out`). The event goes to every core whose listen window contains
//! its source id, and to the output stream when it is a core's spike and
//! the output stream takes it (every spike, or only output cores' spikes).
//! While any core's event FIFO is full, or the event goes to the output
//! stream and its register is taken, the event waits (`bus_go` low):
//! nothing is dropped. The router runs during the integrate and deliver
//! phases. A core accepts an event in either of its two listen windows.
//! With at most 4 cores the windows are judged when a spike is pushed,
//! not when it moves: the router gives each pushed spike its route word
//! (which window of every core holds it), the spike queue keeps it, and the
//! bus carries it (`docs/hw.md`, "Route bits"); same decisions, off the
//! bus cycle's path.

use crate::core::Core;
use crate::host_port::HostPort;
use crate::step_controller::{StepController, CYCLE_BITS};
use onespike_compiler::params::ROUTE_BITS;
use onespike_compiler::regs::{CFG_CORE_BITS, CFG_DATA_BITS, CFG_INDEX_BITS};
use onespike_compiler::HwParams;
use rust_hdl::prelude::*;

/// The route word with only core `index`'s `window` bit set (zero when
/// spikes carry no route bits).
fn route_mask(p: &HwParams, index: u32, window: u32) -> Bits<ROUTE_BITS> {
    if p.routed() {
        Bits::from(1u64 << crate::core::route_bit(p, index, window))
    } else {
        Bits::from(0u64)
    }
}

/// The accelerator. Const parameters as in [`Core`], plus `SB` step bits
/// and `SB1 = SB + 1`.
#[derive(LogicBlock)]
pub struct Top<
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
> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub start: Signal<In, Bit>,
    pub done: Signal<Out, Bit>,
    pub running: Signal<Out, Bit>,
    pub cycles: Signal<Out, Bits<CYCLE_BITS>>,
    pub step: Signal<Out, Bits<SB>>,
    pub cfg_we: Signal<In, Bit>,
    pub cfg_core: Signal<In, Bits<CFG_CORE_BITS>>,
    pub cfg_region: Signal<In, Bits<2>>,
    pub cfg_index: Signal<In, Bits<CFG_INDEX_BITS>>,
    pub cfg_data: Signal<In, Bits<CFG_DATA_BITS>>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub in_source: Signal<In, Bits<SRCB>>,
    pub in_step: Signal<In, Bits<SB>>,
    /// The host has no more input events for this inference.
    pub in_end: Signal<In, Bit>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub out_source: Signal<Out, Bits<SRCB>>,
    pub out_step: Signal<Out, Bits<SB>>,
    pub vread_core: Signal<In, Bits<CFG_CORE_BITS>>,
    pub vread_addr: Signal<In, Bits<NB>>,
    pub vread_data: Signal<Out, Bits<VB>>,
    host: HostPort<SB, SB1, SRCB>,
    ctrl: StepController<SB, SB1>,
    cores: Vec<Core<NB, CB, PAB, WAB, WB, IB, VB, SRCB, SRCB1, FB, FB1, PW, WW>>,
    input_ok: Signal<Local, Bit>,
    bus_valid: Signal<Local, Bit>,
    bus_source: Signal<Local, Bits<SRCB>>,
    bus_to_out: Signal<Local, Bit>,
    blocked: Signal<Local, Bit>,
    bus_go: Signal<Local, Bit>,
    all_idle: Signal<Local, Bit>,
    all_drained: Signal<Local, Bit>,
    out_fired: Signal<Local, Bit>,
    vdata: Signal<Local, Bits<VB>>,
    /// Route bits (`docs/hw.md`, "Route bits"): the input event's route
    /// word, each core's pushed spike's, and the bus event's.
    in_ext: Signal<Local, Bits<SRCB1>>,
    host_route: Signal<Local, Bits<ROUTE_BITS>>,
    push_routes: Vec<Signal<Local, Bits<ROUTE_BITS>>>,
    bus_route: Signal<Local, Bits<ROUTE_BITS>>,
    /// Spikes carry route bits (at most `ROUTE_BITS_MAX_CORES` cores).
    routed: Constant<Bit>,
    /// Route word bit of core `i`'s first / second window.
    first_mask: Vec<Constant<Bits<ROUTE_BITS>>>,
    second_mask: Vec<Constant<Bits<ROUTE_BITS>>>,
    /// The host offers an event only once its step has been reached, so
    /// `in_step` is not compared here (the FPGA top's bridge, which judges
    /// the step from registers; see `FpgaTop`): high, the compare is gone
    /// from the netlist, not merely made constant.
    host_judges_step: Constant<Bit>,
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
    > Top<NB, CB, PAB, WAB, WB, IB, VB, SB, SB1, SRCB, SRCB1, FB, FB1, PW, WW>
{
    /// The accelerator for `p`; the type's widths must be those of `p`.
    pub fn new(p: &HwParams) -> Self {
        Self::build(p, false)
    }

    /// The accelerator behind a host that offers an input event
    /// (`in_valid`) only once its step has been reached, and otherwise
    /// reports the input quiet (`in_end`): `in_step` is ignored.
    pub fn judged_by_host(p: &HwParams) -> Self {
        Self::build(p, true)
    }

    fn build(p: &HwParams, host_judges_step: bool) -> Self {
        assert_eq!(SB, p.step_bits as usize);
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            done: Default::default(),
            running: Default::default(),
            cycles: Default::default(),
            step: Default::default(),
            cfg_we: Default::default(),
            cfg_core: Default::default(),
            cfg_region: Default::default(),
            cfg_index: Default::default(),
            cfg_data: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_source: Default::default(),
            in_step: Default::default(),
            in_end: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            out_source: Default::default(),
            out_step: Default::default(),
            vread_core: Default::default(),
            vread_addr: Default::default(),
            vread_data: Default::default(),
            host: Default::default(),
            ctrl: Default::default(),
            cores: (0..p.cores).map(|c| Core::new(p, c)).collect(),
            input_ok: Default::default(),
            bus_valid: Default::default(),
            bus_source: Default::default(),
            bus_to_out: Default::default(),
            blocked: Default::default(),
            bus_go: Default::default(),
            all_idle: Default::default(),
            all_drained: Default::default(),
            out_fired: Default::default(),
            vdata: Default::default(),
            in_ext: Default::default(),
            host_route: Default::default(),
            push_routes: (0..p.cores).map(|_| Default::default()).collect(),
            bus_route: Default::default(),
            routed: Constant::new(p.routed()),
            first_mask: (0..p.cores)
                .map(|i| Constant::new(route_mask(p, i, 0)))
                .collect(),
            second_mask: (0..p.cores)
                .map(|i| Constant::new(route_mask(p, i, 1)))
                .collect(),
            host_judges_step: Constant::new(host_judges_step),
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
        const SB: usize,
        const SB1: usize,
        const SRCB: usize,
        const SRCB1: usize,
        const FB: usize,
        const FB1: usize,
        const PW: usize,
        const WW: usize,
    > Logic for Top<NB, CB, PAB, WAB, WB, IB, VB, SB, SB1, SRCB, SRCB1, FB, FB1, PW, WW>
{
    #[hdl_gen]
    fn update(&mut self) {
        self.host.clock.next = self.clock.val();
        self.ctrl.clock.next = self.clock.val();
        self.host.reset.next = self.reset.val();
        self.ctrl.reset.next = self.reset.val();
        // Host port.
        self.host.cfg_we.next = self.cfg_we.val() & !self.ctrl.running.val();
        self.host.cfg_region.next = self.cfg_region.val();
        self.host.cfg_index.next = self.cfg_index.val();
        self.host.cfg_data.next = self.cfg_data.val();
        self.host.out_ready.next = self.out_ready.val();
        self.out_valid.next = self.host.out_valid.val();
        self.out_source.next = self.host.out_source.val();
        self.out_step.next = self.host.out_step.val();
        // Step controller.
        self.ctrl.start.next = self.start.val();
        self.ctrl.time_steps.next = self.host.time_steps.val();
        self.ctrl.early_exit.next = self.host.early_exit.val();
        self.done.next = self.ctrl.done.val();
        self.running.next = self.ctrl.running.val();
        self.cycles.next = self.ctrl.cycles.val();
        self.step.next = self.ctrl.step.val();
        // Router: source selection (input first, then cores in order).
        self.input_ok.next = self.ctrl.route_en.val() & self.in_valid.val();
        if !self.host_judges_step.val() {
            self.input_ok.next = self.input_ok.val() & (self.in_step.val() <= self.ctrl.step.val());
        }
        self.bus_valid.next = self.input_ok.val();
        self.bus_source.next = self.in_source.val();
        // Route words: the windows that hold the input event's source and
        // each core's pushed spike's (static while running).
        self.in_ext.next = bit_cast::<SRCB1, SRCB>(self.in_source.val());
        self.host_route.next = 0.into();
        for c in 0..self.cores.len() {
            self.push_routes[c].next = 0.into();
        }
        if self.routed.val() {
            for d in 0..self.cores.len() {
                if (self.in_ext.val() >= self.cores[d].win_first_lo.val())
                    & (self.in_ext.val() < self.cores[d].win_first_hi.val())
                {
                    self.host_route.next = self.host_route.val() | self.first_mask[d].val();
                }
                if (self.in_ext.val() >= self.cores[d].win_second_lo.val())
                    & (self.in_ext.val() < self.cores[d].win_second_hi.val())
                {
                    self.host_route.next = self.host_route.val() | self.second_mask[d].val();
                }
            }
            for c in 0..self.cores.len() {
                for d in 0..self.cores.len() {
                    if (self.cores[c].push_source.val() >= self.cores[d].win_first_lo.val())
                        & (self.cores[c].push_source.val() < self.cores[d].win_first_hi.val())
                    {
                        self.push_routes[c].next =
                            self.push_routes[c].val() | self.first_mask[d].val();
                    }
                    if (self.cores[c].push_source.val() >= self.cores[d].win_second_lo.val())
                        & (self.cores[c].push_source.val() < self.cores[d].win_second_hi.val())
                    {
                        self.push_routes[c].next =
                            self.push_routes[c].val() | self.second_mask[d].val();
                    }
                }
            }
        }
        self.bus_route.next = self.host_route.val();
        self.bus_to_out.next = false;
        self.blocked.next = false;
        self.all_idle.next = true;
        self.all_drained.next = true;
        self.out_fired.next = false;
        self.vdata.next = 0.into();
        for c in 0..self.cores.len() {
            self.cores[c].clock.next = self.clock.val();
            self.cores[c].reset.next = self.reset.val();
            self.cores[c].cmd_clear.next = self.ctrl.cmd_clear.val();
            self.cores[c].cmd_integrate.next = self.ctrl.cmd_integrate.val();
            self.cores[c].deliver_en.next = self.ctrl.deliver_en.val();
            self.cores[c].cfg_we.next = self.cfg_we.val() & !self.ctrl.running.val();
            self.cores[c].cfg_core.next = self.cfg_core.val();
            self.cores[c].cfg_region.next = self.cfg_region.val();
            self.cores[c].cfg_index.next = self.cfg_index.val();
            self.cores[c].cfg_data.next = self.cfg_data.val();
            self.cores[c].vread_core.next = self.vread_core.val();
            self.cores[c].vread_addr.next = self.vread_addr.val();
            self.vdata.next = self.vdata.val() | self.cores[c].vread_data.val();
            self.all_idle.next = self.all_idle.val() & !self.cores[c].busy.val();
            self.all_drained.next = self.all_drained.val() & self.cores[c].drained.val();
            self.out_fired.next = self.out_fired.val() | self.cores[c].output_fired.val();
            if self.ctrl.route_en.val() & self.cores[c].granted.val() {
                self.bus_valid.next = true;
                self.bus_source.next = self.cores[c].spike_source.val();
                self.bus_route.next = self.cores[c].head_route.val();
                self.bus_to_out.next = self.host.all_spikes.val() | self.cores[c].is_output.val();
            }
        }
        self.cores[0].prio_in.next = self.input_ok.val();
        for c in 0..(self.cores.len() - 1) {
            self.cores[c + 1].prio_in.next = self.cores[c].prio_out.val();
        }
        for c in 0..self.cores.len() {
            self.cores[c].bus_valid.next = self.bus_valid.val();
            self.cores[c].bus_source.next = self.bus_source.val();
            self.cores[c].bus_route.next = self.bus_route.val();
            self.cores[c].push_route.next = self.push_routes[c].val();
            self.blocked.next = self.blocked.val() | self.cores[c].blocks.val();
        }
        self.bus_go.next = self.bus_valid.val()
            & !self.blocked.val()
            & (!self.bus_to_out.val() | self.host.out_free.val());
        for c in 0..self.cores.len() {
            self.cores[c].bus_go.next = self.bus_go.val();
        }
        self.in_ready.next = self.bus_go.val() & self.input_ok.val();
        self.host.out_push.next = self.bus_go.val() & self.bus_to_out.val();
        self.host.out_push_source.next = self.bus_source.val();
        self.host.out_push_step.next = self.ctrl.step.val();
        self.vread_data.next = self.vdata.val();
        // Step controller status.
        self.ctrl.all_idle.next = self.all_idle.val();
        self.ctrl.all_drained.next = self.all_drained.val();
        self.ctrl.input_quiet.next =
            !self.input_ok.val() & (self.in_valid.val() | self.in_end.val());
        self.ctrl.output_fired.next = self.out_fired.val();
        self.ctrl.out_free.next = self.host.out_free.val();
    }
}
