//! onespike-hw: the accelerator in rust-hdl (`=0.46.0`) and its Verilog
//! export.
//!
//! Owns one module per hardware block (host port, event FIFO, core, weight
//! SRAM, router, step controller), their block-level tests, and the
//! Verilog/FPGA export.
//!
//! Must not depend on: `sim` or `host`. Every size comes from
//! `onespike_compiler::HwParams`; every word layout from
//! `onespike_compiler::layout`.
//!
//! Status: the blocks arrive with the hardware issue (#3); until then this
//! crate only fixes its place in the dependency graph.
