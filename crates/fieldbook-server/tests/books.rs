//! The office keeps the books (#12) against the real server, on SQLite and on PostgreSQL:
//! customers, sites, assets and contracts created and edited in the console (every wrong field
//! named, nothing half-written, audited) reaching real laptop stores in scope; a correction
//! proposed on a real laptop store, confirmed or rejected by the office, the decision and the
//! corrected record pulled back; the attacker's side of corrections (another technician's order
//! or customer, a field off the whitelist, the office's decision); merging two customers.

mod common;

use common::{both, id, laptop_store, pull_into, push_from, Backend, Console, Laptop, TestServer};
use fieldbook_core::store::NewCorrection;
use fieldbook_server::users;
use reqwest::Method;
use serde_json::{json, Value};

both!(
    the_office_creates_and_edits_customer_records_and_laptops_in_scope_get_them,
    a_correction_proposed_on_a_laptop_is_confirmed_or_rejected_by_the_office,
    a_laptop_cannot_propose_corrections_beyond_its_orders_or_the_whitelist,
    merging_two_customers_repoints_everything_to_the_survivor,
    an_order_raised_for_a_merged_customer_before_the_pull_is_taken_and_repointed,
);

async fn office(s: &TestServer) -> Console {
    Console::as_role(s, "office.wang", users::Role::Office).await
}

async fn error_text(r: reqwest::Response) -> String {
    r.text().await.unwrap()
}

