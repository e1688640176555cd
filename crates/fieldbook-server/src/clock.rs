//! The server's hybrid logical clock (node `server`): stamps the office's own writes and moves
//! past every stamp a laptop pushes. Its last stamp is kept in `settings` so that it never goes
//! back across restarts, and so that several servers on one PostgreSQL share one clock (feed
//! transactions, which are the only ones that tick it, are serialised by the feed lock).

use fieldbook_core::hlc::{wall_clock_ms, Hlc, HlcClock};

use crate::db::Tx;
use crate::error::Result;
use crate::params;

/// The node of every stamp the server issues.
pub const SERVER_NODE: &str = "server";

fn stored(tx: &mut dyn Tx) -> Result<Option<Hlc>> {
    let row = tx.query_opt("SELECT value FROM settings WHERE key = 'hlc'", params![])?;
    Ok(match row {
        Some(r) => r.text(0)?.parse().ok(),
        None => None,
    })
}

/// The server's clock as last saved.
pub fn load(tx: &mut dyn Tx) -> Result<HlcClock> {
    Ok(HlcClock::new(SERVER_NODE, stored(tx)?))
}

pub fn save(tx: &mut dyn Tx, clock: &HlcClock) -> Result<()> {
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ('hlc', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![clock.last().to_string()],
    )?;
    Ok(())
}

/// The stamp answered as `server_hlc`: the last one issued or observed, or now when none yet.
/// Read-only, so pulls never take the write lock.
pub fn current(tx: &mut dyn Tx) -> Result<String> {
    let now = Hlc::new(wall_clock_ms(), 0, SERVER_NODE);
    Ok(stored(tx)?.map(|h| h.max(now.clone())).unwrap_or(now).to_string())
}
