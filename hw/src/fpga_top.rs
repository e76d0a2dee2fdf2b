//! `fpga_top`: the accelerator behind a narrow, synchronous serial host
//! interface, for FPGAs with few pins (the wide `top` needs about 200 I/O).
//!
//! Pins: `clock`, `reset`, `sdi` + `shift` (shift one bit, MSB first, into
//! the input staging register), `apply` (copy the staging register onto the
//! accelerator's inputs: `cfg_we` and `start` become one-cycle pulses,
//! the input event is held until the accelerator takes it, offered once
//! its step has been reached), `capture`
//! (snapshot the outputs into the output shift register and acknowledge
//! the output spike, if any), `sdo` (MSB of the output shift register,
//! advanced by `shift`), and status pins `done`, `out_valid`, `in_pending`.
//! All pins are synchronous to `clock` (a real board adds synchronizers).
//!
//! Field order of both vectors (LSB first) is [`input_fields`] /
//! [`output_fields`]; offsets are computed from those lists, never written
//! by hand.

use crate::host_port::{CFG_CORE_BITS, CFG_DATA_BITS, CFG_INDEX_BITS};
use crate::k;
use crate::step_controller::CYCLE_BITS;
use crate::top::Top;
use onespike_compiler::params::Geometry;
use onespike_compiler::HwParams;
use rust_hdl::prelude::*;

