//! Exact cycle counts of simple inferences, pinned so that the simulator
//! (`sim/`) can mirror the RTL (the formulas are those of docs/hw.md): an
//! inference with no event, one event with `k` synapses, one event with none.

use onespike_compiler::ir::{LayerKind, QuantLayer, FORMAT_VERSION, QUANT_FORMAT};
use onespike_compiler::{map_in_order, HwParams, InputEncoding, Program, QuantNetwork};
use onespike_hw::driver::{Driver, RunConfig};
use onespike_hw::hdl_model::HdlModel;
use onespike_hw::tiny_params;

/// 3 inputs -> 5 neurons that never fire; input 0 has 3 synapses, input 1
/// one, input 2 none.
fn program(p: &HwParams, time_steps: u32) -> Program {
    #[rustfmt::skip]
    let weights = vec![
        5, 1, 0,
        5, 0, 0,
        5, 0, 0,
        0, 0, 0,
        0, 0, 0,
    ];
    let net = QuantNetwork {
        format: QUANT_FORMAT.into(),
        version: FORMAT_VERSION,
        input_size: 3,
        encoding: InputEncoding::new(4),
        time_steps,
        weight_bits: 8,
        layers: vec![QuantLayer {
            kind: LayerKind::Dense,
            inputs: 3,
            outputs: 5,
            threshold: 100_000,
            scale: 1.0,
            weights,
            neuron: Default::default(),
            recurrent: None,
        }],
        decision: Default::default(),
    };
    map_in_order(&net, p).unwrap()
}

fn cycles(input: &[Option<u32>]) -> u64 {
    let p = tiny_params();
    let prog = program(&p, 10);
    let run = RunConfig {
        early_exit: false,
        all_spikes: true,
        max_cycles: 100_000,
        ..Default::default()
    };
    onespike_hw::with_config!(&p, T => {
        let mut d = Driver::new(HdlModel::<T>::new(&p), &p);
        d.load(&prog, &run).unwrap();
        let r = d.infer(&prog, input, &run).unwrap();
        assert_eq!(r.steps_run, 10);
        r.cycles
    })
    .unwrap()
}

/// `(N + 2) + T * (n_max + 6)`.
const N: u64 = 8;
const T: u64 = 10;
const N_MAX: u64 = 5;
const BASE: u64 = (N + 2) + T * (N_MAX + 6);

#[test]
fn an_inference_without_events_costs_the_sweep_formula() {
    assert_eq!(cycles(&[None, None, None]), BASE);
}

#[test]
fn an_event_with_k_synapses_adds_k_plus_3() {
    assert_eq!(cycles(&[Some(0), None, None]), BASE + 3 + 3);
    assert_eq!(cycles(&[None, Some(0), None]), BASE + 1 + 3);
    // The same event at a later step costs the same.
    assert_eq!(cycles(&[Some(7), None, None]), BASE + 3 + 3);
}

#[test]
fn an_event_without_synapses_costs_two_more_cycles() {
    assert_eq!(cycles(&[None, None, Some(0)]), BASE + 2);
}

#[test]
fn back_to_back_events_of_one_step_cost_their_synapses() {
    // Inputs 0 (3 synapses) and 1 (1 synapse) at the same step: the second
    // event is popped in the cycle of the first one's last weight read.
    assert_eq!(cycles(&[Some(2), Some(2), None]), BASE + 3 + 1 + 3);
}
