//! Helpers shared by the CLI test files: running the binary, scratch
//! folders, small networks, and snapshots of a folder to prove that a
//! refused command changed nothing.

#![allow(dead_code)]

use onespike_compiler::{FloatNetwork, InputEncoding};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `onespike args...`.
pub fn onespike(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_onespike"))
        .args(args)
        .output()
        .unwrap()
}

/// Asserts that a command succeeded, showing its stderr if not.
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh, empty folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("onespike-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A float network with a sparse, deterministic pattern of weights of both
/// signs (one synapse in five).
pub fn pattern_network(sizes: &[u32], time_steps: u32) -> FloatNetwork {
    let mut net = FloatNetwork::zeros(sizes, InputEncoding::new(8), time_steps, 1.0);
    for (l, layer) in net.layers.iter_mut().enumerate() {
        for (k, w) in layer.weights.iter_mut().enumerate() {
            if (k * 7 + l) % 5 == 0 {
                *w = ((k % 13) as f32 - 4.0) * 0.05;
            }
        }
    }
    net
}

/// What a folder holds: every entry (recursively) with its kind and
/// content (file bytes, or a link's target), to compare before and after.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().to_path_buf();
            let t = std::fs::symlink_metadata(&p).unwrap().file_type();
            if t.is_symlink() {
                let target = std::fs::read_link(&p).unwrap();
                out.insert(rel, format!("link:{}", target.display()).into_bytes());
            } else if t.is_dir() {
                out.insert(rel, b"dir".to_vec());
                walk(base, &p, out);
            } else if t.is_file() {
                out.insert(rel, std::fs::read(&p).unwrap());
            } else {
                out.insert(rel, b"special".to_vec());
            }
        }
    }
    let mut m = BTreeMap::new();
    walk(dir, dir, &mut m);
    m
}
