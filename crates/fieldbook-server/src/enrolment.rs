//! Enrolling a laptop: the office issues a one-time code for a technician
//! (`fieldbook-server enroll li.wei`), the technician types it into the new laptop, and the
//! laptop exchanges it (`POST /api/enroll`) for a device token, registering its Ed25519 public
//! key. Codes and tokens are stored only as SHA-256 hashes; a code works once and expires.

use chrono::{Duration, Utc};
use fieldbook_core::signature::sha256_hex;
use fieldbook_core::sync::protocol::{EnrollRequest, EnrollResponse};
use rand::Rng;

use crate::db::Tx;
use crate::devices::token_hash;
use crate::error::{Error, Result};
use crate::users::{self, Role};
use crate::{clock, params};

/// Crockford's base32: no I, L, O or U, so a code read over the phone is not mistyped.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh code: 4 groups of 4 characters (80 random bits), e.g. `7K2M-QX4P-9RTA-HB3C`.
pub fn new_code() -> String {
    let mut rng = rand::thread_rng();
    (0..4).map(|_| (0..4).map(|_| ALPHABET[rng.gen_range(0..32)] as char).collect::<String>()).collect::<Vec<_>>().join("-")
}

/// The code as typed, in canonical form: case, dashes and spaces ignored; O read as 0, I and L as 1.
pub fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect()
}

fn code_hash(code: &str) -> String {
    sha256_hex(normalize(code).as_bytes())
}

/// Issues a one-time code for a technician, valid for `valid_hours`.
pub fn issue_code(tx: &mut dyn Tx, technician: &str, valid_hours: u32) -> Result<String> {
    match users::find(tx, technician)? {
        None => return Err(Error::NotFound(format!("no user '{technician}'; add them first (`fieldbook-server user add {technician} --role technician`)"))),
        Some(u) if u.role != Role::Technician => return Err(Error::Invalid(format!("'{technician}' is {}, not a technician; only technicians' laptops enrol", u.role.as_str()))),
        Some(u) if u.disabled => return Err(Error::Invalid(format!("user '{technician}' is disabled"))),
        Some(_) => {}
    }
    if valid_hours == 0 {
        return Err(Error::Invalid("--valid-hours must be at least 1".into()));
    }
    let code = new_code();
    let now = Utc::now();
    tx.execute(
        "INSERT INTO enrolment_codes (code_hash, technician, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        params![code_hash(&code), technician, fieldbook_core::store::ts(now), fieldbook_core::store::ts(now + Duration::hours(valid_hours.into()))],
    )?;
    Ok(code)
}

/// Device ids no laptop may take: the server's own clock stamps end in `server`
/// ([`crate::clock::SERVER_NODE`]), and the console reads such a stamp as the office's.
pub const RESERVED_DEVICE_IDS: &[&str] = &[crate::clock::SERVER_NODE, "office"];

/// A device id a laptop may enrol with: 1 to 100 letters, digits, '-', '_' or '.', starting with
/// a letter or digit, and not one of [`RESERVED_DEVICE_IDS`] (in any case).
pub fn check_device_id(id: &str) -> Result<()> {
    let shape = !id.is_empty()
        && id.len() <= 100
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && id.as_bytes()[0].is_ascii_alphanumeric();
    if !shape {
        let shown: String = id.chars().take(100).collect();
        return Err(Error::Invalid(format!(
            "device_id '{shown}': use 1 to 100 letters, digits, '-', '_' or '.', starting with a letter or digit (Fieldbook uses a UUID)"
        )));
    }
    if RESERVED_DEVICE_IDS.iter().any(|r| r.eq_ignore_ascii_case(id)) {
        return Err(Error::Invalid(format!("device_id '{id}' is reserved for the server's own changes; enrol with another id (Fieldbook uses a UUID)")));
    }
    Ok(())
}

fn check_request(req: &EnrollRequest) -> Result<()> {
    check_device_id(&req.device_id)?;
    let key: Option<[u8; 32]> = hex::decode(&req.public_key).ok().and_then(|b| b.try_into().ok());
    if key.is_none_or(|k| ed25519_dalek::VerifyingKey::from_bytes(&k).is_err()) {
        return Err(Error::Invalid("public_key: expected a hex Ed25519 public key (64 hex characters)".into()));
    }
    if req.device_name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(Error::Invalid("device_name: at most 200 characters".into()));
    }
    Ok(())
}

