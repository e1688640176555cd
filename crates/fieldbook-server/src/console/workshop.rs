//! The workshop (修理车间, #12): units technicians took from customers to the workshop
//! (entity `workshop_jobs`, the receipt pushed from the laptop; `fieldbook_core::workshop`).
//!
//! - `workshop_index` (server migration 0017) is the projection the list reads: open units (not
//!   yet returned to the customer) oldest receipt first, by stage.
//! - The office records the workshop's steps — goods-in, the repair card (修护卡: actual repair
//!   time, parts, what was done, by whom), the supervisor's check (passed, or sent back with a
//!   note), goods-out — as writes of the job's office fields through the feed writer with a fresh
//!   server stamp, so the technician's laptop pulls them; each is audited. A step out of order is
//!   refused with where the unit stands and what must come first (`workshop::check_step`, the
//!   same rule the laptop applies). The return and the customer's signature, which voids the
//!   receipt, are the technician's, from the laptop.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fieldbook_core::store::workshop::{WorkshopJob, WorkshopPart};
use fieldbook_core::workshop::{self, Stage, Step};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::index::{deleted, text, upsert};
use super::review::write_fresh;
use super::{audit, csv, encode_cursor, ConsoleUser, FormatQuery, PageQuery, Sql};
use crate::api::{AppState, JsonBody};
use crate::db::{self, Mode, Tx};
use crate::error::{Error, Result};
use crate::feed::Writer;
use crate::records::{self, Stored};
use crate::params;

/// The entities this module projects.
pub const PROJECTED: &[&str] = &["workshop_jobs"];

const HEAD: &str = "INSERT INTO workshop_index (id, work_order_id, repair_record_id, receipt_number, unit, stage, still_open, received_at, deleted)";
const TAIL: &str = "ON CONFLICT (id) DO UPDATE SET work_order_id = excluded.work_order_id, repair_record_id = excluded.repair_record_id, \
     receipt_number = excluded.receipt_number, unit = excluded.unit, stage = excluded.stage, still_open = excluded.still_open, \
     received_at = excluded.received_at, deleted = excluded.deleted";

/// Brings `workshop_index` up to date for these just-written records; called by `index::project`.
pub fn project(tx: &mut dyn Tx, written: &[(&str, &str, &Stored)]) -> Result<()> {
    let mut rows = Vec::new();
    for &(entity, id, s) in written {
        if entity != "workshop_jobs" {
            continue;
        }
        let f = s.fields()?;
        let stage = workshop::stage(f);
        rows.push(vec![
            db::Value::from(id), text(f, "work_order_id"), text(f, "repair_record_id"), text(f, "receipt_number"), text(f, "unit"),
            db::Value::from(stage.as_str()), db::Value::Int((stage != Stage::Returned) as i64),
            match text(f, "received_at") {
                db::Value::Null => db::Value::from(""),
                v => v,
            },
            deleted(f),
        ]);
    }
    upsert(tx, HEAD, TAIL, 9, rows)
}

/// A unit in the workshop list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkshopItem {
    pub id: String,
    pub work_order_id: String,
    pub number: Option<String>,
    pub customer_name: Option<String>,
    pub site_name: Option<String>,
    pub technician: Option<String>,
    pub technician_name: Option<String>,
    pub receipt_number: Option<String>,
    pub unit: Option<String>,
    pub stage: String,
    pub received_at: String,
}

pub const COLUMNS: csv::Columns = &[
    ("receipt_number", "Receipt", "收据号"),
    ("unit", "Unit", "设备"),
    ("number", "Work order", "工单号"),
    ("customer_name", "Customer", "客户"),
    ("site_name", "Site", "地点"),
    ("technician", "Technician", "技术员"),
    ("technician_name", "Technician name", "技术员姓名"),
    ("stage", "Stage", "进度"),
    ("received_at", "Received", "收取时间"),
];

