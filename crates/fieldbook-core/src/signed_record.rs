//! What a customer's signature covers, built from plain records, and how a signature is checked
//! against the records as they are now.
//!
//! The laptop builds the signed content from its SQLite store when the customer signs
//! (`store::signing`); the server checks a pushed "signed" status and the office console
//! re-verifies signatures from its own copy of the records. All three build the comparable
//! content here, from the same field maps a sync change carries (`entity.rs` names), so that the
//! laptop and the server can never disagree about whether a signed order still matches what the
//! customer signed. Nothing here does I/O.
//!
//! The signed content (`fieldbook-signed-record/1`) is:
//!
//! ```text
//! { format, work_order: {id, number, kind, revision, category, problem, technician, template,
//!                        reported_at, arrived_at, completed_at, customer, site, assets},
//!   answers: [{item, asset_id, value, note}], repair_records: [{id, asset_id, fault, …}],
//!   signer: {name, title, signed_at, strokes_sha256} }
//! ```
//!
//! `customer`, `site` and `assets` are the names the customer was shown; reference data may be
//! renamed later, so they are not compared with the live records (nor is the signer block, which
//! is checked against the signature row instead).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use crate::model::PartUsed;
use crate::signature::{canonical_json, differences, sha256_hex};

pub const SIGNED_FORMAT: &str = "fieldbook-signed-record/1";

/// One synced record: its id and its fields, as a sync change carries them.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub id: &'a str,
    pub fields: &'a Map<String, Value>,
}

/// The records of one order that a signature covers. Answers and repair records may come in any
/// order and may include tombstones (`deleted: true`), which are left out.
#[derive(Debug, Clone)]
pub struct OrderRecords<'a> {
    pub order: Record<'a>,
    pub answers: Vec<Record<'a>>,
    pub repairs: Vec<Record<'a>>,
    /// The order's checklist template as `(code, version)`; `None` when it has none (or the
    /// template cannot be found, which then shows as a difference).
    pub template: Option<(&'a str, i64)>,
}

fn get<'a>(f: &'a Map<String, Value>, k: &str) -> &'a Value {
    f.get(k).unwrap_or(&Value::Null)
}

/// A field, or `default` when absent or null: the laptop's schema gives these columns defaults,
/// so a record that never carried the field reads as the default there.
fn or(f: &Map<String, Value>, k: &str, default: Value) -> Value {
    match f.get(k) {
        None | Some(Value::Null) => default,
        Some(v) => v.clone(),
    }
}

/// A timestamp in the one form the laptop writes (RFC 3339, milliseconds, `Z`): the laptop reads
/// timestamps into `DateTime<Utc>` and prints them this way, so the server must too. Text that is
/// not a timestamp is kept as it is (and then differs from anything a laptop signed).
pub fn normalise_ts(v: &Value) -> Value {
    match v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()) {
        Some(t) => Value::String(t.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Millis, true)),
        None => v.clone(),
    }
}

/// Parts as the laptop reads them (`Vec<PartUsed>`: empty serial lists left out, a missing
/// `faulty_returned` false).
fn parts(v: &Value) -> Value {
    match v {
        Value::Null => json!([]),
        v => serde_json::from_value::<Vec<PartUsed>>(v.clone()).map(|p| serde_json::to_value(p).expect("parts serialise")).unwrap_or_else(|_| v.clone()),
    }
}

fn deleted(r: &Record<'_>) -> bool {
    r.fields.get("deleted") == Some(&Value::Bool(true))
}

