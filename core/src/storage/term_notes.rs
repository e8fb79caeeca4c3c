//! The posting changes a write transaction gathers for one posting table
//! before its flush (`storage::pending`): each term noted once in a small
//! hash map that gives it a number, and every change appended, in the
//! order made, to one flat list of (term number, id, add or remove).
//!
//! Shaped for a bulk import, which notes some 65 trigram terms per user:
//! noting a change costs one probe of a map keyed by the term packed into
//! an integer (a trigram term is 5–14 bytes) and one append, and touches
//! no per-term memory. The flush groups the list by term with one
//! counting sort (stable, so each term's changes keep their order) and
//! builds each touched chunk's bitmaps from them.

use std::collections::HashMap;

use foldhash::fast::RandomState;
use roaring::RoaringBitmap;

use crate::storage::postings::{PostingTable, split};

/// The posting changes of one chunk: ids to add and ids to remove.
#[derive(Default)]
pub(crate) struct Delta {
    pub(crate) add: RoaringBitmap,
    pub(crate) remove: RoaringBitmap,
}

/// The bit of a noted id that says the change adds it (ids are below
/// 2^53, so the bit is free).
const ADD: u64 = 1 << 63;

/// A term of at most 7 bytes packed into an integer: its bytes from the
/// lowest byte up, its length in the top byte (so that terms of different
/// lengths differ).
fn pack_small(term: &[u8]) -> Option<u64> {
    let len = u64::try_from(term.len()).ok().filter(|&n| n <= 7)?;
    // Byte by byte: a call to copy a few bytes costs more than the term.
    let packed = term
        .iter()
        .rev()
        .fold(0_u64, |packed, &b| (packed << 8) | u64::from(b));
    Some(packed | (len << 56))
}

/// A term of at most 15 bytes packed as [`pack_small`] packs one of 7.
fn pack_medium(term: &[u8]) -> Option<u128> {
    let len = u128::try_from(term.len()).ok().filter(|&n| n <= 15)?;
    let packed = term
        .iter()
        .rev()
        .fold(0_u128, |packed, &b| (packed << 8) | u128::from(b));
    Some(packed | (len << 120))
}

/// The changes one block of [`TermNotes`]'s list holds.
const BLOCK: usize = 1 << 14;

/// One posting table's pending changes.
pub(crate) struct TermNotes {
    /// The table's place among the posting tables.
    pub(crate) slot: usize,
    /// The table.
    pub(crate) table: PostingTable,
    /// The numbers of the terms noted, by length: up to 7 bytes, up to
    /// 15, longer (long tenants). Keyed by a per-process seeded foldhash:
    /// terms come from user text, so the seed keeps crafted terms from
    /// colliding on purpose.
    small: HashMap<u64, u32, RandomState>,
    medium: HashMap<u128, u32, RandomState>,
    long: HashMap<Box<[u8]>, u32, RandomState>,
    /// Each numbered term's bytes: (start, length) in `bytes`.
    spans: Vec<(usize, usize)>,
    bytes: Vec<u8>,
    /// The changes in the order noted: (term number, id, with [`ADD`] set
    /// for an addition), in blocks of [`BLOCK`] (a list that grows by
    /// blocks never copies what it holds).
    notes: Vec<Vec<(u32, u64)>>,
    /// How many changes `notes` holds.
    noted: usize,
}

impl TermNotes {
    /// No changes yet to `table`, the posting table at `slot`.
    pub(crate) fn new(slot: usize, table: PostingTable) -> TermNotes {
        TermNotes {
            slot,
            table,
            small: HashMap::default(),
            medium: HashMap::default(),
            long: HashMap::default(),
            spans: Vec::new(),
            bytes: Vec::new(),
            notes: Vec::new(),
            noted: 0,
        }
    }

    /// How many changes are noted.
    pub(crate) fn noted(&self) -> usize {
        self.noted
    }

    /// The number of `term`, given it when new.
    fn number(&mut self, term: &[u8]) -> u32 {
        let next = u32::try_from(self.spans.len()).unwrap_or(u32::MAX);
        let (number, new) = if let Some(packed) = pack_small(term) {
            let n = *self.small.entry(packed).or_insert(next);
            (n, n == next)
        } else if let Some(packed) = pack_medium(term) {
            let n = *self.medium.entry(packed).or_insert(next);
            (n, n == next)
        } else if let Some(&n) = self.long.get(term) {
            (n, false)
        } else {
            self.long.insert(term.into(), next);
            (next, true)
        };
        if new {
            self.spans.push((self.bytes.len(), term.len()));
            self.bytes.extend_from_slice(term);
        }
        number
    }

