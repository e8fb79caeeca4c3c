//! How each record kind is kept: its table, unique keys and `Entity` binding.

pub(crate) mod client;
pub(crate) mod role;
pub(crate) mod user;

use crate::storage::tx::sealed::Sealed;
use crate::{Client, Role, User};

// The three kinds are the only entities (`Entity` is sealed).
impl Sealed for User {}
impl Sealed for Role {}
impl Sealed for Client {}
