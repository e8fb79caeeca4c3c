//! The field tables (`rosterdb::FieldLists`): every list derived from them
//! is the list the store had before the tables, every row maps to a field
//! id and back, and a record with every field set shows, reads and accepts
//! every field of its kind's table.

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

mod common;

use common::{error_fields, options};
use rosterdb::{
    Access, ClientField, EntityKind, ExternalId, FieldId, FieldLists, FieldType, NewClient,
    NewRole, NewUser, Query, RoleField, Secret, Store, UserField,
};
use serde_json::{Map, Value, json};

use FieldType::{Bool, Ident, Int, Ints, Object, Str, Strs, Time};

const KINDS: [EntityKind; 3] = [EntityKind::User, EntityKind::Role, EntityKind::Client];

/// The queryable fields before the tables: (name, type, top-level), in order.
const USER_FIELDS: &[(&str, FieldType, bool)] = &[
    ("id", Int, true),
    ("username", Str, true),
    ("email", Str, true),
    ("firstName", Str, true),
    ("lastName", Str, true),
    ("nickname", Str, true),
    ("telephoneNumber", Str, true),
    ("mobileNumber", Str, true),
    ("tenant", Ident, true),
    ("enabled", Bool, true),
    ("roles", Ints, true),
    ("externalIds", Object, true),
    ("externalIds.type", Strs, false),
    ("externalIds.value", Strs, false),
    ("attributes", Object, true),
    ("createdAt", Time, true),
    ("updatedAt", Time, true),
    ("lastLoginAt", Time, true),
    ("lockedUntil", Time, true),
    ("hasPassword", Bool, true),
    ("totpEnabled", Bool, true),
    ("version", Int, true),
];

const ROLE_FIELDS: &[(&str, FieldType, bool)] = &[
    ("id", Int, true),
    ("name", Str, true),
    ("description", Str, true),
    // Format 8 (decision 0022): compared exactly, like the tenant.
    ("externalId", Ident, true),
    ("permissions", Strs, true),
    ("tenant", Ident, true),
    ("createdAt", Time, true),
    ("updatedAt", Time, true),
    ("version", Int, true),
];

const CLIENT_FIELDS: &[(&str, FieldType, bool)] = &[
    ("id", Int, true),
    ("clientId", Str, true),
    ("name", Str, true),
    ("description", Str, true),
    ("tenant", Ident, true),
    ("enabled", Bool, true),
    ("roles", Ints, true),
    ("ipAllowlist", Strs, true),
    ("createdAt", Time, true),
    ("updatedAt", Time, true),
    ("lastUsedAt", Time, true),
    ("version", Int, true),
];

struct Before {
    fields: &'static [(&'static str, FieldType, bool)],
    read_only: &'static [&'static str],
    write_only: &'static [&'static str],
    search: &'static [&'static str],
    trigrams: Option<(&'static str, &'static [&'static str])>,
    indexes: &'static [(&'static str, &'static str)],
}

/// Every list as it was written out by hand before the tables.
fn before(kind: EntityKind) -> Before {
    match kind {
        EntityKind::User => Before {
            fields: USER_FIELDS,
            read_only: &[
                "id",
                "createdAt",
                "updatedAt",
                "lastLoginAt",
                "lockedUntil",
                "hasPassword",
                "totpEnabled",
                "version",
            ],
            write_only: &["password", "passwordHash"],
            search: &["username", "email", "firstName", "lastName", "nickname"],
            trigrams: Some((
                "idx.user.trigrams",
                &["username", "email", "firstName", "lastName", "nickname"],
            )),
            indexes: &[
                ("tenant", "post.user.tenant"),
                ("enabled", "post.user.enabled"),
                ("roles", "post.user.roles"),
                ("createdAt", "idx.user.created_at"),
                ("updatedAt", "idx.user.updated_at"),
                ("lastName", "idx.user.last_name"),
                ("username", "idx.user.username.order"),
                ("email", "idx.user.email.order"),
            ],
        },
        EntityKind::Role => Before {
            fields: ROLE_FIELDS,
            read_only: &["id", "createdAt", "updatedAt", "version"],
            write_only: &[],
            search: &["name", "description"],
            trigrams: None,
            indexes: &[
                ("tenant", "post.role.tenant"),
                ("name", "idx.role.name.order"),
                ("createdAt", "idx.role.created_at"),
                ("updatedAt", "idx.role.updated_at"),
            ],
        },
        EntityKind::Client => Before {
            fields: CLIENT_FIELDS,
            read_only: &[
                "id",
                "clientId",
                "createdAt",
                "updatedAt",
                "lastUsedAt",
                "version",
            ],
            write_only: &[],
            search: &["name", "clientId", "description"],
            trigrams: None,
            indexes: &[
                ("tenant", "post.client.tenant"),
                ("enabled", "post.client.enabled"),
                ("roles", "post.client.roles"),
                ("createdAt", "idx.client.created_at"),
                ("updatedAt", "idx.client.updated_at"),
                ("name", "idx.client.name"),
            ],
        },
    }
}

fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut out = items.to_vec();
    out.sort();
    out
}

