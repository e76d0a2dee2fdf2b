//! A NIR graph to a `FloatNetwork`, exactly where the semantics allow and
//! with every assumption said (`docs/nir.md` has the rules and why).
//!
//! The steps: nested graphs are inlined (edges may name a subgraph, whose
//! `Input` / `Output` they reach, or `sub.node`); `I -> IF` pairs become one
//! neuron with a held current; every neuron node (`IF`, `LIF`, `CubaLIF`,
//! and `LI` / `CubaLI` as a readout) becomes a layer, and the affine nodes
//! between neuron nodes (`Linear`, `Affine`, `Scale`, `Conv1d`, `Conv2d`,
//! `SumPool2d`, `AvgPool2d`, `Flatten`) are composed into that layer's
//! weights and bias. Gains (`r dt / tau`, `w_in dt / tau_syn`) and
//! per-neuron thresholds are folded into the weights, decays become the
//! nearest `1 - 2^-k`, and bias terms become bias input channels plus, for
//! deeper layers, relay neurons that spike every step (SPEC §2b).
//!
//! Time: NIR is continuous and its exporters run all layers within one
//! step, while the hardware gives every layer one step of delay; the
//! imported network runs `L` steps longer than its input (`L` layers), so
//! that every layer sees exactly the steps the peer's layer saw.

use crate::graph::{Array, Graph, Node, Value};
use crate::NirError;
use onespike_compiler::{
    Coding, Decision, FloatLayer, FloatNetwork, InputEncoding, LayerKind, NeuronModel, Reset,
};
use std::collections::{BTreeMap, BTreeSet};

/// How a reset to `v_reset = 0` in the file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResetRule {
    /// As NIR defines it: `v = v_reset` (only 0 is supported).
    #[default]
    File,
    /// Subtract the threshold at the spike (SPEC §2b `subtract`).
    Subtract,
    /// snnTorch's rule: subtract the threshold at the step after the spike,
    /// undecayed (reset `subtract_next`).
    Snntorch,
}

impl ResetRule {
    pub fn parse(s: &str) -> Option<ResetRule> {
        match s {
            "file" | "zero" => Some(ResetRule::File),
            "subtract" => Some(ResetRule::Subtract),
            "snntorch" => Some(ResetRule::Snntorch),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            ResetRule::File => "file",
            ResetRule::Subtract => "subtract",
            ResetRule::Snntorch => "snntorch",
        }
    }
}

/// What NIR does not carry, from the user (or the graph's metadata).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOptions {
    /// Input coding (`--encoding`); required unless the graph's metadata has it.
    pub coding: Option<Coding>,
    /// Input steps (`--time-steps`); required unless in the metadata.
    pub input_steps: Option<u32>,
    /// Pixels at or below this are silent (`--cut`); default 0, or 127 for rows.
    pub cut: Option<u8>,
    /// Seconds per step (`--dt`); default: the metadata's `dt`, else 1e-4.
    pub dt: Option<f64>,
    /// How `v_reset` is read (`--reset`).
    pub reset: ResetRule,
    /// Decision rule (`--decision`); default spike count, or max potential
    /// for a non-spiking readout.
    pub decision: Option<Decision>,
    /// The largest decay error accepted when rounding to `1 - 2^-k`.
    pub decay_tolerance: f64,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            coding: None,
            input_steps: None,
            cut: None,
            dt: None,
            reset: ResetRule::File,
            decision: None,
            decay_tolerance: 0.02,
        }
    }
}

/// One imported layer, as the report shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LayerImport {
    /// The neuron node (with `I` for an `I -> IF` pair).
    pub node: String,
    pub kind: String,
    pub neurons: u32,
    /// Relay neurons appended to carry deeper layers' bias.
    pub relays: u32,
    /// Nonzero feed-forward and recurrent synapses (relays included).
    pub synapses: usize,
    pub recurrent: bool,
    /// Membrane decay in the file (`1 - dt / tau`) and as imported.
    pub v_decay_file: f64,
    pub v_decay: f64,
    pub i_decay_file: Option<f64>,
    pub i_decay: Option<f64>,
    pub reset: String,
}

/// Everything the import assumed or changed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImportReport {
    pub nir_version: Option<String>,
    pub dt: f64,
    pub dt_from: String,
    pub layers: Vec<LayerImport>,
    pub bias_channels: u32,
    /// Steps added so that the hardware's one-step delay per layer does not
    /// cut the peer's last steps.
    pub delay_steps: u32,
    pub notes: Vec<String>,
}

/// An error about `node`'s `field`.
fn field_err(path: &str, node: &str, field: &str, message: impl Into<String>) -> NirError {
    NirError::Field {
        path: path.into(),
        node: node.into(),
        field: field.into(),
        message: message.into(),
    }
}

/// A primitive after inlining, by its flat name.
#[derive(Debug, Clone)]
struct Prim {
    kind: String,
    params: BTreeMap<String, Value>,
    metadata: BTreeMap<String, Value>,
}

/// Inlines nested graphs: nodes get `outer.inner` names, a subgraph's
/// `Input` / `Output` become pass-through nodes, edges to a subgraph reach
/// its input and edges from it leave its output.
fn flatten(
    path: &str,
    g: &Graph,
    prefix: &str,
    nodes: &mut BTreeMap<String, Prim>,
    edges: &mut Vec<(String, String)>,
) -> Result<(), NirError> {
    for (name, node) in &g.nodes {
        let flat = format!("{prefix}{name}");
        match node {
            Node::Graph(sub) => flatten(path, sub, &format!("{flat}."), nodes, edges)?,
            Node::Prim {
                kind,
                params,
                metadata,
            } => {
                let kind = if !prefix.is_empty() && (kind == "Input" || kind == "Output") {
                    "Identity".to_string()
                } else {
                    kind.clone()
                };
                if nodes
                    .insert(
                        flat.clone(),
                        Prim {
                            kind,
                            params: params.clone(),
                            metadata: metadata.clone(),
                        },
                    )
                    .is_some()
                {
                    return Err(field_err(
                        path,
                        &flat,
                        "name",
                        "two nodes have this name once nested graphs are inlined",
                    ));
                }
            }
        }
    }
    for (k, (a, b)) in g.edges.iter().enumerate() {
        let at = |f: &str| format!("{}edges[{k}].{f}", prefix);
        let src = resolve(g, prefix, a, "Output").ok_or_else(|| {
            field_err(
                path,
                &at("source"),
                "edges",
                format!("`{a}` names no node of the graph"),
            )
        })?;
        let dst = resolve(g, prefix, b, "Input").ok_or_else(|| {
            field_err(
                path,
                &at("target"),
                "edges",
                format!("`{b}` names no node of the graph"),
            )
        })?;
        if edges.contains(&(src.clone(), dst.clone())) {
            return Err(field_err(
                path,
                &src,
                "edges",
                format!("the edge `{a}` -> `{b}` is given twice"),
            ));
        }
        edges.push((src, dst));
    }
    Ok(())
}

/// The flat name an edge endpoint `name` of graph `g` reaches: a node of
/// `g`; a subgraph (its one node of kind `port`); or `sub.rest`.
fn resolve(g: &Graph, prefix: &str, name: &str, port: &str) -> Option<String> {
    match g.nodes.get(name) {
        Some(Node::Prim { .. }) => return Some(format!("{prefix}{name}")),
        Some(Node::Graph(sub)) => {
            let ports: Vec<&String> = sub
                .nodes
                .iter()
                .filter(|(_, n)| n.kind() == port)
                .map(|(k, _)| k)
                .collect();
            if ports.len() == 1 {
                return resolve(sub, &format!("{prefix}{name}."), ports[0], port);
            }
            return None;
        }
        None => {}
    }
    let (head, rest) = name.split_once('.')?;
    match g.nodes.get(head) {
        Some(Node::Graph(sub)) => resolve(sub, &format!("{prefix}{head}."), rest, port),
        _ => None,
    }
}

