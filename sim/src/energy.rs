//! The energy model: prices the action counts of the timing model
//! (`docs/sim.md`, "Energy"). The timing model only counts ([`ActionCounts`]); this module only
//! prices, from a versioned technology table ([`TechTable`]) that users can
//! replace, and the memory sizes and widths of [`HwParams`].

use onespike_compiler::layout::{PointerEntry, WeightEntry};
use onespike_compiler::HwParams;
use serde::{Deserialize, Serialize};
use std::ops::AddAssign;
use std::path::Path;

pub const TECH_FORMAT: &str = "onespike-tech-table";
pub const TECH_VERSION: u32 = 1;
/// The default table, compiled in (`sim/tech/horowitz-45nm.toml`).
pub const DEFAULT_TECH_TOML: &str = include_str!("../tech/horowitz-45nm.toml");

#[derive(Debug, thiserror::Error)]
pub enum TechError {
    #[error("{origin}: cannot read: {source}")]
    Io {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: not a valid technology table: {message}")]
    Parse { origin: String, message: String },
    #[error("{origin}: field `{field}`: {message}")]
    Field {
        origin: String,
        field: String,
        message: String,
    },
}

/// One point of the adder curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddPoint {
    pub bits: u32,
    pub pj: f64,
}

/// One point of the SRAM read curve (energy of a 64-bit read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SramPoint {
    pub kib: f64,
    pub pj: f64,
}

/// Per-operation energies of a technology.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TechTable {
    pub format: String,
    pub version: u32,
    pub name: String,
    /// Where the figures come from.
    pub source: String,
    pub add: Vec<AddPoint>,
    pub sram_read_64b: Vec<SramPoint>,
    pub sram_write_factor: f64,
    pub bus_pj_per_bit: f64,
    pub static_mw_per_core: f64,
    /// Share of `static_mw_per_core` that a power-gated core (one the
    /// program leaves unused) still draws, in 0..=1. A table without the
    /// entry gates nothing (1.0).
    #[serde(default = "ungated")]
    pub gated_leakage_fraction: f64,
}

fn ungated() -> f64 {
    1.0
}

impl TechTable {
    pub fn default_table() -> TechTable {
        TechTable::from_toml(DEFAULT_TECH_TOML, "built-in horowitz-45nm")
            .expect("the built-in table is valid (tested)")
    }

