//! Fuzz target `patch`: see `rosterdb_fuzzing::patch` for its input and properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosterdb_fuzzing::patch::run(data));
