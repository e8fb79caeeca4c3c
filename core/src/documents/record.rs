//! What a stored record is to the layers above: its header, the document it
//! shows, the input form it is made from and rebuilt by an update, and the
//! facts about it that writes and logins read (roles held, whether it may
//! log in, its credential). Storage binds each kind to its tables
//! (`storage::entity::Entity`).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::documents::header::Header;
use crate::documents::input::FromDocument;
use crate::documents::values::Queryable;
use crate::{Secret, Timestamp};

/// The stored form of a kind of record.
#[doc(hidden)]
pub trait Record: Serialize + DeserializeOwned + Clone + Queryable {
    /// The public document of the kind.
    type Document: Serialize;
    /// The input form of the kind.
    type New: FromDocument;
    /// What a read decodes from the record's stored bytes to show its
    /// document (see [`Stored`]): the record itself, or a lighter form of
    /// it, read from the same bytes in the same way. Queries check it as
    /// they check the record: every field reads the same value, but a
    /// lighter form may not answer [`Queryable::attributes`] (then `None`).
    type Stored<'a>: Decode<'a> + Stored<Self::Document> + Queryable;

    /// The record's header: id, tenant, timestamps and version.
    fn header(&self) -> &Header;
    /// The record's header, to change.
    fn header_mut(&mut self) -> &mut Header;

    /// The role ids the record holds.
    fn held_roles(&self) -> &[u64] {
        &[]
    }
    /// The role ids the record holds, to change; `None` for a kind that holds none.
    fn roles_mut(&mut self) -> Option<&mut Vec<u64>> {
        None
    }
    /// Whether the record may log in (users and clients).
    fn enabled(&self) -> bool {
        true
    }
    /// The stored credential hash, whose change ends the record's sessions.
    fn credential(&self) -> Option<&str> {
        None
    }

    /// The public document of the record, as seen at `now`.
    fn document(&self, now: Timestamp) -> Self::Document;

    /// The same document as [`Record::document`], made by moving the
    /// record's strings and lists into it instead of copying them (for
    /// reads that have no further use for the record).
    fn into_document(self, now: Timestamp) -> Self::Document {
        self.document(now)
    }

    /// Takes a new password (plaintext) out of an input, if it carries one.
    fn take_password(_new: &mut Self::New) -> Option<Secret> {
        None
    }

    /// The input form whose [`Record::rebuilt`] record is this one: its
    /// writable fields as its document shows them (what
    /// [`FromDocument::from_document`] reads back from it, read-only keys
    /// left out), no password; `None` for a kind whose updates always read
    /// the whole document.
    fn writable(&self) -> Option<Self::New> {
        None
    }

    /// The record this one becomes with the writable fields of `new`; the
    /// store's own fields (id, timestamps, version, secrets) are kept, and
    /// `password_hash`, when given, replaces the stored one.
    fn rebuilt(&self, new: Self::New, password_hash: Option<String>) -> Self;
}

/// How a record's stored form is read from a record's body (its bytes
/// after the schema byte).
#[doc(hidden)]
pub trait Decode<'a>: Sized {
    /// The value at the start of `body` and the bytes after it (postcard's
    /// `take_from_bytes`).
    fn take(body: &'a [u8]) -> postcard::Result<(Self, &'a [u8])>;
}

/// `Decode` for a record kind whose stored form is the record itself.
macro_rules! decode_whole {
    ($record:ty) => {
        impl<'a> $crate::documents::record::Decode<'a> for $record {
            fn take(body: &'a [u8]) -> postcard::Result<(Self, &'a [u8])> {
                postcard::take_from_bytes(body)
            }
        }
    };
}
pub(crate) use decode_whole;

/// A record as a read decodes it to show its document: whose tenant it
/// is, and the document it shows.
#[doc(hidden)]
pub trait Stored<D> {
    /// The record's id.
    fn id(&self) -> u64;
    /// The tenant the record belongs to.
    fn tenant(&self) -> Option<&str>;
    /// The record's public document, as seen at the time `now` reads
    /// (called only when the document depends on it, at most once).
    fn into_document(self, now: &dyn Fn() -> Timestamp) -> D;
}

impl<R: Record> Stored<R::Document> for R {
    fn id(&self) -> u64 {
        self.header().id
    }

    fn tenant(&self) -> Option<&str> {
        self.header().tenant.as_deref()
    }

    fn into_document(self, now: &dyn Fn() -> Timestamp) -> R::Document {
        Record::into_document(self, now())
    }
}

/// The accessors of [`Record`] for a record whose header is its `header`
/// field; with `roles`, also those of its `roles` and `enabled` fields.
macro_rules! record_fields {
    (header) => {
        fn header(&self) -> &$crate::documents::header::Header {
            &self.header
        }

        fn header_mut(&mut self) -> &mut $crate::documents::header::Header {
            &mut self.header
        }
    };
    (header, roles, enabled) => {
        $crate::documents::record::record_fields!(header);

        fn held_roles(&self) -> &[u64] {
            &self.roles
        }

        fn roles_mut(&mut self) -> Option<&mut Vec<u64>> {
            Some(&mut self.roles)
        }

        fn enabled(&self) -> bool {
            self.enabled
        }
    };
}
pub(crate) use record_fields;
