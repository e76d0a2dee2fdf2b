//! `onespike train` from the outside: bad flags and recipes refused before
//! any work with the option's name, the outputs written, resume, and
//! recipe files equal to the flags they stand for. The trainer itself is
//! tested in `trainer/tests/train.rs`.

mod common;

use common::{onespike, scratch};

#[test]
fn cli_refuses_bad_input_and_writes_nothing() {
    let d = scratch("bad");
    let model = d.join("model.json");
    let m = model.to_str().unwrap();
    for (args, needle) in [
        (vec!["train", "--arch", "784-x-10", "-o", m], "`x`"),
        (vec!["train", "--arch", "100-10", "-o", m], "784"),
        (
            vec!["train", "--arch", "784-10", "--time-steps", "1000", "-o", m],
            "time_steps",
        ),
        (
            vec!["train", "--arch", "784-10", "--sparsity", "1.5", "-o", m],
            "sparsity",
        ),
        (
            vec!["train", "--arch", "784-10", "--config", "nope", "-o", m],
            "small",
        ),
        (
            vec!["train", "--arch", "784-10", "--input-dropout", "1", "-o", m],
            "input_dropout",
        ),
    ] {
        let out = onespike(&args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            0,
            "{args:?} left files behind"
        );
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn cli_trains_writes_its_outputs_and_resumes() {
    let d = scratch("ok");
    let model = d.join("m.json");
    let ck = d.join("ck.json");
    let common = [
        "train",
        "--arch",
        "784-16-10",
        "--limit-train",
        "200",
        "--val-images",
        "100",
        "--epochs",
        "2",
        "--lr",
        "1e-3",
        "--sparsity",
        "0.5",
    ];
    let mut args: Vec<&str> = common.to_vec();
    args.extend([
        "-o",
        model.to_str().unwrap(),
        "--checkpoint",
        ck.to_str().unwrap(),
    ]);
    let out = onespike(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let net = onespike_compiler::FloatNetwork::load(&model).unwrap();
    assert!((net.sparsity() - 0.5).abs() < 0.01);
    let csv = std::fs::read_to_string(d.join("m.json.log.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(std::fs::read_to_string(d.join("m.json.log.json"))
        .unwrap()
        .contains("test_hw_accuracy"));
    assert!(std::fs::read_to_string(d.join("m.svg"))
        .unwrap()
        .starts_with("<svg"));
    // Resuming a finished run trains nothing more and gives the same network.
    let model2 = d.join("m2.json");
    let out = onespike(&[
        "train",
        "--resume",
        ck.to_str().unwrap(),
        "-o",
        model2.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(onespike_compiler::FloatNetwork::load(&model2).unwrap(), net);
    std::fs::remove_dir_all(&d).unwrap();
}
