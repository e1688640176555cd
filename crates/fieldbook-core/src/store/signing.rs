//! Taking the customer's signature on a completed work order, and verifying signatures later.
//!
//! Signing snapshots the order, its answers and repair records as canonical JSON, stores the
//! digest and this laptop's Ed25519 signature over it, and locks the order (status `signed`).
//! Verification re-checks the digest and device signature of every revision and compares the
//! current revision's snapshot with the records as they are now in the database.

use rusqlite::Row;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{parse_ts, ts, Store};
use crate::error::{Error, FieldProblem, Result};
use crate::model::{Signature, Status, Stroke, WorkOrder};
use crate::signature::{canonical_json, sha256_hex, sign_digest, verify_digest};
use crate::signed_record::{records_content, signer_block, OrderRecords, Record, SignedContent, SignerRow};


/// What the customer gives when signing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignRequest {
    pub signer_name: String,
    #[serde(default)]
    pub signer_title: Option<String>,
    pub strokes: Vec<Stroke>,
}

/// The check of one signature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignatureCheck {
    pub revision: i64,
    pub signer_name: String,
    pub signed_at: String,
    pub device_id: String,
    pub device_public_key: String,
    /// SHA-256 of the stored snapshot equals the stored digest.
    pub digest_ok: bool,
    /// The device's Ed25519 signature over the digest is valid.
    pub device_signature_ok: bool,
    /// The signed content names this order and this revision, and the row's signer (name,
    /// title, time, strokes) is the one in the signed content.
    pub signer_ok: bool,
    /// For the signature of the order's current, signed revision: the records in the database
    /// still equal the snapshot. `None` for superseded revisions.
    pub records_match: Option<bool>,
    /// Where the records differ from what was signed.
    pub changed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub order: String,
    pub revision: i64,
    pub status: Status,
    /// True only when the order is signed and every check passes.
    pub intact: bool,
    pub signatures: Vec<SignatureCheck>,
    /// Every failed check, in words.
    pub problems: Vec<String>,
}

fn signature_row(r: &Row<'_>) -> rusqlite::Result<Signature> {
    let strokes: String = r.get(6)?;
    Ok(Signature {
        id: r.get(0)?,
        work_order_id: r.get(1)?,
        revision: r.get(2)?,
        signer_name: r.get(3)?,
        signer_title: r.get(4)?,
        signed_at: parse_ts(&r.get::<_, String>(5)?)?,
        strokes: serde_json::from_str(&strokes).map_err(|e| rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, Box::new(e)))?,
        signed_content: r.get(7)?,
        digest: r.get(8)?,
        device_id: r.get(9)?,
        device_public_key: r.get(10)?,
        device_signature: r.get(11)?,
    })
}

