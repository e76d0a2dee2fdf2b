//! A `FloatNetwork` as a NIR graph that peers read (`docs/nir.md`,
//! "Export"): per layer a `Linear`, a neuron node (`LIF` for an instant
//! synapse, `IF` without leak, `CubaLIF` for a decaying or held current,
//! `LI` / `CubaLI` for a max-potential readout) and, for a recurrent layer,
//! a `Linear` back to the neuron. Gains are 1 at the given `dt`; a decay
//! `1 - 2^-k` is `tau = dt 2^k`; "no decay" is a very long but finite
//! `tau = dt 2^30` (infinity turns into NaN in some peers). What NIR has no
//! word for (fire-once, subtracting resets, the input encoding, the
//! hardware's step per layer) is written as metadata, which our importer
//! reads back to the same network.

use crate::graph::{Array, Dtype, Graph, Node, Value};
use onespike_compiler::{Coding, Decision, FloatNetwork, NeuronModel, Reset};

/// `tau / dt` that stands for "no decay".
pub const NO_DECAY_STEPS: f64 = (1u64 << 30) as f64;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportOptions {
    /// Seconds per step (default 1e-4, snnTorch's convention).
    pub dt: f64,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions { dt: 1e-4 }
    }
}

/// A neuron parameter per neuron, in f64 so that `tau = dt 2^k` and the
/// gains are exact (an f32 `tau` would give a gain of 1 + 3e-8).
fn full(n: usize, v: f64) -> Array {
    Array {
        dtype: Dtype::F64,
        shape: vec![n],
        data: vec![v; n],
    }
}

/// `tau` for a shift: `dt 2^k`, or the no-decay stand-in.
fn tau_of(shift: Option<u32>, dt: f64) -> (f64, f64) {
    let steps = match shift {
        Some(k) => (k as f64).exp2(),
        None => NO_DECAY_STEPS,
    };
    (dt * steps, steps)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn num(v: f64) -> Value {
    Value::Array(Array::scalar(Dtype::F64, v))
}

/// The graph of `net`.
pub fn export(net: &FloatNetwork, opts: &ExportOptions) -> Graph {
    let dt = opts.dt;
    let mut g = Graph::default();
    g.nodes.insert(
        "input".into(),
        Node::prim("Input").with("shape", Array::i64(&[1], vec![net.input_size as i64])),
    );
    let mut prev = "input".to_string();
    let n_layers = net.layers.len();
    for (l, layer) in net.layers.iter().enumerate() {
        let n = layer.outputs as usize;
        let fc = format!("fc{l}");
        g.nodes.insert(
            fc.clone(),
            Node::prim("Linear").with(
                "weight",
                Array::f32(
                    &[n, layer.inputs as usize],
                    layer.weights.iter().map(|&w| w as f64).collect(),
                ),
            ),
        );
        g.edges.push((prev.clone(), fc.clone()));
        let readout = l + 1 == n_layers && net.decision == Decision::MaxPotential;
        let NeuronModel {
            v_shift,
            i_shift,
            reset,
        } = layer.neuron;
        let (tau_mem, r) = tau_of(v_shift, dt);
        let theta = layer.threshold as f64;
        // Fire-once: a reset far below any potential reachable in practice.
        let v_reset = if reset == Reset::Once {
            -1e9 * theta.max(1.0)
        } else {
            0.0
        };
        let (name, node) = match (i_shift, v_shift, readout) {
            (Some(0), _, true) => (
                format!("li{l}"),
                Node::prim("LI")
                    .with("tau", full(n, tau_mem))
                    .with("r", full(n, r))
                    .with("v_leak", full(n, 0.0)),
            ),
            // No leak is a LIF with the no-decay tau rather than an IF:
            // peers read IF's `r` differently (snnTorch 1.0's importer takes
            // it as a per-step gain and refuses r != 1; NIR defines
            // dv/dt = r I), while every reader agrees on LIF's gain r dt / tau.
            (Some(0), _, false) => (
                format!("lif{l}"),
                Node::prim("LIF")
                    .with("tau", full(n, tau_mem))
                    .with("r", full(n, r))
                    .with("v_leak", full(n, 0.0))
                    .with("v_threshold", full(n, theta))
                    .with("v_reset", full(n, v_reset)),
            ),
            (i, _, ro) => {
                let (tau_syn, w_in) = tau_of(i, dt);
                let base = Node::prim(if ro { "CubaLI" } else { "CubaLIF" })
                    .with("tau_syn", full(n, tau_syn))
                    .with("tau_mem", full(n, tau_mem))
                    .with("r", full(n, r))
                    .with("w_in", full(n, w_in))
                    .with("v_leak", full(n, 0.0));
                if ro {
                    (format!("cubali{l}"), base)
                } else {
                    (
                        format!("cubalif{l}"),
                        base.with("v_threshold", full(n, theta))
                            .with("v_reset", full(n, v_reset)),
                    )
                }
            }
        };
        let mut node = node.with_meta("onespike_reset", text(reset.name()));
        if readout {
            // NIR's readouts have no threshold; ours keeps one (unreached).
            node = node.with_meta("onespike_threshold", num(theta));
        }
        g.nodes.insert(name.clone(), node);
        g.edges.push((fc, name.clone()));
        if let Some(rec) = &layer.recurrent {
            let rn = format!("rec{l}");
            g.nodes.insert(
                rn.clone(),
                Node::prim("Linear").with(
                    "weight",
                    Array::f32(&[n, n], rec.iter().map(|&w| w as f64).collect()),
                ),
            );
            g.edges.push((name.clone(), rn.clone()));
            g.edges.push((rn, name.clone()));
        }
        prev = name;
    }
    let out_n = net.layers.last().map(|l| l.outputs).unwrap_or(0);
    g.nodes.insert(
        "output".into(),
        Node::prim("Output").with("shape", Array::i64(&[1], vec![out_n as i64])),
    );
    g.edges.push((prev, "output".into()));
    let coding = match net.encoding.coding {
        Coding::Latency => "latency",
        Coding::Rate => "rate",
        Coding::Rows => "rows",
    };
    let m = &mut g.metadata;
    m.insert("onespike_format".into(), text(onespike_compiler::ir::FLOAT_FORMAT));
    m.insert("dt".into(), num(dt));
    m.insert("onespike_encoding".into(), text(coding));
    m.insert("onespike_input_steps".into(), num(net.encoding.input_steps as f64));
    m.insert("onespike_time_steps".into(), num(net.time_steps as f64));
    m.insert("onespike_cut".into(), num(net.encoding.cut as f64));
    m.insert(
        "onespike_bias_channels".into(),
        num(net.encoding.bias_channels as f64),
    );
    m.insert("onespike_decision".into(), text(net.decision.name()));
    m.insert(
        "onespike_semantics".into(),
        text(
            "discrete steps of dt; a neuron fires at v >= v_threshold; each layer's spikes reach \
             the next layer one step later; reset per node in metadata onespike_reset (once: fires \
             at most once per inference; subtract: v -= v_threshold; zero: v = 0); the last \
             onespike_bias_channels inputs spike at every input step",
        ),
    );
    g
}
