//! The transport: one `reqwest` client with the protocol's timeouts and headers, gzip bodies both
//! ways, and the mapping of HTTP outcomes to [`SyncError`]. Knows the wire, not the store.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use fieldbook_core::sync::protocol::{ErrorBody, PROTOCOL_HEADER, PROTOCOL_VERSION};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Result, SyncError};

/// The tus-style header carrying an attachment upload's position.
pub const UPLOAD_OFFSET: &str = "Upload-Offset";
/// The attachment's whole size, sent with every chunk so the server knows when it is complete.
pub const UPLOAD_LENGTH: &str = "Upload-Length";

/// The largest answer body accepted as it crosses the wire (compressed or not). A full pull
/// page (`MAX_PULL_PAGE`, 5,000 changes) of ordinary records is a few MB gzipped; attachments
/// are only uploaded, never downloaded, so their answers are empty. An answer is refused as soon
/// as it passes this, while it arrives, not after it has all been read.
pub const MAX_RESPONSE_BYTES: u64 = 128 * 1024 * 1024;
/// The largest answer body accepted once decompressed: 5,000 changes of 50 KiB each on average
/// (a work order is about 1 KiB; a signature with its snapshot and strokes some tens of KiB).
/// Enforced while decompressing, so a small "gzip bomb" cannot inflate past it.
pub const MAX_DECOMPRESSED_BYTES: u64 = 256 * 1024 * 1024;

// The limits leave room for the largest pull page: 50 KiB per change on average (a work order
// is about 1 KiB), and an uncompressed answer may still be half the decompressed limit.
const _: () = assert!(MAX_DECOMPRESSED_BYTES >= fieldbook_core::sync::protocol::MAX_PULL_PAGE as u64 * 50 * 1024);
const _: () = assert!(MAX_RESPONSE_BYTES * 2 >= MAX_DECOMPRESSED_BYTES);

/// What the transport accepts; from [`crate::ClientOptions`].
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub max_response_bytes: u64,
    pub max_decompressed_bytes: u64,
}

/// Where requests go and how they authenticate.
#[derive(Clone)]
pub(crate) struct Endpoint {
    /// Without a trailing slash. Checked by [`check_transport`] before any request is sent.
    pub base: String,
    pub token: Option<String>,
}

/// Bytes that crossed the wire for one request (bodies only; headers are not counted).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Transfer {
    pub up: u64,
    pub down: u64,
}

/// What a request is for; it changes what a refusal means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Purpose {
    Enroll,
    Sync,
}

pub(crate) struct Http {
    client: reqwest::Client,
    request_timeout: Duration,
    limits: Limits,
}

/// A decoded answer.
pub(crate) struct Answer {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub transfer: Transfer,
}

