//! `onespike synth`: Synthesize the exported Verilog with Yosys and nextpnr-ice40: resources (LUT, FF, BRAM) and Fmax.

use anyhow::Context;
use onespike_compiler::HwParams;
use onespike_hw::synth::{synth_ice40, Ice40Target};
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
    /// nextpnr-ice40 device (hx1k, hx8k, up5k, ...).
    #[arg(long, default_value = "hx8k")]
    pub device: String,
    /// nextpnr-ice40 package.
    #[arg(long, default_value = "ct256")]
    pub package: String,
    /// Target clock in MHz.
    #[arg(long, default_value_t = 60.0)]
    pub freq: f64,
    /// Output folder for netlists and logs.
    #[arg(short, long, default_value = "synth")]
    pub out: PathBuf,
}

pub fn main(args: Args) -> anyhow::Result<()> {
    super::outputs::check_folder("-o", &args.out)?;
    if !onespike_hw::export::tool_available("yosys") {
        anyhow::bail!("yosys is not installed (apt-get install yosys nextpnr-ice40 fpga-icestorm)");
    }
    let target = Ice40Target {
        device: args.device.clone(),
        package: args.package.clone(),
        freq_mhz: args.freq,
    };
    let mut rows = Vec::new();
    for spec in &args.config {
        let params = HwParams::from_preset_or_file(spec)?;
        let dir = args.out.join(&params.name);
        println!("synthesizing `{}` in {} ...", params.name, dir.display());
        let rep = synth_ice40(&params, &dir, &target)
            .with_context(|| format!("synthesizing `{}`", params.name))?;
        rows.push(rep);
    }
    println!();
    println!("| config | LUT4 | FF | BRAM (4 kbit) | LCs placed | Fmax (MHz) | target |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    for r in &rows {
        let lcs = r
            .lcs_used
            .map(|(u, a)| format!("{u}/{a}"))
            .unwrap_or_else(|| "-".into());
        let fmax = r
            .fmax_mhz
            .map(|f| format!("{f:.1}"))
            .unwrap_or_else(|| "-".into());
        let verdict = match (r.fmax_mhz, &r.pnr_note) {
            (Some(f), _) if f >= args.freq => format!(
                "{} {}: PASS at {} MHz",
                args.device, args.package, args.freq
            ),
            (Some(_), _) => format!(
                "{} {}: FAIL at {} MHz",
                args.device, args.package, args.freq
            ),
            (None, Some(n)) => n.clone(),
            (None, None) => "-".into(),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.config, r.luts, r.ffs, r.brams, lcs, fmax, verdict
        );
    }
    Ok(())
}
