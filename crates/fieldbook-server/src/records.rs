//! Records as the server holds them: for each `(entity, id)`, every field's value and HLC stamp
//! (`fieldbook_core::sync::merge::RecordState`), stored as two JSON texts, plus the record's
//! parent (`owner_id`) for the lookups scopes need.

use fieldbook_core::sync::merge::RecordState;
use serde_json::{Map, Value};

use crate::db::Tx;
use crate::error::{Error, Result};
use crate::params;

/// Entities that hang under one work order (their `work_order_id`).
pub const ORDER_CHILDREN: &[&str] = &["inspection_answers", "repair_records", "time_entries", "satisfaction_cards", "signatures", "amendments"];

/// Reference data: kept by the office, never written by a laptop.
pub const REFERENCE: &[&str] = &["customers", "sites", "assets", "contracts", "parts", "checklist_templates"];

/// Reference data every technician receives (feed scope NULL).
pub const FOR_EVERYONE: &[&str] = &["parts", "checklist_templates"];

fn parse_map(entity: &str, id: &str, what: &str, text: &str) -> Result<Map<String, Value>> {
    serde_json::from_str(text).map_err(|e| Error::Internal(format!("stored {what} of {entity} {id} are not a JSON object: {e}")))
}

/// The current state of a record, if the server has it.
pub fn load(tx: &mut dyn Tx, entity: &str, id: &str) -> Result<Option<RecordState>> {
    match tx.query_opt("SELECT fields, clocks FROM records WHERE entity = $1 AND id = $2", params![entity, id])? {
        None => Ok(None),
        Some(r) => Ok(Some(RecordState { fields: parse_map(entity, id, "fields", &r.text(0)?)?, clocks: parse_map(entity, id, "clocks", &r.text(1)?)? })),
    }
}

/// Every record of `entity` whose parent is `owner_id`, by id.
pub fn by_owner(tx: &mut dyn Tx, entity: &str, owner_id: &str) -> Result<Vec<(String, RecordState)>> {
    let rows = tx.query("SELECT id, fields, clocks FROM records WHERE entity = $1 AND owner_id = $2 ORDER BY id", params![entity, owner_id])?;
    rows.iter()
        .map(|r| {
            let id = r.text(0)?;
            let state = RecordState { fields: parse_map(entity, &id, "fields", &r.text(1)?)?, clocks: parse_map(entity, &id, "clocks", &r.text(2)?)? };
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
            let state = RecordState { fields: parse_map(entity, &id, "fields", &r.text(1)?)?, clocks: parse_map(entity, &id, "clocks", &r.text(2)?)? };
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
        params![entity, id, Value::Object(state.fields.clone()).to_string(), Value::Object(state.clocks.clone()).to_string(), owner_id, scope, seq, crate::now_text()],
    )?;
    Ok(())
}

/// A text field of a record (`None` when absent, null or not text).
pub fn text<'a>(state: &'a RecordState, field: &str) -> Option<&'a str> {
    state.fields.get(field).and_then(Value::as_str)
}

/// An integer field of a record.
pub fn int(state: &RecordState, field: &str) -> Option<i64> {
    state.fields.get(field).and_then(Value::as_i64)
}

/// The parent a record is looked up by (see the module docs).
pub fn owner_of(entity: &str, state: &RecordState) -> Option<String> {
    let field = match entity {
        "sites" | "contracts" => "customer_id",
        "assets" => "site_id",
        e if ORDER_CHILDREN.contains(&e) => "work_order_id",
        _ => return None,
    };
    text(state, field).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// How a work order is named to people: its number, else its id.
pub fn order_name(id: &str, state: Option<&RecordState>) -> String {
    match state.and_then(|s| text(s, "number")) {
        Some(n) => format!("work order {n}"),
        None => format!("work order {id}"),
    }
}
