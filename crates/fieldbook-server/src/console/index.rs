//! The console's projections: typed, indexed copies of the records the console lists and
//! counts (`work_order_index`, `reference_index`, `work_item_index`, migration 0002; the service
//! desk's in [`super::desk_index`]). Records
//! stay JSON in `records`; [`project`] is called by the feed writer (`crate::feed`) for every
//! record it writes, in the same transaction, so a projection never disagrees with its record.
//! [`rebuild`] fills them from `records` once, when the migration adds them to a database that
//! already has data. Every change here is bracketed by [`rollup::Change`], which keeps the
//! per-day rollups of migrations 0004–0005 in step in the same transaction.
//!
//! A work order's `review_state` is derived here: the office's own `review_state` field when it
//! was set after the last status change (approving or returning stamps both together), otherwise
//! `pending` for a completed or signed order and nothing for an open one. So a returned job that
//! the technician completes again is back in the review queue without any extra write.

use std::collections::HashMap;

use fieldbook_core::checklist::ChecklistTemplate;
use serde_json::{Map, Value};

use super::rollup;
use crate::db::{self, Tx};
use crate::error::Result;
use crate::params;
use crate::records::{self, Stored};

/// Entities with a projection.
pub const PROJECTED: &[&str] =
    &["customers", "sites", "assets", "contracts", "work_orders", "repair_records", "time_entries", "satisfaction_cards", "inspection_answers"];

pub(super) fn text(f: &Map<String, Value>, k: &str) -> db::Value {
    match f.get(k) {
        Some(Value::String(s)) => db::Value::Text(s.clone()),
        Some(Value::Number(n)) => db::Value::Text(n.to_string()),
        _ => db::Value::Null,
    }
}

pub(super) fn int(f: &Map<String, Value>, k: &str) -> db::Value {
    match f.get(k) {
        Some(Value::Number(n)) => n.as_i64().map(db::Value::Int).unwrap_or(db::Value::Null),
        Some(Value::Bool(b)) => db::Value::Int(*b as i64),
        _ => db::Value::Null,
    }
}

pub(super) fn deleted(f: &Map<String, Value>) -> db::Value {
    db::Value::Int((f.get("deleted") == Some(&Value::Bool(true))) as i64)
}

/// The date (`YYYY-MM-DD`, its first 10 characters) of a timestamp field, or nothing when the
/// field does not start with a real date. The text comes from laptops: it may hold anything
/// (`2026-03-0中` must not panic on a byte index that is not a character boundary, nor reach a
/// report as a day).
fn day(f: &Map<String, Value>, k: &str) -> db::Value {
    match f.get(k).and_then(Value::as_str).and_then(date_prefix) {
        Some(d) => db::Value::Text(d.to_owned()),
        None => db::Value::Null,
    }
}

/// The leading `YYYY-MM-DD` of `s` when it is a real calendar date.
pub fn date_prefix(s: &str) -> Option<&str> {
    let d = s.get(..10)?;
    let shape = d.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    (shape && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()).then_some(d)
}

/// The console's review state of a work order (see the module docs).
pub fn review_state(fields: &Map<String, Value>, clocks: &Map<String, Value>) -> Option<&'static str> {
    let status = fields.get("status").and_then(Value::as_str).unwrap_or_default();
    let done = matches!(status, "completed" | "signed");
    let stamp = |k: &str| clocks.get(k).and_then(Value::as_str).unwrap_or_default();
    let decided = match fields.get("review_state").and_then(Value::as_str) {
        Some("approved") if stamp("review_state") >= stamp("status") => Some("approved"),
        Some("returned") if stamp("review_state") >= stamp("status") => Some("returned"),
        _ => None,
    };
    decided.or(if done { Some("pending") } else { None })
}

/// Columns of `work_order_index` in insert order (region and zone are filled from the site).
pub const WORK_ORDER_COLUMNS: &str = "id, number, kind, status, review_state, technician, customer_id, site_id, region, zone, priority, category, problem, \
     scheduled_on, reported_at, response_deadline, arrived_at, completed_at, follow_up_of, repeat_window_end, asset_ids, deleted";

