//! Queries (docs/reference/queries.md): reading, binding, planning and running filters, sorts and
//! pages; uses storage and documents.
//!
//! Two front ends, one filter tree, a type checker, an evaluator, a planner
//! that makes a plan value over the indexes of `storage::index`, and an
//! executor that runs it.
//!
//! The path of a query: `lexer`/`parser` and `params` make the untyped tree
//! (`ast`); `bind` checks it against a kind (`check`), resolves its cursor
//! and paging and adds a scoped view's tenant; `plan` turns the bound query
//! into a `PhysicalPlan` (module `physical`, with `access` paths
//! into the indexes); `exec` runs that plan into a [`Page`], a count or a
//! yes/no, and `explain` prints it.
//!
//! Only [`Query`], [`Page`] and the page sizes are public. The syntax tree,
//! the parsers and the plan are internals: the crate's own tests reach them
//! through `rosterdb::internals`, which exists only with the `internals`
//! cargo feature (off by default).
//!
//! ```compile_fail
//! use rosterdb::query::ast::RawQuery; // private: not part of the API
//! ```

pub(crate) mod access;
pub(crate) mod args;
pub(crate) mod ast;
pub(crate) mod bind;
mod builder;
pub(crate) mod check;
pub(crate) mod cursor;
pub(crate) mod eval;
pub(crate) mod exec;
mod filter_text;
mod intersect;
pub(crate) mod lexer;
pub(crate) mod number;
mod page;
pub(crate) mod params;
pub(crate) mod parser;
pub(crate) mod pattern;
pub(crate) mod physical;
pub(crate) mod plan;
mod proof;
pub(crate) mod schema;
pub(crate) mod sort;
mod term_postings;
pub(crate) mod walk;

pub use builder::Query;
pub use page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page};