    pub fn load(path: &Path) -> Result<TechTable, TechError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TechError::Io {
            origin: origin.clone(),
            source,
        })?;
        TechTable::from_toml(&text, &origin)
    }

    pub fn from_toml(text: &str, origin: &str) -> Result<TechTable, TechError> {
        let t: TechTable = toml::from_str(text).map_err(|e| TechError::Parse {
            origin: origin.into(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        t.validate(origin)?;
        Ok(t)
    }

    pub fn validate(&self, origin: &str) -> Result<(), TechError> {
        let bad = |field: &str, message: String| {
            Err(TechError::Field {
                origin: origin.into(),
                field: field.into(),
                message,
            })
        };
        if self.format != TECH_FORMAT {
            return bad(
                "format",
                format!("is \"{}\", expected \"{TECH_FORMAT}\"", self.format),
            );
        }
        if self.version != TECH_VERSION {
            return bad(
                "version",
                format!("is {}, this build reads {TECH_VERSION}", self.version),
            );
        }
        let pos = |v: f64| v.is_finite() && v > 0.0;
        if self.add.is_empty() || self.add.windows(2).any(|w| w[0].bits >= w[1].bits) {
            return bad(
                "add",
                "needs at least one point, in increasing `bits`".into(),
            );
        }
        if let Some(k) = self.add.iter().position(|p| !pos(p.pj) || p.bits == 0) {
            return bad(&format!("add[{k}]"), "bits and pj must be > 0".into());
        }
        if self.sram_read_64b.is_empty()
            || self.sram_read_64b.windows(2).any(|w| w[0].kib >= w[1].kib)
        {
            return bad(
                "sram_read_64b",
                "needs at least one point, in increasing `kib`".into(),
            );
        }
        if let Some(k) = self
            .sram_read_64b
            .iter()
            .position(|p| !pos(p.pj) || !pos(p.kib))
        {
            return bad(
                &format!("sram_read_64b[{k}]"),
                "kib and pj must be > 0".into(),
            );
        }
        if !(0.0..=1.0).contains(&self.gated_leakage_fraction) {
            return bad(
                "gated_leakage_fraction",
                format!("is {}, must be in 0..=1", self.gated_leakage_fraction),
            );
        }
        for (field, v) in [
            ("sram_write_factor", self.sram_write_factor),
            ("bus_pj_per_bit", self.bus_pj_per_bit),
            ("static_mw_per_core", self.static_mw_per_core),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(field, format!("is {v}, must be a finite number >= 0"));
            }
        }
        // Huge finite figures price an inference to infinity (a report of
        // nulls): bound the table and what it extrapolates to.
        const MAX_PJ: f64 = 1e6;
        let figures = self.add.iter().map(|p| ("add", p.pj));
        let figures = figures.chain(self.sram_read_64b.iter().map(|p| ("sram_read_64b", p.pj)));
        let figures = figures.chain([
            ("sram_write_factor", self.sram_write_factor),
            ("bus_pj_per_bit", self.bus_pj_per_bit),
            ("static_mw_per_core", self.static_mw_per_core),
        ]);
        for (field, v) in figures {
            if v > MAX_PJ {
                return bad(
                    field,
                    format!(
                        "is {v}, more than {MAX_PJ:e}, the largest figure onespike prices with"
                    ),
                );
            }
        }
        let worst = [
            self.add_pj(64),
            self.sram_read_pj(1 << 30, 64),
            self.sram_read_pj(1, 1),
        ]
        .into_iter()
        .fold(0.0, f64::max);
        if !(worst.is_finite() && worst <= MAX_PJ * 1e3) {
            return bad(
                "sram_read_64b",
                format!("extrapolates to {worst:e} pJ per access at the sizes a configuration can have (at most {:e}): give points closer to the sizes used", MAX_PJ * 1e3),
            );
        }
        Ok(())
    }

    /// Energy of one `bits`-wide add: linear through the table's points,
    /// proportional to width outside them.
    pub fn add_pj(&self, bits: u32) -> f64 {
        let pts = &self.add;
        let b = bits as f64;
        if pts.len() == 1 || bits <= pts[0].bits {
            return pts[0].pj * b / pts[0].bits as f64;
        }
        for w in pts.windows(2) {
            if bits <= w[1].bits {
                let f = (b - w[0].bits as f64) / (w[1].bits - w[0].bits) as f64;
                return w[0].pj + f * (w[1].pj - w[0].pj);
            }
        }
        let last = pts.last().unwrap();
        last.pj * b / last.bits as f64
    }

    /// Energy of reading `width_bits` from an SRAM of `depth` words of that
    /// width: the 64-bit read energy at the array's size (power law between
    /// points), scaled by `width_bits / 64`.
    pub fn sram_read_pj(&self, depth: u64, width_bits: u32) -> f64 {
        let kib = (depth as f64 * width_bits as f64 / 8.0 / 1024.0).max(1e-6);
        let pts = &self.sram_read_64b;
        let e64 = if pts.len() == 1 {
            pts[0].pj * (kib / pts[0].kib).sqrt()
        } else {
            // Segment containing kib (first/last segment extrapolates).
            let k = pts
                .windows(2)
                .position(|w| kib <= w[1].kib)
                .unwrap_or(pts.len() - 2);
            let (a, b) = (&pts[k], &pts[k + 1]);
            let alpha = (b.pj / a.pj).ln() / (b.kib / a.kib).ln();
            a.pj * (kib / a.kib).powf(alpha)
        };
        e64 * width_bits as f64 / 64.0
    }
}

/// Actions of one core (or summed over cores) during an inference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionCounts {
    /// Cycles doing useful work.
    pub cycles_busy: u64,
    /// Cycles blocked by back-pressure.
    pub cycles_stalled: u64,
    /// Cycles with nothing to do.
    pub cycles_idle: u64,
    /// Cycles of a core the program leaves unused, power-gated (such a
    /// core counts no busy, stalled or idle cycles).
    #[serde(default)]
    pub cycles_gated: u64,
    pub pointer_reads: u64,
    pub weight_reads: u64,
    pub state_reads: u64,
    pub state_writes: u64,
    /// `I += w` at the current width.
    pub synaptic_accumulates: u64,
    /// `V += I` at the membrane width.
    pub membrane_updates: u64,
    /// `V >= theta` at the membrane width.
    pub compares: u64,
    /// Membrane leaks `V - (V >> k)` (a shift and a subtract at the
    /// membrane width), one per updated neuron and step of a leaky layer.
    #[serde(default)]
    pub membrane_leaks: u64,
    /// Current leaks `I - (I >> k)` at the current width.
    #[serde(default)]
    pub current_leaks: u64,
    /// Event FIFO words written and read (source id and window bit).
    pub fifo_pushes: u64,
    pub fifo_pops: u64,
    /// Spike queue words written and read (local neuron index).
    #[serde(default)]
    pub spike_queue_pushes: u64,
    #[serde(default)]
    pub spike_queue_pops: u64,
    /// Source ids moved over the router's bus.
    pub bus_transfers: u64,
}

