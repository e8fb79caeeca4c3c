//! Shared helpers for the rosterdb conformance tests.
//!
//! The language-neutral test vectors live in `tests/vectors/*.json` (see
//! `tests/vectors/README.md`); the Rust, Python and Kotlin suites all run them.

use std::path::PathBuf;

use rosterdb::{Argon2Params, Options, Store};

/// Argon2id parameters that make hashing cheap, for tests only.
pub const CHEAP_ARGON2: Argon2Params = Argon2Params {
    memory_kib: 8,
    iterations: 1,
    parallelism: 1,
};

/// The path of the vector file `name` (e.g. `"validation.json"`) in `tests/vectors/`.
pub fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(name)
}

/// Reads and parses the vector file `name` in `tests/vectors/`.
///
/// # Panics
///
/// When the file cannot be read or is not valid JSON, naming the file.
pub fn load_vectors(name: &str) -> serde_json::Value {
    let path = vector_path(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

/// A fresh, empty in-memory store with [`CHEAP_ARGON2`] hashing.
///
/// # Panics
///
/// When the store cannot be opened.
pub fn memory_store() -> Store {
    Store::memory_with(Options::default().with_argon2(CHEAP_ARGON2))
        .expect("an in-memory store opens")
}
