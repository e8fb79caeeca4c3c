//! Every public write path goes through the write-ahead log (decision
//! 0018): after each acknowledged write, what a crash can leave is copied
//! and reopened, and must hold exactly the tables of the running store.
//!
//! Two copies per crash point: the store file and its log as the process
//! left them (a killed process), and the store file as it was at its last
//! checkpoint with the log of now (a power loss that kept none of redb's
//! non-durable page writes: only the log can bring the commits back). A
//! table write that is not journalled is lost in the second copy.

use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use serde_json::json;

use super::tests::{Tables, tables};
use super::{frame, path_of};
use crate::{
    Argon2Params, Credentials, Error, Lockout, ManualClock, NewClient, NewRole, NewUser, Options,
    Query, Secret, Store, StoreHandle, Timestamp,
};

const PASSWORD: &str = "correct horse battery";

fn argon(iterations: u32) -> Argon2Params {
    Argon2Params {
        memory_kib: 8,
        iterations,
        parallelism: 1,
    }
}

/// The epoch the log's header names.
fn log_epoch(store: &Path) -> u64 {
    match frame::parse(&std::fs::read(path_of(store)).unwrap()).header {
        frame::Header::Of(names) => names.epoch,
        other => panic!("{other:?}"),
    }
}

/// The RFC 6238 code of a base32 secret at `at`.
fn totp_code(secret_base32: &str, at: Timestamp) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).unwrap();
    crate::auth::totp::code_at(&secret, (at.as_millis() / 1000) as u64, 6)
}

struct Run {
    dir: tempfile::TempDir,
    path: PathBuf,
    options: Options,
    store: Option<Store>,
    /// The store file as it was right after its last checkpoint, and the
    /// log epoch then.
    base: PathBuf,
    base_epoch: u64,
    /// (label, copy, the tables it must reopen to).
    copies: Vec<(String, PathBuf, Tables)>,
}

