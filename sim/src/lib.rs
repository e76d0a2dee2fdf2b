//! onespike-sim: the cycle-accurate simulator of the accelerator in `hw`.
//!
//! Owns the transaction-level model of every hardware block (one module per
//! block, named as in `hw`), the action counters, the energy model that
//! prices those counts from a technology table, and VCD traces.
//!
//! Must not depend on: `hw` or rust-hdl (it models the hardware from the
//! shared parameters in `onespike-compiler`, it does not run it), nor `host`.
//! Errors are typed (`thiserror`).
//!
//! Status: the energy model ([`energy`]) is here; the block models and
//! their counters arrive with the simulator issue (#4).

pub mod energy;
