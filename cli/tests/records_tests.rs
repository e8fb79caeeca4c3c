//! `users`, `roles` and `clients`: every subcommand and output format.

// A test fails by panicking: unwraps and indexing are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

mod common;

use common::Dir;
use serde_json::json;

#[test]
fn users_get_by_id_username_email_and_external_identity() {
    let d = Dir::sample();
    for args in [
        &["users", "get", "1"][..],
        &["users", "get", "mary"],
        &["users", "get", "MARY@example.com"],
        &["users", "get", "--email", "mary@EXAMPLE.com"],
        &["users", "get", "--username", "Mary"],
        &["users", "lookup", "--type", "github", "--value", "42"],
    ] {
        let user = d.json(args);
        assert_eq!(user["username"], "mary", "{args:?}");
    }
    // Documents never carry a password or its hash.
    let text = d.run(&["users", "get", "mary"]).ok().stdout;
    assert_eq!(d.json(&["users", "get", "mary"])["hasPassword"], true);
    for secret in ["password", "Hash", "argon2", "correct horse"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[test]
fn list_takes_the_parameters_as_options_and_pairs() {
    let d = Dir::sample();
    for i in 0..5 {
        d.run(&[
            "users",
            "create",
            &json!({"username": format!("u{i}"), "email": format!("u{i}@example.com"),
                    "firstName": "U", "lastName": format!("Ab{i}"), "enabled": i % 2 == 0})
            .to_string(),
        ])
        .ok();
    }
    // Piped, a list prints JSON Lines.
    let names = |run: common::Run| -> Vec<String> {
        run.ok()
            .lines()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(d.run(&[
            "users",
            "list",
            "-q",
            "lastName=like:ab_",
            "-q",
            "enabled=true"
        ])),
        ["u0", "u2", "u4"]
    );
    assert_eq!(
        names(d.run(&[
            "users",
            "list",
            "--sort",
            "lastName:desc",
            "--page",
            "2",
            "--page-size",
            "2",
            "-q",
            "lastName=like:ab_",
        ])),
        ["u2", "u1"]
    );
    assert_eq!(
        names(d.run(&[
            "users",
            "list",
            "--where",
            "createdAt >= '2014-01-15' and enabled = false"
        ])),
        ["u1", "u3"]
    );
    assert_eq!(
        names(d.run(&["users", "list", "--search", "mary"])),
        ["mary"]
    );
    assert_eq!(
        names(d.run(&["users", "list", "-q", "filter[email]=bob@example.com"])),
        ["bob"]
    );
    assert_eq!(
        names(d.run(&["users", "list", "--offset", "5", "--limit", "10"])),
        ["u3", "u4"]
    );
    // Projection: only the fields asked for (and id).
    let fields = d
        .run(&[
            "users", "list", "--fields", "username", "--limit", "1", "--offset", "0",
        ])
        .ok()
        .lines();
    assert_eq!(fields, [json!({"id": 1, "username": "mary"})]);

    // JSON: the page, with total and the next cursor, which continues it.
    let page = d.json(&[
        "users",
        "list",
        "--page-size",
        "3",
        "--with-total",
        "--format",
        "json",
    ]);
    assert_eq!(page["total"], 7);
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let cursor = page["nextCursor"].as_str().unwrap();
    let next = d.json(&["users", "list", "--cursor", cursor, "--format", "json"]);
    assert_eq!(next["items"][0]["username"], "u1");
    // JSON Lines tells the total and the cursor on stderr.
    let run = d
        .run(&["users", "list", "--page-size", "3", "--with-total"])
        .ok();
    assert!(run.stderr.contains("total: 7"), "{run:?}");
    assert!(run.stderr.contains("more: --cursor "), "{run:?}");
    let quiet = d
        .run(&["users", "list", "--page-size", "3", "--quiet"])
        .ok();
    assert_eq!(quiet.stderr, "");

    // --all walks every page; --count and --explain.
    assert_eq!(
        d.run(&["users", "list", "--all", "--page-size", "2"])
            .ok()
            .lines()
            .len(),
        7
    );
    let all = d.json(&[
        "users",
        "list",
        "--all",
        "--page-size",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(all["items"].as_array().unwrap().len(), 7);
    assert_eq!(
        d.json(&["users", "list", "--count", "-q", "enabled=false"]),
        json!({"count": 2})
    );
    let plan = d
        .run(&["users", "list", "--explain", "-q", "enabled=false"])
        .ok()
        .stdout;
    assert!(!plan.trim().is_empty());
}

#[test]
fn table_aligns_the_requested_or_all_fields() {
    let d = Dir::sample();
    let table = d
        .run(&[
            "users",
            "list",
            "--fields",
            "username,email",
            "--format",
            "table",
        ])
        .ok()
        .stdout;
    assert_eq!(
        table,
        "id  username  email\n\
         1   mary      mary@example.com\n\
         2   bob       bob@example.com\n"
    );
    // Every page of --all in one table, aligned as one.
    let walked = d
        .run(&[
            "users",
            "list",
            "--all",
            "--page-size",
            "1",
            "--fields",
            "username,email",
            "--format",
            "table",
        ])
        .ok()
        .stdout;
    assert_eq!(walked, table);
    let wide = d.run(&["roles", "list", "--format", "table"]).ok().stdout;
    let header: Vec<&str> = wide.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "id",
            "name",
            "permissions",
            "createdAt",
            "updatedAt",
            "version"
        ]
    );
    // One document: field and value.
    let one = d
        .run(&["users", "get", "bob", "--format", "table"])
        .ok()
        .stdout;
    assert!(
        one.starts_with("field        value\nid           2\n"),
        "{one}"
    );
    assert!(
        one.contains("attributes   {\"department\":\"ops\"}\n"),
        "{one}"
    );
    // A value with a newline stays on its row.
    d.run(&[
        "roles",
        "merge",
        "1",
        r#"{"description":"line one\nline two"}"#,
    ])
    .ok();
    let row = d
        .run(&["roles", "get", "1", "--format", "table"])
        .ok()
        .stdout;
    assert!(row.contains("description  line one\\nline two\n"), "{row}");
}

#[test]
fn single_documents_print_as_json_or_one_line() {
    let d = Dir::sample();
    let pretty = d.run(&["roles", "get", "1"]).ok().stdout;
    assert!(pretty.starts_with("{\n  \"id\": 1,"), "{pretty}");
    let line = d
        .run(&["roles", "get", "1", "--format", "jsonl"])
        .ok()
        .stdout;
    assert_eq!(line.lines().count(), 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&line).unwrap()["name"],
        "staff"
    );
}

#[test]
fn updates_patch_merge_replace_with_expected_versions() {
    let d = Dir::sample();
    let patched = d.json(&[
        "users",
        "patch",
        "bob",
        r#"[{"op":"test","path":"/version","value":1},{"op":"add","path":"/nickname","value":"Bobby"}]"#,
        "--expected-version",
        "1",
    ]);
    assert_eq!(
        (patched["nickname"].clone(), patched["version"].clone()),
        (json!("Bobby"), json!(2))
    );
    let merged = d.json(&[
        "users",
        "merge",
        "2",
        r#"{"nickname":null,"lastName":"Abbott"}"#,
    ]);
    assert!(merged.get("nickname").is_none());
    assert_eq!(merged["lastName"], "Abbott");
    // replace reads the document from a file; absent optional fields are cleared.
    std::fs::write(
        d.path("bob.json"),
        r#"{"username":"bob","email":"bob@example.com","firstName":"Robert","lastName":"Abbott"}"#,
    )
    .unwrap();
    let replaced = d.json(&[
        "users",
        "replace",
        "bob@example.com",
        "@bob.json",
        "--expected-version",
        "3",
    ]);
    assert_eq!(replaced["firstName"], "Robert");
    assert_eq!(replaced["attributes"], json!({}));
    // … or from stdin.
    let run = d
        .run_with_stdin(
            &["roles", "merge", "1", "-"],
            Some(br#"{"description":"the staff"}"#),
        )
        .ok();
    assert_eq!(run.json()["description"], "the staff");
    let client = d.json(&["clients", "get", "1"]);
    let client_id = client["clientId"].as_str().unwrap();
    let renamed = d.json(&["clients", "merge", client_id, r#"{"name":"invoices"}"#]);
    assert_eq!(renamed["name"], "invoices");
    let patched = d.json(&[
        "clients",
        "patch",
        "1",
        r#"[{"op":"add","path":"/ipAllowlist/-","value":"10.0.0.0/8"}]"#,
    ]);
    assert_eq!(patched["ipAllowlist"], json!(["10.0.0.0/8"]));
    let role = d.json(&[
        "roles",
        "replace",
        "1",
        r#"{"name":"staff","permissions":["a:b"]}"#,
    ]);
    assert_eq!(role["permissions"], json!(["a:b"]));
    let role = d.json(&[
        "roles",
        "patch",
        "1",
        r#"[{"op":"add","path":"/permissions/-","value":"c:d"}]"#,
    ]);
    assert_eq!(role["permissions"], json!(["a:b", "c:d"]));
}

#[test]
fn creates_and_deletes_of_every_kind() {
    let d = Dir::new();
    // `create` makes the store file when it is missing.
    let role = d.json(&["roles", "create", r#"{"name":"ops"}"#]);
    assert_eq!(role["id"], 1);
    let user = d.json(&[
        "users",
        "create",
        r#"{"username":"ann","email":"ann@example.com","firstName":"Ann","lastName":"A","roles":[1]}"#,
    ]);
    assert_eq!(user["roles"], json!([1]));
    let created = d.json(&["clients", "create", r#"{"name":"svc","roles":[1]}"#]);
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 43);
    assert!(
        created["client"]["clientId"]
            .as_str()
            .unwrap()
            .starts_with("rc_")
    );
    // The secret is printed by create only.
    let client_text = d.run(&["clients", "get", "1"]).ok().stdout;
    assert!(!client_text.contains(secret));
    assert!(!client_text.to_lowercase().contains("secret"));
    let table = d
        .run(&[
            "clients",
            "create",
            r#"{"name":"other"}"#,
            "--format",
            "table",
        ])
        .ok();
    assert!(
        table.stdout.lines().any(|l| l.starts_with("secret ")),
        "{table:?}"
    );
    assert!(table.stderr.contains("shown only now"), "{table:?}");

    // A held role is InUse (4) unless --cascade.
    d.run(&["roles", "delete", "1"]).fails(4);
    let gone = d.json(&["roles", "delete", "1", "--cascade"]);
    assert_eq!(gone["name"], "ops");
    assert_eq!(d.json(&["users", "get", "ann"])["roles"], json!([]));
    assert_eq!(d.json(&["users", "delete", "ann"])["username"], "ann");
    let client_id = created["client"]["clientId"].as_str().unwrap();
    assert_eq!(d.json(&["clients", "delete", client_id])["name"], "svc");
    d.run(&["users", "get", "ann"]).fails(3);
    d.run(&["clients", "get", "1"]).fails(3);
}

#[test]
fn a_tenant_sees_only_its_own_records() {
    let d = Dir::sample();
    let created = d.json(&[
        "--tenant",
        "acme",
        "users",
        "create",
        r#"{"username":"mary","email":"mary@acme.example","firstName":"M","lastName":"A"}"#,
    ]);
    assert_eq!(created["tenant"], "acme");
    let listed = d.run(&["users", "list", "--tenant", "acme"]).ok().lines();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        d.json(&["users", "get", "mary", "--tenant", "acme"])["id"],
        created["id"]
    );
    // Another tenant's record is NotFound.
    d.run(&["users", "get", "1", "--tenant", "acme"]).fails(3);
    let info = d.json(&["info", "--tenant", "acme"]);
    assert_eq!(
        (info["users"].clone(), info["tenant"].clone()),
        (json!(1), json!("acme"))
    );
    d.run(&["export", "x.jsonl", "--tenant", "acme"]).fails(2);
}

#[test]
fn info_tells_version_counts_and_sizes() {
    let d = Dir::sample();
    let info = d.json(&["info"]);
    assert_eq!(info["formatVersion"], rosterdb::FORMAT_VERSION);
    assert_eq!(
        (
            info["users"].clone(),
            info["roles"].clone(),
            info["clients"].clone()
        ),
        (json!(2), json!(1), json!(1))
    );
    assert!(info["fileBytes"].as_u64().unwrap() > 0);
    let table = d.run(&["info", "--format", "table"]).ok().stdout;
    assert!(table.contains("users          2\n"), "{table}");
}
