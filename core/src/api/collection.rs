//! Collection handles: the operations on users, roles and clients, through a
//! store (one transaction per call) or through a transaction.

use std::marker::PhantomData;

use crate::api::edit;
use crate::auth::credentials::{new_client_id, new_client_secret};
use crate::documents::caseless::fold;
use crate::documents::client::ClientRecord;
use crate::documents::header::Header;
use crate::documents::input::FromDocument;
use crate::documents::record::{Record, Stored};
use crate::documents::role::RoleRecord;
use crate::documents::rules::Problems;
use crate::documents::update::Change;
use crate::documents::user::UserRecord;
use crate::documents::validated::Validated;
use crate::query::bind::Bound;
use crate::query::physical::PhysicalPlan;
use crate::query::{Page, Query, exec, plan};
use crate::storage::codec;
use crate::storage::entity::{self, Editable, Entity, fetch_in, holders, load, next_id};
use crate::storage::kinds::client::client_id_key;
use crate::storage::kinds::user::{external_key, folded_key};
use crate::storage::schema::{CLIENT_CLIENT_ID, USER_EMAIL, USER_EXTERNAL_ID, USER_USERNAME};
use crate::storage::tx::{ReadContext, Tables, WriteContext, WriteTx};
use crate::{
    Client, CreatedClient, Error, NewClient, NewRole, NewUser, Result, Role, Timestamp, User,
};
use serde_json::Value;

/// A looked-up key as an error shows it: at most 100 characters, so that a
/// huge key makes no huge message.
fn shown(key: &str) -> String {
    match key.char_indices().nth(100) {
        Some((end, _)) => format!("{}…", &key[..end]),
        None => key.to_owned(),
    }
}

/// The records of one kind `E`, reached through `C`: a [`crate::Store`], a
/// [`crate::WriteTx`], a [`crate::ReadTx`] or a [`crate::View`] of one of them.
pub struct Collection<'a, C, E> {
    ctx: &'a C,
    kind: PhantomData<fn() -> E>,
}

impl<'a, C, E> Collection<'a, C, E> {
    pub(crate) fn new(ctx: &'a C) -> Self {
        Collection {
            ctx,
            kind: PhantomData,
        }
    }

    /// The store, transaction or view the collection works through.
    pub(crate) fn ctx(&self) -> &'a C {
        self.ctx
    }
}

impl<C: ReadContext, E: Entity> Collection<'_, C, E> {
    /// The record with this id, or `NotFound`.
    pub fn get(&self, id: u64) -> Result<E> {
        self.ctx.with_tables(|t| match self.read_document(t, id)? {
            Read::Visible(doc) => Ok(doc),
            Read::Missing | Read::Hidden => Err(Error::not_found(E::KIND, format!("id {id}"))),
        })
    }
}

impl<C: ReadContext, E: Entity> Collection<'_, C, E> {
    /// One page of the records matching `query`.
    pub fn list(&self, query: &Query) -> Result<Page<E>> {
        Ok(self.planned(self.bind(query)?, exec::page::<E>)?.0)
    }

    /// How many records match `query` (its paging is ignored).
    pub fn count(&self, query: &Query) -> Result<u64> {
        Ok(self.planned(self.bind(query)?, exec::count::<E>)?.0)
    }

    /// Whether any record matches `query` (its sort, paging and `withTotal`
    /// are ignored: the first match in id order is looked for).
    pub fn exists(&self, query: &Query) -> Result<bool> {
        Ok(self
            .planned(self.bind(query)?.first_match(), exec::exists::<E>)?
            .0)
    }

    /// The plan `list` and `count` run for `query`, as an indented
    /// operator tree read like a database's EXPLAIN, then how matches are
    /// counted (docs/queries.md). In a scoped view it tells nothing of
    /// other tenants.
    pub fn explain(&self, query: &Query) -> Result<String> {
        let bound = self.bind(query)?;
        Ok(self.ctx.with_tables(|t| plan::plan(t, &bound))?.to_string())
    }

    fn bind(&self, query: &Query) -> Result<Bound> {
        query.bind(E::KIND, self.ctx.scope())
    }

    /// Plans `bound` and runs `exec` on that plan, in one read of the
    /// tables; returns the result and the plan that ran.
    fn planned<T>(
        &self,
        bound: Bound,
        exec: impl FnOnce(&dyn Tables, &PhysicalPlan, Timestamp) -> Result<T>,
    ) -> Result<(T, PhysicalPlan)> {
        self.ctx.with_tables(|t| {
            let plan = plan::plan(t, &bound)?;
            let out = exec(t, &plan, self.ctx.now())?;
            Ok((out, plan))
        })
    }
}

