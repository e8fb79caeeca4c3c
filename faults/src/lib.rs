//! A simulated disk for testing rosterdb under storage faults and power loss.
//!
//! [`FaultyDisk`] is a [`rosterdb::StorageBackend`] that keeps two images of
//! the store file: the *durable* image (what the last successful
//! `sync_data` made durable) and the *current* image (the durable one plus
//! every write and length change made since, in order: what reads see).
//! A power loss keeps the durable image and any subset of the writes not
//! yet synced, each write's 4 KiB sectors apart ([`SECTOR`]), which is
//! what [`FaultyDisk::crash`] hands back, as a fresh disk to reopen the
//! store from.
//!
//! The disk is a cloneable handle: give one clone to
//! [`rosterdb::Store::open_with_backend`] and keep another to count calls
//! ([`FaultyDisk::counts`]), arm faults after the store is open
//! ([`FaultyDisk::arm`]), and crash ([`FaultyDisk::crash`]).
//!
//! A [`Fault`] either fails one call with an [`std::io::Error`] and changes
//! nothing (later calls work again), cuts the power at one call (it and
//! every later call fail until the disk is crashed), or tears one write:
//! only a prefix of its bytes lands, then the power goes out. Faults count
//! calls of one kind from the moment they are armed: `nth: 0` is the next
//! such call.
//!
//! To test what concurrent callers see while a sync is under way, syncs
//! can be held ([`FaultyDisk::hold_syncs`]: each waits until
//! [`FaultyDisk::release_syncs`]) or slowed ([`FaultyDisk::set_sync_delay`],
//! like a real disk's flush, so that concurrent writers pile up). A sync
//! makes durable only the changes made before it was called, as
//! `fdatasync` promises: one made while it waits stays unsynced.
//!
//! What rosterdb does with a failed call (see `faults/tests/faults.rs`):
//! the call that made it fails with `Error::Storage`, and redb latches the
//! failure, so the store refuses every later write (and every read its
//! page cache cannot serve) with `Storage`. Drop it and reopen from
//! [`FaultyDisk::crash`] (or from the same disk, which is a crash where
//! every unsynced change survived): the store opens holding the last
//! committed state, or the failed commit's in full when its header write
//! had landed before the failure.
//!
//! A model test or fuzz target typically opens a store on a clone of the
//! disk, runs operations against the store and a model side by side, arms
//! a fault at a chosen call (e.g. `Fault::Fail { call: Call::Write, nth }`
//! with `nth` taken from the input), and when an operation fails with
//! `Storage`, drops the store, reopens from `disk.crash(&survivors)` and
//! checks the store equals the model before or after that operation.
//!
//! ```
//! use rosterdb::{NewRole, Options, Store};
//! use rosterdb_faults::{Call, Fault, FaultyDisk, Survivors};
//!
//! let disk = FaultyDisk::new();
//! let store = Store::open_with_backend(disk.clone(), Options::default())?;
//! // Fail the next sync: the commit reports `Storage`.
//! disk.arm(Fault::Fail { call: Call::SyncData, nth: 0 });
//! let result = store.roles().create(NewRole::new("admins"));
//! assert!(matches!(result, Err(rosterdb::Error::Storage { .. })));
//! assert_eq!(disk.fired(), 1);
//! drop(store);
//! // The power goes out: only what was synced survives.
//! let store = Store::open_with_backend(disk.crash(&Survivors::None), Options::default())?;
//! assert!(store.check()?.ok);
//! # Ok::<(), rosterdb::Error>(())
//! ```

