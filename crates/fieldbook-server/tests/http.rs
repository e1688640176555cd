//! The HTTP surface on both backends: resumable attachment uploads, gzip both ways, body
//! limits, TLS, and the OpenAPI document matching the routes.

mod common;
use common::both;

use std::io::{Read, Write};

use common::{error_of, Backend, Laptop, TestServer};
use fieldbook_core::signature::sha256_hex;
use fieldbook_core::sync::protocol::{PullResponse, PushRequest, PushResponse, PROTOCOL_HEADER, PROTOCOL_VERSION};
use fieldbook_server::db::{Db, Mode};
use reqwest::Method;
use serde_json::{json, Value};

both!(attachments_upload_resumably_and_are_checked, bodies_are_gzip_both_ways_and_limited, https_with_a_self_signed_certificate, openapi_describes_every_route);

fn photo(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

async fn head(s: &TestServer, laptop: &Laptop, sha: &str) -> (i64, bool) {
    let r = laptop.auth(s.req(Method::HEAD, &format!("/api/attachments/{sha}"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let offset = r.headers()["upload-offset"].to_str().unwrap().parse().unwrap();
    let complete = r.headers()["fieldbook-upload-complete"] == "true";
    (offset, complete)
}

async fn patch(s: &TestServer, laptop: &Laptop, sha: &str, offset: usize, bytes: &[u8], length: Option<usize>) -> reqwest::Response {
    let mut rb = laptop
        .auth(s.req(Method::PATCH, &format!("/api/attachments/{sha}")))
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes.to_vec());
    if let Some(n) = length {
        rb = rb.header("Upload-Length", n.to_string());
    }
    rb.send().await.unwrap()
}

async fn attachments_upload_resumably_and_are_checked(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let (office, password) = s.office_user().await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let bytes = photo(300_000);
    let sha = sha256_hex(&bytes);
    // The laptop syncs the record naming the photo before the bytes.
    let rec = li.entry("attachments", &sha, json!({"media_type": "image/jpeg", "byte_size": bytes.len(), "original_name": "pump.jpg", "added_at": "2026-03-02T08:00:00.000Z", "deleted": false}));
    assert_eq!(li.push(&s, &[rec]).await.applied, 1);
    let missing = |s: &TestServer| {
        s.req(Method::GET, "/api/attachments/missing").basic_auth(office.clone(), Some(password.clone())).send()
    };
    let list: Vec<Value> = missing(&s).await.unwrap().json().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0]["sha256"].as_str(), list[0]["technician"].as_str()), (Some(sha.as_str()), Some("li.wei")));
    // Technicians are not office users.
    let wrong = s.req(Method::GET, "/api/attachments/missing").basic_auth("office", Some("nope")).send().await.unwrap();
    assert_eq!(error_of(wrong, 401).await.kind, "unauthorized");

    assert_eq!(head(&s, &li, &sha).await, (0, false));
    let half = bytes.len() / 2;
    let r = patch(&s, &li, &sha, 0, &bytes[..half], None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(head(&s, &li, &sha).await, (half as i64, false), "the connection dropped here; HEAD says where to resume");
    // A chunk at the wrong offset is refused with the right one.
    let r = patch(&s, &li, &sha, 10, &bytes[10..20], None).await;
    assert_eq!(r.headers()["upload-offset"], half.to_string().as_str());
    assert_eq!(error_of(r, 409).await.kind, "conflict");
    let r = patch(&s, &li, &sha, half, &bytes[half..], None).await;
    assert_eq!(r.status(), 200);
    let st: Value = r.json().await.unwrap();
    assert_eq!((st["complete"].as_bool(), st["offset"].as_i64()), (Some(true), Some(bytes.len() as i64)));
    assert_eq!(head(&s, &li, &sha).await, (bytes.len() as i64, true));
    // Never uploaded twice: a PATCH on complete content is a no-op.
    let r = patch(&s, &li, &sha, 0, &bytes[..10], None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(s.count("SELECT count(*) FROM attachment_chunks").await, 2);
    // Download by the laptop and by the office.
    let got = li.auth(s.req(Method::GET, &format!("/api/attachments/{sha}"))).send().await.unwrap();
    assert_eq!(got.headers()["content-type"], "image/jpeg");
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
    let got = s.req(Method::GET, &format!("/api/attachments/{sha}")).basic_auth(&office, Some(&password)).send().await.unwrap();
    assert_eq!(sha256_hex(&got.bytes().await.unwrap()), sha);
    let list: Vec<Value> = missing(&s).await.unwrap().json().await.unwrap();
    assert!(list.is_empty(), "{list:?}");

    // Bytes that do not hash to the name are discarded once the declared length is reached.
    let other = photo(1000);
    let claimed = sha256_hex(b"something else entirely");
    let r = patch(&s, &li, &claimed, 0, &other[..600], Some(other.len())).await;
    assert_eq!(r.status(), 200);
    let r = patch(&s, &li, &claimed, 600, &other[600..], Some(other.len())).await;
    let e = error_of(r, 400).await;
    assert!(e.message.contains("do not hash to"), "{}", e.message);
    assert_eq!(head(&s, &li, &claimed).await, (0, false));
    let r = li.auth(s.req(Method::GET, &format!("/api/attachments/{claimed}"))).send().await.unwrap();
    assert_eq!(error_of(r, 404).await.kind, "not_found");
    // Names are checked; chunks have a size limit.
    assert_eq!(error_of(patch(&s, &li, "not-a-hash", 0, b"x", None).await, 400).await.kind, "invalid");
    let big = vec![0u8; fieldbook_server::attachments::MAX_CHUNK_BYTES + 1];
    assert_eq!(error_of(patch(&s, &li, &sha256_hex(&big), 0, &big, None).await, 413).await.kind, "too_large");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

async fn bodies_are_gzip_both_ways_and_limited(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let entry = li.entry("time_entries", "te-gz", json!({"technician": "li.wei", "work_date": "2026-03-02", "category": "D", "minutes": 30, "note": "工具检查", "deleted": false}));
    let body = serde_json::to_vec(&PushRequest { entries: vec![entry] }).unwrap();
    // A client that handles compression itself, to see the bytes on the wire.
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let resp = raw
        .post(format!("{}/api/sync/push", s.url))
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .bearer_auth(&li.token)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .header("Accept-Encoding", "gzip")
        .body(gzip(&body))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&resp.bytes().await.unwrap()[..]).read_to_string(&mut text).unwrap();
    let pushed: PushResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(pushed.applied, 1);
    let resp = raw.get(format!("{}/api/sync/pull", s.url)).header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string()).bearer_auth(&li.token).header("Accept-Encoding", "gzip").send().await.unwrap();
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&resp.bytes().await.unwrap()[..]).read_to_string(&mut text).unwrap();
    let page: PullResponse = serde_json::from_str(&text).unwrap();
    assert!(page.changes.iter().any(|c| c.record_id == "te-gz"));
    // A body over the limit after decompression is refused with the protocol's error, as is
    // garbage instead of gzip.
    let huge = gzip(&vec![b' '; fieldbook_server::api::MAX_JSON_BODY + 1]);
    let resp = raw.post(format!("{}/api/sync/push", s.url)).header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string()).bearer_auth(&li.token)
        .header("Content-Type", "application/json").header("Content-Encoding", "gzip").body(huge).send().await.unwrap();
    assert_eq!(error_of(resp, 413).await.kind, "too_large");
    let resp = raw.post(format!("{}/api/sync/push", s.url)).header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string()).bearer_auth(&li.token)
        .header("Content-Type", "application/json").header("Content-Encoding", "gzip").body("not gzip").send().await.unwrap();
    assert_eq!(error_of(resp, 400).await.kind, "invalid");
}

