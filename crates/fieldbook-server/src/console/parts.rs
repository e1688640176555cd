//! Spare parts (备件管理, #12): stores, stock levels, movements and requisitions.
//!
//! - **Stores** (`stores`): the main store (`main`) and a van store per technician (`van-LOGIN`,
//!   made the first time parts are issued to the technician or a repair of theirs uses a part).
//!   A van's store and its stock levels reach its technician's laptop (`feed.rs`'s
//!   `primary_scope`); the main store's reach nobody.
//! - **Stock levels** (`stock_levels`, id `STORE/PART`): on hand and the minimum. Only a
//!   movement changes on hand, in the same transaction as the movement; the office sets minimums.
//! - **Movements** (`stock_movements`, a desk record): goods in, issue to a van (领用), transfer,
//!   use on a repair, faulty return, write-off; each with who and when. The main store (and any
//!   store the office moves parts out of) never goes below zero: the movement is refused, naming
//!   what the store holds. Only a technician's use may take a van below zero; that movement is
//!   flagged `over_use` for the office.
//! - **Use on a repair** is recorded by the server when a repair record reaches it
//!   ([`after_repair_record`], called by the feed writer in the same transaction): one `use`
//!   movement per repair and part, whose quantity follows the repair record (an edit adjusts the
//!   van by the difference; a re-push changes nothing, a deleted repair gives its parts back), and
//!   likewise one `faulty_return` per repair and part marked returned. A faulty part is not stock:
//!   its return is recorded (for parts quality) without changing on-hand figures.
//! - **Requisitions** (`requisitions`): a technician asks (lines of part + quantity, a note); the
//!   office approves — issuing the shipment from the main store to the van in the same
//!   transaction — or rejects with a note; the technician confirms what arrived (correct or not),
//!   which the correct-shipments report counts.
//!
//! Projections `part_index`, `stock_index`, `movement_index`, `requisition_index` (migration
//! 0016) are kept by [`project`] when the feed writer flushes.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::index::{deleted, int, text, upsert};
use super::review::write_fresh;
use super::{audit, encode_cursor, ConsoleUser, PageQuery, Sql};
use crate::api::{AppState, JsonBody};
use crate::db::{self, Mode, Tx};
use crate::error::{Error, Result};
use crate::feed::Writer;
use crate::params;
use crate::records::Stored;

/// The main store's id.
pub const MAIN: &str = "main";
/// The most of one part a single movement may move: a typo's extra zeros are refused.
pub const MAX_QUANTITY: i64 = 1_000_000;
/// Longest note on a movement or decision.
const MAX_NOTE: usize = 4_000;
/// Most lines in one requisition.
pub const MAX_LINES: usize = 100;

/// A technician's van store.
pub fn van_id(login: &str) -> String {
    format!("van-{login}")
}

/// The stock level record of a part in a store.
pub fn level_id(store: &str, part: &str) -> String {
    format!("{store}/{part}")
}

/// The kinds of movement, as stored.
pub const KINDS: &[&str] = &["goods_in", "issue", "transfer", "use", "faulty_return", "write_off"];

// ---------------------------------------------------------------------------------------------
// Stores and levels through the feed writer

/// Makes sure a store exists (the main store, or a technician's van).
fn ensure_store(w: &mut Writer<'_>, store: &str) -> Result<()> {
    if w.load("stores", store)?.is_some() {
        return Ok(());
    }
    let (code, name, kind, tech) = if store == MAIN {
        ("MAIN".to_owned(), "Main store / 总库".to_owned(), "main", Value::Null)
    } else if let Some(login) = store.strip_prefix("van-") {
        (format!("VAN-{login}"), format!("Van / 车载库 {login}"), "van", json!(login))
    } else {
        return Err(Error::NotFound(format!("store {store}: no such store; the stores are the main store and each technician's van")));
    };
    write_fresh(w, "stores", store, &[("code", json!(code)), ("name", json!(name)), ("kind", json!(kind)), ("technician", tech), ("deleted", json!(false))])
}

/// On hand and minimum of a part in a store (0, 0 when there is no level yet).
fn level(w: &mut Writer<'_>, store: &str, part: &str) -> Result<(i64, i64)> {
    Ok(match w.load("stock_levels", &level_id(store, part))? {
        Some(s) => {
            let f = s.fields()?;
            (f.get("on_hand").and_then(Value::as_i64).unwrap_or(0), f.get("minimum").and_then(Value::as_i64).unwrap_or(0))
        }
        None => (0, 0),
    })
}

/// Adds `delta` to a part's stock in a store (creating the level), returning the new on hand.
fn add_stock(w: &mut Writer<'_>, store: &str, part: &str, delta: i64) -> Result<i64> {
    ensure_store(w, store)?;
    let id = level_id(store, part);
    let exists = w.load("stock_levels", &id)?.is_some();
    let (on_hand, _) = level(w, store, part)?;
    let now = on_hand + delta;
    if exists {
        write_fresh(w, "stock_levels", &id, &[("on_hand", json!(now))])?;
    } else {
        write_fresh(w, "stock_levels", &id, &[
            ("store_id", json!(store)), ("part_id", json!(part)), ("on_hand", json!(now)), ("minimum", json!(0)), ("deleted", json!(false)),
        ])?;
    }
    Ok(now)
}

/// A movement the office asks for.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MovementRequest {
    /// `goods_in`, `issue`, `transfer` or `write_off` (use and faulty returns come from repairs).
    pub kind: String,
    pub part_id: String,
    pub quantity: i64,
    /// The store parts leave (transfer, write-off; default the main store).
    #[serde(default)]
    pub from_store: Option<String>,
    /// The store parts arrive at (goods in: default the main store; transfer).
    #[serde(default)]
    pub to_store: Option<String>,
    /// Issue: the technician whose van receives the parts.
    #[serde(default)]
    pub technician: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// One movement as it will be written.
struct Movement<'a> {
    kind: &'a str,
    part_id: &'a str,
    from: Option<&'a str>,
    to: Option<&'a str>,
    quantity: i64,
    repair_record_id: Option<&'a str>,
    requisition_id: Option<&'a str>,
    note: Option<&'a str>,
}

/// The name of a part for messages: its SKU, else its id.
fn part_name(w: &mut Writer<'_>, part: &str) -> Result<String> {
    Ok(match w.load("parts", part)? {
        Some(p) => p.text("sku")?.map(|s| format!("part {s}")).unwrap_or_else(|| format!("part {part}")),
        None => format!("part {part}"),
    })
}

/// Records a movement made by the office and moves the stock, refusing to take a store below
/// zero. Returns the movement's id.
fn office_movement(w: &mut Writer<'_>, by: &str, m: &Movement<'_>) -> Result<String> {
    if !(1..=MAX_QUANTITY).contains(&m.quantity) {
        return Err(Error::Invalid(format!("quantity {}: move 1 to {MAX_QUANTITY} at a time", m.quantity)));
    }
    if w.load("parts", m.part_id)?.is_none_or(|p| p.fields().is_ok_and(|f| f.get("deleted") == Some(&Value::Bool(true)))) {
        return Err(Error::NotFound(format!("part {}: no such part in the catalogue; pick one from the list", m.part_id)));
    }
    if let Some(from) = m.from {
        ensure_store(w, from)?;
        let (on_hand, _) = level(w, from, m.part_id)?;
        if on_hand < m.quantity {
            let part = part_name(w, m.part_id)?;
            return Err(Error::conflict(format!(
                "store {from} holds {on_hand} of {part}, not {}; book the goods in first or move fewer",
                m.quantity
            )));
        }
        add_stock(w, from, m.part_id, -m.quantity)?;
    }
    if let Some(to) = m.to {
        add_stock(w, to, m.part_id, m.quantity)?;
    }
    let id = uuid::Uuid::now_v7().to_string();
    write_movement(w, &id, by, m, false, None)?;
    Ok(id)
}

