//! The offline lock in the desktop app (issue #13), on the mock runtime against the real server:
//! the company's limit arrives with the sync; past it the commands that show or change records
//! refuse with `offline_locked` while sync, status and app info still answer; a sync unlocks;
//! the unsynced work is kept throughout.

use fieldbook_core::Store;
use fieldbook_desktop::AppState;
use serde_json::{json, Value};

mod common;
use common::{wait_for_status, MockApp, Office};

/// The store's last successful sync, moved `days` into the past (as if the laptop had been
/// away that long): through a second handle on the file, as the CLI would open it.
fn last_sync_days_ago(path: &std::path::Path, days: i64) {
    let s = Store::open(path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    s.connection()
        .execute("UPDATE sync_state SET last_success_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1) WHERE id = 1", [format!("-{days} days")])
        .unwrap();
}

#[test]
fn past_the_companys_limit_records_are_refused_until_a_sync() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let _in_runtime = rt.enter();
    let office = rt.block_on(Office::with_demo());
    office.write(&rt, |tx| fieldbook_server::offline_lock::set_days(tx, Some(3)));
    let code = office.write(&rt, |tx| fieldbook_server::enrolment::issue_code(tx, "li.wei", 1));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("laptop.db");
    let app = MockApp::new(AppState::new(Store::open(&path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap()));
    app.invoke("enroll", json!({"server_url": office.running.url(), "code": code})).unwrap();
    let status = wait_for_status(&app, |s| s["last_success_at"].is_string());
    assert_eq!(status["offline_lock_days"], 3, "{status}");
    assert_eq!(status["offline_lock"], Value::Null);
    let order = "WO-1001";
    assert_eq!(app.invoke("order_detail", json!({"order": order})).unwrap()["order"]["number"], order, "the demo orders synced");
    // Work done before the lock: kept through it (the loop may already have pushed it).
    app.invoke("set_status", json!({"order": order, "status": "en_route"})).unwrap();

    // Three days without a sync: locked.
    last_sync_days_ago(&path, 3);
    for (cmd, args) in [
        ("today_orders", json!({})),
        ("search", json!({"query": "泵"})),
        ("order_detail", json!({"order": order})),
        ("set_status", json!({"order": order, "status": "on_site"})),
        ("parts", json!({})),
        ("report_bytes", json!({"order": order})),
        ("daily_report", json!({})),
        ("day_time", json!({})),
        ("add_time_entry", json!({"entry": {"work_date": "2026-03-02", "category": "D", "activity": "internal", "minutes": 30}})),
    ] {
        let e = app.invoke(cmd, args).unwrap_err();
        assert_eq!(e["kind"], "offline_locked", "{cmd}: {e}");
        assert!(e["message"].as_str().unwrap().contains("3 day(s) (limit 3, set by your office)"), "{cmd}: {e}");
    }
    // What the lock screen needs still answers.
    let status = app.invoke("sync_status", json!({})).unwrap();
    assert_eq!(status["offline_lock"]["limit_days"], 3, "{status}");
    assert_eq!(status["offline_lock"]["since_last_sync_days"], 3, "{status}");
    assert!(app.invoke("app_info", json!({})).is_ok());
    // The status change made before the lock is still there (kept or already on the server).
    let local = Store::open(&path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    assert_eq!(local.find_order(order).unwrap().status, fieldbook_core::model::Status::EnRoute);
    drop(local);

    // Sync: it runs while locked, and its success unlocks.
    let before = status["last_success_at"].as_str().unwrap().to_owned();
    app.invoke("sync_now", json!({})).unwrap();
    let status = wait_for_status(&app, |s| s["last_success_at"].as_str().is_some_and(|t| t != before));
    assert_eq!(status["offline_lock"], Value::Null, "{status}");
    assert_eq!(status["pending_changes"], 0, "the work done before the lock reached the server: {status}");
    assert_eq!(app.invoke("order_detail", json!({"order": order})).unwrap()["order"]["status"], "en_route");
    assert!(app.invoke("today_orders", json!({})).is_ok());
}
