//! HTTP for attachments: `HEAD` (how much of this laptop's upload is here), `PATCH` (append a
//! chunk at `Upload-Offset`), `GET` (download, streamed chunk by chunk, for the office and for
//! laptops whose technician may read it), and the office's list of missing ones. The rules live
//! in [`crate::attachments`].

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::{AuthDevice, Caller, OfficeUser};
use super::AppState;
use crate::attachments::{self as store, Appended, UploadState, Uploader, MAX_CHUNK_BYTES};
use crate::db::Mode;
use crate::error::{Error, Result};

pub const UPLOAD_OFFSET: &str = "Upload-Offset";
pub const UPLOAD_LENGTH: &str = "Upload-Length";
/// `true` once the bytes are all here and hash to the name.
pub const UPLOAD_COMPLETE: &str = "Fieldbook-Upload-Complete";

fn upload_headers(st: &UploadState) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(UPLOAD_OFFSET, HeaderValue::from(st.offset));
    if let Some(n) = st.byte_size {
        h.insert(UPLOAD_LENGTH, HeaderValue::from(n));
    }
    h.insert(UPLOAD_COMPLETE, HeaderValue::from_static(if st.complete { "true" } else { "false" }));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h
}

fn number_header(headers: &HeaderMap, name: &str) -> Result<Option<i64>> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| Error::Invalid(format!("the {name} header must be a whole number of bytes"))),
    }
}

pub async fn head(State(s): State<AppState>, AuthDevice(device): AuthDevice, Path(sha): Path<String>) -> Result<Response> {
    let sha = store::parse_name(&sha)?;
    let st = s.db.run(Mode::Read, move |tx| store::state(tx, &sha, &Uploader { device_id: &device.id, technician: &device.technician })).await?;
    Ok((StatusCode::OK, upload_headers(&st), super::empty()).into_response())
}

pub async fn patch(
    State(s): State<AppState>,
    AuthDevice(device): AuthDevice,
    Path(sha): Path<String>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Response> {
    let sha = store::parse_name(&sha)?;
    let offset = number_header(&headers, UPLOAD_OFFSET)?.ok_or_else(|| Error::Invalid(format!("a chunk needs the {UPLOAD_OFFSET} header (HEAD tells the current offset)")))?;
    let length = number_header(&headers, UPLOAD_LENGTH)?;
    let bytes = body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge(format!("send attachments in chunks of at most {} MiB", MAX_CHUNK_BYTES / (1024 * 1024))),
        _ => Error::Invalid(r.body_text()),
    })?;
    let name = sha.clone();
    let received = bytes.len() as u64;
    let outcome =
        s.db.run(Mode::Write, move |tx| store::append(tx, &name, offset, length, &bytes, &Uploader { device_id: &device.id, technician: &device.technician })).await?;
    match outcome {
        Appended::Held(st) => {
            // Stored: this chunk was the one that completed the file.
            let completed = (st.complete && received > 0 && st.offset == offset + received as i64).then_some(st.offset as u64);
            s.metrics.attachment_chunk(received, completed);
            Ok((StatusCode::OK, upload_headers(&st), Json(st)).into_response())
        }
        Appended::WrongContent { expected_size } => Err(Error::Invalid(format!(
            "the {expected_size} bytes received do not hash to {sha}; they were discarded (the file on the laptop does not match its name)"
        ))),
    }
}

/// Media types served as themselves; anything else is sent as `application/octet-stream`, so
/// that a laptop naming its file `text/html` or `image/svg+xml` cannot have a browser run it on
/// the server's origin (the office console's).
const SERVED_AS_IS: &[&str] = &["image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "application/pdf"];

pub async fn download(State(s): State<AppState>, caller: Caller, Path(sha): Path<String>) -> Result<Response> {
    let sha = store::parse_name(&sha)?;
    let name = sha.clone();
    let st = s
        .db
        .run(Mode::Read, move |tx| {
            let allowed = match &caller {
                Caller::Office(_) => true,
                Caller::Device(d) => store::may_read(tx, &d.technician, &name)?,
            };
            if allowed { store::download_state(tx, &name) } else { Ok(None) }
        })
        .await?;
    // Not there, not finished, or not this caller's to read: the same answer, so that a
    // laptop cannot learn which content the server holds (see `crate::attachments`).
    let Some(st) = st else {
        return Err(Error::NotFound(format!(
            "attachment {sha} is not on the server, or none of your work orders refers to it (a photo is readable by the technician whose order's answers name it, and by the office)"
        )));
    };
    // Streamed one chunk at a time, so a large file never sits in memory.
    let name = sha.clone();
    let mut resp = super::chunked_body(s.db.clone(), move |tx, from| store::chunk_from(tx, &name, from)).into_response();
    let h = resp.headers_mut();
    let media_type = st.media_type.as_deref().map(str::to_ascii_lowercase).filter(|m| SERVED_AS_IS.contains(&m.as_str()));
    h.insert(CONTENT_TYPE, media_type.and_then(|m| HeaderValue::from_str(&m).ok()).unwrap_or(HeaderValue::from_static("application/octet-stream")));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    if h.get(CONTENT_TYPE).is_some_and(|v| v == "application/octet-stream") {
        h.insert(CONTENT_DISPOSITION, HeaderValue::from_static("attachment"));
    }
    if let Some(n) = st.byte_size {
        h.insert(CONTENT_LENGTH, HeaderValue::from(n));
    }
    h.insert(ETAG, HeaderValue::from_str(&format!("\"{sha}\"")).expect("hex is a valid header"));
    // Content-addressed: the bytes under this name never change.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    Ok(resp)
}

pub async fn missing(State(s): State<AppState>, _office: OfficeUser) -> Result<Json<Vec<store::Missing>>> {
    Ok(Json(s.db.run(Mode::Read, store::missing).await?))
}
