//! The BPTT trainer (`method = bptt`) from the outside: its forward pass is
//! the compiler's float model (`float_eval::run_discrete`) spike for spike,
//! it learns on the embedded MNIST subset within seconds, and the
//! annealed spike-count term and BPSR's rate regularizer lower the spike
//! count. Every case runs on the embedded MNIST subset.

use ndarray::Axis;
use onespike_compiler::float_eval::run_discrete;
use onespike_compiler::{Coding, Reset, Spike};
use onespike_dataset::embedded_default;
use onespike_train::bptt::{self, Layer, Net};
use onespike_train::{Method, NoProgress, TrainConfig, Trainer};

/// A small BPTT configuration: 784-32-10, rate input over 12 steps.
fn small(epochs: usize) -> TrainConfig {
    let mut c = TrainConfig::bptt(vec![784, 32, 10]);
    c.epochs = epochs;
    c.val_images = 300;
    c.limit_train = Some(1000);
    c.batch_size = 16;
    c.input_steps = 12;
    c.time_steps = 14;
    c.qat_epochs = 0;
    c
}

fn trained(c: TrainConfig) -> Trainer {
    let data = embedded_default();
    let mut t = Trainer::new(c).unwrap();
    let prep = t.prepare(&data.train).unwrap();
    let e = t.config.epochs;
    t.train(&prep, e, &mut NoProgress, None).unwrap();
    t
}

/// The trainer's forward pass on a network's own weights, as sorted
/// `(step, neuron)` spikes per layer.
fn bptt_spikes(net: &onespike_compiler::FloatNetwork, input: &[Spike]) -> Vec<Vec<(u32, u32)>> {
    let ff: Vec<ndarray::Array2<f64>> = net
        .layers
        .iter()
        .map(|l| {
            ndarray::Array2::from_shape_vec(
                (l.outputs as usize, l.inputs as usize),
                l.weights.iter().map(|&w| w as f64).collect(),
            )
            .unwrap()
        })
        .collect();
    let rec: Vec<Option<ndarray::Array2<f64>>> = net
        .layers
        .iter()
        .map(|l| {
            l.recurrent.as_ref().map(|r| {
                let n = l.outputs as usize;
                ndarray::Array2::from_shape_vec((n, n), r.iter().map(|&w| w as f64).collect())
                    .unwrap()
            })
        })
        .collect();
    let view = Net {
        layers: net
            .layers
            .iter()
            .enumerate()
            .map(|(l, layer)| Layer {
                w: ff[l].view(),
                rec: rec[l].as_ref().map(|r| r.view()),
                theta: layer.threshold as f64,
                neuron: layer.neuron,
            })
            .collect(),
        time_steps: net.time_steps as usize,
    };
    let ev: Vec<(u32, u32)> = input.iter().map(|s| (s.step, s.neuron)).collect();
    let x = bptt::input_tensor(
        std::iter::once(&ev[..]),
        view.time_steps,
        net.input_size as usize,
    );
    let tr = bptt::forward(&view, &x);
    tr.s.iter()
        .map(|s| {
            let mut out = Vec::new();
            for (t, st) in s.axis_iter(Axis(0)).enumerate() {
                for (j, &v) in st.row(0).iter().enumerate() {
                    if v > 0.0 {
                        out.push((t as u32, j as u32));
                    }
                }
            }
            out
        })
        .collect()
}

