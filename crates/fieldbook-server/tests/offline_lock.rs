//! The company's offline lock (issue #13) on both backends: only an admin sets it (console and
//! server CLI), it is audited, and it reaches a real laptop store with its next sync, where it
//! locks the laptop after that many days without a sync and a sync unlocks it.

mod common;

use std::process::Command;

use chrono::{DateTime, TimeZone, Utc};
use common::{both, pull_into, Backend, Console, TestServer};
use fieldbook_server::users;
use reqwest::Method;
use serde_json::{json, Value};

both!(only_an_admin_sets_the_lock_and_it_reaches_the_laptop_by_sync, the_server_cli_sets_and_clears_the_lock);

fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, d, 9, 0, 0).unwrap()
}

async fn only_an_admin_sets_the_lock_and_it_reaches_the_laptop_by_sync(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let office = Console::as_role(&s, "office.wang", users::Role::Office).await;
    let admin = Console::as_role(&s, "admin.zhao", users::Role::Admin).await;
    // Off until set; anyone in the console may look.
    assert_eq!(office.get("/console/api/settings").await, json!({"offline_lock_days": null, "return_visit_days": 3}));
    // The office may not change it.
    let r = office.send(Method::PATCH, "/console/api/settings", json!({"offline_lock_days": 1})).await;
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["kind"], "forbidden");
    assert!(v["error"]["message"].as_str().unwrap().contains("only an admin"), "{v}");
    assert_eq!(s.count("SELECT COUNT(*) FROM settings WHERE key = 'offline_lock_days'").await, 0);
    // Nonsense is refused with the fix; a body that names nothing changes nothing.
    for body in [json!({"offline_lock_days": 0}), json!({"offline_lock_days": "7"}), json!({"offline_lock_days": -1}), json!({})] {
        let r = admin.send(Method::PATCH, "/console/api/settings", body.clone()).await;
        assert_eq!(r.status(), 400, "{body}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"]["message"].as_str().unwrap().contains("3650"), "{body}: {v}");
    }
    // The admin may; it is in the audit trail.
    assert_eq!(admin.send(Method::PATCH, "/console/api/settings", json!({"offline_lock_days": 7})).await.status(), 200);
    assert_eq!(office.get("/console/api/settings").await, json!({"offline_lock_days": 7, "return_visit_days": 3}));
    let trail = admin.get("/console/api/audit?actor=admin.zhao").await;
    let entry = &trail["items"][0];
    assert_eq!(entry["action"], "settings_changed");
    assert_eq!(entry["detail"], json!({"from": null, "to": 7}));

    // A real laptop store: the limit arrives with its sync.
    let dir = tempfile::tempdir().unwrap();
    let mut store = fieldbook_core::Store::open(&dir.path().join("laptop.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    let li = common::Laptop::enroll(&s, "li.wei").await;
    store.set_clock(|| day(1));
    pull_into(&s, &li.token, &mut store).await;
    store.record_sync_attempt(None).unwrap();
    assert_eq!(store.offline_lock_days().unwrap(), Some(7));
    assert!(store.sync_status().unwrap().offline_lock.is_none());
    store.set_clock(|| day(7)); // six days
    store.check_unlocked().unwrap();
    store.set_clock(|| day(8)); // seven days
    let e = store.check_unlocked().unwrap_err();
    assert_eq!(e.kind(), "offline_locked");
    // Locked, it still syncs, and a successful sync unlocks it.
    pull_into(&s, &li.token, &mut store).await;
    store.record_sync_attempt(None).unwrap();
    store.check_unlocked().unwrap();
    // The admin turns the lock off: the next sync brings that too.
    assert_eq!(admin.send(Method::PATCH, "/console/api/settings", json!({"offline_lock_days": null})).await.status(), 200);
    pull_into(&s, &li.token, &mut store).await;
    assert_eq!(store.offline_lock_days().unwrap(), None);
    store.set_clock(|| day(30));
    store.check_unlocked().unwrap();
}

async fn the_server_cli_sets_and_clears_the_lock(b: Backend) {
    let db = common::fresh_db(b);
    let url = db.url.clone();
    let run = move |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_fieldbook-server")).args(args).args(["--database", &url]).env("RUST_LOG", "warn").output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let (ok, text) = common::blocking({
        let run = run.clone();
        move || run(&["offline-lock"])
    })
    .await;
    assert!(ok && text.contains("never lock"), "{text}");
    let (ok, text) = common::blocking({
        let run = run.clone();
        move || run(&["offline-lock", "--days", "5"])
    })
    .await;
    assert!(ok && text.contains("for 5 day(s)"), "{text}");
    let (ok, text) = common::blocking({
        let run = run.clone();
        move || run(&["offline-lock", "--days", "0"])
    })
    .await;
    assert!(!ok && text.contains("from 1 to 3650"), "{text}");
    let s = TestServer::on(&db.url).await;
    let admin = Console::as_role(&s, "admin.zhao", users::Role::Admin).await;
    assert_eq!(admin.get("/console/api/settings").await, json!({"offline_lock_days": 5, "return_visit_days": 3}));
    let (ok, text) = common::blocking(move || run(&["offline-lock", "--off"])).await;
    assert!(ok && text.contains("never lock"), "{text}");
    assert_eq!(admin.get("/console/api/settings").await, json!({"offline_lock_days": null, "return_visit_days": 3}));
}
