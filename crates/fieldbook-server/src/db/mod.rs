//! The server's storage, behind one small synchronous interface so that every query is written
//! once and runs on SQLite (one file, one laptop-sized office) or PostgreSQL (several stateless
//! servers sharing one database).
//!
//! - [`Db`]: a pool of connections to one database; [`Db::transaction`] runs a closure in a
//!   transaction of a given [`Mode`] and commits when it returns `Ok`.
//! - [`Tx`]: what the closure gets: `execute` and `query` with `$1`-style parameters.
//! - SQL is written in a portable subset: TEXT and BIGINT columns, `$N` placeholders (rewritten
//!   to SQLite's `?N`, once per statement text and connection), `ON CONFLICT` upserts,
//!   `RETURNING`, multi-row `VALUES`. DDL lives per backend in
//!   `migrations/server-{sqlite,postgres}/`.
//!
//! Async handlers call [`Db::run`], which moves the blocking work to `spawn_blocking`.

mod migrate;
mod pool;
mod postgres;
mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;

pub use migrate::{latest_version, schema_version};

use crate::error::{Error, Result};

/// A parameter or column value. Booleans are stored as 0/1 BIGINTs and timestamps as RFC 3339
/// TEXT on both backends, so one query text fits both.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(v as i64)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Blob(v.to_vec())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}

/// Builds a parameter list: `params![a, b]` is `&[Value::from(a), Value::from(b)]`.
#[macro_export]
macro_rules! params {
    () => { &[] as &[$crate::db::Value] };
    ($($p:expr),+ $(,)?) => { &[$($crate::db::Value::from($p)),+] as &[$crate::db::Value] };
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> Result<&Value> {
        self.0.get(i).ok_or_else(|| DbError::Column(format!("column {i} does not exist")).into())
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            // SQLite may hand back a number stored in a TEXT column as text, and vice versa.
            Value::Text(t) => t.parse().map(Some).map_err(|_| DbError::Column(format!("column {i}: '{t}' is not an integer")).into()),
            Value::Blob(_) => Err(DbError::Column(format!("column {i}: expected an integer, found bytes")).into()),
        }
    }

    pub fn int(&self, i: usize) -> Result<i64> {
        self.opt_int(i)?.ok_or_else(|| DbError::Column(format!("column {i} is NULL")).into())
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(v.to_string())),
            Value::Text(t) => Ok(Some(t.clone())),
            Value::Blob(b) => String::from_utf8(b.clone()).map(Some).map_err(|_| DbError::Column(format!("column {i} is not UTF-8")).into()),
        }
    }

    pub fn text(&self, i: usize) -> Result<String> {
        self.opt_text(i)?.ok_or_else(|| DbError::Column(format!("column {i} is NULL")).into())
    }

    /// [`Row::text`], moving the text out of the row instead of copying it (the column reads as
    /// NULL afterwards).
    pub fn take_text(&mut self, i: usize) -> Result<String> {
        match self.0.get_mut(i) {
            Some(Value::Text(t)) => Ok(std::mem::take(t)),
            _ => self.text(i),
        }
    }

    pub fn blob(&self, i: usize) -> Result<Vec<u8>> {
        match self.at(i)? {
            Value::Blob(b) => Ok(b.clone()),
            Value::Text(t) => Ok(t.as_bytes().to_vec()),
            Value::Null => Ok(Vec::new()),
            Value::Int(_) => Err(DbError::Column(format!("column {i}: expected bytes, found an integer")).into()),
        }
    }

    pub fn bool(&self, i: usize) -> Result<bool> {
        Ok(self.opt_int(i)?.unwrap_or(0) != 0)
    }
}

/// What went wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("no database connection became free within {0} s (too many requests at once, or the database is down)")]
    PoolTimeout(u64),
    #[error("{0}")]
    Column(String),
    #[error("{0}")]
    Config(String),
}

impl DbError {
    /// The database refused a value itself (PostgreSQL's "data exception" class 22: a NUL byte in
    /// text, a number out of range): bad input from the request, not a server failure.
    pub fn is_bad_value(&self) -> bool {
        match self {
            DbError::Postgres(e) => e.code().is_some_and(|c| c.code().starts_with("22")),
            _ => false,
        }
    }
}

/// Which engine a database runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How a transaction begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A consistent snapshot for reading; takes no lock.
    Read,
    /// Writes that do not touch the feed (devices, enrolment codes, attachments).
    Write,
    /// Writes that append to the feed: holds the feed lock until commit, so feed sequence numbers
    /// commit in order (SQLite: the single writer; PostgreSQL: `pg_advisory_xact_lock`).
    Feed,
}

/// The key of the PostgreSQL advisory lock every feed-appending transaction holds. Any constant
/// works as long as every server process uses the same one: "FIELDBOK" in ASCII.
pub const FEED_LOCK_KEY: i64 = 0x4649_454c_4442_4f4b;

/// A transaction in progress.
pub trait Tx {
    fn backend(&self) -> Backend;
    /// Runs one statement; returns the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64>;
    /// Runs one query and returns every row.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
    /// Runs several statements without parameters (migrations).
    fn execute_batch(&mut self, sql: &str) -> Result<()>;
}

