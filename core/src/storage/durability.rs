//! Group commit (decision 0013): writers take turns, concurrent writers
//! share one durable commit, and nothing a crash could lose is seen
//! through the API.
//!
//! Every writer holds the turn while its redb write transaction is open.
//! When it commits while other [`Writer::Closure`] writers wait for the
//! turn, its commit is non-durable (`Durability::None`: visible, not yet on
//! disk) and one of the waiting writers takes the turn; the writer that
//! commits when none waits commits durably, which makes every non-durable
//! commit before it durable too (redb persists them with it). Each writer
//! returns only once its commit is durable, and a reader — or a writer
//! that fails — waits until every commit it could have seen is durable, so
//! no caller ever acts on data a crash could lose.
//!
//! Write groups: concurrent grouped writers (the store's own
//! single-operation calls) share one redb write transaction, and the
//! writer holding the turn runs them all (flat combining, decision 0025).
//! A grouped writer that finds the turn taken publishes its operation
//! ([`Request`]) and waits on its [`Ticket`]; the writer holding the turn
//! runs its own operation, then the published ones, one after another in
//! its transaction ([`Turn::next_request`]), commits once for all and hands
//! each member its outcome. A member that fails, or a transaction that ends
//! without committing, sends every member back to run its operation again
//! in a transaction of its own ([`Outcome::Retry`]), so an operation that
//! fails leaves no trace and does not fail its siblings.
//!
//! With a write-ahead log (a file store, decision 0018), every commit is
//! non-durable in redb; under the turn its record is written to the log
//! first, its write-back started, and then redb commits (decision 0027: a
//! commit that fails takes its record back). The turn is given back before
//! the log is synced, and writers whose records were written meanwhile
//! share the next sync ([`Wal::sync`]). A group's
//! members are told its outcome once its record is synced, so each waits
//! once, on its ticket. "Durable" then means "its log record is synced";
//! the rules below are the same.
//!
//! Commits are numbered in turn order. The state keeps the last number
//! handed out, the last durable one, and the last non-durable one
//! (`exposed`): a snapshot may show commits up to `exposed`, and is safe to
//! act on once `durable` reaches it. A durable commit that fails records
//! its number and error: every commit up to it that was not durable then
//! is reported failed (to its writer and to readers that could see it).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, ThreadId};
use std::time::Duration;

use redb::{Database, Durability, WriteTransaction};

use crate::storage::pending::Pending;
use crate::storage::snapshot::Snapshots;
use crate::storage::tx::WriteTx;
use crate::storage::wal::Wal;
use crate::storage::wal::journal::{Captured, Journal};
use crate::{Error, Result};

/// The most non-durable commits one durable commit covers, so that a
/// steady stream of writers still reaches the disk.
const MAX_GROUP: u32 = 64;

/// The most grouped operations one write transaction holds, so
/// that a member's wait (every later member's operation, then the commit)
/// stays short.
pub(crate) const MAX_MEMBERS: usize = 32;

/// How long a grouped writer that finds nobody waiting to follow it waits
/// for one before it commits, while members of the last group have not
/// come back (decision 0016).
const GATHER: Duration = Duration::from_micros(50);

/// How a writer holds its transaction, which decides whether a non-durable
/// commit may count on it to make the group durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Writer {
    /// A [`crate::Store::write`] call, or a grouped writer leading its
    /// group ([`Commits::join`]): its closure runs at once and the
    /// transaction ends with it, so the group's durable commit comes soon.
    Closure,
    /// A transaction from [`crate::Store::begin_write`], held for as long
    /// as its caller wants: it takes the turn only when no group waits for
    /// a durable commit.
    Held,
}

/// The turns and durability of a store's commits, shared by the store and
/// its open write transactions.
pub(crate) struct Commits {
    /// The snapshot kept for single-call reads, dropped as each commit
    /// starts. Declared before `db`: dropped first, no read transaction is
    /// open when the database closes.
    snapshots: Snapshots,
    /// Kept here so that a writer dropped without committing can make the
    /// commits it leaves behind durable (see [`Turn`]'s drop).
    db: Database,
    state: Mutex<State>,
    /// Copies of `State::exposed` and `State::durable`, written under the
    /// lock, so that a snapshot taken while no group is in flight checks
    /// them without taking it.
    exposed: AtomicU64,
    durable: AtomicU64,
    /// Signalled (one waiter at a time, so that a release does not wake
    /// every queued writer) when the turn is given back and a
    /// [`Writer::Closure`] writer waits for it.
    closure_turn: Condvar,
    /// Signalled when a grouped writer publishes its operation while the
    /// writer holding the turn gathers (`State::gathering`).
    arrived: Condvar,
    /// Signalled when the turn is given back and a [`Writer::Held`]
    /// writer waits for it.
    held_turn: Condvar,
    /// Signalled when `durable` moves or a durable commit fails.
    synced: Condvar,
    /// The write-ahead log of a file store (decision 0018): each commit is
    /// made in redb without durability and made durable by its log record.
    wal: Option<Wal>,
}

