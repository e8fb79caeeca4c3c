//! Credential administration on `store.users` and `store.clients` (SPEC
//! §6): passwords, lockout, the TOTP second factor, sessions, client
//! secrets. Each call converts and hands over to the core, without the GIL.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rosterdb::{Credentials, Secret};

use crate::args;
use crate::collections::Access::{Read, Write};
use crate::collections::{PyClients, PyCollection, PyUsers};
use crate::convert::{doc_to_py, record_to_py};

/// Login credentials from the converted arguments.
pub(crate) fn credentials(
    identifier: String,
    password: Secret,
    tenant: Option<String>,
    totp_code: Option<Secret>,
) -> Credentials {
    let mut credentials = Credentials::new(identifier, password);
    credentials.tenant = tenant;
    credentials.totp_code = totp_code;
    credentials
}

#[pymethods]
impl PyUsers {
    /// Sets a user's password and ends the user's sessions; returns the
    /// user. The password is 8–1024 characters, normalised as an RFC 8265
    /// OpaqueString and stored as an Argon2id hash. An admin write (version
    /// bump, change-log entry). `ValidationError` on `password` for a bad
    /// one, `NotFoundError` for an unknown id.
    fn set_password<'py>(
        &self,
        py: Python<'py>,
        id: &Bound<'py, PyAny>,
        #[pyo3(from_py_with = args::new_password)] password: Secret,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user =
            self.call_record(py, Write, id, |users, id| users.set_password(id, &password))?;
        record_to_py(py, &user)
    }

    /// Clears a user's lockout and failure count (SPEC §6.2); returns the
    /// user, without `lockedUntil`.
    fn unlock<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        record_to_py(
            py,
            &self.call_record(py, Write, id, |users, id| users.unlock(id))?,
        )
    }

    /// Checks a password (and, for a user with `totpEnabled`, a current
    /// RFC 6238 code or an unused recovery code) and returns the user with
    /// `lastLoginAt` set. `identifier` is a username or an email (any
    /// case); `tenant=None` means users without a tenant (a scoped view uses
    /// its own). Every failure — unknown user, wrong password, disabled or
    /// locked user, missing or wrong code — is the same
    /// `AuthenticationError`; `lockout_threshold` failures in a row lock the
    /// user for `lockout_seconds`.
    #[pyo3(signature = (identifier, password, tenant=None, totp_code=None))]
    fn verify_password<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = args::identifier)] identifier: String,
        #[pyo3(from_py_with = args::password)] password: Secret,
        #[pyo3(from_py_with = args::tenant)] tenant: Option<String>,
        #[pyo3(from_py_with = args::totp_code)] totp_code: Option<Secret>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let credentials = credentials(identifier, password, tenant, totp_code);
        let user = self.call(py, Write, |users| users.verify_password(&credentials))?;
        record_to_py(py, &user)
    }

    /// Starts a TOTP enrolment (RFC 6238: SHA-1, 6 digits, 30-second
    /// step): `{"secret": base32 str, "uri": "otpauth://totp/…"}`, shown
    /// only here, pending until `totp_confirm`. `ValidationError` on
    /// `totpEnabled` when a second factor is enabled already.
    fn totp_enroll<'py>(
        &self,
        py: Python<'py>,
        id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let enrollment = self.call_record(py, Write, id, |users, id| users.totp_enroll(id))?;
        let out = PyDict::new(py);
        out.set_item("secret", enrollment.secret.expose())?;
        out.set_item("uri", enrollment.uri.expose())?;
        Ok(out)
    }

    /// Confirms a pending enrolment with a current code; returns ten
    /// one-time recovery codes (`xxxxx-xxxxx`, shown only here) and sets
    /// `totpEnabled`. `AuthenticationError` for a wrong code,
    /// `ValidationError` on `totp` when no enrolment is pending.
    fn totp_confirm<'py>(
        &self,
        py: Python<'py>,
        id: &Bound<'py, PyAny>,
        #[pyo3(from_py_with = args::code)] code: Secret,
    ) -> PyResult<Bound<'py, PyList>> {
        let codes = self.call_record(py, Write, id, |users, id| {
            users.totp_confirm(id, code.expose())
        })?;
        PyList::new(py, codes.iter().map(Secret::expose))
    }

    /// Removes a user's second factor, confirmed or pending; returns the user.
    fn totp_disable<'py>(
        &self,
        py: Python<'py>,
        id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        record_to_py(
            py,
            &self.call_record(py, Write, id, |users, id| users.totp_disable(id))?,
        )
    }

    /// A user's live sessions, oldest first: `[{"createdAt", "expiresAt"}]`
    /// (RFC 3339 UTC strings); never a token.
    fn sessions<'py>(
        &self,
        py: Python<'py>,
        id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let sessions = self.call_record(py, Read, id, |users, id| users.sessions(id))?;
        let list = PyList::empty(py);
        for session in &sessions {
            list.append(doc_to_py(py, session)?)?;
        }
        Ok(list)
    }

    /// Ends every session of a user; returns how many there were.
    fn revoke_sessions(&self, py: Python<'_>, id: &Bound<'_, PyAny>) -> PyResult<u64> {
        self.call_record(py, Write, id, |users, id| users.revoke_sessions(id))
    }
}

#[pymethods]
impl PyClients {
    /// Gives a client a new secret (32 random bytes, base64url) and returns
    /// it, shown only here; the old secret and the client's sessions stop
    /// working at once. An admin write.
    fn rotate_secret(&self, py: Python<'_>, id: &Bound<'_, PyAny>) -> PyResult<String> {
        let secret = self.call_record(py, Write, id, |clients, id| clients.rotate_secret(id))?;
        Ok(secret.expose().to_owned())
    }
}
