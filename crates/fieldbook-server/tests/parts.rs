//! Spare parts (#12) against the real server, on SQLite and on PostgreSQL: goods in, issue to a
//! van, a real laptop store's repair using parts (recorded exactly once, adjusted by an edit, a
//! faulty return recorded, given back when the repair is deleted, a van over-used flagged),
//! refusals that leave nothing half-written, requisitions approved (issuing the parts) and
//! confirmed on the laptop, the reports; and the attacker's side: a laptop writing stock, stores
//! or movements, another's requisition, approving its own, confirming what was never shipped.

mod common;

use common::{both, id, laptop_store, pull_into, push_from, Backend, Console, Laptop, TestServer};
use fieldbook_core::model::{Category, NewRepairRecord, PartUsed, RequisitionLine};
use fieldbook_server::users;
use reqwest::Method;
use serde_json::{json, Value};

both!(
    parts_issued_to_a_van_are_used_on_a_repair_exactly_once,
    a_movement_that_would_empty_a_store_below_zero_is_refused_whole,
    a_requisition_is_approved_shipped_and_confirmed,
    a_laptop_cannot_write_stock_or_decide_requisitions,
    the_parts_reports_count_known_movements,
    one_push_changing_a_repair_three_times_moves_the_net,
    after_a_reassignment_a_repair_moves_only_the_new_technicians_van,
);

const SMOKE: &str = "SD-JTY-GD-G3";
const SEAL: &str = "SEAL-PUMP-45";

async fn office(s: &TestServer) -> Console {
    Console::as_role(s, "office.wang", users::Role::Office).await
}

fn part(sku: &str) -> String {
    id("parts", sku)
}

fn repair_using(parts: Vec<PartUsed>) -> NewRepairRecord {
    NewRepairRecord {
        asset_id: None, fault: "探测器报故障 / detector fault".into(), cause: "老化 / aged".into(), action: "更换 / replaced".into(), parts, labour_minutes: 30,
        category: Category::Paid, fee_cents: 0, fee_collected: false, taken_to_workshop: false, receipt_number: None,
    }
}

fn used(sku: &str, quantity: u32, faulty_returned: bool) -> PartUsed {
    PartUsed { sku: sku.into(), quantity, serials: vec![], faulty_returned }
}

async fn on_hand(c: &Console, store: &str, sku: &str) -> i64 {
    let page = c.get(&format!("/console/api/parts/stock?store={store}&part={sku}")).await;
    page["items"].as_array().unwrap().first().map(|i| i["on_hand"].as_i64().unwrap()).unwrap_or(0)
}

async fn movements(c: &Console, query: &str) -> Vec<Value> {
    c.get(&format!("/console/api/parts/movements?{query}")).await["items"].as_array().unwrap().clone()
}

