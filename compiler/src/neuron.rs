//! The neuron: one definition of the per-layer neuron model and its
//! per-step update, shared by the reference model and the simulator (the
//! RTL's neuron block is tested exhaustively against [`NeuronModel::step`]).
//!
//! A layer's neuron is a current-based integrate-and-fire neuron with
//! power-of-two leaks (`docs/semantics.md`, "The neuron"): per step, a
//! neuron that may still fire does
//!
//! ```text
//! V = sat_V(V - leak(V, v_shift) + I)
//! spike if V >= theta; then reset: once (disabled from now on),
//!                                  subtract (V -= theta) or zero (V = 0)
//! I = I - leak(I, i_shift)
//! ```
//!
//! and `subtract_next`, snnTorch's reset (`reset_delay`): `V` is kept at
//! the spike and `theta` is subtracted, undecayed, in the next step's
//! update, `V = sat_V((V - theta) - leak(V, v_shift) + I)`: the discrete
//! `V[t] = beta V[t-1] + x[t] - theta s[t-1]` of snnTorch's `Leaky` and
//! `Synaptic`. The fired flag holds "spiked in the previous step".
//! `V - theta` cannot overflow there (the spike left `V >= theta`).
//!
//! with `leak(x, None) = 0` and `leak(x, Some(k)) = x >> k` (arithmetic
//! shift). Deliveries `I = sat_I(I + w)` happen after the update, in the
//! same step. The time-to-first-spike neuron is the default
//! (`v_shift = i_shift = None`, `reset = once`).

use crate::ir::IrError;
use serde::{Deserialize, Serialize};

/// What happens to a neuron when it spikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reset {
    /// Fires at most once per inference, then is disabled (TTFS).
    #[default]
    Once,
    /// `V -= theta` (reset by subtraction; keeps the excess).
    Subtract,
    /// `V = 0`.
    Zero,
    /// `V` kept at the spike; `theta` subtracted, undecayed, in the next
    /// step's update (snnTorch's reset).
    SubtractNext,
}

impl Reset {
    /// Register code (the `reset` field of the neuron-mode register).
    pub fn code(self) -> u64 {
        match self {
            Reset::Once => 0,
            Reset::Subtract => 1,
            Reset::Zero => 2,
            Reset::SubtractNext => 3,
        }
    }
    pub fn from_code(c: u64) -> Option<Reset> {
        match c {
            0 => Some(Reset::Once),
            1 => Some(Reset::Subtract),
            2 => Some(Reset::Zero),
            3 => Some(Reset::SubtractNext),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Reset::Once => "once",
            Reset::Subtract => "subtract",
            Reset::Zero => "zero",
            Reset::SubtractNext => "subtract_next",
        }
    }
}

/// Largest leak shift a layer may use (the shift field is 6 bits wide;
/// any shift at or beyond a state's width acts like `width - 1`).
pub const MAX_SHIFT: u32 = 63;

/// The neuron parameters of one layer. In a file, a leak may be given as a
/// shift (`v_shift`, `i_shift`) or as a per-step decay factor (`v_decay`,
/// `i_decay`, as other tools write it), which must then be `1 - 2^-k`
/// (or 1 for none): any other decay is refused, naming the nearest `k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "NeuronFile")]
pub struct NeuronModel {
    /// Membrane leak `V -= V >> k` per step (`None`: no leak). `k = 2` is a
    /// decay of 0.75.
    #[serde(default)]
    pub v_shift: Option<u32>,
    /// Current leak `I -= I >> k` per step (`None`: the current is held,
    /// the ramp of TTFS; `Some(0)`: emptied every step, instant synapse).
    #[serde(default)]
    pub i_shift: Option<u32>,
    #[serde(default)]
    pub reset: Reset,
}

/// The file form of [`NeuronModel`]: shifts or decays.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NeuronFile {
    #[serde(default)]
    v_shift: Option<u32>,
    #[serde(default)]
    i_shift: Option<u32>,
    #[serde(default)]
    v_decay: Option<f64>,
    #[serde(default)]
    i_decay: Option<f64>,
    #[serde(default)]
    reset: Reset,
}

impl TryFrom<NeuronFile> for NeuronModel {
    type Error = String;
    fn try_from(f: NeuronFile) -> Result<NeuronModel, String> {
        let pick = |name: &str, shift: Option<u32>, decay: Option<f64>| match (shift, decay) {
            (Some(_), Some(_)) => Err(format!(
                "neuron: give {name}_shift or {name}_decay, not both"
            )),
            (s, None) => Ok(s),
            (None, Some(d)) => {
                NeuronModel::shift_of_decay(d).map_err(|e| format!("neuron.{name}_decay: {e}"))
            }
        };
        Ok(NeuronModel {
            v_shift: pick("v", f.v_shift, f.v_decay)?,
            i_shift: pick("i", f.i_shift, f.i_decay)?,
            reset: f.reset,
        })
    }
}