/// A linear map, identity kept implicit (inputs and neuron outputs are
/// large: a 784 x 784 identity is never built).
#[derive(Debug, Clone)]
enum Mat {
    Identity(usize),
    Dense {
        rows: usize,
        cols: usize,
        data: Vec<f64>,
    },
}

impl Mat {
    fn dense(self) -> (usize, usize, Vec<f64>) {
        match self {
            Mat::Identity(n) => {
                let mut d = vec![0.0; n * n];
                for i in 0..n {
                    d[i * n + i] = 1.0;
                }
                (n, n, d)
            }
            Mat::Dense { rows, cols, data } => (rows, cols, data),
        }
    }
    /// `self * m` (self applied after m), skipping zeros of `self`: the
    /// maps composed here are sparse (convolutions, pools, flattens).
    fn then(&self, m: &Mat) -> Mat {
        match (self, m) {
            (Mat::Identity(_), _) => m.clone(),
            (_, Mat::Identity(_)) => self.clone(),
            (
                Mat::Dense {
                    rows: r,
                    cols: k,
                    data: a,
                },
                Mat::Dense {
                    cols: c, data: b, ..
                },
            ) => {
                let (r, k, c) = (*r, *k, *c);
                let mut out = vec![0.0; r * c];
                for i in 0..r {
                    for j in 0..k {
                        let x = a[i * k + j];
                        if x != 0.0 {
                            let row = &b[j * c..(j + 1) * c];
                            for (o, &y) in out[i * c..(i + 1) * c].iter_mut().zip(row) {
                                *o += x * y;
                            }
                        }
                    }
                }
                Mat::Dense {
                    rows: r,
                    cols: c,
                    data: out,
                }
            }
        }
    }
    fn apply(&self, v: &[f64]) -> Vec<f64> {
        match self {
            Mat::Identity(_) => v.to_vec(),
            Mat::Dense { rows, cols, data } => (0..*rows)
                .map(|i| (0..*cols).map(|j| data[i * cols + j] * v[j]).sum())
                .collect(),
        }
    }
    fn add(self, other: Mat) -> Mat {
        let (r, c, mut a) = self.dense();
        let (_, _, b) = other.dense();
        for (x, y) in a.iter_mut().zip(b) {
            *x += y;
        }
        Mat::Dense {
            rows: r,
            cols: c,
            data: a,
        }
    }
}

/// A signal as an affine function of the sources (the graph input and the
/// neuron nodes' spikes): `sum_s M_s x_s + bias`.
#[derive(Debug, Clone)]
struct Form {
    terms: BTreeMap<String, Mat>,
    bias: Vec<f64>,
    shape: Vec<usize>,
}

impl Form {
    fn len(&self) -> usize {
        self.bias.len()
    }
}

const NEURONS: [&str; 5] = ["IF", "LIF", "CubaLIF", "LI", "CubaLI"];
const AFFINE: [&str; 10] = [
    "Linear",
    "Affine",
    "Scale",
    "Conv1d",
    "Conv2d",
    "SumPool2d",
    "AvgPool2d",
    "Flatten",
    "Identity",
    "Output",
];

struct Ctx<'a> {
    path: &'a str,
    nodes: &'a BTreeMap<String, Prim>,
    incoming: BTreeMap<&'a str, Vec<&'a str>>,
    /// Output shapes of sources (input and neuron nodes).
    source_shape: BTreeMap<String, Vec<usize>>,
    memo: BTreeMap<String, Form>,
    visiting: BTreeSet<String>,
}

/// Most values one signal (an input, a layer's neurons) may have: 2^20,
/// the most neurons a layer of the largest configuration holds (256 cores
/// of 4096). A malformed file can declare any shape; larger ones are
/// refused before anything the size of the signal is allocated.
pub const MAX_SIGNAL: usize = 1 << 20;

/// The number of values of `shape` (node `node`, field `field`), refused
/// past [`MAX_SIGNAL`] (or on overflow).
fn signal_len(path: &str, node: &str, field: &str, shape: &[usize]) -> Result<usize, NirError> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_SIGNAL)
        .ok_or_else(|| {
            field_err(
                path,
                node,
                field,
                format!("shape {shape:?} has more than {MAX_SIGNAL} values (the importer's limit)"),
            )
        })
}

