//! Writes of many keys in key order through one redb cursor: the keys
//! that fall in one gap of a table are buffered by the cursor and spliced
//! in leaf by leaf, instead of one descent and leaf insert per key. What
//! a flush of gathered index keys and a batch of new records use. Every
//! key inserted is recorded in the transaction's journal first (decision
//! 0018), under the table's definition `def`.

use std::ops::Bound;

use redb::{Key, ReadableTable, TableDefinition, Value};

use crate::storage::wal::journal::Journal;
use crate::{Error, Result};

/// Writes of at most this many keys go in one `insert` each: a cursor
/// (a descent, a buffered run, a splice at its close) pays off only for
/// longer runs, and a single small transaction (one patch) writes runs of
/// one or two keys.
pub(crate) const SMALL_RUN: usize = 8;

/// The error of a key redb refused at a cursor: storage, or out of order
/// (the caller's keys were not ascending), naming `what` was written.
fn refused(what: &'static str) -> impl Fn(redb::CursorError) -> Error {
    move |e| match e {
        redb::CursorError::Storage(e) => Error::from(e),
        other => Error::internal(format!("{what}: a key was refused ({other}): out of order")),
    }
}

/// Inserts the leading entries of `run` (keys ascending and distinct) that
/// fall in the gap of `table` before the first key's successor, through
/// one cursor, and returns how many it inserted: it stops at the first
/// key not before that successor, and inserts none when the first key is
/// stored already. Keys compare as the table orders them (`K::compare`).
///
/// Errors: `Storage` when the table cannot be read or written, `Internal`
/// (naming `what`) when redb refuses a key as out of order.
pub(crate) fn insert_run<'k, K: Key + 'static, V: Value + 'static>(
    table: &mut redb::Table<'_, K, V>,
    (journal, def): (&Journal, TableDefinition<'static, K, V>),
    mut run: impl Iterator<Item = (K::SelfType<'k>, V::SelfType<'k>)>,
    what: &'static str,
) -> Result<usize> {
    let mut count: usize = 0;
    let Some((first, value)) = run.next() else {
        return Ok(count);
    };
    let mut cursor = table.lower_bound_mut(Bound::Included(&first))?;
    let next: Option<Vec<u8>> = cursor
        .peek_next()?
        .map(|(k, _)| K::as_bytes(&k.value()).as_ref().to_vec());
    let before_next = |k: &K::SelfType<'k>| {
        next.as_deref()
            .is_none_or(|next| K::compare(K::as_bytes(k).as_ref(), next).is_lt())
    };
    if !before_next(&first) {
        // The first key is stored already (the gap's successor is at or
        // before it only when it is that key).
        return Ok(count);
    }
    journal.insert(&def, &first, &value);
    cursor
        .insert_before(&first, &value)
        .map_err(refused(what))?;
    count = count.saturating_add(1);
    for (k, value) in run {
        if !before_next(&k) {
            break;
        }
        journal.insert(&def, &k, &value);
        cursor.insert_before(&k, &value).map_err(refused(what))?;
        count = count.saturating_add(1);
    }
    cursor.close()?;
    Ok(count)
}

/// Inserts `entries` (none stored yet) into `table`, one insert each: what
/// [`insert_new`] does with a short run, and what keys that a batch
/// spreads over the whole tree (hashes) take, where runs of a gap would
/// hold one key each.
///
/// Errors: `Storage` when the table cannot be read or written, `Internal`
/// (naming `what`) when a key is stored already.
pub(crate) fn insert_each<'k, K: Key + 'static, V: Value + 'static>(
    table: &mut redb::Table<'_, K, V>,
    (journal, def): (&Journal, TableDefinition<'static, K, V>),
    entries: impl IntoIterator<Item = (K::SelfType<'k>, V::SelfType<'k>)>,
    what: &'static str,
) -> Result<()> {
    for (k, value) in entries {
        if table.insert(&k, &value)?.is_some() {
            return Err(Error::internal(format!(
                "{what}: a key checked free is stored already"
            )));
        }
        journal.insert(&def, &k, &value);
    }
    Ok(())
}