use std::fmt;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Store options with the cheapest Argon2id cost (8 KiB, one pass, one
/// lane), so tests on a faulty disk spend no time hashing.
pub fn cheap_options() -> rosterdb::Options {
    rosterdb::Options::default().with_argon2(rosterdb::Argon2Params {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    })
}

/// A store on the faulty disk `store` with its write-ahead log on the
/// faulty disk `log` ([`rosterdb::Store::open_with_backend_and_log`]),
/// with [`cheap_options`].
///
/// # Errors
///
/// What opening the store raises.
pub fn open_with_log(store: &FaultyDisk, log: &FaultyDisk) -> rosterdb::Result<rosterdb::Store> {
    rosterdb::Store::open_with_backend_and_log(store.clone(), log.clone(), cheap_options())
}

/// A kind of call the store makes on its backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    /// `len`: the file's length.
    Len,
    /// `read`: bytes at an offset.
    Read,
    /// `write`: bytes at an offset (not durable until the next sync).
    Write,
    /// `sync_data`: makes every earlier write and length change durable.
    SyncData,
    /// `set_len`: grows (with zeros) or shrinks the file.
    SetLen,
}

impl Call {
    /// Every kind of call, in the order [`Counts`] lists them.
    pub const ALL: [Call; 5] = [
        Call::Len,
        Call::Read,
        Call::Write,
        Call::SyncData,
        Call::SetLen,
    ];

    /// The call's name as the backend trait spells it (`sync_data`, …).
    pub fn name(self) -> &'static str {
        match self {
            Call::Len => "len",
            Call::Read => "read",
            Call::Write => "write",
            Call::SyncData => "sync_data",
            Call::SetLen => "set_len",
        }
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How many calls of each kind a disk has received (failed ones included),
/// since it was made or crashed into being.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `len` calls.
    pub len: u64,
    /// `read` calls.
    pub reads: u64,
    /// `write` calls.
    pub writes: u64,
    /// `sync_data` calls.
    pub syncs: u64,
    /// `set_len` calls.
    pub set_lens: u64,
}

impl Counts {
    /// The count of one kind of call.
    pub fn get(&self, call: Call) -> u64 {
        match call {
            Call::Len => self.len,
            Call::Read => self.reads,
            Call::Write => self.writes,
            Call::SyncData => self.syncs,
            Call::SetLen => self.set_lens,
        }
    }

    fn bump(&mut self, call: Call) -> u64 {
        let slot = match call {
            Call::Len => &mut self.len,
            Call::Read => &mut self.reads,
            Call::Write => &mut self.writes,
            Call::SyncData => &mut self.syncs,
            Call::SetLen => &mut self.set_lens,
        };
        let index = *slot;
        *slot = slot.saturating_add(1);
        index
    }

    /// The calls made after `earlier` was read (each count minus
    /// `earlier`'s, never below zero): what one operation cost.
    pub fn since(&self, earlier: &Counts) -> Counts {
        Counts {
            len: self.len.saturating_sub(earlier.len),
            reads: self.reads.saturating_sub(earlier.reads),
            writes: self.writes.saturating_sub(earlier.writes),
            syncs: self.syncs.saturating_sub(earlier.syncs),
            set_lens: self.set_lens.saturating_sub(earlier.set_lens),
        }
    }
}

/// A fault to inject into one call, counted from when it is armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The `nth` call of kind `call` after arming (0 = the next one) fails
    /// with an `io::Error` (kind `Other`) and changes nothing; later calls
    /// work again, as after a transient `EIO`.
    Fail {
        /// The kind of call to fail.
        call: Call,
        /// Which one: 0 is the next call of that kind.
        nth: u64,
    },
    /// The `nth` call of kind `call` after arming (0 = the next one) fails
    /// and the power goes out: nothing of it lands, and it and every later
    /// call fail until the disk is crashed (a power loss during that call).
    PowerLoss {
        /// The kind of call the power goes out at.
        call: Call,
        /// Which one: 0 is the next call of that kind.
        nth: u64,
    },
    /// The `nth` write after arming (0 = the next one) writes only its first
    /// `keep` bytes (all of them when it has fewer), then the power goes
    /// out: that write and every later call fail (see
    /// [`FaultyDisk::is_powered_off`]). The torn prefix counts as a write
    /// not yet synced, which [`FaultyDisk::crash`] may keep.
    Tear {
        /// Which write: 0 is the next one.
        nth: u64,
        /// How many of its leading bytes land.
        keep: usize,
    },
}

