//! Fuzz target `params`: see `rosterdb_fuzzing::params` for its input and properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosterdb_fuzzing::params::run(data));
