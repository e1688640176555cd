//! Call-ins and dispatch: the lookups the call form needs (technicians, customers, their sites
//! and assets, regions), registering a call as a new work order (numbered `C-YYYYMMDD-NNNN`,
//! response deadline by the service calendar in force at the call, `calendar.rs`, as import
//! computes it), the list of calls not yet dispatched (carried over from earlier days first), and
//! dispatching one to a technician. New and dispatched orders are written through the feed
//! writer, so the technician's laptop pulls the order, with its customer, site and assets, at
//! its next sync.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use fieldbook_core::model::{Category, Priority, WorkOrderKind, Zone};
use fieldbook_core::store::ts;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::work_orders::{summary, summary_of, Summary, SUMMARY_COLUMNS, SUMMARY_SELECT};
use super::{audit, csv, ConsoleUser, FormatQuery};
use crate::api::{AppState, JsonBody};
use crate::db::{Mode, Tx};
use crate::error::{Error, Result};
use crate::feed::Writer;
use crate::import::write_changed;
use crate::users::Role;
use crate::{params, records};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Technician {
    pub login: String,
    pub display_name: String,
    pub open_orders: i64,
}

pub async fn technicians(State(s): State<AppState>, _u: ConsoleUser) -> Result<Json<Vec<Technician>>> {
    let rows = s
        .db
        .run(Mode::Read, |tx| {
            tx.query(
                "SELECT u.login, u.display_name, (SELECT COUNT(*) FROM work_order_index w WHERE w.technician = u.login \
                 AND w.status IN ('dispatched', 'en_route', 'on_site') AND w.deleted = 0) \
                 FROM users u WHERE u.role = 'technician' AND u.disabled = 0 ORDER BY u.login",
                params![],
            )
        })
        .await?;
    Ok(Json(rows.iter().map(|r| Ok(Technician { login: r.text(0)?, display_name: r.text(1)?, open_orders: r.int(2)? })).collect::<Result<_>>()?))
}

#[derive(Debug, Deserialize)]
pub struct CustomerQuery {
    pub q: Option<String>,
}

pub async fn customers(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<CustomerQuery>) -> Result<Json<Vec<Value>>> {
    let text = super::search_text("q", q.q.as_deref().unwrap_or_default())?.to_lowercase();
    let like = format!("%{}%", text.replace(['%', '_', '\\'], ""));
    let rows = s
        .db
        .run(Mode::Read, move |tx| {
            tx.query(
                "SELECT id, code, name FROM reference_index WHERE entity = 'customers' AND deleted = 0 \
                 AND (LOWER(code) LIKE $1 OR LOWER(name) LIKE $1) ORDER BY code LIMIT 20",
                params![like],
            )
        })
        .await?;
    Ok(Json(rows.iter().map(|r| Ok(json!({"id": r.text(0)?, "code": r.opt_text(1)?, "name": r.opt_text(2)?}))).collect::<Result<_>>()?))
}

fn g(f: &serde_json::Map<String, Value>, k: &str) -> Value {
    f.get(k).cloned().unwrap_or(Value::Null)
}

pub fn sites_of(tx: &mut dyn Tx, customer_id: &str) -> Result<Vec<Value>> {
    if records::load(tx, "customers", customer_id)?.is_none() {
        return Err(Error::NotFound(format!("no customer '{customer_id}'; search customers by code or name")));
    }
    let mut out = Vec::new();
    let mut sites = records::by_owner(tx, "sites", customer_id)?;
    sites.sort_by(|a, b| records::text(&a.1, "code").cmp(&records::text(&b.1, "code")));
    for (sid, s) in sites {
        if s.fields.get("deleted") == Some(&Value::Bool(true)) {
            continue;
        }
        let mut assets: Vec<Value> = records::by_owner(tx, "assets", &sid)?
            .into_iter()
            .filter(|(_, a)| a.fields.get("deleted") != Some(&Value::Bool(true)))
            .map(|(aid, a)| {
                let f = &a.fields;
                json!({"id": aid, "code": g(f, "code"), "name": g(f, "name"), "asset_type": g(f, "asset_type"), "model": g(f, "model"), "serial": g(f, "serial")})
            })
            .collect();
        assets.sort_by(|a, b| a["code"].as_str().cmp(&b["code"].as_str()));
        let f = &s.fields;
        out.push(json!({
            "id": sid, "code": g(f, "code"), "name": g(f, "name"), "address": g(f, "address"), "region": g(f, "region"), "zone": g(f, "zone"),
            "assets": assets,
        }));
    }
    Ok(out)
}

pub async fn sites(State(s): State<AppState>, _u: ConsoleUser, Path(id): Path<String>) -> Result<Json<Vec<Value>>> {
    Ok(Json(s.db.run(Mode::Read, move |tx| sites_of(tx, &id)).await?))
}

