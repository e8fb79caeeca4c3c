//! The child mode: opens the store and makes durable writes of every kind
//! in a loop until it is killed, announcing each call on stdout before it
//! starts ([`Line::Intent`]) and acknowledging it once it returned
//! ([`Line::Ack`]).

use std::io::Write;
use std::path::Path;

use rosterdb::{
    Client, Credentials, EntityKind, Error, NewClient, NewRole, NewUser, Role, Secret, Store, User,
};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::error::{self, HarnessError, Result};
use crate::protocol::{self, Create, Deleted, Doc, Effect, Line, LoginEffect, Update};

/// Opens the store at `db` and writes until killed; `run` makes every
/// name it creates unique across the child runs of one harness run.
///
/// Returns only on a failure: a store call that failed where it must not,
/// or stdout closed.
pub fn run(db: &Path, run: u64) -> Result<()> {
    let store = Store::open(db, protocol::options()).map_err(error::store("open"))?;
    let mut writer = Writer {
        store,
        out: std::io::stdout().lock(),
        n: 0,
    };
    for cycle in 0u64.. {
        writer.cycle(&format!("r{run}c{cycle}"), cycle)?;
    }
    Ok(())
}

/// A user's password in the harness, derived from its name.
fn password_of(username: &str) -> String {
    format!("pw-{username}-secret")
}

/// The address every client login comes from (inside the allowlist the
/// harness sets).
const CLIENT_IP: &str = "10.1.2.3";

/// The child's store and output.
struct Writer {
    store: Store,
    out: std::io::StdoutLock<'static>,
    /// The sequence number of the last intent written.
    n: u64,
}

/// A document as JSON, for an acknowledgement.
fn doc<T: Serialize>(kind: EntityKind, value: &T) -> Result<Doc> {
    Ok(Doc {
        kind,
        doc: serde_json::to_value(value).map_err(error::json("a document"))?,
    })
}

impl Writer {
    /// Writes one line and flushes it, so the parent has it before the next call starts.
    fn line(&mut self, line: &Line) -> Result<()> {
        let mut text = serde_json::to_string(line).map_err(error::json("a line"))?;
        text.push('\n');
        self.out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
            .map_err(error::io("writing a line to stdout"))
    }

    /// Announces call `op` with its `effect`; returns its sequence number.
    fn intent(&mut self, op: &str, effect: Effect) -> Result<u64> {
        self.n = self.n.saturating_add(1);
        let n = self.n;
        self.line(&Line::Intent {
            n,
            op: op.to_owned(),
            effect,
        })?;
        Ok(n)
    }

    /// Acknowledges call `n`.
    fn ack(&mut self, n: u64, docs: Vec<Doc>, token: Option<&Secret>) -> Result<()> {
        self.line(&Line::Ack {
            n,
            docs,
            token: token.map(|t| t.expose().to_owned()),
        })
    }

    /// One cycle of fifteen calls on records named after `p`: every kind
    /// of durable write the store offers.
    fn cycle(&mut self, p: &str, i: u64) -> Result<()> {
        let a = self.create_role(&format!("{p}-a"), "perm:a")?;
        let b = self.create_role(&format!("{p}-b"), "perm:b")?;
        let u = self.create_user(&format!("{p}-u"), vec![a.id, b.id])?;
        let (c, secret) = self.create_client(&format!("{p}-c"), vec![a.id])?;
        let u = self.patch_user(&u, i)?;
        let a = self.merge_role(&a)?;
        let c = self.merge_client(&c)?;
        self.failed_login(&u)?;
        let u = self.login(&u)?;
        self.failed_login(&u)?;
        let c = self.client_login(&c, &secret)?;
        let (u, v) = self.transaction(p, &u, &a, i)?;
        self.delete_user(&v)?;
        let c = self.cascade(&a, &u, &c)?;
        self.delete_client(&c)
    }

    fn create_role(&mut self, name: &str, permission: &str) -> Result<Role> {
        let effect = Effect {
            creates: vec![Create {
                kind: EntityKind::Role,
                key: name.to_owned(),
                expect: json!({"name": name, "permissions": [permission]}),
            }],
            ..Effect::default()
        };
        let n = self.intent("create_role", effect)?;
        let role = self
            .store
            .roles()
            .create(NewRole {
                permissions: vec![permission.to_owned()],
                ..NewRole::new(name)
            })
            .map_err(error::store("create_role"))?;
        self.ack(n, vec![doc(EntityKind::Role, &role)?], None)?;
        Ok(role)
    }

