//! Property tests of the mapping (`partition::map_balanced`) over random
//! sparse networks and hardware configs: capacities are never exceeded,
//! every synapse lands exactly once, and a tiny interpreter that executes a
//! program from its images gives the reference model's spikes.

use onespike_compiler::program::MapError;
use onespike_compiler::reference::{saturate, RunOptions, Widths};
use onespike_compiler::{
    map_balanced, HwParams, InputEncoding, Program, QuantNetwork, ReferenceModel,
};
use proptest::prelude::*;

/// Executes `prog` from its images with the §2 step semantics: every core
/// integrates, then every spike of the step (inputs and neurons) is
/// delivered through the pointer and weight SRAMs of each listening core.
/// Returns `spikes[core][local]`.
fn interpret(prog: &Program, input: &[Option<u32>]) -> Vec<Vec<Option<u32>>> {
    let p = &prog.params;
    let mut cur: Vec<Vec<i64>> = prog
        .cores
        .iter()
        .map(|c| vec![0; c.neurons as usize])
        .collect();
    let mut pot = cur.clone();
    let mut fired: Vec<Vec<Option<u32>>> = prog
        .cores
        .iter()
        .map(|c| vec![None; c.neurons as usize])
        .collect();
    for t in 0..prog.time_steps {
        let mut events: Vec<u32> = input
            .iter()
            .enumerate()
            .filter(|(_, s)| **s == Some(t))
            .map(|(i, _)| i as u32)
            .collect();
        for (c, core) in prog.cores.iter().enumerate() {
            for j in 0..core.neurons as usize {
                if fired[c][j].is_none() {
                    pot[c][j] = saturate(pot[c][j] + cur[c][j], p.membrane_bits);
                    if pot[c][j] >= core.threshold {
                        fired[c][j] = Some(t);
                        events.push(p.neuron_source_id(c as u32, j as u32));
                    }
                }
            }
        }
        for &src in &events {
            for (c, core) in prog.cores.iter().enumerate() {
                if src < core.listen_base || src >= core.listen_base + core.pointers.len() as u32 {
                    continue;
                }
                let e = core.pointers[(src - core.listen_base) as usize];
                for w in &core.weights[e.base as usize..(e.base + e.count) as usize] {
                    let j = w.target as usize;
                    cur[c][j] = saturate(cur[c][j] + w.weight as i64, p.current_bits);
                }
            }
        }
    }
    fired
}

