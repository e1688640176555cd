//! The workshop loop (#12) against the real server, on SQLite and on PostgreSQL: a real laptop
//! store writes the receipt of a unit taken to the workshop, the console books it in, writes the
//! repair card, checks it (sent back once, then passed) and books it out, each step out of order
//! refused; the laptop pulls every step, the customer signs for the return, which voids the
//! receipt, and the console sees it. The attacker's side: another technician's order, a forged
//! author, the office's steps written from a laptop, a receipt voided without the customer's
//! signature or before goods-out, a signed return changed.

mod common;

use common::{both, id, laptop_store, pull_into, push_from, Backend, Console, Laptop, TestServer};
use fieldbook_core::model::{Category, NewRepairRecord, StrokePoint};
use fieldbook_core::store::workshop::{NewReceipt, ReturnSignature};
use fieldbook_core::workshop::Stage;
use fieldbook_server::users;
use reqwest::Method;
use serde_json::{json, Value};

both!(
    a_unit_goes_through_the_workshop_loop_and_every_step_reaches_the_laptop,
    a_laptop_cannot_write_the_workshops_steps_or_void_a_receipt_unsigned,
    a_return_stamped_in_the_past_cannot_void_a_receipt_unsigned,
);

async fn office(s: &TestServer) -> Console {
    Console::as_role(s, "office.wang", users::Role::Office).await
}

fn strokes() -> Vec<Vec<StrokePoint>> {
    vec![vec![StrokePoint { x: 10.0, y: 40.0, t: 0 }, StrokePoint { x: 60.0, y: 12.0, t: 80 }]]
}

