//! The office keeps the books (#12): customers, their sites, assets and contracts created and
//! edited in the console; corrections technicians propose from site, confirmed or rejected by
//! the office; two records of one customer merged into one.
//!
//! - Every write goes through the feed writer ([`crate::feed::Writer`]) with a fresh server
//!   stamp in one `Mode::Feed` transaction, so it merges by the same rule as everything else and
//!   reaches the laptops in scope (a customer's or site's technicians, an asset's site's, a
//!   contract's customer's) at their next pull; each is audited (`audit_log`, target = the
//!   record), and the record's trail is shown with it.
//! - Validation names every wrong field and the fix, and writes nothing when anything is wrong;
//!   the values it lets through are ones every laptop's schema can store (codes unique among
//!   live and deleted records alike, as a laptop's UNIQUE columns hold them; a site's zone; a
//!   contract ending on or after it starts).
//! - A correction (entity `corrections`, pushed by a laptop, checked by `push.rs`) is confirmed
//!   by writing its value to the record and the decision to the correction, in one transaction;
//!   a rejection needs a note. Either way the technician's laptop pulls the decision.
//! - Merging: every record naming the merged customer (`customer_id` of work orders, sites,
//!   contracts, calls, complaints, and of any other entity that has the field) is repointed to
//!   the survivor, and the merged customer is tombstoned with `merged_into`, in one transaction.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::review::write_fresh;
use super::{audit, ConsoleUser};
use crate::api::{AppState, JsonBody};
use crate::db::{Mode, Tx};
use crate::error::{Error, Result};
use crate::feed::Writer;
use crate::{params, records};

/// The kinds of record the console keeps, and the fields it edits of each (in the order forms
/// show them). Everything else (`deleted`, `merged_into`) is written only by merging.
pub const KINDS: &[(&str, &[&str])] = &[
    ("customers", &["code", "name", "contact", "phone", "email"]),
    ("sites", &["customer_id", "code", "name", "address", "region", "zone"]),
    ("assets", &["site_id", "code", "asset_type", "name", "model", "serial", "location", "installed_on", "warranty_ends"]),
    ("contracts", &["number", "customer_id", "starts_on", "ends_on", "asset_ids"]),
];

const SHORT: usize = 200;
const CODE: usize = 64;
const ZONES: &[&str] = &["urban", "suburban"];

fn editable(kind: &str) -> Result<&'static [&'static str]> {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, f)| *f)
        .ok_or_else(|| Error::NotFound(format!("'{kind}' is not a kind of record the console keeps; use customers, sites, assets or contracts")))
}

fn singular(kind: &str) -> &'static str {
    match kind {
        "customers" => "customer",
        "sites" => "site",
        "assets" => "asset",
        "contracts" => "contract",
        _ => "record",
    }
}

/// The problems of one form, collected so that all of them are named at once.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, field: &str, why: impl std::fmt::Display) {
        self.0.push(format!("{field}: {why}"));
    }

    fn into_result(self, what: &str) -> Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        Err(Error::Invalid(format!("{what}: {}; nothing was saved", self.0.join("; "))))
    }
}

/// Text as the form gave it: trimmed; empty is none.
fn text_of(v: Option<&Value>) -> std::result::Result<Option<String>, &'static str> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(_) => Err("must be text"),
    }
}

fn plain(p: &mut Problems, field: &str, v: &str, max: usize, one_line: bool) {
    let n = v.chars().count();
    if n > max {
        p.add(field, format!("at most {max} characters (this is {n}); shorten it"));
    }
    // Line breaks and tabs are text in a multi-line field; every other control character is not.
    if v.chars().any(|c| c.is_control() && (one_line || !matches!(c, '\n' | '\t'))) {
        p.add(field, "remove the control characters (type it on one line)");
    }
}

fn date_ok(v: &str) -> bool {
    v.len() == 10 && chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()
}

/// Is this code (or contract number) another record's? Deleted ones count: a laptop keeps them.
fn code_taken(tx: &mut dyn Tx, kind: &str, code: &str, id: &str) -> Result<Option<String>> {
    tx.query_opt("SELECT id FROM reference_index WHERE entity = $1 AND code = $2 AND id <> $3", params![kind, code, id])?.map(|r| r.text(0)).transpose()
}