impl Ctx<'_> {
    fn arr(&self, node: &str, field: &str) -> Result<Array, NirError> {
        let p = &self.nodes[node];
        match p.params.get(field) {
            Some(Value::Array(a)) if a.len() != a.shape.iter().product::<usize>() => {
                Err(field_err(
                    self.path,
                    node,
                    field,
                    format!("has shape {:?} but {} values", a.shape, a.len()),
                ))
            }
            Some(Value::Array(a)) => Ok(a.clone()),
            Some(Value::Text(_)) => Err(field_err(
                self.path,
                node,
                field,
                "is a string, expected numbers",
            )),
            None => Err(field_err(
                self.path,
                node,
                field,
                format!("is missing (a `{}` node needs it)", p.kind),
            )),
        }
    }

    fn ints(
        &self,
        node: &str,
        field: &str,
        n: usize,
        default: Option<i64>,
    ) -> Result<Vec<i64>, NirError> {
        let a = match (self.nodes[node].params.get(field), default) {
            (None, Some(d)) => return Ok(vec![d; n]),
            _ => self.arr(node, field)?,
        };
        let v: Vec<i64> = a.data.iter().map(|&x| x as i64).collect();
        match v.len() {
            1 => Ok(vec![v[0]; n]),
            k if k == n => Ok(v),
            k => Err(field_err(
                self.path,
                node,
                field,
                format!("has {k} values, expected 1 or {n}"),
            )),
        }
    }

    /// The affine form of the signal leaving `node`.
    fn form(&mut self, node: &str) -> Result<Form, NirError> {
        if let Some(f) = self.memo.get(node) {
            return Ok(f.clone());
        }
        if let Some(shape) = self.source_shape.get(node) {
            let n = signal_len(self.path, node, "shape", shape)?;
            let mut terms = BTreeMap::new();
            terms.insert(node.to_string(), Mat::Identity(n));
            return Ok(Form {
                terms,
                bias: vec![0.0; n],
                shape: shape.clone(),
            });
        }
        if !self.visiting.insert(node.to_string()) {
            return Err(field_err(
                self.path,
                node,
                "edges",
                "is on a cycle with no neuron on it (an algebraic loop)",
            ));
        }
        let input = self.input_form(node)?;
        let out = self.apply_op(node, input)?;
        signal_len(self.path, node, "shape", &out.shape)?;
        self.visiting.remove(node);
        self.memo.insert(node.to_string(), out.clone());
        Ok(out)
    }

    /// The sum of the signals arriving at `node`.
    fn input_form(&mut self, node: &str) -> Result<Form, NirError> {
        let preds: Vec<String> = self
            .incoming
            .get(node)
            .map(|v| v.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        if preds.is_empty() {
            return Err(field_err(self.path, node, "edges", "receives no edge"));
        }
        let mut acc: Option<Form> = None;
        for p in preds {
            let f = self.form(&p)?;
            acc = Some(match acc {
                None => f,
                Some(mut a) => {
                    if a.len() != f.len() {
                        return Err(field_err(
                            self.path,
                            node,
                            "edges",
                            format!(
                                "receives signals of {} and {} values from `{p}`",
                                a.len(),
                                f.len()
                            ),
                        ));
                    }
                    for (x, y) in a.bias.iter_mut().zip(&f.bias) {
                        *x += y;
                    }
                    for (s, m) in f.terms {
                        let merged = match a.terms.remove(&s) {
                            Some(old) => old.add(m),
                            None => m,
                        };
                        a.terms.insert(s, merged);
                    }
                    a
                }
            });
        }
        Ok(acc.expect("at least one predecessor"))
    }

    fn apply_op(&mut self, node: &str, input: Form) -> Result<Form, NirError> {
        let kind = self.nodes[node].kind.clone();
        let n_in = input.len();
        let (op, bias, shape): (Mat, Vec<f64>, Vec<usize>) = match kind.as_str() {
            "Identity" | "Output" => (Mat::Identity(n_in), vec![0.0; n_in], input.shape.clone()),
            "Flatten" => (Mat::Identity(n_in), vec![0.0; n_in], vec![n_in]),
            "Linear" | "Affine" => {
                let w = self.arr(node, "weight")?;
                if w.shape.len() != 2 || w.shape[1] != n_in {
                    return Err(field_err(
                        self.path,
                        node,
                        "weight",
                        format!(
                            "has shape {:?}, expected (out, {n_in}) for its {n_in} inputs",
                            w.shape
                        ),
                    ));
                }
                let rows = w.shape[0];
                let b = if kind == "Affine" {
                    let b = self.arr(node, "bias")?;
                    if b.len() != rows {
                        return Err(field_err(
                            self.path,
                            node,
                            "bias",
                            format!("has {} values, expected {rows}", b.len()),
                        ));
                    }
                    b.data
                } else {
                    vec![0.0; rows]
                };
                (
                    Mat::Dense {
                        rows,
                        cols: n_in,
                        data: w.data,
                    },
                    b,
                    vec![rows],
                )
            }
            "Scale" => {
                let s = self.arr(node, "scale")?;
                let s = broadcast(self.path, node, "scale", &s, n_in)?;
                let mut d = vec![0.0; n_in * n_in];
                for i in 0..n_in {
                    d[i * n_in + i] = s[i];
                }
                (
                    Mat::Dense {
                        rows: n_in,
                        cols: n_in,
                        data: d,
                    },
                    vec![0.0; n_in],
                    input.shape.clone(),
                )
            }
            "Conv1d" | "Conv2d" | "SumPool2d" | "AvgPool2d" => {
                self.conv(node, &kind, &input.shape, n_in)?
            }
            "Delay" => return Err(field_err(
                self.path,
                node,
                "delay",
                "Delay nodes are not supported (the hardware's only delay is one step per layer)",
            )),
            other => {
                return Err(field_err(
                    self.path,
                    node,
                    "type",
                    format!(
                        "`{other}` cannot stand between neuron layers (supported there: {})",
                        AFFINE.join(", ")
                    ),
                ))
            }
        };
        let terms = input
            .terms
            .iter()
            .map(|(s, m)| (s.clone(), op.then(m)))
            .collect();
        let mut b = op.apply(&input.bias);
        for (x, y) in b.iter_mut().zip(bias) {
            *x += y;
        }
        Ok(Form {
            terms,
            bias: b,
            shape,
        })
    }

    /// Convolutions and pools unrolled into a sparse matrix (a convolution
    /// is a sparse layer with repeated weights).
    fn conv(
        &self,
        node: &str,
        kind: &str,
        in_shape: &[usize],
        n_in: usize,
    ) -> Result<(Mat, Vec<f64>, Vec<usize>), NirError> {
        let dims = if kind == "Conv1d" { 1 } else { 2 };
        let is_pool = kind.ends_with("Pool2d");
        // Input shape (C, spatial...): from the signal, or the node's own
        // `input_shape` (spatial dims only) when the signal is flat.
        let mut shape = in_shape.to_vec();
        if shape.len() != dims + 1 {
            let spatial = match self.nodes[node].params.get("input_shape") {
                Some(Value::Array(a)) if a.len() == dims => a.data.iter().map(|&x| x as usize).collect::<Vec<_>>(),
                _ => {
                    return Err(field_err(
                        self.path,
                        node,
                        "input_shape",
                        format!("is needed: the incoming signal has shape {in_shape:?}, not (channels, {dims} spatial dims)"),
                    ))
                }
            };
            let sp: usize = spatial.iter().product();
            if sp == 0 || !n_in.is_multiple_of(sp) {
                return Err(field_err(
                    self.path,
                    node,
                    "input_shape",
                    format!("{spatial:?} does not divide the {n_in} inputs"),
                ));
            }
            shape = std::iter::once(n_in / sp).chain(spatial).collect();
        }
        let c_in = shape[0];
        let sp_in = &shape[1..];
        let (c_out, groups, kernel, weight, bias) = if is_pool {
            let k = self.ints(node, "kernel_size", dims, None)?;
            (
                c_in,
                c_in,
                k.iter().map(|&x| x as usize).collect::<Vec<_>>(),
                None,
                vec![0.0; c_in],
            )
        } else {
            let w = self.arr(node, "weight")?;
            if w.shape.len() != dims + 2 {
                return Err(field_err(
                    self.path,
                    node,
                    "weight",
                    format!(
                        "has shape {:?}, expected (out, in / groups, kernel...)",
                        w.shape
                    ),
                ));
            }
            let groups = self.ints(node, "groups", 1, Some(1))?[0].max(1) as usize;
            if w.shape[1] * groups != c_in || w.shape[0] % groups != 0 {
                return Err(field_err(
                    self.path,
                    node,
                    "weight",
                    format!("has shape {:?}: with groups = {groups} it does not take {c_in} input channels", w.shape),
                ));
            }
            let b = match self.nodes[node].params.get("bias") {
                Some(Value::Array(b)) if b.len() == w.shape[0] => b.data.clone(),
                Some(Value::Array(b)) if b.len() <= 1 => {
                    vec![b.data.first().copied().unwrap_or(0.0); w.shape[0]]
                }
                None => vec![0.0; w.shape[0]],
                Some(_) => {
                    return Err(field_err(
                        self.path,
                        node,
                        "bias",
                        format!("must have {} values", w.shape[0]),
                    ))
                }
            };
            (w.shape[0], groups, w.shape[2..].to_vec(), Some(w), b)
        };
        let stride: Vec<usize> = self
            .ints(node, "stride", dims, Some(1))?
            .iter()
            .map(|&x| x.max(1) as usize)
            .collect();
        let dilation: Vec<usize> = if is_pool {
            vec![1; dims]
        } else {
            self.ints(node, "dilation", dims, Some(1))?
                .iter()
                .map(|&x| x.max(1) as usize)
                .collect()
        };
        let padding: Vec<usize> = match self.nodes[node].params.get("padding") {
            Some(Value::Text(t)) if t == "valid" => vec![0; dims],
            Some(Value::Text(t)) if t == "same" => kernel
                .iter()
                .zip(&dilation)
                .map(|(k, d)| d * (k - 1) / 2)
                .collect(),
            Some(Value::Text(t)) => {
                return Err(field_err(
                    self.path,
                    node,
                    "padding",
                    format!("`{t}`: expected numbers, \"same\" or \"valid\""),
                ))
            }
            _ => self
                .ints(node, "padding", dims, Some(0))?
                .iter()
                .map(|&x| x.max(0) as usize)
                .collect(),
        };
        let mut sp_out = Vec::new();
        for d in 0..dims {
            let span = dilation[d] * (kernel[d].max(1) - 1) + 1;
            let padded = sp_in[d] + 2 * padding[d];
            if padded < span {
                return Err(field_err(
                    self.path,
                    node,
                    "kernel",
                    format!("is larger than the padded input ({padded})"),
                ));
            }
            sp_out.push((padded - span) / stride[d] + 1);
        }
        let mut out_shape = vec![c_out];
        out_shape.extend(&sp_out);
        let rows = signal_len(self.path, node, "weight", &out_shape)?;
        if rows.checked_mul(n_in).is_none_or(|m| m > MAX_SIGNAL * 256) {
            return Err(field_err(
                self.path,
                node,
                "weight",
                format!("unrolls to a {rows}x{n_in} matrix, more than the importer's limit of {} entries", MAX_SIGNAL * 256),
            ));
        }
        let n_out_sp: usize = sp_out.iter().product();
        let mut data = vec![0.0; rows * n_in];
        let cin_g = c_in / groups;
        let cout_g = c_out / groups;
        let kn: usize = kernel.iter().product();
        let avg = if kind == "AvgPool2d" {
            1.0 / kn as f64
        } else {
            1.0
        };
        for co in 0..c_out {
            let g = co / cout_g.max(1);
            for o in 0..n_out_sp {
                let out_pos: Vec<usize> = unravel(o, &sp_out);
                let row = co * n_out_sp + o;
                let chans: Vec<usize> = if is_pool {
                    vec![co]
                } else {
                    (g * cin_g..(g + 1) * cin_g).collect()
                };
                for (ci_local, &ci) in chans.iter().enumerate() {
                    for kk in 0..kn {
                        let kpos = unravel(kk, &kernel);
                        let mut pos = Vec::with_capacity(dims);
                        let mut inside = true;
                        for d in 0..dims {
                            let p = (out_pos[d] * stride[d] + kpos[d] * dilation[d]) as i64
                                - padding[d] as i64;
                            if p < 0 || p >= sp_in[d] as i64 {
                                inside = false;
                                break;
                            }
                            pos.push(p as usize);
                        }
                        if !inside {
                            continue;
                        }
                        let col = ci * sp_in.iter().product::<usize>() + ravel(&pos, sp_in);
                        let w = match &weight {
                            None => avg,
                            Some(w) => {
                                let ci_w = if is_pool { 0 } else { ci_local };
                                w.data[(co * w.shape[1] + ci_w) * kn + kk]
                            }
                        };
                        data[row * n_in + col] += w;
                    }
                }
            }
        }
        let b: Vec<f64> = (0..rows).map(|r| bias[r / n_out_sp]).collect();
        let shape = std::iter::once(c_out).chain(sp_out).collect();
        Ok((
            Mat::Dense {
                rows,
                cols: n_in,
                data,
            },
            b,
            shape,
        ))
    }
}

