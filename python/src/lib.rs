//! The `rosterdb._native` Python extension: conversions between Python and
//! the `rosterdb` core. All behaviour lives in the core.

mod account;
mod args;
mod auth;
mod collections;
mod convert;
mod errors;
mod query;
mod store;
mod to_python;

use pyo3::prelude::*;

/// The native part of the `rosterdb` package; import `rosterdb` instead.
#[pymodule]
mod _native {
    #[pymodule_export]
    use crate::collections::{PyClients, PyRoles, PyUsers};
    #[pymodule_export]
    use crate::query::{PyPage, PyWalk};
    #[pymodule_export]
    use crate::store::{PyStore, PyTransaction};
}
