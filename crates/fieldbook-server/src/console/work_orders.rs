//! Work orders as the office sees them: the filtered, keyset-paginated list (from
//! `work_order_index`) and one order's full record: customer, site, assets, inspection answers
//! and findings, repairs with parts, time, the satisfaction card, every signature checked again
//! (digest, the device's Ed25519 signature, the row tied to what was signed, and the live records
//! compared with the snapshot, as pushes are checked), attachments and which are still missing,
//! and the audit trail.

use std::collections::BTreeSet;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use fieldbook_core::checklist::ChecklistTemplate;
use fieldbook_core::import::stable_id;
use fieldbook_core::signature::{sha256_hex, verify_digest};
use fieldbook_core::signed_record::{SignedContent, SignerRow};
use fieldbook_core::sync::merge::RecordState;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{audit, csv, date, day_start, encode_cursor, ConsoleUser, FormatQuery, PageQuery, Sql};
use crate::api::AppState;
use crate::db::{Mode, Row, Tx};
use crate::error::{Error, Result};
use crate::params;
use crate::records;
use crate::signed;

/// An order in lists (docs/console-api.md, "Summary shape").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub id: String,
    pub number: String,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub review_state: Option<String>,
    pub technician: Option<String>,
    pub technician_name: Option<String>,
    pub customer_id: Option<String>,
    pub customer_name: Option<String>,
    pub site_id: Option<String>,
    pub site_name: Option<String>,
    pub region: Option<String>,
    pub zone: Option<String>,
    pub priority: Option<String>,
    pub category: Option<String>,
    pub problem: Option<String>,
    pub reported_at: String,
    pub response_deadline: Option<String>,
    pub arrived_at: Option<String>,
    pub completed_at: Option<String>,
    /// Arrived by the deadline; `false` also when the deadline passed without arrival; `null`
    /// while it can still be met.
    pub response_met: Option<bool>,
}

pub const SUMMARY_COLUMNS: csv::Columns = &[
    ("number", "Number", "工单号"),
    ("kind", "Kind", "类型"),
    ("status", "Status", "状态"),
    ("review_state", "Review", "审核"),
    ("technician", "Technician", "技术员"),
    ("technician_name", "Technician name", "技术员姓名"),
    ("customer_name", "Customer", "客户"),
    ("site_name", "Site", "地点"),
    ("region", "Region", "区域"),
    ("zone", "Zone", "城区/郊区"),
    ("priority", "Priority", "优先级"),
    ("category", "Category", "类别"),
    ("problem", "Problem", "问题"),
    ("reported_at", "Reported", "报修时间"),
    ("response_deadline", "Response deadline", "响应期限"),
    ("arrived_at", "Arrived", "到达时间"),
    ("completed_at", "Completed", "完成时间"),
    ("response_met", "Response met", "按时响应"),
    ("id", "ID", "ID"),
];

/// Selects [`Summary`] columns; `w` is `work_order_index`.
pub const SUMMARY_SELECT: &str = "SELECT w.id, w.number, w.kind, w.status, w.review_state, w.technician, u.display_name, w.customer_id, c.name, \
     w.site_id, s.name, w.region, w.zone, w.priority, w.category, w.problem, w.reported_at, w.response_deadline, w.arrived_at, w.completed_at \
     FROM work_order_index w \
     LEFT JOIN users u ON u.login = w.technician \
     LEFT JOIN reference_index c ON c.entity = 'customers' AND c.id = w.customer_id \
     LEFT JOIN reference_index s ON s.entity = 'sites' AND s.id = w.site_id";

/// Columns [`SUMMARY_SELECT`] yields, for queries that add their own after them.
pub const SUMMARY_WIDTH: usize = 20;

pub fn response_met(arrived: Option<&str>, deadline: Option<&str>, now: &str) -> Option<bool> {
    match (arrived, deadline) {
        (Some(a), Some(d)) => Some(a <= d),
        (None, Some(d)) if d < now => Some(false),
        _ => None,
    }
}

