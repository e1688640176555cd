//! The SQLite backend: one file in WAL mode. Writers take the database's single write lock at
//! `BEGIN IMMEDIATE`, which is what keeps feed sequence numbers gap-free; readers never wait.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};

use super::{dollar_to_question, Backend, Connection, Mode, Row, Tx, Value};
use crate::error::{Error, Result};

/// (address, length) of a statement's text → (that text, its SQLite form).
type Rewritten = HashMap<(usize, usize), (Box<str>, Box<str>)>;

pub(super) struct SqliteConn {
    conn: rusqlite::Connection,
    healthy: bool,
    /// `$N` SQL as the server writes it → the `?N` SQL SQLite runs, keyed by where the text lives
    /// (nearly every statement is a `&'static str`) and checked against the text itself.
    rewritten: Rewritten,
}

impl SqliteConn {
    pub(super) fn open(path: &Path) -> Result<SqliteConn> {
        let conn = rusqlite::Connection::open(path)
            .map_err(|e| Error::io(path, std::io::Error::other(format!("cannot open the database: {e}; check --database"))))?;
        // A push waits for another push's commit rather than failing: writes are short.
        conn.busy_timeout(Duration::from_secs(30)).map_err(super::DbError::from)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(super::DbError::from)?;
        // The server acknowledges a push only after commit: the commit must survive a power cut.
        conn.pragma_update(None, "synchronous", "FULL").map_err(super::DbError::from)?;
        // Checkpoints run on a thread of their own ([`Checkpointer`]), not inside the commit of
        // whichever transaction crosses the threshold; this far larger threshold only guards
        // against that thread falling behind.
        conn.pragma_update(None, "wal_autocheckpoint", AUTOCHECKPOINT_PAGES).map_err(super::DbError::from)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(super::DbError::from)?;
        // Every statement the server runs stays prepared (the default keeps only 16, fewer than
        // one push uses, so statements were re-prepared over and over).
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(SqliteConn { conn, healthy: true, rewritten: HashMap::new() })
    }
}

/// WAL pages after which a committing connection checkpoints by itself (SQLite's default is
/// 1,000; see [`Checkpointer`]).
const AUTOCHECKPOINT_PAGES: i64 = 20_000;

/// How long the checkpointer lets commits gather before copying them into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

/// Copies committed WAL frames into the database file on a thread of its own, shortly after
/// commits, so that no request waits for a checkpoint (copying pages and syncing the database
/// file) inside its commit. Durability is unchanged: a commit is durable once its WAL frames are
/// synced (synchronous=FULL); a checkpoint syncs the database file before the WAL is reused.
pub(super) struct Checkpointer {
    shared: Arc<(Mutex<CheckpointState>, Condvar)>,
}

#[derive(Default)]
struct CheckpointState {
    pending: bool,
    stop: bool,
}

impl Checkpointer {
    pub(super) fn start(path: &Path) -> Checkpointer {
        let shared: Arc<(Mutex<CheckpointState>, Condvar)> = Arc::default();
        let (theirs, path) = (shared.clone(), path.to_owned());
        let spawned = std::thread::Builder::new().name("fieldbook-checkpoint".into()).spawn(move || {
            let conn = match rusqlite::Connection::open(&path) {
                Ok(c) => c,
                Err(e) => return tracing::warn!(error = %e, "cannot open the database for checkpoints; commits will checkpoint by themselves"),
            };
            let _ = conn.busy_timeout(Duration::from_secs(5));
            let (lock, wake) = &*theirs;
            loop {
                {
                    let mut st = lock.lock().unwrap_or_else(|e| e.into_inner());
                    while !st.pending && !st.stop {
                        st = wake.wait(st).unwrap_or_else(|e| e.into_inner());
                    }
                    if st.stop {
                        return;
                    }
                }
                std::thread::sleep(CHECKPOINT_EVERY);
                lock.lock().unwrap_or_else(|e| e.into_inner()).pending = false;
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "a WAL checkpoint failed");
                }
            }
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the checkpoint thread; commits will checkpoint by themselves");
        }
        Checkpointer { shared }
    }

    /// A transaction wrote: checkpoint soon.
    pub(super) fn nudge(&self) {
        let (lock, wake) = &*self.shared;
        let mut st = lock.lock().unwrap_or_else(|e| e.into_inner());
        if !st.pending {
            st.pending = true;
            wake.notify_one();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (lock, wake) = &*self.shared;
        lock.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
        wake.notify_one();
    }
}

