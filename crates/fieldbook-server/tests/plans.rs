//! Planned inspections (#12) against the real server, on SQLite and on PostgreSQL: a contract's
//! inspection plan made and checked in the console, its orders generated for a quarter (once,
//! however often and however concurrently generation runs; with the contract phase of their due
//! date), pulled by the technician's real laptop store with the phase's checklist items only,
//! reassigned and rebalanced (the order moves to the other laptop), the overdue-inspections report
//! reading the plan; the attacker's side (a laptop writing `plan_id` / `phase`, or a plan).

mod common;

use common::{both, id, laptop_store, pull_into, Backend, Console, Laptop, TestServer};
use fieldbook_server::users;
use reqwest::Method;
use serde_json::{json, Value};

both!(
    a_plan_generates_its_quarter_once_with_phases,
    plans_are_checked_and_deactivated_plans_generate_nothing,
    generated_orders_reach_the_laptop_and_move_when_reassigned,
    the_overdue_report_reads_the_plan,
    a_laptop_cannot_write_the_plan_fields_of_an_order_nor_a_plan,
    a_call_can_attach_a_checklist,
    the_periodic_run_generates_each_plans_lead_time_once,
    a_contract_whose_first_day_is_corrected_gets_no_second_visit,
);

async fn office(s: &TestServer) -> Console {
    Console::as_role(s, "office.wang", users::Role::Office).await
}

/// The Ruijin school's contract (2025-09-01 to 2026-08-31): a quarterly plan at its one site.
async fn ruijin_plan(c: &Console, technician: Option<&str>) -> Value {
    c.post(
        "/console/api/plans",
        json!({
            "contract_id": id("contracts", "HT-2025-031"), "name": "季度巡检 / quarterly patrol", "template_code": "FP-PATROL",
            "interval": "quarterly", "site_ids": [id("sites", "S-RJ-SCHOOL")], "technician": technician, "lead_days": 20,
        }),
    )
    .await
}

fn orders_of(v: &Value) -> Vec<&Value> {
    v.as_array().unwrap().iter().collect()
}

