//! Return visits (回访, #11): every completed repair call gets one, due a configurable number of
//! days after completion (setting `return_visit_days`, default [`DEFAULT_DAYS`]). The record is
//! made by the feed writer itself ([`ensure_for_order`], called from `Writer::apply` when a
//! repair call's order is written completed), so whoever completes the order — a laptop's push,
//! an import, the console — makes it, in the same transaction; its id is derived from the order
//! ([`visit_id`]), so it is made once however often the completion is pushed, and never again
//! after the desk deleted it.
//!
//! The desk's side: the list (due first; open, done or all; technician, in warranty, due by;
//! CSV), recording the visit (who answered, solved or not, a note; the desk login and time), the
//! satisfaction card taken by phone (a `satisfaction_cards` record with `taken_by` = the desk
//! login, which reaches the technician's laptop like any card; refused when the order has a card
//! already), and "not solved": a new urgent repair call for the same site and assets, a follow-up
//! of the order, linked from the visit (`new_call_id`, the new work order's id).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Duration, Local};
use fieldbook_core::sync::merge::Stamps;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::calls::{register_call, NewCall};
use super::review::write_fresh;
use super::{audit, csv, date, encode_cursor, ConsoleUser, FormatQuery, PageQuery, Sql};
use crate::api::{AppState, JsonBody};
use crate::db::{Mode, Row, Tx};
use crate::error::{Error, Result};
use crate::feed::{Change, Writer};
use crate::records::{self, Stored};
use crate::params;

/// The `settings` key of the days between completion and the return visit.
pub const SETTING: &str = "return_visit_days";
pub const DEFAULT_DAYS: u32 = 3;
pub const MAX_DAYS: u32 = 90;

/// Days from completion to the visit.
pub fn days(tx: &mut dyn Tx) -> Result<u32> {
    let Some(r) = tx.query_opt("SELECT value FROM settings WHERE key = $1", params![SETTING])? else { return Ok(DEFAULT_DAYS) };
    let v = r.text(0)?;
    v.trim().parse::<u32>().ok().filter(|d| (1..=MAX_DAYS).contains(d)).ok_or_else(|| {
        Error::Internal(format!("the setting {SETTING} is '{v}', not a number of days from 1 to {MAX_DAYS}; set it again in the console's settings"))
    })
}

pub fn set_days(tx: &mut dyn Tx, days: u32) -> Result<()> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(Error::Invalid(format!("return_visit_days: {days} is not a delay; give a number of days from 1 to {MAX_DAYS}")));
    }
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![SETTING, days.to_string()],
    )
    .map(drop)
}

/// The return visit of an order: one per order, whoever completes it.
pub fn visit_id(order_id: &str) -> String {
    format!("{order_id}.rv")
}

