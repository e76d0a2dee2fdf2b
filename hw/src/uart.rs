//! `uart`: a UART (8 data bits, no parity, one stop bit, LSB first) and
//! [`UartTop`], the accelerator behind it for boards that reach a PC
//! through a USB-serial chip (iCEBreaker, UPduino: two pins, `rx` and
//! `tx`).
//!
//! [`UartTop`] puts a byte protocol in front of the serial-host
//! [`FpgaTop`]: received bytes go through a 512-byte FIFO (one block RAM)
//! to a bridge that drives the FPGA top's `sdi`/`shift`/`apply`/`capture`
//! pins and sends its `sdo` back. Commands (host to board):
//!
//! - `I` (0x49) then `ceil(IW / 8)` bytes: the input vector of
//!   [`crate::fpga_top::input_fields`], most significant byte first and
//!   right-aligned (the top bits of the first byte are padding). The bridge
//!   shifts it in, applies it, waits until the accelerator has taken an
//!   input event it carries (`in_pending` low), then answers `K` (0x4B).
//!   While it waits, every output spike the accelerator offers is sent
//!   unasked, as `S` (0x53) and the output vector of an `O` answer (below),
//!   so that an accelerator blocked on its output (a stream of hidden
//!   spikes, `all_spikes`) never stalls the input: the answer to `I` is
//!   any number of `S` records, then `K`.
//! - `O` (0x4F): captures the outputs (acknowledging an offered output
//!   spike, as `capture` does) and answers with `ceil(OW / 8)` bytes: the
//!   output vector of [`crate::fpga_top::output_fields`], most significant
//!   bit first and left-aligned (the last byte's low bits are zero).
//! - any other byte is ignored.
//!
//! Every command is answered, in order, so a host that keeps at most 512
//! bytes of commands unanswered never overflows the FIFO (the driver keeps
//! far fewer: `onespike_hw::uart_host`). The bit timing: `clocks_per_bit =
//! HwParams::uart_clocks_per_bit()` clocks per bit; the receiver takes the
//! line through two flip-flops, finds the start bit's falling edge, and
//! samples each bit in its middle; the transmitter holds each bit for
//! exactly `clocks_per_bit` clocks. A power-on counter holds the design in
//! reset for its first 15 cycles (iCE40 flip-flops start at 0), so the
//! `reset` pin may be tied low.

use crate::event_fifo::EventFifo;
use crate::fpga_top::FpgaTop;
use crate::k;
use onespike_compiler::HwParams;
use rust_hdl::prelude::*;

/// The UART receiver: a byte in `data` with a one-cycle `valid` after
/// each stop bit seen high (a frame whose stop bit is low is dropped).
#[derive(LogicBlock)]
pub struct UartRx {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub rx: Signal<In, Bit>,
    pub data: Signal<Out, Bits<8>>,
    pub valid: Signal<Out, Bit>,
    sync1: DFF<Bit>,
    sync2: DFF<Bit>,
    /// 0 idle, 1 start bit, 2 data bits, 3 stop bit.
    state: DFF<Bits<2>>,
    count: DFF<Bits<16>>,
    nbit: DFF<Bits<4>>,
    shreg: DFF<Bits<8>>,
    out: DFF<Bits<8>>,
    pulse: DFF<Bit>,
    count_next: Signal<Local, Bits<16>>,
    last: Constant<Bits<16>>,
    half: Constant<Bits<16>>,
    one16: Constant<Bits<16>>,
    one4: Constant<Bits<4>>,
    seven4: Constant<Bits<4>>,
    one8: Constant<Bits<8>>,
    seven8: Constant<Bits<8>>,
    s_idle: Constant<Bits<2>>,
    s_start: Constant<Bits<2>>,
    s_data: Constant<Bits<2>>,
    s_stop: Constant<Bits<2>>,
}

