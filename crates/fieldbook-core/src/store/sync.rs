//! The laptop's side of sync, without any transport: which outbox entries to push, what to do
//! with the server's acknowledgement, how to apply a pulled page, and the state shown as
//! "sync status". The HTTP client (`fieldbook-sync`) drives these.
//!
//! Invariants: an outbox entry is deleted only by an acknowledgement that covers it; a pulled
//! page and the cursor after it commit together, so a crash mid-pull repeats the page instead of
//! skipping it; applying the same page twice changes nothing.

use std::collections::{HashMap, HashSet};

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{after_pull, clocks, ts, Store};
use crate::entity;
use crate::error::{Error, Result};
use crate::sync::merge::{merge_into, IncomingWrite, RecordState, Stamps};
use crate::sync::stamps;
use crate::sync::protocol::{FeedChange, PullResponse, PushEntry, PushResponse, Rejection};

/// SQLite's page cache while a pulled page is applied, and otherwise (SQLite's default), as
/// `PRAGMA cache_size` values (negative: KiB).
const PULL_CACHE_KIB: i64 = -32 * 1024;
const DEFAULT_CACHE_KIB: i64 = -2000;

/// Where this laptop syncs to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enrolment {
    pub server_url: String,
    #[serde(skip_serializing)]
    pub device_token: String,
    pub technician: String,
    /// The user allowed plain `http://` to this server although it is not this computer.
    pub allow_insecure_http: bool,
}

/// Everything the "sync status" line shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncStatus {
    pub enrolled: bool,
    pub server_url: Option<String>,
    pub technician: Option<String>,
    /// Changes waiting to be pushed.
    pub pending_changes: i64,
    pub pull_cursor: i64,
    pub last_success_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_error: Option<String>,
    /// Set when the server revoked this laptop.
    pub revoked_reason: Option<String>,
    /// Entries the server refused for good, newest first.
    pub rejections: Vec<Rejection>,
    /// Plain `http://` to a server that is not this computer is allowed (and warned about).
    pub allow_insecure_http: bool,
    /// Pulled records this laptop could not store, newest first (at most 50 listed).
    pub pull_refused: Vec<PullRefusal>,
    /// How many there are in all.
    pub pull_refused_total: i64,
    /// When this laptop last found its server restored from a backup, and how many records it
    /// re-sent then.
    pub server_restore: Option<(String, i64)>,
    /// How far this laptop's clock ran ahead of the server's at the last sync, when by more
    /// than half of what the server accepts (`hlc::MAX_AHEAD_MS`): its changes stamped further
    /// ahead are refused and kept for the office until the clock is set right.
    pub clock_ahead_ms: Option<i64>,
    /// The company's offline-lock limit in days, as last received (`None`: off).
    pub offline_lock_days: Option<i64>,
    /// Set while this laptop is locked for not having synced within that limit.
    pub offline_lock: Option<super::OfflineLock>,
}

/// A pulled record this laptop could not store: the rest of its page applied and the cursor
/// moved on; the record waits here until a version that applies arrives.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PullRefusal {
    pub entity: String,
    pub record_id: String,
    /// The feed change refused (the latest of this record).
    pub feed_seq: i64,
    pub reason: String,
    pub refused_at: String,
}

/// What applying one pulled page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PullApplied {
    /// Local records changed.
    pub changed: usize,
    /// Records of the page this laptop could not store (kept in `pull_refused`).
    pub refused: usize,
    /// Records kept aside before that the page brought in a form that applies.
    pub cleared: usize,
}

impl Store {
    pub fn enrolment(&self) -> Result<Option<Enrolment>> {
        Ok(self
            .conn
            .query_row("SELECT server_url, device_token, technician, allow_insecure_http FROM sync_state WHERE id = 1 AND device_token IS NOT NULL", [], |r| {
                Ok(Enrolment { server_url: r.get(0)?, device_token: r.get(1)?, technician: r.get(2)?, allow_insecure_http: r.get(3)? })
            })
            .optional()?)
    }

    /// Records a successful enrolment: the server, the device token and whose laptop this is.
    /// Enrolling with another server or as another technician starts that feed from the top
    /// (a cursor from a different feed would skip its beginning); re-pointing the same
    /// enrolment at a new address keeps the cursor.
    pub fn set_enrolment(&mut self, server_url: &str, device_token: &str, technician: &str) -> Result<()> {
        let url = server_url.trim_end_matches('/');
        let same_feed: bool = self.conn.query_row(
            "SELECT coalesce(technician = ?1 AND (server_url = ?2 OR device_token = ?3), 0) FROM sync_state WHERE id = 1",
            params![technician, url, device_token],
            |r| r.get(0),
        )?;
        self.conn.execute(
            "UPDATE sync_state SET server_url = ?1, device_token = ?2, technician = ?3, revoked_reason = NULL, last_error = NULL,
                 pull_cursor = CASE WHEN ?4 THEN pull_cursor ELSE 0 END,
                 server_epoch = CASE WHEN ?4 THEN server_epoch END, server_acked_seq = CASE WHEN ?4 THEN server_acked_seq ELSE 0 END WHERE id = 1",
            params![url, device_token, technician, same_feed],
        )?;
        if !same_feed {
            self.conn.execute("DELETE FROM sync_rejections", [])?;
            self.conn.execute("DELETE FROM pull_refused", [])?;
        }
        self.set_technician(technician)
    }

    /// Replaces the device token with one the server handed out (a rotation or a renewal), in
    /// one statement, so that the new token is on disk before the first request that uses it:
    /// the server retires the old token only when it sees the new one, so a crash on either
    /// side of this write leaves the laptop holding a token that works.
    pub fn set_device_token(&mut self, device_token: &str) -> Result<()> {
        let n = self.conn.execute("UPDATE sync_state SET device_token = ?1 WHERE id = 1 AND device_token IS NOT NULL", [device_token])?;
        if n == 0 {
            return Err(Error::invalid("sync_state", "device_token", "this laptop is not enrolled, so there is no token to replace; enrol it with a code from the office"));
        }
        Ok(())
    }

    /// The device key's signature (hex) of a token renewal challenge from the enrolled server
    /// ([`crate::signature::token_renewal_message`] with this laptop's device id). The secret key
    /// never leaves the store.
    pub fn sign_token_renewal(&self, nonce: &str) -> String {
        crate::signature::sign_token_renewal(self.device().signing_key(), &self.device().id, nonce)
    }

    /// Allows (or no longer allows) plain `http://` to the enrolled server although it is not
    /// this computer. The sync client refuses such an address otherwise, and warns at every
    /// sync while it is allowed.
    pub fn set_allow_insecure_http(&mut self, allow: bool) -> Result<()> {
        self.conn.execute("UPDATE sync_state SET allow_insecure_http = ?1 WHERE id = 1", [allow])?;
        Ok(())
    }

