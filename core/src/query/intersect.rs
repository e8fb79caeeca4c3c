//! Counting the ids several ordered index accesses all hold, by merging
//! their index keys (a leapfrog join), without reading a record.

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
