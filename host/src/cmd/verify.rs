//! `onespike verify`: a compiled program on a dataset, a folder of case
//! files, or generated cases, run on the chosen backends (reference model,
//! simulator, rust-hdl RTL, Verilator) with spikes and cycle counts
//! compared. Glue over `onespike_tests::harness`, the harness the
//! regression testbench runs.

use super::outputs::check_folder;
use anyhow::{bail, Context};
use onespike_compiler::{HwParams, Program};
use onespike_tests::backends::{availability, record_on_simulator, Backend};
use onespike_tests::case::Case;
use onespike_tests::harness::Harness;
use std::path::{Path, PathBuf};

/// Check a program, case files or generated cases on every backend: same spikes, same cycles.
///
/// Runs each input on the integer reference model (the judge of spikes),
/// the cycle-accurate simulator, Verilator on the exported Verilog and
/// the rust-hdl RTL, compares spikes, final potentials, class and steps
/// with the reference model's and cycle counts with the simulator's (or a
/// case file's recorded ones), and prints a summary table. On a mismatch
/// it prints the first differing spike or cycle count, writes a one-input
/// reproducer case file (never over an existing file) and exits with
/// status 2; bad input exits with status 1, nothing written.
#[derive(clap::Args)]
pub struct Args {
    /// Compiled program (JSON, as `onespike compile` writes it), run on
    /// the test images of --data. The reference model runs the network
    /// read back from the program's SRAM images.
    #[arg(long, conflicts_with_all = ["cases", "random"], requires = "data")]
    pub program: Option<PathBuf>,
    /// With --program: `default` (embedded MNIST subset) or a directory of
    /// IDX files; its test images are encoded as the program says.
    #[arg(long, requires = "program")]
    pub data: Option<String>,
    /// With --program: the first N test images.
    #[arg(long, default_value_t = 100, requires = "program")]
    pub images: usize,
    /// With --program: end each inference at the first output spike.
    #[arg(long, requires = "program")]
    pub early_exit: bool,
    /// A folder of case files (`*.json`, the format of `tests/cases/`).
    #[arg(long, conflicts_with_all = ["program", "random"])]
    pub cases: Option<PathBuf>,
    /// N generated cases (the regression's generators in turn: fire-once
    /// networks, every neuron mode, raw programs), 3 inputs each.
    #[arg(long, conflicts_with_all = ["program", "cases"])]
    pub random: Option<u64>,
    /// Seed of the generated cases (case k uses seed + k / 3).
    #[arg(long, default_value_t = 0, requires = "random")]
    pub seed: u64,
    /// Backends, comma-separated: reference, sim, rtl (rust-hdl), verilator,
    /// gate-hx, gate-up (the iCE40 netlist Yosys synthesizes for an HX or an
    /// UltraPlus part, in lockstep with its RTL through the serial FPGA
    /// top's pins; opt-in, as synthesis takes a while once per
    /// configuration). Default: reference, sim, verilator, rtl, each where
    /// available for the configuration (noted where one is not); a backend
    /// named here that cannot run is an error.
    #[arg(long, value_delimiter = ',')]
    pub backends: Option<Vec<String>>,
    /// Inputs per case that the rust-hdl RTL runs (the first ones): it
    /// simulates every signal of every cycle, about 0.6 s per MNIST image
    /// on `default` (Verilator: under 10 ms).
    #[arg(long, default_value_t = 10)]
    pub rtl_inputs: usize,
    /// Hardware configuration (a preset or a TOML file): generated cases
    /// are drawn on it; a program or case file must have been compiled
    /// for it. Any configuration has both RTL backends: one that is not
    /// built in gets its rust-hdl RTL and its Verilator model compiled
    /// once, on first use (docs/hw.md, "Any configuration").
    #[arg(long, help = super::config_help())]
    pub config: Option<String>,
    /// Folder for reproducer case files (created on a mismatch only).
    #[arg(long, default_value = "verify-failures")]
    pub reproducer_dir: PathBuf,
}

