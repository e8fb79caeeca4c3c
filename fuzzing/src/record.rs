//! The `record` target: the storage codec (a schema byte, then postcard)
//! decoding arbitrary bytes as a stored record, as a read of a damaged or
//! hostile file would (issue 12, points 3 and 5).
//!
//! The first byte chooses the kind (user, role, client, session, change-log
//! entry: its value modulo 5); the rest are the stored bytes. Properties:
//! - decoding gives a record or a `Storage` (undecodable) or
//!   `IncompatibleFormat` (unknown schema byte) error, never a panic or
//!   another error;
//! - what reads compute from a decoded record (index entries, the public
//!   document as JSON) never panics, and a user's, role's or client's
//!   document is made;
//! - a decoded record encodes back to the bytes it was read from, or, when
//!   those held overlong varints (which postcard reads as their value), to
//!   shorter bytes that read back to the same encoding; bytes after the
//!   record are refused (`Storage`), so damage cannot hide in bytes a
//!   rewrite would drop.

use rosterdb::internals::records::{self, RecordKind};

use crate::{ErrorKind, expect_error, population, violated};

/// Checks one input (see the module documentation).
pub fn run(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let kinds = RecordKind::ALL;
    let kind = match kinds.get(usize::from(selector).checked_rem(kinds.len()).unwrap_or(0)) {
        Some(&kind) => kind,
        None => return,
    };
    let decoded = match records::decode(kind, bytes, population::now()) {
        Ok(decoded) => decoded,
        Err(e) => {
            return expect_error(
                &e,
                &[ErrorKind::Storage, ErrorKind::IncompatibleFormat],
                &format!("decoding a {kind:?} record"),
            );
        }
    };
    if let Some(Err(e)) = &decoded.document {
        violated(format!("a decoded {kind:?} record makes no document: {e}"));
    }
    if decoded.reencoded == bytes {
        return;
    }
    // postcard reads an overlong varint (`0x80 0x00` for 0) as its value:
    // the only other encoding a record may have, and a longer one. Its
    // encoding must then be the canonical one, which reads back the same.
    let again = match records::decode(kind, &decoded.reencoded, population::now()) {
        Ok(again) => again.reencoded,
        Err(e) => violated(format!("a re-encoded {kind:?} record does not decode: {e}")),
    };
    if decoded.reencoded.len() >= bytes.len() || again != decoded.reencoded {
        violated(format!(
            "a {kind:?} record read from {bytes:?} encodes as {:?}, which reads back as {again:?}",
            decoded.reencoded
        ));
    }
}
