//! Helper behind two measurements in `docs/training.md` (not part of CI).
//!
//! `retime-eval retime <model.json> <data dir>`: the network retimed by
//! `compiler::quantize::retime` to 1, 2, 4 and 8 times its steps, quantized
//! at 8 bits and run on the integer reference model of the `default`
//! preset, on the validation images the trainer holds out (the last 5000
//! of the training split, to choose the factor) and on the test split,
//! with and without early exit.
//!
//! `retime-eval timing <model.json> <data dir>`: cumulative distribution
//! over the test split of the hidden layer's spike steps and of the step
//! of the first output spike.

use onespike_compiler::quantize::{quantize, retime};
use onespike_compiler::reference::{ReferenceModel, RunOptions, Widths};
use onespike_compiler::{FloatNetwork, HwParams};
use onespike_dataset::reference_eval;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 || !(args[1] == "retime" || args[1] == "timing") {
        eprintln!("usage: retime-eval retime|timing <model.json> <data dir>");
        std::process::exit(2);
    }
    let net = FloatNetwork::load(Path::new(&args[2])).expect("model");
    let data = onespike_dataset::load(&args[3]).expect("data");
    let params = HwParams::from_preset_or_file("default").expect("preset");
    let widths = Widths::from(&params);
    if args[1] == "retime" {
        let val = data.train.last(5000);
        for factor in [1, 2, 4, 8] {
            let t = net.time_steps * factor;
            if t > params.max_time_steps() {
                break;
            }
            let r = retime(&net, t).expect("retime");
            let (q, _) = quantize(&r, params.weight_bits).expect("quantize");
            let v = reference_eval(&q, &val, RunOptions { widths, early_exit: false }).expect("eval");
            let e = reference_eval(&q, &data.test, RunOptions { widths, early_exit: false }).expect("eval");
            let x = reference_eval(&q, &data.test, RunOptions { widths, early_exit: true }).expect("eval");
            println!(
                "{t:>4} steps ({} input levels): validation {:.2} %, test {:.2} % at {:.4} spikes/neuron ({:.4} with early exit)",
                r.encoding.input_steps,
                100.0 * v.accuracy,
                100.0 * e.accuracy,
                e.spikes_per_neuron,
                x.spikes_per_neuron
            );
        }
    } else {
        let (q, _) = quantize(&net, params.weight_bits).expect("quantize");
        let model = ReferenceModel::new(&q);
        let steps = q.time_steps as usize;
        let (mut hidden, mut first_out) = (vec![0u64; steps], vec![0u64; steps]);
        for k in 0..data.test.len() {
            let r = model
                .run(&q.encoding.encode(data.test.image(k)), RunOptions { widths, early_exit: false })
                .expect("run");
            for s in r.spikes[0].iter().flatten() {
                hidden[*s as usize] += 1;
            }
            if let Some(t) = r.spikes.last().unwrap().iter().flatten().min() {
                first_out[*t as usize] += 1;
            }
        }
        let cdf = |h: &[u64]| {
            let total: u64 = h.iter().sum::<u64>().max(1);
            let mut c = 0;
            h.iter()
                .enumerate()
                .filter(|p| *p.1 > 0)
                .map(|(t, &n)| {
                    c += n;
                    format!("{t}:{:.2}", c as f64 / total as f64)
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!("hidden spike steps, cumulative: {}", cdf(&hidden));
        println!("first output spike step, cumulative: {}", cdf(&first_out));
    }
}
