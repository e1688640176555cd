//! Records as the server holds them: for each `(entity, id)`, every field's value and HLC stamp
//! (`fieldbook_core::sync::merge::RecordState`), stored as two JSON texts, plus the record's
//! parent (`owner_id`) for the lookups scopes need.

use std::cell::OnceCell;
use std::rc::Rc;

use fieldbook_core::sync::merge::RecordState;
use fieldbook_core::sync::stamps;
use serde_json::{Map, Value};

use crate::db::{self, Row, Tx};
use crate::error::{Error, Result};
use crate::params;

/// Entities that hang under one work order (their `work_order_id`).
pub const ORDER_CHILDREN: &[&str] = &["inspection_answers", "repair_records", "time_entries", "satisfaction_cards", "signatures", "amendments", "escalations", "corrections", "workshop_jobs"];

/// Reference data: kept by the office, never written by a laptop.
pub const REFERENCE: &[&str] = &["customers", "sites", "assets", "contracts", "parts", "checklist_templates", "service_calendars", "stores", "stock_levels"];

/// Reference data every technician receives (feed scope NULL).
pub const FOR_EVERYONE: &[&str] = &["parts", "checklist_templates", "service_calendars"];

fn parse_map(entity: &str, id: &str, what: &str, text: &str) -> Result<Map<String, Value>> {
    serde_json::from_str(text).map_err(|e| Error::Internal(format!("stored {what} of {entity} {id} are not a JSON object: {e}")))
}

/// A record's state from its stored texts, every stamp listed.
fn parse_state(entity: &str, id: &str, fields: &str, clocks: &str) -> Result<RecordState> {
    let fields = parse_map(entity, id, "fields", fields)?;
    let clocks = stamps::expand(parse_map(entity, id, "clocks", clocks)?, fields.keys().map(String::as_str));
    Ok(RecordState { fields, clocks })
}

/// The stored text of a record's stamps: the compact form.
fn clocks_text(state: &RecordState) -> String {
    Value::Object(stamps::compact(&state.clocks, state.fields.keys().map(String::as_str))).to_string()
}

/// A record as the feed writer holds it: its fields and stamps as the two JSON texts that are
/// stored and that the feed carries, parsed only when something needs to look inside (a record
/// granted to a technician is copied to the feed without ever being parsed). The texts are
/// shared, not copied, with the feed rows that carry them.
#[derive(Debug, Clone)]
pub struct Stored {
    /// `entity id`, for messages; empty for a state made here (which is never parsed again).
    name: Box<str>,
    fields_json: Rc<str>,
    clocks_json: Rc<str>,
    fields: OnceCell<Map<String, Value>>,
    clocks: OnceCell<Map<String, Value>>,
}

impl Stored {
    /// A record as read from the database.
    pub fn from_json(entity: &str, id: &str, fields_json: String, clocks_json: String) -> Stored {
        let name = format!("{entity} {id}").into();
        Stored { name, fields_json: fields_json.into(), clocks_json: clocks_json.into(), fields: OnceCell::new(), clocks: OnceCell::new() }
    }

    /// A record about to be written: serialised once, here (exactly as `Value::Object(map)`
    /// prints; the stamps in the compact form of `fieldbook_core::sync::stamps`, which the feed
    /// carries as they are), and kept parsed.
    pub fn from_state(state: RecordState) -> Stored {
        let json = |m: &Map<String, Value>| -> Rc<str> { serde_json::to_string(m).expect("a JSON map serialises").into() };
        let (fields_json, clocks_json) = (json(&state.fields), clocks_text(&state).into());
        Stored { name: "".into(), fields_json, clocks_json, fields: OnceCell::from(state.fields), clocks: OnceCell::from(state.clocks) }
    }

