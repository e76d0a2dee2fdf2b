//! The host side of [`crate::uart::UartTop`]: its byte protocol over a
//! [`ByteLink`] (a serial port to a board, or [`SimLink`], a simulation of
//! the board's line), and a program driver that loads a `Program`, runs
//! inferences and returns the [`RtlRun`] of [`crate::driver::Driver`].
//!
//! The driver sends the same vectors the serial-host tests shift in:
//! `onespike_compiler::regs::host_writes` one per input command, then per
//! inference `start` with the first input event, the other events in
//! order (sorted by step, then source; `in_end` with the last), and output
//! commands until `done`, each answer's spike (when `out_valid`) recorded.
//! The spikes are the accelerator's, exactly; the cycle count is the
//! accelerator's under the host's pace (a UART is slower than the
//! accelerator, so the gaps between events are long; `docs/hw.md`, "Host
//! timing": gaps never drop or reorder an event).
//!
//! Flow control: every command is answered in order. The driver keeps at
//! most [`WINDOW_BYTES`] bytes of input commands unanswered, well inside
//! the board's receive FIFO ([`crate::uart::RX_FIFO_BYTES`]).

use crate::driver::{check_hardware, host_writes, RtlRun, RunConfig};
use crate::fpga_top::{input_fields, output_fields, pack_fields, unpack_fields};
use crate::uart::{payload_bytes, ACK, CMD_INPUT, CMD_OUTPUT, RX_FIFO_BYTES, SPIKE};
use crate::HwError;
use onespike_compiler::layout::sign_extend;
use onespike_compiler::spikes::{decide, SpikeInput, SpikeRecord};
use onespike_compiler::{HwParams, Program};
use std::collections::VecDeque;

/// Unanswered input-command bytes the driver allows (half the board's FIFO).
pub const WINDOW_BYTES: usize = RX_FIFO_BYTES / 2;

/// A byte pipe to the board.
pub trait ByteLink {
    /// Sends `bytes` in order.
    fn send(&mut self, bytes: &[u8]) -> Result<(), HwError>;
    /// Receives exactly `n` bytes, in order.
    fn recv(&mut self, n: usize) -> Result<Vec<u8>, HwError>;
}

fn link_error(message: impl Into<String>) -> HwError {
    HwError::Link {
        message: message.into(),
    }
}

