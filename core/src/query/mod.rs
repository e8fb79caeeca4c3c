//! Queries (SPEC §3): two front ends, one filter tree, a type checker, an
//! evaluator, secondary indexes and a planner.
//!
//! Only [`Query`], [`Page`] and the page sizes are public. The syntax tree
//! and the parsers are internals: the crate's own tests reach them through
//! `rosterdb::internals`, which exists only with the `internals` cargo
//! feature (off by default).
//!
//! ```compile_fail
//! use rosterdb::query::ast::RawQuery; // private: not part of the API
//! ```

pub(crate) mod ast;
mod builder;
pub(crate) mod check;
pub(crate) mod cursor;
pub(crate) mod eval;
pub(crate) mod exec;
pub(crate) mod index;
pub(crate) mod lexer;
pub(crate) mod number;
mod page;
pub(crate) mod params;
pub(crate) mod parser;
pub(crate) mod pattern;
pub(crate) mod plan;
pub(crate) mod schema;
pub(crate) mod sort;

pub use builder::Query;
pub use page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page};