impl Http {
    /// `resolve`: host names answered without DNS (tests reach a local server under a
    /// non-loopback name this way).
    pub fn new(connect_timeout: Duration, request_timeout: Duration, limits: Limits, resolve: &[(String, SocketAddr)]) -> Result<Http> {
        let mut headers = HeaderMap::new();
        headers.insert(PROTOCOL_HEADER, HeaderValue::from(PROTOCOL_VERSION));
        // Compressed answers are decoded in `send`, so that `Transfer::down` is the wire size.
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let mut builder = reqwest::Client::builder();
        for (host, addr) in resolve {
            builder = builder.resolve(host, *addr);
        }
        let client = builder
            // The protocol never redirects; following one could take a request (and the answer
            // trusted as the server's, a revocation included) to an address never checked.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .timeout(request_timeout)
            .default_headers(headers)
            .user_agent(concat!("fieldbook/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Unreachable { url: "(any server)".into(), detail: format!("this laptop's network/TLS setup failed: {}", root_cause(&e)), enrolling: false })?;
        Ok(Http { client, request_timeout, limits })
    }

    fn request(&self, method: Method, ep: &Endpoint, path: &str) -> RequestBuilder {
        let req = self.client.request(method, format!("{}{}", ep.base, path));
        match &ep.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// POSTs `body` as gzip-compressed JSON and parses a JSON answer.
    pub async fn post_json<B: Serialize, T: DeserializeOwned>(&self, ep: &Endpoint, path: &str, body: &B, what: &'static str, purpose: Purpose) -> Result<(T, Transfer)> {
        let json = serde_json::to_vec(body).map_err(|e| SyncError::Protocol { url: ep.base.clone(), what, detail: format!("cannot encode the request: {e}") })?;
        let gz = gzip(&json);
        let up = gz.len() as u64;
        let req = self
            .request(Method::POST, ep, path)
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_ENCODING, "gzip")
            .body(gz);
        let mut answer = self.send(req, ep, purpose, what).await?;
        answer.transfer.up = up;
        Ok((parse_json(&answer.body, ep, what)?, answer.transfer))
    }

    pub async fn get_json<T: DeserializeOwned>(&self, ep: &Endpoint, path: &str, what: &'static str) -> Result<(T, Transfer)> {
        let answer = self.send(self.request(Method::GET, ep, path), ep, Purpose::Sync, what).await?;
        Ok((parse_json(&answer.body, ep, what)?, answer.transfer))
    }

    /// Any HTTP answer at all means the server is reachable; what it says is for the next sync.
    pub async fn probe(&self, ep: &Endpoint) -> Result<()> {
        self.request(Method::GET, ep, "/api/status").send().await.map_err(|e| self.unreachable(&ep.base, &e, Purpose::Sync))?;
        Ok(())
    }

    /// `HEAD /api/attachments/{id}`: how many bytes of it the server holds (0 when unknown to it).
    pub async fn upload_offset(&self, ep: &Endpoint, id: &str) -> Result<u64> {
        let path = format!("/api/attachments/{id}");
        let req = self.request(Method::HEAD, ep, &path);
        match self.send(req, ep, Purpose::Sync, "an attachment query").await {
            Ok(a) => offset_header(&a.headers).ok_or_else(|| SyncError::Protocol { url: ep.base.clone(), what: "an attachment query", detail: format!("no {UPLOAD_OFFSET} header") }),
            Err(SyncError::Refused { status: 404, .. }) => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// `PATCH /api/attachments/{id}` with the bytes from `offset` of a `total`-byte attachment;
    /// returns the server's new offset.
    pub async fn upload_chunk(&self, ep: &Endpoint, id: &str, offset: u64, total: u64, chunk: Vec<u8>) -> Result<(u64, Transfer)> {
        let len = chunk.len() as u64;
        let req = self
            .request(Method::PATCH, ep, &format!("/api/attachments/{id}"))
            .header(UPLOAD_OFFSET, offset)
            .header(UPLOAD_LENGTH, total)
            .header(CONTENT_TYPE, "application/offset+octet-stream")
            .body(chunk);
        let mut a = self.send(req, ep, Purpose::Sync, "an attachment upload").await?;
        a.transfer.up = len;
        Ok((offset_header(&a.headers).unwrap_or(offset + len), a.transfer))
    }

    /// Sends a request and reads the whole answer, mapping every failure to a [`SyncError`].
    /// The body is read chunk by chunk and decompressed as it arrives, and refused as soon as it
    /// passes [`Limits`]: memory stays bounded whatever the other end sends.
    pub async fn send(&self, req: RequestBuilder, ep: &Endpoint, purpose: Purpose, what: &'static str) -> Result<Answer> {
        let req = req.build().map_err(|e| SyncError::InvalidUrl { url: ep.base.clone(), reason: root_cause(&e) })?;
        let mut resp = self.client.execute(req).await.map_err(|e| self.unreachable(&ep.base, &e, purpose))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let too_large = |decompressed: bool| SyncError::TooLarge {
            url: ep.base.clone(),
            what,
            limit: if decompressed { self.limits.max_decompressed_bytes } else { self.limits.max_response_bytes },
            decompressed,
        };
        if resp.content_length().is_some_and(|n| n > self.limits.max_response_bytes) {
            return Err(too_large(false));
        }
        let gzipped = headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok()).is_some_and(|enc| enc.eq_ignore_ascii_case("gzip"));
        let corrupt = |e: std::io::Error| SyncError::Protocol { url: ep.base.clone(), what, detail: format!("a compressed answer does not decompress: {e}") };
        let mut body = Body::new(gzipped, self.limits.max_decompressed_bytes);
        let mut down = 0u64;
        // A cut while the body arrives is the same as no answer: the request may or may not have
        // been applied, and the protocol makes resending it harmless.
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.unreachable(&ep.base, &e, purpose))? {
            down += chunk.len() as u64;
            if down > self.limits.max_response_bytes {
                return Err(too_large(false));
            }
            body.write(&chunk).map_err(|e| if body.over_limit() { too_large(true) } else { corrupt(e) })?;
        }
        let body = body.finish().map_err(|e| if e.kind() == std::io::ErrorKind::FileTooLarge { too_large(true) } else { corrupt(e) })?;
        if !status.is_success() {
            return Err(error_from_status(status, &body, &ep.base, purpose));
        }
        Ok(Answer { headers, body, transfer: Transfer { up: 0, down } })
    }

    fn unreachable(&self, base: &str, e: &reqwest::Error, purpose: Purpose) -> SyncError {
        let detail = if e.is_timeout() {
            format!("no answer within {} s", self.request_timeout.as_secs_f32())
        } else if e.is_connect() {
            format!("cannot connect ({})", root_cause(e))
        } else {
            format!("the connection was cut ({})", root_cause(e))
        };
        SyncError::Unreachable { url: base.to_owned(), detail, enrolling: purpose == Purpose::Enroll }
    }
}

/// Maps a non-success answer to the error a technician can act on. Pure, so it is unit-tested.
pub(crate) fn error_from_status(status: StatusCode, body: &[u8], base: &str, purpose: Purpose) -> SyncError {
    let detail = serde_json::from_slice::<ErrorBody>(body).ok().map(|b| b.error);
    let kind = detail.as_ref().map(|d| d.kind.clone()).unwrap_or_default();
    let message = detail.as_ref().map(|d| d.message.clone()).unwrap_or_else(|| {
        // Not our JSON (a proxy's page): keep a short, printable excerpt.
        let text = String::from_utf8_lossy(body);
        let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        text.chars().take(200).collect()
    });
    if status == StatusCode::UPGRADE_REQUIRED || kind == "protocol_unsupported" {
        return SyncError::UpgradeRequired { message };
    }
    if kind == "device_revoked" {
        return SyncError::Revoked { reason: if message.is_empty() { "no reason given".into() } else { message }, wipe: detail.map(|d| d.wipe).unwrap_or(false) };
    }
    if kind == "sequence_reset" {
        if let Some(acked_seq) = detail.as_ref().and_then(|d| d.acked_seq) {
            return SyncError::SequenceReset { acked_seq };
        }
    }
    if purpose == Purpose::Enroll && matches!(status.as_u16(), 400 | 401 | 403 | 409 | 410) {
        return SyncError::EnrollmentRefused { message: if message.is_empty() { status.to_string() } else { message } };
    }
    if kind == "token_expired" {
        return SyncError::TokenExpired { message };
    }
    if status == StatusCode::UNAUTHORIZED {
        return SyncError::Unauthorized;
    }
    if status.is_server_error() {
        return SyncError::ServerFailed { url: base.to_owned(), status: status.as_u16(), message };
    }
    SyncError::Refused { status: status.as_u16(), kind: if kind.is_empty() { status.canonical_reason().unwrap_or("error").to_lowercase() } else { kind }, message }
}

fn parse_json<T: DeserializeOwned>(body: &[u8], ep: &Endpoint, what: &'static str) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| SyncError::Protocol { url: ep.base.clone(), what, detail: format!("unexpected body: {e}") })
}

fn offset_header(headers: &HeaderMap) -> Option<u64> {
    headers.get(UPLOAD_OFFSET)?.to_str().ok()?.trim().parse().ok()
}

/// The innermost cause: "Connection refused (os error 111)" rather than "error sending request".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 4 + 64), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    enc.write_all(bytes).expect("in-memory gzip");
    enc.finish().expect("in-memory gzip")
}

#[cfg(test)]
pub(crate) fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::with_capacity(bytes.len() * 4);
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

/// A `Vec` that refuses to grow past `limit` (the write fails instead).
struct Capped {
    buf: Vec<u8>,
    limit: u64,
    over: bool,
}

impl Write for Capped {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() as u64 + bytes.len() as u64 > self.limit {
            self.over = true;
            return Err(std::io::Error::new(std::io::ErrorKind::FileTooLarge, "the decompressed answer is too large"));
        }
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An answer's body as it arrives: gunzipped on the way in when it is compressed, at most
/// `limit` bytes once decoded.
enum Body {
    Plain(Capped),
    Gzip(Box<flate2::write::GzDecoder<Capped>>),
}

impl Body {
    fn new(gzipped: bool, limit: u64) -> Body {
        let capped = Capped { buf: Vec::new(), limit, over: false };
        if gzipped {
            Body::Gzip(Box::new(flate2::write::GzDecoder::new(capped)))
        } else {
            Body::Plain(capped)
        }
    }

    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match self {
            Body::Plain(c) => c.write_all(chunk),
            Body::Gzip(d) => d.write_all(chunk),
        }
    }

