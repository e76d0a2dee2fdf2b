//! Spike records: the one representation of "who spiked when" that every
//! backend returns and every comparison reads, for fire-once and
//! multi-spike neurons alike, and the input side of it (events the host
//! sends).
//!
//! A [`SpikeRecord`] holds, per layer, the list of `(step, neuron)` spikes
//! sorted by step, then neuron index. A TTFS layer has at most one spike per
//! neuron; [`SpikeRecord::first_steps`] gives the old per-neuron view.

use serde::{Deserialize, Serialize};

/// One spike: neuron (or input channel) `neuron` at step `step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Spike {
    pub step: u32,
    pub neuron: u32,
}

/// Spikes of every layer of one inference, each layer sorted by
/// `(step, neuron)`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SpikeRecord {
    /// Neurons per layer.
    pub sizes: Vec<u32>,
    /// `layers[l]`: the spikes of layer `l`.
    pub layers: Vec<Vec<Spike>>,
}

impl SpikeRecord {
    /// An empty record for layers of these sizes.
    pub fn new(sizes: &[u32]) -> SpikeRecord {
        SpikeRecord {
            sizes: sizes.to_vec(),
            layers: vec![Vec::new(); sizes.len()],
        }
    }

    /// Adds a spike (in any order; call [`SpikeRecord::sort`] after).
    pub fn push(&mut self, layer: usize, step: u32, neuron: u32) {
        self.layers[layer].push(Spike { step, neuron });
    }

    /// Puts every layer in `(step, neuron)` order.
    pub fn sort(&mut self) {
        for l in &mut self.layers {
            l.sort_unstable();
        }
    }

    /// The first spike step of each neuron of `layer`.
    pub fn first_steps(&self, layer: usize) -> Vec<Option<u32>> {
        let mut out = vec![None; self.sizes[layer] as usize];
        for s in &self.layers[layer] {
            let e = &mut out[s.neuron as usize];
            if e.is_none_or(|t| s.step < t) {
                *e = Some(s.step);
            }
        }
        out
    }

    /// Spikes per neuron of `layer`.
    pub fn counts(&self, layer: usize) -> Vec<u32> {
        let mut out = vec![0; self.sizes[layer] as usize];
        for s in &self.layers[layer] {
            out[s.neuron as usize] += 1;
        }
        out
    }

    /// Spikes of `layer` per step, `steps` entries.
    pub fn per_step(&self, layer: usize, steps: u32) -> Vec<u32> {
        let mut out = vec![0; steps as usize];
        for s in &self.layers[layer] {
            if let Some(e) = out.get_mut(s.step as usize) {
                *e += 1;
            }
        }
        out
    }

    /// Spikes of all layers.
    pub fn total(&self) -> u64 {
        self.layers.iter().map(|l| l.len() as u64).sum()
    }

    /// The last layer's spikes (empty for a record with no layer).
    pub fn output(&self) -> &[Spike] {
        self.layers.last().map_or(&[], |l| l.as_slice())
    }

    /// The first difference from `other`, in time order: `(layer, spike
    /// only in self, spike only in other)`; `None` when equal.
    pub fn first_difference(
        &self,
        other: &SpikeRecord,
    ) -> Option<(usize, Option<Spike>, Option<Spike>)> {
        for (l, (a, b)) in self.layers.iter().zip(&other.layers).enumerate() {
            let mut i = 0;
            while i < a.len().max(b.len()) {
                let (x, y) = (a.get(i), b.get(i));
                if x != y {
                    // Report the earlier of the two as the missing or extra one.
                    return Some(match (x, y) {
                        (Some(x), Some(y)) if x < y => (l, Some(*x), None),
                        (Some(_), Some(y)) => (l, None, Some(*y)),
                        (x, y) => (l, x.copied(), y.copied()),
                    });
                }
                i += 1;
            }
        }
        None
    }
}

/// How the output layer decides the class (per network).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The output neuron that spikes first; ties to the lowest index; if
    /// none spikes, the largest final `V` (ties to the lowest index).
    /// Early exit applies to this decision only.
    #[default]
    FirstSpike,
    /// The output neuron with the most spikes; ties to the lowest index.
    SpikeCount,
    /// The largest final `V` (a non-spiking readout layer); ties to the
    /// lowest index.
    MaxPotential,
}

impl Decision {
    pub fn is_first_spike(&self) -> bool {
        *self == Decision::FirstSpike
    }
    pub fn name(self) -> &'static str {
        match self {
            Decision::FirstSpike => "first_spike",
            Decision::SpikeCount => "spike_count",
            Decision::MaxPotential => "max_potential",
        }
    }
    /// Whether early exit may end an inference under this decision.
    pub fn allows_early_exit(self) -> bool {
        self == Decision::FirstSpike
    }
}

/// Index of the largest value, ties to the lowest index (0 when empty).
fn argmax<T: PartialOrd + Copy>(xs: &[T]) -> usize {
    let mut best = 0;
    for (j, &x) in xs.iter().enumerate() {
        if x > xs[best] {
            best = j;
        }
    }
    best
}