/// Checks a form for a new record (`current` none) or an edit, and gives the fields to write:
/// the ones given that differ from the record, or every field of a new one.
fn validate(tx: &mut dyn Tx, kind: &str, id: &str, current: Option<&Map<String, Value>>, input: &Map<String, Value>) -> Result<Map<String, Value>> {
    let fields = editable(kind)?;
    let what = match current {
        Some(_) => format!("{} {id}", singular(kind)),
        None => format!("new {}", singular(kind)),
    };
    let mut p = Problems::default();
    for k in input.keys() {
        if !fields.contains(&k.as_str()) {
            p.add(k, format!("not a field the console edits; a {} has {}", singular(kind), fields.join(", ")));
        }
    }
    // The record as it will stand: what was given over what is stored.
    let mut out = Map::new();
    let mut will: Map<String, Value> = current.cloned().unwrap_or_default();
    for f in fields.iter().copied() {
        let Some(given) = input.get(f) else { continue };
        let v = if f == "asset_ids" {
            match given {
                Value::Null => json!([]),
                Value::Array(a) if a.iter().all(Value::is_string) => {
                    let mut ids: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    json!(ids)
                }
                _ => {
                    p.add(f, "give a list of asset ids");
                    continue;
                }
            }
        } else {
            match text_of(Some(given)) {
                Ok(t) => t.map(Value::String).unwrap_or(Value::Null),
                Err(why) => {
                    p.add(f, why);
                    continue;
                }
            }
        };
        will.insert(f.to_owned(), v);
    }
    let get = |m: &Map<String, Value>, f: &str| m.get(f).and_then(Value::as_str).map(str::to_owned);
    let required: &[&str] = match kind {
        "customers" => &["code", "name"],
        "sites" => &["customer_id", "code", "name", "address", "region", "zone"],
        "assets" => &["site_id", "code", "asset_type", "name"],
        _ => &["number", "customer_id", "starts_on", "ends_on"],
    };
    for f in required {
        if get(&will, f).is_none() {
            p.add(f, "required; fill it in");
        }
    }
    for f in fields.iter().copied().filter(|f| *f != "asset_ids") {
        let Some(v) = get(&will, f) else { continue };
        if !input.contains_key(f) {
            continue; // unchanged: it was valid when written
        }
        match f {
            "code" | "number" => {
                plain(&mut p, f, &v, CODE, true);
                if let Some(other) = code_taken(tx, kind, &v, id)? {
                    p.add(f, format!("'{v}' is already {} {other}'s; choose another", singular(kind)));
                }
            }
            "phone" => {
                // The call form's own check, so a customer's phone is found when they call.
                if let Err(e) = super::calls::phone(f, &v) {
                    p.0.push(e.to_string());
                }
            }
            "email" => {
                plain(&mut p, f, &v, SHORT, true);
                let parts: Vec<&str> = v.split('@').collect();
                if parts.len() != 2 || parts[0].is_empty() || !parts[1].contains('.') || v.contains(' ') {
                    p.add(f, format!("'{v}' is not an e-mail address; write it like name@example.com"));
                }
            }
            "zone" => {
                if !ZONES.contains(&v.as_str()) {
                    p.add(f, format!("'{v}': choose urban or suburban"));
                }
            }
            "installed_on" | "warranty_ends" | "starts_on" | "ends_on" => {
                if !date_ok(&v) {
                    p.add(f, format!("'{v}' is not a date; write it as YYYY-MM-DD"));
                }
            }
            "customer_id" => match tx.query_opt("SELECT deleted FROM reference_index WHERE entity = 'customers' AND id = $1", params![v.as_str()])? {
                Some(r) if r.int(0)? == 0 => {}
                Some(_) => p.add(f, format!("customer {v} was deleted or merged into another; choose a live customer")),
                None => p.add(f, format!("no customer {v}; choose one from the list")),
            },
            "site_id" => match tx.query_opt("SELECT deleted FROM reference_index WHERE entity = 'sites' AND id = $1", params![v.as_str()])? {
                Some(r) if r.int(0)? == 0 => {}
                Some(_) => p.add(f, format!("site {v} was deleted; choose a live site")),
                None => p.add(f, format!("no site {v}; choose one from the list")),
            },
            "address" => plain(&mut p, f, &v, 400, false),
            _ => plain(&mut p, f, &v, SHORT, true),
        }
    }
    // Dates in order: the laptop's schema refuses a contract that ends before it starts.
    let pair = |a: &str, b: &str| -> Option<(String, String)> { Some((get(&will, a)?, get(&will, b)?)) };
    if let Some((from, to)) = pair("starts_on", "ends_on") {
        if date_ok(&from) && date_ok(&to) && to < from {
            p.add("ends_on", format!("{to} is before the start {from}; a contract ends on or after it starts"));
        }
    }
    if let Some((from, to)) = pair("installed_on", "warranty_ends") {
        if date_ok(&from) && date_ok(&to) && to < from {
            p.add("warranty_ends", format!("{to} is before installation on {from}; check both dates"));
        }
    }
    if kind == "contracts" && (input.contains_key("asset_ids") || input.contains_key("customer_id")) {
        // Covered assets are at the contract customer's sites.
        let customer = get(&will, "customer_id").unwrap_or_default();
        let ids: Vec<String> = will.get("asset_ids").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default();
        for a in ids {
            let site = tx.query_opt("SELECT parent_id FROM reference_index WHERE entity = 'assets' AND id = $1 AND deleted = 0", params![a.as_str()])?;
            let owner = match site {
                Some(r) => match r.opt_text(0)? {
                    Some(s) => tx.query_opt("SELECT parent_id FROM reference_index WHERE entity = 'sites' AND id = $1", params![s.as_str()])?.map(|r| r.opt_text(0)).transpose()?.flatten(),
                    None => None,
                },
                None => None,
            };
            if owner.as_deref() != Some(customer.as_str()) {
                p.add("asset_ids", format!("asset {a} is not at a site of customer {customer}; cover only the customer's own assets"));
            }
        }
    }
    p.into_result(&what)?;
    for f in fields.iter().copied() {
        let now = will.get(f).cloned().unwrap_or(if f == "asset_ids" { json!([]) } else { Value::Null });
        let before = current.and_then(|c| c.get(f)).cloned();
        if current.is_none() || (input.contains_key(f) && before.as_ref() != Some(&now) && !(before.is_none() && now.is_null())) {
            out.insert(f.to_owned(), now);
        }
    }
    Ok(out)
}

