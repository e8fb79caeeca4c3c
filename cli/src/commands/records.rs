//! `users`, `roles` and `clients`: list, get, lookup, create, patch,
//! merge, replace and delete, through the store's own calls.

use std::path::Path;

use rosterdb::{Query, View, Walk};
use serde_json::{Value, json};

use crate::args::{
    ClientKey, ClientUpdate, ClientsCommand, Format, IdUpdate, ListArgs, RolesCommand, Update,
    UserKey, UserUpdate, UsersCommand,
};
use crate::exit::CliError;
use crate::input;
use crate::open::{self, Mode};
use crate::output::Out;

/// The kind of record a command works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Users.
    User,
    /// Roles.
    Role,
    /// App-clients.
    Client,
}

/// How a command names one record.
#[derive(Clone, Debug)]
pub enum Key {
    /// By id.
    Id(u64),
    /// A user by id when the text is a number, else by username, else by email.
    User(String),
    /// A user by username.
    Username(String),
    /// A user by email.
    Email(String),
    /// A client by id when the text is a number, else by client id.
    Client(String),
    /// A user by external identity (type, value).
    External(String, String),
}

/// How an update reads its input.
#[derive(Clone, Copy, Debug)]
pub enum UpdateKind {
    /// RFC 6902 JSON Patch.
    Patch,
    /// RFC 7396 JSON Merge Patch.
    Merge,
    /// Replacement of the writable fields.
    Replace,
}

/// What to do with records of one kind.
#[derive(Debug)]
pub enum Op {
    /// A page (or all pages, the count, the plan) of a query.
    List(ListArgs),
    /// One record.
    Get(Key),
    /// A new record from a document.
    Create(String),
    /// An update of one record.
    Update(UpdateKind, Key, Update),
    /// A deletion (`cascade` for roles).
    Delete(Key, bool),
}

impl From<UsersCommand> for Op {
    fn from(command: UsersCommand) -> Op {
        let update = |kind, u: UserUpdate| Op::Update(kind, Key::User(u.user), u.update);
        match command {
            UsersCommand::List(args) => Op::List(args),
            UsersCommand::Get(key) => Op::Get(user_key(&key)),
            UsersCommand::Lookup { kind, value } => Op::Get(Key::External(kind, value)),
            UsersCommand::Create(doc) => Op::Create(doc.doc),
            UsersCommand::Patch(u) => update(UpdateKind::Patch, u),
            UsersCommand::Merge(u) => update(UpdateKind::Merge, u),
            UsersCommand::Replace(u) => update(UpdateKind::Replace, u),
            UsersCommand::Delete(key) => Op::Delete(user_key(&key), false),
        }
    }
}

impl From<RolesCommand> for Op {
    fn from(command: RolesCommand) -> Op {
        let update = |kind, u: IdUpdate| Op::Update(kind, Key::Id(u.id), u.update);
        match command {
            RolesCommand::List(args) => Op::List(args),
            RolesCommand::Get(id) => Op::Get(Key::Id(id.id)),
            RolesCommand::Create(doc) => Op::Create(doc.doc),
            RolesCommand::Patch(u) => update(UpdateKind::Patch, u),
            RolesCommand::Merge(u) => update(UpdateKind::Merge, u),
            RolesCommand::Replace(u) => update(UpdateKind::Replace, u),
            RolesCommand::Delete { id, cascade } => Op::Delete(Key::Id(id), cascade),
        }
    }
}

impl From<ClientsCommand> for Op {
    fn from(command: ClientsCommand) -> Op {
        let update = |kind, u: ClientUpdate| Op::Update(kind, Key::Client(u.client), u.update);
        match command {
            ClientsCommand::List(args) => Op::List(args),
            ClientsCommand::Get(ClientKey { client }) => Op::Get(Key::Client(client)),
            ClientsCommand::Create(doc) => Op::Create(doc.doc),
            ClientsCommand::Patch(u) => update(UpdateKind::Patch, u),
            ClientsCommand::Merge(u) => update(UpdateKind::Merge, u),
            ClientsCommand::Replace(u) => update(UpdateKind::Replace, u),
            ClientsCommand::Delete(ClientKey { client }) => Op::Delete(Key::Client(client), false),
        }
    }
}

/// The key a [`UserKey`] names.
pub fn user_key(key: &UserKey) -> Key {
    match (&key.user, &key.email, &key.username) {
        (_, Some(email), _) => Key::Email(email.clone()),
        (_, _, Some(name)) => Key::Username(name.clone()),
        (Some(user), _, _) => Key::User(user.clone()),
        // clap requires one of them.
        (None, None, None) => Key::User(String::new()),
    }
}

/// Evaluates `$body` with `$c` bound to the collection of `$kind` in `$view`.
macro_rules! with_collection {
    ($view:expr, $kind:expr, |$c:ident| $body:expr) => {
        match $kind {
            Kind::User => {
                let $c = $view.users();
                $body
            }
            Kind::Role => {
                let $c = $view.roles();
                $body
            }
            Kind::Client => {
                let $c = $view.clients();
                $body
            }
        }
    };
}

