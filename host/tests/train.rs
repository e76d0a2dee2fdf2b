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
            "--time-steps 1000: must be in 2..=",
        ),
        (
            vec!["train", "--arch", "784-10", "--sparsity", "1.5", "-o", m],
            "--sparsity 1.5: must be in [0, 1)",
        ),
        (
            vec!["train", "--arch", "784-10", "--config", "nope", "-o", m],
            "small",
        ),
        (
            vec!["train", "--arch", "784-10", "--input-dropout", "1", "-o", m],
            "--input-dropout 1: must be in [0, 1)",
        ),
        (
            vec!["train", "--epochs", "2", "--qat-epochs", "2", "-o", m],
            "--qat-epochs 2: must be less than --epochs 2",
        ),
        (
            vec!["train", "--recipe", "no/such/recipe.toml", "-o", m],
            "no/such/recipe.toml",
        ),
        (
            vec!["train", "--resume", "no/such/ck.json", "--lr", "1", "-o", m],
            "--lr with --resume",
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

#[test]
fn cli_recipes_are_checked_with_the_file_the_key_and_the_limit() {
    let d = scratch("recipe-bad");
    let model = d.join("model.json");
    let m = model.to_str().unwrap();
    for (i, (text, needles)) in [
        (
            "lr_decay = 0.9\n",
            vec!["unknown option `lr_decay`", "lr-decay"],
        ),
        (
            "lr-decay = 1.5\n",
            vec!["lr-decay = 1.5", "must be in (0, 1]"],
        ),
        (
            "epochs = \"ten\"\n",
            vec!["option `epochs`", "must be an integer"],
        ),
        (
            "arch = \"784-10\"\ntime-steps = 1000\n",
            vec!["time-steps = 1000", "must be in 2..="],
        ),
        ("[section]\nx = 1\n", vec!["unknown option `section`"]),
        ("epochs = \n", vec!["is not TOML"]),
    ]
    .into_iter()
    .enumerate()
    {
        let recipe = d.join(format!("r{i}.toml"));
        std::fs::write(&recipe, text).unwrap();
        let out = onespike(&["train", "--recipe", recipe.to_str().unwrap(), "-o", m]);
        assert!(!out.status.success(), "{text} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(recipe.to_str().unwrap()), "{text}: {err}");
        for n in needles {
            assert!(err.contains(n), "{text}: `{n}` not in {err}");
        }
        assert!(!model.exists());
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn cli_recipe_with_overrides_trains_what_the_same_flags_train() {
    let d = scratch("recipe-ok");
    let recipe = d.join("small.toml");
    std::fs::write(
        &recipe,
        "arch = \"784-16-10\"\nepochs = 2\nlr = 1e-3\nsparsity = 0.5\nmirror = true\nlimit-train = 200\nval-images = 100\nseed = 5\n",
    )
    .unwrap();
    let (a, b) = (d.join("a.json"), d.join("b.json"));
    let out = onespike(&[
        "train",
        "--recipe",
        recipe.to_str().unwrap(),
        "--seed",
        "3",
        "--mirror=false",
        "-o",
        a.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = onespike(&[
        "train",
        "--arch",
        "784-16-10",
        "--epochs",
        "2",
        "--lr",
        "1e-3",
        "--sparsity",
        "0.5",
        "--limit-train",
        "200",
        "--val-images",
        "100",
        "--seed",
        "3",
        "-o",
        b.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    std::fs::remove_dir_all(&d).unwrap();
}

/// A Desire run may be lengthened on resume (`--epochs`), since its
/// schedules do not depend on the number of epochs: one epoch, then a
/// second one from the checkpoint, trains the weights of a two-epoch run.
/// Other methods refuse it, and fewer epochs than done is refused.
#[test]
fn a_desire_run_can_be_lengthened_on_resume() {
    let d = scratch("desire-resume");
    let p = |name: &str| d.join(name).display().to_string();
    let run = |epochs: &str, out: &str, ck: &str| {
        onespike(&[
            "train",
            "--method",
            "desire",
            "--arch",
            "784-16-10",
            "--limit-train",
            "200",
            "--val-images",
            "50",
            "--epochs",
            epochs,
            "-o",
            out,
            "--checkpoint",
            ck,
        ])
    };
    let out = run("2", &p("two.json"), &p("two.ck.json"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run("1", &p("one.json"), &p("one.ck.json"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = onespike(&[
        "train",
        "--resume",
        &p("one.ck.json"),
        "--epochs",
        "2",
        "-o",
        &p("resumed.json"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        onespike_compiler::FloatNetwork::load(&d.join("resumed.json")).unwrap(),
        onespike_compiler::FloatNetwork::load(&d.join("two.json")).unwrap()
    );
    let out = onespike(&[
        "train",
        "--resume",
        &p("two.ck.json"),
        "--epochs",
        "1",
        "-o",
        &p("x.json"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("2 epochs done already"),
        "{err}"
    );
    // A TTFS checkpoint keeps its number of epochs.
    let out = onespike(&[
        "train",
        "--arch",
        "784-16-10",
        "--limit-train",
        "100",
        "--val-images",
        "50",
        "--epochs",
        "1",
        "-o",
        &p("t.json"),
        "--checkpoint",
        &p("t.ck.json"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = onespike(&[
        "train",
        "--resume",
        &p("t.ck.json"),
        "--epochs",
        "3",
        "-o",
        &p("y.json"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("only method = desire"),
        "{err}"
    );
    assert!(!d.join("x.json").exists() && !d.join("y.json").exists());
    std::fs::remove_dir_all(&d).unwrap();
}
