//! No signature, no close, and return visits (#11), on SQLite and PostgreSQL: approving needs the
//! customer's signature of the current revision or a recorded close exception (with the photo of a
//! paper voucher uploaded from the console); a completed repair call gets exactly one return
//! visit whoever completes it and however often the completion is pushed; the desk records the
//! visit, takes the card by phone (it reaches the technician's laptop) and a problem not solved
//! opens a linked urgent call; the reports count closure and the return-visit rate. The attacker's
//! side: a laptop writes no close exception, no return visit and no `taken_by`.

mod common;

use common::{both, id, signable, Backend, Console, Laptop, TestServer};
use fieldbook_server::users;
use reqwest::Method;
use serde_json::{json, Value};

both!(
    approving_needs_the_signature_of_the_current_revision_or_a_recorded_exception,
    a_completed_repair_call_gets_one_return_visit_and_the_desk_records_it,
);

async fn office(s: &TestServer) -> Console {
    Console::as_role(s, "office.wang", users::Role::Office).await
}

/// A repair on `order`, completed, pushed by the laptop.
async fn complete(s: &TestServer, li: &mut Laptop, order: &str, repair_id: &str) {
    let repair = json!({"work_order_id": order, "fault": "泄漏", "cause": "密封老化", "action": "更换机械密封", "labour_minutes": 90, "category": "A",
        "parts": [], "recorded_at": "2026-03-02T09:00:00.000Z", "deleted": false});
    let entries = [
        li.entry("repair_records", repair_id, repair),
        li.entry("work_orders", order, json!({"status": "completed", "completed_at": "2026-03-02T09:30:00+08:00"})),
    ];
    let r = li.push(s, &entries).await;
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
}

/// The smallest PNG there is (1×1), and its bytes.
fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend_from_slice(&[0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89]);
    v.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]);
    v
}

async fn upload(c: &Console, content_type: &str, bytes: Vec<u8>) -> reqwest::Response {
    c.req(Method::POST, "/console/api/photos").header("content-type", content_type).body(bytes).send().await.unwrap()
}