    /// Notes that `id` gains (`add`) or loses `term`; of the changes
    /// noted to one id and term, the last wins.
    pub(crate) fn change(&mut self, term: &[u8], id: u64, add: bool) {
        let number = self.number(term);
        let flagged = if add { id | ADD } else { id & !ADD };
        self.push(number, flagged);
    }

    /// Appends one change (a flagged id) of the term numbered `number`.
    fn push(&mut self, number: u32, flagged: u64) {
        let block = match self.notes.last_mut() {
            Some(block) if block.len() < BLOCK => block,
            _ => {
                self.notes.push(Vec::with_capacity(BLOCK));
                match self.notes.last_mut() {
                    Some(block) => block,
                    None => return,
                }
            }
        };
        block.push((number, flagged));
        self.noted = self.noted.saturating_add(1);
    }

    /// Appends the changes of `other` (of the same table) after this
    /// one's, in their order.
    pub(crate) fn absorb(&mut self, other: TermNotes) {
        let numbers: Vec<u32> = other
            .spans
            .iter()
            .map(|&(start, len)| {
                let term = other
                    .bytes
                    .get(start..start.saturating_add(len))
                    .unwrap_or_default();
                self.number(term)
            })
            .collect();
        for &(term, id) in other.notes.iter().flatten() {
            if let Some(&number) = numbers.get(term as usize) {
                self.push(number, id);
            }
        }
    }

    /// The changes per touched chunk of each term, sorted by posting key.
    pub(crate) fn into_entries(self) -> ChunkChanges {
        let terms = self.spans.len();
        // A counting sort by term number; stable, so each term's changes
        // stay in the order noted.
        let mut starts = vec![0_usize; terms.saturating_add(1)];
        for &(term, _) in self.notes.iter().flatten() {
            if let Some(count) = starts.get_mut((term as usize).saturating_add(1)) {
                *count = count.saturating_add(1);
            }
        }
        for at in 1..starts.len() {
            let before = starts.get(at.saturating_sub(1)).copied().unwrap_or(0);
            if let Some(start) = starts.get_mut(at) {
                *start = start.saturating_add(before);
            }
        }
        let mut next = starts.clone();
        let mut grouped = vec![0_u64; self.noted];
        for &(term, id) in self.notes.iter().flatten() {
            if let Some(at) = next.get_mut(term as usize)
                && let Some(slot) = grouped.get_mut(*at)
            {
                *slot = id;
                *at = at.saturating_add(1);
            }
        }
        drop(next);
        drop(self.notes);
        let mut out = ChunkChanges {
            keys: Vec::with_capacity(self.bytes.len().saturating_add(terms.saturating_mul(8))),
            lows: Vec::with_capacity(grouped.len()),
            deltas: Vec::new(),
            entries: Vec::with_capacity(terms),
        };
        for (number, &(start, len)) in self.spans.iter().enumerate() {
            let term = self
                .bytes
                .get(start..start.saturating_add(len))
                .unwrap_or_default();
            let (from, to) = (
                starts.get(number).copied().unwrap_or(0),
                starts.get(number.saturating_add(1)).copied().unwrap_or(0),
            );
            out.add_term(term, grouped.get(from..to).unwrap_or_default());
        }
        let keys = &out.keys;
        let key = |e: &ChunkEntry| keys.get(e.key.0..e.key.1).unwrap_or_default();
        out.entries.sort_unstable_by(|a, b| key(a).cmp(key(b)));
        out
    }
}

/// The posting changes of a table gathered for a flush, one entry per
/// touched chunk of each term, sorted by posting key.
pub(crate) struct ChunkChanges {
    /// The posting keys, one after the other.
    keys: Vec<u8>,
    /// The low bits of the ids added to chunks that only gained ids, each
    /// chunk's sorted and distinct, one chunk's after the other.
    lows: Vec<u16>,
    /// The changes of chunks that also lost ids, or whose ids came out of
    /// order.
    deltas: Vec<Delta>,
    entries: Vec<ChunkEntry>,
}

