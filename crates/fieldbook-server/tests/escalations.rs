//! Escalations (#11) against the real server, on SQLite and on PostgreSQL: a real laptop store
//! escalates a repair, the console lists it (open first) and answers it, the answer reaches the
//! laptop; the attacker's side (another technician's order, a forged `raised_by`, the office's
//! fields written from a laptop, a repair of another order); repairs past their expected
//! completion and the admin's setting of it; the technician scorecard on a month of known numbers.

mod common;

use chrono::{Duration, Utc};
use common::{both, id, laptop_store, pull_into, push_from, Backend, Console, Laptop, TestServer};
use fieldbook_core::model::{Category, EscalateTo, EscalationStatus, NewRepairRecord};
use fieldbook_server::users;
use reqwest::Method;
use serde_json::{json, Value};

both!(
    an_escalation_reaches_the_console_and_its_answer_reaches_the_laptop,
    a_laptop_cannot_escalate_anothers_order_forge_its_author_or_answer_it,
    repairs_past_their_expected_completion_are_listed,
    the_scorecard_counts_a_known_month,
);

async fn office(s: &TestServer) -> Console {
    Console::as_role(s, "office.wang", users::Role::Office).await
}

fn repair(store: &mut fieldbook_core::Store, order: &str, fault: &str) -> String {
    let new = NewRepairRecord {
        asset_id: None, fault: fault.into(), cause: "不明 / unknown".into(), action: "断电重启 / power-cycled".into(), parts: vec![], labour_minutes: 20,
        category: Category::Contract, fee_cents: 0, fee_collected: false, taken_to_workshop: false, receipt_number: None,
    };
    store.add_repair(order, &new).unwrap().id
}

async fn an_escalation_reaches_the_console_and_its_answer_reaches_the_laptop(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut store, token) = laptop_store(&s, dir.path(), "li.wei").await;
    let r1 = repair(&mut store, "WO-1002", "报警主机无法复位 / the panel will not reset");
    let first = store.escalate("WO-1002", Some(&r1), EscalateTo::Engineer, "主板疑似损坏 / the main board looks broken").unwrap();
    push_from(&s, &token, &mut store).await;

    let page = c.get("/console/api/escalations").await;
    assert_eq!(page["open"], 1, "{page}");
    let e = &page["items"][0];
    assert_eq!(e["id"], first.id.as_str());
    assert_eq!((e["number"].as_str(), e["status"].as_str(), e["escalate_to"].as_str()), (Some("WO-1002"), Some("open"), Some("engineer")));
    assert_eq!((e["technician"].as_str(), e["note"].as_str()), (Some("li.wei"), Some("主板疑似损坏 / the main board looks broken")));
    assert_eq!(e["repair_fault"], "报警主机无法复位 / the panel will not reset");
    assert!(e["customer_name"].is_string() && e["response"].is_null());

    // Answering: acknowledged, then resolved with a response; nothing else.
    let path = format!("/console/api/escalations/{}/answer", first.id);
    let r = c.send(Method::POST, &path, json!({"status": "open"})).await;
    assert_eq!(r.status(), 400);
    let r = c.send(Method::POST, &path, json!({"status": "resolved", "response": "  "})).await;
    assert_eq!(r.status(), 400, "a resolution says how");
    let acked = c.post(&path, json!({"status": "acknowledged"})).await;
    assert_eq!((acked["status"].as_str(), acked["answered_by"].as_str()), (Some("acknowledged"), Some("office.wang")));

    // A second escalation, raised later and still open, is listed first.
    let second = store.escalate("WO-1002", None, EscalateTo::Supervisor, "客户要求主管到场 / the customer asks for the supervisor").unwrap();
    push_from(&s, &token, &mut store).await;
    let page = c.get("/console/api/escalations").await;
    let ids: Vec<&str> = page["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [second.id.as_str(), first.id.as_str()], "open first");
    // Paged one at a time, the same order.
    let one = c.get("/console/api/escalations?limit=1").await;
    assert_eq!(one["items"][0]["id"], second.id.as_str());
    let two = c.get(&format!("/console/api/escalations?limit=1&after={}", one["next"].as_str().unwrap())).await;
    assert_eq!(two["items"][0]["id"], first.id.as_str());
    assert!(two["next"].is_null());
    assert_eq!(c.get("/console/api/escalations?status=acknowledged").await["items"].as_array().unwrap().len(), 1);
    assert_eq!(c.send(Method::GET, "/console/api/escalations?status=closed", json!({})).await.status(), 400);

    let resolved = c.post(&path, json!({"status": "resolved", "response": "工程师明天9点到场 / an engineer comes at 9 tomorrow"})).await;
    assert_eq!(resolved["status"], "resolved");
    let r = c.send(Method::POST, &path, json!({"status": "acknowledged"})).await;
    assert_eq!(r.status(), 409, "a resolved escalation is closed");
    let r = c.send(Method::POST, "/console/api/escalations/no-such/answer", json!({"status": "acknowledged"})).await;
    assert_eq!(r.status(), 404);
    let trail = c.get(&format!("/console/api/audit?work_order_id={}", id("work_orders", "WO-1002"))).await;
    assert_eq!(trail["items"][0]["action"], "escalation_resolved", "{trail}");

    // The laptop pulls the answer.
    pull_into(&s, &token, &mut store).await;
    let back = store.order_detail("WO-1002").unwrap().escalations;
    let mine = back.iter().find(|e| e.id == first.id).unwrap();
    assert_eq!(mine.status, EscalationStatus::Resolved);
    assert_eq!(mine.response.as_deref(), Some("工程师明天9点到场 / an engineer comes at 9 tomorrow"));
    assert_eq!(mine.answered_by.as_deref(), Some("office.wang"));
    assert_eq!(mine.note, "主板疑似损坏 / the main board looks broken", "the technician's note is kept");
    assert_eq!(back.iter().find(|e| e.id == second.id).unwrap().status, EscalationStatus::Open);

    // CSV: every row, the note in it.
    let csv = c.req(Method::GET, "/console/api/escalations?format=csv").send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("客户要求主管到场") && csv.contains("工程师明天9点到场"), "{csv}");
}

