//! Planned inspections across the real pieces, on both server backends (#12): the office makes a
//! quarterly inspection plan for a contract and the server generates its orders; the
//! technician's laptop (the real `fieldbook` CLI) pulls them with their contract phase and
//! checklist, the form showing only the phase's items; the supervisor reassigns one, and at the
//! next sync that laptop hears it is no longer theirs and the other technician's receives it.

use fieldbook_scenarios::central::Central;
use fieldbook_scenarios::Laptop;
use fieldbook_server::console::plans::{self, PlanInput};
use fieldbook_server::db::Mode;
use fieldbook_testkit::Backend;
use serde_json::{json, Value};

/// A template whose items differ by contract phase: wiring early only, replacements late only.
const PHASED: &str = r#"{"code": "FP-PHASED", "version": 1, "title": {"zh": "分阶段巡检", "en": "Phased patrol"},
  "sections": [{"key": "s", "title": {"zh": "检查", "en": "Checks"}, "items": [
    {"key": "panel", "label": {"zh": "控制柜", "en": "Panel"}, "kind": "pass_fail", "required": true},
    {"key": "wiring", "label": {"zh": "线路", "en": "Wiring"}, "kind": "pass_fail", "required": true, "phases": ["early"]},
    {"key": "replace", "label": {"zh": "需更换设备", "en": "Equipment to replace"}, "kind": "text", "phases": ["late"]}]}]}"#;

async fn enrolled(central: &Central, technician: &str) -> Laptop {
    let laptop = Laptop::new();
    laptop.json(&["init"]);
    let code = central.code_for(technician).await;
    laptop.json_async(&["enroll", "--server", &central.url(), "--code", &code]).await;
    laptop.json_async(&["sync"]).await;
    laptop
}

fn items(detail: &Value) -> Vec<&str> {
    detail["template"]["sections"][0]["items"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap()).collect()
}

async fn planned_inspections(backend: Backend) {
    let mut central = Central::with_demo(backend).await;
    let contract = fieldbook_core::import::stable_id("contracts", "HT-2025-031");
    let site = fieldbook_core::import::stable_id("sites", "S-RJ-SCHOOL");
    let orders = central
        .db_run(move |db| {
            db.transaction(Mode::Feed, |tx| {
                let body: Value = serde_json::from_str(PHASED).unwrap();
                fieldbook_server::console::templates::publish_template(tx, "office.wang", "FP-PHASED", &body)?;
                let input = PlanInput {
                    contract_id: Some(contract.clone()),
                    template_code: Some("FP-PHASED".into()),
                    interval: Some("quarterly".into()),
                    site_ids: Some(vec![site.clone()]),
                    technician: Some("li.wei".into()),
                    ..PlanInput::default()
                };
                plans::save_plan(tx, "office.wang", None, &input)?;
                let c = fieldbook_server::records::load(tx, "contracts", &contract)?.expect("the demo contract");
                let day = |k: &str| c.fields[k].as_str().unwrap().parse::<chrono::NaiveDate>().unwrap();
                let g = plans::generate(tx, Some(&contract), None, day("starts_on"), day("ends_on"))?;
                assert_eq!(g.made, 4, "a year of quarterly inspections");
                // Generating again makes nothing.
                assert_eq!(plans::generate(tx, Some(&contract), None, day("starts_on"), day("ends_on"))?.made, 0);
                plans::plan_orders(tx, &contract, None, None)
            })
        })
        .await
        .expect("plan and generate");
    let number = |i: usize| orders[i]["number"].as_str().unwrap().to_owned();
    let phases: Vec<&str> = orders.iter().map(|o| o["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, ["early", "early", "middle", "late"]);

    let li = enrolled(&central, "li.wei").await;
    let early = li.json_async(&["show", &number(0)]).await;
    assert_eq!((early["order"]["phase"].as_str(), early["order"]["kind"].as_str()), (Some("early"), Some("patrol_inspection")), "{early}");
    assert!(early["order"]["plan_id"].is_string());
    assert_eq!(items(&early), ["panel", "wiring"], "the early phase's checklist");
    let late = li.json_async(&["show", &number(3)]).await;
    assert_eq!(items(&late), ["panel", "replace"], "the late phase's checklist");

    // The supervisor moves the late inspection to zhang.min (the console's dispatch).
    let late_id = orders[3]["id"].as_str().unwrap().to_owned();
    central
        .db_run(move |db| db.transaction(Mode::Feed, |tx| fieldbook_server::console::calls::dispatch_order(tx, "office.wang", &late_id, "zhang.min")))
        .await
        .expect("reassign");
    li.json_async(&["sync"]).await;
    // li.wei's laptop hears that the order is no longer theirs; the others stay.
    let left = li.json_async(&["show", &number(3)]).await;
    assert_eq!(left["order"]["technician"], "zhang.min", "{left}");
    assert_eq!(li.json_async(&["show", &number(0)]).await["order"]["technician"], "li.wei");
    let zhang = enrolled(&central, "zhang.min").await;
    let moved = zhang.json_async(&["show", &number(3)]).await;
    assert_eq!((moved["order"]["technician"].as_str(), moved["order"]["phase"].as_str()), (Some("zhang.min"), Some("late")));
    assert_eq!(items(&moved), ["panel", "replace"]);
    assert_eq!(json!(items(&moved)), json!(items(&late)));
    central.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planned_inspections_on_sqlite() {
    planned_inspections(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planned_inspections_on_postgres() {
    planned_inspections(Backend::Postgres).await
}
