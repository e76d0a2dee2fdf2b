//! Accuracy and activity of a quantized network under the integer
//! reference model, over a dataset split (parallel over images).

use crate::Split;
use onespike_compiler::reference::{RefError, ReferenceModel, RunOptions};
use onespike_compiler::QuantNetwork;
use rayon::prelude::*;

/// Dataset-level results of the reference model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RefEval {
    pub images: usize,
    pub correct: usize,
    pub accuracy: f64,
    /// Mean spikes per neuron per image, hidden and output layers together.
    pub spikes_per_neuron: f64,
    /// Mean spikes per image, per layer.
    pub spikes_per_image_by_layer: Vec<f64>,
    /// Mean synaptic events (`I += w`) per image.
    pub synaptic_events_per_image: f64,
    /// Mean steps run per image.
    pub steps_per_image: f64,
}

/// Runs the reference model on every image of `split`.
pub fn reference_eval(
    net: &QuantNetwork,
    split: &Split,
    opt: RunOptions,
) -> Result<RefEval, RefError> {
    let model = ReferenceModel::new(net);
    let n_layers = net.layers.len();
    let results: Vec<_> = (0..split.len())
        .into_par_iter()
        .map(|k| {
            let input = net.encoding.encode(split.image(k));
            model
                .run(&input, opt)
                .map(|r| (r.class == split.labels[k] as usize, r.counts, r.steps_run))
        })
        .collect::<Result<_, _>>()?;
    let n = results.len().max(1) as f64;
    let correct = results.iter().filter(|r| r.0).count();
    let mut by_layer = vec![0f64; n_layers];
    let mut events = 0f64;
    let mut steps = 0f64;
    for (_, c, s) in &results {
        for (b, &k) in by_layer.iter_mut().zip(&c.spikes) {
            *b += k as f64;
        }
        events += c.synaptic_events.iter().sum::<u64>() as f64;
        steps += *s as f64;
    }
    let neurons: u32 = net.layers.iter().map(|l| l.outputs).sum();
    let total_spikes: f64 = by_layer.iter().sum();
    Ok(RefEval {
        images: results.len(),
        correct,
        accuracy: correct as f64 / n,
        spikes_per_neuron: total_spikes / n / neurons as f64,
        spikes_per_image_by_layer: by_layer.iter().map(|s| s / n).collect(),
        synaptic_events_per_image: events / n,
        steps_per_image: steps / n,
    })
}
