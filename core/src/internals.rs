//! The crate's internals, opened for its own tests: the query syntax tree
//! and parsers, and the physical plan `list`, `count` and `exists` run
//! (with `Collection::{plan, list_with_plan, count_with_plan,
//! exists_with_plan}`).
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
