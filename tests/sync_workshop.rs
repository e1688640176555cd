//! The workshop loop (#12) across a real server and a real laptop (the `fieldbook` CLI), on both
//! server backends: the technician writes the receipt of a unit taken to the workshop and syncs;
//! the office books it in, writes the repair card, checks it and books it out (the console's own
//! step function, in the server's feed transaction); the laptop pulls every step, the customer
//! signs for the return, which voids the receipt, and the server (the console's projection) sees
//! it. Pushing again changes nothing.

use fieldbook_scenarios::central::Central;
use fieldbook_scenarios::Laptop;
use fieldbook_server::console::workshop::{record_step, StepRequest};
use fieldbook_server::db::Mode;
use fieldbook_testkit::Backend;

const STROKES: &str = include_str!("../demo/fixtures/strokes.json");

fn step(name: &str) -> StepRequest {
    StepRequest { step: name.into(), minutes: None, parts: None, done: None, repaired_by: None, result: None, note: None }
}

async fn office_step(central: &Central, job: &str, req: StepRequest) {
    let job = job.to_owned();
    central.db_run(move |db| db.transaction(Mode::Feed, |tx| record_step(tx, "office.wang", &job, &req))).await.expect("the office's step");
}

async fn workshop_loop(backend: Backend) {
    let central = Central::with_demo(backend).await;
    let l = Laptop::new();
    l.json(&["init"]);
    let code = central.code_for("li.wei").await;
    l.json_async(&["enroll", "--server", &central.url(), "--code", &code]).await;
    l.json_async(&["sync"]).await;
    let strokes = l.write("strokes.json", STROKES);
    let s = strokes.to_str().unwrap().to_owned();

    l.json_async(&["arrive", "WO-1002"]).await;
    let repair = l
        .json_async(&["repair", "WO-1002", "--fault", "报警主机主板烧毁", "--cause", "雷击", "--action", "带回车间维修", "--minutes", "30",
            "--category", "A", "--workshop-receipt", "SJ-2026-0042"])
        .await;
    let repair_id = repair["id"].as_str().unwrap().to_owned();
    let job = l
        .json_async(&["workshop", "receipt", "WO-1002", "--repair", &repair_id, "--unit", "海湾 GST200 报警主机", "--serial", "GST-88121",
            "--condition", "外壳完好，主板有烧痕", "--accessories", "电源线一根", "--signer", "王经理", "--strokes", &s])
        .await;
    assert_eq!((job["stage"].as_str(), job["receipt_number"].as_str()), (Some("received"), Some("SJ-2026-0042")), "{job}");
    let job_id = job["id"].as_str().unwrap().to_owned();
    // The return cannot come before the workshop has even seen the unit.
    let early = l.run(&["workshop", "return", &job_id, "--signer", "王经理", "--strokes", &s]);
    assert!(!early.ok && early.stderr.contains("goods-out"), "{}", early.stderr);
    let pushed = l.json_async(&["sync"]).await;
    assert_eq!(pushed["rejected"].as_array().map(Vec::len).unwrap_or(0), 0, "{pushed}");
    assert_eq!(central.count("SELECT count(*) FROM workshop_index WHERE stage = 'received'").await, 1);

    // The workshop's steps, in the office.
    office_step(&central, &job_id, step("goods_in")).await;
    let card = StepRequest { minutes: Some(95), done: Some("更换主板，烤机4小时".into()), ..step("repair_card") };
    office_step(&central, &job_id, card).await;
    office_step(&central, &job_id, StepRequest { result: Some("passed".into()), ..step("check") }).await;
    office_step(&central, &job_id, step("goods_out")).await;

    // The laptop that holds the unit sees every step.
    l.json_async(&["sync"]).await;
    let shown = l.json_async(&["workshop", "show", "WO-1002"]).await;
    let j = &shown[0];
    assert_eq!((j["stage"].as_str(), j["repair_minutes"].as_i64(), j["check_result"].as_str()), (Some("goods_out"), Some(95), Some("passed")), "{j}");
    assert_eq!((j["goods_in_by"].as_str(), j["goods_out_by"].as_str()), (Some("office.wang"), Some("office.wang")));
    assert!(j["receipt_voided_at"].is_null());

    // Back at the customer's: the signature voids the receipt.
    let back = l.json_async(&["workshop", "return", &job_id, "--signer", "王经理", "--strokes", &s]).await;
    assert_eq!(back["stage"], "returned");
    assert!(back["receipt_voided_at"].is_string());
    let pushed = l.json_async(&["sync"]).await;
    assert_eq!(pushed["rejected"].as_array().map(Vec::len).unwrap_or(0), 0, "{pushed}");
    assert_eq!(central.count("SELECT count(*) FROM workshop_index WHERE stage = 'returned' AND still_open = 0").await, 1, "the console sees it returned");
    let voided = central.count("SELECT count(*) FROM records WHERE entity = 'workshop_jobs' AND fields LIKE '%receipt_voided_at\":\"20%'").await;
    assert_eq!(voided, 1, "the receipt is void on the server");
    let feed = central.count("SELECT count(*) FROM feed").await;
    l.json_async(&["sync"]).await;
    assert_eq!(central.count("SELECT count(*) FROM feed").await, feed, "a repeated sync applies nothing twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_workshop_loop_on_sqlite() {
    workshop_loop(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_workshop_loop_on_postgres() {
    workshop_loop(Backend::Postgres).await;
}
