//! Call-ins and dispatch: the lookups the call form needs (technicians, customers — also by a
//! caller's phone —, their sites and assets, regions), registering a call from any channel (a
//! `calls` record numbered `C-YYYYMMDD-NNNN`; a caller not on file registered as a customer on the
//! spot; a repair request also a new work order under the same number, response deadline by the
//! service calendar in force at the call, `calendar.rs`, as import computes it), the list of repair calls
//! not yet dispatched (carried over from earlier days first), and dispatching one to a
//! technician. The register of every call is [`super::call_register`]. New and dispatched orders are written through the feed
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
    /// Customers with this phone (a caller on file), instead of a search by code or name.
    pub phone: Option<String>,
}

pub async fn customers(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<CustomerQuery>) -> Result<Json<Vec<Value>>> {
    if let Some(p) = q.phone.filter(|p| !p.trim().is_empty()) {
        let p = super::search_text("phone", &p)?;
        return Ok(Json(s.db.run(Mode::Read, move |tx| customers_by_phone(tx, &p)).await?));
    }
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

/// How a call came in.
pub const CHANNELS: &[&str] = &["phone", "email", "fax", "web", "walk_in"];
/// What a call is: a repair request becomes a work order, a complaint opens a complaint, an
/// inquiry or a suggestion is answered by the desk.
pub const CALL_TYPES: &[&str] = &["repair", "inquiry", "complaint", "suggestion"];

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewCall {
    pub channel: String,
    pub call_type: String,
    pub caller_name: String,
    pub caller_phone: String,
    /// An existing customer; or `new_customer` to register the caller as one.
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub new_customer: Option<NewCustomer>,
    /// A repair request's site: one of the customer's, or `new_site`.
    #[serde(default)]
    pub site_id: Option<String>,
    #[serde(default)]
    pub new_site: Option<NewSite>,
    #[serde(default)]
    pub asset_ids: Vec<String>,
    #[serde(default)]
    pub equipment_model: Option<String>,
    pub problem: String,
    pub reported_at: String,
    #[serde(default)]
    pub priority: Option<String>,
    pub kind: Option<String>,
    pub category: Option<String>,
    /// The desk's answer to an inquiry or a suggestion, and whether the call is closed with it.
    #[serde(default)]
    pub answer: Option<String>,
    #[serde(default)]
    pub close: bool,
    /// A complaint call: what the complaint it opens is about (`complaints::CATEGORIES`, default
    /// `other`), how serious (`normal` | `serious`, default normal), and whether the customer is
    /// foreign (17 days to close instead of 13).
    #[serde(default)]
    pub complaint_category: Option<String>,
    #[serde(default)]
    pub complaint_severity: Option<String>,
    #[serde(default)]
    pub foreign_customer: bool,
    /// A checklist template (its code; the newest version) the call's work order is recorded on,
    /// e.g. an inspection asked for by phone (#12). Only for a call that makes an order.
    #[serde(default)]
    pub template_code: Option<String>,
    /// Set by the server only (a return visit's "not solved" opens a linked call): the order the
    /// call follows up and the return visit it came from. Not taken from the console's JSON.
    #[serde(skip)]
    pub follows_order_id: Option<String>,
    #[serde(skip)]
    pub return_visit_id: Option<String>,
}

/// A caller registered as a customer on the spot.
#[derive(Debug, Clone, Deserialize)]
pub struct NewCustomer {
    pub name: String,
    /// The contact person; the caller when left out.
    #[serde(default)]
    pub contact: Option<String>,
    /// The customer's phone; the caller's when left out.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// A new customer's site, for a repair request.
#[derive(Debug, Clone, Deserialize)]
pub struct NewSite {
    #[serde(default)]
    pub name: Option<String>,
    pub address: String,
    pub region: String,
    pub zone: String,
}

/// What registering a call made: the call, and for a repair request its work order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Registered {
    pub call: super::call_register::CallDetail,
    pub work_order: Option<Summary>,
}

fn parse<T: std::str::FromStr<Err = String>>(field: &str, v: &str) -> Result<T> {
    v.parse().map_err(|e: String| Error::Invalid(format!("{field}: {e}")))
}

fn one_of(field: &str, v: &str, words: &[&str]) -> Result<String> {
    let v = v.trim();
    if words.contains(&v) {
        Ok(v.to_owned())
    } else {
        Err(Error::Invalid(format!("{field} '{v}': use one of {}", words.join(", "))))
    }
}

/// Trimmed text that must be there, at most `max` characters.
pub fn required_text(field: &str, v: &str, what: &str, max: usize) -> Result<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(Error::Invalid(format!("{field}: {what} (it is empty)")));
    }
    optional_text(field, Some(v), max).map(|t| t.expect("not empty"))
}

