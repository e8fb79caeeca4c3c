//! Fuzz target `record`: see `rosterdb_fuzzing::record` for its input and properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosterdb_fuzzing::record::run(data));
