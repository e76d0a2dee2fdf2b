//! The record of the training images a trainer held out, and the check
//! that a dataset still has exactly those images.
//!
//! A network file carries a [`HeldOut`]: which images of the training
//! split were held out for validation, and a CRC-32 of their content.
//! Anything that measures the trained network on "unseen" training images
//! (`compile --choose-time-steps`) takes exactly those, through [`images`],
//! which refuses a dataset whose split or content differs instead of
//! measuring on images the network was trained on.

use crate::Split;
pub use onespike_compiler::HeldOut;

/// Why a dataset does not hold a network's held-out images.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeldOutError {
    #[error(
        "the network held out training images {first}..{end} of a training split of {expected} images, but this one has {found}",
        end = first + count
    )]
    SplitSize {
        first: usize,
        count: usize,
        expected: usize,
        found: usize,
    },
    #[error(
        "training images {first}..{end} differ from the ones the network held out (CRC-32 {found:08x}, recorded {expected:08x}): another dataset or another order",
        end = first + count
    )]
    Content {
        first: usize,
        count: usize,
        expected: u32,
        found: u32,
    },
}

/// CRC-32 of a split's pixels, then its labels.
pub fn fingerprint(split: &Split) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&split.pixels);
    h.update(&split.labels);
    h.finalize()
}

/// The record of images `first .. first + count` of `train` held out.
pub fn record(train: &Split, first: usize, count: usize) -> HeldOut {
    HeldOut {
        train_images: train.len(),
        first,
        count,
        crc32: fingerprint(&train.range(first, count)),
    }
}

/// The held-out images of `held` in `train`, if `train` has exactly them.
pub fn images(train: &Split, held: &HeldOut) -> Result<Split, HeldOutError> {
    if train.len() != held.train_images {
        return Err(HeldOutError::SplitSize {
            first: held.first,
            count: held.count,
            expected: held.train_images,
            found: train.len(),
        });
    }
    let s = train.range(held.first, held.count);
    let found = fingerprint(&s);
    if found != held.crc32 {
        return Err(HeldOutError::Content {
            first: held.first,
            count: held.count,
            expected: held.crc32,
            found,
        });
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(n: usize) -> Split {
        Split {
            rows: 2,
            cols: 2,
            pixels: (0..4 * n).map(|i| (i * 7 % 251) as u8).collect(),
            labels: (0..n).map(|i| (i % 10) as u8).collect(),
        }
    }

    #[test]
    fn the_recorded_images_come_back_and_nothing_else_passes() {
        let train = split(50);
        let h = record(&train, 40, 10);
        assert_eq!(images(&train, &h).unwrap(), train.last(10));
        // Another split size.
        let e = images(&split(60), &h).unwrap_err();
        assert!(
            e.to_string().contains("40..50") && e.to_string().contains("60"),
            "{e}"
        );
        // Same size, one label changed inside the range.
        let mut other = train.clone();
        other.labels[45] = (other.labels[45] + 1) % 10;
        assert!(matches!(
            images(&other, &h),
            Err(HeldOutError::Content { .. })
        ));
        // A change outside the range is not the network's business.
        let mut outside = train.clone();
        outside.pixels[0] ^= 1;
        assert!(images(&outside, &h).is_ok());
    }
}
