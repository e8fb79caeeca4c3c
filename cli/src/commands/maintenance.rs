//! `info`, `check` and `compact`: the store file as a whole.

use std::path::Path;

use rosterdb::{FORMAT_VERSION, Query, Store, View};
use serde_json::json;

use crate::exit::CliError;
use crate::output::Out;

/// Prints the format version, the record counts (of the view's tenant,
/// when scoped) and the sizes of the store file and its log.
pub fn info(view: &View<'_>, file: &Path, out: &mut Out) -> Result<(), CliError> {
    let all = Query::all();
    let mut doc = json!({
        "file": file.display().to_string(),
        "formatVersion": FORMAT_VERSION,
        "fileBytes": size(file),
        "walBytes": size(&log_of(file)),
        "users": view.users().count(&all)?,
        "roles": view.roles().count(&all)?,
        "clients": view.clients().count(&all)?,
    });
    if let (Some(tenant), Some(map)) = (view.tenant(), doc.as_object_mut()) {
        map.insert("tenant".into(), tenant.into());
    }
    out.doc(&doc)
}

/// Prints the integrity report; problems are exit code 12.
pub fn check(store: &Store, out: &mut Out) -> Result<(), CliError> {
    let report = store.check()?;
    out.doc(&serde_json::to_value(&report).unwrap_or_default())?;
    if report.ok {
        Ok(())
    } else {
        Err(CliError::Problems(report.problems.len()))
    }
}

/// Reclaims unused space and prints the file's size before and after.
pub fn compact(mut store: Store, file: &Path, out: &mut Out) -> Result<(), CliError> {
    let before = size(file);
    let compacted = store.compact()?;
    drop(store);
    out.doc(&json!({
        "compacted": compacted,
        "fileBytesBefore": before,
        "fileBytesAfter": size(file),
    }))
}

/// The size of a file in bytes; 0 when it cannot be read.
fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The write-ahead log beside the store file `file` (`FILE-wal`, beside
/// the real file when `file` is a link).
fn log_of(file: &Path) -> std::path::PathBuf {
    let real = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let mut name = real.into_os_string();
    name.push("-wal");
    name.into()
}
