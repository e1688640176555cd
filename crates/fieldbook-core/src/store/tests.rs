//! Store tests on real SQLite files, loaded with the demo company.

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::import::ImportDocument;
use crate::model::*;
use crate::store::{AnswerInput, SignRequest};

const DEMO: &str = include_str!("../../../../demo/fire-protection.json");
const INSPECTION: &str = "WO-1001";
const REPAIR: &str = "WO-1002";

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
}

fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 3, 0, 0).unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    store: Store,
}

fn demo_store() -> Fixture {
    let (dir, mut store) = fixtures::demo_store();
    store.set_clock(fixed_now);
    Fixture { path: store.path().to_owned(), _dir: dir, store }
}

fn answers(v: serde_json::Value) -> Vec<AnswerInput> {
    serde_json::from_value(v).unwrap()
}

/// Every required item of the demo inspection, with pump 2 leaking and under pressure.
fn full_inspection() -> Vec<AnswerInput> {
    serde_json::from_str(include_str!("../../../../demo/fixtures/inspection-wo-1001.json")).unwrap()
}

fn strokes() -> Vec<Stroke> {
    vec![vec![StrokePoint { x: 10.0, y: 40.0, t: 0 }, StrokePoint { x: 60.0, y: 12.0, t: 80 }, StrokePoint { x: 120.0, y: 45.0, t: 160 }]]
}

fn sign_request() -> SignRequest {
    SignRequest { signer_name: "陈建国".into(), signer_title: Some("物业工程部经理".into()), strokes: strokes() }
}

fn signed_inspection(f: &mut Fixture) {
    f.store.set_status(INSPECTION, Status::OnSite).unwrap();
    f.store.record_answers(INSPECTION, &full_inspection()).unwrap();
    f.store.complete(INSPECTION).unwrap();
    f.store.sign(INSPECTION, &sign_request()).unwrap();
}

/// A connection that bypasses the store: keyed for an encrypted store, plain for a new file or
/// an old plaintext store (how a laptop's store looked before #13).
fn raw(path: &Path) -> Connection {
    let encrypted = path.exists() && std::fs::metadata(path).unwrap().len() > 0 && !crate::at_rest::encrypt::is_plaintext(path).unwrap();
    let conn = Connection::open(path).unwrap();
    if encrypted {
        crate::at_rest::encrypt::apply_key(&conn, &super::fixtures::key()).unwrap();
    }
    conn
}

#[test]
fn a_new_file_gets_the_whole_schema_and_reopening_changes_nothing() {
    let f = demo_store();
    assert_eq!(migrate::version(&f.store.conn).unwrap(), migrate::latest());
    let device = f.store.device().id.clone();
    drop(f.store);
    let again = Store::open(&f.path, &super::fixtures::key()).unwrap();
    assert_eq!(again.device().id, device, "the device identity survives reopening");
    assert_eq!(again.orders_for_day(day()).unwrap().len(), 5);
}

/// A raw connection with the migrations up to `version` applied, as a laptop on that schema.
fn schema_at(path: &Path, version: i64) -> Connection {
    let conn = raw(path);
    for (v, sql) in migrate::MIGRATIONS.iter().filter(|(v, _)| *v <= version) {
        conn.execute_batch(&format!("BEGIN; {sql}\nPRAGMA user_version = {v}; COMMIT;")).unwrap();
    }
    conn
}

fn stored_clocks(conn: &Connection, table: &str, id: &str) -> Option<Value> {
    let text: Option<String> = conn.query_row(&format!("SELECT clocks FROM {table} WHERE id = ?1"), [id], |r| r.get(0)).unwrap();
    text.map(|t| serde_json::from_str(&t).unwrap())
}

fn table_exists(conn: &Connection, name: &str) -> bool {
    conn.query_row("SELECT count(*) FROM sqlite_schema WHERE name = ?1", [name], |r| r.get::<_, i64>(0)).unwrap() > 0
}

const OLD_RECORDS: &str = "INSERT INTO customers (id, code, name) VALUES ('c-1', 'C1', 'Huaan'), ('c-2', 'C2', 'Never stamped');
     INSERT INTO sites (id, code, customer_id, name, address, region, zone) VALUES ('s-1', 'S1', 'c-1', 'Plant', 'Road 1', 'East', 'urban');";

#[test]
fn field_stamps_written_one_row_per_field_end_up_in_the_records_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    // A laptop on schema 4, stamps still in field_clocks.
    let conn = schema_at(&path, 4);
    conn.execute_batch(OLD_RECORDS).unwrap();
    conn.execute_batch(
        "INSERT INTO field_clocks VALUES ('customers', 'c-1', 'name', '000000000000002-0000000000-a'),
                                         ('customers', 'c-1', 'phone', '000000000000001-0000000000-a'),
                                         ('sites', 's-1', 'name', '000000000000003-0000000000-b');",
    )
    .unwrap();
    migrate::apply_all(&conn).unwrap();
    assert_eq!(
        stored_clocks(&conn, "customers", "c-1"),
        Some(json!({"name": "000000000000002-0000000000-a", "phone": "000000000000001-0000000000-a"}))
    );
    assert_eq!(stored_clocks(&conn, "sites", "s-1"), Some(json!({"name": "000000000000003-0000000000-b"})));
    assert_eq!(stored_clocks(&conn, "customers", "c-2"), None, "a record never stamped stays unstamped");
    assert!(!table_exists(&conn, "field_clocks") && !table_exists(&conn, "record_clocks"));
}

#[test]
fn compact_stamps_move_from_record_clocks_into_the_records_rows_and_read_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v5.db");
    // A laptop on schema 5: one `record_clocks` row per record, some in the compact form.
    let conn = schema_at(&path, 5);
    conn.execute_batch(OLD_RECORDS).unwrap();
    conn.execute_batch(
        r#"INSERT INTO record_clocks VALUES ('customers', 'c-1', '{"*":"000000000000004-0000000000-a","phone":"000000000000005-0000000000-a","email":null}'),
                                           ('sites', 's-1', '{"name":"000000000000003-0000000000-b"}');"#,
    )
    .unwrap();
    drop(conn);
    let store = Store::open(&path, &super::fixtures::key()).unwrap();
    assert!(!table_exists(&store.conn, "record_clocks"));
    let c1 = store.record_stamps("customers", "c-1").unwrap();
    assert_eq!(c1["phone"], json!("000000000000005-0000000000-a"));
    assert_eq!(c1["name"], json!("000000000000004-0000000000-a"));
    assert!(!c1.contains_key("email"), "a null stamp stays no stamp");
    // The shared stamp covers every field the entity has now (merged_into came with #12).
    assert_eq!(c1.len(), 6, "code, name, contact, phone, merged_into and deleted: {c1:?}");
    assert_eq!(Value::Object(store.record_stamps("sites", "s-1").unwrap()), json!({"name": "000000000000003-0000000000-b"}));
    assert!(store.record_stamps("customers", "c-2").unwrap().is_empty());
}

