//! The fuzz targets' short, seeded run for CI on the stable toolchain: every
//! saved input (the cargo-fuzz corpora in `fuzz/corpus/<target>/` and the
//! crash reproducers kept in `fuzz/regressions/<target>/`) goes through the
//! same harness the fuzzers run (`fuzz/src/lib.rs`), then a seeded loop of
//! random mutations of them runs for a few seconds per target. A panic
//! fails the test and names the input (saved to a temporary file).

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod harness;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 8] = [
    ("idx", harness::idx),
    ("network_json", harness::network_json),
    ("program_json", harness::program_json),
    ("case_json", harness::case_json),
    ("config_toml", harness::config_toml),
    ("tech_toml", harness::tech_toml),
    ("report_json", harness::report_json),
    ("nir_file", harness::nir_file),
];

/// Mutation time per target.
const BUDGET: Duration = Duration::from_secs(2);

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The saved inputs of `target`: corpus first, then crash reproducers.
fn saved(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v = Vec::new();
    for kind in ["corpus", "regressions"] {
        let dir = fuzz_dir().join(kind).join(target);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        v.extend(files.into_iter().map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        }));
    }
    v
}

/// Runs `input` through `f`; on a panic, saves the input and fails naming it.
fn run_one(target: &str, f: Target, input: &[u8], what: &str) {
    let r = std::panic::catch_unwind(|| f(input));
    if let Err(e) = r {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        let keep = std::env::temp_dir().join(format!(
            "onespike-fuzz-crash-{target}-{}",
            std::process::id()
        ));
        std::fs::write(&keep, input).unwrap();
        panic!(
            "{target}: {what} panicked: {msg}\nthe input is saved in {} (copy it to fuzz/regressions/{target}/)",
            keep.display()
        );
    }
}

#[test]
fn every_saved_fuzz_input_replays_without_a_panic() {
    let mut total = 0;
    for (target, f) in TARGETS {
        let inputs = saved(target);
        assert!(
            !inputs.is_empty(),
            "no corpus for {target} in {}",
            fuzz_dir().display()
        );
        for (path, bytes) in &inputs {
            run_one(target, f, bytes, &path.display().to_string());
        }
        total += inputs.len();
    }
    assert!(total >= TARGETS.len());
}

/// One random change to `v`: byte flips, inserted or deleted runs, a
/// splice of another input, a number replaced by an extreme one.
fn mutate(rng: &mut ChaCha8Rng, v: &mut Vec<u8>, other: &[u8]) {
    const NUMBERS: [&[u8]; 8] = [
        b"0",
        b"-1",
        b"4294967295",
        b"4294967296",
        b"1e308",
        b"NaN",
        b"-0.0",
        b"65536",
    ];
    let at = |rng: &mut ChaCha8Rng, len: usize| rng.gen_range(0..=len);
    match rng.gen_range(0..6) {
        0 if !v.is_empty() => {
            let k = rng.gen_range(0..v.len());
            v[k] ^= 1 << rng.gen_range(0..8);
        }
        1 => {
            let k = at(rng, v.len());
            let n = rng.gen_range(1..8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            v.splice(k..k, bytes);
        }
        2 if !v.is_empty() => {
            let k = rng.gen_range(0..v.len());
            let n = rng.gen_range(1..=(v.len() - k).min(64));
            v.drain(k..k + n);
        }
        3 if !other.is_empty() => {
            let k = at(rng, v.len());
            let a = rng.gen_range(0..other.len());
            let b = rng.gen_range(a..=other.len().min(a + 256));
            v.splice(k..k, other[a..b].iter().copied());
        }
        4 => {
            // A digit run becomes an extreme number.
            if let Some(start) = (0..v.len())
                .skip(at(rng, v.len()))
                .find(|&k| v[k].is_ascii_digit())
            {
                let end = (start..v.len())
                    .find(|&k| !v[k].is_ascii_digit())
                    .unwrap_or(v.len());
                let n = NUMBERS[rng.gen_range(0..NUMBERS.len())];
                v.splice(start..end, n.iter().copied());
            }
        }
        _ => {
            let k = at(rng, v.len());
            v.truncate(k);
        }
    }
}

#[test]
fn seeded_mutations_of_the_fuzz_corpora_do_not_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x0e5b);
    for (target, f) in TARGETS {
        let inputs = saved(target);
        let start = Instant::now();
        let mut runs = 0;
        while start.elapsed() < BUDGET {
            let mut v = inputs[rng.gen_range(0..inputs.len())].1.clone();
            let other = &inputs[rng.gen_range(0..inputs.len())].1;
            for _ in 0..rng.gen_range(1..5) {
                mutate(&mut rng, &mut v, other);
            }
            run_one(target, f, &v, &format!("mutation {runs}"));
            runs += 1;
        }
        assert!(runs > 0);
    }
}
