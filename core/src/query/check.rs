//! Type checking: the untyped syntax of a query becomes a typed filter over
//! one kind's fields, or an `InvalidQuery` error naming the field and position.

use serde_json::Number;

use super::ast::{CompareOp, Expr, Literal, Path, Value};
use super::number::{self, Misfit};
use super::pattern::{Case, Pattern};
use super::schema::{FieldDef, FieldType};
use crate::documents::caseless::fold;
use crate::documents::json::Json;
use crate::{Error, QueryCode, Result, Timestamp};

/// A field a filter reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    /// A declared field of the kind.
    Def(&'static FieldDef),
    /// `attributes.<key>(.<key>)*`: keys are case-sensitive.
    Attr(Vec<String>),
}

impl Field {
    /// The canonical path, as explain and error messages show it.
    pub fn name(&self) -> String {
        match self {
            Field::Def(def) => def.name.to_owned(),
            Field::Attr(keys) => format!("attributes.{}", keys.join(".")),
        }
    }
}

/// A typed literal.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// For `Int` and `Ints` fields.
    Int(u64),
    /// For `Str` and `Strs` fields: the case-folded text.
    Str(String),
    /// For `Ident` fields (`tenant`): the exact text.
    Ident(String),
    /// For `Bool` fields.
    Bool(bool),
    /// For `Time` fields: the instant to the millisecond, and the literal's
    /// nanoseconds beyond it (stored timestamps have none).
    Time(Timestamp, u32),
    /// For `attributes.*`: a JSON scalar (strings case-folded).
    Json(Json),
}

/// An ordering or equality operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// The kind of text match, for explain and index use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchKind {
    /// `like`
    Like,
    /// `co`
    Contains,
    /// `sw`
    StartsWith,
    /// `ew`
    EndsWith,
}

/// A typed filter over one kind's records.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// Every part holds.
    And(Vec<Filter>),
    /// Some part holds.
    Or(Vec<Filter>),
    /// The part does not hold.
    Not(Box<Filter>),
    /// `field op value`.
    Cmp {
        /// The field.
        field: Field,
        /// The operator.
        op: Cmp,
        /// The typed literal.
        value: Scalar,
    },
    /// `field in (…)`; `null` among the values matches an absent field.
    In {
        /// The field.
        field: Field,
        /// The typed literals.
        values: Vec<Scalar>,
        /// Whether `null` was among them.
        null: bool,
    },
    /// `like`, `co`, `sw`, `ew` on a string field.
    Match {
        /// The field.
        field: Field,
        /// Which operator.
        kind: MatchKind,
        /// The compiled pattern.
        pattern: Pattern,
    },
    /// The field is present (an array: non-empty).
    Present(Field),
    /// The field is absent (an array: empty).
    Absent(Field),
    /// Every term occurs in one of the kind's search fields.
    Search(Vec<String>),
    /// The record belongs to exactly this tenant (a scoped view's own filter).
    TenantIs(String),
}

/// Resolves a path against a kind's fields (names case-insensitive).
pub fn resolve(fields: &'static [FieldDef], path: &Path, param: Option<&str>) -> Result<Field> {
    let joined = path.segments.join(".");
    let err = |code, message: String| {
        Error::query(code, message)
            .at_position(path.position)
            .for_field(param.map_or_else(|| joined.clone(), str::to_owned))
    };
    if crate::documents::fields::write_only_keys()
        .iter()
        .any(|w| w.eq_ignore_ascii_case(&joined))
    {
        return Err(err(
            QueryCode::WriteOnly,
            format!("{joined} is write-only and cannot be queried"),
        ));
    }
    if let Some((first, rest)) = path.segments.split_first()
        && first.eq_ignore_ascii_case("attributes")
        && !rest.is_empty()
        && fields.iter().any(|f| f.name == "attributes")
    {
        return Ok(Field::Attr(rest.to_vec()));
    }
    fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(&joined))
        .map(Field::Def)
        .ok_or_else(|| err(QueryCode::UnknownField, format!("unknown field {joined}")))
}

