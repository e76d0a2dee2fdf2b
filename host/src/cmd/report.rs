//! `onespike report`: renders a simulation report (JSON, from `onespike
//! sim -o`) into tables (printed and `tables.txt`) and SVG plots: energy
//! by block, cycles per core, and the spike raster of one inference.

use super::outputs::{check_folder_files, write_folder, Staged};
use anyhow::{anyhow, Context};
use onespike_sim::report::SimReport;
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Render tables and plots from a simulation report (JSON).
///
/// Prints the report's tables (accuracy, cycles, latency and throughput,
/// energy per inference and per synaptic operation, per-core rows, energy
/// by block) and writes them with three SVG plots into the output folder:
/// `energy_breakdown.svg`, `cycles_per_core.svg`, `spike_raster.svg`.
#[derive(clap::Args)]
pub struct Args {
    /// Simulation report (JSON, as `onespike sim -o` writes it).
    #[arg(long)]
    pub report: PathBuf,
    /// Output folder (created if missing).
    #[arg(short, long)]
    pub out: PathBuf,
}

/// The files `report` writes into its folder.
pub const FILES: [&str; 4] = [
    "tables.txt",
    "energy_breakdown.svg",
    "cycles_per_core.svg",
    "spike_raster.svg",
];

pub fn main(args: Args) -> anyhow::Result<()> {
    check_folder_files("-o", &args.out, &FILES, &[("--report", &args.report)])?;
    let report = SimReport::load(&args.report)
        .with_context(|| format!("reading the report {}", args.report.display()))?;
    print_report(&report);
    write_folder("-o", &args.out, |out| stage_render(&report, &args.out, out))?;
    Ok(())
}

/// Stages `tables.txt` and the plots in `dir` (which must exist).
pub fn stage_render(r: &SimReport, dir: &Path, out: &mut Staged) -> anyhow::Result<()> {
    let tables = dir.join("tables.txt");
    out.bytes(&tables, tables_text(r).as_bytes())?;
    let plots = [
        (
            "energy_breakdown.svg",
            plot_energy as fn(&SimReport, &Path) -> anyhow::Result<()>,
        ),
        ("cycles_per_core.svg", plot_cycles),
        ("spike_raster.svg", plot_raster),
    ];
    for (name, f) in plots {
        let path = dir.join(name);
        out.with(&path, |tmp| {
            f(r, tmp).with_context(|| format!("drawing {}", path.display()))
        })?;
    }
    Ok(())
}

pub fn print_report(r: &SimReport) {
    print!("{}", tables_text(r));
}

fn si_pj(pj: f64) -> String {
    if pj >= 1e6 {
        format!("{:.3} uJ", pj / 1e6)
    } else if pj >= 1e3 {
        format!("{:.3} nJ", pj / 1e3)
    } else {
        format!("{pj:.2} pJ")
    }
}

