//! onespike-compiler: the shared contract of the accelerator in code.
//!
//! Owns the hardware parameters (the one source of truth for every width,
//! depth and count), the word layouts of the SRAMs and the event bus, the
//! network IR (float and quantized, versioned files), the neuron model and
//! its one update function (`neuron`), spike records and class decisions
//! (`spikes`), the input encodings, the host-port register map (`regs`),
//! quantization, the integer reference model that judges the simulator
//! and the RTL, and the mapping onto cores (`partition`, `report`; see
//! docs/compiler.md).
//!
//! Must not depend on: rust-hdl or anything of `hw`, the simulator (`sim`),
//! the host/CLI (`host`). Errors are typed (`thiserror`), never `anyhow`.
//! Tests live beside the code (`#[cfg(test)]`); cross-crate equivalence
//! tests live in the `tests` crate.

pub mod encode;
pub mod fit;
pub mod float_eval;
pub mod ir;
pub mod layout;
pub mod neuron;
pub mod params;
pub mod partition;
pub mod pipeline;
pub mod placement;
pub mod program;
pub mod quantize;
pub mod reference;
pub mod regs;
pub mod report;
pub mod spikes;

pub use encode::{Coding, InputEncoding};
pub use ir::{FloatLayer, FloatNetwork, HeldOut, IrError, LayerKind, QuantLayer, QuantNetwork};
pub use neuron::{NeuronModel, Reset};
pub use params::{HwParams, ParamError};
pub use partition::{check_fit, map_balanced, measure_activity, Activity};
pub use program::{map_in_order, CoreImage, MapError, NeuronSlot, Program};
pub use reference::{Counts, Inference, ReferenceModel, RunOptions, Widths};
pub use report::MapReport;
pub use spikes::{Decision, Spike, SpikeInput, SpikeRecord};
