//! Enrolled laptops: recognising one by its device token, rotating and renewing that token
//! (`docs/sync.md`, "Device tokens"), listing the laptops, and revoking one (a lost or stolen
//! laptop, or a technician who left), optionally ordering its data wiped.

use chrono::{DateTime, Duration, Utc};
use fieldbook_core::signature::{sha256_hex, verify_token_renewal};
use fieldbook_core::sync::protocol::{
    RenewChallengeRequest, RenewChallengeResponse, RenewRequest, RenewResponse, TokenCheckRequest, TokenCheckResponse, STORE_PROTECTION_LABELS,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

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

/// How long device tokens last and how often they are replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPolicy {
    /// A laptop syncing with a token older than this is handed a fresh one.
    pub rotate_after: Duration,
    /// A token older than this is refused `token_expired`; the laptop renews it with its
    /// device key (see [`renew`]).
    pub life: Duration,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        TokenPolicy { rotate_after: Duration::days(7), life: Duration::days(30) }
    }
}

impl TokenPolicy {
    /// From `--token-rotate-days` and `--token-life-days`: rotation must come before expiry, or
    /// every laptop that syncs weekly would have to renew.
    pub fn from_days(rotate_days: u32, life_days: u32) -> Result<TokenPolicy> {
        if rotate_days == 0 || rotate_days >= life_days {
            return Err(Error::Invalid(format!(
                "--token-rotate-days {rotate_days} with --token-life-days {life_days}: rotate at least every day and before tokens expire (e.g. 7 and 30)"
            )));
        }
        Ok(TokenPolicy { rotate_after: Duration::days(rotate_days.into()), life: Duration::days(life_days.into()) })
    }
}

/// Which of a device's tokens a request presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMatch {
    Current,
    /// The rotated token handed out and not used before: this request makes it current.
    Pending,
}

fn parse_ts(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t).ok().map(|t| t.to_utc())
}

/// The device a bearer token belongs to. A revoked device is answered `device_revoked`; a
/// token past its life `token_expired`; a token retired by a rotation or renewal is refused as
/// such (a copy of an old token).
pub fn authenticate(tx: &mut dyn Tx, token: &str, policy: &TokenPolicy) -> Result<(DeviceIdentity, TokenMatch)> {
    let hash = token_hash(token);
    let row = tx
        .query_opt(
            "SELECT d.id, d.technician, d.public_key, d.last_seen_at, d.revoked_at, d.revoke_reason, d.wipe_ordered, u.disabled,
                    d.token_hash, d.next_token_hash, d.token_issued_at, d.next_token_issued_at, d.token_rotated_at
             FROM devices d JOIN users u ON u.login = d.technician
             WHERE d.token_hash = $1 OR d.next_token_hash = $1 OR d.previous_token_hash = $1",
            params![hash.as_str()],
        )?
        .ok_or_else(|| Error::Unauthorized("unknown device token; enrol this laptop with a code from the office".into()))?;
    let matched = if row.opt_text(8)?.as_deref() == Some(hash.as_str()) {
        TokenMatch::Current
    } else if row.opt_text(9)?.as_deref() == Some(hash.as_str()) {
        TokenMatch::Pending
    } else {
        return Err(Error::Unauthorized(format!(
            "this device token was replaced by a newer one{} and no longer works: a copy of an old token is refused. \
             If this is the laptop itself, enrol it again with a code from the office",
            row.opt_text(12)?.map(|t| format!(" at {t}")).unwrap_or_default()
        )));
    };
    if row.opt_text(4)?.is_some() {
        return Err(Error::DeviceRevoked { reason: row.opt_text(5)?.unwrap_or_default(), wipe: row.bool(6)? });
    }
    if row.bool(7)? {
        return Err(Error::Forbidden(format!("user '{}' is disabled", row.text(1)?)));
    }
    let issued = row.opt_text(if matched == TokenMatch::Current { 10 } else { 11 })?;
    // A token without an issue time predates expiry (the migration gives every token one).
    if let Some(expired_at) = issued.as_deref().and_then(parse_ts).map(|t| t + policy.life).filter(|t| *t <= Utc::now()) {
        return Err(Error::TokenExpired { expired_at: crate::store_ts(expired_at) });
    }
    Ok((DeviceIdentity { id: row.text(0)?, technician: row.text(1)?, public_key: row.text(2)?, last_seen_at: row.opt_text(3)? }, matched))
}

