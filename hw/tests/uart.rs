//! The UART top in rust-hdl simulation, driven through its serial line
//! with exact 8N1 bit timing (`SimLink`), in place of a board: the
//! receiver and transmitter keep the bit timing, and a program loaded and
//! run through the byte protocol gives the spikes, potentials and classes
//! of the same program on the wide port.

mod common;

use onespike_hw::uart_host::{ByteLink, HdlUart, SimLink};

#[test]
fn bytes_cross_the_line_both_ways_with_the_bit_timing() {
    let p = common::uart_params();
    onespike_hw::with_uart_config!(&p, U => {
        let mut link = SimLink::new(HdlUart::<U>::new(&p), &p);
        // An output command is answered with the output vector: nothing
        // has run, so `done` and `running` are low and the line carried a
        // whole frame per byte (SimLink checks each bit's clocks).
        link.send(&[b'O']).unwrap();
        let (_, out_bytes) = onespike_hw::uart::payload_bytes(&p);
        let answer = link.recv(out_bytes).unwrap();
        assert_eq!(answer.len(), out_bytes);
        assert_eq!(link.framing_errors, 0);
        // A byte that is no command is ignored; the next command still answers.
        link.send(&[0x00, b'I']).unwrap();
        link.send(&vec![0; onespike_hw::uart::payload_bytes(&p).0]).unwrap();
        assert_eq!(link.recv(1).unwrap(), vec![b'K']);
        // One frame is 10 bits of 8 clocks: the answer cannot come sooner
        // than the command's frames.
        assert!(link.cycles > 10 * 8 * 2);
    })
    .unwrap();
}

#[test]
fn a_program_through_the_uart_gives_the_wide_ports_spikes_and_classes() {
    let p = common::uart_params();
    onespike_hw::with_uart_config!(&p, U => common::uart_program(HdlUart::<U>::new(&p), &p))
        .unwrap();
}
