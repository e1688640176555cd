//! Sync over HTTP against the real server, every scenario on SQLite and on PostgreSQL:
//! enrolment, push idempotency, pull pages and scope, the refusals (reference data, other
//! technicians' orders, signed records, bad signatures), conflicts, revocation, protocol
//! versions, scope grants on reassignment, and a real laptop store syncing end to end.

mod common;
use common::both;

use std::collections::HashSet;

use common::{error_of, id, Backend, Laptop, TestServer};
use fieldbook_core::sync::protocol::{EnrollRequest, PROTOCOL_HEADER, PROTOCOL_VERSION};
use fieldbook_server::db::Mode;
use reqwest::Method;
use serde_json::json;

both!(
    enrolment_code_works_once,
    push_is_applied_exactly_once,
    pull_pages_in_order_and_only_within_scope,
    reference_data_cannot_be_written_by_a_laptop,
    signed_orders_are_locked_until_amended,
    signatures_are_verified_on_arrival,
    concurrent_office_and_laptop_edits_are_kept_as_conflicts,
    other_protocol_versions_are_told_to_update,
    revoked_laptops_are_refused_with_the_wipe_order,
    reassigned_orders_arrive_complete,
    a_laptop_store_syncs_end_to_end,
    import_is_all_or_nothing,
);

async fn enrolment_code_works_once(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let code = s.code_for("li.wei").await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let req = |device: &str, code: &str| EnrollRequest {
        code: code.to_owned(),
        device_id: device.to_owned(),
        public_key: hex::encode(key.verifying_key().as_bytes()),
        device_name: None,
    };
    // Typed carelessly: lower case, spaces instead of dashes.
    let typed = code.to_lowercase().replace('-', " ");
    let first = s.req(Method::POST, "/api/enroll").json(&req("laptop-1", &typed)).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let token = first.json::<serde_json::Value>().await.unwrap()["device_token"].as_str().unwrap().to_owned();
    let again = s.req(Method::POST, "/api/enroll").json(&req("laptop-2", &code)).send().await.unwrap();
    let e = error_of(again, 401).await;
    assert_eq!(e.kind, "unauthorized");
    assert!(e.message.contains("already used"), "{}", e.message);
    // The token works; a made-up one does not.
    let ok = s.req(Method::GET, "/api/sync/pull").bearer_auth(&token).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let bad = s.req(Method::GET, "/api/sync/pull").bearer_auth("0".repeat(64)).send().await.unwrap();
    assert_eq!(error_of(bad, 401).await.kind, "unauthorized");
    // Codes are kept hashed, tokens too.
    let plain = s.count("SELECT count(*) FROM enrolment_codes WHERE code_hash LIKE '%-%'").await;
    assert_eq!(plain, 0);
    // Only technicians enrol.
    let err = s.run_db(|db| db.transaction(Mode::Write, |tx| fieldbook_server::enrolment::issue_code(tx, "nobody", 1))).await.unwrap_err();
    assert!(err.to_string().contains("no user 'nobody'"), "{err}");
}

async fn push_is_applied_exactly_once(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut laptop = Laptop::enroll(&s, "li.wei").await;
    laptop.pull_all(&s).await;
    let order = id("work_orders", "WO-1002");
    let entries: Vec<_> = (1..=6)
        .map(|i| {
            laptop.entry("time_entries", &format!("te-{i}"), json!({
                "technician": "li.wei", "work_order_id": order, "work_date": "2026-03-02", "category": "A", "minutes": 10 * i, "deleted": false
            }))
        })
        .collect();
    let feed_before = s.count("SELECT count(*) FROM feed").await;
    // The first half arrives, then the answer is lost: the laptop resends everything.
    let r1 = laptop.push(&s, &entries[..3]).await;
    assert_eq!((r1.acked_seq, r1.applied, r1.duplicates), (3, 3, 0));
    let r2 = laptop.push(&s, &entries).await;
    assert_eq!((r2.acked_seq, r2.applied, r2.duplicates), (6, 3, 3));
    // The same batch again changes nothing.
    let r3 = laptop.push(&s, &entries).await;
    assert_eq!((r3.acked_seq, r3.applied, r3.duplicates), (6, 0, 6));
    assert_eq!(s.count("SELECT count(*) FROM feed").await - feed_before, 6, "one feed entry per applied change");
    assert_eq!(s.count("SELECT count(*) FROM records WHERE entity = 'time_entries'").await, 6);
    assert_eq!(s.record("time_entries", "te-4").await.unwrap()["minutes"], 40);
    // A batch out of order is refused whole.
    let mut bad = vec![laptop.entry("time_entries", "te-x", json!({"minutes": 1})), laptop.entry("time_entries", "te-y", json!({"minutes": 1}))];
    bad.reverse();
    assert_eq!(error_of(laptop.push_raw(&s, &bad).await, 400).await.kind, "invalid");
}

