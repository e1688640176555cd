//! Applying a laptop's push (`POST /api/sync/push`, docs/sync.md "Laptop → server: push").
//!
//! One batch is one transaction under the feed lock: entries at or below the device's
//! `acked_seq` are duplicates and skipped; every other entry is checked (may this technician
//! write this record? is it a signed record being changed? does a signature verify?) and either
//! merged through [`crate::feed::Writer`] or refused for good: recorded in `rejected_changes`,
//! reported back, and acknowledged all the same, since resending it can never succeed.

use fieldbook_core::entity::{self, FieldType};
use fieldbook_core::hlc::Hlc;
use fieldbook_core::signature::{sha256_hex, verify_digest};
use std::collections::HashMap;
use std::rc::Rc;

use fieldbook_core::sync::merge::{stamp_node, Stamps};
use fieldbook_core::sync::protocol::{PushEntry, PushRequest, PushResponse, Rejection, MAX_PUSH_BATCH};
use serde_json::{Map, Value};

use crate::db::Tx;
use crate::devices::DeviceIdentity;
use crate::error::{Error, Result};
use crate::feed::{Change, Leftovers, Writer};
use crate::records::{self, Stored, ORDER_CHILDREN, REFERENCE};
use crate::signed;
use crate::params;

/// A record's fields.
type Fields = Map<String, Value>;

/// Checks the shape of a batch before anything is written; a malformed batch is refused whole.
pub fn check_batch(req: &PushRequest) -> Result<()> {
    if req.entries.len() > MAX_PUSH_BATCH {
        return Err(Error::TooLarge(format!("a push carries at most {MAX_PUSH_BATCH} entries; this one has {}", req.entries.len())));
    }
    let mut last = 0;
    for e in &req.entries {
        if e.seq <= last {
            return Err(Error::Invalid(format!("push entries must be in increasing seq order, starting above 0; seq {} follows {last}", e.seq)));
        }
        last = e.seq;
    }
    Ok(())
}

/// Applies a batch for an authenticated device. Runs inside a `Mode::Feed` transaction.
pub fn apply(tx: &mut dyn Tx, device: &DeviceIdentity, req: &PushRequest) -> Result<PushResponse> {
    check_batch(req)?;
    let mut w = Writer::begin(tx)?;
    let mut resp = apply_with(&mut w, device, req)?;
    resp.server_hlc = w.finish()?;
    Ok(resp)
}

/// Applies several devices' batches in one `Mode::Feed` transaction (group commit, see
/// [`crate::group`]): each as [`apply`] would, one after the other, each device's `acked_seq`
/// moving in this same transaction. Any error fails them all (nothing is then committed). The
/// writer's cache comes back too, for the caller to free after answering.
pub fn apply_group(tx: &mut dyn Tx, batches: &[(&DeviceIdentity, &PushRequest)]) -> Result<(Vec<PushResponse>, Leftovers)> {
    for (_, req) in batches {
        check_batch(req)?;
    }
    let mut w = Writer::begin(tx)?;
    let mut out = Vec::with_capacity(batches.len());
    for (device, req) in batches {
        out.push(apply_with(&mut w, device, req)?);
    }
    let (server_hlc, leftovers) = w.finish_leaving()?;
    for r in &mut out {
        r.server_hlc.clone_from(&server_hlc);
    }
    Ok((out, leftovers))
}

