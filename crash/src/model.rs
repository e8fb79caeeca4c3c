//! What the parent knows must be in the store: every acknowledged write's
//! documents, change-log entries, failure counts, sessions and tokens.

use std::collections::BTreeMap;

use rosterdb::EntityKind;
use serde_json::Value;

use crate::predicates::{self, State};
use crate::protocol::{self, Doc, Effect, LoginEffect};
use crate::snapshot::{Entry, Key, Op, Snapshot};

/// The expected state of the store.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Every record's document as last acknowledged or verified.
    pub docs: BTreeMap<Key, Value>,
    /// The change log as last verified, in order.
    pub confirmed: Vec<Entry>,
    /// The change-log entries of each write acknowledged since, one group
    /// a write, in order (within a group, in any order).
    pub pending: Vec<Vec<Entry>>,
    /// Failed password checks of users with login bookkeeping since the
    /// last probe (see [`crate::probe`]).
    pub failures: BTreeMap<u64, u32>,
    /// Live sessions of each user that logged in.
    pub sessions: BTreeMap<u64, usize>,
    /// Tokens that must authenticate, with the record they stand for.
    pub tokens: Vec<(String, Key)>,
    /// Tokens that must not: their user or client was deleted.
    pub revoked: Vec<String>,
    /// Writes acknowledged since the harness began.
    pub acked: u64,
}

/// The change-log entries `effect` makes once applied, given the ids of
/// its created records (in the order of `effect.creates`).
pub fn entries(effect: &Effect, created: &[u64], docs: &BTreeMap<Key, Value>) -> Vec<Entry> {
    let mut out = Vec::new();
    for (create, &id) in effect.creates.iter().zip(created) {
        out.push(Entry {
            kind: create.kind,
            id,
            op: Op::Create,
            version: 1,
        });
    }
    for update in &effect.updates {
        out.push(Entry {
            kind: update.kind,
            id: update.id,
            op: Op::Update,
            version: update.version,
        });
    }
    for delete in &effect.deletes {
        let last = docs
            .get(&(delete.kind, delete.id))
            .and_then(predicates::version)
            .unwrap_or(0);
        out.push(Entry {
            kind: delete.kind,
            id: delete.id,
            op: Op::Delete,
            version: last,
        });
    }
    out.sort();
    out
}

/// The document of `kind` in `docs` whose key field is `key`.
fn by_key<'a>(docs: &'a [Doc], kind: EntityKind, key: &str) -> Option<&'a Value> {
    let field = protocol::key_field(kind);
    docs.iter()
        .find(|d| d.kind == kind && d.doc.get(field).and_then(Value::as_str) == Some(key))
        .map(|d| &d.doc)
}

/// The document of `(kind, id)` in `docs`.
fn by_id(docs: &[Doc], kind: EntityKind, id: u64) -> Option<&Value> {
    docs.iter()
        .find(|d| d.kind == kind && d.doc.get("id").and_then(Value::as_u64) == Some(id))
        .map(|d| &d.doc)
}

/// Requires `state` to be [`State::Applied`]; `Err` says what instead.
fn must_apply(what: &str, state: State) -> Result<(), String> {
    match state {
        State::Applied => Ok(()),
        State::NotApplied => Err(format!("{what}: the acknowledgement shows it not applied")),
        State::Neither(why) => Err(format!("{what}: {why}")),
    }
}

