//! The `onespike` binary from the outside: help texts, errors that name
//! the file and field with a non-zero exit, and the compile stage end to end.

use onespike_compiler::{FloatNetwork, InputEncoding, Program};
use std::path::PathBuf;
use std::process::{Command, Output};

fn onespike(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_onespike")).args(args).output().unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("onespike-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn help_lists_every_stage() {
    let out = onespike(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in ["train", "compile", "sim", "verilog", "synth", "report", "run"] {
        assert!(text.contains(sub), "--help lacks {sub}:\n{text}");
        let sub_help = onespike(&[sub, "--help"]);
        assert!(sub_help.status.success(), "{sub} --help failed");
    }
}

#[test]
fn malformed_model_names_the_file_and_writes_nothing() {
    let d = scratch("bad");
    let model = d.join("model.json");
    std::fs::write(&model, "{\"format\": 3}").unwrap();
    let prog = d.join("prog.json");
    let out = onespike(&["compile", "--model", model.to_str().unwrap(), "-o", prog.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("model.json"), "{err}");
    assert!(!prog.exists());
}

#[test]
fn unknown_config_lists_the_presets() {
    let d = scratch("cfg");
    let out = onespike(&["compile", "--model", "x.json", "--config", "nope", "-o", d.join("p.json").to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("default") && err.contains("small"), "{err}");
}

#[test]
fn compile_writes_a_program_that_loads() {
    let d = scratch("ok");
    let mut net = FloatNetwork::zeros(&[784, 20, 10], InputEncoding::new(8), 32, 1.0);
    for (l, layer) in net.layers.iter_mut().enumerate() {
        for (k, w) in layer.weights.iter_mut().enumerate() {
            // A sparse, deterministic pattern of weights of both signs.
            if (k * 7 + l) % 5 == 0 {
                *w = ((k % 13) as f32 - 4.0) * 0.05;
            }
        }
    }
    let model = d.join("model.json");
    net.save(&model).unwrap();
    let prog = d.join("prog.json");
    let q = d.join("q.json");
    let out = onespike(&[
        "compile", "--model", model.to_str().unwrap(), "--config", "default",
        "-o", prog.to_str().unwrap(), "--quantized", q.to_str().unwrap(), "--data", "default",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let p = Program::load(&prog).unwrap();
    assert_eq!(p.neurons.len(), 2);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("accuracy"), "{stdout}");
}
