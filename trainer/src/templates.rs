//! Template networks: multi-spike leaky networks built from class means,
//! with no gradient at all. They exist so that the neuron modes of
//! `docs/semantics.md` can be exercised end to end (compile, simulate,
//! RTL) on real data before the multi-spike trainers land; they are not a
//! training method of any of the project's papers.
//!
//! - [`lif_templates`]: the shape of Desire back-propagation's networks
//!   (Gerlinghoff et al. 2023): rate-coded input, a hidden layer of discrete
//!   LIF neurons with decay 0.75 (`v_shift = 2`), instant synapses
//!   (`i_shift = 0`) and reset by subtraction, an output layer of the same
//!   neurons, and the spike-count decision. Hidden neuron `h` is a template
//!   of class `h % 10`: the mean of a disjoint part of that class's
//!   training images, minus the mean image over all classes; the output
//!   neuron of class `c` sums its class's templates and is inhibited by the
//!   others.
//! - [`wta_recurrent`]: the same network with a recurrent hidden layer:
//!   every hidden neuron inhibits the templates of the other classes
//!   (lateral inhibition, winner-take-all), BPSR's spiking recurrent layer
//!   in its simplest hand-set form.
//!
//! Weights are normalized so that a typical image of the template's class
//! drives a hidden neuron at about its threshold per step.

use onespike_compiler::ir::{FloatLayer, FloatNetwork, LayerKind, FLOAT_FORMAT, FORMAT_VERSION};
use onespike_compiler::{Decision, InputEncoding, NeuronModel};
use onespike_dataset::Split;

/// Classes of the data sets this is meant for (MNIST, Fashion-MNIST).
const CLASSES: usize = 10;

/// Why a template network cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("templates_per_class is {0}, must be in 1..=64")]
    PerClass(usize),
    #[error("time_steps is {0}, must be in 2..=256")]
    Steps(u32),
    #[error("class {class} has {have} training images, {need} needed for {need} templates")]
    TooFewImages {
        class: usize,
        have: usize,
        need: usize,
    },
    #[error("labels must be in 0..{CLASSES}; found {0}")]
    Label(u8),
}

/// The Desire-BP-shaped template network (see the module doc):
/// `pixels`-`10 * per_class`-10, rate input over `time_steps`.
pub fn lif_templates(
    train: &Split,
    per_class: usize,
    time_steps: u32,
) -> Result<FloatNetwork, TemplateError> {
    if !(1..=64).contains(&per_class) {
        return Err(TemplateError::PerClass(per_class));
    }
    if !(2..=256).contains(&time_steps) {
        return Err(TemplateError::Steps(time_steps));
    }
    let n_in = train.image_size();
    let hidden = CLASSES * per_class;
    // Mean image over everything, and per (class, part).
    let mut all = vec![0f64; n_in];
    let mut sums = vec![vec![0f64; n_in]; hidden];
    let mut counts = vec![0usize; hidden];
    let mut seen = [0usize; CLASSES];
    for k in 0..train.len() {
        let c = train.labels[k] as usize;
        if c >= CLASSES {
            return Err(TemplateError::Label(train.labels[k]));
        }
        let h = c + CLASSES * (seen[c] % per_class);
        seen[c] += 1;
        for (i, &p) in train.image(k).iter().enumerate() {
            let x = p as f64 / 255.0;
            all[i] += x;
            sums[h][i] += x;
        }
        counts[h] += 1;
    }
    for (c, &n) in seen.iter().enumerate() {
        if n < per_class {
            return Err(TemplateError::TooFewImages {
                class: c,
                have: n,
                need: per_class,
            });
        }
    }
    let total = train.len().max(1) as f64;
    all.iter_mut().for_each(|x| *x /= total);
    let mut w1 = vec![0f32; hidden * n_in];
    for h in 0..hidden {
        let n = counts[h].max(1) as f64;
        // Template minus the mean image, scaled so that the template's own
        // mean image gives a drive of 1 per step (the threshold).
        let t: Vec<f64> = (0..n_in).map(|i| sums[h][i] / n - all[i]).collect();
        let drive: f64 = (0..n_in).map(|i| t[i] * sums[h][i] / n).sum();
        let scale = if drive > 0.0 { 1.0 / drive } else { 0.0 };
        for i in 0..n_in {
            w1[h * n_in + i] = (t[i] * scale) as f32;
        }
    }
    // Output c: +1 from its templates, -0.3 from the others.
    let mut w2 = vec![0f32; CLASSES * hidden];
    for c in 0..CLASSES {
        for h in 0..hidden {
            w2[c * hidden + h] = if h % CLASSES == c { 1.0 } else { -0.3 };
        }
    }
    let lif = NeuronModel::lif(2);
    Ok(FloatNetwork {
        format: FLOAT_FORMAT.into(),
        version: FORMAT_VERSION,
        input_size: n_in as u32,
        encoding: InputEncoding::rate(time_steps),
        time_steps,
        layers: vec![
            FloatLayer {
                kind: LayerKind::Dense,
                inputs: n_in as u32,
                outputs: hidden as u32,
                threshold: 1.0,
                weights: w1,
                neuron: lif,
                recurrent: None,
            },
            FloatLayer {
                kind: LayerKind::Dense,
                inputs: hidden as u32,
                outputs: CLASSES as u32,
                threshold: 1.0,
                weights: w2,
                neuron: lif,
                recurrent: None,
            },
        ],
        decision: Decision::SpikeCount,
        held_out: None,
    })
}

