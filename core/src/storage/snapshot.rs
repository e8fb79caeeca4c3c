//! Read snapshots: a redb read transaction with the tables it has opened,
//! and the one snapshot a store keeps for its single-call reads while no
//! commit has started since it was taken.
//!
//! Opening a read transaction and looking a table up by name cost about
//! as much as the B-tree lookup a `get` makes, so reads through the store
//! share the latest [`Snapshot`] ([`Snapshots`]). A commit drops it before
//! redb commits (so it pins none of the pages the commit frees: redb
//! decides at each commit which freed pages no live reader can still see)
//! and no snapshot taken while a commit is under way is kept; only one that
//! shows nothing but durable commits is kept (decision 0013).

use std::any::Any;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use redb::{Key, ReadOnlyTable, ReadTransaction, TableDefinition, TableError, TableHandle, Value};

use crate::storage::schema::{
    CLIENT_CLIENT_ID, CLIENTS, META, ROLE_NAME, ROLES, SESSIONS, USER_EMAIL_HASHED,
    USER_ENABLED_POSTINGS, USER_EXTERNAL_ID, USER_ROLES_POSTINGS, USER_TENANT_POSTINGS,
    USER_TRIGRAMS, USER_USERNAME_HASHED, USERS,
};

/// How many tables a snapshot keeps open (see [`kept_slot`]).
const KEPT_TABLES: usize = 14;

/// The slot of a table a snapshot keeps open once opened: the tables the
/// single-record reads open (records, unique indexes, meta, sessions),
/// then the users' posting tables, which a page's plan reads a range of
/// several times (once per term or chunk). Other tables are opened on
/// every use.
fn kept_slot(name: &str) -> Option<usize> {
    let kept: [&str; KEPT_TABLES] = [
        USERS.name(),
        USER_EMAIL_HASHED.name(),
        USER_USERNAME_HASHED.name(),
        USER_EXTERNAL_ID.name(),
        ROLES.name(),
        CLIENTS.name(),
        ROLE_NAME.name(),
        CLIENT_CLIENT_ID.name(),
        META.name(),
        SESSIONS.name(),
        USER_TRIGRAMS.name(),
        USER_ENABLED_POSTINGS.name(),
        USER_ROLES_POSTINGS.name(),
        USER_TENANT_POSTINGS.name(),
    ];
    kept.iter().position(|k| *k == name)
}

/// A consistent, read-only view of the store: a redb read transaction and
/// the tables it has opened (kept open for the snapshot's life).
pub(crate) struct Snapshot {
    /// The tables opened so far, by [`kept_slot`]: each a
    /// `ReadOnlyTable<K, V>` of its definition's types.
    tables: [OnceLock<Box<dyn Any + Send + Sync>>; KEPT_TABLES],
    txn: ReadTransaction,
}

/// A table of a [`Snapshot`]: one it keeps open, or one opened for this use.
pub(crate) enum Opened<'s, K: Key + 'static, V: Value + 'static> {
    /// Kept open by the snapshot.
    Kept(&'s ReadOnlyTable<K, V>),
    /// Opened for this use only.
    Once(ReadOnlyTable<K, V>),
}

impl<K: Key + 'static, V: Value + 'static> Deref for Opened<'_, K, V> {
    type Target = ReadOnlyTable<K, V>;

    fn deref(&self) -> &ReadOnlyTable<K, V> {
        match self {
            Opened::Kept(table) => table,
            Opened::Once(table) => table,
        }
    }
}

impl Snapshot {
    /// The snapshot of the read transaction `txn`.
    pub(crate) fn new(txn: ReadTransaction) -> Snapshot {
        Snapshot {
            tables: std::array::from_fn(|_| OnceLock::new()),
            txn,
        }
    }

    /// The table `definition` as the snapshot sees it, opened once for a
    /// table it keeps open. Fails as redb's `open_table` does (e.g.
    /// `TableDoesNotExist`); a failed opening is not kept.
    pub(crate) fn open_table<K, V>(
        &self,
        definition: TableDefinition<'_, K, V>,
    ) -> Result<Opened<'_, K, V>, TableError>
    where
        K: Key + Send + Sync + 'static,
        V: Value + Send + Sync + 'static,
    {
        let Some(cell) = kept_slot(definition.name()).and_then(|slot| self.tables.get(slot)) else {
            return self.txn.open_table(definition).map(Opened::Once);
        };
        if cell.get().is_none() {
            // Two threads may both open it: the first one set is kept.
            let table = self.txn.open_table(definition)?;
            let _ = cell.set(Box::new(table));
        }
        match cell
            .get()
            .and_then(|table| table.downcast_ref::<ReadOnlyTable<K, V>>())
        {
            Some(table) => Ok(Opened::Kept(table)),
            // A definition naming a kept table with other types: as redb
            // opens (or refuses) it.
            None => self.txn.open_table(definition).map(Opened::Once),
        }
    }
}

/// The snapshot a store keeps for its single-call reads, and the count of
/// commits that decides whether it is still the latest.
///
/// `started` counts the commits begun and `finished` those ended (commits
/// take turns, so at most one is under way). A snapshot is kept tagged
/// with `started` as read before it was taken, only when no commit was
/// under way then and none has started since; it is handed out only while
/// `started` still equals its tag, so it shows exactly what a new snapshot
/// would. Every commit drops the kept snapshot before redb commits.
pub(crate) struct Snapshots {
    started: AtomicU64,
    finished: AtomicU64,
    kept: Mutex<Option<(u64, Arc<Snapshot>)>>,
}

