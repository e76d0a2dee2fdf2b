//! `step_controller`: the phase sequence of one inference
//! (`hw/src/step_controller.rs`) as cycle arithmetic.
//!
//! Cycle numbering of the simulator: cycle 0 is `Clear`, the cycle after
//! the host's `start`. Then `ClearWait` until every core finished its
//! `N`-cycle clear, and per step `t`: `Integ` (cycle `c`), `IntegWait`
//! until every core's sweep is idle, `Deliver` from `deliver_start` until
//! the cycle `d` in which everything is drained and the input stream is
//! quiet, `Advance` in `d + 1`, the next `Integ` in `d + 2`. The
//! accelerator's `cycles` counter counts `Clear` through the last `Advance`,
//! so an inference whose last `Deliver` ends in `d` costs `d + 2` cycles.

use crate::core::integrate_busy;

/// States of the step controller (codes as in the trace's `ctrl_phase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Idle = 0,
    Clear = 1,
    ClearWait = 2,
    Integ = 3,
    IntegWait = 4,
    Deliver = 5,
    Advance = 6,
    Done = 7,
}

/// Cycle of the first `Integ`: `Clear` (cycle 0), then `ClearWait` until
/// the cores, which clear `N` words in cycles `1 ..= N`, are idle in `N + 1`.
pub fn first_integrate_cycle(neurons_per_core: u32) -> u64 {
    neurons_per_core as u64 + 2
}

/// First `Deliver` cycle of a step whose `Integ` is cycle `c`: `IntegWait`
/// (from `c + 1`) ends in the first cycle in which every core is idle.
/// `n_max` is the largest number of neurons in use over all cores.
pub fn deliver_start(c: u64, n_max: u32) -> u64 {
    let all_idle = (integrate_busy(c, n_max).1 + 1).max(c + 1);
    all_idle + 1
}

/// Whether the controller goes to `Done` after the `Advance` of step `t`.
pub fn is_last_step(t: u32, time_steps: u32, early_exit: bool, output_fired: bool) -> bool {
    t + 1 == time_steps || (early_exit && output_fired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_free_inference_costs_the_documented_sweep_formula() {
        // docs/hw.md: (N + 2) + T * (n_max + 6).
        let (n, n_max, t_steps) = (8u32, 5u32, 10u32);
        let mut c = first_integrate_cycle(n);
        let mut total = 0;
        for t in 0..t_steps {
            let d = deliver_start(c, n_max); // Deliver lasts one cycle
            if is_last_step(t, t_steps, false, false) {
                total = d + 2;
            }
            c = d + 2;
        }
        assert_eq!(total, (n as u64 + 2) + t_steps as u64 * (n_max as u64 + 6));
    }

    #[test]
    fn with_no_neuron_in_use_integwait_lasts_one_cycle() {
        // Each core is busy only in c + 1, idle in c + 2.
        assert_eq!(deliver_start(100, 0), 103);
        assert_eq!(deliver_start(100, 1), 105);
    }
}
