//! onespike-host: the trainer, data loading and the glue behind the
//! `onespike` command line.
//!
//! Owns IDX loading and the embedded default dataset (`data`), the TTFS
//! trainer (`train`), and the `onespike` binary (`src/main.rs`, `src/cmd/`),
//! which is only argument parsing and glue over the library crates.
//!
//! Nothing depends on this crate. It is the only crate that uses `anyhow`
//! (in the binary); the library modules return typed errors.

pub mod data;
pub mod eval;
pub mod train;