    fn create_user(&mut self, name: &str, roles: Vec<u64>) -> Result<User> {
        let email = format!("{name}@example.com");
        let mut attributes = Map::new();
        attributes.insert("n".into(), json!(0));
        attributes.insert("tags".into(), json!(["x"]));
        let effect = Effect {
            creates: vec![Create {
                kind: EntityKind::User,
                key: name.to_owned(),
                expect: json!({
                    "username": name, "email": email, "firstName": "First",
                    "lastName": "Last", "roles": roles, "attributes": attributes,
                    "hasPassword": true, "enabled": true,
                }),
            }],
            ..Effect::default()
        };
        let n = self.intent("create_user", effect)?;
        let user = self
            .store
            .users()
            .create(NewUser {
                roles,
                attributes,
                password: Some(Secret::new(password_of(name))),
                ..NewUser::new(name, email, "First", "Last")
            })
            .map_err(error::store("create_user"))?;
        self.ack(n, vec![doc(EntityKind::User, &user)?], None)?;
        Ok(user)
    }

    fn create_client(&mut self, name: &str, roles: Vec<u64>) -> Result<(Client, Secret)> {
        let effect = Effect {
            creates: vec![Create {
                kind: EntityKind::Client,
                key: name.to_owned(),
                expect: json!({"name": name, "roles": roles, "enabled": true}),
            }],
            ..Effect::default()
        };
        let n = self.intent("create_client", effect)?;
        let created = self
            .store
            .clients()
            .create(NewClient {
                roles,
                ..NewClient::new(name)
            })
            .map_err(error::store("create_client"))?;
        self.ack(n, vec![doc(EntityKind::Client, &created.client)?], None)?;
        Ok((created.client, created.secret))
    }

    /// An RFC 6902 patch of four operations under `expected_version`.
    fn patch_user(&mut self, user: &User, i: u64) -> Result<User> {
        let first = format!("F{i}");
        let ops = json!([
            {"op": "replace", "path": "/firstName", "value": first},
            {"op": "add", "path": "/attributes/patched", "value": i},
            {"op": "replace", "path": "/attributes/n", "value": 1},
            {"op": "add", "path": "/attributes/tags/-", "value": "y"},
        ]);
        let effect = Effect {
            updates: vec![Update {
                kind: EntityKind::User,
                id: user.id,
                version: user.version.saturating_add(1),
                expect: json!({
                    "firstName": first,
                    "attributes": {"patched": i, "n": 1, "tags": ["x", "y"]},
                }),
            }],
            ..Effect::default()
        };
        let n = self.intent("patch_user", effect)?;
        let user = self
            .store
            .users()
            .patch(user.id, &ops, Some(user.version))
            .map_err(error::store("patch_user"))?;
        self.ack(n, vec![doc(EntityKind::User, &user)?], None)?;
        Ok(user)
    }

    /// Merges a role and a client: the same shape, a different kind.
    fn merge<E: Serialize>(
        &mut self,
        op: &str,
        kind: EntityKind,
        (id, version): (u64, u64),
        partial: &Value,
        call: impl FnOnce(&Store) -> rosterdb::Result<E>,
    ) -> Result<E> {
        let effect = Effect {
            updates: vec![Update {
                kind,
                id,
                version: version.saturating_add(1),
                expect: partial.clone(),
            }],
            ..Effect::default()
        };
        let n = self.intent(op, effect)?;
        let value = call(&self.store).map_err(error::store(op))?;
        self.ack(n, vec![doc(kind, &value)?], None)?;
        Ok(value)
    }

    fn merge_role(&mut self, role: &Role) -> Result<Role> {
        let partial = json!({"description": "merged", "permissions": ["perm:a", "perm:extra"]});
        self.merge(
            "merge_role",
            EntityKind::Role,
            (role.id, role.version),
            &partial,
            |s| s.roles().merge(role.id, &partial, Some(role.version)),
        )
    }

    fn merge_client(&mut self, client: &Client) -> Result<Client> {
        let partial = json!({"description": "client merged", "ipAllowlist": ["10.0.0.0/8"]});
        self.merge(
            "merge_client",
            EntityKind::Client,
            (client.id, client.version),
            &partial,
            |s| s.clients().merge(client.id, &partial, Some(client.version)),
        )
    }

    /// A login with a wrong password: `AuthenticationFailed` after the
    /// failure was counted durably.
    fn failed_login(&mut self, user: &User) -> Result<()> {
        let effect = Effect {
            login: Some(LoginEffect::Failed { user: user.id }),
            ..Effect::default()
        };
        let n = self.intent("failed_login", effect)?;
        let credentials = Credentials::new(user.username.as_str(), "wrong-password");
        match self.store.login(&credentials, protocol::SESSION_TTL) {
            Err(Error::AuthenticationFailed) => self.ack(n, Vec::new(), None),
            other => Err(HarnessError::Unexpected {
                op: "failed_login".into(),
                detail: format!("expected AuthenticationFailed, got {other:?}"),
            }),
        }
    }

    fn login(&mut self, user: &User) -> Result<User> {
        let effect = Effect {
            login: Some(LoginEffect::User { user: user.id }),
            ..Effect::default()
        };
        let n = self.intent("login", effect)?;
        let credentials =
            Credentials::new(user.username.as_str(), password_of(&user.username).as_str());
        let login = self
            .store
            .login(&credentials, protocol::SESSION_TTL)
            .map_err(error::store("login"))?;
        self.ack(
            n,
            vec![doc(EntityKind::User, &login.principal)?],
            Some(&login.token),
        )?;
        Ok(login.principal)
    }

