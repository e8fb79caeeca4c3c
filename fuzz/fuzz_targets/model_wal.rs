//! Fuzz target `model_wal`: the `model` target on a store that keeps a
//! write-ahead log (see `rosterdb_fuzzing::model::run_with_log`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rosterdb_fuzzing::model::run_with_log(data));
