//! Conflicts from sync (`conflicts`, written by the feed writer when a concurrent edit loses):
//! both values side by side with who and when, and the office's decision, written as a new
//! change with a fresh server stamp through the feed writer so it syncs back to every laptop
//! that holds the record.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fieldbook_core::entity;
use serde::Deserialize;
use serde_json::{json, Value};

use super::review::write_fresh;
use super::{audit, csv, ConsoleUser, FormatQuery};
use crate::api::{AppState, JsonBody};
use crate::db::{Mode, Row, Tx};
use crate::error::{Error, Result};
use crate::feed::Writer;
use crate::{params, records};

/// When a stamp was made, from its wall-clock part.
fn stamp_time(hlc: &str) -> Option<String> {
    let ms: i64 = hlc.split('-').next()?.parse().ok()?;
    chrono::DateTime::from_timestamp_millis(ms).map(crate::store_ts)
}

fn side(tx: &mut dyn Tx, value: Option<String>, hlc: String, device: String) -> Result<Value> {
    let technician = if device == crate::clock::SERVER_NODE {
        None
    } else {
        tx.query_opt("SELECT technician FROM devices WHERE id = $1", params![device.as_str()])?.map(|r| r.text(0)).transpose()?
    };
    let value = value.map(|v| serde_json::from_str(&v).unwrap_or(Value::String(v))).unwrap_or(Value::Null);
    Ok(json!({"value": value, "at": stamp_time(&hlc), "hlc": hlc, "device_id": device, "technician": technician.or_else(|| (device == "server").then(|| "office".to_owned()))}))
}

const SELECT: &str = "SELECT id, entity, record_id, field, kept_value, kept_hlc, other_value, other_hlc, kept_device, other_device, \
     detected_at, resolved_at, resolved_by, resolution FROM conflicts";

