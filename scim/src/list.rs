//! Queries (RFC 7644 §3.4.2, §3.4.3): `filter`, `sortBy`, `sortOrder`,
//! `startIndex` and `count` from a query string or a `SearchRequest`
//! body, run as one rosterdb query, answered as a `ListResponse`.

use rosterdb::Query;
use rosterdb::query::MAX_PAGE_SIZE;
use serde_json::{Map, Value, json};

use crate::error::ScimError;
use crate::filter;
use crate::projection::Projection;
use crate::schema::Resource;
use crate::translate;

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
        for (name, value) in pairs {
            let number = || {
                value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer")))
            };
            match name.to_ascii_lowercase().as_str() {
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
        Projection::new(resource, &self.attributes, &self.excluded)
    }
}

/// Runs `params` on `resource` with `list` and `count`; `render` turns
/// each match into its SCIM resource.
pub(crate) fn run<E>(
    resource: Resource,
    params: &ListParams,
    list: &dyn Fn(&Query) -> Result<rosterdb::Page<E>, rosterdb::Error>,
    count: &dyn Fn(&Query) -> Result<u64, rosterdb::Error>,
    render: &mut dyn FnMut(&E) -> Result<Value, ScimError>,
) -> Result<Value, ScimError> {
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
    let map_error = |e: rosterdb::Error| match &compiled {
        Some(c) => c.map_error(e, resource),
        None => ScimError::from_store(e, resource),
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
    let start = params.start_index.unwrap_or(1).max(1);
    let wanted = params.count.unwrap_or(DEFAULT_COUNT as i64).max(0);
    let size = usize::try_from(wanted)
        .unwrap_or(MAX_PAGE_SIZE)
        .min(MAX_PAGE_SIZE);
    let offset = u64::try_from(start.saturating_sub(1)).unwrap_or(0);
    let mut out = Map::new();
    out.insert("schemas".into(), json!([LIST_SCHEMA]));
    let resources = if size == 0 {
        let total = count(&query).map_err(map_error)?;
        out.insert("totalResults".into(), json!(total));
        Vec::new()
    } else {
        let page = list(&query.offset(offset, size).with_total()).map_err(map_error)?;
        out.insert("totalResults".into(), json!(page.total.unwrap_or(0)));
        page.items
            .iter()
            .map(&mut *render)
            .collect::<Result<Vec<_>, _>>()?
    };
    out.insert("startIndex".into(), json!(start));
    out.insert("itemsPerPage".into(), json!(resources.len()));
    out.insert("Resources".into(), Value::Array(resources));
    Ok(Value::Object(out))
}