/// Checks a filter expression against a kind's fields.
pub fn check(fields: &'static [FieldDef], expr: &Expr) -> Result<Filter> {
    Ok(match expr {
        Expr::And(parts) => Filter::And(
            parts
                .iter()
                .map(|p| check(fields, p))
                .collect::<Result<_>>()?,
        ),
        Expr::Or(parts) => Filter::Or(
            parts
                .iter()
                .map(|p| check(fields, p))
                .collect::<Result<_>>()?,
        ),
        Expr::Not(part) => Filter::Not(Box::new(check(fields, part)?)),
        Expr::Present(path) => Filter::Present(resolve(fields, path, None)?),
        Expr::IsNull(path) => Filter::Absent(resolve(fields, path, None)?),
        Expr::In { path, values } => {
            let field = resolve(fields, path, None)?;
            let mut typed = Vec::new();
            let mut null = false;
            for value in values {
                match literal(&field, path, value)? {
                    Some(scalar) => typed.push(scalar),
                    None => null = true,
                }
            }
            Filter::In {
                field,
                values: typed,
                null,
            }
        }
        Expr::Compare { path, op, value } => {
            let field = resolve(fields, path, None)?;
            compare(field, path, *op, value)?
        }
    })
}

fn compare(field: Field, path: &Path, op: CompareOp, value: &Value) -> Result<Filter> {
    let kind = match op {
        CompareOp::Like => Some(MatchKind::Like),
        CompareOp::Co => Some(MatchKind::Contains),
        CompareOp::Sw => Some(MatchKind::StartsWith),
        CompareOp::Ew => Some(MatchKind::EndsWith),
        _ => None,
    };
    if let Some(kind) = kind {
        let text = match (&value.literal, &field) {
            (Literal::Str(s) | Literal::Text(s), _) => s,
            // Inside attributes a literal of another type matches nothing
            // (docs/reference/queries.md, Semantics).
            (_, Field::Attr(_)) => return Ok(Filter::Or(Vec::new())),
            _ => return Err(mismatch(path, value, "a text pattern needs a string")),
        };
        if let Field::Def(def) = &field
            && !matches!(def.ty, FieldType::Str | FieldType::Strs | FieldType::Ident)
        {
            return Err(mismatch(
                path,
                value,
                &format!(
                    "{} is {}; text patterns apply to strings",
                    def.name,
                    def.ty.describe()
                ),
            ));
        }
        // Identifiers match case-sensitively, like every comparison of them
        // (docs/reference/documents.md, Caseless matching).
        let case = match &field {
            Field::Def(def) if def.ty == FieldType::Ident => Case::Exact,
            _ => Case::Folded,
        };
        let pattern = Pattern::new(kind, text, case);
        return Ok(Filter::Match {
            field,
            kind,
            pattern,
        });
    }
    let cmp = match op {
        CompareOp::Eq => Cmp::Eq,
        CompareOp::Ne => Cmp::Ne,
        CompareOp::Lt => Cmp::Lt,
        CompareOp::Le => Cmp::Le,
        CompareOp::Gt => Cmp::Gt,
        _ => Cmp::Ge,
    };
    match literal(&field, path, value)? {
        Some(value) => Ok(Filter::Cmp {
            field,
            op: cmp,
            value,
        }),
        None => match cmp {
            Cmp::Eq => Ok(Filter::Absent(field)),
            Cmp::Ne => Ok(Filter::Present(field)),
            // Ordering against null inside attributes: another type, false
            // (docs/reference/queries.md, Semantics).
            _ if matches!(field, Field::Attr(_)) => Ok(Filter::Or(Vec::new())),
            _ => Err(mismatch(
                path,
                value,
                "null can only be compared with = or !=",
            )),
        },
    }
}

/// A [`QueryCode::TypeMismatch`] error at the literal (or the path).
fn mismatch(path: &Path, value: &Value, message: &str) -> Error {
    misfit(QueryCode::TypeMismatch, path, value, message)
}

/// An `InvalidQuery` error with `code` at the literal (or the path), naming the path.
fn misfit(code: QueryCode, path: &Path, value: &Value, message: &str) -> Error {
    Error::query(code, message)
        .at_position(value.position.unwrap_or(path.position))
        .for_field(path.segments.join("."))
}