/// One device's batch; `server_hlc` is left for the caller to fill in after [`Writer::finish`].
fn apply_with(w: &mut Writer<'_>, device: &DeviceIdentity, req: &PushRequest) -> Result<PushResponse> {
    let row = w
        .tx_unbuffered()
        .query_opt("SELECT acked_seq, revoked_at, revoke_reason, wipe_ordered, acked_hlc FROM devices WHERE id = $1", params![device.id.as_str()])?
        .ok_or_else(|| Error::Unauthorized("this laptop is not enrolled; enrol it again with a code from the office".into()))?;
    if row.opt_text(1)?.is_some() {
        // Revoked while this request was on its way.
        return Err(Error::DeviceRevoked { reason: row.opt_text(2)?.unwrap_or_default(), wipe: row.bool(3)? });
    }
    let acked = row.int(0)?;
    // A device's seq and HLC grow together, so a true duplicate (a batch resent) was stamped no
    // later than the entry at `acked_seq`. An entry numbered at or below `acked_seq` but stamped
    // after it is new work numbered from a restored backup: skipping it as a duplicate would lose
    // it, so the batch is refused until the laptop renumbers.
    if let Some(acked_hlc) = row.opt_text(4)? {
        if req.entries.iter().any(|e| e.seq <= acked && e.hlc.as_str() > acked_hlc.as_str()) {
            tracing::warn!(device = %device.id, acked, "a push numbered new changes below the applied ones; asked the laptop to renumber");
            return Err(Error::SequenceReset { acked_seq: acked });
        }
    }
    let mut resp = PushResponse { acked_seq: acked, applied: 0, duplicates: 0, conflicts: 0, rejected: Vec::new(), server_hlc: String::new() };
    prefetch(w, req.entries.iter().filter(|e| e.seq > acked))?;
    let now = crate::now_text();
    for e in &req.entries {
        if e.seq <= acked {
            resp.duplicates += 1;
            continue;
        }
        match check(w, device, e)? {
            Ok(stamp) => {
                w.observe(&stamp);
                let applied = w.apply(&Change {
                    entity: &e.entity,
                    id: &e.record_id,
                    fields: &e.fields,
                    stamps: Stamps::All(&e.hlc),
                    base: Some(&e.base),
                    author: Some(&device.technician),
                })?;
                resp.applied += 1;
                resp.conflicts += applied.conflicts;
            }
            Err(reason) => {
                w.tx_unbuffered().execute(
                    "INSERT INTO rejected_changes (id, device_id, technician, seq, entity, record_id, fields, hlc, reason, received_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    params![
                        uuid::Uuid::now_v7().to_string(), device.id.as_str(), device.technician.as_str(), e.seq, e.entity.as_str(),
                        e.record_id.as_str(), Value::Object(e.fields.clone()).to_string(), e.hlc.as_str(), reason.as_str(), now.as_str()
                    ],
                )?;
                tracing::info!(device = %device.id, seq = e.seq, entity = %e.entity, record = %e.record_id, %reason, "refused a pushed change");
                resp.rejected.push(Rejection { seq: e.seq, entity: e.entity.clone(), record_id: e.record_id.clone(), reason });
            }
        }
    }
    resp.acked_seq = req.entries.last().map_or(acked, |e| e.seq.max(acked));
    match req.entries.last().filter(|e| e.seq > acked) {
        Some(last) => w.tx_unbuffered().execute(
            "UPDATE devices SET acked_seq = $1, acked_hlc = $2, last_seen_at = $3 WHERE id = $4",
            params![resp.acked_seq, last.hlc.as_str(), now, device.id.as_str()],
        )?,
        None => w.tx_unbuffered().execute("UPDATE devices SET last_seen_at = $1 WHERE id = $2", params![now, device.id.as_str()])?,
    };
    Ok(resp)
}

/// Reads what the checks and the merge of these entries will look at, many records per query:
/// the records themselves, then the work orders they belong to.
fn prefetch<'e>(w: &mut Writer<'_>, entries: impl Iterator<Item = &'e PushEntry> + Clone) -> Result<()> {
    let mut by_entity: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in entries.clone() {
        if entity::spec(&e.entity).is_some() && !REFERENCE.contains(&e.entity.as_str()) {
            by_entity.entry(e.entity.as_str()).or_default().push(e.record_id.as_str());
        }
    }
    for (entity, ids) in &by_entity {
        w.prefetch(entity, ids.iter().copied())?;
    }
    let mut orders: Vec<String> = Vec::new();
    for e in entries {
        if e.entity == "time_entries" || ORDER_CHILDREN.contains(&e.entity.as_str()) {
            // Only a hint: a record that cannot be read is left to the checks to report.
            let stored = w.cached(&e.entity, &e.record_id).and_then(|s| s.text("work_order_id").ok().flatten().map(str::to_owned));
            orders.extend(stored.or_else(|| e.fields.get("work_order_id").and_then(Value::as_str).map(str::to_owned)).filter(|s| !s.is_empty()));
        }
    }
    w.prefetch("work_orders", orders.iter().map(String::as_str))
}

