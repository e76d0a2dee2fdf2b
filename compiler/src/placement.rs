//! The neuron placement of a program (`Program::neurons`) checked against
//! its core images: every neuron on a core that exists, holds its layer
//! and has the neuron's local index in use, no two neurons in one slot,
//! at least one core and at least one output neuron.
//! A program that breaks this would send spikes to cores that are not
//! there; `Program::validate` refuses it with the field that is wrong.

use crate::ir::IrError;
use crate::program::Program;

/// Checks `prog.neurons` against `prog.cores` (see the module documentation).
pub fn check(prog: &Program, origin: &str) -> Result<(), IrError> {
    let bad = |field: String, message: String| Err(IrError::field(origin, field, message));
    if prog.neurons.is_empty() {
        return bad(
            "neurons".into(),
            "is empty: a program has at least one layer".into(),
        );
    }
    if prog.cores.is_empty() {
        return bad(
            "cores".into(),
            "is empty: a program uses at least one core".into(),
        );
    }
    let mut taken: Vec<Vec<bool>> = prog
        .cores
        .iter()
        .map(|c| vec![false; c.neurons as usize])
        .collect();
    for (l, slots) in prog.neurons.iter().enumerate() {
        if slots.is_empty() && l + 1 == prog.neurons.len() {
            return bad(
                format!("neurons[{l}]"),
                "is empty: the output layer needs at least one neuron to decide a class".into(),
            );
        }
        for (j, s) in slots.iter().enumerate() {
            let f = format!("neurons[{l}][{j}]");
            let Some(core) = prog.cores.get(s.core as usize) else {
                return bad(
                    f,
                    format!(
                        "is on core {}, the program has {} cores",
                        s.core,
                        prog.cores.len()
                    ),
                );
            };
            if core.layer as usize != l {
                return bad(
                    f,
                    format!("is on core {}, which holds layer {}", s.core, core.layer),
                );
            }
            if s.local >= core.neurons {
                return bad(
                    f,
                    format!(
                        "is local neuron {} of core {}, which uses {}",
                        s.local, s.core, core.neurons
                    ),
                );
            }
            let slot = &mut taken[s.core as usize][s.local as usize];
            if *slot {
                return bad(
                    f,
                    format!(
                        "shares local neuron {} of core {} with another neuron",
                        s.local, s.core
                    ),
                );
            }
            *slot = true;
        }
    }
    Ok(())
}
