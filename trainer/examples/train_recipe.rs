//! Trains a recipe with the library alone, for long experiment runs on a
//! machine where the full command line (which links the RTL crates) is not
//! built: the same options, data, network and log files as
//! `onespike train --recipe <file> -o <model.json> --checkpoint <ck.json>`,
//! with one line per epoch on stdout and the log rewritten after every
//! epoch (so a run that is stopped leaves its log so far).
//!
//! ```text
//! cargo run --example train_recipe -- <recipe.toml> <model.json> [key=value ...]
//! ```

use onespike_train::report::{self, EpochRecord};
use onespike_train::{Origin, Progress, Recipe, Trainer};
use std::path::{Path, PathBuf};

struct Lines {
    log: PathBuf,
    records: Vec<EpochRecord>,
}

impl Progress for Lines {
    fn epoch_end(&mut self, r: &EpochRecord) {
        println!(
            "epoch {:>3}: loss {:.4}, train {:.2}%, val float {:.2}% / hardware {:.2}%, {:.3} spikes/neuron (hw), {:.1} s{}",
            r.epoch,
            r.train_loss,
            100.0 * r.train_accuracy,
            100.0 * r.val_float_accuracy,
            100.0 * r.val_hw_accuracy,
            r.val_hw_spikes_per_neuron,
            r.epoch_seconds,
            if r.quantization_aware { " (quantization-aware)" } else { "" }
        );
        self.records.push(r.clone());
        if let Err(e) = std::fs::write(&self.log, report::to_csv(&self.records)) {
            eprintln!("cannot write {}: {e}", self.log.display());
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        return Err("usage: train_recipe <recipe.toml> <model.json> [key=value ...]".into());
    }
    let mut recipe = Recipe::load(Path::new(&args[0]))?;
    for kv in &args[2..] {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("`{kv}`: expected key=value"))?;
        recipe.set(k, v, Origin::Flag)?;
    }
    let out = PathBuf::from(&args[1]);
    let with = |s: &str| {
        let mut p = out.as_os_str().to_owned();
        p.push(s);
        PathBuf::from(p)
    };
    let config = recipe.finish()?;
    let ck = with(".ck.json");
    let mut trainer = if ck.is_file() {
        let t = Trainer::load_checkpoint(&ck)?;
        println!("resuming {} after epoch {}", ck.display(), t.epochs_done);
        t
    } else {
        Trainer::new(config)?
    };
    let data = onespike_dataset::load(&recipe.data)?;
    let prepared = trainer.prepare(&data.train)?;
    println!(
        "training {:?} on {} ({} training, {} validation images), {} epochs",
        trainer.config.sizes,
        data.name,
        prepared.train.spikes.len(),
        prepared.val.spikes.len(),
        trainer.config.epochs
    );
    let mut lines = Lines {
        log: with(".log.csv"),
        records: trainer.log.clone(),
    };
    let epochs = trainer.config.epochs;
    trainer.train(&prepared, epochs, &mut lines, Some(&ck))?;
    let fin = trainer.final_report(&data.test)?;
    println!(
        "test ({} images): float {:.2}%, hardware (`{}`) {:.2}%, {:.4} spikes/neuron/sample (hw)",
        fin.test_images,
        100.0 * fin.test_float_accuracy,
        fin.hw_config,
        100.0 * fin.test_hw_accuracy,
        fin.test_hw_spikes_per_neuron
    );
    let net = trainer.model(&prepared);
    net.validate("the trained network")?;
    onespike_compiler::ir::save_json(&out, &net)?;
    let json = serde_json::json!({
        "config": trainer.config,
        "epochs": trainer.log,
        "test": fin,
    });
    std::fs::write(with(".log.json"), serde_json::to_vec_pretty(&json)?)?;
    Ok(())
}
