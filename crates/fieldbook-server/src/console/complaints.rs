//! Complaints (客户投诉, issue #11): registering one (from a call, a satisfaction card's comment, a
//! return visit, or entered directly) numbered `YYMM-NNN` by the month of registration in the
//! company's time (the server's local time zone, as call numbers), its deadlines from the
//! company's complaint policy (a first report within 3 days, closed within 13 days — 17 for a
//! foreign customer; admin-editable, kept in `settings`), the tracking log (`complaint_steps`:
//! registered, assigned, first report, reminder 催办, written reply, note, closed), reminders for
//! what is overdue (computed from `complaint_index`, overdue first), closing with a result and
//! how the customer was told, the bilingual result notice PDF, and the monthly statistics.
//!
//! Complaints and their steps are desk records (`Owner::Desk`): written through the feed writer
//! like every office record, sent to no laptop. A closed complaint stays closed (no reopening):
//! a customer who disputes the result makes a new complaint, which the log of the old one does
//! not need to change for.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Datelike, Duration, Local, NaiveDate, TimeZone, Utc};
use fieldbook_core::complaint_notice::{self, CATEGORIES, INFORMED_HOW, SEVERITIES, SOURCES};
use fieldbook_core::store::ts;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{audit, csv, ConsoleUser, FormatQuery};
use crate::api::{AppState, JsonBody};
use crate::db::{Mode, Tx};
use crate::error::{Error, Result};
use crate::feed::Writer;
use crate::import::write_changed;
use crate::users::Role;
use crate::{params, records};

// ---------------------------------------------------------------------------------------------
// The complaint policy

/// The `settings` key of the complaint policy (JSON).
pub const POLICY_SETTING: &str = "complaint_policy";

/// How long the desk has, in calendar days from registration.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ComplaintPolicy {
    pub first_report_days: u32,
    pub close_days_domestic: u32,
    pub close_days_foreign: u32,
}

impl Default for ComplaintPolicy {
    /// The handbook's: a first report within 3 days, closed within 13 days (17 for foreign
    /// customers).
    fn default() -> Self {
        ComplaintPolicy { first_report_days: 3, close_days_domestic: 13, close_days_foreign: 17 }
    }
}

impl ComplaintPolicy {
    fn check(&self) -> Result<()> {
        for (name, d) in [("first_report_days", self.first_report_days), ("close_days_domestic", self.close_days_domestic), ("close_days_foreign", self.close_days_foreign)] {
            if !(1..=365).contains(&d) {
                return Err(Error::Invalid(format!("{name}: {d} is not a deadline; give a number of days from 1 to 365")));
            }
        }
        if self.first_report_days > self.close_days_domestic.min(self.close_days_foreign) {
            return Err(Error::Invalid(format!(
                "first_report_days: {} is after a closing deadline ({} / {} days); the first report comes before closing",
                self.first_report_days, self.close_days_domestic, self.close_days_foreign
            )));
        }
        Ok(())
    }
}

/// The company's complaint policy (the handbook's when none is set).
pub fn policy(tx: &mut dyn Tx) -> Result<ComplaintPolicy> {
    let Some(r) = tx.query_opt("SELECT value FROM settings WHERE key = $1", params![POLICY_SETTING])? else { return Ok(ComplaintPolicy::default()) };
    let v = r.text(0)?;
    serde_json::from_str(&v).map_err(|e| Error::Internal(format!("the setting {POLICY_SETTING} is '{v}', not a complaint policy ({e}); set it again in the console's settings")))
}

pub fn set_policy(tx: &mut dyn Tx, p: &ComplaintPolicy) -> Result<()> {
    p.check()?;
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![POLICY_SETTING, serde_json::to_string(p).expect("serialises")],
    )?;
    Ok(())
}

pub async fn get_policy(State(s): State<AppState>, _u: ConsoleUser) -> Result<Json<ComplaintPolicy>> {
    Ok(Json(s.db.run(Mode::Read, policy).await?))
}

pub async fn change_policy(State(s): State<AppState>, u: ConsoleUser, JsonBody(req): JsonBody<Value>) -> Result<Json<ComplaintPolicy>> {
    u.require_admin("change the complaint deadlines")?;
    let p: ComplaintPolicy = serde_json::from_value(req).map_err(|e| {
        Error::Invalid(format!("complaint policy: {e}; send first_report_days, close_days_domestic and close_days_foreign as whole numbers of days"))
    })?;
    p.check()?;
    let actor = u.login().to_owned();
    let p = s
        .db
        .run(Mode::Write, move |tx| {
            let before = policy(tx)?;
            set_policy(tx, &p)?;
            audit::record(tx, &actor, "settings_changed", Some("settings"), Some(POLICY_SETTING), None, json!({"from": before, "to": p}))?;
            policy(tx)
        })
        .await?;
    Ok(Json(p))
}