/// Types a literal for a field; `None` is `null`.
fn literal(field: &Field, path: &Path, value: &Value) -> Result<Option<Scalar>> {
    let ty = match field {
        Field::Attr(_) => {
            return json_literal(&value.literal)
                .map_err(|message| misfit(QueryCode::NumberOutOfRange, path, value, &message));
        }
        Field::Def(def) => def.ty,
    };
    let name = field.name();
    let wrong = |what: &str| {
        mismatch(
            path,
            value,
            &format!("{name} is {}; {what} does not fit", ty.describe()),
        )
    };
    let scalar = match (&value.literal, ty) {
        (Literal::Null, _) => return Ok(None),
        (Literal::Text(t), FieldType::Int | FieldType::Ints) => {
            let t = t.trim();
            Scalar::Int(number::unsigned_text(t).map_err(|m| {
                let message = number::unsigned_message(&name, t, m);
                misfit(number::misfit_code(m), path, value, &message)
            })?)
        }
        (Literal::Num(n), FieldType::Int | FieldType::Ints) => {
            Scalar::Int(number::unsigned(n).map_err(|m| {
                let message = number::unsigned_message(&name, &n.to_string(), m);
                misfit(number::misfit_code(m), path, value, &message)
            })?)
        }
        (Literal::Str(s) | Literal::Text(s), FieldType::Str | FieldType::Strs) => {
            Scalar::Str(fold(s))
        }
        (Literal::Str(s) | Literal::Text(s), FieldType::Ident) => Scalar::Ident(s.clone()),
        (Literal::Bool(b), FieldType::Bool) => Scalar::Bool(*b),
        (Literal::Text(t), FieldType::Bool) => match t.to_ascii_lowercase().as_str() {
            "true" => Scalar::Bool(true),
            "false" => Scalar::Bool(false),
            _ => return Err(wrong("a text other than true or false")),
        },
        (Literal::Str(s) | Literal::Text(s), FieldType::Time) => {
            let (t, nanos) = Timestamp::parse_precise(s).ok_or_else(|| {
                wrong("a text that is neither a date YYYY-MM-DD nor an RFC 3339 timestamp")
            })?;
            Scalar::Time(t, nanos)
        }
        (Literal::Str(_), _) => return Err(wrong("a string")),
        (Literal::Num(_), _) => return Err(wrong("a number")),
        (Literal::Bool(_), _) => return Err(wrong("a boolean")),
        (Literal::Text(_), _) => return Err(wrong("this text")),
    };
    Ok(Some(scalar))
}

/// Types a literal for an `attributes.*` field: parameter text is a JSON
/// number, `true`, `false` or `null` when it parses as one, else a string.
/// Text in number syntax that no number can hold is an error (as it is in
/// the expression form), not a string.
fn json_literal(literal: &Literal) -> std::result::Result<Option<Scalar>, String> {
    let json = match literal {
        Literal::Null => return Ok(None),
        Literal::Bool(b) => Json::Bool(*b),
        Literal::Num(n) => json_number(n),
        Literal::Str(s) => Json::Str(fold(s)),
        Literal::Text(t) => match t.to_ascii_lowercase().as_str() {
            // Like every keyword in a query, case-insensitive (docs/reference/queries.md).
            "null" => return Ok(None),
            "true" => Json::Bool(true),
            "false" => Json::Bool(false),
            // JSON allows whitespace around a number.
            _ => match number::json_number(t.trim_matches([' ', '\t', '\n', '\r'])) {
                Ok(n) => json_number(&n),
                Err(Misfit::NotANumber) => Json::Str(fold(t)),
                Err(misfit) => return Err(number::range_message(t, misfit)),
            },
        },
    };
    Ok(Some(Scalar::Json(json)))
}

fn json_number(n: &Number) -> Json {
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => Json::U64(u),
        (None, Some(i)) => Json::I64(i),
        _ => Json::F64(n.as_f64().unwrap_or_default()),
    }
}
