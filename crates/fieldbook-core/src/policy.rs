//! Reads the write policy ([`crate::entity::POLICY`]) for one write: may a laptop write these
//! fields of this record, and are the values ones every laptop can store? Pure: the caller says
//! what it holds of the record. What needs other records (is this order the technician's, is
//! this asset the order's) comes back as the list of references to check, which the server does
//! against its records; the laptop, which only writes what its own screens allow, checks the
//! rest before a write reaches its outbox.

use serde_json::{Map, Value};

use crate::entity::{self, EntityPolicy, FieldRule, FieldType, IdRule, Owner, Ref, ValueRule, Writer};

/// A write the policy allows, with what is left for the caller to check.
#[derive(Debug)]
pub struct Allowed<'a> {
    pub policy: &'static EntityPolicy,
    /// Every written field whose rule is a reference, with its (non-null) value.
    pub refs: Vec<(&'static FieldRule, Ref, &'a Value)>,
}

/// Longest record id.
pub const MAX_ID_LEN: usize = 200;

/// Checks one write of `fields` to record `id` of `entity` by a technician's laptop. `stored` is
/// the record as the checker holds it (`None`: the write creates it). The error is the reason, in
/// words that name the record, the field and what to do.
pub fn check_laptop_write<'a>(entity: &str, id: &str, fields: &'a Map<String, Value>, stored: Option<&Map<String, Value>>) -> Result<Allowed<'a>, String> {
    let Some(policy) = entity::policy(entity) else { return Err(format!("'{}' is not a kind of record Fieldbook syncs; a laptop and server of the same Fieldbook version agree on them", clip(entity))) };
    let spec = entity::spec(entity).expect("every policy has its entity");
    debug_assert_eq!(spec.fields.len(), policy.fields.len());
    if entity == "day_reviews" {
        return Err("day reviews are the supervisor's sign-off of a technician's day, given in the office console; a laptop cannot write one".into());
    }
    if policy.owner == Owner::Office {
        return Err(format!("{entity} are reference data kept by the office; a laptop cannot change them (ask the office to correct the record)"));
    }
    if policy.owner == Owner::Desk {
        return Err(format!("{entity} are the service desk's records, kept on the server; a laptop can neither read nor change them (ask the service desk)"));
    }
    check_id_shape(policy.id, id)?;
    // Named only for a refusal: formatting it for every entry showed in the push profile.
    let name = || format!("{} {}", singular(entity), clip(id));
    if fields.is_empty() {
        return Err(format!("{}: the change carries no fields", name()));
    }
    for (field, value) in fields {
        // The policy lists the whitelist's fields in its order (a test in entity.rs), so one
        // search finds both the rule and the type.
        let Some(i) = policy.fields.iter().position(|r| r.name == field) else { return Err(format!("{}: {entity} have no field '{}'", name(), clip(field))) };
        let (rule, ty) = (&policy.fields[i], spec.fields[i].1);
        match rule.writer {
            Writer::Technician => {}
            Writer::Office => return Err(format!("{}: {field} is the office's to set; a laptop cannot change it", name())),
            Writer::TechnicianCreates => {
                if let Some(stored) = stored {
                    if stored.get(field).unwrap_or(&Value::Null) != value {
                        return Err(format!("{}: {field} is fixed once the record exists; ask the office to change it", name()));
                    }
                }
            }
        }
        if value.is_null() {
            if rule.not_null {
                return Err(format!("{}: {field} cannot be empty; give it a value (a laptop never sends it empty: update Fieldbook on this laptop if it did)", name()));
            }
            continue;
        }
        if !fits(ty, value) {
            return Err(format!("{}: {field} must be {}, not {}", name(), type_words(ty), clip(&value.to_string())));
        }
        check_value(rule, value).map_err(|why| format!("{}: {field} {why}", name()))?;
    }
    if stored.is_none() {
        if let Some(missing) = policy.fields.iter().find(|r| r.required && fields.get(r.name).is_none_or(Value::is_null)) {
            return Err(format!("{}: a new {} must give {}", name(), singular(entity), missing.name));
        }
    }
    if entity == "corrections" {
        // Which fields of which records a technician may propose to correct (entity::CORRECTABLE).
        let get = |f: &str| fields.get(f).or_else(|| stored.and_then(|s| s.get(f))).and_then(Value::as_str).unwrap_or_default();
        let (target, field) = (get("record_entity"), get("field"));
        if !entity::is_correctable(target, field) {
            let allowed: Vec<String> = entity::CORRECTABLE.iter().map(|(e, f)| format!("{e}: {}", f.join(", "))).collect();
            return Err(format!("{}: {} of {} is not something a technician can correct from site (only {}); ask the office to change it", name(), clip(field), clip(target), allowed.join("; ")));
        }
    }
    if policy.id == IdRule::AnswerSlot {
        let get = |f: &str| fields.get(f).or_else(|| stored.and_then(|s| s.get(f))).and_then(Value::as_str).unwrap_or_default();
        let expected = answer_id(get("work_order_id"), get("item_key"), get("asset_id"));
        if id != expected {
            return Err(format!("{}: an answer's id is made from its order, item and asset; this one should be {expected}", name()));
        }
    }
    // In the table's order, so that the same write is always refused for the same reason.
    let refs = policy
        .fields
        .iter()
        .filter_map(|rule| match rule.value {
            ValueRule::Refers(kind) => fields.get(rule.name).filter(|v| !v.is_null()).map(|v| (rule, kind, v)),
            _ => None,
        })
        .collect();
    Ok(Allowed { policy, refs })
}

