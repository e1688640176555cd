//! The service calendar in the console (issue #11): the calendar in force and its versions,
//! publishing a new version (admin only, validated by the core, audited), and the deadline a call
//! is promised — the call form's preview and the answer to registering a call — computed by
//! `fieldbook_core::service_calendar`, the one function every deadline comes from. Versions are
//! `service_calendars` records written through the feed writer, so every laptop pulls them and
//! computes a follow-up's deadline as the office would. A published version never changes.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use fieldbook_core::import::stable_id;
use fieldbook_core::model::Zone;
use fieldbook_core::service_calendar::{self, CalendarVersion, CommitmentDue, ContractTerms, Deadline, ServiceCalendar};
use fieldbook_core::store::ts;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{audit, ConsoleUser};
use crate::api::{AppState, JsonBody};
use crate::db::{Mode, Tx};
use crate::error::{Error, Result};
use crate::feed::Writer;
use crate::import::write_changed;
use crate::records;

/// One published version as the console shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Version {
    pub version: i64,
    pub effective_from: String,
    pub published_at: Option<String>,
    pub body: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CalendarPage {
    /// The version in force now; `null` while none was published (the built-in default applies).
    pub in_force: Option<i64>,
    /// What applies now: the version in force's body, or the built-in default.
    pub current: Value,
    /// Every version, newest first.
    pub versions: Vec<Version>,
}

fn stored_versions(tx: &mut dyn Tx) -> Result<Vec<Version>> {
    let mut out = Vec::new();
    for (_, s) in records::all(tx, "service_calendars")? {
        if s.fields.get("deleted") == Some(&Value::Bool(true)) {
            continue;
        }
        let (Some(version), Some(effective_from)) = (records::int(&s, "version"), records::text(&s, "effective_from")) else { continue };
        out.push(Version {
            version,
            effective_from: effective_from.to_owned(),
            published_at: records::text(&s, "published_at").map(str::to_owned),
            body: s.fields.get("body").cloned().unwrap_or(Value::Null),
        });
    }
    out.sort_by_key(|v| std::cmp::Reverse(v.version));
    Ok(out)
}

/// Every published version, parsed (the server validated each before publishing it).
pub fn versions(tx: &mut dyn Tx) -> Result<Vec<CalendarVersion>> {
    let rows = stored_versions(tx)?.into_iter().map(|v| (v.version, v.effective_from, v.body));
    Ok(service_calendar::versions_from_records(rows)?)
}

/// Contracts as the calendar needs them: one customer's, or everyone's (`None`). Read only when
/// the calendar assigns policies to contracts at all.
pub fn contract_terms(tx: &mut dyn Tx, customer_id: Option<&str>) -> Result<Vec<ContractTerms>> {
    let mut out = Vec::new();
    for (_, s) in records::all(tx, "contracts")? {
        let customer = records::text(&s, "customer_id");
        if s.fields.get("deleted") == Some(&Value::Bool(true)) || customer_id.is_some_and(|c| customer != Some(c)) {
            continue;
        }
        let day = |f: &str| records::text(&s, f).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        let (Some(number), Some(customer), Some(starts_on), Some(ends_on)) = (records::text(&s, "number"), customer, day("starts_on"), day("ends_on")) else { continue };
        let asset_ids = s.fields.get("asset_ids").cloned().and_then(|a| serde_json::from_value(a).ok()).unwrap_or_default();
        out.push(ContractTerms { number: number.to_owned(), customer_id: customer.to_owned(), starts_on, ends_on, asset_ids });
    }
    Ok(out)
}

/// Whether any calendar (a published version or the default) assigns a policy to a contract.
pub fn any_contract_policies(versions: &[CalendarVersion]) -> bool {
    versions.iter().any(|v| !v.calendar.contracts.is_empty()) || !ServiceCalendar::default().contracts.is_empty()
}

/// What a call is promised, with the version it was computed from.
pub struct Computed {
    pub calendar_version: Option<i64>,
    pub calendar: ServiceCalendar,
    pub contract: Option<String>,
    pub deadline: Deadline,
}

/// THE deadline of a call taken at `reported_at` from `customer_id` (when known) about `assets`
/// at a site in `zone`, by the calendar version in force at `reported_at`. `contracts`: the
/// contracts to consider, when the caller has them already (an import: the server's and the
/// file's); `None` reads the customer's.
pub fn compute(tx: &mut dyn Tx, versions: &[CalendarVersion], contracts: Option<&[ContractTerms]>, reported_at: DateTime<Utc>, zone: Zone, customer_id: Option<&str>, assets: &[String]) -> Result<Computed> {
    let in_force = service_calendar::in_force(versions, reported_at);
    let calendar = in_force.map(|v| v.calendar.clone()).unwrap_or_default();
    let contract = match customer_id {
        Some(customer) if !calendar.contracts.is_empty() => {
            let day = calendar.local(reported_at).date_naive();
            match contracts {
                Some(terms) => calendar.contract_for(terms, customer, assets, day).map(str::to_owned),
                None => calendar.contract_for(&contract_terms(tx, Some(customer))?, customer, assets, day).map(str::to_owned),
            }
        }
        _ => None,
    };
    let deadline = calendar.deadline(reported_at, zone, contract.as_deref());
    Ok(Computed { calendar_version: in_force.map(|v| v.version), calendar, contract, deadline })
}