impl AddAssign<&ActionCounts> for ActionCounts {
    fn add_assign(&mut self, o: &ActionCounts) {
        self.cycles_busy += o.cycles_busy;
        self.cycles_stalled += o.cycles_stalled;
        self.cycles_idle += o.cycles_idle;
        self.cycles_gated += o.cycles_gated;
        self.pointer_reads += o.pointer_reads;
        self.weight_reads += o.weight_reads;
        self.state_reads += o.state_reads;
        self.state_writes += o.state_writes;
        self.synaptic_accumulates += o.synaptic_accumulates;
        self.membrane_updates += o.membrane_updates;
        self.compares += o.compares;
        self.membrane_leaks += o.membrane_leaks;
        self.current_leaks += o.current_leaks;
        self.fifo_pushes += o.fifo_pushes;
        self.fifo_pops += o.fifo_pops;
        self.spike_queue_pushes += o.spike_queue_pushes;
        self.spike_queue_pops += o.spike_queue_pops;
        self.bus_transfers += o.bus_transfers;
    }
}

/// Energy by kind of action, in picojoules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EnergyBreakdown {
    pub pointer_sram_pj: f64,
    pub weight_sram_pj: f64,
    pub state_memory_pj: f64,
    pub accumulate_pj: f64,
    pub compare_pj: f64,
    /// Event FIFOs and spike queues.
    pub fifo_pj: f64,
    pub bus_pj: f64,
    /// Leakage and clock: every cycle of a core in use, and the gated
    /// fraction of every cycle of a core left unused.
    pub static_pj: f64,
    pub total_pj: f64,
}

/// Energies of each action for one hardware configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionEnergies {
    pub pointer_read_pj: f64,
    pub weight_read_pj: f64,
    pub state_read_pj: f64,
    pub state_write_pj: f64,
    pub synaptic_accumulate_pj: f64,
    pub membrane_update_pj: f64,
    pub compare_pj: f64,
    /// A leak: the shift is wiring and a multiplexer, priced as nothing;
    /// the subtract as an adder of the state's width.
    #[serde(default)]
    pub membrane_leak_pj: f64,
    #[serde(default)]
    pub current_leak_pj: f64,
    /// An event FIFO word: `fifo_depth` words of the source id's width
    /// plus the window bit.
    pub fifo_push_pj: f64,
    pub fifo_pop_pj: f64,
    /// A spike queue word: `neurons_per_core` words of a neuron index (and
    /// the spike's route bits, with at most 4 cores).
    #[serde(default)]
    pub spike_queue_push_pj: f64,
    #[serde(default)]
    pub spike_queue_pop_pj: f64,
    /// A source id on the bus (`bus_pj_per_bit` per bit of its width).
    pub bus_transfer_pj: f64,
    /// Static energy of one core for one cycle at the configured clock.
    pub static_per_core_cycle_pj: f64,
    /// The same for a power-gated core.
    #[serde(default)]
    pub static_gated_per_core_cycle_pj: f64,
}

/// The table applied to one hardware configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnergyModel {
    pub table_name: String,
    pub table_source: String,
    pub energies: ActionEnergies,
}

