//! Dataset-level reports from simulated inferences: structured data first
//! (serde, units in the key names), rendered into tables and plots by the
//! host's `onespike sim` / `onespike report`.
//!
//! An [`Accumulator`] sums runs (and merges, for parallel runs); [`Accumulator::finish`]
//! prices the summed action counts with an [`EnergyModel`] and turns sums
//! into per-inference means. Energy is linear in the counts, so the mean
//! of the priced runs equals the price of the mean counts.

use crate::energy::{ActionCounts, ActionEnergies, EnergyBreakdown, EnergyModel};
use crate::router::RouterStats;
use crate::SimRun;
use onespike_compiler::spikes::{Spike, SpikeRecord};
use onespike_compiler::HwParams;
use serde::{Deserialize, Serialize};

pub const REPORT_FORMAT: &str = "onespike-sim-report";
pub const REPORT_VERSION: u32 = 2;

/// Minimum, mean and maximum over the dataset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub min: f64,
    pub mean: f64,
    pub max: f64,
}

/// One core's row of the report (means per inference unless named otherwise).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoreReport {
    pub core: u32,
    /// Layer of its neurons, `null` for an unused core.
    pub layer: Option<u32>,
    pub neurons: u32,
    pub busy_cycles: f64,
    /// Busy cycles over the inference's cycles.
    pub utilization: f64,
    pub stall_cycles: f64,
    pub synaptic_ops: f64,
    pub events_received: f64,
    pub empty_events: f64,
    pub spikes: f64,
    /// Most words its event FIFO held at once, over the whole dataset.
    pub fifo_max_occupancy_words: u32,
    pub energy_pj: f64,
}

/// Bus activity, means per inference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct BusReport {
    pub transfers: f64,
    pub input_events: f64,
    pub spike_events: f64,
    pub stall_cycles: f64,
    pub output_spikes: f64,
}

/// One inference in full, for the spike raster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExampleInference {
    /// Index of the example in the evaluated split.
    pub index: usize,
    pub label: Option<u32>,
    pub class: usize,
    pub cycles: u64,
    pub steps_run: u32,
    /// Input events (`step`, channel as `neuron`).
    pub input_spikes: Vec<Spike>,
    /// Every spike of the inference, by layer.
    pub spikes: SpikeRecord,
    pub energy_pj: f64,
}

/// One layer's spiking activity (means per inference).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerReport {
    pub layer: u32,
    pub neurons: u32,
    pub spikes: f64,
    pub spikes_per_neuron: f64,
    /// Mean spikes of the layer at each step `0..T` (from the output
    /// stream: empty for a hidden layer when only output spikes were
    /// streamed).
    pub spikes_per_step: Vec<f64>,
}

/// What `onespike sim` writes and `onespike report` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimReport {
    pub format: String,
    pub version: u32,
    /// Where the program came from (a file, or `onespike run`).
    pub program: String,
    pub dataset: String,
    /// The hardware configuration (its `clock_mhz` sets the time figures).
    pub config: HwParams,
    pub tech_table: String,
    pub tech_source: String,
    /// Energy of each action at this configuration.
    pub action_energies: ActionEnergies,
    pub early_exit: bool,
    pub all_spikes: bool,
    pub inferences: u64,
    /// Inferences with a label whose class matched it.
    pub correct: u64,
    pub accuracy: f64,
    pub cycles_per_inference: Spread,
    pub latency_us: Spread,
    /// One inference after another at `clock_mhz`.
    pub throughput_inferences_per_s: f64,
    pub steps_per_inference: f64,
    /// Spikes of every neuron (output stream or not).
    pub spikes_per_inference: f64,
    /// `spikes_per_inference` over the neurons in use.
    pub spikes_per_neuron_per_inference: f64,
    /// Spikes per layer, per neuron and per step.
    pub per_layer: Vec<LayerReport>,
    pub synaptic_ops_per_inference: f64,
    /// The busiest core's synaptic operations: the cycle lower bound.
    pub cycles_lower_bound_per_inference: f64,
    pub energy_per_inference_pj: Spread,
    pub energy_per_synaptic_op_pj: f64,
    /// Mean energy per inference by kind of action.
    pub energy_breakdown_pj: EnergyBreakdown,
    /// Mean action counts per inference (all cores and the bus).
    pub actions_per_inference: ActionCountsMean,
    pub bus: BusReport,
    pub per_core: Vec<CoreReport>,
    pub example: Option<ExampleInference>,
}

