//! `onespike verify` end to end: a compiled program on MNIST images agrees
//! on every backend (exit 0, a table with every row equal); a case file
//! with a corrupted expectation is a mismatch (exit 2, the first
//! difference named, a reproducer written beside, never over, the
//! user's files); bad input names the file and field, exits 1 and writes
//! nothing.

mod common;

use common::*;
use onespike_tests::case::Case;
use std::path::{Path, PathBuf};
use std::process::Output;

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A program for `config` (784-24-10, sparse) compiled by `onespike compile`.
fn compiled_program(d: &Path, config: &str) -> PathBuf {
    let net = pattern_network(&[784, 24, 10], 24);
    let model = d.join("model.json");
    net.save(&model).unwrap();
    let prog = d.join("prog.json");
    let m = model.display().to_string();
    let p = prog.display().to_string();
    assert_success(&onespike(&[
        "compile", "--model", &m, "--config", config, "-o", &p,
    ]));
    prog
}

/// The table row of `backend`: `(cases, inputs, spikes equal, cycles equal)`.
fn row<'a>(stdout: &'a str, backend: &str) -> Vec<&'a str> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(backend))
        .unwrap_or_else(|| panic!("no row {backend}:\n{stdout}"));
    line[backend.len()..].split_whitespace().collect()
}

/// `tiny` with a deeper event FIFO, 6-bit weights and a 20-bit membrane:
/// a configuration that is not built in.
fn write_custom_config(path: &Path) {
    let tiny =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/tiny.toml"))
            .unwrap();
    let custom = tiny
        .replace("name = \"tiny\"", "name = \"custom\"")
        .replace("fifo_depth = 4", "fifo_depth = 8")
        .replace("weight_bits = 8", "weight_bits = 6")
        .replace("membrane_bits = 24", "membrane_bits = 20");
    assert_ne!(custom, tiny);
    std::fs::write(path, custom).unwrap();
}

