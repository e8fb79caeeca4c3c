//! The `expr` target: the expression form of a filter (docs/reference/queries.md, Expression form).
//!
//! Properties, for any text:
//! - `parse_expr` returns a tree or an `InvalidQuery` whose position lies
//!   within the text;
//! - a tree printed back as text ([`crate::printer`]) parses to the same
//!   tree, positions aside;
//! - type-checked against each kind, a tree gives a typed filter or an
//!   `InvalidQuery` within the text; a typed filter's explain text
//!   (its `Display`) parses and checks again to the same typed filter.

use rosterdb::EntityKind;
use rosterdb::internals::ast::Expr;
use rosterdb::internals::parser::{parse_expr, without_positions};
use rosterdb::internals::{check, fields_of};

use crate::{ErrorKind, expect_error, printer, violated};

/// The kinds a filter is checked against.
const KINDS: [EntityKind; 3] = [EntityKind::User, EntityKind::Role, EntityKind::Client];

/// Checks one input (the expression text, UTF-8; invalid bytes become U+FFFD).
pub fn run(data: &[u8]) {
    let text = crate::text(data);
    let length = text.chars().count();
    let expr = match parse_expr(&text) {
        Ok(Some(expr)) => expr,
        Ok(None) => return,
        Err(e) => return query_error(&e, length, "parse_expr"),
    };
    let printed = printer::print(&expr);
    match parse_expr(&printed) {
        Ok(Some(again)) if without_positions(&again) == without_positions(&expr) => {}
        other => violated(format!(
            "{text:?} printed as {printed:?} parses to {other:?}, not {expr:?}"
        )),
    }
    for kind in KINDS {
        checked_round_trip(&expr, kind, length);
    }
}

/// Checks `expr` against `kind`; a typed filter's explain text must read
/// back to the same typed filter.
fn checked_round_trip(expr: &Expr, kind: EntityKind, length: usize) {
    let fields = fields_of(kind);
    let filter = match check(fields, expr) {
        Ok(filter) => filter,
        Err(e) => return query_error(&e, length, "check"),
    };
    let explained = filter.to_string();
    let again = match parse_expr(&explained) {
        Ok(Some(again)) => again,
        other => violated(format!(
            "{kind:?}: the explain text {explained:?} of {filter:?} parses to {other:?}"
        )),
    };
    match check(fields, &again) {
        Ok(typed) if typed == filter => {}
        other => violated(format!(
            "{kind:?}: the explain text {explained:?} of {filter:?} checks to {other:?}"
        )),
    }
}

/// Panics unless `error` is an `InvalidQuery` positioned within `length` characters.
fn query_error(error: &rosterdb::Error, length: usize, step: &str) {
    expect_error(error, &[ErrorKind::InvalidQuery], step);
    if let rosterdb::Error::InvalidQuery {
        position: Some(position),
        message,
        ..
    } = error
        && *position > length
    {
        violated(format!(
            "{step}: position {position} beyond the text's {length} characters: {message}"
        ));
    }
}
