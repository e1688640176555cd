//! The write policy from the attacker's side: an enrolled laptop (buggy, stolen or in the hands
//! of someone who read our code) pushes what no honest laptop would, and the server refuses it,
//! keeps it for review, and leaves the records as the office and the honest laptops made them.
//! Each test names the finding of issue #10 it covers; every scenario runs on SQLite and on
//! PostgreSQL.

mod common;
use common::both;

use std::collections::HashSet;

use common::{id, Backend, Laptop, TestServer};
use fieldbook_core::hlc::{wall_clock_ms, Hlc};
use fieldbook_core::policy::answer_id;
use fieldbook_server::db::Mode;
use reqwest::Method;
use serde_json::{json, Value};

both!(
    moving_an_order_to_another_customer_is_refused_and_grants_nothing,
    office_owned_order_fields_cannot_be_written_from_a_laptop,
    forged_and_far_future_stamps_are_refused_and_office_writes_still_win,
    a_maximal_counter_does_not_overflow_the_servers_clock,
    another_technicians_answer_id_cannot_be_squatted,
    values_no_laptop_can_store_are_refused,
    a_follow_up_cannot_take_a_number_or_a_site_it_has_no_right_to,
    one_concurrent_answer_is_one_conflict,
    a_second_satisfaction_card_for_an_order_is_refused,
    contract_terms_and_renewals_cannot_be_written_from_a_laptop,
    a_correction_reaches_only_whitelisted_fields_of_its_own_orders_records,
    a_workshop_receipt_is_voided_only_by_the_customers_return_signature,
);

/// A complete answer as the laptop writes it.
fn answer(order: &str, item: &str, asset: &str, value: Value) -> Value {
    json!({"work_order_id": order, "item_key": item, "asset_id": asset, "value": value, "note": null,
           "answered_at": "2026-03-02T08:00:00.000Z", "deleted": false})
}

fn rejected_reasons(r: &fieldbook_core::sync::protocol::PushResponse) -> Vec<String> {
    r.rejected.iter().map(|x| x.reason.clone()).collect()
}

/// Finding 1: ids are UUIDv5 of public codes, so any customer can be named. Moving one's own
/// order there must neither be applied nor grant that customer's records.
async fn moving_an_order_to_another_customer_is_refused_and_grants_nothing(b: Backend) {
    let s = TestServer::with_demo(b).await;
    s.import(common::private_company()).await.unwrap();
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let order = id("work_orders", "WO-1002");
    let moves = [
        li.entry("work_orders", &order, json!({"site_id": id("sites", "S-PRIVATE"), "customer_id": id("customers", "C-PRIVATE")})),
        li.entry("work_orders", &order, json!({"site_id": id("sites", "S-PRIVATE")})),
        li.entry("work_orders", &order, json!({"customer_id": id("customers", "C-PRIVATE")})),
        li.entry("work_orders", &order, json!({"asset_ids": [id("assets", "A-PRIVATE")]})),
    ];
    let r = li.push(&s, &moves).await;
    assert_eq!((r.applied, r.rejected.len()), (0, 4), "{:?}", r.rejected);
    assert!(r.rejected.iter().all(|x| x.reason.contains("fixed once the record exists")), "{:?}", rejected_reasons(&r));
    let stored = s.record("work_orders", &order).await.unwrap();
    assert_eq!(stored["site_id"], json!(id("sites", "S-XH-PLANT")));
    // Nothing of the other customer reaches the laptop, now or later.
    let got: HashSet<String> = li.pull_all(&s).await.into_iter().map(|c| c.record_id).collect();
    for (entity, code) in [("customers", "C-PRIVATE"), ("sites", "S-PRIVATE"), ("assets", "A-PRIVATE"), ("contracts", "HT-PRIVATE")] {
        assert!(!got.contains(&id(entity, code)), "{entity} {code} leaked to li.wei");
    }
    assert_eq!(s.count("SELECT count(*) FROM rejected_changes").await, 4, "refused changes are kept for review");
}

