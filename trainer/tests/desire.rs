//! The Desire trainer (`method = desire`, issue 17) from the outside: one
//! image's desire values and weight update against a hand-computed
//! example (with and without dropout), its forward pass against the
//! compiler's float model, learning on the embedded MNIST subset, the same
//! weights whatever the number of threads, and the network it trains
//! compiling onto the hardware.

use onespike_compiler::float_eval::run_discrete;
use onespike_compiler::neuron::NeuronModel;
use onespike_compiler::Reset;
use onespike_dataset::embedded_default;
use onespike_train::desire::{self, DesireLayer, DesireNet, Dropout};
use onespike_train::{DesireOptions, NoProgress, Recipe, TrainConfig, Trainer};

/// 2 inputs, 2 hidden, 2 outputs; leak 0.75, instant synapse, reset by
/// subtraction, threshold 1, 5 steps. Weights `[outputs][inputs]`.
fn hand_net() -> DesireNet {
    DesireNet {
        layers: vec![
            DesireLayer::from_rows(&[1.0, 0.5, 0.25, 0.5], 2, 2, 1.0),
            DesireLayer::from_rows(&[0.75, 1.0, 0.5, -0.5], 2, 2, 1.0),
        ],
        neuron: NeuronModel {
            v_shift: Some(2),
            i_shift: Some(0),
            reset: Reset::Subtract,
        },
        time_steps: 5,
    }
}

/// Input channel 0 spikes at steps 0 and 1, channel 1 at step 0. Input
/// steps 4 and error margin 2: the target count is N* = 2.
fn hand_input() -> Vec<Vec<u32>> {
    desire::input_steps(&[(0, 0), (0, 1), (1, 0)], 5)
}

fn hand_options() -> DesireOptions {
    DesireOptions {
        error_margin: 2,
        ..DesireOptions::default()
    }
}

fn rows(l: &DesireLayer) -> Vec<f32> {
    let mut r = vec![0.0; l.inputs * l.outputs];
    l.to_rows(&mut r);
    r
}

/// Worked by hand (every value is exact in binary):
///
/// - hidden: `I_1 = (1.5, 0.75)`; step 1 `h0` fires (`v` 0.5), step 2
///   `0.375 + 1.0` fires again; `h1` peaks at 0.8125. Counts (2, 0).
/// - output: `I_2 = I_3 = (0.75, 0.5)` from `h0`'s spikes at steps 1 and 2;
///   step 3 `o0` reaches `0.5625 + 0.75` and fires. Counts (1, 0).
/// - label 1: `o0`'s error 1/2 > 0.3, desire -1; `o1`'s 1 - 0 > 0.3,
///   desire +1. Coefficients `e sign` = (-0.5, +1): `S_h0 = 0.75 (-0.5) +
///   0.5 = 0.125` (desire +1), `S_h1 = 1.0 (-0.5) - 0.5 = -1` (desire -1).
/// - traces: channel 0 `(0, 1, 1.75, 1.3125, ...)`, channel 1 `(0, 1, 0.75,
///   ...)`, `h0` `(0, 0, 1, 1.75, ...)`. At lr 0.25: `h0` fired at 1 and 2,
///   `w(h0, c0) += 0.25 (1 + 1.75)`, `w(h0, c1) += 0.25 (1 + 0.75)`; `o0`
///   fired at 3, `w(o0, h0) -= 0.25 * 1.75`; `h1` and `o1` never fired.
#[test]
fn one_image_gives_the_hand_computed_desire_and_update() {
    let mut net = hand_net();
    let input = hand_input();
    let o = hand_options();
    let drop = Dropout::none(&net);
    let pass = desire::forward(&net, &input, &drop);
    assert_eq!(
        pass.spikes[0],
        vec![vec![], vec![0], vec![0], vec![], vec![]]
    );
    assert_eq!(
        pass.spikes[1],
        vec![vec![], vec![], vec![], vec![0], vec![]]
    );
    assert_eq!(pass.counts, vec![vec![2, 0], vec![1, 0]]);
    let d = desire::desire(&net, &pass, 1, &drop, &o, 4);
    assert_eq!(d.active, vec![vec![true, true], vec![true, true]]);
    assert_eq!(d.positive, vec![vec![true, false], vec![false, true]]);
    desire::update(&mut net, &input, &pass, &d, &drop, 0.25);
    assert_eq!(rows(&net.layers[0]), vec![1.6875, 0.9375, 0.25, 0.5]);
    assert_eq!(rows(&net.layers[1]), vec![0.3125, 1.0, 0.5, -0.5]);

    // A threshold above |S_h0| = 0.125 leaves h0 without a desire: no update.
    let mut net = hand_net();
    let high = DesireOptions {
        hidden_threshold: 0.2,
        ..o
    };
    let d = desire::desire(&net, &pass, 1, &drop, &high, 4);
    assert_eq!(d.active[0], vec![false, true]);
    desire::update(&mut net, &input, &pass, &d, &drop, 0.25);
    assert_eq!(rows(&net.layers[0]), vec![1.0, 0.5, 0.25, 0.5]);
}

