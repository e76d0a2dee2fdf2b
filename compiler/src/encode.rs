//! Input encoding: a pixel becomes at most one spike (SPEC §2).
//!
//! A pixel `p` in `0..=255` stands for `x = p / 255`; it spikes at step
//! `round((1 - x) * (input_steps - 1))`, computed in integers with ties
//! rounded up (as `f64::round` does for these non-negative values). Pixels
//! at or below `cut` emit no spike, so `cut = 0` silences exactly `x = 0`.

use crate::ir::IrError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputEncoding {
    /// Number of input time levels (`T_in`): spikes fall in `0..input_steps`.
    pub input_steps: u32,
    /// Pixels `<= cut` emit no spike.
    pub cut: u8,
}

impl InputEncoding {
    /// `input_steps` levels, silencing only black (`0`) pixels.
    pub fn new(input_steps: u32) -> InputEncoding {
        InputEncoding {
            input_steps,
            cut: 0,
        }
    }

    pub fn validate(&self, origin: &str) -> Result<(), IrError> {
        if !(1..=65536).contains(&self.input_steps) {
            return Err(IrError::field(
                origin,
                "encoding.input_steps",
                format!("is {}, must be in 1..=65536", self.input_steps),
            ));
        }
        Ok(())
    }

    /// The spike step of one pixel, or `None` for no spike.
    pub fn pixel_step(&self, pixel: u8) -> Option<u32> {
        if pixel <= self.cut {
            return None;
        }
        let levels = self.input_steps as u64 - 1;
        let num = (255 - pixel as u64) * levels;
        // round(num / 255), ties up.
        Some(((2 * num + 255) / 510) as u32)
    }

    /// Spike steps of a whole image.
    pub fn encode(&self, pixels: &[u8]) -> Vec<Option<u32>> {
        pixels.iter().map(|&p| self.pixel_step(p)).collect()
    }

    /// The float pixel value `x` the trainer sees for pixel `p`.
    pub fn pixel_value(pixel: u8) -> f32 {
        pixel as f32 / 255.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_encoding_equals_the_float_formula() {
        for t_in in [1u32, 2, 3, 8, 16, 100, 256] {
            let e = InputEncoding::new(t_in);
            for p in 1..=255u8 {
                let x = p as f64 / 255.0;
                let want = ((1.0 - x) * (t_in as f64 - 1.0)).round() as u32;
                assert_eq!(e.pixel_step(p), Some(want), "T_in {t_in} pixel {p}");
            }
        }
    }

    #[test]
    fn brightest_is_first_and_black_is_silent() {
        let e = InputEncoding::new(8);
        assert_eq!(e.pixel_step(255), Some(0));
        assert_eq!(e.pixel_step(1), Some(7));
        assert_eq!(e.pixel_step(0), None);
        let cut = InputEncoding {
            input_steps: 8,
            cut: 50,
        };
        assert_eq!(cut.pixel_step(50), None);
        assert!(cut.pixel_step(51).is_some());
    }
}