async fn approving_needs_the_signature_of_the_current_revision_or_a_recorded_exception(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let (unsigned, signed) = (id("work_orders", "WO-1002"), id("work_orders", "WO-1005"));
    complete(&s, &mut li, &unsigned, "rr-1").await;
    complete(&s, &mut li, &signed, "rr-2").await;

    // Unsigned: refused, saying what is missing and how to go on; nothing written.
    let r = c.send(Method::POST, &format!("/console/api/work-orders/{unsigned}/approve"), json!({})).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["kind"], "not_signed");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("WO-1002") && msg.contains("signature") && msg.contains("close exception"), "{msg}");
    let queue = c.get("/console/api/review").await;
    let item = queue.as_array().unwrap().iter().find(|o| o["id"] == unsigned.as_str()).cloned().unwrap();
    assert_eq!((item["review_state"].as_str(), item["closable"].as_bool()), (Some("pending"), Some(false)));

    // Signed in its current revision: approved.
    let entries = [li.signature(&signed, 1, &signable(&s, &signed).await), li.entry("work_orders", &signed, json!({"status": "signed"}))];
    assert!(li.push(&s, &entries).await.rejected.is_empty());
    let queue = c.get("/console/api/review").await;
    assert_eq!(queue.as_array().unwrap().iter().find(|o| o["id"] == signed.as_str()).unwrap()["closable"], true);
    assert_eq!(c.post(&format!("/console/api/work-orders/{signed}/approve"), json!({})).await["review_state"], "approved");

    // The exception's rules: a kind, a reason, and for a paper voucher a photo uploaded first.
    let path = format!("/console/api/work-orders/{unsigned}/close-exception");
    for bad in [
        json!({"kind": "lost_it", "reason": "x"}),
        json!({"kind": "refused_to_sign", "reason": "  "}),
        json!({"kind": "paper_voucher", "reason": "signed the paper copy"}),
        json!({"kind": "paper_voucher", "reason": "signed the paper copy", "photo_id": "ab".repeat(32)}),
    ] {
        assert_eq!(c.send(Method::POST, &path, bad.clone()).await.status(), 400, "{bad}");
    }
    // Photos: images only, checked by their bytes; not a laptop's to send.
    assert_eq!(upload(&c, "text/html", b"<script>".to_vec()).await.status(), 400);
    assert_eq!(upload(&c, "image/png", b"<svg onload=alert(1)>".to_vec()).await.status(), 400);
    let r = upload(&c, "image/png", png()).await;
    assert_eq!(r.status(), 201);
    let photo: Value = r.json().await.unwrap();
    let sha = photo["sha256"].as_str().unwrap().to_owned();
    assert_eq!(photo["media_type"], "image/png");
    let r = li.auth(s.req(Method::POST, "/console/api/photos")).header("content-type", "image/png").header("x-fieldbook-console", "1").body(png()).send().await.unwrap();
    assert_eq!(r.status(), 401, "a device token opens no console route");
    let got = c.req(Method::GET, &format!("/console/api/photos/{sha}")).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.unwrap().to_vec(), png());

    let e = c.post(&path, json!({"kind": "paper_voucher", "reason": "客户在纸质凭证上签字 / signed the paper voucher", "photo_id": sha})).await;
    assert_eq!((e["kind"].as_str(), e["revision"].as_i64(), e["recorded_by"].as_str()), (Some("paper_voucher"), Some(1), Some("office.wang")));
    // A laptop cannot write a close exception, under any id.
    let forged = li.entry("close_exceptions", &format!("{unsigned}.r1"), json!({"work_order_id": unsigned, "revision": 1, "kind": "refused_to_sign", "reason": "x", "deleted": false}));
    let r = li.push(&s, &[forged]).await;
    assert_eq!(r.rejected.len(), 1);
    assert!(r.rejected[0].reason.contains("service desk"), "{:?}", r.rejected);
    assert_eq!(s.record("close_exceptions", &format!("{unsigned}.r1")).await.unwrap()["kind"], "paper_voucher");

    // Now it can be approved; the order's page shows the exception and its photo.
    assert_eq!(c.post(&format!("/console/api/work-orders/{unsigned}/approve"), json!({})).await["review_state"], "approved");
    let detail = c.get(&format!("/console/api/work-orders/{unsigned}")).await;
    assert_eq!(detail["close"]["signed"], false);
    assert_eq!(detail["close"]["exception"]["photo_id"], sha.as_str());
    assert_eq!(c.get(&format!("/console/api/audit?work_order_id={unsigned}")).await["items"][0]["detail"]["close_exception"], "paper_voucher");

    // Reports: closure counts the signed one and the excepted one, not WO-1006 (unsigned, no
    // exception); the exception is listed with its reason.
    let q = "from=2026-01-01&to=2030-12-31";
    let closure = c.get(&format!("/console/api/reports/closure?{q}")).await;
    let (mut completed, mut closed, mut by_exception, mut not_closed) = (0, 0, 0, 0);
    for r in closure["rows"].as_array().unwrap() {
        completed += r["completed"].as_i64().unwrap();
        closed += r["closed"].as_i64().unwrap();
        by_exception += r["by_exception"].as_i64().unwrap();
        not_closed += r["not_closed"].as_i64().unwrap();
    }
    assert_eq!((closed, by_exception), (2, 1), "{closure}");
    assert_eq!(completed - closed, not_closed);
    assert!(not_closed >= 1, "the demo's WO-1006 is completed without a signature: {closure}");
    let list = c.get(&format!("/console/api/reports/close-exceptions?{q}")).await;
    let rows = list["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0]["number"].as_str(), rows[0]["kind"].as_str()), (Some("WO-1002"), Some("paper_voucher")));
    assert!(rows[0]["reason"].as_str().unwrap().contains("paper voucher"));

    // A new revision (the job reopened by an amendment) needs its own signature or exception.
    s.office_write("work_orders", &unsigned, json!({"revision": 2, "review_state": "pending"})).await;
    let r = c.send(Method::POST, &format!("/console/api/work-orders/{unsigned}/approve"), json!({})).await;
    assert_eq!(r.status(), 422, "the exception was for revision 1");
}

