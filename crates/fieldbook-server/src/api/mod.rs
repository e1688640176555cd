//! The HTTP API: routes, the checks every request passes (protocol version, body size,
//! compression), and the handlers of sync. Handlers only translate between HTTP and the
//! modules that own the work ([`crate::push`], [`crate::pull`], [`crate::enrolment`], …); all
//! database work runs off the async threads through [`crate::db::Db::run`].
//!
//! Every answer carries `Fieldbook-Protocol` with the protocol version (2); every error is the protocol's `ErrorBody`.

mod attachments;
pub mod auth;
mod updates;

use axum::body::{Body, Bytes};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Extension, FromRequest, Query, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, head, post, MethodRouter};
use axum::{Json, Router};
use fieldbook_core::sync::protocol::{
    EnrollRequest, EnrollResponse, PushRequest, PushResponse, RenewChallengeRequest, RenewChallengeResponse, RenewRequest, RenewResponse, TokenCheckRequest,
    TokenCheckResponse, PROTOCOL_HEADER, PROTOCOL_VERSION,
};
use serde::{Deserialize, Serialize};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::db::{Db, Mode};
use crate::error::{error_response, Error, Result};
use crate::group::PushQueue;
use crate::{clock, devices, enrolment, pull, push};
use auth::{AuthDevice, PresentedToken};

/// Largest JSON request body after decompression (a push of 1,000 entries with signature
/// strokes fits comfortably). Attachment chunks have their own limit.
pub const MAX_JSON_BODY: usize = 16 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Pushes go through the group-commit writer (see [`crate::group`]).
    pub pushes: PushQueue,
    /// Login throttling and the Argon2 limit ([`crate::login`]).
    pub logins: std::sync::Arc<crate::login::Logins>,
    /// When device tokens rotate and expire.
    pub tokens: crate::devices::TokenPolicy,
    /// What `/metrics` shows ([`crate::metrics`]), and who may read it.
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    pub metrics_access: crate::metrics::Access,
    /// The address laptops reach the server at, when a proxy changes it (download links).
    pub public_url: Option<crate::security::PublicUrl>,
    /// Whether this process serves HTTPS itself (download links without a public URL).
    pub serving_tls: bool,
}

/// Every route: path and methods. The router is built from this list, and the OpenAPI
/// document must describe exactly these (a test checks both).
pub const ROUTES: &[(&str, &[&str])] = &[
    ("/api/status", &["GET"]),
    ("/api/enroll", &["POST"]),
    ("/api/device/token", &["POST"]),
    ("/api/device/renew/challenge", &["POST"]),
    ("/api/device/renew", &["POST"]),
    ("/api/sync/push", &["POST"]),
    ("/api/sync/pull", &["GET"]),
    ("/api/attachments/missing", &["GET"]),
    ("/api/attachments/{sha256}", &["HEAD", "PATCH", "GET"]),
    ("/api/updates/{target}/{arch}/{current_version}", &["GET"]),
    ("/api/updates/download/{id}", &["GET"]),
    ("/api/openapi.json", &["GET"]),
];

fn handlers(path: &str) -> MethodRouter<AppState> {
    match path {
        "/api/status" => get(status),
        "/api/enroll" => post(enroll),
        "/api/device/token" => post(token_handler),
        "/api/device/renew/challenge" => post(renew_challenge),
        "/api/device/renew" => post(renew_handler),
        "/api/sync/push" => post(push_handler),
        "/api/sync/pull" => get(pull_handler),
        "/api/attachments/missing" => get(attachments::missing),
        "/api/attachments/{sha256}" => {
            head(attachments::head).patch(attachments::patch).get(attachments::download).layer(DefaultBodyLimit::max(crate::attachments::MAX_CHUNK_BYTES))
        }
        "/api/updates/{target}/{arch}/{current_version}" => get(updates::check),
        "/api/updates/download/{id}" => get(updates::download),
        "/api/openapi.json" => get(openapi),
        other => unreachable!("no handlers for route {other}"),
    }
}

/// The whole application, ready to serve, with default [`crate::security::Options`].
pub fn router(db: Db) -> Router {
    router_with(db, &crate::security::Options::default())
}

