//! Probe: import each snnTorch fixture and compare with snnTorch's counts.
use onespike_compiler::float_eval::run_discrete;
use onespike_compiler::reference::{ReferenceModel, RunOptions, Widths};
use onespike_compiler::{quantize::quantize, Coding, HwParams};
use onespike_nir::{h5, import, ImportOptions, ResetRule};
use std::path::Path;

fn main() {
    let data = onespike_host::data::load_dir(Path::new("../shared/data/mnist")).unwrap();
    let p = HwParams::preset("default").unwrap();
    let reset = match std::env::args().nth(1).as_deref() { Some("sub") => ResetRule::Subtract, Some("file") => ResetRule::File, _ => ResetRule::Snntorch };
    for name in ["leaky_mlp", "leaky_mlp_bias", "synaptic_mlp", "rleaky_rows", "conv"] {
        let path = format!("../shared/data/nir/{name}.nir");
        let f = h5::read(Path::new(&path)).unwrap();
        let exp: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!("../shared/data/nir/{name}.expected.json")).unwrap()).unwrap();
        let rows = name == "rleaky_rows";
        let opts = ImportOptions { coding: Some(if rows { Coding::Rows } else { Coding::Rate }), input_steps: Some(if rows { 28 } else { 20 }), reset, ..Default::default() };
        let (net, rep) = match import::import(&path, f.version.as_deref(), &f.graph, &opts) { Ok(x) => x, Err(e) => { println!("{name}: {e}"); continue; } };
        let counts = exp["first_200_test_images"]["output_spike_counts"].as_array().unwrap();
        let mut same = 0; let mut same_class = 0;
        for k in 0..200 {
            let input = net.encoding.encode(data.test.image(k));
            let r = run_discrete(&net, &input);
            let c = r.spikes.counts(net.layers.len()-1);
            let want: Vec<u32> = counts[k].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect();
            if c == want { same += 1; } else if k < 3 { println!("  img {k}: ours {c:?} snn {want:?}"); }
            if r.class == exp["first_200_test_images"]["predicted"][k].as_u64().unwrap() as usize { same_class += 1; }
        }
        let (q, _) = quantize(&net, p.weight_bits).unwrap();
        let model = ReferenceModel::new(&q);
        let opt = RunOptions { widths: Widths::from(&p), early_exit: false };
        let n = 10000; let mut correct = 0; let mut fcorrect = 0;
        let t0 = std::time::Instant::now();
        for k in 0..n {
            let input = q.encoding.encode(data.test.image(k));
            let r = model.run(&input, opt).unwrap();
            correct += (r.class == data.test.labels[k] as usize) as usize;
            let fr = run_discrete(&net, &input);
            fcorrect += (fr.class == data.test.labels[k] as usize) as usize;
        }
        println!("{name}: float counts equal {same}/200, class {same_class}/200; float acc {:.2} int acc {:.2} snn {:.2} ({:.1}s) bias {} layers {:?}", fcorrect as f64/100.0, correct as f64 / 100.0, exp["test_accuracy_10000"].as_f64().unwrap()*100.0, t0.elapsed().as_secs_f64(), rep.bias_channels, rep.layers.iter().map(|l| (l.neurons, l.relays, l.synapses)).collect::<Vec<_>>());
    }
}