/// Makes the order's return visit if the order is a completed repair call without one. Called by
/// the feed writer after every change of a work order, in its transaction.
pub fn ensure_for_order(w: &mut Writer<'_>, order_id: &str, order: &Stored) -> Result<()> {
    if order.text("kind")? != Some("repair_call") || !matches!(order.text("status")?, Some("completed" | "signed")) {
        return Ok(());
    }
    if order.fields()?.get("deleted") == Some(&Value::Bool(true)) {
        return Ok(());
    }
    let completed = order.text("completed_at")?.and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    let id = visit_id(order_id);
    if w.load("return_visits", &id)?.is_some() {
        return Ok(());
    }
    let completed = completed.map(|t| t.with_timezone(&Local).date_naive()).unwrap_or_else(|| Local::now().date_naive());
    let due = completed + Duration::days(days(w.tx_unbuffered())? as i64);
    let fields: Map<String, Value> = [
        ("work_order_id", json!(order_id)),
        ("due_on", json!(due.to_string())),
        ("status", json!("open")),
        ("deleted", json!(false)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let stamp = w.tick();
    w.apply(&Change { entity: "return_visits", id: &id, fields: &fields, stamps: Stamps::All(&stamp), base: None, author: None })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The desk's list

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Visit {
    pub id: String,
    pub work_order_id: String,
    pub number: Option<String>,
    pub problem: Option<String>,
    pub technician: Option<String>,
    pub technician_name: Option<String>,
    pub customer_id: Option<String>,
    pub customer_name: Option<String>,
    pub in_warranty: bool,
    pub completed_at: Option<String>,
    pub due_on: String,
    /// Open and due before today.
    pub overdue: bool,
    pub status: String,
    pub visited_at: Option<String>,
    pub solved: Option<bool>,
    pub new_call_id: Option<String>,
    pub new_call_number: Option<String>,
    /// The order has a satisfaction card (on site or by phone).
    pub has_card: bool,
    /// The complaint just registered from this visit (only in the answer to recording it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complaint_number: Option<String>,
}

pub const COLUMNS: csv::Columns = &[
    ("number", "Work order", "工单号"),
    ("customer_name", "Customer", "客户"),
    ("technician", "Technician", "技术员"),
    ("in_warranty", "In warranty", "保修期内"),
    ("completed_at", "Completed", "完成时间"),
    ("due_on", "Due", "回访日期"),
    ("overdue", "Overdue", "逾期"),
    ("status", "Status", "状态"),
    ("visited_at", "Visited", "回访时间"),
    ("solved", "Solved", "已解决"),
    ("new_call_number", "New call", "新报修"),
    ("has_card", "Card", "满意度卡"),
    ("problem", "Problem", "问题"),
    ("id", "ID", "ID"),
];

/// `has_card` is a scalar subquery with LIMIT, looked up per visit shown: as `EXISTS` PostgreSQL
/// hashes every card of every order first (180 ms at a million orders).
const SELECT: &str = "SELECT v.id, v.work_order_id, w.number, w.problem, v.technician, u.display_name, v.customer_id, c.name, v.in_warranty, v.completed_at, \
     v.due_on, v.status, v.visited_at, v.solved, v.new_call_id, n.number, \
     COALESCE((SELECT 1 FROM work_item_index i WHERE i.work_order_id = v.work_order_id AND i.entity = 'satisfaction_cards' AND i.deleted = 0 LIMIT 1), 0) \
     FROM return_visit_index v \
     LEFT JOIN work_order_index w ON w.id = v.work_order_id \
     LEFT JOIN users u ON u.login = v.technician \
     LEFT JOIN reference_index c ON c.entity = 'customers' AND c.id = v.customer_id \
     LEFT JOIN work_order_index n ON n.id = v.new_call_id";

fn visit(r: &Row, today: &str) -> Result<Visit> {
    let status = r.text(11)?;
    let due_on = r.text(10)?;
    Ok(Visit {
        id: r.text(0)?,
        work_order_id: r.text(1)?,
        number: r.opt_text(2)?,
        problem: r.opt_text(3)?,
        technician: r.opt_text(4)?,
        technician_name: r.opt_text(5)?,
        customer_id: r.opt_text(6)?,
        customer_name: r.opt_text(7)?,
        in_warranty: r.int(8)? != 0,
        completed_at: r.opt_text(9)?,
        overdue: status == "open" && due_on.as_str() < today,
        due_on,
        status,
        visited_at: r.opt_text(12)?,
        solved: r.opt_int(13)?.map(|s| s != 0),
        new_call_id: r.opt_text(14)?,
        new_call_number: r.opt_text(15)?,
        has_card: r.int(16)? != 0,
        complaint_number: None,
    })
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ListQuery {
    /// open (default), done or all.
    pub status: Option<String>,
    pub technician: Option<String>,
    /// `1`/`true`: only orders inside warranty (category C).
    pub in_warranty: Option<String>,
    /// Only visits due on or before this day.
    pub due_by: Option<String>,
    #[serde(flatten)]
    pub page: PageQuery,
    #[serde(flatten)]
    pub format: FormatQuery,
}

fn today() -> String {
    Local::now().date_naive().to_string()
}

/// One page of the list, due first: (visits, the cursor after the last when there are more).
pub fn page(tx: &mut dyn Tx, q: &ListQuery, after: Option<&[String]>, limit: usize) -> Result<(Vec<Value>, Option<Vec<String>>)> {
    let mut sql = Sql::new(SELECT);
    sql.push(" WHERE v.deleted = 0");
    match q.status.as_deref().filter(|s| !s.is_empty()).unwrap_or("open") {
        "all" => {}
        s @ ("open" | "done") => {
            let p = sql.bind(s);
            sql.push(&format!(" AND v.status = {p}"));
        }
        other => return Err(Error::Invalid(format!("status '{other}': use open, done or all"))),
    }
    if let Some(t) = q.technician.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let p = sql.bind(t);
        sql.push(&format!(" AND v.technician = {p}"));
    }
    match q.in_warranty.as_deref().filter(|s| !s.is_empty()) {
        None | Some("0" | "false") => {}
        Some("1" | "true") => {
            sql.push(" AND v.in_warranty = 1");
        }
        Some(o) => return Err(Error::Invalid(format!("in_warranty '{o}': use 1 for orders inside warranty only, or leave it out"))),
    }
    if let Some(d) = date("due_by", q.due_by.as_deref())? {
        let p = sql.bind(d.to_string());
        sql.push(&format!(" AND v.due_on <= {p}"));
    }
    if let Some(a) = after {
        let [due, id] = a else { return Err(Error::Invalid("after: not a cursor of this list; start again without ?after".into())) };
        let (pd, pi) = (sql.bind(due.as_str()), sql.bind(id.as_str()));
        sql.push(&format!(" AND (v.due_on > {pd} OR (v.due_on = {pd} AND v.id > {pi}))"));
    }
    let p = sql.bind((limit + 1) as i64);
    sql.push(&format!(" ORDER BY v.due_on, v.id LIMIT {p}"));
    let rows = tx.query(&sql.text, &sql.params)?;
    let today = today();
    let mut visits: Vec<Visit> = rows.iter().map(|r| visit(r, &today)).collect::<Result<_>>()?;
    let next = if visits.len() > limit {
        visits.truncate(limit);
        visits.last().map(|v| vec![v.due_on.clone(), v.id.clone()])
    } else {
        None
    };
    Ok((visits.into_iter().map(|v| serde_json::to_value(v).expect("serialises")).collect(), next))
}

pub async fn list(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<ListQuery>) -> Result<Response> {
    if q.format.csv()? {
        let zh = q.format.lang.as_deref() == Some("zh");
        date("due_by", q.due_by.as_deref())?;
        return csv::stream_pages(s.db.clone(), "return-visits.csv", COLUMNS, zh, move |tx, after| page(tx, &q, after.as_deref(), 2000));
    }
    let (limit, after) = (q.page.limit()?, q.page.after()?);
    let (items, next) = s.db.run(Mode::Read, move |tx| page(tx, &q, after.as_deref(), limit)).await?;
    Ok(super::page_response(items, next.map(|n| encode_cursor(&n.iter().map(String::as_str).collect::<Vec<_>>()))))
}

/// One visit as the list shows it.
pub fn visit_of(tx: &mut dyn Tx, id: &str) -> Result<Visit> {
    let r = tx.query_opt(&format!("{SELECT} WHERE v.id = $1"), params![id])?.ok_or_else(|| Error::NotFound(format!("no return visit '{id}'")))?;
    visit(&r, &today())
}

pub async fn one(State(s): State<AppState>, _u: ConsoleUser, Path(id): Path<String>) -> Result<Json<Visit>> {
    Ok(Json(s.db.run(Mode::Read, move |tx| visit_of(tx, &id)).await?))
}

// ---------------------------------------------------------------------------------------------
// Recording a visit

#[derive(Debug, Clone, Deserialize)]
pub struct CardByPhone {
    pub attitude: i64,
    pub skill: i64,
    pub arrival: i64,
    pub promise: i64,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VisitRecord {
    pub answered_by: String,
    pub solved: bool,
    pub note: Option<String>,
    /// The satisfaction card, taken by phone.
    pub card: Option<CardByPhone>,
    /// The customer complains on the phone: a complaint is registered with the visit as its
    /// source (its description the note, unless given).
    #[serde(default)]
    pub complaint: Option<VisitComplaint>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VisitComplaint {
    #[serde(default)]
    pub description: Option<String>,
    pub category: String,
    pub severity: String,
    #[serde(default)]
    pub foreign_customer: bool,
}

/// Records the desk's call. Runs in a `Mode::Feed` transaction.
pub fn record_visit(tx: &mut dyn Tx, actor: &str, id: &str, req: &VisitRecord) -> Result<Visit> {
    let answered_by = req.answered_by.trim();
    if answered_by.is_empty() {
        return Err(Error::Invalid("answered_by: say who answered the phone (it is empty)".into()));
    }
    if answered_by.chars().count() > 200 {
        return Err(Error::Invalid("answered_by: at most 200 characters".into()));
    }
    let note = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 4000) {
        return Err(Error::Invalid("note: at most 4000 characters".into()));
    }
    if !req.solved && note.is_none() {
        return Err(Error::Invalid("note: say what is still wrong (a problem not solved opens a new call with this note)".into()));
    }
    if let Some(c) = &req.card {
        for (k, v) in [("attitude", c.attitude), ("skill", c.skill), ("arrival", c.arrival), ("promise", c.promise)] {
            if !(1..=4).contains(&v) {
                return Err(Error::Invalid(format!("card.{k}: {v} is not a rating; use 1 (dissatisfied) to 4 (very satisfied)")));
            }
        }
        if c.comment.as_deref().is_some_and(|t| t.chars().count() > 4000) {
            return Err(Error::Invalid("card.comment: at most 4000 characters".into()));
        }
    }
    let stored = records::load(tx, "return_visits", id)?.ok_or_else(|| Error::NotFound(format!("no return visit '{id}'")))?;
    let vf = stored.fields;
    if vf.get("deleted") == Some(&Value::Bool(true)) {
        return Err(Error::NotFound(format!("no return visit '{id}' (it was deleted)")));
    }
    let order_id = records::text_of(&vf, "work_order_id").unwrap_or_default().to_owned();
    let order = records::load(tx, "work_orders", &order_id)?.ok_or_else(|| Error::NotFound(format!("the return visit's work order '{order_id}' is not there")))?;
    let of = order.fields;
    let number = records::order_name(&order_id, Some(&of));
    if records::text_of(&vf, "status") == Some("done") {
        return Err(Error::conflict(format!("the return visit of {number} is recorded already; reload the list")));
    }
    if req.card.is_some() {
        let has_card = records::by_owner(tx, "satisfaction_cards", &order_id)?.iter().any(|(_, c)| c.fields.get("deleted") != Some(&Value::Bool(true)));
        if has_card {
            return Err(Error::conflict(format!("{number} has a satisfaction card already (taken on site or by phone); record the visit without a card")));
        }
    }
    let now = crate::now_text();
    let mut new_call_id = None;
    if !req.solved {
        // A new repair call, urgent, for the same place and equipment; a follow-up of the order.
        let s = |k: &str| records::text_of(&of, k).unwrap_or_default().to_owned();
        let assets: Vec<String> = of.get("asset_ids").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default();
        let customer = records::load(tx, "customers", &s("customer_id"))?;
        let customer_phone = customer.as_ref().and_then(|c| records::text(c, "phone")).unwrap_or_default().to_owned();
        let call = NewCall {
            // The desk phoned the customer; whoever answered is the caller of the new call.
            channel: "phone".into(),
            call_type: "repair".into(),
            caller_name: answered_by.to_owned(),
            caller_phone: customer_phone,
            customer_id: Some(s("customer_id")),
            site_id: Some(s("site_id")),
            asset_ids: assets,
            problem: format!("回访未解决 / return visit: not solved ({}): {}", records::text_of(&of, "number").unwrap_or(&order_id), note.unwrap_or_default()),
            reported_at: now.clone(),
            priority: Some("urgent".into()),
            kind: Some("repair_call".into()),
            category: records::text_of(&of, "category").map(str::to_owned),
            follows_order_id: Some(order_id.clone()),
            return_visit_id: Some(id.to_owned()),
            ..NewCall::default()
        };
        let made = register_call(tx, actor, &call)?;
        let created = made.work_order.ok_or_else(|| Error::Internal("a repair call registered without its work order".into()))?;
        let mut w = Writer::begin(tx)?;
        write_fresh(&mut w, "work_orders", &created.id, &[("follow_up_of", json!(order_id))])?;
        w.finish()?;
        // The visit links the new call's work order (the call and its order share one number).
        new_call_id = Some(created.id);
    }
    let mut w = Writer::begin(tx)?;
    let mut card_id = None;
    if let Some(c) = &req.card {
        let cid = uuid::Uuid::now_v7().to_string();
        write_fresh(
            &mut w,
            "satisfaction_cards",
            &cid,
            &[
                ("work_order_id", json!(order_id)),
                ("attitude", json!(c.attitude)),
                ("skill", json!(c.skill)),
                ("arrival", json!(c.arrival)),
                ("promise", json!(c.promise)),
                ("comment", json!(c.comment.as_deref().map(str::trim).filter(|t| !t.is_empty()))),
                ("rated_at", json!(now)),
                ("taken_by", json!(actor)),
                ("deleted", json!(false)),
            ],
        )?;
        card_id = Some(cid);
    }
    write_fresh(
        &mut w,
        "return_visits",
        id,
        &[
            ("status", json!("done")),
            ("visited_at", json!(now)),
            ("visited_by", json!(actor)),
            ("answered_by", json!(answered_by)),
            ("solved", json!(req.solved)),
            ("note", json!(note)),
            ("card_id", json!(card_id)),
            ("new_call_id", json!(new_call_id)),
        ],
    )?;
    w.finish()?;
    // A complaint made on the phone: registered with this visit as its source, in the same
    // transaction (a complaint the complaints' rules refuse records no visit either).
    let mut complaint_number = None;
    if let Some(c) = &req.complaint {
        let description = c.description.as_deref().map(str::trim).filter(|d| !d.is_empty()).or(note).unwrap_or_default();
        let new = super::complaints::NewComplaint {
            source: "return_visit".into(),
            source_id: Some(id.to_owned()),
            customer_id: records::text_of(&of, "customer_id").unwrap_or_default().to_owned(),
            work_order_ids: vec![order_id.clone()],
            description: description.to_owned(),
            category: c.category.clone(),
            severity: c.severity.clone(),
            foreign_customer: c.foreign_customer,
            ..Default::default()
        };
        let opened = super::complaints::open_complaint(tx, actor, &new)?;
        complaint_number = opened["number"].as_str().map(str::to_owned);
    }
    audit::record(
        tx,
        actor,
        "return_visit",
        Some("return_visits"),
        Some(id),
        Some(&order_id),
        json!({"number": number, "answered_by": answered_by, "solved": req.solved, "card": card_id.is_some(), "new_call_id": new_call_id, "complaint": complaint_number}),
    )?;
    let mut visit = visit_of(tx, id)?;
    visit.complaint_number = complaint_number;
    Ok(visit)
}

pub async fn record(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(req): JsonBody<VisitRecord>) -> Result<Json<Visit>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| record_visit(tx, &actor, &id, &req)).await?))
}