/// A record as the console shows it: its id and fields.
fn shown(id: &str, fields: &Map<String, Value>) -> Value {
    let mut m = fields.clone();
    m.insert("id".into(), json!(id));
    Value::Object(m)
}

/// Creates a record (`id` none: a new UUIDv7) or edits one. Runs in a `Mode::Feed` transaction.
pub fn save(tx: &mut dyn Tx, actor: &str, kind: &str, id: Option<&str>, input: &Map<String, Value>) -> Result<Value> {
    editable(kind)?;
    let new_id;
    let (id, current) = match id {
        Some(id) => {
            let Some(state) = records::load(tx, kind, id)? else {
                return Err(Error::NotFound(format!("{} {id}: no such record; reload the list", singular(kind))));
            };
            if state.fields.get("deleted") == Some(&Value::Bool(true)) {
                let merged = records::text(&state, "merged_into").map(|m| format!(" (merged into {m}; edit that one)")).unwrap_or_default();
                return Err(Error::conflict(format!("{} {id} was deleted{merged}", singular(kind))));
            }
            (id, Some(state.fields))
        }
        None => {
            new_id = uuid::Uuid::now_v7().to_string();
            (new_id.as_str(), None)
        }
    };
    let mut changes = validate(tx, kind, id, current.as_ref(), input)?;
    if current.is_none() {
        changes.insert("deleted".into(), json!(false));
        if kind == "customers" {
            changes.insert("merged_into".into(), Value::Null);
        }
    }
    if !changes.is_empty() {
        let before: Map<String, Value> = changes.keys().map(|k| (k.clone(), current.as_ref().and_then(|c| c.get(k)).cloned().unwrap_or(Value::Null))).collect();
        let fields: Vec<(&str, Value)> = changes.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let mut w = Writer::begin(tx)?;
        write_fresh(&mut w, kind, id, &fields)?;
        w.finish()?;
        let action = if current.is_none() { format!("{}_created", singular(kind)) } else { format!("{}_changed", singular(kind)) };
        let detail = if current.is_none() { json!({"fields": changes}) } else { json!({"from": before, "to": changes}) };
        audit::record(tx, actor, &action, Some(kind), Some(id), None, detail)?;
    }
    let state = records::load(tx, kind, id)?.expect("just written");
    Ok(shown(id, &state.fields))
}

