//! "Signed means locked, checked by the server" (issue 10, findings 3 and 12), from the
//! attacker's side, on SQLite and on PostgreSQL. An enrolled laptop with its own key tries to
//! change a signed order with a revision bump, to mark an order signed with a signature of other
//! records, another order or another revision, and to show another signer than the one who
//! signed; the office console must show a signed order whose records changed as changed. A real
//! laptop store signs, amends and signs again, to show the honest path is what the server accepts.

mod common;
use common::both;

use common::{id, records_now, Console, signable, Backend, Laptop, TestServer, pull_into, push_from};
use fieldbook_core::model::{Category, NewRepairRecord, PartUsed, Status};
use fieldbook_core::signature::canonical_json;
use fieldbook_core::store::SignRequest;
use fieldbook_core::sync::protocol::{EnrollRequest, EnrollResponse, PushEntry, PushResponse};
use reqwest::Method;
use serde_json::{json, Value};

both!(
    a_real_laptop_signs_amends_and_signs_again,
    a_signed_order_is_not_edited_with_a_revision_bump,
    signed_status_needs_a_signature_of_these_records,
    the_signer_shown_is_the_signer_signed,
    the_console_shows_records_changed_since_signing,
);

// ---------------------------------------------------------------------------------------------
// Helpers

/// A signature entry over `content` (a JSON document, canonicalised here and signed with the
/// laptop's key) whose row shows the signer of `Laptop::signature`.
fn signature_over(li: &mut Laptop, order_id: &str, revision: i64, content: &Value) -> PushEntry {
    li.signature(order_id, revision, &canonical_json(content))
}

/// The office's console, li.wei's laptop, and WO-1002 with a repair, completed and ready to sign.
async fn completed_job(s: &TestServer) -> (Console, Laptop, String) {
    let office = Console::as_role(s, "office.wang", fieldbook_server::users::Role::Office).await;
    let mut li = Laptop::enroll(s, "li.wei").await;
    li.pull_all(s).await;
    let order = id("work_orders", "WO-1002");
    completed_repair(s, &mut li, &order, "rr-1").await;
    (office, li, order)
}

/// A repair job done on `order`, completed, pushed.
async fn completed_repair(s: &TestServer, li: &mut Laptop, order: &str, repair_id: &str) {
    let repair = json!({"work_order_id": order, "fault": "泄漏", "cause": "密封老化", "action": "更换机械密封", "labour_minutes": 90, "category": "A",
        "parts": [{"sku": "SEAL-PUMP-45", "quantity": 1}], "recorded_at": "2026-03-02T09:00:00.000Z", "deleted": false});
    let entries = [
        li.entry("repair_records", repair_id, repair),
        li.entry("work_orders", order, json!({"status": "completed", "completed_at": "2026-03-02T09:30:00+08:00"})),
    ];
    let r = li.push(s, &entries).await;
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
}

/// Signs `order` as it stands on the server and marks it signed; both accepted.
async fn sign_honestly(s: &TestServer, li: &mut Laptop, order: &str, revision: i64) {
    let entries = [li.signature(order, revision, &signable(s, order).await), li.entry("work_orders", order, json!({"status": "signed"}))];
    let r = li.push(s, &entries).await;
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!(s.record("work_orders", order).await.unwrap()["status"], "signed");
}

/// The signature of the order's latest revision as the console checks it (the orders here have
/// a signature of their current revision).
async fn console_check(office: &Console, order: &str) -> Value {
    let detail = office.get(&format!("/console/api/work-orders/{}", order)).await;
    detail["signatures"].as_array().unwrap().iter().max_by_key(|c| c["revision"].as_i64()).cloned().expect("a signature")
}

