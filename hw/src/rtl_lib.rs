//! Models of the accelerator loaded at run time from a shared library,
//! behind [`Pins`] (and [`SerialPort`] for the serial-host FPGA top). Two
//! kinds of library speak one C ABI:
//!
//! - the rust-hdl model of a configuration that is not built into this
//!   crate, compiled on first use by [`crate::generated`] (a `cdylib` whose
//!   source is one [`crate::export_rtl_library!`] line);
//! - a Verilated model of the exported Verilog, compiled on first use by
//!   `onespike-verilator` (a C++ shim over the Verilator class).
//!
//! The ABI (every symbol `extern "C"`; `Inputs`/`Outputs`/`SerialIn`/
//! `SerialOut` are the `#[repr(C)]` structs of [`crate::driver`] and
//! [`crate::fpga_top`], all fields `uint64_t`):
//!
//! | symbol | signature | |
//! | --- | --- | --- |
//! | `os_abi` | `uint32_t ()` | [`ABI_VERSION`] |
//! | `os_new` | `void* (const char* params_toml)` | null if the library was built for other hardware |
//! | `os_eval` | `int32_t (void*, const Inputs*, Outputs*)` | drive the inputs, settle, read the outputs (0: ok) |
//! | `os_tick` | `int32_t (void*)` | one rising clock edge (0: ok) |
//! | `os_free` | `void (void*)` | |
//! | `os_fpga_new`, `os_fpga_cycle`, `os_fpga_free` | as above, over `SerialIn`/`SerialOut` | optional: the FPGA top |
//! | `os_uart_new`, `os_uart_cycle`, `os_uart_free` | as above, over `uint64_t rx` / `uint64_t* tx` | optional: the UART top |
//! | `os_verilog` | `int32_t (const char* params_toml, uint32_t which, char** text)` | optional: 0 `top.v`, 1 `fpga_top.v`, 2 `uart_top.v` |
//! | `os_string_free` | `void (char*)` | frees `os_verilog`'s text |
//!
//! A library is loaded once per process and never unloaded (a C++ model
//! has static state); [`load`] hands out shared references to it.

use crate::driver::{Inputs, Outputs, Pins};
use crate::fpga_top::{SerialIn, SerialOut, SerialPort};
use crate::uart_host::UartPins;
use crate::HwError;
use onespike_compiler::HwParams;
use std::collections::HashMap;
use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Version of the ABI above; a library that answers another is refused.
pub const ABI_VERSION: u32 = 2;

type AbiFn = unsafe extern "C" fn() -> u32;
type NewFn = unsafe extern "C" fn(*const c_char) -> *mut c_void;
type EvalFn = unsafe extern "C" fn(*mut c_void, *const Inputs, *mut Outputs) -> i32;
type TickFn = unsafe extern "C" fn(*mut c_void) -> i32;
type FreeFn = unsafe extern "C" fn(*mut c_void);
type CycleFn = unsafe extern "C" fn(*mut c_void, *const SerialIn, *mut SerialOut) -> i32;
type UartCycleFn = unsafe extern "C" fn(*mut c_void, u64, *mut u64) -> i32;
type VerilogFn = unsafe extern "C" fn(*const c_char, u32, *mut *mut c_char) -> i32;
type StringFreeFn = unsafe extern "C" fn(*mut c_char);

/// Which Verilog file [`RtlLibrary::verilog`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// `top.v`: the accelerator with its wide host port.
    Top = 0,
    /// `fpga_top.v`: the serial-host FPGA top.
    Fpga = 1,
    /// `uart_top.v`: the UART-host top.
    Uart = 2,
}

/// One loaded model library.
pub struct RtlLibrary {
    path: PathBuf,
    lib: libloading::Library,
}

fn lib_error(path: &Path, message: impl std::fmt::Display) -> HwError {
    HwError::Tool {
        tool: "model library".into(),
        file: path.display().to_string(),
        message: message.to_string(),
    }
}

type Loaded = Mutex<HashMap<PathBuf, Arc<RtlLibrary>>>;

