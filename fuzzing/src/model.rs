//! The `model` target: arbitrary sequences of writes against the store and
//! against a small in-memory model of its documented semantics, which must
//! agree after every step, on the fault-injecting disk of `rosterdb-faults`
//! (as redb's `fuzz_redb.rs` does for its tables on a crashing backend).
//!
//! The input is read with `arbitrary` as a list of [`Op`]s (at most
//! [`MAX_OPS`]). The model follows docs/reference/documents.md; docs/reference/updates.md;
//! docs/reference/transactions.md; docs/reference/changes-and-export.md for what the ops touch: ids
//! per kind start at 1 and grow by one per successful create; a username and an email are unique
//! per tenant; a user's roles must exist in its tenant; deleting a held role is `InUse` unless
//! cascading, which removes it from each holder as an update; an update that changes nothing
//! keeps the version, any other adds one; `store.write` commits all or
//! nothing and an op that failed inside it leaves no trace. Properties:
//! - every op's outcome (success or error kind) is the model's;
//! - after every op every user and role document (id, names, tenant,
//!   roles, attributes, version) is the model's;
//! - a write with an I/O fault (a failed read, write, sync, `set_len` or
//!   `len`, or a torn write and power loss) succeeds or fails as the model
//!   says, or fails with `Storage`; after the power loss that follows, the
//!   store opens, passes `check()` and holds the state after an
//!   acknowledged write, before a refused one, and one of the two after a
//!   `Storage` failure;
//! - a power loss at any other moment loses nothing acknowledged;
//! - `check()` finds nothing wrong.

use std::collections::{BTreeMap, BTreeSet};

use arbitrary::{Arbitrary, Unstructured};
use rosterdb::{Collection, Error, NewRole, NewUser, Query, ReadContext, Store, WriteContext};
use rosterdb_faults::{Call, Fault, FaultyDisk, Survivors};
use serde_json::json;

use crate::{ErrorKind, expect_error, violated};

/// At most this many ops are run per input.
pub const MAX_OPS: usize = 64;

/// Names are `n0`…`n5`: few enough to collide often.
const NAMES: u8 = 6;

/// A username (and, for a new user, the local part of its email).
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct Name(u8);

impl Name {
    fn text(self) -> String {
        format!("n{}", self.0.checked_rem(NAMES).unwrap_or(0))
    }
}

/// A tenant: none, or `t1`.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct Tenant(bool);

impl Tenant {
    fn get(self) -> Option<String> {
        self.0.then(|| "t1".to_owned())
    }
}

/// An id, read modulo one more than the ids handed out so far (so about
/// one in a few names a record that never existed).
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct Ref(u8);

impl Ref {
    fn id(self, next: u64) -> u64 {
        u64::from(self.0)
            .checked_rem(next.saturating_add(1))
            .unwrap_or(0)
    }
}

/// One write, alone or inside a transaction.
#[derive(Arbitrary, Clone, Debug)]
pub enum Write {
    /// Creates a role.
    CreateRole {
        /// Its name.
        name: Name,
        /// Its tenant.
        tenant: Tenant,
    },
    /// Creates a user `<name>` with email `<name>@example.com`.
    CreateUser {
        /// Its username.
        name: Name,
        /// Its tenant.
        tenant: Tenant,
        /// Its roles (the first three).
        roles: Vec<Ref>,
    },
    /// JSON Patch `add /attributes/k<key % 4>` with `value`.
    SetAttribute {
        /// The user.
        user: Ref,
        /// The attribute.
        key: u8,
        /// Its new value.
        value: i8,
    },
    /// Merge patch `{"username": name}`.
    Rename {
        /// The user.
        user: Ref,
        /// The new username.
        name: Name,
    },
    /// Deletes a user.
    DeleteUser {
        /// The user.
        user: Ref,
    },
    /// Deletes a role, cascading or not.
    DeleteRole {
        /// The role.
        role: Ref,
        /// Whether to remove it from its holders.
        cascade: bool,
    },
}

/// One step of a sequence.
#[derive(Arbitrary, Clone, Debug)]
pub enum Op {
    /// A write on its own.
    Write(Write),
    /// Writes in one `store.write`, committed unless `abort` (then the
    /// closure returns an error and nothing may remain).
    Transaction {
        /// The writes (the first eight).
        writes: Vec<Write>,
        /// Whether the closure fails after them.
        abort: bool,
    },
    /// A write with a fault armed for its duration (disarmed after it).
    Faulty {
        /// The write.
        write: Write,
        /// The fault.
        fault: FaultSpec,
        /// What of the unsynced writes survives the power loss that
        /// follows when the fault fires.
        survivors: SurvivorSpec,
    },
    /// The power goes out: the store is dropped and reopened from what the
    /// disk kept.
    Crash {
        /// What of the unsynced writes survives.
        survivors: SurvivorSpec,
    },
    /// `check()`.
    Check,
}