    /// The oldest outbox entries, in sequence order, as the protocol sends them.
    pub fn pending_push(&self, limit: usize) -> Result<Vec<PushEntry>> {
        let mut stmt = self.conn.prepare_cached("SELECT seq, entity, record_id, fields, hlc, base, stamps FROM outbox ORDER BY seq LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| {
            let parse = |i: usize, s: String| -> rusqlite::Result<Map<String, Value>> {
                serde_json::from_str(&s).map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
            };
            Ok(PushEntry {
                seq: r.get(0)?,
                entity: r.get(1)?,
                record_id: r.get(2)?,
                fields: parse(3, r.get(3)?)?,
                hlc: r.get(4)?,
                base: parse(5, r.get(5)?)?,
                stamps: r.get::<_, Option<String>>(6)?.map(|t| parse(6, t)).transpose()?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Applies the server's answer to a push: entries up to `acked_seq` leave the outbox, refused
    /// ones are kept for the technician to see, and the clock moves past the server's.
    pub fn acknowledge(&mut self, resp: &PushResponse) -> Result<()> {
        self.write(|tx| {
            for r in &resp.rejected {
                let fields: Option<String> = tx.conn().query_row("SELECT fields FROM outbox WHERE seq = ?1", [r.seq], |x| x.get(0)).optional()?;
                tx.conn().execute(
                    "INSERT OR REPLACE INTO sync_rejections(seq, entity, record_id, fields, reason, rejected_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![r.seq, r.entity, r.record_id, fields.unwrap_or_else(|| "{}".into()), r.reason, ts(tx.now())],
                )?;
            }
            tx.conn().execute("DELETE FROM outbox WHERE seq <= ?1", [resp.acked_seq])?;
            // What the server has acknowledged: a server later found below it lost data.
            tx.conn().execute("UPDATE sync_state SET server_acked_seq = max(server_acked_seq, ?1) WHERE id = 1", [resp.acked_seq])?;
            tx.observe(&resp.server_hlc);
            note_server_clock(tx.conn(), &resp.server_hlc)?;
            Ok(())
        })
    }

    /// Gives the unsynced outbox entries numbers after `acked_seq`, keeping their order, and
    /// makes later writes continue from there. For a store restored from a backup: the server
    /// has applied (and acknowledged) numbers up to `acked_seq` that this store hands out again,
    /// and would skip those entries as duplicates. Returns how many entries were renumbered.
    pub fn renumber_outbox_after(&mut self, acked_seq: i64) -> Result<usize> {
        self.write(|tx| {
            let first: Option<i64> = tx.conn().query_row("SELECT min(seq) FROM outbox", [], |r| r.get(0))?;
            let Some(first) = first.filter(|f| *f <= acked_seq) else { return Ok(0) };
            let shift = acked_seq - first + 1;
            // Through negative numbers, so that no entry takes a number another still holds.
            tx.conn().execute("UPDATE outbox SET seq = -(seq + ?1)", [shift])?;
            let moved = tx.conn().execute("UPDATE outbox SET seq = -seq", [])?;
            tx.conn().execute(
                "UPDATE sqlite_sequence SET seq = max(seq, (SELECT max(seq) FROM outbox)) WHERE name = 'outbox'",
                [],
            )?;
            Ok(moved)
        })
    }

    pub fn pull_cursor(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT pull_cursor FROM sync_state WHERE id = 1", [], |r| r.get(0))?)
    }

    /// Applies one pulled page and moves the cursor, in one transaction. Returns how many
    /// records changed here; see [`Store::apply_pull_page`].
    pub fn apply_pull(&mut self, page: &PullResponse) -> Result<usize> {
        Ok(self.apply_pull_page(page)?.changed)
    }

    /// Applies one pulled page and moves the cursor, in one transaction. A record this laptop's
    /// schema refuses (a value outside its CHECK constraints) does not hold the page up: the
    /// rest applies, and the record is kept in `pull_refused` with the reason (see
    /// `sync_status`) until a version of it that applies arrives.
    pub fn apply_pull_page(&mut self, page: &PullResponse) -> Result<PullApplied> {
        for c in &page.changes {
            if entity::spec(&c.entity).is_none() {
                return Err(Error::invalid(format!("pulled change {}", c.seq), "entity", format!("'{}' is unknown to this Fieldbook; update Fieldbook", c.entity)));
            }
        }
        // A page of thousands of records dirties more pages than SQLite's default 2 MiB cache
        // holds, and a transaction that outgrows its cache spills pages to the WAL mid-way (a
        // third of a first pull's time went to those writes). The larger cache is for the pull
        // only: shrinking it back after the last page (or a failed one) frees the pages, so the
        // app's idle memory stays as it was. Between pages of one pull it stays, warm: emptied
        // after every page, the next one faulted in and read back all it needed again.
        // Its checkpoints wait until after the pull, off this thread (see `after_pull`).
        self.conn.pragma_update(None, "cache_size", PULL_CACHE_KIB)?;
        self.after_pull.pause(&self.conn)?;
        // A pulled page is committed without waiting for the disk (synchronous=NORMAL: in WAL
        // mode a power cut may roll back the last commits, never tear one). Unlike the
        // technician's typing, a page lost that way is pulled again: its cursor rolls back
        // with it. Saves an fsync per page, ~10 % of a first pull.
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let applied = self.apply_page(page).and_then(|a| self.retry_refused(a));
        // The company's offline lock travels with every page; the last one applied is kept.
        // Not in the page's transaction: the retry above applies pages of its own, which carry
        // no setting.
        let applied = applied.and_then(|a| super::offline_lock::store_limit(&self.conn, page.offline_lock_days).map(|()| a));
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        if !page.more || applied.is_err() {
            self.conn.pragma_update(None, "cache_size", DEFAULT_CACHE_KIB)?;
            self.after_pull.pull_done(&mut self.conn, &self.path, self.key.as_ref())?;
        }
        applied
    }

    /// Ends a pull that stopped before its last page (a network cut, a refusal): gives back
    /// the pull's page cache and does now what its pages left for after the pull (search
    /// documents, the WAL checkpoint). Does nothing when no pull is under way.
    pub fn end_pull(&mut self) -> Result<()> {
        self.conn.pragma_update(None, "cache_size", DEFAULT_CACHE_KIB)?;
        self.after_pull.end(&mut self.conn, &self.path, self.key.as_ref())
    }

    fn apply_page(&mut self, page: &PullResponse) -> Result<PullApplied> {
        match self.apply_page_with(page, false) {
            // A record of this page refers to one that is not here (typically a child of a
            // record refused here or in an earlier page): only the commit finds out, since
            // references are checked then. Applied again, such new records are refused too.
            Err(Error::Sqlite(e)) if is_foreign_key_violation(&e) => self.apply_page_with(page, true),
            other => other,
        }
    }

    /// After a page that cleared refusals (a record arrived in a form that applies), tries the
    /// records still kept aside again, as they came: those that refer to it (its children,
    /// refused because it was missing) go in now rather than waiting for a change of their own.
    /// Costs nothing unless a refusal was cleared.
    fn retry_refused(&mut self, mut applied: PullApplied) -> Result<PullApplied> {
        let mut cleared = applied.cleared;
        // Each round may let the next generation in (a site, then its assets, …).
        for _ in 0..8 {
            if cleared == 0 {
                break;
            }
            let again = self.apply_refused_again()?;
            applied.changed += again.changed;
            cleared = again.cleared;
        }
        Ok(applied)
    }

    fn apply_refused_again(&mut self) -> Result<PullApplied> {
        let mut stmt = self.conn.prepare("SELECT feed_seq, entity, record_id, fields, clocks FROM pull_refused ORDER BY feed_seq")?;
        let kept: Vec<FeedChange> = stmt
            .query_map([], |r| {
                let json = |i: usize, s: String| serde_json::from_str::<Map<String, Value>>(&s).map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)));
                Ok(FeedChange { seq: r.get(0)?, entity: r.get(1)?, record_id: r.get(2)?, fields: json(3, r.get(3)?)?, clocks: json(4, r.get(4)?)? })
            })?
            .collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        if kept.is_empty() || kept.iter().any(|c| entity::spec(&c.entity).is_none()) {
            return Ok(PullApplied::default());
        }
        let cursor = self.pull_cursor()?;
        let hlc: String = self.conn.query_row("SELECT coalesce((SELECT value FROM settings WHERE key = 'hlc'), '')", [], |r| r.get(0))?;
        self.apply_page(&PullResponse { changes: kept, next_cursor: cursor, more: false, server_hlc: hlc, offline_lock_days: None })
    }

    /// `repair_references`: before committing, refuse (and remove) the new records of this
    /// page whose references do not resolve.
    fn apply_page_with(&mut self, page: &PullResponse, repair_references: bool) -> Result<PullApplied> {
        self.write(|tx| {
            // A page may carry a child before its parent (e.g. a scope grant); the references are
            // checked when the whole page is in.
            tx.conn().execute_batch("PRAGMA defer_foreign_keys = ON")?;
            let mut changed = 0;
            let mut known = stamps_of_page(tx, page)?;
            let mut seen = HashSet::new();
            let mut new_records = NewRecords::default();
            // Changes this laptop cannot store, with the reason; rare, so nothing is spent on
            // them unless one happens.
            let mut refused: Vec<(&FeedChange, String)> = Vec::new();
            // Refused after being counted as changed (new records refused at their insert).
            let mut uncounted = 0;
            let mut inserted: HashSet<(&str, &str)> = HashSet::new();
            for c in &page.changes {
                let key = (c.entity.as_str(), c.record_id.as_str());
                let clocks = if seen.insert(key) {
                    known.get_mut(key.0).and_then(|m| m.remove(key.1)).unwrap_or_default()
                } else {
                    // The same record again in this page: the earlier change must be in before
                    // this one merges with it.
                    if new_records.holds(c) {
                        uncounted += new_records.write(tx, &mut refused)?;
                    }
                    tx.field_clocks(&c.entity, &c.record_id)?
                };
                // Every local write stamps its fields, so a record without stamps is new here
                // (most of a first pull).
                let applied = if clocks.is_empty() {
                    let added = new_records.add(c);
                    if added && repair_references {
                        inserted.insert(key);
                    }
                    added
                } else {
                    match apply_change(tx, c, clocks) {
                        Ok(applied) => applied,
                        // The statement that failed wrote nothing (SQLite undoes a failed
                        // statement whole and the transaction goes on), and it was the change's
                        // first write: the record stays as it was here.
                        Err(Error::Sqlite(e)) => match refusal(&e) {
                            Some(reason) => {
                                refused.push((c, reason));
                                false
                            }
                            None => return Err(e.into()),
                        },
                        Err(e) => return Err(e),
                    }
                };
                if applied {
                    changed += 1;
                }
            }
            uncounted += new_records.write(tx, &mut refused)?;
            if repair_references {
                uncounted += refuse_dangling(tx, page, &inserted, &mut refused)?;
            }
            let outstanding = !refused.is_empty() || tx.conn().query_row("SELECT EXISTS (SELECT 1 FROM pull_refused)", [], |r| r.get::<_, bool>(0))?;
            let cleared = if outstanding { note_refusals(tx, page, &refused)? } else { 0 };
            tx.conn().execute("UPDATE sync_state SET pull_cursor = max(pull_cursor, ?1) WHERE id = 1", [page.next_cursor])?;
            tx.observe(&page.server_hlc);
            note_server_clock(tx.conn(), &page.server_hlc)?;
            Ok(PullApplied { changed: changed - uncounted, refused: refused.len(), cleared })
        })
    }

    /// Notes the outcome of a sync attempt for the status line.
    pub fn record_sync_attempt(&mut self, error: Option<&str>) -> Result<()> {
        let now = ts(self.now());
        // Bookkeeping, not work: it need not wait for the disk (after a pull that would mean
        // waiting for every page the pull left unsynced; the background checkpoint syncs them).
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let noted = match error {
            None => self.conn.execute("UPDATE sync_state SET last_attempt_at = ?1, last_success_at = ?1, last_error = NULL WHERE id = 1", [now]),
            Some(e) => self.conn.execute("UPDATE sync_state SET last_attempt_at = ?1, last_error = ?2 WHERE id = 1", params![now, e]),
        };
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        noted?;
        Ok(())
    }

    /// The server revoked this laptop; nothing more will sync.
    pub fn mark_revoked(&mut self, reason: &str) -> Result<()> {
        self.conn.execute("UPDATE sync_state SET revoked_reason = ?1, last_error = ?1 WHERE id = 1", [reason])?;
        Ok(())
    }

    pub fn sync_status(&self) -> Result<SyncStatus> {
        let pending_changes = self.outbox_len()?;
        let mut status = self.conn.query_row(
            "SELECT server_url, technician, pull_cursor, last_success_at, last_attempt_at, last_error, revoked_reason, device_token IS NOT NULL, allow_insecure_http FROM sync_state WHERE id = 1",
            [],
            |r| {
                Ok(SyncStatus {
                    server_url: r.get(0)?,
                    technician: r.get(1)?,
                    pull_cursor: r.get(2)?,
                    last_success_at: r.get(3)?,
                    last_attempt_at: r.get(4)?,
                    last_error: r.get(5)?,
                    revoked_reason: r.get(6)?,
                    enrolled: r.get(7)?,
                    pending_changes,
                    rejections: Vec::new(),
                    allow_insecure_http: r.get(8)?,
                    pull_refused: Vec::new(),
                    pull_refused_total: 0,
                    server_restore: None,
                    clock_ahead_ms: None,
                    offline_lock_days: None,
                    offline_lock: None,
                })
            },
        )?;
        let ahead: Option<String> = self.conn.query_row("SELECT value FROM settings WHERE key = 'clock_ahead_ms'", [], |r| r.get(0)).optional()?;
        status.clock_ahead_ms = ahead.and_then(|a| a.parse::<i64>().ok()).filter(|a| *a > (crate::hlc::MAX_AHEAD_MS / 2) as i64);
        let mut stmt = self.conn.prepare_cached("SELECT seq, entity, record_id, reason FROM sync_rejections ORDER BY seq DESC LIMIT 50")?;
        status.rejections = stmt
            .query_map([], |r| Ok(Rejection { seq: r.get(0)?, entity: r.get(1)?, record_id: r.get(2)?, reason: r.get(3)? }))?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt = self.conn.prepare_cached("SELECT entity, record_id, feed_seq, reason, refused_at FROM pull_refused ORDER BY feed_seq DESC LIMIT 50")?;
        status.pull_refused = stmt
            .query_map([], |r| Ok(PullRefusal { entity: r.get(0)?, record_id: r.get(1)?, feed_seq: r.get(2)?, reason: r.get(3)?, refused_at: r.get(4)? }))?
            .collect::<rusqlite::Result<_>>()?;
        status.pull_refused_total = self.conn.query_row("SELECT count(*) FROM pull_refused", [], |r| r.get(0))?;
        status.offline_lock_days = self.offline_lock_days()?;
        status.offline_lock = self.offline_lock()?;
        status.server_restore = self.last_server_restore()?;
        Ok(status)
    }

    /// Deletes this laptop's store and everything of Fieldbook's that goes with it
    /// ([`crate::wipe::wipe_laptop`]: the store's files and attachments, and for the laptop's
    /// own store the app's data, caches and temporary reports). Refused while changes are
    /// unsynced, unless `force` (the admin ordered a wipe, or the user insisted). Returns what
    /// was removed.
    pub fn wipe(self, force: bool) -> Result<Vec<std::path::PathBuf>> {
        let pending = self.outbox_len()?;
        if pending > 0 && !force {
            return Err(Error::invalid(
                "local store",
                "outbox",
                format!("{pending} change(s) are not synced yet; they are kept until they sync (`fieldbook sync`), the admin orders a wipe, or you wipe with --force and lose them"),
            ));
        }
        let path = self.path.clone();
        // The connection must be closed before its files go.
        drop(self);
        crate::wipe::wipe_laptop(&path)
    }
}

/// Entity → record id → the record's field stamps.
type PageStamps<'p> = HashMap<&'p str, HashMap<String, Map<String, Value>>>;

/// The field stamps this laptop has for the records of a page (those it has), one query per
/// entity rather than one per record.
fn stamps_of_page<'p>(tx: &super::Tx<'_>, page: &'p PullResponse) -> Result<PageStamps<'p>> {
    let mut ids: HashMap<&str, Vec<&str>> = HashMap::new();
    for c in &page.changes {
        ids.entry(c.entity.as_str()).or_default().push(c.record_id.as_str());
    }
    let mut known: PageStamps = HashMap::new();
    for (entity, ids) in ids {
        let spec = entity::spec(entity).expect("checked before the transaction");
        let list = serde_json::to_string(&ids).expect("strings serialize");
        let mut stmt = tx.conn().prepare_cached(&format!(
            "SELECT id, clocks FROM {} WHERE id IN (SELECT value FROM json_each(?1)) AND clocks IS NOT NULL",
            spec.name
        ))?;
        let mut rows = stmt.query([list])?;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let text: &str = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
            let stamps = clocks::decode(spec, &id, text)?;
            known.entry(entity).or_default().insert(id, stamps);
        }
    }
    Ok(known)
}

