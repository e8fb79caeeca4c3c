//! The driver: runs each resolved query through both front ends on the
//! store (lists, counts, `exists`, `explain`, cursor walks, with writes
//! between pages) and compares every result with the oracle's.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rosterdb::{Page, Query, Store};
use serde_json::Value;

use crate::generators::{GQuery, Mutation, SIZES};
use crate::oracle::{id_of, pos_cmp, position};
use crate::printers::{print_expr, to_builder, to_params};
use crate::query::{Ex, Paging, Q, SortKey};
use crate::resolve::resolve;
use crate::schema::Ent;
use crate::world::World;

/// A page as plain data: item documents, total, next cursor, projection.
pub struct Listed {
    pub items: Vec<Value>,
    pub total: Option<u64>,
    pub next: Option<String>,
}

pub fn run_list(store: &Store, ent: Ent, query: &Query, via: u64) -> Result<Listed, String> {
    fn conv<E: serde::Serialize>(p: rosterdb::Result<Page<E>>) -> rosterdb::Result<Listed> {
        let p = p?;
        Ok(Listed {
            items: p.items_json()?,
            total: p.total,
            next: p.next_cursor,
        })
    }
    let out = match (ent, via % 4) {
        (Ent::User, 1) => store.read(|r| conv(r.users().list(query))),
        (Ent::User, 2) => store.write(|tx| conv(tx.users().list(query))),
        (Ent::User, _) => conv(store.users().list(query)),
        (Ent::Role, 1) => store.read(|r| conv(r.roles().list(query))),
        (Ent::Role, _) => conv(store.roles().list(query)),
        (Ent::Client, 1) => store.read(|r| conv(r.clients().list(query))),
        (Ent::Client, _) => conv(store.clients().list(query)),
    };
    out.map_err(|e| format!("list failed: {e:?}"))
}

pub fn run_count(store: &Store, ent: Ent, query: &Query) -> Result<(u64, bool), String> {
    let out = match ent {
        Ent::User => store
            .users()
            .count(query)
            .and_then(|c| Ok((c, store.users().exists(query)?))),
        Ent::Role => store
            .roles()
            .count(query)
            .and_then(|c| Ok((c, store.roles().exists(query)?))),
        Ent::Client => store
            .clients()
            .count(query)
            .and_then(|c| Ok((c, store.clients().exists(query)?))),
    };
    out.map_err(|e| format!("count/exists failed: {e:?}"))
}

pub fn run_explain(store: &Store, ent: Ent, query: &Query) -> Result<String, String> {
    let out = match ent {
        Ent::User => store.users().explain(query),
        Ent::Role => store.roles().explain(query),
        Ent::Client => store.clients().explain(query),
    };
    out.map_err(|e| format!("explain failed: {e:?}"))
}

pub fn ids(docs: &[Value]) -> Vec<u64> {
    docs.iter().map(id_of).collect()
}