impl Model {
    /// Records an acknowledged call: its documents replace the expected
    /// ones, and its change-log entries, sessions and failure counts are
    /// expected from now on.
    ///
    /// `Err` when the acknowledgement does not show the effect the intent
    /// announced: a fault of the harness (its expectations would make the
    /// crash checks wrong), not of the store.
    pub fn acknowledge(
        &mut self,
        effect: &Effect,
        docs: &[Doc],
        token: Option<&str>,
    ) -> Result<(), String> {
        let mut created = Vec::new();
        for create in &effect.creates {
            let found = by_key(docs, create.kind, &create.key);
            must_apply(
                &format!("create {} {}", create.kind, create.key),
                predicates::created(create, found),
            )?;
            let id = found.and_then(|d| d.get("id")).and_then(Value::as_u64);
            let id = id.ok_or_else(|| format!("created {} has no id", create.key))?;
            if self.docs.contains_key(&(create.kind, id)) {
                return Err(format!("created {} {id} reuses an id", create.kind));
            }
            created.push(id);
        }
        for update in &effect.updates {
            let before = self
                .docs
                .get(&(update.kind, update.id))
                .ok_or_else(|| format!("update of unknown {} {}", update.kind, update.id))?;
            must_apply(
                &format!("update {} {}", update.kind, update.id),
                predicates::updated(update, before, by_id(docs, update.kind, update.id)),
            )?;
        }
        let group = entries(effect, &created, &self.docs);
        for (create, id) in effect.creates.iter().zip(&created) {
            if let Some(doc) = by_key(docs, create.kind, &create.key) {
                self.docs.insert((create.kind, *id), doc.clone());
            }
        }
        for update in &effect.updates {
            if let Some(doc) = by_id(docs, update.kind, update.id) {
                self.docs.insert((update.kind, update.id), doc.clone());
            }
        }
        for delete in &effect.deletes {
            self.forget((delete.kind, delete.id));
        }
        if let Some(login) = effect.login {
            self.logged(login, docs, token)?;
        }
        if !group.is_empty() {
            self.pending.push(group);
        }
        self.acked = self.acked.saturating_add(1);
        Ok(())
    }

    /// Records the login bookkeeping of an acknowledged call.
    fn logged(
        &mut self,
        login: LoginEffect,
        docs: &[Doc],
        token: Option<&str>,
    ) -> Result<(), String> {
        let (kind, id, field) = match login {
            LoginEffect::Failed { user } => {
                let count = self.failures.entry(user).or_insert(0);
                *count = count.saturating_add(1);
                return Ok(());
            }
            LoginEffect::User { user } => (EntityKind::User, user, "lastLoginAt"),
            LoginEffect::Client { client } => (EntityKind::Client, client, "lastUsedAt"),
        };
        let before = self
            .docs
            .get(&(kind, id))
            .ok_or_else(|| format!("login of unknown {kind} {id}"))?;
        let now = by_id(docs, kind, id);
        must_apply(
            &format!("login of {kind} {id}"),
            predicates::logged_in(field, before, now),
        )?;
        if let Some(now) = now {
            self.docs.insert((kind, id), now.clone());
        }
        let token = token.ok_or_else(|| format!("login of {kind} {id} without a token"))?;
        self.tokens.push((token.to_owned(), (kind, id)));
        if kind == EntityKind::User {
            self.failures.insert(id, 0);
            let count = self.sessions.entry(id).or_insert(0);
            *count = count.saturating_add(1);
        }
        Ok(())
    }

    /// Drops a deleted record: its document, and its sessions, whose
    /// tokens must fail from now on.
    pub fn forget(&mut self, key: Key) {
        self.docs.remove(&key);
        if key.0 == EntityKind::User {
            self.sessions.remove(&key.1);
            self.failures.remove(&key.1);
        }
        let (gone, kept) = std::mem::take(&mut self.tokens)
            .into_iter()
            .partition(|(_, holder)| *holder == key);
        self.tokens = kept;
        let gone: Vec<(String, Key)> = gone;
        self.revoked
            .extend(gone.into_iter().map(|(token, _)| token));
    }

    /// Takes a verified snapshot as the expected state: its documents and
    /// change log, with no write pending.
    pub fn adopt(&mut self, snapshot: Snapshot, sessions: BTreeMap<u64, usize>) {
        self.docs = snapshot.docs;
        self.confirmed = snapshot.changes;
        self.pending.clear();
        self.failures.clear();
        self.sessions = sessions;
    }
}
