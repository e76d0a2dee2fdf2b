//! Hardware parameters: the one source of truth for every width, depth and
//! count of the accelerator. `hw`, `sim` and the compiler all read
//! [`HwParams`]; no other place writes a width down.
//!
//! Parameters come from a named preset ([`HwParams::preset`]) or a TOML file
//! ([`HwParams::load`]); both go through [`HwParams::validate`], whose errors
//! name the file and the field.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// Why a set of hardware parameters was refused.
#[derive(Debug, thiserror::Error)]
pub enum ParamError {
    #[error("{origin}: cannot read: {source}")]
    Io {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: not a valid hardware configuration: {message}")]
    Parse { origin: String, message: String },
    #[error("{origin}: field `{field}` = {value}: {limit}")]
    Field {
        origin: String,
        field: &'static str,
        value: String,
        limit: String,
    },
    #[error("unknown preset `{name}`; presets are: {known}")]
    UnknownPreset { name: String, known: String },
}

/// Every parameter of the accelerator. Depths are in entries and must be
/// powers of two (they become RAM address widths); widths are in bits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HwParams {
    /// Name shown in reports (the preset name, or the file's own name).
    pub name: String,
    /// Number of integrate-and-fire cores.
    pub cores: u32,
    /// Neurons per core (`N`); a power of two.
    pub neurons_per_core: u32,
    /// Pointer SRAM entries per core: the sources one core can listen to.
    pub pointer_depth: u32,
    /// Weight SRAM entries per core: the synapses one core can hold.
    pub weight_depth: u32,
    /// Input channels (pixels) the host port can address; a power of two.
    pub max_inputs: u32,
    /// Signed weight width `W`.
    pub weight_bits: u32,
    /// Signed synaptic current `I` width (saturating).
    pub current_bits: u32,
    /// Signed membrane potential `V` width (saturating).
    pub membrane_bits: u32,
    /// Width of the time-step counter; at most `2^step_bits` steps.
    pub step_bits: u32,
    /// Entries of each core's event FIFO.
    pub fifo_depth: u32,
    /// Clock frequency used to turn cycles into time in reports.
    pub clock_mhz: f64,
    /// Baud rate of the UART host interface (`uart_top`, for boards that
    /// reach a PC through a USB-serial chip): 8 data bits, no parity, one
    /// stop bit, `clock_mhz * 1e6 / uart_baud` clocks per bit. Optional in
    /// files (default 1 000 000).
    #[serde(default = "default_uart_baud")]
    pub uart_baud: u32,
}

/// The UART's default rate: what the FTDI chips of iCE40 boards (FT2232H,
/// FT232H) and common USB-serial adapters run reliably.
pub const DEFAULT_UART_BAUD: u32 = 1_000_000;

fn default_uart_baud() -> u32 {
    DEFAULT_UART_BAUD
}

/// The integers of a configuration: every [`HwParams`] field but the
/// name and the clock. Every width of the RTL derives from these (the
/// `const fn`s below, which the RTL's const generics evaluate at compile
/// time and [`HwParams`]' accessors at run time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub cores: u32,
    pub neurons_per_core: u32,
    pub pointer_depth: u32,
    pub weight_depth: u32,
    pub max_inputs: u32,
    pub weight_bits: u32,
    pub current_bits: u32,
    pub membrane_bits: u32,
    pub step_bits: u32,
    pub fifo_depth: u32,
}