impl EnergyModel {
    pub fn new(table: &TechTable, p: &HwParams) -> EnergyModel {
        let ptr_w = PointerEntry::layout(p).width();
        let wgt_w = WeightEntry::layout(p).width();
        let g = p.geometry();
        // The RTL's words: the event FIFO holds a source id and the window
        // bit, the spike queue a local neuron index, the bus a source id;
        // with route bits (at most 4 cores, docs/hw.md "Route bits") the
        // queue word and the bus also carry two bits per core.
        let source_w = g.source_bits();
        let route_w = g.route_bits();
        // Neuron state word: I, V and the fired flag.
        let state_w = p.current_bits + p.membrane_bits + 1;
        let state_read = table.sram_read_pj(p.neurons_per_core as u64, state_w);
        let fifo = table.sram_read_pj(p.fifo_depth as u64, source_w + 1);
        let queue = table.sram_read_pj(p.neurons_per_core as u64, g.neuron_bits().max(1) + route_w);
        // mW * ns = pJ.
        let static_pj = table.static_mw_per_core * 1000.0 / p.clock_mhz;
        EnergyModel {
            table_name: table.name.clone(),
            table_source: table.source.clone(),
            energies: ActionEnergies {
                pointer_read_pj: table.sram_read_pj(p.pointer_depth as u64, ptr_w),
                weight_read_pj: table.sram_read_pj(p.weight_depth as u64, wgt_w),
                state_read_pj: state_read,
                state_write_pj: state_read * table.sram_write_factor,
                synaptic_accumulate_pj: table.add_pj(p.current_bits),
                membrane_update_pj: table.add_pj(p.membrane_bits),
                compare_pj: table.add_pj(p.membrane_bits),
                membrane_leak_pj: table.add_pj(p.membrane_bits),
                current_leak_pj: table.add_pj(p.current_bits),
                fifo_push_pj: fifo * table.sram_write_factor,
                fifo_pop_pj: fifo,
                spike_queue_push_pj: queue * table.sram_write_factor,
                spike_queue_pop_pj: queue,
                bus_transfer_pj: table.bus_pj_per_bit * (source_w + route_w) as f64,
                static_per_core_cycle_pj: static_pj,
                static_gated_per_core_cycle_pj: static_pj * table.gated_leakage_fraction,
            },
        }
    }

