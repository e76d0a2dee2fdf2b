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
        ]);
    }
    // Input 0 spikes at step 0; it is the only event (in_end).
    s.send(&[
        ("start", 1),
        ("in_valid", 1),
        ("in_end", 1),
        ("in_source", 0),
        ("in_step", 0),
    ]);
    let mut polls = 0;
    while s.read_field("done") == 0 {
        polls += 1;
        assert!(polls < 100);
    }
    // The wide port's count (tests/timing.rs): (8 + 2) + 10 * (5 + 6) + 3 + 3.
    assert_eq!(s.read_field("cycles"), 126);
    assert_eq!(s.read_field("in_pending"), 0);
    // V of neuron 0: I = 5 from step 1 on, nine steps.
    s.send(&[("in_end", 1), ("vread_core", 0), ("vread_addr", 0)]);
    s.idle();
    assert_eq!(s.read_field("vread_data"), 45);
}
