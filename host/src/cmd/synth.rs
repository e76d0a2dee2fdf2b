//! `onespike synth`: Synthesize the exported Verilog with Yosys and nextpnr-ice40: resources (LUT, FF, BRAM) and Fmax.

use anyhow::Context;
use onespike_compiler::HwParams;
use onespike_hw::synth::{synth_ice40, FpgaTopKind, Ice40Target};
use std::path::PathBuf;

/// Synthesize the exported Verilog with Yosys and nextpnr-ice40: resources (LUT, FF, BRAM) and Fmax.
///
/// For each configuration, exports the serial-host FPGA top, runs Yosys
/// `synth_ice40` and, when installed, nextpnr-ice40, then prints one row
/// per configuration: LUTs, flip-flops, block RAMs, logic cells placed and
/// Fmax. Logs and netlists stay in the output folder.
#[derive(clap::Args)]
pub struct Args {
    /// Configurations (preset names or TOML files); repeat the flag for several.
    #[arg(long, default_values_t = vec!["small".to_string()], help = super::config_help())]
    pub config: Vec<String>,
    /// nextpnr-ice40 device (hx1k, hx8k, up5k, ...); default: up5k for a
    /// configuration named `up5k`, hx8k otherwise.
    #[arg(long)]
    pub device: Option<String>,
    /// nextpnr-ice40 package; default: sg48 on an UltraPlus (up*), ct256
    /// otherwise.
    #[arg(long)]
    pub package: Option<String>,
    /// Target clock in MHz; default: the configuration's `clock_mhz`.
    #[arg(long)]
    pub freq: Option<f64>,
    /// The top to synthesize: `serial` (fpga_top.v, the bit-serial host
    /// interface) or `uart` (uart_top.v, for a board's USB-serial chip;
    /// `onespike board` talks to it).
    #[arg(long, default_value = "serial")]
    pub top: String,
    /// Pin constraints for nextpnr (a board's .pcf); without, nextpnr picks
    /// the pins and the bitstream suits no board.
    #[arg(long)]
    pub pcf: Option<PathBuf>,
    /// A program compiled for the configuration: its mean cycles per
    /// inference on the first --images test images of --data (simulated)
    /// give the classification throughput at Fmax.
    #[arg(long, requires = "data")]
    pub program: Option<PathBuf>,
    /// With --program: `default` (embedded MNIST subset) or a directory of IDX files.
    #[arg(long, requires = "program")]
    pub data: Option<String>,
    /// With --program: test images simulated.
    #[arg(long, default_value_t = 200)]
    pub images: usize,
    /// Output folder for netlists, logs and bitstreams.
    #[arg(short, long, default_value = "synth")]
    pub out: PathBuf,
}

/// Mean cycles per inference of `prog` on the first `n` test images of
/// `data`, on the cycle-accurate simulator.
fn mean_cycles(prog: &onespike_compiler::Program, data: &str, n: usize) -> anyhow::Result<f64> {
    let d = onespike_dataset::load(data)?;
    let net = prog.network("--program")?;
    super::checks::check_data_encoded(&d, "--data", &net.encoding, net.input_size, "the program")?;
    let split = d.test.take(n.max(1).min(d.test.len()));
    let setup = super::sim::Setup {
        program: "--program".into(),
        dataset: d.name.clone(),
        params: prog.params.clone(),
        tech: onespike_sim::energy::TechTable::default_table(),
        opts: Default::default(),
    };
    let mut staged = super::outputs::Staged::new();
    let rep = super::sim::simulate_split(prog, &split, &setup, None, &mut staged)?;
    Ok(rep.cycles_per_inference.mean)
}

pub fn main(args: Args) -> anyhow::Result<()> {
    super::outputs::check_folder("-o", &args.out)?;
    if !onespike_hw::export::tool_available("yosys") {
        anyhow::bail!("yosys is not installed (apt-get install yosys nextpnr-ice40 fpga-icestorm)");
    }
    let top = match args.top.as_str() {
        "serial" => FpgaTopKind::Serial,
        "uart" => FpgaTopKind::Uart,
        other => anyhow::bail!("--top {other}: must be serial or uart"),
    };
    if let Some(pcf) = &args.pcf {
        if !pcf.is_file() {
            anyhow::bail!("--pcf {}: no such file", pcf.display());
        }
    }
    let program = match &args.program {
        Some(path) => {
            let prog = onespike_compiler::Program::load(path)
                .with_context(|| format!("loading the program {}", path.display()))?;
            Some(prog)
        }
        None => None,
    };
    let mut rows = Vec::new();
    for spec in &args.config {
        let params = HwParams::from_preset_or_file(spec)?;
        let device = args.device.clone().unwrap_or_else(|| {
            if params.name == "up5k" {
                "up5k"
            } else {
                "hx8k"
            }
            .to_string()
        });
        let package = args.package.clone().unwrap_or_else(|| {
            if device.starts_with("up") {
                "sg48"
            } else {
                "ct256"
            }
            .to_string()
        });
        let target = Ice40Target {
            device,
            package,
            freq_mhz: args.freq.unwrap_or(params.clock_mhz),
            top,
            pcf: args.pcf.clone(),
        };
        if let Some(prog) = &program {
            if !prog.params.same_hardware(&params) {
                anyhow::bail!(
                    "--program was compiled for `{}`, not for --config {spec}",
                    prog.params.name
                );
            }
        }
        let dir = args.out.join(&params.name);
        println!("synthesizing `{}` in {} ...", params.name, dir.display());
        let rep = synth_ice40(&params, &dir, &target)
            .with_context(|| format!("synthesizing `{}`", params.name))?;
        rows.push((rep, target));
    }
    let cycles = match (&program, &args.data) {
        (Some(prog), Some(data)) => Some(mean_cycles(prog, data, args.images)?),
        _ => None,
    };
    println!();
    println!("| config | LUT4 | FF | BRAM (4 kbit) | SPRAM (256 kbit) | LCs placed | Fmax (MHz) | target |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    for (r, t) in &rows {
        let lcs = r
            .lcs_used
            .map(|(u, a)| format!("{u}/{a}"))
            .unwrap_or_else(|| "-".into());
        let fmax = r
            .fmax_mhz
            .map(|f| format!("{f:.1}"))
            .unwrap_or_else(|| "-".into());
        let verdict = match (r.fmax_mhz, &r.pnr_note) {
            (Some(f), _) if f >= t.freq_mhz => {
                format!("{} {}: PASS at {} MHz", t.device, t.package, t.freq_mhz)
            }
            (Some(_), _) => format!("{} {}: FAIL at {} MHz", t.device, t.package, t.freq_mhz),
            (None, Some(n)) => n.clone(),
            (None, None) => "-".into(),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.config, r.luts, r.ffs, r.brams, r.sprams, lcs, fmax, verdict
        );
    }
    for (r, _) in &rows {
        if let Some(b) = &r.bitstream {
            println!("bitstream of `{}`: {}", r.config, b.display());
        }
    }
    if let Some(c) = cycles {
        for (r, _) in &rows {
            if let Some(f) = r.fmax_mhz {
                println!(
                    "`{}`: {:.0} cycles per inference (simulated, {} test images), {:.0} inferences/s at Fmax {:.1} MHz",
                    r.config,
                    c,
                    args.images,
                    f * 1e6 / c,
                    f
                );
            }
        }
    }
    Ok(())
}
