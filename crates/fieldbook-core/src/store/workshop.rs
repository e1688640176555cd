//! The technician's side of the workshop loop (`crate::workshop`): the receipt written when a
//! unit is taken from the customer, the jobs of an order with the office's steps as last pulled,
//! and the return the customer signs for, which voids the receipt. Steps out of order are refused
//! here as the server would refuse them.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::Store;
use crate::entity;
use crate::error::{Error, FieldProblem, Result};
use crate::model::Stroke;
use crate::workshop::{self, Stage, Step};

/// A part the workshop used, as the repair card lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkshopPart {
    /// The part in the parts list, when it is one of them.
    #[serde(default)]
    pub part_id: Option<String>,
    pub name: String,
    pub quantity: u32,
}

/// One unit in the workshop loop, every step as far as this laptop knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkshopJob {
    pub id: String,
    pub work_order_id: String,
    pub repair_record_id: String,
    pub stage: Stage,
    pub receipt_number: String,
    pub unit: String,
    pub serial: Option<String>,
    pub condition: String,
    pub accessories: Option<String>,
    pub received_at: String,
    pub received_by: String,
    pub receipt_signer: String,
    pub goods_in_at: Option<String>,
    pub goods_in_by: Option<String>,
    pub repair_minutes: Option<i64>,
    pub repair_parts: Vec<WorkshopPart>,
    pub repair_done: Option<String>,
    pub repaired_by: Option<String>,
    pub repaired_at: Option<String>,
    pub check_result: Option<String>,
    pub check_note: Option<String>,
    pub checked_by: Option<String>,
    pub checked_at: Option<String>,
    pub goods_out_at: Option<String>,
    pub goods_out_by: Option<String>,
    pub returned_at: Option<String>,
    pub return_signer: Option<String>,
    pub receipt_voided_at: Option<String>,
}

impl WorkshopJob {
    /// From the record's fields (as a laptop stores them, or as the server holds them).
    pub fn from_fields(id: &str, f: &Map<String, Value>) -> WorkshopJob {
        let t = |k: &str| f.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        WorkshopJob {
            id: id.to_owned(),
            work_order_id: t("work_order_id").unwrap_or_default(),
            repair_record_id: t("repair_record_id").unwrap_or_default(),
            stage: workshop::stage(f),
            receipt_number: t("receipt_number").unwrap_or_default(),
            unit: t("unit").unwrap_or_default(),
            serial: t("serial"),
            condition: t("condition").unwrap_or_default(),
            accessories: t("accessories"),
            received_at: t("received_at").unwrap_or_default(),
            received_by: t("received_by").unwrap_or_default(),
            receipt_signer: t("receipt_signer").unwrap_or_default(),
            goods_in_at: t("goods_in_at"),
            goods_in_by: t("goods_in_by"),
            repair_minutes: f.get("repair_minutes").and_then(Value::as_i64),
            // The office's list, written by the console's checked form; anything else shows as none.
            repair_parts: f.get("repair_parts").and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default(),
            repair_done: t("repair_done"),
            repaired_by: t("repaired_by"),
            repaired_at: t("repaired_at"),
            check_result: t("check_result"),
            check_note: t("check_note"),
            checked_by: t("checked_by"),
            checked_at: t("checked_at"),
            goods_out_at: t("goods_out_at"),
            goods_out_by: t("goods_out_by"),
            returned_at: t("returned_at"),
            return_signer: t("return_signer"),
            receipt_voided_at: t("receipt_voided_at"),
        }
    }
}

/// What the technician records when taking a unit from the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReceipt {
    /// The repair record that took the unit to the workshop.
    pub repair_record_id: String,
    /// The receipt's number; the repair record's when it has one.
    #[serde(default)]
    pub receipt_number: Option<String>,
    pub unit: String,
    #[serde(default)]
    pub serial: Option<String>,
    pub condition: String,
    #[serde(default)]
    pub accessories: Option<String>,
    /// Who handed the unit over and acknowledged the receipt.
    pub signer_name: String,
    /// Their signature on the pad, when taken (the paper receipt may carry it instead).
    #[serde(default)]
    pub strokes: Vec<Stroke>,
}

