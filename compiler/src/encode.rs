//! Input encoding: how a pixel becomes input spikes (`docs/semantics.md`,
//! "Inputs").
//!
//! - `latency` (the default): a pixel `p` in `0..=255` stands for
//!   `x = p / 255`; it spikes once, at step `round((1 - x) * (input_steps - 1))`,
//!   computed in integers with ties rounded up (as `f64::round` does for these
//!   non-negative values).
//! - `rate`: a deterministic integrate-and-fire encoder, `acc += p` at each
//!   step `0..input_steps`, a spike when `acc >= 255`, then `acc -= 255`:
//!   about `p * input_steps / 255` evenly spaced spikes.
//!
//! - `rows`: row-sequential images (the temporal task of recurrent layers):
//!   step `t` carries row `t`, one channel per column, and a pixel above
//!   `cut` spikes; `input_steps` is the number of rows.
//!
//! In all three, pixels at or below `cut` emit no spike, so `cut = 0`
//! silences exactly `x = 0`.
//!
//! `bias_channels` extra channels, after the pixel channels, spike at every
//! step `0..input_steps`: how a constant input (an imported network's bias)
//! reaches the hardware, which has no bias term (SPEC §2b).

use crate::ir::IrError;
use crate::spikes::Spike;
use serde::{Deserialize, Serialize};

/// How pixel values become spikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coding {
    /// One spike per pixel, brighter is earlier.
    #[default]
    Latency,
    /// Integrate-and-fire rate code, brighter is more spikes.
    Rate,
    /// Row-sequential: step `t` is row `t`; a pixel above `cut` spikes.
    Rows,
}

impl Coding {
    pub fn is_latency(&self) -> bool {
        *self == Coding::Latency
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputEncoding {
    /// Number of input time levels (`T_in`): spikes fall in `0..input_steps`.
    pub input_steps: u32,
    /// Pixels `<= cut` emit no spike.
    pub cut: u8,
    /// Latency (default; absent from files) or rate.
    #[serde(default, skip_serializing_if = "Coding::is_latency")]
    pub coding: Coding,
    /// Channels after the pixel channels that spike at every step
    /// `0..input_steps` (default 0; absent from files).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub bias_channels: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl InputEncoding {
    /// `input_steps` latency levels, silencing only black (`0`) pixels.
    pub fn new(input_steps: u32) -> InputEncoding {
        InputEncoding {
            input_steps,
            cut: 0,
            coding: Coding::Latency,
            bias_channels: 0,
        }
    }

    /// A rate code over `input_steps` steps, silencing only black pixels.
    pub fn rate(input_steps: u32) -> InputEncoding {
        InputEncoding {
            coding: Coding::Rate,
            ..InputEncoding::new(input_steps)
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

    /// A row-sequential code over `rows` rows, a pixel above `cut` spiking.
    pub fn rows(rows: u32, cut: u8) -> InputEncoding {
        InputEncoding {
            coding: Coding::Rows,
            cut,
            ..InputEncoding::new(rows)
        }
    }

    /// The pixel channels of a network with `input_size` input channels
    /// (the rest are bias channels), or `None` if it has no room for them.
    pub fn pixel_channels(&self, input_size: u32) -> Option<u32> {
        input_size
            .checked_sub(self.bias_channels)
            .filter(|&c| c > 0)
    }

    /// How many pixels an image for a network of `input_size` channels has:
    /// one per pixel channel, or for `rows` one row per step.
    pub fn pixels_per_image(&self, input_size: u32) -> Option<u64> {
        let c = self.pixel_channels(input_size)? as u64;
        Some(match self.coding {
            Coding::Rows => c * self.input_steps as u64,
            _ => c,
        })
    }

    /// The latency-code spike step of one pixel, or `None` for no spike.
    pub fn pixel_step(&self, pixel: u8) -> Option<u32> {
        if pixel <= self.cut {
            return None;
        }
        let levels = self.input_steps as u64 - 1;
        let num = (255 - pixel as u64) * levels;
        // round(num / 255), ties up.
        Some(((2 * num + 255) / 510) as u32)
    }

    /// The rate-code spike steps of one pixel.
    pub fn rate_steps(&self, pixel: u8) -> impl Iterator<Item = u32> + '_ {
        let p = if pixel <= self.cut { 0 } else { pixel as u32 };
        let mut acc = 0u32;
        (0..self.input_steps).filter(move |_| {
            acc += p;
            if acc >= 255 {
                acc -= 255;
                true
            } else {
                false
            }
        })
    }

    /// The input events of a whole image, sorted by step, then channel.
    pub fn encode(&self, pixels: &[u8]) -> Vec<Spike> {
        let mut ev: Vec<Spike> = match self.coding {
            Coding::Latency => pixels
                .iter()
                .enumerate()
                .filter_map(|(c, &p)| {
                    self.pixel_step(p).map(|step| Spike {
                        step,
                        neuron: c as u32,
                    })
                })
                .collect(),
            Coding::Rate => pixels
                .iter()
                .enumerate()
                .flat_map(|(c, &p)| {
                    self.rate_steps(p).map(move |step| Spike {
                        step,
                        neuron: c as u32,
                    })
                })
                .collect(),
            Coding::Rows => {
                let width = pixels.len() / self.input_steps.max(1) as usize;
                pixels
                    .iter()
                    .enumerate()
                    .filter(|&(_, &p)| p > self.cut)
                    .filter(|&(k, _)| width > 0 && k < width * self.input_steps as usize)
                    .map(|(k, _)| Spike {
                        step: (k / width) as u32,
                        neuron: (k % width) as u32,
                    })
                    .collect()
            }
        };
        let channels = match self.coding {
            Coding::Rows => pixels.len() / self.input_steps.max(1) as usize,
            _ => pixels.len(),
        } as u32;
        for step in 0..self.input_steps {
            for b in 0..self.bias_channels {
                ev.push(Spike {
                    step,
                    neuron: channels + b,
                });
            }
        }
        ev.sort_unstable();
        ev
    }

    /// Latency-code spike steps of a whole image, one per pixel (`None`
    /// for a silent pixel); what the TTFS trainer reads.
    pub fn latency_steps(&self, pixels: &[u8]) -> Vec<Option<u32>> {
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
            cut: 50,
            ..InputEncoding::new(8)
        };
        assert_eq!(cut.pixel_step(50), None);
        assert!(cut.pixel_step(51).is_some());
    }

    #[test]
    fn rate_code_counts_and_spacing() {
        let e = InputEncoding::rate(20);
        // 255 spikes every step; 128 about every other step; 0 never.
        assert_eq!(e.rate_steps(255).count(), 20);
        let half: Vec<u32> = e.rate_steps(128).collect();
        assert_eq!(half.len(), 10);
        assert_eq!(&half[..3], &[1, 3, 5]);
        assert_eq!(e.rate_steps(0).count(), 0);
        for p in 0..=255u8 {
            let n = e.rate_steps(p).count() as u32;
            assert_eq!(n, p as u32 * 20 / 255, "pixel {p}");
        }
        let ev = e.encode(&[255, 0, 128]);
        assert_eq!(ev.len(), 30);
        assert!(ev.windows(2).all(|w| w[0] <= w[1]));
    }
}
