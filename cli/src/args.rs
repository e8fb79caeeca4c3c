//! The command line: clap's derive structs, with the help text and examples.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Examples shown after `--help`.
const EXAMPLES: &str = "\
Examples:
  rosterdb store.redb info
  rosterdb store.redb users create '{\"username\":\"mary\",\"email\":\"mary@example.com\",\"firstName\":\"Mary\",\"lastName\":\"Major\"}'
  rosterdb store.redb users list --sort lastName:desc --fields id,username --format table
  rosterdb store.redb users list --where \"createdAt >= '2014-01-15'\" -q enabled=true -q lastName=like:ma%
  rosterdb store.redb users get 42
  rosterdb store.redb users get --email mary@example.com
  rosterdb store.redb users lookup --type github --value 42
  rosterdb store.redb users patch 42 '[{\"op\":\"replace\",\"path\":\"/nickname\",\"value\":\"M\"}]' --expected-version 3
  rosterdb store.redb users merge mary @changes.json
  rosterdb store.redb roles delete 7 --cascade
  rosterdb store.redb clients create '{\"name\":\"billing\"}'   # prints the secret, once
  rosterdb store.redb passwd mary                              # asks twice, without echo
  rosterdb store.redb export backup.jsonl
  rosterdb new.redb import backup.jsonl
  rosterdb store.redb changes --since 100 --follow
  rosterdb store.redb serve --addr 127.0.0.1:8080             # the HTTP API, until Ctrl-C";

/// A terminal to a rosterdb store file: inspect, query, fix, back up and
/// restore users, roles and app-clients.
#[derive(Debug, Parser)]
#[command(
    name = "rosterdb",
    version,
    after_help = format!("{EXAMPLES}\n\n{}", crate::exit::TABLE),
)]
pub struct Cli {
    /// The store file. Only `import` and `users|roles|clients create`
    /// create it when it does not exist.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Output format [default: json; table for `list` and `changes` on a
    /// terminal, jsonl when piped]. With json, errors are JSON too.
    #[arg(long, value_enum, global = true)]
    pub format: Option<Format>,

    /// Work in one tenant's view: only its records are seen, and creates
    /// get its tenant.
    #[arg(long, global = true, value_name = "TENANT")]
    pub tenant: Option<String>,

