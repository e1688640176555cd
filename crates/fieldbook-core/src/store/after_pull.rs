//! What a pull leaves for after its last page, done on a thread with a connection of its own:
//! the search documents of the records it inserted in bulk, then the WAL checkpoint.
//!
//! **Search documents.** Built one row at a time by the insert triggers, a record's search
//! document (a `search_docs` row and its FTS5 trigram entries) was about a third of applying a
//! first pull. A page's new records are inserted with the triggers standing aside
//! (`search_bulk`), noting their rowids in `search_backlog` in the same transaction; afterwards
//! [`index_backlog`] builds their documents from the `search_source` view (migration 0007).
//! [`Store::search`](super::Store::search) waits for it, so a search never misses a record it
//! could see; a store opened with a backlog left (a crash in between) catches up first.
//!
//! **Checkpoint.** SQLite checkpoints on the committing connection once the WAL passes 1,000
//! pages, so each page of a first pull paid for copying the previous pages' writes into the
//! database file and syncing it: about 125 ms of applying 50,000 records, with the store
//! locked. During a pull those automatic checkpoints pause; after it one PASSIVE checkpoint (it
//! never blocks the app's reads or writes) runs here, and the automatic ones resume at the next
//! write once it is done. Every page was committed to the WAL already, and a crash
//! mid-checkpoint is safe: SQLite finishes it at the next open.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::at_rest::StoreKey;
use crate::error::Result;

/// SQLite's default threshold, in WAL pages.
pub(crate) const AUTOCHECKPOINT_PAGES: i64 = 1000;

/// Entities with search documents (the tables `search_source` reads).
pub(crate) const SEARCHED: [&str; 5] = ["customers", "sites", "assets", "work_orders", "repair_records"];

/// Fewer new records than this in a page are indexed by the triggers as they are inserted: a
/// background run is worth it only for bulk.
pub(crate) const BULK_MIN_ROWS: usize = 256;

/// Builds the search documents of every backlog entry, oldest first, one entry per transaction
/// (each takes a few milliseconds, so the app's own writes never wait long).
pub(crate) fn index_backlog(conn: &mut Connection) -> Result<()> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let next: Option<(i64, String, i64, i64)> = tx
            .query_row("SELECT seq, entity, from_row, to_row FROM search_backlog ORDER BY seq LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let Some((seq, entity, from, to)) = next else { return Ok(()) };
        // In id order, so the documents' (kind, record_id) index is written in one sweep.
        tx.execute(
            "INSERT INTO search_docs(kind, record_id, order_id, title, body)
             SELECT kind, record_id, order_id, title, body FROM search_source WHERE entity = ?1 AND row BETWEEN ?2 AND ?3 ORDER BY record_id
             ON CONFLICT(kind, record_id) DO UPDATE SET order_id = excluded.order_id, title = excluded.title, body = excluded.body",
            rusqlite::params![entity, from, to],
        )?;
        tx.execute("DELETE FROM search_backlog WHERE seq = ?1", [seq])?;
        tx.commit()?;
    }
}

#[derive(Default)]
pub(crate) struct AfterPull {
    /// A pull's pages are being applied.
    pulling: bool,
    /// Automatic checkpoints are off on the store's connection.
    paused: bool,
    background: Option<Background>,
}

struct Background {
    thread: JoinHandle<()>,
    /// Set once the backlog is indexed (successfully or not), before the checkpoint.
    indexed: Arc<(Mutex<bool>, Condvar)>,
}

impl AfterPull {
    /// Before a pulled page: no automatic checkpoint at its commit.
    pub(crate) fn pause(&mut self, conn: &Connection) -> Result<()> {
        self.pulling = true;
        if !self.paused {
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
            self.paused = true;
        }
        Ok(())
    }

    /// After a pull's last page (or a failed one): indexes and checkpoints in the background.
    pub(crate) fn pull_done(&mut self, conn: &mut Connection, path: &Path, key: Option<&StoreKey>) -> Result<()> {
        self.pulling = false;
        // One at a time: the previous run may have looked at the backlog before this pull
        // added to it.
        self.finish();
        let indexed = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = indexed.clone();
        let path = path.to_owned();
        let key = key.cloned();
        let spawned = std::thread::Builder::new().name("fieldbook-after-pull".into()).spawn(move || {
            // Failures cost nothing but time: a backlog left is indexed at the next open or
            // pull, and the automatic checkpoints retry a checkpoint.
            // Searches are let go however this ends, a panic included.
            let indexed = Indexed(signal);
            let conn = Connection::open(&path).and_then(|c| {
                if let Some(key) = &key {
                    c.pragma_update(None, "key", key.sqlcipher_key().as_str())?;
                }
                c.busy_timeout(std::time::Duration::from_secs(10))?;
                Ok(c)
            });
            let mut conn = conn.ok();
            if let Some(conn) = conn.as_mut() {
                let _ = index_backlog(conn);
            }
            drop(indexed);
            if let Some(conn) = conn {
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        });
        match spawned {
            Ok(thread) => self.background = Some(Background { thread, indexed }),
            // No thread to be had: do it all here, as the triggers and SQLite would have.
            Err(_) => {
                index_backlog(conn)?;
                self.resume(conn)?;
            }
        }
        Ok(())
    }

    /// A pull stopped before its last page (the network went, the server refused): what its
    /// pages left is done now, not at the end of some later pull.
    pub(crate) fn end(&mut self, conn: &mut Connection, path: &Path, key: Option<&StoreKey>) -> Result<()> {
        if self.pulling {
            self.pull_done(conn, path, key)?;
        }
        Ok(())
    }

    /// Before a search: the documents of the last finished pull are built. (Records of a pull
    /// still under way become searchable when it ends.)
    pub(crate) fn wait_for_search(&self) {
        if let Some(b) = &self.background {
            let (done, wake) = &*b.indexed;
            let mut done = done.lock().unwrap_or_else(PoisonError::into_inner);
            while !*done {
                done = wake.wait(done).unwrap_or_else(PoisonError::into_inner);
            }
        }
    }

    /// Before any other write: once the background run finished, SQLite's automatic
    /// checkpoints take over again.
    pub(crate) fn settle(&mut self, conn: &Connection) -> Result<()> {
        if self.pulling || self.background.as_ref().is_some_and(|b| !b.thread.is_finished()) {
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

    /// Waits for the background run (before the store closes or its files are removed).
    pub(crate) fn finish(&mut self) {
        if let Some(b) = self.background.take() {
            let _ = b.thread.join();
        }
    }
}

/// Marks the backlog indexed and wakes the searches waiting for it, when dropped.
struct Indexed(Arc<(Mutex<bool>, Condvar)>);

impl Drop for Indexed {
    fn drop(&mut self) {
        let (done, wake) = &*self.0;
        *done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
    }
}

impl Drop for AfterPull {
    fn drop(&mut self) {
        self.finish();
    }
}
