//! Accuracy and activity of a quantized network under the integer
//! reference model, over a dataset split (parallel over images).

use crate::Split;
use onespike_compiler::reference::{RefError, ReferenceModel, RunOptions};
use onespike_compiler::{Decision, QuantNetwork};
use rayon::prelude::*;

/// Dataset-level results of the reference model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RefEval {
    pub images: usize,
    pub correct: usize,
    pub accuracy: f64,
    /// Images whose label neuron has the unique maximum spike count (Desire
    /// BP's rule, where a tie is wrong); `correct` breaks ties to the lowest
    /// index. Only `spike_count` networks count spikes: otherwise `correct`.
    pub unique_max_correct: usize,
    pub unique_max_accuracy: f64,
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
            model.run(&input, opt).map(|r| {
                let label = split.labels[k] as usize;
                let ok = r.class == label;
                let unique = if net.decision == Decision::SpikeCount {
                    let mut counts = vec![0u32; r.final_v.len()];
                    for s in r.spikes.output() {
                        if let Some(c) = counts.get_mut(s.neuron as usize) {
                            *c += 1;
                        }
                    }
                    let n = counts.get(label).copied();
                    n.is_some_and(|n| counts.iter().enumerate().all(|(j, &m)| j == label || m < n))
                } else {
                    ok
                };
                (ok, r.counts, r.steps_run, unique)
            })
        })
        .collect::<Result<_, _>>()?;
    let n = results.len().max(1) as f64;
    let correct = results.iter().filter(|r| r.0).count();
    let mut by_layer = vec![0f64; n_layers];
    let mut events = 0f64;
    let mut steps = 0f64;
    for (_, c, s, _) in &results {
        for (b, &k) in by_layer.iter_mut().zip(&c.spikes) {
            *b += k as f64;
        }
        events += c.synaptic_events.iter().sum::<u64>() as f64;
        steps += *s as f64;
    }
    let neurons: u32 = net.layers.iter().map(|l| l.outputs).sum();
    let total_spikes: f64 = by_layer.iter().sum();
    let unique_max_correct = results.iter().filter(|r| r.3).count();
    Ok(RefEval {
        images: results.len(),
        correct,
        accuracy: correct as f64 / n,
        unique_max_correct,
        unique_max_accuracy: unique_max_correct as f64 / n,
        spikes_per_neuron: total_spikes / n / neurons as f64,
        spikes_per_image_by_layer: by_layer.iter().map(|s| s / n).collect(),
        synaptic_events_per_image: events / n,
        steps_per_image: steps / n,
    })
}
