//! Who may do what over HTTP: credentials, permissions, tenants.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Server, expect_problems, head_count, problem};
use reqwest::Method;
use rosterdb::{NewClient, NewRole, Query};
use serde_json::{Value, json};

#[tokio::test]
async fn nothing_is_open_without_credentials() {
    let server = Server::start().await;
    for (method, path) in [
        (Method::GET, "/v1/users"),
        (Method::HEAD, "/v1/users"),
        (Method::GET, "/v1/users/1"),
        (Method::GET, "/v1/roles"),
        (Method::GET, "/v1/clients"),
        (Method::POST, "/v1/clients/1/secret"),
        (Method::DELETE, "/v1/users/1"),
    ] {
        let response = server
            .http
            .request(method.clone(), server.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{method} {path}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer, Apikey");
        if method != Method::HEAD {
            problem(response, 401, "AuthenticationRequired").await;
        }
    }
    for header in [
        "Basic YWRtaW46eA==",
        "Bearer",
        "Apikey no-colon",
        "rs_token",
    ] {
        let response = server
            .http
            .get(server.url("/v1/users"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{header}");
    }
    // Two Authorization headers, even one of them valid: which one counts
    // is ambiguous (a proxy may have checked the other), so neither does.
    let token = server.admin().await;
    for path in ["/v1/users", "/scim/v2/Users"] {
        let response = server
            .http
            .get(server.url(path))
            .header("authorization", format!("Bearer {token}"))
            .header("authorization", "Bearer junk")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        if path == "/v1/users" {
            let body = problem(response, 400, "InvalidHeader").await;
            assert_eq!(body["header"], "Authorization");
        }
    }
    // A garbage bearer token, and one of the right shape that names no session.
    for token in [
        "garbage",
        "rs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &"x".repeat(5000),
    ] {
        let response = server.call(Method::GET, "/v1/users", token).await;
        problem(response, 401, "InvalidToken").await;
    }
    assert_eq!(server.store.users().count(&Query::all()).unwrap(), 1);
}

#[tokio::test]
async fn permissions_come_from_roles() {
    let server = Server::start().await;
    let reader = server.principal("reader", &["users:read"], None).await;
    let writer = server
        .principal("writer", &["users:write", "roles:read"], None)
        .await;
    let nobody = server.principal("nobody", &[], None).await;

    assert_eq!(
        server
            .call(Method::GET, "/v1/users", &reader)
            .await
            .status(),
        200
    );
    assert_eq!(
        server
            .call(Method::GET, "/v1/users/1", &reader)
            .await
            .status(),
        200
    );
    assert_eq!(
        server
            .call(Method::GET, "/v1/users/lookup?type=a&value=b", &reader)
            .await
            .status(),
        404
    );
    let body = problem(
        server
            .send_json(Method::POST, "/v1/users", &reader, &json!({}))
            .await,
        403,
        "Forbidden",
    )
    .await;
    assert_eq!(body["permission"], "users:write");
    problem(
        server.call(Method::GET, "/v1/roles", &reader).await,
        403,
        "Forbidden",
    )
    .await;
    expect_problems(
        &server,
        &writer,
        &[
            (Method::GET, "/v1/clients", 403, "Forbidden"),
            (Method::POST, "/v1/clients/1/secret", 403, "Forbidden"),
            (Method::GET, "/v1/users", 403, "Forbidden"),
        ],
    )
    .await;
    assert_eq!(
        server
            .call(Method::GET, "/v1/roles", &writer)
            .await
            .status(),
        200
    );
    let created = server.send_json(Method::POST, "/v1/users", &writer, &json!({"username": "new", "email": "new@example.com", "firstName": "N", "lastName": "W"})).await;
    assert_eq!(created.status(), 201);
    for (method, path) in [
        (Method::GET, "/v1/users"),
        (Method::GET, "/v1/roles"),
        (Method::DELETE, "/v1/users/1"),
    ] {
        problem(server.call(method, path, &nobody).await, 403, "Forbidden").await;
    }
    // A refusal wrote nothing: the admin is still there.
    assert_eq!(server.store.users().get(1).unwrap().username, "admin");

    // Permissions are read at each request: a role that loses one loses it at once.
    server
        .store
        .roles()
        .merge(2, &json!({"permissions": []}), None)
        .unwrap();
    problem(
        server.call(Method::GET, "/v1/users", &reader).await,
        403,
        "Forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_tenant_sees_only_itself() {
    let server = Server::start().await;
    let acme = server.principal("acme-admin", &["*"], Some("acme")).await;
    let globex = server
        .principal("globex-admin", &["*"], Some("globex"))
        .await;
    let root = server.admin().await;

    let created = server.send_json(Method::POST, "/v1/users", &acme, &json!({"username": "wile", "email": "wile@acme.test", "firstName": "Wile", "lastName": "Coyote"})).await;
    assert_eq!(created.status(), 201);
    let wile: Value = created.json().await.unwrap();
    assert_eq!(wile["tenant"], "acme", "a tenant's creates get its tenant");
    let id = wile["id"].as_u64().unwrap();

    // The other tenant sees none of it: not by id, email, list, count or write.
    let path = format!("/v1/users/{id}");
    expect_problems(
        &server,
        &globex,
        &[
            (Method::GET, &path, 404, "NotFound"),
            (Method::GET, "/v1/users/wile@acme.test", 404, "NotFound"),
            (
                Method::GET,
                "/v1/users/wile@acme.test?tenant=acme",
                404,
                "NotFound",
            ),
            (Method::DELETE, &path, 404, "NotFound"),
        ],
    )
    .await;
    problem(
        server
            .send_as(
                Method::PATCH,
                &path,
                &globex,
                "application/merge-patch+json",
                "{\"nickname\": \"x\"}",
            )
            .await,
        404,
        "NotFound",
    )
    .await;
    let listed: Value = server
        .call(Method::GET, "/v1/users?withTotal=true", &globex)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["total"], 1,
        "globex sees only its own admin: {listed}"
    );
    assert_eq!(
        head_count(&server, "/v1/users?username=wile", &globex).await,
        (404, "0".to_owned())
    );
    // A create naming another tenant is refused.
    let body = problem(
        server.send_json(Method::POST, "/v1/users", &globex, &json!({"username": "x", "email": "x@x.test", "firstName": "X", "lastName": "Y", "tenant": "acme"})).await,
        422,
        "Validation",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "tenant");

    // Its own tenant sees it by email without naming the tenant; the
    // principal without a tenant sees everything, naming the tenant.
    assert_eq!(
        server
            .call(Method::GET, "/v1/users/wile@acme.test", &acme)
            .await
            .status(),
        200
    );
    assert_eq!(server.call(Method::GET, &path, &root).await.status(), 200);
    assert_eq!(
        server
            .call(Method::GET, "/v1/users/wile@acme.test?tenant=acme", &root)
            .await
            .status(),
        200
    );
    problem(
        server
            .call(Method::GET, "/v1/users/wile@acme.test", &root)
            .await,
        404,
        "NotFound",
    )
    .await;
    let all: Value = server
        .call(Method::GET, "/v1/users?withTotal=true", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], 4);
    assert_eq!(
        server.store.users().get(id).unwrap().nickname,
        None,
        "nothing written by globex"
    );
}

#[tokio::test]
async fn api_keys_of_disabled_clients_and_refused_addresses() {
    let server = Server::start().await;
    let role = server
        .store
        .roles()
        .create(NewRole {
            permissions: vec!["users:read".into()],
            ..NewRole::new("svc")
        })
        .unwrap();
    let make = |name: &str, allow: &[&str], enabled: bool| {
        let created = server
            .store
            .clients()
            .create(NewClient {
                roles: vec![role.id],
                ip_allowlist: allow.iter().map(|s| s.to_string()).collect(),
                enabled,
                ..NewClient::new(name)
            })
            .unwrap();
        format!(
            "Apikey {}:{}",
            created.client.client_id,
            created.secret.expose()
        )
    };
    let ok = make("ok", &["127.0.0.0/8", "::1"], true);
    let disabled = make("disabled", &[], false);
    let elsewhere = make("elsewhere", &["10.0.0.0/8"], true);

    let get = |auth: String| {
        server
            .http
            .get(server.url("/v1/users"))
            .header("authorization", auth)
            .send()
    };
    assert_eq!(get(ok.clone()).await.unwrap().status(), 200);
    problem(get(disabled).await.unwrap(), 401, "AuthenticationFailed").await;
    problem(get(elsewhere).await.unwrap(), 401, "AuthenticationFailed").await;
    let wrong = ok.rsplit_once(':').unwrap().0.to_owned() + ":not-the-secret";
    problem(get(wrong).await.unwrap(), 401, "AuthenticationFailed").await;
    // The client's role grants users:read only.
    let roles = server
        .http
        .get(server.url("/v1/roles"))
        .header("authorization", ok)
        .send()
        .await
        .unwrap();
    problem(roles, 403, "Forbidden").await;

    // A user of the store is not a client: a disabled user's session stops at once.
    let token = server.principal("temp", &["*"], None).await;
    let id = server
        .store
        .users()
        .get_by_username("temp", None)
        .unwrap()
        .id;
    server
        .store
        .users()
        .merge(id, &json!({"enabled": false}), None)
        .unwrap();
    problem(
        server.call(Method::GET, "/v1/users", &token).await,
        401,
        "InvalidToken",
    )
    .await;
}

#[tokio::test]
async fn a_client_exchanges_its_api_key_for_a_bearer_token() {
    let server = Server::start().await;
    let make = |allow: &str| {
        let created = server
            .store
            .clients()
            .create(NewClient {
                roles: vec![1],
                ip_allowlist: vec![allow.to_owned()],
                ..NewClient::new("svc")
            })
            .unwrap();
        format!(
            "Apikey {}:{}",
            created.client.client_id,
            created.secret.expose()
        )
    };
    let (here, elsewhere) = (make("127.0.0.1"), make("192.0.2.0/24"));
    let url = server.url("/v1/authentication");
    let login = server
        .http
        .post(&url)
        .header("authorization", &here)
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let body: Value = login.json().await.unwrap();
    assert_eq!(
        (body["client"]["id"].as_u64(), body["expiresIn"].as_u64()),
        (Some(1), Some(900))
    );
    let token = body["token"].as_str().unwrap();
    assert_eq!(
        server
            .call(Method::GET, "/v1/clients/1", token)
            .await
            .status(),
        200
    );

    let refused = server
        .http
        .post(&url)
        .header("authorization", &elsewhere)
        .send()
        .await
        .unwrap();
    problem(refused, 401, "AuthenticationFailed").await;
    let with_body = server
        .http
        .post(&url)
        .header("authorization", &here)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(with_body, 422, "Validation").await;
    // Logging out needs the bearer token, not the key.
    let logout = server
        .http
        .delete(&url)
        .header("authorization", &here)
        .send()
        .await
        .unwrap();
    problem(logout, 401, "AuthenticationRequired").await;
}

#[tokio::test]
async fn lockout_over_http_answers_as_any_failure() {
    let server = Server::start().await;
    let url = server.url("/v1/authentication");
    for _ in 0..5 {
        let wrong = server
            .http
            .post(&url)
            .json(&json!({"username": "admin", "password": "not it at all"}))
            .send()
            .await
            .unwrap();
        problem(wrong, 401, "AuthenticationFailed").await;
    }
    // Locked now: the right password fails the same way.
    let right = server
        .http
        .post(&url)
        .json(&json!({"username": "admin", "password": common::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    problem(right, 401, "AuthenticationFailed").await;
    assert!(server.store.users().get(1).unwrap().locked_until.is_some());
}

#[tokio::test]
async fn a_second_factor_is_asked_for_at_login() {
    let server = Server::start().await;
    let enrolment = server.store.users().totp_enroll(1).unwrap();
    let totp = totp_rs::Totp::from_url(enrolment.uri.expose()).unwrap();
    let code = totp.generate_current().to_string();
    let recovery = server.store.users().totp_confirm(1, &code).unwrap();
    let url = server.url("/v1/authentication");
    let login = |code: Option<&str>| {
        let mut body = json!({"username": "admin", "password": common::ADMIN_PASSWORD});
        if let Some(code) = code {
            body["totpCode"] = json!(code);
        }
        server.http.post(&url).json(&body).send()
    };
    problem(login(None).await.unwrap(), 401, "AuthenticationFailed").await;
    problem(
        login(Some("000000x")).await.unwrap(),
        401,
        "AuthenticationFailed",
    )
    .await;
    let code = recovery[0].expose();
    assert_eq!(login(Some(code)).await.unwrap().status(), 200);
    problem(
        login(Some(code)).await.unwrap(),
        401,
        "AuthenticationFailed",
    )
    .await;
}
