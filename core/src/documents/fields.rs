//! Field tables: one row ([`FieldSpec`]) per field of a kind of document,
//! and every field list derived from them ([`FieldLists`]).
//!
//! Each kind declares its table beside its struct with `field_table!`
//! (`user.rs`, `role.rs`, `client.rs`). The macro makes the kind's field-id
//! enum ([`UserField`](crate::UserField), [`RoleField`](crate::RoleField),
//! [`ClientField`](crate::ClientField)), whose variants are the rows, so a
//! record's `Queryable::get` matches field ids exhaustively: a new row that
//! `get` forgets does not compile. Everything else that lists fields reads
//! [`FieldLists`]: the queryable fields and their types, the read-only,
//! create-only and write-only keys, the `search` fields (which are also the
//! trigram-indexed ones), the sortable fields and the ordered indexes.

use std::fmt;
use std::sync::LazyLock;

use crate::EntityKind;

/// The type of a field, as queries see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldType {
    /// An unsigned integer (`id`, `version`).
    Int,
    /// A string, compared case-insensitively.
    Str,
    /// An identifier (`tenant`, docs/reference/documents.md, Caseless matching): a string compared
    /// exactly, case-sensitively, and ordered by its characters (Unicode code points).
    Ident,
    /// A boolean.
    Bool,
    /// A timestamp, compared as an instant.
    Time,
    /// An array of ids (`roles`): a test holds when any element satisfies it.
    Ints,
    /// An array of strings (`permissions`, `externalIds.type`, …).
    Strs,
    /// A structured value that can only be tested for presence and projected
    /// (`externalIds`, `attributes`).
    Object,
}

impl FieldType {
    /// Whether a page can be sorted by a field of this type.
    pub fn sortable(self) -> bool {
        matches!(
            self,
            FieldType::Int | FieldType::Str | FieldType::Ident | FieldType::Bool | FieldType::Time
        )
    }

    /// The name used in error messages, e.g. `"an integer"`.
    pub fn describe(self) -> &'static str {
        match self {
            FieldType::Int => "an integer",
            FieldType::Str => "a string",
            FieldType::Ident => "an identifier (a string compared exactly)",
            FieldType::Bool => "a boolean",
            FieldType::Time => "a timestamp",
            FieldType::Ints => "a list of ids",
            FieldType::Strs => "a list of strings",
            FieldType::Object => "a structured value",
        }
    }
}

/// Who sets a field, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Access {
    /// Set at creation and by every kind of update; shown and queryable.
    ReadWrite,
    /// Set at creation only: an update that changes it fails with "is
    /// immutable", a `replace` without it keeps it (`tenant`). Shown and
    /// queryable.
    CreateOnly,
    /// Set by the store only: a new document may not hold it, an update may
    /// hold it only with its stored value, a patch may only `test` it.
    /// Shown and queryable.
    ReadOnly,
    /// Given by callers, never shown: not in documents, never queryable
    /// (on any kind), a patch may only `add` or `replace` it with a string.
    WriteOnly,
}

/// A secondary index table (docs/reference/queries.md, "Results, paging and planning"), named by
/// what it indexes: the ordered index of one field of a kind, or a kind's trigram index over its
/// searchable fields. Storage derives the table from it (`storage::schema`,
/// which also gives its name, like `idx.user.tenant`, and its `Debug` form).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IndexTable {
    /// The kind whose records it indexes.
    pub(crate) kind: EntityKind,
    /// The field an ordered index is over; `None` for the trigram index.
    pub(crate) field: Option<&'static str>,
}

/// One row of a kind's field table: everything the store needs to know
/// about one field, read by every list in [`FieldLists`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldSpec {
    /// The canonical camelCase name: a document key, or a dotted path into a
    /// structured field (`externalIds.type`).
    pub name: &'static str,
    /// Its type, as queries see it.
    pub ty: FieldType,
    /// Who sets it, and when.
    pub access: Access,
    /// The ordered index over it, if it has one.
    pub index: Option<IndexTable>,
    /// Whether the row asks for an ordered index, which [`FieldSpec::in_kind`]
    /// turns into [`FieldSpec::index`].
    indexed: bool,
    /// Whether `search` looks in it. In a kind with a trigram index the
    /// index covers exactly these fields, numbered in table order (the
    /// number is part of every stored trigram key).
    pub searchable: bool,
    /// Whether it is a document key (`fields` can project it); false for a
    /// path into a structured field.
    pub top_level: bool,
}

impl FieldSpec {
    const fn new(name: &'static str, ty: FieldType, access: Access) -> FieldSpec {
        FieldSpec {
            name,
            ty,
            access,
            index: None,
            indexed: false,
            searchable: false,
            top_level: true,
        }
    }