    fn parsed<'a>(&self, cell: &'a OnceCell<Map<String, Value>>, text: &str, what: &str) -> Result<&'a Map<String, Value>> {
        if let Some(m) = cell.get() {
            return Ok(m);
        }
        let m = serde_json::from_str(text).map_err(|e| Error::Internal(format!("stored {what} of {} are not a JSON object: {e}", self.name)))?;
        Ok(cell.get_or_init(|| m))
    }

    pub fn fields(&self) -> Result<&Map<String, Value>> {
        self.parsed(&self.fields, &self.fields_json, "fields")
    }

    /// Every field's stamp, listed (the stored text may be in the compact form).
    pub fn clocks(&self) -> Result<&Map<String, Value>> {
        if let Some(m) = self.clocks.get() {
            return Ok(m);
        }
        let compact = serde_json::from_str(&self.clocks_json).map_err(|e| Error::Internal(format!("stored clocks of {} are not a JSON object: {e}", self.name)))?;
        let listed = stamps::expand(compact, self.fields()?.keys().map(String::as_str));
        Ok(self.clocks.get_or_init(|| listed))
    }

    /// A copy of the record's state, to merge into.
    pub fn state(&self) -> Result<RecordState> {
        Ok(RecordState { fields: self.fields()?.clone(), clocks: self.clocks()?.clone() })
    }

    /// Moves the parsed state out (the texts stay; [`Stored::restore`] puts it back unchanged).
    pub fn take_state(&mut self) -> Result<RecordState> {
        self.fields()?;
        self.clocks()?;
        Ok(RecordState { fields: self.fields.take().unwrap_or_default(), clocks: self.clocks.take().unwrap_or_default() })
    }

    /// Puts back the state [`Stored::take_state`] took, which must not have changed.
    pub fn restore(&mut self, state: RecordState) {
        self.fields = OnceCell::from(state.fields);
        self.clocks = OnceCell::from(state.clocks);
    }

    pub fn fields_json(&self) -> &Rc<str> {
        &self.fields_json
    }

    pub fn clocks_json(&self) -> &Rc<str> {
        &self.clocks_json
    }

    /// A text field (`None` when absent, null or not text).
    pub fn text(&self, field: &str) -> Result<Option<&str>> {
        Ok(self.fields()?.get(field).and_then(Value::as_str))
    }
}

/// The stored state of many records of one entity, by id, in a few queries (ids not found are
/// simply absent from the answer).
pub fn load_many(tx: &mut dyn Tx, entity: &str, ids: &[&str]) -> Result<Vec<(String, Stored)>> {
    let mut out = Vec::with_capacity(ids.len());
    let max = *db::LIST_SIZES.last().expect("sizes");
    for chunk in ids.chunks(max) {
        let size = db::LIST_SIZES.iter().copied().find(|&s| s >= chunk.len()).unwrap_or(max);
        let sql = db::values_list("SELECT r.id, r.fields, r.clocks FROM", 2, size, "AS v JOIN records r ON r.entity = $1 AND r.id = v.column1");
        let mut params = Vec::with_capacity(size + 1);
        params.push(db::Value::from(entity));
        // Padding: no record has an empty id (a push with one is refused, imports never make one).
        params.extend((0..size).map(|i| db::Value::from(chunk.get(i).copied().unwrap_or(""))));
        for r in tx.query(sql, &params)? {
            out.push(stored_row(entity, r)?);
        }
    }
    Ok(out)
}

/// Every record of `entity` whose parent is `owner_id`, by id, as stored.
pub fn stored_by_owner(tx: &mut dyn Tx, entity: &str, owner_id: &str) -> Result<Vec<(String, Stored)>> {
    let rows = tx.query("SELECT id, fields, clocks FROM records WHERE entity = $1 AND owner_id = $2 ORDER BY id", params![entity, owner_id])?;
    rows.into_iter().map(|r| stored_row(entity, r)).collect()
}

fn stored_row(entity: &str, mut r: Row) -> Result<(String, Stored)> {
    let id = r.take_text(0)?;
    let stored = Stored::from_json(entity, &id, r.take_text(1)?, r.take_text(2)?);
    Ok((id, stored))
}

