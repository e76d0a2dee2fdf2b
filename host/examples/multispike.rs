//! Writes two hand-built multi-spike networks (`onespike_train::templates`)
//! for the neuron modes: a Desire-BP-shaped rate-coded LIF network and the
//! same with a recurrent, laterally inhibiting hidden layer. Compile and
//! simulate them with the ordinary commands it prints.
//!
//! ```sh
//! cargo run --release -p onespike-host --example multispike -- --data default --out multispike
//! ```

use anyhow::Context;
use clap::Parser;
use onespike_train::templates::{lif_templates, wta_recurrent};
use std::path::PathBuf;

#[derive(Parser)]
struct Args {
    /// `default` (the embedded MNIST subset) or a folder of IDX files.
    #[arg(long, default_value = "default")]
    data: String,
    /// Folder to write the two float networks into.
    #[arg(long, default_value = "multispike")]
    out: PathBuf,
    /// Templates (hidden neurons) per class.
    #[arg(long, default_value_t = 4)]
    per_class: usize,
    /// Time steps of an inference (the rate code's window).
    #[arg(long, default_value_t = 20)]
    steps: u32,
    /// Lateral inhibition of the recurrent network, in thresholds.
    #[arg(long, default_value_t = 0.25)]
    inhibition: f32,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let data = onespike_dataset::load(&a.data)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let nets = [
        (
            "lif-templates.json",
            lif_templates(&data.train, a.per_class, a.steps)?,
        ),
        (
            "wta-recurrent.json",
            wta_recurrent(&data.train, a.per_class, a.steps, a.inhibition)?,
        ),
    ];
    for (name, net) in &nets {
        let path = a.out.join(name);
        net.save(&path)?;
        println!("wrote {}", path.display());
    }
    let d = a.out.display();
    println!("compile and simulate with:");
    for stem in ["lif-templates", "wta-recurrent"] {
        println!(
            "  onespike compile --model {d}/{stem}.json --config default --data {} -o {d}/{stem}-program.json",
            a.data
        );
        println!(
            "  onespike sim --model {d}/{stem}-program.json --data {} -o {d}/{stem}-report.json",
            a.data
        );
    }
    Ok(())
}
