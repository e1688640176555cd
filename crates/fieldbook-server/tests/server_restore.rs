//! A server restored from a backup (issue #14), on the server's side: the epoch and numbers the
//! token check tells a laptop, re-sent records (their own stamps) that change nothing the server
//! already holds, the outbox gap after a restore accepted, the SQLite backup and restore, and —
//! from the attacker's side — a "re-sent" entry held to every rule an ordinary push is.

mod common;
use common::both;

use common::{id, Backend, Laptop, TestServer};
use fieldbook_core::hlc::{wall_clock_ms, Hlc};
use fieldbook_core::sync::protocol::{PushEntry, ServerLineage, TokenCheckRequest, TokenCheckResponse};
use fieldbook_server::db::Mode;
use fieldbook_server::lineage;
use reqwest::Method;
use serde_json::{json, Map, Value};

both!(
    the_token_check_tells_the_epoch_the_feed_and_what_was_acknowledged,
    a_resent_record_changes_nothing_the_server_holds_and_fills_what_it_lost,
    a_resent_entry_is_held_to_every_rule_of_a_push,
);

async fn lineage_of(s: &TestServer, li: &Laptop) -> ServerLineage {
    let resp = li.auth(s.req(Method::POST, "/api/device/token")).json(&TokenCheckRequest::default()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json::<TokenCheckResponse>().await.unwrap().server.expect("the server tells its lineage")
}

/// `entry` re-sent as a recovering laptop does: each field with its own stamp, no base.
fn resent(seq: i64, e: &PushEntry, stamps: &[(&str, &str)]) -> PushEntry {
    let stamps: Map<String, Value> = stamps.iter().map(|(f, s)| (f.to_string(), json!(s))).collect();
    let hlc = stamps.values().filter_map(Value::as_str).max().unwrap().to_owned();
    PushEntry { seq, entity: e.entity.clone(), record_id: e.record_id.clone(), fields: e.fields.clone(), hlc, base: Map::new(), stamps: Some(stamps) }
}

fn answer(order: &str, item: &str, value: Value) -> Value {
    json!({"work_order_id": order, "item_key": item, "asset_id": "", "value": value, "note": null, "answered_at": "2026-03-02T08:00:00.000Z", "deleted": false})
}

async fn the_token_check_tells_the_epoch_the_feed_and_what_was_acknowledged(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let first = lineage_of(&s, &li).await;
    assert_eq!((first.acked_seq, first.acked_hlc.as_deref()), (0, None));
    assert_eq!(first.feed_head, s.count("SELECT MAX(seq) FROM feed").await);
    assert_eq!(first.epoch_feed_start, 0, "the first epoch began with the database");
    assert_eq!(first.epoch.len(), 32);

    let order = id("work_orders", "WO-1002");
    let e = li.entry("work_orders", &order, json!({"status": "en_route"}));
    li.push(&s, std::slice::from_ref(&e)).await;
    let after = lineage_of(&s, &li).await;
    assert_eq!((after.acked_seq, after.acked_hlc.as_deref()), (1, Some(e.hlc.as_str())));
    assert_eq!(after.epoch, first.epoch);
    assert!(after.feed_head > first.feed_head);

    // An announced restore (`fieldbook-server epoch new`): a new epoch starting at the feed's head.
    let epoch = s.run_db(|db| lineage::announce_restore(db, "restored by pg_restore")).await.unwrap();
    assert_eq!(epoch.number, 2);
    let now = lineage_of(&s, &li).await;
    assert_ne!(now.epoch, first.epoch);
    assert_eq!((now.epoch, now.epoch_feed_start), (epoch.epoch, after.feed_head));
    let listed = s.run_db(|db| db.transaction(Mode::Read, lineage::current)).await.unwrap();
    assert_eq!((listed.number, listed.reason.as_str()), (2, "restored by pg_restore"));
}

async fn a_resent_record_changes_nothing_the_server_holds_and_fills_what_it_lost(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let order = id("work_orders", "WO-1001");
    let arrive = li.entry("work_orders", &order, json!({"status": "on_site", "arrived_at": "2026-03-02T08:05:00.000Z"}));
    let answer_id = fieldbook_core::policy::answer_id(&order, "pump.pressure", "");
    let create = li.entry("inspection_answers", &answer_id, answer(&order, "pump.pressure", json!(0.6)));
    let edit = li.entry("inspection_answers", &answer_id, json!({"value": 0.7, "answered_at": "2026-03-02T08:06:00.000Z"}));
    let r = li.push(&s, &[arrive.clone(), create.clone(), edit.clone()]).await;
    assert_eq!((r.applied, r.rejected.len()), (3, 0), "{:?}", r.rejected);
    let feed = s.count("SELECT count(*) FROM feed").await;
    let held = s.record("inspection_answers", &answer_id).await.unwrap();

    // The laptop recovering re-sends the record whole, each field with the stamp it holds,
    // numbered far above what the server acknowledged: the gap is accepted, the same writes
    // seen again change nothing (no feed entry, no conflict), twice over.
    let mut stamps: Vec<(&str, &str)> = create.fields.keys().map(|f| (f.as_str(), create.hlc.as_str())).collect();
    for (f, st) in stamps.iter_mut() {
        if edit.fields.contains_key(*f) {
            *st = edit.hlc.as_str();
        }
    }
    let mut whole = create.clone();
    whole.fields.extend(edit.fields.clone());
    let again = [resent(1000, &whole, &stamps), resent(1001, &arrive, &[("status", &arrive.hlc), ("arrived_at", &arrive.hlc)])];
    for round in 0..2 {
        let resp = li.push_raw(&s, &again).await;
        assert_eq!(resp.status(), 200, "round {round}: a gap in the numbers is not a sequence reset: {}", resp.text().await.unwrap());
        let r: fieldbook_core::sync::protocol::PushResponse = resp.json().await.unwrap();
        assert_eq!((r.acked_seq, r.rejected.len(), r.conflicts), (1001, 0, 0), "round {round}: {:?}", r.rejected);
    }
    assert_eq!(s.count("SELECT count(*) FROM feed").await, feed, "nothing new in the feed");
    assert_eq!(s.count("SELECT count(*) FROM conflicts").await, 0);
    assert_eq!(s.record("inspection_answers", &answer_id).await.unwrap(), held);

    // What a restored server lost comes back whole, with its stamps: a record it never saw, and
    // a later edit of one it has.
    let lost_id = fieldbook_core::policy::answer_id(&order, "pump.flow", "");
    let lost = li.entry("inspection_answers", &lost_id, answer(&order, "pump.flow", json!("ok")));
    let later = li.entry("inspection_answers", &answer_id, json!({"value": 0.9, "answered_at": "2026-03-02T08:09:00.000Z"}));
    let lost_stamps: Vec<(&str, &str)> = lost.fields.keys().map(|f| (f.as_str(), lost.hlc.as_str())).collect();
    let r = li
        .push(&s, &[resent(2000, &lost, &lost_stamps), resent(2001, &later, &[("value", &later.hlc), ("answered_at", &later.hlc)])])
        .await;
    assert_eq!((r.applied, r.rejected.len(), r.conflicts), (2, 0, 0), "{:?}", r.rejected);
    assert_eq!(s.record("inspection_answers", &lost_id).await.unwrap()["value"], json!("ok"));
    assert_eq!(s.record("inspection_answers", &answer_id).await.unwrap()["value"], json!(0.9));
    let clocks = s
        .run_db({
            let id = lost_id.clone();
            move |db| db.transaction(Mode::Read, |tx| fieldbook_server::records::load(tx, "inspection_answers", &id))
        })
        .await
        .unwrap()
        .unwrap()
        .clocks;
    let stamp = fieldbook_core::sync::stamps::stamp_of(&clocks, "value").unwrap().to_owned();
    assert_eq!(stamp, lost.hlc, "the record keeps the stamp it was written with");
}

/// A laptop cannot use "recovery" to write what it could not write normally.
async fn a_resent_entry_is_held_to_every_rule_of_a_push(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let mut zhang = Laptop::enroll(&s, "zhang.min").await;
    li.pull_all(&s).await;
    zhang.pull_all(&s).await;
    let mine = id("work_orders", "WO-1002");
    let theirs = id("work_orders", "WO-1004");
    let before_mine = s.record("work_orders", &mine).await.unwrap();
    let before_theirs = s.record("work_orders", &theirs).await.unwrap();
    let now = |node: &str| Hlc { wall_ms: wall_clock_ms(), counter: 0, node: node.into() }.to_string();
    let far = Hlc { wall_ms: wall_clock_ms() + 3_600_000, counter: 0, node: li.device_id.clone() }.to_string();
    let office_stamp = now("server");
    let zhangs_stamp = now(&zhang.device_id);
    let own = now(&li.device_id);
    let older = Hlc { wall_ms: wall_clock_ms() - 60_000, counter: 0, node: li.device_id.clone() }.to_string();
    let status = li.entry("work_orders", &mine, json!({"status": "en_route"}));
    let review = li.entry("work_orders", &mine, json!({"review_state": "approved"}));
    let two = li.entry("work_orders", &mine, json!({"status": "en_route", "priority": "urgent"}));
    let other = li.entry("work_orders", &theirs, json!({"status": "completed"}));
    let arrival = li.entry("work_orders", &mine, json!({"status": "on_site", "arrived_at": "2026-03-02T08:05:00.000Z"}));
    let zhangs_older = Hlc { wall_ms: wall_clock_ms() - 1000, counter: 0, node: zhang.device_id.clone() }.to_string();
    let attacks: Vec<(&str, PushEntry)> = vec![
        ("a stamp of the office's", resent(0, &status, &[("status", &office_stamp)])),
        ("a stamp of another laptop's", resent(0, &status, &[("status", &zhangs_stamp)])),
        ("a stamp from the future", resent(0, &status, &[("status", &far)])),
        ("an office-only field", resent(0, &review, &[("review_state", &own)])),
        ("a field the technician may not change", resent(0, &two, &[("status", &own), ("priority", &own)])),
        ("another technician's order", resent(0, &other, &[("status", &own)])),
        ("one field stamped by another laptop", resent(0, &arrival, &[("status", &own), ("arrived_at", &zhangs_older)])),
        ("a field without a stamp", resent(0, &two, &[("status", &own)])),
        ("a stamp newer than the entry's", {
            let mut e = resent(0, &status, &[("status", &own)]);
            e.hlc = older.clone();
            e
        }),
        ("a base beside the stamps", {
            let mut e = resent(0, &status, &[("status", &own)]);
            e.base.insert("status".into(), Value::Null);
            e
        }),
        ("stamps of fields it does not write", resent(0, &status, &[("status", &own), ("technician", &own)])),
    ];
    let mut entries = Vec::new();
    for (i, (_, e)) in attacks.iter().enumerate() {
        let mut e = e.clone();
        e.seq = 100 + i as i64;
        entries.push(e);
    }
    let r = li.push(&s, &entries).await;
    let reasons: Vec<String> = r.rejected.iter().map(|x| x.reason.clone()).collect();
    assert_eq!((r.applied, r.rejected.len()), (0, attacks.len()), "{reasons:#?}");
    assert_eq!(s.count("SELECT count(*) FROM rejected_changes").await, attacks.len() as i64, "every refusal is kept for the office");
    assert_eq!(s.record("work_orders", &mine).await.unwrap(), before_mine);
    assert_eq!(s.record("work_orders", &theirs).await.unwrap(), before_theirs);
    assert_eq!(s.count("SELECT count(*) FROM conflicts").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqlite_backup_taken_while_the_server_runs_restores_with_a_new_epoch() {
    // Its own database, kept when the server stops (a `TestServer` deletes the one it made).
    let test_db = common::fresh_db(Backend::Sqlite);
    let s = TestServer::on(&test_db.url).await;
    s.run_db(|db| db.transaction(Mode::Write, |tx| fieldbook_server::users::add(tx, "li.wei", fieldbook_server::users::Role::Technician, "李伟", None))).await.unwrap();
    s.import(common::demo_doc()).await.unwrap();
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let path = std::path::PathBuf::from(s.db_url.strip_prefix("sqlite:").unwrap());
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("nightly.db");
    let records = s.count("SELECT count(*) FROM records").await;
    let head = s.count("SELECT MAX(seq) FROM feed").await;
    let epoch = s.run_db(|db| db.transaction(Mode::Read, lineage::current)).await.unwrap();

    // Taken while the server runs; the file appears whole, nothing else is left beside it.
    let size = lineage::backup(&path, &backup).unwrap();
    assert_eq!(size, std::fs::metadata(&backup).unwrap().len());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    let e = lineage::backup(&path, &backup).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    let e = lineage::sqlite_path(&fieldbook_server::db::Location::parse("postgres://u@h/db"), "backup").unwrap_err();
    assert!(e.to_string().contains("pg_dump -Fc") && e.to_string().contains("pg_restore") && e.to_string().contains("epoch new"), "{e}");

    // More work after the backup.
    let order = id("work_orders", "WO-1002");
    let e1 = li.entry("work_orders", &order, json!({"status": "en_route"}));
    li.push(&s, &[e1]).await;
    assert!(s.count("SELECT MAX(seq) FROM feed").await > head);

    // Refused while the server has the database open.
    let e = lineage::restore(&backup, &path).unwrap_err();
    assert!(e.to_string().contains("open in another process"), "{e}");
    let url = s.db_url.clone();
    s.stop().await;
    let restored = (0..100)
        .find_map(|_| match lineage::restore(&backup, &path) {
            Ok(r) => Some(r),
            Err(e) => {
                assert!(e.to_string().contains("open in another process"), "{e}");
                std::thread::sleep(std::time::Duration::from_millis(100));
                None
            }
        })
        .expect("the stopped server lets go of the database");
    let kept = restored.replaced_kept_as.expect("the replaced database is kept");
    assert!(kept.exists() && kept.to_string_lossy().contains(".replaced-"), "{kept:?}");
    assert!(!path.with_file_name("server.db.restoring").exists());

    let s = TestServer::on(&url).await;
    assert_eq!(s.count("SELECT count(*) FROM records").await, records);
    assert_eq!(s.count("SELECT MAX(seq) FROM feed").await, head, "the feed as the backup had it");
    let now = s.run_db(|db| db.transaction(Mode::Read, lineage::current)).await.unwrap();
    assert_eq!(Some(now.epoch.clone()), restored.epoch);
    assert_ne!(now.epoch, epoch.epoch);
    assert_eq!((now.number, now.feed_start), (2, head));
    // The kept file is the database as it was, whole: it opens with the work done after the backup.
    let kept_db = TestServer::on(&format!("sqlite:{}", kept.display())).await;
    assert!(kept_db.count("SELECT MAX(seq) FROM feed").await > head);
    kept_db.stop().await;
    s.stop().await;
}

/// The property behind recovery: a laptop's history pushed, then any subset of its records
/// re-sent (each field with the stamp it now holds, in any order, twice) changes nothing the
/// server holds: no record, no feed entry, no conflict, nothing refused. Each case writes
/// records of its own on one server.
fn resending_any_part_of_a_history_twice_changes_nothing(b: Backend) {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use std::collections::BTreeMap;

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (s, li) = rt.block_on(async {
        let s = TestServer::with_demo(b).await;
        let mut li = Laptop::enroll(&s, "li.wei").await;
        li.pull_all(&s).await;
        (s, li)
    });
    let li = std::cell::RefCell::new(li);
    let order = id("work_orders", "WO-1001");
    // A history: writes to up to 4 answers (the first write of each creates it), then which
    // records to re-send (by index, repeats allowed) in what order.
    let history = (proptest::collection::vec((0..4usize, 0..1000u32, any::<bool>()), 1..12), proptest::collection::vec(0..4usize, 0..8));
    let mut runner = TestRunner::new(Config { cases: 24, max_shrink_iters: 0, failure_persistence: None, ..Config::default() });
    runner
        .run(&history, |(writes, picks)| {
            let mut li = li.borrow_mut();
            rt.block_on(async {
                let case = uuid::Uuid::now_v7().simple().to_string();
                let items: Vec<String> = (0..4).map(|i| format!("prop.{case}.{i}")).collect();
                let ids: Vec<String> = items.iter().map(|item| fieldbook_core::policy::answer_id(&order, item, "")).collect();
                // Per record: its fields and each field's stamp, as the laptop holds them.
                let mut held: BTreeMap<usize, FieldsAndStamps> = BTreeMap::new();
                let mut entries = Vec::new();
                for (i, v, noted) in &writes {
                    let fields = match held.contains_key(i) {
                        false => answer(&order, &items[*i], json!(v)),
                        true if *noted => json!({"note": format!("note {v}")}),
                        true => json!({"value": v}),
                    };
                    let e = li.entry("inspection_answers", &ids[*i], fields);
                    let (f, st) = held.entry(*i).or_default();
                    for (k, val) in &e.fields {
                        f.insert(k.clone(), val.clone());
                        st.insert(k.clone(), json!(e.hlc));
                    }
                    entries.push(e);
                }
                let r = li.push(&s, &entries).await;
                prop_assert_eq!(r.rejected.len(), 0, "{:?}", r.rejected);
                let snapshot = |s: &TestServer| {
                    let ids = ids.clone();
                    let db = s.db.clone();
                    async move {
                        tokio::task::spawn_blocking(move || {
                            db.transaction(Mode::Read, |tx| {
                                let mut out = Vec::new();
                                for id in &ids {
                                    out.push(fieldbook_server::records::load(tx, "inspection_answers", id)?.map(|st| (st.fields, st.clocks)));
                                }
                                let feed = tx.query_one("SELECT count(*) FROM feed", &[])?.int(0)?;
                                let conflicts = tx.query_one("SELECT count(*) FROM conflicts", &[])?.int(0)?;
                                let refused = tx.query_one("SELECT count(*) FROM rejected_changes", &[])?.int(0)?;
                                Ok((out, feed, conflicts, refused))
                            })
                        })
                        .await
                        .unwrap()
                        .unwrap()
                    }
                };
                let before = snapshot(&s).await;
                let mut resend = Vec::new();
                for _round in 0..2 {
                    for p in &picks {
                        let Some((fields, stamps)) = held.get(p) else { continue };
                        let hlc = stamps.values().filter_map(Value::as_str).max().unwrap().to_owned();
                        // A number of its own, as the recovering laptop's outbox gives it.
                        let seq = li.entry("inspection_answers", &ids[*p], json!({})).seq;
                        resend.push(PushEntry {
                            seq,
                            entity: "inspection_answers".into(),
                            record_id: ids[*p].clone(),
                            fields: fields.clone(),
                            hlc,
                            base: Map::new(),
                            stamps: Some(stamps.clone()),
                        });
                    }
                }
                if !resend.is_empty() {
                    let r = li.push(&s, &resend).await;
                    prop_assert_eq!((r.rejected.len(), r.conflicts), (0, 0), "{:?}", r.rejected);
                }
                prop_assert_eq!(snapshot(&s).await, before);
                Ok(())
            })
        })
        .unwrap();
    rt.block_on(s.stop());
}

#[test]
fn resending_any_part_of_a_history_twice_changes_nothing_on_sqlite() {
    resending_any_part_of_a_history_twice_changes_nothing(Backend::Sqlite)
}

#[test]
fn resending_any_part_of_a_history_twice_changes_nothing_on_postgres() {
    resending_any_part_of_a_history_twice_changes_nothing(Backend::Postgres)
}

/// A record's fields and each field's stamp.
type FieldsAndStamps = (Map<String, Value>, Map<String, Value>);