// ---------------------------------------------------------------------------------------------
// Registering

/// A new complaint, as the console's form, the call register and the return visits give it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewComplaint {
    /// `call`, `card`, `return_visit` or `direct`.
    pub source: String,
    /// The call, satisfaction card or return visit it came from (none for `direct`).
    #[serde(default)]
    pub source_id: Option<String>,
    pub customer_id: String,
    #[serde(default)]
    pub work_order_ids: Vec<String>,
    /// The technicians complained about; empty: the orders' technicians.
    #[serde(default)]
    pub technicians: Vec<String>,
    pub description: String,
    pub category: String,
    pub severity: String,
    #[serde(default)]
    pub foreign_customer: bool,
    /// The person responsible for handling it (a console user); none yet: assigned later.
    #[serde(default)]
    pub responsible: Option<String>,
    /// When the complaint was received (RFC 3339), e.g. a letter entered days later; default now.
    #[serde(default)]
    pub registered_at: Option<String>,
}

fn code_in(field: &str, list: &[(&str, &str, &str)], v: &str) -> Result<()> {
    if list.iter().any(|(c, _, _)| *c == v) {
        Ok(())
    } else {
        Err(Error::Invalid(format!("{field} '{v}': use one of {}", list.iter().map(|(c, _, _)| *c).collect::<Vec<_>>().join(", "))))
    }
}

fn time(field: &str, v: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.to_utc())
        .map_err(|_| Error::Invalid(format!("{field} '{v}': give the time as RFC 3339, e.g. 2026-12-02T09:30:00+08:00")))
}

fn not_future(field: &str, t: DateTime<Utc>) -> Result<()> {
    if t > Utc::now() + Duration::minutes(5) {
        return Err(Error::Invalid(format!("{field} {}: cannot be in the future", ts(t))));
    }
    Ok(())
}

fn live(s: &Option<std::rc::Rc<records::Stored>>) -> Result<bool> {
    Ok(match s {
        Some(s) => s.fields()?.get("deleted") != Some(&Value::Bool(true)),
        None => false,
    })
}

/// A console user who can be responsible for a complaint, or remind or be reminded.
fn check_person(tx: &mut dyn Tx, field: &str, login: &str) -> Result<()> {
    match crate::users::find(tx, login)? {
        Some(u) if u.disabled => Err(Error::Invalid(format!("{field}: '{login}' is disabled; pick someone else"))),
        Some(u) if u.role == Role::Technician => Err(Error::Invalid(format!("{field}: '{login}' is a technician; the person responsible works in the office"))),
        Some(_) => Ok(()),
        None => Err(Error::Invalid(format!("{field}: no user '{login}'; pick one from the office's people"))),
    }
}

/// The next complaint number of a month (`YYMM`), under the feed lock.
fn next_number(tx: &mut dyn Tx, month: &str) -> Result<String> {
    let n = tx
        .query_one(
            "INSERT INTO complaint_numbers (month, last) VALUES ($1, 1) ON CONFLICT (month) DO UPDATE SET last = complaint_numbers.last + 1 RETURNING last",
            params![month],
        )?
        .int(0)?;
    Ok(format!("{month}-{n:03}"))
}

/// Writes one step of the tracking log.
fn step(w: &mut Writer<'_>, complaint: &str, at: &str, by: &str, kind: &str, note: Option<&str>) -> Result<()> {
    let id = uuid::Uuid::now_v7().to_string();
    write_changed(
        w,
        "complaint_steps",
        &id,
        &[("complaint_id", json!(complaint)), ("at", json!(at)), ("by", json!(by)), ("kind", json!(kind)), ("note", json!(note)), ("deleted", json!(false))],
    )?;
    Ok(())
}

