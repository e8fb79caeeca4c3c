//! `RosterStore`: an open store and its operations, each one call into the core.

use std::sync::Arc;

use crate::error::guard;
use crate::inputs::{json_argument, json_document, json_patch_ops};
use crate::query::PageDoc;
use crate::{
    Change, Client, ClientPage, CreatedClient, EntityKind, ListQuery, NewClient, NewRole, NewUser,
    Role, RolePage, RosterError, StoreOptions, User, UserPage,
};

/// An open rosterdb store: users, roles and app-clients in one file.
///
/// Open one with `RosterStore.open(path)` or `RosterStore.memory()`, share it
/// between threads freely, and close it (Kotlin `close()` or `use { }`,
/// Swift: drop the last reference) to release the file. Every call is its
/// own durable transaction and blocks while it runs (password hashing takes
/// tens of milliseconds), so call it off the UI thread.
#[derive(uniffi::Object)]
pub struct RosterStore {
    store: rosterdb::Store,
}

/// Converts a core result into the foreign API's.
fn out<T, U: From<T>>(result: rosterdb::Result<T>) -> Result<U, RosterError> {
    Ok(result?.into())
}

/// What `create_client_json` returns: the client document and its secret.
#[derive(serde::Serialize)]
struct CreatedClientDoc<'a> {
    client: &'a rosterdb::Client,
    secret: &'a str,
}

