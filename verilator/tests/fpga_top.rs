//! The serial-host FPGA top and the UART top in Verilator: a program loaded through the
//! shift interface runs to the wide port's cycle count and potential
//! (`hw/tests/timing.rs`). The accelerator's Verilated models meet the
//! other backends in the regression testbench (`tests/tests/regression.rs`),
//! not here.

#[path = "../../hw/tests/common/mod.rs"]
mod common;

use onespike_hw::tiny_params;

/// The shared policy: skips where Verilator is missing, except under CI.
fn skip() -> bool {
    !onespike_verilator::models_for_tests()
}

#[test]
fn the_serial_fpga_top_runs_a_program_in_verilator() {
    if skip() {
        return;
    }
    common::serial_smoke(
        onespike_verilator::VerilatorFpga::new(&tiny_params()).unwrap(),
        &tiny_params(),
    );
}

/// The UART top's exported Verilog, Verilated, through its serial line with
/// exact bit timing: the wide port's spikes, potentials and classes.
#[test]
fn the_uart_top_runs_a_program_in_verilator() {
    if skip() {
        return;
    }
    let p = common::uart_params();
    common::uart_program(onespike_verilator::VerilatorUart::new(&p).unwrap(), &p);
}
