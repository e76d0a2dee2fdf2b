//! onespike-dataset: the images every stage reads, and what the integer
//! reference model does on them.
//!
//! Owns IDX loading and the MNIST subset embedded in the binaries
//! ([`idx`]: [`Split`], [`Dataset`], [`load`]) and the dataset-level
//! accuracy and activity of a quantized network under the reference model
//! ([`eval`]), and the record of the training images a trainer held out
//! ([`held_out`]). The trainer (`onespike-train`) and the command line
//! (`onespike-host`) both build on it.
//!
//! Depends on `onespike-compiler` only (for the network and the reference
//! model); must not depend on the trainer, the simulator, the hardware or
//! `host`, and takes no command-line parser. Typed errors only.

pub mod eval;
pub mod held_out;
pub mod idx;

pub use eval::{reference_eval, RefEval};
pub use held_out::HeldOutError;
pub use idx::{
    embedded_default, load, load_dir, parse_idx, split_from_bytes, Dataset, IdxError, Split,
    IMAGES_MAGIC, LABELS_MAGIC, MAX_IDX_BYTES,
};
