//! Fuzz target `model`: see `rosterdb_fuzzing::model` for its input and properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosterdb_fuzzing::model::run(data));
