//! Shared helpers of the SCIM tests: requests without HTTP.
#![allow(dead_code)]

use rosterdb::View;
use rosterdb_scim::{Method, ScimRequest, ScimResponse, handle};
use serde_json::{Value, json};

pub const BASE: &str = "https://idp.example/scim/v2";

/// One request: `query` pairs, optional JSON `body`, optional If-Match.
pub fn call(
    view: &View<'_>,
    method: Method,
    path: &str,
    query: &[(&str, &str)],
    body: Option<Value>,
    if_match: Option<&str>,
) -> ScimResponse {
    let query: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let response = handle(
        view,
        ScimRequest {
            method,
            path,
            query: &query,
            body: body.as_bytes(),
            if_match,
            base_url: BASE,
        },
    );
    // No response ever carries a password, whatever was sent.
    if let Some(body) = &response.body {
        let text = body.to_string();
        assert!(!text.contains("\"password\":"), "a password in {text}");
        assert!(
            !text.contains("s3cret-Passw0rd"),
            "a password value in {text}"
        );
    }
    response
}

pub fn get(view: &View<'_>, path: &str, query: &[(&str, &str)]) -> ScimResponse {
    call(view, Method::Get, path, query, None, None)
}

pub fn body(response: &ScimResponse) -> &Value {
    response.body.as_ref().expect("a body")
}

/// A SCIM User body.
pub fn user(name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "name": {"givenName": format!("{name}-given"), "familyName": format!("{name}-family")},
        "emails": [{"value": format!("{name}@example.com"), "type": "work", "primary": true}],
    })
}

/// Creates a user, returning its id.
pub fn create_user(view: &View<'_>, name: &str) -> String {
    let response = call(view, Method::Post, "/Users", &[], Some(user(name)), None);
    assert_eq!(response.status, 201, "{:?}", response.body);
    body(&response)["id"].as_str().expect("an id").to_owned()
}

/// Creates a group with these member ids, returning its id.
pub fn create_group(view: &View<'_>, name: &str, members: &[&str]) -> String {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    let response = call(
        view,
        Method::Post,
        "/Groups",
        &[],
        Some(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members}),
        ),
        None,
    );
    assert_eq!(response.status, 201, "{:?}", response.body);
    body(&response)["id"].as_str().expect("an id").to_owned()
}

/// A PatchOp body of these operations.
pub fn patch_op(operations: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
}

/// The error's status, scimType and detail.
pub fn error(response: &ScimResponse) -> (u16, Option<String>, String) {
    let b = body(response);
    assert_eq!(
        b["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(b["status"], response.status.to_string());
    (
        response.status,
        b["scimType"].as_str().map(str::to_owned),
        b["detail"].as_str().unwrap_or("").to_owned(),
    )
}
