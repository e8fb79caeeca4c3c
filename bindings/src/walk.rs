//! Walks over every match of a query (`walkUsers`, …, `walkJson`): the
//! core's [`Walk`] reads the pages and follows their cursors; these objects
//! hold one, with the store, view or transaction it reads from, and convert
//! what it returns.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rosterdb::{Query, Walk};

use crate::calls::{Source, to_json};
use crate::{Client, EntityKind, Role, RosterError, User};

/// The walk, whatever a panic in an earlier call left it as (a failed
/// step leaves it where it was).
fn lock<T>(walk: &Mutex<Walk<T>>) -> MutexGuard<'_, Walk<T>> {
    walk.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Declares the typed walk object of one kind.
macro_rules! typed_walks {
    ($($(#[$attr:meta])* $walk:ident of $doc:ident in $collection:ident;)+) => {$(
        $(#[$attr])*
        ///
        /// `next()` returns the next record, or `null`/`nil` after the last.
        /// It reads a page when it has returned every record of the last
        /// one; an error (`Closed` once the store is closed or, for a walk
        /// of a transaction, once the transaction ended; a query that fails
        /// when it runs) leaves the walk where it was. Kotlin:
        /// `generateSequence { walk.next() }` is a `Sequence`; Swift:
        /// `while let record = try walk.next() { … }`. It may be used from
        /// any thread, one `next()` at a time.
        #[derive(uniffi::Object)]
        pub struct $walk {
            source: Source,
            walk: Mutex<Walk<rosterdb::$doc>>,
        }

        impl $walk {
            /// A walk of `query` on the records of `source`.
            pub(crate) fn new(source: Source, query: Query) -> Arc<$walk> {
                Arc::new($walk {
                    source,
                    walk: Mutex::new(Walk::new(query)),
                })
            }
        }

        #[uniffi::export]
        impl $walk {
            /// The next record, or `null`/`nil` after the last.
            pub fn next(&self) -> Result<Option<$doc>, RosterError> {
                let mut walk = lock(&self.walk);
                let item = walk
                    .next_item(|query| self.source.read(|c| Ok(c.$collection().list(query)?)))?;
                Ok(item.map($doc::from))
            }
        }
    )+};
}

typed_walks! {
    /// Every user matching a query, from `walkUsers`.
    UserWalk of User in users;
    /// Every role matching a query, from `walkRoles`.
    RoleWalk of Role in roles;
    /// Every client matching a query, from `walkClients`.
    ClientWalk of Client in clients;
}

/// Every record of one kind matching a query, from `walkJson`, each as
/// its JSON document (camelCase, projected to the query's `fields`), as
/// `listJson` gives them.
///
/// `next()` returns the next document, or `null`/`nil` after the last; it
/// reads pages and follows cursors as [`UserWalk`] does, with the same
/// errors. Kotlin: `generateSequence { walk.next() }`; Swift:
/// `while let doc = try walk.next() { … }`.
#[derive(uniffi::Object)]
pub struct RosterWalk {
    source: Source,
    entity: EntityKind,
    walk: Mutex<Walk<String>>,
}

impl RosterWalk {
    /// A walk of `query` on the records of `entity` in `source`.
    pub(crate) fn new(source: Source, entity: EntityKind, query: Query) -> Arc<RosterWalk> {
        Arc::new(RosterWalk {
            source,
            entity,
            walk: Mutex::new(Walk::new(query)),
        })
    }
}

/// A page of documents as JSON texts, projected to the query's `fields`.
fn json_page<E: serde::Serialize>(
    page: rosterdb::Page<E>,
) -> Result<rosterdb::Page<String>, RosterError> {
    let items = page
        .items_json()?
        .iter()
        .map(to_json)
        .collect::<Result<_, _>>()?;
    Ok(rosterdb::Page {
        items,
        total: page.total,
        next_cursor: page.next_cursor,
        fields: None,
    })
}

#[uniffi::export]
impl RosterWalk {
    /// The next document, as JSON text, or `null`/`nil` after the last.
    pub fn next(&self) -> Result<Option<String>, RosterError> {
        let mut walk = lock(&self.walk);
        walk.next_item(|query| {
            self.source
                .read(|c| with_collection!(c, self.entity, |c| json_page(c.list(query)?)))
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{EntityKind, ListQuery, RosterStore};

    #[test]
    fn walks_return_every_match_across_pages() {
        let store = RosterStore::memory(None).unwrap();
        for name in ["ann", "bob", "cid", "dan", "eve"] {
            let doc = format!(
                r#"{{"username": "{name}", "email": "{name}@example.com", "firstName": "A", "lastName": "B"}}"#
            );
            store.create_user_json(doc.into()).unwrap();
        }
        let query = ListQuery {
            sort: vec!["username:desc".into()],
            page_size: Some(2),
            ..ListQuery::default()
        };
        let walk = store.walk_users(query.clone()).unwrap();
        let names: Vec<String> = std::iter::from_fn(|| walk.next().unwrap())
            .map(|u| u.username)
            .collect();
        assert_eq!(names, ["eve", "dan", "cid", "bob", "ann"]);
        assert_eq!(walk.next(), Ok(None));

        let projected = ListQuery {
            fields: vec!["username".into()],
            ..query
        };
        let walk = store.walk_json(EntityKind::User, projected).unwrap();
        let docs: Vec<String> = std::iter::from_fn(|| walk.next().unwrap()).collect();
        assert_eq!(docs.len(), 5);
        assert_eq!(docs[0], r#"{"id":5,"username":"eve"}"#);
    }
}