async fn parts_issued_to_a_van_are_used_on_a_repair_exactly_once(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let r = c.post("/console/api/parts/movements", json!({"kind": "goods_in", "part_id": part(SMOKE), "quantity": 10, "note": "PO-1"})).await;
    assert_eq!((r["kind"].as_str(), r["to_store"].as_str(), r["by"].as_str(), r["sku"].as_str()), (Some("goods_in"), Some("main"), Some("office.wang"), Some(SMOKE)), "{r}");
    let r = c.post("/console/api/parts/movements", json!({"kind": "issue", "part_id": part(SMOKE), "quantity": 3, "technician": "li.wei"})).await;
    assert_eq!((r["from_store"].as_str(), r["to_store"].as_str()), (Some("main"), Some("van-li.wei")));
    assert_eq!(on_hand(&c, "main", SMOKE).await, 7);
    assert_eq!(on_hand(&c, "van-li.wei", SMOKE).await, 3);
    let stores = c.get("/console/api/parts/stores").await;
    let ids: Vec<&str> = stores["stores"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["main", "van-li.wei"], "{stores}");

    // The van reaches li.wei's laptop, offline figures follow the unsynced repair.
    let dir = tempfile::tempdir().unwrap();
    let (mut store, token) = laptop_store(&s, dir.path(), "li.wei").await;
    let van = store.van_stock().unwrap();
    assert_eq!(van.iter().map(|l| (l.sku.as_str(), l.on_hand, l.available)).collect::<Vec<_>>(), [(SMOKE, 3, 3)]);
    let repair = store.add_repair("WO-1002", &repair_using(vec![used(SMOKE, 2, false)])).unwrap();
    assert_eq!(store.van_stock().unwrap()[0].available, 1, "the unsynced repair's use is taken off offline");
    assert!(store.van_shortfall(&[used(SMOKE, 1, false)], None).unwrap().is_empty());
    let short = store.van_shortfall(&[used(SMOKE, 2, false)], None).unwrap();
    assert_eq!((short[0].wanted, short[0].available), (2, 1), "a second repair wanting 2 is warned");
    push_from(&s, &token, &mut store).await;
    assert_eq!(on_hand(&c, "van-li.wei", SMOKE).await, 1, "the repair's use moved the van");
    let uses = movements(&c, "kind=use").await;
    assert_eq!(uses.len(), 1);
    assert_eq!((uses[0]["quantity"].as_i64(), uses[0]["by"].as_str(), uses[0]["repair_record_id"].as_str()), (Some(2), Some("li.wei"), Some(repair.id.as_str())));
    assert_eq!(uses[0]["over_use"], false);
    pull_into(&s, &token, &mut store).await;
    let van = store.van_stock().unwrap();
    assert_eq!((van[0].on_hand, van[0].unsynced_use, van[0].available), (1, 0, 1), "after the sync the server's figure is the van's");

    // The same repair pushed again (a laptop that lost the acknowledgement) moves nothing.
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let again = li.entry("repair_records", &repair.id, json!({"parts": [{"sku": SMOKE, "quantity": 2}]}));
    assert!(li.push(&s, &[again]).await.rejected.is_empty());
    assert_eq!(on_hand(&c, "van-li.wei", SMOKE).await, 1, "a re-push never double-counts");
    assert_eq!(movements(&c, "kind=use").await.len(), 1);

    // Edited to 5: the van goes by the difference, below zero, and the over-use is flagged.
    let edit = li.entry("repair_records", &repair.id, json!({"parts": [{"sku": SMOKE, "quantity": 5}]}));
    assert!(li.push(&s, &[edit]).await.rejected.is_empty());
    assert_eq!(on_hand(&c, "van-li.wei", SMOKE).await, -2);
    let uses = movements(&c, "kind=use&over_use=1").await;
    assert_eq!((uses.len(), uses[0]["quantity"].as_i64()), (1, Some(5)), "one movement, now of 5, flagged");
    // The faulty detector brought back: recorded, not stock.
    let faulty = li.entry("repair_records", &repair.id, json!({"parts": [{"sku": SMOKE, "quantity": 5, "faulty_returned": true}]}));
    assert!(li.push(&s, &[faulty]).await.rejected.is_empty());
    let back = movements(&c, "kind=faulty_return").await;
    assert_eq!((back.len(), back[0]["quantity"].as_i64(), back[0]["to_store"].as_str()), (1, Some(5), Some("main")));
    assert_eq!((on_hand(&c, "van-li.wei", SMOKE).await, on_hand(&c, "main", SMOKE).await), (-2, 7), "a faulty part is not stock");
    // Deleted: its parts go back to the van, its movements are withdrawn.
    let gone = li.entry("repair_records", &repair.id, json!({"deleted": true}));
    assert!(li.push(&s, &[gone]).await.rejected.is_empty());
    assert_eq!(on_hand(&c, "van-li.wei", SMOKE).await, 3);
    assert!(movements(&c, "kind=use").await.is_empty() && movements(&c, "kind=faulty_return").await.is_empty());
    // The van's level reached the laptop again.
    pull_into(&s, &token, &mut store).await;
    assert_eq!(store.van_stock().unwrap()[0].on_hand, 3);
}