impl UartRx {
    pub fn new(clocks_per_bit: u64) -> UartRx {
        assert!(
            (8..=65535).contains(&clocks_per_bit),
            "UartRx: clocks per bit"
        );
        UartRx {
            clock: Default::default(),
            reset: Default::default(),
            rx: Default::default(),
            data: Default::default(),
            valid: Default::default(),
            sync1: Default::default(),
            sync2: Default::default(),
            state: Default::default(),
            count: Default::default(),
            nbit: Default::default(),
            shreg: Default::default(),
            out: Default::default(),
            pulse: Default::default(),
            count_next: Default::default(),
            last: k(clocks_per_bit - 1),
            half: k(clocks_per_bit / 2 - 1),
            one16: k(1),
            one4: k(1),
            seven4: k(7),
            one8: k(1),
            seven8: k(7),
            s_idle: k(0),
            s_start: k(1),
            s_data: k(2),
            s_stop: k(3),
        }
    }
}

impl Logic for UartRx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, sync1, sync2, state, count, nbit, shreg, out, pulse);
        // The line is idle high: the synchronizers start at 1 after reset.
        self.sync1.d.next = self.rx.val();
        self.sync2.d.next = self.sync1.q.val();
        self.pulse.d.next = false;
        self.count_next.next = self.count.q.val() + self.one16.val();
        if self.state.q.val() == self.s_idle.val() {
            if !self.sync2.q.val() {
                self.state.d.next = self.s_start.val();
                self.count.d.next = 0.into();
            }
        } else if self.state.q.val() == self.s_start.val() {
            if self.count.q.val() == self.half.val() {
                self.count.d.next = 0.into();
                self.nbit.d.next = 0.into();
                if self.sync2.q.val() {
                    // A glitch, not a start bit.
                    self.state.d.next = self.s_idle.val();
                } else {
                    self.state.d.next = self.s_data.val();
                }
            } else {
                self.count.d.next = self.count_next.val();
            }
        } else if self.state.q.val() == self.s_data.val() {
            if self.count.q.val() == self.last.val() {
                self.count.d.next = 0.into();
                self.shreg.d.next = (self.shreg.q.val() >> self.one8.val())
                    | (bit_cast::<8, 1>(self.sync2.q.val().into()) << self.seven8.val());
                self.nbit.d.next = self.nbit.q.val() + self.one4.val();
                if self.nbit.q.val() == self.seven4.val() {
                    self.state.d.next = self.s_stop.val();
                }
            } else {
                self.count.d.next = self.count_next.val();
            }
        } else {
            if self.count.q.val() == self.last.val() {
                self.state.d.next = self.s_idle.val();
                if self.sync2.q.val() {
                    self.out.d.next = self.shreg.q.val();
                    self.pulse.d.next = true;
                }
            } else {
                self.count.d.next = self.count_next.val();
            }
        }
        if self.reset.val() {
            self.state.d.next = self.s_idle.val();
            self.sync1.d.next = true;
            self.sync2.d.next = true;
            self.pulse.d.next = false;
        }
        self.data.next = self.out.q.val();
        self.valid.next = self.pulse.q.val();
    }
}

/// The UART transmitter: `start` with `data` while not `busy` sends one
/// frame; `busy` rises the next cycle and falls after the stop bit.
#[derive(LogicBlock)]
pub struct UartTx {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub data: Signal<In, Bits<8>>,
    pub start: Signal<In, Bit>,
    pub busy: Signal<Out, Bit>,
    pub tx: Signal<Out, Bit>,
    active: DFF<Bit>,
    count: DFF<Bits<16>>,
    nbit: DFF<Bits<4>>,
    frame: DFF<Bits<10>>,
    last: Constant<Bits<16>>,
    one16: Constant<Bits<16>>,
    one4: Constant<Bits<4>>,
    nine4: Constant<Bits<4>>,
    one10: Constant<Bits<10>>,
    stop10: Constant<Bits<10>>,
}