/// The class of an inference from the output layer's spikes (sorted by
/// step, then neuron) and the output neurons' final potentials.
pub fn decide(decision: Decision, output: &[Spike], final_v: &[i64]) -> usize {
    match decision {
        Decision::FirstSpike => match output.iter().min() {
            Some(s) => s.neuron as usize,
            None => argmax(final_v),
        },
        Decision::SpikeCount => {
            let mut counts = vec![0u32; final_v.len()];
            for s in output {
                if let Some(c) = counts.get_mut(s.neuron as usize) {
                    *c += 1;
                }
            }
            argmax(&counts)
        }
        Decision::MaxPotential => argmax(final_v),
    }
}

/// Input events: `(step, channel)` spikes, which is what the host port
/// carries. Anything that lists input spikes implements it: per-channel
/// spike steps (`[Option<u32>]`, one latency-coded spike per pixel) or a
/// list of [`Spike`]s (any coding, many spikes per channel).
pub trait SpikeInput {
    /// The events, sorted by step, then channel (duplicates kept).
    fn events(&self) -> Vec<Spike>;
    /// Channels the input addresses: for a per-channel list its length,
    /// for an event list one past the largest channel.
    fn channel_count(&self) -> Option<usize>;
}

impl SpikeInput for [Option<u32>] {
    fn events(&self) -> Vec<Spike> {
        let mut ev: Vec<Spike> = self
            .iter()
            .enumerate()
            .filter_map(|(c, s)| {
                s.map(|step| Spike {
                    step,
                    neuron: c as u32,
                })
            })
            .collect();
        ev.sort_unstable();
        ev
    }
    fn channel_count(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl SpikeInput for Vec<Option<u32>> {
    fn events(&self) -> Vec<Spike> {
        self.as_slice().events()
    }
    fn channel_count(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl<const N: usize> SpikeInput for [Option<u32>; N] {
    fn events(&self) -> Vec<Spike> {
        self.as_slice().events()
    }
    fn channel_count(&self) -> Option<usize> {
        Some(N)
    }
}

impl SpikeInput for [Spike] {
    fn events(&self) -> Vec<Spike> {
        let mut ev = self.to_vec();
        ev.sort_unstable();
        ev
    }
    fn channel_count(&self) -> Option<usize> {
        None
    }
}

impl SpikeInput for Vec<Spike> {
    fn events(&self) -> Vec<Spike> {
        self.as_slice().events()
    }
    fn channel_count(&self) -> Option<usize> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_steps_counts_and_per_step() {
        let mut r = SpikeRecord::new(&[3]);
        r.push(0, 4, 2);
        r.push(0, 1, 2);
        r.push(0, 1, 0);
        r.sort();
        assert_eq!(r.first_steps(0), vec![Some(1), None, Some(1)]);
        assert_eq!(r.counts(0), vec![1, 0, 2]);
        assert_eq!(r.per_step(0, 5), vec![0, 2, 0, 0, 1]);
        assert_eq!(r.total(), 3);
    }

    #[test]
    fn the_three_decisions() {
        let sp = |step, neuron| Spike { step, neuron };
        let out = vec![sp(2, 1), sp(3, 0), sp(4, 0), sp(5, 2), sp(6, 2)];
        let v = [5, 9, 9];
        assert_eq!(decide(Decision::FirstSpike, &out, &v), 1);
        // Neurons 0 and 2 both spike twice: the lowest index wins.
        assert_eq!(decide(Decision::SpikeCount, &out, &v), 0);
        assert_eq!(decide(Decision::MaxPotential, &out, &v), 1);
        // No spike: first_spike falls back to the largest V, spike_count to 0.
        assert_eq!(decide(Decision::FirstSpike, &[], &[1, 3, 3]), 1);
        assert_eq!(decide(Decision::SpikeCount, &[], &[1, 3, 3]), 0);
        // Same-step first spikes: lowest index.
        assert_eq!(decide(Decision::FirstSpike, &[sp(1, 2), sp(1, 1)], &v), 1);
    }

    #[test]
    fn latency_inputs_become_sorted_events() {
        let inp = vec![Some(3), None, Some(0), Some(3)];
        let ev = inp.events();
        assert_eq!(
            ev,
            vec![
                Spike { step: 0, neuron: 2 },
                Spike { step: 3, neuron: 0 },
                Spike { step: 3, neuron: 3 }
            ]
        );
    }

    #[test]
    fn first_difference_is_the_earliest() {
        let mut a = SpikeRecord::new(&[4]);
        let mut b = SpikeRecord::new(&[4]);
        a.push(0, 1, 0);
        b.push(0, 1, 0);
        a.push(0, 5, 1);
        b.push(0, 3, 2);
        assert_eq!(
            a.first_difference(&b),
            Some((0, None, Some(Spike { step: 3, neuron: 2 })))
        );
        assert_eq!(a.first_difference(&a), None);
    }
}
