//! Bad input at the command line, as a careless or hostile user gives it.
//! Each test is named for what it pins and asserts three things: the exit
//! code is 1 (an error, not a panic or an abort), the message names the
//! file or flag and the field or limit, and nothing in the working folder
//! was written or changed (no output, no temporary left behind).

mod common;

use common::{assert_success, onespike, pattern_network, scratch, snapshot};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// Asserts a clean refusal: exit code 1, every needle in stderr, no panic.
fn refused(out: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit code 1 (an error), got {:?}:\n{err}",
        out.status
    );
    assert!(!err.contains("panicked"), "a panic:\n{err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks `{n}`:\n{err}");
    }
}

/// Runs `args` in `dir` (paths relative to it) and asserts a refusal that
/// changed nothing in `dir`.
fn refused_in(dir: &Path, args: &[&str], needles: &[&str]) -> Output {
    let before = snapshot(dir);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_onespike"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    refused(&out, needles);
    assert_eq!(
        snapshot(dir),
        before,
        "the refused command changed the folder"
    );
    out
}

/// A folder with `model.json` (784-24-10, fits `default`).
fn with_model(name: &str) -> PathBuf {
    let d = scratch(name);
    pattern_network(&[784, 24, 10], 24)
        .save(&d.join("model.json"))
        .unwrap();
    d
}

/// A folder with `model.json` and its program `program.json`.
fn with_program(name: &str) -> PathBuf {
    let d = with_model(name);
    let out = onespike(&[
        "compile",
        "--model",
        d.join("model.json").to_str().unwrap(),
        "-o",
        d.join("program.json").to_str().unwrap(),
    ]);
    assert_success(&out);
    d
}

/// A quick training command (one small epoch) with `extra` flags.
fn train<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "train",
        "--arch",
        "784-10-10",
        "--epochs",
        "1",
        "--limit-train",
        "100",
        "--val-images",
        "20",
    ];
    v.extend_from_slice(extra);
    v
}

// --- outputs that would destroy an input or each other -------------------

#[test]
fn train_log_whose_side_json_is_the_model_is_refused() {
    let d = with_model("log-side");
    refused_in(
        &d,
        &train(&["-o", "model.json", "--log", "model.csv"]),
        &["-o model.json", "the JSON beside the CSV --log model.json"],
    );
}

#[test]
fn train_plot_or_log_equal_to_the_output_is_refused() {
    let d = with_model("plot-eq");
    refused_in(
        &d,
        &train(&["-o", "model.json", "--plot", "model.json"]),
        &["--plot model.json", "same file"],
    );
    refused_in(
        &d,
        &train(&["-o", "model.json", "--log", "./model.json"]),
        &["--log ./model.json", "same file"],
    );
}

#[test]
fn compile_output_equal_to_the_model_is_refused_also_through_dot_dot() {
    let d = with_model("compile-eq");
    std::fs::create_dir(d.join("sub")).unwrap();
    for o in ["model.json", "sub/../model.json"] {
        refused_in(
            &d,
            &["compile", "--model", "model.json", "-o", o],
            &["-o", "--model model.json", "destroy the input"],
        );
    }
    refused_in(
        &d,
        &[
            "compile",
            "--model",
            "model.json",
            "-o",
            "p.json",
            "--quantized",
            "model.json",
        ],
        &["--quantized model.json", "--model"],
    );
}

#[test]
fn sim_vcd_or_report_equal_to_the_program_is_refused() {
    let d = with_program("sim-eq");
    for flag in ["--vcd", "-o"] {
        refused_in(
            &d,
            &["sim", "--model", "program.json", flag, "program.json"],
            &[flag, "--model program.json"],
        );
    }
    refused_in(
        &d,
        &["sim", "--model", "program.json", "--vcd", "x", "-o", "x"],
        &["--vcd x", "-o x", "same file"],
    );
}

// --- outputs that cannot be written, found before any work ------------------

#[test]
fn train_into_a_missing_folder_is_refused_before_any_epoch() {
    let d = scratch("train-missing");
    let t = Instant::now();
    // Full default training would take minutes: the refusal must not wait for it.
    refused_in(
        &d,
        &["train", "-o", "no/such/folder/net.json"],
        &["-o no/such/folder/net.json", "does not exist"],
    );
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
}