/// Trimmed text that may be left out (empty is left out), at most `max` characters.
pub fn optional_text(field: &str, v: Option<&str>, max: usize) -> Result<Option<String>> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    let n = v.chars().count();
    if n > max {
        return Err(Error::Invalid(format!("{field}: at most {max} characters (this is {n}); shorten it")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::Invalid(format!("{field}: control characters are not allowed; type letters, digits or punctuation")));
    }
    Ok(Some(v.to_owned()))
}

/// A phone number as the desk compares them: digits only, without China's country code (`+86`,
/// `0086`) or the trunk `0`, so `+86 21 5030 1234` and `021-5030-1234` are the same number.
/// `None` when there are no digits.
pub fn phone_key(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let d = digits.as_str();
    let d = d.strip_prefix("0086").or_else(|| d.strip_prefix("86").filter(|r| r.len() >= 10)).unwrap_or(d);
    let d = d.trim_start_matches('0');
    (!d.is_empty()).then(|| d.to_owned())
}

/// A phone number as typed, checked: digits with spaces, `+`, `-`, `(`, `)` or `.` between them,
/// 5 to 15 digits (a service number like 95588 up to an international number).
pub fn phone(field: &str, v: &str) -> Result<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(Error::Invalid(format!("{field}: write the caller's phone number (it is empty)")));
    }
    let digits = v.chars().filter(char::is_ascii_digit).count();
    if v.chars().any(|c| !(c.is_ascii_digit() || " +-().".contains(c))) || !(5..=15).contains(&digits) {
        return Err(Error::Invalid(format!(
            "{field} '{v}': write a phone number of 5 to 15 digits, with spaces, +, -, ( ) between them if you like, e.g. +86 21 5030 1234"
        )));
    }
    Ok(v.to_owned())
}

/// Live customers whose phone is this one (by [`phone_key`]): at most 20, by code.
pub fn customers_by_phone(tx: &mut dyn Tx, phone: &str) -> Result<Vec<Value>> {
    let Some(key) = phone_key(phone) else { return Ok(Vec::new()) };
    let rows = tx.query(
        "SELECT id, code, name FROM reference_index WHERE entity = 'customers' AND phone = $1 AND deleted = 0 ORDER BY code LIMIT 20",
        params![key],
    )?;
    let mut out = Vec::new();
    for r in rows.iter() {
        let id = r.text(0)?;
        let f = records::load(tx, "customers", &id)?.map(|s| s.fields).unwrap_or_default();
        out.push(json!({"id": id, "code": r.opt_text(1)?, "name": r.opt_text(2)?, "contact": g(&f, "contact"), "phone": g(&f, "phone")}));
    }
    Ok(out)
}