async fn the_office_creates_and_edits_customer_records_and_laptops_in_scope_get_them(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut li, li_token) = laptop_store(&s, dir.path(), "li.wei").await;
    let (mut zhang, zhang_token) = laptop_store(&s, dir.path(), "zhang.min").await;
    let jinqiao = id("customers", "C-JINQIAO");
    let records_before = s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM records").await;

    // A bad form names every wrong field and its fix, and writes nothing.
    let r = c.send(Method::POST, "/console/api/books/customers", json!({"code": "C-JINQIAO", "name": " ", "phone": "call me", "email": "nobody", "fax": "1"})).await;
    assert_eq!(r.status(), 400);
    let why = error_text(r).await;
    for part in ["code: 'C-JINQIAO' is already", "name: required", "phone", "email: 'nobody' is not an e-mail", "fax: not a field"] {
        assert!(why.contains(part), "{part} in {why}");
    }
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM records").await, records_before, "nothing half-written");

    // Create a customer, its site, an asset and a contract covering it.
    let cust = c.post("/console/api/books/customers", json!({"code": "C-HONGQIAO", "name": "虹桥枢纽物业", "contact": "赵经理", "phone": "021-5123 4567"})).await;
    let cid = cust["id"].as_str().unwrap().to_owned();
    assert_eq!(cust["merged_into"], Value::Null);
    let site = c.post("/console/api/books/sites", json!({"customer_id": cid, "code": "S-HQ-T2", "name": "T2 航站楼", "address": "上海市闵行区申虹路 1 号", "region": "闵行区", "zone": "suburban"})).await;
    let sid = site["id"].as_str().unwrap().to_owned();
    let r = c.send(Method::POST, "/console/api/books/assets", json!({"site_id": sid, "code": "HQ-FACP-01", "asset_type": "fire_alarm_panel", "name": "报警主机", "installed_on": "2026-05-01", "warranty_ends": "2025-05-01"})).await;
    assert_eq!(r.status(), 400);
    assert!(error_text(r).await.contains("warranty_ends"), "a warranty cannot end before installation");
    let asset = c.post("/console/api/books/assets", json!({"site_id": sid, "code": "HQ-FACP-01", "asset_type": "fire_alarm_panel", "name": "报警主机", "serial": "GST-9", "installed_on": "2025-05-01", "warranty_ends": "2027-04-30"})).await;
    let aid = asset["id"].as_str().unwrap().to_owned();
    // A contract may cover only its customer's assets, and ends on or after it starts.
    let foreign = id("assets", "JQ-FACP-01");
    let r = c.send(Method::POST, "/console/api/books/contracts", json!({"number": "HT-2026-100", "customer_id": cid, "starts_on": "2026-01-01", "ends_on": "2025-12-31", "asset_ids": [aid, foreign]})).await;
    assert_eq!(r.status(), 400);
    let why = error_text(r).await;
    assert!(why.contains("ends_on") && why.contains(&format!("asset {foreign} is not at a site of customer")), "{why}");
    let contract = c.post("/console/api/books/contracts", json!({"number": "HT-2026-100", "customer_id": cid, "starts_on": "2026-01-01", "ends_on": "2026-12-31", "asset_ids": [aid]})).await;
    assert_eq!(contract["asset_ids"], json!([aid]));

    let detail = c.get(&format!("/console/api/books/customers/{cid}")).await;
    assert_eq!(detail["sites"][0]["assets"][0]["serial"], "GST-9");
    assert_eq!(detail["contracts"][0]["number"], "HT-2026-100");
    let actions: Vec<&str> = detail["trail"].as_array().unwrap().iter().map(|t| t["action"].as_str().unwrap()).collect();
    for a in ["customer_created", "site_created", "asset_created", "contract_created"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let found = c.get("/console/api/books/customers?q=hongqiao").await;
    assert_eq!(found["items"][0]["id"], cid.as_str());
    assert_eq!(found["items"][0]["sites"], 1);
    let by_phone = c.get("/console/api/books/customers?q=5123%204567").await;
    assert_eq!(by_phone["items"][0]["id"], cid.as_str(), "found by part of the phone");

    // Edit a served customer's phone: both technicians serving it get it at their next sync,
    // and the trail says who changed what from what.
    let edited = c.send(Method::PATCH, &format!("/console/api/books/customers/{jinqiao}"), json!({"phone": "+86 21 5030 9999"})).await;
    assert_eq!(edited.status(), 200);
    let r = c.send(Method::PATCH, &format!("/console/api/books/customers/{jinqiao}"), json!({"code": "C-XINGHUA"})).await;
    assert_eq!(r.status(), 400, "a code another customer has");
    let r = c.send(Method::PATCH, "/console/api/books/customers/no-such", json!({"phone": "021-1234 5678"})).await;
    assert_eq!(r.status(), 404);
    pull_into(&s, &li_token, &mut li).await;
    pull_into(&s, &zhang_token, &mut zhang).await;
    assert_eq!(li.order_detail("WO-1001").unwrap().customer.phone.as_deref(), Some("+86 21 5030 9999"));
    assert_eq!(zhang.order_detail("WO-1004").unwrap().customer.phone.as_deref(), Some("+86 21 5030 9999"));
    let trail = c.get(&format!("/console/api/books/customers/{jinqiao}")).await["trail"].clone();
    assert_eq!(trail[0]["action"], "customer_changed");
    assert_eq!(trail[0]["actor"], "office.wang");
    assert_eq!(trail[0]["detail"]["from"]["phone"], "+86 21 5030 1234");
    assert_eq!(trail[0]["detail"]["to"]["phone"], "+86 21 5030 9999");

    // An asset at li.wei's site only reaches li.wei; the new customer (no orders) reaches no one.
    c.send(Method::PATCH, &format!("/console/api/books/assets/{}", id("assets", "XH-PUMP-01")), json!({"location": "泵房 (北)"})).await;
    pull_into(&s, &li_token, &mut li).await;
    let asset = li.order_detail("WO-1002").unwrap().assets.into_iter().find(|a| a.code == "XH-PUMP-01").unwrap();
    assert_eq!(asset.location.as_deref(), Some("泵房 (北)"));
    let to_zhang = {
        let mut l = Laptop::enroll(&s, "zhang.min").await;
        l.pull_all(&s).await
    };
    assert!(to_zhang.iter().all(|ch| ch.record_id != id("assets", "XH-PUMP-01") && ch.record_id != cid), "out of zhang.min's scope");
    push_from(&s, &li_token, &mut li).await;
}

