//! Serving the feed (`GET /api/sync/pull`, docs/sync.md "Server → laptop: pull"): the changes
//! visible to one technician (their scope, and everything scoped to everyone) after a cursor, in
//! seq order. Readers take no lock: feed rows commit in seq order (see [`crate::feed`]), so a
//! page read now can never be missing a change that a later page would show below its end.

use fieldbook_core::sync::protocol::{FeedChange, PullResponse, MAX_PULL_PAGE};
use serde_json::{Map, Value};

use crate::db::Tx;
use crate::error::{Error, Result};
use crate::{clock, params};

/// Changes per page when the laptop does not say.
pub const DEFAULT_PAGE: usize = 1000;

fn object(text: &str, seq: i64) -> Result<Map<String, Value>> {
    serde_json::from_str(text).map_err(|e| Error::Internal(format!("feed entry {seq} is not a JSON object: {e}")))
}

/// One page of `technician`'s feed after `cursor`. Runs in a `Mode::Read` transaction.
pub fn page(tx: &mut dyn Tx, technician: &str, cursor: i64, limit: Option<usize>) -> Result<PullResponse> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || cursor < 0 {
        return Err(Error::Invalid("cursor must be 0 or more and limit at least 1".into()));
    }
    let limit = limit.min(MAX_PULL_PAGE);
    // One row more than asked tells whether another page is waiting.
    let rows = tx.query(
        "SELECT seq, entity, record_id, fields, clocks FROM feed WHERE seq > $1 AND (scope IS NULL OR scope = $2) ORDER BY seq LIMIT $3",
        params![cursor, technician, limit as i64 + 1],
    )?;
    let more = rows.len() > limit;
    let mut changes = Vec::with_capacity(rows.len().min(limit));
    for r in rows.iter().take(limit) {
        let seq = r.int(0)?;
        changes.push(FeedChange { seq, entity: r.text(1)?, record_id: r.text(2)?, fields: object(&r.text(3)?, seq)?, clocks: object(&r.text(4)?, seq)? });
    }
    let next_cursor = changes.last().map_or(cursor, |c| c.seq);
    Ok(PullResponse { changes, next_cursor, more, server_hlc: clock::current(tx)? })
}
