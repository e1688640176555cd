//! Contracts and renewals (续约, #12): the contracts ending within a month (fixed: [`WINDOW_DAYS`]
//! ahead, the handbooks' "one month before"; contracts ended up to as long ago whose renewal is
//! still undecided stay on the list), the expiry notice PDF (保养到期通知书,
//! `fieldbook_core::expiry_notice`), and the renewal's tracking in a `contract_renewals` desk
//! record, one per contract (`renewal-<contract id>`): notice made → sent (how, when) → renewal
//! visit planned (optional; day, who) → renewed (a new contract, `renewal_of` the old one, made
//! here or an existing one linked) or lost (reason). Steps out of this order are refused naming
//! the missing step; once decided, nothing more is tracked. Every step is audited.
//!
//! Also a contract's service level (the office sets it here, apart from the contract's base
//! fields), and the service category a repair defaults to by the same core rule the laptop's
//! repair form uses (`fieldbook_core::service_category`): the review queue and an order's page
//! flag a repair recorded in another category, with the reason.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, Local, NaiveDate, Utc};
use fieldbook_core::expiry_notice::{self, CoveredAsset, SENT_HOW};
use fieldbook_core::service_calendar::ContractTerms;
use fieldbook_core::service_category::{self, is_service_level, SERVICE_LEVELS};
use fieldbook_core::store::ts;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{audit, ConsoleUser};
use crate::api::{AppState, JsonBody};
use crate::db::{Mode, Tx};
use crate::error::{Error, Result};
use crate::feed::Writer;
use crate::import::write_changed;
use crate::{params, records};

/// How far ahead (and, for undecided renewals, back) the list looks, in days: one month.
pub const WINDOW_DAYS: i64 = 30;

/// The id of a contract's renewal record.
pub fn renewal_id(contract_id: &str) -> String {
    format!("renewal-{contract_id}")
}

/// The company's today (the server's local time, as complaint numbers).
fn today() -> NaiveDate {
    Local::now().date_naive()
}

fn day(field: &str, v: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| Error::Invalid(format!("{field} '{v}': write a day as YYYY-MM-DD")))
}

fn time(field: &str, v: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v.trim()).map(|t| t.with_timezone(&Utc)).map_err(|_| Error::Invalid(format!("{field} '{v}': give a date and time (RFC 3339)")))
}

fn live(s: &Map<String, Value>) -> bool {
    s.get("deleted") != Some(&Value::Bool(true))
}

/// Where a renewal stands: the furthest step reached.
fn state_of(r: Option<&Map<String, Value>>) -> &'static str {
    let Some(r) = r else { return "open" };
    let has = |k: &str| records::text_of(r, k).is_some_and(|v| !v.is_empty());
    match records::text_of(r, "outcome") {
        Some("renewed") => "renewed",
        Some("lost") => "lost",
        _ if has("visit_on") => "visit_planned",
        _ if has("sent_at") => "sent",
        _ if has("notice_made_at") => "notice_made",
        _ => "open",
    }
}

/// A customer's name and code.
fn customer_of(tx: &mut dyn Tx, customer_id: &str) -> Result<(Option<String>, Option<String>)> {
    Ok(match tx.query_opt("SELECT name, code FROM reference_index WHERE entity = 'customers' AND id = $1", params![customer_id])? {
        Some(r) => (r.opt_text(0)?, r.opt_text(1)?),
        None => (None, None),
    })
}

fn parse_fields(what: &str, text: &str) -> Result<Map<String, Value>> {
    serde_json::from_str(text).map_err(|e| Error::Internal(format!("stored fields of {what}: {e}")))
}

