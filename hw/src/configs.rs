//! The hardware configurations built into this crate. rust-hdl fixes every
//! width at compile time (const generics), so each supported `HwParams` is
//! one instantiation of [`crate::top::Top`] listed here, with its widths
//! written once in the `configs!` table and checked against `HwParams` at
//! construction (so a wrong line fails loudly, never silently).
//!
//! [`with_config!`] dispatches a generic body over the configuration that
//! matches a runtime `HwParams`.

use crate::HwError;
use onespike_compiler::HwParams;

/// The test configuration `tiny` (the compiler's preset of that name).
pub fn tiny_params() -> HwParams {
    HwParams::preset("tiny").expect("built-in preset")
}

/// The compiler's preset `tiny_narrow`: `tiny` with 10-bit current and
/// membrane, where saturation of `V` is reachable within a run.
pub fn tiny_narrow_params() -> HwParams {
    HwParams::preset("tiny_narrow").expect("built-in preset")
}

/// Parameters of each built-in configuration, by name.
pub fn supported_configs() -> Vec<HwParams> {
    let mut v = vec![tiny_params(), tiny_narrow_params()];
    for name in ["small", "default"] {
        v.push(HwParams::preset(name).expect("built-in preset"));
    }
    v
}

/// Name of the built-in configuration that builds `p`.
pub fn config_name(p: &HwParams) -> Result<&'static str, HwError> {
    let known = [
        ("tiny", tiny_params()),
        ("tiny_narrow", tiny_narrow_params()),
        ("small", HwParams::preset("small").unwrap()),
        ("default", HwParams::preset("default").unwrap()),
    ];
    for (name, q) in known {
        if p.same_hardware(&q) {
            return Ok(name);
        }
    }
    Err(HwError::UnsupportedConfig {
        name: p.name.clone(),
        known: "tiny, tiny_narrow, small, default".into(),
    })
}

/// Runs `$body` with `$T` bound to the `Top` type of the configuration
/// matching `$params` (an `&HwParams`); evaluates to `Result<_, HwError>`.
/// Table columns: NB CB PAB WAB WB IB VB SB SB1 SRCB SRCB1 FB FB1 PW WW.
#[macro_export]
macro_rules! with_config {
    ($params:expr, $T:ident => $body:expr) => {{
        match $crate::configs::config_name($params) {
            Ok("tiny") => {
                type $T = $crate::top::Top<3, 4, 5, 8, 8, 16, 24, 6, 7, 6, 7, 2, 3, 12, 11>;
                Ok($body)
            }
            Ok("tiny_narrow") => {
                type $T = $crate::top::Top<3, 4, 5, 8, 8, 10, 10, 6, 7, 6, 7, 2, 3, 12, 11>;
                Ok($body)
            }
            Ok("small") => {
                type $T = $crate::top::Top<6, 7, 8, 11, 8, 16, 20, 6, 7, 9, 10, 4, 5, 18, 14>;
                Ok($body)
            }
            Ok(_) => {
                type $T = $crate::top::Top<7, 8, 10, 15, 8, 18, 24, 8, 9, 12, 13, 6, 7, 23, 15>;
                Ok($body)
            }
            Err(e) => Err(e),
        }
    }};
}

/// Like [`with_config!`] for the serial-host [`crate::fpga_top::FpgaTop`]
/// (two more columns: the input and output vector widths IW, OW).
#[macro_export]
macro_rules! with_fpga_config {
    ($params:expr, $F:ident => $body:expr) => {{
        match $crate::configs::config_name($params) {
            Ok("tiny") => {
                type $F = $crate::fpga_top::FpgaTop<
                    3,
                    4,
                    5,
                    8,
                    8,
                    16,
                    24,
                    6,
                    7,
                    6,
                    7,
                    2,
                    3,
                    12,
                    11,
                    121,
                    78,
                >;
                Ok($body)
            }
            Ok("tiny_narrow") => {
                type $F = $crate::fpga_top::FpgaTop<
                    3,
                    4,
                    5,
                    8,
                    8,
                    10,
                    10,
                    6,
                    7,
                    6,
                    7,
                    2,
                    3,
                    12,
                    11,
                    121,
                    64,
                >;
                Ok($body)
            }
            Ok("small") => {
                type $F = $crate::fpga_top::FpgaTop<
                    6,
                    7,
                    8,
                    11,
                    8,
                    16,
                    20,
                    6,
                    7,
                    9,
                    10,
                    4,
                    5,
                    18,
                    14,
                    127,
                    77,
                >;
                Ok($body)
            }
            Ok(_) => {
                type $F = $crate::fpga_top::FpgaTop<
                    7,
                    8,
                    10,
                    15,
                    8,
                    18,
                    24,
                    8,
                    9,
                    12,
                    13,
                    6,
                    7,
                    23,
                    15,
                    133,
                    88,
                >;
                Ok($body)
            }
            Err(e) => Err(e),
        }
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
        }
    }

    #[test]
    fn an_unknown_config_is_refused_with_the_list() {
        let mut p = tiny_params();
        p.cores = 3;
        p.name = "mine".into();
        let e = config_name(&p).unwrap_err().to_string();
        assert!(
            e.contains("mine") && e.contains("tiny, tiny_narrow, small, default"),
            "{e}"
        );
    }
}
