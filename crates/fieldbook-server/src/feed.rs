//! The one write path of the server and the feed it fills.
//!
//! A [`Writer`] lives inside one `Mode::Feed` transaction (the feed lock is held). Every change,
//! whether pushed by a laptop or made by the office (import), goes through [`Writer::apply`]:
//! merge field by field with `fieldbook_core::sync::merge`, keep the loser of a concurrent edit in
//! `conflicts`, save the record, and append its full state to the feed for everyone who must see
//! it:
//!
//! - checklist templates and parts: everyone (scope NULL);
//! - a work order and everything under it: its technician. When an order is new, (re)assigned or
//!   moved to another site, its technician also gets the current state of its customer, site,
//!   the site's assets and the customer's contracts, and of the records already under it (a
//!   *scope grant*), so the order arrives complete; the previous technician gets the order once
//!   more, showing it is no longer theirs;
//! - a customer, site, asset or contract: one entry per technician with orders referring to it;
//! - a time entry without an order: its technician; an attachment: whoever uploaded it.
//!
//! Feed sequence numbers are `max(seq) + 1` read once under the lock, so they are gap-free in
//! commit order.

use std::collections::BTreeSet;

use fieldbook_core::hlc::{wall_clock_ms, Hlc, HlcClock};
use fieldbook_core::sync::merge::{merge_into, stamp_node, IncomingWrite, RecordState, Stamps};
use serde_json::{Map, Value};

use crate::db::Tx;
use crate::error::Result;
use crate::records::{self, ORDER_CHILDREN};
use crate::{clock, params};

/// One write arriving at the server.
pub struct Change<'a> {
    pub entity: &'a str,
    pub id: &'a str,
    pub fields: &'a Map<String, Value>,
    pub stamps: Stamps<'a>,
    /// What the writer had seen (a push); `None` for the office's own writes.
    pub base: Option<&'a Map<String, Value>>,
    /// The technician who wrote it, for records with no other owner (attachments).
    pub author: Option<&'a str>,
}

/// What applying a change did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// Some field's value or stamp changed (and the feed got the new state).
    pub changed: bool,
    pub conflicts: u32,
}

pub struct Writer<'t> {
    tx: &'t mut dyn Tx,
    next_seq: i64,
    clock: HlcClock,
    now: String,
}

impl<'t> Writer<'t> {
    /// Starts writing; the transaction must have been opened with `Mode::Feed`.
    pub fn begin(tx: &'t mut dyn Tx) -> Result<Self> {
        let next_seq = tx.query_one("SELECT COALESCE(MAX(seq), 0) FROM feed", params![])?.int(0)? + 1;
        let clock = clock::load(tx)?;
        Ok(Writer { tx, next_seq, clock, now: crate::now_text() })
    }

    pub fn tx(&mut self) -> &mut dyn Tx {
        self.tx
    }

    /// Moves the server's clock past a stamp from a laptop.
    pub fn observe(&mut self, stamp: &Hlc) {
        self.clock.observe(stamp, wall_clock_ms());
    }

    /// A fresh stamp for one of the office's own writes.
    pub fn tick(&mut self) -> String {
        self.clock.tick(wall_clock_ms()).to_string()
    }

    /// Saves the clock; returns the server's stamp for the response.
    pub fn finish(self) -> Result<String> {
        clock::save(self.tx, &self.clock)?;
        Ok(self.clock.last().to_string())
    }