impl Snapshots {
    /// No snapshot kept, no commit counted.
    pub(crate) fn new() -> Snapshots {
        Snapshots {
            started: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            kept: Mutex::new(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<(u64, Arc<Snapshot>)>> {
        // Nothing panics while holding the lock: read through poison.
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The kept snapshot, while no commit has started since it was taken.
    pub(crate) fn latest(&self) -> Option<Arc<Snapshot>> {
        match &*self.lock() {
            Some((tag, snapshot)) if *tag == self.started.load(Ordering::SeqCst) => {
                Some(Arc::clone(snapshot))
            }
            _ => None,
        }
    }

    /// Read before a snapshot is taken: the tag that lets [`Snapshots::keep`]
    /// keep it, or `None` while a commit is under way (a snapshot taken then
    /// is not kept).
    pub(crate) fn tag(&self) -> Option<u64> {
        let started = self.started.load(Ordering::SeqCst);
        (self.finished.load(Ordering::SeqCst) == started).then_some(started)
    }

    /// Keeps `snapshot`, taken after [`Snapshots::tag`] gave `tag` and
    /// showing only durable commits, unless a commit has started since.
    pub(crate) fn keep(&self, tag: u64, snapshot: &Arc<Snapshot>) {
        let mut kept = self.lock();
        if self.started.load(Ordering::SeqCst) != tag {
            return;
        }
        let replaced = kept.replace((tag, Arc::clone(snapshot)));
        drop(kept);
        // Ends its read transaction (if no read holds it) outside the lock.
        drop(replaced);
    }

    /// Called right before redb commits: counts the commit started and
    /// drops the kept snapshot; the commit counts as finished when the
    /// returned guard is dropped (also when the commit panics).
    pub(crate) fn commit_starts(&self) -> CommitUnderWay<'_> {
        self.started.fetch_add(1, Ordering::SeqCst);
        let dropped = self.lock().take();
        drop(dropped);
        CommitUnderWay { snapshots: self }
    }

    /// Drops the kept snapshot (e.g. before a compaction, which needs no
    /// read transaction to be open).
    pub(crate) fn forget(&mut self) {
        *self.kept.get_mut().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// A commit under way (see [`Snapshots::commit_starts`]): counted finished
/// when dropped.
pub(crate) struct CommitUnderWay<'a> {
    snapshots: &'a Snapshots,
}

impl Drop for CommitUnderWay<'_> {
    fn drop(&mut self) {
        self.snapshots.finished.fetch_add(1, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for Snapshots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshots")
            .field("started", &self.started.load(Ordering::SeqCst))
            .field("finished", &self.finished.load(Ordering::SeqCst))
            .field("kept", &self.lock().as_ref().map(|(tag, _)| *tag))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Snapshot>();
        assert_send_sync::<Snapshots>();
    }

    fn snapshot(db: &redb::Database) -> Arc<Snapshot> {
        use redb::ReadableDatabase;
        Arc::new(Snapshot::new(db.begin_read().unwrap()))
    }

    #[test]
    fn a_kept_snapshot_is_handed_out_until_a_commit_starts() {
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        let snapshots = Snapshots::new();
        assert!(snapshots.latest().is_none());
        let tag = snapshots.tag().unwrap();
        let first = snapshot(&db);
        snapshots.keep(tag, &first);
        assert!(Arc::ptr_eq(&snapshots.latest().unwrap(), &first));

        let under_way = snapshots.commit_starts();
        // Dropped as the commit starts; none is kept while it is under way.
        assert!(snapshots.latest().is_none());
        assert_eq!(snapshots.tag(), None);
        snapshots.keep(tag, &snapshot(&db));
        assert!(snapshots.latest().is_none());
        drop(under_way);

        // A snapshot tagged before a commit started is not kept after it.
        let stale = snapshots.tag().unwrap();
        drop(snapshots.commit_starts());
        snapshots.keep(stale, &snapshot(&db));
        assert!(snapshots.latest().is_none());
        let fresh = snapshots.tag().unwrap();
        assert_ne!(fresh, stale);
        let second = snapshot(&db);
        snapshots.keep(fresh, &second);
        assert!(Arc::ptr_eq(&snapshots.latest().unwrap(), &second));
    }

    #[test]
    fn kept_tables_are_opened_once_and_missing_ones_fail_as_redb_does() {
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        let missing = snapshot(&db);
        assert!(matches!(
            missing.open_table(USERS),
            Err(TableError::TableDoesNotExist(_))
        ));
        let txn = db.begin_write().unwrap();
        txn.open_table(USERS)
            .unwrap()
            .insert(7, b"x".as_slice())
            .unwrap();
        txn.open_table(crate::storage::schema::USER_LAST_NAME)
            .unwrap();
        txn.commit().unwrap();
        let snap = snapshot(&db);
        let first = snap.open_table(USERS).unwrap();
        let second = snap.open_table(USERS).unwrap();
        assert!(matches!(
            (&first, &second),
            (Opened::Kept(a), Opened::Kept(b)) if std::ptr::eq(*a, *b)
        ));
        assert_eq!(second.get(7).unwrap().unwrap().value(), b"x");
        assert!(matches!(
            snap.open_table(crate::storage::schema::USER_LAST_NAME)
                .unwrap(),
            Opened::Once(_)
        ));
    }
}
