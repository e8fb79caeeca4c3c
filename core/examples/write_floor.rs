//! What redb alone costs to write what a bulk import writes: the floor of
//! the import line of docs/BENCHMARKS.md on this engine.
//!
//! `cargo run --release -p rosterdb --example write_floor FILE [ROUNDS] [each]`,
//! where FILE is a store made by one bulk import (e.g.
//! `compare --import rosterdb FILE 0 10000`). The program reads every
//! table of FILE into memory, then, ROUNDS times (default 5), writes into a
//! new redb file next to it, in one durable transaction:
//!
//! - `all tables`: every table with the same keys and values, in key
//!   order, one `insert` each — the bytes rosterdb's import writes, with
//!   none of the work of making them (documents, folding, trigrams,
//!   postings);
//! - `all, cursors`: the same, each table's rows through one redb cursor
//!   (`upper_bound_mut`, then `insert_before` in key order), as rosterdb's
//!   bulk writes put runs of keys (`storage::sorted_writes`): the floor of
//!   the import on this engine (round 22: 1.7–1.9 µs a user, against
//!   4.1–4.3 µs one insert each);
//! - `records only`: the `users` table alone — what any layout that keeps
//!   one record per user must write, with no index at all;
//! - `records and log`: `users` and `changes`.
//!
//! With a third argument `each`, it then times each table alone; with
//! `merged`, the keys of the unique and ordered indexes written to their
//! tables against the same keys, each prefixed by its table's number, in
//! one table. It
//! prints each case's median time per user in nanoseconds. Compare them
//! with `compare --import sqlite FILE2 0 10000` (SQLite's whole import, its
//! indexes included): while `records only` takes more than half of
//! SQLite's time, no layout on redb imports at 2× SQLite's rate. A
//! measurement for the performance notes, not a test.

use std::path::Path;
use std::time::Instant;

use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableHandle};

/// A record table: id → encoded record.
type Records = TableDefinition<'static, u64, &'static [u8]>;
/// A unique index (key → id) or a run-count table (key → count).
type Unique = TableDefinition<'static, &'static [u8], u64>;
/// An ordered index: key → nothing.
type Multi = TableDefinition<'static, &'static [u8], ()>;
/// A posting table: key → encoded ids.
type Postings = TableDefinition<'static, &'static [u8], &'static [u8]>;

/// The rows of one table, by its kind of key and value.
enum Rows {
    Records(Vec<(u64, Vec<u8>)>),
    Unique(Vec<(Vec<u8>, u64)>),
    /// A hashed unique index (format 10): (hash, id) keys.
    Hashed(Vec<(u64, u64)>),
    Multi(Vec<Vec<u8>>),
    Postings(Vec<(Vec<u8>, Vec<u8>)>),
    Meta(Vec<(String, u64)>),
}

/// Which kind of table `name` is (the names of the store's schema).
fn kind(name: &str) -> &'static str {
    match name {
        "users" | "roles" | "clients" | "changes" => "records",
        "meta" => "meta",
        "sessions" | "idx.user.trigrams" => "postings",
        n if n.starts_with("post.") => "postings",
        "idx.user.username.hash" | "idx.user.email.hash" => "hashed",
        "idx.user.external_id" | "idx.role.name" | "idx.client.client_id" => "unique",
        n if n.starts_with("count.") => "unique",
        _ => "multi",
    }
}

fn read_all(path: &Path) -> Result<Vec<(String, Rows)>, Box<dyn std::error::Error>> {
    let db = redb::Database::open(path)?;
    let txn = db.begin_read()?;
    let mut tables = Vec::new();
    for handle in txn.list_tables()? {
        let name = handle.name().to_owned();
        let leaked: &'static str = Box::leak(name.clone().into_boxed_str());
        let rows = match kind(&name) {
            "records" => {
                let t = txn.open_table(Records::new(leaked))?;
                let mut rows = Vec::new();
                for e in t.iter()? {
                    let (k, v) = e?;
                    rows.push((k.value(), v.value().to_vec()));
                }
                Rows::Records(rows)
            }
            "unique" => {
                let t = txn.open_table(Unique::new(leaked))?;
                let mut rows = Vec::new();
                for e in t.iter()? {
                    let (k, v) = e?;
                    rows.push((k.value().to_vec(), v.value()));
                }
                Rows::Unique(rows)
            }
            "hashed" => {
                let t = txn.open_table(TableDefinition::<(u64, u64), ()>::new(leaked))?;
                let mut rows = Vec::new();
                for e in t.iter()? {
                    rows.push(e?.0.value());
                }
                Rows::Hashed(rows)
            }
            "multi" => {
                let t = txn.open_table(Multi::new(leaked))?;
                let mut rows = Vec::new();
                for e in t.iter()? {
                    rows.push(e?.0.value().to_vec());
                }
                Rows::Multi(rows)
            }
            "postings" => {
                let t = txn.open_table(Postings::new(leaked))?;
                let mut rows = Vec::new();
                for e in t.iter()? {
                    let (k, v) = e?;
                    rows.push((k.value().to_vec(), v.value().to_vec()));
                }
                Rows::Postings(rows)
            }
            _ => {
                let t = txn.open_table(TableDefinition::<&str, u64>::new(leaked))?;
                let mut rows = Vec::new();
                for e in t.iter()? {
                    let (k, v) = e?;
                    rows.push((k.value().to_owned(), v.value()));
                }
                Rows::Meta(rows)
            }
        };
        tables.push((leaked.to_owned(), rows));
    }
    Ok(tables)
}