/// Why an entry is refused, in words the technician and the office understand.
type Verdict = std::result::Result<Hlc, String>;

/// A check's outcome: `Ok(Err(reason))` refuses the entry; the outer error is a database failure.
type Check<T = ()> = Result<std::result::Result<T, String>>;

macro_rules! refuse {
    ($($t:tt)*) => { return Ok(Err(format!($($t)*))) };
}

/// Decides whether an entry may be applied. The outer `Result` is for database failures.
fn check(w: &mut Writer<'_>, device: &DeviceIdentity, e: &PushEntry) -> Result<Verdict> {
    let Some(spec) = entity::spec(&e.entity) else { refuse!("'{}' is not a kind of record this server knows", e.entity) };
    if e.record_id.trim().is_empty() || e.record_id.len() > 200 {
        refuse!("the record id is empty or longer than 200 characters");
    }
    for (field, value) in &e.fields {
        let Some(ty) = spec.field(field) else { refuse!("{} has no field '{field}'", e.entity) };
        if !value_fits(ty, value) {
            refuse!("{}.{field}: {value} is not a {}", e.entity, type_name(ty));
        }
    }
    let stamp: Hlc = match e.hlc.parse() {
        Ok(h) => h,
        Err(err) => refuse!("{err}"),
    };
    if stamp_node(&e.hlc) != device.id {
        refuse!("the change is stamped by '{}', not by this laptop ('{}')", stamp_node(&e.hlc), device.id);
    }
    let tech = device.technician.as_str();
    let verdict = match e.entity.as_str() {
        r if REFERENCE.contains(&r) => Err(format!("{r} are reference data kept by the office; a laptop cannot change them")),
        "work_orders" => check_order(w, tech, e)?,
        "time_entries" => check_time_entry(w, tech, e)?,
        "attachments" => {
            if e.record_id.len() == 64 && e.record_id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                Ok(())
            } else {
                Err("an attachment's id must be the SHA-256 of its content (64 lowercase hex characters)".to_owned())
            }
        }
        child => check_child(w, device, child, e)?,
    };
    Ok(verdict.map(|()| stamp))
}

fn value_fits(ty: FieldType, v: &Value) -> bool {
    match (ty, v) {
        (_, Value::Null) | (FieldType::Json, _) => true,
        (FieldType::Text, Value::String(_)) | (FieldType::Bool, Value::Bool(_)) => true,
        (FieldType::Integer, Value::Number(n)) => n.is_i64(),
        (FieldType::Real, Value::Number(_)) => true,
        _ => false,
    }
}

fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Text => "text",
        FieldType::Integer => "whole number",
        FieldType::Real => "number",
        FieldType::Bool => "true/false",
        FieldType::Json => "JSON value",
    }
}

fn is_signed(order: &Fields) -> bool {
    records::text_of(order, "status") == Some("signed")
}

fn revision(order: &Fields) -> i64 {
    records::int_of(order, "revision").unwrap_or(1)
}

/// Whose an order is, for messages.
fn assigned_to(order: &Fields) -> String {
    match records::text_of(order, "technician") {
        Some(t) => format!("assigned to {t}"),
        None => "not assigned to anyone".to_owned(),
    }
}