#[test]
fn every_synced_entity_keeps_its_stamps_in_its_own_row() {
    let f = demo_store();
    for spec in crate::entity::ENTITIES {
        let has: bool = f
            .store
            .conn
            .query_row(&format!("SELECT count(*) FROM pragma_table_info('{}') WHERE name = 'clocks'", spec.name), [], |r| r.get::<_, i64>(0))
            .unwrap()
            > 0;
        assert!(has, "{} has no clocks column: a migration adding the entity must add one", spec.name);
    }
    // Every record the demo import wrote carries its stamps.
    let unstamped: i64 = f.store.conn.query_row("SELECT count(*) FROM work_orders WHERE clocks IS NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(unstamped, 0);
}

#[test]
fn search_documents_a_crash_kept_from_being_built_are_built_when_the_store_opens() {
    let f = demo_store();
    drop(f.store);
    // As a pull leaves it when the app dies before the background run: the rows committed with
    // their backlog entry, no documents.
    let conn = raw(&f.path);
    conn.execute_batch(
        "INSERT INTO search_bulk(id) VALUES (1);
         INSERT INTO customers (id, code, name) VALUES ('c-late', 'C-LATE', '迟到的客户');
         DELETE FROM search_bulk;
         INSERT INTO search_backlog(entity, from_row, to_row) SELECT 'customers', rowid, rowid FROM customers WHERE id = 'c-late';",
    )
    .unwrap();
    let docs: i64 = conn.query_row("SELECT count(*) FROM search_docs WHERE record_id = 'c-late'", [], |r| r.get(0)).unwrap();
    assert_eq!(docs, 0);
    drop(conn);
    let store = Store::open(&f.path, &super::fixtures::key()).unwrap();
    assert_eq!(store.search("迟到的客户", 5).unwrap()[0].record_id, "c-late");
    let backlog: i64 = store.conn.query_row("SELECT count(*) FROM search_backlog", [], |r| r.get(0)).unwrap();
    assert_eq!(backlog, 0);
}

#[test]
fn a_newer_schema_is_refused_and_the_file_left_as_it_was() {
    let f = demo_store();
    drop(f.store);
    raw(&f.path).execute_batch("PRAGMA user_version = 99; PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    let before = std::fs::read(&f.path).unwrap();
    let err = Store::open(&f.path, &super::fixtures::key()).err().expect("newer schema must be refused");
    let msg = err.to_string();
    assert!(matches!(err, Error::SchemaTooNew { found: 99, .. }), "{msg}");
    assert!(msg.contains("update Fieldbook"), "{msg}");
    assert_eq!(std::fs::read(&f.path).unwrap(), before);
}

#[test]
fn a_file_that_is_not_a_database_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "shopping list: seals, gauges, batteries ...................................................................").unwrap();
    let msg = Store::open(&path, &super::fixtures::key()).err().unwrap().to_string();
    assert!(msg.contains("cannot decrypt") && msg.contains("not a Fieldbook store") && msg.contains("notes.db"), "{msg}");
}

#[test]
fn import_is_idempotent_writes_no_outbox_and_keeps_laptop_work() {
    let mut f = demo_store();
    f.store.set_status(INSPECTION, Status::OnSite).unwrap();
    let outbox_before = f.store.outbox_len().unwrap();
    let summary = f.store.import(&ImportDocument::from_json(DEMO, "demo").unwrap(), "demo").unwrap();
    assert_eq!(summary.work_orders, 6);
    assert_eq!(f.store.outbox_len().unwrap(), outbox_before, "reference data is not pushed from a laptop");
    assert_eq!(f.store.find_order(INSPECTION).unwrap().status, Status::OnSite, "re-import must not undo the technician's status");
    let count: i64 = f.store.conn.query_row("SELECT count(*) FROM work_orders", [], |r| r.get(0)).unwrap();
    assert_eq!(count, 6);
}

#[test]
fn a_bad_import_reports_every_problem_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("f.db"), &super::fixtures::key()).unwrap();
    let mut doc = ImportDocument::from_json(DEMO, "demo").unwrap();
    doc.sites[0].customer = "C-NOBODY".into();
    doc.work_orders[0].template = Some("NO-SUCH-TEMPLATE".into());
    doc.assets.push(doc.assets[0].clone());
    let err = store.import(&doc, "bad.json").unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.problems().len(), 3, "{msg}");
    assert!(msg.contains("C-NOBODY") && msg.contains("NO-SUCH-TEMPLATE") && msg.contains("appears twice"), "{msg}");
    let customers: i64 = store.conn.query_row("SELECT count(*) FROM customers", [], |r| r.get(0)).unwrap();
    assert_eq!(customers, 0, "nothing half-written");
}

#[test]
fn the_day_is_listed_by_response_deadline_with_6h_urban_7h_suburban() {
    let f = demo_store();
    let orders = f.store.orders_for_day(day()).unwrap();
    let deadlines: Vec<_> = orders.iter().map(|o| o.response_deadline).collect();
    assert!(deadlines.windows(2).all(|w| w[0] <= w[1]), "sorted by deadline");
    let urban = orders.iter().find(|o| o.number == INSPECTION).unwrap();
    assert_eq!(urban.response_deadline - urban.reported_at, chrono::Duration::hours(6));
    let suburban = orders.iter().find(|o| o.number == REPAIR).unwrap();
    assert_eq!(suburban.zone, Zone::Suburban);
    assert_eq!(suburban.response_deadline - suburban.reported_at, chrono::Duration::hours(7));
    let dispatched = f.store.orders(&OrderFilter { status: Some(Status::Signed), day: None }).unwrap();
    assert!(dispatched.is_empty());
}

#[test]
fn each_answer_appends_exactly_one_outbox_entry_with_its_fields() {
    let mut f = demo_store();
    assert_eq!(f.store.outbox_len().unwrap(), 0);
    let n = f.store.record_answers(INSPECTION, &answers(json!([
        {"item": "site.exits", "value": "pass"},
        {"item": "pump.outlet_pressure", "asset": "JQ-PUMP-01", "value": "0.55", "note": "稳压"}
    ]))).unwrap();
    assert_eq!(n, 2);
    let outbox = f.store.outbox().unwrap();
    assert_eq!(outbox.len(), 2);
    assert!(outbox.iter().all(|e| e.entity == "inspection_answers"));
    assert_eq!(outbox[1].fields["value"], json!(0.55), "the normalized value, not the typed text");
    assert_eq!(outbox[1].fields["note"], json!("稳压"));
    assert!(outbox[0].seq < outbox[1].seq && outbox[0].hlc < outbox[1].hlc);
    // Answering the same item again is an update of the same record: one more entry, same id.
    f.store.record_answers(INSPECTION, &answers(json!([{"item": "site.exits", "value": "fail"}]))).unwrap();
    let outbox = f.store.outbox().unwrap();
    assert_eq!(outbox.len(), 3);
    assert_eq!(outbox[2].record_id, outbox[0].record_id);
    // Clocks of each field moved to the newest stamp.
    let stamps = super::clocks::read(&f.store.conn, "inspection_answers", &outbox[0].record_id);
    assert_eq!(stamps["value"], json!(outbox[2].hlc));
}