/// Finding 4: the deadline, the time of call (the response report), the number, kind, priority,
/// template and the order's tombstone are the office's.
async fn office_owned_order_fields_cannot_be_written_from_a_laptop(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let order = id("work_orders", "WO-1002");
    let before = s.record("work_orders", &order).await.unwrap();
    let writes = [
        json!({"response_deadline": "2030-01-01T00:00:00.000Z"}),
        json!({"reported_at": "2026-03-02T09:59:00.000Z"}),
        json!({"number": "WO-0001"}),
        json!({"kind": "maintenance"}),
        json!({"priority": "urgent"}),
        json!({"template_id": id("checklist_templates", "FP-PATROL@3")}),
        json!({"deleted": true}),
        json!({"technician": "zhang.min"}),
        json!({"review_state": "approved"}),
        json!({"scheduled_on": "2026-01-01"}),
        json!({"category": "D"}),
        // The inspection plan an order came from and its contract phase (#12) are the server's.
        json!({"plan_id": "made-up-plan"}),
        json!({"phase": "late"}),
    ];
    let entries: Vec<_> = writes.iter().map(|f| li.entry("work_orders", &order, f.clone())).collect();
    let r = li.push(&s, &entries).await;
    assert_eq!((r.applied, r.rejected.len()), (0, writes.len()), "{:?}", rejected_reasons(&r));
    for (w, reason) in writes.iter().zip(rejected_reasons(&r)) {
        assert!(reason.contains("WO-1002") || reason.contains(&order), "{w}: the message names the order: {reason}");
        assert!(reason.contains("office"), "{w}: the message says who may change it: {reason}");
    }
    assert_eq!(s.record("work_orders", &order).await.unwrap(), before, "the order is as the office left it");
    // What the technician does own still goes through, in the same kind of push.
    let mine = li.entry("work_orders", &order, json!({"status": "en_route", "en_route_at": "2026-03-02T08:10:00.000Z"}));
    assert_eq!(li.push(&s, &[mine]).await.applied, 1);
}

/// Findings 2 and 11: a stamp is taken only in canonical form and not far ahead of the server,
/// so the server's clock stays where it is and later office decisions win.
async fn forged_and_far_future_stamps_are_refused_and_office_writes_still_win(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let order = id("work_orders", "WO-1002");
    let status_before = s.record("work_orders", &order).await.unwrap()["status"].clone();
    let mut forged = Vec::new();
    for hlc in [
        format!("9-0-{}", li.device_id),
        format!("999999999999999-0000000000-{}", li.device_id),
        format!("{:015}-0000000000-{}", u64::MAX / 1000, li.device_id),
        format!("{:015}-0000000000-{}", wall_clock_ms() + 3_600_000, li.device_id),
        format!("{:015}-0000000000-server", wall_clock_ms()),
        format!("{:015}-00000000001-{}", wall_clock_ms(), li.device_id),
    ] {
        let mut e = li.entry("work_orders", &order, json!({"status": "on_site"}));
        e.hlc = hlc;
        forged.push(e);
    }
    let r = li.push(&s, &forged).await;
    assert_eq!((r.applied, r.rejected.len()), (0, 6), "{:?}", rejected_reasons(&r));
    let reasons = rejected_reasons(&r);
    assert!(reasons[0].contains("not a clock stamp"), "{reasons:?}");
    assert!(reasons[1].contains("ahead of the server") && reasons[3].contains("ahead of the server"), "{reasons:?}");
    assert!(reasons[4].contains("not by this laptop"), "{reasons:?}");
    assert!(reasons[5].contains("not a clock stamp"), "{reasons:?}");
    // The server's clock did not move into the future.
    let status: Value = s.req(Method::GET, "/api/status").send().await.unwrap().json().await.unwrap();
    let server: Hlc = status["server_hlc"].as_str().unwrap().parse().unwrap();
    assert!(server.wall_ms < wall_clock_ms() + 60_000, "server_hlc {server} ran ahead");
    // An office decision after that push wins over the laptop's value.
    let mut doc = common::demo_doc();
    doc.work_orders.iter_mut().find(|w| w.number == "WO-1002").unwrap().problem = Some("office: check the seal again".into());
    s.import(doc).await.unwrap();
    assert_eq!(s.record("work_orders", &order).await.unwrap()["problem"], "office: check the seal again");
    assert_eq!(s.record("work_orders", &order).await.unwrap()["status"], status_before, "no forged status was applied");
}