/// Writes a movement; `at` keeps an earlier time (an adjusted use), else now.
fn write_movement(w: &mut Writer<'_>, id: &str, by: &str, m: &Movement<'_>, over_use: bool, at: Option<String>) -> Result<()> {
    write_fresh(w, "stock_movements", id, &[
        ("kind", json!(m.kind)),
        ("part_id", json!(m.part_id)),
        ("from_store", json!(m.from)),
        ("to_store", json!(m.to)),
        ("quantity", json!(m.quantity)),
        ("by", json!(by)),
        ("at", json!(at.unwrap_or_else(crate::now_text))),
        ("repair_record_id", json!(m.repair_record_id)),
        ("requisition_id", json!(m.requisition_id)),
        ("note", json!(m.note)),
        ("over_use", json!(over_use)),
        ("deleted", json!(false)),
    ])
}

fn note_of(n: Option<&str>) -> Result<Option<String>> {
    let n = n.map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = n {
        let len = n.chars().count();
        if len > MAX_NOTE || n.contains('\0') {
            return Err(Error::Invalid(format!("note: at most {MAX_NOTE} characters of text (this is {len})")));
        }
    }
    Ok(n.map(str::to_owned))
}

fn store_arg(field: &str, v: Option<&str>) -> Result<Option<String>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s == MAIN || (s.starts_with("van-") && s.len() > 4 && s.len() <= 120) => Ok(Some(s.to_owned())),
        Some(s) => Err(Error::Invalid(format!("{field} '{}': name a store as main or van-LOGIN", fieldbook_core::policy::clip(s)))),
    }
}

/// Is `login` an active technician?
fn is_technician(tx: &mut dyn Tx, login: &str) -> Result<bool> {
    Ok(tx.query_opt("SELECT 1 FROM users WHERE login = $1 AND role = 'technician' AND disabled = 0", params![login])?.is_some())
}

/// The office moves stock: goods in, issue to a van, transfer, write-off. Runs in a
/// `Mode::Feed` transaction; everything or nothing is written.
pub fn move_stock(tx: &mut dyn Tx, actor: &str, req: &MovementRequest) -> Result<MovementItem> {
    let note = note_of(req.note.as_deref())?;
    let from = store_arg("from_store", req.from_store.as_deref())?;
    let to = store_arg("to_store", req.to_store.as_deref())?;
    let (from, to) = match req.kind.as_str() {
        "goods_in" => (None, Some(to.unwrap_or_else(|| MAIN.to_owned()))),
        "issue" => {
            let Some(t) = req.technician.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
                return Err(Error::Invalid("technician: say whose van receives the parts".into()));
            };
            if !is_technician(tx, t)? {
                return Err(Error::NotFound(format!("technician '{}': no active technician of that login", fieldbook_core::policy::clip(t))));
            }
            (Some(from.unwrap_or_else(|| MAIN.to_owned())), Some(van_id(t)))
        }
        "transfer" => match (from, to) {
            (Some(f), Some(t)) if f != t => (Some(f), Some(t)),
            (Some(_), Some(_)) => return Err(Error::Invalid("a transfer moves parts between two different stores".into())),
            _ => return Err(Error::Invalid("a transfer names the store parts leave (from_store) and the one they go to (to_store)".into())),
        },
        "write_off" => {
            if note.is_none() {
                return Err(Error::Invalid("note: say why the parts are written off".into()));
            }
            (Some(from.unwrap_or_else(|| MAIN.to_owned())), None)
        }
        "use" | "faulty_return" => {
            return Err(Error::Invalid(format!("{}: recorded from the technician's repair record when it reaches the server, not by hand", req.kind)))
        }
        other => return Err(Error::Invalid(format!("kind '{}': use goods_in, issue, transfer or write_off", fieldbook_core::policy::clip(other)))),
    };
    if let Some(van) = from.iter().chain(to.iter()).find(|s| s.starts_with("van-")) {
        let login = &van[4..];
        if req.kind != "issue" && !is_technician(tx, login)? && records_store(tx, van)?.is_none() {
            return Err(Error::NotFound(format!("store {van}: no such van; issue parts to the technician first")));
        }
    }
    let mut w = Writer::begin(tx)?;
    let m = Movement {
        kind: &req.kind,
        part_id: req.part_id.trim(),
        from: from.as_deref(),
        to: to.as_deref(),
        quantity: req.quantity,
        repair_record_id: None,
        requisition_id: None,
        note: note.as_deref(),
    };
    let id = office_movement(&mut w, actor, &m)?;
    w.finish()?;
    audit::record(tx, actor, &format!("stock_{}", req.kind), Some("stock_movements"), Some(&id), None, json!(req))?;
    movement(tx, &id)
}

fn records_store(tx: &mut dyn Tx, id: &str) -> Result<Option<()>> {
    Ok(tx.query_opt("SELECT 1 FROM records WHERE entity = 'stores' AND id = $1", params![id])?.map(|_| ()))
}

pub async fn move_route(State(s): State<AppState>, u: ConsoleUser, JsonBody(req): JsonBody<MovementRequest>) -> Result<Json<MovementItem>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| move_stock(tx, &actor, &req)).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimumRequest {
    pub store_id: String,
    pub part_id: String,
    pub minimum: i64,
}

/// The office sets the minimum of a part in a store.
pub fn set_minimum(tx: &mut dyn Tx, actor: &str, req: &MinimumRequest) -> Result<StockItem> {
    if !(0..=MAX_QUANTITY).contains(&req.minimum) {
        return Err(Error::Invalid(format!("minimum {}: use 0 to {MAX_QUANTITY}", req.minimum)));
    }
    let store = store_arg("store_id", Some(&req.store_id))?.ok_or_else(|| Error::Invalid("store_id: name the store".into()))?;
    let mut w = Writer::begin(tx)?;
    if w.load("parts", &req.part_id)?.is_none() {
        return Err(Error::NotFound(format!("part {}: no such part in the catalogue", req.part_id)));
    }
    ensure_store(&mut w, &store)?;
    let id = level_id(&store, &req.part_id);
    if w.load("stock_levels", &id)?.is_some() {
        write_fresh(&mut w, "stock_levels", &id, &[("minimum", json!(req.minimum))])?;
    } else {
        write_fresh(&mut w, "stock_levels", &id, &[
            ("store_id", json!(store)), ("part_id", json!(req.part_id)), ("on_hand", json!(0)), ("minimum", json!(req.minimum)), ("deleted", json!(false)),
        ])?;
    }
    w.finish()?;
    audit::record(tx, actor, "stock_minimum", Some("stock_levels"), Some(&id), None, json!({"minimum": req.minimum}))?;
    let mut sql = Sql::new(STOCK_SELECT);
    let p = sql.bind(id.as_str());
    sql.push(&format!(" AND s.id = {p}"));
    let row = tx.query_one(&sql.text, &sql.params)?;
    stock_item(&row)
}

pub async fn minimum_route(State(s): State<AppState>, u: ConsoleUser, JsonBody(req): JsonBody<MinimumRequest>) -> Result<Json<StockItem>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| set_minimum(tx, &actor, &req)).await?))
}

// ---------------------------------------------------------------------------------------------
// Use on a repair, from the repair record