#[test]
fn the_trained_forward_pass_is_the_float_model_spike_for_spike() {
    let data = embedded_default();
    for (reset, recurrent, i_shift, coding) in [
        (Reset::Subtract, false, Some(0), Coding::Rate),
        (Reset::Zero, true, Some(1), Coding::Rate),
        (Reset::SubtractNext, true, Some(0), Coding::Rate),
        (Reset::Subtract, true, None, Coding::Rows),
    ] {
        let mut c = small(1);
        c.bptt.reset = reset;
        c.bptt.recurrent = recurrent;
        c.bptt.i_shift = i_shift;
        c.bptt.coding = coding;
        c.limit_train = Some(200);
        c.val_images = 50;
        if coding == Coding::Rows {
            c.sizes = vec![28, 32, 10];
            c.input_steps = 28;
            c.time_steps = 30;
        }
        let t = trained(c);
        let net = t.network();
        assert_eq!(net.layers[0].recurrent.is_some(), recurrent);
        let (mut spikes, mut layers_firing) = (0usize, [false; 2]);
        for k in 0..40 {
            let input = net.encoding.encode(data.test.image(k));
            let want = run_discrete(&net, &input);
            let got = bptt_spikes(&net, &input);
            for (l, g) in got.iter().enumerate() {
                let w: Vec<(u32, u32)> = want.spikes.layers[l]
                    .iter()
                    .map(|s| (s.step, s.neuron))
                    .collect();
                assert_eq!(g, &w, "{reset:?} {coding:?}: image {k}, layer {l}");
                spikes += g.len();
                layers_firing[l] |= !g.is_empty();
            }
        }
        // Not a vacuous comparison: both layers fire, many times.
        assert!(
            spikes > 400 && layers_firing == [true, true],
            "{reset:?}: {spikes} spikes"
        );
    }
}

#[test]
fn bptt_learns_on_a_small_subset() {
    let t = trained(small(3));
    let last = t.log.last().unwrap();
    // Chance is 10 %; on hardware semantics (quantized, integer model) too.
    assert!(last.val_float_accuracy > 0.7, "{last:?}");
    assert!(last.val_hw_accuracy > 0.7, "{last:?}");
    assert_eq!(t.config.method, Method::Bptt);
    // The saved network is what `onespike compile` maps: quantized and
    // placed on the cores of the `default` hardware, as the command does.
    let net = t.network();
    net.validate("trained").unwrap();
    let params = onespike_compiler::HwParams::from_preset_or_file("default").unwrap();
    let (q, _) = onespike_compiler::quantize::quantize(&net, params.weight_bits).unwrap();
    onespike_compiler::map_balanced(&q, &params, None).unwrap();
}

#[test]
fn the_spike_count_term_and_the_rate_regularizer_lower_the_spike_count() {
    let spikes = |t: &Trainer| t.log.last().unwrap().val_float_spikes_per_neuron;
    let base = spikes(&trained(small(2)));
    let mut c = small(2);
    c.count_weight = 4.0;
    let count = spikes(&trained(c));
    let mut c = small(2);
    c.bptt.rate_weight = 20.0;
    let rate = spikes(&trained(c));
    assert!(count < 0.8 * base, "spike count term: {count} vs {base}");
    assert!(rate < 0.8 * base, "rate regularizer: {rate} vs {base}");
}

#[test]
fn rewiring_reaches_its_target_on_multi_spike_layers_with_recurrent_weights() {
    let mut c = small(3);
    c.bptt.recurrent = true;
    c.sparsity = 0.8;
    let t = trained(c);
    let net = t.network();
    let (mut zero, mut all) = (0usize, 0usize);
    for l in &net.layers {
        for w in l.weights.iter().chain(l.recurrent.iter().flatten()) {
            zero += usize::from(*w == 0.0);
            all += 1;
        }
    }
    let s = zero as f64 / all as f64;
    assert!((s - 0.8).abs() < 0.01, "sparsity {s}");
    // Both reported sparsities count recurrent weights too; quantization
    // can only add zeros.
    assert!(
        (net.sparsity() - s).abs() < 1e-12,
        "{} vs {s}",
        net.sparsity()
    );
    let fin = t.final_report(&embedded_default().test).unwrap();
    assert!(
        fin.hw_sparsity >= s - 1e-12 && fin.hw_sparsity < s + 0.05,
        "after quantization {} vs {s}",
        fin.hw_sparsity
    );
    let last = t.log.last().unwrap();
    assert!(last.val_hw_accuracy > 0.5, "{last:?}");
}

#[test]
fn the_same_seed_gives_the_same_weights_whatever_the_threads() {
    let mut c = small(1);
    c.bptt.recurrent = true;
    c.input_dropout = 0.1;
    c.shift_pixels = 1;
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| trained(c.clone()));
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap()
        .install(|| trained(c.clone()));
    assert_eq!(one.weights, two.weights);
    c.seed = 2;
    assert_ne!(trained(c).weights, one.weights);
}