async fn a_unit_goes_through_the_workshop_loop_and_every_step_reaches_the_laptop(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut store, token) = laptop_store(&s, dir.path(), "li.wei").await;
    let repair = store
        .add_repair("WO-1002", &NewRepairRecord {
            asset_id: None, fault: "报警主机主板烧毁 / the panel's main board burnt".into(), cause: "雷击 / lightning".into(),
            action: "带回车间 / taken to the workshop".into(), parts: vec![], labour_minutes: 30, category: Category::Paid, fee_cents: 0,
            fee_collected: false, taken_to_workshop: true, receipt_number: Some("SJ-2026-0042".into()),
        })
        .unwrap();
    let job = store
        .workshop_receipt("WO-1002", &NewReceipt {
            repair_record_id: repair.id.clone(), receipt_number: None, unit: "海湾 GST200 报警主机".into(), serial: Some("GST-88121".into()),
            condition: "外壳完好，主板有烧痕 / case fine, board burnt".into(), accessories: Some("电源线 / mains lead".into()),
            signer_name: "王经理".into(), strokes: strokes(),
        })
        .unwrap();
    push_from(&s, &token, &mut store).await;

    let page = c.get("/console/api/workshop").await;
    assert_eq!(page["open"], 1, "{page}");
    let it = &page["items"][0];
    assert_eq!((it["id"].as_str(), it["stage"].as_str(), it["receipt_number"].as_str()), (Some(job.id.as_str()), Some("received"), Some("SJ-2026-0042")));
    assert_eq!((it["number"].as_str(), it["technician"].as_str()), (Some("WO-1002"), Some("li.wei")));
    let path = format!("/console/api/workshop/{}", job.id);
    let d = c.get(&path).await;
    assert_eq!(d["repair_fault"], "报警主机主板烧毁 / the panel's main board burnt");
    assert_eq!(d["job"]["receipt_signer"], "王经理");
    assert_eq!(d["next_steps"], json!(["goods_in"]));
    assert!(d["receipt_strokes"].is_array());

    let steps = format!("{path}/steps");
    let step = |body: Value| {
        let (c, steps) = (&c, steps.clone());
        async move { c.send(Method::POST, &steps, body).await }
    };
    // Out of order: refused, saying what comes first.
    let r = step(json!({"step": "repair_card", "minutes": 90, "done": "换主板"})).await;
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("goods-in"), "{body}");
    assert_eq!(step(json!({"step": "goods_out"})).await.status(), 409);
    assert_eq!(step(json!({"step": "return"})).await.status(), 400, "the return is the laptop's");
    assert_eq!(step(json!({"step": "sideways"})).await.status(), 400);

    let d: Value = step(json!({"step": "goods_in"})).await.json().await.unwrap();
    assert_eq!((d["job"]["stage"].as_str(), d["job"]["goods_in_by"].as_str()), (Some("in_workshop"), Some("office.wang")));
    assert_eq!(step(json!({"step": "goods_in"})).await.status(), 409, "booked in once");
    assert_eq!(step(json!({"step": "check", "result": "passed"})).await.status(), 409, "nothing to check yet");
    assert_eq!(step(json!({"step": "repair_card", "minutes": 0, "done": "x"})).await.status(), 400);
    assert_eq!(step(json!({"step": "repair_card", "minutes": 90, "done": "  "})).await.status(), 400);
    assert_eq!(step(json!({"step": "repair_card", "minutes": 90, "done": "x", "parts": [{"part_id": "no-such", "name": "", "quantity": 1}]})).await.status(), 400);
    let card = json!({"step": "repair_card", "minutes": 95, "done": "更换主板并烤机4小时 / new main board, 4 h burn-in", "repaired_by": "车间 陈师傅",
        "parts": [{"name": "GST200 主板", "quantity": 1}]});
    let d: Value = step(card.clone()).await.json().await.unwrap();
    assert_eq!((d["job"]["stage"].as_str(), d["job"]["repair_minutes"].as_i64()), (Some("repaired"), Some(95)));
    assert_eq!(d["job"]["repair_parts"][0]["name"], "GST200 主板");
    assert_eq!(step(json!({"step": "goods_out"})).await.status(), 409, "not checked yet");
    assert_eq!(step(json!({"step": "check", "result": "sent_back"})).await.status(), 400, "sending back needs a note");
    assert_eq!(step(json!({"step": "check", "result": "maybe"})).await.status(), 400);
    let d: Value = step(json!({"step": "check", "result": "sent_back", "note": "烤机时间不足 / burn-in too short"})).await.json().await.unwrap();
    assert_eq!(d["job"]["stage"], "sent_back");
    assert_eq!(d["next_steps"], json!(["repair_card"]));
    assert_eq!(step(json!({"step": "check", "result": "passed"})).await.status(), 409, "a new repair card first");
    step(card).await;
    let d: Value = step(json!({"step": "check", "result": "passed"})).await.json().await.unwrap();
    assert_eq!((d["job"]["stage"].as_str(), d["job"]["checked_by"].as_str()), (Some("passed"), Some("office.wang")));
    assert!(d["job"]["check_note"].is_null(), "the note is the last check's");
    let trail = c.get(&format!("/console/api/audit?work_order_id={}", id("work_orders", "WO-1002"))).await;
    assert!(trail.to_string().contains("烤机时间不足"), "the send-back and its note stay in the audit trail: {trail}");

    // The laptop pulls the steps so far; it may not return the unit before goods-out.
    pull_into(&s, &token, &mut store).await;
    let mine = store.workshop_job(&job.id).unwrap();
    assert_eq!((mine.stage, mine.repair_minutes), (Stage::Passed, Some(95)));
    let sign = ReturnSignature { signer_name: "王经理".into(), strokes: strokes() };
    let err = store.workshop_return(&job.id, &sign).unwrap_err();
    assert!(err.to_string().contains("goods-out"), "{err}");

    let d: Value = step(json!({"step": "goods_out"})).await.json().await.unwrap();
    assert_eq!(d["job"]["stage"], "goods_out");
    assert_eq!(d["next_steps"], json!([]));
    pull_into(&s, &token, &mut store).await;
    let back = store.workshop_return(&job.id, &sign).unwrap();
    assert_eq!(back.stage, Stage::Returned);
    push_from(&s, &token, &mut store).await;

    let d = c.get(&path).await;
    assert_eq!(d["job"]["stage"], "returned");
    assert_eq!(d["job"]["receipt_voided_at"], d["job"]["returned_at"]);
    assert!(d["return_strokes"].is_array());
    let open = c.get("/console/api/workshop").await;
    assert_eq!((open["open"].as_i64(), open["items"].as_array().unwrap().len()), (Some(0), 0), "returned units leave the open list");
    let returned = c.get("/console/api/workshop?state=returned").await;
    assert_eq!(returned["items"][0]["id"], job.id.as_str());
    assert_eq!(c.send(Method::GET, "/console/api/workshop?state=lost", json!({})).await.status(), 400);
    assert_eq!(step(json!({"step": "goods_in"})).await.status(), 409, "a returned unit takes no more steps");
    let trail = c.get(&format!("/console/api/audit?work_order_id={}", id("work_orders", "WO-1002"))).await;
    let actions: Vec<&str> = trail["items"].as_array().unwrap().iter().filter_map(|i| i["action"].as_str()).collect();
    for a in ["workshop_goods_in", "workshop_repair_card", "workshop_check", "workshop_goods_out"] {
        assert!(actions.contains(&a), "{a} audited: {actions:?}");
    }
    let csv = c.req(Method::GET, "/console/api/workshop?state=all&format=csv&lang=zh").send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("收据号") && csv.contains("SJ-2026-0042"), "{csv}");
}

