//! Runs the query vectors of `tests/vectors/queries.json` (docs/reference/queries.md).
//!
//! The population is created once, in order, on a fresh in-memory store; every
//! case then runs against it through the parameter form (`Query::from_params`)
//! and, when it has only a `where`, through `Query::parse` as well; its
//! `then` steps follow the cursor of each page with more parameters. Every
//! case runs; all failures are reported together.

// A test fails by panicking: unwraps, indexing and arithmetic on small
// known values are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

use rosterdb::{Error, NewClient, NewRole, NewUser, Query, Store};
use rosterdb_conformance::{case_object, load_vectors, memory_store, run_cases};
use serde_json::{Map, Value};

/// Keys a case object may have.
const CASE_KEYS: [&str; 14] = [
    "name",
    "entity",
    "params",
    "where",
    "ids",
    "total",
    "count",
    "nextCursor",
    "items",
    "pages",
    "error",
    "errorField",
    "errorPosition",
    "then",
];

/// Keys a step of `then` may have.
const STEP_KEYS: [&str; 8] = [
    "params",
    "ids",
    "total",
    "nextCursor",
    "items",
    "error",
    "errorField",
    "errorPosition",
];

/// Fewer cases than this means the file was emptied or truncated by accident.
const MIN_CASES: usize = 60;

#[test]
fn query_vectors() {
    let store = memory_store();
    populate(&store, &load_vectors("queries.json")["population"]);
    run_cases("queries.json", MIN_CASES, |case| run_case(&store, case));
}

/// Creates the roles, users and clients of the population, in that order,
/// checking that each kind's ids run 1..n.
fn populate(store: &Store, population: &Value) {
    let list = |key: &str| -> &Vec<Value> {
        population[key]
            .as_array()
            .unwrap_or_else(|| panic!("population.{key} must be an array"))
    };
    for (i, doc) in list("roles").iter().enumerate() {
        let role = NewRole::from_json(doc)
            .and_then(|new| store.roles().create(new))
            .unwrap_or_else(|e| panic!("role #{} {doc}: {e:?}", i + 1));
        assert_eq!(role.id, i as u64 + 1, "role ids run 1..n");
    }
    for (i, doc) in list("users").iter().enumerate() {
        let user = NewUser::from_json(doc)
            .and_then(|new| store.users().create(new))
            .unwrap_or_else(|e| panic!("user #{} {doc}: {e:?}", i + 1));
        assert_eq!(user.id, i as u64 + 1, "user ids run 1..n");
    }
    for (i, doc) in list("clients").iter().enumerate() {
        let created = NewClient::from_json(doc)
            .and_then(|new| store.clients().create(new))
            .unwrap_or_else(|e| panic!("client #{} {doc}: {e:?}", i + 1));
        assert_eq!(created.client.id, i as u64 + 1, "client ids run 1..n");
    }
}

/// A page as plain data.
struct Listed {
    items: Vec<Value>,
    total: Option<u64>,
    next_cursor: Option<String>,
}

fn list(store: &Store, entity: &str, query: &Query) -> rosterdb::Result<Listed> {
    macro_rules! plain {
        ($page:expr) => {{
            let page = $page;
            Listed {
                items: page.items_json()?,
                total: page.total,
                next_cursor: page.next_cursor,
            }
        }};
    }
    Ok(match entity {
        "user" => plain!(store.users().list(query)?),
        "role" => plain!(store.roles().list(query)?),
        _ => plain!(store.clients().list(query)?),
    })
}

fn count(store: &Store, entity: &str, query: &Query) -> rosterdb::Result<u64> {
    match entity {
        "user" => store.users().count(query),
        "role" => store.roles().count(query),
        _ => store.clients().count(query),
    }
}

fn ids(items: &[Value]) -> Vec<u64> {
    items
        .iter()
        .map(|d| d["id"].as_u64().unwrap_or(0))
        .collect()
}

/// The `params` of a case or step as (name, value) pairs.
fn pairs_of(case: &Map<String, Value>) -> Result<Vec<(String, String)>, String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(params) = case.get("params") {
        let params = params.as_array().ok_or("\"params\" must be a list")?;
        for pair in params {
            match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(k), Value::String(v)]) => pairs.push((k.clone(), v.clone())),
                _ => {
                    return Err(format!(
                        "a param must be a [name, value] pair of strings: {pair}"
                    ));
                }
            }
        }
    }
    Ok(pairs)
}