pub fn summary(r: &Row, now: &str) -> Result<Summary> {
    let arrived = r.opt_text(18)?;
    let deadline = r.opt_text(17)?;
    Ok(Summary {
        id: r.text(0)?,
        number: r.text(1)?,
        kind: r.opt_text(2)?,
        status: r.opt_text(3)?,
        review_state: r.opt_text(4)?,
        technician: r.opt_text(5)?,
        technician_name: r.opt_text(6)?,
        customer_id: r.opt_text(7)?,
        customer_name: r.opt_text(8)?,
        site_id: r.opt_text(9)?,
        site_name: r.opt_text(10)?,
        region: r.opt_text(11)?,
        zone: r.opt_text(12)?,
        priority: r.opt_text(13)?,
        category: r.opt_text(14)?,
        problem: r.opt_text(15)?,
        reported_at: r.text(16)?,
        response_met: response_met(arrived.as_deref(), deadline.as_deref(), now),
        response_deadline: deadline,
        arrived_at: arrived,
        completed_at: r.opt_text(19)?,
    })
}

/// One order's summary; 404 when there is no such order.
pub fn summary_of(tx: &mut dyn Tx, id: &str) -> Result<Summary> {
    let row = tx
        .query_opt(&format!("{SUMMARY_SELECT} WHERE w.id = $1"), params![id])?
        .ok_or_else(|| Error::NotFound(format!("no work order '{id}'; the work order list shows them")))?;
    summary(&row, &crate::now_text())
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub technician: Option<String>,
    pub customer: Option<String>,
    pub region: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub q: Option<String>,
    #[serde(flatten)]
    pub page: PageQuery,
    #[serde(flatten)]
    pub format: FormatQuery,
}

fn some(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// One page of the list, newest `reported_at` first.
pub fn page(tx: &mut dyn Tx, q: &ListQuery, after: Option<&[String]>, limit: usize) -> Result<(Vec<Value>, Option<Vec<String>>)> {
    let mut sql = Sql::new(SUMMARY_SELECT);
    sql.push(" WHERE w.deleted = 0");
    if let Some(v) = some(&q.status) {
        let p = sql.bind(v);
        sql.push(&format!(" AND w.status = {p}"));
    }
    if let Some(v) = some(&q.technician) {
        let p = sql.bind(v);
        sql.push(&format!(" AND w.technician = {p}"));
    }
    if let Some(v) = some(&q.customer) {
        let p = sql.bind(v);
        sql.push(&format!(" AND w.customer_id = {p}"));
    }
    if let Some(v) = some(&q.region) {
        let p = sql.bind(v);
        sql.push(&format!(" AND w.region = {p}"));
    }
    if let Some(d) = date("from", some(&q.from))? {
        let p = sql.bind(day_start(d));
        sql.push(&format!(" AND w.reported_at >= {p}"));
    }
    if let Some(d) = date("to", some(&q.to))? {
        let p = sql.bind(day_start(d + chrono::Duration::days(1)));
        sql.push(&format!(" AND w.reported_at < {p}"));
    }
    if let Some(v) = some(&q.q).map(|v| super::search_text("q", v)).transpose()? {
        let v = v.as_str();
        // A number (or its beginning), or a customer's code or name: both answer from an index,
        // so a search stays fast with a million orders.
        let like = format!("%{}%", v.to_lowercase().replace(['\\', '%', '_'], ""));
        let customers: Vec<String> = tx
            .query(
                "SELECT id FROM reference_index WHERE entity = 'customers' AND deleted = 0 AND (LOWER(code) LIKE $1 OR LOWER(name) LIKE $1) ORDER BY code LIMIT 50",
                params![like],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect::<Result<_>>()?;
        let (p1, p2) = (sql.bind(v), sql.bind(format!("{v}\u{10ffff}")));
        let mut cond = format!("(w.number >= {p1} AND w.number < {p2})");
        if !customers.is_empty() {
            let list: Vec<String> = customers.into_iter().map(|c| sql.bind(c)).collect();
            cond = format!("({cond} OR w.customer_id IN ({}))", list.join(", "));
        }
        sql.push(&format!(" AND {cond}"));
    }
    if let Some(a) = after {
        let [at, id] = a else { return Err(Error::Invalid("after: not a cursor of the work order list; start again without ?after".into())) };
        let (p1, p2) = (sql.bind(at), sql.bind(id));
        sql.push(&format!(" AND (w.reported_at, w.id) < ({p1}, {p2})"));
    }
    let p = sql.bind((limit + 1) as i64);
    sql.push(&format!(" ORDER BY w.reported_at DESC, w.id DESC LIMIT {p}"));
    let now = crate::now_text();
    let mut items: Vec<Summary> = tx.query(&sql.text, &sql.params)?.iter().map(|r| summary(r, &now)).collect::<Result<_>>()?;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|s| vec![s.reported_at.clone(), s.id.clone()])
    } else {
        None
    };
    Ok((items.into_iter().map(|s| serde_json::to_value(s).expect("serialises")).collect(), next))
}