/// One line of the list (and the head of a renewal's page).
fn row(
    tx: &mut dyn Tx, id: &str, contract: &Map<String, Value>, renewal: Option<&Map<String, Value>>, customer: (Option<String>, Option<String>), today: NaiveDate,
) -> Result<Value> {
    let t = |k: &str| records::text_of(contract, k).map(str::to_owned);
    let customer_id = t("customer_id").unwrap_or_default();
    let (customer_name, customer_code) = customer;
    let ends_on = t("ends_on");
    let days_left = ends_on.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).map(|d| (d - today).num_days());
    let g = |k: &str| renewal.and_then(|r| r.get(k)).cloned().unwrap_or(Value::Null);
    let new_contract_number = match renewal.and_then(|r| records::text_of(r, "new_contract_id")) {
        Some(nid) => records::load(tx, "contracts", nid)?.and_then(|s| records::text(&s, "number").map(str::to_owned)),
        None => None,
    };
    Ok(json!({
        "contract_id": id, "number": t("number"), "customer_id": customer_id, "customer_name": customer_name, "customer_code": customer_code,
        "starts_on": t("starts_on"), "ends_on": ends_on, "days_left": days_left, "service_level": t("service_level"), "renewal_of": t("renewal_of"),
        "assets": contract.get("asset_ids").and_then(Value::as_array).map_or(0, Vec::len),
        "state": state_of(renewal),
        "notice_made_at": g("notice_made_at"), "notice_made_by": g("notice_made_by"), "sent_how": g("sent_how"), "sent_at": g("sent_at"), "sent_by": g("sent_by"),
        "visit_on": g("visit_on"), "visit_by": g("visit_by"), "visit_planned_by": g("visit_planned_by"), "outcome": g("outcome"),
        "new_contract_id": g("new_contract_id"), "new_contract_number": new_contract_number, "lost_reason": g("lost_reason"),
        "decided_at": g("decided_at"), "decided_by": g("decided_by"),
    }))
}

/// The contracts ending within [`WINDOW_DAYS`] from `today`, and those ended earlier whose
/// renewal was started and not decided yet (a contract never taken up drops off once it is
/// [`WINDOW_DAYS`] past its end), soonest end first, each with its renewal's state.
pub fn list_of(tx: &mut dyn Tx, today: NaiveDate) -> Result<Value> {
    let (from, to) = ((today - Duration::days(WINDOW_DAYS)).to_string(), (today + Duration::days(WINDOW_DAYS)).to_string());
    // Two queries: the window's contracts by their end (reference_index_ends) with their records,
    // their customers' names and their renewals (records_owner); then the renewals of contracts
    // ended before the window (one renewal record per contract, so at most one per contract).
    let mut found = tx.query(
        "SELECT k.id, kr.fields, r.fields, c.name, c.code FROM reference_index k \
         JOIN records kr ON kr.entity = 'contracts' AND kr.id = k.id \
         LEFT JOIN reference_index c ON c.entity = 'customers' AND c.id = k.parent_id \
         LEFT JOIN records r ON r.entity = 'contract_renewals' AND r.owner_id = k.id \
         WHERE k.entity = 'contracts' AND k.deleted = 0 AND k.ends_on >= $1 AND k.ends_on <= $2 ORDER BY k.ends_on, k.code",
        params![from.as_str(), to.as_str()],
    )?;
    let older = tx.query(
        "SELECT k.id, kr.fields, r.fields, c.name, c.code FROM records r \
         JOIN reference_index k ON k.entity = 'contracts' AND k.id = r.owner_id \
         JOIN records kr ON kr.entity = 'contracts' AND kr.id = k.id \
         LEFT JOIN reference_index c ON c.entity = 'customers' AND c.id = k.parent_id \
         WHERE r.entity = 'contract_renewals' AND k.deleted = 0 AND k.ends_on < $1 ORDER BY k.ends_on, k.code",
        params![from.as_str()],
    )?;
    found.splice(0..0, older);
    let mut rows = Vec::new();
    for r in found {
        let id = r.text(0)?;
        let contract = parse_fields(&format!("contract {id}"), &r.text(1)?)?;
        let renewal = r.opt_text(2)?.map(|f| parse_fields(&format!("the renewal of contract {id}"), &f)).transpose()?;
        let line = row(tx, &id, &contract, renewal.as_ref(), (r.opt_text(3)?, r.opt_text(4)?), today)?;
        // Ended and decided: off the list; ended and undecided: still to chase.
        if line["days_left"].as_i64().is_some_and(|d| d < 0) && matches!(line["state"].as_str(), Some("renewed" | "lost")) {
            continue;
        }
        rows.push(line);
    }
    Ok(json!({"today": today.to_string(), "window_days": WINDOW_DAYS, "rows": rows}))
}

pub async fn list(State(s): State<AppState>, _u: ConsoleUser) -> Result<Json<Value>> {
    Ok(Json(s.db.run(Mode::Read, |tx| list_of(tx, today())).await?))
}