#[derive(Default)]
struct State {
    /// The thread whose writer holds the turn, when one does.
    holder: Option<ThreadId>,
    /// Whether a writer holds the turn.
    held: bool,
    /// [`Writer::Closure`] writers and published grouped operations
    /// waiting for the turn.
    queued: usize,
    /// The operations grouped writers published while the turn was taken,
    /// in arrival order (counted in `queued` too): the writer holding the
    /// turn runs them, or the first is woken to take the turn.
    requests: VecDeque<Arc<Request>>,
    /// How many members of the last group that committed have not come
    /// back as grouped writers since (an estimate: any grouped writer that
    /// arrives counts one down).
    returning: usize,
    /// [`Writer::Held`] writers waiting for the turn.
    held_waiting: usize,
    /// Whether the writer holding the turn waits for another grouped
    /// writer to arrive (see [`Turn::next_request`]): only then is an
    /// arrival signalled.
    gathering: bool,
    /// The number given to the last commit (0: none yet).
    last: u64,
    /// Every commit numbered up to this one is durable.
    durable: u64,
    /// The number of the last non-durable commit: snapshots may show every
    /// commit up to it.
    exposed: u64,
    /// Non-durable commits since the last durable one: the open group.
    unsynced: u32,
    /// The last durable commit that failed, and its error: the commits up
    /// to it that were not durable then are lost to the API.
    failed: Option<(u64, Error)>,
}

impl State {
    /// What a caller that may have seen every commit up to `seen` learns:
    /// `Some(Ok)` when they are all durable, `Some(Err)` when a durable
    /// commit covering them failed, `None` while their group is in flight.
    fn outcome(&self, seen: u64) -> Option<Result<()>> {
        if seen <= self.durable {
            return Some(Ok(()));
        }
        match &self.failed {
            Some((at, err)) if *at >= seen => Some(Err(err.clone())),
            _ => None,
        }
    }

    /// Takes the next commit number.
    fn number(&mut self) -> u64 {
        self.last = self.last.saturating_add(1);
        self.last
    }
}

impl Commits {
    /// The commit state of a store whose database is `db`, every commit
    /// before it durable.
    pub(crate) fn new(db: Database, wal: Option<Wal>) -> Commits {
        Commits {
            wal,
            snapshots: Snapshots::new(),
            db,
            state: Mutex::new(State::default()),
            exposed: AtomicU64::new(0),
            durable: AtomicU64::new(0),
            closure_turn: Condvar::new(),
            arrived: Condvar::new(),
            held_turn: Condvar::new(),
            synced: Condvar::new(),
        }
    }

    /// Makes every commit so far durable in the store file and empties the
    /// write-ahead log (when the store keeps one), e.g. before compaction.
    ///
    /// Errors: `Storage` when the durable commit or the log's reset fails.
    pub(crate) fn checkpoint(&mut self) -> Result<()> {
        match &self.wal {
            Some(wal) => wal.checkpoint(&self.db),
            None => Ok(()),
        }
    }

    /// The database, for reads (see [`Commits::await_visible`]).
    pub(crate) fn db(&self) -> &Database {
        &self.db
    }

    /// The snapshot kept for single-call reads (see [`Snapshots`]).
    pub(crate) fn snapshots(&self) -> &Snapshots {
        &self.snapshots
    }

