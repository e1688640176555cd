//! Escalations and repairs past their expected completion (#11), for the supervisor's desk.
//!
//! - An escalation is a technician's request, raised on the laptop from a repair, for the
//!   supervisor or an engineer (entity `escalations`, pushed like any record; projected into
//!   `escalation_index` by [`super::desk_index`]). The list puts open ones first (then
//!   acknowledged, then resolved), oldest first within each. The office answers — acknowledged
//!   (someone is on it) or resolved (with a response) — as a write of the record's office fields
//!   (`status`, `response`, `answered_by`, `answered_at`) through the feed writer with a fresh
//!   server stamp, so the technician's laptop pulls the answer. A resolved escalation is closed.
//! - A repair is **past its expected completion** when it is a repair call the technician has
//!   arrived at (`arrived_at` set, status still `on_site`) and has not completed within
//!   `repair_expected_hours` clock hours of arriving (an admin setting, `settings` key
//!   [`SETTING`], default [`DEFAULT_HOURS`]). Clock hours, not working hours: once on site the
//!   technician is working, whatever the calendar says.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::review::write_fresh;
use super::{audit, csv, encode_cursor, ConsoleUser, FormatQuery, PageQuery, Sql};
use crate::api::{AppState, JsonBody};
use crate::db::{Mode, Tx};
use crate::error::{Error, Result};
use crate::feed::Writer;
use crate::{params, records};

/// The `settings` key of the hours a repair is expected to take once the technician is on site.
pub const SETTING: &str = "repair_expected_hours";
/// Half a working day: the handbooks expect a repair call to be finished at the first visit.
pub const DEFAULT_HOURS: u32 = 4;
/// The longest expectation accepted: a week on site is no longer an expectation.
pub const MAX_HOURS: u32 = 168;
/// Longest office response, in characters (the policy's long text).
const MAX_RESPONSE: usize = 4_000;

/// The hours a repair is expected to take once the technician has arrived.
pub fn expected_hours(tx: &mut dyn Tx) -> Result<u32> {
    let Some(r) = tx.query_opt("SELECT value FROM settings WHERE key = $1", params![SETTING])? else { return Ok(DEFAULT_HOURS) };
    let v = r.text(0)?;
    v.trim().parse::<u32>().ok().filter(|h| (1..=MAX_HOURS).contains(h)).ok_or_else(|| {
        Error::Internal(format!("the setting {SETTING} is '{v}', not a number of hours from 1 to {MAX_HOURS}; set it again in the console's settings"))
    })
}

/// Sets the hours a repair is expected to take on site.
pub fn set_expected_hours(tx: &mut dyn Tx, hours: u32) -> Result<()> {
    if !(1..=MAX_HOURS).contains(&hours) {
        return Err(Error::Invalid(format!("{SETTING}: {hours} is not an expectation; give a number of hours from 1 to {MAX_HOURS}")));
    }
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![SETTING, hours.to_string()],
    )
    .map(drop)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EscalationItem {
    pub id: String,
    pub work_order_id: String,
    pub number: Option<String>,
    pub customer_name: Option<String>,
    pub site_name: Option<String>,
    pub technician: Option<String>,
    pub technician_name: Option<String>,
    pub repair_record_id: Option<String>,
    /// The escalated repair's fault, as the technician recorded it.
    pub repair_fault: Option<String>,
    pub escalate_to: Option<String>,
    pub note: Option<String>,
    pub raised_at: String,
    pub status: String,
    pub response: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<String>,
}

pub const COLUMNS: csv::Columns = &[
    ("number", "Work order", "工单号"),
    ("customer_name", "Customer", "客户"),
    ("site_name", "Site", "地点"),
    ("technician", "Technician", "技术员"),
    ("technician_name", "Technician name", "技术员姓名"),
    ("escalate_to", "Escalated to", "升级给"),
    ("repair_fault", "Repair (fault)", "维修(故障)"),
    ("note", "Technician's note", "技术员说明"),
    ("raised_at", "Raised", "提出时间"),
    ("status", "Status", "状态"),
    ("response", "Response", "答复"),
    ("answered_by", "Answered by", "答复人"),
    ("answered_at", "Answered", "答复时间"),
];

const STATUSES: &[&str] = &["open", "acknowledged", "resolved"];
/// Open first, then acknowledged, then resolved.
const RANK: &str = "(CASE e.status WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END)";

