//! Growth of the store file (`core/src/storage/backend.rs`): redb syncs the
//! file after each growth so that no header naming the larger layout can
//! outlive a crash that lost the larger length. rosterdb puts those syncs
//! off until the header's next write, which first makes the length
//! durable. A bulk import into a new store therefore syncs the store disk
//! a few times, not once per growth, and a crash at any of its syncs,
//! keeping the header and the rewritten pages but neither the growth nor
//! anything written past the durable length, still finds the store as it
//! was before the import or after it.
//!
//! The scenarios after those run a power loss at every store sync, every
//! length change, every header write (offset 0) and some writes between,
//! of: an import with a 1 MiB cache (redb writes pages out mid-transaction,
//! past a growth whose sync was put off); logged writes that grow the file
//! until the close's checkpoint; and an import, a delete, a compaction
//! that shrinks the file and an import that grows it again. Each crash
//! keeps none, all, the writes inside the durable length, every write but
//! no length change (the file then ends where the last kept write ends,
//! which redb's recovery must read as a layout), or random subsets.
//!
//! `cargo test -p rosterdb-faults --test growth -- --nocapture` prints the
//! counts and cases.

// A test fails by panicking: unwraps, indexing and arithmetic on small
// known values are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

use std::sync::{Arc, Mutex};

use rosterdb::{NewUser, Query, Store};
use rosterdb_faults::{Call, Fault, FaultyDisk, Survivors, Unsynced};
use serde_json::json;

use rosterdb_faults::open_with_log as open;

/// Users of the import: enough that the file grows several times.
const USERS: usize = 1500;

fn import(store: &Store) -> rosterdb::Result<Vec<u64>> {
    store.users().create_many(users_named("user", USERS, 200))
}

/// The images of a new, empty store and its log, closed.
fn empty() -> (Vec<u8>, Vec<u8>) {
    let (store, log) = (FaultyDisk::new(), FaultyDisk::new());
    drop(open(&store, &log).unwrap());
    (store.image(), log.image())
}

#[test]
fn a_bulk_import_into_a_new_store_syncs_the_store_disk_a_few_times_not_once_per_growth() {
    let images = empty();
    let disk = FaultyDisk::from_image(images.0);
    let log = FaultyDisk::from_image(images.1);
    let store = open(&disk, &log).unwrap();
    let before = disk.durable_image().len();
    let counts = disk.counts();
    import(&store).unwrap();
    let spent = disk.counts().since(&counts);
    let after = disk.image().len();
    eprintln!("file {before} -> {after} bytes; store disk calls {spent:?}");
    assert!(
        after >= 16 * before,
        "the import grew the file {before} -> {after}"
    );
    // redb doubles the file until its first region is full: 16× is four
    // growths at least, and without the deferral each was a sync.
    assert!(spent.set_lens >= 4, "{spent:?}");
    assert!(
        spent.syncs <= 2,
        "the import's commit syncs the store disk before and after the header, nothing more: {spent:?}"
    );
    drop(store);
    let reopened = open(&disk.crash(&Survivors::None), &log.crash(&Survivors::None)).unwrap();
    assert!(reopened.check().unwrap().ok);
    assert_eq!(
        reopened.users().count(&Query::default()).unwrap(),
        USERS as u64
    );
}

/// Whether `change` is a write that ends past `durable` bytes (into space
/// a growth made).
fn write_past(change: &Unsynced, durable: u64) -> bool {
    matches!(change, Unsynced::Write { offset, data } if offset + data.len() as u64 > durable)
}

/// The positions of the unsynced writes that land inside the durable
/// image: the header and pages the import rewrote, never the growth nor
/// what lies past the durable length.
fn writes_inside(disk: &FaultyDisk) -> Vec<usize> {
    let durable = disk.durable_image().len() as u64;
    disk.unsynced()
        .iter()
        .enumerate()
        .filter_map(|(i, change)| {
            (matches!(change, Unsynced::Write { .. }) && !write_past(change, durable)).then_some(i)
        })
        .collect()
}

