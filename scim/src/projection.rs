//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5): which
//! attributes a response carries. `id` and `schemas` are always returned.

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::schema::Resource;

/// One named attribute: top-level name (as the schema spells it) and
/// sub-attribute, if any.
type Named = (&'static str, Option<&'static str>);

/// Which attributes to return.
#[derive(Debug, Default)]
pub(crate) struct Projection {
    include: Option<Vec<Named>>,
    exclude: Vec<Named>,
}

impl Projection {
    /// The projection of comma lists `attributes` and `excluded` (at most
    /// one of them); an unknown attribute is `invalidValue`, or, when
    /// `lenient` (a search over several resource types), left out.
    pub fn new<S: AsRef<str>, T: AsRef<str>>(
        resource: Resource,
        attributes: &[S],
        excluded: &[T],
        lenient: bool,
    ) -> Result<Projection, ScimError> {
        if !attributes.is_empty() && !excluded.is_empty() {
            return Err(ScimError::invalid_value(
                "attributes and excludedAttributes cannot be given together",
            ));
        }
        let include = if attributes.is_empty() {
            None
        } else {
            Some(named(resource, attributes, "attributes", lenient)?)
        };
        Ok(Projection {
            include,
            exclude: named(resource, excluded, "excludedAttributes", lenient)?,
        })
    }

    /// Whether top-level attribute `name` is returned (so a caller may
    /// skip computing it).
    pub fn wants(&self, name: &str) -> bool {
        if name == "id" || name == "schemas" {
            return true;
        }
        match &self.include {
            Some(list) => list.iter().any(|(top, _)| *top == name),
            None => !self
                .exclude
                .iter()
                .any(|(top, sub)| *top == name && sub.is_none()),
        }
    }

    /// `doc` with only the attributes to return.
    pub fn apply(&self, doc: Value) -> Value {
        let Value::Object(map) = doc else {
            return doc;
        };
        let mut out = Map::new();
        for (key, value) in map {
            if !self.wants(&key) {
                continue;
            }
            let subs: Vec<&str> = match &self.include {
                Some(list) => {
                    if list.iter().any(|(top, sub)| *top == key && sub.is_none()) {
                        Vec::new()
                    } else {
                        list.iter()
                            .filter(|(top, _)| *top == key)
                            .filter_map(|(_, s)| *s)
                            .collect()
                    }
                }
                None => Vec::new(),
            };
            let dropped: Vec<&str> = self
                .exclude
                .iter()
                .filter(|(top, _)| *top == key)
                .filter_map(|(_, s)| *s)
                .collect();
            let keep =
                |sub: &str| (subs.is_empty() || subs.contains(&sub)) && !dropped.contains(&sub);
            let value = if subs.is_empty() && dropped.is_empty() {
                value
            } else {
                only(value, &keep)
            };
            out.insert(key, value);
        }
        Value::Object(out)
    }
}

/// `value` (a complex value or a list of them) with the sub-attributes `keep` accepts.
fn only(value: Value, keep: &dyn Fn(&str) -> bool) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.into_iter().filter(|(k, _)| keep(k)).collect()),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| only(v, keep)).collect()),
        other => other,
    }
}

/// The attributes a list names: each item may hold several, comma-separated.
fn named<S: AsRef<str>>(
    resource: Resource,
    items: &[S],
    param: &str,
    lenient: bool,
) -> Result<Vec<Named>, ScimError> {
    let mut out = Vec::new();
    for item in items {
        for name in item
            .as_ref()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let stripped = resource.strip_urn(name);
            let mut parts = stripped.splitn(2, '.');
            let top = parts.next().unwrap_or("");
            let unknown = || {
                ScimError::invalid_value(format!(
                    "{param}: {name:?} is not an attribute of {}",
                    resource.name()
                ))
            };
            let found = resource.attr(top).and_then(|attr| match parts.next() {
                None => Some((attr.name, None)),
                Some(sub) => attr.sub_attr(sub).map(|s| (attr.name, Some(s.name))),
            });
            match found {
                Some(named) => out.push(named),
                None if lenient => {}
                None => return Err(unknown()),
            }
        }
    }
    Ok(out)
}