fn correction(order: &str, target: &str, record: &str, field: &str, by: &str, extra: Value) -> Value {
    let mut e = json!({"work_order_id": order, "record_entity": target, "record_id": record, "field": field, "old_value": null, "value": "021-0000 0000",
        "note": null, "proposed_at": "2026-03-02T08:00:00.000Z", "proposed_by": by, "deleted": false});
    e.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    e
}

async fn a_correction_proposed_on_a_laptop_is_confirmed_or_rejected_by_the_office(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut li, token) = laptop_store(&s, dir.path(), "li.wei").await;
    let xinghua = id("customers", "C-XINGHUA");

    // The laptop refuses what the office would: a field off the whitelist, another site's asset,
    // the value already on file.
    let propose = |target: &str, record: &str, field: &str, value: &str| NewCorrection {
        record_entity: target.into(), record: record.into(), field: field.into(), value: value.into(), note: Some("客户口头告知 / the customer told me".into()),
    };
    assert!(li.propose_correction("WO-1002", &propose("customers", &xinghua, "name", "x")).is_err());
    assert!(li.propose_correction("WO-1002", &propose("assets", "JQ-FACP-01", "serial", "x")).is_err(), "an asset at another site");
    assert!(li.propose_correction("WO-1002", &propose("customers", &xinghua, "phone", "+86 21 6789 4321")).is_err(), "nothing to correct");
    assert!(li.outbox().unwrap().iter().all(|e| e.entity != "corrections"));

    let phone = li.propose_correction("WO-1002", &propose("customers", &xinghua, "phone", "+86 21 6789 5555")).unwrap();
    assert_eq!((phone.status.as_str(), phone.old_value.as_deref()), ("pending", Some("+86 21 6789 4321")));
    let serial = li.propose_correction("WO-1002", &propose("assets", "XH-PUMP-01", "serial", "LB-2022-1121")).unwrap();
    assert_eq!(serial.record_id, id("assets", "XH-PUMP-01"));
    push_from(&s, &token, &mut li).await;

    let pending = c.get("/console/api/corrections").await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 2, "{pending}");
    let p = pending["items"].as_array().unwrap().iter().find(|i| i["id"] == phone.id.as_str()).unwrap();
    assert_eq!((p["number"].as_str(), p["technician"].as_str(), p["current_value"].as_str()), (Some("WO-1002"), Some("li.wei"), Some("+86 21 6789 4321")));

    // Confirm the phone; reject the serial (a rejection needs a note).
    let path = |id: &str| format!("/console/api/corrections/{id}/decide");
    assert_eq!(c.send(Method::POST, &path(&phone.id), json!({"decision": "maybe"})).await.status(), 400);
    let done = c.post(&path(&phone.id), json!({"decision": "confirm"})).await;
    assert_eq!((done["status"].as_str(), done["decided_by"].as_str()), (Some("confirmed"), Some("office.wang")));
    assert_eq!(c.send(Method::POST, &path(&phone.id), json!({"decision": "reject", "note": "x"})).await.status(), 409, "decided once");
    assert_eq!(c.send(Method::POST, &path(&serial.id), json!({"decision": "reject"})).await.status(), 400, "a rejection says why");
    c.post(&path(&serial.id), json!({"decision": "reject", "note": "铭牌照片显示 1120 / the plate photo says 1120"})).await;
    assert_eq!(c.send(Method::POST, &path("no-such"), json!({"decision": "confirm"})).await.status(), 404);
    assert_eq!(c.get("/console/api/corrections").await["items"].as_array().unwrap().len(), 0);
    assert_eq!(c.get("/console/api/corrections?status=all").await["items"].as_array().unwrap().len(), 2);

    let customer = c.get(&format!("/console/api/books/customers/{xinghua}")).await;
    assert_eq!(customer["customer"]["phone"], "+86 21 6789 5555");
    let actions: Vec<&str> = customer["trail"].as_array().unwrap().iter().map(|t| t["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"customer_changed"), "{actions:?}");
    assert_eq!(customer["corrections"].as_array().unwrap().len(), 2);

    // The laptop pulls the corrected phone and both decisions; the serial is as it was.
    pull_into(&s, &token, &mut li).await;
    let d = li.order_detail("WO-1002").unwrap();
    assert_eq!(d.customer.phone.as_deref(), Some("+86 21 6789 5555"));
    assert_eq!(d.assets.iter().find(|a| a.code == "XH-PUMP-01").unwrap().serial.as_deref(), Some("LB-2022-1120"));
    let back: std::collections::HashMap<String, _> = d.corrections.into_iter().map(|c| (c.id.clone(), c)).collect();
    assert_eq!(back[&phone.id].status, "confirmed");
    assert_eq!(back[&serial.id].status, "rejected");
    assert_eq!(back[&serial.id].decision_note.as_deref(), Some("铭牌照片显示 1120 / the plate photo says 1120"));
    assert!(li.outbox().unwrap().is_empty(), "nothing left to push");
}

async fn a_laptop_cannot_propose_corrections_beyond_its_orders_or_the_whitelist(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let mut zhang = Laptop::enroll(&s, "zhang.min").await;
    let (li_order, zhang_order) = (id("work_orders", "WO-1002"), id("work_orders", "WO-1004"));
    let (xinghua, jinqiao) = (id("customers", "C-XINGHUA"), id("customers", "C-JINQIAO"));
    let attempts = [
        ("another technician's order", zhang.entry("corrections", "k1", correction(&li_order, "customers", &xinghua, "phone", "zhang.min", json!({}))), "zhang"),
        ("another technician's customer", zhang.entry("corrections", "k2", correction(&zhang_order, "customers", &xinghua, "phone", "zhang.min", json!({}))), "zhang"),
        ("an asset at another site", li.entry("corrections", "k3", correction(&li_order, "assets", &id("assets", "JQ-FACP-01"), "serial", "li.wei", json!({}))), "li"),
        ("another site", li.entry("corrections", "k4", correction(&li_order, "sites", &id("sites", "S-JQ-MALL"), "address", "li.wei", json!({}))), "li"),
        ("a field not on the whitelist", li.entry("corrections", "k5", correction(&li_order, "customers", &xinghua, "name", "li.wei", json!({}))), "li"),
        ("a whitelisted field of another kind", li.entry("corrections", "k6", correction(&li_order, "customers", &xinghua, "address", "li.wei", json!({}))), "li"),
        ("a contract", li.entry("corrections", "k7", correction(&li_order, "contracts", &xinghua, "phone", "li.wei", json!({}))), "li"),
        ("a forged author", li.entry("corrections", "k8", correction(&li_order, "customers", &xinghua, "phone", "zhang.min", json!({}))), "li"),
        ("its own decision", li.entry("corrections", "k9", correction(&li_order, "customers", &xinghua, "phone", "li.wei", json!({"status": "confirmed", "decided_by": "li.wei"}))), "li"),
        ("the customer record itself", li.entry("customers", &xinghua, json!({"phone": "021-0000 0000"})), "li"),
        ("a merge", li.entry("customers", &xinghua, json!({"merged_into": jinqiao, "deleted": true})), "li"),
    ];
    for (what, entry, who) in attempts {
        let laptop = if who == "li" { &li } else { &zhang };
        let r = laptop.push(&s, &[entry]).await;
        assert_eq!(r.rejected.len(), 1, "{what} is refused: {r:?}");
    }
    let c = office(&s).await;
    assert_eq!(c.get("/console/api/corrections?status=all").await["items"].as_array().unwrap().len(), 0, "nothing reached the office");
    assert_eq!(c.get(&format!("/console/api/books/customers/{xinghua}")).await["customer"]["phone"], "+86 21 6789 4321");

    // A good one; then the laptop tries to decide it, or change it, itself.
    let good = li.entry("corrections", "ok1", correction(&li_order, "customers", &xinghua, "phone", "li.wei", json!({})));
    assert!(li.push(&s, &[good]).await.rejected.is_empty());
    for (what, fields) in [("confirming", json!({"status": "confirmed"})), ("a new value", json!({"value": "021-9999 9999"})), ("another record", json!({"record_id": jinqiao}))] {
        let e = li.entry("corrections", "ok1", fields);
        assert_eq!(li.push(&s, &[e]).await.rejected.len(), 1, "{what}");
    }
    let listed = c.get("/console/api/corrections").await;
    assert_eq!(listed["items"][0]["value"], "021-0000 0000");
    assert_eq!(listed["items"][0]["status"], "pending");
    // Only li.wei's laptop hears the decision.
    c.post("/console/api/corrections/ok1/decide", json!({"decision": "reject", "note": "请拍照 / send a photo"})).await;
    assert!(zhang.pull_all(&s).await.iter().all(|ch| ch.entity != "corrections"));
    assert!(li.pull_all(&s).await.iter().any(|ch| ch.entity == "corrections" && ch.record_id == "ok1"));
    // A device token is no console session.
    let r = s.req(Method::POST, "/console/api/corrections/ok1/decide").header("X-Fieldbook-Console", "1").bearer_auth(&li.token).json(&json!({"decision": "confirm"})).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

async fn merging_two_customers_repoints_everything_to_the_survivor(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut li, token) = laptop_store(&s, dir.path(), "li.wei").await;
    let xinghua = id("customers", "C-XINGHUA");
    // The same company entered again: the record to keep.
    let keep = c.post("/console/api/books/customers", json!({"code": "C-XINGHUA-2", "name": "星华精密机械(上海)有限公司", "phone": "+86 21 6789 4321"})).await;
    let keep = keep["id"].as_str().unwrap().to_owned();

    let merge = |from: &str| format!("/console/api/books/customers/{from}/merge");
    let r = c.send(Method::POST, &merge(&xinghua), json!({"survivor": xinghua})).await;
    assert_eq!(r.status(), 400, "self-merge");
    assert_eq!(c.send(Method::POST, &merge(&xinghua), json!({"survivor": "no-such"})).await.status(), 404);
    assert_eq!(c.send(Method::POST, &merge("no-such"), json!({"survivor": keep})).await.status(), 404);

    let orders_before = s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM work_order_index WHERE customer_id = (SELECT id FROM reference_index WHERE entity = 'customers' AND code = 'C-XINGHUA')").await;
    assert!(orders_before >= 2);
    let complaints_before = s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM complaint_index WHERE customer_id = (SELECT id FROM reference_index WHERE entity = 'customers' AND code = 'C-XINGHUA')").await;
    let done = c.post(&merge(&xinghua), json!({"survivor": keep})).await;
    assert_eq!(done["moved"]["work_orders"], orders_before, "{done}");
    assert_eq!(done["moved"]["sites"], 1, "{done}");
    assert_eq!(done["moved"]["complaints"].as_i64().unwrap_or(0), complaints_before, "complaints follow: {done}");
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM work_order_index WHERE customer_id = (SELECT id FROM reference_index WHERE entity = 'customers' AND code = 'C-XINGHUA')").await, 0);
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM complaint_index WHERE customer_id = (SELECT id FROM reference_index WHERE entity = 'customers' AND code = 'C-XINGHUA')").await, 0);
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM reference_index WHERE entity = 'customers' AND code = 'C-XINGHUA' AND deleted = 1").await, 1);
    assert_eq!(c.send(Method::POST, &merge(&xinghua), json!({"survivor": keep})).await.status(), 409, "already merged");
    assert_eq!(c.send(Method::POST, &merge(&keep), json!({"survivor": xinghua})).await.status(), 409, "into a merged one");
    assert_eq!(c.send(Method::PATCH, &format!("/console/api/books/customers/{xinghua}"), json!({"phone": "021-1111 2222"})).await.status(), 409);
    let kept = c.get(&format!("/console/api/books/customers/{keep}")).await;
    assert_eq!(kept["sites"][0]["code"], "S-XH-PLANT");
    assert_eq!(kept["orders"], orders_before);
    assert_eq!(kept["trail"][0]["action"], "customer_merged");
    let gone = c.get(&format!("/console/api/books/customers/{xinghua}")).await;
    assert_eq!((gone["customer"]["deleted"].as_bool(), gone["customer"]["merged_into"].as_str()), (Some(true), Some(keep.as_str())));

    // The laptop: its orders now name the survivor, which it has; the merged one is tombstoned.
    pull_into(&s, &token, &mut li).await;
    let d = li.order_detail("WO-1002").unwrap();
    assert_eq!((d.order.customer_id.as_str(), d.customer.code.as_str()), (keep.as_str(), "C-XINGHUA-2"));
    assert!(li.outbox().unwrap().is_empty());
}

/// A laptop that has not pulled since the office merged two customers raises a follow-up naming
/// the merged one (as its copy of the order says): taken, not refused, and moved to the survivor,
/// which the laptop learns at its next pull. Nothing is left for review.
async fn an_order_raised_for_a_merged_customer_before_the_pull_is_taken_and_repointed(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let xinghua = id("customers", "C-XINGHUA");
    let keep = c.post("/console/api/books/customers", json!({"code": "C-XINGHUA-2", "name": "星华精密机械(上海)有限公司"})).await;
    let keep = keep["id"].as_str().unwrap().to_owned();
    c.post(&format!("/console/api/books/customers/{xinghua}/merge"), json!({"survivor": keep})).await;

    let parent = id("work_orders", "WO-1002");
    let follow_up = json!({"number": "WO-1002-F1", "kind": "repair_call", "customer_id": xinghua, "site_id": id("sites", "S-XH-PLANT"),
        "asset_ids": [], "technician": "li.wei", "priority": "high", "category": "A", "status": "dispatched", "template_id": null,
        "problem": "finding", "scheduled_on": "2026-03-02", "reported_at": "2026-03-02T09:00:00.000Z",
        "response_deadline": "2026-03-02T15:00:00.000Z", "revision": 1, "follow_up_of": format!("{parent}/pump.leak"), "deleted": false});
    let e = li.entry("work_orders", "f-1", follow_up);
    let r = li.push(&s, &[e]).await;
    assert!(r.rejected.is_empty(), "{r:?}");
    assert_eq!(s.record("work_orders", "f-1").await.unwrap()["customer_id"], keep.as_str(), "moved to the survivor");
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM work_order_index WHERE id = 'f-1' AND customer_id = (SELECT id FROM reference_index WHERE entity = 'customers' AND code = 'C-XINGHUA-2')").await, 1);
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM rejected_changes").await, 0);
    let pulled = li.pull_all(&s).await;
    assert!(pulled.iter().any(|ch| ch.entity == "work_orders" && ch.record_id == "f-1" && ch.fields.get("customer_id") == Some(&json!(keep))), "the laptop learns the survivor");
    // Another customer altogether is still refused.
    let other = json!({"number": "WO-1002-F2", "kind": "repair_call", "customer_id": id("customers", "C-JINQIAO"), "site_id": id("sites", "S-XH-PLANT"),
        "asset_ids": [], "technician": "li.wei", "priority": "high", "category": "A", "status": "dispatched", "template_id": null,
        "problem": "finding", "scheduled_on": "2026-03-02", "reported_at": "2026-03-02T09:00:00.000Z",
        "response_deadline": "2026-03-02T15:00:00.000Z", "revision": 1, "follow_up_of": format!("{parent}/site.exits"), "deleted": false});
    let e = li.entry("work_orders", "f-2", other);
    assert_eq!(li.push(&s, &[e]).await.rejected.len(), 1);
}