    /// No progress bars or notes on stderr (errors are still told).
    #[arg(long, global = true)]
    pub quiet: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Whether a command line clap refused asked for `--format json` (as
/// `--format json` or `--format=json`, before any `--`), so that its
/// usage error is told as JSON too. The first argument is the program.
pub fn json_requested(args: &[String]) -> bool {
    let mut wanted = false;
    let mut words = args.iter().skip(1).map(String::as_str);
    while let Some(word) = words.next() {
        match word {
            "--" => break,
            "--format" => wanted = words.next() == Some("json"),
            w if w.starts_with("--format=") => wanted = w == "--format=json",
            _ => {}
        }
    }
    wanted
}

/// How documents are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Pretty JSON: a document, or a page `{items, total, nextCursor}`.
    Json,
    /// JSON Lines: one compact document per line.
    Jsonl,
    /// Aligned columns of the requested (or all top-level) fields.
    Table,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Format version, record counts and file size.
    Info,
    /// Users: list, get, lookup, create, patch, merge, replace, delete.
    Users {
        /// What to do with users.
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Roles (permission groups).
    Roles {
        /// What to do with roles.
        #[command(subcommand)]
        command: RolesCommand,
    },
    /// App-clients (service identities).
    Clients {
        /// What to do with clients.
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// Writes every role, user and client to a JSON Lines file
    /// (credential hashes, never plaintext).
    Export {
        /// The file to write (replaced only once the export is whole), or
        /// `-` for stdout.
        #[arg(value_name = "FILE.jsonl")]
        to: String,
    },
    /// Loads a file written by `export` into an empty store, all or nothing.
    Import {
        /// The file to read, or `-` for stdin.
        #[arg(value_name = "FILE.jsonl")]
        from: String,
    },
    /// Verifies that every index entry matches its record (exit code 12
    /// when it finds problems).
    Check,
    /// Reclaims unused file space.
    Compact,
    /// The change log: one entry per committed write.
    Changes(ChangesArgs),
    /// Sets a user's password, read from the terminal without echo (or
    /// from stdin with --password-stdin). It is never printed.
    Passwd(PasswdArgs),
    /// Serves the store over HTTP (the /v1 REST API and SCIM 2.0 under
    /// /scim/v2) until SIGTERM or Ctrl-C, which drain the requests in
    /// flight. Logs one line per request on stderr.
    #[command(after_help = SERVE_HELP)]
    Serve(ServeArgs),
}

/// The help after `serve --help`: the first principal, and an example.
const SERVE_HELP: &str = "\
Nothing is served without credentials: make a first principal before
serving, a role granting every permission and a user holding it:
  rosterdb store.redb roles create '{\"name\":\"admins\",\"permissions\":[\"*\"]}'
  rosterdb store.redb users create '{\"username\":\"admin\",\"email\":\"admin@example.com\",\"firstName\":\"Ada\",\"lastName\":\"Admin\",\"roles\":[1]}'
  rosterdb store.redb passwd admin              # asks twice, without echo

Examples:
  rosterdb store.redb serve --addr 127.0.0.1:8080
  curl -s http://127.0.0.1:8080/v1/authentication -H 'Content-Type: application/json' \\
    -d '{\"username\":\"admin\",\"password\":\"…\"}'     # {\"token\": \"rs_…\", …}
  curl -s http://127.0.0.1:8080/v1/users -H \"Authorization: Bearer rs_…\"

Port 0 picks a free port; the address served is printed on stderr
(`rosterdb: serving http://127.0.0.1:PORT`). RUST_LOG sets the log filter
(default info; warn with --quiet).";

/// The arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (IP:PORT; port 0 picks a free one).
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// The server's root as clients reach it, when a proxy in front
    /// terminates TLS or maps a path prefix (e.g. https://id.example.com,
    /// not the SCIM base): SCIM's URLs become URL/scim/v2/… and REST's
    /// Location URL/v1/…, instead of http://{Host}/scim/v2/… and a
    /// relative path.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<rosterdb_server::PublicUrl>,
}

/// The subcommands of `users`.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// One page of users matching the query parameters.
    List(ListArgs),
    /// One user, by id, username or email.
    Get(UserKey),
    /// One user, by external identity.
    Lookup {
        /// The identity's type, e.g. `github`.
        #[arg(long = "type", value_name = "TYPE")]
        kind: String,
        /// The identity's value.
        #[arg(long)]
        value: String,
    },
    /// Creates a user from a JSON document (may carry `password`).
    Create(DocArg),
    /// Applies an RFC 6902 JSON Patch (an array of operations).
    Patch(UserUpdate),
    /// Applies an RFC 7396 JSON Merge Patch (`null` removes a field).
    Merge(UserUpdate),
    /// Replaces the writable fields (absent optional fields are cleared).
    Replace(UserUpdate),
    /// Deletes a user (and revokes its sessions), printing its last document.
    Delete(UserKey),
}

/// The subcommands of `roles`.
#[derive(Debug, Subcommand)]
pub enum RolesCommand {
    /// One page of roles matching the query parameters.
    List(ListArgs),
    /// One role, by id.
    Get(IdArg),
    /// Creates a role from a JSON document.
    Create(DocArg),
    /// Applies an RFC 6902 JSON Patch (an array of operations).
    Patch(IdUpdate),
    /// Applies an RFC 7396 JSON Merge Patch.
    Merge(IdUpdate),
    /// Replaces the writable fields.
    Replace(IdUpdate),
    /// Deletes a role; fails with InUse while users or clients hold it,
    /// unless --cascade.
    Delete {
        /// The role's id.
        id: u64,
        /// Remove the role from every holder in the same transaction.
        #[arg(long)]
        cascade: bool,
    },
}

/// The subcommands of `clients`.
#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// One page of clients matching the query parameters.
    List(ListArgs),
    /// One client, by id or client id (`rc_…`).
    Get(ClientKey),
    /// Creates a client; prints its secret, the only time it is shown.
    Create(DocArg),
    /// Applies an RFC 6902 JSON Patch (an array of operations).
    Patch(ClientUpdate),
    /// Applies an RFC 7396 JSON Merge Patch.
    Merge(ClientUpdate),
    /// Replaces the writable fields.
    Replace(ClientUpdate),
    /// Deletes a client, printing its last document.
    Delete(ClientKey),
}

/// The query of a `list`: the query parameters as options and `-q` pairs,
/// read by the store's own parser (errors name the parameter).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Page number, from 1 (with --page-size).
    #[arg(long)]
    pub page: Option<String>,
    /// Items per page, 1–1000 (default 100).
    #[arg(long, value_name = "N")]
    pub page_size: Option<String>,
    /// Matches to skip (with --limit).
    #[arg(long, value_name = "N")]
    pub offset: Option<String>,
    /// Items per page, 1–1000 (with --offset).
    #[arg(long, value_name = "N")]
    pub limit: Option<String>,
    /// A previous page's nextCursor: the page after it.
    #[arg(long)]
    pub cursor: Option<String>,
    /// Sort keys, e.g. `lastName,firstName:desc` (default id).
    #[arg(long, value_name = "KEYS")]
    pub sort: Option<String>,
    /// Top-level fields to return, e.g. `id,username`.
    #[arg(long, value_name = "FIELDS")]
    pub fields: Option<String>,
    /// An expression, e.g. "createdAt >= '2014-01-15' and enabled = true".
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Free text: every term must occur in a name or email.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Also count every match (`total`).
    #[arg(long)]
    pub with_total: bool,
    /// A parameter as a query string carries it: a field filter
    /// (`enabled=true`, `lastName=like:ab%`, `roles=in:1,2`,
    /// `filter[email]=a@b.c`) or any parameter above by its query-parameter name
    /// (`pageSize=50`). Repeatable.
    #[arg(short = 'q', long = "param", value_name = "NAME=VALUE", value_parser = param_pair)]
    pub params: Vec<(String, String)>,
    /// Every match, following nextCursor from page to page.
    #[arg(long, conflicts_with_all = ["count", "explain"])]
    pub all: bool,
    /// Only the number of matches.
    #[arg(long, conflicts_with = "explain")]
    pub count: bool,
    /// Only the plan the query runs.
    #[arg(long)]
    pub explain: bool,
}

