//! The host driver: turns a `Program` and an input spike train into
//! host-port activity and collects output spikes, final potentials and the
//! cycle count. Generic over [`Pins`], so the same driver runs the rust-hdl
//! model ([`crate::hdl_model::HdlModel`]) and the Verilator model
//! (`onespike-verilator`).
//!
//! Loading sends exactly `onespike_compiler::regs::host_writes` (the one
//! register map). Timing contract (what makes cycle counts reproducible):
//! input events go out sorted by step, then by source; in cycle `n` of an
//! inference (`n = 0` is the `Clear` cycle, the first after the `start`
//! pulse) the driver offers the next event iff
//! `RunConfig::timing.in_valid(n)`, drives `out_ready =
//! RunConfig::timing.out_ready(n)`, and records an output spike in every
//! cycle with `out_valid & out_ready`. The default timing
//! ([`HostTiming::EAGER`]) never leaves a gap.

use crate::HwError;
use onespike_compiler::layout::sign_extend;
use onespike_compiler::regs::{HostTiming, HostWrite, RunFlags};
use onespike_compiler::spikes::{decide, SpikeInput, SpikeRecord};
use onespike_compiler::{HwParams, Program};

/// Values of the input pins for one cycle (`#[repr(C)]`: shared with the
/// Verilator shim).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inputs {
    pub reset: u64,
    pub start: u64,
    pub cfg_we: u64,
    pub cfg_core: u64,
    pub cfg_region: u64,
    pub cfg_index: u64,
    pub cfg_data: u64,
    pub in_valid: u64,
    pub in_source: u64,
    pub in_step: u64,
    pub in_end: u64,
    pub out_ready: u64,
    pub vread_core: u64,
    pub vread_addr: u64,
}

/// Values of the output pins after the combinational logic settled.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outputs {
    pub done: u64,
    pub running: u64,
    pub cycles: u64,
    pub step: u64,
    pub in_ready: u64,
    pub out_valid: u64,
    pub out_source: u64,
    pub out_step: u64,
    pub vread_data: u64,
}

/// A clocked model of the accelerator's top-level pins.
pub trait Pins {
    /// Applies `inputs` (clock low) and settles the logic.
    fn eval(&mut self, inputs: &Inputs) -> Outputs;
    /// One rising clock edge with the inputs of the last `eval`.
    fn tick(&mut self);
}

/// The result of one inference on the RTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtlRun {
    /// Every spike the output stream carried (only output-layer spikes
    /// unless all spikes were requested), per layer, sorted.
    pub spikes: SpikeRecord,
    /// Final `V` of each output neuron.
    pub final_v: Vec<i64>,
    /// The class, by the program's decision rule.
    pub class: usize,
    /// Steps run (`T`, or fewer with early exit).
    pub steps_run: u32,
    /// Cycles from start to done, as counted by the accelerator.
    pub cycles: u64,
    /// Spikes received on the output stream.
    pub spike_count: u64,
}

/// Options of an inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunConfig {
    /// End after the first step with an output spike (only sent to the
    /// hardware when the program's decision allows it).
    pub early_exit: bool,
    /// Put every spike on the output stream (else only output neurons').
    pub all_spikes: bool,
    /// Give up after this many cycles.
    pub max_cycles: u64,
    /// How the host drives `in_valid` and `out_ready`, per cycle.
    pub timing: HostTiming,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            early_exit: false,
            all_spikes: true,
            max_cycles: 10_000_000,
            timing: HostTiming::EAGER,
        }
    }
}

impl RunConfig {
    /// The global flags register for `prog`: early exit only under a
    /// decision that allows it.
    pub fn flags(&self, prog: &Program) -> RunFlags {
        RunFlags {
            early_exit: self.early_exit && prog.decision.allows_early_exit(),
            all_spikes: self.all_spikes,
        }
    }
}

/// Host driver over some [`Pins`].
pub struct Driver<P: Pins> {
    pub pins: P,
    params: HwParams,
    idle: Inputs,
    /// Cycles spent by the driver (host writes included).
    pub wall_cycles: u64,
}

impl<P: Pins> Driver<P> {
    /// Wraps a model built for `params` and resets it.
    pub fn new(pins: P, params: &HwParams) -> Driver<P> {
        let mut d = Driver {
            pins,
            params: params.clone(),
            idle: Inputs {
                out_ready: 1,
                ..Default::default()
            },
            wall_cycles: 0,
        };
        let reset = Inputs { reset: 1, ..d.idle };
        for _ in 0..2 {
            d.cycle(&reset);
        }
        d
    }

    /// One clock cycle: applies `inputs`, returns the settled outputs of
    /// the cycle (before the edge), then clocks.
    pub fn cycle(&mut self, inputs: &Inputs) -> Outputs {
        let out = self.pins.eval(inputs);
        self.pins.tick();
        self.wall_cycles += 1;
        out
    }

    /// Input pins with nothing offered and `out_ready` high.
    pub fn idle_inputs(&self) -> Inputs {
        self.idle
    }

