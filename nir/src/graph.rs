//! The NIR graph as it is on disk, before any interpretation: nodes by
//! name (a node is a primitive with named parameter arrays, or a nested
//! graph), edges in file order, and metadata. `import` gives it meaning;
//! `h5` reads and writes it.

use std::collections::BTreeMap;

/// The element type an array had on disk (kept so that a file written back
/// has the types a peer expects: f32 weights, i64 shapes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F64,
    I64,
}

/// An N-d array in row-major order (a 0-d array has an empty shape and one
/// element).
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

impl Array {
    pub fn f32(shape: &[usize], data: Vec<f64>) -> Array {
        Array {
            dtype: Dtype::F32,
            shape: shape.to_vec(),
            data,
        }
    }

    pub fn i64(shape: &[usize], data: Vec<i64>) -> Array {
        Array {
            dtype: Dtype::I64,
            shape: shape.to_vec(),
            data: data.into_iter().map(|v| v as f64).collect(),
        }
    }

    /// A 0-d array.
    pub fn scalar(dtype: Dtype, v: f64) -> Array {
        Array {
            dtype,
            shape: Vec::new(),
            data: vec![v],
        }
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// A parameter or metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Array(Array),
    Text(String),
}

/// One node of a graph.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A primitive: its wire type (`"LIF"`, `"Linear"`, ...) and its
    /// datasets by name.
    Prim {
        kind: String,
        params: BTreeMap<String, Value>,
        metadata: BTreeMap<String, Value>,
    },
    /// A nested `NIRGraph`.
    Graph(Graph),
}

impl Node {
    pub fn prim(kind: &str) -> Node {
        Node::Prim {
            kind: kind.into(),
            params: BTreeMap::new(),
            metadata: BTreeMap::new(),
        }
    }

    /// Adds a parameter (builder style).
    pub fn with(mut self, key: &str, value: Array) -> Node {
        if let Node::Prim { params, .. } = &mut self {
            params.insert(key.into(), Value::Array(value));
        }
        self
    }

    /// Adds a metadata entry (builder style).
    pub fn with_meta(mut self, key: &str, value: Value) -> Node {
        if let Node::Prim { metadata, .. } = &mut self {
            metadata.insert(key.into(), value);
        }
        self
    }

    pub fn kind(&self) -> &str {
        match self {
            Node::Prim { kind, .. } => kind,
            Node::Graph(_) => "NIRGraph",
        }
    }
}

/// A graph: nodes by name, edges `(source, target)` in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    pub nodes: BTreeMap<String, Node>,
    pub edges: Vec<(String, String)>,
    pub metadata: BTreeMap<String, Value>,
}
