//! Shared by the FPGA-top tests of `hw` (rust-hdl) and `verilator`
//! (Verilated): one program through the serial host interface. Random
//! cases and whole-accelerator equivalence live in the regression
//! testbench (`tests/`).

use onespike_compiler::regs::HostTiming;
use onespike_compiler::{map_in_order, HwParams, InputEncoding, QuantNetwork};
use onespike_hw::driver::RunConfig;

/// Loads a 3-5 network through the serial FPGA top, runs one input event,
/// and checks the cycle count (the wide port's, see tests/timing.rs) and a
/// final potential.
pub fn serial_smoke<S: onespike_hw::fpga_top::SerialPort>(port: S, p: &HwParams) {
    let weights = vec![5, 1, 0, 5, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0];
    let net = QuantNetwork::dense(3, InputEncoding::new(4), 10, 8, vec![(5, 100_000, weights)]);
    let prog = map_in_order(&net, p).unwrap();
    let mut s = onespike_hw::fpga_top::SerialHost::new(port, p);
    let run = RunConfig {
        early_exit: false,
        all_spikes: true,
        max_cycles: 0,
        timing: HostTiming::EAGER,
    };
    for w in onespike_hw::driver::host_writes(&prog, &run).unwrap() {
        s.send(&[
            ("cfg_we", 1),
            ("cfg_core", w.core as u64),
            ("cfg_region", w.region),
            ("cfg_index", w.index),
            ("cfg_data", w.data),
        ])
        .unwrap();
    }
    // Input 0 spikes at step 0; it is the only event (in_end).
    s.send(&[
        ("start", 1),
        ("in_valid", 1),
        ("in_end", 1),
        ("in_source", 0),
        ("in_step", 0),
    ])
    .unwrap();
    let mut polls = 0;
    while s.read_field("done") == 0 {
        polls += 1;
        assert!(polls < 100);
    }
    // The wide port's count (tests/timing.rs): (8 + 2) + 10 * (5 + 6) + 3 + 3.
    assert_eq!(s.read_field("cycles"), 126);
    assert_eq!(s.read_field("in_pending"), 0);
    // V of neuron 0: I = 5 from step 1 on, nine steps.
    s.send(&[("in_end", 1), ("vread_core", 0), ("vread_addr", 0)])
        .unwrap();
    s.idle();
    assert_eq!(s.read_field("vread_data"), 45);
}

/// `tiny` with a UART of 8 clocks per bit (100 MHz / 12.5 Mbaud): the
/// fewest the receiver allows, for a quick simulation.
pub fn uart_params() -> HwParams {
    let mut p = onespike_hw::tiny_params();
    p.uart_baud = 12_500_000;
    p.validate("test").unwrap();
    assert_eq!(p.uart_clocks_per_bit(), 8);
    p
}

/// A 6-5-3 network whose hidden and output neurons fire at different steps.
pub fn uart_network() -> QuantNetwork {
    #[rustfmt::skip]
    let hidden = vec![
        9, 3, 0, 0, 4, 1,
        0, 7, 7, 0, 0, 2,
        2, 0, 5, 8, 0, 0,
        0, 0, 0, 6, 6, 6,
        5, 5, 5, 5, 5, 5,
    ];
    #[rustfmt::skip]
    let output = vec![
        8, 0, 3, 0, 2,
        0, 9, 0, 4, 1,
        3, 3, 3, 3, 3,
    ];
    QuantNetwork::dense(
        6,
        InputEncoding::new(4),
        12,
        8,
        vec![(5, 40, hidden), (3, 60, output)],
    )
}

/// Loads [`uart_network`] through the UART top behind `pins` (with exact
/// bit timing, `SimLink`) and runs three images: the spikes (every layer),
/// final potentials, classes and steps are the wide port's on the rust-hdl
/// model; the host's pace only lengthens the runs.
pub fn uart_program<P: onespike_hw::uart_host::UartPins>(pins: P, p: &HwParams) {
    use onespike_hw::hdl_model::HdlModel;
    use onespike_hw::uart_host::{SimLink, UartHost};
    use onespike_hw::Driver;
    let net = uart_network();
    let prog = map_in_order(&net, p).unwrap();
    let run = RunConfig::default();
    let images: [[u8; 6]; 3] = [
        [255, 200, 0, 90, 30, 255],
        [0, 0, 255, 255, 128, 64],
        [10, 250, 250, 10, 0, 0],
    ];
    let wide: Vec<_> = onespike_hw::with_config!(p, T => {
        let mut d = Driver::new(HdlModel::<T>::new(p), p);
        d.load(&prog, &run).unwrap();
        images
            .iter()
            .map(|im| d.infer(&prog, &net.encoding.encode(im), &run).unwrap())
            .collect()
    })
    .unwrap();
    let mut h = UartHost::new(SimLink::new(pins, p), p);
    h.load(&prog, &run).unwrap();
    let board: Vec<_> = images
        .iter()
        .map(|im| h.infer(&prog, &net.encoding.encode(im), 10_000).unwrap())
        .collect();
    assert_eq!(h.link.framing_errors, 0);
    // Some output spike was offered while an input event waited for a
    // later step: the bridge sent it unasked (`S`), and the run went on.
    assert!(h.spills > 0, "no S record");
    let mut spikes = 0;
    for (k, (w, b)) in wide.iter().zip(&board).enumerate() {
        assert_eq!(b.spikes, w.spikes, "image {k}");
        assert_eq!(b.final_v, w.final_v, "image {k}");
        assert_eq!(b.class, w.class, "image {k}");
        assert_eq!(b.steps_run, w.steps_run, "image {k}");
        assert!(b.cycles >= w.cycles, "image {k}");
        spikes += w.spike_count;
    }
    // Not vacuous: both layers fire, and the classes differ.
    assert!(spikes > 6, "{spikes} spikes");
    assert!(wide.iter().any(|r| r.class != wide[0].class));
}
