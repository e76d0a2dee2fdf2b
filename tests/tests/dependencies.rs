//! The dependency directions of `docs/architecture.md`, enforced over
//! `cargo metadata`: each workspace crate's normal and build dependencies
//! stay within what its "Architecture invariant" allows, nothing at all
//! (dev-dependencies included) depends on `host`, and the CLI-only crates
//! (`clap`, `anyhow`) and rust-hdl stay where they belong.

use std::collections::BTreeMap;
use std::process::Command;

/// Per crate: the workspace crates its normal and build dependencies may
/// name, and third-party crates it must not use.
fn rules() -> BTreeMap<&'static str, (&'static [&'static str], &'static [&'static str])> {
    const CLI: &[&str] = &["clap", "anyhow", "rust-hdl"];
    BTreeMap::from([
        ("onespike-compiler", (&[][..], CLI)),
        ("onespike-dataset", (&["onespike-compiler"][..], CLI)),
        ("onespike-nir", (&["onespike-compiler"][..], CLI)),
        (
            "onespike-train",
            (&["onespike-compiler", "onespike-dataset"][..], CLI),
        ),
        ("onespike-sim", (&["onespike-compiler"][..], CLI)),
        (
            "onespike-hw",
            (&["onespike-compiler"][..], &["clap", "anyhow"][..]),
        ),
        (
            "onespike-verilator",
            (
                &["onespike-compiler", "onespike-hw"][..],
                &["clap", "anyhow"][..],
            ),
        ),
        (
            "onespike-tests",
            (
                &[
                    "onespike-compiler",
                    "onespike-sim",
                    "onespike-hw",
                    "onespike-verilator",
                ][..],
                &["clap", "anyhow"][..],
            ),
        ),
        // The CLI: may use every library.
        ("onespike-host", (&["*"][..], &[][..])),
    ])
}

#[test]
fn crates_depend_only_in_the_documented_directions() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = rules();
    let mut seen = Vec::new();
    for pkg in meta["packages"].as_array().unwrap() {
        let name = pkg["name"].as_str().unwrap();
        let Some((allowed, banned)) = rules.get(name) else {
            panic!("{name}: a workspace crate with no rule here; add its invariant to docs/architecture.md and to this test");
        };
        seen.push(name.to_string());
        for dep in pkg["dependencies"].as_array().unwrap() {
            let dep_name = dep["name"].as_str().unwrap();
            let kind = dep["kind"].as_str().unwrap_or("normal");
            assert_ne!(
                dep_name, "onespike-host",
                "{name} depends on onespike-host ({kind}): nothing may"
            );
            if kind == "dev" {
                continue;
            }
            if dep_name.starts_with("onespike-") && !allowed.contains(&"*") {
                assert!(
                    allowed.contains(&dep_name),
                    "{name} depends on {dep_name} ({kind}); docs/architecture.md allows only {allowed:?}"
                );
            }
            assert!(
                !banned.contains(&dep_name),
                "{name} depends on {dep_name} ({kind}), which belongs elsewhere"
            );
        }
    }
    for want in rules.keys() {
        assert!(
            seen.iter().any(|s| s == want),
            "{want}: not in the workspace"
        );
    }
}