fn escalation(order: &str, raised_by: &str, extra: Value) -> Value {
    let mut e = json!({"work_order_id": order, "escalate_to": "engineer", "note": "help", "raised_at": "2026-03-02T08:00:00.000Z",
        "raised_by": raised_by, "deleted": false});
    e.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    e
}

async fn a_laptop_cannot_escalate_anothers_order_forge_its_author_or_answer_it(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let mut zhang = Laptop::enroll(&s, "zhang.min").await;
    let (li_order, zhang_order) = (id("work_orders", "WO-1002"), id("work_orders", "WO-1004"));
    let zhang_repair = uuid::Uuid::now_v7().to_string();
    let rr = zhang.entry("repair_records", &zhang_repair, common::repair_record(&zhang_order, json!({})));
    assert!(zhang.push(&s, &[rr]).await.rejected.is_empty());

    let attempts = [
        ("another technician's order", zhang.entry("escalations", "x1", escalation(&li_order, "zhang.min", json!({}))), "zhang"),
        ("a forged raised_by", li.entry("escalations", "x2", escalation(&li_order, "zhang.min", json!({}))), "li"),
        ("the office's answer", li.entry("escalations", "x3", escalation(&li_order, "li.wei", json!({"status": "resolved", "response": "done"}))), "li"),
        ("a repair of another order", li.entry("escalations", "x4", escalation(&li_order, "li.wei", json!({"repair_record_id": zhang_repair}))), "li"),
        ("someone else to escalate to", li.entry("escalations", "x5", escalation(&li_order, "li.wei", json!({"escalate_to": "manager"}))), "li"),
        ("no note", li.entry("escalations", "x6", escalation(&li_order, "li.wei", json!({"note": null}))), "li"),
    ];
    for (what, entry, who) in attempts {
        let laptop = if who == "li" { &li } else { &zhang };
        let r = laptop.push(&s, &[entry]).await;
        assert_eq!(r.rejected.len(), 1, "{what} is refused: {r:?}");
    }
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM escalation_index").await, 0, "nothing of them reached the console");

    // A good one; then the laptop tries to answer it itself.
    let good = li.entry("escalations", "e1", escalation(&li_order, "li.wei", json!({})));
    assert!(li.push(&s, &[good]).await.rejected.is_empty());
    let answer = li.entry("escalations", "e1", json!({"status": "resolved", "response": "fixed it myself", "answered_by": "office.wang"}));
    let r = li.push(&s, &[answer]).await;
    assert_eq!(r.rejected.len(), 1, "{r:?}");
    assert!(r.rejected[0].reason.contains("office"), "{:?}", r.rejected);
    // Nor may the laptop re-point it at another order or author.
    let moved = li.entry("escalations", "e1", json!({"raised_by": "zhang.min"}));
    assert_eq!(li.push(&s, &[moved]).await.rejected.len(), 1);
    let c = office(&s).await;
    let page = c.get("/console/api/escalations").await;
    assert_eq!(page["items"][0]["status"], "open");
    assert_eq!(page["items"][0]["technician"], "li.wei");

    // The other technician's laptop never receives it; li.wei's does, with the office's answer.
    c.post("/console/api/escalations/e1/answer", json!({"status": "acknowledged"})).await;
    let to_zhang = zhang.pull_all(&s).await;
    assert!(to_zhang.iter().all(|ch| ch.entity != "escalations"), "another technician's escalation is not sent to zhang.min");
    let to_li = li.pull_all(&s).await;
    assert!(to_li.iter().any(|ch| ch.entity == "escalations" && ch.record_id == "e1"));

    // A technician's console login (if one existed) is no office: the route needs an office session.
    let r = s.req(Method::POST, "/console/api/escalations/e1/answer").header("X-Fieldbook-Console", "1").bearer_auth(&li.token).json(&json!({"status": "resolved", "response": "x"})).send().await.unwrap();
    assert_eq!(r.status(), 401, "a device token cannot answer");
}

