//! The reports' per-day rollups (console/rollup.rs) against the projections they sum, on SQLite
//! and on PostgreSQL: a proptest writes random batches of sites, work orders, repairs, time
//! entries, satisfaction cards and stock movements through the feed writer (inserts, changes of
//! day, technician, status, site and region, reassigned repairs, movements moved across months,
//! tombstones and their reversal), then asks every
//! rollup-backed report with every kind of filter both ways and wants the same answer; and a
//! rebuild from scratch must find the rollups and first-time-fix flags exactly as they were kept.

mod common;

use common::{both, Backend};
use fieldbook_server::console::reports::{run_from, ReportQuery, Source};
use fieldbook_server::db::{Db, Mode};
use fieldbook_server::feed::Writer;
use fieldbook_server::import::write_changed;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

both!(
    rollups_answer_as_the_projections_do,
    a_year_of_orders_moves_with_its_changes,
    the_migration_fills_the_rollups_of_a_database_with_data,
    the_migration_fills_the_movement_rollup,
    movements_over_whole_and_partial_months
);

#[derive(Debug, Clone)]
enum Op {
    Site { site: u8, region: u8, zone: u8 },
    Order { order: u8, kind: u8, status: u8, tech: u8, customer: u8, site: u8, day: u8, hour: u8, deadline: Option<u8>, arrived: Option<u8>, follow_up: Option<(u8, bool)>, deleted: bool },
    Repair { id: u8, order: u8, asset: u8, day: u8, deleted: bool },
    Time { id: u8, order: Option<u8>, tech: u8, day: u8, category: u8, minutes: Option<u16>, deleted: bool },
    Card { id: u8, order: u8, day: u8, score: Option<u8>, deleted: bool },
    /// An answer to the demo patrol template's "exits clear" item: a finding when it fails.
    Answer { id: u8, order: u8, asset: u8, day: u8, fail: bool, deleted: bool },
    /// A stock movement of one of three parts (the third not in the catalogue), from the main
    /// store or a technician's van.
    Movement { id: u8, kind: u8, part: u8, store: u8, day: u8, hour: u8, quantity: u8, over_use: bool, deleted: bool },
    Part { part: u8, sku: u8 },
}

const TECHS: [Option<&str>; 3] = [None, Some("t1"), Some("t2")];
const REGIONS: [Option<&str>; 3] = [None, Some("R1"), Some("R2")];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3u8, 0..3u8, 0..2u8).prop_map(|(site, region, zone)| Op::Site { site, region, zone }),
        (
            (0..8u8, 0..3u8, 0..5u8, 0..3u8, 0..2u8, 0..3u8),
            (0..40u8, 0..24u8, proptest::option::of(0..3u8), proptest::option::of(0..5u8), proptest::option::of((0..8u8, any::<bool>())), proptest::bool::weighted(0.15)),
        )
            .prop_map(|((order, kind, status, tech, customer, site), (day, hour, deadline, arrived, follow_up, deleted))| Op::Order {
                order, kind, status, tech, customer, site, day, hour, deadline, arrived, follow_up, deleted,
            }),
        (0..8u8, 0..8u8, 0..3u8, 0..80u8, proptest::bool::weighted(0.15)).prop_map(|(id, order, asset, day, deleted)| Op::Repair { id, order, asset, day, deleted }),
        (0..6u8, proptest::option::of(0..8u8), 0..3u8, 0..40u8, 0..6u8, proptest::option::of(0..200u16), proptest::bool::weighted(0.15))
            .prop_map(|(id, order, tech, day, category, minutes, deleted)| Op::Time { id, order, tech, day, category, minutes, deleted }),
        (0..4u8, 0..8u8, 0..40u8, proptest::option::of(1..6u8), proptest::bool::weighted(0.15)).prop_map(|(id, order, day, score, deleted)| Op::Card { id, order, day, score, deleted }),
        (0..6u8, 0..8u8, 0..3u8, 0..40u8, any::<bool>(), proptest::bool::weighted(0.15))
            .prop_map(|(id, order, asset, day, fail, deleted)| Op::Answer { id, order, asset, day, fail, deleted }),
        ((0..8u8, 0..6u8, 0..3u8, 0..3u8), (0..80u8, 0..24u8, 1..5u8, proptest::bool::weighted(0.1), proptest::bool::weighted(0.15)))
            .prop_map(|((id, kind, part, store), (day, hour, quantity, over_use, deleted))| Op::Movement { id, kind, part, store, day, hour, quantity, over_use, deleted }),
        (0..2u8, 0..3u8).prop_map(|(part, sku)| Op::Part { part, sku }),
    ]
}

