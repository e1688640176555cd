//! Signed means locked, checked by the server (issue 10, findings 3 and 12).
//!
//! A laptop is not trusted to say an order is signed. The server checks, with the same
//! `fieldbook_core::signed_record` functions the laptop signs with, that:
//!
//! - a push that marks an order `signed` is backed by a customer signature of this order and of
//!   the revision the order will have, whose snapshot equals the order's records as they will
//!   stand after the push ([`check_signing`]);
//! - a signature record is tied to what was signed: its content names this order and revision,
//!   and the signer its row shows (name, title, time, strokes) is the signer in the signed block
//!   ([`check_signature_row`]);
//! - a signed order changes only by its amendment, exactly as `Store::amend` on the laptop
//!   pushes it ([`check_amendment`]): `{revision: r+1, status: "on_site", completed_at: null}`,
//!   nothing else, after which the order is `on_site` at revision r+1 and needs a new
//!   signature; the `amendments` record that follows must record the amendment of revision r;
//! - the answers, repair records and amendment records of a signed order stay locked
//!   ([`check_locked_child`]).
//!
//! The office console re-verifies with [`live_content`] and `SignedContent::changes`.

use fieldbook_core::signed_record::{records_content, OrderRecords, Record, SignedContent, SignerRow};
use fieldbook_core::sync::merge::{merge_into, RecordState};
use fieldbook_core::sync::protocol::PushEntry;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::feed::Writer;
use crate::records::{self, Stored};

/// A record's fields.
type Fields = Map<String, Value>;

/// `Ok(Err(reason))` refuses the entry; the outer error is a database failure.
type Verdict = Result<std::result::Result<(), String>>;

/// The fields an amendment pushes, and nothing else: `Store::amend` writes the revision bump,
/// the status back to on site and the completion time cleared, in one change.
pub const AMENDMENT_FIELDS: &[&str] = &["revision", "status", "completed_at"];

/// The status an amendment takes a signed order back to (as `Store::amend` does).
pub const AMENDED_STATUS: &str = "on_site";

fn deleted(f: &Fields) -> bool {
    f.get("deleted") == Some(&Value::Bool(true))
}

pub(crate) fn revision(order: &Fields) -> i64 {
    records::int_of(order, "revision").unwrap_or(1)
}

pub(crate) fn is_signed(order: &Fields) -> bool {
    records::text_of(order, "status") == Some("signed")
}

/// The refusal for a change to a signed order's content.
pub fn locked(name: &str, order: &Fields) -> String {
    format!(
        "{name} is signed (revision {}) and locked; to change it, open an amendment on the laptop (`fieldbook amend`), which the customer then signs again",
        revision(order)
    )
}

/// An order's fields as they will stand once `e` is merged into the stored record: the merge
/// itself (`fieldbook_core::sync::merge`), on a copy, so a field whose pushed stamp loses is
/// judged by the value that stays.
pub fn as_it_will_stand(stored: Option<&Stored>, e: &PushEntry) -> Result<Fields> {
    let mut state = match stored {
        Some(s) => s.state()?,
        None => RecordState::default(),
    };
    merge_into(&mut state, &e.incoming());
    Ok(state.fields)
}

/// The comparable signed content of an order's records (`signed_record::records_content`) from
/// the server's copies: the order's fields, its answers and repair records (tombstones are left
/// out there), and the code and version of its checklist template.
pub fn live_content(order_id: &str, order: &Fields, answers: &[(String, Fields)], repairs: &[(String, Fields)], template: Option<&Fields>) -> Value {
    let template = template.and_then(|t| Some((records::text_of(t, "code")?, records::int_of(t, "version")?)));
    records_content(&OrderRecords {
        order: Record { id: order_id, fields: order },
        answers: answers.iter().map(|(id, fields)| Record { id, fields }).collect(),
        repairs: repairs.iter().map(|(id, fields)| Record { id, fields }).collect(),
        template,
    })
}

/// [`live_content`] from the feed writer's view of the records (this transaction's earlier
/// changes included), with the order's fields as given.
fn live_content_in(w: &mut Writer<'_>, order_id: &str, order: &Fields) -> Result<Value> {
    let mut children = Vec::new();
    for entity in ["inspection_answers", "repair_records"] {
        let mut list = Vec::new();
        for (id, s) in w.by_owner(entity, order_id)? {
            list.push((id, s.fields()?.clone()));
        }
        children.push(list);
    }
    let template = match records::text_of(order, "template_id") {
        Some(t) => w.load("checklist_templates", t)?.map(|s| s.fields().cloned()).transpose()?,
        None => None,
    };
    Ok(live_content(order_id, order, &children[0], &children[1], template.as_ref()))
}