    /// The database to itself (the caller holds the only reference to
    /// these commits, so no write transaction is open), with no kept
    /// snapshot open either.
    pub(crate) fn db_mut(&mut self) -> &mut Database {
        self.snapshots.forget();
        &mut self.db
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No code panics while holding the lock: read through poison.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait_turn<'a>(&self, guard: MutexGuard<'a, State>, writer: Writer) -> MutexGuard<'a, State> {
        let turn = match writer {
            Writer::Closure => &self.closure_turn,
            Writer::Held => &self.held_turn,
        };
        turn.wait(guard).unwrap_or_else(PoisonError::into_inner)
    }

    fn wait_synced<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.synced
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until every commit up to `seen` is durable, or a durable
    /// commit covering it failed (its error).
    fn await_durable(&self, mut state: MutexGuard<'_, State>, seen: u64) -> Result<()> {
        loop {
            if let Some(outcome) = state.outcome(seen) {
                return outcome;
            }
            state = self.wait_synced(state);
        }
    }

    /// Called after a snapshot was taken: waits until every commit the
    /// snapshot may show is durable. The thread holding the turn does not
    /// wait (it is the writer the group waits for); a snapshot taken while
    /// no group is in flight never waits.
    ///
    /// Returns whether every commit the snapshot may show is durable
    /// (false only for the thread holding the turn, which may see its
    /// group's non-durable commits: such a snapshot is not to be shared).
    ///
    /// Fails with the error of a durable commit that failed when the
    /// snapshot may show one of the commits it should have made durable.
    pub(crate) fn await_visible(&self) -> Result<bool> {
        // A commit the snapshot shows set `exposed` before it committed,
        // and redb's own lock orders that commit before the snapshot.
        let exposed = self.exposed.load(Ordering::SeqCst);
        if exposed <= self.durable.load(Ordering::SeqCst) {
            return Ok(true);
        }
        let state = self.lock();
        if state.held && state.holder == Some(thread::current().id()) {
            return Ok(false);
        }
        let seen = state.exposed;
        self.await_durable(state, seen).map(|()| true)
    }

    /// Waits for the turn and opens a write transaction in it, with the
    /// index changes it holds so far (none in a new transaction).
    ///
    /// A [`Writer::Held`] transaction waits until no group waits for its
    /// durable commit, and finds every commit it sees durable: when a
    /// failed durable commit left non-durable commits visible, it first
    /// tries to make them durable (and fails with the error if it cannot).
    pub(crate) fn begin(
        self: &Arc<Self>,
        writer: Writer,
    ) -> Result<(WriteTransaction, Pending, Turn)> {
        if let Some(err) = self.wal.as_ref().and_then(Wal::failure) {
            return Err(err);
        }
        let mut state = self.lock();
        match writer {
            Writer::Closure => state.queued = state.queued.saturating_add(1),
            Writer::Held => state.held_waiting = state.held_waiting.saturating_add(1),
        }
        while state.held || (writer == Writer::Held && state.unsynced > 0) {
            state = self.wait_turn(state, writer);
        }
        match writer {
            Writer::Closure => state.queued = state.queued.saturating_sub(1),
            Writer::Held => state.held_waiting = state.held_waiting.saturating_sub(1),
        }
        self.open(state, writer == Writer::Held)
    }

    /// A grouped writer's way in (decision 0025): takes the turn when it is
    /// free ([`Joined::Lead`], with a new write transaction), else
    /// publishes `request` for the writer holding the turn to run and
    /// waits until it ran and its group ended ([`Joined::Ran`]: its ticket
    /// holds the outcome), or until the turn is given back while the
    /// request still waits (then it takes the turn itself).
    ///
    /// Fails as [`Commits::begin`] does.
    pub(crate) fn join(self: &Arc<Self>, request: &Arc<Request>) -> Result<Joined> {
        if let Some(err) = self.wal.as_ref().and_then(Wal::failure) {
            return Err(err);
        }
        let mut state = self.lock();
        state.returning = state.returning.saturating_sub(1);
        if !state.held {
            return Ok(Joined::Lead(Box::new(self.open(state, false)?)));
        }
        state.queued = state.queued.saturating_add(1);
        state.requests.push_back(Arc::clone(request));
        if state.gathering {
            self.arrived.notify_one();
        }
        drop(state);
        loop {
            if request.ticket.await_signal() {
                return Ok(Joined::Ran);
            }
            // Woken: the turn was given back while the request waited.
            let mut state = self.lock();
            let Some(at) = state.requests.iter().position(|r| Arc::ptr_eq(r, request)) else {
                // Taken by the writer that took the turn first: it runs it.
                continue;
            };
            if state.held {
                continue;
            }
            state.requests.remove(at);
            state.queued = state.queued.saturating_sub(1);
            return Ok(Joined::Lead(Box::new(self.open(state, false)?)));
        }
    }

    /// Takes the free turn (`state` locked) and opens a write transaction
    /// in it; `held` for a [`Writer::Held`] transaction.
    fn open(
        self: &Arc<Self>,
        mut state: MutexGuard<'_, State>,
        held: bool,
    ) -> Result<(WriteTransaction, Pending, Turn)> {
        state.held = true;
        state.holder = Some(thread::current().id());
        let seen = state.exposed;
        let stale = seen > state.durable;
        drop(state);
        let mut turn = Turn {
            commits: Arc::clone(self),
            seen,
            released: false,
            committing: None,
            members: Vec::new(),
        };
        if held && stale {
            turn.sync_empty()?;
        }
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let mut pending = Pending::default();
        if self.wal.is_some() {
            pending.journal = Journal::recording();
        }
        Ok((txn, pending, turn))
    }

    /// What a writer whose commit numbered `seq` ended with `result`
    /// (durably or not), in a transaction that could read every commit up
    /// to `seen`, tells its caller: waits until that commit is durable
    /// (`Ok`), or until what it read is (its own error).
    fn settle(&self, seq: u64, durable: bool, result: Result<()>, seen: u64) -> Result<()> {
        match result {
            Ok(()) if durable => Ok(()),
            Ok(()) => self.await_durable(self.lock(), seq),
            Err(err) => {
                // A failed non-durable commit: the writer waiting to follow
                // makes the group durable; what this one read must be first.
                if !durable {
                    self.await_durable(self.lock(), seen)?;
                }
                Err(err)
            }
        }
    }

    /// Records the result of the durable commit numbered `seq` and wakes
    /// the callers waiting for it.
    fn record_sync(&self, state: &mut State, seq: u64, result: &Result<()>) {
        match result {
            Ok(()) => {
                state.durable = state.durable.max(seq);
                self.durable.store(state.durable, Ordering::SeqCst);
            }
            Err(err) => {
                // The latest failure covers every earlier one.
                if state.failed.as_ref().is_none_or(|(at, _)| seq >= *at) {
                    state.failed = Some((seq, err.clone()));
                }
            }
        }
        state.unsynced = 0;
        self.synced.notify_all();
    }

    /// Gives the turn back and wakes a writer waiting for it: one
    /// [`Writer::Closure`] writer and the first published grouped
    /// operation's writer (each release wakes the next, and one woken after
    /// another took the turn waits for that one's release), and every
    /// [`Writer::Held`] one, whose wait also depends on the group.
    fn release(&self, state: &mut State) {
        state.held = false;
        state.holder = None;
        if state.queued > state.requests.len() {
            self.closure_turn.notify_one();
        }
        if let Some(first) = state.requests.front() {
            first.ticket.wake();
        }
        if state.held_waiting > 0 {
            self.held_turn.notify_all();
        }
    }
}