const SELECT: &str = "SELECT e.id, e.work_order_id, w.number, c.name, s.name, e.technician, u.display_name, e.repair_record_id, e.escalate_to, \
     e.raised_at, e.status, e.answered_at, (CASE e.status WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END) \
     FROM escalation_index e \
     LEFT JOIN work_order_index w ON w.id = e.work_order_id \
     LEFT JOIN users u ON u.login = e.technician \
     LEFT JOIN reference_index c ON c.entity = 'customers' AND c.id = w.customer_id \
     LEFT JOIN reference_index s ON s.entity = 'sites' AND s.id = w.site_id";

fn item(tx: &mut dyn Tx, r: &crate::db::Row) -> Result<(EscalationItem, i64)> {
    let id = r.text(0)?;
    let fields = records::load(tx, "escalations", &id)?.map(|s| s.fields).unwrap_or_default();
    let repair_record_id = r.opt_text(7)?;
    let repair_fault = match &repair_record_id {
        Some(rid) => records::load(tx, "repair_records", rid)?.and_then(|s| records::text_of(&s.fields, "fault").map(str::to_owned)),
        None => None,
    };
    let t = |k: &str| records::text_of(&fields, k).map(str::to_owned);
    Ok((
        EscalationItem {
            work_order_id: r.text(1)?,
            number: r.opt_text(2)?,
            customer_name: r.opt_text(3)?,
            site_name: r.opt_text(4)?,
            technician: r.opt_text(5)?,
            technician_name: r.opt_text(6)?,
            repair_record_id,
            repair_fault,
            escalate_to: r.opt_text(8)?,
            note: t("note"),
            raised_at: r.text(9)?,
            status: r.text(10)?,
            response: t("response"),
            answered_by: t("answered_by"),
            answered_at: r.opt_text(11)?,
            id,
        },
        r.int(12)?,
    ))
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ListQuery {
    /// `open`, `acknowledged`, `resolved`; none: all, open first.
    pub status: Option<String>,
    #[serde(flatten)]
    pub page: PageQuery,
    #[serde(flatten)]
    pub format: FormatQuery,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EscalationPage {
    pub items: Vec<EscalationItem>,
    pub next: Option<String>,
    /// Open escalations in all, whatever the filter and page.
    pub open: i64,
}

/// One page of escalations: open first, oldest first within a status.
pub fn list_of(tx: &mut dyn Tx, status: Option<&str>, limit: usize, after: Option<&[String]>) -> Result<EscalationPage> {
    let mut sql = Sql::new(SELECT);
    sql.push(" WHERE e.deleted = 0");
    if let Some(st) = status {
        let p = sql.bind(st);
        sql.push(&format!(" AND e.status = {p}"));
    }
    if let Some(a) = after {
        let [rank, raised, id] = a else { return Err(Error::Invalid("after: not a cursor from this list; start again without ?after".into())) };
        let rank: i64 = rank.parse().map_err(|_| Error::Invalid("after: not a cursor from this list; start again without ?after".into()))?;
        let (p1, p2, p3) = (sql.bind(rank), sql.bind(raised.as_str()), sql.bind(id.as_str()));
        sql.push(&format!(" AND ({RANK} > {p1} OR ({RANK} = {p1} AND (e.raised_at > {p2} OR (e.raised_at = {p2} AND e.id > {p3}))))"));
    }
    let p = sql.bind(limit as i64 + 1);
    sql.push(&format!(" ORDER BY {RANK}, e.raised_at, e.id LIMIT {p}"));
    let rows = tx.query(&sql.text, &sql.params)?;
    let mut items = Vec::new();
    let mut last = None;
    for r in rows.iter().take(limit) {
        let (it, rank) = item(tx, r)?;
        last = Some((rank, it.raised_at.clone(), it.id.clone()));
        items.push(it);
    }
    let next = if rows.len() > limit { last.map(|(rank, raised, id)| encode_cursor(&[&rank.to_string(), &raised, &id])) } else { None };
    let open = tx.query_one("SELECT CAST(COUNT(*) AS BIGINT) FROM escalation_index WHERE status = 'open' AND deleted = 0", &[])?.int(0)?;
    Ok(EscalationPage { items, next, open })
}

fn status_filter(s: Option<&str>) -> Result<Option<String>> {
    match s.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if STATUSES.contains(&s) => Ok(Some(s.to_owned())),
        Some(s) => Err(Error::Invalid(format!("status '{s}': use open, acknowledged or resolved, or leave it out for all"))),
    }
}

pub async fn list(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<ListQuery>) -> Result<Response> {
    let status = status_filter(q.status.as_deref())?;
    if q.format.csv()? {
        let page = s.db.run(Mode::Read, move |tx| list_of(tx, status.as_deref(), 1_000_000, None)).await?;
        let rows: Vec<Value> = page.items.iter().map(|c| serde_json::to_value(c).expect("serialises")).collect();
        return Ok(csv::table("escalations.csv", COLUMNS, &rows, q.format.lang.as_deref() == Some("zh")));
    }
    let (limit, after) = (q.page.limit()?, q.page.after()?);
    let page = s.db.run(Mode::Read, move |tx| list_of(tx, status.as_deref(), limit, after.as_deref())).await?;
    Ok(Json(page).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    /// `acknowledged` or `resolved`.
    pub status: String,
    pub response: Option<String>,
}

/// The office answers an escalation. Runs in a `Mode::Feed` transaction.
pub fn answer(tx: &mut dyn Tx, actor: &str, id: &str, req: &AnswerRequest) -> Result<EscalationItem> {
    let status = req.status.as_str();
    if !matches!(status, "acknowledged" | "resolved") {
        return Err(Error::Invalid(format!("status '{status}': answer with acknowledged (someone is on it) or resolved (with a response)")));
    }
    let response = req.response.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if status == "resolved" && response.is_none() {
        return Err(Error::Invalid("response: say how it was resolved (a resolved escalation needs a response for the technician)".into()));
    }
    if let Some(r) = response {
        let n = r.chars().count();
        if n > MAX_RESPONSE || r.contains('\0') {
            return Err(Error::Invalid(format!("response: at most {MAX_RESPONSE} characters of text (this is {n})")));
        }
    }
    let current = tx.query_opt("SELECT status, work_order_id FROM escalation_index WHERE id = $1 AND deleted = 0", params![id])?;
    let Some(current) = current else {
        return Err(Error::NotFound(format!("escalation {id}: no such escalation; reload the list")));
    };
    let (before, order) = (current.text(0)?, current.text(1)?);
    if before == "resolved" {
        return Err(Error::conflict(format!("escalation {id} is already resolved; reload the list")));
    }
    let mut w = Writer::begin(tx)?;
    write_fresh(&mut w, "escalations", id, &[
        ("status", json!(status)),
        ("response", json!(response)),
        ("answered_by", json!(actor)),
        ("answered_at", json!(crate::now_text())),
    ])?;
    w.finish()?;
    audit::record(tx, actor, &format!("escalation_{status}"), Some("escalations"), Some(id), Some(&order), json!({"from": before, "response": response}))?;
    let rows = tx.query(&format!("{SELECT} WHERE e.id = $1"), params![id])?;
    Ok(item(tx, &rows[0])?.0)
}

pub async fn answer_route(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(req): JsonBody<AnswerRequest>) -> Result<Json<EscalationItem>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| answer(tx, &actor, &id, &req)).await?))
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OverdueRepair {
    pub id: String,
    pub number: String,
    pub technician: Option<String>,
    pub technician_name: Option<String>,
    pub customer_name: Option<String>,
    pub site_name: Option<String>,
    pub priority: Option<String>,
    pub problem: Option<String>,
    pub arrived_at: String,
    /// `arrived_at` + the expected hours.
    pub expected_by: String,
    /// Whole hours past `expected_by`.
    pub hours_over: i64,
    /// Escalations of this order not yet resolved.
    pub open_escalations: i64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct OverduePage {
    pub expected_hours: u32,
    pub items: Vec<OverdueRepair>,
    pub next: Option<String>,
}

pub const OVERDUE_COLUMNS: csv::Columns = &[
    ("number", "Work order", "工单号"),
    ("technician", "Technician", "技术员"),
    ("technician_name", "Technician name", "技术员姓名"),
    ("customer_name", "Customer", "客户"),
    ("site_name", "Site", "地点"),
    ("priority", "Priority", "优先级"),
    ("problem", "Problem", "问题"),
    ("arrived_at", "Arrived", "到场时间"),
    ("expected_by", "Expected done by", "预计完成时间"),
    ("hours_over", "Hours over", "超时(小时)"),
    ("open_escalations", "Open escalations", "未解决升级"),
];

/// Repairs past their expected completion at `now`, longest overdue first.
pub fn overdue_of(tx: &mut dyn Tx, now: DateTime<Utc>, limit: usize, after: Option<&[String]>) -> Result<OverduePage> {
    let hours = expected_hours(tx)?;
    let cutoff = fieldbook_core::store::ts(now - Duration::hours(hours as i64));
    let mut sql = Sql::new(
        "SELECT w.id, w.number, w.technician, u.display_name, c.name, s.name, w.priority, w.problem, w.arrived_at, \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM escalation_index e WHERE e.work_order_id = w.id AND e.status <> 'resolved' AND e.deleted = 0) \
         FROM work_order_index w \
         LEFT JOIN users u ON u.login = w.technician \
         LEFT JOIN reference_index c ON c.entity = 'customers' AND c.id = w.customer_id \
         LEFT JOIN reference_index s ON s.entity = 'sites' AND s.id = w.site_id \
         WHERE w.kind = 'repair_call' AND w.status = 'on_site' AND w.deleted = 0 AND w.arrived_at IS NOT NULL",
    );
    let p = sql.bind(cutoff.as_str());
    sql.push(&format!(" AND w.arrived_at < {p}"));
    if let Some(a) = after {
        let [arrived, id] = a else { return Err(Error::Invalid("after: not a cursor from this list; start again without ?after".into())) };
        let (p1, p2) = (sql.bind(arrived.as_str()), sql.bind(id.as_str()));
        sql.push(&format!(" AND (w.arrived_at > {p1} OR (w.arrived_at = {p1} AND w.id > {p2}))"));
    }
    let p = sql.bind(limit as i64 + 1);
    sql.push(&format!(" ORDER BY w.arrived_at, w.id LIMIT {p}"));
    let rows = tx.query(&sql.text, &sql.params)?;
    let mut items = Vec::new();
    for r in rows.iter().take(limit) {
        let arrived_at = r.text(8)?;
        let arrived = DateTime::parse_from_rfc3339(&arrived_at).map(|t| t.with_timezone(&Utc)).unwrap_or(now);
        let expected = arrived + Duration::hours(hours as i64);
        items.push(OverdueRepair {
            id: r.text(0)?,
            number: r.text(1)?,
            technician: r.opt_text(2)?,
            technician_name: r.opt_text(3)?,
            customer_name: r.opt_text(4)?,
            site_name: r.opt_text(5)?,
            priority: r.opt_text(6)?,
            problem: r.opt_text(7)?,
            expected_by: fieldbook_core::store::ts(expected),
            hours_over: (now - expected).num_hours(),
            arrived_at,
            open_escalations: r.int(9)?,
        });
    }
    let next = if rows.len() > limit { items.last().map(|i| encode_cursor(&[&i.arrived_at, &i.id])) } else { None };
    Ok(OverduePage { expected_hours: hours, items, next })
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct OverdueQuery {
    #[serde(flatten)]
    pub page: PageQuery,
    #[serde(flatten)]
    pub format: FormatQuery,
}

pub async fn overdue(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<OverdueQuery>) -> Result<Response> {
    if q.format.csv()? {
        let page = s.db.run(Mode::Read, move |tx| overdue_of(tx, Utc::now(), 1_000_000, None)).await?;
        let rows: Vec<Value> = page.items.iter().map(|c| serde_json::to_value(c).expect("serialises")).collect();
        return Ok(csv::table("repairs-overdue.csv", OVERDUE_COLUMNS, &rows, q.format.lang.as_deref() == Some("zh")));
    }
    let (limit, after) = (q.page.limit()?, q.page.after()?);
    Ok(Json(s.db.run(Mode::Read, move |tx| overdue_of(tx, Utc::now(), limit, after.as_deref())).await?).into_response())
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExpectationSetting {
    pub repair_expected_hours: u32,
}

pub async fn get_setting(State(s): State<AppState>, _u: ConsoleUser) -> Result<Json<ExpectationSetting>> {
    Ok(Json(ExpectationSetting { repair_expected_hours: s.db.run(Mode::Read, expected_hours).await? }))
}

pub async fn change_setting(State(s): State<AppState>, u: ConsoleUser, JsonBody(req): JsonBody<Value>) -> Result<Json<ExpectationSetting>> {
    u.require_admin("change how long a repair is expected to take")?;
    let hours = req
        .get("repair_expected_hours")
        .and_then(Value::as_u64)
        .and_then(|h| u32::try_from(h).ok())
        .ok_or_else(|| Error::Invalid(format!("repair_expected_hours: give a whole number of hours from 1 to {MAX_HOURS}")))?;
    let actor = u.login().to_owned();
    let repair_expected_hours = s
        .db
        .run(Mode::Write, move |tx| {
            let before = expected_hours(tx)?;
            set_expected_hours(tx, hours)?;
            audit::record(tx, &actor, "settings_changed", Some("settings"), Some(SETTING), None, json!({"from": before, "to": hours}))?;
            expected_hours(tx)
        })
        .await?;
    Ok(Json(ExpectationSetting { repair_expected_hours }))
}