#[test]
fn a_failed_write_leaves_no_record_and_no_outbox_entry() {
    let mut f = demo_store();
    let err = f.store.record_answers(INSPECTION, &answers(json!([
        {"item": "site.exits", "value": "pass"},
        {"item": "pump.outlet_pressure", "asset": "JQ-PUMP-01", "value": "high"}
    ]))).unwrap_err();
    let p = &err.problems()[0];
    assert_eq!(p.record, "work order WO-1001");
    assert!(p.field.starts_with("pump.outlet_pressure") && p.problem.contains("not a number"), "{err}");
    assert_eq!(f.store.outbox_len().unwrap(), 0);
    assert!(f.store.order_detail(INSPECTION).unwrap().answers.is_empty(), "the valid answer was not half-written either");

    let err = f.store.add_repair(REPAIR, &NewRepairRecord {
        asset_id: None, fault: "漏水".into(), cause: "密封老化".into(), action: "更换机械密封".into(),
        parts: vec![PartUsed { sku: "NO-SUCH".into(), quantity: 1, serials: vec![], faulty_returned: true }],
        labour_minutes: 90, category: Category::Paid, fee_cents: 0, fee_collected: false, taken_to_workshop: false, receipt_number: None,
    }).unwrap_err();
    assert!(err.to_string().contains("part NO-SUCH") && err.to_string().contains("unknown part"), "{err}");
    assert_eq!(f.store.outbox_len().unwrap(), 0);
}

#[test]
fn an_outbox_write_that_fails_inside_the_transaction_rolls_back_the_record() {
    let mut f = demo_store();
    let order = f.store.find_order(INSPECTION).unwrap();
    // The record write succeeds, then a later write in the same transaction fails.
    let result: Result<()> = f.store.write(|tx| {
        tx.put("work_orders", &order.id, &[("problem", json!("changed"))])?;
        tx.conn().execute("INSERT INTO nonexistent_table VALUES (1)", [])?;
        Ok(())
    });
    assert!(result.is_err());
    assert_eq!(f.store.find_order(INSPECTION).unwrap().problem, order.problem);
    assert_eq!(f.store.outbox_len().unwrap(), 0);
}

#[test]
fn completing_lists_every_missing_required_item() {
    let mut f = demo_store();
    f.store.set_status(INSPECTION, Status::OnSite).unwrap();
    let mut partial = full_inspection();
    partial.retain(|a| a.item != "pump.leak_where" && a.item != "site.exits");
    f.store.record_answers(INSPECTION, &partial).unwrap();
    let err = f.store.complete(INSPECTION).unwrap_err();
    let fields: Vec<&str> = err.problems().iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["pump.leak_where (asset JQ-PUMP-02)", "site.exits"], "{err}");
    assert_eq!(f.store.find_order(INSPECTION).unwrap().status, Status::OnSite);
}

#[test]
fn status_moves_forward_and_records_arrival() {
    let mut f = demo_store();
    f.store.set_status(REPAIR, Status::EnRoute).unwrap();
    let o = f.store.set_status(REPAIR, Status::OnSite).unwrap();
    assert_eq!(o.arrived_at, Some(fixed_now()));
    let err = f.store.set_status(REPAIR, Status::Dispatched).unwrap_err();
    assert!(err.to_string().contains("only moves forward"), "{err}");
    assert!(f.store.set_status(REPAIR, Status::Signed).unwrap_err().to_string().contains("fieldbook sign"));
    let err = f.store.complete(REPAIR).unwrap_err();
    assert!(err.to_string().contains("no repair record"), "{err}");
}

#[test]
fn signing_locks_the_order_until_an_amendment_which_keeps_the_signed_revision() {
    let mut f = demo_store();
    signed_inspection(&mut f);
    let err = f.store.record_answers(INSPECTION, &answers(json!([{"item": "site.exits", "value": "fail"}]))).unwrap_err();
    assert!(matches!(err, Error::Locked { revision: 1, .. }), "{err}");
    assert!(err.to_string().contains("fieldbook amend"), "the error says how: {err}");
    assert!(f.store.add_repair(INSPECTION, &NewRepairRecord {
        asset_id: None, fault: "x".into(), cause: "y".into(), action: "z".into(), parts: vec![], labour_minutes: 1,
        category: Category::Contract, fee_cents: 0, fee_collected: false, taken_to_workshop: false, receipt_number: None,
    }).is_err());

    let amended = f.store.amend(INSPECTION, "客户要求补记隐患 / customer asked to record a hazard").unwrap();
    assert_eq!((amended.revision, amended.status), (2, Status::OnSite));
    f.store.record_answers(INSPECTION, &answers(json!([{"item": "site.hazards", "value": ["blocked_exit"]},
        {"item": "site.hazard_detail", "value": "B1 东侧通道堆放纸箱"}]))).unwrap();
    let v = f.store.verify(INSPECTION).unwrap();
    assert!(!v.intact && v.problems[0].contains("revision 2 is not signed yet"), "{:?}", v.problems);
    assert!(v.signatures[0].digest_ok && v.signatures[0].device_signature_ok, "revision 1 is kept intact");

    f.store.complete(INSPECTION).unwrap();
    f.store.sign(INSPECTION, &sign_request()).unwrap();
    let detail = f.store.order_detail(INSPECTION).unwrap();
    assert_eq!(detail.signatures.iter().map(|s| s.revision).collect::<Vec<_>>(), [1, 2]);
    assert_ne!(detail.signatures[0].digest, detail.signatures[1].digest);
    assert!(f.store.verify(INSPECTION).unwrap().intact);
}

#[test]
fn verify_passes_on_an_untouched_signed_order() {
    let mut f = demo_store();
    signed_inspection(&mut f);
    let v = f.store.verify(INSPECTION).unwrap();
    assert!(v.intact, "{:?}", v.problems);
    assert_eq!(v.signatures[0].records_match, Some(true));
    assert_eq!(v.signatures[0].device_public_key, f.store.device().public_key_hex());
}

#[test]
fn verify_fails_when_the_sqlite_file_is_edited_behind_the_cores_back() {
    let mut f = demo_store();
    signed_inspection(&mut f);
    raw(&f.path)
        .execute("UPDATE inspection_answers SET value = '\"pass\"' WHERE item_key = 'pump.leak' AND value = '\"fail\"'", [])
        .unwrap();
    let v = f.store.verify(INSPECTION).unwrap();
    assert!(!v.intact);
    assert_eq!(v.signatures[0].records_match, Some(false));
    assert!(v.problems[0].contains("records changed after signing") && v.problems[0].contains("answers["), "{:?}", v.problems);

    // Rewriting the snapshot as well is caught by the digest…
    raw(&f.path).execute("UPDATE signatures SET signed_content = replace(signed_content, '\"fail\"', '\"pass\"')", []).unwrap();
    let v = f.store.verify(INSPECTION).unwrap();
    assert!(!v.signatures[0].digest_ok, "{:?}", v.problems);

    // …and recomputing the digest too is caught by the device signature.
    let content: String = raw(&f.path).query_row("SELECT signed_content FROM signatures", [], |r| r.get(0)).unwrap();
    raw(&f.path).execute("UPDATE signatures SET digest = ?1", [crate::signature::sha256_hex(content.as_bytes())]).unwrap();
    let v = f.store.verify(INSPECTION).unwrap();
    assert!(v.signatures[0].digest_ok && !v.signatures[0].device_signature_ok && !v.intact, "{:?}", v);
}