/// The plan that ran, for the crate's tests (feature `internals`).
#[cfg(feature = "internals")]
impl<C: ReadContext, E: Entity> Collection<'_, C, E> {
    /// The plan of `query`: what [`explain`](Collection::explain) prints.
    pub fn plan(&self, query: &Query) -> Result<PhysicalPlan> {
        let bound = self.bind(query)?;
        self.ctx.with_tables(|t| plan::plan(t, &bound))
    }

    /// [`list`](Collection::list), and the plan it ran.
    pub fn list_with_plan(&self, query: &Query) -> Result<(Page<E>, PhysicalPlan)> {
        self.planned(self.bind(query)?, exec::page::<E>)
    }

    /// [`count`](Collection::count), and the plan it ran.
    pub fn count_with_plan(&self, query: &Query) -> Result<(u64, PhysicalPlan)> {
        self.planned(self.bind(query)?, exec::count::<E>)
    }

    /// [`exists`](Collection::exists), and the plan it ran: the plan of
    /// `query` without sort, paged to one item from the first, without total.
    pub fn exists_with_plan(&self, query: &Query) -> Result<(bool, PhysicalPlan)> {
        self.planned(self.bind(query)?.first_match(), exec::exists::<E>)
    }
}

impl<C: WriteContext, E: Editable> Collection<'_, C, E>
where
    E::Record: PartialEq,
{
    /// Applies an RFC 6902 JSON Patch (an array of operations) to the
    /// record's document: all operations or none. Operations on read-only
    /// fields fail (a `test` may read them); `add`/`replace` of `/password`
    /// sets the password. With `expected_version`, a record of another
    /// version is `VersionConflict` and nothing changes.
    pub fn patch(&self, id: u64, ops: &Value, expected_version: Option<u64>) -> Result<E> {
        self.update(id, Change::Patch(ops), expected_version)
    }

    /// Applies an RFC 7396 merge patch: `null` removes an optional field.
    pub fn merge(&self, id: u64, partial: &Value, expected_version: Option<u64>) -> Result<E> {
        self.update(id, Change::Merge(partial), expected_version)
    }

    /// Replaces the writable fields (PUT): absent optional fields are
    /// cleared; the tenant and the password are kept unless given.
    pub fn replace(&self, id: u64, doc: &Value, expected_version: Option<u64>) -> Result<E> {
        self.update(id, Change::Replace(doc), expected_version)
    }

    /// Applies `change` to the record `id` in one write, checking
    /// `expected_version` when given.
    fn update(&self, id: u64, change: Change<'_>, expected_version: Option<u64>) -> Result<E> {
        self.ctx
            .with_write(|tx| edit::update::<E>(tx, id, change, expected_version, self.ctx.scope()))
    }
}