/// The first request made with a rotated token: it becomes current and the old one is retired
/// (kept only as `previous_token_hash`, to tell its bearer why it is refused). Conditional on
/// the pending token, so that two requests racing with it promote it once.
pub fn promote(tx: &mut dyn Tx, id: &str, token: &str) -> Result<()> {
    let n = tx.execute(
        "UPDATE devices SET previous_token_hash = token_hash, token_hash = next_token_hash, token_issued_at = next_token_issued_at,
             token_rotated_at = $1, next_token_hash = NULL, next_token_sealed = NULL, next_token_issued_at = NULL
         WHERE id = $2 AND next_token_hash = $3",
        params![crate::now_text(), id, token_hash(token)],
    )?;
    if n == 1 {
        tracing::info!(device = id, "a laptop took up its rotated device token; the old one is retired");
        let technician = tx.query_one("SELECT technician FROM devices WHERE id = $1", params![id])?.text(0)?;
        crate::console::audit::record(tx, &technician, "device_token_rotated", Some("devices"), Some(id), None, serde_json::json!({}))?;
    }
    Ok(())
}

/// A fresh device token: 256 random bits, hex.
fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// The pad a pending token is sealed with: only the bearer of `current` can compute it.
fn seal_pad(current: &str) -> [u8; 32] {
    Sha256::digest(format!("fieldbook next token seal v1\n{current}").as_bytes()).into()
}

fn xor_token(token_hex: &str, pad: &[u8; 32]) -> Option<String> {
    let bytes: [u8; 32] = hex::decode(token_hex).ok()?.try_into().ok()?;
    Some(hex::encode(std::array::from_fn::<u8, 32, _>(|i| bytes[i] ^ pad[i])))
}

/// What `POST /api/device/token` does for a laptop that presented `current` (its current
/// token, just authenticated): records the store protection it reports, and, when the token is
/// older than the rotation interval, hands it a new one. The new token stays pending until the
/// laptop uses it ([`promote`]); asked again meanwhile, it is answered the same one.
pub fn check_in(tx: &mut dyn Tx, device_id: &str, current: &str, req: &TokenCheckRequest, policy: &TokenPolicy) -> Result<TokenCheckResponse> {
    let mut resp = rotate_if_due(tx, device_id, current, req, policy)?;
    // Where the database stands, so that a laptop can tell a server restored from a backup.
    resp.server = Some(crate::lineage::for_device(tx, device_id)?);
    Ok(resp)
}

fn rotate_if_due(tx: &mut dyn Tx, device_id: &str, current: &str, req: &TokenCheckRequest, policy: &TokenPolicy) -> Result<TokenCheckResponse> {
    let now = Utc::now();
    if let Some(p) = &req.store_protection {
        let p = p.trim();
        if p.is_empty() || p.len() > 40 || !p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(Error::Invalid(format!("store_protection: expected one of {}", STORE_PROTECTION_LABELS.join(", "))));
        }
        tx.execute("UPDATE devices SET store_protection = $1, store_protection_at = $2 WHERE id = $3", params![p, crate::store_ts(now), device_id])?;
    }
    let row = tx
        .query_opt("SELECT token_hash, token_issued_at, next_token_hash, next_token_sealed FROM devices WHERE id = $1", params![device_id])?
        .ok_or_else(|| Error::Unauthorized(format!("device '{device_id}' is no longer enrolled; enrol it again with a code from the office")))?;
    if row.text(0)? != token_hash(current) {
        return Err(Error::Unauthorized("this device token was replaced meanwhile; sync again with the newer one".into()));
    }
    let issued = row.opt_text(1)?.as_deref().and_then(parse_ts).unwrap_or(now);
    if now - issued < policy.rotate_after {
        return Ok(TokenCheckResponse { device_token: None, expires_at: crate::store_ts(issued + policy.life), server: None });
    }
    let pad = seal_pad(current);
    // The pending token handed out before (its answer may have been lost), if it unseals.
    let unseal = |row: &crate::db::Row| -> Result<Option<String>> {
        Ok(match (row.opt_text(2)?, row.opt_text(3)?) {
            (Some(hash), Some(sealed)) => xor_token(&sealed, &pad).filter(|t| token_hash(t) == hash),
            _ => None,
        })
    };
    if let Some(t) = unseal(&row)? {
        return Ok(TokenCheckResponse { device_token: Some(t), expires_at: pending_expiry(tx, device_id, policy)?, server: None });
    }
    let t = new_token();
    let sealed = xor_token(&t, &pad).ok_or_else(|| Error::Internal("sealing a new device token".into()))?;
    // Only over what was read: a check-in racing this one (two syncs at once on PostgreSQL)
    // that stored its pending token first wins, and this one answers that same token, so the
    // laptop cannot end up holding a token the server forgot.
    let n = tx.execute(
        "UPDATE devices SET next_token_hash = $1, next_token_sealed = $2, next_token_issued_at = $3
         WHERE id = $4 AND COALESCE(next_token_hash, '') = COALESCE($5, '')",
        params![token_hash(&t), sealed, crate::store_ts(now), device_id, row.opt_text(2)?],
    )?;
    let token = if n == 1 {
        t
    } else {
        let again = tx.query_one("SELECT token_hash, token_issued_at, next_token_hash, next_token_sealed FROM devices WHERE id = $1", params![device_id])?;
        unseal(&again)?.ok_or_else(|| Error::conflict("this laptop's token was rotated by another request just now; sync again"))?
    };
    Ok(TokenCheckResponse { device_token: Some(token), expires_at: pending_expiry(tx, device_id, policy)?, server: None })
}