fn registry() -> std::sync::MutexGuard<'static, HashMap<PathBuf, Arc<RtlLibrary>>> {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// The library at `path` if this process has loaded it.
pub fn loaded(path: &Path) -> Option<Arc<RtlLibrary>> {
    registry().get(path).cloned()
}

/// The library at `path`, loaded once per process.
pub fn load(path: &Path) -> Result<Arc<RtlLibrary>, HwError> {
    let mut loaded = registry();
    if let Some(l) = loaded.get(path) {
        return Ok(l.clone());
    }
    // SAFETY: the libraries loaded here are the ones this project builds
    // (crate::generated, onespike-verilator); their initializers only set
    // up the model's static state.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| lib_error(path, e))?;
    let l = RtlLibrary {
        path: path.to_path_buf(),
        lib,
    };
    let abi = unsafe { l.symbol::<AbiFn>("os_abi")?() };
    if abi != ABI_VERSION {
        return Err(lib_error(
            path,
            format!("built for model ABI {abi}, this build speaks {ABI_VERSION}: delete the file to rebuild it"),
        ));
    }
    let l = Arc::new(l);
    loaded.insert(path.to_path_buf(), l.clone());
    Ok(l)
}

impl RtlLibrary {
    /// The file this library was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// # Safety
    /// `T` must be the type of the symbol `name` in the ABI above.
    unsafe fn symbol<T: Copy>(&self, name: &str) -> Result<T, HwError> {
        let s: libloading::Symbol<T> = self
            .lib
            .get(name.as_bytes())
            .map_err(|e| lib_error(&self.path, e))?;
        Ok(*s)
    }

    fn params_text(p: &HwParams) -> CString {
        CString::new(p.to_toml()).expect("TOML text has no NUL byte")
    }

    /// A fresh object from the constructor `new` (freed by `free`) for
    /// `p`; the library stays loaded while it lives.
    fn instance(
        self: &Arc<Self>,
        new: &str,
        free: &str,
        p: &HwParams,
    ) -> Result<Instance, HwError> {
        // SAFETY: the symbols have the ABI's types; the handle is owned by
        // the returned value and freed once by its drop.
        unsafe {
            let make = self.symbol::<NewFn>(new)?;
            let free = self.symbol::<FreeFn>(free)?;
            let handle = make(Self::params_text(p).as_ptr());
            if handle.is_null() {
                return Err(lib_error(
                    &self.path,
                    format!("the library was not built for configuration `{}`", p.name),
                ));
            }
            Ok(Instance {
                handle,
                free,
                _lib: self.clone(),
            })
        }
    }

    /// A fresh accelerator model for `p`.
    pub fn model(self: &Arc<Self>, p: &HwParams) -> Result<DynModel, HwError> {
        // SAFETY: the symbols have the ABI's types.
        let (eval, tick) = unsafe {
            (
                self.symbol::<EvalFn>("os_eval")?,
                self.symbol::<TickFn>("os_tick")?,
            )
        };
        Ok(DynModel {
            it: self.instance("os_new", "os_free", p)?,
            eval,
            tick,
        })
    }

    /// A fresh serial-host FPGA top for `p`.
    pub fn serial(self: &Arc<Self>, p: &HwParams) -> Result<DynSerial, HwError> {
        // SAFETY: the symbol has the ABI's type.
        let cycle = unsafe { self.symbol::<CycleFn>("os_fpga_cycle")? };
        Ok(DynSerial {
            it: self.instance("os_fpga_new", "os_fpga_free", p)?,
            cycle,
        })
    }

    /// A new UART-host top (rust-hdl libraries only).
    pub fn uart(self: &Arc<Self>, p: &HwParams) -> Result<DynUart, HwError> {
        // SAFETY: the symbol has the ABI's type.
        let cycle = unsafe { self.symbol::<UartCycleFn>("os_uart_cycle")? };
        Ok(DynUart {
            it: self.instance("os_uart_new", "os_uart_free", p)?,
            cycle,
        })
    }

