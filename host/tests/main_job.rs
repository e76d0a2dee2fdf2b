//! The README's main job (`onespike run` on the embedded subset) end to
//! end: every artifact is written, and the program the compiler made of the
//! trained network gives, on the cycle-accurate simulator, exactly the
//! integer reference model's spikes, potentials and class for test images,
//! with the simulator's report agreeing on accuracy.

use onespike_compiler::reference::{ReferenceModel, RunOptions, Widths};
use onespike_compiler::{Program, QuantNetwork};
use onespike_sim::{SimOptions, Simulator};
use std::process::Command;

#[test]
fn run_writes_every_artifact_and_the_simulator_agrees_with_the_reference() {
    let out = std::env::temp_dir().join(format!("onespike-main-job-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new(env!("CARGO_BIN_EXE_onespike"))
        .args(["run", "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&status.stderr)
    );
    for f in [
        "model.json",
        "quantized.json",
        "program.json",
        "program.json.report.json",
        "sim-report.json",
        "sim-inference0.vcd",
        "report/tables.txt",
        "verilog/top.v",
        "verilog/fpga_top.v",
    ] {
        assert!(out.join(f).is_file(), "{f} missing; output:\n{stdout}");
    }

    // The model records the images its trainer held out, and the compile
    // stage chose the time resolution on exactly those.
    let model = onespike_compiler::FloatNetwork::load(&out.join("model.json")).unwrap();
    let held = model
        .held_out
        .expect("the trained model records its held-out images");
    assert_eq!(
        (held.first, held.count, held.train_images),
        (5700, 300, 6000)
    );
    assert!(
        stdout.contains("choosing steps per inference on 300 held-out training images"),
        "{stdout}"
    );
    // The summary says what each figure means.
    for what in [
        "integer reference model",
        "lower bound",
        "spikes per neuron per image",
    ] {
        assert!(stdout.contains(what), "summary lacks {what:?}:\n{stdout}");
    }

    let prog = Program::load(&out.join("program.json")).unwrap();
    let net = QuantNetwork::load(&out.join("quantized.json")).unwrap();
    let data = onespike_dataset::load("default").unwrap();
    let reference = ReferenceModel::new(&net);
    let opt = RunOptions {
        widths: Widths::from(&prog.params),
        early_exit: false,
    };
    let mut sim = Simulator::new(&prog).unwrap();
    let n = 100;
    let mut correct = 0;
    for k in 0..n {
        let input = net.encoding.encode(data.test.image(k));
        let want = reference.run(&input, opt).unwrap();
        let got = sim.run(&input, &SimOptions::default()).unwrap();
        assert_eq!(got.spikes, want.spikes, "image {k}: spikes differ");
        assert_eq!(got.final_v, want.final_v, "image {k}: final V differs");
        assert_eq!(got.class(), want.class, "image {k}");
        correct += (want.class == data.test.labels[k] as usize) as usize;
    }
    // A trained network, not noise: well above chance on these images.
    assert!(correct > n / 2, "only {correct} of {n} correct");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sim-report.json")).unwrap())
            .unwrap();
    let e = onespike_dataset::reference_eval(&net, &data.test, opt).unwrap();
    assert_eq!(
        report["correct"].as_u64().unwrap() as usize,
        e.correct,
        "simulated and reference accuracy differ"
    );

    // The run named every file it wrote, and its manifest lists exactly
    // what the folder holds.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(".onespike-run")).unwrap()).unwrap();
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for f in &listed {
        assert!(out.join(f).is_file(), "{f} listed but missing");
        assert!(
            stdout.contains(&out.join(f).display().to_string()),
            "{f} not named"
        );
    }
    assert!(listed.contains(&"verilog/top.v") && listed.contains(&"model.json"));

    // The README's command can be run again: a folder `run` wrote is
    // replaced as a whole; a file the user adds makes it theirs.
    std::fs::write(out.join("model.json"), "stale").unwrap();
    let again = Command::new(env!("CARGO_BIN_EXE_onespike"))
        .args(["run", "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_ne!(std::fs::read(out.join("model.json")).unwrap(), b"stale");
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_onespike"))
        .args(["run", "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"mine");
    let _ = std::fs::remove_dir_all(&out);
}
