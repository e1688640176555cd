//! `today_orders` over Tauri's IPC on the mock runtime, against a real temporary store.

use fieldbook_core::import::ImportDocument;
use fieldbook_core::Store;
use fieldbook_desktop::AppState;
use serde_json::{json, Value};

mod common;
use common::MockApp;

/// One customer, one site, a repair call on `day` and a patrol inspection the day after.
fn doc(day: chrono::NaiveDate) -> ImportDocument {
    let next = day.succ_opt().unwrap();
    let text = json!({
        "format": "fieldbook-import/1",
        "customers": [{ "code": "C-1", "name": "金桥国际商业广场" }],
        "sites": [{ "code": "S-1", "customer": "C-1", "name": "A 座", "address": "上海市浦东新区金桥路 1 号",
                    "region": "浦东", "zone": "urban" }],
        "work_orders": [
            { "number": "WO-TEST-0001", "kind": "repair_call", "site": "S-1", "category": "B",
              "problem": "喷淋泵压力不足", "scheduled_on": day, "reported_at": format!("{day}T01:00:00Z") },
            { "number": "WO-TEST-0002", "kind": "repair_call", "site": "S-1", "category": "A",
              "scheduled_on": next, "reported_at": format!("{next}T01:00:00Z") }
        ]
    })
    .to_string();
    ImportDocument::from_json(&text, "test.json").unwrap()
}

fn invoke(state: AppState, cmd: &str, args: Value) -> Result<Value, Value> {
    MockApp::new(state).invoke(cmd, args)
}

fn store_with(dir: &tempfile::TempDir, day: chrono::NaiveDate) -> AppState {
    let mut store = Store::open(&dir.path().join("fieldbook.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    store.import(&doc(day), "test.json").unwrap();
    AppState::new(store)
}

fn numbers(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|o| o["number"].as_str().unwrap())
        .collect()
}

#[test]
fn lists_the_orders_of_the_given_day() {
    let dir = tempfile::tempdir().unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 14).unwrap();
    let list = invoke(
        store_with(&dir, day),
        "today_orders",
        json!({ "date": "2026-03-14" }),
    )
    .unwrap();

    assert_eq!(numbers(&list), ["WO-TEST-0001"]);
    let order = &list[0];
    assert_eq!(order["kind"], "repair_call");
    assert_eq!(order["customer_name"], "金桥国际商业广场");
    assert_eq!(order["site_name"], "A 座");
    assert_eq!(order["address"], "上海市浦东新区金桥路 1 号");
    // 6 working hours in the city (the core's default policy) from the call at 01:00.
    let deadline =
        chrono::DateTime::parse_from_rfc3339(order["response_deadline"].as_str().unwrap()).unwrap();
    assert!(deadline > chrono::DateTime::parse_from_rfc3339("2026-03-14T01:00:00Z").unwrap());
}

#[test]
fn without_a_date_lists_the_local_today() {
    let dir = tempfile::tempdir().unwrap();
    let today = chrono::Local::now().date_naive();
    let list = invoke(store_with(&dir, today), "today_orders", json!({})).unwrap();
    assert_eq!(numbers(&list), ["WO-TEST-0001"]);
}

#[test]
fn a_bad_date_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 14).unwrap();
    let err = invoke(
        store_with(&dir, day),
        "today_orders",
        json!({ "date": "2026-02-30" }),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("'2026-02-30'"),
        "{err}"
    );
    // The field is named, so the UI can show the problem next to the date input.
    assert_eq!(err["problems"][0]["field"], "date", "{err}");
}

#[test]
fn a_store_that_failed_to_open_is_reported_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-database.db");
    std::fs::write(&path, "this is not SQLite, it is a shopping list").unwrap();
    let key_file = fieldbook_desktop::UnlockOptions { key_file: Some(dir.path().join("fieldbook.key")), passphrase: None };
    let err = invoke(AppState::open(&path, key_file), "today_orders", json!({})).unwrap_err();
    assert_eq!(err["kind"], "wrong_key", "{err}");
    assert_eq!(err["problems"], json!([]), "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("not-a-database.db"),
        "{err}"
    );
}

/// A store protected by a passphrase opens on the unlock screen: every command answers
/// `store_locked` until `unlock_store` gets the right passphrase; a wrong one changes nothing.
#[test]
fn a_passphrase_store_stays_locked_until_its_passphrase_is_typed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fieldbook.db");
    let pass = |p: &str| fieldbook_core::at_rest::Unlock::Passphrase(zeroize::Zeroizing::new(p.to_owned()));
    let key = fieldbook_core::at_rest::unlock(&path, &pass("陈师傅的口令 2026")).unwrap();
    drop(Store::open(&path, &key).unwrap());

    let state = AppState::open(&path, fieldbook_desktop::UnlockOptions::default());
    let err = state.store().err().expect("locked until the passphrase is typed");
    assert_eq!(err.kind(), "store_locked");
    let wrong = state.unlock_with_passphrase("wrong passphrase").unwrap_err();
    assert_eq!(wrong.kind(), "wrong_passphrase", "{wrong}");
    assert!(state.store().is_err());
    state.unlock_with_passphrase("陈师傅的口令 2026").unwrap();
    assert!(state.store().unwrap().lock().outbox_len().is_ok());

}
