//! `top`: the whole accelerator (`hw/src/top.rs`) — host port, step
//! controller, cores and router — running one inference at a time.
//!
//! Per step, in one pass: every core's integrate sweep (which fixes its
//! spike queue's push cycles), then the router until nothing is left to
//! route (which fixes every event's pop and pipeline cycles in the cores),
//! then the `Deliver` end: the first cycle at or after `Deliver` starts in
//! which every core is drained and the input stream is quiet. Nothing is
//! stepped cycle by cycle, and nothing that the RTL counts is left out.

use crate::core::{Core, CoreStats};
use crate::energy::ActionCounts;
use crate::host_port::{load, InputStream, Loaded, OutputPort};
use crate::router::{present_input, route_step, RouterStats};
use crate::step_controller::{deliver_start, first_integrate_cycle, is_last_step, Phase};
use crate::trace::{Sig, Trace};
use crate::{SimError, SimOptions, SimRun};
use onespike_compiler::spikes::{decide, SpikeInput};
use onespike_compiler::{HwParams, Program};
use std::sync::Arc;

/// A program loaded into a simulated accelerator; runs inferences.
/// Cloning is cheap (the loaded images are shared): one per thread.
#[derive(Debug, Clone)]
pub struct Simulator {
    loaded: Arc<Loaded>,
    cores: Vec<Core>,
}

impl Simulator {
    /// Validates and loads `prog` (as the driver's host writes would).
    pub fn new(prog: &Program) -> Result<Simulator, SimError> {
        let loaded = load(prog)?;
        let p = &loaded.params;
        let cores = loaded
            .cores
            .iter()
            .map(|c| Core::new(c, p.neurons_per_core, p.fifo_depth))
            .collect();
        Ok(Simulator {
            loaded: Arc::new(loaded),
            cores,
        })
    }

    /// The hardware configuration the program was compiled for.
    pub fn params(&self) -> &HwParams {
        &self.loaded.params
    }

    /// Runs one inference on `input` (spike step per input channel, or events).
    pub fn run<I: SpikeInput + ?Sized>(
        &mut self,
        input: &I,
        opts: &SimOptions,
    ) -> Result<SimRun, SimError> {
        self.run_inner(input, opts, None)
    }

    /// Runs one inference and records its waveform.
    pub fn run_traced<I: SpikeInput + ?Sized>(
        &mut self,
        input: &I,
        opts: &SimOptions,
    ) -> Result<(SimRun, Trace), SimError> {
        let mut trace = Trace::new(&self.loaded.params);
        let run = self.run_inner(input, opts, Some(&mut trace))?;
        Ok((run, trace))
    }

    fn run_inner<I: SpikeInput + ?Sized>(
        &mut self,
        input: &I,
        opts: &SimOptions,
        mut trace: Option<&mut Trace>,
    ) -> Result<SimRun, SimError> {
        opts.timing.validate().map_err(SimError::Timing)?;
        let l = Arc::clone(&self.loaded);
        let p = &l.params;
        // Early exit exists for the first-spike decision only (the driver
        // sets the flag only then).
        let early_exit = opts.early_exit && l.decision.allows_early_exit();
        let mut input = InputStream::new(input, &l, opts.timing)?;
        let mut out = OutputPort::new(&l, opts.timing);
        let mut router = RouterStats::default();
        for (core, cfg) in self.cores.iter_mut().zip(&l.cores) {
            core.clear(cfg, trace.as_deref_mut());
        }
        if let Some(tr) = trace.as_deref_mut() {
            tr.set(0, Sig::Start, 0);
            tr.set(0, Sig::Running, 1);
            tr.set(0, Sig::Phase, Phase::Clear as u64);
            tr.set(1, Sig::Phase, Phase::ClearWait as u64);
            present_input(tr, 0, &input);
        }
        let mut c = first_integrate_cycle(p.neurons_per_core);
        let mut t = 0u32;
        let cycles = loop {
            let d0 = deliver_start(c, l.n_max);
            let mut output_fired = false;
            for (core, cfg) in self.cores.iter_mut().zip(&l.cores) {
                core.integrate(cfg, &l.arith, c, d0);
                output_fired |= cfg.is_output && core.fired_this_step();
            }
            if let Some(tr) = trace.as_deref_mut() {
                tr.set(c, Sig::Step, t as u64);
                tr.set(c, Sig::Phase, Phase::Integ as u64);
                tr.set(c + 1, Sig::Phase, Phase::IntegWait as u64);
                tr.set(d0, Sig::Phase, Phase::Deliver as u64);
                for core in &self.cores {
                    let k = core.stats.core;
                    for i in 0..core.spikes.len() {
                        tr.add(core.spikes.push_cycle(i) + 1, Sig::CoreSpikes(k), 1);
                    }
                }
            }
            let routed = route_step(
                &l,
                &mut self.cores,
                &mut input,
                &mut out,
                &mut router,
                t,
                c,
                opts.all_spikes,
                trace.as_deref_mut(),
            )?;
            let mut d = d0.max(routed);
            for (core, cfg) in self.cores.iter_mut().zip(&l.cores) {
                if let Some(dc) = core.drain_cycle() {
                    d = d.max(dc);
                }
                core.end_step(cfg, trace.as_deref_mut());
            }
            // `Deliver` ends in the first drained cycle in which the input
            // is quiet (a host gap with events left is not).
            d = input.quiet_from(t, d);
            if let Some(tr) = trace.as_deref_mut() {
                tr.set(d + 1, Sig::Phase, Phase::Advance as u64);
            }
            // The counter reaches at least d + 2 whatever follows.
            if d + 2 > opts.max_cycles {
                return Err(SimError::Timeout {
                    cycles: opts.max_cycles,
                });
            }
            if is_last_step(t, l.time_steps, early_exit, output_fired) {
                // The last `Advance` (from d + 1) moves to `Done` in the first
                // cycle in which the output register is free: empty, or its
                // spike taken by the host that cycle (`docs/hw.md`).
                break (d + 2).max(out.empty_from());
            }
            c = d + 2;
            t += 1;
        };
        if let Some(tr) = trace {
            tr.set(cycles, Sig::Phase, Phase::Done as u64);
            tr.set(cycles, Sig::Running, 0);
            tr.set(cycles, Sig::Done, 1);
            tr.finish(cycles);
        }
        let final_v: Vec<i64> = l
            .output_slots
            .iter()
            .map(|&(core, local)| self.cores[core as usize].potential(local))
            .collect();
        let mut counts = ActionCounts {
            bus_transfers: router.transfers,
            ..Default::default()
        };
        let per_core: Vec<CoreStats> = self
            .cores
            .iter_mut()
            .zip(&l.cores)
            .map(|(core, cfg)| {
                core.finish(cycles, cfg.layer.is_some());
                counts += &core.stats.counts;
                core.stats.clone()
            })
            .collect();
        let mut spikes = out.spikes;
        spikes.sort();
        let class = decide(l.decision, spikes.output(), &final_v);
        Ok(SimRun {
            spikes,
            class,
            final_v,
            steps_run: t + 1,
            cycles,
            spike_count: out.count,
            counts,
            per_core,
            router,
        })
    }
}