/// The unit a power loss keeps or loses: each write is recorded as one
/// [`Unsynced::Write`] per 4 KiB sector it touches (rosterdb's store
/// writes runs of adjacent pages in one call, of which a disk may keep
/// any pages).
pub const SECTOR: u64 = 4096;

/// A change made since the last sync, kept apart from the durable image:
/// a write's bytes within one [`SECTOR`], or a length change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unsynced {
    /// `data` written at byte `offset`.
    Write {
        /// The byte offset.
        offset: u64,
        /// The bytes written (for a torn write, the prefix that landed).
        data: Vec<u8>,
    },
    /// The file's length set to this many bytes.
    SetLen(u64),
}

/// Which unsynced changes survive a [`FaultyDisk::crash`], on top of the
/// durable image. Indexes are positions in [`FaultyDisk::unsynced`]
/// (oldest first); they are applied in their original order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Survivors {
    /// Only the durable image: the power went out before anything more
    /// reached the disk.
    None,
    /// Every unsynced change, as if the disk had flushed all of them.
    All,
    /// The oldest `n` unsynced changes (all of them when there are fewer).
    Prefix(usize),
    /// The unsynced changes at these positions (in any order; positions
    /// past the end are ignored): the disk reordered its writes.
    Only(Vec<usize>),
}

/// A simulated disk with power loss and injected I/O faults, shared through
/// cloneable handles (see the crate documentation).
#[derive(Clone, Default)]
pub struct FaultyDisk {
    state: Arc<Mutex<State>>,
    /// Holds or slows syncs, apart from `state` so that other calls go on
    /// while a sync waits.
    syncs: Arc<SyncGate>,
}

/// Whether syncs are held, how many wait, and how long each takes.
#[derive(Default)]
struct SyncGate {
    gate: Mutex<Gate>,
    released: Condvar,
}

#[derive(Default)]
struct Gate {
    held: bool,
    waiting: usize,
    delay: Duration,
}

impl SyncGate {
    fn lock(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits while syncs are held, then for the sync delay.
    fn pass(&self) {
        let mut gate = self.lock();
        gate.waiting = gate.waiting.saturating_add(1);
        while gate.held {
            gate = self
                .released
                .wait(gate)
                .unwrap_or_else(PoisonError::into_inner);
        }
        gate.waiting = gate.waiting.saturating_sub(1);
        let delay = gate.delay;
        drop(gate);
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
    }
}

#[derive(Default)]
struct State {
    /// What the last successful `sync_data` made durable.
    durable: Vec<u8>,
    /// `durable` with every change in `unsynced` applied: what reads see.
    current: Vec<u8>,
    /// Writes and length changes since the last successful sync, oldest first.
    unsynced: Vec<Unsynced>,
    /// How many changes were ever recorded, and how many of them a sync
    /// has made durable (or a crash dropped): a sync covers the changes
    /// recorded before it was called, not those made while it waits.
    recorded: u64,
    flushed: u64,
    counts: Counts,
    /// Armed faults, each with the absolute index of the call it hits.
    armed: Vec<(Fault, u64)>,
    fired: u64,
    powered_off: bool,
}

impl fmt::Debug for FaultyDisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("FaultyDisk")
            .field("durable_len", &state.durable.len())
            .field("current_len", &state.current.len())
            .field("unsynced", &state.unsynced.len())
            .field("counts", &state.counts)
            .field("armed", &state.armed.len())
            .field("fired", &state.fired)
            .field("powered_off", &state.powered_off)
            .finish()
    }
}

impl FaultyDisk {
    /// An empty disk (a 0-byte file), powered on, with no fault armed.
    pub fn new() -> FaultyDisk {
        FaultyDisk::default()
    }