    fn client_login(&mut self, client: &Client, secret: &Secret) -> Result<Client> {
        let effect = Effect {
            login: Some(LoginEffect::Client { client: client.id }),
            ..Effect::default()
        };
        let n = self.intent("client_login", effect)?;
        let login = self
            .store
            .client_login(
                &client.client_id,
                secret,
                Some(CLIENT_IP),
                protocol::SESSION_TTL,
            )
            .map_err(error::store("client_login"))?;
        self.ack(
            n,
            vec![doc(EntityKind::Client, &login.principal)?],
            Some(&login.token),
        )?;
        Ok(login.principal)
    }

    /// One transaction of three writes: a role and a user created and
    /// another user merged.
    fn transaction(&mut self, p: &str, user: &User, role: &Role, i: u64) -> Result<(User, User)> {
        let role_name = format!("{p}-t");
        let name = format!("{p}-v");
        let email = format!("{name}@example.com");
        let effect = Effect {
            creates: vec![
                Create {
                    kind: EntityKind::Role,
                    key: role_name.clone(),
                    expect: json!({"name": role_name, "permissions": ["perm:t"]}),
                },
                Create {
                    kind: EntityKind::User,
                    key: name.clone(),
                    expect: json!({
                        "username": name, "email": email, "firstName": "Tx",
                        "lastName": "User", "roles": [role.id], "hasPassword": false,
                    }),
                },
            ],
            updates: vec![Update {
                kind: EntityKind::User,
                id: user.id,
                version: user.version.saturating_add(1),
                expect: json!({"attributes": {"tx": i}}),
            }],
            ..Effect::default()
        };
        let n = self.intent("tx", effect)?;
        let (created_role, created_user, merged) = self
            .store
            .write(|tx| {
                let r = tx.roles().create(NewRole {
                    permissions: vec!["perm:t".into()],
                    ..NewRole::new(role_name.as_str())
                })?;
                let v = tx.users().create(NewUser {
                    roles: vec![role.id],
                    ..NewUser::new(name.as_str(), email.as_str(), "Tx", "User")
                })?;
                let u = tx.users().merge(
                    user.id,
                    &json!({"attributes": {"tx": i}}),
                    Some(user.version),
                )?;
                Ok((r, v, u))
            })
            .map_err(error::store("tx"))?;
        self.ack(
            n,
            vec![
                doc(EntityKind::Role, &created_role)?,
                doc(EntityKind::User, &created_user)?,
                doc(EntityKind::User, &merged)?,
            ],
            None,
        )?;
        Ok((merged, created_user))
    }

    fn delete_user(&mut self, user: &User) -> Result<()> {
        let effect = Effect {
            deletes: vec![Deleted {
                kind: EntityKind::User,
                id: user.id,
            }],
            ..Effect::default()
        };
        let n = self.intent("delete_user", effect)?;
        self.store
            .users()
            .delete(user.id)
            .map_err(error::store("delete_user"))?;
        self.ack(n, Vec::new(), None)
    }

    /// Deletes `role`, which `user` (with one more role) and `client` (with
    /// only this one) hold: one transaction of a delete and two updates.
    fn cascade(&mut self, role: &Role, user: &User, client: &Client) -> Result<Client> {
        let user_roles: Vec<u64> = user
            .roles
            .iter()
            .copied()
            .filter(|&r| r != role.id)
            .collect();
        let effect = Effect {
            deletes: vec![Deleted {
                kind: EntityKind::Role,
                id: role.id,
            }],
            updates: vec![
                Update {
                    kind: EntityKind::User,
                    id: user.id,
                    version: user.version.saturating_add(1),
                    expect: json!({"roles": user_roles}),
                },
                Update {
                    kind: EntityKind::Client,
                    id: client.id,
                    version: client.version.saturating_add(1),
                    expect: json!({"roles": []}),
                },
            ],
            ..Effect::default()
        };
        let n = self.intent("cascade_role_delete", effect)?;
        self.store
            .roles()
            .delete(role.id, true)
            .map_err(error::store("cascade_role_delete"))?;
        let user = self
            .store
            .users()
            .get(user.id)
            .map_err(error::store("get after cascade"))?;
        let client = self
            .store
            .clients()
            .get(client.id)
            .map_err(error::store("get after cascade"))?;
        self.ack(
            n,
            vec![
                doc(EntityKind::User, &user)?,
                doc(EntityKind::Client, &client)?,
            ],
            None,
        )?;
        Ok(client)
    }

    fn delete_client(&mut self, client: &Client) -> Result<()> {
        let effect = Effect {
            deletes: vec![Deleted {
                kind: EntityKind::Client,
                id: client.id,
            }],
            ..Effect::default()
        };
        let n = self.intent("delete_client", effect)?;
        self.store
            .clients()
            .delete(client.id)
            .map_err(error::store("delete_client"))?;
        self.ack(n, Vec::new(), None)
    }
}