#[test]
fn queryable_fields_and_their_types_are_unchanged() {
    for kind in KINDS {
        let derived: Vec<(&str, FieldType, bool)> = FieldLists::of(kind)
            .queryable()
            .iter()
            .map(|f| (f.name, f.ty, f.top_level))
            .collect();
        assert_eq!(derived, before(kind).fields, "{kind:?}");
    }
}

#[test]
fn read_only_and_write_only_keys_are_unchanged() {
    for kind in KINDS {
        let lists = FieldLists::of(kind);
        // In order: a document holding several is refused field by field in this order.
        assert_eq!(lists.read_only(), before(kind).read_only, "{kind:?}");
        assert_eq!(lists.write_only(), before(kind).write_only, "{kind:?}");
        assert_eq!(lists.create_only(), ["tenant"], "{kind:?}");
    }
}

#[test]
fn search_and_trigram_fields_are_unchanged_and_agree() {
    for kind in KINDS {
        let lists = FieldLists::of(kind);
        let was = before(kind);
        // `search` matches when any field holds the term: only the set counts.
        assert_eq!(sorted(lists.searchable()), sorted(was.search), "{kind:?}");
        // The trigram index numbers its fields in this order, in stored keys.
        let trigrams = lists.trigrams().map(|t| (t.name(), lists.searchable()));
        assert_eq!(trigrams, was.trigrams, "{kind:?}");
    }
}

#[test]
fn sortable_fields_are_unchanged() {
    for kind in KINDS {
        let was: Vec<&str> = before(kind)
            .fields
            .iter()
            .filter(|(_, ty, _)| matches!(ty, Int | Str | Ident | Bool | Time))
            .map(|(name, _, _)| *name)
            .collect();
        assert_eq!(FieldLists::of(kind).sortable(), was, "{kind:?}");
    }
}

#[test]
fn indexes_are_unchanged() {
    for kind in KINDS {
        let derived: Vec<(&str, &str)> = FieldLists::of(kind)
            .indexes()
            .iter()
            .map(|i| (i.field, i.table_name()))
            .collect();
        // Entries are written and scanned per index: only the set counts.
        assert_eq!(sorted(&derived), sorted(before(kind).indexes), "{kind:?}");
        for (field, table) in derived {
            let row = FieldLists::of(kind)
                .table()
                .iter()
                .find(|f| f.name == field);
            assert_eq!(
                row.and_then(|f| f.index).map(|t| t.name().to_owned()),
                Some(table.into())
            );
        }
    }
}

fn round_trip<F: FieldId>() {
    let table = F::lists().table();
    assert_eq!(F::ALL.len(), table.len());
    for (&field, row) in F::ALL.iter().zip(table) {
        assert_eq!(field.spec(), row);
        assert_eq!(F::from_name(field.name()), Some(field));
    }
}

#[test]
fn every_row_maps_to_a_field_id_and_back() {
    round_trip::<UserField>();
    round_trip::<RoleField>();
    round_trip::<ClientField>();
    assert_eq!(
        UserField::from_name("firstName"),
        Some(UserField::FirstName)
    );
    assert_eq!(UserField::Password.spec().access, Access::WriteOnly);
    assert_eq!(ClientField::ClientId.spec().access, Access::ReadOnly);
    assert_eq!(RoleField::Tenant.spec().access, Access::CreateOnly);
}

/// A store holding one role, one user and one client of tenant `acme`,
/// with every field of each set (`lastLoginAt`, `lockedUntil` and
/// `lastUsedAt` through an import), and their exported documents.
fn full_store() -> (Store, [Map<String, Value>; 3]) {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::memory_with(options()).unwrap();
    let role = first
        .roles()
        .create(NewRole {
            description: Some("Operators".into()),
            external_id: Some("grp-1".into()),
            permissions: vec!["ops:read".into()],
            tenant: Some("acme".into()),
            ..NewRole::new("ops")
        })
        .unwrap();
    first
        .users()
        .create(NewUser {
            nickname: Some("Ada".into()),
            telephone_number: Some("+1 555 0100".into()),
            mobile_number: Some("+1 555 0101".into()),
            tenant: Some("acme".into()),
            roles: vec![role.id],
            external_ids: vec![ExternalId::new("github", "42")],
            attributes: json!({"dept": "R&D"}).as_object().cloned().unwrap(),
            password: Some(Secret::new("correct horse battery")),
            ..NewUser::new("ada", "ada@example.com", "Augusta", "Lovelace")
        })
        .unwrap();
    first
        .clients()
        .create(NewClient {
            description: Some("Billing".into()),
            tenant: Some("acme".into()),
            roles: vec![role.id],
            ip_allowlist: vec!["10.0.0.0/8".into()],
            ..NewClient::new("billing")
        })
        .unwrap();
    let path = dir.path().join("full.jsonl");
    first.export_jsonl(&path).unwrap();
    let mut lines: Vec<Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for line in &mut lines {
        let kind = line["kind"].as_str().map(str::to_owned);
        let doc = line["doc"].as_object_mut().unwrap();
        match kind.as_deref() {
            Some("user") => {
                doc.insert("lastLoginAt".into(), json!("2020-01-01T00:00:00Z"));
                doc.insert("lockedUntil".into(), json!("2999-01-01T00:00:00Z"));
            }
            Some("client") => {
                doc.insert("lastUsedAt".into(), json!("2020-01-01T00:00:00Z"));
            }
            _ => {}
        }
    }
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&path, text.join("\n")).unwrap();
    let store = Store::memory_with(options()).unwrap();
    assert_eq!(store.import_jsonl(&path).unwrap(), 3);
    let doc = |v: &Value| v["doc"].as_object().cloned().unwrap();
    let find = |kind: &str| lines.iter().find(|l| l["kind"] == kind).map(doc).unwrap();
    let docs = [find("user"), find("role"), find("client")];
    (store, docs)
}