    /// Prices counts (of one core, or summed over cores); static energy is
    /// charged for every counted core-cycle, busy, stalled or idle, and its
    /// gated fraction for every gated one.
    pub fn price(&self, c: &ActionCounts) -> EnergyBreakdown {
        let e = &self.energies;
        let f = |n: u64, pj: f64| n as f64 * pj;
        let core_cycles = c.cycles_busy + c.cycles_stalled + c.cycles_idle;
        let mut b = EnergyBreakdown {
            pointer_sram_pj: f(c.pointer_reads, e.pointer_read_pj),
            weight_sram_pj: f(c.weight_reads, e.weight_read_pj),
            state_memory_pj: f(c.state_reads, e.state_read_pj)
                + f(c.state_writes, e.state_write_pj),
            accumulate_pj: f(c.synaptic_accumulates, e.synaptic_accumulate_pj)
                + f(c.membrane_updates, e.membrane_update_pj)
                + f(c.membrane_leaks, e.membrane_leak_pj)
                + f(c.current_leaks, e.current_leak_pj),
            compare_pj: f(c.compares, e.compare_pj),
            fifo_pj: f(c.fifo_pushes, e.fifo_push_pj)
                + f(c.fifo_pops, e.fifo_pop_pj)
                + f(c.spike_queue_pushes, e.spike_queue_push_pj)
                + f(c.spike_queue_pops, e.spike_queue_pop_pj),
            bus_pj: f(c.bus_transfers, e.bus_transfer_pj),
            static_pj: f(core_cycles, e.static_per_core_cycle_pj)
                + f(c.cycles_gated, e.static_gated_per_core_cycle_pj),
            total_pj: 0.0,
        };
        b.total_pj = b.pointer_sram_pj
            + b.weight_sram_pj
            + b.state_memory_pj
            + b.accumulate_pj
            + b.compare_pj
            + b.fifo_pj
            + b.bus_pj
            + b.static_pj;
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_table_reproduces_its_source_points() {
        let t = TechTable::default_table();
        assert!((t.add_pj(8) - 0.03).abs() < 1e-12);
        assert!((t.add_pj(32) - 0.1).abs() < 1e-12);
        // 8 KiB of 64-bit words = 1024 words.
        assert!((t.sram_read_pj(1024, 64) - 10.0).abs() < 1e-9);
        assert!((t.sram_read_pj(4096, 64) - 20.0).abs() < 1e-9);
        assert!((t.sram_read_pj(131072, 64) - 100.0).abs() < 1e-9);
        // Below the first point the square-root law of the first segment continues.
        assert!((t.sram_read_pj(256, 64) - 5.0).abs() < 1e-9);
        // A 16-bit read costs a quarter of a 64-bit read of the same array size.
        assert!((t.sram_read_pj(4096, 16) - 2.5).abs() < 1e-9);
    }

    #[test]
    fn pricing_is_linear_in_the_counts() {
        let p = HwParams::preset("default").unwrap();
        let m = EnergyModel::new(&TechTable::default_table(), &p);
        let one = ActionCounts {
            weight_reads: 10,
            synaptic_accumulates: 10,
            cycles_busy: 12,
            ..Default::default()
        };
        let mut two = one;
        two += &one;
        let (a, b) = (m.price(&one), m.price(&two));
        assert!((b.total_pj - 2.0 * a.total_pj).abs() < 1e-9);
        assert!((a.weight_sram_pj - 10.0 * m.energies.weight_read_pj).abs() < 1e-12);
        assert_eq!(m.price(&ActionCounts::default()).total_pj, 0.0);
    }

    #[test]
    fn fifos_queues_and_the_bus_are_priced_at_their_rtl_widths() {
        let p = HwParams::preset("default").unwrap();
        let t = TechTable::default_table();
        let e = EnergyModel::new(&t, &p).energies;
        let g = p.geometry();
        // `default`: 12-bit source ids (16 cores of 128 neurons, and the
        // inputs), 7-bit neuron indices.
        assert_eq!((g.source_bits(), g.neuron_bits()), (12, 7));
        assert_eq!(e.fifo_pop_pj, t.sram_read_pj(p.fifo_depth as u64, 13));
        assert_eq!(e.spike_queue_pop_pj, t.sram_read_pj(128, 7));
        assert!((e.bus_transfer_pj - 12.0 * t.bus_pj_per_bit).abs() < 1e-12);
        // `up5k`: 2 cores, so spikes carry 4 route bits in the queue word
        // (8-bit neuron index) and on the bus (11-bit source id).
        let p = HwParams::preset("up5k").unwrap();
        let e = EnergyModel::new(&t, &p).energies;
        let g = p.geometry();
        assert_eq!(
            (g.source_bits(), g.neuron_bits(), g.route_bits()),
            (11, 8, 4)
        );
        assert_eq!(e.fifo_pop_pj, t.sram_read_pj(p.fifo_depth as u64, 12));
        assert_eq!(e.spike_queue_pop_pj, t.sram_read_pj(256, 12));
        assert!((e.bus_transfer_pj - 15.0 * t.bus_pj_per_bit).abs() < 1e-12);
    }

    #[test]
    fn an_unused_core_leaks_the_gated_fraction_of_a_used_one() {
        let p = HwParams::preset("default").unwrap();
        let t = TechTable::default_table();
        assert_eq!(t.gated_leakage_fraction, 0.05);
        let m = EnergyModel::new(&t, &p);
        let used = m.price(&ActionCounts {
            cycles_idle: 1000,
            ..Default::default()
        });
        let gated = m.price(&ActionCounts {
            cycles_gated: 1000,
            ..Default::default()
        });
        assert!(gated.static_pj > 0.0);
        assert!((gated.static_pj - 0.05 * used.static_pj).abs() < 1e-9);
        // A table without the entry gates nothing.
        let old = DEFAULT_TECH_TOML.replace("gated_leakage_fraction = 0.05", "");
        assert_eq!(
            TechTable::from_toml(&old, "t")
                .unwrap()
                .gated_leakage_fraction,
            1.0
        );
        let bad = DEFAULT_TECH_TOML.replace(
            "gated_leakage_fraction = 0.05",
            "gated_leakage_fraction = 2.0",
        );
        let e = TechTable::from_toml(&bad, "t").unwrap_err().to_string();
        assert!(e.contains("gated_leakage_fraction"), "{e}");
    }

    #[test]
    fn a_bad_table_names_the_file_and_field() {
        let text = DEFAULT_TECH_TOML.replace("sram_write_factor = 1.0", "sram_write_factor = -1.0");
        let msg = TechTable::from_toml(&text, "my.toml")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("my.toml") && msg.contains("sram_write_factor"),
            "{msg}"
        );
        let text = DEFAULT_TECH_TOML.replace("version = 1", "version = 7");
        assert!(TechTable::from_toml(&text, "t")
            .unwrap_err()
            .to_string()
            .contains("version"));
    }
}
