//! SCIM filters and `sortBy` compiled to rosterdb's expression language
//! (docs/reference/queries.md, Expression form): attribute paths become rosterdb field names,
//! values are checked against the attribute's type, and rosterdb's own errors are
//! mapped back to the position of the SCIM test they come from.

use serde_json::Value;

use crate::error::ScimError;
use crate::filter::{AttrPath, Filter, Op};
use crate::schema::Resource;

/// What a SCIM attribute path is in rosterdb.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// One field, holding values of this kind.
    Field(&'static str, Kind),
    /// Any of these string fields (a multi-valued SCIM attribute spread
    /// over several rosterdb fields).
    AnyOf(&'static [&'static str]),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Str,
    Bool,
    /// A numeric id sent as a string (`id`, `groups.value`).
    Id,
    Time,
}

/// The rosterdb target of `path` on `resource`, or `invalidFilter` at the
/// path's position when the path names nothing filterable.
fn target(resource: Resource, path: &AttrPath) -> Result<Target, ScimError> {
    let attr = path.attr.to_ascii_lowercase();
    let sub = path.sub.as_deref().map(str::to_ascii_lowercase);
    let found = match (resource, attr.as_str(), sub.as_deref()) {
        (_, "id", None) => Some(Target::Field("id", Kind::Id)),
        (_, "meta", Some("created")) => Some(Target::Field("createdAt", Kind::Time)),
        (_, "meta", Some("lastmodified")) => Some(Target::Field("updatedAt", Kind::Time)),
        (Resource::User, "username", None) => Some(Target::Field("username", Kind::Str)),
        (Resource::User, "name", Some("givenname")) => Some(Target::Field("firstName", Kind::Str)),
        (Resource::User, "name", Some("familyname")) => Some(Target::Field("lastName", Kind::Str)),
        (Resource::User, "displayname", None) => Some(Target::Field("nickname", Kind::Str)),
        (Resource::User, "emails", None | Some("value")) => Some(Target::Field("email", Kind::Str)),
        (Resource::User, "phonenumbers", None | Some("value")) => {
            Some(Target::AnyOf(&["telephoneNumber", "mobileNumber"]))
        }
        (Resource::User, "active", None) => Some(Target::Field("enabled", Kind::Bool)),
        (Resource::User, "externalid", None) => Some(Target::Field("externalIds.value", Kind::Str)),
        (Resource::User, "groups", None | Some("value")) => Some(Target::Field("roles", Kind::Id)),
        (Resource::Group, "displayname", None) => Some(Target::Field("name", Kind::Str)),
        // Compared exactly (caseExact), as rosterdb compares it.
        (Resource::Group, "externalid", None) => Some(Target::Field("externalId", Kind::Str)),
        _ => None,
    };
    found.ok_or_else(|| {
        let shown = match &path.sub {
            Some(sub) => format!("{}.{sub}", path.attr),
            None => path.attr.clone(),
        };
        ScimError::invalid_filter(
            path.position,
            format!(
                "{shown:?} is not a filterable attribute of {}",
                resource.name()
            ),
        )
    })
}

/// A compiled filter: rosterdb expression text and, for each test, where
/// it starts in that text and in the SCIM filter.
#[derive(Debug, Default)]
pub(crate) struct Compiled {
    pub expr: String,
    marks: Vec<(usize, usize)>,
}

impl Compiled {
    /// The SCIM position of a position in the compiled text.
    fn source_position(&self, position: usize) -> usize {
        self.marks
            .iter()
            .rev()
            .find(|(out, _)| *out <= position)
            .or(self.marks.first())
            .map_or(0, |(_, source)| *source)
    }

    /// A rosterdb error of running the compiled filter, as `invalidFilter`
    /// at the SCIM test it comes from when it names a position.
    pub fn map_error(&self, error: rosterdb::Error, resource: Resource) -> ScimError {
        match &error {
            rosterdb::Error::InvalidQuery {
                message,
                position: Some(p),
                ..
            } => ScimError::invalid_filter(self.source_position(*p), message.clone()),
            _ => ScimError::from_store(error, resource),
        }
    }
}

/// Compiles `filter` for `resource`.
pub(crate) fn compile(filter: &Filter, resource: Resource) -> Result<Compiled, ScimError> {
    let mut out = Compiled::default();
    emit(filter, resource, None, &mut out)?;
    Ok(out)
}

