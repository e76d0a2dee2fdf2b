//! A regression case: a quantized network, the program the compiler made
//! of it (which carries the hardware configuration: stored once), the run
//! flags and host timing, a set of inputs, and the expected result of each
//! input, as one readable JSON file.
//!
//! The program is stored, not recomputed, so that a case pins the exact
//! SRAM images whose cycle counts it records: a change of the mapper does
//! not silently change what a case tests.
//!
//! Format version 3 is written pretty-printed, with arrays of numbers on
//! one line, and one line per input and per expectation, so that the diff
//! after a bless shows which spike moved:
//!
//! - an input is `"channel@step channel@step ..."` (sorted by step, then
//!   channel);
//! - an expectation is
//!   `"class 1 | steps 12 | cycles 345 | v 17 -3 | L0 2@1 0@3 | L1 1@4"`:
//!   class, steps run, cycle count (`-` before it was recorded), final
//!   potentials of the output neurons, then every layer's spikes as
//!   `neuron@step`, sorted by step, then neuron.
//!
//! Version 2 files (one line of JSON, fire-once spikes per neuron, the
//! parameters twice) still load, through [`LegacyCaseV2`].

use onespike_compiler::ir::{load_json, write_atomic, IrError};
use onespike_compiler::reference::{ReferenceModel, RunOptions, Widths};
use onespike_compiler::regs::HostTiming;
use onespike_compiler::spikes::{Spike, SpikeInput, SpikeRecord};
use onespike_compiler::{map_balanced, HwParams, Inference, MapError, Program, QuantNetwork};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const CASE_FORMAT: &str = "onespike-case";
pub const CASE_VERSION: u32 = 3;

/// What one input must produce, on every backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Every spike of every layer.
    pub spikes: SpikeRecord,
    pub final_v: Vec<i64>,
    pub class: usize,
    pub steps_run: u32,
    /// Cycle count (the accelerator's `cycles` counter), recorded from the
    /// rust-hdl RTL; `None` in results of the reference model.
    pub cycles: Option<u64>,
}

/// Host timing as stored in a case (absent: the eager driver).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    pub seed: u64,
    pub in_gap_percent: u32,
    pub out_stall_percent: u32,
}

impl From<Timing> for HostTiming {
    fn from(t: Timing) -> HostTiming {
        HostTiming {
            seed: t.seed,
            in_gap_percent: t.in_gap_percent,
            out_stall_percent: t.out_stall_percent,
        }
    }
}

impl Timing {
    fn is_eager(&self) -> bool {
        self.in_gap_percent == 0 && self.out_stall_percent == 0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// What the case pins, in a sentence.
    pub description: String,
    pub early_exit: bool,
    /// Only the output layer's spikes on the output stream (the host's
    /// `all_spikes` flag off): hidden layers' spikes are then expected
    /// empty on every backend.
    pub output_only: bool,
    /// How the host drives `in_valid` and `out_ready`.
    pub timing: Timing,
    /// The network the program computes, for the reference model; `None`
    /// for a program that has no network form (a raw program with
    /// arbitrary listen windows): then the simulator and the RTL judge
    /// each other and the reference model does not apply.
    pub network: Option<QuantNetwork>,
    /// `network` compiled for the case's hardware (`program.params`).
    pub program: Program,
    /// Input events of each input.
    pub inputs: Vec<Vec<Spike>>,
    pub expected: Vec<Expected>,
}

/// The file form of version 3.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    format: String,
    version: u32,
    description: String,
    early_exit: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    output_only: bool,
    #[serde(default, skip_serializing_if = "Timing::is_eager")]
    timing: Timing,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    network: Option<QuantNetwork>,
    program: Program,
    inputs: Vec<String>,
    expected: Vec<String>,
}