/// Finding 11: a counter of u32::MAX is a canonical stamp; observing it must not overflow.
async fn a_maximal_counter_does_not_overflow_the_servers_clock(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let order = id("work_orders", "WO-1002");
    let mut e = li.entry("work_orders", &order, json!({"status": "en_route"}));
    // Two seconds ahead (well inside the bound), so the server's clock must continue from this
    // very stamp rather than from its own later wall time.
    let wall = wall_clock_ms() + 2_000;
    e.hlc = Hlc::new(wall, u32::MAX, li.device_id.clone()).to_string();
    let r = li.push(&s, &[e.clone()]).await;
    assert_eq!(r.applied, 1, "{:?}", r.rejected);
    let server: Hlc = r.server_hlc.parse().unwrap();
    assert!(server > Hlc::new(wall, u32::MAX, li.device_id.clone()), "{server} is not after the laptop's stamp");
    // The office's next write still sorts after the laptop's.
    let mut doc = common::demo_doc();
    doc.work_orders.iter_mut().find(|w| w.number == "WO-1002").unwrap().problem = Some("office: after the laptop".into());
    s.import(doc).await.unwrap();
    assert_eq!(s.record("work_orders", &order).await.unwrap()["problem"], "office: after the laptop");
}

/// Finding 5: answer ids are derived from order, item and asset; technician B cannot create A's
/// future answer id under B's own order and so block A's push forever.
async fn another_technicians_answer_id_cannot_be_squatted(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let mut zhang = Laptop::enroll(&s, "zhang.min").await;
    li.pull_all(&s).await;
    zhang.pull_all(&s).await;
    let (li_order, zhang_order) = (id("work_orders", "WO-1001"), id("work_orders", "WO-1004"));
    let slot = answer_id(&li_order, "alarm.self_test", "");
    let squat = zhang.entry("inspection_answers", &slot, answer(&zhang_order, "alarm.self_test", "", json!("pass")));
    let r = zhang.push(&s, &[squat]).await;
    assert_eq!(r.applied, 0);
    assert!(r.rejected[0].reason.contains("should be"), "{:?}", r.rejected);
    // A's answer under that id is accepted afterwards.
    let real = li.entry("inspection_answers", &slot, answer(&li_order, "alarm.self_test", "", json!("pass")));
    let r = li.push(&s, &[real]).await;
    assert_eq!((r.applied, r.rejected.len()), (1, 0), "{:?}", r.rejected);
}

/// Finding 10, server side: what a laptop's schema cannot store must never reach the feed, or
/// every laptop of that technician stops syncing at that record.
async fn values_no_laptop_can_store_are_refused(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let order = id("work_orders", "WO-1002");
    let repair = |extra: Value| {
        let mut r = json!({"work_order_id": order, "asset_id": null, "fault": "泄漏", "cause": "密封老化", "action": "更换", "parts": [],
                           "labour_minutes": 30, "category": "A", "fee_cents": 0, "fee_collected": false, "taken_to_workshop": false,
                           "receipt_number": null, "recorded_at": "2026-03-02T09:00:00.000Z", "deleted": false});
        r.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        r
    };
    let time = |extra: Value| {
        let mut t = json!({"technician": "li.wei", "work_order_id": order, "repair_record_id": null, "work_date": "2026-03-02",
                           "category": "A", "minutes": 30, "note": null, "deleted": false});
        t.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        t
    };
    let card = |extra: Value| {
        let mut c = json!({"work_order_id": order, "attitude": 4, "skill": 4, "arrival": 4, "promise": 4, "comment": null,
                           "rated_at": "2026-03-02T10:00:00.000Z", "deleted": false});
        c.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        c
    };
    let bad = [
        li.entry("work_orders", &order, json!({"status": "bogus"})),
        li.entry("work_orders", &order, json!({"revision": -7})),
        li.entry("work_orders", &order, json!({"arrived_at": "2026-02-30T08:00:00.000Z"})),
        li.entry("repair_records", "rr-z", repair(json!({"category": "Z"}))),
        li.entry("repair_records", "rr-neg", repair(json!({"labour_minutes": -5}))),
        li.entry("repair_records", "rr-nul", repair(json!({"fault": null}))),
        li.entry("repair_records", "rr-asset", repair(json!({"asset_id": id("assets", "JQ-FACP-01")}))),
        li.entry("time_entries", "te-neg", time(json!({"minutes": -5}))),
        li.entry("time_entries", "te-date", time(json!({"work_date": "2026-02-30"}))),
        li.entry("time_entries", "te-act", time(json!({"activity": "lunch"}))),
        li.entry("time_entries", "te-day", time(json!({"minutes": 1441}))),
        li.entry("satisfaction_cards", "sc-99", card(json!({"attitude": 99}))),
        li.entry("satisfaction_cards", "sc-zh", card(json!({"rated_at": "2026-03-0中"}))),
        li.entry("repair_records", "rr-part", repair(json!({"recorded_at": null}))),
    ];
    let n = bad.len();
    let resp = li.push_raw(&s, &bad).await;
    assert_eq!(resp.status(), 200, "no 5xx for malformed text");
    let r: fieldbook_core::sync::protocol::PushResponse = resp.json().await.unwrap();
    assert_eq!((r.applied, r.rejected.len()), (0, n), "{:?}", rejected_reasons(&r));
    assert_eq!(s.count("SELECT count(*) FROM records WHERE entity IN ('repair_records', 'time_entries', 'satisfaction_cards')").await, 0);
    // The same records, valid, are accepted: the refusals were about the values.
    let good = [li.entry("repair_records", "rr-ok", repair(json!({}))), li.entry("time_entries", "te-ok", time(json!({"activity": "travel"}))), li.entry("satisfaction_cards", "sc-ok", card(json!({})))];
    let r = li.push(&s, &good).await;
    assert_eq!((r.applied, r.rejected.len()), (3, 0), "{:?}", r.rejected);
}

