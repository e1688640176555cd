//! Planned inspections (巡检计划, #12): a contract's inspection plans (`inspection_plans`, a desk
//! record: template code, interval, sites and assets, default technician, lead time, active),
//! generating their patrol-inspection orders ahead of time — on demand for a period from the
//! console, and by the server's periodic run ([`periodic`]) for each active plan's lead time —,
//! the orders a plan made, and rebalancing a set of them between technicians (each through
//! [`super::calls::dispatch_order`], the one dispatch path, audited).
//!
//! Generation is idempotent: the order of a plan for a due date at a site has the id
//! `fieldbook_core::inspection_plan::planned_order_id`, so an order that exists is left alone
//! (even moved or reassigned), and two runs at once serialise on the feed lock (`Mode::Feed`),
//! the second finding the first's orders. Orders are written through the feed writer, so they
//! reach the technician's laptop at its next sync, with the contract phase of their due date
//! (`phase`, whose checklist items the form shows) and the plan (`plan_id`). `plan_orders`
//! (migration 0015) lists them by plan and due date.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::NaiveDate;
use fieldbook_core::inspection_plan::{due_dates, phase_of, planned_order_id, visit_made, Interval};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{audit, ConsoleUser};
use crate::api::{AppState, JsonBody};
use crate::db::{Db, Mode, Tx};
use crate::error::{Error, Result};
use crate::feed::Writer;
use crate::import::write_changed;
use crate::users::Role;
use crate::{params, records};

/// The longest period one "generate" covers: a little over a year.
pub const MAX_PERIOD_DAYS: i64 = 400;
/// The longest lead time: orders generated at most this far ahead.
pub const MAX_LEAD_DAYS: i64 = 366;
const DEFAULT_LEAD_DAYS: i64 = 30;

/// A plan as the office writes it (create, or the fields to change).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct PlanInput {
    pub contract_id: Option<String>,
    pub name: Option<String>,
    pub template_code: Option<String>,
    pub interval: Option<String>,
    pub site_ids: Option<Vec<String>>,
    pub asset_ids: Option<Vec<String>>,
    /// The default technician; `""` clears it (orders are then generated unassigned).
    pub technician: Option<String>,
    pub lead_days: Option<i64>,
    pub active: Option<bool>,
}

fn live(s: &Option<std::rc::Rc<records::Stored>>) -> Result<bool> {
    Ok(match s {
        Some(s) => s.fields()?.get("deleted") != Some(&Value::Bool(true)),
        None => false,
    })
}

fn date_field(f: &Map<String, Value>, k: &str, what: &str) -> Result<NaiveDate> {
    records::text_of(f, k)
        .and_then(|d| d.get(..10))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| Error::Invalid(format!("{what} has no {k} date; give the contract its dates first")))
}

fn strings(f: &Map<String, Value>, k: &str) -> Vec<String> {
    f.get(k).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
}

/// The newest version of a template code the server holds: its record id.
pub fn template_id(tx: &mut dyn Tx, code: &str) -> Result<Option<String>> {
    let mut best: Option<(i64, String)> = None;
    for (id, t) in records::all(tx, "checklist_templates")? {
        if records::text(&t, "code") != Some(code) || t.fields.get("deleted") == Some(&Value::Bool(true)) {
            continue;
        }
        let v = records::int(&t, "version").unwrap_or(0);
        if best.as_ref().is_none_or(|(bv, _)| v > *bv) {
            best = Some((v, id));
        }
    }
    Ok(best.map(|(_, id)| id))
}

fn check_technician(tx: &mut dyn Tx, technician: &str) -> Result<()> {
    match crate::users::find(tx, technician)? {
        Some(u) if u.role == Role::Technician && !u.disabled => Ok(()),
        Some(u) if u.disabled => Err(Error::Invalid(format!("technician '{technician}' is disabled; pick another"))),
        Some(u) => Err(Error::Invalid(format!("technician: '{}' is {}, not a technician", u.login, u.role.as_str()))),
        None => Err(Error::Invalid(format!("technician: no user '{technician}'; pick one from the technician list"))),
    }
}

