//! Authentication: hashing and checking credentials, logins, lockout, second factors, sessions; uses storage, query, documents and settings.

pub(crate) mod allowlist;
pub(crate) mod credentials;
pub(crate) mod hashes;
pub(crate) mod lockout;
pub(crate) mod login;
pub(crate) mod sessions;
pub(crate) mod totp;
