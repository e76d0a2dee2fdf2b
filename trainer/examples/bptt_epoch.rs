//! Times BPTT (or TTFS) epochs of a recipe and prints the figures: the
//! mini-batch loop alone (`train_seconds`), the end-of-epoch evaluation,
//! images per second of training and the CPU seconds of the training
//! loop (user + system, all threads: steadier than wall time on a shared
//! machine). A measurement, not a test.
//!
//! ```text
//! cargo run --release -j1 -p onespike-train --example bptt_epoch -- \
//!     recipes/mnist-bptt.toml limit-train=2000 epochs=1 [key=value ...]
//! ```
//!
//! Keys are the recipe's (the `onespike train` flags without `--`). Nothing
//! is written; the weights start from the recipe's seed every run, so two
//! builds given the same arguments do the same work.

use onespike_train::report::EpochRecord;
use onespike_train::{Origin, Progress, Recipe, Trainer};
use std::path::Path;
use std::time::Instant;

struct Lines {
    images: usize,
    batches: usize,
    done: usize,
    cpu: [f64; 2],
}

/// This process's user + system CPU seconds (Linux: `/proc/self/stat`,
/// clock ticks of 1/100 s), or NaN elsewhere.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name (which ends with the last ')').
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    if f.len() == 2 {
        (f[0] + f[1]) / 100.0
    } else {
        f64::NAN
    }
}

impl Progress for Lines {
    fn epoch_start(&mut self, _epoch: usize, batches: usize) {
        self.batches = batches;
        self.done = 0;
        self.cpu[0] = cpu_seconds();
    }
    fn batch_done(&mut self) {
        self.done += 1;
        if self.done == self.batches {
            self.cpu[1] = cpu_seconds();
        }
    }
    fn epoch_end(&mut self, r: &EpochRecord) {
        println!(
            "epoch {:>3}: training {:.2} s ({:.0} images/s, {:.2} CPU s), evaluation {:.2} s, total {:.2} s; train {:.2}%, val float {:.2}% / hardware {:.2}%",
            r.epoch,
            r.train_seconds,
            self.images as f64 / r.train_seconds.max(1e-9),
            self.cpu[1] - self.cpu[0],
            r.epoch_seconds - r.train_seconds,
            r.epoch_seconds,
            100.0 * r.train_accuracy,
            100.0 * r.val_float_accuracy,
            100.0 * r.val_hw_accuracy,
        );
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        return Err("usage: bptt_epoch <recipe.toml> [key=value ...]".into());
    }
    let mut recipe = Recipe::load(Path::new(&args[0]))?;
    for kv in &args[1..] {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("`{kv}`: expected key=value"))?;
        recipe.set(k, v, Origin::Flag)?;
    }
    let config = recipe.finish()?;
    let mut trainer = Trainer::new(config)?;
    let started = Instant::now();
    let data = onespike_dataset::load(&recipe.data)?;
    let prepared = trainer.prepare(&data.train)?;
    let c = &trainer.config;
    println!(
        "{:?}, T = {}, batch {}, {} training / {} validation images, {} threads; data ready in {:.1} s",
        c.sizes,
        c.time_steps,
        c.batch_size,
        prepared.train.spikes.len(),
        prepared.val.spikes.len(),
        rayon::current_num_threads(),
        started.elapsed().as_secs_f64()
    );
    let mut lines = Lines {
        images: prepared.train.spikes.len(),
        batches: 0,
        done: 0,
        cpu: [0.0; 2],
    };
    let epochs = trainer.config.epochs;
    trainer.train(&prepared, epochs, &mut lines, None)?;
    let t: f64 = trainer.log.iter().map(|r| r.train_seconds).sum();
    println!(
        "training: {:.2} s over {} epochs, {:.2} s per epoch",
        t,
        trainer.log.len(),
        t / trainer.log.len().max(1) as f64
    );
    Ok(())
}
