//! Counting the ids several ordered index accesses all hold, by merging
//! their index keys (a leapfrog join), or, when every access reads
//! postings, by intersecting their bitmaps; without reading a record.

use super::access::Access;
use crate::Result;
use crate::storage::tx::Tables;

/// How many ids one read of an access fetches.
const BATCH: usize = 512;

/// The ids of one ordered access, read in batches from a position on.
struct Cursor<'a> {
    access: &'a Access,
    buffer: std::collections::VecDeque<u64>,
    done: bool,
}

impl<'a> Cursor<'a> {
    fn new(access: &'a Access) -> Self {
        Cursor {
            access,
            buffer: std::collections::VecDeque::new(),
            done: false,
        }
    }

    /// The first id at or above `target`, or `None` when there is none.
    fn seek(&mut self, tables: &dyn Tables, target: u64) -> Result<Option<u64>> {
        loop {
            while self.buffer.front().is_some_and(|&id| id < target) {
                self.buffer.pop_front();
            }
            if let Some(&id) = self.buffer.front() {
                return Ok(Some(id));
            }
            if self.done {
                return Ok(None);
            }
            // Ids above `target - 1`: a seek, so long runs below are skipped.
            let (ids, done) = self
                .access
                .ids_after(tables, target.saturating_sub(1), BATCH)?;
            self.done = done || ids.is_empty();
            self.buffer = ids.into();
        }
    }
}

/// The number of ids every access holds. Each access must be ordered
/// (`Access::is_ordered`); an unordered one is an `Internal` error.
///
/// Errors: `Storage` when an index cannot be read.
pub(crate) fn count(tables: &dyn Tables, accesses: &[Access]) -> Result<u64> {
    let mut cursors: Vec<Cursor<'_>> = accesses.iter().map(Cursor::new).collect();
    let mut n: u64 = 0;
    let mut target: u64 = 0;
    'ids: loop {
        let mut agreed = true;
        for cursor in &mut cursors {
            match cursor.seek(tables, target)? {
                None => break 'ids,
                Some(id) if id > target => {
                    target = id;
                    agreed = false;
                }
                Some(_) => {}
            }
        }
        if agreed {
            n = n.saturating_add(1);
            match target.checked_add(1) {
                Some(next) => target = next,
                None => break,
            }
        }
    }
    Ok(n)
}

/// The number of ids every access holds, each access reading only posting
/// tables (`Access::is_postings`): the cardinality of their bitmaps'
/// intersection. An access that reads index keys is an `Internal` error.
///
/// Errors: `Storage` when a table cannot be read.
pub(crate) fn count_postings(tables: &dyn Tables, accesses: &[Access]) -> Result<u64> {
    let mut sets = Vec::with_capacity(accesses.len());
    for access in accesses {
        let set = access
            .id_set(tables)?
            .ok_or_else(|| crate::Error::internal(format!("{access} was read as postings")))?;
        sets.push(set);
    }
    // The smallest first: each intersection is then at most its size.
    sets.sort_by_key(super::super::storage::postings::IdSet::len);
    let mut sets = sets.into_iter();
    let Some(mut all) = sets.next() else {
        return Ok(0);
    };
    let Some(last) = sets.next_back() else {
        return Ok(all.len());
    };
    for set in sets {
        all.intersect_with(&set);
    }
    Ok(all.intersection_len(&last))
}