pub async fn list(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<ListQuery>) -> Result<Response> {
    if q.format.csv()? {
        let zh = q.format.lang.as_deref() == Some("zh");
        // Check the filters before the answer starts.
        date("from", some(&q.from))?;
        date("to", some(&q.to))?;
        return csv::stream_pages(s.db.clone(), "work-orders.csv", SUMMARY_COLUMNS, zh, move |tx, after| page(tx, &q, after.as_deref(), 2000));
    }
    let (limit, after) = (q.page.limit()?, q.page.after()?);
    let (items, next) = s.db.run(Mode::Read, move |tx| page(tx, &q, after.as_deref(), limit)).await?;
    Ok(super::page_response(items, next.map(|n| encode_cursor(&n.iter().map(String::as_str).collect::<Vec<_>>()))))
}

// ---------------------------------------------------------------------------------------------
// One order

fn with_id(id: &str, state: &RecordState) -> Value {
    let mut m = state.fields.clone();
    m.insert("id".into(), Value::String(id.to_owned()));
    Value::Object(m)
}

fn live(children: Vec<(String, RecordState)>) -> Vec<(String, RecordState)> {
    children.into_iter().filter(|(_, s)| s.fields.get("deleted") != Some(&Value::Bool(true))).collect()
}


/// A signature checked again: digest, device signature, the key the device registered, that
/// its row is tied to what was signed, and (for the order's current revision) that the records
/// still equal what was signed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SignatureCheck {
    pub id: String,
    pub revision: i64,
    pub signer_name: Option<String>,
    pub signer_title: Option<String>,
    pub signed_at: Option<String>,
    pub digest: Option<String>,
    pub device_id: Option<String>,
    pub digest_ok: bool,
    /// Digest, device signature and registered key all check, and the row is tied to the
    /// signed content (`signer_ok`).
    pub signature_ok: bool,
    /// The signed content names this order and this revision, and the row shows the signer who
    /// signed: name, title, time and strokes (issue 10, finding 12).
    pub signer_ok: bool,
    /// For a signature of the order's current revision: the live records still equal what was
    /// signed. `null` for superseded revisions.
    pub records_match: Option<bool>,
    /// Where the live records differ from what was signed (`repair_records[0].action`).
    pub changed: Vec<String>,
    pub problem: Option<String>,
}

pub fn check_signature(tx: &mut dyn Tx, id: &str, f: &Map<String, Value>) -> Result<SignatureCheck> {
    let text = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let (content, digest, key, sig, device) = (text("signed_content"), text("digest"), text("device_public_key"), text("device_signature"), text("device_id"));
    let digest_ok = !digest.is_empty() && sha256_hex(content.as_bytes()) == digest;
    let registered = tx.query_opt("SELECT public_key FROM devices WHERE id = $1", params![device.as_str()])?.map(|r| r.text(0)).transpose()?;
    let verified = verify_digest(&key, &digest, &sig);
    let key_ok = registered.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(&key));
    let revision = records::int_of(f, "revision").unwrap_or(0);
    let row_problems = match SignedContent::parse(&content) {
        Some(c) => c.row_problems(&text("work_order_id"), revision, &SignerRow::of(f)),
        None => vec!["the signed content is not a signed-record document".to_owned()],
    };
    let problem = if !digest_ok {
        Some("the signed content does not match its digest (changed after signing)".to_owned())
    } else if let Err(why) = &verified {
        Some(why.clone())
    } else if !key_ok {
        Some(format!("the signing key is not the one laptop {device} registered at enrolment"))
    } else if !row_problems.is_empty() {
        Some(row_problems.join("; "))
    } else {
        None
    };
    Ok(SignatureCheck {
        id: id.to_owned(),
        revision,
        signer_name: f.get("signer_name").and_then(Value::as_str).map(str::to_owned),
        signer_title: f.get("signer_title").and_then(Value::as_str).map(str::to_owned),
        signed_at: f.get("signed_at").and_then(Value::as_str).map(str::to_owned),
        digest: Some(digest).filter(|d| !d.is_empty()),
        device_id: Some(device).filter(|d| !d.is_empty()),
        digest_ok,
        signature_ok: digest_ok && verified.is_ok() && key_ok && row_problems.is_empty(),
        signer_ok: row_problems.is_empty(),
        records_match: None,
        changed: Vec::new(),
        problem,
    })
}

