//! `RosterStore`: an open store and its operations, each one call into the core.

use std::sync::{Arc, PoisonError, RwLock};

use rosterdb::Context;

use crate::error::guard;
use crate::json::{self, NOT_UNICODE};
use crate::query::PageDoc;
use crate::{
    Change, CheckReport, Client, ClientPage, CreatedClient, EntityKind, ListQuery, NewClient,
    NewRole, NewUser, Role, RolePage, RosterError, StoreOptions, UnicodeString, User, UserPage,
};

/// A file path: `Storage` when it is not Unicode, as for any file name
/// the system refuses.
fn path(path: UnicodeString) -> Result<String, RosterError> {
    path.unicode().map_err(|_| {
        rosterdb::Error::storage(
            "the path is not a valid file name: it holds lone surrogate code points",
        )
        .into()
    })
}

/// A key a lookup finds a record of `entity` by, named `key` (`username`,
/// …): text that is not Unicode names no record (`NotFound`).
fn lookup_key(
    text: UnicodeString,
    key: &str,
    entity: rosterdb::EntityKind,
) -> Result<String, RosterError> {
    text.unicode().map_err(|_| {
        rosterdb::Error::NotFound {
            entity,
            key: format!("{key} that is not Unicode text"),
        }
        .into()
    })
}

/// The `tenant` of a lookup: text that is not Unicode is a tenant no record
/// has (`NotFound`).
fn lookup_tenant(
    tenant: Option<UnicodeString>,
    entity: rosterdb::EntityKind,
) -> Result<Option<String>, RosterError> {
    tenant.map(|t| lookup_key(t, "tenant", entity)).transpose()
}

/// An open rosterdb store: users, roles and app-clients in one file, or a
/// view of one tenant of it (`scoped`).
///
/// Open one with `RosterStore.open(path)` or `RosterStore.memory()`, share it
/// between threads freely, and close it (Kotlin `close()` or `use { }`,
/// Swift: drop the last reference) to release the file. Every call is its
/// own durable transaction and blocks while it runs (password hashing takes
/// tens of milliseconds), so call it off the UI thread.
#[derive(uniffi::Object)]
pub struct RosterStore {
    /// The open store, shared with every view of it. Each call clones the
    /// inner `Arc` for its duration, so `compact` can tell whether the
    /// store is in use.
    shared: Arc<RwLock<Arc<rosterdb::Store>>>,
    /// The tenant of a scoped view (one `Store::scoped` accepted); `None`
    /// for the whole store.
    scope: Option<String>,
}

impl RosterStore {
    /// The whole store, as the foreign API holds it.
    fn wrap(store: rosterdb::Store) -> Arc<Self> {
        Arc::new(RosterStore {
            shared: Arc::new(RwLock::new(Arc::new(store))),
            scope: None,
        })
    }

