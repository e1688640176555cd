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
//!
//! The writer is also the transaction's cache of `records`: a record is read at most once (many
//! at a time with [`Writer::prefetch`]), and written records and feed rows are buffered and
//! written many rows per statement when the buffer fills, before any query that could read
//! them ([`Writer::tx`], [`Writer::by_owner`]) and at [`Writer::finish`], which must therefore
//! be called before commit. `records` and `feed` are written through the writer only.
//!
//! Within one transaction the same unchanged state of a record is appended at most once per
//! scope: a scope grant repeated for every order of an import (the same customer, site and
//! assets each time) adds nothing, since the transaction's feed rows become visible together and
//! every replica merges them idempotently.

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use fieldbook_core::hlc::{wall_clock_ms, Hlc, HlcClock};
use fieldbook_core::sync::merge::{merge_into, stamp_node, IncomingWrite, RecordState, Stamps};
use serde_json::{Map, Value};

use crate::db::{self, Tx};
use crate::error::Result;
use crate::records::{self, Stored, ORDER_CHILDREN};
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

/// Buffered rows are written once this many are waiting.
const FLUSH_AT: usize = 1024;
/// Past this many cached records, the cache is emptied after a flush (everything in it is then
/// in the database), so that a huge import does not hold every record in memory.
const CACHE_LIMIT: usize = 20_000;

/// A record as cached: `None` when the database has no such record.
struct Slot {
    rec: Option<Rc<Stored>>,
    /// Set when the record changed and is not written yet.
    save: Option<Save>,
}

struct Save {
    owner: Option<String>,
    scope: Option<String>,
    seq: i64,
}

/// A feed row waiting to be written, with the record's JSON as it was when appended.
struct FeedRow {
    seq: i64,
    entity: String,
    id: String,
    fields: Rc<str>,
    clocks: Rc<str>,
    scope: Option<String>,
}

/// What [`Writer::publish`] needs of a record before a change.
struct Before {
    technician: Option<String>,
    customer_id: Option<String>,
    site_id: Option<String>,
}

impl Before {
    fn of(s: &Stored) -> Result<Before> {
        let f = |name: &str| -> Result<Option<String>> { Ok(s.text(name)?.map(str::to_owned)) };
        Ok(Before { technician: f("technician")?, customer_id: f("customer_id")?, site_id: f("site_id")? })
    }

    fn get(&self, field: &str) -> Option<&str> {
        match field {
            "technician" => self.technician.as_deref(),
            "customer_id" => self.customer_id.as_deref(),
            "site_id" => self.site_id.as_deref(),
            _ => None,
        }
    }
}

/// A finished writer's cache, to be dropped when convenient (see [`Writer::finish_leaving`]).
pub struct Leftovers {
    _records: HashMap<String, HashMap<String, Slot>>,
    _children: HashMap<String, HashMap<String, Vec<String>>>,
    _sent: HashMap<String, HashMap<String, Vec<Option<String>>>>,
}

pub struct Writer<'t> {
    tx: &'t mut dyn Tx,
    next_seq: i64,
    clock: HlcClock,
    now: String,
    /// entity → id → record.
    records: HashMap<String, HashMap<String, Slot>>,
    cached: usize,
    /// entity → owner → ids of its records (see [`Writer::by_owner`]).
    children: HashMap<String, HashMap<String, Vec<String>>>,
    /// Records changed and not written yet, in order.
    dirty: Vec<(String, String)>,
    feed: Vec<FeedRow>,
    /// entity → id → scopes its current state was appended to in this transaction.
    sent: HashMap<String, HashMap<String, Vec<Option<String>>>>,
    /// A change failed half-way: the transaction must not commit.
    failed: bool,
}

impl<'t> Writer<'t> {
    /// Starts writing; the transaction must have been opened with `Mode::Feed`.
    pub fn begin(tx: &'t mut dyn Tx) -> Result<Self> {
        let next_seq = tx.query_one("SELECT COALESCE(MAX(seq), 0) FROM feed", params![])?.int(0)? + 1;
        let clock = clock::load(tx)?;
        Ok(Writer {
            tx,
            next_seq,
            clock,
            now: crate::now_text(),
            records: HashMap::new(),
            cached: 0,
            children: HashMap::new(),
            dirty: Vec::new(),
            feed: Vec::new(),
            sent: HashMap::new(),
            failed: false,
        })
    }