/// The response deadline `register_call` stores on a new order.
pub fn response_deadline(tx: &mut dyn Tx, reported_at: DateTime<Utc>, zone: Zone, customer_id: &str, assets: &[String]) -> Result<DateTime<Utc>> {
    let versions = versions(tx)?;
    Ok(compute(tx, &versions, None, reported_at, zone, Some(customer_id), assets)?.deadline.on_site_by)
}

/// The answer the call form shows: every deadline, when the clock starts, and what to tell the
/// caller, in both languages.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Promise {
    /// `null`: the built-in default calendar (no version published or in force yet).
    pub calendar_version: Option<i64>,
    pub policy: String,
    pub policy_label_en: String,
    pub policy_label_zh: String,
    pub contract: Option<String>,
    pub reported_at: String,
    pub clock_starts: String,
    pub outside_working_hours: bool,
    /// The on-site deadline: the order's `response_deadline`.
    pub response_deadline: String,
    pub commitments: Vec<CommitmentDue>,
    /// The company's UTC offset, for showing the times on its wall clock.
    pub utc_offset: String,
    /// What to tell the caller.
    pub say_en: String,
    pub say_zh: String,
}

fn promise_of(c: &Computed, reported_at: DateTime<Utc>) -> Promise {
    let d = &c.deadline;
    let policy = c.calendar.policies.iter().find(|p| p.name == d.policy).expect("the deadline names one of the calendar's policies");
    let en = |t: DateTime<Utc>| c.calendar.local(t).format("%a %-d %b %H:%M").to_string();
    const WEEKDAYS_ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
    let zh = |t: DateTime<Utc>| {
        use chrono::Datelike;
        let l = c.calendar.local(t);
        format!("{}月{}日({}){}", l.month(), l.day(), WEEKDAYS_ZH[l.weekday().num_days_from_monday() as usize], l.format("%H:%M"))
    };
    let (say_en, say_zh) = if d.outside_working_hours {
        (
            format!("Outside working hours: the response clock starts {}. Tell the caller to expect the technician by {}.", en(d.clock_starts), en(d.on_site_by)),
            format!("非工作时间来电:响应计时从{}开始。请告知客户技术员将于{}前到场。", zh(d.clock_starts), zh(d.on_site_by)),
        )
    } else {
        (format!("Tell the caller to expect the technician by {}.", en(d.on_site_by)), format!("请告知客户技术员将于{}前到场。", zh(d.on_site_by)))
    };
    Promise {
        calendar_version: c.calendar_version,
        policy: d.policy.clone(),
        policy_label_en: policy.label_en.clone(),
        policy_label_zh: policy.label_zh.clone(),
        contract: c.contract.clone(),
        reported_at: ts(reported_at),
        clock_starts: ts(d.clock_starts),
        outside_working_hours: d.outside_working_hours,
        response_deadline: ts(d.on_site_by),
        commitments: d.commitments.clone(),
        utc_offset: c.calendar.utc_offset.clone(),
        say_en,
        say_zh,
    }
}

/// The promise of a registered order, from its stored call time, site, customer and assets:
/// what `register_call` computed its deadline from, in the same transaction.
pub fn promise_for_order(tx: &mut dyn Tx, order_id: &str) -> Result<Promise> {
    let order = records::load(tx, "work_orders", order_id)?.ok_or_else(|| Error::NotFound(format!("no work order {order_id}")))?;
    let reported_at = records::text(&order, "reported_at").and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.to_utc()).ok_or_else(|| Error::Internal(format!("work order {order_id} has no reported_at")))?;
    let customer = records::text(&order, "customer_id").map(str::to_owned);
    let assets: Vec<String> = order.fields.get("asset_ids").cloned().and_then(|a| serde_json::from_value(a).ok()).unwrap_or_default();
    let zone = match records::text(&order, "site_id") {
        Some(site) => site_zone(tx, site)?,
        None => Zone::Urban,
    };
    let versions = versions(tx)?;
    let c = compute(tx, &versions, None, reported_at, zone, customer.as_deref(), &assets)?;
    Ok(promise_of(&c, reported_at))
}

fn site_zone(tx: &mut dyn Tx, site_id: &str) -> Result<Zone> {
    let site = records::load(tx, "sites", site_id)?
        .filter(|s| s.fields.get("deleted") != Some(&Value::Bool(true)))
        .ok_or_else(|| Error::Invalid(format!("site_id '{site_id}': no such site; pick one of the customer's sites")))?;
    Ok(records::text(&site, "zone").and_then(|z| z.parse().ok()).unwrap_or(Zone::Urban))
}

