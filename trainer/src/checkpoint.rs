//! Checkpoints: the whole training state ([`Trainer`]: configuration,
//! weights, masks, optimizer moments, weight average, log) as versioned
//! JSON, written atomically after every epoch; resuming from one gives bit
//! for bit the weights of an uninterrupted run (tested).

use crate::error::TrainError;
use crate::trainer::Trainer;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Format tag and version of checkpoint files.
pub const CHECKPOINT_FORMAT: &str = "onespike-train-checkpoint";
pub const CHECKPOINT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Checkpoint {
    format: String,
    version: u32,
    trainer: Trainer,
}

impl Trainer {
    /// Writes the whole training state atomically.
    pub fn save_checkpoint(&self, path: &Path) -> Result<(), TrainError> {
        let ck = Checkpoint {
            format: CHECKPOINT_FORMAT.into(),
            version: CHECKPOINT_VERSION,
            trainer: self.clone(),
        };
        Ok(onespike_compiler::ir::save_json(path, &ck)?)
    }

    /// Reads a checkpoint written by [`Trainer::save_checkpoint`].
    pub fn load_checkpoint(path: &Path) -> Result<Trainer, TrainError> {
        let ck: Checkpoint = onespike_compiler::ir::load_json(path)?;
        let err = |message: String| TrainError::Checkpoint {
            path: path.display().to_string(),
            message,
        };
        if ck.format != CHECKPOINT_FORMAT || ck.version != CHECKPOINT_VERSION {
            return Err(err(format!(
                "format `{}` version {}, expected `{CHECKPOINT_FORMAT}` version {CHECKPOINT_VERSION}",
                ck.format, ck.version
            )));
        }
        let t = ck.trainer;
        t.config.validate()?;
        let lengths = t.config.matrix_lengths();
        // Desire has no optimizer state: its moments are empty.
        let optimizer = t.config.method != crate::config::Method::Desire;
        let moments = if optimizer { lengths.len() } else { 0 };
        let shapes_ok = t.weights.len() == lengths.len()
            && t.masks.len() == lengths.len()
            && t.adam_m.len() == moments
            && t.adam_v.len() == moments
            && lengths.iter().enumerate().all(|(l, &n)| {
                t.weights[l].len() == n
                    && t.masks[l].len() == n
                    && (!optimizer || (t.adam_m[l].len() == n && t.adam_v[l].len() == n))
            });
        // The weight average exists exactly when averaging is on, shaped like the weights.
        let averaged_ok = if t.config.ema_decay > 0.0 {
            t.averaged.len() == t.weights.len()
                && t.averaged
                    .iter()
                    .zip(&t.weights)
                    .all(|(a, w)| a.len() == w.len())
        } else {
            t.averaged.is_empty()
        };
        let shapes_ok = shapes_ok && averaged_ok;
        if !shapes_ok {
            return Err(err(
                "weight, mask or optimizer arrays do not match the architecture".into(),
            ));
        }
        Ok(t)
    }
}
