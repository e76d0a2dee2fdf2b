//! Yang 2020's toy experiment, our version: one leaky neuron over 100
//! steps learns to fire a target number of spikes, by gradient descent
//! through [`onespike_train::bptt`], with the reset's temporal term
//! detached or kept, over a sweep of learning rates.
//!
//! The neuron: 50 inputs with fixed seeded spike trains (each input spikes
//! at each step with probability 0.1), decay 0.75 (`v_shift = 2`), instant
//! current, reset by subtraction (or `zero` with a second argument
//! `zero`), threshold 1, fast-sigmoid surrogate (slope 5). Loss
//! `((n - 30) / 100)^2` on the spike count `n`; plain gradient descent
//! for 300 iterations from the same seeded weights. Writes the loss curves
//! as CSV (`lr,reset_grad,iteration,loss,count`) and an SVG plot with one
//! panel per learning rate.
//!
//! ```text
//! cargo run --example yang_toy -- <out.csv> [subtract|zero|subtract_next]
//! ```

use ndarray::{Array2, Array3};
use onespike_compiler::{NeuronModel, Reset};
use onespike_train::bptt::{self, Backprop, Layer, Net, ResetGrad, Surrogate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write as _;

const STEPS: usize = 100;
const INPUTS: usize = 50;
const TARGET: f64 = 30.0;
const ITERATIONS: usize = 300;
const RATES: [f64; 5] = [0.003, 0.01, 0.03, 0.1, 0.3];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = args
        .first()
        .ok_or("usage: yang_toy <out.csv> [subtract|zero|subtract_next]")?;
    let reset = match args.get(1).map(String::as_str) {
        None | Some("subtract") => Reset::Subtract,
        Some("zero") => Reset::Zero,
        Some("subtract_next") => Reset::SubtractNext,
        Some(r) => return Err(format!("reset `{r}`: one of subtract, zero, subtract_next").into()),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut input = Array3::zeros((STEPS, 1, INPUTS));
    for t in 0..STEPS {
        for i in 0..INPUTS {
            if rng.gen::<f64>() < 0.1 {
                input[[t, 0, i]] = 1.0;
            }
        }
    }
    let w0: Vec<f64> = (0..INPUTS).map(|_| 0.05 * rng.gen::<f64>()).collect();
    let neuron = NeuronModel {
        v_shift: Some(2),
        i_shift: Some(0),
        reset,
    };
    let mut csv = String::from("lr,reset_grad,iteration,loss,count\n");
    let mut curves: Vec<(f64, ResetGrad, Vec<f64>)> = Vec::new();
    for &lr in &RATES {
        for rg in [ResetGrad::Detached, ResetGrad::Full] {
            let mut w = Array2::from_shape_vec((1, INPUTS), w0.clone())?;
            let mut losses = Vec::with_capacity(ITERATIONS);
            for it in 0..ITERATIONS {
                let net = Net {
                    layers: vec![Layer {
                        w: w.view(),
                        rec: None,
                        theta: 1.0,
                        neuron,
                    }],
                    time_steps: STEPS,
                };
                let tr = bptt::forward(&net, &input);
                let n = tr.counts(0)[[0, 0]];
                let loss = ((n - TARGET) / STEPS as f64).powi(2);
                let g = 2.0 * (n - TARGET) / (STEPS as f64).powi(2);
                let direct = vec![Array3::from_elem((STEPS, 1, 1), g)];
                let bp = Backprop {
                    surrogate: Surrogate::FastSigmoid,
                    slope: 5.0,
                    reset_grad: rg,
                };
                let grads = bptt::backward(&net, &input, &tr, &direct, &bp);
                drop(net);
                w.scaled_add(-lr, &grads.w[0]);
                let _ = writeln!(csv, "{lr},{},{it},{loss:.6},{n}", rg.name());
                losses.push(loss);
            }
            let last = losses.last().copied().unwrap_or_default();
            println!(
                "lr {lr:<6} reset-grad {:<8} final loss {last:.5}",
                rg.name()
            );
            curves.push((lr, rg, losses));
        }
    }
    std::fs::write(out, csv)?;
    let svg = std::path::Path::new(out).with_extension("svg");
    std::fs::write(&svg, plot(&curves, reset))?;
    println!("wrote {out} and {}", svg.display());
    Ok(())
}

/// One panel per learning rate: the loss (log scale) per iteration,
/// detached in blue, full in red.
fn plot(curves: &[(f64, ResetGrad, Vec<f64>)], reset: Reset) -> String {
    let (pw, ph, pad) = (220.0, 180.0, 30.0);
    let width = pad + RATES.len() as f64 * (pw + pad);
    let height = ph + 3.0 * pad;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{pad}\" y=\"16\">One neuron, 100 steps, reset = {}: loss (log10, 1e-5 .. 1) per iteration; blue detached, red full</text>\n",
        reset.name()
    );
    for (p, &lr) in RATES.iter().enumerate() {
        let x0 = pad + p as f64 * (pw + pad);
        let y0 = 2.0 * pad;
        let _ = writeln!(
            s,
            "<rect x=\"{x0}\" y=\"{y0}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#888\"/>\n<text x=\"{x0}\" y=\"{}\">lr = {lr}</text>",
            y0 - 4.0
        );
        for (c_lr, rg, losses) in curves {
            if *c_lr != lr {
                continue;
            }
            let color = if *rg == ResetGrad::Full {
                "#c33"
            } else {
                "#33c"
            };
            let pts: Vec<String> = losses
                .iter()
                .enumerate()
                .map(|(i, &l)| {
                    let x = x0 + pw * i as f64 / (ITERATIONS - 1) as f64;
                    let y = (l.max(1e-5).log10() / -5.0).clamp(0.0, 1.0);
                    format!("{x:.1},{:.1}", y0 + ph * y)
                })
                .collect();
            let _ = writeln!(
                s,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.2\" points=\"{}\"/>",
                pts.join(" ")
            );
        }
    }
    s.push_str("</svg>\n");
    s
}
