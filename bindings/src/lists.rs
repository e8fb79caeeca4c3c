//! The query calls that a store, a scoped view and a transaction share
//! (docs/reference/queries.md): one page as records or JSON, counts, existence, plans, and
//! walks over every match. Each is one call into the core, through
//! [`Calls`].

use std::sync::Arc;

use crate::calls::{Calls, out, to_json};
use crate::query::PageDoc;
use crate::{
    ClientPage, ClientWalk, EntityKind, ListQuery, RolePage, RoleWalk, RosterError, RosterStore,
    RosterTransaction, RosterWalk, UserPage, UserWalk,
};

/// Lists, counts, plans and walks, as methods of each `$ty` (which has
/// `fn target(&self) -> &impl Calls`). `@entity` declares a call on the
/// records of an `entity` named by the caller: the query read by the core,
/// then `$call` on the collection.
macro_rules! list_calls {
    ($($ty:ty),+) => {$(
        #[uniffi::export]
        impl $ty {
            /// One page of the users matching `query`, as records. A query with
            /// `fields` is `InvalidQuery` on `fields`: use `listJson` for a projection.
            #[uniffi::method(default(query))]
            pub fn list_users(&self, query: ListQuery) -> Result<UserPage, RosterError> {
                self.target().read(|c| out(c.users().list(&query.to_typed_query()?)))
            }

            /// One page of the roles matching `query`, as records (no `fields`).
            #[uniffi::method(default(query))]
            pub fn list_roles(&self, query: ListQuery) -> Result<RolePage, RosterError> {
                self.target().read(|c| out(c.roles().list(&query.to_typed_query()?)))
            }

            /// One page of the clients matching `query`, as records (no `fields`).
            #[uniffi::method(default(query))]
            pub fn list_clients(&self, query: ListQuery) -> Result<ClientPage, RosterError> {
                self.target().read(|c| out(c.clients().list(&query.to_typed_query()?)))
            }

            /// Every user matching `query`, one at a time: `next()` returns
            /// the next user, reading a page of `query`'s size (default 100)
            /// when needed and following its cursor, and `null`/`nil` after
            /// the last. A query that is malformed or has `fields` is
            /// `InvalidQuery` here (a closed store `Closed`); a query
            /// that fails when it runs (a field the collection lacks, a bad
            /// cursor) fails on `next()`. Outside a transaction each page is
            /// its own read of the last commit; inside one, pages see its writes.
            #[uniffi::method(default(query))]
            pub fn walk_users(&self, query: ListQuery) -> Result<Arc<UserWalk>, RosterError> {
                self.target()
                    .read(|_| Ok(UserWalk::new(self.target().source(), query.to_typed_query()?)))
            }

            /// Every role matching `query`, one at a time (as `walkUsers`).
            #[uniffi::method(default(query))]
            pub fn walk_roles(&self, query: ListQuery) -> Result<Arc<RoleWalk>, RosterError> {
                self.target()
                    .read(|_| Ok(RoleWalk::new(self.target().source(), query.to_typed_query()?)))
            }

            /// Every client matching `query`, one at a time (as `walkUsers`).
            #[uniffi::method(default(query))]
            pub fn walk_clients(&self, query: ListQuery) -> Result<Arc<ClientWalk>, RosterError> {
                self.target()
                    .read(|_| Ok(ClientWalk::new(self.target().source(), query.to_typed_query()?)))
            }

            /// Every record of `entity` matching `query`, one at a time, each
            /// as its JSON document (projected to `fields` when given), as
            /// `listJson` gives them; see `walkUsers`.
            #[uniffi::method(default(query))]
            pub fn walk_json(
                &self,
                entity: EntityKind,
                query: ListQuery,
            ) -> Result<Arc<RosterWalk>, RosterError> {
                self.target().read(|_| {
                    let query = query.to_query()?;
                    Ok(RosterWalk::new(self.target().source(), entity, query))
                })
            }
        }

        list_calls!(@entity $ty,
            /// One page of the records of `entity` matching `query`, as the JSON
            /// text `{"items": […], "total": n or null, "nextCursor": "…" or null}`;
            /// the items are the camelCase documents, projected to `fields` when given.
            fn list_json -> String = |c, query| to_json(&PageDoc::new(c.list(&query)?)?)?);

        list_calls!(@entity $ty,
            /// How many records of `entity` match `query` (its paging is ignored).
            fn count -> u64 = |c, query| c.count(&query)?);

        list_calls!(@entity $ty,
            /// Whether any record of `entity` matches `query`.
            fn exists -> bool = |c, query| c.exists(&query)?);

        list_calls!(@entity $ty,
            /// How `query` would run on the records of `entity`, as text: the
            /// index or scan that finds the candidates, the order, the checks left.
            fn explain -> String = |c, query| c.explain(&query)?);
    )+};
    (@entity $ty:ty, $(#[$attr:meta])* fn $name:ident -> $out:ty = |$c:ident, $query:ident| $call:expr) => {
        #[uniffi::export]
        impl $ty {
            $(#[$attr])*
            #[uniffi::method(default(query))]
            pub fn $name(&self, entity: EntityKind, query: ListQuery) -> Result<$out, RosterError> {
                self.target().read(|context| {
                    let $query = query.to_query()?;
                    Ok(with_collection!(context, entity, |$c| $call))
                })
            }
        }
    };
}

list_calls!(RosterStore, RosterTransaction);