/// Quantities per part of a repair record's `parts` (by SKU), in use and returned faulty.
fn repair_quantities(fields: &Map<String, Value>) -> BTreeMap<String, (i64, i64)> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    if fields.get("deleted") == Some(&Value::Bool(true)) {
        return out;
    }
    for p in fields.get("parts").and_then(Value::as_array).into_iter().flatten() {
        let Some(sku) = p.get("sku").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()) else { continue };
        let q = p.get("quantity").and_then(Value::as_i64).unwrap_or(0).clamp(0, MAX_QUANTITY);
        let e = out.entry(sku.to_owned()).or_default();
        e.0 += q;
        if p.get("faulty_returned") == Some(&Value::Bool(true)) {
            e.1 += q;
        }
    }
    out
}

/// The movement ids a repair's use and faulty return of a part are recorded under: one each
/// per repair and part, so that a repair pushed again or edited adjusts them, never adds more.
/// A movement taken back to nothing is a tombstone, and tombstones are final: a later use of
/// the part on the repair (from another van after a reassignment, or used again after it was
/// taken off) is recorded under [`use_id_from`], numbered on (`…#2`, [`next_free`]) if needed.
pub fn use_id(repair: &str, part: &str) -> String {
    format!("use/{repair}/{part}")
}
pub fn faulty_id(repair: &str, part: &str) -> String {
    format!("faulty/{repair}/{part}")
}
/// A later use of a part on a repair, from `van`: after the order went to another technician
/// (whose changes move their own van, never the first one's), or after the first use was taken
/// back to nothing.
pub fn use_id_from(repair: &str, part: &str, van: &str) -> String {
    format!("use/{repair}/{part}@{van}")
}

/// `base`, or the first `base#N` not among `taken`.
fn next_free(base: String, taken: &[String]) -> String {
    if !taken.contains(&base) {
        return base;
    }
    (2..).map(|n| format!("{base}#{n}")).find(|id| !taken.contains(id)).expect("an unused id")
}

/// A live movement a repair made: its van and quantity, when and by whom.
struct Made {
    id: String,
    van: Option<String>,
    quantity: i64,
    at: Option<String>,
    by: Option<String>,
}

/// The movement if it is live (a tombstone counts for nothing).
fn live_movement(w: &mut Writer<'_>, id: &str) -> Result<Option<Made>> {
    let Some(m) = w.load("stock_movements", id)? else { return Ok(None) };
    let f = m.fields()?;
    if f.get("deleted") == Some(&Value::Bool(true)) {
        return Ok(None);
    }
    let t = |k: &str| f.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(Some(Made { id: id.to_owned(), van: t("from_store"), quantity: f.get("quantity").and_then(Value::as_i64).unwrap_or(0), at: t("at"), by: t("by") }))
}

