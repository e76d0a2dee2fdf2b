//! `step_controller`: sequences one inference. After `start`: clear every
//! core's state memory, then for each step `t`: integrate (all cores in
//! parallel), deliver (until every core, FIFO and spike queue is drained and
//! the input stream holds no event of step `<= t`), advance. Ends after step
//! `T - 1`, or after the first step in which an output core fired when early
//! exit is on — and only once the output register is empty or being read
//! (`out_free`): the last step's `Advance` waits, counting cycles, while the
//! host has not taken every spike. Counts the cycles from start to done.
//!
//! Per-state cycle costs are listed in `docs/hw.md`.

use rust_hdl::prelude::*;

#[derive(Copy, Clone, PartialEq, Eq, Debug, LogicState)]
pub enum Phase {
    Idle,
    Clear,
    ClearWait,
    Integ,
    IntegWait,
    Deliver,
    Advance,
    Done,
}

/// Width of the cycle counter.
pub const CYCLE_BITS: usize = 32;

/// The step controller; `SB` step bits, `SB1 = SB + 1`.
#[derive(LogicBlock)]
pub struct StepController<const SB: usize, const SB1: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub start: Signal<In, Bit>,
    pub time_steps: Signal<In, Bits<SB1>>,
    pub early_exit: Signal<In, Bit>,
    /// No core is busy (clear, integrate or synapse pipeline).
    pub all_idle: Signal<In, Bit>,
    /// No core is busy and every event FIFO and spike queue is empty.
    pub all_drained: Signal<In, Bit>,
    /// The input stream holds no event for the current step.
    pub input_quiet: Signal<In, Bit>,
    /// An output core fired this cycle.
    pub output_fired: Signal<In, Bit>,
    /// The output spike register is empty or the host takes its spike this
    /// cycle.
    pub out_free: Signal<In, Bit>,
    pub cmd_clear: Signal<Out, Bit>,
    pub cmd_integrate: Signal<Out, Bit>,
    pub deliver_en: Signal<Out, Bit>,
    pub route_en: Signal<Out, Bit>,
    pub running: Signal<Out, Bit>,
    pub done: Signal<Out, Bit>,
    pub step: Signal<Out, Bits<SB>>,
    pub cycles: Signal<Out, Bits<CYCLE_BITS>>,
    phase: DFF<Phase>,
    t: DFF<Bits<SB>>,
    count: DFF<Bits<CYCLE_BITS>>,
    fired: DFF<Bit>,
    done_flag: DFF<Bit>,
    t_next: Signal<Local, Bits<SB1>>,
    sb1_one: Constant<Bits<SB1>>,
    sb_one: Constant<Bits<SB>>,
    sb_zero: Constant<Bits<SB>>,
    cyc_one: Constant<Bits<CYCLE_BITS>>,
    cyc_zero: Constant<Bits<CYCLE_BITS>>,
}

impl<const SB: usize, const SB1: usize> Default for StepController<SB, SB1> {
    fn default() -> Self {
        assert_eq!(SB + 1, SB1);
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            time_steps: Default::default(),
            early_exit: Default::default(),
            all_idle: Default::default(),
            all_drained: Default::default(),
            input_quiet: Default::default(),
            output_fired: Default::default(),
            out_free: Default::default(),
            cmd_clear: Default::default(),
            cmd_integrate: Default::default(),
            deliver_en: Default::default(),
            route_en: Default::default(),
            running: Default::default(),
            done: Default::default(),
            step: Default::default(),
            cycles: Default::default(),
            phase: Default::default(),
            t: Default::default(),
            count: Default::default(),
            fired: Default::default(),
            done_flag: Default::default(),
            t_next: Default::default(),
            sb1_one: Constant::new(1u64.into()),
            sb_one: Constant::new(1u64.into()),
            sb_zero: Constant::new(0u64.into()),
            cyc_one: Constant::new(1u64.into()),
            cyc_zero: Constant::new(0u64.into()),
        }
    }
}

impl<const SB: usize, const SB1: usize> Logic for StepController<SB, SB1> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, phase, t, count, fired, done_flag);
        self.cmd_clear.next = false;
        self.cmd_integrate.next = false;
        self.deliver_en.next = false;
        self.route_en.next = false;
        self.running.next = true;
        self.t_next.next = bit_cast::<SB1, SB>(self.t.q.val()) + self.sb1_one.val();
        if self.output_fired.val() {
            self.fired.d.next = true;
        }
        self.count.d.next = self.count.q.val() + self.cyc_one.val();
        match self.phase.q.val() {
            Phase::Idle => {
                self.running.next = false;
                self.count.d.next = self.count.q.val();
            }
            Phase::Done => {
                self.running.next = false;
                self.count.d.next = self.count.q.val();
            }
            Phase::Clear => {
                self.cmd_clear.next = true;
                self.phase.d.next = Phase::ClearWait;
            }
            Phase::ClearWait => {
                if self.all_idle.val() {
                    self.phase.d.next = Phase::Integ;
                }
            }
            Phase::Integ => {
                self.cmd_integrate.next = true;
                self.route_en.next = true;
                self.phase.d.next = Phase::IntegWait;
            }
            Phase::IntegWait => {
                self.route_en.next = true;
                if self.all_idle.val() {
                    self.phase.d.next = Phase::Deliver;
                }
            }
            Phase::Deliver => {
                self.route_en.next = true;
                self.deliver_en.next = true;
                if self.all_drained.val() & self.input_quiet.val() {
                    self.phase.d.next = Phase::Advance;
                }
            }
            Phase::Advance => {
                if (self.early_exit.val() & self.fired.q.val())
                    | (self.t_next.val() == self.time_steps.val())
                {
                    // The last step: done once the host has every spike.
                    if self.out_free.val() {
                        self.fired.d.next = false;
                        self.phase.d.next = Phase::Done;
                        self.done_flag.d.next = true;
                    }
                } else {
                    self.fired.d.next = false;
                    self.t.d.next = self.t.q.val() + self.sb_one.val();
                    self.phase.d.next = Phase::Integ;
                }
            }
            _ => {
                self.phase.d.next = Phase::Idle;
            }
        }
        if self.start.val() & !self.running.val() {
            self.phase.d.next = Phase::Clear;
            self.t.d.next = self.sb_zero.val();
            self.count.d.next = self.cyc_zero.val();
            self.fired.d.next = false;
            self.done_flag.d.next = false;
        }
        if self.reset.val() {
            self.phase.d.next = Phase::Idle;
            self.done_flag.d.next = false;
            self.count.d.next = self.cyc_zero.val();
        }
        self.done.next = self.done_flag.q.val();
        self.step.next = self.t.q.val();
        self.cycles.next = self.count.q.val();
    }
}
