//! Fuzz target `nir_file`: feeds arbitrary bytes to the NIR reader, the
//! importer and what the CLI does next (see `fuzz/src/lib.rs`); any panic,
//! abort or hang is a bug.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    onespike_fuzz::nir_file(data);
});