/// Registers a complaint with its first step. Runs in a `Mode::Feed` transaction; the call
/// register and the return visits call it too.
pub fn open_complaint(tx: &mut dyn Tx, actor: &str, new: &NewComplaint) -> Result<Value> {
    code_in("source", SOURCES, &new.source)?;
    code_in("category", CATEGORIES, &new.category)?;
    code_in("severity", SEVERITIES, &new.severity)?;
    let description = new.description.trim();
    if description.is_empty() {
        return Err(Error::Invalid("description: say what the customer complained about (it is empty)".into()));
    }
    let registered_at = match new.registered_at.as_deref().filter(|s| !s.is_empty()) {
        Some(v) => time("registered_at", v)?,
        None => Utc::now(),
    };
    not_future("registered_at", registered_at)?;
    if let Some(r) = new.responsible.as_deref() {
        check_person(tx, "responsible", r)?;
    }
    let p = policy(tx)?;
    let mut w = Writer::begin(tx)?;
    if !live(&w.load("customers", &new.customer_id)?)? {
        return Err(Error::Invalid(format!("customer_id '{}': no such customer; pick one from the customer search", new.customer_id)));
    }
    let source_entity = match new.source.as_str() {
        "call" => Some("calls"),
        "card" => Some("satisfaction_cards"),
        "return_visit" => Some("return_visits"),
        _ => None,
    };
    match (source_entity, new.source_id.as_deref().filter(|s| !s.is_empty())) {
        (Some(e), Some(sid)) if !live(&w.load(e, sid)?)? => {
            return Err(Error::Invalid(format!("source_id '{sid}': no such record in {e}; the complaint comes from a {} that exists", new.source)));
        }
        (Some(_), None) => return Err(Error::Invalid(format!("source_id: name the {} the complaint comes from", new.source))),
        (None, Some(_)) => return Err(Error::Invalid("source_id: a complaint entered directly comes from no other record; leave it out".into())),
        _ => {}
    }
    let mut technicians = new.technicians.clone();
    for o in &new.work_order_ids {
        let order = w.load("work_orders", o)?;
        if !live(&order)? {
            return Err(Error::Invalid(format!("work_order_ids: no work order '{o}'")));
        }
        let f = order.as_ref().expect("live").fields()?;
        if records::text_of(f, "customer_id") != Some(new.customer_id.as_str()) {
            return Err(Error::Invalid(format!("work_order_ids: {} is not the customer's; pick the customer's orders", records::order_name(o, Some(f)))));
        }
        if new.technicians.is_empty() {
            if let Some(t) = records::text_of(f, "technician") {
                if !technicians.iter().any(|x| x == t) {
                    technicians.push(t.to_owned());
                }
            }
        }
    }
    let local = registered_at.with_timezone(&Local);
    let number = next_number(w.tx()?, &local.format("%y%m").to_string())?;
    let id = uuid::Uuid::now_v7().to_string();
    let close_days = if new.foreign_customer { p.close_days_foreign } else { p.close_days_domestic };
    let at = ts(registered_at);
    write_changed(
        &mut w,
        "complaints",
        &id,
        &[
            ("number", json!(number)),
            ("source", json!(new.source)),
            ("source_id", json!(new.source_id.as_deref().filter(|s| !s.is_empty()))),
            ("customer_id", json!(new.customer_id)),
            ("work_order_ids", json!(new.work_order_ids)),
            ("technicians", json!(technicians)),
            ("category", json!(new.category)),
            ("severity", json!(new.severity)),
            ("foreign_customer", json!(new.foreign_customer)),
            ("description", json!(description)),
            ("responsible", json!(new.responsible)),
            ("registered_at", json!(at)),
            ("registered_by", json!(actor)),
            ("first_report_due", json!(ts(registered_at + Duration::days(p.first_report_days.into())))),
            ("close_due", json!(ts(registered_at + Duration::days(close_days.into())))),
            ("status", json!("open")),
            ("deleted", json!(false)),
        ],
    )?;
    step(&mut w, &id, &at, actor, "registered", Some(description))?;
    if let Some(r) = &new.responsible {
        step(&mut w, &id, &crate::now_text(), actor, "assigned", Some(r))?;
    }
    w.finish()?;
    audit::record(tx, actor, "complaint_registered", Some("complaints"), Some(&id), None, json!({"number": number, "source": new.source}))?;
    detail_of(tx, &id)
}

pub async fn register(State(s): State<AppState>, u: ConsoleUser, JsonBody(new): JsonBody<NewComplaint>) -> Result<Response> {
    let actor = u.login().to_owned();
    let c = s.db.run(Mode::Feed, move |tx| open_complaint(tx, &actor, &new)).await?;
    Ok((axum::http::StatusCode::CREATED, Json(c)).into_response())
}

// ---------------------------------------------------------------------------------------------
// Steps: assign, first report, reminder, written reply, note; closing

#[derive(Debug, Clone, Deserialize)]
pub struct StepRequest {
    /// `assigned`, `first_report`, `reminder`, `written_reply` or `note`.
    pub kind: String,
    #[serde(default)]
    pub note: Option<String>,
    /// For `assigned`: the new person responsible.
    #[serde(default)]
    pub responsible: Option<String>,
}

