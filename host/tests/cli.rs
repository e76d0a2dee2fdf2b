//! The `onespike` binary from the outside: help texts, errors that name
//! the file and field with a non-zero exit, and the compile stage end to end.

mod common;

use common::{assert_success, onespike, pattern_network, scratch};
use onespike_compiler::Program;
use std::path::{Path, PathBuf};
use std::process::Output;

/// `onespike compile --model <model> --config <config> -o <program> <extra...>`.
fn compile(model: &Path, config: &str, program: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "compile",
        "--model",
        model.to_str().unwrap(),
        "--config",
        config,
        "-o",
        program.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    onespike(&args)
}

#[test]
fn help_lists_every_stage() {
    let out = onespike(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in [
        "train", "compile", "sim", "verilog", "synth", "report", "run", "verify",
    ] {
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
    let out = onespike(&[
        "compile",
        "--model",
        model.to_str().unwrap(),
        "-o",
        prog.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("model.json"), "{err}");
    assert!(!prog.exists());
}

#[test]
fn unknown_config_lists_the_presets() {
    let d = scratch("cfg");
    let out = onespike(&[
        "compile",
        "--model",
        "x.json",
        "--config",
        "nope",
        "-o",
        d.join("p.json").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("default") && err.contains("small"), "{err}");
}

#[test]
fn compile_writes_a_program_that_loads() {
    let d = scratch("ok");
    let net = pattern_network(&[784, 20, 10], 32);
    let model = d.join("model.json");
    net.save(&model).unwrap();
    let prog = d.join("prog.json");
    let q = d.join("q.json");
    let out = compile(
        &model,
        "default",
        &prog,
        &["--quantized", q.to_str().unwrap(), "--data", "default"],
    );
    assert_success(&out);
    let p = Program::load(&prog).unwrap();
    assert_eq!(p.neurons.len(), 2);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("accuracy"), "{stdout}");
    // 784-20-10 uses 2 of default's 16 cores (balanced over them): the
    // compiler names the configuration with no idle core, having mapped
    // the network onto it.
    let used = p.cores.len();
    let line = format!(
        "{} of 16 cores idle (power-gated in the energy model); a configuration with cores = {used} (else as `default`) fits this network with no idle core",
        16 - used
    );
    assert!(stdout.contains(&line), "{stdout}");
}

/// A compiled program for the `default` preset (784-24-10, sparse), via
/// the compile stage.
fn compiled_program(d: &std::path::Path) -> PathBuf {
    let net = pattern_network(&[784, 24, 10], 24);
    let model = d.join("model.json");
    net.save(&model).unwrap();
    let prog = d.join("prog.json");
    let out = compile(&model, "default", &prog, &[]);
    assert_success(&out);
    prog
}

#[test]
fn sim_of_a_bad_program_file_names_it_and_fails() {
    let d = scratch("sim-bad");
    let prog = d.join("broken-prog.json");
    std::fs::write(&prog, "{\"format\": \"onespike-program\", \"cores\": 7}").unwrap();
    let report = d.join("r.json");
    let out = onespike(&[
        "sim",
        "--model",
        prog.to_str().unwrap(),
        "--limit",
        "2",
        "-o",
        report.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken-prog.json"), "{err}");
    assert!(
        !report.exists(),
        "a report was written for a broken program"
    );
    let missing = d.join("no-such-prog.json");
    let out = onespike(&["sim", "--model", missing.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-prog.json"));
}

#[test]
fn sim_refuses_a_config_the_program_was_not_compiled_for() {
    let d = scratch("sim-cfg");
    let prog = compiled_program(&d);
    let out = onespike(&[
        "sim",
        "--model",
        prog.to_str().unwrap(),
        "--config",
        "small",
        "--limit",
        "1",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("prog.json") && err.contains("small") && err.contains("recompile"),
        "{err}"
    );
}

#[test]
fn sim_then_report_end_to_end() {
    let d = scratch("sim-ok");
    let prog = compiled_program(&d);
    let (report, vcd, plots) = (d.join("r.json"), d.join("t.vcd"), d.join("plots"));
    let out = onespike(&[
        "sim",
        "--model",
        prog.to_str().unwrap(),
        "--data",
        "default",
        "--limit",
        "40",
        "--early-exit",
        "--vcd",
        vcd.to_str().unwrap(),
        "-o",
        report.to_str().unwrap(),
    ]);
    assert_success(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for what in [
        "accuracy",
        "cycles",
        "latency",
        "pJ per synaptic op",
        "per core",
        "energy by block",
    ] {
        assert!(stdout.contains(what), "no `{what}` in:\n{stdout}");
    }
    let r = onespike_sim::report::SimReport::load(&report).unwrap();
    assert_eq!(r.inferences, 40);
    assert!(
        r.early_exit && r.cycles_per_inference.mean > 0.0 && r.energy_per_inference_pj.mean > 0.0
    );
    assert_eq!(r.per_core.len(), 16);
    let trace = std::fs::read_to_string(&vcd).unwrap();
    for sig in ["clock", "in_ready", "out_valid", "cycles"] {
        assert!(
            trace.contains(&format!(" {sig} $end")),
            "no {sig} in the VCD"
        );
    }
    let out = onespike(&[
        "report",
        "--report",
        report.to_str().unwrap(),
        "-o",
        plots.to_str().unwrap(),
    ]);
    assert_success(&out);
    for f in [
        "tables.txt",
        "energy_breakdown.svg",
        "cycles_per_core.svg",
        "spike_raster.svg",
    ] {
        let text = std::fs::read_to_string(plots.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(text.len() > 200, "{f} is nearly empty");
    }
}

#[test]
fn report_of_a_file_that_is_no_report_names_it_and_fails() {
    let d = scratch("report-bad");
    let bad = d.join("not-a-report.json");
    std::fs::write(&bad, "{\"format\": \"something-else\"}").unwrap();
    let out = onespike(&[
        "report",
        "--report",
        bad.to_str().unwrap(),
        "-o",
        d.join("o").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not-a-report.json"));
}

#[test]
fn time_steps_beyond_the_step_counter_are_refused_and_a_given_resolution_is_used() {
    let d = scratch("steps");
    let net = pattern_network(&[784, 12, 10], 32);
    let model = d.join("model.json");
    net.save(&model).unwrap();
    let prog = d.join("prog.json");
    // small: step_bits = 6, at most 64 steps; 784 inputs do not fit it
    // either, but the step counter is checked first.
    let out = compile(&model, "small", &prog, &["--time-steps", "100"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("step_bits = 6") && err.contains("64 steps"),
        "{err}"
    );
    assert!(!prog.exists());
    let out = compile(&model, "default", &prog, &["--time-steps", "128"]);
    assert_success(&out);
    let p = Program::load(&prog).unwrap();
    assert_eq!(p.time_steps, 128);
    assert_eq!(
        p.encoding.input_steps, 29,
        "input levels stretch with the time axis: (8 - 1) * 4 + 1"
    );
}

#[test]
fn choose_time_steps_measures_each_resolution_and_a_tolerance_favours_fewer_steps() {
    let d = scratch("choose");
    let mut net = pattern_network(&[784, 12, 10], 32);
    let train = onespike_dataset::embedded_default().train;
    net.held_out = Some(onespike_dataset::held_out::record(&train, 5400, 600));
    let model = d.join("model.json");
    net.save(&model).unwrap();
    let prog = d.join("prog.json");
    let run = |tolerance: &str| {
        let extra = [
            "--data",
            "default",
            "--choose-time-steps",
            "--steps-tolerance",
            tolerance,
        ];
        compile(&model, "default", &prog, &extra)
    };
    let out = run("100");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--steps-tolerance 100"), "{err}");
    assert!(!prog.exists());
    // The default preset counts 256 steps: 32, 64, 128 and 256 are tried.
    let out = run("99");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_success(&out);
    for t in [32, 64, 128, 256] {
        assert!(
            stdout.contains(&format!("{t:>5} steps: accuracy")),
            "{stdout}"
        );
    }
    // Any accuracy is within 99 points of the best: the fewest steps win.
    assert!(stdout.contains("chosen: 32 steps"), "{stdout}");
    assert_eq!(Program::load(&prog).unwrap().time_steps, 32);
}

#[test]
fn choose_time_steps_measures_on_exactly_the_images_the_trainer_held_out() {
    let d = scratch("held-out");
    let train = onespike_dataset::embedded_default().train;
    let mut net = pattern_network(&[784, 12, 10], 32);
    let model = d.join("model.json");
    let prog = d.join("prog.json");
    let extra = ["--data", "default", "--choose-time-steps"];
    // No record (a NIR import, an older file): refused, nothing written.
    net.save(&model).unwrap();
    let out = compile(&model, "default", &prog, &extra);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("held_out") && err.contains("model.json") && err.contains("--time-steps"),
        "{err}"
    );
    assert!(!prog.exists());
    // A record that names other images (another dataset): refused.
    let mut h = onespike_dataset::held_out::record(&train, 5400, 600);
    h.crc32 ^= 1;
    net.held_out = Some(h);
    net.save(&model).unwrap();
    let out = compile(&model, "default", &prog, &extra);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("5400..6000") && err.contains("held_out"),
        "{err}"
    );
    assert!(!prog.exists());
    // A split of another size: refused.
    net.held_out = Some(onespike_dataset::held_out::record(
        &train.take(5000),
        4000,
        1000,
    ));
    net.save(&model).unwrap();
    let out = compile(&model, "default", &prog, &extra);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("5000") && err.contains("6000"), "{err}");
    // The true record: measured on its 600 images.
    net.held_out = Some(onespike_dataset::held_out::record(&train, 5400, 600));
    net.save(&model).unwrap();
    let out = compile(&model, "default", &prog, &extra);
    assert_success(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("on 600 held-out training images"),
        "{stdout}"
    );
}