/// [`ActionCounts`] averaged per inference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionCountsMean {
    pub cycles_busy: f64,
    pub cycles_stalled: f64,
    pub cycles_idle: f64,
    pub pointer_reads: f64,
    pub weight_reads: f64,
    pub state_reads: f64,
    pub state_writes: f64,
    pub synaptic_accumulates: f64,
    pub membrane_updates: f64,
    #[serde(default)]
    pub membrane_leaks: f64,
    #[serde(default)]
    pub current_leaks: f64,
    pub compares: f64,
    pub fifo_pushes: f64,
    pub fifo_pops: f64,
    pub bus_transfers: f64,
}

impl ActionCountsMean {
    fn of(c: &ActionCounts, n: f64) -> ActionCountsMean {
        ActionCountsMean {
            cycles_busy: c.cycles_busy as f64 / n,
            cycles_stalled: c.cycles_stalled as f64 / n,
            cycles_idle: c.cycles_idle as f64 / n,
            pointer_reads: c.pointer_reads as f64 / n,
            weight_reads: c.weight_reads as f64 / n,
            state_reads: c.state_reads as f64 / n,
            state_writes: c.state_writes as f64 / n,
            synaptic_accumulates: c.synaptic_accumulates as f64 / n,
            membrane_updates: c.membrane_updates as f64 / n,
            membrane_leaks: c.membrane_leaks as f64 / n,
            current_leaks: c.current_leaks as f64 / n,
            compares: c.compares as f64 / n,
            fifo_pushes: c.fifo_pushes as f64 / n,
            fifo_pops: c.fifo_pops as f64 / n,
            bus_transfers: c.bus_transfers as f64 / n,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct CoreSums {
    core: u32,
    layer: Option<u32>,
    neurons: u32,
    busy: u64,
    stall: u64,
    syn: u64,
    events: u64,
    empty: u64,
    spikes: u64,
    fifo_max: u32,
    counts: ActionCounts,
}

/// Running sums over inferences.
#[derive(Debug, Clone, Default)]
pub struct Accumulator {
    n: u64,
    correct: u64,
    cycles: u64,
    cycles_min: u64,
    cycles_max: u64,
    steps: u64,
    spikes: u64,
    syn: u64,
    bound: u64,
    counts: ActionCounts,
    bus: RouterStats,
    /// Energy of single inferences, for their spread (priced on the fly).
    energy_min: f64,
    energy_max: f64,
    cores: Vec<CoreSums>,
    /// Neurons per layer, spikes per layer (from the cores), spikes per
    /// layer and step (from the output stream).
    layer_neurons: Vec<u32>,
    layer_spikes: Vec<u64>,
    layer_steps: Vec<Vec<u64>>,
    layer_streamed: Vec<bool>,
}

impl Accumulator {
    /// Adds one inference; `correct` is `None` when the example has no label.
    pub fn add(&mut self, run: &SimRun, correct: Option<bool>, model: &EnergyModel) {
        let e = model.price(&run.counts).total_pj;
        if self.n == 0 {
            self.cycles_min = run.cycles;
            self.energy_min = e;
        }
        self.n += 1;
        self.correct += (correct == Some(true)) as u64;
        self.cycles += run.cycles;
        self.cycles_min = self.cycles_min.min(run.cycles);
        self.cycles_max = self.cycles_max.max(run.cycles);
        self.energy_min = self.energy_min.min(e);
        self.energy_max = self.energy_max.max(e);
        self.steps += run.steps_run as u64;
        self.counts += &run.counts;
        let b = &mut self.bus;
        b.transfers += run.router.transfers;
        b.input_events += run.router.input_events;
        b.spike_events += run.router.spike_events;
        b.stall_cycles += run.router.stall_cycles;
        b.output_spikes += run.router.output_spikes;
        if self.cores.is_empty() {
            self.cores = run
                .per_core
                .iter()
                .map(|c| CoreSums {
                    core: c.core,
                    layer: c.layer,
                    neurons: c.neurons,
                    ..Default::default()
                })
                .collect();
        }
        if self.layer_neurons.is_empty() {
            self.layer_neurons = run.spikes.sizes.clone();
            self.layer_spikes = vec![0; self.layer_neurons.len()];
            self.layer_steps = vec![Vec::new(); self.layer_neurons.len()];
            self.layer_streamed = vec![false; self.layer_neurons.len()];
        }
        for (l, spikes) in run.spikes.layers.iter().enumerate() {
            let per_step = run.spikes.per_step(l, run.steps_run);
            let steps = &mut self.layer_steps[l];
            if steps.len() < per_step.len() {
                steps.resize(per_step.len(), 0);
            }
            for (x, &k) in steps.iter_mut().zip(&per_step) {
                *x += k as u64;
            }
            self.layer_streamed[l] |= !spikes.is_empty();
        }
        for c in &run.per_core {
            if let Some(l) = c.layer {
                if let Some(x) = self.layer_spikes.get_mut(l as usize) {
                    *x += c.spikes;
                }
            }
        }
        let mut busiest = 0;
        for (s, c) in self.cores.iter_mut().zip(&run.per_core) {
            s.busy += c.busy_cycles;
            s.stall += c.stall_cycles;
            s.syn += c.synaptic_ops;
            s.events += c.events_received;
            s.empty += c.empty_events;
            s.spikes += c.spikes;
            s.fifo_max = s.fifo_max.max(c.fifo_max_occupancy);
            s.counts += &c.counts;
            self.spikes += c.spikes;
            self.syn += c.synaptic_ops;
            busiest = busiest.max(c.synaptic_ops);
        }
        self.bound += busiest;
    }

    /// Combines the sums of two disjoint sets of inferences.
    pub fn merge(mut self, o: Accumulator) -> Accumulator {
        if o.n == 0 {
            return self;
        }
        if self.n == 0 {
            return o;
        }
        self.cycles_min = self.cycles_min.min(o.cycles_min);
        self.cycles_max = self.cycles_max.max(o.cycles_max);
        self.energy_min = self.energy_min.min(o.energy_min);
        self.energy_max = self.energy_max.max(o.energy_max);
        self.n += o.n;
        self.correct += o.correct;
        self.cycles += o.cycles;
        self.steps += o.steps;
        self.spikes += o.spikes;
        self.syn += o.syn;
        self.bound += o.bound;
        self.counts += &o.counts;
        self.bus.transfers += o.bus.transfers;
        self.bus.input_events += o.bus.input_events;
        self.bus.spike_events += o.bus.spike_events;
        self.bus.stall_cycles += o.bus.stall_cycles;
        self.bus.output_spikes += o.bus.output_spikes;
        for (a, b) in self.layer_spikes.iter_mut().zip(&o.layer_spikes) {
            *a += b;
        }
        for (a, b) in self.layer_steps.iter_mut().zip(&o.layer_steps) {
            if a.len() < b.len() {
                a.resize(b.len(), 0);
            }
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (a, b) in self.layer_streamed.iter_mut().zip(&o.layer_streamed) {
            *a |= b;
        }
        for (s, c) in self.cores.iter_mut().zip(&o.cores) {
            s.busy += c.busy;
            s.stall += c.stall;
            s.syn += c.syn;
            s.events += c.events;
            s.empty += c.empty;
            s.spikes += c.spikes;
            s.fifo_max = s.fifo_max.max(c.fifo_max);
            s.counts += &c.counts;
        }
        self
    }

    /// Inferences added so far.
    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The report. `labelled` is the number of inferences that had a label.
    pub fn finish(
        self,
        meta: ReportMeta,
        model: &EnergyModel,
        example: Option<ExampleInference>,
    ) -> SimReport {
        let p = &meta.config;
        let n = self.n.max(1) as f64;
        let mean_cycles = self.cycles as f64 / n;
        let us = |cycles: f64| cycles / p.clock_mhz;
        let total = model.price(&self.counts);
        let per_inf = scale(&total, 1.0 / n);
        let per_core = self
            .cores
            .iter()
            .map(|c| CoreReport {
                core: c.core,
                layer: c.layer,
                neurons: c.neurons,
                busy_cycles: c.busy as f64 / n,
                utilization: if self.cycles == 0 {
                    0.0
                } else {
                    c.busy as f64 / self.cycles as f64
                },
                stall_cycles: c.stall as f64 / n,
                synaptic_ops: c.syn as f64 / n,
                events_received: c.events as f64 / n,
                empty_events: c.empty as f64 / n,
                spikes: c.spikes as f64 / n,
                fifo_max_occupancy_words: c.fifo_max,
                energy_pj: model.price(&c.counts).total_pj / n,
            })
            .collect();
        let per_layer: Vec<LayerReport> = self
            .layer_neurons
            .iter()
            .enumerate()
            .map(|(l, &neurons)| {
                let spikes = self.layer_spikes[l] as f64 / n;
                LayerReport {
                    layer: l as u32,
                    neurons,
                    spikes,
                    spikes_per_neuron: spikes / neurons.max(1) as f64,
                    spikes_per_step: if self.layer_streamed[l] || meta.all_spikes {
                        self.layer_steps[l].iter().map(|&x| x as f64 / n).collect()
                    } else {
                        Vec::new()
                    },
                }
            })
            .collect();
        let neurons_in_use: u32 = self.layer_neurons.iter().sum();
        SimReport {
            format: REPORT_FORMAT.into(),
            version: REPORT_VERSION,
            program: meta.program,
            dataset: meta.dataset,
            config: p.clone(),
            tech_table: model.table_name.clone(),
            tech_source: model.table_source.clone(),
            action_energies: model.energies.clone(),
            early_exit: meta.early_exit,
            all_spikes: meta.all_spikes,
            inferences: self.n,
            correct: self.correct,
            accuracy: if meta.labelled == 0 {
                0.0
            } else {
                self.correct as f64 / meta.labelled as f64
            },
            cycles_per_inference: Spread {
                min: self.cycles_min as f64,
                mean: mean_cycles,
                max: self.cycles_max as f64,
            },
            latency_us: Spread {
                min: us(self.cycles_min as f64),
                mean: us(mean_cycles),
                max: us(self.cycles_max as f64),
            },
            throughput_inferences_per_s: if mean_cycles > 0.0 {
                p.clock_mhz * 1e6 / mean_cycles
            } else {
                0.0
            },
            steps_per_inference: self.steps as f64 / n,
            spikes_per_inference: self.spikes as f64 / n,
            spikes_per_neuron_per_inference: self.spikes as f64 / n / neurons_in_use.max(1) as f64,
            per_layer,
            synaptic_ops_per_inference: self.syn as f64 / n,
            cycles_lower_bound_per_inference: self.bound as f64 / n,
            energy_per_inference_pj: Spread {
                min: self.energy_min,
                mean: per_inf.total_pj,
                max: self.energy_max,
            },
            energy_per_synaptic_op_pj: if self.syn == 0 {
                0.0
            } else {
                total.total_pj / self.syn as f64
            },
            energy_breakdown_pj: per_inf,
            actions_per_inference: ActionCountsMean::of(&self.counts, n),
            bus: BusReport {
                transfers: self.bus.transfers as f64 / n,
                input_events: self.bus.input_events as f64 / n,
                spike_events: self.bus.spike_events as f64 / n,
                stall_cycles: self.bus.stall_cycles as f64 / n,
                output_spikes: self.bus.output_spikes as f64 / n,
            },
            per_core,
            example,
        }
    }
}

/// What the report says about where its numbers came from.
#[derive(Debug, Clone)]
pub struct ReportMeta {
    pub program: String,
    pub dataset: String,
    pub config: HwParams,
    pub early_exit: bool,
    pub all_spikes: bool,
    /// Inferences that had a label (the accuracy's denominator).
    pub labelled: u64,
}

fn scale(b: &EnergyBreakdown, f: f64) -> EnergyBreakdown {
    EnergyBreakdown {
        pointer_sram_pj: b.pointer_sram_pj * f,
        weight_sram_pj: b.weight_sram_pj * f,
        state_memory_pj: b.state_memory_pj * f,
        accumulate_pj: b.accumulate_pj * f,
        compare_pj: b.compare_pj * f,
        fifo_pj: b.fifo_pj * f,
        bus_pj: b.bus_pj * f,
        static_pj: b.static_pj * f,
        total_pj: b.total_pj * f,
    }
}

impl SimReport {
    /// Reads a report file, checking its format tag and version.
    pub fn load(path: &std::path::Path) -> Result<SimReport, crate::SimError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| crate::SimError::Io {
            path: origin.clone(),
            source,
        })?;
        let r: SimReport = serde_json::from_str(&text).map_err(|e| crate::SimError::Report {
            path: origin.clone(),
            message: e.to_string(),
        })?;
        if r.format != REPORT_FORMAT || r.version != REPORT_VERSION {
            return Err(crate::SimError::Report {
                path: origin,
                message: format!(
                    "format \"{}\" version {}, this build reads \"{REPORT_FORMAT}\" version {REPORT_VERSION}",
                    r.format, r.version
                ),
            });
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::energy::TechTable;

    fn run(cycles: u64, syn: u64) -> SimRun {
        let core = crate::CoreStats {
            core: 0,
            layer: Some(0),
            neurons: 4,
            busy_cycles: cycles / 2,
            synaptic_ops: syn,
            counts: ActionCounts {
                cycles_busy: cycles / 2,
                cycles_idle: cycles - cycles / 2,
                synaptic_accumulates: syn,
                weight_reads: syn,
                ..Default::default()
            },
            ..Default::default()
        };
        SimRun {
            spikes: SpikeRecord::new(&[4]),
            class: 0,
            final_v: vec![0; 4],
            steps_run: 10,
            cycles,
            spike_count: 0,
            counts: core.counts,
            per_core: vec![core],
            router: RouterStats::default(),
        }
    }

    #[test]
    fn merged_halves_equal_one_pass_and_means_are_per_inference() {
        let p = HwParams::preset("small").unwrap();
        let m = EnergyModel::new(&TechTable::default_table(), &p);
        let runs = [run(100, 10), run(300, 30), run(200, 0)];
        let mut all = Accumulator::default();
        for r in &runs {
            all.add(r, Some(true), &m);
        }
        let mut a = Accumulator::default();
        a.add(&runs[0], Some(true), &m);
        let mut b = Accumulator::default();
        b.add(&runs[1], Some(true), &m);
        b.add(&runs[2], Some(true), &m);
        let meta = ReportMeta {
            program: "p".into(),
            dataset: "d".into(),
            config: p.clone(),
            early_exit: false,
            all_spikes: true,
            labelled: 3,
        };
        let one = all.finish(meta.clone(), &m, None);
        let two = a.merge(b).finish(meta, &m, None);
        assert_eq!(one, two);
        assert_eq!(
            one.cycles_per_inference,
            Spread {
                min: 100.0,
                mean: 200.0,
                max: 300.0
            }
        );
        assert!((one.latency_us.mean - 200.0 / p.clock_mhz).abs() < 1e-9);
        assert_eq!(one.synaptic_ops_per_inference, 40.0 / 3.0);
        assert!(
            (one.energy_per_synaptic_op_pj * 40.0 - one.energy_breakdown_pj.total_pj * 3.0).abs()
                < 1e-6
        );
        assert_eq!(one.per_core[0].utilization, 0.5);
        assert_eq!(one.accuracy, 1.0);
    }
}
