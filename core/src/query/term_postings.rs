//! The postings of one term (a whole trigram of one field), read lazily:
//! each read seeks to the first chunk asked for that is not known yet and
//! copies a few entries from there, so a first page reads the term's first
//! chunks, not every chunk of it (a common trigram has one entry per
//! 64Ki ids, sixteen at a million users). The terms of a range (every
//! trigram a short needle starts) are found in one pass that copies each
//! term's first entries and seeks past the rest of a term.

use std::cell::RefCell;
use std::collections::BTreeMap;

use redb::TableHandle;
use roaring::RoaringBitmap;

use crate::storage::keys::{prefix_end, trailing_u64};
use crate::storage::postings::{PostingTable, chunk_key, decode, term_of};
use crate::storage::tx::Tables;
use crate::{Error, Result};

/// A term's entries as read: (chunk, serialized bitmap), in chunk order.
type Entries = Vec<(u64, Vec<u8>)>;

/// How many entries one read copies: the chunk asked for and the next,
/// which tells a first page whether the term goes on.
const READ_AHEAD: usize = 2;

/// The postings of one term: `term + chunk` keys in `[term, end)`.
pub(crate) struct TermPostings {
    table: PostingTable,
    /// The term: every key of the range is it followed by a chunk.
    term: Vec<u8>,
    /// The end of the range (none: to the table's end).
    end: Option<Vec<u8>>,
    read: RefCell<Read>,
}

/// What has been read of a term.
#[derive(Default)]
struct Read {
    /// Chunk → its serialized bitmap, for every entry read.
    entries: BTreeMap<u64, Vec<u8>>,
    /// The chunk spans read whole, `[from, to)` (`to` none: to the last
    /// chunk), ascending and apart: a chunk inside one that is not in
    /// `entries` has no entry.
    known: Vec<(u64, Option<u64>)>,
}

impl Read {
    /// The known span holding `chunk`, if any.
    fn span_of(&self, chunk: u64) -> Option<(u64, Option<u64>)> {
        self.known
            .iter()
            .copied()
            .find(|&(from, to)| from <= chunk && to.is_none_or(|to| chunk < to))
    }

    /// Marks `[from, to)` known, merging it with the spans it meets.
    fn learn(&mut self, from: u64, to: Option<u64>) {
        self.known.push((from, to));
        self.known.sort_unstable_by_key(|&(from, _)| from);
        let mut merged: Vec<(u64, Option<u64>)> = Vec::with_capacity(self.known.len());
        for (from, to) in self.known.drain(..) {
            match merged.last_mut() {
                Some((_, last_to)) if last_to.is_none_or(|end| from <= end) => {
                    *last_to = match (*last_to, to) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        _ => None,
                    };
                }
                _ => merged.push((from, to)),
            }
        }
        self.known = merged;
    }
}

impl TermPostings {
    /// The postings of the range `[term, end)` of `table`, none read yet.
    /// Every key of the range must be `term` followed by a chunk (8 bytes).
    pub(crate) fn new(table: PostingTable, term: &[u8], end: Option<&[u8]>) -> TermPostings {
        TermPostings {
            table,
            term: term.to_vec(),
            end: end.map(<[u8]>::to_vec),
            read: RefCell::default(),
        }
    }

    /// The postings of `term`, whose first entries a pass over the range
    /// read: `entries` (chunk, bitmap) in chunk order from its first, and
    /// whether the term has none after them.
    fn seeded(table: PostingTable, term: &[u8], entries: Entries, ended: bool) -> TermPostings {
        let to = match entries.last() {
            Some(&(last, _)) if !ended => Some(last.saturating_add(1)),
            _ => None,
        };
        let mut read = Read::default();
        read.entries.extend(entries);
        read.learn(0, to);
        TermPostings {
            table,
            term: term.to_vec(),
            end: prefix_end(term),
            read: RefCell::new(read),
        }
    }

    /// The term: every key of its range is it followed by a chunk.
    pub(crate) fn term(&self) -> &[u8] {
        &self.term
    }

    /// The first chunk at or after `from` that holds an entry.
    ///
    /// Errors: `Storage` when the table cannot be read, `Internal` when a
    /// key is not the term's.
    pub(crate) fn next_chunk(&self, tables: &dyn Tables, from: u64) -> Result<Option<u64>> {
        let mut at = from;
        loop {
            let span = self.read.borrow().span_of(at);
            match span {
                Some((_, to)) => {
                    let read = self.read.borrow();
                    let found = match to {
                        Some(to) => read.entries.range(at..to).next(),
                        None => read.entries.range(at..).next(),
                    };
                    if let Some((&chunk, _)) = found {
                        return Ok(Some(chunk));
                    }
                    match to {
                        Some(to) => at = to,
                        None => return Ok(None),
                    }
                }
                None => self.read_from(tables, at)?,
            }
        }
    }

