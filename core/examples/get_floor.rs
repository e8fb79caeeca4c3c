//! What a `get` costs above redb's own lookup, on an existing store file
//! (e.g. one built by `compare --build rosterdb FILE 1000000`).
//!
//! `cargo run --release -p rosterdb --example get_floor FILE [ROUNDS]`
//! (default 5 rounds of 1,000,000 lookups each; a third argument `store`
//! times the store's gets only, for a profile of them). First, with the file
//! opened by redb alone (the page cache as large as rosterdb's default):
//! the users table's `get` of an id, then the e-mail index's `get` of a
//! key followed by the users table's `get` of its id — the two tree walks
//! a `get` cannot avoid. Then, with the file opened as a store:
//! `users().get(id)` and `users().get_by_email(..)` on the same ids and
//! e-mails. Ids are visited as `compare` visits them (`k * 7919 mod N`,
//! spread over the whole store); e-mails cycle over 65,536 users spread
//! over the e-mail index, as `compare`'s (`drive::EMAILS`). Each round
//! times every case once; the program prints each case's median time per
//! lookup in nanoseconds. A measurement for the performance notes, not a
//! test.
//!
//! The `hashed` case weighs a fixed-width unique e-mail index (decision
//! 0019, amendment 1): every key of the e-mail index is hashed to 8 bytes
//! (foldhash, fixed seed) into a table `hash → id` of a new redb file next
//! to FILE (`FILE.hashed-probe`, removed after), and the lookup of a hash
//! and then of its id in the users table is timed on the same e-mails as
//! the e-mail index's case. (A real index would also check the record's
//! e-mail against the one asked for, after the record is read.)

use std::time::Instant;

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use rosterdb::{Options, Store};

/// The users table as the store keeps it: id → encoded record.
const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");
/// The unique e-mail index: tenant and folded e-mail → id.
const USER_EMAIL: TableDefinition<&[u8], u64> = TableDefinition::new("idx.user.email");

/// How many e-mails the e-mail cases cycle over (as `compare`'s
/// `drive::EMAILS`).
const EMAILS: usize = 1 << 16;
/// The fixed-width index of the `hashed` case: hash of the key → id.
const HASHED: TableDefinition<u64, u64> = TableDefinition::new("hashed");

/// The 8-byte key of the `hashed` case.
fn hash_of(key: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0).hash_one(key)
}

/// The `k`th id `compare` visits in a store of `n` users.
fn id_at(k: u64, n: u64) -> u64 {
    k.wrapping_mul(7_919)
        .checked_rem(n)
        .unwrap_or(0)
        .saturating_add(1)
}

/// The place of the `k`th lookup in a list of `len` (cycling over it).
fn cycle(k: u64, len: usize) -> usize {
    usize::try_from(k)
        .unwrap_or(0)
        .checked_rem(len)
        .unwrap_or(0)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or_default()
}

