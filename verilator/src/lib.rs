//! onespike-verilator: the exported Verilog of the accelerator, compiled by
//! Verilator into a C++ model and driven from Rust one clock cycle per FFI
//! call, behind `onespike_hw::Pins` — so `onespike_hw::Driver` (and any
//! later testbench or simulator benchmark) runs it exactly like the rust-hdl
//! model.
//!
//! Any configuration has a model: on first use, the configuration's
//! Verilog (`onespike_hw::export`, which compiles the rust-hdl RTL of a
//! configuration that is not built in) is verilated (`verilator --cc -O3`),
//! compiled with a small C++ shim at `-O3` into a shared library that
//! speaks `onespike_hw::rtl_lib`'s ABI, and loaded. The library is cached
//! under `onespike_hw::generated::cache_dir()/verilator/`, keyed by a hash
//! of the Verilog text, the shim and the Verilator version, so a changed
//! design gets a new model and an unchanged one is built once per machine.
//!
//! Must not depend on: `sim`, `host`. Tests: `tests/` (the FPGA top); the
//! accelerator's models meet the other backends in the regression.

pub mod testbench;

use onespike_compiler::HwParams;
use onespike_hw::driver::{Inputs, Outputs, Pins};
use onespike_hw::fpga_top::{SerialIn, SerialOut, SerialPort};
use onespike_hw::rtl_lib::{DynModel, DynSerial, RtlLibrary, Which};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum VerilatorError {
    #[error("Verilator is not installed (apt-get install verilator)")]
    NotInstalled,
    #[error("ONESPIKE_NO_VERILATOR is set: the Verilator backend is switched off")]
    Disabled,
    #[error("building the Verilator model of `{config}` in {dir}: {message}")]
    Build {
        config: String,
        dir: String,
        message: String,
    },
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Hw(#[from] onespike_hw::HwError),
}

/// Whether Verilator models can be built here: `verilator` runs and
/// `ONESPIKE_NO_VERILATOR` is unset.
pub fn available() -> bool {
    why_unavailable().is_none()
}

fn why_unavailable() -> Option<VerilatorError> {
    if std::env::var_os("ONESPIKE_NO_VERILATOR").is_some() {
        return Some(VerilatorError::Disabled);
    }
    if !onespike_hw::export::tool_available("verilator") {
        return Some(VerilatorError::NotInstalled);
    }
    None
}

/// The skip policy of every test that runs the Verilated models (the
/// regression, this crate's tests): `true` where they can be built (a
/// failing build then fails the test); where Verilator is missing or
/// switched off (`ONESPIKE_NO_VERILATOR`), a loud skip, except under CI,
/// where it fails (`onespike_hw::export::tool_for_tests`).
pub fn models_for_tests() -> bool {
    if std::env::var_os("ONESPIKE_NO_VERILATOR").is_some() {
        assert!(
            std::env::var_os("CI").is_none(),
            "ONESPIKE_NO_VERILATOR is set under CI: the Verilator tests must run there"
        );
        eprintln!("SKIPPED: ONESPIKE_NO_VERILATOR is set; the Verilator checks did not run");
        return false;
    }
    onespike_hw::export::tool_for_tests("verilator")
}

/// One Verilated accelerator instance.
pub struct VerilatorModel(DynModel);

impl VerilatorModel {
    /// A fresh model of configuration `p` (any configuration; the first
    /// use on this machine builds it).
    pub fn new(p: &HwParams) -> Result<VerilatorModel, VerilatorError> {
        Ok(VerilatorModel(library(p, Which::Top)?.model(p)?))
    }
}

impl Pins for VerilatorModel {
    fn eval(&mut self, inputs: &Inputs) -> Outputs {
        self.0.eval(inputs)
    }
    fn tick(&mut self) {
        self.0.tick()
    }
}

/// One Verilated serial-host FPGA top (`fpga_top.v`).
pub struct VerilatorFpga(DynSerial);

impl VerilatorFpga {
    /// A fresh FPGA top of configuration `p`, built on first use.
    pub fn new(p: &HwParams) -> Result<VerilatorFpga, VerilatorError> {
        Ok(VerilatorFpga(library(p, Which::Fpga)?.serial(p)?))
    }
}

impl SerialPort for VerilatorFpga {
    fn cycle(&mut self, pins: &SerialIn) -> SerialOut {
        self.0.cycle(pins)
    }
}

/// One Verilated UART-host top (`uart_top.v`).
pub struct VerilatorUart(onespike_hw::rtl_lib::DynUart);

impl VerilatorUart {
    /// A fresh UART top of configuration `p`, built on first use.
    pub fn new(p: &HwParams) -> Result<VerilatorUart, VerilatorError> {
        Ok(VerilatorUart(library(p, Which::Uart)?.uart(p)?))
    }
}

impl onespike_hw::uart_host::UartPins for VerilatorUart {
    fn cycle(&mut self, rx: bool) -> bool {
        self.0.cycle(rx)
    }
}

impl VerilatorFpga {
    /// The gate-level netlist of the FPGA top of `p` as Yosys synthesizes
    /// it for the iCE40 (`synth_ice40`, then `write_verilog -noattr`),
    /// Verilated with Yosys' iCE40 cell library (`ice40/cells_sim.v`): LUTs,
    /// carries, flip-flops and block RAMs as the FPGA has them. Built on
    /// first use (the netlist and the model are cached). `device` is
    /// nextpnr's device name: an UltraPlus part (`up5k`) puts the weight
    /// SRAMs in `SB_SPRAM256KA` cells, as its bitstream does
    /// ([`onespike_hw::synth::synth_ice40_script`]).
    pub fn gate_level(p: &HwParams, device: &str) -> Result<VerilatorFpga, VerilatorError> {
        let text = gate_level_text(p, device)?;
        let lib = cached_build_with(
            p,
            "fpga_gate",
            &text,
            &shim(Which::Fpga),
            Link::Library,
            &[
                "--top-module",
                onespike_hw::export::FPGA_TOP_MODULE,
                "-Wno-lint",
                "-Wno-style",
            ],
        )?;
        Ok(VerilatorFpga(onespike_hw::rtl_lib::load(&lib)?.serial(p)?))
    }
}

/// Yosys' iCE40 cell library: `$YOSYS_DATDIR/ice40/cells_sim.v`, else the
/// usual install folders.
fn ice40_cells() -> Result<String, VerilatorError> {
    let dirs = std::env::var_os("YOSYS_DATDIR")
        .map(PathBuf::from)
        .into_iter()
        .chain(["/usr/share/yosys", "/usr/local/share/yosys"].map(PathBuf::from));
    for d in dirs {
        if let Ok(t) = std::fs::read_to_string(d.join("ice40/cells_sim.v")) {
            return Ok(t);
        }
    }
    Err(VerilatorError::Unavailable(
        "Yosys' iCE40 cell library (ice40/cells_sim.v) was not found: install yosys, or set YOSYS_DATDIR".into(),
    ))
}

/// The gate-level netlist of `p`'s FPGA top and the cell library, as one
/// Verilog text; the netlist is cached by the RTL's text.
fn gate_level_text(p: &HwParams, device: &str) -> Result<String, VerilatorError> {
    let rtl = onespike_hw::export::fpga_verilog(p)?;
    let synth =
        onespike_hw::synth::synth_ice40_script(onespike_hw::export::FPGA_TOP_MODULE, device);
    let yosys = Command::new("yosys")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .map_err(|e| VerilatorError::Unavailable(format!("yosys does not run: {e}")))?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (&rtl, &yosys, &synth).hash(&mut h);
    let dir = onespike_hw::generated::cache_dir()
        .join("verilator")
        .join("netlists");
    let file = dir.join(format!("{:016x}.v", h.finish()));
    let netlist = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(_) => {
            std::fs::create_dir_all(&dir)
                .map_err(|e| VerilatorError::Unavailable(e.to_string()))?;
            let tmp = dir.join(format!(".{}-{:016x}", std::process::id(), h.finish()));
            std::fs::create_dir_all(&tmp)
                .map_err(|e| VerilatorError::Unavailable(e.to_string()))?;
            let (src, out) = (tmp.join("fpga_top.v"), tmp.join("gate.v"));
            std::fs::write(&src, &rtl).map_err(|e| VerilatorError::Unavailable(e.to_string()))?;
            eprintln!(
                "synthesizing `{}` with Yosys for its gate-level netlist, once for this design",
                p.name
            );
            let script = format!("{synth}; write_verilog -noattr {}", out.display());
            run(Command::new("yosys").args(["-q", "-p", &script]).arg(&src)).map_err(
                |message| VerilatorError::Build {
                    config: p.name.clone(),
                    dir: tmp.display().to_string(),
                    message,
                },
            )?;
            let t = std::fs::read_to_string(&out)
                .map_err(|e| VerilatorError::Unavailable(e.to_string()))?;
            let _ = std::fs::rename(&out, &file);
            let _ = std::fs::remove_dir_all(&tmp);
            t
        }
    };
    Ok(format!(
        "`define NO_ICE40_DEFAULT_ASSIGNMENTS\n{netlist}\n{}",
        ice40_cells()?
    ))
}