async fn pull_pages_in_order_and_only_within_scope(b: Backend) {
    let s = TestServer::with_demo(b).await;
    s.import(common::private_company()).await.unwrap();
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let mut pages = 0;
    loop {
        let page = li.pull_page(&s, 7).await;
        pages += 1;
        assert!(page.changes.len() <= 7);
        if !page.more {
            break;
        }
        assert_eq!(page.changes.len(), 7, "a page before the last is full");
    }
    assert!(pages >= 3, "{pages} pages");
    let seqs: Vec<i64> = li.pulled.iter().map(|c| c.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in seq order, no repeats: {seqs:?}");
    // An empty page keeps the cursor.
    let last = li.cursor;
    let empty = li.pull_page(&s, 7).await;
    assert!(empty.changes.is_empty() && !empty.more && empty.next_cursor == last);

    let got: HashSet<(String, String)> = li.pulled.iter().map(|c| (c.entity.clone(), c.record_id.clone())).collect();
    for (entity, code) in [("work_orders", "WO-1001"), ("work_orders", "WO-1002"), ("customers", "C-JINQIAO"), ("sites", "S-RJ-SCHOOL"), ("checklist_templates", "FP-PATROL@3"), ("parts", "GAUGE-1.6"), ("contracts", "HT-2025-031")] {
        assert!(got.contains(&(entity.to_owned(), id(entity, code))), "li.wei should have {entity} {code}");
    }
    for (entity, code) in [("work_orders", "WO-1004"), ("work_orders", "WO-9001"), ("customers", "C-PRIVATE"), ("sites", "S-PRIVATE"), ("assets", "A-PRIVATE"), ("contracts", "HT-PRIVATE")] {
        assert!(!got.contains(&(entity.to_owned(), id(entity, code))), "li.wei must not get zhang.min's {entity} {code}");
    }
    // Every change carries the record's full state.
    let wo = li.pulled.iter().rev().find(|c| c.record_id == id("work_orders", "WO-1001")).unwrap();
    assert_eq!(wo.fields.len(), wo.stamps().len(), "every field has a stamp");
    assert!(wo.fields.contains_key("customer_id") && wo.fields.contains_key("status"));

    // zhang.min gets their private company; and li.wei cannot write to zhang.min's orders.
    let mut zhang = Laptop::enroll(&s, "zhang.min").await;
    let z: HashSet<String> = zhang.pull_all(&s).await.into_iter().map(|c| c.record_id).collect();
    assert!(z.contains(&id("customers", "C-PRIVATE")) && z.contains(&id("work_orders", "WO-9001")) && z.contains(&id("contracts", "HT-PRIVATE")));
    assert!(!z.contains(&id("work_orders", "WO-1001")));
    let steal = [
        li.entry("work_orders", &id("work_orders", "WO-9001"), json!({"problem": "mine now"})),
        li.entry("repair_records", "rr-steal", common::repair_record(&id("work_orders", "WO-1004"), json!({}))),
        li.entry("work_orders", &id("work_orders", "WO-1001"), json!({"technician": "zhang.min"})),
    ];
    let r = li.push(&s, &steal).await;
    assert_eq!((r.applied, r.rejected.len(), r.acked_seq), (0, 3, 3));
    assert!(r.rejected[0].reason.contains("assigned to zhang.min"), "{}", r.rejected[0].reason);
    assert!(r.rejected[2].reason.contains("ask the office"), "{}", r.rejected[2].reason);
    assert_eq!(s.record("work_orders", &id("work_orders", "WO-9001")).await.unwrap()["problem"], "报警");
    assert_eq!(s.count("SELECT count(*) FROM rejected_changes").await, 3);
    // A follow-up at a site li.wei does not serve: tests/policy_attacks.rs.
}

async fn reference_data_cannot_be_written_by_a_laptop(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let entries = [
        li.entry("customers", &id("customers", "C-JINQIAO"), json!({"name": "renamed"})),
        li.entry("parts", &id("parts", "GAUGE-1.6"), json!({"price_cents": 1})),
        li.entry("checklist_templates", "t-new", json!({"code": "X", "version": 1})),
        li.entry("no_such_table", "x", json!({"a": 1})),
        li.entry("work_orders", &id("work_orders", "WO-1001"), json!({"no_such_field": 1})),
        li.entry("work_orders", &id("work_orders", "WO-1001"), json!({"revision": "two"})),
    ];
    let r = li.push(&s, &entries).await;
    assert_eq!(r.applied, 0);
    assert_eq!(r.acked_seq, entries.last().unwrap().seq, "refused entries are acknowledged: resending cannot help");
    let reasons: Vec<&str> = r.rejected.iter().map(|x| x.reason.as_str()).collect();
    assert!(reasons[0].contains("reference data") && reasons[1].contains("reference data") && reasons[2].contains("reference data"), "{reasons:?}");
    assert!(reasons[3].contains("not a kind of record"), "{reasons:?}");
    assert!(reasons[4].contains("no field 'no_such_field'"), "{reasons:?}");
    assert!(reasons[5].contains("whole number"), "{reasons:?}");
    assert_eq!(s.record("customers", &id("customers", "C-JINQIAO")).await.unwrap()["name"], "金桥国际商业广场");
}

async fn signed_orders_are_locked_until_amended(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let order = id("work_orders", "WO-1002");
    let repair = common::repair_record(&order, json!({}));
    let before = [
        li.entry("repair_records", "rr-1", repair.clone()),
        li.entry("work_orders", &order, json!({"status": "completed", "completed_at": "2026-03-02T09:00:00.000Z"})),
    ];
    assert_eq!(li.push(&s, &before).await.applied, 2);
    // Marking it signed without a signature is refused; with one it is accepted.
    let premature = li.entry("work_orders", &order, json!({"status": "signed"}));
    assert!(li.push(&s, &[premature]).await.rejected[0].reason.contains("no customer signature"));
    let sign = [li.signature(&order, 1, &common::signable(&s, &order).await), li.entry("work_orders", &order, json!({"status": "signed"}))];
    let r = li.push(&s, &sign).await;
    assert_eq!((r.applied, r.rejected.len()), (2, 0), "{:?}", r.rejected);
    assert_eq!(s.record("work_orders", &order).await.unwrap()["status"], "signed");

    // Now locked: its repair records and its own fields.
    let edits = [
        li.entry("repair_records", "rr-1", json!({"action": "changed after signing"})),
        li.entry("repair_records", "rr-2", repair.clone()),
        li.entry("work_orders", &order, json!({"arrived_at": "2026-03-02T11:00:00.000Z"})),
    ];
    let r = li.push(&s, &edits).await;
    assert_eq!(r.applied, 0);
    assert_eq!(r.rejected.len(), 3);
    assert!(r.rejected.iter().all(|x| x.reason.contains("signed (revision 1) and locked")), "{:?}", r.rejected);
    assert_eq!(s.record("repair_records", "rr-1").await.unwrap()["action"], "更换机械密封");
    // The amendment (the revision bump) is accepted, and after it the order is editable again.
    let amend = [
        li.entry("work_orders", &order, json!({"status": "on_site", "revision": 2, "completed_at": null})),
        li.entry("amendments", "am-1", json!({"work_order_id": order, "from_revision": 1, "reason": "wrong part recorded", "amended_by": "li.wei", "amended_at": "2026-03-02T10:00:00.000Z", "deleted": false})),
        li.entry("repair_records", "rr-1", json!({"action": "更换机械密封 45mm"})),
    ];
    let r = li.push(&s, &amend).await;
    assert_eq!((r.applied, r.rejected.len()), (3, 0), "{:?}", r.rejected);
    let o = s.record("work_orders", &order).await.unwrap();
    assert_eq!((o["status"].as_str(), o["revision"].as_i64()), (Some("on_site"), Some(2)));
    assert_eq!(s.record("repair_records", "rr-1").await.unwrap()["action"], "更换机械密封 45mm");
}

async fn signatures_are_verified_on_arrival(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let order = id("work_orders", "WO-1003");
    let content = common::signable(&s, &order).await;
    // The content changed after the digest was taken.
    let mut tampered = li.signature(&order, 1, &content);
    tampered.fields.insert("signed_content".into(), json!("something else"));
    // Signed by a key that is not this laptop's.
    let mut other = Laptop::enroll(&s, "li.wei").await;
    let mut foreign = other.signature(&order, 1, &content);
    let fresh = li.entry("signatures", "x", json!({}));
    foreign.seq = fresh.seq;
    foreign.hlc = fresh.hlc.clone();
    // A signature that does not verify (digest signed by someone else, key claimed as ours).
    let mut forged = li.signature(&order, 1, &content);
    forged.fields.insert("device_signature".into(), json!(fieldbook_core::signature::sign_digest(&other.key, forged.fields["digest"].as_str().unwrap())));
    // For a revision the order is not at.
    let wrong_revision = li.signature(&order, 7, &content);
    let r = li.push(&s, &[tampered, foreign, forged, wrong_revision]).await;
    assert_eq!(r.applied, 0);
    let reasons: Vec<&str> = r.rejected.iter().map(|x| x.reason.as_str()).collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons[0].contains("does not match its digest"), "{reasons:?}");
    assert!(reasons[1].contains("not the one this laptop registered"), "{reasons:?}");
    assert!(reasons[2].contains("does not match the digest"), "{reasons:?}");
    assert!(reasons[3].contains("revision 7"), "{reasons:?}");
    assert_eq!(s.count("SELECT count(*) FROM records WHERE entity = 'signatures'").await, 0);
}

