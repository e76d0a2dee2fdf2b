//! Where the sparse path stops paying: forward and backward passes of a
//! random 784-400-10 network on one chunk (8 samples, T = 22) of random
//! binary input at several densities, dense (`general_mat_mul`) against
//! sparse (gather-add and scatter), in milliseconds per chunk, one thread.
//! The crossover sets `bptt::SPARSE_BELOW`. A measurement, not a test.
//!
//! ```text
//! cargo run --release -j1 -p onespike-train --example bptt_density
//! ```

use ndarray::{Array2, Array3};
use onespike_compiler::neuron::{NeuronModel, Reset};
use onespike_train::bptt::{self, Algebra, Backprop, Layer, Loss, Net, ResetGrad, Surrogate};
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn main() {
    let (n_in, n_hid, n_out, b, t_max) = (784, 400, 10, 8, 22);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut m = |r: usize, c: usize| {
        let h = 1.0 / (c as f64).sqrt();
        Array2::from_shape_fn((r, c), |_| h * (2.0 * rng.gen::<f64>() - 0.8))
    };
    let (w0, w1) = (m(n_hid, n_in), m(n_out, n_hid));
    let neuron = NeuronModel {
        v_shift: Some(2),
        i_shift: Some(0),
        reset: Reset::Subtract,
    };
    let net = Net {
        layers: vec![
            Layer {
                w: w0.view(),
                rec: None,
                theta: 1.0,
                neuron,
            },
            Layer {
                w: w1.view(),
                rec: None,
                theta: 1.0,
                neuron,
            },
        ],
        time_steps: t_max,
    };
    let bp = Backprop {
        surrogate: Surrogate::FastSigmoid,
        slope: 25.0,
        reset_grad: ResetGrad::Detached,
    };
    let lw = Loss {
        tau: 1.0,
        label_smoothing: 0.0,
        count_weight: 0.0,
        rate_weight: 0.0,
    };
    let labels: Vec<usize> = (0..b).map(|k| k % n_out).collect();
    println!("density  forward dense / sparse (ms)  backward dense / sparse (ms)");
    for density in [0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5] {
        let input = Array3::from_shape_fn((t_max, b, n_in), |_| {
            f64::from(u8::from(rng.gen::<f64>() < density))
        });
        let mut row = Vec::new();
        let reps = 20;
        let mut fwd = [0.0; 2];
        let mut bwd = [0.0; 2];
        for (i, alg) in [Algebra::Dense, Algebra::Sparse].into_iter().enumerate() {
            for _ in 0..reps {
                let t0 = Instant::now();
                let tr = bptt::forward_using(&net, &input, alg);
                let t1 = Instant::now();
                let (_, direct) = bptt::loss(&net, &tr, &labels, &lw);
                let t2 = Instant::now();
                let g = bptt::backward_using(&net, &input, &tr, &direct, &bp, alg);
                let t3 = Instant::now();
                std::hint::black_box(g);
                fwd[i] += (t1 - t0).as_secs_f64();
                bwd[i] += (t3 - t2).as_secs_f64();
            }
        }
        for x in fwd.iter().chain(&bwd) {
            row.push(format!("{:.2}", 1e3 * x / reps as f64));
        }
        println!(
            "{density:>7}  {} / {}  {} / {}",
            row[0], row[1], row[2], row[3]
        );
    }
}
