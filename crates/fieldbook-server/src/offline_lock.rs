//! The company's offline lock (issue #13): how many days a laptop may go without reaching the
//! server before it hides its records until it syncs again. Kept in `settings` as
//! `offline_lock_days` (no row: off), like the attachment quota, so every server process on the
//! database agrees; set by an admin (`fieldbook-server offline-lock`, the console's settings);
//! sent to laptops in every pull page (`PullResponse::offline_lock_days`, docs/sync.md).

use crate::db::Tx;
use crate::error::{Error, Result};
use crate::params;

/// The `settings` key of the limit, in days.
pub const SETTING: &str = "offline_lock_days";
/// The longest limit accepted: ten years is "never" in practice, and keeps the number sane.
pub const MAX_DAYS: u32 = 3650;

/// The limit in days, `None` when laptops never lock.
pub fn days(tx: &mut dyn Tx) -> Result<Option<u32>> {
    let Some(r) = tx.query_opt("SELECT value FROM settings WHERE key = $1", params![SETTING])? else { return Ok(None) };
    let v = r.text(0)?;
    v.trim()
        .parse::<u32>()
        .ok()
        .filter(|d| (1..=MAX_DAYS).contains(d))
        .map(Some)
        .ok_or_else(|| Error::Internal(format!("the setting {SETTING} is '{v}', not a number of days from 1 to {MAX_DAYS}; set it again with `fieldbook-server offline-lock --days N` or `--off`")))
}

/// Sets the limit (`None`: off). Refuses 0 and more than [`MAX_DAYS`], naming the fix.
pub fn set_days(tx: &mut dyn Tx, days: Option<u32>) -> Result<()> {
    match days {
        Some(d) if !(1..=MAX_DAYS).contains(&d) => Err(Error::Invalid(format!(
            "offline_lock_days: {d} is not a limit; give a number of days from 1 to {MAX_DAYS}, or turn the lock off (--off in the CLI, empty in the console)"
        ))),
        Some(d) => tx
            .execute(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![SETTING, d.to_string()],
            )
            .map(drop),
        None => tx.execute("DELETE FROM settings WHERE key = $1", params![SETTING]).map(drop),
    }
}

/// The limit in words, for the CLI.
pub fn describe(days: Option<u32>) -> String {
    match days {
        Some(d) => format!("a laptop that has not synced for {d} day(s) locks itself until it syncs (its data and unsynced work are kept)"),
        None => "laptops never lock for being offline (no offline lock set)".to_owned(),
    }
}