    /// The open store, held for one call.
    fn store(&self) -> Arc<rosterdb::Store> {
        Arc::clone(&self.shared.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs one call of the foreign API (inside [`guard`]) through the
    /// store, or through the view of its tenant when scoped.
    pub(crate) fn call<T>(
        &self,
        f: impl FnOnce(&Context<'_>) -> Result<T, RosterError>,
    ) -> Result<T, RosterError> {
        guard(|| {
            let store = self.store();
            let ctx = match &self.scope {
                Some(tenant) => Context::ScopedStore(&store, tenant),
                None => Context::Store(&store),
            };
            f(&ctx)
        })
    }

    /// Runs a whole-store operation (export, import, check, compact),
    /// which a scoped view refuses with `Storage` (decision 0003).
    fn whole_store<T>(&self, f: impl FnOnce() -> Result<T, RosterError>) -> Result<T, RosterError> {
        guard(|| {
            if self.scope.is_some() {
                return Err(rosterdb::Error::storage(
                    "export, import, check and compact work on the whole store, not a scoped view",
                )
                .into());
            }
            f()
        })
    }
}

/// Converts a core result into the foreign API's.
pub(crate) fn out<T, U: From<T>>(result: rosterdb::Result<T>) -> Result<U, RosterError> {
    Ok(result?.into())
}

/// What `create_client_json` returns: the client document and its secret.
#[derive(serde::Serialize)]
struct CreatedClientDoc<'a> {
    client: &'a rosterdb::Client,
    secret: &'a str,
}

/// Evaluates `$body` with `$c` bound to the collection of `$entity` in the
/// context `$store`.
macro_rules! with_collection {
    ($store:expr, $entity:expr, |$c:ident| $body:expr) => {
        match $entity {
            EntityKind::User => {
                let $c = $store.users();
                $body
            }
            EntityKind::Role => {
                let $c = $store.roles();
                $body
            }
            EntityKind::Client => {
                let $c = $store.clients();
                $body
            }
        }
    };
}

/// A document as compact JSON text.
fn to_json(doc: &impl serde::Serialize) -> Result<String, RosterError> {
    serde_json::to_string(doc).map_err(|e| RosterError::Internal {
        reason: format!("a document could not be written as JSON ({e})"),
    })
}

#[uniffi::export]
impl RosterStore {
    /// Opens the store file at `path`, creating it (or initialising a 0-byte
    /// file) when needed. Fails with `Locked` when another store holds the
    /// file, and with `IncompatibleFormat`, leaving it untouched, when it is
    /// not a rosterdb file or comes from a newer release.
    #[uniffi::constructor(default(options = None))]
    pub fn open(
        path: UnicodeString,
        options: Option<StoreOptions>,
    ) -> Result<Arc<Self>, RosterError> {
        guard(|| {
            let options = options.unwrap_or_default().try_into()?;
            let path = self::path(path)?;
            Ok(RosterStore::wrap(rosterdb::Store::open(path, options)?))
        })
    }

    /// A new, empty store that lives in memory only, for tests and previews.
    #[uniffi::constructor(default(options = None))]
    pub fn memory(options: Option<StoreOptions>) -> Result<Arc<Self>, RosterError> {
        guard(|| {
            let store = rosterdb::Store::memory_with(options.unwrap_or_default().try_into()?)?;
            Ok(RosterStore::wrap(store))
        })
    }

    /// Creates a user. Its password, if any, is stored only as an Argon2id hash.
    pub fn create_user(&self, user: NewUser) -> Result<User, RosterError> {
        self.call(|c| out(c.users().create(user.try_into()?)))
    }

    /// Creates a user from its JSON document (camelCase keys, SPEC §2.1,
    /// `password` included) and returns the created document as JSON.
    pub fn create_user_json(&self, doc: UnicodeString) -> Result<String, RosterError> {
        self.call(|c| {
            let new = json::new_document(&doc, rosterdb::NewUser::from_json)?;
            to_json(&c.users().create(new)?)
        })
    }

    /// The user with this id, or `NotFound`.
    pub fn get_user(&self, id: u64) -> Result<User, RosterError> {
        self.call(|c| out(c.users().get(id)))
    }

    /// The user with this username (case-insensitively) in `tenant`
    /// (`null`/`nil`: users without a tenant), or `NotFound`. In a scoped
    /// view the view's tenant is used, whatever `tenant` says.
    #[uniffi::method(default(tenant = None))]
    pub fn get_user_by_username(
        &self,
        username: UnicodeString,
        tenant: Option<UnicodeString>,
    ) -> Result<User, RosterError> {
        self.call(|c| {
            let username = lookup_key(username, "username", rosterdb::EntityKind::User)?;
            let tenant = lookup_tenant(tenant, rosterdb::EntityKind::User)?;
            out(c.users().get_by_username(&username, tenant.as_deref()))
        })
    }

    /// The user with this email (case-insensitively) in `tenant`, or `NotFound`.
    #[uniffi::method(default(tenant = None))]
    pub fn get_user_by_email(
        &self,
        email: UnicodeString,
        tenant: Option<UnicodeString>,
    ) -> Result<User, RosterError> {
        self.call(|c| {
            let email = lookup_key(email, "email", rosterdb::EntityKind::User)?;
            let tenant = lookup_tenant(tenant, rosterdb::EntityKind::User)?;
            out(c.users().get_by_email(&email, tenant.as_deref()))
        })
    }

    /// The user with this external id (`kind` is its `type`) in `tenant`, or `NotFound`.
    #[uniffi::method(default(tenant = None))]
    pub fn get_user_by_external_id(
        &self,
        kind: UnicodeString,
        value: UnicodeString,
        tenant: Option<UnicodeString>,
    ) -> Result<User, RosterError> {
        self.call(|c| {
            let user = rosterdb::EntityKind::User;
            let kind = lookup_key(kind, "external id", user)?;
            let value = lookup_key(value, "external id", user)?;
            let tenant = lookup_tenant(tenant, user)?;
            out(c
                .users()
                .get_by_external_id(&kind, &value, tenant.as_deref()))
        })
    }

    /// Deletes a user, returning its last document.
    pub fn delete_user(&self, id: u64) -> Result<User, RosterError> {
        self.call(|c| out(c.users().delete(id)))
    }

    /// Creates a role.
    pub fn create_role(&self, role: NewRole) -> Result<Role, RosterError> {
        self.call(|c| out(c.roles().create(role.try_into()?)))
    }

    /// Creates a role from its JSON document and returns the created document as JSON.
    pub fn create_role_json(&self, doc: UnicodeString) -> Result<String, RosterError> {
        self.call(|c| {
            let new = json::new_document(&doc, rosterdb::NewRole::from_json)?;
            to_json(&c.roles().create(new)?)
        })
    }

    /// The role with this id, or `NotFound`.
    pub fn get_role(&self, id: u64) -> Result<Role, RosterError> {
        self.call(|c| out(c.roles().get(id)))
    }

    /// Deletes a role, returning its last document. While users or clients
    /// hold it this fails with `InUse`, unless `cascade` is true: then the
    /// role is removed from every holder in the same transaction.
    #[uniffi::method(default(cascade = false))]
    pub fn delete_role(&self, id: u64, cascade: bool) -> Result<Role, RosterError> {
        self.call(|c| out(c.roles().delete(id, cascade)))
    }

    /// Creates an app-client with a generated client id and secret. The
    /// secret is returned only here and stored only as an Argon2id hash.
    pub fn create_client(&self, client: NewClient) -> Result<CreatedClient, RosterError> {
        self.call(|c| out(c.clients().create(client.try_into()?)))
    }

    /// Creates an app-client from its JSON document and returns
    /// `{"client": {…}, "secret": "…"}` as JSON; the secret is shown only here.
    pub fn create_client_json(&self, doc: UnicodeString) -> Result<String, RosterError> {
        self.call(|c| {
            let new = json::new_document(&doc, rosterdb::NewClient::from_json)?;
            let created = c.clients().create(new)?;
            to_json(&CreatedClientDoc {
                client: &created.client,
                secret: created.secret.expose(),
            })
        })
    }

    /// The client with this id, or `NotFound`.
    pub fn get_client(&self, id: u64) -> Result<Client, RosterError> {
        self.call(|c| out(c.clients().get(id)))
    }

    /// The client with this public client id (`rc_…`, compared exactly), or `NotFound`.
    pub fn get_client_by_client_id(&self, client_id: UnicodeString) -> Result<Client, RosterError> {
        self.call(|c| {
            let client_id = lookup_key(client_id, "clientId", rosterdb::EntityKind::Client)?;
            out(c.clients().get_by_client_id(&client_id))
        })
    }

    /// Deletes a client, returning its last document.
    pub fn delete_client(&self, id: u64) -> Result<Client, RosterError> {
        self.call(|c| out(c.clients().delete(id)))
    }

    /// Up to `limit` (1–1000) change-log entries after sequence number
    /// `after`, oldest first.
    #[uniffi::method(default(after = 0, limit = 100))]
    pub fn changes(&self, after: u64, limit: u32) -> Result<Vec<Change>, RosterError> {
        self.call(|c| {
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            let changes = c.changes(after, limit)?;
            Ok(changes.into_iter().map(Change::from).collect())
        })
    }

    /// A view of `tenant` with the whole API of the store (SPEC §7):
    /// creates set the tenant (naming another is `Validation` on `tenant`),
    /// lookups use it, lists, counts, plans, cursors and `changes` see only
    /// its records, and any other tenant's record is `NotFound`. Export,
    /// import, check and compact work on the whole store only: a view
    /// refuses them with `Storage`. The view shares the open store (it
    /// keeps the file open until it is closed too). An invalid tenant is
    /// `Validation` on `tenant`. Called on a view, it gives a view of
    /// `tenant`, as the Python binding does.
    pub fn scoped(&self, tenant: UnicodeString) -> Result<Arc<RosterStore>, RosterError> {
        guard(|| {
            let tenant = tenant.unicode().map_err(|_| {
                let code = rosterdb::ValidationCode::StringUnicode;
                RosterError::invalid("tenant", code, NOT_UNICODE)
            })?;
            self.store().scoped(&tenant)?;
            Ok(Arc::new(RosterStore {
                shared: Arc::clone(&self.shared),
                scope: Some(tenant),
            }))
        })
    }

    /// The tenant of a scoped view; `null`/`nil` for the whole store.
    pub fn tenant(&self) -> Option<String> {
        self.scope.clone()
    }

    /// Writes every role, user and client to the file at `path` (created or
    /// truncated) as JSON Lines, roles first, with credential hashes and
    /// never plaintext (SPEC §8); returns how many records were written.
    pub fn export_jsonl(&self, path: UnicodeString) -> Result<u64, RosterError> {
        self.whole_store(|| Ok(self.store().export_jsonl(self::path(path)?)?))
    }

    /// Loads a file written by `exportJsonl` into this store, which must be
    /// empty (otherwise `Conflict`), all or nothing, keeping ids,
    /// timestamps and versions; returns how many records were read. A bad
    /// line is an error naming the line, and nothing is written.
    pub fn import_jsonl(&self, path: UnicodeString) -> Result<u64, RosterError> {
        self.whole_store(|| Ok(self.store().import_jsonl(self::path(path)?)?))
    }

    /// Verifies that every index entry matches its record and every record
    /// has its index entries.
    pub fn check(&self) -> Result<CheckReport, RosterError> {
        self.whole_store(|| out(self.store().check()))
    }

    /// Reclaims unused file space and returns whether anything was
    /// reclaimed. It needs the store to itself: while another call on it
    /// (or on a view of it) runs, it fails with `Storage`.
    pub fn compact(&self) -> Result<bool, RosterError> {
        self.whole_store(|| {
            let mut store = self.shared.write().unwrap_or_else(PoisonError::into_inner);
            let store = Arc::get_mut(&mut store)
                .ok_or_else(|| rosterdb::Error::storage("the store is in use by another call"))?;
            Ok(store.compact()?)
        })
    }

    /// One page of the users matching `query`, as records. A query with
    /// `fields` is `InvalidQuery` on `fields`: use `listJson` for a projection.
    #[uniffi::method(default(query))]
    pub fn list_users(&self, query: ListQuery) -> Result<UserPage, RosterError> {
        self.call(|c| out(c.users().list(&query.to_typed_query()?)))
    }

    /// One page of the roles matching `query`, as records (no `fields`).
    #[uniffi::method(default(query))]
    pub fn list_roles(&self, query: ListQuery) -> Result<RolePage, RosterError> {
        self.call(|c| out(c.roles().list(&query.to_typed_query()?)))
    }

    /// One page of the clients matching `query`, as records (no `fields`).
    #[uniffi::method(default(query))]
    pub fn list_clients(&self, query: ListQuery) -> Result<ClientPage, RosterError> {
        self.call(|c| out(c.clients().list(&query.to_typed_query()?)))
    }

    /// One page of the records of `entity` matching `query`, as the JSON
    /// text `{"items": […], "total": n or null, "nextCursor": "…" or null}`;
    /// the items are the camelCase documents, projected to `fields` when given.
    #[uniffi::method(default(query))]
    pub fn list_json(&self, entity: EntityKind, query: ListQuery) -> Result<String, RosterError> {
        self.call(|c| {
            let query = query.to_query()?;
            let page = with_collection!(c, entity, |c| PageDoc::new(c.list(&query)?)?);
            to_json(&page)
        })
    }

    /// How many records of `entity` match `query` (its paging is ignored).
    #[uniffi::method(default(query))]
    pub fn count(&self, entity: EntityKind, query: ListQuery) -> Result<u64, RosterError> {
        self.call(|c| {
            let query = query.to_query()?;
            Ok(with_collection!(c, entity, |c| c.count(&query)?))
        })
    }

    /// Whether any record of `entity` matches `query`.
    #[uniffi::method(default(query))]
    pub fn exists(&self, entity: EntityKind, query: ListQuery) -> Result<bool, RosterError> {
        self.call(|c| {
            let query = query.to_query()?;
            Ok(with_collection!(c, entity, |c| c.exists(&query)?))
        })
    }

    /// How `query` would run on the records of `entity`, as text: the
    /// index or scan that finds the candidates, the order, the checks left.
    #[uniffi::method(default(query))]
    pub fn explain(&self, entity: EntityKind, query: ListQuery) -> Result<String, RosterError> {
        self.call(|c| {
            let query = query.to_query()?;
            Ok(with_collection!(c, entity, |c| c.explain(&query)?))
        })
    }
}

/// `patch_*`, `merge_*` and `replace_*` (SPEC §4) for the records of one
/// collection, as methods `$patch`, `$merge` and `$replace` returning `$record`.
macro_rules! update_methods {
    ($collection:ident => $record:ty: $patch:ident, $merge:ident, $replace:ident) => {
        #[uniffi::export]
        impl RosterStore {
            /// Applies a JSON Patch (RFC 6902) to the record with this id and
            /// returns the result. `ops` is the text of a JSON array of
            /// operations (add, remove, replace, move, copy, test) on its
            /// camelCase document, applied all or none. A bad operation, or one
            /// on a read-only field (a `test` may read them), is `InvalidPatch`
            /// with its index; text that is not JSON is `InvalidPatch` at 0.
            /// For users, `add`/`replace` of `/password` sets the password.
            /// With `expected_version`, a record of another version is
            /// `VersionConflict` and nothing changes.
            #[uniffi::method(default(expected_version = None))]
            pub fn $patch(
                &self,
                id: u64,
                ops: UnicodeString,
                expected_version: Option<u64>,
            ) -> Result<$record, RosterError> {
                self.call(|c| {
                    let ops = json::patch_ops(&ops)?;
                    out(c.$collection().patch(id, &ops, expected_version))
                })
            }

            /// Applies a JSON Merge Patch (RFC 7396) to the record with this id
            /// and returns the result. `partial` is the text of a JSON object
            /// of camelCase fields; `null` removes an optional field. Text
            /// that is not JSON is a `Validation` error on `""`.
            #[uniffi::method(default(expected_version = None))]
            pub fn $merge(
                &self,
                id: u64,
                partial: UnicodeString,
                expected_version: Option<u64>,
            ) -> Result<$record, RosterError> {
                self.call(|c| {
                    let partial = json::document("partial", &partial)?;
                    out(c.$collection().merge(id, &partial, expected_version))
                })
            }

            /// Replaces the writable fields of the record with this id (PUT)
            /// and returns the result. `doc` is the text of its whole JSON
            /// document: absent optional fields are cleared, the tenant and a
            /// user's password are kept unless given. Read-only fields may be
            /// sent only with their stored values. Text that is not JSON is a
            /// `Validation` error on `""`.
            #[uniffi::method(default(expected_version = None))]
            pub fn $replace(
                &self,
                id: u64,
                doc: UnicodeString,
                expected_version: Option<u64>,
            ) -> Result<$record, RosterError> {
                self.call(|c| {
                    let doc = json::document("doc", &doc)?;
                    out(c.$collection().replace(id, &doc, expected_version))
                })
            }
        }
    };
}

update_methods!(users => User: patch_user, merge_user, replace_user);
update_methods!(roles => Role: patch_role, merge_role, replace_role);
update_methods!(clients => Client: patch_client, merge_client, replace_client);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_needs_the_store_to_itself() {
        let store = RosterStore::memory(None).unwrap();
        let view = store.scoped("acme".into()).unwrap();
        assert!(
            store.compact().is_ok(),
            "a view holds the store only during its calls"
        );
        let held = view.store();
        assert_eq!(
            store.compact(),
            Err(RosterError::Storage {
                reason: "the store is in use by another call".into(),
                path: None,
            })
        );
        drop(held);
        assert!(store.compact().is_ok());
    }

    #[test]
    fn a_view_refuses_whole_store_operations_before_touching_the_file() {
        let view = RosterStore::memory(None)
            .unwrap()
            .scoped("acme".into())
            .unwrap();
        let refused = |r: Result<(), RosterError>| match r {
            Err(RosterError::Storage { reason, .. }) => {
                assert!(reason.ends_with("not a scoped view"), "{reason}")
            }
            other => panic!("{other:?}"),
        };
        refused(view.check().map(drop));
        refused(view.compact().map(drop));
        refused(
            view.export_jsonl("/nonexistent/dir/x.jsonl".into())
                .map(drop),
        );
        refused(view.import_jsonl("/nonexistent/x.jsonl".into()).map(drop));
        assert_eq!(view.tenant().as_deref(), Some("acme"));
    }
}
