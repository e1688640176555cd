//! The service desk's projections (console/desk_index.rs) on both backends: kept in the write's
//! transaction, and a return visit follows its order when the office reassigns or recategorises
//! it.

mod common;

use common::{both, id, Backend, TestServer};
use fieldbook_server::db::Mode;
use serde_json::json;

both!(a_return_visit_follows_its_order, desk_records_are_projected_as_written);

async fn a_return_visit_follows_its_order(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let order = id("work_orders", "WO-1002");
    s.office_write("return_visits", "rv-1", json!({"work_order_id": order, "due_on": "2026-03-05", "status": "open", "deleted": false})).await;
    assert_eq!(visit(&s, &order).await, ("li.wei".to_owned(), 0, "open".to_owned()));
    // Reassigned and recategorised as warranty work: the visit moves with it.
    s.office_write("work_orders", &order, json!({"technician": "zhang.min", "category": "C"})).await;
    assert_eq!(visit(&s, &order).await, ("zhang.min".to_owned(), 1, "open".to_owned()));
    // The visit done.
    s.office_write("return_visits", "rv-1", json!({"status": "done", "solved": true, "visited_at": "2026-03-05T02:00:00.000Z"})).await;
    assert_eq!(visit(&s, &order).await, ("zhang.min".to_owned(), 1, "done".to_owned()));
}

/// (technician, in warranty, status) of the order's return visit, as projected.
async fn visit(s: &TestServer, order: &str) -> (String, i64, String) {
    let order = order.to_owned();
    s.run_db(move |db| {
        db.transaction(Mode::Read, |tx| {
            let r = tx.query_one("SELECT technician, in_warranty, status FROM return_visit_index WHERE work_order_id = $1", fieldbook_server::params![order.as_str()])?;
            Ok((r.text(0)?, r.int(1)?, r.text(2)?))
        })
    })
    .await
    .unwrap()
}

async fn desk_records_are_projected_as_written(b: Backend) {
    let s = TestServer::with_demo(b).await;
    s.office_write(
        "complaints",
        "cp-1",
        json!({"number": "2612-001", "source": "direct", "technicians": ["li.wei", "zhang.min"], "status": "open", "registered_at": "2026-12-01T02:00:00.000Z",
               "severity": "serious", "foreign_customer": true, "deleted": false}),
    )
    .await;
    assert_eq!(s.count("SELECT COUNT(*) FROM complaint_technicians WHERE complaint_id = 'cp-1' AND deleted = 0").await, 2);
    assert_eq!(s.count("SELECT COUNT(*) FROM complaint_index WHERE id = 'cp-1' AND foreign_customer = 1 AND severity = 'serious'").await, 1);
    // The complaint no longer names zhang.min.
    s.office_write("complaints", "cp-1", json!({"technicians": ["li.wei"]})).await;
    assert_eq!(s.count("SELECT COUNT(*) FROM complaint_technicians WHERE complaint_id = 'cp-1'").await, 1);
    s.office_write("calls", "call-1", json!({"number": "C-20261201-0001", "call_type": "inquiry", "reported_at": "2026-12-01T02:00:00.000Z", "deleted": false})).await;
    assert_eq!(s.count("SELECT COUNT(*) FROM call_index WHERE call_type = 'inquiry'").await, 1);
    s.office_write("close_exceptions", "ce-1", json!({"work_order_id": id("work_orders", "WO-1002"), "revision": 1, "kind": "refused_to_sign", "recorded_at": "2026-12-01T02:00:00.000Z", "deleted": false})).await;
    assert_eq!(s.count("SELECT COUNT(*) FROM close_exception_index WHERE kind = 'refused_to_sign' AND revision = 1").await, 1);
}
