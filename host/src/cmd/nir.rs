//! `onespike import --nir` and `onespike export --nir`, and the NIR flags
//! that `compile --model net.nir` shares: networks from snnTorch, Norse,
//! Sinabs and other NIR exporters in, ours out (`docs/nir.md`).

use super::outputs::{Plan, Staged};
use anyhow::{bail, Context};
use onespike_compiler::{Coding, Decision, FloatNetwork};
use onespike_nir::{h5, ExportOptions, ImportOptions, ImportReport, ResetRule};
use std::path::{Path, PathBuf};

/// What NIR does not carry, and how its ambiguities are read.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct NirFlags {
    /// Input encoding of a NIR model: latency, rate or rows (row-sequential
    /// images: step t is row t). NIR does not record it.
    #[arg(long, value_parser = parse_coding)]
    pub encoding: Option<Coding>,
    /// Seconds per step of a NIR model (default: the graph's metadata `dt`,
    /// else 1e-4 as snnTorch and Lava assume).
    #[arg(long)]
    pub dt: Option<f64>,
    /// How a NIR model's reset is read: file (v = v_reset, NIR's
    /// definition; only 0 is supported), subtract (v -= threshold at the
    /// spike) or snntorch (reset subtract_next: subtract at the next step,
    /// undecayed, what snnTorch does although its files say v_reset = 0).
    #[arg(long, value_parser = parse_reset, default_value = "file")]
    pub reset: ResetRule,
    /// Pixels at or below this value do not spike (default 0; 127 for rows).
    #[arg(long)]
    pub cut: Option<u8>,
    /// Decision rule of a NIR model: spike_count (default), first_spike or
    /// max_potential (default for an LI / CubaLI readout).
    #[arg(long, value_parser = parse_decision)]
    pub decision: Option<Decision>,
    /// Largest accepted error of a decay rounded to 1 - 2^-k.
    #[arg(long, default_value_t = 0.02)]
    pub decay_tolerance: f64,
}

fn parse_coding(s: &str) -> Result<Coding, String> {
    match s {
        "latency" => Ok(Coding::Latency),
        "rate" => Ok(Coding::Rate),
        "rows" => Ok(Coding::Rows),
        _ => Err(format!("`{s}`: expected latency, rate or rows")),
    }
}

fn parse_reset(s: &str) -> Result<ResetRule, String> {
    ResetRule::parse(s).ok_or_else(|| format!("`{s}`: expected file, subtract or snntorch"))
}

fn parse_decision(s: &str) -> Result<Decision, String> {
    match s {
        "spike_count" => Ok(Decision::SpikeCount),
        "first_spike" => Ok(Decision::FirstSpike),
        "max_potential" => Ok(Decision::MaxPotential),
        _ => Err(format!(
            "`{s}`: expected spike_count, first_spike or max_potential"
        )),
    }
}

impl NirFlags {
    fn options(&self, time_steps: Option<u32>) -> anyhow::Result<ImportOptions> {
        if !(self.decay_tolerance.is_finite() && self.decay_tolerance >= 0.0) {
            bail!(
                "--decay-tolerance is {}, must be a number >= 0",
                self.decay_tolerance
            );
        }
        Ok(ImportOptions {
            coding: self.encoding,
            input_steps: time_steps,
            cut: self.cut,
            dt: self.dt,
            reset: self.reset,
            decision: self.decision,
            decay_tolerance: self.decay_tolerance,
        })
    }

    /// Whether any NIR-only flag was given (an error for a JSON model).
    fn any(&self) -> bool {
        self.encoding.is_some()
            || self.dt.is_some()
            || self.reset != ResetRule::File
            || self.cut.is_some()
            || self.decision.is_some()
    }
}

/// Imports the NIR file `path`.
pub fn import_file(
    path: &Path,
    flags: &NirFlags,
    time_steps: Option<u32>,
) -> anyhow::Result<(FloatNetwork, ImportReport)> {
    let opts = flags.options(time_steps)?;
    let file = h5::read(path)?;
    let shown = path.display().to_string();
    Ok(onespike_nir::import(
        &shown,
        file.version.as_deref(),
        &file.graph,
        &opts,
    )?)
}

/// A model file: a NIR file (by its HDF5 signature) is imported with
/// `flags` and `time_steps` (the input steps); anything else is a float
/// network (JSON), for which the NIR flags are an error.
pub fn load_model(
    path: &Path,
    flags: &NirFlags,
    time_steps: Option<u32>,
) -> anyhow::Result<(FloatNetwork, Option<ImportReport>)> {
    if h5::is_hdf5(path) {
        let (net, report) = import_file(path, flags, time_steps)?;
        print_report(path, &report);
        return Ok((net, Some(report)));
    }
    if flags.any() {
        bail!(
            "--model {}: --encoding, --dt, --reset, --cut and --decision apply to NIR models; this file is not one (a float network in JSON carries its own)",
            path.display()
        );
    }
    Ok((FloatNetwork::load(path)?, None))
}

