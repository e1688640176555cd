//! The database's lineage: its epoch (made at the first migration, new after every announced
//! restore), what a laptop is told of it at every sync ([`for_device`]), and the SQLite backup
//! and restore of `fieldbook-server backup` / `restore` (docs/sync.md, "A server restored from a
//! backup").
//!
//! A restored database has forgotten what happened after its backup: records laptops pushed,
//! their acknowledged outbox numbers, feed positions they pulled. Laptops still hold all of it;
//! told the epoch, the feed's head and their acknowledged numbers, they notice and re-send what
//! they wrote. PostgreSQL is backed up with `pg_dump` and announced with `epoch new`.

use std::fs::File;
use std::path::{Path, PathBuf};

use fieldbook_core::sync::protocol::ServerLineage;

use crate::db::{Backend, Location, Mode, Tx};
use crate::error::{Error, Result};
use crate::params;

/// One epoch of the database.
#[derive(Debug, Clone, PartialEq)]
pub struct Epoch {
    pub number: i64,
    pub epoch: String,
    pub began_at: String,
    pub feed_start: i64,
    pub reason: String,
}

/// The current epoch.
pub fn current(tx: &mut dyn Tx) -> Result<Epoch> {
    let r = tx
        .query_opt("SELECT number, epoch, began_at, feed_start, reason FROM server_epochs ORDER BY number DESC LIMIT 1", params![])?
        .ok_or_else(|| Error::Internal("the database has no epoch (server_epochs is empty); run `fieldbook-server epoch new`".into()))?;
    Ok(Epoch { number: r.int(0)?, epoch: r.text(1)?, began_at: r.text(2)?, feed_start: r.int(3)?, reason: r.text(4)? })
}

/// Starts a new epoch: from now on laptops that synced before treat this database as restored
/// from a backup. Its feed start is the feed's last seq now.
pub fn begin_new(tx: &mut dyn Tx, reason: &str) -> Result<Epoch> {
    let previous = current(tx).map(|e| e.number).unwrap_or(0);
    let epoch = hex::encode(rand::random::<[u8; 16]>());
    let head = feed_head(tx)?;
    tx.execute(
        "INSERT INTO server_epochs (number, epoch, began_at, feed_start, reason) VALUES ($1, $2, $3, $4, $5)",
        params![previous + 1, epoch.as_str(), crate::now_text(), head, reason],
    )?;
    current(tx)
}

fn feed_head(tx: &mut dyn Tx) -> Result<i64> {
    tx.query_one("SELECT COALESCE(MAX(seq), 0) FROM feed", params![])?.int(0)
}

/// What the token check tells a laptop of the database: the epoch, the feed's head and the
/// laptop's acknowledged outbox number with its stamp.
pub fn for_device(tx: &mut dyn Tx, device_id: &str) -> Result<ServerLineage> {
    let e = current(tx)?;
    let (acked_seq, acked_hlc) = match tx.query_opt("SELECT acked_seq, acked_hlc FROM devices WHERE id = $1", params![device_id])? {
        Some(r) => (r.int(0)?, r.opt_text(1)?),
        None => (0, None),
    };
    Ok(ServerLineage { epoch: e.epoch, epoch_feed_start: e.feed_start, feed_head: feed_head(tx)?, acked_seq, acked_hlc })
}

/// The SQLite file of a `--database`, or the error a PostgreSQL one gets for `what`.
pub fn sqlite_path(location: &Location, what: &str) -> Result<PathBuf> {
    match location {
        Location::Sqlite(p) => Ok(p.clone()),
        Location::Postgres(_) => Err(Error::Invalid(format!(
            "`fieldbook-server {what}` is for an SQLite database; back up PostgreSQL with its own tools:\n\
             \n    pg_dump -Fc --file fieldbook.dump 'postgres://USER@HOST/DB'\n\
             \nand restore it into an empty database, then announce the restore so that laptops re-send what it lost:\n\
             \n    pg_restore --no-owner --dbname 'postgres://USER@HOST/NEWDB' fieldbook.dump\
             \n    fieldbook-server epoch new --database 'postgres://USER@HOST/NEWDB'"
        ))),
    }
}

fn sqlite_err(path: &Path, e: rusqlite::Error) -> Error {
    Error::Invalid(format!("{}: {e}", path.display()))
}

fn fsync_dir(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
}