const INPUTS: &[&str] = &[
    "reset",
    "start",
    "cfg_we",
    "cfg_core",
    "cfg_region",
    "cfg_index",
    "cfg_data",
    "in_valid",
    "in_source",
    "in_step",
    "in_end",
    "out_ready",
    "vread_core",
    "vread_addr",
];
const OUTPUTS: &[&str] = &[
    "done",
    "running",
    "cycles",
    "step",
    "in_ready",
    "out_valid",
    "out_source",
    "out_step",
    "vread_data",
];
const SERIAL_INPUTS: &[&str] = &["reset", "sdi", "shift", "apply", "capture"];
const SERIAL_OUTPUTS: &[&str] = &["sdo", "done", "out_valid", "in_pending"];

/// The C++ shim over the Verilated class `Vtop`: `onespike_hw::rtl_lib`'s
/// ABI, with `struct` fields in the order of the `#[repr(C)]` pin structs.
fn shim(which: Which) -> String {
    let fields = |names: &[&str]| -> String {
        names
            .iter()
            .map(|n| format!("    uint64_t {n};\n"))
            .collect()
    };
    let sets = |names: &[&str]| -> String {
        names
            .iter()
            .map(|n| format!("    m->{n} = in->{n};\n"))
            .collect()
    };
    let gets = |names: &[&str]| -> String {
        names
            .iter()
            .map(|n| format!("    out->{n} = (uint64_t)m->{n};\n"))
            .collect()
    };
    let head = format!(
        r#"// Generated by onespike-verilator: onespike_hw::rtl_lib's C ABI over a Verilated model.
#include "Vtop.h"
#include "verilated.h"
#include <cstdint>

extern "C" {{
uint32_t os_abi() {{ return {abi}; }}
"#,
        abi = onespike_hw::rtl_lib::ABI_VERSION
    );
    let new_free = |prefix: &str| {
        format!(
            r#"void* os_{prefix}new(const char*) {{
    Vtop* m = new Vtop;
    m->clock = 0;
    m->eval();
    return m;
}}
void os_{prefix}free(void* h) {{
    Vtop* m = static_cast<Vtop*>(h);
    m->final();
    delete m;
}}
"#
        )
    };
    let body = match which {
        Which::Top => format!(
            r#"struct OsInputs {{
{in_fields}}};
struct OsOutputs {{
{out_fields}}};
{new_free}int32_t os_eval(void* h, const OsInputs* in, OsOutputs* out) {{
    Vtop* m = static_cast<Vtop*>(h);
{sets}    m->clock = 0;
    m->eval();
{gets}    return 0;
}}
int32_t os_tick(void* h) {{
    Vtop* m = static_cast<Vtop*>(h);
    m->clock = 1;
    m->eval();
    m->clock = 0;
    m->eval();
    return 0;
}}
"#,
            in_fields = fields(INPUTS),
            out_fields = fields(OUTPUTS),
            new_free = new_free(""),
            sets = sets(INPUTS),
            gets = gets(OUTPUTS),
        ),
        // One call is one clock cycle: drive, settle, sample, rising edge.
        Which::Fpga => format!(
            r#"struct OsSerialIn {{
{in_fields}}};
struct OsSerialOut {{
{out_fields}}};
{new_free}int32_t os_fpga_cycle(void* h, const OsSerialIn* in, OsSerialOut* out) {{
    Vtop* m = static_cast<Vtop*>(h);
{sets}    m->clock = 0;
    m->eval();
{gets}    m->clock = 1;
    m->eval();
    m->clock = 0;
    m->eval();
    return 0;
}}
"#,
            in_fields = fields(SERIAL_INPUTS),
            out_fields = fields(SERIAL_OUTPUTS),
            new_free = new_free("fpga_"),
            sets = sets(SERIAL_INPUTS),
            gets = gets(SERIAL_OUTPUTS),
        ),
        Which::Uart => format!(
            r#"{new_free}int32_t os_uart_cycle(void* h, uint64_t rx, uint64_t* tx) {{
    Vtop* m = static_cast<Vtop*>(h);
    m->reset = 0;
    m->rx = rx;
    m->clock = 0;
    m->eval();
    *tx = (uint64_t)m->tx;
    m->clock = 1;
    m->eval();
    m->clock = 0;
    m->eval();
    return 0;
}}
"#,
            new_free = new_free("uart_"),
        ),
    };
    format!("{head}{body}}}\n")
}

