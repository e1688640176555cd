//! The service calendar (issue #11) on both backends: only an admin publishes a version, a bad
//! calendar is refused naming its problem, the call form's preview and a registered call carry
//! the working-hours deadline of the version in force (a Friday 18:30 call is due Monday), a
//! contract's policy wins over the zone's, an import without deadlines gets the calendar's, and a
//! real laptop store pulls the versions and computes the same deadline.

mod common;

use chrono::{DateTime, Utc};
use common::{both, id, pull_into, Backend, Console, TestServer};
use fieldbook_core::model::Zone;
use fieldbook_core::service_calendar::{Interval, ServiceCalendar};
use fieldbook_server::users;
use reqwest::Method;
use serde_json::{json, Value};

both!(an_admin_publishes_the_calendar_and_deadlines_follow_it);

/// A moment on the company's clock (UTC+8).
fn at(local: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{local}+08:00")).unwrap().to_utc()
}

fn ts(t: DateTime<Utc>) -> String {
    fieldbook_core::store::ts(t)
}

async fn refused(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap();
    (status, v["error"]["message"].as_str().unwrap_or_default().to_owned())
}

async fn an_admin_publishes_the_calendar_and_deadlines_follow_it(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let office = Console::as_role(&s, "office.wang", users::Role::Office).await;
    let admin = Console::as_role(&s, "admin.zhao", users::Role::Admin).await;

    // Nothing published: the built-in default applies.
    let page = office.get("/console/api/calendar").await;
    assert_eq!(page["in_force"], Value::Null);
    assert_eq!(page["current"], ServiceCalendar::default().to_json());

    // Friday 13 March 2026, 18:30, at an urban site: the clock starts Monday 08:30, 6 working
    // hours later is Monday 15:30.
    let friday = ts(at("2026-03-13T18:30:00"));
    let preview = office.get(&format!("/console/api/calendar/deadline?site_id={}&reported_at={}", id("sites", "S-JQ-MALL"), friday.replace('+', "%2B"))).await;
    assert_eq!(preview["policy"], "urban");
    assert_eq!(preview["outside_working_hours"], true);
    assert_eq!(preview["clock_starts"], ts(at("2026-03-16T08:30:00")));
    assert_eq!(preview["response_deadline"], ts(at("2026-03-16T15:30:00")));
    assert!(preview["say_en"].as_str().unwrap().contains("Mon 16 Mar 08:30"), "{preview}");
    assert!(preview["say_zh"].as_str().unwrap().contains("3月16日(周一)15:30"), "{preview}");
    // A zone instead of a site; a bad query names what is missing.
    let suburban = office.get(&format!("/console/api/calendar/deadline?zone=suburban&reported_at={}", friday.replace('+', "%2B"))).await;
    assert_eq!(suburban["response_deadline"], ts(at("2026-03-16T16:30:00")));
    let (status, message) = refused(office.send(Method::GET, "/console/api/calendar/deadline?reported_at=2026-03-13T10:30:00Z", Value::Null).await).await;
    assert_eq!(status, 400);
    assert!(message.contains("site_id"), "{message}");

    // Version 1: the default with the demo customer's contract on the in-province tier.
    let mut calendar = ServiceCalendar::default();
    calendar.contracts.insert("HT-2025-017".into(), "in_province".into());
    let publish = json!({"effective_from": "2026-03-01", "body": calendar.to_json()});

    // An office clerk may not publish; nothing is written.
    let (status, message) = refused(office.send(Method::POST, "/console/api/calendar", publish.clone()).await).await;
    assert_eq!(status, 403, "{message}");
    assert_eq!(s.count("SELECT COUNT(*) FROM records WHERE entity = 'service_calendars'").await, 0);

    // A bad calendar is refused naming each problem; nothing is written.
    let mut bad = calendar.clone();
    bad.week.mon = vec![Interval::new("08:30", "12:00"), Interval::new("11:00", "17:30")];
    bad.contracts.insert("HT-X".into(), "gold".into());
    bad.make_up_days[0].date = bad.holidays[0].date;
    let (status, message) = refused(admin.send(Method::POST, "/console/api/calendar", json!({"effective_from": "2026-03-01", "body": bad.to_json()})).await).await;
    assert_eq!(status, 400);
    for problem in ["week.mon: 08:30–12:00 overlaps 11:00–17:30", "contracts.HT-X: unknown policy 'gold'", "make_up_days 2026-01-01: is also a holiday"] {
        assert!(message.contains(problem), "{problem}: {message}");
    }
    let (status, message) = refused(admin.send(Method::POST, "/console/api/calendar", json!({"effective_from": "March", "body": calendar.to_json()})).await).await;
    assert_eq!(status, 400);
    assert!(message.starts_with("effective_from"), "{message}");
    assert_eq!(s.count("SELECT COUNT(*) FROM records WHERE entity = 'service_calendars'").await, 0);

    let v = admin.post("/console/api/calendar", publish.clone()).await;
    assert_eq!(v["version"], 1);
    assert_eq!(v["effective_from"], ts(at("2026-03-01T00:00:00")));
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'calendar_published' AND actor = 'admin.zhao'").await, 1);
    let page = office.get("/console/api/calendar").await;
    assert_eq!(page["in_force"], 1);
    assert_eq!(page["versions"].as_array().unwrap().len(), 1);

    // A call from the contract's customer about a covered asset: the in-province tier. The clock
    // starts Monday; on site by the close of the second working day after it, Wednesday 17:30.
    let call = json!({
        "channel": "phone", "call_type": "repair", "caller_name": "陈经理", "caller_phone": "+86 21 5030 1234",
        "customer_id": id("customers", "C-JINQIAO"), "site_id": id("sites", "S-JQ-MALL"), "asset_ids": [id("assets", "JQ-FACP-01")],
        "problem": "控制器故障", "reported_at": friday, "priority": "high",
    });
    let made = office.post("/console/api/calls", call).await;
    let registered = &made["work_order"];
    assert_eq!(registered["response_deadline"], ts(at("2026-03-18T17:30:00")));
    let promise = &made["promise"];
    assert_eq!((promise["policy"].as_str(), promise["contract"].as_str(), promise["calendar_version"].as_i64()), (Some("in_province"), Some("HT-2025-017"), Some(1)));
    assert_eq!(promise["response_deadline"], registered["response_deadline"]);
    let kinds: Vec<&str> = promise["commitments"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["accept", "phone_answer", "on_site"]);
    assert!(promise["say_zh"].as_str().unwrap().starts_with("非工作时间来电"), "{promise}");

    // The preview names a contract outright, or finds it from the customer and assets.
    let q = |extra: &str| format!("/console/api/calendar/deadline?zone=urban&reported_at={}{extra}", friday.replace('+', "%2B"));
    assert_eq!(office.get(&q("&contract=HT-2025-017")).await["policy"], "in_province");
    let found = office.get(&q(&format!("&customer_id={}&asset_ids={}", id("customers", "C-JINQIAO"), id("assets", "JQ-PUMP-02")))).await;
    assert_eq!((found["policy"].as_str(), found["contract"].as_str()), (Some("in_province"), Some("HT-2025-017")));
    let (status, message) = refused(office.send(Method::GET, &q("&contract=HT-NONE"), Value::Null).await).await;
    assert_eq!(status, 400);
    assert!(message.contains("contract 'HT-NONE'"), "{message}");

    // An imported order without a deadline gets the calendar's: the contract customer's covered
    // asset on the in-province tier, another customer's on the urban zone's 6 working hours.
    let doc = fieldbook_core::import::ImportDocument::from_json(
        &json!({"format": "fieldbook-import/1", "work_orders": [
            {"number": "WO-CAL-1", "kind": "repair_call", "site": "S-JQ-MALL", "assets": ["JQ-PUMP-01"], "category": "A", "scheduled_on": "2026-03-13", "reported_at": friday},
            {"number": "WO-CAL-2", "kind": "repair_call", "site": "S-RJ-SCHOOL", "category": "A", "scheduled_on": "2026-03-13", "reported_at": friday},
        ]})
        .to_string(),
        "calendar.json",
    )
    .unwrap();
    s.import(doc).await.unwrap();
    let stored = |number: &str| {
        let path = format!("/console/api/work-orders/{}", id("work_orders", number));
        let office = &office;
        async move { office.get(&path).await["order"]["response_deadline"].as_str().unwrap().to_owned() }
    };
    assert_eq!(stored("WO-CAL-1").await, ts(at("2026-03-18T17:30:00")));
    assert_eq!(stored("WO-CAL-2").await, ts(at("2026-03-16T15:30:00")));

    // Version 2 from April (long Mondays) does not change a March call.
    let mut april = calendar.clone();
    april.week.mon = vec![Interval::new("08:00", "20:00")];
    let v2 = admin.post("/console/api/calendar", json!({"effective_from": "2026-04-01T00:00:00+08:00", "body": april.to_json()})).await;
    assert_eq!(v2["version"], 2);
    let march = office.get(&format!("/console/api/calendar/deadline?site_id={}&reported_at={}", id("sites", "S-RJ-SCHOOL"), friday.replace('+', "%2B"))).await;
    assert_eq!((march["calendar_version"].as_i64(), march["response_deadline"].as_str()), (Some(1), Some(ts(at("2026-03-16T15:30:00")).as_str())));
    let monday = ts(at("2026-04-13T14:00:00"));
    let april_call = office.get(&format!("/console/api/calendar/deadline?site_id={}&reported_at={}", id("sites", "S-RJ-SCHOOL"), monday.replace('+', "%2B"))).await;
    assert_eq!((april_call["calendar_version"].as_i64(), april_call["response_deadline"].as_str()), (Some(2), Some(ts(at("2026-04-13T20:00:00")).as_str())));

    // A real laptop store pulls both versions and computes the same deadlines.
    let dir = tempfile::tempdir().unwrap();
    let mut store = fieldbook_core::Store::open(&dir.path().join("laptop.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    let code = s.code_for("li.wei").await;
    let req = fieldbook_core::sync::protocol::EnrollRequest { code, device_id: store.device().id.clone(), public_key: store.device().public_key_hex(), device_name: None };
    let enrolled: fieldbook_core::sync::protocol::EnrollResponse = s.req(Method::POST, "/api/enroll").json(&req).send().await.unwrap().json().await.unwrap();
    store.set_enrolment(&s.url, &enrolled.device_token, &enrolled.technician).unwrap();
    pull_into(&s, &enrolled.device_token, &mut store).await;
    let laptop = store.response_deadline(at("2026-03-13T18:30:00"), Zone::Urban, &id("customers", "C-JINQIAO"), &[id("assets", "JQ-FACP-01")]).unwrap();
    assert_eq!(ts(laptop.on_site_by), ts(at("2026-03-18T17:30:00")));
    let laptop = store.response_deadline(at("2026-04-13T14:00:00"), Zone::Urban, &id("customers", "C-RUIJIN"), &[]).unwrap();
    assert_eq!(ts(laptop.on_site_by), ts(at("2026-04-13T20:00:00")));
}