/// Days from 2026-11-10: some in the past, some after today's tests run (deadlines still open).
fn day(d: u8) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 10).unwrap() + chrono::Duration::days(d as i64)
}

fn at(d: u8, hour: u8) -> chrono::DateTime<chrono::Utc> {
    day(d).and_hms_opt(hour as u32, 0, 0).unwrap().and_utc()
}

fn write(w: &mut Writer<'_>, op: &Op) -> fieldbook_server::Result<bool> {
    let ts = |t: chrono::DateTime<chrono::Utc>| json!(fieldbook_server::store_ts(t));
    match op {
        Op::Site { site, region, zone } => write_changed(w, "sites", &format!("site-{site}"), &[
            ("customer_id", json!(format!("cust-{}", site % 2))), ("name", json!(format!("Site {site}"))),
            ("region", json!(REGIONS[*region as usize])), ("zone", json!(if *zone == 0 { "urban" } else { "suburban" })), ("deleted", json!(false)),
        ]),
        Op::Order { order, kind, status, tech, customer, site, day: d, hour, deadline, arrived, follow_up, deleted } => {
            let reported = at(*d, *hour);
            let deadline = deadline.map(|h| reported + chrono::Duration::hours(2 + 2 * h as i64));
            let arrived = arrived.map(|h| reported + chrono::Duration::hours(1 + 2 * h as i64));
            let follow = follow_up.map(|(o, by_number)| if by_number { format!("WO-{o}") } else { format!("wo-{o}") });
            write_changed(w, "work_orders", &format!("wo-{order}"), &[
                ("number", json!(format!("WO-{order}"))),
                ("kind", json!(["repair_call", "maintenance", "patrol_inspection"][*kind as usize])),
                ("status", json!(["new", "dispatched", "on_site", "completed", "signed"][*status as usize])),
                ("technician", json!(TECHS[*tech as usize])), ("customer_id", json!(format!("cust-{customer}"))), ("site_id", json!(format!("site-{site}"))),
                ("asset_ids", json!([format!("asset-{site}")])), ("reported_at", ts(reported)), ("response_deadline", json!(deadline.map(fieldbook_server::store_ts))),
                ("arrived_at", json!(arrived.map(fieldbook_server::store_ts))), ("follow_up_of", json!(follow)), ("deleted", json!(deleted)),
                ("template_id", json!(common::id("checklist_templates", "FP-PATROL@3"))),
            ])
        }
        Op::Repair { id, order, asset, day: d, deleted } => write_changed(w, "repair_records", &format!("rr-{id}"), &[
            ("work_order_id", json!(format!("wo-{order}"))), ("asset_id", json!(format!("asset-{asset}"))), ("recorded_at", ts(at(*d, 12))),
            ("labour_minutes", json!(30)), ("category", json!("A")), ("deleted", json!(deleted)),
        ]),
        Op::Time { id, order, tech, day: d, category, minutes, deleted } => write_changed(w, "time_entries", &format!("te-{id}"), &[
            ("work_order_id", json!(order.map(|o| format!("wo-{o}")))), ("technician", json!(TECHS[*tech as usize])), ("work_date", json!(day(*d).to_string())),
            ("category", json!([Some("A"), Some("B"), Some("C"), Some("D"), Some("X"), None][*category as usize])), ("minutes", json!(minutes)), ("deleted", json!(deleted)),
        ]),
        Op::Card { id, order, day: d, score, deleted } => write_changed(w, "satisfaction_cards", &format!("sc-{id}"), &[
            ("work_order_id", json!(format!("wo-{order}"))), ("rated_at", ts(at(*d, 15))), ("attitude", json!(score)), ("skill", json!(score.map(|s| 6 - s))),
            ("arrival", json!(3)), ("promise", json!(score.filter(|s| s % 2 == 0))), ("deleted", json!(deleted)),
        ]),
        Op::Answer { id, order, asset, day: d, fail, deleted } => write_changed(w, "inspection_answers", &format!("ia-{id}"), &[
            ("work_order_id", json!(format!("wo-{order}"))), ("item_key", json!("site.exits")), ("asset_id", json!(format!("asset-{asset}"))),
            ("value", json!(if *fail { "fail" } else { "pass" })), ("answered_at", ts(at(*d, 10))), ("deleted", json!(deleted)),
        ]),
        Op::Movement { .. } => movement(w, op),
        Op::Part { part, sku } => write_changed(w, "parts", &format!("part-{part}"), &[
            ("sku", json!(format!("P-{sku}"))), ("name_zh", json!(format!("备件 {part}"))), ("name_en", json!(format!("Part {part}"))), ("deleted", json!(false)),
        ]),
    }
}

