//! Transfer: export and import of a whole store as JSON Lines; uses storage and documents.

pub(crate) mod jsonl;
