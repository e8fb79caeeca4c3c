//! Queries (SPEC §3): two front ends, one filter tree, a type checker, an
//! evaluator, secondary indexes and a planner.

pub mod ast;
mod builder;
pub(crate) mod check;
pub(crate) mod cursor;
pub(crate) mod eval;
pub(crate) mod exec;
pub(crate) mod index;
pub(crate) mod lexer;
pub(crate) mod number;
mod page;
pub mod params;
pub mod parser;
pub(crate) mod pattern;
pub(crate) mod plan;
pub(crate) mod schema;
pub(crate) mod sort;

pub use builder::Query;
pub use page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page};