async fn a_plan_generates_its_quarter_once_with_phases(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let contract = id("contracts", "HT-2025-031");
    let plan = ruijin_plan(&c, Some("li.wei")).await;
    assert_eq!((plan["interval"].as_str(), plan["active"].as_bool(), plan["lead_days"].as_i64()), (Some("quarterly"), Some(true), Some(20)));
    let page = c.get(&format!("/console/api/plans?contract_id={contract}")).await;
    assert_eq!(page["plans"].as_array().unwrap().len(), 1);
    assert_eq!(page["contract"]["number"], "HT-2025-031");

    // The whole contract: four quarters, early, early, middle, late.
    let body = json!({"contract_id": contract, "from": "2025-09-01", "to": "2026-08-31"});
    let g = c.post("/console/api/plans/generate", body.clone()).await;
    assert_eq!((g["made"].as_i64(), g["existing"].as_i64()), (Some(4), Some(0)), "{g}");
    let orders = c.get(&format!("/console/api/plans/orders?contract_id={contract}")).await;
    let got: Vec<(&str, &str, &str)> = orders_of(&orders).iter().map(|o| (o["due_on"].as_str().unwrap(), o["phase"].as_str().unwrap(), o["technician"].as_str().unwrap())).collect();
    assert_eq!(
        got,
        [("2025-09-01", "early", "li.wei"), ("2025-12-01", "early", "li.wei"), ("2026-03-01", "middle", "li.wei"), ("2026-06-01", "late", "li.wei")]
    );
    assert!(orders_of(&orders).iter().all(|o| o["status"] == "dispatched" && o["number"].as_str().unwrap().starts_with("PI-")));

    // Again, and twice at once: nothing more is made.
    let g = c.post("/console/api/plans/generate", body.clone()).await;
    assert_eq!((g["made"].as_i64(), g["existing"].as_i64()), (Some(0), Some(4)));
    let (a, b2) = tokio::join!(c.post("/console/api/plans/generate", body.clone()), c.post("/console/api/plans/generate", body.clone()));
    assert_eq!(a["made"].as_i64().unwrap() + b2["made"].as_i64().unwrap(), 0);
    let n = s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM work_order_index WHERE kind = 'patrol_inspection' AND problem = '季度巡检 / quarterly patrol'").await;
    assert_eq!(n, 4, "each due date's order exists once");
    // A second plan generated concurrently with its first run: still each order once.
    let second = c
        .post(
            "/console/api/plans",
            json!({"contract_id": contract, "name": "月度 / monthly", "template_code": "FP-PATROL", "interval": "monthly", "site_ids": [id("sites", "S-RJ-SCHOOL")]}),
        )
        .await;
    let one = json!({"plan_id": second["id"], "from": "2026-01-01", "to": "2026-03-31"});
    let (a, b2) = tokio::join!(c.post("/console/api/plans/generate", one.clone()), c.post("/console/api/plans/generate", one.clone()));
    assert_eq!(a["made"].as_i64().unwrap() + b2["made"].as_i64().unwrap(), 3, "{a} {b2}");
    let unassigned = c.get(&format!("/console/api/plans/orders?contract_id={contract}&from=2026-01-01&to=2026-03-31")).await;
    let monthly: Vec<&Value> = orders_of(&unassigned).into_iter().filter(|o| o["plan_id"] == second["id"]).collect();
    assert_eq!(monthly.len(), 3);
    assert!(monthly.iter().all(|o| o["status"] == "new" && o["technician"].is_null()), "no default technician: generated unassigned");

    // A period too long, or back to front, is refused naming the fix.
    let r = c.send(Method::POST, "/console/api/plans/generate", json!({"contract_id": contract, "from": "2025-01-01", "to": "2026-12-31"})).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("a year at a time"));
    let r = c.send(Method::POST, "/console/api/plans/generate", json!({"contract_id": contract, "from": "2026-03-01", "to": "2026-01-01"})).await;
    assert_eq!(r.status(), 400);

    // Audited: who generated what.
    let trail = c.get("/console/api/audit?limit=50").await;
    assert!(trail["items"].as_array().unwrap().iter().any(|e| e["action"] == "plans_generated" && e["actor"] == "office.wang"), "{trail}");
    assert!(trail["items"].as_array().unwrap().iter().any(|e| e["action"] == "plan_created"));
}

async fn plans_are_checked_and_deactivated_plans_generate_nothing(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let contract = id("contracts", "HT-2025-031");
    let base = json!({"contract_id": contract, "template_code": "FP-PATROL", "interval": "quarterly", "site_ids": [id("sites", "S-RJ-SCHOOL")]});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let bad = [
        ("an unknown interval", with("interval", json!("weekly")), "interval"),
        ("another customer's site", with("site_ids", json!([id("sites", "S-JQ-MALL")])), "site_ids"),
        ("no site", with("site_ids", json!([])), "site_ids"),
        ("an unknown template", with("template_code", json!("NO-SUCH")), "template_code"),
        ("an asset of another site", with("asset_ids", json!([id("assets", "JQ-PUMP-01")])), "asset_ids"),
        ("a technician who is none", with("technician", json!("office.wang")), "technician"),
        ("too long a lead time", with("lead_days", json!(400)), "lead_days"),
        ("no such contract", with("contract_id", json!("nope")), "contract_id"),
    ];
    for (what, body, field) in bad {
        let r = c.send(Method::POST, "/console/api/plans", body).await;
        assert_eq!(r.status(), 400, "{what}");
        let text = r.text().await.unwrap();
        assert!(text.contains(field), "{what}: {text}");
    }
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM records WHERE entity = 'inspection_plans'").await, 0, "nothing half-written");

    let plan = c.post("/console/api/plans", base.clone()).await;
    let pid = plan["id"].as_str().unwrap();
    let off = c.send(Method::PATCH, &format!("/console/api/plans/{pid}"), json!({"active": false})).await;
    assert_eq!(off.status(), 200);
    let g = c.post("/console/api/plans/generate", json!({"contract_id": contract, "from": "2025-09-01", "to": "2026-08-31"})).await;
    assert_eq!(g["made"], 0, "a deactivated plan generates nothing");
    // Moving a plan to another contract is refused; editing keeps the other fields.
    let r = c.send(Method::PATCH, &format!("/console/api/plans/{pid}"), json!({"contract_id": id("contracts", "HT-2025-017")})).await;
    assert_eq!(r.status(), 400);
    let on: Value = c.send(Method::PATCH, &format!("/console/api/plans/{pid}"), json!({"active": true, "interval": "half_yearly"})).await.json().await.unwrap();
    assert_eq!((on["interval"].as_str(), on["template_code"].as_str(), on["active"].as_bool()), (Some("half_yearly"), Some("FP-PATROL"), Some(true)));
    let g = c.post("/console/api/plans/generate", json!({"contract_id": contract, "from": "2025-09-01", "to": "2026-08-31"})).await;
    assert_eq!(g["made"], 2, "half-yearly: 2025-09-01 and 2026-03-01");
    let trail = c.get("/console/api/audit?limit=50").await;
    assert!(trail["items"].as_array().unwrap().iter().filter(|e| e["action"] == "plan_changed").count() >= 2);
}

