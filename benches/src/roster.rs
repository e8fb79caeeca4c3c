//! The workloads on a rosterdb file store.

use std::path::Path;

use rosterdb::{NewRole, NewUser, Options, Query, Store};
use serde_json::json;

use crate::CHEAP;
use crate::population::ROLES;
use crate::workloads::{BenchError, BenchResult, PAGE, WRITERS, Workloads};

/// A rosterdb store file with roles `role1`..`role10` (ids 1..=10).
pub struct RosterStore {
    store: Store,
}

impl RosterStore {
    /// Opens (creating when new) the store file at `path`; creates the
    /// roles when the store has none.
    ///
    /// # Errors
    ///
    /// What [`Store::open`] and role creation raise.
    pub fn open(path: &Path) -> BenchResult<RosterStore> {
        let store = Store::open(path, Options::default().with_argon2(CHEAP))?;
        if store.roles().count(&Query::all())? == 0 {
            store.write(|tx| {
                for r in 1..=ROLES {
                    tx.roles().create(NewRole::new(format!("role{r}")))?;
                }
                Ok(())
            })?;
        }
        Ok(RosterStore { store })
    }

    /// The store, for workloads outside the trait.
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn ids(page: rosterdb::Page<rosterdb::User>) -> Vec<u64> {
        page.items.iter().map(|u| u.id).collect()
    }

    fn sorted() -> Query {
        Query::all().sort("lastName")
    }
}

/// A single-quoted query literal of `s` (quotes doubled).
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Workloads for RosterStore {
    type Cursor = String;

    fn name(&self) -> &'static str {
        "rosterdb"
    }

    fn import(&self, users: Vec<NewUser>) -> BenchResult<()> {
        self.store.users().create_many(users)?;
        Ok(())
    }

    fn get_by_id(&self, id: u64) -> BenchResult<u64> {
        Ok(self.store.users().get(id)?.id)
    }

    fn get_by_email(&self, email: &str) -> BenchResult<u64> {
        Ok(self.store.users().get_by_email(email, None)?.id)
    }

    fn filtered_page(&self, role: u64, pattern: &str) -> BenchResult<Vec<u64>> {
        let q = Query::parse(&format!(
            "enabled = true and roles eq {role} and lastName like {}",
            quoted(pattern)
        ))?
        .sort("lastName")
        .page(1, PAGE);
        Ok(Self::ids(self.store.users().list(&q)?))
    }

    fn search(&self, term: &str) -> BenchResult<Vec<u64>> {
        let q = Query::all().search(term).page(1, PAGE);
        Ok(Self::ids(self.store.users().list(&q)?))
    }

    fn email_contains(&self, part: &str) -> BenchResult<Vec<u64>> {
        let q = Query::parse(&format!("email co {}", quoted(part)))?.page(1, PAGE);
        Ok(Self::ids(self.store.users().list(&q)?))
    }

    fn sorted_page(&self, after: Option<&String>) -> BenchResult<(Vec<u64>, Option<String>)> {
        let q = match after {
            Some(c) => Query::all().cursor(c),
            None => Self::sorted().page(1, PAGE),
        };
        let page = self.store.users().list(&q)?;
        let next = page.next_cursor.clone();
        Ok((Self::ids(page), next))
    }

    fn offset_page(&self, offset: u64) -> BenchResult<Vec<u64>> {
        let q = Self::sorted().offset(offset, PAGE);
        Ok(Self::ids(self.store.users().list(&q)?))
    }

    fn count_enabled_role(&self, role: u64) -> BenchResult<u64> {
        let q = Query::parse(&format!("enabled = true and roles eq {role}"))?;
        Ok(self.store.users().count(&q)?)
    }

    fn patch_attribute(&self, id: u64, key: &str, value: &str) -> BenchResult<()> {
        let ops = json!([{"op": "add", "path": format!("/attributes/{key}"), "value": value}]);
        self.store.users().patch(id, &ops, None)?;
        Ok(())
    }

    fn patch_concurrently(&self, ids: &[Vec<u64>], value: &str) -> BenchResult<()> {
        if ids.len() > WRITERS {
            return Err(BenchError::Missing(format!(
                "a writer connection: {} threads asked, {WRITERS} at most",
                ids.len()
            )));
        }
        std::thread::scope(|s| {
            let handles: Vec<_> = ids
                .iter()
                .map(|mine| {
                    s.spawn(move || -> BenchResult<()> {
                        for &id in mine {
                            self.patch_attribute(id, "title", value)?;
                        }
                        Ok(())
                    })
                })
                .collect();
            handles.into_iter().try_for_each(|h| {
                h.join().map_err(|_| {
                    BenchError::Missing("a writer thread's result (it panicked)".into())
                })?
            })
        })
    }
}