/// Merges one feed change into a record this laptop has (with `clocks`, its field stamps).
/// Returns whether anything changed.
fn apply_change(tx: &mut super::Tx<'_>, c: &FeedChange, clocks: Map<String, Value>) -> Result<bool> {
    let spec = entity::spec(&c.entity).expect("checked before the transaction");
    let mut state = RecordState { fields: Map::new(), clocks };
    let cols: Vec<&str> = spec.fields.iter().map(|(n, _)| *n).collect();
    let sql = format!("SELECT {} FROM {} WHERE id = ?1", cols.join(", "), c.entity);
    let row: Option<Vec<Value>> = tx
        .conn()
        .prepare_cached(&sql)?
        .query_row([&c.record_id], |r| (0..cols.len()).map(|i| Ok(entity::from_sql(spec.fields[i].1, r.get_ref(i)?))).collect())
        .optional()?;
    if let Some(values) = row {
        state.fields = cols.iter().map(|s| s.to_string()).zip(values).collect();
    }
    // Fields this build does not know (a newer server) are left out rather than failing.
    let fields: Map<String, Value> = c.fields.iter().filter(|(k, _)| spec.field(k).is_some()).map(|(k, v)| (k.clone(), v.clone())).collect();
    let outcome = merge_into(&mut state, &IncomingWrite { fields: &fields, clocks: Stamps::PerField(&c.clocks), base: None });
    if outcome.changed.is_empty() {
        return Ok(false);
    }
    let write: Vec<(&str, Value)> = outcome.changed.iter().map(|f| (f.as_str(), state.fields[f].clone())).collect();
    tx.write_row(&c.entity, &c.record_id, &write)?;
    let stamps: Vec<(String, String)> = outcome.changed.iter().map(|f| (f.clone(), state.clocks[f].as_str().unwrap_or_default().to_owned())).collect();
    tx.set_clocks(&c.entity, &c.record_id, stamps.iter().map(|(f, s)| (f.as_str(), s.as_str())))?;
    observe_newest(tx, &c.clocks);
    Ok(true)
}