impl<C: WriteContext, E: Entity> Collection<'_, C, E> {
    /// Checks the input of a create: the tenant a scoped view gives it
    /// (`tenant` of `new`), then `validate`; `Validation` lists every
    /// field that fails of both.
    fn check_new<N>(
        &self,
        new: &mut N,
        tenant: fn(&mut N) -> &mut Option<String>,
        validate: fn(&N) -> Result<()>,
    ) -> Result<()> {
        let tenant = self.create_tenant(tenant(new));
        checked_create(tenant, || validate(new))
    }

    /// Stores the record `make` builds from its header (the next id of the
    /// kind, created now) in one write, returning its document.
    fn insert_new(&self, mut make: impl FnMut(Header) -> E::Record + Send) -> Result<E> {
        self.ctx.with_write(|tx| {
            let now = tx.now();
            let record = make(Header::new(next_id::<E>(tx)?, now));
            entity::insert::<E>(tx, &record, now)?;
            E::into_document(record, now)
        })
    }

    /// Deletes a record of a kind no other record refers to, returning its last document.
    fn delete_record(&self, id: u64) -> Result<E> {
        self.ctx.with_write(|tx| {
            let record = fetch_in::<E>(&tx.txn, id, self.ctx.scope())?;
            let now = tx.now();
            entity::remove::<E>(tx, &record, now)?;
            E::into_document(record, now)
        })
    }
}

impl<C: ReadContext> Collection<'_, C, User> {
    /// The user with this username (case-insensitively) in `tenant`
    /// (`None`: users without a tenant).
    pub fn get_by_username(&self, username: &str, tenant: Option<&str>) -> Result<User> {
        let tenant = self.tenant(tenant)?;
        let key = folded_key(tenant, username);
        let holds = |user: &User| same_text(tenant, username, user, &user.username);
        self.get_unique(USER_USERNAME, &key, holds, || {
            format!("username {:?}", shown(username))
        })
    }

    /// The user with this email (case-insensitively) in `tenant`.
    pub fn get_by_email(&self, email: &str, tenant: Option<&str>) -> Result<User> {
        let tenant = self.tenant(tenant)?;
        let key = folded_key(tenant, email);
        let holds = |user: &User| same_text(tenant, email, user, &user.email);
        self.get_unique(USER_EMAIL, &key, holds, || {
            format!("email {:?}", shown(email))
        })
    }

    /// The user with this external id in `tenant`.
    pub fn get_by_external_id(
        &self,
        kind: &str,
        value: &str,
        tenant: Option<&str>,
    ) -> Result<User> {
        let key = external_key(self.tenant(tenant)?, kind, value);
        // A whole index: its record holds the key (never called).
        let holds = |_: &User| true;
        self.get_unique(USER_EXTERNAL_ID, &key, holds, || {
            format!("external id {:?}/{:?}", shown(kind), shown(value))
        })
    }
}

/// Whether `user` (of a hashed index's candidates) is the user of
/// `tenant` whose username or e-mail, `stored`, is `asked` caselessly: the
/// same text at once, else the same folded text (docs/reference/documents.md,
/// Caseless matching).
fn same_text(tenant: Option<&str>, asked: &str, user: &User, stored: &str) -> bool {
    user.tenant.as_deref() == tenant && (stored == asked || fold(stored) == fold(asked))
}