/// The byte protocol of [`crate::uart::UartTop`], by field name.
pub struct UartHost<L: ByteLink> {
    pub link: L,
    params: HwParams,
    inputs: Vec<(&'static str, usize)>,
    outputs: Vec<(&'static str, usize)>,
    in_bytes: usize,
    out_bytes: usize,
    unanswered: usize,
    window: usize,
    /// Output vectors the board sent unasked (`S` records) while an input
    /// command waited; [`UartHost::read`] returns them first, in order.
    spilled: VecDeque<Vec<(&'static str, u64)>>,
    /// `S` records received so far.
    pub spills: u64,
}

impl<L: ByteLink> UartHost<L> {
    pub fn new(link: L, p: &HwParams) -> UartHost<L> {
        let (in_bytes, out_bytes) = payload_bytes(p);
        UartHost {
            link,
            params: p.clone(),
            inputs: input_fields(&p.geometry()).to_vec(),
            outputs: output_fields(&p.geometry()).to_vec(),
            in_bytes,
            out_bytes,
            unanswered: 0,
            window: (WINDOW_BYTES / (1 + in_bytes)).max(1),
            spilled: VecDeque::new(),
            spills: 0,
        }
    }

    /// Sends the input vector with `fields` set (the others zero), to be
    /// applied; its answer is read later (at most the window ahead).
    pub fn send(&mut self, fields: &[(&str, u64)]) -> Result<(), HwError> {
        if self.unanswered >= self.window {
            self.answers(1)?;
        }
        // Most significant byte first, right-aligned.
        let mut value = vec![0u8; self.in_bytes];
        for (bit, &v) in pack_fields(&self.inputs, fields).iter().enumerate() {
            value[self.in_bytes - 1 - bit / 8] |= (v as u8) << (bit % 8);
        }
        let mut cmd = Vec::with_capacity(1 + self.in_bytes);
        cmd.push(CMD_INPUT);
        cmd.extend(value);
        self.link.send(&cmd)?;
        self.unanswered += 1;
        Ok(())
    }

    /// Reads `n` answers of input commands: each is any number of `S`
    /// records (kept for [`UartHost::read`]), then `K`.
    fn answers(&mut self, n: usize) -> Result<(), HwError> {
        let mut left = n;
        while left > 0 {
            match self.link.recv(1)?[0] {
                ACK => {
                    left -= 1;
                    self.unanswered -= 1;
                }
                SPIKE => {
                    let bytes = self.link.recv(self.out_bytes)?;
                    let v = self.output_vector(&bytes);
                    self.spilled.push_back(v);
                    self.spills += 1;
                }
                b => {
                    return Err(link_error(format!(
                        "the board answered an input command with 0x{b:02x}, \
                         not `K` (0x{ACK:02x}) or `S` (0x{SPIKE:02x})"
                    )))
                }
            }
        }
        Ok(())
    }

    /// The fields of an output vector as the board sends it: most
    /// significant bit first, left-aligned.
    fn output_vector(&self, bytes: &[u8]) -> Vec<(&'static str, u64)> {
        let width: usize = self.outputs.iter().map(|f| f.1).sum();
        let bit = |i: usize| -> u64 {
            let j = width - 1 - i;
            ((bytes[j / 8] >> (7 - j % 8)) & 1) as u64
        };
        unpack_fields(&self.outputs, bit)
    }

    /// Waits for every input command's answer.
    pub fn sync(&mut self) -> Result<(), HwError> {
        self.answers(self.unanswered)
    }

    /// The next output vector: one the board sent unasked while an input
    /// command waited, if any; otherwise captures the outputs
    /// (acknowledging an offered output spike) and returns every field by
    /// name.
    pub fn read(&mut self) -> Result<Vec<(&'static str, u64)>, HwError> {
        self.sync()?;
        if let Some(v) = self.spilled.pop_front() {
            return Ok(v);
        }
        self.link.send(&[CMD_OUTPUT])?;
        let bytes = self.link.recv(self.out_bytes)?;
        Ok(self.output_vector(&bytes))
    }

    /// Loads `prog` with the flags of `run`: one input command per host
    /// write ([`load_program`]), then waits for every answer.
    pub fn load(&mut self, prog: &Program, run: &RunConfig) -> Result<(), HwError> {
        load_program(self, prog, run)?;
        self.sync()
    }

    /// Runs one inference of the loaded `prog` ([`run_inference`]).
    pub fn infer<I: SpikeInput + ?Sized>(
        &mut self,
        prog: &Program,
        input: &I,
        max_polls: u64,
    ) -> Result<RtlRun, HwError> {
        run_inference(self, prog, input, max_polls)
    }
}

impl<L: ByteLink> VectorHost for UartHost<L> {
    fn params(&self) -> &HwParams {
        &self.params
    }
    fn send_vector(&mut self, fields: &[(&str, u64)]) -> Result<(), HwError> {
        self.send(fields)
    }
    fn read_vector(&mut self) -> Result<Vec<(&'static str, u64)>, HwError> {
        self.read()
    }
}

/// A host that sends input vectors and reads output vectors of the FPGA
/// top by field name (`crate::fpga_top::input_fields` / `output_fields`):
/// the bit-serial [`crate::fpga_top::SerialHost`] and the UART's
/// [`UartHost`]. [`load_program`] and [`run_inference`] drive either.
pub trait VectorHost {
    fn params(&self) -> &HwParams;
    /// Sends and applies the input vector with `fields` set (others zero),
    /// never over an input event still pending; output vectors the host
    /// had to capture meanwhile are kept for `read_vector`.
    fn send_vector(&mut self, fields: &[(&str, u64)]) -> Result<(), HwError>;
    /// The next output vector: a kept one, else a fresh capture of the
    /// outputs (acknowledging an offered output spike).
    fn read_vector(&mut self) -> Result<Vec<(&'static str, u64)>, HwError>;
}

/// Loads `prog` with the flags of `run`: one input vector per host write
/// (`regs::host_writes`); refuses a program of other hardware.
pub fn load_program<H: VectorHost + ?Sized>(
    h: &mut H,
    prog: &Program,
    run: &RunConfig,
) -> Result<(), HwError> {
    check_hardware(prog, h.params())?;
    for w in host_writes(prog, run)? {
        h.send_vector(&[
            ("cfg_we", 1),
            ("cfg_core", w.core as u64),
            ("cfg_region", w.region),
            ("cfg_index", w.index),
            ("cfg_data", w.data),
        ])?;
    }
    Ok(())
}

/// Runs one inference of the loaded `prog` on `input`: `start` with the
/// first input event, the other events in order (`in_end` with the last),
/// then output vectors until `done`, each one's spike (when `out_valid`)
/// recorded; then the final potentials of the output neurons. Gives up
/// after `max_polls` output vectors without `done`.
pub fn run_inference<H: VectorHost + ?Sized, I: SpikeInput + ?Sized>(
    h: &mut H,
    prog: &Program,
    input: &I,
    max_polls: u64,
) -> Result<RtlRun, HwError> {
    let p = h.params().clone();
    let events =
        onespike_compiler::program::input_events(input, prog.input_size, prog.time_steps, &p)?;
    let mut queue: VecDeque<(u32, u32)> = events.into_iter().collect();
    // `start` travels with the first event (or with `in_end` alone).
    let mut first = true;
    loop {
        let ev = queue.pop_front();
        let mut f: Vec<(&str, u64)> = vec![("in_end", queue.is_empty() as u64)];
        if first {
            f.push(("start", 1));
        }
        if let Some((t, src)) = ev {
            f.extend([
                ("in_valid", 1),
                ("in_source", src as u64),
                ("in_step", t as u64),
            ]);
        }
        h.send_vector(&f)?;
        first = false;
        if queue.is_empty() {
            break;
        }
    }
    let sizes: Vec<u32> = prog.neurons.iter().map(|l| l.len() as u32).collect();
    let mut spikes = SpikeRecord::new(&sizes);
    let mut spike_count = 0;
    let mut polls = 0;
    let (steps_run, cycles) = loop {
        let out = h.read_vector()?;
        let field = |n: &str| out.iter().find(|f| f.0 == n).expect("output field").1;
        // `done` implies the output register was empty: a spike in this
        // answer is one the capture took.
        if field("out_valid") == 1 {
            let src = field("out_source");
            let (l, j) = prog
                .neuron_of(src as u32)
                .ok_or(HwError::UnknownSpike { source_id: src })?;
            spikes.push(l, field("out_step") as u32, j as u32);
            spike_count += 1;
        }
        if field("done") == 1 {
            break (field("step") as u32 + 1, field("cycles"));
        }
        polls += 1;
        if polls > max_polls {
            return Err(link_error(format!(
                "the accelerator did not finish the inference within {max_polls} output reads"
            )));
        }
    };
    spikes.sort();
    let mut final_v = Vec::new();
    for slot in prog.neurons.last().map(|l| l.as_slice()).unwrap_or(&[]) {
        h.send_vector(&[
            ("in_end", 1),
            ("vread_core", slot.core as u64),
            ("vread_addr", slot.local as u64),
        ])?;
        let out = h.read_vector()?;
        let v = out.iter().find(|f| f.0 == "vread_data").expect("field").1;
        final_v.push(sign_extend(v, p.membrane_bits));
    }
    let class = decide(prog.decision, spikes.output(), &final_v);
    Ok(RtlRun {
        spikes,
        final_v,
        class,
        steps_run,
        cycles,
        spike_count,
    })
}

/// Pins of a UART top, clocked: drive `rx`, sample `tx`.
pub trait UartPins {
    /// Applies `rx`, settles, samples `tx`, then one rising edge.
    fn cycle(&mut self, rx: bool) -> bool;
}

impl UartPins for Box<dyn UartPins> {
    fn cycle(&mut self, rx: bool) -> bool {
        (**self).cycle(rx)
    }
}

/// The serial line of a simulated board: bytes become 8N1 frames on `rx`
/// at `clocks_per_bit` clocks per bit, and frames on `tx` become bytes,
/// each bit checked over its whole period (a transmitter that holds a bit
/// for the wrong number of clocks, or sends a low stop bit, is an error).
pub struct SimLink<P: UartPins> {
    pub pins: P,
    clocks_per_bit: u64,
    /// Bits still to drive on `rx`, one entry per clock.
    rx_line: VecDeque<bool>,
    /// Decoding state of `tx`: the cycles of the frame seen so far.
    tx_frame: Vec<bool>,
    received: VecDeque<u8>,
    /// Clocks run so far.
    pub cycles: u64,
    /// Frames on `tx` with a bit not held for exactly `clocks_per_bit`
    /// clocks, or a low stop bit (dropped, and reported by `recv`).
    pub framing_errors: u64,
    /// Give up after this many clocks without the awaited bytes.
    pub timeout: u64,
}

impl<P: UartPins> SimLink<P> {
    pub fn new(pins: P, p: &HwParams) -> SimLink<P> {
        let mut l = SimLink {
            pins,
            clocks_per_bit: p.uart_clocks_per_bit(),
            rx_line: VecDeque::new(),
            tx_frame: Vec::new(),
            received: VecDeque::new(),
            cycles: 0,
            framing_errors: 0,
            timeout: 50_000_000,
        };
        // Past the power-on reset, the line idle.
        for _ in 0..32 {
            l.clock();
        }
        l
    }

    fn clock(&mut self) {
        let rx = self.rx_line.pop_front().unwrap_or(true);
        let tx = self.pins.cycle(rx);
        self.cycles += 1;
        if self.tx_frame.is_empty() && tx {
            return;
        }
        self.tx_frame.push(tx);
        let n = self.clocks_per_bit as usize;
        if self.tx_frame.len() == 10 * n {
            let f = std::mem::take(&mut self.tx_frame);
            // Every clock of a bit carries the same level.
            let bits: Vec<bool> = f.chunks(n).map(|c| c[0]).collect();
            let steady = f.chunks(n).all(|c| c.iter().all(|&b| b == c[0]));
            let byte = (0..8).fold(0u8, |b, i| b | ((bits[1 + i] as u8) << i));
            if steady && !bits[0] && bits[9] {
                self.received.push_back(byte);
            } else {
                self.framing_errors += 1;
            }
        }
    }
}

impl<P: UartPins> ByteLink for SimLink<P> {
    fn send(&mut self, bytes: &[u8]) -> Result<(), HwError> {
        let n = self.clocks_per_bit as usize;
        for &b in bytes {
            let frame = std::iter::once(false)
                .chain((0..8).map(|i| (b >> i) & 1 == 1))
                .chain(std::iter::once(true));
            for bit in frame {
                self.rx_line.extend(std::iter::repeat_n(bit, n));
            }
        }
        Ok(())
    }

    fn recv(&mut self, n: usize) -> Result<Vec<u8>, HwError> {
        let start = self.cycles;
        while self.received.len() < n {
            if self.framing_errors > 0 {
                return Err(link_error(format!(
                    "{} frames from the simulated board broke the 8N1 timing of {} clocks per bit",
                    self.framing_errors, self.clocks_per_bit
                )));
            }
            if self.cycles - start > self.timeout {
                return Err(link_error(format!(
                    "no answer from the simulated board within {} clocks",
                    self.timeout
                )));
            }
            self.clock();
        }
        Ok(self.received.drain(..n).collect())
    }
}

/// A [`crate::uart::UartTop`] in rust-hdl simulation behind [`UartPins`].
pub struct HdlUart<U> {
    pub top: U,
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
    HdlUart<
        crate::uart::UartTop<
            NB,
            CB,
            PAB,
            WAB,
            WB,
            IB,
            VB,
            SB,
            SB1,
            SRCB,
            SRCB1,
            FB,
            FB1,
            PW,
            WW,
            IW,
            OW,
        >,
    >
{
    pub fn new(p: &HwParams) -> Self {
        use rust_hdl::prelude::Block;
        let mut top = crate::uart::UartTop::new(p);
        top.connect_all();
        HdlUart { top }
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
    > UartPins
    for HdlUart<
        crate::uart::UartTop<
            NB,
            CB,
            PAB,
            WAB,
            WB,
            IB,
            VB,
            SB,
            SB1,
            SRCB,
            SRCB1,
            FB,
            FB1,
            PW,
            WW,
            IW,
            OW,
        >,
    >
{
    fn cycle(&mut self, rx: bool) -> bool {
        use rust_hdl::prelude::{simulate, Clock};
        let u = &mut self.top;
        u.reset.next = false;
        u.rx.next = rx;
        u.clock.next = Clock { clk: false };
        assert!(simulate(u, 10_000), "UART top did not settle");
        let tx = u.tx.val();
        u.clock.next = Clock { clk: true };
        assert!(simulate(u, 10_000), "UART top did not settle");
        tx
    }
}
