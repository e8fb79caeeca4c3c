//! The backend every store's redb database runs on: the caller's backend
//! (a file, a simulated disk, …) with two duties added.
//!
//! - **Fresh start.** At redb's first length query, a file that an
//!   interrupted creation left is emptied, so that redb creates the store
//!   anew (see `format::first_bytes`).
//! - **Growth syncs deferred to the header.** redb syncs the file after
//!   every growth, so that no crash can leave a header whose layout names
//!   a longer file than the disk kept ("File truncated below stored
//!   layout"). A store made by one bulk import grows some ten times (redb
//!   doubles the file until its first region is full), and each of those
//!   syncs waits for the disk: 8 of the 14 syncs of a 10,000-user import
//!   into a new file, up to a third of its time on a slow disk. Here a
//!   sync that follows nothing but growth is put off until the next write
//!   of redb's header (the file's first page), which first makes the
//!   length durable, or until the next sync after any other write. The
//!   order redb asks for holds: a header naming the larger layout reaches
//!   the file only after the larger length is durable. What a crash loses
//!   of a deferred growth is space no durable header refers to.

use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::storage::format::{Head, first_bytes};

/// Writes below this offset may be redb's header: it is the first 4 KiB
/// page's opening bytes (rosterdb's stores keep redb's default page size;
/// with a smaller page, some data writes would count too, which only
/// costs a sync).
const HEADER_END: u64 = 4096;

/// A redb backend with the fresh start and the deferred growth syncs of
/// the module's documentation.
#[derive(Debug)]
pub(crate) struct StoreBackend<B> {
    inner: B,
    /// Whether the fresh-start check has run (at the first length query).
    checked: AtomicBool,
    /// Set by a growth whose sync was put off; cleared by a real sync.
    growth_unsynced: AtomicBool,
    /// Set by every write; cleared by a real sync.
    written: AtomicBool,
}

impl<B> StoreBackend<B> {
    /// `inner` with the two duties added.
    pub(crate) fn new(inner: B) -> Self {
        StoreBackend {
            inner,
            checked: AtomicBool::new(false),
            growth_unsynced: AtomicBool::new(false),
            written: AtomicBool::new(false),
        }
    }
}

impl<B: redb::StorageBackend> StoreBackend<B> {
    /// Syncs `inner`, clearing both marks first so that a write racing
    /// with the sync marks again; on failure the growth stays unsynced.
    fn sync_inner(&self) -> std::io::Result<()> {
        let growth = self.growth_unsynced.swap(false, Ordering::AcqRel);
        self.written.store(false, Ordering::Release);
        self.inner.sync_data().inspect_err(|_| {
            if growth {
                self.growth_unsynced.store(true, Ordering::Release);
            }
            self.written.store(true, Ordering::Release);
        })
    }
}

impl<B: redb::StorageBackend> redb::StorageBackend for StoreBackend<B> {
    fn len(&self) -> std::io::Result<u64> {
        let len = self.inner.len()?;
        if len == 0 || self.checked.swap(true, Ordering::AcqRel) {
            return Ok(len);
        }
        if first_bytes(len, |offset, out| self.inner.read(offset, out))? == Head::Blank {
            self.inner.set_len(0)?;
            self.inner.sync_data()?;
            return Ok(0);
        }
        Ok(len)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
        self.inner.read(offset, out)
    }

    fn set_len(&self, len: u64) -> std::io::Result<()> {
        let grows = len > self.inner.len()?;
        self.inner.set_len(len)?;
        if grows {
            self.growth_unsynced.store(true, Ordering::Release);
        }
        Ok(())
    }

    fn sync_data(&self) -> std::io::Result<()> {
        if self.growth_unsynced.load(Ordering::Acquire) && !self.written.load(Ordering::Acquire) {
            // Only growth since the last sync: put off until the header's
            // next write (module documentation).
            return Ok(());
        }
        self.sync_inner()
    }

    fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        if offset < HEADER_END && self.growth_unsynced.load(Ordering::Acquire) {
            self.sync_inner()?;
        }
        self.written.store(true, Ordering::Release);
        self.inner.write(offset, data)
    }

    fn close(&self) -> std::io::Result<()> {
        self.inner.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> BackendResult<bool> {
        self.inner.try_lock_range(start, end)
    }

    fn try_lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> BackendResult<bool> {
        self.inner.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> BackendResult<()> {
        self.inner.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> BackendResult<()> {
        self.inner.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> BackendResult<()> {
        self.inner.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> BackendResult<bool> {
        self.inner.query_lock_range(start, end)
    }
}

type BackendResult<T> = std::result::Result<T, redb::BackendError>;
