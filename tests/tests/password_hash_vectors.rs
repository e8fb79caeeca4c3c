//! `tests/vectors/password_hashes.json` through the public API: hashes made
//! by independent tools (argon2-cffi, pyca bcrypt, passlib, Django, Python's
//! hashlib) are accepted as `passwordHash`, check the passwords they should,
//! and are upgraded to the store's Argon2id at the first successful check as
//! bookkeeping (docs/reference/credentials.md, Passwords). Malformed or out-of-bounds hashes are
//! `Validation` on `passwordHash` and never echoed.

// A test fails by panicking: unwraps, indexing and arithmetic on small
// known values are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

use rosterdb::{Argon2Params, Credentials, Error, Lockout, NewUser, Options, Query, Store};
use serde_json::{Value, json};

const CHEAP: Argon2Params = Argon2Params {
    memory_kib: 8,
    iterations: 1,
    parallelism: 1,
};

fn vectors() -> Value {
    serde_json::from_str(include_str!("../vectors/password_hashes.json")).unwrap()
}

/// A store with cheap hashing and no lockout (the vectors try many wrong passwords).
fn store() -> Store {
    let no_lockout = Lockout {
        threshold: 0,
        ..Lockout::default()
    };
    Store::memory_with(
        Options::default()
            .with_argon2(CHEAP)
            .with_lockout(no_lockout),
    )
    .unwrap()
}

fn exported_hash(s: &Store, dir: &std::path::Path) -> String {
    let path = dir.join("export.jsonl");
    s.export_jsonl(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let line: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    line["doc"]["passwordHash"].as_str().unwrap().to_owned()
}

#[test]
fn imported_hashes_check_and_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let vectors = vectors();
    let valid = vectors["valid"].as_array().unwrap();
    assert!(valid.len() >= 30);
    for v in valid {
        let hash = v["hash"].as_str().unwrap();
        let with_hash = || {
            let s = store();
            let user = s
                .users()
                .create(NewUser {
                    password_hash: Some(hash.to_owned()),
                    ..NewUser::new("ann", "ann@example.com", "Ann", "Lee")
                })
                .unwrap_or_else(|e| panic!("{hash}: {e}"));
            assert!(user.has_password);
            s
        };
        let s = with_hash();
        let store_matches = v["store_matches"].as_array().cloned().unwrap_or_default();
        let rejects = v["rejects"].as_array().unwrap();
        for reject in rejects.iter().filter(|r| !store_matches.contains(r)) {
            let c = Credentials::new("ann", reject.as_str().unwrap());
            assert_eq!(
                s.users().verify_password(&c).unwrap_err(),
                Error::AuthenticationFailed,
                "{hash} accepted {reject}"
            );
        }
        assert_eq!(
            exported_hash(&s, dir.path()),
            hash,
            "a failure changes nothing"
        );
        // Each matching password on a store of its own: after the first
        // success the hash is the store's, which knows only that password
        // (bcrypt's 72-byte truncation, for one, does not survive).
        for good in v["matches"]
            .as_array()
            .unwrap()
            .iter()
            .chain(&store_matches)
        {
            let s = with_hash();
            let c = Credentials::new("ann", good.as_str().unwrap());
            for _ in 0..2 {
                let user = s
                    .users()
                    .verify_password(&c)
                    .unwrap_or_else(|e| panic!("{hash} refused {good}: {e}"));
                assert_eq!(user.version, 1, "the upgrade is bookkeeping");
                let upgraded = exported_hash(&s, dir.path());
                assert!(
                    upgraded.starts_with("$argon2id$v=19$m=8,t=1,p=1$"),
                    "{hash} became {upgraded}"
                );
            }
            assert_eq!(s.changes(0, 100).unwrap().len(), 1, "only the create");
            assert!(s.check().unwrap().ok);
        }
    }
}

#[test]
fn normalisation_is_the_stores_and_unnormalised_hashes_still_match() {
    let vectors = vectors();
    let by_note = |word: &str| {
        vectors["valid"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["note"].as_str().is_some_and(|n| n.contains(word)))
            .cloned()
            .unwrap()
    };
    assert_eq!(
        by_note("unnormalised")["rejects"][0],
        "caf\u{e9} au lait noir"
    );
    assert_eq!(
        by_note("other spellings")["store_matches"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn bad_hashes_are_refused_without_being_echoed() {
    let vectors = vectors();
    let invalid = vectors["invalid"].as_array().unwrap();
    assert!(invalid.len() >= 30);
    let s = store();
    for v in invalid {
        let hash = v["hash"].as_str().unwrap();
        let doc = json!({"username": "ann", "email": "ann@example.com", "firstName": "Ann",
                         "lastName": "Lee", "passwordHash": hash});
        let err = NewUser::from_json(&doc)
            .and_then(|new| s.users().create(new))
            .unwrap_err();
        match &err {
            Error::Validation { errors } => {
                assert!(
                    errors.iter().any(|e| e.field == "passwordHash"),
                    "{hash}: {err}"
                )
            }
            other => panic!("{hash}: {other:?}"),
        }
        if hash.len() >= 8 {
            assert!(!err.to_string().contains(hash), "{err}");
        }
    }
    assert_eq!(s.users().count(&Query::default()).unwrap(), 0);
}

#[test]
fn an_import_brings_foreign_hashes_that_upgrade_at_first_login() {
    let vectors = vectors();
    let bcrypt = vectors["valid"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["scheme"] == "bcrypt")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.jsonl");
    let line = json!({"kind": "user", "doc": {
        "id": 7, "username": "ann", "email": "ann@example.com", "firstName": "Ann",
        "lastName": "Lee", "enabled": true, "roles": [], "externalIds": [], "attributes": {},
        "createdAt": "2020-01-01T00:00:00.000Z", "updatedAt": "2021-01-01T00:00:00.000Z",
        "hasPassword": true, "totpEnabled": false, "version": 4,
        "passwordHash": bcrypt["hash"]}});
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let s = store();
    assert_eq!(s.import_jsonl(&file).unwrap(), 1);
    let password = bcrypt["matches"][0].as_str().unwrap();
    let user = s
        .users()
        .verify_password(&Credentials::new("ann@example.com", password))
        .unwrap();
    assert_eq!(user.version, 4);
    assert_eq!(user.updated_at.to_string(), "2021-01-01T00:00:00.000Z");
    assert!(exported_hash(&s, dir.path()).starts_with("$argon2id$"));
    assert_eq!(
        s.changes(0, 100).unwrap().len(),
        1,
        "only the import's create"
    );
}
