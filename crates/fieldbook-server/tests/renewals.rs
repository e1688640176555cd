//! Contracts and renewals (续约, issue #12) through the console's API against the real server, on
//! SQLite and on PostgreSQL: the list of contracts ending within a month with their renewal's
//! state, the expiry notice PDF read back with pdftotext, the tracking in order (made → sent →
//! visit planned → renewed or lost) with clear errors out of order and an audit entry per step, a
//! renewal as a new contract (`renewal_of`) that reaches the laptop serving the customer, the
//! service level, the review flagging a repair recorded in another category than the default, and
//! that no laptop writes contract terms or a renewal.

mod common;

use std::process::Command;

use chrono::{Duration, Local, NaiveDate, Utc};
use common::{both, id, repair_record, Backend, Console, Laptop, TestServer};
use fieldbook_server::users::Role;
use reqwest::Method;
use serde_json::{json, Value};

both!(
    the_list_shows_contracts_ending_within_a_month_with_their_renewals_state,
    a_renewal_is_tracked_in_order_audited_and_renews_with_a_new_contract,
    a_lost_renewal_needs_its_reason_and_a_linked_renewal_is_the_same_customers,
    no_laptop_writes_contract_terms_or_a_renewal_and_none_pulls_a_renewal,
    review_flags_a_repair_recorded_in_another_category_than_the_default,
);

fn today() -> NaiveDate {
    Local::now().date_naive()
}

fn day(offset: i64) -> String {
    (today() + Duration::days(offset)).to_string()
}

async fn office(s: &TestServer) -> Console {
    Console::as_role(s, "office.wang", Role::Office).await
}

async fn status_kind(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (status, v["error"]["kind"].as_str().unwrap_or_default().to_owned(), v["error"]["message"].as_str().unwrap_or_default().to_owned())
}

/// A contract of Jinqiao (served by zhang.min's WO-1004 and li.wei's WO-1001) ending in `days`.
async fn contract(s: &TestServer, number: &str, ends_in: i64) -> String {
    let kid = id("contracts", number);
    s.office_write(
        "contracts",
        &kid,
        json!({"number": number, "customer_id": id("customers", "C-JINQIAO"), "starts_on": day(ends_in - 364), "ends_on": day(ends_in),
               "asset_ids": [id("assets", "JQ-FACP-01"), id("assets", "JQ-PUMP-01")], "service_level": "standard", "deleted": false}),
    )
    .await;
    kid
}

fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notice.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext").args(["-enc", "UTF-8"]).arg(&path).arg("-").output().expect("pdftotext (poppler-utils) is installed by scripts/setup.sh");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn the_list_shows_contracts_ending_within_a_month_with_their_renewals_state(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let soon = contract(&s, "K-SOON", 20).await;
    contract(&s, "K-LAST-DAY", 30).await;
    contract(&s, "K-LATER", 31).await;
    contract(&s, "K-ENDED", -10).await;
    contract(&s, "K-LONG-GONE", -31).await;
    // Ended long ago too, but their renewals were started: one still undecided, one lost.
    let chased = contract(&s, "K-CHASED", -45).await;
    let lost = contract(&s, "K-LOST-OLD", -60).await;
    for k in [&chased, &lost] {
        c.post(&format!("/console/api/renewals/{k}/steps"), json!({"kind": "notice_made"})).await;
    }
    c.post(&format!("/console/api/renewals/{lost}/steps"), json!({"kind": "sent", "sent_how": "post", "sent_at": common_ts(Utc::now())})).await;
    c.post(&format!("/console/api/renewals/{lost}/steps"), json!({"kind": "lost", "lost_reason": "工厂关闭 / the plant closed"})).await;
    let list = c.get("/console/api/renewals").await;
    assert_eq!(list["window_days"], 30);
    let numbers: Vec<&str> = list["rows"].as_array().unwrap().iter().map(|r| r["number"].as_str().unwrap()).collect();
    // Soonest end first; an ended contract still undecided stays to chase, however long ago once
    // its renewal was started; one never taken up drops off after the window, a decided one at
    // once; the demo's contracts ended long ago.
    assert_eq!(numbers, ["K-CHASED", "K-ENDED", "K-SOON", "K-LAST-DAY"]);
    let row = &list["rows"][2];
    assert_eq!((row["contract_id"].as_str(), row["days_left"].as_i64(), row["state"].as_str()), (Some(soon.as_str()), Some(20), Some("open")));
    assert_eq!((row["customer_code"].as_str(), row["service_level"].as_str(), row["assets"].as_i64()), (Some("C-JINQIAO"), Some("standard"), Some(2)));
    assert_eq!((list["rows"][0]["days_left"].as_i64(), list["rows"][0]["state"].as_str()), (Some(-45), Some("notice_made")));
    assert_eq!(list["rows"][1]["days_left"], -10);
}