/// Inserts `entries` (keys ascending and distinct, none stored yet) into
/// `table`: each run of keys that share a gap through one cursor, or, for
/// at most [`SMALL_RUN`] entries, one insert each.
///
/// Errors: `Storage` when the table cannot be read or written, `Internal`
/// (naming `what`) when a key is stored already or out of order.
pub(crate) fn insert_new<'k, K: Key + 'static, V: Value + 'static>(
    table: &mut redb::Table<'_, K, V>,
    log: (&Journal, TableDefinition<'static, K, V>),
    entries: &[(K::SelfType<'k>, V::SelfType<'k>)],
    what: &'static str,
) -> Result<()>
where
    K::SelfType<'k>: Copy,
    V::SelfType<'k>: Copy,
{
    if entries.len() <= SMALL_RUN {
        return insert_each(table, log, entries.iter().copied(), what);
    }
    let mut at = 0;
    while at < entries.len() {
        let run = entries.get(at..).unwrap_or_default().iter().copied();
        let inserted = insert_run(table, log, run, what)?;
        if inserted == 0 {
            return Err(Error::internal(format!(
                "{what}: a key checked free is stored already"
            )));
        }
        at = at.saturating_add(inserted);
    }
    Ok(())
}

/// Appends `entries` (keys ascending) to a table keyed by `u64`: through
/// one cursor at the table's end when every key is past its last one and
/// there are more than [`SMALL_RUN`] of them, else one insert each.
///
/// Errors: `Storage` when the table cannot be read or written, `Internal`
/// (naming `what`) when redb refuses a key.
pub(crate) fn append_u64<'v, V: Value + 'static>(
    table: &mut redb::Table<'_, u64, V>,
    (journal, def): (&Journal, TableDefinition<'static, u64, V>),
    entries: impl IntoIterator<Item = (u64, V::SelfType<'v>)>,
    what: &'static str,
) -> Result<()> {
    let mut entries = entries.into_iter().peekable();
    let Some(&(first, _)) = entries.peek() else {
        return Ok(());
    };
    let few = entries.size_hint().1.is_some_and(|n| n <= SMALL_RUN);
    if few || table.last()?.is_some_and(|(last, _)| last.value() >= first) {
        for (k, value) in entries {
            journal.insert(&def, &k, &value);
            table.insert(k, value)?;
        }
        return Ok(());
    }
    let mut cursor = table.upper_bound_mut(Bound::<u64>::Unbounded)?;
    for (k, value) in entries {
        journal.insert(&def, &k, &value);
        cursor.insert_before(k, value).map_err(refused(what))?;
    }
    cursor.close()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::wal::journal::journaled;
    use redb::ReadableTableMetadata;

    fn memory_db() -> redb::Database {
        redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap()
    }

    #[test]
    fn runs_stop_at_the_next_stored_key_and_skip_a_stored_first_key() {
        const T: TableDefinition<&[u8], u64> = TableDefinition::new("t");
        let db = memory_db();
        let txn = db.begin_write().unwrap();
        let mut table = txn.open_table(T).unwrap();
        let journal = Journal::recording();
        table.insert(b"m".as_slice(), 0).unwrap();
        let run: [(&[u8], u64); 3] = [(b"a", 1), (b"b", 2), (b"n", 3)];
        assert_eq!(
            insert_run(&mut table, (&journal, T), run.into_iter(), "t").unwrap(),
            2
        );
        let stored: [(&[u8], u64); 1] = [(b"m", 9)];
        assert_eq!(
            insert_run(&mut table, (&journal, T), stored.into_iter(), "t").unwrap(),
            0
        );
        let entries: [(&[u8], u64); 3] = [(b"c", 4), (b"n", 5), (b"z", 6)];
        insert_new(&mut table, (&journal, T), &entries, "t").unwrap();
        let all: Vec<(Vec<u8>, u64)> = table
            .iter()
            .unwrap()
            .map(|e| {
                let (k, v) = e.unwrap();
                (k.value().to_vec(), v.value())
            })
            .collect();
        let want: Vec<(Vec<u8>, u64)> =
            [("a", 1), ("b", 2), ("c", 4), ("m", 0), ("n", 5), ("z", 6)]
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), *v))
                .collect();
        assert_eq!(all, want);
        // The journal holds exactly the keys inserted, in order: not the
        // stored "m" the second run stopped at.
        let logged: Vec<(Vec<u8>, u64)> = journaled(&journal, "t")
            .into_iter()
            .map(|(k, v)| (k, u64::from_le_bytes(v.try_into().unwrap())))
            .collect();
        let inserted: Vec<(Vec<u8>, u64)> = [("a", 1), ("b", 2), ("c", 4), ("n", 5), ("z", 6)]
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), *v))
            .collect();
        assert_eq!(logged, inserted);
        let again: [(&[u8], u64); 1] = [(b"c", 7)];
        assert!(insert_new(&mut table, (&journal, T), &again, "t").is_err());
    }

    #[test]
    fn few_and_many_new_keys_are_all_written_and_journaled() {
        const T: TableDefinition<&[u8], u64> = TableDefinition::new("t");
        let db = memory_db();
        let txn = db.begin_write().unwrap();
        let mut table = txn.open_table(T).unwrap();
        let journal = Journal::recording();
        table.insert(b"k10".as_slice(), 0).unwrap();
        // More than SMALL_RUN keys (cursor runs, split by the stored
        // "k10"), then a few (one insert each).
        let many: Vec<Vec<u8>> = (0..SMALL_RUN as u64 * 3)
            .map(|n| format!("k{n:02}").into_bytes())
            .filter(|k| k.as_slice() != b"k10")
            .collect();
        let entries: Vec<(&[u8], u64)> = many.iter().map(|k| (k.as_slice(), 1)).collect();
        insert_new(&mut table, (&journal, T), &entries, "t").unwrap();
        let few: [(&[u8], u64); 2] = [(b"a", 2), (b"z", 3)];
        insert_new(&mut table, (&journal, T), &few, "t").unwrap();
        assert_eq!(table.len().unwrap(), entries.len() as u64 + 3);
        let logged: Vec<Vec<u8>> = journaled(&journal, "t")
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let mut want: Vec<Vec<u8>> = many.clone();
        want.extend([b"a".to_vec(), b"z".to_vec()]);
        assert_eq!(logged, want);
        // A stored key among a few or among many is refused.
        let again: [(&[u8], u64); 1] = [(b"a", 4)];
        assert!(insert_new(&mut table, (&journal, T), &again, "t").is_err());
        let mut clash = entries.clone();
        clash.truncate(SMALL_RUN + 1);
        assert!(insert_new(&mut table, (&journal, T), &clash, "t").is_err());
    }

    #[test]
    fn appends_past_the_last_key_or_inserts_one_by_one() {
        const T: TableDefinition<u64, u64> = TableDefinition::new("u");
        let db = memory_db();
        let txn = db.begin_write().unwrap();
        let mut table = txn.open_table(T).unwrap();
        let journal = Journal::recording();
        append_u64(&mut table, (&journal, T), [(5, 50), (6, 60)], "u").unwrap();
        append_u64(&mut table, (&journal, T), [(1, 10), (7, 70)], "u").unwrap();
        append_u64(&mut table, (&journal, T), [(8, 80), (9, 90)], "u").unwrap();
        let all: Vec<(u64, u64)> = table
            .iter()
            .unwrap()
            .map(|e| {
                let (k, v) = e.unwrap();
                (k.value(), v.value())
            })
            .collect();
        assert_eq!(all, [(1, 10), (5, 50), (6, 60), (7, 70), (8, 80), (9, 90)]);
        assert_eq!(table.len().unwrap(), 6);
        // Both ways of appending record every entry, in the order written.
        let logged: Vec<(u64, u64)> = journaled(&journal, "u")
            .into_iter()
            .map(|(k, v)| {
                let n = |b: Vec<u8>| u64::from_le_bytes(b.try_into().unwrap());
                (n(k), n(v))
            })
            .collect();
        assert_eq!(
            logged,
            [(5, 50), (6, 60), (1, 10), (7, 70), (8, 80), (9, 90)]
        );
        // More than SMALL_RUN entries past the last key go through one
        // cursor; more than SMALL_RUN with one before it, one by one.
        let past: Vec<(u64, u64)> = (10..10 + SMALL_RUN as u64 * 2).map(|k| (k, k)).collect();
        append_u64(&mut table, (&journal, T), past.iter().copied(), "u").unwrap();
        let mut mixed: Vec<(u64, u64)> = vec![(2, 20)];
        mixed.extend((100..100 + SMALL_RUN as u64).map(|k| (k, k)));
        append_u64(&mut table, (&journal, T), mixed.iter().copied(), "u").unwrap();
        let logged: Vec<u64> = journaled(&journal, "u")
            .into_iter()
            .map(|(k, _)| u64::from_le_bytes(k.try_into().unwrap()))
            .collect();
        let want: Vec<u64> = past.iter().chain(&mixed).map(|&(k, _)| k).collect();
        assert_eq!(logged, want);
        let keys: Vec<u64> = table
            .iter()
            .unwrap()
            .map(|e| e.unwrap().0.value())
            .collect();
        let mut all: Vec<u64> = [1, 5, 6, 7, 8, 9].into_iter().chain(want).collect();
        all.sort_unstable();
        assert_eq!(keys, all);
    }
}