/// The version 2 file form, read for old case files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyCaseV2 {
    pub format: String,
    pub version: u32,
    pub description: String,
    pub params: HwParams,
    pub early_exit: bool,
    pub network: QuantNetwork,
    pub program: Program,
    pub inputs: Vec<Vec<Option<u32>>>,
    pub expected: Vec<LegacyExpectedV2>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LegacyExpectedV2 {
    pub spikes: Vec<Vec<Option<u32>>>,
    pub final_v: Vec<i64>,
    pub class: usize,
    pub steps_run: u32,
    #[serde(default)]
    pub cycles: Option<u64>,
}

impl Case {
    /// The hardware configuration the case runs on.
    pub fn params(&self) -> &HwParams {
        &self.program.params
    }

    /// Builds a case whose expectations are the reference model's results
    /// (cycles not yet recorded); the program is the compiler's balanced
    /// mapping of `network` onto `params`.
    pub fn record<I: SpikeInput>(
        description: &str,
        params: HwParams,
        early_exit: bool,
        network: QuantNetwork,
        inputs: Vec<I>,
    ) -> Result<Case, MapError> {
        params
            .validate(description)
            .map_err(|e| IrError::field(description, "params", e.to_string()))?;
        let (program, _) = map_balanced(&network, &params, None)?;
        Ok(Case::of_program(
            description,
            program,
            Some(network),
            early_exit,
            inputs,
        )?)
    }

    /// A case of an already compiled `program` (not mapped again), with
    /// the reference model's expectations where `network` is given;
    /// without one, `expected` is left empty for a backend to fill
    /// ([`crate::backends::record_on_simulator`]).
    pub fn of_program<I: SpikeInput>(
        description: &str,
        program: Program,
        network: Option<QuantNetwork>,
        early_exit: bool,
        inputs: Vec<I>,
    ) -> Result<Case, IrError> {
        let mut c = Case {
            description: description.into(),
            early_exit,
            output_only: false,
            timing: Timing::default(),
            network,
            program,
            inputs: inputs.iter().map(|i| i.events()).collect(),
            expected: Vec::new(),
        };
        if c.network.is_some() {
            c.expected = c
                .inputs
                .iter()
                .map(|inp| c.reference(inp).map(|r| c.observed(expected_of(&r))))
                .collect::<Result<_, _>>()
                .map_err(|e| IrError::field(description, "inputs", e.to_string()))?;
        }
        c.check(description, c.network.is_some())?;
        Ok(c)
    }

    /// What the output stream shows of `e`: with [`Case::output_only`],
    /// the hidden layers' spikes are dropped.
    pub fn observed(&self, mut e: Expected) -> Expected {
        if self.output_only {
            let last = e.spikes.layers.len().saturating_sub(1);
            for l in &mut e.spikes.layers[..last] {
                l.clear();
            }
        }
        e
    }

