//! The host driver: turns a `Program` and an input spike train into
//! host-port activity and collects output spikes, final potentials and the
//! cycle count. Generic over [`Pins`], so the same driver runs the rust-hdl
//! model ([`crate::hdl_model::HdlModel`]) and the Verilator model
//! (`onespike-verilator`).
//!
//! Timing contract (what makes cycle counts reproducible): the driver
//! presents the next input event in every cycle (no bubbles), keeps
//! `out_ready` high, and sends input events sorted by step, then by source.

use crate::host_port::*;
use crate::HwError;
use onespike_compiler::layout::sign_extend;
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
    /// `spikes[l][j]`: step at which neuron `j` of layer `l` fired (only
    /// output-layer spikes are seen unless all spikes were requested).
    pub spikes: Vec<Vec<Option<u32>>>,
    /// Final `V` of each output neuron.
    pub final_v: Vec<i64>,
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
    pub early_exit: bool,
    /// Put every spike on the output stream (else only output neurons').
    pub all_spikes: bool,
    /// Give up after this many cycles.
    pub max_cycles: u64,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            early_exit: false,
            all_spikes: true,
            max_cycles: 10_000_000,
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

    fn cycle(&mut self, inputs: &Inputs) -> Outputs {
        let out = self.pins.eval(inputs);
        self.pins.tick();
        self.wall_cycles += 1;
        out
    }

    fn write(&mut self, core: u64, region: u64, index: u64, data: u64) {
        let w = Inputs {
            cfg_we: 1,
            cfg_core: core,
            cfg_region: region,
            cfg_index: index,
            cfg_data: data,
            ..self.idle
        };
        self.cycle(&w);
    }

    /// Writes every register and SRAM image of `prog` through the host port
    /// (one write per cycle, in the order of [`host_writes`]).
    pub fn load(&mut self, prog: &Program, run: &RunConfig) -> Result<(), HwError> {
        if !prog.params.same_hardware(&self.params) {
            return Err(HwError::ConfigMismatch {
                program: prog.params.name.clone(),
                model: self.params.name.clone(),
            });
        }
        for w in host_writes(prog, run)? {
            self.write(w.core, w.region, w.index, w.data);
        }
        Ok(())
    }

    /// Runs one inference of the loaded `prog` on `input` (the spike step
    /// of each input channel, `None` for no spike).
    pub fn infer(
        &mut self,
        prog: &Program,
        input: &[Option<u32>],
        run: &RunConfig,
    ) -> Result<RtlRun, HwError> {
        let p = self.params.clone();
        let events =
            onespike_compiler::program::input_events(input, prog.input_size, prog.time_steps, &p)?;
        let mut spikes: Vec<Vec<Option<u32>>> =
            prog.neurons.iter().map(|l| vec![None; l.len()]).collect();
        let mut spike_count = 0;
        let mut record =
            |out: &Outputs, spikes: &mut Vec<Vec<Option<u32>>>| -> Result<(), HwError> {
                if out.out_valid != 0 {
                    let (l, j) =
                        prog.neuron_of(out.out_source as u32)
                            .ok_or(HwError::UnknownSpike {
                                source_id: out.out_source,
                            })?;
                    spikes[l][j] = Some(out.out_step as u32);
                    spike_count += 1;
                }
                Ok(())
            };
        let start = Inputs {
            start: 1,
            ..self.idle
        };
        self.cycle(&start);
        let mut next = 0usize;
        let mut n = 0u64;
        let done_out = loop {
            let mut inp = self.idle;
            if let Some(&(t, src)) = events.get(next) {
                inp.in_valid = 1;
                inp.in_source = src as u64;
                inp.in_step = t as u64;
            } else {
                inp.in_end = 1;
            }
            let out = self.cycle(&inp);
            record(&out, &mut spikes)?;
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
        Ok(RtlRun {
            spikes,
            final_v,
            steps_run: done_out.step as u32 + 1,
            cycles: done_out.cycles,
            spike_count,
        })
    }
}

/// One configuration write of the host port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostWrite {
    pub core: u64,
    pub region: u64,
    pub index: u64,
    pub data: u64,
}

/// The host-port writes that load `prog`: per core its registers, pointer
/// and weight images (unused cores get no neurons and an empty window),
/// then the global registers.
pub fn host_writes(prog: &Program, run: &RunConfig) -> Result<Vec<HostWrite>, HwError> {
    prog.validate("program to load")?;
    let p = &prog.params;
    let vmask = (1u64 << p.membrane_bits) - 1;
    let last_layer = prog.neurons.len().saturating_sub(1) as u32;
    let mut v = Vec::new();
    let mut w = |core: u32, region: u64, index: u64, data: u64| {
        v.push(HostWrite {
            core: core as u64,
            region,
            index,
            data,
        })
    };
    for c in 0..p.cores {
        match prog.cores.get(c as usize) {
            Some(img) => {
                w(
                    c,
                    REGION_REGISTER,
                    REG_THRESHOLD,
                    img.threshold as u64 & vmask,
                );
                w(c, REGION_REGISTER, REG_NEURONS, img.neurons as u64);
                w(c, REGION_REGISTER, REG_LISTEN_BASE, img.listen_base as u64);
                w(
                    c,
                    REGION_REGISTER,
                    REG_LISTEN_END,
                    img.listen_base as u64 + img.pointers.len() as u64,
                );
                w(
                    c,
                    REGION_REGISTER,
                    REG_OUTPUT,
                    (img.layer == last_layer) as u64,
                );
                for (i, e) in img.pointers.iter().enumerate() {
                    w(c, REGION_POINTER, i as u64, e.pack(p));
                }
                for (i, e) in img.weights.iter().enumerate() {
                    w(c, REGION_WEIGHT, i as u64, e.pack(p));
                }
            }
            None => {
                w(c, REGION_REGISTER, REG_NEURONS, 0);
                w(c, REGION_REGISTER, REG_LISTEN_BASE, 0);
                w(c, REGION_REGISTER, REG_LISTEN_END, 0);
                w(c, REGION_REGISTER, REG_OUTPUT, 0);
            }
        }
    }
    w(0, REGION_GLOBAL, GLOBAL_TIME_STEPS, prog.time_steps as u64);
    let flags = if run.early_exit { FLAG_EARLY_EXIT } else { 0 }
        | if run.all_spikes { FLAG_ALL_SPIKES } else { 0 };
    w(0, REGION_GLOBAL, GLOBAL_FLAGS, flags);
    Ok(v)
}

/// Lower bound of an inference's cycles: the busiest core's synaptic events
/// (summed over the run), from a reference run's spikes.
pub fn synaptic_lower_bound(
    prog: &Program,
    input: &[Option<u32>],
    spikes: &[Vec<Option<u32>>],
    steps_run: u32,
) -> u64 {
    let mut per_core = vec![0u64; prog.cores.len()];
    let p = &prog.params;
    let mut fired: Vec<u32> = input
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s, Some(t) if *t < steps_run))
        .map(|(i, _)| i as u32)
        .collect();
    for (l, layer) in spikes.iter().enumerate() {
        for (j, s) in layer.iter().enumerate() {
            if s.is_some() {
                let slot = prog.neurons[l][j];
                fired.push(p.neuron_source_id(slot.core, slot.local));
            }
        }
    }
    for (c, img) in prog.cores.iter().enumerate() {
        for &src in &fired {
            if src >= img.listen_base && ((src - img.listen_base) as usize) < img.pointers.len() {
                per_core[c] += img.pointers[(src - img.listen_base) as usize].count as u64;
            }
        }
    }
    per_core.into_iter().max().unwrap_or(0)
}
