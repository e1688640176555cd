//! The server as an administrator watches it (issue #14): `/metrics` after a real sync — every
//! metric moved, the text parsed here and checked by Prometheus's own `promtool` —, who may read
//! it, `/healthz` and `/readyz`, and the JSON log of the real binary holding no secret.

mod common;
use common::both;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use common::{blocking, id, Backend, Console, Laptop, TestServer};
use fieldbook_core::signature::sha256_hex;
use fieldbook_server::db::Mode;
use fieldbook_server::metrics::Access;
use fieldbook_server::security::Options;
use fieldbook_server::{params, server, users};
use reqwest::Method;
use serde_json::{json, Value};

both!(every_metric_moves_with_a_real_sync, the_push_queue_depth_shows_pushes_waiting, readyz_answers_for_the_database_and_its_schema);

/// Samples of a Prometheus text exposition: `name{a="x",b="y"}` (labels sorted) → value.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in: {line}")),
        };
        let key = match series.split_once('{') {
            None => series.to_owned(),
            Some((name, labels)) => {
                let labels = labels.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels: {line}"));
                let mut pairs: Vec<&str> = labels.split("\",").map(|p| p.trim_end_matches('"')).collect();
                pairs.sort();
                let pairs: Vec<String> = pairs
                    .iter()
                    .map(|p| {
                        let (k, v) = p.split_once("=\"").unwrap_or_else(|| panic!("bad label {p} in: {line}"));
                        format!("{k}=\"{v}\"")
                    })
                    .collect();
                format!("{name}{{{}}}", pairs.join(","))
            }
        };
        assert!(out.insert(key.clone(), value).is_none(), "series twice: {key}");
    }
    out
}

fn get(m: &BTreeMap<String, f64>, key: &str) -> f64 {
    *m.get(key).unwrap_or_else(|| panic!("no series {key}; have:\n{}", m.keys().cloned().collect::<Vec<_>>().join("\n")))
}

