//! The `/v1` REST API (docs/reference/http.md): one module per resource, the handlers
//! they share in [`resource`].

mod auth;
mod clients;
mod resource;
mod roles;
mod users;

use axum::Router;
use axum::routing::{get, post};
use rosterdb::{Client, Role, User};

use crate::state::AppState;
use resource::{create, delete, head, list, patch, put};

/// The routes of `/v1`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/users",
            get(list::<User>).head(head::<User>).post(create::<User>),
        )
        .route("/v1/users/lookup", get(users::lookup))
        .route(
            "/v1/users/{key}",
            get(users::get)
                .put(put::<User>)
                .patch(patch::<User>)
                .delete(delete::<User>),
        )
        .route(
            "/v1/roles",
            get(list::<Role>).head(head::<Role>).post(create::<Role>),
        )
        .route(
            "/v1/roles/{id}",
            get(resource::get::<Role>)
                .put(put::<Role>)
                .patch(patch::<Role>)
                .delete(delete::<Role>),
        )
        .route(
            "/v1/clients",
            get(list::<Client>)
                .head(head::<Client>)
                .post(create::<Client>),
        )
        .route(
            "/v1/clients/{id}",
            get(resource::get::<Client>)
                .put(put::<Client>)
                .patch(patch::<Client>)
                .delete(delete::<Client>),
        )
        .route("/v1/clients/{id}/secret", post(clients::rotate_secret))
        .route("/v1/authentication", post(auth::login).delete(auth::logout))
}