/// Called by the feed writer after a repair record changed: the repair's parts become `use`
/// movements from its technician's van (and `faulty_return`s), adjusted by what they were. An
/// adjusted movement keeps the time and person of the use: an edit corrects the month the parts
/// were used in instead of moving them into the month of the edit.
///
/// Only the van of the order's technician now is ever moved. After the order went to another
/// technician, what the first one's van gave stays given (those parts were used), and the new
/// technician's changes move their own van by the difference, in a movement of its own: no
/// laptop can move another technician's van, up or down.
pub fn after_repair_record(w: &mut Writer<'_>, repair_id: &str, after: &Stored) -> Result<()> {
    let fields = after.fields()?;
    let wanted = repair_quantities(fields);
    // Movements this repair already made (a part removed by an edit is given back). They are in
    // `movement_index` unless this writer made them and has not written them yet: only then
    // flush, so that a push of many repair records flushes once, not once per record.
    let (use_prefix, faulty_prefix) = (use_id(repair_id, ""), faulty_id(repair_id, ""));
    let tx = match w.buffered("stock_movements", |id| id.starts_with(&use_prefix) || id.starts_with(&faulty_prefix)) {
        true => w.tx()?,
        false => w.tx_unbuffered(),
    };
    let rows = tx.query(
        "SELECT id, part_id, kind FROM movement_index WHERE repair_record_id = $1 AND kind IN ('use', 'faulty_return') ORDER BY id",
        params![repair_id],
    )?;
    // Per part: quantities wanted (use, faulty), and the ids of the use and faulty-return
    // movements made so far (tombstones included: their ids are not given again).
    type Ids = (Vec<String>, Vec<String>);
    let mut parts: BTreeMap<String, ((i64, i64), Ids)> = BTreeMap::new();
    for r in &rows {
        let e = parts.entry(r.text(1)?).or_default();
        match r.text(2)?.as_str() {
            "use" => e.1 .0.push(r.text(0)?),
            _ => e.1 .1.push(r.text(0)?),
        }
    }
    if wanted.is_empty() && parts.is_empty() {
        return Ok(());
    }
    // The catalogue changes only by the office's hand; flush only if this writer changed it.
    let catalogue_buffered = w.buffered("parts", |_| true);
    for (sku, q) in &wanted {
        let tx = match catalogue_buffered {
            true => w.tx()?,
            false => w.tx_unbuffered(),
        };
        let found = tx.query_opt("SELECT id FROM part_index WHERE sku = $1 AND deleted = 0 ORDER BY id LIMIT 1", params![sku.as_str()])?;
        // A part the catalogue does not know has no stock to move.
        if let Some(r) = found {
            let e = parts.entry(r.text(0)?).or_default();
            e.0 .0 += q.0;
            e.0 .1 += q.1;
        }
    }
    let order = fields.get("work_order_id").and_then(Value::as_str).unwrap_or_default().to_owned();
    let technician = match w.load("work_orders", &order)? {
        Some(o) => o.text("technician")?.map(str::to_owned),
        None => None,
    };
    let van = technician.as_deref().map(van_id);
    for (part, ((used, returned), (use_ids, faulty_ids))) in parts {
        // Use: what other vans gave stays; this van makes up the rest (never below nothing).
        if let Some(van) = &van {
            let mut uses = Vec::new();
            for id in &use_ids {
                uses.extend(live_movement(w, id)?);
            }
            let others: i64 = uses.iter().filter(|u| u.van.as_deref() != Some(van.as_str())).map(|u| u.quantity).sum();
            let mine = uses.iter().find(|u| u.van.as_deref() == Some(van.as_str()));
            let old_q = mine.map_or(0, |u| u.quantity);
            let new_q = (used - others).max(0);
            if new_q != old_q {
                let id = match mine {
                    Some(u) => u.id.clone(),
                    // The repair's first use of the part has the plain id; a later one names its van.
                    None if use_ids.is_empty() => use_id(repair_id, &part),
                    None => next_free(use_id_from(repair_id, &part, van), &use_ids),
                };
                let on_hand = add_stock(w, van, &part, old_q - new_q)?;
                let by = mine.and_then(|u| u.by.clone()).or_else(|| technician.clone()).unwrap_or_default();
                let m = Movement {
                    kind: "use",
                    part_id: &part,
                    from: Some(van),
                    to: None,
                    quantity: new_q,
                    repair_record_id: Some(repair_id),
                    requisition_id: None,
                    note: None,
                };
                write_movement(w, &id, &by, &m, on_hand < 0, mine.and_then(|u| u.at.clone()))?;
                if new_q == 0 {
                    write_fresh(w, "stock_movements", &id, &[("deleted", json!(true))])?;
                }
            }
        }
        // Faulty returns: recorded, not stock.
        let mut back = None;
        for id in &faulty_ids {
            back = back.or(live_movement(w, id)?);
        }
        let old = back.as_ref().map_or(0, |b| b.quantity);
        if returned != old {
            let id = match &back {
                Some(b) => b.id.clone(),
                None => next_free(faulty_id(repair_id, &part), &faulty_ids),
            };
            let by = technician.clone().unwrap_or_default();
            let m = Movement {
                kind: "faulty_return",
                part_id: &part,
                from: van.as_deref(),
                to: Some(MAIN),
                quantity: returned,
                repair_record_id: Some(repair_id),
                requisition_id: None,
                note: Some("faulty part brought back / 故障件返回"),
            };
            write_movement(w, &id, &by, &m, false, back.and_then(|b| b.at))?;
            if returned == 0 {
                write_fresh(w, "stock_movements", &id, &[("deleted", json!(true))])?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Requisitions

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Line {
    pub part_id: String,
    pub quantity: i64,
}

/// A requisition's lines, checked (the laptop's push is checked by `push.rs` with this too).
pub fn parse_lines(v: &Value) -> std::result::Result<Vec<Line>, String> {
    let Some(items) = v.as_array() else { return Err("lines must be a list of {part_id, quantity}".into()) };
    if items.is_empty() || items.len() > MAX_LINES {
        return Err(format!("a requisition asks for 1 to {MAX_LINES} lines, not {}", items.len()));
    }
    items
        .iter()
        .map(|l| {
            let part_id = l.get("part_id").and_then(Value::as_str).filter(|p| !p.is_empty() && p.len() <= 200).ok_or("every line names its part (part_id)")?;
            let quantity = l.get("quantity").and_then(Value::as_i64).filter(|q| (1..=MAX_QUANTITY).contains(q)).ok_or("every line asks for 1 or more of its part")?;
            Ok(Line { part_id: part_id.to_owned(), quantity })
        })
        .collect::<std::result::Result<_, &str>>()
        .map_err(str::to_owned)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    pub approve: bool,
    #[serde(default)]
    pub note: Option<String>,
    /// What is shipped, when not exactly what was asked for.
    #[serde(default)]
    pub shipment: Option<Vec<Line>>,
}

/// The office approves (issuing the shipment from the main store to the technician's van, in
/// the same transaction) or rejects a pending requisition. Runs in a `Mode::Feed` transaction.
pub fn decide(tx: &mut dyn Tx, actor: &str, id: &str, req: &DecideRequest) -> Result<RequisitionItem> {
    let note = note_of(req.note.as_deref())?;
    if !req.approve && note.is_none() {
        return Err(Error::Invalid("note: say why the requisition is rejected (the technician reads it)".into()));
    }
    let mut w = Writer::begin(tx)?;
    let Some(r) = w.load("requisitions", id)? else { return Err(Error::NotFound(format!("requisition {id}: no such requisition; reload the list"))) };
    let f = r.fields()?.clone();
    if f.get("deleted") == Some(&Value::Bool(true)) {
        return Err(Error::NotFound(format!("requisition {id} was withdrawn by its technician")));
    }
    if let Some(status) = f.get("status").and_then(Value::as_str).filter(|s| *s != "pending") {
        return Err(Error::conflict(format!("requisition {id} is already {status}; reload the list")));
    }
    let technician = f.get("technician").and_then(Value::as_str).unwrap_or_default().to_owned();
    if technician == actor {
        return Err(Error::Forbidden(format!("requisition {id} is your own; another office user decides it")));
    }
    let lines = parse_lines(f.get("lines").unwrap_or(&Value::Null)).map_err(|why| Error::Invalid(format!("requisition {id}: {why}")))?;
    let shipment = match &req.shipment {
        Some(s) => parse_lines(&serde_json::to_value(s).expect("lines serialise")).map_err(|why| Error::Invalid(format!("shipment: {why}")))?,
        None => lines,
    };
    let now = crate::now_text();
    if req.approve {
        let van = van_id(&technician);
        for l in &shipment {
            let m = Movement {
                kind: "issue",
                part_id: &l.part_id,
                from: Some(MAIN),
                to: Some(&van),
                quantity: l.quantity,
                repair_record_id: None,
                requisition_id: Some(id),
                note: note.as_deref(),
            };
            office_movement(&mut w, actor, &m)?;
        }
    }
    write_fresh(&mut w, "requisitions", id, &[
        ("status", json!(if req.approve { "approved" } else { "rejected" })),
        ("decided_by", json!(actor)),
        ("decided_at", json!(now)),
        ("decision_note", json!(note)),
        ("shipment", if req.approve { serde_json::to_value(&shipment).expect("lines serialise") } else { Value::Null }),
    ])?;
    w.finish()?;
    audit::record(tx, actor, if req.approve { "requisition_approved" } else { "requisition_rejected" }, Some("requisitions"), Some(id), None, json!({"note": note}))?;
    requisition(tx, id)
}

pub async fn decide_route(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(req): JsonBody<DecideRequest>) -> Result<Json<RequisitionItem>> {
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| decide(tx, &actor, &id, &req)).await?))
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RequisitionItem {
    pub id: String,
    pub technician: String,
    pub requested_at: String,
    pub status: String,
    pub lines: Value,
    pub note: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
    pub shipment: Value,
    pub received_at: Option<String>,
    pub received_correct: Option<bool>,
    pub received_note: Option<String>,
}

fn requisition_of(id: String, f: &Map<String, Value>) -> RequisitionItem {
    let t = |k: &str| f.get(k).and_then(Value::as_str).map(str::to_owned);
    RequisitionItem {
        id,
        technician: t("technician").unwrap_or_default(),
        requested_at: t("requested_at").unwrap_or_default(),
        status: t("status").unwrap_or_else(|| "pending".into()),
        lines: f.get("lines").cloned().unwrap_or(Value::Null),
        note: t("note"),
        decided_by: t("decided_by"),
        decided_at: t("decided_at"),
        decision_note: t("decision_note"),
        shipment: f.get("shipment").cloned().unwrap_or(Value::Null),
        received_at: t("received_at"),
        received_correct: f.get("received_correct").and_then(Value::as_bool),
        received_note: t("received_note"),
    }
}

fn requisition(tx: &mut dyn Tx, id: &str) -> Result<RequisitionItem> {
    let state = crate::records::load(tx, "requisitions", id)?.ok_or_else(|| Error::NotFound(format!("requisition {id}: no such requisition")))?;
    Ok(requisition_of(id.to_owned(), &state.fields))
}

#[derive(Debug, Deserialize)]
pub struct RequisitionQuery {
    pub status: Option<String>,
}

/// Requisitions: pending first (oldest first), then the last 200 decided.
pub fn requisitions_of(tx: &mut dyn Tx, status: Option<&str>) -> Result<Vec<RequisitionItem>> {
    let status = status.filter(|s| !s.is_empty());
    if let Some(s) = status {
        if !matches!(s, "pending" | "approved" | "rejected") {
            return Err(Error::Invalid(format!("status '{}': use pending, approved or rejected", fieldbook_core::policy::clip(s))));
        }
    }
    let rows = tx.query(
        "SELECT r.id, r.fields FROM records r JOIN (SELECT id FROM requisition_index WHERE deleted = 0 AND ($1 = '' OR status = $1) \
         ORDER BY CASE WHEN status = 'pending' THEN 0 ELSE 1 END, CASE WHEN status = 'pending' THEN requested_at ELSE '' END, requested_at DESC, id LIMIT 200) q \
         ON r.entity = 'requisitions' AND r.id = q.id",
        params![status.unwrap_or("")],
    )?;
    let mut out: Vec<RequisitionItem> = rows
        .iter()
        .map(|r| {
            let f: Map<String, Value> = serde_json::from_str(&r.text(1)?).map_err(|e| Error::Internal(format!("stored requisition: {e}")))?;
            Ok(requisition_of(r.text(0)?, &f))
        })
        .collect::<Result<_>>()?;
    out.sort_by(|a, b| {
        let pa = a.status != "pending";
        let pb = b.status != "pending";
        pa.cmp(&pb).then_with(|| if pa { b.requested_at.cmp(&a.requested_at) } else { a.requested_at.cmp(&b.requested_at) }).then_with(|| a.id.cmp(&b.id))
    });
    Ok(out)
}

pub async fn requisitions(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<RequisitionQuery>) -> Result<Json<Vec<RequisitionItem>>> {
    Ok(Json(s.db.run(Mode::Read, move |tx| requisitions_of(tx, q.status.as_deref())).await?))
}

// ---------------------------------------------------------------------------------------------
// Lists

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoreItem {
    pub id: String,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub technician: Option<String>,
    /// Parts held below their minimum.
    pub below_minimum: i64,
}

/// Every store (the main store first), and every active technician without a van yet (their van
/// is made at the first issue).
pub fn stores_of(tx: &mut dyn Tx) -> Result<Value> {
    let rows = tx.query(
        "SELECT r.id, r.fields, COALESCE(b.n, 0) FROM records r \
         LEFT JOIN (SELECT store_id, COUNT(*) AS n FROM stock_index WHERE on_hand < minimum AND deleted = 0 GROUP BY store_id) b ON b.store_id = r.id \
         WHERE r.entity = 'stores' ORDER BY CASE WHEN r.id = 'main' THEN 0 ELSE 1 END, r.id",
        params![],
    )?;
    let mut stores = Vec::new();
    for r in &rows {
        let f: Map<String, Value> = serde_json::from_str(&r.text(1)?).map_err(|e| Error::Internal(format!("stored store: {e}")))?;
        let t = |k: &str| f.get(k).and_then(Value::as_str).map(str::to_owned);
        stores.push(StoreItem {
            id: r.text(0)?,
            code: t("code").unwrap_or_default(),
            name: t("name").unwrap_or_default(),
            kind: t("kind").unwrap_or_default(),
            technician: t("technician"),
            below_minimum: r.int(2)?,
        });
    }
    let techs = tx.query("SELECT login, display_name FROM users WHERE role = 'technician' AND disabled = 0 ORDER BY login", params![])?;
    let techs: Vec<Value> = techs.iter().map(|r| Ok(json!({"login": r.text(0)?, "display_name": r.text(1)?}))).collect::<Result<_>>()?;
    Ok(json!({"stores": stores, "technicians": techs}))
}

pub async fn stores(State(s): State<AppState>, _u: ConsoleUser) -> Result<Json<Value>> {
    Ok(Json(s.db.run(Mode::Read, stores_of).await?))
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StockItem {
    pub id: String,
    pub store_id: String,
    pub part_id: String,
    pub sku: Option<String>,
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub on_hand: i64,
    pub minimum: i64,
    pub below_minimum: bool,
}

const STOCK_SELECT: &str = "SELECT s.id, s.store_id, s.part_id, p.sku, p.name_zh, p.name_en, s.on_hand, s.minimum \
     FROM stock_index s LEFT JOIN part_index p ON p.id = s.part_id WHERE s.deleted = 0";

fn stock_item(r: &db::Row) -> Result<StockItem> {
    let (on_hand, minimum) = (r.int(6)?, r.int(7)?);
    Ok(StockItem {
        id: r.text(0)?,
        store_id: r.text(1)?,
        part_id: r.text(2)?,
        sku: r.opt_text(3)?,
        name_zh: r.opt_text(4)?,
        name_en: r.opt_text(5)?,
        on_hand,
        minimum,
        below_minimum: on_hand < minimum,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct StockQuery {
    pub store: Option<String>,
    pub part: Option<String>,
    /// `1`: only parts below their minimum.
    pub below: Option<String>,
    #[serde(flatten)]
    pub page: PageQuery,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// A part named by its id or its SKU: the id (the text itself when neither matches, which
/// then finds nothing).
fn part_id_of(tx: &mut dyn Tx, part: &str) -> Result<String> {
    Ok(match tx.query_opt("SELECT id FROM part_index WHERE sku = $1 ORDER BY id LIMIT 1", params![part])? {
        Some(r) => r.text(0)?,
        None => part.to_owned(),
    })
}

/// Stock by store and part (keyset pages in store, part order); `part` matches a part's id or
/// SKU exactly.
pub fn stock_of(tx: &mut dyn Tx, store: Option<&str>, part: Option<&str>, below: bool, limit: usize, after: Option<&[String]>) -> Result<Page<StockItem>> {
    let mut sql = Sql::new(STOCK_SELECT);
    if let Some(st) = store.filter(|s| !s.is_empty()) {
        let p = sql.bind(st);
        sql.push(&format!(" AND s.store_id = {p}"));
    }
    if let Some(pt) = part.map(str::trim).filter(|s| !s.is_empty()) {
        let id = part_id_of(tx, &super::search_text("part", pt)?)?;
        let a = sql.bind(id);
        sql.push(&format!(" AND s.part_id = {a}"));
    }
    if below {
        sql.push(" AND s.on_hand < s.minimum AND s.deleted = 0");
    }
    if let Some([st, pt]) = after {
        let (a, b, c) = (sql.bind(st.as_str()), sql.bind(st.as_str()), sql.bind(pt.as_str()));
        sql.push(&format!(" AND (s.store_id > {a} OR (s.store_id = {b} AND s.part_id > {c}))"));
    }
    let n = sql.bind((limit + 1) as i64);
    sql.push(&format!(" ORDER BY s.store_id, s.part_id LIMIT {n}"));
    let rows = tx.query(&sql.text, &sql.params)?;
    let mut items: Vec<StockItem> = rows.iter().map(stock_item).collect::<Result<_>>()?;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|l| encode_cursor(&[&l.store_id, &l.part_id]))
    } else {
        None
    };
    Ok(Page { items, next })
}

pub async fn stock(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<StockQuery>) -> Result<Json<Page<StockItem>>> {
    let (limit, after) = (q.page.limit()?, q.page.after()?);
    let below = matches!(q.below.as_deref(), Some("1" | "true"));
    Ok(Json(s.db.run(Mode::Read, move |tx| stock_of(tx, q.store.as_deref(), q.part.as_deref(), below, limit, after.as_deref())).await?))
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MovementItem {
    pub id: String,
    pub kind: String,
    pub part_id: String,
    pub sku: Option<String>,
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub from_store: Option<String>,
    pub to_store: Option<String>,
    pub quantity: i64,
    pub by: Option<String>,
    pub at: String,
    pub repair_record_id: Option<String>,
    pub requisition_id: Option<String>,
    pub over_use: bool,
}

const MOVEMENT_SELECT: &str = "SELECT m.id, m.kind, m.part_id, p.sku, p.name_zh, p.name_en, m.from_store, m.to_store, m.quantity, m.by_login, m.at, \
     m.repair_record_id, m.requisition_id, m.over_use FROM movement_index m LEFT JOIN part_index p ON p.id = m.part_id WHERE m.deleted = 0";

fn movement_item(r: &db::Row) -> Result<MovementItem> {
    Ok(MovementItem {
        id: r.text(0)?,
        kind: r.text(1)?,
        part_id: r.text(2)?,
        sku: r.opt_text(3)?,
        name_zh: r.opt_text(4)?,
        name_en: r.opt_text(5)?,
        from_store: r.opt_text(6)?,
        to_store: r.opt_text(7)?,
        quantity: r.int(8)?,
        by: r.opt_text(9)?,
        at: r.text(10)?,
        repair_record_id: r.opt_text(11)?,
        requisition_id: r.opt_text(12)?,
        over_use: r.bool(13)?,
    })
}

fn movement(tx: &mut dyn Tx, id: &str) -> Result<MovementItem> {
    let row = tx.query_one(&format!("{MOVEMENT_SELECT} AND m.id = $1"), params![id])?;
    movement_item(&row)
}

#[derive(Debug, Default, Deserialize)]
pub struct MovementQuery {
    pub kind: Option<String>,
    pub part: Option<String>,
    /// Movements out of or into this store.
    pub store: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `1`: only a technician's over-use.
    pub over_use: Option<String>,
    #[serde(flatten)]
    pub page: PageQuery,
}

/// Movements, newest first, filtered.
pub fn movements_of(tx: &mut dyn Tx, q: &MovementQuery, limit: usize, after: Option<&[String]>) -> Result<Page<MovementItem>> {
    let mut sql = Sql::new(MOVEMENT_SELECT);
    if let Some(k) = q.kind.as_deref().filter(|s| !s.is_empty()) {
        if !KINDS.contains(&k) {
            return Err(Error::Invalid(format!("kind '{}': use one of {}", fieldbook_core::policy::clip(k), KINDS.join(", "))));
        }
        let p = sql.bind(k);
        sql.push(&format!(" AND m.kind = {p}"));
    }
    if let Some(pt) = q.part.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let id = part_id_of(tx, &super::search_text("part", pt)?)?;
        let a = sql.bind(id);
        sql.push(&format!(" AND m.part_id = {a}"));
    }
    if let Some(st) = q.store.as_deref().filter(|s| !s.is_empty()) {
        let (a, b) = (sql.bind(st), sql.bind(st));
        sql.push(&format!(" AND (m.from_store = {a} OR m.to_store = {b})"));
    }
    if let Some(d) = super::date("from", q.from.as_deref())? {
        let p = sql.bind(super::day_start(d));
        sql.push(&format!(" AND m.at >= {p}"));
    }
    if let Some(d) = super::date("to", q.to.as_deref())? {
        let p = sql.bind(super::day_start(d + chrono::Duration::days(1)));
        sql.push(&format!(" AND m.at < {p}"));
    }
    if matches!(q.over_use.as_deref(), Some("1" | "true")) {
        sql.push(" AND m.over_use = 1");
    }
    if let Some([at, id]) = after {
        let (a, b, c) = (sql.bind(at.as_str()), sql.bind(at.as_str()), sql.bind(id.as_str()));
        sql.push(&format!(" AND (m.at < {a} OR (m.at = {b} AND m.id < {c}))"));
    }
    let n = sql.bind((limit + 1) as i64);
    sql.push(&format!(" ORDER BY m.at DESC, m.id DESC LIMIT {n}"));
    let rows = tx.query(&sql.text, &sql.params)?;
    let mut items: Vec<MovementItem> = rows.iter().map(movement_item).collect::<Result<_>>()?;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|l| encode_cursor(&[&l.at, &l.id]))
    } else {
        None
    };
    Ok(Page { items, next })
}

pub async fn movements(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<MovementQuery>) -> Result<Response> {
    let (limit, after) = (q.page.limit()?, q.page.after()?);
    Ok(Json(s.db.run(Mode::Read, move |tx| movements_of(tx, &q, limit, after.as_deref())).await?).into_response())
}

#[derive(Debug, Deserialize)]
pub struct CatalogueQuery {
    pub q: Option<String>,
}

/// Parts of the catalogue by SKU or name (the forms' picker), at most 50.
pub fn catalogue_of(tx: &mut dyn Tx, q: Option<&str>) -> Result<Vec<Value>> {
    let q = super::search_text("q", q.unwrap_or(""))?;
    let like = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let rows = tx.query(
        "SELECT id, sku, name_zh, name_en FROM part_index WHERE deleted = 0 AND ($1 = '' OR sku LIKE $2 ESCAPE '\\' OR name_zh LIKE $2 ESCAPE '\\' \
         OR LOWER(name_en) LIKE LOWER($2) ESCAPE '\\') ORDER BY sku LIMIT 50",
        params![q.as_str(), like],
    )?;
    rows.iter().map(|r| Ok(json!({"id": r.text(0)?, "sku": r.text(1)?, "name_zh": r.opt_text(2)?, "name_en": r.opt_text(3)?}))).collect()
}

pub async fn catalogue(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<CatalogueQuery>) -> Result<Json<Vec<Value>>> {
    Ok(Json(s.db.run(Mode::Read, move |tx| catalogue_of(tx, q.q.as_deref())).await?))
}

// ---------------------------------------------------------------------------------------------
// Projections

/// The parts entities with a projection.
pub const PROJECTED: &[&str] = &["parts", "stock_levels", "stock_movements", "requisitions"];

const PART_HEAD: &str = "INSERT INTO part_index (id, sku, name_zh, name_en, deleted)";
const PART_TAIL: &str = "ON CONFLICT (id) DO UPDATE SET sku = excluded.sku, name_zh = excluded.name_zh, name_en = excluded.name_en, deleted = excluded.deleted";
const STOCK_HEAD: &str = "INSERT INTO stock_index (id, store_id, part_id, on_hand, minimum, deleted)";
const STOCK_TAIL: &str =
    "ON CONFLICT (id) DO UPDATE SET store_id = excluded.store_id, part_id = excluded.part_id, on_hand = excluded.on_hand, minimum = excluded.minimum, deleted = excluded.deleted";
const MOVE_HEAD: &str =
    "INSERT INTO movement_index (id, kind, part_id, from_store, to_store, quantity, by_login, at, repair_record_id, requisition_id, over_use, deleted)";
const MOVE_TAIL: &str = "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, part_id = excluded.part_id, from_store = excluded.from_store, \
     to_store = excluded.to_store, quantity = excluded.quantity, by_login = excluded.by_login, at = excluded.at, repair_record_id = excluded.repair_record_id, \
     requisition_id = excluded.requisition_id, over_use = excluded.over_use, deleted = excluded.deleted";
const REQ_HEAD: &str = "INSERT INTO requisition_index (id, technician, requested_at, status, decided_at, received_at, received_correct, deleted)";
const REQ_TAIL: &str = "ON CONFLICT (id) DO UPDATE SET technician = excluded.technician, requested_at = excluded.requested_at, status = excluded.status, \
     decided_at = excluded.decided_at, received_at = excluded.received_at, received_correct = excluded.received_correct, deleted = excluded.deleted";

fn or(v: db::Value, d: impl Into<db::Value>) -> db::Value {
    match v {
        db::Value::Null => d.into(),
        v => v,
    }
}

/// Brings the parts projections of these just-written records up to date.
pub fn project(tx: &mut dyn Tx, written: &[(&str, &str, &Stored)]) -> Result<()> {
    let (mut parts, mut levels, mut moves, mut reqs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut move_ids: Vec<&str> = Vec::new();
    for &(entity, rid, s) in written {
        let id = db::Value::from(rid);
        match entity {
            "parts" => {
                let f = s.fields()?;
                parts.push(vec![id, or(text(f, "sku"), rid), text(f, "name_zh"), text(f, "name_en"), deleted(f)]);
            }
            "stock_levels" => {
                let f = s.fields()?;
                levels.push(vec![id, or(text(f, "store_id"), ""), or(text(f, "part_id"), ""), or(int(f, "on_hand"), 0), or(int(f, "minimum"), 0), deleted(f)]);
            }
            "stock_movements" => {
                let f = s.fields()?;
                move_ids.push(rid);
                moves.push(vec![
                    id, or(text(f, "kind"), ""), or(text(f, "part_id"), ""), text(f, "from_store"), text(f, "to_store"), or(int(f, "quantity"), 0),
                    text(f, "by"), or(text(f, "at"), ""), text(f, "repair_record_id"), text(f, "requisition_id"), or(int(f, "over_use"), 0), deleted(f),
                ]);
            }
            "requisitions" => {
                let f = s.fields()?;
                let correct = match f.get("received_correct") {
                    Some(Value::Bool(b)) => db::Value::Int(*b as i64),
                    _ => db::Value::Null,
                };
                reqs.push(vec![
                    id, or(text(f, "technician"), ""), or(text(f, "requested_at"), ""), or(text(f, "status"), "pending"), text(f, "decided_at"),
                    text(f, "received_at"), correct, deleted(f),
                ]);
            }
            _ => {}
        }
    }
    upsert(tx, PART_HEAD, PART_TAIL, 5, parts)?;
    upsert(tx, STOCK_HEAD, STOCK_TAIL, 6, levels)?;
    // The monthly rollup moves with its rows: their old contributions out, their new ones in.
    let change = super::rollup::Change::Movements(&move_ids);
    change.before(tx)?;
    upsert(tx, MOVE_HEAD, MOVE_TAIL, 12, moves)?;
    change.after(tx)?;
    upsert(tx, REQ_HEAD, REQ_TAIL, 8, reqs)
}

// ---------------------------------------------------------------------------------------------
// Reports (`/console/api/reports/{stock,movements,parts-quality,correct-shipments}`)

use super::reports::{Filters, Report, Source};

/// The handbooks' target for correct parts shipments (≥ 98%).
pub const CORRECT_SHIPMENTS_TARGET: f64 = 0.98;

fn share(part: i64, whole: i64) -> Value {
    if whole == 0 {
        Value::Null
    } else {
        json!(((part as f64 / whole as f64) * 1000.0).round() / 1000.0)
    }
}

/// `AND {col} >= from AND {col} < to + 1 day` on a timestamp column.
fn in_range(f: &Filters, sql: &mut Sql, col: &str) {
    let (a, b) = (sql.bind(super::day_start(f.from)), sql.bind(super::day_start(f.to + chrono::Duration::days(1))));
    sql.push(&format!(" AND {col} >= {a} AND {col} < {b}"));
}

fn limit(f: &Filters, sql: &mut Sql) {
    if let Some(n) = f.rows {
        let p = sql.bind((n + 1) as i64);
        sql.push(&format!(" LIMIT {p}"));
    }
}

fn trimmed(f: &Filters, mut rows: Vec<Value>) -> (Vec<Value>, Option<usize>) {
    match f.rows {
        Some(n) if rows.len() > n => {
            rows.truncate(n);
            (rows, Some(n + 1))
        }
        _ => (rows, None),
    }
}

/// Stock by store and part, parts below their minimum first (a technician filter: their van).
pub fn stock_report(tx: &mut dyn Tx, f: &Filters) -> Result<Report> {
    let mut sql = Sql::new(STOCK_SELECT);
    if let Some(t) = &f.technician {
        let p = sql.bind(van_id(t));
        sql.push(&format!(" AND s.store_id = {p}"));
    }
    sql.push(" ORDER BY CASE WHEN s.on_hand < s.minimum THEN 0 ELSE 1 END, s.store_id, s.part_id");
    limit(f, &mut sql);
    let rows = tx
        .query(&sql.text, &sql.params)?
        .iter()
        .map(|r| {
            let s = stock_item(r)?;
            Ok(json!({
                "store": s.store_id, "sku": s.sku, "name_zh": s.name_zh, "name_en": s.name_en, "on_hand": s.on_hand, "minimum": s.minimum,
                "below_minimum": s.below_minimum,
            }))
        })
        .collect::<Result<Vec<_>>>()?;
    let (rows, more) = trimmed(f, rows);
    let total_rows = match more {
        Some(_) => Some(tx.query_one("SELECT COUNT(*) FROM stock_index WHERE deleted = 0", params![])?.int(0)? as usize),
        None => None,
    };
    Ok(Report {
        total_rows,
        columns: vec![
            ("store", "Store", "库房"),
            ("sku", "Part", "备件编号"),
            ("name_en", "Name", "名称(英)"),
            ("name_zh", "Name (Chinese)", "名称"),
            ("on_hand", "On hand", "库存"),
            ("minimum", "Minimum", "最低库存"),
            ("below_minimum", "Below minimum", "低于最低库存"),
        ],
        rows,
    })
}

/// A part's movements summed over a range: how many live movements (and use or faulty returns),
/// and the quantity of each kind.
#[derive(Debug, Clone, Default, PartialEq)]
struct PartSums {
    sku: Option<String>,
    name_zh: Option<String>,
    name_en: Option<String>,
    movements: i64,
    quality_movements: i64,
    goods_in: i64,
    issue: i64,
    transfer: i64,
    used: i64,
    faulty_return: i64,
    write_off: i64,
    over_use: i64,
}

impl PartSums {
    /// Adds a row of (part, sku, name_zh, name_en, then the nine sums in the struct's order).
    fn add(&mut self, r: &db::Row) -> Result<()> {
        if self.sku.is_none() {
            (self.sku, self.name_zh, self.name_en) = (r.opt_text(1)?, r.opt_text(2)?, r.opt_text(3)?);
        }
        let sums = [
            &mut self.movements, &mut self.quality_movements, &mut self.goods_in, &mut self.issue, &mut self.transfer, &mut self.used,
            &mut self.faulty_return, &mut self.write_off, &mut self.over_use,
        ];
        for (i, v) in sums.into_iter().enumerate() {
            *v += r.int(4 + i)?;
        }
        Ok(())
    }
}

/// The sums' columns over `movement_index m` (as `movement_month` keeps them).
const MOVEMENT_SUMS: &str = "COUNT(*), CAST(SUM(CASE WHEN m.kind IN ('use', 'faulty_return') THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(CASE WHEN m.kind = 'goods_in' THEN m.quantity ELSE 0 END) AS BIGINT), CAST(SUM(CASE WHEN m.kind = 'issue' THEN m.quantity ELSE 0 END) AS BIGINT), \
     CAST(SUM(CASE WHEN m.kind = 'transfer' THEN m.quantity ELSE 0 END) AS BIGINT), CAST(SUM(CASE WHEN m.kind = 'use' THEN m.quantity ELSE 0 END) AS BIGINT), \
     CAST(SUM(CASE WHEN m.kind = 'faulty_return' THEN m.quantity ELSE 0 END) AS BIGINT), CAST(SUM(CASE WHEN m.kind = 'write_off' THEN m.quantity ELSE 0 END) AS BIGINT), \
     CAST(SUM(m.over_use) AS BIGINT)";

/// The whole months inside `from..=to`: (first month's first day, last month's last day), if any.
fn whole_months(from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let first = if from.day() == 1 { from } else { from.checked_add_months(chrono::Months::new(1))?.with_day(1)? };
    let after_to = to + chrono::Duration::days(1);
    let end = if after_to.day() == 1 { to } else { to.with_day(1)? - chrono::Duration::days(1) };
    (first <= end).then_some((first, end))
}

/// Each part's movements from `from` to `to` (UTC days, both included). Whole months come from
/// the monthly rollup and the days around them from `movement_index`, unless the report is of
/// one technician's van (the rollup has no stores) or `src` asks for the projection only.
fn part_sums(tx: &mut dyn Tx, f: &Filters, src: Source) -> Result<BTreeMap<String, PartSums>> {
    let mut out: BTreeMap<String, PartSums> = BTreeMap::new();
    let from_index = |tx: &mut dyn Tx, from: NaiveDate, to: NaiveDate, out: &mut BTreeMap<String, PartSums>| -> Result<()> {
        let mut sql = Sql::new(&format!(
            "SELECT m.part_id, p.sku, p.name_zh, p.name_en, {MOVEMENT_SUMS} FROM movement_index m LEFT JOIN part_index p ON p.id = m.part_id WHERE m.deleted = 0"
        ));
        let range = Filters { from, to, ..f.clone() };
        in_range(&range, &mut sql, "m.at");
        if let Some(t) = &f.technician {
            let (a, b) = (sql.bind(van_id(t)), sql.bind(van_id(t)));
            sql.push(&format!(" AND (m.from_store = {a} OR m.to_store = {b})"));
        }
        sql.push(" GROUP BY m.part_id, p.sku, p.name_zh, p.name_en");
        for r in tx.query(&sql.text, &sql.params)? {
            out.entry(r.text(0)?).or_default().add(&r)?;
        }
        Ok(())
    };
    match whole_months(f.from, f.to).filter(|_| src == Source::Rollups && f.technician.is_none()) {
        None => from_index(tx, f.from, f.to, &mut out)?,
        Some((first, last)) => {
            let rows = tx.query(
                "SELECT r.part_id, p.sku, p.name_zh, p.name_en, CAST(SUM(r.movements) AS BIGINT), CAST(SUM(r.quality_movements) AS BIGINT), \
                 CAST(SUM(r.goods_in) AS BIGINT), CAST(SUM(r.issue) AS BIGINT), CAST(SUM(r.transfer) AS BIGINT), CAST(SUM(r.used) AS BIGINT), \
                 CAST(SUM(r.faulty_return) AS BIGINT), CAST(SUM(r.write_off) AS BIGINT), CAST(SUM(r.over_use) AS BIGINT) \
                 FROM movement_month r LEFT JOIN part_index p ON p.id = r.part_id WHERE r.month >= $1 AND r.month <= $2 \
                 GROUP BY r.part_id, p.sku, p.name_zh, p.name_en",
                params![first.format("%Y-%m").to_string(), last.format("%Y-%m").to_string()],
            )?;
            for r in rows {
                out.entry(r.text(0)?).or_default().add(&r)?;
            }
            if f.from < first {
                from_index(tx, f.from, first - chrono::Duration::days(1), &mut out)?;
            }
            if last < f.to {
                from_index(tx, last + chrono::Duration::days(1), f.to, &mut out)?;
            }
        }
    }
    // A part whose movements in the range were all taken back again.
    out.retain(|_, s| s.movements > 0);
    Ok(out)
}

/// Movements in the range per part and kind (quantities moved), by part number.
pub fn movements_report(tx: &mut dyn Tx, f: &Filters, src: Source) -> Result<Report> {
    let mut parts: Vec<(String, PartSums)> = part_sums(tx, f, src)?.into_iter().collect();
    parts.sort_by(|a, b| (a.1.sku.as_deref().unwrap_or(&a.0), &a.0).cmp(&(b.1.sku.as_deref().unwrap_or(&b.0), &b.0)));
    let rows = parts
        .into_iter()
        .map(|(id, s)| {
            json!({
                "sku": s.sku.unwrap_or(id), "name_zh": s.name_zh, "name_en": s.name_en, "goods_in": s.goods_in, "issue": s.issue,
                "transfer": s.transfer, "use": s.used, "faulty_return": s.faulty_return, "write_off": s.write_off, "over_use": s.over_use,
            })
        })
        .collect();
    let (rows, more) = trimmed(f, rows);
    Ok(Report {
        total_rows: more,
        columns: vec![
            ("sku", "Part", "备件编号"),
            ("name_en", "Name", "名称(英)"),
            ("name_zh", "Name (Chinese)", "名称"),
            ("goods_in", "Goods in", "进库"),
            ("issue", "Issued to vans", "领用"),
            ("transfer", "Transferred", "调拨"),
            ("use", "Used on repairs", "维修使用"),
            ("faulty_return", "Faulty returned", "故障件返回"),
            ("write_off", "Written off", "报废"),
            ("over_use", "Over-use movements", "超量使用"),
        ],
        rows,
    })
}

/// Parts quality per part: faulty returns against parts used in the range, per 100 used.
pub fn quality_report(tx: &mut dyn Tx, f: &Filters, src: Source) -> Result<Report> {
    let mut rows: Vec<(i64, i64, String, Value)> = part_sums(tx, f, src)?
        .into_iter()
        .filter(|(_, s)| s.quality_movements > 0)
        .map(|(id, s)| {
            let (used, faulty) = (s.used, s.faulty_return);
            let per100 = if used == 0 { Value::Null } else { json!(((faulty as f64 * 100.0 / used as f64) * 10.0).round() / 10.0) };
            let sku = s.sku.unwrap_or(id);
            let row = json!({
                "sku": sku, "name_zh": s.name_zh, "name_en": s.name_en, "used": used, "faulty_returns": faulty, "per_100_used": per100,
            });
            (faulty, used, sku, row)
        })
        .collect();
    // The worst first: most faulty returns per part used, then most returns, then by part.
    rows.sort_by(|a, b| (b.0 * a.1.max(1)).cmp(&(a.0 * b.1.max(1))).then(b.0.cmp(&a.0)).then(a.2.cmp(&b.2)));
    let (rows, more) = trimmed(f, rows.into_iter().map(|r| r.3).collect());
    Ok(Report {
        total_rows: more,
        columns: vec![
            ("sku", "Part", "备件编号"),
            ("name_en", "Name", "名称(英)"),
            ("name_zh", "Name (Chinese)", "名称"),
            ("used", "Used", "使用数量"),
            ("faulty_returns", "Faulty returns", "故障件返回"),
            ("per_100_used", "Faulty per 100 used", "每百件故障数"),
        ],
        rows,
    })
}

/// The share of correct shipments per month: approved requisitions whose technician confirmed
/// the shipment arrived as approved (`received_correct`), against every confirmed one (a
/// shipment not yet confirmed is counted neither way). Target ≥ 98%.
pub fn correct_shipments_report(tx: &mut dyn Tx, f: &Filters) -> Result<Report> {
    let mut sql = Sql::new(
        "SELECT SUBSTR(received_at, 1, 7), COUNT(*), CAST(SUM(CASE WHEN received_correct = 1 THEN 1 ELSE 0 END) AS BIGINT) \
         FROM requisition_index WHERE deleted = 0 AND status = 'approved' AND received_at IS NOT NULL AND received_correct IS NOT NULL",
    );
    in_range(f, &mut sql, "received_at");
    if let Some(t) = &f.technician {
        let p = sql.bind(t.as_str());
        sql.push(&format!(" AND technician = {p}"));
    }
    sql.push(" GROUP BY 1 ORDER BY 1");
    let rows = tx
        .query(&sql.text, &sql.params)?
        .iter()
        .map(|r| {
            let (n, ok) = (r.int(1)?, r.int(2)?);
            Ok(json!({"month": r.text(0)?, "confirmed": n, "correct": ok, "share": share(ok, n), "target": CORRECT_SHIPMENTS_TARGET}))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Report {
        total_rows: None,
        columns: vec![
            ("month", "Month", "月份"),
            ("confirmed", "Shipments confirmed", "已确认发货"),
            ("correct", "Correct", "发货正确"),
            ("share", "Correct share", "发货正确率"),
            ("target", "Target", "目标"),
        ],
        rows,
    })
}