    /// A disk whose durable image is `image` (e.g. the bytes of a store
    /// file), powered on, with no fault armed.
    pub fn from_image(image: Vec<u8>) -> FaultyDisk {
        let state = State {
            current: image.clone(),
            durable: image,
            ..State::default()
        };
        FaultyDisk {
            state: Arc::new(Mutex::new(state)),
            syncs: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread cannot leave the images half-updated (each
        // change is applied before the guard drops), so read through poison.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The calls received so far (failed ones included).
    pub fn counts(&self) -> Counts {
        self.lock().counts
    }

    /// Arms `fault`; several may be armed at once. It fires at most once.
    pub fn arm(&self, fault: Fault) {
        let mut state = self.lock();
        let (call, nth) = match fault {
            Fault::Fail { call, nth } | Fault::PowerLoss { call, nth } => (call, nth),
            Fault::Tear { nth, .. } => (Call::Write, nth),
        };
        let at = state.counts.get(call).saturating_add(nth);
        state.armed.push((fault, at));
    }

    /// Holds every `sync_data` call made from now on until
    /// [`FaultyDisk::release_syncs`]: each waits, having changed nothing
    /// (not even the counts), while other calls go on.
    pub fn hold_syncs(&self) {
        self.syncs.lock().held = true;
    }

    /// Lets the held `sync_data` calls, and later ones, go on.
    pub fn release_syncs(&self) {
        self.syncs.lock().held = false;
        self.syncs.released.notify_all();
    }

    /// How many `sync_data` calls are waiting (held, see
    /// [`FaultyDisk::hold_syncs`]).
    pub fn syncs_waiting(&self) -> usize {
        self.syncs.lock().waiting
    }

    /// Makes every later `sync_data` call take `delay` (before it counts
    /// and takes effect), as a real disk's flush takes time.
    pub fn set_sync_delay(&self, delay: Duration) {
        self.syncs.lock().delay = delay;
    }

    /// Removes every armed fault that has not fired.
    pub fn disarm(&self) {
        self.lock().armed.clear();
    }

    /// How many armed faults have fired so far.
    pub fn fired(&self) -> u64 {
        self.lock().fired
    }

    /// Whether the power is out (after a torn write or [`FaultyDisk::power_off`]):
    /// then every call fails until the disk is crashed.
    pub fn is_powered_off(&self) -> bool {
        self.lock().powered_off
    }

    /// Cuts the power now: every later call fails.
    pub fn power_off(&self) {
        self.lock().powered_off = true;
    }

    /// The bytes reads see now: the durable image plus every unsynced change.
    pub fn image(&self) -> Vec<u8> {
        self.lock().current.clone()
    }

    /// The bytes the last successful sync made durable.
    pub fn durable_image(&self) -> Vec<u8> {
        self.lock().durable.clone()
    }

    /// The changes made since the last successful sync, oldest first.
    pub fn unsynced(&self) -> Vec<Unsynced> {
        self.lock().unsynced.clone()
    }

    /// What the disk holds after a power loss: a fresh disk (powered on, no
    /// fault armed, counts at zero) whose durable image is this disk's
    /// durable image with the chosen unsynced changes applied in order.
    /// This disk is left as it is.
    pub fn crash(&self, survivors: &Survivors) -> FaultyDisk {
        let state = self.lock();
        let mut image = state.durable.clone();
        for (i, change) in state.unsynced.iter().enumerate() {
            let kept = match survivors {
                Survivors::None => false,
                Survivors::All => true,
                Survivors::Prefix(n) => i < *n,
                Survivors::Only(chosen) => chosen.contains(&i),
            };
            if kept {
                apply(&mut image, change);
            }
        }
        drop(state);
        FaultyDisk::from_image(image)
    }
}

impl State {
    /// Counts a call of kind `call`, then fails it when the power is out or
    /// an armed fault hits it; for a write an armed tear hits, returns how
    /// many bytes land.
    fn enter(&mut self, call: Call) -> io::Result<Option<usize>> {
        let index = self.counts.bump(call);
        if self.powered_off {
            return Err(io::Error::other(format!(
                "rosterdb-faults: {call} #{index} after the power went out"
            )));
        }
        let Some(position) = self.armed.iter().position(|(fault, at)| {
            *at == index
                && match fault {
                    Fault::Fail { call: c, .. } | Fault::PowerLoss { call: c, .. } => *c == call,
                    Fault::Tear { .. } => call == Call::Write,
                }
        }) else {
            return Ok(None);
        };
        let (fault, _) = self.armed.swap_remove(position);
        self.fired = self.fired.saturating_add(1);
        match fault {
            Fault::Fail { .. } => Err(io::Error::other(format!(
                "rosterdb-faults: injected failure of {call} #{index}"
            ))),
            Fault::PowerLoss { .. } => {
                self.powered_off = true;
                Err(io::Error::other(format!(
                    "rosterdb-faults: the power went out at {call} #{index}"
                )))
            }
            Fault::Tear { keep, .. } => Ok(Some(keep)),
        }
    }

    /// Records an unsynced change and applies it to what reads see.
    fn change(&mut self, change: Unsynced) {
        apply(&mut self.current, &change);
        self.unsynced.push(change);
        self.recorded = self.recorded.saturating_add(1);
    }
}

/// Applies one change to an image: a write past the end extends it with
/// zeros, as a file does.
fn apply(image: &mut Vec<u8>, change: &Unsynced) {
    match change {
        Unsynced::SetLen(len) => {
            // `set_len` refused lengths that do not fit before recording one.
            if let Ok(len) = usize::try_from(*len) {
                image.resize(len, 0);
            }
        }
        Unsynced::Write { offset, data } => {
            let Some(start) = usize::try_from(*offset).ok() else {
                return;
            };
            let Some(end) = start.checked_add(data.len()) else {
                return;
            };
            if image.len() < end {
                image.resize(end, 0);
            }
            if let Some(target) = image.get_mut(start..end) {
                target.copy_from_slice(data);
            }
        }
    }
}

fn out_of_range(what: &str, offset: u64, len: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("rosterdb-faults: {what} of {len} bytes at {offset} is past the end"),
    )
}

/// Refuses a change that would reach past what memory can address.
fn fits(what: &str, offset: u64, len: usize) -> io::Result<()> {
    usize::try_from(offset)
        .ok()
        .and_then(|start| start.checked_add(len))
        .map(drop)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "rosterdb-faults: {what} of {len} bytes at {offset} does not fit in memory"
                ),
            )
        })
}