/// One touched chunk: its key's range in `keys`, and its change.
struct ChunkEntry {
    key: (usize, usize),
    change: ChangeAt,
}

/// Where a chunk's change is kept.
enum ChangeAt {
    /// Ids added only: the range of their low bits in `lows`.
    Added(usize, usize),
    /// The delta at this place of `deltas`.
    Delta(usize),
}

/// The change of one chunk.
pub(crate) enum ChunkChange<'c> {
    /// Only ids added: their low bits, sorted and distinct (none empty).
    Added(&'c [u16]),
    /// Ids added and removed.
    Delta(&'c Delta),
}

impl ChunkChanges {
    /// Appends the entries of one term's changes (ids flagged with [`ADD`]
    /// for additions, in the order made: the last change of an id wins).
    fn add_term(&mut self, term: &[u8], changes: &[u64]) {
        let additions_ascending = changes.iter().all(|&c| c & ADD != 0)
            && changes.is_sorted_by(|a, b| (a & !ADD) <= (b & !ADD));
        if additions_ascending {
            // The import's case: each chunk's ids are a sorted run.
            let mut at = 0;
            while let Some(&first) = changes.get(at) {
                let (chunk, _) = split(first & !ADD);
                let start = self.lows.len();
                let mut last: Option<u16> = None;
                while let Some(&c) = changes.get(at) {
                    let (c_chunk, low) = split(c & !ADD);
                    if c_chunk != chunk {
                        break;
                    }
                    let low = u16::try_from(low).unwrap_or(u16::MAX);
                    if last != Some(low) {
                        self.lows.push(low);
                        last = Some(low);
                    }
                    at = at.saturating_add(1);
                }
                let key = self.push_key(term, chunk);
                self.entries.push(ChunkEntry {
                    key,
                    change: ChangeAt::Added(start, self.lows.len()),
                });
            }
            return;
        }
        let mut deltas: Vec<(u64, Delta)> = Vec::new();
        for &c in changes {
            let (chunk, low) = split(c & !ADD);
            let at = match deltas.iter().position(|(k, _)| *k == chunk) {
                Some(at) => at,
                None => {
                    deltas.push((chunk, Delta::default()));
                    deltas.len().saturating_sub(1)
                }
            };
            let Some((_, delta)) = deltas.get_mut(at) else {
                continue;
            };
            let (gains, loses) = if c & ADD != 0 {
                (&mut delta.add, &mut delta.remove)
            } else {
                (&mut delta.remove, &mut delta.add)
            };
            loses.remove(low);
            if gains.try_push(low).is_err() {
                gains.insert(low);
            }
        }
        for (chunk, delta) in deltas {
            let key = self.push_key(term, chunk);
            self.entries.push(ChunkEntry {
                key,
                change: ChangeAt::Delta(self.deltas.len()),
            });
            self.deltas.push(delta);
        }
    }

    /// Appends the posting key of `term`'s `chunk` to `keys`; its range.
    fn push_key(&mut self, term: &[u8], chunk: u64) -> (usize, usize) {
        let start = self.keys.len();
        self.keys.extend_from_slice(term);
        self.keys.extend_from_slice(&chunk.to_be_bytes());
        (start, self.keys.len())
    }

    /// Each touched chunk's posting key and change, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], ChunkChange<'_>)> {
        self.entries.iter().map(|e| {
            let key = self.keys.get(e.key.0..e.key.1).unwrap_or_default();
            let change = match e.change {
                ChangeAt::Added(from, to) => {
                    ChunkChange::Added(self.lows.get(from..to).unwrap_or_default())
                }
                ChangeAt::Delta(at) => match self.deltas.get(at) {
                    Some(delta) => ChunkChange::Delta(delta),
                    None => ChunkChange::Added(&[]),
                },
            };
            (key, change)
        })
    }
}