    /// The decoded body passed its limit.
    fn over_limit(&self) -> bool {
        match self {
            Body::Plain(c) => c.over,
            Body::Gzip(d) => d.get_ref().over,
        }
    }

    /// The whole decoded body; fails when the compressed stream is cut short or corrupt, or
    /// (`ErrorKind::FileTooLarge`) when its end passes the limit.
    fn finish(self) -> std::io::Result<Vec<u8>> {
        match self {
            Body::Plain(c) => Ok(c.buf),
            Body::Gzip(d) => d.finish().map(|c| c.buf),
        }
    }
}

/// Whether `base` may be used, and whether it is plain HTTP to another computer (to warn about).
/// Plain `http://` is accepted to this computer (loopback: 127.0.0.0/8, ::1, `localhost`) or
/// when the user allowed it explicitly; anything else is refused before a byte is sent, since on
/// an open network anyone could read the data and answer in the server's name — a revocation
/// with a wipe order included.
pub fn check_transport(base: &str, allow_insecure_http: bool) -> Result<bool> {
    let url = reqwest::Url::parse(base).map_err(|e| SyncError::InvalidUrl { url: base.to_owned(), reason: e.to_string() })?;
    if url.scheme() != "http" || is_loopback(&url) {
        return Ok(false);
    }
    if allow_insecure_http {
        Ok(true)
    } else {
        Err(SyncError::InsecureHttp { url: base.to_owned() })
    }
}

/// The warning shown with every sync (and in `fieldbook status`) while plain HTTP to another
/// computer is allowed.
pub fn insecure_warning(base: &str) -> String {
    format!("syncing with {base} over unencrypted http:// (allowed on this laptop): anyone on that network can read what is synced and answer in the server's name; ask the office for the server's https:// address and enrol with it")
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    // IPv6 addresses come bracketed.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// Checks and normalises a server address typed by a person.
pub(crate) fn normalize_base_url(input: &str) -> Result<String> {
    let trimmed = input.trim().trim_end_matches('/');
    let invalid = |reason: &str| SyncError::InvalidUrl { url: input.trim().to_owned(), reason: reason.to_owned() };
    let url = reqwest::Url::parse(trimmed).map_err(|e| invalid(&e.to_string()));
    if !trimmed.contains("://") || url.as_ref().is_ok_and(|u| !matches!(u.scheme(), "http" | "https")) {
        return Err(invalid("it must start with https:// (or http:// on the office network)"));
    }
    let url = url?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host name"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not contain ? or #"));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(kind: &str, message: &str, wipe: bool) -> Vec<u8> {
        serde_json::to_vec(&json!({"error": {"kind": kind, "message": message, "wipe": wipe}})).unwrap()
    }