// ---------------------------------------------------------------------------------------------
// Reading

#[derive(Debug, Default, Deserialize)]
pub struct CustomerQuery {
    /// Part of a code, name or phone.
    pub q: Option<String>,
    pub limit: Option<String>,
}

/// Live customers matching a search (code, name, or phone digits), by code, at most `limit`.
pub fn customers_of(tx: &mut dyn Tx, q: &str, limit: usize) -> Result<Vec<Value>> {
    let text = q.to_lowercase();
    let mut sql = super::Sql::new("SELECT id FROM reference_index WHERE entity = 'customers' AND deleted = 0");
    let like = sql.bind(format!("%{}%", text.replace(['%', '_', '\\'], "")));
    sql.push(&format!(" AND (LOWER(code) LIKE {like} OR LOWER(name) LIKE {like}"));
    // Part of a phone number, as `reference_index.phone` keeps it (digits, no leading 0 or +86).
    if let Some(key) = super::calls::phone_key(q).filter(|k| k.len() >= 3) {
        let p = sql.bind(format!("%{key}%"));
        sql.push(&format!(" OR phone LIKE {p}"));
    }
    let p = sql.bind(limit as i64);
    sql.push(&format!(") ORDER BY code, id LIMIT {p}"));
    let rows = tx.query(&sql.text, &sql.params)?;
    let ids: Vec<String> = rows.iter().map(|r| r.text(0)).collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let fields = records::load(tx, "customers", &id)?.map(|s| s.fields).unwrap_or_default();
        let sites = tx.query_one("SELECT CAST(COUNT(*) AS BIGINT) FROM reference_index WHERE entity = 'sites' AND parent_id = $1 AND deleted = 0", params![id.as_str()])?.int(0)?;
        let contracts =
            tx.query_one("SELECT CAST(COUNT(*) AS BIGINT) FROM reference_index WHERE entity = 'contracts' AND parent_id = $1 AND deleted = 0", params![id.as_str()])?.int(0)?;
        let mut v = shown(&id, &fields);
        v["sites"] = json!(sites);
        v["contracts"] = json!(contracts);
        out.push(v);
    }
    Ok(out)
}

pub async fn list(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<CustomerQuery>) -> Result<Json<Value>> {
    let text = super::search_text("q", q.q.as_deref().unwrap_or_default())?;
    let limit = super::PageQuery { limit: q.limit, after: None }.limit()?;
    let items = s.db.run(Mode::Read, move |tx| customers_of(tx, &text, limit)).await?;
    Ok(Json(json!({"items": items})))
}

fn live_children(tx: &mut dyn Tx, entity: &str, owner: &str) -> Result<Vec<(String, Map<String, Value>)>> {
    let mut out: Vec<(String, Map<String, Value>)> =
        records::by_owner(tx, entity, owner)?.into_iter().filter(|(_, s)| s.fields.get("deleted") != Some(&Value::Bool(true))).map(|(id, s)| (id, s.fields)).collect();
    let key = if entity == "contracts" { "number" } else { "code" };
    out.sort_by(|a, b| records::text_of(&a.1, key).cmp(&records::text_of(&b.1, key)));
    Ok(out)
}

