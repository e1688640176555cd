//! Work orders and everything recorded on them: listing a day, the full record of one order,
//! checklist answers, the status lifecycle, repair records, time entries, satisfaction cards,
//! follow-up repairs raised from findings, and the daily report.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{parse_ts, ts, Store, Tx};
use crate::checklist::{ChecklistTemplate, Finding, ItemKind, Slot};
use crate::error::{Error, FieldProblem, Result};
use crate::model::*;

/// Filters for listing work orders.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<Status>,
    pub day: Option<NaiveDate>,
}

/// One answer as a technician gives it: the item, the asset (code or id) for per-asset items,
/// and the raw value, checked against the item's kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    pub item: String,
    #[serde(default)]
    pub asset: Option<String>,
    pub value: Value,
    #[serde(default)]
    pub note: Option<String>,
}

/// A past visit to an asset: what was found or repaired there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetHistoryEntry {
    pub asset_id: String,
    pub work_order_number: String,
    pub kind: WorkOrderKind,
    pub date: NaiveDate,
    pub summary: String,
}

/// Everything recorded on one work order.
#[derive(Debug, Clone, Serialize)]
pub struct WorkOrderDetail {
    pub order: WorkOrder,
    pub customer: Customer,
    pub site: Site,
    pub assets: Vec<Asset>,
    pub template: Option<ChecklistTemplate>,
    pub answers: Vec<Answer>,
    pub findings: Vec<Finding>,
    /// Required items still unanswered.
    pub missing: Vec<FieldProblem>,
    pub repairs: Vec<RepairRecord>,
    pub satisfaction: Option<SatisfactionCard>,
    /// Every signature, oldest revision first.
    pub signatures: Vec<Signature>,
    pub time_entries: Vec<TimeEntry>,
    pub follow_ups: Vec<String>,
    pub history: Vec<AssetHistoryEntry>,
    /// The technician's requests for help on this order's repairs, oldest first, each with the
    /// office's answer as last pulled.
    pub escalations: Vec<Escalation>,
    /// Corrections of the customer's, site's or assets' records proposed from this order, oldest
    /// first, each with the office's decision as last pulled.
    pub corrections: Vec<super::Correction>,
}

const SUMMARY_SELECT: &str = "SELECT w.id, w.number, w.kind, w.status, w.priority, w.category, w.technician,
        c.name, s.name, s.address, s.zone, w.scheduled_on, w.reported_at, w.response_deadline, w.arrived_at, w.problem
    FROM work_orders w JOIN customers c ON c.id = w.customer_id JOIN sites s ON s.id = w.site_id";

fn summary_row(r: &Row<'_>) -> rusqlite::Result<WorkOrderSummary> {
    Ok(WorkOrderSummary {
        id: r.get(0)?,
        number: r.get(1)?,
        kind: r.get(2)?,
        status: r.get(3)?,
        priority: r.get(4)?,
        category: r.get(5)?,
        technician: r.get(6)?,
        customer_name: r.get(7)?,
        site_name: r.get(8)?,
        address: r.get(9)?,
        zone: r.get(10)?,
        scheduled_on: r.get(11)?,
        reported_at: parse_ts(&r.get::<_, String>(12)?)?,
        response_deadline: parse_ts(&r.get::<_, String>(13)?)?,
        arrived_at: r.get::<_, Option<String>>(14)?.map(|s| parse_ts(&s)).transpose()?,
        problem: r.get(15)?,
    })
}

