//! The compile pipeline as one library call per stage, so that the CLI
//! (`onespike compile`, `onespike run`) only parses arguments and prints:
//! retime a TTFS network to a step count the step counter holds
//! ([`retime_for`]), choose the step count from measured accuracy
//! ([`choose_time_steps`]), and quantize, check the fit, measure activity
//! and map ([`compile`]).
//!
//! Data stays outside: activity is measured on input events the caller
//! encodes, and accuracy comes from an evaluation the caller passes (the
//! CLI runs the reference model over a dataset in parallel), so this module
//! knows neither datasets nor threads.

use crate::ir::{FloatNetwork, IrError, QuantNetwork};
use crate::program::{MapError, Program};
use crate::quantize::{quantize, retime, QuantReport};
use crate::reference::{RefError, RunOptions, Widths};
use crate::report::MapReport;
use crate::spikes::Spike;
use crate::{map_balanced, measure_activity, HwParams};

/// Why a pipeline stage refused.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("--time-steps {asked} is more than the step counter holds: step_bits = {step_bits} allows {max} steps (raise step_bits or ask for fewer steps)")]
    TooManySteps {
        asked: u32,
        step_bits: u32,
        max: u32,
    },
    #[error("the network runs {steps} steps, more than step_bits = {step_bits} allows ({max} steps): retrain with fewer steps or raise step_bits")]
    TrainedTooLong {
        steps: u32,
        step_bits: u32,
        max: u32,
    },
    #[error("--steps-tolerance {0}: must be in [0, 100) percentage points")]
    Tolerance(f64),
    #[error("quantizing: {0}")]
    Quantize(IrError),
    #[error("retiming: {0}")]
    Retime(IrError),
    #[error("mapping onto cores: {0}")]
    Map(#[from] MapError),
    #[error("measuring activity: {0}")]
    Activity(RefError),
    #[error("evaluating {steps} steps: {message}")]
    Eval { steps: u32, message: String },
}

/// `net` retimed to `time_steps`, checked against the step counter.
pub fn retime_for(
    net: &FloatNetwork,
    params: &HwParams,
    time_steps: u32,
) -> Result<FloatNetwork, PipelineError> {
    if time_steps > params.max_time_steps() {
        return Err(PipelineError::TooManySteps {
            asked: time_steps,
            step_bits: params.step_bits,
            max: params.max_time_steps(),
        });
    }
    retime(net, time_steps).map_err(PipelineError::Retime)
}

/// The step counts tried by [`choose_time_steps`]: 1x, 2x, 4x and 8x the
/// trained resolution, within the step counter (coarser than trained only
/// loses accuracy, `docs/training.md`).
pub fn step_candidates(net: &FloatNetwork, params: &HwParams) -> Result<Vec<u32>, PipelineError> {
    let t0 = net.time_steps;
    let c: Vec<u32> = [t0, 2 * t0, 4 * t0, 8 * t0]
        .into_iter()
        .filter(|&t| t <= params.max_time_steps())
        .collect();
    if c.is_empty() {
        return Err(PipelineError::TrainedTooLong {
            steps: t0,
            step_bits: params.step_bits,
            max: params.max_time_steps(),
        });
    }
    Ok(c)
}

/// One candidate's measured accuracy.
#[derive(Debug, Clone, PartialEq)]
pub struct StepTrial<M> {
    pub steps: u32,
    pub accuracy: f64,
    /// Whatever else the caller's evaluation measured (printed by the CLI).
    pub measured: M,
}

/// Chooses the steps per inference: `eval` measures each candidate's
/// quantized network (the accuracy and anything else the caller wants to
/// show), and the fewest steps within `tolerance_points` percentage points
/// of the best win. Returns the retimed network and every trial.
pub fn choose_time_steps<M, E: std::fmt::Display>(
    net: &FloatNetwork,
    params: &HwParams,
    tolerance_points: f64,
    mut eval: impl FnMut(&QuantNetwork) -> Result<(f64, M), E>,
) -> Result<(FloatNetwork, Vec<StepTrial<M>>), PipelineError> {
    if !(0.0..100.0).contains(&tolerance_points) {
        return Err(PipelineError::Tolerance(tolerance_points));
    }
    let mut trials = Vec::new();
    for t in step_candidates(net, params)? {
        let retimed = retime_for(net, params, t)?;
        let (q, _) = quantize(&retimed, params.weight_bits).map_err(PipelineError::Quantize)?;
        let (accuracy, measured) = eval(&q).map_err(|e| PipelineError::Eval {
            steps: t,
            message: e.to_string(),
        })?;
        trials.push(StepTrial {
            steps: t,
            accuracy,
            measured,
        });
    }
    let results: Vec<(u32, f64)> = trials.iter().map(|r| (r.steps, r.accuracy)).collect();
    let t = pick_time_steps(&results, tolerance_points / 100.0);
    Ok((retime_for(net, params, t)?, trials))
}