/// A customer with its sites (each with its assets), contracts, the corrections proposed for
/// any of them, and the audit trail of all of them, newest first.
pub fn customer_of(tx: &mut dyn Tx, id: &str) -> Result<Value> {
    let Some(state) = records::load(tx, "customers", id)? else {
        return Err(Error::NotFound(format!("customer {id}: no such customer; search again")));
    };
    let mut targets: Vec<(&str, String)> = vec![("customers", id.to_owned())];
    let mut sites = Vec::new();
    for (sid, f) in live_children(tx, "sites", id)? {
        let mut assets = Vec::new();
        for (aid, a) in live_children(tx, "assets", &sid)? {
            targets.push(("assets", aid.clone()));
            assets.push(shown(&aid, &a));
        }
        targets.push(("sites", sid.clone()));
        let mut v = shown(&sid, &f);
        v["assets"] = json!(assets);
        sites.push(v);
    }
    let mut contracts = Vec::new();
    for (cid, f) in live_children(tx, "contracts", id)? {
        targets.push(("contracts", cid.clone()));
        contracts.push(shown(&cid, &f));
    }
    let orders = tx.query_one("SELECT CAST(COUNT(*) AS BIGINT) FROM work_order_index WHERE customer_id = $1 AND deleted = 0", params![id])?.int(0)?;
    let mut trail = Vec::new();
    for (entity, tid) in &targets {
        let rows = tx.query(
            "SELECT id, at, actor, action, target_entity, target_id, detail FROM audit_log WHERE target_entity = $1 AND target_id = $2 ORDER BY id DESC LIMIT 100",
            params![*entity, tid.as_str()],
        )?;
        for r in rows {
            trail.push(json!({
                "id": r.int(0)?, "at": r.text(1)?, "actor": r.text(2)?, "action": r.text(3)?, "target_entity": r.opt_text(4)?,
                "target_id": r.opt_text(5)?, "detail": serde_json::from_str::<Value>(&r.text(6)?).unwrap_or(Value::Null),
            }));
        }
    }
    trail.sort_by(|a, b| b["id"].as_i64().cmp(&a["id"].as_i64()));
    let ids: Vec<&str> = targets.iter().map(|(_, t)| t.as_str()).collect();
    let corrections: Vec<Value> = corrections_where(tx, |c| ids.contains(&records::text_of(c, "record_id").unwrap_or_default()))?;
    Ok(json!({
        "customer": shown(id, &state.fields), "sites": sites, "contracts": contracts, "orders": orders, "trail": trail, "corrections": corrections,
    }))
}

pub async fn detail(State(s): State<AppState>, _u: ConsoleUser, Path(id): Path<String>) -> Result<Json<Value>> {
    Ok(Json(s.db.run(Mode::Read, move |tx| customer_of(tx, &id)).await?))
}

fn body_map(v: Value) -> Result<Map<String, Value>> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(Error::Invalid("the body must be a JSON object of the record's fields".into())),
    }
}

async fn create_kind(s: AppState, u: ConsoleUser, kind: &'static str, body: Value) -> Result<Json<Value>> {
    let (actor, input) = (u.login().to_owned(), body_map(body)?);
    Ok(Json(s.db.run(Mode::Feed, move |tx| save(tx, &actor, kind, None, &input)).await?))
}

async fn edit_kind(s: AppState, u: ConsoleUser, kind: &'static str, id: String, body: Value) -> Result<Json<Value>> {
    let (actor, input) = (u.login().to_owned(), body_map(body)?);
    Ok(Json(s.db.run(Mode::Feed, move |tx| save(tx, &actor, kind, Some(&id), &input)).await?))
}

macro_rules! kind_routes {
    ($create:ident, $edit:ident, $kind:literal) => {
        pub async fn $create(State(s): State<AppState>, u: ConsoleUser, JsonBody(body): JsonBody<Value>) -> Result<Json<Value>> {
            create_kind(s, u, $kind, body).await
        }
        pub async fn $edit(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(body): JsonBody<Value>) -> Result<Json<Value>> {
            edit_kind(s, u, $kind, id, body).await
        }
    };
}

kind_routes!(create_customer, edit_customer, "customers");
kind_routes!(create_site, edit_site, "sites");
kind_routes!(create_asset, edit_asset, "assets");
kind_routes!(create_contract, edit_contract, "contracts");

// ---------------------------------------------------------------------------------------------
// Corrections proposed from site

const DECISIONS: &[&str] = &["pending", "confirmed", "rejected"];

/// The status of a correction: the office's word, or pending.
fn status_of(f: &Map<String, Value>) -> &str {
    records::text_of(f, "status").unwrap_or("pending")
}