fn pending_expiry(tx: &mut dyn Tx, device_id: &str, policy: &TokenPolicy) -> Result<String> {
    let issued = tx.query_one("SELECT next_token_issued_at FROM devices WHERE id = $1", params![device_id])?.opt_text(0)?;
    Ok(crate::store_ts(issued.as_deref().and_then(parse_ts).unwrap_or_else(Utc::now) + policy.life))
}

/// How long a renewal challenge may be answered.
pub const RENEWAL_NONCE_LIFE: Duration = Duration::minutes(5);

/// Unanswered challenges a device may hold at once: enough for retries, too few to fill the
/// table for someone who only knows a device id.
const MAX_OPEN_NONCES: i64 = 5;

/// The device behind a renewal, if it may renew: known, not revoked, its user not disabled.
fn renewable(tx: &mut dyn Tx, device_id: &str) -> Result<(String, String)> {
    let row = tx
        .query_opt(
            "SELECT d.technician, d.public_key, d.revoked_at, d.revoke_reason, d.wipe_ordered, u.disabled
             FROM devices d JOIN users u ON u.login = d.technician WHERE d.id = $1",
            params![device_id],
        )?
        .ok_or_else(|| Error::Unauthorized(format!("no laptop '{device_id}' is enrolled; enrol it with a code from the office")))?;
    if row.opt_text(2)?.is_some() {
        return Err(Error::DeviceRevoked { reason: row.opt_text(3)?.unwrap_or_default(), wipe: row.bool(4)? });
    }
    if row.bool(5)? {
        return Err(Error::Forbidden(format!("user '{}' is disabled", row.text(0)?)));
    }
    Ok((row.text(0)?, row.text(1)?))
}

/// `POST /api/device/renew/challenge`: a one-time nonce for `device_id` to sign, valid
/// [`RENEWAL_NONCE_LIFE`]. Only its hash is stored.
pub fn renewal_challenge(tx: &mut dyn Tx, req: &RenewChallengeRequest) -> Result<RenewChallengeResponse> {
    let now = Utc::now();
    renewable(tx, &req.device_id)?;
    tx.execute("DELETE FROM token_renewal_nonces WHERE expires_at <= $1", params![crate::store_ts(now)])?;
    let open = tx.query_one("SELECT count(*) FROM token_renewal_nonces WHERE device_id = $1", params![req.device_id.as_str()])?.int(0)?;
    if open >= MAX_OPEN_NONCES {
        return Err(Error::Throttled {
            message: format!("device '{}' already has {open} renewal challenges open; answer one, or wait a few minutes", req.device_id),
            retry_after: RENEWAL_NONCE_LIFE.num_seconds() as u64,
        });
    }
    let nonce = hex::encode(rand::random::<[u8; 32]>());
    let expires_at = crate::store_ts(now + RENEWAL_NONCE_LIFE);
    tx.execute(
        "INSERT INTO token_renewal_nonces (nonce_hash, device_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        params![sha256_hex(nonce.as_bytes()), req.device_id.as_str(), crate::store_ts(now), expires_at.as_str()],
    )?;
    Ok(RenewChallengeResponse { nonce, expires_at })
}

