//! SCIM 2.0 (RFC 7643, RFC 7644) over a rosterdb store, without HTTP.
//!
//! An HTTP server mounts [`handle`] under `/scim/v2`: it authenticates the
//! caller, checks its permissions, scopes a [`rosterdb::View`] to the
//! caller's tenant, and passes the method, the path after `/scim/v2`, the
//! query pairs, the body and `If-Match`; [`handle`] answers with a status,
//! headers (`Content-Type`, `ETag`, `Location`) and a JSON body.
//!
//! Users are rosterdb users (`userName` = `username`, `name.givenName` =
//! `firstName`, `name.familyName` = `lastName`, `displayName` = `nickname`,
//! `emails` = `email`, `phoneNumbers` = `telephoneNumber` (work) and
//! `mobileNumber` (mobile), `active` = `enabled`, `externalId` = the
//! external id of type `scim`, `password` write-only, `groups` the roles
//! held). Groups are roles (`displayName` = `name`, `externalId` = the
//! role's `externalId`; `members` = the users holding the role).
//! `/Schemas` declares exactly these attributes.
//! Filters compile to rosterdb's query language (docs/reference/queries.md, Expression form); every
//! write is one transaction; `meta.version` and `ETag` are the record's version as a
//! weak ETag, and `If-Match` maps to rosterdb's expected version.

mod discovery;
mod error;
mod filter;
mod group_routes;
mod groups;
mod list;
mod patch;
mod projection;
mod request;
mod resource;
mod router;
mod schema;
mod translate;
mod user_routes;
mod users;

pub use error::{ERROR_SCHEMA, ScimError};
pub use groups::holders;
pub use list::{DEFAULT_COUNT, LIST_SCHEMA, SEARCH_SCHEMA};
pub use patch::PATCH_SCHEMA;
pub use request::{Method, SCIM_MEDIA_TYPE, ScimRequest, ScimResponse};
pub use router::handle;
pub use schema::{GROUP_SCHEMA, Resource, USER_SCHEMA};
pub use users::EXTERNAL_ID_TYPE;
