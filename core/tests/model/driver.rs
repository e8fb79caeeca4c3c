//! The driver: runs each resolved action on the store, a transaction, or a
//! scoped view of either, and the same action on the model, and compares
//! the outcomes and then everything readable after every step.

use proptest::test_runner::TestCaseError;
use rosterdb::{
    Change, Collection, EntityKind, Error, ExternalId, NewRole, NewUser, Query, Role, Scope, Store,
    User, WriteContext, WriteTx,
};
use serde_json::Value;

use crate::actions::{
    Action, Outcome, PatchOp, RoleView, UserView, error_outcome, outcome, role_view, user_view,
};
use crate::common;
use crate::generators::{
    Case, EXTERNAL_IDS, INVALID_EMAILS, INVALID_USERNAMES, Op, Step, TENANTS, TxMode, VALID_EMAILS,
    VALID_USERNAMES, VIEWS, View, recase,
};
use crate::oracle::{LogEntry, Model, effective, visible};

// ---------------------------------------------------------------------------
// Running actions on the store, a transaction, or a scoped view of either.

/// The collection handles of a [`Store`], a [`WriteTx`] or a scoped view of
/// either (inherent methods of each), so one function can drive them all.
pub trait Handles: WriteContext + Sized {
    fn users(&self) -> Collection<'_, Self, User>;
    fn roles(&self) -> Collection<'_, Self, Role>;
    fn changes(&self, after: u64, limit: usize) -> rosterdb::Result<Vec<Change>>;
}

macro_rules! handles {
    ($($t:ty),*) => {$(
        impl Handles for $t {
            fn users(&self) -> Collection<'_, Self, User> {
                <$t>::users(self)
            }
            fn roles(&self) -> Collection<'_, Self, Role> {
                <$t>::roles(self)
            }
            fn changes(&self, after: u64, limit: usize) -> rosterdb::Result<Vec<Change>> {
                <$t>::changes(self, after, limit)
            }
        }
    )*};
}