/// How a group ended for a member whose operation the writer holding the
/// turn ran.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    /// The group's commit, numbered `seq`, ended with `result`, durably
    /// or not (then a later commit makes it durable).
    Committed {
        seq: u64,
        durable: bool,
        result: Result<()>,
    },
    /// The group's transaction ended without committing (a later member
    /// failed or panicked, or its commit could not start): nothing of the
    /// member's operation was written; it runs again on its own.
    Retry,
}

/// Where a grouped writer that published its operation waits: for the
/// group's [`Outcome`], or to be woken when the turn is given back while
/// its operation still waits.
pub(crate) struct Ticket {
    signal: Mutex<Signal>,
    ready: Condvar,
}

#[derive(Default)]
struct Signal {
    outcome: Option<Outcome>,
    /// The turn was given back while the operation waited.
    woken: bool,
    /// What the group's transaction may have read (set when the writer
    /// holding the turn takes the operation).
    seen: u64,
}

impl Ticket {
    fn lock(&self) -> MutexGuard<'_, Signal> {
        self.signal.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn resolve(&self, outcome: Outcome) {
        self.lock().outcome = Some(outcome);
        self.ready.notify_all();
    }

    fn wake(&self) {
        self.lock().woken = true;
        self.ready.notify_all();
    }

    /// Waits until `ready` says the signal holds what is awaited.
    fn wait_for(&self, mut ready: impl FnMut(&mut Signal) -> bool) -> MutexGuard<'_, Signal> {
        self.ready
            .wait_while(self.lock(), |signal| !ready(signal))
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for an outcome (`true`, left for [`Ticket::wait`]) or a wake
    /// (`false`, consumed).
    fn await_signal(&self) -> bool {
        let mut signal = self.wait_for(|s| s.outcome.is_some() || s.woken);
        if signal.outcome.is_some() {
            return true;
        }
        signal.woken = false;
        false
    }

