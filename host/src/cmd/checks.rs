//! Checks every subcommand runs before any long work: a network against
//! the hardware configuration and against memory, a dataset against the
//! network. Each refusal names the flag or file, the field and the limit.

use anyhow::bail;
use onespike_compiler::fit::{self, NetShape};
use onespike_compiler::{Coding, HwParams, InputEncoding};
use onespike_dataset::{Dataset, Split};

/// Bytes the trainer holds per weight: the weights, Adam's two moments,
/// the mask, the gradient buffers of its chunks, the weight average, and
/// the saved network with its JSON text.
pub const TRAIN_BYTES_PER_WEIGHT: u64 = 48;

/// Memory the system can still give (`MemAvailable` of /proc/meminfo).
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// Refuses, before any allocation, a network to train that no
/// configuration can hold, or whose training state does not fit in memory
/// (`arch` names where the sizes come from, e.g. `--arch`).
pub fn check_trainable(
    arch: &str,
    sizes: &[u32],
    sparsity: f64,
    time_steps: u32,
) -> anyhow::Result<()> {
    let shape = NetShape::planned(sizes, 1.0 - sparsity, time_steps);
    if let Err(why) = fit::check_buildable(&shape) {
        bail!("{arch} {}: {why}", shape.arch());
    }
    let weights: u64 = sizes.windows(2).map(|w| w[0] as u64 * w[1] as u64).sum();
    let need = weights.saturating_mul(TRAIN_BYTES_PER_WEIGHT);
    if let Some(have) = available_memory() {
        if need > have {
            bail!(
                "{arch} {}: {weights} weights need about {} to train ({TRAIN_BYTES_PER_WEIGHT} bytes each), {} of memory is available: make the layers smaller",
                shape.arch(),
                gib(need),
                gib(have)
            );
        }
    }
    Ok(())
}

/// Refuses a network that does not fit `params` (`what` says where the
/// network comes from), with the binding limit and a fix.
pub fn check_fits(shape: &NetShape, params: &HwParams, what: &str) -> anyhow::Result<()> {
    if let Some(d) = fit::diagnose(shape, params, None) {
        bail!("{what}: {}", d.message(params));
    }
    Ok(())
}

/// Refuses a dataset whose images do not have the `input_size` pixels of
/// `network` (before any of them is run).
pub fn check_data(
    data: &Dataset,
    flag: &str,
    input_size: u32,
    network: &str,
) -> anyhow::Result<()> {
    check_data_encoded(data, flag, &InputEncoding::new(1), input_size, network)
}

/// As [`check_data`], for a network whose `encoding` may take other image
/// shapes (row-sequential images, bias channels).
pub fn check_data_encoded(
    data: &Dataset,
    flag: &str,
    encoding: &InputEncoding,
    input_size: u32,
    network: &str,
) -> anyhow::Result<()> {
    for (name, split) in [("training", &data.train), ("test", &data.test)] {
        check_split(split, &data.name, name, flag, encoding, input_size, network)?;
    }
    Ok(())
}

fn check_split(
    split: &Split,
    dataset: &str,
    name: &str,
    flag: &str,
    encoding: &InputEncoding,
    input_size: u32,
    network: &str,
) -> anyhow::Result<()> {
    if Some(split.image_size() as u64) != encoding.pixels_per_image(input_size) {
        bail!(
            "{flag} {dataset}: the {name} images are {}x{} = {} pixels, but {network} takes {}",
            split.rows,
            split.cols,
            split.image_size(),
            image_shape(encoding, input_size)
        );
    }
    Ok(())
}

/// What images a network of `input_size` channels under `encoding` takes,
/// in words.
pub fn image_shape(encoding: &InputEncoding, input_size: u32) -> String {
    let pixels = encoding.pixel_channels(input_size).unwrap_or(0);
    let bias = if encoding.bias_channels > 0 {
        format!(" (input_size = {input_size}, {} of them bias channels)", encoding.bias_channels)
    } else {
        format!(" (input_size = {input_size})")
    };
    match encoding.coding {
        Coding::Rows => format!(
            "{} rows of {pixels} pixels = {} pixels{bias}",
            encoding.input_steps,
            pixels as u64 * encoding.input_steps as u64
        ),
        _ => format!("{pixels} pixels{bias}"),
    }
}
