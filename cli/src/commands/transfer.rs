//! `export` and `import`: the whole store as JSON Lines, with a progress
//! bar on stderr.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use rosterdb::{Query, Store};
use serde_json::json;

use crate::exit::CliError;
use crate::output::Out;
use crate::progress::{self, ByteCounter, LineCounter, Unit};

/// Writes the store to `to` (`-`: stdout). A file is written beside its
/// place under a temporary name, synced, then renamed into place, so a
/// failed export leaves what was there before. A symbolic link is
/// followed (the file it names is replaced, not the link), and what is not
/// a regular file (a device, a FIFO) is written in place: renaming over it
/// would replace it with a file.
pub fn export(store: &Store, to: &str, quiet: bool, out: &mut Out) -> Result<(), CliError> {
    let all = Query::all();
    let records = [
        store.roles().count(&all)?,
        store.users().count(&all)?,
        store.clients().count(&all)?,
    ]
    .iter()
    .fold(0_u64, |a, n| a.saturating_add(*n));
    let bar = progress::bar(Some(records), Unit::Records, "export", quiet);
    if to == "-" {
        let stdout = std::io::stdout();
        let n = store.export_jsonl_to(LineCounter {
            inner: stdout.lock(),
            bar: bar.clone(),
        });
        bar.finish_and_clear();
        let n = n.map_err(closed_output)?;
        out.note(&format!("exported {n} records"));
        return Ok(());
    }
    let given = PathBuf::from(to);
    let path = std::fs::canonicalize(&given).unwrap_or(given);
    if std::fs::metadata(&path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let written = (|| {
            let file = File::options()
                .write(true)
                .open(&path)
                .map_err(file_error(&path))?;
            let mut counter = LineCounter {
                inner: BufWriter::with_capacity(1 << 16, file),
                bar: bar.clone(),
            };
            let n = store
                .export_jsonl_to(&mut counter)
                .map_err(|e| e.with_path(&path))?;
            counter
                .inner
                .into_inner()
                .map_err(|e| file_error(&path)(e.into_error()))?;
            Ok::<_, CliError>(n)
        })();
        bar.finish_and_clear();
        return out.doc(&json!({"exported": written?, "file": to}));
    }
    let temp = temporary(&path);
    let written = (|| {
        let file = File::create(&temp).map_err(file_error(&temp))?;
        let mut counter = LineCounter {
            inner: BufWriter::with_capacity(1 << 16, file),
            bar: bar.clone(),
        };
        let n = store.export_jsonl_to(&mut counter)?;
        let file = counter
            .inner
            .into_inner()
            .map_err(|e| file_error(&temp)(e.into_error()))?;
        file.sync_all().map_err(file_error(&temp))?;
        std::fs::rename(&temp, &path).map_err(file_error(&path))?;
        Ok(n)
    })();
    bar.finish_and_clear();
    match written {
        Ok(n) => out.doc(&json!({"exported": n, "file": to})),
        Err(e) => {
            // The partial file goes; the error told is the export's.
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// Loads `from` (`-`: stdin) into the store, which must be empty; all or nothing.
pub fn import(store: &Store, from: &str, quiet: bool, out: &mut Out) -> Result<(), CliError> {
    let n = if from == "-" {
        let bar = progress::bar(None, Unit::Bytes, "import", quiet);
        let reader = ByteCounter {
            inner: std::io::stdin().lock(),
            bar: bar.clone(),
            then: "writing the store",
        };
        let n = store.import_jsonl_from(BufReader::with_capacity(1 << 16, reader));
        bar.finish_and_clear();
        n?
    } else {
        let path = Path::new(from);
        let file = File::open(path).map_err(file_error(path))?;
        let len = file.metadata().ok().map(|m| m.len());
        let bar = progress::bar(len, Unit::Bytes, "import", quiet);
        let reader = ByteCounter {
            inner: file,
            bar: bar.clone(),
            then: "writing the store",
        };
        let n = store
            .import_jsonl_from(BufReader::with_capacity(1 << 16, reader))
            .map_err(|e| e.with_path(path));
        bar.finish_and_clear();
        n?
    };
    out.doc(&json!({"imported": n, "file": from}))
}

/// Where an export to `path` is written before it is whole: beside it, so
/// the rename stays on one file system.
fn temporary(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.partial", std::process::id()))
}

/// The error of an export to stdout: [`CliError::BrokenPipe`] (a quiet
/// exit, as every command's) when the reader went away, else the store's.
fn closed_output(error: rosterdb::Error) -> CliError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = cause {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return CliError::BrokenPipe;
        }
        cause = e.source();
    }
    error.into()
}

/// A `File` error naming `path`.
fn file_error(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |error| CliError::File {
        path: path.to_path_buf(),
        error,
    }
}