/// One contract's renewal: its line, the covered assets, the audit trail of its steps.
pub fn detail_of(tx: &mut dyn Tx, contract_id: &str, today: NaiveDate) -> Result<Value> {
    let contract = load_contract(tx, contract_id)?;
    let renewal = records::load(tx, "contract_renewals", &renewal_id(contract_id))?.map(|s| s.fields);
    let customer = customer_of(tx, records::text_of(&contract, "customer_id").unwrap_or_default())?;
    let mut out = row(tx, contract_id, &contract, renewal.as_ref(), customer, today)?;
    out["covered_assets"] = json!(covered_assets(tx, &contract)?
        .into_iter()
        .map(|a| json!({"code": a.code, "name": a.name, "site": a.site}))
        .collect::<Vec<_>>());
    let trail = tx.query(
        "SELECT at, actor, action, detail FROM audit_log WHERE target_entity = 'contract_renewals' AND target_id = $1 ORDER BY id",
        params![renewal_id(contract_id).as_str()],
    )?;
    out["trail"] = json!(trail
        .iter()
        .map(|r| Ok(json!({"at": r.text(0)?, "actor": r.text(1)?, "action": r.text(2)?, "detail": serde_json::from_str::<Value>(&r.text(3)?).unwrap_or(Value::Null)})))
        .collect::<Result<Vec<_>>>()?);
    Ok(out)
}

pub async fn detail(State(s): State<AppState>, _u: ConsoleUser, Path(id): Path<String>) -> Result<Json<Value>> {
    Ok(Json(s.db.run(Mode::Read, move |tx| detail_of(tx, &id, today())).await?))
}

fn load_contract(tx: &mut dyn Tx, id: &str) -> Result<Map<String, Value>> {
    match records::load(tx, "contracts", id)? {
        Some(s) if live(&s.fields) => Ok(s.fields),
        _ => Err(Error::NotFound(format!("no contract '{id}'; pick one from the Renewals list"))),
    }
}

fn covered_assets(tx: &mut dyn Tx, contract: &Map<String, Value>) -> Result<Vec<CoveredAsset>> {
    let ids: Vec<&str> = contract.get("asset_ids").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut out = Vec::new();
    for (_, a) in records::load_many(tx, "assets", &ids)? {
        let f = a.fields()?;
        let site = match records::text_of(f, "site_id") {
            Some(sid) => records::load(tx, "sites", sid)?.and_then(|s| records::text(&s, "name").map(str::to_owned)).unwrap_or_default(),
            None => String::new(),
        };
        out.push(CoveredAsset { code: records::text_of(f, "code").unwrap_or_default().to_owned(), name: records::text_of(f, "name").unwrap_or_default().to_owned(), site });
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The expiry notice

pub fn notice_of(tx: &mut dyn Tx, contract_id: &str, dated: NaiveDate) -> Result<(String, Vec<u8>)> {
    let contract = load_contract(tx, contract_id)?;
    let t = |k: &str| records::text_of(&contract, k).unwrap_or_default().to_owned();
    let number = t("number");
    let customer_id = t("customer_id");
    let customer = tx.query_opt("SELECT name, code FROM reference_index WHERE entity = 'customers' AND id = $1", params![customer_id.as_str()])?;
    let customer = match customer {
        Some(r) => match (r.opt_text(0)?, r.opt_text(1)?) {
            (Some(n), Some(c)) => format!("{n} ({c})"),
            (Some(n), None) => n,
            _ => customer_id,
        },
        None => customer_id,
    };
    let notice = expiry_notice::Notice {
        contract: number.clone(),
        customer,
        starts_on: day("starts_on", &t("starts_on"))?,
        ends_on: day("ends_on", &t("ends_on"))?,
        service_level: records::text_of(&contract, "service_level").map(str::to_owned),
        assets: covered_assets(tx, &contract)?,
        dated,
    };
    let company = tx
        .query_opt("SELECT value FROM settings WHERE key = 'company'", params![])?
        .map(|r| r.text(0))
        .transpose()?
        .and_then(|v| serde_json::from_str::<fieldbook_core::import::Company>(&v).ok());
    let pdf = expiry_notice::render(&notice, company.as_ref()).map_err(|e| Error::Internal(format!("the expiry notice of contract {number}: {e}")))?;
    Ok((number, pdf))
}

pub async fn notice(State(s): State<AppState>, _u: ConsoleUser, Path(id): Path<String>) -> Result<Response> {
    let (number, pdf) = s.db.run(Mode::Read, move |tx| notice_of(tx, &id, today())).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/pdf".to_owned()), (header::CONTENT_DISPOSITION, format!("inline; filename=\"expiry-notice-{number}.pdf\""))],
        pdf,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// Tracking

