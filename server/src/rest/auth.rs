//! `/v1/authentication`: a login that opens a 15-minute session (POST),
//! and its end (DELETE).

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap};
use axum::response::{IntoResponse, Response};
use rosterdb::{Credentials, DEFAULT_SESSION_TTL, Error, FieldError, Secret, ValidationCode};
use serde_json::{Value, json};

use super::resource::{json_response, to_json};
use crate::access::no_store;
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

/// `POST /v1/authentication`: checks the credentials (lockout and second
/// factor as the store does) and answers `{"token", "tokenType":
/// "Bearer", "expiresAt", "expiresIn", "user"}`; any failure is the same
/// `401 AuthenticationFailed`. Needs no principal.
pub(crate) async fn login(
    State(state): State<AppState>,
    JsonDoc(doc): JsonDoc,
) -> Result<Response, Problem> {
    let credentials = credentials(&doc)?;
    let login = state
        .run(move |store| Ok(store.login(&credentials, DEFAULT_SESSION_TTL)?))
        .await?;
    let body = json!({
        "token": login.token.expose(),
        "tokenType": "Bearer",
        "expiresAt": to_json(&login.expires_at)?,
        "expiresIn": DEFAULT_SESSION_TTL.as_secs(),
        "user": to_json(&login.principal)?,
    });
    Ok(json_response(StatusCode::OK, &body, [no_store()]))
}

/// `DELETE /v1/authentication`: ends the session of the bearer token
/// sent (`204`; an unknown or expired token too, as logging out twice is
/// no error). Other credentials are `401`.
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned())
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                "AuthenticationRequired",
                "logging out needs the session's `Authorization: Bearer <token>`",
            )
            .with_header(header::WWW_AUTHENTICATE, crate::problem::challenge())
        })?;
    state.run(move |store| Ok(store.logout(&token)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