/// The whole application, ready to serve.
pub fn router_with(db: Db, options: &crate::security::Options) -> Router {
    let mut api = Router::new();
    for (path, _) in ROUTES {
        api = api.route(path, handlers(path));
    }
    // The sync API needs the protocol header; the console (a browser) speaks no sync protocol.
    let metrics = std::sync::Arc::new(crate::metrics::Metrics::default());
    let console = crate::console::router().route_layer(middleware::from_fn_with_state(metrics.clone(), crate::metrics::time_console));
    let api = api.route_layer(middleware::from_fn(require_protocol)).merge(console).merge(crate::metrics::router());
    // Layers wrap inside-out: the last added runs first on the way in.
    api.fallback(no_route)
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .layer(RequestDecompressionLayer::new())
        .layer(middleware::map_response(errors_as_json))
        // Fastest deflate: JSON shrinks nearly as much as at the default level, at a fraction
        // of the CPU (a 5,000-change pull page is megabytes).
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        .layer(SetResponseHeaderLayer::overriding(axum::http::HeaderName::from_static("fieldbook-protocol"), HeaderValue::from(PROTOCOL_VERSION)))
        .layer(TraceLayer::new_for_http())
        .with_state(AppState {
            pushes: PushQueue::start(db.clone(), metrics.clone()),
            db,
            logins: options.logins.clone(),
            tokens: options.tokens,
            metrics,
            metrics_access: options.metrics_access.clone(),
            public_url: options.public_url.clone(),
            serving_tls: options.serving_tls,
        })
}

/// A body streamed one stored chunk at a time from a blocking task, so a large file (a photo, an
/// update) never sits in memory. `next(tx, from)` reads the first chunk at or after byte `from`
/// and answers its offset and bytes, or `None` at the end; a read that fails ends the body with
/// that error, and a client that goes away stops the reads.
pub(crate) fn chunked_body<F>(db: Db, mut next: F) -> Body
where
    F: FnMut(&mut dyn crate::db::Tx, i64) -> Result<Option<(i64, Vec<u8>)>> + Send + 'static,
{
    let (send, recv) = tokio::sync::mpsc::channel::<std::result::Result<Bytes, std::io::Error>>(2);
    tokio::task::spawn_blocking(move || {
        let mut from = 0;
        loop {
            let item = match db.transaction(Mode::Read, |tx| next(tx, from)) {
                Ok(Some((offset, data))) => {
                    from = offset + data.len() as i64;
                    Ok(Bytes::from(data))
                }
                Ok(None) => return,
                Err(e) => Err(std::io::Error::other(e.to_string())),
            };
            let failed = item.is_err();
            if send.blocking_send(item).is_err() || failed {
                return; // the client went away, or the read failed
            }
        }
    });
    Body::from_stream(futures_util::stream::unfold(recv, |mut r| async move { r.recv().await.map(|item| (item, r)) }))
}

/// Refuses requests without the `Fieldbook-Protocol` this build speaks with 426 and "please update Fieldbook".
/// The OpenAPI document is exempt so that documentation tools can fetch it.
async fn require_protocol(req: Request, next: Next) -> Response {
    if req.uri().path() == "/api/openapi.json" {
        return next.run(req).await;
    }
    let spoken = req.headers().get(PROTOCOL_HEADER).map(|v| v.to_str().unwrap_or("?").trim().to_owned());
    match spoken {
        Some(v) if v == PROTOCOL_VERSION.to_string() => next.run(req).await,
        Some(v) => Error::ProtocolUnsupported(format!("this server speaks sync protocol {PROTOCOL_VERSION}, this Fieldbook speaks {v}")).into_response(),
        None => Error::ProtocolUnsupported(format!("the request does not say which sync protocol it speaks ({PROTOCOL_HEADER} header); this server speaks {PROTOCOL_VERSION}")).into_response(),
    }
}

/// Errors produced below the handlers (a body over the limit, an unsupported encoding, a wrong
/// method) come as plain text; they are turned into the protocol's JSON error body here.
async fn errors_as_json(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024).await.map(|b| String::from_utf8_lossy(&b).trim().to_owned()).unwrap_or_default();
    let kind = match status {
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::CONFLICT => "conflict",
        StatusCode::UPGRADE_REQUIRED => "protocol_unsupported",
        s if s.is_client_error() => "invalid",
        _ => "internal",
    };
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("error").to_owned() } else { text };
    let json = error_response(status, kind, message, false);
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, json.into_body())
}

async fn no_route(method: Method, uri: axum::http::Uri) -> Error {
    Error::NotFound(format!("no endpoint {method} {}; /api/openapi.json lists them", uri.path()))
}

/// A JSON body whose rejections (bad JSON, too large, wrong content type) are protocol errors.
pub struct JsonBody<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        if !json_content_type(req.headers()) {
            // axum's extractor says what is wrong, in its words.
            return match Json::<T>::from_request(req, state).await {
                Ok(Json(v)) => Ok(JsonBody(v)),
                Err(rejection) => Err(json_rejection(rejection)),
            };
        }
        let bytes = match Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(r) => return Err(Error::Invalid(r.body_text())),
        };
        // Parsed straight with serde_json (axum's `Json` tracks the path of every value, which
        // costs about as much again); only a body that fails is parsed again, by axum, for the
        // message that names where it went wrong.
        match serde_json::from_slice(&bytes) {
            Ok(v) => Ok(JsonBody(v)),
            Err(e) => Err(match Json::<T>::from_bytes(&bytes) {
                Err(rejection) => json_rejection(rejection),
                Ok(_) => Error::Invalid(format!("the body is not valid JSON: {e}")),
            }),
        }
    }
}