/// Writes a plan (new when `id` is `None`): every field checked against the contract, its
/// customer's sites and the templates; nothing is written when one is wrong. Audited.
pub fn save_plan(tx: &mut dyn Tx, actor: &str, id: Option<&str>, input: &PlanInput) -> Result<Value> {
    let mut w = Writer::begin(tx)?;
    let current = match id {
        Some(id) => {
            let s = w.load("inspection_plans", id)?;
            if !live(&s)? {
                return Err(Error::NotFound(format!("no inspection plan '{id}'; the contract's plans are listed on the Plans page")));
            }
            Some(s.expect("live").fields()?.clone())
        }
        None => None,
    };
    let cur = |k: &str| current.as_ref().and_then(|c| c.get(k)).cloned();
    let contract_id = match (&input.contract_id, &current) {
        (Some(c), None) => c.trim().to_owned(),
        (None, None) => return Err(Error::Invalid("contract_id: a plan belongs to a contract; pick one".into())),
        (Some(c), Some(cf)) if Some(c.trim()) != records::text_of(cf, "contract_id") => {
            return Err(Error::Invalid("contract_id: a plan stays with its contract; make a new plan for another contract".into()))
        }
        (_, Some(cf)) => records::text_of(cf, "contract_id").unwrap_or_default().to_owned(),
    };
    let contract = w.load("contracts", &contract_id)?;
    if !live(&contract)? {
        return Err(Error::Invalid(format!("contract_id '{contract_id}': no such contract; pick one from the contract search")));
    }
    let contract = contract.expect("live").fields()?.clone();
    let customer_id = records::text_of(&contract, "customer_id").unwrap_or_default().to_owned();
    let interval = match input.interval.as_deref().map(str::trim) {
        Some(i) => Interval::parse(i).map_err(|e| Error::Invalid(format!("interval: {e}")))?,
        None => match cur("interval").as_ref().and_then(Value::as_str) {
            Some(i) => Interval::parse(i).map_err(|e| Error::Internal(format!("stored plan interval: {e}")))?,
            None => return Err(Error::Invalid("interval: say how often the inspection recurs (monthly, bimonthly, quarterly, half_yearly, yearly)".into())),
        },
    };
    let template_code = match input.template_code.as_deref().map(str::trim) {
        Some(t) => t.to_owned(),
        None => cur("template_code").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
    };
    if template_code.is_empty() {
        return Err(Error::Invalid("template_code: pick the checklist template the inspections are recorded on".into()));
    }
    if template_id(w.tx()?, &template_code)?.is_none() {
        return Err(Error::Invalid(format!("template_code '{template_code}': no such checklist template; publish it on the Templates page first")));
    }
    let site_ids: Vec<String> = match &input.site_ids {
        Some(s) => s.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
        None => cur("site_ids").and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default(),
    };
    if site_ids.is_empty() {
        return Err(Error::Invalid("site_ids: pick at least one of the customer's sites to inspect".into()));
    }
    let mut seen = std::collections::BTreeSet::new();
    for sid in &site_ids {
        if !seen.insert(sid) {
            return Err(Error::Invalid(format!("site_ids: '{sid}' is listed twice")));
        }
        let site = w.load("sites", sid)?;
        if !live(&site)? || site.as_ref().expect("live").text("customer_id")? != Some(customer_id.as_str()) {
            return Err(Error::Invalid(format!("site_ids: '{sid}' is not a site of the contract's customer; pick the customer's sites")));
        }
    }
    let asset_ids: Vec<String> = match &input.asset_ids {
        Some(a) => a.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
        None => cur("asset_ids").and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default(),
    };
    for aid in &asset_ids {
        let asset = w.load("assets", aid)?;
        let at = if live(&asset)? { asset.as_ref().expect("live").text("site_id")?.map(str::to_owned) } else { None };
        if !at.as_ref().is_some_and(|s| site_ids.contains(s)) {
            return Err(Error::Invalid(format!("asset_ids: '{aid}' is not an asset at the plan's sites; pick assets of those sites")));
        }
    }
    let technician = match input.technician.as_deref().map(str::trim) {
        Some("") => None,
        Some(t) => {
            check_technician(w.tx()?, t)?;
            Some(t.to_owned())
        }
        None => cur("technician").and_then(|v| v.as_str().map(str::to_owned)),
    };
    let lead_days = input.lead_days.or_else(|| cur("lead_days").and_then(|v| v.as_i64())).unwrap_or(DEFAULT_LEAD_DAYS);
    if !(0..=MAX_LEAD_DAYS).contains(&lead_days) {
        return Err(Error::Invalid(format!("lead_days {lead_days}: orders are generated 0 to {MAX_LEAD_DAYS} days ahead")));
    }
    let active = input.active.or_else(|| cur("active").and_then(|v| v.as_bool())).unwrap_or(true);
    let name = match input.name.as_deref().map(str::trim) {
        Some(n) if n.chars().count() > 200 => return Err(Error::Invalid("name: at most 200 characters".into())),
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => cur("name").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| format!("{template_code} {}", interval.as_str())),
    };
    let id = id.map(str::to_owned).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let fields = [
        ("contract_id", json!(contract_id)),
        ("name", json!(name)),
        ("template_code", json!(template_code)),
        ("interval", json!(interval.as_str())),
        ("site_ids", json!(site_ids)),
        ("asset_ids", json!(asset_ids)),
        ("technician", json!(technician)),
        ("lead_days", json!(lead_days)),
        ("active", json!(active)),
        ("updated_by", json!(actor)),
        ("deleted", json!(false)),
    ];
    write_changed(&mut w, "inspection_plans", &id, &fields)?;
    w.finish()?;
    let action = if current.is_none() { "plan_created" } else { "plan_changed" };
    audit::record(tx, actor, action, Some("inspection_plans"), Some(&id), None, Value::Object(fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()))?;
    plan_json(tx, &id)
}