async fn generated_orders_reach_the_laptop_and_move_when_reassigned(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    // A template whose items differ by phase: "wiring" early only, "replace" late only.
    let body = json!({
        "code": "FP-PHASED", "version": 1, "title": {"zh": "分阶段巡检", "en": "Phased patrol"},
        "sections": [{"key": "s", "title": {"zh": "检查", "en": "Checks"}, "items": [
            {"key": "panel", "label": {"zh": "控制柜", "en": "Panel"}, "kind": "pass_fail", "required": true},
            {"key": "wiring", "label": {"zh": "线路", "en": "Wiring"}, "kind": "pass_fail", "required": true, "phases": ["early"]},
            {"key": "replace", "label": {"zh": "需更换设备", "en": "Equipment to replace"}, "kind": "text", "required": true, "phases": ["late"]}
        ]}]
    });
    c.post("/console/api/templates", json!({"code": "FP-PHASED", "body": body})).await;
    let bad = json!({"code": "FP-BAD", "body": {"code": "FP-BAD", "version": 1, "title": {"zh": "x", "en": "x"}, "sections": [{"key": "s", "title": {"zh": "x", "en": "x"},
        "items": [{"key": "a", "label": {"zh": "a", "en": "a"}, "kind": "pass_fail", "phases": ["final"]}]}]}});
    let r = c.send(Method::POST, "/console/api/templates", bad).await;
    assert_eq!(r.status(), 400, "an unknown phase is refused");
    assert!(r.text().await.unwrap().contains("final"));

    let contract = id("contracts", "HT-2025-031");
    let plan = c
        .post("/console/api/plans", json!({"contract_id": contract, "template_code": "FP-PHASED", "interval": "quarterly", "site_ids": [id("sites", "S-RJ-SCHOOL")], "technician": "li.wei"}))
        .await;
    c.post("/console/api/plans/generate", json!({"plan_id": plan["id"], "from": "2025-09-01", "to": "2026-08-31"})).await;
    let orders = c.get(&format!("/console/api/plans/orders?contract_id={contract}")).await;
    let (early, late) = (orders[0]["number"].as_str().unwrap().to_owned(), orders[3]["number"].as_str().unwrap().to_owned());

    let dir = tempfile::tempdir().unwrap();
    let (mut li, li_token) = laptop_store(&s, dir.path(), "li.wei").await;
    let d = li.order_detail(&early).unwrap();
    assert_eq!((d.order.phase.as_deref(), d.order.plan_id.as_deref()), (Some("early"), plan["id"].as_str()));
    let keys = |d: &fieldbook_core::store::WorkOrderDetail| d.template.as_ref().unwrap().sections[0].items.iter().map(|i| i.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&d), ["panel", "wiring"], "the early phase's form");
    let d = li.order_detail(&late).unwrap();
    assert_eq!(keys(&d), ["panel", "replace"], "the late phase's form");
    let missing: Vec<String> = d.missing.iter().map(|m| m.field.clone()).collect();
    assert_eq!(missing, ["panel", "replace"], "only the phase's required items are missing");

    // Reassigned to zhang.min: it leaves li.wei's laptop and reaches zhang.min's.
    let moved = c.post(&format!("/console/api/work-orders/{}/dispatch", orders[3]["id"].as_str().unwrap()), json!({"technician": "zhang.min"})).await;
    assert_eq!(moved["technician"], "zhang.min");
    pull_into(&s, &li_token, &mut li).await;
    assert_eq!(li.order_detail(&late).unwrap().order.technician.as_deref(), Some("zhang.min"), "li.wei's laptop hears it is no longer theirs");
    let (zhang, _) = laptop_store(&s, dir.path(), "zhang.min").await;
    let mut zhang = zhang;
    let d = zhang.order_detail(&late).unwrap();
    assert_eq!((d.order.phase.as_deref(), d.order.technician.as_deref()), (Some("late"), Some("zhang.min")));
    assert_eq!(keys(&d), ["panel", "replace"]);

    // Rebalancing the other three between both technicians: least loaded first, audited.
    let ids: Vec<&str> = orders_of(&orders)[..3].iter().map(|o| o["id"].as_str().unwrap()).collect();
    let moved = c.post("/console/api/plans/rebalance", json!({"order_ids": ids, "technicians": ["li.wei", "zhang.min"]})).await;
    let to: Vec<&str> = moved.as_array().unwrap().iter().map(|o| o["technician"].as_str().unwrap()).collect();
    assert_eq!(to.len(), 3);
    assert!(to.contains(&"li.wei") && to.contains(&"zhang.min"), "{to:?}");
    let r = c.send(Method::POST, "/console/api/plans/rebalance", json!({"order_ids": ids, "technicians": ["office.wang"]})).await;
    assert_eq!(r.status(), 400, "only technicians share orders");
    let trail = c.get("/console/api/audit?limit=50").await;
    assert!(trail["items"].as_array().unwrap().iter().any(|e| e["action"] == "plans_rebalanced" && e["actor"] == "office.wang"));
}