/// Appends `filter` to `out`; inside `attr[…]`, `within` is `attr`.
fn emit(
    filter: &Filter,
    resource: Resource,
    within: Option<&AttrPath>,
    out: &mut Compiled,
) -> Result<(), ScimError> {
    match filter {
        Filter::And(terms) | Filter::Or(terms) => {
            let word = if matches!(filter, Filter::And(..)) {
                " and "
            } else {
                " or "
            };
            out.expr.push('(');
            for (i, term) in terms.iter().enumerate() {
                if i > 0 {
                    out.expr.push_str(word);
                }
                emit(term, resource, within, out)?;
            }
            out.expr.push(')');
        }
        Filter::Not(a) => {
            out.expr.push_str("not (");
            emit(a, resource, within, out)?;
            out.expr.push(')');
        }
        Filter::ValuePath { attr, filter } => {
            if within.is_some() || attr.sub.is_some() {
                return Err(ScimError::invalid_filter(
                    attr.position,
                    "a value filter must be on a top-level attribute and cannot nest".into(),
                ));
            }
            emit(filter, resource, Some(attr), out)?;
        }
        Filter::Present(path) => {
            let path = resolved(path, within)?;
            let mark = (out.expr.chars().count(), path.position);
            out.marks.push(mark);
            match target(resource, &path)? {
                Target::Field(field, _) => {
                    out.expr.push_str(field);
                    out.expr.push_str(" pr");
                }
                Target::AnyOf(fields) => {
                    let tests: Vec<String> = fields.iter().map(|f| format!("{f} pr")).collect();
                    out.expr.push_str(&format!("({})", tests.join(" or ")));
                }
            }
        }
        Filter::Compare { path, op, value } => {
            let path = resolved(path, within)?;
            let mark = (out.expr.chars().count(), path.position);
            out.marks.push(mark);
            match target(resource, &path)? {
                Target::Field(field, kind) => {
                    let (field, literal) = operand(field, kind, *op, value, &path)?;
                    out.expr
                        .push_str(&format!("{field} {} {literal}", op.word()));
                }
                Target::AnyOf(fields) => {
                    let tests = fields
                        .iter()
                        .map(|f| {
                            let (f, literal) = operand(f, Kind::Str, *op, value, &path)?;
                            Ok(format!("{f} {} {literal}", op.word()))
                        })
                        .collect::<Result<Vec<_>, ScimError>>()?;
                    out.expr.push_str(&format!("({})", tests.join(" or ")));
                }
            }
        }
    }
    Ok(())
}

/// A path inside `attr[…]` names a sub-attribute of `attr`.
fn resolved(path: &AttrPath, within: Option<&AttrPath>) -> Result<AttrPath, ScimError> {
    match within {
        None => Ok(path.clone()),
        Some(_) if path.sub.is_some() => Err(ScimError::invalid_filter(
            path.position,
            "a path inside a value filter names one sub-attribute".into(),
        )),
        Some(outer) => Ok(AttrPath {
            attr: outer.attr.clone(),
            sub: Some(path.attr.clone()),
            position: path.position,
        }),
    }
}

/// The field and the literal of a comparison, the value checked against
/// the attribute's kind.
fn operand(
    field: &'static str,
    kind: Kind,
    op: Op,
    value: &Value,
    path: &AttrPath,
) -> Result<(&'static str, String), ScimError> {
    let refuse =
        |what: &str| ScimError::invalid_filter(path.position, format!("{} {what}", shown(path)));
    if value.is_null() {
        return match op {
            Op::Eq | Op::Ne => Ok((field, "null".into())),
            _ => Err(refuse("can only be compared with null by eq or ne")),
        };
    }
    match kind {
        Kind::Str | Kind::Time => match value {
            Value::String(s) => Ok((field, quote(s))),
            _ => Err(refuse("takes a quoted string")),
        },
        Kind::Bool => match (value, op) {
            (Value::Bool(b), Op::Eq | Op::Ne) => Ok((field, b.to_string())),
            (Value::Bool(_), _) => Err(refuse("is a boolean: use eq or ne")),
            _ => Err(refuse("takes true or false")),
        },
        Kind::Id => {
            let id = match value {
                Value::String(s) => s.parse::<u64>().ok(),
                Value::Number(n) => n.as_u64(),
                _ => return Err(refuse("takes an id as a quoted string")),
            };
            match (id, op) {
                (Some(id), Op::Eq | Op::Ne | Op::Gt | Op::Ge | Op::Lt | Op::Le) => {
                    Ok((field, id.to_string()))
                }
                // No record has an id that is not a number: id 0 is never
                // assigned, so `eq` matches nothing and `ne` everything.
                (None, Op::Eq | Op::Ne) => Ok((field, "0".into())),
                _ => Err(refuse(
                    "is an id: use eq, ne, gt, ge, lt or le with a number",
                )),
            }
        }
    }
}

fn shown(path: &AttrPath) -> String {
    match &path.sub {
        Some(sub) => format!("{}.{sub}", path.attr),
        None => path.attr.clone(),
    }
}

/// `text` as a single-quoted rosterdb string (quotes doubled).
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The rosterdb sort key of a SCIM `sortBy` path.
pub(crate) fn sort_field(resource: Resource, sort_by: &str) -> Result<&'static str, ScimError> {
    let stripped = resource.strip_urn(sort_by.trim());
    let mut parts = stripped.splitn(2, '.');
    let path = AttrPath {
        attr: parts.next().unwrap_or("").to_owned(),
        sub: parts.next().map(str::to_owned),
        position: 0,
    };
    match target(resource, &path) {
        Ok(Target::Field(field, _)) if field != "roles" && field != "externalIds.value" => {
            Ok(field)
        }
        _ => Err(ScimError::invalid_value(format!(
            "sortBy {sort_by:?} is not a sortable attribute of {}",
            resource.name()
        ))),
    }
}