fn load_complaint(w: &mut Writer<'_>, id: &str) -> Result<Map<String, Value>> {
    let c = w.load("complaints", id)?;
    if !live(&c)? {
        return Err(Error::NotFound(format!("no complaint '{id}'")));
    }
    Ok(c.expect("live").fields()?.clone())
}

fn name_of(f: &Map<String, Value>) -> String {
    format!("complaint {}", records::text_of(f, "number").unwrap_or("?"))
}

/// Adds a step to the tracking log and the change it records. Runs in a `Mode::Feed`
/// transaction.
pub fn add_step(tx: &mut dyn Tx, actor: &str, role: Role, id: &str, req: &StepRequest) -> Result<Value> {
    let note = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if let Some(r) = req.responsible.as_deref() {
        check_person(tx, "responsible", r)?;
    }
    let mut w = Writer::begin(tx)?;
    let f = load_complaint(&mut w, id)?;
    let name = name_of(&f);
    if records::text_of(&f, "status") == Some("closed") {
        return Err(Error::conflict(format!("{name} is closed; a customer who disputes the result makes a new complaint")));
    }
    let now = crate::now_text();
    let needs_note = |what: &str| note.ok_or_else(|| Error::Invalid(format!("note: write the {what} (it is empty)")));
    let mut changes: Vec<(&str, Value)> = Vec::new();
    let step_note: String = match req.kind.as_str() {
        "assigned" => {
            let to = req.responsible.as_deref().ok_or_else(|| Error::Invalid("responsible: name the person who will handle the complaint".into()))?;
            changes.push(("responsible", json!(to)));
            match note {
                Some(n) => format!("{to}: {n}"),
                None => to.to_owned(),
            }
        }
        "first_report" => {
            if records::text_of(&f, "first_reported_at").is_some() {
                return Err(Error::conflict(format!("{name} has its first report; add a note instead")));
            }
            changes.push(("first_reported_at", json!(now)));
            changes.push(("status", json!("reported")));
            needs_note("first report")?.to_owned()
        }
        "reminder" => {
            // 催办: who reminded whom. Whom is the person responsible; none yet: assign first.
            let whom = records::text_of(&f, "responsible")
                .ok_or_else(|| Error::Invalid(format!("{name} has no one responsible to remind; assign someone first")))?;
            match note {
                Some(n) => format!("{whom}: {n}"),
                None => whom.to_owned(),
            }
        }
        "written_reply" => {
            if role != Role::Admin {
                return Err(Error::Forbidden(format!("the written reply to {name} comes from management: only an admin may give it")));
            }
            let reply = needs_note("written reply")?;
            changes.push(("written_reply", json!(reply)));
            reply.to_owned()
        }
        "note" => needs_note("note")?.to_owned(),
        other => return Err(Error::Invalid(format!("kind '{other}': use assigned, first_report, reminder, written_reply or note (closing has its own form)"))),
    };
    if !changes.is_empty() {
        write_changed(&mut w, "complaints", id, &changes)?;
    }
    step(&mut w, id, &now, actor, &req.kind, Some(&step_note))?;
    w.finish()?;
    audit::record(tx, actor, &format!("complaint_{}", req.kind), Some("complaints"), Some(id), None, json!({"note": step_note}))?;
    detail_of(tx, id)
}

pub async fn add(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(req): JsonBody<StepRequest>) -> Result<Json<Value>> {
    let actor = u.login().to_owned();
    let role = u.0.role;
    Ok(Json(s.db.run(Mode::Feed, move |tx| add_step(tx, &actor, role, &id, &req)).await?))
}

#[derive(Debug, Clone, Deserialize)]
pub struct CloseRequest {
    pub result: String,
    /// `phone`, `letter`, `email` or `visit`.
    pub informed_how: String,
    /// When the customer was told (RFC 3339).
    pub informed_at: String,
}

