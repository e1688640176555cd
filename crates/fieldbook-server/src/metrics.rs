//! What an administrator watches: `/metrics` (Prometheus text format 0.0.4), `/healthz` (the
//! process answers) and `/readyz` (the database answers and its schema is the one this build
//! migrates to). See docs/server-config.md "Watching the server" and docs/security.md for who may
//! read `/metrics`.
//!
//! A small registry of our own rather than a crate: the metrics are a fixed set, known at
//! compile time, so counters and histogram buckets are plain atomics bumped once per push, pull,
//! chunk or console request (never per entry or under a lock on the push path), and the text
//! format is a few lines to write. Label sets that are not fixed — refused changes by entity, the
//! console's routes — are bounded: entities come from the whitelist, routes are axum's route
//! templates (`/console/api/work-orders/{id}`), never raw paths.
//!
//! Devices by last contact are counted from the database at scrape time (one aggregate query
//! over `devices`), so they are never stale and cost nothing between scrapes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::api::AppState;
use crate::db::Mode;
use crate::error::{Error, Result};
use crate::params;

/// Seconds: a group commit of pushes takes milliseconds, a large one up to seconds.
const COMMIT_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Seconds: console calls are meant to answer within 300 ms (the console bench's target).
const CONSOLE_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0];

/// How long `/readyz` waits for the database before calling it unready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// A histogram with fixed upper bounds (seconds); the sum kept in nanoseconds so that every
/// update is one atomic add.
pub struct Histogram {
    bounds: &'static [f64],
    counts: Box<[AtomicU64]>,
    sum_ns: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram { bounds, counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(), sum_ns: AtomicU64::new(0) }
    }

    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = self.bounds.iter().position(|b| secs <= *b).unwrap_or(self.bounds.len());
        self.counts[i].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, c) in self.counts.iter().enumerate() {
            cumulative += c.load(Relaxed);
            let le = self.bounds.get(i).map_or("+Inf".to_owned(), |b| b.to_string());
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}");
        }
        let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum_ns.load(Relaxed) as f64 / 1e9);
        let _ = writeln!(out, "{name}_count{braces} {cumulative}");
    }
}

/// How a request ended, as a label: `ok`, `refused` (the client's fault: 4xx) or `error` (ours).
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Ok,
    Refused,
    Error,
}