    /// The bitmap of one chunk (low bits of the ids; empty when the term
    /// has no entry there).
    ///
    /// Errors: `Storage` when the table cannot be read, `Internal` when a
    /// bitmap does not decode or a key is not the term's.
    pub(crate) fn chunk(&self, tables: &dyn Tables, chunk: u64) -> Result<RoaringBitmap> {
        if self.read.borrow().span_of(chunk).is_none() {
            self.read_from(tables, chunk)?;
        }
        match self.read.borrow().entries.get(&chunk) {
            Some(bytes) => decode(self.table.name(), bytes),
            None => Ok(RoaringBitmap::new()),
        }
    }

    /// Copies up to [`READ_AHEAD`] entries from chunk `from` on, and marks
    /// the chunks they span (to the end when fewer were left) known.
    fn read_from(&self, tables: &dyn Tables, from: u64) -> Result<()> {
        let name = self.table.name();
        let start = chunk_key(&self.term, from);
        let mut copied: Entries = Vec::with_capacity(READ_AHEAD);
        tables.postings_until(
            self.table,
            &start,
            self.end.as_deref(),
            &mut |key, value| {
                let chunk = key
                    .strip_prefix(self.term.as_slice())
                    .filter(|rest| rest.len() == 8)
                    .and_then(trailing_u64)
                    .ok_or_else(|| {
                        Error::internal(format!("{name}: a posting key is not its term's"))
                    })?;
                copied.push((chunk, value.to_vec()));
                Ok(copied.len() < READ_AHEAD)
            },
        )?;
        let to = match copied.last() {
            Some(&(last, _)) if copied.len() == READ_AHEAD => Some(last.saturating_add(1)),
            _ => None,
        };
        let mut read = self.read.borrow_mut();
        read.entries.extend(copied);
        read.learn(from, to);
        Ok(())
    }
}