#[test]
fn a_crash_at_any_store_sync_of_an_import_that_keeps_the_header_but_not_the_growth_finds_the_store()
{
    let images = empty();
    let mut nth = 0;
    loop {
        let disk = FaultyDisk::from_image(images.0.clone());
        let log = FaultyDisk::from_image(images.1.clone());
        let store = open(&disk, &log).unwrap();
        disk.arm(Fault::PowerLoss {
            call: Call::SyncData,
            nth,
        });
        let imported = import(&store).is_ok();
        drop(store);
        if disk.fired() == 0 {
            break;
        }
        let inside = writes_inside(&disk);
        let kept_header = inside.iter().any(
            |&i| matches!(&disk.unsynced()[i], Unsynced::Write { offset, .. } if *offset < 4096),
        );
        eprintln!(
            "power loss at store sync {nth}: import acknowledged {imported}, {} unsynced changes, {} inside the durable length, header among them {kept_header}",
            disk.unsynced().len(),
            inside.len()
        );
        for survivors in [Survivors::None, Survivors::All, Survivors::Only(inside)] {
            let what = format!("power loss at store sync {nth}, keeping {survivors:?}");
            let reopened = open(&disk.crash(&survivors), &log.crash(&survivors))
                .unwrap_or_else(|e| panic!("{what}: reopen failed: {e:?}"));
            let report = reopened.check().unwrap();
            assert!(report.ok, "{what}: {:?}", report.problems);
            let users = reopened.users().count(&Query::default()).unwrap();
            assert!(
                users == 0 || users == USERS as u64,
                "{what}: {users} users, the import by halves"
            );
            assert!(
                !imported || users == USERS as u64,
                "{what}: the acknowledged import lost"
            );
        }
        nth += 1;
    }
    assert!(nth >= 2, "the import's commit syncs the store disk: {nth}");
}

// More ways to reach a header write or a crash while a growth is
// deferred.

/// A backend that forwards to a [`FaultyDisk`] and records the offset of
/// every `write`, in call order: a dry run finds which writes are redb's
/// header (offset 0).
#[derive(Debug, Clone)]
struct Recorder {
    disk: FaultyDisk,
    writes: Arc<Mutex<Vec<u64>>>,
}

impl rosterdb::StorageBackend for Recorder {
    fn len(&self) -> std::io::Result<u64> {
        self.disk.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
        self.disk.read(offset, out)
    }
    fn set_len(&self, len: u64) -> std::io::Result<()> {
        self.disk.set_len(len)
    }
    fn sync_data(&self) -> std::io::Result<()> {
        self.disk.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        self.writes.lock().unwrap().push(offset);
        self.disk.write(offset, data)
    }
    fn close(&self) -> std::io::Result<()> {
        self.disk.close()
    }
}

/// A store on `disk` (and `log`, when given) with a cache of `cache`
/// bytes: a small cache makes redb write pages out during a transaction,
/// after growths whose syncs are deferred.
fn open_on(
    disk: impl rosterdb::StorageBackend,
    log: Option<&FaultyDisk>,
    cache: u64,
) -> rosterdb::Result<Store> {
    let options = rosterdb_faults::cheap_options().with_cache_bytes(cache);
    match log {
        Some(log) => Store::open_with_backend_and_log(disk, log.clone(), options),
        None => Store::open_with_backend(disk, options),
    }
}

/// A scenario: operations on a store, returning how many of its steps
/// were acknowledged; `valid(users, acknowledged)` says whether a store
/// reopened after a crash holds a state before or after a step, and one
/// at least as new as the last acknowledged step.
struct Scenario {
    name: &'static str,
    log: bool,
    cache: u64,
    /// The steps `run` acknowledges without a fault.
    steps: usize,
    /// Power losses at every `write_stride`th write too (0: none).
    write_stride: u64,
    run: fn(&mut Store) -> usize,
    valid: fn(u64, usize) -> bool,
}

fn users_named(prefix: &str, n: usize, pad: usize) -> Vec<NewUser> {
    (0..n)
        .map(|i| {
            let mut new = NewUser::new(
                format!("{prefix}{i}"),
                format!("{prefix}{i}@example.com"),
                "Ada",
                format!("Lovelace{i}"),
            );
            new.attributes
                .insert("note".into(), json!(format!("{i:0>pad$}")));
            new
        })
        .collect()
}

/// Imports in one transaction, with a 1 MiB cache: redb writes pages out
/// mid-transaction, past the durable length, before the commit's header.
fn run_import(store: &mut Store) -> usize {
    usize::from(
        store
            .users()
            .create_many(users_named("u", USERS, 200))
            .is_ok(),
    )
}

