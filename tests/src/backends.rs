//! The backends a case runs on, behind one function: the integer reference
//! model (the judge), the cycle-accurate simulator, the rust-hdl RTL
//! (hand-clocked `simulate()` loop), Verilator on the exported Verilog, and
//! (opt-in) the iCE40 gate-level netlist in lockstep with its RTL. Each returns, per input, the
//! backend-independent [`Expected`] record (cycles included where the
//! backend has a clock), so that one comparison serves them all.

use crate::case::{expected_of, Case, Expected};
use onespike_compiler::spikes::decide;
use onespike_hw::driver::{Driver, Pins, RtlRun, RunConfig};
use onespike_hw::fpga_top::{Lockstep, SerialHost};
use onespike_hw::hdl_model::HdlModel;
use onespike_hw::uart_host::{load_program, run_inference};

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
    /// The gate-level netlist Yosys synthesizes for an iCE40 HX part
    /// (`synth_ice40`: LUTs, carries, flip-flops, block RAMs) of the serial
    /// FPGA top, Verilated with Yosys' cell library and driven through its
    /// pins. Opt-in: synthesis takes a while once per configuration.
    GateHx,
    /// The same for an UltraPlus part (`synth_ice40 -spram`: the weight
    /// SRAMs in SPRAM cells), the netlist of the `up5k` bitstream.
    GateUp,
}

impl Backend {
    /// Every backend, in the order a case runs on them (the judge first,
    /// then the fastest cycle-level backend, whose cycles the RTL must
    /// repeat).
    pub const ALL: [Backend; 6] = [
        Backend::Reference,
        Backend::Sim,
        Backend::Verilator,
        Backend::RustHdl,
        Backend::GateHx,
        Backend::GateUp,
    ];

    /// The backends that run when none are named: all but the gate-level
    /// ones (each synthesizes the design first).
    pub const DEFAULT: [Backend; 4] = [Self::ALL[0], Self::ALL[1], Self::ALL[2], Self::ALL[3]];

