//! `onespike sim`: simulate a compiled program cycle by cycle on a
//! dataset's test split (in parallel over images): accuracy, cycles,
//! latency and energy per inference, a JSON report, optionally the VCD
//! trace of the first inference. Glue over `onespike_sim`.

use super::outputs::{Plan, Staged};
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use onespike_compiler::{HwParams, Program};
use onespike_dataset::{Dataset, Split};
use onespike_sim::report::{Accumulator, ExampleInference, ReportMeta, SimReport};
use onespike_sim::{EnergyModel, SimOptions, Simulator, TechTable};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Simulate a compiled program cycle by cycle on a dataset: accuracy, cycles and energy per inference, JSON report.
///
/// Runs the cycle-accurate simulator (same spikes and cycle counts as the
/// RTL) on every test image of the dataset, in parallel, and prices the
/// counted actions with a technology table. `--vcd` records the first
/// inference's waveform with the RTL's pin names; `-o` writes the report
/// that `onespike report` renders.
#[derive(clap::Args)]
pub struct Args {
    /// Compiled program (JSON, as `onespike compile` writes it).
    #[arg(long)]
    pub model: PathBuf,
    /// Dataset: `default` (embedded MNIST subset) or a directory of IDX files; its test split is simulated.
    #[arg(long, default_value = "default")]
    pub data: String,
    /// Hardware configuration the program must have been compiled for (a preset or a TOML file); its clock_mhz sets latency, throughput and static energy. Default: the program's own.
    #[arg(long)]
    pub config: Option<String>,
    /// Simulate only the first N test images.
    #[arg(long)]
    pub limit: Option<usize>,
    /// End each inference at the first output spike.
    #[arg(long)]
    pub early_exit: bool,
    /// Write a VCD trace of the first inference to this file.
    #[arg(long)]
    pub vcd: Option<PathBuf>,
    /// Technology table (TOML) for the energy model; default: built-in Horowitz ISSCC 2014, 45 nm.
    #[arg(long)]
    pub tech: Option<PathBuf>,
    /// Write the report (JSON) to this file.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn main(args: Args) -> anyhow::Result<()> {
    let mut plan = Plan::new();
    plan.input("--model", &args.model)
        .input_opt("--tech", args.tech.as_deref())
        .output_opt("--vcd", args.vcd.as_deref())
        .output_opt("-o", args.output.as_deref());
    if let Some(c) = args.config.as_deref().filter(|c| Path::new(c).is_file()) {
        plan.input("--config", Path::new(c));
    }
    plan.check()?;
    if args.limit == Some(0) {
        bail!("--limit 0: simulate at least one image (or leave --limit out for the whole test split)");
    }
    let prog = Program::load(&args.model)
        .with_context(|| format!("loading the program {}", args.model.display()))?;
    let params = match &args.config {
        None => prog.params.clone(),
        Some(spec) => {
            let cfg = HwParams::from_preset_or_file(spec)?;
            check_same_hardware(&prog, &cfg, &args.model)?;
            cfg
        }
    };
    let tech = match &args.tech {
        None => TechTable::default_table(),
        Some(path) => TechTable::load(path)?,
    };
    let data = onespike_dataset::load(&args.data)?;
    let split = match args.limit {
        Some(n) => data.test.take(n),
        None => data.test.clone(),
    };
    let setup = Setup {
        program: args.model.display().to_string(),
        dataset: data.name.clone(),
        params,
        tech,
        opts: SimOptions {
            early_exit: args.early_exit,
            ..SimOptions::default()
        },
    };
    let mut out = Staged::new();
    let report = simulate_split(&prog, &split, &setup, args.vcd.as_deref(), &mut out)?;
    super::report::print_report(&report);
    if let Some(path) = &args.output {
        out.pretty_json(path, &report)?;
    }
    out.commit_and_say()?;
    Ok(())
}

/// Everything a dataset simulation needs besides the program and images.
pub struct Setup {
    pub program: String,
    pub dataset: String,
    /// The program's hardware, with the clock to report at.
    pub params: HwParams,
    pub tech: TechTable,
    pub opts: SimOptions,
}

/// The program's hardware must be `cfg`'s (name and clock aside).
pub fn check_same_hardware(prog: &Program, cfg: &HwParams, file: &Path) -> anyhow::Result<()> {
    let norm = |p: &HwParams| HwParams {
        name: String::new(),
        clock_mhz: 0.0,
        uart_baud: 0,
        ..p.clone()
    };
    if norm(&prog.params) != norm(cfg) {
        bail!(
            "{} was compiled for configuration `{}`, which is not the hardware of `{}` (they differ beyond name and clock_mhz): recompile it with --config {}",
            file.display(),
            prog.params.name,
            cfg.name,
            cfg.name
        );
    }
    Ok(())
}

