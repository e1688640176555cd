//! Time outside repair records (#12): a technician's day of time entries — inspection, travel,
//! internal work (training, meetings, tools, the workshop) — added, edited and deleted with every
//! entry checked and the day's total kept within 24 hours; an inspection's time from arrival on
//! site, recorded once when the inspection is completed; and the supervisor's review (核阅) of the
//! day as this laptop pulled it.
//!
//! A repair's labour is a time entry too (`Store::add_repair` writes it with the repair record);
//! it is shown here but changed only through its repair record, so the two never disagree.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Store, Tx};
use crate::error::{Error, FieldProblem, Result};
use crate::model::*;

/// The day a moment falls on where the technician works: time is booked on the laptop's own
/// day (the Daily report's "today"), not on the UTC date — in Shanghai a repair at 07:00 is
/// that morning's, not the evening before's.
pub fn local_day<Tz: chrono::TimeZone>(t: DateTime<Utc>, zone: &Tz) -> NaiveDate {
    t.with_timezone(zone).date_naive()
}

/// The longest a day can be, in minutes.
pub const MINUTES_A_DAY: u32 = 24 * 60;
/// Longest note on a time entry, in characters (the write policy's long text).
const MAX_NOTE: usize = 4_000;

/// A time entry as the technician types it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeInput {
    pub work_date: NaiveDate,
    pub category: Category,
    pub activity: Activity,
    pub minutes: u32,
    #[serde(default)]
    pub note: Option<String>,
    /// The work order the time was for (its number or id), if any.
    #[serde(default)]
    pub work_order: Option<String>,
}

/// One entry of a day, as the time screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayEntry {
    #[serde(flatten)]
    pub entry: TimeEntry,
    /// The recorded activity, or the one derived for an entry from before activities existed
    /// (none: not known).
    pub activity_shown: Option<Activity>,
    pub work_order_number: Option<String>,
    /// A repair's labour changes only through its repair record.
    pub from_repair: bool,
}

/// A technician's day: every entry, the total, and the supervisor's review if there is one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayTime {
    pub technician: String,
    pub work_date: NaiveDate,
    pub entries: Vec<DayEntry>,
    pub total: i64,
    pub review: Option<DayReview>,
    /// The day was signed off and its minutes have changed since: the supervisor will see the
    /// day flagged as changed after sign-off.
    pub changed_since_sign_off: bool,
}

const ENTRY_SELECT: &str = "SELECT t.id, t.technician, t.work_order_id, t.repair_record_id, t.work_date, t.category, t.minutes, t.note, t.activity, w.number \
     FROM time_entries t LEFT JOIN work_orders w ON w.id = t.work_order_id";

fn entry_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DayEntry> {
    let entry = TimeEntry {
        id: r.get(0)?,
        technician: r.get(1)?,
        work_order_id: r.get(2)?,
        repair_record_id: r.get(3)?,
        work_date: r.get(4)?,
        category: r.get(5)?,
        minutes: r.get(6)?,
        note: r.get(7)?,
        activity: r.get(8)?,
    };
    let activity_shown = entry.activity.or_else(|| Activity::derived(entry.repair_record_id.as_deref(), entry.category));
    let from_repair = entry.repair_record_id.is_some();
    Ok(DayEntry { entry, activity_shown, work_order_number: r.get(9)?, from_repair })
}

/// The id of the time entry an inspection's completion records: one per order, so completing
/// it again (after a reopen) or on another laptop never adds a second one.
pub fn inspection_time_id(order_id: &str) -> String {
    format!("inspection-time:{order_id}")
}

/// Writes the inspection's time from arrival to completion as a time entry (category of the
/// order, activity inspection), unless the order already has it — also when the technician has
/// since edited or deleted it: their correction stands — or the technician recorded the
/// inspection's time themselves. Runs inside the completion's write.
pub(crate) fn record_inspection_time(tx: &mut Tx<'_>, order: &WorkOrder, completed: DateTime<Utc>) -> Result<()> {
    let (WorkOrderKind::PatrolInspection, Some(arrived), Some(technician)) = (order.kind, order.arrived_at, order.technician.as_deref()) else { return Ok(()) };
    let id = inspection_time_id(&order.id);
    // Once: not when completed again, nor when the technician already typed the inspection's time.
    let exists = tx
        .conn()
        .query_row("SELECT 1 FROM time_entries WHERE id = ?1 OR (work_order_id = ?2 AND activity = 'inspection' AND deleted = 0) LIMIT 1", [&id, &order.id], |_| Ok(()))
        .optional()?
        .is_some();
    if exists || completed <= arrived {
        return Ok(());
    }
    // Whole minutes, rounded up; a visit past midnight is recorded on the day it ended.
    let minutes = ((completed - arrived).num_seconds() + 59) / 60;
    let minutes = minutes.clamp(1, MINUTES_A_DAY as i64);
    let local = |t: DateTime<Utc>| t.with_timezone(&chrono::Local);
    let note = format!("{}: {} → {}", order.number, local(arrived).format("%H:%M"), local(completed).format("%H:%M"));
    tx.put("time_entries", &id, &[
        ("technician", json!(technician)), ("work_order_id", json!(order.id)), ("repair_record_id", json!(null)),
        ("work_date", json!(local_day(completed, &chrono::Local))), ("category", json!(order.category)), ("minutes", json!(minutes)),
        ("note", json!(note)), ("activity", json!(Activity::Inspection)), ("deleted", json!(false)),
    ])
}