/// [`lif_templates`] with lateral inhibition: a recurrent hidden layer in
/// which each spike inhibits the other classes' templates by `inhibition`
/// (in units of the threshold).
pub fn wta_recurrent(
    train: &Split,
    per_class: usize,
    time_steps: u32,
    inhibition: f32,
) -> Result<FloatNetwork, TemplateError> {
    let mut net = lif_templates(train, per_class, time_steps)?;
    let hidden = net.layers[0].outputs as usize;
    let rec = (0..hidden * hidden)
        .map(|k| {
            let (to, from) = (k / hidden, k % hidden);
            if to % CLASSES != from % CLASSES {
                -inhibition
            } else {
                0.0
            }
        })
        .collect();
    net.layers[0].recurrent = Some(rec);
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Split {
        // Ten classes of 2x2 images: class c lights pixel c % 4 brightly.
        let mut pixels = Vec::new();
        let mut labels = Vec::new();
        for k in 0..40u8 {
            let c = k % 10;
            let mut im = [10u8; 4];
            im[(c % 4) as usize] = 250;
            pixels.extend_from_slice(&im);
            labels.push(c);
        }
        Split {
            rows: 2,
            cols: 2,
            pixels,
            labels,
        }
    }

    #[test]
    fn shapes_modes_and_validation() {
        let net = lif_templates(&toy(), 2, 20).unwrap();
        net.validate("templates").unwrap();
        assert_eq!((net.layers[0].outputs, net.layers[1].outputs), (20, 10));
        assert_eq!(net.layers[0].neuron, NeuronModel::lif(2));
        assert_eq!(net.decision, Decision::SpikeCount);
        let wta = wta_recurrent(&toy(), 2, 20, 0.5).unwrap();
        wta.validate("wta").unwrap();
        let r = wta.layers[0].recurrent.as_ref().unwrap();
        // Same class: no inhibition; other classes: -0.5.
        assert_eq!(r[0], 0.0);
        assert_eq!(r[10], 0.0);
        assert_eq!(r[1], -0.5);
        assert!(matches!(
            lif_templates(&toy(), 5, 20),
            Err(TemplateError::TooFewImages { .. })
        ));
        assert!(lif_templates(&toy(), 0, 20).is_err());
    }
}