/// One `work_order_index` row ([`WORK_ORDER_COLUMNS`]) for an order, given its site's region
/// and zone. Public for the bench, which loads projections in bulk.
pub fn work_order_row(id: &str, f: &Map<String, Value>, clocks: &Map<String, Value>, region: Option<&str>, zone: Option<&str>) -> Vec<db::Value> {
    vec![
        id.into(),
        f.get("number").and_then(Value::as_str).unwrap_or(id).into(),
        text(f, "kind"),
        text(f, "status"),
        review_state(f, clocks).into(),
        text(f, "technician"),
        text(f, "customer_id"),
        text(f, "site_id"),
        region.into(),
        zone.into(),
        text(f, "priority"),
        text(f, "category"),
        text(f, "problem"),
        text(f, "scheduled_on"),
        f.get("reported_at").and_then(Value::as_str).unwrap_or("").into(),
        text(f, "response_deadline"),
        text(f, "arrived_at"),
        text(f, "completed_at"),
        text(f, "follow_up_of"),
        f.get("reported_at")
            .and_then(Value::as_str)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| crate::store_ts(t.to_utc() + chrono::Duration::days(30)))
            .into(),
        f.get("asset_ids").filter(|v| v.is_array()).map(|v| v.to_string()).unwrap_or_else(|| "[]".into()).into(),
        deleted(f),
    ]
}

/// One `reference_index` row: entity, id, parent_id, code, name, region, zone, ends_on, phone
/// (a customer's, as [`super::calls::phone_key`] compares them), deleted.
pub fn reference_row(entity: &str, id: &str, f: &Map<String, Value>) -> Vec<db::Value> {
    let parent = match entity {
        "sites" | "contracts" => text(f, "customer_id"),
        "assets" => text(f, "site_id"),
        _ => db::Value::Null,
    };
    let code = if entity == "contracts" { text(f, "number") } else { text(f, "code") };
    let phone = match entity {
        "customers" => f.get("phone").and_then(Value::as_str).and_then(super::calls::phone_key).into(),
        _ => db::Value::Null,
    };
    vec![entity.into(), id.into(), parent, code, text(f, "name"), text(f, "region"), text(f, "zone"), text(f, "ends_on"), phone, deleted(f)]
}

/// One `work_item_index` row, or `None` when the record is not counted (an answer that is not a
/// finding). `finding` says whether an inspection answer is a finding.
pub fn work_item_row(entity: &str, id: &str, f: &Map<String, Value>, finding: bool) -> Option<Vec<db::Value>> {
    let n = db::Value::Null;
    let parts_count = f.get("parts").and_then(Value::as_array).map(|a| a.len() as i64);
    let row = match entity {
        "repair_records" => vec![
            text(f, "work_order_id"), text(f, "asset_id"), n.clone(), day(f, "recorded_at"), text(f, "category"), int(f, "labour_minutes"),
            int(f, "fee_cents"), parts_count.into(), n.clone(), 0i64.into(), n.clone(), n.clone(), n.clone(), n,
        ],
        "time_entries" => vec![
            text(f, "work_order_id"), n.clone(), text(f, "technician"), text(f, "work_date"), text(f, "category"), int(f, "minutes"),
            n.clone(), n.clone(), n.clone(), 0i64.into(), n.clone(), n.clone(), n.clone(), n,
        ],
        "satisfaction_cards" => vec![
            text(f, "work_order_id"), n.clone(), n.clone(), day(f, "rated_at"), n.clone(), n.clone(), n.clone(), n.clone(), n.clone(), 0i64.into(),
            int(f, "attitude"), int(f, "skill"), int(f, "arrival"), int(f, "promise"),
        ],
        "inspection_answers" if finding => vec![
            text(f, "work_order_id"), text(f, "asset_id"), n.clone(), day(f, "answered_at"), n.clone(), n.clone(), n.clone(), n.clone(),
            text(f, "item_key"), 1i64.into(), n.clone(), n.clone(), n.clone(), n,
        ],
        _ => return None,
    };
    let mut out = vec![entity.into(), id.into()];
    out.extend(row);
    out.push(deleted(f));
    Some(out)
}