fn receipt(order: &str, repair: &str, by: &str, extra: Value) -> Value {
    let mut e = json!({"work_order_id": order, "repair_record_id": repair, "receipt_number": "SJ-1", "unit": "GST200", "condition": "ok",
        "received_at": "2026-03-02T08:00:00.000Z", "received_by": by, "receipt_signer": "王经理", "deleted": false});
    e.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    e
}

async fn a_laptop_cannot_write_the_workshops_steps_or_void_a_receipt_unsigned(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let mut zhang = Laptop::enroll(&s, "zhang.min").await;
    let (li_order, zhang_order) = (id("work_orders", "WO-1002"), id("work_orders", "WO-1004"));
    let (li_repair, zhang_repair) = ("rr-li".to_owned(), "rr-zhang".to_owned());
    let rr = li.entry("repair_records", &li_repair, common::repair_record(&li_order, json!({"taken_to_workshop": true})));
    assert!(li.push(&s, &[rr]).await.rejected.is_empty());
    let rr = zhang.entry("repair_records", &zhang_repair, common::repair_record(&zhang_order, json!({"taken_to_workshop": true})));
    assert!(zhang.push(&s, &[rr]).await.rejected.is_empty());
    let strokes = json!([[{"x": 1.0, "y": 2.0, "t": 0}, {"x": 5.0, "y": 9.0, "t": 40}]]);

    let attempts = [
        ("another technician's order", li.entry("workshop_jobs", "x1", receipt(&zhang_order, &zhang_repair, "li.wei", json!({})))),
        ("a forged received_by", li.entry("workshop_jobs", "x2", receipt(&li_order, &li_repair, "zhang.min", json!({})))),
        ("a repair of another order", li.entry("workshop_jobs", "x3", receipt(&li_order, &zhang_repair, "li.wei", json!({})))),
        ("the workshop's goods-in", li.entry("workshop_jobs", "x4", receipt(&li_order, &li_repair, "li.wei", json!({"goods_in_at": "2026-03-02T09:00:00.000Z"})))),
        ("the supervisor's check", li.entry("workshop_jobs", "x5", receipt(&li_order, &li_repair, "li.wei", json!({"check_result": "passed", "checked_by": "li.wei"})))),
        ("a receipt voided at once", li.entry("workshop_jobs", "x6", receipt(&li_order, &li_repair, "li.wei", json!({"receipt_voided_at": "2026-03-02T09:00:00.000Z"})))),
        ("a return before goods-out", li.entry("workshop_jobs", "x7", receipt(&li_order, &li_repair, "li.wei", json!({"returned_at": "2026-03-02T09:00:00.000Z",
            "return_signer": "王经理", "return_strokes": strokes, "receipt_voided_at": "2026-03-02T09:00:00.000Z"})))),
        ("no one acknowledging the receipt", li.entry("workshop_jobs", "x8", receipt(&li_order, &li_repair, "li.wei", json!({"receipt_signer": null})))),
    ];
    for (what, entry) in attempts {
        let r = li.push(&s, &[entry]).await;
        assert_eq!(r.rejected.len(), 1, "{what} is refused: {r:?}");
    }
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM workshop_index").await, 0, "nothing of them reached the console");

    // A good receipt; the laptop then tries a second one for the same unit, the office's steps
    // and an unsigned void.
    let good = li.entry("workshop_jobs", "j1", receipt(&li_order, &li_repair, "li.wei", json!({})));
    assert!(li.push(&s, &[good]).await.rejected.is_empty());
    let twice = li.entry("workshop_jobs", "j2", receipt(&li_order, &li_repair, "li.wei", json!({})));
    let r = li.push(&s, &[twice]).await;
    assert!(r.rejected.len() == 1 && r.rejected[0].reason.contains("already has an open workshop receipt"), "{r:?}");
    for (what, fields) in [
        ("goods-in", json!({"goods_in_at": "2026-03-02T09:00:00.000Z", "goods_in_by": "li.wei"})),
        ("a repair card", json!({"repair_minutes": 5, "repair_done": "fixed", "repaired_at": "2026-03-02T09:00:00.000Z"})),
        ("goods-out", json!({"goods_out_at": "2026-03-02T10:00:00.000Z"})),
        ("a changed receipt", json!({"condition": "it was broken when I got it"})),
        ("a void without a signature", json!({"receipt_voided_at": "2026-03-02T10:00:00.000Z"})),
        ("a void with an empty pad", json!({"returned_at": "2026-03-02T10:00:00.000Z", "return_signer": "王经理", "return_strokes": [[]], "receipt_voided_at": "2026-03-02T10:00:00.000Z"})),
    ] {
        let e = li.entry("workshop_jobs", "j1", fields);
        let r = li.push(&s, &[e]).await;
        assert_eq!(r.rejected.len(), 1, "{what} is refused: {r:?}");
    }
    let c = office(&s).await;
    let d = c.get("/console/api/workshop/j1").await;
    assert_eq!(d["job"]["stage"], "received", "{d}");
    assert!(d["job"]["receipt_voided_at"].is_null());

    // The office takes it through; a signed return is accepted once and never changes.
    for body in [json!({"step": "goods_in"}), json!({"step": "repair_card", "minutes": 30, "done": "换保险丝"}), json!({"step": "check", "result": "passed"}), json!({"step": "goods_out"})] {
        assert_eq!(c.send(Method::POST, "/console/api/workshop/j1/steps", body.clone()).await.status(), 200, "{body}");
    }
    let unsigned_void = li.entry("workshop_jobs", "j1", json!({"returned_at": "2026-03-02T10:00:00.000Z", "return_signer": "王经理", "receipt_voided_at": "2026-03-02T10:00:00.000Z"}));
    assert_eq!(li.push(&s, &[unsigned_void]).await.rejected.len(), 1, "no strokes, no void");
    let signed = li.entry("workshop_jobs", "j1", json!({"returned_at": "2026-03-02T10:00:00.000Z", "return_signer": "王经理", "return_strokes": strokes, "receipt_voided_at": "2026-03-02T10:00:00.000Z"}));
    let r = li.push(&s, &[signed]).await;
    assert!(r.rejected.is_empty(), "{r:?}");
    let changed = li.entry("workshop_jobs", "j1", json!({"return_signer": "someone else"}));
    let r = li.push(&s, &[changed]).await;
    assert_eq!(r.rejected.len(), 1, "{r:?}");
    assert!(r.rejected[0].reason.contains("never changes"), "{:?}", r.rejected);
    assert_eq!(c.get("/console/api/workshop/j1").await["job"]["return_signer"], "王经理");

    // Only the order's technician's laptop receives the job.
    assert!(zhang.pull_all(&s).await.iter().all(|ch| ch.entity != "workshop_jobs"), "another technician's unit is not sent to zhang.min");
    assert!(li.pull_all(&s).await.iter().any(|ch| ch.entity == "workshop_jobs" && ch.record_id == "j1"));
    // A device token is no console session.
    let r = s.req(Method::POST, "/console/api/workshop/j1/steps").header("X-Fieldbook-Console", "1").bearer_auth(&li.token).json(&json!({"step": "goods_in"})).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

/// An attacker who reads the merge: the return's signer and strokes nulled early with a current
/// stamp, then after goods-out a return stamped long ago, so that the signer and strokes would
/// lose the merge while the void (never stamped before) wins. The server judges the job as the
/// merge will leave it: refused, and the receipt stays valid.
async fn a_return_stamped_in_the_past_cannot_void_a_receipt_unsigned(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let order = id("work_orders", "WO-1002");
    let rr = li.entry("repair_records", "rr-li", common::repair_record(&order, json!({"taken_to_workshop": true})));
    assert!(li.push(&s, &[rr]).await.rejected.is_empty());
    let receipt = li.entry("workshop_jobs", "j1", receipt(&order, "rr-li", "li.wei", json!({"return_signer": null, "return_strokes": null})));
    assert!(li.push(&s, &[receipt]).await.rejected.is_empty());
    let c = office(&s).await;
    for body in [json!({"step": "goods_in"}), json!({"step": "repair_card", "minutes": 30, "done": "换保险丝"}), json!({"step": "check", "result": "passed"}), json!({"step": "goods_out"})] {
        assert_eq!(c.send(Method::POST, "/console/api/workshop/j1/steps", body.clone()).await.status(), 200, "{body}");
    }
    let strokes = json!([[{"x": 1.0, "y": 2.0, "t": 0}, {"x": 5.0, "y": 9.0, "t": 40}]]);
    let mut back = li.entry("workshop_jobs", "j1", json!({"returned_at": "2026-03-02T10:00:00.000Z", "return_signer": "王经理", "return_strokes": strokes, "receipt_voided_at": "2026-03-02T10:00:00.000Z"}));
    back.hlc = fieldbook_core::hlc::Hlc::new(1, 0, li.device_id.clone()).to_string();
    let r = li.push(&s, &[back]).await;
    assert_eq!(r.rejected.len(), 1, "a return whose signature would lose the merge is refused: {r:?}");
    let d = c.get("/console/api/workshop/j1").await;
    assert_eq!(d["job"]["stage"], "goods_out", "{d}");
    assert!(d["job"]["receipt_voided_at"].is_null(), "the receipt is still valid: {d}");
    // The same return stamped now: taken, signed.
    let back = li.entry("workshop_jobs", "j1", json!({"returned_at": "2026-03-02T10:00:00.000Z", "return_signer": "王经理", "return_strokes": strokes, "receipt_voided_at": "2026-03-02T10:00:00.000Z"}));
    assert!(li.push(&s, &[back]).await.rejected.is_empty());
    let d = c.get("/console/api/workshop/j1").await;
    assert_eq!((d["job"]["stage"].as_str(), d["job"]["return_signer"].as_str()), (Some("returned"), Some("王经理")), "{d}");
}