/// State of one neuron.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NeuronState {
    pub v: i64,
    pub i: i64,
    /// Disabled after its spike (`reset = once`); spiked in the previous
    /// step (`reset = subtract_next`).
    pub fired: bool,
}

/// Saturation bounds of the state, from the widths of `HwParams`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub i_min: i64,
    pub i_max: i64,
    pub v_min: i64,
    pub v_max: i64,
}

impl Bounds {
    pub fn of_widths(current_bits: u32, membrane_bits: u32) -> Bounds {
        Bounds {
            i_min: -(1i64 << (current_bits - 1)),
            i_max: (1i64 << (current_bits - 1)) - 1,
            v_min: -(1i64 << (membrane_bits - 1)),
            v_max: (1i64 << (membrane_bits - 1)) - 1,
        }
    }
}

/// What one update did (for the cost model and the coverage counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// Disabled neuron (`reset = once` after its spike): nothing computed.
    Skipped,
    /// Updated: whether it spiked, and whether `V` saturated.
    Done { spiked: bool, saturated: bool },
}

/// `x >> k` for `Some(k)` (arithmetic), 0 for `None`.
pub fn leak(x: i64, shift: Option<u32>) -> i64 {
    match shift {
        None => 0,
        Some(k) => x >> k.min(63),
    }
}

impl NeuronModel {
    /// The time-to-first-spike neuron (non-leaky, held current, fire once).
    pub const TTFS: NeuronModel = NeuronModel {
        v_shift: None,
        i_shift: None,
        reset: Reset::Once,
    };

    /// The discrete LIF of surrogate-gradient training: membrane decay
    /// `1 - 2^-k`, instant synapse, reset by subtraction.
    pub fn lif(v_shift: u32) -> NeuronModel {
        NeuronModel {
            v_shift: Some(v_shift),
            i_shift: Some(0),
            reset: Reset::Subtract,
        }
    }

    pub fn is_ttfs(&self) -> bool {
        *self == NeuronModel::TTFS
    }

    /// Whether a neuron may spike more than once per inference.
    pub fn multi_spike(&self) -> bool {
        self.reset != Reset::Once
    }