/// A new contract made by a renewal: the old one's customer; its assets unless listed.
#[derive(Debug, Clone, Deserialize)]
pub struct NewContract {
    pub number: String,
    pub starts_on: String,
    pub ends_on: String,
    #[serde(default)]
    pub service_level: Option<String>,
    #[serde(default)]
    pub asset_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StepRequest {
    /// `notice_made`, `sent`, `visit_planned`, `renewed` or `lost`.
    pub kind: String,
    /// `sent`: post, email, fax or hand.
    #[serde(default)]
    pub sent_how: Option<String>,
    /// `sent`: when (RFC 3339).
    #[serde(default)]
    pub sent_at: Option<String>,
    /// `visit_planned`: the day (YYYY-MM-DD) and who visits (a login).
    #[serde(default)]
    pub visit_on: Option<String>,
    #[serde(default)]
    pub visit_by: Option<String>,
    /// `renewed`: an existing contract to link…
    #[serde(default)]
    pub new_contract_id: Option<String>,
    /// …or the new contract to make.
    #[serde(default)]
    pub new_contract: Option<NewContract>,
    /// `lost`: why.
    #[serde(default)]
    pub lost_reason: Option<String>,
}

fn given<'a>(field: &str, v: &'a Option<String>, what: &str) -> Result<&'a str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| Error::Invalid(format!("{field}: {what}")))
}

