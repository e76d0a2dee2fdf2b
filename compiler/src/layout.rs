//! Word layouts shared by the compiler, the simulator and the RTL: the
//! pointer SRAM entry, the weight SRAM entry and the event packet.
//!
//! Each layout is a list of named fields with widths taken from
//! [`HwParams`]; fields are packed from the least significant bit upward in
//! the order listed. Nothing else in the project decodes a word by a literal
//! bit offset: the RTL asks [`WordLayout::field`] for offsets and widths, the
//! compiler and simulator use the typed `pack`/`unpack` functions below.

use crate::params::{Geometry, HwParams};

/// One named bit field of a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    /// Least significant bit of the field within the word.
    pub lsb: u32,
    pub width: u32,
}

/// A word made of named fields, packed LSB first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordLayout {
    pub name: &'static str,
    pub fields: Vec<Field>,
}

impl WordLayout {
    fn new(name: &'static str, fields: &[(&'static str, u32)]) -> WordLayout {
        let mut lsb = 0;
        let fields = fields
            .iter()
            .map(|&(name, width)| {
                let f = Field { name, lsb, width };
                lsb += width;
                f
            })
            .collect();
        WordLayout { name, fields }
    }

    /// Total width of the word in bits.
    pub fn width(&self) -> u32 {
        self.fields.iter().map(|f| f.width).sum()
    }

    /// The field called `name`. Panics on a name that the layout does not
    /// have: that is a programming error, not bad input.
    pub fn field(&self, name: &str) -> Field {
        *self
            .fields
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("layout {} has no field {name}", self.name))
    }

    /// Packs raw (already two's-complement masked) field values, in field order.
    pub fn pack_raw(&self, values: &[u64]) -> u64 {
        assert_eq!(values.len(), self.fields.len());
        self.fields.iter().zip(values).fold(0u64, |word, (f, &v)| {
            debug_assert!(
                f.width == 64 || v < (1u64 << f.width),
                "{} overflows",
                f.name
            );
            word | ((v & mask(f.width)) << f.lsb)
        })
    }

    /// Raw value of field `name` in `word`.
    pub fn get_raw(&self, word: u64, name: &str) -> u64 {
        let f = self.field(name);
        (word >> f.lsb) & mask(f.width)
    }
}

fn mask(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// Sign-extends the low `width` bits of `raw`.
pub fn sign_extend(raw: u64, width: u32) -> i64 {
    let shift = 64 - width;
    ((raw << shift) as i64) >> shift
}

/// Pointer SRAM entry: where a source's synapse list starts in the weight
/// SRAM and how many entries it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct PointerEntry {
    pub base: u32,
    pub count: u32,
}

/// Weight SRAM entry: target neuron (index within the core) and its signed weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct WeightEntry {
    pub target: u32,
    pub weight: i32,
}

/// An event on the bus: a spike of global source `source` at step `step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct EventPacket {
    pub source: u32,
    pub step: u32,
}

/// Total width of `(name, width)` fields.
pub const fn fields_width(fields: &[(&'static str, u32)]) -> u32 {
    let (mut w, mut i) = (0, 0);
    while i < fields.len() {
        w += fields[i].1;
        i += 1;
    }
    w
}

impl PointerEntry {
    /// The fields, LSB first (`const`: the RTL's word width derives from it).
    pub const fn fields(g: &Geometry) -> [(&'static str, u32); 2] {
        [("base", g.weight_addr_bits()), ("count", g.count_bits())]
    }
    pub fn layout(p: &HwParams) -> WordLayout {
        WordLayout::new("pointer_entry", &Self::fields(&p.geometry()))
    }
    pub fn pack(&self, p: &HwParams) -> u64 {
        Self::layout(p).pack_raw(&[self.base as u64, self.count as u64])
    }
    pub fn unpack(word: u64, p: &HwParams) -> PointerEntry {
        let l = Self::layout(p);
        PointerEntry {
            base: l.get_raw(word, "base") as u32,
            count: l.get_raw(word, "count") as u32,
        }
    }
}

impl WeightEntry {
    /// The fields, LSB first (`const`: the RTL's word width derives from it).
    pub const fn fields(g: &Geometry) -> [(&'static str, u32); 2] {
        [("target", g.neuron_bits()), ("weight", g.weight_bits)]
    }
    pub fn layout(p: &HwParams) -> WordLayout {
        WordLayout::new("weight_entry", &Self::fields(&p.geometry()))
    }
    pub fn pack(&self, p: &HwParams) -> u64 {
        Self::layout(p).pack_raw(&[
            self.target as u64,
            (self.weight as i64 as u64) & mask(p.weight_bits),
        ])
    }
    pub fn unpack(word: u64, p: &HwParams) -> WeightEntry {
        let l = Self::layout(p);
        WeightEntry {
            target: l.get_raw(word, "target") as u32,
            weight: sign_extend(l.get_raw(word, "weight"), p.weight_bits) as i32,
        }
    }
}

impl EventPacket {
    pub fn layout(p: &HwParams) -> WordLayout {
        WordLayout::new(
            "event_packet",
            &[("source", p.source_bits()), ("step", p.step_bits)],
        )
    }
    pub fn pack(&self, p: &HwParams) -> u64 {
        Self::layout(p).pack_raw(&[self.source as u64, self.step as u64])
    }
    pub fn unpack(word: u64, p: &HwParams) -> EventPacket {
        let l = Self::layout(p);
        EventPacket {
            source: l.get_raw(word, "source") as u32,
            step: l.get_raw(word, "step") as u32,
        }
    }
}

/// The neuron-mode register of a core (`regs::REG_NEURON_MODE`): reset
/// code (`neuron::Reset::code`), then for each of `V` and `I` an enable bit
/// (leak on) and a 6-bit shift. All zero is the TTFS neuron.
pub fn neuron_mode_layout() -> WordLayout {
    WordLayout::new(
        "neuron_mode",
        &[
            ("reset", 2),
            ("v_leak", 1),
            ("v_shift", 6),
            ("i_leak", 1),
            ("i_shift", 6),
        ],
    )
}

/// The global flags register (`regs::GLOBAL_FLAGS`).
pub fn flags_layout() -> WordLayout {
    WordLayout::new("flags", &[("early_exit", 1), ("all_spikes", 1)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_entry_round_trips_negative_weights() {
        let p = HwParams::preset("default").unwrap();
        for w in [-128, -1, 0, 1, 127] {
            let e = WeightEntry {
                target: 77,
                weight: w,
            };
            assert_eq!(WeightEntry::unpack(e.pack(&p), &p), e);
        }
        assert_eq!(WeightEntry::layout(&p).width(), 7 + 8);
    }

    #[test]
    fn fields_are_packed_lsb_first_in_order() {
        let p = HwParams::preset("small").unwrap();
        let l = PointerEntry::layout(&p);
        assert_eq!(l.field("base").lsb, 0);
        assert_eq!(l.field("count").lsb, p.weight_addr_bits());
        let word = PointerEntry { base: 5, count: 3 }.pack(&p);
        assert_eq!(word, 5 | (3 << p.weight_addr_bits()));
    }

    #[test]
    fn event_packet_round_trips() {
        let p = HwParams::preset("default").unwrap();
        let e = EventPacket {
            source: 3071,
            step: 255,
        };
        assert_eq!(EventPacket::unpack(e.pack(&p), &p), e);
        assert_eq!(EventPacket::layout(&p).width(), 12 + 8);
    }
}