/// A push entry that marks an order `signed` (the status block of `push::check_order`). The
/// laptop pushes the signature first and then this status; the signature may also already be on
/// the server. Accepted only when a signature of this order, of the revision the order will
/// have, covers its records as they will stand after this entry.
pub fn check_signing(w: &mut Writer<'_>, e: &PushEntry, name: &str) -> Verdict {
    let stored = w.load("work_orders", &e.record_id)?;
    let after = as_it_will_stand(stored.as_deref(), e)?;
    if !is_signed(&after) {
        // The pushed status loses the merge to a later one: the order does not become signed.
        return Ok(Ok(()));
    }
    let rev = revision(&after);
    if let Some(before) = stored.as_deref().map(|s| s.fields()).transpose()?.map(revision).filter(|&b| b > rev) {
        // Back to an earlier revision whose signature would match: an amendment is never undone.
        return Ok(Err(format!(
            "{name}: marked signed at revision {rev}, but the order is at revision {before}; an amended order is signed again only at its new revision"
        )));
    }
    let live = live_content_in(w, &e.record_id, &after)?;
    let mut closest: Option<Vec<String>> = None;
    for (_, s) in w.by_owner("signatures", &e.record_id)? {
        let f = s.fields()?;
        if deleted(f) || records::int_of(f, "revision") != Some(rev) {
            continue;
        }
        // Signatures are checked on arrival (check_signature_row); rows from before that check
        // are held to it here as well: a content of another order or revision covers nothing.
        let Some(content) = records::text_of(f, "signed_content").and_then(SignedContent::parse) else { continue };
        if content.order_id() != Some(e.record_id.as_str()) || content.revision() != Some(rev) {
            continue;
        }
        let changes = content.changes(&live);
        if changes.is_empty() {
            return Ok(Ok(()));
        }
        if closest.as_ref().is_none_or(|c| changes.len() < c.len()) {
            closest = Some(changes);
        }
    }
    Ok(Err(match closest {
        None => format!(
            "{name}: marked signed, but the server has no customer signature of this order's revision {rev}; \
             sync the signature from the laptop that took it, or have the customer sign there again"
        ),
        Some(changes) => format!(
            "{name}: marked signed, but the customer's signature of revision {rev} does not cover the records as they now stand \
             (different: {}); the customer must sign the records as they are (on the laptop: amend the order, then sign again)",
            changes.join(", ")
        ),
    }))
}

/// A change to a signed order (the `is_signed` branch of `push::check_order`): only its
/// amendment is accepted, exactly as `Store::amend` pushes it. After it the order is `on_site`
/// at the next revision, so nothing is shown as signed until a new signature of that revision
/// arrives with the status. A bump that would leave the status `signed` is refused rather than
/// the status changed by the server: the laptop always sends the status with the bump, and a
/// bump without it comes from something that is not Fieldbook's amendment.
pub fn check_amendment(stored: &Stored, e: &PushEntry, name: &str) -> Verdict {
    let order = stored.fields()?;
    let rev = revision(order);
    if e.fields.get("revision").and_then(Value::as_i64) != Some(rev + 1) {
        return Ok(Err(locked(name, order)));
    }
    let mut other: Vec<&str> = e.fields.keys().map(String::as_str).filter(|k| !AMENDMENT_FIELDS.contains(k)).collect();
    if e.fields.get("completed_at").is_some_and(|v| !v.is_null()) {
        other.push("completed_at");
    }
    if !other.is_empty() {
        return Ok(Err(format!(
            "{name} is signed (revision {rev}): its amendment is the revision bump alone, but this change also sets {}; \
             amend the order on the laptop (`fieldbook amend`), then make the changes in the new revision",
            other.join(", ")
        )));
    }
    if e.fields.get("status").and_then(Value::as_str) != Some(AMENDED_STATUS) {
        return Ok(Err(format!(
            "{name} is signed (revision {rev}): an amendment must take it back to {AMENDED_STATUS} with revision {}, as `fieldbook amend` does; \
             a new revision cannot stay signed without a new signature (update Fieldbook on this laptop if it sent this)",
            rev + 1
        )));
    }
    let after = as_it_will_stand(Some(stored), e)?;
    if revision(&after) != rev + 1 || is_signed(&after) {
        return Ok(Err(format!(
            "{name}: this amendment was made on an older copy of the order (the server has changed its status or revision since); \
             sync the laptop and amend again if it is still needed"
        )));
    }
    Ok(Ok(()))
}

/// The lock on an order's children (the `is_signed` lock of `push::check_child`): answers,
/// repair records and amendment records of a signed order cannot change. A new amendment record
/// follows its revision bump (the laptop writes both in one transaction and pushes the bump
/// first), so it must record the amendment of the revision just before the order's.
pub fn check_locked_child(entity: &str, e: &PushEntry, existing: Option<&Stored>, order: &Fields, name: impl Fn() -> String) -> Verdict {
    if !matches!(entity, "inspection_answers" | "repair_records" | "amendments") {
        return Ok(Ok(()));
    }
    if is_signed(order) {
        return Ok(Err(locked(&name(), order)));
    }
    let name = &*if entity == "amendments" && existing.is_none() { name() } else { String::new() };
    if entity == "amendments" && existing.is_none() {
        let from = e.fields.get("from_revision").and_then(Value::as_i64);
        if from != Some(revision(order) - 1) {
            let from = from.map_or("no revision".to_owned(), |r| format!("revision {r}"));
            return Ok(Err(format!(
                "{name}: an amendment record must record the amendment of revision {} (the order is at revision {}), not of {from}; \
                 amendments are opened with `fieldbook amend`, which sends the revision bump first",
                revision(order) - 1,
                revision(order)
            )));
        }
    }
    Ok(Ok(()))
}

/// What ties a new signature record to what was signed (part of `push::check_signature`): its
/// signed content is a signed-record document of this order and this revision, and the signer
/// the row shows is the signer in the signed block, strokes included. `None` when all holds.
pub fn check_signature_row(e: &PushEntry, revision: i64, name: &str) -> Option<String> {
    let order_id = records::text_of(&e.fields, "work_order_id").unwrap_or_default();
    let Some(content) = records::text_of(&e.fields, "signed_content").and_then(SignedContent::parse) else {
        return Some(format!("{name}: the signed content is not a signed-record document; sign again on the laptop"));
    };
    let problems = content.row_problems(order_id, revision, &SignerRow::of(&e.fields));
    if problems.is_empty() {
        None
    } else {
        Some(format!("{name}: {}; this signature is refused (take the customer's signature again on the laptop)", problems.join("; ")))
    }
}