    /// Waits for the group's outcome: `Ok(true)` once the member's
    /// operation is durable, `Ok(false)` when it must run again (nothing
    /// of it was written), or the error of the group's commit.
    pub(crate) fn wait(&self, commits: &Commits) -> Result<bool> {
        let mut signal = self.wait_for(|s| s.outcome.is_some());
        let seen = signal.seen;
        let Some(outcome) = signal.outcome.take() else {
            return Err(Error::internal("a write group's ticket lost its outcome"));
        };
        drop(signal);
        match outcome {
            Outcome::Committed {
                seq,
                durable,
                result,
            } => commits.settle(seq, durable, result, seen).map(|()| true),
            Outcome::Retry => Ok(false),
        }
    }
}

/// A grouped writer's operation, published for the writer holding the
/// turn to run in its transaction (flat combining, decision 0025).
///
/// The operation is the publishing writer's closure, borrowed from its
/// stack: that writer stays blocked in [`Commits::join`] until its request
/// is out of the queue and, when another writer took it, until that one
/// resolved its ticket, which it does only after the last call. The
/// closure is `Send`, and it reports through what it borrows (its result,
/// a panic caught on the running thread), so running it on another thread
/// is a scoped call, as `std::thread::scope` makes one.
pub(crate) struct Request {
    ticket: Ticket,
    op: Operation,
}

/// A grouped operation with its borrow's lifetime erased: runs it in the
/// transaction and returns whether it succeeded.
type ErasedOp = dyn FnMut(&WriteTx) -> bool + Send;

struct Operation(*mut ErasedOp);

// SAFETY: the pointee is `Send`; the pointer is dereferenced by one thread
// at a time, the writer holding the turn, while its owner waits (see
// `Request`).
unsafe impl Send for Operation {}
// SAFETY: as above: shared references to a request only reach the pointer
// through `Request::run`, which only the writer that took the request out
// of the queue calls.
unsafe impl Sync for Operation {}

impl Request {
    /// A request for `op`.
    ///
    /// # Safety
    ///
    /// The caller must not let `op` go (return, unwind, or use it) while
    /// the request is queued or taken: it waits in [`Commits::join`] until
    /// that returns, then, for [`Joined::Ran`], resolves nothing further
    /// through `op` (the taker is done with it).
    pub(crate) unsafe fn new<'a>(
        op: &'a mut (dyn FnMut(&WriteTx) -> bool + Send + 'a),
    ) -> Arc<Request> {
        let op: *mut (dyn FnMut(&WriteTx) -> bool + Send + 'a) = op;
        // SAFETY: only the lifetime is erased (same layout); see above.
        let op: *mut ErasedOp = unsafe { std::mem::transmute(op) };
        Arc::new(Request {
            ticket: Ticket {
                signal: Mutex::new(Signal::default()),
                ready: Condvar::new(),
            },
            op: Operation(op),
        })
    }

    /// The ticket on which the request's writer learns its group's outcome.
    pub(crate) fn ticket(&self) -> &Ticket {
        &self.ticket
    }

    /// Runs the operation in `tx`; whether it succeeded.
    ///
    /// # Safety
    ///
    /// Only by the writer holding the turn that took the request out of
    /// the queue ([`Turn::next_request`]), before it resolves the ticket.
    pub(crate) unsafe fn run(&self, tx: &WriteTx) -> bool {
        // SAFETY: the owner waits and nobody else runs it (see `Request`).
        unsafe { (*self.op.0)(tx) }
    }
}

/// How a grouped writer got in ([`Commits::join`]).
pub(crate) enum Joined {
    /// It holds the turn, in a new transaction: it runs its operation and
    /// those published meanwhile, then commits for the group.
    Lead(Box<(WriteTransaction, Pending, Turn)>),
    /// The writer holding the turn ran its operation and its group ended:
    /// [`Ticket::wait`] gives the outcome.
    Ran,
}

/// A writer's turn: held from [`Commits::begin`] until its transaction is
/// committed ([`Turn::commit`]) or rolled back ([`Turn::end`]); dropped
/// without either (a transaction dropped open, a panicking closure), it
/// ends as a rollback does, after the transaction it belongs to has been
/// dropped.
pub(crate) struct Turn {
    commits: Arc<Commits>,
    /// The last non-durable commit when the turn began: what the
    /// transaction may have read.
    seen: u64,
    /// Whether the turn was given back.
    released: bool,
    /// The number of the commit under way, while redb commits it: dropped
    /// then, the commit panicked.
    committing: Option<u64>,
    /// The group members whose operations ran in this transaction after
    /// this writer's, waiting for its outcome.
    members: Vec<Arc<Request>>,
}

