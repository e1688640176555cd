//! The service desk's projections (migration 0010): `call_index`, `return_visit_index`,
//! `complaint_index` with `complaint_technicians`, `escalation_index` and
//! `close_exception_index` — typed, indexed copies of the desk's records and of the escalations
//! laptops push, for the console's lists and the scorecard. Kept by [`super::index::project`] in
//! the transaction that writes the records, after `work_order_index`, from which a return visit
//! takes its order's technician, customer, warranty (category C) and completion time; a change of
//! the order moves those along.

use serde_json::{Map, Value};

use super::index::{deleted, int, text, upsert};
use crate::db::{self, Tx};
use crate::error::Result;
use crate::records::Stored;

/// The desk's entities with a projection (and `escalations`, pushed by laptops).
pub const PROJECTED: &[&str] = &["calls", "return_visits", "complaints", "escalations", "close_exceptions"];

const CALL_HEAD: &str = "INSERT INTO call_index (id, number, channel, call_type, caller_name, caller_phone, customer_id, site_id, priority, problem, \
     reported_at, taken_by, work_order_id, complaint_id, return_visit_id, follows_order_id, closed_at, deleted)";
const CALL_TAIL: &str = "ON CONFLICT (id) DO UPDATE SET number = excluded.number, channel = excluded.channel, call_type = excluded.call_type, \
     caller_name = excluded.caller_name, caller_phone = excluded.caller_phone, customer_id = excluded.customer_id, site_id = excluded.site_id, \
     priority = excluded.priority, problem = excluded.problem, reported_at = excluded.reported_at, taken_by = excluded.taken_by, \
     work_order_id = excluded.work_order_id, complaint_id = excluded.complaint_id, return_visit_id = excluded.return_visit_id, \
     follows_order_id = excluded.follows_order_id, closed_at = excluded.closed_at, deleted = excluded.deleted";
const VISIT_HEAD: &str = "INSERT INTO return_visit_index (id, work_order_id, technician, customer_id, in_warranty, completed_at, due_on, status, visited_at, \
     solved, new_call_id, deleted)";
const VISIT_TAIL: &str = "ON CONFLICT (id) DO UPDATE SET work_order_id = excluded.work_order_id, technician = excluded.technician, \
     customer_id = excluded.customer_id, in_warranty = excluded.in_warranty, completed_at = excluded.completed_at, due_on = excluded.due_on, \
     status = excluded.status, visited_at = excluded.visited_at, solved = excluded.solved, new_call_id = excluded.new_call_id, deleted = excluded.deleted";
const COMPLAINT_HEAD: &str = "INSERT INTO complaint_index (id, number, source, customer_id, category, severity, foreign_customer, responsible, status, \
     registered_at, first_report_due, first_reported_at, close_due, closed_at, deleted)";
const COMPLAINT_TAIL: &str = "ON CONFLICT (id) DO UPDATE SET number = excluded.number, source = excluded.source, customer_id = excluded.customer_id, \
     category = excluded.category, severity = excluded.severity, foreign_customer = excluded.foreign_customer, responsible = excluded.responsible, \
     status = excluded.status, registered_at = excluded.registered_at, first_report_due = excluded.first_report_due, \
     first_reported_at = excluded.first_reported_at, close_due = excluded.close_due, closed_at = excluded.closed_at, deleted = excluded.deleted";
const ESCALATION_HEAD: &str =
    "INSERT INTO escalation_index (id, work_order_id, repair_record_id, technician, escalate_to, status, raised_at, answered_at, deleted)";
const ESCALATION_TAIL: &str = "ON CONFLICT (id) DO UPDATE SET work_order_id = excluded.work_order_id, repair_record_id = excluded.repair_record_id, \
     technician = excluded.technician, escalate_to = excluded.escalate_to, status = excluded.status, raised_at = excluded.raised_at, \
     answered_at = excluded.answered_at, deleted = excluded.deleted";
const EXCEPTION_HEAD: &str = "INSERT INTO close_exception_index (id, work_order_id, revision, kind, recorded_by, recorded_at, deleted)";
const EXCEPTION_TAIL: &str = "ON CONFLICT (id) DO UPDATE SET work_order_id = excluded.work_order_id, revision = excluded.revision, kind = excluded.kind, \
     recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at, deleted = excluded.deleted";

/// A text field, or the given word when it is missing (for NOT NULL columns).
fn text_or(f: &Map<String, Value>, k: &str, or: &str) -> db::Value {
    match text(f, k) {
        db::Value::Null => db::Value::Text(or.to_owned()),
        v => v,
    }
}

fn flag(f: &Map<String, Value>, k: &str) -> db::Value {
    db::Value::Int((f.get(k) == Some(&Value::Bool(true))) as i64)
}

/// A yes/no answer that may not be given yet: 1, 0 or NULL.
fn answer(f: &Map<String, Value>, k: &str) -> db::Value {
    match f.get(k) {
        Some(Value::Bool(b)) => db::Value::Int(*b as i64),
        _ => db::Value::Null,
    }
}

/// The order fields a return visit carries: technician, customer, in warranty, completed at.
fn order_fields(tx: &mut dyn Tx, order_id: &str) -> Result<[db::Value; 4]> {
    Ok(match tx.query_opt("SELECT technician, customer_id, category, completed_at FROM work_order_index WHERE id = $1", &[order_id.into()])? {
        Some(r) => [
            r.opt_text(0)?.map_or(db::Value::Null, db::Value::Text),
            r.opt_text(1)?.map_or(db::Value::Null, db::Value::Text),
            db::Value::Int((r.opt_text(2)?.as_deref() == Some("C")) as i64),
            r.opt_text(3)?.map_or(db::Value::Null, db::Value::Text),
        ],
        None => [db::Value::Null, db::Value::Null, db::Value::Int(0), db::Value::Null],
    })
}