async fn the_overdue_report_reads_the_plan(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let contract = id("contracts", "HT-2025-031");
    ruijin_plan(&c, Some("zhang.min")).await;
    // Only the first quarter generated: its order is overdue and open; the other three due
    // dates have no order at all.
    c.post("/console/api/plans/generate", json!({"contract_id": contract, "from": "2025-09-01", "to": "2025-11-30"})).await;
    let report = c.get("/console/api/reports/overdue-inspections?from=2025-09-01&to=2026-08-31").await;
    let planned: Vec<(&str, bool, &str)> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["plan_name"] == "季度巡检 / quarterly patrol")
        .map(|r| (r["scheduled_on"].as_str().unwrap(), r["generated"].as_bool().unwrap(), r["contract_number"].as_str().unwrap()))
        .collect();
    assert_eq!(
        planned,
        [("2025-09-01", true, "HT-2025-031"), ("2025-12-01", false, "HT-2025-031"), ("2026-03-01", false, "HT-2025-031"), ("2026-06-01", false, "HT-2025-031")],
        "{report}"
    );
    // A page of the first rows, oldest first, orders and missing dates alike, says how many in all.
    for limit in [1, 2, 3] {
        let page = c.get(&format!("/console/api/reports/overdue-inspections?from=2025-09-01&to=2026-08-31&limit={limit}")).await;
        assert_eq!(page["rows"].as_array().unwrap()[..], report["rows"].as_array().unwrap()[..limit], "limit {limit}: {page}");
        assert_eq!(page["total_rows"].as_u64(), Some(report["rows"].as_array().unwrap().len() as u64), "{page}");
    }
    let not_made = report["rows"].as_array().unwrap().iter().find(|r| r["scheduled_on"] == "2025-12-01").unwrap();
    assert!(not_made["number"].is_null() && not_made["technician"] == "zhang.min" && not_made["site_name"].is_string());
    // Filtered by another technician: the plan's rows are not theirs.
    let li = c.get("/console/api/reports/overdue-inspections?from=2025-09-01&to=2026-08-31&technician=li.wei").await;
    assert!(li["rows"].as_array().unwrap().iter().all(|r| r["plan_name"] != "季度巡检 / quarterly patrol"));
    // Generating the rest: every planned date now has its order (all overdue, none missing).
    c.post("/console/api/plans/generate", json!({"contract_id": contract, "from": "2025-12-01", "to": "2026-08-31"})).await;
    let report = c.get("/console/api/reports/overdue-inspections?from=2025-09-01&to=2026-08-31").await;
    let rows: Vec<&Value> = report["rows"].as_array().unwrap().iter().filter(|r| r["plan_name"] == "季度巡检 / quarterly patrol").collect();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r["generated"] == true && r["number"].is_string()));
    let csv = c.req(Method::GET, "/console/api/reports/overdue-inspections?from=2025-09-01&to=2026-08-31&format=csv").send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("Inspection plan") && csv.contains("HT-2025-031"), "{csv}");
}

