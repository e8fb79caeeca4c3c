//! How each record kind is kept: its table, unique keys and `Entity` binding.

pub(crate) mod client;
pub(crate) mod role;
pub(crate) mod user;