/// Compares a signature of the order's current revision with the order's records as they are
/// now (the same comparison the server makes before it accepts a signed status, and the laptop's
/// `fieldbook verify`): the office sees "changed since signing" where they differ, whoever
/// changed them.
pub fn compare_with_records(check: &mut SignatureCheck, signed_content: &str, order_revision: i64, live: &Value) {
    if check.revision != order_revision {
        return;
    }
    check.changed = match SignedContent::parse(signed_content) {
        Some(c) => c.changes(live),
        None => vec!["(signed content)".to_owned()],
    };
    check.records_match = Some(check.changed.is_empty());
    if !check.changed.is_empty() && check.problem.is_none() {
        check.problem = Some(format!("the records changed since signing: {}", check.changed.join(", ")));
    }
}

/// An order's records as the server holds them now, in signed-content form.
pub fn live_signed_content(tx: &mut dyn Tx, id: &str, order: &Map<String, Value>) -> Result<Value> {
    let mut children = Vec::new();
    for entity in ["inspection_answers", "repair_records"] {
        children.push(records::by_owner(tx, entity, id)?.into_iter().map(|(rid, s)| (rid, s.fields)).collect::<Vec<_>>());
    }
    let template = match records::text_of(order, "template_id") {
        Some(t) => records::load(tx, "checklist_templates", t)?.map(|s| s.fields),
        None => None,
    };
    Ok(signed::live_content(id, order, &children[0], &children[1], template.as_ref()))
}

