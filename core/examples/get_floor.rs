//! What a `get` costs above redb's own lookup, on an existing store file
//! (e.g. one built by `compare --build rosterdb FILE 1000000`).
//!
//! `cargo run --release -p rosterdb --example get_floor FILE [ROUNDS]`
//! (default 5 rounds of 1,000,000 lookups each; a third argument `store`
//! times the store's gets only, for a profile of them). First, with the file
//! opened by redb alone (a 4 GiB page cache, which holds a 1M-user store whole):
//! the users table's `get` of an id, then the hashed e-mail index's
//! entries under a key's hash (format 10, decision 0029) followed by the
//! users table's `get` of the id found — the two tree walks a `get`
//! cannot avoid. Then, with the file opened as a store:
//! `users().get(id)` and `users().get_by_email(..)` on the same ids and
//! e-mails. Ids are visited as `compare` visits them (`k * 7919 mod N`,
//! spread over the whole store); e-mails cycle over 65,536 users spread
//! over the ids, as `compare`'s (`drive::EMAILS`); their keys are made as
//! the store makes them for users without a tenant (an empty tenant part,
//! then the folded e-mail: the population's e-mails are ASCII, whose fold
//! is their lower case). Each round
//! times every case once; the program prints each case's median time per
//! lookup in nanoseconds. A measurement for the performance notes, not a
//! test.
//!
use std::time::Instant;

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use rosterdb::{Options, Store};

/// The users table as the store keeps it: id → encoded record.
const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");
/// The unique e-mail index: (XXH3-64 of the tenant and folded e-mail, id) → nothing.
const USER_EMAIL: TableDefinition<(u64, u64), ()> = TableDefinition::new("idx.user.email.hash");

/// How many e-mails the e-mail cases cycle over (as `compare`'s
/// `drive::EMAILS`).
const EMAILS: usize = 1 << 16;
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

    // The e-mails and keys of EMAILS users spread over the ids, read
    // through the store (then closed).
    let (n, addresses, keys) = {
        let store = Store::open(&path, Options::default())?;
        let n = store.users().count(&rosterdb::Query::default())?;
        let mut addresses = Vec::with_capacity(EMAILS);
        let mut keys = Vec::with_capacity(EMAILS);
        for k in 0..EMAILS as u64 {
            let user = store.users().get(id_at(k, n))?;
            let mut key = vec![0_u8];
            key.extend_from_slice(user.email.to_ascii_lowercase().as_bytes());
            key.push(0);
            keys.push((xxhash_rust::xxh3::xxh3_64(&key), user.id));
            addresses.push(user.email);
        }
        (n, addresses, keys)
    };
    let (raw_id, raw_email, raw_touched, raw_copied) = {
        let db = redb::Database::builder()
            .set_cache_size(4 << 30)
            .open(&path)?;
        let txn = db.begin_read()?;
        let users = txn.open_table(USERS)?;
        let emails = txn.open_table(USER_EMAIL)?;
        // Warm: every page of both trees in redb's cache.
        let mut bytes = 0_usize;
        for entry in users.iter()? {
            bytes = bytes.wrapping_add(entry?.1.value().len());
        }
        for entry in emails.iter()? {
            std::hint::black_box(entry?.0.value());
        }
        println!(
            "mean record: {} bytes",
            bytes.checked_div(usize::try_from(n)?).unwrap_or(0)
        );
        // The id under a hash (the store then checks the record's e-mail).
        let id_of = |hash: u64| {
            emails
                .range((hash, 0)..=(hash, u64::MAX))
                .ok()
                .and_then(|mut entries| entries.next())
                .and_then(Result::ok)
                .map_or(0, |(key, _)| key.value().1)
        };
        let (mut by_id, mut by_email, mut touched, mut copied) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
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
                let Some((hash, _)) = keys.get(cycle(k, keys.len())) else {
                    return 0;
                };
                let id = id_of(*hash);
                users.get(id).ok().flatten().map_or(0, |v| v.value().len())
            }));
            copied.push(timed(lookups, |k| {
                let Some((hash, _)) = keys.get(cycle(k, keys.len())) else {
                    return 0;
                };
                let id = id_of(*hash);
                let bytes = users
                    .get(id)
                    .ok()
                    .flatten()
                    .map_or_else(Vec::new, |v| v.value().to_vec());
                std::hint::black_box(bytes).len()
            }));
        }
        (
            median(by_id),
            median(by_email),
            median(touched),
            median(copied),
        )
    };

    // Every page cached, as in redb's case above (4 GiB, the default
    // before decision 0017's amendment 1).
    let store = Store::open(&path, Options::default().with_cache_bytes(4 << 30))?;
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
    println!("redb email index + users.get       {raw_email:8.0}");
    println!("redb email + users.get, value copied {raw_copied:8.0}");
    println!(
        "store users().get_by_email         {store_email:8.0}  (+{:.0})",
        store_email - raw_email
    );
    Ok(())
}