/// Energy by block, in the order the tables and plots list it.
fn energy_rows(r: &SimReport) -> [(&'static str, f64); 8] {
    let b = &r.energy_breakdown_pj;
    [
        ("pointer SRAM", b.pointer_sram_pj),
        ("weight SRAM", b.weight_sram_pj),
        ("state memory (I, V, fired)", b.state_memory_pj),
        ("accumulate (I+=w, V+=I, leaks)", b.accumulate_pj),
        ("compare (V>=theta)", b.compare_pj),
        ("event FIFOs, spike queues", b.fifo_pj),
        ("bus", b.bus_pj),
        ("static (unused cores gated)", b.static_pj),
    ]
}

/// The report's tables as text.
pub fn tables_text(r: &SimReport) -> String {
    let mut s = String::new();
    let p = &r.config;
    let _ = writeln!(
        s,
        "simulated {} inferences of {} on {} (config `{}`, {} MHz, tech table {}{})",
        r.inferences,
        r.program,
        r.dataset,
        p.name,
        p.clock_mhz,
        r.tech_table,
        if r.early_exit { ", early exit" } else { "" }
    );
    let _ = writeln!(
        s,
        "  accuracy        {:.2}% ({} of {})",
        100.0 * r.accuracy,
        r.correct,
        r.inferences
    );
    let c = &r.cycles_per_inference;
    let _ = writeln!(
        s,
        "  cycles          {:.0} per inference (min {:.0}, max {:.0}); lower bound {:.0} (busiest core's synaptic ops), {:.2}x above it",
        c.mean,
        c.min,
        c.max,
        r.cycles_lower_bound_per_inference,
        c.mean / r.cycles_lower_bound_per_inference.max(1.0)
    );
    let l = &r.latency_us;
    let _ = writeln!(
        s,
        "  latency         {:.2} us per inference (min {:.2}, max {:.2}); throughput {:.0} inferences/s",
        l.mean, l.min, l.max, r.throughput_inferences_per_s
    );
    let e = &r.energy_per_inference_pj;
    let _ = writeln!(
        s,
        "  energy          {} per inference (min {}, max {}); {:.2} pJ per synaptic op",
        si_pj(e.mean),
        si_pj(e.min),
        si_pj(e.max),
        r.energy_per_synaptic_op_pj
    );
    let _ = writeln!(
        s,
        "  activity        {:.1} steps, {:.1} spikes, {:.0} synaptic ops, {:.0} bus transfers ({:.1} stall cycles) per inference",
        r.steps_per_inference, r.spikes_per_inference, r.synaptic_ops_per_inference, r.bus.transfers, r.bus.stall_cycles
    );
    if !r.per_layer.is_empty() {
        let _ = writeln!(
            s,
            "  spikes per layer (per inference): {}",
            r.per_layer
                .iter()
                .map(|l| format!(
                    "layer {} {:.1} ({:.3} per neuron{})",
                    l.layer,
                    l.spikes,
                    l.spikes_per_neuron,
                    match l
                        .spikes_per_step
                        .iter()
                        .cloned()
                        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
                    {
                        Some(peak) => format!(", peak {peak:.1} in one step"),
                        None => String::new(),
                    }
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let _ = writeln!(s, "  per core (means per inference):");
    let _ = writeln!(
        s,
        "  {:>4} {:>5} {:>7} {:>11} {:>6} {:>8} {:>10} {:>8} {:>7} {:>9} {:>12}",
        "core",
        "layer",
        "neurons",
        "busy_cyc",
        "util",
        "stall",
        "syn_ops",
        "events",
        "spikes",
        "fifo_max",
        "energy"
    );
    for k in &r.per_core {
        let layer = k.layer.map_or("-".to_string(), |l| l.to_string());
        let _ = writeln!(
            s,
            "  {:>4} {:>5} {:>7} {:>11.1} {:>5.1}% {:>8.1} {:>10.1} {:>8.1} {:>7.1} {:>9} {:>12}",
            k.core,
            layer,
            k.neurons,
            k.busy_cycles,
            100.0 * k.utilization,
            k.stall_cycles,
            k.synaptic_ops,
            k.events_received,
            k.spikes,
            k.fifo_max_occupancy_words,
            si_pj(k.energy_pj)
        );
    }
    let _ = writeln!(s, "  energy by block (per inference):");
    let total = r.energy_breakdown_pj.total_pj.max(f64::MIN_POSITIVE);
    for (name, pj) in energy_rows(r) {
        let _ = writeln!(
            s,
            "    {name:<28} {:>12} {:>6.1}%",
            si_pj(pj),
            100.0 * pj / total
        );
    }
    let _ = writeln!(
        s,
        "    {:<28} {:>12}",
        "total",
        si_pj(r.energy_breakdown_pj.total_pj)
    );
    s
}

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("{e}")
}

fn plot_energy(r: &SimReport, path: &Path) -> anyhow::Result<()> {
    let rows = energy_rows(r);
    let n = rows.len();
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9) * 1.1;
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Energy per inference by block: {} total",
                si_pj(r.energy_breakdown_pj.total_pj)
            ),
            ("sans-serif", 20),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(190)
        .build_cartesian_2d(0.0..max, (0..n - 1).into_segmented())
        .map_err(err)?;
    // Row `i` of the table is drawn top down.
    let name = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(k) if *k < n => rows[n - 1 - k].0.to_string(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("pJ per inference")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_labels(n)
        .y_label_formatter(&name)
        .draw()
        .map_err(err)?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, (_, v))| {
            let k = n - 1 - i;
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(k)),
                    (*v, SegmentValue::Exact(k + 1)),
                ],
                Palette99::pick(i).filled(),
            );
            bar.set_margin(6, 6, 0, 0);
            bar
        }))
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