/// Records of a pulled page that this laptop does not have yet, written together.
///
/// Merging into nothing takes every stamped field as it comes, so these need no merge; and
/// written as multi-row INSERTs they cost one statement per few hundred records. That matters
/// beyond the statement count: each statement that writes through the search triggers opens a
/// statement savepoint, and FTS5 flushes its pending index to disk at every savepoint — one
/// row at a time, that flush and the segment merges behind it were a third of a first pull.
#[derive(Default)]
struct NewRecords<'p> {
    /// By entity and the set of fields carried (a feed change carries all of an entity's fields,
    /// so a page makes one group per entity), in arrival order.
    groups: Vec<NewGroup<'p>>,
    held: HashSet<(&'p str, &'p str)>,
}

struct NewGroup<'p> {
    entity: &'p str,
    fields: Vec<&'p str>,
    /// Per record: id, values in `fields` order, the stamps as a JSON object, the newest stamp,
    /// the change it came in.
    rows: Vec<(&'p str, Vec<&'p Value>, String, &'p str, &'p FeedChange)>,
}

/// Rows per multi-row statement; a group is written as greedy pieces of these sizes so that a
/// few statement texts per entity stay prepared. Each statement is a savepoint at which FTS5
/// flushes its pending index, so the fewer the statements, the fewer small index segments to
/// merge later. The largest must keep a statement within SQLite's 32,766 parameters (tested).
const ROW_CHUNKS: [usize; 4] = [1024, 128, 16, 1];

impl<'p> NewRecords<'p> {
    fn holds(&self, c: &FeedChange) -> bool {
        self.held.contains(&(c.entity.as_str(), c.record_id.as_str()))
    }

    /// Takes a change to a record this laptop does not have; false when it carries nothing
    /// this build can write.
    fn add(&mut self, c: &'p FeedChange) -> bool {
        let spec = entity::spec(&c.entity).expect("checked before the transaction");
        let mut fields = Vec::with_capacity(c.fields.len());
        let mut values = Vec::with_capacity(c.fields.len());
        let known = c.fields.keys().all(|f| spec.field(f).is_some());
        let (encoded, newest) = match stamps::single(&c.clocks).filter(|_| known) {
            // Most of a first pull: a record stamped in one write is stored with the one stamp
            // it came with (and `null` for fields of the entity it does not carry).
            Some(stamp) => {
                for (field, value) in &c.fields {
                    fields.push(field.as_str());
                    values.push(value);
                }
                let mut encoded = format!("{{\"{}\":{}", stamps::EVERY_OTHER, Value::from(stamp));
                for (field, _) in spec.fields.iter().filter(|(f, _)| !c.fields.contains_key(*f)) {
                    encoded.push_str(&format!(",\"{field}\":null"));
                }
                encoded.push('}');
                (encoded, stamp)
            }
            None => {
                let mut listed = Map::new();
                let mut newest = "";
                for (field, value) in &c.fields {
                    // Unstamped fields and fields this build does not know (a newer server) are
                    // left out.
                    let Some(stamp) = c.stamp(field) else { continue };
                    if spec.field(field).is_some() {
                        fields.push(field.as_str());
                        values.push(value);
                        listed.insert(field.clone(), Value::from(stamp));
                        newest = newest.max(stamp);
                    }
                }
                (clocks::encode(spec, &listed), newest)
            }
        };
        if fields.is_empty() {
            return false;
        }
        let row = (c.record_id.as_str(), values, encoded, newest, c);
        // A page holds one group per entity, mostly in runs: look at the latest group first.
        match self.groups.iter_mut().rev().find(|g| g.entity == c.entity && g.fields == fields) {
            Some(g) => g.rows.push(row),
            None => self.groups.push(NewGroup { entity: &c.entity, fields, rows: vec![row] }),
        }
        self.held.insert((&c.entity, &c.record_id));
        true
    }

    /// Writes and forgets what is held. A record the schema refuses is added to `refused`
    /// instead (the rest of its chunk is written); returns how many.
    fn write(&mut self, tx: &mut super::Tx<'_>, refused: &mut Vec<(&'p FeedChange, String)>) -> Result<usize> {
        let mut count = 0;
        for mut group in std::mem::take(&mut self.groups) {
            let spec = entity::spec(group.entity).expect("checked before the transaction");
            let types: Vec<entity::FieldType> = group.fields.iter().map(|f| spec.field(f).expect("known field")).collect();
            // In id order: ids are hashes (imported records) or random, so in feed order each
            // insert lands on a random leaf of the id indexes (the table's and `search_docs`'),
            // and a page cost more the larger the store grew. Sorted, the inserts sweep each
            // index once. (A group holds each record once, and references are checked at
            // commit, so the order is free.)
            group.rows.sort_unstable_by(|a, b| a.0.cmp(b.0));
            // A row already here holds no stamps (these records had none: written outside
            // Fieldbook's write path), so it takes the carried fields and their stamps whole.
            let upsert: Vec<String> = group.fields.iter().chain(["clocks"].iter()).map(|f| format!("{f} = excluded.{f}")).collect();
            let per_row = group.fields.len() + 2;
            // Many new records of a searched entity: their search documents are built after
            // the pull (see `after_pull`), from the rowids they get here.
            let bulk = group.rows.len() >= after_pull::BULK_MIN_ROWS && after_pull::SEARCHED.contains(&group.entity);
            let max_row = |tx: &super::Tx<'_>| -> Result<i64> {
                Ok(tx.conn().query_row(&format!("SELECT coalesce(max(rowid), 0) FROM {}", group.entity), [], |r| r.get(0))?)
            };
            let first_row = if bulk {
                tx.conn().execute("INSERT INTO search_bulk(id) VALUES (1)", [])?;
                max_row(tx)? + 1
            } else {
                0
            };
            // The statement text for a chunk of n rows, built once per size and group: the
            // prepared-statement cache is keyed by the text, so it is looked up, not rebuilt.
            let mut texts: [Option<String>; ROW_CHUNKS.len()] = Default::default();
            let mut rows = group.rows.as_slice();
            while !rows.is_empty() {
                let size = ROW_CHUNKS.iter().position(|&n| n <= rows.len()).unwrap_or(ROW_CHUNKS.len() - 1);
                let n = ROW_CHUNKS[size];
                let (chunk, rest) = rows.split_at(n);
                rows = rest;
                let text = |n: usize| {
                    let placeholders: Vec<String> = (0..n)
                        .map(|r| format!("({})", (1..=per_row).map(|i| format!("?{}", r * per_row + i)).collect::<Vec<_>>().join(", ")))
                        .collect();
                    format!(
                        "INSERT INTO {} (id, {}, clocks) VALUES {} ON CONFLICT(id) DO UPDATE SET {}",
                        group.entity,
                        group.fields.join(", "),
                        placeholders.join(", "),
                        upsert.join(", "),
                    )
                };
                let insert = texts[size].get_or_insert_with(|| text(n));
                match insert_rows(tx, insert, chunk, &types) {
                    Ok(()) => {}
                    // A record the schema refuses: the failed statement wrote nothing (SQLite
                    // undoes it whole; the transaction goes on). Only then is the chunk written
                    // again one row at a time, to keep all but the refused.
                    Err(e) => {
                        let Some(reason) = refusal(&e) else { return Err(e.into()) };
                        if n == 1 {
                            refused.push((chunk[0].4, reason));
                            count += 1;
                        } else {
                            let single = texts[ROW_CHUNKS.len() - 1].get_or_insert_with(|| text(1)).clone();
                            for row in chunk {
                                if let Err(e) = insert_rows(tx, &single, std::slice::from_ref(row), &types) {
                                    let Some(reason) = refusal(&e) else { return Err(e.into()) };
                                    refused.push((row.4, reason));
                                    count += 1;
                                }
                            }
                        }
                    }
                }
                // Stamps order as strings (the merge compares them so): observe the newest.
                if let Some(newest) = chunk.iter().map(|row| row.3).max() {
                    tx.observe(newest);
                }
            }
            if bulk {
                // New rows take rowids past the largest (SQLite's rule while it is below
                // 2^63), so those from `first_row` on are exactly this group's new records;
                // rows it updated instead kept their documents through the update triggers.
                let last_row = max_row(tx)?;
                tx.conn().execute("DELETE FROM search_bulk", [])?;
                if last_row >= first_row {
                    tx.conn().execute("INSERT INTO search_backlog(entity, from_row, to_row) VALUES (?1, ?2, ?3)", params![group.entity, first_row, last_row])?;
                }
            }
        }
        self.held.clear();
        Ok(count)
    }
}

