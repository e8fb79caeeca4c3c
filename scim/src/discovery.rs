//! The discovery endpoints (RFC 7644 §4): `/ServiceProviderConfig`,
//! `/ResourceTypes` and `/Schemas`, describing what rosterdb serves.

use rosterdb::query::MAX_PAGE_SIZE;
use serde_json::{Value, json};

use crate::error::ScimError;
use crate::list::LIST_SCHEMA;
use crate::schema::Resource;

const RESOURCES: [Resource; 2] = [Resource::User, Resource::Group];

/// `/ServiceProviderConfig`.
pub(crate) fn service_provider_config(base_url: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://example.invalid/rosterdb/docs/scim",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_PAGE_SIZE},
        "changePassword": {"supported": true},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer session token",
            "description": "A rosterdb session token (rs_…) or an app-client API key, as the HTTP server accepts them.",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base_url}/ServiceProviderConfig"),
        },
    })
}

fn resource_type(resource: Resource, base_url: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": resource.name(),
        "name": resource.name(),
        "endpoint": resource.endpoint(),
        "description": match resource {
            Resource::User => "rosterdb users",
            Resource::Group => "rosterdb roles; members are the users holding them",
        },
        "schema": resource.schema(),
        "schemaExtensions": [],
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base_url}/ResourceTypes/{}", resource.name()),
        },
    })
}

fn list(items: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": items.len(),
        "startIndex": 1,
        "itemsPerPage": items.len(),
        "Resources": items,
    })
}

/// `/ResourceTypes` or `/ResourceTypes/{id}`.
pub(crate) fn resource_types(id: Option<&str>, base_url: &str) -> Result<Value, ScimError> {
    match id {
        None => Ok(list(
            RESOURCES
                .iter()
                .map(|r| resource_type(*r, base_url))
                .collect(),
        )),
        Some(id) => RESOURCES
            .iter()
            .find(|r| r.name() == id)
            .map(|r| resource_type(*r, base_url))
            .ok_or_else(|| ScimError::not_found(format!("no resource type {id:?}"))),
    }
}

/// `/Schemas` or `/Schemas/{id}`.
pub(crate) fn schemas(id: Option<&str>, base_url: &str) -> Result<Value, ScimError> {
    match id {
        None => Ok(list(
            RESOURCES.iter().map(|r| r.schema_json(base_url)).collect(),
        )),
        Some(id) => RESOURCES
            .iter()
            .find(|r| r.schema() == id)
            .map(|r| r.schema_json(base_url))
            .ok_or_else(|| ScimError::not_found(format!("no schema {id:?}"))),
    }
}