fn plot_cycles(r: &SimReport, path: &Path) -> anyhow::Result<()> {
    let cycles = r.cycles_per_inference.mean;
    let n = r.per_core.len();
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Cycles per core ({cycles:.0} cycles per inference)"),
            ("sans-serif", 20),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (0..n.max(1) - 1).into_segmented(),
            0.0..cycles.max(1.0) * 1.1,
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("core")
        .y_desc("cycles per inference")
        .x_labels(n.min(64))
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(k) => k.to_string(),
            _ => String::new(),
        })
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(err)?;
    let busy = RGBColor(40, 90, 180);
    let stall = RGBColor(210, 60, 40);
    let idle = RGBColor(200, 200, 200);
    let bar = |i: usize, lo: f64, hi: f64, color: RGBColor, inset: u32| {
        let mut b = Rectangle::new(
            [
                (SegmentValue::Exact(i), lo),
                (SegmentValue::Exact(i + 1), hi),
            ],
            color.filled(),
        );
        b.set_margin(0, 0, inset, inset);
        b
    };
    chart
        .draw_series(
            r.per_core
                .iter()
                .enumerate()
                .map(|(i, k)| bar(i, k.busy_cycles, cycles, idle, 4)),
        )
        .map_err(err)?
        .label("not busy")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], idle.filled()));
    chart
        .draw_series(
            r.per_core
                .iter()
                .enumerate()
                .map(|(i, k)| bar(i, 0.0, k.busy_cycles, busy, 4)),
        )
        .map_err(err)?
        .label("busy")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], busy.filled()));
    chart
        .draw_series(
            r.per_core
                .iter()
                .enumerate()
                .filter(|(_, k)| k.stall_cycles > 0.0)
                .map(|(i, k)| bar(i, 0.0, k.stall_cycles, stall, 16)),
        )
        .map_err(err)?
        .label("bus stalled by its full FIFO")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], stall.filled()));
    let bound = r.cycles_lower_bound_per_inference;
    chart
        .draw_series(LineSeries::new(
            [
                (SegmentValue::Exact(0), bound),
                (SegmentValue::Exact(n), bound),
            ],
            BLACK.stroke_width(2),
        ))
        .map_err(err)?
        .label("lower bound (busiest core's synaptic ops)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 10, y)], BLACK.stroke_width(2)));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

fn plot_raster(r: &SimReport, path: &Path) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let Some(ex) = &r.example else {
        root.draw(&Text::new(
            "the report holds no example inference",
            (20, 20),
            ("sans-serif", 18),
        ))
        .map_err(err)?;
        root.present().map_err(err)?;
        return Ok(());
    };
    // Rows: input channels, then each layer's neurons; every spike a dot.
    let input_rows = ex
        .input_spikes
        .iter()
        .map(|s| s.neuron as usize + 1)
        .max()
        .unwrap_or(0);
    let mut rows: Vec<(usize, usize, &[onespike_compiler::Spike])> =
        vec![(0, input_rows, ex.input_spikes.as_slice())];
    for (l, layer) in ex.spikes.layers.iter().enumerate() {
        rows.push((l + 1, ex.spikes.sizes[l] as usize, layer.as_slice()));
    }
    let total_rows: usize = rows.iter().map(|r| r.1).sum();
    let steps = ex.steps_run.max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Spike raster of inference {} (label {}, class {}, {} cycles{})",
                ex.index,
                ex.label.map_or("-".into(), |l| l.to_string()),
                ex.class,
                ex.cycles,
                if r.all_spikes {
                    ""
                } else {
                    "; output layer only"
                }
            ),
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..steps - 0.5, 0.0..total_rows.max(1) as f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("input channel / neuron")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(err)?;
    let mut base = 0usize;
    for &(kind, size, row) in &rows {
        let color = Palette99::pick(kind);
        let pts: Vec<(f64, f64)> = row
            .iter()
            .map(|s| (s.step as f64, (base + s.neuron as usize) as f64 + 0.5))
            .collect();
        let name = if kind == 0 {
            "inputs".to_string()
        } else {
            format!("layer {}", kind - 1)
        };
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 2, color.filled())))
            .map_err(err)?
            .label(format!("{name} ({} spikes)", pts.len()))
            .legend(move |(x, y)| Circle::new((x + 5, y), 3, color.filled()));
        base += size;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}
