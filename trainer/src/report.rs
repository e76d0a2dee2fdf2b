//! The training log: one record per epoch, written as CSV or JSON, and an
//! SVG plot of accuracy, spikes per neuron and sparsity per epoch.
//!
//! The plot is plain SVG written by hand (polylines and a few labels), so
//! it needs no font files and no system library.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// What one epoch measured. Accuracies are fractions in `[0, 1]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    pub learning_rate: f64,
    /// Weight of the spike-count term this epoch (annealed).
    pub count_weight: f64,
    /// Whether this epoch was quantization-aware (fake-quantized weights, hardware steps).
    pub quantization_aware: bool,
    pub train_loss: f64,
    pub train_cross_entropy: f64,
    pub train_accuracy: f64,
    pub val_images: usize,
    pub val_float_accuracy: f64,
    pub val_float_spikes_per_neuron: f64,
    pub val_hw_accuracy: f64,
    pub val_hw_spikes_per_neuron: f64,
    /// Fraction of absent synapses after this epoch's rewiring.
    pub sparsity: f64,
    /// Wall-clock seconds of the epoch, evaluation included.
    pub epoch_seconds: f64,
    /// Of those, the mini-batch loop alone (forward, backward, optimizer
    /// steps, rewiring), without the end-of-epoch evaluation; 0 in logs
    /// written before it was recorded.
    #[serde(default)]
    pub train_seconds: f64,
}

/// Final figures on the test split, after the last epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinalReport {
    pub test_images: usize,
    pub test_float_accuracy: f64,
    pub test_float_spikes_per_neuron: f64,
    /// The float network with spikes at their exact crossing times (no
    /// time steps): how much the hardware's time resolution costs.
    pub test_float_continuous_accuracy: f64,
    pub test_hw_accuracy: f64,
    /// The same under Desire BP's rule (the label's count is the unique
    /// maximum; a tie is wrong); `test_hw_accuracy` breaks ties to the
    /// lowest index. Equal for TTFS networks (first spike decides).
    pub test_hw_unique_max_accuracy: f64,
    pub test_hw_spikes_per_neuron: f64,
    /// Spikes of the hidden layers and of the output layer per image (hardware).
    pub test_hw_spikes_per_image_by_layer: Vec<f64>,
    /// The same network with the hardware's early exit (the inference ends
    /// at the step of the first output spike): same class, fewer spikes.
    pub test_hw_early_exit_accuracy: f64,
    pub test_hw_early_exit_spikes_per_neuron: f64,
    /// Fraction of absent synapses in the float network.
    pub float_sparsity: f64,
    /// Fraction of absent synapses after quantization (more round to zero).
    pub hw_sparsity: f64,
    pub hw_config: String,
}

/// The CSV header and one line per record.
pub fn to_csv(records: &[EpochRecord]) -> String {
    let mut s = String::from(
        "epoch,learning_rate,count_weight,quantization_aware,train_loss,train_cross_entropy,train_accuracy,\
         val_images,val_float_accuracy,val_float_spikes_per_neuron,val_hw_accuracy,val_hw_spikes_per_neuron,\
         sparsity,epoch_seconds,train_seconds\n",
    );
    for r in records {
        let _ = writeln!(
            s,
            "{},{},{},{},{:.6},{:.6},{:.6},{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.3},{:.3}",
            r.epoch,
            r.learning_rate,
            r.count_weight,
            r.quantization_aware,
            r.train_loss,
            r.train_cross_entropy,
            r.train_accuracy,
            r.val_images,
            r.val_float_accuracy,
            r.val_float_spikes_per_neuron,
            r.val_hw_accuracy,
            r.val_hw_spikes_per_neuron,
            r.sparsity,
            r.epoch_seconds,
            r.train_seconds
        );
    }
    s
}

/// A plot of the records: three panels side by side, each with its own
/// vertical scale (accuracy and sparsity 0..1, spikes 0..max).
pub fn to_svg(records: &[EpochRecord]) -> String {
    const PANEL_W: f64 = 300.0;
    const PANEL_H: f64 = 200.0;
    const PAD: f64 = 40.0;
    let width = 3.0 * (PANEL_W + PAD) + PAD;
    let height = PANEL_H + 2.0 * PAD;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let n = records.len().max(1);
    let spikes_max = records
        .iter()
        .flat_map(|r| [r.val_hw_spikes_per_neuron, r.val_float_spikes_per_neuron])
        .fold(1e-3f64, f64::max);
    type Series<'a> = (&'a str, &'a str, Box<dyn Fn(&EpochRecord) -> f64>);
    let panels: [(&str, f64, Vec<Series>); 3] = [
        (
            "validation accuracy",
            1.0,
            vec![
                (
                    "float",
                    "#1f77b4",
                    Box::new(|r: &EpochRecord| r.val_float_accuracy),
                ),
                (
                    "hardware",
                    "#d62728",
                    Box::new(|r: &EpochRecord| r.val_hw_accuracy),
                ),
                (
                    "train",
                    "#7f7f7f",
                    Box::new(|r: &EpochRecord| r.train_accuracy),
                ),
            ],
        ),
        (
            "spikes per neuron per sample",
            spikes_max,
            vec![
                (
                    "float",
                    "#1f77b4",
                    Box::new(|r: &EpochRecord| r.val_float_spikes_per_neuron),
                ),
                (
                    "hardware",
                    "#d62728",
                    Box::new(|r: &EpochRecord| r.val_hw_spikes_per_neuron),
                ),
            ],
        ),
        (
            "fraction of synapses pruned",
            1.0,
            vec![(
                "sparsity",
                "#2ca02c",
                Box::new(|r: &EpochRecord| r.sparsity),
            )],
        ),
    ];
    for (p, (title, y_max, series)) in panels.iter().enumerate() {
        let x0 = PAD + p as f64 * (PANEL_W + PAD);
        let y0 = PAD;
        let _ = writeln!(
            s,
            "<rect x=\"{x0}\" y=\"{y0}\" width=\"{PANEL_W}\" height=\"{PANEL_H}\" fill=\"none\" stroke=\"black\"/>\n\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{title}</text>\n\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{y_max:.3}</text>\n\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>\n\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">epoch (1..{n})</text>",
            x0 + PANEL_W / 2.0,
            y0 - 8.0,
            x0 - 3.0,
            y0 + 10.0,
            x0 - 3.0,
            y0 + PANEL_H,
            x0 + PANEL_W / 2.0,
            y0 + PANEL_H + 16.0
        );
        for (k, (name, colour, f)) in series.iter().enumerate() {
            let pts: Vec<String> = records
                .iter()
                .enumerate()
                .map(|(e, r)| {
                    let x = if n > 1 {
                        x0 + PANEL_W * e as f64 / (n - 1) as f64
                    } else {
                        x0 + PANEL_W / 2.0
                    };
                    let y = y0 + PANEL_H * (1.0 - (f(r) / y_max).clamp(0.0, 1.0));
                    format!("{x:.1},{y:.1}")
                })
                .collect();
            let _ = writeln!(
                s,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\n\
                 <text x=\"{}\" y=\"{}\" fill=\"{colour}\">{name}</text>",
                pts.join(" "),
                x0 + 6.0,
                y0 + PANEL_H - 8.0 - 14.0 * k as f64
            );
        }
    }
    s.push_str("</svg>\n");
    s
}