/// `(name, width)` of the input vector fields, LSB first.
pub const fn input_fields(g: &Geometry) -> [(&'static str, usize); 12] {
    [
        ("cfg_we", 1),
        ("start", 1),
        ("in_valid", 1),
        ("in_end", 1),
        ("cfg_core", CFG_CORE_BITS),
        ("cfg_region", 2),
        ("cfg_index", CFG_INDEX_BITS),
        ("cfg_data", CFG_DATA_BITS),
        ("in_source", g.source_bits() as usize),
        ("in_step", g.step_bits as usize),
        ("vread_core", CFG_CORE_BITS),
        ("vread_addr", g.neuron_bits() as usize),
    ]
}

/// `(name, width)` of the output vector fields, LSB first.
pub const fn output_fields(g: &Geometry) -> [(&'static str, usize); 9] {
    [
        ("done", 1),
        ("running", 1),
        ("in_pending", 1),
        ("out_valid", 1),
        ("cycles", CYCLE_BITS),
        ("step", g.step_bits as usize),
        ("out_source", g.source_bits() as usize),
        ("out_step", g.step_bits as usize),
        ("vread_data", g.membrane_bits as usize),
    ]
}

/// Total width of `fields` (the `IW` and `OW` of [`FpgaTop`]).
pub const fn fields_width(fields: &[(&'static str, usize)]) -> usize {
    let (mut w, mut i) = (0, 0);
    while i < fields.len() {
        w += fields[i].1;
        i += 1;
    }
    w
}

/// Offset of field `name` in `fields`.
pub fn offset(fields: &[(&'static str, usize)], name: &str) -> usize {
    let mut o = 0;
    for (n, w) in fields {
        if *n == name {
            return o;
        }
        o += w;
    }
    panic!("no field {name}")
}

/// The bits of a vector of `fields` (LSB first) with `values` set by field
/// name and every other field zero.
pub fn pack_fields(fields: &[(&'static str, usize)], values: &[(&str, u64)]) -> Vec<u64> {
    let width: usize = fields.iter().map(|f| f.1).sum();
    let mut bits = vec![0u64; width];
    for (name, value) in values {
        let o = offset(fields, name);
        let w = fields.iter().find(|f| f.0 == *name).expect("field").1;
        for b in 0..w {
            bits[o + b] = (value >> b) & 1;
        }
    }
    bits
}

/// Every field of a vector of `fields` by name, from its bit `i` (LSB
/// first) as `bit(i)`.
pub fn unpack_fields(
    fields: &[(&'static str, usize)],
    bit: impl Fn(usize) -> u64,
) -> Vec<(&'static str, u64)> {
    let mut o = 0;
    fields
        .iter()
        .map(|&(name, w)| {
            let v = (0..w).map(|b| bit(o + b) << b).sum();
            o += w;
            (name, v)
        })
        .collect()
}

/// The serial-host FPGA top. Const parameters as in [`Top`], plus `IW` and
/// `OW`, the widths of the input and output vectors.
#[derive(LogicBlock)]
pub struct FpgaTop<
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
    const IW: usize,
    const OW: usize,
> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub sdi: Signal<In, Bit>,
    pub shift: Signal<In, Bit>,
    pub apply: Signal<In, Bit>,
    pub capture: Signal<In, Bit>,
    pub sdo: Signal<Out, Bit>,
    pub done: Signal<Out, Bit>,
    pub out_valid: Signal<Out, Bit>,
    pub in_pending: Signal<Out, Bit>,
    acc: Top<NB, CB, PAB, WAB, WB, IB, VB, SB, SB1, SRCB, SRCB1, FB, FB1, PW, WW>,
    in_sr: DFF<Bits<IW>>,
    staged: DFF<Bits<IW>>,
    we_pulse: DFF<Bit>,
    start_pulse: DFF<Bit>,
    pending: DFF<Bit>,
    /// The staged event's step had been reached (`in_step <= step`) as of
    /// the last cycle: the accelerator's own compare, taken off its
    /// router's critical path (see `update`).
    due: DFF<Bit>,
    next_step: Signal<Local, Bits<SB>>,
    out_sr: DFF<Bits<OW>>,
    pack_out: Signal<Local, Bits<OW>>,
    o_cfg_core: Constant<Bits<8>>,
    o_cfg_region: Constant<Bits<8>>,
    o_cfg_index: Constant<Bits<8>>,
    o_cfg_data: Constant<Bits<8>>,
    o_in_source: Constant<Bits<8>>,
    o_in_step: Constant<Bits<8>>,
    o_vread_core: Constant<Bits<8>>,
    o_vread_addr: Constant<Bits<8>>,
    o_cycles: Constant<Bits<8>>,
    o_step: Constant<Bits<8>>,
    o_out_source: Constant<Bits<8>>,
    o_out_step: Constant<Bits<8>>,
    o_vread_data: Constant<Bits<8>>,
    sdo_bit: Constant<Bits<8>>,
    f_done: Constant<Bits<OW>>,
    f_running: Constant<Bits<OW>>,
    f_pending: Constant<Bits<OW>>,
    f_out_valid: Constant<Bits<OW>>,
    ow_zero: Constant<Bits<OW>>,
    shift_one: Constant<Bits<8>>,
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
        const IW: usize,
        const OW: usize,
    > FpgaTop<NB, CB, PAB, WAB, WB, IB, VB, SB, SB1, SRCB, SRCB1, FB, FB1, PW, WW, IW, OW>
{
    pub fn new(p: &HwParams) -> Self {
        let fi = input_fields(&p.geometry());
        let fo = output_fields(&p.geometry());
        assert_eq!(IW, fields_width(&fi), "FpgaTop: IW");
        assert_eq!(OW, fields_width(&fo), "FpgaTop: OW");
        let i = |n| k::<8>(offset(&fi, n) as u64);
        let o = |n| k::<8>(offset(&fo, n) as u64);
        let flag = |n| k::<OW>(1u64 << offset(&fo, n));
        Self {
            clock: Default::default(),
            reset: Default::default(),
            sdi: Default::default(),
            shift: Default::default(),
            apply: Default::default(),
            capture: Default::default(),
            sdo: Default::default(),
            done: Default::default(),
            out_valid: Default::default(),
            in_pending: Default::default(),
            acc: Top::judged_by_host(p),
            in_sr: Default::default(),
            staged: Default::default(),
            we_pulse: Default::default(),
            start_pulse: Default::default(),
            pending: Default::default(),
            due: Default::default(),
            next_step: Default::default(),
            out_sr: Default::default(),
            pack_out: Default::default(),
            o_cfg_core: i("cfg_core"),
            o_cfg_region: i("cfg_region"),
            o_cfg_index: i("cfg_index"),
            o_cfg_data: i("cfg_data"),
            o_in_source: i("in_source"),
            o_in_step: i("in_step"),
            o_vread_core: i("vread_core"),
            o_vread_addr: i("vread_addr"),
            o_cycles: o("cycles"),
            o_step: o("step"),
            o_out_source: o("out_source"),
            o_out_step: o("out_step"),
            o_vread_data: o("vread_data"),
            sdo_bit: k::<8>(OW as u64 - 1),
            f_done: flag("done"),
            f_running: flag("running"),
            f_pending: flag("in_pending"),
            f_out_valid: flag("out_valid"),
            ow_zero: k::<OW>(0),
            shift_one: k::<8>(1),
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
        const IW: usize,
        const OW: usize,
    > Logic
    for FpgaTop<NB, CB, PAB, WAB, WB, IB, VB, SB, SB1, SRCB, SRCB1, FB, FB1, PW, WW, IW, OW>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            in_sr,
            staged,
            we_pulse,
            start_pulse,
            pending,
            due,
            out_sr
        );
        self.acc.clock.next = self.clock.val();
        self.acc.reset.next = self.reset.val();
        // Input side: shift, then apply.
        if self.shift.val() {
            self.in_sr.d.next = (self.in_sr.q.val() << self.shift_one.val())
                | bit_cast::<IW, 1>(self.sdi.val().into());
        }
        self.we_pulse.d.next = false;
        self.start_pulse.d.next = false;
        if self.apply.val() {
            self.staged.d.next = self.in_sr.q.val();
            self.we_pulse.d.next = self.in_sr.q.val().get_bit(0);
            self.start_pulse.d.next = self.in_sr.q.val().get_bit(1);
            self.pending.d.next = self.in_sr.q.val().get_bit(2);
        }
        if self.acc.in_ready.val() {
            self.pending.d.next = false;
        }
        if self.reset.val() {
            self.pending.d.next = false;
            self.we_pulse.d.next = false;
            self.start_pulse.d.next = false;
        }
        self.acc.cfg_we.next = self.we_pulse.q.val();
        self.acc.start.next = self.start_pulse.q.val();
        // The pending event is offered only once its step has been reached,
        // judged one cycle late from registers (`due`); the accelerator is
        // built without its own `in_step <= step` compare
        // (`Top::judged_by_host`), a carry chain at the head of the
        // router's longest path. Until then the event is reported as the
        // host holding an event for a later step (`in_end` high, `in_valid`
        // low: both only make the input quiet). Exact: `step` changes only
        // when a step is advanced, and the one stale cycle that follows
        // falls in the next integrate phase, where the input quiet is not
        // consulted; the event is merely taken a cycle later, which is host
        // pacing.
        self.next_step.next = self
            .staged
            .q
            .val()
            .get_bits::<SB>(self.o_in_step.val().index());
        if self.apply.val() {
            self.next_step.next = self
                .in_sr
                .q
                .val()
                .get_bits::<SB>(self.o_in_step.val().index());
        }
        self.due.d.next = self.next_step.val() <= self.acc.step.val();
        self.acc.in_valid.next = self.pending.q.val() & self.due.q.val();
        self.acc.in_end.next =
            self.staged.q.val().get_bit(3) | (self.pending.q.val() & !self.due.q.val());
        self.acc.cfg_core.next = self
            .staged
            .q
            .val()
            .get_bits::<CFG_CORE_BITS>(self.o_cfg_core.val().index());
        self.acc.cfg_region.next = self
            .staged
            .q
            .val()
            .get_bits::<2>(self.o_cfg_region.val().index());
        self.acc.cfg_index.next = self
            .staged
            .q
            .val()
            .get_bits::<CFG_INDEX_BITS>(self.o_cfg_index.val().index());
        self.acc.cfg_data.next = self
            .staged
            .q
            .val()
            .get_bits::<CFG_DATA_BITS>(self.o_cfg_data.val().index());
        self.acc.in_source.next = self
            .staged
            .q
            .val()
            .get_bits::<SRCB>(self.o_in_source.val().index());
        self.acc.in_step.next = self
            .staged
            .q
            .val()
            .get_bits::<SB>(self.o_in_step.val().index());
        self.acc.vread_core.next = self
            .staged
            .q
            .val()
            .get_bits::<CFG_CORE_BITS>(self.o_vread_core.val().index());
        self.acc.vread_addr.next = self
            .staged
            .q
            .val()
            .get_bits::<NB>(self.o_vread_addr.val().index());
        self.acc.out_ready.next = self.capture.val();
        // Output side: capture, then shift out MSB first.
        self.pack_out.next = self.ow_zero.val();
        if self.acc.done.val() {
            self.pack_out.next = self.pack_out.val() | self.f_done.val();
        }
        if self.acc.running.val() {
            self.pack_out.next = self.pack_out.val() | self.f_running.val();
        }
        if self.pending.q.val() {
            self.pack_out.next = self.pack_out.val() | self.f_pending.val();
        }
        if self.acc.out_valid.val() {
            self.pack_out.next = self.pack_out.val() | self.f_out_valid.val();
        }
        self.pack_out.next = self.pack_out.val()
            | (bit_cast::<OW, CYCLE_BITS>(self.acc.cycles.val()) << self.o_cycles.val())
            | (bit_cast::<OW, SB>(self.acc.step.val()) << self.o_step.val())
            | (bit_cast::<OW, SRCB>(self.acc.out_source.val()) << self.o_out_source.val())
            | (bit_cast::<OW, SB>(self.acc.out_step.val()) << self.o_out_step.val())
            | (bit_cast::<OW, VB>(self.acc.vread_data.val()) << self.o_vread_data.val());
        if self.capture.val() {
            self.out_sr.d.next = self.pack_out.val();
        } else if self.shift.val() {
            self.out_sr.d.next = self.out_sr.q.val() << self.shift_one.val();
        }
        self.sdo.next = self.out_sr.q.val().get_bit(self.sdo_bit.val().index());
        self.done.next = self.acc.done.val();
        self.out_valid.next = self.acc.out_valid.val();
        self.in_pending.next = self.pending.q.val();
    }
}

/// Pins of the serial host interface for one cycle (`#[repr(C)]`: shared
/// with the Verilator shim).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SerialIn {
    pub reset: u64,
    pub sdi: u64,
    pub shift: u64,
    pub apply: u64,
    pub capture: u64,
}

/// Output pins of the serial host interface, seen before the clock edge.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SerialOut {
    pub sdo: u64,
    pub done: u64,
    pub out_valid: u64,
    pub in_pending: u64,
}

/// A clocked model of the FPGA top's pins.
pub trait SerialPort {
    /// Applies `pins`, settles, samples the outputs, then one rising edge.
    fn cycle(&mut self, pins: &SerialIn) -> SerialOut;
}

/// The host side of the serial interface: shifts whole input vectors in and
/// output vectors out, by field name.
pub struct SerialHost<S: SerialPort> {
    pub port: S,
    params: HwParams,
    inputs: Vec<(&'static str, usize)>,
    outputs: Vec<(&'static str, usize)>,
    /// Output vectors captured while [`SerialHost::send`] waited for an
    /// input event to be taken; `read_vector` returns them first.
    spilled: std::collections::VecDeque<Vec<(&'static str, u64)>>,
    /// Output vectors captured while an input event waited, so far.
    pub spills: u64,
}

impl<S: SerialPort> SerialHost<S> {
    pub fn new(port: S, p: &HwParams) -> Self {
        let mut h = SerialHost {
            port,
            params: p.clone(),
            inputs: input_fields(&p.geometry()).to_vec(),
            outputs: output_fields(&p.geometry()).to_vec(),
            spilled: Default::default(),
            spills: 0,
        };
        for _ in 0..2 {
            h.port.cycle(&SerialIn {
                reset: 1,
                ..Default::default()
            });
        }
        h
    }

    /// Shifts in the input vector with `fields` set (the others zero),
    /// applies it, and waits until the input event it carries (if any) has
    /// been taken, as the UART bridge does before its `K`: the next vector
    /// must not be applied over a pending event. While it waits it captures
    /// every output spike offered (an accelerator blocked on its output
    /// would never take the event) and keeps the vectors for `read_vector`,
    /// as the bridge's `S` records do; reading only after the apply keeps
    /// the input shift register, which `shift` also moves, out of harm's
    /// way. Gives up after [`SerialHost::MAX_PENDING_CYCLES`] cycles.
    pub fn send(&mut self, fields: &[(&str, u64)]) -> Result<(), crate::HwError> {
        let bits = pack_fields(&self.inputs, fields);
        for b in (0..bits.len()).rev() {
            self.port.cycle(&SerialIn {
                sdi: bits[b],
                shift: 1,
                ..Default::default()
            });
        }
        self.port.cycle(&SerialIn {
            apply: 1,
            ..Default::default()
        });
        let mut waited = 0;
        loop {
            let out = self.port.cycle(&SerialIn::default());
            if out.in_pending == 0 {
                return Ok(());
            }
            if waited == Self::MAX_PENDING_CYCLES {
                return Err(crate::HwError::Link {
                    message: format!(
                        "the accelerator left an input event pending for {waited} cycles"
                    ),
                });
            }
            if out.out_valid != 0 {
                let v = self.read();
                self.spilled.push_back(v);
                self.spills += 1;
            }
            waited += 1;
        }
    }

    /// How long [`SerialHost::send`] waits for a pending input event to be
    /// taken (far above an inference's cycles at any preset).
    pub const MAX_PENDING_CYCLES: u64 = 100_000_000;

    /// Captures the outputs (acknowledging an offered output spike) and
    /// shifts them out; returns every field by name.
    pub fn read(&mut self) -> Vec<(&'static str, u64)> {
        let width: usize = self.outputs.iter().map(|f| f.1).sum();
        self.port.cycle(&SerialIn {
            capture: 1,
            ..Default::default()
        });
        let mut bits = vec![0u64; width];
        for b in (0..width).rev() {
            bits[b] = self
                .port
                .cycle(&SerialIn {
                    shift: 1,
                    ..Default::default()
                })
                .sdo;
        }
        unpack_fields(&self.outputs, |i| bits[i])
    }

    /// One output field, from a fresh capture.
    pub fn read_field(&mut self, name: &str) -> u64 {
        self.read()
            .into_iter()
            .find(|f| f.0 == name)
            .expect("output field")
            .1
    }

    /// One idle cycle.
    pub fn idle(&mut self) {
        self.port.cycle(&SerialIn::default());
    }
}

impl<S: SerialPort> crate::uart_host::VectorHost for SerialHost<S> {
    fn params(&self) -> &HwParams {
        &self.params
    }
    fn send_vector(&mut self, fields: &[(&str, u64)]) -> Result<(), crate::HwError> {
        self.send(fields)
    }
    fn read_vector(&mut self) -> Result<Vec<(&'static str, u64)>, crate::HwError> {
        Ok(self.spilled.pop_front().unwrap_or_else(|| self.read()))
    }
}

/// Two FPGA tops driven with the same pins, compared output for output
/// in every cycle (a gate-level netlist against its RTL, say); the first
/// one's outputs are returned, and the first cycle in which they differ is
/// kept in [`Lockstep::difference`].
pub struct Lockstep<A, B> {
    pub a: A,
    pub b: B,
    pub cycles: u64,
    /// The first difference: its cycle, the pins and both tops' outputs.
    pub difference: Option<String>,
}

impl<A, B> Lockstep<A, B> {
    pub fn new(a: A, b: B) -> Lockstep<A, B> {
        Lockstep {
            a,
            b,
            cycles: 0,
            difference: None,
        }
    }
}

impl<A: SerialPort, B: SerialPort> SerialPort for Lockstep<A, B> {
    fn cycle(&mut self, pins: &SerialIn) -> SerialOut {
        let (x, y) = (self.a.cycle(pins), self.b.cycle(pins));
        if x != y && self.difference.is_none() {
            self.difference = Some(format!(
                "the two FPGA tops differ in cycle {} (pins {pins:?}): {x:?} against {y:?}",
                self.cycles
            ));
        }
        self.cycles += 1;
        x
    }
}

/// An `FpgaTop` in rust-hdl simulation behind [`SerialPort`].
pub struct HdlSerial<F> {
    pub top: F,
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
        const IW: usize,
        const OW: usize,
    >
    HdlSerial<FpgaTop<NB, CB, PAB, WAB, WB, IB, VB, SB, SB1, SRCB, SRCB1, FB, FB1, PW, WW, IW, OW>>
{
    pub fn new(p: &HwParams) -> Self {
        let mut top = FpgaTop::new(p);
        top.connect_all();
        HdlSerial { top }
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
        const IW: usize,
        const OW: usize,
    > SerialPort
    for HdlSerial<
        FpgaTop<NB, CB, PAB, WAB, WB, IB, VB, SB, SB1, SRCB, SRCB1, FB, FB1, PW, WW, IW, OW>,
    >
{
    fn cycle(&mut self, pins: &SerialIn) -> SerialOut {
        let f = &mut self.top;
        f.reset.next = pins.reset != 0;
        f.sdi.next = pins.sdi != 0;
        f.shift.next = pins.shift != 0;
        f.apply.next = pins.apply != 0;
        f.capture.next = pins.capture != 0;
        f.clock.next = Clock { clk: false };
        assert!(simulate(f, 10_000), "FPGA top did not settle");
        let out = SerialOut {
            sdo: f.sdo.val() as u64,
            done: f.done.val() as u64,
            out_valid: f.out_valid.val() as u64,
            in_pending: f.in_pending.val() as u64,
        };
        f.clock.next = Clock { clk: true };
        assert!(simulate(f, 10_000), "FPGA top did not settle");
        out
    }
}
