//! The trainer's one error type: every refusal names the option, file or
//! architecture it comes from.

use onespike_compiler::reference::RefError;
use onespike_compiler::{IrError, ParamError};

/// Why training could not start or continue.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("architecture `{arch}`: {message}")]
    Arch { arch: String, message: String },
    #[error("training option `{option}` = {value}: {message}")]
    Config {
        /// The option's name as flags and recipe files give it (`lr-decay`).
        option: &'static str,
        value: String,
        message: String,
    },
    #[error("dataset does not fit the network: {message}")]
    Data { message: String },
    #[error(transparent)]
    Ir(#[from] IrError),
    #[error(transparent)]
    Params(#[from] ParamError),
    #[error("reference model: {0}")]
    Reference(#[from] RefError),
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: String, message: String },
}

pub(crate) fn bad(
    option: &'static str,
    value: impl ToString,
    message: impl Into<String>,
) -> TrainError {
    TrainError::Config {
        option,
        value: value.to_string(),
        message: message.into(),
    }
}
