//! `check()` (docs/reference/changes-and-export.md): every index entry matches its record and every
//! record has its index entries, and every posting holds exactly the ids of
//! the records holding its term, and every run count is the number of
//! its index's keys it stands for; `compact()` lives on the store.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use redb::TableHandle;
use serde::{Deserialize, Serialize};

use crate::storage::codec;
use crate::storage::entity::{Entity, id_counter};
use crate::storage::keys::trailing_u64;
use crate::storage::postings::IdSet;
use crate::storage::run_counts;
use crate::storage::schema::{MULTI_TABLES, POSTING_TABLES, UNIQUE_TABLES};
use crate::storage::tx::Tables;
use crate::{Client, Result, Role, User};

/// What [`crate::Store::check`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// True when nothing is wrong.
    pub ok: bool,
    /// One line per problem.
    pub problems: Vec<String>,
}

/// The entries every record should have: table name → key → record id.
type Expected = BTreeMap<String, BTreeMap<Vec<u8>, u64>>;

/// The postings the records should have: table name → term → ids.
type ExpectedPostings = BTreeMap<String, BTreeMap<Vec<u8>, IdSet>>;

/// What the records say the indexes should hold.
#[derive(Default)]
struct Wanted {
    unique: Expected,
    multi: Expected,
    postings: ExpectedPostings,
}

/// Checks records against indexes and indexes against records.
pub(crate) fn check(tables: &dyn Tables) -> Result<CheckReport> {
    let mut problems = Vec::new();
    let mut wanted = Wanted::default();
    expect::<User>(tables, &mut wanted, &mut problems)?;
    expect::<Role>(tables, &mut wanted, &mut problems)?;
    expect::<Client>(tables, &mut wanted, &mut problems)?;
    let Wanted {
        mut unique,
        mut multi,
        mut postings,
    } = wanted;
    for table in UNIQUE_TABLES {
        let mut wanted = unique.remove(table.name()).unwrap_or_default();
        // Problems name the table the file holds.
        let hashed = crate::storage::unique::hashed(&table);
        let name = match &hashed {
            Some(hashed) => hashed.name(),
            None => table.name(),
        };
        for (key, id) in tables.unique_entries(table)? {
            match wanted.remove(&key) {
                Some(owner) if owner == id => {}
                Some(owner) => {
                    problems.push(format!("{name}: an entry names record {id}, not {owner}"))
                }
                None => problems.push(format!("{name}: a stray entry names record {id}")),
            }
        }
        for id in wanted.values() {
            problems.push(format!("{name}: record {id} has no entry"));
        }
    }
    for table in MULTI_TABLES {
        let name = table.name();
        let mut wanted = multi.remove(name).unwrap_or_default();
        if let Some(counts) = run_counts::counts_of(&table) {
            let want = run_counts::counts_of_keys(wanted.keys().map(Vec::as_slice));
            check_counts(tables, counts, want, &mut problems)?;
        }
        for key in tables.keys_in_range(table, &[], None, usize::MAX, false)? {
            if wanted.remove(&key).is_none() {
                let id = trailing_u64(&key).unwrap_or_default();
                problems.push(format!("{name}: a stray entry names record {id}"));
            }
        }
        for id in wanted.values() {
            problems.push(format!("{name}: record {id} has no entry"));
        }
    }
    for table in POSTING_TABLES {
        let name = table.name();
        let terms = postings.remove(name).unwrap_or_default();
        check_postings(tables, table, terms, &mut problems)?;
    }
    crate::storage::sessions::check(tables, &mut problems)?;
    Ok(CheckReport {
        ok: problems.is_empty(),
        problems,
    })
}

/// Compares the stored run counts of `table` with those the records'
/// index keys call for (count key → count).
fn check_counts(
    tables: &dyn Tables,
    table: run_counts::CountTable,
    mut want: BTreeMap<Vec<u8>, u64>,
    problems: &mut Vec<String>,
) -> Result<()> {
    let name = table.name();
    tables.counts(table, &[], None, false, &mut |key, stored| {
        let wanted = want.remove(key).unwrap_or(0);
        if wanted != stored {
            problems.push(format!(
                "{name}: a run count is {stored}, the records hold {wanted}"
            ));
        }
        Ok(true)
    })?;
    for n in want.values() {
        problems.push(format!("{name}: a run of {n} keys has no count"));
    }
    Ok(())
}

