//! The RTL of a configuration compiled on first use (`generated`): for a
//! geometry that is also built in, the library elaborates exactly the
//! built-in hardware (same Verilog, byte for byte; same pins, cycle for
//! cycle), so every other configuration's library is the same code at other
//! widths.

use onespike_hw::driver::{Inputs, Pins};
use onespike_hw::hdl_model::HdlModel;

#[test]
fn a_compiled_library_is_the_built_in_hardware() {
    let p = onespike_hw::tiny_params();
    let lib = onespike_hw::generated::library(&p).unwrap();
    let top = lib.verilog(&p, onespike_hw::rtl_lib::Which::Top).unwrap();
    assert_eq!(top, onespike_hw::export::verilog(&p).unwrap());
    let fpga = lib.verilog(&p, onespike_hw::rtl_lib::Which::Fpga).unwrap();
    assert_eq!(fpga, onespike_hw::export::fpga_verilog(&p).unwrap());

    // The same pins cycle by cycle through a reset, a configuration write
    // and a start with no program (done after the empty run).
    let mut a = lib.model(&p).unwrap();
    onespike_hw::with_config!(&p, T => {
        let mut b = HdlModel::<T>::new(&p);
        let mut i = Inputs { reset: 1, ..Inputs::default() };
        for cycle in 0..200u64 {
            i.reset = u64::from(cycle < 2);
            i.start = u64::from(cycle == 5);
            i.cfg_we = u64::from(cycle == 3);
            i.cfg_data = 1;
            i.in_end = u64::from(cycle > 8);
            i.out_ready = 1;
            assert_eq!(a.eval(&i), b.eval(&i), "cycle {cycle}");
            a.tick();
            b.tick();
        }
    })
    .unwrap();

    // A library refuses parameters of another geometry.
    let mut other = p.clone();
    other.cores += 1;
    assert!(lib.model(&other).is_err());
}