impl Store {
    /// The technician this laptop records time for.
    fn time_technician(&self) -> Result<String> {
        self.device.technician.clone().ok_or_else(|| {
            Error::invalid("time entry", "technician", "this laptop has no technician yet; enrol it (Settings → Enrol) or run `fieldbook init --technician LOGIN`")
        })
    }

    /// The day's entries of the technician of this laptop (or `technician`), oldest first.
    pub fn day_time(&self, day: NaiveDate, technician: Option<&str>) -> Result<DayTime> {
        let technician = match technician {
            Some(t) => t.to_owned(),
            None => self.time_technician()?,
        };
        let sql = format!("{ENTRY_SELECT} WHERE t.technician = ?1 AND t.work_date = ?2 AND t.deleted = 0 ORDER BY t.id");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let entries: Vec<DayEntry> = stmt.query_map(params![technician, day], entry_row)?.collect::<rusqlite::Result<_>>()?;
        let total = entries.iter().map(|e| e.entry.minutes as i64).sum();
        let review = self.day_review(&technician, day)?;
        let changed_since_sign_off = review.as_ref().is_some_and(|r| r.status == DayReviewStatus::SignedOff && r.minutes.is_some_and(|m| m != total));
        Ok(DayTime { technician, work_date: day, entries, total, review, changed_since_sign_off })
    }