impl Turn {
    /// The next published grouped operation for this group to run, taken
    /// out of the queue (its ticket told what the transaction may have
    /// read), or `None` when none waits or the group is full: then the
    /// group commits. When none waits but members of the last group are
    /// likely on their way back, waits up to [`GATHER`] for one.
    pub(crate) fn next_request(&mut self) -> Option<Arc<Request>> {
        let commits = Arc::clone(&self.commits);
        let mut state = commits.lock();
        let room = self.members.len().saturating_add(1) < MAX_MEMBERS;
        if room && state.requests.is_empty() && state.returning > 0 {
            state.gathering = true;
            state = commits
                .arrived
                .wait_timeout_while(state, GATHER, |s| s.requests.is_empty())
                .map(|(s, _)| s)
                .unwrap_or_else(|e| e.into_inner().0);
            state.gathering = false;
        }
        let next = if room {
            state.requests.pop_front()
        } else {
            None
        };
        match &next {
            Some(request) => {
                state.queued = state.queued.saturating_sub(1);
                request.ticket.lock().seen = self.seen;
            }
            None => {
                let members = self.members.len().saturating_add(1);
                // A lone writer's next write is not waited for.
                state.returning = if members > 1 { members } else { 0 };
            }
        }
        next
    }

    /// Counts `request`, whose operation succeeded in this transaction, as
    /// a member of the group: told the group's outcome.
    pub(crate) fn add_member(&mut self, request: &Arc<Request>) {
        self.members.push(Arc::clone(request));
    }

    /// Tells `request`, whose operation failed in this transaction (or was
    /// taken and cannot run), to run again on its own.
    pub(crate) fn send_back(request: &Request) {
        request.ticket.resolve(Outcome::Retry);
    }

    /// Tells the group members that ran before this writer how the group
    /// ended.
    fn resolve_members(&mut self, outcome: &Outcome) {
        for member in self.members.drain(..) {
            member.ticket.resolve(outcome.clone());
        }
    }

    /// Commits `txn`, durably unless a [`Writer::Closure`] writer or a
    /// grouped operation waits to follow (then the last writer of the
    /// group makes it durable), gives the turn back, tells the members
    /// of its group, and returns once the commit is durable.
    ///
    /// Fails with `Storage` when the commit fails, or when the durable
    /// commit that should cover it fails (its error).
    pub(crate) fn commit(mut self, mut txn: WriteTransaction, changes: Captured) -> Result<()> {
        let commits = Arc::clone(&self.commits);
        if let Some(wal) = &commits.wal {
            return self.commit_logged(wal, txn, changes);
        }
        let (seq, durability) = {
            let mut state = commits.lock();
            let seq = state.number();
            if state.queued > 0 && state.unsynced < MAX_GROUP {
                state.unsynced = state.unsynced.saturating_add(1);
                // Before the commit shows it: a snapshot taken from now on
                // waits for this number to be durable.
                state.exposed = seq;
                commits.exposed.store(seq, Ordering::SeqCst);
                (seq, Durability::None)
            } else {
                (seq, Durability::Immediate)
            }
        };
        self.committing = Some(seq);
        let under_way = commits.snapshots.commit_starts();
        let result = txn
            .set_durability(durability)
            .map_err(Error::from)
            .and_then(|()| txn.commit().map_err(Error::from));
        drop(under_way);
        self.committing = None;
        let durable = matches!(durability, Durability::Immediate);
        self.hand_back(&commits, seq, durable, &result);
        self.resolve_members(&Outcome::Committed {
            seq,
            durable,
            result: result.clone(),
        });
        commits.settle(seq, durable, result, self.seen)
    }

    /// After the commit numbered `seq` ended with `result`: records it as
    /// a sync's outcome when `synced` says it decides durability, and gives
    /// the turn back (the group's members are told by the caller).
    fn hand_back(&mut self, commits: &Commits, seq: u64, synced: bool, result: &Result<()>) {
        let mut state = commits.lock();
        if synced {
            commits.record_sync(&mut state, seq, result);
        }
        commits.release(&mut state);
        self.released = true;
    }