impl Run {
    fn new(options: Options) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let store = Store::open(&path, options.clone()).unwrap();
        let mut run = Run {
            base: dir.path().join("base.redb"),
            dir,
            path,
            options,
            store: Some(store),
            base_epoch: 0,
            copies: Vec::new(),
        };
        run.rebase();
        run
    }

    fn s(&self) -> &Store {
        self.store.as_ref().unwrap()
    }

    /// Right after a checkpoint (open, compact): the store file is its
    /// durable state.
    fn rebase(&mut self) {
        std::fs::copy(&self.path, &self.base).unwrap();
        self.base_epoch = log_epoch(&self.path);
    }

    /// After a write: when it was a checkpoint (the log's epoch moved on),
    /// the store file is durable now and becomes the base; returns 1 then.
    fn rebase_after_checkpoint(&mut self) -> u32 {
        if log_epoch(&self.path) == self.base_epoch {
            return 0;
        }
        self.rebase();
        1
    }

    /// Closes and reopens the store (a clean close checkpoints).
    fn reopen(&mut self, options: Options) {
        drop(self.store.take());
        self.options = options;
        self.store = Some(Store::open(&self.path, self.options.clone()).unwrap());
        self.rebase();
    }

    /// Copies what a crash now may leave, with the tables it must hold.
    fn crash_here(&mut self, label: &str) {
        let want = tables(self.s().db_for_tests());
        let n = self.copies.len();
        let killed = self.dir.path().join(format!("killed-{n}.redb"));
        std::fs::copy(&self.path, &killed).unwrap();
        std::fs::copy(path_of(&self.path), path_of(&killed)).unwrap();
        self.copies
            .push((format!("{label} (killed)"), killed, want.clone()));
        assert_eq!(
            log_epoch(&self.path),
            self.base_epoch,
            "{label}: a checkpoint since the base; rebase after it"
        );
        let lost = self.dir.path().join(format!("power-{n}.redb"));
        std::fs::copy(&self.base, &lost).unwrap();
        std::fs::copy(path_of(&self.path), path_of(&lost)).unwrap();
        self.copies
            .push((format!("{label} (power loss)"), lost, want));
    }

    /// Reopens every copy: exactly the tables wanted, `check()` clean.
    fn verify(&self) {
        let mut failures = Vec::new();
        for (label, copy, want) in &self.copies {
            let reopened = match Store::open(copy, self.options.clone()) {
                Ok(s) => s,
                Err(e) => {
                    failures.push(format!("{label}: reopen failed: {e:?}"));
                    continue;
                }
            };
            let got = tables(reopened.db_for_tests());
            if &got != want {
                let differ: Vec<_> = want
                    .keys()
                    .chain(got.keys())
                    .filter(|t| want.get(*t) != got.get(*t))
                    .collect();
                failures.push(format!("{label}: tables differ: {differ:?}"));
            }
            let report = reopened.check().unwrap();
            if !report.ok {
                failures.push(format!("{label}: check: {:?}", report.problems));
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }
}

fn options_with(clock: &ManualClock) -> Options {
    Options::default()
        .with_argon2(argon(1))
        .with_clock(clock.clock())
        .with_lockout(Lockout {
            threshold: 3,
            duration: Duration::from_secs(600),
        })
}

fn user(name: &str) -> NewUser {
    NewUser::new(name, format!("{name}@example.com"), "First", "Last")
}

fn with_password(name: &str) -> NewUser {
    NewUser {
        password: Some(Secret::new(PASSWORD)),
        ..user(name)
    }
}

#[test]
fn every_public_write_is_in_what_a_crash_leaves() {
    let clock = ManualClock::new(Timestamp::parse("2026-01-01T00:00:00Z").unwrap());
    let mut run = Run::new(options_with(&clock));
    let hour = Duration::from_secs(3600);

    // Creates.
    let s = run.s();
    let admins = s.roles().create(NewRole::new("admins")).unwrap();
    let readers = s.roles().create(NewRole::new("readers")).unwrap();
    let acme_role = s
        .roles()
        .create(NewRole {
            tenant: Some("acme".into()),
            ..NewRole::new("staff")
        })
        .unwrap();
    let ann = s
        .users()
        .create(NewUser {
            roles: vec![admins.id],
            ..with_password("ann")
        })
        .unwrap();
    let bob = s
        .users()
        .create(NewUser {
            tenant: Some("acme".into()),
            roles: vec![acme_role.id],
            ..with_password("bob")
        })
        .unwrap();
    let cai = s.users().create(with_password("cai")).unwrap();
    run.crash_here("creates");

    // Patch, merge, replace; a role grant; versioned and not.
    let s = run.s();
    s.users()
        .patch(
            ann.id,
            &json!([
                {"op": "add", "path": "/attributes/city", "value": "Köln"},
                {"op": "replace", "path": "/lastName", "value": "Keller"}
            ]),
            Some(ann.version),
        )
        .unwrap();
    s.users()
        .merge(bob.id, &json!({"nickname": "bobby"}), None)
        .unwrap();
    s.users()
        .patch(
            cai.id,
            &json!([{"op": "add", "path": "/roles/-", "value": readers.id}]),
            None,
        )
        .unwrap();
    let current = s.users().get(cai.id).unwrap();
    let mut doc = serde_json::to_value(&current).unwrap();
    doc["firstName"] = json!("Cairo");
    s.users()
        .replace(cai.id, &doc, Some(current.version))
        .unwrap();
    s.roles()
        .merge(readers.id, &json!({"permissions": ["users:read"]}), None)
        .unwrap();
    run.crash_here("edits");

    // Deletes: refused while in use, then cascading.
    let s = run.s();
    assert!(matches!(
        s.roles().delete(admins.id, false),
        Err(Error::InUse { .. })
    ));
    s.roles().delete(admins.id, true).unwrap();
    let gone = s.users().create(user("gone")).unwrap();
    s.users().delete(gone.id).unwrap();
    run.crash_here("deletes");

    // Passwords: set, verify, failures up to the lockout, unlock.
    let s = run.s();
    s.users()
        .set_password(ann.id, &Secret::new("another good password"))
        .unwrap();
    s.users()
        .verify_password(&Credentials::new("ann", "another good password"))
        .unwrap();
    assert!(matches!(
        s.users()
            .verify_password(&Credentials::new("ann", "wrong password!")),
        Err(Error::AuthenticationFailed)
    ));
    run.crash_here("a failed verify counts");
    let s = run.s();
    for _ in 0..3 {
        assert!(
            s.login(&Credentials::new("cai", "wrong password!"), hour)
                .is_err()
        );
    }
    assert!(s.users().get(cai.id).unwrap().locked_until.is_some());
    run.crash_here("lockout");
    let s = run.s();
    assert!(
        s.login(&Credentials::new("nobody", "wrong password!"), hour)
            .is_err()
    );
    s.users().unlock(cai.id).unwrap();
    run.crash_here("unlock");

    // Sessions: login (last login), tenant login, logout, revoke, expiry.
    let s = run.s();
    let short = s
        .login(&Credentials::new("cai", PASSWORD), Duration::from_secs(60))
        .unwrap();
    let ann_login = s
        .login(&Credentials::new("ann", "another good password"), hour)
        .unwrap();
    s.login(&Credentials::new("bob", PASSWORD).tenant("acme"), hour)
        .unwrap();
    let bob2 = s
        .login(&Credentials::new("bob", PASSWORD).tenant("acme"), hour)
        .unwrap();
    run.crash_here("logins");
    let s = run.s();
    s.logout(ann_login.token.expose()).unwrap();
    assert_eq!(s.users().revoke_sessions(bob.id).unwrap(), 2);
    assert!(s.authenticate(bob2.token.expose()).is_err());
    clock.advance(Duration::from_secs(120));
    // A new session purges the expired one.
    s.login(&Credentials::new("ann", "another good password"), hour)
        .unwrap();
    assert!(s.authenticate(short.token.expose()).is_err());
    run.crash_here("logout, revoke, purge");

    // Clients: allowlist, login, secret rotation.
    let s = run.s();
    let created = s
        .clients()
        .create(NewClient {
            roles: vec![readers.id],
            ip_allowlist: vec!["10.0.0.0/8".into()],
            ..NewClient::new("sync job")
        })
        .unwrap();
    let client_id = created.client.client_id.clone();
    s.client_login(&client_id, &created.secret, Some("10.1.2.3"), hour)
        .unwrap();
    assert!(
        s.client_login(&client_id, &created.secret, Some("192.168.0.1"), hour)
            .is_err()
    );
    let rotated = s.clients().rotate_secret(created.client.id).unwrap();
    s.client_login(&client_id, &rotated, Some("10.9.9.9"), hour)
        .unwrap();
    s.clients()
        .patch(
            created.client.id,
            &json!([{"op": "add", "path": "/description", "value": "nightly"}]),
            None,
        )
        .unwrap();
    run.crash_here("clients");

    // TOTP: enrol, confirm, login with a code and with a recovery code.
    let s = run.s();
    let enrolment = s.users().totp_enroll(cai.id).unwrap();
    run.crash_here("totp enrol");
    let s = run.s();
    let secret = enrolment.secret.expose().to_owned();
    let recovery = s
        .users()
        .totp_confirm(cai.id, &totp_code(&secret, clock.now()))
        .unwrap();
    clock.advance(Duration::from_secs(31));
    s.login(
        &Credentials::new("cai", PASSWORD).totp_code(totp_code(&secret, clock.now())),
        hour,
    )
    .unwrap();
    s.login(
        &Credentials::new("cai", PASSWORD).totp_code(recovery[0].expose()),
        hour,
    )
    .unwrap();
    run.crash_here("totp confirm and logins");
    let s = run.s();
    s.users().totp_disable(cai.id).unwrap();
    run.crash_here("totp disable");

    // A tenant's view.
    let s = run.s();
    let acme = s.scoped("acme").unwrap();
    let dee = acme.users().create(with_password("dee")).unwrap();
    acme.users()
        .merge(dee.id, &json!({"nickname": "d"}), None)
        .unwrap();
    acme.write(|v| {
        v.users().create(user("eve"))?;
        v.roles().create(NewRole::new("temps"))?;
        v.users().delete(dee.id)?;
        Ok(())
    })
    .unwrap();
    acme.login(&Credentials::new("bob", PASSWORD), hour)
        .unwrap();
    run.crash_here("tenant view");

    // One closure, many operations, one of them failing and caught.
    let s = run.s();
    s.write(|tx| {
        let fay = tx.users().create(user("fay"))?;
        assert!(tx.users().create(user("fay")).is_err());
        tx.users().patch(
            fay.id,
            &json!([{"op": "add", "path": "/nickname", "value": "f"}]),
            None,
        )?;
        tx.roles().create(NewRole::new("auditors"))?;
        tx.clients().delete(created.client.id)?;
        tx.users().set_password(fay.id, &Secret::new(PASSWORD))?;
        Ok(())
    })
    .unwrap();
    assert!(
        s.write(|tx| {
            tx.users().create(user("rolled"))?;
            Err::<(), _>(Error::AuthenticationFailed)
        })
        .is_err()
    );
    run.crash_here("closures");

    // Held transactions: committed, and rolled back.
    let s = run.s();
    let tx = s.begin_write().unwrap();
    let gus = tx.users().create(with_password("gus")).unwrap();
    tx.roles().create(NewRole::new("held")).unwrap();
    tx.commit().unwrap();
    let tx = s.begin_write().unwrap();
    tx.users().create(user("never")).unwrap();
    tx.rollback().unwrap();
    let tx = s.begin_write().unwrap();
    tx.users().delete(gus.id).unwrap();
    drop(tx);
    run.crash_here("held transactions");

    // Writers in parallel (their commits grouped).
    let s = run.s();
    thread::scope(|scope| {
        for t in 0..4 {
            scope.spawn(move || {
                for i in 0..10_u32 {
                    let u = s.users().create(user(&format!("t{t}u{i}"))).unwrap();
                    s.users()
                        .merge(u.id, &json!({"nickname": format!("n{i}")}), None)
                        .unwrap();
                    if i.is_multiple_of(3) {
                        s.users().delete(u.id).unwrap();
                    }
                }
            });
        }
    });
    run.crash_here("parallel writers");
    run.verify();

    // Reopened several times: epochs move on, logs reset; a login that
    // rehashes under new parameters.
    for round in 0..3 {
        let options = Options::default()
            .with_argon2(argon(1 + round))
            .with_clock(clock.clock())
            .with_lockout(Lockout {
                threshold: 3,
                duration: Duration::from_secs(600),
            });
        run.reopen(options);
        let s = run.s();
        let before = s.users().get(gus_or(s, "fay")).unwrap();
        s.login(&Credentials::new("fay", PASSWORD), hour).unwrap();
        let after = s.users().get(before.id).unwrap();
        assert!(after.version >= before.version);
        s.users().create(user(&format!("round{round}"))).unwrap();
        run.crash_here(&format!("reopen {round}"));
    }

    // Compaction checkpoints; writes after it are logged again.
    run.store.as_mut().unwrap().compact().unwrap();
    run.rebase();
    let s = run.s();
    s.users().create(user("after.compact")).unwrap();
    s.users().delete(ann.id).unwrap();
    run.crash_here("after compact");
    run.verify();
}

/// The id of the user named `name`.
fn gus_or(s: &Store, name: &str) -> u64 {
    s.users().get_by_username(name, None).unwrap().id
}

/// Users whose export makes a journal of about `bytes`.
fn export_of(users: usize, blob: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = Store::memory_with(Options::default().with_argon2(argon(1))).unwrap();
    let role = src.roles().create(NewRole::new("r")).unwrap();
    let big = "x".repeat(blob);
    src.write(|tx| {
        for i in 0..users {
            let mut new = user(&format!("imp{i}"));
            new.roles = vec![role.id];
            new.attributes.insert("blob".into(), json!(big));
            tx.users().create(new)?;
        }
        Ok(())
    })
    .unwrap();
    let file = dir.path().join("export.jsonl");
    src.export_jsonl(&file).unwrap();
    (dir, file)
}

#[test]
fn small_and_large_imports_are_in_what_a_crash_leaves() {
    // Small: under the journal bound, logged.
    let (_d, small) = export_of(20, 100);
    let mut run = Run::new(Options::default().with_argon2(argon(1)));
    assert_eq!(run.s().import_jsonl(&small).unwrap(), 21);
    run.crash_here("small import");
    run.s().users().create(user("after")).unwrap();
    run.crash_here("after the small import");
    run.verify();

    // Large: over it, committed as a checkpoint.
    let (_d, large) = export_of(300, 5000);
    let mut run = Run::new(Options::default().with_argon2(argon(1)));
    assert_eq!(run.s().import_jsonl(&large).unwrap(), 301);
    run.rebase();
    run.crash_here("large import");
    run.s().users().create(user("after")).unwrap();
    run.s()
        .users()
        .merge(
            run.s().users().get_by_username("imp7", None).unwrap().id,
            &json!({"nickname": "seven"}),
            None,
        )
        .unwrap();
    run.crash_here("after the large import");
    run.verify();
}

#[test]
fn a_handle_and_its_transactions_write_through_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let options = Options::default().with_argon2(argon(1));
    let base = dir.path().join("base.redb");
    let handle = StoreHandle::new(Store::open(&path, options.clone()).unwrap());
    std::fs::copy(&path, &base).unwrap();
    handle
        .write(|v| v.users().create(user("ann")).map(|_| ()))
        .unwrap();
    let tx = handle.transaction();
    tx.begin().unwrap();
    tx.call(|v| v.users().create(user("bob")).map(|_| ()))
        .unwrap();
    tx.call(|v| v.roles().create(NewRole::new("r")).map(|_| ()))
        .unwrap();
    tx.commit().unwrap();
    let tx = handle.transaction();
    tx.begin().unwrap();
    tx.call(|v| v.users().create(user("never")).map(|_| ()))
        .unwrap();
    tx.rollback().unwrap();
    // Power loss: the store file of the open, the log of now.
    let lost = dir.path().join("lost.redb");
    std::fs::copy(&base, &lost).unwrap();
    std::fs::copy(path_of(&path), path_of(&lost)).unwrap();
    let reopened = Store::open(&lost, options).unwrap();
    for name in ["ann", "bob"] {
        reopened.users().get_by_username(name, None).unwrap();
    }
    assert!(reopened.users().get_by_username("never", None).is_err());
    assert_eq!(reopened.roles().count(&Query::default()).unwrap(), 1);
    assert!(reopened.check().unwrap().ok);
    handle.close();
}