fn check_order(w: &mut Writer<'_>, tech: &str, e: &PushEntry) -> Check {
    let existing = w.load("work_orders", &e.record_id)?;
    let existing = match &existing {
        Some(s) => Some(s.fields()?),
        None => None,
    };
    let name = records::order_name(&e.record_id, existing.or(Some(&e.fields)));
    if e.fields.contains_key("review_state") || e.fields.contains_key("review_note") {
        refuse!("{name}: the review (approved or returned, and its note) is the office's decision; a laptop cannot set it");
    }
    let new_tech = e.fields.get("technician");
    match existing {
        Some(order) => {
            if records::text_of(order, "technician") != Some(tech) {
                refuse!("{name} is {}, not to {tech}", assigned_to(order));
            }
            if new_tech.is_some_and(|t| t.as_str() != Some(tech)) {
                refuse!("{name}: a technician cannot hand an order to someone else; the office reassigns orders");
            }
            if is_signed(order) {
                // The one change a signed order accepts is its amendment, the revision bump
                // alone, exactly as the laptop's `fieldbook amend` pushes it (see signed.rs).
                let Some(stored) = w.load("work_orders", &e.record_id)? else { refuse!("{name} is not known to the server") };
                if let Err(r) = signed::check_amendment(&stored, e, &name)? {
                    refuse!("{r}");
                }
            }
        }
        None => {
            // A new order raised on the laptop (a follow-up): it must be the technician's own,
            // at a site they already serve; otherwise a laptop could pull any customer's data
            // by raising an order for it.
            if new_tech.and_then(Value::as_str) != Some(tech) {
                refuse!("{name}: a new work order raised on a laptop must be assigned to its technician ({tech})");
            }
            let site_id = e.fields.get("site_id").and_then(Value::as_str).unwrap_or_default();
            let serves = w
                .tx_unbuffered()
                .query_opt("SELECT 1 FROM order_refs WHERE ref_entity = 'sites' AND ref_id = $1 AND technician = $2", params![site_id, tech])?
                .is_some();
            if !serves {
                refuse!("{name}: a new work order may only be raised at a site of one of your own work orders");
            }
            let site = w.load("sites", site_id)?;
            let site_customer = match &site {
                Some(s) => s.text("customer_id")?,
                None => None,
            };
            if site_customer != e.fields.get("customer_id").and_then(Value::as_str) {
                refuse!("{name}: its customer is not the customer of its site");
            }
        }
    }
    if e.fields.get("status").and_then(Value::as_str) == Some("signed") {
        // Signing is the signature record and this status together (the laptop pushes the
        // signature first): the status is accepted only when a signature of this order and
        // revision covers the records as they will stand after this entry (see signed.rs).
        if let Err(r) = signed::check_signing(w, e, &name)? {
            refuse!("{r}");
        }
    }
    Ok(Ok(()))
}

/// The order a child record belongs to, refusing moves between orders.
fn child_order(w: &mut Writer<'_>, entity: &str, e: &PushEntry) -> Check<(Option<Rc<Stored>>, Option<String>)> {
    let existing = w.load(entity, &e.record_id)?;
    let stored = match &existing {
        Some(s) => s.text("work_order_id")?.map(str::to_owned),
        None => None,
    };
    let incoming = e.fields.get("work_order_id").map(|v| v.as_str().map(str::to_owned));
    if let (Some(stored), Some(incoming)) = (&stored, &incoming) {
        if incoming.as_deref() != Some(stored.as_str()) {
            refuse!("a {entity} record cannot move to another work order");
        }
    }
    let order_id = stored.or(incoming.flatten()).filter(|s| !s.is_empty());
    Ok(Ok((existing, order_id)))
}

/// The technician's own order, or why not.
fn own_order(w: &mut Writer<'_>, tech: &str, order_id: &str) -> Check<Rc<Stored>> {
    let Some(order) = w.load("work_orders", order_id)? else { refuse!("work order {order_id} is not known to the server") };
    let fields = order.fields()?;
    if records::text_of(fields, "technician") != Some(tech) {
        refuse!("{} is {}, not to {tech}", records::order_name(order_id, Some(fields)), assigned_to(fields));
    }
    Ok(Ok(order))
}

