//! No signature, no close (#11): whether an order may be approved — the customer's signature of
//! its current revision verifies and matches the live records, or the office recorded a close
//! exception for that revision (the customer refused to sign; a signed paper voucher) with a
//! reason and a photo of the paper —, recording such an exception, and the photos the console
//! uploads for it.
//!
//! A photo is stored as laptops' attachments are (`attachments` + `attachment_chunks`, named by
//! the SHA-256 of its bytes, complete at once; `uploaded_by` the office login, no device, so it
//! counts against no laptop's quota) with an `attachments` record written through the feed writer
//! (no technician scope: it reaches no laptop). Only images, at most [`MAX_PHOTO_BYTES`].
//! A close exception is a `close_exceptions` record (a desk record: no laptop reads or writes it),
//! one per order and revision (its id is derived from both, so recording again corrects it).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fieldbook_core::signature::sha256_hex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::review::write_fresh;
use super::work_orders::{check_signature, compare_with_records, live_signed_content};
use super::{audit, ConsoleUser};
use crate::api::{AppState, JsonBody};
use crate::db::{Mode, Tx};
use crate::error::{Error, Result};
use crate::feed::Writer;
use crate::{params, records};

/// Largest photo of a paper voucher the console accepts (a phone photo is a few MiB).
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// The image types a photo may be; anything else is refused.
pub const PHOTO_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp"];
/// The kinds of close exception the handbooks allow.
pub const KINDS: &[&str] = &["refused_to_sign", "paper_voucher"];

/// The id of an order's close exception for one revision.
pub fn exception_id(order_id: &str, revision: i64) -> String {
    format!("{order_id}.r{revision}")
}

/// A recorded close exception, as the console shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CloseException {
    pub id: String,
    pub work_order_id: String,
    pub revision: i64,
    pub kind: String,
    pub reason: String,
    pub photo_id: Option<String>,
    pub recorded_by: Option<String>,
    pub recorded_at: Option<String>,
}

/// How an order stands for closing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CloseState {
    pub revision: i64,
    /// A signature of the current revision verifies and matches the live records.
    pub signed: bool,
    /// The exception recorded for the current revision, if any.
    pub exception: Option<CloseException>,
}

impl CloseState {
    pub fn closable(&self) -> bool {
        self.signed || self.exception.is_some()
    }
}

fn exception_of(id: &str, f: &Map<String, Value>) -> Option<CloseException> {
    if f.get("deleted") == Some(&Value::Bool(true)) {
        return None;
    }
    let t = |k: &str| records::text_of(f, k).map(str::to_owned);
    Some(CloseException {
        id: id.to_owned(),
        work_order_id: t("work_order_id").unwrap_or_default(),
        revision: records::int_of(f, "revision").unwrap_or(0),
        kind: t("kind").unwrap_or_default(),
        reason: t("reason").unwrap_or_default(),
        photo_id: t("photo_id"),
        recorded_by: t("recorded_by"),
        recorded_at: t("recorded_at"),
    })
}

/// Whether the order is signed in its current revision, or excepted; `None` for no such order.
pub fn close_state(tx: &mut dyn Tx, order_id: &str) -> Result<Option<CloseState>> {
    let Some(order) = records::load(tx, "work_orders", order_id)? else { return Ok(None) };
    let order_fields = order.fields;
    let revision = records::int_of(&order_fields, "revision").unwrap_or(1);
    let mut signed = false;
    for (sid, s) in records::by_owner(tx, "signatures", order_id)? {
        let f = s.fields;
        if f.get("deleted") == Some(&Value::Bool(true)) || records::int_of(&f, "revision") != Some(revision) {
            continue;
        }
        let mut check = check_signature(tx, &sid, &f)?;
        let live = live_signed_content(tx, order_id, &order_fields)?;
        compare_with_records(&mut check, records::text_of(&f, "signed_content").unwrap_or_default(), revision, &live);
        if check.signature_ok && check.records_match == Some(true) {
            signed = true;
            break;
        }
    }
    let exception = exception_for(tx, order_id, revision)?;
    Ok(Some(CloseState { revision, signed, exception }))
}

/// The close exception recorded for one revision of an order, if any.
pub fn exception_for(tx: &mut dyn Tx, order_id: &str, revision: i64) -> Result<Option<CloseException>> {
    let eid = exception_id(order_id, revision);
    Ok(records::load(tx, "close_exceptions", &eid)?.and_then(|s| exception_of(&eid, &s.fields)))
}

