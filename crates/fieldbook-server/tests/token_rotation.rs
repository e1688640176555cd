//! Device tokens rotate, expire and are renewed with the device key (issue #13, "a lost or
//! stolen laptop gives nothing away"), mostly from the side of someone holding a copy of a
//! laptop's token. On SQLite and PostgreSQL.
//!
//! Time is moved by ageing the token in the database (`token_issued_at`), as the days would.

mod common;

use std::process::{Command, Stdio};

use chrono::{Duration, Utc};
use common::{both, error_of, Backend, Console, Laptop, TestServer};
use ed25519_dalek::{Signer, SigningKey};
use fieldbook_core::signature::{sha256_hex, sign_token_renewal};
use fieldbook_core::sync::protocol::{RenewChallengeResponse, RenewResponse, TokenCheckResponse};
use fieldbook_server::db::Mode;
use fieldbook_server::devices::TokenPolicy;
use fieldbook_server::security::Options;
use fieldbook_server::server;
use fieldbook_server::{params, users};
use reqwest::Method;
use serde_json::json;

both!(
    a_copied_token_stops_working_once_the_laptop_uses_its_rotated_one,
    while_the_rotated_token_is_unconfirmed_the_old_one_works_and_gets_the_same_new_one,
    a_token_rotates_only_after_the_interval,
    an_expired_token_is_refused_token_expired,
    renewal_needs_the_enrolled_key_and_a_fresh_nonce,
    an_expired_nonce_does_not_renew,
    a_revoked_laptop_or_a_disabled_technician_cannot_renew,
    challenges_for_one_laptop_are_limited,
    the_reported_store_protection_and_last_rotation_show_in_the_device_lists,
    tokens_from_before_the_upgrade_get_a_full_life,
    the_servers_token_policy_decides_rotation_and_life,
);

/// `POST /api/device/token` with `token`, reporting `protection`.
async fn check(s: &TestServer, token: &str, protection: &str) -> reqwest::Response {
    s.req(Method::POST, "/api/device/token").bearer_auth(token).json(&json!({"store_protection": protection})).send().await.unwrap()
}