async fn a_completed_repair_call_gets_one_return_visit_and_the_desk_records_it(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let order = id("work_orders", "WO-1002");
    complete(&s, &mut li, &order, "rr-1").await;
    // The same completion pushed again (a retry after a lost answer, then a second edit).
    let again = li.entry("work_orders", &order, json!({"status": "completed", "completed_at": "2026-03-02T09:30:00+08:00"}));
    li.push(&s, &[again]).await;
    let visit_id = format!("{order}.rv");
    let visit = s.record("return_visits", &visit_id).await.expect("a return visit for the completed repair call");
    assert_eq!(visit["status"], "open");
    assert_eq!(visit["due_on"], "2026-03-05", "completion (2 March, Shanghai) + 3 days");
    let list = c.get("/console/api/return-visits?status=all&limit=200").await;
    let mine: Vec<&Value> = list["items"].as_array().unwrap().iter().filter(|v| v["work_order_id"] == order.as_str()).collect();
    assert_eq!(mine.len(), 1, "exactly one visit: {list}");
    assert_eq!((mine[0]["number"].as_str(), mine[0]["technician"].as_str(), mine[0]["overdue"].as_bool()), (Some("WO-1002"), Some("li.wei"), Some(true)));

    // The attacker's side: no return visit, no card "taken by phone" from a laptop.
    let forged = [
        li.entry("return_visits", &visit_id, json!({"status": "done", "solved": true})),
        li.entry("return_visits", "rv-made-up", json!({"work_order_id": order, "due_on": "2026-03-04", "status": "open", "deleted": false})),
        li.entry("satisfaction_cards", "card-phone", json!({"work_order_id": order, "attitude": 4, "skill": 4, "arrival": 4, "promise": 4,
            "comment": null, "rated_at": "2026-03-05T10:00:00.000Z", "taken_by": "office.wang", "deleted": false})),
    ];
    let r = li.push(&s, &forged).await;
    assert_eq!(r.rejected.len(), 3, "{:?}", r.rejected);
    assert_eq!(s.record("return_visits", &visit_id).await.unwrap()["status"], "open");
    assert!(s.record("return_visits", "rv-made-up").await.is_none());
    assert!(s.record("satisfaction_cards", "card-phone").await.is_none());

    // The desk's call: nobody to blame for an empty form.
    let path = format!("/console/api/return-visits/{visit_id}");
    assert_eq!(c.send(Method::POST, &path, json!({"answered_by": " ", "solved": true})).await.status(), 400);
    assert_eq!(c.send(Method::POST, &path, json!({"answered_by": "陈经理", "solved": false})).await.status(), 400, "not solved needs a note");
    let bad_card = json!({"answered_by": "陈经理", "solved": true, "card": {"attitude": 5, "skill": 4, "arrival": 4, "promise": 4}});
    assert_eq!(c.send(Method::POST, &path, bad_card).await.status(), 400);
    // A complaint the complaints' rules refuse records nothing of the visit either.
    let bad = json!({"answered_by": "陈经理", "solved": false, "note": "水泵仍漏水", "complaint": {"category": "mood", "severity": "normal"}});
    assert_eq!(c.send(Method::POST, &path, bad).await.status(), 400);
    assert_eq!(s.record("return_visits", &visit_id).await.unwrap()["status"], "open");
    // Not solved, with the card by phone, and the customer complains.
    let done = c
        .post(&path, json!({"answered_by": "陈经理", "solved": false, "note": "水泵仍漏水 / the pump still leaks",
            "card": {"attitude": 3, "skill": 2, "arrival": 4, "promise": 2, "comment": "还在漏"},
            "complaint": {"category": "quality", "severity": "normal"}}))
        .await;
    let complaint_number = done["complaint_number"].as_str().expect("the complaint's number").to_owned();
    let complaints = c.get("/console/api/complaints?state=all").await;
    let complaint = complaints["items"].as_array().unwrap().iter().find(|x| x["number"] == complaint_number.as_str()).expect("the complaint is listed").clone();
    let detail = c.get(&format!("/console/api/complaints/{}", complaint["id"].as_str().unwrap())).await;
    assert_eq!((detail["source"].as_str(), detail["source_id"].as_str()), (Some("return_visit"), Some(visit_id.as_str())));
    assert_eq!(detail["description"], "水泵仍漏水 / the pump still leaks", "the note, as no description was given");
    assert_eq!(detail["technicians"], json!(["li.wei"]), "the order's technician");
    assert_eq!((done["status"].as_str(), done["solved"].as_bool(), done["has_card"].as_bool()), (Some("done"), Some(false), Some(true)));
    let new_call = done["new_call_id"].as_str().expect("a linked call").to_owned();
    assert!(done["new_call_number"].as_str().unwrap().starts_with("C-"));
    let call = s.record("work_orders", &new_call).await.unwrap();
    assert_eq!((call["priority"].as_str(), call["status"].as_str(), call["kind"].as_str()), (Some("urgent"), Some("new"), Some("repair_call")));
    assert_eq!(call["follow_up_of"], order.as_str());
    assert_eq!(call["site_id"], s.record("work_orders", &order).await.unwrap()["site_id"]);
    assert!(call["problem"].as_str().unwrap().contains("still leaks"));
    let calls = c.get("/console/api/calls").await;
    assert!(calls.as_array().unwrap().iter().any(|o| o["id"] == new_call.as_str()), "the new call waits for dispatch");
    // It is in the call register, linked to the visit and the order it follows.
    let register = c.get("/console/api/call-register?call_type=repair").await;
    let entry = register["items"].as_array().unwrap().iter().find(|i| i["work_order_id"] == new_call.as_str()).expect("the call is in the register").clone();
    let linked = c.get(&format!("/console/api/call-register/{}", entry["id"].as_str().unwrap())).await;
    assert_eq!((linked["return_visit_id"].as_str(), linked["follows_order_id"].as_str()), (Some(path.rsplit('/').next().unwrap()), Some(order.as_str())));
    assert_eq!((linked["channel"].as_str(), linked["caller_name"].as_str()), (Some("phone"), Some("陈经理")));
    // Recorded once; a second card refused.
    assert_eq!(c.send(Method::POST, &path, json!({"answered_by": "x", "solved": true})).await.status(), 409);

    // The card reaches the technician's laptop, marked as taken by the desk.
    let pulled = li.pull_all(&s).await;
    let card = pulled.iter().find(|ch| ch.entity == "satisfaction_cards" && ch.fields.get("work_order_id") == Some(&json!(order))).expect("the card reaches the laptop");
    assert_eq!(card.fields["taken_by"], "office.wang");
    assert!(!pulled.iter().any(|ch| ch.entity == "return_visits" || ch.entity == "close_exceptions"), "the desk's records reach no laptop");
    let detail = c.get(&format!("/console/api/work-orders/{order}")).await;
    assert_eq!(detail["satisfaction"]["taken_by"], "office.wang");
    assert_eq!(detail["return_visit"]["new_call_id"], new_call.as_str());

    // The rate: March 2026 had two visits due (this one, done, and the demo's WO-1006, imported
    // completed, not called yet); inside warranty none (categories A and B).
    let rate = c.get("/console/api/reports/return-visit-rate?from=2026-03-01&to=2026-03-31").await;
    let row = &rate["rows"][0];
    assert_eq!((row["month"].as_str(), row["due"].as_i64(), row["done"].as_i64()), (Some("2026-03"), Some(2), Some(1)), "{rate}");
    assert_eq!((row["rate"].as_f64(), row["in_warranty_due"].as_i64(), row["target"].as_f64()), (Some(0.5), Some(0), Some(1.0)));
    // The list: done ones under status=done, none left open for this order; CSV.
    let open = c.get("/console/api/return-visits").await;
    assert!(!open["items"].as_array().unwrap().iter().any(|v| v["work_order_id"] == order.as_str()));
    let csv = c.req(Method::GET, "/console/api/return-visits?status=done&format=csv").send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("WO-1002"), "{csv}");

    // The delay is an admin setting; a new completion is due that many days later.
    let r = c.send(Method::PATCH, "/console/api/settings", json!({"return_visit_days": 5})).await;
    assert_eq!(r.status(), 403, "an office user may not change it");
    let admin = Console::as_role(&s, "admin.zhao", users::Role::Admin).await;
    let settings = admin.req(Method::PATCH, "/console/api/settings").json(&json!({"return_visit_days": 5})).send().await.unwrap().json::<Value>().await.unwrap();
    assert_eq!(settings["return_visit_days"], 5);
    // An order completed by the office's own write (an import) gets its visit too; a
    // maintenance job gets none.
    let site = s.record("work_orders", &order).await.unwrap()["site_id"].clone();
    let customer = s.record("work_orders", &order).await.unwrap()["customer_id"].clone();
    for (oid, kind) in [("wo-office", "repair_call"), ("wo-maint", "maintenance")] {
        s.office_write("work_orders", oid, json!({"number": oid, "kind": kind, "customer_id": customer, "site_id": site, "technician": "li.wei",
            "category": "C", "status": "completed", "reported_at": "2026-04-01T01:00:00.000Z", "completed_at": "2026-04-01T03:00:00.000Z", "revision": 1, "deleted": false})).await;
    }
    let v = s.record("return_visits", "wo-office.rv").await.unwrap();
    assert_eq!(v["due_on"], "2026-04-06");
    assert!(s.record("return_visits", "wo-maint.rv").await.is_none());
    let warranty = c.get("/console/api/return-visits?in_warranty=1&status=open").await;
    assert!(warranty["items"].as_array().unwrap().iter().all(|v| v["in_warranty"] == true));
    assert!(warranty["items"].as_array().unwrap().iter().any(|v| v["id"] == "wo-office.rv"));
}