    /// One host-port write (one cycle).
    pub fn write(&mut self, w: &HostWrite) {
        let w = Inputs {
            cfg_we: 1,
            cfg_core: w.core as u64,
            cfg_region: w.region,
            cfg_index: w.index,
            cfg_data: w.data,
            ..self.idle
        };
        self.cycle(&w);
    }

    /// Writes every register and SRAM image of `prog` through the host port:
    /// exactly [`host_writes`], one write per cycle.
    pub fn load(&mut self, prog: &Program, run: &RunConfig) -> Result<(), HwError> {
        check_hardware(prog, &self.params)?;
        for w in host_writes(prog, run)? {
            self.write(&w);
        }
        Ok(())
    }

    /// Runs one inference of the loaded `prog` on `input` (per-channel
    /// spike steps, or any list of input events).
    pub fn infer<I: SpikeInput + ?Sized>(
        &mut self,
        prog: &Program,
        input: &I,
        run: &RunConfig,
    ) -> Result<RtlRun, HwError> {
        let p = self.params.clone();
        let events =
            onespike_compiler::program::input_events(input, prog.input_size, prog.time_steps, &p)?;
        let sizes: Vec<u32> = prog.neurons.iter().map(|l| l.len() as u32).collect();
        let mut spikes = SpikeRecord::new(&sizes);
        let mut spike_count = 0;
        let start = Inputs {
            start: 1,
            ..self.idle
        };
        self.cycle(&start);
        let mut next = 0usize;
        let mut n = 0u64;
        let done_out = loop {
            let mut inp = self.idle;
            inp.out_ready = run.timing.out_ready(n) as u64;
            match events.get(next) {
                Some(&(t, src)) => {
                    if run.timing.in_valid(n) {
                        inp.in_valid = 1;
                        inp.in_source = src as u64;
                        inp.in_step = t as u64;
                    }
                }
                None => inp.in_end = 1,
            }
            let out = self.cycle(&inp);
            if out.out_valid != 0 && inp.out_ready != 0 {
                let (l, j) =
                    prog.neuron_of(out.out_source as u32)
                        .ok_or(HwError::UnknownSpike {
                            source_id: out.out_source,
                        })?;
                spikes.push(l, out.out_step as u32, j as u32);
                spike_count += 1;
            }
            if out.done != 0 {
                break out;
            }
            if inp.in_valid != 0 && out.in_ready != 0 {
                next += 1;
            }
            n += 1;
            if n > run.max_cycles {
                return Err(HwError::Timeout {
                    cycles: run.max_cycles,
                });
            }
        };
        spikes.sort();
        // Final potentials of the output neurons.
        let mut final_v = Vec::new();
        for slot in prog.neurons.last().map(|l| l.as_slice()).unwrap_or(&[]) {
            let rd = Inputs {
                vread_core: slot.core as u64,
                vread_addr: slot.local as u64,
                ..self.idle
            };
            self.cycle(&rd);
            let out = self.pins.eval(&self.idle);
            final_v.push(sign_extend(out.vread_data, p.membrane_bits));
        }
        let class = decide(prog.decision, spikes.output(), &final_v);
        Ok(RtlRun {
            spikes,
            final_v,
            class,
            steps_run: done_out.step as u32 + 1,
            cycles: done_out.cycles,
            spike_count,
        })
    }
}

/// Refuses `prog` unless it was compiled for the hardware of `model`.
pub fn check_hardware(prog: &Program, model: &HwParams) -> Result<(), HwError> {
    if prog.params.same_hardware(model) {
        Ok(())
    } else {
        Err(HwError::ConfigMismatch {
            program: prog.params.name.clone(),
            model: model.name.clone(),
        })
    }
}

/// The host-port writes that load `prog` with the flags of `run`: the
/// program validated, then exactly `onespike_compiler::regs::host_writes`.
pub fn host_writes(prog: &Program, run: &RunConfig) -> Result<Vec<HostWrite>, HwError> {
    prog.validate("program to load")?;
    Ok(onespike_compiler::regs::host_writes(prog, run.flags(prog)))
}

/// Lower bound of an inference's cycles: the busiest core's synaptic events
/// (summed over the run), from the input events and a reference run's
/// spikes (every spike of every layer, many per neuron allowed).
pub fn synaptic_lower_bound<I: SpikeInput + ?Sized>(
    prog: &Program,
    input: &I,
    spikes: &SpikeRecord,
    steps_run: u32,
) -> u64 {
    let p = &prog.params;
    let mut sources: Vec<u32> = input
        .events()
        .iter()
        .filter(|s| s.step < steps_run)
        .map(|s| s.neuron)
        .collect();
    for (l, layer) in spikes.layers.iter().enumerate() {
        for s in layer {
            let slot = prog.neurons[l][s.neuron as usize];
            sources.push(p.neuron_source_id(slot.core, slot.local));
        }
    }
    prog.cores
        .iter()
        .map(|img| {
            sources
                .iter()
                .filter_map(|&src| img.pointer_of(src))
                .map(|a| img.pointers[a].count as u64)
                .sum::<u64>()
        })
        .max()
        .unwrap_or(0)
}