pub fn main(args: Args) -> anyhow::Result<()> {
    let config = match &args.config {
        Some(spec) => Some(HwParams::from_preset_or_file(spec)?),
        None => None,
    };
    let explicit = args
        .backends
        .as_ref()
        .map(|names| parse_backends(names))
        .transpose()?;
    check_folder("--reproducer-dir", &args.reproducer_dir)?;
    let cases = if let Some(prog) = &args.program {
        let data = args.data.as_deref().expect("clap requires --data");
        vec![program_case(prog, data, &args, config.as_ref())?]
    } else if let Some(dir) = &args.cases {
        case_files(dir, config.as_ref())?
    } else if let Some(n) = args.random {
        if n == 0 {
            bail!("--random 0: generate at least one case");
        }
        (0..n)
            .map(|k| onespike_tests::random::generated_case(args.seed, k, config.as_ref()))
            .collect()
    } else {
        bail!("nothing to verify: give --program with --data, --cases <folder> or --random N");
    };

    // Which backends run each case: every one asked for must be able to.
    let wanted = explicit
        .clone()
        .unwrap_or_else(|| Backend::DEFAULT.to_vec());
    let mut plan = Vec::with_capacity(cases.len());
    let mut notes: Vec<String> = Vec::new();
    for (name, case) in &cases {
        let mut on = Vec::new();
        for &b in &wanted {
            match availability(b, case.params()) {
                Ok(()) => on.push(b),
                Err(why) if explicit.is_some() => bail!(
                    "--backends {}: {name}: {why}; leave it out (--backends reference,sim)",
                    b.flag()
                ),
                Err(why) => {
                    let note = format!("{} not run: {why}", b.name());
                    if !notes.contains(&note) {
                        notes.push(note);
                    }
                }
            }
        }
        plan.push(on);
    }
    let inputs: usize = cases.iter().map(|(_, c)| c.inputs.len()).sum();
    println!(
        "verifying {} case{} ({inputs} inputs) on: {}",
        cases.len(),
        if cases.len() == 1 { "" } else { "s" },
        wanted
            .iter()
            .map(|b| match b {
                Backend::RustHdl => format!(
                    "{} (first {} inputs of each case)",
                    b.name(),
                    args.rtl_inputs
                ),
                _ => b.name().to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    for n in &notes {
        println!("note: {n}");
    }

    let mut h = Harness::new(&wanted, &args.reproducer_dir);
    h.rtl_inputs = Some(args.rtl_inputs);
    for ((name, case), on) in cases.iter().zip(&plan) {
        h.run_case_on(name, case, on)
            .with_context(|| format!("running {name}"))?;
    }
    println!();
    print!("{}", h.table());
    if h.passed() {
        println!("\nall backends agree: spikes and cycle counts equal on every input");
        return Ok(());
    }
    println!(
        "\nMISMATCH: {} input run{} disagreed; the first of each backend:",
        h.mismatched_inputs,
        if h.mismatched_inputs == 1 { "" } else { "s" }
    );
    for m in &h.mismatches {
        println!("  {m}");
    }
    if h.mismatches.iter().any(|m| m.reproducer.is_some()) {
        println!(
            "rerun the reproducers: onespike verify --cases {}",
            args.reproducer_dir.display()
        );
    }
    std::process::exit(2);
}

fn parse_backends(names: &[String]) -> anyhow::Result<Vec<Backend>> {
    let mut out = Vec::new();
    for n in names {
        let b = Backend::from_flag(n.trim()).with_context(|| {
            format!(
                "--backends: unknown backend `{n}`; the backends are {}",
                Backend::ALL.map(Backend::flag).join(", ")
            )
        })?;
        if !out.contains(&b) {
            out.push(b);
        }
    }
    if out.is_empty() {
        bail!("--backends: name at least one backend");
    }
    // The run order: judge first, then the simulator, whose cycles the
    // RTL backends repeat.
    out.sort_by_key(|b| Backend::ALL.iter().position(|x| x == b));
    Ok(out)
}

/// The case of a compiled program on the first `--images` test images of
/// the dataset.
fn program_case(
    path: &Path,
    data: &str,
    args: &Args,
    config: Option<&HwParams>,
) -> anyhow::Result<(String, Case)> {
    if !path.is_file() {
        bail!("--program {}: no such file", path.display());
    }
    if args.images == 0 {
        bail!("--images 0: verify at least one image");
    }
    let prog =
        Program::load(path).with_context(|| format!("loading the program {}", path.display()))?;
    if let Some(cfg) = config {
        super::sim::check_same_hardware(&prog, cfg, path)?;
    }
    let ds = onespike_dataset::load(data).with_context(|| format!("--data {data}"))?;
    let split = ds.test.take(args.images.min(ds.test.len()));
    if split.is_empty() {
        bail!(
            "--data {data}: the dataset `{}` has no test images",
            ds.name
        );
    }
    if Some(split.image_size() as u64) != prog.encoding.pixels_per_image(prog.input_size) {
        bail!(
            "--data {data}: the test images of `{}` are {}x{} = {} pixels, but the program {} takes {}",
            ds.name,
            split.rows,
            split.cols,
            split.image_size(),
            path.display(),
            super::checks::image_shape(&prog.encoding, prog.input_size)
        );
    }
    let origin = path.display().to_string();
    let network = match prog.network(&origin) {
        Ok(n) => Some(n),
        Err(e) => {
            println!("note: the reference model does not apply: {e}");
            None
        }
    };
    let inputs: Vec<_> = (0..split.len())
        .map(|k| prog.encoding.encode(split.image(k)))
        .collect();
    let name = path
        .file_stem()
        .map_or("program".into(), |s| s.to_string_lossy().into_owned());
    let mut case = Case::of_program(
        &format!(
            "{} on the first {} test images of {}",
            path.display(),
            split.len(),
            ds.name
        ),
        prog,
        network,
        args.early_exit,
        inputs,
    )
    .with_context(|| format!("--program {}", path.display()))?;
    if case.network.is_none() {
        record_on_simulator(&mut case).with_context(|| format!("simulating {origin}"))?;
    }
    Ok((name, case))
}

/// Every `*.json` of `dir`, loaded and checked whole before any run.
fn case_files(dir: &Path, config: Option<&HwParams>) -> anyhow::Result<Vec<(String, Case)>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("--cases {}: cannot read the folder", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("--cases {}: no case files (*.json) in it", dir.display());
    }
    paths
        .iter()
        .map(|p| {
            let case =
                Case::load(p).with_context(|| format!("--cases: loading {}", p.display()))?;
            if let Some(cfg) = config {
                if !case.params().same_hardware(cfg) {
                    bail!(
                        "--config {}: the case {} runs on configuration `{}`, other hardware",
                        cfg.name,
                        p.display(),
                        case.params().name
                    );
                }
            }
            let name = p
                .file_stem()
                .map_or("case".into(), |s| s.to_string_lossy().into_owned());
            Ok((name, case))
        })
        .collect()
}