fn valid_import(users: u64, acknowledged: usize) -> bool {
    (users == 0 && acknowledged == 0) || users == USERS as u64
}

/// Logged (non-durable) writes, each its own transaction, that grow the
/// file; the close's checkpoint is the only durable commit.
const LOGGED: usize = 120;
fn run_logged(store: &mut Store) -> usize {
    let mut done = 0;
    for (i, user) in users_named("l", LOGGED, 6000).into_iter().enumerate() {
        if store.users().create(user).is_err() {
            return done;
        }
        done = i + 1;
    }
    done
}

fn valid_logged(users: u64, acknowledged: usize) -> bool {
    users >= acknowledged as u64 && users <= LOGGED as u64
}

/// Import, delete most of it, compact (the file shrinks), import again
/// (it grows back). Steps: 1 import, 2..=k deletes, then compact, then the
/// second import.
const SHRINK_FIRST: usize = 600;
const SHRINK_KEEP: usize = 20;
const SHRINK_SECOND: usize = 300;
fn run_shrink_then_grow(store: &mut Store) -> usize {
    let Ok(ids) = store
        .users()
        .create_many(users_named("a", SHRINK_FIRST, 400))
    else {
        return 0;
    };
    let delete = store.write(|tx| {
        for &id in &ids[SHRINK_KEEP..] {
            tx.users().delete(id)?;
        }
        Ok(())
    });
    if delete.is_err() {
        return 1;
    }
    if store.compact().is_err() {
        return 2;
    }
    if store
        .users()
        .create_many(users_named("b", SHRINK_SECOND, 400))
        .is_err()
    {
        return 3;
    }
    4
}

fn valid_shrink_then_grow(users: u64, acknowledged: usize) -> bool {
    let states = [
        0,
        SHRINK_FIRST as u64,
        SHRINK_KEEP as u64,
        SHRINK_KEEP as u64,
        (SHRINK_KEEP + SHRINK_SECOND) as u64,
    ];
    states[acknowledged..].contains(&users)
}

/// The survivor sets a crash is tried with: none, all, the writes inside
/// the durable length, every write but no length change (a write past
/// the durable end then extends the file to wherever it ends), and a few
/// seeded random subsets.
fn survivor_sets(disk: &FaultyDisk, seed: u64) -> Vec<(String, Survivors)> {
    let unsynced = disk.unsynced();
    let writes: Vec<usize> = unsynced
        .iter()
        .enumerate()
        .filter_map(|(i, c)| matches!(c, Unsynced::Write { .. }).then_some(i))
        .collect();
    let mut sets = vec![
        ("none".to_owned(), Survivors::None),
        ("all".to_owned(), Survivors::All),
        (
            "writes inside".to_owned(),
            Survivors::Only(writes_inside(disk)),
        ),
        ("writes, no set_len".to_owned(), Survivors::Only(writes)),
    ];
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    for r in 0..2 {
        let mut chosen = vec![];
        for i in 0..unsynced.len() {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if (state >> 33).is_multiple_of(2) {
                chosen.push(i);
            }
        }
        sets.push((format!("random {r}"), Survivors::Only(chosen)));
    }
    sets
}

