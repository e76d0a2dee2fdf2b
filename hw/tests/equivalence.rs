//! Whole-accelerator runs in rust-hdl simulation whose spikes, final
//! potentials and step counts must equal the reference model's.

mod common;

use common::*;
use onespike_hw::hdl_model::HdlModel;
use onespike_hw::tiny_params;

fn run_tiny(sizes: &[u32], density: f64, seed: u64, inputs: usize, early_exit: bool) -> (u64, u64) {
    let p = tiny_params();
    let net = random_network(seed, sizes, density, 24);
    let ins = random_inputs(seed, sizes[0] as usize, inputs, 8);
    onespike_hw::with_config!(&p, T => {
        let model = HdlModel::<T>::new(&p);
        check_equivalence(model, &p, &net, &ins, early_exit)
    })
    .unwrap()
}

#[test]
fn one_layer_matches_the_reference() {
    let (c, b) = run_tiny(&[6, 5], 0.6, 1, 4, false);
    println!("cycles {c}, synaptic lower bound {b}");
}

#[test]
fn random_sparse_two_layer_networks_match_the_reference() {
    for seed in 2..5 {
        let (c, b) = run_tiny(&[12, 10, 4], 0.35, seed, 4, false);
        println!("seed {seed}: cycles {c}, synaptic lower bound {b}");
    }
}

#[test]
fn early_exit_matches_the_reference() {
    run_tiny(&[12, 10, 4], 0.4, 7, 4, true);
}

#[test]
fn layers_spanning_several_cores_and_full_fifos_match() {
    // 20 inputs into 16 hidden neurons (two cores) into 6: many events per
    // step against FIFOs of 4 entries exercise back-pressure.
    let (c, b) = run_tiny(&[20, 16, 6], 0.5, 11, 3, false);
    println!("cycles {c}, synaptic lower bound {b}");
}

#[test]
fn output_only_mode_streams_exactly_the_output_layer_spikes() {
    use onespike_compiler::reference::{ReferenceModel, RunOptions, Widths};
    use onespike_hw::driver::{Driver, RunConfig};
    let p = tiny_params();
    let net = random_network(3, &[12, 10, 4], 0.35, 24);
    let prog = onespike_compiler::map_in_order(&net, &p).unwrap();
    let run = RunConfig {
        early_exit: false,
        all_spikes: false,
        max_cycles: 1_000_000,
        ..Default::default()
    };
    let reference = ReferenceModel::new(&net);
    let mut outputs_seen = 0;
    onespike_hw::with_config!(&p, T => {
        let mut d = Driver::new(HdlModel::<T>::new(&p), &p);
        d.load(&prog, &run).unwrap();
        for input in random_inputs(3, 12, 4, 8) {
            let want = reference.run(&input, RunOptions { widths: Widths::from(&p), early_exit: false }).unwrap();
            let got = d.infer(&prog, &input, &run).unwrap();
            assert!(got.spikes.layers[0].is_empty(), "hidden spikes on the output stream");
            assert_eq!(got.spikes.layers[1], want.spikes.layers[1]);
            assert_eq!(got.final_v, want.final_v);
            outputs_seen += want.spikes.layers[1].len();
        }
    })
    .unwrap();
    assert!(outputs_seen > 0);
}

#[test]
fn every_input_spiking_in_one_step_into_full_fifos_loses_nothing() {
    // 32 inputs (max_inputs of tiny) all at step 0 into two cores of 8
    // neurons with dense weights: 32 events per core against FIFOs of 4.
    let p = tiny_params();
    let net = random_network(5, &[32, 16, 4], 1.0, 16);
    let all_at_zero = vec![vec![Some(0); 32], (0..32).map(|i| Some(i % 3)).collect()];
    onespike_hw::with_config!(&p, T => {
        check_equivalence(HdlModel::<T>::new(&p), &p, &net, &all_at_zero, false)
    })
    .unwrap();
}