/// The id of the answer to an item (for one asset, or '' for the order) of an order: the same
/// on every replica, so two laptops answering the same item write the same record.
pub fn answer_id(order_id: &str, item_key: &str, asset_id: &str) -> String {
    const NS: uuid::Uuid = uuid::Uuid::from_u128(0x6669_656c_6462_6f6f_6b2d_616e_7377_6572);
    uuid::Uuid::new_v5(&NS, format!("{order_id}/{item_key}/{asset_id}").as_bytes()).to_string()
}

/// Is a field's value of a change merely restamped by every edit (see [`FieldRule::incidental`])?
pub fn is_incidental(entity: &str, field: &str) -> bool {
    entity::policy(entity).and_then(|p| p.field(field)).is_some_and(|r| r.incidental)
}

fn check_id_shape(rule: IdRule, id: &str) -> Result<(), String> {
    if id.trim().is_empty() || id.len() > MAX_ID_LEN || id.chars().any(char::is_control) {
        return Err(format!("the record id must be 1 to {MAX_ID_LEN} characters without control characters"));
    }
    if rule == IdRule::Sha256 && !is_hex(id, 64) {
        return Err("an attachment's id must be the SHA-256 of its content (64 lowercase hex characters)".into());
    }
    Ok(())
}

/// Does a JSON value have the field's type?
pub fn fits(ty: FieldType, v: &Value) -> bool {
    match (ty, v) {
        (_, Value::Null) | (FieldType::Json, _) => true,
        (FieldType::Text, Value::String(_)) | (FieldType::Bool, Value::Bool(_)) => true,
        (FieldType::Integer, Value::Number(n)) => n.is_i64(),
        (FieldType::Real, Value::Number(_)) => true,
        _ => false,
    }
}

fn type_words(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Text => "text",
        FieldType::Integer => "a whole number",
        FieldType::Real => "a number",
        FieldType::Bool => "true or false",
        FieldType::Json => "a JSON value",
    }
}