pub async fn regions(State(s): State<AppState>, _u: ConsoleUser) -> Result<Json<Vec<String>>> {
    let rows = s
        .db
        .run(Mode::Read, |tx| {
            tx.query("SELECT DISTINCT region FROM reference_index WHERE entity = 'sites' AND deleted = 0 AND region IS NOT NULL ORDER BY region", params![])
        })
        .await?;
    Ok(Json(rows.iter().map(|r| r.text(0)).collect::<Result<_>>()?))
}

// ---------------------------------------------------------------------------------------------
// Registering a call

#[derive(Debug, Clone, Deserialize)]
pub struct NewCall {
    pub customer_id: String,
    pub site_id: String,
    #[serde(default)]
    pub asset_ids: Vec<String>,
    pub problem: String,
    pub reported_at: String,
    pub priority: String,
    pub kind: Option<String>,
    pub category: Option<String>,
}

fn parse<T: std::str::FromStr<Err = String>>(field: &str, v: &str) -> Result<T> {
    v.parse().map_err(|e: String| Error::Invalid(format!("{field}: {e}")))
}

/// The next call number of a day, under the feed lock.
fn next_number(tx: &mut dyn Tx, day: &str) -> Result<String> {
    let n = tx
        .query_one(
            "INSERT INTO call_numbers (day, last) VALUES ($1, 1) ON CONFLICT (day) DO UPDATE SET last = call_numbers.last + 1 RETURNING last",
            params![day],
        )?
        .int(0)?;
    Ok(format!("C-{day}-{n:04}"))
}

/// Registers a call as a new work order. Runs in a `Mode::Feed` transaction.
pub fn register_call(tx: &mut dyn Tx, actor: &str, call: &NewCall) -> Result<Summary> {
    let priority: Priority = parse("priority", &call.priority)?;
    let kind: WorkOrderKind = parse("kind", call.kind.as_deref().unwrap_or("repair_call"))?;
    let category: Category = parse("category", call.category.as_deref().unwrap_or("A"))?;
    let problem = call.problem.trim();
    if problem.is_empty() {
        return Err(Error::Invalid("problem: say what the customer reported (it is empty)".into()));
    }
    let reported_at: DateTime<Utc> = DateTime::parse_from_rfc3339(&call.reported_at)
        .map(|t| t.to_utc())
        .map_err(|_| Error::Invalid(format!("reported_at '{}': give the time of the call as RFC 3339, e.g. 2026-03-02T09:30:00Z", call.reported_at)))?;
    if reported_at > Utc::now() + chrono::Duration::minutes(5) {
        return Err(Error::Invalid(format!("reported_at {}: the call cannot be in the future", call.reported_at)));
    }
    let mut w = Writer::begin(tx)?;
    let live = |s: &Option<std::rc::Rc<crate::records::Stored>>| -> Result<bool> {
        Ok(match s {
            Some(s) => s.fields()?.get("deleted") != Some(&Value::Bool(true)),
            None => false,
        })
    };
    let customer = w.load("customers", &call.customer_id)?;
    if !live(&customer)? {
        return Err(Error::Invalid(format!("customer_id '{}': no such customer; pick one from the customer search", call.customer_id)));
    }
    let site = w.load("sites", &call.site_id)?;
    if !live(&site)? {
        return Err(Error::Invalid(format!("site_id '{}': no such site; pick one of the customer's sites", call.site_id)));
    }
    let site = site.expect("live");
    if site.text("customer_id")? != Some(call.customer_id.as_str()) {
        return Err(Error::Invalid(format!("site_id '{}': the site is not the customer's; pick one of the customer's sites", call.site_id)));
    }
    let zone: Zone = site.text("zone")?.map(|z| parse("site zone", z)).transpose()?.unwrap_or(Zone::Urban);
    for a in &call.asset_ids {
        let asset = w.load("assets", a)?;
        if !live(&asset)? || asset.as_ref().expect("live").text("site_id")? != Some(call.site_id.as_str()) {
            return Err(Error::Invalid(format!("asset_ids: '{a}' is not an asset at this site; pick the site's assets")));
        }
    }
    let deadline = super::calendar::response_deadline(w.tx()?, reported_at, zone, &call.customer_id, &call.asset_ids)?;
    let today = chrono::Local::now().date_naive();
    let number = next_number(w.tx()?, &today.format("%Y%m%d").to_string())?;
    let id = uuid::Uuid::now_v7().to_string();
    let fields = vec![
        ("number", json!(number)),
        ("kind", json!(kind)),
        ("customer_id", json!(call.customer_id)),
        ("site_id", json!(call.site_id)),
        ("asset_ids", json!(call.asset_ids)),
        ("technician", Value::Null),
        ("priority", json!(priority)),
        ("category", json!(category)),
        ("status", json!("new")),
        ("problem", json!(problem)),
        ("scheduled_on", json!(reported_at.with_timezone(&chrono::Local).date_naive().to_string())),
        ("reported_at", json!(ts(reported_at))),
        ("response_deadline", json!(ts(deadline))),
        ("revision", json!(1)),
        ("deleted", json!(false)),
    ];
    write_changed(&mut w, "work_orders", &id, &fields)?;
    w.finish()?;
    audit::record(tx, actor, "call_registered", Some("work_orders"), Some(&id), Some(&id), json!({"number": number, "problem": problem}))?;
    summary_of(tx, &id)
}