impl<C: ReadContext, E: Entity> Collection<'_, C, E> {
    /// The tenant a lookup names: in a scoped view, always the view's.
    /// `NotFound` for a given tenant no record can have (such as `""`,
    /// which must not find the records without a tenant).
    fn tenant<'t>(&'t self, given: Option<&'t str>) -> Result<Option<&'t str>> {
        crate::auth::login::named_tenant(self.ctx.scope(), given)
            .map_err(|()| Error::not_found(E::KIND, format!("tenant {:?}", given.unwrap_or(""))))
    }

    /// Reads the input of a create from its JSON document as this view
    /// sees it: `Validation` naming, all at once (docs/reference/errors.md), every failing
    /// field of the document and, in a scoped view, a `tenant` other than
    /// the view's. What language bindings call before [`Collection::create`].
    pub fn input_from_json(&self, doc: &Value) -> Result<<E::Record as Record>::New> {
        input_in_scope(self.ctx.scope(), doc)
    }

    /// In a scoped view, the tenant a create must have: the view's, which
    /// `given` may repeat but not contradict.
    fn create_tenant(&self, given: &mut Option<String>) -> Result<()> {
        tenant_of_create(self.ctx.scope(), given)
    }

    /// The record `index` holds for `key`, as this view sees it; `holds`
    /// says whether a document holds the key, asked of a hashed index's
    /// candidates (`storage::unique`). `NotFound` naming `what()`.
    fn get_unique(
        &self,
        index: crate::storage::schema::UniqueTable,
        key: &crate::storage::keys::Key,
        holds: impl Fn(&E) -> bool,
        what: impl Fn() -> String,
    ) -> Result<E> {
        self.ctx.with_tables(|t| {
            let owners = t.unique(index, key.bytes())?;
            for id in owners.ids() {
                match self.read_document(t, id)? {
                    Read::Visible(doc) if owners.is_exact() || holds(&doc) => return Ok(doc),
                    // Another key of the same hash.
                    Read::Visible(_) => {}
                    Read::Missing if owners.is_exact() => {
                        return Err(Error::not_found(E::KIND, format!("id {id}")));
                    }
                    // Another tenant's record is as absent as one that
                    // never was: the same error, naming the key asked for,
                    // never the record's id (docs/reference/tenancy.md).
                    Read::Missing | Read::Hidden => {}
                }
            }
            Err(Error::not_found(E::KIND, what()))
        })
    }

    /// The document of the record `id`, decoded straight from its stored
    /// bytes (`Record::Stored`), as this collection's view sees it.
    ///
    /// Errors: `Storage` when the table cannot be read or the record is
    /// damaged; `IncompatibleFormat` for a record of an unknown schema.
    fn read_document(&self, t: &dyn Tables, id: u64) -> Result<Read<E>> {
        let mut read = Read::Missing;
        t.read_record(E::TABLE, id, &mut |bytes| {
            let stored: <E::Record as Record>::Stored<'_> = codec::decode_stored(bytes)?;
            let scope = self.ctx.scope();
            read = if scope.is_none() || stored.tenant() == scope {
                Read::Visible(stored.into_document(&|| self.ctx.now()))
            } else {
                Read::Hidden
            };
            Ok(())
        })?;
        Ok(read)
    }
}

/// A record read for its document.
enum Read<E> {
    /// No record has the id.
    Missing,
    /// The record belongs to a tenant the view does not see.
    Hidden,
    /// The record's document.
    Visible(E),
}

impl<C: ReadContext> Collection<'_, C, Client> {
    /// The client with this public client id.
    pub fn get_by_client_id(&self, client_id: &str) -> Result<Client> {
        let key = client_id_key(client_id);
        // A whole index: its record holds the key (never called).
        let holds = |_: &Client| true;
        self.get_unique(CLIENT_CLIENT_ID, &key, holds, || {
            format!("clientId {:?}", shown(client_id))
        })
    }
}

