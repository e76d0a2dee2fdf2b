//! onespike-nir: NIR (the Neuromorphic Intermediate Representation of
//! snnTorch, Norse, Sinabs, Rockpool, Lava and others) to and from the
//! network IR of `onespike-compiler`.
//!
//! Owns: the NIR graph as stored (`graph`), the one module that reads and
//! writes HDF5 (`h5`, through the pure-Rust `hdf5-pure`), the import of a
//! graph into a `FloatNetwork` with every assumption reported (`import`),
//! and the export of a `FloatNetwork` as a graph peers read (`export`).
//! The semantics it maps between are in `docs/nir.md`.
//!
//! Must not depend on the simulator, the hardware, the CLI or `host`;
//! knows the compiler only through its public IR. Typed errors only: every
//! refusal names the file, the node and the field.

pub mod export;
pub mod graph;
pub mod h5;
pub mod import;

pub use export::{export, ExportOptions};
pub use graph::{Array, Dtype, Graph, Node, Value};
pub use import::{import, ImportOptions, ImportReport, ResetRule};

/// Why a NIR file could not be read, imported or written.
#[derive(Debug, thiserror::Error)]
pub enum NirError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{path}: node `{node}`, field `{field}`: {message}")]
    Field {
        path: String,
        node: String,
        field: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Options { path: String, message: String },
}