/// Corrections (live) that pass `keep`, each with its order, technician and the record's current
/// value; pending first, then newest first. Corrections are few (one per wrong detail found on
/// site), so they are read from `records` directly.
fn corrections_where(tx: &mut dyn Tx, keep: impl Fn(&Map<String, Value>) -> bool) -> Result<Vec<Value>> {
    let all = records::all(tx, "corrections")?;
    let mut out = Vec::new();
    for (id, s) in all {
        let f = &s.fields;
        if f.get("deleted") == Some(&Value::Bool(true)) || !keep(f) {
            continue;
        }
        let (order_id, target, rid, field) = (
            records::text_of(f, "work_order_id").unwrap_or_default(),
            records::text_of(f, "record_entity").unwrap_or_default(),
            records::text_of(f, "record_id").unwrap_or_default(),
            records::text_of(f, "field").unwrap_or_default(),
        );
        let order = tx.query_opt("SELECT number, technician FROM work_order_index WHERE id = $1", params![order_id])?;
        let (number, technician) = match order {
            Some(r) => (r.opt_text(0)?, r.opt_text(1)?),
            None => (None, None),
        };
        let record = if fieldbook_core::entity::is_correctable(target, field) { records::load(tx, target, rid)? } else { None };
        let (current, record_name, record_code) = match &record {
            Some(r) => (r.fields.get(field).cloned().unwrap_or(Value::Null), records::text(r, "name").map(str::to_owned), records::text(r, "code").map(str::to_owned)),
            None => (Value::Null, None, None),
        };
        let mut v = shown(&id, f);
        v["status"] = json!(status_of(f));
        v["number"] = json!(number);
        v["technician"] = json!(technician);
        v["current_value"] = current;
        v["record_name"] = json!(record_name);
        v["record_code"] = json!(record_code);
        out.push(v);
    }
    out.sort_by(|a, b| {
        let rank = |v: &Value| (v["status"] != "pending") as u8;
        rank(a).cmp(&rank(b)).then_with(|| b["proposed_at"].as_str().cmp(&a["proposed_at"].as_str()))
    });
    Ok(out)
}

#[derive(Debug, Default, Deserialize)]
pub struct CorrectionQuery {
    /// `pending` (the default), `confirmed`, `rejected` or `all`.
    pub status: Option<String>,
}

pub fn corrections_of(tx: &mut dyn Tx, status: &str) -> Result<Vec<Value>> {
    if status != "all" && !DECISIONS.contains(&status) {
        return Err(Error::Invalid(format!("status '{status}': use pending, confirmed, rejected or all")));
    }
    corrections_where(tx, |f| status == "all" || status_of(f) == status)
}