fn verilator_version() -> String {
    Command::new("verilator")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The loaded model library of `p` (`top.v` or `fpga_top.v`), built first
/// if this machine has none for exactly this Verilog.
pub fn library(p: &HwParams, which: Which) -> Result<Arc<RtlLibrary>, VerilatorError> {
    if let Some(e) = why_unavailable() {
        return Err(e);
    }
    // The Verilog depends on the geometry only: export it once per process.
    type Libraries = Mutex<std::collections::HashMap<(String, u32), Arc<RtlLibrary>>>;
    static LIBRARIES: std::sync::OnceLock<Libraries> = std::sync::OnceLock::new();
    // The UART top's Verilog also depends on its clocks per bit.
    let key = (
        format!(
            "{}-{}",
            onespike_hw::generated::geometry_key(p),
            if which == Which::Uart {
                p.uart_clocks_per_bit()
            } else {
                0
            }
        ),
        which as u32,
    );
    let libraries = LIBRARIES.get_or_init(Default::default);
    if let Some(l) = libraries
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
    {
        return Ok(l.clone());
    }
    let l = build_library(p, which)?;
    libraries
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, l.clone());
    Ok(l)
}

fn build_library(p: &HwParams, which: Which) -> Result<Arc<RtlLibrary>, VerilatorError> {
    let text = match which {
        Which::Top => onespike_hw::export::verilog(p)?,
        Which::Fpga => onespike_hw::export::fpga_verilog(p)?,
        Which::Uart => onespike_hw::export::uart_verilog(p)?,
    };
    let kind = match which {
        Which::Top => "top",
        Which::Fpga => "fpga_top",
        Which::Uart => "uart_top",
    };
    let lib = cached_build(p, kind, &text, &shim(which), Link::Library)?;
    Ok(onespike_hw::rtl_lib::load(&lib)?)
}

