//! Yosys + nextpnr-ice40 on the FPGA top of built-in configurations
//! (resources and Fmax), without the `onespike` binary:
//! `cargo run --release -p onespike-hw --example synth -- small [out-dir]`.

use onespike_compiler::HwParams;
use onespike_hw::synth::{synth_ice40, Ice40Target};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map(|s| s.as_str()).unwrap_or("small");
    let out = std::path::PathBuf::from(args.get(1).map(|s| s.as_str()).unwrap_or("synth"));
    let p = HwParams::preset(name).expect("a built-in preset");
    let dir = out.join(name);
    std::fs::create_dir_all(&dir).expect("output folder");
    let rep = synth_ice40(&p, &dir, &Ice40Target::default()).expect("synthesis");
    println!(
        "{}: {} LUT4, {} FF, {} BRAM, LCs {:?}, Fmax {:?} MHz {}",
        rep.config,
        rep.luts,
        rep.ffs,
        rep.brams,
        rep.lcs_used,
        rep.fmax_mhz,
        rep.pnr_note.unwrap_or_default()
    );
}
