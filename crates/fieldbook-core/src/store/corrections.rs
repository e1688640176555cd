//! Corrections proposed from site (#12): a technician at one of their orders sees that the
//! customer's phone, the site's address or an asset's serial is wrong and proposes the right
//! value (only the fields of [`crate::entity::CORRECTABLE`]). The proposal goes to the office at
//! the next sync; the laptop's copy of the record does not change until the office confirms it
//! and the corrected record comes back at a pull (reference data is the office's). The office's
//! decision — confirmed, or rejected with a note — comes back on the proposal itself.

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{parse_ts, ts, Store};
use crate::entity;
use crate::error::{Error, FieldProblem, Result};

/// Longest proposed value, in characters (the policy's short text).
pub const MAX_VALUE: usize = 200;
/// Longest note, in characters.
pub const MAX_NOTE: usize = 4_000;

/// A correction as the laptop holds it, with the office's decision as last pulled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    pub id: String,
    pub work_order_id: String,
    /// `customers`, `sites` or `assets`.
    pub record_entity: String,
    pub record_id: String,
    pub field: String,
    /// What the laptop showed when the correction was proposed.
    pub old_value: Option<String>,
    pub value: String,
    pub note: Option<String>,
    pub proposed_at: DateTime<Utc>,
    pub proposed_by: String,
    /// `pending` until the office decides, then `confirmed` or `rejected`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
}

/// What a technician proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCorrection {
    /// `customers`, `sites` or `assets`.
    pub record_entity: String,
    /// The record's id; for an asset also its code.
    pub record: String,
    pub field: String,
    pub value: String,
    #[serde(default)]
    pub note: Option<String>,
}

fn whitelist() -> String {
    entity::CORRECTABLE.iter().map(|(e, f)| format!("{e}: {}", f.join(", "))).collect::<Vec<_>>().join("; ")
}

impl Store {
    /// An order's corrections, oldest first.
    pub fn corrections_of(&self, order_id: &str) -> Result<Vec<Correction>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, work_order_id, record_entity, record_id, field, old_value, value, note, proposed_at, proposed_by, status, decided_by, decided_at, decision_note
             FROM corrections WHERE work_order_id = ?1 AND deleted = 0 ORDER BY proposed_at, id",
        )?;
        let rows = stmt.query_map([order_id], |r| {
            Ok(Correction {
                id: r.get(0)?,
                work_order_id: r.get(1)?,
                record_entity: r.get(2)?,
                record_id: r.get(3)?,
                field: r.get(4)?,
                old_value: r.get(5)?,
                value: r.get(6)?,
                note: r.get(7)?,
                proposed_at: parse_ts(&r.get::<_, String>(8)?)?,
                proposed_by: r.get(9)?,
                status: r.get::<_, Option<String>>(10)?.unwrap_or_else(|| "pending".into()),
                decided_by: r.get(11)?,
                decided_at: r.get::<_, Option<String>>(12)?.map(|t| parse_ts(&t)).transpose()?,
                decision_note: r.get(13)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Proposes a correction of the customer, the site or an asset (at the site) of this order.
    /// Nothing is written when anything is wrong; every problem is named.
    pub fn propose_correction(&mut self, key: &str, new: &NewCorrection) -> Result<Correction> {
        let order = self.find_order(key)?;
        let record = format!("work order {}", order.number);
        let target = new.record_entity.trim();
        let field = new.field.trim();
        let value = new.value.trim();
        let note = new.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
        let mut problems = Vec::new();
        if !entity::is_correctable(target, field) {
            problems.push(FieldProblem::new(&record, "field", format!("{field} of {target} cannot be corrected from site; only {}", whitelist())));
        }
        // The record must be this order's: its customer, its site, or an asset at its site.
        let (record_id, current): (Option<String>, Option<String>) = match target {
            "customers" if new.record == order.customer_id => (Some(order.customer_id.clone()), self.current_value("customers", &order.customer_id, field)?),
            "sites" if new.record == order.site_id => (Some(order.site_id.clone()), self.current_value("sites", &order.site_id, field)?),
            "assets" => {
                let id: Option<String> = self
                    .conn
                    .query_row("SELECT id FROM assets WHERE (id = ?1 OR code = ?1) AND site_id = ?2 AND deleted = 0", [&new.record, &order.site_id], |r| r.get(0))
                    .optional()?;
                match id {
                    Some(id) => {
                        let cur = self.current_value("assets", &id, field)?;
                        (Some(id), cur)
                    }
                    None => (None, None),
                }
            }
            _ => (None, None),
        };
        if record_id.is_none() {
            problems.push(FieldProblem::new(
                &record,
                "record",
                format!("'{}' is not this order's customer, site or an asset at its site; correct only what this order is about", new.record),
            ));
        }
        let n = value.chars().count();
        if value.is_empty() {
            problems.push(FieldProblem::new(&record, "value", "give the correct value"));
        } else if n > MAX_VALUE || value.chars().any(|c| c.is_control()) {
            problems.push(FieldProblem::new(&record, "value", format!("at most {MAX_VALUE} characters on one line (this is {n})")));
        } else if record_id.is_some() && current.as_deref() == Some(value) {
            problems.push(FieldProblem::new(&record, "value", format!("'{value}' is already the {field} on file; nothing to correct")));
        }
        if let Some(nt) = note {
            if nt.chars().count() > MAX_NOTE {
                problems.push(FieldProblem::new(&record, "note", format!("at most {MAX_NOTE} characters")));
            }
        }
        // The server takes a correction only from the order's own technician (`proposed_by`).
        let Some(technician) = self.device.technician.clone().or(order.technician.clone()) else {
            return Err(Error::invalid(&record, "proposed_by", "this laptop has no technician yet: enrol it (`fieldbook enrol`) before proposing a correction"));
        };
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let record_id = record_id.expect("checked");
        let id = uuid::Uuid::now_v7().to_string();
        self.write(|tx| {
            let now = ts(tx.now());
            tx.put("corrections", &id, &[
                ("work_order_id", json!(order.id)), ("record_entity", json!(target)), ("record_id", json!(record_id)), ("field", json!(field)),
                ("old_value", json!(current)), ("value", json!(value)), ("note", json!(note)), ("proposed_at", json!(now)),
                ("proposed_by", json!(technician)), ("deleted", json!(false)),
            ])
        })?;
        self.corrections_of(&order.id)?.into_iter().find(|c| c.id == id).ok_or_else(|| Error::NotFound { entity: "correction", key: id, hint: "" })
    }

    /// A correctable field's value as this laptop has it (`field` is checked against the
    /// whitelist before it reaches SQL).
    fn current_value(&self, target: &str, id: &str, field: &str) -> Result<Option<String>> {
        if !entity::is_correctable(target, field) {
            return Ok(None);
        }
        let sql = format!("SELECT {field} FROM {target} WHERE id = ?1");
        Ok(self.conn.query_row(&sql, [id], |r| r.get::<_, Option<String>>(0)).optional()?.flatten())
    }
}
