//! A regression case: a quantized network, a hardware configuration, the
//! program the compiler made of the network for that configuration, a set
//! of inputs, and the expected result of each input, as one JSON file.
//!
//! The program is stored, not recomputed, so that a case pins the exact
//! SRAM images whose cycle counts it records: a change of the mapper does
//! not silently change what a case tests.

use onespike_compiler::ir::{load_json, save_json, IrError};
use onespike_compiler::reference::{ReferenceModel, RunOptions, Widths};
use onespike_compiler::{map_balanced, HwParams, Inference, MapError, Program, QuantNetwork};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const CASE_FORMAT: &str = "onespike-case";
pub const CASE_VERSION: u32 = 2;

/// What one input must produce, on every backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    /// `spikes[l][j]`: firing step of neuron `j` of layer `l`.
    pub spikes: Vec<Vec<Option<u32>>>,
    pub final_v: Vec<i64>,
    pub class: usize,
    pub steps_run: u32,
    /// Cycle count (the accelerator's `cycles` counter), recorded from the
    /// rust-hdl RTL; `None` in results of the reference model.
    #[serde(default)]
    pub cycles: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub format: String,
    pub version: u32,
    /// What the case pins, in a sentence.
    pub description: String,
    pub params: HwParams,
    pub early_exit: bool,
    pub network: QuantNetwork,
    /// `network` compiled for `params` (what the cycle-level backends run).
    pub program: Program,
    pub inputs: Vec<Vec<Option<u32>>>,
    pub expected: Vec<Expected>,
}

impl Case {
    /// Builds a case whose expectations are the reference model's results
    /// (cycles not yet recorded); the program is the compiler's balanced
    /// mapping of `network` onto `params`.
    pub fn record(
        description: &str,
        params: HwParams,
        early_exit: bool,
        network: QuantNetwork,
        inputs: Vec<Vec<Option<u32>>>,
    ) -> Result<Case, MapError> {
        params
            .validate(description)
            .map_err(|e| IrError::field(description, "params", e.to_string()))?;
        let (program, _) = map_balanced(&network, &params, None)?;
        let mut c = Case {
            format: CASE_FORMAT.into(),
            version: CASE_VERSION,
            description: description.into(),
            params,
            early_exit,
            network,
            program,
            inputs,
            expected: Vec::new(),
        };
        c.expected = c
            .inputs
            .iter()
            .map(|inp| c.reference(inp).map(|r| expected_of(&r)))
            .collect::<Result<_, _>>()
            .map_err(|e| IrError::field(description, "inputs", e.to_string()))?;
        Ok(c)
    }

    /// The case reduced to its input `k` (a reproducer).
    pub fn only_input(&self, k: usize) -> Case {
        Case {
            inputs: vec![self.inputs[k].clone()],
            expected: vec![self.expected[k].clone()],
            ..self.clone()
        }
    }

    pub fn options(&self) -> RunOptions {
        RunOptions {
            widths: Widths::from(&self.params),
            early_exit: self.early_exit,
        }
    }

    pub fn reference(
        &self,
        input: &[Option<u32>],
    ) -> Result<Inference, onespike_compiler::reference::RefError> {
        ReferenceModel::new(&self.network).run(input, self.options())
    }

    pub fn load(path: &Path) -> Result<Case, IrError> {
        let c: Case = load_json(path)?;
        let origin = path.display().to_string();
        if c.format != CASE_FORMAT || c.version != CASE_VERSION {
            return Err(IrError::field(
                &origin,
                "format/version",
                format!(
                    "is {} v{}, expected {CASE_FORMAT} v{CASE_VERSION}",
                    c.format, c.version
                ),
            ));
        }
        c.network.validate(&origin)?;
        c.params
            .validate(&origin)
            .map_err(|e| IrError::field(&origin, "params", e.to_string()))?;
        c.program.validate(&origin)?;
        if !c.program.params.same_hardware(&c.params) {
            return Err(IrError::field(
                &origin,
                "program.params",
                "differ from the case's params",
            ));
        }
        let sizes_agree = c.program.input_size == c.network.input_size
            && c.program.time_steps == c.network.time_steps
            && c.program.neurons.len() == c.network.layers.len()
            && c.program
                .neurons
                .iter()
                .zip(&c.network.layers)
                .all(|(n, l)| n.len() == l.outputs as usize);
        if !sizes_agree {
            return Err(IrError::field(
                &origin,
                "program",
                "does not have the network's shape",
            ));
        }
        if c.inputs.len() != c.expected.len() {
            return Err(IrError::field(
                &origin,
                "expected",
                format!(
                    "has {} entries for {} inputs",
                    c.expected.len(),
                    c.inputs.len()
                ),
            ));
        }
        Ok(c)
    }

    pub fn save(&self, path: &Path) -> Result<(), IrError> {
        save_json(path, self)
    }
}

/// The backend-independent part of an inference.
pub fn expected_of(r: &Inference) -> Expected {
    Expected {
        spikes: r.spikes.clone(),
        final_v: r.final_v.clone(),
        class: r.class,
        steps_run: r.steps_run,
        cycles: None,
    }
}

/// `None` if `got` matches `want` (cycles compared only when both have
/// them), else a message naming the first difference.
pub fn first_difference(want: &Expected, got: &Expected) -> Option<String> {
    for (l, (wl, gl)) in want.spikes.iter().zip(&got.spikes).enumerate() {
        if wl.len() != gl.len() {
            return Some(format!(
                "layer {l}: {} neurons expected, {} reported",
                wl.len(),
                gl.len()
            ));
        }
        // First in time, then by index: the spike a waveform viewer shows first.
        let mut diffs: Vec<(u32, usize)> = wl
            .iter()
            .zip(gl)
            .enumerate()
            .filter(|(_, (w, g))| w != g)
            .map(|(j, (w, g))| (w.unwrap_or(u32::MAX).min(g.unwrap_or(u32::MAX)), j))
            .collect();
        diffs.sort();
        if let Some(&(_, j)) = diffs.first() {
            return Some(format!(
                "layer {l} neuron {j}: expected spike {:?}, got {:?}",
                wl[j], gl[j]
            ));
        }
    }
    if want.spikes.len() != got.spikes.len() {
        return Some(format!(
            "{} layers expected, {} reported",
            want.spikes.len(),
            got.spikes.len()
        ));
    }
    if want.final_v != got.final_v {
        return Some(format!(
            "final V: expected {:?}, got {:?}",
            want.final_v, got.final_v
        ));
    }
    if want.class != got.class {
        return Some(format!("class: expected {}, got {}", want.class, got.class));
    }
    if want.steps_run != got.steps_run {
        return Some(format!(
            "steps run: expected {}, got {}",
            want.steps_run, got.steps_run
        ));
    }
    if let (Some(w), Some(g)) = (want.cycles, got.cycles) {
        if w != g {
            return Some(format!("cycles: expected {w}, got {g}"));
        }
    }
    None
}