pub async fn corrections(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<CorrectionQuery>) -> Result<Json<Value>> {
    let status = q.status.filter(|s| !s.is_empty()).unwrap_or_else(|| "pending".into());
    let items = s.db.run(Mode::Read, move |tx| corrections_of(tx, &status)).await?;
    Ok(Json(json!({"items": items})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// `confirm` or `reject`.
    pub decision: String,
    pub note: Option<String>,
}

/// The office confirms a correction (its value is written to the record) or rejects it with a
/// note. Runs in a `Mode::Feed` transaction: both writes and the audit entries, or nothing.
pub fn decide(tx: &mut dyn Tx, actor: &str, id: &str, d: &Decision) -> Result<Value> {
    let confirm = match d.decision.as_str() {
        "confirm" => true,
        "reject" => false,
        other => return Err(Error::Invalid(format!("decision '{other}': confirm (write the value to the record) or reject (with a note for the technician)"))),
    };
    let note = d.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if !confirm && note.is_none() {
        return Err(Error::Invalid("note: say why the correction is rejected (the technician reads it)".into()));
    }
    if let Some(n) = note {
        if n.chars().count() > 4_000 {
            return Err(Error::Invalid("note: at most 4000 characters".into()));
        }
    }
    let Some(state) = records::load(tx, "corrections", id)? else {
        return Err(Error::NotFound(format!("correction {id}: no such correction; reload the list")));
    };
    let f = state.fields;
    if f.get("deleted") == Some(&Value::Bool(true)) {
        return Err(Error::NotFound(format!("correction {id} was withdrawn; reload the list")));
    }
    if status_of(&f) != "pending" {
        return Err(Error::conflict(format!("correction {id} is already {} by {}; reload the list", status_of(&f), records::text_of(&f, "decided_by").unwrap_or("the office"))));
    }
    let (target, rid, field, value, order) = (
        records::text_of(&f, "record_entity").unwrap_or_default().to_owned(),
        records::text_of(&f, "record_id").unwrap_or_default().to_owned(),
        records::text_of(&f, "field").unwrap_or_default().to_owned(),
        f.get("value").cloned().unwrap_or(Value::Null),
        records::text_of(&f, "work_order_id").map(str::to_owned),
    );
    if confirm {
        // Through the same validation as the console's own form: a confirmed phone is a phone.
        if !fieldbook_core::entity::is_correctable(&target, &field) {
            return Err(Error::Invalid(format!("correction {id}: {field} of {target} is not correctable from site; reject it")));
        }
        let input: Map<String, Value> = [(field.clone(), value.clone())].into_iter().collect();
        save(tx, actor, &target, Some(&rid), &input).map_err(|e| match e {
            Error::Invalid(m) => Error::Invalid(format!("correction {id} cannot be confirmed as proposed ({m}); reject it with a note")),
            other => other,
        })?;
    }
    let status = if confirm { "confirmed" } else { "rejected" };
    let mut w = Writer::begin(tx)?;
    write_fresh(&mut w, "corrections", id, &[
        ("status", json!(status)),
        ("decided_by", json!(actor)),
        ("decided_at", json!(crate::now_text())),
        ("decision_note", json!(note)),
    ])?;
    w.finish()?;
    audit::record(tx, actor, &format!("correction_{status}"), Some("corrections"), Some(id), order.as_deref(), json!({"record": format!("{target}/{rid}"), "field": field, "value": value, "note": note}))?;
    let out = corrections_where(tx, |c| records::text_of(c, "record_id") == Some(rid.as_str()))?;
    Ok(out.into_iter().find(|c| c["id"] == id).unwrap_or(Value::Null))
}

pub async fn decide_route(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(d): JsonBody<Decision>) -> Result<Json<Value>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| decide(tx, &actor, &id, &d)).await?))
}

// ---------------------------------------------------------------------------------------------
// Merging two records of one customer

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The customer that stays; the one in the path is merged into it.
    pub survivor: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Merged {
    pub survivor: String,
    pub merged: String,
    /// Records repointed to the survivor, by entity.
    pub moved: std::collections::BTreeMap<String, i64>,
}

/// Ids of the live records of `entity` that name `customer_id` — by their projection where the
/// console has one, else by scanning the entity's records (any later record type with a
/// `customer_id` is covered without a change here).
fn naming_customer(tx: &mut dyn Tx, entity: &str, customer_id: &str) -> Result<Vec<String>> {
    let projected = match entity {
        "work_orders" => Some("SELECT id FROM work_order_index WHERE customer_id = $1 ORDER BY id"),
        "sites" => Some("SELECT id FROM reference_index WHERE entity = 'sites' AND parent_id = $1 ORDER BY id"),
        "contracts" => Some("SELECT id FROM reference_index WHERE entity = 'contracts' AND parent_id = $1 ORDER BY id"),
        "calls" => Some("SELECT id FROM call_index WHERE customer_id = $1 ORDER BY id"),
        "complaints" => Some("SELECT id FROM complaint_index WHERE customer_id = $1 ORDER BY id"),
        _ => None,
    };
    if let Some(sql) = projected {
        return tx.query(sql, params![customer_id])?.iter().map(|r| r.text(0)).collect();
    }
    // JSON text as serde_json writes it: `"customer_id":"…"`, confirmed on the parsed record (so
    // a `%` or `_` in an id, which LIKE reads as a wildcard, only lets more rows through).
    let needle = format!("%{}%", json!({ "customer_id": customer_id }).to_string().trim_start_matches('{').trim_end_matches('}'));
    let rows = tx.query("SELECT id, fields FROM records WHERE entity = $1 AND fields LIKE $2 ORDER BY id", params![entity, needle])?;
    let mut out = Vec::new();
    for r in rows {
        let f: Map<String, Value> = serde_json::from_str(&r.text(1)?).unwrap_or_default();
        if records::text_of(&f, "customer_id") == Some(customer_id) {
            out.push(r.text(0)?);
        }
    }
    Ok(out)
}

