//! onespike-hw: the accelerator in rust-hdl (`=0.46.0`) and its Verilog
//! export.
//!
//! Owns one module per hardware block — [`host_port`], [`event_fifo`],
//! [`core`] (with its pointer/weight SRAMs and state memories) and its
//! [`neuron`] datapath, [`step_controller`], [`top`] (with the router), [`fpga_top`] (a serial
//! host interface for pin-limited FPGAs), [`uart`] (the same behind a UART,
//! for boards with a USB-serial chip; its host side is [`uart_host`]) — plus the host-side
//! [`driver`] that loads a `Program` and runs inferences through a [`Pins`]
//! trait (implemented here for the rust-hdl model, and by the
//! `onespike-verilator` crate for Verilator), and [`export`] (Verilog, lint,
//! FPGA top). Timing and interfaces are documented in `docs/hw.md`.
//!
//! Must not depend on: `sim` or `host`. Every size comes from
//! `onespike_compiler::HwParams`; every word layout from
//! `onespike_compiler::layout`. rust-hdl widths are const generics: the
//! configurations of the compiler's preset table are instantiated here
//! ([`configs`]); any other `HwParams` gets its instantiation compiled on
//! first use into a library loaded at run time ([`generated`],
//! [`rtl_lib`]), which also serves the Verilog of [`export`].
//!
//! Tests (hand-clocked `simulate()` loops, never the threaded Simulation
//! API): block tests of the FIFO beside it, of a core in
//! `tests/core_block.rs` and of the neuron block (exhaustive, against
//! `NeuronModel::step`) in `tests/neuron_block.rs`; exact cycle counts in
//! `tests/timing.rs`; host gaps, stalls and the `done` rule in
//! `tests/host_timing.rs`; whole-accelerator equivalence with the reference
//! model on random sparse TTFS networks in `tests/equivalence.rs` and on
//! random multi-spike programs of every neuron mode (recurrent layers, rate
//! inputs, decisions) in `tests/modes.rs`; the serial FPGA top in
//! `tests/fpga_top.rs`; Verilog through Verilator lint, Icarus and Yosys in
//! `tests/verilog.rs`. The same equivalence runs on the exported Verilog in
//! the `onespike-verilator` crate.
//!
//! The register map is the compiler's (`onespike_compiler::regs`):
//! [`host_port`] re-exports it, the driver sends `regs::host_writes`.

/// A constant of `N` bits (rust-hdl's `Constant`), for the blocks' tables.
pub(crate) fn k<const N: usize>(v: u64) -> rust_hdl::prelude::Constant<rust_hdl::prelude::Bits<N>> {
    rust_hdl::prelude::Constant::new(v.into())
}

/// `bits` ones, LSB first (all 64 for 64 bits or more).
pub(crate) fn ones(bits: usize) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

pub mod configs;
pub mod core;
pub mod driver;
pub mod event_fifo;
pub mod export;
pub mod fpga_top;
pub mod generated;
pub mod hdl_model;
pub mod host_port;
pub mod neuron;
pub mod rtl_lib;
pub mod spram;
pub mod step_controller;
pub mod synth;
pub mod top;
pub mod uart;
pub mod uart_host;

pub use configs::{supported_configs, tiny_narrow_params, tiny_params};
pub use driver::{Driver, Inputs, Outputs, Pins, RtlRun};

/// Why the hardware side refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum HwError {
    #[error("configuration `{name}` is not built into onespike-hw (built in: {known}); its RTL comes from onespike_hw::generated, compiled on first use")]
    UnsupportedConfig { name: String, known: String },
    #[error("the program was compiled for configuration `{program}` but the hardware model is `{model}`")]
    ConfigMismatch { program: String, model: String },
    #[error("invalid program: {0}")]
    Program(#[from] onespike_compiler::IrError),
    #[error(transparent)]
    Input(#[from] onespike_compiler::program::InputError),
    #[error("the accelerator did not finish within {cycles} cycles")]
    Timeout { cycles: u64 },
    #[error("the output stream carried source id {source_id}, which is no neuron of the program")]
    UnknownSpike { source_id: u64 },
    #[error("{tool} failed on {file}: {message}")]
    Tool {
        tool: String,
        file: String,
        message: String,
    },
    #[error("{0}")]
    Config(String),
    #[error("serial link to the board: {message}")]
    Link { message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