const STORES: [&str; 3] = ["main", "van-t1", "van-t2"];

fn movement(w: &mut Writer<'_>, op: &Op) -> fieldbook_server::Result<bool> {
    let Op::Movement { id, kind, part, store, day: d, hour, quantity, over_use, deleted } = op else { unreachable!() };
    let kind = fieldbook_server::console::parts::KINDS[*kind as usize];
    let store = STORES[*store as usize];
    let (from, to) = match kind {
        "goods_in" => (None, Some(store)),
        "issue" => (Some("main"), Some(store)),
        "transfer" => (Some(store), Some("main")),
        "faulty_return" => (Some(store), Some("main")),
        _ => (Some(store), None),
    };
    write_changed(w, "stock_movements", &format!("mv-{id}"), &[
        ("kind", json!(kind)), ("part_id", json!(format!("part-{part}"))), ("from_store", json!(from)), ("to_store", json!(to)),
        ("quantity", json!(quantity)), ("by", json!("office")), ("at", json!(fieldbook_server::store_ts(at(*d, *hour)))),
        ("repair_record_id", json!(null)), ("requisition_id", json!(null)), ("note", json!(null)), ("over_use", json!(over_use)), ("deleted", json!(deleted)),
    ])
}

/// A fresh database with the demo company (for its checklist template).
fn fresh(b: Backend) -> (common::TestDb, Db) {
    let t = common::fresh_db(b);
    let db = Db::open(&t.url).unwrap();
    db.transaction(Mode::Feed, |tx| fieldbook_server::import::import(tx, &common::demo_doc(), "demo").map(drop)).unwrap();
    (t, db)
}

fn apply_batches(db: &Db, batches: &[Vec<Op>]) {
    for batch in batches {
        db.transaction(Mode::Feed, |tx| {
            let mut w = Writer::begin(tx)?;
            for op in batch {
                write(&mut w, op)?;
            }
            w.finish().map(|_| ())
        })
        .unwrap();
    }
}

/// Every rollup-backed report, with each kind of filter, over two ranges.
fn queries() -> Vec<(&'static str, ReportQuery)> {
    let mut out = Vec::new();
    // A long range, one inside a month, and one with a whole month and two partial ones.
    for (from, to) in [("2026-01-01", "2027-12-31"), ("2026-11-20", "2026-12-05"), ("2026-11-15", "2027-01-20")] {
        for (technician, region, customer) in
            [(None, None, None), (Some("t1"), None, None), (None, Some("R1"), None), (None, None, Some("cust-1")), (Some("t2"), Some("R2"), None)]
        {
            let q = ReportQuery {
                from: Some(from.into()),
                to: Some(to.into()),
                technician: technician.map(Into::into),
                region: region.map(Into::into),
                customer: customer.map(Into::into),
                ..Default::default()
            };
            for by in ["day", "technician", "zone"] {
                out.push(("response", ReportQuery { by: Some(by.into()), ..q.clone() }));
            }
            for name in ["daily-minutes", "first-time-fix", "satisfaction", "fault-prone-assets", "movements", "parts-quality"] {
                out.push((name, q.clone()));
            }
            out.push(("daily-minutes", ReportQuery { limit: Some("2".into()), ..q.clone() }));
        }
    }
    out
}

