//! The backend every store's redb database runs on: the caller's backend
//! (a file, a simulated disk, …) with three duties added.
//!
//! - **Writes in runs.** Whole-page writes are held until the next sync
//!   and then written with adjacent pages together, one call a run
//!   (`write_runs`).
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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::storage::format::{Head, first_bytes};
use crate::storage::write_runs::WriteRuns;

/// Writes below this offset may be redb's header: it is the first 4 KiB
/// page's opening bytes (rosterdb's stores keep redb's default page size;
/// with a smaller page, some data writes would count too, which only
/// costs a sync).
const HEADER_END: u64 = 4096;

/// A redb backend with the writes in runs, the fresh start and the
/// deferred growth syncs of the module's documentation.
///
/// Growths and writes are counted when they complete; a real sync records
/// the counts it read before it started, once it succeeded. So a growth or
/// write racing with a sync counts as not covered by it, and a header
/// write on another thread while a sync is under way syncs again rather
/// than trusting the sync in flight.
#[derive(Debug)]
pub(crate) struct StoreBackend<B> {
    inner: B,
    /// Whole-page writes held until the next sync.
    runs: WriteRuns,
    /// Whether the fresh-start check has run (at the first length query).
    checked: AtomicBool,
    /// Growths of the file made so far.
    growths: AtomicU64,
    /// Of those, how many a successful sync covers.
    synced_growths: AtomicU64,
    /// Writes made so far.
    writes: AtomicU64,
    /// Of those, how many a successful sync covers.
    synced_writes: AtomicU64,
}

impl<B> StoreBackend<B> {
    /// `inner` with the three duties added.
    pub(crate) fn new(inner: B) -> Self {
        StoreBackend {
            inner,
            runs: WriteRuns::default(),
            checked: AtomicBool::new(false),
            growths: AtomicU64::new(0),
            synced_growths: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            synced_writes: AtomicU64::new(0),
        }
    }

    /// Whether a growth is not yet covered by a successful sync.
    fn growth_unsynced(&self) -> bool {
        self.growths.load(Ordering::Acquire) > self.synced_growths.load(Ordering::Acquire)
    }

    /// Whether a write is not yet covered by a successful sync.
    fn written(&self) -> bool {
        self.writes.load(Ordering::Acquire) > self.synced_writes.load(Ordering::Acquire)
    }
}

impl<B: redb::StorageBackend> StoreBackend<B> {
    /// Writes the held writes and syncs `inner`; on success, records the
    /// growths and writes that had completed before it started as covered.
    fn sync_inner(&self) -> std::io::Result<()> {
        let growths = self.growths.load(Ordering::Acquire);
        let writes = self.writes.load(Ordering::Acquire);
        self.runs.write_out(&self.inner)?;
        self.inner.sync_data()?;
        self.runs.synced();
        self.synced_growths.fetch_max(growths, Ordering::AcqRel);
        self.synced_writes.fetch_max(writes, Ordering::AcqRel);
        Ok(())
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
        self.runs.read(offset, out, &self.inner)
    }