const SELECT: &str = "SELECT j.id, j.work_order_id, w.number, c.name, s.name, w.technician, u.display_name, j.receipt_number, j.unit, j.stage, j.received_at \
     FROM workshop_index j \
     LEFT JOIN work_order_index w ON w.id = j.work_order_id \
     LEFT JOIN users u ON u.login = w.technician \
     LEFT JOIN reference_index c ON c.entity = 'customers' AND c.id = w.customer_id \
     LEFT JOIN reference_index s ON s.entity = 'sites' AND s.id = w.site_id";

fn item(r: &db::Row) -> Result<WorkshopItem> {
    Ok(WorkshopItem {
        id: r.text(0)?,
        work_order_id: r.text(1)?,
        number: r.opt_text(2)?,
        customer_name: r.opt_text(3)?,
        site_name: r.opt_text(4)?,
        technician: r.opt_text(5)?,
        technician_name: r.opt_text(6)?,
        receipt_number: r.opt_text(7)?,
        unit: r.opt_text(8)?,
        stage: r.text(9)?,
        received_at: r.text(10)?,
    })
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ListQuery {
    /// `open` (default: not yet returned), `returned`, `all`, or one stage's name.
    pub state: Option<String>,
    #[serde(flatten)]
    pub page: PageQuery,
    #[serde(flatten)]
    pub format: FormatQuery,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct WorkshopPage {
    pub items: Vec<WorkshopItem>,
    pub next: Option<String>,
    /// Units in the loop (not yet returned), whatever the filter.
    pub open: i64,
}

/// What a `state` filter keeps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Filter {
    Open,
    All,
    Stage(Stage),
}

pub fn filter(s: Option<&str>) -> Result<Filter> {
    match s.filter(|s| !s.is_empty()).unwrap_or("open") {
        "open" => Ok(Filter::Open),
        "all" => Ok(Filter::All),
        other => Stage::parse(other).map(Filter::Stage).ok_or_else(|| {
            Error::Invalid(format!(
                "state '{other}': use open, all, or a stage (received, in_workshop, repaired, sent_back, passed, goods_out, returned)"
            ))
        }),
    }
}

/// One page of the workshop's units, oldest receipt first.
pub fn list_of(tx: &mut dyn Tx, f: Filter, limit: usize, after: Option<&[String]>) -> Result<WorkshopPage> {
    let mut sql = Sql::new(SELECT);
    sql.push(" WHERE j.deleted = 0");
    match f {
        Filter::Open => {
            sql.push(" AND j.still_open = 1");
        }
        Filter::All => {}
        Filter::Stage(st) => {
            let p = sql.bind(st.as_str());
            sql.push(&format!(" AND j.stage = {p}"));
        }
    }
    if let Some(a) = after {
        let [received, id] = a else { return Err(Error::Invalid("after: not a cursor from this list; start again without ?after".into())) };
        let (p1, p2) = (sql.bind(received.as_str()), sql.bind(id.as_str()));
        sql.push(&format!(" AND (j.received_at > {p1} OR (j.received_at = {p1} AND j.id > {p2}))"));
    }
    let p = sql.bind(limit as i64 + 1);
    sql.push(&format!(" ORDER BY j.received_at, j.id LIMIT {p}"));
    let rows = tx.query(&sql.text, &sql.params)?;
    let items = rows.iter().take(limit).map(item).collect::<Result<Vec<_>>>()?;
    let next = if rows.len() > limit { items.last().map(|i| encode_cursor(&[&i.received_at, &i.id])) } else { None };
    let open = tx.query_one("SELECT CAST(COUNT(*) AS BIGINT) FROM workshop_index WHERE deleted = 0 AND still_open = 1", &[])?.int(0)?;
    Ok(WorkshopPage { items, next, open })
}

pub async fn list(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<ListQuery>) -> Result<Response> {
    let f = filter(q.state.as_deref())?;
    if q.format.csv()? {
        let page = s.db.run(Mode::Read, move |tx| list_of(tx, f, 1_000_000, None)).await?;
        let rows: Vec<Value> = page.items.iter().map(|c| serde_json::to_value(c).expect("serialises")).collect();
        return Ok(csv::table("workshop.csv", COLUMNS, &rows, q.format.lang.as_deref() == Some("zh")));
    }
    let (limit, after) = (q.page.limit()?, q.page.after()?);
    Ok(Json(s.db.run(Mode::Read, move |tx| list_of(tx, f, limit, after.as_deref())).await?).into_response())
}

/// One unit with every step, its order and the repair that took it to the workshop.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkshopDetail {
    #[serde(flatten)]
    pub item: WorkshopItem,
    pub job: WorkshopJob,
    /// The repair record's fault, as the technician recorded it on site.
    pub repair_fault: Option<String>,
    /// The customer signed for the unit's return (strokes present, shown by the console).
    pub return_strokes: Option<Value>,
    pub receipt_strokes: Option<Value>,
    /// The steps the office may record now.
    pub next_steps: Vec<Step>,
}