async fn repairs_past_their_expected_completion_are_listed(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let admin = Console::as_role(&s, "admin.zhao", users::Role::Admin).await;
    let ts = |h: i64| fieldbook_core::store::ts(Utc::now() - Duration::hours(h) - Duration::minutes(10));
    // li.wei has been at WO-1002 for 5 h 10 min; zhang.min at WO-1004 for 1 h 10 min.
    s.office_write("work_orders", &id("work_orders", "WO-1002"), json!({"status": "on_site", "arrived_at": ts(5)})).await;
    s.office_write("work_orders", &id("work_orders", "WO-1004"), json!({"status": "on_site", "arrived_at": ts(1)})).await;
    // An inspection on site for ten hours is no repair.
    s.office_write("work_orders", &id("work_orders", "WO-1001"), json!({"status": "on_site", "arrived_at": ts(10)})).await;

    let page = c.get("/console/api/repairs-overdue").await;
    assert_eq!(page["expected_hours"], 4, "the default");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.iter().map(|i| i["number"].as_str().unwrap()).collect::<Vec<_>>(), ["WO-1002"], "{page}");
    assert_eq!(items[0]["hours_over"], 1);
    assert_eq!(items[0]["technician"], "li.wei");

    // The admin expects repairs to take longer: none is overdue; an office user may not change it.
    let r = c.send(Method::PATCH, "/console/api/settings/repair-expected-hours", json!({"repair_expected_hours": 6})).await;
    assert_eq!(r.status(), 403);
    for bad in [json!({"repair_expected_hours": 0}), json!({"repair_expected_hours": 1000}), json!({}), json!({"repair_expected_hours": "6"})] {
        let r = admin.send(Method::PATCH, "/console/api/settings/repair-expected-hours", bad.clone()).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    let set = admin.send(Method::PATCH, "/console/api/settings/repair-expected-hours", json!({"repair_expected_hours": 6})).await;
    assert_eq!(set.status(), 200);
    assert_eq!(c.get("/console/api/settings/repair-expected-hours").await["repair_expected_hours"], 6);
    assert_eq!(c.get("/console/api/repairs-overdue").await["items"].as_array().unwrap().len(), 0);
    admin.send(Method::PATCH, "/console/api/settings/repair-expected-hours", json!({"repair_expected_hours": 1})).await;
    let page = c.get("/console/api/repairs-overdue").await;
    let numbers: Vec<&str> = page["items"].as_array().unwrap().iter().map(|i| i["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["WO-1002", "WO-1004"], "longest on site first");
    // Completed: no longer overdue.
    s.office_write("work_orders", &id("work_orders", "WO-1002"), json!({"status": "completed", "completed_at": ts(0)})).await;
    let csv = c.req(Method::GET, "/console/api/repairs-overdue?format=csv").send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("WO-1004") && !csv.contains("WO-1002"), "{csv}");
}

async fn the_scorecard_counts_a_known_month(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let wo = |n: &str| id("work_orders", n);
    // January 2026. li.wei: WO-1002 reached in time, fixed; zhang.min: WO-1004 reached late, fixed.
    s.office_write("work_orders", &wo("WO-1002"), json!({"reported_at": "2026-01-05T01:00:00.000Z", "response_deadline": "2026-01-05T07:00:00.000Z",
        "arrived_at": "2026-01-05T05:00:00.000Z", "status": "completed", "completed_at": "2026-01-05T08:00:00.000Z", "category": "C"})).await;
    s.office_write("work_orders", &wo("WO-1004"), json!({"reported_at": "2026-01-06T01:00:00.000Z", "response_deadline": "2026-01-06T07:00:00.000Z",
        "arrived_at": "2026-01-06T09:00:00.000Z", "status": "completed", "completed_at": "2026-01-06T11:00:00.000Z"})).await;
    s.office_write("work_orders", &wo("WO-1006"), json!({"category": "C"})).await;
    s.office_write("work_orders", &wo("WO-1005"), json!({"category": "A"})).await;
    // Three of li.wei's cards in January, one with "fair" for arrival: 2 of 3 satisfied or better.
    for (order, arrival) in [("WO-1002", 4), ("WO-1003", 2), ("WO-1005", 3)] {
        s.office_write("satisfaction_cards", &format!("card-{order}"), json!({"work_order_id": wo(order), "attitude": 4, "skill": 3, "arrival": arrival,
            "promise": 4, "comment": null, "rated_at": "2026-01-10T03:00:00.000Z", "deleted": false})).await;
    }
    // Return visits due in January: two inside warranty (one made), one outside (not counted).
    // WO-1002's is the one the server made when the repair call was completed (`{order}.rv`).
    s.office_write("return_visits", &format!("{}.rv", wo("WO-1002")), json!({"work_order_id": wo("WO-1002"), "due_on": "2026-01-12", "status": "done", "visited_at": "2026-01-12T02:00:00.000Z", "deleted": false})).await;
    s.office_write("return_visits", "rv-2", json!({"work_order_id": wo("WO-1006"), "due_on": "2026-01-20", "status": "open", "deleted": false})).await;
    s.office_write("return_visits", "rv-3", json!({"work_order_id": wo("WO-1005"), "due_on": "2026-01-20", "status": "open", "deleted": false})).await;
    // A complaint naming both, one withdrawn (deleted), one in February.
    s.office_write("complaints", "cp-1", json!({"number": "2601-001", "technicians": ["li.wei", "zhang.min"], "registered_at": "2026-01-20T02:00:00.000Z", "status": "open", "deleted": false})).await;
    s.office_write("complaints", "cp-2", json!({"number": "2601-002", "technicians": ["li.wei"], "registered_at": "2026-01-21T02:00:00.000Z", "status": "open", "deleted": true})).await;
    s.office_write("complaints", "cp-3", json!({"number": "2602-001", "technicians": ["li.wei"], "registered_at": "2026-02-01T02:00:00.000Z", "status": "open", "deleted": false})).await;

    // Any day of January gives the whole month.
    let r = c.get("/console/api/reports/scorecard?from=2026-01-15&to=2026-01-16").await;
    let rows = r["rows"].as_array().unwrap();
    let row = |t: &str| rows.iter().find(|x| x["technician"] == t).unwrap_or_else(|| panic!("no row for {t}: {r}")).clone();
    let li = row("li.wei");
    assert_eq!(li["month"], "2026-01");
    assert_eq!((li["responses"].as_i64(), li["response_met"].as_i64(), li["response_rate"].as_f64()), (Some(1), Some(1), Some(1.0)), "{li}");
    assert_eq!((li["repairs"].as_i64(), li["fixed_first_time"].as_i64()), (Some(1), Some(1)), "{li}");
    assert_eq!((li["cards"].as_i64(), li["satisfied"].as_i64(), li["satisfaction_rate"].as_f64()), (Some(3), Some(2), Some(0.667)), "{li}");
    assert_eq!((li["return_visits_due"].as_i64(), li["return_visits_made"].as_i64(), li["return_visit_rate"].as_f64()), (Some(2), Some(1), Some(0.5)), "{li}");
    assert_eq!(li["complaints"], 1, "the withdrawn and February's complaints do not count: {li}");
    let zhang = row("zhang.min");
    assert_eq!((zhang["response_met"].as_i64(), zhang["response_rate"].as_f64(), zhang["complaints"].as_i64()), (Some(0), Some(0.0), Some(1)), "{zhang}");
    assert!(zhang["satisfaction_rate"].is_null() && zhang["return_visit_rate"].is_null(), "no cards, no visits: no rate, not 0 — {zhang}");
    assert!(rows.iter().all(|x| x["month"] == "2026-01"));

    // February: only the complaint; filtered to li.wei.
    let feb = c.get("/console/api/reports/scorecard?from=2026-02-01&to=2026-02-28&technician=li.wei").await;
    assert_eq!(feb["rows"].as_array().unwrap().len(), 1, "{feb}");
    assert_eq!((feb["rows"][0]["month"].as_str(), feb["rows"][0]["complaints"].as_i64()), (Some("2026-02"), Some(1)));
    let r = c.send(Method::GET, "/console/api/reports/scorecard?customer=x", json!({})).await;
    assert_eq!(r.status(), 400);
    let csv = c.req(Method::GET, "/console/api/reports/scorecard?from=2026-01-01&to=2026-01-31&format=csv&lang=zh").send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("满意率(目标≥98%)") && csv.contains("li.wei") && csv.contains("0.667"), "{csv}");
}
