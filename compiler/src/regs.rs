//! The host-port register map, defined once: regions, core registers,
//! global registers and their word layouts, and the exact list of writes
//! that loads a [`Program`] ([`host_writes`]). The RTL decodes these
//! addresses (`hw/src/host_port.rs`, `hw/src/core.rs`), the host driver
//! sends [`host_writes`] as they are, and the simulator's loader replays
//! the same list ([`decode_writes`]), so that no layer re-derives what a
//! write means. `docs/hw.md` lists the same table for readers.
//!
//! A write carries `core` (8 bits), `region` (2 bits), `index` (20 bits)
//! and `data` (64 bits). Region 0 is a core's registers, 1 its pointer
//! SRAM, 2 its weight SRAM, 3 the global registers (`core` ignored).

use crate::layout::{flags_layout, sign_extend, PointerEntry, WeightEntry};
use crate::neuron::NeuronModel;
use crate::params::HwParams;
use crate::program::Program;

/// Width of `cfg_core` and `vread_core` (at most 256 cores).
pub const CFG_CORE_BITS: usize = 8;
/// Width of `cfg_index` (weight SRAMs up to 2^20 words).
pub const CFG_INDEX_BITS: usize = 20;
/// Width of `cfg_data` (membrane up to 40 bits).
pub const CFG_DATA_BITS: usize = 64;

pub const REGION_REGISTER: u64 = 0;
pub const REGION_POINTER: u64 = 1;
pub const REGION_WEIGHT: u64 = 2;
pub const REGION_GLOBAL: u64 = 3;

/// Core register: firing threshold (two's complement, membrane width).
pub const REG_THRESHOLD: u64 = 0;
/// Core register: neurons in use (`0..=neurons_per_core`).
pub const REG_NEURONS: u64 = 1;
/// Core register: first source id of the feed-forward listen window.
pub const REG_LISTEN_BASE: u64 = 2;
/// Core register: one past the last source id of the feed-forward window.
pub const REG_LISTEN_END: u64 = 3;
/// Core register: bit 0 = this core holds output neurons.
pub const REG_OUTPUT: u64 = 4;
/// Core register: the neuron mode (`layout::neuron_mode_layout`).
pub const REG_NEURON_MODE: u64 = 5;
/// Core register: first source id of the second (recurrent) window.
pub const REG_REC_BASE: u64 = 6;
/// Core register: one past the last source id of the second window.
pub const REG_REC_END: u64 = 7;
/// Core register: pointer SRAM address of the second window's first id.
pub const REG_REC_POINTER: u64 = 8;

/// Global register: number of time steps `T` (`1..=2^step_bits`).
pub const GLOBAL_TIME_STEPS: u64 = 0;
/// Global register: flags (`layout::flags_layout`).
pub const GLOBAL_FLAGS: u64 = 1;

/// Every core register with its name, in the order the driver writes them.
pub const CORE_REGISTERS: &[(&str, u64)] = &[
    ("threshold", REG_THRESHOLD),
    ("neurons", REG_NEURONS),
    ("listen_base", REG_LISTEN_BASE),
    ("listen_end", REG_LISTEN_END),
    ("output", REG_OUTPUT),
    ("neuron_mode", REG_NEURON_MODE),
    ("rec_base", REG_REC_BASE),
    ("rec_end", REG_REC_END),
    ("rec_pointer", REG_REC_POINTER),
];

/// One host-port configuration write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostWrite {
    pub core: u32,
    pub region: u64,
    pub index: u64,
    pub data: u64,
}

/// Run-time flags of an inference (the global flags register).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunFlags {
    pub early_exit: bool,
    pub all_spikes: bool,
}

impl RunFlags {
    pub fn pack(&self) -> u64 {
        flags_layout().pack_raw(&[self.early_exit as u64, self.all_spikes as u64])
    }
    pub fn unpack(word: u64) -> RunFlags {
        let l = flags_layout();
        RunFlags {
            early_exit: l.get_raw(word, "early_exit") == 1,
            all_spikes: l.get_raw(word, "all_spikes") == 1,
        }
    }
}

/// The registers of one core after loading.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CoreRegisters {
    pub threshold: i64,
    pub neurons: u32,
    pub listen_base: u32,
    pub listen_end: u32,
    pub output: bool,
    pub neuron: NeuronModel,
    pub rec_base: u32,
    pub rec_end: u32,
    pub rec_pointer: u32,
    /// Pointer SRAM words written (unpacked), by address.
    pub pointers: Vec<PointerEntry>,
    /// Weight SRAM words written (unpacked, weight sign-extended), by address.
    pub weights: Vec<WeightEntry>,
}

