//! The day the system exists for, on both server backends: the office dispatches work on the
//! server; the technician's laptop pulls it, goes offline, inspects, repairs and takes
//! signatures; comes back online and pushes. The server then holds exactly the signed records,
//! a second laptop that pulls them verifies them intact, and pushing again changes nothing.

use fieldbook_scenarios::central::Central;
use fieldbook_scenarios::Laptop;
use fieldbook_testkit::Backend;

const STROKES: &str = include_str!("../demo/fixtures/strokes.json");
const ANSWERS: &str = include_str!("../demo/fixtures/inspection-wo-1001.json");

async fn offline_day(backend: Backend) {
    let mut central = Central::with_demo(backend).await;
    let laptop = Laptop::new();
    laptop.json(&["init"]);
    let code = central.code_for("li.wei").await;
    let url = central.url();
    let l = &laptop;
    l.json_async(&["enroll", "--server", &url, "--code", &code]).await;
    let first = l.json_async(&["sync"]).await;
    assert!(first["pulled"].as_u64().unwrap() > 0, "{first}");
    let today = l.json_async(&["orders"]).await;
    let numbers: Vec<&str> = today.as_array().unwrap().iter().map(|o| o["number"].as_str().unwrap()).collect();
    assert!(numbers.contains(&"WO-1001") && numbers.contains(&"WO-1002"), "li.wei's dispatched work arrived: {numbers:?}");
    assert!(!numbers.contains(&"WO-1004"), "zhang.min's order is not on li.wei's laptop");

    // Offline from here: the server is gone, the work goes on.
    central.stop().await;
    let answers = laptop.write("answers.json", ANSWERS);
    let strokes = laptop.write("strokes.json", STROKES);
    let (a, s) = (answers.to_str().unwrap().to_owned(), strokes.to_str().unwrap().to_owned());
    for args in [
        vec!["arrive", "WO-1001"],
        vec!["answer", "WO-1001", "--file", &a],
        vec!["complete", "WO-1001"],
        vec!["sign", "WO-1001", "--signer", "陈建国", "--strokes", &s],
        vec!["rate", "WO-1001", "--attitude", "4", "--skill", "4", "--arrival", "4", "--promise", "4"],
        vec!["arrive", "WO-1002"],
        vec!["repair", "WO-1002", "--fault", "泵体漏水", "--cause", "机械密封磨损", "--action", "更换机械密封", "--minutes", "95",
             "--category", "A", "--part", "SEAL-PUMP-45=1+returned", "--fee", "560", "--fee-collected"],
        vec!["complete", "WO-1002"],
        vec!["sign", "WO-1002", "--signer", "王工", "--strokes", &s],
    ] {
        l.json_async(&args).await;
    }
    let offline = laptop.run(&["sync"]);
    assert!(!offline.ok && offline.stderr.contains("cannot reach the server"), "{}", offline.stderr);
    let pending = l.json_async(&["status"]).await["pending_changes"].as_i64().unwrap();
    assert!(pending > 20, "the offline work waits in the outbox: {pending}");

    // Back online.
    central.restart().await;
    let pushed = l.json_async(&["sync"]).await;
    assert_eq!(pushed["pushed"].as_i64().unwrap(), pending, "{pushed}");
    assert_eq!(pushed["rejected"].as_array().map(Vec::len).unwrap_or(0), 0, "{pushed}");
    assert_eq!(l.json_async(&["status"]).await["pending_changes"], 0);

    assert_eq!(central.count("SELECT count(*) FROM records WHERE entity = 'signatures'").await, 2, "exactly the two signatures");
    let answered = serde_json::from_str::<serde_json::Value>(ANSWERS).unwrap().as_array().unwrap().len() as i64;
    assert_eq!(central.count("SELECT count(*) FROM records WHERE entity = 'inspection_answers'").await, answered);
    assert_eq!(central.count("SELECT count(*) FROM records WHERE entity = 'repair_records'").await, 1);
    let signed = central.count("SELECT count(*) FROM records WHERE entity = 'work_orders' AND fields LIKE '%\"status\":\"signed\"%'").await;
    assert_eq!(signed, 2);
    let feed_before = central.count("SELECT count(*) FROM feed").await;

    // Pushing again (nothing pending) and a second full sync change nothing on the server.
    l.json_async(&["sync"]).await;
    assert_eq!(central.count("SELECT count(*) FROM feed").await, feed_before, "a repeated sync applies nothing twice");

    // What the server holds verifies intact on another laptop that pulls it.
    let office_copy = Laptop::new();
    office_copy.json(&["init"]);
    let code = central.code_for("li.wei").await;
    office_copy.json_async(&["enroll", "--server", &url, "--code", &code]).await;
    office_copy.json_async(&["sync"]).await;
    for order in ["WO-1001", "WO-1002"] {
        let v = office_copy.json_async(&["verify", order]).await;
        assert_eq!(v["intact"], true, "{order}: {v}");
    }
    central.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_day_on_sqlite() {
    offline_day(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_day_on_postgres() {
    offline_day(Backend::Postgres).await
}
