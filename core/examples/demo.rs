//! A realistic first session with rosterdb: a store file with roles, users,
//! an app-client, lookups, a refused duplicate, an all-or-nothing
//! transaction, logins (a session, a lockout, client logins from an allowed
//! and a refused address) and the change log.
//!
//! `cargo run -p rosterdb --example demo [PATH]` (default: a fresh file in
//! the system's temporary directory).

use std::path::PathBuf;

use rosterdb::{
    Credentials, DEFAULT_SESSION_TTL, ExternalId, NewClient, NewRole, NewUser, Options, Secret,
    Store,
};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("rosterdb-demo.redb"));
    if path.exists() {
        std::fs::remove_file(&path)?;
    }
    let store = Store::open(&path, Options::default())?;
    println!("opened {}", path.display());

    let admins = store.roles().create(NewRole {
        description: Some("Full access to the back office".into()),
        permissions: vec![
            "users:read".into(),
            "users:write".into(),
            "billing:*".into(),
        ],
        ..NewRole::new("admins")
    })?;
    let support = store.roles().create(NewRole {
        permissions: vec!["users:read".into(), "tickets:write".into()],
        ..NewRole::new("support")
    })?;
    print_json("role", &admins)?;
    print_json("role", &support)?;

    let ada = store.users().create(NewUser {
        nickname: Some("Ada".into()),
        roles: vec![admins.id],
        password: Some(Secret::new("analytical-engine-1843")),
        external_ids: vec![ExternalId::new("github", "1815")],
        attributes: json!({"department": "R&D", "office": "London"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ..NewUser::new("ada.lovelace", "ada@example.com", "Ada", "Lovelace")
    })?;
    print_json("user", &ada)?;

    // Several writes in one transaction: all of them commit, or none.
    let (grace, linus) = store.write(|tx| {
        let grace = tx.users().create(NewUser {
            roles: vec![support.id],
            ..NewUser::new("grace", "grace@example.com", "Grace", "Hopper")
        })?;
        let linus = tx.users().create(NewUser {
            roles: vec![support.id, admins.id],
            ..NewUser::new("linus", "linus@example.com", "Linus", "Torvalds")
        })?;
        Ok((grace, linus))
    })?;
    print_json("user", &grace)?;
    print_json("user", &linus)?;

    let found = store.users().get_by_email("ADA@EXAMPLE.COM", None)?;
    println!(
        "lookup by email (any case) -> user {} ({})",
        found.id, found.username
    );
    let found = store.users().get_by_external_id("github", "1815", None)?;
    println!(
        "lookup by github id -> user {} ({})",
        found.id, found.username
    );

    match store
        .users()
        .create(NewUser::new("Grace", "g2@example.com", "G", "H"))
    {
        Err(e) => println!("duplicate username refused: {e}"),
        Ok(u) => return Err(format!("duplicate accepted: {u:?}").into()),
    }
    match store.roles().delete(support.id, false) {
        Err(e) => println!("deleting a held role refused: {e}"),
        Ok(r) => return Err(format!("held role deleted: {r:?}").into()),
    }

    let exporter = store.clients().create(NewClient {
        description: Some("Nightly export to the data warehouse".into()),
        roles: vec![support.id],
        ip_allowlist: vec!["10.0.0.0/8".into()],
        ..NewClient::new("warehouse-export")
    })?;
    print_json("client", &exporter.client)?;
    println!(
        "client secret: {} characters, handed over once; the store keeps only its Argon2id hash",
        exporter.secret.expose().len()
    );

    // Logins: a session whose token carries the roles' current permissions.
    let login = store.login(
        &Credentials::new("ADA@example.com", "analytical-engine-1843"),
        DEFAULT_SESSION_TTL,
    )?;
    let principal = store.authenticate(login.token.expose())?;
    println!(
        "ada logged in until {}: permissions {:?}",
        login.expires_at, principal.permissions
    );
    store.logout(login.token.expose())?;
    for guess in ["password", "ada1815", "lovelace", "babbage", "engine"] {
        let refused = store
            .users()
            .verify_password(&Credentials::new("ada.lovelace", guess));
        if refused.is_ok() {
            return Err("a wrong password was accepted".into());
        }
    }
    let locked = store.users().get(ada.id)?;
    println!(
        "five wrong guesses lock ada until {:?}",
        locked.locked_until.map(|t| t.to_string())
    );
    store.users().unlock(ada.id)?;
    for ip in ["10.20.30.40", "203.0.113.9"] {
        match store.client_login(
            &exporter.client.client_id,
            &exporter.secret,
            Some(ip),
            DEFAULT_SESSION_TTL,
        ) {
            Ok(session) => println!(
                "client login from {ip}: permissions {:?}",
                store.authenticate(session.token.expose())?.permissions
            ),
            Err(e) => println!("client login from {ip} refused: {e}"),
        }
    }

    println!("change log:");
    for change in store.changes(0, 100)? {
        println!("  {}", serde_json::to_string(&change)?);
    }
    Ok(())
}

fn print_json(label: &str, value: &impl serde::Serialize) -> serde_json::Result<()> {
    println!("{label}: {}", serde_json::to_string_pretty(value)?);
    Ok(())
}
