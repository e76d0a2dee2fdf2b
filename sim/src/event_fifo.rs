//! `event_fifo`: timing model of the accelerator's first-word-fall-through
//! FIFO (`hw/src/event_fifo.rs`), used for each core's event FIFO and
//! spike queue.
//!
//! The RTL keeps words in a block RAM with a synchronous read plus one head
//! slot (a word in flight from the RAM, or held). Its timing reduces to
//! three facts, which this model keeps per word instead of per cycle:
//! - word `i`, pushed in cycle `p_i`, reaches the head (`valid`) in cycle
//!   `v_i = max(p_i + 2, x_{i-1} + 1)`, where `x_{i-1}` is the cycle the
//!   previous word was popped (the RAM read is issued in cycle `v_i - 1`);
//! - so a word sits in the RAM during cycles `p_i + 1 ..= v_i - 1`, and the
//!   FIFO is `full` in cycle `y` when `depth` words sit in the RAM;
//! - a word is in the FIFO (occupancy) during cycles `p_i + 1 ..= x_i`.
//!
//! The FIFO is empty at every step boundary (the step controller only
//! advances once everything drained), so a word list covers one step and
//! is cleared at the next.

/// Word-level timing of one FIFO during one step.
#[derive(Debug, Clone, Default)]
pub struct EventFifo {
    /// RAM entries (`fifo_depth`, or `neurons_per_core` for a spike queue).
    depth: u32,
    /// Push cycle of each word of this step, non-decreasing.
    push: Vec<u64>,
    /// Pop cycle of each word popped (or scheduled to pop) so far, in order.
    pop: Vec<u64>,
    /// Words known to have left the RAM by the last `ram_words` query.
    issued: usize,
    /// Words pushed before the last `ram_words` query cycle.
    pushed_before: usize,
    /// Pops at or before the last push (for the occupancy high-water mark).
    popped_by_push: usize,
    /// Largest number of words held at once (RAM plus head), over the run.
    pub max_occupancy: u32,
}

impl EventFifo {
    pub fn new(depth: u32) -> EventFifo {
        EventFifo {
            depth,
            ..Default::default()
        }
    }

    /// Empties the word list (start of a step; the RTL FIFO is empty then).
    pub fn clear(&mut self) {
        self.push.clear();
        self.pop.clear();
        self.issued = 0;
        self.pushed_before = 0;
        self.popped_by_push = 0;
    }

    /// RAM entries of this FIFO.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Words pushed in this step.
    pub fn len(&self) -> usize {
        self.push.len()
    }

    pub fn is_empty(&self) -> bool {
        self.push.is_empty()
    }

    /// Words pushed and not yet popped (scheduled pops count as popped).
    pub fn unpopped(&self) -> usize {
        self.push.len() - self.pop.len()
    }

    /// Push cycle of word `i`.
    pub fn push_cycle(&self, i: usize) -> u64 {
        self.push[i]
    }

    /// Appends a word pushed in cycle `p` (pushes come in cycle order).
    pub fn push(&mut self, p: u64) {
        debug_assert!(self.push.last().copied().unwrap_or(0) <= p);
        self.push.push(p);
    }

    /// Cycle in which word `i` reaches the head, if the pop of word `i - 1`
    /// is known.
    pub fn valid_cycle(&self, i: usize) -> Option<u64> {
        let p = *self.push.get(i)?;
        if i == 0 {
            Some(p + 2)
        } else {
            self.pop.get(i - 1).map(|&x| (p + 2).max(x + 1))
        }
    }

    /// Cycle in which the next unpopped word reaches the head.
    pub fn head_valid_cycle(&self) -> Option<u64> {
        self.valid_cycle(self.pop.len())
    }

    /// Pops (or schedules the pop of) the head word in cycle `x`.
    pub fn pop_at(&mut self, x: u64) {
        debug_assert!(
            self.head_valid_cycle().is_some_and(|v| v <= x),
            "pop before the word is valid"
        );
        self.pop.push(x);
    }

    /// Pop cycle of word `i`, once known.
    pub fn pop_cycle(&self, i: usize) -> Option<u64> {
        self.pop.get(i).copied()
    }

    /// Updates the occupancy high-water mark after the last push: the words
    /// held in the cycle after it. Needs every pop up to that cycle known
    /// (true of the event FIFO, whose pops the core schedules at push time).
    pub fn note_occupancy_after_last_push(&mut self) {
        let Some(&p) = self.push.last() else { return };
        while self.popped_by_push < self.pop.len() && self.pop[self.popped_by_push] <= p {
            self.popped_by_push += 1;
        }
        let held = (self.push.len() - self.popped_by_push) as u32;
        self.max_occupancy = self.max_occupancy.max(held);
    }

    /// Words in the RAM in cycle `y` (queries come in non-decreasing `y`).
    pub fn ram_words(&mut self, y: u64) -> usize {
        while self.pushed_before < self.push.len() && self.push[self.pushed_before] < y {
            self.pushed_before += 1;
        }
        while self.issued < self.pushed_before
            && self.valid_cycle(self.issued).is_some_and(|v| v <= y)
        {
            self.issued += 1;
        }
        self.pushed_before - self.issued
    }

    /// Whether the RAM is full in cycle `y` (a push would be ignored, so
    /// the router waits).
    pub fn full_at(&mut self, y: u64) -> bool {
        self.ram_words(y) >= self.depth as usize
    }

    /// After a `full_at(y)` that returned true: the first cycle in which the
    /// RAM is no longer full, provided nothing is pushed meanwhile (the
    /// oldest RAM word is read out then).
    pub fn unfull_cycle(&self) -> u64 {
        self.valid_cycle(self.issued)
            .expect("a full FIFO's oldest word has a known pop of its predecessor")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_pushed_into_an_empty_fifo_is_valid_two_cycles_later() {
        let mut f = EventFifo::new(4);
        f.push(10);
        assert_eq!(f.head_valid_cycle(), Some(12));
        assert_eq!(f.ram_words(10), 0);
        assert_eq!(f.ram_words(11), 1);
        assert_eq!(f.ram_words(12), 0);
    }

    #[test]
    fn back_to_back_pops_and_capacity_of_depth_plus_one() {
        // Push one word per cycle from cycle 0 into a 4-entry RAM with no pop:
        // the head takes word 0 in cycle 2, the RAM holds words 1..=4 and is
        // full from cycle 5, so the sixth push (cycle 5) must wait.
        let mut f = EventFifo::new(4);
        for p in 0..5 {
            assert!(!f.full_at(p), "cycle {p}");
            f.push(p);
        }
        assert!(f.full_at(5));
        // Pop word 0 at 20: word 1 is read out in cycle 20, valid at 21.
        f.pop_at(20);
        assert_eq!(f.unfull_cycle(), 21);
        assert!(f.full_at(20));
        assert!(!f.full_at(21));
        assert_eq!(f.head_valid_cycle(), Some(21));
    }
}
