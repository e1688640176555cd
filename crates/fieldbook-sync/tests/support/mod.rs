//! A small in-test server that speaks the sync protocol faithfully enough for the client: enrolment
//! codes and bearer tokens, the protocol header (426), revocation (403 `device_revoked`), per-device
//! `acked_seq` (resent entries are duplicates, applied once), the core's per-field merge into a
//! record store with a feed, cursor pagination, gzip bodies both ways and resumable attachment
//! uploads — plus switches to inject the failures the tests need (a lost push answer, a failing
//! pull page, an upload cut mid-chunk).

#![allow(dead_code, clippy::result_large_err)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, head, post};
use axum::Router;
use fieldbook_core::entity::{self, ENTITIES};
use fieldbook_core::import::ImportDocument;
use fieldbook_core::sync::merge::{merge_into, IncomingWrite, RecordState, Stamps};
use fieldbook_core::sync::protocol::*;
use fieldbook_core::Store;
use serde_json::{json, Map, Value};

/// Entities a technician may not change (the office maintains them).
const REFERENCE: &[&str] = &["customers", "sites", "assets", "contracts", "parts", "checklist_templates"];

#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    pub technician: String,
    pub acked_seq: i64,
    pub revoked: Option<(String, bool)>,
}

#[derive(Default)]
pub struct MockState {
    /// One-time enrolment code -> technician.
    pub codes: HashMap<String, String>,
    /// Device token -> device.
    pub devices: HashMap<String, Device>,
    pub records: HashMap<(String, String), RecordState>,
    pub feed: Vec<FeedChange>,
    /// (device id, seq) of every entry applied: each must appear once.
    pub applied: Vec<(String, i64)>,
    /// Requests must carry at least this protocol version.
    pub min_protocol: u32,
    /// The next push is applied, then its answer is held this long (the client gives up first).
    pub stall_next_push: Option<Duration>,
    /// The n-th pull request from now on (1-based) fails with 500.
    pub fail_pull_number: Option<usize>,
    /// The n-th pull request (1-based) gets no answer for a minute.
    pub stall_pull_number: Option<usize>,
    pub pulls: usize,
    /// Cursor of every pull request.
    pub pull_cursors: Vec<i64>,
    /// Bytes held per attachment id.
    pub attachments: HashMap<String, Vec<u8>>,
    /// The next upload that would pass this many bytes keeps only up to here and fails.
    pub cut_upload_at: Option<u64>,
    /// `Upload-Offset` of every PATCH.
    pub patch_offsets: Vec<u64>,
    pub heads: usize,
    /// "METHOD path?query" of every request.
    pub requests: Vec<String>,
    /// Bodies that arrived without `Content-Encoding: gzip`.
    pub plain_bodies: usize,
    tokens_issued: usize,
}

pub type Shared = Arc<Mutex<MockState>>;

pub struct Mock {
    pub addr: SocketAddr,
    pub url: String,
    pub state: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Mock {
    /// A server holding the demo data (as the office would), on a free port.
    pub async fn with_demo() -> Mock {
        Self::start_on(0, demo_state()).await
    }

    pub async fn start_on(port: u16, state: MockState) -> Mock {
        let state = Arc::new(Mutex::new(MockState { min_protocol: PROTOCOL_VERSION, ..state }));
        let app = Router::new()
            .route("/api/status", get(|| async { Json(json!({"ok": true})).into_response() }))
            .route("/api/enroll", post(enroll))
            .route("/api/sync/push", post(push))
            .route("/api/sync/pull", get(pull))
            .route("/api/attachments/{id}", head(attachment_head).patch(attachment_patch))
            .layer(axum::middleware::from_fn_with_state(state.clone(), log_request))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind mock server");
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("mock server");
        });
        Mock { addr, url: format!("http://{addr}"), state, task }
    }

    pub fn state(&self) -> MutexGuard<'_, MockState> {
        self.state.lock().unwrap()
    }

    /// A fresh enrolment code for `technician`.
    pub fn code(&self, code: &str, technician: &str) -> String {
        self.state().codes.insert(code.into(), technician.into());
        code.into()
    }

    /// Registers a device directly (as if enrolled) and returns its token.
    pub fn device(&self, device_id: &str, technician: &str) -> String {
        let mut s = self.state();
        s.tokens_issued += 1;
        let token = format!("token-{}", s.tokens_issued);
        s.devices.insert(token.clone(), Device { id: device_id.into(), technician: technician.into(), acked_seq: 0, revoked: None });
        token
    }

    pub fn revoke_all(&self, reason: &str, wipe: bool) {
        for d in self.state().devices.values_mut() {
            d.revoked = Some((reason.into(), wipe));
        }
    }

    pub fn record(&self, entity: &str, id: &str) -> Option<RecordState> {
        self.state().records.get(&(entity.to_owned(), id.to_owned())).cloned()
    }
}

