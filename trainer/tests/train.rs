//! The trainer from the outside: exact spike-time gradients against finite
//! differences, learning on a small subset, the regularizers and pruning
//! doing what they claim, determinism, and checkpoint/resume. Every case
//! is small so the whole file runs in seconds.

use onespike_dataset::embedded_default;
use onespike_train::ttfs::{self, LayerView, LossWeights, NetView, SpikeList, TimeMode};
use onespike_train::{parse_arch, NoProgress, TrainConfig, Trainer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Total loss of one sample and its gradient, for weights `ws`.
fn loss_and_grad(
    ws: &[Vec<f32>],
    sizes: &[usize],
    input: &SpikeList,
    lw: &LossWeights,
    t_steps: u32,
) -> (f32, Vec<Vec<f32>>) {
    let net = NetView {
        layers: ws
            .iter()
            .enumerate()
            .map(|(l, w)| LayerView {
                weights: w,
                inputs: sizes[l],
                outputs: sizes[l + 1],
                threshold: 1.0,
            })
            .collect(),
        time_steps: t_steps,
        mode: TimeMode::Continuous,
    };
    let mut grads: Vec<Vec<f32>> = ws.iter().map(|w| vec![0.0; w.len()]).collect();
    let mut fires: Vec<Vec<u32>> = sizes[1..].iter().map(|&n| vec![0; n]).collect();
    let silent: Vec<Vec<bool>> = sizes[1..].iter().map(|&n| vec![false; n]).collect();
    let s = ttfs::sample_grad(&net, input.clone(), 1, lw, &silent, &mut grads, &mut fires);
    (s.total, grads)
}

fn check_gradients(lw: LossWeights) {
    // A 12-6-3 network with positive-leaning random weights and inputs at
    // non-integer times, so no crossing sits on a kink.
    let sizes = [12usize, 6, 3];
    let t_steps = 64;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut checked = 0;
    for _trial in 0..20 {
        let ws: Vec<Vec<f32>> = sizes
            .windows(2)
            .map(|w| {
                (0..w[0] * w[1])
                    .map(|_| rng.gen_range(-0.05f32..0.25))
                    .collect()
            })
            .collect();
        let input = SpikeList::from_pairs(
            (0..12)
                .map(|i| (rng.gen_range(0.0f32..8.0), i as u32))
                .collect(),
        );
        let (_, g) = loss_and_grad(&ws, &sizes, &input, &lw, t_steps);
        for l in 0..ws.len() {
            for i in 0..ws[l].len() {
                let h = 1e-3f32;
                let mut wp = ws.clone();
                wp[l][i] += h;
                let mut wm = ws.clone();
                wm[l][i] -= h;
                let fp = loss_and_grad(&wp, &sizes, &input, &lw, t_steps).0 as f64;
                let fm = loss_and_grad(&wm, &sizes, &input, &lw, t_steps).0 as f64;
                let numeric = (fp - fm) / (2.0 * h as f64);
                let exact = g[l][i] as f64;
                // A perturbation that changes a causal set or a spike's
                // existence crosses a kink; skip those (they are rare).
                let wpp = {
                    let mut w = ws.clone();
                    w[l][i] += 2.0 * h;
                    loss_and_grad(&w, &sizes, &input, &lw, t_steps).0 as f64
                };
                let f0 = loss_and_grad(&ws, &sizes, &input, &lw, t_steps).0 as f64;
                let smooth = ((fp - f0) - (wpp - fp)).abs() < 1e-3 * (1.0 + (fp - f0).abs())
                    && ((fp - f0) - (f0 - fm)).abs() < 1e-2 * (1e-4 + (fp - f0).abs());
                if !smooth {
                    continue;
                }
                let tol = 2e-2 * exact.abs().max(numeric.abs()) + 2e-3;
                assert!(
                    (numeric - exact).abs() <= tol,
                    "layer {l} weight {i}: exact {exact}, numeric {numeric}"
                );
                if exact.abs() > 1e-4 {
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} non-trivial gradients checked"
    );
}

fn base_weights() -> LossWeights {
    LossWeights {
        tau_steps: 2.0,
        label_smoothing: 0.0,
        cap_steps: 96.0,
        target_steps: 20.0,
        target_weight: 0.1,
        fire_weight: 0.0,
        ssr_m: 0.0,
        ssr_f: 0.0,
        count: 0.0,
    }
}

#[test]
fn exact_gradient_of_cross_entropy_matches_finite_differences() {
    check_gradients(base_weights());
}

#[test]
fn exact_gradient_with_every_regularizer_matches_finite_differences() {
    check_gradients(LossWeights {
        fire_weight: 0.5,
        ssr_m: 0.3,
        ssr_f: 0.2,
        count: 0.4,
        label_smoothing: 0.1,
        ..base_weights()
    });
}

#[test]
fn discrete_forward_pass_matches_the_integer_reference_model() {
    // With weights that quantize exactly (multiples of 1/scale) the
    // trainer's discrete forward pass and the hardware agree spike for spike.
    let data = embedded_default();
    let mut c = TrainConfig::new(vec![784, 30, 10]);
    c.epochs = 1;
    c.val_images = 200;
    c.limit_train = Some(300);
    c.qat_epochs = 0;
    let mut t = Trainer::new(c).unwrap();
    let prep = t.prepare(&data.train).unwrap();
    t.train(&prep, 1, &mut NoProgress, None).unwrap();
    let net = t.network();
    let (q, _) = onespike_compiler::quantize::quantize(&net, 8).unwrap();
    // Float weights = the quantized ones in float units.
    for (l, layer) in q.layers.iter().enumerate() {
        t.weights[l] = layer
            .weights
            .iter()
            .map(|&w| (w as f64 / layer.scale) as f32)
            .collect();
        assert_eq!(
            layer.threshold as f64 / layer.scale,
            1.0f64 * (layer.threshold as f64 / layer.scale)
        );
    }
    let view_net = t.network();
    let model = onespike_compiler::ReferenceModel::new(&q);
    let opt = onespike_compiler::RunOptions {
        widths: onespike_compiler::Widths {
            current_bits: 40,
            membrane_bits: 60,
        },
        early_exit: false,
    };
    let mut same = 0;
    let n = 200;
    for k in 0..n {
        let img = prep.val.split.image(k);
        let r = model.run(&net.encoding.encode(img), opt).unwrap();
        let layers: Vec<LayerView> = view_net
            .layers
            .iter()
            .zip(&q.layers)
            .map(|(fl, ql)| LayerView {
                weights: &fl.weights,
                inputs: fl.inputs as usize,
                outputs: fl.outputs as usize,
                threshold: (ql.threshold as f64 / ql.scale) as f32,
            })
            .collect();
        let view = NetView {
            layers,
            time_steps: net.time_steps,
            mode: TimeMode::Discrete,
        };
        let tr = ttfs::forward(&view, SpikeList::encode(&net.encoding, img));
        let ours: Vec<Vec<Option<u32>>> = tr
            .layers
            .iter()
            .map(|l| {
                l.crossing_steps
                    .iter()
                    .map(|&c| {
                        ttfs::spike_step(c, net.time_steps, TimeMode::Discrete).map(|s| s as u32)
                    })
                    .collect()
            })
            .collect();
        let theirs: Vec<Vec<Option<u32>>> = (0..r.spikes.layers.len())
            .map(|l| r.spikes.first_steps(l))
            .collect();
        if ours == theirs {
            same += 1;
        }
    }
    // Float rounding can flip a crossing that lands exactly on a step.
    assert!(
        same >= n * 97 / 100,
        "only {same} of {n} images agree spike for spike"
    );
}

/// A small, quick configuration on the embedded MNIST subset.
fn small(epochs: usize) -> TrainConfig {
    let mut c = TrainConfig::new(vec![784, 32, 10]);
    c.epochs = epochs;
    c.val_images = 300;
    c.limit_train = Some(1000);
    c.batch_size = 16;
    // Few images and epochs: a larger step than the full-data default.
    c.learning_rate = 1e-3;
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

#[test]
fn learning_happens_on_a_small_subset() {
    // 32 hidden neurons, 1000 images, 3 epochs: about 80 % (chance is 10 %).
    let t = trained(small(3));
    let last = t.log.last().unwrap();
    assert!(last.val_float_accuracy > 0.75, "{last:?}");
    assert!(last.val_hw_accuracy > 0.75, "{last:?}");
}

#[test]
fn sparse_firing_regularizers_lower_the_spike_count() {
    let base = trained(small(2))
        .log
        .last()
        .unwrap()
        .val_hw_spikes_per_neuron;
    let mut c = small(2);
    c.ssr_weight = 2.0;
    let ssr = trained(c).log.last().unwrap().val_hw_spikes_per_neuron;
    let mut c = small(2);
    c.count_weight = 2.0;
    let count = trained(c).log.last().unwrap().val_hw_spikes_per_neuron;
    assert!(ssr < 0.9 * base, "M-SSR: {ssr} vs {base}");
    assert!(count < 0.9 * base, "spike count: {count} vs {base}");
}

#[test]
fn pruning_reaches_its_target_sparsity() {
    let mut c = small(6);
    c.sparsity = 0.9;
    let t = trained(c);
    let s = t.network().sparsity();
    assert!((s - 0.9).abs() < 0.005, "sparsity {s}");
    let last = t.log.last().unwrap();
    assert!(last.val_hw_accuracy > 0.5, "{last:?}");
}

#[test]
fn weight_averaging_evaluates_and_saves_the_average() {
    let mut c = small(3);
    c.sparsity = 0.5;
    c.ema_decay = 0.99;
    let t = trained(c);
    assert_eq!(t.averaged.len(), t.weights.len());
    assert_ne!(t.averaged, t.weights);
    // The saved network is the average, with pruned synapses absent.
    let net = t.network();
    for (l, layer) in net.layers.iter().enumerate() {
        for (k, &w) in layer.weights.iter().enumerate() {
            let want = if t.masks[l][k] { t.averaged[l][k] } else { 0.0 };
            assert_eq!(w, want, "layer {l} synapse {k}");
        }
    }
    // The average of a converging run is itself a working network.
    let last = t.log.last().unwrap();
    assert!(last.val_hw_accuracy > 0.75, "{last:?}");
    assert!((net.sparsity() - 0.5).abs() < 0.005);
}

#[test]
fn same_seed_gives_the_same_weights() {
    let mut c = small(1);
    c.limit_train = Some(200);
    // The random augmentations come from the seed too.
    c.shift_pixels = 1;
    c.mirror = true;
    let a = trained(c.clone());
    let b = trained(c.clone());
    assert_eq!(a.weights, b.weights);
    c.seed = 2;
    assert_ne!(trained(c).weights, a.weights);
}

#[test]
fn resampling_augmentation_is_seeded_and_changes_training() {
    let mut c = small(1);
    c.limit_train = Some(200);
    c.shift_pixels = 1;
    let moved = trained(c.clone());
    c.rotate_degrees = 10.0;
    c.scale_percent = 10.0;
    let a = trained(c.clone());
    assert_eq!(a.weights, trained(c).weights);
    assert_ne!(a.weights, moved.weights);
}

#[test]
fn input_dropout_is_seeded_independent_of_chunking_and_changes_training() {
    let mut c = small(1);
    c.limit_train = Some(200);
    let plain = trained(c.clone());
    c.input_dropout = 0.2;
    let a = trained(c.clone());
    assert_ne!(a.weights, plain.weights);
    // Each image draws its own dropout: the parallel split of a batch
    // changes the order of the gradient sums (float rounding), not which
    // spikes are dropped, so the runs agree to rounding, not further.
    c.grad_chunks = 1;
    let one = trained(c.clone());
    let max_diff = a
        .weights
        .iter()
        .flatten()
        .zip(one.weights.iter().flatten())
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(
        max_diff < 1e-4,
        "chunking changed the weights by {max_diff}"
    );
    c.grad_chunks = 4;
    assert_eq!(trained(c.clone()).weights, a.weights);
    c.seed = 2;
    assert_ne!(trained(c).weights, a.weights);
}

#[test]
fn resuming_from_a_checkpoint_equals_an_uninterrupted_run() {
    let data = embedded_default();
    let mut c = small(3);
    c.limit_train = Some(300);
    c.sparsity = 0.5;
    c.count_weight = 0.5;
    c.ema_decay = 0.99;
    c.input_dropout = 0.1;
    let full = trained(c.clone());
    let dir = std::env::temp_dir().join(format!("onespike-train-ck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ck = dir.join("ck.json");
    let mut t = Trainer::new(c).unwrap();
    let prep = t.prepare(&data.train).unwrap();
    t.train(&prep, 1, &mut NoProgress, Some(&ck)).unwrap();
    drop(t);
    let mut resumed = Trainer::load_checkpoint(&ck).unwrap();
    assert_eq!(resumed.epochs_done, 1);
    resumed.train(&prep, 3, &mut NoProgress, None).unwrap();
    assert_eq!(resumed.weights, full.weights);
    assert_eq!(resumed.masks, full.masks);
    assert_eq!(resumed.averaged, full.averaged);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_architectures_are_refused_with_the_reason() {
    assert!(parse_arch("784-x-10")
        .unwrap_err()
        .to_string()
        .contains("`x`"));
    assert!(parse_arch("784").is_err());
    assert!(parse_arch("784-0-10").is_err());
    let data = embedded_default();
    let t = Trainer::new(TrainConfig::new(vec![100, 10])).unwrap();
    let msg = t.prepare(&data.train).err().unwrap().to_string();
    assert!(msg.contains("784") && msg.contains("100"), "{msg}");
    let t = Trainer::new(TrainConfig::new(vec![784, 5])).unwrap();
    assert!(t.prepare(&data.train).is_err());
}