/// Evaluates `$body` with `$c` bound to the core's collection of `$entity`.
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
    pub fn open(path: String, options: Option<StoreOptions>) -> Result<Arc<Self>, RosterError> {
        guard(|| {
            let options = options.unwrap_or_default().into();
            let store = rosterdb::Store::open(path, options)?;
            Ok(Arc::new(RosterStore { store }))
        })
    }

    /// A new, empty store that lives in memory only, for tests and previews.
    #[uniffi::constructor(default(options = None))]
    pub fn memory(options: Option<StoreOptions>) -> Result<Arc<Self>, RosterError> {
        guard(|| {
            let store = rosterdb::Store::memory_with(options.unwrap_or_default().into())?;
            Ok(Arc::new(RosterStore { store }))
        })
    }

    /// Creates a user. Its password, if any, is stored only as an Argon2id hash.
    pub fn create_user(&self, user: NewUser) -> Result<User, RosterError> {
        guard(|| out(self.store.users().create(user.try_into()?)))
    }

    /// Creates a user from its JSON document (camelCase keys, SPEC §2.1,
    /// `password` included) and returns the created document as JSON.
    pub fn create_user_json(&self, doc: String) -> Result<String, RosterError> {
        guard(|| {
            let new = rosterdb::NewUser::from_json(&json_document(&doc)?)?;
            to_json(&self.store.users().create(new)?)
        })
    }

    /// The user with this id, or `NotFound`.
    pub fn get_user(&self, id: u64) -> Result<User, RosterError> {
        guard(|| out(self.store.users().get(id)))
    }

    /// The user with this username (case-insensitively) in `tenant`
    /// (`null`/`nil`: users without a tenant), or `NotFound`.
    #[uniffi::method(default(tenant = None))]
    pub fn get_user_by_username(
        &self,
        username: String,
        tenant: Option<String>,
    ) -> Result<User, RosterError> {
        guard(|| {
            out(self
                .store
                .users()
                .get_by_username(&username, tenant.as_deref()))
        })
    }

    /// The user with this email (case-insensitively) in `tenant`, or `NotFound`.
    #[uniffi::method(default(tenant = None))]
    pub fn get_user_by_email(
        &self,
        email: String,
        tenant: Option<String>,
    ) -> Result<User, RosterError> {
        guard(|| out(self.store.users().get_by_email(&email, tenant.as_deref())))
    }

    /// The user with this external id (`kind` is its `type`) in `tenant`, or `NotFound`.
    #[uniffi::method(default(tenant = None))]
    pub fn get_user_by_external_id(
        &self,
        kind: String,
        value: String,
        tenant: Option<String>,
    ) -> Result<User, RosterError> {
        guard(|| {
            out(self
                .store
                .users()
                .get_by_external_id(&kind, &value, tenant.as_deref()))
        })
    }

    /// Deletes a user, returning its last document.
    pub fn delete_user(&self, id: u64) -> Result<User, RosterError> {
        guard(|| out(self.store.users().delete(id)))
    }

    /// Creates a role.
    pub fn create_role(&self, role: NewRole) -> Result<Role, RosterError> {
        guard(|| out(self.store.roles().create(role.into())))
    }

    /// Creates a role from its JSON document and returns the created document as JSON.
    pub fn create_role_json(&self, doc: String) -> Result<String, RosterError> {
        guard(|| {
            let new = rosterdb::NewRole::from_json(&json_document(&doc)?)?;
            to_json(&self.store.roles().create(new)?)
        })
    }

    /// The role with this id, or `NotFound`.
    pub fn get_role(&self, id: u64) -> Result<Role, RosterError> {
        guard(|| out(self.store.roles().get(id)))
    }

    /// Deletes a role, returning its last document. While users or clients
    /// hold it this fails with `InUse`, unless `cascade` is true: then the
    /// role is removed from every holder in the same transaction.
    #[uniffi::method(default(cascade = false))]
    pub fn delete_role(&self, id: u64, cascade: bool) -> Result<Role, RosterError> {
        guard(|| out(self.store.roles().delete(id, cascade)))
    }

    /// Creates an app-client with a generated client id and secret. The
    /// secret is returned only here and stored only as an Argon2id hash.
    pub fn create_client(&self, client: NewClient) -> Result<CreatedClient, RosterError> {
        guard(|| out(self.store.clients().create(client.into())))
    }

    /// Creates an app-client from its JSON document and returns
    /// `{"client": {…}, "secret": "…"}` as JSON; the secret is shown only here.
    pub fn create_client_json(&self, doc: String) -> Result<String, RosterError> {
        guard(|| {
            let new = rosterdb::NewClient::from_json(&json_document(&doc)?)?;
            let created = self.store.clients().create(new)?;
            to_json(&CreatedClientDoc {
                client: &created.client,
                secret: created.secret.expose(),
            })
        })
    }

    /// The client with this id, or `NotFound`.
    pub fn get_client(&self, id: u64) -> Result<Client, RosterError> {
        guard(|| out(self.store.clients().get(id)))
    }

    /// The client with this public client id (`rc_…`, compared exactly), or `NotFound`.
    pub fn get_client_by_client_id(&self, client_id: String) -> Result<Client, RosterError> {
        guard(|| out(self.store.clients().get_by_client_id(&client_id)))
    }

    /// Deletes a client, returning its last document.
    pub fn delete_client(&self, id: u64) -> Result<Client, RosterError> {
        guard(|| out(self.store.clients().delete(id)))
    }

    /// Up to `limit` (1–1000) change-log entries after sequence number
    /// `after`, oldest first.
    #[uniffi::method(default(after = 0, limit = 100))]
    pub fn changes(&self, after: u64, limit: u32) -> Result<Vec<Change>, RosterError> {
        guard(|| {
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            let changes = self.store.changes(after, limit)?;
            Ok(changes.into_iter().map(Change::from).collect())
        })
    }

    /// One page of the users matching `query`, as records. A query with
    /// `fields` is `InvalidQuery` on `fields`: use `listJson` for a projection.
    #[uniffi::method(default(query))]
    pub fn list_users(&self, query: ListQuery) -> Result<UserPage, RosterError> {
        guard(|| out(self.store.users().list(&query.to_typed_query()?)))
    }

    /// One page of the roles matching `query`, as records (no `fields`).
    #[uniffi::method(default(query))]
    pub fn list_roles(&self, query: ListQuery) -> Result<RolePage, RosterError> {
        guard(|| out(self.store.roles().list(&query.to_typed_query()?)))
    }

    /// One page of the clients matching `query`, as records (no `fields`).
    #[uniffi::method(default(query))]
    pub fn list_clients(&self, query: ListQuery) -> Result<ClientPage, RosterError> {
        guard(|| out(self.store.clients().list(&query.to_typed_query()?)))
    }

    /// One page of the records of `entity` matching `query`, as the JSON
    /// text `{"items": […], "total": n or null, "nextCursor": "…" or null}`;
    /// the items are the camelCase documents, projected to `fields` when given.
    #[uniffi::method(default(query))]
    pub fn list_json(&self, entity: EntityKind, query: ListQuery) -> Result<String, RosterError> {
        guard(|| {
            let query = query.to_query()?;
            let page = with_collection!(self.store, entity, |c| PageDoc::new(c.list(&query)?)?);
            to_json(&page)
        })
    }

    /// How many records of `entity` match `query` (its paging is ignored).
    #[uniffi::method(default(query))]
    pub fn count(&self, entity: EntityKind, query: ListQuery) -> Result<u64, RosterError> {
        guard(|| {
            let query = query.to_query()?;
            Ok(with_collection!(self.store, entity, |c| c.count(&query)?))
        })
    }

    /// Whether any record of `entity` matches `query`.
    #[uniffi::method(default(query))]
    pub fn exists(&self, entity: EntityKind, query: ListQuery) -> Result<bool, RosterError> {
        guard(|| {
            let query = query.to_query()?;
            Ok(with_collection!(self.store, entity, |c| c.exists(&query)?))
        })
    }

    /// How `query` would run on the records of `entity`, as text: the
    /// index or scan that finds the candidates, the order, the checks left.
    #[uniffi::method(default(query))]
    pub fn explain(&self, entity: EntityKind, query: ListQuery) -> Result<String, RosterError> {
        guard(|| {
            let query = query.to_query()?;
            Ok(with_collection!(self.store, entity, |c| c.explain(&query)?))
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
                ops: String,
                expected_version: Option<u64>,
            ) -> Result<$record, RosterError> {
                guard(|| {
                    let ops = json_patch_ops(&ops)?;
                    out(self.store.$collection().patch(id, &ops, expected_version))
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
                partial: String,
                expected_version: Option<u64>,
            ) -> Result<$record, RosterError> {
                guard(|| {
                    let partial = json_argument("partial", &partial)?;
                    out(self
                        .store
                        .$collection()
                        .merge(id, &partial, expected_version))
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
                doc: String,
                expected_version: Option<u64>,
            ) -> Result<$record, RosterError> {
                guard(|| {
                    let doc = json_argument("doc", &doc)?;
                    out(self.store.$collection().replace(id, &doc, expected_version))
                })
            }
        }
    };
}

update_methods!(users => User: patch_user, merge_user, replace_user);
update_methods!(roles => Role: patch_role, merge_role, replace_role);
update_methods!(clients => Client: patch_client, merge_client, replace_client);