    /// Checks the shifts; `field` names the layer's field in errors.
    pub fn validate(&self, origin: &str, field: &str) -> Result<(), IrError> {
        for (name, s) in [("v_shift", self.v_shift), ("i_shift", self.i_shift)] {
            if let Some(k) = s {
                if k > MAX_SHIFT {
                    return Err(IrError::field(
                        origin,
                        format!("{field}.{name}"),
                        format!("is {k}, must be in 0..={MAX_SHIFT} (or null for no leak)"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// One step's update of one neuron (before this step's deliveries).
    pub fn step(&self, s: &mut NeuronState, theta: i64, b: &Bounds) -> Update {
        let pending = self.reset == Reset::SubtractNext && s.fired;
        if s.fired && !pending {
            return Update::Skipped;
        }
        let base = if pending { s.v - theta } else { s.v };
        let raw = base - leak(s.v, self.v_shift) + s.i;
        let v = raw.clamp(b.v_min, b.v_max);
        let spike = v >= theta;
        s.v = match (spike, self.reset) {
            (true, Reset::Subtract) => v - theta,
            (true, Reset::Zero) => 0,
            _ => v,
        };
        match self.reset {
            Reset::Once => s.fired |= spike,
            Reset::SubtractNext => s.fired = spike,
            _ => {}
        }
        s.i -= leak(s.i, self.i_shift);
        Update::Done {
            spiked: spike,
            saturated: raw != v,
        }
    }

    /// A delivery `I = sat(I + w)`.
    pub fn deliver(s: &mut NeuronState, w: i64, b: &Bounds) {
        s.i = (s.i + w).clamp(b.i_min, b.i_max);
    }

    /// Which shift leaks `x` every step with decay factor `decay`
    /// (`x <- decay * x`): `1` is no leak, `1 - 2^-k` is shift `k`, `0` is
    /// shift 0. Any other decay is refused, naming the nearest shift.
    pub fn shift_of_decay(decay: f64) -> Result<Option<u32>, String> {
        if !decay.is_finite() || !(0.0..=1.0).contains(&decay) {
            return Err(format!("decay {decay} is outside [0, 1]"));
        }
        const TOL: f64 = 1e-6;
        if (decay - 1.0).abs() <= TOL {
            return Ok(None);
        }
        // decay = 1 - 2^-k  <=>  k = -log2(1 - decay)
        let k_real = -(1.0 - decay).log2();
        let k = k_real.round().clamp(0.0, MAX_SHIFT as f64) as u32;
        let exact = 1.0 - (-(k as f64)).exp2();
        if (exact - decay).abs() <= TOL {
            Ok(Some(k))
        } else {
            Err(format!(
                "decay {decay} is not of the form 1 - 2^-k; the nearest is k = {k} (decay {exact})"
            ))
        }
    }

    /// The decay factor of a shift (`1 - 2^-k`, or 1 for none).
    pub fn decay_of_shift(shift: Option<u32>) -> f64 {
        match shift {
            None => 1.0,
            Some(k) => 1.0 - (-(k as f64)).exp2(),
        }
    }

    /// The neuron-mode register word (layout in `layout::neuron_mode`).
    pub fn pack(&self) -> u64 {
        crate::layout::neuron_mode_layout().pack_raw(&[
            self.reset.code(),
            self.v_shift.is_some() as u64,
            self.v_shift.unwrap_or(0) as u64,
            self.i_shift.is_some() as u64,
            self.i_shift.unwrap_or(0) as u64,
        ])
    }

    /// Decodes the neuron-mode register word (`None` for a reset code that
    /// does not exist).
    pub fn unpack(word: u64) -> Option<NeuronModel> {
        let l = crate::layout::neuron_mode_layout();
        let shift =
            |en: &str, k: &str| (l.get_raw(word, en) == 1).then(|| l.get_raw(word, k) as u32);
        Some(NeuronModel {
            reset: Reset::from_code(l.get_raw(word, "reset"))?,
            v_shift: shift("v_leak", "v_shift"),
            i_shift: shift("i_leak", "i_shift"),
        })
    }
}

/// A bound on `|I|` of a neuron of this model: `per_step` is the sum of
/// its positive (or of its negative) weights, each source counted once
/// (the most one step can deliver, every source spiking at most once per
/// step); `per_run` the same sum with each weight multiplied by the most
/// spikes its source can send in one inference. While the bound fits the
/// current width, deliveries never saturate, so the order of the events
/// within a step cannot matter (`docs/semantics.md`, "Saturation").
pub fn current_bound(model: &NeuronModel, per_step: i64, per_run: i64) -> i64 {
    match model.i_shift {
        // Emptied every step: one step's deliveries at most.
        Some(0) => per_step,
        // Held: every spike adds up.
        None => per_run,
        // Leaky: I' <= I (1 - 2^-k) + 1 + per_step, fixed point 2^k (per_step + 1).
        Some(k) => per_step
            .saturating_add(1)
            .saturating_mul(1i64 << k.min(62))
            .min(per_run),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Bounds = Bounds {
        i_min: -128,
        i_max: 127,
        v_min: -512,
        v_max: 511,
    };

    #[test]
    fn ttfs_integrates_held_current_and_fires_once() {
        let m = NeuronModel::TTFS;
        let mut s = NeuronState {
            i: 5,
            ..Default::default()
        };
        assert_eq!(
            m.step(&mut s, 10, &B),
            Update::Done {
                spiked: false,
                saturated: false
            }
        );
        assert_eq!((s.v, s.i), (5, 5));
        assert_eq!(
            m.step(&mut s, 10, &B),
            Update::Done {
                spiked: true,
                saturated: false
            }
        );
        assert!(s.fired);
        assert_eq!(s.v, 10, "a fired TTFS neuron keeps its potential");
        assert_eq!(m.step(&mut s, 10, &B), Update::Skipped);
        assert_eq!(s.v, 10);
    }

    #[test]
    fn subtract_and_zero_resets() {
        // V = 8 + 5 crosses theta = 10: subtract keeps 3, zero drops it.
        for (reset, v_after) in [(Reset::Subtract, 3), (Reset::Zero, 0)] {
            let mut s = NeuronState {
                v: 8,
                i: 5,
                fired: false,
            };
            let m = NeuronModel {
                reset,
                ..NeuronModel::TTFS
            };
            assert_eq!(
                m.step(&mut s, 10, &B),
                Update::Done {
                    spiked: true,
                    saturated: false
                }
            );
            assert_eq!(s.v, v_after, "{reset:?}");
            assert!(!s.fired);
        }
    }

    #[test]
    fn subtract_next_subtracts_undecayed_one_step_later() {
        // snnTorch's Leaky, beta = 0.75 (v_shift 2), theta = 10, input 6 per
        // step: V[t] = V - V >> 2 + 6 - 10 s[t-1].
        let m = NeuronModel {
            v_shift: Some(2),
            i_shift: Some(0),
            reset: Reset::SubtractNext,
        };
        let mut s = NeuronState::default();
        let mut trace = Vec::new();
        for _ in 0..6 {
            s.i = 6;
            let spiked = matches!(m.step(&mut s, 10, &B), Update::Done { spiked: true, .. });
            trace.push((s.v, spiked));
        }
        // 6; 6-1+6 = 11 spikes (kept); 11-2+6-10 = 5; 5-1+6 = 10 spikes;
        // 10-2+6-10 = 4; 4-1+6 = 9.
        assert_eq!(
            trace,
            [(6, false), (11, true), (5, false), (10, true), (4, false), (9, false)]
        );
    }

    #[test]
    fn leaks_shift_arithmetically_with_the_dead_zone() {
        let m = NeuronModel {
            v_shift: Some(2),
            i_shift: Some(1),
            reset: Reset::Zero,
        };
        let mut s = NeuronState {
            v: 100,
            i: 0,
            fired: false,
        };
        m.step(&mut s, 1000, &B);
        assert_eq!(s.v, 75);
        // Dead zone: 0 < V < 2^k stops decaying.
        let mut s = NeuronState {
            v: 3,
            ..Default::default()
        };
        m.step(&mut s, 1000, &B);
        assert_eq!(s.v, 3);
        // Negative V decays to -1, then 0.
        let mut s = NeuronState {
            v: -5,
            ..Default::default()
        };
        let mut seen = vec![];
        for _ in 0..4 {
            m.step(&mut s, 1000, &B);
            seen.push(s.v);
        }
        assert_eq!(seen, vec![-3, -2, -1, 0]);
        // Current leak happens after the membrane update.
        let mut s = NeuronState {
            v: 0,
            i: 9,
            fired: false,
        };
        m.step(&mut s, 1000, &B);
        assert_eq!((s.v, s.i), (9, 5));
        // i_shift = 0 empties the current.
        let m0 = NeuronModel::lif(2);
        let mut s = NeuronState {
            v: 0,
            i: -9,
            fired: false,
        };
        m0.step(&mut s, 1000, &B);
        assert_eq!((s.v, s.i), (-9, 0));
    }

    #[test]
    fn membrane_saturates_before_the_compare_and_the_reset() {
        let m = NeuronModel {
            reset: Reset::Subtract,
            ..NeuronModel::TTFS
        };
        let mut s = NeuronState {
            v: 500,
            i: 100,
            fired: false,
        };
        assert_eq!(
            m.step(&mut s, 511, &B),
            Update::Done {
                spiked: true,
                saturated: true
            }
        );
        assert_eq!(s.v, 0);
    }

    #[test]
    fn decay_to_shift() {
        assert_eq!(NeuronModel::shift_of_decay(0.75), Ok(Some(2)));
        assert_eq!(NeuronModel::shift_of_decay(0.5), Ok(Some(1)));
        assert_eq!(NeuronModel::shift_of_decay(0.0), Ok(Some(0)));
        assert_eq!(NeuronModel::shift_of_decay(1.0), Ok(None));
        let e = NeuronModel::shift_of_decay(0.9).unwrap_err();
        assert!(e.contains("k = 3"), "{e}");
        assert!(NeuronModel::shift_of_decay(1.5).is_err());
    }

    #[test]
    fn decays_in_files_become_shifts_or_are_refused() {
        let m: NeuronModel =
            serde_json::from_str(r#"{"v_decay": 0.75, "i_decay": 0.0, "reset": "subtract"}"#)
                .unwrap();
        assert_eq!(m, NeuronModel::lif(2));
        let e = serde_json::from_str::<NeuronModel>(r#"{"v_decay": 0.9}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("v_decay") && e.contains("k = 3"), "{e}");
        assert!(serde_json::from_str::<NeuronModel>(r#"{"v_decay": 0.5, "v_shift": 1}"#).is_err());
        assert!(serde_json::from_str::<NeuronModel>(r#"{"bogus": 1}"#).is_err());
        // Shifts serialize as shifts and load back.
        let text = serde_json::to_string(&NeuronModel::lif(2)).unwrap();
        assert_eq!(
            serde_json::from_str::<NeuronModel>(&text).unwrap(),
            NeuronModel::lif(2)
        );
    }

    #[test]
    fn register_word_round_trips() {
        for reset in [Reset::Once, Reset::Subtract, Reset::Zero, Reset::SubtractNext] {
            for v_shift in [None, Some(0), Some(5), Some(63)] {
                for i_shift in [None, Some(0), Some(1), Some(40)] {
                    let m = NeuronModel {
                        v_shift,
                        i_shift,
                        reset,
                    };
                    assert_eq!(NeuronModel::unpack(m.pack()), Some(m));
                }
            }
        }
        assert_eq!(NeuronModel::TTFS.pack(), 0, "TTFS is the reset value");
    }
}