    /// [`Turn::commit`] for a store that keeps a write-ahead log: while the
    /// turn is held (so records follow commit order), the commit's record
    /// is written to the log, its write-back started, and the commit made
    /// in redb without durability (a failed commit takes its record back,
    /// and the log fails); then, the turn given back, the log is synced
    /// (one sync for every record written meanwhile, see [`Wal::sync`]). A
    /// transaction too large to log, or one that finds the log past its
    /// bound, commits as a checkpoint instead (durably in redb, the log
    /// emptied).
    fn commit_logged(mut self, wal: &Wal, txn: WriteTransaction, changes: Captured) -> Result<()> {
        let commits = Arc::clone(&self.commits);
        if let Some(err) = wal.failure() {
            drop(txn);
            self.finish()?;
            return Err(err);
        }
        let record = match changes {
            Captured::Changes(bytes) if !wal.wants_checkpoint() => Some(bytes),
            _ => None,
        };
        let seq = {
            let mut state = commits.lock();
            let seq = state.number();
            if record.is_some() {
                // Before the commit shows it: a snapshot taken from now on
                // waits for this number to be durable.
                state.exposed = seq;
                commits.exposed.store(seq, Ordering::SeqCst);
            }
            seq
        };
        self.committing = Some(seq);
        let under_way = commits.snapshots.commit_starts();
        let result = match &record {
            Some(bytes) => {
                // The record is written (its write-back started) before the
                // commit, so that the disk works while redb commits; a
                // commit that fails takes it back.
                let lsn = wal.next_lsn();
                wal.write_ahead(seq, lsn, bytes).and_then(|()| {
                    #[cfg(test)]
                    let committed = match failing_commit::take() {
                        Some(how) => {
                            if how != failing_commit::How::Fails {
                                // A failed sync fails the log; the revoke still runs.
                                let _ = wal.sync(seq);
                            }
                            drop(txn);
                            if how == failing_commit::How::Panics {
                                std::panic::panic_any(failing_commit::error());
                            }
                            Err(failing_commit::error())
                        }
                        None => commit_none(txn, lsn),
                    };
                    #[cfg(not(test))]
                    let committed = commit_none(txn, lsn);
                    match &committed {
                        Ok(()) => wal.confirm(seq),
                        Err(err) => wal.revoke(seq, err),
                    }
                    committed
                })
            }
            None => wal.checkpoint_commit(txn, seq),
        };
        drop(under_way);
        self.committing = None;
        let durable = record.is_none();
        let decided = durable || result.is_err();
        self.hand_back(&commits, seq, decided, &result);
        if decided {
            self.resolve_members(&Outcome::Committed {
                seq,
                durable,
                result: result.clone(),
            });
            return commits.settle(seq, durable, result, self.seen);
        }
        // The members are told once the log is synced, so that each waits
        // for one wake-up (its ticket's) rather than two.
        let synced = commits.sync_log(wal, seq);
        self.resolve_members(&Outcome::Committed {
            seq,
            durable: true,
            result: synced.clone(),
        });
        synced
    }

    /// Ends the turn of a transaction that was rolled back (and dropped):
    /// sends the group members that ran in it back to run again; when
    /// non-durable commits are visible and no writer waits to follow,
    /// makes them durable with an empty durable commit; then gives the turn
    /// back and waits until everything the transaction could have read is
    /// durable.
    ///
    /// Fails with `Storage` when that durable commit fails, or when one
    /// covering what the transaction read failed.
    pub(crate) fn end(mut self) -> Result<()> {
        self.finish()
    }

    fn finish(&mut self) -> Result<()> {
        let commits = Arc::clone(&self.commits);
        let state = commits.lock();
        let orphaned = state.exposed > state.durable && state.queued == 0;
        drop(state);
        let synced = if orphaned { self.sync_empty() } else { Ok(()) };
        let mut state = commits.lock();
        commits.release(&mut state);
        self.released = true;
        drop(state);
        self.resolve_members(&Outcome::Retry);
        synced?;
        commits.await_durable(commits.lock(), self.seen)
    }