    /// The Verilog text the library's model was built from (rust-hdl
    /// libraries only).
    pub fn verilog(&self, p: &HwParams, which: Which) -> Result<String, HwError> {
        // SAFETY: the symbols have the ABI's types; the text is freed by
        // the library that allocated it.
        unsafe {
            let verilog = self.symbol::<VerilogFn>("os_verilog")?;
            let string_free = self.symbol::<StringFreeFn>("os_string_free")?;
            let mut text: *mut c_char = std::ptr::null_mut();
            let status = verilog(Self::params_text(p).as_ptr(), which as u32, &mut text);
            if status != 0 || text.is_null() {
                return Err(lib_error(
                    &self.path,
                    format!(
                        "exporting Verilog for `{}` failed (status {status})",
                        p.name
                    ),
                ));
            }
            let s = CStr::from_ptr(text).to_string_lossy().into_owned();
            string_free(text);
            Ok(s)
        }
    }
}

/// One object made by a library's constructor, freed on drop; it keeps
/// the library loaded.
struct Instance {
    handle: *mut c_void,
    free: FreeFn,
    _lib: Arc<RtlLibrary>,
}

// SAFETY: an instance is one heap object used by one thread at a time (its
// owners' methods take `&mut self`); nothing in it is tied to a thread.
unsafe impl Send for Instance {}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: the handle came from the constructor paired with `free`,
        // and is freed once.
        unsafe { (self.free)(self.handle) };
    }
}

/// An accelerator model from an [`RtlLibrary`].
pub struct DynModel {
    it: Instance,
    eval: EvalFn,
    tick: TickFn,
}

impl Pins for DynModel {
    fn eval(&mut self, inputs: &Inputs) -> Outputs {
        let mut out = Outputs::default();
        // SAFETY: live handle; #[repr(C)] structs of the ABI.
        let status = unsafe { (self.eval)(self.it.handle, inputs, &mut out) };
        assert_eq!(status, 0, "the loaded model failed to evaluate");
        out
    }

    fn tick(&mut self) {
        // SAFETY: as above.
        let status = unsafe { (self.tick)(self.it.handle) };
        assert_eq!(status, 0, "the loaded model failed on a clock edge");
    }
}

/// A serial-host FPGA top from an [`RtlLibrary`].
pub struct DynSerial {
    it: Instance,
    cycle: CycleFn,
}

impl SerialPort for DynSerial {
    fn cycle(&mut self, pins: &SerialIn) -> SerialOut {
        let mut out = SerialOut::default();
        // SAFETY: live handle; #[repr(C)] structs of the ABI.
        let status = unsafe { (self.cycle)(self.it.handle, pins, &mut out) };
        assert_eq!(status, 0, "the loaded FPGA top failed on a cycle");
        out
    }
}

/// A UART-host top from a library, behind [`UartPins`].
pub struct DynUart {
    it: Instance,
    cycle: UartCycleFn,
}

impl UartPins for DynUart {
    fn cycle(&mut self, rx: bool) -> bool {
        let mut tx = 1u64;
        // SAFETY: the handle is live; `tx` is a valid place.
        let status = unsafe { (self.cycle)(self.it.handle, rx as u64, &mut tx) };
        assert_eq!(status, 0, "the loaded UART top failed on a cycle");
        tx != 0
    }
}

/// The library side of the ABI for a rust-hdl model, which
/// [`crate::export_rtl_library!`] instantiates; not for other use.
#[doc(hidden)]
pub mod abi {
    use super::*;
    use crate::configs::Geometry;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    /// The parameters behind `toml`, if they describe geometry `g`.
    ///
    /// # Safety
    /// `toml` is null or a NUL-terminated string.
    unsafe fn params(toml: *const c_char, g: Geometry) -> Option<HwParams> {
        if toml.is_null() {
            return None;
        }
        let text = CStr::from_ptr(toml).to_str().ok()?;
        let p = HwParams::from_toml(text, "model library").ok()?;
        (p.geometry() == g).then_some(p)
    }

    /// # Safety
    /// As [`params`].
    pub unsafe fn new<M>(
        toml: *const c_char,
        g: Geometry,
        make: fn(&HwParams) -> M,
    ) -> *mut c_void {
        let Some(p) = params(toml, g) else {
            return std::ptr::null_mut();
        };
        match catch_unwind(|| make(&p)) {
            Ok(m) => Box::into_raw(Box::new(m)) as *mut c_void,
            Err(_) => std::ptr::null_mut(),
        }
    }

