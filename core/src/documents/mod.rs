//! Documents: what a record is (its fields, rules, input, JSON, updates, timestamps, credential formats); uses only `error`.

pub(crate) mod attributes;
pub(crate) mod caseless;
pub(crate) mod client;
pub(crate) mod credentials;
pub(crate) mod fields;
pub(crate) mod header;
pub(crate) mod input;
pub(crate) mod json;
pub(crate) mod json_build;
pub(crate) mod pointer;
pub(crate) mod record;
pub(crate) mod role;
pub(crate) mod rules;
pub(crate) mod secret;
pub(crate) mod stored_hash;
pub(crate) mod time;
pub(crate) mod update;
pub(crate) mod user;
pub(crate) mod user_stored;
pub(crate) mod validated;
pub(crate) mod values;