/// The customer signs for the unit on return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnSignature {
    pub signer_name: String,
    pub strokes: Vec<Stroke>,
}

const SHORT: usize = 200;
const LONG: usize = 4_000;

fn clean(v: Option<&str>) -> Option<String> {
    v.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl Store {
    fn job_fields(&self, id: &str) -> Result<Option<Map<String, Value>>> {
        let spec = entity::spec("workshop_jobs").expect("workshop_jobs is an entity");
        let cols: Vec<&str> = spec.fields.iter().map(|(n, _)| *n).collect();
        let sql = format!("SELECT {} FROM workshop_jobs WHERE id = ?1", cols.join(", "));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([id])?;
        let Some(r) = rows.next()? else { return Ok(None) };
        let mut m = Map::new();
        for (i, (name, ty)) in spec.fields.iter().enumerate() {
            m.insert((*name).to_owned(), entity::from_sql(*ty, r.get_ref(i)?));
        }
        Ok(Some(m))
    }

    /// One workshop job by id.
    pub fn workshop_job(&self, id: &str) -> Result<WorkshopJob> {
        match self.job_fields(id)? {
            Some(f) if f.get("deleted") != Some(&Value::Bool(true)) => Ok(WorkshopJob::from_fields(id, &f)),
            _ => Err(Error::NotFound { entity: "workshop job", key: id.to_owned(), hint: " (list an order's with `fieldbook workshop show ORDER`)" }),
        }
    }

    /// The order's units in the workshop loop, oldest receipt first.
    pub fn workshop_jobs_of(&self, key: &str) -> Result<Vec<WorkshopJob>> {
        let order = self.find_order(key)?;
        let ids: Vec<String> = {
            let mut stmt = self.conn.prepare_cached("SELECT id FROM workshop_jobs WHERE work_order_id = ?1 AND deleted = 0 ORDER BY received_at, id")?;
            let rows = stmt.query_map([&order.id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        ids.iter().map(|id| self.workshop_job(id)).collect()
    }

    /// The technician takes a unit to the workshop: the receipt the customer acknowledges. The
    /// repair record must say the unit was taken to the workshop; one open receipt per repair.
    pub fn workshop_receipt(&mut self, key: &str, req: &NewReceipt) -> Result<WorkshopJob> {
        let order = self.find_order(key)?;
        let record = format!("work order {}", order.number);
        let repair = self.repairs_of(&order.id)?.into_iter().find(|r| r.id == req.repair_record_id);
        let Some(repair) = repair else {
            return Err(Error::invalid(&record, "repair_record_id", format!("repair record '{}' is not a repair of this order", req.repair_record_id)));
        };
        let mut problems = Vec::new();
        if !repair.taken_to_workshop {
            problems.push(FieldProblem::new(&record, "repair_record_id", "the repair record does not say the unit was taken to the workshop; tick \"taken to workshop\" on the repair first"));
        }
        let number = clean(req.receipt_number.as_deref()).or_else(|| clean(repair.receipt_number.as_deref()));
        match (&number, clean(repair.receipt_number.as_deref())) {
            (None, _) => problems.push(FieldProblem::new(&record, "receipt_number", "give the receipt's number (the one on the paper receipt)")),
            (Some(n), Some(on_repair)) if *n != on_repair => {
                problems.push(FieldProblem::new(&record, "receipt_number", format!("the repair record's receipt is {on_repair}, not {n}")))
            }
            (Some(n), _) if n.chars().count() > SHORT => problems.push(FieldProblem::new(&record, "receipt_number", format!("at most {SHORT} characters"))),
            _ => {}
        }
        let unit = clean(Some(&req.unit));
        let condition = clean(Some(&req.condition));
        let signer = clean(Some(&req.signer_name));
        for (field, value, max) in [("unit", &unit, SHORT), ("condition", &condition, LONG), ("signer_name", &signer, SHORT)] {
            match value {
                None => problems.push(FieldProblem::new(&record, field, match field {
                    "unit" => "say which unit is taken (e.g. the panel's make and model)",
                    "condition" => "describe the unit's condition as received (damage, faults, what it shows)",
                    _ => "give the name of the customer who hands the unit over",
                })),
                Some(v) if v.chars().count() > max => problems.push(FieldProblem::new(&record, field, format!("at most {max} characters"))),
                _ => {}
            }
        }
        for (field, value) in [("serial", &req.serial), ("accessories", &req.accessories)] {
            if value.as_deref().is_some_and(|v| v.chars().count() > if field == "serial" { SHORT } else { LONG }) {
                problems.push(FieldProblem::new(&record, field, "too long"));
            }
        }
        if !req.strokes.is_empty() {
            if let Some(p) = workshop::strokes_problem(&req.strokes) {
                problems.push(FieldProblem::new(&record, "strokes", p));
            }
        }
        let open: i64 = self.conn.query_row(
            "SELECT count(*) FROM workshop_jobs WHERE repair_record_id = ?1 AND deleted = 0 AND receipt_voided_at IS NULL",
            [&repair.id],
            |r| r.get(0),
        )?;
        if open > 0 {
            problems.push(FieldProblem::new(&record, "repair_record_id", "this repair's unit already has an open workshop receipt"));
        }
        let Some(technician) = self.device.technician.clone().or(order.technician.clone()) else {
            return Err(Error::invalid(&record, "received_by", "this laptop has no technician yet: enrol it (`fieldbook enrol`) before writing a receipt"));
        };
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let id = uuid::Uuid::now_v7().to_string();
        let strokes = if req.strokes.is_empty() { Value::Null } else { serde_json::to_value(&req.strokes).expect("strokes serialize") };
        self.write(|tx| {
            let now = super::ts(tx.now());
            tx.put("workshop_jobs", &id, &[
                ("work_order_id", json!(order.id)), ("repair_record_id", json!(repair.id)), ("receipt_number", json!(number)),
                ("unit", json!(unit)), ("serial", json!(clean(req.serial.as_deref()))), ("condition", json!(condition)),
                ("accessories", json!(clean(req.accessories.as_deref()))), ("received_at", json!(now)), ("received_by", json!(technician)),
                ("receipt_signer", json!(signer)), ("receipt_strokes", strokes), ("deleted", json!(false)),
            ])
        })?;
        self.workshop_job(&id)
    }

    /// The unit comes back to the customer, who signs for it: the receipt is void. Only after the
    /// workshop booked it out (goods-out, pulled from the office).
    pub fn workshop_return(&mut self, job_id: &str, req: &ReturnSignature) -> Result<WorkshopJob> {
        let Some(before) = self.job_fields(job_id)?.filter(|f| f.get("deleted") != Some(&Value::Bool(true))) else {
            return Err(Error::NotFound { entity: "workshop job", key: job_id.to_owned(), hint: " (list an order's with `fieldbook workshop show ORDER`)" });
        };
        let job = WorkshopJob::from_fields(job_id, &before);
        let record = format!("workshop receipt {}", job.receipt_number);
        if let Err(why) = workshop::check_step(&before, Step::Return) {
            return Err(Error::invalid(&record, "stage", format!("{why}; sync to see the workshop's latest steps")));
        }
        let mut problems = Vec::new();
        let signer = clean(Some(&req.signer_name));
        match &signer {
            None => problems.push(FieldProblem::new(&record, "signer_name", "give the name of the customer who takes the unit back")),
            Some(s) if s.chars().count() > SHORT => problems.push(FieldProblem::new(&record, "signer_name", format!("at most {SHORT} characters"))),
            _ => {}
        }
        if let Some(p) = workshop::strokes_problem(&req.strokes) {
            problems.push(FieldProblem::new(&record, "strokes", p));
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let strokes = serde_json::to_value(&req.strokes).expect("strokes serialize");
        self.write(|tx| {
            let now = super::ts(tx.now());
            let fields = [
                ("returned_at", json!(now)), ("return_signer", json!(signer)),
                ("return_strokes", strokes), ("receipt_voided_at", json!(now)),
            ];
            let mut after = before.clone();
            after.extend(fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
            workshop::check_laptop_return(Some(&before), &after).map_err(|why| Error::invalid(&record, "return", why))?;
            tx.put("workshop_jobs", job_id, &fields)
        })?;
        self.workshop_job(job_id)
    }
}
