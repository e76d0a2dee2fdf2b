//! Round trips through the reference Python `nir` package (1.0.8): graphs
//! it writes (compressed and not, 0-d parameters, infinite time constants,
//! a nested graph, `I -> IF`, bias and an `LI` readout, a 2-d convolution
//! with padding into a pool, a strided and dilated 1-d convolution) import
//! to the values they hold; graphs we write read back in
//! Python with its type check on; and export then import is the identity.
//!
//! The Python package is a CI install (`.ci/run`); where it is missing the
//! Python tests fail under CI and are skipped, loudly, elsewhere.

use onespike_compiler::{
    Coding, Decision, FloatLayer, FloatNetwork, InputEncoding, LayerKind, NeuronModel, Reset,
};
use onespike_nir::{export, h5, import, ExportOptions, ImportOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peer")
}

/// Whether `python3` with the `nir` package is here (panics under CI).
fn python_nir() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import nir, h5py, numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("python3 with the `nir` package is missing: .ci/run installs it (pip install nir==1.0.8)");
        }
        eprintln!(
            "SKIPPED: python3 with the `nir` package is not installed (pip install nir==1.0.8)"
        );
    }
    ok
}

fn python(script: &str, arg: &Path) -> String {
    let out = Command::new("python3")
        .arg(peer_dir().join(script))
        .arg(arg)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn opts(coding: Coding, steps: u32) -> ImportOptions {
    ImportOptions {
        coding: Some(coding),
        input_steps: Some(steps),
        ..Default::default()
    }
}

fn import_file(path: &Path, o: &ImportOptions) -> FloatNetwork {
    let f = h5::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    import(
        &path.display().to_string(),
        f.version.as_deref(),
        &f.graph,
        o,
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .0
}

/// The script's `pattern(shape, scale, offset)`.
fn pattern(n: usize, scale: f64, offset: f64) -> Vec<f64> {
    (0..n)
        .map(|i| ((i % 7) as f64 - 3.0) * scale + offset)
        .collect()
}

fn close(got: &[f32], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (k, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g as f64 - w).abs() <= 1e-6 * w.abs().max(1.0),
            "{what}[{k}]: {g} vs {w}"
        );
    }
}

/// Layer `l`'s weights from its first `cols` inputs (bias channels and
/// relays excluded).
fn block(layer: &FloatLayer, rows: usize, cols: usize) -> Vec<f32> {
    let n = layer.inputs as usize;
    (0..rows)
        .flat_map(|j| layer.weights[j * n..j * n + cols].to_vec())
        .collect()
}

