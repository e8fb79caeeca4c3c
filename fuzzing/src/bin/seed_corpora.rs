//! Writes the seed inputs of every fuzz corpus into `fuzz/corpus/<target>/`
//! (`seed-…` files; existing files are kept): the expressions, parameter
//! lists and patches of `tests/vectors/*.json`, the PHC strings of the
//! password-hash vectors, and records, cursors and sessions a real store
//! makes. Run it from anywhere with `cargo run -p rosterdb-fuzzing --bin
//! seed_corpora`, then minimise with `cargo +nightly fuzz cmin <target>`.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use rosterdb::{Credentials, Query, Store};
use rosterdb_fuzzing::population;
use serde_json::Value;

type Failure = Box<dyn std::error::Error>;

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn vectors(name: &str) -> Result<Value, Failure> {
    let text = fs::read_to_string(root().join("tests/vectors").join(name))?;
    Ok(serde_json::from_str(&text)?)
}

/// The cases of a vector file.
fn cases(file: &Value, key: &str) -> Vec<Value> {
    file.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Writes the seeds of one target as `seed-<n>`.
fn write(target: &str, seeds: &[Vec<u8>]) -> Result<(), Failure> {
    let dir = root().join("fuzz/corpus").join(target);
    fs::create_dir_all(&dir)?;
    for (n, seed) in seeds.iter().enumerate() {
        fs::write(dir.join(format!("seed-{n:03}")), seed)?;
    }
    println!("{target}: {} seeds", seeds.len());
    Ok(())
}

fn expr_seeds(queries: &Value) -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = cases(queries, "cases")
        .iter()
        .filter_map(|case| case.get("where").and_then(Value::as_str))
        .map(|text| text.as_bytes().to_vec())
        .collect();
    for text in [
        "not (a = 1 or b in ('x', \"y\\n\", 2.5e3)) and c pr",
        "(((username sw 'A''b') or email ew '.org') and not enabled = false) or roles in (1, 2)",
        "attributes.level >= -3 and attributes.tags co 'a' and attributes.nested.x is not null",
        "createdAt > '2024-01-01T00:00:00.123456Z' and lastLoginAt is null",
        "lastName like 'O\\_%' or nickname <> null or tenant = 't1'",
        "NOT username EQ 'ann' AND permissions IN ('users:read')",
    ] {
        seeds.push(text.as_bytes().to_vec());
    }
    seeds
}

fn params_seeds(queries: &Value) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for case in cases(queries, "cases") {
        if let Some(pairs) = case.get("params").and_then(Value::as_array) {
            let lines: Vec<String> = pairs
                .iter()
                .filter_map(Value::as_array)
                .map(|pair| {
                    let part = |n: usize| pair.get(n).and_then(Value::as_str).unwrap_or_default();
                    format!("{}={}", part(0), part(1))
                })
                .collect();
            seeds.push(lines.join("\n").into_bytes());
        }
    }
    seeds.push(
        b"filter[lastName]=in:Lovelace,Other\nsort=lastName:desc,id\nfields=id,username\npageSize=2\nwithTotal=TRUE"
            .to_vec(),
    );
    seeds
}

fn patch_seeds(patches: &Value) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for case in cases(patches, "cases") {
        let record: u8 = match case.get("entity").and_then(Value::as_str) {
            Some("role") => 2,
            Some("client") => 3,
            _ => 0,
        };
        let (mode, body) = if let Some(ops) = case.get("ops") {
            (record, ops)
        } else if let Some(merge) = case.get("merge") {
            (record | 0b1000, merge)
        } else {
            continue;
        };
        let mut seed = vec![mode];
        seed.extend_from_slice(body.to_string().as_bytes());
        seeds.push(seed);
    }
    seeds
}

fn hash_seeds(hashes: &Value) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for case in cases(hashes, "valid") {
        let hash = case.get("hash").and_then(Value::as_str).unwrap_or_default();
        let password = case
            .get("password")
            .and_then(Value::as_str)
            .unwrap_or_default();
        seeds.push(format!("{hash}\n{password}").into_bytes());
    }
    for case in cases(hashes, "invalid") {
        let hash = case.get("hash").and_then(Value::as_str).unwrap_or_default();
        seeds.push(format!("{hash}\nx").into_bytes());
    }
    seeds
}