    /// The transaction, for SQL of its own, after every buffered row is written (so that a query
    /// of `records` or `feed` sees them). Records and the feed must not be written through it.
    pub fn tx(&mut self) -> Result<&mut dyn Tx> {
        self.flush()?;
        Ok(self.tx)
    }

    /// Whether a record of `entity` whose id `matches` is changed and not written yet: a query of
    /// that entity's projection through [`Writer::tx_unbuffered`] would miss it, so the caller
    /// takes [`Writer::tx`] instead. Lets a hook called per record (the parts hook on every
    /// repair record) flush only when it must, not once per record.
    pub(crate) fn buffered(&self, entity: &str, matches: impl Fn(&str) -> bool) -> bool {
        self.dirty.iter().any(|(e, id)| e == entity && matches(id))
    }

    /// The transaction without writing the buffered rows: for tables the writer does not
    /// buffer (devices, settings, conflicts, order_refs, refusals).
    pub(crate) fn tx_unbuffered(&mut self) -> &mut dyn Tx {
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

    /// Writes what is buffered and saves the clock; returns the server's stamp for the response.
    /// Must be called before the transaction commits.
    pub fn finish(self) -> Result<String> {
        self.finish_leaving().map(|(stamp, _)| stamp)
    }

    /// [`Writer::finish`], handing back the transaction's cache instead of freeing it here, so
    /// that a caller with requests to answer frees it after committing and answering (freeing
    /// a big push's parsed records takes about a tenth of its time).
    pub fn finish_leaving(mut self) -> Result<(String, Leftovers)> {
        self.flush()?;
        clock::save(self.tx, &self.clock)?;
        let leftovers = Leftovers {
            _records: std::mem::take(&mut self.records),
            _children: std::mem::take(&mut self.children),
            _sent: std::mem::take(&mut self.sent),
        };
        Ok((self.clock.last().to_string(), leftovers))
    }

    // -----------------------------------------------------------------------------------------
    // The records cache

    fn slot(&self, entity: &str, id: &str) -> Option<&Slot> {
        self.records.get(entity).and_then(|m| m.get(id))
    }

    fn insert_slot(&mut self, entity: &str, id: &str, rec: Option<Rc<Stored>>) {
        let by_id = entry(&mut self.records, entity);
        if !by_id.contains_key(id) {
            by_id.insert(id.to_owned(), Slot { rec, save: None });
            self.cached += 1;
        }
    }

    /// The current state of a record (as this transaction sees it), if there is one.
    pub fn load(&mut self, entity: &str, id: &str) -> Result<Option<Rc<Stored>>> {
        if let Some(s) = self.slot(entity, id) {
            return Ok(s.rec.clone());
        }
        let found = records::load_many(self.tx, entity, &[id])?.into_iter().next().map(|(_, s)| Rc::new(s));
        self.insert_slot(entity, id, found.clone());
        Ok(found)
    }

    /// The record if it is already cached (`None` also when it is not known yet).
    pub fn cached(&self, entity: &str, id: &str) -> Option<Rc<Stored>> {
        self.slot(entity, id).and_then(|s| s.rec.clone())
    }

    /// Reads many records of one entity into the cache in a few queries.
    pub fn prefetch<'a>(&mut self, entity: &str, ids: impl IntoIterator<Item = &'a str>) -> Result<()> {
        let mut missing: Vec<&str> = ids.into_iter().filter(|id| self.slot(entity, id).is_none()).collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        let mut found: HashMap<String, Stored> = records::load_many(self.tx, entity, &missing)?.into_iter().collect();
        for id in missing {
            let rec = found.remove(id).map(Rc::new);
            self.insert_slot(entity, id, rec);
        }
        Ok(())
    }