#[test]
fn signing_needs_a_completed_order_a_name_and_strokes() {
    let mut f = demo_store();
    let err = f.store.sign(INSPECTION, &sign_request()).unwrap_err();
    assert!(err.to_string().contains("complete it first"), "{err}");
    f.store.set_status(INSPECTION, Status::OnSite).unwrap();
    f.store.record_answers(INSPECTION, &full_inspection()).unwrap();
    f.store.complete(INSPECTION).unwrap();
    let err = f.store.sign(INSPECTION, &SignRequest { signer_name: " ".into(), signer_title: None, strokes: vec![] }).unwrap_err();
    assert_eq!(err.problems().len(), 2, "{err}");
    assert_eq!(f.store.find_order(INSPECTION).unwrap().status, Status::Completed);
}

#[test]
fn findings_raise_one_follow_up_repair_each() {
    let mut f = demo_store();
    f.store.record_answers(INSPECTION, &full_inspection()).unwrap();
    let detail = f.store.order_detail(INSPECTION).unwrap();
    let found: Vec<_> = detail.findings.iter().map(|x| x.item_key.as_str()).collect();
    assert_eq!(found, ["pump.outlet_pressure", "pump.leak"], "low pressure and the leak on pump 2");
    let follow = f.store.create_follow_up(INSPECTION, "pump.leak", Some("JQ-PUMP-02")).unwrap();
    assert_eq!(follow.kind, WorkOrderKind::RepairCall);
    assert_eq!(follow.asset_ids.len(), 1);
    assert!(follow.problem.as_deref().unwrap().contains("No leaks"));
    let again = f.store.create_follow_up(INSPECTION, "pump.leak", Some("JQ-PUMP-02")).unwrap();
    assert_eq!(again.id, follow.id, "one follow-up per finding");
    assert_eq!(f.store.order_detail(INSPECTION).unwrap().follow_ups, [follow.number]);
}

#[test]
fn a_follow_up_is_due_by_the_calendar_version_the_laptop_holds() {
    use crate::service_calendar::{Interval, ServiceCalendar};
    let mut f = demo_store();
    f.store.record_answers(INSPECTION, &full_inspection()).unwrap();
    // No version pulled yet: the default calendar. Mon 2 March 11:00 (UTC+8) + 6 working hours
    // (urban): 1 h before lunch, 4.5 h after, the last half hour on Tuesday morning.
    let follow = f.store.create_follow_up(INSPECTION, "pump.leak", Some("JQ-PUMP-02")).unwrap();
    assert_eq!(ts(follow.response_deadline), "2026-03-03T01:00:00.000Z");

    // Version 2, in force since January, works Mondays 08:00–20:00; version 3 is not in force yet.
    let mut long_monday = ServiceCalendar::default();
    long_monday.week.mon = vec![Interval::new("08:00", "20:00")];
    let mut later = ServiceCalendar::default();
    later.zones.urban = "suburban".into();
    for (version, from, body) in [(2, "2026-01-01T00:00:00+08:00", &long_monday), (3, "2026-04-01T00:00:00+08:00", &later)] {
        f.store
            .conn
            .execute("INSERT INTO service_calendars (id, version, effective_from, body) VALUES (?1, ?1, ?2, ?3)", params![version, from, body.to_json()])
            .unwrap();
    }
    let follow = f.store.create_follow_up(INSPECTION, "pump.outlet_pressure", Some("JQ-PUMP-02")).unwrap();
    assert_eq!(ts(follow.response_deadline), "2026-03-02T09:00:00.000Z", "11:00 + 6 h on a long Monday");
}

#[test]
fn repairs_record_labour_as_time_and_the_daily_report_sums_it() {
    let mut f = demo_store();
    let rec = f.store.add_repair(REPAIR, &NewRepairRecord {
        asset_id: Some(crate::import::stable_id("assets", "XH-PUMP-01")), fault: "泵体漏水".into(), cause: "机械密封磨损".into(),
        action: "更换机械密封并试压".into(),
        parts: vec![PartUsed { sku: "SEAL-PUMP-45".into(), quantity: 1, serials: vec!["MS45-8812".into()], faulty_returned: true }],
        labour_minutes: 95, category: Category::Paid, fee_cents: 36000 + 20000, fee_collected: true, taken_to_workshop: false, receipt_number: None,
    }).unwrap();
    assert_eq!(rec.parts[0].serials, ["MS45-8812"]);
    let internal = crate::store::time::TimeInput { work_date: day(), category: Category::Internal, activity: Activity::Internal, minutes: 30, note: Some("备件入库".into()), work_order: None };
    f.store.add_time("li.wei", &internal).unwrap();
    let report = f.store.daily_report(day(), None).unwrap();
    assert_eq!(report.technicians[0].technician, "li.wei");
    assert_eq!(report.totals.get(Category::Paid), 95);
    assert_eq!(report.totals.get(Category::Internal), 30);
    assert_eq!(report.total, 125);
    let entities: Vec<String> = f.store.outbox().unwrap().into_iter().map(|e| e.entity).collect();
    assert_eq!(entities, ["repair_records", "time_entries", "time_entries"]);
}

#[test]
fn workshop_repairs_need_a_receipt_and_ratings_are_one_to_four() {
    let mut f = demo_store();
    let err = f.store.add_repair(REPAIR, &NewRepairRecord {
        asset_id: None, fault: "a".into(), cause: "b".into(), action: "c".into(), parts: vec![], labour_minutes: 10,
        category: Category::Paid, fee_cents: 0, fee_collected: false, taken_to_workshop: true, receipt_number: None,
    }).unwrap_err();
    assert!(err.to_string().contains("receipt number"), "{err}");
    let err = f.store.rate(REPAIR, &SatisfactionCard { attitude: 4, skill: 5, arrival: 0, promise: 4, comment: None }).unwrap_err();
    assert_eq!(err.problems().len(), 2);
    f.store.rate(REPAIR, &SatisfactionCard { attitude: 4, skill: 4, arrival: 3, promise: 4, comment: Some("很专业".into()) }).unwrap();
    f.store.rate(REPAIR, &SatisfactionCard { attitude: 4, skill: 4, arrival: 4, promise: 4, comment: None }).unwrap();
    let card = f.store.order_detail(REPAIR).unwrap().satisfaction.unwrap();
    assert_eq!(card.arrival, 4, "the second card replaces the first");
}