fn unravel(mut k: usize, dims: &[usize]) -> Vec<usize> {
    let mut out = vec![0; dims.len()];
    for d in (0..dims.len()).rev() {
        out[d] = k % dims[d].max(1);
        k /= dims[d].max(1);
    }
    out
}

fn ravel(pos: &[usize], dims: &[usize]) -> usize {
    pos.iter().zip(dims).fold(0, |acc, (&p, &d)| acc * d + p)
}

/// A parameter broadcast to `n` values (a 0-d or one-element array is a
/// scalar, as snnTorch writes them).
fn broadcast(
    path: &str,
    node: &str,
    field: &str,
    a: &Array,
    n: usize,
) -> Result<Vec<f64>, NirError> {
    match a.len() {
        1 => Ok(vec![a.data[0]; n]),
        k if k == n => Ok(a.data.clone()),
        k => Err(field_err(
            path,
            node,
            field,
            format!("has {k} values (shape {:?}), expected 1 or {n}", a.shape),
        )),
    }
}

/// The parameters of one neuron node, per neuron, in the discrete form.
struct NeuronParams {
    kind: String,
    n: usize,
    /// Membrane decay per step (`1 - dt / tau_mem`; 1 for none).
    v_decay: f64,
    /// Current decay (`None`: instant synapse, no state).
    i_decay: Option<f64>,
    /// Input gain per neuron (what one unit of input adds to `v`).
    gain: Vec<f64>,
    /// Constant drive per step into `v` (from `v_leak`).
    drive: Vec<f64>,
    threshold: Option<Vec<f64>>,
    v_reset: Vec<f64>,
}

/// `dt / tau` with the infinite-tau limit (0), refusing what is not a
/// time constant.
fn step_ratio(path: &str, node: &str, field: &str, tau: f64, dt: f64) -> Result<f64, NirError> {
    if tau.is_infinite() && tau > 0.0 {
        return Ok(0.0);
    }
    if !(tau.is_finite() && tau > 0.0) {
        return Err(field_err(
            path,
            node,
            field,
            format!("is {tau}, must be a time constant > 0 (or inf)"),
        ));
    }
    Ok(dt / tau)
}

/// One value shared by every neuron of the node (a layer has one decay).
fn uniform(path: &str, node: &str, field: &str, v: &[f64]) -> Result<f64, NirError> {
    let first = v[0];
    let same = |x: f64| x == first || (x - first).abs() <= 1e-6 * first.abs().max(1e-30);
    if let Some(x) = v.iter().find(|&&x| !same(x)) {
        return Err(field_err(
            path,
            node,
            field,
            format!("varies across neurons ({first} and {x}); one layer has one decay"),
        ));
    }
    Ok(first)
}

/// `gain * dt / tau` with the `tau = r = inf` limit of snnTorch's
/// `beta = 1` (gain 1).
fn gain_of(r: f64, tau_ratio: f64, tau: f64) -> f64 {
    if tau.is_infinite() {
        if r.is_infinite() {
            1.0
        } else {
            0.0
        }
    } else {
        r * tau_ratio
    }
}

