//! The crate's internals, opened for its own tests: the query syntax tree
//! and parsers, and the physical plan `list`, `count` and `exists` run
//! (with `Collection::{plan, list_with_plan, count_with_plan,
//! exists_with_plan}`); and a record of the costly hashing credential
//! checks do ([`work`]).
//!
//! Only with the `internals` cargo feature, which is off by default and
//! enabled by `core/Cargo.toml`'s dev-dependency on the crate itself. None
//! of this is public API: it may change in any release.

use crate::Query;

/// The untyped syntax tree both query front ends produce.
pub mod ast {
    pub use crate::query::ast::*;
}

/// The parameter form of a query (SPEC §3.1).
pub mod params {
    pub use crate::query::params::*;
}

/// The expression form of a query (SPEC §3.2).
pub mod parser {
    pub use crate::query::parser::*;
}

pub use crate::query::access::{Access, IndexTable, Span};
pub use crate::query::bind::{SortBy, Start};
pub use crate::query::check::{Cmp, Field, Filter, Scalar};
pub use crate::query::physical::{AccessPath, Count, PhysicalPlan, Probe, Reason};

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

/// The costly hashing the credential checks did on the calling thread, so
/// tests can show that a failed login does the same work whether or not
/// the user exists (SPEC §6.1) without timing anything.
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