/// Refuses approval of an order that is neither signed in its current revision nor excepted,
/// saying what is missing and how to proceed.
pub fn require_closable(tx: &mut dyn Tx, order_id: &str, number: &str) -> Result<CloseState> {
    let state = close_state(tx, order_id)?.ok_or_else(|| Error::NotFound(format!("no work order '{order_id}'")))?;
    if !state.closable() {
        return Err(Error::NotSigned(format!(
            "work order {number} has no customer signature of its current revision {} that verifies and matches the records, so it cannot be approved \
             (no signature, no close). Have the technician take the customer's signature on the laptop, or record a close exception \
             (the customer refused to sign, or signed a paper voucher: give the reason and upload a photo of the paper), then approve",
            state.revision
        )));
    }
    Ok(state)
}

#[derive(Debug, Deserialize)]
pub struct NewException {
    pub kind: String,
    pub reason: String,
    pub photo_id: Option<String>,
}

/// Records (or corrects) the close exception of an order's current revision. Runs in a
/// `Mode::Feed` transaction.
pub fn record_exception(tx: &mut dyn Tx, actor: &str, order_id: &str, req: &NewException) -> Result<CloseException> {
    if !KINDS.contains(&req.kind.as_str()) {
        return Err(Error::Invalid(format!("kind '{}': use refused_to_sign (the customer refused to sign) or paper_voucher (the customer signed a paper voucher)", req.kind)));
    }
    let reason = req.reason.trim();
    if reason.is_empty() {
        return Err(Error::Invalid("reason: say why the order closes without the customer's signature (it is empty)".into()));
    }
    if reason.chars().count() > 4000 {
        return Err(Error::Invalid("reason: at most 4000 characters".into()));
    }
    let photo = req.photo_id.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let photo = match photo {
        Some(p) => {
            let sha = crate::attachments::parse_name(p)?;
            let ok = tx.query_opt("SELECT media_type FROM attachments WHERE sha256 = $1 AND complete = 1", params![sha.as_str()])?;
            match ok.map(|r| r.opt_text(0)).transpose()?.flatten() {
                Some(m) if PHOTO_TYPES.contains(&m.as_str()) => Some(sha),
                _ => return Err(Error::Invalid(format!("photo_id '{sha}': no photo uploaded under that name; upload the photo of the paper first"))),
            }
        }
        None => None,
    };
    if req.kind == "paper_voucher" && photo.is_none() {
        return Err(Error::Invalid("photo_id: a paper voucher needs a photo of the signed paper; upload it first".into()));
    }
    let order = records::load(tx, "work_orders", order_id)?.ok_or_else(|| Error::NotFound(format!("no work order '{order_id}'")))?;
    let number = records::order_name(order_id, Some(&order.fields));
    let status = records::text_of(&order.fields, "status").unwrap_or_default().to_owned();
    if !matches!(status.as_str(), "completed" | "signed") {
        return Err(Error::conflict(format!("work order {number} is {status}: a close exception is recorded for a finished job only")));
    }
    let revision = records::int_of(&order.fields, "revision").unwrap_or(1);
    let id = exception_id(order_id, revision);
    let now = crate::now_text();
    let mut w = Writer::begin(tx)?;
    write_fresh(
        &mut w,
        "close_exceptions",
        &id,
        &[
            ("work_order_id", json!(order_id)),
            ("revision", json!(revision)),
            ("kind", json!(req.kind)),
            ("reason", json!(reason)),
            ("photo_id", json!(photo)),
            ("recorded_by", json!(actor)),
            ("recorded_at", json!(now)),
            ("deleted", json!(false)),
        ],
    )?;
    w.finish()?;
    audit::record(tx, actor, "close_exception", Some("work_orders"), Some(order_id), Some(order_id), json!({"number": number, "kind": req.kind, "reason": reason, "revision": revision}))?;
    let s = records::load(tx, "close_exceptions", &id)?.ok_or_else(|| Error::Internal(format!("close exception {id} was just written but is not there")))?;
    exception_of(&id, &s.fields).ok_or_else(|| Error::Internal(format!("close exception {id} was just written deleted")))
}

pub async fn record(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(req): JsonBody<NewException>) -> Result<Response> {
    let actor = u.login().to_owned();
    let e = s.db.run(Mode::Feed, move |tx| record_exception(tx, &actor, &id, &req)).await?;
    Ok((StatusCode::CREATED, Json(e)).into_response())
}

// ---------------------------------------------------------------------------------------------
// Photos

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Photo {
    pub sha256: String,
    pub media_type: String,
    pub byte_size: i64,
}

