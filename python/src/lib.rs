//! The `rosterdb._native` Python extension: conversions between Python and
//! the `rosterdb` core. All behaviour lives in the core.

mod account;
mod args;
mod auth;
mod bulk;
mod collections;
mod convert;
mod errors;
mod query;
mod store;
mod to_python;
mod user_dict;

use pyo3::prelude::*;

/// The extension's Rust allocations use mimalloc, not the C library's
/// `malloc`: redb's page cache holds a store as thousands of 4 KiB pages,
/// and after a large import glibc's free lists made a patch spend ~half its
/// CPU in `malloc` (decision 0020). Python's own objects are unaffected.
/// It is built without its transparent-huge-page advice, so the process
/// keeps the system's policy (decision 0030).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The native part of the ``rosterdb`` package; import ``rosterdb`` instead.
#[pymodule]
mod _native {
    /// The package's version, the Cargo version it was built from
    /// (`rosterdb.__version__`).
    #[allow(non_upper_case_globals, reason = "Python's name for it")]
    #[pymodule_export]
    const __version__: &str = env!("CARGO_PKG_VERSION");

    #[pymodule_export]
    use crate::collections::{PyClients, PyRoles, PyUsers};
    #[pymodule_export]
    use crate::query::{PyPage, PyWalk};
    #[pymodule_export]
    use crate::store::{PyStore, PyTransaction};
}