impl Outcome {
    pub fn of<T>(r: &Result<T>) -> Outcome {
        match r {
            Ok(_) => Outcome::Ok,
            Err(e) if e.status().is_client_error() => Outcome::Refused,
            Err(_) => Outcome::Error,
        }
    }
    const ALL: [(Outcome, &'static str); 3] = [(Outcome::Ok, "ok"), (Outcome::Refused, "refused"), (Outcome::Error, "error")];
}

#[derive(Default)]
struct ByOutcome([AtomicU64; 3]);

impl ByOutcome {
    fn add(&self, o: Outcome) {
        self.0[o as usize].fetch_add(1, Relaxed);
    }
    fn render(&self, out: &mut String, name: &str) {
        for (o, label) in Outcome::ALL {
            let _ = writeln!(out, "{name}{{result=\"{label}\"}} {}", self.0[o as usize].load(Relaxed));
        }
    }
}

/// The server's metrics: one per running server (tests run several in one process).
pub struct Metrics {
    pushes: ByOutcome,
    pulls: ByOutcome,
    changes_applied: AtomicU64,
    changes_duplicate: AtomicU64,
    changes_refused: AtomicU64,
    conflicts: AtomicU64,
    refused_by_entity: Mutex<BTreeMap<&'static str, u64>>,
    queue_depth: AtomicI64,
    commit: Histogram,
    bytes_received: AtomicU64,
    bytes_stored: AtomicU64,
    console: Mutex<BTreeMap<(String, String), Arc<Histogram>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            pushes: ByOutcome::default(),
            pulls: ByOutcome::default(),
            changes_applied: AtomicU64::new(0),
            changes_duplicate: AtomicU64::new(0),
            changes_refused: AtomicU64::new(0),
            conflicts: AtomicU64::new(0),
            refused_by_entity: Mutex::new(BTreeMap::new()),
            queue_depth: AtomicI64::new(0),
            commit: Histogram::new(COMMIT_BUCKETS),
            bytes_received: AtomicU64::new(0),
            bytes_stored: AtomicU64::new(0),
            console: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Metrics {
    /// A push request answered (after its commit) or refused.
    pub fn push_done(&self, r: &Result<fieldbook_core::sync::protocol::PushResponse>) {
        self.pushes.add(Outcome::of(r));
        if let Ok(resp) = r {
            self.changes_applied.fetch_add(u64::from(resp.applied), Relaxed);
            self.changes_duplicate.fetch_add(u64::from(resp.duplicates), Relaxed);
            self.conflicts.fetch_add(u64::from(resp.conflicts), Relaxed);
            if !resp.rejected.is_empty() {
                self.changes_refused.fetch_add(resp.rejected.len() as u64, Relaxed);
                let mut by = self.refused_by_entity.lock().unwrap_or_else(|p| p.into_inner());
                for r in &resp.rejected {
                    // The laptop names the entity: only whitelisted names become labels.
                    let entity = fieldbook_core::entity::spec(&r.entity).map_or("other", |e| e.name);
                    *by.entry(entity).or_default() += 1;
                }
            }
        }
    }

    pub fn pull_done<T>(&self, r: &Result<T>) {
        self.pulls.add(Outcome::of(r));
    }

    /// A push request waits for the writer (+1) or the writer took it (-1).
    pub fn queued(&self, n: i64) {
        self.queue_depth.fetch_add(n, Relaxed);
    }

    /// One group transaction of pushes, from its start to its commit (or failure).
    pub fn commit_took(&self, d: Duration) {
        self.commit.observe(d);
    }

    /// An attachment chunk accepted; `completed` the file's size when this chunk finished it.
    pub fn attachment_chunk(&self, received: u64, completed: Option<u64>) {
        self.bytes_received.fetch_add(received, Relaxed);
        if let Some(n) = completed {
            self.bytes_stored.fetch_add(n, Relaxed);
        }
    }

    fn console_took(&self, method: &str, route: &str, d: Duration) {
        let h = {
            let mut map = self.console.lock().unwrap_or_else(|p| p.into_inner());
            map.entry((route.to_owned(), method.to_owned())).or_insert_with(|| Arc::new(Histogram::new(CONSOLE_BUCKETS))).clone()
        };
        h.observe(d);
    }

    /// The text format, with the devices counted by the caller from the database.
    pub fn render(&self, devices: &DevicesByContact) -> String {
        let mut o = String::with_capacity(8 * 1024);
        let head = |o: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        head(&mut o, "fieldbook_build_info", "gauge", "The running server's version.");
        let _ = writeln!(o, "fieldbook_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));

        head(&mut o, "fieldbook_sync_pushes_total", "counter", "Push requests from enrolled laptops (their token accepted), by result (refused: the laptop's fault, 4xx; error: the server's, 5xx).");
        self.pushes.render(&mut o, "fieldbook_sync_pushes_total");
        head(&mut o, "fieldbook_sync_pulls_total", "counter", "Pull pages asked for by enrolled laptops, by result.");
        self.pulls.render(&mut o, "fieldbook_sync_pulls_total");
        head(&mut o, "fieldbook_sync_changes_total", "counter", "Pushed changes, by outcome: applied, duplicate (already applied) or refused (kept in rejected_changes).");
        for (label, v) in [("applied", &self.changes_applied), ("duplicate", &self.changes_duplicate), ("refused", &self.changes_refused)] {
            let _ = writeln!(o, "fieldbook_sync_changes_total{{outcome=\"{label}\"}} {}", v.load(Relaxed));
        }
        head(&mut o, "fieldbook_sync_conflicts_total", "counter", "Conflicts recorded while applying pushed changes (a concurrent write to the same field).");
        let _ = writeln!(o, "fieldbook_sync_conflicts_total {}", self.conflicts.load(Relaxed));
        head(&mut o, "fieldbook_sync_refused_changes_total", "counter", "Pushed changes refused for good, by entity.");
        for (entity, n) in self.refused_by_entity.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(o, "fieldbook_sync_refused_changes_total{{entity=\"{entity}\"}} {n}");
        }
        head(&mut o, "fieldbook_push_queue_depth", "gauge", "Push requests waiting for the push writer (group commit).");
        let _ = writeln!(o, "fieldbook_push_queue_depth {}", self.queue_depth.load(Relaxed).max(0));
        head(&mut o, "fieldbook_push_commit_seconds", "histogram", "Time to apply and commit one group of pushes.");
        self.commit.render(&mut o, "fieldbook_push_commit_seconds", "");
        head(&mut o, "fieldbook_attachment_bytes_total", "counter", "Attachment bytes: received in upload chunks, and stored (uploads completed and verified).");
        let _ = writeln!(o, "fieldbook_attachment_bytes_total{{kind=\"received\"}} {}", self.bytes_received.load(Relaxed));
        let _ = writeln!(o, "fieldbook_attachment_bytes_total{{kind=\"stored\"}} {}", self.bytes_stored.load(Relaxed));
        head(&mut o, "fieldbook_devices", "gauge", "Enrolled laptops not revoked, by their last contact with the server.");
        for (label, n) in devices.labelled() {
            let _ = writeln!(o, "fieldbook_devices{{last_contact=\"{label}\"}} {n}");
        }
        head(&mut o, "fieldbook_console_request_seconds", "histogram", "Office console API requests, by route template and method.");
        let console: Vec<_> = self.console.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|(k, h)| (k.clone(), h.clone())).collect();
        for ((route, method), h) in console {
            h.render(&mut o, "fieldbook_console_request_seconds", &format!("route=\"{}\",method=\"{}\"", escape(&route), escape(&method)));
        }
        o
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Laptops (not revoked) by how long ago they last reached the server.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DevicesByContact {
    pub hour: i64,
    pub day: i64,
    pub week: i64,
    pub older: i64,
    pub never: i64,
}

impl DevicesByContact {
    fn labelled(&self) -> [(&'static str, i64); 5] {
        [("lt_1h", self.hour), ("lt_1d", self.day), ("lt_7d", self.week), ("older", self.older), ("never", self.never)]
    }

    /// One aggregate over `devices` (stored times are RFC 3339 UTC text, so they compare as text).
    pub fn count(tx: &mut dyn crate::db::Tx, now: chrono::DateTime<chrono::Utc>) -> Result<DevicesByContact> {
        let ago = |d: chrono::Duration| crate::store_ts(now - d);
        let (h, d, w) = (ago(chrono::Duration::hours(1)), ago(chrono::Duration::days(1)), ago(chrono::Duration::days(7)));
        let row = tx.query_one(
            "SELECT COUNT(*),
                    COALESCE(SUM(CASE WHEN last_seen_at >= $1 THEN 1 ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN last_seen_at >= $2 THEN 1 ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN last_seen_at >= $3 THEN 1 ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN last_seen_at IS NULL THEN 1 ELSE 0 END), 0)
             FROM devices WHERE revoked_at IS NULL",
            params![h.as_str(), d.as_str(), w.as_str()],
        )?;
        let (all, hour, day, week, never) = (row.int(0)?, row.int(1)?, row.int(2)?, row.int(3)?, row.int(4)?);
        Ok(DevicesByContact { hour, day: day - hour, week: week - day, older: all - never - week, never })
    }
}

/// Who may read `/metrics`: with a token configured, whoever presents it (`Authorization:
/// Bearer …`); without, only this machine — a request through a proxy (it carries `Forwarded`
/// or `X-Forwarded-For`) is not this machine even when the proxy is.
#[derive(Clone, Default)]
pub struct Access {
    token_sha256: Option<[u8; 32]>,
}

impl Access {
    pub fn new(token: Option<&str>) -> Result<Access> {
        match token {
            None => Ok(Access::default()),
            Some(t) if t.trim().len() < 16 => Err(Error::Invalid(
                "the metrics token must be at least 16 characters (e.g. the output of `openssl rand -hex 16`); set metrics-token in the configuration".into(),
            )),
            Some(t) => Ok(Access { token_sha256: Some(Sha256::digest(t.trim().as_bytes()).into()) }),
        }
    }

    /// `None` when the request may read `/metrics`, else the refusal to answer with.
    fn refusal(&self, req: &Request) -> Option<Response> {
        let denied = |status: StatusCode, message: &str| {
            let mut r = crate::error::error_response(status, if status == StatusCode::UNAUTHORIZED { "unauthorized" } else { "forbidden" }, message.to_owned(), false);
            if status == StatusCode::UNAUTHORIZED {
                r.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"fieldbook-metrics\""));
            }
            r
        };
        match &self.token_sha256 {
            Some(want) => {
                let presented = req.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
                // Digests compared, so the comparison's time says nothing about the token.
                match presented {
                    Some(p) if <[u8; 32]>::from(Sha256::digest(p.as_bytes())) == *want => None,
                    _ => Some(denied(StatusCode::UNAUTHORIZED, "/metrics needs the metrics token: Authorization: Bearer <metrics-token>")),
                }
            }
            None => {
                let local = req.extensions().get::<ConnectInfo<crate::conn::Peer>>().is_some_and(|c| c.0 .0.ip().is_loopback());
                let proxied = ["forwarded", "x-forwarded-for", "x-real-ip"].iter().any(|h| req.headers().contains_key(*h));
                if local && !proxied {
                    None
                } else {
                    Some(denied(
                        StatusCode::FORBIDDEN,
                        "/metrics is readable from this machine only; to scrape it from elsewhere set metrics-token in the server's configuration (docs/server-config.md)",
                    ))
                }
            }
        }
    }
}

/// `/metrics`, `/healthz`, `/readyz`.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics)).route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

async fn metrics(State(s): State<AppState>, req: Request) -> Response {
    if let Some(denied) = s.metrics_access.refusal(&req) {
        return denied;
    }
    let now = chrono::Utc::now();
    let devices = match s.db.run(Mode::Read, move |tx| DevicesByContact::count(tx, now)).await {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let mut r = s.metrics.render(&devices).into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    r
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// 200 when a read transaction answers within [`READY_TIMEOUT`] and the schema is this build's;
/// 503 with `{status, reason, message}` otherwise. The database's own error is logged, not sent.
async fn readyz(State(s): State<AppState>) -> Response {
    let want = crate::db::latest_version();
    let asked = tokio::time::timeout(READY_TIMEOUT, s.db.run(Mode::Read, crate::db::schema_version)).await;
    let unready = |reason: &str, message: String| (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unready", "reason": reason, "message": message }))).into_response();
    match asked {
        Err(_) => unready("database_timeout", format!("the database did not answer within {} s", READY_TIMEOUT.as_secs())),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check: the database answered with an error");
            unready("database_error", "the database answered with an error (see the server's log)".into())
        }
        Ok(Ok(found)) if found != want => unready(
            "schema_mismatch",
            format!("the database's schema is version {found}, this server's is {want}: run the server of the matching version, or restart this one to migrate"),
        ),
        Ok(Ok(found)) => Json(json!({ "status": "ready", "schema_version": found })).into_response(),
    }
}

/// Times a console request under its route template (a `route_layer`, where it is known).
pub async fn time_console(State(m): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let resp = next.run(req).await;
    m.console_took(&method, &route, started.elapsed());
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_sum_in_seconds() {
        let h = Histogram::new(&[0.01, 0.1]);
        h.observe(Duration::from_millis(5));
        h.observe(Duration::from_millis(50));
        h.observe(Duration::from_secs(2));
        let mut o = String::new();
        h.render(&mut o, "x", "a=\"b\"");
        assert_eq!(
            o,
            "x_bucket{a=\"b\",le=\"0.01\"} 1\nx_bucket{a=\"b\",le=\"0.1\"} 2\nx_bucket{a=\"b\",le=\"+Inf\"} 3\nx_sum{a=\"b\"} 2.055\nx_count{a=\"b\"} 3\n"
        );
    }

    #[test]
    fn a_short_metrics_token_is_refused() {
        assert!(Access::new(Some("short")).is_err());
        assert!(Access::new(Some("0123456789abcdef")).is_ok());
    }
}