impl Geometry {
    /// Bits of a neuron index within a core.
    pub const fn neuron_bits(&self) -> u32 {
        log2(self.neurons_per_core)
    }
    /// Bits of a pointer SRAM address.
    pub const fn pointer_addr_bits(&self) -> u32 {
        log2(self.pointer_depth)
    }
    /// Bits of a weight SRAM address.
    pub const fn weight_addr_bits(&self) -> u32 {
        log2(self.weight_depth)
    }
    /// Bits of an event FIFO address.
    pub const fn fifo_addr_bits(&self) -> u32 {
        log2(self.fifo_depth)
    }
    /// Bits of a synapse count in a pointer entry (0..=neurons_per_core).
    pub const fn count_bits(&self) -> u32 {
        self.neuron_bits() + 1
    }
    /// Bits of a core index (at least one).
    pub const fn core_bits(&self) -> u32 {
        let b = ceil_log2(self.cores);
        if b == 0 {
            1
        } else {
            b
        }
    }
    /// Number of global source ids: input channels, then every core's neurons.
    pub const fn source_count(&self) -> u64 {
        self.max_inputs as u64 + self.cores as u64 * self.neurons_per_core as u64
    }
    /// Bits of a global source id.
    pub const fn source_bits(&self) -> u32 {
        ceil_log2_u64(self.source_count())
    }
    /// Whether spikes carry route bits (`docs/hw.md`, "Route bits"): with
    /// at most [`ROUTE_BITS_MAX_CORES`] cores, every queued spike stores,
    /// from the moment it is pushed, which listen window of every core
    /// holds its source, so the bus carries the decision instead of
    /// comparing the source against every window in the cycle it moves.
    pub const fn routed(&self) -> bool {
        self.cores <= ROUTE_BITS_MAX_CORES
    }
    /// Route bits a spike carries in the netlist: two per core (first and
    /// second window) when [`Geometry::routed`], else none. The RTL's route
    /// word is [`ROUTE_BITS`] wide; synthesis drops the bits of cores that
    /// do not exist (nothing reads them).
    pub const fn route_bits(&self) -> u32 {
        if self.routed() {
            2 * self.cores
        } else {
            0
        }
    }
}

/// The most cores for which spikes carry route bits.
pub const ROUTE_BITS_MAX_CORES: u32 = 4;
/// Width of the RTL's route word: bit `2 d` = "in core `d`'s first
/// window", bit `2 d + 1` = "in its second window".
pub const ROUTE_BITS: usize = 2 * ROUTE_BITS_MAX_CORES as usize;

/// A built-in configuration: one row of [`PRESET_TABLE`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preset {
    pub name: &'static str,
    pub geometry: Geometry,
    pub clock_mhz: f64,
}

const TINY: Geometry = Geometry {
    cores: 4,
    neurons_per_core: 8,
    pointer_depth: 32,
    weight_depth: 256,
    max_inputs: 32,
    weight_bits: 8,
    current_bits: 16,
    membrane_bits: 24,
    step_bits: 6,
    fifo_depth: 4,
};

/// The built-in configurations, in the order `--help` lists them: the one
/// list every crate reads (the RTL builds one instantiation per row; see
/// `onespike_hw::configs`).
///
/// - `default`: sized for pruned MNIST-class networks (784-400-10 at 90 %
///   sparsity fits with room to spare).
/// - `small`: sized to fit an iCE40 HX8K (32 block RAMs of 4 kbit).
/// - `up5k`: sized to fit an iCE40 UltraPlus UP5K (30 block RAMs of 4 kbit,
///   4 SPRAMs of 256 kbit that hold the weights: a weight entry is 16 bits,
///   one SPRAM word) with a pruned 784-256-10 MNIST network
///   (`recipes/mnist-up5k.toml`).
/// - `tiny`: 4 cores of 8 neurons, FIFOs of 4: fast to simulate, easy to
///   fill; the configuration of most regression cases.
/// - `tiny_narrow`: `tiny` with 10-bit current and membrane, so that
///   saturation of `V` is reachable within a run.
pub const PRESET_TABLE: [Preset; 5] = [
    Preset {
        name: "default",
        geometry: Geometry {
            cores: 16,
            neurons_per_core: 128,
            pointer_depth: 1024,
            weight_depth: 32768,
            max_inputs: 1024,
            weight_bits: 8,
            current_bits: 18,
            membrane_bits: 24,
            step_bits: 8,
            fifo_depth: 64,
        },
        clock_mhz: 100.0,
    },
    Preset {
        name: "small",
        geometry: Geometry {
            cores: 2,
            neurons_per_core: 64,
            pointer_depth: 256,
            weight_depth: 2048,
            max_inputs: 256,
            weight_bits: 8,
            current_bits: 16,
            membrane_bits: 20,
            step_bits: 6,
            fifo_depth: 16,
        },
        clock_mhz: 60.0,
    },
    Preset {
        name: "up5k",
        geometry: Geometry {
            cores: 2,
            neurons_per_core: 256,
            pointer_depth: 1024,
            weight_depth: 32768,
            max_inputs: 1024,
            weight_bits: 8,
            current_bits: 16,
            membrane_bits: 20,
            step_bits: 6,
            fifo_depth: 16,
        },
        clock_mhz: 30.0,
    },
    Preset {
        name: "tiny",
        geometry: TINY,
        clock_mhz: 100.0,
    },
    Preset {
        name: "tiny_narrow",
        geometry: Geometry {
            current_bits: 10,
            membrane_bits: 10,
            ..TINY
        },
        clock_mhz: 100.0,
    },
];