impl<C: WriteContext> Collection<'_, C, User> {
    /// Creates a user. Its password, if any, is stored only as an Argon2id hash.
    pub fn create(&self, new: NewUser) -> Result<User> {
        let mut new = new;
        self.check_new(&mut new, |n| &mut n.tenant, NewUser::validate)?;
        let password_hash = match (new.password.take(), new.password_hash.take()) {
            (Some(password), _) => Some(crate::auth::credentials::hash_password(
                &self.ctx.options().argon2,
                &password,
            )?),
            (None, imported) => imported,
        };
        self.insert_new(|header| UserRecord::create(new.clone(), header, password_hash.clone()))
    }

    /// Creates users in one write, all or none, and returns their ids in
    /// input order: what a bulk import calls instead of one
    /// [`create`](Self::create) per user. Each input is checked as
    /// `create` checks it, then the users get consecutive ids in input
    /// order and are checked in that order as `create` would check them
    /// one after the other (their unique keys against the store and each
    /// other, their roles); the first that fails is the error, and nothing
    /// is written: `Validation` naming the fields inside the item
    /// (`users[3].email`, see [`Error::in_item`]) when an input breaks a
    /// field rule, `Conflict` when a unique key is taken, `Validation` on
    /// `roles` when a role does not exist.
    pub fn create_many(&self, users: Vec<NewUser>) -> Result<Vec<u64>> {
        self.create_users(users, false)
    }

    /// [`create_many`](Self::create_many) of inputs whose field rules
    /// were checked when they were made ([`NewUser::validated`],
    /// [`NewUser::validated_from_json`]): the same errors, in the same
    /// order, without checking those rules again. What a binding that
    /// reads its documents into inputs ahead of the write calls.
    pub fn create_many_validated(&self, users: Vec<Validated<NewUser>>) -> Result<Vec<u64>> {
        // A `Validated` holds its input alone: this takes no copy.
        let users = users.into_iter().map(Validated::into_input).collect();
        self.create_users(users, true)
    }

    /// The bulk create of `users`, whose field rules are checked here
    /// unless they are `validated` already.
    fn create_users(&self, users: Vec<NewUser>, validated: bool) -> Result<Vec<u64>> {
        let mut records = self.prepared_users(users, validated)?;
        let ids = self.ctx.with_write(|tx| {
            let now = tx.now();
            let first = next_id::<User>(tx)?;
            let count = u64::try_from(records.len()).unwrap_or(u64::MAX);
            let last = first
                .checked_add(count.saturating_sub(1))
                .filter(|&id| id <= crate::documents::rules::MAX_SAFE_INTEGER)
                .ok_or_else(|| {
                    Error::invalid(
                        "id",
                        crate::ValidationCode::LimitReached,
                        "user ids are exhausted (the last is 2^53 - 1)",
                    )
                })?;
            for (id, record) in (first..=last).zip(records.iter_mut()) {
                record.header.id = id;
                record.header.created_at = now;
                record.header.updated_at = now;
            }
            entity::insert_many::<User>(tx, &records, now)?;
            Ok(records.iter().map(|r| r.header.id).collect())
        });
        free_aside(records);
        ids
    }

    /// The records of the inputs of a bulk create, each checked as
    /// [`create`](Self::create) checks it (the first failing input, in
    /// input order, is the error; of inputs `validated` already, only
    /// the tenant the view gives); their headers are set by the write.
    /// The inputs of a large batch are checked, and their passwords
    /// hashed, in two halves, the second on another thread; that thread
    /// only reads them (it frees nothing this one allocated, which would
    /// contend for the allocator's lock: making each half's records on
    /// its thread, which frees the inputs' attribute maps there, took a
    /// 10,000-user import from 5.6 to 6.5 µs a user under the C library's
    /// `malloc` in round 25, ten alternated pairs).
    fn prepared_users(&self, users: Vec<NewUser>, validated: bool) -> Result<Vec<UserRecord>> {
        let scope = self.ctx.scope();
        let argon2 = &self.ctx.options().argon2;
        let mut users = users;
        if let Some(scope) = scope {
            // The view's tenant, given to each input that names none (one
            // naming another is refused by its check below).
            for new in users.iter_mut().filter(|n| n.tenant.is_none()) {
                new.tenant = Some(scope.to_owned());
            }
        }
        let check = |from: usize, users: &[NewUser]| -> Result<Vec<Option<String>>> {
            let mut hashes = Vec::with_capacity(users.len());
            for (at, new) in users.iter().enumerate() {
                let hash = checked_input(new, scope, argon2, validated)
                    .map_err(|e| e.in_item("users", from.saturating_add(at)))?;
                hashes.push(hash);
            }
            Ok(hashes)
        };
        // Validated inputs without passwords leave a tenant comparison
        // each: no work for a second thread.
        let parallel = users.len() >= PARALLEL_INPUTS
            && (!validated || users.iter().any(|new| new.password.is_some()))
            && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
        let hashes = if parallel {
            let (head, tail) = users.split_at(users.len() / 2);
            std::thread::scope(|threads| {
                let worker = std::thread::Builder::new()
                    .name("rosterdb-inputs".into())
                    .spawn_scoped(threads, || check(head.len(), tail))
                    .ok();
                let first = check(0, head);
                let second = match worker {
                    Some(worker) => worker
                        .join()
                        .map_err(|_| Error::internal("the thread checking inputs failed"))
                        .and_then(|r| r),
                    None => check(head.len(), tail),
                };
                let mut hashes = first?;
                hashes.extend(second?);
                Ok::<_, Error>(hashes)
            })?
        } else {
            check(0, &users)?
        };
        let records = users
            .into_iter()
            .zip(hashes)
            .map(|(mut new, hashed)| {
                let password_hash = match (new.password.take(), new.password_hash.take()) {
                    (Some(_), _) => hashed,
                    (None, imported) => imported,
                };
                // The header is set once the write knows the ids and the time.
                let header = Header::new(0, Timestamp::clamped(0));
                UserRecord::create(new, header, password_hash)
            })
            .collect();
        Ok(records)
    }

    /// Deletes a user, returning its last document.
    pub fn delete(&self, id: u64) -> Result<User> {
        self.delete_record(id)
    }
}

