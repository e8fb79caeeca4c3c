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
            match skip_into(tables, term, skippable)? {
                Skip::Whole(len) => {
                    out.pass_unread(len);
                    skippable = skippable.saturating_sub(len);
                    continue;
                }
                // The run's first `skippable` ids are passed unread (a run
                // sorted by more keys is read whole and passes its own).
                Skip::At(id) if !walk.sort_runs => {
                    out.pass_unread(skippable);
                    after = id;
                }
                Skip::At(_) => {}
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
    let mut full = false;
    each_chunk(tables, term, first >> CHUNK_BITS, |chunk, bitmap| {
        let base = chunk << CHUNK_BITS;
        for id in bitmap.iter().map(|low| base | u64::from(low)) {
            if id < first {
                continue;
            }
            if walk.sort_runs {
                all.push(id);
                continue;
            }
            ids.push(id);
            if ids.len() == BATCH {
                if !take_batch::<E>(tables, run, &ids, probes, out)? {
                    full = true;
                    return Ok(false);
                }
                ids.clear();
            }
        }
        Ok(true)
    })?;
    if full || (!ids.is_empty() && !take_batch::<E>(tables, run, &ids, probes, out)?) {
        return Ok(false);
    }
    if !walk.sort_runs || out.skip_unread(all.len()) {
        return Ok(true);
    }
    let found = matching_among::<E>(tables, run, &all, probes)?;
    Ok(take_sorted(run, found, out))
}

/// Calls `f` with each chunk of `term` from chunk `from` on, in order,
/// and its bitmap, until `f` returns false.
fn each_chunk(
    tables: &dyn Tables,
    term: &TermPostings,
    from: u64,
    mut f: impl FnMut(u64, RoaringBitmap) -> Result<bool>,
) -> Result<()> {
    let mut from = from;
    while let Some(chunk) = term.next_chunk(tables, from)? {
        if !f(chunk, term.chunk(tables, chunk)?)? {
            return Ok(());
        }
        match chunk.checked_add(1) {
            Some(next) => from = next,
            None => return Ok(()),
        }
    }
    Ok(())
}

/// Where an offset of `n` ids lands in a term.
enum Skip {
    /// The term holds this many ids, no more than `n`: all are passed.
    Whole(u64),
    /// The term holds more than `n` ids: the offset ends at its `n`th (counting
    /// from 1, ascending).
    At(u64),
}

/// Where an offset of `n` ids lands in `term`, its chunks read once.
fn skip_into(tables: &dyn Tables, term: &TermPostings, n: u64) -> Result<Skip> {
    let mut passed: u64 = 0;
    let mut found = None;
    // The last id of the chunks passed so far.
    let mut last = None;
    each_chunk(tables, term, 0, |chunk, bitmap| {
        let left = n.saturating_sub(passed);
        if left == 0 {
            // The offset ended with the chunk before, and the term goes on.
            found = last;
            return Ok(false);
        }
        if left < bitmap.len() {
            let at = u32::try_from(left.saturating_sub(1)).unwrap_or(u32::MAX);
            found = bitmap
                .select(at)
                .map(|low| (chunk << CHUNK_BITS) | u64::from(low));
            return Ok(found.is_none());
        }
        passed = passed.saturating_add(bitmap.len());
        last = bitmap
            .max()
            .map(|low| (chunk << CHUNK_BITS) | u64::from(low));
        Ok(true)
    })?;
    Ok(found.map_or(Skip::Whole(passed), Skip::At))
}