handles!(Store, WriteTx, Scope<'_>);

/// Runs `action`; `Err` carries the store's error so a transaction can propagate it.
pub fn exec<C: Handles>(ctx: &C, action: &Action) -> Result<Outcome, Error> {
    let user = |u: User| Outcome::User(user_view(&u));
    match action {
        Action::CreateUser(u) => ctx
            .users()
            .create(NewUser {
                tenant: u.tenant.clone(),
                roles: u.roles.clone(),
                external_ids: u.external_ids.clone(),
                ..NewUser::new(u.username.clone(), u.email.clone(), "First", "Last")
            })
            .map(user),
        Action::CreateRole(r) => ctx
            .roles()
            .create(NewRole {
                tenant: r.tenant.clone(),
                ..NewRole::new(r.name.clone())
            })
            .map(|r| Outcome::Role(role_view(&r))),
        Action::DeleteUser(id) => ctx.users().delete(*id).map(user),
        Action::DeleteRole(id, cascade) => ctx
            .roles()
            .delete(*id, *cascade)
            .map(|r| Outcome::Role(role_view(&r))),
        Action::Patch(id, ops, expected) => {
            let ops = Value::Array(ops.iter().map(PatchOp::to_json).collect());
            ctx.users().patch(*id, &ops, *expected).map(user)
        }
        Action::Merge(id, doc, expected) => {
            ctx.users().merge(*id, &doc.to_json(), *expected).map(user)
        }
        Action::Replace(id, doc, expected) => ctx
            .users()
            .replace(*id, &doc.to_json(), *expected)
            .map(user),
    }
}

pub fn same<T: PartialEq + std::fmt::Debug>(
    what: &str,
    actual: T,
    expected: T,
) -> Result<(), String> {
    if actual == expected {
        Ok(())
    } else {
        Err(format!(
            "{what}:\n  store: {actual:?}\n  model: {expected:?}"
        ))
    }
}

pub fn expect_user(
    what: &str,
    m: &Model,
    actual: rosterdb::Result<User>,
    expected: Option<u64>,
) -> Result<(), String> {
    let expected = match expected {
        Some(id) => Outcome::User(m.user_view(id)),
        None => Outcome::NotFound(EntityKind::User),
    };
    same(
        what,
        outcome(&actual, |u| Outcome::User(user_view(u))),
        expected,
    )
}

/// Reads the whole change log, `limit` entries per call.
pub fn read_log<C: Handles>(ctx: &C, limit: usize) -> Result<Vec<Change>, String> {
    let mut all: Vec<Change> = Vec::new();
    let mut after = 0;
    loop {
        let page = ctx
            .changes(after, limit)
            .map_err(|e| format!("changes({after}, {limit}): {e:?}"))?;
        if page.len() > limit {
            return Err(format!("changes({after}, {limit}) returned {}", page.len()));
        }
        let Some(last) = page.last() else { break };
        after = last.seq;
        let full = page.len() == limit;
        all.extend(page);
        if !full {
            break;
        }
    }
    Ok(all)
}

/// Checks everything readable through `ctx`, a view of `scope` (`None`: all
/// tenants), against the model.
pub fn verify<C: Handles>(ctx: &C, m: &Model, seed: u64, scope: View) -> Result<(), String> {
    let seen = |t: Option<&str>| visible(t, scope);
    // Every id handed out (and the next): the record when the model has it
    // and the view sees it, else NotFound.
    for id in 0..=m.last_user_id + 1 {
        let expected = m
            .users
            .get(&id)
            .filter(|u| seen(u.tenant.as_deref()))
            .map(|_| id);
        expect_user(
            &format!("users.get({id})"),
            m,
            ctx.users().get(id),
            expected,
        )?;
    }
    for id in 0..=m.last_role_id + 1 {
        let expected = match m.roles.get(&id) {
            Some(r) if seen(r.tenant.as_deref()) => Outcome::Role(m.role_view(id)),
            _ => Outcome::NotFound(EntityKind::Role),
        };
        same(
            &format!("roles.get({id})"),
            outcome(&ctx.roles().get(id), |r| Outcome::Role(role_view(r))),
            expected,
        )?;
    }
    // Lists and counts: exactly the records the view sees, in id order.
    let users: Vec<Box<UserView>> = m
        .users
        .iter()
        .filter(|(_, u)| seen(u.tenant.as_deref()))
        .map(|(&id, _)| m.user_view(id))
        .collect();
    let all = Query::all().page(1, 1000);
    let page = ctx
        .users()
        .list(&all)
        .map_err(|e| format!("users.list: {e:?}"))?;
    same(
        "users.list",
        page.items.iter().map(user_view).collect(),
        users.clone(),
    )?;
    same(
        "users.count",
        ctx.users()
            .count(&Query::all())
            .map_err(|e| format!("{e:?}")),
        Ok(users.len() as u64),
    )?;
    let roles: Vec<RoleView> = m
        .roles
        .iter()
        .filter(|(_, r)| seen(r.tenant.as_deref()))
        .map(|(&id, _)| m.role_view(id))
        .collect();
    let page = ctx
        .roles()
        .list(&all)
        .map_err(|e| format!("roles.list: {e:?}"))?;
    same(
        "roles.list",
        page.items.iter().map(role_view).collect(),
        roles.clone(),
    )?;
    same(
        "roles.count",
        ctx.roles()
            .count(&Query::all())
            .map_err(|e| format!("{e:?}")),
        Ok(roles.len() as u64),
    )?;
    // Every model user's keys: the stored spelling, upper case and a random
    // re-casing, named with the user's tenant (which a view overrides).
    for (&id, u) in &m.users {
        let t = u.tenant.as_deref();
        let at = effective(t, scope);
        let keys = [
            u.username.clone(),
            u.username.to_uppercase(),
            recase(&u.username, seed ^ id),
        ];
        for key in keys {
            expect_user(
                &format!("get_by_username({key:?}, {t:?})"),
                m,
                ctx.users().get_by_username(&key, t),
                m.by_username(&key, at),
            )?;
        }
        let keys = [
            u.email.clone(),
            u.email.to_uppercase(),
            recase(&u.email, seed.rotate_left(17) ^ id),
        ];
        for key in keys {
            expect_user(
                &format!("get_by_email({key:?}, {t:?})"),
                m,
                ctx.users().get_by_email(&key, t),
                m.by_email(&key, at),
            )?;
        }
        for (k, ext) in u.external_ids.iter().enumerate() {
            let s = seed.rotate_left(29 + k as u32) ^ id;
            let key = ExternalId::new(recase(&ext.kind, s), recase(&ext.value, !s));
            for key in [ext.clone(), key] {
                expect_user(
                    &format!("get_by_external_id({key:?}, {t:?})"),
                    m,
                    ctx.users().get_by_external_id(&key.kind, &key.value, t),
                    m.by_external_id(&key, at),
                )?;
            }
        }
    }
    // Every pool key in every tenant: found exactly when the model has it.
    // (Through a view every tenant named means the view's: one will do.)
    let named: &[Option<&str>] = match scope {
        None => TENANTS,
        Some(_) => &TENANTS[(seed % 3) as usize..][..1],
    };
    for (i, &t) in named.iter().enumerate() {
        let s = seed.rotate_left(7 * i as u32 + 1);
        let at = effective(t, scope);
        for name in VALID_USERNAMES.iter().chain(INVALID_USERNAMES) {
            let key = recase(name, s);
            expect_user(
                &format!("get_by_username({key:?}, {t:?})"),
                m,
                ctx.users().get_by_username(&key, t),
                m.by_username(&key, at),
            )?;
        }
        for email in VALID_EMAILS.iter().chain(INVALID_EMAILS) {
            let key = recase(email, s);
            expect_user(
                &format!("get_by_email({key:?}, {t:?})"),
                m,
                ctx.users().get_by_email(&key, t),
                m.by_email(&key, at),
            )?;
        }
        for &(kind, value) in EXTERNAL_IDS {
            let ext = ExternalId::new(recase(kind, s), recase(value, !s));
            let (kind, value) = (ext.kind.as_str(), ext.value.as_str());
            expect_user(
                &format!("get_by_external_id({ext:?}, {t:?})"),
                m,
                ctx.users().get_by_external_id(kind, value, t),
                m.by_external_id(&ext, at),
            )?;
        }
    }
    // The change log (a view's: the entries of its tenant's records), read
    // in full, and again in small pages.
    let log = read_log(ctx, 1000)?;
    for (i, c) in log.iter().enumerate() {
        let ok = match i {
            0 if scope.is_none() => c.seq == 1,
            0 => c.seq >= 1,
            _ => c.seq > log[i - 1].seq,
        };
        if !ok {
            return Err(format!(
                "change log seq not strictly increasing from 1: {:?}",
                log.iter().map(|c| c.seq).collect::<Vec<_>>()
            ));
        }
    }
    let entries: Vec<LogEntry> = log
        .iter()
        .map(|c| (c.entity, c.id, c.op, c.version))
        .collect();
    let expected: Vec<LogEntry> = m
        .log
        .iter()
        .zip(&m.log_tenants)
        .filter(|(_, t)| seen(t.as_deref()))
        .map(|(e, _)| *e)
        .collect();
    same("change log", &entries, &expected)?;
    let small = 1 + (seed % 4) as usize;
    same(
        &format!("change log read {small} at a time"),
        read_log(ctx, small)?,
        log,
    )?;
    Ok(())
}

/// `store.check()` must find nothing wrong.
pub fn check(store: &Store) -> Result<(), String> {
    match store.check() {
        Ok(report) if report.ok && report.problems.is_empty() => Ok(()),
        other => Err(format!("check(): {other:?}")),
    }
}

// ---------------------------------------------------------------------------
// Running a sequence.

/// An in-memory store with cheap hashing.
pub fn store() -> Store {
    Store::memory_with(common::options()).expect("in-memory store")
}

/// One transaction of the sequence: the model it is expected to leave
/// behind (`shadow`), and what happened so far.
pub struct TxRun {
    pub shadow: Model,
    /// Where we are, for messages.
    pub at: String,
    pub seed: u64,
    /// The view the transaction is seen through.
    pub view: View,
    /// A disagreement with the model, which stops the run.
    pub mismatch: Option<String>,
    /// Whether some step failed (as the model predicted).
    pub failed: bool,
    /// The outcome of each step run.
    pub outcomes: Vec<Outcome>,
}

impl TxRun {
    /// Runs `steps` in `tx`, each checked against `shadow` (which follows
    /// them) and followed by a check of everything readable through `tx`.
    ///
    /// A failed step's error is swallowed, unless `stop_on_error`: then it is
    /// returned, to roll the transaction back.
    pub fn run_steps<C: Handles>(
        &mut self,
        tx: &C,
        steps: &[Step],
        stop_on_error: bool,
    ) -> Result<(), Error> {
        let at = &self.at;
        for (j, step) in steps.iter().enumerate() {
            let action = self.shadow.resolve(step, self.view);
            let expected = self.shadow.apply(&action, self.view);
            let actual = exec(tx, &action);
            let got = match &actual {
                Ok(o) => o.clone(),
                Err(e) => error_outcome(e),
            };
            self.outcomes.push(got.clone());
            let checked =
                same(&format!("{at}, step {j}: {action:?}"), got, expected).and_then(|()| {
                    verify(tx, &self.shadow, self.seed ^ j as u64, self.view)
                        .map_err(|e| format!("{at}, read inside after step {j} ({action:?}): {e}"))
                });
            if let Err(msg) = checked {
                self.mismatch = Some(msg);
                return Err(Error::InvalidToken);
            }
            if let Err(e) = actual {
                self.failed = true;
                if stop_on_error {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// The body of a `store.write` transaction in `mode`.
    pub fn body<C: Handles>(&mut self, tx: &C, steps: &[Step], mode: TxMode) -> Result<(), Error> {
        self.run_steps(tx, steps, mode != TxMode::Swallow)?;
        match mode {
            TxMode::Abort => Err(Error::AuthenticationFailed),
            _ => Ok(()),
        }
    }
}

/// What a run did: the final model and the outcome of every step run.
pub struct Ran {
    pub model: Model,
    pub outcomes: Vec<Outcome>,
}

/// Runs `cases` on a new store and a new model, checking after every step.
pub fn run(cases: &[Case]) -> Result<Ran, TestCaseError> {
    let store = store();
    let mut model = Model::default();
    let mut outcomes = Vec::new();
    let fail = |e: Error| TestCaseError::fail(format!("{e:?}"));
    for (i, case) in cases.iter().enumerate() {
        let view = match &case.op {
            Op::Single(step, view) => {
                let action = model.resolve(step, *view);
                let expected = model.apply(&action, *view);
                let actual = match view {
                    None => exec(&store, &action),
                    Some(t) => exec(&store.scoped(t).map_err(fail)?, &action),
                };
                let actual = actual.unwrap_or_else(|e| error_outcome(&e));
                outcomes.push(actual.clone());
                same(
                    &format!("step {i} (view {view:?}): {action:?}"),
                    actual,
                    expected,
                )
                .map_err(TestCaseError::fail)?;
                *view
            }
            Op::Tx(steps, mode, view) => {
                let mode = *mode;
                let mut run = TxRun {
                    shadow: model.clone(),
                    at: format!("step {i}, {mode:?} transaction (view {view:?})"),
                    seed: case.seed,
                    view: *view,
                    mismatch: None,
                    failed: false,
                    outcomes: Vec::new(),
                };
                let should_commit = match mode {
                    TxMode::Atomic | TxMode::Swallow | TxMode::Abort => {
                        let result = match view {
                            None => store.write(|tx| run.body(tx, steps, mode)),
                            Some(t) => store
                                .scoped(t)
                                .map_err(fail)?
                                .write(|tx| run.body(tx, steps, mode)),
                        };
                        let should_commit = match mode {
                            TxMode::Atomic => !run.failed,
                            TxMode::Swallow => true,
                            _ => false,
                        };
                        if run.mismatch.is_none() && result.is_ok() != should_commit {
                            run.mismatch = Some(format!("{} returned {result:?}", run.at));
                        }
                        should_commit
                    }
                    TxMode::BeginCommit | TxMode::BeginRollback | TxMode::BeginDrop => {
                        let tx = store.begin_write().map_err(|e| {
                            TestCaseError::fail(format!("{}: begin_write: {e:?}", run.at))
                        })?;
                        // Errors are swallowed; a stopped run set `mismatch`.
                        let _ = match view {
                            None => run.run_steps(&tx, steps, false),
                            Some(t) => {
                                let scoped = Scope::new(&tx, t).map_err(fail)?;
                                run.run_steps(&scoped, steps, false)
                            }
                        };
                        let ended = match mode {
                            TxMode::BeginCommit => tx.commit(),
                            TxMode::BeginRollback => tx.rollback(),
                            _ => {
                                drop(tx);
                                Ok(())
                            }
                        };
                        if let Err(e) = ended {
                            let msg = format!("{}: ending it failed: {e:?}", run.at);
                            run.mismatch.get_or_insert(msg);
                        }
                        mode == TxMode::BeginCommit
                    }
                };
                outcomes.append(&mut run.outcomes);
                if let Some(msg) = run.mismatch {
                    return Err(TestCaseError::fail(msg));
                }
                if should_commit {
                    model = run.shadow;
                }
                *view
            }
        };
        let after = |e: String| TestCaseError::fail(format!("after step {i} ({:?}): {e}", case.op));
        check(&store).map_err(after)?;
        verify(&store, &model, case.seed, None).map_err(after)?;
        // And through a view: the operation's, or one the seed picks.
        let t = view.unwrap_or(VIEWS[(case.seed >> 32) as usize % VIEWS.len()]);
        let scoped = store.scoped(t).map_err(fail)?;
        verify(&scoped, &model, case.seed.rotate_left(11), Some(t))
            .map_err(|e| after(format!("through the view of {t}: {e}")))?;
    }
    Ok(Ran { model, outcomes })
}