    /// Layer sizes of the program (and of the network, when there is one).
    pub fn layer_sizes(&self) -> Vec<u32> {
        self.program
            .neurons
            .iter()
            .map(|l| l.len() as u32)
            .collect()
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
            widths: Widths::from(self.params()),
            early_exit: self.early_exit,
        }
    }

    /// The reference model's inference of `input` (an error for a case
    /// without a network: see [`Case::network`]).
    pub fn reference(&self, input: &[Spike]) -> Result<Inference, String> {
        let net = self
            .network
            .as_ref()
            .ok_or("the case's program has no network form: the reference model does not apply")?;
        ReferenceModel::new(net)
            .run(input, self.options())
            .map_err(|e| e.to_string())
    }

    /// Loads a case file of version 3 (or 2), checking it whole.
    pub fn load(path: &Path) -> Result<Case, IrError> {
        let origin = path.display().to_string();
        let v: serde_json::Value = load_json(path)?;
        let version = v.get("version").and_then(|x| x.as_u64());
        let parse = |message: String| IrError::Parse {
            origin: origin.clone(),
            message,
        };
        let c = match version {
            Some(2) => {
                let old: LegacyCaseV2 =
                    serde_json::from_value(v).map_err(|e| parse(e.to_string()))?;
                if !old.program.params.same_hardware(&old.params) {
                    return Err(IrError::field(
                        &origin,
                        "program.params",
                        "differ from the case's params",
                    ));
                }
                Case::from_v2(old, &origin)?
            }
            _ => {
                let f: CaseFile = serde_json::from_value(v).map_err(|e| parse(e.to_string()))?;
                if f.format != CASE_FORMAT || f.version != CASE_VERSION {
                    return Err(IrError::field(
                        &origin,
                        "format/version",
                        format!(
                            "is {} v{}, expected {CASE_FORMAT} v{CASE_VERSION} (or v2)",
                            f.format, f.version
                        ),
                    ));
                }
                let sizes: Vec<u32> = f.program.neurons.iter().map(|l| l.len() as u32).collect();
                let inputs = f
                    .inputs
                    .iter()
                    .enumerate()
                    .map(|(k, s)| {
                        parse_events(s)
                            .map_err(|m| IrError::field(&origin, format!("inputs[{k}]"), m))
                    })
                    .collect::<Result<_, _>>()?;
                let expected = f
                    .expected
                    .iter()
                    .enumerate()
                    .map(|(k, s)| {
                        parse_expected(s, &sizes)
                            .map_err(|m| IrError::field(&origin, format!("expected[{k}]"), m))
                    })
                    .collect::<Result<_, _>>()?;
                Case {
                    description: f.description,
                    early_exit: f.early_exit,
                    output_only: f.output_only,
                    timing: f.timing,
                    network: f.network,
                    program: f.program,
                    inputs,
                    expected,
                }
            }
        };
        c.check(&origin, true)?;
        Ok(c)
    }

    fn from_v2(old: LegacyCaseV2, origin: &str) -> Result<Case, IrError> {
        let sizes: Vec<u32> = old.network.layers.iter().map(|l| l.outputs).collect();
        let expected = old
            .expected
            .iter()
            .enumerate()
            .map(|(k, e)| {
                let shape: Vec<u32> = e.spikes.iter().map(|l| l.len() as u32).collect();
                if shape != sizes {
                    return Err(IrError::field(
                        origin,
                        format!("expected[{k}].spikes"),
                        format!("has layers of {shape:?} neurons, the network {sizes:?}"),
                    ));
                }
                let mut spikes = SpikeRecord::new(&sizes);
                for (l, layer) in e.spikes.iter().enumerate() {
                    for (j, s) in layer.iter().enumerate() {
                        if let Some(t) = s {
                            spikes.push(l, *t, j as u32);
                        }
                    }
                }
                spikes.sort();
                Ok(Expected {
                    spikes,
                    final_v: e.final_v.clone(),
                    class: e.class,
                    steps_run: e.steps_run,
                    cycles: e.cycles,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Case {
            description: old.description,
            early_exit: old.early_exit,
            output_only: false,
            timing: Timing::default(),
            network: Some(old.network),
            program: old.program,
            inputs: old.inputs.iter().map(|i| i.events()).collect(),
            expected,
        })
    }

    /// Checks the case whole; `with_expected`: one expectation per input.
    fn check(&self, origin: &str, with_expected: bool) -> Result<(), IrError> {
        self.program.validate(origin)?;
        let input_size = self.program.input_size;
        if let Some(net) = &self.network {
            net.validate(origin)?;
            let sizes_agree = input_size == net.input_size
                && self.program.time_steps == net.time_steps
                && self.program.decision == net.decision
                && self.program.neurons.len() == net.layers.len()
                && self
                    .program
                    .neurons
                    .iter()
                    .zip(&net.layers)
                    .all(|(n, l)| n.len() == l.outputs as usize);
            if !sizes_agree {
                return Err(IrError::field(
                    origin,
                    "program",
                    "does not have the network's shape",
                ));
            }
        }
        HostTiming::from(self.timing)
            .validate()
            .map_err(|m| IrError::field(origin, "timing", m))?;
        if with_expected && self.inputs.len() != self.expected.len() {
            return Err(IrError::field(
                origin,
                "expected",
                format!(
                    "has {} entries for {} inputs",
                    self.expected.len(),
                    self.inputs.len()
                ),
            ));
        }
        for (k, inp) in self.inputs.iter().enumerate() {
            if let Some(s) = inp.iter().find(|s| s.neuron >= input_size) {
                return Err(IrError::field(
                    origin,
                    format!("inputs[{k}]"),
                    format!("channel {} is beyond input_size = {input_size}", s.neuron),
                ));
            }
        }
        Ok(())
    }

    /// Writes the case as version 3, readable (see the module doc).
    pub fn save(&self, path: &Path) -> Result<(), IrError> {
        let f = CaseFile {
            format: CASE_FORMAT.into(),
            version: CASE_VERSION,
            description: self.description.clone(),
            early_exit: self.early_exit,
            output_only: self.output_only,
            timing: self.timing,
            network: self.network.clone(),
            program: self.program.clone(),
            inputs: self.inputs.iter().map(|i| format_events(i)).collect(),
            expected: self.expected.iter().map(format_expected).collect(),
        };
        let v = serde_json::to_value(&f).map_err(|e| IrError::Parse {
            origin: path.display().to_string(),
            message: e.to_string(),
        })?;
        let mut text = String::new();
        pretty(&v, 0, &mut text);
        text.push('\n');
        write_atomic(path, text.as_bytes()).map_err(|source| IrError::Io {
            origin: path.display().to_string(),
            source,
        })
    }
}

/// `channel@step` tokens (or `neuron@step`), space-separated.
pub fn format_events(ev: &[Spike]) -> String {
    ev.iter()
        .map(|s| format!("{}@{}", s.neuron, s.step))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn parse_events(s: &str) -> Result<Vec<Spike>, String> {
    let mut ev = s
        .split_whitespace()
        .map(|tok| {
            let (n, t) = tok
                .split_once('@')
                .ok_or_else(|| format!("`{tok}` is not neuron@step"))?;
            Ok(Spike {
                neuron: n.parse().map_err(|_| format!("`{tok}`: bad index"))?,
                step: t.parse().map_err(|_| format!("`{tok}`: bad step"))?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    ev.sort_unstable();
    Ok(ev)
}

pub fn format_expected(e: &Expected) -> String {
    let mut parts = vec![
        format!("class {}", e.class),
        format!("steps {}", e.steps_run),
        format!(
            "cycles {}",
            e.cycles.map_or("-".to_string(), |c| c.to_string())
        ),
        format!(
            "v {}",
            e.final_v
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ),
    ];
    for (l, layer) in e.spikes.layers.iter().enumerate() {
        let sp = format_events(layer);
        parts.push(if sp.is_empty() {
            format!("L{l}")
        } else {
            format!("L{l} {sp}")
        });
    }
    parts.join(" | ")
}

pub fn parse_expected(s: &str, sizes: &[u32]) -> Result<Expected, String> {
    let parts: Vec<&str> = s.split('|').map(str::trim).collect();
    if parts.len() != 4 + sizes.len() {
        return Err(format!(
            "has {} fields, expected class, steps, cycles, v and {} layers",
            parts.len(),
            sizes.len()
        ));
    }
    let field = |k: usize, name: &str| -> Result<&str, String> {
        parts[k]
            .strip_prefix(name)
            .map(str::trim)
            .ok_or_else(|| format!("field {k} should start with `{name}`"))
    };
    let num = |x: &str| {
        x.parse::<u64>()
            .map_err(|_| format!("`{x}` is not a number"))
    };
    let class = num(field(0, "class")?)? as usize;
    let steps_run = num(field(1, "steps")?)? as u32;
    let c = field(2, "cycles")?;
    let cycles = if c == "-" { None } else { Some(num(c)?) };
    let final_v = field(3, "v")?
        .split_whitespace()
        .map(|x| {
            x.parse::<i64>()
                .map_err(|_| format!("`{x}` is not a potential"))
        })
        .collect::<Result<_, _>>()?;
    let mut spikes = SpikeRecord::new(sizes);
    for (l, &n) in sizes.iter().enumerate() {
        let ev = parse_events(field(4 + l, &format!("L{l}"))?)?;
        if let Some(s) = ev.iter().find(|s| s.neuron >= n) {
            return Err(format!("layer {l}: neuron {} of {n}", s.neuron));
        }
        spikes.layers[l] = ev;
    }
    Ok(Expected {
        spikes,
        final_v,
        class,
        steps_run,
        cycles,
    })
}

/// Pretty JSON with arrays of scalars kept on one line.
fn pretty(v: &serde_json::Value, indent: usize, out: &mut String) {
    use serde_json::Value;
    let pad = |n: usize| "  ".repeat(n);
    match v {
        Value::Array(a) if a.iter().all(|x| !x.is_array() && !x.is_object()) => {
            if a.iter().all(|x| x.is_string()) && !a.is_empty() {
                out.push_str("[\n");
                for (k, x) in a.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    out.push_str(&x.to_string());
                    out.push_str(if k + 1 < a.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push(']');
            } else {
                out.push_str(&serde_json::to_string(v).expect("JSON values serialize"));
            }
        }
        Value::Array(a) => {
            out.push_str("[\n");
            for (k, x) in a.iter().enumerate() {
                out.push_str(&pad(indent + 1));
                pretty(x, indent + 1, out);
                out.push_str(if k + 1 < a.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push(']');
        }
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        Value::Object(m) if m.len() <= 3 && m.values().all(|x| !x.is_array() && !x.is_object()) => {
            out.push_str(&serde_json::to_string(v).expect("JSON values serialize"));
        }
        Value::Object(m) => {
            out.push_str("{\n");
            for (k, (key, x)) in m.iter().enumerate() {
                out.push_str(&pad(indent + 1));
                out.push_str(&serde_json::to_string(key).expect("keys serialize"));
                out.push_str(": ");
                pretty(x, indent + 1, out);
                out.push_str(if k + 1 < m.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push('}');
        }
        _ => out.push_str(&v.to_string()),
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
    if want.spikes.layers.len() != got.spikes.layers.len() {
        return Some(format!(
            "{} layers expected, {} reported",
            want.spikes.layers.len(),
            got.spikes.layers.len()
        ));
    }
    if let Some((l, only_want, only_got)) = want.spikes.first_difference(&got.spikes) {
        return Some(match (only_want, only_got) {
            (Some(s), _) => format!(
                "layer {l}: expected a spike of neuron {} at step {}, not reported",
                s.neuron, s.step
            ),
            (None, Some(s)) => format!(
                "layer {l}: unexpected spike of neuron {} at step {}",
                s.neuron, s.step
            ),
            (None, None) => format!("layer {l}: spikes differ"),
        });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectation_lines_round_trip() {
        let mut spikes = SpikeRecord::new(&[3, 2]);
        spikes.push(0, 1, 2);
        spikes.push(0, 3, 0);
        spikes.push(1, 4, 1);
        let e = Expected {
            spikes,
            final_v: vec![17, -3],
            class: 1,
            steps_run: 12,
            cycles: Some(345),
        };
        let line = format_expected(&e);
        assert_eq!(
            line,
            "class 1 | steps 12 | cycles 345 | v 17 -3 | L0 2@1 0@3 | L1 1@4"
        );
        assert_eq!(parse_expected(&line, &[3, 2]), Ok(e.clone()));
        let none = Expected { cycles: None, ..e };
        assert_eq!(
            parse_expected(&format_expected(&none), &[3, 2]),
            Ok(none.clone())
        );
        assert!(parse_expected("class 1 | steps 2", &[3, 2]).is_err());
        assert!(parse_expected(&line, &[2, 2]).is_err(), "neuron 2 of 2");
    }
}
