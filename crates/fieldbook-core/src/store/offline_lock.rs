//! The offline lock (issue #13): the office sets, per company, how many days a laptop may go
//! without reaching the server; past that it keeps its records out of sight until a sync
//! succeeds. Nothing is deleted and the outbox is still pushed: the lock hides, it does not
//! protect the bytes on disk (that is the store's encryption; see docs/security.md).
//!
//! The limit arrives with every pulled page (`PullResponse::offline_lock_days`) and is kept in
//! the `settings` table; the time of the last successful sync is `sync_state.last_success_at`,
//! written with the store's clock, so tests pin both ends with [`Store::set_clock`].

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::{parse_ts, Store};
use crate::error::{Error, Result};

/// The `settings` key of the limit, in days.
pub const SETTING: &str = "offline_lock_days";

/// A laptop locked for being offline too long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfflineLock {
    /// Whole days since the last successful sync.
    pub since_last_sync_days: i64,
    /// The company's limit.
    pub limit_days: i64,
    /// When the laptop last synced (RFC 3339).
    pub last_synced_at: String,
}

/// Stores the limit a pulled page carried (`None`: no lock).
pub(crate) fn store_limit(conn: &Connection, days: Option<u32>) -> Result<()> {
    match days.filter(|d| *d > 0) {
        Some(d) => conn.execute(
            "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            rusqlite::params![SETTING, d.to_string()],
        )?,
        None => conn.execute("DELETE FROM settings WHERE key = ?1", [SETTING])?,
    };
    Ok(())
}

/// Whole days from `last` to `now`; a clock set back before `last` counts as none.
fn whole_days(last: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - last).num_days().max(0)
}

impl Store {
    /// The company's offline-lock limit as last received from the server (`None`: off).
    pub fn offline_lock_days(&self) -> Result<Option<i64>> {
        let v: Option<String> = self.conn.query_row("SELECT value FROM settings WHERE key = ?1", [SETTING], |r| r.get(0)).optional()?;
        Ok(v.and_then(|v| v.trim().parse::<i64>().ok()).filter(|d| *d > 0))
    }

    /// Whether this laptop is locked now: the limit is set and at least that many whole days
    /// have passed since the last successful sync. A laptop that never completed a sync is not
    /// locked (it has nothing to measure from, and the limit arrives only by syncing).
    pub fn offline_lock(&self) -> Result<Option<OfflineLock>> {
        let Some(limit_days) = self.offline_lock_days()? else { return Ok(None) };
        let last: Option<String> = self.conn.query_row("SELECT last_success_at FROM sync_state WHERE id = 1", [], |r| r.get(0))?;
        let Some(last_synced_at) = last else { return Ok(None) };
        let since_last_sync_days = whole_days(parse_ts(&last_synced_at)?, self.now());
        Ok((since_last_sync_days >= limit_days).then_some(OfflineLock { since_last_sync_days, limit_days, last_synced_at }))
    }

    /// Refuses with [`Error::OfflineLocked`] while the laptop is locked: every command that shows
    /// or changes customer data calls it first (the desktop's commands, the CLI's); sync and
    /// status do not.
    pub fn check_unlocked(&self) -> Result<()> {
        match self.offline_lock()? {
            Some(l) => Err(Error::OfflineLocked { since_last_sync_days: l.since_last_sync_days, limit_days: l.limit_days }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::store::fixtures::demo_store;
    use crate::sync::protocol::PullResponse;

    fn day(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
    }

    fn page(limit: Option<u32>) -> PullResponse {
        PullResponse { changes: vec![], next_cursor: 0, more: false, server_hlc: "000000000000001-0000000000-server".into(), offline_lock_days: limit }
    }

    /// A sync at 1 March 09:00 that brought a 3-day limit.
    fn synced_with_limit(limit: Option<u32>) -> (tempfile::TempDir, Store) {
        let (d, mut s) = demo_store();
        s.set_clock(|| day(1, 9));
        s.apply_pull_page(&page(limit)).unwrap();
        s.record_sync_attempt(None).unwrap();
        (d, s)
    }

    #[test]
    fn locks_at_the_limit_and_not_before() {
        let (_d, mut s) = synced_with_limit(Some(3));
        assert_eq!(s.offline_lock_days().unwrap(), Some(3));
        s.set_clock(|| day(4, 8)); // 2 days 23 hours
        assert_eq!(s.offline_lock().unwrap(), None);
        s.check_unlocked().unwrap();
        s.set_clock(|| day(4, 9)); // 3 days exactly
        let lock = s.offline_lock().unwrap().expect("locked at 3 days");
        assert_eq!(lock, OfflineLock { since_last_sync_days: 3, limit_days: 3, last_synced_at: "2026-03-01T09:00:00.000Z".into() });
        let e = s.check_unlocked().unwrap_err();
        assert_eq!(e.kind(), "offline_locked");
        assert!(e.to_string().contains("3 day(s) (limit 3"), "{e}");
        s.set_clock(|| day(20, 9));
        assert_eq!(s.offline_lock().unwrap().unwrap().since_last_sync_days, 19);
        // The status line carries it too.
        assert_eq!(s.sync_status().unwrap().offline_lock.unwrap().limit_days, 3);
    }

    #[test]
    fn no_limit_no_lock_and_a_clock_set_back_counts_no_days() {
        let (_d, mut s) = synced_with_limit(None);
        s.set_clock(|| day(30, 9));
        assert_eq!(s.offline_lock().unwrap(), None);
        let (_d, mut s) = synced_with_limit(Some(1));
        s.set_clock(|| Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap());
        assert_eq!(s.offline_lock().unwrap(), None);
    }

    #[test]
    fn a_store_that_never_synced_is_not_locked() {
        let (_d, mut s) = demo_store();
        s.set_clock(|| day(1, 9));
        s.apply_pull_page(&page(Some(1))).unwrap();
        s.set_clock(|| day(25, 9));
        assert_eq!(s.offline_lock().unwrap(), None);
    }

    #[test]
    fn a_sync_unlocks_and_the_outbox_is_kept_while_locked() {
        let (_d, mut s) = synced_with_limit(Some(2));
        s.attach_bytes(b"photo taken offline", "image/jpeg", None).unwrap();
        let pending = s.outbox_len().unwrap();
        assert!(pending > 0);
        s.set_clock(|| day(5, 9));
        assert!(s.offline_lock().unwrap().is_some());
        // Locked: nothing is deleted, the outbox still offers its entries to push.
        assert_eq!(s.outbox_len().unwrap(), pending);
        assert_eq!(s.pending_push(100).unwrap().len() as i64, pending);
        assert!(s.find_order("WO-1001").is_ok(), "the records are still in the store");
        // A failed attempt does not unlock…
        s.record_sync_attempt(Some("cannot reach the server")).unwrap();
        assert!(s.offline_lock().unwrap().is_some());
        // …a successful sync does.
        s.apply_pull_page(&page(Some(2))).unwrap();
        s.record_sync_attempt(None).unwrap();
        assert_eq!(s.offline_lock().unwrap(), None);
        // The office turning the lock off reaches the laptop with the next page.
        s.apply_pull_page(&page(None)).unwrap();
        assert_eq!(s.offline_lock_days().unwrap(), None);
    }
}