/// The customer a record naming `customer_id` belongs to now: that one, or the one the office
/// merged it into (followed through later merges).
pub fn survivor_of(w: &mut Writer<'_>, customer_id: &str) -> Result<String> {
    let mut id = customer_id.to_owned();
    // A merge refuses a customer already merged, so the chain has no loop; bounded all the same.
    for _ in 0..32 {
        let next = match w.load("customers", &id)? {
            Some(c) => c.text("merged_into")?.filter(|n| *n != id).map(str::to_owned),
            None => None,
        };
        match next {
            Some(n) => id = n,
            None => break,
        }
    }
    Ok(id)
}

/// Called by the feed writer when a work order's customer changed: an order naming a customer the
/// office has merged (raised on a laptop that had not pulled the merge yet) is repointed to the
/// survivor, a server change its laptop pulls like any other.
pub fn after_work_order(w: &mut Writer<'_>, order_id: &str, after: &records::Stored) -> Result<()> {
    let Some(customer) = after.text("customer_id")?.map(str::to_owned) else { return Ok(()) };
    let survivor = survivor_of(w, &customer)?;
    if survivor != customer {
        write_fresh(w, "work_orders", order_id, &[("customer_id", json!(survivor))])?;
    }
    Ok(())
}

/// Merges customer `merged` into `survivor`. Runs in a `Mode::Feed` transaction.
pub fn merge(tx: &mut dyn Tx, actor: &str, merged: &str, survivor: &str) -> Result<Merged> {
    if merged == survivor {
        return Err(Error::Invalid(format!("survivor: customer {merged} cannot be merged into itself; choose the other record of the same customer")));
    }
    let load = |tx: &mut dyn Tx, id: &str, role: &str| -> Result<Map<String, Value>> {
        let Some(s) = records::load(tx, "customers", id)? else {
            return Err(Error::NotFound(format!("{role}: no customer {id}; search customers again")));
        };
        if s.fields.get("deleted") == Some(&Value::Bool(true)) {
            let why = match records::text(&s, "merged_into") {
                Some(m) => format!("was already merged into {m}"),
                None => "was deleted".to_owned(),
            };
            return Err(Error::conflict(format!("{role}: customer {id} {why}; reload and choose a live customer")));
        }
        Ok(s.fields)
    };
    let gone = load(tx, merged, "customer")?;
    let stays = load(tx, survivor, "survivor")?;
    // Every entity with a customer_id field, whoever added it.
    let entities: Vec<&str> = fieldbook_core::entity::ENTITIES
        .iter()
        .chain(fieldbook_core::entity::DESK_ENTITIES)
        .filter(|e| e.field("customer_id").is_some())
        .map(|e| e.name)
        .collect();
    let mut found = Vec::new();
    for e in &entities {
        found.push((*e, naming_customer(tx, e, merged)?));
    }
    let mut w = Writer::begin(tx)?;
    // The merged customer goes first, while its technicians are still on file as serving it:
    // each of them gets the tombstone, then the orders that now name the survivor (and with
    // them the survivor's record).
    write_fresh(&mut w, "customers", merged, &[("merged_into", json!(survivor)), ("deleted", json!(true))])?;
    let mut moved = std::collections::BTreeMap::new();
    for (entity, ids) in &found {
        let mut n = 0;
        for rid in ids {
            write_fresh(&mut w, entity, rid, &[("customer_id", json!(survivor))])?;
            n += 1;
        }
        if n > 0 {
            moved.insert((*entity).to_owned(), n);
        }
    }
    w.finish()?;
    let name = |f: &Map<String, Value>| format!("{} {}", records::text_of(f, "code").unwrap_or_default(), records::text_of(f, "name").unwrap_or_default());
    let detail = json!({"merged": merged, "merged_name": name(&gone), "survivor": survivor, "survivor_name": name(&stays), "moved": moved});
    audit::record(tx, actor, "customer_merged", Some("customers"), Some(merged), None, detail.clone())?;
    audit::record(tx, actor, "customer_merged", Some("customers"), Some(survivor), None, detail)?;
    Ok(Merged { survivor: survivor.to_owned(), merged: merged.to_owned(), moved })
}

pub async fn merge_route(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(req): JsonBody<MergeRequest>) -> Result<Json<Merged>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| merge(tx, &actor, &id, &req.survivor)).await?))
}
