//! The NIR files snnTorch exported (`../shared/data/nir/`, with snnTorch's
//! own results) import with `--reset snntorch`, compile for `default` and
//! run: the imported float network reproduces snnTorch's per-image output
//! spike counts exactly on the first 200 test images of every file (LIF,
//! CubaLIF, bias, recurrent, convolution), the integer network on the
//! hardware's semantics is within 0.5 point of snnTorch's accuracy on the
//! 10 000 test images, and the simulator agrees with the reference model
//! image by image. The command line refuses what NIR leaves open or what is not
//! supported, naming the node and the field.

mod common;

use common::scratch;
use onespike_compiler::float_eval::run_discrete;
use onespike_compiler::reference::{ReferenceModel, RunOptions, Widths};
use onespike_compiler::{map_balanced, quantize::quantize, Coding, FloatNetwork, HwParams};
use onespike_nir::{h5, import, ImportOptions, ResetRule};
use onespike_sim::{SimOptions, Simulator};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/nir")
}

fn expected(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixtures().join(format!("{name}.expected.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn imported(file: &str, coding: Coding, steps: u32) -> FloatNetwork {
    let path = fixtures().join(file);
    let f = h5::read(&path).unwrap();
    let opts = ImportOptions {
        coding: Some(coding),
        input_steps: Some(steps),
        reset: ResetRule::Snntorch,
        ..Default::default()
    };
    import(file, f.version.as_deref(), &f.graph, &opts)
        .unwrap_or_else(|e| panic!("{e}"))
        .0
}

#[test]
fn snntorch_files_import_compile_and_match_snntorch() {
    let data = onespike_dataset::load_dir(Path::new(
        &fixtures().join("../mnist"),
    ))
    .expect("../shared/data/mnist");
    for name in [
        "leaky_mlp",
        "leaky_mlp_bias",
        "synaptic_mlp",
        "rleaky_rows",
        "conv",
    ] {
        let exp = expected(name);
        let (coding, steps) = if name == "rleaky_rows" {
            (Coding::Rows, 28)
        } else {
            (Coding::Rate, 20)
        };
        let net = imported(&format!("{name}.nir"), coding, steps);
        assert_eq!(
            imported(&format!("{name}.gz.nir"), coding, steps),
            net,
            "{name}: the gzip file imports to the same network"
        );
        // The float network against snnTorch's own spike counts.
        let counts = exp["first_200_test_images"]["output_spike_counts"]
            .as_array()
            .unwrap();
        let predicted = exp["first_200_test_images"]["predicted"].as_array().unwrap();
        let (mut same_counts, mut same_class) = (0, 0);
        for k in 0..200 {
            let r = run_discrete(&net, &net.encoding.encode(data.test.image(k)));
            let want: Vec<u32> = counts[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_u64().unwrap() as u32)
                .collect();
            same_counts += (r.spikes.counts(net.layers.len() - 1) == want) as usize;
            same_class += (r.class as u64 == predicted[k].as_u64().unwrap()) as usize;
        }
        assert_eq!(same_counts, 200, "{name}: per-image output spike counts equal snnTorch's");
        assert_eq!(same_class, 200, "{name}: classes equal snnTorch's");
        // The integer network, on the hardware's semantics.
        let p = HwParams::preset("default").unwrap();
        let (q, _) = quantize(&net, p.weight_bits).unwrap();
        let (prog, _) = map_balanced(&q, &p, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        let opt = RunOptions {
            widths: Widths::from(&p),
            early_exit: false,
        };
        let e = onespike_dataset::eval::reference_eval(&q, &data.test, opt).unwrap();
        let theirs = exp["test_accuracy_10000"].as_f64().unwrap();
        assert!(
            (e.accuracy - theirs).abs() <= 0.005,
            "{name}: {:.2} % on the hardware's semantics vs snnTorch's {:.2} %",
            100.0 * e.accuracy,
            100.0 * theirs
        );
        // The simulator runs the program and agrees with the judge.
        let model = ReferenceModel::new(&q);
        let mut sim = Simulator::new(&prog).unwrap();
        for k in 0..20 {
            let input = q.encoding.encode(data.test.image(k));
            let r = model.run(&input, opt).unwrap();
            let s = sim.run(&input, &SimOptions::default()).unwrap();
            assert_eq!(s.spikes.output(), r.spikes.output(), "{name}: image {k}");
            assert_eq!(s.class(), r.class, "{name}: image {k}");
        }
        println!(
            "{name}: counts equal on {same_counts}/200, hardware semantics {:.2} % vs snnTorch {:.2} %",
            100.0 * e.accuracy,
            100.0 * theirs
        );
    }
}

fn onespike_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_onespike"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn the_command_line_imports_compiles_and_exports() {
    let d = scratch("nir_cli");
    let leaky = fixtures().join("leaky_mlp.gz.nir");
    let leaky = leaky.to_str().unwrap();
    // NIR does not carry the encoding: the error names the missing flags.
    let o = onespike_in(&d, &["import", "--nir", leaky, "-o", "net.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--encoding") && stderr(&o).contains("--time-steps"), "{}", stderr(&o));
    assert!(!d.join("net.json").exists());
    // Imported, then compiled from the JSON, or straight from the NIR file.
    let flags = ["--encoding", "rate", "--time-steps", "20", "--reset", "snntorch"];
    let mut args = vec!["import", "--nir", leaky, "-o", "net.json"];
    args.extend(flags);
    let o = onespike_in(&d, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("22 steps (20 input steps + 2)"), "{out}");
    let o = onespike_in(&d, &["compile", "--model", "net.json", "-o", "a.prog.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut args = vec!["compile", "--model", leaky, "-o", "b.prog.json"];
    args.extend(flags);
    let o = onespike_in(&d, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(d.join("a.prog.json")).unwrap(),
        std::fs::read(d.join("b.prog.json")).unwrap(),
        "compile --model net.nir is import then compile"
    );
    // NIR flags on a JSON model are refused.
    let o = onespike_in(&d, &["compile", "--model", "net.json", "-o", "c.prog.json", "--reset", "snntorch"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("apply to NIR models"), "{}", stderr(&o));
    // Export, and an output that is the input is refused before any work.
    let o = onespike_in(&d, &["export", "--model", "net.json", "--nir", "net.nir"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(h5::is_hdf5(&d.join("net.nir")));
    let o = onespike_in(&d, &["export", "--model", "net.json", "--nir", "net.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("would destroy the input"), "{}", stderr(&o));
    // Our export imports back with no flag: its metadata carries them.
    let o = onespike_in(&d, &["import", "--nir", "net.nir", "-o", "back.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        FloatNetwork::load(&d.join("back.json")).unwrap(),
        FloatNetwork::load(&d.join("net.json")).unwrap()
    );
}

#[test]
fn unsupported_nodes_and_parameters_are_named() {
    use onespike_nir::{Array, Graph, Node};
    let d = scratch("nir_refusals");
    let linear = Node::prim("Linear").with("weight", Array::f32(&[2, 3], vec![0.1; 6]));
    let lif = |reset: f64, tau: f64| {
        Node::prim("LIF")
            .with("tau", Array::f32(&[2], vec![tau; 2]))
            .with("r", Array::f32(&[2], vec![tau / 1e-4; 2]))
            .with("v_leak", Array::f32(&[2], vec![0.0; 2]))
            .with("v_threshold", Array::f32(&[2], vec![1.0; 2]))
            .with("v_reset", Array::f32(&[2], vec![reset; 2]))
    };
    let graph = |mid: Node| {
        let mut g = Graph::default();
        g.nodes.insert("input".into(), Node::prim("Input").with("shape", Array::i64(&[1], vec![3])));
        g.nodes.insert("fc".into(), linear.clone());
        g.nodes.insert("neuron".into(), mid);
        g.nodes.insert("output".into(), Node::prim("Output").with("shape", Array::i64(&[1], vec![2])));
        for (a, b) in [("input", "fc"), ("fc", "neuron"), ("neuron", "output")] {
            g.edges.push((a.into(), b.into()));
        }
        g
    };
    let cases: Vec<(&str, Graph, &[&str])> = vec![
        ("threshold.nir", graph(Node::prim("Threshold").with("threshold", Array::f32(&[2], vec![1.0; 2]))), &["node `neuron`", "field `type`", "Threshold"]),
        ("v_reset.nir", graph(lif(0.5, 4e-4)), &["node `neuron`", "field `v_reset`", "--reset"]),
        ("decay.nir", graph(lif(0.0, 3e-4)), &["node `neuron`", "field `tau`", "1 - 2^-", "--decay-tolerance"]),
        ("unknown_key.nir", graph(lif(0.0, 4e-4).with("gain", Array::f32(&[2], vec![1.0; 2]))), &["node `neuron`", "field `gain`", "not a parameter of `LIF`"]),
    ];
    for (file, g, needles) in cases {
        h5::write(&d.join(file), &g, false).unwrap();
        let o = onespike_in(&d, &["import", "--nir", file, "-o", "x.json", "--encoding", "rate", "--time-steps", "10"]);
        assert_eq!(o.status.code(), Some(1), "{file}: {}", stderr(&o));
        for n in needles {
            assert!(stderr(&o).contains(n), "{file}: stderr lacks `{n}`:\n{}", stderr(&o));
        }
        assert!(!stderr(&o).contains("panicked"));
        assert!(!d.join("x.json").exists(), "{file}: nothing written");
    }
    // A file that is not HDF5 at all.
    std::fs::write(d.join("junk.nir"), b"not a NIR file").unwrap();
    let o = onespike_in(&d, &["import", "--nir", "junk.nir", "-o", "x.json", "--encoding", "rate", "--time-steps", "10"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("junk.nir") && stderr(&o).contains("HDF5"), "{}", stderr(&o));
}