/// Checks a non-null value against its rule; the error completes "FIELD …".
fn check_value(rule: &FieldRule, v: &Value) -> Result<(), String> {
    let text = || v.as_str().unwrap_or_default();
    match rule.value {
        ValueRule::Any => Ok(()),
        ValueRule::Text(max) => plain_text(text(), max),
        ValueRule::OneOf(words) => match words.contains(&text()) {
            true => Ok(()),
            false => Err(format!("must be one of {}, not '{}'", words.join(", "), clip(text()))),
        },
        ValueRule::Int(lo, hi) => match v.as_i64() {
            Some(n) if (lo..=hi).contains(&n) => Ok(()),
            _ => Err(format!("must be a whole number from {lo} to {hi}, not {}", clip(&v.to_string()))),
        },
        ValueRule::Timestamp => match text().len() <= 40 && chrono::DateTime::parse_from_rfc3339(text()).is_ok() {
            true => Ok(()),
            false => Err(format!("must be a date and time like 2026-03-02T08:00:00.000Z, not '{}'", clip(text()))),
        },
        ValueRule::Date => match text().len() == 10 && chrono::NaiveDate::parse_from_str(text(), "%Y-%m-%d").is_ok() {
            true => Ok(()),
            false => Err(format!("must be a calendar date like 2026-03-02, not '{}'", clip(text()))),
        },
        ValueRule::Hex(n) => match is_hex(text(), n) {
            true => Ok(()),
            false => Err(format!("must be {n} lowercase hex characters")),
        },
        ValueRule::Json(max) => match json_len_within(v, max) {
            true => Ok(()),
            false => Err(format!("is larger than {max} bytes")),
        },
        ValueRule::Refers(Ref::AssetsOfSite) => match v.as_array() {
            Some(ids) if ids.len() <= 1_000 && ids.iter().all(|i| i.as_str().is_some_and(|s| plain_text(s, MAX_ID_LEN).is_ok())) => Ok(()),
            _ => Err("must be a list of at most 1000 asset ids".into()),
        },
        ValueRule::Refers(_) => match v.as_str() {
            Some(s) => plain_text(s, MAX_ID_LEN + 400),
            None => Err("must be text".into()),
        },
    }
}

/// Is a value's JSON text at most `max` bytes? Counted without writing it, an upper bound for
/// strings (escapes counted as written), stopping as soon as it is over.
fn json_len_within(v: &Value, max: usize) -> bool {
    fn len(v: &Value, budget: &mut isize) {
        if *budget < 0 {
            return;
        }
        *budget -= match v {
            Value::Null | Value::Bool(_) => 5,
            Value::Number(_) => 24,
            Value::String(s) => s.len() as isize + 2 + s.bytes().filter(|b| matches!(b, b'"' | b'\\') || *b < 0x20).count() as isize * 5,
            Value::Array(a) => {
                a.iter().for_each(|x| len(x, budget));
                a.len() as isize + 2
            }
            Value::Object(o) => {
                o.iter().for_each(|(k, x)| {
                    *budget -= k.len() as isize + 4;
                    len(x, budget)
                });
                2
            }
        };
    }
    let mut budget = max as isize;
    len(v, &mut budget);
    budget >= 0
}

fn plain_text(s: &str, max: usize) -> Result<(), String> {
    if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')) {
        return Err("contains control characters".into());
    }
    // Counting characters only when the bytes could be too many keeps the common case cheap.
    if s.len() > max && s.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    Ok(())
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The write policy as the Markdown table in docs/sync.md ("Who may write what"), made from
/// [`crate::entity::POLICY`] itself; a test keeps the document equal to it.
pub fn markdown_table() -> String {
    let mut out = String::from("| Entity | Whose record (for a laptop) | Id | The technician writes | The technician sets when creating it, the office after | The office only |\n|---|---|---|---|---|---|\n");
    for p in entity::POLICY {
        let owner = match p.owner {
            Owner::Office => "reference data: no laptop",
            Owner::Assigned => "the technician it is assigned to",
            Owner::OrderOf => "its work order's technician; never moves",
            Owner::TimeOf => "its technician (and its order's)",
            Owner::FirstAuthor => "the technician who first pushed it",
            Owner::Desk => "the service desk's: on the server only, no laptop",
            Owner::Requester => "the technician who asked; never changes hands",
        };
        let id = match p.id {
            IdRule::Chosen => "any",
            IdRule::AnswerSlot => "derived from order, item, asset",
            IdRule::Sha256 => "SHA-256 of the bytes",
        };
        let list = |w: Writer| p.fields.iter().filter(|f| f.writer == w).map(field_words).collect::<Vec<_>>().join(", ");
        out.push_str(&format!("| `{}` | {owner} | {id} | {} | {} | {} |\n", p.entity, list(Writer::Technician), list(Writer::TechnicianCreates), list(Writer::Office)));
    }
    out
}