#[test]
fn train_into_a_folder_that_cannot_be_written_is_refused() {
    let d = scratch("train-ro");
    // /proc refuses new files even to root (a chmod'ed folder would not).
    refused_in(
        &d,
        &train(&["-o", "/proc/onespike-net.json"]),
        &[
            "-o /proc/onespike-net.json",
            "cannot write into the folder /proc",
        ],
    );
    std::fs::write(d.join("a-file"), "x").unwrap();
    refused_in(
        &d,
        &train(&["-o", "a-file/net.json"]),
        &["-o a-file/net.json", "is not a folder"],
    );
}

#[test]
fn outputs_at_a_fifo_a_symlink_or_a_folder_are_refused_and_left_alone() {
    let d = with_program("special");
    std::fs::write(d.join("target.json"), "mine").unwrap();
    std::os::unix::fs::symlink("target.json", d.join("link.json")).unwrap();
    let fifo = d.join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::fs::create_dir(d.join("folder")).unwrap();
    let sim = |o: &'static str| vec!["sim", "--model", "program.json", "--limit", "1", "-o", o];
    refused_in(&d, &sim("link.json"), &["-o link.json", "symbolic link"]);
    refused_in(&d, &sim("fifo"), &["-o fifo", "FIFO"]);
    refused_in(&d, &sim("folder"), &["-o folder", "a folder, not a file"]);
    refused_in(&d, &sim("new/"), &["-o new/", "names a folder"]);
}

#[test]
fn a_failed_sim_leaves_an_existing_vcd_as_it_was() {
    let d = with_program("vcd-kept");
    std::fs::write(d.join("good.vcd"), "the user's trace").unwrap();
    refused_in(
        &d,
        &[
            "sim",
            "--model",
            "program.json",
            "--vcd",
            "good.vcd",
            "-o",
            "/missing/r.json",
        ],
        &["-o /missing/r.json", "does not exist"],
    );
}

#[test]
fn report_and_verilog_into_a_file_are_refused() {
    let d = with_model("folder-is-file");
    refused_in(
        &d,
        &["verilog", "--config", "tiny", "-o", "model.json"],
        &["-o model.json", "not a folder"],
    );
    std::fs::write(d.join("r.json"), "{}").unwrap();
    refused_in(
        &d,
        &["report", "--report", "r.json", "-o", "model.json"],
        &["-o model.json", "not a folder"],
    );
}

// --- inputs that do not suit each other, found before any work --------------

/// Writes an IDX dataset of `n` images of `rows` x `cols` (and labels) into `dir`.
fn write_idx(dir: &Path, rows: u32, cols: u32, n: u32) {
    std::fs::create_dir_all(dir).unwrap();
    for prefix in ["train", "t10k"] {
        let mut img = 0x0803u32.to_be_bytes().to_vec();
        for d in [n, rows, cols] {
            img.extend(d.to_be_bytes());
        }
        img.extend((0..n * rows * cols).map(|k| (k % 251) as u8));
        std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), img).unwrap();
        let mut lab = 0x0801u32.to_be_bytes().to_vec();
        lab.extend(n.to_be_bytes());
        lab.extend((0..n).map(|k| (k % 10) as u8));
        std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), lab).unwrap();
    }
}

#[test]
fn compile_data_of_14x14_images_for_a_784_input_network_is_refused() {
    let d = with_model("data-shape");
    write_idx(&d.join("small-images"), 14, 14, 20);
    refused_in(
        &d,
        &[
            "compile",
            "--model",
            "model.json",
            "-o",
            "p.json",
            "--data",
            "small-images",
        ],
        &[
            "--data small-images",
            "14x14 = 196 pixels",
            "input_size = 784",
        ],
    );
}

#[test]
fn test_images_unlike_the_training_images_are_refused_before_training() {
    let d = scratch("split-shapes");
    write_idx(&d.join("data"), 28, 28, 200);
    write_idx(&d.join("small"), 14, 14, 20);
    for f in ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
        std::fs::rename(d.join("small").join(f), d.join("data").join(f)).unwrap();
    }
    let needles = ["--data data", "test images are 14x14 = 196 pixels"];
    refused_in(&d, &train(&["--data", "data", "-o", "n.json"]), &needles);
    refused_in(&d, &["run", "--data", "data", "--out", "o"], &needles);
}

