//! The import file format (`fieldbook-import/1`): customers, sites, assets, contracts, the parts
//! catalogue, checklist templates and work orders, referring to each other by their codes. The
//! laptop's `fieldbook import` and the server's import read the same documents.
//!
//! Records get ids derived from their codes (UUIDv5), so importing a file twice, or on the server
//! and on a laptop, names every record the same way.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::checklist::ChecklistTemplate;
use crate::error::{Error, FieldProblem, Result};
use crate::model::{Category, Priority, Status, WorkOrderKind, Zone};

pub const FORMAT: &str = "fieldbook-import/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportDocument {
    pub format: String,
    /// The day the file's dates were written for. `import --rebase-dates` shifts every date and
    /// time in the file by the days between this and today (used by the demo data).
    #[serde(default)]
    pub as_of: Option<NaiveDate>,
    #[serde(default)]
    pub company: Option<Company>,
    #[serde(default)]
    pub parts: Vec<PartRow>,
    #[serde(default)]
    pub customers: Vec<CustomerRow>,
    #[serde(default)]
    pub sites: Vec<SiteRow>,
    #[serde(default)]
    pub assets: Vec<AssetRow>,
    #[serde(default)]
    pub contracts: Vec<ContractRow>,
    #[serde(default)]
    pub checklist_templates: Vec<ChecklistTemplate>,
    #[serde(default)]
    pub work_orders: Vec<WorkOrderRow>,
}

/// The service company itself, printed at the top of service reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Company {
    pub name_zh: String,
    pub name_en: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartRow {
    pub sku: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default = "pcs")]
    pub unit: String,
    #[serde(default)]
    pub price_cents: Option<i64>,
}

fn pcs() -> String {
    "pcs".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerRow {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteRow {
    pub code: String,
    /// Customer code.
    pub customer: String,
    pub name: String,
    pub address: String,
    pub region: String,
    pub zone: Zone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetRow {
    pub code: String,
    /// Site code.
    pub site: String,
    pub asset_type: String,
    pub name: String,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub serial: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub installed_on: Option<NaiveDate>,
    #[serde(default)]
    pub warranty_ends: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractRow {
    pub number: String,
    /// Customer code.
    pub customer: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Asset codes covered by the contract.
    #[serde(default)]
    pub assets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkOrderRow {
    pub number: String,
    pub kind: WorkOrderKind,
    /// Site code; the customer is the site's.
    pub site: String,
    /// Asset codes; empty means every asset of the site.
    #[serde(default)]
    pub assets: Vec<String>,
    #[serde(default)]
    pub technician: Option<String>,
    #[serde(default = "normal")]
    pub priority: Priority,
    pub category: Category,
    #[serde(default = "dispatched")]
    pub status: Status,
    /// Template `CODE` (latest version in the file or store) or `CODE@VERSION`.
    #[serde(default)]
    pub template: Option<String>,
    #[serde(default)]
    pub problem: Option<String>,
    pub scheduled_on: NaiveDate,
    pub reported_at: DateTime<Utc>,
    /// Defaults to the response policy applied to `reported_at` and the site's zone.
    #[serde(default)]
    pub response_deadline: Option<DateTime<Utc>>,
}

fn normal() -> Priority {
    Priority::Normal
}
fn dispatched() -> Status {
    Status::Dispatched
}

/// Stable ids for imported records: the same code always names the same record.
pub fn stable_id(entity: &str, code: &str) -> String {
    const NS: uuid::Uuid = uuid::Uuid::from_u128(0x6669_656c_6462_6f6f_6b2d_6964_2d6e_7331);
    uuid::Uuid::new_v5(&NS, format!("{entity}:{code}").as_bytes()).to_string()
}

impl ImportDocument {
    /// Parses an import file, with serde's line and column for syntax or shape errors.
    pub fn from_json(text: &str, source_name: &str) -> Result<ImportDocument> {
        let doc: ImportDocument = serde_json::from_str(text).map_err(|e| Error::Import {
            source_name: source_name.to_owned(),
            problems: vec![FieldProblem::new(format!("line {} column {}", e.line(), e.column()), "json", e.to_string())],
        })?;
        if doc.format != FORMAT {
            return Err(Error::Import {
                source_name: source_name.to_owned(),
                problems: vec![FieldProblem::new("document", "format", format!("is '{}', expected '{FORMAT}'", doc.format))],
            });
        }
        Ok(doc)
    }

    /// Shifts every date and time in the file by `days` (see `as_of`).
    pub fn shift_days(&mut self, days: i64) {
        let d = chrono::Duration::days(days);
        self.as_of = self.as_of.map(|x| x + d);
        for c in &mut self.contracts {
            c.starts_on += d;
            c.ends_on += d;
        }
        for w in &mut self.work_orders {
            w.scheduled_on += d;
            w.reported_at += d;
            w.response_deadline = w.response_deadline.map(|x| x + d);
        }
    }

    /// Rebases the file so that `as_of` becomes `today`. Files without `as_of` are unchanged.
    pub fn rebase_to(&mut self, today: NaiveDate) {
        if let Some(as_of) = self.as_of {
            self.shift_days((today - as_of).num_days());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = ImportDocument::from_json("{\n \"format\": \"fieldbook-import/1\",\n \"customers\": [ {\"code\": 1} ]\n}", "x.json").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("x.json") && msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn wrong_format_and_unknown_fields_are_refused() {
        let err = ImportDocument::from_json(r#"{"format": "csv"}"#, "x.json").unwrap_err();
        assert!(err.to_string().contains("expected 'fieldbook-import/1'"), "{err}");
        let err = ImportDocument::from_json(r#"{"format": "fieldbook-import/1", "custmers": []}"#, "x.json").unwrap_err();
        assert!(err.to_string().contains("custmers"), "{err}");
    }

    #[test]
    fn stable_ids_depend_on_entity_and_code_only() {
        assert_eq!(stable_id("customers", "C1"), stable_id("customers", "C1"));
        assert_ne!(stable_id("customers", "C1"), stable_id("sites", "C1"));
    }

    #[test]
    fn rebase_moves_dates_by_whole_days() {
        let mut doc = ImportDocument::from_json(
            r#"{"format": "fieldbook-import/1", "as_of": "2026-03-02", "work_orders": [{"number": "W1", "kind": "repair_call",
                "site": "S", "category": "A", "scheduled_on": "2026-03-02", "reported_at": "2026-03-02T01:30:00Z"}]}"#,
            "x",
        )
        .unwrap();
        doc.rebase_to(NaiveDate::from_ymd_opt(2026, 3, 5).unwrap());
        assert_eq!(doc.work_orders[0].scheduled_on.to_string(), "2026-03-05");
        assert_eq!(doc.work_orders[0].reported_at.to_rfc3339(), "2026-03-05T01:30:00+00:00");
    }
}