impl UartTx {
    pub fn new(clocks_per_bit: u64) -> UartTx {
        assert!(
            (8..=65535).contains(&clocks_per_bit),
            "UartTx: clocks per bit"
        );
        UartTx {
            clock: Default::default(),
            reset: Default::default(),
            data: Default::default(),
            start: Default::default(),
            busy: Default::default(),
            tx: Default::default(),
            active: Default::default(),
            count: Default::default(),
            nbit: Default::default(),
            frame: Default::default(),
            last: k(clocks_per_bit - 1),
            one16: k(1),
            one4: k(1),
            nine4: k(9),
            one10: k(1),
            stop10: k(1 << 9),
        }
    }
}

impl Logic for UartTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, active, count, nbit, frame);
        if !self.active.q.val() {
            if self.start.val() {
                // Start bit 0, eight data bits LSB first, stop bit 1.
                self.frame.d.next =
                    (bit_cast::<10, 8>(self.data.val()) << self.one10.val()) | self.stop10.val();
                self.active.d.next = true;
                self.count.d.next = 0.into();
                self.nbit.d.next = 0.into();
            }
        } else if self.count.q.val() == self.last.val() {
            self.count.d.next = 0.into();
            self.frame.d.next = self.frame.q.val() >> self.one10.val();
            self.nbit.d.next = self.nbit.q.val() + self.one4.val();
            if self.nbit.q.val() == self.nine4.val() {
                self.active.d.next = false;
            }
        } else {
            self.count.d.next = self.count.q.val() + self.one16.val();
        }
        if self.reset.val() {
            self.active.d.next = false;
        }
        self.busy.next = self.active.q.val();
        self.tx.next = true;
        if self.active.q.val() {
            self.tx.next = self.frame.q.val().get_bit(0);
        }
    }
}

/// The command bytes of [`UartTop`].
pub const CMD_INPUT: u8 = b'I';
pub const CMD_OUTPUT: u8 = b'O';
/// The answer to an input command.
pub const ACK: u8 = b'K';
/// Precedes an output vector the board sends while an input command waits
/// for its event to be taken (an output spike it captured meanwhile).
pub const SPIKE: u8 = b'S';
/// Bytes of the board's receive FIFO (what a host may leave unanswered).
pub const RX_FIFO_BYTES: usize = 512;

/// Bytes of an input command's payload and of an output answer.
pub fn payload_bytes(p: &HwParams) -> (usize, usize) {
    use crate::fpga_top::{fields_width, input_fields, output_fields};
    let g = p.geometry();
    (
        fields_width(&input_fields(&g)).div_ceil(8),
        fields_width(&output_fields(&g)).div_ceil(8),
    )
}