fn plan_json(tx: &mut dyn Tx, id: &str) -> Result<Value> {
    let p = records::load(tx, "inspection_plans", id)?.ok_or_else(|| Error::NotFound(format!("no inspection plan '{id}'")))?;
    let mut v = Value::Object(p.fields);
    v["id"] = json!(id);
    let n = tx.query_one("SELECT COUNT(*) FROM plan_orders WHERE plan_id = $1", params![id])?.int(0)?;
    v["generated"] = json!(n);
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// Generation

#[derive(Debug, Serialize, Deserialize, PartialEq, Default)]
pub struct Generated {
    /// Orders made now.
    pub made: usize,
    /// Planned orders that already existed (generated before), left as they are.
    pub existing: usize,
    /// Active plans that were looked at.
    pub plans: usize,
}

/// The next number of a planned order due on `due`: `PI-YYYYMMDD-NNNN`, under the feed lock.
fn next_number(tx: &mut dyn Tx, due: NaiveDate) -> Result<String> {
    let day = due.format("%Y%m%d").to_string();
    let mut n = tx.query_one("SELECT COUNT(*) FROM plan_orders WHERE due_on = $1", params![due.to_string()])?.int(0)? + 1;
    loop {
        let number = format!("PI-{day}-{n:04}");
        if tx.query_opt("SELECT 1 FROM work_order_index WHERE number = $1", params![number.as_str()])?.is_none() {
            return Ok(number);
        }
        n += 1;
    }
}

/// Makes the orders of one plan due between `from` and `to` that do not exist yet. Inside a
/// `Mode::Feed` transaction. An inactive or deleted plan makes none.
pub fn generate_plan(tx: &mut dyn Tx, plan_id: &str, from: NaiveDate, to: NaiveDate, out: &mut Generated) -> Result<()> {
    let Some(plan) = records::load(tx, "inspection_plans", plan_id)? else {
        return Err(Error::NotFound(format!("no inspection plan '{plan_id}'")));
    };
    let p = &plan.fields;
    if p.get("deleted") == Some(&Value::Bool(true)) || p.get("active") != Some(&Value::Bool(true)) {
        return Ok(());
    }
    out.plans += 1;
    let contract_id = records::text_of(p, "contract_id").unwrap_or_default();
    let Some(contract) = records::load(tx, "contracts", contract_id)? else {
        return Err(Error::Invalid(format!("inspection plan '{plan_id}': its contract '{contract_id}' is gone; deactivate the plan")));
    };
    let c = &contract.fields;
    let what = format!("contract {}", records::text_of(c, "number").unwrap_or(contract_id));
    let (starts, ends) = (date_field(c, "starts_on", &what)?, date_field(c, "ends_on", &what)?);
    let interval = Interval::parse(records::text_of(p, "interval").unwrap_or_default()).map_err(|e| Error::Internal(format!("plan {plan_id}: {e}")))?;
    let code = records::text_of(p, "template_code").unwrap_or_default();
    let template = template_id(tx, code)?.ok_or_else(|| Error::Invalid(format!("inspection plan '{plan_id}': no checklist template '{code}'; publish it first")))?;
    let due = due_dates(starts, ends, interval, from, to);
    if due.is_empty() {
        return Ok(());
    }
    let customer_id = records::text_of(c, "customer_id").unwrap_or_default().to_owned();
    let technician = records::text_of(p, "technician").filter(|t| !t.is_empty()).map(str::to_owned);
    let name = records::text_of(p, "name").unwrap_or_default().to_owned();
    let plan_assets = strings(p, "asset_ids");
    let sites = strings(p, "site_ids");
    // Each site's assets on the plan (none named: the contract's assets at the site).
    let contract_assets = strings(c, "asset_ids");
    let mut assets_at: HashMap<String, Vec<String>> = HashMap::new();
    for aid in if plan_assets.is_empty() { &contract_assets } else { &plan_assets } {
        if let Some(a) = records::load(tx, "assets", aid)? {
            if let Some(sid) = records::text(&a, "site_id") {
                assets_at.entry(sid.to_owned()).or_default().push(aid.clone());
            }
        }
    }
    // The days this plan's orders were made for, per site (`visit_made`).
    let mut made: HashMap<String, Vec<NaiveDate>> = HashMap::new();
    for r in tx.query("SELECT site_id, due_on FROM plan_orders WHERE plan_id = $1", params![plan_id])? {
        if let Ok(d) = NaiveDate::parse_from_str(&r.text(1)?, "%Y-%m-%d") {
            made.entry(r.text(0)?).or_default().push(d);
        }
    }
    let now = crate::now_text();
    let mut w = Writer::begin(tx)?;
    for day in due {
        let phase = phase_of(starts, ends, day).map(|p| p.as_str());
        for site in &sites {
            let id = planned_order_id(plan_id, day, site);
            if w.load("work_orders", &id)?.is_some() || visit_made(made.get(site).map_or(&[], Vec::as_slice), day, interval) {
                out.existing += 1;
                continue;
            }
            made.entry(site.clone()).or_default().push(day);
            let number = next_number(w.tx()?, day)?;
            // Due by the end of the due day, in the server's local time.
            let deadline = (day + chrono::Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight").and_local_timezone(chrono::Local).earliest().map(|t| crate::store_ts(t.to_utc())).unwrap_or_else(|| now.clone());
            let fields = [
                ("number", json!(number)),
                ("kind", json!("patrol_inspection")),
                ("customer_id", json!(customer_id)),
                ("site_id", json!(site)),
                ("asset_ids", json!(assets_at.get(site).cloned().unwrap_or_default())),
                ("technician", json!(technician)),
                ("priority", json!("normal")),
                ("category", json!("B")),
                ("status", json!(if technician.is_some() { "dispatched" } else { "new" })),
                ("template_id", json!(template)),
                ("problem", json!(name)),
                ("scheduled_on", json!(day.to_string())),
                ("reported_at", json!(now)),
                ("response_deadline", json!(deadline)),
                ("revision", json!(1)),
                ("plan_id", json!(plan_id)),
                ("phase", json!(phase)),
                ("deleted", json!(false)),
            ];
            write_changed(&mut w, "work_orders", &id, &fields)?;
            w.tx()?.execute(
                "INSERT INTO plan_orders (work_order_id, plan_id, due_on, site_id, phase, generated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (work_order_id) DO NOTHING",
                params![id.as_str(), plan_id, day.to_string(), site.as_str(), phase, now.as_str()],
            )?;
            out.made += 1;
        }
    }
    w.finish()?;
    Ok(())
}

/// Every active plan (of one contract, or all), `from..=to`.
pub fn generate(tx: &mut dyn Tx, contract_id: Option<&str>, plan_id: Option<&str>, from: NaiveDate, to: NaiveDate) -> Result<Generated> {
    if to < from {
        return Err(Error::Invalid(format!("from {from} is after to {to}; swap them")));
    }
    if (to - from).num_days() > MAX_PERIOD_DAYS {
        return Err(Error::Invalid(format!("{from} to {to} is more than {MAX_PERIOD_DAYS} days; generate a year at a time")));
    }
    let ids: Vec<String> = match (plan_id, contract_id) {
        (Some(p), _) => vec![p.to_owned()],
        (None, Some(c)) => records::by_owner(tx, "inspection_plans", c)?.into_iter().map(|(id, _)| id).collect(),
        (None, None) => tx.query("SELECT id FROM records WHERE entity = 'inspection_plans' ORDER BY id", params![])?.iter().map(|r| r.text(0)).collect::<Result<_>>()?,
    };
    let mut out = Generated::default();
    for id in ids {
        generate_plan(tx, &id, from, to, &mut out)?;
    }
    Ok(out)
}

/// The periodic run: every active plan's orders from today to its lead time ahead. Each plan in
/// its own transaction, so one broken plan does not stop the others (it is logged).
pub fn generate_due(db: &Db) -> Generated {
    let today = chrono::Local::now().date_naive();
    let ids = match db.transaction(Mode::Read, |tx| {
        let rows = tx.query("SELECT id, fields FROM records WHERE entity = 'inspection_plans' ORDER BY id", params![])?;
        rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?))).collect::<Result<Vec<_>>>()
    }) {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %e, "planned inspections: could not read the plans");
            return Generated::default();
        }
    };
    let mut total = Generated::default();
    for (id, fields) in ids {
        let lead = serde_json::from_str::<Map<String, Value>>(&fields).ok().and_then(|f| f.get("lead_days").and_then(Value::as_i64)).unwrap_or(DEFAULT_LEAD_DAYS);
        let to = today + chrono::Duration::days(lead.clamp(0, MAX_LEAD_DAYS));
        match db.transaction(Mode::Feed, |tx| {
            let mut g = Generated::default();
            generate_plan(tx, &id, today, to, &mut g)?;
            Ok(g)
        }) {
            Ok(g) => {
                total.made += g.made;
                total.existing += g.existing;
                total.plans += g.plans;
            }
            Err(e) => tracing::warn!(plan = %id, error = %e, "planned inspections: generation failed for this plan"),
        }
    }
    if total.made > 0 {
        tracing::info!(made = total.made, plans = total.plans, "planned inspections generated");
    }
    total
}