    /// Merges one change into the server's record and publishes the result.
    pub fn apply(&mut self, change: &Change<'_>) -> Result<Applied> {
        let before = records::load(self.tx, change.entity, change.id)?;
        let mut state = before.clone().unwrap_or_default();
        let outcome = merge_into(&mut state, &IncomingWrite { fields: change.fields, clocks: change.stamps.clone(), base: change.base });
        for c in &outcome.conflicts {
            self.tx.execute(
                "INSERT INTO conflicts (id, entity, record_id, field, kept_value, kept_hlc, other_value, other_hlc, kept_device, other_device, detected_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                params![
                    uuid::Uuid::now_v7().to_string(), change.entity, change.id, c.field.as_str(), c.kept_value.to_string(), c.kept_hlc.as_str(),
                    c.other_value.to_string(), c.other_hlc.as_str(), stamp_node(&c.kept_hlc), stamp_node(&c.other_hlc), self.now.as_str()
                ],
            )?;
        }
        let conflicts = outcome.conflicts.len() as u32;
        if outcome.changed.is_empty() {
            return Ok(Applied { changed: false, conflicts });
        }
        let scope = self.primary_scope(change.entity, &state, change.author)?;
        let owner = match change.entity {
            "attachments" => change.author.map(str::to_owned),
            e => records::owner_of(e, &state),
        };
        records::save(self.tx, change.entity, change.id, &state, owner.as_deref(), scope.as_deref(), self.next_seq)?;
        self.publish(change.entity, change.id, before.as_ref(), &state, change.author)?;
        Ok(Applied { changed: true, conflicts })
    }

    /// The single technician a record belongs to, where there is one.
    fn primary_scope(&mut self, entity: &str, state: &RecordState, author: Option<&str>) -> Result<Option<String>> {
        Ok(match entity {
            "work_orders" => records::text(state, "technician").map(str::to_owned),
            "attachments" => author.map(str::to_owned),
            "time_entries" => match self.order_technician(records::text(state, "work_order_id"))? {
                Some(t) => Some(t),
                None => records::text(state, "technician").map(str::to_owned),
            },
            e if ORDER_CHILDREN.contains(&e) => self.order_technician(records::text(state, "work_order_id"))?,
            _ => None,
        })
    }

    fn order_technician(&mut self, order_id: Option<&str>) -> Result<Option<String>> {
        let Some(order_id) = order_id.filter(|s| !s.is_empty()) else { return Ok(None) };
        Ok(records::load(self.tx, "work_orders", order_id)?.and_then(|o| records::text(&o, "technician").map(str::to_owned)))
    }

    /// Technicians with orders referring to a customer or site.
    fn technicians_referring(&mut self, ref_entity: &str, ref_id: Option<&str>) -> Result<BTreeSet<String>> {
        let Some(ref_id) = ref_id else { return Ok(BTreeSet::new()) };
        let rows = self.tx.query("SELECT DISTINCT technician FROM order_refs WHERE ref_entity = $1 AND ref_id = $2", params![ref_entity, ref_id])?;
        rows.iter().map(|r| r.text(0)).collect()
    }

    fn publish(&mut self, entity: &str, id: &str, before: Option<&RecordState>, after: &RecordState, author: Option<&str>) -> Result<()> {
        match entity {
            e if records::FOR_EVERYONE.contains(&e) => self.append(entity, id, after, None),
            "work_orders" => self.publish_order(id, before, after),
            "customers" | "sites" => {
                for t in self.technicians_referring(entity, Some(id))? {
                    self.append(entity, id, after, Some(&t))?;
                }
                Ok(())
            }
            "assets" | "contracts" => {
                // Assets go to whoever works at their site, contracts to whoever serves their
                // customer; after a move, the old site's or customer's technicians hear too.
                let (ref_entity, field) = if entity == "assets" { ("sites", "site_id") } else { ("customers", "customer_id") };
                let mut techs = self.technicians_referring(ref_entity, records::text(after, field))?;
                if let Some(old) = before.and_then(|b| records::text(b, field)).filter(|old| Some(*old) != records::text(after, field)) {
                    techs.extend(self.technicians_referring(ref_entity, Some(old))?);
                }
                for t in techs {
                    self.append(entity, id, after, Some(&t))?;
                }
                Ok(())
            }
            _ => match self.primary_scope(entity, after, author)? {
                Some(t) => self.append(entity, id, after, Some(&t)),
                // An unassigned order's records go to nobody until the order is assigned.
                None => Ok(()),
            },
        }
    }

    fn publish_order(&mut self, id: &str, before: Option<&RecordState>, after: &RecordState) -> Result<()> {
        let tech_after = records::text(after, "technician").map(str::to_owned);
        let tech_before = before.and_then(|b| records::text(b, "technician")).map(str::to_owned);
        let moved = |f: &str| before.is_none_or(|b| records::text(b, f) != records::text(after, f));
        let grant = tech_before != tech_after || moved("customer_id") || moved("site_id");
        self.tx.execute("DELETE FROM order_refs WHERE work_order_id = $1", params![id])?;
        if let Some(t) = &tech_after {
            for (ref_entity, field) in [("customers", "customer_id"), ("sites", "site_id")] {
                if let Some(ref_id) = records::text(after, field) {
                    self.tx.execute(
                        "INSERT INTO order_refs (work_order_id, ref_entity, ref_id, technician) VALUES ($1, $2, $3, $4)",
                        params![id, ref_entity, ref_id, t.as_str()],
                    )?;
                }
            }
            if grant {
                self.grant_reference(after, t)?;
            }
            self.append("work_orders", id, after, Some(t))?;
            if grant && before.is_some() {
                self.grant_children(id, t)?;
            }
        }
        if let Some(old) = tech_before.filter(|old| Some(old) != tech_after.as_ref()) {
            self.append("work_orders", id, after, Some(&old))?;
        }
        Ok(())
    }

    /// The reference data an order needs, as it is now, for its technician.
    fn grant_reference(&mut self, order: &RecordState, technician: &str) -> Result<()> {
        let customer_id = records::text(order, "customer_id").map(str::to_owned);
        let site_id = records::text(order, "site_id").map(str::to_owned);
        if let Some(c) = &customer_id {
            if let Some(state) = records::load(self.tx, "customers", c)? {
                self.append("customers", c, &state, Some(technician))?;
            }
        }
        if let Some(s) = &site_id {
            if let Some(state) = records::load(self.tx, "sites", s)? {
                self.append("sites", s, &state, Some(technician))?;
            }
            for (aid, state) in records::by_owner(self.tx, "assets", s)? {
                self.append("assets", &aid, &state, Some(technician))?;
            }
        }
        if let Some(c) = &customer_id {
            for (cid, state) in records::by_owner(self.tx, "contracts", c)? {
                self.append("contracts", &cid, &state, Some(technician))?;
            }
        }
        Ok(())
    }

    /// The records already under an order (and the photos its answers refer to), for a
    /// technician who just got the order.
    fn grant_children(&mut self, order_id: &str, technician: &str) -> Result<()> {
        let mut photos = BTreeSet::new();
        for entity in ORDER_CHILDREN {
            for (cid, state) in records::by_owner(self.tx, entity, order_id)? {
                if *entity == "inspection_answers" {
                    if let Some(v) = state.fields.get("value") {
                        collect_attachment_ids(v, &mut photos);
                    }
                }
                self.append(entity, &cid, &state, Some(technician))?;
            }
        }
        for sha in photos {
            if let Some(state) = records::load(self.tx, "attachments", &sha)? {
                self.append("attachments", &sha, &state, Some(technician))?;
            }
        }
        Ok(())
    }

    fn append(&mut self, entity: &str, id: &str, state: &RecordState, scope: Option<&str>) -> Result<()> {
        self.tx.execute(
            "INSERT INTO feed (seq, entity, record_id, fields, clocks, scope, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            params![
                self.next_seq, entity, id, Value::Object(state.fields.clone()).to_string(), Value::Object(state.clocks.clone()).to_string(), scope,
                self.now.as_str()
            ],
        )?;
        self.next_seq += 1;
        Ok(())
    }
}

/// Attachment ids (64 hex characters) anywhere in an answer's value.
fn collect_attachment_ids(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
            out.insert(s.to_ascii_lowercase());
        }
        Value::Array(a) => a.iter().for_each(|x| collect_attachment_ids(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_attachment_ids(x, out)),
        _ => {}
    }
}
