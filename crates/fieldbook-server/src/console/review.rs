//! The review queue: completed or signed orders waiting for the office (derived
//! `review_state = pending`, see [`super::index`]), each with what the office checks (signatures,
//! missing attachments, parts, labour, fee); approving, and returning to the technician with a
//! note. Both are writes of the order's `review_state` and `review_note` (and, for an unsigned
//! order being returned, `status = on_site`) through the feed writer with a fresh server stamp,
//! so the laptop pulls them and the job is open again there; a signed job is reopened on the
//! laptop by an amendment. Each action is in the audit trail. Approving needs the customer's
//! signature of the current revision or a recorded close exception ([`super::closing`]).

use std::collections::BTreeSet;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fieldbook_core::sync::merge::Stamps;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::work_orders::{check_signature, compare_with_records, live_signed_content, summary, summary_of, Summary, SUMMARY_COLUMNS, SUMMARY_SELECT};
use super::{audit, csv, ConsoleUser, FormatQuery};
use crate::api::{AppState, JsonBody};
use crate::db::{Mode, Tx};
use crate::error::{Error, Result};
use crate::feed::{Change, Writer};
use crate::{params, records};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct ReviewItem {
    #[serde(flatten)]
    pub order: Summary,
    pub signature_ok: bool,
    pub missing_attachments: i64,
    pub parts_count: i64,
    pub labour_minutes: i64,
    pub fee_cents: i64,
    /// A signature of the current revision verifies and matches the records, or a close
    /// exception is recorded for it: approving is allowed (no signature, no close).
    pub closable: bool,
    /// The recorded close exception's kind (refused_to_sign, paper_voucher), if any.
    pub close_exception: Option<String>,
    /// Repairs recorded in another category than the default (`renewals::category_flags`).
    #[serde(default)]
    pub category_flags: Vec<Value>,
}

/// The review figures of one order.
fn review_item(tx: &mut dyn Tx, order: Summary) -> Result<ReviewItem> {
    let id = order.id.clone();
    let sums = tx.query_one(
        "SELECT CAST(COALESCE(SUM(parts_count), 0) AS BIGINT), CAST(COALESCE(SUM(minutes), 0) AS BIGINT), CAST(COALESCE(SUM(fee_cents), 0) AS BIGINT) FROM work_item_index \
         WHERE work_order_id = $1 AND entity = 'repair_records' AND deleted = 0",
        params![id.as_str()],
    )?;
    let mut signature_ok = true;
    let mut signed = false;
    // What "signature OK" promises the reviewer is what the order's page shows: each signature
    // verifies, and the signature of the current revision still matches the live records.
    let order_fields = records::load(tx, "work_orders", &id)?.map(|s| s.fields).unwrap_or_default();
    let order_revision = records::int_of(&order_fields, "revision").unwrap_or(1);
    let mut live: Option<Value> = None;
    // No signature, no close: a signature of the current revision that verifies and matches.
    let mut signed_current = false;
    for (sid, s) in records::stored_by_owner(tx, "signatures", &id)? {
        let f = s.fields()?.clone();
        if f.get("deleted") == Some(&Value::Bool(true)) {
            continue;
        }
        signed = true;
        let mut check = check_signature(tx, &sid, &f)?;
        if check.revision == order_revision {
            if live.is_none() {
                live = Some(live_signed_content(tx, &id, &order_fields)?);
            }
            compare_with_records(&mut check, records::text_of(&f, "signed_content").unwrap_or_default(), order_revision, live.as_ref().expect("just built"));
        }
        signature_ok &= check.signature_ok && check.records_match != Some(false);
        signed_current |= check.revision == order_revision && check.signature_ok && check.records_match == Some(true);
    }
    if order.status.as_deref() == Some("signed") && !signed {
        signature_ok = false;
    }
    let mut shas = BTreeSet::new();
    for (_, a) in records::stored_by_owner(tx, "inspection_answers", &id)? {
        if let Some(v) = a.fields()?.get("value") {
            crate::feed::collect_attachment_ids(v, &mut shas);
        }
    }
    let mut missing = 0;
    for sha in shas {
        let complete = tx.query_opt("SELECT complete FROM attachments WHERE sha256 = $1", params![sha.as_str()])?.map(|r| r.bool(0)).transpose()?.unwrap_or(false);
        missing += (!complete) as i64;
    }
    let close_exception = super::closing::exception_for(tx, &id, order_revision)?.map(|e| e.kind);
    let closable = signed_current || close_exception.is_some();
    let category_flags = super::renewals::category_flags(tx, &id)?;
    Ok(ReviewItem {
        order,
        signature_ok,
        missing_attachments: missing,
        parts_count: sums.int(0)?,
        labour_minutes: sums.int(1)?,
        fee_cents: sums.int(2)?,
        closable,
        close_exception,
        category_flags,
    })
}