    /// A field set at creation and by updates.
    pub(crate) const fn read_write(name: &'static str, ty: FieldType) -> FieldSpec {
        FieldSpec::new(name, ty, Access::ReadWrite)
    }

    /// A field set at creation only.
    pub(crate) const fn create_only(name: &'static str, ty: FieldType) -> FieldSpec {
        FieldSpec::new(name, ty, Access::CreateOnly)
    }

    /// A field only the store sets.
    pub(crate) const fn read_only(name: &'static str, ty: FieldType) -> FieldSpec {
        FieldSpec::new(name, ty, Access::ReadOnly)
    }

    /// A field callers set and nobody reads.
    pub(crate) const fn write_only(name: &'static str, ty: FieldType) -> FieldSpec {
        FieldSpec::new(name, ty, Access::WriteOnly)
    }

    /// A dotted path into a structured field, which queries can read.
    pub(crate) const fn path(name: &'static str, ty: FieldType) -> FieldSpec {
        FieldSpec {
            top_level: false,
            ..FieldSpec::new(name, ty, Access::ReadWrite)
        }
    }

    /// The same field with an ordered index (its table is storage's).
    pub(crate) const fn indexed(self) -> FieldSpec {
        FieldSpec {
            indexed: true,
            ..self
        }
    }

    /// The row as a row of `kind`'s table: an indexed field gets its index.
    pub(crate) const fn in_kind(self, kind: EntityKind) -> FieldSpec {
        if !self.indexed {
            return self;
        }
        FieldSpec {
            index: Some(IndexTable {
                kind,
                field: Some(self.name),
            }),
            ..self
        }
    }

    /// The same field, looked in by `search`.
    pub(crate) const fn search(self) -> FieldSpec {
        FieldSpec {
            searchable: true,
            ..self
        }
    }

    /// Whether queries can filter on it (every field but the write-only ones).
    pub fn queryable(&self) -> bool {
        self.access != Access::WriteOnly
    }

    /// Whether a page can be sorted by it.
    pub fn sortable(&self) -> bool {
        self.queryable() && self.ty.sortable()
    }

    /// Whether documents the store returns show it.
    pub fn shown(&self) -> bool {
        self.top_level && self.queryable()
    }
}

/// A kind's field ids: one variant per row of its table, made by
/// `field_table!`. The table's order is the order of [`FieldId::ALL`].
pub trait FieldId: Copy + Eq + fmt::Debug + Send + Sync + 'static {
    /// The kind whose fields these are.
    const KIND: EntityKind;
    /// Every field of the kind, in table order.
    const ALL: &'static [Self];

    /// This field's row.
    fn spec(self) -> &'static FieldSpec;

    /// The lists derived from the kind's table, computed once.
    fn lists() -> &'static FieldLists;

    /// This field's canonical name.
    fn name(self) -> &'static str {
        self.spec().name
    }

    /// The field with this canonical name (exact case), if the kind has one.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.name() == name)
    }
}

/// Declares a kind's field table: the field-id enum, one variant per row,
/// and its [`FieldId`] impl. Rows are `Variant => FieldSpec`, in table order;
/// `trigrams` says whether the kind keeps a trigram index over its
/// searchable fields.
macro_rules! field_table {
    (
        $(#[$meta:meta])*
        $vis:vis enum $Enum:ident;
        kind = $kind:expr;
        trigrams = $trigrams:expr;
        $( $Variant:ident => $spec:expr ),+ $(,)?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        $vis enum $Enum {
            $(
                #[doc = concat!(
                    "The `", stringify!($Variant),
                    "` row; [`FieldId::spec`](crate::FieldId::spec) reads it."
                )]
                $Variant,
            )+
        }

        impl $crate::documents::fields::FieldId for $Enum {
            const KIND: $crate::EntityKind = $kind;
            const ALL: &'static [Self] = &[$($Enum::$Variant),+];

            fn spec(self) -> &'static $crate::documents::fields::FieldSpec {
                match self {
                    $($Enum::$Variant => {
                        const FIELD_SPEC: &$crate::documents::fields::FieldSpec =
                            &$spec.in_kind($kind);
                        FIELD_SPEC
                    })+
                }
            }

            fn lists() -> &'static $crate::documents::fields::FieldLists {
                static LISTS: std::sync::LazyLock<$crate::documents::fields::FieldLists> =
                    std::sync::LazyLock::new(|| {
                        $crate::documents::fields::FieldLists::derive(
                            $kind,
                            <$Enum as $crate::documents::fields::FieldId>::ALL
                                .iter()
                                .map(|f| $crate::documents::fields::FieldId::spec(*f)),
                            $trigrams,
                        )
                    });
                &LISTS
            }
        }
    };
}
pub(crate) use field_table;

