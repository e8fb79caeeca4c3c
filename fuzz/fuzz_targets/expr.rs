//! Fuzz target `expr`: see `rosterdb_fuzzing::expr` for its input and properties.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosterdb_fuzzing::expr::run(data));
