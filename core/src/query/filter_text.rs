//! A typed filter written back as expression text (docs/reference/queries.md, Expression form), for
//! `explain`: `lastName = 'hopper' and (enabled = true or roles in (1, 2))`.
//!
//! Literals appear as the checker typed them: strings case-folded (exact
//! for the identifier `tenant`), timestamps in RFC 3339 to the digit given,
//! patterns as the folded text they compare. A scoped view's own condition
//! reads `tenant = 'acme' (view)`. The text names only what the query
//! itself holds: no record is read to write it.

use std::fmt;

use super::check::{Cmp, Field, Filter, MatchKind, Scalar};
use crate::documents::json::Json;

/// Where a filter is written, which decides whether it needs parentheses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// The whole filter.
    Top,
    /// An operand of `and`.
    And,
    /// An operand of `or`.
    Or,
    /// The operand of `not`.
    Not,
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_filter(f, self, Context::Top)
    }
}

fn write_filter(f: &mut fmt::Formatter<'_>, filter: &Filter, context: Context) -> fmt::Result {
    match filter {
        Filter::And(parts) => write_connective(f, parts, Context::And, context),
        Filter::Or(parts) => write_connective(f, parts, Context::Or, context),
        Filter::Not(part) => {
            f.write_str("not ")?;
            write_filter(f, part, Context::Not)
        }
        Filter::Cmp { field, op, value } => write!(f, "{} {op} {value}", field.name()),
        Filter::In {
            field,
            values,
            null,
        } => {
            write!(f, "{} in (", field.name())?;
            let mut first = true;
            for value in values {
                if !first {
                    f.write_str(", ")?;
                }
                first = false;
                write!(f, "{value}")?;
            }
            if *null {
                f.write_str(if first { "null" } else { ", null" })?;
            }
            f.write_str(")")
        }
        Filter::Match {
            field,
            kind,
            pattern,
        } => {
            let literal = pattern.literal_runs().concat();
            match kind {
                MatchKind::Contains => write!(f, "{} co {}", field.name(), Quoted(&literal)),
                MatchKind::StartsWith => write!(f, "{} sw {}", field.name(), Quoted(&literal)),
                MatchKind::EndsWith => write!(f, "{} ew {}", field.name(), Quoted(&literal)),
                MatchKind::Like => {
                    write!(f, "{} like {}", field.name(), Quoted(&pattern.to_string()))
                }
            }
        }
        Filter::Present(field) => write!(f, "{} is not null", field.name()),
        Filter::Absent(field) => write!(f, "{} is null", field.name()),
        Filter::Search(terms) => write!(f, "search {}", Quoted(&terms.join(" "))),
        Filter::TenantIs(tenant) => write!(f, "tenant = {} (view)", Quoted(tenant)),
    }
}

/// The `and` (`own` is [`Context::And`]) or `or` (`own` is
/// [`Context::Or`]) of `parts`, written in `context`: with no part, `true`
/// or `false`; one part stands alone; more are joined, in parentheses
/// inside the other connective or `not`.
fn write_connective(
    f: &mut fmt::Formatter<'_>,
    parts: &[Filter],
    own: Context,
    context: Context,
) -> fmt::Result {
    let (empty, separator) = if own == Context::And {
        ("true", " and ")
    } else {
        ("false", " or ")
    };
    let many = match parts {
        [] => return f.write_str(empty),
        [one] => return write_filter(f, one, context),
        many => many,
    };
    let wrap = context != Context::Top && context != own;
    if wrap {
        f.write_str("(")?;
    }
    for (n, part) in many.iter().enumerate() {
        if n > 0 {
            f.write_str(separator)?;
        }
        write_filter(f, part, own)?;
    }
    if wrap {
        f.write_str(")")?;
    }
    Ok(())
}

impl fmt::Display for Cmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cmp::Eq => "=",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        })
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Int(v) => write!(f, "{v}"),
            Scalar::Str(text) | Scalar::Ident(text) => write!(f, "{}", Quoted(text)),
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Time(instant, nanos) => {
                // `…T00:00:00.123Z`, with the literal's digits beyond the millisecond.
                let text = instant.to_string();
                let base = text.strip_suffix('Z').unwrap_or(&text);
                let finer = format!("{nanos:06}");
                let finer = if *nanos > 0 {
                    finer.trim_end_matches('0')
                } else {
                    ""
                };
                write!(f, "{}", Quoted(&format!("{base}{finer}Z")))
            }
            Scalar::Json(Json::Str(text)) => write!(f, "{}", Quoted(text)),
            Scalar::Json(json) => write!(f, "{}", json.to_value()),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A string literal as the expression form reads it: `'…'` with a quote
/// written twice, or, when it holds control characters, `"…"` with JSON
/// escapes (so a plan never spans more lines than it has).
pub(crate) struct Quoted<'a>(pub(crate) &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.chars().any(char::is_control) {
            match serde_json::to_string(self.0) {
                Ok(json) => f.write_str(&json),
                Err(_) => Err(fmt::Error),
            }
        } else {
            write!(f, "'{}'", self.0.replace('\'', "''"))
        }
    }
}