/// Fills `reference_index.phone` for the customers already there (once, by the migration that
/// adds the column).
pub fn fill_customer_phones(tx: &mut dyn Tx) -> Result<()> {
    for (id, state) in records::all(tx, "customers")? {
        let key = records::text(&state, "phone").and_then(phone_key);
        tx.execute("UPDATE reference_index SET phone = $1 WHERE entity = 'customers' AND id = $2", params![key, id])?;
    }
    Ok(())
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

/// The next code of a customer registered from a call, `N-YYYYMMDD-NN`, under the feed lock;
/// skips a code an imported customer already has.
fn next_customer_code(tx: &mut dyn Tx, day: &str) -> Result<String> {
    loop {
        let n = tx
            .query_one(
                "INSERT INTO customer_numbers (day, last) VALUES ($1, 1) ON CONFLICT (day) DO UPDATE SET last = customer_numbers.last + 1 RETURNING last",
                params![day],
            )?
            .int(0)?;
        let code = format!("N-{day}-{n:02}");
        if tx.query_opt("SELECT 1 FROM reference_index WHERE entity = 'customers' AND code = $1", params![code.as_str()])?.is_none() {
            return Ok(code);
        }
    }
}

fn live(s: &Option<std::rc::Rc<crate::records::Stored>>) -> Result<bool> {
    Ok(match s {
        Some(s) => s.fields()?.get("deleted") != Some(&Value::Bool(true)),
        None => false,
    })
}

/// Registers a call: the `calls` record, for a new caller their customer record (and for a repair
/// request their site), and for a repair request the work order under the same number. Runs in
/// a `Mode::Feed` transaction: any refusal writes nothing.
pub fn register_call(tx: &mut dyn Tx, actor: &str, call: &NewCall) -> Result<Registered> {
    let channel = one_of("channel", &call.channel, CHANNELS)?;
    let call_type = one_of("call_type", &call.call_type, CALL_TYPES)?;
    let repair = call_type == "repair";
    let caller_name = required_text("caller_name", &call.caller_name, "write who called", 100)?;
    // A call the desk opens from a return visit carries the customer's phone on file, which may
    // be missing or kept in another shape; the desk made that call, so it is not refused for it.
    let caller_phone = match phone("caller_phone", &call.caller_phone) {
        Err(_) if call.return_visit_id.is_some() => call.caller_phone.trim().to_owned(),
        checked => checked?,
    };
    let priority: Priority = parse("priority", call.priority.as_deref().filter(|p| !p.is_empty()).unwrap_or("normal"))?;
    let kind: WorkOrderKind = parse("kind", call.kind.as_deref().unwrap_or("repair_call"))?;
    let category: Category = parse("category", call.category.as_deref().unwrap_or("A"))?;
    let problem = required_text("problem", &call.problem, "say what the caller reported or asked", 4000)?;
    let problem = problem.as_str();
    let equipment_model = optional_text("equipment_model", call.equipment_model.as_deref(), 200)?;
    let answer = optional_text("answer", call.answer.as_deref(), 4000)?;
    if (answer.is_some() || call.close) && !matches!(call_type.as_str(), "inquiry" | "suggestion") {
        return Err(Error::Invalid(format!(
            "answer: only an inquiry or a suggestion is answered and closed on the call; a {call_type} call is followed through its {}",
            if repair { "work order" } else { "complaint" }
        )));
    }
    let reported_at: DateTime<Utc> = DateTime::parse_from_rfc3339(&call.reported_at)
        .map(|t| t.to_utc())
        .map_err(|_| Error::Invalid(format!("reported_at '{}': give the time of the call as RFC 3339, e.g. 2026-03-02T09:30:00Z", call.reported_at)))?;
    if reported_at > Utc::now() + chrono::Duration::minutes(5) {
        return Err(Error::Invalid(format!("reported_at {}: the call cannot be in the future", call.reported_at)));
    }
    // Who the customer is: an existing one, a new one, or (an inquiry, a suggestion) nobody yet.
    let customer_id = call.customer_id.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let new_customer = match (&call.new_customer, customer_id) {
        (Some(_), Some(_)) => return Err(Error::Invalid("new_customer: give either customer_id (a customer on file) or new_customer, not both".into())),
        (None, None) if repair || call_type == "complaint" => {
            return Err(Error::Invalid(format!(
                "customer_id: a {} needs the customer; pick one from the customer search or register the caller as a new customer (new_customer)",
                if repair { "repair request" } else { "complaint" }
            )))
        }
        (Some(n), None) => {
            let name = required_text("new_customer.name", &n.name, "write the new customer's name", 200)?;
            let contact = optional_text("new_customer.contact", n.contact.as_deref(), 100)?.unwrap_or_else(|| caller_name.clone());
            let phone = match n.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                Some(p) => phone("new_customer.phone", p)?,
                None => caller_phone.clone(),
            };
            let email = optional_text("new_customer.email", n.email.as_deref(), 200)?;
            // One customer per phone: a caller already on file is offered, not registered twice.
            if let Some(same) = customers_by_phone(tx, &phone)?.into_iter().next() {
                return Err(Error::conflict(format!(
                    "new_customer: the phone {phone} is customer {} ({}) already; register the call for that customer (customer_id {})",
                    same["code"].as_str().unwrap_or_default(),
                    same["name"].as_str().unwrap_or_default(),
                    same["id"].as_str().unwrap_or_default()
                )));
            }
            Some((name, contact, phone, email))
        }
        (None, _) => None,
    };
    let site_id = call.site_id.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let new_site = match (&call.new_site, site_id) {
        (Some(_), _) if !repair => return Err(Error::Invalid(format!("new_site: only a repair request registers a site; a {call_type} call needs none"))),
        (Some(_), Some(_)) => return Err(Error::Invalid("new_site: give either site_id (one of the customer's sites) or new_site, not both".into())),
        (Some(_), None) if new_customer.is_none() => {
            return Err(Error::Invalid("new_site: a customer on file is called out to one of their sites; pick it (site_id)".into()))
        }
        (None, None) if repair => {
            return Err(Error::Invalid(format!(
                "site_id: a repair request needs the site; pick one of the customer's sites{}",
                if new_customer.is_some() { ", or give the new customer's (new_site: address, region, zone)" } else { "" }
            )))
        }
        (Some(n), None) => Some((
            optional_text("new_site.name", n.name.as_deref(), 200)?,
            required_text("new_site.address", &n.address, "write the site's address", 300)?,
            required_text("new_site.region", &n.region, "write the site's region (district)", 100)?,
            parse::<Zone>("new_site.zone", n.zone.trim())?,
        )),
        (None, _) => None,
    };
    if site_id.is_some() && new_customer.is_some() {
        return Err(Error::Invalid("site_id: a new customer has no sites yet; give new_site for a repair request".into()));
    }
    if !call.asset_ids.is_empty() && site_id.is_none() {
        return Err(Error::Invalid("asset_ids: assets are picked at one of the customer's sites; pick the site first (site_id)".into()));
    }
    let template_id = match call.template_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(_) if !repair => return Err(Error::Invalid(format!("template_code: only a call that makes a work order carries a checklist; a {call_type} call makes none"))),
        Some(code) => Some(
            super::plans::template_id(tx, code)?
                .ok_or_else(|| Error::Invalid(format!("template_code '{code}': no such checklist template; pick one from the Templates page")))?,
        ),
        None => None,
    };
    let mut w = Writer::begin(tx)?;
    if let Some(c) = customer_id {
        if !live(&w.load("customers", c)?)? {
            return Err(Error::Invalid(format!("customer_id '{c}': no such customer; pick one from the customer search")));
        }
    }
    let mut zone = Zone::Urban;
    if let Some(sid) = site_id {
        let site = w.load("sites", sid)?;
        if !live(&site)? {
            return Err(Error::Invalid(format!("site_id '{sid}': no such site; pick one of the customer's sites")));
        }
        let site = site.expect("live");
        if site.text("customer_id")? != customer_id {
            return Err(Error::Invalid(format!("site_id '{sid}': the site is not the customer's; pick one of the customer's sites")));
        }
        zone = site.text("zone")?.map(|z| parse("site zone", z)).transpose()?.unwrap_or(Zone::Urban);
        for a in &call.asset_ids {
            let asset = w.load("assets", a)?;
            if !live(&asset)? || asset.as_ref().expect("live").text("site_id")? != Some(sid) {
                return Err(Error::Invalid(format!("asset_ids: '{a}' is not an asset at this site; pick the site's assets")));
            }
        }
    }
    let today = chrono::Local::now().date_naive().format("%Y%m%d").to_string();
    // The new caller's customer record (and site): reference data like any other, reaching a
    // technician's laptop only with an order dispatched to them.
    let mut created = None;
    let customer_id = match &new_customer {
        Some((name, contact, phone, email)) => {
            let code = next_customer_code(w.tx()?, &today)?;
            let id = uuid::Uuid::now_v7().to_string();
            let fields = [
                ("code", json!(code)), ("name", json!(name)), ("contact", json!(contact)), ("phone", json!(phone)), ("email", json!(email)),
                ("deleted", json!(false)),
            ];
            write_changed(&mut w, "customers", &id, &fields)?;
            created = Some((id.clone(), code));
            Some(id)
        }
        None => customer_id.map(str::to_owned),
    };
    let site_id = match (&new_site, &created) {
        (Some((name, address, region, z)), Some((cid, code))) => {
            zone = *z;
            let id = uuid::Uuid::now_v7().to_string();
            let fields = [
                ("code", json!(format!("{code}-1"))), ("customer_id", json!(cid)), ("name", json!(name.as_deref().unwrap_or(address))),
                ("address", json!(address)), ("region", json!(region)), ("zone", json!(z)), ("deleted", json!(false)),
            ];
            write_changed(&mut w, "sites", &id, &fields)?;
            Some(id)
        }
        _ => site_id.map(str::to_owned),
    };
    // One number for the customer: the call's, which its work order carries too.
    let number = next_number(w.tx()?, &today)?;
    let mut work_order_id = None;
    if repair {
        let deadline = super::calendar::response_deadline(w.tx()?, reported_at, zone, customer_id.as_deref().unwrap_or_default(), &call.asset_ids)?;
        let id = uuid::Uuid::now_v7().to_string();
        let fields = vec![
            ("number", json!(number)),
            ("kind", json!(kind)),
            ("customer_id", json!(customer_id)),
            ("site_id", json!(site_id)),
            ("asset_ids", json!(call.asset_ids)),
            ("technician", Value::Null),
            ("priority", json!(priority)),
            ("category", json!(category)),
            ("status", json!("new")),
            ("template_id", json!(template_id)),
            ("problem", json!(problem)),
            ("scheduled_on", json!(reported_at.with_timezone(&chrono::Local).date_naive().to_string())),
            ("reported_at", json!(ts(reported_at))),
            ("response_deadline", json!(ts(deadline))),
            ("revision", json!(1)),
            ("deleted", json!(false)),
        ];
        write_changed(&mut w, "work_orders", &id, &fields)?;
        work_order_id = Some(id);
    }
    // A complaint call opens its complaint below, once the call exists to be its source.
    let complaint_id: Option<String> = None;
    let call_id = uuid::Uuid::now_v7().to_string();
    let closed_at = call.close.then(crate::now_text);
    let fields = vec![
        ("number", json!(number)),
        ("channel", json!(channel)),
        ("call_type", json!(call_type)),
        ("caller_name", json!(caller_name)),
        ("caller_phone", json!(caller_phone)),
        ("customer_id", json!(customer_id)),
        ("site_id", json!(site_id)),
        ("asset_ids", json!(call.asset_ids)),
        ("equipment_model", json!(equipment_model)),
        ("problem", json!(problem)),
        ("reported_at", json!(ts(reported_at))),
        ("taken_by", json!(actor)),
        ("priority", json!(priority)),
        ("work_order_id", json!(work_order_id)),
        ("complaint_id", json!(complaint_id)),
        ("return_visit_id", json!(call.return_visit_id)),
        ("follows_order_id", json!(call.follows_order_id)),
        ("answer", json!(answer)),
        ("closed_at", json!(closed_at)),
        ("deleted", json!(false)),
    ];
    write_changed(&mut w, "calls", &call_id, &fields)?;
    w.finish()?;
    if call_type == "complaint" {
        let new = super::complaints::NewComplaint {
            source: "call".into(),
            source_id: Some(call_id.clone()),
            customer_id: customer_id.clone().unwrap_or_default(),
            work_order_ids: call.follows_order_id.iter().cloned().collect(),
            description: problem.to_owned(),
            category: call.complaint_category.clone().unwrap_or_else(|| "other".into()),
            severity: call.complaint_severity.clone().unwrap_or_else(|| "normal".into()),
            foreign_customer: call.foreign_customer,
            registered_at: Some(ts(reported_at)),
            ..Default::default()
        };
        let opened = super::complaints::open_complaint(tx, actor, &new)?;
        let complaint = opened["id"].as_str().unwrap_or_default().to_owned();
        let mut w = Writer::begin(tx)?;
        write_changed(&mut w, "calls", &call_id, &[("complaint_id", json!(complaint))])?;
        w.finish()?;
    }
    if let Some((cid, code)) = &created {
        audit::record(tx, actor, "customer_registered", Some("customers"), Some(cid), None, json!({"code": code, "call": number, "phone": caller_phone}))?;
    }
    let detail = json!({"number": number, "call_type": call_type, "channel": channel, "problem": problem, "work_order_id": work_order_id, "closed": call.close});
    audit::record(tx, actor, "call_registered", Some("calls"), Some(&call_id), work_order_id.as_deref(), detail)?;
    let work_order = work_order_id.as_deref().map(|id| summary_of(tx, id)).transpose()?;
    Ok(Registered { call: super::call_register::detail_of(tx, &call_id)?, work_order })
}