    /// # Safety
    /// `h` came from [`new`] with the same `M`; the pointers are valid.
    pub unsafe fn eval<M: Pins>(h: *mut c_void, i: *const Inputs, o: *mut Outputs) -> i32 {
        let m = &mut *(h as *mut M);
        match catch_unwind(AssertUnwindSafe(|| m.eval(&*i))) {
            Ok(out) => {
                *o = out;
                0
            }
            Err(_) => 1,
        }
    }

    /// # Safety
    /// As [`eval`].
    pub unsafe fn tick<M: Pins>(h: *mut c_void) -> i32 {
        let m = &mut *(h as *mut M);
        catch_unwind(AssertUnwindSafe(|| m.tick())).map_or(1, |_| 0)
    }

    /// # Safety
    /// `h` came from [`new`] with the same `M`, and is freed once.
    pub unsafe fn free<M>(h: *mut c_void) {
        drop(Box::from_raw(h as *mut M));
    }

    /// # Safety
    /// As [`eval`], over the serial pins.
    pub unsafe fn cycle<S: SerialPort>(
        h: *mut c_void,
        i: *const SerialIn,
        o: *mut SerialOut,
    ) -> i32 {
        let s = &mut *(h as *mut S);
        match catch_unwind(AssertUnwindSafe(|| s.cycle(&*i))) {
            Ok(out) => {
                *o = out;
                0
            }
            Err(_) => 1,
        }
    }

    /// # Safety
    /// As [`eval`], over the UART pins; `tx` is valid for a write.
    pub unsafe fn uart_cycle<U: UartPins>(h: *mut c_void, rx: u64, tx: *mut u64) -> i32 {
        let u = &mut *(h as *mut U);
        match catch_unwind(AssertUnwindSafe(|| u.cycle(rx != 0))) {
            Ok(out) => {
                *tx = out as u64;
                0
            }
            Err(_) => 1,
        }
    }

    /// # Safety
    /// As [`params`]; `out` is valid for a write.
    pub unsafe fn verilog(
        toml: *const c_char,
        g: Geometry,
        which: u32,
        out: *mut *mut c_char,
        top: fn(&HwParams) -> String,
        fpga: fn(&HwParams) -> String,
        uart: fn(&HwParams) -> String,
    ) -> i32 {
        let Some(p) = params(toml, g) else {
            return 1;
        };
        let text = match which {
            0 => catch_unwind(|| top(&p)),
            1 => catch_unwind(|| fpga(&p)),
            2 => catch_unwind(|| uart(&p)),
            _ => return 2,
        };
        match text.ok().and_then(|t| CString::new(t).ok()) {
            Some(c) => {
                *out = c.into_raw();
                0
            }
            None => 3,
        }
    }

    /// # Safety
    /// `s` came from [`verilog`].
    pub unsafe fn string_free(s: *mut c_char) {
        if !s.is_null() {
            drop(CString::from_raw(s));
        }
    }
}