async fn scrape(s: &TestServer) -> (String, BTreeMap<String, f64>) {
    let r = s.client.get(format!("{}/metrics", s.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    let text = r.text().await.unwrap();
    let parsed = parse(&text);
    (text, parsed)
}

/// Prometheus's own check of the exposition format and naming rules. Skipped, loudly, where
/// promtool is not installed (scripts/setup.sh installs it).
fn promtool_check(text: &str) {
    let child = Command::new("promtool").args(["check", "metrics"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let Ok(mut child) = child else {
        eprintln!("\n!!!!!!!! SKIPPED: promtool is not installed, /metrics was NOT checked by Prometheus's parser (apt-get install prometheus; scripts/setup.sh does) !!!!!!!!\n");
        return;
    };
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool check metrics found problems:\n{said}\n--- exposition:\n{text}");
}

/// The id the laptop derives for an answer (fieldbook_core::store::orders::answer_id).
fn answer_id(order_id: &str, item: &str, asset_id: &str) -> String {
    const NS: uuid::Uuid = uuid::Uuid::from_u128(0x6669_656c_6462_6f6f_6b2d_616e_7377_6572);
    uuid::Uuid::new_v5(&NS, format!("{order_id}/{item}/{asset_id}").as_bytes()).to_string()
}

async fn every_metric_moves_with_a_real_sync(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let (_, before) = scrape(&s).await;
    assert_eq!(get(&before, "fieldbook_sync_pushes_total{result=\"ok\"}"), 0.0);
    assert_eq!(get(&before, "fieldbook_push_queue_depth"), 0.0);
    assert_eq!(get(&before, "fieldbook_devices{last_contact=\"lt_1h\"}"), 0.0);

    // A laptop enrols, pulls, pushes a photo's record and the answer naming it, uploads the photo.
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let photo: Vec<u8> = (0..40_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sha = sha256_hex(&photo);
    let (order, pump) = (id("work_orders", "WO-1001"), id("assets", "JQ-PUMP-01"));
    let rec = li.entry("attachments", &sha, json!({"media_type": "image/jpeg", "byte_size": photo.len(), "original_name": "pump.jpg", "added_at": "2026-03-02T08:00:00.000Z", "deleted": false}));
    let answer = li.entry(
        "inspection_answers",
        &answer_id(&order, "pump.photo", &pump),
        json!({"work_order_id": order, "item_key": "pump.photo", "asset_id": pump, "value": [sha], "note": null, "answered_at": "2026-03-02T08:01:00.000Z", "deleted": false}),
    );
    let r = li.push(&s, &[rec, answer]).await;
    assert_eq!((r.applied, r.rejected.len()), (2, 0), "{r:?}");
    let half = photo.len() / 2;
    for (offset, chunk) in [(0, &photo[..half]), (half, &photo[half..])] {
        let r = li
            .auth(s.req(Method::PATCH, &format!("/api/attachments/{sha}")))
            .header("Upload-Offset", offset.to_string())
            .header("Upload-Length", photo.len().to_string())
            .body(chunk.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // A conflict: the office sends the job back on site while the technician sets off.
    let order2 = id("work_orders", "WO-1002");
    s.office_write("work_orders", &order2, json!({"status": "on_site"})).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let edit = li.entry("work_orders", &order2, json!({"status": "en_route"}));
    assert_eq!(li.push(&s, &[edit]).await.conflicts, 1);
    // A refused change: a laptop cannot approve its own work.
    let sneaky = li.entry("work_orders", &order2, json!({"review_state": "approved"}));
    assert_eq!(li.push(&s, &[sneaky]).await.rejected.len(), 1);
    // A push refused whole (entries out of order).
    let (a, b2) = (li.entry("work_orders", &order2, json!({"status": "on_site"})), li.entry("work_orders", &order2, json!({"status": "on_site"})));
    assert_eq!(li.push_raw(&s, &[b2, a]).await.status(), 400);
    // The office looks at an order and at the conflicts.
    let c = Console::as_role(&s, "office.wang", users::Role::Office).await;
    c.get(&format!("/console/api/work-orders/{order2}")).await;
    c.get("/console/api/conflicts").await;
    // Devices by last contact: one seen now, one that never synced since enrolment, one away for ten days.
    let _quiet = Laptop::enroll(&s, "zhang.min").await;
    let away = Laptop::enroll(&s, "zhang.min").await;
    let (away_id, ten_days_ago) = (away.device_id.clone(), fieldbook_server::store_ts(chrono::Utc::now() - chrono::Duration::days(10)));
    s.run_db(move |db| db.transaction(Mode::Write, |tx| tx.execute("UPDATE devices SET last_seen_at = $1 WHERE id = $2", params![ten_days_ago.as_str(), away_id.as_str()])))
        .await
        .unwrap();

    let (text, m) = scrape(&s).await;
    assert_eq!(get(&m, "fieldbook_sync_pushes_total{result=\"ok\"}"), 3.0);
    assert_eq!(get(&m, "fieldbook_sync_pushes_total{result=\"refused\"}"), 1.0);
    assert!(get(&m, "fieldbook_sync_pulls_total{result=\"ok\"}") >= 1.0);
    assert_eq!(get(&m, "fieldbook_sync_changes_total{outcome=\"applied\"}"), 3.0);
    assert_eq!(get(&m, "fieldbook_sync_changes_total{outcome=\"refused\"}"), 1.0);
    assert_eq!(get(&m, "fieldbook_sync_conflicts_total"), 1.0);
    assert_eq!(get(&m, "fieldbook_sync_refused_changes_total{entity=\"work_orders\"}"), 1.0);
    assert_eq!(get(&m, "fieldbook_push_queue_depth"), 0.0, "every queued push was taken");
    assert_eq!(get(&m, "fieldbook_push_commit_seconds_count"), 3.0, "one group transaction per push here");
    assert_eq!(get(&m, "fieldbook_push_commit_seconds_bucket{le=\"+Inf\"}"), 3.0);
    assert!(get(&m, "fieldbook_push_commit_seconds_sum") > 0.0);
    assert_eq!(get(&m, "fieldbook_attachment_bytes_total{kind=\"received\"}"), photo.len() as f64);
    assert_eq!(get(&m, "fieldbook_attachment_bytes_total{kind=\"stored\"}"), photo.len() as f64);
    // Enrolment counts as contact: li.wei's and the quiet laptop within the hour.
    assert_eq!(get(&m, "fieldbook_devices{last_contact=\"lt_1h\"}"), 2.0);
    assert_eq!(get(&m, "fieldbook_devices{last_contact=\"older\"}"), 1.0);
    assert_eq!(get(&m, "fieldbook_devices{last_contact=\"lt_1d\"}") + get(&m, "fieldbook_devices{last_contact=\"lt_7d\"}"), 0.0);
    // Console latency by route template, never the raw path with the order's id.
    assert_eq!(get(&m, "fieldbook_console_request_seconds_count{method=\"GET\",route=\"/console/api/work-orders/{id}\"}"), 1.0);
    assert_eq!(get(&m, "fieldbook_console_request_seconds_count{method=\"GET\",route=\"/console/api/conflicts\"}"), 1.0);
    assert_eq!(get(&m, "fieldbook_console_request_seconds_count{method=\"POST\",route=\"/console/api/login\"}"), 1.0);
    assert!(!text.contains(&order2), "an order id in a label:\n{text}");
    promtool_check(&text);
}

/// While another feed transaction holds the feed lock, the push writer is stuck on the first
/// push it took and the others wait in its queue: the gauge shows them, then goes back to zero.
async fn the_push_queue_depth_shows_pushes_waiting(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut laptops = Vec::new();
    for _ in 0..3 {
        laptops.push(Laptop::enroll(&s, "zhang.min").await);
    }
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (held, holding) = tokio::sync::oneshot::channel::<()>();
    let db = s.db.clone();
    let holder = std::thread::spawn(move || {
        db.transaction(Mode::Feed, |_| {
            held.send(()).unwrap();
            released.recv().unwrap();
            Ok(())
        })
    });
    holding.await.unwrap();
    let order = id("work_orders", "WO-1003");
    let mut pushes = Vec::new();
    for (i, mut l) in laptops.into_iter().enumerate() {
        let entry = l.entry("work_orders", &order, json!({"status": "en_route"}));
        let req = l.auth(s.req(Method::POST, "/api/sync/push")).json(&fieldbook_core::sync::protocol::PushRequest { entries: vec![entry] });
        pushes.push(tokio::spawn(async move { req.send().await.unwrap().status() }));
        if i == 0 {
            // Time for the writer to take the first push and block on the lock with it (pushes
            // queued before it wakes would be taken together, as one group).
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
    let mut depth = 0.0;
    for _ in 0..100 {
        depth = get(&scrape(&s).await.1, "fieldbook_push_queue_depth");
        if depth >= 2.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    release.send(()).unwrap();
    blocking(move || holder.join().unwrap()).await.unwrap();
    assert_eq!(depth, 2.0, "one push in the writer's hands, two waiting");
    for p in pushes {
        assert_eq!(p.await.unwrap(), 200);
    }
    let m = scrape(&s).await.1;
    assert_eq!(get(&m, "fieldbook_push_queue_depth"), 0.0);
    assert_eq!(get(&m, "fieldbook_sync_pushes_total{result=\"ok\"}"), 3.0);
}

async fn readyz_answers_for_the_database_and_its_schema(b: Backend) {
    let s = TestServer::empty(b).await;
    let r = s.client.get(format!("{}/healthz", s.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = s.client.get(format!("{}/readyz", s.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!((body["status"].as_str(), body["schema_version"].as_i64()), (Some("ready"), Some(fieldbook_server::db::latest_version())));
    // A newer server migrated the shared database under this one: not ready, and why.
    s.run_db(|db| db.transaction(Mode::Write, |tx| tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 'x')", params![]))).await.unwrap();
    let r = s.client.get(format!("{}/readyz", s.url)).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["reason"], "schema_mismatch", "{body}");
    assert!(body["message"].as_str().unwrap().contains("version 999"), "{body}");
    // The process still answers.
    assert_eq!(s.client.get(format!("{}/healthz", s.url)).send().await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_for_this_machine_unless_a_token_is_set() {
    // Without a token: this machine, directly.
    let s = TestServer::empty(Backend::Sqlite).await;
    assert_eq!(s.client.get(format!("{}/metrics", s.url)).send().await.unwrap().status(), 200);
    // Through a proxy on this machine, it is someone else asking.
    for h in ["X-Forwarded-For", "Forwarded", "X-Real-IP"] {
        let r = s.client.get(format!("{}/metrics", s.url)).header(h, "203.0.113.9").send().await.unwrap();
        assert_eq!(r.status(), 403, "{h}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["message"].as_str().unwrap().contains("metrics-token"), "{body}");
    }

    // With a token: its holder only, from anywhere; a laptop's device token is no metrics token.
    let token = "a-long-metrics-token-0123456789";
    let db = s.db.clone();
    let options = Options { metrics_access: Access::new(Some(token)).unwrap(), ..Options::default() };
    let running = server::start_with(db, "127.0.0.1:0".parse().unwrap(), None, options).await.unwrap();
    let url = format!("{}/metrics", running.url());
    let li = Laptop::enroll(&s, "li.wei").await;
    let r = s.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    assert_eq!(s.client.get(&url).bearer_auth("a-long-metrics-token-012345678X").send().await.unwrap().status(), 401);
    assert_eq!(s.client.get(&url).bearer_auth(&li.token).send().await.unwrap().status(), 401);
    assert_eq!(s.client.get(&url).basic_auth("li.wei", Some(token)).send().await.unwrap().status(), 401);
    let r = s.client.get(&url).bearer_auth(token).header("X-Forwarded-For", "203.0.113.9").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("fieldbook_sync_pushes_total"));
    running.stop().await.unwrap();
}

/// Runs the real binary with a configuration file asking for JSON logs at `debug`, syncs a
/// laptop and logs in to the console through it, stops it with SIGTERM: it exits cleanly, every
/// log line is JSON, and none holds the device token, the password, the enrolment code or the console session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_hold_no_secret_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("server.db");
    let database = format!("sqlite:{}", db_path.display());
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("database = {database:?}\nlisten = \"127.0.0.1:0\"\nlog-format = \"json\"\n")).unwrap();
    let bin = env!("CARGO_BIN_EXE_fieldbook-server");
    let password = "a-console-password-7f3a";
    let code = {
        let (config, password) = (config.clone(), password.to_owned());
        blocking(move || {
            let run = |args: &[&str], stdin: Option<&str>| {
                let mut c = Command::new(bin).arg("--config").arg(&config).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
                let mut i = c.stdin.take().unwrap();
                if let Some(t) = stdin {
                    i.write_all(t.as_bytes()).unwrap();
                }
                drop(i);
                let out = c.wait_with_output().unwrap();
                assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
                String::from_utf8(out.stdout).unwrap()
            };
            run(&["user", "add", "li.wei", "--role", "technician"], None);
            run(&["user", "add", "office.wang", "--role", "office", "--password-stdin"], Some(&format!("{password}\n")));
            let out = run(&["enroll", "li.wei"], None);
            out.lines().map(str::trim).find(|l| l.len() > 6 && !l.contains(' ')).expect("a code").to_owned()
        })
        .await
    };

    let mut child = Command::new(bin).arg("--config").arg(&config).env("RUST_LOG", "debug").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line.trim().rsplit_once("listening on ").map(|(_, r)| r.split(' ').next().unwrap().to_owned()).unwrap_or_else(|| panic!("{line}"));
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });

    let client = reqwest::Client::new();
    let proto = (fieldbook_core::sync::protocol::PROTOCOL_HEADER, fieldbook_core::sync::protocol::PROTOCOL_VERSION.to_string());
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let enrol = json!({"code": code, "device_id": "log-laptop", "public_key": hex::encode(key.verifying_key().as_bytes()), "device_name": null});
    let r = client.post(format!("{url}/api/enroll")).header(proto.0, &proto.1).json(&enrol).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let token = r.json::<Value>().await.unwrap()["device_token"].as_str().unwrap().to_owned();
    let r = client.get(format!("{url}/api/sync/pull?cursor=0&limit=10")).header(proto.0, &proto.1).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = client.post(format!("{url}/api/sync/push")).header(proto.0, &proto.1).bearer_auth(&token).json(&json!({"entries": []})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = client.post(format!("{url}/console/api/login")).json(&json!({"login": "office.wang", "password": password})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let session = cookie.split_once('=').unwrap().1.to_owned();
    let r = client.get(format!("{url}/console/api/me")).header("Cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = client.get(format!("{url}/api/attachments/missing")).header(proto.0, &proto.1).basic_auth("office.wang", Some(password)).send().await.unwrap();
    assert_eq!(r.status(), 200);

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = blocking(move || child.wait().unwrap()).await;
    assert!(status.success(), "SIGTERM ends the server cleanly: {status:?}");
    let log = log.join().unwrap();
    assert!(log.lines().count() > 5, "a debug log was written:\n{log}");
    for l in log.lines() {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"));
        assert!(v["level"].is_string() && v["timestamp"].is_string(), "{l}");
    }
    for secret in [token.as_str(), password, code.as_str(), session.as_str()] {
        assert!(!log.contains(secret), "the log holds a secret ({secret}):\n{log}");
    }
    assert!(log.contains("shutting down"), "{log}");
}