#[test]
fn attachments_are_stored_once_by_content() {
    let mut f = demo_store();
    let a = f.store.attach_bytes(b"jpeg bytes", "image/jpeg", Some("pump.jpg")).unwrap();
    let b = f.store.attach_bytes(b"jpeg bytes", "image/jpeg", Some("again.jpg")).unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(a.id, crate::signature::sha256_hex(b"jpeg bytes"));
    assert_eq!(f.store.attachment_bytes(&a.id).unwrap(), b"jpeg bytes");
    // On disk the file is sealed: the content is not in it.
    let on_disk = std::fs::read(f.store.attachment_path(&a.id)).unwrap();
    assert!(on_disk.starts_with(b"FBSEAL01") && !on_disk.windows(4).any(|w| w == b"jpeg"));
    assert_eq!(f.store.outbox_len().unwrap(), 1);
    f.store.record_answers(INSPECTION, &answers(json!([{"item": "pump.photo", "asset": "JQ-PUMP-01", "value": a.id}]))).unwrap();
}

/// The exact bytes a signature covers must never change: signatures already given are checked
/// against content rebuilt from the records, by the laptop and by the server. The digests below
/// were taken from the laptop's snapshot code before it moved to `signed_record`.
#[test]
fn signed_content_is_byte_for_byte_what_it_always_was() {
    let mut f = demo_store();
    signed_inspection(&mut f);
    f.store.set_status(REPAIR, Status::OnSite).unwrap();
    for (asset, parts, workshop) in [
        (Some(crate::import::stable_id("assets", "XH-PUMP-01")), vec![PartUsed { sku: "SEAL-PUMP-45".into(), quantity: 1, serials: vec!["MS45-8812".into()], faulty_returned: true }], None),
        (None, vec![PartUsed { sku: "SEAL-PUMP-45".into(), quantity: 2, serials: vec![], faulty_returned: false }], Some("R-0042")),
    ] {
        f.store.add_repair(REPAIR, &NewRepairRecord {
            asset_id: asset, fault: "泵体漏水".into(), cause: "机械密封磨损".into(), action: "更换机械密封并试压".into(), parts,
            labour_minutes: 95, category: Category::Paid, fee_cents: 56000, fee_collected: true, taken_to_workshop: workshop.is_some(),
            receipt_number: workshop.map(str::to_owned),
        }).unwrap();
    }
    f.store.complete(REPAIR).unwrap();
    f.store.sign(REPAIR, &SignRequest { signer_name: " 王 ".into(), signer_title: None, strokes: strokes() }).unwrap();
    // Repair ids are fresh UUIDs: masked so that the digest is the same on every run.
    let mut content = f.store.order_detail(REPAIR).unwrap().signatures[0].signed_content.clone();
    for (i, r) in f.store.order_detail(REPAIR).unwrap().repairs.iter().enumerate() {
        content = content.replace(&r.id, &format!("repair-{i}"));
    }
    let inspection = f.store.order_detail(INSPECTION).unwrap().signatures[0].digest.clone();
    assert_eq!(
        [inspection, crate::signature::sha256_hex(content.as_bytes())],
        ["18bda381af1bc9cadb7da48858d6f2f3bdd4eab4441cf468a74d249b4eceff15", "fe75b16793e2bd05330761d43f1a939d07f3b18fe9b74a2aca30f388230d5970"],
    );
}

/// Issue 10, finding 12: the signer a row shows must be the signer signed. The row's name,
/// title, time and strokes are outside the digest, so an edit of them alone left digest and
/// device signature valid and `verify` said "intact".
#[test]
fn verify_fails_when_the_signature_row_shows_another_signer() {
    for (column, sql) in [
        ("signer_name", "UPDATE signatures SET signer_name = 'Mallory'"),
        ("signer_title", "UPDATE signatures SET signer_title = NULL"),
        ("signed_at", "UPDATE signatures SET signed_at = '2026-03-01T03:00:00.000Z'"),
        ("strokes", "UPDATE signatures SET strokes = '[[{\"x\":1.0,\"y\":1.0,\"t\":0},{\"x\":2.0,\"y\":2.0,\"t\":9}]]'"),
    ] {
        let mut f = demo_store();
        signed_inspection(&mut f);
        assert!(f.store.verify(INSPECTION).unwrap().intact);
        raw(&f.path).execute(sql, []).unwrap();
        let v = f.store.verify(INSPECTION).unwrap();
        assert!(!v.intact, "{column}: {v:?}");
        let c = &v.signatures[0];
        assert!(c.digest_ok && c.device_signature_ok && c.records_match == Some(true), "only the row was touched: {c:?}");
        assert!(!c.signer_ok, "{column}");
        assert!(v.problems.iter().any(|p| p.contains(column) && p.contains("differ from what was signed")), "{column}: {:?}", v.problems);
    }
}

/// A signature row filed under another order, or another revision, is not that order's
/// signature even when its digest and device signature verify.
#[test]
fn verify_fails_for_a_signature_of_another_order_or_revision() {
    let mut f = demo_store();
    signed_inspection(&mut f);
    let inspection = f.store.find_order(INSPECTION).unwrap().id;
    let repair = f.store.find_order(REPAIR).unwrap().id;
    raw(&f.path).execute("UPDATE signatures SET revision = 2", []).unwrap();
    raw(&f.path).execute("UPDATE work_orders SET revision = 2 WHERE id = ?1", [&inspection]).unwrap();
    let v = f.store.verify(INSPECTION).unwrap();
    assert!(!v.intact && v.problems.iter().any(|p| p.contains("of revision 1, but the signature is filed as revision 2")), "{:?}", v.problems);

    raw(&f.path).execute("UPDATE work_orders SET revision = 1, status = 'signed' WHERE id = ?1", [&repair]).unwrap();
    raw(&f.path).execute("UPDATE signatures SET revision = 1, work_order_id = ?1", [&repair]).unwrap();
    let v = f.store.verify(REPAIR).unwrap();
    assert!(!v.intact && v.problems.iter().any(|p| p.contains("of WO-1001, not of this work order")), "{:?}", v.problems);
}

/// Issue #13: the store, its journal and its attachments are the laptop user's only.
#[cfg(unix)]
#[test]
fn the_store_its_journal_and_attachments_are_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("laptop/fieldbook.db");
    let mut s = Store::open(&path, &super::fixtures::key()).unwrap();
    let att = s.attach_bytes(b"photo of the pump room", "image/jpeg", Some("pump.jpg")).unwrap();
    assert_eq!(mode(&t.path().join("laptop")), 0o700);
    assert_eq!(mode(&path), 0o600);
    let wal = t.path().join("laptop/fieldbook.db-wal");
    assert!(wal.exists(), "the store runs in WAL mode");
    assert_eq!(mode(&wal), 0o600, "SQLite gives the journal the store's mode");
    assert_eq!(mode(&s.attachments_dir()), 0o700);
    assert_eq!(mode(&s.attachment_path(&att.id)), 0o600);
    drop(s);
    // A store an older version left readable by others is made private when opened.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    Store::open(&path, &super::fixtures::key()).unwrap();
    assert_eq!(mode(&path), 0o600);
    // A file that is not a store is refused and left exactly as it was.
    let other = t.path().join("notes.txt");
    std::fs::write(&other, "not a database, but mine").unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(Store::open(&other, &super::fixtures::key()).is_err());
    assert_eq!((mode(&other), std::fs::read_to_string(&other).unwrap().as_str()), (0o644, "not a database, but mine"));
}

// --- At rest (#13) -----------------------------------------------------------------------------

