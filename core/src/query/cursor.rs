//! Opaque, self-contained page cursors (docs/reference/queries.md, "Results, paging and planning").
//!
//! A cursor carries the whole query (so `list(cursor=c)` continues it), the
//! page size, the kind and tenant scope it belongs to, and the position of
//! the last item returned (its sort-key values and id: keyset paging, so a
//! walk never skips or repeats a record that stayed unchanged). It is JSON
//! with a checksum, base64url-encoded; a damaged or edited token is refused.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::ast::{Expr, FieldFilter, Path, SortKey};
use super::sort::{Position, SortValue};
use crate::documents::caseless::fold;
use crate::{EntityKind, Error, Result};

/// The parts of a query a cursor continues (everything but the paging).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryParts {
    /// The expression (`where`).
    pub filter: Option<Expr>,
    /// The field filters of the parameter form.
    pub field_filters: Vec<FieldFilter>,
    /// The search text.
    pub search: Option<String>,
    /// The sort keys.
    pub sort: Vec<SortKey>,
    /// The projection.
    pub fields: Option<Vec<Path>>,
    /// Whether totals are counted.
    pub with_total: bool,
}

/// What a cursor token holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The kind of record it pages through.
    pub kind: EntityKind,
    /// The tenant of the scoped view that made it (`None`: unscoped).
    pub scope: Option<String>,
    /// The query it continues.
    pub query: QueryParts,
    /// The page size.
    pub size: usize,
    /// The position of the last item returned.
    pub after: Position,
}

/// The token format: 2 since `where` and field filters are kept apart (so a
/// query sent again with the cursor can be compared part by part); a
/// version-1 token is refused like any token this store did not make.
const VERSION: u8 = 2;

fn checksum(bytes: &[u8]) -> u64 {
    // FNV-1a: detects damaged and edited tokens. A forged token gains
    // nothing: the query it names is checked and scoped like any other.
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Cursor {
    /// The opaque token.
    pub fn encode(&self) -> Result<String> {
        let mut bytes = vec![VERSION];
        serde_json::to_writer(&mut bytes, self)
            .map_err(|e| Error::internal(format!("a cursor as JSON: {e}")))?;
        let sum = checksum(&bytes);
        bytes.extend_from_slice(&sum.to_be_bytes());
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Reads a token, refusing anything this store did not make.
    pub fn decode(token: &str) -> Result<Cursor> {
        let bad = || {
            Error::query(
                crate::QueryCode::InvalidCursor,
                "the cursor is not valid (damaged, edited, or not a cursor)",
            )
            .for_field("cursor")
        };
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| bad())?;
        let split = bytes.len().checked_sub(8).ok_or_else(bad)?;
        let (body, sum) = bytes.split_at(split);
        if sum != checksum(body).to_be_bytes() || body.first() != Some(&VERSION) {
            return Err(bad());
        }
        let mut cursor: Cursor =
            serde_json::from_slice(body.get(1..).unwrap_or_default()).map_err(|_| bad())?;
        // The folded half of a string position is derived from the exact
        // half: recompute it, so a cursor made before `fold` changed (format
        // 2) continues where it stood rather than where the old form sorts.
        for value in &mut cursor.after.values {
            if let SortValue::Str(folded, exact) = value {
                *folded = fold(exact);
            }
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Cursor {
        Cursor {
            kind: EntityKind::User,
            scope: Some("acme".into()),
            query: QueryParts {
                search: Some("ann".into()),
                with_total: true,
                ..QueryParts::default()
            },
            size: 50,
            after: Position {
                values: vec![
                    SortValue::Str("zoë".into(), "Zoë".into()),
                    SortValue::Absent,
                ],
                id: 42,
            },
        }
    }

    #[test]
    fn round_trips() {
        let c = sample();
        assert_eq!(Cursor::decode(&c.encode().unwrap()).unwrap(), c);
    }

    #[test]
    fn string_positions_are_folded_again() {
        let mut c = sample();
        // As a release that folded with `to_lowercase` wrote it.
        c.after.values[0] = SortValue::Str("straße".into(), "Straße".into());
        let back = Cursor::decode(&c.encode().unwrap()).unwrap();
        assert_eq!(
            back.after.values[0],
            SortValue::Str("strasse".into(), "Straße".into())
        );
    }

    #[test]
    fn refuses_edited_and_foreign_tokens() {
        let token = sample().encode().unwrap();
        let mut chars: Vec<char> = token.chars().collect();
        chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
        let edited: String = chars.into_iter().collect();
        for bad in [edited.as_str(), "", "abc", "!!!", &token[..token.len() - 2]] {
            assert!(
                matches!(Cursor::decode(bad), Err(Error::InvalidQuery { field: Some(ref f), .. }) if f == "cursor"),
                "{bad}"
            );
        }
    }
}
