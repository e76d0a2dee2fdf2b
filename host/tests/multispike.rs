//! The two hand-built multi-spike networks of `onespike_train::templates` (a
//! Desire-BP-shaped rate-coded LIF network with the spike-count decision,
//! and its recurrent, laterally inhibiting twin) and a small network trained
//! by the BPTT trainer (`method = bptt`, a recurrent hidden layer) compile
//! for the `default` preset, classify the embedded MNIST subset far above chance on the
//! reference model and the simulator alike, and give identical spikes and
//! cycle counts on the simulator, the rust-hdl RTL and Verilator.

use onespike_compiler::reference::{ReferenceModel, RunOptions, Widths};
use onespike_compiler::{map_balanced, quantize::quantize, HwParams, Program, QuantNetwork};
use onespike_dataset::embedded_default;
use onespike_hw::driver::{Driver, RunConfig};
use onespike_hw::hdl_model::HdlModel;
use onespike_sim::{SimOptions, Simulator};
use onespike_train::templates::{lif_templates, wta_recurrent};

/// 784-32-10 multi-spike, recurrent hidden layer, trained by BPTT for two
/// epochs on 1000 images of the embedded subset (seconds).
fn bptt_trained(data: &onespike_dataset::Dataset) -> onespike_compiler::FloatNetwork {
    let mut c = onespike_train::TrainConfig::bptt(vec![784, 32, 10]);
    c.epochs = 2;
    c.val_images = 200;
    c.limit_train = Some(1000);
    c.batch_size = 16;
    c.input_steps = 12;
    c.time_steps = 14;
    c.qat_epochs = 1;
    c.bptt.recurrent = true;
    let mut t = onespike_train::Trainer::new(c).unwrap();
    let prep = t.prepare(&data.train).unwrap();
    t.train(&prep, 2, &mut onespike_train::NoProgress, None)
        .unwrap();
    t.network()
}

fn compiled(net: &onespike_compiler::FloatNetwork, p: &HwParams) -> (QuantNetwork, Program) {
    let (q, _) = quantize(net, p.weight_bits).unwrap();
    let (prog, _) = map_balanced(&q, p, None).unwrap();
    (q, prog)
}

#[test]
fn template_and_trained_networks_classify_and_agree_on_every_backend() {
    let data = embedded_default();
    let p = HwParams::preset("default").unwrap();
    let nets = [
        ("lif templates", lif_templates(&data.train, 4, 20).unwrap()),
        (
            "recurrent wta",
            wta_recurrent(&data.train, 4, 20, 0.25).unwrap(),
        ),
        ("bptt-trained 784-32-10 recurrent", bptt_trained(&data)),
    ];
    for (what, net) in &nets {
        let (q, prog) = compiled(net, &p);
        assert!(q.multi_spike() && prog.decision == onespike_compiler::Decision::SpikeCount);
        let opt = RunOptions {
            widths: Widths::from(&p),
            early_exit: false,
        };
        let model = ReferenceModel::new(&q);
        let mut sim = Simulator::new(&prog).unwrap();
        let sopts = SimOptions::default();
        // Accuracy on 200 test images: reference and simulator agree image
        // by image, and the hand-built network is far above chance.
        let n = 200;
        let mut correct = 0;
        for k in 0..n {
            let input = q.encoding.encode(data.test.image(k));
            let r = model.run(&input, opt).unwrap();
            let s = sim.run(&input, &sopts).unwrap();
            assert_eq!(s.spikes.output(), r.spikes.output(), "{what}: image {k}");
            assert_eq!(s.class(), r.class, "{what}: image {k}");
            correct += (r.class == data.test.labels[k] as usize) as usize;
        }
        let acc = correct as f64 / n as f64;
        assert!(acc > 0.6, "{what}: accuracy {acc}");
        // Both RTL backends: every layer's spikes and the cycle count.
        let run = RunConfig::default();
        let all = SimOptions {
            all_spikes: true,
            ..sopts
        };
        let images: Vec<_> = (0..2)
            .map(|k| q.encoding.encode(data.test.image(k)))
            .collect();
        let want: Vec<_> = images.iter().map(|i| sim.run(i, &all).unwrap()).collect();
        for w in &want {
            assert!(
                w.spikes.layers.iter().all(|l| !l.is_empty()),
                "{what}: every layer spikes"
            );
        }
        onespike_hw::with_config!(&p, T => {
            let mut d = Driver::new(HdlModel::<T>::new(&p), &p);
            d.load(&prog, &run).unwrap();
            let got = d.infer(&prog, &images[0], &run).unwrap();
            assert_eq!(got.spikes, want[0].spikes, "{what}: rust-hdl spikes");
            assert_eq!(got.cycles, want[0].cycles, "{what}: rust-hdl cycles");
        })
        .unwrap();
        match onespike_verilator::VerilatorModel::new(&p) {
            Ok(m) => {
                let mut d = Driver::new(m, &p);
                d.load(&prog, &run).unwrap();
                for (i, w) in images.iter().zip(&want) {
                    let got = d.infer(&prog, i, &run).unwrap();
                    assert_eq!(got.spikes, w.spikes, "{what}: Verilator spikes");
                    assert_eq!(got.cycles, w.cycles, "{what}: Verilator cycles");
                }
            }
            // Verilator missing is a skip only where it is not installed.
            Err(e) => assert!(!onespike_verilator::available(), "{what}: {e}"),
        }
        println!(
            "{what}: accuracy {:.1}% on {n} images; {} cycles on image 0 (simulator = rust-hdl = Verilator)",
            100.0 * acc,
            want[0].cycles
        );
    }
}