/// Records one step of a contract's renewal. Runs in a `Mode::Feed` transaction.
pub fn add_step(tx: &mut dyn Tx, actor: &str, contract_id: &str, req: &StepRequest, now: DateTime<Utc>) -> Result<Value> {
    let rid = renewal_id(contract_id);
    if let Some(who) = req.visit_by.as_deref().filter(|_| req.kind == "visit_planned") {
        match crate::users::find(tx, who)? {
            Some(u) if !u.disabled => {}
            Some(_) => return Err(Error::Invalid(format!("visit_by: '{who}' is disabled; pick someone else"))),
            None => return Err(Error::Invalid(format!("visit_by: no user '{who}'; pick one of the company's people"))),
        }
    }
    let mut w = Writer::begin(tx)?;
    let contract = match w.load("contracts", contract_id)? {
        Some(s) if live(s.fields()?) => s.fields()?.clone(),
        _ => return Err(Error::NotFound(format!("no contract '{contract_id}'; pick one from the Renewals list"))),
    };
    let number = records::text_of(&contract, "number").unwrap_or(contract_id).to_owned();
    let name = format!("contract {number}");
    let renewal = match w.load("contract_renewals", &rid)? {
        Some(s) => s.fields()?.clone(),
        None => Map::new(),
    };
    let has = |k: &str| records::text_of(&renewal, k).is_some_and(|v| !v.is_empty());
    if let Some(outcome) = records::text_of(&renewal, "outcome") {
        return Err(Error::conflict(format!("{name} was already marked {outcome}: its renewal is decided, nothing more to track")));
    }
    let now_text = ts(now);
    let mut changes: Vec<(&str, Value)> = vec![("contract_id", json!(contract_id)), ("deleted", json!(false))];
    let detail: Value = match req.kind.as_str() {
        "notice_made" => {
            changes.push(("notice_made_at", json!(now_text)));
            changes.push(("notice_made_by", json!(actor)));
            json!({"contract": number})
        }
        "sent" => {
            if !has("notice_made_at") {
                return Err(Error::conflict(format!("the expiry notice of {name} has not been made yet: make it first, then record how it was sent")));
            }
            let how = given("sent_how", &req.sent_how, "say how the notice was sent: post, email, fax or hand")?;
            if !SENT_HOW.iter().any(|(c, _, _)| *c == how) {
                return Err(Error::Invalid(format!("sent_how '{how}': use post, email, fax or hand")));
            }
            let at = time("sent_at", given("sent_at", &req.sent_at, "say when the notice was sent")?)?;
            if at > now + Duration::minutes(5) {
                return Err(Error::Invalid(format!("sent_at {}: in the future; record the notice once it is sent", ts(at))));
            }
            let made = records::text_of(&renewal, "notice_made_at").and_then(|m| DateTime::parse_from_rfc3339(m).ok()).map(|m| m.with_timezone(&Local).date_naive());
            if made.is_some_and(|m| at.with_timezone(&Local).date_naive() < m) {
                return Err(Error::Invalid(format!("sent_at {}: before the notice was made ({}); check the day", ts(at), made.expect("some"))));
            }
            changes.push(("sent_how", json!(how)));
            changes.push(("sent_at", json!(ts(at))));
            changes.push(("sent_by", json!(actor)));
            json!({"contract": number, "sent_how": how, "sent_at": ts(at)})
        }
        "visit_planned" => {
            if !has("sent_at") {
                return Err(Error::conflict(format!("the expiry notice of {name} has not been sent yet: record how it was sent before planning the renewal visit")));
            }
            let on = day("visit_on", given("visit_on", &req.visit_on, "give the day of the renewal visit")?)?;
            let who = given("visit_by", &req.visit_by, "name who visits the customer")?;
            let sent = records::text_of(&renewal, "sent_at").and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|s| s.with_timezone(&Local).date_naive());
            if sent.is_some_and(|s| on < s) {
                return Err(Error::Invalid(format!("visit_on {on}: before the notice was sent; plan the visit after it")));
            }
            changes.push(("visit_on", json!(on.to_string())));
            changes.push(("visit_by", json!(who)));
            changes.push(("visit_planned_by", json!(actor)));
            json!({"contract": number, "visit_on": on.to_string(), "visit_by": who})
        }
        "renewed" => {
            if !has("sent_at") {
                return Err(Error::conflict(format!("the expiry notice of {name} has not been sent yet: send it (and record how) before marking the contract renewed")));
            }
            let new_id = renew(&mut w, contract_id, &contract, req)?;
            let new_number = w.load("contracts", &new_id)?.and_then(|s| s.text("number").ok().flatten().map(str::to_owned)).unwrap_or_else(|| new_id.clone());
            changes.push(("outcome", json!("renewed")));
            changes.push(("new_contract_id", json!(new_id)));
            changes.push(("decided_at", json!(now_text)));
            changes.push(("decided_by", json!(actor)));
            json!({"contract": number, "new_contract": new_number})
        }
        "lost" => {
            if !has("sent_at") {
                return Err(Error::conflict(format!("the expiry notice of {name} has not been sent yet: send it (and record how) before marking the contract lost")));
            }
            let reason = given("lost_reason", &req.lost_reason, "say why the customer did not renew")?;
            changes.push(("outcome", json!("lost")));
            changes.push(("lost_reason", json!(reason)));
            changes.push(("decided_at", json!(now_text)));
            changes.push(("decided_by", json!(actor)));
            json!({"contract": number, "reason": reason})
        }
        other => return Err(Error::Invalid(format!("kind '{other}': use notice_made, sent, visit_planned, renewed or lost"))),
    };
    write_changed(&mut w, "contract_renewals", &rid, &changes)?;
    w.finish()?;
    audit::record(tx, actor, &format!("renewal_{}", req.kind), Some("contract_renewals"), Some(&rid), None, detail)?;
    detail_of(tx, contract_id, now.with_timezone(&Local).date_naive())
}