async fn check_ok(s: &TestServer, token: &str) -> TokenCheckResponse {
    let r = check(s, token, "plaintext").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

async fn pull_status(s: &TestServer, token: &str) -> reqwest::Response {
    s.req(Method::GET, "/api/sync/pull?cursor=0&limit=1").bearer_auth(token).send().await.unwrap()
}

/// Moves the device's current token `days` into the past, as if issued then.
async fn age_token(s: &TestServer, device_id: &str, days: i64) {
    let (id, at) = (device_id.to_owned(), fieldbook_server::store_ts(Utc::now() - Duration::days(days)));
    s.run_db(move |db| db.transaction(Mode::Write, |tx| tx.execute("UPDATE devices SET token_issued_at = $1 WHERE id = $2", params![at, id]))).await.unwrap();
}

async fn device_text(s: &TestServer, device_id: &str, column: &'static str) -> Option<String> {
    let id = device_id.to_owned();
    let sql = format!("SELECT {column} FROM devices WHERE id = $1");
    s.run_db(move |db| db.transaction(Mode::Read, |tx| tx.query_one(&sql, params![id])?.opt_text(0))).await.unwrap()
}

async fn challenge(s: &TestServer, device_id: &str) -> reqwest::Response {
    s.req(Method::POST, "/api/device/renew/challenge").json(&json!({"device_id": device_id})).send().await.unwrap()
}

async fn nonce(s: &TestServer, device_id: &str) -> String {
    let r = challenge(s, device_id).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json::<RenewChallengeResponse>().await.unwrap().nonce
}

async fn renew(s: &TestServer, device_id: &str, nonce: &str, signature: &str) -> reqwest::Response {
    s.req(Method::POST, "/api/device/renew").json(&json!({"device_id": device_id, "nonce": nonce, "signature": signature})).send().await.unwrap()
}

/// The laptop's token is a week old: its next sync gets a new one, and once it has used the new
/// one, a copy of the old one (taken from a backup, a disk image, a proxy log) is refused.
async fn a_copied_token_stops_working_once_the_laptop_uses_its_rotated_one(b: Backend) {
    let s = TestServer::empty(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let copy = li.token.clone();
    age_token(&s, &li.device_id, 8).await;
    let new = check_ok(&s, &li.token).await.device_token.expect("a token older than 7 days is rotated");
    assert_ne!(new, copy);
    // The laptop stores it and syncs with it: that makes it current and retires the old one.
    li.token = new.clone();
    assert_eq!(pull_status(&s, &li.token).await.status(), 200);
    let e = error_of(pull_status(&s, &copy).await, 401).await;
    assert_eq!(e.kind, "unauthorized");
    assert!(e.message.contains("replaced by a newer one") && e.message.contains("copy of an old token"), "{}", e.message);
    // Nor can the copy ask for a token of its own, push, or renew without the key.
    assert_eq!(error_of(check(&s, &copy, "plaintext").await, 401).await.kind, "unauthorized");
    assert_eq!(error_of(li_push_with(&s, &copy).await, 401).await.kind, "unauthorized");
    // The new token is fresh: no further rotation; the rotation is on record.
    let again = check_ok(&s, &li.token).await;
    assert!(again.device_token.is_none());
    assert!(device_text(&s, &li.device_id, "token_rotated_at").await.is_some());
    assert_eq!(device_text(&s, &li.device_id, "previous_token_hash").await, Some(sha256_hex(copy.as_bytes())));
    assert_eq!(s.count("SELECT count(*) FROM audit_log WHERE action = 'device_token_rotated' AND actor = 'li.wei'").await, 1);
}

async fn li_push_with(s: &TestServer, token: &str) -> reqwest::Response {
    s.req(Method::POST, "/api/sync/push").bearer_auth(token).json(&json!({"entries": []})).send().await.unwrap()
}

/// The answer carrying the new token is lost (or the laptop crashes before storing it): the old
/// token still syncs, and asking again gives the same new token, so a laptop that did store it
/// is never locked out by a second answer. The database alone does not reveal the new token.
async fn while_the_rotated_token_is_unconfirmed_the_old_one_works_and_gets_the_same_new_one(b: Backend) {
    let s = TestServer::empty(b).await;
    let li = Laptop::enroll(&s, "li.wei").await;
    age_token(&s, &li.device_id, 8).await;
    let lost = check_ok(&s, &li.token).await.device_token.unwrap();
    for _ in 0..2 {
        assert_eq!(pull_status(&s, &li.token).await.status(), 200, "the old token works until the new one is used");
    }
    // Two syncs at once (the app and the command line) get the same token too.
    let (a, b2) = tokio::join!(check_ok(&s, &li.token), check_ok(&s, &li.token));
    assert_eq!(a.device_token.as_deref(), Some(lost.as_str()));
    assert_eq!(b2.device_token.as_deref(), Some(lost.as_str()));
    let sealed = device_text(&s, &li.device_id, "next_token_sealed").await.unwrap();
    assert_ne!(sealed, lost, "kept sealed under the current token, never in the clear");
    assert_eq!(device_text(&s, &li.device_id, "next_token_hash").await, Some(sha256_hex(lost.as_bytes())));
    // The laptop, having stored it at last, syncs with it.
    assert_eq!(pull_status(&s, &lost).await.status(), 200);
    assert_eq!(pull_status(&s, &li.token).await.status(), 401);
    assert!(device_text(&s, &li.device_id, "next_token_hash").await.is_none());
}

async fn a_token_rotates_only_after_the_interval(b: Backend) {
    let s = TestServer::empty(b).await;
    let li = Laptop::enroll(&s, "li.wei").await;
    let fresh = check_ok(&s, &li.token).await;
    assert!(fresh.device_token.is_none());
    let expires = chrono::DateTime::parse_from_rfc3339(&fresh.expires_at).unwrap().to_utc();
    assert!((expires - Utc::now() - Duration::days(30)).num_minutes().abs() < 5, "30 days of life: {}", fresh.expires_at);
    age_token(&s, &li.device_id, 6).await;
    assert!(check_ok(&s, &li.token).await.device_token.is_none(), "6 days old: not yet");
    age_token(&s, &li.device_id, 7).await;
    assert!(check_ok(&s, &li.token).await.device_token.is_some(), "7 days old: rotated");
}

/// A laptop (or a copy of its token) silent for longer than a token's life is refused with a
/// kind of its own that says what to do.
async fn an_expired_token_is_refused_token_expired(b: Backend) {
    let s = TestServer::empty(b).await;
    let li = Laptop::enroll(&s, "li.wei").await;
    age_token(&s, &li.device_id, 31).await;
    for r in [pull_status(&s, &li.token).await, check(&s, &li.token, "plaintext").await, li_push_with(&s, &li.token).await] {
        assert!(r.headers().contains_key("www-authenticate"));
        let e = error_of(r, 401).await;
        assert_eq!(e.kind, "token_expired");
        assert!(e.message.contains("expired at") && e.message.contains("device key"), "{}", e.message);
    }
}

/// Renewal is proof of the Ed25519 key registered at enrolment, over a one-time nonce, in a
/// message of its own: another key, a replayed nonce, another laptop's nonce or a bare
/// signature of the nonce do not renew.
async fn renewal_needs_the_enrolled_key_and_a_fresh_nonce(b: Backend) {
    let s = TestServer::empty(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let zhang = Laptop::enroll(&s, "zhang.min").await;
    age_token(&s, &li.device_id, 31).await;

    let thief = SigningKey::from_bytes(&rand::random());
    let n = nonce(&s, &li.device_id).await;
    let e = error_of(renew(&s, &li.device_id, &n, &sign_token_renewal(&thief, &li.device_id, &n)).await, 401).await;
    assert!(e.message.contains("not made with this laptop's device key"), "{}", e.message);
    // The nonce was used up by the failed attempt: the right key cannot use it either.
    let e = error_of(renew(&s, &li.device_id, &n, &sign_token_renewal(&li.key, &li.device_id, &n)).await, 401).await;
    assert!(e.message.contains("already used"), "{}", e.message);

    // Without the domain string, or for another device, the signature does not count.
    let n = nonce(&s, &li.device_id).await;
    let bare = hex::encode(li.key.sign(n.as_bytes()).to_bytes());
    assert_eq!(renew(&s, &li.device_id, &n, &bare).await.status(), 401);
    let zn = nonce(&s, &zhang.device_id).await;
    assert_eq!(renew(&s, &li.device_id, &zn, &sign_token_renewal(&li.key, &li.device_id, &zn)).await.status(), 401, "zhang's nonce is not li's");

    // The real laptop renews.
    let n = nonce(&s, &li.device_id).await;
    let sig = sign_token_renewal(&li.key, &li.device_id, &n);
    let r = renew(&s, &li.device_id, &n, &sig).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let renewed: RenewResponse = r.json().await.unwrap();
    assert_eq!(renewed.technician, "li.wei");
    let old = std::mem::replace(&mut li.token, renewed.device_token);
    assert_eq!(pull_status(&s, &li.token).await.status(), 200);
    assert_eq!(error_of(pull_status(&s, &old).await, 401).await.kind, "unauthorized", "the expired token is retired");
    assert_eq!(s.count("SELECT count(*) FROM audit_log WHERE action = 'device_token_renewed' AND actor = 'li.wei'").await, 1, "the failed attempts renewed nothing");
    // A replay of the whole request gives nothing.
    let e = error_of(renew(&s, &li.device_id, &n, &sig).await, 401).await;
    assert!(e.message.contains("already used"), "{}", e.message);
    // Unknown laptops get no challenge.
    assert_eq!(error_of(challenge(&s, "no-such-laptop").await, 401).await.kind, "unauthorized");
}

async fn an_expired_nonce_does_not_renew(b: Backend) {
    let s = TestServer::empty(b).await;
    let li = Laptop::enroll(&s, "li.wei").await;
    let n = nonce(&s, &li.device_id).await;
    let (hash, past) = (sha256_hex(n.as_bytes()), fieldbook_server::store_ts(Utc::now() - Duration::seconds(1)));
    s.run_db(move |db| db.transaction(Mode::Write, |tx| tx.execute("UPDATE token_renewal_nonces SET expires_at = $1 WHERE nonce_hash = $2", params![past, hash])))
        .await
        .unwrap();
    let e = error_of(renew(&s, &li.device_id, &n, &sign_token_renewal(&li.key, &li.device_id, &n)).await, 401).await;
    assert!(e.message.contains("expired"), "{}", e.message);
    assert_eq!(s.count("SELECT count(*) FROM token_renewal_nonces").await, 0, "used up as well");
}

async fn a_revoked_laptop_or_a_disabled_technician_cannot_renew(b: Backend) {
    let s = TestServer::empty(b).await;
    let li = Laptop::enroll(&s, "li.wei").await;
    let n = nonce(&s, &li.device_id).await;
    let id = li.device_id.clone();
    s.run_db(move |db| db.transaction(Mode::Write, |tx| fieldbook_server::devices::revoke(tx, &id, "stolen", true))).await.unwrap();
    let e = error_of(challenge(&s, &li.device_id).await, 403).await;
    assert_eq!(e.kind, "device_revoked");
    assert!(e.wipe);
    // A nonce asked for before the revocation does not help.
    let e = error_of(renew(&s, &li.device_id, &n, &sign_token_renewal(&li.key, &li.device_id, &n)).await, 403).await;
    assert_eq!(e.kind, "device_revoked");

    let zhang = Laptop::enroll(&s, "zhang.min").await;
    let n = nonce(&s, &zhang.device_id).await;
    s.run_db(|db| db.transaction(Mode::Write, |tx| tx.execute("UPDATE users SET disabled = 1 WHERE login = 'zhang.min'", params![])))
        .await
        .unwrap();
    assert_eq!(error_of(challenge(&s, &zhang.device_id).await, 403).await.kind, "forbidden");
    assert_eq!(error_of(renew(&s, &zhang.device_id, &n, &sign_token_renewal(&zhang.key, &zhang.device_id, &n)).await, 403).await.kind, "forbidden");
}

/// Someone who only knows a device id cannot fill the server with challenges.
async fn challenges_for_one_laptop_are_limited(b: Backend) {
    let s = TestServer::empty(b).await;
    let li = Laptop::enroll(&s, "li.wei").await;
    for _ in 0..5 {
        nonce(&s, &li.device_id).await;
    }
    let r = challenge(&s, &li.device_id).await;
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(error_of(r, 429).await.kind, "throttled");
}

/// The office sees, per laptop, when its token last rotated and how the laptop says its store is
/// protected — labelled as the laptop's own claim. A label that is not one is refused.
async fn the_reported_store_protection_and_last_rotation_show_in_the_device_lists(b: Backend) {
    let s = TestServer::empty(b).await;
    let li = Laptop::enroll(&s, "li.wei").await;
    let r = check(&s, &li.token, "encrypted-keyring").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(error_of(check(&s, &li.token, "<b>safe</b>").await, 400).await.kind, "invalid");
    age_token(&s, &li.device_id, 8).await;
    let new = check_ok(&s, &li.token).await.device_token.unwrap();
    assert_eq!(pull_status(&s, &new).await.status(), 200);
    let r = check(&s, &new, "encrypted-keyring").await;
    assert_eq!(r.status(), 200);

    let admin = Console::as_role(&s, "boss", users::Role::Admin).await;
    let devices = admin.get("/console/api/devices").await;
    let d = &devices[0];
    assert_eq!(d["store_protection"], "encrypted-keyring");
    assert!(d["store_protection_at"].is_string() && d["token_rotated_at"].is_string(), "{d}");
    let csv = admin.req(Method::GET, "/console/api/devices?format=csv").send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("Store protection (reported by the laptop)") && csv.contains("encrypted-keyring") && csv.contains("Token last rotated"), "{csv}");

    let url = s.db_url.clone();
    let out = common::blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_fieldbook-server")).args(["device", "list", "--database", &url]).stdin(Stdio::null()).output().unwrap()
    })
    .await;
    let list = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{list}{}", String::from_utf8_lossy(&out.stderr));
    assert!(list.contains("store (reported)") && list.contains("token rotated") && list.contains("encrypted-keyring"), "{list}");
    let rotated = device_text(&s, &li.device_id, "token_rotated_at").await.unwrap();
    assert!(list.contains(&rotated), "{list}");
}

