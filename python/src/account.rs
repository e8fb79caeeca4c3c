//! Credential administration on `store.users` and `store.clients`
//! (docs/reference/credentials.md): passwords, lockout, the TOTP second factor, sessions, client
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
    /// Sets a user's password and ends the user's sessions.
    ///
    /// The password is normalised as a PRECIS OpaqueString (RFC 8265 §4.2:
    /// non-ASCII spaces become U+0020, then NFC) and stored as an Argon2id
    /// hash. An admin write: version bump, change-log entry. See
    /// docs/reference/credentials.md, Passwords.
    ///
    /// Args:
    ///     id (int): the user's id.
    ///     password (str): 8 to 1024 characters.
    ///
    /// Returns:
    ///     dict: the user document, with ``hasPassword`` true.
    ///
    /// Raises:
    ///     ValidationError: the password is too short, too long or not
    ///         Unicode text (the field is ``password``).
    ///     NotFoundError: no user has this id.
    ///     TypeError: ``id`` is not an ``int`` or ``password`` not a ``str``.
    ///     BusyError: this thread has a transaction open (use it).
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
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

    /// Clears a user's lockout and failed-check count.
    ///
    /// Clearing a lock in force is an admin write (version bump,
    /// change-log entry). See docs/reference/credentials.md, Lockout.
    ///
    /// Args:
    ///     id (int): the user's id.
    ///
    /// Returns:
    ///     dict: the user document, without ``lockedUntil``.
    ///
    /// Raises:
    ///     NotFoundError: no user has this id.
    ///     TypeError: ``id`` is not an ``int``.
    ///     BusyError: this thread has a transaction open (use it).
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
    fn unlock<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        record_to_py(
            py,
            &self.call_record(py, Write, id, |users, id| users.unlock(id))?,
        )
    }

    /// Checks a user's password (and second factor) without opening a session.
    ///
    /// ``lockout_threshold`` failures in a row lock the user for
    /// ``lockout_seconds``; a success resets the count and re-hashes a
    /// password whose hash is not the store's current Argon2id. That
    /// bookkeeping is no update (no version bump, no change-log entry). See
    /// docs/reference/credentials.md, Passwords.
    ///
    /// Args:
    ///     identifier (str): a username or an email (any case).
    ///     password (str): the password, normalised as an RFC 8265 §4.2
    ///         OpaqueString before it is checked.
    ///     tenant (str | None): the user's tenant; ``None`` means users
    ///         without one (a scoped view uses its own).
    ///     totp_code (str | None): for a user with ``totpEnabled``, a
    ///         current RFC 6238 code (6 digits, 30-second step, one step of
    ///         drift either way) or an unused recovery code; each works once.
    ///
    /// Returns:
    ///     dict: the user document, with ``lastLoginAt`` set.
    ///
    /// Raises:
    ///     AuthenticationError: any failed check (unknown user, wrong
    ///         password, disabled or locked user, missing or wrong code),
    ///         all alike and in similar time.
    ///     ArgumentError: called through a transaction (``argument`` is
    ///         ``transaction``: a rollback would undo the failure count).
    ///     TypeError: a text argument is not a ``str``.
    ///     BusyError: this thread has a transaction open.
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
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

    /// Starts a TOTP second-factor enrolment (RFC 6238).
    ///
    /// Codes are SHA-1, 6 digits, with a 30-second step. The new secret is pending until ``totp_confirm``; an earlier pending
    /// one is replaced. An admin write. See docs/reference/credentials.md,
    /// Second factor (TOTP).
    ///
    /// Args:
    ///     id (int): the user's id.
    ///
    /// Returns:
    ///     dict: ``{"secret": str (base32), "uri": str
    ///     ("otpauth://totp/...", for an authenticator app's QR code)}``,
    ///     shown only here.
    ///
    /// Raises:
    ///     ValidationError: a confirmed second factor exists already
    ///         (the field is ``totpEnabled``; disable it first).
    ///     NotFoundError: no user has this id.
    ///     TypeError: ``id`` is not an ``int``.
    ///     BusyError: this thread has a transaction open (use it).
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
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

    /// Confirms a pending TOTP enrolment with a current code and sets ``totpEnabled``.
    ///
    /// From then on ``login`` and ``verify_password`` need a
    /// ``totp_code``. An admin write. See docs/reference/credentials.md,
    /// Second factor (TOTP).
    ///
    /// Args:
    ///     id (int): the user's id.
    ///     code (str): a current 6-digit RFC 6238 code of the pending secret.
    ///
    /// Returns:
    ///     list[str]: ten one-time recovery codes (``xxxxx-xxxxx``), shown
    ///     only here and stored as SHA-256 digests.
    ///
    /// Raises:
    ///     AuthenticationError: the code is wrong.
    ///     ValidationError: no enrolment is pending (the field is ``totp``).
    ///     NotFoundError: no user has this id.
    ///     TypeError: ``id`` is not an ``int`` or ``code`` not a ``str``.
    ///     BusyError: this thread has a transaction open (use it).
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
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

    /// Removes a user's TOTP second factor, confirmed or pending.
    ///
    /// An admin write; with no second factor nothing is written. See
    /// docs/reference/credentials.md, Second factor (TOTP).
    ///
    /// Args:
    ///     id (int): the user's id.
    ///
    /// Returns:
    ///     dict: the user document, with ``totpEnabled`` false.
    ///
    /// Raises:
    ///     NotFoundError: no user has this id.
    ///     TypeError: ``id`` is not an ``int``.
    ///     BusyError: this thread has a transaction open (use it).
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
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

    /// A user's live sessions, oldest first; never a token.
    ///
    /// See docs/reference/credentials.md, Sessions.
    ///
    /// Args:
    ///     id (int): the user's id.
    ///
    /// Returns:
    ///     list[dict]: ``[{"createdAt": str, "expiresAt": str}, ...]``
    ///     (RFC 3339 UTC).
    ///
    /// Raises:
    ///     NotFoundError: no user has this id.
    ///     TypeError: ``id`` is not an ``int``.
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
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

    /// Ends every session of a user.
    ///
    /// See docs/reference/credentials.md, Sessions.
    ///
    /// Args:
    ///     id (int): the user's id.
    ///
    /// Returns:
    ///     int: how many live sessions there were.
    ///
    /// Raises:
    ///     NotFoundError: no user has this id.
    ///     TypeError: ``id`` is not an ``int``.
    ///     BusyError: this thread has a transaction open (use it).
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
    fn revoke_sessions(&self, py: Python<'_>, id: &Bound<'_, PyAny>) -> PyResult<u64> {
        self.call_record(py, Write, id, |users, id| users.revoke_sessions(id))
    }
}

#[pymethods]
impl PyClients {
    /// Gives an app-client a new secret, ending the old one and its sessions.
    ///
    /// The old secret and the client's sessions stop working at once. An
    /// admin write (version bump, change-log entry). See
    /// docs/reference/credentials.md, Client logins.
    ///
    /// Args:
    ///     id (int): the client's id.
    ///
    /// Returns:
    ///     str: the new secret (32 random bytes, base64url), shown only here.
    ///
    /// Raises:
    ///     NotFoundError: no client has this id.
    ///     TypeError: ``id`` is not an ``int``.
    ///     BusyError: this thread has a transaction open (use it).
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
    fn rotate_secret(&self, py: Python<'_>, id: &Bound<'_, PyAny>) -> PyResult<String> {
        let secret = self.call_record(py, Write, id, |clients, id| clients.rotate_secret(id))?;
        Ok(secret.expose().to_owned())
    }
}