fn json_col<T: serde::de::DeserializeOwned>(r: &Row<'_>, i: usize) -> rusqlite::Result<T> {
    let s: String = r.get(i)?;
    serde_json::from_str(&s).map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

fn opt_ts(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    r.get::<_, Option<String>>(i)?.map(|s| parse_ts(&s)).transpose()
}

const ORDER_SELECT: &str = "SELECT id, number, kind, customer_id, site_id, asset_ids, technician, priority, category, status,
    template_id, problem, scheduled_on, reported_at, response_deadline, en_route_at, arrived_at, completed_at, revision, follow_up_of,
    review_state, review_note, plan_id, phase
    FROM work_orders";

fn order_row(r: &Row<'_>) -> rusqlite::Result<WorkOrder> {
    Ok(WorkOrder {
        id: r.get(0)?,
        number: r.get(1)?,
        kind: r.get(2)?,
        customer_id: r.get(3)?,
        site_id: r.get(4)?,
        asset_ids: json_col(r, 5)?,
        technician: r.get(6)?,
        priority: r.get(7)?,
        category: r.get(8)?,
        status: r.get(9)?,
        template_id: r.get(10)?,
        problem: r.get(11)?,
        scheduled_on: r.get(12)?,
        reported_at: parse_ts(&r.get::<_, String>(13)?)?,
        response_deadline: parse_ts(&r.get::<_, String>(14)?)?,
        en_route_at: opt_ts(r, 15)?,
        arrived_at: opt_ts(r, 16)?,
        completed_at: opt_ts(r, 17)?,
        revision: r.get(18)?,
        follow_up_of: r.get(19)?,
        review_state: r.get(20)?,
        review_note: r.get(21)?,
        plan_id: r.get(22)?,
        phase: r.get(23)?,
    })
}

fn repair_row(r: &Row<'_>) -> rusqlite::Result<RepairRecord> {
    Ok(RepairRecord {
        id: r.get(0)?,
        work_order_id: r.get(1)?,
        asset_id: r.get(2)?,
        fault: r.get(3)?,
        cause: r.get(4)?,
        action: r.get(5)?,
        parts: json_col(r, 6)?,
        labour_minutes: r.get(7)?,
        category: r.get(8)?,
        fee_cents: r.get(9)?,
        fee_collected: r.get(10)?,
        taken_to_workshop: r.get(11)?,
        receipt_number: r.get(12)?,
        recorded_at: parse_ts(&r.get::<_, String>(13)?)?,
    })
}

pub(crate) const REPAIR_SELECT: &str = "SELECT id, work_order_id, asset_id, fault, cause, action, parts, labour_minutes, category,
    fee_cents, fee_collected, taken_to_workshop, receipt_number, recorded_at FROM repair_records";

/// The id of the answer to `slot` of an order: the same on every replica.
pub(crate) fn answer_id(order_id: &str, slot: &Slot) -> String {
    crate::policy::answer_id(order_id, &slot.item_key, &slot.asset_id)
}

/// The key a finding is known by when a follow-up repair is raised from it.
pub fn finding_key(order_id: &str, f: &Finding) -> String {
    if f.asset_id.is_empty() { format!("{order_id}/{}", f.item_key) } else { format!("{order_id}/{}/{}", f.item_key, f.asset_id) }
}

impl Store {
    /// Work orders matching `filter`, most urgent response deadline first.
    pub fn orders(&self, filter: &OrderFilter) -> Result<Vec<WorkOrderSummary>> {
        // Only the filters given appear in the SQL: `(?1 IS NULL OR col = ?1)` would keep SQLite
        // from using the (scheduled_on, response_deadline) index.
        let mut sql = format!("{SUMMARY_SELECT} WHERE w.deleted = 0");
        let mut args: Vec<String> = Vec::new();
        if let Some(day) = filter.day {
            args.push(day.to_string());
            sql.push_str(&format!(" AND w.scheduled_on = ?{}", args.len()));
        }
        if let Some(status) = filter.status {
            args.push(status.to_string());
            sql.push_str(&format!(" AND w.status = ?{}", args.len()));
        }
        sql.push_str(" ORDER BY w.response_deadline, w.number");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(&args), summary_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The day's work orders, sorted by response deadline.
    pub fn orders_for_day(&self, day: NaiveDate) -> Result<Vec<WorkOrderSummary>> {
        self.orders(&OrderFilter { day: Some(day), status: None })
    }

    /// Finds a work order by its number (`WO-2026-0001`) or id.
    pub fn find_order(&self, key: &str) -> Result<WorkOrder> {
        let sql = format!("{ORDER_SELECT} WHERE (number = ?1 OR id = ?1) AND deleted = 0");
        self.conn
            .prepare_cached(&sql)?
            .query_row([key], order_row)
            .optional()?
            .ok_or_else(|| Error::NotFound { entity: "work order", key: key.to_owned(), hint: "; list work orders with `fieldbook orders`" })
    }

    pub(crate) fn order_assets(&self, order: &WorkOrder) -> Result<Vec<Asset>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, code, site_id, asset_type, name, model, serial, location, installed_on, warranty_ends
             FROM assets WHERE id IN (SELECT value FROM json_each(?1)) AND deleted = 0 ORDER BY code",
        )?;
        let rows = stmt.query_map([serde_json::to_string(&order.asset_ids).expect("ids serialize")], |r| {
            Ok(Asset {
                id: r.get(0)?,
                code: r.get(1)?,
                site_id: r.get(2)?,
                asset_type: r.get(3)?,
                name: r.get(4)?,
                model: r.get(5)?,
                serial: r.get(6)?,
                location: r.get(7)?,
                installed_on: r.get(8)?,
                warranty_ends: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub(crate) fn answers_of(&self, order_id: &str) -> Result<Vec<Answer>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT item_key, asset_id, value, note, answered_at FROM inspection_answers
             WHERE work_order_id = ?1 AND deleted = 0 ORDER BY item_key, asset_id",
        )?;
        let rows = stmt.query_map([order_id], |r| {
            Ok(Answer { item_key: r.get(0)?, asset_id: r.get(1)?, value: json_col(r, 2)?, note: r.get(3)?, answered_at: parse_ts(&r.get::<_, String>(4)?)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub(crate) fn repairs_of(&self, order_id: &str) -> Result<Vec<RepairRecord>> {
        let sql = format!("{REPAIR_SELECT} WHERE work_order_id = ?1 AND deleted = 0 ORDER BY recorded_at, id");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([order_id], repair_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn answer_map(answers: &[Answer]) -> BTreeMap<Slot, Value> {
        answers.iter().map(|a| (Slot { item_key: a.item_key.clone(), asset_id: a.asset_id.clone() }, a.value.clone())).collect()
    }

    /// Everything recorded on one work order.
    pub fn order_detail(&mut self, key: &str) -> Result<WorkOrderDetail> {
        let order = self.find_order(key)?;
        let customer = self.conn.query_row("SELECT id, code, name, contact, phone, email FROM customers WHERE id = ?1", [&order.customer_id], |r| {
            Ok(Customer { id: r.get(0)?, code: r.get(1)?, name: r.get(2)?, contact: r.get(3)?, phone: r.get(4)?, email: r.get(5)? })
        })?;
        let site = self.conn.query_row("SELECT id, code, customer_id, name, address, region, zone FROM sites WHERE id = ?1", [&order.site_id], |r| {
            Ok(Site { id: r.get(0)?, code: r.get(1)?, customer_id: r.get(2)?, name: r.get(3)?, address: r.get(4)?, region: r.get(5)?, zone: r.get(6)? })
        })?;
        let assets = self.order_assets(&order)?;
        let template = order.template_id.as_deref().map(|id| self.phase_template(id, &order)).transpose()?;
        let answers = self.answers_of(&order.id)?;
        let map = Self::answer_map(&answers);
        let record = format!("work order {}", order.number);
        let (findings, missing) = match &template {
            Some(t) => (t.findings(&assets, &map), t.missing(&record, &assets, &map)),
            None => (Vec::new(), Vec::new()),
        };
        let repairs = self.repairs_of(&order.id)?;
        let satisfaction = self
            .conn
            .query_row("SELECT attitude, skill, arrival, promise, comment FROM satisfaction_cards WHERE work_order_id = ?1 AND deleted = 0", [&order.id], |r| {
                Ok(SatisfactionCard { attitude: r.get(0)?, skill: r.get(1)?, arrival: r.get(2)?, promise: r.get(3)?, comment: r.get(4)? })
            })
            .optional()?;
        let signatures = self.signatures_of(&order.id)?;
        let time_entries = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT id, technician, work_order_id, repair_record_id, work_date, category, minutes, note, activity FROM time_entries WHERE work_order_id = ?1 AND deleted = 0 ORDER BY work_date, id",
            )?;
            let rows = stmt.query_map([&order.id], time_row)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        let follow_ups = {
            let mut stmt = self.conn.prepare_cached("SELECT number FROM work_orders WHERE follow_up_of LIKE ?1 || '/%' AND deleted = 0 ORDER BY number")?;
            let rows = stmt.query_map([&order.id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()?
        };
        let history = self.asset_history(&order)?;
        let escalations = self.escalations_of(&order.id)?;
        let corrections = self.corrections_of(&order.id)?;
        Ok(WorkOrderDetail {
            template: template.map(|t| (*t).clone()),
            order,
            customer,
            site,
            assets,
            answers,
            findings,
            missing,
            repairs,
            satisfaction,
            signatures,
            time_entries,
            follow_ups,
            history,
            escalations,
            corrections,
        })
    }

    /// An order's escalations, oldest first, with the office's answer as last pulled (no status
    /// yet: still open).
    pub fn escalations_of(&self, order_id: &str) -> Result<Vec<Escalation>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, work_order_id, repair_record_id, escalate_to, note, raised_at, raised_by, status, response, answered_by, answered_at
             FROM escalations WHERE work_order_id = ?1 AND deleted = 0 ORDER BY raised_at, id",
        )?;
        let rows = stmt.query_map([order_id], |r| {
            Ok(Escalation {
                id: r.get(0)?,
                work_order_id: r.get(1)?,
                repair_record_id: r.get(2)?,
                escalate_to: r.get(3)?,
                note: r.get(4)?,
                raised_at: parse_ts(&r.get::<_, String>(5)?)?,
                raised_by: r.get(6)?,
                status: r.get::<_, Option<EscalationStatus>>(7)?.unwrap_or(EscalationStatus::Open),
                response: r.get(8)?,
                answered_by: r.get(9)?,
                answered_at: r.get::<_, Option<String>>(10)?.map(|t| parse_ts(&t)).transpose()?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Asks the supervisor or an engineer for help with a repair of this order, with a note. It
    /// goes to the office at the next sync; the office's answer comes back at a later pull. A
    /// signed order may still be escalated: the request is not part of what the customer signed.
    pub fn escalate(&mut self, key: &str, repair: Option<&str>, to: EscalateTo, note: &str) -> Result<Escalation> {
        let order = self.find_order(key)?;
        let record = format!("work order {}", order.number);
        let note = note.trim();
        let mut problems = Vec::new();
        if note.is_empty() {
            problems.push(FieldProblem::new(&record, "note", "say what you need help with (an escalation needs a note)"));
        } else if note.chars().count() > 4_000 {
            problems.push(FieldProblem::new(&record, "note", format!("{} characters is too long: at most 4000", note.chars().count())));
        }
        if let Some(r) = repair {
            let known: i64 =
                self.conn.query_row("SELECT count(*) FROM repair_records WHERE id = ?1 AND work_order_id = ?2 AND deleted = 0", [r, &order.id], |x| x.get(0))?;
            if known == 0 {
                problems.push(FieldProblem::new(&record, "repair", format!("repair record '{r}' is not a repair of this order")));
            }
        }
        // The server takes an escalation only from the order's own technician (`raised_by`).
        let Some(technician) = self.device.technician.clone().or(order.technician.clone()) else {
            return Err(Error::invalid(&record, "raised_by", "this laptop has no technician yet: enrol it (`fieldbook enrol`) before escalating"));
        };
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let id = uuid::Uuid::now_v7().to_string();
        self.write(|tx| {
            let now = ts(tx.now());
            tx.put("escalations", &id, &[
                ("work_order_id", json!(order.id)), ("repair_record_id", json!(repair)), ("escalate_to", json!(to.as_str())),
                ("note", json!(note)), ("raised_at", json!(now)), ("raised_by", json!(technician)), ("deleted", json!(false)),
            ])
        })?;
        self.escalations_of(&order.id)?.into_iter().find(|e| e.id == id).ok_or_else(|| Error::NotFound { entity: "escalation", key: id, hint: "" })
    }

    /// Earlier visits to this order's assets: repairs and findings, newest first.
    fn asset_history(&mut self, order: &WorkOrder) -> Result<Vec<AssetHistoryEntry>> {
        let mut out = Vec::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.asset_id, w.number, w.kind, w.scheduled_on, r.fault, r.action FROM repair_records r JOIN work_orders w ON w.id = r.work_order_id
             WHERE r.asset_id IN (SELECT value FROM json_each(?1)) AND w.id <> ?2 AND r.deleted = 0 ORDER BY w.scheduled_on DESC LIMIT 50",
        )?;
        let rows = stmt.query_map(params![serde_json::to_string(&order.asset_ids).expect("ids"), order.id], |r| {
            Ok(AssetHistoryEntry {
                asset_id: r.get(0)?,
                work_order_number: r.get(1)?,
                kind: r.get(2)?,
                date: r.get(3)?,
                summary: format!("{} → {}", r.get::<_, String>(4)?, r.get::<_, String>(5)?),
            })
        })?;
        out.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
        drop(stmt);
        // Findings of earlier inspections that covered these assets.
        let past: Vec<WorkOrder> = {
            let sql = format!(
                "{ORDER_SELECT} WHERE id <> ?1 AND template_id IS NOT NULL AND deleted = 0
                 AND EXISTS (SELECT 1 FROM json_each(asset_ids) a WHERE a.value IN (SELECT value FROM json_each(?2)))
                 AND EXISTS (SELECT 1 FROM inspection_answers i WHERE i.work_order_id = work_orders.id)
                 ORDER BY scheduled_on DESC LIMIT 20"
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![order.id, serde_json::to_string(&order.asset_ids).expect("ids")], order_row)?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for past_order in past {
            let tpl = self.template(past_order.template_id.as_deref().expect("filtered"))?;
            let assets = self.order_assets(&past_order)?;
            let answers = Self::answer_map(&self.answers_of(&past_order.id)?);
            for f in tpl.findings(&assets, &answers) {
                if f.asset_id.is_empty() || order.asset_ids.contains(&f.asset_id) {
                    out.push(AssetHistoryEntry {
                        asset_id: f.asset_id.clone(),
                        work_order_number: past_order.number.clone(),
                        kind: past_order.kind,
                        date: past_order.scheduled_on,
                        summary: format!("{}: {}", f.label.both(), f.reason.both()),
                    });
                }
            }
        }
        out.sort_by_key(|e| std::cmp::Reverse(e.date));
        Ok(out)
    }

    /// Refuses changes to the content of a signed order; `what` names the change for the message.
    pub(crate) fn ensure_unlocked(order: &WorkOrder, what: &str) -> Result<()> {
        if order.status == Status::Signed {
            return Err(Error::Locked { order: order.number.clone(), revision: order.revision, what: what.to_owned() });
        }
        Ok(())
    }

    /// Records checklist answers (any subset of the form). All are checked first; if any is
    /// wrong nothing is written and every problem is reported.
    pub fn record_answers(&mut self, key: &str, inputs: &[AnswerInput]) -> Result<usize> {
        let order = self.find_order(key)?;
        Self::ensure_unlocked(&order, "checklist answers")?;
        let record = format!("work order {}", order.number);
        let template = self.order_template(&order)?;
        let assets = self.order_assets(&order)?;
        let mut problems = Vec::new();
        let mut checked = Vec::new();
        for input in inputs {
            let asset_id = match &input.asset {
                None => String::new(),
                Some(a) => match assets.iter().find(|x| &x.code == a || &x.id == a) {
                    Some(x) => x.id.clone(),
                    None => {
                        problems.push(FieldProblem::new(&record, &input.item, format!("asset '{a}' is not one of this order's assets")));
                        continue;
                    }
                },
            };
            let slot = Slot { item_key: input.item.clone(), asset_id };
            match template.check_answer(&record, &slot, &assets, &input.value).and_then(|v| self.photos_held(&record, &template, &slot, &assets, v)) {
                Ok(value) => checked.push((slot, value, input.note.clone())),
                Err(p) => problems.push(p),
            }
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let order_id = order.id.clone();
        self.write(|tx| {
            for (slot, value, note) in &checked {
                write_answer(tx, &order_id, slot, value, note.as_deref())?;
            }
            Ok(checked.len())
        })
    }

    /// Records one already-identified answer: the path the app takes as each field is edited.
    pub fn record_answer(&mut self, order_id: &str, slot: &Slot, raw: &Value) -> Result<Value> {
        let order = self.find_order(order_id)?;
        Self::ensure_unlocked(&order, "checklist answers")?;
        let template = self.order_template(&order)?;
        let assets = self.order_assets(&order)?;
        let record = format!("work order {}", order.number);
        let value = template
            .check_answer(&record, slot, &assets, raw)
            .and_then(|v| self.photos_held(&record, &template, slot, &assets, v))
            .map_err(|p| Error::Invalid(vec![p]))?;
        self.write(|tx| write_answer(tx, &order.id, slot, &value, None))?;
        Ok(value)
    }

    /// A photo answer may name only attachments this store holds: an id of anything else could
    /// never be uploaded, and the office would wait for it for ever. Passes `value` on.
    fn photos_held(&self, record: &str, template: &ChecklistTemplate, slot: &Slot, assets: &[Asset], value: Value) -> Result<Value, FieldProblem> {
        if !matches!(template.item(&slot.item_key).map(|i| &i.kind), Some(ItemKind::Photo)) {
            return Ok(value);
        }
        let field = match assets.iter().find(|a| a.id == slot.asset_id) {
            None if slot.asset_id.is_empty() => slot.item_key.clone(),
            None => format!("{} (asset {})", slot.item_key, slot.asset_id),
            Some(a) => format!("{} (asset {})", slot.item_key, a.code),
        };
        for id in value.as_array().into_iter().flatten().filter_map(Value::as_str) {
            let held = self
                .conn
                .query_row("SELECT count(*) FROM attachments WHERE id = ?1 AND deleted = 0", [id], |r| r.get::<_, i64>(0))
                .map_err(|e| FieldProblem::new(record, &field, format!("could not look up photo {id}: {e}")))?;
            if held == 0 {
                return Err(FieldProblem::new(
                    record,
                    &field,
                    format!(
                        "photo {id} is not on this laptop; add the photo first (`fieldbook attach FILE` prints the id to answer with; in the app, take or choose the photo in this item)"
                    ),
                ));
            }
        }
        Ok(value)
    }

    fn order_template(&mut self, order: &WorkOrder) -> Result<Arc<ChecklistTemplate>> {
        let id = order
            .template_id
            .as_deref()
            .ok_or_else(|| Error::invalid(format!("work order {}", order.number), "template", "this order has no checklist; record a repair instead"))?;
        self.phase_template(id, order)
    }

    /// The order's checklist as its form shows it: only the items of the order's contract phase
    /// (an order from an inspection plan), every item otherwise.
    fn phase_template(&mut self, template_id: &str, order: &WorkOrder) -> Result<Arc<ChecklistTemplate>> {
        let t = self.template(template_id)?;
        Ok(match order.phase.as_deref() {
            Some(phase) if t.has_phases() => Arc::new(t.for_phase(Some(phase))),
            _ => t,
        })
    }

    /// Moves an order along its lifecycle. `completed` is refused while required items are
    /// unanswered; `signed` is reached only by [`Store::sign`], and a signed order is reopened
    /// only by [`Store::amend`].
    pub fn set_status(&mut self, key: &str, to: Status) -> Result<WorkOrder> {
        let order = self.find_order(key)?;
        let from = order.status;
        let refuse = |hint: &str| Error::Transition { order: order.number.clone(), from: from.to_string(), to: to.to_string(), hint: hint.to_owned() };
        use Status::*;
        match (from, to) {
            (_, Signed) => return Err(refuse("; an order is signed by the customer's signature (`fieldbook sign`)")),
            (Signed, _) => return Err(refuse("; it is signed: open an amendment with `fieldbook amend` to change it")),
            (Completed, OnSite) => {} // reopen before signing
            (Completed, _) => return Err(refuse("; a completed order can only be reopened (to on_site) or signed")),
            (f, t) if t <= f => return Err(refuse("; status only moves forward (new → dispatched → en_route → on_site → completed)")),
            _ => {}
        }
        if to == Completed {
            if let Some(tid) = order.template_id.as_deref() {
                let template = self.phase_template(tid, &order)?;
                let assets = self.order_assets(&order)?;
                let answers = Self::answer_map(&self.answers_of(&order.id)?);
                let missing = template.missing(&format!("work order {}", order.number), &assets, &answers);
                if !missing.is_empty() {
                    return Err(Error::Incomplete { order: order.number.clone(), missing });
                }
            } else if self.repairs_of(&order.id)?.is_empty() {
                return Err(Error::Incomplete {
                    order: order.number.clone(),
                    missing: vec![FieldProblem::new(format!("work order {}", order.number), "repair", "no repair record: record the work done (`fieldbook repair`)")],
                });
            }
        }
        let id = order.id.clone();
        self.write(|tx| {
            let now = json!(ts(tx.now()));
            let mut fields = vec![("status", json!(to))];
            match to {
                EnRoute if order.en_route_at.is_none() => fields.push(("en_route_at", now)),
                OnSite if order.arrived_at.is_none() => fields.push(("arrived_at", now)),
                Completed => fields.push(("completed_at", now)),
                _ => {}
            }
            tx.put("work_orders", &id, &fields)?;
            if to == Completed {
                // An inspection's time runs from arrival on site to completion (#12).
                let completed = tx.now();
                super::time::record_inspection_time(tx, &order, completed)?;
            }
            Ok(())
        })?;
        self.find_order(&id)
    }

    pub fn complete(&mut self, key: &str) -> Result<WorkOrder> {
        self.set_status(key, Status::Completed)
    }

    /// Opens an amendment of a signed order: a new revision, back on site, that needs a new
    /// signature. The signed revision and its signature stay as they were.
    pub fn amend(&mut self, key: &str, reason: &str) -> Result<WorkOrder> {
        let order = self.find_order(key)?;
        if order.status != Status::Signed {
            return Err(Error::Transition {
                order: order.number.clone(),
                from: order.status.to_string(),
                to: "amendment".into(),
                hint: "; only a signed order is amended — this one can still be edited directly".into(),
            });
        }
        if reason.trim().is_empty() {
            return Err(Error::invalid(format!("work order {}", order.number), "reason", "say why the signed record is amended"));
        }
        let by = self.device.technician.clone();
        self.write(|tx| {
            let now = ts(tx.now());
            tx.put("work_orders", &order.id, &[("status", json!(Status::OnSite)), ("revision", json!(order.revision + 1)), ("completed_at", Value::Null)])?;
            tx.put("amendments", &uuid::Uuid::now_v7().to_string(), &[
                ("work_order_id", json!(order.id)), ("from_revision", json!(order.revision)), ("reason", json!(reason.trim())),
                ("amended_by", json!(by)), ("amended_at", json!(now)), ("deleted", json!(false)),
            ])
        })?;
        self.find_order(&order.id)
    }

    /// Records a repair on an order, and the labour as a time entry in the repair's category.
    pub fn add_repair(&mut self, key: &str, new: &NewRepairRecord) -> Result<RepairRecord> {
        let order = self.find_order(key)?;
        Self::ensure_unlocked(&order, "repair records")?;
        let record = format!("work order {}", order.number);
        let mut problems = Vec::new();
        for (field, v) in [("fault", &new.fault), ("cause", &new.cause), ("action", &new.action)] {
            if v.trim().is_empty() {
                problems.push(FieldProblem::new(&record, field, "must not be empty"));
            }
        }
        if new.fee_cents < 0 {
            problems.push(FieldProblem::new(&record, "fee", "must not be negative"));
        }
        if new.fee_collected && new.fee_cents == 0 {
            problems.push(FieldProblem::new(&record, "fee_collected", "no fee was entered; give --fee or leave fee collected off"));
        }
        if new.taken_to_workshop && new.receipt_number.as_deref().is_none_or(|r| r.trim().is_empty()) {
            problems.push(FieldProblem::new(&record, "receipt_number", "a unit taken back to the workshop needs the receipt number given to the customer"));
        }
        if let Some(a) = &new.asset_id {
            if !order.asset_ids.contains(a) {
                problems.push(FieldProblem::new(&record, "asset", format!("asset '{a}' is not one of this order's assets")));
            }
        }
        for p in &new.parts {
            let known: bool = self.conn.query_row("SELECT count(*) FROM parts WHERE sku = ?1 AND deleted = 0", [&p.sku], |r| r.get::<_, i64>(0))? > 0;
            if !known {
                problems.push(FieldProblem::new(&record, format!("part {}", p.sku), "unknown part: not in the parts catalogue (check the SKU, or sync to get the latest catalogue)"));
            }
            if p.quantity == 0 {
                problems.push(FieldProblem::new(&record, format!("part {}", p.sku), "quantity must be at least 1"));
            }
            if !p.serials.is_empty() && p.serials.len() as u32 != p.quantity {
                problems.push(FieldProblem::new(&record, format!("part {}", p.sku), format!("{} serial number(s) given for quantity {}", p.serials.len(), p.quantity)));
            }
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let technician = order.technician.clone().or(self.device.technician.clone()).unwrap_or_else(|| "unassigned".into());
        let id = uuid::Uuid::now_v7().to_string();
        self.write(|tx| {
            let now = tx.now();
            tx.put("repair_records", &id, &[
                ("work_order_id", json!(order.id)), ("asset_id", json!(new.asset_id)), ("fault", json!(new.fault.trim())),
                ("cause", json!(new.cause.trim())), ("action", json!(new.action.trim())), ("parts", json!(new.parts)),
                ("labour_minutes", json!(new.labour_minutes)), ("category", json!(new.category)), ("fee_cents", json!(new.fee_cents)),
                ("fee_collected", json!(new.fee_collected)), ("taken_to_workshop", json!(new.taken_to_workshop)),
                ("receipt_number", json!(new.receipt_number)), ("recorded_at", json!(ts(now))), ("deleted", json!(false)),
            ])?;
            if new.labour_minutes > 0 {
                put_time_entry(tx, &technician, Some(&order.id), Some(&id), super::time::local_day(now, &chrono::Local), new.category, new.labour_minutes, None)?;
            }
            Ok(())
        })?;
        let sql = format!("{REPAIR_SELECT} WHERE id = ?1");
        Ok(self.conn.query_row(&sql, [&id], repair_row)?)
    }

    /// The customer's satisfaction card; giving it again replaces the earlier one.
    pub fn rate(&mut self, key: &str, card: &SatisfactionCard) -> Result<()> {
        let order = self.find_order(key)?;
        let record = format!("work order {}", order.number);
        let problems: Vec<FieldProblem> = [("attitude", card.attitude), ("skill", card.skill), ("arrival", card.arrival), ("promise", card.promise)]
            .into_iter()
            .filter(|(_, v)| !(1..=4).contains(v))
            .map(|(f, v)| FieldProblem::new(&record, f, format!("{v} is not a rating: use 1 (poor) to 4 (very good)")))
            .collect();
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let existing: Option<String> = self.conn.query_row("SELECT id FROM satisfaction_cards WHERE work_order_id = ?1", [&order.id], |r| r.get(0)).optional()?;
        let id = existing.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        self.write(|tx| {
            let now = ts(tx.now());
            tx.put("satisfaction_cards", &id, &[
                ("work_order_id", json!(order.id)), ("attitude", json!(card.attitude)), ("skill", json!(card.skill)),
                ("arrival", json!(card.arrival)), ("promise", json!(card.promise)), ("comment", json!(card.comment)),
                ("rated_at", json!(now)), ("deleted", json!(false)),
            ])
        })
    }

    /// Raises a follow-up repair order from a finding of an inspection.
    pub fn create_follow_up(&mut self, key: &str, item_key: &str, asset: Option<&str>) -> Result<WorkOrder> {
        let detail = self.order_detail(key)?;
        let asset_id = match asset {
            None => String::new(),
            Some(a) => detail.assets.iter().find(|x| x.code == a || x.id == a).map(|x| x.id.clone()).unwrap_or_else(|| a.to_owned()),
        };
        let finding = detail
            .findings
            .iter()
            .find(|f| f.item_key == item_key && f.asset_id == asset_id)
            .ok_or_else(|| Error::NotFound { entity: "finding", key: format!("{} {item_key}", detail.order.number), hint: "; `fieldbook show` lists the findings of an order" })?;
        let origin = finding_key(&detail.order.id, finding);
        if let Some(n) = self.conn.query_row("SELECT number FROM work_orders WHERE follow_up_of = ?1", [&origin], |r| r.get::<_, String>(0)).optional()? {
            return self.find_order(&n);
        }
        let order = &detail.order;
        let now = self.now();
        let number = format!("{}-F{}", order.number, detail.follow_ups.len() + 1);
        let id = uuid::Uuid::now_v7().to_string();
        let assets: Vec<&str> = if asset_id.is_empty() { order.asset_ids.iter().map(String::as_str).collect() } else { vec![asset_id.as_str()] };
        let owned: Vec<String> = assets.iter().map(|a| a.to_string()).collect();
        let deadline = self.response_deadline(now, detail.site.zone, &order.customer_id, &owned)?.on_site_by;
        let problem = format!("{}: {}", finding.label.both(), finding.reason.both());
        self.write(|tx| {
            tx.put("work_orders", &id, &[
                ("number", json!(number)), ("kind", json!(WorkOrderKind::RepairCall)), ("customer_id", json!(order.customer_id)),
                ("site_id", json!(order.site_id)), ("asset_ids", json!(assets)), ("technician", json!(order.technician)),
                ("priority", json!(Priority::High)), ("category", json!(order.category)), ("status", json!(Status::Dispatched)),
                ("template_id", Value::Null), ("problem", json!(problem)), ("scheduled_on", json!(super::time::local_day(now, &chrono::Local))),
                ("reported_at", json!(ts(now))), ("response_deadline", json!(ts(deadline))),
                ("revision", json!(1)), ("follow_up_of", json!(origin)), ("deleted", json!(false)),
            ])
        })?;
        self.find_order(&id)
    }

    /// Minutes per service category and activity for one day (optionally one technician).
    pub fn daily_report(&self, day: NaiveDate, technician: Option<&str>) -> Result<crate::daily_report::DailyReport> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT technician, category,
                    COALESCE(activity, CASE WHEN repair_record_id IS NOT NULL THEN 'repair' WHEN category = 'D' THEN 'internal' END) AS act, sum(minutes)
             FROM time_entries WHERE work_date = ?1 AND deleted = 0 AND (?2 IS NULL OR technician = ?2)
             GROUP BY technician, category, act ORDER BY technician, category, act",
        )?;
        let rows = stmt.query_map(params![day, technician], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Category>(1)?, r.get::<_, Option<Activity>>(2)?, r.get::<_, i64>(3)?))
        })?;
        let rows: Vec<_> = rows.collect::<rusqlite::Result<_>>()?;
        Ok(crate::daily_report::DailyReport::from_rows(day, rows))
    }
}

fn time_row(r: &Row<'_>) -> rusqlite::Result<TimeEntry> {
    Ok(TimeEntry {
        id: r.get(0)?,
        technician: r.get(1)?,
        work_order_id: r.get(2)?,
        repair_record_id: r.get(3)?,
        work_date: r.get(4)?,
        category: r.get(5)?,
        minutes: r.get(6)?,
        note: r.get(7)?,
        activity: r.get(8)?,
    })
}

fn write_answer(tx: &mut Tx<'_>, order_id: &str, slot: &Slot, value: &Value, note: Option<&str>) -> Result<()> {
    let now = ts(tx.now());
    tx.put("inspection_answers", &answer_id(order_id, slot), &[
        ("work_order_id", json!(order_id)),
        ("item_key", json!(slot.item_key)),
        ("asset_id", json!(slot.asset_id)),
        ("value", value.clone()),
        ("note", json!(note)),
        ("answered_at", json!(now)),
        ("deleted", json!(false)),
    ])
}

/// One version of a checklist template, as `fieldbook templates` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemplateVersion {
    pub code: String,
    pub version: i64,
    pub title: crate::checklist::Text,
    pub published_at: String,
}

#[allow(clippy::too_many_arguments)]
fn put_time_entry(tx: &mut Tx<'_>, technician: &str, order_id: Option<&str>, repair_id: Option<&str>, day: NaiveDate, category: Category, minutes: u32, note: Option<&str>) -> Result<String> {
    let id = uuid::Uuid::now_v7().to_string();
    tx.put("time_entries", &id, &[
        ("technician", json!(technician)), ("work_order_id", json!(order_id)), ("repair_record_id", json!(repair_id)),
        ("work_date", json!(day)), ("category", json!(category)), ("minutes", json!(minutes)), ("note", json!(note)),
        ("activity", json!(Activity::Repair)), ("deleted", json!(false)),
    ])?;
    Ok(id)
}

impl Store {
    /// The service company, as imported; printed on reports.
    pub fn company(&self) -> Result<Option<crate::import::Company>> {
        let v: Option<String> = self.conn.query_row("SELECT value FROM settings WHERE key = 'company'", [], |r| r.get(0)).optional()?;
        v.map(|v| serde_json::from_str(&v).map_err(|source| Error::Corrupt { what: "company setting".into(), source })).transpose()
    }

    /// The checklist templates on this laptop, every version, by code then version.
    pub fn checklist_templates(&self) -> Result<Vec<TemplateVersion>> {
        let mut stmt = self.conn.prepare_cached("SELECT code, version, body, published_at FROM checklist_templates WHERE deleted = 0 ORDER BY code, version")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?)))?;
        rows.map(|row| {
            let (code, version, body, published_at) = row?;
            let tpl: ChecklistTemplate = serde_json::from_str(&body).map_err(|source| Error::Corrupt { what: format!("checklist template {code} v{version}"), source })?;
            Ok(TemplateVersion { code, version, title: tpl.title, published_at })
        })
        .collect()
    }

    /// The parts catalogue, by SKU.
    pub fn parts(&self) -> Result<Vec<Part>> {
        let mut stmt = self.conn.prepare_cached("SELECT id, sku, name_zh, name_en, unit, price_cents FROM parts WHERE deleted = 0 ORDER BY sku")?;
        let rows = stmt.query_map([], |r| Ok(Part { id: r.get(0)?, sku: r.get(1)?, name_zh: r.get(2)?, name_en: r.get(3)?, unit: r.get(4)?, price_cents: r.get(5)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The bilingual service report of an order as PDF bytes.
    pub fn service_report(&mut self, key: &str) -> Result<Vec<u8>> {
        let detail = self.order_detail(key)?;
        crate::report::render(&detail, self.company()?.as_ref(), &self.parts()?)
    }
}
