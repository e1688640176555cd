//! Applying a laptop's push (`POST /api/sync/push`, docs/sync.md "Laptop → server: push").
//!
//! One batch is one transaction under the feed lock: entries at or below the device's
//! `acked_seq` are duplicates and skipped; every other entry is untrusted input, checked against
//! the one written policy of who may write what (`check`: its stamp, whose record it is, the
//! field rules of `fieldbook_core::entity::POLICY`, the records it refers to, signatures) and either
//! merged through [`crate::feed::Writer`] or refused for good: recorded in `rejected_changes`,
//! reported back, and acknowledged all the same, since resending it can never succeed.

use fieldbook_core::entity::{self, Owner, Ref};
use fieldbook_core::hlc::{wall_clock_ms, Hlc, MAX_AHEAD_MS};
use fieldbook_core::policy;
use fieldbook_core::signature::{sha256_hex, verify_digest};
use std::collections::HashMap;
use std::rc::Rc;

use fieldbook_core::sync::protocol::{PushEntry, PushRequest, PushResponse, Rejection, MAX_PUSH_BATCH};
use serde_json::{Map, Value};

use crate::db::Tx;
use crate::devices::DeviceIdentity;
use crate::error::{Error, Result};
use crate::feed::{Change, Leftovers, Writer};
use crate::records::{self, Stored, ORDER_CHILDREN, REFERENCE};
use crate::signed::{self, is_signed, revision};
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
    let acked_hlc = row.opt_text(4)?;
    // A device's seq and HLC grow together, so a true duplicate (a batch resent) was stamped no
    // later than the entry at `acked_seq`. An entry numbered at or below `acked_seq` but stamped
    // after it is new work numbered from a restored backup: skipping it as a duplicate would lose
    // it, so the batch is refused until the laptop renumbers.
    if let Some(acked_hlc) = &acked_hlc {
        // Re-sent records (`stamps`) carry old stamps with new numbers: not compared.
        if req.entries.iter().any(|e| e.stamps.is_none() && e.seq <= acked && e.hlc.as_str() > acked_hlc.as_str()) {
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
                let incoming = e.incoming();
                let applied = w.apply(&Change {
                    entity: &e.entity,
                    id: &e.record_id,
                    fields: &e.fields,
                    stamps: incoming.clocks,
                    base: incoming.base,
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
    // `acked_hlc` is the stamp of the newest ordinary change applied for the device. Records
    // re-sent to a server restored from a backup (old stamps, new numbers) do not move it: a
    // recovering laptop re-sends every field stamped after it, which must all be on the server.
    let newest = req.entries.iter().filter(|e| e.seq > acked && e.stamps.is_none()).map(|e| e.hlc.as_str()).chain(acked_hlc.as_deref()).max();
    match (req.entries.last().filter(|e| e.seq > acked), newest) {
        (Some(_), newest) => w.tx_unbuffered().execute(
            "UPDATE devices SET acked_seq = $1, acked_hlc = $2, last_seen_at = $3 WHERE id = $4",
            params![resp.acked_seq, newest, now, device.id.as_str()],
        )?,
        _ => w.tx_unbuffered().execute("UPDATE devices SET last_seen_at = $1 WHERE id = $2", params![now, device.id.as_str()])?,
    };
    Ok(resp)
}

/// Reads what the checks and the merge of these entries will look at, many records per query:
/// the records themselves, then the work orders they belong to.
fn prefetch<'e>(w: &mut Writer<'_>, entries: impl Iterator<Item = &'e PushEntry> + Clone) -> Result<()> {
    let mut by_entity: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in entries.clone() {
        if entity::spec(&e.entity).is_some() && !REFERENCE.contains(&e.entity.as_str()) && !entity::is_desk(&e.entity) {
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
///
/// In this order: the stamp (canonical, this laptop's, not ahead of the server's clock); whose
/// record it is (and, for a signed order, whether this is its amendment); the write policy of
/// `fieldbook_core::entity::POLICY` (may a laptop write these fields now, are the values ones
/// every laptop can store); then every reference the policy lists.
fn check(w: &mut Writer<'_>, device: &DeviceIdentity, e: &PushEntry) -> Result<Verdict> {
    let stamp = match check_stamp(device, e) {
        Ok(s) => s,
        Err(reason) => return Ok(Err(reason)),
    };
    let owner = entity::policy(&e.entity).map(|p| p.owner);
    let stored = match owner {
        Some(o) if o != Owner::Office && o != Owner::Desk && e.record_id.len() <= policy::MAX_ID_LEN => w.load(&e.entity, &e.record_id)?,
        _ => None,
    };
    let stored_fields = match &stored {
        Some(s) => Some(s.fields()?),
        None => None,
    };
    // Whose record it is comes first: "not yours" is the answer a thief should get, whatever
    // the fields.
    let tech = device.technician.as_str();
    let owner = match owner {
        Some(Owner::Assigned) => check_order(w, tech, e, stored_fields)?,
        Some(Owner::OrderOf) => check_child(w, device, &e.entity, e)?,
        Some(Owner::TimeOf) => check_time_entry(w, tech, e)?,
        Some(Owner::FirstAuthor) => crate::attachments::check_record(w, tech, e)?,
        Some(Owner::Requester) => check_requisition(tech, e, stored_fields),
        Some(Owner::Office | Owner::Desk) | None => Ok(()),
    };
    if let Err(reason) = owner {
        return Ok(Err(reason));
    }
    let allowed = match policy::check_laptop_write(&e.entity, &e.record_id, &e.fields, stored_fields) {
        Ok(a) => a,
        Err(reason) => return Ok(Err(reason)),
    };
    for (rule, kind, value) in &allowed.refs {
        if let Err(reason) = check_ref(w, tech, e, stored_fields, rule.name, *kind, value)? {
            return Ok(Err(reason));
        }
    }
    if allowed.policy.owner == Owner::FirstAuthor {
        // Last: a first push that passed every check makes its technician the author.
        crate::attachments::claim_author(w, tech, &e.record_id)?;
    }
    Ok(Ok(stamp))
}

/// A pushed stamp is taken only in canonical form, from this laptop, and no further ahead of
/// the server's clock than [`MAX_AHEAD_MS`]: stamps are compared as text, and one from the far
/// future would outlast every later office decision. `base` holds stamps too.
fn check_stamp(device: &DeviceIdentity, e: &PushEntry) -> std::result::Result<Hlc, String> {
    let stamp: Hlc = e.hlc.parse().map_err(|err: fieldbook_core::hlc::ParseHlcError| err.to_string())?;
    if stamp.node != device.id {
        return Err(format!("the change is stamped by '{}', not by this laptop ('{}')", policy::clip(&stamp.node), device.id));
    }
    let now = wall_clock_ms();
    if stamp.wall_ms > now.saturating_add(MAX_AHEAD_MS) {
        let minutes = (stamp.wall_ms - now) / 60_000;
        return Err(format!(
            "this laptop's clock is {minutes} minutes ahead of the server's; the change is kept for the office to review. \
             Set the laptop's date and time to automatic, then sync again"
        ));
    }
    for (field, seen) in &e.base {
        if !e.fields.contains_key(field) || !(seen.is_null() || seen.as_str().is_some_and(Hlc::is_canonical)) {
            return Err(format!("the change's base for '{}' is not a stamp of a field it writes", policy::clip(field)));
        }
    }
    // A re-sent record (the laptop recovering from a server restored from a backup) carries
    // each field's original stamp: every one is held to the same rules as `hlc`, which must be
    // the newest of them (so the clock check above covers them all).
    if let Some(stamps) = &e.stamps {
        if !e.base.is_empty() {
            return Err("a re-sent change carries its fields' own stamps and no base".into());
        }
        for field in e.fields.keys() {
            let Some(text) = stamps.get(field).and_then(Value::as_str) else {
                return Err(format!("the re-sent change gives no stamp for '{}'", policy::clip(field)));
            };
            let s: Hlc = text.parse().map_err(|err: fieldbook_core::hlc::ParseHlcError| format!("'{}': {err}", policy::clip(field)))?;
            if s.node != device.id {
                return Err(format!("the change is stamped by '{}', not by this laptop ('{}')", policy::clip(&s.node), device.id));
            }
            if s > stamp {
                return Err(format!("the re-sent change's stamp for '{}' is newer than the change's own", policy::clip(field)));
            }
        }
        if stamps.keys().any(|k| !e.fields.contains_key(k)) {
            return Err("the re-sent change gives stamps for fields it does not write".into());
        }
    }
    Ok(stamp)
}

/// A field value that names another record, checked against the server's records.
fn check_ref(w: &mut Writer<'_>, tech: &str, e: &PushEntry, stored: Option<&Fields>, field: &str, kind: Ref, value: &Value) -> Check {
    // The record as it will stand: the pushed fields over the stored ones.
    let get = |f: &str| e.fields.get(f).or_else(|| stored.and_then(|s| s.get(f))).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let text = value.as_str().unwrap_or_default();
    let name = || format!("{} {}", policy::singular(&e.entity), policy::clip(&e.record_id));
    match kind {
        Ref::TheTechnician => {
            if text != tech {
                refuse!("{}: {field} must be the technician of this laptop ({tech}), not '{}'", name(), policy::clip(text));
            }
        }
        // The ownership step above checked this very order already: a record under an order
        // (check_child) and a time entry (check_time_entry) name it by this field, stored or
        // pushed, and cannot move.
        Ref::OwnOrder => {}
        Ref::OnlyCardOfOrder => {
            if let Err(r) = own_order(w, tech, text)? {
                return Ok(Err(r));
            }
            for (id, card) in w.by_owner("satisfaction_cards", text)? {
                if id != e.record_id && card.fields()?.get("deleted") != Some(&Value::Bool(true)) {
                    refuse!("{}: the order already has a satisfaction card ({id}); give the card again on the laptop to change it", name());
                }
            }
        }
        Ref::ServedSite => {
            let serves = w
                .tx_unbuffered()
                .query_opt("SELECT 1 FROM order_refs WHERE ref_entity = 'sites' AND ref_id = $1 AND technician = $2", params![text, tech])?
                .is_some();
            if !serves {
                refuse!("{}: a new work order may only be raised at a site of one of your own work orders", name());
            }
        }
        Ref::CustomerOfSite => {
            let site = match get("site_id") {
                Some(s) => w.load("sites", &s)?,
                None => None,
            };
            let customer = match &site {
                Some(s) => s.text("customer_id")?,
                None => None,
            };
            // A laptop that has not pulled since the office merged two customers still names the
            // merged one: the same customer, repointed once written (`books::after_work_order`).
            let pushed = crate::console::books::survivor_of(w, text)?;
            if customer.is_none() || customer != Some(pushed.as_str()) {
                refuse!("{}: its customer is not the customer of its site", name());
            }
        }
        Ref::AssetsOfSite => {
            let site = get("site_id").unwrap_or_default();
            let ids: Vec<&str> = value.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            w.prefetch("assets", ids.iter().copied())?;
            for a in ids {
                let at = match w.load("assets", a)? {
                    Some(asset) => asset.text("site_id")?.map(str::to_owned),
                    None => None,
                };
                if at.as_deref() != Some(site.as_str()) {
                    refuse!("{}: asset {} is not at the order's site", name(), policy::clip(a));
                }
            }
        }
        Ref::AssetOfOrder => {
            if text.is_empty() {
                return Ok(Ok(()));
            }
            let order = match get("work_order_id") {
                Some(o) => w.load("work_orders", &o)?,
                None => None,
            };
            let listed = match &order {
                Some(o) => o.fields()?.get("asset_ids").and_then(Value::as_array).is_some_and(|a| a.iter().any(|x| x.as_str() == Some(text))),
                None => false,
            };
            if !listed {
                refuse!("{}: asset {} is not one of its work order's assets", name(), policy::clip(text));
            }
        }
        Ref::RepairOfOrder => {
            let Some(repair) = w.load("repair_records", text)? else { refuse!("{}: repair record {} is not known to the server", name(), policy::clip(text)) };
            let repair_order = repair.text("work_order_id")?.map(str::to_owned).unwrap_or_default();
            if get("work_order_id").is_some_and(|o| o != repair_order) {
                refuse!("{}: its repair record belongs to another work order", name());
            }
            return Ok(own_order(w, tech, &repair_order)?.map(|_| ()));
        }
        Ref::Template => {
            if w.load("checklist_templates", text)?.is_none() {
                refuse!("{}: checklist template {} is not known to the server", name(), policy::clip(text));
            }
        }
        Ref::FindingOfOwnOrder => {
            let order_id = text.split('/').next().unwrap_or_default();
            if !text.contains('/') {
                refuse!("{}: follow_up_of must name a finding as ORDER-ID/ITEM[/ASSET]", name());
            }
            return Ok(own_order(w, tech, order_id)?.map(|_| ()));
        }
        Ref::RecordOfOrder => {
            // A correction is about the customer of its order, the order's site, or an asset at
            // that site: nothing another technician's order names.
            let Some(order_id) = get("work_order_id") else { refuse!("{}: a correction must name its work order", name()) };
            let order = match own_order(w, tech, &order_id)? {
                Ok(o) => o,
                Err(r) => return Ok(Err(r)),
            };
            let (customer, site) = (order.text("customer_id")?.map(str::to_owned), order.text("site_id")?.map(str::to_owned));
            let ok = match get("record_entity").as_deref() {
                Some("customers") => customer.as_deref() == Some(text),
                Some("sites") => site.as_deref() == Some(text),
                Some("assets") => match w.load("assets", text)? {
                    Some(a) => site.is_some() && a.text("site_id")? == site.as_deref() && a.fields()?.get("deleted") != Some(&Value::Bool(true)),
                    None => false,
                },
                _ => false,
            };
            if !ok {
                refuse!("{}: {} {} is not the customer, site or an asset at the site of its work order; correct only what the order is about", name(), get("record_entity").unwrap_or_default(), policy::clip(text));
            }
        }
        Ref::UnusedOrderNumber => {
            // A follow-up is numbered after the order it came from (WO-1001-F1): a laptop cannot
            // take a number the office will give a new call, which every laptop's store holds
            // unique.
            let parent = get("follow_up_of").and_then(|f| f.split('/').next().map(str::to_owned)).unwrap_or_default();
            let parent_number = match w.load("work_orders", &parent)? {
                Some(p) => p.text("number")?.map(str::to_owned),
                None => None,
            };
            let suffix = parent_number.as_deref().and_then(|p| text.strip_prefix(p)).and_then(|rest| rest.strip_prefix("-F"));
            if !suffix.is_some_and(|n| !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit())) {
                refuse!("{}: a follow-up's number is its order's number with -F and a count (e.g. WO-1001-F1), not '{}'", name(), policy::clip(text));
            }
            let taken = w.tx()?.query_opt("SELECT 1 FROM work_order_index WHERE number = $1 AND id <> $2", params![text, e.record_id.as_str()])?.is_some();
            if taken {
                refuse!("{}: number {} is already another work order's; sync, and raise the follow-up again", name(), policy::clip(text));
            }
        }
    }
    Ok(Ok(()))
}

/// Whose an order is, for messages.
fn assigned_to(order: &Fields) -> String {
    match records::text_of(order, "technician") {
        Some(t) => format!("assigned to {t}"),
        None => "not assigned to anyone".to_owned(),
    }
}

/// An order's own rules beyond its fields' (which the policy checked): it is this technician's,
/// and a signed order changes only by its amendment.
fn check_order(w: &mut Writer<'_>, tech: &str, e: &PushEntry, existing: Option<&Fields>) -> Check {
    let name = records::order_name(&e.record_id, existing.or(Some(&e.fields)));
    if let Some(order) = existing {
        if records::text_of(order, "technician") != Some(tech) {
            refuse!("{name} is {}, not to {tech}", assigned_to(order));
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
    if let Err(r) = signed::check_locked_child(entity, e, existing.as_deref(), order, || records::order_name(&order_id, Some(order)))? {
        return Ok(Err(r));
    }
    if entity == "signatures" {
        let existing = match &existing {
            Some(s) => Some(s.fields()?),
            None => None,
        };
        return check_signature(device, e, existing, order, &records::order_name(&order_id, Some(order)));
    }
    if entity == "workshop_jobs" {
        // The receipt is voided only by the customer's return signature, after goods-out, and a
        // signed return never changes (core::workshop): checked on the job as it will stand —
        // the merge itself on a copy, so a pushed field whose stamp loses (an old stamp sent on
        // purpose) is judged by the value that stays, not by the value pushed.
        let before = match &existing {
            Some(s) => Some(s.fields()?),
            None => None,
        };
        let after = signed::as_it_will_stand(existing.as_deref(), e)?;
        if let Err(r) = fieldbook_core::workshop::check_laptop_return(before, &after) {
            refuse!("{r}");
        }
        // One open receipt per repair, as the laptop keeps it: a second would put the same unit
        // in the workshop's list twice.
        if existing.is_none() {
            let repair = records::text_of(&after, "repair_record_id").unwrap_or_default().to_owned();
            for (jid, job) in w.by_owner("workshop_jobs", &order_id)? {
                let f = job.fields()?;
                let open = f.get("deleted") != Some(&Value::Bool(true)) && f.get("receipt_voided_at").is_none_or(Value::is_null);
                if jid != e.record_id && open && records::text_of(f, "repair_record_id") == Some(repair.as_str()) {
                    refuse!(
                        "{}: repair {repair} already has an open workshop receipt ({jid}); the unit is returned (and that receipt voided) before another is written",
                        records::order_name(&order_id, Some(order))
                    );
                }
            }
        }
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

/// A requisition is its technician's: only they write it; its lines are parts and quantities;
/// once the office has decided, the technician only confirms what arrived (and only for a
/// shipped one).
fn check_requisition(tech: &str, e: &PushEntry, stored: Option<&Fields>) -> std::result::Result<(), String> {
    let name = format!("requisition {}", policy::clip(&e.record_id));
    let owner = stored.and_then(|s| records::text_of(s, "technician")).or_else(|| e.fields.get("technician").and_then(Value::as_str));
    if owner != Some(tech) {
        return Err(format!("{name} is not {tech}'s: a technician asks for parts for their own van only"));
    }
    if let Some(lines) = e.fields.get("lines") {
        crate::console::parts::parse_lines(lines).map_err(|why| format!("{name}: {why}"))?;
    }
    let status = stored.and_then(|s| records::text_of(s, "status")).unwrap_or("pending");
    let confirms = ["received_at", "received_correct", "received_note"].iter().any(|f| e.fields.get(*f).is_some_and(|v| !v.is_null()));
    if confirms && status != "approved" {
        return Err(format!("{name}: its receipt is confirmed once the office has shipped it (it is {status})"));
    }
    Ok(())
}
