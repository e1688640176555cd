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
    /// The moment on `as_of` the file's times were written for ("now" in the file). With it,
    /// rebasing ([`ImportDocument::rebase_to_now`]) moves times by the whole hours between this
    /// and now rather than by whole days, so calls, deadlines and completions stand where they
    /// stood to "now" whatever the hour: the demo shows the same realistic day at 00:10 or 23:30.
    #[serde(default)]
    pub as_of_time: Option<DateTime<Utc>>,
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
    /// Work already done on an order the file brings (e.g. a demo day's finished job): set only
    /// when the order is new to the store, like `status`. Each, when given, is not before the
    /// one above it nor before `reported_at` ([`WorkOrderRow::time_problems`]).
    #[serde(default)]
    pub en_route_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub arrived_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
}

impl WorkOrderRow {
    /// What is wrong with the order of this row's times, as (field, problem): a call is made,
    /// then the technician sets off, arrives and finishes, in that order.
    pub fn time_problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let mut last = ("reported_at", self.reported_at);
        for (field, at) in [("en_route_at", self.en_route_at), ("arrived_at", self.arrived_at), ("completed_at", self.completed_at)] {
            let Some(at) = at else { continue };
            if at < last.1 {
                problems.push((field, format!("is {}, before {} {}; give the times in the order they happened", at.to_rfc3339(), last.0, last.1.to_rfc3339())));
            }
            last = (field, at);
        }
        problems
    }
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
        self.shift(days, chrono::Duration::days(days));
    }

    /// Shifts every date by `days` and every time by `by`.
    fn shift(&mut self, days: i64, by: chrono::Duration) {
        let d = chrono::Duration::days(days);
        self.as_of = self.as_of.map(|x| x + d);
        self.as_of_time = self.as_of_time.map(|x| x + by);
        for c in &mut self.contracts {
            c.starts_on += d;
            c.ends_on += d;
        }
        for w in &mut self.work_orders {
            w.scheduled_on += d;
            w.reported_at += by;
            for t in [&mut w.response_deadline, &mut w.en_route_at, &mut w.arrived_at, &mut w.completed_at] {
                *t = t.map(|x| x + by);
            }
        }
    }

    /// Rebases the file so that `as_of` becomes `today`, times by whole days. Files without
    /// `as_of` are unchanged. Tests that need the file's own times of day use this.
    pub fn rebase_to(&mut self, today: NaiveDate) {
        if let Some(as_of) = self.as_of {
            self.shift_days((today - as_of).num_days());
        }
    }

    /// Rebases the file to `now` (what `--rebase-dates` and the demo do): dates move so that
    /// `as_of` becomes `now`'s day in its time zone; times move by the whole hours between
    /// `as_of_time` and `now` (by whole days, as [`Self::rebase_to`], when the file has none).
    /// Whole hours keep the minutes the file wrote and make two rebases within the same hour
    /// identical (importing the demo again changes nothing); every time therefore lands up to
    /// an hour earlier relative to `now` than the file put it, never later, so nothing the file
    /// puts in the past can land in the future.
    pub fn rebase_to_now<Tz: chrono::TimeZone>(&mut self, now: &DateTime<Tz>) {
        let Some(as_of) = self.as_of else { return };
        let days = (now.date_naive() - as_of).num_days();
        let by = match self.as_of_time {
            Some(t) => chrono::Duration::hours((now.with_timezone(&Utc) - t).num_seconds().div_euclid(3600)),
            None => chrono::Duration::days(days),
        };
        self.shift(days, by);
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

    /// The demo company rebased to `now` (a wall-clock time in China, UTC+8).
    fn demo_at(date: (i32, u32, u32), hour: u32, minute: u32) -> (ImportDocument, DateTime<chrono::FixedOffset>) {
        use chrono::TimeZone;
        let now = chrono::FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(date.0, date.1, date.2, hour, minute, 0).unwrap();
        let mut doc = ImportDocument::from_json(include_str!("../../../demo/fire-protection.json"), "demo").unwrap();
        doc.rebase_to_now(&now);
        (doc, now)
    }

    #[test]
    fn the_demo_shows_a_realistic_day_at_any_hour() {
        for (date, hour, minute) in [((2026, 12, 6), 0, 10), ((2026, 12, 6), 0, 59), ((2026, 12, 6), 1, 0), ((2026, 3, 1), 9, 0), ((2026, 12, 6), 14, 0), ((2026, 12, 31), 23, 30), ((2026, 12, 6), 23, 59)] {
            let (doc, now) = demo_at(date, hour, minute);
            let at = format!("{now}");
            let now_utc = now.with_timezone(&Utc);
            let today = now.date_naive();
            let (mut later, mut overdue, mut done) = (Vec::new(), Vec::new(), Vec::new());
            for w in &doc.work_orders {
                // Nothing that must be in the past is in the future, and things happen in order.
                assert!(w.reported_at <= now_utc, "{at}: {} called in the future ({})", w.number, w.reported_at);
                assert!(w.time_problems().is_empty(), "{at}: {} {:?}", w.number, w.time_problems());
                for t in [w.en_route_at, w.arrived_at, w.completed_at].into_iter().flatten() {
                    assert!(t <= now_utc, "{at}: {} has a time in the future ({t})", w.number);
                }
                assert!(w.scheduled_on >= today, "{at}: {} is scheduled on {}, before today", w.number, w.scheduled_on);
                assert!(now_utc - w.reported_at < chrono::Duration::hours(12), "{at}: {} was called more than 12 h ago", w.number);
                if w.scheduled_on != today || w.technician.as_deref() != Some("li.wei") {
                    continue;
                }
                // The demo's deadlines are written in the file (what the office promised when it
                // took each call) and move with the times, so the day reads the same at any hour;
                // a working-hours deadline computed at 00:10 on a Sunday would not.
                let deadline = w.response_deadline.unwrap_or_else(|| panic!("{} has no response_deadline in the demo file", w.number));
                match (w.status, w.arrived_at) {
                    (Status::Completed, Some(arrived)) => {
                        assert!(arrived <= deadline, "{at}: the done order {} was late", w.number);
                        done.push(w.number.as_str());
                    }
                    (Status::Dispatched, None) if deadline < now_utc => overdue.push(w.number.as_str()),
                    (Status::Dispatched, None) => later.push(w.number.as_str()),
                    other => panic!("{at}: {} is {other:?}", w.number),
                }
            }
            assert!(later.len() >= 2, "{at}: due later {later:?}");
            assert_eq!(overdue.len(), 1, "{at}: overdue {overdue:?}");
            assert_eq!(done.len(), 1, "{at}: done {done:?}");
            // Tomorrow's maintenance stays tomorrow's.
            let tomorrow = doc.work_orders.iter().find(|w| w.number == "WO-1005").unwrap();
            assert_eq!(tomorrow.scheduled_on, today.succ_opt().unwrap(), "{at}");
        }
    }

    #[test]
    fn rebasing_twice_in_the_same_hour_gives_the_same_file() {
        // Importing the demo again a few minutes later must change nothing.
        let (a, _) = demo_at((2026, 12, 6), 23, 1);
        let (b, _) = demo_at((2026, 12, 6), 23, 58);
        assert_eq!(a, b);
        let (c, _) = demo_at((2026, 12, 7), 0, 1);
        assert_ne!(a, c);
    }

    #[test]
    fn times_out_of_order_are_named() {
        let doc = ImportDocument::from_json(
            r#"{"format": "fieldbook-import/1", "work_orders": [{"number": "W1", "kind": "repair_call", "site": "S", "category": "A",
                "scheduled_on": "2026-03-02", "reported_at": "2026-03-02T01:30:00Z", "arrived_at": "2026-03-02T01:00:00Z",
                "completed_at": "2026-03-02T02:00:00Z"}]}"#,
            "x",
        )
        .unwrap();
        let problems = doc.work_orders[0].time_problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, "arrived_at");
        assert!(problems[0].1.contains("before reported_at"), "{problems:?}");
    }

    #[test]
    fn a_file_without_as_of_time_moves_by_whole_days() {
        let mut doc = ImportDocument::from_json(
            r#"{"format": "fieldbook-import/1", "as_of": "2026-03-02", "work_orders": [{"number": "W1", "kind": "repair_call",
                "site": "S", "category": "A", "scheduled_on": "2026-03-02", "reported_at": "2026-03-02T01:30:00Z"}]}"#,
            "x",
        )
        .unwrap();
        doc.rebase_to_now(&"2026-03-05T23:10:00Z".parse::<DateTime<Utc>>().unwrap());
        assert_eq!(doc.work_orders[0].reported_at.to_rfc3339(), "2026-03-05T01:30:00+00:00");
    }
}