    #[test]
    fn upgrade_required_says_to_update() {
        let e = error_from_status(StatusCode::UPGRADE_REQUIRED, &body("protocol_unsupported", "this server speaks protocol 3 only", false), "https://s", Purpose::Sync);
        assert!(matches!(e, SyncError::UpgradeRequired { .. }));
        let m = e.to_string();
        assert!(m.starts_with("please update Fieldbook: "), "{m}");
        assert!(m.contains("protocol 3 only"), "{m}");
        assert!(!e.is_transient());
        // Without a JSON body the message still makes sense.
        let m = error_from_status(StatusCode::UPGRADE_REQUIRED, b"", "https://s", Purpose::Sync).to_string();
        assert_eq!(m, format!("please update Fieldbook: the server no longer accepts this version (sync protocol {PROTOCOL_VERSION})"));
    }

    #[test]
    fn unauthorized_says_to_enrol_again() {
        let e = error_from_status(StatusCode::UNAUTHORIZED, &body("unauthorized", "unknown token", false), "https://s", Purpose::Sync);
        assert!(matches!(e, SyncError::Unauthorized));
        assert!(e.to_string().starts_with("this laptop is not enrolled with the server (or its token was replaced"), "{e}");
        assert_eq!(e.kind(), "unauthorized");
    }

    #[test]
    fn an_expired_token_is_told_apart_from_an_unknown_one() {
        let e = error_from_status(StatusCode::UNAUTHORIZED, &body("token_expired", "expired at 2026-01-01T00:00:00.000Z", false), "https://s", Purpose::Sync);
        assert!(matches!(e, SyncError::TokenExpired { .. }), "{e:?}");
        assert_eq!(e.kind(), "token_expired");
        assert!(e.is_transient(), "the next run renews it");
    }

    #[test]
    fn a_refused_enrolment_code_is_not_called_a_missing_enrolment() {
        let e = error_from_status(StatusCode::UNAUTHORIZED, &body("unauthorized", "the code was already used; ask the office for a new one", false), "https://s", Purpose::Enroll);
        assert_eq!(e.to_string(), "the server did not accept the enrolment: the code was already used; ask the office for a new one");
    }

