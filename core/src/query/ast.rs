//! The untyped syntax of a query, as both front ends produce it: filters
//! name fields as written and carry the character positions of their parts,
//! so the type checker (`check`) can report errors where they are.

use serde::{Deserialize, Serialize};
use serde_json::Number;

/// A dotted field path as written, e.g. `attributes.department` or `lastname`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Path {
    /// The dot-separated names, as written (field names are matched
    /// case-insensitively later; keys inside `attributes` are not).
    pub segments: Vec<String>,
    /// The character position (0-based, in Unicode scalar values) where the path starts.
    pub position: usize,
}

/// A literal value in a filter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Literal {
    /// A quoted string.
    Str(String),
    /// A JSON number.
    Num(Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// Text from the parameter form, not yet typed: the checker reads it by
    /// the field's type (for `attributes.*`: a JSON number, `true`, `false`
    /// or `null` when it parses as one, else a string).
    Text(String),
}

/// A literal with the character position where it starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Value {
    /// The literal.
    pub literal: Literal,
    /// Its character position, or `None` when it did not come from an expression.
    pub position: Option<usize>,
}

/// A binary comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    /// `=`, `eq`
    Eq,
    /// `!=`, `<>`, `ne`
    Ne,
    /// `<`, `lt`
    Lt,
    /// `<=`, `le`
    Le,
    /// `>`, `gt`
    Gt,
    /// `>=`, `ge`
    Ge,
    /// `like`: `%` any run, `_` one character, `\` escapes; no wildcard means substring.
    Like,
    /// `co`: contains.
    Co,
    /// `sw`: starts with.
    Sw,
    /// `ew`: ends with.
    Ew,
}

/// A filter expression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// Every part holds (an empty list holds).
    And(Vec<Expr>),
    /// Some part holds.
    Or(Vec<Expr>),
    /// The part does not hold.
    Not(Box<Expr>),
    /// `path op value`. `= null` is [`Expr::IsNull`] and `!= null` is
    /// [`Expr::Present`]; the parsers produce those directly.
    Compare {
        /// The field compared.
        path: Path,
        /// The operator.
        op: CompareOp,
        /// The literal compared with.
        value: Value,
    },
    /// `path in (v1, v2, …)`: equals any of the values.
    In {
        /// The field compared.
        path: Path,
        /// The values, at least one.
        values: Vec<Value>,
    },
    /// `path pr` or `path is not null`: the field is present (an array: non-empty).
    Present(Path),
    /// `path is null`: the field is absent (an array: empty).
    IsNull(Path),
}

/// One key of a sort, as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SortKey {
    /// The field (a top-level scalar, or `attributes.<key>`).
    pub path: Path,
    /// Descending when true.
    pub descending: bool,
}

/// How a query asks for its page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Paging {
    /// Nothing asked: the first page of the default size.
    #[default]
    Default,
    /// `page` (from 1) and `pageSize`.
    Page {
        /// The page number, from 1.
        page: u64,
        /// Items per page, 1–1000.
        size: usize,
    },
    /// `offset` and `limit`.
    Offset {
        /// How many matches to skip.
        offset: u64,
        /// Items per page, 1–1000.
        limit: usize,
    },
    /// Continue after a previous page; `size` is the page size, if given again.
    Cursor {
        /// The opaque token from `nextCursor`.
        token: String,
        /// Items per page, 1–1000, when given.
        size: Option<usize>,
    },
}

/// A field filter of the parameter form (`lastName=Smith`, `filter[roles]=in:1,2`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldFilter {
    /// The parameter's name as given (`lastName`, `filter[lastName]`).
    pub param: String,
    /// The test it makes.
    pub test: Expr,
}

/// A whole query as the front ends read it, before type checking.
///
/// Each part is `None` (or empty) when it was not given, so that a query
/// continued from a cursor can tell a part left out (it comes from the
/// cursor) from a part given again (it must equal the cursor's: docs/reference/queries.md).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RawQuery {
    /// The expression (`where`, [`Query::parse`](crate::Query::parse),
    /// `and_where`); `None` when there is none or it is blank.
    pub filter: Option<Expr>,
    /// The field filters of the parameter form, in the order given; ANDed
    /// with each other and with `filter`.
    pub field_filters: Vec<FieldFilter>,
    /// Free-text search terms, when given and not blank.
    pub search: Option<String>,
    /// Sort keys, in order (empty: not given, by id).
    pub sort: Vec<SortKey>,
    /// Top-level fields to return, when given.
    pub fields: Option<Vec<Path>>,
    /// The page asked for.
    pub paging: Paging,
    /// Whether to count every match, when given (not given: no, or what
    /// the cursor's query said).
    pub with_total: Option<bool>,
}