/// Orders waiting for review, oldest completion first; at most `limit`.
pub fn queue_of(tx: &mut dyn Tx, limit: usize) -> Result<Vec<ReviewItem>> {
    let rows = tx.query(
        &format!("{SUMMARY_SELECT} WHERE w.review_state = 'pending' AND w.deleted = 0 ORDER BY w.completed_at, w.id LIMIT $1"),
        params![limit as i64],
    )?;
    let now = crate::now_text();
    let orders: Vec<Summary> = rows.iter().map(|r| summary(r, &now)).collect::<Result<_>>()?;
    orders.into_iter().map(|o| review_item(tx, o)).collect()
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct QueueQuery {
    pub limit: Option<String>,
    #[serde(flatten)]
    pub format: FormatQuery,
}

pub const COLUMNS_EXTRA: csv::Columns = &[
    ("signature_ok", "Signatures verify", "签名有效"),
    ("missing_attachments", "Missing attachments", "缺少附件"),
    ("parts_count", "Parts", "配件数"),
    ("labour_minutes", "Labour (min)", "工时(分钟)"),
    ("fee_cents", "Fee (cents)", "费用(分)"),
    ("closable", "Signed or excepted", "已签字或例外"),
    ("close_exception", "Close exception", "结案例外"),
];

pub async fn queue(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<QueueQuery>) -> Result<Response> {
    let csv_out = q.format.csv()?;
    let limit = match q.limit.as_deref().filter(|s| !s.is_empty()) {
        None if csv_out => 1_000_000,
        None => 100,
        Some(n) => n.parse::<usize>().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| Error::Invalid(format!("limit '{n}': use 1 to 1000")))?,
    };
    let items = s.db.run(Mode::Read, move |tx| queue_of(tx, limit)).await?;
    if csv_out {
        let mut cols: Vec<(&str, &str, &str)> = SUMMARY_COLUMNS.to_vec();
        cols.extend(COLUMNS_EXTRA.iter().copied());
        let rows: Vec<Value> = items.iter().map(|c| serde_json::to_value(c).expect("serialises")).collect();
        return Ok(csv::table("review.csv", &cols, &rows, q.format.lang.as_deref() == Some("zh")));
    }
    Ok(Json(items).into_response())
}

/// Writes fields of a record with one fresh server stamp, whether or not the values differ (a
/// decision made again must be newer than the change it answers).
pub fn write_fresh(w: &mut Writer<'_>, entity: &str, id: &str, fields: &[(&str, Value)]) -> Result<()> {
    let map: Map<String, Value> = fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    let stamp = w.tick();
    w.apply(&Change { entity, id, fields: &map, stamps: Stamps::All(&stamp), base: None, author: None })?;
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
pub struct NoteRequest {
    pub note: Option<String>,
}

/// Approves or returns an order waiting for review. Runs in a `Mode::Feed` transaction.
pub fn decide(tx: &mut dyn Tx, actor: &str, id: &str, approve: bool, note: Option<&str>) -> Result<Summary> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if !approve && note.is_none() {
        return Err(Error::Invalid("note: say what the technician must fix (a returned job needs a note)".into()));
    }
    let current = summary_of(tx, id)?;
    if current.review_state.as_deref() != Some("pending") {
        let state = current.review_state.as_deref().unwrap_or("not finished yet");
        return Err(Error::conflict(format!("work order {} is not waiting for review (review: {state}); reload the queue", current.number)));
    }
    let signed = current.status.as_deref() == Some("signed");
    let exception = if approve {
        // No signature, no close: the current revision's signature, or a recorded exception.
        super::closing::require_closable(tx, id, &current.number)?.exception.map(|e| e.kind)
    } else {
        None
    };
    let mut w = Writer::begin(tx)?;
    let mut fields = vec![("review_state", json!(if approve { "approved" } else { "returned" })), ("review_note", json!(note))];
    if !approve && !signed {
        // Open again on the laptop; a signed job is reopened there by an amendment.
        fields.push(("status", json!("on_site")));
    }
    write_fresh(&mut w, "work_orders", id, &fields)?;
    w.finish()?;
    let action = if approve { "approved" } else { "returned" };
    audit::record(tx, actor, action, Some("work_orders"), Some(id), Some(id), json!({"number": current.number, "note": note, "signed": signed, "close_exception": exception}))?;
    summary_of(tx, id)
}

pub async fn approve(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, body: axum::body::Bytes) -> Result<Json<Summary>> {
    let actor = u.login().to_owned();
    // The body is optional here: `{}`, `{"note": …}` or nothing.
    let note = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<NoteRequest>(&body).map_err(|e| Error::Invalid(format!("the body is not valid JSON: {e}")))?.note
    };
    Ok(Json(s.db.run(Mode::Feed, move |tx| decide(tx, &actor, &id, true, note.as_deref())).await?))
}

pub async fn return_order(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(req): JsonBody<NoteRequest>) -> Result<Json<Summary>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| decide(tx, &actor, &id, false, req.note.as_deref())).await?))
}
