//! Queries (SPEC §3): two front ends, one filter tree, a type checker, an
//! evaluator, secondary indexes and a planner.

pub mod ast;
pub mod check;
pub mod eval;
pub mod pattern;
pub mod schema;
pub mod sort;