/// The accelerator behind a UART. Const parameters as in [`FpgaTop`].
#[derive(LogicBlock)]
pub struct UartTop<
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
    pub rx: Signal<In, Bit>,
    pub tx: Signal<Out, Bit>,
    /// The last inference has finished (a LED).
    pub done: Signal<Out, Bit>,
    fpga: FpgaTop<NB, CB, PAB, WAB, WB, IB, VB, SB, SB1, SRCB, SRCB1, FB, FB1, PW, WW, IW, OW>,
    urx: UartRx,
    utx: UartTx,
    fifo: EventFifo<8, 9, 10>,
    por: DFF<Bits<4>>,
    rst: Signal<Local, Bit>,
    /// Bridge state (see the `st_*` constants).
    state: DFF<Bits<4>>,
    /// Return state after a byte is handed to the transmitter.
    after: DFF<Bits<4>>,
    /// The output vector being sent is an `S` record (back to `st_wait`
    /// after it), not the answer to `O` (back to `st_idle`).
    spill: DFF<Bit>,
    sbuf: DFF<Bits<8>>,
    nbit: DFF<Bits<4>>,
    nbytes: DFF<Bits<8>>,
    txbyte: DFF<Bits<8>>,
    por_done: Constant<Bits<4>>,
    por_one: Constant<Bits<4>>,
    one4: Constant<Bits<4>>,
    seven4: Constant<Bits<4>>,
    one8: Constant<Bits<8>>,
    in_bytes: Constant<Bits<8>>,
    out_bytes: Constant<Bits<8>>,
    cmd_in: Constant<Bits<8>>,
    cmd_out: Constant<Bits<8>>,
    ack: Constant<Bits<8>>,
    spike: Constant<Bits<8>>,
    st_idle: Constant<Bits<4>>,
    st_in_byte: Constant<Bits<4>>,
    st_in_shift: Constant<Bits<4>>,
    st_apply: Constant<Bits<4>>,
    st_wait: Constant<Bits<4>>,
    st_send: Constant<Bits<4>>,
    st_sent: Constant<Bits<4>>,
    st_capture: Constant<Bits<4>>,
    st_out_shift: Constant<Bits<4>>,
    st_out_next: Constant<Bits<4>>,
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
    > UartTop<NB, CB, PAB, WAB, WB, IB, VB, SB, SB1, SRCB, SRCB1, FB, FB1, PW, WW, IW, OW>
{
    pub fn new(p: &HwParams) -> Self {
        let cpb = p.uart_clocks_per_bit();
        let (nin, nout) = payload_bytes(p);
        assert!(nin < 256 && nout < 256, "UartTop: payload bytes");
        Self {
            clock: Default::default(),
            reset: Default::default(),
            rx: Default::default(),
            tx: Default::default(),
            done: Default::default(),
            fpga: FpgaTop::new(p),
            urx: UartRx::new(cpb),
            utx: UartTx::new(cpb),
            fifo: Default::default(),
            por: Default::default(),
            rst: Default::default(),
            state: Default::default(),
            after: Default::default(),
            spill: Default::default(),
            sbuf: Default::default(),
            nbit: Default::default(),
            nbytes: Default::default(),
            txbyte: Default::default(),
            por_done: k(15),
            por_one: k(1),
            one4: k(1),
            seven4: k(7),
            one8: k(1),
            in_bytes: k(nin as u64),
            out_bytes: k(nout as u64),
            cmd_in: k(CMD_INPUT as u64),
            cmd_out: k(CMD_OUTPUT as u64),
            ack: k(ACK as u64),
            spike: k(SPIKE as u64),
            st_idle: k(0),
            st_in_byte: k(1),
            st_in_shift: k(2),
            st_apply: k(3),
            st_wait: k(4),
            st_send: k(5),
            st_sent: k(6),
            st_capture: k(7),
            st_out_shift: k(8),
            st_out_next: k(9),
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
    for UartTop<NB, CB, PAB, WAB, WB, IB, VB, SB, SB1, SRCB, SRCB1, FB, FB1, PW, WW, IW, OW>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, por, state, after, spill, sbuf, nbit, nbytes, txbyte);
        // Power-on reset: the first 15 cycles, and the pin.
        if self.por.q.val() != self.por_done.val() {
            self.por.d.next = self.por.q.val() + self.por_one.val();
        }
        self.rst.next = self.reset.val() | (self.por.q.val() != self.por_done.val());
        self.fpga.clock.next = self.clock.val();
        self.fpga.reset.next = self.rst.val();
        self.urx.clock.next = self.clock.val();
        self.urx.reset.next = self.rst.val();
        self.urx.rx.next = self.rx.val();
        self.utx.clock.next = self.clock.val();
        self.utx.reset.next = self.rst.val();
        self.fifo.clock.next = self.clock.val();
        self.fifo.clear.next = self.rst.val();
        self.fifo.push.next = self.urx.valid.val();
        self.fifo.push_data.next = self.urx.data.val();
        // Defaults: nothing driven this cycle.
        self.fifo.pop.next = false;
        self.fpga.sdi.next = false;
        self.fpga.shift.next = false;
        self.fpga.apply.next = false;
        self.fpga.capture.next = false;
        self.utx.start.next = false;
        self.utx.data.next = self.txbyte.q.val();
        if self.state.q.val() == self.st_idle.val() {
            if self.fifo.valid.val() {
                self.fifo.pop.next = true;
                if self.fifo.data.val() == self.cmd_in.val() {
                    self.nbytes.d.next = self.in_bytes.val();
                    self.state.d.next = self.st_in_byte.val();
                }
                if self.fifo.data.val() == self.cmd_out.val() {
                    self.spill.d.next = false;
                    self.state.d.next = self.st_capture.val();
                }
            }
        } else if self.state.q.val() == self.st_in_byte.val() {
            if self.fifo.valid.val() {
                self.fifo.pop.next = true;
                self.sbuf.d.next = self.fifo.data.val();
                self.nbit.d.next = 0.into();
                self.state.d.next = self.st_in_shift.val();
            }
        } else if self.state.q.val() == self.st_in_shift.val() {
            // Most significant bit first.
            self.fpga.sdi.next = self.sbuf.q.val().get_bit(7);
            self.fpga.shift.next = true;
            self.sbuf.d.next = self.sbuf.q.val() << self.one8.val();
            self.nbit.d.next = self.nbit.q.val() + self.one4.val();
            if self.nbit.q.val() == self.seven4.val() {
                self.nbytes.d.next = self.nbytes.q.val() - self.one8.val();
                if self.nbytes.q.val() == self.one8.val() {
                    self.state.d.next = self.st_apply.val();
                } else {
                    self.state.d.next = self.st_in_byte.val();
                }
            }
        } else if self.state.q.val() == self.st_apply.val() {
            self.fpga.apply.next = true;
            self.state.d.next = self.st_wait.val();
        } else if self.state.q.val() == self.st_wait.val() {
            // The applied event (if any) must be taken before the answer.
            if !self.fpga.in_pending.val() {
                self.txbyte.d.next = self.ack.val();
                self.after.d.next = self.st_idle.val();
                self.state.d.next = self.st_send.val();
            } else if self.fpga.out_valid.val() {
                // An output spike waits: send it, so the accelerator can go
                // on and take the event.
                self.txbyte.d.next = self.spike.val();
                self.after.d.next = self.st_capture.val();
                self.spill.d.next = true;
                self.state.d.next = self.st_send.val();
            }
        } else if self.state.q.val() == self.st_send.val() {
            if !self.utx.busy.val() {
                self.utx.start.next = true;
                self.state.d.next = self.st_sent.val();
            }
        } else if self.state.q.val() == self.st_sent.val() {
            // `busy` is high from this cycle on.
            self.state.d.next = self.after.q.val();
        } else if self.state.q.val() == self.st_capture.val() {
            self.fpga.capture.next = true;
            self.nbytes.d.next = self.out_bytes.val();
            self.nbit.d.next = 0.into();
            self.state.d.next = self.st_out_shift.val();
        } else if self.state.q.val() == self.st_out_shift.val() {
            self.fpga.shift.next = true;
            self.sbuf.d.next = (self.sbuf.q.val() << self.one8.val())
                | bit_cast::<8, 1>(self.fpga.sdo.val().into());
            self.nbit.d.next = self.nbit.q.val() + self.one4.val();
            if self.nbit.q.val() == self.seven4.val() {
                self.txbyte.d.next = (self.sbuf.q.val() << self.one8.val())
                    | bit_cast::<8, 1>(self.fpga.sdo.val().into());
                self.after.d.next = self.st_out_next.val();
                self.state.d.next = self.st_send.val();
            }
        } else if self.state.q.val() == self.st_out_next.val() {
            self.nbytes.d.next = self.nbytes.q.val() - self.one8.val();
            self.nbit.d.next = 0.into();
            if self.nbytes.q.val() == self.one8.val() {
                if self.spill.q.val() {
                    self.state.d.next = self.st_wait.val();
                } else {
                    self.state.d.next = self.st_idle.val();
                }
            } else {
                self.state.d.next = self.st_out_shift.val();
            }
        }
        if self.rst.val() {
            self.state.d.next = self.st_idle.val();
        }
        self.tx.next = self.utx.tx.val();
        self.done.next = self.fpga.done.val();
    }
}