async fn concurrent_office_and_laptop_edits_are_kept_as_conflicts(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let order = id("work_orders", "WO-1002");
    // The office sends the job back on site while the laptop is offline...
    s.office_write("work_orders", &order, json!({"status": "on_site"})).await;
    // (A laptop writing in the same millisecond could sort either way; real edits are minutes apart.)
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    // ...and the technician edits it too, without having seen the office's change.
    let edit = li.entry("work_orders", &order, json!({"status": "en_route"}));
    let laptop_stamp = edit.hlc.clone();
    let r = li.push(&s, &[edit]).await;
    assert_eq!((r.applied, r.conflicts), (1, 1));
    // The later stamp wins; the other value is kept for the office.
    let rows = s
        .run_db(move |db| {
            db.transaction(Mode::Read, |tx| {
                let r = tx.query_one("SELECT field, kept_value, other_value, kept_device, other_device, kept_hlc FROM conflicts", &[])?;
                Ok((r.text(0)?, r.text(1)?, r.text(2)?, r.text(3)?, r.text(4)?, r.text(5)?))
            })
        })
        .await
        .unwrap();
    assert_eq!(rows.0, "status");
    assert_eq!(rows.1, "\"en_route\"");
    assert_eq!(rows.2, "\"on_site\"");
    assert_eq!((rows.3.as_str(), rows.4.as_str()), (li.device_id.as_str(), "server"));
    assert_eq!(rows.5, laptop_stamp);
    assert_eq!(s.record("work_orders", &order).await.unwrap()["status"], "en_route");
    // An informed edit (after pulling) is no conflict.
    li.pull_all(&s).await;
    let informed = li.entry("work_orders", &order, json!({"status": "on_site"}));
    assert_eq!(li.push(&s, &[informed]).await.conflicts, 0);
}

