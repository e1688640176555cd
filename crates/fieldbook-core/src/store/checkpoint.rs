//! When the laptop's WAL is copied back into the database file (a checkpoint) around a pull.
//!
//! SQLite checkpoints on the committing connection once the WAL passes 1,000 pages, so each
//! page of a first pull paid for copying the previous pages' writes into the database file and
//! syncing it: about 125 ms of applying 50,000 records, with the store locked. During a pull
//! those automatic checkpoints pause; after its last page one checkpoint runs on a connection
//! of its own on a background thread (PASSIVE: it never blocks the app's reads or writes), and
//! the automatic ones resume once it is done. Nothing waits for it: every page was committed
//! (and synced, `synchronous=FULL`) to the WAL already, and a crash mid-checkpoint is safe —
//! SQLite finishes it at the next open.

use std::path::Path;
use std::thread::JoinHandle;

use rusqlite::Connection;

use crate::error::Result;

/// SQLite's default threshold, in WAL pages.
pub(crate) const AUTOCHECKPOINT_PAGES: i64 = 1000;

#[derive(Default)]
pub(crate) struct WalCheckpoints {
    /// A pull's pages are being applied.
    pulling: bool,
    /// Automatic checkpoints are off on the store's connection.
    paused: bool,
    /// The checkpoint after the last pull, until it is seen to have finished.
    background: Option<JoinHandle<()>>,
}

impl WalCheckpoints {
    /// Before a pulled page: no automatic checkpoint at its commit.
    pub(crate) fn pause(&mut self, conn: &Connection) -> Result<()> {
        self.pulling = true;
        if !self.paused {
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
            self.paused = true;
        }
        Ok(())
    }

    /// After a pull's last page (or a failed one): checkpoints in the background.
    pub(crate) fn pull_done(&mut self, conn: &Connection, path: &Path) -> Result<()> {
        self.pulling = false;
        if self.background.as_ref().is_some_and(|t| !t.is_finished()) {
            // The previous one is still copying; the automatic checkpoints that resume after
            // it take the rest.
            return Ok(());
        }
        let path = path.to_owned();
        let spawned = std::thread::Builder::new().name("fieldbook-checkpoint".into()).spawn(move || {
            // A failed checkpoint costs nothing but time: the automatic ones retry it.
            if let Ok(conn) = Connection::open(&path) {
                let _ = conn.busy_timeout(std::time::Duration::from_secs(10));
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        });
        match spawned {
            Ok(handle) => self.background = Some(handle),
            // No thread to be had: checkpoint as SQLite always would, at the next commit.
            Err(_) => self.resume(conn)?,
        }
        Ok(())
    }

    /// Before any other write: once the background checkpoint finished, SQLite's automatic
    /// checkpoints take over again.
    pub(crate) fn settle(&mut self, conn: &Connection) -> Result<()> {
        if self.pulling || self.background.as_ref().is_some_and(|t| !t.is_finished()) {
            return Ok(());
        }
        self.finish();
        if self.paused {
            self.resume(conn)?;
        }
        Ok(())
    }

    fn resume(&mut self, conn: &Connection) -> Result<()> {
        conn.pragma_update(None, "wal_autocheckpoint", AUTOCHECKPOINT_PAGES)?;
        self.paused = false;
        Ok(())
    }

    /// Waits for the background checkpoint (before the store closes or its files are removed).
    pub(crate) fn finish(&mut self) {
        if let Some(t) = self.background.take() {
            let _ = t.join();
        }
    }
}

impl Drop for WalCheckpoints {
    fn drop(&mut self) {
        self.finish();
    }
}
