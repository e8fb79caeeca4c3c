//! `check()` (SPEC §8): every index entry matches its record and every
//! record has its index entries; `compact()` lives on the store.

use std::collections::{BTreeMap, BTreeSet};

use redb::TableHandle;
use serde::{Deserialize, Serialize};

use crate::storage::codec;
use crate::storage::entity::{Entity, id_counter};
use crate::storage::keys::trailing_u64;
use crate::storage::schema::{MULTI_TABLES, UNIQUE_TABLES};
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

/// Checks records against indexes and indexes against records.
pub(crate) fn check(tables: &dyn Tables) -> Result<CheckReport> {
    let mut problems = Vec::new();
    let mut unique = Expected::new();
    let mut multi = Expected::new();
    expect::<User>(tables, &mut unique, &mut multi, &mut problems)?;
    expect::<Role>(tables, &mut unique, &mut multi, &mut problems)?;
    expect::<Client>(tables, &mut unique, &mut multi, &mut problems)?;
    for table in UNIQUE_TABLES {
        let name = table.name();
        let mut wanted = unique.remove(name).unwrap_or_default();
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
    crate::storage::sessions::check(tables, &mut problems)?;
    Ok(CheckReport {
        ok: problems.is_empty(),
        problems,
    })
}

/// Reads every record of `E`, noting the index entries it should have.
fn expect<E: Entity>(
    tables: &dyn Tables,
    unique: &mut Expected,
    multi: &mut Expected,
    problems: &mut Vec<String>,
) -> Result<()> {
    let mut after = 0;
    let mut max_id = 0;
    let mut seen = BTreeSet::new();
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
                unique
                    .entry(key.table.name().to_owned())
                    .or_default()
                    .insert(key.key, id);
            }
            for key in crate::storage::index::entries(E::KIND, id, &record) {
                multi
                    .entry(key.table.name().to_owned())
                    .or_default()
                    .insert(key.key, id);
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