async fn a_laptop_cannot_write_the_plan_fields_of_an_order_nor_a_plan(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let plan = ruijin_plan(&c, Some("li.wei")).await;
    c.post("/console/api/plans/generate", json!({"plan_id": plan["id"], "from": "2025-09-01", "to": "2025-11-30"})).await;
    let orders = c.get(&format!("/console/api/plans/orders?contract_id={}", id("contracts", "HT-2025-031"))).await;
    let order = orders[0]["id"].as_str().unwrap().to_owned();
    let mut li = Laptop::enroll(&s, "li.wei").await;
    for (what, fields) in [
        ("another plan", json!({"plan_id": "made-up-plan"})),
        ("no plan", json!({"plan_id": null})),
        ("another phase", json!({"phase": "late"})),
    ] {
        let entry = li.entry("work_orders", &order, fields);
        let r = li.push(&s, &[entry]).await;
        assert_eq!(r.rejected.len(), 1, "{what}: {r:?}");
        assert!(r.rejected[0].reason.contains("office"), "{what}: {:?}", r.rejected);
    }
    // A plan is the office's, on the server only: no laptop writes one.
    let fake = li.entry("inspection_plans", "p-fake", json!({"contract_id": id("contracts", "HT-2025-031"), "interval": "monthly", "active": true, "deleted": false}));
    assert_eq!(li.push(&s, &[fake]).await.rejected.len(), 1);
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM records WHERE entity = 'inspection_plans'").await, 1);
    let after = s.record("work_orders", &order).await.unwrap();
    assert_eq!((after["plan_id"].as_str(), after["phase"].as_str()), (plan["id"].as_str(), Some("early")), "the order is as the server made it: {after:?}");
}

async fn a_call_can_attach_a_checklist(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let call = |template: Option<&str>| {
        let mut v = json!({
            "channel": "phone", "call_type": "repair", "caller_name": "刘校长", "caller_phone": "+86 21 6433 8800",
            "customer_id": id("customers", "C-RUIJIN"), "site_id": id("sites", "S-RJ-SCHOOL"), "problem": "请来做一次巡检 / please inspect",
            "reported_at": "2026-03-02T01:00:00Z", "kind": "patrol_inspection", "category": "B",
        });
        if let Some(t) = template {
            v["template_code"] = json!(t);
        }
        v
    };
    let made = c.post("/console/api/calls", call(Some("FP-PATROL"))).await;
    let order = made["work_order"]["id"].as_str().unwrap();
    let detail = c.get(&format!("/console/api/work-orders/{order}")).await;
    let text = detail.to_string();
    assert!(text.contains(&id("checklist_templates", "FP-PATROL@1")) || text.contains("FP-PATROL"), "{detail}");
    let r = c.send(Method::POST, "/console/api/calls", call(Some("NO-SUCH"))).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("template_code"));
}