fn field_words(f: &FieldRule) -> String {
    let rule = match f.value {
        ValueRule::Any => String::new(),
        ValueRule::Text(max) => format!(" ≤{max} chars"),
        ValueRule::OneOf(words) => format!(" ∈ {{{}}}", words.join(", ")),
        ValueRule::Int(lo, hi) if hi == i64::MAX => format!(" ≥{lo}"),
        ValueRule::Int(lo, hi) => format!(" {lo}–{hi}"),
        ValueRule::Timestamp => " RFC 3339".into(),
        ValueRule::Date => " date".into(),
        ValueRule::Hex(n) => format!(" {n} hex"),
        ValueRule::Json(max) => format!(" JSON ≤{} KiB", max / 1024),
        ValueRule::Refers(r) => format!(
            " → {}",
            match r {
                Ref::TheTechnician => "the technician",
                Ref::OwnOrder => "own order",
                Ref::ServedSite => "a site already served",
                Ref::CustomerOfSite => "the site's customer",
                Ref::AssetsOfSite => "assets of the site",
                Ref::AssetOfOrder => "an asset of the order",
                Ref::RepairOfOrder => "a repair of the order",
                Ref::Template => "a known template",
                Ref::UnusedOrderNumber => "ORDER-Fn, unused",
                Ref::FindingOfOwnOrder => "a finding of own order",
                Ref::OnlyCardOfOrder => "own order, one card",
                Ref::RecordOfOrder => "the order's customer, site or an asset there",
            }
        ),
    };
    let required = if f.required { " (required)" } else { "" };
    let incidental = if f.incidental { " (no conflict of its own)" } else { "" };
    format!("`{}`{rule}{required}{incidental}", f.name)
}

/// "work order", "inspection answer", …: an entity named in a message.
pub fn singular(entity: &str) -> &str {
    match entity {
        "work_orders" => "work order",
        "inspection_answers" => "inspection answer",
        "repair_records" => "repair record",
        "time_entries" => "time entry",
        "satisfaction_cards" => "satisfaction card",
        "signatures" => "signature",
        "amendments" => "amendment",
        "attachments" => "attachment",
        "requisitions" => "requisition",
        "day_reviews" => "day review",
        "corrections" => "correction",
        other => other,
    }
}

