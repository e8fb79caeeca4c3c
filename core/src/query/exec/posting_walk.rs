//! A sort-index walk over a field kept as postings (format 9: tenant,
//! enabled, roles): the terms of its range are the runs of equal values,
//! in key order (reversed for a descending sort), and each term's ids
//! ascend, as an ordered index's keys would give them. An offset page
//! without a filter passes whole runs by their bitmaps' sizes and starts
//! inside the run it ends in at its id, reading no record it passes.

use roaring::RoaringBitmap;

use super::{
    BATCH, Collector, IndexWalk, Probes, Run, Start, matching_among, take_batch, take_sorted,
};
use crate::Result;
use crate::query::access::sort_value_key;
use crate::query::term_postings::{TermPostings, terms_in};
use crate::storage::entity::Entity;
use crate::storage::postings::{CHUNK_BITS, PostingTable};
use crate::storage::tx::Tables;

/// Streams the matches of `walk` over the posting table `table`, run by
/// run, until the page is full.
pub(super) fn stream<E: Entity>(
    tables: &dyn Tables,
    run: &Run<'_>,
    walk: &IndexWalk<'_>,
    table: PostingTable,
    probes: &Probes,
    out: &mut Collector<'_, E>,
) -> Result<()> {
    let mut terms = terms_in(tables, table, &walk.start, walk.end.as_deref())?;
    if walk.reverse {
        terms.reverse();
    }
    // A cursor's walk resumes in the run holding its position.
    let cursor = match &run.plan.start {
        Start::After(position) => position
            .values
            .first()
            .map(|v| (sort_value_key(v).into_bytes(), position.id)),
        Start::Offset(_) => None,
    };
    let mut skippable = if cursor.is_none() {
        out.unread_skippable()
    } else {
        0
    };
    for term in &terms {
        let values = term.term();
        let mut after = 0;
        if let Some((at, id)) = &cursor {
            let before_cursor = if walk.reverse {
                values > at.as_slice()
            } else {
                values < at.as_slice()
            };
            if before_cursor {
                continue;
            }
            if values == at.as_slice() && !walk.sort_runs {
                after = *id;
            }
        }
        if !walk.run_may_match(values) {
            continue;
        }
        if skippable > 0 {
            let len = term_len(tables, term)?;
            if len <= skippable {
                out.pass_unread(len);
                skippable = skippable.saturating_sub(len);
                continue;
            }
            if !walk.sort_runs {
                // The run's first `skippable` ids are passed unread.
                if let Some(id) = nth_id(tables, term, skippable)? {
                    out.pass_unread(skippable);
                    after = id;
                }
            }
            skippable = 0;
        }
        if !stream_term(tables, run, walk, term, after, probes, out)? {
            return Ok(());
        }
    }
    Ok(())
}

/// Hands over the matches among the ids of `term` above `after`; false
/// once the page is full.
fn stream_term<E: Entity>(
    tables: &dyn Tables,
    run: &Run<'_>,
    walk: &IndexWalk<'_>,
    term: &TermPostings,
    after: u64,
    probes: &Probes,
    out: &mut Collector<'_, E>,
) -> Result<bool> {
    let Some(first) = after.checked_add(1) else {
        return Ok(true);
    };
    let mut all = Vec::new();
    let mut ids = Vec::with_capacity(BATCH);
    let mut from = first >> CHUNK_BITS;
    while let Some(chunk) = term.next_chunk(tables, from)? {
        for id in chunk_ids(chunk, &term.chunk(tables, chunk)?).filter(|&id| id >= first) {
            if walk.sort_runs {
                all.push(id);
                continue;
            }
            ids.push(id);
            if ids.len() == BATCH {
                if !take_batch::<E>(tables, run, &ids, probes, out)? {
                    return Ok(false);
                }
                ids.clear();
            }
        }
        match chunk.checked_add(1) {
            Some(next) => from = next,
            None => break,
        }
    }
    if !ids.is_empty() && !take_batch::<E>(tables, run, &ids, probes, out)? {
        return Ok(false);
    }
    if !walk.sort_runs || out.skip_unread(all.len()) {
        return Ok(true);
    }
    let found = matching_among::<E>(tables, run, &all, probes)?;
    Ok(take_sorted(run, found, out))
}

/// The ids of one chunk's bitmap, ascending.
fn chunk_ids(chunk: u64, bitmap: &RoaringBitmap) -> impl Iterator<Item = u64> + '_ {
    let base = chunk << CHUNK_BITS;
    bitmap.iter().map(move |low| base | u64::from(low))
}

/// How many ids `term` holds.
fn term_len(tables: &dyn Tables, term: &TermPostings) -> Result<u64> {
    let mut len: u64 = 0;
    let mut from = 0;
    while let Some(chunk) = term.next_chunk(tables, from)? {
        len = len.saturating_add(term.chunk(tables, chunk)?.len());
        match chunk.checked_add(1) {
            Some(next) => from = next,
            None => break,
        }
    }
    Ok(len)
}

/// The `n`th id of `term` (counting from 1), ascending; `None` when it
/// holds fewer.
fn nth_id(tables: &dyn Tables, term: &TermPostings, n: u64) -> Result<Option<u64>> {
    let mut left = n;
    let mut from = 0;
    while let Some(chunk) = term.next_chunk(tables, from)? {
        let bitmap = term.chunk(tables, chunk)?;
        let len = bitmap.len();
        if left <= len {
            let at = u32::try_from(left.saturating_sub(1)).unwrap_or(u32::MAX);
            return Ok(bitmap
                .select(at)
                .map(|low| (chunk << CHUNK_BITS) | u64::from(low)));
        }
        left = left.saturating_sub(len);
        match chunk.checked_add(1) {
            Some(next) => from = next,
            None => break,
        }
    }
    Ok(None)
}