/// The same image with `h1` dropped and the kept hidden spikes counting
/// 2 (dropout 1/2): the output layer integrates `2 * 0.75` and `2 * 0.5`.
/// `o0` fires at steps 2 (1.5) and 3 (0.375 + 1.5), `o1` at 2 (1.0) and 3
/// (0 + 1.0): counts (2, 2). Label 1: `o0` error 1, desire -1; `o1` error
/// 0, no desire. `S_h0 = 0.75 * (-1)`: desire -1. Traces stay binary:
/// `w(h0, c0) -= 0.25 * 2.75`, `w(h0, c1) -= 0.25 * 1.75`, and `o0` (fired
/// at 2 and 3) `w(o0, h0) -= 0.25 (1 + 1.75)`.
#[test]
fn dropout_scales_spikes_but_not_traces() {
    let mut net = hand_net();
    let input = hand_input();
    let drop = Dropout {
        keep: vec![None, Some(vec![true, false])],
        scale: vec![1.0, 2.0],
    };
    let pass = desire::forward(&net, &input, &drop);
    assert_eq!(pass.counts, vec![vec![2, 0], vec![2, 2]]);
    let d = desire::desire(&net, &pass, 1, &drop, &hand_options(), 4);
    assert_eq!(d.active[1], vec![true, false]);
    assert_eq!((d.active[0][0], d.positive[0][0]), (true, false));
    desire::update(&mut net, &input, &pass, &d, &drop, 0.25);
    assert_eq!(rows(&net.layers[0]), vec![0.3125, 0.0625, 0.25, 0.5]);
    assert_eq!(rows(&net.layers[1]), vec![0.0625, 1.0, 0.5, -0.5]);

    // A dropped neuron never fires, whatever its input.
    let drop = Dropout {
        keep: vec![None, Some(vec![false, false])],
        scale: vec![1.0, 2.0],
    };
    let pass = desire::forward(&net, &input, &drop);
    assert_eq!(pass.counts[0], vec![0, 0]);
}

#[test]
fn the_paper_decision_rule_counts_a_tie_wrong() {
    assert!(desire::unique_max(&[1, 5, 2], 1));
    assert!(!desire::unique_max(&[5, 5, 2], 0));
    assert!(!desire::unique_max(&[0, 0, 0], 2));
}