/// The postings of every term in `[start, end)` of `table` (terms that no
/// other term starts with, each key a term followed by a chunk), in key
/// order: one pass copies each term's first [`READ_AHEAD`] entries and
/// seeks past the rest of a term that has more.
///
/// Errors: `Storage` when the table cannot be read, `Internal` when a key
/// is shorter than its chunk.
pub(crate) fn terms_in(
    tables: &dyn Tables,
    table: PostingTable,
    start: &[u8],
    end: Option<&[u8]>,
) -> Result<Vec<TermPostings>> {
    let name = table.name();
    let mut terms = Vec::new();
    // The term being read and its entries so far.
    let mut current: Option<(Vec<u8>, Entries)> = None;
    let mut from = start.to_vec();
    loop {
        let mut skip_to: Option<Vec<u8>> = None;
        tables.postings_until(table, &from, end, &mut |key, value| {
            let chunk = trailing_u64(key).ok_or_else(|| {
                Error::internal(format!("{name}: a posting key is shorter than its chunk"))
            })?;
            let term = term_of(key);
            match &mut current {
                Some((at, entries)) if at.as_slice() == term => {
                    entries.push((chunk, value.to_vec()))
                }
                _ => {
                    if let Some((done, entries)) = current.take() {
                        terms.push(TermPostings::seeded(table, &done, entries, true));
                    }
                    current = Some((term.to_vec(), vec![(chunk, value.to_vec())]));
                }
            }
            if current
                .as_ref()
                .is_some_and(|(_, entries)| entries.len() >= READ_AHEAD)
            {
                // The rest of this term is read when a page asks for it.
                skip_to = Some(prefix_end(term).unwrap_or_default());
                return Ok(false);
            }
            Ok(true)
        })?;
        let Some(next) = skip_to else {
            break;
        };
        if let Some((done, entries)) = current.take() {
            terms.push(TermPostings::seeded(table, &done, entries, false));
        }
        if next.is_empty() {
            // The term was the last possible key: nothing after it.
            break;
        }
        from = next;
    }
    if let Some((done, entries)) = current.take() {
        terms.push(TermPostings::seeded(table, &done, entries, true));
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::keys::Key;
    use crate::storage::postings::encode;
    use crate::storage::schema::USER_TRIGRAMS;
    use redb::ReadableDatabase;

    fn term(gram: &str) -> Vec<u8> {
        Key::new().byte(1).str(gram).into_bytes()
    }

    /// A table holding, for each (term, chunks), the bitmap `{chunk, 7}`
    /// in each chunk; read back through a read transaction (of the
    /// database returned with it).
    fn table(terms: &[(&str, &[u64])]) -> (redb::Database, redb::ReadTransaction) {
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(USER_TRIGRAMS).unwrap();
            for (gram, chunks) in terms {
                for &chunk in *chunks {
                    let bitmap: RoaringBitmap =
                        [u32::try_from(chunk).unwrap(), 7].into_iter().collect();
                    let key = chunk_key(&term(gram), chunk);
                    t.insert(key.as_slice(), encode(&bitmap).unwrap().as_slice())
                        .unwrap();
                }
            }
        }
        txn.commit().unwrap();
        let read = db.begin_read().unwrap();
        (db, read)
    }

    fn chunks_from(postings: &TermPostings, tables: &dyn Tables, from: u64) -> Vec<u64> {
        let mut out = Vec::new();
        let mut at = from;
        while let Some(chunk) = postings.next_chunk(tables, at).unwrap() {
            out.push(chunk);
            at = chunk.saturating_add(1);
        }
        out
    }

    #[test]
    fn terms_read_lazily_show_every_chunk_and_bitmap() {
        let a: &[u64] = &[0, 1, 2, 5, 9];
        let (_db, txn) = table(&[("aaa", a), ("aab", &[3]), ("aac", &[0, 1]), ("abb", &[4])]);
        let start = Key::new().byte(1).str_prefix("aa").into_bytes();
        let end = prefix_end(&start);
        let terms = terms_in(&txn, USER_TRIGRAMS, &start, end.as_deref()).unwrap();
        let grams: Vec<Vec<u8>> = terms.iter().map(|t| t.term.clone()).collect();
        assert_eq!(grams, vec![term("aaa"), term("aab"), term("aac")]);
        let [aaa, aab, aac] = &terms[..] else {
            panic!("three terms")
        };
        // Jumps ahead, reads behind what is known, and the end.
        assert_eq!(aaa.next_chunk(&txn, 6).unwrap(), Some(9));
        assert_eq!(aaa.next_chunk(&txn, 3).unwrap(), Some(5));
        assert_eq!(aaa.next_chunk(&txn, 10).unwrap(), None);
        assert_eq!(chunks_from(aaa, &txn, 0), a);
        assert_eq!(chunks_from(aab, &txn, 0), [3]);
        assert_eq!(chunks_from(aac, &txn, 1), [1]);
        for chunk in 0..11 {
            let want: RoaringBitmap = if a.contains(&chunk) {
                [u32::try_from(chunk).unwrap(), 7].into_iter().collect()
            } else {
                RoaringBitmap::new()
            };
            let fresh = TermPostings::new(
                USER_TRIGRAMS,
                &term("aaa"),
                prefix_end(&term("aaa")).as_deref(),
            );
            assert_eq!(fresh.chunk(&txn, chunk).unwrap(), want, "chunk {chunk}");
            assert_eq!(aaa.chunk(&txn, chunk).unwrap(), want, "chunk {chunk}");
        }
        let lone = TermPostings::new(
            USER_TRIGRAMS,
            &term("abb"),
            prefix_end(&term("abb")).as_deref(),
        );
        assert_eq!(chunks_from(&lone, &txn, 0), [4]);
        assert!(
            terms_in(&txn, USER_TRIGRAMS, &term("zzz"), None)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn known_spans_merge_when_they_meet_or_overlap() {
        let mut read = Read::default();
        read.learn(4, Some(6));
        read.learn(0, Some(2));
        assert_eq!(read.known, vec![(0, Some(2)), (4, Some(6))]);
        read.learn(2, Some(4));
        assert_eq!(read.known, vec![(0, Some(6))]);
        read.learn(9, None);
        read.learn(5, Some(7));
        assert_eq!(read.known, vec![(0, Some(7)), (9, None)]);
        read.learn(8, Some(10));
        assert_eq!(read.known, vec![(0, Some(7)), (8, None)]);
        assert_eq!(read.span_of(6), Some((0, Some(7))));
        assert_eq!(read.span_of(7), None);
        assert_eq!(read.span_of(u64::MAX), Some((8, None)));
    }
}
