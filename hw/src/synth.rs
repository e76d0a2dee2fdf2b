//! FPGA flow: Yosys `synth_ice40` and nextpnr-ice40 on the serial-host
//! FPGA top, with the resource table (LUT, FF, BRAM) and Fmax parsed from
//! the tools' logs.

use crate::export::{run_tool, tool_available, write_fpga_verilog};
use crate::HwError;
use onespike_compiler::HwParams;
use std::path::Path;

/// Which top is synthesized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FpgaTopKind {
    /// `fpga_top.v`: the bit-serial host interface (`docs/hw.md`).
    #[default]
    Serial,
    /// `uart_top.v`: the UART host interface, for a board's USB-serial chip.
    Uart,
}

/// Target of the place-and-route step.
#[derive(Debug, Clone, PartialEq)]
pub struct Ice40Target {
    /// nextpnr device flag without dashes (`hx8k`, `up5k`, ...).
    pub device: String,
    pub package: String,
    pub freq_mhz: f64,
    pub top: FpgaTopKind,
    /// Pin constraints (nextpnr `--pcf`); without, nextpnr picks the pins.
    pub pcf: Option<std::path::PathBuf>,
}

impl Default for Ice40Target {
    fn default() -> Self {
        Ice40Target {
            device: "hx8k".into(),
            package: "ct256".into(),
            freq_mhz: 60.0,
            top: FpgaTopKind::Serial,
            pcf: None,
        }
    }
}

/// Resources after synthesis, and timing after place and route.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct SynthReport {
    pub config: String,
    /// `SB_LUT4` cells after `synth_ice40`.
    pub luts: u64,
    /// Flip-flops (every `SB_DFF*` cell).
    pub ffs: u64,
    /// `SB_RAM40_4K` block RAMs.
    pub brams: u64,
    /// `SB_SPRAM256KA` single-port RAMs (UltraPlus parts).
    pub sprams: u64,
    /// The bitstream (`icepack`), when place and route and icepack ran.
    pub bitstream: Option<std::path::PathBuf>,
    /// Logic cells used / available after placement (None without nextpnr).
    pub lcs_used: Option<(u64, u64)>,
    /// Max frequency of the clock after routing, in MHz.
    pub fmax_mhz: Option<f64>,
    /// Why place and route did not give a figure, if it did not.
    pub pnr_note: Option<String>,
}

/// Parses the last cell statistics of a Yosys log: LUT4, flip-flops,
/// block RAMs.
pub fn parse_yosys_stats(log: &str) -> (u64, u64, u64) {
    let (luts, ffs, brams, _) = parse_yosys_cells(log);
    (luts, ffs, brams)
}

/// [`parse_yosys_stats`] and the `SB_SPRAM256KA` count.
pub fn parse_yosys_cells(log: &str) -> (u64, u64, u64, u64) {
    let start = log.rfind("Number of cells").unwrap_or(0);
    let (mut luts, mut ffs, mut brams, mut sprams) = (0, 0, 0, 0);
    for line in log[start..].lines().skip(1) {
        let mut it = line.split_whitespace();
        let (Some(cell), Some(n)) = (it.next(), it.next()) else {
            break;
        };
        let Ok(n) = n.parse::<u64>() else { break };
        if cell == "SB_LUT4" {
            luts += n;
        } else if cell.starts_with("SB_DFF") {
            ffs += n;
        } else if cell == "SB_RAM40_4K" {
            brams += n;
        } else if cell == "SB_SPRAM256KA" {
            sprams += n;
        }
    }
    (luts, ffs, brams, sprams)
}

/// Parses Fmax (the last report) and logic-cell use from a nextpnr log.
pub fn parse_nextpnr(log: &str) -> (Option<f64>, Option<(u64, u64)>) {
    let fmax = log
        .lines()
        .rev()
        .filter_map(|l| l.split("Max frequency for clock").nth(1))
        .filter_map(|rest| rest.split(':').nth(1))
        .find_map(|v| v.split_whitespace().next()?.parse::<f64>().ok());
    let lcs = log
        .lines()
        .rev()
        .find(|l| l.contains("ICESTORM_LC:"))
        .and_then(|l| {
            let f = l.split("ICESTORM_LC:").nth(1)?;
            let mut it = f.split('/');
            Some((
                it.next()?.trim().parse().ok()?,
                it.next()?.split_whitespace().next()?.parse().ok()?,
            ))
        });
    (fmax, lcs)
}