/// What the bytes are, by their first bytes (the declared type must agree).
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Stores an uploaded photo. Runs in a `Mode::Feed` transaction.
pub fn store_photo(tx: &mut dyn Tx, actor: &str, declared: &str, name: Option<&str>, bytes: &[u8]) -> Result<Photo> {
    let declared = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if !PHOTO_TYPES.contains(&declared.as_str()) {
        return Err(Error::Invalid(format!("Content-Type '{declared}': upload a photo as image/jpeg, image/png or image/webp")));
    }
    if bytes.is_empty() {
        return Err(Error::Invalid("the photo is empty; choose the photo of the paper again".into()));
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(Error::TooLarge(format!("the photo has {} bytes; at most {} MiB: take it at a lower resolution", bytes.len(), MAX_PHOTO_BYTES / 1024 / 1024)));
    }
    if sniff(bytes) != Some(declared.as_str()) {
        return Err(Error::Invalid(format!("the file is not a {declared} image; upload a photo (JPEG, PNG or WebP)")));
    }
    let sha = sha256_hex(bytes);
    let now = crate::now_text();
    let done = tx.query_opt("SELECT 1 FROM attachments WHERE sha256 = $1 AND complete = 1", params![sha.as_str()])?.is_some();
    if !done {
        tx.execute("DELETE FROM attachment_chunks WHERE sha256 = $1", params![sha.as_str()])?;
        for (i, chunk) in bytes.chunks(crate::attachments::MAX_CHUNK_BYTES).enumerate() {
            let offset = (i * crate::attachments::MAX_CHUNK_BYTES) as i64;
            tx.execute("INSERT INTO attachment_chunks (sha256, chunk_offset, data) VALUES ($1, $2, $3)", params![sha.as_str(), offset, chunk])?;
        }
        let size = bytes.len() as i64;
        tx.execute(
            "INSERT INTO attachments (sha256, byte_size, received_bytes, media_type, complete, created_at, completed_at, uploaded_by) VALUES ($1, $2, $2, $3, 1, $4, $4, $5) \
             ON CONFLICT (sha256) DO UPDATE SET byte_size = excluded.byte_size, received_bytes = excluded.received_bytes, media_type = excluded.media_type, \
             complete = 1, completed_at = excluded.completed_at, uploaded_by = excluded.uploaded_by",
            params![sha.as_str(), size, declared.as_str(), now.as_str(), actor],
        )?;
        let mut w = Writer::begin(tx)?;
        let name: Option<String> = name.map(|n| n.chars().filter(|c| !c.is_control()).take(200).collect());
        if w.load("attachments", &sha)?.is_none() {
            write_fresh(
                &mut w,
                "attachments",
                &sha,
                &[("media_type", json!(declared)), ("byte_size", json!(size)), ("original_name", json!(name)), ("added_at", json!(now)), ("deleted", json!(false))],
            )?;
        }
        w.finish()?;
        audit::record(tx, actor, "photo_uploaded", Some("attachments"), Some(&sha), None, json!({"media_type": declared, "byte_size": size}))?;
    }
    Ok(Photo { sha256: sha, media_type: declared, byte_size: bytes.len() as i64 })
}

pub async fn upload(State(s): State<AppState>, u: ConsoleUser, headers: HeaderMap, body: Bytes) -> Result<Response> {
    let actor = u.login().to_owned();
    let declared = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let name = headers.get("x-file-name").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let photo = s.db.run(Mode::Feed, move |tx| store_photo(tx, &actor, &declared, name.as_deref(), &body)).await?;
    Ok((StatusCode::CREATED, Json(photo)).into_response())
}

/// A photo for the console: only an image stored complete (served as its type, sandboxed).
pub async fn download(State(s): State<AppState>, _u: ConsoleUser, Path(sha): Path<String>) -> Result<Response> {
    let sha = crate::attachments::parse_name(&sha)?;
    let name = sha.clone();
    let found = s
        .db
        .run(Mode::Read, move |tx| -> Result<Option<(String, Vec<u8>)>> {
            let Some(r) = tx.query_opt("SELECT media_type, byte_size FROM attachments WHERE sha256 = $1 AND complete = 1", params![name.as_str()])? else { return Ok(None) };
            let media_type = r.opt_text(0)?.unwrap_or_default().to_ascii_lowercase();
            let size = r.opt_int(1)?.unwrap_or(0);
            if !PHOTO_TYPES.contains(&media_type.as_str()) || size > MAX_PHOTO_BYTES as i64 {
                return Ok(None);
            }
            let mut bytes = Vec::with_capacity(size as usize);
            for r in tx.query("SELECT data FROM attachment_chunks WHERE sha256 = $1 ORDER BY chunk_offset", params![name.as_str()])? {
                bytes.extend(r.blob(0)?);
            }
            Ok(Some((media_type, bytes)))
        })
        .await?;
    let Some((media_type, bytes)) = found else {
        return Err(Error::NotFound(format!("no photo {sha} on the server (only images up to {} MiB are shown here)", MAX_PHOTO_BYTES / 1024 / 1024)));
    };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_str(&media_type).unwrap_or(HeaderValue::from_static("application/octet-stream")));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert(CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
    h.remove(CONTENT_LENGTH);
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    Ok(resp)
}
