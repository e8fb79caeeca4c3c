//! The posting changes a write transaction gathers for one posting table
//! before its flush (`storage::pending`): each term noted once in a small
//! hash map that gives it a number, and every change appended, in the
//! order made, to a list of 8-byte notes (term number; the id's low 31
//! bits and whether it adds), in blocks that each keep the high bits their
//! ids share.
//!
//! Shaped for a bulk import, which notes some 65 trigram terms per user:
//! noting a change costs one probe of a map keyed by the term packed into
//! an integer (a trigram term is 5–14 bytes) and one append, and touches
//! no per-term memory; the notes are the import's largest gathered memory,
//! so each takes 8 bytes, and changes gathered on other threads are
//! appended by reference to their blocks, never copied. The flush groups
//! the list by term with one counting sort (stable, so each term's changes
//! keep their order) and builds each touched chunk's bitmaps from them.

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

/// The changes one full block of [`TermNotes`]'s list holds.
const BLOCK: usize = 1 << 14;

/// The room a block starts with when it begins because the high bits of
/// the ids changed (rare: ids from 2^31 on), so that ids alternating
/// between far ranges cost little memory.
const SMALL_BLOCK: usize = 16;

/// How many low bits of an id a note keeps; the block keeps the rest.
const LOW_BITS: u32 = 31;

/// The low bits of an id a note keeps.
const LOW_MASK: u64 = (1 << LOW_BITS) - 1;

/// The bit of a note's second half that says the change adds its id.
const NOTE_ADD: u32 = 1 << LOW_BITS;

/// Changes in the order noted, as (term number, the id's low [`LOW_BITS`]
/// bits with [`NOTE_ADD`] for an addition), all of ids whose high bits are
/// `high`.
struct Block {
    high: u64,
    notes: Vec<(u32, u32)>,
}

/// A run of blocks noted under one numbering of the terms: this table's
/// own (`renumber` empty), or another [`TermNotes`]'s, appended whole,
/// with each of its term numbers' number here.
#[derive(Default)]
struct Segment {
    renumber: Vec<u32>,
    blocks: Vec<Block>,
}