/// The rollup tables' non-empty rows and the flags, in a stable order.
fn snapshot(db: &Db) -> Vec<Value> {
    db.transaction(Mode::Read, |tx| {
        let mut out = Vec::new();
        for (table, live) in [
            ("order_day_by_technician", "orders + met + late + repairs + fixed"),
            ("order_day_by_area", "orders + met + late + repairs + fixed"),
            ("minutes_day", "entries"),
            ("satisfaction_day", "cards"),
            ("asset_day", "repairs + findings"),
            ("minutes_day_by_region", "entries"),
            ("satisfaction_day_by_region", "cards"),
            ("asset_day_by_region", "repairs + findings"),
            ("movement_month", "movements"),
        ] {
            for r in tx.query(&format!("SELECT * FROM {table} WHERE {live} <> 0 ORDER BY 1, 2, 3"), &[])? {
                out.push(json!({"table": table, "row": format!("{r:?}")}));
            }
        }
        for r in tx.query("SELECT id, not_fixed FROM work_order_index ORDER BY id", &[])? {
            out.push(json!([r.text(0)?, r.int(1)?]));
        }
        Ok(out)
    })
    .unwrap()
}

fn check(db: &Db) {
    for (name, q) in queries() {
        let (kept, afresh) = db
            .transaction(Mode::Read, |tx| Ok((run_from(tx, name, &q, Source::Rollups)?, run_from(tx, name, &q, Source::Projections)?)))
            .unwrap();
        // A page may hold only the first rows (a small `limit`): the first of the same rows.
        let n = kept.rows.len();
        assert_eq!(kept.rows, afresh.rows[..n.min(afresh.rows.len())], "{name} {q:?}");
        assert_eq!(kept.total_rows.unwrap_or(n), afresh.rows.len(), "{name} {q:?}");
    }
    let kept = snapshot(db);
    db.transaction(Mode::Write, fieldbook_server::console::rollup::rebuild).unwrap();
    assert_eq!(kept, snapshot(db), "rebuilt rollups differ from the kept ones");
}

async fn rollups_answer_as_the_projections_do(b: Backend) {
    common::blocking(move || {
        let cases = if b == Backend::Sqlite { 48 } else { 16 };
        let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
        runner
            .run(&proptest::collection::vec(proptest::collection::vec(op(), 1..6), 1..14), |batches| {
                let (_t, db) = fresh(b);
                apply_batches(&db, &batches);
                check(&db);
                Ok(())
            })
            .unwrap();
    })
    .await
}

/// Known numbers: a repeat repair flips the first order, a tombstone takes an order away, a
/// reassignment moves it to the other technician, a site's new region moves its orders.
async fn a_year_of_orders_moves_with_its_changes(b: Backend) {
    common::blocking(move || {
        let t = common::fresh_db(b);
        let db = Db::open(&t.url).unwrap();
        let order = |order: u8, tech: u8, d: u8, deleted: bool| Op::Order {
            order, kind: 0, status: 4, tech, customer: 0, site: 0, day: d, hour: 8, deadline: Some(1), arrived: Some(0), follow_up: None, deleted,
        };
        apply_batches(&db, &[
            vec![Op::Site { site: 0, region: 1, zone: 0 }, order(0, 1, 0, false), order(1, 1, 5, false)],
            vec![Op::Repair { id: 0, order: 0, asset: 0, day: 0, deleted: false }],
        ]);
        let report = |name: &str, by: Option<&str>, region: Option<&str>| {
            let q = ReportQuery { from: Some("2026-01-01".into()), to: Some("2027-12-31".into()), by: by.map(Into::into), region: region.map(Into::into), ..Default::default() };
            db.transaction(Mode::Read, |tx| run_from(tx, name, &q, Source::Rollups)).unwrap().rows
        };
        assert_eq!(report("first-time-fix", None, None), vec![json!({"group": "t1", "repairs": 2, "fixed_first_time": 2, "rate": 1.0})]);
        // The second order's repair on the same asset 5 days later: the first was not fixed.
        apply_batches(&db, &[vec![Op::Repair { id: 1, order: 1, asset: 0, day: 5, deleted: false }]]);
        assert_eq!(report("first-time-fix", None, None), vec![json!({"group": "t1", "repairs": 2, "fixed_first_time": 1, "rate": 0.5})]);
        // Moved to another asset: fixed again.
        apply_batches(&db, &[vec![Op::Repair { id: 1, order: 1, asset: 1, day: 5, deleted: false }]]);
        assert_eq!(report("first-time-fix", None, None), vec![json!({"group": "t1", "repairs": 2, "fixed_first_time": 2, "rate": 1.0})]);
        // Reassigned, then the other deleted.
        apply_batches(&db, &[vec![order(1, 2, 5, false)]]);
        assert_eq!(report("response", Some("technician"), None).len(), 2);
        apply_batches(&db, &[vec![order(0, 1, 0, true)]]);
        assert_eq!(report("response", Some("technician"), None), vec![json!({"group": "t2", "orders": 1, "met": 1, "breached": 0, "met_rate": 1.0})]);
        assert_eq!(report("response", Some("zone"), Some("R1")), vec![json!({"group": "urban", "orders": 1, "met": 1, "breached": 0, "met_rate": 1.0})]);
        // The site moves to another region and zone: so do its orders.
        apply_batches(&db, &[vec![Op::Site { site: 0, region: 2, zone: 1 }]]);
        assert_eq!(report("response", Some("zone"), Some("R1")), Vec::<Value>::new());
        assert_eq!(report("response", Some("zone"), Some("R2")), vec![json!({"group": "suburban", "orders": 1, "met": 1, "breached": 0, "met_rate": 1.0})]);
        check(&db);
    })
    .await
}

