//! The hardware configurations built into this crate. rust-hdl fixes every
//! width at compile time (const generics), so each built-in configuration
//! is one instantiation of [`crate::top::Top`] (and of
//! [`crate::fpga_top::FpgaTop`]). There is one list of them, the
//! compiler's [`PRESET_TABLE`]: every row is instantiated, with each
//! const-generic argument computed at compile time from the row's
//! [`Geometry`] by [`RtlWidths::of`] (the same `const fn`s `HwParams`
//! answers with at run time: rust-hdl's `{ clog2(N) }` idiom). Nothing
//! here writes a width or a preset name down.
//!
//! [`with_config!`] dispatches a generic body over the configuration that
//! matches a runtime `HwParams`; a configuration that is not a row of the
//! table is refused with the list ([`config_name`]).

use crate::fpga_top::{fields_width, input_fields, output_fields};
use crate::HwError;
use onespike_compiler::layout::{self, PointerEntry, WeightEntry};
pub use onespike_compiler::params::{Geometry, PRESETS, PRESET_TABLE};
use onespike_compiler::HwParams;

/// The const-generic arguments of [`crate::top::Top`] and
/// [`crate::fpga_top::FpgaTop`] for one geometry (see [`crate::core::Core`]
/// for what each is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtlWidths {
    pub nb: usize,
    pub cb: usize,
    pub pab: usize,
    pub wab: usize,
    pub wb: usize,
    pub ib: usize,
    pub vb: usize,
    pub sb: usize,
    pub sb1: usize,
    pub srcb: usize,
    pub srcb1: usize,
    pub fb: usize,
    pub fb1: usize,
    pub pw: usize,
    pub ww: usize,
    pub iw: usize,
    pub ow: usize,
}

impl RtlWidths {
    /// Every width, from the geometry and the word layouts.
    pub const fn of(g: &Geometry) -> RtlWidths {
        let sb = g.step_bits as usize;
        let srcb = g.source_bits() as usize;
        let fb = g.fifo_addr_bits() as usize;
        RtlWidths {
            nb: g.neuron_bits() as usize,
            cb: g.count_bits() as usize,
            pab: g.pointer_addr_bits() as usize,
            wab: g.weight_addr_bits() as usize,
            wb: g.weight_bits as usize,
            ib: g.current_bits as usize,
            vb: g.membrane_bits as usize,
            sb,
            sb1: sb + 1,
            srcb,
            srcb1: srcb + 1,
            fb,
            fb1: fb + 1,
            pw: layout::fields_width(&PointerEntry::fields(g)) as usize,
            ww: layout::fields_width(&WeightEntry::fields(g)) as usize,
            iw: fields_width(&input_fields(g)),
            ow: fields_width(&output_fields(g)),
        }
    }
}

/// The rows [`with_config!`] instantiates: all of them. A row added to the
/// table without an index here fails to compile.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_built_in_rows {
    ($m:ident ! ($($a:tt)*)) => {
        $crate::$m!($($a)* [0 1 2 3 4])
    };
}
const _: () = assert!(
    PRESET_TABLE.len() == 5,
    "instantiate every row of PRESET_TABLE in __with_built_in_rows!"
);

/// The test configuration `tiny` (the compiler's preset of that name).
pub fn tiny_params() -> HwParams {
    HwParams::preset("tiny").expect("built-in preset")
}

/// The compiler's preset `tiny_narrow`: `tiny` with 10-bit current and
/// membrane, where saturation of `V` is reachable within a run.
pub fn tiny_narrow_params() -> HwParams {
    HwParams::preset("tiny_narrow").expect("built-in preset")
}

/// Parameters of each built-in configuration, in the table's order.
pub fn supported_configs() -> Vec<HwParams> {
    PRESETS
        .iter()
        .map(|n| HwParams::preset(n).expect("built-in preset"))
        .collect()
}

/// Row of [`PRESET_TABLE`] whose hardware `p` is (name and clock aside).
pub fn built_in_row(p: &HwParams) -> Result<usize, HwError> {
    let g = p.geometry();
    PRESET_TABLE
        .iter()
        .position(|r| r.geometry == g)
        .ok_or_else(|| HwError::UnsupportedConfig {
            name: p.name.clone(),
            known: PRESETS.join(", "),
        })
}

/// Name of the built-in configuration that builds `p`.
pub fn config_name(p: &HwParams) -> Result<&'static str, HwError> {
    Ok(PRESET_TABLE[built_in_row(p)?].name)
}

#[doc(hidden)]
#[macro_export]
macro_rules! __dispatch {
    ($row:expr, $T:ident, $ty:ident, $body:expr, [$($i:literal)*]) => {
        match $row {
            $(Ok($i) => {
                type $T = $crate::$ty!($i);
                Ok($body)
            })*
            Ok(_) => unreachable!("every row of PRESET_TABLE is instantiated (checked at compile time)"),
            Err(e) => Err(e),
        }
    };
}

