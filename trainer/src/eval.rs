//! Evaluation of the network being trained: the float model on encoded
//! images ([`Trainer::float_eval`]), the quantized network on the integer
//! reference model at the configuration's widths
//! ([`Trainer::hardware_eval`]), and the final figures on the test split
//! ([`Trainer::final_report`]). Quantization is `compiler::quantize`
//! itself, so these are the figures `onespike compile` will see.

use crate::error::TrainError;
use crate::report::FinalReport;
use crate::trainer::{Encoded, Trainer};
use crate::ttfs::{self, TimeMode};
use onespike_compiler::quantize::quantize;
use onespike_compiler::reference::{RunOptions, Widths};
use onespike_dataset::{reference_eval, RefEval, Split};
use rayon::prelude::*;

/// Float-model results on a split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloatEval {
    pub accuracy: f64,
    pub spikes_per_neuron: f64,
}

impl Trainer {
    /// Evaluates the float network on encoded images (parallel, ordered).
    pub fn float_eval(&self, data: &Encoded, mode: TimeMode) -> FloatEval {
        if self.config.method.is_multispike() {
            return self.bptt_float_eval(data);
        }
        let view = self.view(self.eval_weights(), None, mode);
        let results: Vec<(bool, u32)> = (0..data.spikes.len())
            .into_par_iter()
            .map(|k| {
                let tr = ttfs::forward(&view, data.spikes[k].clone());
                let spikes = tr
                    .layers
                    .iter()
                    .map(|l| l.fired.iter().filter(|&&f| f).count() as u32)
                    .sum();
                (
                    ttfs::predict(&view, &tr) == data.split.labels[k] as usize,
                    spikes,
                )
            })
            .collect();
        let n = results.len().max(1) as f64;
        let neurons: u32 = self.config.sizes[1..].iter().sum();
        FloatEval {
            accuracy: results.iter().filter(|r| r.0).count() as f64 / n,
            spikes_per_neuron: results.iter().map(|r| r.1 as f64).sum::<f64>() / n / neurons as f64,
        }
    }

    /// Quantizes the current network for the hardware configuration and
    /// runs the integer reference model on `split`.
    pub fn hardware_eval(&self, split: &Split) -> Result<RefEval, TrainError> {
        self.hardware_eval_with(split, false)
    }

    /// [`Trainer::hardware_eval`], optionally with the hardware's early exit.
    pub fn hardware_eval_with(
        &self,
        split: &Split,
        early_exit: bool,
    ) -> Result<RefEval, TrainError> {
        let params = self.config.validate()?;
        let (q, _) = quantize(&self.network(), params.weight_bits)?;
        let opt = RunOptions {
            widths: Widths::from(&params),
            early_exit,
        };
        Ok(reference_eval(&q, split, opt)?)
    }

    /// Float and hardware figures of the current network on a test split.
    pub fn final_report(&self, test: &Split) -> Result<FinalReport, TrainError> {
        let params = self.config.validate()?;
        let enc = Encoded::new(test.clone(), &self.config.encoding());
        let fe = self.float_eval(&enc, self.config.mode);
        let bptt = self.config.method.is_multispike();
        // Multi-spike networks have no continuous-time model and no early
        // exit (the spike_count decision ignores it): those figures repeat.
        let fc = if bptt {
            fe
        } else {
            self.float_eval(&enc, TimeMode::Continuous)
        };
        let hw = self.hardware_eval(test)?;
        let early = if bptt {
            hw.clone()
        } else {
            self.hardware_eval_with(test, true)?
        };
        let (q, _) = quantize(&self.network(), params.weight_bits)?;
        // Feed-forward and recurrent synapses, as `synapse_count` counts.
        let total: usize = q
            .layers
            .iter()
            .map(|l| l.weights.len() + l.recurrent.as_ref().map_or(0, |r| r.len()))
            .sum();
        Ok(FinalReport {
            test_images: test.len(),
            test_float_accuracy: fe.accuracy,
            test_float_spikes_per_neuron: fe.spikes_per_neuron,
            test_float_continuous_accuracy: fc.accuracy,
            test_hw_accuracy: hw.accuracy,
            test_hw_unique_max_accuracy: hw.unique_max_accuracy,
            test_hw_spikes_per_neuron: hw.spikes_per_neuron,
            test_hw_spikes_per_image_by_layer: hw.spikes_per_image_by_layer,
            test_hw_early_exit_accuracy: early.accuracy,
            test_hw_early_exit_spikes_per_neuron: early.spikes_per_neuron,
            float_sparsity: self.network().sparsity(),
            hw_sparsity: 1.0 - q.synapse_count() as f64 / total.max(1) as f64,
            hw_config: params.name,
        })
    }
}