fn reasons(r: &PushResponse) -> Vec<&str> {
    r.rejected.iter().map(|x| x.reason.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// The honest path: a real laptop store



/// The laptop's own signing, amendment and signing again are all accepted, and the server, the
/// console and the laptop agree that the records are as signed: the laptop's snapshot and the
/// server's check are the same function.
async fn a_real_laptop_signs_amends_and_signs_again(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let office = Console::as_role(&s, "office.wang", fieldbook_server::users::Role::Office).await;
    let dir = tempfile::tempdir().unwrap();
    let mut store = fieldbook_core::Store::open(&dir.path().join("laptop.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    let code = s.code_for("li.wei").await;
    let req = EnrollRequest { code, device_id: store.device().id.clone(), public_key: store.device().public_key_hex(), device_name: Some("ThinkPad".into()) };
    let enrolled: EnrollResponse = s.req(Method::POST, "/api/enroll").json(&req).send().await.unwrap().json().await.unwrap();
    store.set_enrolment(&s.url, &enrolled.device_token, &enrolled.technician).unwrap();
    let token = enrolled.device_token;
    pull_into(&s, &token, &mut store).await;

    let sign = SignRequest {
        signer_name: "陈建国".into(),
        signer_title: Some("物业工程部经理".into()),
        strokes: vec![vec![
            fieldbook_core::model::StrokePoint { x: 10.5, y: 40.25, t: 0 },
            fieldbook_core::model::StrokePoint { x: 60.0, y: 12.0, t: 80 },
        ]],
    };
    // An inspection (template, answers on every asset) and a repair (parts, fees).
    store.set_status("WO-1001", Status::OnSite).unwrap();
    let answers: Vec<fieldbook_core::store::AnswerInput> = serde_json::from_str(include_str!("../../../demo/fixtures/inspection-wo-1001.json")).unwrap();
    store.record_answers("WO-1001", &answers).unwrap();
    store.complete("WO-1001").unwrap();
    store.sign("WO-1001", &sign).unwrap();
    store.set_status("WO-1002", Status::OnSite).unwrap();
    let repair = NewRepairRecord {
        asset_id: Some(id("assets", "XH-PUMP-01")), fault: "泵体漏水".into(), cause: "机械密封磨损".into(), action: "更换机械密封并试压".into(),
        parts: vec![PartUsed { sku: "SEAL-PUMP-45".into(), quantity: 1, serials: vec![], faulty_returned: true }],
        labour_minutes: 95, category: Category::Paid, fee_cents: 56000, fee_collected: true, taken_to_workshop: false, receipt_number: None,
    };
    store.add_repair("WO-1002", &repair).unwrap();
    store.complete("WO-1002").unwrap();
    store.sign("WO-1002", &sign).unwrap();
    push_from(&s, &token, &mut store).await;
    for n in ["WO-1001", "WO-1002"] {
        let order = id("work_orders", n);
        assert_eq!(s.record("work_orders", &order).await.unwrap()["status"], "signed", "{n}");
        let c = console_check(&office, &order).await;
        assert_eq!((c["signature_ok"].as_bool(), c["signer_ok"].as_bool(), c["records_match"].as_bool()), (Some(true), Some(true), Some(true)), "{n}: {c}");
    }

    // The amendment as the laptop makes it, then a change and a new signature.
    store.amend("WO-1002", "漏记一个备件 / a part was not recorded").unwrap();
    push_from(&s, &token, &mut store).await;
    let order = id("work_orders", "WO-1002");
    let o = s.record("work_orders", &order).await.unwrap();
    assert_eq!((o["status"].as_str(), o["revision"].as_i64()), (Some("on_site"), Some(2)), "out of signed at the new revision");
    store.add_repair("WO-1002", &NewRepairRecord { action: "更换压力表".into(), parts: vec![], fee_cents: 0, fee_collected: false, ..repair }).unwrap();
    store.complete("WO-1002").unwrap();
    store.sign("WO-1002", &sign).unwrap();
    push_from(&s, &token, &mut store).await;
    assert_eq!(s.record("work_orders", &order).await.unwrap()["status"], "signed");
    let detail = office.get(&format!("/console/api/work-orders/{}", &order)).await;
    let checks: Vec<(i64, Value)> = detail["signatures"].as_array().unwrap().iter().map(|c| (c["revision"].as_i64().unwrap(), c["records_match"].clone())).collect();
    assert_eq!(checks, [(1, Value::Null), (2, json!(true))], "revision 1 is kept, revision 2 covers the records");
    pull_into(&s, &token, &mut store).await;
    assert!(store.verify("WO-1002").unwrap().intact);
}

// ---------------------------------------------------------------------------------------------
// Attacks

/// Finding 3: on a signed order any entry bumping `revision` was accepted with any other fields,
/// and the status stayed `signed` with no new signature.
async fn a_signed_order_is_not_edited_with_a_revision_bump(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let (office, mut li, order) = completed_job(&s).await;
    sign_honestly(&s, &mut li, &order, 1).await;
    let signed = records_now(&s, &order).await;

    let attacks = [
        // An order field with the bump.
        li.entry("work_orders", &order, json!({"revision": 2, "problem": "客户自行损坏 / damaged by the customer"})),
        // The amendment's fields and one more.
        li.entry("work_orders", &order, json!({"revision": 2, "status": "on_site", "completed_at": null, "category": "C"})),
        // The bump alone, which would leave revision 2 `signed` without a signature.
        li.entry("work_orders", &order, json!({"revision": 2})),
        li.entry("work_orders", &order, json!({"revision": 2, "status": "signed"})),
        // A bump that keeps the completion time (the amendment clears it).
        li.entry("work_orders", &order, json!({"revision": 2, "status": "on_site", "completed_at": "2026-03-02T01:30:00.000Z"})),
        // The repair record and an amendment record behind the bumps.
        li.entry("repair_records", "rr-1", json!({"action": "未更换任何部件 / nothing replaced", "fee_cents": 0})),
        li.entry("amendments", "am-1", json!({"work_order_id": order, "from_revision": 1, "reason": "x", "amended_by": "li.wei", "amended_at": "2026-03-02T10:00:00.000Z", "deleted": false})),
        // Marking it signed again with the old signature after all that.
        li.entry("work_orders", &order, json!({"status": "signed", "revision": 2})),
    ];
    let r = li.push(&s, &attacks).await;
    let why = reasons(&r);
    assert_eq!((r.applied, why.len()), (0, attacks.len()), "{why:?}");
    assert!(why[0].contains("work order WO-1002") && why[0].contains("revision bump alone") && why[0].contains("problem"), "{why:?}");
    assert!(why[0].contains("fieldbook amend"), "the fix is named: {why:?}");
    assert!(why[1].contains("category"), "{why:?}");
    assert!(why[2].contains("back to on_site") && why[3].contains("back to on_site"), "{why:?}");
    assert!(why[4].contains("completed_at"), "{why:?}");
    assert!(why[5].contains("signed (revision 1) and locked") && why[6].contains("signed (revision 1) and locked"), "{why:?}");
    assert!(why[7].contains("back to on_site"), "{why:?}");

    // Nothing moved: still signed at revision 1, and it still verifies against its records.
    let o = s.record("work_orders", &order).await.unwrap();
    assert_eq!((o["status"].as_str(), o["revision"].as_i64(), o["category"].as_str()), (Some("signed"), Some(1), Some("A")));
    assert_eq!(records_now(&s, &order).await, signed);
    let c = console_check(&office, &order).await;
    assert_eq!((c["signature_ok"].as_bool(), c["records_match"].as_bool()), (Some(true), Some(true)), "{c}");

    // The real amendment is accepted, and then the order is no longer signed: edits are
    // accepted, and the old signature does not make revision 2 signed.
    let amend = [
        li.entry("work_orders", &order, json!({"status": "on_site", "revision": 2, "completed_at": null})),
        li.entry("amendments", "am-1", json!({"work_order_id": order, "from_revision": 1, "reason": "wrong part", "amended_by": "li.wei", "amended_at": "2026-03-02T10:00:00.000Z", "deleted": false})),
        li.entry("repair_records", "rr-1", json!({"action": "更换机械密封 45mm"})),
        li.entry("work_orders", &order, json!({"status": "signed"})),
    ];
    let r = li.push(&s, &amend).await;
    assert_eq!(r.applied, 3, "{:?}", r.rejected);
    assert!(reasons(&r)[0].contains("no customer signature of this order's revision 2"), "{:?}", r.rejected);
    assert_eq!(s.record("work_orders", &order).await.unwrap()["status"], "on_site");
}

/// Finding 3: a signed status was accepted when any signature of the revision existed, whatever
/// it covered.
async fn signed_status_needs_a_signature_of_these_records(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;

    // Different content: the customer signed the repair as first recorded; the record was
    // changed before the status was pushed.
    let wo2 = id("work_orders", "WO-1002");
    completed_repair(&s, &mut li, &wo2, "rr-1").await;
    let seen_by_customer = signable(&s, &wo2).await;
    let swap = [
        li.entry("repair_records", "rr-1", json!({"action": "更换整泵 / whole pump replaced", "fee_cents": 980000})),
        li.signature(&wo2, 1, &seen_by_customer),
        li.entry("work_orders", &wo2, json!({"status": "signed"})),
    ];
    let r = li.push(&s, &swap).await;
    let why = reasons(&r);
    assert_eq!((r.applied, why.len()), (2, 1), "{why:?}");
    assert!(why[0].contains("work order WO-1002") && why[0].contains("does not cover the records as they now stand"), "{why:?}");
    assert!(why[0].contains("repair_records[0].action") && why[0].contains("repair_records[0].fee_cents"), "what differs is named: {why:?}");
    assert!(why[0].contains("sign again"), "the fix is named: {why:?}");
    assert_eq!(s.record("work_orders", &wo2).await.unwrap()["status"], "completed");

    // Another order: a valid signature of WO-1002 filed under WO-1005.
    let wo5 = id("work_orders", "WO-1005");
    completed_repair(&s, &mut li, &wo5, "rr-5").await;
    let mut of_wo2: Value = serde_json::from_str(&signable(&s, &wo2).await).unwrap();
    let filed = [signature_over(&mut li, &wo5, 1, &of_wo2), li.entry("work_orders", &wo5, json!({"status": "signed"}))];
    let r = li.push(&s, &filed).await;
    let why = reasons(&r);
    assert_eq!((r.applied, why.len()), (0, 2), "{why:?}");
    assert!(why[0].contains("work order WO-1005") && why[0].contains("of WO-1002, not of this work order"), "{why:?}");
    assert!(why[1].contains("no customer signature"), "{why:?}");

    // Different content in the same entry: a signature of WO-1005's records is given, and the
    // status push itself changes a signed field.
    let honest = li.signature(&wo5, 1, &signable(&s, &wo5).await);
    assert!(li.push(&s, &[honest]).await.rejected.is_empty());
    let rewrite = li.entry("work_orders", &wo5, json!({"status": "signed", "problem": "改写 / rewritten"}));
    let r = li.push(&s, &[rewrite]).await;
    assert!(reasons(&r)[0].contains("(different: work_order.problem)"), "{:?}", r.rejected);
    let status = li.entry("work_orders", &wo5, json!({"status": "signed"}));
    assert!(li.push(&s, &[status]).await.rejected.is_empty(), "the records as signed: accepted");

    // Another revision: content of revision 2 filed as revision 1, and the other way round.
    of_wo2["work_order"]["revision"] = json!(2);
    let misfiled = signature_over(&mut li, &wo2, 1, &of_wo2);
    let r = li.push(&s, &[misfiled]).await;
    assert!(reasons(&r)[0].contains("of revision 2, but the signature is filed as revision 1"), "{:?}", r.rejected);
    let wo3 = id("work_orders", "WO-1003");
    let entries = [li.entry("work_orders", &wo3, json!({"status": "completed"}))];
    assert!(li.push(&s, &entries).await.rejected.is_empty());
    sign_honestly(&s, &mut li, &wo3, 1).await;
    let revision_1 = signable(&s, &wo3).await;
    let amend = li.entry("work_orders", &wo3, json!({"status": "on_site", "revision": 2, "completed_at": null}));
    assert!(li.push(&s, &[amend]).await.rejected.is_empty());
    let reuse = [li.signature(&wo3, 2, &revision_1), li.entry("work_orders", &wo3, json!({"status": "signed"}))];
    let r = li.push(&s, &reuse).await;
    let why = reasons(&r);
    assert_eq!((r.applied, why.len()), (0, 2), "{why:?}");
    assert!(why[0].contains("of revision 1, but the signature is filed as revision 2"), "{why:?}");
    assert!(why[1].contains("no customer signature of this order's revision 2"), "{why:?}");
    // Nor is the amendment undone by going back to revision 1, whose signature would match.
    let back = li.entry("work_orders", &wo3, json!({"status": "signed", "revision": 1}));
    let r = li.push(&s, &[back]).await;
    assert!(reasons(&r)[0].contains("the order is at revision 2"), "{:?}", r.rejected);
    assert_eq!(s.record("work_orders", &wo3).await.unwrap()["status"], "on_site");
}

/// Finding 12: the signature row's signer name, title, time and strokes were never compared with
/// the signed content, so a row showing "Mallory" was accepted and shown as verified.
async fn the_signer_shown_is_the_signer_signed(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let (office, mut li, order) = completed_job(&s).await;
    let content = signable(&s, &order).await;
    let mut attacks = Vec::new();
    for (field, value) in [
        ("signer_name", json!("Mallory")),
        ("signer_title", json!("总经理")),
        ("signed_at", json!("2026-03-01T08:00:00.000Z")),
        ("strokes", json!([[{"x": 9.0, "y": 9.0, "t": 0}, {"x": 1.0, "y": 1.0, "t": 5}]])),
    ] {
        let mut e = li.signature(&order, 1, &content);
        e.fields.insert(field.into(), value);
        attacks.push(e);
    }
    let r = li.push(&s, &attacks).await;
    let why = reasons(&r);
    assert_eq!((r.applied, why.len()), (0, 4), "{why:?}");
    for (w, field) in why.iter().zip(["signer_name", "signer_title", "signed_at", "strokes"]) {
        assert!(w.contains("work order WO-1002") && w.contains(field) && w.contains("differ from what was signed"), "{field}: {w}");
    }
    assert!(why[0].contains("signed by 陈经理, shown as Mallory"), "{why:?}");
    assert_eq!(s.count("SELECT count(*) FROM records WHERE entity = 'signatures'").await, 0);

    // The honest row is accepted and shown as signed.
    sign_honestly(&s, &mut li, &order, 1).await;
    let c = console_check(&office, &order).await;
    assert_eq!((c["signer_name"].as_str(), c["signer_ok"].as_bool(), c["signature_ok"].as_bool()), (Some("陈经理"), Some(true), Some(true)), "{c}");
}

/// Finding 3: the console verified digest, device signature and key, but never compared the
/// snapshot with the live records, so a changed signed record still showed "verified".
async fn the_console_shows_records_changed_since_signing(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let (office, mut li, order) = completed_job(&s).await;
    sign_honestly(&s, &mut li, &order, 1).await;
    let c = console_check(&office, &order).await;
    assert_eq!((c["records_match"].as_bool(), c["changed"].clone()), (Some(true), json!([])), "{c}");
    let in_review = |queue: Value| queue.as_array().unwrap().iter().find(|o| o["id"] == json!(order)).map(|o| o["signature_ok"].clone());
    assert_eq!(in_review(office.get("/console/api/review").await), Some(json!(true)), "the signed job waits for review, signature OK");

    // The records change behind the signature (here the office writes them, as a resolution or
    // an import might): the console says so and names what changed.
    s.office_write("repair_records", "rr-1", json!({"labour_minutes": 300})).await;
    s.office_write("work_orders", &order, json!({"problem": "改写 / rewritten"})).await;
    let c = console_check(&office, &order).await;
    assert_eq!(c["records_match"], false, "{c}");
    assert_eq!(c["changed"], json!(["repair_records[0].labour_minutes", "work_order.problem"]), "{c}");
    assert!(c["problem"].as_str().unwrap().contains("changed since signing"), "{c}");
    assert_eq!(c["digest_ok"], true, "the signature itself is intact; the records are not");
    // The review queue, where the office approves, says the same.
    assert_eq!(in_review(office.get("/console/api/review").await), Some(json!(false)), "the queue must not call it signature OK");

    // A row whose signer is changed on the server is not verified either.
    let sig_id = office.get(&format!("/console/api/work-orders/{}", &order)).await["signatures"][0]["id"].as_str().unwrap().to_owned();
    s.office_write("signatures", &sig_id, json!({"signer_name": "Mallory"})).await;
    let c = console_check(&office, &order).await;
    assert_eq!((c["signer_ok"].as_bool(), c["signature_ok"].as_bool()), (Some(false), Some(false)), "{c}");
    assert!(c["problem"].as_str().unwrap().contains("shown as Mallory"), "{c}");
}