/// Closes a complaint: the result, how and when the customer was told; a serious one only with
/// management's written reply. Runs in a `Mode::Feed` transaction.
pub fn close_complaint(tx: &mut dyn Tx, actor: &str, id: &str, req: &CloseRequest) -> Result<Value> {
    let result = req.result.trim();
    if result.is_empty() {
        return Err(Error::Invalid("result: say what was decided and done (it is empty)".into()));
    }
    code_in("informed_how", INFORMED_HOW, &req.informed_how)?;
    let informed_at = time("informed_at", &req.informed_at)?;
    not_future("informed_at", informed_at)?;
    let mut w = Writer::begin(tx)?;
    let f = load_complaint(&mut w, id)?;
    let name = name_of(&f);
    if records::text_of(&f, "status") == Some("closed") {
        return Err(Error::conflict(format!("{name} is already closed")));
    }
    if records::text_of(&f, "severity") == Some("serious") && records::text_of(&f, "written_reply").is_none() {
        return Err(Error::conflict(format!("{name} is serious: it cannot close without management's written reply; an admin adds it first")));
    }
    if records::text_of(&f, "registered_at").is_some_and(|r| ts(informed_at).as_str() < r) {
        return Err(Error::Invalid(format!("informed_at {}: before the complaint was registered", ts(informed_at))));
    }
    let now = crate::now_text();
    write_changed(
        &mut w,
        "complaints",
        id,
        &[("status", json!("closed")), ("result", json!(result)), ("informed_how", json!(req.informed_how)), ("informed_at", json!(ts(informed_at))), ("closed_at", json!(now))],
    )?;
    step(&mut w, id, &now, actor, "closed", Some(result))?;
    w.finish()?;
    audit::record(tx, actor, "complaint_closed", Some("complaints"), Some(id), None, json!({"result": result}))?;
    detail_of(tx, id)
}

pub async fn close(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(req): JsonBody<CloseRequest>) -> Result<Json<Value>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| close_complaint(tx, &actor, &id, &req)).await?))
}

// ---------------------------------------------------------------------------------------------
// Reading

/// What is overdue now: `first_report` and/or `close`.
fn overdue(status: &str, first_report_due: Option<&str>, first_reported_at: Option<&str>, close_due: Option<&str>, now: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    if status == "closed" {
        return out;
    }
    if first_reported_at.is_none() && first_report_due.is_some_and(|d| d < now) {
        out.push("first_report");
    }
    if close_due.is_some_and(|d| d < now) {
        out.push("close");
    }
    out
}

/// One complaint with its tracking log.
pub fn detail_of(tx: &mut dyn Tx, id: &str) -> Result<Value> {
    let c = records::load(tx, "complaints", id)?.filter(|c| c.fields.get("deleted") != Some(&Value::Bool(true)));
    let c = c.ok_or_else(|| Error::NotFound(format!("no complaint '{id}'")))?;
    let f = &c.fields;
    let mut out = f.clone();
    out.remove("deleted");
    out.insert("id".into(), json!(id));
    let customer = records::text_of(f, "customer_id").unwrap_or_default().to_owned();
    let name = tx.query_opt("SELECT name, code FROM reference_index WHERE entity = 'customers' AND id = $1", params![customer.as_str()])?;
    out.insert("customer_name".into(), json!(name.as_ref().map(|r| r.opt_text(0)).transpose()?.flatten()));
    let mut orders = Vec::new();
    for o in f.get("work_order_ids").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        let n = tx.query_opt("SELECT number FROM work_order_index WHERE id = $1", params![o])?;
        orders.push(json!({"id": o, "number": n.map(|r| r.opt_text(0)).transpose()?.flatten()}));
    }
    out.insert("work_orders".into(), json!(orders));
    let now = crate::now_text();
    let t = |k: &str| records::text_of(f, k);
    out.insert("overdue".into(), json!(overdue(t("status").unwrap_or("open"), t("first_report_due"), t("first_reported_at"), t("close_due"), &now)));
    let mut steps: Vec<Value> = records::by_owner(tx, "complaint_steps", id)?
        .into_iter()
        .filter(|(_, s)| s.fields.get("deleted") != Some(&Value::Bool(true)))
        .map(|(sid, s)| {
            let g = |k: &str| s.fields.get(k).cloned().unwrap_or(Value::Null);
            json!({"id": sid, "at": g("at"), "by": g("by"), "kind": g("kind"), "note": g("note")})
        })
        .collect();
    // In time order; steps made in the same millisecond keep the order their ids (UUIDv7) give.
    steps.sort_by(|a, b| (a["at"].as_str(), a["id"].as_str()).cmp(&(b["at"].as_str(), b["id"].as_str())));
    out.insert("steps".into(), json!(steps));
    Ok(Value::Object(out))
}

