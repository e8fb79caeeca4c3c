//! `/v1/clients`: the app-clients, and their secrets (shown once: at
//! creation and rotation).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use rosterdb::{Client, Collection, EntityKind, Error, View};
use serde_json::{Value, json};

use super::resource::{Resource, json_response};
use crate::access::{Caller, Permission, no_store};
use crate::params::{Key, etag, id};
use crate::problem::Problem;
use crate::state::AppState;

impl Resource for Client {
    const READ: Permission = Permission("clients:read");
    const WRITE: Permission = Permission("clients:write");

    fn of<'v, 's>(view: &'v View<'s>) -> Collection<'v, View<'s>, Client> {
        view.clients()
    }

    fn id(&self) -> u64 {
        self.id
    }

    fn version(&self) -> u64 {
        self.version
    }

    /// The answer is `{"client": {…}, "secret": "…"}`: the secret appears
    /// here and nowhere else.
    fn create(view: &View<'_>, doc: &Value) -> Result<(Value, Client), Error> {
        let clients = view.clients();
        let created = clients.create(clients.input_from_json(doc)?)?;
        let client = serde_json::to_value(&created.client)
            .map_err(|e| Error::internal(format!("a client as JSON: {e}")))?;
        let body = json!({"client": client, "secret": created.secret.expose()});
        Ok((body, created.client))
    }

    fn delete(view: &View<'_>, id: u64, _cascade: bool) -> Result<Client, Error> {
        view.clients().delete(id)
    }

    /// The roles added must grant only what the caller holds.
    fn may_write(
        caller: &Caller,
        view: &View<'_>,
        before: Option<&Client>,
        after: &Client,
    ) -> Result<(), Problem> {
        caller.may_give_roles(view, before.map_or(&[], |b| &b.roles), &after.roles)
    }

    /// Its roles must grant only what the caller holds.
    fn may_act_on(caller: &Caller, view: &View<'_>, record: &Client) -> Result<(), Problem> {
        caller.may_act_on(
            view,
            &format!("client {} {:?}", record.id, record.name),
            &record.roles,
        )
    }
}

/// `POST /v1/clients/{id}/secret`: a new secret, `{"secret": "…"}`, shown
/// only here; the old one and the client's sessions stop working at once.
pub(crate) async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Key(key): Key,
) -> Result<Response, Problem> {
    caller.require(Client::WRITE)?;
    let id = id(EntityKind::Client, &key)?;
    let (secret, version) = state
        .run(move |store| {
            caller.write(store, |tx| {
                Client::may_act_on(&caller, tx, &tx.clients().get(id)?)?;
                let secret = tx.clients().rotate_secret(id)?;
                Ok((secret, tx.clients().get(id)?.version))
            })
        })
        .await?;
    let body = json!({"secret": secret.expose()});
    Ok(json_response(
        StatusCode::OK,
        &body,
        [etag(version), no_store()],
    ))
}
