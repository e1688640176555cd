//! Spare parts on the laptop (#12): the technician's van stock as last pulled, less what repair
//! records not yet synced already use; the shortfall a repair would leave (the repair form warns,
//! and saves anyway: nothing typed is lost, the server flags the over-use for the office); the
//! technician's requisitions and the confirmation of what arrived.
//!
//! "Not yet synced" is a repair record whose parts are still in the outbox. A repair edited after
//! a sync counts its parts in full again until the next sync, so the van's figure errs low (a
//! warning too many, never one too few).

use std::collections::BTreeMap;

use rusqlite::params;
use serde_json::{json, Value};

use super::{ts, Store};
use crate::error::{Error, FieldProblem, Result};
use crate::model::{PartUsed, Requisition, RequisitionLine, Shortfall, VanStockLine};

/// The most of one part one requisition line asks for (the server's limit too).
pub const MAX_QUANTITY: i64 = 1_000_000;
/// Most lines in one requisition (the server's limit too).
pub const MAX_LINES: usize = 100;

impl Store {
    /// This laptop's van store, if the office has made it (issued parts to the technician).
    fn van_store(&self) -> Result<Option<String>> {
        let tech = self.device.technician.clone().unwrap_or_default();
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM stores WHERE kind = 'van' AND deleted = 0 ORDER BY (technician = ?1) DESC, id LIMIT 1",
                [&tech],
                |r| r.get(0),
            )
            .ok())
    }

    /// Quantities per SKU used by repair records whose parts are not synced yet, except one.
    fn unsynced_use(&self, except_repair: Option<&str>) -> Result<BTreeMap<String, i64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT json_extract(p.value, '$.sku'), SUM(json_extract(p.value, '$.quantity'))
             FROM repair_records r, json_each(r.parts) p
             WHERE r.deleted = 0 AND r.id IS NOT ?1
               AND EXISTS (SELECT 1 FROM outbox o WHERE o.entity = 'repair_records' AND o.record_id = r.id AND json_extract(o.fields, '$.parts') IS NOT NULL)
             GROUP BY 1",
        )?;
        let rows = stmt.query_map([except_repair], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<i64>>(1)?)))?;
        let mut out = BTreeMap::new();
        for row in rows {
            if let (Some(sku), Some(q)) = row? {
                out.insert(sku, q);
            }
        }
        Ok(out)
    }

    /// The van's stock, part by part: on hand as last pulled, what unsynced repairs use, what is
    /// left (which may be below zero), and the minimum.
    pub fn van_stock(&self) -> Result<Vec<VanStockLine>> {
        let used = self.unsynced_use(None)?;
        let van = self.van_store()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.id, p.sku, p.name_zh, p.name_en, p.unit, s.on_hand, s.minimum FROM stock_levels s JOIN parts p ON p.id = s.part_id
             WHERE s.store_id = ?1 AND s.deleted = 0 ORDER BY p.sku",
        )?;
        let mut lines: Vec<VanStockLine> = stmt
            .query_map([van.as_deref().unwrap_or("")], |r| {
                Ok(VanStockLine {
                    part_id: r.get(0)?,
                    sku: r.get(1)?,
                    name_zh: r.get(2)?,
                    name_en: r.get(3)?,
                    unit: r.get(4)?,
                    on_hand: r.get(5)?,
                    minimum: r.get(6)?,
                    unsynced_use: 0,
                    available: 0,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        for l in &mut lines {
            l.unsynced_use = used.get(&l.sku).copied().unwrap_or(0);
            l.available = l.on_hand - l.unsynced_use;
        }
        // A part used from the van that the van never held.
        for (sku, q) in used {
            if !lines.iter().any(|l| l.sku == sku) {
                let part = self.conn.query_row("SELECT id, name_zh, name_en, unit FROM parts WHERE sku = ?1", [&sku], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
                });
                if let Ok((id, zh, en, unit)) = part {
                    lines.push(VanStockLine { part_id: id, sku, name_zh: zh, name_en: en, unit, on_hand: 0, minimum: 0, unsynced_use: q, available: -q });
                }
            }
        }
        Ok(lines)
    }

    /// What a repair's parts would take beyond what the van holds (after the other unsynced
    /// repairs); empty when the van has enough. `except_repair`: the repair being edited.
    pub fn van_shortfall(&self, parts: &[PartUsed], except_repair: Option<&str>) -> Result<Vec<Shortfall>> {
        let mut wanted: BTreeMap<&str, i64> = BTreeMap::new();
        for p in parts {
            *wanted.entry(p.sku.as_str()).or_default() += p.quantity as i64;
        }
        let used = self.unsynced_use(except_repair)?;
        let van = self.van_store()?.unwrap_or_default();
        let mut out = Vec::new();
        for (sku, q) in wanted {
            let on_hand: i64 = self
                .conn
                .query_row(
                    "SELECT s.on_hand FROM stock_levels s JOIN parts p ON p.id = s.part_id WHERE s.store_id = ?1 AND p.sku = ?2 AND s.deleted = 0",
                    params![van, sku],
                    |r| r.get(0),
                )
                .unwrap_or(0);
            let available = on_hand - used.get(sku).copied().unwrap_or(0);
            if q > available {
                out.push(Shortfall { sku: sku.to_owned(), wanted: q, available: available.max(0) });
            }
        }
        Ok(out)
    }

    /// The technician asks the office for parts for their van.
    pub fn request_parts(&mut self, lines: &[RequisitionLine], note: Option<&str>) -> Result<Requisition> {
        let record = "requisition";
        let mut problems = Vec::new();
        if lines.is_empty() || lines.len() > MAX_LINES {
            problems.push(FieldProblem::new(record, "lines", format!("ask for 1 to {MAX_LINES} parts, not {}", lines.len())));
        }
        for l in lines {
            let known: i64 = self.conn.query_row("SELECT count(*) FROM parts WHERE id = ?1 AND deleted = 0", [&l.part_id], |r| r.get(0))?;
            if known == 0 {
                problems.push(FieldProblem::new(record, format!("part {}", l.part_id), "unknown part: not in the parts catalogue (sync to get the latest catalogue)"));
            }
            if !(1..=MAX_QUANTITY).contains(&l.quantity) {
                problems.push(FieldProblem::new(record, format!("part {}", l.part_id), format!("ask for 1 to {MAX_QUANTITY}")));
            }
        }
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > 4_000) {
            problems.push(FieldProblem::new(record, "note", "at most 4000 characters"));
        }
        let Some(technician) = self.device.technician.clone() else {
            return Err(Error::invalid(record, "technician", "this laptop has no technician yet: enrol it (`fieldbook enrol`) before asking for parts"));
        };
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let id = uuid::Uuid::now_v7().to_string();
        self.write(|tx| {
            let now = ts(tx.now());
            tx.put("requisitions", &id, &[
                ("technician", json!(technician)), ("requested_at", json!(now)), ("lines", json!(lines)), ("note", json!(note)), ("deleted", json!(false)),
            ])
        })?;
        self.requisition(&id)
    }

    /// The technician's requisitions, newest first, with the office's decisions as pulled.
    pub fn requisitions(&self) -> Result<Vec<Requisition>> {
        let mut stmt = self.conn.prepare_cached("SELECT id FROM requisitions WHERE deleted = 0 ORDER BY requested_at DESC, id DESC LIMIT 200")?;
        let ids: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        ids.iter().map(|id| self.requisition(id)).collect()
    }

    fn requisition(&self, id: &str) -> Result<Requisition> {
        self.conn
            .query_row(
                "SELECT id, technician, requested_at, lines, note, status, decided_by, decided_at, decision_note, shipment, received_at, received_correct, received_note
                 FROM requisitions WHERE id = ?1",
                [id],
                |r| {
                    let json = |i: usize| -> rusqlite::Result<Value> {
                        Ok(r.get::<_, Option<String>>(i)?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(Value::Null))
                    };
                    Ok(Requisition {
                        id: r.get(0)?,
                        technician: r.get(1)?,
                        requested_at: r.get(2)?,
                        lines: serde_json::from_value(json(3)?).unwrap_or_default(),
                        note: r.get(4)?,
                        status: r.get::<_, Option<String>>(5)?.unwrap_or_else(|| "pending".into()),
                        decided_by: r.get(6)?,
                        decided_at: r.get(7)?,
                        decision_note: r.get(8)?,
                        shipment: serde_json::from_value(json(9)?).unwrap_or_default(),
                        received_at: r.get(10)?,
                        received_correct: r.get(11)?,
                        received_note: r.get(12)?,
                    })
                },
            )
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Error::NotFound { entity: "requisition", key: id.to_owned(), hint: "" },
                e => e.into(),
            })
    }

    /// The technician confirms what an approved requisition's shipment brought: as approved
    /// (`correct`) or not, with a note saying what was wrong.
    pub fn confirm_shipment(&mut self, id: &str, correct: bool, note: Option<&str>) -> Result<Requisition> {
        let r = self.requisition(id)?;
        let record = format!("requisition {id}");
        if r.status != "approved" {
            return Err(Error::invalid(&record, "status", format!("it is {}; a shipment is confirmed once the office has approved it (sync first)", r.status)));
        }
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if !correct && note.is_none() {
            return Err(Error::invalid(&record, "note", "say what was wrong with the shipment"));
        }
        self.write(|tx| {
            let now = ts(tx.now());
            tx.put("requisitions", id, &[("received_at", json!(now)), ("received_correct", json!(correct)), ("received_note", json!(note))])
        })?;
        self.requisition(id)
    }
}
