//! How app-clients are kept: their record table, their unique key (the
//! public client id) and their `Entity` binding.

use crate::documents::client::ClientRecord;
use crate::storage::entity::{Entity, UniqueKey};
use crate::storage::keys::Key;
use crate::storage::schema::{CLIENT_CLIENT_ID, CLIENTS};
use crate::{Client, EntityKind, Result, Timestamp};

/// The unique key of a public client id.
pub(crate) fn client_id_key(client_id: &str) -> Key {
    Key::new().str(client_id)
}

impl crate::storage::tx::sealed::Sealed for Client {}

impl Entity for Client {
    const KIND: EntityKind = EntityKind::Client;
    const TABLE: crate::storage::schema::RecordTable = CLIENTS;
    type Record = ClientRecord;

    fn header(r: &ClientRecord) -> &crate::documents::header::Header {
        &r.header
    }

    fn header_mut(r: &mut ClientRecord) -> &mut crate::documents::header::Header {
        &mut r.header
    }

    fn enabled(r: &ClientRecord) -> bool {
        r.enabled
    }

    fn held_roles(r: &ClientRecord) -> &[u64] {
        &r.roles
    }

    fn drop_role(r: &mut ClientRecord, role: u64) -> bool {
        let before = r.roles.len();
        r.roles.retain(|&id| id != role);
        r.roles.len() != before
    }

    fn unique_keys(r: &ClientRecord) -> Vec<UniqueKey> {
        vec![UniqueKey {
            table: CLIENT_CLIENT_ID,
            key: client_id_key(&r.client_id).into_bytes(),
            field: "clientId",
        }]
    }

    fn document(r: &ClientRecord, now: Timestamp) -> Result<Client> {
        Ok(r.document(now))
    }
}