/// Exchanges a one-time code for a device token. Runs in a `Mode::Write` transaction; the code
/// is consumed only if the laptop is enrolled.
pub fn enroll(tx: &mut dyn Tx, req: &EnrollRequest) -> Result<EnrollResponse> {
    check_request(req)?;
    let now = crate::now_text();
    // Consumed atomically: two laptops racing with one code cannot both succeed.
    let technician = tx
        .query_opt(
            "UPDATE enrolment_codes SET used_at = $1, device_id = $2 WHERE code_hash = $3 AND used_at IS NULL AND expires_at > $1 RETURNING technician",
            params![now.as_str(), req.device_id.as_str(), code_hash(&req.code)],
        )?
        .map(|r| r.text(0))
        .transpose()?
        .ok_or_else(|| Error::Unauthorized("the enrolment code is unknown, already used or expired; ask the office for a new one".into()))?;
    if users::find(tx, &technician)?.is_none_or(|u| u.disabled) {
        return Err(Error::Forbidden(format!("user '{technician}' is disabled")));
    }
    let token = hex::encode(rand::random::<[u8; 32]>());
    let public_key = req.public_key.to_ascii_lowercase();
    let existing = tx.query_opt("SELECT technician, public_key, revoked_at, revoke_reason, wipe_ordered FROM devices WHERE id = $1", params![req.device_id.as_str()])?;
    match existing {
        None => {
            tx.execute(
                "INSERT INTO devices (id, technician, name, public_key, token_hash, enrolled_at, last_seen_at, acked_seq, wipe_ordered, token_issued_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $6, 0, 0, $6)",
                params![req.device_id.as_str(), technician.as_str(), req.device_name.as_deref(), public_key.as_str(), token_hash(&token), now.as_str()],
            )?;
        }
        Some(r) => {
            if r.opt_text(2)?.is_some() {
                return Err(Error::DeviceRevoked { reason: r.opt_text(3)?.unwrap_or_default(), wipe: r.bool(4)? });
            }
            // The same laptop enrolling again (its token was lost): it keeps its acknowledged
            // seq, since its outbox numbering continues. Another person's or another key's
            // laptop under this id is refused.
            if r.text(0)? != technician || !r.text(1)?.eq_ignore_ascii_case(&public_key) {
                return Err(Error::conflict(format!("device id {} is already enrolled for another technician or key", req.device_id)));
            }
            // A new token, with a new life; a rotated one still pending is dropped with the old.
            tx.execute(
                "UPDATE devices SET token_hash = $1, name = COALESCE($2, name), last_seen_at = $3, token_issued_at = $3,
                     next_token_hash = NULL, next_token_sealed = NULL, next_token_issued_at = NULL WHERE id = $4",
                params![token_hash(&token), req.device_name.as_deref(), now.as_str(), req.device_id.as_str()],
            )?;
        }
    }
    Ok(EnrollResponse { device_token: token, technician, server_hlc: clock::current(tx)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_four_groups_and_typing_slips_are_forgiven() {
        let code = new_code();
        assert_eq!(code.len(), 19);
        assert_eq!(code.split('-').count(), 4);
        assert_eq!(normalize(&code.to_lowercase().replace('-', " ")), normalize(&code));
        assert_eq!(normalize("o1l0-IiLl"), "01101111");
    }
}

#[cfg(test)]
mod device_id_tests {
    use super::check_device_id;

    #[test]
    fn reserved_and_odd_device_ids_are_refused() {
        for ok in ["0196a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b", "cli-laptop", "L1.a_b"] {
            assert!(check_device_id(ok).is_ok(), "{ok}");
        }
        for reserved in ["server", "SERVER", "Office"] {
            let e = check_device_id(reserved).unwrap_err().to_string();
            assert!(e.contains("reserved"), "{reserved}: {e}");
        }
        for bad in ["", ".", "..", "-x", "a b", "中", "a/b", &"x".repeat(101)] {
            let e = check_device_id(bad).unwrap_err().to_string();
            assert!(e.contains("starting with a letter or digit"), "{bad}: {e}");
        }
    }
}