/// The signed content of an order's records without the signer block and without the
/// reference-data names (`customer`, `site`, `assets`), which the laptop adds when signing.
pub fn records_content(r: &OrderRecords<'_>) -> Value {
    let o = r.order.fields;
    let template = match r.template {
        Some((code, version)) => json!({"code": code, "version": version}),
        None => Value::Null,
    };
    // The laptop lists answers by (item_key, asset_id) and repairs by (recorded_at, id), as
    // SQLite orders text (bytewise, which is how Rust orders strings). Times are compared in
    // the laptop's one form, which is how its own rows hold them, so that a server copy written
    // in another RFC 3339 form sorts the same.
    let mut answers: Vec<&Record<'_>> = r.answers.iter().filter(|a| !deleted(a)).collect();
    let key = |a: &Record<'_>| (get(a.fields, "item_key").as_str().unwrap_or_default().to_owned(), get(a.fields, "asset_id").as_str().unwrap_or_default().to_owned());
    answers.sort_by_cached_key(|a| key(a));
    let mut repairs: Vec<&Record<'_>> = r.repairs.iter().filter(|a| !deleted(a)).collect();
    repairs.sort_by_cached_key(|x| (normalise_ts(get(x.fields, "recorded_at")).as_str().unwrap_or_default().to_owned(), x.id.to_owned()));
    json!({
        "format": SIGNED_FORMAT,
        "work_order": {
            "id": r.order.id, "number": get(o, "number"), "kind": get(o, "kind"), "revision": or(o, "revision", json!(1)),
            "category": get(o, "category"), "problem": get(o, "problem"), "technician": get(o, "technician"), "template": template,
            "reported_at": normalise_ts(get(o, "reported_at")), "arrived_at": normalise_ts(get(o, "arrived_at")),
            "completed_at": normalise_ts(get(o, "completed_at")),
        },
        "answers": answers.iter().map(|a| {
            let f = a.fields;
            json!({"item": get(f, "item_key"), "asset_id": or(f, "asset_id", json!("")), "value": get(f, "value"), "note": get(f, "note")})
        }).collect::<Vec<_>>(),
        "repair_records": repairs.iter().map(|x| {
            let f = x.fields;
            json!({
                "id": x.id, "asset_id": get(f, "asset_id"), "fault": get(f, "fault"), "cause": get(f, "cause"), "action": get(f, "action"),
                "parts": parts(get(f, "parts")), "labour_minutes": get(f, "labour_minutes"), "category": get(f, "category"),
                "fee_cents": or(f, "fee_cents", json!(0)), "fee_collected": or(f, "fee_collected", json!(false)),
                "taken_to_workshop": or(f, "taken_to_workshop", json!(false)), "receipt_number": get(f, "receipt_number"),
            })
        }).collect::<Vec<_>>(),
    })
}

/// The parts of a signed content compared with the live records: everything but the signer block
/// and the reference-data names the customer was shown.
pub fn comparable(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("signer");
    }
    if let Some(w) = v.get_mut("work_order").and_then(Value::as_object_mut) {
        for k in ["customer", "site", "assets"] {
            w.remove(k);
        }
    }
    v
}

/// A stored signed content, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedContent(pub Value);

impl SignedContent {
    /// `None` when the text is not a JSON object (then nothing in it can be trusted).
    pub fn parse(text: &str) -> Option<SignedContent> {
        serde_json::from_str::<Value>(text).ok().filter(Value::is_object).map(SignedContent)
    }

    /// The order the content is of.
    pub fn order_id(&self) -> Option<&str> {
        self.0.pointer("/work_order/id").and_then(Value::as_str)
    }

    /// The order's revision the content is of.
    pub fn revision(&self) -> Option<i64> {
        self.0.pointer("/work_order/revision").and_then(Value::as_i64)
    }

    /// The order's number, for messages.
    pub fn number(&self) -> Option<&str> {
        self.0.pointer("/work_order/number").and_then(Value::as_str)
    }

    /// Where the live records (as [`records_content`] builds them, with or without the names)
    /// differ from what was signed: paths such as `repair_records[0].action`. Empty when they
    /// are the same.
    pub fn changes(&self, live: &Value) -> Vec<String> {
        let mut changed = differences(&comparable(&self.0), &comparable(live));
        changed.retain(|p| !p.is_empty());
        changed
    }