/// Every list of field names a kind needs, derived from its table.
#[derive(Debug)]
pub struct FieldLists {
    kind: EntityKind,
    table: Vec<FieldSpec>,
    queryable: Vec<FieldSpec>,
    read_only: Vec<&'static str>,
    create_only: Vec<&'static str>,
    write_only: Vec<&'static str>,
    searchable: Vec<&'static str>,
    sortable: Vec<&'static str>,
    trigrams: Option<IndexTable>,
}

impl FieldLists {
    /// The lists of a kind's table.
    pub fn of(kind: EntityKind) -> &'static FieldLists {
        match kind {
            EntityKind::User => crate::UserField::lists(),
            EntityKind::Role => crate::RoleField::lists(),
            EntityKind::Client => crate::ClientField::lists(),
        }
    }

    /// Derives the lists from the rows of `kind`'s table, in table order.
    pub(crate) fn derive<'a>(
        kind: EntityKind,
        rows: impl Iterator<Item = &'a FieldSpec>,
        trigrams: bool,
    ) -> FieldLists {
        let table: Vec<FieldSpec> = rows.copied().collect();
        let names = |keep: &dyn Fn(&FieldSpec) -> bool| -> Vec<&'static str> {
            table.iter().filter(|f| keep(f)).map(|f| f.name).collect()
        };
        let document_key = |f: &FieldSpec, access: Access| f.top_level && f.access == access;
        FieldLists {
            kind,
            queryable: table.iter().filter(|f| f.queryable()).copied().collect(),
            read_only: names(&|f| document_key(f, Access::ReadOnly)),
            create_only: names(&|f| document_key(f, Access::CreateOnly)),
            write_only: names(&|f| document_key(f, Access::WriteOnly)),
            searchable: names(&|f| f.searchable && f.queryable()),
            sortable: names(&FieldSpec::sortable),
            trigrams: trigrams.then_some(IndexTable { kind, field: None }),
            table,
        }
    }

    /// The kind these lists describe.
    pub fn kind(&self) -> EntityKind {
        self.kind
    }

    /// Every row of the table, in order.
    pub fn table(&self) -> &[FieldSpec] {
        &self.table
    }

    /// The fields queries can name (all but the write-only ones), in table order.
    pub fn queryable(&self) -> &[FieldSpec] {
        &self.queryable
    }

    /// The document keys only the store sets ([`Access::ReadOnly`]).
    pub fn read_only(&self) -> &[&'static str] {
        &self.read_only
    }

    /// The document keys set at creation only ([`Access::CreateOnly`]).
    pub fn create_only(&self) -> &[&'static str] {
        &self.create_only
    }

    /// The input keys never shown ([`Access::WriteOnly`]).
    pub fn write_only(&self) -> &[&'static str] {
        &self.write_only
    }

    /// The fields `search` looks in; with a trigram index, the fields it
    /// covers, in the order that numbers them.
    pub fn searchable(&self) -> &[&'static str] {
        &self.searchable
    }

    /// The fields a page can be sorted by (besides `attributes.*`).
    pub fn sortable(&self) -> &[&'static str] {
        &self.sortable
    }

    /// The trigram index over [`FieldLists::searchable`], if the kind has one.
    pub fn trigrams(&self) -> Option<&IndexTable> {
        self.trigrams.as_ref()
    }
}

