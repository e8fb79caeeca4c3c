//! Queries (RFC 7644 §3.4.2, §3.4.3): `filter`, `sortBy`, `sortOrder`,
//! `startIndex` and `count` from a query string or a `SearchRequest`
//! body, run as one rosterdb query, answered as a `ListResponse`.

use rosterdb::query::MAX_PAGE_SIZE;
use rosterdb::{Query, ReadOnly, View};
use serde_json::{Map, Value, json};

use crate::error::ScimError;
use crate::filter;
use crate::projection::Projection;
use crate::router::in_read;
use crate::schema::Resource;
use crate::translate::{self, Compiled};

/// The URN of a list response.
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The URN of a search request body.
pub const SEARCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// The page size of a query that names no `count`.
pub const DEFAULT_COUNT: usize = 100;

/// The parameters of a query.
#[derive(Debug, Default)]
pub(crate) struct ListParams {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

impl ListParams {
    /// From a query string's pairs (names compared case-insensitively;
    /// other names are left to the HTTP layer).
    pub fn from_query(pairs: &[(String, String)]) -> Result<ListParams, ScimError> {
        let mut out = ListParams::default();
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in pairs {
            let key = name.to_ascii_lowercase();
            let single = matches!(
                key.as_str(),
                "filter" | "sortby" | "sortorder" | "startindex" | "count"
            );
            if single {
                // Which of two values counts is ambiguous: neither does.
                if seen.contains(&key) {
                    return Err(ScimError::invalid_value(format!(
                        "{name} is given more than once"
                    )));
                }
                seen.push(key.clone());
            }
            let number = || {
                value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer")))
            };
            match key.as_str() {
                "filter" => out.filter = Some(value.clone()),
                "sortby" => out.sort_by = Some(value.clone()),
                "sortorder" => out.sort_order = Some(value.clone()),
                "startindex" => out.start_index = Some(number()?),
                "count" => out.count = Some(number()?),
                "attributes" => out.attributes.push(value.clone()),
                "excludedattributes" => out.excluded.push(value.clone()),
                _ => {}
            }
        }
        Ok(out)
    }

    /// From a `SearchRequest` body (RFC 7644 §3.4.3).
    pub fn from_search(body: &Value) -> Result<ListParams, ScimError> {
        let Value::Object(map) = body else {
            return Err(ScimError::invalid_syntax(
                "a search request must be a JSON object",
            ));
        };
        let mut out = ListParams::default();
        for (name, value) in map {
            let bad = || ScimError::invalid_value(format!("{name} has the wrong type"));
            let string = || value.as_str().map(str::to_owned).ok_or_else(bad);
            let strings = || -> Result<Vec<String>, ScimError> {
                match value {
                    Value::Array(items) => items
                        .iter()
                        .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
                        .collect(),
                    Value::String(s) => Ok(vec![s.clone()]),
                    _ => Err(bad()),
                }
            };
            match name.to_ascii_lowercase().as_str() {
                "schemas" => {}
                "filter" => out.filter = Some(string()?),
                "sortby" => out.sort_by = Some(string()?),
                "sortorder" => out.sort_order = Some(string()?),
                "startindex" => out.start_index = Some(value.as_i64().ok_or_else(bad)?),
                "count" => out.count = Some(value.as_i64().ok_or_else(bad)?),
                "attributes" => out.attributes = strings()?,
                "excludedattributes" => out.excluded = strings()?,
                _ => {
                    return Err(ScimError::invalid_value(format!(
                        "{name:?} is not a search request attribute"
                    )));
                }
            }
        }
        Ok(out)
    }

    pub fn projection(&self, resource: Resource) -> Result<Projection, ScimError> {
        Projection::new(resource, &self.attributes, &self.excluded, false)
    }
}

/// Lists one page of a resource type: see [`Lister::page`].
pub(crate) type PageFn = fn(
    &View<'_, ReadOnly>,
    &Query,
    &Projection,
    &str,
    &dyn Fn(rosterdb::Error) -> ScimError,
) -> Result<(Vec<Value>, u64), ScimError>;

/// How one resource type is listed.
pub(crate) struct Lister {
    pub resource: Resource,
    /// How many records match a query.
    pub count: fn(&View<'_, ReadOnly>, &Query) -> Result<u64, rosterdb::Error>,
    /// The page a query selects (it asks for the total), each record
    /// rendered with the projection and the base URL; and the total.
    /// The last argument maps the query's rosterdb errors.
    pub page: PageFn,
}

/// One resource type's part of a search: its query and projection.
struct Part<'l> {
    lister: &'l Lister,
    query: Query,
    compiled: Option<Compiled>,
    projection: Projection,
}

impl Part<'_> {
    fn map_error(&self, e: rosterdb::Error) -> ScimError {
        match &self.compiled {
            Some(c) => c.map_error(e, self.lister.resource),
            None => ScimError::from_store(e, self.lister.resource),
        }
    }
}

