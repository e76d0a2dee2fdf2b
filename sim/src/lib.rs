//! onespike-sim: the cycle-accurate simulator of the accelerator in `hw`.
//!
//! Owns a transaction-level model of every hardware block, one module per
//! block named as in `hw` — [`host_port`], [`event_fifo`], [`core`],
//! [`router`] (the bus wiring of hw's `top`), [`step_controller`], [`top`]
//! — that reproduces the RTL's spikes bit for bit and its cycle counter
//! exactly, for any program and input (`docs/sim.md` explains how idle
//! time is skipped without changing what is counted); the action counters
//! ([`ActionCounts`], [`CoreStats`], [`RouterStats`]); the energy model
//! that prices those counts from a technology table ([`energy`], separate
//! from timing); dataset reports built from runs ([`report`]); and VCD
//! traces with the RTL's top-level signal names ([`trace`]).
//!
//! Must not depend on: `hw`, rust-hdl or `onespike-verilator` (it models
//! the hardware from the shared parameters and word layouts of
//! `onespike-compiler`; it does not run it — those are dev-dependencies of
//! its tests and benchmark only), nor `host`. Errors are typed
//! (`thiserror`).
//!
//! Tests: block-level checks beside the code; `tests/rtl_equivalence.rs`
//! runs the simulator against the rust-hdl RTL (through `hw`'s driver) and
//! the reference model on random networks, inputs and programs of every
//! built-in configuration; `tests/verilator_equivalence.rs` a broader
//! sweep against the Verilated RTL; `tests/reference.rs` many more cases
//! against the reference model; `tests/trace.rs` the VCD against the RTL's
//! pins cycle by cycle. Benchmark against Verilator:
//! `benches/vs_verilator.rs`. Design, API, CLI and figures: `docs/sim.md`.

pub mod core;
pub mod energy;
pub mod event_fifo;
pub mod host_port;
pub mod report;
pub mod router;
pub mod step_controller;
pub mod top;
pub mod trace;

pub use crate::core::CoreStats;
pub use energy::{ActionCounts, EnergyBreakdown, EnergyModel, TechTable};
pub use router::RouterStats;
pub use top::Simulator;
pub use trace::Trace;

use onespike_compiler::spikes::{SpikeInput, SpikeRecord};
use onespike_compiler::Program;

/// Options of one inference (the driver's `RunConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimOptions {
    /// End the inference after the first step in which an output neuron fired.
    pub early_exit: bool,
    /// Put every spike on the output stream (else only output neurons').
    pub all_spikes: bool,
    /// Give up when the inference would take more cycles than this.
    pub max_cycles: u64,
    /// How the host drives `in_valid` and `out_ready` (default: no gaps,
    /// the driver's contract).
    pub timing: onespike_compiler::regs::HostTiming,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            early_exit: false,
            all_spikes: true,
            max_cycles: 10_000_000,
            timing: onespike_compiler::regs::HostTiming::EAGER,
        }
    }
}

/// The result of one simulated inference. The first five fields mean
/// exactly what the fields of `onespike_hw::RtlRun` mean.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SimRun {
    /// Every spike seen on the output stream (only the output layer's
    /// unless `all_spikes`), by layer, sorted by step, then neuron.
    pub spikes: SpikeRecord,
    /// Final `V` of each output neuron.
    pub final_v: Vec<i64>,
    /// Steps run (`T`, or fewer with early exit).
    pub steps_run: u32,
    /// The accelerator's cycle counter at `done`.
    pub cycles: u64,
    /// Spikes received on the output stream.
    pub spike_count: u64,
    /// The class under the program's decision rule.
    pub class: usize,
    /// Actions of every core (unused ones included) plus the bus transfers.
    pub counts: ActionCounts,
    /// One entry per hardware core.
    pub per_core: Vec<CoreStats>,
    /// Bus activity.
    pub router: RouterStats,
}

impl SimRun {
    /// The decided class, under the program's decision rule
    /// (`docs/semantics.md`, "Decisions").
    pub fn class(&self) -> usize {
        self.class
    }
}

/// Why a simulation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid program: {0}")]
    Program(#[from] onespike_compiler::IrError),
    #[error(transparent)]
    Input(#[from] onespike_compiler::program::InputError),
    #[error("{0}")]
    Timing(String),
    #[error("the accelerator did not finish within {cycles} cycles (max_cycles)")]
    Timeout { cycles: u64 },
    #[error("the output stream carried source id {source_id}, which is no neuron of the program")]
    UnknownSpike { source_id: u64 },
    #[error("{path}: not a simulation report: {message}")]
    Report { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Simulates one inference of `prog` on `input` (the spike step of each
/// input channel, `None` for no spike, or a list of input events). For
/// many inferences of one program, build a [`Simulator`] once and call
/// [`Simulator::run`].
pub fn simulate<I: SpikeInput + ?Sized>(
    prog: &Program,
    input: &I,
    opts: &SimOptions,
) -> Result<SimRun, SimError> {
    Simulator::new(prog)?.run(input, opts)
}

/// As [`simulate`], and records the inference's waveform.
pub fn simulate_traced<I: SpikeInput + ?Sized>(
    prog: &Program,
    input: &I,
    opts: &SimOptions,
) -> Result<(SimRun, Trace), SimError> {
    Simulator::new(prog)?.run_traced(input, opts)
}

/// Simulates one inference and writes its VCD trace to `path`.
pub fn write_vcd<I: SpikeInput + ?Sized>(
    prog: &Program,
    input: &I,
    opts: &SimOptions,
    path: &std::path::Path,
) -> Result<SimRun, SimError> {
    let (run, trace) = simulate_traced(prog, input, opts)?;
    let io = |source| SimError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut w = std::io::BufWriter::new(file);
    trace.write_vcd(&mut w).map_err(io)?;
    std::io::Write::flush(&mut w).map_err(io)?;
    Ok(run)
}
