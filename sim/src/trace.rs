//! VCD traces of one inference, with the RTL's top-level signal names and
//! widths (from `HwParams`) so that a trace opens beside a rust-hdl or
//! Verilator trace of the same inference in GTKWave.
//!
//! The simulator does not step cycles, so it cannot sample signals; instead
//! the blocks record value changes (`set`, `add`, `interval`) at the cycles
//! they compute, and [`Trace::write_vcd`] sorts them and writes the
//! waveform. Time 0 is the cycle in which the host raises `start` (as the
//! driver does); each cycle is one clock period at `clock_mhz`, the rising
//! edge at its start. Beside the `top` pins, a `sim` scope holds the step
//! controller phase and, per core, `busy`, `fifo_words` (event FIFO
//! occupancy) and `spike_words` (spike queue occupancy).

use onespike_compiler::HwParams;
use std::io::{self, Write};
use vcd::{IdCode, TimescaleUnit, Value};

/// A traced signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sig {
    Start,
    Running,
    Done,
    Step,
    InValid,
    InSource,
    InStep,
    InReady,
    InEnd,
    OutValid,
    OutSource,
    OutStep,
    /// Step controller phase (the code of `step_controller::Phase`).
    Phase,
    CoreBusy(u32),
    CoreFifo(u32),
    CoreSpikes(u32),
}

const FIXED: usize = 13;