    fn set_len(&self, len: u64) -> std::io::Result<()> {
        let grows = len > self.inner.len()?;
        if !grows {
            // Held writes beyond the new end must not land after it.
            self.runs.write_out(&self.inner)?;
        }
        self.inner.set_len(len)?;
        if grows {
            self.growths.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }

    fn sync_data(&self) -> std::io::Result<()> {
        if self.growth_unsynced() && !self.written() {
            // Only growth since the last sync: put off until the header's
            // next write (module documentation).
            return Ok(());
        }
        self.sync_inner()
    }

    fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        if self.runs.holding() && WriteRuns::holds(offset, data.len(), HEADER_END) {
            self.runs.hold(offset, data, &self.inner)?;
        } else {
            if offset < HEADER_END && self.growth_unsynced() {
                self.sync_inner()?;
            }
            // No write moves across one that is not held.
            self.runs.write_out(&self.inner)?;
            self.inner.write(offset, data)?;
        }
        self.writes.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    fn close(&self) -> std::io::Result<()> {
        // Closed even when the held writes fail to land, so that the
        // file's handle and lock are let go.
        let written = self.runs.write_out(&self.inner);
        let closed = self.inner.close();
        written.and(closed)
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
        // Held writes land while the range is still this process's (redb's
        // shared-writer modes hand the file to others at unlock).
        self.runs
            .write_out(&self.inner)
            .map_err(redb::BackendError::from)?;
        self.inner.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> BackendResult<bool> {
        self.inner.query_lock_range(start, end)
    }
}

type BackendResult<T> = std::result::Result<T, redb::BackendError>;

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::arithmetic_side_effects
    )]

    use std::sync::{Arc, Mutex, Weak};

    use redb::StorageBackend;

    use super::*;

    /// What the disk under the wrapper saw, in order.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Event {
        Grow,
        SyncStarted,
        SyncDone,
        Write(u64),
    }

    /// A disk that records its calls; its first sync runs `during_sync` on
    /// the wrapper above it, as another thread would while the sync is
    /// under way.
    #[derive(Debug, Default)]
    struct Disk {
        len: Mutex<u64>,
        events: Arc<Mutex<Vec<Event>>>,
        above: Arc<Mutex<Option<Weak<StoreBackend<Disk>>>>>,
        syncs: Mutex<u32>,
    }

    impl Disk {
        fn log(&self, e: Event) {
            self.events.lock().unwrap().push(e);
        }
    }

    impl redb::StorageBackend for Disk {
        fn len(&self) -> std::io::Result<u64> {
            Ok(*self.len.lock().unwrap())
        }
        fn read(&self, _offset: u64, out: &mut [u8]) -> std::io::Result<()> {
            out.fill(0);
            Ok(())
        }
        fn set_len(&self, len: u64) -> std::io::Result<()> {
            let mut l = self.len.lock().unwrap();
            if len > *l {
                self.log(Event::Grow);
            }
            *l = len;
            Ok(())
        }
        fn sync_data(&self) -> std::io::Result<()> {
            self.log(Event::SyncStarted);
            let first = {
                let mut n = self.syncs.lock().unwrap();
                *n += 1;
                *n == 1
            };
            if first {
                // Another thread, while this sync is under way, writes
                // redb's header.
                let above = self.above.lock().unwrap().clone();
                let above = above.and_then(|w| w.upgrade()).expect("the wrapper");
                above.write(0, &[1]).unwrap();
            }
            self.log(Event::SyncDone);
            Ok(())
        }
        fn write(&self, offset: u64, _data: &[u8]) -> std::io::Result<()> {
            self.log(Event::Write(offset));
            Ok(())
        }
    }

    /// Every write below [`HEADER_END`] comes after a sync that started
    /// after the last growth before it and had completed.
    fn header_writes_follow_a_completed_sync(events: &[Event]) -> Result<(), String> {
        let mut last_growth = None;
        let mut durable = true;
        // The start of each sync under way (they nest when one runs
        // during another).
        let mut started = Vec::new();
        for (i, e) in events.iter().enumerate() {
            match e {
                Event::Grow => {
                    last_growth = Some(i);
                    durable = false;
                }
                Event::SyncStarted => started.push(i),
                Event::SyncDone => {
                    let start = started.pop().ok_or("a sync done that never started")?;
                    if last_growth.is_none_or(|g| start > g) {
                        durable = true;
                    }
                }
                Event::Write(offset) if *offset < HEADER_END && !durable => {
                    return Err(format!(
                        "header write at event {i} before the growth was synced: {events:?}"
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A sync under way when the header is written may not have made the
    /// growth durable yet: the header write syncs on its own first.
    #[test]
    fn a_header_write_during_a_sync_does_not_count_on_that_sync() {
        let disk = Disk::default();
        let events = Arc::clone(&disk.events);
        let above = Arc::clone(&disk.above);
        let backend = Arc::new(StoreBackend::new(disk));
        *above.lock().unwrap() = Some(Arc::downgrade(&backend));
        backend.set_len(4096).unwrap();
        backend.write(4096, &[0]).unwrap();
        // A sync after a growth and a write (so not deferred), during which
        // another thread writes the header (see `Disk::sync_data`).
        backend.sync_data().unwrap();
        let events = events.lock().unwrap().clone();
        header_writes_follow_a_completed_sync(&events).unwrap();
        assert!(
            events.contains(&Event::Write(0)),
            "the header was written: {events:?}"
        );
    }

    /// Whole pages are held: the disk sees them, adjacent ones as one
    /// write, before the next sync and before a write that is not held
    /// (redb's header), and reads see them meanwhile.
    #[test]
    fn held_pages_reach_the_disk_before_a_sync_and_before_the_header() {
        let disk = Disk::default();
        *disk.syncs.lock().unwrap() = 1; // no re-entry
        let events = Arc::clone(&disk.events);
        let backend = StoreBackend::new(disk);
        backend.write(8192, &[7; 4096]).unwrap();
        backend.write(4096, &[6; 4096]).unwrap();
        assert_eq!(events.lock().unwrap()[..], [], "both held");
        let mut out = [0; 4096];
        backend.read(8192, &mut out).unwrap();
        assert_eq!(out, [7; 4096], "a read sees a held page");
        backend.sync_data().unwrap();
        assert_eq!(
            events.lock().unwrap()[..],
            [Event::Write(4096), Event::SyncStarted, Event::SyncDone],
            "one write for the two adjacent pages, then the sync"
        );
        backend.write(12288, &[8; 4096]).unwrap();
        backend.write(0, &[1; 320]).unwrap();
        assert_eq!(
            events.lock().unwrap()[3..],
            [Event::Write(12288), Event::Write(0)],
            "the held page before the header"
        );
        backend.read(8192, &mut out).unwrap();
        assert_eq!(out, [0; 4096], "written out, reads go to the disk");
    }

    /// Past the held bound, a commit's later pages go straight to the
    /// disk, one write each, until the sync; the next commit is held again.
    #[test]
    fn a_commit_past_the_held_bound_writes_the_rest_as_it_comes() {
        let disk = Disk::default();
        *disk.syncs.lock().unwrap() = 1; // no re-entry
        let events = Arc::clone(&disk.events);
        let backend = StoreBackend::new(disk);
        let page = [3; 4096];
        let bound = crate::storage::write_runs::HELD_MAX as u64;
        let mut offset = 4096;
        while offset <= bound + 4096 {
            backend.write(offset, &page).unwrap();
            offset += 4096;
        }
        let before = events.lock().unwrap().len();
        assert!(before > 0, "the held pages went out at the bound");
        backend.write(offset + 8192, &page).unwrap();
        backend.write(offset, &page).unwrap();
        assert_eq!(
            events.lock().unwrap()[before..],
            [Event::Write(offset + 8192), Event::Write(offset)],
            "after the bound, each write as it comes"
        );
        backend.sync_data().unwrap();
        backend.write(4096, &page).unwrap();
        assert_eq!(
            events.lock().unwrap()[before + 2..],
            [Event::SyncStarted, Event::SyncDone],
            "after the sync, held again"
        );
    }

    #[test]
    fn a_sync_after_only_growth_waits_for_the_header_write() {
        let disk = Disk::default();
        *disk.syncs.lock().unwrap() = 1; // no re-entry
        let events = Arc::clone(&disk.events);
        let backend = StoreBackend::new(disk);
        backend.write(4096, &[0]).unwrap();
        backend.sync_data().unwrap();
        let before = events.lock().unwrap().len();
        backend.set_len(8192).unwrap();
        backend.sync_data().unwrap(); // only growth: deferred
        assert_eq!(
            events.lock().unwrap()[before..],
            [Event::Grow],
            "no sync for a growth alone"
        );
        backend.write(0, &[1]).unwrap();
        let events = events.lock().unwrap().clone();
        assert_eq!(
            events[before..],
            [
                Event::Grow,
                Event::SyncStarted,
                Event::SyncDone,
                Event::Write(0)
            ]
        );
        header_writes_follow_a_completed_sync(&events).unwrap();
    }
}
