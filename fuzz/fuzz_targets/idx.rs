//! Fuzz target `idx`: feeds arbitrary bytes to the loader and to what the
//! CLI does right after loading (see `fuzz/src/lib.rs`); any panic,
//! abort or hang is a bug.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    onespike_fuzz::idx(data);
});