/// Reads `NAME=VALUE`, split at the first `=`.
fn param_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err("must be NAME=VALUE, e.g. enabled=true".into()),
    }
}

/// A JSON document to create from.
#[derive(Debug, Args)]
pub struct DocArg {
    /// JSON text, `-` to read stdin, or `@PATH` to read a file.
    #[arg(value_name = "DOC")]
    pub doc: String,
}

/// A user named by id, username or email.
#[derive(Debug, Args)]
pub struct UserKey {
    /// An id, or else a username or an email.
    #[arg(value_name = "USER", required_unless_present_any = ["email", "username"])]
    pub user: Option<String>,
    /// The user with this email (case-insensitively).
    #[arg(long, conflicts_with_all = ["user", "username"])]
    pub email: Option<String>,
    /// The user with this username (case-insensitively), even one of digits.
    #[arg(long, conflicts_with = "user")]
    pub username: Option<String>,
}

/// A client named by id or client id.
#[derive(Debug, Args)]
pub struct ClientKey {
    /// An id, or a client id (`rc_…`).
    #[arg(value_name = "CLIENT")]
    pub client: String,
}

/// A record named by id.
#[derive(Debug, Args)]
pub struct IdArg {
    /// The record's id.
    pub id: u64,
}

/// An update of a user: which, the JSON input and the version expected.
#[derive(Debug, Args)]
pub struct UserUpdate {
    /// An id, or else a username or an email.
    #[arg(value_name = "USER")]
    pub user: String,
    /// The update.
    #[command(flatten)]
    pub update: Update,
}

/// An update of a role.
#[derive(Debug, Args)]
pub struct IdUpdate {
    /// The role's id.
    pub id: u64,
    /// The update.
    #[command(flatten)]
    pub update: Update,
}

/// An update of a client.
#[derive(Debug, Args)]
pub struct ClientUpdate {
    /// An id, or a client id (`rc_…`).
    #[arg(value_name = "CLIENT")]
    pub client: String,
    /// The update.
    #[command(flatten)]
    pub update: Update,
}

/// The JSON input of an update and the version it expects.
#[derive(Debug, Args)]
pub struct Update {
    /// JSON text, `-` to read stdin, or `@PATH` to read a file.
    #[arg(value_name = "DOC")]
    pub doc: String,
    /// Fail with VersionConflict (exit 7), changing nothing, unless the
    /// record has this version.
    #[arg(long, value_name = "N")]
    pub expected_version: Option<u64>,
}

/// The options of `changes`.
#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// Only entries after this sequence number.
    #[arg(long, default_value_t = 0, value_name = "SEQ")]
    pub since: u64,
    /// Keep polling for new entries until Ctrl-C. The file is opened
    /// only for each poll, so other processes can write between polls.
    #[arg(long)]
    pub follow: bool,
    /// Milliseconds between polls with --follow.
    #[arg(long, default_value_t = 1000, value_name = "MS",
          value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub interval: u64,
}

/// The options of `passwd`.
#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// The user.
    #[command(flatten)]
    pub user: UserKey,
    /// Read the password from the first line of stdin instead of the terminal.
    #[arg(long)]
    pub password_stdin: bool,
}

#[cfg(test)]
mod tests {
    use super::json_requested;

    fn asks(args: &[&str]) -> bool {
        let line: Vec<String> = std::iter::once("rosterdb")
            .chain(args.iter().copied())
            .map(String::from)
            .collect();
        json_requested(&line)
    }

    #[test]
    fn json_is_requested_by_the_last_format_before_a_double_dash() {
        assert!(asks(&["s.redb", "users", "list", "--format", "json"]));
        assert!(asks(&["--format=json", "s.redb", "users", "list"]));
        assert!(!asks(&["s.redb", "users", "list"]));
        assert!(!asks(&["s.redb", "users", "list", "--format", "jsonl"]));
        assert!(!asks(&["s.redb", "users", "list", "--format=xml"]));
        assert!(!asks(&[
            "s.redb", "users", "list", "--format", "json", "--format", "table"
        ]));
        assert!(!asks(&[
            "s.redb", "users", "create", "--", "--format", "json"
        ]));
        // The program's own name is skipped, and a dangling --format asks nothing.
        assert!(!json_requested(&["--format=json".to_string()]));
        assert!(!asks(&["s.redb", "users", "list", "--format"]));
    }
}
