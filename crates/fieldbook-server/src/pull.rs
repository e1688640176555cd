//! Serving the feed (`GET /api/sync/pull`, docs/sync.md "Server → laptop: pull"): the changes
//! visible to one technician (their scope, and everything scoped to everyone) after a cursor, in
//! seq order. Readers take no lock: feed rows commit in seq order (see [`crate::feed`]), so a
//! page read now can never be missing a change that a later page would show below its end.
//!
//! A page is two index range scans, the technician's rows and everyone's rows after the cursor
//! (`feed_scope_seq`), merged by seq: a query with `scope IS NULL OR scope = $2` gathered and
//! sorted *every* visible row after the cursor to return the first few thousand, so each page
//! of a long feed cost as much as the whole rest of it. The stored JSON of each change is
//! copied into the answer as it is, never parsed and printed again.

use fieldbook_core::sync::protocol::{FeedChange, PullResponse, MAX_PULL_PAGE};
use serde_json::{Map, Value};

use crate::db::{Backend, Row, Tx};
use crate::error::{Error, Result};
use crate::{clock, offline_lock, params};

/// Changes per page when the laptop does not say.
pub const DEFAULT_PAGE: usize = 1000;

fn object(text: &str, seq: i64) -> Result<Map<String, Value>> {
    serde_json::from_str(text).map_err(|e| Error::Internal(format!("feed entry {seq} is not a JSON object: {e}")))
}

/// One feed row as stored: seq, entity, record id, fields JSON, clocks JSON.
struct Stored {
    seq: i64,
    entity: String,
    record_id: String,
    fields: String,
    clocks: String,
}

/// The rows of one page and whether more are waiting. Runs in a `Mode::Read` transaction (both
/// queries see one snapshot).
fn rows(tx: &mut dyn Tx, technician: &str, cursor: i64, limit: Option<usize>) -> Result<(Vec<Stored>, bool)> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || cursor < 0 {
        return Err(Error::Invalid("cursor must be 0 or more and limit at least 1".into()));
    }
    let limit = limit.min(MAX_PULL_PAGE);
    // One row more than asked tells whether another page is waiting.
    let take = limit as i64 + 1;
    if tx.backend() == Backend::Postgres {
        // Each page must walk `feed_scope_seq` in seq order and stop after `take` rows. Planning
        // the prepared query generically (or before statistics exist), PostgreSQL expects a few
        // rows and prefers a bitmap scan plus a sort, which reads every row after the cursor on
        // every page. Only for this read-only transaction.
        tx.execute_batch("SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off")?;
    }
    let own = tx.query(
        "SELECT seq, entity, record_id, fields, clocks FROM feed WHERE scope = $2 AND seq > $1 ORDER BY seq LIMIT $3",
        params![cursor, technician, take],
    )?;
    let everyone = tx.query("SELECT seq, entity, record_id, fields, clocks FROM feed WHERE scope IS NULL AND seq > $1 ORDER BY seq LIMIT $2", params![cursor, take])?;
    let (mut own, mut everyone) = (own.into_iter().peekable(), everyone.into_iter().peekable());
    let mut out = Vec::with_capacity(limit.min(own.len() + everyone.len()));
    let mut more = false;
    loop {
        let next = match (own.peek(), everyone.peek()) {
            (Some(a), Some(b)) => {
                if a.int(0)? <= b.int(0)? {
                    own.next()
                } else {
                    everyone.next()
                }
            }
            (Some(_), None) => own.next(),
            (None, Some(_)) => everyone.next(),
            (None, None) => None,
        };
        let Some(row) = next else { break };
        if out.len() == limit {
            more = true;
            break;
        }
        out.push(stored(row)?);
    }
    Ok((out, more))
}

fn stored(mut r: Row) -> Result<Stored> {
    Ok(Stored { seq: r.int(0)?, entity: r.take_text(1)?, record_id: r.take_text(2)?, fields: r.take_text(3)?, clocks: r.take_text(4)? })
}

/// One page of `technician`'s feed after `cursor`. Runs in a `Mode::Read` transaction.
pub fn page(tx: &mut dyn Tx, technician: &str, cursor: i64, limit: Option<usize>) -> Result<PullResponse> {
    let (rows, more) = rows(tx, technician, cursor, limit)?;
    let mut changes = Vec::with_capacity(rows.len());
    for r in rows {
        changes.push(FeedChange { seq: r.seq, fields: object(&r.fields, r.seq)?, clocks: object(&r.clocks, r.seq)?, entity: r.entity, record_id: r.record_id });
    }
    let next_cursor = changes.last().map_or(cursor, |c| c.seq);
    Ok(PullResponse { changes, next_cursor, more, server_hlc: clock::current(tx)?, offline_lock_days: offline_lock::days(tx)? })
}