/// One multi-row INSERT of `chunk`, its values bound in place: they borrow the page's text
/// rather than copy it.
fn insert_rows(tx: &super::Tx<'_>, sql: &str, chunk: &[(&str, Vec<&Value>, String, &str, &FeedChange)], types: &[entity::FieldType]) -> rusqlite::Result<()> {
    let mut stmt = tx.conn().prepare_cached(sql)?;
    let mut at = 1;
    for (id, vals, stamps, _, _) in chunk {
        stmt.raw_bind_parameter(at, id)?;
        for (v, t) in vals.iter().zip(types) {
            at += 1;
            stmt.raw_bind_parameter(at, entity::to_sql_ref(*t, v))?;
        }
        stmt.raw_bind_parameter(at + 1, stamps)?;
        at += 2;
    }
    stmt.raw_execute()?;
    Ok(())
}

/// Why this laptop cannot store a record, when a write of it failed on a constraint of the
/// laptop's schema (CHECK, NOT NULL): the record's fault, not the store's. Other failures
/// (the disk, a bug) fail the page as before. References are checked at commit, not here.
fn refusal(e: &rusqlite::Error) -> Option<String> {
    match e {
        rusqlite::Error::SqliteFailure(f, message) if f.code == rusqlite::ErrorCode::ConstraintViolation && !is_foreign_key_violation(e) => Some(format!(
            "this laptop's Fieldbook cannot store it ({}): a value outside what it accepts; the office should correct the record (or, if the server is newer than this laptop, update Fieldbook)",
            message.as_deref().unwrap_or("constraint failed")
        )),
        _ => None,
    }
}

fn is_foreign_key_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

