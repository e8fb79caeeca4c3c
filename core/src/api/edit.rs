//! The write of an update (docs/reference/updates.md): the record a patch, merge or replace
//! makes, checked against the expected version, stored with its index
//! entries (nothing when nothing changes), ending the record's sessions
//! when its credential changes.

use crate::auth::credentials::hash_password;
use crate::documents::update::{Change, changed_record, too_deep};
use crate::storage::entity::{self, Editable, fetch_in};
use crate::storage::sessions;
use crate::{Error, Result, WriteTx};

/// Applies an update to record `id` in `tx` and returns the resulting document.
pub(crate) fn update<E: Editable>(
    tx: &WriteTx,
    id: u64,
    change: Change<'_>,
    expected_version: Option<u64>,
    scope: Option<&str>,
) -> Result<E>
where
    E::Record: PartialEq,
{
    too_deep(change)?;
    let old = fetch_in::<E>(&tx.txn, id, scope)?;
    let actual = E::version(&old);
    if let Some(expected) = expected_version
        && expected != actual
    {
        return Err(Error::VersionConflict { expected, actual });
    }
    let now = tx.now();
    let mut new = changed_record::<E::Record>(&old, change, || E::document(&old, now))?;
    let password_hash = match E::take_password(&mut new) {
        Some(password) => Some(hash_password(&tx.options.argon2, &password)?),
        None => None,
    };
    let changed_password = password_hash.is_some();
    let mut record = E::rebuild(&old, new, password_hash);
    if record == old && !changed_password {
        return E::into_document(old, now);
    }
    E::touch(&mut record, now);
    entity::update::<E>(tx, &old, &record, now)?;
    if changed_password || E::credential(&old) != E::credential(&record) {
        // A new password (or an imported hash) ends the sessions the old one opened.
        sessions::revoke_all(tx, E::KIND, id)?;
    }
    E::into_document(record, now)
}