#[test]
fn a_compiled_program_agrees_on_every_backend() {
    let d = scratch("verify-program");
    let prog = compiled_program(&d, "default");
    let repro = d.join("failures");
    let out = onespike(&[
        "verify",
        "--program",
        &prog.display().to_string(),
        "--data",
        "default",
        "--images",
        "6",
        "--rtl-inputs",
        "2",
        "--reproducer-dir",
        &repro.display().to_string(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        row(&stdout, "reference model")[..3],
        ["1", "6", "6/6"],
        "{stdout}"
    );
    assert_eq!(
        row(&stdout, "simulator")[..4],
        ["1", "6", "6/6", "-"],
        "{stdout}"
    );
    assert_eq!(
        row(&stdout, "rust-hdl RTL")[..4],
        ["1", "2", "2/2", "2/2"],
        "{stdout}"
    );
    let v = row(&stdout, "Verilator");
    if onespike_verilator::available() {
        assert_eq!(v[..4], ["1", "6", "6/6", "6/6"], "{stdout}");
    } else {
        assert!(stdout.contains("Verilator not run"), "{stdout}");
    }
    assert!(stdout.contains("all backends agree"), "{stdout}");
    assert!(!repro.exists(), "nothing written when all agree");
}

#[test]
fn a_corrupted_expectation_is_a_mismatch_with_a_reproducer() {
    let d = scratch("verify-mismatch");
    let cases = d.join("cases");
    std::fs::create_dir_all(&cases).unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/step_order.json");
    let mut case = Case::load(&shipped).unwrap();
    // Input 1 expects one cycle more than the hardware takes.
    let right = case.expected[1].cycles.unwrap();
    case.expected[1].cycles = Some(right + 1);
    case.save(&cases.join("step_order.json")).unwrap();
    let repro = d.join("failures");
    std::fs::create_dir_all(&repro).unwrap();
    // A user's file where the reproducer would go: it must survive.
    let theirs = repro.join("step_order-input1-sim.json");
    std::fs::write(&theirs, "mine").unwrap();
    let out = onespike(&[
        "verify",
        "--cases",
        &cases.display().to_string(),
        "--backends",
        "reference,sim,rtl",
        "--reproducer-dir",
        &repro.display().to_string(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert_eq!(
        row(&stdout, "reference model")[..3],
        ["1", "4", "4/4"],
        "{stdout}"
    );
    assert_eq!(
        row(&stdout, "simulator")[..4],
        ["1", "4", "4/4", "3/4"],
        "{stdout}"
    );
    assert!(
        stdout.contains("simulator: input 1: cycles: expected")
            && stdout.contains(&format!("got {right}")),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "mine");
    let written = repro.join("step_order-input1-sim-2.json");
    assert!(stdout.contains(&written.display().to_string()), "{stdout}");
    let r = Case::load(&written).unwrap();
    assert_eq!(r.inputs, vec![case.inputs[1].clone()]);
    assert_eq!(r.expected[0].cycles, Some(right + 1));
    assert!(r.description.contains("simulator disagreed on input 1"));
}

#[test]
fn generated_cases_agree_and_the_table_counts_them() {
    let d = scratch("verify-random");
    let out = onespike(&[
        "verify",
        "--random",
        "6",
        "--seed",
        "11",
        "--backends",
        "reference,sim,rtl",
        "--reproducer-dir",
        &d.join("f").display().to_string(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        row(&stdout, "simulator")[..3],
        ["6", "18", "18/18"],
        "{stdout}"
    );
    assert_eq!(
        row(&stdout, "rust-hdl RTL")[..4],
        ["6", "18", "18/18", "18/18"],
        "{stdout}"
    );
    // Raw programs have no network: the reference model says so.
    assert!(stdout.contains("no network form"), "{stdout}");
}

#[test]
fn bad_input_names_the_file_and_field_and_writes_nothing() {
    let d = scratch("verify-bad");
    let repro = d.join("failures");
    let before = snapshot(&d);
    let run = |args: &[&str]| {
        let mut all = vec!["verify"];
        all.extend_from_slice(args);
        let r = repro.display().to_string();
        all.extend_from_slice(&["--reproducer-dir", &r]);
        let out = onespike(&all);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stdout}\n{stderr}");
        stderr
    };
    // A missing program file.
    let missing = d.join("nope.json").display().to_string();
    let e = run(&["--program", &missing, "--data", "default"]);
    assert!(e.contains("nope.json"), "{e}");
    // Malformed JSON in a case file: the file is named.
    let cases = d.join("cases");
    std::fs::create_dir_all(&cases).unwrap();
    std::fs::write(cases.join("broken.json"), "{ not json").unwrap();
    let e = run(&["--cases", &cases.display().to_string()]);
    assert!(e.contains("broken.json"), "{e}");
    // A case file with a bad field: the field is named.
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/step_order.json");
    let bad =
        std::fs::read_to_string(shipped)
            .unwrap()
            .replacen("class 0 | steps", "class 0 | stops", 1);
    std::fs::write(cases.join("broken.json"), bad).unwrap();
    let e = run(&["--cases", &cases.display().to_string()]);
    assert!(e.contains("broken.json") && e.contains("expected["), "{e}");
    // A program that does not take the data's images.
    let prog = d.join("p");
    std::fs::create_dir_all(&prog).unwrap();
    let net = pattern_network(&[100, 10], 16);
    let model = prog.join("model.json");
    net.save(&model).unwrap();
    let p = prog.join("prog.json").display().to_string();
    assert_success(&onespike(&[
        "compile",
        "--model",
        &model.display().to_string(),
        "--config",
        "small",
        "-o",
        &p,
    ]));
    let e = run(&["--program", &p, "--data", "default"]);
    assert!(e.contains("784 pixels") && e.contains("prog.json"), "{e}");
    // An unknown backend, and a backend asked for that cannot run here.
    let e = run(&["--random", "1", "--backends", "sim,fpga"]);
    assert!(e.contains("fpga") && e.contains("reference, sim"), "{e}");
    let r = repro.display().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_onespike"))
        .args(["verify", "--random", "1", "--backends", "sim,verilator"])
        .args(["--reproducer-dir", &r])
        .env("ONESPIKE_NO_VERILATOR", "1")
        .output()
        .unwrap();
    let (stdout, e) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{e}");
    assert!(
        e.contains("--backends verilator") && e.contains("ONESPIKE_NO_VERILATOR"),
        "{e}"
    );
    assert!(!repro.exists(), "nothing written on bad input");
    // Everything in the folder is what the test put there.
    let after = snapshot(&d);
    assert!(after.len() >= before.len());
}

/// A configuration that is not built in gets its Verilog and both RTL
/// backends (compiled on first use, `onespike_hw::generated`), which meet
/// the reference model and the simulator.
#[test]
fn a_configuration_that_is_not_built_in_runs_on_every_backend() {
    let d = scratch("verify-custom");
    let cfg = d.join("custom.toml");
    write_custom_config(&cfg);
    let c = cfg.display().to_string();
    let v = d.join("verilog");
    assert_success(&onespike(&[
        "verilog",
        "--config",
        &c,
        "-o",
        &v.display().to_string(),
    ]));
    let top = std::fs::read_to_string(v.join("top.v")).unwrap();
    let fpga = std::fs::read_to_string(v.join("fpga_top.v")).unwrap();
    assert!(top.contains("module top(") && fpga.contains("module fpga_top("));
    let params = onespike_compiler::HwParams::load(&v.join("params.toml")).unwrap();
    assert_eq!((params.name.as_str(), params.weight_bits), ("custom", 6));

    let out = onespike(&[
        "verify",
        "--random",
        "3",
        "--config",
        &c,
        "--reproducer-dir",
        &d.join("f").display().to_string(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        row(&stdout, "simulator")[..3],
        ["3", "9", "9/9"],
        "{stdout}"
    );
    assert_eq!(
        row(&stdout, "rust-hdl RTL")[..4],
        ["3", "9", "9/9", "9/9"],
        "{stdout}"
    );
    if onespike_verilator::available() {
        assert_eq!(
            row(&stdout, "Verilator")[..4],
            ["3", "9", "9/9", "9/9"],
            "{stdout}"
        );
    }
    assert!(stdout.contains("all backends agree"), "{stdout}");
}

/// The shipped MNIST program for the iCE40 UltraPlus (`recipes/mnist-up5k.toml`,
/// seed 1) on the reference model, the simulator, Verilator and the Yosys
/// netlist for the UP5K (SPRAM weights) in lockstep with its RTL.
#[test]
fn the_shipped_up5k_program_agrees_on_its_ice40_netlist() {
    if !onespike_verilator::models_for_tests() || !onespike_hw::export::tool_for_tests("yosys") {
        return;
    }
    let prog = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../experiments/train/up5k/s24/up5k-s1.program.json");
    let d = scratch("verify-up5k");
    let repro = d.join("failures");
    let out = onespike(&[
        "verify",
        "--program",
        &prog.display().to_string(),
        "--data",
        "default",
        "--images",
        "3",
        "--backends",
        "reference,sim,verilator,gate-up",
        "--reproducer-dir",
        &repro.display().to_string(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        row(&stdout, "Verilator")[..4],
        ["1", "3", "3/3", "3/3"],
        "{stdout}"
    );
    assert_eq!(
        row(&stdout, "iCE40 UP netlist")[..4],
        ["1", "3", "3/3", "-"],
        "{stdout}"
    );
    assert!(!repro.exists(), "nothing written when all agree");
}
