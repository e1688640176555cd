//! HTTP for desktop updates (Tauri's dynamic update protocol): `GET
//! /api/updates/{target}/{arch}/{current_version}` (204, or the newest newer release) and `GET
//! /api/updates/download/{id}` (its artifact, streamed). Only for an enrolled, unrevoked laptop
//! (`AuthDevice`). The rules live in [`crate::releases`].

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HOST, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::AuthDevice;
use super::AppState;
use crate::db::Mode;
use crate::error::{Error, Result};
use crate::releases::{self, UpdateOffer};

/// Where this laptop reaches the server: the public URL, else the `Host` it asked (the address
/// the laptop itself used, so the download goes where the check went).
fn base_url(s: &AppState, headers: &HeaderMap) -> Result<String> {
    if let Some(u) = &s.public_url {
        return Ok(u.as_str().to_owned());
    }
    let host = headers.get(HOST).and_then(|h| h.to_str().ok()).filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic() && b != b'/' && b != b'@'));
    let host = host.ok_or_else(|| Error::Invalid("the request names no Host; the server cannot say where to download the update".into()))?;
    Ok(format!("{}://{host}", if s.serving_tls { "https" } else { "http" }))
}

pub async fn check(
    State(s): State<AppState>,
    AuthDevice(device): AuthDevice,
    Path((os, arch, current)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let target = releases::parse_target(&format!("{os}-{arch}"))?;
    let current = releases::parse_version(&current)?;
    let base = base_url(&s, &headers)?;
    let (t, c) = (target.clone(), current.clone());
    let found = s.db.run(Mode::Read, move |tx| releases::newer_than(tx, &t, &c)).await?;
    // Which version each laptop runs, in the log.
    tracing::info!(device = %device.id, current_version = %current, %target, offered = found.as_ref().map_or("none", |r| r.version.as_str()), "desktop update check");
    let Some(release) = found else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let url = format!("{base}/api/updates/download/{}", release.id);
    let mut resp = Json(UpdateOffer::new(release, url)).into_response();
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

pub async fn download(State(s): State<AppState>, AuthDevice(device): AuthDevice, Path(id): Path<String>) -> Result<Response> {
    let id: i64 = id.parse().ok().filter(|n| *n > 0).ok_or_else(|| Error::Invalid(format!("'{id}' is not a release number")))?;
    let release = s.db.run(Mode::Read, move |tx| releases::downloadable(tx, id)).await?;
    let Some(release) = release else {
        return Err(Error::NotFound(format!("release {id} is not published (withdrawn, or never was); the laptop keeps its version")));
    };
    tracing::info!(device = %device.id, version = %release.version, "sending a desktop update");
    // Streamed one chunk at a time, as attachments are.
    let mut resp = super::chunked_body(s.db.clone(), move |tx, from| releases::chunk_from(tx, id, from)).into_response();
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(CONTENT_DISPOSITION, HeaderValue::from_static("attachment"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(CONTENT_LENGTH, HeaderValue::from(release.byte_size));
    // Sent as it is: an AppImage is compressed already, and the updater reports progress
    // against Content-Length (the compression layer leaves a response with an encoding alone).
    h.insert(CONTENT_ENCODING, HeaderValue::from_static("identity"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