fn conflict(tx: &mut dyn Tx, r: &Row) -> Result<Value> {
    let (entity, record_id) = (r.text(1)?, r.text(2)?);
    let order_id = if entity == "work_orders" {
        Some(record_id.clone())
    } else {
        records::load(tx, &entity, &record_id)?.and_then(|s| records::text(&s, "work_order_id").map(str::to_owned))
    };
    let number = match &order_id {
        Some(o) => tx.query_opt("SELECT number FROM work_order_index WHERE id = $1", params![o.as_str()])?.map(|r| r.text(0)).transpose()?,
        None => None,
    };
    let kept = side(tx, r.opt_text(4)?, r.text(5)?, r.text(8)?)?;
    let other = side(tx, r.opt_text(6)?, r.text(7)?, r.text(9)?)?;
    Ok(json!({
        "id": r.text(0)?, "entity": entity, "record_id": record_id, "field": r.text(3)?, "work_order_id": order_id, "work_order_number": number,
        "kept": kept, "other": other, "detected_at": r.text(10)?, "resolved_at": r.opt_text(11)?, "resolved_by": r.opt_text(12)?,
        "resolution": r.opt_text(13)?.map(|v| serde_json::from_str(&v).unwrap_or(Value::String(v))),
    }))
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ConflictQuery {
    pub state: Option<String>,
    pub limit: Option<String>,
    #[serde(flatten)]
    pub format: FormatQuery,
}

pub fn list_of(tx: &mut dyn Tx, resolved: bool, limit: usize) -> Result<Vec<Value>> {
    let sql = if resolved {
        format!("{SELECT} WHERE resolved_at IS NOT NULL ORDER BY resolved_at DESC, id LIMIT $1")
    } else {
        format!("{SELECT} WHERE resolved_at IS NULL ORDER BY detected_at, id LIMIT $1")
    };
    let rows = tx.query(&sql, params![limit as i64])?;
    rows.iter().map(|r| conflict(tx, r)).collect()
}

pub const COLUMNS: csv::Columns = &[
    ("work_order_number", "Work order", "工单"),
    ("entity", "Record type", "记录类型"),
    ("record_id", "Record", "记录"),
    ("field", "Field", "字段"),
    ("kept_value", "Kept value", "保留值"),
    ("kept_by", "Kept: who", "保留值来自"),
    ("kept_at", "Kept: when", "保留值时间"),
    ("other_value", "Other value", "另一值"),
    ("other_by", "Other: who", "另一值来自"),
    ("other_at", "Other: when", "另一值时间"),
    ("detected_at", "Detected", "发现时间"),
    ("resolved_at", "Resolved", "解决时间"),
    ("resolved_by", "Resolved by", "解决人"),
    ("resolution", "Resolution", "决定"),
];

pub async fn list(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<ConflictQuery>) -> Result<Response> {
    let resolved = match q.state.as_deref() {
        None | Some("") | Some("open") => false,
        Some("resolved") => true,
        Some(other) => return Err(Error::Invalid(format!("state '{other}': use open or resolved"))),
    };
    let csv_out = q.format.csv()?;
    let limit = match q.limit.as_deref().filter(|s| !s.is_empty()) {
        None if csv_out => 1_000_000,
        None => 200,
        Some(n) => n.parse::<usize>().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| Error::Invalid(format!("limit '{n}': use 1 to 1000")))?,
    };
    let items = s.db.run(Mode::Read, move |tx| list_of(tx, resolved, limit)).await?;
    if csv_out {
        let flat: Vec<Value> = items
            .iter()
            .map(|c| {
                let mut m = c.as_object().cloned().unwrap_or_default();
                for k in ["kept", "other"] {
                    let sd = &c[k];
                    m.insert(format!("{k}_value"), sd["value"].clone());
                    m.insert(format!("{k}_by"), if sd["technician"].is_null() { sd["device_id"].clone() } else { sd["technician"].clone() });
                    m.insert(format!("{k}_at"), sd["at"].clone());
                }
                Value::Object(m)
            })
            .collect();
        return Ok(csv::table("conflicts.csv", COLUMNS, &flat, q.format.lang.as_deref() == Some("zh")));
    }
    Ok(Json(items).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ResolveRequest {
    pub value: Value,
}

/// Resolves an open conflict with `value`. Runs in a `Mode::Feed` transaction.
pub fn resolve_conflict(tx: &mut dyn Tx, actor: &str, id: &str, value: &Value) -> Result<Value> {
    let row = tx.query_opt(&format!("{SELECT} WHERE id = $1"), params![id])?.ok_or_else(|| Error::NotFound(format!("no conflict '{id}'")))?;
    if row.opt_text(11)?.is_some() {
        return Err(Error::conflict(format!("conflict {id} was already resolved by {}; reload the list", row.opt_text(12)?.unwrap_or_default())));
    }
    let (ent, record_id, field) = (row.text(1)?, row.text(2)?, row.text(3)?);
    let spec = entity::spec(&ent).ok_or_else(|| Error::Internal(format!("conflict {id} names unknown entity {ent}")))?;
    let ty = spec.field(&field).ok_or_else(|| Error::Internal(format!("conflict {id} names unknown field {ent}.{field}")))?;
    let fits = match (ty, value) {
        (_, Value::Null) => true,
        (entity::FieldType::Text, v) => v.is_string(),
        (entity::FieldType::Integer, v) => v.is_i64(),
        (entity::FieldType::Real, v) => v.is_number(),
        (entity::FieldType::Bool, v) => v.is_boolean(),
        (entity::FieldType::Json, _) => true,
    };
    if !fits || field == "deleted" {
        return Err(Error::Invalid(format!("value: {ent}.{field} needs a value of type {ty:?}; {value} does not fit")));
    }
    let mut w = Writer::begin(tx)?;
    if w.load(&ent, &record_id)?.is_none() {
        return Err(Error::NotFound(format!("the record of conflict {id} ({ent} {record_id}) is gone")));
    }
    write_fresh(&mut w, &ent, &record_id, &[(field.as_str(), value.clone())])?;
    w.finish()?;
    tx.execute(
        "UPDATE conflicts SET resolved_at = $1, resolved_by = $2, resolution = $3 WHERE id = $4",
        params![crate::now_text(), actor, value.to_string(), id],
    )?;
    let order_id = if ent == "work_orders" { Some(record_id.clone()) } else { records::load(tx, &ent, &record_id)?.and_then(|s| records::text(&s, "work_order_id").map(str::to_owned)) };
    audit::record(tx, actor, "conflict_resolved", Some(&ent), Some(&record_id), order_id.as_deref(), json!({"conflict": id, "field": field, "value": value}))?;
    let row = tx.query_one(&format!("{SELECT} WHERE id = $1"), params![id])?;
    conflict(tx, &row)
}

pub async fn resolve(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(req): JsonBody<ResolveRequest>) -> Result<Json<Value>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| resolve_conflict(tx, &actor, &id, &req.value)).await?))
}