/// How often the server's periodic run generates planned inspections.
pub const PERIOD: std::time::Duration = std::time::Duration::from_secs(3600);

/// The server's periodic run, at start and then every [`PERIOD`]; stops with the server.
pub async fn periodic(db: Db) {
    let mut tick = tokio::time::interval(PERIOD);
    loop {
        tick.tick().await;
        let db = db.clone();
        if tokio::task::spawn_blocking(move || generate_due(&db)).await.is_err() {
            tracing::warn!("planned inspections: the periodic run stopped unexpectedly");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Routes

#[derive(Debug, Deserialize)]
pub struct ContractQuery {
    pub q: Option<String>,
}

/// Contracts by number or customer name, with how many plans each has.
pub async fn contracts(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<ContractQuery>) -> Result<Json<Vec<Value>>> {
    let text = super::search_text("q", q.q.as_deref().unwrap_or_default())?.to_lowercase();
    let like = format!("%{}%", text.replace(['%', '_', '\\'], ""));
    let rows = s
        .db
        .run(Mode::Read, move |tx| {
            let rows = tx.query(
                "SELECT k.id, k.code, c.name, k.ends_on, (SELECT COUNT(*) FROM records p WHERE p.entity = 'inspection_plans' AND p.owner_id = k.id) \
                 FROM reference_index k LEFT JOIN reference_index c ON c.entity = 'customers' AND c.id = k.parent_id \
                 WHERE k.entity = 'contracts' AND k.deleted = 0 AND (LOWER(k.code) LIKE $1 OR LOWER(c.name) LIKE $1) ORDER BY k.code LIMIT 20",
                params![like],
            )?;
            rows.iter()
                .map(|r| Ok(json!({"id": r.text(0)?, "number": r.opt_text(1)?, "customer_name": r.opt_text(2)?, "ends_on": r.opt_text(3)?, "plans": r.int(4)?})))
                .collect::<Result<Vec<_>>>()
        })
        .await?;
    Ok(Json(rows))
}

#[derive(Debug, Deserialize)]
pub struct PlansQuery {
    pub contract_id: String,
}

/// A contract (dates, today's phase, its customer's sites and assets) and its plans.
pub fn contract_plans(tx: &mut dyn Tx, contract_id: &str) -> Result<Value> {
    let c = records::load(tx, "contracts", contract_id)?.ok_or_else(|| Error::NotFound(format!("no contract '{contract_id}'; search contracts by number or customer")))?;
    let f = &c.fields;
    let customer_id = records::text_of(f, "customer_id").unwrap_or_default().to_owned();
    let customer = records::load(tx, "customers", &customer_id)?;
    let today = chrono::Local::now().date_naive();
    let phase = match (date_field(f, "starts_on", "contract"), date_field(f, "ends_on", "contract")) {
        (Ok(s), Ok(e)) => phase_of(s, e, today).map(|p| p.as_str()),
        _ => None,
    };
    let mut plans = Vec::new();
    for (id, _) in records::by_owner(tx, "inspection_plans", contract_id)? {
        let p = plan_json(tx, &id)?;
        if p.get("deleted") != Some(&Value::Bool(true)) {
            plans.push(p);
        }
    }
    let sites = super::calls::sites_of(tx, &customer_id)?;
    Ok(json!({
        "contract": {
            "id": contract_id, "number": f.get("number"), "customer_id": customer_id,
            "customer_name": customer.as_ref().and_then(|c| records::text(c, "name")),
            "starts_on": f.get("starts_on"), "ends_on": f.get("ends_on"), "asset_ids": f.get("asset_ids"), "phase_today": phase,
        },
        "plans": plans,
        "sites": sites,
    }))
}

pub async fn list(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<PlansQuery>) -> Result<Json<Value>> {
    Ok(Json(s.db.run(Mode::Read, move |tx| contract_plans(tx, q.contract_id.trim())).await?))
}

pub async fn create(State(s): State<AppState>, u: ConsoleUser, JsonBody(input): JsonBody<PlanInput>) -> Result<(axum::http::StatusCode, Json<Value>)> {
    let actor = u.login().to_owned();
    let v = s.db.run(Mode::Feed, move |tx| save_plan(tx, &actor, None, &input)).await?;
    Ok((axum::http::StatusCode::CREATED, Json(v)))
}

pub async fn change(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(input): JsonBody<PlanInput>) -> Result<Json<Value>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| save_plan(tx, &actor, Some(&id), &input)).await?))
}