/// Records of a bulk create from which they are freed on another thread.
const FREED_ASIDE: usize = 1024;

/// Frees `items`: a batch of [`FREED_ASIDE`] or more on a thread of its
/// own (some 10% of a bulk create's time is the freeing of its records'
/// many small allocations), so the call returns without waiting for it;
/// a smaller batch, or one whose thread cannot start, here.
fn free_aside<T: Send + 'static>(items: Vec<T>) {
    if items.len() < FREED_ASIDE {
        return;
    }
    // A thread that cannot start drops its closure, and the items, here.
    let _ = std::thread::Builder::new()
        .name("rosterdb-free".into())
        .spawn(move || drop(items));
}

/// Inputs of a bulk create from which they are checked on two threads.
const PARALLEL_INPUTS: usize = 512;

/// Checks one input of a bulk create as [`Collection::create`] checks
/// it, its tenant already the one a view scoped to `scope` gives it
/// (`Validation` on `tenant` when it names another, with every failing
/// field of the input, unless the input is `validated` already); then
/// hashes its password, if it has one, with `argon2`.
fn checked_input(
    new: &NewUser,
    scope: Option<&str>,
    argon2: &crate::settings::Argon2Params,
    validated: bool,
) -> Result<Option<String>> {
    let tenant = tenant_named(scope, new.tenant.as_deref());
    if validated {
        tenant?;
    } else {
        checked_create(tenant, || new.validate())?;
    }
    new.password
        .as_ref()
        .map(|password| crate::auth::credentials::hash_password(argon2, password))
        .transpose()
}

/// The outcome of a create's checks: the check of its `tenant`, then
/// its `fields` (every field rule); `Validation` listing the problems of
/// both, or the first error that is not a validation problem.
fn checked_create(tenant: Result<()>, fields: impl FnOnce() -> Result<()>) -> Result<()> {
    let mut problems = Problems::new();
    problems.absorb(tenant)?;
    problems.absorb(fields())?;
    problems.into_result()
}

/// Reads the input of a create from its JSON document as a view scoped
/// to `scope` (`None`: the whole store) reads it: `Validation` naming, all
/// at once, every failing field of the document and a `tenant` other than
/// `scope`. What [`Collection::input_from_json`] and the input forms'
/// `from_json_in` call.
pub(crate) fn input_in_scope<N: FromDocument>(scope: Option<&str>, doc: &Value) -> Result<N> {
    read_in_scope(tenant_in_scope(scope, doc), || N::from_document(doc))
}

/// [`input_in_scope`] of a document it consumes, moving its strings,
/// lists and objects into the input: what the input forms'
/// `validated_from_json` calls.
pub(crate) fn owned_input_in_scope<N: FromDocument>(scope: Option<&str>, doc: Value) -> Result<N> {
    read_in_scope(tenant_in_scope(scope, &doc), || N::from_owned_document(doc))
}

/// The check of the `tenant` a create's JSON document names, if it
/// names one as text, against a view scoped to `scope`.
fn tenant_in_scope(scope: Option<&str>, doc: &Value) -> Result<()> {
    match doc.get("tenant").and_then(Value::as_str) {
        Some(given) => tenant_named(scope, Some(given)),
        None => Ok(()),
    }
}

