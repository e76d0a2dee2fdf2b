//! Multi-spike programs on the whole accelerator (rust-hdl model) against
//! the reference model, spike for spike: every reset, membrane leaks none
//! to wide, currents held, emptied and leaking, recurrent layers (the
//! second listen window), rate-coded inputs, the three decisions with early
//! exit, `tiny_narrow` saturation, and host gaps and stalls.

mod common;

use common::*;
use onespike_compiler::reference::{ReferenceModel, RunOptions, Widths};
use onespike_compiler::regs::HostTiming;
use onespike_compiler::{map_balanced, Decision, InputEncoding, NeuronModel, QuantNetwork, Reset};
use onespike_hw::hdl_model::HdlModel;
use onespike_hw::{tiny_narrow_params, tiny_params};
use std::collections::BTreeSet;

/// Most spikes of one neuron in one inference, over the reference runs.
fn most_spikes_per_neuron(
    net: &QuantNetwork,
    inputs: &[Vec<onespike_compiler::Spike>],
    p: &onespike_compiler::HwParams,
) -> u32 {
    let r = ReferenceModel::new(net);
    let opt = RunOptions {
        widths: Widths::from(p),
        early_exit: false,
    };
    inputs
        .iter()
        .map(|i| {
            let run = r.run(i, opt).unwrap();
            (0..net.layers.len())
                .flat_map(|l| run.spikes.counts(l))
                .max()
                .unwrap_or(0)
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn multi_spike_networks_of_every_mode_match_the_reference() {
    let p = tiny_params();
    let (mut resets, mut vs, mut is) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let (mut recurrent, mut most) = (0, 0);
    for seed in 0..10 {
        // 12 hidden neurons span two cores of 8: a recurrent layer's second
        // window covers ids of both.
        let (net, prog, inputs) = random_modal_case(
            seed,
            &[10, 12, 6],
            0.4,
            20,
            InputEncoding::new(8),
            Decision::FirstSpike,
            &p,
            3,
        );
        for l in &net.layers {
            resets.insert(l.neuron.reset.name());
            vs.insert(l.neuron.v_shift);
            is.insert(l.neuron.i_shift);
            recurrent += l.recurrent.is_some() as u32;
        }
        most = most.max(most_spikes_per_neuron(&net, &inputs, &p));
        onespike_hw::with_config!(&p, T => {
            check_program(HdlModel::<T>::new(&p), &p, &net, &prog, &inputs, false, HostTiming::EAGER)
        })
        .unwrap();
    }
    assert_eq!(resets.len(), 3);
    assert_eq!(vs.len(), V_SHIFTS.len());
    assert_eq!(is.len(), I_SHIFTS.len());
    assert!(recurrent >= 3, "only {recurrent} recurrent layers");
    assert!(most >= 3, "no neuron spiked more than {most} times");
}

#[test]
fn rate_coded_inputs_match_the_reference() {
    let p = tiny_params();
    for seed in [1, 5, 9] {
        let (net, prog, inputs) = random_modal_case(
            seed,
            &[8, 10, 4],
            0.4,
            16,
            InputEncoding::rate(16),
            Decision::SpikeCount,
            &p,
            3,
        );
        assert!(
            inputs.iter().any(|e| e.len() > net.input_size as usize),
            "a rate code sends more than one spike per channel"
        );
        onespike_hw::with_config!(&p, T => {
            check_program(HdlModel::<T>::new(&p), &p, &net, &prog, &inputs, false, HostTiming::EAGER)
        })
        .unwrap();
    }
}

#[test]
fn early_exit_is_sent_only_under_the_first_spike_decision() {
    let p = tiny_params();
    for (seed, decision) in [
        (3, Decision::FirstSpike),
        (4, Decision::SpikeCount),
        (6, Decision::MaxPotential),
    ] {
        let (net, prog, inputs) = random_modal_case(
            seed,
            &[10, 8, 4],
            0.5,
            20,
            InputEncoding::new(6),
            decision,
            &p,
            3,
        );
        // check_program compares steps run and the class: the reference
        // ignores early exit outside first_spike, so must the hardware.
        onespike_hw::with_config!(&p, T => {
            check_program(HdlModel::<T>::new(&p), &p, &net, &prog, &inputs, true, HostTiming::EAGER)
        })
        .unwrap();
    }
}

#[test]
fn tiny_narrow_saturates_v_at_both_ends_and_matches() {
    let p = tiny_narrow_params();
    // 8 inputs into 6 neurons: 0..3 see -60 from every input (held current
    // -480, V saturates at -512), 3..6 see +20 (current 160, V saturates at
    // 511 = theta, spikes, reset subtract).
    let mut weights = Vec::new();
    for o in 0..6 {
        for _ in 0..8 {
            weights.push(if o < 3 { -60 } else { 20 });
        }
    }
    let mut net = QuantNetwork::dense(8, InputEncoding::new(1), 12, 8, vec![(6, 511, weights)]);
    net.layers[0].neuron = NeuronModel {
        reset: Reset::Subtract,
        ..NeuronModel::TTFS
    };
    net.decision = Decision::SpikeCount;
    let (prog, _) = map_balanced(&net, &p, None).unwrap();
    let inputs = vec![vec![Some(0); 8]];
    let r = ReferenceModel::new(&net)
        .run(
            &inputs[0],
            RunOptions {
                widths: Widths::from(&p),
                early_exit: false,
            },
        )
        .unwrap();
    assert_eq!(
        &r.final_v[..3],
        &[-512, -512, -512],
        "V saturates at the minimum"
    );
    assert!(
        r.spikes.counts(0)[3] >= 2,
        "the saturated neurons spike again and again"
    );
    onespike_hw::with_config!(&p, T => {
        check_program(HdlModel::<T>::new(&p), &p, &net, &prog, &inputs, false, HostTiming::EAGER);
    })
    .unwrap();
    // Random modal networks at 10 bits.
    for seed in [2, 7] {
        let (net, prog, inputs) = random_modal_case(
            seed,
            &[8, 10, 4],
            0.4,
            16,
            InputEncoding::new(8),
            Decision::FirstSpike,
            &p,
            3,
        );
        onespike_hw::with_config!(&p, T => {
            check_program(HdlModel::<T>::new(&p), &p, &net, &prog, &inputs, false, HostTiming::EAGER)
        })
        .unwrap();
    }
}

#[test]
fn host_gaps_and_stalls_change_cycles_but_no_spike() {
    let p = tiny_params();
    let (net, prog, inputs) = random_modal_case(
        8,
        &[10, 12, 6],
        0.4,
        20,
        InputEncoding::rate(12),
        Decision::SpikeCount,
        &p,
        3,
    );
    let timing = HostTiming {
        seed: 99,
        in_gap_percent: 30,
        out_stall_percent: 60,
    };
    let (eager, slow) = onespike_hw::with_config!(&p, T => {
        let (e, _) = check_program(HdlModel::<T>::new(&p), &p, &net, &prog, &inputs, false, HostTiming::EAGER);
        let (s, _) = check_program(HdlModel::<T>::new(&p), &p, &net, &prog, &inputs, false, timing);
        (e, s)
    })
    .unwrap();
    assert!(
        slow > eager,
        "gaps and stalls cost cycles: {slow} vs {eager}"
    );
}
