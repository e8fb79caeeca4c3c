//! The fields queries may name (docs/reference/documents.md; docs/reference/queries.md, Semantics):
//! a kind's queryable and searchable fields, from its field table (`documents::fields`); their
//! values are `documents::values`.

use crate::EntityKind;
use crate::documents::fields::FieldLists;

/// The query modules' name for a row of a kind's field table.
pub use crate::documents::fields::FieldSpec as FieldDef;
pub use crate::documents::fields::FieldType;

/// The queryable fields of a kind (every row of its table but the
/// write-only ones), in table order.
pub fn fields_of(kind: EntityKind) -> &'static [FieldDef] {
    FieldLists::of(kind).queryable()
}

/// The fields `search` looks in.
pub fn search_fields(kind: EntityKind) -> &'static [&'static str] {
    FieldLists::of(kind).searchable()
}