    /// The supervisor's review of a technician's day, if the office has sent one.
    pub fn day_review(&self, technician: &str, day: NaiveDate) -> Result<Option<DayReview>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, technician, work_date, status, note, reviewed_by, reviewed_at, minutes FROM day_reviews
                 WHERE technician = ?1 AND work_date = ?2 AND deleted = 0 ORDER BY reviewed_at DESC LIMIT 1",
                params![technician, day],
                |r| {
                    Ok(DayReview {
                        id: r.get(0)?,
                        technician: r.get(1)?,
                        work_date: r.get(2)?,
                        status: r.get(3)?,
                        note: r.get(4)?,
                        reviewed_by: r.get(5)?,
                        reviewed_at: r.get(6)?,
                        minutes: r.get(7)?,
                    })
                },
            )
            .optional()?)
    }

    /// Checks a time entry for `technician` (every problem at once) and finds its order; `except`
    /// is the entry being edited, whose old minutes do not count towards the day.
    fn check_time(&self, technician: &str, input: &TimeInput, except: Option<&str>) -> Result<Option<String>> {
        let record = format!("time entry of {}", input.work_date);
        let mut problems = Vec::new();
        if input.minutes == 0 || input.minutes > MINUTES_A_DAY {
            problems.push(FieldProblem::new(&record, "minutes", format!("{} is not between 1 and {MINUTES_A_DAY} (24 h)", input.minutes)));
        }
        if input.activity == Activity::Internal && input.category != Category::Internal {
            problems.push(FieldProblem::new(&record, "category", "internal work (training, meetings, tools, workshop) is category D"));
        }
        if let Some(n) = &input.note {
            if n.chars().count() > MAX_NOTE || n.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                problems.push(FieldProblem::new(&record, "note", format!("at most {MAX_NOTE} characters of text")));
            }
        }
        let mut order_id = None;
        if let Some(key) = input.work_order.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            match self.find_order(key) {
                Ok(o) if o.technician.as_deref() == Some(technician) => order_id = Some(o.id),
                Ok(o) => problems.push(FieldProblem::new(&record, "work_order", format!("work order {} is not {technician}'s; time is recorded on one's own orders", o.number))),
                Err(_) => problems.push(FieldProblem::new(&record, "work_order", format!("no work order '{key}' on this laptop; leave it empty for time not on an order"))),
            }
        }
        if input.minutes > 0 && input.minutes <= MINUTES_A_DAY {
            let already: i64 = self.conn.query_row(
                "SELECT COALESCE(sum(minutes), 0) FROM time_entries WHERE technician = ?1 AND work_date = ?2 AND deleted = 0 AND (?3 IS NULL OR id <> ?3)",
                params![technician, input.work_date, except],
                |r| r.get(0),
            )?;
            if already + input.minutes as i64 > MINUTES_A_DAY as i64 {
                problems.push(FieldProblem::new(
                    &record,
                    "minutes",
                    format!(
                        "the day would have {} min, more than 24 h ({MINUTES_A_DAY} min): {already} min are already recorded on {}, so at most {} min more fit",
                        already + input.minutes as i64,
                        input.work_date,
                        (MINUTES_A_DAY as i64 - already).max(0)
                    ),
                ));
            }
        }
        if problems.is_empty() { Ok(order_id) } else { Err(Error::Invalid(problems)) }
    }

    /// Records time outside a repair record for `technician` (the CLI may name one; the desktop
    /// records for the laptop's own technician, [`Store::add_time_entry`]).
    pub fn add_time(&mut self, technician: &str, input: &TimeInput) -> Result<TimeEntry> {
        let order_id = self.check_time(technician, input, None)?;
        let id = uuid::Uuid::now_v7().to_string();
        let note = input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
        self.write(|tx| {
            tx.put("time_entries", &id, &[
                ("technician", json!(technician)), ("work_order_id", json!(order_id)), ("repair_record_id", json!(null)),
                ("work_date", json!(input.work_date)), ("category", json!(input.category)), ("minutes", json!(input.minutes)),
                ("note", json!(note)), ("activity", json!(input.activity)), ("deleted", json!(false)),
            ])
        })?;
        Ok(TimeEntry {
            id,
            technician: technician.to_owned(),
            work_order_id: order_id,
            repair_record_id: None,
            work_date: input.work_date,
            category: input.category,
            minutes: input.minutes,
            note,
            activity: Some(input.activity),
        })
    }

    /// Records time for the laptop's technician.
    pub fn add_time_entry(&mut self, input: &TimeInput) -> Result<TimeEntry> {
        let technician = self.time_technician()?;
        self.add_time(&technician, input)
    }

    /// A live entry of the laptop's technician that the time screen may change.
    fn own_entry(&self, id: &str) -> Result<DayEntry> {
        let technician = self.time_technician()?;
        let sql = format!("{ENTRY_SELECT} WHERE t.id = ?1 AND t.deleted = 0");
        let found = self.conn.query_row(&sql, [id], entry_row).optional()?;
        let e = found.ok_or_else(|| Error::NotFound { entity: "time entry", key: id.to_owned(), hint: "; it may have been deleted — reload the day" })?;
        if e.entry.technician != technician {
            return Err(Error::invalid(format!("time entry {id}"), "technician", format!("the entry is {}'s, not {technician}'s", e.entry.technician)));
        }
        if e.from_repair {
            return Err(Error::invalid(format!("time entry {id}"), "minutes", "this is a repair's labour: change it in the repair record of the work order"));
        }
        Ok(e)
    }

    /// Changes an entry of the laptop's technician (day, category, activity, minutes, note, order).
    pub fn edit_time_entry(&mut self, id: &str, input: &TimeInput) -> Result<TimeEntry> {
        let e = self.own_entry(id)?;
        // No order given: the entry keeps its own (the form shows it, it cannot change).
        let order_id = self.check_time(&e.entry.technician, input, Some(id))?;
        if order_id.is_some() && order_id != e.entry.work_order_id {
            // The write policy lets only the creator set an entry's order.
            return Err(Error::invalid(format!("time entry {id}"), "work_order", "an entry's work order cannot change; delete it and record it again"));
        }
        let note = input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
        self.write(|tx| {
            tx.put("time_entries", id, &[
                ("work_date", json!(input.work_date)), ("category", json!(input.category)), ("minutes", json!(input.minutes)),
                ("note", json!(note)), ("activity", json!(input.activity)),
            ])
        })?;
        Ok(TimeEntry { work_date: input.work_date, category: input.category, minutes: input.minutes, note, activity: Some(input.activity), ..e.entry })
    }

    /// Deletes an entry of the laptop's technician (a tombstone, synced like any change).
    pub fn delete_time_entry(&mut self, id: &str) -> Result<()> {
        self.own_entry(id)?;
        self.write(|tx| tx.put("time_entries", id, &[("deleted", json!(true))]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};

    #[test]
    fn time_is_booked_on_the_day_where_the_technician_works() {
        let shanghai = FixedOffset::east_opt(8 * 3600).unwrap();
        // 07:50 in Shanghai on 3 March is 23:50 UTC on 2 March.
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 23, 50, 0).unwrap();
        assert_eq!(local_day(t, &shanghai), NaiveDate::from_ymd_opt(2026, 3, 3).unwrap());
        assert_eq!(local_day(t, &Utc), NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
    }
}
