//! One page of results, and the page sizes a query may ask for.

use serde_json::{Map, Value};

use crate::{Error, Result};

/// The page size of a query that asks for none: 100 items.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// The largest page size a query may ask for: 1000 items (a larger
/// `pageSize` or `limit` is `InvalidQuery` naming it).
pub const MAX_PAGE_SIZE: usize = 1000;

/// One page of results.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<E> {
    /// The documents of the page, in order.
    pub items: Vec<E>,
    /// The number of all matches, when the query asked for it.
    pub total: Option<u64>,
    /// The token of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// The projection the query asked for (`id` always included).
    pub fields: Option<Vec<&'static str>>,
}

impl<E: serde::Serialize> Page<E> {
    /// The items as JSON documents, projected to the query's `fields`.
    ///
    /// Errors: `Storage` if an item cannot be serialized (it always can).
    pub fn items_json(&self) -> Result<Vec<Value>> {
        self.items
            .iter()
            .map(|item| {
                let value = serde_json::to_value(item)
                    .map_err(|e| Error::internal(format!("a document as JSON: {e}")))?;
                Ok(match (&self.fields, value) {
                    (Some(fields), Value::Object(map)) => Value::Object(
                        map.into_iter()
                            .filter(|(k, _)| fields.contains(&k.as_str()))
                            .collect::<Map<_, _>>(),
                    ),
                    (_, value) => value,
                })
            })
            .collect()
    }
}