    /// Where a signature row shows another signer than the one signed: the row's name, title
    /// and time must equal the signer block, and its strokes must hash to `strokes_sha256`.
    /// Answers the row's field names that differ.
    pub fn signer_differences(&self, row: &SignerRow<'_>) -> Vec<&'static str> {
        let signer = self.0.get("signer").unwrap_or(&Value::Null);
        let block = |k: &str| signer.get(k).unwrap_or(&Value::Null);
        let text = |v: Option<&str>| v.map_or(Value::Null, |s| Value::String(s.to_owned()));
        let mut out = Vec::new();
        if block("name").as_str().is_none() || *block("name") != text(row.name) {
            out.push("signer_name");
        }
        if *block("title") != text(row.title) {
            out.push("signer_title");
        }
        if block("signed_at").as_str().is_none() || normalise_ts(block("signed_at")) != normalise_ts(&text(row.signed_at)) {
            out.push("signed_at");
        }
        if block("strokes_sha256").as_str() != Some(strokes_sha256(row.strokes).as_str()) {
            out.push("strokes");
        }
        out
    }

    /// Everything that ties a signature row to its order, in words: the content names this
    /// order and the row's revision, and the row's signer is the one signed. Empty when all holds.
    /// (The digest and the device signature are checked by the caller, who knows the keys.)
    pub fn row_problems(&self, order_id: &str, revision: i64, row: &SignerRow<'_>) -> Vec<String> {
        let mut out = Vec::new();
        if self.0.get("format").and_then(Value::as_str) != Some(SIGNED_FORMAT) {
            out.push(format!("the signed content is not a {SIGNED_FORMAT} document"));
        }
        if self.order_id() != Some(order_id) {
            let of = self.number().or(self.order_id()).unwrap_or("no work order");
            out.push(format!("the signed content is of {of}, not of this work order"));
        }
        if self.revision() != Some(revision) {
            let of = self.revision().map_or("no revision".to_owned(), |r| format!("revision {r}"));
            out.push(format!("the signed content is of {of}, but the signature is filed as revision {revision}"));
        }
        let signer = self.signer_differences(row);
        if !signer.is_empty() {
            let signed = self.0.pointer("/signer/name").and_then(Value::as_str).unwrap_or("?");
            out.push(format!(
                "the signature row's {} differ from what was signed (signed by {signed}, shown as {})",
                signer.join(", "),
                row.name.unwrap_or("nobody")
            ));
        }
        out
    }
}

/// The signer as a signature row shows it.
#[derive(Debug, Clone, Copy)]
pub struct SignerRow<'a> {
    pub name: Option<&'a str>,
    pub title: Option<&'a str>,
    pub signed_at: Option<&'a str>,
    /// The pen strokes as JSON (`[[{x, y, t}, …], …]`).
    pub strokes: &'a Value,
}