/// Simulates every image of `split`; stages the trace of the first as `vcd`.
pub fn simulate_split(
    prog: &Program,
    split: &Split,
    setup: &Setup,
    vcd: Option<&Path>,
    out: &mut Staged,
) -> anyhow::Result<SimReport> {
    if split.is_empty() {
        bail!(
            "the dataset `{}` has no test images to simulate",
            setup.dataset
        );
    }
    if Some(split.image_size() as u64) != prog.encoding.pixels_per_image(prog.input_size) {
        bail!(
            "the dataset `{}` has images of {} pixels but the program {} takes {}",
            setup.dataset,
            split.image_size(),
            setup.program,
            super::checks::image_shape(&prog.encoding, prog.input_size)
        );
    }
    let mut prog = prog.clone();
    prog.params.clock_mhz = setup.params.clock_mhz;
    let sim = Simulator::new(&prog)
        .with_context(|| format!("loading {} into the simulator", setup.program))?;
    let model = EnergyModel::new(&setup.tech, &prog.params);
    let opts = setup.opts;
    let label = |k: usize| split.labels[k] as usize;

    // The first inference in full: the report's example (spike raster) and
    // the optional trace.
    let input0 = prog.encoding.encode(split.image(0));
    let first = match vcd {
        Some(path) => {
            let mut first = None;
            out.with(path, |tmp| {
                first = Some(onespike_sim::write_vcd(&prog, &input0, &opts, tmp)?);
                Ok(())
            })?;
            first.expect("the trace was written")
        }
        None => sim.clone().run(&input0, &opts)?,
    };
    let example = ExampleInference {
        index: 0,
        label: Some(label(0) as u32),
        class: first.class(),
        cycles: first.cycles,
        steps_run: first.steps_run,
        input_spikes: input0
            .iter()
            .filter(|s| s.step < prog.time_steps)
            .copied()
            .collect(),
        spikes: first.spikes.clone(),
        energy_pj: model.price(&first.counts).total_pj,
    };

    let bar = ProgressBar::new(split.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "  simulating {bar:40} {pos}/{len} images ({per_sec}, eta {eta})",
        )
        .expect("a valid progress template"),
    );
    let acc = (0..split.len())
        .into_par_iter()
        .map_init(
            || sim.clone(),
            |s, k| {
                let input = prog.encoding.encode(split.image(k));
                let r = s
                    .run(&input, &opts)
                    .with_context(|| format!("simulating test image {k}"));
                bar.inc(1);
                r.map(|r| (k, r))
            },
        )
        .try_fold(Accumulator::default, |mut acc, r| {
            let (k, run) = r?;
            acc.add(&run, Some(run.class() == label(k)), &model);
            anyhow::Ok(acc)
        })
        .try_reduce(Accumulator::default, |a, b| Ok(a.merge(b)))?;
    bar.finish_and_clear();
    let meta = ReportMeta {
        program: setup.program.clone(),
        dataset: setup.dataset.clone(),
        config: prog.params.clone(),
        early_exit: opts.early_exit,
        all_spikes: opts.all_spikes,
        labelled: split.len() as u64,
    };
    Ok(acc.finish(meta, &model, Some(example)))
}

/// The sim stage of `onespike run`: simulates the test split, writes
/// `sim-report.json`, the VCD of the first inference (`sim-inference0.vcd`)
/// and the report's plots and tables (`report/`) into `out`.
pub fn run_stage(
    prog: &Program,
    data: &Dataset,
    out: &Path,
    shown: &Path,
    staged: &mut Staged,
) -> anyhow::Result<SimReport> {
    let setup = Setup {
        program: shown.join("program.json").display().to_string(),
        dataset: data.name.clone(),
        params: prog.params.clone(),
        tech: TechTable::default_table(),
        opts: SimOptions::default(),
    };
    let report = simulate_split(
        prog,
        &data.test,
        &setup,
        Some(&out.join("sim-inference0.vcd")),
        staged,
    )?;
    super::report::print_report(&report);
    staged.pretty_json(&out.join("sim-report.json"), &report)?;
    super::report::stage_render(&report, &out.join("report"), staged)?;
    Ok(report)
}