/// The demo data as the office's records and feed.
pub fn demo_state() -> MockState {
    let dir = tempfile::tempdir().unwrap();
    let mut office = Store::open(&dir.path().join("office.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo/fire-protection.json")).unwrap();
    office.import(&ImportDocument::from_json(&text, "demo").unwrap(), "demo").unwrap();
    let mut state = MockState::default();
    let conn = office.connection();
    // Parents before children, as the entity list is ordered, so every page's references resolve.
    for spec in ENTITIES {
        let cols: Vec<&str> = spec.fields.iter().map(|(n, _)| *n).collect();
        let mut stmt = conn.prepare(&format!("SELECT id, {} FROM {} ORDER BY id", cols.join(", "), spec.name)).unwrap();
        let rows: Vec<(String, Map<String, Value>)> = stmt
            .query_map([], |r| {
                let id: String = r.get(0)?;
                let mut fields = Map::new();
                for (i, (name, ty)) in spec.fields.iter().enumerate() {
                    fields.insert((*name).to_owned(), entity::from_sql(*ty, r.get_ref(i + 1)?));
                }
                Ok((id, fields))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (id, fields) in rows {
            let clocks = office.record_stamps(spec.name, &id).unwrap();
            let seq = state.feed.len() as i64 + 1;
            state.feed.push(FeedChange { seq, entity: spec.name.into(), record_id: id.clone(), fields: fields.clone(), clocks: clocks.clone() });
            state.records.insert((spec.name.into(), id), RecordState { fields, clocks });
        }
    }
    state
}

fn server_hlc() -> String {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    format!("{ms:015}-0000000000-server")
}

struct Json(Value);

impl IntoResponse for Json {
    fn into_response(self) -> Response {
        ([("content-type", "application/json")], self.0.to_string()).into_response()
    }
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    (status, [("content-type", "application/json")], json!({"error": {"kind": kind, "message": message}}).to_string()).into_response()
}

/// Answers JSON, gzip-compressed when the client accepts it (as the real server's layer does).
fn reply(headers: &HeaderMap, value: Value) -> Response {
    let body = value.to_string().into_bytes();
    let gzip_ok = headers.get("accept-encoding").and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("gzip"));
    if !gzip_ok {
        return ([("content-type", "application/json")], body).into_response();
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&body).unwrap();
    ([("content-type", "application/json"), ("content-encoding", "gzip")], enc.finish().unwrap()).into_response()
}

fn body_json<T: serde::de::DeserializeOwned>(state: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<T, Response> {
    let raw = if headers.get("content-encoding").is_some_and(|v| v == "gzip") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body).read_to_end(&mut out).map_err(|e| error(StatusCode::BAD_REQUEST, "invalid", &format!("bad gzip: {e}")))?;
        out
    } else {
        state.lock().unwrap().plain_bodies += 1;
        body.to_vec()
    };
    serde_json::from_slice(&raw).map_err(|e| error(StatusCode::BAD_REQUEST, "invalid", &e.to_string()))
}