/// Times `lookups` calls of `f(k)`, k = 0, 1, …: ns per call.
fn timed(lookups: u64, mut f: impl FnMut(u64) -> usize) -> f64 {
    let start = Instant::now();
    let mut sum = 0_usize;
    for k in 0..lookups {
        sum = sum.wrapping_add(f(k));
    }
    std::hint::black_box(sum);
    start.elapsed().as_secs_f64() * 1e9 / lookups as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: get_floor FILE [ROUNDS]")?;
    let rounds: usize = match args.next() {
        Some(n) => n.parse()?,
        None => 5,
    };
    // `store`: time the store's gets only (for a profile of them).
    let raw_rounds = if args.next().as_deref() == Some("store") {
        0
    } else {
        rounds
    };
    let lookups = 1_000_000_u64;

    let (n, keys, raw_id, raw_email, raw_touched, raw_copied, raw_hashed) = {
        let db = redb::Database::builder()
            .set_cache_size(4 << 30)
            .open(&path)?;
        let txn = db.begin_read()?;
        let users = txn.open_table(USERS)?;
        let emails = txn.open_table(USER_EMAIL)?;
        let n = users.len()?;
        // Warm: every page of both trees in redb's cache.
        let mut bytes = 0_usize;
        for entry in users.iter()? {
            bytes = bytes.wrapping_add(entry?.1.value().len());
        }
        let mut all: Vec<(Vec<u8>, u64)> = Vec::with_capacity(usize::try_from(n)?);
        for entry in emails.iter()? {
            let (key, id) = entry?;
            all.push((key.value().to_vec(), id.value()));
        }
        // EMAILS keys spread over the index, visited in a spread order.
        let step = all.len().checked_div(EMAILS).unwrap_or(1).max(1);
        let mut keys: Vec<(Vec<u8>, u64)> =
            all.iter().step_by(step).take(EMAILS).cloned().collect();
        let len = keys.len().max(1);
        keys = (0..keys.len())
            .filter_map(|k| {
                keys.get(k.wrapping_mul(7_919).checked_rem(len).unwrap_or(0))
                    .cloned()
            })
            .collect();
        // The `hashed` case's table, in a file of its own.
        let probe_path = format!("{path}.hashed-probe");
        let probe = redb::Database::builder()
            .set_cache_size(1 << 30)
            .create(&probe_path)?;
        {
            let mut hashed: Vec<(u64, u64)> = all.iter().map(|(k, id)| (hash_of(k), *id)).collect();
            hashed.sort_unstable();
            let w = probe.begin_write()?;
            {
                let mut table = w.open_table(HASHED)?;
                for (h, id) in &hashed {
                    table.insert(h, id)?;
                }
            }
            w.commit()?;
        }
        drop(all);
        let probe_txn = probe.begin_read()?;
        let hashed = probe_txn.open_table(HASHED)?;
        for entry in hashed.iter()? {
            std::hint::black_box(entry?.1.value());
        }
        println!(
            "mean record: {} bytes",
            bytes.checked_div(usize::try_from(n)?).unwrap_or(0)
        );
        let (mut by_id, mut by_email, mut touched, mut copied, mut by_hash) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..raw_rounds {
            by_id.push(timed(lookups, |k| {
                users
                    .get(id_at(k, n))
                    .ok()
                    .flatten()
                    .map_or(0, |v| v.value().len())
            }));
            touched.push(timed(lookups, |k| {
                users.get(id_at(k, n)).ok().flatten().map_or(0, |v| {
                    // One byte of each cache line: the memory the record
                    // spans, not the work of reading it.
                    v.value()
                        .iter()
                        .step_by(64)
                        .fold(0_usize, |s, b| s.wrapping_add(usize::from(*b)))
                })
            }));
            by_email.push(timed(lookups, |k| {
                let Some((key, _)) = keys.get(cycle(k, keys.len())) else {
                    return 0;
                };
                let id = emails
                    .get(key.as_slice())
                    .ok()
                    .flatten()
                    .map_or(0, |v| v.value());
                users.get(id).ok().flatten().map_or(0, |v| v.value().len())
            }));
            by_hash.push(timed(lookups, |k| {
                let Some((key, _)) = keys.get(cycle(k, keys.len())) else {
                    return 0;
                };
                let id = hashed
                    .get(hash_of(key))
                    .ok()
                    .flatten()
                    .map_or(0, |v| v.value());
                users.get(id).ok().flatten().map_or(0, |v| v.value().len())
            }));
            copied.push(timed(lookups, |k| {
                let Some((key, _)) = keys.get(cycle(k, keys.len())) else {
                    return 0;
                };
                let id = emails
                    .get(key.as_slice())
                    .ok()
                    .flatten()
                    .map_or(0, |v| v.value());
                let bytes = users
                    .get(id)
                    .ok()
                    .flatten()
                    .map_or_else(Vec::new, |v| v.value().to_vec());
                std::hint::black_box(bytes).len()
            }));
        }
        drop(hashed);
        drop(probe_txn);
        drop(probe);
        std::fs::remove_file(&probe_path)?;
        (
            n,
            keys,
            median(by_id),
            median(by_email),
            median(touched),
            median(copied),
            median(by_hash),
        )
    };

    let store = Store::open(&path, Options::default())?;
    let mut addresses = Vec::with_capacity(keys.len());
    for (_, id) in &keys {
        addresses.push(store.users().get(*id)?.email);
    }
    for k in 1..=n {
        std::hint::black_box(store.users().get(k)?);
    }
    let (mut by_id, mut by_email) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        by_id.push(timed(lookups, |k| {
            store
                .users()
                .get(id_at(k, n))
                .map_or(0, |u| u.username.len())
        }));
        by_email.push(timed(lookups, |k| {
            let Some(email) = addresses.get(cycle(k, addresses.len())) else {
                return 0;
            };
            store
                .users()
                .get_by_email(email, None)
                .map_or(0, |u| u.username.len())
        }));
    }
    let (store_id, store_email) = (median(by_id), median(by_email));
    println!("users: {n}; median ns per lookup over {rounds} rounds of {lookups}");
    println!("redb users.get(id)                 {raw_id:8.0}");
    println!("redb users.get(id), record touched  {raw_touched:8.0}");
    println!(
        "store users().get(id)              {store_id:8.0}  (+{:.0})",
        store_id - raw_id
    );
    println!("redb email index get + users.get   {raw_email:8.0}");
    println!("redb email + users.get, value copied {raw_copied:8.0}");
    println!("redb hashed e-mail get + users.get {raw_hashed:8.0}");
    println!(
        "store users().get_by_email         {store_email:8.0}  (+{:.0})",
        store_email - raw_email
    );
    Ok(())
}