pub async fn detail(State(s): State<AppState>, _u: ConsoleUser, Path(id): Path<String>) -> Result<Json<Value>> {
    Ok(Json(s.db.run(Mode::Read, move |tx| detail_of(tx, &id)).await?))
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ListQuery {
    /// `open` (default: not closed), `closed`, `overdue` or `all`.
    pub state: Option<String>,
    pub category: Option<String>,
    pub severity: Option<String>,
    pub responsible: Option<String>,
    /// `YYYY-MM`: registered in that month.
    pub month: Option<String>,
    /// Part of the number.
    pub q: Option<String>,
    pub limit: Option<String>,
    #[serde(flatten)]
    pub format: FormatQuery,
}

const LIST_SELECT: &str = "SELECT c.id, c.number, c.source, c.customer_id, r.name, c.category, c.severity, c.foreign_customer, c.responsible, c.status, \
     c.registered_at, c.first_report_due, c.first_reported_at, c.close_due, c.closed_at \
     FROM complaint_index c LEFT JOIN reference_index r ON r.entity = 'customers' AND r.id = c.customer_id";

/// The first and last instants (UTC, as stored) of a month in the company's time.
fn month_bounds(field: &str, m: &str) -> Result<(NaiveDate, String, String)> {
    let bad = || Error::Invalid(format!("{field} '{m}': write a month as YYYY-MM"));
    if m.len() != 7 {
        return Err(bad());
    }
    let first = NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").map_err(|_| bad())?;
    let next = first.checked_add_months(chrono::Months::new(1)).ok_or_else(bad)?;
    let at = |d: NaiveDate| {
        Local.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight")).earliest().map(|t| ts(t.to_utc())).ok_or_else(bad)
    };
    Ok((first, at(first)?, at(next)?))
}

/// The complaints a filter picks: what is overdue first (by its closing deadline), then the rest
/// by closing deadline (open) or newest first (closed). At most `limit`.
pub fn list_of(tx: &mut dyn Tx, q: &ListQuery, limit: usize) -> Result<(Vec<Value>, bool)> {
    let now = crate::now_text();
    let mut sql = super::Sql::new(LIST_SELECT);
    sql.push(" WHERE c.deleted = 0");
    let p_now = sql.bind(now.as_str());
    let overdue_sql = format!("(c.status <> 'closed' AND (c.close_due < {p_now} OR (c.first_reported_at IS NULL AND c.first_report_due < {p_now})))");
    match q.state.as_deref().filter(|s| !s.is_empty()).unwrap_or("open") {
        "open" => {
            sql.push(" AND c.status <> 'closed'");
        }
        "closed" => {
            sql.push(" AND c.status = 'closed'");
        }
        "overdue" => {
            sql.push(&format!(" AND {overdue_sql}"));
        }
        "all" => {}
        other => return Err(Error::Invalid(format!("state '{other}': use open, closed, overdue or all"))),
    }
    for (field, list, v) in [("category", CATEGORIES, &q.category), ("severity", SEVERITIES, &q.severity)] {
        if let Some(v) = v.as_deref().filter(|s| !s.is_empty()) {
            code_in(field, list, v)?;
            let p = sql.bind(v);
            sql.push(&format!(" AND c.{field} = {p}"));
        }
    }
    if let Some(r) = q.responsible.as_deref().filter(|s| !s.is_empty()) {
        let p = sql.bind(super::search_text("responsible", r)?);
        sql.push(&format!(" AND c.responsible = {p}"));
    }
    if let Some(m) = q.month.as_deref().filter(|s| !s.is_empty()) {
        let (_, from, to) = month_bounds("month", m)?;
        let (a, b) = (sql.bind(from), sql.bind(to));
        sql.push(&format!(" AND c.registered_at >= {a} AND c.registered_at < {b}"));
    }
    if let Some(text) = q.q.as_deref().filter(|s| !s.is_empty()) {
        let p = sql.bind(format!("%{}%", super::search_text("q", text)?.replace(['%', '_', '\\'], "")));
        sql.push(&format!(" AND c.number LIKE {p}"));
    }
    let p_limit = sql.bind((limit + 1) as i64);
    sql.push(&format!(
        " ORDER BY CASE WHEN {overdue_sql} THEN 0 WHEN c.status <> 'closed' THEN 1 ELSE 2 END, \
         CASE WHEN c.status <> 'closed' THEN c.close_due END, c.registered_at DESC, c.id LIMIT {p_limit}"
    ));
    let rows = tx.query(&sql.text, &sql.params)?;
    let more = rows.len() > limit;
    let items = rows
        .iter()
        .take(limit)
        .map(|r| {
            let status = r.text(9)?;
            let (frd, fra, cd) = (r.opt_text(11)?, r.opt_text(12)?, r.opt_text(13)?);
            let late = overdue(&status, frd.as_deref(), fra.as_deref(), cd.as_deref(), &now);
            Ok(json!({
                "id": r.text(0)?, "number": r.text(1)?, "source": r.opt_text(2)?, "customer_id": r.opt_text(3)?, "customer_name": r.opt_text(4)?,
                "category": r.opt_text(5)?, "severity": r.opt_text(6)?, "foreign_customer": r.int(7)? != 0, "responsible": r.opt_text(8)?,
                "status": status, "registered_at": r.text(10)?, "first_report_due": frd, "first_reported_at": fra, "close_due": cd,
                "closed_at": r.opt_text(14)?, "reminder": !late.is_empty(), "overdue": late,
            }))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((items, more))
}

const CSV_COLUMNS: &[(&str, &str, &str)] = &[
    ("number", "Number", "编号"),
    ("status", "Status", "状态"),
    ("reminder", "Overdue", "超期催办"),
    ("customer_name", "Customer", "客户"),
    ("category", "Category", "类别"),
    ("severity", "Severity", "严重程度"),
    ("responsible", "Responsible", "责任人"),
    ("registered_at", "Registered", "登记时间"),
    ("first_report_due", "First report due", "首次报告期限"),
    ("first_reported_at", "First report", "首次报告时间"),
    ("close_due", "Close by", "结案期限"),
    ("closed_at", "Closed", "结案时间"),
];

pub async fn list(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<ListQuery>) -> Result<Response> {
    let csv_out = q.format.csv()?;
    let limit = match q.limit.as_deref().filter(|s| !s.is_empty()) {
        None if csv_out => 1_000_000,
        None => 200,
        Some(n) => n.parse::<usize>().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| Error::Invalid(format!("limit '{n}': use 1 to 1000")))?,
    };
    let zh = q.format.lang.as_deref() == Some("zh");
    let (items, more) = s.db.run(Mode::Read, move |tx| list_of(tx, &q, limit)).await?;
    if csv_out {
        return Ok(csv::table("complaints.csv", CSV_COLUMNS, &items, zh));
    }
    Ok(Json(json!({"items": items, "more": more})).into_response())
}

// ---------------------------------------------------------------------------------------------
// The result notice

pub fn notice_of(tx: &mut dyn Tx, id: &str) -> Result<(String, Vec<u8>)> {
    let d = detail_of(tx, id)?;
    let t = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
    let number = t("number").unwrap_or_default();
    if t("status").as_deref() != Some("closed") {
        return Err(Error::conflict(format!("complaint {number} is not closed yet: the result notice tells the customer the result")));
    }
    let when = |k: &str| -> Result<DateTime<Utc>> { time(k, &t(k).unwrap_or_default()) };
    let label = |kind: &str| match kind {
        "first_report" => "首次报告 / First report",
        _ => "管理层书面答复 / Management's written reply",
    };
    let actions = d["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| matches!(s["kind"].as_str(), Some("first_report" | "written_reply")))
        .map(|s| Ok((time("at", s["at"].as_str().unwrap_or_default())?, label(s["kind"].as_str().unwrap_or_default()).to_owned(), s["note"].as_str().unwrap_or_default().to_owned())))
        .collect::<Result<Vec<_>>>()?;
    let customer_id = t("customer_id").unwrap_or_default();
    let code = tx.query_opt("SELECT code FROM reference_index WHERE entity = 'customers' AND id = $1", params![customer_id.as_str()])?.map(|r| r.opt_text(0)).transpose()?.flatten();
    let customer = match (t("customer_name"), code) {
        (Some(n), Some(c)) => format!("{n} ({c})"),
        (Some(n), None) => n,
        _ => customer_id,
    };
    let notice = complaint_notice::Notice {
        number: number.clone(),
        customer,
        registered_at: when("registered_at")?,
        category: t("category").unwrap_or_default(),
        severity: t("severity").unwrap_or_default(),
        work_orders: d["work_orders"].as_array().into_iter().flatten().map(|o| o["number"].as_str().or(o["id"].as_str()).unwrap_or_default().to_owned()).collect(),
        description: t("description").unwrap_or_default(),
        actions,
        result: t("result").unwrap_or_default(),
        informed_how: t("informed_how").unwrap_or_default(),
        informed_at: when("informed_at")?,
        closed_at: when("closed_at")?,
    };
    let company = tx
        .query_opt("SELECT value FROM settings WHERE key = 'company'", params![])?
        .map(|r| r.text(0))
        .transpose()?
        .and_then(|v| serde_json::from_str::<fieldbook_core::import::Company>(&v).ok());
    let pdf = complaint_notice::render(&notice, company.as_ref()).map_err(|e| Error::Internal(format!("the result notice of complaint {number}: {e}")))?;
    Ok((number, pdf))
}

pub async fn notice(State(s): State<AppState>, _u: ConsoleUser, Path(id): Path<String>) -> Result<Response> {
    let (number, pdf) = s.db.run(Mode::Read, move |tx| notice_of(tx, &id)).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/pdf".to_owned()), (header::CONTENT_DISPOSITION, format!("inline; filename=\"complaint-{number}.pdf\""))],
        pdf,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// Monthly statistics

#[derive(Debug, Deserialize)]
pub struct StatsQuery {
    /// `YYYY-MM`; default: last month (the one whose statistics are due this month).
    pub month: Option<String>,
    #[serde(flatten)]
    pub format: FormatQuery,
}

/// The statistics of the complaints registered in a month: counts by category and by the person
/// responsible, how many closed, the average days to close and the share closed in time; due by
/// the 10th of the next month.
pub fn stats_of(tx: &mut dyn Tx, month: &str) -> Result<Value> {
    let (first, from, to) = month_bounds("month", month)?;
    let rows = tx.query(
        "SELECT category, responsible, status, registered_at, close_due, closed_at FROM complaint_index \
         WHERE deleted = 0 AND registered_at >= $1 AND registered_at < $2",
        params![from, to],
    )?;
    let mut by_category: std::collections::BTreeMap<String, i64> = CATEGORIES.iter().map(|(c, _, _)| ((*c).to_owned(), 0)).collect();
    let mut by_responsible: std::collections::BTreeMap<String, i64> = Default::default();
    let (mut closed, mut in_time, mut days) = (0i64, 0i64, 0f64);
    for r in &rows {
        *by_category.entry(r.opt_text(0)?.unwrap_or_else(|| "other".into())).or_default() += 1;
        *by_responsible.entry(r.opt_text(1)?.unwrap_or_default()).or_default() += 1;
        if let Some(c) = r.opt_text(5)? {
            closed += 1;
            let reg = time("registered_at", &r.text(3)?)?;
            days += (time("closed_at", &c)? - reg).num_seconds() as f64 / 86_400.0;
            if r.opt_text(4)?.is_some_and(|due| c <= due) {
                in_time += 1;
            }
        }
    }
    let due = first.checked_add_months(chrono::Months::new(1)).and_then(|m| m.with_day(10)).expect("a month has a 10th");
    let total = rows.len() as i64;
    Ok(json!({
        "month": month,
        "due_on": due.to_string(),
        "total": total,
        "closed": closed,
        "open": total - closed,
        "by_category": by_category.into_iter().map(|(k, n)| json!({"category": k, "count": n})).collect::<Vec<_>>(),
        "by_responsible": by_responsible.into_iter().map(|(k, n)| json!({"responsible": if k.is_empty() { Value::Null } else { json!(k) }, "count": n})).collect::<Vec<_>>(),
        "average_days_to_close": if closed > 0 { json!((days / closed as f64 * 10.0).round() / 10.0) } else { Value::Null },
        "closed_in_time": in_time,
        "closed_in_time_share": if closed > 0 { json!(in_time as f64 / closed as f64) } else { Value::Null },
    }))
}

pub async fn stats(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<StatsQuery>) -> Result<Response> {
    let csv_out = q.format.csv()?;
    let month = match q.month.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => m.to_owned(),
        None => {
            let today = Local::now().date_naive().with_day(1).expect("first");
            today.checked_sub_months(chrono::Months::new(1)).expect("a month before").format("%Y-%m").to_string()
        }
    };
    let zh = q.format.lang.as_deref() == Some("zh");
    let m = month.clone();
    let st = s.db.run(Mode::Read, move |tx| stats_of(tx, &m)).await?;
    if csv_out {
        // One row per figure: the grouping, its key, the value.
        let mut rows = Vec::new();
        for c in st["by_category"].as_array().into_iter().flatten() {
            rows.push(json!({"month": month, "measure": "category", "key": c["category"], "value": c["count"]}));
        }
        for c in st["by_responsible"].as_array().into_iter().flatten() {
            rows.push(json!({"month": month, "measure": "responsible", "key": c["responsible"], "value": c["count"]}));
        }
        for k in ["total", "closed", "open", "average_days_to_close", "closed_in_time", "closed_in_time_share"] {
            rows.push(json!({"month": month, "measure": k, "key": null, "value": st[k]}));
        }
        let cols: &[(&str, &str, &str)] = &[("month", "Month", "月份"), ("measure", "Measure", "指标"), ("key", "Key", "分组"), ("value", "Value", "数值")];
        return Ok(csv::table(&format!("complaints-{month}.csv"), cols, &rows, zh));
    }
    Ok(Json(st).into_response())
}