/// Strings a thief must not find in any byte of the data folder: customers' names and phones,
/// a signer, and an answer a technician typed.
const SECRETS: &[&str] = &["金桥国际商业广场", "+86 21 5030 1234", "陈建国", "left pump gland leaking"];

/// A plaintext store as a Fieldbook from before #13 left it: the demo company, a typed answer,
/// a signature, a photo, and unsynced work in the outbox.
fn plaintext_store(path: &Path) -> (i64, String) {
    let mut s = Store::open_unencrypted_for_benchmarks(path).unwrap();
    s.set_clock(fixed_now);
    s.import(&ImportDocument::from_json(DEMO, "demo").unwrap(), "demo").unwrap();
    s.record_answers(INSPECTION, &answers(json!([{"item": "pump.leak", "asset": "JQ-PUMP-02", "value": "fail", "note": "left pump gland leaking"}]))).unwrap();
    let photo = s.attach_bytes("pump room photo 陈建国".as_bytes(), "image/jpeg", Some("pump.jpg")).unwrap();
    s.set_status(REPAIR, Status::EnRoute).unwrap();
    (s.outbox_len().unwrap(), photo.id)
}

/// Every file under `dir` holding one of `needles` (as UTF-8).
fn files_containing(dir: &Path, needles: &[&str]) -> Vec<String> {
    files_containing_bytes(dir, &needles.iter().map(|n| n.as_bytes()).collect::<Vec<_>>())
}

use fieldbook_testkit::files_containing as files_containing_bytes;

#[test]
fn a_plaintext_store_is_encrypted_in_place_with_nothing_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fieldbook.db");
    let (unsynced, photo) = plaintext_store(&path);
    assert!(!files_containing(dir.path(), SECRETS).is_empty(), "the fixture must hold the secrets in plaintext");

    let mut s = Store::open(&path, &fixtures::key()).unwrap();
    assert_eq!(s.outbox_len().unwrap(), unsynced, "unsynced work survives the migration");
    assert_eq!(s.attachment_bytes(&photo).unwrap(), "pump room photo 陈建国".as_bytes());
    assert_eq!(s.order_detail(INSPECTION).unwrap().customer.name, "金桥国际商业广场");
    s.connection().query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    assert!(!crate::at_rest::encrypt::is_plaintext(&path).unwrap());
    assert_eq!(files_containing(dir.path(), SECRETS), Vec::<String>::new(), "no customer data readable in the data folder");
    let left: Vec<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.contains(".encrypting") || n.contains(".plaintext")).collect();
    assert!(left.is_empty(), "{left:?}");
    drop(s);
    // Another key does not open it, and says so.
    let err = Store::open(&path, &StoreKey::from_bytes([1; 32])).err().unwrap();
    assert!(matches!(err, Error::WrongKey { .. }), "{err}");
}

