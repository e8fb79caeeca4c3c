//! No escalation (server/README.md, "Access"): a principal gives only roles whose
//! every permission it holds, and adds to a role only permissions it
//! holds — over REST (POST, PUT, both PATCHes) and SCIM Group members —
//! and changes, deletes or rotates the secret of no user, client or role
//! holding a permission it lacks (REST and SCIM); a refused write leaves
//! the record as it was. An admin (`*`) is not restricted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Server, problem};
use reqwest::Method;
use serde_json::{Value, json};

const ADMIN_ROLE: u64 = 1;
const SCIM: &str = "application/scim+json";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// The role `readers` (`users:read`), created in the store; its id.
fn readers(server: &Server) -> u64 {
    server
        .store
        .roles()
        .create(rosterdb::NewRole {
            permissions: vec!["users:read".into()],
            ..rosterdb::NewRole::new("readers")
        })
        .unwrap()
        .id
}

/// `PATCH path` with `token` and `body` as a merge patch.
async fn merge(server: &Server, path: &str, token: &str, body: &Value) -> reqwest::Response {
    let body = body.to_string();
    server
        .send_as(
            Method::PATCH,
            path,
            token,
            "application/merge-patch+json",
            body,
        )
        .await
}

/// Asserts a refusal naming the admin role, and returns its body.
async fn refused(response: reqwest::Response) -> Value {
    let body = problem(response, 403, "Forbidden").await;
    assert_eq!(body["role"], "admin", "{body}");
    assert_eq!(body["permission"], "*", "{body}");
    assert!(body["detail"].as_str().unwrap().contains("admin"), "{body}");
    body
}

/// A user holding `users:*` and `roles:*` (SCIM Users and Groups); its token.
async fn provisioner(server: &Server) -> String {
    server
        .principal(
            "prov",
            &["users:write", "users:read", "roles:write", "roles:read"],
            None,
        )
        .await
}

/// `method path` on SCIM with `token`, and `body` if any.
async fn scim_send(
    server: &Server,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let request = server.req(method, path, token).header("content-type", SCIM);
    match body {
        Some(body) => request.body(body.to_string()),
        None => request,
    }
    .send()
    .await
    .unwrap()
}

/// Asserts a SCIM `403` whose detail names the admin (user or role).
async fn scim_refused(response: reqwest::Response) {
    assert_eq!(response.status(), 403);
    assert_eq!(response.headers()["content-type"], SCIM);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "403", "{body}");
    assert!(body["detail"].as_str().unwrap().contains("admin"), "{body}");
}

/// The user `bob`, holding no role, created in the store.
fn bob(server: &Server) -> rosterdb::User {
    server
        .store
        .users()
        .create(rosterdb::NewUser::new("bob", "bob@example.com", "B", "O"))
        .unwrap()
}

/// The client `root-app`, holding the admin role, created in the store.
fn root_client(server: &Server) -> rosterdb::Client {
    server
        .store
        .clients()
        .create(rosterdb::NewClient {
            roles: vec![ADMIN_ROLE],
            ..rosterdb::NewClient::new("root-app")
        })
        .unwrap()
        .client
}

