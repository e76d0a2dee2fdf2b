//! onespike-verilator: the exported Verilog of the accelerator, compiled by
//! Verilator into a C++ model and driven from Rust one clock cycle per FFI
//! call, behind `onespike_hw::Pins` — so `onespike_hw::Driver` (and any
//! later testbench or simulator benchmark) runs it exactly like the rust-hdl
//! model.
//!
//! Models exist for the configurations listed in `build.rs` (`tiny`,
//! `tiny_narrow`, `small`; `default` too when built with
//! built unless `ONESPIKE_NO_VERILATE_DEFAULT` is set, see [`has_default_model`]). Without Verilator at build time the crate builds with no
//! models and [`VerilatorModel::new`] says so.
//!
//! Must not depend on: `sim`, `host`. Tests: `tests/` (RTL vs reference).

use onespike_compiler::HwParams;
use onespike_hw::driver::{Inputs, Outputs, Pins};
use std::ffi::c_void;

#[derive(Debug, thiserror::Error)]
pub enum VerilatorError {
    #[error("onespike-verilator was built without Verilator (install verilator and rebuild)")]
    NotBuilt,
    #[error("no Verilated model for configuration `{0}`; models: tiny, tiny_narrow, small, and default unless built with ONESPIKE_NO_VERILATE_DEFAULT")]
    NoModel(String),
    #[error(transparent)]
    Hw(#[from] onespike_hw::HwError),
}

type NewFn = unsafe extern "C" fn() -> *mut c_void;
type EvalFn = unsafe extern "C" fn(*mut c_void, *const Inputs, *mut Outputs);
type TickFn = unsafe extern "C" fn(*mut c_void);
type FreeFn = unsafe extern "C" fn(*mut c_void);

#[cfg(has_verilator)]
mod ffi {
    use super::*;
    macro_rules! model {
        ($new:ident, $eval:ident, $tick:ident, $free:ident) => {
            extern "C" {
                pub fn $new() -> *mut c_void;
                pub fn $eval(h: *mut c_void, i: *const Inputs, o: *mut Outputs);
                pub fn $tick(h: *mut c_void);
                pub fn $free(h: *mut c_void);
            }
        };
    }
    model!(os_tiny_new, os_tiny_eval, os_tiny_tick, os_tiny_free);
    model!(
        os_tiny_narrow_new,
        os_tiny_narrow_eval,
        os_tiny_narrow_tick,
        os_tiny_narrow_free
    );
    model!(os_small_new, os_small_eval, os_small_tick, os_small_free);
    #[cfg(has_verilator_default)]
    model!(
        os_default_new,
        os_default_eval,
        os_default_tick,
        os_default_free
    );
}

#[cfg(has_verilator)]
mod ffi_fpga {
    use onespike_hw::fpga_top::{SerialIn, SerialOut};
    use std::ffi::c_void;
    extern "C" {
        pub fn os_fpga_tiny_new() -> *mut c_void;
        pub fn os_fpga_tiny_cycle(h: *mut c_void, i: *const SerialIn, o: *mut SerialOut);
        pub fn os_fpga_tiny_free(h: *mut c_void);
    }
}

/// The Verilated serial-host FPGA top of the `tiny` configuration.
pub struct VerilatorFpgaTiny {
    #[cfg_attr(not(has_verilator), allow(dead_code))]
    handle: *mut c_void,
}

impl VerilatorFpgaTiny {
    pub fn new() -> Result<VerilatorFpgaTiny, VerilatorError> {
        #[cfg(has_verilator)]
        {
            // SAFETY: the shim returns a fresh heap object owned by this value.
            Ok(VerilatorFpgaTiny {
                handle: unsafe { ffi_fpga::os_fpga_tiny_new() },
            })
        }
        #[cfg(not(has_verilator))]
        Err(VerilatorError::NotBuilt)
    }
}

impl onespike_hw::fpga_top::SerialPort for VerilatorFpgaTiny {
    fn cycle(
        &mut self,
        pins: &onespike_hw::fpga_top::SerialIn,
    ) -> onespike_hw::fpga_top::SerialOut {
        #[allow(unused_mut)]
        let mut out = onespike_hw::fpga_top::SerialOut::default();
        // SAFETY: live handle; #[repr(C)] structs in the shim's field order.
        #[cfg(has_verilator)]
        unsafe {
            ffi_fpga::os_fpga_tiny_cycle(self.handle, pins, &mut out)
        };
        #[cfg(not(has_verilator))]
        let _ = pins;
        out
    }
}

impl Drop for VerilatorFpgaTiny {
    fn drop(&mut self) {
        // SAFETY: the handle came from `os_fpga_tiny_new` and is freed once.
        #[cfg(has_verilator)]
        unsafe {
            ffi_fpga::os_fpga_tiny_free(self.handle)
        };
    }
}

/// Whether Verilated models were built.
pub fn available() -> bool {
    cfg!(has_verilator)
}

/// The skip policy of every test that runs the Verilated models (the
/// regression, this crate's tests): `true` where the models were built.
/// Where they were not: verilator installed (and the build not told
/// `ONESPIKE_NO_VERILATOR`) fails the test, because the build went wrong;
/// verilator missing (or the build told not to use it) is a loud skip,
/// except under CI, where it fails (`onespike_hw::export::tool_for_tests`).
pub fn models_for_tests() -> bool {
    if available() {
        return true;
    }
    let deliberate = std::env::var_os("ONESPIKE_NO_VERILATOR").is_some();
    assert!(
        deliberate || !onespike_hw::export::tool_available("verilator"),
        "verilator is installed but onespike-verilator was built without models: rebuild (cargo clean -p onespike-verilator) and read its build warnings"
    );
    if deliberate {
        assert!(
            std::env::var_os("CI").is_none(),
            "ONESPIKE_NO_VERILATOR is set under CI: the Verilator tests must run there"
        );
        eprintln!("SKIPPED: built with ONESPIKE_NO_VERILATOR; the Verilator checks did not run");
        return false;
    }
    onespike_hw::export::tool_for_tests("verilator")
}

/// Whether the `default` preset's model was built (unless `ONESPIKE_NO_VERILATE_DEFAULT` was set).
pub fn has_default_model() -> bool {
    cfg!(has_verilator_default)
}

/// One Verilated accelerator instance.
pub struct VerilatorModel {
    handle: *mut c_void,
    eval: EvalFn,
    tick: TickFn,
    free: FreeFn,
}

impl VerilatorModel {
    /// A fresh model of the configuration `p` (which must be built in).
    pub fn new(p: &HwParams) -> Result<VerilatorModel, VerilatorError> {
        let name = onespike_hw::configs::config_name(p)?;
        #[cfg(has_verilator)]
        {
            let fns: Option<(NewFn, EvalFn, TickFn, FreeFn)> = match name {
                "tiny" => Some((
                    ffi::os_tiny_new,
                    ffi::os_tiny_eval,
                    ffi::os_tiny_tick,
                    ffi::os_tiny_free,
                )),
                "tiny_narrow" => Some((
                    ffi::os_tiny_narrow_new,
                    ffi::os_tiny_narrow_eval,
                    ffi::os_tiny_narrow_tick,
                    ffi::os_tiny_narrow_free,
                )),
                "small" => Some((
                    ffi::os_small_new,
                    ffi::os_small_eval,
                    ffi::os_small_tick,
                    ffi::os_small_free,
                )),
                #[cfg(has_verilator_default)]
                "default" => Some((
                    ffi::os_default_new,
                    ffi::os_default_eval,
                    ffi::os_default_tick,
                    ffi::os_default_free,
                )),
                _ => None,
            };
            let (new, eval, tick, free) =
                fns.ok_or_else(|| VerilatorError::NoModel(name.into()))?;
            // SAFETY: the shim returns a fresh heap object owned by this value.
            let handle = unsafe { new() };
            Ok(VerilatorModel {
                handle,
                eval,
                tick,
                free,
            })
        }
        #[cfg(not(has_verilator))]
        {
            let _ = name;
            let _: Option<(NewFn, EvalFn, TickFn, FreeFn)> = None;
            Err(VerilatorError::NotBuilt)
        }
    }
}

impl Pins for VerilatorModel {
    fn eval(&mut self, inputs: &Inputs) -> Outputs {
        let mut out = Outputs::default();
        // SAFETY: `handle` is live until drop; both structs are #[repr(C)]
        // with the field order of the shim's OsInputs/OsOutputs.
        unsafe { (self.eval)(self.handle, inputs, &mut out) };
        out
    }

    fn tick(&mut self) {
        // SAFETY: as above.
        unsafe { (self.tick)(self.handle) };
    }
}

impl Drop for VerilatorModel {
    fn drop(&mut self) {
        // SAFETY: the handle came from the matching `new` and is freed once.
        unsafe { (self.free)(self.handle) };
    }
}