/// How many records of `kind` match `expr`.
fn count(store: &Store, kind: EntityKind, expr: &str) -> u64 {
    let query = Query::parse(expr).unwrap();
    match kind {
        EntityKind::User => store.users().count(&query),
        EntityKind::Role => store.roles().count(&query),
        EntityKind::Client => store.clients().count(&query),
    }
    .unwrap()
}

/// The document the store returns for the only record of `kind`.
fn shown(store: &Store, kind: EntityKind) -> Map<String, Value> {
    let value = match kind {
        EntityKind::User => serde_json::to_value(store.users().get(1).unwrap()),
        EntityKind::Role => serde_json::to_value(store.roles().get(1).unwrap()),
        EntityKind::Client => serde_json::to_value(store.clients().get(1).unwrap()),
    };
    value.unwrap().as_object().cloned().unwrap()
}

#[test]
fn a_full_record_reads_as_present_in_every_queryable_field() {
    let (store, _) = full_store();
    for kind in KINDS {
        for field in FieldLists::of(kind).queryable() {
            let expr = format!("{} pr", field.name);
            assert_eq!(count(&store, kind, &expr), 1, "{kind:?}: {expr}");
            let expr = format!("not {} pr", field.name);
            assert_eq!(count(&store, kind, &expr), 0, "{kind:?}: {expr}");
        }
    }
}

#[test]
fn a_full_document_shows_exactly_the_shown_rows() {
    let (store, _) = full_store();
    for kind in KINDS {
        let doc = shown(&store, kind);
        let keys: Vec<&str> = doc.keys().map(String::as_str).collect();
        let rows: Vec<&str> = FieldLists::of(kind)
            .table()
            .iter()
            .filter(|f| f.shown())
            .map(|f| f.name)
            .collect();
        assert_eq!(sorted(&keys), sorted(&rows), "{kind:?}");
    }
}

/// Reads `doc` as a new record of `kind`, returning the fields it refuses.
fn refused(kind: EntityKind, doc: &Map<String, Value>) -> Vec<String> {
    let doc = Value::Object(doc.clone());
    match kind {
        EntityKind::User => NewUser::from_json(&doc)
            .err()
            .map(|e| error_fields::<()>(Err(e))),
        EntityKind::Role => NewRole::from_json(&doc)
            .err()
            .map(|e| error_fields::<()>(Err(e))),
        EntityKind::Client => NewClient::from_json(&doc)
            .err()
            .map(|e| error_fields::<()>(Err(e))),
    }
    .unwrap_or_default()
}

#[test]
fn new_documents_accept_every_settable_row_and_refuse_every_read_only_one() {
    let (store, exported) = full_store();
    for (kind, exported) in KINDS.into_iter().zip(exported) {
        let lists = FieldLists::of(kind);
        let full = shown(&store, kind);
        // Every read-only key, in the table's order, and nothing else.
        assert_eq!(refused(kind, &full), lists.read_only(), "{kind:?}");
        let settable: Map<String, Value> = full
            .into_iter()
            .filter(|(k, _)| !lists.read_only().contains(&k.as_str()))
            .collect();
        assert_eq!(refused(kind, &settable), Vec::<String>::new(), "{kind:?}");
        // Write-only keys (a password or an imported hash, one at a time).
        for key in lists.write_only() {
            let value = exported
                .get(*key)
                .cloned()
                .unwrap_or_else(|| json!("correct horse battery"));
            let mut doc = settable.clone();
            doc.insert((*key).to_owned(), value);
            assert_eq!(refused(kind, &doc), Vec::<String>::new(), "{kind:?}: {key}");
        }
    }
}