impl Segment {
    /// The segment's changes in their order: (term number here, id with
    /// [`ADD`] set for an addition).
    fn changes(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.blocks.iter().flat_map(move |block| {
            block.notes.iter().map(move |&(term, low)| {
                let term = if self.renumber.is_empty() {
                    term
                } else {
                    self.renumber
                        .get(term as usize)
                        .copied()
                        .unwrap_or(u32::MAX)
                };
                let id = (block.high << LOW_BITS) | u64::from(low & !NOTE_ADD);
                (term, if low & NOTE_ADD != 0 { id | ADD } else { id })
            })
        })
    }
}

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
    /// The changes in the order noted, segment after segment (a list that
    /// grows by blocks never copies what it holds).
    segments: Vec<Segment>,
    /// How many changes `segments` hold.
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
            segments: Vec::new(),
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
        let high = (id & !ADD) >> LOW_BITS;
        // The low bits fit in 31 bits by the mask.
        let low = u32::try_from(id & LOW_MASK).unwrap_or(0) | if add { NOTE_ADD } else { 0 };
        let own = match self.segments.last_mut() {
            Some(segment) if segment.renumber.is_empty() => segment,
            _ => {
                self.segments.push(Segment::default());
                match self.segments.last_mut() {
                    Some(segment) => segment,
                    None => return,
                }
            }
        };
        let block = match own.blocks.last_mut() {
            Some(block) if block.high == high && block.notes.len() < BLOCK => block,
            last => {
                let room = match last {
                    Some(block) if block.notes.len() < BLOCK => SMALL_BLOCK,
                    _ => BLOCK,
                };
                own.blocks.push(Block {
                    high,
                    notes: Vec::with_capacity(room),
                });
                match own.blocks.last_mut() {
                    Some(block) => block,
                    None => return,
                }
            }
        };
        block.notes.push((number, low));
        self.noted = self.noted.saturating_add(1);
    }

    /// Appends the changes of `other` (of the same table) after this
    /// one's, in their order: its blocks are kept as they are, with its
    /// term numbers' numbers here.
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
        for mut segment in other.segments {
            segment.renumber = if segment.renumber.is_empty() {
                numbers.clone()
            } else {
                segment
                    .renumber
                    .iter()
                    .map(|&n| numbers.get(n as usize).copied().unwrap_or(u32::MAX))
                    .collect()
            };
            self.segments.push(segment);
        }
        self.noted = self.noted.saturating_add(other.noted);
    }

    /// Every change in the order noted: (term number, id with [`ADD`]
    /// set for an addition).
    fn changes(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.segments.iter().flat_map(Segment::changes)
    }

    /// The changes per touched chunk of each term, sorted by posting key.
    pub(crate) fn into_entries(self) -> ChunkChanges {
        let starts = self.term_starts();
        // Every id below 2^31 (the blocks' high bits all zero): the
        // grouped changes take 4 bytes each instead of 8.
        let narrow = self
            .segments
            .iter()
            .flat_map(|s| &s.blocks)
            .all(|b| b.high == 0);
        if narrow {
            self.entries_grouped::<u32>(&starts)
        } else {
            self.entries_grouped::<u64>(&starts)
        }
    }

    /// The entries, the changes grouped as `C`s; the notes are dropped
    /// once grouped.
    fn entries_grouped<C: Change>(mut self, starts: &[usize]) -> ChunkChanges {
        let grouped: Vec<C> = self.grouped(starts);
        self.segments = Vec::new();
        self.entries_of(starts, &grouped)
    }

    /// Where each term's changes start in the grouped list (the term
    /// numbers' places; one more at the end, the total): the counts of a
    /// counting sort by term number.
    fn term_starts(&self) -> Vec<usize> {
        let mut starts = vec![0_usize; self.spans.len().saturating_add(1)];
        for (term, _) in self.changes() {
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
        starts
    }

    /// Every change placed by its term (`starts`); stable, so each term's
    /// changes stay in the order noted.
    fn grouped<C: Change>(&self, starts: &[usize]) -> Vec<C> {
        let mut next = starts.to_vec();
        let mut grouped = vec![C::default(); self.noted];
        for (term, id) in self.changes() {
            if let Some(at) = next.get_mut(term as usize)
                && let Some(slot) = grouped.get_mut(*at)
            {
                *slot = C::from_flagged(id);
                *at = at.saturating_add(1);
            }
        }
        grouped
    }

    /// The entries of every term's `grouped` changes, sorted by posting key.
    fn entries_of<C: Change>(&self, starts: &[usize], grouped: &[C]) -> ChunkChanges {
        let terms = self.spans.len();
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

/// A change as [`TermNotes::into_entries`] groups it: an id and whether
/// the change adds it.
trait Change: Copy + Default {
    /// The change of an id flagged with [`ADD`] for an addition.
    fn from_flagged(flagged: u64) -> Self;
    /// The id.
    fn id(self) -> u64;
    /// Whether the change adds the id.
    fn adds(self) -> bool;
}

/// Any id, flagged with [`ADD`].
impl Change for u64 {
    fn from_flagged(flagged: u64) -> u64 {
        flagged
    }
    fn id(self) -> u64 {
        self & !ADD
    }
    fn adds(self) -> bool {
        self & ADD != 0
    }
}

/// An id below 2^31, flagged with [`NOTE_ADD`].
impl Change for u32 {
    fn from_flagged(flagged: u64) -> u32 {
        let low = u32::try_from(flagged & LOW_MASK).unwrap_or(0);
        if flagged & ADD != 0 {
            low | NOTE_ADD
        } else {
            low
        }
    }
    fn id(self) -> u64 {
        u64::from(self & !NOTE_ADD)
    }
    fn adds(self) -> bool {
        self & NOTE_ADD != 0
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
    fn add_term<C: Change>(&mut self, term: &[u8], changes: &[C]) {
        let additions_ascending =
            changes.iter().all(|c| c.adds()) && changes.is_sorted_by(|a, b| a.id() <= b.id());
        if additions_ascending {
            // The import's case: each chunk's ids are a sorted run.
            let mut at = 0;
            while let Some(&first) = changes.get(at) {
                let (chunk, _) = split(first.id());
                let start = self.lows.len();
                let mut last: Option<u16> = None;
                while let Some(&c) = changes.get(at) {
                    let (c_chunk, low) = split(c.id());
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
            let (chunk, low) = split(c.id());
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
            let (gains, loses) = if c.adds() {
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
        let listed = listing(&notes.into_entries());
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

    /// Every touched chunk's key with the ids added and removed.
    fn listing(entries: &ChunkChanges) -> Vec<(Vec<u8>, Vec<u32>, Vec<u32>)> {
        entries
            .iter()
            .map(|(key, change)| match change {
                ChunkChange::Added(lows) => (
                    key.to_vec(),
                    lows.iter().map(|&l| u32::from(l)).collect(),
                    Vec::new(),
                ),
                ChunkChange::Delta(d) => (key.to_vec(), ids(&d.add), ids(&d.remove)),
            })
            .collect()
    }

    #[test]
    fn notes_split_absorbed_and_of_high_ids_list_as_noted_in_one() {
        // Ids below 2^31 and far above it (a block keeps the high bits),
        // alternating; changes noted into three lists, the last absorbed
        // into the second and that into the first, against all noted in
        // one list in the same order.
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let terms: [&[u8]; 4] = [b"abc", b"bcd", &[b'm'; 12], &[b'l'; 30]];
        let bases = [0_u64, (1 << 31) - 8, 1 << 40, (1 << 53) - 70_000];
        let mut parts = [
            TermNotes::new(0, T),
            TermNotes::new(0, T),
            TermNotes::new(0, T),
        ];
        let mut whole = TermNotes::new(0, T);
        for n in 0..3_000_u64 {
            let term = terms[(next() % 4) as usize];
            let id = bases[(next() % 4) as usize] + next() % 70_000;
            let add = next() % 3 != 0;
            whole.change(term, id, add);
            parts[(n * 3 / 3_000) as usize].change(term, id, add);
        }
        let [mut first, mut second, third] = parts;
        second.absorb(third);
        first.absorb(second);
        assert_eq!(first.noted(), whole.noted());
        let got = listing(&first.into_entries());
        assert_eq!(got, listing(&whole.into_entries()));
        assert!(
            got.iter()
                .any(|(_, add, remove)| !add.is_empty() && !remove.is_empty())
        );
    }

    #[test]
    fn narrow_and_wide_grouping_agree() {
        // The same changes of ids below 2^31, once alone (grouped in 4
        // bytes each) and once beside one high id's change of another term
        // (grouped in 8).
        let mut narrow = TermNotes::new(0, T);
        let mut wide = TermNotes::new(0, T);
        for notes in [&mut narrow, &mut wide] {
            for id in [(1 << 31) - 1, 7, 70_000, 7, 3] {
                notes.change(b"t", id, id != 3);
            }
            notes.change(b"t", 7, false);
        }
        wide.change(b"z", 1 << 45, true);
        let narrow = listing(&narrow.into_entries());
        let mut wide = listing(&wide.into_entries());
        let z = wide
            .iter()
            .position(|(k, _, _)| k.starts_with(b"z"))
            .unwrap();
        let (_, added, _) = wide.remove(z);
        assert_eq!(added, vec![0]);
        assert_eq!(narrow, wide);
        let find = |chunk: u64| {
            let key = chunk_key(b"t", chunk);
            narrow
                .iter()
                .find(|(k, _, _)| *k == key)
                .map(|(_, a, r)| (a.clone(), r.clone()))
        };
        assert_eq!(find(0), Some((vec![], vec![3, 7])));
        assert_eq!(find(1), Some((vec![70_000 - 65_536], vec![])));
        assert_eq!(find(((1 << 31) - 1) >> 16), Some((vec![65_535], vec![])));
    }
}