impl Sig {
    fn index(self) -> usize {
        match self {
            Sig::Start => 0,
            Sig::Running => 1,
            Sig::Done => 2,
            Sig::Step => 3,
            Sig::InValid => 4,
            Sig::InSource => 5,
            Sig::InStep => 6,
            Sig::InReady => 7,
            Sig::InEnd => 8,
            Sig::OutValid => 9,
            Sig::OutSource => 10,
            Sig::OutStep => 11,
            Sig::Phase => 12,
            Sig::CoreBusy(c) => FIXED + 3 * c as usize,
            Sig::CoreFifo(c) => FIXED + 3 * c as usize + 1,
            Sig::CoreSpikes(c) => FIXED + 3 * c as usize + 2,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Change {
    Set(i64),
    Add(i64),
}

/// Value changes of one inference, in simulator cycles (the `Clear`
/// cycle is 0; the `start` cycle before it is written at time 0).
#[derive(Debug, Clone)]
pub struct Trace {
    params: HwParams,
    /// `(trace cycle, signal index, change)`; trace cycle = model cycle + 1.
    changes: Vec<(u64, usize, Change)>,
    /// Cycles of the inference (the accelerator's counter at `done`).
    cycles: u64,
}

impl Trace {
    pub fn new(params: &HwParams) -> Trace {
        Trace {
            params: params.clone(),
            changes: Vec::new(),
            cycles: 0,
        }
    }

    /// Sets `sig` to `value` from model cycle `y` on.
    pub fn set(&mut self, y: u64, sig: Sig, value: u64) {
        self.changes
            .push((y + 1, sig.index(), Change::Set(value as i64)));
    }

    /// Adds `delta` to a counting signal from model cycle `y` on.
    pub fn add(&mut self, y: u64, sig: Sig, delta: i64) {
        self.changes.push((y + 1, sig.index(), Change::Add(delta)));
    }

    /// `sig` is 1 in model cycles `a ..= b`.
    pub fn interval(&mut self, sig: Sig, a: u64, b: u64) {
        self.set(a, sig, 1);
        self.set(b + 1, sig, 0);
    }

    /// `sig` is 1 in model cycle `y` only (later pulses win a tie).
    pub fn pulse(&mut self, y: u64, sig: Sig) {
        self.interval(sig, y, y);
    }

    /// The inference ended; `cycles` is the accelerator's counter.
    pub fn finish(&mut self, cycles: u64) {
        self.cycles = cycles;
    }

    /// Cycles of the traced inference.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Writes the waveform: from the `start` cycle to one cycle after `done`
    /// rose.
    pub fn write_vcd<W: Write>(&self, out: W) -> io::Result<()> {
        let p = &self.params;
        let period_ps = (1e6 / p.clock_mhz).round().max(2.0) as u64;
        let mut w = vcd::Writer::new(out);
        w.comment("onespike-sim: cycle-accurate model of the accelerator (one inference)")?;
        w.timescale(1, TimescaleUnit::PS)?;
        w.add_module("top")?;
        let sb = p.step_bits;
        let srcb = p.source_bits();
        let clock = w.add_wire(1, "clock")?;
        let reset = w.add_wire(1, "reset")?;
        let cycles = w.add_wire(32, "cycles")?;
        let out_ready = w.add_wire(1, "out_ready")?;
        // Signals in the order of `Sig::index`, with their widths.
        let fixed: [(&str, u32); FIXED] = [
            ("start", 1),
            ("running", 1),
            ("done", 1),
            ("step", sb),
            ("in_valid", 1),
            ("in_source", srcb),
            ("in_step", sb),
            ("in_ready", 1),
            ("in_end", 1),
            ("out_valid", 1),
            ("out_source", srcb),
            ("out_step", sb),
            ("ctrl_phase", 3),
        ];
        let mut ids: Vec<(IdCode, u32)> = Vec::new();
        for (name, width) in fixed.iter().take(FIXED - 1) {
            ids.push((w.add_wire(*width, name)?, *width));
        }
        w.add_module("sim")?;
        let (name, width) = fixed[FIXED - 1];
        ids.push((w.add_wire(width, name)?, width));
        let fifo_bits = bits_for(p.fifo_depth as u64 + 1);
        let spike_bits = bits_for(p.neurons_per_core as u64 + 1);
        for c in 0..p.cores {
            w.add_module(&format!("core{c}"))?;
            ids.push((w.add_wire(1, "busy")?, 1));
            ids.push((w.add_wire(fifo_bits, "fifo_words")?, fifo_bits));
            ids.push((w.add_wire(spike_bits, "spike_words")?, spike_bits));
            w.upscope()?;
        }
        w.upscope()?;
        w.upscope()?;
        w.enddefinitions()?;

        let mut value = vec![0i64; ids.len()];
        value[Sig::Start.index()] = 1;
        let mut changes = self.changes.clone();
        changes.sort_by_key(|c| c.0);
        w.timestamp(0)?;
        w.change_scalar(clock, Value::V1)?;
        w.change_scalar(reset, Value::V0)?;
        w.change_scalar(out_ready, Value::V1)?;
        w.change_vector(cycles, &bits(0, 32))?;
        for (k, &(id, width)) in ids.iter().enumerate() {
            write_value(&mut w, id, width, value[k])?;
        }
        let last = self.cycles + 2;
        let mut next = 0;
        let mut cycle_value = 0u64;
        for k in 0..=last {
            if k > 0 {
                w.timestamp(k * period_ps)?;
                w.change_scalar(clock, Value::V1)?;
                // The counter shows the model cycle (0 in Clear), then holds.
                let cv = (k - 1).min(self.cycles);
                if cv != cycle_value {
                    cycle_value = cv;
                    w.change_vector(cycles, &bits(cv, 32))?;
                }
                let old = value.clone();
                while next < changes.len() && changes[next].0 <= k {
                    let (_, s, ch) = changes[next];
                    match ch {
                        Change::Set(v) => value[s] = v,
                        Change::Add(d) => value[s] += d,
                    }
                    next += 1;
                }
                for (s, &(id, width)) in ids.iter().enumerate() {
                    if value[s] != old[s] {
                        write_value(&mut w, id, width, value[s])?;
                    }
                }
            }
            w.timestamp(k * period_ps + period_ps / 2)?;
            w.change_scalar(clock, Value::V0)?;
        }
        Ok(())
    }
}

fn bits_for(max: u64) -> u32 {
    (64 - max.leading_zeros()).max(1)
}

fn bits(v: u64, width: u32) -> Vec<Value> {
    (0..width)
        .rev()
        .map(|b| {
            if (v >> b) & 1 == 1 {
                Value::V1
            } else {
                Value::V0
            }
        })
        .collect()
}

fn write_value<W: Write>(w: &mut vcd::Writer<W>, id: IdCode, width: u32, v: i64) -> io::Result<()> {
    if width == 1 {
        w.change_scalar(id, if v != 0 { Value::V1 } else { Value::V0 })
    } else {
        w.change_vector(id, &bits(v as u64, width))
    }
}
