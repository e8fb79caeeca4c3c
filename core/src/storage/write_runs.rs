//! Page writes held until the next sync and handed to the backend in runs
//! of adjacent pages, one write call per run.
//!
//! redb writes a commit's pages one call each, in the order of its write
//! buffer's 131 lock stripes (by offset modulo 131), so adjacent pages
//! arrive apart: a 10,000-user import into a new file made 1,823 writes of
//! 4 KiB. A file system pays per call and per page-cache folio; ext4
//! allocates folios as large as the writes that fill them. Held and
//! written in runs of up to 64 KiB, that import makes 135 writes, and its
//! commit (redb's checksums, the writes and the syncs) took a median 13.8
//! against 17.1 ms, and 12.4 against 16.4 ms in a second set (eight
//! alternated new processes each; round 22 notes in `docs/BENCHMARKS.md`).
//!
//! Held pages are what the operating system's page cache holds between a
//! write and a sync: nothing durable depends on them until the sync, and a
//! crash loses them as it loses unsynced writes. So the backend sees the
//! same bytes at the same offsets by each sync, with no write moved across
//! a sync, a shrink or a write that is not whole pages (redb's header),
//! all of which write the held pages first. Reads see held pages over the
//! backend's bytes, on any thread (redb's readers push pages out of its
//! cache too), and a write that fails leaves its pages held.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The unit held writes come in: a write is held when its offset and
/// length are whole multiples of it (redb's pages, at rosterdb's default
/// 4 KiB page size).
const PAGE: u64 = 4096;

/// Held bytes beyond which the held writes go to the backend at once (in
/// runs still), and later writes go straight to it until the next sync:
/// a commit larger than this (a transaction of 50,000 users into a large
/// store) writes pages that redb took from all over the file, whose runs
/// were a page or two long, so holding them cost their copies and saved
/// no calls (a 1M-user build, transactions of 50,000: 473,087 held
/// writes went out in 468,820 calls, and the build took 16.4–16.6 µs a
/// user against 15.0–15.1 without holding; round 22). A 20,000-user
/// import (about 15 MiB of pages) is held whole.
pub(crate) const HELD_MAX: usize = 32 << 20;

/// The most bytes one write call carries. Runs of 256 KiB and 1 MiB made
/// the same commits faster at some moments and twice as slow at others
/// (ext4 waiting for the kernel to find or compact memory for folios that
/// large); runs of 64 KiB were steady (round 22).
const RUN_MAX: usize = 64 << 10;

/// Writes held between syncs (module documentation).
#[derive(Debug, Default)]
pub(crate) struct WriteRuns {
    /// Written under the write lock; read (by `read`) under the read lock,
    /// so that reads on several threads overlay held pages at once.
    held: RwLock<Held>,
    /// Whether any write is held, or held writes are being written: reads
    /// and `write_out` go straight on without the lock when not. It is
    /// cleared only once the held writes are in the backend, so a caller
    /// that finds it clear finds their bytes there.
    any: AtomicBool,
    /// Whether more than [`HELD_MAX`] bytes were held since the last sync:
    /// writes go straight to the backend until the next.
    passing: AtomicBool,
}

/// The held writes, by offset; no two overlap.
#[derive(Debug, Default)]
struct Held {
    writes: BTreeMap<u64, Box<[u8]>>,
    bytes: usize,
    /// A run's bytes gathered for one write call (kept for its capacity).
    run: Vec<u8>,
}

impl WriteRuns {
    /// Whether a write of `len` bytes at `offset` is one this type holds:
    /// whole pages, beyond `floor` (the bytes below it, redb's header, are
    /// written in place).
    pub(crate) fn holds(offset: u64, len: usize, floor: u64) -> bool {
        let len = len as u64;
        offset >= floor && len > 0 && offset.is_multiple_of(PAGE) && len.is_multiple_of(PAGE)
    }

    /// Whether writes are held now (not after a commit's first
    /// [`HELD_MAX`] bytes, until the next sync).
    pub(crate) fn holding(&self) -> bool {
        !self.passing.load(Ordering::Acquire)
    }

    /// Holds writes again: what a sync of the backend calls, after
    /// [`WriteRuns::write_out`].
    pub(crate) fn synced(&self) {
        self.passing.store(false, Ordering::Release);
    }