/// The protocol header, then the token, then revocation: the order the real server checks them.
fn authorize(s: &MockState, headers: &HeaderMap) -> Result<String, Response> {
    let version: u32 = headers.get(PROTOCOL_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
    if version < s.min_protocol {
        return Err(error(StatusCode::UPGRADE_REQUIRED, "protocol_unsupported", &format!("this server speaks protocol {} and later", s.min_protocol)));
    }
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    let Some(device) = s.devices.get(token) else {
        return Err(error(StatusCode::UNAUTHORIZED, "unauthorized", "unknown device token"));
    };
    if let Some((reason, wipe)) = &device.revoked {
        let body = json!({"error": {"kind": "device_revoked", "message": reason, "wipe": wipe}});
        return Err((StatusCode::FORBIDDEN, [("content-type", "application/json")], body.to_string()).into_response());
    }
    Ok(token.to_owned())
}

async fn log_request(State(state): State<Shared>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let line = format!("{} {}", req.method(), req.uri());
    state.lock().unwrap().requests.push(line);
    next.run(req).await
}

async fn enroll(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let req: EnrollRequest = match body_json(&state, &headers, &body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let mut s = state.lock().unwrap();
    if headers.get(PROTOCOL_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0) < s.min_protocol {
        return error(StatusCode::UPGRADE_REQUIRED, "protocol_unsupported", "update");
    }
    let Some(technician) = s.codes.remove(&req.code) else {
        return error(StatusCode::UNAUTHORIZED, "unauthorized", "this code is unknown or was already used");
    };
    if req.public_key.len() != 64 {
        return error(StatusCode::BAD_REQUEST, "invalid", "public_key must be 32 bytes in hex");
    }
    s.tokens_issued += 1;
    let token = format!("token-{}", s.tokens_issued);
    s.devices.insert(token.clone(), Device { id: req.device_id, technician: technician.clone(), acked_seq: 0, revoked: None });
    reply(&headers, json!(EnrollResponse { device_token: token, technician, server_hlc: server_hlc() }))
}

async fn push(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let req: PushRequest = match body_json(&state, &headers, &body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let (resp, stall) = {
        let mut s = state.lock().unwrap();
        let token = match authorize(&s, &headers) {
            Ok(t) => t,
            Err(e) => return e,
        };
        let device = s.devices[&token].clone();
        let mut resp = PushResponse { acked_seq: device.acked_seq, applied: 0, duplicates: 0, conflicts: 0, rejected: vec![], server_hlc: server_hlc() };
        for e in &req.entries {
            if e.seq <= device.acked_seq {
                resp.duplicates += 1;
                continue;
            }
            resp.acked_seq = e.seq;
            if REFERENCE.contains(&e.entity.as_str()) {
                resp.rejected.push(Rejection { seq: e.seq, entity: e.entity.clone(), record_id: e.record_id.clone(), reason: "reference data is maintained by the office".into() });
                continue;
            }
            let key = (e.entity.clone(), e.record_id.clone());
            let mut record = s.records.get(&key).cloned().unwrap_or_default();
            let outcome = merge_into(&mut record, &IncomingWrite { fields: &e.fields, clocks: Stamps::All(&e.hlc), base: Some(&e.base) });
            resp.conflicts += outcome.conflicts.len() as u32;
            resp.applied += 1;
            s.applied.push((device.id.clone(), e.seq));
            if !outcome.changed.is_empty() {
                let seq = s.feed.len() as i64 + 1;
                s.feed.push(FeedChange { seq, entity: e.entity.clone(), record_id: e.record_id.clone(), fields: record.fields.clone(), clocks: record.clocks.clone() });
            }
            s.records.insert(key, record);
        }
        s.devices.get_mut(&token).unwrap().acked_seq = resp.acked_seq;
        (resp, s.stall_next_push.take())
    };
    if let Some(d) = stall {
        // Applied and committed; the answer never reaches the client in time.
        tokio::time::sleep(d).await;
    }
    reply(&headers, json!(resp))
}

async fn pull(State(state): State<Shared>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    {
        let mut s = state.lock().unwrap();
        if let Err(e) = authorize(&s, &headers) {
            return e;
        }
        let cursor: i64 = q.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
        let limit: usize = q.get("limit").and_then(|c| c.parse().ok()).unwrap_or(MAX_PULL_PAGE).min(MAX_PULL_PAGE);
        s.pulls += 1;
        s.pull_cursors.push(cursor);
        if s.fail_pull_number == Some(s.pulls) {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the database went away");
        }
        if s.stall_pull_number != Some(s.pulls) {
            let changes: Vec<FeedChange> = s.feed.iter().filter(|c| c.seq > cursor).take(limit).cloned().collect();
            let next_cursor = changes.last().map(|c| c.seq).unwrap_or(cursor);
            let more = s.feed.iter().any(|c| c.seq > next_cursor);
            return reply(&headers, json!(PullResponse { changes, next_cursor, more, server_hlc: server_hlc(), offline_lock_days: None }));
        }
    }
    tokio::time::sleep(Duration::from_secs(60)).await;
    error(StatusCode::GATEWAY_TIMEOUT, "timeout", "the pull page never came")
}

async fn attachment_head(State(state): State<Shared>, headers: HeaderMap, UrlPath(id): UrlPath<String>) -> Response {
    let mut s = state.lock().unwrap();
    if let Err(e) = authorize(&s, &headers) {
        return e;
    }
    s.heads += 1;
    match s.attachments.get(&id) {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(b) => (StatusCode::OK, [(UPLOAD_OFFSET_HEADER, b.len().to_string())]).into_response(),
    }
}

const UPLOAD_OFFSET_HEADER: &str = "upload-offset";

async fn attachment_patch(State(state): State<Shared>, headers: HeaderMap, UrlPath(id): UrlPath<String>, body: Bytes) -> Response {
    let mut s = state.lock().unwrap();
    if let Err(e) = authorize(&s, &headers) {
        return e;
    }
    let offset: u64 = headers.get(UPLOAD_OFFSET_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
    s.patch_offsets.push(offset);
    let cut = s.cut_upload_at;
    let held = s.attachments.entry(id).or_default();
    if offset != held.len() as u64 {
        return error(StatusCode::CONFLICT, "conflict", &format!("the upload is at {}", held.len()));
    }
    if let Some(cut) = cut.filter(|c| offset + body.len() as u64 > *c) {
        held.extend_from_slice(&body[..(cut - offset) as usize]);
        s.cut_upload_at = None;
        return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "connection lost mid-upload");
    }
    held.extend_from_slice(&body);
    let len = held.len();
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(UPLOAD_OFFSET_HEADER, HeaderValue::from(len));
    resp
}