/// Everything the host port holds after a list of writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub cores: Vec<CoreRegisters>,
    pub time_steps: u32,
    pub flags: RunFlags,
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// The writes that load `prog` and set the run flags, in the driver's order:
/// per core its registers, pointer words, weight words (unused cores get
/// zero neurons and empty windows), then the global registers.
pub fn host_writes(prog: &Program, flags: RunFlags) -> Vec<HostWrite> {
    let p = &prog.params;
    let mut out = Vec::new();
    for c in 0..p.cores {
        let w = |region, index, data| HostWrite {
            core: c,
            region,
            index,
            data,
        };
        let regs: Vec<u64> = match prog.cores.get(c as usize) {
            Some(img) => {
                let (ff_end, rec_base, rec_end, rec_ptr) = img.windows();
                vec![
                    img.threshold as u64 & mask(p.membrane_bits),
                    img.neurons as u64,
                    img.listen_base as u64,
                    ff_end as u64,
                    (img.layer as usize + 1 == prog.neurons.len()) as u64,
                    img.neuron.pack(),
                    rec_base as u64,
                    rec_end as u64,
                    rec_ptr as u64,
                ]
            }
            None => vec![0; CORE_REGISTERS.len()],
        };
        for (&(_, reg), v) in CORE_REGISTERS.iter().zip(regs) {
            out.push(w(REGION_REGISTER, reg, v));
        }
        if let Some(img) = prog.cores.get(c as usize) {
            for (i, e) in img.pointers.iter().enumerate() {
                out.push(w(REGION_POINTER, i as u64, e.pack(p)));
            }
            for (i, e) in img.weights.iter().enumerate() {
                out.push(w(REGION_WEIGHT, i as u64, e.pack(p)));
            }
        }
    }
    let g = |index, data| HostWrite {
        core: 0,
        region: REGION_GLOBAL,
        index,
        data,
    };
    out.push(g(GLOBAL_TIME_STEPS, prog.time_steps as u64));
    out.push(g(GLOBAL_FLAGS, flags.pack()));
    out
}

/// What the registers and memories hold after `writes` on hardware built
/// for `p`, from reset (every register zero). Register values are cut to
/// the widths the RTL keeps; SRAM words are unpacked through the layouts.
pub fn decode_writes(p: &HwParams, writes: &[HostWrite]) -> Loaded {
    let mut cores = vec![CoreRegisters::default(); p.cores as usize];
    let mut time_steps = 0;
    let mut flags = RunFlags::default();
    let src1 = p.source_bits() + 1;
    for w in writes {
        if w.region == REGION_GLOBAL {
            match w.index {
                GLOBAL_TIME_STEPS => time_steps = (w.data & mask(p.step_bits + 1)) as u32,
                GLOBAL_FLAGS => flags = RunFlags::unpack(w.data),
                _ => {}
            }
            continue;
        }
        let Some(c) = cores.get_mut(w.core as usize) else {
            continue;
        };
        match w.region {
            REGION_REGISTER => match w.index {
                REG_THRESHOLD => {
                    c.threshold = sign_extend(w.data & mask(p.membrane_bits), p.membrane_bits)
                }
                REG_NEURONS => c.neurons = (w.data & mask(p.count_bits())) as u32,
                REG_LISTEN_BASE => c.listen_base = (w.data & mask(src1)) as u32,
                REG_LISTEN_END => c.listen_end = (w.data & mask(src1)) as u32,
                REG_OUTPUT => c.output = w.data & 1 == 1,
                REG_NEURON_MODE => {
                    c.neuron = NeuronModel::unpack(w.data).unwrap_or(NeuronModel::TTFS)
                }
                REG_REC_BASE => c.rec_base = (w.data & mask(src1)) as u32,
                REG_REC_END => c.rec_end = (w.data & mask(src1)) as u32,
                REG_REC_POINTER => c.rec_pointer = (w.data & mask(p.pointer_addr_bits())) as u32,
                _ => {}
            },
            REGION_POINTER => {
                let i = w.index as usize;
                if i >= c.pointers.len() {
                    c.pointers.resize(i + 1, PointerEntry::default());
                }
                c.pointers[i] = PointerEntry::unpack(w.data, p);
            }
            REGION_WEIGHT => {
                let i = w.index as usize;
                if i >= c.weights.len() {
                    c.weights.resize(i + 1, WeightEntry::default());
                }
                c.weights[i] = WeightEntry::unpack(w.data, p);
            }
            _ => {}
        }
    }
    Loaded {
        cores,
        time_steps,
        flags,
    }
}

/// How the host drives the two stream handshakes during an inference.
/// The driver's default ([`HostTiming::EAGER`]) offers the next input
/// event in every cycle and keeps `out_ready` high; a test host leaves
/// gaps: `in_valid` low although events remain, `out_ready` low although
/// a spike waits. Both are pure functions of the cycle (cycle 0 is the
/// `Clear` cycle, the first after `start`), so the RTL driver and the
/// simulator see the same host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostTiming {
    pub seed: u64,
    /// Percent of cycles in which the host withholds `in_valid`.
    pub in_gap_percent: u32,
    /// Percent of cycles in which the host holds `out_ready` low.
    pub out_stall_percent: u32,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl HostTiming {
    /// No gaps: the driver's contract before this type existed.
    pub const EAGER: HostTiming = HostTiming {
        seed: 0,
        in_gap_percent: 0,
        out_stall_percent: 0,
    };

    fn draw(&self, cycle: u64, tag: u64, percent: u32) -> bool {
        percent > 0
            && splitmix(self.seed ^ splitmix(cycle.wrapping_mul(4).wrapping_add(tag))) % 100
                < percent as u64
    }

    /// Refuses a host that could never finish an inference: one that
    /// withholds `in_valid` or holds `out_ready` low in every cycle.
    pub fn validate(&self) -> Result<(), String> {
        for (field, v) in [
            ("in_gap_percent", self.in_gap_percent),
            ("out_stall_percent", self.out_stall_percent),
        ] {
            if v >= 100 {
                return Err(format!(
                    "host timing: {field} is {v}, must be below 100 (at 100 the host never takes part and no inference ends)"
                ));
            }
        }
        Ok(())
    }

    /// Whether the host may offer an input event (`in_valid`) in `cycle`.
    pub fn in_valid(&self, cycle: u64) -> bool {
        !self.draw(cycle, 1, self.in_gap_percent)
    }

    /// Whether `out_ready` is high in `cycle`.
    pub fn out_ready(&self, cycle: u64) -> bool {
        !self.draw(cycle, 2, self.out_stall_percent)
    }
}
