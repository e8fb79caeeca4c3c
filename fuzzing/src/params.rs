//! The `params` target: the parameter form of a query (docs/reference/queries.md, Parameter form).
//!
//! The input is `name=value` lines (split at the first `=`; a line without
//! one is a name with an empty value). Properties:
//! - `parse_params` returns a query or an `InvalidQuery` naming in `field`
//!   one of the parameters given (or the name inside `filter[…]`), or no
//!   field when some parameter has an empty name;
//! - the query `Query::from_params` makes of the same pairs lists, counts
//!   and explains on each collection of a small store with a result or an
//!   `InvalidQuery`, never another error; a listed page holds at most 1000
//!   items.

use rosterdb::internals::params::parse_params;
use rosterdb::query::MAX_PAGE_SIZE;
use rosterdb::{Collection, Entity, Error, Query, ReadContext};

use crate::{ErrorKind, expect_error, population, violated};

/// At most this many pairs are read, so one input stays cheap.
const MAX_PAIRS: usize = 32;

/// Checks one input (see the module documentation).
pub fn run(data: &[u8]) {
    let text = crate::text(data);
    let pairs: Vec<(&str, &str)> = text
        .split('\n')
        .take(MAX_PAIRS)
        .map(|line| line.split_once('=').unwrap_or((line, "")))
        .collect();
    match parse_params(&pairs) {
        Ok(_) => {}
        Err(e) => {
            expect_error(&e, &[ErrorKind::InvalidQuery], "parse_params");
            names_a_given_parameter(&e, &pairs);
        }
    }
    let query = match Query::from_params(&pairs) {
        Ok(query) => query,
        Err(e) => return expect_error(&e, &[ErrorKind::InvalidQuery], "Query::from_params"),
    };
    let store = population::shared();
    run_on(&query, &store.users());
    run_on(&query, &store.roles());
    run_on(&query, &store.clients());
}

/// Runs `query` as a list, a count and an explain on one collection.
pub(crate) fn run_on<C: ReadContext, E: Entity>(query: &Query, collection: &Collection<'_, C, E>) {
    let name = format!("{:?}", E::KIND);
    match collection.list(query) {
        Ok(page) if page.items.len() > MAX_PAGE_SIZE => {
            violated(format!("{name}: a page holds {} items", page.items.len()))
        }
        Ok(_) => {}
        Err(e) => expect_error(&e, &[ErrorKind::InvalidQuery], &name),
    }
    if let Err(e) = collection.count(query) {
        expect_error(&e, &[ErrorKind::InvalidQuery], &name);
    }
    if let Err(e) = collection.explain(query) {
        expect_error(&e, &[ErrorKind::InvalidQuery], &name);
    }
}

/// Panics unless the query error names one of the parameters given.
fn names_a_given_parameter(error: &Error, pairs: &[(&str, &str)]) {
    let Error::InvalidQuery { field, .. } = error else {
        return;
    };
    let Some(field) = field else {
        // Only a parameter without a name has none to report.
        if !pairs.iter().any(|(name, _)| name.is_empty()) {
            violated(format!(
                "parse_params: an error names no parameter: {error}"
            ));
        }
        return;
    };
    let given = pairs.iter().any(|(name, _)| {
        *name == field
            || name
                .strip_prefix("filter[")
                .and_then(|rest| rest.strip_suffix(']'))
                .is_some_and(|inner| inner == field)
    });
    if !given {
        violated(format!(
            "parse_params: the error names {field:?}, which is not given: {error}"
        ));
    }
}
