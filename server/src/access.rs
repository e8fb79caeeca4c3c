//! Who calls (server/README.md, "Access"): the principal an `Authorization` header
//! names, the permissions its roles grant, and the tenant it sees.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{self, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, StatusCode};
use rosterdb::{EntityKind, Principal, Secret, Store, View};

use crate::problem::{Problem, challenge};
use crate::state::AppState;

/// A permission a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Permission(pub(crate) &'static str);

/// The permission that grants every other.
const ALL: &str = "*";

/// How long the session of an API-key request lives: it is ended (logged
/// out) as soon as the principal is known, so this only bounds the case of
/// a request dropped in between.
const API_KEY_SESSION: Duration = Duration::from_secs(60);

/// The authenticated principal of a request.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    principal: Principal,
}

/// What an `Authorization` header carries. `Debug` shows no secret.
pub(crate) enum Credential {
    /// `Bearer <token>`.
    Bearer(String),
    /// `Apikey <clientId>:<secret>`.
    ApiKey {
        /// The public client id.
        client_id: String,
        /// The client's secret.
        secret: Secret,
    },
}

impl Caller {
    /// Whether the principal's roles grant `permission`.
    pub(crate) fn holds(&self, permission: &str) -> bool {
        self.principal
            .permissions
            .iter()
            .any(|p| p == ALL || p == permission)
    }

    /// Whether the principal's roles grant `*`, every permission.
    pub(crate) fn holds_all(&self) -> bool {
        self.principal.permissions.iter().any(|p| p == ALL)
    }

    /// `403 Forbidden` unless the principal's roles grant `permission`.
    pub(crate) fn require(&self, permission: Permission) -> Result<(), Problem> {
        if self.holds(permission.0) {
            Ok(())
        } else {
            Err(Problem::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!("the caller's roles do not grant {}", permission.0),
            )
            .with("permission", permission.0))
        }
    }

    /// The store as this principal sees it: only its tenant, when it has one.
    pub(crate) fn view<'s>(&self, store: &'s Store) -> Result<View<'s>, Problem> {
        Ok(View::of(store, self.principal.tenant.as_deref())?)
    }

    /// The tenant the principal belongs to.
    pub(crate) fn tenant(&self) -> Option<&str> {
        self.principal.tenant.as_deref()
    }

    /// `user:3` or `client:7`, for the access log.
    pub(crate) fn label(&self) -> String {
        let kind = match self.principal.kind {
            EntityKind::User => "user",
            EntityKind::Client => "client",
            EntityKind::Role => "role",
        };
        format!("{kind}:{}", self.principal.id)
    }
}

/// The `Authorization` header read: `Bearer <token>` or `Apikey
/// <clientId>:<secret>` (schemes in any case). `None` when there is none;
/// `400 InvalidHeader` when there are several (which one a proxy in front
/// checked is not known).
pub(crate) fn credential(headers: &HeaderMap) -> Result<Option<Credential>, Problem> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Problem::invalid_header(
            "Authorization",
            "send one Authorization header, not several",
        ));
    }
    let unreadable = || {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "AuthenticationRequired",
            "the Authorization header must be `Bearer <token>` or `Apikey <clientId>:<secret>`",
        )
        .with_header(header::WWW_AUTHENTICATE, challenge())
    };
    let text = value.to_str().map_err(|_| unreadable())?;
    let (scheme, rest) = text.trim().split_once(' ').ok_or_else(unreadable)?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        Ok(Some(Credential::Bearer(rest.to_owned())))
    } else if scheme.eq_ignore_ascii_case("apikey") {
        let (client_id, secret) = rest.split_once(':').ok_or_else(unreadable)?;
        Ok(Some(Credential::ApiKey {
            client_id: client_id.to_owned(),
            secret: Secret::new(secret),
        }))
    } else {
        Err(unreadable())
    }
}

/// The principal of `credential`: the session's, or that of a client
/// login from `ip` (whose session is ended at once).
fn principal_of(
    store: &Store,
    credential: Credential,
    ip: Option<String>,
) -> Result<Principal, Problem> {
    match credential {
        Credential::Bearer(token) => Ok(store.authenticate(&token)?),
        Credential::ApiKey { client_id, secret } => {
            let login = store.client_login(&client_id, &secret, ip.as_deref(), API_KEY_SESSION)?;
            let token = login.token;
            let principal = store.authenticate(token.expose());
            store.logout(token.expose())?;
            Ok(principal?)
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let Some(credential) = credential(&parts.headers)? else {
            return Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "AuthenticationRequired",
                "this route needs an Authorization header: `Bearer <token>` or `Apikey <clientId>:<secret>`",
            )
            .with_header(header::WWW_AUTHENTICATE, challenge()));
        };
        let ip = peer_ip(&parts.extensions);
        let principal = state
            .run(move |store| principal_of(store, credential, ip))
            .await?;
        let caller = Caller { principal };
        if let Some(who) = parts.extensions.get::<crate::log::Who>() {
            who.set(caller.label());
        }
        Ok(caller)
    }
}

/// The address of the connection's peer, when the server provides it.
pub(crate) fn peer_ip(extensions: &Extensions) -> Option<String> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// `no-store`, for answers that carry a token or a secret.
pub(crate) fn no_store() -> (header::HeaderName, HeaderValue) {
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}