pub fn detail_of(tx: &mut dyn Tx, id: &str) -> Result<WorkshopDetail> {
    let rows = tx.query(&format!("{SELECT} WHERE j.id = $1 AND j.deleted = 0"), params![id])?;
    let Some(row) = rows.first() else { return Err(Error::NotFound(format!("workshop job {id}: no such unit in the workshop; reload the list"))) };
    let item = item(row)?;
    let fields = records::load(tx, "workshop_jobs", id)?.map(|s| s.fields).unwrap_or_default();
    let job = WorkshopJob::from_fields(id, &fields);
    let repair_fault = match records::load(tx, "repair_records", &job.repair_record_id)? {
        Some(s) => records::text_of(&s.fields, "fault").map(str::to_owned),
        None => None,
    };
    let strokes = |k: &str| fields.get(k).filter(|v| !v.is_null()).cloned();
    let next_steps = [Step::GoodsIn, Step::RepairCard, Step::Check, Step::GoodsOut].into_iter().filter(|s| workshop::check_step(&fields, *s).is_ok()).collect();
    Ok(WorkshopDetail { item, repair_fault, return_strokes: strokes("return_strokes"), receipt_strokes: strokes("receipt_strokes"), next_steps, job })
}

pub async fn detail(State(s): State<AppState>, _u: ConsoleUser, Path(id): Path<String>) -> Result<Json<WorkshopDetail>> {
    Ok(Json(s.db.run(Mode::Read, move |tx| detail_of(tx, &id)).await?))
}

/// One office step of the loop.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// `goods_in`, `repair_card`, `check` or `goods_out`.
    pub step: String,
    /// Repair card: the actual repair time, in minutes.
    pub minutes: Option<i64>,
    /// Repair card: the parts used.
    pub parts: Option<Vec<WorkshopPart>>,
    /// Repair card: what was done.
    pub done: Option<String>,
    /// Repair card: who repaired it (a login or a name; default: the one recording it).
    pub repaired_by: Option<String>,
    /// Check: `passed` or `sent_back`.
    pub result: Option<String>,
    /// Check: the supervisor's note (required when sending back).
    pub note: Option<String>,
}

const MAX_TEXT: usize = 4_000;
const MAX_MINUTES: i64 = 100 * 24 * 60;

fn long_text(field: &str, v: Option<&str>, required: &str) -> Result<Option<String>> {
    let v = v.map(str::trim).filter(|s| !s.is_empty());
    match v {
        None if !required.is_empty() => Err(Error::Invalid(format!("{field}: {required}"))),
        Some(t) if t.chars().count() > MAX_TEXT || t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
            Err(Error::Invalid(format!("{field}: at most {MAX_TEXT} characters of text")))
        }
        v => Ok(v.map(str::to_owned)),
    }
}