/// `Content-Type: application/json` (or `application/…+json`), as axum's `Json` accepts it.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.split_once('/') {
        Some((ty, sub)) => ty == "application" && (sub == "json" || sub.ends_with("+json")),
        None => false,
    }
}

fn too_large() -> Error {
    Error::TooLarge(format!("the request body is larger than {} MiB", MAX_JSON_BODY / (1024 * 1024)))
}

fn json_rejection(r: JsonRejection) -> Error {
    match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::Invalid("send the body as JSON (Content-Type: application/json)".into()),
        _ => Error::Invalid(r.body_text()),
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Status {
    pub name: String,
    pub version: String,
    pub protocol_version: u32,
    /// This server's wall clock (RFC 3339, UTC), for spotting a laptop's wrong clock.
    pub server_time: String,
    pub server_hlc: String,
}

async fn status(State(s): State<AppState>) -> Result<Json<Status>> {
    let server_hlc = s.db.run(Mode::Read, clock::current).await?;
    Ok(Json(Status {
        name: "fieldbook-server".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        protocol_version: PROTOCOL_VERSION,
        server_time: crate::now_text(),
        server_hlc,
    }))
}

async fn enroll(State(s): State<AppState>, JsonBody(req): JsonBody<EnrollRequest>) -> Result<Json<EnrollResponse>> {
    let resp = s.db.run(Mode::Write, move |tx| enrolment::enroll(tx, &req)).await?;
    tracing::info!(technician = %resp.technician, "enrolled a laptop");
    Ok(Json(resp))
}

/// The first request of a sync run: records the store protection the laptop reports and hands
/// it a fresh token when its own is due for rotation (`docs/sync.md`, "Device tokens").
async fn token_handler(
    State(s): State<AppState>,
    AuthDevice(device): AuthDevice,
    Extension(PresentedToken(token)): Extension<PresentedToken>,
    JsonBody(req): JsonBody<TokenCheckRequest>,
) -> Result<Json<TokenCheckResponse>> {
    let policy = s.tokens;
    let resp = s.db.run(Mode::Write, move |tx| devices::check_in(tx, &device.id, &token, &req, &policy)).await?;
    Ok(Json(resp))
}

/// A laptop whose token expired asks for a nonce to sign with its device key.
async fn renew_challenge(State(s): State<AppState>, JsonBody(req): JsonBody<RenewChallengeRequest>) -> Result<Json<RenewChallengeResponse>> {
    Ok(Json(s.db.run(Mode::Write, move |tx| devices::renewal_challenge(tx, &req)).await?))
}

/// The signed nonce for a new token. The nonce is used up in a transaction of its own first, so
/// that a refused signature cannot be tried again with the same nonce.
async fn renew_handler(State(s): State<AppState>, JsonBody(req): JsonBody<RenewRequest>) -> Result<Json<RenewResponse>> {
    let req = std::sync::Arc::new(req);
    let r = req.clone();
    match s.db.run(Mode::Write, move |tx| devices::consume_nonce(tx, &r)).await? {
        None => return Err(Error::Unauthorized("unknown or already used renewal challenge; ask for a new one (POST /api/device/renew/challenge)".into())),
        Some(false) => return Err(Error::Unauthorized("the renewal challenge expired; ask for a new one (POST /api/device/renew/challenge)".into())),
        Some(true) => {}
    }
    let policy = s.tokens;
    let resp = s.db.run(Mode::Write, move |tx| devices::renew(tx, &req, &policy)).await?;
    Ok(Json(resp))
}

async fn push_handler(State(s): State<AppState>, AuthDevice(device): AuthDevice, JsonBody(req): JsonBody<PushRequest>) -> Result<Json<PushResponse>> {
    let resp = match push::check_batch(&req) {
        Ok(()) => s.pushes.push(device, req).await,
        Err(e) => Err(e),
    };
    s.metrics.push_done(&resp);
    Ok(Json(resp?))
}

#[derive(Debug, Deserialize)]
pub struct PullQuery {
    #[serde(default)]
    pub cursor: i64,
    pub limit: Option<usize>,
}

async fn pull_handler(State(s): State<AppState>, AuthDevice(device): AuthDevice, query: std::result::Result<Query<PullQuery>, QueryRejection>) -> Result<Response> {
    let Query(q) = query.map_err(|e| Error::Invalid(format!("{}; expected ?cursor=N&limit=N", e.body_text())))?;
    // The page's JSON is written straight from the stored changes (see `pull::page_json`).
    let page = s.db.run(Mode::Read, move |tx| pull::page_json(tx, &device.technician, q.cursor, q.limit)).await;
    s.metrics.pull_done(&page);
    let page = page?;
    Ok(([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], page).into_response())
}

async fn openapi() -> Response {
    let mut resp = Json(crate::openapi::document()).into_response();
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// An empty body, for HEAD answers.
pub(crate) fn empty() -> Body {
    Body::empty()
}