/// A kind of backend call a fault hits.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum FaultCall {
    /// `read`
    Read,
    /// `write`
    Write,
    /// `sync_data`
    SyncData,
    /// `set_len`
    SetLen,
    /// `len`
    Len,
}

/// A fault of the `rosterdb-faults` disk, counted from the write's start.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum FaultSpec {
    /// Call number `nth % 16` of kind `call` fails.
    Fail {
        /// The kind of call.
        call: FaultCall,
        /// Which one.
        nth: u8,
    },
    /// Write number `nth % 16` lands only its first `keep` bytes, then the
    /// power goes out.
    Tear {
        /// Which write.
        nth: u8,
        /// How many of its bytes land.
        keep: u16,
    },
}

impl FaultSpec {
    fn fault(self) -> Fault {
        match self {
            FaultSpec::Fail { call, nth } => Fault::Fail {
                call: match call {
                    FaultCall::Read => Call::Read,
                    FaultCall::Write => Call::Write,
                    FaultCall::SyncData => Call::SyncData,
                    FaultCall::SetLen => Call::SetLen,
                    FaultCall::Len => Call::Len,
                },
                nth: u64::from(nth.checked_rem(16).unwrap_or(0)),
            },
            FaultSpec::Tear { nth, keep } => Fault::Tear {
                nth: u64::from(nth.checked_rem(16).unwrap_or(0)),
                keep: usize::from(keep),
            },
        }
    }
}

/// Which unsynced writes survive a power loss.
#[derive(Arbitrary, Clone, Debug)]
pub enum SurvivorSpec {
    /// None of them.
    None,
    /// All of them.
    All,
    /// The oldest `n`.
    Prefix(u8),
    /// These positions (the disk reordered its writes).
    Only(Vec<u8>),
}

impl SurvivorSpec {
    fn survivors(&self) -> Survivors {
        match self {
            SurvivorSpec::None => Survivors::None,
            SurvivorSpec::All => Survivors::All,
            SurvivorSpec::Prefix(n) => Survivors::Prefix(usize::from(*n)),
            SurvivorSpec::Only(positions) => {
                Survivors::Only(positions.iter().map(|&p| usize::from(p)).collect())
            }
        }
    }
}

/// A user as the model holds it.
#[derive(Clone, Debug, PartialEq)]
struct UserDoc {
    username: String,
    email: String,
    tenant: Option<String>,
    roles: BTreeSet<u64>,
    attributes: BTreeMap<String, i64>,
    version: u64,
}

/// A role as the model holds it.
#[derive(Clone, Debug, PartialEq)]
struct RoleDoc {
    name: String,
    tenant: Option<String>,
    version: u64,
}

/// The model: every user and role, and the next ids.
#[derive(Clone, Debug, Default, PartialEq)]
struct Model {
    users: BTreeMap<u64, UserDoc>,
    roles: BTreeMap<u64, RoleDoc>,
    next_user: u64,
    next_role: u64,
}

/// The next user and role ids, which the ids of a write are read against.
#[derive(Clone, Copy, Debug)]
struct Next {
    user: u64,
    role: u64,
}

/// What the model says an op gives.
type Outcome = Result<(), ErrorKind>;

impl Model {
    fn new() -> Model {
        Model {
            next_user: 1,
            next_role: 1,
            ..Model::default()
        }
    }

    /// The next ids, as a write sees them before it runs.
    fn next(&self) -> Next {
        Next {
            user: self.next_user,
            role: self.next_role,
        }
    }