#[test]
fn sim_of_a_program_whose_neurons_point_outside_its_cores_is_refused() {
    let d = with_program("bad-neurons");
    let text = std::fs::read_to_string(d.join("program.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["neurons"][0][0]["core"] = 99.into();
    std::fs::write(d.join("bad.json"), v.to_string()).unwrap();
    refused_in(
        &d,
        &["sim", "--model", "bad.json", "--limit", "1", "-o", "r.json"],
        &["bad.json", "neurons[0][0]", "core 99"],
    );
    v["cores"] = serde_json::json!([]);
    std::fs::write(d.join("bad.json"), v.to_string()).unwrap();
    refused_in(
        &d,
        &["sim", "--model", "bad.json", "--limit", "1", "-o", "r.json"],
        &["bad.json", "cores", "at least one core"],
    );
}

#[test]
fn a_technology_table_with_huge_energies_is_refused() {
    let d = with_program("tech-huge");
    let table = onespike_sim::energy::DEFAULT_TECH_TOML
        .replace("bus_pj_per_bit = 0.1", "bus_pj_per_bit = 1e300");
    assert_ne!(table, onespike_sim::energy::DEFAULT_TECH_TOML);
    std::fs::write(d.join("huge.toml"), table).unwrap();
    refused_in(
        &d,
        &[
            "sim",
            "--model",
            "program.json",
            "--tech",
            "huge.toml",
            "--limit",
            "1",
            "-o",
            "r.json",
        ],
        &["huge.toml", "bus_pj_per_bit", "1e6"],
    );
}

/// A quick training run with `flags` is refused with `needles`, writing nothing.
fn train_refused(name: &str, flags: &[&str], needles: &[&str]) {
    let mut extra = flags.to_vec();
    extra.extend(["-o", "n.json"]);
    refused_in(&scratch(name), &train(&extra), needles);
}

#[test]
fn qat_epochs_not_below_epochs_is_refused_not_clamped() {
    train_refused(
        "qat",
        &["--qat-epochs", "3"],
        &["--qat-epochs 3: must be less than --epochs 1"],
    );
}

#[test]
fn a_batch_larger_than_the_training_split_is_refused() {
    let needles = ["--batch-size 100000", "100 training images"];
    train_refused("batch", &["--batch-size", "100000"], &needles);
}

#[test]
fn a_non_finite_initialization_is_refused_before_training() {
    train_refused(
        "init-nan",
        &["--init-mean", "NaN"],
        &["--init-mean NaN", "finite"],
    );
}

#[test]
fn a_missing_configuration_file_is_named_as_a_file() {
    let d = with_model("cfg-missing");
    refused_in(
        &d,
        &[
            "compile",
            "--model",
            "model.json",
            "--config",
            "configs/mine.toml",
            "-o",
            "p.json",
        ],
        &["configs/mine.toml", "No such file"],
    );
}

#[test]
fn data_given_as_a_file_is_refused() {
    let d = with_model("data-file");
    refused_in(
        &d,
        &[
            "compile",
            "--model",
            "model.json",
            "-o",
            "p.json",
            "--data",
            "model.json",
        ],
        &["model.json", "is a file", "folder of IDX files"],
    );
}

#[test]
fn sim_limit_zero_is_refused() {
    let d = with_program("limit0");
    refused_in(
        &d,
        &["sim", "--model", "program.json", "--limit", "0"],
        &["--limit 0"],
    );
}

// --- sizes: refused quickly, with the binding limit and a fix --------------

#[test]
fn architectures_no_configuration_holds_are_refused_before_allocating() {
    let d = scratch("arch-huge");
    for arch in ["784-1000000-10", "784-100000-10"] {
        let t = Instant::now();
        refused_in(
            &d,
            &["train", "--arch", arch, "-o", "n.json"],
            &[
                &format!("--arch {arch}"),
                "fits no configuration",
                "pointer_depth",
            ],
        );
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    }
}

#[test]
fn run_that_does_not_fit_its_configuration_is_refused_before_training() {
    let d = scratch("run-fit");
    let t = Instant::now();
    refused_in(
        &d,
        &["run", "--config", "tiny", "--out", "out"],
        &[
            "--config tiny",
            "does not fit `tiny`",
            "binding limit",
            "set ",
        ],
    );
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
}

/// The `key = value` pairs of a refusal's "set a = 1, b = 2 in a configuration file".
fn suggested(err: &str) -> Vec<(String, u32)> {
    let start = err.find("set ").expect("a suggestion") + 4;
    let end = err[start..].find(" in a configuration file").unwrap() + start;
    err[start..end]
        .split(", ")
        .map(|kv| {
            let (k, v) = kv.split_once(" = ").unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

#[test]
fn does_not_fit_names_weight_sram_for_196_200_10_on_small_and_its_fix_compiles() {
    let d = scratch("fit-small");
    let mut net = pattern_network(&[196, 200, 10], 32);
    for l in &mut net.layers {
        l.weights.iter_mut().for_each(|w| *w = 0.01);
    }
    net.save(&d.join("model.json")).unwrap();
    let out = refused_in(
        &d,
        &[
            "compile",
            "--model",
            "model.json",
            "--config",
            "small",
            "-o",
            "p.json",
        ],
        &[
            "does not fit",
            "weight SRAM binds",
            "layer 0's 39200 synapses",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("layer 0 needs 21"), "{err}");
    // Following the advice must not lead to a second refusal.
    let mut cfg = onespike_compiler::HwParams::preset("small").unwrap();
    cfg.name = "small-fixed".into();
    for (k, v) in suggested(&err) {
        match k.as_str() {
            "cores" => cfg.cores = v,
            "neurons_per_core" => cfg.neurons_per_core = v,
            "weight_depth" => cfg.weight_depth = v,
            "pointer_depth" => cfg.pointer_depth = v,
            "max_inputs" => cfg.max_inputs = v,
            "step_bits" => cfg.step_bits = v,
            other => panic!("unexpected field {other} in {err}"),
        }
    }
    std::fs::write(d.join("fixed.toml"), cfg.to_toml()).unwrap();
    let out = onespike(&[
        "compile",
        "--model",
        d.join("model.json").to_str().unwrap(),
        "--config",
        d.join("fixed.toml").to_str().unwrap(),
        "-o",
        d.join("p.json").to_str().unwrap(),
    ]);
    assert_success(&out);
}

#[test]
fn a_hundred_thousand_output_layer_on_tiny_is_refused_within_seconds() {
    let d = scratch("wide");
    let mut net = pattern_network(&[25, 8, 100_000], 16);
    for l in &mut net.layers {
        l.weights.iter_mut().for_each(|w| *w = 0.5);
    }
    net.save(&d.join("wide.json")).unwrap();
    let t = Instant::now();
    let out = refused_in(
        &d,
        &[
            "compile",
            "--model",
            "wide.json",
            "--config",
            "tiny",
            "-o",
            "p.json",
        ],
        &["does not fit", "set "],
    );
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    let err = String::from_utf8_lossy(&out.stderr);
    let cores = suggested(&err)
        .into_iter()
        .find(|(k, _)| k == "cores")
        .map_or(4, |(_, v)| v);
    assert!(
        cores <= 256,
        "suggests cores = {cores}, which no configuration allows"
    );
}

// --- run and its folder -------------------------------------------------------

#[test]
fn run_into_a_non_empty_folder_it_did_not_write_is_refused() {
    let d = scratch("run-foreign");
    std::fs::create_dir(d.join("mine")).unwrap();
    std::fs::write(d.join("mine/thesis.tex"), "years of work").unwrap();
    refused_in(
        &d,
        &["run", "--out", "mine"],
        &["--out mine", "not empty", "--force"],
    );
    refused_in(&d, &["run", "--out", "mine/thesis.tex"], &["not a folder"]);
}

// --- the loaders, through the CLI ----------------------------------------------

#[test]
fn a_multi_member_gzip_dataset_is_read_whole() {
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;
    let d = with_program("multi-gz");
    let data = d.join("data");
    write_idx(&data, 28, 28, 30);
    for f in std::fs::read_dir(&data).unwrap().flatten() {
        let bytes = std::fs::read(f.path()).unwrap();
        let half = bytes.len() / 2;
        let mut cat = Vec::new();
        for part in [&bytes[..half], &bytes[half..]] {
            let mut e = GzEncoder::new(Vec::new(), Compression::default());
            e.write_all(part).unwrap();
            cat.extend(e.finish().unwrap());
        }
        let mut gz = f.path().into_os_string();
        gz.push(".gz");
        std::fs::write(&gz, cat).unwrap();
        std::fs::remove_file(f.path()).unwrap();
    }
    let out = onespike(&[
        "sim",
        "--model",
        d.join("program.json").to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--limit",
        "3",
    ]);
    assert_success(&out);
}

#[test]
fn run_refuses_an_out_folder_that_holds_its_data_or_the_current_folder() {
    let d = scratch("run-holds-input");
    write_idx(&d.join("mine/data"), 28, 28, 20);
    refused_in(
        &d,
        &["run", "--data", "mine/data", "--out", "mine", "--force"],
        &["--data mine/data", "inside --out mine"],
    );
    refused_in(
        &d,
        &["run", "--out", ".", "--force"],
        &["the current folder", "inside --out ."],
    );
}