/// Removes the records inserted by this page whose references do not resolve (children of a
/// record refused, here or earlier) and refuses them too, until none is left, so that the page
/// can commit. Returns how many. Runs only after a commit failed on a reference.
fn refuse_dangling<'p>(tx: &mut super::Tx<'_>, page: &'p PullResponse, inserted: &HashSet<(&str, &str)>, refused: &mut Vec<(&'p FeedChange, String)>) -> Result<usize> {
    let last: HashMap<(&str, &str), &FeedChange> = page.changes.iter().map(|c| ((c.entity.as_str(), c.record_id.as_str()), c)).collect();
    let tables: HashSet<&str> = page.changes.iter().map(|c| c.entity.as_str()).collect();
    let mut count = 0;
    loop {
        let mut found: Vec<(&'static str, String, String)> = Vec::new();
        for spec in entity::ENTITIES.iter().filter(|s| tables.contains(s.name)) {
            let mut stmt = tx.conn().prepare(&format!(
                "SELECT t.id, fk.parent FROM pragma_foreign_key_check('{0}') AS fk JOIN {0} AS t ON t.rowid = fk.rowid",
                spec.name
            ))?;
            let rows = stmt.query_map([], |r| Ok((spec.name, r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                found.push(row?);
            }
        }
        // Only records this page brought are removed: one this laptop had before keeps its
        // data (and the commit then fails as before).
        found.retain(|(entity, id, _)| inserted.contains(&(*entity, id.as_str())));
        if found.is_empty() {
            return Ok(count);
        }
        for (entity, id, parent) in found {
            tx.conn().execute(&format!("DELETE FROM {entity} WHERE id = ?1"), [&id])?;
            if let Some(c) = last.get(&(entity, id.as_str())) {
                refused.push((c, format!("it refers to a record of {parent} that this laptop does not have (refused or never sent); it is stored once that record arrives in a form this laptop accepts")));
                count += 1;
            }
        }
    }
}

/// Keeps the refused records of a page and clears the refusals the page supersedes: for each
/// record of the page, its last change decides (refused: kept with the reason, replacing an
/// older refusal; applied: any refusal of it is deleted).
/// Returns how many refusals it cleared.
fn note_refusals(tx: &mut super::Tx<'_>, page: &PullResponse, refused: &[(&FeedChange, String)]) -> Result<usize> {
    let mut cleared = 0;
    let reasons: HashMap<i64, &str> = refused.iter().map(|(c, r)| (c.seq, r.as_str())).collect();
    let mut last: HashMap<(&str, &str), &FeedChange> = HashMap::new();
    for c in &page.changes {
        last.insert((c.entity.as_str(), c.record_id.as_str()), c);
    }
    let now = ts(tx.now());
    for ((entity, id), c) in last {
        match reasons.get(&c.seq) {
            Some(reason) => {
                tx.conn().prepare_cached("INSERT OR REPLACE INTO pull_refused(entity, record_id, feed_seq, fields, clocks, reason, refused_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?.execute(params![
                    entity,
                    id,
                    c.seq,
                    Value::Object(c.fields.clone()).to_string(),
                    Value::Object(c.clocks.clone()).to_string(),
                    reason,
                    now
                ])?;
            }
            None => {
                cleared += tx.conn().prepare_cached("DELETE FROM pull_refused WHERE entity = ?1 AND record_id = ?2")?.execute(params![entity, id])?;
            }
        }
    }
    Ok(cleared)
}

/// Moves the laptop's clock past the newest stamp of a change. Stamps order as strings (the
/// merge compares them so), so only the greatest needs parsing.
fn observe_newest(tx: &mut super::Tx<'_>, clocks: &Map<String, Value>) {
    if let Some(newest) = clocks.values().filter_map(Value::as_str).max() {
        tx.observe(newest);
    }
}

/// Remembers how far this laptop's clock is ahead of the server's (negative: behind), from a
/// stamp the server just answered with: the server refuses changes stamped too far ahead, and
/// the technician must be told why (`SyncStatus::clock_ahead_ms`).
fn note_server_clock(conn: &rusqlite::Connection, server_hlc: &str) -> Result<()> {
    if let Ok(server) = server_hlc.parse::<crate::hlc::Hlc>() {
        let ahead = crate::hlc::wall_clock_ms() as i64 - server.wall_ms as i64;
        conn.execute(
            "INSERT INTO settings (key, value) VALUES ('clock_ahead_ms', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [ahead.to_string()],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::store::fixtures::demo_store as store;

    #[test]
    fn outbox_entries_carry_the_stamp_each_field_had_before() {
        let (_d, mut s) = store();
        let o = s.find_order("WO-1001").unwrap();
        let before = clocks::read(&s.conn, "work_orders", &o.id)["status"].clone();
        s.set_status("WO-1001", crate::model::Status::OnSite).unwrap();
        let push = s.pending_push(10).unwrap();
        assert_eq!(push[0].base["status"], before);
        assert_eq!(push[0].base["arrived_at"], Value::Null, "no value before");
    }

    #[test]
    fn acknowledged_entries_leave_the_outbox_and_rejections_are_kept() {
        let (_d, mut s) = store();
        s.set_status("WO-1001", crate::model::Status::EnRoute).unwrap();
        s.set_status("WO-1001", crate::model::Status::OnSite).unwrap();
        let push = s.pending_push(10).unwrap();
        let resp = PushResponse {
            acked_seq: push[0].seq, applied: 1, duplicates: 0, conflicts: 0,
            rejected: vec![Rejection { seq: push[0].seq, entity: "work_orders".into(), record_id: push[0].record_id.clone(), reason: "signed elsewhere".into() }],
            server_hlc: "099999999999999-0000000000-server".into(),
        };
        s.acknowledge(&resp).unwrap();
        assert_eq!(s.pending_push(10).unwrap().len(), 1, "only the acknowledged entry left");
        assert_eq!(s.sync_status().unwrap().rejections[0].reason, "signed elsewhere");
        // The clock moved past the server's: the next local write sorts after it.
        s.set_status("WO-1002", crate::model::Status::OnSite).unwrap();
        assert!(s.pending_push(10).unwrap().last().unwrap().hlc.as_str() > "099999999999999-0000000000-server");
    }

    #[test]
    fn a_laptop_clock_far_ahead_of_the_servers_is_reported() {
        let (_d, mut s) = store();
        s.set_status("WO-1001", crate::model::Status::EnRoute).unwrap();
        let push = s.pending_push(10).unwrap();
        let ack = |server_wall: u64| PushResponse {
            acked_seq: push[0].seq, applied: 1, duplicates: 0, conflicts: 0, rejected: vec![],
            server_hlc: crate::hlc::Hlc::new(server_wall, 0, "server").to_string(),
        };
        let now = crate::hlc::wall_clock_ms();
        s.acknowledge(&ack(now - 47 * 60_000)).unwrap();
        let ahead = s.sync_status().unwrap().clock_ahead_ms.expect("47 minutes ahead is reported");
        assert!((47 * 60_000..48 * 60_000).contains(&ahead), "{ahead}");
        // A clock a few seconds off, or behind, is nothing to report.
        s.acknowledge(&ack(now - 3_000)).unwrap();
        assert_eq!(s.sync_status().unwrap().clock_ahead_ms, None);
    }

    #[test]
    fn a_pulled_page_merges_by_stamp_and_moves_the_cursor_once() {
        let (_d, mut s) = store();
        let o = s.find_order("WO-1001").unwrap();
        let newer = "099999999999999-0000000000-server";
        let older = "000000000000001-0000000000-server";
        let page = PullResponse {
            changes: vec![FeedChange {
                seq: 7, entity: "work_orders".into(), record_id: o.id.clone(),
                fields: json!({"problem": "来自办公室 / from the office", "priority": "low"}).as_object().unwrap().clone(),
                clocks: json!({"problem": newer, "priority": older}).as_object().unwrap().clone(),
            }],
            next_cursor: 7, more: false, server_hlc: newer.into(), offline_lock_days: None,
        };
        assert_eq!(s.apply_pull(&page).unwrap(), 1);
        let after = s.find_order("WO-1001").unwrap();
        assert_eq!(after.problem.as_deref(), Some("来自办公室 / from the office"), "newer stamp wins");
        assert_eq!(after.priority, o.priority, "older stamp loses to the local value");
        assert_eq!(s.pull_cursor().unwrap(), 7);
        assert_eq!(s.apply_pull(&page).unwrap(), 0, "applying the same page again changes nothing");
        assert_eq!(s.outbox_len().unwrap(), 0, "pulled changes are not pushed back");
    }

    #[test]
    fn compact_stamps_in_a_page_apply_as_the_listed_ones_would() {
        let (_d, mut s) = store();
        let (older, newer) = ("000000000000001-0000000000-server", "099999999999999-0000000000-server");
        let o = s.find_order("WO-1001").unwrap();
        let customer = json!({"code": "C-CMP", "name": "压缩", "contact": null, "phone": null, "email": null, "deleted": false});
        let page = PullResponse {
            changes: vec![
                // New here, every field stamped in one write.
                FeedChange { seq: 1, entity: "customers".into(), record_id: "c-cmp".into(), fields: customer.as_object().unwrap().clone(), clocks: json!({"*": newer}).as_object().unwrap().clone() },
                // Known here: "*" covers `problem`; `priority` carries an older stamp of its own.
                FeedChange {
                    seq: 2, entity: "work_orders".into(), record_id: o.id.clone(),
                    fields: json!({"problem": "新的描述", "priority": "low"}).as_object().unwrap().clone(),
                    clocks: json!({"*": newer, "priority": older}).as_object().unwrap().clone(),
                },
            ],
            next_cursor: 2, more: false, server_hlc: newer.into(), offline_lock_days: None,
        };
        assert_eq!(s.apply_pull(&page).unwrap(), 2);
        let after = s.find_order("WO-1001").unwrap();
        assert_eq!(after.problem.as_deref(), Some("新的描述"));
        assert_eq!(after.priority, o.priority, "the older listed stamp loses");
        let stamps = clocks::read(&s.conn, "customers", "c-cmp");
        assert_eq!(stamps.len(), 6);
        assert!(stamps.values().all(|v| v == newer));
        assert_eq!(clocks::read(&s.conn, "work_orders", &o.id)["problem"], json!(newer));
        assert_eq!(s.apply_pull(&page).unwrap(), 0, "the same page again changes nothing");
    }

    #[test]
    fn the_pull_cache_lasts_until_the_last_page() {
        let (_d, mut s) = store();
        let cache = |s: &Store| -> i64 { s.conn.query_row("PRAGMA cache_size", [], |r| r.get(0)).unwrap() };
        let page = |more| PullResponse { changes: vec![], next_cursor: 0, more, server_hlc: "000000000000001-0000000000-server".into(), offline_lock_days: None };
        s.apply_pull(&page(true)).unwrap();
        assert_eq!(cache(&s), PULL_CACHE_KIB, "more pages follow: the cache stays warm");
        s.apply_pull(&page(false)).unwrap();
        assert_eq!(cache(&s), DEFAULT_CACHE_KIB, "the last page gives the memory back");
    }

    #[test]
    fn a_pulls_checkpoint_runs_after_its_last_page_in_the_background_then_automatic_ones_resume() {
        let (_d, mut s) = store();
        let autocheckpoint = |s: &Store| -> i64 { s.conn.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0)).unwrap() };
        s.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
        let file_size = |s: &Store| std::fs::metadata(s.path()).unwrap().len();
        let before = file_size(&s);
        let stamp = "099999999999999-0000000000-server";
        let page = |from: i64, more: bool| PullResponse {
            changes: (from..from + 300)
                .map(|i| FeedChange {
                    seq: i, entity: "customers".into(), record_id: format!("c-bulk-{i}"),
                    fields: json!({"code": format!("C-BULK-{i}"), "name": format!("批量客户 {i}"), "contact": null, "phone": null, "email": null, "deleted": false}).as_object().unwrap().clone(),
                    clocks: json!({"*": stamp}).as_object().unwrap().clone(),
                })
                .collect(),
            next_cursor: from + 299, more, server_hlc: stamp.into(), offline_lock_days: None,
        };
        s.apply_pull(&page(1, true)).unwrap();
        assert_eq!(autocheckpoint(&s), 0, "no checkpoint at the commit of a page while more follow");
        let synchronous: i64 = s.conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!(synchronous, 2, "only pulled pages commit without an fsync; the technician's writes are FULL");
        s.apply_pull(&page(301, false)).unwrap();
        s.after_pull.finish();
        assert!(file_size(&s) > before, "the background checkpoint copied the pulled pages into the database file");
        assert_eq!(autocheckpoint(&s), 0, "until the next write sees the checkpoint done");
        s.set_status("WO-1001", crate::model::Status::EnRoute).unwrap();
        assert_eq!(autocheckpoint(&s), super::super::after_pull::AUTOCHECKPOINT_PAGES, "automatic checkpoints resume");
        let count: i64 = s.conn.query_row("SELECT count(*) FROM customers WHERE id LIKE 'c-bulk-%'", [], |r| r.get(0)).unwrap();
        assert_eq!(count, 600);
    }

    #[test]
    fn a_bulk_pull_is_searchable_when_it_returns_with_the_documents_the_triggers_would_write() {
        let (_d, mut s) = store();
        // One repair written through the triggers, so every kind of document is compared below.
        s.add_repair("WO-1002", &crate::model::NewRepairRecord {
            asset_id: None, fault: "压力表失灵".into(), cause: "老化".into(), action: "更换".into(), parts: vec![],
            labour_minutes: 20, category: crate::model::Category::Paid, fee_cents: 0, fee_collected: false, taken_to_workshop: false, receipt_number: None,
        }).unwrap();
        let o = s.find_order("WO-1001").unwrap();
        let stamp = "099999999999999-0000000000-server";
        let mut changes: Vec<FeedChange> = (0..after_pull::BULK_MIN_ROWS as i64 + 10)
            .map(|i| FeedChange {
                seq: i + 1, entity: "customers".into(), record_id: format!("c-bulk-{i:04}"),
                fields: json!({"code": format!("C-BULK-{i:04}"), "name": format!("批量客户 {i:04}"), "contact": "张工", "phone": null, "email": null, "deleted": i == 7}).as_object().unwrap().clone(),
                clocks: json!({"*": stamp}).as_object().unwrap().clone(),
            })
            .collect();
        // A known record changed in the same page: merged and re-indexed by its update trigger.
        changes.push(FeedChange {
            seq: 1000, entity: "work_orders".into(), record_id: o.id.clone(),
            fields: json!({"problem": "喷淋头漏水 / sprinkler head leaking"}).as_object().unwrap().clone(),
            clocks: json!({"problem": stamp}).as_object().unwrap().clone(),
        });
        let page = PullResponse { changes, next_cursor: 1000, more: false, server_hlc: stamp.into(), offline_lock_days: None };
        s.apply_pull(&page).unwrap();
        let hits = s.search("批量客户 0123", 10).unwrap();
        assert_eq!(hits.iter().map(|h| h.record_id.as_str()).collect::<Vec<_>>(), ["c-bulk-0123"], "found as soon as the pull returned");
        assert!(s.search("批量客户 0007", 10).unwrap().is_empty(), "a record pulled as deleted has no document");
        assert_eq!(s.search("sprinkler", 10).unwrap()[0].record_id, o.id);
        let backlog: i64 = s.conn.query_row("SELECT count(*) FROM search_backlog", [], |r| r.get(0)).unwrap();
        assert_eq!(backlog, 0);
        let differ = |a: &str, b: &str| -> i64 {
            let cols = "kind, record_id, order_id, title, body";
            s.conn.query_row(&format!("SELECT count(*) FROM (SELECT {cols} FROM {a} EXCEPT SELECT {cols} FROM {b})"), [], |r| r.get(0)).unwrap()
        };
        assert_eq!(differ("search_docs", "search_source"), 0, "every document is the one the view describes");
        assert_eq!(differ("search_source", "search_docs"), 0, "every record has its document");
    }

    #[test]
    fn a_pull_cut_before_its_last_page_is_ended_and_its_records_become_searchable() {
        let (_d, mut s) = store();
        let stamp = "099999999999999-0000000000-server";
        let page = PullResponse {
            changes: (0..after_pull::BULK_MIN_ROWS as i64)
                .map(|i| FeedChange {
                    seq: i + 1, entity: "customers".into(), record_id: format!("c-cut-{i:04}"),
                    fields: json!({"code": format!("C-CUT-{i:04}"), "name": format!("断网客户 {i:04}"), "contact": null, "phone": null, "email": null, "deleted": false}).as_object().unwrap().clone(),
                    clocks: json!({"*": stamp}).as_object().unwrap().clone(),
                })
                .collect(),
            next_cursor: 300, more: true, server_hlc: stamp.into(), offline_lock_days: None,
        };
        s.apply_pull(&page).unwrap();
        // The next page never comes.
        s.end_pull().unwrap();
        assert_eq!(s.search("断网客户 0042", 5).unwrap().len(), 1);
        let cache: i64 = s.conn.query_row("PRAGMA cache_size", [], |r| r.get(0)).unwrap();
        assert_eq!(cache, DEFAULT_CACHE_KIB);
        s.after_pull.finish();
        s.set_status("WO-1001", crate::model::Status::EnRoute).unwrap();
        let autocheckpoint: i64 = s.conn.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0)).unwrap();
        assert_eq!(autocheckpoint, after_pull::AUTOCHECKPOINT_PAGES, "automatic checkpoints resume");
        s.end_pull().unwrap();
    }

    /// Issue 10, finding 10: a record the laptop's schema refuses used to fail its whole page,
    /// forever. Now the rest applies (in bulk, and merged), the cursor moves on, and the record
    /// is kept aside with the reason until a version that applies arrives.
    #[test]
    fn a_pulled_record_this_laptop_cannot_store_is_kept_aside_and_the_rest_of_its_page_applies() {
        let (_d, mut s) = store();
        let customer = s.connection().query_row("SELECT id FROM customers ORDER BY id LIMIT 1", [], |r| r.get::<_, String>(0)).unwrap();
        let o = s.find_order("WO-1001").unwrap();
        let (stamp, newer) = ("099999999999999-0000000000-server", "099999999999999-0000000001-server");
        let change = |seq: i64, entity: &str, id: &str, fields: Value, stamp: &str| FeedChange {
            seq, entity: entity.into(), record_id: id.into(), fields: fields.as_object().unwrap().clone(), clocks: json!({"*": stamp}).as_object().unwrap().clone(),
        };
        let site = |i: usize, zone: &str| json!({"code": format!("S-R{i:02}"), "customer_id": customer, "name": "现场", "address": "路 1 号", "region": "徐汇区", "zone": zone, "deleted": false});
        let asset = json!({"code": "A-R05", "site_id": "s-r05", "asset_type": "fire_pump", "name": "泵", "model": null, "serial": null, "location": null, "installed_on": null, "warranty_ends": null, "deleted": false});
        // 20 new sites go in as multi-row INSERTs (chunks of 16 and 1); the sixth has a zone
        // the schema refuses, and an asset of it arrives too. WO-1001 (known here, so merged)
        // gets a status that does not exist.
        let mut changes: Vec<FeedChange> = (0..20).map(|i| change(i as i64 + 1, "sites", &format!("s-r{i:02}"), site(i, if i == 5 { "moon" } else { "urban" }), stamp)).collect();
        changes.push(change(21, "assets", "a-r05", asset, stamp));
        changes.push(FeedChange {
            seq: 22, entity: "work_orders".into(), record_id: o.id.clone(),
            fields: json!({"status": "bogus", "problem": "改过"}).as_object().unwrap().clone(),
            clocks: json!({"status": stamp, "problem": stamp}).as_object().unwrap().clone(),
        });
        let page = PullResponse { changes, next_cursor: 22, more: true, server_hlc: stamp.into(), offline_lock_days: None };

        let applied = s.apply_pull_page(&page).unwrap();
        assert_eq!(applied, PullApplied { changed: 19, refused: 3, cleared: 0 });
        assert_eq!(s.pull_cursor().unwrap(), 22, "the cursor moved past the page");
        let sites: i64 = s.connection().query_row("SELECT count(*) FROM sites WHERE code GLOB 'S-R[0-9][0-9]'", [], |r| r.get(0)).unwrap();
        assert_eq!(sites, 19);
        let after = s.find_order("WO-1001").unwrap();
        assert_eq!((after.status, after.problem), (o.status, o.problem.clone()), "the refused change wrote nothing of the record");
        let st = s.sync_status().unwrap();
        assert_eq!(st.pull_refused_total, 3);
        let by_id: HashMap<&str, &PullRefusal> = st.pull_refused.iter().map(|r| (r.record_id.as_str(), r)).collect();
        assert!(by_id["s-r05"].reason.contains("CHECK constraint failed") && by_id["s-r05"].reason.contains("zone"), "{:?}", by_id["s-r05"]);
        assert!(by_id[o.id.as_str()].reason.contains("status"), "{:?}", by_id[o.id.as_str()]);
        assert!(by_id["a-r05"].reason.contains("refers to a record of sites"), "{:?}", by_id["a-r05"]);
        assert_eq!(by_id["s-r05"].feed_seq, 6);
        let kept: String = s.connection().query_row("SELECT fields FROM pull_refused WHERE record_id = 's-r05'", [], |r| r.get(0)).unwrap();
        assert!(kept.contains("moon"), "the record is kept as it came: {kept}");

        // The office corrects both. The next page applies them, and the asset kept aside for
        // want of its site goes in with it: no refusal is left.
        let page = PullResponse {
            changes: vec![
                change(23, "sites", "s-r05", site(5, "suburban"), newer),
                FeedChange {
                    seq: 25, entity: "work_orders".into(), record_id: o.id.clone(),
                    fields: json!({"status": "en_route"}).as_object().unwrap().clone(),
                    clocks: json!({"status": newer}).as_object().unwrap().clone(),
                },
            ],
            next_cursor: 25, more: false, server_hlc: newer.into(), offline_lock_days: None,
        };
        assert_eq!(s.apply_pull_page(&page).unwrap(), PullApplied { changed: 3, refused: 0, cleared: 2 });
        let asset_site: String = s.connection().query_row("SELECT site_id FROM assets WHERE id = 'a-r05'", [], |r| r.get(0)).unwrap();
        assert_eq!(asset_site, "s-r05");
        assert_eq!(s.find_order("WO-1001").unwrap().status, crate::model::Status::EnRoute);
        let st = s.sync_status().unwrap();
        assert_eq!((st.pull_refused_total, st.pull_refused.len()), (0, 0), "{:?}", st.pull_refused);
    }

    #[test]
    fn a_new_record_can_arrive_before_its_parent_in_one_page() {
        let (_d, mut s) = store();
        let stamp = "099999999999999-0000000000-server";
        let clocks = |f: &Value| -> Map<String, Value> { f.as_object().unwrap().keys().map(|k| (k.clone(), json!(stamp))).collect() };
        let customer = json!({"code": "C-NEW", "name": "新客户", "contact": null, "phone": null, "email": null, "deleted": false});
        let site = json!({"code": "S-NEW", "customer_id": "c-new", "name": "新现场", "address": "路 1 号", "region": "徐汇区", "zone": "urban", "deleted": false});
        let page = PullResponse {
            changes: vec![
                FeedChange { seq: 1, entity: "sites".into(), record_id: "s-new".into(), clocks: clocks(&site), fields: site.as_object().unwrap().clone() },
                FeedChange { seq: 2, entity: "customers".into(), record_id: "c-new".into(), clocks: clocks(&customer), fields: customer.as_object().unwrap().clone() },
            ],
            next_cursor: 2, more: false, server_hlc: stamp.into(), offline_lock_days: None,
        };
        assert_eq!(s.apply_pull(&page).unwrap(), 2);
    }

    #[test]
    fn a_record_new_here_and_changed_again_in_the_same_page_ends_as_the_merge_of_both() {
        let (_d, mut s) = store();
        let (first, second, stale) = ("090000000000000-0000000000-server", "090000000000001-0000000000-server", "000000000000001-0000000000-server");
        let customer = json!({"code": "C-TWICE", "name": "旧名", "contact": "王", "phone": null, "email": null, "deleted": false});
        let all = |stamp: &str| -> Map<String, Value> { customer.as_object().unwrap().keys().map(|k| (k.clone(), json!(stamp))).collect() };
        let change = |seq, fields: Value, clocks: Map<String, Value>| FeedChange {
            seq, entity: "customers".into(), record_id: "c-twice".into(), fields: fields.as_object().unwrap().clone(), clocks,
        };
        let page = PullResponse {
            changes: vec![
                change(1, customer.clone(), all(first)),
                change(2, json!({"name": "新名"}), json!({"name": second}).as_object().unwrap().clone()),
                // Older than what the first change wrote: loses, in the same page as on its own.
                change(3, json!({"contact": "李"}), json!({"contact": stale}).as_object().unwrap().clone()),
            ],
            next_cursor: 3, more: false, server_hlc: second.into(), offline_lock_days: None,
        };
        assert_eq!(s.apply_pull(&page).unwrap(), 2, "the stale change changes nothing");
        let (name, contact): (String, String) =
            s.conn.query_row("SELECT name, contact FROM customers WHERE id = 'c-twice'", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!((name.as_str(), contact.as_str()), ("新名", "王"));
        assert_eq!(clocks::read(&s.conn, "customers", "c-twice")["name"], json!(second));
        assert_eq!(s.apply_pull(&page).unwrap(), 0, "the same page again changes nothing");
    }

    #[test]
    fn the_largest_chunk_of_every_entity_fits_in_one_statement() {
        const MAX_PARAMETERS: usize = 32_766;
        for spec in entity::ENTITIES {
            // id, the fields, clocks.
            let per_row = spec.fields.len() + 2;
            assert!(ROW_CHUNKS[0] * per_row <= MAX_PARAMETERS, "{}: {} rows of {per_row} parameters", spec.name, ROW_CHUNKS[0]);
        }
    }

    #[test]
    fn a_row_written_outside_fieldbook_takes_a_pulled_record_whole_with_its_stamps() {
        let (_d, mut s) = store();
        let stamp = "099999999999999-0000000000-server";
        // A row with no stamps: typed in with a SQLite tool, or restored from a copy.
        s.conn.execute("INSERT INTO customers (id, code, name) VALUES ('c-hand', 'C-HAND', '手工录入')", []).unwrap();
        let customer = json!({"code": "C-HAND", "name": "华安消防", "contact": "王工", "phone": null, "email": null, "deleted": false});
        let page = PullResponse {
            changes: vec![FeedChange {
                seq: 1, entity: "customers".into(), record_id: "c-hand".into(),
                fields: customer.as_object().unwrap().clone(), clocks: json!({"*": stamp}).as_object().unwrap().clone(),
            }],
            next_cursor: 1, more: false, server_hlc: stamp.into(), offline_lock_days: None,
        };
        assert_eq!(s.apply_pull(&page).unwrap(), 1);
        let (name, contact): (String, String) =
            s.conn.query_row("SELECT name, contact FROM customers WHERE id = 'c-hand'", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!((name.as_str(), contact.as_str()), ("华安消防", "王工"));
        assert_eq!(s.record_stamps("customers", "c-hand").unwrap().len(), 6, "every field now carries the pulled stamp");
        let hits = s.search("华安消防", 10).unwrap();
        assert!(hits.iter().any(|h| h.record_id == "c-hand"), "the search document follows the pulled name: {hits:?}");
        assert_eq!(s.apply_pull(&page).unwrap(), 0, "the same page again changes nothing");
    }

    #[test]
    fn renumbering_moves_unsynced_entries_past_the_servers_and_later_writes_follow() {
        let (_d, mut s) = store();
        let o = s.find_order("WO-1001").unwrap();
        s.set_status(&o.number, crate::model::Status::EnRoute).unwrap();
        s.set_status(&o.number, crate::model::Status::OnSite).unwrap();
        let before: Vec<(i64, String)> = s.outbox().unwrap().into_iter().map(|e| (e.seq, e.hlc)).collect();
        assert_eq!(before.len(), 2);
        assert_eq!(s.renumber_outbox_after(before[1].0 + 40).unwrap(), 2);
        let after: Vec<(i64, String)> = s.outbox().unwrap().into_iter().map(|e| (e.seq, e.hlc)).collect();
        assert_eq!(after.iter().map(|e| e.0).collect::<Vec<_>>(), vec![before[1].0 + 41, before[1].0 + 42]);
        assert_eq!(after.iter().map(|e| &e.1).collect::<Vec<_>>(), before.iter().map(|e| &e.1).collect::<Vec<_>>(), "same entries, same order");
        let slot = crate::checklist::Slot { item_key: "site.exits".into(), asset_id: String::new() };
        s.record_answer(&o.id, &slot, &json!("pass")).unwrap();
        assert_eq!(s.outbox().unwrap().last().unwrap().seq, before[1].0 + 43, "new writes number after the moved ones");
        assert_eq!(s.renumber_outbox_after(1).unwrap(), 0, "entries already past the server's stay as they are");
    }

    #[test]
    fn a_new_enrolment_starts_the_feed_from_the_top_but_a_new_address_does_not() {
        let (_d, mut s) = store();
        s.set_enrolment("http://a:1", "token-1", "li.wei").unwrap();
        s.conn.execute("UPDATE sync_state SET pull_cursor = 42", []).unwrap();
        s.set_enrolment("http://proxy:2", "token-1", "li.wei").unwrap();
        assert_eq!(s.pull_cursor().unwrap(), 42, "same device token: the same feed");
        s.set_enrolment("http://b:1", "token-2", "li.wei").unwrap();
        assert_eq!(s.pull_cursor().unwrap(), 0, "another server's feed starts at the top");
    }

    #[test]
    fn a_rotated_token_replaces_the_stored_one_and_the_cursor_stays() {
        let (_d, mut s) = store();
        assert!(s.set_device_token("token-x").is_err(), "nothing to replace before enrolment");
        s.set_enrolment("http://a:1", "token-1", "li.wei").unwrap();
        s.conn.execute("UPDATE sync_state SET pull_cursor = 42", []).unwrap();
        s.set_device_token("token-2").unwrap();
        let e = s.enrolment().unwrap().unwrap();
        assert_eq!((e.device_token.as_str(), e.server_url.as_str(), e.technician.as_str()), ("token-2", "http://a:1", "li.wei"));
        assert_eq!(s.pull_cursor().unwrap(), 42);
    }

    #[test]
    fn a_renewal_signature_verifies_with_the_device_key_for_this_device_and_nonce_only() {
        let (_d, s) = store();
        let (id, key) = (s.device().id.clone(), s.device().public_key_hex());
        let sig = s.sign_token_renewal("nonce-1");
        crate::signature::verify_token_renewal(&key, &id, "nonce-1", &sig).unwrap();
        assert!(crate::signature::verify_token_renewal(&key, &id, "nonce-2", &sig).is_err());
        assert!(crate::signature::verify_token_renewal(&key, "another-device", "nonce-1", &sig).is_err());
        // Not a signature over the nonce alone, which another use of the key might produce.
        let bare = crate::signature::sign_digest(s.device().signing_key(), "nonce-1");
        assert!(crate::signature::verify_token_renewal(&key, &id, "nonce-1", &bare).is_err());
    }

    #[test]
    fn wiping_keeps_unsynced_work_unless_ordered() {
        let (dir, mut s) = store();
        s.set_status("WO-1001", crate::model::Status::OnSite).unwrap();
        let path = s.path().to_owned();
        let s = match s.wipe(false) {
            Err(e) => {
                assert!(e.to_string().contains("not synced"), "{e}");
                Store::open(&path, &crate::store::fixtures::key()).unwrap()
            }
            Ok(_) => panic!("unsynced work must not be wiped"),
        };
        s.wipe(true).unwrap();
        assert!(!path.exists());
        drop(dir);
    }
}
