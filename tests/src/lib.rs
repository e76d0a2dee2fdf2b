//! onespike-tests: the regression testbench that holds the backends to the
//! integer reference model (SPEC §5).
//!
//! Owns the regression cases (files under `tests/cases/`) and the driver
//! that runs each case on every backend: the reference model, the
//! simulator, the rust-hdl RTL and Verilator on the exported Verilog.
//!
//! Must not depend on: `host` (nothing does). It may depend on every
//! library crate.