    /// Applies `write` to the model, returning the outcome it predicts.
    fn apply(&mut self, write: &Write) -> Outcome {
        match write {
            Write::CreateRole { name, tenant } => {
                let (name, tenant) = (name.text(), tenant.get());
                if self
                    .roles
                    .values()
                    .any(|r| r.name == name && r.tenant == tenant)
                {
                    return Err(ErrorKind::Conflict);
                }
                self.roles.insert(
                    self.next_role,
                    RoleDoc {
                        name,
                        tenant,
                        version: 1,
                    },
                );
                self.next_role = self.next_role.saturating_add(1);
                Ok(())
            }
            Write::CreateUser {
                name,
                tenant,
                roles,
            } => {
                let (username, tenant) = (name.text(), tenant.get());
                let email = format!("{username}@example.com");
                let taken = self
                    .users
                    .values()
                    .any(|u| u.tenant == tenant && (u.username == username || u.email == email));
                if taken {
                    return Err(ErrorKind::Conflict);
                }
                let roles: BTreeSet<u64> =
                    roles.iter().take(3).map(|r| r.id(self.next_role)).collect();
                let known = roles
                    .iter()
                    .all(|id| self.roles.get(id).is_some_and(|r| r.tenant == tenant));
                if !known {
                    return Err(ErrorKind::Validation);
                }
                self.users.insert(
                    self.next_user,
                    UserDoc {
                        username,
                        email,
                        tenant,
                        roles,
                        attributes: BTreeMap::new(),
                        version: 1,
                    },
                );
                self.next_user = self.next_user.saturating_add(1);
                Ok(())
            }
            Write::SetAttribute { user, key, value } => {
                let id = user.id(self.next_user);
                let user = self.users.get_mut(&id).ok_or(ErrorKind::NotFound)?;
                let key = attribute(*key);
                let value = i64::from(*value);
                if user.attributes.insert(key, value) != Some(value) {
                    user.version = user.version.saturating_add(1);
                }
                Ok(())
            }
            Write::Rename { user, name } => {
                let id = user.id(self.next_user);
                let name = name.text();
                let tenant = self
                    .users
                    .get(&id)
                    .ok_or(ErrorKind::NotFound)?
                    .tenant
                    .clone();
                let taken = self
                    .users
                    .iter()
                    .any(|(&other, u)| other != id && u.tenant == tenant && u.username == name);
                if taken {
                    return Err(ErrorKind::Conflict);
                }
                let user = self.users.get_mut(&id).ok_or(ErrorKind::NotFound)?;
                if user.username != name {
                    user.username = name;
                    user.version = user.version.saturating_add(1);
                }
                Ok(())
            }
            Write::DeleteUser { user } => {
                let id = user.id(self.next_user);
                self.users
                    .remove(&id)
                    .map(|_| ())
                    .ok_or(ErrorKind::NotFound)
            }
            Write::DeleteRole { role, cascade } => {
                let id = role.id(self.next_role);
                if !self.roles.contains_key(&id) {
                    return Err(ErrorKind::NotFound);
                }
                let held = self.users.values().any(|u| u.roles.contains(&id));
                if held && !cascade {
                    return Err(ErrorKind::InUse);
                }
                for user in self.users.values_mut() {
                    if user.roles.remove(&id) {
                        user.version = user.version.saturating_add(1);
                    }
                }
                self.roles.remove(&id);
                Ok(())
            }
        }
    }
}

/// The name of attribute `key`: `k0`…`k3`.
fn attribute(key: u8) -> String {
    format!("k{}", key.checked_rem(4).unwrap_or(0))
}

/// Runs `write` on the store's (or a transaction's) collections.
fn perform<C: WriteContext>(
    users: &Collection<'_, C, rosterdb::User>,
    roles: &Collection<'_, C, rosterdb::Role>,
    next: Next,
    write: &Write,
) -> rosterdb::Result<()> {
    match write {
        Write::CreateRole { name, tenant } => {
            roles.create(NewRole {
                tenant: tenant.get(),
                ..NewRole::new(name.text())
            })?;
        }
        Write::CreateUser {
            name,
            tenant,
            roles: refs,
        } => {
            let username = name.text();
            users.create(NewUser {
                tenant: tenant.get(),
                roles: refs.iter().take(3).map(|r| r.id(next.role)).collect(),
                ..NewUser::new(
                    &username,
                    format!("{username}@example.com"),
                    "First",
                    "Last",
                )
            })?;
        }
        Write::SetAttribute { user, key, value } => {
            let path = format!("/attributes/{}", attribute(*key));
            let patch = json!([{"op": "add", "path": path, "value": value}]);
            users.patch(user.id(next.user), &patch, None)?;
        }
        Write::Rename { user, name } => {
            users.merge(user.id(next.user), &json!({"username": name.text()}), None)?;
        }
        Write::DeleteUser { user } => {
            users.delete(user.id(next.user))?;
        }
        Write::DeleteRole { role, cascade } => {
            roles.delete(role.id(next.role), *cascade)?;
        }
    }
    Ok(())
}

/// Panics unless the store's result of `write` is the model's.
fn compare(write: &Write, got: &rosterdb::Result<()>, expected: &Outcome) {
    let got_kind = got.as_ref().map_err(ErrorKind::of).map(|_| ());
    if got_kind != *expected {
        violated(format!(
            "{write:?}: the store gives {got:?}, the model {expected:?}"
        ));
    }
}

