//! A first session with rosterdb, step for step the session of the Python
//! demo (`examples/quickstart.py`): a store file with roles, users and an
//! app-client; lookups; refused duplicates and invalid documents; an
//! all-or-nothing transaction; queries and pages; a guarded patch; a
//! tenant's view; logins with a second factor, sessions, a lockout and
//! client logins; an export; and the change log.
//!
//! ```text
//! cargo run -p rosterdb --example demo -- [--overwrite] [PATH]
//! ```
//!
//! PATH is the store file to create; its write-ahead log (`PATH-wal`) and
//! its export (PATH with the extension `.jsonl`) are written beside it. An
//! existing PATH, log or export is refused (exit code 2) unless
//! `--overwrite` is given. Without PATH the store is
//! `target/demo/demo.redb` in the repository, replacing the previous run's.
//! The demo prints the store file's path first and last.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rosterdb::{
    Credentials, DEFAULT_SESSION_TTL, Error, ExternalId, NewClient, NewRole, NewUser, Options,
    Query, Secret, Store, Walk,
};
use serde_json::json;

const USAGE: &str = "usage: cargo run -p rosterdb --example demo -- [--overwrite] [PATH]

A first session with rosterdb, in a new store file.

  PATH         the store file to create (default: target/demo/demo.redb in the
               repository, replacing the previous run's); its log PATH-wal and
               its export PATH.jsonl go beside it
  --overwrite  remove an existing PATH, PATH-wal and PATH.jsonl first (without
               it, any of them existing is an error, exit code 2)";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = match arguments(std::env::args_os().skip(1))? {
        Ok(path) => path,
        Err(refusal) => {
            eprintln!("{refusal}");
            std::process::exit(2);
        }
    };
    demo(&path)
}

/// The store file, its write-ahead log and the demo's export of it.
fn files_of(store: &Path) -> [PathBuf; 3] {
    let mut wal = store.as_os_str().to_owned();
    wal.push("-wal");
    [
        store.to_owned(),
        PathBuf::from(wal),
        store.with_extension("jsonl"),
    ]
}

/// The store file to create from the command line, with the files in its
/// way removed; `Err` with a message for a usage error or a refusal (exit
/// code 2); the outer `Err` for a file that cannot be removed.
fn arguments(
    args: impl Iterator<Item = std::ffi::OsString>,
) -> std::io::Result<Result<PathBuf, String>> {
    let mut overwrite = false;
    let mut path = None;
    for arg in args {
        match arg.to_str() {
            Some("-h" | "--help") => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            Some("--overwrite") => overwrite = true,
            Some(option) if option.starts_with('-') => {
                return Ok(Err(format!("demo: unknown option {option}\n{USAGE}")));
            }
            _ if path.is_some() => {
                return Ok(Err(format!("demo: one PATH at most\n{USAGE}")));
            }
            _ => path = Some(PathBuf::from(arg)),
        }
    }
    let Some(path) = path else {
        // The demo's own file, in the repository's build directory.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap_or(Path::new(env!("CARGO_MANIFEST_DIR")))
            .join("target")
            .join("demo");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("demo.redb");
        for file in files_of(&path) {
            remove_if_there(&file)?;
        }
        return Ok(Ok(path));
    };
    if path.is_dir() {
        return Ok(Err(format!(
            "demo: {} is a directory; PATH names the store file to create",
            path.display()
        )));
    }
    let taken: Vec<PathBuf> = files_of(&path)
        .into_iter()
        .filter(|file| file.exists())
        .collect();
    if !taken.is_empty() && !overwrite {
        let names: Vec<String> = taken.iter().map(|f| f.display().to_string()).collect();
        return Ok(Err(format!(
            "demo: {} already {}; pass --overwrite to replace, or choose another PATH",
            names.join(", "),
            if names.len() == 1 { "exists" } else { "exist" }
        )));
    }
    for file in &taken {
        std::fs::remove_file(file)?;
    }
    Ok(Ok(path))
}