/// The whole record of one order (docs/console-api.md, `GET /console/api/work-orders/{id}`).
pub fn detail_of(tx: &mut dyn Tx, id: &str) -> Result<Value> {
    let order = summary_of(tx, id)?;
    let state = records::load(tx, "work_orders", id)?.ok_or_else(|| Error::NotFound(format!("no work order '{id}'")))?;
    let f = &state.fields;
    let customer = match records::text_of(f, "customer_id") {
        Some(c) => records::load(tx, "customers", c)?.map(|s| with_id(c, &s)).unwrap_or(Value::Null),
        None => Value::Null,
    };
    let site = match records::text_of(f, "site_id") {
        Some(c) => records::load(tx, "sites", c)?.map(|s| with_id(c, &s)).unwrap_or(Value::Null),
        None => Value::Null,
    };
    let mut assets = Vec::new();
    for a in f.get("asset_ids").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        if let Some(s) = records::load(tx, "assets", a)? {
            assets.push(with_id(a, &s));
        }
    }
    let mut photos = BTreeSet::new();
    // The inspection: answers, and findings by the order's template version.
    let answers = live(records::by_owner(tx, "inspection_answers", id)?);
    let template = match records::text_of(f, "template_id") {
        Some(t) => records::load(tx, "checklist_templates", t)?.and_then(|s| s.fields.get("body").cloned()).and_then(|b| serde_json::from_value::<ChecklistTemplate>(b).ok()),
        None => None,
    };
    let inspection = match &template {
        None if answers.is_empty() => Value::Null,
        t => {
            let mut rows = Vec::new();
            let mut findings = Vec::new();
            for (_, a) in &answers {
                let af = &a.fields;
                let key = records::text_of(af, "item_key").unwrap_or_default();
                let value = af.get("value").cloned().unwrap_or(Value::Null);
                crate::feed::collect_attachment_ids(&value, &mut photos);
                rows.push(json!({"item_key": key, "asset_id": af.get("asset_id"), "value": value, "note": af.get("note")}));
                if let Some(t) = t {
                    if t.finding_of(key, &value).is_some() {
                        let label = t.item(key).map(|i| i.label.clone());
                        findings.push(json!({
                            "item_key": key, "asset_id": af.get("asset_id"), "value": value,
                            "label_en": label.as_ref().map(|l| l.en.clone()), "label_zh": label.as_ref().map(|l| l.zh.clone()),
                        }));
                    }
                }
            }
            json!({
                "template_code": t.as_ref().map(|t| t.code.clone()), "template_version": t.as_ref().map(|t| t.version),
                "answers": rows, "findings": findings,
            })
        }
    };
    let mut repairs = Vec::new();
    let categories = super::renewals::repair_categories(tx, id)?;
    for (rid, r) in live(records::by_owner(tx, "repair_records", id)?) {
        let rf = &r.fields;
        let mut parts = Vec::new();
        for p in rf.get("parts").and_then(Value::as_array).into_iter().flatten() {
            let sku = p.get("sku").and_then(Value::as_str).unwrap_or_default();
            let part = records::load(tx, "parts", &stable_id("parts", sku))?;
            let name = |k: &str| part.as_ref().and_then(|s| s.fields.get(k).cloned()).unwrap_or(Value::Null);
            parts.push(json!({
                "sku": sku, "name_en": name("name_en"), "name_zh": name("name_zh"), "quantity": p.get("quantity"),
                "serials": p.get("serials").cloned().unwrap_or(json!([])), "faulty_returned": p.get("faulty_returned").cloned().unwrap_or(json!(false)),
            }));
        }
        let g = |k: &str| rf.get(k).cloned().unwrap_or(Value::Null);
        repairs.push(json!({
            "id": rid, "fault": g("fault"), "cause": g("cause"), "action": g("action"), "parts": parts, "labour_minutes": g("labour_minutes"),
            "category": g("category"), "fee_cents": g("fee_cents"), "fee_collected": g("fee_collected"), "taken_to_workshop": g("taken_to_workshop"),
            "receipt_number": g("receipt_number"),
            "category_default": categories.iter().find(|c| c["repair_record_id"] == json!(rid)).cloned(),
        }));
    }
    let time_entries: Vec<Value> = live(records::by_owner(tx, "time_entries", id)?)
        .into_iter()
        .map(|(_, t)| json!({"technician": t.fields.get("technician"), "work_date": t.fields.get("work_date"), "category": t.fields.get("category"), "minutes": t.fields.get("minutes")}))
        .collect();
    let satisfaction = live(records::by_owner(tx, "satisfaction_cards", id)?)
        .into_iter()
        .next()
        .map(|(card_id, c)| {
            let g = |k: &str| c.fields.get(k).cloned().unwrap_or(Value::Null);
            json!({"id": card_id, "attitude": g("attitude"), "skill": g("skill"), "arrival": g("arrival"), "promise": g("promise"), "comment": g("comment"), "taken_by": g("taken_by")})
        })
        .unwrap_or(Value::Null);
    let mut signatures = Vec::new();
    let mut sigs = live(records::by_owner(tx, "signatures", id)?);
    sigs.sort_by_key(|(_, s)| records::int_of(&s.fields, "revision").unwrap_or(0));
    let live_content = if sigs.is_empty() { Value::Null } else { live_signed_content(tx, id, f)? };
    let order_revision = records::int_of(f, "revision").unwrap_or(1);
    for (sid, s) in &sigs {
        let mut check = check_signature(tx, sid, &s.fields)?;
        compare_with_records(&mut check, records::text_of(&s.fields, "signed_content").unwrap_or_default(), order_revision, &live_content);
        signatures.push(serde_json::to_value(check).expect("serialises"));
    }
    let return_visit = match tx.query_opt("SELECT id FROM return_visit_index WHERE work_order_id = $1 AND deleted = 0", params![id])? {
        Some(r) => serde_json::to_value(super::return_visits::visit_of(tx, &r.text(0)?)?).expect("serialises"),
        None => Value::Null,
    };
    let mut attachments = Vec::new();
    let mut missing = 0;
    for sha in &photos {
        let rec = records::load(tx, "attachments", sha)?;
        let up = tx.query_opt("SELECT complete, byte_size, media_type FROM attachments WHERE sha256 = $1", params![sha.as_str()])?;
        let complete = match &up {
            Some(r) => r.bool(0)?,
            None => false,
        };
        if !complete {
            missing += 1;
        }
        let g = |k: &str| rec.as_ref().and_then(|s| s.fields.get(k).cloned()).unwrap_or(Value::Null);
        attachments.push(json!({"sha256": sha, "media_type": g("media_type"), "byte_size": g("byte_size"), "original_name": g("original_name"), "complete": complete}));
    }
    Ok(json!({
        "order": order, "review_note": f.get("review_note"), "customer": customer, "site": site, "assets": assets, "inspection": inspection,
        "repairs": repairs, "time_entries": time_entries, "satisfaction": satisfaction, "signatures": signatures,
        "attachments": attachments, "missing_attachments": missing, "close": super::closing::close_state(tx, id)?,
        "return_visit": return_visit, "audit": audit::of_order(tx, id)?,
    }))
}

pub async fn detail(State(s): State<AppState>, _u: ConsoleUser, Path(id): Path<String>) -> Result<Json<Value>> {
    Ok(Json(s.db.run(Mode::Read, move |tx| detail_of(tx, &id)).await?))
}