async fn other_protocol_versions_are_told_to_update(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let missing = s.client.get(format!("{}/api/status", s.url)).send().await.unwrap();
    let e = error_of(missing, 426).await;
    assert_eq!(e.kind, "protocol_unsupported");
    assert!(e.message.starts_with("please update Fieldbook"), "{}", e.message);
    let newer = s.client.get(format!("{}/api/sync/pull", s.url)).header(PROTOCOL_HEADER, "99").send().await.unwrap();
    assert_eq!(newer.headers()["fieldbook-protocol"], PROTOCOL_VERSION.to_string());
    let e = error_of(newer, 426).await;
    assert!(e.message.contains("please update Fieldbook") && e.message.contains("speaks 99"), "{}", e.message);
    // Protocol 1 laptops read stamps field by field; the compact stamps would lose fields there.
    let older = s.client.get(format!("{}/api/sync/pull", s.url)).header(PROTOCOL_HEADER, "1").send().await.unwrap();
    assert_eq!(error_of(older, 426).await.kind, "protocol_unsupported");
    let ok = s.req(Method::GET, "/api/status").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let status: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(status["protocol_version"], PROTOCOL_VERSION);
    // Errors are always the protocol's JSON, even for unknown routes and methods.
    assert_eq!(error_of(s.req(Method::GET, "/api/nothing").send().await.unwrap(), 404).await.kind, "not_found");
    assert_eq!(error_of(s.req(Method::DELETE, "/api/sync/push").send().await.unwrap(), 405).await.kind, "invalid");
}