async fn https_with_a_self_signed_certificate(b: Backend) {
    let test_db = common::fresh_db(b);
    let url = test_db.url.clone();
    let db = common::blocking(move || Db::open(&url)).await.unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = fieldbook_server::tls::TlsFiles { cert: dir.path().join("cert.pem"), key: dir.path().join("key.pem") };
    std::fs::write(&files.cert, cert.cert.pem()).unwrap();
    std::fs::write(&files.key, cert.key_pair.serialize_pem()).unwrap();
    let running = fieldbook_server::server::start(db, "127.0.0.1:0".parse().unwrap(), Some(&files)).await.unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", running.addr)
        .https_only(true)
        .build()
        .unwrap();
    let resp = client.get(format!("{}/api/status", running.url())).header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["name"], "fieldbook-server");
    // Over HTTPS the console's session cookie is Secure (never sent back over plain HTTP).
    let db = Db::open(&test_db.url).unwrap();
    common::blocking(move || {
        let hash = fieldbook_server::users::hash_password("desk-pass-1").unwrap();
        db.transaction(Mode::Write, |tx| fieldbook_server::users::add(tx, "desk", fieldbook_server::users::Role::Office, "Desk", Some(&hash)))
    })
    .await
    .unwrap();
    let resp = client.post(format!("{}/console/api/login", running.url())).json(&json!({"login": "desk", "password": "desk-pass-1"})).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.ends_with("; Secure"), "{cookie}");
    // A client that does not trust the certificate is refused.
    let untrusting = reqwest::Client::builder().resolve("localhost", running.addr).build().unwrap();
    assert!(untrusting.get(format!("{}/api/status", running.url())).header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string()).send().await.is_err());
    // Half a TLS configuration is refused clearly.
    assert!(fieldbook_server::tls::TlsFiles::from_args(Some("c.pem".into()), None).unwrap_err().to_string().contains("--tls-key"));
    running.stop().await.unwrap();
}

async fn openapi_describes_every_route(b: Backend) {
    let s = TestServer::with_demo(b).await;
    // Fetchable without the protocol header, by documentation tools.
    let doc: Value = s.client.get(format!("{}/api/openapi.json", s.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut described = 0;
    for (path, ops) in paths {
        let concrete = path.replace("{sha256}", &"a".repeat(64));
        for method in ops.as_object().unwrap().keys() {
            described += 1;
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resp = s.req(m.clone(), &concrete).send().await.unwrap();
            // Mounted: the answer is the endpoint's own (auth, validation…), never "no such route".
            assert_ne!(resp.status(), 405, "{m} {path}");
            if resp.status() == 404 {
                let e: Value = resp.json().await.unwrap_or_default();
                assert!(!e["error"]["message"].as_str().unwrap_or("").starts_with("no endpoint"), "{m} {path} is not mounted");
            }
        }
    }
    let mounted: usize = fieldbook_server::api::ROUTES.iter().chain(fieldbook_server::console::ROUTES).map(|(_, m)| m.len()).sum();
    assert_eq!(described, mounted, "the document describes every mounted route and method");
}
