//! The gate-level check: the netlist Yosys synthesizes for the iCE40
//! (`synth_ice40`, `write_verilog -noattr`), Verilated with Yosys' cell
//! library, runs a program in lockstep with the RTL's Verilated model:
//! every output pin of the serial FPGA top equal in every cycle, from the
//! first load write to the last potential read, over a few hundred inputs;
//! and what the serial host reads back is what the wide port gives.

#[path = "../../hw/tests/common/mod.rs"]
mod common;

use onespike_compiler::map_in_order;
use onespike_hw::driver::RunConfig;
use onespike_hw::fpga_top::{Lockstep, SerialHost};
use onespike_hw::uart_host::{load_program, run_inference};
use onespike_hw::Driver;
use onespike_verilator::{VerilatorFpga, VerilatorModel};

#[test]
fn the_synthesized_netlist_runs_cycle_for_cycle_as_the_rtl() {
    if !onespike_verilator::models_for_tests() || !onespike_hw::export::tool_for_tests("yosys") {
        return;
    }
    let p = onespike_hw::tiny_params();
    let net = common::uart_network();
    let prog = map_in_order(&net, &p).unwrap();
    let run = RunConfig::default();
    let both = Lockstep::new(
        VerilatorFpga::new(&p).unwrap(),
        VerilatorFpga::gate_level(&p, "hx8k").unwrap(),
    );
    let mut h = SerialHost::new(both, &p);
    load_program(&mut h, &prog, &run).unwrap();
    let mut wide = Driver::new(VerilatorModel::new(&p).unwrap(), &p);
    wide.load(&prog, &run).unwrap();
    let (mut spikes, mut classes) = (0, [0usize; 3]);
    for k in 0..300u32 {
        let image: Vec<u8> = (0..6)
            .map(|i| ((k * 37 + i * 101 + k * i * 7) % 256) as u8)
            .collect();
        let input = net.encoding.encode(&image);
        let r = run_inference(&mut h, &prog, &input, 10_000).unwrap();
        let w = wide.infer(&prog, &input, &run).unwrap();
        assert_eq!(r.spikes, w.spikes, "input {k}");
        assert_eq!(r.final_v, w.final_v, "input {k}");
        assert_eq!(r.class, w.class, "input {k}");
        spikes += r.spike_count;
        classes[r.class] += 1;
    }
    assert_eq!(h.port.difference, None);
    eprintln!(
        "gate level = RTL: {} cycles in lockstep, {spikes} output spikes, classes {classes:?}",
        h.port.cycles
    );
    // Not vacuous: many spikes, every class decided at least once,
    // hundreds of thousands of cycles compared, and spikes the host took
    // while an input event waited.
    assert!(h.spills > 0, "no spike taken while an input waited");
    assert!(spikes > 1000, "{spikes} spikes");
    assert!(classes.iter().all(|&c| c > 0), "{classes:?}");
    assert!(h.port.cycles > 300_000, "{} cycles", h.port.cycles);
}