/// A small Desire run: 784-64-10 on the embedded subset.
fn small(epochs: usize) -> TrainConfig {
    let mut c = TrainConfig::desire(vec![784, 64, 10]);
    c.epochs = epochs;
    c.val_images = 300;
    c.limit_train = Some(1500);
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
fn desire_learns_on_a_small_subset_and_the_network_maps_onto_the_hardware() {
    let mut c = small(3);
    c.limit_train = Some(2000);
    let t = trained(c);
    let first = &t.log[0];
    let last = t.log.last().unwrap();
    // Chance is 10 %; on hardware semantics (quantized, integer model) too.
    assert!(last.val_float_accuracy > 0.7, "{last:?}");
    assert!(last.val_hw_accuracy > 0.7, "{last:?}");
    // The desire's output error falls as it learns.
    assert!(last.train_loss < first.train_loss, "{:?}", t.log);
    let net = t.network();
    net.validate("trained").unwrap();
    let params = onespike_compiler::HwParams::from_preset_or_file("default").unwrap();
    let (q, _) = onespike_compiler::quantize::quantize(&net, params.weight_bits).unwrap();
    onespike_compiler::map_balanced(&q, &params, None).unwrap();
    // Both decision rules are reported; a tie can only cost.
    let data = embedded_default();
    let fin = t.final_report(&data.test).unwrap();
    assert!(fin.test_hw_unique_max_accuracy <= fin.test_hw_accuracy);
    assert!(fin.test_hw_unique_max_accuracy > 0.6, "{fin:?}");
}

/// The Desire forward pass (`f32`, event driven) is the compiler's float
/// model (`run_discrete`, `f64`) spike for spike on a trained network.
#[test]
fn the_forward_pass_is_the_float_model_spike_for_spike() {
    let t = trained(small(1));
    let net = t.network();
    let dn = t.desire_net(&t.weights);
    let data = embedded_default();
    let mut spikes = 0;
    for k in 0..40 {
        let input = net.encoding.encode(data.test.image(k));
        let want = run_discrete(&net, &input);
        let ev: Vec<(u32, u32)> = input.iter().map(|s| (s.step, s.neuron)).collect();
        let pass = desire::forward(
            &dn,
            &desire::input_steps(&ev, dn.time_steps),
            &Dropout::none(&dn),
        );
        for (l, s) in pass.spikes.iter().enumerate() {
            let got: Vec<(u32, u32)> = s
                .iter()
                .enumerate()
                .flat_map(|(t, n)| n.iter().map(move |&j| (t as u32, j)))
                .collect();
            let mut w: Vec<(u32, u32)> = want.spikes.layers[l]
                .iter()
                .map(|s| (s.step, s.neuron))
                .collect();
            w.sort_unstable();
            assert_eq!(got, w, "image {k}, layer {l}");
            spikes += got.len();
        }
    }
    assert!(spikes > 400, "{spikes} spikes");
}

#[test]
fn the_same_seed_gives_the_same_weights_whatever_the_threads() {
    let mut c = small(1);
    c.limit_train = Some(400);
    c.desire.pixel_dropout = 0.05;
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

#[test]
fn desire_options_have_their_defaults_and_limits() {
    let file = |text: &str| {
        let mut r = Recipe::new();
        r.apply_toml(text, std::path::Path::new("r.toml"))?;
        r.finish()
    };
    let c = file("method = \"desire\"\narch = \"784-100-10\"\n").unwrap();
    assert_eq!(
        (c.batch_size, c.input_steps, c.time_steps, c.qat_epochs),
        (1, 20, 21, 0)
    );
    assert_eq!(c.learning_rate, 1e-5);
    assert_eq!(c.lr_decay, (-0.04f64).exp());
    assert_eq!(c.desire, DesireOptions::default());
    let msg = |text: &str| file(text).unwrap_err().to_string();
    for (text, words) in [
        (
            "method = \"desire\"\nbatch-size = 4\n",
            &["batch-size", "must be 1"][..],
        ),
        (
            "method = \"desire\"\nqat-epochs = 1\nepochs = 3\n",
            &["qat-epochs", "must be 0"],
        ),
        (
            "method = \"desire\"\nsurrogate = \"triangle\"\n",
            &["surrogate", "does not apply"],
        ),
        (
            "method = \"desire\"\nerror-margin = 20\n",
            &["error-margin", "less than input-steps = 20"],
        ),
        ("method = \"desire\"\ndropout = 1\n", &["dropout", "[0, 1)"]),
        (
            "method = \"desire\"\ni-shift = 1\n",
            &["i-shift", "must be 0"],
        ),
        (
            "method = \"desire\"\nssr-weight = 0.1\n",
            &["ssr-weight", "method = ttfs only"],
        ),
        (
            "method = \"bptt\"\ndropout = 0.2\n",
            &["dropout", "method = desire only"],
        ),
    ] {
        let m = msg(text);
        assert!(words.iter().all(|w| m.contains(w)), "{text}: {m}");
        assert!(m.contains("r.toml"), "{m}");
    }
}

#[test]
fn a_resumed_run_trains_the_weights_of_an_uninterrupted_one() {
    let mut c = small(2);
    c.limit_train = Some(300);
    let data = embedded_default();
    let full = trained(c.clone());
    let mut t = Trainer::new(c).unwrap();
    let prep = t.prepare(&data.train).unwrap();
    let dir = std::env::temp_dir().join(format!("onespike-desire-ck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ck = dir.join("ck.json");
    t.train(&prep, 1, &mut NoProgress, Some(&ck)).unwrap();
    let mut resumed = Trainer::load_checkpoint(&ck).unwrap();
    assert_eq!(resumed.epochs_done, 1);
    resumed.train(&prep, 2, &mut NoProgress, None).unwrap();
    assert_eq!(resumed.weights, full.weights);
    std::fs::remove_dir_all(&dir).unwrap();
}