/// A random sparse network and a config: sizes, density, thresholds and
/// capacities all vary, small enough to keep the suite quick.
fn case() -> impl Strategy<Value = (QuantNetwork, HwParams, Vec<Option<u32>>)> {
    (
        prop::collection::vec(1u32..40, 2..5),
        0.05f64..0.9,
        prop::sample::select(vec![2u32, 4, 8, 16]),
        any::<u64>(),
        2u32..10,
        prop::sample::select(vec![16u32, 32, 64, 128, 512]),
    )
        .prop_map(|(sizes, density, n_per, seed, thr, wdepth)| {
            let mut rng = seed;
            let mut next = move || {
                // xorshift64*: a dependency-free stream from the proptest seed.
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng
            };
            let time_steps = 24;
            let layers = sizes
                .windows(2)
                .map(|w| {
                    let weights = (0..w[0] * w[1])
                        .map(|_| {
                            let r = next();
                            if (r % 1000) as f64 / 1000.0 < density {
                                ((r >> 20) % 15) as i32 - 5
                            } else {
                                0
                            }
                        })
                        .collect();
                    (w[1], thr as i64, weights)
                })
                .collect();
            let net = QuantNetwork::dense(sizes[0], InputEncoding::new(8), time_steps, 8, layers);
            let mut p = HwParams::preset("small").unwrap();
            p.neurons_per_core = n_per;
            p.weight_depth = wdepth;
            p.cores = 64;
            p.current_bits = 16;
            let input = (0..sizes[0])
                .map(|_| {
                    let r = next() % 10;
                    if r < 8 {
                        Some(r as u32)
                    } else {
                        None
                    }
                })
                .collect();
            (net, p, input)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn mapping_keeps_capacities_synapses_and_spikes((net, p, input) in case()) {
        let (prog, report) = match map_balanced(&net, &p, None) {
            Ok(x) => x,
            // A refusal must name a limit and a fix.
            Err(MapError::DoesNotFit { suggestion, .. }) => { prop_assert!(suggestion.contains("set ")); return Ok(()); }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        // Capacities (validate checks them too; repeat them here as the property).
        prop_assert!(prog.cores.len() as u32 <= p.cores);
        for c in &prog.cores {
            prop_assert!(c.neurons <= p.neurons_per_core);
            prop_assert!(c.weights.len() <= p.weight_depth as usize);
            prop_assert!(c.pointers.len() <= p.pointer_depth as usize);
        }
        prop_assert!(report.cores_used as u64 >= report.cores_lower_bound);
        // Every synapse exactly once: rebuild the weight matrices from the images.
        let mut seen: Vec<Vec<i32>> = net.layers.iter().map(|l| vec![0; l.weights.len()]).collect();
        let mut index_of = std::collections::HashMap::new();
        for (l, slots) in prog.neurons.iter().enumerate() {
            for (j, s) in slots.iter().enumerate() {
                prop_assert!(index_of.insert((s.core, s.local), (l, j)).is_none(), "slot used twice");
            }
        }
        for (c, core) in prog.cores.iter().enumerate() {
            for (off, e) in core.pointers.iter().enumerate() {
                let src = core.listen_base + off as u32;
                for w in &core.weights[e.base as usize..(e.base + e.count) as usize] {
                    let (l, j) = index_of[&(c as u32, w.target)];
                    prop_assert_eq!(l, core.layer as usize);
                    let i = if l == 0 { src as usize } else {
                        let (pl, pi) = prog.neuron_of(src).expect("source is a neuron");
                        prop_assert_eq!(pl, l - 1);
                        pi
                    };
                    let k = j * net.layers[l].inputs as usize + i;
                    prop_assert_eq!(seen[l][k], 0, "synapse listed twice");
                    seen[l][k] = w.weight;
                }
            }
        }
        for (l, layer) in net.layers.iter().enumerate() {
            prop_assert_eq!(&seen[l], &layer.weights, "layer {} weights differ", l);
        }
        // The images compute the reference model's spikes.
        let opt = RunOptions { widths: Widths::from(&p), early_exit: false };
        let want = ReferenceModel::new(&net).run(&input, opt).unwrap();
        let got = interpret(&prog, &input);
        for (l, slots) in prog.neurons.iter().enumerate() {
            for (j, s) in slots.iter().enumerate() {
                prop_assert_eq!(got[s.core as usize][s.local as usize], want.spikes.first_steps(l)[j], "layer {} neuron {}", l, j);
            }
        }
        // The file round-trips and reloads through validation.
        let text = serde_json::to_string(&prog).unwrap();
        let back: Program = serde_json::from_str(&text).unwrap();
        prop_assert!(back.validate("round trip").is_ok());
    }
}

#[test]
fn too_few_cores_names_the_binding_layer_its_count_and_the_total() {
    let mut p = HwParams::preset("small").unwrap();
    p.neurons_per_core = 4;
    p.cores = 3;
    let layers = vec![(10, 3, vec![1; 30]), (2, 3, vec![1; 20])];
    let net = QuantNetwork::dense(3, InputEncoding::new(4), 16, 8, layers);
    let msg = map_balanced(&net, &p, None).unwrap_err().to_string();
    assert!(
        msg.contains("cores is 3, layer 0 needs 3")
            && msg.contains("needs 4 cores in all, 1 over")
            && msg.contains("set "),
        "{msg}"
    );
    p.cores = 4;
    p.weight_depth = 16;
    // Layer 1 has 20 synapses: weight entries now force a second core for it.
    let msg = map_balanced(&net, &p, None).unwrap_err().to_string();
    assert!(msg.contains("needs 5 cores in all, 1 over"), "{msg}");
}

/// Networks that do not fit, and the configuration their refusal suggests.
fn refused_with_suggestion(net: &QuantNetwork, p: &HwParams) -> HwParams {
    let err = map_balanced(net, p, None).unwrap_err().to_string();
    let shape = onespike_compiler::fit::NetShape::of_quant(net);
    let d = onespike_compiler::fit::diagnose(&shape, p, None).expect("refused");
    assert!(err.contains(d.binding().limit), "{err}");
    d.suggestion.expect("a configuration holds it")
}

#[test]
fn following_the_suggestion_of_a_refusal_maps() {
    // 196-200-10 dense on `small`: weight SRAM binds, not neurons; the old
    // advice (`set cores = 21`) ran into pointer_depth next.
    let net = QuantNetwork::dense(
        196,
        InputEncoding::new(4),
        32,
        8,
        vec![(200, 3, vec![1; 196 * 200]), (10, 3, vec![1; 2000])],
    );
    let small = HwParams::preset("small").unwrap();
    let err = map_balanced(&net, &small, None).unwrap_err().to_string();
    assert!(
        err.contains("weight SRAM binds") && err.contains("layer 0's 39200 synapses"),
        "{err}"
    );
    let mut fixed = refused_with_suggestion(&net, &small);
    fixed.validate("suggestion").unwrap();
    map_balanced(&net, &fixed, None).expect("the suggestion fits every limit");
    // The same for a layer wider than every core of `tiny` together.
    let net = QuantNetwork::dense(
        25,
        InputEncoding::new(4),
        16,
        8,
        vec![(8, 3, vec![1; 200]), (3000, 3, vec![1; 24000])],
    );
    let tiny = HwParams::preset("tiny").unwrap();
    fixed = refused_with_suggestion(&net, &tiny);
    map_balanced(&net, &fixed, None).expect("the suggestion fits every limit");
}

#[test]
fn a_million_output_layer_is_refused_within_seconds() {
    let net = QuantNetwork::dense(
        25,
        InputEncoding::new(4),
        16,
        8,
        vec![(8, 3, vec![1; 200]), (1_000_000, 3, vec![1; 8_000_000])],
    );
    let t = std::time::Instant::now();
    let err = map_balanced(&net, &HwParams::preset("tiny").unwrap(), None)
        .unwrap_err()
        .to_string();
    let secs = t.elapsed().as_secs_f64();
    assert!(
        err.contains("set ") && !err.contains("cores = 12501"),
        "{err}"
    );
    assert!(secs < 20.0, "refusing took {secs:.1} s");
}

#[test]
fn balanced_mapping_evens_out_synapses() {
    // 8 neurons with fan-in 8,7,...,1 on cores of 4: in-order puts 26 vs 10
    // synapses on the two cores; LPT gives 18 vs 18.
    let mut weights = Vec::new();
    for j in 0..8u32 {
        for i in 0..8u32 {
            weights.push(if i < 8 - j { 1 } else { 0 });
        }
    }
    let net = QuantNetwork::dense(8, InputEncoding::new(4), 16, 8, vec![(8, 3, weights)]);
    let mut p = HwParams::preset("small").unwrap();
    p.neurons_per_core = 4;
    let (prog, rep) = map_balanced(&net, &p, None).unwrap();
    assert_eq!(prog.cores.len(), 2);
    assert_eq!(rep.cycles_lower_bound, 18.0);
    assert_eq!(rep.cores_lower_bound, 2);
}

#[test]
fn a_recurrent_layer_listens_to_its_own_ids_and_a_too_wide_one_is_refused() {
    use onespike_compiler::NeuronModel;
    // 784 inputs into a recurrent layer of 20 and a readout of 10 on
    // `default`: the layer's cores get a second window over the layer's ids.
    let n_in = 784u32;
    let ff: Vec<i32> = (0..20 * n_in).map(|k| (k % 7 == 0) as i32).collect();
    let mut net = QuantNetwork::dense(
        n_in,
        InputEncoding::rate(20),
        20,
        8,
        vec![(20, 50, ff), (10, 5, vec![1; 200])],
    );
    net.layers[0].neuron = NeuronModel::lif(2);
    net.layers[0].recurrent = Some((0..400).map(|k| if k % 21 == 0 { 0 } else { -1 }).collect());
    let p = HwParams::preset("default").unwrap();
    let (prog, _) = map_balanced(&net, &p, None).unwrap();
    let own: Vec<u32> = prog.neurons[0]
        .iter()
        .map(|s| p.neuron_source_id(s.core, s.local))
        .collect();
    for c in prog.cores.iter().filter(|c| c.layer == 0) {
        assert!(c.rec_len > 0, "a recurrent core has a second window");
        for &id in &own {
            assert!(
                c.pointer_of(id).is_some(),
                "core listens to its layer's id {id}"
            );
        }
        assert_eq!(c.neuron, NeuronModel::lif(2));
    }
    assert!(prog
        .cores
        .iter()
        .filter(|c| c.layer == 1)
        .all(|c| c.rec_len == 0));
    // 784 + 300 own ids exceed pointer_depth = 1024: refused, naming it.
    let ff: Vec<i32> = (0..300 * n_in).map(|k| (k % 97 == 0) as i32).collect();
    let mut wide = QuantNetwork::dense(n_in, InputEncoding::rate(20), 20, 8, vec![(300, 50, ff)]);
    wide.layers[0].neuron = NeuronModel::lif(2);
    wide.layers[0].recurrent = Some((0..300 * 300).map(|k| -((k % 301 == 7) as i32)).collect());
    let err = map_balanced(&wide, &p, None).unwrap_err().to_string();
    assert!(
        err.contains("pointer_depth") && err.contains("recurrent"),
        "{err}"
    );
}
