//! A revocation with a wipe order in the desktop app (issue #13), against the real server, in a
//! home folder of its own (`HOME`, `XDG_*`, `TMPDIR` in a temporary folder, the store at its
//! default place): afterwards, and once the wipe is finished at the next start, nothing of
//! Fieldbook's is left in the data, config, cache, runtime and temporary folders but the new,
//! empty store the open window started (docs/security.md, "Wipe").
//!
//! Its own test binary: it sets the process's environment, which every test in a binary shares.

use std::path::PathBuf;

use fieldbook_core::Store;
use fieldbook_desktop::commands::OpenWith;
use fieldbook_desktop::AppState;
use serde_json::json;

mod common;
use common::{wait_for_status, MockApp, Office};

use fieldbook_testkit::listing;

#[test]
fn a_wipe_order_removes_everything_of_fieldbooks_once_the_web_view_is_gone() {
    // The server's own database is elsewhere (made before TMPDIR moves into the home).
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let _in_runtime = rt.enter();
    let office = rt.block_on(Office::with_demo());
    // The store key in a key file outside the home (there is no keyring here); the wipe forgets
    // the store's protection, and the new empty store after it is protected the same way.
    let keys = tempfile::tempdir().unwrap();
    std::fs::write(keys.path().join("fieldbook.key"), "07".repeat(32)).unwrap();
    let home = tempfile::tempdir().unwrap();
    let at = |rel: &str| -> PathBuf { home.path().join(rel) };
    for d in ["data", "config", "cache", "run", "tmp"] {
        std::fs::create_dir_all(at(d)).unwrap();
    }
    // Before the app or the wipe read the environment.
    for (var, rel) in [("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"), ("XDG_RUNTIME_DIR", "run"), ("TMPDIR", "tmp")] {
        std::env::set_var(var, at(rel));
    }
    std::env::set_var("HOME", home.path());
    std::env::remove_var("FIELDBOOK_DB");
    let store_path = fieldbook_core::default_db_path();
    assert!(store_path.starts_with(home.path()));

    let code = office.write(&rt, |tx| fieldbook_server::enrolment::issue_code(tx, "li.wei", 1));
    let unlock = fieldbook_desktop::UnlockOptions { key_file: Some(keys.path().join("fieldbook.key")), passphrase: None };
    let app = MockApp::new(AppState::open(&store_path, unlock));
    app.manage(OpenWith(Box::new(|_| Ok(()))));
    let enrolled = app.invoke("enroll", json!({"server_url": office.running.url(), "code": code})).unwrap();
    wait_for_status(&app, |s| s["last_success_at"].is_string());
    // A report opened for printing (its private temporary folder), a photo, and what the web
    // view keeps (WebKitGTK's local storage and cache under the app's identifier).
    let report = app.invoke("open_report", json!({"order": "WO-1001"})).unwrap();
    assert!(report.as_str().unwrap().contains("fieldbook-reports-"), "{report}");
    for (file, body) in [
        ("data/com.fieldbook.desktop/localstorage/tauri_localhost_0.localstorage", "fieldbook.work_offline=1"),
        ("cache/com.fieldbook.desktop/WebKitCache/Version 16/Blobs/1", "a cached thumbnail"),
    ] {
        std::fs::create_dir_all(at(file).parent().unwrap()).unwrap();
        std::fs::write(at(file), body).unwrap();
    }
    std::fs::write(at("tmp/not-fieldbooks.txt"), "mine").unwrap();
    assert!(listing(home.path()).iter().any(|p| p.starts_with("run/fieldbook-reports-")));

    // The office revokes the laptop with a wipe order; the laptop hears it at its next sync.
    let device = enrolled["enrollment"]["device_id"].as_str().unwrap().to_owned();
    office.write(&rt, move |tx| fieldbook_server::devices::revoke(tx, &device, "stolen", true));
    app.invoke("sync_now", json!({})).unwrap();
    let status = wait_for_status(&app, |s| s["revocation"]["local_data"] == "wiped");
    assert_eq!(status["revocation"]["local_data"], "wiped", "{status}");
    // The window still runs: the web view may write again, so the wipe is noted for later.
    assert!(fieldbook_core::wipe::pending_marker().exists());
    // The window is closed and Fieldbook starts again: before any web view, the wipe finishes.
    drop(app);
    fieldbook_desktop::finish_pending_wipe();
    assert!(!fieldbook_core::wipe::pending_marker().exists());

    // Left: the folders themselves, what is not Fieldbook's, and the new empty store the open
    // window began (no records, not enrolled) with SQLite's journal files.
    let left: Vec<String> = listing(home.path()).into_iter().filter(|p| !p.starts_with("data/fieldbook/fieldbook.db")).collect();
    assert_eq!(left, ["cache", "config", "data", "data/fieldbook", "run", "tmp", "tmp/not-fieldbooks.txt"]);
    let fresh = Store::open(&store_path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    assert!(!fresh.sync_status().unwrap().enrolled);
    assert_eq!(fresh.connection().query_row("SELECT count(*) FROM work_orders", [], |r| r.get::<_, i64>(0)).unwrap(), 0);
    assert!(!fresh.attachments_dir().exists());
}