pub async fn register(State(s): State<AppState>, u: ConsoleUser, JsonBody(call): JsonBody<NewCall>) -> Result<Response> {
    let actor = u.login().to_owned();
    let (made, promise) = s
        .db
        .run(Mode::Feed, move |tx| {
            let made = register_call(tx, &actor, &call)?;
            let promise = match &made.work_order {
                Some(order) => Some(super::calendar::promise_for_order(tx, &order.id)?),
                None => None,
            };
            Ok((made, promise))
        })
        .await?;
    // The call and its order, and for a repair request what the clerk tells the caller (`promise`).
    let mut body = serde_json::to_value(&made).expect("a registered call serialises");
    if let Some(promise) = promise {
        body["promise"] = serde_json::to_value(&promise).expect("a promise serialises");
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_compare_as_the_desk_dials_them() {
        for same in ["+86 21 5030 1234", "021-5030-1234", "(021) 5030 1234", "0086 21 50301234", "2150301234"] {
            assert_eq!(phone_key(same).as_deref(), Some("2150301234"), "{same}");
        }
        // A mobile number with or without the country code; a short service number as it is.
        assert_eq!(phone_key("+86 138 0013 8000"), phone_key("13800138000"));
        assert_eq!(phone_key("95588").as_deref(), Some("95588"));
        // "86" opening a local number is not a country code.
        assert_eq!(phone_key("8621 3344").as_deref(), Some("86213344"));
        assert_eq!(phone_key("no digits"), None);
        assert_eq!(phone_key("000"), None);
    }

    #[test]
    fn a_phone_as_typed_is_checked() {
        assert_eq!(phone("caller_phone", " +86 (21) 5030-1234 ").unwrap(), "+86 (21) 5030-1234");
        for bad in ["", "1234", "021 5030 1234 ext 5", "1234567890123456", "☎ 5030 1234"] {
            let e = phone("caller_phone", bad).unwrap_err().to_string();
            assert!(e.contains("caller_phone"), "{bad}: {e}");
        }
    }
}