/// A database at schema 3 with data (what migrations 0004 to 0007 added taken away again) gets its
/// rollups and flags filled when the server opens it.
async fn the_migration_fills_the_rollups_of_a_database_with_data(b: Backend) {
    common::blocking(move || {
        let t = common::fresh_db(b);
        let db = Db::open(&t.url).unwrap();
        let order = |order: u8, tech: u8, d: u8| Op::Order {
            order, kind: 0, status: 3, tech, customer: 0, site: 0, day: d, hour: 8, deadline: Some(0), arrived: Some(1), follow_up: None, deleted: false,
        };
        apply_batches(&db, &[vec![
            Op::Site { site: 0, region: 1, zone: 1 }, order(0, 1, 0), order(1, 2, 3),
            Op::Repair { id: 0, order: 0, asset: 0, day: 0, deleted: false }, Op::Repair { id: 1, order: 1, asset: 0, day: 3, deleted: false },
            Op::Time { id: 0, order: Some(0), tech: 1, day: 0, category: 1, minutes: Some(50), deleted: false },
            Op::Card { id: 0, order: 1, day: 4, score: Some(4), deleted: false },
        ]]);
        let kept = snapshot(&db);
        assert!(kept.len() > 6, "{kept:?}");
        let db = reopened_after(
            &t,
            db,
            "DROP TABLE order_day_by_technician; DROP TABLE order_day_by_area; DROP TABLE minutes_day; DROP TABLE satisfaction_day; \
                 DROP TABLE asset_day; DROP TABLE asset_day_by_region; DROP TABLE minutes_day_by_region; DROP TABLE satisfaction_day_by_region; DROP INDEX woi_not_arrived; DROP INDEX work_item_asset_day; ALTER TABLE work_order_index DROP COLUMN not_fixed; \
                 DROP INDEX attachments_uploaded_device; ALTER TABLE attachments DROP COLUMN author; ALTER TABLE attachments DROP COLUMN uploaded_device; \
                 DROP TABLE attachment_uploads; DROP TABLE attachment_upload_chunks; \
                 DROP INDEX devices_next_token_hash; DROP INDEX devices_previous_token_hash; DROP TABLE token_renewal_nonces; \
                 ALTER TABLE devices DROP COLUMN token_issued_at; ALTER TABLE devices DROP COLUMN next_token_hash; ALTER TABLE devices DROP COLUMN next_token_sealed; \
                 ALTER TABLE devices DROP COLUMN next_token_issued_at; ALTER TABLE devices DROP COLUMN previous_token_hash; ALTER TABLE devices DROP COLUMN token_rotated_at; \
                 ALTER TABLE devices DROP COLUMN store_protection; ALTER TABLE devices DROP COLUMN store_protection_at; \
                 DROP TABLE server_epochs; DROP TABLE release_chunks; DROP TABLE releases; \
                 DROP TABLE call_index; DROP TABLE return_visit_index; DROP TABLE complaint_index; DROP TABLE complaint_technicians; \
                 DROP TABLE complaint_numbers; DROP TABLE escalation_index; DROP TABLE close_exception_index; \
                 DROP INDEX reference_index_phone; ALTER TABLE reference_index DROP COLUMN phone; DROP TABLE customer_numbers; DROP INDEX audit_log_target; \
                 DROP INDEX woi_on_site; \
                 DROP TABLE plan_orders; \
                 DROP TABLE part_index; DROP TABLE stock_index; DROP TABLE movement_index; DROP TABLE requisition_index; DROP TABLE movement_month; \
                 DROP TABLE day_review_index; DROP INDEX work_item_technician_day; \
                 DROP TABLE workshop_index; \
                 DELETE FROM schema_migrations WHERE version >= 4",
        );
        assert_eq!(snapshot(&db), kept);
        check(&db);
    })
    .await
}