/// Untrusted text quoted in a message, cut to a readable length on a character boundary.
pub fn clip(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn answer(order: &str) -> Map<String, Value> {
        map(json!({"work_order_id": order, "item_key": "pressure", "asset_id": "", "value": 0.6, "note": null,
                   "answered_at": "2026-03-02T08:00:00.000Z", "deleted": false}))
    }

    #[test]
    fn a_new_answer_with_its_derived_id_is_allowed_and_its_order_is_left_to_check() {
        let f = answer("o1");
        let ok = check_laptop_write("inspection_answers", &answer_id("o1", "pressure", ""), &f, None).unwrap();
        let refs: Vec<_> = ok.refs.iter().map(|(r, kind, _)| (r.name, *kind)).collect();
        assert_eq!(refs, [("work_order_id", Ref::OwnOrder), ("asset_id", Ref::AssetOfOrder)]);
    }

    #[test]
    fn an_answer_under_another_orders_derived_id_is_refused() {
        // B's order o2, A's future answer id of o1: squatting it would block A forever.
        let err = check_laptop_write("inspection_answers", &answer_id("o1", "pressure", ""), &answer("o2"), None).unwrap_err();
        assert!(err.contains("should be"), "{err}");
    }

    #[test]
    fn stock_is_the_offices_and_a_requisition_is_decided_by_the_office_only() {
        for entity in ["stores", "stock_levels", "stock_movements"] {
            let err = check_laptop_write(entity, "van-li.wei/p1", &map(json!({"on_hand": 99})), None).unwrap_err();
            assert!(err.contains("office") || err.contains("service desk"), "{entity}: {err}");
        }
        let new = map(json!({"technician": "li.wei", "requested_at": "2026-03-02T08:00:00.000Z", "lines": [{"part_id": "p1", "quantity": 2}], "deleted": false}));
        let ok = check_laptop_write("requisitions", "q1", &new, None).unwrap();
        assert_eq!(ok.refs.iter().map(|(r, kind, _)| (r.name, *kind)).collect::<Vec<_>>(), [("technician", Ref::TheTechnician)]);
        for fields in [json!({"status": "approved"}), json!({"decided_by": "li.wei"}), json!({"shipment": [{"part_id": "p1", "quantity": 9}]})] {
            let err = check_laptop_write("requisitions", "q1", &map(fields.clone()), Some(&new)).unwrap_err();
            assert!(err.contains("requisition q1") && err.contains("office"), "{fields}: {err}");
        }
        let err = check_laptop_write("requisitions", "q1", &map(json!({"lines": [{"part_id": "p1", "quantity": 50}]})), Some(&new)).unwrap_err();
        assert!(err.contains("fixed"), "{err}");
        check_laptop_write("requisitions", "q1", &map(json!({"received_at": "2026-03-03T08:00:00.000Z", "received_correct": true})), Some(&new)).unwrap();
    }

    #[test]
    fn office_fields_and_moves_are_refused() {
        let stored = map(json!({"technician": "li.wei", "site_id": "s1", "customer_id": "c1", "status": "on_site"}));
        for fields in [json!({"site_id": "s2"}), json!({"customer_id": "c2"}), json!({"response_deadline": "2030-01-01T00:00:00Z"}),
                       json!({"review_state": "approved"}), json!({"deleted": true}), json!({"priority": "urgent"})] {
            let err = check_laptop_write("work_orders", "o1", &map(fields.clone()), Some(&stored)).unwrap_err();
            assert!(err.contains("work order o1"), "{fields}: {err}");
        }
        // Repeating a fixed value is not a change.
        check_laptop_write("work_orders", "o1", &map(json!({"site_id": "s1", "status": "completed"})), Some(&stored)).unwrap();
    }

    /// An order's inspection plan and contract phase are the server's (#12): a laptop can neither
    /// move its order to another plan or phase, clear them, nor give them to a follow-up it makes.
    #[test]
    fn the_plan_and_phase_of_an_order_are_refused() {
        let stored = map(json!({"technician": "li.wei", "status": "dispatched", "plan_id": "p1", "phase": "early"}));
        for fields in [json!({"plan_id": "p2"}), json!({"plan_id": null}), json!({"phase": "late"}), json!({"phase": "early"})] {
            let err = check_laptop_write("work_orders", "o1", &map(fields.clone()), Some(&stored)).unwrap_err();
            assert!(err.contains("office"), "{fields}: {err}");
        }
        let follow_up = map(json!({"number": "F-1", "kind": "repair_call", "technician": "li.wei", "plan_id": "p1"}));
        assert!(check_laptop_write("work_orders", "o2", &follow_up, None).unwrap_err().contains("plan_id"));
    }

    #[test]
    fn values_no_laptop_can_store_are_refused() {
        let stored = map(json!({"status": "on_site"}));
        for (entity, fields) in [
            ("work_orders", json!({"status": "bogus"})),
            ("work_orders", json!({"revision": -7})),
            ("work_orders", json!({"arrived_at": "2026-02-30T08:00:00Z"})),
            ("work_orders", json!({"arrived_at": "2026-03-0中"})),
            ("time_entries", json!({"minutes": -5})),
            ("time_entries", json!({"work_date": "2026-02-30"})),
            ("time_entries", json!({"activity": "sleeping"})),
            ("time_entries", json!({"minutes": 1441})),
            ("satisfaction_cards", json!({"attitude": 99})),
            ("repair_records", json!({"category": "Z"})),
            ("repair_records", json!({"fault": "a\u{0}b"})),
            ("repair_records", json!({"fault": "x".repeat(5000)})),
            ("inspection_answers", json!({"value": null})),
        ] {
            assert!(check_laptop_write(entity, "r1", &map(fields.clone()), Some(&stored)).is_err(), "{entity} {fields} was allowed");
        }
    }

    #[test]
    fn a_laptop_never_writes_a_day_review_and_gives_time_an_activity_of_the_list() {
        let review = map(json!({"technician": "li.wei", "work_date": "2026-03-02", "status": "signed_off", "reviewed_by": "li.wei", "reviewed_at": "2026-03-02T18:00:00Z"}));
        let why = check_laptop_write("day_reviews", "day:li.wei:2026-03-02", &review, None).unwrap_err();
        assert!(why.contains("supervisor's sign-off"), "{why}");
        let stored = map(json!({"technician": "li.wei"}));
        check_laptop_write("time_entries", "t1", &map(json!({"activity": "internal", "minutes": 60})), Some(&stored)).unwrap();
    }

    #[test]
    fn a_new_record_must_give_what_the_laptop_schema_requires() {
        let err = check_laptop_write("time_entries", "t1", &map(json!({"technician": "li.wei", "minutes": 30})), None).unwrap_err();
        assert!(err.contains("must give work_date"), "{err}");
    }

    #[test]
    fn reference_data_and_unknown_entities_are_refused() {
        assert!(check_laptop_write("customers", "c1", &map(json!({"name": "x"})), None).unwrap_err().contains("reference data"));
        assert!(check_laptop_write("users", "u1", &map(json!({"name": "x"})), None).is_err());
        assert!(check_laptop_write("attachments", "not-a-hash", &map(json!({"deleted": true})), None).unwrap_err().contains("SHA-256"));
        // The desk's records: no laptop writes one, whatever it sends.
        for desk in crate::entity::DESK_ENTITIES {
            let why = check_laptop_write(desk.name, "x1", &map(json!({"deleted": false})), None).unwrap_err();
            assert!(why.contains("service desk"), "{}: {why}", desk.name);
        }
        // Escalations: the technician asks, the office answers.
        let esc = map(json!({"work_order_id": "wo", "escalate_to": "engineer", "note": "needs a new board", "raised_at": "2026-12-06T08:00:00Z", "raised_by": "li.wei"}));
        assert!(check_laptop_write("escalations", "e1", &esc, None).is_ok());
        let answered = map(json!({"status": "resolved", "response": "done"}));
        assert!(check_laptop_write("escalations", "e1", &answered, Some(&esc)).unwrap_err().contains("office"));
        let bad_to = map(json!({"work_order_id": "wo", "escalate_to": "ceo", "note": "n", "raised_at": "2026-12-06T08:00:00Z", "raised_by": "li.wei"}));
        assert!(check_laptop_write("escalations", "e2", &bad_to, None).is_err());
    }

    /// Contracts and renewals (#12): the office's alone.
    #[test]
    fn a_laptop_writes_no_contract_terms_and_no_renewal() {
        for fields in [json!({"service_level": "full"}), json!({"renewal_of": "k0"})] {
            let why = check_laptop_write("contracts", "k1", &map(fields.clone()), None).unwrap_err();
            assert!(why.contains("reference data"), "{fields}: {why}");
        }
        let renewal = map(json!({"contract_id": "k1", "outcome": "renewed", "new_contract_id": "k2"}));
        assert!(check_laptop_write("contract_renewals", "renewal-k1", &renewal, None).unwrap_err().contains("service desk"));
    }

    fn correction(target: &str, field: &str) -> Map<String, Value> {
        map(json!({"work_order_id": "wo", "record_entity": target, "record_id": "r1", "field": field, "value": "new", "proposed_at": "2026-12-06T08:00:00Z",
                   "proposed_by": "li.wei", "deleted": false}))
    }

    #[test]
    fn a_correction_may_name_only_the_whitelisted_fields_and_never_decide_itself() {
        for (target, field) in [("customers", "phone"), ("customers", "contact"), ("sites", "address"), ("assets", "serial"), ("assets", "model"), ("assets", "location")] {
            let fields = correction(target, field);
            let ok = check_laptop_write("corrections", "k1", &fields, None).unwrap();
            assert!(ok.refs.iter().any(|(r, kind, _)| r.name == "record_id" && *kind == Ref::RecordOfOrder), "{target}.{field}");
        }
        // A field the whitelist has, on the wrong kind of record; a field it lacks; a kind of record it lacks.
        for (target, field) in [("customers", "address"), ("sites", "phone"), ("assets", "contact"), ("customers", "name"), ("assets", "warranty_ends"), ("contracts", "phone")] {
            assert!(check_laptop_write("corrections", "k2", &correction(target, field), None).is_err(), "{target}.{field} was allowed");
        }
        // The office's decision is the office's.
        let stored = correction("customers", "phone");
        for decision in [json!({"status": "confirmed"}), json!({"decided_by": "li.wei"}), json!({"decision_note": "ok"}), json!({"decided_at": "2026-12-06T09:00:00Z"})] {
            let why = check_laptop_write("corrections", "k1", &map(decision.clone()), Some(&stored)).unwrap_err();
            assert!(why.contains("office"), "{decision}: {why}");
        }
        // The proposal is fixed once made.
        assert!(check_laptop_write("corrections", "k1", &map(json!({"value": "other"})), Some(&stored)).unwrap_err().contains("fixed"));
        assert!(check_laptop_write("corrections", "k1", &map(json!({"field": "contact"})), Some(&stored)).is_err());
        // And the customer's own record stays reference data: merged_into too.
        assert!(check_laptop_write("customers", "c1", &map(json!({"merged_into": "c2"})), None).unwrap_err().contains("reference data"));
    }

    /// The workshop loop: the receipt is the technician's on creation only, the register, the
    /// repair card and the check are the office's.
    #[test]
    fn a_laptop_writes_the_workshop_receipt_and_return_but_not_the_workshops_steps() {
        let receipt = map(json!({"work_order_id": "wo", "repair_record_id": "r1", "receipt_number": "SJ-1", "unit": "GST200", "condition": "ok",
            "received_at": "2026-12-06T08:00:00Z", "received_by": "li.wei", "receipt_signer": "王经理"}));
        assert!(check_laptop_write("workshop_jobs", "j1", &receipt, None).is_ok());
        for (field, value) in [("goods_in_at", json!("2026-12-06T09:00:00Z")), ("repair_minutes", json!(90)), ("check_result", json!("passed")),
            ("checked_by", json!("li.wei")), ("goods_out_at", json!("2026-12-06T10:00:00Z"))] {
            let err = check_laptop_write("workshop_jobs", "j1", &map(json!({ field: value })), Some(&receipt)).unwrap_err();
            assert!(err.contains(field) && err.contains("office"), "{field}: {err}");
        }
        let changed = map(json!({"condition": "broken after all"}));
        assert!(check_laptop_write("workshop_jobs", "j1", &changed, Some(&receipt)).is_err(), "the receipt never changes once written");
        let returned = map(json!({"returned_at": "2026-12-06T11:00:00Z", "return_signer": "王经理", "receipt_voided_at": "2026-12-06T11:00:00Z"}));
        assert!(check_laptop_write("workshop_jobs", "j1", &returned, Some(&receipt)).is_ok(), "the return is the technician's");
        let no_signer = map(json!({"work_order_id": "wo", "repair_record_id": "r1", "receipt_number": "SJ-1", "unit": "GST200", "condition": "ok",
            "received_at": "2026-12-06T08:00:00Z", "received_by": "li.wei"}));
        assert!(check_laptop_write("workshop_jobs", "j2", &no_signer, None).unwrap_err().contains("receipt_signer"));
    }

    /// docs/sync.md shows the policy as it is in the code.
    #[test]
    fn the_documented_policy_table_is_the_policy() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/sync.md")).unwrap();
        let table = markdown_table();
        assert!(doc.contains(&table), "docs/sync.md's \"Who may write what\" table is out of date; replace it with:\n\n{table}");
    }

    /// The size check never lets a value through that is larger than its limit.
    #[test]
    fn the_json_size_check_never_counts_less_than_the_text() {
        for v in [json!(null), json!([1, 2.5, "a\"b"]), json!({"k": ["中文", {"x": true}]}), json!("\u{1}tab\t"), json!(-12345678901_i64)] {
            let n = v.to_string().len();
            assert!(!json_len_within(&v, n - 1), "{v} passed a limit of {} bytes", n - 1);
            assert!(json_len_within(&v, n * 8), "{v}");
        }
    }

    #[test]
    fn clipping_never_splits_a_character() {
        let s = "中".repeat(100);
        assert_eq!(clip(&s).chars().count(), 81);
    }
}