#[tokio::test]
async fn users_write_gives_no_role_beyond_its_own_permissions() {
    let server = Server::start().await;
    let hr = server
        .principal("hr", &["users:write", "users:read"], None)
        .await;
    let hr_id = server
        .store
        .users()
        .get_by_email("hr@example.com", None)
        .unwrap()
        .id;
    let readers = readers(&server);
    let users_before = server
        .store
        .users()
        .count(&rosterdb::Query::default())
        .unwrap();

    // POST a user holding the admin role: refused, nothing created.
    refused(
        server
            .send_json(
                Method::POST,
                "/v1/users",
                &hr,
                &json!({"username": "mallory", "email": "m@example.com", "firstName": "M", "lastName": "L", "roles": [ADMIN_ROLE]}),
            )
            .await,
    )
    .await;
    assert_eq!(
        server
            .store
            .users()
            .count(&rosterdb::Query::default())
            .unwrap(),
        users_before
    );

    // The principal cannot give itself the role, by any update.
    let me = server.store.users().get(hr_id).unwrap();
    let path = format!("/v1/users/{hr_id}");
    let mut roles = me.roles.clone();
    roles.push(ADMIN_ROLE);
    refused(merge(&server, &path, &hr, &json!({"roles": roles})).await).await;
    refused(
        server
            .send_as(
                Method::PATCH,
                &path,
                &hr,
                "application/json-patch+json",
                json!([{"op": "add", "path": "/roles/-", "value": ADMIN_ROLE}]).to_string(),
            )
            .await,
    )
    .await;
    refused(
        server
            .send_json(
                Method::PUT,
                &path,
                &hr,
                &json!({"username": "hr", "email": "hr@example.com", "firstName": "First", "lastName": "Last", "roles": roles, "nickname": "boss"}),
            )
            .await,
    )
    .await;
    let after = server.store.users().get(hr_id).unwrap();
    assert_eq!(after.roles, me.roles);
    assert_eq!(after.version, me.version);
    assert_eq!(after.nickname, None);
    // Nor give it to another user.
    let bob = bob(&server);
    refused(
        server
            .send_as(
                Method::PATCH,
                &format!("/v1/users/{}", bob.id),
                &hr,
                "application/merge-patch+json",
                json!({"roles": [readers, ADMIN_ROLE]}).to_string(),
            )
            .await,
    )
    .await;
    assert_eq!(server.store.users().get(bob.id).unwrap(), bob);

    // A role whose permissions it holds it may give, and any role take away.
    let given = merge(
        &server,
        &path,
        &hr,
        &json!({"roles": [me.roles[0], readers]}),
    )
    .await;
    assert_eq!(given.status(), 200);
    let user = server.store.users().get(hr_id).unwrap();
    assert_eq!(user.roles, vec![me.roles[0], readers]);
    assert_eq!(user.version, me.version + 1);
    let created = server
        .send_json(
            Method::POST,
            "/v1/users",
            &hr,
            &json!({"username": "rita", "email": "r@example.com", "firstName": "R", "lastName": "T", "roles": [readers]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let rita: Value = created.json().await.unwrap();
    let rita = format!("/v1/users/{}", rita["id"]);
    let taken = merge(&server, &rita, &hr, &json!({"roles": []})).await;
    assert_eq!(taken.status(), 200);
}

#[tokio::test]
async fn clients_write_gives_no_role_beyond_its_own_permissions() {
    let server = Server::start().await;
    let ops = server
        .principal("ops", &["clients:write", "clients:read"], None)
        .await;
    refused(
        server
            .send_json(
                Method::POST,
                "/v1/clients",
                &ops,
                &json!({"name": "backdoor", "roles": [ADMIN_ROLE]}),
            )
            .await,
    )
    .await;
    assert_eq!(
        server
            .store
            .clients()
            .count(&rosterdb::Query::default())
            .unwrap(),
        0
    );
    let created = server
        .send_json(Method::POST, "/v1/clients", &ops, &json!({"name": "app"}))
        .await;
    assert_eq!(created.status(), 201);
    let id = server
        .store
        .clients()
        .list(&rosterdb::Query::default())
        .unwrap()
        .items[0]
        .id;
    refused(
        merge(
            &server,
            &format!("/v1/clients/{id}"),
            &ops,
            &json!({"roles": [ADMIN_ROLE]}),
        )
        .await,
    )
    .await;
    let client = server.store.clients().get(id).unwrap();
    assert!(client.roles.is_empty());
    assert_eq!(client.version, 1);
}

#[tokio::test]
async fn roles_write_adds_no_permission_it_does_not_hold() {
    let server = Server::start().await;
    let rm = server
        .principal("rm", &["roles:write", "roles:read", "users:read"], None)
        .await;
    let not_held = |body: Value, role: &str| {
        assert_eq!(body["role"], role, "{body}");
        assert_eq!(body["permission"], "*", "{body}");
    };
    not_held(
        problem(
            server
                .send_json(
                    Method::POST,
                    "/v1/roles",
                    &rm,
                    &json!({"name": "root", "permissions": ["*"]}),
                )
                .await,
            403,
            "Forbidden",
        )
        .await,
        "root",
    );
    assert!(
        server
            .store
            .roles()
            .list(&rosterdb::Query::default())
            .unwrap()
            .items
            .iter()
            .all(|r| r.name != "root")
    );
    // Its own role: `*` may not be added by either PATCH nor PUT.
    let own = server.store.roles().get(2).unwrap();
    assert_eq!(own.name, "rm-role");
    for (content_type, body) in [
        (
            "application/merge-patch+json",
            json!({"permissions": ["roles:write", "*"]}),
        ),
        (
            "application/json-patch+json",
            json!([{"op": "add", "path": "/permissions/-", "value": "*"}]),
        ),
    ] {
        not_held(
            problem(
                server
                    .send_as(
                        Method::PATCH,
                        "/v1/roles/2",
                        &rm,
                        content_type,
                        body.to_string(),
                    )
                    .await,
                403,
                "Forbidden",
            )
            .await,
            "rm-role",
        );
    }
    not_held(
        problem(
            server
                .send_json(
                    Method::PUT,
                    "/v1/roles/2",
                    &rm,
                    &json!({"name": "rm-role", "permissions": ["*"]}),
                )
                .await,
            403,
            "Forbidden",
        )
        .await,
        "rm-role",
    );
    assert_eq!(server.store.roles().get(2).unwrap(), own);
    // Permissions it holds it may add; any it may remove.
    let created = server
        .send_json(
            Method::POST,
            "/v1/roles",
            &rm,
            &json!({"name": "viewers", "permissions": ["users:read", "roles:read"]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let viewers: Value = created.json().await.unwrap();
    let viewers = format!("/v1/roles/{}", viewers["id"]);
    let removed = merge(&server, &viewers, &rm, &json!({"permissions": []})).await;
    assert_eq!(removed.status(), 200);
}

#[tokio::test]
async fn scim_group_members_are_given_only_within_the_callers_permissions() {
    let server = Server::start().await;
    let token = provisioner(&server).await;
    let readers = readers(&server);
    let me = server.store.users().get(2).unwrap();
    let add_me = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": "2"}]}]});
    for (method, body) in [
        (Method::PATCH, add_me.clone()),
        (
            Method::PUT,
            json!({"schemas": [GROUP], "displayName": "admin", "members": [{"value": "1"}, {"value": "2"}]}),
        ),
    ] {
        let path = format!("/scim/v2/Groups/{ADMIN_ROLE}");
        scim_refused(scim_send(&server, method, &path, &token, Some(&body)).await).await;
    }
    let after = server.store.users().get(2).unwrap();
    assert_eq!(after.roles, me.roles);
    assert_eq!(after.version, me.version);
    // A group whose permissions the caller holds it may give.
    let group = format!("/scim/v2/Groups/{readers}");
    let given = scim_send(&server, Method::PATCH, &group, &token, Some(&add_me)).await;
    assert_eq!(given.status(), 200);
    assert_eq!(
        server.store.users().get(2).unwrap().roles,
        vec![me.roles[0], readers]
    );
    // Removing members of a group is not restricted by what the group grants.
    let remove_me = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "remove", "path": "members[value eq \"2\"]"}]});
    let removed = scim_send(&server, Method::PATCH, &group, &token, Some(&remove_me)).await;
    assert_eq!(removed.status(), 200);
    assert_eq!(server.store.users().get(2).unwrap().roles, me.roles);
}

#[tokio::test]
async fn an_admin_gives_anything() {
    let server = Server::start().await;
    let admin = server.admin().await;
    let created = server
        .send_json(
            Method::POST,
            "/v1/users",
            &admin,
            &json!({"username": "root2", "email": "r2@example.com", "firstName": "R", "lastName": "T", "roles": [ADMIN_ROLE]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let role = server
        .send_json(
            Method::POST,
            "/v1/roles",
            &admin,
            &json!({"name": "root", "permissions": ["*"]}),
        )
        .await;
    assert_eq!(role.status(), 201);
    let scim = server
        .req(Method::PATCH, "/scim/v2/Groups/2", &admin)
        .header("content-type", SCIM)
        .body(
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "add", "path": "members", "value": [{"value": "2"}]}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(scim.status(), 200);
    assert_eq!(
        server.store.users().get(2).unwrap().roles,
        vec![ADMIN_ROLE, 2]
    );
}

/// Asserts a refusal to act on `target` (it holds `*`); returns the body.
async fn beyond(response: reqwest::Response, target: &str) -> Value {
    let body = problem(response, 403, "Forbidden").await;
    assert!(body["target"].as_str().unwrap().contains(target), "{body}");
    assert_eq!(body["permission"], "*", "{body}");
    body
}

#[tokio::test]
async fn users_write_changes_and_deletes_no_user_holding_more() {
    let server = Server::start().await;
    let hr = server
        .principal("hr", &["users:write", "users:read"], None)
        .await;
    let admin_before = server.store.users().get(1).unwrap();
    beyond(
        merge(
            &server,
            "/v1/users/1",
            &hr,
            &json!({"email": "mallory@example.com"}),
        )
        .await,
        "user 1",
    )
    .await;
    beyond(
        server
            .send_as(
                Method::PATCH,
                "/v1/users/1",
                &hr,
                "application/json-patch+json",
                json!([{"op": "replace", "path": "/email", "value": "m@example.com"}]).to_string(),
            )
            .await,
        "user 1",
    )
    .await;
    beyond(
        server
            .send_json(
                Method::PUT,
                "/v1/users/1",
                &hr,
                &json!({"username": "admin", "email": "m@example.com", "firstName": "Ada", "lastName": "Admin", "roles": [ADMIN_ROLE]}),
            )
            .await,
        "user 1",
    )
    .await;
    beyond(
        server.call(Method::DELETE, "/v1/users/1", &hr).await,
        "user 1",
    )
    .await;
    assert_eq!(server.store.users().get(1).unwrap(), admin_before);

    // A plain user, and itself, it may change and delete.
    let bob = bob(&server);
    let bob_path = format!("/v1/users/{}", bob.id);
    let changed = merge(&server, &bob_path, &hr, &json!({"nickname": "bobby"})).await;
    assert_eq!(changed.status(), 200);
    let own = merge(&server, "/v1/users/2", &hr, &json!({"nickname": "boss"})).await;
    assert_eq!(own.status(), 200);
    let deleted = server.call(Method::DELETE, &bob_path, &hr).await;
    assert_eq!(deleted.status(), 204);
}

#[tokio::test]
async fn clients_write_changes_no_client_holding_more() {
    let server = Server::start().await;
    let ops = server
        .principal("ops", &["clients:write", "clients:read"], None)
        .await;
    let root = root_client(&server);
    let path = format!("/v1/clients/{}", root.id);
    beyond(
        server
            .call(Method::POST, &format!("{path}/secret"), &ops)
            .await,
        "client",
    )
    .await;
    beyond(
        merge(&server, &path, &ops, &json!({"ipAllowlist": ["0.0.0.0/0"]})).await,
        "client",
    )
    .await;
    beyond(
        server
            .send_json(Method::PUT, &path, &ops, &json!({"name": "mine"}))
            .await,
        "client",
    )
    .await;
    beyond(server.call(Method::DELETE, &path, &ops).await, "client").await;
    assert_eq!(server.store.clients().get(root.id).unwrap(), root);

    // A client within its permissions it may rotate and delete.
    let plain = server
        .store
        .clients()
        .create(rosterdb::NewClient::new("app"))
        .unwrap()
        .client;
    let plain_path = format!("/v1/clients/{}", plain.id);
    let rotated = server
        .call(Method::POST, &format!("{plain_path}/secret"), &ops)
        .await;
    assert_eq!(rotated.status(), 200);
    let deleted = server.call(Method::DELETE, &plain_path, &ops).await;
    assert_eq!(deleted.status(), 204);
}

#[tokio::test]
async fn roles_write_changes_and_deletes_no_role_granting_more() {
    let server = Server::start().await;
    let rm = server
        .principal("rm", &["roles:write", "roles:read"], None)
        .await;
    let admin_role = server.store.roles().get(ADMIN_ROLE).unwrap();
    let path = format!("/v1/roles/{ADMIN_ROLE}");
    beyond(
        merge(&server, &path, &rm, &json!({"name": "renamed"})).await,
        "role 1",
    )
    .await;
    beyond(
        merge(&server, &path, &rm, &json!({"permissions": []})).await,
        "role 1",
    )
    .await;
    beyond(
        server
            .call(Method::DELETE, &format!("{path}?cascade=true"), &rm)
            .await,
        "role 1",
    )
    .await;
    assert_eq!(server.store.roles().get(ADMIN_ROLE).unwrap(), admin_role);
    // A role within its permissions it may change and delete.
    let lesser = server
        .store
        .roles()
        .create(rosterdb::NewRole {
            permissions: vec!["roles:read".into()],
            ..rosterdb::NewRole::new("lesser")
        })
        .unwrap()
        .id;
    let changed = merge(
        &server,
        &format!("/v1/roles/{lesser}"),
        &rm,
        &json!({"name": "least"}),
    )
    .await;
    assert_eq!(changed.status(), 200);
    let deleted = server
        .call(Method::DELETE, &format!("/v1/roles/{lesser}"), &rm)
        .await;
    assert_eq!(deleted.status(), 204);
}

#[tokio::test]
async fn scim_changes_and_deletes_no_user_or_group_holding_more() {
    let server = Server::start().await;
    let token = provisioner(&server).await;
    let readers = readers(&server);
    let admin_before = server.store.users().get(1).unwrap();
    let deactivate = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "active", "value": false}]});
    let add_admin = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": "1"}]}]});
    for (method, path, body) in [
        (
            Method::PATCH,
            "/scim/v2/Users/1".to_owned(),
            Some(deactivate.clone()),
        ),
        (Method::DELETE, "/scim/v2/Users/1".to_owned(), None),
        (
            Method::DELETE,
            format!("/scim/v2/Groups/{ADMIN_ROLE}"),
            None,
        ),
        // Making the admin a member of a group changes the admin.
        (
            Method::PATCH,
            format!("/scim/v2/Groups/{readers}"),
            Some(add_admin),
        ),
    ] {
        scim_refused(scim_send(&server, method, &path, &token, body.as_ref()).await).await;
    }
    assert_eq!(server.store.users().get(1).unwrap(), admin_before);
    assert!(server.store.roles().get(ADMIN_ROLE).is_ok());

    // A plain user it may change and delete.
    let bob = bob(&server);
    let path = format!("/scim/v2/Users/{}", bob.id);
    let changed = scim_send(&server, Method::PATCH, &path, &token, Some(&deactivate)).await;
    assert_eq!(changed.status(), 200);
    assert!(!server.store.users().get(bob.id).unwrap().enabled);
    let deleted = scim_send(&server, Method::DELETE, &path, &token, None).await;
    assert_eq!(deleted.status(), 204);
}

#[tokio::test]
async fn an_admin_changes_and_deletes_anything() {
    let server = Server::start().await;
    let admin = server.admin().await;
    let root = root_client(&server);
    let path = format!("/v1/clients/{}", root.id);
    let rotated = server
        .call(Method::POST, &format!("{path}/secret"), &admin)
        .await;
    assert_eq!(rotated.status(), 200);
    let deleted = server.call(Method::DELETE, &path, &admin).await;
    assert_eq!(deleted.status(), 204);
    let renamed = merge(
        &server,
        &format!("/v1/roles/{ADMIN_ROLE}"),
        &admin,
        &json!({"description": "everything"}),
    )
    .await;
    assert_eq!(renamed.status(), 200);
    let own = merge(&server, "/v1/users/1", &admin, &json!({"nickname": "ada"})).await;
    assert_eq!(own.status(), 200);
    let root2 = server
        .store
        .users()
        .create(rosterdb::NewUser {
            roles: vec![ADMIN_ROLE],
            ..rosterdb::NewUser::new("root2", "r2@example.com", "R", "T")
        })
        .unwrap();
    let scim = server
        .req(
            Method::DELETE,
            &format!("/scim/v2/Users/{}", root2.id),
            &admin,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(scim.status(), 204);
}