#[derive(Debug, Deserialize)]
pub struct GenerateRequest {
    pub contract_id: Option<String>,
    pub plan_id: Option<String>,
    pub from: String,
    pub to: String,
}

fn day(field: &str, v: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| Error::Invalid(format!("{field} '{v}': write the day as YYYY-MM-DD")))
}

pub async fn generate_route(State(s): State<AppState>, u: ConsoleUser, JsonBody(req): JsonBody<GenerateRequest>) -> Result<Json<Generated>> {
    let (from, to) = (day("from", &req.from)?, day("to", &req.to)?);
    if req.contract_id.is_none() && req.plan_id.is_none() {
        return Err(Error::Invalid("contract_id or plan_id: say whose planned inspections to generate".into()));
    }
    let actor = u.login().to_owned();
    Ok(Json(
        s.db.run(Mode::Feed, move |tx| {
            let g = generate(tx, req.contract_id.as_deref(), req.plan_id.as_deref(), from, to)?;
            let target = req.plan_id.as_deref().or(req.contract_id.as_deref());
            let entity = if req.plan_id.is_some() { "inspection_plans" } else { "contracts" };
            audit::record(tx, &actor, "plans_generated", Some(entity), target, None, json!({"from": from, "to": to, "made": g.made, "existing": g.existing}))?;
            Ok(g)
        })
        .await?,
    ))
}

