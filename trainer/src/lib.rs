//! onespike-train: the trainers as a library. The TTFS trainer (issue 6,
//! made a library in issue 13): exact spike-time gradients for the
//! ramp-PSP integrate-and-fire network of `docs/semantics.md`, the
//! sparse-firing regularizers (M-SSR, F-SSR), an annealed spike-count
//! term, pruning with rewiring, quantization-aware fine-tuning and
//! hardware-aware evaluation through the integer reference model. The
//! multi-spike trainers on the hardware's leaky neurons: surrogate-gradient
//! BPTT ([`bptt`], [`multispike`]; issue 13) and Desire backpropagation
//! ([`desire`]; issue 17). And the hand-built multi-spike template
//! networks.
//!
//! Module map, one job each: [`config`] (every option of a run, defaults,
//! validation), [`recipe`] (where options come from: TOML recipe files and
//! command-line overrides, one name per option), [`plan`] (the seeded
//! draws of an epoch: order, augmentation, dropout, schedules),
//! [`optimizer`] (AdamW step fused with the gradient reduction),
//! [`trainer`] (the training state and loop), [`eval`] (float and
//! reference-model evaluation), [`checkpoint`] (save and resume), [`ttfs`]
//! (the per-sample forward and backward pass), [`augment`] (resampling),
//! [`prune`] (rewiring), [`report`] (training log and plot), [`bptt`] /
//! [`multispike`] (BPTT passes / epoch), [`desire`] (Desire passes and
//! epoch),
//! [`templates`] (multi-spike networks from class means). The loss terms
//! and the choices behind them: `docs/training.md`.
//!
//! Determinism: the initial weights and every epoch's draws come from
//! ChaCha8 seeded by `seed` (and the epoch number); a mini-batch is split
//! into a fixed number of chunks (`grad_chunks`) whose gradients are summed
//! in chunk order, so the result does not depend on the number of threads.
//!
//! Depends on `onespike-compiler` (network IR, quantization rule, reference
//! model) and `onespike-dataset` only. Must not depend on `host`, the
//! simulator, the hardware or a command-line parser (no clap): the CLI
//! builds its flags from [`recipe::OPTIONS`]. Typed errors only.

pub mod augment;
pub mod bptt;
pub mod checkpoint;
pub mod config;
pub mod desire;
pub mod error;
pub mod eval;
pub mod multispike;
pub mod optimizer;
pub mod plan;
pub mod prune;
pub mod recipe;
pub mod report;
pub mod templates;
pub mod trainer;
pub mod ttfs;

pub use checkpoint::{CHECKPOINT_FORMAT, CHECKPOINT_VERSION};
pub use config::{parse_arch, BpttOptions, DesireOptions, Method, SsrKind, TrainConfig};
pub use error::TrainError;
pub use eval::FloatEval;
pub use recipe::{Origin, Recipe, RecipeError, OPTIONS};
pub use trainer::{Encoded, NoProgress, Prepared, Progress, Trainer};