/// The fewest steps whose accuracy is within `tolerance` (a fraction) of
/// the best; `results` are `(steps, accuracy)`, non-empty, ascending in steps.
pub fn pick_time_steps(results: &[(u32, f64)], tolerance: f64) -> u32 {
    let best = results.iter().map(|r| r.1).fold(0.0, f64::max);
    // Ascending, so the first acceptable candidate has the fewest steps.
    results
        .iter()
        .find(|r| r.1 >= best - tolerance - 1e-12)
        .expect("the best candidate is acceptable")
        .0
}

/// What compiling produced.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub quantized: QuantNetwork,
    pub quant_report: QuantReport,
    pub program: Program,
    /// Mapping report (cores versus the lower bound, SRAM bits, per core).
    pub report: MapReport,
    /// When the program leaves cores of `params` idle: `params` with only
    /// as many cores as it uses, on which the same network maps too
    /// (checked by mapping it), so no core idles.
    pub no_idle: Option<HwParams>,
}

/// Quantizes `net` for `params`, refuses it early if it cannot fit, and
/// maps it. With `samples` (input events, encoded with `net.encoding`),
/// balances the cores by the activity the integer reference model
/// measures on them; without, load balancing assumes every source spikes
/// once per inference.
pub fn compile(
    net: &FloatNetwork,
    params: &HwParams,
    samples: Option<&[Vec<Spike>]>,
) -> Result<Compiled, PipelineError> {
    let (q, quant_report) = quantize(net, params.weight_bits).map_err(PipelineError::Quantize)?;
    // Refuse a network that cannot fit before measuring its activity.
    crate::check_fit(&q, params)?;
    let activity = match samples {
        None => None,
        Some(inputs) => {
            let opt = RunOptions {
                widths: Widths::from(params),
                early_exit: false,
            };
            Some(measure_activity(&q, inputs, opt).map_err(PipelineError::Activity)?)
        }
    };
    let (program, report) = map_balanced(&q, params, activity.as_ref())?;
    let no_idle = (report.cores_used < params.cores)
        .then(|| HwParams {
            name: format!("{}_{}cores", params.name, report.cores_used),
            cores: report.cores_used,
            ..params.clone()
        })
        .filter(|p| p.validate("no-idle configuration").is_ok())
        .filter(|p| map_balanced(&q, p, activity.as_ref()).is_ok());
    Ok(Compiled {
        quantized: q,
        quant_report,
        program,
        report,
        no_idle,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_most_accurate_and_ties_go_to_fewer_steps() {
        let r = [(16, 0.9840), (32, 0.9865), (64, 0.9875), (128, 0.9875)];
        assert_eq!(pick_time_steps(&r, 0.0), 64);
    }

    #[test]
    fn a_tolerance_trades_accuracy_for_fewer_steps() {
        let r = [(16, 0.9840), (32, 0.9865), (64, 0.9875), (128, 0.9870)];
        assert_eq!(pick_time_steps(&r, 0.0005), 64);
        assert_eq!(pick_time_steps(&r, 0.0010), 32);
        assert_eq!(pick_time_steps(&r, 0.0040), 16);
    }

    #[test]
    fn choose_time_steps_tries_each_candidate_and_keeps_the_best() {
        let net = FloatNetwork::zeros(&[4, 3, 2], crate::InputEncoding::new(4), 8, 1.0);
        let p = HwParams::preset("default").unwrap();
        let mut seen = Vec::new();
        let (chosen, trials) = choose_time_steps(&net, &p, 0.0, |q| {
            seen.push(q.time_steps);
            // Accuracy peaks at 32 steps.
            let acc = if q.time_steps == 32 { 0.9 } else { 0.8 };
            Ok::<_, String>((acc, ()))
        })
        .unwrap();
        assert_eq!(seen, [8, 16, 32, 64]);
        assert_eq!(trials.len(), 4);
        assert_eq!(chosen.time_steps, 32);
        assert!(matches!(
            choose_time_steps(&net, &p, 100.0, |_| Ok::<_, String>((1.0, ()))),
            Err(PipelineError::Tolerance(_))
        ));
    }
}