fn neuron_params(
    ctx: &Ctx,
    node: &str,
    shape: &[usize],
    dt: f64,
    integrator_r: Option<f64>,
) -> Result<NeuronParams, NirError> {
    let path = ctx.path;
    let kind = ctx.nodes[node].kind.clone();
    let n: usize = shape.iter().product();
    let get =
        |f: &str| -> Result<Vec<f64>, NirError> { broadcast(path, node, f, &ctx.arr(node, f)?, n) };
    let get_or = |f: &str, d: f64| -> Result<Vec<f64>, NirError> {
        match ctx.nodes[node].params.get(f) {
            None => Ok(vec![d; n]),
            Some(_) => get(f),
        }
    };
    let known: &[&str] = match kind.as_str() {
        "IF" => &["r", "v_threshold", "v_reset"],
        "LIF" => &["tau", "r", "v_leak", "v_threshold", "v_reset"],
        "CubaLIF" => &[
            "tau_syn",
            "tau_mem",
            "r",
            "v_leak",
            "w_in",
            "v_threshold",
            "v_reset",
        ],
        "LI" => &["tau", "r", "v_leak"],
        "CubaLI" => &["tau_syn", "tau_mem", "r", "v_leak", "w_in"],
        _ => &[],
    };
    if let Some(k) = ctx.nodes[node]
        .params
        .keys()
        .find(|k| !known.contains(&k.as_str()))
    {
        return Err(field_err(
            path,
            node,
            k,
            format!(
                "is not a parameter of `{kind}` (known: {})",
                known.join(", ")
            ),
        ));
    }
    let (tau_mem_field, tau_mem) = match kind.as_str() {
        "IF" => ("", vec![f64::INFINITY; n]),
        "LIF" | "LI" => ("tau", get("tau")?),
        _ => ("tau_mem", get("tau_mem")?),
    };
    let r = get("r")?;
    let mut v_decay = 1.0;
    let mut gain = vec![0.0; n];
    let mut drive = vec![0.0; n];
    if kind == "IF" {
        for j in 0..n {
            if !(r[j].is_finite()) {
                return Err(field_err(
                    path,
                    node,
                    "r",
                    format!("is {}, must be finite for IF", r[j]),
                ));
            }
            gain[j] = r[j] * dt;
        }
    } else {
        let tm = uniform(path, node, tau_mem_field, &tau_mem)?;
        let ratio = step_ratio(path, node, tau_mem_field, tm, dt)?;
        if ratio > 1.0 {
            return Err(field_err(
                path,
                node,
                tau_mem_field,
                format!(
                    "is {tm} s, shorter than the step dt = {dt} s: the Euler step would overshoot"
                ),
            ));
        }
        v_decay = 1.0 - ratio;
        let v_leak = get("v_leak")?;
        for j in 0..n {
            gain[j] = gain_of(r[j], ratio, tm);
            if tm.is_finite() && v_leak[j] != 0.0 {
                drive[j] = ratio * v_leak[j];
            }
        }
    }
    let mut i_decay = None;
    if kind.starts_with("Cuba") {
        let ts = get("tau_syn")?;
        let ts0 = uniform(path, node, "tau_syn", &ts)?;
        let ratio = step_ratio(path, node, "tau_syn", ts0, dt)?;
        if ratio > 1.0 {
            return Err(field_err(
                path,
                node,
                "tau_syn",
                format!("is {ts0} s, shorter than the step dt = {dt} s"),
            ));
        }
        i_decay = Some(1.0 - ratio);
        let w_in = get("w_in")?;
        for j in 0..n {
            gain[j] *= gain_of(w_in[j], ratio, ts0);
        }
    }
    if let Some(r_i) = integrator_r {
        // I -> IF: a held current, I += r_I dt x.
        i_decay = Some(1.0);
        for g in gain.iter_mut() {
            *g *= r_i * dt;
        }
    }
    let spiking = matches!(kind.as_str(), "IF" | "LIF" | "CubaLIF");
    let threshold = if spiking {
        Some(get("v_threshold")?)
    } else {
        None
    };
    let v_reset = if spiking {
        get_or("v_reset", 0.0)?
    } else {
        vec![0.0; n]
    };
    Ok(NeuronParams {
        kind,
        n,
        v_decay,
        i_decay,
        gain,
        drive,
        threshold,
        v_reset,
    })
}

/// The shift for a decay, refusing one further than `tol` from `1 - 2^-k`.
fn shift_for(
    path: &str,
    node: &str,
    field: &str,
    decay: f64,
    tol: f64,
) -> Result<(Option<u32>, f64), NirError> {
    if decay >= 1.0 - 1e-9 {
        return Ok((None, 1.0));
    }
    let k = (-(1.0 - decay).log2())
        .round()
        .clamp(0.0, onespike_compiler::neuron::MAX_SHIFT as f64) as u32;
    let exact = NeuronModel::decay_of_shift(Some(k));
    // The nearer of k and its neighbours (rounding in log space can miss).
    let best = [k.saturating_sub(1), k, k + 1]
        .into_iter()
        .filter(|&c| c <= onespike_compiler::neuron::MAX_SHIFT)
        .min_by(|&a, &b| {
            let ea = (NeuronModel::decay_of_shift(Some(a)) - decay).abs();
            let eb = (NeuronModel::decay_of_shift(Some(b)) - decay).abs();
            ea.partial_cmp(&eb).unwrap()
        })
        .unwrap_or(k);
    let exact = if best == k {
        exact
    } else {
        NeuronModel::decay_of_shift(Some(best))
    };
    if (exact - decay).abs() > tol {
        return Err(field_err(
            path,
            node,
            field,
            format!(
                "gives a decay of {decay:.6} per step; the nearest the hardware has (1 - 2^-{best}) is {exact:.6}, \
                 {:.4} away, beyond --decay-tolerance {tol} (choose --dt, or retrain with a decay of 1 - 2^-k)",
                (exact - decay).abs()
            ),
        ));
    }
    Ok((Some(best), exact))
}

fn meta_text(g: &Graph, key: &str) -> Option<String> {
    match g.metadata.get(key) {
        Some(Value::Text(t)) => Some(t.clone()),
        _ => None,
    }
}

fn meta_num(g: &Graph, key: &str) -> Option<f64> {
    match g.metadata.get(key) {
        Some(Value::Array(a)) if a.len() == 1 => Some(a.data[0]),
        _ => None,
    }
}

