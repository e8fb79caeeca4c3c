//! Fuzz target `cursor`: see `rosterdb_fuzzing::cursor` for its input and properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosterdb_fuzzing::cursor::run(data));
