//! The call register (#11): every call the desk took, from any channel and of any type, newest
//! first — keyset-paginated over `call_index` with filters (type, channel, days, customer,
//! open/closed) and CSV —, one call's detail (what became of it: its work order, its complaint,
//! the desk's answer; its audit trail), and answering or closing an inquiry or a suggestion.
//! Registering a call is [`super::calls::register_call`]. Calls are desk records (`Owner::Desk`):
//! written here through the feed writer like every office record, and sent to no laptop.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::calls::optional_text;
use super::{audit, csv, date, day_start, encode_cursor, ConsoleUser, FormatQuery, PageQuery, Sql};
use crate::api::{AppState, JsonBody};
use crate::db::{Mode, Row, Tx};
use crate::error::{Error, Result};
use crate::feed::Writer;
use crate::import::write_changed;
use crate::{params, records};

/// A call in the register. `state`: `open` (the desk still owes the caller an answer), `closed`
/// (answered and closed), `work_order` (a repair request, followed through its order) or
/// `complaint` (followed through its complaint).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallEntry {
    pub id: String,
    pub number: String,
    pub channel: Option<String>,
    pub call_type: Option<String>,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    pub customer_id: Option<String>,
    pub customer_code: Option<String>,
    pub customer_name: Option<String>,
    pub site_id: Option<String>,
    pub site_name: Option<String>,
    pub priority: Option<String>,
    pub problem: Option<String>,
    pub reported_at: String,
    pub taken_by: Option<String>,
    pub work_order_id: Option<String>,
    pub work_order_status: Option<String>,
    pub complaint_id: Option<String>,
    /// A linked call: the return visit it came from and the order it follows up.
    pub return_visit_id: Option<String>,
    pub follows_order_id: Option<String>,
    pub closed_at: Option<String>,
    pub state: String,
}

/// A call with everything recorded on it and its audit trail.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallDetail {
    #[serde(flatten)]
    pub entry: CallEntry,
    pub equipment_model: Option<String>,
    pub asset_ids: Vec<String>,
    pub answer: Option<String>,
    pub audit: Vec<audit::AuditEntry>,
}

pub const COLUMNS: csv::Columns = &[
    ("number", "Number", "来电编号"),
    ("reported_at", "Time of call", "来电时间"),
    ("channel", "Channel", "来电方式"),
    ("call_type", "Type", "来电类型"),
    ("caller_name", "Caller", "来电人"),
    ("caller_phone", "Phone", "电话"),
    ("customer_code", "Customer code", "客户编号"),
    ("customer_name", "Customer", "客户"),
    ("site_name", "Site", "地点"),
    ("priority", "Priority", "优先级"),
    ("problem", "Problem", "问题"),
    ("taken_by", "Taken by", "受理人"),
    ("state", "State", "状态"),
    ("work_order_status", "Work order status", "工单状态"),
    ("closed_at", "Closed", "关闭时间"),
    ("id", "ID", "ID"),
];

/// `c` is `call_index`.
const SELECT: &str = "SELECT c.id, c.number, c.channel, c.call_type, c.caller_name, c.caller_phone, c.customer_id, cu.code, cu.name, c.site_id, s.name, \
     c.priority, c.problem, c.reported_at, c.taken_by, c.work_order_id, w.status, c.complaint_id, c.closed_at, c.return_visit_id, c.follows_order_id \
     FROM call_index c \
     LEFT JOIN reference_index cu ON cu.entity = 'customers' AND cu.id = c.customer_id \
     LEFT JOIN reference_index s ON s.entity = 'sites' AND s.id = c.site_id \
     LEFT JOIN work_order_index w ON w.id = c.work_order_id";

/// Open: nothing has answered the caller yet (not closed, no order or complaint made of it).
const OPEN: &str = "(c.closed_at IS NULL AND c.work_order_id IS NULL AND c.complaint_id IS NULL)";

