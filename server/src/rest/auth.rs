//! `/v1/authentication`: a login that opens a 15-minute session (POST),
//! and its end (DELETE).

use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap};
use axum::response::{IntoResponse, Response};
use rosterdb::{Credentials, DEFAULT_SESSION_TTL, Error, FieldError, Secret, ValidationCode};
use serde_json::{Value, json};

use super::resource::{json_response, to_json};
use crate::access::{Credential, credential, no_store, peer_ip};
use crate::body::JsonDoc;
use crate::problem::Problem;
use crate::state::AppState;

/// The members a login body may have.
const MEMBERS: [&str; 6] = [
    "username",
    "email",
    "identifier",
    "password",
    "tenant",
    "totpCode",
];

/// The credentials of a login body: `{"username" | "email" | "identifier":
/// …, "password": …, "tenant"?: …, "totpCode"?: …}`. `Validation` naming
/// every member that is missing, unknown or not a string.
fn credentials(doc: &Value) -> Result<Credentials, Error> {
    let Some(object) = doc.as_object() else {
        return Err(Error::invalid(
            "",
            ValidationCode::ObjectType,
            "must be a JSON object",
        ));
    };
    let mut errors = Vec::new();
    for name in object.keys().filter(|k| !MEMBERS.contains(&k.as_str())) {
        errors.push(FieldError::new(
            name.clone(),
            ValidationCode::UnknownField,
            "is not a member of a login",
        ));
    }
    let mut text = |name: &str| -> Option<String> {
        match object.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                errors.push(FieldError::new(
                    name,
                    ValidationCode::StringType,
                    "must be a string",
                ));
                None
            }
        }
    };
    let names: Vec<(&str, String)> = ["username", "email", "identifier"]
        .into_iter()
        .filter_map(|name| text(name).map(|v| (name, v)))
        .collect();
    let password = text("password");
    let tenant = text("tenant");
    let totp = text("totpCode");
    if password.is_none() && !errors.iter().any(|e| e.field == "password") {
        errors.push(FieldError::new(
            "password",
            ValidationCode::Missing,
            "is required",
        ));
    }
    let identifier = match names.as_slice() {
        [(_, value)] => Some(value.clone()),
        [] => {
            errors.push(FieldError::new(
                "username",
                ValidationCode::Missing,
                "one of username, email or identifier is required",
            ));
            None
        }
        [_, (second, _), ..] => {
            errors.push(FieldError::new(
                *second,
                ValidationCode::NotAllowed,
                "give one of username, email or identifier",
            ));
            None
        }
    };
    match (identifier, password) {
        (Some(identifier), Some(password)) if errors.is_empty() => {
            let mut credentials = Credentials::new(identifier, Secret::new(password));
            credentials.tenant = tenant;
            credentials.totp_code = totp.map(Secret::new);
            Ok(credentials)
        }
        _ => Err(Error::Validation { errors }),
    }
}

/// `POST /v1/authentication`: a user's login, or a client's.
///
/// A user sends `{"username" | "email" | "identifier", "password",
/// "tenant"?, "totpCode"?}` (lockout and second factor as the store
/// does) and gets `{"token", "tokenType": "Bearer", "expiresAt",
/// "expiresIn", "user"}`. A client sends `Authorization: Apikey
/// <clientId>:<secret>` and no body, from an address its `ipAllowlist`
/// allows, and gets the same with `client` instead of `user`: a bearer
/// token saves it an Argon2 check on each later request. Any failure is
/// the same `401 AuthenticationFailed`. Needs no principal.
pub(crate) async fn login(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, Problem> {
    if let Some(Credential::ApiKey { client_id, secret }) = credential(req.headers())? {
        return client_login(state, client_id, secret, peer_ip(req.extensions()), req).await;
    }
    let JsonDoc(doc) = JsonDoc::from_request(req, &state).await?;
    let credentials = credentials(&doc)?;
    let login = state
        .run(move |store| Ok(store.login(&credentials, DEFAULT_SESSION_TTL)?))
        .await?;
    session_response(
        &login.token,
        login.expires_at,
        "user",
        to_json(&login.principal)?,
    )
}

/// The client login of `POST /v1/authentication` (its body must be empty).
async fn client_login(
    state: AppState,
    client_id: String,
    secret: Secret,
    ip: Option<String>,
    req: Request,
) -> Result<Response, Problem> {
    let body = http_body_util::BodyExt::collect(http_body_util::Limited::new(req.into_body(), 1))
        .await
        .map(|b| b.to_bytes());
    if !body.is_ok_and(|b| b.is_empty()) {
        return Err(Error::invalid(
            "",
            ValidationCode::NotAllowed,
            "a client's login sends its API key in the Authorization header and no body",
        )
        .into());
    }
    let login = state
        .run(move |store| {
            Ok(store.client_login(&client_id, &secret, ip.as_deref(), DEFAULT_SESSION_TTL)?)
        })
        .await?;
    session_response(
        &login.token,
        login.expires_at,
        "client",
        to_json(&login.principal)?,
    )
}

/// The answer to a login: the token, its lifetime, and the principal's
/// document under `who` (`user` or `client`).
fn session_response(
    token: &Secret,
    expires_at: rosterdb::Timestamp,
    who: &str,
    principal: Value,
) -> Result<Response, Problem> {
    let mut body = json!({
        "token": token.expose(),
        "tokenType": "Bearer",
        "expiresAt": to_json(&expires_at)?,
        "expiresIn": DEFAULT_SESSION_TTL.as_secs(),
    });
    if let Some(object) = body.as_object_mut() {
        object.insert(who.to_owned(), principal);
    }
    Ok(json_response(StatusCode::OK, &body, [no_store()]))
}

/// `DELETE /v1/authentication`: ends the session of the bearer token
/// sent (`204`; an unknown or expired token too, as logging out twice is
/// no error). Other credentials are `401`.
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let Some(Credential::Bearer(token)) = credential(&headers)? else {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "AuthenticationRequired",
            "logging out needs the session's `Authorization: Bearer <token>`",
        )
        .with_header(header::WWW_AUTHENTICATE, crate::problem::challenge()));
    };
    state.run(move |store| Ok(store.logout(&token)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