impl dyn Tx + '_ {
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row> {
        self.query_opt(sql, params)?.ok_or_else(|| DbError::Column(format!("expected one row from: {sql}")).into())
    }
}

/// Where the database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// `postgres://…` or `postgresql://…` selects PostgreSQL; `sqlite:PATH` (or a bare path)
    /// selects an SQLite file.
    pub fn parse(url: &str) -> Location {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Location::Postgres(url.to_owned())
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            Location::Sqlite(PathBuf::from(path.strip_prefix("//").unwrap_or(path)))
        } else {
            Location::Sqlite(PathBuf::from(url))
        }
    }

    /// For messages: never prints a PostgreSQL password.
    pub fn describe(&self) -> String {
        match self {
            Location::Sqlite(p) => format!("SQLite {}", p.display()),
            Location::Postgres(url) => {
                let redacted = match (url.find("://"), url.rfind('@')) {
                    (Some(s), Some(at)) if at > s => {
                        let creds = &url[s + 3..at];
                        let user = creds.split(':').next().unwrap_or("");
                        format!("{}{}{}", &url[..s + 3], user, &url[at..])
                    }
                    _ => url.clone(),
                };
                format!("PostgreSQL {redacted}")
            }
        }
    }
}

enum Inner {
    Sqlite(pool::Pool<sqlite::SqliteConn>, sqlite::Checkpointer),
    Postgres(pool::Pool<postgres::PgConn>),
}

/// A pool of connections to one database. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
    location: Arc<Location>,
}

/// Connections per pool unless told otherwise. SQLite serialises writers anyway; readers (pulls)
/// run beside them in WAL mode.
pub const DEFAULT_POOL_SIZE: usize = 8;

impl Db {
    /// Opens the database at `url` (see [`Location::parse`]) and brings its schema up to date.
    /// Refuses, without changing anything, a database written by a newer server.
    pub fn open(url: &str) -> Result<Db> {
        Self::open_with(Location::parse(url), DEFAULT_POOL_SIZE)
    }

    pub fn open_with(location: Location, pool_size: usize) -> Result<Db> {
        let inner = match &location {
            Location::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                }
                let checkpointer = sqlite::Checkpointer::start(path);
                let path = path.clone();
                Inner::Sqlite(pool::Pool::new(pool_size, move || sqlite::SqliteConn::open(&path)), checkpointer)
            }
            Location::Postgres(url) => {
                let (config, _, tls) = postgres::tls::config(url).map_err(|e| DbError::Config(format!("{}: {e}", location.describe())))?;
                Inner::Postgres(pool::Pool::new(pool_size, move || postgres::PgConn::connect(&config, &tls)))
            }
        };
        let db = Db { inner: Arc::new(inner), location: Arc::new(location) };
        migrate::apply_all(&db)?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        match &*self.inner {
            Inner::Sqlite(..) => Backend::Sqlite,
            Inner::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Runs `f` in one transaction: committed when `f` returns `Ok`, rolled back otherwise.
    pub fn transaction<T>(&self, mode: Mode, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        match &*self.inner {
            Inner::Sqlite(pool, checkpointer) => {
                let r = pool.get()?.transaction(mode, f);
                if r.is_ok() && mode != Mode::Read {
                    checkpointer.nudge();
                }
                r
            }
            // The blocking PostgreSQL client drives its own little runtime, which cannot start
            // on a thread that is running async tasks: such a caller (a tool or test calling
            // this synchronous API from async code) gives up its worker for the duration.
            Inner::Postgres(pool) => match tokio::runtime::Handle::try_current() {
                Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                    tokio::task::block_in_place(|| pool.get()?.transaction(mode, f))
                }
                _ => pool.get()?.transaction(mode, f),
            },
        }
    }

    /// [`Db::transaction`] from async code: the blocking work runs on tokio's blocking pool.
    pub async fn run<T: Send + 'static>(&self, mode: Mode, f: impl FnOnce(&mut dyn Tx) -> Result<T> + Send + 'static) -> Result<T> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.transaction(mode, f))
            .await
            .map_err(|e| Error::Internal(format!("a database task failed: {e}")))?
    }
}

/// A pooled connection able to run a transaction.
trait Connection: Send + 'static {
    fn begin(&mut self, mode: Mode) -> Result<()>;
    fn commit(&mut self) -> Result<()>;
    fn rollback(&mut self);
    fn as_tx(&mut self) -> &mut dyn Tx;
    /// False once the connection is broken; it is then dropped rather than reused.
    fn is_healthy(&self) -> bool;
}

impl<C: Connection> pool::Pooled<'_, C> {
    fn transaction<T>(mut self, mode: Mode, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let conn = self.conn();
        conn.begin(mode)?;
        // Until commit or rollback the connection is mid-transaction: if `f` panics, the guard
        // is dropped without `finish` and the connection is discarded rather than reused.
        match f(conn.as_tx()) {
            Ok(v) => {
                if let Err(e) = conn.commit() {
                    conn.rollback();
                    return Err(e);
                }
                self.finish();
                Ok(v)
            }
            Err(e) => {
                conn.rollback();
                self.finish();
                Err(e)
            }
        }
    }
}