/// What a build links: a shared library for the ABI, or a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Link {
    Library,
    Program,
}

impl Link {
    fn file_name(self) -> String {
        match self {
            Link::Library => format!(
                "{}model{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            ),
            Link::Program => format!("testbench{}", std::env::consts::EXE_SUFFIX),
        }
    }
}

/// The file built from the Verilog `text` and the C++ `driver` (a shim or a
/// testbench) under the cache's `verilator/<kind>-<hash>/`, building it
/// first if this machine has none for exactly these inputs.
pub(crate) fn cached_build(
    p: &HwParams,
    kind: &str,
    text: &str,
    driver: &str,
    link: Link,
) -> Result<PathBuf, VerilatorError> {
    cached_build_with(p, kind, text, driver, link, &[])
}

/// [`cached_build`] with more arguments for `verilator` (a top module).
pub(crate) fn cached_build_with(
    p: &HwParams,
    kind: &str,
    text: &str,
    driver: &str,
    link: Link,
    verilator_args: &[&str],
) -> Result<PathBuf, VerilatorError> {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (text, driver, link, verilator_version()).hash(&mut h);
    if !verilator_args.is_empty() {
        verilator_args.hash(&mut h);
    }
    let root = onespike_hw::generated::cache_dir().join("verilator");
    let dir = root.join(format!("{kind}-{:016x}", h.finish()));
    let out = dir.join(link.file_name());
    if !out.exists() {
        static BUILDING: Mutex<()> = Mutex::new(());
        let _one_at_a_time = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
        if !out.exists() {
            eprintln!(
                "verilating `{}` ({kind}) into {}, once for this design",
                p.name,
                dir.display()
            );
            build(text, driver, &root, &dir, link, verilator_args).map_err(|message| {
                VerilatorError::Build {
                    config: p.name.clone(),
                    dir: dir.display().to_string(),
                    message,
                }
            })?;
        }
    }
    Ok(out)
}

/// Verilates `text` and compiles it with `driver` into `dir`, building in
/// a private folder that is renamed into place when complete (so a reader
/// never sees half a model).
fn build(
    text: &str,
    driver: &str,
    root: &Path,
    dir: &Path,
    link: Link,
    verilator_args: &[&str],
) -> Result<(), String> {
    let tmp = root.join(format!(
        ".build-{}-{}",
        std::process::id(),
        dir.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let result = build_in(text, driver, &tmp, link, verilator_args);
    let result = result.and_then(|()| match std::fs::rename(&tmp, dir) {
        Ok(()) => Ok(()),
        // Another process finished the same model first: use that one.
        Err(_) if dir.join(link.file_name()).exists() => Ok(()),
        Err(e) => Err(format!("moving {} into place: {e}", tmp.display())),
    });
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = text.lines().rev().take(30).collect();
    Err(format!(
        "{:?} failed:\n{}",
        cmd.get_program(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    ))
}

fn build_in(
    text: &str,
    driver: &str,
    tmp: &Path,
    link: Link,
    verilator_args: &[&str],
) -> Result<(), String> {
    let top = tmp.join("top.v");
    std::fs::write(&top, text).map_err(|e| format!("{}: {e}", top.display()))?;
    std::fs::write(tmp.join("shim.cpp"), driver).map_err(|e| e.to_string())?;
    let obj = tmp.join("obj");
    run(Command::new("verilator")
        .args(["--cc", "-O3", "-Wno-fatal", "--prefix", "Vtop"])
        .args(verilator_args)
        .arg("--Mdir")
        .arg(&obj)
        .arg(&top))?;
    let root = Command::new("verilator")
        .args(["--getenv", "VERILATOR_ROOT"])
        .output()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .map_err(|e| format!("verilator --getenv VERILATOR_ROOT: {e}"))?;
    let include = root.join("include");
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&obj)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "cpp"))
        .collect();
    sources.sort();
    sources.push(tmp.join("shim.cpp"));
    sources.push(include.join("verilated.cpp"));
    sources.push(include.join("verilated_threads.cpp"));
    let cxx = std::env::var_os("CXX").unwrap_or_else(|| "c++".into());
    // Compile the files on every core, then link.
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let objects: Vec<PathBuf> = (0..sources.len())
        .map(|k| tmp.join(format!("{k}.o")))
        .collect();
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.min(sources.len()) {
            s.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(src) = sources.get(k) else { break };
                let r = run(Command::new(&cxx)
                    .args(["-std=c++17", "-O3", "-fPIC", "-w", "-c"])
                    .arg("-I")
                    .arg(&obj)
                    .arg("-I")
                    .arg(&include)
                    .arg("-I")
                    .arg(include.join("vltstd"))
                    .arg(src)
                    .arg("-o")
                    .arg(&objects[k]));
                if let Err(e) = r {
                    errors.lock().unwrap().push(e);
                }
            });
        }
    });
    if let Some(e) = errors.into_inner().unwrap().into_iter().next() {
        return Err(e);
    }
    let mut cmd = Command::new(&cxx);
    match link {
        Link::Library => cmd.args(["-shared", "-pthread", "-Wl,-Bsymbolic", "-o"]),
        Link::Program => cmd.args(["-O3", "-pthread", "-o"]),
    };
    run(cmd.arg(tmp.join(link.file_name())).args(&objects))
}