    /// Every record of `entity` whose parent is `owner_id`, by id.
    pub fn by_owner(&mut self, entity: &str, owner_id: &str) -> Result<Vec<(String, Rc<Stored>)>> {
        if let Some(ids) = self.children.get(entity).and_then(|m| m.get(owner_id)).cloned() {
            self.prefetch(entity, ids.iter().map(String::as_str))?;
            return Ok(ids.into_iter().filter_map(|id| self.cached(entity, &id).map(|s| (id, s))).collect());
        }
        self.flush()?;
        let mut out = Vec::new();
        for (id, stored) in records::stored_by_owner(self.tx, entity, owner_id)? {
            // After the flush the database and the cache agree; keep the cached copy, which
            // may be parsed already.
            let rec = match self.cached(entity, &id) {
                Some(r) => r,
                None => {
                    let r = Rc::new(stored);
                    entry(&mut self.records, entity).insert(id.clone(), Slot { rec: Some(r.clone()), save: None });
                    self.cached += 1;
                    r
                }
            };
            out.push((id, rec));
        }
        entry(&mut self.children, entity).insert(owner_id.to_owned(), out.iter().map(|(id, _)| id.clone()).collect());
        Ok(out)
    }

    /// Records a new state: written at the next flush, and no longer the state the feed has seen.
    fn put(&mut self, entity: &str, id: &str, rec: Rc<Stored>, save: Save) {
        let by_id = entry(&mut self.records, entity);
        if !by_id.contains_key(id) {
            by_id.insert(id.to_owned(), Slot { rec: None, save: None });
            self.cached += 1;
        }
        let slot = by_id.get_mut(id).expect("just inserted");
        slot.rec = Some(rec);
        if slot.save.replace(save).is_none() {
            self.dirty.push((entity.to_owned(), id.to_owned()));
        }
        // A change may move a record to another parent.
        self.children.remove(entity);
        if let Some(m) = self.sent.get_mut(entity) {
            m.remove(id);
        }
    }

    /// Writes the buffered records and feed rows, many rows per statement.
    fn flush(&mut self) -> Result<()> {
        if self.failed {
            return Err(crate::Error::Internal("a change failed part-way; this transaction cannot be completed".into()));
        }
        if !self.dirty.is_empty() {
            let dirty = std::mem::take(&mut self.dirty);
            let mut rows = Vec::with_capacity(dirty.len());
            for (entity, id) in &dirty {
                let slot = self.records.get_mut(entity.as_str()).and_then(|m| m.get_mut(id.as_str())).expect("a dirty record is cached");
                let (Some(save), Some(rec)) = (slot.save.take(), slot.rec.clone()) else { continue };
                rows.push((entity, id, rec, save));
            }
            // The console's projections (the desk's too) follow their records in the same transaction.
            let projected: Vec<(&str, &str, Rc<Stored>)> = rows
                .iter()
                .filter(|(entity, ..)| {
                    crate::console::index::PROJECTED.contains(&entity.as_str())
                        || crate::console::desk_index::PROJECTED.contains(&entity.as_str())
                        || crate::console::parts::PROJECTED.contains(&entity.as_str())
                        || crate::console::day_reviews::PROJECTED.contains(&entity.as_str())
                        || crate::console::workshop::PROJECTED.contains(&entity.as_str())
                })
                .map(|&(entity, id, ref rec, _)| (entity.as_str(), id.as_str(), rec.clone()))
                .collect();
            let mut rows = rows.into_iter();
            for n in db::row_chunks(rows.len()) {
                let sql = db::multi_row(
                    "INSERT INTO records (entity, id, fields, clocks, owner_id, scope, updated_seq, updated_at)",
                    8,
                    n,
                    "ON CONFLICT (entity, id) DO UPDATE SET fields = excluded.fields, clocks = excluded.clocks, owner_id = excluded.owner_id,
                     scope = excluded.scope, updated_seq = excluded.updated_seq, updated_at = excluded.updated_at",
                );
                let mut params = Vec::with_capacity(n * 8);
                for (entity, id, rec, save) in rows.by_ref().take(n) {
                    params.extend([
                        db::Value::from(entity.as_str()),
                        db::Value::from(id.as_str()),
                        db::Value::from(&**rec.fields_json()),
                        db::Value::from(&**rec.clocks_json()),
                        db::Value::from(save.owner),
                        db::Value::from(save.scope),
                        db::Value::from(save.seq),
                        db::Value::from(self.now.as_str()),
                    ]);
                }
                self.tx.execute(sql, &params)?;
            }
            let written: Vec<(&str, &str, &Stored)> = projected.iter().map(|(e, id, rec)| (*e, *id, &**rec)).collect();
            crate::console::index::project(self.tx, &written)?;
        }
        if !self.feed.is_empty() {
            let feed = std::mem::take(&mut self.feed);
            let mut rows = feed.into_iter();
            for n in db::row_chunks(rows.len()) {
                let sql = db::multi_row("INSERT INTO feed (seq, entity, record_id, fields, clocks, scope, created_at)", 7, n, "");
                let mut params = Vec::with_capacity(n * 7);
                for r in rows.by_ref().take(n) {
                    params.extend([
                        db::Value::from(r.seq),
                        db::Value::from(r.entity),
                        db::Value::from(r.id),
                        db::Value::from(&*r.fields),
                        db::Value::from(&*r.clocks),
                        db::Value::from(r.scope),
                        db::Value::from(self.now.as_str()),
                    ]);
                }
                self.tx.execute(sql, &params)?;
            }
        }
        if self.cached > CACHE_LIMIT {
            // Everything cached is written by now.
            self.records.clear();
            self.children.clear();
            self.cached = 0;
        }
        Ok(())
    }