/// Names of the built-in presets, in the order `--help` lists them.
pub const PRESETS: [&str; PRESET_TABLE.len()] = {
    let mut names = [""; PRESET_TABLE.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = PRESET_TABLE[i].name;
        i += 1;
    }
    names
};

impl HwParams {
    /// A built-in configuration by name (a row of [`PRESET_TABLE`]).
    pub fn preset(name: &str) -> Result<HwParams, ParamError> {
        let Some(row) = PRESET_TABLE.iter().find(|r| r.name == name) else {
            return Err(ParamError::UnknownPreset {
                name: name.into(),
                known: PRESETS.join(", "),
            });
        };
        let p = HwParams::from_geometry(row.name, row.geometry, row.clock_mhz);
        p.validate(&format!("preset `{name}`"))?;
        Ok(p)
    }

    /// Parameters with this name, geometry and clock.
    pub fn from_geometry(name: &str, g: Geometry, clock_mhz: f64) -> HwParams {
        HwParams {
            name: name.into(),
            cores: g.cores,
            neurons_per_core: g.neurons_per_core,
            pointer_depth: g.pointer_depth,
            weight_depth: g.weight_depth,
            max_inputs: g.max_inputs,
            weight_bits: g.weight_bits,
            current_bits: g.current_bits,
            membrane_bits: g.membrane_bits,
            step_bits: g.step_bits,
            fifo_depth: g.fifo_depth,
            clock_mhz,
            uart_baud: DEFAULT_UART_BAUD,
        }
    }

    /// Clocks per UART bit: `clock_mhz * 1e6 / uart_baud`, rounded.
    pub fn uart_clocks_per_bit(&self) -> u64 {
        (self.clock_mhz * 1e6 / self.uart_baud.max(1) as f64).round() as u64
    }

    /// The integers of these parameters (all but the name and the clock).
    pub fn geometry(&self) -> Geometry {
        Geometry {
            cores: self.cores,
            neurons_per_core: self.neurons_per_core,
            pointer_depth: self.pointer_depth,
            weight_depth: self.weight_depth,
            max_inputs: self.max_inputs,
            weight_bits: self.weight_bits,
            current_bits: self.current_bits,
            membrane_bits: self.membrane_bits,
            step_bits: self.step_bits,
            fifo_depth: self.fifo_depth,
        }
    }

    /// A preset name, or else a path to a TOML file.
    pub fn from_preset_or_file(spec: &str) -> Result<HwParams, ParamError> {
        if PRESETS.contains(&spec) {
            HwParams::preset(spec)
        } else if Path::new(spec).exists() || spec.contains('/') || spec.ends_with(".toml") {
            // A path (even a missing one): the error names the file.
            HwParams::load(Path::new(spec))
        } else {
            Err(ParamError::UnknownPreset {
                name: spec.into(),
                known: format!("{} (or the path of a TOML file)", PRESETS.join(", ")),
            })
        }
    }

    /// Two configurations build the same hardware when everything but the
    /// name and the clock used for reports is equal.
    pub fn same_hardware(&self, other: &HwParams) -> bool {
        self.geometry() == other.geometry()
    }