/// Runs `scenario` once to find the store disk's syncs, length changes
/// and writes at offset 0 (redb's header), then once per power loss at
/// each of them (and at every `write_stride`th write): the reopened store
/// must pass `check()`, hold a valid state and take a write, under every
/// survivor set of [`survivor_sets`]. Returns how many of the crashes had
/// unsynced writes past the durable length.
fn power_loss_at_every_sync_and_header_write(scenario: &Scenario) -> usize {
    let (store_image, log_image) = empty();
    let dry = FaultyDisk::from_image(store_image.clone());
    let writes = Arc::new(Mutex::new(vec![]));
    let recorder = Recorder {
        disk: dry.clone(),
        writes: writes.clone(),
    };
    let dry_log = FaultyDisk::from_image(log_image.clone());
    let counts = dry.counts();
    {
        let mut store =
            open_on(recorder, scenario.log.then_some(&dry_log), scenario.cache).unwrap();
        assert_eq!((scenario.run)(&mut store), scenario.steps);
    }
    let spent = dry.counts().since(&counts);
    let header_writes: Vec<u64> = writes
        .lock()
        .unwrap()
        .iter()
        .enumerate()
        .filter_map(|(n, &offset)| (offset == 0).then_some(n as u64))
        .collect();
    eprintln!(
        "{}: store disk {spent:?}; header writes at write #{header_writes:?}",
        scenario.name
    );
    let mut faults: Vec<Fault> = (0..spent.syncs)
        .map(|nth| Fault::PowerLoss {
            call: Call::SyncData,
            nth,
        })
        .collect();
    faults.extend((0..spent.set_lens).map(|nth| Fault::PowerLoss {
        call: Call::SetLen,
        nth,
    }));
    // Every header write, and every `stride`th write besides (pages redb
    // writes out mid-transaction, past a deferred growth).
    let stride = scenario.write_stride;
    faults.extend(
        (0..spent.writes)
            .filter(|nth| header_writes.contains(nth) || (stride > 0 && nth.is_multiple_of(stride)))
            .map(|nth| Fault::PowerLoss {
                call: Call::Write,
                nth,
            }),
    );
    let mut cases_past_durable = 0;
    for (k, fault) in faults.into_iter().enumerate() {
        let disk = FaultyDisk::from_image(store_image.clone());
        let log = FaultyDisk::from_image(log_image.clone());
        disk.arm(fault);
        let acknowledged = match open_on(disk.clone(), scenario.log.then_some(&log), scenario.cache)
        {
            Ok(mut store) => (scenario.run)(&mut store),
            Err(_) => 0,
        };
        if disk.fired() == 0 {
            eprintln!("{}: {fault:?} did not fire", scenario.name);
            continue;
        }
        let durable = disk.durable_image().len() as u64;
        if disk.unsynced().iter().any(|c| write_past(c, durable)) {
            cases_past_durable += 1;
        }
        for (what, survivors) in survivor_sets(&disk, k as u64) {
            let what = format!("{}: {fault:?}, keeping {what}", scenario.name);
            let crashed_log = log.crash(&survivors);
            let reopened = open_on(
                disk.crash(&survivors),
                scenario.log.then_some(&crashed_log),
                scenario.cache,
            )
            .unwrap_or_else(|e| panic!("{what}: reopen failed: {e:?}"));
            let report = reopened.check().unwrap();
            assert!(report.ok, "{what}: {:?}", report.problems);
            let users = reopened.users().count(&Query::default()).unwrap();
            assert!(
                (scenario.valid)(users, acknowledged),
                "{what}: {users} users, {acknowledged} steps acknowledged"
            );
            reopened
                .users()
                .create(NewUser::new("after", "after@example.com", "A", "F"))
                .unwrap_or_else(|e| panic!("{what}: a write after reopening: {e:?}"));
        }
    }
    eprintln!(
        "{}: {cases_past_durable} crashes with unsynced writes past the durable length",
        scenario.name
    );
    cases_past_durable
}

#[test]
fn an_import_with_a_small_cache_writes_past_the_durable_length_and_survives_power_loss() {
    for log in [true, false] {
        let past = power_loss_at_every_sync_and_header_write(&Scenario {
            name: if log {
                "import, small cache, log"
            } else {
                "import, small cache"
            },
            log,
            cache: 1 << 20,
            steps: 1,
            write_stride: 48,
            run: run_import,
            valid: valid_import,
        });
        // redb wrote pages out mid-transaction into space whose growth was
        // deferred: the crashes above kept some of them without the growth
        // (with every growth synced, as before decision 0023, none could).
        assert!(past > 0, "no crash had writes past the durable length");
    }
}

#[test]
fn logged_writes_that_grow_the_file_then_the_close_checkpoint_survive_power_loss() {
    let past = power_loss_at_every_sync_and_header_write(&Scenario {
        name: "logged growth",
        log: true,
        cache: 1 << 20,
        steps: LOGGED,
        write_stride: 128,
        run: run_logged,
        valid: valid_logged,
    });
    assert!(past > 0, "no crash had writes past the durable length");
}

#[test]
fn a_shrink_by_compaction_then_growth_survives_power_loss() {
    for log in [true, false] {
        power_loss_at_every_sync_and_header_write(&Scenario {
            name: if log {
                "shrink then grow, log"
            } else {
                "shrink then grow"
            },
            log,
            cache: 1 << 20,
            steps: 4,
            write_stride: 0,
            run: run_shrink_then_grow,
            valid: valid_shrink_then_grow,
        });
    }
}