/// The feed writer buffers what it writes until the batch ends; a repair changed again in the
/// same push must still see the movements its first change made (and a second repair's none).
async fn one_push_changing_a_repair_three_times_moves_the_net(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    c.post("/console/api/parts/movements", json!({"kind": "goods_in", "part_id": part(SMOKE), "quantity": 10})).await;
    c.post("/console/api/parts/movements", json!({"kind": "issue", "part_id": part(SMOKE), "quantity": 8, "technician": "li.wei"})).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let order = id("work_orders", "WO-1002");
    let batch = [
        li.entry("repair_records", "r1", common::repair_record(&order, json!({"parts": [{"sku": SMOKE, "quantity": 2}]}))),
        li.entry("repair_records", "r2", common::repair_record(&order, json!({"parts": [{"sku": SMOKE, "quantity": 1}]}))),
        li.entry("repair_records", "r1", json!({"parts": [{"sku": SMOKE, "quantity": 5}]})),
        li.entry("repair_records", "r1", json!({"parts": [{"sku": SMOKE, "quantity": 4, "faulty_returned": true}]})),
        li.entry("repair_records", "r2", json!({"parts": []})),
    ];
    assert!(li.push(&s, &batch).await.rejected.is_empty());
    assert_eq!(on_hand(&c, "van-li.wei", SMOKE).await, 4, "8 issued, 4 used by r1, r2's use given back");
    let uses = movements(&c, "kind=use").await;
    assert_eq!(uses.iter().map(|m| (m["repair_record_id"].as_str().unwrap(), m["quantity"].as_i64().unwrap())).collect::<Vec<_>>(), [("r1", 4)]);
    let back = movements(&c, "kind=faulty_return").await;
    assert_eq!((back.len(), back[0]["quantity"].as_i64()), (1, Some(4)));
    let report = c.get("/console/api/reports/movements").await;
    let smoke = report["rows"].as_array().unwrap().iter().find(|r| r["sku"] == SMOKE).unwrap().clone();
    assert_eq!((smoke["issue"].as_i64(), smoke["use"].as_i64(), smoke["faulty_return"].as_i64()), (Some(8), Some(4), Some(4)), "{report}");
}

async fn a_movement_that_would_empty_a_store_below_zero_is_refused_whole(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    c.post("/console/api/parts/movements", json!({"kind": "goods_in", "part_id": part(SEAL), "quantity": 2})).await;
    let r = c.send(Method::POST, "/console/api/parts/movements", json!({"kind": "issue", "part_id": part(SEAL), "quantity": 3, "technician": "li.wei"})).await;
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("holds 2"), "{body}");
    assert_eq!(on_hand(&c, "main", SEAL).await, 2, "nothing of the refused issue was written");
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM records WHERE entity = 'stores' AND id = 'van-li.wei'").await, 0);
    for (body, status) in [
        (json!({"kind": "write_off", "part_id": part(SEAL), "quantity": 1}), 400),
        (json!({"kind": "write_off", "part_id": part(SEAL), "quantity": 5, "note": "rusty"}), 409),
        (json!({"kind": "goods_in", "part_id": "no-such-part", "quantity": 1}), 404),
        (json!({"kind": "goods_in", "part_id": part(SEAL), "quantity": 0}), 400),
        (json!({"kind": "issue", "part_id": part(SEAL), "quantity": 1, "technician": "office.wang"}), 404),
        (json!({"kind": "use", "part_id": part(SEAL), "quantity": 1}), 400),
        (json!({"kind": "transfer", "part_id": part(SEAL), "quantity": 1, "from_store": "main", "to_store": "main"}), 400),
        (json!({"kind": "transfer", "part_id": part(SEAL), "quantity": 1, "from_store": "main", "to_store": "cellar"}), 400),
    ] {
        let r = c.send(Method::POST, "/console/api/parts/movements", body.clone()).await;
        assert_eq!(r.status(), status, "{body}");
    }
    let ok = c.post("/console/api/parts/movements", json!({"kind": "write_off", "part_id": part(SEAL), "quantity": 1, "note": "生锈 / rusty"})).await;
    assert_eq!(ok["kind"], "write_off");
    assert_eq!(on_hand(&c, "main", SEAL).await, 1);
    // Minimums: below minimum is listed (and only it, when asked).
    let lvl = c.post("/console/api/parts/minimums", json!({"store_id": "main", "part_id": part(SEAL), "minimum": 4})).await;
    assert_eq!((lvl["minimum"].as_i64(), lvl["below_minimum"].as_bool()), (Some(4), Some(true)));
    let below = c.get("/console/api/parts/stock?below=1").await;
    assert_eq!(below["items"].as_array().unwrap().len(), 1);
    assert_eq!(c.get("/console/api/parts/stores").await["stores"][0]["below_minimum"], 1);
    let trail = c.get("/console/api/audit").await;
    assert!(trail["items"].as_array().unwrap().iter().any(|i| i["action"] == "stock_write_off"), "{trail}");
}

