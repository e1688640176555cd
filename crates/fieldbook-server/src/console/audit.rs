//! The audit trail: who did what in the console, and when (`audit_log`). Entries are appended
//! in the same transaction as the action they describe, and never changed.

use axum::extract::{Query, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{csv, encode_cursor, ConsoleUser, FormatQuery, PageQuery, Sql};
use crate::api::AppState;
use crate::db::{Mode, Row, Tx};
use crate::error::Result;
use crate::params;

/// Appends one entry.
pub fn record(
    tx: &mut dyn Tx,
    actor: &str,
    action: &str,
    target_entity: Option<&str>,
    target_id: Option<&str>,
    work_order_id: Option<&str>,
    detail: Value,
) -> Result<()> {
    tx.execute(
        "INSERT INTO audit_log (at, actor, action, target_entity, target_id, work_order_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![crate::now_text(), actor, action, target_entity, target_id, work_order_id, detail.to_string()],
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target_entity: Option<String>,
    pub target_id: Option<String>,
    pub detail: Value,
}

const SELECT: &str = "SELECT id, at, actor, action, target_entity, target_id, detail FROM audit_log";

fn entry(r: &Row) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.int(0)?,
        at: r.text(1)?,
        actor: r.text(2)?,
        action: r.text(3)?,
        target_entity: r.opt_text(4)?,
        target_id: r.opt_text(5)?,
        detail: serde_json::from_str(&r.text(6)?).unwrap_or(Value::Null),
    })
}

/// An order's trail, oldest first.
pub fn of_order(tx: &mut dyn Tx, work_order_id: &str) -> Result<Vec<AuditEntry>> {
    tx.query(&format!("{SELECT} WHERE work_order_id = $1 ORDER BY id"), params![work_order_id])?.iter().map(entry).collect()
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct AuditQuery {
    pub work_order_id: Option<String>,
    pub actor: Option<String>,
    #[serde(flatten)]
    pub page: PageQuery,
    #[serde(flatten)]
    pub format: FormatQuery,
}

/// One page, newest first.
pub fn page(tx: &mut dyn Tx, q: &AuditQuery, after: Option<&[String]>, limit: usize) -> Result<(Vec<Value>, Option<Vec<String>>)> {
    let mut sql = Sql::new(SELECT);
    sql.push(" WHERE 1 = 1");
    if let Some(w) = q.work_order_id.as_deref().filter(|s| !s.is_empty()) {
        let p = sql.bind(w);
        sql.push(&format!(" AND work_order_id = {p}"));
    }
    if let Some(a) = q.actor.as_deref().filter(|s| !s.is_empty()) {
        let p = sql.bind(a);
        sql.push(&format!(" AND actor = {p}"));
    }
    if let Some(after) = after {
        let id: i64 = after.first().and_then(|s| s.parse().ok()).ok_or_else(|| crate::Error::Invalid("after: not a cursor of the audit trail".into()))?;
        let p = sql.bind(id);
        sql.push(&format!(" AND id < {p}"));
    }
    let p = sql.bind((limit + 1) as i64);
    sql.push(&format!(" ORDER BY id DESC LIMIT {p}"));
    let rows = tx.query(&sql.text, &sql.params)?;
    let mut items: Vec<AuditEntry> = rows.iter().map(entry).collect::<Result<_>>()?;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|e| vec![e.id.to_string()])
    } else {
        None
    };
    Ok((items.into_iter().map(|e| serde_json::to_value(e).expect("serialises")).collect(), next))
}

pub const COLUMNS: &[(&str, &str, &str)] = &[
    ("id", "#", "#"),
    ("at", "When", "时间"),
    ("actor", "Who", "操作人"),
    ("action", "Action", "操作"),
    ("target_entity", "Record type", "记录类型"),
    ("target_id", "Record", "记录"),
    ("detail", "Detail", "详情"),
];

pub async fn list(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<AuditQuery>) -> Result<Response> {
    if q.format.csv()? {
        let zh = q.format.lang.as_deref() == Some("zh");
        return csv::stream_pages(s.db.clone(), "audit.csv", COLUMNS, zh, move |tx, after| page(tx, &q, after.as_deref(), 1000));
    }
    let (limit, after) = (q.page.limit()?, q.page.after()?);
    let (items, next) = s.db.run(Mode::Read, move |tx| page(tx, &q, after.as_deref(), limit)).await?;
    Ok(super::page_response(items, next.map(|n| encode_cursor(&n.iter().map(String::as_str).collect::<Vec<_>>()))))
}
