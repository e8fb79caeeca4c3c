//! What callers hold: the store's collections, views of a tenant and binding handles; uses every layer below.

pub(crate) mod account;
pub(crate) mod collection;
pub(crate) mod edit;
pub(crate) mod entries;
pub(crate) mod handle;
pub(crate) mod view;