#[test]
fn the_sqlite3_tool_cannot_read_an_encrypted_store() {
    let f = demo_store();
    let out = std::process::Command::new("sqlite3").arg(&f.path).arg("SELECT count(*) FROM customers;").output();
    let Ok(out) = out else { panic!("sqlite3 is not installed; scripts/setup.sh installs it") };
    assert!(!out.status.success(), "sqlite3 read the store: {}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a database"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The states a kill can leave the migration in (at_rest::encrypt's steps), each opened again.
#[test]
fn every_state_an_interrupted_migration_leaves_opens_with_nothing_lost() {
    let sibling = |p: &Path, s: &str| PathBuf::from(format!("{}{s}", p.display()));
    // Killed during the export: a half-written copy beside the intact plaintext store.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let (unsynced, _) = plaintext_store(&path);
    std::fs::write(sibling(&path, ".encrypting"), b"half an export").unwrap();
    assert_eq!(Store::open(&path, &fixtures::key()).unwrap().outbox_len().unwrap(), unsynced);
    assert!(!sibling(&path, ".encrypting").exists());

    // Killed after the plaintext got its second name, before the swap: one file, two names.
    let path = dir.path().join("b.db");
    plaintext_store(&path);
    std::fs::hard_link(&path, sibling(&path, ".plaintext")).unwrap();
    assert_eq!(Store::open(&path, &fixtures::key()).unwrap().outbox_len().unwrap(), unsynced);
    assert!(!sibling(&path, ".plaintext").exists());

    // Killed after the swap, before the old plaintext was scrubbed.
    let path = dir.path().join("c.db");
    plaintext_store(&path);
    std::fs::copy(&path, sibling(&path, ".plaintext")).unwrap();
    std::fs::copy(&path, dir.path().join("c-original.db")).unwrap();
    drop(Store::open(&path, &fixtures::key()).unwrap());
    std::fs::copy(dir.path().join("c-original.db"), sibling(&path, ".plaintext")).unwrap();
    std::fs::remove_file(dir.path().join("c-original.db")).unwrap();
    assert_eq!(Store::open(&path, &fixtures::key()).unwrap().outbox_len().unwrap(), unsynced);
    assert!(!sibling(&path, ".plaintext").exists(), "the leftover plaintext is scrubbed");
    let c_files: Vec<String> = files_containing(dir.path(), SECRETS).into_iter().filter(|f| f.contains("/c.db")).collect();
    assert!(c_files.is_empty(), "{c_files:?}");
}

/// The key is in no file: not the store key, not the keys derived from it, as text or bytes —
/// in the store, its WAL, the attachments or the protection file (the passphrase way; the
/// keyring way is checked end to end in `desktop_e2e`).
#[test]
fn the_store_key_is_in_no_file() {
    use crate::at_rest::{unlock, Unlock};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fieldbook.db");
    let key = unlock(&path, &Unlock::Passphrase(zeroize::Zeroizing::new("陈师傅 spring 2026".into()))).unwrap();
    let mut s = Store::open(&path, &key).unwrap();
    s.import(&ImportDocument::from_json(DEMO, "demo").unwrap(), "demo").unwrap();
    s.attach_bytes(b"photo", "image/jpeg", None).unwrap();
    let page_key = key.sqlcipher_key();
    let attachment_key = key.attachment_key();
    let (hex_key, page_hex) = (key.to_hex(), page_key.trim_start_matches("x'").trim_end_matches('\''));
    let needles: Vec<&[u8]> = vec![key.bytes(), hex_key.as_bytes(), page_hex.as_bytes(), attachment_key.as_ref(), "陈师傅 spring 2026".as_bytes()];
    assert!(dir.path().join("fieldbook.db-wal").exists(), "the WAL is part of the scan");
    assert_eq!(files_containing_bytes(dir.path(), &needles), Vec::<String>::new());
    drop(s);
    assert_eq!(files_containing_bytes(dir.path(), &needles), Vec::<String>::new());
}

/// The crypto under SQLCipher is the one docs/security.md names: the system's OpenSSL libcrypto
/// on Linux (security fixes with the distribution's updates).
#[cfg(target_os = "linux")]
#[test]
fn sqlcipher_runs_on_the_systems_openssl() {
    let f = demo_store();
    let provider: String = f.store.connection().query_row("PRAGMA cipher_provider", [], |r| r.get(0)).unwrap();
    assert_eq!(provider, "openssl");
    let setting = |p: &str| -> String { f.store.connection().query_row(&format!("PRAGMA {p}"), [], |r| r.get(0)).unwrap() };
    assert_eq!(setting("cipher_page_size"), "4096");
    assert_eq!(setting("cipher_hmac_algorithm"), "HMAC_SHA256");
    // A store encrypted in place from plaintext gets the same settings.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    plaintext_store(&path);
    let migrated = Store::open(&path, &fixtures::key()).unwrap();
    let hmac: String = migrated.connection().query_row("PRAGMA cipher_hmac_algorithm", [], |r| r.get(0)).unwrap();
    assert_eq!(hmac, "HMAC_SHA256");
    drop(migrated);
    // Read with SQLCipher's defaults (HMAC-SHA512) the pages do not authenticate: the setting
    // is really in use, not just reported.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.pragma_update(None, "key", fixtures::key().sqlcipher_key().as_str()).unwrap();
    raw.query_row("PRAGMA cipher_hmac_algorithm = HMAC_SHA512", [], |_| Ok(())).optional().unwrap();
    assert!(raw.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).is_err());
}

#[test]
fn an_escalation_of_a_repair_goes_to_the_outbox_and_shows_as_open_until_the_office_answers() {
    let mut f = demo_store();
    let rec = f.store.add_repair(REPAIR, &NewRepairRecord {
        asset_id: None, fault: "报警主机无法复位".into(), cause: "不明".into(), action: "已断电重启，仍报故障".into(), parts: vec![],
        labour_minutes: 30, category: Category::Contract, fee_cents: 0, fee_collected: false, taken_to_workshop: false, receipt_number: None,
    }).unwrap();
    let before = f.store.outbox_len().unwrap();

    // Nothing half-written: no note, a repair of another order.
    let err = f.store.escalate(REPAIR, Some(&rec.id), EscalateTo::Engineer, "  ").unwrap_err();
    assert!(err.to_string().contains("note"), "{err}");
    let err = f.store.escalate(INSPECTION, Some(&rec.id), EscalateTo::Engineer, "help").unwrap_err();
    assert!(err.to_string().contains("not a repair of this order"), "{err}");
    assert_eq!(f.store.outbox_len().unwrap(), before);

    let e = f.store.escalate(REPAIR, Some(&rec.id), EscalateTo::Engineer, " 主板疑似损坏，需工程师到场 ").unwrap();
    assert_eq!((e.escalate_to, e.status, e.note.as_str()), (EscalateTo::Engineer, EscalationStatus::Open, "主板疑似损坏，需工程师到场"));
    assert_eq!(e.repair_record_id.as_deref(), Some(rec.id.as_str()));
    assert_eq!(e.raised_by, f.store.find_order(REPAIR).unwrap().technician.unwrap());
    assert_eq!(f.store.outbox_len().unwrap(), before + 1);
    let pushed = f.store.pending_push(100).unwrap();
    let entry = pushed.iter().find(|p| p.entity == "escalations").expect("the escalation is in the outbox");
    assert_eq!(entry.fields["escalate_to"], json!("engineer"));
    assert!(!entry.fields.contains_key("status"), "the status is the office's to write");
    assert_eq!(f.store.order_detail(REPAIR).unwrap().escalations, vec![e]);
}

// ---- Time outside repairs and the day's review (#12) ----

fn time(minutes: u32, category: Category, activity: Activity) -> crate::store::time::TimeInput {
    crate::store::time::TimeInput { work_date: day(), category, activity, minutes, note: Some("培训 / training".into()), work_order: None }
}

#[test]
fn a_days_time_is_added_edited_and_deleted_within_twenty_four_hours() {
    let mut f = demo_store();
    f.store.set_technician("li.wei").unwrap();
    let training = f.store.add_time_entry(&time(120, Category::Internal, Activity::Internal)).unwrap();
    let travel = f.store.add_time_entry(&crate::store::time::TimeInput { work_order: Some(REPAIR.into()), ..time(40, Category::Paid, Activity::Travel) }).unwrap();
    let d = f.store.day_time(day(), None).unwrap();
    assert_eq!((d.total, d.entries.len()), (160, 2));
    assert_eq!(d.entries.iter().find(|e| e.entry.id == travel.id).unwrap().work_order_number.as_deref(), Some(REPAIR));

    // Over 24 h in the day: refused naming what fits, nothing written.
    let outbox = f.store.outbox().unwrap().len();
    let err = f.store.add_time_entry(&time(1300, Category::Internal, Activity::Internal)).unwrap_err().to_string();
    assert!(err.contains("more than 24 h") && err.contains("at most 1280 min"), "{err}");
    // Editing an entry does not count its old minutes twice: 120 → 1400 fits beside the 40.
    f.store.edit_time_entry(&training.id, &time(1400, Category::Internal, Activity::Internal)).unwrap();
    let err = f.store.edit_time_entry(&training.id, &time(1401, Category::Internal, Activity::Internal)).unwrap_err().to_string();
    assert!(err.contains("more than 24 h"), "{err}");
    // Every problem at once: minutes out of range, internal work not in D, a note too long.
    let bad = crate::store::time::TimeInput { note: Some("x".repeat(4001)), ..time(0, Category::Paid, Activity::Internal) };
    let err = f.store.add_time_entry(&bad).unwrap_err();
    let Error::Invalid(problems) = err else { panic!("{err}") };
    assert_eq!(problems.iter().map(|p| p.field.as_str()).collect::<Vec<_>>(), ["minutes", "category", "note"]);
    assert_eq!(f.store.outbox().unwrap().len(), outbox + 1, "only the successful edit was written");

    f.store.delete_time_entry(&travel.id).unwrap();
    let d = f.store.day_time(day(), None).unwrap();
    assert_eq!((d.total, d.entries.len()), (1400, 1));
    let report = f.store.daily_report(day(), Some("li.wei")).unwrap();
    assert_eq!((report.totals.get(Category::Internal), report.activity_totals.internal, report.activity_totals.travel), (1400, 1400, 0));
}

#[test]
fn a_repairs_labour_is_changed_only_through_its_repair_record() {
    let mut f = demo_store();
    f.store.set_technician("li.wei").unwrap();
    f.store.add_repair(REPAIR, &NewRepairRecord {
        asset_id: None, fault: "漏水".into(), cause: "密封".into(), action: "更换".into(), parts: vec![], labour_minutes: 50,
        category: Category::Paid, fee_cents: 0, fee_collected: false, taken_to_workshop: false, receipt_number: None,
    }).unwrap();
    let d = f.store.day_time(day(), None).unwrap();
    let labour = &d.entries[0];
    assert!(labour.from_repair && labour.activity_shown == Some(Activity::Repair));
    let err = f.store.delete_time_entry(&labour.entry.id).unwrap_err().to_string();
    assert!(err.contains("repair record"), "{err}");
    assert_eq!(f.store.daily_report(day(), None).unwrap().activity_totals.repair, 50);
}

fn at_nine() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
}

#[test]
fn an_inspections_time_runs_from_arrival_to_completion_and_is_recorded_once() {
    let mut f = demo_store();
    f.store.set_clock(at_nine);
    f.store.set_status(INSPECTION, Status::OnSite).unwrap();
    f.store.record_answers(INSPECTION, &full_inspection()).unwrap();
    f.store.set_clock(fixed_now); // two hours later
    f.store.complete(INSPECTION).unwrap();
    let order = f.store.find_order(INSPECTION).unwrap();
    let tech = order.technician.clone().unwrap();
    let d = f.store.day_time(day(), Some(&tech)).unwrap();
    let auto: Vec<_> = d.entries.iter().filter(|e| e.entry.activity == Some(Activity::Inspection)).collect();
    assert_eq!(auto.len(), 1, "{:?}", d.entries);
    assert_eq!((auto[0].entry.minutes, auto[0].entry.category, auto[0].entry.id.clone()), (120, order.category, crate::store::time::inspection_time_id(&order.id)));

    // The technician corrects it; reopening and completing again keeps the correction.
    f.store.set_technician(&tech).unwrap();
    let id = auto[0].entry.id.clone();
    f.store.edit_time_entry(&id, &crate::store::time::TimeInput { note: None, ..time(90, order.category, Activity::Inspection) }).unwrap();
    f.store.set_status(INSPECTION, Status::OnSite).unwrap();
    f.store.complete(INSPECTION).unwrap();
    let d = f.store.day_time(day(), None).unwrap();
    let inspection: Vec<u32> = d.entries.iter().filter(|e| e.entry.activity == Some(Activity::Inspection)).map(|e| e.entry.minutes).collect();
    assert_eq!(inspection, [90]);
    assert_eq!(f.store.daily_report(day(), None).unwrap().activity_totals.inspection, 90);
}

#[test]
fn the_laptop_cannot_write_a_day_review() {
    let mut f = demo_store();
    let err = f
        .store
        .write(|tx| {
            tx.put("day_reviews", "day:li.wei:2026-03-02", &[
                ("technician", json!("li.wei")), ("work_date", json!("2026-03-02")), ("status", json!("signed_off")),
                ("reviewed_by", json!("li.wei")), ("reviewed_at", json!("2026-03-02T10:00:00.000Z")), ("deleted", json!(false)),
            ])
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("the server would refuse"), "{err}");
}

/// The repair form's preselected category (#12) from the contracts and warranties on the laptop:
/// the demo's HT-2025-017 covers JQ-PUMP-01 to 2026-03-31, whose warranty runs to 2026-06-14.
#[test]
fn a_repairs_default_category_follows_the_contract_then_the_warranty() {
    let f = demo_store();
    let pump = crate::import::stable_id("assets", "JQ-PUMP-01");
    let on = |day: &str| f.store.default_category(&pump, NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap()).unwrap().category;
    assert_eq!(on("2026-03-31"), Category::Contract, "the contract's last day");
    assert_eq!(on("2026-04-01"), Category::Warranty, "after the contract, inside the warranty");
    assert_eq!(on("2026-06-14"), Category::Warranty, "the warranty's last day");
    assert_eq!(on("2026-06-15"), Category::Paid);
    let err = f.store.default_category("no-such-asset", day()).unwrap_err().to_string();
    assert!(err.contains("no-such-asset") && err.contains("sync"), "{err}");
}

#[test]
fn a_workshop_receipt_needs_a_repair_taken_to_the_workshop_and_the_return_comes_only_after_goods_out() {
    use crate::store::workshop::{NewReceipt, ReturnSignature};
    use crate::workshop::Stage;
    let mut f = demo_store();
    let on_site = |taken: bool, receipt: Option<&str>| NewRepairRecord {
        asset_id: None, fault: "报警主机主板烧毁".into(), cause: "雷击".into(), action: "带回车间维修".into(), parts: vec![],
        labour_minutes: 40, category: Category::Paid, fee_cents: 0, fee_collected: false, taken_to_workshop: taken, receipt_number: receipt.map(Into::into),
    };
    let not_taken = f.store.add_repair(REPAIR, &on_site(false, None)).unwrap();
    let taken = f.store.add_repair(REPAIR, &on_site(true, Some("SJ-0042"))).unwrap();
    let receipt = |repair: &str, number: Option<&str>| NewReceipt {
        repair_record_id: repair.into(), receipt_number: number.map(Into::into), unit: "海湾 GST200 报警主机".into(), serial: Some("GST-88121".into()),
        condition: "外壳完好，主板有烧痕".into(), accessories: Some("电源线一根".into()), signer_name: "王经理".into(), strokes: strokes(),
    };
    let before = f.store.outbox_len().unwrap();
    let err = f.store.workshop_receipt(REPAIR, &receipt(&not_taken.id, Some("SJ-1"))).unwrap_err();
    assert!(err.to_string().contains("taken to the workshop"), "{err}");
    let err = f.store.workshop_receipt(REPAIR, &receipt(&taken.id, Some("SJ-9999"))).unwrap_err();
    assert!(err.to_string().contains("SJ-0042"), "the repair's own receipt number wins: {err}");
    assert_eq!(f.store.outbox_len().unwrap(), before, "nothing half-written");

    let job = f.store.workshop_receipt(REPAIR, &receipt(&taken.id, None)).unwrap();
    assert_eq!((job.stage, job.receipt_number.as_str(), job.receipt_signer.as_str()), (Stage::Received, "SJ-0042", "王经理"));
    let err = f.store.workshop_receipt(REPAIR, &receipt(&taken.id, None)).unwrap_err();
    assert!(err.to_string().contains("already has an open workshop receipt"), "{err}");
    let pushed = f.store.pending_push(100).unwrap();
    let entry = pushed.iter().find(|p| p.entity == "workshop_jobs").expect("the receipt is in the outbox");
    assert!(!entry.fields.contains_key("goods_in_at"), "the register is the office's");

    let sign = ReturnSignature { signer_name: "王经理".into(), strokes: strokes() };
    let err = f.store.workshop_return(&job.id, &sign).unwrap_err();
    assert!(err.to_string().contains("goods-out"), "{err}");
    // The office's steps, as a pull brings them.
    f.store.conn.execute(
        "UPDATE workshop_jobs SET goods_in_at = 'a', repaired_at = 'b', check_result = 'passed', goods_out_at = '2026-03-02T02:00:00Z', goods_out_by = 'office' WHERE id = ?1",
        [&job.id],
    ).unwrap();
    let err = f.store.workshop_return(&job.id, &ReturnSignature { signer_name: "王经理".into(), strokes: vec![vec![]] }).unwrap_err();
    assert!(err.to_string().contains("signature is empty"), "{err}");
    let back = f.store.workshop_return(&job.id, &sign).unwrap();
    assert_eq!(back.stage, Stage::Returned);
    assert_eq!(back.receipt_voided_at, back.returned_at, "the return voids the receipt");
    assert_eq!(f.store.workshop_jobs_of(REPAIR).unwrap(), vec![back.clone()]);
    let err = f.store.workshop_return(&job.id, &sign).unwrap_err();
    assert!(err.to_string().contains("already past"), "{err}");
}