#[derive(Debug, Deserialize)]
pub struct OrdersQuery {
    pub contract_id: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The orders a contract's plans made (due in `from..=to` when given), by due date.
pub fn plan_orders(tx: &mut dyn Tx, contract_id: &str, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Vec<Value>> {
    let plans: BTreeMap<String, String> = records::by_owner(tx, "inspection_plans", contract_id)?
        .into_iter()
        .map(|(id, p)| (id, records::text(&p, "name").unwrap_or_default().to_owned()))
        .collect();
    let mut out = Vec::new();
    for (pid, pname) in &plans {
        let rows = tx.query(
            "SELECT p.work_order_id, p.due_on, p.phase, w.number, w.status, w.technician, u.display_name, w.scheduled_on, s.name \
             FROM plan_orders p JOIN work_order_index w ON w.id = p.work_order_id \
             LEFT JOIN users u ON u.login = w.technician \
             LEFT JOIN reference_index s ON s.entity = 'sites' AND s.id = w.site_id \
             WHERE p.plan_id = $1 AND p.due_on >= $2 AND p.due_on <= $3 AND w.deleted = 0 ORDER BY p.due_on, w.number",
            params![pid.as_str(), from.map(|d| d.to_string()).unwrap_or_default(), to.map(|d| d.to_string()).unwrap_or_else(|| "9999-12-31".into())],
        )?;
        for r in rows {
            out.push(json!({
                "id": r.text(0)?, "due_on": r.text(1)?, "phase": r.opt_text(2)?, "number": r.text(3)?, "status": r.opt_text(4)?,
                "technician": r.opt_text(5)?, "technician_name": r.opt_text(6)?, "scheduled_on": r.opt_text(7)?, "site_name": r.opt_text(8)?,
                "plan_id": pid, "plan_name": pname,
            }));
        }
    }
    out.sort_by(|a, b| (a["due_on"].as_str(), a["number"].as_str()).cmp(&(b["due_on"].as_str(), b["number"].as_str())));
    Ok(out)
}

pub async fn orders(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<OrdersQuery>) -> Result<Json<Vec<Value>>> {
    let from = q.from.as_deref().filter(|s| !s.is_empty()).map(|v| day("from", v)).transpose()?;
    let to = q.to.as_deref().filter(|s| !s.is_empty()).map(|v| day("to", v)).transpose()?;
    Ok(Json(s.db.run(Mode::Read, move |tx| plan_orders(tx, q.contract_id.trim(), from, to)).await?))
}

#[derive(Debug, Deserialize)]
pub struct RebalanceRequest {
    pub order_ids: Vec<String>,
    pub technicians: Vec<String>,
}

/// Spreads these orders over these technicians, the least loaded first (open orders they already
/// hold, plus what this rebalance gave them), in due order; each move is a dispatch (audited),
/// all or nothing.
pub fn rebalance(tx: &mut dyn Tx, actor: &str, req: &RebalanceRequest) -> Result<Vec<super::work_orders::Summary>> {
    if req.order_ids.is_empty() || req.technicians.is_empty() {
        return Err(Error::Invalid("order_ids and technicians: pick the orders to rebalance and the technicians to share them".into()));
    }
    if req.order_ids.len() > 1000 {
        return Err(Error::Invalid("order_ids: rebalance at most 1000 orders at a time".into()));
    }
    let mut load: BTreeMap<String, i64> = BTreeMap::new();
    for t in &req.technicians {
        check_technician(tx, t.trim())?;
        let n = tx
            .query_one("SELECT COUNT(*) FROM work_order_index WHERE technician = $1 AND status IN ('dispatched', 'en_route', 'on_site') AND deleted = 0", params![t.trim()])?
            .int(0)?;
        load.insert(t.trim().to_owned(), n);
    }
    let mut orders = Vec::new();
    for id in &req.order_ids {
        let row = tx
            .query_opt("SELECT scheduled_on, technician FROM work_order_index WHERE id = $1", params![id.as_str()])?
            .ok_or_else(|| Error::NotFound(format!("no work order '{id}'")))?;
        let (day, tech) = (row.opt_text(0)?.unwrap_or_default(), row.opt_text(1)?);
        // An order leaving one of these technicians no longer counts against them.
        if let Some(n) = tech.as_ref().and_then(|t| load.get_mut(t)) {
            *n -= 1;
        }
        orders.push((day, id.clone()));
    }
    orders.sort();
    let mut out = Vec::new();
    for (_, id) in orders {
        let (t, n) = load.iter_mut().min_by_key(|(t, n)| (**n, (*t).clone())).expect("technicians");
        *n += 1;
        let t = t.clone();
        out.push(super::calls::dispatch_order(tx, actor, &id, &t)?);
    }
    audit::record(tx, actor, "plans_rebalanced", Some("work_orders"), None, None, json!({"orders": req.order_ids, "technicians": req.technicians}))?;
    Ok(out)
}

pub async fn rebalance_route(State(s): State<AppState>, u: ConsoleUser, JsonBody(req): JsonBody<RebalanceRequest>) -> Result<Json<Vec<super::work_orders::Summary>>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| rebalance(tx, &actor, &req)).await?))
}

