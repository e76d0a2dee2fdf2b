//! onespike-tests: the verification harness (shared by the regression
//! testbench and `onespike verify`) that holds the backends to the
//! integer reference model (`docs/semantics.md`; the equivalence it checks is `docs/architecture.md`, "Verification").
//!
//! Owns the regression cases (files under `tests/cases/`, format in
//! [`case`]; random ones from a seed in [`random`]) and the runners of each
//! backend behind one function ([`backends::run`]): the reference model,
//! the cycle-accurate simulator, the rust-hdl RTL and Verilator on the
//! exported Verilog; and the [`harness`] that runs a case on a list of
//! backends, tallies the summary table and, on a mismatch, names the case,
//! the backend, the input and the first differing spike or cycle count and
//! writes a one-input reproducer case.
//!
//! Must not depend on: `host` (nothing does; `host` uses this library for
//! `onespike verify`). It may depend on every library crate.

pub mod backends;
pub mod case;
pub mod harness;
pub mod random;