/// The query of `params` on one resource type.
fn part<'l>(lister: &'l Lister, params: &ListParams, lenient: bool) -> Result<Part<'l>, ScimError> {
    let resource = lister.resource;
    let strip = |p: &str| resource.strip_urn(p).to_owned();
    let (mut query, compiled) = match params.filter.as_deref().map(str::trim) {
        None | Some("") => (Query::all(), None),
        Some(text) => {
            let tree = filter::parse(text, &strip)?;
            let compiled = translate::compile(&tree, resource)?;
            let query =
                Query::parse(&compiled.expr).map_err(|e| compiled.map_error(e, resource))?;
            (query, Some(compiled))
        }
    };
    let descending = match params
        .sort_order
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("ascending") => false,
        Some("descending") => true,
        Some(_) => {
            return Err(ScimError::invalid_value(
                "sortOrder must be ascending or descending",
            ));
        }
    };
    if let Some(sort_by) = &params.sort_by {
        let field = translate::sort_field(resource, sort_by)?;
        let order = if descending { "desc" } else { "asc" };
        query = query.sort(&format!("{field}:{order}"));
    }
    let projection = Projection::new(resource, &params.attributes, &params.excluded, lenient)?;
    Ok(Part {
        lister,
        query,
        compiled,
        projection,
    })
}

/// Runs `params` over the resource types of `listers`, in one snapshot
/// of `view`, as a `ListResponse`. Over several types (a search at the
/// root, RFC 7644 §3.4.3) the results of each type follow those of the
/// one before; a type that the filter or the attributes do not apply to
/// is left out (an error when none applies), and `sortBy` is refused.
pub(crate) fn search(
    view: &View<'_>,
    listers: &[&Lister],
    params: &ListParams,
    base_url: &str,
) -> Result<Value, ScimError> {
    let several = listers.len() > 1;
    if several && params.sort_by.is_some() {
        return Err(ScimError::invalid_value(
            "sortBy is not supported when searching several resource types",
        ));
    }
    if several {
        known_somewhere(listers, &params.attributes, "attributes")?;
        known_somewhere(listers, &params.excluded, "excludedAttributes")?;
    }
    let mut parts = Vec::new();
    let mut first_error = None;
    for lister in listers {
        match part(lister, params, false) {
            Ok(part) => parts.push(part),
            Err(e) if several => {
                first_error.get_or_insert(e);
                // Attributes another type has are no error for this one.
                if let Ok(part) = part_lenient(lister, params) {
                    parts.push(part);
                }
            }
            Err(e) => return Err(e),
        }
    }
    if parts.is_empty() {
        return Err(first_error.unwrap_or_else(|| ScimError::invalid_value("nothing to search")));
    }
    let start = params.start_index.unwrap_or(1).max(1);
    let wanted = params.count.unwrap_or(DEFAULT_COUNT as i64).max(0);
    let mut size = usize::try_from(wanted)
        .unwrap_or(MAX_PAGE_SIZE)
        .min(MAX_PAGE_SIZE);
    let mut skip = u64::try_from(start.saturating_sub(1)).unwrap_or(0);
    let (total, resources) = in_read(view, Resource::User, |r| {
        let mut total = 0_u64;
        let mut resources = Vec::new();
        for part in &parts {
            if size == 0 {
                let count = (part.lister.count)(r, &part.query).map_err(|e| part.map_error(e))?;
                total = total.saturating_add(count);
                continue;
            }
            let query = part.query.clone().offset(skip, size).with_total();
            let map_error = |e| part.map_error(e);
            let (items, matches) =
                (part.lister.page)(r, &query, &part.projection, base_url, &map_error)?;
            total = total.saturating_add(matches);
            skip = skip.saturating_sub(matches);
            size = size.saturating_sub(items.len());
            resources.extend(items);
        }
        Ok((total, resources))
    })?;
    let mut out = Map::new();
    out.insert("schemas".into(), json!([LIST_SCHEMA]));
    out.insert("totalResults".into(), json!(total));
    out.insert("startIndex".into(), json!(start));
    out.insert("itemsPerPage".into(), json!(resources.len()));
    out.insert("Resources".into(), Value::Array(resources));
    Ok(Value::Object(out))
}

/// `invalidValue` for a name in `lists` that no resource type of `listers` has.
fn known_somewhere(listers: &[&Lister], lists: &[String], param: &str) -> Result<(), ScimError> {
    let none: [&str; 0] = [];
    for name in lists.iter().flat_map(|l| l.split(',')).map(str::trim) {
        if !name.is_empty()
            && !listers
                .iter()
                .any(|l| Projection::new(l.resource, &[name], &none, false).is_ok())
        {
            return Err(ScimError::invalid_value(format!(
                "{param}: {name:?} is not an attribute of any resource type"
            )));
        }
    }
    Ok(())
}

/// The part of a type a filter or attribute list does not fully apply to:
/// attributes it lacks are dropped; a filter it cannot run leaves it out.
fn part_lenient<'l>(lister: &'l Lister, params: &ListParams) -> Result<Part<'l>, ScimError> {
    part(lister, params, true)
}