impl rosterdb::StorageBackend for FaultyDisk {
    fn len(&self) -> io::Result<u64> {
        let mut state = self.lock();
        state.enter(Call::Len)?;
        Ok(state.current.len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let mut state = self.lock();
        state.enter(Call::Read)?;
        let source = usize::try_from(offset)
            .ok()
            .and_then(|start| Some(start..start.checked_add(out.len())?))
            .and_then(|range| state.current.get(range))
            .ok_or_else(|| out_of_range("read", offset, out.len()))?;
        out.copy_from_slice(source);
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut state = self.lock();
        state.enter(Call::SetLen)?;
        fits("set_len", len, 0)?;
        state.change(Unsynced::SetLen(len));
        Ok(())
    }

    /// Makes durable the changes made before the call, as `fdatasync`
    /// promises: a write made while the sync waits (held or slowed) stays
    /// unsynced, since a real disk may flush it or not.
    fn sync_data(&self) -> io::Result<()> {
        let covered = self.lock().recorded;
        self.syncs.pass();
        let mut state = self.lock();
        state.enter(Call::SyncData)?;
        let n = usize::try_from(covered.saturating_sub(state.flushed))
            .unwrap_or(usize::MAX)
            .min(state.unsynced.len());
        let done: Vec<Unsynced> = state.unsynced.drain(..n).collect();
        for change in &done {
            apply(&mut state.durable, change);
        }
        state.flushed = state
            .flushed
            .saturating_add(u64::try_from(done.len()).unwrap_or(u64::MAX));
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut state = self.lock();
        let tear = state.enter(Call::Write)?;
        fits("write", offset, data.len())?;
        let landed = match tear {
            Some(keep) => data.get(..keep).unwrap_or(data),
            None => data,
        };
        // One change per sector the write touches: a disk may keep any of
        // a write's sectors and lose the others.
        let mut at = offset;
        let mut rest = landed;
        while !rest.is_empty() {
            let room = SECTOR.saturating_sub(at.checked_rem(SECTOR).unwrap_or(0));
            let (piece, after) = rest.split_at(rest.len().min(room as usize));
            state.change(Unsynced::Write {
                offset: at,
                data: piece.to_vec(),
            });
            at = at.saturating_add(room);
            rest = after;
        }
        if tear.is_some() {
            state.powered_off = true;
            return Err(io::Error::other(format!(
                "rosterdb-faults: write of {} bytes at {offset} torn after {} bytes; \
                 the power went out",
                data.len(),
                landed.len()
            )));
        }
        Ok(())
    }

    fn close(&self) -> io::Result<()> {
        if self.lock().powered_off {
            return Err(io::Error::other(
                "rosterdb-faults: close after the power went out",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rosterdb::StorageBackend;

    use super::*;

    #[test]
    fn unsynced_writes_are_read_but_not_durable() {
        let disk = FaultyDisk::new();
        disk.set_len(8).unwrap();
        disk.write(2, b"ab").unwrap();
        let mut out = [0u8; 4];
        disk.read(1, &mut out).unwrap();
        assert_eq!(&out, b"\0ab\0");
        assert!(disk.durable_image().is_empty());
        assert_eq!(disk.unsynced().len(), 2);
        disk.sync_data().unwrap();
        assert_eq!(disk.durable_image(), b"\0\0ab\0\0\0\0");
        assert!(disk.unsynced().is_empty());
        assert!(disk.read(6, &mut out).is_err());
    }

    #[test]
    fn a_crash_keeps_the_durable_image_and_the_chosen_writes() {
        let disk = FaultyDisk::from_image(b"0000".to_vec());
        disk.write(0, b"a").unwrap();
        disk.write(1, b"b").unwrap();
        disk.write(6, b"c").unwrap();
        assert_eq!(disk.crash(&Survivors::None).image(), b"0000");
        assert_eq!(disk.crash(&Survivors::Prefix(1)).image(), b"a000");
        assert_eq!(disk.crash(&Survivors::Only(vec![1, 9])).image(), b"0b00");
        assert_eq!(disk.crash(&Survivors::All).image(), b"ab00\0\0c");
        let fresh = disk.crash(&Survivors::All);
        assert_eq!(fresh.counts(), Counts::default());
        assert_eq!(fresh.durable_image(), b"ab00\0\0c");
    }

    #[test]
    fn a_crash_may_keep_any_sector_of_a_write() {
        let sector = SECTOR as usize;
        let disk = FaultyDisk::from_image(vec![0; 4 * sector]);
        // From the middle of sector 0 to the end of sector 2: three changes.
        let data = vec![9; 2 * sector + sector / 2];
        disk.write(SECTOR / 2, &data).unwrap();
        let offsets: Vec<u64> = disk
            .unsynced()
            .iter()
            .map(|c| match c {
                Unsynced::Write { offset, .. } => *offset,
                Unsynced::SetLen(_) => panic!("a length change"),
            })
            .collect();
        assert_eq!(offsets, [SECTOR / 2, SECTOR, 2 * SECTOR]);
        assert_eq!(disk.image()[sector / 2..3 * sector], data[..]);
        // Only the middle sector survives.
        let image = disk.crash(&Survivors::Only(vec![1])).image();
        assert!(image[..sector].iter().all(|&b| b == 0));
        assert!(image[sector..2 * sector].iter().all(|&b| b == 9));
        assert!(image[2 * sector..].iter().all(|&b| b == 0));
    }

    #[test]
    fn a_failure_hits_only_the_armed_call_and_changes_nothing() {
        let disk = FaultyDisk::from_image(vec![0; 4]);
        disk.write(0, b"x").unwrap();
        disk.arm(Fault::Fail {
            call: Call::Write,
            nth: 1,
        });
        disk.write(1, b"y").unwrap();
        assert!(disk.write(2, b"z").is_err());
        disk.write(3, b"w").unwrap();
        assert_eq!(disk.image(), b"xy\0w");
        assert_eq!(disk.fired(), 1);
        assert_eq!(disk.counts().writes, 4);
        disk.arm(Fault::Fail {
            call: Call::SyncData,
            nth: 0,
        });
        assert!(disk.sync_data().is_err());
        assert_eq!(disk.durable_image(), vec![0; 4]);
        disk.sync_data().unwrap();
        assert_eq!(disk.durable_image(), b"xy\0w");
        for call in [Call::Read, Call::SetLen, Call::Len] {
            disk.arm(Fault::Fail { call, nth: 0 });
        }
        assert!(disk.read(0, &mut [0u8; 1]).is_err());
        assert!(disk.set_len(1).is_err());
        assert!(disk.len().is_err());
        assert_eq!(disk.len().unwrap(), 4);
        assert!(!disk.is_powered_off());
    }

    #[test]
    fn a_torn_write_lands_a_prefix_and_cuts_the_power() {
        let disk = FaultyDisk::from_image(vec![0; 6]);
        disk.arm(Fault::Tear { nth: 0, keep: 2 });
        assert!(disk.write(0, b"abcd").is_err());
        assert!(disk.is_powered_off());
        assert!(disk.len().is_err());
        assert!(disk.sync_data().is_err());
        assert!(disk.close().is_err());
        assert_eq!(disk.crash(&Survivors::None).image(), vec![0; 6]);
        let after = disk.crash(&Survivors::All);
        assert_eq!(after.image(), b"ab\0\0\0\0");
        assert!(!after.is_powered_off());
        assert_eq!(after.len().unwrap(), 6);
    }

    #[test]
    fn a_power_loss_fails_the_call_and_every_later_one() {
        let disk = FaultyDisk::from_image(vec![0; 4]);
        disk.write(0, b"a").unwrap();
        disk.arm(Fault::PowerLoss {
            call: Call::SyncData,
            nth: 0,
        });
        assert!(disk.sync_data().is_err());
        assert!(disk.is_powered_off());
        assert!(disk.write(1, b"b").is_err());
        assert_eq!(disk.durable_image(), vec![0; 4]);
        assert_eq!(disk.unsynced().len(), 1);
        assert_eq!(disk.crash(&Survivors::All).image(), b"a\0\0\0");
    }

    #[test]
    fn a_held_sync_waits_for_its_release_while_other_calls_go_on() {
        let disk = FaultyDisk::from_image(vec![0; 4]);
        disk.write(0, b"a").unwrap();
        disk.hold_syncs();
        let syncing = disk.clone();
        let sync = std::thread::spawn(move || syncing.sync_data());
        while disk.syncs_waiting() == 0 {
            std::thread::yield_now();
        }
        disk.write(1, b"b").unwrap();
        assert_eq!(disk.image(), b"ab\0\0");
        assert!(disk.durable_image().iter().all(|&b| b == 0));
        assert_eq!(disk.counts().syncs, 0);
        disk.release_syncs();
        sync.join().unwrap().unwrap();
        // The sync covers the write made before it was called, not the one
        // made while it waited.
        assert_eq!(disk.durable_image(), b"a\0\0\0");
        assert_eq!(disk.unsynced().len(), 1);
        assert_eq!(disk.syncs_waiting(), 0);
        disk.set_sync_delay(Duration::from_millis(1));
        disk.sync_data().unwrap();
        assert_eq!(disk.durable_image(), b"ab\0\0");
        assert_eq!(disk.counts().syncs, 2);
    }

    #[test]
    fn clones_share_one_disk() {
        let disk = FaultyDisk::new();
        let other = disk.clone();
        other.set_len(3).unwrap();
        disk.power_off();
        assert!(other.is_powered_off());
        assert_eq!(disk.counts().set_lens, 1);
        assert!(format!("{disk:?}").contains("current_len: 3"));
    }
}