    /// Makes every commit so far durable with an empty durable commit,
    /// while holding the turn (no other write transaction is open).
    fn sync_empty(&mut self) -> Result<()> {
        let commits = Arc::clone(&self.commits);
        if let Some(wal) = &commits.wal {
            let seq = commits.lock().exposed;
            return commits.sync_log(wal, seq);
        }
        let seq = commits.lock().number();
        self.committing = Some(seq);
        let under_way = commits.snapshots.commit_starts();
        let result = commits
            .db
            .begin_write()
            .map_err(Error::from)
            .and_then(|mut txn| {
                txn.set_durability(Durability::Immediate)?;
                txn.commit()?;
                Ok(())
            });
        drop(under_way);
        self.committing = None;
        commits.record_sync(&mut commits.lock(), seq, &result);
        result
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if self.released {
            // Given back before its members were told (a panic while the
            // log was synced): their commit cannot be known durable.
            self.resolve_members(&Outcome::Committed {
                seq: 0,
                durable: true,
                result: Err(Error::internal("a group's log sync panicked")),
            });
            return;
        }
        match self.committing {
            // redb panicked while committing: its group cannot be known
            // durable, so its writers and readers are told it failed.
            Some(seq) => {
                let commits = Arc::clone(&self.commits);
                let panicked = Error::internal("a commit panicked");
                if let Some(wal) = &commits.wal {
                    wal.revoke(seq, &panicked);
                }
                let mut state = commits.lock();
                let failed = Err(panicked);
                commits.record_sync(&mut state, seq, &failed);
                commits.release(&mut state);
                self.released = true;
                drop(state);
                self.resolve_members(&Outcome::Committed {
                    seq,
                    durable: true,
                    result: failed,
                });
            }
            // Nobody is told: a rollback by drop has no caller to tell
            // (the group members that ran in it run again). A failed
            // durable commit is recorded for the readers and the writers it
            // concerns.
            None => {
                let _ = self.finish();
            }
        }
    }
}

/// Commits `txn`, whose log record is numbered `lsn`, without durability
/// (visible, not yet on disk); the store's meta table notes `lsn` as its
/// last logged commit.
fn commit_none(mut txn: WriteTransaction, lsn: u64) -> Result<()> {
    txn.open_table(crate::storage::schema::META)?
        .insert(crate::storage::wal::WAL_LSN, lsn)?;
    txn.set_durability(Durability::None)?;
    txn.commit()?;
    Ok(())
}

impl Commits {
    /// Syncs the log until the commit numbered `seq` is durable (see
    /// [`Wal::sync`]) and records the outcome: the last commit known
    /// durable, or the failure at `seq`.
    fn sync_log(&self, wal: &Wal, seq: u64) -> Result<()> {
        let synced = wal.sync(seq);
        let mut state = self.lock();
        match synced {
            Ok(upto) => {
                self.record_sync(&mut state, upto, &Ok(()));
                Ok(())
            }
            Err(err) => {
                let failed = Err(err);
                self.record_sync(&mut state, seq, &failed);
                failed
            }
        }
    }
}

impl Drop for Commits {
    /// A store closed cleanly checkpoints (decision 0018): its file holds
    /// every commit durably and its log is emptied. A failure cannot be
    /// reported here; the log keeps the commits and the next open replays
    /// them.
    fn drop(&mut self) {
        self.snapshots.forget();
        let _ = self.checkpoint();
    }
}

impl std::fmt::Debug for Commits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Commits")
            .field("held", &state.held)
            .field("queued", &state.queued)
            .field("grouped", &state.requests.len())
            .field("last", &state.last)
            .field("durable", &state.durable)
            .field("exposed", &state.exposed)
            .field("unsynced", &state.unsynced)
            .finish_non_exhaustive()
    }
}

/// A test aid: makes the next logged commit on this thread fail (or
/// panic) in redb, after its record was written.
#[cfg(test)]
pub(crate) mod failing_commit {
    use std::cell::Cell;

    use crate::Error;

    /// How the commit fails.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum How {
        /// With [`error`], its record written, not yet synced.
        Fails,
        /// With [`error`], after a sync made its record durable.
        FailsSynced,
        /// Panics (with [`error`] as the payload), after a sync made its
        /// record durable.
        Panics,
    }

    thread_local! {
        static ARMED: Cell<Option<How>> = const { Cell::new(None) };
    }

    /// Arms the failure of this thread's next logged commit.
    pub(crate) fn arm(how: How) {
        ARMED.with(|a| a.set(Some(how)));
    }

    /// Disarms, returning how it was armed.
    pub(super) fn take() -> Option<How> {
        ARMED.with(Cell::take)
    }

    /// The error the failing commit reports.
    pub(crate) fn error() -> Error {
        Error::storage("a commit failed in redb (test)")
    }
}