    #[test]
    fn revocation_carries_the_reason_and_the_wipe_order() {
        let e = error_from_status(StatusCode::FORBIDDEN, &body("device_revoked", "laptop reported stolen", true), "https://s", Purpose::Sync);
        match &e {
            SyncError::Revoked { reason, wipe } => {
                assert_eq!(reason, "laptop reported stolen");
                assert!(*wipe);
            }
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("wiped"), "{e}");
        // A plain 403 (e.g. someone else's order) is a refusal, not a revocation.
        let e = error_from_status(StatusCode::FORBIDDEN, &body("forbidden", "not your work order", false), "https://s", Purpose::Sync);
        assert_eq!(e.to_string(), "the server refused the request (403 forbidden): not your work order");
        assert!(!e.is_transient());
    }

    #[test]
    fn server_failures_and_proxy_pages_are_transient() {
        let e = error_from_status(StatusCode::BAD_GATEWAY, b"<html><body>\n<h1>502 Bad Gateway</h1>\n</body></html>", "https://s", Purpose::Sync);
        assert!(e.is_transient() && !e.is_offline());
        assert_eq!(e.to_string(), "the server at https://s failed (502): <html><body> <h1>502 Bad Gateway</h1> </body></html> — your changes are kept and sync will try again");
        let e = error_from_status(StatusCode::INTERNAL_SERVER_ERROR, &body("internal", "database is locked", false), "https://s", Purpose::Sync);
        assert_eq!(e.kind(), "server_failed");
        assert!(e.to_string().contains("database is locked"));
    }

    #[test]
    fn gzip_round_trips_and_shrinks_json() {
        let json = serde_json::to_vec(&json!({"entries": vec![json!({"entity": "work_orders", "fields": {"status": "on_site"}}); 200]})).unwrap();
        let gz = gzip(&json);
        assert_eq!(&gz[..2], &[0x1f, 0x8b], "gzip magic");
        assert!(gz.len() * 10 < json.len(), "{} -> {}", json.len(), gz.len());
        assert_eq!(gunzip(&gz).unwrap(), json);
        assert!(gunzip(b"not gzip").is_err());
    }

    #[test]
    fn plain_http_is_for_this_computer_only_unless_allowed() {
        for local in ["http://127.0.0.1:8080", "http://127.8.9.10", "http://[::1]:3000", "http://localhost:8080/fb", "http://LOCALHOST", "http://[::ffff:127.0.0.1]"] {
            assert!(!check_transport(local, false).unwrap(), "{local}");
        }
        for https in ["https://fb.example.com", "https://10.0.0.5:8443"] {
            assert!(!check_transport(https, false).unwrap(), "{https}");
        }
        for remote in ["http://10.0.0.5:8080", "http://192.168.1.2", "http://fb.example.com", "http://localhost.example.com", "http://[fe80::1]", "http://0.0.0.0"] {
            let e = check_transport(remote, false).unwrap_err();
            assert!(matches!(e, SyncError::InsecureHttp { .. }) && !e.is_transient(), "{remote}: {e:?}");
            assert!(check_transport(remote, true).unwrap(), "allowed, and to be warned about: {remote}");
        }
    }

    #[test]
    fn a_body_is_capped_while_it_is_decoded() {
        let json = vec![b' '; 3000];
        let mut plain = Body::new(false, 2048);
        plain.write(&json[..2000]).unwrap();
        assert!(plain.write(&json[2000..]).is_err() && plain.over_limit());
        let gz = gzip(&json);
        let mut body = Body::new(true, 2048);
        let refused = body.write(&gz).is_err() || body.finish().is_err();
        assert!(refused, "3000 bytes once decoded is over 2048");
        let mut body = Body::new(true, 4096);
        body.write(&gz).unwrap();
        assert_eq!(body.finish().unwrap(), json);
    }

    #[test]
    fn server_addresses_are_checked_and_normalised() {
        assert_eq!(normalize_base_url(" https://fb.example.com/ ").unwrap(), "https://fb.example.com");
        assert_eq!(normalize_base_url("http://10.0.0.5:8080/fieldbook/").unwrap(), "http://10.0.0.5:8080/fieldbook");
        for bad in ["fb.example.com", "ftp://fb.example.com", "https://", "https://fb.example.com/?x=1"] {
            let e = normalize_base_url(bad).unwrap_err();
            assert!(matches!(e, SyncError::InvalidUrl { .. }), "{bad}: {e:?}");
        }
    }
}