/// Records an office step. Runs in a `Mode::Feed` transaction.
pub fn record_step(tx: &mut dyn Tx, actor: &str, id: &str, req: &StepRequest) -> Result<WorkshopDetail> {
    let step = Step::parse(&req.step).filter(|s| *s != Step::Return).ok_or_else(|| {
        Error::Invalid(format!(
            "step '{}': the office records goods_in, repair_card, check or goods_out (the return is signed by the customer on the technician's laptop)",
            req.step
        ))
    })?;
    let Some(stored) = records::load(tx, "workshop_jobs", id)?.filter(|s| s.fields.get("deleted") != Some(&Value::Bool(true))) else {
        return Err(Error::NotFound(format!("workshop job {id}: no such unit in the workshop; reload the list")));
    };
    let before: Map<String, Value> = stored.fields;
    workshop::check_step(&before, step).map_err(|why| Error::conflict(format!("{why}; reload the unit")))?;
    let now = crate::now_text();
    let fields: Vec<(&str, Value)> = match step {
        Step::GoodsIn => vec![("goods_in_at", json!(now)), ("goods_in_by", json!(actor))],
        Step::GoodsOut => vec![("goods_out_at", json!(now)), ("goods_out_by", json!(actor))],
        Step::RepairCard => {
            let minutes = req.minutes.filter(|m| (1..=MAX_MINUTES).contains(m)).ok_or_else(|| {
                Error::Invalid(format!("minutes: give the actual repair time as a whole number of minutes from 1 to {MAX_MINUTES}"))
            })?;
            let done = long_text("done", req.done.as_deref(), "say what was done to the unit (the repair card needs it)")?;
            let mut parts = req.parts.clone().unwrap_or_default();
            if parts.len() > 100 {
                return Err(Error::Invalid("parts: at most 100 lines on one repair card".into()));
            }
            for (i, p) in parts.iter_mut().enumerate() {
                if p.quantity == 0 || p.quantity > 10_000 {
                    return Err(Error::Invalid(format!("parts line {}: a quantity from 1 to 10000", i + 1)));
                }
                if let Some(pid) = p.part_id.as_deref().filter(|s| !s.is_empty()) {
                    let Some(part) = records::load(tx, "parts", pid)? else {
                        return Err(Error::Invalid(format!("parts line {}: part {pid} is not in the parts list", i + 1)));
                    };
                    if p.name.trim().is_empty() {
                        p.name = records::text_of(&part.fields, "name_zh").or(records::text_of(&part.fields, "sku")).unwrap_or(pid).to_owned();
                    }
                }
                p.name = p.name.trim().to_owned();
                if p.name.is_empty() || p.name.chars().count() > 200 {
                    return Err(Error::Invalid(format!("parts line {}: name the part (at most 200 characters) or choose it from the parts list", i + 1)));
                }
            }
            let by = long_text("repaired_by", req.repaired_by.as_deref(), "")?.unwrap_or_else(|| actor.to_owned());
            let mut f = vec![
                ("repair_minutes", json!(minutes)), ("repair_parts", json!(parts)), ("repair_done", json!(done)),
                ("repaired_by", json!(by)), ("repaired_at", json!(now)),
            ];
            // A new card after a send-back opens a new round of checking; the note stays.
            if workshop::stage(&before) == Stage::SentBack {
                f.push(("check_result", Value::Null));
            }
            f
        }
        Step::Check => {
            let result = req.result.as_deref().unwrap_or_default();
            if !matches!(result, "passed" | "sent_back") {
                return Err(Error::Invalid(format!("result '{result}': the check is passed or sent_back (back to the bench, with a note)")));
            }
            let note = long_text("note", req.note.as_deref(), if result == "sent_back" { "say what must be redone (sending a unit back needs a note)" } else { "" })?;
            vec![("check_result", json!(result)), ("check_note", json!(note)), ("checked_by", json!(actor)), ("checked_at", json!(now))]
        }
        Step::Return => unreachable!("refused above"),
    };
    let order = records::text_of(&before, "work_order_id").unwrap_or_default().to_owned();
    let mut w = Writer::begin(tx)?;
    write_fresh(&mut w, "workshop_jobs", id, &fields)?;
    w.finish()?;
    let details: Map<String, Value> = fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    audit::record(tx, actor, &format!("workshop_{}", step.as_str()), Some("workshop_jobs"), Some(id), Some(&order), Value::Object(details))?;
    detail_of(tx, id)
}

pub async fn step_route(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(req): JsonBody<StepRequest>) -> Result<Json<WorkshopDetail>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| record_step(tx, &actor, &id, &req)).await?))
}
