//! The verification harness that the regression testbench
//! (`tests/tests/regression.rs`) and `onespike verify` share: a case runs
//! on a list of backends, each backend's results are compared input by
//! input with the case's expectations (the reference model's, or a case
//! file's recorded ones), cycle counts with the recorded count or else
//! with the first cycle-level backend that ran (the simulator, when
//! asked for), and a tally per backend gives the summary table.
//!
//! On the first mismatch of each backend, a one-input reproducer case is
//! written (never over an existing file) and the mismatch names the
//! case, the backend, the input and the first differing spike or cycle
//! count.

use crate::backends::{expected_of_sim, run, run_sim, Backend, RunError};
use crate::case::{first_difference, Case, Expected};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One backend's line of the summary table.
#[derive(Debug, Clone)]
pub struct Row {
    pub backend: Backend,
    pub cases: usize,
    pub inputs: usize,
    /// Inputs whose spikes, final potentials, class and steps were equal.
    pub spikes_equal: usize,
    /// Inputs with a cycle count to compare against (none for the
    /// reference model, which has no clock).
    pub cycles_compared: usize,
    pub cycles_equal: usize,
    pub time: Duration,
    /// Cases it did not run (unavailable, or not applicable), and why
    /// (the first reason).
    pub skipped: usize,
    pub note: Option<String>,
}

impl Row {
    fn new(backend: Backend) -> Row {
        Row {
            backend,
            cases: 0,
            inputs: 0,
            spikes_equal: 0,
            cycles_compared: 0,
            cycles_equal: 0,
            time: Duration::ZERO,
            skipped: 0,
            note: None,
        }
    }

    /// Whether every input it ran agreed.
    pub fn agrees(&self) -> bool {
        self.spikes_equal == self.inputs && self.cycles_equal == self.cycles_compared
    }
}

/// A disagreement between a backend and a case's expectation.
#[derive(Debug, Clone)]
pub struct Mismatch {
    pub case: String,
    pub backend: &'static str,
    pub input: usize,
    /// The first difference, in words.
    pub difference: String,
    /// Where the one-input reproducer case was written.
    pub reproducer: Option<PathBuf>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}: input {}: {}",
            self.case, self.backend, self.input, self.difference
        )?;
        match &self.reproducer {
            Some(p) => write!(f, "\n  reproducer: {}", p.display()),
            None => Ok(()),
        }
    }
}

/// What one case gave on each backend.
#[derive(Debug, Default)]
pub struct CaseRun {
    /// Each backend that ran, with its results.
    pub results: Vec<(Backend, Vec<Expected>)>,
    /// The simulator's full runs (statistics), when it ran.
    pub sim: Option<Vec<onespike_sim::SimRun>>,
    /// Mismatches of this case (at most one per backend).
    pub mismatches: Vec<Mismatch>,
}

/// The harness: the backends to run, where reproducers go, and the tally.
#[derive(Debug)]
pub struct Harness {
    pub backends: Vec<Backend>,
    pub reproducer_dir: PathBuf,
    /// Inputs per case that the rust-hdl RTL runs (the first ones; `None`:
    /// all). It simulates every signal of every cycle: about 10^4 cycles
    /// per second.
    pub rtl_inputs: Option<usize>,
    pub rows: Vec<Row>,
    /// The first mismatch of each backend (each with its reproducer).
    pub mismatches: Vec<Mismatch>,
    /// Mismatching inputs in all.
    pub mismatched_inputs: usize,
}

impl Harness {
    pub fn new(backends: &[Backend], reproducer_dir: &Path) -> Harness {
        Harness {
            backends: backends.to_vec(),
            reproducer_dir: reproducer_dir.to_path_buf(),
            rtl_inputs: None,
            rows: backends.iter().map(|&b| Row::new(b)).collect(),
            mismatches: Vec::new(),
            mismatched_inputs: 0,
        }
    }

    /// Whether every backend agreed on every input so far.
    pub fn passed(&self) -> bool {
        self.mismatched_inputs == 0
    }

    /// Runs `case` on every backend of the harness.
    pub fn run_case(&mut self, name: &str, case: &Case) -> Result<CaseRun, RunError> {
        let backends = self.backends.clone();
        self.run_case_on(name, case, &backends)
    }

