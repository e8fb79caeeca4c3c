//! Sessions (docs/reference/credentials.md, Sessions and Client logins): `login` and `client_login` on a store or a
//! scoped view, `authenticate` and `logout` also on a transaction. The core does the
//! work without the GIL; this module converts arguments and results.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use rosterdb::{Login, Principal, Secret};

use crate::account::credentials;
use crate::args;
use crate::collections::Access::{Read, Write};
use crate::collections::Target;
use crate::convert::doc_to_py;
use crate::store::{PyStore, PyTransaction};

/// `{"token", "expiresAt", <principal_key>: document}`.
fn login_to_py<'py, T: serde::Serialize>(
    py: Python<'py>,
    login: &Login<T>,
    principal_key: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("token", login.token.expose())?;
    out.set_item("expiresAt", doc_to_py(py, &login.expires_at)?)?;
    out.set_item(principal_key, doc_to_py(py, &login.principal)?)?;
    Ok(out)
}

/// `{"kind", "id", "tenant", "roles", "permissions", "expiresAt"}`, with
/// `"tenant": None` for a principal without one (every key is always there).
fn principal_to_py<'py>(py: Python<'py>, p: &Principal) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("kind", p.kind.as_str())?;
    out.set_item("id", p.id)?;
    out.set_item("tenant", p.tenant.as_deref())?;
    out.set_item("roles", &p.roles)?;
    out.set_item("permissions", &p.permissions)?;
    out.set_item("expiresAt", doc_to_py(py, &p.expires_at)?)?;
    Ok(out)
}

fn login<'py>(
    py: Python<'py>,
    target: &Target,
    identifier: String,
    password: Secret,
    tenant: Option<String>,
    ttl_seconds: u64,
    totp_code: Option<Secret>,
) -> PyResult<Bound<'py, PyDict>> {
    let credentials = credentials(identifier, password, tenant, totp_code);
    let ttl = Duration::from_secs(ttl_seconds);
    let login = target.call(py, Write, |c| c.login(&credentials, ttl))?;
    login_to_py(py, &login, "user")
}

fn client_login<'py>(
    py: Python<'py>,
    target: &Target,
    client_id: String,
    secret: Secret,
    ip: Option<String>,
    ttl_seconds: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let ttl = Duration::from_secs(ttl_seconds);
    let login = target.call(py, Write, |c| {
        c.client_login(&client_id, &secret, ip.as_deref(), ttl)
    })?;
    login_to_py(py, &login, "client")
}

fn authenticate<'py>(
    py: Python<'py>,
    target: &Target,
    token: String,
) -> PyResult<Bound<'py, PyDict>> {
    let principal = target.call(py, Read, |c| c.authenticate(&token))?;
    principal_to_py(py, &principal)
}

fn logout(py: Python<'_>, target: &Target, token: String) -> PyResult<()> {
    target.call(py, Write, |c| c.logout(&token))
}