/// The renewing contract: an existing one linked (same customer, starting after the old one
/// starts, renewing nothing else) or a new one made; either way its `renewal_of` is the old one.
fn renew(w: &mut Writer<'_>, old_id: &str, old: &Map<String, Value>, req: &StepRequest) -> Result<String> {
    let old_number = records::text_of(old, "number").unwrap_or(old_id);
    let customer = records::text_of(old, "customer_id").unwrap_or_default().to_owned();
    let old_starts = records::text_of(old, "starts_on").unwrap_or_default().to_owned();
    match (req.new_contract_id.as_deref().filter(|s| !s.is_empty()), &req.new_contract) {
        (Some(_), Some(_)) => Err(Error::Invalid("new_contract_id, new_contract: link an existing contract or make a new one, not both".into())),
        (None, None) => Err(Error::Invalid("new_contract: give the renewing contract (its number, first and last day), or link an existing one with new_contract_id".into())),
        (Some(nid), None) => {
            if nid == old_id {
                return Err(Error::Invalid(format!("new_contract_id: contract {old_number} cannot renew itself")));
            }
            let new = match w.load("contracts", nid)? {
                Some(s) if live(s.fields()?) => s.fields()?.clone(),
                _ => return Err(Error::Invalid(format!("new_contract_id '{nid}': no such contract"))),
            };
            let new_number = records::text_of(&new, "number").unwrap_or(nid);
            if records::text_of(&new, "customer_id") != Some(customer.as_str()) {
                return Err(Error::Invalid(format!("new_contract_id: contract {new_number} is another customer's; a renewal is the same customer's contract")));
            }
            if records::text_of(&new, "starts_on").unwrap_or_default() <= old_starts.as_str() {
                return Err(Error::Invalid(format!("new_contract_id: contract {new_number} starts before {old_number} does; a renewal starts later")));
            }
            match records::text_of(&new, "renewal_of") {
                Some(r) if !r.is_empty() && r != old_id => Err(Error::conflict(format!("contract {new_number} already renews another contract ({r})"))),
                _ => {
                    write_changed(w, "contracts", nid, &[("renewal_of", json!(old_id))])?;
                    Ok(nid.to_owned())
                }
            }
        }
        (None, Some(n)) => {
            let number = n.number.trim();
            if number.is_empty() || number.chars().count() > 200 {
                return Err(Error::Invalid("new_contract.number: give the new contract's number (at most 200 characters)".into()));
            }
            let (starts, ends) = (day("new_contract.starts_on", &n.starts_on)?, day("new_contract.ends_on", &n.ends_on)?);
            if ends < starts {
                return Err(Error::Invalid(format!("new_contract.ends_on {ends}: before its first day {starts}")));
            }
            if starts.to_string() <= old_starts {
                return Err(Error::Invalid(format!("new_contract.starts_on {starts}: a renewal starts after {old_number} starts ({old_starts})")));
            }
            let level = n.service_level.as_deref().filter(|s| !s.is_empty());
            if let Some(l) = level.filter(|l| !is_service_level(l)) {
                return Err(Error::Invalid(format!("new_contract.service_level '{l}': use {}", levels())));
            }
            // Deleted contracts count too: laptops keep them, under a unique number.
            let taken = w.tx_unbuffered().query_opt("SELECT id FROM reference_index WHERE entity = 'contracts' AND code = $1", params![number])?;
            if taken.is_some() {
                return Err(Error::Invalid(format!("new_contract.number '{number}': another contract has this number")));
            }
            let assets = match &n.asset_ids {
                Some(a) => {
                    let site_of_customer = |tx: &mut dyn Tx, asset: &str| -> Result<bool> {
                        let Some(a) = records::load(tx, "assets", asset)? else { return Ok(false) };
                        let Some(site) = records::text(&a, "site_id") else { return Ok(false) };
                        Ok(records::load(tx, "sites", site)?.is_some_and(|s| records::text(&s, "customer_id") == Some(customer.as_str())))
                    };
                    for asset in a {
                        if !site_of_customer(w.tx_unbuffered(), asset)? {
                            return Err(Error::Invalid(format!("new_contract.asset_ids: '{asset}' is not an asset of this customer")));
                        }
                    }
                    json!(a)
                }
                None => old.get("asset_ids").cloned().unwrap_or(json!([])),
            };
            let id = uuid::Uuid::now_v7().to_string();
            write_changed(
                w,
                "contracts",
                &id,
                &[
                    ("number", json!(number)),
                    ("customer_id", json!(customer)),
                    ("starts_on", json!(starts.to_string())),
                    ("ends_on", json!(ends.to_string())),
                    ("asset_ids", assets),
                    ("service_level", json!(level.or(records::text_of(old, "service_level")))),
                    ("renewal_of", json!(old_id)),
                    ("deleted", json!(false)),
                ],
            )?;
            Ok(id)
        }
    }
}

fn levels() -> String {
    SERVICE_LEVELS.iter().map(|(c, _, _)| *c).collect::<Vec<_>>().join(", ")
}

pub async fn step(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(req): JsonBody<StepRequest>) -> Result<Json<Value>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| add_step(tx, &actor, &id, &req, Utc::now())).await?))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelRequest {
    /// A code of `SERVICE_LEVELS`, or null to clear it.
    pub service_level: Option<String>,
}

