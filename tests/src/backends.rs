//! The backends a case runs on, behind one function: the integer reference
//! model (the judge), the cycle-accurate simulator, the rust-hdl RTL
//! (hand-clocked `simulate()` loop), and Verilator on the exported Verilog. Each returns, per input, the
//! backend-independent [`Expected`] record (cycles included where the
//! backend has a clock), so that one comparison serves them all.

use crate::case::{expected_of, first_difference, Case, Expected};
use onespike_compiler::spikes::decide;
use onespike_hw::driver::{Driver, Pins, RtlRun, RunConfig};
use onespike_hw::hdl_model::HdlModel;
use std::path::{Path, PathBuf};

/// Cycle budget of one inference (far above any case's need: a run that
/// reaches it has hung).
const MAX_CYCLES: u64 = 5_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The integer reference model (no cycles).
    Reference,
    /// The cycle-accurate simulator (`onespike-sim`).
    Sim,
    /// The accelerator in rust-hdl simulation.
    RustHdl,
    /// The exported Verilog, compiled by Verilator.
    Verilator,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Reference => "reference model",
            Backend::Sim => "simulator",
            Backend::RustHdl => "rust-hdl RTL",
            Backend::Verilator => "Verilator",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The backend is not available on this machine (Verilator missing at
    /// build time).
    #[error("{backend} is not available: {reason}")]
    Unavailable {
        backend: &'static str,
        reason: String,
    },
    #[error("{backend} failed on input {input}: {message}")]
    Failed {
        backend: &'static str,
        input: usize,
        message: String,
    },
}

/// Runs every input of `case` on `backend`.
pub fn run(backend: Backend, case: &Case) -> Result<Vec<Expected>, RunError> {
    match backend {
        Backend::Reference => case
            .inputs
            .iter()
            .enumerate()
            .map(|(k, inp)| {
                case.reference(inp)
                    .map(|r| expected_of(&r))
                    .map_err(|e| RunError::Failed {
                        backend: backend.name(),
                        input: k,
                        message: e.to_string(),
                    })
            })
            .collect(),
        Backend::Sim => Ok(run_sim(case)?.iter().map(expected_of_sim).collect()),
        Backend::RustHdl => onespike_hw::with_config!(case.params(), T => {
            run_rtl(backend, HdlModel::<T>::new(case.params()), case)
        })
        .map_err(|e| RunError::Unavailable {
            backend: backend.name(),
            reason: e.to_string(),
        })?,
        Backend::Verilator => {
            let model = onespike_verilator::VerilatorModel::new(case.params()).map_err(|e| {
                RunError::Unavailable {
                    backend: backend.name(),
                    reason: e.to_string(),
                }
            })?;
            run_rtl(backend, model, case)
        }
    }
}

/// Runs every input of `case` on the simulator, with its full results
/// (action counts, per-core and bus statistics).
pub fn run_sim(case: &Case) -> Result<Vec<onespike_sim::SimRun>, RunError> {
    let fail = |input: usize, e: onespike_sim::SimError| RunError::Failed {
        backend: Backend::Sim.name(),
        input,
        message: e.to_string(),
    };
    let mut sim = onespike_sim::Simulator::new(&case.program).map_err(|e| fail(0, e))?;
    let opts = onespike_sim::SimOptions {
        early_exit: case.early_exit,
        all_spikes: true,
        max_cycles: MAX_CYCLES,
        timing: case.timing.into(),
    };
    case.inputs
        .iter()
        .enumerate()
        .map(|(k, inp)| sim.run(inp, &opts).map_err(|e| fail(k, e)))
        .collect()
}

/// Loads the case's program once and runs each input through the host
/// driver (all spikes on the output stream, so every layer is observed).
fn run_rtl<P: Pins>(backend: Backend, pins: P, case: &Case) -> Result<Vec<Expected>, RunError> {
    let fail = |input: usize, e: onespike_hw::HwError| RunError::Failed {
        backend: backend.name(),
        input,
        message: e.to_string(),
    };
    let cfg = RunConfig {
        early_exit: case.early_exit,
        all_spikes: true,
        max_cycles: MAX_CYCLES,
        timing: case.timing.into(),
    };
    let mut d = Driver::new(pins, case.params());
    d.load(&case.program, &cfg).map_err(|e| fail(0, e))?;
    case.inputs
        .iter()
        .enumerate()
        .map(|(k, inp)| {
            d.infer(&case.program, inp.as_slice(), &cfg)
                .map(|r| expected_of_rtl(&case.program, &r))
                .map_err(|e| fail(k, e))
        })
        .collect()
}

/// The [`Expected`] record of an RTL run of `prog`.
pub fn expected_of_rtl(prog: &onespike_compiler::Program, r: &RtlRun) -> Expected {
    Expected {
        spikes: r.spikes.clone(),
        final_v: r.final_v.clone(),
        class: decide(prog.decision, r.spikes.output(), &r.final_v),
        steps_run: r.steps_run,
        cycles: Some(r.cycles),
    }
}

/// The [`Expected`] record of a simulator run.
pub fn expected_of_sim(r: &onespike_sim::SimRun) -> Expected {
    Expected {
        spikes: r.spikes.clone(),
        final_v: r.final_v.clone(),
        class: r.class(),
        steps_run: r.steps_run,
        cycles: Some(r.cycles),
    }
}

/// A disagreement between a backend and a case's expectation.
#[derive(Debug)]
pub struct Mismatch {
    pub backend: &'static str,
    pub input: usize,
    /// The first difference, in words.
    pub difference: String,
    /// Where the one-input reproducer case was written.
    pub reproducer: Option<PathBuf>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: input {}: {}",
            self.backend, self.input, self.difference
        )?;
        match &self.reproducer {
            Some(p) => write!(
                f,
                "\n  reproducer: {} (copy it into tests/cases/ to keep it)",
                p.display()
            ),
            None => Ok(()),
        }
    }
}

/// Compares `got` (from `backend`) with `want` input by input; on the first
/// difference writes a one-input reproducer of `case` as `name` into
/// `repro_dir` and returns the mismatch. Cycles are compared when both
/// sides have them.
pub fn compare(
    backend: Backend,
    case: &Case,
    name: &str,
    want: &[Expected],
    got: &[Expected],
    repro_dir: &Path,
) -> Result<(), Mismatch> {
    for (k, (w, g)) in want.iter().zip(got).enumerate() {
        if let Some(difference) = first_difference(w, g) {
            let mut repro = case.only_input(k);
            repro.expected[0] = w.clone();
            repro.description = format!(
                "reproducer: {} disagreed on input {k} of {name}: {difference}",
                backend.name()
            );
            let path = repro_dir.join(format!("{}-input{k}.json", sanitize(name)));
            let written = std::fs::create_dir_all(repro_dir)
                .ok()
                .and_then(|_| repro.save(&path).ok())
                .map(|_| path);
            return Err(Mismatch {
                backend: backend.name(),
                input: k,
                difference,
                reproducer: written,
            });
        }
    }
    if want.len() != got.len() {
        return Err(Mismatch {
            backend: backend.name(),
            input: want.len().min(got.len()),
            difference: format!("{} results expected, {} reported", want.len(), got.len()),
            reproducer: None,
        });
    }
    Ok(())
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Where reproducers go: `$CARGO_TARGET_DIR/regression-failures`, else
/// `target/regression-failures` of the workspace.
pub fn reproducer_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("regression-failures")
}