/// The current state of a record, if the server has it.
pub fn load(tx: &mut dyn Tx, entity: &str, id: &str) -> Result<Option<RecordState>> {
    match tx.query_opt("SELECT fields, clocks FROM records WHERE entity = $1 AND id = $2", params![entity, id])? {
        None => Ok(None),
        Some(r) => Ok(Some(parse_state(entity, id, &r.text(0)?, &r.text(1)?)?)),
    }
}

/// Every record of `entity` whose parent is `owner_id`, by id.
pub fn by_owner(tx: &mut dyn Tx, entity: &str, owner_id: &str) -> Result<Vec<(String, RecordState)>> {
    let rows = tx.query("SELECT id, fields, clocks FROM records WHERE entity = $1 AND owner_id = $2 ORDER BY id", params![entity, owner_id])?;
    rows.iter()
        .map(|r| {
            let id = r.text(0)?;
            let state = parse_state(entity, &id, &r.text(1)?, &r.text(2)?)?;
            Ok((id, state))
        })
        .collect()
}

/// Every record of an entity (small reference tables only: templates).
pub fn all(tx: &mut dyn Tx, entity: &str) -> Result<Vec<(String, RecordState)>> {
    let rows = tx.query("SELECT id, fields, clocks FROM records WHERE entity = $1 ORDER BY id", params![entity])?;
    rows.iter()
        .map(|r| {
            let id = r.text(0)?;
            let state = parse_state(entity, &id, &r.text(1)?, &r.text(2)?)?;
            Ok((id, state))
        })
        .collect()
}

/// Writes a record's state (inserting it when new).
pub fn save(tx: &mut dyn Tx, entity: &str, id: &str, state: &RecordState, owner_id: Option<&str>, scope: Option<&str>, seq: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO records (entity, id, fields, clocks, owner_id, scope, updated_seq, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (entity, id) DO UPDATE SET fields = excluded.fields, clocks = excluded.clocks, owner_id = excluded.owner_id,
             scope = excluded.scope, updated_seq = excluded.updated_seq, updated_at = excluded.updated_at",
        params![entity, id, Value::Object(state.fields.clone()).to_string(), clocks_text(state), owner_id, scope, seq, crate::now_text()],
    )?;
    Ok(())
}

/// A text field of a record (`None` when absent, null or not text).
pub fn text<'a>(state: &'a RecordState, field: &str) -> Option<&'a str> {
    text_of(&state.fields, field)
}

/// An integer field of a record.
pub fn int(state: &RecordState, field: &str) -> Option<i64> {
    int_of(&state.fields, field)
}

/// A text field, from a record's fields.
pub fn text_of<'a>(fields: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
    fields.get(field).and_then(Value::as_str)
}

/// An integer field, from a record's fields.
pub fn int_of(fields: &Map<String, Value>, field: &str) -> Option<i64> {
    fields.get(field).and_then(Value::as_i64)
}

/// The parent a record is looked up by (see the module docs).
pub fn owner_of(entity: &str, fields: &Map<String, Value>) -> Option<String> {
    let field = match entity {
        "sites" | "contracts" => "customer_id",
        "assets" => "site_id",
        e if ORDER_CHILDREN.contains(&e) => "work_order_id",
        // The desk's records hang off the order they are about, or their complaint.
        "return_visits" | "close_exceptions" => "work_order_id",
        "complaint_steps" => "complaint_id",
        // A contract's inspection plans are listed by contract.
        "inspection_plans" => "contract_id",
        "stock_levels" => "store_id",
        "contract_renewals" => "contract_id",
        _ => return None,
    };
    text_of(fields, field).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// How a work order is named to people: its number, else its id.
pub fn order_name(id: &str, fields: Option<&Map<String, Value>>) -> String {
    match fields.and_then(|f| text_of(f, "number")) {
        Some(n) => format!("work order {n}"),
        None => format!("work order {id}"),
    }
}