    /// Runs `case` on `backends` (a subset of the harness's, in the order
    /// given) and compares. A backend that is unavailable, or does not
    /// apply to the case, is noted in its row and skipped; whether that is
    /// acceptable is the caller's policy. A backend that fails on an input
    /// (a hang, a load error) is an error.
    pub fn run_case_on(
        &mut self,
        name: &str,
        case: &Case,
        backends: &[Backend],
    ) -> Result<CaseRun, RunError> {
        let mut out = CaseRun::default();
        // The cycle count each input must give: recorded, or the first
        // cycle-level backend's.
        let mut cycles: Vec<Option<u64>> = case.expected.iter().map(|e| e.cycles).collect();
        for &b in backends {
            let sub;
            let run_on = match (b, self.rtl_inputs) {
                (Backend::RustHdl, Some(n)) if n < case.inputs.len() => {
                    sub = Case {
                        inputs: case.inputs[..n].to_vec(),
                        expected: case.expected[..n].to_vec(),
                        ..case.clone()
                    };
                    &sub
                }
                _ => case,
            };
            let t0 = Instant::now();
            let got = match b {
                Backend::Sim => run_sim(run_on).map(|runs| {
                    let e = runs.iter().map(expected_of_sim).collect::<Vec<_>>();
                    out.sim = Some(runs);
                    e
                }),
                _ => run(b, run_on),
            };
            let elapsed = t0.elapsed();
            let row = self.row(b);
            let got = match got {
                Ok(g) => g,
                Err(e @ (RunError::Unavailable { .. } | RunError::NotApplicable { .. })) => {
                    row.skipped += 1;
                    row.note.get_or_insert(e.to_string());
                    continue;
                }
                Err(e) => return Err(e),
            };
            row.time += elapsed;
            row.cases += 1;
            row.inputs += got.len();
            let mut first: Option<(usize, String)> = None;
            let mut mismatched = 0;
            for (k, (w, g)) in case.expected.iter().zip(&got).enumerate() {
                let want = Expected {
                    cycles: cycles[k],
                    ..w.clone()
                };
                let spikes_only = first_difference(
                    &Expected {
                        cycles: None,
                        ..want.clone()
                    },
                    g,
                );
                row.spikes_equal += spikes_only.is_none() as usize;
                if let (Some(a), Some(c)) = (want.cycles, g.cycles) {
                    row.cycles_compared += 1;
                    row.cycles_equal += (a == c) as usize;
                }
                if cycles[k].is_none() {
                    cycles[k] = g.cycles;
                }
                if let Some(d) = first_difference(&want, g) {
                    mismatched += 1;
                    first.get_or_insert((k, d));
                }
            }
            self.mismatched_inputs += mismatched;
            if got.len() != run_on.inputs.len() {
                self.mismatched_inputs += 1;
                first.get_or_insert((
                    got.len(),
                    format!(
                        "{} results expected, {} reported",
                        run_on.inputs.len(),
                        got.len()
                    ),
                ));
            }
            if let Some((k, difference)) = first {
                let reported = self.mismatches.iter().any(|m| m.backend == b.name());
                let want = Expected {
                    cycles: cycles.get(k).copied().flatten(),
                    ..case
                        .expected
                        .get(k)
                        .cloned()
                        .unwrap_or_else(|| got[0].clone())
                };
                let m = Mismatch {
                    case: name.to_string(),
                    backend: b.name(),
                    input: k,
                    reproducer: (!reported && k < case.inputs.len())
                        .then(|| {
                            write_reproducer(
                                case,
                                name,
                                b,
                                k,
                                want,
                                &difference,
                                &self.reproducer_dir,
                            )
                        })
                        .flatten(),
                    difference,
                };
                if !reported {
                    self.mismatches.push(m.clone());
                }
                out.mismatches.push(m);
            }
            out.results.push((b, got));
        }
        Ok(out)
    }

    fn row(&mut self, b: Backend) -> &mut Row {
        if let Some(k) = self.rows.iter().position(|r| r.backend == b) {
            return &mut self.rows[k];
        }
        self.rows.push(Row::new(b));
        self.rows.last_mut().expect("just pushed")
    }

    /// The summary table: one line per backend.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:<16} {:>6} {:>7} {:>13} {:>13} {:>9}\n",
            "backend", "cases", "inputs", "spikes equal", "cycles equal", "time"
        );
        for r in &self.rows {
            if r.cases == 0 {
                s.push_str(&format!(
                    "{:<16} {}\n",
                    r.backend.name(),
                    r.note.as_deref().unwrap_or("not run")
                ));
                continue;
            }
            let cycles = if r.cycles_compared == 0 {
                "-".to_string()
            } else {
                format!("{}/{}", r.cycles_equal, r.cycles_compared)
            };
            s.push_str(&format!(
                "{:<16} {:>6} {:>7} {:>13} {:>13} {:>7.2} s\n",
                r.backend.name(),
                r.cases,
                r.inputs,
                format!("{}/{}", r.spikes_equal, r.inputs),
                cycles,
                r.time.as_secs_f64()
            ));
            if let Some(n) = &r.note {
                s.push_str(&format!(
                    "{:<16} (not run on {} case{}: {n})\n",
                    "",
                    r.skipped,
                    if r.skipped == 1 { "" } else { "s" }
                ));
            }
        }
        s
    }
}

/// Writes the one-input reproducer of input `k` of `case` (expectation
/// `want`) into `dir` as `<name>-input<k>-<backend>.json`, or with a
/// numbered suffix where that file exists: an existing file is never
/// overwritten. Returns the path, or `None` if it could not be written.
fn write_reproducer(
    case: &Case,
    name: &str,
    backend: Backend,
    k: usize,
    want: Expected,
    difference: &str,
    dir: &Path,
) -> Option<PathBuf> {
    let mut repro = case.only_input(k);
    repro.expected[0] = want;
    repro.description = format!(
        "reproducer: {} disagreed on input {k} of {name}: {difference}",
        backend.name()
    );
    std::fs::create_dir_all(dir).ok()?;
    let stem = format!("{}-input{k}-{}", sanitize(name), backend.flag());
    let path = fresh_path(dir, &stem)?;
    repro.save(&path).ok()?;
    Some(path)
}

/// `dir/stem.json`, or `dir/stem-2.json`, `-3`, ... : the first that does
/// not exist.
pub fn fresh_path(dir: &Path, stem: &str) -> Option<PathBuf> {
    (1..10_000).find_map(|n| {
        let p = if n == 1 {
            dir.join(format!("{stem}.json"))
        } else {
            dir.join(format!("{stem}-{n}.json"))
        };
        (!p.exists()).then_some(p)
    })
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Where the regression's reproducers go: `$CARGO_TARGET_DIR/regression-failures`,
/// else `target/regression-failures` of the workspace.
pub fn reproducer_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("regression-failures")
}

/// The test policy for Verilator (one for every crate's tests, see
/// `onespike_verilator::models_for_tests`): whether the Verilator backend
/// must run.
pub fn verilator_required() -> bool {
    onespike_verilator::models_for_tests()
}