// ---------------------------------------------------------------------------------------------
// The overdue-inspections report's planned side

/// A planned due date at a site that has no order yet.
#[derive(Debug, Clone)]
pub struct NotGenerated {
    pub plan_id: String,
    pub plan_name: String,
    pub contract_id: String,
    pub contract_number: String,
    pub customer_id: String,
    pub site_id: String,
    pub technician: Option<String>,
    pub due_on: NaiveDate,
}

/// Planned due dates from `from` to before `until` of active plans that have no order yet, by due
/// date. A few queries whatever the number of plans (plans, their contracts, the orders made).
pub fn not_generated(tx: &mut dyn Tx, from: NaiveDate, until: NaiveDate) -> Result<Vec<NotGenerated>> {
    let mut out = Vec::new();
    if until <= from {
        return Ok(out);
    }
    let rows = tx.query("SELECT id, fields FROM records WHERE entity = 'inspection_plans' ORDER BY id", params![])?;
    let mut plans: Vec<(String, Map<String, Value>)> = Vec::new();
    for r in rows {
        let p: Map<String, Value> = serde_json::from_str(&r.text(1)?).map_err(|e| Error::Internal(format!("stored inspection plan: {e}")))?;
        if p.get("deleted") != Some(&Value::Bool(true)) && p.get("active") == Some(&Value::Bool(true)) {
            plans.push((r.text(0)?, p));
        }
    }
    let contract_ids: Vec<&str> = plans.iter().filter_map(|(_, p)| records::text_of(p, "contract_id")).collect();
    let contracts: HashMap<String, records::Stored> = records::load_many(tx, "contracts", &contract_ids)?.into_iter().collect();
    // The days orders were made for, per plan and site, as far around the range as a visit
    // made can stand for a due date in it (half a year at most: `visit_made`).
    let reach = chrono::Duration::days(fieldbook_core::inspection_plan::same_visit_days(Interval::Yearly));
    let mut made: HashMap<(String, String), Vec<NaiveDate>> = HashMap::new();
    for r in tx.query(
        "SELECT plan_id, site_id, due_on FROM plan_orders WHERE due_on > $1 AND due_on < $2",
        params![(from - reach).to_string(), (until + reach).to_string()],
    )? {
        if let Ok(d) = NaiveDate::parse_from_str(&r.text(2)?, "%Y-%m-%d") {
            made.entry((r.text(0)?, r.text(1)?)).or_default().push(d);
        }
    }
    for (pid, p) in &plans {
        let cid = records::text_of(p, "contract_id").unwrap_or_default();
        let Some(c) = contracts.get(cid) else { continue };
        let c = c.fields()?;
        let (Ok(s), Ok(e)) = (date_field(c, "starts_on", "contract"), date_field(c, "ends_on", "contract")) else { continue };
        let Ok(interval) = Interval::parse(records::text_of(p, "interval").unwrap_or_default()) else { continue };
        for d in due_dates(s, e, interval, from, until - chrono::Duration::days(1)) {
            for site in strings(p, "site_ids") {
                if !visit_made(made.get(&(pid.clone(), site.clone())).map_or(&[], Vec::as_slice), d, interval) {
                    out.push(NotGenerated {
                        plan_id: pid.clone(),
                        plan_name: records::text_of(p, "name").unwrap_or_default().to_owned(),
                        contract_id: cid.to_owned(),
                        contract_number: records::text_of(c, "number").unwrap_or_default().to_owned(),
                        customer_id: records::text_of(c, "customer_id").unwrap_or_default().to_owned(),
                        site_id: site,
                        technician: records::text_of(p, "technician").filter(|t| !t.is_empty()).map(str::to_owned),
                        due_on: d,
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| (a.due_on, &a.contract_number, &a.site_id).cmp(&(b.due_on, &b.contract_number, &b.site_id)));
    Ok(out)
}

/// A reference record's name and region, either unknown.
pub type NameAndRegion = (Option<String>, Option<String>);

/// Name and region of many `reference_index` records of one entity, in a few queries.
pub fn reference_names(tx: &mut dyn Tx, entity: &str, ids: &[&str]) -> Result<HashMap<String, NameAndRegion>> {
    let mut out = HashMap::new();
    let max = *crate::db::LIST_SIZES.last().expect("sizes");
    for chunk in ids.chunks(max) {
        let size = crate::db::LIST_SIZES.iter().copied().find(|&s| s >= chunk.len()).unwrap_or(max);
        let sql = crate::db::values_list("SELECT r.id, r.name, r.region FROM", 2, size, "AS v JOIN reference_index r ON r.entity = $1 AND r.id = v.column1");
        let mut params = Vec::with_capacity(size + 1);
        params.push(crate::db::Value::from(entity));
        params.extend((0..size).map(|i| crate::db::Value::from(chunk.get(i).copied().unwrap_or(""))));
        for r in tx.query(sql, &params)? {
            out.insert(r.text(0)?, (r.opt_text(1)?, r.opt_text(2)?));
        }
    }
    Ok(out)
}