/// Every user and role, as the model holds them.
type State = (BTreeMap<u64, UserDoc>, BTreeMap<u64, RoleDoc>);

/// The model's view of the store: every user and role.
fn observe<C: ReadContext>(
    users: &Collection<'_, C, rosterdb::User>,
    roles: &Collection<'_, C, rosterdb::Role>,
) -> rosterdb::Result<State> {
    let all = Query::all().page(1, rosterdb::query::MAX_PAGE_SIZE);
    let users = users
        .list(&all)?
        .items
        .into_iter()
        .map(|u| {
            let attributes = u
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(i64::MIN)))
                .collect();
            let doc = UserDoc {
                username: u.username,
                email: u.email,
                tenant: u.tenant,
                roles: u.roles.into_iter().collect(),
                attributes,
                version: u.version,
            };
            (u.id, doc)
        })
        .collect();
    let roles = roles
        .list(&all)?
        .items
        .into_iter()
        .map(|r| {
            let doc = RoleDoc {
                name: r.name,
                tenant: r.tenant,
                version: r.version,
            };
            (r.id, doc)
        })
        .collect();
    Ok((users, roles))
}

/// [`observe`], which must succeed.
fn observed<C: ReadContext>(
    users: &Collection<'_, C, rosterdb::User>,
    roles: &Collection<'_, C, rosterdb::Role>,
) -> State {
    match observe(users, roles) {
        Ok(state) => state,
        Err(e) => violated(format!("reading every user and role: {e}")),
    }
}

impl Model {
    /// Whether the store's `state` is this model's.
    fn holds(&self, state: &State) -> bool {
        state.0 == self.users && state.1 == self.roles
    }
}

/// Panics unless the store holds exactly the model's documents.
fn agree(store: &Store, model: &Model, after: &Op) {
    let (users, roles) = observed(&store.users(), &store.roles());
    if users != model.users || roles != model.roles {
        violated(format!(
            "after {after:?} the store holds users {users:?} and roles {roles:?}, \
             the model {:?} and {:?}",
            model.users, model.roles
        ));
    }
}

fn check(store: &Store) {
    match store.check() {
        Ok(report) if report.ok => {}
        other => violated(format!("check(): {other:?}")),
    }
}

/// Opens the store on `disk`, which must succeed (a crash never leaves a
/// store that cannot be opened).
fn open(disk: &FaultyDisk, log: Option<&FaultyDisk>) -> Store {
    let opened = match log {
        Some(log) => Store::open_with_backend_and_log(
            disk.clone(),
            log.clone(),
            crate::population::options(),
        ),
        None => Store::open_with_backend(disk.clone(), crate::population::options()),
    };
    match opened {
        Ok(store) => store,
        Err(e) => violated(format!("opening the store on the disk: {e}")),
    }
}

/// The store and the disk it lives on.
struct Harness {
    disk: FaultyDisk,
    /// The disk of the store's write-ahead log, when it keeps one
    /// ([`run_with_log`]): then faults are armed on it, the disk each
    /// commit syncs.
    log: Option<FaultyDisk>,
    store: Store,
}

impl Harness {
    /// The disk faults are armed on: the log's when the store keeps one.
    fn faulty_disk(&self) -> &FaultyDisk {
        self.log.as_ref().unwrap_or(&self.disk)
    }

    /// Cuts the power: drops the store and reopens it from what the disk
    /// kept of its unsynced writes; `check()` must pass.
    fn crash(&mut self, survivors: &SurvivorSpec) {
        let disk = self.disk.crash(&survivors.survivors());
        let log = self.log.as_ref().map(|l| l.crash(&survivors.survivors()));
        // The old store, on the old disks, is dropped after the new one
        // opens: nothing it still does reaches the new disks.
        self.store = open(&disk, log.as_ref());
        self.disk = disk;
        self.log = log;
        check(&self.store);
    }
}

/// The ops an input holds: one after another until the bytes run out
/// (the last, unfinished one dropped), at most [`MAX_OPS`].
pub fn ops(data: &[u8]) -> Vec<Op> {
    let mut input = Unstructured::new(data);
    let mut ops = Vec::new();
    while !input.is_empty() && ops.len() < MAX_OPS {
        match input.arbitrary::<Op>() {
            Ok(op) => ops.push(op),
            Err(_) => break,
        }
    }
    ops
}

/// Checks one input (see the module documentation).
pub fn run(data: &[u8]) {
    run_on(data, false);
}

/// Checks one input as [`run`] does, on a store that keeps a write-ahead
/// log on a second faulty disk (`Store::open_with_backend_and_log`, as a
/// file store does beside its file): faults are armed on the log's disk,
/// and a power loss crashes both disks keeping the same unsynced writes.
pub fn run_with_log(data: &[u8]) {
    run_on(data, true);
}