/// A consistent copy of `database` (a live server may be writing to it) as `target`: SQLite's
/// `VACUUM INTO` reads one snapshot; the copy is written under a temporary name in the target's
/// folder, fsynced, then renamed, so `target` is never a half file. Returns its size in bytes.
pub fn backup(database: &Path, target: &Path) -> Result<u64> {
    if !database.exists() {
        return Err(Error::NotFound(format!("no database at {}; give --database", database.display())));
    }
    if target.exists() {
        return Err(Error::Invalid(format!("{} already exists; name a new file for the backup", target.display())));
    }
    let partial = partial_name(target);
    let _ = std::fs::remove_file(&partial);
    let result = (|| {
        let conn = rusqlite::Connection::open_with_flags(database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| sqlite_err(database, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| sqlite_err(database, e))?;
        conn.execute("VACUUM INTO ?1", [partial.to_string_lossy()]).map_err(|e| sqlite_err(database, e))?;
        drop(conn);
        let f = File::open(&partial).map_err(|e| Error::io(&partial, e))?;
        f.sync_all().map_err(|e| Error::io(&partial, e))?;
        let size = f.metadata().map_err(|e| Error::io(&partial, e))?.len();
        std::fs::rename(&partial, target).map_err(|e| Error::io(target, e))?;
        fsync_dir(target)?;
        Ok(size)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn partial_name(target: &Path) -> PathBuf {
    let mut name = target.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".partial-{}", std::process::id()));
    target.with_file_name(name)
}

/// What [`restore`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    /// Where the database that was replaced was kept (`None`: there was none).
    pub replaced_kept_as: Option<PathBuf>,
    /// The restored database's new epoch (`None`: a backup from before epochs; its first
    /// migration at the server's start makes one, new all the same).
    pub epoch: Option<String>,
}

/// Puts the SQLite backup `backup` in place of `database` and starts a new epoch in it.
///
/// Refused while anything has `database` open (a running server): the check takes SQLite's
/// exclusive lock, and keeps it until the swap is done. The backup is checked, copied
/// (`VACUUM INTO`) beside the database, given its new epoch, fsynced, and renamed over it; the
/// database it replaces is first hard-linked as `NAME.replaced-TIME`, so at every moment
/// `database` is the old file or the new one, whole, and the old one stays.
pub fn restore(backup: &Path, database: &Path) -> Result<Restored> {
    let check = rusqlite::Connection::open_with_flags(backup, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| sqlite_err(backup, e))?;
    let ok: String = check.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(|e| sqlite_err(backup, e))?;
    if ok != "ok" {
        return Err(Error::Invalid(format!("{} is damaged ({ok}); choose another backup", backup.display())));
    }
    let version: i64 = check
        .query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))
        .map_err(|_| Error::Invalid(format!("{} is not a Fieldbook server database (no schema_migrations)", backup.display())))?;
    if version > crate::db::latest_version() {
        return Err(Error::SchemaTooNew { database: backup.display().to_string(), found: version, supported: crate::db::latest_version() });
    }
    drop(check);

    // The lock that tells a running server: in WAL mode every open connection holds a shared
    // lock, so an exclusive one is refused while a server has the database open.
    let held = if database.exists() {
        let conn = rusqlite::Connection::open(database).map_err(|e| sqlite_err(database, e))?;
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE").map_err(|e| sqlite_err(database, e))?;
        let locked = conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;");
        if locked.is_err() {
            return Err(Error::Invalid(format!(
                "{} is open in another process (a running fieldbook-server?): stop the server, then restore",
                database.display()
            )));
        }
        // Folds any write-ahead log into the file and removes it, so that no stale log is
        // applied to the restored database, and the file kept aside is whole on its own.
        conn.pragma_update(None, "journal_mode", "DELETE").map_err(|e| sqlite_err(database, e))?;
        // Nothing else has the file open (the lock says so): no stale shared-memory index stays
        // beside the restored file.
        for suffix in ["-wal", "-shm"] {
            let mut name = database.as_os_str().to_owned();
            name.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(name));
        }
        Some(conn)
    } else {
        None
    };

    let incoming = {
        let mut name = database.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".restoring");
        database.with_file_name(name)
    };
    let _ = std::fs::remove_file(&incoming);
    let result = (|| {
        let src = rusqlite::Connection::open_with_flags(backup, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| sqlite_err(backup, e))?;
        src.execute("VACUUM INTO ?1", [incoming.to_string_lossy()]).map_err(|e| sqlite_err(backup, e))?;
        drop(src);
        let epoch = {
            let mut conn = rusqlite::Connection::open(&incoming).map_err(|e| sqlite_err(&incoming, e))?;
            conn.pragma_update(None, "journal_mode", "DELETE").map_err(|e| sqlite_err(&incoming, e))?;
            let has_epochs: bool = conn
                .query_row("SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'server_epochs'", [], |r| r.get(0))
                .map_err(|e| sqlite_err(&incoming, e))?;
            if has_epochs {
                let tx = conn.transaction().map_err(|e| sqlite_err(&incoming, e))?;
                let epoch = hex::encode(rand::random::<[u8; 16]>());
                tx.execute(
                    "INSERT INTO server_epochs (number, epoch, began_at, feed_start, reason)
                     VALUES ((SELECT COALESCE(MAX(number), 0) + 1 FROM server_epochs), ?1, ?2, (SELECT COALESCE(MAX(seq), 0) FROM feed), ?3)",
                    rusqlite::params![epoch, crate::now_text(), format!("restored from {}", backup.display())],
                )
                .map_err(|e| sqlite_err(&incoming, e))?;
                tx.commit().map_err(|e| sqlite_err(&incoming, e))?;
                Some(epoch)
            } else {
                None
            }
        };
        File::open(&incoming).and_then(|f| f.sync_all()).map_err(|e| Error::io(&incoming, e))?;
        let kept = match &held {
            Some(_) => {
                let mut name = database.file_name().map(|n| n.to_os_string()).unwrap_or_default();
                name.push(format!(".replaced-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ")));
                let aside = database.with_file_name(name);
                std::fs::hard_link(database, &aside).map_err(|e| Error::io(&aside, e))?;
                Some(aside)
            }
            None => None,
        };
        std::fs::rename(&incoming, database).map_err(|e| Error::io(database, e))?;
        fsync_dir(database)?;
        Ok(Restored { replaced_kept_as: kept, epoch })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&incoming);
    }
    drop(held);
    result
}

/// `fieldbook-server epoch new`: announces a restore done by other means (`pg_restore`, a
/// file copied back by hand).
pub fn announce_restore(db: &crate::db::Db, reason: &str) -> Result<Epoch> {
    db.transaction(Mode::Write, |tx| begin_new(tx, reason))
}

/// For messages: which backend `db` is.
pub fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    }
}
