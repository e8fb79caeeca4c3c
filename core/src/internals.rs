//! The crate's internals, opened for its own tests and the fuzzers
//! (`fuzzing/`): the query syntax tree, parsers and type checker, the
//! physical plan `list`, `count` and `exists` run (with
//! `Collection::{plan, list_with_plan, count_with_plan, exists_with_plan}`),
//! cursor tokens, stored password hashes and the record codec; and a record
//! of the costly hashing credential checks do ([`work`]).
//!
//! Only with the `internals` cargo feature, which is off by default and
//! enabled by `core/Cargo.toml`'s dev-dependency on the crate itself. None
//! of this is public API: it may change in any release.

use crate::Query;

/// The untyped syntax tree both query front ends produce.
pub mod ast {
    pub use crate::query::ast::*;
}

/// The parameter form of a query (docs/reference/queries.md, Parameter form).
pub mod params {
    pub use crate::query::params::*;
}

/// The expression form of a query (docs/reference/queries.md, Expression form).
pub mod parser {
    pub use crate::query::parser::*;
}

pub use crate::documents::stored_hash::StoredHash;
pub use crate::query::access::{Access, IndexTable, Span};
pub use crate::query::bind::{SortBy, Start};
pub use crate::query::check::{Cmp, Field, Filter, Scalar, check};
pub use crate::query::cursor::{Cursor, QueryParts};
pub use crate::query::physical::{AccessPath, Count, PhysicalPlan, Probe, Reason};
pub use crate::query::schema::fields_of;
pub use crate::query::sort::{Position, SortValue};

/// A query's untyped form.
pub trait QueryInternals {
    /// The untyped form of the query, as the front ends read it.
    fn raw(&self) -> &ast::RawQuery;
}

impl QueryInternals for Query {
    fn raw(&self) -> &ast::RawQuery {
        Query::raw(self)
    }
}

/// The record codec (`storage::codec`) over every kind of stored record.
pub mod records {
    use crate::storage::changelog::Entry;
    use crate::storage::codec;
    use crate::storage::entity::Entity;
    use crate::storage::sessions::SessionRecord;
    use crate::{Client, Result, Role, Timestamp, User};

    /// A kind of record the store keeps in a table.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum RecordKind {
        /// A user record.
        User,
        /// A role record.
        Role,
        /// An app-client record.
        Client,
        /// A session record.
        Session,
        /// A change-log entry.
        Change,
    }

    impl RecordKind {
        /// Every kind, in a fixed order.
        pub const ALL: [RecordKind; 5] = [
            RecordKind::User,
            RecordKind::Role,
            RecordKind::Client,
            RecordKind::Session,
            RecordKind::Change,
        ];
    }

    /// What a read makes of a stored record.
    #[derive(Debug)]
    pub struct Decoded {
        /// The decoded record, encoded again.
        pub reencoded: Vec<u8>,
        /// The public document of a user, role or client record as seen at
        /// the given instant, as JSON; `None` for sessions and change-log
        /// entries, `Err` when the record makes no document.
        pub document: Option<Result<serde_json::Value>>,
    }

    /// Decodes `bytes` as a stored record of `kind` the way a read does,
    /// computes what reads and `check()` compute from it (its unique-index
    /// and secondary-index entries, its public document as seen at `now`),
    /// and encodes the decoded record again.
    ///
    /// Errors: those of reading a damaged record (`Storage` for bytes that
    /// do not decode, `IncompatibleFormat` for an unknown schema byte).
    pub fn decode(kind: RecordKind, bytes: &[u8], now: Timestamp) -> Result<Decoded> {
        match kind {
            RecordKind::User => entity::<User>(bytes, now),
            RecordKind::Role => entity::<Role>(bytes, now),
            RecordKind::Client => entity::<Client>(bytes, now),
            RecordKind::Session => Ok(Decoded {
                reencoded: codec::encode(&codec::decode::<SessionRecord>(bytes)?)?,
                document: None,
            }),
            RecordKind::Change => Ok(Decoded {
                reencoded: codec::encode(&codec::decode::<Entry>(bytes)?)?,
                document: None,
            }),
        }
    }

    fn entity<E: Entity + serde::Serialize>(bytes: &[u8], now: Timestamp) -> Result<Decoded> {
        let record: E::Record = codec::decode(bytes)?;
        let _unique = E::unique_keys(&record);
        let _multi = crate::storage::index::entries(E::KIND, E::id(&record), &record);
        let document = E::document(&record, now).and_then(|doc| {
            serde_json::to_value(&doc)
                .map_err(|e| crate::Error::internal(format!("a document as JSON: {e}")))
        });
        Ok(Decoded {
            reencoded: codec::encode(&record)?,
            document: Some(document),
        })
    }
}

/// The costly hashing the credential checks did on the calling thread, so
/// tests can show that a failed login does the same work whether or not
/// the user exists (docs/reference/credentials.md, Passwords) without timing anything.
///
/// A check made inside a store-level write while other writes wait may run
/// on the thread of the writer leading its write group (decision 0025),
/// and is then counted there: measure on a store no other thread writes.
pub mod work {
    use std::cell::RefCell;

    /// One costly hash computation: a hash made or a stored hash checked.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Hashing {
        /// Argon2 (any variant) with these costs.
        Argon2 {
            /// Memory, in KiB.
            memory_kib: u32,
            /// Passes over memory.
            iterations: u32,
            /// Lanes.
            parallelism: u32,
        },
        /// Another scheme (`bcrypt`, `pbkdf2`, `scrypt`).
        Other(&'static str),
    }

    thread_local! {
        static DONE: RefCell<Vec<Hashing>> = const { RefCell::new(Vec::new()) };
    }

    /// Notes one computation on this thread.
    pub(crate) fn record(hashing: Hashing) {
        DONE.with(|done| done.borrow_mut().push(hashing));
    }

    /// The computations done on this thread since the last call, oldest first.
    pub fn take() -> Vec<Hashing> {
        DONE.with(|done| std::mem::take(&mut *done.borrow_mut()))
    }
}
