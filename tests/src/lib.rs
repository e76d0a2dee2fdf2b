//! onespike-tests: the regression testbench that holds the backends to the
//! integer reference model (SPEC §5).
//!
//! Owns the regression cases (files under `tests/cases/`, format in
//! [`case`]) and the driver that runs each case on every backend. Today the
//! backends are the reference model itself (expected results recorded in
//! the file); the simulator, the rust-hdl RTL and Verilator join as their
//! issues land. A mismatch names the case, the input, and the first
//! differing spike.
//!
//! Must not depend on: `host` (nothing does). It may depend on every
//! library crate.

pub mod case;