/// The queries a case stands for: its parameter form (with `where` added as
/// a parameter) and, for a `where` alone, the expression form too.
fn queries(
    case: &Map<String, Value>,
) -> Result<Vec<(&'static str, rosterdb::Result<Query>)>, String> {
    let mut pairs = pairs_of(case)?;
    let expr = match case.get("where") {
        None => None,
        Some(Value::String(w)) => Some(w.as_str()),
        Some(_) => return Err("\"where\" must be a string".into()),
    };
    if let Some(w) = expr {
        pairs.push(("where".into(), w.to_owned()));
    }
    if pairs.is_empty() {
        return Err("a case needs \"params\" or \"where\"".into());
    }
    let mut out = vec![("params", Query::from_params(&pairs))];
    if let (Some(w), None) = (expr, case.get("params")) {
        out.push(("expression", Query::parse(w)));
    }
    Ok(out)
}

fn run_case(store: &Store, case: &Value) -> Result<(), String> {
    let (case, entity) = case_object(case, &CASE_KEYS)?;
    let expects = ["ids", "count", "items", "pages", "error"];
    if !expects.iter().any(|k| case.contains_key(*k)) {
        return Err(format!("a case expects one of {expects:?}"));
    }
    if case.contains_key("then") && (case.contains_key("pages") || case.contains_key("error")) {
        return Err("\"then\" goes with neither \"pages\" nor \"error\"".into());
    }
    let mut problems = Vec::new();
    for (front, query) in queries(case)? {
        let outcome = match case.get("error") {
            Some(kind) => expect_error(store, entity, case, kind, query),
            None => match query {
                Ok(query) => expect_results(store, entity, case, &query),
                Err(e) => Err(format!("the query does not build: {e:?}")),
            },
        };
        if let Err(p) = outcome {
            problems.push(format!("[{front}] {p}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn expect_error(
    store: &Store,
    entity: &str,
    case: &Map<String, Value>,
    kind: &Value,
    query: rosterdb::Result<Query>,
) -> Result<(), String> {
    if kind != "InvalidQuery" {
        return Err(format!("unknown error kind {kind}"));
    }
    let error = match query {
        Err(e) => e,
        Ok(query) => match list(store, entity, &query) {
            Ok(page) => {
                return Err(format!(
                    "expected InvalidQuery, got a page of {:?}",
                    ids(&page.items)
                ));
            }
            Err(e) => {
                if count(store, entity, &query).is_ok() {
                    return Err(format!("list failed with {e:?}, but count succeeded"));
                }
                e
            }
        },
    };
    let Error::InvalidQuery {
        position, field, ..
    } = &error
    else {
        return Err(format!("expected InvalidQuery, got {error:?}"));
    };
    if let Some(want) = case.get("errorField")
        && want.as_str() != field.as_deref()
    {
        return Err(format!("expected the error on field {want}, got {error:?}"));
    }
    if let Some(want) = case.get("errorPosition")
        && want.as_u64() != position.map(|p| p as u64)
    {
        return Err(format!(
            "expected the error at position {want}, got {error:?}"
        ));
    }
    Ok(())
}

fn expect_results(
    store: &Store,
    entity: &str,
    case: &Map<String, Value>,
    query: &Query,
) -> Result<(), String> {
    let mut problems = Vec::new();
    if let Some(want) = case.get("count") {
        match count(store, entity, query) {
            Ok(n) if Some(n) == want.as_u64() => {}
            other => problems.push(format!("count: expected {want}, got {other:?}")),
        }
    }
    let wants_page = ["ids", "total", "nextCursor", "items", "pages", "then"]
        .iter()
        .any(|k| case.contains_key(*k));
    if !wants_page {
        return if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        };
    }
    let page = list(store, entity, query).map_err(|e| format!("list failed: {e:?}"))?;
    problems.extend(check_page(case, &page));
    if let Some(steps) = case.get("then")
        && let Err(p) = follow(store, entity, page.next_cursor.clone(), steps)
    {
        problems.push(format!("then: {p}"));
    }
    if let Some(want) = case.get("pages") {
        match walk(store, entity, page) {
            Ok(pages) if Value::from(pages.clone()) == *want => {}
            Ok(pages) => problems.push(format!("pages: expected {want}, got {pages:?}")),
            Err(e) => problems.push(format!("pages: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// What differs between a page and the `ids`, `total`, `nextCursor` and
/// `items` a case or step expects.
fn check_page(case: &Map<String, Value>, page: &Listed) -> Vec<String> {
    let mut problems = Vec::new();
    let got = ids(&page.items);
    if let Some(want) = case.get("ids")
        && Value::from(got.clone()) != *want
    {
        problems.push(format!("ids: expected {want}, got {got:?}"));
    }
    if let Some(want) = case.get("total")
        && page.total.map(Value::from).unwrap_or(Value::Null) != *want
    {
        problems.push(format!("total: expected {want}, got {:?}", page.total));
    }
    if let Some(want) = case.get("nextCursor")
        && Some(page.next_cursor.is_some()) != want.as_bool()
    {
        problems.push(format!(
            "nextCursor: expected present={want}, got {:?}",
            page.next_cursor
        ));
    }
    if let Some(want) = case.get("items")
        && Value::from(page.items.clone()) != *want
    {
        problems.push(format!(
            "items: expected {want}, got {}",
            Value::from(page.items.clone())
        ));
    }
    problems
}

/// Runs the steps of `then`: each lists its `params` plus `cursor`, the
/// `nextCursor` of the last page listed without error (the case's first
/// page, then each step's), and checks what the step expects.
fn follow(
    store: &Store,
    entity: &str,
    first_cursor: Option<String>,
    steps: &Value,
) -> Result<(), String> {
    let steps = steps.as_array().ok_or("\"then\" must be a list")?;
    if steps.is_empty() {
        return Err("\"then\" is empty".into());
    }
    let mut cursor = first_cursor;
    for (n, step) in steps.iter().enumerate() {
        let n = n + 1;
        let step = step
            .as_object()
            .ok_or(format!("step {n} is not a JSON object"))?;
        if let Some(key) = step.keys().find(|k| !STEP_KEYS.contains(&k.as_str())) {
            return Err(format!("step {n}: unknown key {key:?}"));
        }
        let expects = ["ids", "total", "nextCursor", "items", "error"];
        if !expects.iter().any(|k| step.contains_key(*k)) {
            return Err(format!("step {n} expects none of {expects:?}"));
        }
        let token = cursor
            .clone()
            .ok_or(format!("step {n}: the page before has no nextCursor"))?;
        let mut pairs = pairs_of(step)?;
        pairs.push(("cursor".into(), token));
        let query = Query::from_params(&pairs);
        if let Some(kind) = step.get("error") {
            expect_error(store, entity, step, kind, query).map_err(|e| format!("step {n}: {e}"))?;
            continue;
        }
        let query = query.map_err(|e| format!("step {n}: the query does not build: {e:?}"))?;
        let page =
            list(store, entity, &query).map_err(|e| format!("step {n}: list failed: {e:?}"))?;
        let problems = check_page(step, &page);
        if !problems.is_empty() {
            return Err(format!("step {n}: {}", problems.join("; ")));
        }
        cursor = page.next_cursor;
    }
    Ok(())
}

/// The ids of the first page and of every page after it, following
/// `nextCursor` with a `cursor` parameter alone.
fn walk(store: &Store, entity: &str, first: Listed) -> Result<Vec<Vec<u64>>, String> {
    let mut pages = vec![ids(&first.items)];
    let mut next = first.next_cursor;
    while let Some(token) = next {
        if pages.len() > 100 {
            return Err("more than 100 pages".into());
        }
        let query = Query::from_params(&[("cursor", token.as_str())])
            .map_err(|e| format!("the cursor is refused: {e:?}"))?;
        let page = list(store, entity, &query)
            .map_err(|e| format!("page {} failed: {e:?}", pages.len() + 1))?;
        pages.push(ids(&page.items));
        next = page.next_cursor;
    }
    Ok(pages)
}
