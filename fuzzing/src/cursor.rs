//! The `cursor` target: page cursors (docs/reference/queries.md, "Results, paging and planning"),
//! opaque tokens that must continue exactly the query they came from or be refused.
//!
//! The first byte chooses the form of the rest: even, the token text as a
//! client would send it back; odd, the JSON body of a token, which the
//! target wraps as the encoder does (format byte, FNV-1a checksum,
//! base64url) so the fuzzer reaches the decoder's JSON reading past the
//! checksum. Properties:
//! - decoding gives a cursor or an `InvalidQuery` naming the field
//!   `cursor`, never another error;
//! - a decoded cursor encodes to a token that decodes to the same cursor,
//!   and encoding it again gives the same token;
//! - a query continued with the token lists, counts and explains on each
//!   collection of a small store with a result or an `InvalidQuery` (a
//!   token of another collection, a query that differs), never another
//!   error.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rosterdb::internals::Cursor;
use rosterdb::{Error, Query};

use crate::params::run_on;
use crate::{ErrorKind, expect_error, population, violated};

/// The token format the encoder writes (`query::cursor::VERSION`).
const FORMAT: u8 = 2;

/// FNV-1a over `bytes`, the token checksum.
pub fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A token holding `body` (a cursor's JSON) as the encoder wraps it.
pub fn wrap(body: &[u8]) -> String {
    let mut bytes = vec![FORMAT];
    bytes.extend_from_slice(body);
    let sum = checksum(&bytes);
    bytes.extend_from_slice(&sum.to_be_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Checks one input (see the module documentation).
pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let token = if mode % 2 == 0 {
        crate::text(rest).into_owned()
    } else {
        wrap(rest)
    };
    match Cursor::decode(&token) {
        Ok(cursor) => round_trip(&cursor),
        Err(e) => {
            expect_error(&e, &[ErrorKind::InvalidQuery], "Cursor::decode");
            if !matches!(&e, Error::InvalidQuery { field: Some(f), .. } if f == "cursor") {
                violated(format!("a refused cursor names another field: {e}"));
            }
            return;
        }
    }
    let query = match Query::all().cursor(&token).checked() {
        Ok(query) => query,
        Err(e) => return expect_error(&e, &[ErrorKind::InvalidQuery], "Query::cursor"),
    };
    let store = population::shared();
    run_on(&query, &store.users());
    run_on(&query, &store.roles());
    run_on(&query, &store.clients());
}

/// Panics unless `cursor` encodes to a token that decodes to it, stably.
fn round_trip(cursor: &Cursor) {
    let token = match cursor.encode() {
        Ok(token) => token,
        Err(e) => violated(format!("a decoded cursor does not encode: {e}")),
    };
    match Cursor::decode(&token) {
        Ok(again) if again == *cursor => {}
        other => violated(format!(
            "{cursor:?} encodes to {token:?}, which decodes to {other:?}"
        )),
    }
    match cursor.encode() {
        Ok(second) if second == token => {}
        other => violated(format!(
            "{cursor:?} encodes to {token:?}, then to {other:?}"
        )),
    }
}