const WORK_ITEM_HEAD: &str = "INSERT INTO work_item_index (entity, id, work_order_id, asset_id, technician, work_date, category, minutes, fee_cents, parts_count, \
     item_key, finding, attitude, skill, arrival, promise, deleted)";
const WORK_ITEM_TAIL: &str = "ON CONFLICT (entity, id) DO UPDATE SET work_order_id = excluded.work_order_id, asset_id = excluded.asset_id, \
     technician = excluded.technician, work_date = excluded.work_date, category = excluded.category, minutes = excluded.minutes, \
     fee_cents = excluded.fee_cents, parts_count = excluded.parts_count, item_key = excluded.item_key, finding = excluded.finding, \
     attitude = excluded.attitude, skill = excluded.skill, arrival = excluded.arrival, promise = excluded.promise, deleted = excluded.deleted";
const REFERENCE_HEAD: &str = "INSERT INTO reference_index (entity, id, parent_id, code, name, region, zone, ends_on, phone, deleted)";
const REFERENCE_TAIL: &str = "ON CONFLICT (entity, id) DO UPDATE SET parent_id = excluded.parent_id, code = excluded.code, name = excluded.name, \
     region = excluded.region, zone = excluded.zone, ends_on = excluded.ends_on, phone = excluded.phone, deleted = excluded.deleted";
const WORK_ORDER_HEAD: &str = "INSERT INTO work_order_index (id, number, kind, status, review_state, technician, customer_id, site_id, region, zone, \
     priority, category, problem, scheduled_on, reported_at, response_deadline, arrived_at, completed_at, follow_up_of, repeat_window_end, asset_ids, deleted)";
const WORK_ORDER_TAIL: &str = "ON CONFLICT (id) DO UPDATE SET number = excluded.number, kind = excluded.kind, status = excluded.status, \
     review_state = excluded.review_state, technician = excluded.technician, customer_id = excluded.customer_id, site_id = excluded.site_id, \
     region = excluded.region, zone = excluded.zone, priority = excluded.priority, category = excluded.category, problem = excluded.problem, \
     scheduled_on = excluded.scheduled_on, reported_at = excluded.reported_at, response_deadline = excluded.response_deadline, \
     arrived_at = excluded.arrived_at, completed_at = excluded.completed_at, follow_up_of = excluded.follow_up_of, repeat_window_end = excluded.repeat_window_end, asset_ids = excluded.asset_ids, \
     deleted = excluded.deleted";

/// Writes rows many per statement.
pub(super) fn upsert(tx: &mut dyn Tx, head: &'static str, tail: &'static str, cols: usize, rows: Vec<Vec<db::Value>>) -> Result<()> {
    let mut rows = rows.into_iter();
    for n in db::row_chunks(rows.len()) {
        let params: Vec<db::Value> = rows.by_ref().take(n).flatten().collect();
        tx.execute(db::multi_row(head, cols, n, tail), &params)?;
    }
    Ok(())
}