    /// nextpnr's name of the iCE40 part a gate-level backend synthesizes for.
    pub fn gate_device(self) -> Option<&'static str> {
        match self {
            Backend::GateHx => Some("hx8k"),
            Backend::GateUp => Some("up5k"),
            _ => None,
        }
    }

    /// The name on the command line (`--backends`).
    pub fn flag(self) -> &'static str {
        match self {
            Backend::Reference => "reference",
            Backend::Sim => "sim",
            Backend::RustHdl => "rtl",
            Backend::Verilator => "verilator",
            Backend::GateHx => "gate-hx",
            Backend::GateUp => "gate-up",
        }
    }

    /// The backend of a `--backends` name.
    pub fn from_flag(s: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.flag() == s)
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Reference => "reference model",
            Backend::Sim => "simulator",
            Backend::RustHdl => "rust-hdl RTL",
            Backend::Verilator => "Verilator",
            Backend::GateHx => "iCE40 HX netlist",
            Backend::GateUp => "iCE40 UP netlist",
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
    /// The case has no network, so the reference model cannot judge it.
    #[error("{backend} does not apply: {reason}")]
    NotApplicable {
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

/// Whether `backend` can run configuration `p` here; if not, why, naming
/// the configuration. Every configuration has RTL: a built-in one in this
/// process, any other from its library, compiled on first use
/// (`onespike_hw::generated`); the Verilator model of either is built on
/// first use too, so this may take a while once per configuration.
pub fn availability(backend: Backend, p: &onespike_compiler::HwParams) -> Result<(), String> {
    match backend {
        Backend::Reference | Backend::Sim => Ok(()),
        Backend::RustHdl if onespike_hw::configs::built_in_row(p).is_ok() => Ok(()),
        Backend::RustHdl => onespike_hw::generated::library(p)
            .map(drop)
            .map_err(|e| format!("configuration `{}` has no rust-hdl RTL: {e}", p.name)),
        Backend::Verilator => onespike_verilator::VerilatorModel::new(p)
            .map(drop)
            .map_err(|e| format!("configuration `{}` has no Verilator model: {e}", p.name)),
        Backend::GateHx | Backend::GateUp => {
            let device = backend.gate_device().expect("a gate-level backend");
            onespike_verilator::VerilatorFpga::gate_level(p, device)
                .map(drop)
                .map_err(|e| {
                    format!(
                        "configuration `{}` has no gate-level model for {device}: {e}",
                        p.name
                    )
                })
        }
    }
}

/// Runs every input of `case` on `backend`.
pub fn run(backend: Backend, case: &Case) -> Result<Vec<Expected>, RunError> {
    match backend {
        Backend::Reference if case.network.is_none() => Err(RunError::NotApplicable {
            backend: backend.name(),
            reason: "the program has no network form (arbitrary listen windows)".into(),
        }),
        Backend::Reference => case
            .inputs
            .iter()
            .enumerate()
            .map(|(k, inp)| {
                case.reference(inp)
                    .map(|r| case.observed(expected_of(&r)))
                    .map_err(|e| RunError::Failed {
                        backend: backend.name(),
                        input: k,
                        message: e,
                    })
            })
            .collect(),
        Backend::Sim => Ok(run_sim(case)?.iter().map(expected_of_sim).collect()),
        Backend::RustHdl if onespike_hw::configs::built_in_row(case.params()).is_ok() => {
            onespike_hw::with_config!(case.params(), T => {
                run_rtl(backend, HdlModel::<T>::new(case.params()), case)
            })
            .expect("a built-in configuration")
        }
        Backend::RustHdl => {
            let model = onespike_hw::generated::model(case.params()).map_err(|e| {
                RunError::Unavailable {
                    backend: backend.name(),
                    reason: e.to_string(),
                }
            })?;
            run_rtl(backend, model, case)
        }
        Backend::Verilator => {
            let model = onespike_verilator::VerilatorModel::new(case.params()).map_err(|e| {
                RunError::Unavailable {
                    backend: backend.name(),
                    reason: e.to_string(),
                }
            })?;
            run_rtl(backend, model, case)
        }
        Backend::GateHx | Backend::GateUp => run_gate(backend, case),
    }
}

/// Runs every input of `case` on the gate-level netlist of the serial FPGA
/// top, in lockstep with the same top's RTL (Verilated): both driven
/// through their pins by one [`SerialHost`], every output pin compared in
/// every cycle, from the first load write to the last potential read. The
/// spikes, final potentials and class it reads back are the ones the
/// harness compares with the reference model. Its cycle count is not the
/// simulator's (the bit-serial host link paces the input events), so it is
/// left unrecorded; the lockstep holds it to the RTL's, cycle for cycle.
fn run_gate(backend: Backend, case: &Case) -> Result<Vec<Expected>, RunError> {
    let device = backend.gate_device().expect("a gate-level backend");
    let unavailable = |e: onespike_verilator::VerilatorError| RunError::Unavailable {
        backend: backend.name(),
        reason: e.to_string(),
    };
    let rtl = onespike_verilator::VerilatorFpga::new(case.params()).map_err(unavailable)?;
    let gates = onespike_verilator::VerilatorFpga::gate_level(case.params(), device)
        .map_err(unavailable)?;
    let fail = |input: usize, message: String| RunError::Failed {
        backend: backend.name(),
        input,
        message,
    };
    let cfg = RunConfig {
        early_exit: case.early_exit,
        all_spikes: !case.output_only,
        max_cycles: MAX_CYCLES,
        timing: case.timing.into(),
    };
    let mut host = SerialHost::new(Lockstep::new(rtl, gates), case.params());
    load_program(&mut host, &case.program, &cfg).map_err(|e| fail(0, e.to_string()))?;
    if let Some(d) = host.port.difference.take() {
        return Err(fail(0, format!("loading the program: {d}")));
    }
    case.inputs
        .iter()
        .enumerate()
        .map(|(k, inp)| {
            let r = run_inference(&mut host, &case.program, inp.as_slice(), MAX_CYCLES)
                .map_err(|e| fail(k, e.to_string()))?;
            if let Some(d) = host.port.difference.take() {
                return Err(fail(k, format!("the netlist is not its RTL: {d}")));
            }
            Ok(Expected {
                cycles: None,
                ..expected_of_rtl(&case.program, &r)
            })
        })
        .collect()
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
        all_spikes: !case.output_only,
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
        all_spikes: !case.output_only,
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

/// Fills the expectations of a case without a network from the
/// simulator's spikes, potentials, class and steps. Cycles are left
/// unrecorded: the harness holds the RTL backends to the simulator's
/// cycles as they run, so they are not an expectation the simulator could
/// meet by itself.
pub fn record_on_simulator(case: &mut Case) -> Result<(), RunError> {
    case.expected = run_sim(case)?
        .iter()
        .map(|r| Expected {
            cycles: None,
            ..expected_of_sim(r)
        })
        .collect();
    Ok(())
}