fn run_on(data: &[u8], with_log: bool) {
    let ops = ops(data);
    let disk = FaultyDisk::new();
    let log = with_log.then(FaultyDisk::new);
    let mut harness = Harness {
        store: open(&disk, log.as_ref()),
        disk,
        log,
    };
    let mut model = Model::new();
    for op in &ops {
        match op {
            Op::Write(write) => {
                let store = &harness.store;
                let next = model.next();
                let expected = model.apply(write);
                let got = perform(&store.users(), &store.roles(), next, write);
                compare(write, &got, &expected);
            }
            Op::Transaction { writes, abort } => {
                transaction(&harness.store, &mut model, writes, *abort);
            }
            Op::Faulty {
                write,
                fault,
                survivors,
            } => faulty(&mut harness, &mut model, write, *fault, survivors),
            Op::Crash { survivors } => harness.crash(survivors),
            Op::Check => check(&harness.store),
        }
        agree(&harness.store, &model, op);
    }
    check(&harness.store);
}

/// Runs `write` with `fault` armed. When the fault did not fire, the write
/// behaves as without it. When it fired: the write succeeded as the model
/// says, failed as the model says, or failed with `Storage`; the store's
/// reads, when they work, show the state before or after the write; then
/// the power goes out and the reopened store holds the state after an
/// acknowledged write, the state before a refused one, and one of the two
/// after a `Storage` failure (which the model then follows).
fn faulty(
    harness: &mut Harness,
    model: &mut Model,
    write: &Write,
    fault: FaultSpec,
    survivors: &SurvivorSpec,
) {
    let next = model.next();
    let mut after = model.clone();
    let expected = after.apply(write);
    let fired_before = harness.faulty_disk().fired();
    harness.faulty_disk().arm(fault.fault());
    let store = &harness.store;
    let got = perform(&store.users(), &store.roles(), next, write);
    harness.faulty_disk().disarm();
    if harness.faulty_disk().fired() == fired_before {
        compare(write, &got, &expected);
        *model = after;
        return;
    }
    let storage_failure = matches!(&got, Err(e) if ErrorKind::of(e) == ErrorKind::Storage);
    if !storage_failure {
        compare(write, &got, &expected);
    }
    match observe(&store.users(), &store.roles()) {
        Ok(state) if model.holds(&state) || (expected.is_ok() && after.holds(&state)) => {}
        Ok(state) => violated(format!(
            "after {write:?} failed by {fault:?} ({got:?}) the store reads {state:?}"
        )),
        Err(e) => expect_error(&e, &[ErrorKind::Storage], "a read after a fault"),
    }
    harness.crash(survivors);
    let state = observed(&harness.store.users(), &harness.store.roles());
    let acknowledged = got.is_ok();
    let kept_after = expected.is_ok() && after.holds(&state);
    let kept_before = model.holds(&state);
    let allowed = if acknowledged {
        kept_after
    } else if storage_failure {
        kept_before || kept_after
    } else {
        kept_before
    };
    if !allowed {
        violated(format!(
            "{write:?} with {fault:?} gave {got:?}; after a crash keeping {survivors:?} the \
             store holds {state:?}, the model before {:?} and after {:?}",
            (&model.users, &model.roles),
            (&after.users, &after.roles)
        ));
    }
    if kept_after && !kept_before {
        *model = after;
    }
}

/// Runs `writes` in one `store.write`, failing it after them when `abort`.
fn transaction(store: &Store, model: &mut Model, writes: &[Write], abort: bool) {
    let mut inside = model.clone();
    let result = store.write(|tx| {
        for write in writes.iter().take(8) {
            let next = inside.next();
            let expected = inside.apply(write);
            let got = perform(&tx.users(), &tx.roles(), next, write);
            compare(write, &got, &expected);
            let (users, roles) = observed(&tx.users(), &tx.roles());
            if users != inside.users || roles != inside.roles {
                violated(format!(
                    "inside a transaction after {write:?} it reads users {users:?} and \
                     roles {roles:?}, the model {:?} and {:?}",
                    inside.users, inside.roles
                ));
            }
        }
        if abort {
            return Err(Error::InvalidArgument {
                argument: "abort".into(),
                message: "the fuzzer aborts this transaction".into(),
            });
        }
        Ok(())
    });
    match (result, abort) {
        (Ok(()), false) => *model = inside,
        (Err(Error::InvalidArgument { argument, .. }), true) if argument == "abort" => {}
        (other, _) => violated(format!("a transaction (abort: {abort}) gives {other:?}")),
    }
}