async fn a_requisition_is_approved_shipped_and_confirmed(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    c.post("/console/api/parts/movements", json!({"kind": "goods_in", "part_id": part(SMOKE), "quantity": 10})).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut store, token) = laptop_store(&s, dir.path(), "li.wei").await;
    let req = store.request_parts(&[RequisitionLine { part_id: part(SMOKE), quantity: 4 }], Some("明天巡检要用 / for tomorrow's round")).unwrap();
    assert_eq!(req.status, "pending");
    assert!(store.confirm_shipment(&req.id, true, None).is_err(), "nothing to confirm before it is shipped");
    push_from(&s, &token, &mut store).await;

    let list = c.get("/console/api/parts/requisitions").await;
    assert_eq!((list[0]["id"].as_str(), list[0]["status"].as_str(), list[0]["technician"].as_str()), (Some(req.id.as_str()), Some("pending"), Some("li.wei")), "{list}");
    let path = format!("/console/api/parts/requisitions/{}/decide", req.id);
    assert_eq!(c.send(Method::POST, &path, json!({"approve": false})).await.status(), 400, "a rejection says why");
    // Approving more than the main store holds is refused, whole.
    let r = c.send(Method::POST, &path, json!({"approve": true, "shipment": [{"part_id": part(SMOKE), "quantity": 11}]})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(c.get("/console/api/parts/requisitions?status=pending").await.as_array().unwrap().len(), 1);
    let done = c.post(&path, json!({"approve": true, "note": "已发货 / shipped"})).await;
    assert_eq!((done["status"].as_str(), done["decided_by"].as_str()), (Some("approved"), Some("office.wang")));
    assert_eq!((on_hand(&c, "main", SMOKE).await, on_hand(&c, "van-li.wei", SMOKE).await), (6, 4), "approval issued the parts");
    let issued = movements(&c, "kind=issue").await;
    assert_eq!(issued[0]["requisition_id"], req.id.as_str());
    assert_eq!(c.send(Method::POST, &path, json!({"approve": true})).await.status(), 409, "decided once");

    pull_into(&s, &token, &mut store).await;
    let mine = &store.requisitions().unwrap()[0];
    assert_eq!((mine.status.as_str(), mine.shipment.len()), ("approved", 1));
    assert_eq!(store.van_stock().unwrap()[0].on_hand, 4);
    assert!(store.confirm_shipment(&req.id, false, None).is_err(), "a wrong shipment says what was wrong");
    store.confirm_shipment(&req.id, true, None).unwrap();
    push_from(&s, &token, &mut store).await;
    let report = c.get("/console/api/reports/correct-shipments").await;
    assert_eq!((report["rows"][0]["confirmed"].as_i64(), report["rows"][0]["share"].as_f64(), report["rows"][0]["target"].as_f64()), (Some(1), Some(1.0), Some(0.98)), "{report}");
}