/// A laptop creates orders only as follow-ups of its own findings: not at another customer's
/// site, and not under a number the office will give a call (every laptop holds numbers unique).
async fn a_follow_up_cannot_take_a_number_or_a_site_it_has_no_right_to(b: Backend) {
    let s = TestServer::with_demo(b).await;
    s.import(common::private_company()).await.unwrap();
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let parent = id("work_orders", "WO-1002");
    let follow_up = |number: &str, site: &str, customer: &str, finding: &str| {
        json!({"number": number, "kind": "repair_call", "customer_id": id("customers", customer), "site_id": id("sites", site),
               "asset_ids": [], "technician": "li.wei", "priority": "high", "category": "A", "status": "dispatched", "template_id": null,
               "problem": "finding", "scheduled_on": "2026-03-02", "reported_at": "2026-03-02T09:00:00.000Z",
               "response_deadline": "2026-03-02T15:00:00.000Z", "revision": 1, "follow_up_of": finding, "deleted": false})
    };
    let own_finding = format!("{parent}/pump.leak");
    let entries = [
        li.entry("work_orders", "f-1", follow_up("WO-2000", "S-XH-PLANT", "C-XINGHUA", &own_finding)),
        li.entry("work_orders", "f-2", follow_up("WO-1002-F1", "S-PRIVATE", "C-PRIVATE", &own_finding)),
        li.entry("work_orders", "f-3", follow_up("WO-9001-F1", "S-XH-PLANT", "C-XINGHUA", &format!("{}/x", id("work_orders", "WO-9001")))),
        li.entry("work_orders", "f-4", follow_up("WO-1002-F1", "S-XH-PLANT", "C-JINQIAO", &own_finding)),
        li.entry("work_orders", "f-ok", follow_up("WO-1002-F1", "S-XH-PLANT", "C-XINGHUA", &own_finding)),
        li.entry("work_orders", "f-dup", follow_up("WO-1002-F1", "S-XH-PLANT", "C-XINGHUA", &own_finding)),
    ];
    let r = li.push(&s, &entries).await;
    let reasons = rejected_reasons(&r);
    assert_eq!((r.applied, reasons.len()), (1, 5), "{reasons:?}");
    assert!(reasons[0].contains("-F"), "{reasons:?}");
    assert!(reasons[1].contains("site of one of your own"), "{reasons:?}");
    assert!(reasons[2].contains("assigned to zhang.min"), "{reasons:?}");
    assert!(reasons[3].contains("customer of its site"), "{reasons:?}");
    assert!(reasons[4].contains("already another work order"), "{reasons:?}");
    assert_eq!(s.record("work_orders", "f-ok").await.unwrap()["number"], "WO-1002-F1");
}