/// Every encoded record of a store file, each behind its kind's selector byte.
fn record_seeds(path: &Path) -> Result<Vec<Vec<u8>>, Failure> {
    const TABLES: [(u8, &str); 4] = [(0, "users"), (1, "roles"), (2, "clients"), (4, "changes")];
    let db = redb::Database::open(path)?;
    let read = db.begin_read()?;
    let mut seeds = Vec::new();
    for (selector, name) in TABLES {
        let table = read.open_table(TableDefinition::<u64, &[u8]>::new(name))?;
        for entry in table.iter()? {
            let (_, bytes) = entry?;
            let mut seed = vec![selector];
            seed.extend_from_slice(bytes.value());
            seeds.push(seed);
        }
    }
    let sessions = read.open_table(TableDefinition::<&[u8], &[u8]>::new("sessions"))?;
    for entry in sessions.iter()? {
        let (_, bytes) = entry?;
        let mut seed = vec![3];
        seed.extend_from_slice(bytes.value());
        seeds.push(seed);
    }
    Ok(seeds)
}

/// Next-page cursors of a few queries, as tokens and as their JSON bodies.
fn cursor_seeds(store: &Store) -> Result<Vec<Vec<u8>>, Failure> {
    let queries = [
        Query::all().page(1, 1),
        Query::parse("enabled = true")?
            .sort("lastName:desc,username")
            .page(1, 1),
        Query::all()
            .sort("attributes.level")
            .with_total()
            .page(1, 2),
        Query::parse("username sw 'a'")?
            .search("ann")
            .fields("id,username")
            .page(1, 1),
    ];
    let mut tokens = Vec::new();
    for query in &queries {
        tokens.extend(store.users().list(query)?.next_cursor);
    }
    tokens.extend(store.roles().list(&Query::all().page(1, 1))?.next_cursor);
    tokens.extend(store.clients().list(&Query::all().page(1, 1))?.next_cursor);
    let mut seeds = Vec::new();
    for token in tokens {
        let mut seed = vec![0];
        seed.extend_from_slice(token.as_bytes());
        seeds.push(seed);
        let bytes = URL_SAFE_NO_PAD.decode(&token)?;
        let body = bytes
            .get(1..bytes.len().saturating_sub(8))
            .unwrap_or_default();
        let mut seed = vec![1];
        seed.extend_from_slice(body);
        seeds.push(seed);
    }
    Ok(seeds)
}

/// A few fixed pseudo-random inputs for the model (xorshift, fixed seeds).
fn model_seeds() -> Vec<Vec<u8>> {
    [16_usize, 64, 128, 256, 512]
        .iter()
        .zip(1_u64..)
        .map(|(&len, seed)| {
            let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            (0..len)
                .map(|_| {
                    x ^= x.wrapping_shl(13);
                    x ^= x.wrapping_shr(7);
                    x ^= x.wrapping_shl(17);
                    x.to_le_bytes().first().copied().unwrap_or(0)
                })
                .collect()
        })
        .collect()
}

fn main() -> Result<(), Failure> {
    let queries = vectors("queries.json")?;
    write("expr", &expr_seeds(&queries))?;
    write("params", &params_seeds(&queries))?;
    write("patch", &patch_seeds(&vectors("patches.json")?))?;
    write(
        "password_hash",
        &hash_seeds(&vectors("password_hashes.json")?),
    )?;
    write("model", &model_seeds())?;
    write("model_wal", &model_seeds())?;

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("seed.rosterdb");
    {
        let store = Store::open(&path, population::options())?;
        population::populate(&store)?;
        store.users().patch(
            2,
            &serde_json::json!([{"op": "add", "path": "/attributes/x", "value": [1, "é", null]}]),
            None,
        )?;
        store.login(
            &Credentials::new("ann", "correct horse"),
            std::time::Duration::from_secs(3600),
        )?;
        write("cursor", &cursor_seeds(&store)?)?;
    }
    write("record", &record_seeds(&path)?)?;
    Ok(())
}