/// First half of `POST /api/device/renew`, in a transaction of its own that commits whatever
/// follows: the nonce is used up, so that each challenge allows one attempt (a wrong signature
/// included). `Ok(false)`: it was unknown, already used, another device's, or expired.
pub fn consume_nonce(tx: &mut dyn Tx, req: &RenewRequest) -> Result<Option<bool>> {
    let row = tx.query_opt(
        "DELETE FROM token_renewal_nonces WHERE nonce_hash = $1 AND device_id = $2 RETURNING expires_at",
        params![sha256_hex(req.nonce.as_bytes()), req.device_id.as_str()],
    )?;
    Ok(match row {
        None => None,
        Some(r) => Some(r.opt_text(0)?.as_deref().and_then(parse_ts).is_some_and(|t| t > Utc::now())),
    })
}

/// Second half of `POST /api/device/renew`, once [`consume_nonce`] found the nonce fresh: checks
/// the signature with the key registered at enrolment and issues a new current token (the old
/// one, expired or not, is retired; a pending rotated one is dropped).
pub fn renew(tx: &mut dyn Tx, req: &RenewRequest, policy: &TokenPolicy) -> Result<RenewResponse> {
    let (technician, public_key) = renewable(tx, &req.device_id)?;
    verify_token_renewal(&public_key, &req.device_id, &req.nonce, &req.signature)
        .map_err(|why| Error::Unauthorized(format!("token renewal refused: {why}; a laptop that lost its device key must be enrolled again with a code from the office")))?;
    let token = new_token();
    let now = Utc::now();
    tx.execute(
        "UPDATE devices SET previous_token_hash = token_hash, token_hash = $1, token_issued_at = $2, token_rotated_at = $2,
             next_token_hash = NULL, next_token_sealed = NULL, next_token_issued_at = NULL, last_seen_at = $2
         WHERE id = $3",
        params![token_hash(&token), crate::store_ts(now), req.device_id.as_str()],
    )?;
    tracing::info!(device = %req.device_id, "renewed an expired device token with the device key");
    // In the audit trail: renewal is what a copy of the laptop's store (key included) would do.
    crate::console::audit::record(tx, &technician, "device_token_renewed", Some("devices"), Some(&req.device_id), None, serde_json::json!({}))?;
    Ok(RenewResponse { device_token: token, technician, expires_at: crate::store_ts(now + policy.life) })
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
    /// When the current token was issued (at enrolment, rotation or renewal).
    pub token_issued_at: Option<String>,
    /// When a rotated or renewed token last replaced the one before (None: never since enrolment).
    pub token_rotated_at: Option<String>,
    /// How the laptop says its store is protected: `encrypted-keyring`, `encrypted-passphrase`,
    /// `encrypted-key-file` or `plaintext`. Reported by the laptop itself, unverifiable: a
    /// hostile laptop can claim anything.
    pub store_protection: Option<String>,
    /// When it last reported that.
    pub store_protection_at: Option<String>,
}

pub fn list(tx: &mut dyn Tx) -> Result<Vec<DeviceRow>> {
    let rows = tx.query(
        "SELECT id, technician, name, enrolled_at, last_seen_at, acked_seq, revoked_at, revoke_reason, wipe_ordered,
                token_issued_at, token_rotated_at, store_protection, store_protection_at
         FROM devices ORDER BY technician, enrolled_at",
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
                token_issued_at: r.opt_text(9)?,
                token_rotated_at: r.opt_text(10)?,
                store_protection: r.opt_text(11)?,
                store_protection_at: r.opt_text(12)?,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_rotate_before_they_expire() {
        assert_eq!(TokenPolicy::from_days(7, 30).unwrap(), TokenPolicy::default());
        for (rotate, life) in [(0, 30), (30, 30), (40, 30)] {
            let e = TokenPolicy::from_days(rotate, life).unwrap_err().to_string();
            assert!(e.contains("before tokens expire"), "{rotate}/{life}: {e}");
        }
    }

    #[test]
    fn a_sealed_token_unseals_only_with_the_token_it_was_sealed_under() {
        let (current, next) = (new_token(), new_token());
        let sealed = xor_token(&next, &seal_pad(&current)).unwrap();
        assert_ne!(sealed, next);
        assert_eq!(xor_token(&sealed, &seal_pad(&current)).as_deref(), Some(next.as_str()));
        assert_ne!(xor_token(&sealed, &seal_pad(&new_token())).as_deref(), Some(next.as_str()));
    }
}