/// Sets a contract's service level (it reaches the laptops that serve the customer).
pub fn set_level(tx: &mut dyn Tx, actor: &str, contract_id: &str, level: Option<&str>) -> Result<Value> {
    let level = level.filter(|l| !l.is_empty());
    if let Some(l) = level.filter(|l| !is_service_level(l)) {
        return Err(Error::Invalid(format!("service_level '{l}': use {}", levels())));
    }
    let mut w = Writer::begin(tx)?;
    let before = match w.load("contracts", contract_id)? {
        Some(s) if live(s.fields()?) => s.text("service_level")?.map(str::to_owned),
        _ => return Err(Error::NotFound(format!("no contract '{contract_id}'"))),
    };
    write_changed(&mut w, "contracts", contract_id, &[("service_level", json!(level))])?;
    w.finish()?;
    audit::record(tx, actor, "contract_service_level", Some("contracts"), Some(contract_id), None, json!({"from": before, "to": level}))?;
    detail_of(tx, contract_id, today())
}

pub async fn change_level(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(req): JsonBody<LevelRequest>) -> Result<Json<Value>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| set_level(tx, &actor, &id, req.service_level.as_deref())).await?))
}

// ---------------------------------------------------------------------------------------------
// Service category defaults, for review

/// The contracts of a customer, as the category rule reads them.
fn contracts_of(tx: &mut dyn Tx, customer_id: &str) -> Result<Vec<ContractTerms>> {
    let mut out = Vec::new();
    for (_, s) in records::by_owner(tx, "contracts", customer_id)? {
        if !live(&s.fields) {
            continue;
        }
        let d = |f: &str| records::text(&s, f).and_then(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok());
        let (Some(number), Some(starts_on), Some(ends_on)) = (records::text(&s, "number"), d("starts_on"), d("ends_on")) else { continue };
        let asset_ids = s.fields.get("asset_ids").cloned().and_then(|a| serde_json::from_value(a).ok()).unwrap_or_default();
        out.push(ContractTerms { number: number.to_owned(), customer_id: customer_id.to_owned(), starts_on, ends_on, asset_ids });
    }
    Ok(out)
}

/// The category a repair of `asset_id` on `work_date` defaults to, by the core's rule.
pub fn default_category(tx: &mut dyn Tx, asset_id: &str, work_date: NaiveDate) -> Result<Option<service_category::Default>> {
    let Some(asset) = records::load(tx, "assets", asset_id)? else { return Ok(None) };
    let warranty = records::text(&asset, "warranty_ends").and_then(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok());
    let customer = match records::text(&asset, "site_id") {
        Some(site) => records::load(tx, "sites", site)?.and_then(|s| records::text(&s, "customer_id").map(str::to_owned)),
        None => None,
    };
    let contracts = match customer {
        Some(c) => contracts_of(tx, &c)?,
        None => Vec::new(),
    };
    Ok(Some(service_category::default_for(asset_id, warranty, &contracts, work_date)))
}

/// The day a repair was done, in the company's time: when it was recorded, else the order's
/// arrival or completion, else today.
fn work_date(repair: &Map<String, Value>, order: &Map<String, Value>) -> NaiveDate {
    ["recorded_at"]
        .iter()
        .filter_map(|k| records::text_of(repair, k))
        .chain(["arrived_at", "completed_at"].iter().filter_map(|k| records::text_of(order, k)))
        .find_map(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(today, |t| t.with_timezone(&Local).date_naive())
}

/// Per repair record of an order: its category, the default and why, and whether they differ.
pub fn repair_categories(tx: &mut dyn Tx, order_id: &str) -> Result<Vec<Value>> {
    let order = records::load(tx, "work_orders", order_id)?.map(|s| s.fields).unwrap_or_default();
    let mut out = Vec::new();
    for (rid, r) in records::by_owner(tx, "repair_records", order_id)? {
        if !live(&r.fields) {
            continue;
        }
        let Some(asset) = records::text(&r, "asset_id").filter(|a| !a.is_empty()).map(str::to_owned) else { continue };
        let Some(d) = default_category(tx, &asset, work_date(&r.fields, &order))? else { continue };
        let category = records::text(&r, "category").map(str::to_owned);
        let differs = category.as_deref().is_some_and(|c| c != d.category.as_str());
        out.push(json!({
            "repair_record_id": rid, "asset_id": asset, "category": category, "default_category": d.category, "reason": d.explain(),
            "default": d, "differs": differs,
        }));
    }
    Ok(out)
}

/// The repairs of an order recorded in another category than the default (the review's flags).
pub fn category_flags(tx: &mut dyn Tx, order_id: &str) -> Result<Vec<Value>> {
    Ok(repair_categories(tx, order_id)?.into_iter().filter(|r| r["differs"] == json!(true)).collect())
}