    /// Loads and validates a TOML file.
    pub fn load(path: &Path) -> Result<HwParams, ParamError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ParamError::Io {
            origin: origin.clone(),
            source,
        })?;
        HwParams::from_toml(&text, &origin)
    }

    /// Parses and validates TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<HwParams, ParamError> {
        let p: HwParams = toml::from_str(text).map_err(|e| ParamError::Parse {
            origin: origin.into(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        p.validate(origin)?;
        Ok(p)
    }

    /// The TOML text of these parameters (loads back to the same value).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("hardware parameters always serialize")
    }

    /// Checks every field against the limits the hardware can build.
    pub fn validate(&self, origin: &str) -> Result<(), ParamError> {
        let err = |field: &'static str, value: String, limit: &str| ParamError::Field {
            origin: origin.into(),
            field,
            value,
            limit: limit.into(),
        };
        let range = |field: &'static str, v: u32, lo: u32, hi: u32| {
            if v < lo || v > hi {
                Err(err(
                    field,
                    v.to_string(),
                    &format!("must be in {lo}..={hi}"),
                ))
            } else {
                Ok(())
            }
        };
        let pow2 = |field: &'static str, v: u32, lo: u32, hi: u32| {
            range(field, v, lo, hi)?;
            if !v.is_power_of_two() {
                return Err(err(field, v.to_string(), "must be a power of two"));
            }
            Ok(())
        };
        if self.name.trim().is_empty() {
            return Err(err("name", "\"\"".into(), "must not be empty"));
        }
        range("cores", self.cores, 1, 256)?;
        pow2("neurons_per_core", self.neurons_per_core, 2, 4096)?;
        pow2("pointer_depth", self.pointer_depth, 2, 1 << 16)?;
        pow2("weight_depth", self.weight_depth, 2, 1 << 20)?;
        pow2("max_inputs", self.max_inputs, 2, 1 << 16)?;
        pow2("fifo_depth", self.fifo_depth, 2, 1 << 12)?;
        range("weight_bits", self.weight_bits, 2, 16)?;
        range("current_bits", self.current_bits, self.weight_bits, 32).map_err(|_| {
            err(
                "current_bits",
                self.current_bits.to_string(),
                &format!(
                    "must be in {}..=32 (at least weight_bits)",
                    self.weight_bits
                ),
            )
        })?;
        range("membrane_bits", self.membrane_bits, self.current_bits, 40).map_err(|_| {
            err(
                "membrane_bits",
                self.membrane_bits.to_string(),
                &format!(
                    "must be in {}..=40 (at least current_bits)",
                    self.current_bits
                ),
            )
        })?;
        range("step_bits", self.step_bits, 2, 16)?;
        if !(self.clock_mhz.is_finite() && self.clock_mhz > 0.0 && self.clock_mhz <= 2000.0) {
            return Err(err(
                "clock_mhz",
                self.clock_mhz.to_string(),
                "must be a number in (0, 2000]",
            ));
        }
        let cpb = self.uart_clocks_per_bit();
        if self.uart_baud == 0 || !(8..=65535).contains(&cpb) {
            return Err(err(
                "uart_baud",
                self.uart_baud.to_string(),
                &format!(
                    "gives {cpb} clocks per bit at clock_mhz = {}: must give 8..=65535 (the receiver samples mid-bit)",
                    self.clock_mhz
                ),
            ));
        }
        if self.source_bits() > 32 {
            return Err(err(
                "cores",
                self.cores.to_string(),
                "source id space (max_inputs + cores * neurons_per_core) exceeds 32 bits",
            ));
        }
        Ok(())
    }

    /// Largest number of time steps one inference can run.
    pub fn max_time_steps(&self) -> u32 {
        1u32 << self.step_bits
    }
    /// Bits of a neuron index within a core.
    pub fn neuron_bits(&self) -> u32 {
        self.geometry().neuron_bits()
    }
    /// Bits of a pointer SRAM address.
    pub fn pointer_addr_bits(&self) -> u32 {
        self.geometry().pointer_addr_bits()
    }
    /// Bits of a weight SRAM address.
    pub fn weight_addr_bits(&self) -> u32 {
        self.geometry().weight_addr_bits()
    }
    /// Bits of an event FIFO address.
    pub fn fifo_addr_bits(&self) -> u32 {
        self.geometry().fifo_addr_bits()
    }
    /// Bits of a synapse count in a pointer entry (0..=neurons_per_core).
    pub fn count_bits(&self) -> u32 {
        self.geometry().count_bits()
    }
    /// Bits of a core index (at least one).
    pub fn core_bits(&self) -> u32 {
        self.geometry().core_bits()
    }
    /// Number of global source ids: input channels, then every core's neurons.
    pub fn source_count(&self) -> u64 {
        self.geometry().source_count()
    }
    /// Bits of a global source id.
    pub fn source_bits(&self) -> u32 {
        self.geometry().source_bits()
    }
    /// See [`Geometry::routed`].
    pub fn routed(&self) -> bool {
        self.geometry().routed()
    }
    /// See [`Geometry::route_bits`].
    pub fn route_bits(&self) -> u32 {
        self.geometry().route_bits()
    }
    /// Global source id of neuron `local` of core `core`.
    ///
    /// Ids `0..max_inputs` are input channels; core `c` owns the block
    /// `max_inputs + c * N .. max_inputs + (c + 1) * N`.
    pub fn neuron_source_id(&self, core: u32, local: u32) -> u32 {
        self.max_inputs + core * self.neurons_per_core + local
    }
    /// Largest value of a signed `bits`-wide quantity.
    pub fn signed_max(bits: u32) -> i64 {
        (1i64 << (bits - 1)) - 1
    }
    /// Smallest value of a signed `bits`-wide quantity.
    pub fn signed_min(bits: u32) -> i64 {
        -(1i64 << (bits - 1))
    }
}