fn check_child(w: &mut Writer<'_>, device: &DeviceIdentity, entity: &str, e: &PushEntry) -> Check {
    let (existing, order_id) = match child_order(w, entity, e)? {
        Ok(x) => x,
        Err(r) => return Ok(Err(r)),
    };
    let Some(order_id) = order_id else { refuse!("a {entity} record must name its work order") };
    let order = match own_order(w, &device.technician, &order_id)? {
        Ok(o) => o,
        Err(r) => return Ok(Err(r)),
    };
    let order = order.fields()?;
    // Answers, repair records and amendment records of a signed order are locked (signed.rs).
    if let Err(r) = signed::check_locked_child(entity, e, existing.as_deref(), order, &records::order_name(&order_id, Some(order)))? {
        return Ok(Err(r));
    }
    if entity == "signatures" {
        let existing = match &existing {
            Some(s) => Some(s.fields()?),
            None => None,
        };
        return check_signature(device, e, existing, order, &records::order_name(&order_id, Some(order)));
    }
    Ok(Ok(()))
}

/// A signature is checked on arrival: its digest is the SHA-256 of the signed content, it is
/// signed by the key this laptop registered at enrolment, it signs the order's current
/// revision, its content names this order and revision, and its row shows the signer signed.
/// Once received it never changes.
fn check_signature(device: &DeviceIdentity, e: &PushEntry, existing: Option<&Fields>, order: &Fields, name: &str) -> Check {
    if let Some(stored) = existing {
        if e.fields.iter().all(|(k, v)| stored.get(k) == Some(v)) {
            return Ok(Ok(())); // the same signature again
        }
        refuse!("{name}: a customer signature never changes once given");
    }
    let text = |f: &str| e.fields.get(f).and_then(Value::as_str).unwrap_or_default();
    let (content, digest, key, sig) = (text("signed_content"), text("digest"), text("device_public_key"), text("device_signature"));
    if content.is_empty() || digest.is_empty() || key.is_empty() || sig.is_empty() {
        refuse!("{name}: the signature lacks its signed content, digest, device key or device signature");
    }
    if sha256_hex(content.as_bytes()) != digest {
        refuse!("{name}: the signed content does not match its digest (changed after signing)");
    }
    if !key.eq_ignore_ascii_case(&device.public_key) {
        refuse!("{name}: the signature was made with a key that is not the one this laptop registered at enrolment");
    }
    if let Err(why) = verify_digest(key, digest, sig) {
        refuse!("{name}: {why}");
    }
    if e.fields.get("device_id").and_then(Value::as_str).is_some_and(|d| d != device.id) {
        refuse!("{name}: the signature names another laptop");
    }
    let rev = e.fields.get("revision").and_then(Value::as_i64).unwrap_or(revision(order));
    if rev != revision(order) {
        refuse!("{name}: the signature is for revision {rev}, but the order is at revision {}", revision(order));
    }
    if is_signed(order) {
        refuse!("{name}: revision {rev} is already signed");
    }
    // Tied to what was signed: the content is of this order and revision, and the row shows
    // the signer who signed (issue 10, finding 12).
    if let Some(why) = signed::check_signature_row(e, rev, name) {
        refuse!("{why}");
    }
    Ok(Ok(()))
}

fn check_time_entry(w: &mut Writer<'_>, tech: &str, e: &PushEntry) -> Check {
    let (existing, order_id) = match child_order(w, "time_entries", e)? {
        Ok(x) => x,
        Err(r) => return Ok(Err(r)),
    };
    let stored_owner = match &existing {
        Some(s) => s.text("technician")?,
        None => None,
    };
    let owner = e.fields.get("technician").and_then(Value::as_str).or(stored_owner);
    if owner != Some(tech) {
        refuse!("a time entry must be the technician's own ({tech})");
    }
    if let Some(order_id) = order_id {
        if let Err(r) = own_order(w, tech, &order_id)? {
            return Ok(Err(r));
        }
    }
    Ok(Ok(()))
}