/// The input `read` reads, once `tenant` (its check against the view)
/// passed: `Validation` naming the problems of both at once.
fn read_in_scope<N>(tenant: Result<()>, read: impl FnOnce() -> Result<N>) -> Result<N> {
    let mut problems = Problems::new();
    problems.absorb(tenant)?;
    let new = problems.absorb(read())?;
    problems.into_result()?;
    new.ok_or_else(|| Error::internal("a refused document reported no field"))
}

/// In a view scoped to `scope`, the tenant a create must have: the
/// view's, which `given` may repeat but not contradict (`Validation` on
/// `tenant`).
fn tenant_of_create(scope: Option<&str>, given: &mut Option<String>) -> Result<()> {
    tenant_named(scope, given.as_deref())?;
    if let Some(scope) = scope {
        *given = Some(scope.to_owned());
    }
    Ok(())
}

/// `Validation` on `tenant` when a create in a view scoped to `scope`
/// names another tenant than the view's.
fn tenant_named(scope: Option<&str>, given: Option<&str>) -> Result<()> {
    match (scope, given) {
        (Some(scope), Some(given)) if given != scope => Err(Error::invalid(
            "tenant",
            crate::ValidationCode::TenantMismatch,
            "must be the tenant of the scoped view",
        )),
        _ => Ok(()),
    }
}

impl<C: WriteContext> Collection<'_, C, Role> {
    /// Creates a role.
    pub fn create(&self, new: NewRole) -> Result<Role> {
        let mut new = new;
        self.check_new(&mut new, |n| &mut n.tenant, NewRole::validate)?;
        self.insert_new(|header| RoleRecord::create(new.clone(), header))
    }

    /// Deletes a role, returning its last document.
    ///
    /// While users or clients hold the role this fails with `InUse`, unless
    /// `cascade` is true: then the role is removed from every holder (an
    /// update of each) in the same transaction.
    pub fn delete(&self, id: u64, cascade: bool) -> Result<Role> {
        self.ctx.with_write(|tx| {
            let role = fetch_in::<Role>(&tx.txn, id, self.ctx.scope())?;
            let users = holders::<User>(tx, id)?;
            let clients = holders::<Client>(tx, id)?;
            let count = users.len().saturating_add(clients.len()) as u64;
            if count > 0 && !cascade {
                return Err(Error::InUse { id, count });
            }
            let now = tx.now();
            drop_role_from::<User>(tx, &users, id, now)?;
            drop_role_from::<Client>(tx, &clients, id, now)?;
            entity::remove::<Role>(tx, &role, now)?;
            Role::document(&role, now)
        })
    }
}

/// Removes `role` from each holder, as an update of each.
fn drop_role_from<E: Entity>(tx: &WriteTx, ids: &[u64], role: u64, now: Timestamp) -> Result<()> {
    for &id in ids {
        let Some(old) = load::<E>(&tx.txn, id)? else {
            return Err(Error::internal(format!(
                "index names missing {} {id}",
                E::KIND
            )));
        };
        let mut new = old.clone();
        if E::drop_role(&mut new, role) {
            E::touch(&mut new, now);
            entity::update::<E>(tx, &old, &new, now)?;
        }
    }
    Ok(())
}

impl<C: WriteContext> Collection<'_, C, Client> {
    /// Creates a client with a generated client id and secret. The secret is
    /// returned only here and stored only as an Argon2id hash.
    pub fn create(&self, new: NewClient) -> Result<CreatedClient> {
        let mut new = new;
        self.check_new(&mut new, |n| &mut n.tenant, NewClient::validate)?;
        let secret = new_client_secret()?;
        let secret_hash = self.ctx.options().argon2.hash(&secret)?;
        let client_id = new_client_id()?;
        let client = self.insert_new(|header| {
            ClientRecord::create(new.clone(), header, client_id.clone(), secret_hash.clone())
        })?;
        Ok(CreatedClient { client, secret })
    }

    /// Deletes a client, returning its last document.
    pub fn delete(&self, id: u64) -> Result<Client> {
        self.delete_record(id)
    }
}
