//! The lines a child writes to its stdout and the parent reads: one JSON
//! object a line, an intent before each durable call and an
//! acknowledgement after it returned as expected.

use rosterdb::{EntityKind, Options};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One line of a child's output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub enum Line {
    /// Written (and flushed) before a call: what the call will do if it
    /// commits. Until its acknowledgement is read, the call is in flight.
    Intent {
        /// The call's sequence number in this child run, from 1.
        n: u64,
        /// A name of the call for the summary (`create_user`, `tx`, …).
        op: String,
        /// What must be true once it committed.
        effect: Effect,
    },
    /// Written (and flushed) after the call `n` returned as expected: its
    /// effect is now durable and must survive any later crash.
    Ack {
        /// The sequence number of the intent acknowledged.
        n: u64,
        /// The documents the call returned (or read right after it
        /// committed): every created, updated or logged-in record.
        docs: Vec<Doc>,
        /// The bearer token of a session the call opened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
}

/// A record's document as the store returned it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Doc {
    /// The record's kind.
    pub kind: EntityKind,
    /// Its JSON document (camelCase fields, as `serde_json` writes it).
    pub doc: Value,
}

/// What one durable call does, as a set of record changes that must be
/// all present or all absent after a crash.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    /// Records the call creates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub creates: Vec<Create>,
    /// Records the call changes (with a new version).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub updates: Vec<Update>,
    /// Records the call deletes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deletes: Vec<Deleted>,
    /// Login bookkeeping the call does (no version, no change-log entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<LoginEffect>,
}

/// A record a call creates, found after a crash by its unique key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Create {
    /// Its kind.
    pub kind: EntityKind,
    /// The value of its key field ([`key_field`]): unique in a harness run.
    pub key: String,
    /// Fields the created document must hold exactly (a JSON object).
    pub expect: Value,
}

/// A change of an existing record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// Its kind.
    pub kind: EntityKind,
    /// Its id.
    pub id: u64,
    /// Its version once changed.
    pub version: u64,
    /// An RFC 7396 merge patch that turns the document before the call
    /// into the document after it (apart from `version` and `updatedAt`).
    pub expect: Value,
}

/// A record a call deletes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deleted {
    /// Its kind.
    pub kind: EntityKind,
    /// Its id.
    pub id: u64,
}

/// Login bookkeeping of one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "login", rename_all = "lowercase")]
pub enum LoginEffect {
    /// A wrong password for `user`: its failure count goes up by one
    /// (the child never lets it reach the lockout threshold).
    Failed {
        /// The user's id.
        user: u64,
    },
    /// A successful password login of `user`: `lastLoginAt` set, the
    /// failure count cleared and one session opened.
    User {
        /// The user's id.
        user: u64,
    },
    /// A successful login of `client`: `lastUsedAt` set and one session opened.
    Client {
        /// The client's id.
        client: u64,
    },
}

/// The field that identifies a created record of `kind` in a harness run:
/// `username` for users, `name` for roles and clients.
pub fn key_field(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::User => "username",
        EntityKind::Role | EntityKind::Client => "name",
    }
}

/// Consecutive failed password checks that lock a user in the harness.
pub const LOCKOUT_THRESHOLD: u32 = 3;

/// The options both the child and the parent open the store with: cheap
/// Argon2 hashing (microseconds, as the tests use) and a lockout after
/// [`LOCKOUT_THRESHOLD`] failures that lasts a year, so a lock the parent
/// sets stays visible for the whole run.
pub fn options() -> Options {
    Options::default()
        .with_argon2(rosterdb::Argon2Params {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
        })
        .with_lockout(rosterdb::Lockout {
            threshold: LOCKOUT_THRESHOLD,
            duration: std::time::Duration::from_secs(365 * 86_400),
        })
}

/// The lifetime of every session the harness opens: one day, so none
/// expires during a run.
pub const SESSION_TTL: std::time::Duration = std::time::Duration::from_secs(86_400);
