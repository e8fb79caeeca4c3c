//! Export and import as JSON Lines (docs/reference/changes-and-export.md): one `{"kind", "doc"}`
//! per line, roles first; documents carry their ids, timestamps, versions and
//! credential hashes (never plaintext), so a round trip is lossless.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::storage::codec;
use crate::storage::entity::{self, Entity};
use crate::storage::tx::{ReadContext, Tables, WriteTx};
use crate::{
    Client, EntityKind, Error, FieldError, Result, Role, Store, Timestamp, User, ValidationCode,
};

/// A `Storage` error for a failed read or write of the file at `path`,
/// naming it and keeping the I/O error as its source.
fn file_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::storage_from(e).with_path(path)
}

/// Writes every role, user and client of the store to `path` (replacing
/// it), syncs it, and returns how many records were written.
pub(crate) fn export(store: &Store, path: &Path) -> Result<u64> {
    let mut file = File::create(path).map_err(file_error(path))?;
    let n = export_to(store, &mut file).map_err(|e| e.with_path(path))?;
    file.sync_all().map_err(file_error(path))?;
    Ok(n)
}

/// Writes every role, user and client of the store to `out`, one line
/// each, from one snapshot, and returns how many records were written.
pub(crate) fn export_to(store: &Store, out: &mut dyn Write) -> Result<u64> {
    store.read(|r| {
        let mut out = BufWriter::new(out);
        let now = r.now();
        let n = r.with_tables(|t| {
            let roles = export_kind::<Role>(t, now, &mut out, |_, _| {})?;
            let users = export_kind::<User>(t, now, &mut out, |record, doc| {
                if let Some(hash) = &record.password_hash {
                    doc.insert("passwordHash".into(), json!(hash));
                }
            })?;
            let clients = export_kind::<Client>(t, now, &mut out, |record, doc| {
                doc.insert("secretHash".into(), json!(record.secret_hash));
            })?;
            Ok(roles.saturating_add(users).saturating_add(clients))
        })?;
        out.flush().map_err(Error::storage_from)?;
        Ok(n)
    })
}

fn export_kind<E: Entity + serde::Serialize>(
    tables: &dyn Tables,
    now: Timestamp,
    out: &mut impl Write,
    secrets: impl Fn(&E::Record, &mut Map<String, Value>),
) -> Result<u64> {
    let mut n = 0;
    let mut after = 0;
    loop {
        let batch = tables.records_after(E::TABLE, after, 256)?;
        let Some((last, _)) = batch.last() else {
            return Ok(n);
        };
        after = *last;
        for (_, bytes) in batch {
            let record: E::Record = codec::decode(&bytes)?;
            let Value::Object(mut doc) = serde_json::to_value(E::document(&record, now)?)
                .map_err(|e| Error::internal(format!("a document as JSON: {e}")))?
            else {
                return Err(Error::internal("a document is not a JSON object"));
            };
            secrets(&record, &mut doc);
            let line = json!({"kind": E::KIND.as_str(), "doc": doc});
            serde_json::to_writer(&mut *out, &line)
                .map_err(|e| Error::storage_from(std::io::Error::from(e)))?;
            out.write_all(b"\n").map_err(Error::storage_from)?;
            n = n.saturating_add(1);
        }
    }
}

/// Loads a file written by [`export`] into an empty store, all or nothing,
/// and returns how many records were read.
pub(crate) fn import(store: &Store, path: &Path) -> Result<u64> {
    let file = File::open(path).map_err(file_error(path))?;
    import_from(store, &mut BufReader::new(file)).map_err(|e| e.with_path(path))
}

/// Loads the lines [`export_to`] wrote, read from `input` to its end, into
/// an empty store, all or nothing, and returns how many records were read.
pub(crate) fn import_from(store: &Store, input: &mut dyn BufRead) -> Result<u64> {
    let mut lines = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let line = line.map_err(Error::storage_from)?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line).map_err(|_| {
            at_line(
                i.saturating_add(1),
                "",
                ValidationCode::JsonInvalid,
                "is not valid JSON",
            )
        })?;
        lines.push((i.saturating_add(1), value));
    }
    store.write(|tx| {
        for kind in [EntityKind::Role, EntityKind::User, EntityKind::Client] {
            let count = match kind {
                EntityKind::Role => tx.txn.record_count(crate::storage::schema::ROLES)?,
                EntityKind::User => tx.txn.record_count(crate::storage::schema::USERS)?,
                EntityKind::Client => tx.txn.record_count(crate::storage::schema::CLIENTS)?,
            };
            if count > 0 {
                return Err(Error::Conflict {
                    entity: kind,
                    field: "id".into(),
                });
            }
        }
        // Insertion keeps ids and moves each id counter past them. A run
        // of user lines goes in as one bulk insert (`entity::insert_many`).
        let mut users = Vec::new();
        for (line, value) in &lines {
            let (kind, doc) = split_line(*line, value)?;
            if kind != EntityKind::User && !users.is_empty() {
                entity::insert_many::<User>(tx, &users, tx.now())?;
                users.clear();
            }
            match kind {
                EntityKind::Role => {
                    insert::<Role>(tx, *line, doc, crate::documents::role::RoleRecord::import)?
                }
                EntityKind::User => users.push(build::<User>(
                    *line,
                    doc,
                    crate::documents::user::UserRecord::import,
                )?),
                EntityKind::Client => insert::<Client>(
                    tx,
                    *line,
                    doc,
                    crate::documents::client::ClientRecord::import,
                )?,
            }
        }
        entity::insert_many::<User>(tx, &users, tx.now())?;
        Ok(lines.len() as u64)
    })
}

fn at_line(line: usize, field: &str, code: ValidationCode, message: &str) -> Error {
    Error::Validation {
        errors: vec![FieldError::new(
            field,
            code,
            format!("line {line}: {message}"),
        )],
    }
}

fn split_line(line: usize, value: &Value) -> Result<(EntityKind, &Value)> {
    let kind = match value.get("kind").and_then(Value::as_str) {
        Some("role") => EntityKind::Role,
        Some("user") => EntityKind::User,
        Some("client") => EntityKind::Client,
        _ => {
            return Err(at_line(
                line,
                "kind",
                ValidationCode::NotOneOf,
                "must be \"role\", \"user\" or \"client\"",
            ));
        }
    };
    let doc = value.get("doc").filter(|d| d.is_object()).ok_or_else(|| {
        at_line(
            line,
            "doc",
            ValidationCode::ObjectType,
            "must be a JSON object",
        )
    })?;
    if value.as_object().is_some_and(|o| o.len() != 2) {
        return Err(at_line(
            line,
            "",
            ValidationCode::UnknownField,
            "a line holds exactly \"kind\" and \"doc\"",
        ));
    }
    Ok((kind, doc))
}

fn insert<E: Entity>(
    tx: &WriteTx,
    line: usize,
    doc: &Value,
    make: fn(&Value) -> Result<E::Record>,
) -> Result<()> {
    let record = build::<E>(line, doc, make)?;
    entity::insert::<E>(tx, &record, tx.now())
}

/// The record of one line's document, a refusal naming the line.
fn build<E: Entity>(
    line: usize,
    doc: &Value,
    build: fn(&Value) -> Result<E::Record>,
) -> Result<E::Record> {
    build(doc).map_err(|e| match e {
        Error::Validation { errors } => Error::Validation {
            errors: errors
                .into_iter()
                .map(|f| FieldError::new(f.field, f.code, format!("line {line}: {}", f.message)))
                .collect(),
        },
        other => other,
    })
}