#[test]
fn writes_across_log_size_checkpoints_are_in_what_a_crash_leaves() {
    let mut run = Run::new(Options::default().with_argon2(argon(1)));
    let blob = "y".repeat(3000);
    let mut checkpoints = 0_u32;
    let mut i = 0_u32;
    while checkpoints < 2 {
        let mut new = user(&format!("big{i}"));
        new.attributes.insert("blob".into(), json!(blob));
        let u = run.s().users().create(new).unwrap();
        checkpoints = checkpoints.wrapping_add(run.rebase_after_checkpoint());
        if i.is_multiple_of(3) {
            run.s()
                .users()
                .merge(u.id, &json!({"attributes": {"blob": "short"}}), None)
                .unwrap();
            checkpoints = checkpoints.wrapping_add(run.rebase_after_checkpoint());
        }
        if i.is_multiple_of(97) {
            run.crash_here(&format!("after big{i}"));
        }
        i = i.wrapping_add(1);
        assert!(i < 5000, "no checkpoint after {i} writes");
    }
    run.crash_here("the end");
    run.verify();
}

#[test]
fn a_damaged_header_is_passed_over_only_when_the_store_holds_every_record() {
    let mut run = Run::new(Options::default().with_argon2(argon(1)));
    run.s().users().create(user("ann")).unwrap();
    run.crash_here("one user");
    let lost = run.copies[1].1.clone();
    // The header's epoch damaged (its checksum no longer matches) while
    // the record after it is not in the store file: refused, never passed
    // over.
    let mut log = std::fs::read(path_of(&lost)).unwrap();
    log[16] ^= 0x01;
    std::fs::write(path_of(&lost), &log).unwrap();
    let err = Store::open(&lost, run.options.clone()).unwrap_err();
    assert!(
        matches!(&err, Error::IncompatibleFormat { reason } if reason.contains("checksum")),
        "{err:?}"
    );
    // The same log beside the store file that holds its record (the
    // killed-process copy reopened once, so checkpointed): a header torn
    // as a rewrite leaves it, passed over.
    let killed = run.copies[0].1.clone();
    drop(Store::open(&killed, run.options.clone()).unwrap());
    let mut header = std::fs::read(path_of(&killed)).unwrap();
    header[..log.len().min(4096)].copy_from_slice(&log[..log.len().min(4096)]);
    std::fs::write(path_of(&killed), &header).unwrap();
    let s = Store::open(&killed, run.options.clone()).unwrap();
    assert_eq!(s.users().count(&Query::default()).unwrap(), 1);
}