/// Writes `tables` (those `keep` accepts) into a new file at `out` in one
/// durable transaction; the time taken. With `cursor`, each table's rows
/// (already in key order) go in through one redb cursor, as rosterdb's
/// bulk writes put runs of keys (`storage::sorted_writes`); without, one
/// `insert` each.
fn write(
    out: &Path,
    tables: &[(String, Rows)],
    keep: impl Fn(&str) -> bool,
    cursor: bool,
) -> Result<f64, Box<dyn std::error::Error>> {
    /// Puts `rows` into the table `def` of `txn`, one way or the other.
    macro_rules! put {
        ($txn:expr, $def:expr, $k:ty, $rows:expr) => {{
            let mut t = $txn.open_table($def)?;
            if cursor {
                let mut c = t.upper_bound_mut(std::ops::Bound::<$k>::Unbounded)?;
                for (k, v) in $rows {
                    c.insert_before(k, v)?;
                }
                c.close()?;
            } else {
                for (k, v) in $rows {
                    t.insert(k, v)?;
                }
            }
        }};
    }
    let _ = std::fs::remove_file(out);
    let db = redb::Database::create(out)?;
    let start = Instant::now();
    let txn = db.begin_write()?;
    for (name, rows) in tables.iter().filter(|(n, _)| keep(n)) {
        let name: &'static str = Box::leak(name.clone().into_boxed_str());
        match rows {
            Rows::Records(rows) => put!(
                txn,
                Records::new(name),
                u64,
                rows.iter().map(|(k, v)| (k, v.as_slice()))
            ),
            Rows::Unique(rows) => put!(
                txn,
                Unique::new(name),
                &[u8],
                rows.iter().map(|(k, v)| (k.as_slice(), v))
            ),
            Rows::Hashed(rows) => put!(
                txn,
                TableDefinition::<(u64, u64), ()>::new(name),
                (u64, u64),
                rows.iter().map(|k| (k, ()))
            ),
            Rows::Multi(rows) => put!(
                txn,
                Multi::new(name),
                &[u8],
                rows.iter().map(|k| (k.as_slice(), ()))
            ),
            Rows::Postings(rows) => put!(
                txn,
                Postings::new(name),
                &[u8],
                rows.iter().map(|(k, v)| (k.as_slice(), v.as_slice()))
            ),
            Rows::Meta(rows) => put!(
                txn,
                TableDefinition::<&str, u64>::new(name),
                &str,
                rows.iter().map(|(k, v)| (k.as_str(), v))
            ),
        }
    }
    txn.commit()?;
    Ok(start.elapsed().as_secs_f64())
}

/// Which tables a case writes, by name.
type Keep = fn(&str) -> bool;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: write_floor FILE [ROUNDS]")?;
    let rounds: usize = match args.next() {
        Some(n) => n.parse()?,
        None => 5,
    };
    let path = Path::new(&path);
    let tables = read_all(path)?;
    let users = tables
        .iter()
        .find_map(|(n, rows)| match (n.as_str(), rows) {
            ("users", Rows::Records(rows)) => Some(rows.len()),
            _ => None,
        })
        .ok_or("no users table")?;
    let out = path.with_extension("floor");
    let cases: [(&str, Keep, bool); 4] = [
        ("all tables", |_| true, false),
        ("all, cursors", |_| true, true),
        ("records only", |n| n == "users", false),
        ("records and log", |n| n == "users" || n == "changes", false),
    ];
    println!("users: {users}; median ns per user over {rounds} rounds");
    for (label, keep, cursor) in cases {
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            times.push(write(&out, &tables, keep, cursor)?);
        }
        println!(
            "{label:16} {:8.0}",
            median(times) * 1e9 / users.max(1) as f64
        );
    }
    let extra = args.next();
    if extra.as_deref() == Some("merged") {
        // Every key of the unique and ordered indexes in one table, each
        // prefixed by its table's number: the same keys in one tree.
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for (number, (_, rows)) in tables.iter().enumerate() {
            let prefix = u8::try_from(number)?;
            let mut push = |k: &[u8]| {
                let mut key = Vec::with_capacity(k.len().saturating_add(9));
                key.push(prefix);
                key.extend_from_slice(k);
                keys.push(key);
            };
            match rows {
                Rows::Unique(rows) => rows.iter().for_each(|(k, v)| {
                    let mut k = k.clone();
                    k.extend_from_slice(&v.to_be_bytes());
                    push(&k);
                }),
                Rows::Hashed(rows) => rows.iter().for_each(|(hash, id)| {
                    let mut k = hash.to_be_bytes().to_vec();
                    k.extend_from_slice(&id.to_be_bytes());
                    push(&k);
                }),
                Rows::Multi(rows) => rows.iter().for_each(|k| push(k)),
                _ => {}
            }
        }
        keys.sort();
        println!(
            "index keys per user {:.1}",
            keys.len() as f64 / users.max(1) as f64
        );
        let single = [("idx.merged".to_owned(), Rows::Multi(keys))];
        let mut times = Vec::with_capacity(rounds);
        let mut separate = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            times.push(write(&out, &single, |_| true, false)?);
            separate.push(write(
                &out,
                &tables,
                |n| matches!(kind(n), "unique" | "multi"),
                false,
            )?);
        }
        println!(
            "index keys in their tables {:8.0}",
            median(separate) * 1e9 / users.max(1) as f64
        );
        println!(
            "index keys in one table    {:8.0}",
            median(times) * 1e9 / users.max(1) as f64
        );
    }
    if extra.as_deref() == Some("each") {
        for (name, _) in &tables {
            let mut times = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                times.push(write(&out, &tables, |n| n == name, false)?);
            }
            println!(
                "  {name:28} {:8.0}",
                median(times) * 1e9 / users.max(1) as f64
            );
        }
    }
    let _ = std::fs::remove_file(&out);
    Ok(())
}