/// The whole ABI for the rust-hdl model of geometry `$g` (a `const` of
/// type `onespike_compiler::params::Geometry`): the one line of source of a
/// library that [`crate::generated`] compiles.
#[macro_export]
macro_rules! export_rtl_library {
    ($g:expr) => {
        type __OsTop = $crate::top_of!($g);
        type __OsFpga = $crate::fpga_top_of!($g);
        type __OsModel = $crate::hdl_model::HdlModel<__OsTop>;
        type __OsSerial = $crate::fpga_top::HdlSerial<__OsFpga>;
        type __OsUartTop = $crate::uart_top_of!($g);
        type __OsUart = $crate::uart_host::HdlUart<__OsUartTop>;

        #[no_mangle]
        pub extern "C" fn os_abi() -> u32 {
            $crate::rtl_lib::ABI_VERSION
        }
        /// # Safety
        /// See `onespike_hw::rtl_lib`.
        #[no_mangle]
        pub unsafe extern "C" fn os_new(t: *const ::std::ffi::c_char) -> *mut ::std::ffi::c_void {
            $crate::rtl_lib::abi::new(t, $g, |p| __OsModel::new(p))
        }
        /// # Safety
        /// See `onespike_hw::rtl_lib`.
        #[no_mangle]
        pub unsafe extern "C" fn os_eval(
            h: *mut ::std::ffi::c_void,
            i: *const $crate::driver::Inputs,
            o: *mut $crate::driver::Outputs,
        ) -> i32 {
            $crate::rtl_lib::abi::eval::<__OsModel>(h, i, o)
        }
        /// # Safety
        /// See `onespike_hw::rtl_lib`.
        #[no_mangle]
        pub unsafe extern "C" fn os_tick(h: *mut ::std::ffi::c_void) -> i32 {
            $crate::rtl_lib::abi::tick::<__OsModel>(h)
        }
        /// # Safety
        /// See `onespike_hw::rtl_lib`.
        #[no_mangle]
        pub unsafe extern "C" fn os_free(h: *mut ::std::ffi::c_void) {
            $crate::rtl_lib::abi::free::<__OsModel>(h)
        }
        /// # Safety
        /// See `onespike_hw::rtl_lib`.
        #[no_mangle]
        pub unsafe extern "C" fn os_fpga_new(
            t: *const ::std::ffi::c_char,
        ) -> *mut ::std::ffi::c_void {
            $crate::rtl_lib::abi::new(t, $g, |p| __OsSerial::new(p))
        }
        /// # Safety
        /// See `onespike_hw::rtl_lib`.
        #[no_mangle]
        pub unsafe extern "C" fn os_fpga_cycle(
            h: *mut ::std::ffi::c_void,
            i: *const $crate::fpga_top::SerialIn,
            o: *mut $crate::fpga_top::SerialOut,
        ) -> i32 {
            $crate::rtl_lib::abi::cycle::<__OsSerial>(h, i, o)
        }
        /// # Safety
        /// See `onespike_hw::rtl_lib`.
        #[no_mangle]
        pub unsafe extern "C" fn os_fpga_free(h: *mut ::std::ffi::c_void) {
            $crate::rtl_lib::abi::free::<__OsSerial>(h)
        }
        /// # Safety
        /// See `onespike_hw::rtl_lib`.
        #[no_mangle]
        pub unsafe extern "C" fn os_verilog(
            t: *const ::std::ffi::c_char,
            which: u32,
            out: *mut *mut ::std::ffi::c_char,
        ) -> i32 {
            $crate::rtl_lib::abi::verilog(
                t,
                $g,
                which,
                out,
                |p| $crate::export::verilog_of(__OsTop::new(p)),
                |p| $crate::export::fpga_verilog_of(__OsFpga::new(p)),
                |p| $crate::export::uart_verilog_of(__OsUartTop::new(p)),
            )
        }
        /// # Safety
        /// See `onespike_hw::rtl_lib`.
        #[no_mangle]
        pub unsafe extern "C" fn os_uart_new(
            t: *const ::std::ffi::c_char,
        ) -> *mut ::std::ffi::c_void {
            $crate::rtl_lib::abi::new(t, $g, |p| __OsUart::new(p))
        }
        /// # Safety
        /// See `onespike_hw::rtl_lib`.
        #[no_mangle]
        pub unsafe extern "C" fn os_uart_cycle(
            h: *mut ::std::ffi::c_void,
            rx: u64,
            tx: *mut u64,
        ) -> i32 {
            $crate::rtl_lib::abi::uart_cycle::<__OsUart>(h, rx, tx)
        }
        /// # Safety
        /// See `onespike_hw::rtl_lib`.
        #[no_mangle]
        pub unsafe extern "C" fn os_uart_free(h: *mut ::std::ffi::c_void) {
            $crate::rtl_lib::abi::free::<__OsUart>(h)
        }
        /// # Safety
        /// See `onespike_hw::rtl_lib`.
        #[no_mangle]
        pub unsafe extern "C" fn os_string_free(s: *mut ::std::ffi::c_char) {
            $crate::rtl_lib::abi::string_free(s)
        }
    };
}
