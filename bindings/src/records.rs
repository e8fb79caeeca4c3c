//! The record calls that a store, a scoped view and a transaction share:
//! create, get, look up and delete users, roles and clients, patch, merge
//! and replace them (docs/reference/updates.md), and read the change log. Each is one call
//! into the core, through [`Calls`].

use crate::RosterStore;
use crate::calls::{Calls, out, to_json};
use crate::json;
use crate::{
    Change, Client, CreatedClient, NewClient, NewRole, NewUser, Role, RosterError,
    RosterTransaction, UnicodeString, User,
};

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

/// What `create_client_json` returns: the client document and its secret.
#[derive(serde::Serialize)]
struct CreatedClientDoc<'a> {
    client: &'a rosterdb::Client,
    secret: &'a str,
}

/// The JSON text `create_client_json` returns: `{"client": {…}, "secret": "…"}`.
fn created_client_json(created: &rosterdb::CreatedClient) -> Result<String, RosterError> {
    to_json(&CreatedClientDoc {
        client: &created.client,
        secret: created.secret.expose(),
    })
}

/// Creates, gets, lookups, deletes and the change log, as methods of each
/// `$ty` (which has `fn target(&self) -> &impl Calls`); `@kind` declares the
/// creates and the get of one collection.
macro_rules! record_calls {
    ($($ty:ty),+) => {$(
        record_calls!(@kind $ty, users {
            /// Creates a user. Its password, if any, is stored only as an Argon2id hash.
            fn create_user(user: NewUser) -> User;
            /// Creates a user from its JSON document (camelCase keys, docs/reference/documents.md,
            /// Users, `password` included) and returns the created document as JSON.
            fn create_user_json(rosterdb::NewUser) => to_json;
            /// The user with this id, or `NotFound`.
            fn get_user -> User;
        });

        record_calls!(@kind $ty, roles {
            /// Creates a role.
            fn create_role(role: NewRole) -> Role;
            /// Creates a role from its JSON document and returns the created document as JSON.
            fn create_role_json(rosterdb::NewRole) => to_json;
            /// The role with this id, or `NotFound`.
            fn get_role -> Role;
        });

        record_calls!(@kind $ty, clients {
            /// Creates an app-client with a generated client id and secret. The
            /// secret is returned only here and stored only as an Argon2id hash.
            fn create_client(client: NewClient) -> CreatedClient;
            /// Creates an app-client from its JSON document and returns
            /// `{"client": {…}, "secret": "…"}` as JSON; the secret is shown only here.
            fn create_client_json(rosterdb::NewClient) => created_client_json;
            /// The client with this id, or `NotFound`.
            fn get_client -> Client;
        });

        #[uniffi::export]
        impl $ty {
            /// The user with this username (case-insensitively) in `tenant`
            /// (`null`/`nil`: users without a tenant), or `NotFound`. In a scoped
            /// view the view's tenant is used, whatever `tenant` says.
            #[uniffi::method(default(tenant = None))]
            pub fn get_user_by_username(
                &self,
                username: UnicodeString,
                tenant: Option<UnicodeString>,
            ) -> Result<User, RosterError> {
                self.target().read(|c| {
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
                self.target().read(|c| {
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
                self.target().read(|c| {
                    let user = rosterdb::EntityKind::User;
                    let kind = lookup_key(kind, "external id", user)?;
                    let value = lookup_key(value, "external id", user)?;
                    let tenant = lookup_tenant(tenant, user)?;
                    out(c.users().get_by_external_id(&kind, &value, tenant.as_deref()))
                })
            }

            /// Creates users in one write, all or none, and returns their ids
            /// in the order of `users`: what a bulk import calls instead of one
            /// `createUser` per user. Each is read as `createUser` reads it:
            /// text that is not Unicode, or `attributes` that are not a JSON
            /// object, is a `Validation` error naming the fields inside the
            /// list (`users[3].attributes`). Then the users get consecutive ids
            /// and are checked one after the other as `createUser` checks one
            /// (its field rules and tenant: `Validation` naming the field
            /// inside its item, `users[3].email`; its unique keys against the store and the
            /// users before it: `Conflict`; its roles: `Validation` on
            /// `roles`); the first that fails is the error, and nothing is
            /// written. Passwords are stored only as Argon2id hashes. In a
            /// scoped view every user gets the view's tenant; in a transaction
            /// the users are part of it.
            pub fn create_users(&self, users: Vec<NewUser>) -> Result<Vec<u64>, RosterError> {
                self.target().write(|c| {
                    let users = users
                        .into_iter()
                        .enumerate()
                        .map(|(index, user)| {
                            rosterdb::NewUser::try_from(user).map_err(|e| e.in_item("users", index))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(c.users().create_many(users)?)
                })
            }

            /// Deletes a user, returning its last document.
            pub fn delete_user(&self, id: u64) -> Result<User, RosterError> {
                self.target().write(|c| out(c.users().delete(id)))
            }

            /// Deletes a role, returning its last document. While users or clients
            /// hold it this fails with `InUse`, unless `cascade` is true: then the
            /// role is removed from every holder in the same transaction.
            #[uniffi::method(default(cascade = false))]
            pub fn delete_role(&self, id: u64, cascade: bool) -> Result<Role, RosterError> {
                self.target().write(|c| out(c.roles().delete(id, cascade)))
            }

            /// The client with this public client id (`rc_…`, compared exactly), or `NotFound`.
            pub fn get_client_by_client_id(
                &self,
                client_id: UnicodeString,
            ) -> Result<Client, RosterError> {
                self.target().read(|c| {
                    let client_id =
                        lookup_key(client_id, "clientId", rosterdb::EntityKind::Client)?;
                    out(c.clients().get_by_client_id(&client_id))
                })
            }

            /// Deletes a client, returning its last document.
            pub fn delete_client(&self, id: u64) -> Result<Client, RosterError> {
                self.target().write(|c| out(c.clients().delete(id)))
            }

            /// Up to `limit` (1–1000) change-log entries after sequence number
            /// `after`, oldest first.
            #[uniffi::method(default(after = 0, limit = 100))]
            pub fn changes(&self, after: u64, limit: u32) -> Result<Vec<Change>, RosterError> {
                self.target().read(|c| {
                    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
                    let changes = c.changes(after, limit)?;
                    Ok(changes.into_iter().map(Change::from).collect())
                })
            }
        }
    )+};
    (@kind $ty:ty, $collection:ident {
        $(#[$create_doc:meta])* fn $create:ident($new:ident: $input:ty) -> $created:ty;
        $(#[$json_doc:meta])* fn $create_json:ident($core:path) => $json:path;
        $(#[$get_doc:meta])* fn $get:ident -> $record:ty;
    }) => {
        #[uniffi::export]
        impl $ty {
            $(#[$create_doc])*
            pub fn $create(&self, $new: $input) -> Result<$created, RosterError> {
                self.target().write(|c| out(c.$collection().create($new.try_into()?)))
            }

            $(#[$json_doc])*
            pub fn $create_json(&self, doc: UnicodeString) -> Result<String, RosterError> {
                self.target().write(|c| {
                    let new = json::new_document(&doc, |v| c.$collection().input_from_json(v))?;
                    $json(&c.$collection().create(new)?)
                })
            }

            $(#[$get_doc])*
            pub fn $get(&self, id: u64) -> Result<$record, RosterError> {
                self.target().read(|c| out(c.$collection().get(id)))
            }
        }
    };
}

/// `patch_*`, `merge_*` and `replace_*` (docs/reference/updates.md) for the records of each
/// collection, as methods of `$ty`.
macro_rules! update_calls {
    ($($ty:ty),+) => {$(
        update_calls!(@kind $ty, users => User: patch_user, merge_user, replace_user);
        update_calls!(@kind $ty, roles => Role: patch_role, merge_role, replace_role);
        update_calls!(@kind $ty, clients => Client: patch_client, merge_client, replace_client);
    )+};
    (@kind $ty:ty, $collection:ident => $record:ty: $patch:ident, $merge:ident, $replace:ident) => {
        #[uniffi::export]
        impl $ty {
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
                self.target().write(|c| {
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
                self.target().write(|c| {
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
                self.target().write(|c| {
                    let doc = json::document("doc", &doc)?;
                    out(c.$collection().replace(id, &doc, expected_version))
                })
            }
        }
    };
}

record_calls!(RosterStore, RosterTransaction);
update_calls!(RosterStore, RosterTransaction);
