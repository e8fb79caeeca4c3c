//! Everything the store holds that the harness compares, read in one
//! consistent snapshot: every document and the whole change log.

use std::collections::BTreeMap;

use rosterdb::{Change, ChangeOp, EntityKind, MAX_CHANGES_PER_CALL, Query, ReadTx, Store, Walk};
use serde::Serialize;
use serde_json::Value;

use crate::error::{self, Result};

/// A record's identity: its kind and id.
pub type Key = (EntityKind, u64);

/// What a change-log entry did, ordered so entries can be sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    /// `create`.
    Create,
    /// `update`.
    Update,
    /// `delete`.
    Delete,
}

impl From<ChangeOp> for Op {
    fn from(op: ChangeOp) -> Op {
        match op {
            ChangeOp::Create => Op::Create,
            ChangeOp::Update => Op::Update,
            ChangeOp::Delete => Op::Delete,
        }
    }
}

/// A change-log entry as the harness compares it (its sequence number and
/// time left out).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// The record's kind.
    pub kind: EntityKind,
    /// The record's id.
    pub id: u64,
    /// What the change did.
    pub op: Op,
    /// The record's version after it (its last version for a delete).
    pub version: u64,
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} {} {} v{}",
            self.op, self.kind, self.id, self.version
        )
    }
}

/// The store's documents and change log at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Every record's JSON document.
    pub docs: BTreeMap<Key, Value>,
    /// The change log, in order.
    pub changes: Vec<Entry>,
    /// Problems in the log itself (sequence numbers not increasing).
    pub log_problems: Vec<String>,
}

/// Every item of one collection, walked page by page with `fetch`.
fn walk<E, F>(fetch: F) -> rosterdb::Result<Vec<E>>
where
    F: FnMut(&Query) -> rosterdb::Result<rosterdb::Page<E>>,
{
    Walk::new(Query::all().page(1, 1000)).items(fetch).collect()
}

/// The whole change log, read in `tx`.
fn changes(tx: &ReadTx) -> rosterdb::Result<Vec<Change>> {
    let mut all: Vec<Change> = Vec::new();
    loop {
        let after = all.last().map_or(0, |c| c.seq);
        let page = tx.changes(after, MAX_CHANGES_PER_CALL)?;
        if page.is_empty() {
            return Ok(all);
        }
        all.extend(page);
    }
}

/// Adds the JSON documents of `items` of `kind` to `docs`.
fn add<E: Serialize>(kind: EntityKind, items: &[E], docs: &mut BTreeMap<Key, Value>) -> Result<()> {
    for item in items {
        let doc = serde_json::to_value(item).map_err(error::json("a listed document"))?;
        let id = doc.get("id").and_then(Value::as_u64).unwrap_or(0);
        docs.insert((kind, id), doc);
    }
    Ok(())
}

/// Reads every document and the change log in one read transaction.
pub fn read(store: &Store) -> Result<Snapshot> {
    let (users, roles, clients, log) = store
        .read(|tx| {
            Ok((
                walk(|q| tx.users().list(q))?,
                walk(|q| tx.roles().list(q))?,
                walk(|q| tx.clients().list(q))?,
                changes(tx)?,
            ))
        })
        .map_err(error::store("reading a snapshot"))?;
    let mut snapshot = Snapshot::default();
    add(EntityKind::User, &users, &mut snapshot.docs)?;
    add(EntityKind::Role, &roles, &mut snapshot.docs)?;
    add(EntityKind::Client, &clients, &mut snapshot.docs)?;
    let mut last = 0;
    for change in log {
        if change.seq <= last {
            snapshot.log_problems.push(format!(
                "change-log sequence number {} follows {last}",
                change.seq
            ));
        }
        last = change.seq;
        snapshot.changes.push(Entry {
            kind: change.entity,
            id: change.id,
            op: change.op.into(),
            version: change.version,
        });
    }
    Ok(snapshot)
}