impl Store {
    pub(crate) fn signatures_of(&self, order_id: &str) -> Result<Vec<Signature>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, work_order_id, revision, signer_name, signer_title, signed_at, strokes, signed_content, digest,
                    device_id, device_public_key, device_signature
             FROM signatures WHERE work_order_id = ?1 AND deleted = 0 ORDER BY revision",
        )?;
        let rows = stmt.query_map([order_id], signature_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The technician's records of an order as they are now, in signed-content form: the
    /// comparable content built by [`signed_record::records_content`] (the same function the
    /// server checks with), plus the names of customer, site and assets the customer is shown.
    fn records_snapshot(&mut self, order: &WorkOrder) -> Result<Value> {
        let assets = self.order_assets(order)?;
        let (customer_code, customer_name): (String, String) =
            self.conn.query_row("SELECT code, name FROM customers WHERE id = ?1", [&order.customer_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let (site_code, site_name, address): (String, String, String) =
            self.conn.query_row("SELECT code, name, address FROM sites WHERE id = ?1", [&order.site_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        let template = match &order.template_id {
            Some(id) => Some(self.template(id)?),
            None => None,
        };
        let order_fields = fields(json!({
            "number": order.number, "kind": order.kind, "revision": order.revision, "category": order.category, "problem": order.problem,
            "technician": order.technician, "template_id": order.template_id, "reported_at": ts(order.reported_at),
            "arrived_at": order.arrived_at.map(ts), "completed_at": order.completed_at.map(ts),
        }));
        let answers: Vec<(String, Map<String, Value>)> = self
            .answers_of(&order.id)?
            .into_iter()
            .map(|a| (String::new(), fields(json!({"item_key": a.item_key, "asset_id": a.asset_id, "value": a.value, "note": a.note}))))
            .collect();
        let repairs: Vec<(String, Map<String, Value>)> = self
            .repairs_of(&order.id)?
            .into_iter()
            .map(|r| {
                let f = fields(json!({
                    "asset_id": r.asset_id, "fault": r.fault, "cause": r.cause, "action": r.action, "parts": r.parts,
                    "labour_minutes": r.labour_minutes, "category": r.category, "fee_cents": r.fee_cents, "fee_collected": r.fee_collected,
                    "taken_to_workshop": r.taken_to_workshop, "receipt_number": r.receipt_number, "recorded_at": ts(r.recorded_at),
                }));
                (r.id, f)
            })
            .collect();
        let records = OrderRecords {
            order: Record { id: &order.id, fields: &order_fields },
            answers: answers.iter().map(|(id, fields)| Record { id, fields }).collect(),
            repairs: repairs.iter().map(|(id, fields)| Record { id, fields }).collect(),
            template: template.as_deref().map(|t| (t.code.as_str(), t.version)),
        };
        let mut content = records_content(&records);
        // Names as the customer saw them; reference data may be renamed later, so these are not
        // compared with the live database.
        let w = &mut content["work_order"];
        w["customer"] = json!({"code": customer_code, "name": customer_name});
        w["site"] = json!({"code": site_code, "name": site_name, "address": address});
        w["assets"] = assets.iter().map(|a| json!({"id": a.id, "code": a.code, "name": a.name, "serial": a.serial})).collect();
        Ok(content)
    }

    /// Takes the customer's signature on a completed order and locks it.
    pub fn sign(&mut self, key: &str, req: &SignRequest) -> Result<Signature> {
        let order = self.find_order(key)?;
        let record = format!("work order {}", order.number);
        if order.status != Status::Completed {
            return Err(Error::Transition {
                order: order.number.clone(),
                from: order.status.to_string(),
                to: "signed".into(),
                hint: if order.status == Status::Signed {
                    "; it is already signed".into()
                } else {
                    format!("; complete it first (`fieldbook complete {}`), then the customer signs", order.number)
                },
            });
        }
        let mut problems = Vec::new();
        if req.signer_name.trim().is_empty() {
            problems.push(FieldProblem::new(&record, "signer", "the signer's name is required"));
        }
        let points: usize = req.strokes.iter().map(Vec::len).sum();
        if points < 2 {
            problems.push(FieldProblem::new(&record, "strokes", "the signature is empty: the customer must sign on the pad"));
        }
        if req.strokes.iter().flatten().any(|p| !p.x.is_finite() || !p.y.is_finite()) {
            problems.push(FieldProblem::new(&record, "strokes", "a stroke point is not a finite number"));
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let signed_at = self.now();
        let strokes_json = serde_json::to_value(&req.strokes).expect("strokes serialize");
        let mut content = self.records_snapshot(&order)?;
        content["signer"] = signer_block(req.signer_name.trim(), req.signer_title.as_deref(), &ts(signed_at), &strokes_json);
        let signed_content = canonical_json(&content);
        let digest = sha256_hex(signed_content.as_bytes());
        let device_signature = sign_digest(self.device.signing_key(), &digest);
        let signature = Signature {
            id: uuid::Uuid::now_v7().to_string(),
            work_order_id: order.id.clone(),
            revision: order.revision,
            signer_name: req.signer_name.trim().to_owned(),
            signer_title: req.signer_title.clone(),
            signed_at,
            strokes: req.strokes.clone(),
            signed_content,
            digest,
            device_id: self.device.id.clone(),
            device_public_key: self.device.public_key_hex(),
            device_signature,
        };
        self.write(|tx| {
            tx.put("signatures", &signature.id, &[
                ("work_order_id", json!(signature.work_order_id)), ("revision", json!(signature.revision)),
                ("signer_name", json!(signature.signer_name)), ("signer_title", json!(signature.signer_title)),
                ("signed_at", json!(ts(signature.signed_at))), ("strokes", strokes_json.clone()),
                ("signed_content", json!(signature.signed_content)), ("digest", json!(signature.digest)),
                ("device_id", json!(signature.device_id)), ("device_public_key", json!(signature.device_public_key)),
                ("device_signature", json!(signature.device_signature)), ("deleted", json!(false)),
            ])?;
            tx.put("work_orders", &order.id, &[("status", json!(Status::Signed))])
        })?;
        Ok(signature)
    }

    /// Checks every signature of an order. `intact` is true only when the order is signed, each
    /// digest and device signature is valid, and the records still equal what was signed.
    pub fn verify(&mut self, key: &str) -> Result<Verification> {
        let order = self.find_order(key)?;
        let signatures = self.signatures_of(&order.id)?;
        let mut problems = Vec::new();
        let mut checks = Vec::new();
        let live = self.records_snapshot(&order)?;
        for s in &signatures {
            let digest_ok = sha256_hex(s.signed_content.as_bytes()) == s.digest;
            if !digest_ok {
                problems.push(format!("revision {}: the signed snapshot does not match its digest (edited after signing)", s.revision));
            }
            let device_signature_ok = match verify_digest(&s.device_public_key, &s.digest, &s.device_signature) {
                Ok(()) => true,
                Err(e) => {
                    problems.push(format!("revision {}: {e}", s.revision));
                    false
                }
            };
            let content = SignedContent::parse(&s.signed_content);
            // The row must be tied to what was signed: the content names this order and the
            // row's revision, and the signer the row shows (which the order detail, the report
            // and the console print) is the one in the signed block (finding 12 of issue 10: a
            // row whose signer was changed to someone else otherwise still verified).
            let strokes = serde_json::to_value(&s.strokes).expect("strokes serialize");
            let signed_at = ts(s.signed_at);
            let row = SignerRow { name: Some(&s.signer_name), title: s.signer_title.as_deref(), signed_at: Some(&signed_at), strokes: &strokes };
            let row_problems = match &content {
                Some(c) => c.row_problems(&order.id, s.revision, &row),
                None => vec!["the signed content is not a JSON document".to_owned()],
            };
            let signer_ok = row_problems.is_empty();
            problems.extend(row_problems.into_iter().map(|p| format!("revision {}: {p}", s.revision)));
            let (records_match, changed) = if s.revision == order.revision && order.status == Status::Signed {
                let changed = match &content {
                    Some(c) => c.changes(&live),
                    None => vec!["(signed content)".to_owned()],
                };
                if !changed.is_empty() {
                    problems.push(format!("revision {}: records changed after signing: {}", s.revision, changed.join(", ")));
                }
                (Some(changed.is_empty()), changed)
            } else {
                (None, Vec::new())
            };
            checks.push(SignatureCheck {
                revision: s.revision,
                signer_name: s.signer_name.clone(),
                signed_at: ts(s.signed_at),
                device_id: s.device_id.clone(),
                device_public_key: s.device_public_key.clone(),
                digest_ok,
                device_signature_ok,
                signer_ok,
                records_match,
                changed,
            });
        }
        if order.status == Status::Signed && !signatures.iter().any(|s| s.revision == order.revision) {
            problems.push(format!("revision {} is marked signed but has no signature", order.revision));
        }
        if order.status != Status::Signed {
            problems.push(match signatures.last() {
                Some(s) => format!("revision {} is not signed yet (revision {} was signed and is kept)", order.revision, s.revision),
                None => format!("the order is not signed (status {})", order.status),
            });
        }
        Ok(Verification { order: order.number, revision: order.revision, status: order.status, intact: problems.is_empty(), signatures: checks, problems })
    }
}

/// A JSON object's fields (the snapshot's inputs are built as `json!` objects).
fn fields(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("built as an object"),
    }
}