/// The document as the projection returns it.
pub fn project(doc: &Value, fields: Option<&[&str]>) -> Value {
    match (fields, doc) {
        (Some(fields), Value::Object(map)) => Value::Object(
            map.iter()
                .filter(|(k, _)| *k == "id" || fields.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        _ => doc.clone(),
    }
}

pub fn describe(q: &Q, front: &str) -> String {
    let mut s = format!("{:?} via {front}", q.ent);
    if let Some(f) = &q.filter {
        s += &format!("\n  where: {}", print_expr(f));
    }
    s += &format!("\n  params: {:?}", to_params(q));
    s
}

/// Checks a page against the expected slice of `all` starting at `start`.
pub fn check_page(
    q: &Q,
    got: &Listed,
    rest: &[Value],
    size: usize,
    total: usize,
    ctx: &str,
) -> Result<(), TestCaseError> {
    let end = size.min(rest.len());
    let want: Vec<Value> = rest[..end]
        .iter()
        .map(|d| project(d, q.fields.as_deref()))
        .collect();
    prop_assert_eq!(
        ids(&got.items),
        ids(&want),
        "{}: ids of a page of size {} ({} matches from there, {} in all)",
        ctx,
        size,
        rest.len(),
        total
    );
    prop_assert_eq!(&got.items, &want, "{}: documents", ctx);
    prop_assert_eq!(
        got.next.is_some(),
        end < rest.len(),
        "{}: nextCursor presence ({} of {} remaining matches returned)",
        ctx,
        end,
        rest.len()
    );
    if q.with_total {
        prop_assert_eq!(got.total, Some(total as u64), "{}: total", ctx);
    } else {
        prop_assert_eq!(got.total, None, "{}: total not asked for", ctx);
    }
    Ok(())
}

/// Runs one query through both front ends and compares with the oracle,
/// including a full cursor walk from its first page.
pub fn check_query(w: &World, q: &Q) -> Result<(), TestCaseError> {
    check_query_walking(w, q, usize::MAX)
}

/// [`check_query`], following at most `max_steps` cursors per front end.
pub fn check_query_walking(w: &World, q: &Q, max_steps: usize) -> Result<(), TestCaseError> {
    let all = w.model.matches(q.ent, q);
    let (start, size) = q.paging.window();
    let fronts: Vec<(&str, Result<Query, String>)> = vec![
        ("expression", to_builder(q)),
        (
            "params",
            Query::from_params(&to_params(q)).map_err(|e| format!("from_params: {e:?}")),
        ),
    ];
    for (front, query) in fronts {
        let ctx = describe(q, front);
        let query = query.map_err(|e| TestCaseError::fail(format!("{ctx}\n{e}")))?;
        let original = &query;
        let page = run_list(&w.store, q.ent, &query, q.style >> 20)
            .map_err(|e| TestCaseError::fail(format!("{ctx}\n{e}")))?;
        check_page(
            q,
            &page,
            all.get(start..).unwrap_or_default(),
            size,
            all.len(),
            &ctx,
        )?;
        let (count, exists) = run_count(&w.store, q.ent, &query)
            .map_err(|e| TestCaseError::fail(format!("{ctx}\n{e}")))?;
        prop_assert_eq!(count, all.len() as u64, "{}: count", ctx);
        prop_assert_eq!(exists, !all.is_empty(), "{}: exists", ctx);
        let plan = run_explain(&w.store, q.ent, &query)
            .map_err(|e| TestCaseError::fail(format!("{ctx}\n{e}")))?;
        prop_assert!(!plan.trim().is_empty(), "{}: empty explain", ctx);
        // Walk the rest with cursors.
        let mut next = page.next;
        let mut at = start + page.items.len();
        let mut size = size;
        let mut step = 0u32;
        while let Some(token) = next {
            if step as usize >= max_steps {
                break;
            }
            step += 1;
            let variant = (q.style >> (24 + 2 * (step % 16))) % 5;
            let (query, new_size) = match variant {
                0 => (Query::all().cursor(&token), None),
                1 => (original.clone().cursor(&token), None),
                // The whole query again, written differently (docs/reference/queries.md: a
                // part sent again must mean the same, not read the same).
                4 => (resent(q, front, &token)?, None),
                2 => {
                    let s = SIZES[(step as usize + q.style as usize) % 6];
                    let q = Query::from_params(&[
                        ("cursor", token.clone()),
                        ("pageSize", s.to_string()),
                    ]);
                    (
                        q.map_err(|e| TestCaseError::fail(format!("{e:?}")))?,
                        Some(s),
                    )
                }
                _ => {
                    let q = Query::from_params(&[("cursor", token.clone())]);
                    (q.map_err(|e| TestCaseError::fail(format!("{e:?}")))?, None)
                }
            };
            if let Some(s) = new_size {
                size = s;
            }
            let ctx = format!("{ctx}\n  cursor step {step} (variant {variant})");
            let page = run_list(&w.store, q.ent, &query, u64::from(step))
                .map_err(|e| TestCaseError::fail(format!("{ctx}\n{e}")))?;
            check_page(q, &page, &all[at..], size, all.len(), &ctx)?;
            prop_assert!(!page.items.is_empty(), "{}: empty page after a cursor", ctx);
            at += page.items.len();
            next = page.next;
        }
    }
    Ok(())
}

/// The query `q` sent again with a cursor through the same front end,
/// written in another style: other keyword and field-name case, operator
/// spellings, quotes, `filter[x]` or `x`, `:asc` or not, fields and search
/// terms in another order. Its paging is left out (the cursor's applies).
pub fn resent(q: &Q, front: &str, token: &str) -> Result<Query, TestCaseError> {
    fn restyle(ex: &Ex) -> Ex {
        let next = |s: &u8| s.wrapping_mul(7).wrapping_add(1);
        match ex {
            Ex::And(parts, s) => Ex::And(parts.iter().map(restyle).collect(), next(s)),
            Ex::Or(parts, s) => Ex::Or(parts.iter().map(restyle).collect(), next(s)),
            Ex::Not(inner, s) => Ex::Not(Box::new(restyle(inner)), next(s)),
            Ex::Cmp {
                path,
                op,
                lit,
                style,
            } => Ex::Cmp {
                path,
                op: *op,
                lit: lit.clone(),
                style: next(style),
            },
            Ex::In { path, lits, style } => Ex::In {
                path,
                lits: lits.clone(),
                style: next(style),
            },
            Ex::Pr(path, s) => Ex::Pr(path, next(s)),
            Ex::IsNull(path, s) => Ex::IsNull(path, next(s)),
        }
    }
    let again = Q {
        filter: q.filter.as_ref().map(restyle),
        search: q.search.as_ref().map(|s| {
            let mut terms: Vec<&str> = s.split_whitespace().collect();
            terms.reverse();
            format!(" {} ", terms.join("\t"))
        }),
        sort: q
            .sort
            .iter()
            .map(|k| SortKey {
                style: k.style.wrapping_add(1),
                ..k.clone()
            })
            .collect(),
        fields: q.fields.as_ref().map(|f| f.iter().rev().copied().collect()),
        paging: Paging::Default,
        ..q.clone()
    };
    let fail = |e: String| TestCaseError::fail(format!("re-sending the query: {e}"));
    if front == "params" {
        let mut pairs = to_params(&again);
        pairs.push(("cursor".into(), token.to_owned()));
        Query::from_params(&pairs).map_err(|e| fail(format!("{e:?}")))
    } else {
        Ok(to_builder(&again).map_err(fail)?.cursor(token))
    }
}

/// Follows a query's cursors while random writes land between the pages.
///
/// Every page must be the first matches after the last item returned so far
/// (its sort position at the time), in the store's current state; and the
/// matches that existed unchanged for the whole walk appear exactly once, in
/// order (docs/reference/queries.md, "Results, paging and planning").
pub fn walk_with_writes(
    w: &mut World,
    g: &GQuery,
    size: usize,
    writes: &[Vec<Mutation>],
) -> Result<(), TestCaseError> {
    let mut q = resolve(&w.model, g);
    q.paging = if g.style.is_multiple_of(2) {
        Paging::Page(Some(1), Some(size))
    } else {
        Paging::Offset(Some(0), Some(size))
    };
    let ent = q.ent;
    let before: BTreeMap<u64, Value> = w.model.docs.get(&ent).cloned().unwrap_or_default();
    let matched_before = w.model.matches(ent, &q);
    let ctx = describe(&q, "expression");
    let original = to_builder(&q).map_err(TestCaseError::fail)?;
    let page = run_list(&w.store, ent, &original, 0)
        .map_err(|e| TestCaseError::fail(format!("{ctx}\n{e}")))?;
    check_page(&q, &page, &matched_before, size, matched_before.len(), &ctx)?;
    let mut seen = ids(&page.items);
    let mut next = page.next;
    let mut step = 0usize;
    while let Some(token) = next {
        let last = *seen.last().expect("a page with a cursor has items");
        let last_pos = position(ent, &w.model.docs[&ent][&last], &q.sort);
        for m in writes.get(step).into_iter().flatten() {
            w.apply(m);
        }
        step += 1;
        prop_assert!(step < 500, "{}: the walk does not end", ctx);
        let query = if step.is_multiple_of(2) {
            Query::all().cursor(&token)
        } else {
            original.clone().cursor(&token)
        };
        let all = w.model.matches(ent, &q);
        let rest: Vec<Value> = all
            .iter()
            .filter(|d| {
                pos_cmp(&position(ent, d, &q.sort), &last_pos, &q.sort) == Ordering::Greater
            })
            .cloned()
            .collect();
        let ctx = format!("{ctx}\n  cursor step {step}, after id {last}");
        let page = run_list(&w.store, ent, &query, step as u64)
            .map_err(|e| TestCaseError::fail(format!("{ctx}\n{e}")))?;
        check_page(&q, &page, &rest, size, all.len(), &ctx)?;
        seen.extend(ids(&page.items));
        next = page.next;
    }
    let after = w.model.docs.get(&ent).cloned().unwrap_or_default();
    let stable: Vec<u64> = matched_before
        .iter()
        .map(id_of)
        .filter(|id| after.get(id) == before.get(id))
        .collect();
    let stable_seen: Vec<u64> = seen
        .iter()
        .copied()
        .filter(|id| stable.contains(id))
        .collect();
    prop_assert_eq!(
        stable_seen,
        stable,
        "{}: records unchanged during the walk, in the order seen (all seen: {:?})",
        ctx,
        seen
    );
    Ok(())
}
