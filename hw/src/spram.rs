//! A single-port synchronous RAM: one address for reads and writes.
//!
//! rust-hdl's `RAM` has separate read and write addresses, which no
//! single-port memory can hold: Yosys maps it to block RAM only. The weight
//! SRAM of a core is written by the host port while the core is idle and read
//! by the core while it runs, never both at once, so one port suffices, and a
//! single port is what the UltraPlus parts' 256-kbit SPRAMs
//! (`SB_SPRAM256KA`, 16k x 16) offer. This block is written in the pattern
//! Yosys' `synth_ice40 -spram` maps to them (and, on parts without SPRAM or
//! for memories that do not fit one, to `SB_RAM40_4K` with a read enable):
//!
//! - at a rising clock edge with `write_enable`, `write_data` is stored at
//!   `address` and `read_data` keeps its value (the SPRAM's "no change" read
//!   during write);
//! - at a rising edge without `write_enable`, `read_data` becomes the word at
//!   `address` (data one cycle after the address, as `RAM`).
//!
//! The simulation model below and the Verilog of [`Logic::hdl`] implement
//! exactly these two rules, so rust-hdl's simulation, Verilator and the
//! synthesized netlist agree.

use rust_hdl::core::timing::TimingInfo;
use rust_hdl::prelude::*;
use std::collections::BTreeMap;

/// Single-port RAM of `2^N` words of `D`, read-during-write "no change".
#[derive(LogicBlock, Default)]
pub struct SpRam<D: Synth, const N: usize> {
    pub clock: Signal<In, Clock>,
    pub address: Signal<In, Bits<N>>,
    pub write_data: Signal<In, D>,
    pub write_enable: Signal<In, bool>,
    pub read_data: Signal<Out, D>,
    _sim: Box<BTreeMap<Bits<N>, D>>,
}

impl<D: Synth, const N: usize> Logic for SpRam<D, N> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if self.write_enable.val() {
                self._sim.insert(self.address.val(), self.write_data.val());
            } else {
                self.read_data.next = *self._sim.get(&self.address.val()).unwrap_or(&D::default());
            }
        }
    }

    fn connect(&mut self) {
        self.read_data.connect();
    }

    fn hdl(&self) -> Verilog {
        Verilog::Custom(format!(
            "\
reg[{msb}:0] mem[{last}:0];

always @(posedge clock) begin
   if (write_enable) begin
      mem[address] <= write_data;
   end else begin
      read_data <= mem[address];
   end
end
",
            msb = D::BITS - 1,
            last = (1usize << N) - 1,
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "spram".into(),
            clock: "clock".into(),
            inputs: vec!["address".into(), "write_data".into(), "write_enable".into()],
            outputs: vec!["read_data".into()],
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Ram = SpRam<Bits<8>, 4>;

    /// One clock cycle with the port driven as given; `read_data` after the edge.
    fn cycle(r: &mut Ram, addr: u64, we: bool, data: u64) -> u64 {
        r.address.next = addr.into();
        r.write_enable.next = we;
        r.write_data.next = data.into();
        r.clock.next = Clock { clk: false };
        assert!(simulate(r, 100));
        r.clock.next = Clock { clk: true };
        assert!(simulate(r, 100));
        r.read_data.val().to_u64()
    }

    #[test]
    fn a_write_keeps_the_read_data_and_a_read_follows_the_address() {
        let mut r = Ram::default();
        r.connect_all();
        assert_eq!(cycle(&mut r, 3, true, 0x5a), 0, "a write leaves read_data");
        assert_eq!(cycle(&mut r, 4, true, 0x11), 0);
        assert_eq!(cycle(&mut r, 3, false, 0), 0x5a);
        // A write to the address just read holds the old read data.
        assert_eq!(cycle(&mut r, 3, true, 0x77), 0x5a);
        assert_eq!(cycle(&mut r, 4, false, 0), 0x11);
        assert_eq!(cycle(&mut r, 3, false, 0), 0x77);
    }

    #[test]
    fn its_verilog_is_the_single_port_pattern() {
        let mut r = Ram::default();
        r.connect_all();
        let v = generate_verilog(&r);
        assert!(v.contains("if (write_enable) begin"), "{v}");
        assert!(v.contains("read_data <= mem[address];"), "{v}");
        assert!(!v.contains("read_address"), "{v}");
    }
}