async fn revoked_laptops_are_refused_with_the_wipe_order(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let keep = Laptop::enroll(&s, "li.wei").await;
    let wipe = Laptop::enroll(&s, "li.wei").await;
    let (k, w) = (keep.device_id.clone(), wipe.device_id.clone());
    s.run_db(move |db| {
        db.transaction(Mode::Write, |tx| {
            fieldbook_server::devices::revoke(tx, &k, "replaced by a new laptop", false)?;
            fieldbook_server::devices::revoke(tx, &w, "stolen", true)
        })
    })
    .await
    .unwrap();
    let e = error_of(keep.auth(s.req(Method::GET, "/api/sync/pull")).send().await.unwrap(), 403).await;
    assert_eq!((e.kind.as_str(), e.wipe), ("device_revoked", false));
    assert!(e.message.contains("replaced by a new laptop"));
    let resp = wipe.push_raw(&s, &[]).await;
    let raw: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(raw["error"]["kind"], "device_revoked");
    assert_eq!(raw["error"]["wipe"], true);
    let list = s.run_db(|db| db.transaction(Mode::Read, fieldbook_server::devices::list)).await.unwrap();
    assert!(list.iter().all(|d| d.revoked_at.is_some()));
    assert_eq!(list.iter().filter(|d| d.wipe_ordered).count(), 1);
}

async fn reassigned_orders_arrive_complete(b: Backend) {
    let s = TestServer::with_demo(b).await;
    s.import(common::private_company()).await.unwrap();
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let mut zhang = Laptop::enroll(&s, "zhang.min").await;
    li.pull_all(&s).await;
    zhang.pull_all(&s).await;
    // zhang.min records a repair on the private order, then the office hands the order to li.wei.
    let order = id("work_orders", "WO-9001");
    let rr = zhang.entry("repair_records", "rr-z", common::repair_record(&order, json!({"fault": "误报", "cause": "探测器积尘", "action": "清洁"})));
    assert_eq!(zhang.push(&s, &[rr]).await.applied, 1);
    let mut doc = common::private_company();
    doc.work_orders[0].technician = Some("li.wei".into());
    s.import(doc).await.unwrap();

    let got = li.pull_all(&s).await;
    let ids: Vec<(String, String)> = got.iter().map(|c| (c.entity.clone(), c.record_id.clone())).collect();
    for (entity, rid) in [
        ("customers", id("customers", "C-PRIVATE")),
        ("sites", id("sites", "S-PRIVATE")),
        ("assets", id("assets", "A-PRIVATE")),
        ("contracts", id("contracts", "HT-PRIVATE")),
        ("work_orders", order.clone()),
        ("repair_records", "rr-z".to_owned()),
    ] {
        assert!(ids.contains(&(entity.to_owned(), rid.clone())), "li.wei should now have {entity} {rid}: {ids:?}");
    }
    // The parents come before the order, the order before its records.
    let pos = |e: &str| ids.iter().position(|(x, _)| x == e).unwrap();
    assert!(pos("customers") < pos("work_orders") && pos("work_orders") < pos("repair_records"));
    // zhang.min hears that the order is no longer theirs, and can no longer write to it.
    let z = zhang.pull_all(&s).await;
    let last = z.iter().rev().find(|c| c.record_id == order).expect("zhang.min gets the reassigned order");
    assert_eq!(last.fields["technician"], "li.wei");
    let late = zhang.entry("repair_records", "rr-z", json!({"action": "清洁并更换"}));
    assert!(zhang.push(&s, &[late]).await.rejected[0].reason.contains("assigned to li.wei"));
    // Later office changes to the customer reach li.wei, not zhang.min (no other order there).
    let mut doc = common::private_company();
    doc.customers[0].phone = Some("+86 21 0000 0000".into());
    doc.work_orders[0].technician = Some("li.wei".into());
    s.import(doc).await.unwrap();
    assert!(li.pull_all(&s).await.iter().any(|c| c.record_id == id("customers", "C-PRIVATE")));
    assert!(!zhang.pull_all(&s).await.iter().any(|c| c.record_id == id("customers", "C-PRIVATE")));
}

