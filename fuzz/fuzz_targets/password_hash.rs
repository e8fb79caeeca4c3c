//! Fuzz target `password_hash`: see `rosterdb_fuzzing::password_hash` for its input and properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosterdb_fuzzing::password_hash::run(data));