impl<'a> SignerRow<'a> {
    /// From a signature record's fields.
    pub fn of(fields: &'a Map<String, Value>) -> SignerRow<'a> {
        let text = |k: &str| fields.get(k).and_then(Value::as_str);
        SignerRow { name: text("signer_name"), title: text("signer_title"), signed_at: text("signed_at"), strokes: get(fields, "strokes") }
    }
}

/// The hash of the pen strokes that the signer block carries.
pub fn strokes_sha256(strokes: &Value) -> String {
    sha256_hex(canonical_json(strokes).as_bytes())
}

/// The signer block of a signed content.
pub fn signer_block(name: &str, title: Option<&str>, signed_at: &str, strokes: &Value) -> Value {
    json!({"name": name, "title": title, "signed_at": signed_at, "strokes_sha256": strokes_sha256(strokes)})
}

/// Where the records as they are now differ from a stored signed content. An unreadable content
/// is one difference, `(signed content)`.
pub fn changes_since_signing(signed_content: &str, live: &OrderRecords<'_>) -> Vec<String> {
    match SignedContent::parse(signed_content) {
        Some(c) => c.changes(&records_content(live)),
        None => vec!["(signed content)".to_owned()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn order() -> Map<String, Value> {
        map(json!({
            "number": "WO-1", "kind": "repair_call", "revision": 2, "category": "A", "problem": "leak", "technician": "li.wei",
            "template_id": null, "reported_at": "2026-03-02T09:10:00+08:00", "arrived_at": "2026-03-02T03:00:00.000Z", "completed_at": null,
            "status": "completed", "priority": "high", "scheduled_on": "2026-03-02",
        }))
    }

    #[test]
    fn content_is_built_as_the_laptop_reads_its_records() {
        let o = order();
        let a1 = map(json!({"item_key": "b", "asset_id": "x", "value": "pass", "note": null, "answered_at": "…"}));
        let a2 = map(json!({"item_key": "a", "value": 1.5}));
        let gone = map(json!({"item_key": "c", "value": 1, "deleted": true}));
        let r1 = map(json!({"fault": "f", "cause": "c", "action": "a", "parts": [{"sku": "S", "quantity": 1}], "labour_minutes": 5, "category": "A", "recorded_at": "2026-03-02T04:00:00.000Z"}));
        // Recorded first, written in another RFC 3339 form (which sorts after r1 as text).
        let r0 = map(json!({"fault": "g", "cause": "c", "action": "a", "labour_minutes": 5, "category": "A", "fee_cents": 100, "recorded_at": "2026-03-02T11:00:00+08:00"}));
        let recs = OrderRecords {
            order: Record { id: "o1", fields: &o },
            answers: vec![Record { id: "1", fields: &a1 }, Record { id: "2", fields: &a2 }, Record { id: "3", fields: &gone }],
            repairs: vec![Record { id: "r1", fields: &r1 }, Record { id: "r0", fields: &r0 }],
            template: None,
        };
        let c = records_content(&recs);
        assert_eq!(c["work_order"]["reported_at"], "2026-03-02T01:10:00.000Z", "timestamps in the laptop's one form");
        assert_eq!(c["work_order"]["revision"], 2);
        assert!(c["work_order"].get("status").is_none() && c["work_order"].get("priority").is_none(), "only the signed fields");
        assert_eq!(c["answers"], json!([{"item": "a", "asset_id": "", "value": 1.5, "note": null}, {"item": "b", "asset_id": "x", "value": "pass", "note": null}]));
        assert_eq!(c["repair_records"][0]["id"], "r0", "in the order they were recorded");
        assert_eq!(c["repair_records"][0]["parts"], json!([]));
        assert_eq!(c["repair_records"][1]["parts"], json!([{"sku": "S", "quantity": 1, "faulty_returned": false}]));
        assert_eq!((c["repair_records"][1]["fee_cents"].clone(), c["repair_records"][1]["fee_collected"].clone()), (json!(0), json!(false)));
    }

    #[test]
    fn changes_name_what_differs_and_ignore_names_and_signer() {
        let o = order();
        let a = map(json!({"item_key": "a", "asset_id": "", "value": "pass"}));
        let recs = OrderRecords { order: Record { id: "o1", fields: &o }, answers: vec![Record { id: "1", fields: &a }], repairs: vec![], template: Some(("T", 3)) };
        let mut signed = records_content(&recs);
        signed["work_order"]["customer"] = json!({"code": "C", "name": "old name"});
        signed["signer"] = signer_block("王", None, "2026-03-02T03:00:00.000Z", &json!([]));
        let text = canonical_json(&signed);
        assert!(changes_since_signing(&text, &recs).is_empty());

        let mut o2 = o.clone();
        o2.insert("problem".into(), json!("rewritten"));
        o2.insert("revision".into(), json!(3));
        let a2 = map(json!({"item_key": "a", "asset_id": "", "value": "fail"}));
        let now = OrderRecords { order: Record { id: "o1", fields: &o2 }, answers: vec![Record { id: "1", fields: &a2 }], repairs: vec![], template: Some(("T", 3)) };
        assert_eq!(changes_since_signing(&text, &now), ["answers[0].value", "work_order.problem", "work_order.revision"]);
        assert_eq!(changes_since_signing("not json", &now), ["(signed content)"]);
    }

    #[test]
    fn a_signature_row_must_show_the_signer_signed_and_name_its_order() {
        let strokes = json!([[{"x": 1.0, "y": 2.0, "t": 0}]]);
        let content = json!({"format": SIGNED_FORMAT, "work_order": {"id": "o1", "number": "WO-1", "revision": 2},
            "signer": signer_block("陈经理", Some("经理"), "2026-03-02T03:00:00.000Z", &strokes)});
        let c = SignedContent::parse(&canonical_json(&content)).unwrap();
        let honest = SignerRow { name: Some("陈经理"), title: Some("经理"), signed_at: Some("2026-03-02T11:00:00+08:00"), strokes: &strokes };
        assert!(c.row_problems("o1", 2, &honest).is_empty());
        let mallory = SignerRow { name: Some("Mallory"), ..honest };
        assert_eq!(c.signer_differences(&mallory), ["signer_name"]);
        assert!(c.row_problems("o1", 2, &mallory)[0].contains("shown as Mallory"));
        let other_strokes = json!([[{"x": 9.0, "y": 2.0, "t": 0}]]);
        let redrawn = SignerRow { title: None, signed_at: Some("2026-03-03T03:00:00.000Z"), strokes: &other_strokes, ..honest };
        assert_eq!(c.signer_differences(&redrawn), ["signer_title", "signed_at", "strokes"]);
        let p = c.row_problems("o2", 3, &honest);
        assert!(p[0].contains("of WO-1, not of this work order") && p[1].contains("of revision 2, but the signature is filed as revision 3"), "{p:?}");
        assert_eq!(SignedContent::parse("[]"), None);
    }
}