/// Rewrites `$1`-style placeholders to SQLite's `?1`, leaving quoted text alone.
pub(crate) fn dollar_to_question(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    out.push(c);
                }
                '$' if chars.peek().is_some_and(|n| n.is_ascii_digit()) => out.push('?'),
                _ => out.push(c),
            },
        }
    }
    out
}

/// Statement texts built at run time (multi-row inserts, `IN` lists), each built once per process
/// and so prepared once per connection: the sizes come from a short fixed list.
fn built_sql(kind: &'static str, n: usize, build: impl FnOnce() -> String) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static BUILT: OnceLock<Mutex<HashMap<(&'static str, usize), &'static str>>> = OnceLock::new();
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    built.entry((kind, n)).or_insert_with(|| Box::leak(build().into_boxed_str()))
}

/// `{head} VALUES ($1, …, $cols), (…), … {tail}`: `rows` rows of `cols` parameters each.
pub(crate) fn multi_row(head: &'static str, cols: usize, rows: usize, tail: &'static str) -> &'static str {
    built_sql(head, rows, || {
        let mut sql = String::with_capacity(head.len() + tail.len() + rows * cols * 6);
        sql.push_str(head);
        sql.push_str(" VALUES ");
        for r in 0..rows {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..cols {
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push('$');
                sql.push_str(&(r * cols + c + 1).to_string());
            }
            sql.push(')');
        }
        sql.push(' ');
        sql.push_str(tail);
        sql
    })
}

/// `{head} (VALUES ($first), ($first + 1), …) {tail}`: a list of `n` parameters to join with.
/// (A list to join is planned as one index lookup per value on both engines; PostgreSQL plans a
/// prepared `IN ($2, …)` as a bitmap scan that re-checks every row against the whole list.)
pub(crate) fn values_list(head: &'static str, first: usize, n: usize, tail: &'static str) -> &'static str {
    built_sql(head, n, || {
        let list: Vec<String> = (first..first + n).map(|i| format!("(${i})")).collect();
        format!("{head} (VALUES {}) {tail}", list.join(", "))
    })
}

/// Sizes of parameter lists; a shorter list is padded (with a value that matches nothing).
pub(crate) const LIST_SIZES: [usize; 5] = [1, 4, 16, 64, 256];

/// Rows per multi-row statement: a batch of `n` rows is written as greedy pieces of these sizes,
/// so that a handful of statement texts covers every batch.
pub(crate) const ROW_CHUNKS: [usize; 4] = [128, 32, 8, 1];

/// Splits `n` into pieces of the sizes in [`ROW_CHUNKS`], largest first.
pub(crate) fn row_chunks(mut n: usize) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let size = ROW_CHUNKS.iter().copied().find(|&c| c <= n)?;
        n -= size;
        Some(size)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_outside_quotes_only() {
        assert_eq!(dollar_to_question("SELECT '$1', x FROM t WHERE a = $1 AND b = $12"), "SELECT '$1', x FROM t WHERE a = ?1 AND b = ?12");
    }

    #[test]
    fn placeholders_bind_by_number_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db").display().to_string()).unwrap();
        let params: Vec<Value> = (1..=12).map(|i| Value::Int(i * 10)).collect();
        let row = db.transaction(Mode::Read, |tx| tx.query_one("SELECT '$1', $12, $1, $2 + $1", &params)).unwrap();
        assert_eq!(row.0, vec![Value::Text("$1".into()), Value::Int(120), Value::Int(10), Value::Int(30)]);
    }

    #[test]
    fn multi_row_statements_come_in_a_few_sizes() {
        assert_eq!(multi_row("INSERT INTO t (a, b)", 2, 2, "ON CONFLICT DO NOTHING"), "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING");
        assert_eq!(values_list("SELECT 1 FROM", 2, 3, "AS v"), "SELECT 1 FROM (VALUES ($2), ($3), ($4)) AS v");
        assert_eq!(row_chunks(1000).collect::<Vec<_>>(), [128, 128, 128, 128, 128, 128, 128, 32, 32, 32, 8]);
        assert_eq!(row_chunks(3).collect::<Vec<_>>(), [1, 1, 1]);
        assert_eq!(row_chunks(0).count(), 0);
    }

    #[test]
    fn database_urls_select_the_backend() {
        assert_eq!(Location::parse("postgres://u:secret@h/db"), Location::Postgres("postgres://u:secret@h/db".into()));
        assert_eq!(Location::parse("sqlite:/tmp/x.db"), Location::Sqlite("/tmp/x.db".into()));
        assert_eq!(Location::parse("sqlite:///tmp/x.db"), Location::Sqlite("/tmp/x.db".into()));
        assert_eq!(Location::parse("x.db"), Location::Sqlite("x.db".into()));
        assert_eq!(Location::parse("postgres://u:secret@h/db").describe(), "PostgreSQL postgres://u@h/db");
    }
}