    fn lock(&self) -> RwLockWriteGuard<'_, Held> {
        self.held.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_read(&self) -> RwLockReadGuard<'_, Held> {
        self.held.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Holds a copy of `data` for `offset` (a write [`WriteRuns::holds`]
    /// accepts). A held write at the same offset and length is replaced; one
    /// overlapping it otherwise sends every held write to `inner` first, so
    /// that the backend sees overlapping writes in their order.
    pub(crate) fn hold(
        &self,
        offset: u64,
        data: &[u8],
        inner: &impl redb::StorageBackend,
    ) -> std::io::Result<()> {
        let mut held = self.lock();
        let end = offset.saturating_add(data.len() as u64);
        match held.overlap(offset, end) {
            Overlap::None => {}
            Overlap::Same => {
                if let Some(old) = held.writes.get_mut(&offset) {
                    old.copy_from_slice(data);
                }
                return Ok(());
            }
            Overlap::Other => self.write_held(&mut held, inner)?,
        }
        held.writes.insert(offset, data.into());
        held.bytes = held.bytes.saturating_add(data.len());
        self.any.store(true, Ordering::Release);
        if held.bytes > HELD_MAX {
            self.passing.store(true, Ordering::Release);
            self.write_held(&mut held, inner)?;
        }
        Ok(())
    }

    /// Sends every held write to `inner`, adjacent ones in one call.
    pub(crate) fn write_out(&self, inner: &impl redb::StorageBackend) -> std::io::Result<()> {
        if !self.any.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut held = self.lock();
        self.write_held(&mut held, inner)
    }

    /// Reads `out.len()` bytes at `offset` from `inner`, with held writes
    /// laid over them.
    pub(crate) fn read(
        &self,
        offset: u64,
        out: &mut [u8],
        inner: &impl redb::StorageBackend,
    ) -> std::io::Result<()> {
        if !self.any.load(Ordering::Acquire) {
            return inner.read(offset, out);
        }
        let held = self.lock_read();
        inner.read(offset, out)?;
        let end = offset.saturating_add(out.len() as u64);
        for (&start, data) in held.writes.range(..end).rev() {
            let stop = start.saturating_add(data.len() as u64);
            if stop <= offset {
                // Held writes do not overlap, so every earlier one ends
                // before this one.
                break;
            }
            let from = start.max(offset);
            let to = stop.min(end);
            let (Some(src), Some(dst)) = (
                slice_range(from.saturating_sub(start), to.saturating_sub(start))
                    .and_then(|r| data.get(r)),
                slice_range(from.saturating_sub(offset), to.saturating_sub(offset))
                    .and_then(|r| out.get_mut(r)),
            ) else {
                continue;
            };
            dst.copy_from_slice(src);
        }
        Ok(())
    }

    /// Writes `held` out in runs, in offset order. A failed write returns
    /// its error and leaves its run and every later one held (reads still
    /// see them, and the next `write_out` tries them again): redb may go
    /// on after a failed write it made to free memory, and the pages it
    /// handed over must not be lost.
    fn write_held(
        &self,
        held: &mut Held,
        inner: &impl redb::StorageBackend,
    ) -> std::io::Result<()> {
        let Held { writes, bytes, run } = held;
        run.clear();
        // The run being gathered: where it starts, its length, and its
        // one write while it has one (written as held, without a copy).
        let mut start = 0_u64;
        let mut len = 0_usize;
        let mut one: Option<&[u8]> = None;
        let mut failed = None;
        for (&offset, data) in writes.iter() {
            let joins = start.saturating_add(len as u64) == offset
                && len.saturating_add(data.len()) <= RUN_MAX;
            if len > 0 && !joins {
                if let Err(e) = send(inner, start, one.take(), run) {
                    failed = Some((start, e));
                    break;
                }
                len = 0;
            }
            if len == 0 {
                start = offset;
                one = Some(data);
            } else {
                if let Some(first) = one.take() {
                    run.extend_from_slice(first);
                }
                run.extend_from_slice(data);
            }
            len = len.saturating_add(data.len());
        }
        if failed.is_none()
            && len > 0
            && let Err(e) = send(inner, start, one.take(), run)
        {
            failed = Some((start, e));
        }
        if run.capacity() > RUN_MAX {
            run.shrink_to(RUN_MAX);
        }
        match failed {
            None => {
                writes.clear();
                *bytes = 0;
                self.any.store(false, Ordering::Release);
                Ok(())
            }
            Some((from, e)) => {
                // The runs before `from` are in the backend.
                *writes = writes.split_off(&from);
                *bytes = writes.values().map(|d| d.len()).sum();
                Err(e)
            }
        }
    }
}

/// Writes the run that starts at `start`: its `one` write as it is held,
/// or else the writes gathered in `run` (emptied after).
fn send(
    inner: &impl redb::StorageBackend,
    start: u64,
    one: Option<&[u8]>,
    run: &mut Vec<u8>,
) -> std::io::Result<()> {
    let sent = inner.write(start, one.unwrap_or(run));
    run.clear();
    sent
}

/// How a write of `[offset, end)` meets the held writes.
enum Overlap {
    /// It meets none.
    None,
    /// It covers exactly one held write's bytes.
    Same,
    /// It meets one or more otherwise.
    Other,
}

impl Held {
    fn overlap(&self, offset: u64, end: u64) -> Overlap {
        let mut met = self
            .writes
            .range(..end)
            .rev()
            .take_while(|(start, data)| start.saturating_add(data.len() as u64) > offset);
        match (met.next(), met.next()) {
            (None, _) => Overlap::None,
            (Some((&start, data)), None)
                if start == offset && start.saturating_add(data.len() as u64) == end =>
            {
                Overlap::Same
            }
            _ => Overlap::Other,
        }
    }
}

/// `from..to` as a slice range, when both fit a `usize`.
fn slice_range(from: u64, to: u64) -> Option<std::ops::Range<usize>> {
    Some(usize::try_from(from).ok()?..usize::try_from(to).ok()?)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation
    )]

    use std::sync::Mutex;

    use redb::StorageBackend;

    use super::*;

    /// A disk that keeps its bytes and the writes it was given, in order;
    /// it can fail the next write at one offset, and announce a write and
    /// take its time before its bytes land.
    #[derive(Debug, Default)]
    struct Disk {
        bytes: Mutex<Vec<u8>>,
        writes: Mutex<Vec<(u64, usize)>>,
        fail_at: Mutex<Option<u64>>,
        announce: Mutex<Option<std::sync::mpsc::Sender<()>>>,
    }

    impl Disk {
        fn writes(&self) -> Vec<(u64, usize)> {
            self.writes.lock().unwrap().clone()
        }
        fn bytes(&self) -> Vec<u8> {
            self.bytes.lock().unwrap().clone()
        }
    }

    impl redb::StorageBackend for Disk {
        fn len(&self) -> std::io::Result<u64> {
            Ok(self.bytes.lock().unwrap().len() as u64)
        }
        fn read(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
            let bytes = self.bytes.lock().unwrap();
            let start = offset as usize;
            out.copy_from_slice(&bytes[start..start + out.len()]);
            Ok(())
        }
        fn set_len(&self, len: u64) -> std::io::Result<()> {
            self.bytes.lock().unwrap().resize(len as usize, 0);
            Ok(())
        }
        fn sync_data(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
            if *self.fail_at.lock().unwrap() == Some(offset) {
                *self.fail_at.lock().unwrap() = None;
                return Err(std::io::Error::other("the disk failed a write"));
            }
            if let Some(started) = self.announce.lock().unwrap().take() {
                started.send(()).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            let mut bytes = self.bytes.lock().unwrap();
            let start = offset as usize;
            if bytes.len() < start + data.len() {
                bytes.resize(start + data.len(), 0);
            }
            bytes[start..start + data.len()].copy_from_slice(data);
            self.writes.lock().unwrap().push((offset, data.len()));
            Ok(())
        }
    }

    const P: usize = PAGE as usize;

    /// `pages` pages filled with `byte`.
    fn pages(pages: usize, byte: u8) -> Vec<u8> {
        vec![byte; pages * P]
    }

    /// Page `n`'s offset.
    fn at(n: u64) -> u64 {
        n * PAGE
    }

    /// Whether every byte of `bytes` is `byte`.
    fn filled(bytes: &[u8], byte: u8) -> bool {
        bytes.iter().all(|&b| b == byte)
    }

    #[test]
    fn only_whole_pages_past_the_floor_are_held() {
        assert!(WriteRuns::holds(at(1), P, at(1)));
        assert!(WriteRuns::holds(at(3), 4 * P, at(1)));
        assert!(!WriteRuns::holds(0, P, at(1)), "below the floor");
        assert!(!WriteRuns::holds(at(1), 320, at(1)), "part of a page");
        assert!(!WriteRuns::holds(at(1) + 512, P, at(1)), "not at a page");
        assert!(!WriteRuns::holds(at(1), 0, at(1)), "empty");
    }

    #[test]
    fn adjacent_held_pages_reach_the_backend_as_one_write() {
        let disk = Disk::default();
        let runs = WriteRuns::default();
        for (n, byte) in [(3, 3), (1, 1), (7, 7), (2, 2), (8, 8)] {
            runs.hold(at(n), &pages(1, byte), &disk).unwrap();
        }
        assert_eq!(disk.writes(), [], "nothing written before write_out");
        runs.write_out(&disk).unwrap();
        assert_eq!(disk.writes(), [(at(1), 3 * P), (at(7), 2 * P)]);
        let bytes = disk.bytes();
        for (n, byte) in [(1, 1), (2, 2), (3, 3), (7, 7), (8, 8)] {
            assert!(filled(&bytes[n * P..(n + 1) * P], byte), "page {n}");
        }
        runs.write_out(&disk).unwrap();
        assert_eq!(disk.writes().len(), 2, "a second write_out writes nothing");
    }

    #[test]
    fn runs_are_cut_at_their_largest_size() {
        let disk = Disk::default();
        let runs = WriteRuns::default();
        let per_run = RUN_MAX / P;
        for n in 0..(2 * per_run + 3) {
            runs.hold(at(n as u64), &pages(1, 9), &disk).unwrap();
        }
        runs.write_out(&disk).unwrap();
        assert_eq!(
            disk.writes(),
            [
                (0, RUN_MAX),
                (RUN_MAX as u64, RUN_MAX),
                (2 * RUN_MAX as u64, 3 * P)
            ]
        );
    }

    #[test]
    fn reads_see_held_pages_over_the_backends_bytes() {
        let disk = Disk::default();
        disk.write(0, &pages(4, 0xAA)).unwrap();
        let runs = WriteRuns::default();
        runs.hold(at(1), &pages(1, 0x11), &disk).unwrap();
        runs.hold(at(3), &pages(1, 0x33), &disk).unwrap();
        // From the middle of page 0 to the middle of page 3.
        let mut out = vec![0; 3 * P];
        runs.read(at(0) + P as u64 / 2, &mut out, &disk).unwrap();
        let half = P / 2;
        assert!(filled(&out[..half], 0xAA), "page 0 from the disk");
        assert!(filled(&out[half..half + P], 0x11), "page 1 held");
        assert!(
            filled(&out[half + P..half + 2 * P], 0xAA),
            "page 2 from the disk"
        );
        assert!(filled(&out[half + 2 * P..], 0x33), "page 3 held");
        // A read inside one held page.
        let mut inside = vec![0; 100];
        runs.read(at(1) + 10, &mut inside, &disk).unwrap();
        assert!(filled(&inside, 0x11));
    }

    #[test]
    fn a_second_write_of_the_same_pages_replaces_the_held_one() {
        let disk = Disk::default();
        let runs = WriteRuns::default();
        runs.hold(at(2), &pages(2, 1), &disk).unwrap();
        runs.hold(at(2), &pages(2, 2), &disk).unwrap();
        runs.write_out(&disk).unwrap();
        assert_eq!(disk.writes(), [(at(2), 2 * P)]);
        assert!(filled(&disk.bytes()[2 * P..], 2));
    }

    #[test]
    fn an_overlapping_write_of_another_size_sends_the_held_ones_first() {
        let disk = Disk::default();
        let runs = WriteRuns::default();
        runs.hold(at(2), &pages(2, 1), &disk).unwrap();
        runs.hold(at(9), &pages(1, 5), &disk).unwrap();
        // One page inside the held two: the two go to the disk first, so
        // the later bytes win there as they would have.
        runs.hold(at(3), &pages(1, 2), &disk).unwrap();
        assert_eq!(disk.writes(), [(at(2), 2 * P), (at(9), P)]);
        runs.write_out(&disk).unwrap();
        assert_eq!(disk.writes().last(), Some(&(at(3), P)));
        let bytes = disk.bytes();
        assert!(filled(&bytes[2 * P..3 * P], 1));
        assert!(filled(&bytes[3 * P..4 * P], 2));
        // Two pages over two held pages: the held ones go out (as one
        // run), then the two.
        let before = disk.writes().len();
        runs.hold(at(5), &pages(1, 6), &disk).unwrap();
        runs.hold(at(6), &pages(1, 7), &disk).unwrap();
        runs.hold(at(5), &pages(2, 8), &disk).unwrap();
        runs.write_out(&disk).unwrap();
        assert_eq!(disk.writes()[before..], [(at(5), 2 * P), (at(5), 2 * P)]);
        assert!(filled(&disk.bytes()[5 * P..7 * P], 8));
    }

    #[test]
    fn past_the_bound_the_held_writes_go_out_and_holding_stops_until_a_sync() {
        let disk = Disk::default();
        let runs = WriteRuns::default();
        let page = pages(1, 4);
        let bound = (HELD_MAX / P) as u64;
        for n in 0..bound {
            runs.hold(at(n), &page, &disk).unwrap();
        }
        assert_eq!(disk.writes(), [], "up to the bound, all held");
        assert!(runs.holding());
        runs.hold(at(bound), &page, &disk).unwrap();
        let written: usize = disk.writes().iter().map(|&(_, len)| len).sum();
        assert_eq!(written, HELD_MAX + P, "past it, everything written");
        assert!(disk.writes().iter().all(|&(_, len)| len <= RUN_MAX));
        assert!(!runs.holding(), "the rest of the commit is not held");
        runs.synced();
        assert!(runs.holding(), "the next commit is");
    }

    #[test]
    fn a_failed_write_leaves_its_run_and_the_later_ones_held() {
        let disk = Disk::default();
        disk.set_len(at(10)).unwrap();
        let runs = WriteRuns::default();
        runs.hold(at(1), &pages(2, 1), &disk).unwrap();
        runs.hold(at(5), &pages(1, 5), &disk).unwrap();
        runs.hold(at(9), &pages(1, 9), &disk).unwrap();
        *disk.fail_at.lock().unwrap() = Some(at(5));
        assert!(runs.write_out(&disk).is_err());
        assert_eq!(disk.writes(), [(at(1), 2 * P)], "the run before landed");
        let mut out = vec![0; P];
        runs.read(at(5), &mut out, &disk).unwrap();
        assert!(filled(&out, 5), "the failed run is still read");
        runs.read(at(9), &mut out, &disk).unwrap();
        assert!(filled(&out, 9), "and the one after it");
        runs.write_out(&disk).unwrap();
        assert_eq!(disk.writes()[1..], [(at(5), P), (at(9), P)], "tried again");
        runs.write_out(&disk).unwrap();
        assert_eq!(disk.writes().len(), 3, "then nothing is held");
    }

    /// A read on another thread while held writes are being written waits
    /// for them, then finds their bytes in the backend.
    #[test]
    fn a_read_during_a_write_out_sees_the_written_bytes() {
        let disk = Disk::default();
        disk.write(0, &pages(4, 0xAA)).unwrap();
        let runs = WriteRuns::default();
        runs.hold(at(2), &pages(1, 0x22), &disk).unwrap();
        let (started, write_began) = std::sync::mpsc::channel();
        *disk.announce.lock().unwrap() = Some(started);
        std::thread::scope(|threads| {
            let writer = threads.spawn(|| runs.write_out(&disk));
            write_began.recv().unwrap();
            let mut out = vec![0; P];
            runs.read(at(2), &mut out, &disk).unwrap();
            assert!(filled(&out, 0x22), "not the disk's old bytes");
            writer.join().unwrap().unwrap();
        });
    }
}
