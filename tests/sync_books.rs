//! The office keeps the books (#12), end to end on both server backends: the office corrects a
//! customer's phone and the technician's laptop (the real `fieldbook` binary) has it after its
//! next sync; the technician, offline on site, proposes a correction of an asset's serial; back
//! online it reaches the office, which confirms it; the corrected asset and the decision reach
//! the laptop at the sync after. The office's writes are the console's own functions in the
//! server's feed transaction (the HTTP side is `crates/fieldbook-server/tests/books.rs`).

use fieldbook_scenarios::central::Central;
use fieldbook_scenarios::Laptop;
use fieldbook_server::console::books;
use fieldbook_server::db::Mode;
use fieldbook_testkit::Backend;
use serde_json::{json, Value};

fn customer_of(show: &Value) -> &Value {
    &show["customer"]
}

async fn books_reach_the_laptop(backend: Backend) {
    let mut central = Central::with_demo(backend).await;
    let laptop = Laptop::new();
    laptop.json(&["init"]);
    let code = central.code_for("li.wei").await;
    let url = central.url();
    let l = &laptop;
    l.json_async(&["enroll", "--server", &url, "--code", &code]).await;
    l.json_async(&["sync"]).await;
    let before = l.json_async(&["show", "WO-1002"]).await;
    assert_eq!(customer_of(&before)["phone"], "+86 21 6789 4321");
    let customer = customer_of(&before)["id"].as_str().unwrap().to_owned();

    // The office edits the phone in the console.
    let c = customer.clone();
    central
        .db_run(move |db| {
            db.transaction(Mode::Feed, |tx| {
                let input = json!({"phone": "+86 21 6789 5555"}).as_object().unwrap().clone();
                books::save(tx, "office.wang", "customers", Some(&c), &input)
            })
        })
        .await
        .unwrap();
    let synced = l.json_async(&["sync"]).await;
    assert!(synced["pulled"].as_u64().unwrap() >= 1, "{synced}");
    assert_eq!(customer_of(&l.json_async(&["show", "WO-1002"]).await)["phone"], "+86 21 6789 5555", "the console's edit reached the laptop");

    // Offline on site: the pump's name plate says another serial.
    central.stop().await;
    let proposed = l
        .json_async(&["correct", "WO-1002", "--record-entity", "assets", "--record", "XH-PUMP-01", "--field", "serial", "--value", "LB-2022-1121", "--note", "铭牌 / name plate"])
        .await;
    assert_eq!((proposed["status"].as_str(), proposed["old_value"].as_str()), (Some("pending"), Some("LB-2022-1120")), "{proposed}");
    let refused = laptop.run(&["correct", "WO-1002", "--record-entity", "assets", "--record", "XH-PUMP-01", "--field", "warranty_ends", "--value", "2030-01-01"]);
    assert!(!refused.ok && refused.stderr.contains("cannot be corrected from site"), "{}", refused.stderr);
    let shown = l.json_async(&["show", "WO-1002"]).await;
    let pump = shown["assets"].as_array().unwrap().iter().find(|a| a["code"] == "XH-PUMP-01").unwrap().clone();
    assert_eq!(pump["serial"], "LB-2022-1120", "the laptop's record waits for the office");

    // Back online: the office sees it and confirms.
    central.restart().await;
    let pushed = l.json_async(&["sync"]).await;
    assert_eq!(pushed["rejected"].as_array().map(Vec::len).unwrap_or(0), 0, "{pushed}");
    let id = proposed["id"].as_str().unwrap().to_owned();
    let pending = central.db_run(|db| db.transaction(Mode::Read, |tx| books::corrections_of(tx, "pending"))).await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!((pending[0]["id"].as_str(), pending[0]["current_value"].as_str()), (Some(id.as_str()), Some("LB-2022-1120")));
    central
        .db_run(move |db| {
            db.transaction(Mode::Feed, |tx| books::decide(tx, "office.wang", &id, &books::Decision { decision: "confirm".into(), note: None }))
        })
        .await
        .unwrap();

    l.json_async(&["sync"]).await;
    let after = l.json_async(&["show", "WO-1002"]).await;
    let pump = after["assets"].as_array().unwrap().iter().find(|a| a["code"] == "XH-PUMP-01").unwrap().clone();
    assert_eq!(pump["serial"], "LB-2022-1121", "the confirmed correction reached the laptop");
    assert_eq!(after["corrections"][0]["status"], "confirmed", "{after}");
    assert_eq!(after["corrections"][0]["decided_by"], "office.wang");
    assert_eq!(l.json_async(&["status"]).await["pending_changes"], 0);
    central.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn books_reach_the_laptop_on_sqlite() {
    books_reach_the_laptop(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn books_reach_the_laptop_on_postgres() {
    books_reach_the_laptop(Backend::Postgres).await
}