/// Takes the database back to an older schema with `sql` (what later migrations added taken away
/// again), then opens it as the server does, which migrates it.
fn reopened_after(t: &common::TestDb, db: Db, sql: &str) -> Db {
    db.transaction(Mode::Write, |tx| tx.execute_batch(sql)).unwrap();
    drop(db);
    Db::open(&t.url).unwrap()
}

/// A database at schema 18 with movements (the rollup and the index of 0019 taken away again)
/// gets its monthly movement rollup filled when the server opens it.
async fn the_migration_fills_the_movement_rollup(b: Backend) {
    common::blocking(move || {
        let (t, db) = fresh(b);
        let mv = |id: u8, kind: u8, part: u8, d: u8, deleted: bool| Op::Movement { id, kind, part, store: 1, day: d, hour: 9, quantity: 2, over_use: id == 1, deleted };
        apply_batches(&db, &[vec![Op::Part { part: 0, sku: 0 }, mv(0, 3, 0, 0, false), mv(1, 3, 0, 30, false), mv(2, 4, 1, 60, false), mv(3, 0, 1, 61, true)]]);
        let kept = snapshot(&db);
        assert_eq!(kept.iter().filter(|r| r["table"] == "movement_month").count(), 3, "{kept:?}");
        let db = reopened_after(&t, db, "DROP TABLE movement_month; DROP INDEX movement_repair; DELETE FROM schema_migrations WHERE version >= 19");
        assert_eq!(snapshot(&db), kept);
        check(&db);
    })
    .await
}

/// Known numbers: a year's report adds the whole months from the rollup to the partial ones from
/// the movements, a tombstone takes a movement away, and a movement moved into another month
/// moves with it.
async fn movements_over_whole_and_partial_months(b: Backend) {
    common::blocking(move || {
        let (_t, db) = fresh(b);
        // Days from 2026-11-10: 0 (Nov 10), 25 (Dec 5), 40 (Dec 20), 55 (Jan 4).
        let used = |id: u8, d: u8, quantity: u8| Op::Movement { id, kind: 3, part: 0, store: 1, day: d, hour: 9, quantity, over_use: false, deleted: false };
        apply_batches(&db, &[vec![Op::Part { part: 0, sku: 1 }, used(0, 0, 1), used(1, 25, 2), used(2, 40, 4), used(3, 55, 8)]]);
        let used_in = |from: &str, to: &str| -> Vec<i64> {
            let q = ReportQuery { from: Some(from.into()), to: Some(to.into()), ..Default::default() };
            db.transaction(Mode::Read, |tx| run_from(tx, "movements", &q, Source::Rollups)).unwrap().rows.iter().map(|r| r["use"].as_i64().unwrap()).collect()
        };
        assert_eq!(used_in("2026-11-01", "2027-01-31"), vec![15]);
        assert_eq!(used_in("2026-11-05", "2027-01-10"), vec![15]);
        assert_eq!(used_in("2026-11-11", "2027-01-03"), vec![6]);
        assert_eq!(used_in("2026-12-01", "2026-12-31"), vec![6]);
        assert_eq!(used_in("2026-12-06", "2026-12-19"), Vec::<i64>::new());
        // December's 2 moves to January (day 60 = Jan 9); the 4 is taken back.
        apply_batches(&db, &[vec![used(1, 60, 2), Op::Movement { id: 2, kind: 3, part: 0, store: 1, day: 40, hour: 9, quantity: 4, over_use: false, deleted: true }]]);
        assert_eq!(used_in("2026-12-01", "2026-12-31"), Vec::<i64>::new());
        assert_eq!(used_in("2027-01-01", "2027-01-31"), vec![10]);
        let rows = db.transaction(Mode::Read, |tx| tx.query("SELECT month, used FROM movement_month WHERE movements <> 0 ORDER BY month", &[])).unwrap();
        let months: Vec<(String, i64)> = rows.iter().map(|r| (r.text(0).unwrap(), r.int(1).unwrap())).collect();
        assert_eq!(months, vec![("2026-11".to_owned(), 1), ("2027-01".to_owned(), 10)]);
        check(&db);
    })
    .await
}