/// Finding 16: a concurrent answer is one decision for the office, on the value, not a second
/// one on `answered_at`, which every edit restamps.
async fn one_concurrent_answer_is_one_conflict(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut a = Laptop::enroll(&s, "li.wei").await;
    let mut b2 = Laptop::enroll(&s, "li.wei").await;
    a.pull_all(&s).await;
    b2.pull_all(&s).await;
    let order = id("work_orders", "WO-1001");
    let slot = answer_id(&order, "alarm.self_test", "");
    let first = a.entry("inspection_answers", &slot, answer(&order, "alarm.self_test", "", json!("pass")));
    assert_eq!(a.push(&s, &[first]).await.applied, 1);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let mut other = answer(&order, "alarm.self_test", "", json!("fail"));
    other["answered_at"] = json!("2026-03-02T08:05:00.000Z");
    let second = b2.entry("inspection_answers", &slot, other);
    let r = b2.push(&s, &[second]).await;
    assert_eq!(r.conflicts, 1);
    let fields = s
        .run_db(|db| db.transaction(Mode::Read, |tx| tx.query("SELECT field FROM conflicts", &[])?.iter().map(|r| r.text(0)).collect::<Result<Vec<_>, _>>()))
        .await
        .unwrap();
    assert_eq!(fields, ["value"]);
}

/// The laptop holds one card per order (UNIQUE): a second card under another id would stop
/// every laptop of the technician at that record.
async fn a_second_satisfaction_card_for_an_order_is_refused(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let order = id("work_orders", "WO-1002");
    let card = json!({"work_order_id": order, "attitude": 4, "skill": 4, "arrival": 3, "promise": 4, "comment": null,
                      "rated_at": "2026-03-02T10:00:00.000Z", "deleted": false});
    let first = li.entry("satisfaction_cards", "card-1", card.clone());
    assert_eq!(li.push(&s, &[first]).await.applied, 1);
    let again = [li.entry("satisfaction_cards", "card-2", card.clone()), li.entry("satisfaction_cards", "card-1", json!({"attitude": 2}))];
    let r = li.push(&s, &again).await;
    assert_eq!((r.applied, r.rejected.len()), (1, 1), "{:?}", r.rejected);
    assert!(r.rejected[0].reason.contains("already has a satisfaction card"), "{:?}", r.rejected);
}


/// Contracts and renewals (#12): a laptop serving a customer receives its contracts, but can
/// neither give one a service level or a renewal link (a cheaper default category B for its
/// repairs) nor record a renewal's step; the contract stays as the office left it.
async fn contract_terms_and_renewals_cannot_be_written_from_a_laptop(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let contract = id("contracts", "HT-2025-017");
    let before = s.record("contracts", &contract).await.unwrap();
    let writes = [
        ("contracts", contract.clone(), json!({"service_level": "full"})),
        ("contracts", contract.clone(), json!({"renewal_of": id("contracts", "HT-2025-031")})),
        ("contracts", contract.clone(), json!({"ends_on": "2030-12-31"})),
        ("contract_renewals", format!("renewal-{contract}"), json!({"contract_id": contract, "outcome": "renewed", "new_contract_id": contract})),
    ];
    let entries: Vec<_> = writes.iter().map(|(e, i, f)| li.entry(e, i, f.clone())).collect();
    let r = li.push(&s, &entries).await;
    assert_eq!((r.applied, r.rejected.len()), (0, writes.len()), "{:?}", rejected_reasons(&r));
    let reasons = rejected_reasons(&r);
    assert!(reasons[..3].iter().all(|m| m.contains("reference data")), "{reasons:?}");
    assert!(reasons[3].contains("service desk"), "{reasons:?}");
    assert_eq!(s.record("contracts", &contract).await.unwrap(), before, "the contract is as the office left it");
    assert!(s.record("contract_renewals", &format!("renewal-{contract}")).await.is_none());
}

