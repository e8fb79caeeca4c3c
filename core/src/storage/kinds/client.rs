//! How app-clients are kept: their record table, their unique key (the
//! public client id) and their `Entity` binding.

use crate::documents::client::ClientRecord;
use crate::storage::entity::{Entity, UniqueKey};
use crate::storage::keys::Key;
use crate::storage::schema::{CLIENT_CLIENT_ID, CLIENTS, RecordTable};
use crate::{Client, EntityKind};

/// The unique key of a public client id.
pub(crate) fn client_id_key(client_id: &str) -> Key {
    Key::new().str(client_id)
}

impl Entity for Client {
    const KIND: EntityKind = EntityKind::Client;
    const TABLE: RecordTable = CLIENTS;
    type Record = ClientRecord;

    fn unique_keys(r: &ClientRecord) -> Vec<UniqueKey> {
        vec![UniqueKey::new(
            CLIENT_CLIENT_ID,
            "clientId",
            client_id_key(&r.client_id),
        )]
    }

    fn same_unique_keys(old: &ClientRecord, new: &ClientRecord) -> bool {
        old.client_id == new.client_id
    }
}
