//! The sync commands over Tauri's IPC on the mock runtime: the status of an unenrolled store, and
//! enrolment against the real `fieldbook-server`, started in-process on 127.0.0.1:0 with the demo
//! company, after which the background loop syncs by itself.

use std::time::{Duration, Instant};

use fieldbook_core::Store;
use fieldbook_desktop::AppState;
use fieldbook_server::db::Mode;
use fieldbook_server::enrolment;
use serde_json::{json, Value};

mod common;
use common::{MockApp, Office};

fn fresh(dir: &tempfile::TempDir) -> AppState {
    AppState::new(Store::open(&dir.path().join("laptop.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap())
}

#[test]
fn an_unenrolled_store_says_so_and_sync_now_asks_for_enrolment() {
    let dir = tempfile::tempdir().unwrap();
    let app = MockApp::new(fresh(&dir));
    let s = app.invoke("sync_status", json!({})).unwrap();
    assert_eq!(s["enrolled"], false);
    assert_eq!(s["running"], false);
    assert_eq!(s["server_url"], Value::Null);
    assert_eq!(s["pending_changes"], 0);
    assert_eq!(s["rejections"], json!([]));
    assert_eq!(s["revocation"], Value::Null);

    let e = app.invoke("sync_now", json!({})).unwrap_err();
    assert_eq!(e["kind"], "not_enrolled", "{e}");
}

#[test]
fn enrolment_errors_are_worded_for_technicians() {
    let dir = tempfile::tempdir().unwrap();
    let app = MockApp::new(fresh(&dir));
    let e = app.invoke("enroll", json!({"server_url": "not a url", "code": "X"})).unwrap_err();
    assert_eq!(e["kind"], "invalid_url", "{e}");
    let e = app.invoke("enroll", json!({"server_url": "http://127.0.0.1:9", "code": "ABC"})).unwrap_err();
    assert_eq!(e["kind"], "unreachable", "{e}");
    assert!(e["message"].as_str().unwrap().contains("check the address and the network"), "{e}");
    assert_eq!(app.invoke("sync_status", json!({})).unwrap()["enrolled"], false);
}


#[test]
fn enrolling_with_the_real_server_starts_background_sync() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let _in_runtime = rt.enter();
    let office = rt.block_on(Office::with_demo());
    let db = office.db.clone();
    let code = rt.block_on(tokio::task::spawn_blocking(move || db.transaction(Mode::Write, |tx| enrolment::issue_code(tx, "li.wei", 1)).unwrap())).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let app = MockApp::new(fresh(&dir));
    let e = app.invoke("enroll", json!({"server_url": office.running.url(), "code": code})).unwrap();
    assert_eq!(e["enrollment"]["technician"], "li.wei");
    assert_eq!(e["status"]["enrolled"], true);
    assert_eq!(e["status"]["running"], true);

    // The loop syncs at once: the demo orders arrive without any further command.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        let s = app.invoke("sync_status", json!({})).unwrap();
        if s["last_success_at"].is_string() || Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status["enrolled"], true, "{status}");
    assert_eq!(status["technician"], "li.wei");
    assert_eq!(status["server_url"], office.running.url());
    assert!(status["last_success_at"].is_string(), "{status}");
    assert_eq!(status["last_error"], Value::Null, "{status}");
    assert!(status["pull_cursor"].as_i64().unwrap() > 0, "{status}");
    assert!(app.invoke("sync_now", json!({})).is_ok());

    // The same code again is refused, in the client's words.
    let dir2 = tempfile::tempdir().unwrap();
    let other = MockApp::new(fresh(&dir2));
    let e = other.invoke("enroll", json!({"server_url": office.running.url(), "code": code})).unwrap_err();
    assert_eq!(e["kind"], "enrollment_refused", "{e}");
    assert!(e["message"].as_str().unwrap().starts_with("the server did not accept the enrolment"), "{e}");
}