const fn log2(v: u32) -> u32 {
    debug_assert!(v.is_power_of_two());
    v.trailing_zeros()
}

/// Smallest `b` with `2^b >= v`.
pub const fn ceil_log2(v: u32) -> u32 {
    ceil_log2_u64(v as u64)
}

/// Smallest `b` with `2^b >= v`.
pub const fn ceil_log2_u64(v: u64) -> u32 {
    if v <= 1 {
        0
    } else {
        64 - (v - 1).leading_zeros()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate_and_round_trip_through_toml() {
        for name in PRESETS {
            let p = HwParams::preset(name).unwrap();
            let back = HwParams::from_toml(&p.to_toml(), "round trip").unwrap();
            assert_eq!(p, back);
        }
    }

    #[test]
    fn shipped_config_files_equal_the_presets() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
        for name in PRESETS {
            let file = HwParams::load(&dir.join(format!("{name}.toml"))).unwrap();
            assert_eq!(file, HwParams::preset(name).unwrap(), "configs/{name}.toml");
        }
    }

    #[test]
    fn derived_widths_of_the_default_preset() {
        let p = HwParams::preset("default").unwrap();
        assert_eq!(p.neuron_bits(), 7);
        assert_eq!(p.count_bits(), 8);
        assert_eq!(p.weight_addr_bits(), 15);
        assert_eq!(p.pointer_addr_bits(), 10);
        // 1024 inputs + 16 * 128 neurons = 3072 ids -> 12 bits.
        assert_eq!(p.source_bits(), 12);
        assert_eq!(p.neuron_source_id(2, 5), 1024 + 256 + 5);
    }

    #[test]
    fn error_names_the_file_and_field() {
        let mut p = HwParams::preset("small").unwrap();
        p.weight_depth = 3000;
        let e = HwParams::from_toml(&p.to_toml(), "cfg/x.toml").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("cfg/x.toml"), "{msg}");
        assert!(msg.contains("weight_depth"), "{msg}");
        assert!(msg.contains("power of two"), "{msg}");
    }

    #[test]
    fn membrane_narrower_than_current_is_refused() {
        let mut p = HwParams::preset("small").unwrap();
        p.membrane_bits = p.current_bits - 1;
        let msg = HwParams::from_toml(&p.to_toml(), "f.toml")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("membrane_bits"), "{msg}");
    }

    #[test]
    fn unknown_and_missing_fields_are_refused() {
        let p = HwParams::preset("small").unwrap();
        let extra = format!("{}\nbogus = 3\n", p.to_toml());
        let msg = HwParams::from_toml(&extra, "f.toml")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("bogus"), "{msg}");
        let missing: String = p
            .to_toml()
            .lines()
            .filter(|l| !l.starts_with("cores"))
            .collect::<Vec<_>>()
            .join("\n");
        let msg = HwParams::from_toml(&missing, "f.toml")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("cores"), "{msg}");
    }

    #[test]
    fn unknown_preset_lists_the_known_ones() {
        let msg = HwParams::from_preset_or_file("huge")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("default") && msg.contains("small"), "{msg}");
    }

    #[test]
    fn ceil_log2_edges() {
        assert_eq!(ceil_log2(1), 0);
        assert_eq!(ceil_log2(2), 1);
        assert_eq!(ceil_log2(3), 2);
        assert_eq!(ceil_log2(1024), 10);
        assert_eq!(ceil_log2(1025), 11);
    }
}