/// The Yosys command that synthesizes `module` for the iCE40 `device`
/// (nextpnr's device name): on UltraPlus parts (`up5k`, ...) with `-spram`,
/// so that a single-port memory of up to 16k x 16 words per SPRAM (a
/// core's weight SRAM, `crate::spram`) becomes `SB_SPRAM256KA` cells. The
/// bitstream flow and the gate-level netlist both use it.
pub fn synth_ice40_script(module: &str, device: &str) -> String {
    let spram = if device.starts_with("up") {
        " -spram"
    } else {
        ""
    };
    format!("synth_ice40 -top {module}{spram}")
}

/// Synthesizes the FPGA top of `p` in `dir` (Yosys), then places and routes
/// it (nextpnr-ice40) when installed.
pub fn synth_ice40(p: &HwParams, dir: &Path, target: &Ice40Target) -> Result<SynthReport, HwError> {
    let (v, module) = match target.top {
        FpgaTopKind::Serial => (write_fpga_verilog(p, dir)?, crate::export::FPGA_TOP_MODULE),
        FpgaTopKind::Uart => (
            crate::export::write_uart_verilog(p, dir)?,
            crate::export::UART_TOP_MODULE,
        ),
    };
    let json = dir.join(format!("{module}.json"));
    let ylog = dir.join("yosys.log");
    let script = format!(
        "{}; write_json {}",
        synth_ice40_script(module, &target.device),
        json.display()
    );
    run_tool(
        "yosys",
        &[
            "-q",
            "-l",
            &ylog.display().to_string(),
            "-p",
            &script,
            &v.display().to_string(),
        ],
        &v,
    )?;
    let log = std::fs::read_to_string(&ylog).map_err(|source| HwError::Io {
        path: ylog.display().to_string(),
        source,
    })?;
    let (luts, ffs, brams, sprams) = parse_yosys_cells(&log);
    let mut rep = SynthReport {
        config: p.name.clone(),
        luts,
        ffs,
        brams,
        sprams,
        ..Default::default()
    };
    if !tool_available("nextpnr-ice40") {
        rep.pnr_note = Some("nextpnr-ice40 not installed".into());
        return Ok(rep);
    }
    let plog = dir.join("nextpnr.log");
    let asc = dir.join(format!("{module}.asc"));
    let mut args = vec![
        format!("--{}", target.device),
        "--package".into(),
        target.package.clone(),
        "--json".into(),
        json.display().to_string(),
        "--freq".into(),
        target.freq_mhz.to_string(),
        "--timing-allow-fail".into(),
        "--asc".into(),
        asc.display().to_string(),
        "--log".into(),
        plog.display().to_string(),
    ];
    if let Some(pcf) = &target.pcf {
        args.extend(["--pcf".into(), pcf.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    match run_tool("nextpnr-ice40", &args, &json) {
        Ok(text) => {
            let (fmax, lcs) = parse_nextpnr(&text);
            rep.fmax_mhz = fmax;
            rep.lcs_used = lcs;
            if tool_available("icepack") {
                let bin = dir.join(format!("{module}.bin"));
                let (a, b) = (asc.display().to_string(), bin.display().to_string());
                run_tool("icepack", &[&a, &b], &asc)?;
                rep.bitstream = Some(bin);
            }
        }
        Err(HwError::Tool { message, .. }) => {
            let line = message
                .lines()
                .find(|l| l.contains("ERROR"))
                .unwrap_or("place and route failed");
            rep.pnr_note = Some(line.trim().to_string());
        }
        Err(e) => return Err(e),
    }
    Ok(rep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yosys_stats_are_parsed_from_the_last_report() {
        let log = "Number of cells: 5\n  SB_LUT4 1\n\n=== top ===\n   Number of cells:               2976\n     SB_CARRY                      319\n     SB_DFF                        252\n     SB_DFFE                       651\n     SB_LUT4                      1514\n     SB_RAM40_4K                    28\n\n2.49. Executing CHECK pass\n";
        assert_eq!(parse_yosys_stats(log), (1514, 903, 28));
    }

    #[test]
    fn nextpnr_fmax_and_cells_are_parsed() {
        let log = "Info: 	         ICESTORM_LC:  2441/ 7680    31%\nInfo: Max frequency for clock 'clk': 50.00 MHz (PASS at 12.00 MHz)\nInfo: Max frequency for clock 'clock$SB_IO_IN_$glb_clk': 67.26 MHz (PASS at 60.00 MHz)\n";
        assert_eq!(parse_nextpnr(log), (Some(67.26), Some((2441, 7680))));
    }
}
