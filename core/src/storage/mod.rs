//! Storage: how records are kept (tables, keys, encoding, indexes, writes, format, transactions, options); uses documents and settings.

pub(crate) mod backend;
pub(crate) mod bitmap_form;
pub(crate) mod changelog;
pub(crate) mod clock;
pub(crate) mod codec;
pub(crate) mod durability;
pub(crate) mod entity;
pub(crate) mod format;
pub(crate) mod index;
pub(crate) mod integrity;
pub(crate) mod keys;
pub(crate) mod kinds;
pub(crate) mod migrations;
pub(crate) mod pending;
pub(crate) mod postings;
pub(crate) mod run_counts;
pub(crate) mod schema;
pub(crate) mod sessions;
pub(crate) mod snapshot;
pub(crate) mod sorted_writes;
pub(crate) mod store;
pub(crate) mod term_notes;
pub(crate) mod tx;
pub(crate) mod unique;
pub(crate) mod wal;
pub(crate) mod write_runs;