/// `login` and `client_login`, on a store or a scoped view. A transaction
/// has neither: the core refuses checks inside one, since a rollback would
/// undo their failure count.
#[pymethods]
impl PyStore {
    /// Checks a user's credentials and opens a session.
    ///
    /// The checks are those of ``users.verify_password`` (password, second
    /// factor, enabled, not locked; failures count towards the lockout).
    /// See docs/reference/credentials.md, Sessions.
    ///
    /// Args:
    ///     identifier (str): a username or an email (any case).
    ///     password (str): the password, normalised as an RFC 8265 §4.2
    ///         OpaqueString before it is checked.
    ///     tenant (str | None): the user's tenant; ``None`` means users
    ///         without one (a scoped view uses its own).
    ///     ttl_seconds (int): the session's lifetime in seconds (1 to
    ///         2,592,000, 30 days; default 900).
    ///     totp_code (str | None): for a user with ``totpEnabled``, a
    ///         current RFC 6238 code or an unused recovery code.
    ///
    /// Returns:
    ///     dict: ``{"token": str, "expiresAt": str (RFC 3339 UTC), "user":
    ///     dict}``; the bearer token (``rs_`` + 43 base64url characters) is
    ///     shown only here, and ``user`` is the user document with
    ///     ``lastLoginAt`` set.
    ///
    /// Raises:
    ///     AuthenticationError: any failed check (unknown user, wrong
    ///         password, disabled or locked user, missing or wrong code),
    ///         all alike.
    ///     ArgumentError: ``ttl_seconds`` is not an ``int`` from 1 to
    ///         2,592,000.
    ///     TypeError: a text argument is not a ``str``.
    ///     BusyError: this thread has a transaction open.
    ///     ClosedError: the store is closed.
    #[pyo3(signature = (identifier, password, tenant=None, ttl_seconds=900, totp_code=None))]
    fn login<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = args::identifier)] identifier: String,
        #[pyo3(from_py_with = args::password)] password: Secret,
        #[pyo3(from_py_with = args::tenant)] tenant: Option<String>,
        #[pyo3(from_py_with = args::ttl_seconds)] ttl_seconds: u64,
        #[pyo3(from_py_with = args::totp_code)] totp_code: Option<Secret>,
    ) -> PyResult<Bound<'py, PyDict>> {
        login(
            py,
            &self.target(),
            identifier,
            password,
            tenant,
            ttl_seconds,
            totp_code,
        )
    }

    /// Checks an app-client's secret and opens a session for it.
    ///
    /// The client must be enabled and, when its ``ipAllowlist`` is not
    /// empty, ``ip`` must match an entry (an IPv4-mapped IPv6 address
    /// ``::ffff:a.b.c.d`` matches as ``a.b.c.d``). Sets ``lastUsedAt``
    /// (bookkeeping: no version bump). See docs/reference/credentials.md,
    /// Client logins.
    ///
    /// Args:
    ///     client_id (str): the client's public ``clientId`` (``rc_`` + 22
    ///         base62 characters).
    ///     secret (str): the secret ``clients.create`` or
    ///         ``clients.rotate_secret`` returned.
    ///     ip (str | None): the caller's IPv4 or IPv6 address; ``None``
    ///         fails against a non-empty allowlist.
    ///     ttl_seconds (int): the session's lifetime in seconds (1 to
    ///         2,592,000; default 900).
    ///
    /// Returns:
    ///     dict: ``{"token": str, "expiresAt": str (RFC 3339 UTC),
    ///     "client": dict}``; the token is shown only here.
    ///
    /// Raises:
    ///     AuthenticationError: any failed check (unknown client, wrong
    ///         secret, disabled, address not allowed), all alike.
    ///     ArgumentError: ``ttl_seconds`` is not an ``int`` from 1 to
    ///         2,592,000.
    ///     TypeError: a text argument is not a ``str``.
    ///     BusyError: this thread has a transaction open.
    ///     ClosedError: the store is closed.
    #[pyo3(signature = (client_id, secret, ip=None, ttl_seconds=900))]
    fn client_login<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = args::client_id)] client_id: String,
        #[pyo3(from_py_with = args::secret)] secret: Secret,
        #[pyo3(from_py_with = args::ip)] ip: Option<String>,
        #[pyo3(from_py_with = args::ttl_seconds)] ttl_seconds: u64,
    ) -> PyResult<Bound<'py, PyDict>> {
        client_login(py, &self.target(), client_id, secret, ip, ttl_seconds)
    }
}

/// `authenticate` and `logout`, the same on a store (or scoped view) and a transaction.
macro_rules! session_methods {
    ($class:ident) => {
        #[pymethods]
        impl $class {
            /// Who a session token stands for, with the permissions of their roles now.
            ///
            /// Role changes take effect at once. See
            /// docs/reference/credentials.md, Sessions.
            ///
            /// Args:
            ///     token (str): a token ``login`` or ``client_login`` returned.
            ///
            /// Returns:
            ///     dict: ``{"kind": "user" | "client", "id": int, "tenant":
            ///     str | None, "roles": [int], "permissions": [str],
            ///     "expiresAt": str (RFC 3339 UTC)}``.
            ///
            /// Raises:
            ///     InvalidTokenError: the token is malformed, unknown,
            ///         expired or revoked, or its user or client was
            ///         deleted or disabled (or belongs to another tenant
            ///         than a scoped view's).
            ///     TypeError: ``token`` is not a ``str``.
            ///     ClosedError: the store is closed (in a transaction: or
            ///         the transaction is not open).
            fn authenticate<'py>(
                &self,
                py: Python<'py>,
                #[pyo3(from_py_with = args::token)] token: String,
            ) -> PyResult<Bound<'py, PyDict>> {
                authenticate(py, &self.target(), token)
            }

            /// Ends the session of a token; an unknown, expired or malformed token is a no-op.
            ///
            /// Args:
            ///     token (str): a token ``login`` or ``client_login`` returned.
            ///
            /// Raises:
            ///     TypeError: ``token`` is not a ``str``.
            ///     BusyError: on the store, this thread has a transaction
            ///         open (log out through it).
            ///     ClosedError: the store is closed (in a transaction: or
            ///         the transaction is not open).
            fn logout(
                &self,
                py: Python<'_>,
                #[pyo3(from_py_with = args::token)] token: String,
            ) -> PyResult<()> {
                logout(py, &self.target(), token)
            }
        }
    };
}

session_methods!(PyStore);
session_methods!(PyTransaction);