    fn flush_if_full(&mut self) -> Result<()> {
        if self.feed.len() >= FLUSH_AT || self.dirty.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Applying changes

    /// Merges one change into the server's record and publishes the result.
    pub fn apply(&mut self, change: &Change<'_>) -> Result<Applied> {
        let r = self.apply_change(change);
        if r.is_err() {
            // The cache may be half-way through this change: nothing more is written.
            self.failed = true;
        }
        r
    }

    fn apply_change(&mut self, change: &Change<'_>) -> Result<Applied> {
        // The record is taken out of the cache to merge into it in place (no copy while nothing
        // else holds it), and put back changed or not.
        self.load(change.entity, change.id)?;
        let current = self.slot_mut(change.entity, change.id).rec.take();
        let mut current = current.map(|rc| Rc::try_unwrap(rc).unwrap_or_else(|rc| (*rc).clone()));
        // What publishing needs of the record as it was.
        let before = match (change.entity, &current) {
            ("work_orders" | "assets" | "contracts", Some(s)) => Some(Before::of(s)?),
            (_, Some(_)) => Some(Before { technician: None, customer_id: None, site_id: None }),
            (_, None) => None,
        };
        let mut state = match &mut current {
            Some(s) => s.take_state()?,
            None => RecordState::default(),
        };
        let outcome = merge_into(&mut state, &IncomingWrite { fields: change.fields, clocks: change.stamps.clone(), base: change.base });
        // A field restamped by every edit (an answer's `answered_at`) is no disagreement of its
        // own: the office decides on what the people typed, once.
        for c in outcome.conflicts.iter().filter(|c| !fieldbook_core::policy::is_incidental(change.entity, &c.field)) {
            self.tx.execute(
                "INSERT INTO conflicts (id, entity, record_id, field, kept_value, kept_hlc, other_value, other_hlc, kept_device, other_device, detected_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                params![
                    uuid::Uuid::now_v7().to_string(), change.entity, change.id, c.field.as_str(), c.kept_value.to_string(), c.kept_hlc.as_str(),
                    c.other_value.to_string(), c.other_hlc.as_str(), stamp_node(&c.kept_hlc), stamp_node(&c.other_hlc), self.now.as_str()
                ],
            )?;
        }
        let conflicts = outcome.conflicts.iter().filter(|c| !fieldbook_core::policy::is_incidental(change.entity, &c.field)).count() as u32;
        let customer_changed = change.entity == "work_orders" && outcome.changed.iter().any(|f| f == "customer_id");
        if outcome.changed.is_empty() {
            self.slot_mut(change.entity, change.id).rec = current.map(|mut s| {
                s.restore(state);
                Rc::new(s)
            });
            return Ok(Applied { changed: false, conflicts });
        }
        drop(current);
        let scope = self.primary_scope(change.entity, &state.fields, change.author)?;
        let owner = match change.entity {
            "attachments" => change.author.map(str::to_owned),
            e => records::owner_of(e, &state.fields),
        };
        let after = Rc::new(Stored::from_state(state));
        self.put(change.entity, change.id, after.clone(), Save { owner, scope: scope.clone(), seq: self.next_seq });
        self.publish(change.entity, change.id, before.as_ref(), &after, scope.as_deref())?;
        if change.entity == "work_orders" {
            // A repair call written completed gets its return visit here, whoever completed it.
            crate::console::return_visits::ensure_for_order(self, change.id, &after)?;
            if customer_changed {
                // An order naming a customer the office has merged is repointed to the survivor.
                crate::console::books::after_work_order(self, change.id, &after)?;
            }
        }
        if change.entity == "repair_records" {
            // The parts a repair used move out of its technician's van here, adjusted on every
            // change of the record (console/parts.rs).
            crate::console::parts::after_repair_record(self, change.id, &after)?;
        }
        self.flush_if_full()?;
        Ok(Applied { changed: true, conflicts })
    }

