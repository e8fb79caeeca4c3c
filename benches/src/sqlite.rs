//! The workloads on SQLite: "SQLite plus a users table", written as an
//! application would (WAL, `synchronous=FULL`, prepared statements), with
//! the same fields and the indexes rosterdb keeps.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rosterdb::{NewUser, fold};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde_json::{Map, Value};

use crate::population::ROLES;
use crate::workloads::{BenchError, BenchResult, PAGE, WRITERS, Workloads};

/// The schema: users with folded (rosterdb::fold) copies of the caseless
/// fields, unique per tenant on username and e-mail, secondary indexes on
/// what rosterdb indexes (tenant, enabled, lastName, createdAt, updatedAt),
/// a user_roles table indexed both ways and external ids unique per
/// (tenant, type, value). Attributes are JSON text.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS roles(
  id INTEGER PRIMARY KEY, tenant TEXT NOT NULL DEFAULT '', name TEXT NOT NULL,
  name_fold TEXT NOT NULL, permissions TEXT NOT NULL DEFAULT '[]');
CREATE UNIQUE INDEX IF NOT EXISTS roles_name ON roles(tenant, name_fold);
CREATE TABLE IF NOT EXISTS users(
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL DEFAULT '',
  username TEXT NOT NULL, username_fold TEXT NOT NULL,
  email TEXT NOT NULL, email_fold TEXT NOT NULL,
  first_name TEXT NOT NULL, first_fold TEXT NOT NULL,
  last_name TEXT NOT NULL, last_fold TEXT NOT NULL,
  nickname TEXT, nickname_fold TEXT,
  telephone_number TEXT, mobile_number TEXT,
  enabled INTEGER NOT NULL,
  attributes TEXT NOT NULL,
  password_hash TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  last_login_at INTEGER, locked_until INTEGER,
  version INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS users_username ON users(tenant, username_fold);
CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users(tenant, email_fold);
CREATE INDEX IF NOT EXISTS users_tenant ON users(tenant);
CREATE INDEX IF NOT EXISTS users_enabled ON users(enabled);
CREATE INDEX IF NOT EXISTS users_last_name ON users(last_fold, last_name);
CREATE INDEX IF NOT EXISTS users_created_at ON users(created_at);
CREATE INDEX IF NOT EXISTS users_updated_at ON users(updated_at);
CREATE TABLE IF NOT EXISTS user_roles(
  user_id INTEGER NOT NULL, role_id INTEGER NOT NULL,
  PRIMARY KEY(user_id, role_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS user_roles_role ON user_roles(role_id, user_id);
CREATE TABLE IF NOT EXISTS external_ids(
  tenant TEXT NOT NULL, type TEXT NOT NULL, value TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  PRIMARY KEY(tenant, type, value)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS external_ids_user ON external_ids(user_id);
";

/// The columns a whole user is read from (see [`decode`]).
const COLUMNS: &str = "u.id, u.tenant, u.username, u.email, u.first_name, u.last_name,
  u.nickname, u.telephone_number, u.mobile_number, u.enabled, u.attributes,
  u.password_hash IS NOT NULL, u.created_at, u.updated_at, u.last_login_at,
  u.locked_until, u.version,
  (SELECT group_concat(role_id) FROM user_roles r WHERE r.user_id = u.id),
  (SELECT json_group_array(json_object('type', e.type, 'value', e.value))
     FROM external_ids e WHERE e.user_id = u.id)";

/// A user as the SQLite store decodes it: every field an application reads.
#[derive(Debug)]
pub struct SqlUser {
    /// Row id.
    pub id: u64,
    /// Tenant, `""` for none.
    pub tenant: String,
    /// Username as given.
    pub username: String,
    /// E-mail as given.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Optional display name.
    pub nickname: Option<String>,
    /// Optional phone number.
    pub telephone_number: Option<String>,
    /// Optional mobile number.
    pub mobile_number: Option<String>,
    /// Whether the user may log in.
    pub enabled: bool,
    /// The attributes as stored: JSON text, parsed by
    /// [`SqlUser::attributes`] when read (as rosterdb's documents decode
    /// theirs when first read).
    pub attributes_json: String,
    /// Whether a password hash is stored.
    pub has_password: bool,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Milliseconds since the Unix epoch.
    pub updated_at: i64,
    /// Milliseconds since the Unix epoch.
    pub last_login_at: Option<i64>,
    /// Milliseconds since the Unix epoch.
    pub locked_until: Option<i64>,
    /// Version, from 1.
    pub version: i64,
    /// Role ids, sorted.
    pub roles: Vec<u64>,
    /// External ids as parsed JSON objects.
    pub external_ids: Vec<Value>,
}

impl SqlUser {
    /// The attributes, parsed from their JSON text.
    ///
    /// # Errors
    ///
    /// When the stored text is not a JSON object.
    pub fn attributes(&self) -> serde_json::Result<Map<String, Value>> {
        serde_json::from_str(&self.attributes_json)
    }
}

/// Decodes a row of [`COLUMNS`].
fn decode(row: &Row<'_>) -> rusqlite::Result<SqlUser> {
    let roles: Option<String> = row.get(17)?;
    let external: String = row.get(18)?;
    let json_err = |i: usize, e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    let mut roles: Vec<u64> = roles
        .unwrap_or_default()
        .split(',')
        .filter_map(|r| r.parse().ok())
        .collect();
    roles.sort_unstable();
    Ok(SqlUser {
        id: row.get(0)?,
        tenant: row.get(1)?,
        username: row.get(2)?,
        email: row.get(3)?,
        first_name: row.get(4)?,
        last_name: row.get(5)?,
        nickname: row.get(6)?,
        telephone_number: row.get(7)?,
        mobile_number: row.get(8)?,
        enabled: row.get(9)?,
        attributes_json: row.get(10)?,
        has_password: row.get(11)?,
        created_at: row.get(12)?,
        updated_at: row.get(13)?,
        last_login_at: row.get(14)?,
        locked_until: row.get(15)?,
        version: row.get(16)?,
        roles,
        external_ids: serde_json::from_str(&external).map_err(|e| json_err(18, e))?,
    })
}

/// Milliseconds since the Unix epoch (0 before it).
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .unwrap_or(0)
}

/// `%part%` with SQLite's LIKE wildcards in `part` escaped by `\`.
fn contains_pattern(part: &str) -> String {
    let mut p = String::from("%");
    for c in fold(part).chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A SQLite database file in WAL mode with `synchronous=FULL`, one
/// connection for the single-threaded workloads and [`WRITERS`] more for
/// the concurrent writers.
pub struct SqliteStore {
    main: Mutex<Connection>,
    writers: Vec<Mutex<Connection>>,
}

/// Opens a connection as the store uses it.
fn connect(path: &Path) -> BenchResult<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

fn locked(m: &Mutex<Connection>) -> BenchResult<MutexGuard<'_, Connection>> {
    m.lock()
        .map_err(|_| BenchError::Missing("a SQLite connection (its lock is poisoned)".into()))
}

/// Reads, changes and writes one user's attributes in one durable transaction.
fn patch_on(conn: &mut Connection, id: u64, key: &str, value: &str) -> BenchResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let attributes: Option<String> = tx
            .prepare_cached("SELECT attributes FROM users WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        let attributes =
            attributes.ok_or_else(|| BenchError::Missing(format!("SQLite user {id}")))?;
        let mut map: Map<String, Value> = serde_json::from_str(&attributes)?;
        map.insert(key.to_string(), Value::from(value));
        tx.prepare_cached(
            "UPDATE users SET attributes = ?2, updated_at = ?3, version = version + 1 WHERE id = ?1",
        )?
        .execute(params![id, serde_json::to_string(&map)?, now_ms()])?;
    }
    tx.commit()?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating when new) the database at `path` with [`SCHEMA`] and
    /// roles 1..=10.
    ///
    /// # Errors
    ///
    /// SQLite's, when the file cannot be opened or the schema created.
    pub fn open(path: &Path) -> BenchResult<SqliteStore> {
        let conn = connect(path)?;
        conn.execute_batch(SCHEMA)?;
        for r in 1..=ROLES {
            let name = format!("role{r}");
            conn.execute(
                "INSERT OR IGNORE INTO roles(id, name, name_fold) VALUES (?1, ?2, ?3)",
                params![r, name, fold(&name)],
            )?;
        }
        let writers = (0..WRITERS)
            .map(|_| connect(path).map(Mutex::new))
            .collect::<BenchResult<Vec<_>>>()?;
        Ok(SqliteStore {
            main: Mutex::new(conn),
            writers,
        })
    }

    /// Gathers the statistics SQLite's query planner chooses indexes by
    /// (`ANALYZE`), as a developer does once a table holds its data (SQLite
    /// recommends `PRAGMA optimize`, which runs it when needed). With them
    /// SQLite counts `enabled` holders of a role faster; the bundled SQLite
    /// (3.54) keeps its plan for the filtered page, where Python's 3.40
    /// turns to the lastName index (docs/BENCHMARKS.md, round 13).
    ///
    /// # Errors
    ///
    /// SQLite's.
    pub fn analyze(&self) -> BenchResult<()> {
        locked(&self.main)?.execute_batch("ANALYZE;")?;
        Ok(())
    }

    /// Folds the WAL back into the database file and truncates it (so the
    /// file size is the database's).
    ///
    /// # Errors
    ///
    /// SQLite's.
    pub fn checkpoint(&self) -> BenchResult<()> {
        locked(&self.main)?.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }

    /// Whole users (decoded) from `sql` selecting [`COLUMNS`] with `params`.
    fn users(&self, sql: &str, params: impl rusqlite::Params) -> BenchResult<Vec<SqlUser>> {
        let conn = locked(&self.main)?;
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params, decode)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn one(&self, sql: &str, params: impl rusqlite::Params, what: &str) -> BenchResult<u64> {
        self.one_user(sql, params, what).map(|u| u.id)
    }

    /// The user a query of [`COLUMNS`] finds.
    fn one_user(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        what: &str,
    ) -> BenchResult<SqlUser> {
        let conn = locked(&self.main)?;
        let user = conn
            .prepare_cached(sql)?
            .query_row(params, decode)
            .optional()?;
        user.ok_or_else(|| BenchError::Missing(format!("SQLite user {what}")))
    }

    /// The user `id`, as the reads decode it.
    ///
    /// # Errors
    ///
    /// When SQLite fails or no user has the id.
    pub fn user(&self, id: u64) -> BenchResult<SqlUser> {
        self.one_user(
            &format!("SELECT {COLUMNS} FROM users u WHERE u.id = ?1"),
            [id],
            &id.to_string(),
        )
    }
}

/// The first error of the writer threads, or the news that one panicked.
fn joined(handles: Vec<std::thread::ScopedJoinHandle<'_, BenchResult<()>>>) -> BenchResult<()> {
    handles.into_iter().try_for_each(|h| {
        h.join()
            .map_err(|_| BenchError::Missing("a writer thread's result (it panicked)".into()))?
    })
}

fn ids(users: &[SqlUser]) -> Vec<u64> {
    users.iter().map(|u| u.id).collect()
}

/// The lastName sort key of a row: (folded, exact, id).
pub type SqlCursor = (String, String, u64);

impl Workloads for SqliteStore {
    type Cursor = SqlCursor;

    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn import(&self, users: Vec<NewUser>) -> BenchResult<()> {
        let mut conn = locked(&self.main)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut user = tx.prepare_cached(
                "INSERT INTO users(tenant, username, username_fold, email, email_fold,
                   first_name, first_fold, last_name, last_fold, nickname, nickname_fold,
                   telephone_number, mobile_number, enabled, attributes, password_hash,
                   created_at, updated_at, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                   ?17, ?17, 1)",
            )?;
            let mut role =
                tx.prepare_cached("INSERT INTO user_roles(user_id, role_id) VALUES (?1, ?2)")?;
            let mut external = tx.prepare_cached(
                "INSERT INTO external_ids(tenant, type, value, user_id) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for u in &users {
                let tenant = u.tenant.as_deref().unwrap_or_default();
                let now = now_ms();
                let id = user.insert(params![
                    tenant,
                    u.username,
                    fold(&u.username),
                    u.email,
                    fold(&u.email),
                    u.first_name,
                    fold(&u.first_name),
                    u.last_name,
                    fold(&u.last_name),
                    u.nickname,
                    u.nickname.as_deref().map(fold),
                    u.telephone_number,
                    u.mobile_number,
                    u.enabled,
                    serde_json::to_string(&u.attributes)?,
                    u.password_hash,
                    now,
                ])?;
                for r in &u.roles {
                    role.execute(params![id, r])?;
                }
                for e in &u.external_ids {
                    external.execute(params![tenant, e.kind, e.value, id])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn get_by_id(&self, id: u64) -> BenchResult<u64> {
        self.user(id).map(|u| u.id)
    }

    fn get_by_email(&self, email: &str) -> BenchResult<u64> {
        self.one(
            &format!("SELECT {COLUMNS} FROM users u WHERE u.tenant = '' AND u.email_fold = ?1"),
            [fold(email)],
            email,
        )
    }

    fn filtered_page(&self, role: u64, pattern: &str) -> BenchResult<Vec<u64>> {
        let users = self.users(
            &format!(
                "SELECT {COLUMNS} FROM users u WHERE u.enabled = 1
                   AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role_id = ?1)
                   AND u.last_fold LIKE ?2
                 ORDER BY u.last_fold, u.last_name, u.id LIMIT {PAGE}"
            ),
            params![role, fold(pattern)],
        )?;
        Ok(ids(&users))
    }

    fn search(&self, term: &str) -> BenchResult<Vec<u64>> {
        let users = self.users(
            &format!(
                "SELECT {COLUMNS} FROM users u WHERE u.username_fold LIKE ?1 ESCAPE '\\'
                   OR u.email_fold LIKE ?1 ESCAPE '\\' OR u.first_fold LIKE ?1 ESCAPE '\\'
                   OR u.last_fold LIKE ?1 ESCAPE '\\' OR u.nickname_fold LIKE ?1 ESCAPE '\\'
                 ORDER BY u.id LIMIT {PAGE}"
            ),
            [contains_pattern(term)],
        )?;
        Ok(ids(&users))
    }

    fn email_contains(&self, part: &str) -> BenchResult<Vec<u64>> {
        let users = self.users(
            &format!(
                "SELECT {COLUMNS} FROM users u WHERE u.email_fold LIKE ?1 ESCAPE '\\'
                 ORDER BY u.id LIMIT {PAGE}"
            ),
            [contains_pattern(part)],
        )?;
        Ok(ids(&users))
    }

    fn sorted_page(&self, after: Option<&SqlCursor>) -> BenchResult<(Vec<u64>, Option<SqlCursor>)> {
        let users = match after {
            None => self.users(
                &format!(
                    "SELECT {COLUMNS} FROM users u
                     ORDER BY u.last_fold, u.last_name, u.id LIMIT {PAGE}"
                ),
                [],
            )?,
            Some((fold_key, exact, id)) => self.users(
                &format!(
                    "SELECT {COLUMNS} FROM users u
                     WHERE (u.last_fold, u.last_name, u.id) > (?1, ?2, ?3)
                     ORDER BY u.last_fold, u.last_name, u.id LIMIT {PAGE}"
                ),
                params![fold_key, exact, id],
            )?,
        };
        let next = (users.len() == PAGE)
            .then(|| users.last())
            .flatten()
            .map(|u| (fold(&u.last_name), u.last_name.clone(), u.id));
        Ok((ids(&users), next))
    }

    fn offset_page(&self, offset: u64) -> BenchResult<Vec<u64>> {
        let users = self.users(
            &format!(
                "SELECT {COLUMNS} FROM users u
                 ORDER BY u.last_fold, u.last_name, u.id LIMIT {PAGE} OFFSET ?1"
            ),
            [offset],
        )?;
        Ok(ids(&users))
    }

    fn count_enabled_role(&self, role: u64) -> BenchResult<u64> {
        let conn = locked(&self.main)?;
        let n: u64 = conn
            .prepare_cached(
                "SELECT count(*) FROM user_roles r JOIN users u ON u.id = r.user_id
                 WHERE r.role_id = ?1 AND u.enabled = 1",
            )?
            .query_row([role], |r| r.get(0))?;
        Ok(n)
    }

    fn patch_attribute(&self, id: u64, key: &str, value: &str) -> BenchResult<()> {
        let mut conn = locked(&self.main)?;
        patch_on(&mut conn, id, key, value)
    }

    /// Writer threads share one connection behind a mutex, taken per
    /// transaction: SQLite has one writer at a time anyway, and this spares
    /// the busy handler's sleeps (see the per-connection variant).
    fn patch_concurrently(&self, ids: &[Vec<u64>], value: &str) -> BenchResult<()> {
        let shared = self
            .writers
            .first()
            .ok_or_else(|| BenchError::Missing("a writer connection".into()))?;
        std::thread::scope(|s| {
            let handles: Vec<_> = ids
                .iter()
                .map(|mine| {
                    s.spawn(move || -> BenchResult<()> {
                        for &id in mine {
                            let mut conn = locked(shared)?;
                            patch_on(&mut conn, id, "title", value)?;
                        }
                        Ok(())
                    })
                })
                .collect();
            joined(handles)
        })
    }

    /// One connection per writer thread; a writer that finds the database
    /// locked waits in SQLite's busy handler (`busy_timeout`), which sleeps
    /// in steps of milliseconds.
    fn patch_concurrently_own_connections(&self, ids: &[Vec<u64>], value: &str) -> BenchResult<()> {
        if ids.len() > self.writers.len() {
            return Err(BenchError::Missing(format!(
                "a writer connection: {} threads asked, {WRITERS} at most",
                ids.len()
            )));
        }
        std::thread::scope(|s| {
            let handles: Vec<_> = ids
                .iter()
                .zip(&self.writers)
                .map(|(mine, conn)| {
                    s.spawn(move || -> BenchResult<()> {
                        let mut conn = locked(conn)?;
                        for &id in mine {
                            patch_on(&mut conn, id, "title", value)?;
                        }
                        Ok(())
                    })
                })
                .collect();
            joined(handles)
        })
    }
}