/// Imports `graph` (read from `path`, for messages) as a float network.
pub fn import(
    path: &str,
    version: Option<&str>,
    graph: &Graph,
    opts: &ImportOptions,
) -> Result<(FloatNetwork, ImportReport), NirError> {
    let opt_err = |m: String| NirError::Options {
        path: path.into(),
        message: m,
    };
    let mut notes = Vec::new();
    // What NIR does not carry: flags first, then our own metadata.
    let ours = meta_text(graph, "onespike_format").is_some();
    let coding = opts
        .coding
        .or_else(|| match meta_text(graph, "onespike_encoding").as_deref() {
            Some("latency") => Some(Coding::Latency),
            Some("rate") => Some(Coding::Rate),
            Some("rows") => Some(Coding::Rows),
            _ => None,
        });
    let input_steps = opts
        .input_steps
        .or_else(|| meta_num(graph, "onespike_input_steps").map(|x| x as u32));
    let mut missing = Vec::new();
    if coding.is_none() {
        missing.push("--encoding <latency|rate|rows>");
    }
    if input_steps.is_none() {
        missing.push("--time-steps <N>");
    }
    if !missing.is_empty() {
        return Err(opt_err(format!(
            "NIR does not say how inputs are encoded or how many steps they span: give {}",
            missing.join(" and ")
        )));
    }
    let coding = coding.unwrap();
    let input_steps = input_steps.unwrap();
    if input_steps == 0 || input_steps > 65536 {
        return Err(opt_err(format!(
            "--time-steps is {input_steps}, must be in 1..=65536"
        )));
    }
    let (dt, dt_from) = match (opts.dt, meta_num(graph, "dt")) {
        (Some(d), _) => (d, "--dt".to_string()),
        (None, Some(d)) => (d, "the graph's metadata `dt`".to_string()),
        (None, None) => (
            1e-4,
            "the default (snnTorch's and Lava's convention; say --dt otherwise)".to_string(),
        ),
    };
    if !(dt.is_finite() && dt > 0.0) {
        return Err(opt_err(format!(
            "dt is {dt}, must be a positive number of seconds"
        )));
    }

    let mut nodes = BTreeMap::new();
    let mut edges = Vec::new();
    flatten(path, graph, "", &mut nodes, &mut edges)?;
    for (name, p) in &nodes {
        if !(NEURONS.contains(&p.kind.as_str())
            || AFFINE.contains(&p.kind.as_str())
            || ["Input", "I", "Delay"].contains(&p.kind.as_str()))
        {
            let why = match p.kind.as_str() {
                "Threshold" => "`Threshold` (a stateless threshold) has no equivalent: the hardware's neurons integrate".to_string(),
                k => format!("`{k}` is not a NIR primitive this importer knows"),
            };
            return Err(field_err(path, name, "type", why));
        }
    }
    let inputs: Vec<&String> = nodes
        .iter()
        .filter(|(_, p)| p.kind == "Input")
        .map(|(k, _)| k)
        .collect();
    let outputs: Vec<&String> = nodes
        .iter()
        .filter(|(_, p)| p.kind == "Output")
        .map(|(k, _)| k)
        .collect();
    if inputs.len() != 1 || outputs.len() != 1 {
        return Err(field_err(
            path,
            "(graph)",
            "nodes",
            format!(
                "has {} Input and {} Output nodes; one of each is supported",
                inputs.len(),
                outputs.len()
            ),
        ));
    }
    let input = inputs[0].clone();
    let output = outputs[0].clone();
    let in_shape: Vec<usize> = match nodes[&input].params.get("shape") {
        Some(Value::Array(a)) => a.data.iter().map(|&x| x as usize).collect(),
        _ => return Err(field_err(path, &input, "shape", "is missing")),
    };
    let in_len = signal_len(path, &input, "shape", &in_shape)?;
    if in_len == 0 {
        return Err(field_err(
            path,
            &input,
            "shape",
            format!("{in_shape:?} has no elements"),
        ));
    }

    // I -> IF pairs: the integrator is the neuron's held current.
    let mut integrator: BTreeMap<String, (String, f64)> = BTreeMap::new();
    let mut edges: Vec<(String, String)> = edges;
    for (name, p) in nodes.clone() {
        if p.kind != "I" {
            continue;
        }
        let outs: Vec<&(String, String)> = edges.iter().filter(|(a, _)| *a == name).collect();
        let ok = outs.len() == 1
            && nodes[&outs[0].1].kind == "IF"
            && edges.iter().filter(|(_, b)| *b == outs[0].1).count() == 1;
        if !ok {
            return Err(field_err(
                path,
                &name,
                "type",
                "an `I` node is supported only as the current of one IF node (I -> IF)",
            ));
        }
        let target = outs[0].1.clone();
        let r = match p.params.get("r") {
            Some(Value::Array(a)) => {
                let first = a.data.first().copied().unwrap_or(1.0);
                if a.data.iter().any(|&x| x != first) {
                    return Err(field_err(
                        path,
                        &name,
                        "r",
                        "varies across neurons; fold it into the weights before export",
                    ));
                }
                first
            }
            _ => return Err(field_err(path, &name, "r", "is missing")),
        };
        integrator.insert(target.clone(), (name.clone(), r));
        edges.retain(|(a, b)| !(a == &name && b == &target));
        for e in edges.iter_mut() {
            if e.1 == name {
                e.1 = target.clone();
            }
        }
    }
    let neuron_names: Vec<String> = nodes
        .iter()
        .filter(|(_, p)| NEURONS.contains(&p.kind.as_str()))
        .map(|(k, _)| k.clone())
        .collect();
    if neuron_names.is_empty() {
        return Err(field_err(
            path,
            "(graph)",
            "nodes",
            "has no neuron node (IF, LIF, CubaLIF, LI, CubaLI)",
        ));
    }
    // The neuron nodes' shapes come from their parameters.
    let mut source_shape = BTreeMap::new();
    source_shape.insert(input.clone(), in_shape.clone());
    for name in &neuron_names {
        let p = &nodes[name];
        let key = match p.kind.as_str() {
            "IF" | "LIF" | "CubaLIF" => "v_threshold",
            _ => "r",
        };
        // A 0-d or one-element parameter is a scalar: the size comes from
        // what drives the node (found below).
        let shape = match p.params.get(key) {
            Some(Value::Array(a)) if a.len() > 1 => a.shape.clone(),
            Some(Value::Array(_)) => Vec::new(),
            _ => return Err(field_err(path, name, key, "is missing")),
        };
        signal_len(path, name, key, &shape)?;
        source_shape.insert(name.clone(), shape);
    }
    let mut incoming: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in &edges {
        incoming.entry(b.as_str()).or_default().push(a.as_str());
    }
    let mut ctx = Ctx {
        path,
        nodes: &nodes,
        incoming,
        source_shape,
        memo: BTreeMap::new(),
        visiting: BTreeSet::new(),
    };
    // A neuron node with scalar parameters takes its size from what drives
    // it: sized upstream first, one pass per layer at most.
    let mut pending: BTreeSet<String> = neuron_names
        .iter()
        .filter(|n| ctx.source_shape[*n].is_empty())
        .cloned()
        .collect();
    while !pending.is_empty() {
        let mut progress = false;
        for name in pending.clone() {
            ctx.memo.clear();
            if let Ok(f) = ctx.input_form(&name) {
                let upstream_sized = f.terms.keys().all(|s| s == &name || !pending.contains(s));
                if upstream_sized {
                    signal_len(path, &name, "shape", &f.shape)?;
                    ctx.source_shape.insert(name.clone(), f.shape.clone());
                    pending.remove(&name);
                    progress = true;
                }
            }
        }
        if !progress {
            break; // the final trace below reports why
        }
    }
    let mut drive: BTreeMap<String, Form> = BTreeMap::new();
    ctx.memo.clear();
    for name in &neuron_names {
        drive.insert(name.clone(), ctx.input_form(name)?);
    }
    let out_form = ctx.input_form(&output)?;

    // Order the neuron nodes into a chain: input -> n0 -> n1 -> ... -> output.
    let mut order: Vec<String> = Vec::new();
    let mut prev = input.clone();
    loop {
        let next: Vec<&String> = neuron_names
            .iter()
            .filter(|n| !order.contains(n) && drive[*n].terms.contains_key(&prev))
            .collect();
        match next.len() {
            0 => break,
            1 => {
                let n = next[0].clone();
                for s in drive[&n].terms.keys() {
                    if s != &prev && s != &n {
                        return Err(field_err(
                            path,
                            &n,
                            "edges",
                            format!("receives from `{s}` as well as `{prev}`: only a chain of layers (with recurrence on a layer) maps onto the cores"),
                        ));
                    }
                }
                order.push(n.clone());
                prev = n;
            }
            _ => {
                return Err(field_err(
                    path,
                    &prev,
                    "edges",
                    format!(
                    "feeds several neuron nodes ({}): branches do not map onto a chain of layers",
                    next.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                ))
            }
        }
    }
    if let Some(n) = neuron_names.iter().find(|n| !order.contains(n)) {
        return Err(field_err(
            path,
            n,
            "edges",
            "is not on the chain from the Input to the Output",
        ));
    }
    let last = order.last().unwrap().clone();
    if out_form.terms.len() != 1
        || !out_form.terms.contains_key(&last)
        || out_form.bias.iter().any(|&b| b != 0.0)
    {
        return Err(field_err(
            path,
            &output,
            "edges",
            format!("must receive the spikes of the last neuron node `{last}` directly"),
        ));
    }
    if let Some(Mat::Dense { .. }) = out_form.terms.get(&last) {
        return Err(field_err(
            path,
            &output,
            "edges",
            "an affine node between the last neurons and the Output is not supported",
        ));
    }

    // Neuron parameters, models, thresholds.
    let n_layers = order.len();
    let mut params = Vec::new();
    for name in &order {
        let shape = ctx.source_shape[name].clone();
        let np = neuron_params(&ctx, name, &shape, dt, integrator.get(name).map(|x| x.1))?;
        if np.threshold.is_none() && name != &last {
            return Err(field_err(
                path,
                name,
                "type",
                format!(
                    "`{}` does not spike: it can only be the readout (last layer)",
                    np.kind
                ),
            ));
        }
        params.push(np);
    }
    // Per layer, in units of V with gains and thresholds folded in: the
    // feed-forward rows, the recurrent rows, the bias per neuron.
    type Rows = (Vec<f64>, Option<Vec<f64>>, Vec<f64>);
    let mut layers_w: Vec<Rows> = Vec::new();
    let mut models = Vec::new();
    let mut thresholds = Vec::new();
    let mut layer_reports = Vec::new();
    let mut sizes_in = in_len;
    let readout = params
        .last()
        .map(|p| p.threshold.is_none())
        .unwrap_or(false);
    for (l, name) in order.iter().enumerate() {
        let p = &params[l];
        let f = &drive[name];
        let prev = if l == 0 {
            input.clone()
        } else {
            order[l - 1].clone()
        };
        let n = p.n;
        let (rows, cols, mut ff) = f.terms.get(&prev).cloned().expect("chain").dense();
        // Shapes a well-formed graph has; a file whose arrays disagree with
        // its neurons' shapes is refused here, not indexed past its end.
        let mismatch = |what: &str, got: String, want: String| {
            field_err(
                path,
                name,
                "edges",
                format!("{what} is {got}, but the node has {n} neurons and `{prev}` gives {sizes_in} values: {want}"),
            )
        };
        if (rows, cols) != (n, sizes_in) {
            return Err(mismatch(
                "the weight matrix into it",
                format!("{rows}x{cols}"),
                format!("it must be {n}x{sizes_in}"),
            ));
        }
        let mut rec = match f.terms.get(name).cloned().map(|m| m.dense()) {
            Some((r, c, _)) if (r, c) != (n, n) => {
                return Err(mismatch(
                    "its recurrent matrix",
                    format!("{r}x{c}"),
                    format!("it must be {n}x{n}"),
                ))
            }
            other => other.map(|m| m.2),
        };
        let mut bias = f.bias.clone();
        if bias.len() != n || p.gain.len() != n || p.drive.len() != n {
            return Err(mismatch(
                "its bias, gain or drive",
                format!("{}, {} or {} long", bias.len(), p.gain.len(), p.drive.len()),
                format!("each must be {n} long"),
            ));
        }
        // Gains into the weights: what one spike adds to v.
        for j in 0..n {
            let g = p.gain[j];
            for x in &mut ff[j * sizes_in..(j + 1) * sizes_in] {
                *x *= g;
            }
            if let Some(r) = rec.as_mut() {
                for x in &mut r[j * n..(j + 1) * n] {
                    *x *= g;
                }
            }
            bias[j] = bias[j] * g + p.drive[j];
        }
        if p.i_decay.is_some() && p.drive.iter().any(|&d| d != 0.0) {
            return Err(field_err(path, name, "v_leak", "a nonzero v_leak with a synaptic current is not supported (it is a drive into v, and the hardware adds drive through the current)"));
        }
        // Thresholds: one per layer; per-neuron ones are folded into the rows.
        let field = if p.kind.starts_with("Cuba") {
            "tau_mem"
        } else {
            "tau"
        };
        let (v_shift, v_dec) = if p.v_decay >= 1.0 - 1e-12 {
            (None, 1.0)
        } else {
            shift_for(path, name, field, p.v_decay, opts.decay_tolerance)?
        };
        let (i_shift, i_dec) = match p.i_decay {
            None => (Some(0), None),
            Some(d) if d >= 1.0 - 1e-12 => (None, Some(1.0)),
            Some(d) => {
                let (s, e) = shift_for(
                    path,
                    name,
                    if integrator.contains_key(name) {
                        "r"
                    } else {
                        "tau_syn"
                    },
                    d,
                    opts.decay_tolerance,
                )?;
                (s, Some(e))
            }
        };
        let own_reset = match nodes[name].metadata.get("onespike_reset") {
            Some(Value::Text(r)) if ours => match r.as_str() {
                "once" => Some(Reset::Once),
                "subtract" => Some(Reset::Subtract),
                "zero" => Some(Reset::Zero),
                "subtract_next" => Some(Reset::SubtractNext),
                other => {
                    return Err(field_err(
                        path,
                        name,
                        "metadata/onespike_reset",
                        format!("`{other}`: expected once, subtract, zero or subtract_next"),
                    ))
                }
            },
            _ => None,
        };
        let reset = match (&p.threshold, opts.reset) {
            _ if own_reset.is_some() => own_reset.unwrap(),
            (None, _) => Reset::Zero,
            (Some(_), ResetRule::File) => {
                if let Some(j) = (0..n).find(|&j| p.v_reset[j] != 0.0) {
                    return Err(field_err(
                        path,
                        name,
                        "v_reset",
                        format!("is {} for neuron {j}: only a reset to 0 is supported (if the exporter resets by subtraction, as snnTorch does, say --reset snntorch or --reset subtract)", p.v_reset[j]),
                    ));
                }
                Reset::Zero
            }
            (Some(_), ResetRule::Subtract) => Reset::Subtract,
            (Some(_), ResetRule::Snntorch) => Reset::SubtractNext,
        };
        let theta = match &p.threshold {
            Some(t) => {
                if let Some(j) = (0..n).find(|&j| !(t[j].is_finite() && t[j] > 0.0)) {
                    return Err(field_err(
                        path,
                        name,
                        "v_threshold",
                        format!("is {} for neuron {j}, must be a finite number > 0", t[j]),
                    ));
                }
                let t0 = t[0];
                if t.iter().any(|&x| x != t0) {
                    // Scale each neuron's input rows so that its threshold is 1.
                    for j in 0..n {
                        let c = 1.0 / t[j];
                        for x in &mut ff[j * sizes_in..(j + 1) * sizes_in] {
                            *x *= c;
                        }
                        if let Some(r) = rec.as_mut() {
                            for x in &mut r[j * n..(j + 1) * n] {
                                *x *= c;
                            }
                        }
                        bias[j] *= c;
                    }
                    notes.push(format!("{name}: thresholds differ across neurons; each neuron's weights were scaled so that the layer's threshold is 1"));
                    1.0
                } else {
                    t0
                }
            }
            None => 0.0, // set below, once the weights are known
        };
        models.push(NeuronModel {
            v_shift,
            i_shift,
            reset,
        });
        thresholds.push(theta);
        layer_reports.push(LayerImport {
            node: match integrator.get(name) {
                Some((i, _)) => format!("{i} -> {name}"),
                None => name.clone(),
            },
            kind: if integrator.contains_key(name) {
                "I -> IF".into()
            } else {
                p.kind.clone()
            },
            neurons: n as u32,
            relays: 0,
            synapses: 0,
            recurrent: rec.is_some(),
            v_decay_file: p.v_decay,
            v_decay: v_dec,
            i_decay_file: p.i_decay,
            i_decay: i_dec,
            reset: reset.name().into(),
        });
        layers_w.push((ff, rec, bias));
        sizes_in = n;
    }
    if readout {
        // A readout never spikes: its threshold lies above any potential
        // its inputs can build up over the run.
        let l = n_layers - 1;
        // Recurrent weights add nothing: a readout never spikes.
        let (ff, _, bias) = &layers_w[l];
        let n = params[l].n;
        let k = ff.len() / n;
        let per_step = (0..n)
            .map(|j| {
                ff[j * k..(j + 1) * k]
                    .iter()
                    .filter(|&&w| w > 0.0)
                    .sum::<f64>()
                    + bias[j].max(0.0)
            })
            .fold(0.0, f64::max);
        let steps = (input_steps + n_layers as u32) as f64;
        let i_gain = match models[l].i_shift {
            None => steps,
            Some(s) => 1.0 / (1.0 - NeuronModel::decay_of_shift(Some(s))).max(1.0 / steps),
        };
        let v_gain = match models[l].v_shift {
            None => steps,
            Some(s) => 1.0 / (1.0 - NeuronModel::decay_of_shift(Some(s))).max(1.0 / steps),
        };
        thresholds[l] = (2.0 * per_step * i_gain * v_gain).max(1.0);
        if let (true, Some(Value::Array(a))) =
            (ours, nodes[&order[l]].metadata.get("onespike_threshold"))
        {
            thresholds[l] = a.data.first().copied().unwrap_or(thresholds[l]);
        }
        notes.push(format!(
            "{}: a non-spiking readout: decision max_potential, threshold {:.4} (above any potential it can reach)",
            order[l], thresholds[l]
        ));
    }

    // Bias: channels that spike every step, and relay neurons that carry
    // it to deeper layers one step later per layer (SPEC §2b).
    let max_w = |l: usize| -> f64 {
        let (ff, rec, _) = &layers_w[l];
        ff.iter()
            .chain(rec.iter().flatten())
            .fold(0.0f64, |m, w| m.max(w.abs()))
    };
    const MARGIN: f64 = 1.02;
    // What a relay of layer l must receive per step to spike at every step:
    // theta (reset subtract or zero), or (2 - beta) theta under
    // subtract_next, whose fixed point V* = (w - theta) / (1 - beta) must
    // stay above theta; 2 % more covers the rounding of the weights.
    let relay_drive = |l: usize| -> f64 {
        let factor = match models[l].reset {
            Reset::SubtractNext => 2.0 - NeuronModel::decay_of_shift(models[l].v_shift),
            _ => 1.0,
        };
        thresholds[l] * factor * MARGIN
    };
    let has_bias: Vec<bool> = layers_w
        .iter()
        .map(|(_, _, b)| b.iter().any(|&x| x != 0.0))
        .collect();
    // feeds[l]: sources (channels for l = 0, relays of l-1 otherwise) that
    // layer l's bias and relays need.
    let mut relays = vec![0usize; n_layers];
    let mut feeds = vec![0usize; n_layers];
    for l in (0..n_layers).rev() {
        let need_relay = relays[l] > 0;
        if !has_bias[l] && !need_relay {
            continue;
        }
        if models[l].reset == Reset::Once {
            return Err(field_err(
                path,
                &order[l],
                "bias",
                "a bias on a fire-once (TTFS) layer is not supported",
            ));
        }
        let mb = layers_w[l].2.iter().fold(0.0f64, |m, b| m.max(b.abs()));
        let need = mb.max(if need_relay { relay_drive(l) } else { 0.0 });
        let mw = max_w(l);
        let r = if mw > 0.0 {
            (need / mw).ceil().max(1.0) as usize
        } else {
            1
        };
        if r > 256 {
            return Err(field_err(path, &order[l], "bias", format!("needs {r} bias sources (bias or threshold {need:.4} against weights up to {mw:.4}); at most 256 are supported")));
        }
        feeds[l] = r;
        if l > 0 {
            relays[l - 1] = r;
        }
    }
    let bias_channels = feeds[0] as u32;
    let mut layers = Vec::new();
    let mut inputs = in_len + feeds[0];
    let mut prev_real = in_len;
    for l in 0..n_layers {
        let (ff, rec, bias) = &layers_w[l];
        let n = params[l].n;
        let outs = n + relays[l];
        let mut w = vec![0f32; outs * inputs];
        for j in 0..n {
            for i in 0..prev_real {
                w[j * inputs + i] = ff[j * prev_real + i] as f32;
            }
        }
        let r = feeds[l];
        if r > 0 {
            for j in 0..n {
                for s in 0..r {
                    w[j * inputs + prev_real + s] = (bias[j] / r as f64) as f32;
                }
            }
            for q in 0..relays[l] {
                for s in 0..r {
                    w[(n + q) * inputs + prev_real + s] = (relay_drive(l) / r as f64) as f32;
                }
            }
        }
        let recurrent = rec.as_ref().map(|rm| {
            let mut out = vec![0f32; outs * outs];
            for j in 0..n {
                for i in 0..n {
                    out[j * outs + i] = rm[j * n + i] as f32;
                }
            }
            out
        });
        let synapses = w
            .iter()
            .chain(recurrent.iter().flatten())
            .filter(|&&x| x != 0.0)
            .count();
        layer_reports[l].relays = relays[l] as u32;
        layer_reports[l].synapses = synapses;
        layers.push(FloatLayer {
            kind: LayerKind::Dense,
            inputs: inputs as u32,
            outputs: outs as u32,
            threshold: thresholds[l] as f32,
            weights: w,
            neuron: models[l],
            recurrent,
        });
        inputs = outs;
        prev_real = n;
    }
    if bias_channels > 0 {
        notes.push(format!(
            "bias: {bias_channels} input channel(s) spike at every input step{}; each costs one event per step (SPEC §2b)",
            if relays.iter().any(|&r| r > 0) {
                format!(", and {} relay neuron(s) carry it to deeper layers", relays.iter().sum::<usize>())
            } else {
                String::new()
            }
        ));
    }
    let decision = opts.decision.unwrap_or(if readout {
        Decision::MaxPotential
    } else if ours {
        match meta_text(graph, "onespike_decision").as_deref() {
            Some("first_spike") => Decision::FirstSpike,
            Some("max_potential") => Decision::MaxPotential,
            _ => Decision::SpikeCount,
        }
    } else {
        Decision::SpikeCount
    });
    let cut = opts
        .cut
        .or_else(|| meta_num(graph, "onespike_cut").map(|x| x as u8))
        .unwrap_or(if coding == Coding::Rows { 127 } else { 0 });
    let mut encoding = match coding {
        Coding::Latency => InputEncoding::new(input_steps),
        Coding::Rate => InputEncoding::rate(input_steps),
        Coding::Rows => InputEncoding::rows(input_steps, cut),
    };
    encoding.cut = cut;
    // Our own export lists its bias channels (at the end of its inputs).
    let exported_bias = if ours {
        meta_num(graph, "onespike_bias_channels").unwrap_or(0.0) as u32
    } else {
        0
    };
    encoding.bias_channels = bias_channels + exported_bias;
    let (time_steps, delay_steps) = match meta_num(graph, "onespike_time_steps") {
        Some(t) if ours => (t as u32, 0),
        _ => (input_steps + n_layers as u32, n_layers as u32),
    };
    if delay_steps > 0 {
        notes.push(format!(
            "time: the peer runs all {n_layers} layers within one step, the hardware delays each by one; \
             the network runs {time_steps} steps ({input_steps} input steps + {n_layers}) so that every layer sees the peer's {input_steps} steps"
        ));
    }
    if opts.reset == ResetRule::File && params.iter().any(|p| p.threshold.is_some()) && !ours {
        notes.push("reset: v = v_reset = 0, as NIR defines it; files from snnTorch reset by subtraction: say --reset snntorch".into());
    }
    notes.push("threshold: NIR fires at v > theta, the hardware at v >= theta; in float the two differ only where v equals theta exactly".into());
    let net = FloatNetwork {
        format: onespike_compiler::ir::FLOAT_FORMAT.into(),
        version: onespike_compiler::ir::FORMAT_VERSION,
        input_size: (in_len + bias_channels as usize) as u32,
        encoding,
        time_steps,
        layers,
        decision,
        held_out: None,
    };
    net.validate(path)
        .map_err(|e| opt_err(format!("the imported network is not valid: {e}")))?;
    Ok((
        net,
        ImportReport {
            nir_version: version.map(str::to_string),
            dt,
            dt_from,
            layers: layer_reports,
            bias_channels,
            delay_steps,
            notes,
        },
    ))
}