    fn slot_mut(&mut self, entity: &str, id: &str) -> &mut Slot {
        self.records.get_mut(entity).and_then(|m| m.get_mut(id)).expect("loaded into the cache")
    }

    /// The single technician a record belongs to, where there is one.
    fn primary_scope(&mut self, entity: &str, fields: &Map<String, Value>, author: Option<&str>) -> Result<Option<String>> {
        Ok(match entity {
            "work_orders" => records::text_of(fields, "technician").map(str::to_owned),
            "attachments" => author.map(str::to_owned),
            // The supervisor's review of a day reaches that technician's laptop.
            "day_reviews" => records::text_of(fields, "technician").map(str::to_owned),
            "time_entries" => match self.order_technician(records::text_of(fields, "work_order_id"))? {
                Some(t) => Some(t),
                None => records::text_of(fields, "technician").map(str::to_owned),
            },
            e if ORDER_CHILDREN.contains(&e) => self.order_technician(records::text_of(fields, "work_order_id"))?,
            // Spare parts: a van's store and stock reach its technician; a requisition its
            // requester. The main store's reach nobody.
            "stores" | "requisitions" => records::text_of(fields, "technician").map(str::to_owned),
            "stock_levels" => match records::text_of(fields, "store_id") {
                Some(store) => match self.load("stores", store)? {
                    Some(s) => s.text("technician")?.map(str::to_owned),
                    None => None,
                },
                None => None,
            },
            _ => None,
        })
    }

    fn order_technician(&mut self, order_id: Option<&str>) -> Result<Option<String>> {
        let Some(order_id) = order_id.filter(|s| !s.is_empty()) else { return Ok(None) };
        match self.load("work_orders", order_id)? {
            Some(o) => Ok(o.text("technician")?.map(str::to_owned)),
            None => Ok(None),
        }
    }

    /// Technicians with orders referring to a customer or site.
    fn technicians_referring(&mut self, ref_entity: &str, ref_id: Option<&str>) -> Result<BTreeSet<String>> {
        let Some(ref_id) = ref_id else { return Ok(BTreeSet::new()) };
        let rows = self.tx.query("SELECT DISTINCT technician FROM order_refs WHERE ref_entity = $1 AND ref_id = $2", params![ref_entity, ref_id])?;
        rows.iter().map(|r| r.text(0)).collect()
    }