/// Prints what an import assumed.
pub fn print_report(path: &Path, r: &ImportReport) {
    println!(
        "imported {} (NIR {}), dt = {} s from {}",
        path.display(),
        r.nir_version.as_deref().unwrap_or("version not recorded"),
        r.dt,
        r.dt_from
    );
    println!(
        "  {:<14} {:<8} {:>7} {:>6} {:>9} {:>12} {:>12} {:>9}",
        "node", "kind", "neurons", "relays", "synapses", "v decay", "i decay", "reset"
    );
    for l in &r.layers {
        let dec = |file: f64, used: f64| {
            if (file - used).abs() < 1e-6 {
                format!("{used:.4}")
            } else {
                format!("{file:.4}->{used:.4}")
            }
        };
        let idec = match (l.i_decay_file, l.i_decay) {
            (Some(f), Some(u)) => dec(f, u),
            _ => "instant".into(),
        };
        println!(
            "  {:<14} {:<8} {:>7} {:>6} {:>9} {:>12} {:>12} {:>9}{}",
            l.node,
            l.kind,
            l.neurons,
            l.relays,
            l.synapses,
            dec(l.v_decay_file, l.v_decay),
            idec,
            l.reset,
            if l.recurrent { "  recurrent" } else { "" }
        );
    }
    for n in &r.notes {
        println!("  note: {n}");
    }
}

/// Import a NIR graph (snnTorch, Norse, Sinabs, ...) as a float network.
///
/// NIR does not record the input encoding or its number of steps: give
/// them (`--encoding rate --time-steps 20`). The network written can then
/// be compiled, simulated and turned into Verilog like a trained one;
/// `onespike compile --model net.nir` imports on the fly.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// NIR file to import (HDF5, compressed or not).
    #[arg(long)]
    pub nir: PathBuf,
    /// Float network to write (JSON).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Input steps: how many steps the peer ran (NIR does not record it).
    #[arg(long)]
    pub time_steps: Option<u32>,
    #[command(flatten)]
    pub flags: NirFlags,
}

pub fn import_main(args: ImportArgs) -> anyhow::Result<()> {
    let mut plan = Plan::new();
    plan.input("--nir", &args.nir).output("-o", &args.output);
    plan.check()?;
    let (net, report) = import_file(&args.nir, &args.flags, args.time_steps)?;
    print_report(&args.nir, &report);
    let mut out = Staged::new();
    out.json(&args.output, &net)?;
    out.commit_and_say()?;
    Ok(())
}

/// Export a float network as a NIR graph that snnTorch, Norse and the
/// Python `nir` package read.
///
/// Gains are 1 at `--dt`; decays become time constants `dt 2^k`; what NIR
/// has no word for (fire-once, the subtracting reset, the encoding, the
/// hardware's one step per layer) is written as metadata, which
/// `onespike import` reads back to the same network.
#[derive(clap::Args)]
pub struct ExportArgs {
    /// Float network (JSON), as `onespike train` or `import` writes it.
    #[arg(long)]
    pub model: PathBuf,
    /// NIR file to write.
    #[arg(long)]
    pub nir: PathBuf,
    /// Seconds per step written into the graph.
    #[arg(long, default_value_t = 1e-4)]
    pub dt: f64,
    /// Store arrays uncompressed (NIR 1.0.8 compresses by default).
    #[arg(long)]
    pub no_compress: bool,
}

pub fn export_main(args: ExportArgs) -> anyhow::Result<()> {
    let mut plan = Plan::new();
    plan.input("--model", &args.model).output("--nir", &args.nir);
    plan.check()?;
    if !(args.dt.is_finite() && args.dt > 0.0) {
        bail!("--dt is {}, must be a positive number of seconds", args.dt);
    }
    let net = FloatNetwork::load(&args.model)?;
    let graph = onespike_nir::export(&net, &ExportOptions { dt: args.dt });
    let bytes = h5::to_bytes(&graph, !args.no_compress)
        .map_err(|e| anyhow::anyhow!("--nir {}: {e}", args.nir.display()))
        .context("encoding the NIR graph")?;
    let mut out = Staged::new();
    out.bytes(&args.nir, &bytes)?;
    out.commit_and_say()?;
    Ok(())
}
