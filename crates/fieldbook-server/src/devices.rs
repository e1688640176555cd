//! Enrolled laptops: recognising one by its device token, listing them, and revoking one (a
//! lost or stolen laptop, or a technician who left), optionally ordering its data wiped.

use fieldbook_core::signature::sha256_hex;
use serde::Serialize;

use crate::db::Tx;
use crate::error::{Error, Result};
use crate::params;

/// The laptop behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceIdentity {
    pub id: String,
    pub technician: String,
    /// Hex Ed25519 key registered at enrolment.
    pub public_key: String,
    /// When it was last seen, to refresh `last_seen_at` only now and then.
    pub last_seen_at: Option<String>,
}

/// Tokens are kept only as their SHA-256, so a copy of the database does not let anyone sync.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// The device a bearer token belongs to; a revoked device is answered `device_revoked`.
pub fn authenticate(tx: &mut dyn Tx, token: &str) -> Result<DeviceIdentity> {
    let row = tx
        .query_opt(
            "SELECT d.id, d.technician, d.public_key, d.last_seen_at, d.revoked_at, d.revoke_reason, d.wipe_ordered, u.disabled
             FROM devices d JOIN users u ON u.login = d.technician WHERE d.token_hash = $1",
            params![token_hash(token)],
        )?
        .ok_or_else(|| Error::Unauthorized("unknown device token; enrol this laptop with a code from the office".into()))?;
    if row.opt_text(4)?.is_some() {
        return Err(Error::DeviceRevoked { reason: row.opt_text(5)?.unwrap_or_default(), wipe: row.bool(6)? });
    }
    if row.bool(7)? {
        return Err(Error::Forbidden(format!("user '{}' is disabled", row.text(1)?)));
    }
    Ok(DeviceIdentity { id: row.text(0)?, technician: row.text(1)?, public_key: row.text(2)?, last_seen_at: row.opt_text(3)? })
}

/// Notes that a device was seen (a small write of its own, outside the feed lock).
pub fn touch(tx: &mut dyn Tx, id: &str) -> Result<()> {
    tx.execute("UPDATE devices SET last_seen_at = $1 WHERE id = $2", params![crate::now_text(), id])?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceRow {
    pub id: String,
    pub technician: String,
    pub name: Option<String>,
    pub enrolled_at: String,
    pub last_seen_at: Option<String>,
    pub acked_seq: i64,
    pub revoked_at: Option<String>,
    pub revoke_reason: Option<String>,
    pub wipe_ordered: bool,
}

pub fn list(tx: &mut dyn Tx) -> Result<Vec<DeviceRow>> {
    let rows = tx.query(
        "SELECT id, technician, name, enrolled_at, last_seen_at, acked_seq, revoked_at, revoke_reason, wipe_ordered FROM devices ORDER BY technician, enrolled_at",
        params![],
    )?;
    rows.iter()
        .map(|r| {
            Ok(DeviceRow {
                id: r.text(0)?,
                technician: r.text(1)?,
                name: r.opt_text(2)?,
                enrolled_at: r.text(3)?,
                last_seen_at: r.opt_text(4)?,
                acked_seq: r.int(5)?,
                revoked_at: r.opt_text(6)?,
                revoke_reason: r.opt_text(7)?,
                wipe_ordered: r.bool(8)?,
            })
        })
        .collect()
}

/// Revokes a device: its next request is answered `403 device_revoked` (with `wipe` when
/// ordered). Revoking again updates the reason and may add a wipe order.
pub fn revoke(tx: &mut dyn Tx, id: &str, reason: &str, wipe: bool) -> Result<()> {
    if reason.trim().is_empty() {
        return Err(Error::Invalid("say why the laptop is revoked (--reason)".into()));
    }
    let n = tx.execute(
        "UPDATE devices SET revoked_at = COALESCE(revoked_at, $1), revoke_reason = $2, wipe_ordered = CASE WHEN $3 <> 0 THEN 1 ELSE wipe_ordered END WHERE id = $4",
        params![crate::now_text(), reason.trim(), wipe, id],
    )?;
    if n == 0 {
        return Err(Error::NotFound(format!("no device '{id}'; `fieldbook-server device list` shows them")));
    }
    Ok(())
}