/// The server's own run: every active plan's orders from today to its lead time ahead, once.
async fn the_periodic_run_generates_each_plans_lead_time_once(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    // A contract of the Ruijin school that started ten days ago and runs for a year.
    let today = chrono::Local::now().date_naive();
    let (starts, ends) = (today - chrono::Duration::days(10), today + chrono::Duration::days(355));
    let contract = "k-live".to_owned();
    let k = contract.clone();
    s.run_db(move |db| {
        db.transaction(fieldbook_server::db::Mode::Feed, |tx| {
            let mut w = fieldbook_server::feed::Writer::begin(tx)?;
            let fields = [
                ("number", json!("HT-LIVE-1")), ("customer_id", json!(id("customers", "C-RUIJIN"))), ("starts_on", json!(starts.to_string())),
                ("ends_on", json!(ends.to_string())), ("asset_ids", json!([id("assets", "RJ-FACP-01")])), ("deleted", json!(false)),
            ];
            fieldbook_server::import::write_changed(&mut w, "contracts", &k, &fields)?;
            w.finish().map(|_| ())
        })
    })
    .await
    .unwrap();
    // Monthly, 40 days ahead: the due date a month after the start (in 18 to 21 days) only.
    let plan = c
        .post("/console/api/plans", json!({"contract_id": contract, "template_code": "FP-PATROL", "interval": "monthly", "site_ids": [id("sites", "S-RJ-SCHOOL")], "technician": "li.wei", "lead_days": 40}))
        .await;
    let first = s.run_db(fieldbook_server::console::plans::generate_due).await;
    assert_eq!((first.made, first.existing), (1, 0), "{first:?}");
    let again = s.run_db(fieldbook_server::console::plans::generate_due).await;
    assert_eq!((again.made, again.existing), (0, 1), "{again:?}");
    let orders = c.get(&format!("/console/api/plans/orders?contract_id={contract}")).await;
    assert_eq!(orders.as_array().unwrap().len(), 1);
    let due: chrono::NaiveDate = orders[0]["due_on"].as_str().unwrap().parse().unwrap();
    assert!(due > today && due <= today + chrono::Duration::days(40), "{due}");
    assert_eq!((orders[0]["phase"].as_str(), orders[0]["plan_id"].as_str()), (Some("early"), plan["id"].as_str()));
    // Deactivated, the plan makes nothing more even with a longer lead time.
    c.send(Method::PATCH, &format!("/console/api/plans/{}", plan["id"].as_str().unwrap()), json!({"active": false, "lead_days": 120})).await;
    assert_eq!(s.run_db(fieldbook_server::console::plans::generate_due).await.made, 0);
}

/// The office corrects the contract's first day after the year's orders were made: the due dates
/// move by four days, the orders made stand for them — generating again makes none, and the
/// overdue report does not call the moved dates missing. A new interval's visits far from any
/// made are still made.
async fn a_contract_whose_first_day_is_corrected_gets_no_second_visit(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let contract = id("contracts", "HT-2025-031");
    let plan = ruijin_plan(&c, Some("li.wei")).await;
    let year = json!({"contract_id": contract, "from": "2025-09-01", "to": "2026-08-31"});
    let g = c.post("/console/api/plans/generate", year.clone()).await;
    assert_eq!(g["made"], 4, "{g}");
    let r = c.send(Method::PATCH, &format!("/console/api/books/contracts/{contract}"), json!({"starts_on": "2025-09-05"})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let g = c.post("/console/api/plans/generate", year.clone()).await;
    assert_eq!((g["made"].as_i64(), g["existing"].as_i64()), (Some(0), Some(4)), "{g}");
    let n = s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM plan_orders").await;
    assert_eq!(n, 4, "no second visit in any quarter");
    let report = c.get("/console/api/reports/overdue-inspections?from=2025-09-01&to=2026-08-31").await;
    assert!(
        report["rows"].as_array().unwrap().iter().all(|r| r["generated"] != false),
        "a moved due date is not missing: {report}"
    );
    // Monthly from now on: the months between the quarters' visits are made, the quarters' not.
    let r = c.send(Method::PATCH, &format!("/console/api/plans/{}", plan["id"].as_str().unwrap()), json!({"interval": "monthly"})).await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let g = c.post("/console/api/plans/generate", year).await;
    assert_eq!((g["made"].as_i64(), g["existing"].as_i64()), (Some(8), Some(4)), "{g}");
}