async fn a_renewal_is_tracked_in_order_audited_and_renews_with_a_new_contract(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let kid = contract(&s, "K-SOON", 20).await;
    let mut zhang = Laptop::enroll(&s, "zhang.min").await;
    zhang.pull_all(&s).await;
    let step = |body: Value| (Method::POST, format!("/console/api/renewals/{kid}/steps"), body);
    // Out of order: each refusal names the missing step.
    for (body, says) in [
        (json!({"kind": "sent", "sent_how": "post", "sent_at": common_ts(Utc::now())}), "has not been made yet"),
        (json!({"kind": "visit_planned", "visit_on": day(5), "visit_by": "li.wei"}), "has not been sent yet"),
        (json!({"kind": "renewed", "new_contract": {"number": "K-NEXT", "starts_on": day(21), "ends_on": day(385)}}), "has not been sent yet"),
        (json!({"kind": "lost", "lost_reason": "price"}), "has not been sent yet"),
    ] {
        let (m, p, b) = step(body.clone());
        let (st, kind, msg) = status_kind(c.send(m, &p, b).await).await;
        assert_eq!((st, kind.as_str()), (409, "conflict"), "{body}: {msg}");
        assert!(msg.contains(says) && msg.contains("K-SOON"), "{body}: {msg}");
    }
    // The notice: made, then read back.
    let (m, p, b) = step(json!({"kind": "notice_made"}));
    let made: Value = c.send(m, &p, b).await.json().await.unwrap();
    assert_eq!((made["state"].as_str(), made["notice_made_by"].as_str()), (Some("notice_made"), Some("office.wang")));
    let r = c.req(Method::GET, &format!("/console/api/renewals/{kid}/notice.pdf")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let text = pdftotext(&r.bytes().await.unwrap());
    for needle in ["保养到期通知书", "Expiry Notice", "K-SOON", "C-JINQIAO", "JQ-FACP-01", "JQ-PUMP-01", &day(20), "标准保养", "Standard", "How to renew", "After the contract ends"] {
        assert!(text.contains(needle), "{needle:?} not in the notice: {text}");
    }
    // Sent: how and when, checked.
    for (body, field) in [
        (json!({"kind": "sent", "sent_how": "pigeon", "sent_at": common_ts(Utc::now())}), "sent_how"),
        (json!({"kind": "sent", "sent_how": "post"}), "sent_at"),
        (json!({"kind": "sent", "sent_how": "post", "sent_at": common_ts(Utc::now() + Duration::days(2))}), "sent_at"),
        (json!({"kind": "sent", "sent_how": "post", "sent_at": common_ts(Utc::now() - Duration::days(3))}), "before the notice was made"),
        (json!({"kind": "mailed"}), "kind"),
    ] {
        let (m, p, b) = step(body.clone());
        let (st, kind, msg) = status_kind(c.send(m, &p, b).await).await;
        assert_eq!((st, kind.as_str()), (400, "invalid"), "{body}: {msg}");
        assert!(msg.contains(field), "{field} not in {msg}");
    }
    let (m, p, b) = step(json!({"kind": "sent", "sent_how": "email", "sent_at": common_ts(Utc::now())}));
    assert_eq!(c.send(m, &p, b).await.json::<Value>().await.unwrap()["state"], "sent");
    // The renewal visit: a day and one of the company's people.
    let (m, p, b) = step(json!({"kind": "visit_planned", "visit_on": day(5), "visit_by": "nobody"}));
    assert_eq!(status_kind(c.send(m, &p, b).await).await.0, 400);
    let (m, p, b) = step(json!({"kind": "visit_planned", "visit_on": day(5), "visit_by": "li.wei"}));
    let planned: Value = c.send(m, &p, b).await.json().await.unwrap();
    assert_eq!((planned["state"].as_str(), planned["visit_on"].as_str(), planned["visit_by"].as_str()), (Some("visit_planned"), Some(day(5).as_str()), Some("li.wei")));
    // Renewed: a new contract, renewing the old one, with its assets and level.
    for (nc, field) in [
        (json!({"number": "K-SOON", "starts_on": day(21), "ends_on": day(385)}), "another contract has this number"),
        (json!({"number": "K-NEXT", "starts_on": day(21), "ends_on": day(2)}), "ends_on"),
        (json!({"number": "K-NEXT", "starts_on": day(21), "ends_on": day(385), "service_level": "gold"}), "service_level"),
        (json!({"number": "K-NEXT", "starts_on": day(21), "ends_on": day(385), "asset_ids": [id("assets", "XH-FACP-01")]}), "not an asset of this customer"),
    ] {
        let (m, p, b) = step(json!({"kind": "renewed", "new_contract": nc}));
        let (st, _, msg) = status_kind(c.send(m, &p, b).await).await;
        assert_eq!(st, 400, "{msg}");
        assert!(msg.contains(field), "{field} not in {msg}");
    }
    let (m, p, b) = step(json!({"kind": "renewed", "new_contract": {"number": "K-NEXT", "starts_on": day(21), "ends_on": day(385), "service_level": "full"}}));
    let renewed: Value = c.send(m, &p, b).await.json().await.unwrap();
    assert_eq!((renewed["state"].as_str(), renewed["new_contract_number"].as_str(), renewed["decided_by"].as_str()), (Some("renewed"), Some("K-NEXT"), Some("office.wang")));
    let new_id = renewed["new_contract_id"].as_str().unwrap().to_owned();
    let new = s.record("contracts", &new_id).await.unwrap();
    assert_eq!(new["renewal_of"], json!(kid));
    assert_eq!(new["service_level"], "full");
    assert_eq!(new["customer_id"], json!(id("customers", "C-JINQIAO")));
    assert_eq!(new["asset_ids"], json!([id("assets", "JQ-FACP-01"), id("assets", "JQ-PUMP-01")]));
    // Decided: nothing more to track.
    let (m, p, b) = step(json!({"kind": "lost", "lost_reason": "price"}));
    let (st, _, msg) = status_kind(c.send(m, &p, b).await).await;
    assert_eq!(st, 409);
    assert!(msg.contains("already marked renewed"), "{msg}");
    // Each step audited, in order, by whom.
    let d = c.get(&format!("/console/api/renewals/{kid}")).await;
    let actions: Vec<&str> = d["trail"].as_array().unwrap().iter().map(|t| t["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["renewal_notice_made", "renewal_sent", "renewal_visit_planned", "renewal_renewed"]);
    assert!(d["trail"].as_array().unwrap().iter().all(|t| t["actor"] == "office.wang"));
    assert_eq!(d["covered_assets"].as_array().unwrap().len(), 2);
    // The new contract reaches the technician serving the customer; the renewal record does not.
    let pulled = zhang.pull_all(&s).await;
    assert!(pulled.iter().any(|ch| ch.entity == "contracts" && ch.record_id == new_id), "the renewing contract did not reach zhang.min");
    assert!(pulled.iter().all(|ch| ch.entity != "contract_renewals"));
    // The service level is the office's to change, checked.
    let r = c.send(Method::PATCH, &format!("/console/api/contracts/{new_id}/service-level"), json!({"service_level": "platinum"})).await;
    assert_eq!(status_kind(r).await.0, 400);
    let r = c.send(Method::PATCH, &format!("/console/api/contracts/{new_id}/service-level"), json!({"service_level": "basic"})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(s.record("contracts", &new_id).await.unwrap()["service_level"], "basic");
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'contract_service_level'").await, 1);
}

fn common_ts(t: chrono::DateTime<Utc>) -> String {
    fieldbook_server::store_ts(t)
}

async fn a_lost_renewal_needs_its_reason_and_a_linked_renewal_is_the_same_customers(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let lost = contract(&s, "K-LOST", 10).await;
    let kept = contract(&s, "K-KEPT", 12).await;
    for k in [&lost, &kept] {
        c.post(&format!("/console/api/renewals/{k}/steps"), json!({"kind": "notice_made"})).await;
        c.post(&format!("/console/api/renewals/{k}/steps"), json!({"kind": "sent", "sent_how": "hand", "sent_at": common_ts(Utc::now())})).await;
    }
    let (st, _, msg) = status_kind(c.send(Method::POST, &format!("/console/api/renewals/{lost}/steps"), json!({"kind": "lost", "lost_reason": " "})).await).await;
    assert_eq!(st, 400);
    assert!(msg.contains("lost_reason"), "{msg}");
    let l = c.post(&format!("/console/api/renewals/{lost}/steps"), json!({"kind": "lost", "lost_reason": "价格 / another company was cheaper"})).await;
    assert_eq!((l["state"].as_str(), l["lost_reason"].as_str()), (Some("lost"), Some("价格 / another company was cheaper")));
    // Linking: not itself, not another customer's, not one starting earlier.
    let ruijin = id("contracts", "HT-2025-031");
    let earlier = id("contracts", "HT-2025-017");
    for (nid, says) in [(kept.clone(), "cannot renew itself"), (ruijin, "another customer's"), (earlier, "starts before")] {
        let (st, _, msg) = status_kind(c.send(Method::POST, &format!("/console/api/renewals/{kept}/steps"), json!({"kind": "renewed", "new_contract_id": nid})).await).await;
        assert_eq!(st, 400, "{msg}");
        assert!(msg.contains(says), "{says} not in {msg}");
    }
    let next = contract(&s, "K-KEPT-2", 12 + 365).await;
    let r = c.post(&format!("/console/api/renewals/{kept}/steps"), json!({"kind": "renewed", "new_contract_id": next})).await;
    assert_eq!(r["new_contract_number"], "K-KEPT-2");
    assert_eq!(s.record("contracts", &next).await.unwrap()["renewal_of"], json!(kept));
    // An unknown contract is a 404.
    let (st, _, _) = status_kind(c.send(Method::POST, "/console/api/renewals/no-such/steps", json!({"kind": "notice_made"})).await).await;
    assert_eq!(st, 404);
    assert_eq!(status_kind(c.req(Method::GET, "/console/api/renewals/no-such/notice.pdf").send().await.unwrap()).await.0, 404);
}

async fn no_laptop_writes_contract_terms_or_a_renewal_and_none_pulls_a_renewal(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let kid = contract(&s, "K-SOON", 20).await;
    c.post(&format!("/console/api/renewals/{kid}/steps"), json!({"kind": "notice_made"})).await;
    let mut zhang = Laptop::enroll(&s, "zhang.min").await;
    let pulled = zhang.pull_all(&s).await;
    assert!(pulled.iter().any(|ch| ch.entity == "contracts" && ch.record_id == kid));
    assert!(pulled.iter().all(|ch| ch.entity != "contract_renewals"), "a renewal reached a laptop");
    let rid = format!("renewal-{kid}");
    let entries = vec![
        zhang.entry("contracts", &kid, json!({"service_level": "full"})),
        zhang.entry("contracts", &kid, json!({"renewal_of": id("contracts", "HT-2025-017")})),
        zhang.entry("contract_renewals", &rid, json!({"contract_id": kid, "outcome": "renewed"})),
        zhang.entry("contract_renewals", "renewal-new", json!({"contract_id": kid, "outcome": "lost", "lost_reason": "x"})),
    ];
    let r = zhang.push(&s, &entries).await;
    assert_eq!(r.rejected.len(), 4, "{r:?}");
    let k = s.record("contracts", &kid).await.unwrap();
    assert_eq!((k["service_level"].as_str(), k.get("renewal_of")), (Some("standard"), None));
    assert_eq!(s.record("contract_renewals", &rid).await.unwrap().get("outcome"), None, "the laptop did not decide the renewal");
    assert!(s.record("contract_renewals", "renewal-new").await.is_none());
    // The device token opens no renewal endpoint.
    for path in ["/console/api/renewals".to_owned(), format!("/console/api/renewals/{kid}/notice.pdf")] {
        assert_eq!(zhang.auth(s.req(Method::GET, &path)).send().await.unwrap().status(), 401, "{path}");
    }
}

async fn review_flags_a_repair_recorded_in_another_category_than_the_default(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    contract(&s, "K-SOON", 20).await;
    let order = id("work_orders", "WO-1004");
    let facp = id("assets", "JQ-FACP-01");
    let now = common_ts(Utc::now());
    // JQ-FACP-01 is under K-SOON today: B. Recorded as A, it is flagged with the reason.
    let flagged = uuid::Uuid::now_v7().to_string();
    s.office_write("repair_records", &flagged, repair_record(&order, json!({"asset_id": facp, "category": "A", "recorded_at": now}))).await;
    let agreeing = uuid::Uuid::now_v7().to_string();
    s.office_write("repair_records", &agreeing, repair_record(&order, json!({"asset_id": facp, "category": "B", "recorded_at": now}))).await;
    s.office_write("work_orders", &order, json!({"status": "completed", "completed_at": now, "review_state": "pending"})).await;
    let queue = c.get("/console/api/review").await;
    let item = queue.as_array().unwrap().iter().find(|i| i["id"] == json!(order)).unwrap_or_else(|| panic!("WO-1004 not in review: {queue}"));
    let flags = item["category_flags"].as_array().unwrap();
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!((flags[0]["repair_record_id"].as_str(), flags[0]["category"].as_str(), flags[0]["default_category"].as_str()), (Some(flagged.as_str()), Some("A"), Some("B")));
    assert!(flags[0]["reason"].as_str().unwrap().contains("K-SOON"), "{}", flags[0]);
    // The order's page shows each repair's default; the agreeing one is not flagged.
    let d = c.get(&format!("/console/api/work-orders/{order}")).await;
    let repairs = d["repairs"].as_array().unwrap();
    let of = |rid: &str| repairs.iter().find(|r| r["id"] == json!(rid)).unwrap()["category_default"].clone();
    assert_eq!(of(&flagged)["differs"], true);
    assert_eq!(of(&agreeing)["differs"], false);
    assert_eq!(of(&agreeing)["default"]["reason"], "under_contract");
    // Without the contract (deleted), the panel is out of warranty (2024-06-14): A, no flag.
    s.office_write("contracts", &id("contracts", "K-SOON"), json!({"deleted": true})).await;
    let d = c.get(&format!("/console/api/work-orders/{order}")).await;
    let f = d["repairs"].as_array().unwrap().iter().find(|r| r["id"] == json!(flagged)).unwrap()["category_default"].clone();
    assert_eq!((f["default_category"].as_str(), f["differs"].as_bool()), (Some("A"), Some(false)));
}