/// Runs `op` on records of `kind` in the store at `file`.
pub fn run(
    file: &Path,
    tenant: Option<&str>,
    kind: Kind,
    op: Op,
    format: Option<Format>,
    quiet: bool,
) -> Result<(), CliError> {
    let many = matches!(&op, Op::List(args) if !args.count && !args.explain);
    let mut out = Out::new(format, many, quiet);
    let mode = match op {
        Op::Create(_) => Mode::Create,
        _ => Mode::Existing,
    };
    open::open(file, mode)?.run(|store| {
        let view = View::of(store, tenant)?;
        match op {
            Op::List(args) => list(&view, kind, &args, &mut out),
            Op::Get(key) => {
                let id = resolve(&view, &key)?;
                out.doc(&with_collection!(view, kind, |c| to_json(&c.get(id)?))?)
            }
            Op::Create(doc) => create(&view, kind, &input::json(&doc)?, &mut out),
            Op::Update(how, key, update) => {
                let input = input::json(&update.doc)?;
                let id = resolve(&view, &key)?;
                let expected = update.expected_version;
                let doc = with_collection!(view, kind, |c| to_json(&match how {
                    UpdateKind::Patch => c.patch(id, &input, expected)?,
                    UpdateKind::Merge => c.merge(id, &input, expected)?,
                    UpdateKind::Replace => c.replace(id, &input, expected)?,
                }))?;
                out.doc(&doc)
            }
            Op::Delete(key, cascade) => {
                let id = resolve(&view, &key)?;
                let doc = match kind {
                    Kind::User => to_json(&view.users().delete(id)?)?,
                    Kind::Role => to_json(&view.roles().delete(id, cascade)?)?,
                    Kind::Client => to_json(&view.clients().delete(id)?)?,
                };
                out.doc(&doc)
            }
        }
    })
}

/// The id of the record `key` names in `view`, or `NotFound`.
pub fn resolve(view: &View<'_>, key: &Key) -> Result<u64, CliError> {
    let users = view.users();
    Ok(match key {
        Key::Id(id) => *id,
        Key::User(text) => match text.parse::<u64>() {
            Ok(id) => id,
            Err(_) => match users.get_by_username(text, None) {
                Err(rosterdb::Error::NotFound { .. }) if text.contains('@') => {
                    users.get_by_email(text, None)?.id
                }
                other => other?.id,
            },
        },
        Key::Username(name) => users.get_by_username(name, None)?.id,
        Key::Email(email) => users.get_by_email(email, None)?.id,
        Key::External(kind, value) => users.get_by_external_id(kind, value, None)?.id,
        Key::Client(text) => match text.parse::<u64>() {
            Ok(id) => id,
            Err(_) => view.clients().get_by_client_id(text)?.id,
        },
    })
}

/// Creates a record from `doc`; a client's secret is printed with it,
/// the only time it is ever shown.
fn create(view: &View<'_>, kind: Kind, doc: &Value, out: &mut Out) -> Result<(), CliError> {
    match kind {
        Kind::User => {
            let users = view.users();
            out.doc(&to_json(&users.create(users.input_from_json(doc)?)?)?)
        }
        Kind::Role => {
            let roles = view.roles();
            out.doc(&to_json(&roles.create(roles.input_from_json(doc)?)?)?)
        }
        Kind::Client => {
            let clients = view.clients();
            let created = clients.create(clients.input_from_json(doc)?)?;
            let shown = json!({
                "client": to_json(&created.client)?,
                "secret": created.secret.expose(),
            });
            if out.format() == Format::Table {
                let mut flat = to_json(&created.client)?;
                if let Value::Object(map) = &mut flat {
                    map.insert("secret".into(), created.secret.expose().into());
                }
                out.doc(&flat)?;
            } else {
                out.doc(&shown)?;
            }
            out.note("The secret is shown only now and cannot be shown again: store it.");
            Ok(())
        }
    }
}

/// Lists records: a page, every page (`--all`), the count or the plan.
fn list(view: &View<'_>, kind: Kind, args: &ListArgs, out: &mut Out) -> Result<(), CliError> {
    let query = query(args)?;
    with_collection!(view, kind, |c| {
        if args.count {
            return out.doc(&json!({ "count": c.count(&query)? }));
        }
        if args.explain {
            return out.text(&c.explain(&query)?);
        }
        let mut walk = Walk::new(query);
        // JSON Lines stream page by page; JSON and a table (its columns
        // as wide as their widest cell) are printed once all is read.
        let mut everything: Vec<Value> = Vec::new();
        let mut columns: Option<Vec<&'static str>> = None;
        while let Some(page) = walk.next_page(|q| c.list(q))? {
            let items = page.items_json()?;
            if !args.all {
                let cursor = page.next_cursor.as_deref();
                return out.page(&items, page.fields.as_deref(), page.total, cursor);
            }
            if out.format() == Format::Jsonl {
                out.items(&items, None, false)?;
            } else {
                everything.extend(items);
                columns = page.fields;
            }
        }
        match out.format() {
            Format::Json => out.page(&everything, None, None, None)?,
            Format::Table => out.items(&everything, columns.as_deref(), true)?,
            Format::Jsonl => {}
        }
        out.flush()
    })
}

/// The query of a list's options and `-q` pairs, read by the store's
/// parameter-form parser: the named options first, then the pairs.
pub fn query(args: &ListArgs) -> Result<Query, CliError> {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for (name, value) in [
        ("page", &args.page),
        ("pageSize", &args.page_size),
        ("offset", &args.offset),
        ("limit", &args.limit),
        ("cursor", &args.cursor),
        ("sort", &args.sort),
        ("fields", &args.fields),
        ("where", &args.filter),
        ("search", &args.search),
    ] {
        if let Some(value) = value {
            pairs.push((name, value));
        }
    }
    if args.with_total {
        pairs.push(("withTotal", "true"));
    }
    pairs.extend(args.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    Ok(Query::from_params(&pairs)?)
}

/// A document as JSON.
pub fn to_json(doc: &impl serde::Serialize) -> Result<Value, CliError> {
    serde_json::to_value(doc).map_err(|e| {
        CliError::Store(rosterdb::Error::internal(format!(
            "a document as JSON: {e}"
        )))
    })
}