/// Rewritten statement texts kept per connection (far more than the server has).
const REWRITTEN_LIMIT: usize = 4096;

/// Prepared statements kept per connection: comfortably more than the distinct statements the
/// server runs (the multi-row statements of [`super::multi_row`] come in a few sizes only).
const STATEMENT_CACHE: usize = 256;

struct Param<'a>(&'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

fn read_value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        // No REAL columns exist in the server schema; a computed real is returned as text.
        ValueRef::Real(r) => Value::Text(r.to_string()),
        ValueRef::Text(t) => Value::Text(match std::str::from_utf8(t) {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(t).into_owned(),
        }),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

impl SqliteConn {
    /// The statement rewritten for SQLite, rewriting each distinct text once per connection.
    fn rewrite<'a>(rewritten: &'a mut Rewritten, sql: &str) -> &'a str {
        let key = (sql.as_ptr() as usize, sql.len());
        let hit = rewritten.get(&key).is_some_and(|(original, _)| **original == *sql);
        if !hit {
            if rewritten.len() >= REWRITTEN_LIMIT {
                rewritten.clear();
            }
            rewritten.insert(key, (sql.into(), dollar_to_question(sql).into()));
        }
        &rewritten[&key].1
    }

    fn track<T>(&mut self, r: rusqlite::Result<T>) -> Result<T> {
        if let Err(rusqlite::Error::SqliteFailure(e, _)) = &r {
            if matches!(e.code, rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::SystemIoFailure) {
                self.healthy = false;
            }
        }
        r.map_err(|e| super::DbError::from(e).into())
    }
}

impl Tx for SqliteConn {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let sql = Self::rewrite(&mut self.rewritten, sql);
        let r = self.conn.prepare_cached(sql).and_then(|mut s| s.execute(rusqlite::params_from_iter(params.iter().map(Param))));
        self.track(r).map(|n| n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let sql = Self::rewrite(&mut self.rewritten, sql);
        let r = self.conn.prepare_cached(sql).and_then(|mut s| {
            let n = s.column_count();
            let rows = s.query_map(rusqlite::params_from_iter(params.iter().map(Param)), |r| {
                (0..n).map(|i| r.get_ref(i).map(read_value)).collect::<rusqlite::Result<Vec<_>>>().map(Row)
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        });
        self.track(r)
    }

    fn execute_batch(&mut self, sql: &str) -> Result<()> {
        let r = self.conn.execute_batch(sql);
        self.track(r)
    }
}

impl Connection for SqliteConn {
    fn begin(&mut self, mode: Mode) -> Result<()> {
        let sql = match mode {
            Mode::Read => "BEGIN DEFERRED",
            Mode::Write | Mode::Feed => "BEGIN IMMEDIATE",
        };
        let r = self.conn.execute_batch(sql);
        self.track(r)
    }

    fn commit(&mut self) -> Result<()> {
        let r = self.conn.execute_batch("COMMIT");
        self.track(r)
    }

    fn rollback(&mut self) {
        if !self.conn.is_autocommit() && self.conn.execute_batch("ROLLBACK").is_err() {
            self.healthy = false;
        }
    }

    fn as_tx(&mut self) -> &mut dyn Tx {
        self
    }

    fn is_healthy(&self) -> bool {
        self.healthy && self.conn.is_autocommit()
    }
}