    /// `scope` is the record's primary scope, as [`Writer::apply`] found it.
    fn publish(&mut self, entity: &str, id: &str, before: Option<&Before>, after: &Rc<Stored>, scope: Option<&str>) -> Result<()> {
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
                let now_ref = after.text(field)?;
                let mut techs = self.technicians_referring(ref_entity, now_ref)?;
                if let Some(old) = before.and_then(|b| b.get(field)).filter(|old| Some(*old) != now_ref) {
                    techs.extend(self.technicians_referring(ref_entity, Some(old))?);
                }
                for t in techs {
                    self.append(entity, id, after, Some(&t))?;
                }
                Ok(())
            }
            _ => match scope {
                Some(t) => self.append(entity, id, after, Some(t)),
                // An unassigned order's records go to nobody until the order is assigned.
                None => Ok(()),
            },
        }
    }

    fn publish_order(&mut self, id: &str, before: Option<&Before>, after: &Rc<Stored>) -> Result<()> {
        let tech_after = after.text("technician")?.map(str::to_owned);
        let tech_before = before.and_then(|b| b.technician.clone());
        let (customer_id, site_id) = (after.text("customer_id")?.map(str::to_owned), after.text("site_id")?.map(str::to_owned));
        let moved = |f: &str, now: &Option<String>| before.is_none_or(|b| b.get(f) != now.as_deref());
        let grant = tech_before != tech_after || moved("customer_id", &customer_id) || moved("site_id", &site_id);
        self.tx.execute("DELETE FROM order_refs WHERE work_order_id = $1", params![id])?;
        if let Some(t) = &tech_after {
            for (ref_entity, ref_id) in [("customers", &customer_id), ("sites", &site_id)] {
                if let Some(ref_id) = ref_id {
                    self.tx.execute(
                        "INSERT INTO order_refs (work_order_id, ref_entity, ref_id, technician) VALUES ($1, $2, $3, $4)",
                        params![id, ref_entity, ref_id.as_str(), t.as_str()],
                    )?;
                }
            }
            if grant {
                self.grant_reference(customer_id.as_deref(), site_id.as_deref(), t)?;
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
    fn grant_reference(&mut self, customer_id: Option<&str>, site_id: Option<&str>, technician: &str) -> Result<()> {
        if let Some(c) = customer_id {
            if let Some(state) = self.load("customers", c)? {
                self.append("customers", c, &state, Some(technician))?;
            }
        }
        if let Some(s) = site_id {
            if let Some(state) = self.load("sites", s)? {
                self.append("sites", s, &state, Some(technician))?;
            }
            for (aid, state) in self.by_owner("assets", s)? {
                self.append("assets", &aid, &state, Some(technician))?;
            }
        }
        if let Some(c) = customer_id {
            for (cid, state) in self.by_owner("contracts", c)? {
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
            for (cid, state) in self.by_owner(entity, order_id)? {
                if *entity == "inspection_answers" {
                    if let Some(v) = state.fields()?.get("value") {
                        collect_attachment_ids(v, &mut photos);
                    }
                }
                self.append(entity, &cid, &state, Some(technician))?;
            }
        }
        for sha in photos {
            if let Some(state) = self.load("attachments", &sha)? {
                self.append("attachments", &sha, &state, Some(technician))?;
            }
        }
        Ok(())
    }

    /// Appends a record's current state to the feed for `scope`, unless this transaction
    /// appended that same state for that scope already.
    fn append(&mut self, entity: &str, id: &str, rec: &Rc<Stored>, scope: Option<&str>) -> Result<()> {
        let sent = entry(entry(&mut self.sent, entity), id);
        if sent.iter().any(|s| s.as_deref() == scope) {
            return Ok(());
        }
        sent.push(scope.map(str::to_owned));
        self.feed.push(FeedRow {
            seq: self.next_seq,
            entity: entity.to_owned(),
            id: id.to_owned(),
            fields: rec.fields_json().clone(),
            clocks: rec.clocks_json().clone(),
            scope: scope.map(str::to_owned),
        });
        self.next_seq += 1;
        Ok(())
    }
}

/// `map[key]`, inserted empty when missing, without allocating the key when present.
fn entry<'m, V: Default>(map: &'m mut HashMap<String, V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key).expect("just inserted")
}

/// Attachment ids (64 hex characters) anywhere in an answer's value.
pub(crate) fn collect_attachment_ids(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
            out.insert(s.to_ascii_lowercase());
        }
        Value::Array(a) => a.iter().for_each(|x| collect_attachment_ids(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_attachment_ids(x, out)),
        _ => {}
    }
}
