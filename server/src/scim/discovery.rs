//! The SCIM discovery endpoints (RFC 7644 §4): what the service supports,
//! its resource types and their schemas. Each describes exactly what the
//! `/scim/v2` routes do.

use axum::extract::{OriginalUri, Path};
use axum::response::Response;
use serde_json::{Value, json};

use super::error::ScimError;
use super::{base_of, list_response, scim_response};

/// The schema URN of a User.
pub(crate) const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// One attribute of a schema.
fn attribute(
    name: &str,
    kind: &str,
    multi: bool,
    required: bool,
    mutability: &str,
    returned: &str,
) -> Value {
    json!({
        "name": name, "type": kind, "multiValued": multi, "description": name,
        "required": required, "caseExact": false, "mutability": mutability,
        "returned": returned, "uniqueness": if name == "userName" { "server" } else { "none" },
    })
}

/// A complex attribute with its sub-attributes.
fn complex(name: &str, multi: bool, required: bool, mutability: &str, subs: Vec<Value>) -> Value {
    let mut value = attribute(name, "complex", multi, required, mutability, "default");
    if let Some(object) = value.as_object_mut() {
        object.insert("subAttributes".into(), Value::Array(subs));
    }
    value
}

/// The User schema: the attributes a rosterdb user maps to.
fn user_schema(base: &str) -> Value {
    let rw = "readWrite";
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A rosterdb user",
        "attributes": [
            attribute("userName", "string", false, true, rw, "default"),
            complex("name", false, true, rw, vec![
                attribute("givenName", "string", false, true, rw, "default"),
                attribute("familyName", "string", false, true, rw, "default"),
            ]),
            attribute("nickName", "string", false, false, rw, "default"),
            // One address (a `primary` flag in input picks it among several).
            complex("emails", true, true, rw, vec![
                attribute("value", "string", false, true, rw, "default"),
            ]),
            complex("phoneNumbers", true, false, rw, vec![
                attribute("value", "string", false, false, rw, "default"),
            ]),
            // Always has a value (rosterdb's `enabled`, true by default).
            attribute("active", "boolean", false, true, rw, "default"),
            attribute("password", "string", false, false, "writeOnly", "never"),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{USER_SCHEMA}")},
    })
}

/// The User resource type.
fn user_type(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "rosterdb users",
        "schema": USER_SCHEMA,
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
    })
}

/// `GET /ServiceProviderConfig`.
pub(crate) async fn service_provider_config(OriginalUri(uri): OriginalUri) -> Response {
    let base = base_of(&uri);
    scim_response(
        axum::http::StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": rosterdb::query::MAX_PAGE_SIZE},
            "changePassword": {"supported": true},
            "sort": {"supported": true},
            "etag": {"supported": true},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A session token from POST /v1/authentication",
                "primary": true,
            }],
            "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
        }),
        None,
    )
}

/// `GET /ResourceTypes`.
pub(crate) async fn resource_types(OriginalUri(uri): OriginalUri) -> Response {
    let base = base_of(&uri);
    list_response(vec![user_type(&base)], 1, 1)
}

/// `GET /ResourceTypes/{id}`.
pub(crate) async fn resource_type(
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    let base = base_of(&uri);
    match id.as_str() {
        "User" => Ok(scim_response(
            axum::http::StatusCode::OK,
            &user_type(&base),
            None,
        )),
        _ => Err(ScimError::not_found(format!("no resource type {id:?}"))),
    }
}

/// `GET /Schemas`.
pub(crate) async fn schemas(OriginalUri(uri): OriginalUri) -> Response {
    let base = base_of(&uri);
    list_response(vec![user_schema(&base)], 1, 1)
}

/// `GET /Schemas/{id}`.
pub(crate) async fn schema(
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    let base = base_of(&uri);
    match id.as_str() {
        USER_SCHEMA => Ok(scim_response(
            axum::http::StatusCode::OK,
            &user_schema(&base),
            None,
        )),
        _ => Err(ScimError::not_found(format!("no schema {id:?}"))),
    }
}