fn entry(r: &Row) -> Result<CallEntry> {
    let (work_order_id, complaint_id, closed_at) = (r.opt_text(15)?, r.opt_text(17)?, r.opt_text(18)?);
    let state = if closed_at.is_some() {
        "closed"
    } else if work_order_id.is_some() {
        "work_order"
    } else if complaint_id.is_some() {
        "complaint"
    } else {
        "open"
    };
    Ok(CallEntry {
        id: r.text(0)?,
        number: r.text(1)?,
        channel: r.opt_text(2)?,
        call_type: r.opt_text(3)?,
        caller_name: r.opt_text(4)?,
        caller_phone: r.opt_text(5)?,
        customer_id: r.opt_text(6)?,
        customer_code: r.opt_text(7)?,
        customer_name: r.opt_text(8)?,
        site_id: r.opt_text(9)?,
        site_name: r.opt_text(10)?,
        priority: r.opt_text(11)?,
        problem: r.opt_text(12)?,
        reported_at: r.text(13)?,
        taken_by: r.opt_text(14)?,
        work_order_status: r.opt_text(16)?,
        work_order_id,
        complaint_id,
        return_visit_id: r.opt_text(19)?,
        follows_order_id: r.opt_text(20)?,
        closed_at,
        state: state.to_owned(),
    })
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct RegisterQuery {
    pub call_type: Option<String>,
    pub channel: Option<String>,
    pub customer: Option<String>,
    /// `open` or `closed` (answered and closed, or followed through an order or a complaint).
    pub state: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    #[serde(flatten)]
    pub page: PageQuery,
    #[serde(flatten)]
    pub format: FormatQuery,
}

fn some(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn word(field: &str, v: Option<&str>, words: &[&str]) -> Result<Option<String>> {
    match v {
        None => Ok(None),
        Some(v) if words.contains(&v) => Ok(Some(v.to_owned())),
        Some(v) => Err(Error::Invalid(format!("{field} '{v}': use one of {}", words.join(", ")))),
    }
}

/// The filters checked before a page (or a CSV) is answered.
fn check(q: &RegisterQuery) -> Result<()> {
    word("call_type", some(&q.call_type), super::calls::CALL_TYPES)?;
    word("channel", some(&q.channel), super::calls::CHANNELS)?;
    word("state", some(&q.state), &["open", "closed"])?;
    date("from", some(&q.from))?;
    date("to", some(&q.to))?;
    Ok(())
}

/// One page of the register, newest time of call first.
pub fn page(tx: &mut dyn Tx, q: &RegisterQuery, after: Option<&[String]>, limit: usize) -> Result<(Vec<Value>, Option<Vec<String>>)> {
    check(q)?;
    let mut sql = Sql::new(SELECT);
    sql.push(" WHERE c.deleted = 0");
    for (column, v) in [("c.call_type", some(&q.call_type)), ("c.channel", some(&q.channel)), ("c.customer_id", some(&q.customer))] {
        if let Some(v) = v {
            let p = sql.bind(v);
            sql.push(&format!(" AND {column} = {p}"));
        }
    }
    match some(&q.state) {
        Some("open") => sql.push(&format!(" AND {OPEN}")),
        Some(_) => sql.push(&format!(" AND NOT {OPEN}")),
        None => &mut sql,
    };
    if let Some(d) = date("from", some(&q.from))? {
        let p = sql.bind(day_start(d));
        sql.push(&format!(" AND c.reported_at >= {p}"));
    }
    if let Some(d) = date("to", some(&q.to))? {
        let p = sql.bind(day_start(d + chrono::Duration::days(1)));
        sql.push(&format!(" AND c.reported_at < {p}"));
    }
    if let Some(a) = after {
        let [at, id] = a else { return Err(Error::Invalid("after: not a cursor of the call register; start again without ?after".into())) };
        let (p1, p2) = (sql.bind(at), sql.bind(id));
        sql.push(&format!(" AND (c.reported_at, c.id) < ({p1}, {p2})"));
    }
    let p = sql.bind((limit + 1) as i64);
    sql.push(&format!(" ORDER BY c.reported_at DESC, c.id DESC LIMIT {p}"));
    let mut items: Vec<CallEntry> = tx.query(&sql.text, &sql.params)?.iter().map(entry).collect::<Result<_>>()?;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|c| vec![c.reported_at.clone(), c.id.clone()])
    } else {
        None
    };
    Ok((items.into_iter().map(|c| serde_json::to_value(c).expect("serialises")).collect(), next))
}

pub async fn list(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<RegisterQuery>) -> Result<Response> {
    check(&q)?;
    if q.format.csv()? {
        let zh = q.format.lang.as_deref() == Some("zh");
        return csv::stream_pages(s.db.clone(), "call-register.csv", COLUMNS, zh, move |tx, after| page(tx, &q, after.as_deref(), 2000));
    }
    let (limit, after) = (q.page.limit()?, q.page.after()?);
    let (items, next) = s.db.run(Mode::Read, move |tx| page(tx, &q, after.as_deref(), limit)).await?;
    Ok(super::page_response(items, next.map(|n| encode_cursor(&n.iter().map(String::as_str).collect::<Vec<_>>()))))
}

/// One call's detail; 404 when there is no such call.
pub fn detail_of(tx: &mut dyn Tx, id: &str) -> Result<CallDetail> {
    let not_found = || Error::NotFound(format!("no call '{id}'; the call register lists them"));
    let row = tx.query_opt(&format!("{SELECT} WHERE c.id = $1"), params![id])?.ok_or_else(not_found)?;
    let entry = entry(&row)?;
    let record = records::load(tx, "calls", id)?.ok_or_else(not_found)?;
    let f = &record.fields;
    let audit = tx
        .query(
            "SELECT id, at, actor, action, target_entity, target_id, detail FROM audit_log WHERE target_entity = 'calls' AND target_id = $1 ORDER BY id",
            params![id],
        )?
        .iter()
        .map(|r| {
            Ok(audit::AuditEntry {
                id: r.int(0)?,
                at: r.text(1)?,
                actor: r.text(2)?,
                action: r.text(3)?,
                target_entity: r.opt_text(4)?,
                target_id: r.opt_text(5)?,
                detail: serde_json::from_str(&r.text(6)?).unwrap_or(Value::Null),
            })
        })
        .collect::<Result<_>>()?;
    Ok(CallDetail {
        entry,
        equipment_model: records::text_of(f, "equipment_model").map(str::to_owned),
        asset_ids: f.get("asset_ids").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default(),
        answer: records::text_of(f, "answer").map(str::to_owned),
        audit,
    })
}