/// The write-only keys of every kind: a query or patch naming one is told
/// the field is write-only, whichever kind it addresses.
pub(crate) fn write_only_keys() -> &'static [&'static str] {
    static KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        let mut keys: Vec<&'static str> = Vec::new();
        for kind in [EntityKind::User, EntityKind::Role, EntityKind::Client] {
            for key in FieldLists::of(kind).write_only() {
                if !keys.contains(key) {
                    keys.push(key);
                }
            }
        }
        keys
    });
    &KEYS
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::documents::client::{ClientRecord, NewClient};
    use crate::documents::role::{NewRole, RoleRecord};
    use crate::documents::user::{ExternalId, NewUser, UserRecord};
    use crate::documents::values::{FieldValue, Queryable};
    use crate::{ClientField, RoleField, Timestamp, UserField};

    const KINDS: [EntityKind; 3] = [EntityKind::User, EntityKind::Role, EntityKind::Client];

    fn at(millis: i64) -> Timestamp {
        Timestamp::from_millis(millis).unwrap()
    }

    /// Whether a query's `pr` would call this value absent.
    fn absent(value: &FieldValue<'_>) -> bool {
        match value {
            FieldValue::Absent => true,
            FieldValue::Ints(items) => items.is_empty(),
            FieldValue::Strs(items) => items.is_empty(),
            _ => false,
        }
    }

    /// A user record with every field set, seen at `at(1_000)`.
    fn full_user() -> UserRecord {
        let new = NewUser {
            nickname: Some("Nick".into()),
            telephone_number: Some("+1 555 0100".into()),
            mobile_number: Some("+1 555 0101".into()),
            tenant: Some("acme".into()),
            roles: vec![3, 1],
            external_ids: vec![ExternalId::new("github", "42")],
            attributes: json!({"dept": "R&D"}).as_object().cloned().unwrap(),
            ..NewUser::new("ada", "ada@example.com", "Ada", "Lovelace")
        };
        UserRecord {
            last_login_at: Some(at(500)),
            locked_until: Some(at(2_000)),
            totp: Some(crate::documents::credentials::TotpState::lost()),
            ..UserRecord::create(
                new,
                crate::documents::header::Header::new(7, at(100)),
                Some("$argon2id$…".into()),
            )
        }
    }

    fn full_role() -> RoleRecord {
        let new = NewRole {
            description: Some("Operators".into()),
            external_id: Some("grp-1".into()),
            permissions: vec!["ops:*".into()],
            tenant: Some("acme".into()),
            ..NewRole::new("ops")
        };
        RoleRecord::create(new, crate::documents::header::Header::new(3, at(100)))
    }

    fn full_client() -> ClientRecord {
        let new = NewClient {
            description: Some("Billing".into()),
            tenant: Some("acme".into()),
            roles: vec![3],
            ip_allowlist: vec!["10.0.0.0/8".into()],
            ..NewClient::new("billing")
        };
        ClientRecord {
            last_used_at: Some(at(500)),
            ..ClientRecord::create(
                new,
                crate::documents::header::Header::new(9, at(100)),
                "rc_x".into(),
                "$argon2id$…".into(),
            )
        }
    }

    /// Every queryable row of `R`'s table reads as present on a record with
    /// every field set (the same through its id and its name); write-only
    /// rows read as absent.
    fn every_field_is_read<R: Queryable>(record: &R) {
        let now = at(1_000);
        for &field in R::Field::ALL {
            let spec = field.spec();
            let value = record.get(field, now);
            assert_eq!(record.value(spec.name, now), value, "{}", spec.name);
            if spec.queryable() {
                assert!(!absent(&value), "{} reads as absent", spec.name);
            } else {
                assert_eq!(value, FieldValue::Absent, "{} is write-only", spec.name);
            }
        }
        assert_eq!(record.value("noSuchField", now), FieldValue::Absent);
    }

    #[test]
    fn get_reads_every_queryable_field_of_a_full_record() {
        every_field_is_read(&full_user());
        every_field_is_read(&full_role());
        every_field_is_read(&full_client());
    }

    fn ids_round_trip<F: FieldId>() {
        let lists = F::lists();
        assert_eq!(lists.kind(), F::KIND);
        assert_eq!(F::ALL.len(), lists.table().len());
        for (&field, row) in F::ALL.iter().zip(lists.table()) {
            assert_eq!(field.spec(), row, "{field:?}");
            assert_eq!(F::from_name(row.name), Some(field), "{}", row.name);
        }
        assert_eq!(F::from_name("noSuchField"), None);
    }

    #[test]
    fn every_row_maps_to_a_field_id_and_back() {
        ids_round_trip::<UserField>();
        ids_round_trip::<RoleField>();
        ids_round_trip::<ClientField>();
        assert!(std::ptr::eq(
            FieldLists::of(EntityKind::User),
            UserField::lists()
        ));
        assert!(std::ptr::eq(
            FieldLists::of(EntityKind::Role),
            RoleField::lists()
        ));
        assert!(std::ptr::eq(
            FieldLists::of(EntityKind::Client),
            ClientField::lists()
        ));
    }

    #[test]
    fn names_are_unique_and_only_document_keys_have_an_access_list() {
        for kind in KINDS {
            let table = FieldLists::of(kind).table();
            for (i, f) in table.iter().enumerate() {
                assert!(
                    table.iter().skip(i + 1).all(|g| g.name != f.name),
                    "{kind:?} lists {} twice",
                    f.name
                );
                // A path is read through its structured field, never written alone.
                if !f.top_level {
                    assert_eq!(f.access, Access::ReadWrite, "{}", f.name);
                    assert!(f.index.is_none() && !f.searchable, "{}", f.name);
                }
            }
        }
    }

    #[test]
    fn only_queryable_text_fields_are_searched() {
        for kind in KINDS {
            for f in FieldLists::of(kind).table().iter().filter(|f| f.searchable) {
                assert!(f.queryable() && f.ty == FieldType::Str, "{}", f.name);
            }
        }
    }
}
