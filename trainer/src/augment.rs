//! Pixel-level data augmentation: small random affine distortions
//! (rotation, scaling, translation, mirroring) of a training image, applied
//! before the image is encoded into spikes.
//!
//! Integer translations and mirroring alone are exact on the spike list
//! (`SpikeList::shifted`, `SpikeList::mirrored`); a rotation or scaling moves
//! pixels off the grid, so the image is resampled (bilinear, black outside)
//! and encoded again. The distortion of every image is drawn from the
//! epoch's seeded generator, so runs stay deterministic and resumable.

/// One image's distortion, about the image centre: the output pixel at
/// `p` takes the input at `S^-1 R(-angle) (p - c - shift) + c`, where `S`
/// scales by `scale` and mirrors `x` when `mirror` is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// Rotation, radians (counter-clockwise in image coordinates).
    pub angle: f32,
    /// Scale factor (1 = unchanged).
    pub scale: f32,
    /// Translation in pixels (columns, rows).
    pub dx: f32,
    pub dy: f32,
    /// Mirror left-right.
    pub mirror: bool,
}

impl Affine {
    pub const IDENTITY: Affine = Affine {
        angle: 0.0,
        scale: 1.0,
        dx: 0.0,
        dy: 0.0,
        mirror: false,
    };
}

/// Resamples a `rows x cols` grey image under `a` (bilinear interpolation,
/// black beyond the border), rounding to the nearest grey level.
pub fn warp(pixels: &[u8], rows: usize, cols: usize, a: &Affine) -> Vec<u8> {
    debug_assert_eq!(pixels.len(), rows * cols);
    let (cy, cx) = ((rows as f32 - 1.0) / 2.0, (cols as f32 - 1.0) / 2.0);
    let (sin, cos) = a.angle.sin_cos();
    let inv_scale = 1.0 / a.scale;
    let at = |r: i64, c: i64| -> f32 {
        if r < 0 || c < 0 || r >= rows as i64 || c >= cols as i64 {
            0.0
        } else {
            pixels[r as usize * cols + c as usize] as f32
        }
    };
    let mut out = vec![0u8; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            // Undo the translation, then the rotation, then the scale.
            let x = c as f32 - cx - a.dx;
            let y = r as f32 - cy - a.dy;
            let xr = (cos * x + sin * y) * inv_scale;
            let yr = (-sin * x + cos * y) * inv_scale;
            let sx = if a.mirror { -xr } else { xr } + cx;
            let sy = yr + cy;
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            let (x0, y0) = (x0 as i64, y0 as i64);
            let v = (1.0 - fy) * ((1.0 - fx) * at(y0, x0) + fx * at(y0, x0 + 1))
                + fy * ((1.0 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
            out[r * cols + c] = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> Vec<u8> {
        (0..5 * 7).map(|i| (i * 7 % 256) as u8).collect()
    }

    #[test]
    fn identity_keeps_the_image() {
        let img = image();
        assert_eq!(warp(&img, 5, 7, &Affine::IDENTITY), img);
    }

    #[test]
    fn integer_shift_and_mirror_move_pixels_exactly() {
        let img = image();
        let shifted = warp(
            &img,
            5,
            7,
            &Affine {
                dx: 2.0,
                dy: -1.0,
                ..Affine::IDENTITY
            },
        );
        for r in 0..5 {
            for c in 0..7 {
                let (sr, sc) = (r as i64 + 1, c as i64 - 2);
                let want = if (0..5).contains(&sr) && (0..7).contains(&sc) {
                    img[sr as usize * 7 + sc as usize]
                } else {
                    0
                };
                assert_eq!(shifted[r * 7 + c], want, "({r}, {c})");
            }
        }
        let mirrored = warp(
            &img,
            5,
            7,
            &Affine {
                mirror: true,
                ..Affine::IDENTITY
            },
        );
        for r in 0..5 {
            for c in 0..7 {
                assert_eq!(mirrored[r * 7 + c], img[r * 7 + 6 - c]);
            }
        }
    }

    #[test]
    fn quarter_turn_rotates_a_square_image() {
        // On a square grid a 90-degree turn maps pixels onto pixels.
        let img: Vec<u8> = (0..25).map(|i| i as u8 * 10).collect();
        let a = Affine {
            angle: std::f32::consts::FRAC_PI_2,
            ..Affine::IDENTITY
        };
        let out = warp(&img, 5, 5, &a);
        let mut want = out.clone();
        for r in 0..5 {
            for c in 0..5 {
                // Output (r, c) reads the input at x' = y, y' = -x about the centre.
                let (x, y) = (c as i64 - 2, r as i64 - 2);
                want[r * 5 + c] = img[((-x) + 2) as usize * 5 + (y + 2) as usize];
            }
        }
        assert_eq!(out, want);
        // Four quarter turns give the image back.
        let mut back = img.clone();
        for _ in 0..4 {
            back = warp(&back, 5, 5, &a);
        }
        assert_eq!(back, img);
    }

    #[test]
    fn scaling_up_spreads_the_centre() {
        let mut img = vec![0u8; 49];
        img[3 * 7 + 3] = 200;
        let out = warp(
            &img,
            7,
            7,
            &Affine {
                scale: 2.0,
                ..Affine::IDENTITY
            },
        );
        assert_eq!(out[3 * 7 + 3], 200);
        // A neighbour half-way to the next source pixel gets half the value.
        assert_eq!(out[3 * 7 + 4], 100);
        assert_eq!(out[0], 0);
    }
}