/// Brings the desk's projections of these just-written records up to date; called by
/// `index::project` after `work_order_index`.
pub fn project(tx: &mut dyn Tx, written: &[(&str, &str, &Stored)]) -> Result<()> {
    let (mut calls, mut visits, mut complaints, mut escalations, mut exceptions) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut named: Vec<(String, Vec<String>, db::Value, db::Value)> = Vec::new();
    let mut orders: Vec<&str> = Vec::new();
    for &(entity, rid, s) in written {
        let id = db::Value::from(rid);
        match entity {
            "calls" => {
                let f = s.fields()?;
                calls.push(vec![
                    id, text_or(f, "number", ""), text(f, "channel"), text(f, "call_type"), text(f, "caller_name"), text(f, "caller_phone"),
                    text(f, "customer_id"), text(f, "site_id"), text(f, "priority"), text(f, "problem"), text_or(f, "reported_at", ""),
                    text(f, "taken_by"), text(f, "work_order_id"), text(f, "complaint_id"), text(f, "return_visit_id"), text(f, "follows_order_id"),
                    text(f, "closed_at"), deleted(f),
                ]);
            }
            "return_visits" => {
                let f = s.fields()?;
                let order = f.get("work_order_id").and_then(Value::as_str).unwrap_or_default();
                let [technician, customer, in_warranty, completed_at] = order_fields(tx, order)?;
                visits.push(vec![
                    id, db::Value::from(order), technician, customer, in_warranty, completed_at, text_or(f, "due_on", ""), text_or(f, "status", "open"),
                    text(f, "visited_at"), answer(f, "solved"), text(f, "new_call_id"), deleted(f),
                ]);
            }
            "complaints" => {
                let f = s.fields()?;
                let techs = f.get("technicians").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default();
                named.push((rid.to_owned(), techs, text_or(f, "registered_at", ""), deleted(f)));
                complaints.push(vec![
                    id, text_or(f, "number", ""), text(f, "source"), text(f, "customer_id"), text(f, "category"), text(f, "severity"),
                    flag(f, "foreign_customer"), text(f, "responsible"), text_or(f, "status", "open"), text_or(f, "registered_at", ""),
                    text(f, "first_report_due"), text(f, "first_reported_at"), text(f, "close_due"), text(f, "closed_at"), deleted(f),
                ]);
            }
            "escalations" => {
                let f = s.fields()?;
                escalations.push(vec![
                    id, text_or(f, "work_order_id", ""), text(f, "repair_record_id"), text(f, "raised_by"), text(f, "escalate_to"),
                    text_or(f, "status", "open"), text_or(f, "raised_at", ""), text(f, "answered_at"), deleted(f),
                ]);
            }
            "close_exceptions" => {
                let f = s.fields()?;
                exceptions.push(vec![
                    id, text_or(f, "work_order_id", ""), int(f, "revision"), text_or(f, "kind", ""), text(f, "recorded_by"), text_or(f, "recorded_at", ""),
                    deleted(f),
                ]);
            }
            "work_orders" => orders.push(rid),
            _ => {}
        }
    }
    // The orders' visits follow them (reassigned, recategorised, completed again): one statement
    // per chunk of orders, through the index on work_order_id, which finds nothing for most.
    let max = *db::LIST_SIZES.last().expect("sizes");
    for chunk in orders.chunks(max) {
        let size = db::LIST_SIZES.iter().copied().find(|&n| n >= chunk.len()).unwrap_or(max);
        let sql = db::values_list(
            "UPDATE return_visit_index SET \
             technician = (SELECT w.technician FROM work_order_index w WHERE w.id = return_visit_index.work_order_id), \
             customer_id = (SELECT w.customer_id FROM work_order_index w WHERE w.id = return_visit_index.work_order_id), \
             in_warranty = COALESCE((SELECT CASE WHEN w.category = 'C' THEN 1 ELSE 0 END FROM work_order_index w WHERE w.id = return_visit_index.work_order_id), 0), \
             completed_at = (SELECT w.completed_at FROM work_order_index w WHERE w.id = return_visit_index.work_order_id) \
             WHERE work_order_id IN (SELECT column1 FROM",
            1,
            size,
            "AS v)",
        );
        // Padding: no record has an empty id.
        let params: Vec<db::Value> = (0..size).map(|i| db::Value::from(chunk.get(i).copied().unwrap_or(""))).collect();
        tx.execute(sql, &params)?;
    }
    upsert(tx, CALL_HEAD, CALL_TAIL, 18, calls)?;
    upsert(tx, VISIT_HEAD, VISIT_TAIL, 12, visits)?;
    upsert(tx, COMPLAINT_HEAD, COMPLAINT_TAIL, 15, complaints)?;
    upsert(tx, ESCALATION_HEAD, ESCALATION_TAIL, 9, escalations)?;
    upsert(tx, EXCEPTION_HEAD, EXCEPTION_TAIL, 7, exceptions)?;
    for (complaint, techs, registered_at, gone) in named {
        tx.execute("DELETE FROM complaint_technicians WHERE complaint_id = $1", &[complaint.as_str().into()])?;
        for t in techs {
            tx.execute(
                "INSERT INTO complaint_technicians (complaint_id, technician, registered_at, deleted) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[complaint.as_str().into(), t.into(), registered_at.clone(), gone.clone()],
            )?;
        }
    }
    Ok(())
}