/// Brings the projections of these just-written records up to date. Records are
/// `(entity, id, state)`; entities without a projection are ignored.
pub fn project(tx: &mut dyn Tx, written: &[(&str, &str, &Stored)]) -> Result<()> {
    let of = |e: &'static str| written.iter().filter(move |(entity, ..)| *entity == e);
    // Reference data first: orders take their region and zone from the site.
    let mut refs = Vec::new();
    for (entity, id, s) in written.iter().filter(|(e, ..)| matches!(*e, "customers" | "sites" | "assets" | "contracts")) {
        refs.push(reference_row(entity, id, s.fields()?));
    }
    upsert(tx, REFERENCE_HEAD, REFERENCE_TAIL, 10, refs)?;
    for (_, id, s) in of("sites") {
        let f = s.fields()?;
        let change = rollup::Change::Site(id);
        change.before(tx)?;
        tx.execute("UPDATE work_order_index SET region = $1, zone = $2 WHERE site_id = $3", &[text(f, "region"), text(f, "zone"), (*id).into()])?;
        change.after(tx)?;
    }
    let mut sites: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    let mut orders = Vec::new();
    for (_, id, s) in of("work_orders") {
        let f = s.fields()?;
        let site = f.get("site_id").and_then(Value::as_str).unwrap_or_default();
        if !sites.contains_key(site) {
            let found = tx.query_opt("SELECT region, zone FROM reference_index WHERE entity = 'sites' AND id = $1", params![site])?;
            let rz = match found {
                Some(r) => (r.opt_text(0)?, r.opt_text(1)?),
                None => (None, None),
            };
            sites.insert(site.to_owned(), rz);
        }
        let (region, zone) = &sites[site];
        orders.push(work_order_row(id, f, s.clocks()?, region.as_deref(), zone.as_deref()));
    }
    // The rollups move with every change below (see rollup.rs), and the first-time-fix flags of
    // the orders a change can affect are recomputed at the end.
    let order_ids: Vec<&str> = of("work_orders").map(|(_, id, _)| *id).collect();
    let mut affected: std::collections::BTreeSet<String> = order_ids.iter().map(|s| s.to_string()).collect();
    affected.extend(rollup::followed_up(tx, &order_ids)?);
    let change = rollup::Change::Orders(&order_ids);
    change.before(tx)?;
    upsert(tx, WORK_ORDER_HEAD, WORK_ORDER_TAIL, 22, orders)?;
    change.after(tx)?;
    affected.extend(rollup::followed_up(tx, &order_ids)?);

    let mut items = Vec::new();
    let mut not_findings = Vec::new();
    let mut templates = Templates::default();
    for (entity, id, s) in written.iter().filter(|(e, ..)| matches!(*e, "repair_records" | "time_entries" | "satisfaction_cards" | "inspection_answers")) {
        let f = s.fields()?;
        let finding = *entity == "inspection_answers" && templates.is_finding(tx, f)?;
        match work_item_row(entity, id, f, finding) {
            Some(row) => items.push(row),
            None => not_findings.push(*id),
        }
    }
    let ids_of = |e: &str| written.iter().filter(|(entity, ..)| *entity == e).map(|(_, id, _)| *id).collect::<Vec<&str>>();
    let (repairs, times, cards) = (ids_of("repair_records"), ids_of("time_entries"), ids_of("satisfaction_cards"));
    affected.extend(rollup::orders_near_repairs(tx, &repairs)?);
    let mut repairs_and_answers = repairs.clone();
    repairs_and_answers.extend(ids_of("inspection_answers"));
    let changes = [rollup::Change::TimeEntries(&times), rollup::Change::Cards(&cards), rollup::Change::RepairsAndAnswers(&repairs_and_answers)];
    for c in &changes {
        c.before(tx)?;
    }
    // A signed-off day an entry leaves or joins is flagged as changed after sign-off.
    super::day_reviews::flag_changed(tx, &times)?;
    upsert(tx, WORK_ITEM_HEAD, WORK_ITEM_TAIL, 17, items)?;
    super::day_reviews::flag_changed(tx, &times)?;
    // Answers that are not findings (or no longer are, once corrected) have no row: removed
    // many per statement, since a push may carry a thousand answers.
    let max = *db::LIST_SIZES.last().expect("sizes");
    for chunk in not_findings.chunks(max) {
        let size = db::LIST_SIZES.iter().copied().find(|&n| n >= chunk.len()).unwrap_or(max);
        let sql = db::values_list("DELETE FROM work_item_index WHERE entity = 'inspection_answers' AND id IN (SELECT column1 FROM", 1, size, "AS v)");
        // Padding: no record has an empty id.
        let params: Vec<db::Value> = (0..size).map(|i| db::Value::from(chunk.get(i).copied().unwrap_or(""))).collect();
        tx.execute(sql, &params)?;
    }
    for c in &changes {
        c.after(tx)?;
    }
    affected.extend(rollup::orders_near_repairs(tx, &repairs)?);
    let affected: Vec<&str> = affected.iter().map(String::as_str).collect();
    rollup::refresh_not_fixed(tx, &affected)?;
    super::workshop::project(tx, written)?;
    super::desk_index::project(tx, written)?;
    super::parts::project(tx, written)?;
    super::day_reviews::project(tx, written)
}