pub async fn register(State(s): State<AppState>, u: ConsoleUser, JsonBody(call): JsonBody<NewCall>) -> Result<Response> {
    let actor = u.login().to_owned();
    let (order, promise) = s
        .db
        .run(Mode::Feed, move |tx| {
            let order = register_call(tx, &actor, &call)?;
            let promise = super::calendar::promise_for_order(tx, &order.id)?;
            Ok((order, promise))
        })
        .await?;
    // The order's summary, and what the clerk tells the caller (`promise`).
    let mut body = serde_json::to_value(&order).expect("a summary serialises");
    body["promise"] = serde_json::to_value(&promise).expect("a promise serialises");
    Ok((axum::http::StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct CallSummary {
    #[serde(flatten)]
    pub order: Summary,
    pub carried_over: bool,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct CallsQuery {
    pub limit: Option<String>,
    #[serde(flatten)]
    pub format: FormatQuery,
}

/// Calls not dispatched yet: carried over from before today (the server's local day) first, then
/// by response deadline. At most `limit`.
pub fn open_calls(tx: &mut dyn Tx, limit: usize) -> Result<Vec<CallSummary>> {
    let today = chrono::Local::now().date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_local_timezone(chrono::Local).earliest().map(|t| ts(t.to_utc()));
    let today = today.unwrap_or_else(crate::now_text);
    let rows = tx.query(
        &format!(
            "{SUMMARY_SELECT} WHERE w.status = 'new' AND w.deleted = 0 \
             ORDER BY CASE WHEN w.reported_at < $1 THEN 0 ELSE 1 END, w.response_deadline, w.id LIMIT $2"
        ),
        params![today.as_str(), limit as i64],
    )?;
    let now = crate::now_text();
    rows.iter()
        .map(|r| {
            let order = summary(r, &now)?;
            Ok(CallSummary { carried_over: order.reported_at < today, order })
        })
        .collect()
}

pub async fn list(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<CallsQuery>) -> Result<Response> {
    let csv_out = q.format.csv()?;
    let limit = match q.limit.as_deref().filter(|s| !s.is_empty()) {
        None if csv_out => 1_000_000,
        None => 500,
        Some(n) => n.parse::<usize>().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| Error::Invalid(format!("limit '{n}': use 1 to 1000")))?,
    };
    let calls = s.db.run(Mode::Read, move |tx| open_calls(tx, limit)).await?;
    if csv_out {
        let mut cols: Vec<(&str, &str, &str)> = vec![("carried_over", "Carried over", "顺延")];
        cols.extend(SUMMARY_COLUMNS.iter().copied());
        let rows: Vec<Value> = calls.iter().map(|c| serde_json::to_value(c).expect("serialises")).collect();
        return Ok(csv::table("calls.csv", &cols, &rows, q.format.lang.as_deref() == Some("zh")));
    }
    Ok(Json(calls).into_response())
}

// ---------------------------------------------------------------------------------------------
// Dispatch

#[derive(Debug, Deserialize)]
pub struct DispatchRequest {
    pub technician: String,
}

/// Assigns an order that has not been started to a technician. Runs in a `Mode::Feed`
/// transaction; the order reaches the technician's feed (with its reference data) at once.
pub fn dispatch_order(tx: &mut dyn Tx, actor: &str, id: &str, technician: &str) -> Result<Summary> {
    match crate::users::find(tx, technician)? {
        Some(u) if u.role == Role::Technician && !u.disabled => {}
        Some(u) if u.disabled => return Err(Error::Invalid(format!("technician '{technician}' is disabled; pick another"))),
        Some(u) => return Err(Error::Invalid(format!("technician: '{}' is {}, not a technician", u.login, u.role.as_str()))),
        None => return Err(Error::Invalid(format!("technician: no user '{technician}'; pick one from the technician list"))),
    }
    let mut w = Writer::begin(tx)?;
    let order = w.load("work_orders", id)?.ok_or_else(|| Error::NotFound(format!("no work order '{id}'")))?;
    let f = order.fields()?;
    let number = records::order_name(id, Some(f));
    let status = records::text_of(f, "status").unwrap_or_default().to_owned();
    if !matches!(status.as_str(), "new" | "dispatched") {
        return Err(Error::conflict(format!("{number} is {status}: only a new or dispatched order (not yet started) can be dispatched")));
    }
    let previous = records::text_of(f, "technician").map(str::to_owned);
    write_changed(&mut w, "work_orders", id, &[("technician", json!(technician)), ("status", json!("dispatched"))])?;
    w.finish()?;
    audit::record(tx, actor, "dispatched", Some("work_orders"), Some(id), Some(id), json!({"technician": technician, "previous": previous}))?;
    summary_of(tx, id)
}

pub async fn dispatch(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(req): JsonBody<DispatchRequest>) -> Result<Json<Summary>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| dispatch_order(tx, &actor, &id, req.technician.trim())).await?))
}
