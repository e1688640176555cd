//! Taking the customer's signature on a completed work order, and verifying signatures later.
//!
//! Signing snapshots the order, its answers and repair records as canonical JSON, stores the
//! digest and this laptop's Ed25519 signature over it, and locks the order (status `signed`).
//! Verification re-checks the digest and device signature of every revision and compares the
//! current revision's snapshot with the records as they are now in the database.

use rusqlite::Row;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{parse_ts, ts, Store};
use crate::error::{Error, FieldProblem, Result};
use crate::model::{Signature, Status, Stroke, WorkOrder};
use crate::signature::{canonical_json, differences, sha256_hex, sign_digest, verify_digest};

pub const SIGNED_FORMAT: &str = "fieldbook-signed-record/1";

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

    /// The technician's records of an order as they are now, in signed-content form.
    fn records_snapshot(&mut self, order: &WorkOrder) -> Result<Value> {
        let assets = self.order_assets(order)?;
        let (customer_code, customer_name): (String, String) =
            self.conn.query_row("SELECT code, name FROM customers WHERE id = ?1", [&order.customer_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let (site_code, site_name, address): (String, String, String) =
            self.conn.query_row("SELECT code, name, address FROM sites WHERE id = ?1", [&order.site_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        let template = match &order.template_id {
            Some(id) => {
                let t = self.template(id)?;
                json!({"code": t.code, "version": t.version})
            }
            None => Value::Null,
        };
        let answers: Vec<Value> = self
            .answers_of(&order.id)?
            .into_iter()
            .map(|a| json!({"item": a.item_key, "asset_id": a.asset_id, "value": a.value, "note": a.note}))
            .collect();
        let repairs: Vec<Value> = self
            .repairs_of(&order.id)?
            .into_iter()
            .map(|r| {
                json!({
                    "id": r.id, "asset_id": r.asset_id, "fault": r.fault, "cause": r.cause, "action": r.action, "parts": r.parts,
                    "labour_minutes": r.labour_minutes, "category": r.category, "fee_cents": r.fee_cents, "fee_collected": r.fee_collected,
                    "taken_to_workshop": r.taken_to_workshop, "receipt_number": r.receipt_number,
                })
            })
            .collect();
        Ok(json!({
            "format": SIGNED_FORMAT,
            "work_order": {
                "id": order.id, "number": order.number, "kind": order.kind, "revision": order.revision, "category": order.category,
                "problem": order.problem, "technician": order.technician, "template": template,
                "reported_at": ts(order.reported_at), "arrived_at": order.arrived_at.map(ts), "completed_at": order.completed_at.map(ts),
                // Names as the customer saw them; reference data may be renamed later, so these
                // are not compared with the live database.
                "customer": {"code": customer_code, "name": customer_name},
                "site": {"code": site_code, "name": site_name, "address": address},
                "assets": assets.iter().map(|a| json!({"id": a.id, "code": a.code, "name": a.name, "serial": a.serial})).collect::<Vec<_>>(),
            },
            "answers": answers,
            "repair_records": repairs,
        }))
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
        content["signer"] = json!({
            "name": req.signer_name.trim(), "title": req.signer_title, "signed_at": ts(signed_at),
            "strokes_sha256": sha256_hex(canonical_json(&strokes_json).as_bytes()),
        });
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
            let (records_match, changed) = if s.revision == order.revision && order.status == Status::Signed {
                let signed: Value = serde_json::from_str(&s.signed_content).unwrap_or(Value::Null);
                let mut changed = differences(&strip_for_compare(&signed), &strip_for_compare(&live));
                changed.retain(|p| !p.is_empty());
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

/// The parts of a snapshot compared with the live records: everything but the signer block and
/// the reference-data names the customer was shown.
fn strip_for_compare(v: &Value) -> Value {
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