fn remove_if_there(file: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn demo(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    println!("store file: {}", path.display());
    let store = Store::open(path, Options::default())?;

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
    show("role", &admins)?;
    show("role", &support)?;

    let ada = store.users().create(NewUser {
        nickname: Some("Ada".into()),
        roles: vec![admins.id],
        password: Some(Secret::new("analytical-engine-1843")),
        external_ids: vec![ExternalId::new("github", "1815")],
        attributes: json!({"department": "R&D", "office": "London", "employeeNo": 1_152_921_504_606_846_976_u64})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ..NewUser::new("ada.lovelace", "ada@example.com", "Ada", "Lovelace")
    })?;
    show("user", &ada)?;

    // Several writes in one transaction: all of them commit, or none.
    store.write(|tx| {
        for (username, first, last) in
            [("grace", "Grace", "Hopper"), ("linus", "Linus", "Torvalds")]
        {
            tx.users().create(NewUser {
                roles: vec![support.id],
                ..NewUser::new(username, format!("{username}@example.com"), first, last)
            })?;
        }
        Ok(())
    })?;
    println!("created grace and linus in one transaction");

    let found = store.users().get_by_email("ADA@EXAMPLE.COM", None)?;
    println!(
        "lookup by email (any case) -> user {} ({})",
        found.id, found.username
    );
    let found = store.users().get_by_external_id("github", "1815", None)?;
    println!(
        "lookup by GitHub id -> user {} ({})",
        found.id, found.username
    );

    match store
        .users()
        .create(NewUser::new("Grace", "g2@example.com", "G", "H"))
    {
        Err(ref e @ Error::Conflict { ref field, .. }) => {
            println!("duplicate refused on {field:?}: {e}");
        }
        other => return Err(format!("a duplicate username: {other:?}").into()),
    }
    match store
        .users()
        .create(NewUser::new("bad name", "nope", "", "x"))
    {
        Err(Error::Validation { errors }) => {
            let problems: Vec<String> = errors
                .iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect();
            println!("invalid document: {}", problems.join(", "));
        }
        other => return Err(format!("an invalid document: {other:?}").into()),
    }
    match store.roles().delete(support.id, false) {
        Err(Error::InUse { count, .. }) => println!("role still held by {count} users"),
        other => return Err(format!("deleting a held role: {other:?}").into()),
    }

    let query = Query::parse("enabled = true")?
        .sort("lastName:desc")
        .select(&["username", "lastName"])
        .page(1, 2)
        .with_total();
    let page = store.users().list(&query)?;
    println!(
        "enabled users by last name, descending (page 1, {} in all): {:?}",
        page.total.unwrap_or_default(),
        usernames(&page.items)
    );
    let cursor = page.next_cursor.ok_or("page 1 has no next page")?;
    let rest = store.users().list(&Query::all().cursor(&cursor))?;
    println!("page 2: {:?}", usernames(&rest.items));
    let support_id = support.id.to_string();
    let staff = Walk::new(Query::from_params(&[("roles", support_id.as_str())])?)
        .items(|q| store.users().list(q))
        .collect::<Result<Vec<_>, _>>()?;
    println!("support staff: {:?}", usernames(&staff));
    let emails: Vec<String> = store
        .users()
        .list(&Query::all().search("ada"))?
        .items
        .into_iter()
        .map(|u| u.email)
        .collect();
    println!("search 'ada': {emails:?}");
    println!("plan for lastName like 'Ho%':");
    let plan = store
        .users()
        .explain(&Query::from_params(&[("lastName", "like:Ho%")])?)?;
    println!("  {}", plan.replace('\n', "\n  "));

    // Updates: a JSON Patch guarded by the version we read, then a merge patch.
    let ada = store.users().patch(
        ada.id,
        &json!([
            {"op": "replace", "path": "/attributes/office", "value": "Cambridge"},
            {"op": "add", "path": "/roles/-", "value": support.id},
        ]),
        Some(ada.version),
    )?;
    let office = ada.attributes.get("office").and_then(|o| o.as_str());
    println!(
        "patched ada: version {}, office {}, roles {:?}",
        ada.version,
        office.unwrap_or("not set"),
        ada.roles
    );
    match store
        .users()
        .merge(ada.id, &json!({"nickname": null}), Some(1))
    {
        Err(Error::VersionConflict { expected, actual }) => {
            println!("stale update refused: expected version {expected}, found {actual}");
        }
        other => return Err(format!("a stale update: {other:?}").into()),
    }

    // A tenant's view: the same API, one tenant.
    let acme = store.scoped("acme")?;
    acme.users().create(NewUser::new(
        "ada.lovelace",
        "ada@acme.example",
        "Ada",
        "Byron",
    ))?;
    println!(
        "acme sees {} user; the store holds {}",
        acme.users().count(&Query::all())?,
        store.users().count(&Query::all())?
    );

    let created = store.clients().create(NewClient {
        description: Some("Nightly export to the data warehouse".into()),
        roles: vec![support.id],
        ip_allowlist: vec!["10.0.0.0/8".into()],
        ..NewClient::new("warehouse-export")
    })?;
    show("client", &created.client)?;
    println!(
        "client secret: {} characters, handed over once; the store keeps only its Argon2id hash",
        created.secret.expose().len()
    );

    // Logins (docs/reference/credentials.md): a session token, then a second factor.
    let password = "analytical-engine-1843";
    let login = store.login(
        &Credentials::new("ada@example.com", password),
        DEFAULT_SESSION_TTL,
    )?;
    let who = store.authenticate(login.token.expose())?;
    println!(
        "ada logged in: a {}-character token until {}; permissions {:?}",
        login.token.expose().len(),
        login.expires_at,
        who.permissions
    );
    let enrolment = store.users().totp_enroll(ada.id)?;
    // What scanning the QR code does: the user's authenticator app (here
    // totp-rs, RFC 6238) reads the otpauth:// URI.
    let app = totp_rs::Totp::from_url(enrolment.uri.expose())
        .map_err(|e| format!("the enrolment URI: {e}"))?;
    let recovery = store
        .users()
        .totp_confirm(ada.id, &app.generate(unix_seconds()?).to_string())?;
    println!(
        "ada enrolled TOTP ({}) and got {} one-time recovery codes",
        app.issuer().unwrap_or("no issuer"),
        recovery.len()
    );
    match store.login(
        &Credentials::new("ada.lovelace", password),
        DEFAULT_SESSION_TTL,
    ) {
        Err(e @ Error::AuthenticationFailed) => println!("password alone refused: {e}"),
        other => return Err(format!("a login without the second factor: {other:?}").into()),
    }
    // A code is accepted once; the app's next code is (30 s of clock skew are allowed).
    let next_code = app.generate(unix_seconds()?.saturating_add(30)).to_string();
    let login = store.login(
        &Credentials::new("ada.lovelace", password).totp_code(next_code),
        DEFAULT_SESSION_TTL,
    )?;
    println!(
        "password + TOTP code: session for {}, {} live sessions",
        login.principal.username,
        store.users().sessions(ada.id)?.len()
    );
    store.logout(login.token.expose())?;
    match store.authenticate(login.token.expose()) {
        Err(e @ Error::InvalidToken) => println!("after logout: {e}"),
        other => return Err(format!("a logged-out token: {other:?}").into()),
    }

    let grace = store.users().get_by_username("grace", None)?;
    store
        .users()
        .set_password(grace.id, &Secret::new("cobol-1959-compiler"))?;
    for guess in [
        "password1",
        "letmein!",
        "grace1906",
        "hopper1992",
        "COBOL-1959-compiler",
    ] {
        if store
            .users()
            .verify_password(&Credentials::new("grace", guess))
            .is_ok()
        {
            return Err(format!("a wrong password was accepted: {guess}").into());
        }
    }
    let locked = store.users().get(grace.id)?;
    let until = locked
        .locked_until
        .ok_or("five wrong guesses did not lock grace")?;
    println!("5 wrong guesses lock grace until {until}");
    match store
        .users()
        .verify_password(&Credentials::new("grace", "cobol-1959-compiler"))
    {
        Err(Error::AuthenticationFailed) => {
            println!("while locked even the right password fails, with the same error");
        }
        other => return Err(format!("a locked account's login: {other:?}").into()),
    }
    store.users().unlock(grace.id)?;
    let grace = store
        .users()
        .verify_password(&Credentials::new("grace", "cobol-1959-compiler"))?;
    println!("after unlock: {} is in", grace.username);

    for ip in ["10.20.30.40", "203.0.113.9"] {
        match store.client_login(
            &created.client.client_id,
            &created.secret,
            Some(ip),
            DEFAULT_SESSION_TTL,
        ) {
            Ok(session) => {
                let who = store.authenticate(session.token.expose())?;
                println!(
                    "client login from {ip}: {} session, permissions {:?}",
                    who.kind, who.permissions
                );
            }
            Err(e @ Error::AuthenticationFailed) => println!("client login from {ip} refused: {e}"),
            Err(e) => return Err(e.into()),
        }
    }

    let export = path.with_extension("jsonl");
    println!(
        "exported {} records to {}; check: {}",
        store.export_jsonl(&export)?,
        export.display(),
        serde_json::to_string(&store.check()?)?
    );

    println!("change log:");
    for change in store.changes(0, 100)? {
        println!("  {}", serde_json::to_string(&change)?);
    }
    drop(store);
    println!(
        "store file: {} (export: {})",
        path.display(),
        export.display()
    );
    Ok(())
}

/// Prints a document as one line of JSON after a label.
fn show(label: &str, doc: &impl serde::Serialize) -> serde_json::Result<()> {
    println!("{label}: {}", serde_json::to_string(doc)?);
    Ok(())
}

fn usernames(users: &[rosterdb::User]) -> Vec<&str> {
    users.iter().map(|u| u.username.as_str()).collect()
}

/// Seconds since the Unix epoch, as an authenticator app reads its clock.
fn unix_seconds() -> Result<u64, std::time::SystemTimeError> {
    Ok(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())
}