/// The laptop's own store (fieldbook-core) pulls the feed, works, and pushes back.
async fn a_laptop_store_syncs_end_to_end(b: Backend) {
    use fieldbook_core::sync::protocol::{PullResponse, PushRequest, PushResponse};
    let s = TestServer::with_demo(b).await;
    let dir = tempfile::tempdir().unwrap();
    let mut store = fieldbook_core::Store::open(&dir.path().join("laptop.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    let code = s.code_for("li.wei").await;
    let req = EnrollRequest { code, device_id: store.device().id.clone(), public_key: store.device().public_key_hex(), device_name: Some("ThinkPad".into()) };
    let enrolled: fieldbook_core::sync::protocol::EnrollResponse = s.req(Method::POST, "/api/enroll").json(&req).send().await.unwrap().json().await.unwrap();
    store.set_enrolment(&s.url, &enrolled.device_token, &enrolled.technician).unwrap();
    let token = enrolled.device_token;
    loop {
        let cursor = store.pull_cursor().unwrap();
        let page: PullResponse = s.req(Method::GET, &format!("/api/sync/pull?cursor={cursor}&limit=10")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        store.apply_pull(&page).unwrap();
        if !page.more {
            break;
        }
    }
    let mine = store.find_order("WO-1002").unwrap();
    assert_eq!(mine.technician.as_deref(), Some("li.wei"));
    assert!(store.find_order("WO-1004").is_err(), "zhang.min's order is not on li.wei's laptop");
    store.set_status("WO-1002", fieldbook_core::model::Status::EnRoute).unwrap();
    store.set_status("WO-1002", fieldbook_core::model::Status::OnSite).unwrap();
    let entries = store.pending_push(1000).unwrap();
    assert!(!entries.is_empty());
    let resp: PushResponse = s.req(Method::POST, "/api/sync/push").bearer_auth(&token).json(&PushRequest { entries }).send().await.unwrap().json().await.unwrap();
    assert!(resp.rejected.is_empty(), "{:?}", resp.rejected);
    store.acknowledge(&resp).unwrap();
    assert_eq!(store.outbox_len().unwrap(), 0);
    let server_order = s.record("work_orders", &mine.id).await.unwrap();
    assert_eq!(server_order["status"], "on_site");
    assert!(server_order["arrived_at"].is_string());
    // Pulling its own change back changes nothing on the laptop.
    let cursor = store.pull_cursor().unwrap();
    let page: PullResponse = s.req(Method::GET, &format!("/api/sync/pull?cursor={cursor}")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert!(!page.changes.is_empty());
    assert_eq!(store.apply_pull(&page).unwrap(), 0);
}

async fn import_is_all_or_nothing(b: Backend) {
    let s = TestServer::empty(b).await;
    let mut doc = common::demo_doc();
    doc.work_orders[0].site = "S-NOWHERE".into();
    doc.sites[1].customer = "C-NOBODY".into();
    let err = s.import(doc).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("2 problem(s), nothing was imported") && msg.contains("S-NOWHERE") && msg.contains("C-NOBODY"), "{msg}");
    assert_eq!(s.count("SELECT count(*) FROM records").await, 0);
    assert_eq!(s.count("SELECT count(*) FROM feed").await, 0);
    let first = s.import(common::demo_doc()).await.unwrap();
    assert!(first.records_changed > 20);
    let feed = s.count("SELECT count(*) FROM feed").await;
    assert_eq!(s.import(common::demo_doc()).await.unwrap().records_changed, 0, "importing the same file again changes nothing");
    assert_eq!(s.count("SELECT count(*) FROM feed").await, feed);
    // Server writes are stamped by the node `server`.
    let clocks = s.run_db(|db| db.transaction(Mode::Read, |tx| tx.query_one("SELECT clocks FROM records WHERE entity = 'customers'", &[])?.text(0))).await.unwrap();
    assert!(clocks.contains("-server\""), "{clocks}");
}