/// Compares the stored postings of `table` with those the records call for.
fn check_postings(
    tables: &dyn Tables,
    table: crate::storage::postings::PostingTable,
    mut terms: BTreeMap<Vec<u8>, IdSet>,
    problems: &mut Vec<String>,
) -> Result<()> {
    let name = table.name();
    let mut stored: BTreeMap<Vec<u8>, IdSet> = BTreeMap::new();
    tables.postings(table, &[], None, &mut |key, value| {
        let term = crate::storage::postings::term_of(key).to_vec();
        match (
            trailing_u64(key),
            crate::storage::postings::decode(name, value),
        ) {
            (Some(chunk), Ok(bitmap)) if !bitmap.is_empty() => {
                stored.entry(term).or_default().add_chunk(chunk, bitmap);
            }
            (Some(_), Ok(_)) => problems.push(format!("{name}: an empty posting is stored")),
            (None, _) => problems.push(format!("{name}: a posting key has no chunk")),
            (_, Err(e)) => problems.push(e.to_string()),
        }
        Ok(())
    })?;
    for (term, ids) in stored {
        let want = terms.remove(&term).unwrap_or_default();
        for id in ids.iter().filter(|&id| !want.contains(id)) {
            problems.push(format!("{name}: a stray posting names record {id}"));
        }
        for id in want.iter().filter(|&id| !ids.contains(id)) {
            problems.push(format!("{name}: record {id} has no posting"));
        }
    }
    for id in terms.values().flat_map(IdSet::iter) {
        problems.push(format!("{name}: record {id} has no posting"));
    }
    Ok(())
}

/// Reads every record of `E`, noting the index entries it should have.
fn expect<E: Entity>(
    tables: &dyn Tables,
    wanted: &mut Wanted,
    problems: &mut Vec<String>,
) -> Result<()> {
    let Wanted {
        unique,
        multi,
        postings,
    } = wanted;
    let mut after = 0;
    let mut max_id = 0;
    let mut seen = BTreeSet::new();
    let mut holders: HashMap<(String, Vec<u8>), u64> = HashMap::new();
    loop {
        let batch = tables.records_after(E::TABLE, after, 256)?;
        let Some((last, _)) = batch.last() else {
            break;
        };
        after = *last;
        for (id, bytes) in batch {
            max_id = max_id.max(id);
            let record: E::Record = match codec::decode(&bytes) {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("{} {id}: cannot be read ({e})", E::KIND));
                    continue;
                }
            };
            if E::id(&record) != id {
                problems.push(format!(
                    "{} {id}: the record says it is {}",
                    E::KIND,
                    E::id(&record)
                ));
            }
            seen.insert(id);
            for key in E::unique_keys(&record) {
                // Two records holding one key: a hashed index would hold
                // both entries (its key has the id), so only the keys tell.
                let whole = (key.table.name().to_owned(), key.key.clone());
                if let Some(other) = holders.insert(whole, id) {
                    problems.push(format!(
                        "{}: records {other} and {id} both hold one {} key",
                        E::KIND,
                        key.field
                    ));
                }
                unique
                    .entry(key.table.name().to_owned())
                    .or_default()
                    .insert(
                        crate::storage::unique::stored_key(&key.table, &key.key, id),
                        id,
                    );
            }
            for key in crate::storage::index::entries(E::KIND, id, &record) {
                multi
                    .entry(key.table.name().to_owned())
                    .or_default()
                    .insert(key.key, id);
            }
            for key in crate::storage::index::posting_keys(E::KIND, &record) {
                postings
                    .entry(key.table.0.name().to_owned())
                    .or_default()
                    .entry(key.term)
                    .or_default()
                    .insert(id);
            }
        }
    }
    let counter = tables.meta(id_counter(E::KIND))?.unwrap_or(0);
    if counter < max_id {
        problems.push(format!(
            "{} ids: the counter ({counter}) is below the largest id ({max_id})",
            E::KIND
        ));
    }
    Ok(())
}