/// #12: a technician proposes corrections to the customer, site or assets of their own orders —
/// only the whitelisted fields, never the office's decision — and never writes the records (or a
/// merge) directly; a private company's customer is out of reach even through an honest order.
async fn a_correction_reaches_only_whitelisted_fields_of_its_own_orders_records(b: Backend) {
    let s = TestServer::with_demo(b).await;
    s.import(common::private_company()).await.unwrap();
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let order = id("work_orders", "WO-1002");
    let fix = |target: &str, record: String, field: &str, extra: Value| {
        let mut v = json!({"work_order_id": order, "record_entity": target, "record_id": record, "field": field, "old_value": null, "value": "新值 / new",
                           "note": null, "proposed_at": "2026-03-02T08:00:00.000Z", "proposed_by": "li.wei", "deleted": false});
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    let refused = [
        ("another customer", fix("customers", id("customers", "C-PRIVATE"), "phone", json!({}))),
        ("an asset of another site", fix("assets", id("assets", "JQ-FACP-01"), "serial", json!({}))),
        ("an unknown asset", fix("assets", "no-such-asset".into(), "serial", json!({}))),
        ("a customer's name", fix("customers", id("customers", "C-XINGHUA"), "name", json!({}))),
        ("an asset's warranty", fix("assets", id("assets", "XH-PUMP-01"), "warranty_ends", json!({}))),
        ("a decision", fix("customers", id("customers", "C-XINGHUA"), "phone", json!({"status": "confirmed"}))),
        ("a value no laptop can store", fix("customers", id("customers", "C-XINGHUA"), "phone", json!({"value": "x".repeat(201)}))),
    ];
    for (i, (what, fields)) in refused.into_iter().enumerate() {
        let e = li.entry("corrections", &format!("bad-{i}"), fields);
        let r = li.push(&s, &[e]).await;
        assert_eq!((r.applied, r.rejected.len()), (0, 1), "{what}: {:?}", r.rejected);
    }
    for direct in [json!({"phone": "021-0000 0000"}), json!({"merged_into": id("customers", "C-JINQIAO"), "deleted": true})] {
        let e = li.entry("customers", &id("customers", "C-XINGHUA"), direct.clone());
        let r = li.push(&s, &[e]).await;
        assert!(rejected_reasons(&r).iter().any(|x| x.contains("reference data")), "{direct}: {:?}", r.rejected);
    }
    let ok = li.entry("corrections", "good-1", fix("sites", id("sites", "S-XH-PLANT"), "address", json!({})));
    assert_eq!(li.push(&s, &[ok]).await.applied, 1);
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM records WHERE entity = 'corrections'").await, 1);
}

/// The workshop loop (#12): a laptop holding a unit's receipt cannot book the unit through the
/// workshop itself, nor void the receipt (the customer's proof of what they handed over) without
/// the customer's signature on return, nor change the receipt once written.
async fn a_workshop_receipt_is_voided_only_by_the_customers_return_signature(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let order = id("work_orders", "WO-1002");
    let rr = li.entry("repair_records", "rr-ws", common::repair_record(&order, json!({"taken_to_workshop": true, "receipt_number": "SJ-7"})));
    let receipt = li.entry("workshop_jobs", "ws-1", json!({"work_order_id": order, "repair_record_id": "rr-ws", "receipt_number": "SJ-7", "unit": "GST200",
        "condition": "ok", "received_at": "2026-03-02T08:00:00.000Z", "received_by": "li.wei", "receipt_signer": "王经理", "deleted": false}));
    assert!(li.push(&s, &[rr, receipt]).await.rejected.is_empty());
    let bad = [
        li.entry("workshop_jobs", "ws-1", json!({"check_result": "passed"})),
        li.entry("workshop_jobs", "ws-1", json!({"goods_out_at": "2026-03-02T10:00:00.000Z", "goods_out_by": "li.wei"})),
        li.entry("workshop_jobs", "ws-1", json!({"receipt_voided_at": "2026-03-02T10:00:00.000Z"})),
        li.entry("workshop_jobs", "ws-1", json!({"receipt_voided_at": "2026-03-02T10:00:00.000Z", "return_signer": "王经理", "returned_at": "2026-03-02T10:00:00.000Z", "return_strokes": [[{"x": "NaN", "y": 1, "t": 0}]]})),
        li.entry("workshop_jobs", "ws-1", json!({"deleted": true})),
        li.entry("workshop_jobs", "ws-1", json!({"receipt_number": "SJ-8"})),
    ];
    let n = bad.len();
    let r = li.push(&s, &bad).await;
    assert_eq!((r.applied, r.rejected.len()), (0, n), "{:?}", rejected_reasons(&r));
    let job = s.record("workshop_jobs", "ws-1").await.unwrap();
    assert!(job.get("receipt_voided_at").is_none_or(Value::is_null), "{job:?}");
    assert!(job.get("check_result").is_none_or(Value::is_null) && job.get("goods_out_at").is_none_or(Value::is_null), "{job:?}");
    assert_eq!((job["deleted"].as_bool(), job["receipt_number"].as_str()), (Some(false), Some("SJ-7")));
}