/// Checklist templates by work order, read once per batch.
#[derive(Default)]
pub struct Templates {
    order_template: HashMap<String, Option<String>>,
    parsed: HashMap<String, Option<ChecklistTemplate>>,
}

impl Templates {
    /// Whether an inspection answer is a finding by its order's template.
    pub fn is_finding(&mut self, tx: &mut dyn Tx, answer: &Map<String, Value>) -> Result<bool> {
        let (Some(order), Some(key), Some(value)) =
            (answer.get("work_order_id").and_then(Value::as_str), answer.get("item_key").and_then(Value::as_str), answer.get("value"))
        else {
            return Ok(false);
        };
        if !self.order_template.contains_key(order) {
            let t = records::load(tx, "work_orders", order)?.and_then(|s| records::text(&s, "template_id").map(str::to_owned));
            self.order_template.insert(order.to_owned(), t);
        }
        let Some(template_id) = self.order_template[order].clone() else { return Ok(false) };
        if !self.parsed.contains_key(&template_id) {
            let t = records::load(tx, "checklist_templates", &template_id)?
                .and_then(|s| s.fields.get("body").cloned())
                .and_then(|b| serde_json::from_value::<ChecklistTemplate>(b).ok());
            self.parsed.insert(template_id.clone(), t);
        }
        Ok(self.parsed[&template_id].as_ref().is_some_and(|t| t.finding_of(key, value).is_some()))
    }
}

/// Fills the projections from `records` (after the migration that adds them).
pub fn rebuild(tx: &mut dyn Tx) -> Result<()> {
    for entity in PROJECTED.iter().chain(super::desk_index::PROJECTED).chain(super::parts::PROJECTED).chain(super::day_reviews::PROJECTED).chain(super::workshop::PROJECTED) {
        let all = records::all(tx, entity)?;
        let stored: Vec<(String, Stored)> =
            all.into_iter().map(|(id, s)| (id, Stored::from_state(s))).collect();
        for chunk in stored.chunks(1000) {
            let refs: Vec<(&str, &str, &Stored)> = chunk.iter().map(|(id, s)| (*entity, id.as_str(), s)).collect();
            project(tx, &refs)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_day_is_taken_only_from_a_real_leading_date() {
        let f = map(json!({
            "ok": "2026-03-05T08:00:00.000Z", "date_only": "2026-03-05", "cjk": "2026-03-0中", "cjk_later": "2026-03-05中",
            "short": "2026-03", "not_a_date": "2026-02-30T00:00:00Z", "shape": "20260305T08:00", "number": 20260305,
        }));
        assert_eq!(day(&f, "ok"), db::Value::Text("2026-03-05".into()));
        assert_eq!(day(&f, "date_only"), db::Value::Text("2026-03-05".into()));
        assert_eq!(day(&f, "cjk_later"), db::Value::Text("2026-03-05".into()));
        for k in ["cjk", "short", "not_a_date", "shape", "number", "missing"] {
            assert_eq!(day(&f, k), db::Value::Null, "{k}");
        }
    }

    #[test]
    fn review_state_follows_the_latest_of_status_and_review() {
        let f = map(json!({"status": "completed"}));
        assert_eq!(review_state(&f, &map(json!({"status": "1-0-a"}))), Some("pending"));
        let f = map(json!({"status": "on_site", "review_state": "returned"}));
        assert_eq!(review_state(&f, &map(json!({"status": "2-0-server", "review_state": "2-0-server"}))), Some("returned"));
        // Completed again after the return: back in the queue.
        let f = map(json!({"status": "completed", "review_state": "returned"}));
        assert_eq!(review_state(&f, &map(json!({"status": "3-0-dev", "review_state": "2-0-server"}))), Some("pending"));
        let f = map(json!({"status": "signed", "review_state": "approved"}));
        assert_eq!(review_state(&f, &map(json!({"status": "3-0-dev", "review_state": "4-0-server"}))), Some("approved"));
        let f = map(json!({"status": "dispatched"}));
        assert_eq!(review_state(&f, &Map::new()), None);
    }
}