/// The stored form (`postings::encode`) of the bitmap of `lows` (sorted,
/// distinct, at most 4,096: an array container), written without building
/// the bitmap: roaring's portable format without run containers — the
/// cookie 12346 and a count of 1, the container's key 0 and cardinality
/// less one, its offset (16), then the values; all little-endian. `None`
/// for an empty or larger set.
pub(crate) fn encode_lows(lows: &[u16]) -> Option<Vec<u8>> {
    let less_one = u16::try_from(lows.len().checked_sub(1)?)
        .ok()
        .filter(|&n| n < 4096)?;
    let mut out = Vec::with_capacity(16_usize.saturating_add(lows.len().saturating_mul(2)));
    out.extend_from_slice(&12_346_u32.to_le_bytes());
    out.extend_from_slice(&1_u32.to_le_bytes());
    out.extend_from_slice(&0_u16.to_le_bytes());
    out.extend_from_slice(&less_one.to_le_bytes());
    out.extend_from_slice(&16_u32.to_le_bytes());
    for low in lows {
        out.extend_from_slice(&low.to_le_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::postings::chunk_key;
    use redb::TableDefinition;

    const T: PostingTable = TableDefinition::new("post.test");

    fn ids(delta: &RoaringBitmap) -> Vec<u32> {
        delta.iter().collect()
    }

    #[test]
    fn packed_terms_differ_by_length_and_bytes() {
        assert_ne!(pack_small(b"a"), pack_small(b"a\0"));
        assert_ne!(pack_small(b""), pack_small(b"\0"));
        assert_eq!(pack_small(b"abcdefgh"), None);
        assert_ne!(pack_medium(b"abcdefgh"), pack_medium(b"abcdefgh\0"));
        assert_eq!(pack_medium(&[7; 16]), None);
    }

    #[test]
    fn lows_encode_as_roaring_encodes_their_bitmap() {
        let sets: Vec<Vec<u16>> = vec![
            vec![0],
            vec![7],
            vec![1, 2, 3, 65_535],
            (0..4096).map(|n| n * 16).collect(),
            (0..100_u32).map(|n| (n * 613 % 65_536) as u16).collect(),
        ];
        for mut lows in sets {
            lows.sort_unstable();
            lows.dedup();
            let bitmap: RoaringBitmap = lows.iter().map(|&l| u32::from(l)).collect();
            let want = crate::storage::postings::encode(&bitmap).unwrap();
            assert_eq!(encode_lows(&lows).unwrap(), want, "{} lows", lows.len());
        }
        assert_eq!(encode_lows(&[]), None);
        let many: Vec<u16> = (0..4097).collect();
        assert_eq!(encode_lows(&many), None);
    }

    #[test]
    fn changes_group_by_term_and_chunk_the_last_of_an_id_winning() {
        let mut notes = TermNotes::new(0, T);
        let long = [b'x'; 40];
        let medium = [b'm'; 12];
        for id in [5, 3, 5, 70_000, 9] {
            notes.change(b"t", id, true);
            notes.change(&long, id, true);
            notes.change(&medium, id, true);
        }
        notes.change(b"t", 3, false);
        notes.change(b"u", 1, false);
        notes.change(b"u", 1, true);
        notes.change(b"v", 2, true);
        notes.change(b"v", 2, false);
        for id in [1, 2, 2, 65_537] {
            notes.change(b"w", id, true);
        }
        let entries = notes.into_entries();
        let listed: Vec<(Vec<u8>, Vec<u32>, Vec<u32>)> = entries
            .iter()
            .map(|(key, change)| match change {
                ChunkChange::Added(lows) => (
                    key.to_vec(),
                    lows.iter().map(|&l| u32::from(l)).collect(),
                    Vec::new(),
                ),
                ChunkChange::Delta(d) => (key.to_vec(), ids(&d.add), ids(&d.remove)),
            })
            .collect();
        let keys: Vec<Vec<u8>> = listed.iter().map(|(k, _, _)| k.clone()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        let find = |term: &[u8], chunk: u64| {
            let key = chunk_key(term, chunk);
            let (_, add, remove) = listed.iter().find(|(k, _, _)| *k == key).unwrap();
            (add.clone(), remove.clone())
        };
        assert_eq!(find(b"t", 0), (vec![5, 9], vec![3]));
        assert_eq!(find(b"t", 1), (vec![70_000 - 65_536], vec![]));
        assert_eq!(find(&long, 0), (vec![3, 5, 9], vec![]));
        assert_eq!(find(&medium, 1), (vec![70_000 - 65_536], vec![]));
        assert_eq!(find(b"u", 0), (vec![1], vec![]));
        assert_eq!(find(b"v", 0), (vec![], vec![2]));
        assert_eq!(find(b"w", 0), (vec![1, 2], vec![]));
        assert_eq!(find(b"w", 1), (vec![1], vec![]));
        assert_eq!(listed.len(), 10);
    }
}