pub async fn detail(State(s): State<AppState>, _u: ConsoleUser, Path(id): Path<String>) -> Result<Json<CallDetail>> {
    Ok(Json(s.db.run(Mode::Read, move |tx| detail_of(tx, &id)).await?))
}

/// A change to an inquiry or a suggestion: the desk's answer, closing (or reopening) it, and
/// corrections of what was taken down. Every field left out stays as it is.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CallChange {
    /// The answer; `""` clears it.
    #[serde(default)]
    pub answer: Option<String>,
    /// `true` closes the call (now), `false` reopens it.
    #[serde(default)]
    pub closed: Option<bool>,
    #[serde(default)]
    pub caller_name: Option<String>,
    #[serde(default)]
    pub caller_phone: Option<String>,
    /// `""` clears it.
    #[serde(default)]
    pub equipment_model: Option<String>,
    #[serde(default)]
    pub problem: Option<String>,
}

/// Answers, closes, reopens or corrects an inquiry or a suggestion. Runs in a `Mode::Feed`
/// transaction; audited as `call_closed`, `call_reopened`, `call_answered` or `call_changed`.
pub fn change_call(tx: &mut dyn Tx, actor: &str, id: &str, change: &CallChange) -> Result<CallDetail> {
    let mut fields: Vec<(&str, Value)> = Vec::new();
    if let Some(a) = &change.answer {
        fields.push(("answer", json!(optional_text("answer", Some(a), 4000)?)));
    }
    if let Some(v) = &change.caller_name {
        fields.push(("caller_name", json!(super::calls::required_text("caller_name", v, "write who called", 100)?)));
    }
    if let Some(v) = &change.caller_phone {
        fields.push(("caller_phone", json!(super::calls::phone("caller_phone", v)?)));
    }
    if let Some(v) = &change.equipment_model {
        fields.push(("equipment_model", json!(optional_text("equipment_model", Some(v), 200)?)));
    }
    if let Some(v) = &change.problem {
        fields.push(("problem", json!(super::calls::required_text("problem", v, "say what the caller reported or asked", 4000)?)));
    }
    if fields.is_empty() && change.closed.is_none() {
        return Err(Error::Invalid("answer: give the answer, closed (true or false), or a correction (caller_name, caller_phone, equipment_model, problem)".into()));
    }
    let mut w = Writer::begin(tx)?;
    let call = w.load("calls", id)?.filter(|c| c.fields().is_ok_and(|f| f.get("deleted") != Some(&Value::Bool(true))));
    let call = call.ok_or_else(|| Error::NotFound(format!("no call '{id}'; the call register lists them")))?;
    let f = call.fields()?;
    let number = records::text_of(f, "number").unwrap_or(id).to_owned();
    let call_type = records::text_of(f, "call_type").unwrap_or_default().to_owned();
    if !matches!(call_type.as_str(), "inquiry" | "suggestion") {
        return Err(Error::conflict(format!(
            "{number} is a {call_type} call: only an inquiry or a suggestion is answered and closed on the call; the rest are followed through their work order or complaint"
        )));
    }
    let was_closed = records::text_of(f, "closed_at").is_some();
    let before: Vec<&str> = fields.iter().filter(|(k, v)| f.get(*k).unwrap_or(&Value::Null) != v).map(|(k, _)| *k).collect();
    let toggled = match change.closed {
        Some(true) if !was_closed => Some(("closed_at", json!(crate::now_text()))),
        Some(false) if was_closed => Some(("closed_at", Value::Null)),
        _ => None,
    };
    let action = match (&toggled, before.as_slice()) {
        (Some((_, Value::Null)), _) => "call_reopened",
        (Some(_), _) => "call_closed",
        (None, ["answer"]) => "call_answered",
        _ => "call_changed",
    };
    let changed: Vec<String> = before.iter().map(|k| (*k).to_owned()).collect();
    fields.extend(toggled);
    let written = write_changed(&mut w, "calls", id, &fields)?;
    w.finish()?;
    if written {
        let answer = fields.iter().find(|(k, _)| *k == "answer").map(|(_, v)| v.clone());
        audit::record(tx, actor, action, Some("calls"), Some(id), None, json!({"number": number, "changed": changed, "answer": answer}))?;
    }
    detail_of(tx, id)
}

pub async fn change(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(req): JsonBody<CallChange>) -> Result<Json<CallDetail>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| change_call(tx, &actor, &id, &req)).await?))
}