fn requisition(technician: &str, extra: Value) -> Value {
    let mut r = json!({"technician": technician, "requested_at": "2026-03-02T08:00:00.000Z", "lines": [{"part_id": part(SMOKE), "quantity": 1}], "deleted": false});
    r.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    r
}

async fn a_laptop_cannot_write_stock_or_decide_requisitions(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    c.post("/console/api/parts/movements", json!({"kind": "goods_in", "part_id": part(SMOKE), "quantity": 10})).await;
    c.post("/console/api/parts/movements", json!({"kind": "issue", "part_id": part(SMOKE), "quantity": 2, "technician": "li.wei"})).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let mut zhang = Laptop::enroll(&s, "zhang.min").await;
    let level = format!("van-li.wei/{}", part(SMOKE));
    let attempts = [
        ("its own van's stock", li.entry("stock_levels", &level, json!({"on_hand": 100})), "li"),
        ("a new stock level", li.entry("stock_levels", "van-li.wei/x", json!({"store_id": "van-li.wei", "part_id": part(SMOKE), "on_hand": 9, "minimum": 0, "deleted": false})), "li"),
        ("another's van", zhang.entry("stock_levels", &level, json!({"on_hand": 0})), "zhang"),
        ("a store", li.entry("stores", "van-li.wei", json!({"technician": "zhang.min"})), "li"),
        ("a movement", li.entry("stock_movements", "m1", json!({"kind": "goods_in", "part_id": part(SMOKE), "quantity": 50, "to_store": "van-li.wei"})), "li"),
        ("a requisition for another", zhang.entry("requisitions", "q1", requisition("li.wei", json!({}))), "zhang"),
        ("its own requisition approved", li.entry("requisitions", "q2", requisition("li.wei", json!({"status": "approved", "decided_by": "li.wei"}))), "li"),
        ("a shipment of its own making", li.entry("requisitions", "q3", requisition("li.wei", json!({"shipment": [{"part_id": part(SMOKE), "quantity": 99}]}))), "li"),
        ("bad lines", li.entry("requisitions", "q4", requisition("li.wei", json!({"lines": [{"part_id": part(SMOKE), "quantity": 0}]}))), "li"),
        ("receipt of nothing shipped", li.entry("requisitions", "q5", requisition("li.wei", json!({"received_at": "2026-03-02T09:00:00.000Z", "received_correct": true}))), "li"),
    ];
    for (what, entry, who) in attempts {
        let laptop = if who == "li" { &li } else { &zhang };
        let r = laptop.push(&s, &[entry]).await;
        assert_eq!(r.rejected.len(), 1, "{what} is refused: {r:?}");
    }
    let c2 = c.get(&format!("/console/api/parts/stock?store=van-li.wei&part={SMOKE}")).await;
    assert_eq!(c2["items"][0]["on_hand"], 2, "the van is as the office left it");
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM requisition_index").await, 0);
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM movement_index WHERE kind = 'goods_in'").await, 1);

    // A good requisition; then its technician tries to approve it, zhang.min to edit it.
    let good = li.entry("requisitions", "q9", requisition("li.wei", json!({})));
    assert!(li.push(&s, &[good]).await.rejected.is_empty());
    let approve = li.entry("requisitions", "q9", json!({"status": "approved"}));
    let r = li.push(&s, &[approve]).await;
    assert!(r.rejected.len() == 1 && r.rejected[0].reason.contains("office"), "{r:?}");
    let hijack = zhang.entry("requisitions", "q9", json!({"note": "mine now"}));
    assert_eq!(zhang.push(&s, &[hijack]).await.rejected.len(), 1);

    // zhang.min's laptop never receives li.wei's van or requisitions; li.wei's does.
    let to_zhang = zhang.pull_all(&s).await;
    assert!(to_zhang.iter().all(|ch| !matches!(ch.entity.as_str(), "stores" | "stock_levels" | "requisitions" | "stock_movements")), "{to_zhang:?}");
    let to_li = li.pull_all(&s).await;
    assert!(to_li.iter().any(|ch| ch.entity == "stock_levels" && ch.record_id == level));
    assert!(to_li.iter().any(|ch| ch.entity == "requisitions" && ch.record_id == "q9"));
    assert!(to_li.iter().all(|ch| ch.entity != "stock_movements"), "movements stay on the server");
    assert!(to_li.iter().all(|ch| !(ch.entity == "stock_levels" && ch.record_id.starts_with("main/"))), "the main store reaches no laptop");

    // A device token is no console session.
    let r = s.req(Method::POST, "/console/api/parts/requisitions/q9/decide").header("X-Fieldbook-Console", "1").bearer_auth(&li.token).json(&json!({"approve": true})).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

async fn the_parts_reports_count_known_movements(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    for sku in [SMOKE, SEAL] {
        c.post("/console/api/parts/movements", json!({"kind": "goods_in", "part_id": part(sku), "quantity": 20})).await;
        c.post("/console/api/parts/movements", json!({"kind": "issue", "part_id": part(sku), "quantity": 10, "technician": "li.wei"})).await;
    }
    c.post("/console/api/parts/minimums", json!({"store_id": "van-li.wei", "part_id": part(SEAL), "minimum": 12})).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let order = id("work_orders", "WO-1002");
    // 4 detectors used, 1 returned faulty; 2 seals, both returned faulty.
    let entries = vec![
        li.entry("repair_records", "r1", common::repair_record(&order, json!({"parts": [{"sku": SMOKE, "quantity": 3}, {"sku": SEAL, "quantity": 2, "faulty_returned": true}]}))),
        li.entry("repair_records", "r2", common::repair_record(&order, json!({"parts": [{"sku": SMOKE, "quantity": 1, "faulty_returned": true}]}))),
    ];
    assert!(li.push(&s, &entries).await.rejected.is_empty());
    let q = c.get("/console/api/reports/parts-quality").await;
    let rows = q["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{q}");
    assert_eq!((rows[0]["sku"].as_str(), rows[0]["used"].as_i64(), rows[0]["faulty_returns"].as_i64(), rows[0]["per_100_used"].as_f64()), (Some(SEAL), Some(2), Some(2), Some(100.0)));
    assert_eq!((rows[1]["sku"].as_str(), rows[1]["used"].as_i64(), rows[1]["faulty_returns"].as_i64(), rows[1]["per_100_used"].as_f64()), (Some(SMOKE), Some(4), Some(1), Some(25.0)));
    let m = c.get("/console/api/reports/movements").await;
    let smoke = m["rows"].as_array().unwrap().iter().find(|r| r["sku"] == SMOKE).unwrap().clone();
    assert_eq!((smoke["goods_in"].as_i64(), smoke["issue"].as_i64(), smoke["use"].as_i64(), smoke["faulty_return"].as_i64()), (Some(20), Some(10), Some(4), Some(1)), "{m}");
    let st = c.get("/console/api/reports/stock").await;
    assert_eq!((st["rows"][0]["store"].as_str(), st["rows"][0]["sku"].as_str(), st["rows"][0]["on_hand"].as_i64()), (Some("van-li.wei"), Some(SEAL), Some(8)), "below minimum first: {st}");
    let csv = c.req(Method::GET, "/console/api/reports/parts-quality?format=csv").send().await.unwrap().text().await.unwrap();
    assert!(csv.contains(SEAL), "{csv}");
}

/// The order goes to zhang.min after li.wei's repair used a detector from her van. zhang.min's
/// laptop may now write that repair; its changes move zhang.min's own van (a movement of its own)
/// and never li.wei's, up or down: a million asked for leaves li.wei's van as it was, a zero gives
/// her nothing back. The first use keeps its time.
async fn after_a_reassignment_a_repair_moves_only_the_new_technicians_van(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    c.post("/console/api/parts/movements", json!({"kind": "goods_in", "part_id": part(SMOKE), "quantity": 10})).await;
    for who in ["li.wei", "zhang.min"] {
        c.post("/console/api/parts/movements", json!({"kind": "issue", "part_id": part(SMOKE), "quantity": 3, "technician": who})).await;
    }
    let order = id("work_orders", "WO-1002");
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let used = li.entry("repair_records", "r1", common::repair_record(&order, json!({"parts": [{"sku": SMOKE, "quantity": 2}]})));
    assert!(li.push(&s, &[used]).await.rejected.is_empty());
    assert_eq!(on_hand(&c, "van-li.wei", SMOKE).await, 1);
    let first_at = movements(&c, "kind=use").await[0]["at"].clone();
    // li.wei corrects it to one: her van gets one back, and the use keeps its time (an edit
    // corrects the month it was used in, it does not move it into the month of the edit).
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let fewer = li.entry("repair_records", "r1", json!({"parts": [{"sku": SMOKE, "quantity": 1}]}));
    assert!(li.push(&s, &[fewer]).await.rejected.is_empty());
    assert_eq!(on_hand(&c, "van-li.wei", SMOKE).await, 2);
    let edited = movements(&c, "kind=use").await;
    assert_eq!((edited[0]["quantity"].as_i64(), &edited[0]["at"]), (Some(1), &first_at));

    c.post(&format!("/console/api/work-orders/{order}/dispatch"), json!({"technician": "zhang.min"})).await;
    let mut zhang = Laptop::enroll(&s, "zhang.min").await;
    let set = |zhang: &mut Laptop, q: i64| zhang.entry("repair_records", "r1", json!({"parts": [{"sku": SMOKE, "quantity": q}]}));
    let e = set(&mut zhang, 1_000_000);
    assert!(zhang.push(&s, &[e]).await.rejected.is_empty());
    assert_eq!(on_hand(&c, "van-li.wei", SMOKE).await, 2, "li.wei's van is not charged by zhang.min's laptop");
    assert_eq!(on_hand(&c, "van-zhang.min", SMOKE).await, 3 - (1_000_000 - 1), "zhang.min's van carries the rest, flagged");
    let e = set(&mut zhang, 0);
    assert!(zhang.push(&s, &[e]).await.rejected.is_empty());
    assert_eq!(on_hand(&c, "van-li.wei", SMOKE).await, 2, "nor given back by it");
    assert_eq!(on_hand(&c, "van-zhang.min", SMOKE).await, 3);
    let e = set(&mut zhang, 3);
    assert!(zhang.push(&s, &[e]).await.rejected.is_empty());
    assert_eq!((on_hand(&c, "van-li.wei", SMOKE).await, on_hand(&c, "van-zhang.min", SMOKE).await), (2, 1), "two more, from zhang.min's van");
    let mut uses: Vec<(String, i64)> = movements(&c, "kind=use").await.iter().map(|m| (m["from_store"].as_str().unwrap().to_owned(), m["quantity"].as_i64().unwrap())).collect();
    uses.sort();
    assert_eq!(uses, [("van-li.wei".to_owned(), 1), ("van-zhang.min".to_owned(), 2)]);
    let li_use = movements(&c, "kind=use&store=van-li.wei").await;
    assert_eq!(li_use[0]["at"], first_at, "the first use keeps its time");
    let report = c.get("/console/api/reports/movements").await;
    let smoke = report["rows"].as_array().unwrap().iter().find(|r| r["sku"] == SMOKE).unwrap().clone();
    assert_eq!(smoke["use"], 3, "{report}");
}