#[test]
fn reads_the_graphs_the_python_package_writes() {
    if !python_nir() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    python("write_graphs.py", dir.path());
    let w0 = pattern(12, 0.1, 0.0);
    let w1 = pattern(8, 0.2, 0.0);
    let lif2 = NeuronModel {
        v_shift: Some(2),
        i_shift: Some(0),
        reset: Reset::Zero,
    };

    // 0-d parameters (uncompressed), and one-element arrays (gzip).
    for name in ["scalar_lif_plain", "scalar_lif"] {
        let net = import_file(
            &dir.path().join(format!("{name}.nir")),
            &opts(Coding::Rate, 20),
        );
        assert_eq!(net.layers.len(), 2, "{name}");
        assert_eq!(net.time_steps, 22, "{name}: 20 input steps + one per layer");
        assert_eq!(net.encoding.coding, Coding::Rate);
        assert_eq!(net.decision, Decision::SpikeCount);
        for l in &net.layers {
            assert_eq!(l.neuron, lif2, "{name}");
            assert_eq!(l.threshold, 1.0);
            assert!(l.recurrent.is_none());
        }
        close(&net.layers[0].weights, &w0, name);
        close(&net.layers[1].weights, &w1, name);
    }

    // Infinite time constants: the no-decay limit with gain 1.
    let net = import_file(&dir.path().join("cuba_inf.nir"), &opts(Coding::Latency, 8));
    assert_eq!(
        net.layers[0].neuron,
        NeuronModel {
            v_shift: None,
            i_shift: None,
            reset: Reset::Zero
        }
    );
    assert_eq!(net.layers[0].threshold, 0.5);
    close(&net.layers[0].weights, &w0, "cuba_inf");

    // A nested recurrent layer reached by the subgraph's name.
    let net = import_file(&dir.path().join("nested.nir"), &opts(Coding::Rate, 10));
    assert_eq!(net.layers[0].neuron.v_shift, Some(3));
    close(&net.layers[0].weights, &w0, "nested ff");
    close(
        net.layers[0].recurrent.as_ref().expect("recurrent"),
        &pattern(16, 0.05, 0.0),
        "nested rec",
    );
    close(&net.layers[1].weights, &w1, "nested fc1");

    // Linear -> I -> IF: a held current without leak, as TTFS neurons have.
    let net = import_file(&dir.path().join("i_if.nir"), &opts(Coding::Latency, 8));
    assert_eq!(
        net.layers[0].neuron,
        NeuronModel {
            v_shift: None,
            i_shift: None,
            reset: Reset::Zero
        }
    );
    assert_eq!(net.layers[0].threshold, 2.0);
    close(&net.layers[0].weights, &w0, "i_if");

    // Affine bias -> one bias channel; LI readout -> max potential.
    let net = import_file(&dir.path().join("affine_li.nir"), &opts(Coding::Rate, 10));
    assert_eq!(net.encoding.bias_channels, 1);
    assert_eq!(net.input_size, 4);
    assert_eq!(net.decision, Decision::MaxPotential);
    assert_eq!(net.layers[0].neuron.v_shift, Some(1));
    close(&block(&net.layers[0], 4, 3), &w0, "affine weights");
    let bias: Vec<f32> = (0..4).map(|j| net.layers[0].weights[j * 4 + 3]).collect();
    close(&bias, &pattern(4, 0.01, 0.0), "affine bias");
    assert_eq!(net.layers[1].neuron.v_shift, Some(2));
    close(&net.layers[1].weights, &w1, "readout weights");

    // Conv2d and SumPool2d unrolled: the matrices numpy computes.
    let exp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("expected.json")).unwrap())
            .unwrap();
    let net = import_file(&dir.path().join("conv_pool.nir"), &opts(Coding::Rate, 10));
    let want = |k: &str| -> Vec<f64> {
        exp["conv_pool"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    assert_eq!((net.layers[0].inputs, net.layers[0].outputs), (36, 72));
    close(&net.layers[0].weights, &want("layer0"), "conv");
    assert_eq!((net.layers[1].inputs, net.layers[1].outputs), (72, 3));
    close(&net.layers[1].weights, &want("layer1"), "pool+linear");

    // Conv1d with stride and dilation.
    let net = import_file(&dir.path().join("conv1d.nir"), &opts(Coding::Rate, 10));
    let want: Vec<f64> = exp["conv1d"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!((net.layers[0].inputs, net.layers[0].outputs), (10, 9));
    close(&net.layers[0].weights, &want, "conv1d");
}

/// A small network of `layers` (outputs, neuron, recurrent?) with
/// patterned weights.
fn net_of(input: u32, layers: &[(u32, NeuronModel, bool)], decision: Decision) -> FloatNetwork {
    let mut inputs = input;
    let mut out = Vec::new();
    for (l, &(n, neuron, rec)) in layers.iter().enumerate() {
        let w = pattern((n * inputs) as usize, 0.07, 0.01 * l as f64);
        out.push(FloatLayer {
            kind: LayerKind::Dense,
            inputs,
            outputs: n,
            threshold: 1.5,
            weights: w.iter().map(|&x| x as f32).collect(),
            neuron,
            recurrent: rec.then(|| {
                pattern((n * n) as usize, 0.03, 0.0)
                    .iter()
                    .map(|&x| x as f32)
                    .collect()
            }),
        });
        inputs = n;
    }
    let mut encoding = if layers[0].1.is_ttfs() {
        InputEncoding::new(8)
    } else {
        InputEncoding::rate(12)
    };
    encoding.cut = 3;
    FloatNetwork {
        format: onespike_compiler::ir::FLOAT_FORMAT.into(),
        version: onespike_compiler::ir::FORMAT_VERSION,
        input_size: input,
        encoding,
        time_steps: 16,
        layers: out,
        decision,
        held_out: None,
    }
}

fn networks() -> Vec<(&'static str, FloatNetwork)> {
    let m = |v, i, reset| NeuronModel {
        v_shift: v,
        i_shift: i,
        reset,
    };
    let mut with_bias = net_of(
        6,
        &[
            (5, m(Some(2), Some(0), Reset::Zero), false),
            (3, m(Some(1), Some(0), Reset::Zero), false),
        ],
        Decision::SpikeCount,
    );
    with_bias.encoding.bias_channels = 1;
    vec![
        (
            "ttfs",
            net_of(
                6,
                &[(5, NeuronModel::TTFS, false), (3, NeuronModel::TTFS, false)],
                Decision::FirstSpike,
            ),
        ),
        (
            "lif_rec",
            net_of(
                6,
                &[
                    (5, m(Some(2), Some(0), Reset::Subtract), true),
                    (3, m(Some(3), Some(0), Reset::Subtract), false),
                ],
                Decision::SpikeCount,
            ),
        ),
        (
            "if_cuba",
            net_of(
                6,
                &[
                    (5, m(None, Some(0), Reset::Zero), false),
                    (3, m(Some(2), Some(1), Reset::Subtract), true),
                ],
                Decision::SpikeCount,
            ),
        ),
        (
            "readout_li",
            net_of(
                6,
                &[
                    (5, m(Some(2), Some(0), Reset::Subtract), false),
                    (3, m(Some(4), Some(0), Reset::Zero), false),
                ],
                Decision::MaxPotential,
            ),
        ),
        (
            "readout_cubali",
            net_of(
                6,
                &[
                    (5, m(Some(2), Some(0), Reset::Subtract), false),
                    (3, m(None, Some(2), Reset::Zero), false),
                ],
                Decision::MaxPotential,
            ),
        ),
        ("bias_channel", with_bias),
    ]
}

#[test]
fn export_then_import_gives_the_same_network() {
    let dir = tempfile::tempdir().unwrap();
    for (name, net) in networks() {
        net.validate(name).unwrap();
        for compress in [false, true] {
            let path = dir.path().join(format!("{name}_{compress}.nir"));
            h5::write(&path, &export(&net, &ExportOptions::default()), compress).unwrap();
            // No flag needed: our metadata says how it was encoded.
            let back = import_file(&path, &ImportOptions::default());
            assert_eq!(back, net, "{name} (compress {compress})");
        }
    }
}

#[test]
fn the_python_package_reads_what_we_write_with_its_type_check() {
    if !python_nir() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nets = networks();
    for (name, net) in &nets {
        let g = export(net, &ExportOptions::default());
        h5::write(&dir.path().join(format!("{name}.nir")), &g, true).unwrap();
        h5::write(&dir.path().join(format!("{name}.plain.nir")), &g, false).unwrap();
    }
    let seen: serde_json::Value =
        serde_json::from_str(&python("read_graphs.py", dir.path())).unwrap();
    let kinds = |file: &str| -> Vec<String> {
        let mut k: Vec<String> = seen[file]["nodes"]
            .as_object()
            .unwrap_or_else(|| panic!("{file} was read"))
            .values()
            .map(|n| n["type"].as_str().unwrap().to_string())
            .collect();
        k.sort();
        k
    };
    for (name, _) in &nets {
        for file in [format!("{name}.nir"), format!("{name}.plain.nir")] {
            assert_eq!(seen[&file]["version"], "1.0.8", "{file}");
            assert!(seen[&file]["metadata"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("onespike_encoding")));
            for n in seen[&file]["nodes"].as_object().unwrap().values() {
                for (p, v) in n["params"].as_object().unwrap() {
                    assert_eq!(
                        v["finite"], true,
                        "{file}: {p} must be finite (peers turn inf into NaN)"
                    );
                }
            }
        }
    }
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        kinds("ttfs.nir"),
        s(&["CubaLIF", "CubaLIF", "Input", "Linear", "Linear", "Output"])
    );
    assert_eq!(
        kinds("lif_rec.nir"),
        s(&["Input", "LIF", "LIF", "Linear", "Linear", "Linear", "Output"])
    );
    assert_eq!(
        kinds("if_cuba.nir"),
        s(&["CubaLIF", "Input", "LIF", "Linear", "Linear", "Linear", "Output"])
    );
    assert_eq!(
        kinds("readout_li.nir"),
        s(&["Input", "LI", "LIF", "Linear", "Linear", "Output"])
    );
    assert_eq!(
        kinds("readout_cubali.nir"),
        s(&["CubaLI", "Input", "LIF", "Linear", "Linear", "Output"])
    );
    // Values: tau = dt 2^k, gains 1, the fire-once reset far below threshold.
    let lif0 = &seen["lif_rec.nir"]["nodes"]["lif0"];
    assert_eq!(lif0["params"]["tau"]["first"], 4e-4);
    assert_eq!(lif0["params"]["r"]["first"], 4.0);
    assert_eq!(lif0["params"]["v_threshold"]["first"], 1.5);
    assert_eq!(lif0["metadata"]["onespike_reset"], "subtract");
    let t0 = &seen["ttfs.nir"]["nodes"]["cubalif0"];
    assert!(t0["params"]["v_reset"]["first"].as_f64().unwrap() < -1e8);
    assert_eq!(t0["metadata"]["onespike_reset"], "once");
    let rec = &seen["lif_rec.nir"]["edges"];
    assert!(rec
        .as_array()
        .unwrap()
        .contains(&serde_json::json!(["rec0", "lif0"])));
}
