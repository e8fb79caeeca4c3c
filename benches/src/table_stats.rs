//! The pages and bytes of each table of a rosterdb file, as redb counts
//! them: what `compare --table-stats FILE` prints, and where
//! docs/BENCHMARKS.md's bytes by table come from.

use std::path::Path;

use redb::{ReadableDatabase as _, ReadableTableMetadata as _, TableHandle as _};

use crate::{BenchError, BenchResult};

/// One table's size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSize {
    /// The table's name (`users`, `idx.user.email.order`, …).
    pub name: String,
    /// Its entries.
    pub entries: u64,
    /// Its leaf and branch pages (4 KiB each).
    pub pages: u64,
    /// The bytes of its stored keys and values.
    pub stored_bytes: u64,
    /// The bytes of its pages' own metadata.
    pub metadata_bytes: u64,
    /// The unused bytes of its pages.
    pub unused_bytes: u64,
}

/// The size of each table of the rosterdb file at `path`, the most pages
/// first (then by name). The file is opened read-only with redb itself,
/// so commits still in the store's write-ahead log (a store that is not
/// closed) are not counted.
///
/// Errors: `Missing` naming the file and what could not be read (not a
/// redb file, a table that does not open).
pub fn table_sizes(path: &Path) -> BenchResult<Vec<TableSize>> {
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        BenchError::Missing(format!("{what} of {}: {e}", path.display()))
    };
    let db = redb::ReadOnlyDatabase::open(path).map_err(|e| failed("the redb file", &e))?;
    let read = db.begin_read().map_err(|e| failed("a read", &e))?;
    let tables = read.list_tables().map_err(|e| failed("the tables", &e))?;
    let mut sizes = Vec::new();
    for handle in tables {
        let name = handle.name().to_owned();
        let table = read
            .open_untyped_table(handle)
            .map_err(|e| failed(&name, &e))?;
        let stats = table.stats().map_err(|e| failed(&name, &e))?;
        let entries = table.len().map_err(|e| failed(&name, &e))?;
        sizes.push(TableSize {
            pages: stats.leaf_pages().saturating_add(stats.branch_pages()),
            stored_bytes: stats.stored_bytes(),
            metadata_bytes: stats.metadata_bytes(),
            unused_bytes: stats.fragmented_bytes(),
            name,
            entries,
        });
    }
    sizes.sort_by(|a, b| b.pages.cmp(&a.pages).then_with(|| a.name.cmp(&b.name)));
    Ok(sizes)
}