/// `$crate::$m::$t<...>` with each listed [`RtlWidths`] field of the
/// geometry `$g` as a const-generic argument.
#[doc(hidden)]
#[macro_export]
macro_rules! __of_geometry {
    ($m:ident :: $t:ident, $g:expr, [$($f:ident)*]) => {
        $crate::$m::$t<$({ $crate::configs::RtlWidths::of(&$g).$f },)*>
    };
}

/// `Top` built for the geometry `$g` (a const expression of type
/// [`Geometry`]): every const-generic argument is [`RtlWidths::of`] it.
#[macro_export]
macro_rules! top_of {
    ($g:expr) => {
        $crate::__of_geometry!(top::Top, $g, [nb cb pab wab wb ib vb sb sb1 srcb srcb1 fb fb1 pw ww])
    };
}

/// [`crate::fpga_top::FpgaTop`] built for the geometry `$g`.
#[macro_export]
macro_rules! fpga_top_of {
    ($g:expr) => {
        $crate::__of_geometry!(fpga_top::FpgaTop, $g, [nb cb pab wab wb ib vb sb sb1 srcb srcb1 fb fb1 pw ww iw ow])
    };
}

/// [`crate::uart::UartTop`] built for the geometry `$g`.
#[macro_export]
macro_rules! uart_top_of {
    ($g:expr) => {
        $crate::__of_geometry!(uart::UartTop, $g, [nb cb pab wab wb ib vb sb sb1 srcb srcb1 fb fb1 pw ww iw ow])
    };
}

/// `UartTop` of row `$i` of the preset table.
#[doc(hidden)]
#[macro_export]
macro_rules! __uart_top_of_row {
    ($i:literal) => {
        $crate::uart_top_of!($crate::configs::PRESET_TABLE[$i].geometry)
    };
}

/// `Top` of row `$i` of the preset table.
#[doc(hidden)]
#[macro_export]
macro_rules! __top_of_row {
    ($i:literal) => {
        $crate::top_of!($crate::configs::PRESET_TABLE[$i].geometry)
    };
}

/// `FpgaTop` of row `$i` of the preset table.
#[doc(hidden)]
#[macro_export]
macro_rules! __fpga_top_of_row {
    ($i:literal) => {
        $crate::fpga_top_of!($crate::configs::PRESET_TABLE[$i].geometry)
    };
}

/// Runs `$body` with `$T` bound to the `Top` type of the configuration
/// matching `$params` (an `&HwParams`); evaluates to `Result<_, HwError>`.
#[macro_export]
macro_rules! with_config {
    ($params:expr, $T:ident => $body:expr) => {{
        let row = $crate::configs::built_in_row($params);
        $crate::__with_built_in_rows!(__dispatch!(row, $T, __top_of_row, $body,))
    }};
}

/// Like [`with_config!`] for the serial-host [`crate::fpga_top::FpgaTop`].
#[macro_export]
macro_rules! with_fpga_config {
    ($params:expr, $F:ident => $body:expr) => {{
        let row = $crate::configs::built_in_row($params);
        $crate::__with_built_in_rows!(__dispatch!(row, $F, __fpga_top_of_row, $body,))
    }};
}

/// Like [`with_config!`] for the UART-host [`crate::uart::UartTop`].
#[macro_export]
macro_rules! with_uart_config {
    ($params:expr, $U:ident => $body:expr) => {{
        let row = $crate::configs::built_in_row($params);
        $crate::__with_built_in_rows!(__dispatch!(row, $U, __uart_top_of_row, $body,))
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_config_constructs() {
        for p in supported_configs() {
            with_config!(&p, T => { let _ = T::new(&p); }).unwrap();
            with_fpga_config!(&p, F => { let _ = F::new(&p); }).unwrap();
            with_uart_config!(&p, U => { let _ = U::new(&p); }).unwrap();
        }
    }

    #[test]
    fn the_widths_are_the_ones_the_blocks_check() {
        // Pinned for `default` (what the hand-written table held).
        let w = RtlWidths::of(&HwParams::preset("default").unwrap().geometry());
        assert_eq!(
            [
                w.nb, w.cb, w.pab, w.wab, w.wb, w.ib, w.vb, w.sb, w.sb1, w.srcb, w.srcb1, w.fb,
                w.fb1, w.pw, w.ww, w.iw, w.ow
            ],
            [7, 8, 10, 15, 8, 18, 24, 8, 9, 12, 13, 6, 7, 23, 15, 133, 88]
        );
    }

    #[test]
    fn an_unknown_config_is_refused_with_the_list() {
        let mut p = tiny_params();
        p.cores = 3;
        p.name = "mine".into();
        let e = config_name(&p).unwrap_err().to_string();
        assert!(
            e.contains("mine") && e.contains("default, small, up5k, tiny, tiny_narrow"),
            "{e}"
        );
        // Name and clock do not matter; the hardware does.
        p.cores = 4;
        p.clock_mhz = 12.0;
        assert_eq!(config_name(&p).unwrap(), "tiny");
    }
}