// ---------------------------------------------------------------------------------------------
// Routes

pub async fn get(State(s): State<AppState>, _u: ConsoleUser) -> Result<Json<CalendarPage>> {
    let page = s
        .db
        .run(Mode::Read, |tx| {
            let all = stored_versions(tx)?;
            let parsed = versions(tx)?;
            let now = service_calendar::in_force(&parsed, Utc::now());
            Ok(CalendarPage {
                in_force: now.map(|v| v.version),
                current: now.map(|v| v.calendar.to_json()).unwrap_or_else(|| ServiceCalendar::default().to_json()),
                versions: all,
            })
        })
        .await?;
    Ok(Json(page))
}

#[derive(Debug, Deserialize)]
pub struct PublishRequest {
    /// RFC 3339, or a date (its midnight on the calendar's own clock).
    pub effective_from: String,
    pub body: Value,
}

/// Publishes `body` as the next version. Runs in a `Mode::Feed` transaction.
pub fn publish_version(tx: &mut dyn Tx, actor: &str, req: &PublishRequest) -> Result<Version> {
    let calendar = ServiceCalendar::from_json(&req.body)?;
    let effective_from = service_calendar::parse_effective_from(req.effective_from.trim(), &calendar).map_err(|e| Error::Invalid(format!("effective_from: {e}")))?;
    let version = stored_versions(tx)?.first().map(|v| v.version).unwrap_or(0) + 1;
    let body = calendar.to_json();
    let published_at = crate::now_text();
    let id = stable_id("service_calendars", &version.to_string());
    let effective_from = ts(effective_from);
    let mut w = Writer::begin(tx)?;
    write_changed(
        &mut w,
        "service_calendars",
        &id,
        &[("version", json!(version)), ("effective_from", json!(effective_from)), ("body", body.clone()), ("published_at", json!(published_at)), ("deleted", json!(false))],
    )?;
    w.finish()?;
    audit::record(tx, actor, "calendar_published", Some("service_calendars"), Some(&id), None, json!({"version": version, "effective_from": effective_from}))?;
    Ok(Version { version, effective_from, published_at: Some(published_at), body })
}

pub async fn publish(State(s): State<AppState>, u: ConsoleUser, JsonBody(req): JsonBody<PublishRequest>) -> Result<Response> {
    u.require_admin("publish the service calendar")?;
    let actor = u.login().to_owned();
    let v = s.db.run(Mode::Feed, move |tx| publish_version(tx, &actor, &req)).await?;
    Ok((axum::http::StatusCode::CREATED, Json(v)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct PreviewQuery {
    pub reported_at: Option<String>,
    pub site_id: Option<String>,
    pub zone: Option<String>,
    pub customer_id: Option<String>,
    /// Comma-separated asset ids.
    pub asset_ids: Option<String>,
    /// A contract number, instead of the one found from the customer and assets.
    pub contract: Option<String>,
}

pub async fn preview(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<PreviewQuery>) -> Result<Json<Promise>> {
    let reported_at = match q.reported_at.as_deref() {
        None | Some("") => Utc::now(),
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map(|t| t.to_utc())
            .map_err(|_| Error::Invalid(format!("reported_at '{t}': give the time of the call as RFC 3339, e.g. 2026-03-13T18:30:00+08:00")))?,
    };
    let promise = s
        .db
        .run(Mode::Read, move |tx| {
            let zone = match (q.site_id.as_deref().filter(|s| !s.is_empty()), q.zone.as_deref().filter(|s| !s.is_empty())) {
                (Some(site), _) => site_zone(tx, site)?,
                (None, Some(z)) => z.parse().map_err(|e: String| Error::Invalid(format!("zone: {e}")))?,
                (None, None) => return Err(Error::Invalid("give site_id (or zone: urban or suburban) for the deadline preview".into())),
            };
            let assets: Vec<String> = q.asset_ids.as_deref().unwrap_or("").split(',').filter(|a| !a.is_empty()).map(str::to_owned).collect();
            let versions = versions(tx)?;
            let mut c = compute(tx, &versions, None, reported_at, zone, q.customer_id.as_deref(), &assets)?;
            if let Some(contract) = q.contract.as_deref().filter(|c| !c.is_empty()) {
                if !c.calendar.contracts.contains_key(contract) {
                    return Err(Error::Invalid(format!("contract '{contract}': the calendar assigns it no policy; assign one in the service calendar or leave it out")));
                }
                c.deadline = c.calendar.deadline(reported_at, zone, Some(contract));
                c.contract = Some(contract.to_owned());
            }
            Ok(promise_of(&c, reported_at))
        })
        .await?;
    Ok(Json(promise))
}
