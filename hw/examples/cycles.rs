//! Cycles of the RTL (rust-hdl model) against the synaptic lower bound on a
//! random sparse network for the `small` preset:
//! `cargo run --release -p onespike-hw --example cycles`.

use onespike_compiler::reference::{ReferenceModel, RunOptions, Widths};
use onespike_compiler::{map_in_order, HwParams, InputEncoding, QuantNetwork};
use onespike_hw::driver::{synaptic_lower_bound, Driver, RunConfig};
use onespike_hw::hdl_model::HdlModel;

fn lcg(s: &mut u64) -> u64 {
    *s = s
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *s >> 33
}

fn main() {
    let p = HwParams::preset("small").unwrap();
    let sizes = [256u32, 64, 10];
    let mut s = 7u64;
    let layers = sizes
        .windows(2)
        .map(|w| {
            let weights = (0..w[0] * w[1])
                .map(|_| {
                    if lcg(&mut s) % 100 < 10 {
                        (lcg(&mut s) % 20) as i32 - 5
                    } else {
                        0
                    }
                })
                .collect();
            (w[1], 60, weights)
        })
        .collect();
    let net = QuantNetwork::dense(sizes[0], InputEncoding::new(8), 32, 8, layers);
    let prog = map_in_order(&net, &p).unwrap();
    let reference = ReferenceModel::new(&net);
    for early_exit in [false, true] {
        let run = RunConfig {
            early_exit,
            all_spikes: true,
            max_cycles: 10_000_000,
            ..Default::default()
        };
        let opt = RunOptions {
            widths: Widths::from(&p),
            early_exit,
        };
        onespike_hw::with_config!(&p, T => {
            let mut d = Driver::new(HdlModel::<T>::new(&p), &p);
            d.load(&prog, &run).unwrap();
            for k in 0..3 {
                let input: Vec<Option<u32>> =
                    (0..sizes[0]).map(|_| if lcg(&mut s) % 100 < 40 { Some((lcg(&mut s) % 8) as u32) } else { None }).collect();
                let want = reference.run(&input, opt).unwrap();
                let got = d.infer(&prog, &input, &run).unwrap();
                assert_eq!(got.spikes, want.spikes);
                let bound = synaptic_lower_bound(&prog, &input, &want.spikes, want.steps_run);
                let n_max = prog.cores.iter().map(|c| c.neurons as u64).max().unwrap();
                let sweep = (p.neurons_per_core as u64 + 2) + got.steps_run as u64 * (n_max + 6);
                println!(
                    "early_exit={early_exit} input {k}: {} steps, {} cycles, lower bound {bound} ({:.2}x), event-free sweep alone {sweep}",
                    got.steps_run,
                    got.cycles,
                    got.cycles as f64 / bound.max(1) as f64
                );
            }
        })
        .unwrap();
    }
}
