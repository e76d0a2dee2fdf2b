//! The serial-host FPGA top in rust-hdl simulation: a program loaded
//! through the shift interface runs to the same cycle count and potential
//! as through the wide port (`tests/timing.rs`).

mod common;

use onespike_hw::fpga_top::HdlSerial;

#[test]
fn a_program_runs_through_the_serial_interface() {
    let p = onespike_hw::tiny_params();
    onespike_hw::with_fpga_config!(&p, F => common::serial_smoke(HdlSerial::<F>::new(&p), &p))
        .unwrap();
}