/// Migration 0007 gives every existing token an issue time of "now" in the format the server
/// writes, so that the upgrade locks no laptop out. (Its last statement, run again here.)
async fn tokens_from_before_the_upgrade_get_a_full_life(b: Backend) {
    let s = TestServer::empty(b).await;
    let li = Laptop::enroll(&s, "li.wei").await;
    let migration = match b {
        Backend::Sqlite => include_str!("../../../migrations/server-sqlite/0007_token_rotation.sql"),
        Backend::Postgres => include_str!("../../../migrations/server-postgres/0007_token_rotation.sql"),
    };
    let backfill = migration.rsplit("\n\n").next().unwrap().trim().to_owned();
    assert!(backfill.starts_with("UPDATE devices SET token_issued_at"), "{backfill}");
    s.run_db(move |db| {
        db.transaction(Mode::Write, |tx| {
            tx.execute("UPDATE devices SET token_issued_at = NULL", params![])?;
            tx.execute_batch(&backfill)
        })
    })
    .await
    .unwrap();
    let issued = device_text(&s, &li.device_id, "token_issued_at").await.unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(&issued).unwrap_or_else(|e| panic!("{issued}: {e}")).to_utc();
    assert!((Utc::now() - at).num_minutes().abs() < 5, "{issued}");
    assert_eq!(issued.len(), fieldbook_server::now_text().len(), "the server's own format: {issued}");
    assert!(check_ok(&s, &li.token).await.device_token.is_none());
}

/// The intervals come from the server's options (`--token-rotate-days`, `--token-life-days`),
/// here in seconds.
async fn the_servers_token_policy_decides_rotation_and_life(b: Backend) {
    let mut s = TestServer::empty(b).await;
    let tokens = TokenPolicy { rotate_after: Duration::seconds(1), life: Duration::seconds(4) };
    let running = server::start_with(s.db.clone(), "127.0.0.1:0".parse().unwrap(), None, Options { tokens, ..Options::default() }).await.unwrap();
    s.url = running.url();
    let li = Laptop::enroll(&s, "li.wei").await;
    assert!(check_ok(&s, &li.token).await.device_token.is_none());
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let rotated = check_ok(&s, &li.token).await;
    assert!(rotated.device_token.is_some(), "older than a second: rotated");
    tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
    assert_eq!(error_of(pull_status(&s, &li.token).await, 401).await.kind, "token_expired", "older than 4 seconds: expired");
    running.stop().await.unwrap();
}