/// [`page`] as the JSON of its `PullResponse`, written straight from the stored JSON.
pub fn page_json(tx: &mut dyn Tx, technician: &str, cursor: i64, limit: Option<usize>) -> Result<Vec<u8>> {
    let (rows, more) = rows(tx, technician, cursor, limit)?;
    let server_hlc = clock::current(tx)?;
    let lock_days = offline_lock::days(tx)?;
    let size: usize = rows.iter().map(|r| r.fields.len() + r.clocks.len() + r.entity.len() + r.record_id.len() + 80).sum();
    let mut out = Vec::with_capacity(size + 128);
    let string = |out: &mut Vec<u8>, s: &str| serde_json::to_writer(out, s).expect("writing to memory");
    out.extend_from_slice(b"{\"changes\":[");
    for (i, r) in rows.iter().enumerate() {
        // Written by the feed writer from a JSON object; anything else is a broken database.
        for text in [&r.fields, &r.clocks] {
            if !(text.starts_with('{') && text.ends_with('}')) {
                return Err(Error::Internal(format!("feed entry {} is not a JSON object", r.seq)));
            }
        }
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"seq\":");
        out.extend_from_slice(r.seq.to_string().as_bytes());
        out.extend_from_slice(b",\"entity\":");
        string(&mut out, &r.entity);
        out.extend_from_slice(b",\"record_id\":");
        string(&mut out, &r.record_id);
        out.extend_from_slice(b",\"fields\":");
        out.extend_from_slice(r.fields.as_bytes());
        out.extend_from_slice(b",\"clocks\":");
        out.extend_from_slice(r.clocks.as_bytes());
        out.push(b'}');
    }
    let next_cursor = rows.last().map_or(cursor, |c| c.seq);
    out.extend_from_slice(b"],\"next_cursor\":");
    out.extend_from_slice(next_cursor.to_string().as_bytes());
    out.extend_from_slice(if more { b",\"more\":true" } else { b",\"more\":false" });
    out.extend_from_slice(b",\"server_hlc\":");
    string(&mut out, &server_hlc);
    out.extend_from_slice(b",\"offline_lock_days\":");
    out.extend_from_slice(lock_days.map_or_else(|| "null".to_owned(), |d| d.to_string()).as_bytes());
    out.push(b'}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, Mode};

    /// The spliced JSON is exactly what serialising the parsed page gives.
    #[test]
    fn the_json_page_is_the_page() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db").display().to_string()).unwrap();
        db.transaction(Mode::Write, |tx| {
            // A stored clock ahead of the wall clock, so that both answers carry the same stamp.
            tx.execute("INSERT INTO settings (key, value) VALUES ('hlc', '999999999999999-0000000000-server')", params![])?;
            offline_lock::set_days(tx, Some(14))?;
            for (seq, scope) in [(1, Some("a")), (2, None), (3, Some("b")), (4, Some("a")), (5, None), (6, Some("a"))] {
                tx.execute(
                    "INSERT INTO feed (seq, entity, record_id, fields, clocks, scope, created_at) VALUES ($1, 'parts', $2, $3, $4, $5, 'now')",
                    params![seq, format!("p\"{seq}"), serde_json::json!({"name": format!("n{seq} é\n"), "n": seq}).to_string(), "{\"n\":\"y\",\"name\":\"x\"}", scope],
                )?;
            }
            Ok(())
        })
        .unwrap();
        for (cursor, limit) in [(0, 2), (0, 3), (1, 10), (4, 1), (6, 5), (0, 5000)] {
            let (page, json) = db
                .transaction(Mode::Read, |tx| Ok((page(tx, "a", cursor, Some(limit))?, page_json(tx, "a", cursor, Some(limit))?)))
                .unwrap();
            let parsed: PullResponse = serde_json::from_slice(&json).unwrap();
            assert_eq!(parsed, page, "cursor {cursor}, limit {limit}");
            assert_eq!(String::from_utf8(json).unwrap(), serde_json::to_string(&page).unwrap());
        }
        let all = db.transaction(Mode::Read, |tx| page(tx, "a", 0, None)).unwrap();
        assert_eq!(all.changes.iter().map(|c| c.seq).collect::<Vec<_>>(), [1, 2, 4, 5, 6]);
        assert!(!all.more);
        let first = db.transaction(Mode::Read, |tx| page(tx, "a", 0, Some(2))).unwrap();
        assert_eq!((first.next_cursor, first.more), (2, true));
        assert_eq!(first.offline_lock_days, Some(14));
        // Off: `null` in both forms.
        db.transaction(Mode::Write, |tx| offline_lock::set_days(tx, None)).unwrap();
        let (page, json) = db.transaction(Mode::Read, |tx| Ok((page(tx, "a", 0, Some(2))?, page_json(tx, "a", 0, Some(2))?))).unwrap();
        assert_eq!(page.offline_lock_days, None);
        assert_eq!(String::from_utf8(json).unwrap(), serde_json::to_string(&page).unwrap());
    }
}
