//! The supervisor's review of each technician's day (核阅, #12) and the supervisor's daily report.
//!
//! - A day is a technician's time entries of one work date (the `minutes_day` rollup has its
//!   totals per category; `work_item_index` its entries). The list shows every technician with
//!   time on a date, and the review if there is one.
//! - The office signs a day off, or returns it with a note: a `day_reviews` record (id
//!   `day:{technician}:{work_date}`, one per day, so deciding again overwrites) written through the
//!   feed writer with a fresh server stamp, audited. Its scope is the technician, so it reaches
//!   their laptop at the next pull. The day's minutes at the decision are kept in it.
//! - A time entry of a signed-off day written after the sign-off (edited on the laptop, or pushed
//!   late from an offline one) flags the day: `day_review_index.changed_at` is set by
//!   [`flag_changed`], which [`super::index::project`] calls around every write of time entries
//!   (before, for the day an entry leaves; after, for the day it joins). The flag shows in the list,
//!   the day and the supervisor's report until the day is reviewed again.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::index::{deleted, int, text, upsert};
use super::review::write_fresh;
use super::{audit, csv, ConsoleUser, FormatQuery};
use crate::api::{AppState, JsonBody};
use crate::db::{self, Mode, Tx};
use crate::error::{Error, Result};
use crate::feed::Writer;
use crate::params;
use crate::records::{self, Stored};

/// Entities with a projection here.
pub const PROJECTED: &[&str] = &["day_reviews"];

/// Longest note, in characters (the policy's long text).
const MAX_NOTE: usize = 4_000;

/// The id of a technician's day's review: one per day.
pub fn review_id(technician: &str, day: NaiveDate) -> String {
    format!("day:{technician}:{day}")
}

const HEAD: &str = "INSERT INTO day_review_index (id, technician, work_date, status, note, reviewed_by, reviewed_at, minutes, changed_at, deleted)";
const TAIL: &str = "ON CONFLICT (id) DO UPDATE SET technician = excluded.technician, work_date = excluded.work_date, status = excluded.status, \
     note = excluded.note, reviewed_by = excluded.reviewed_by, reviewed_at = excluded.reviewed_at, minutes = excluded.minutes, \
     changed_at = excluded.changed_at, deleted = excluded.deleted";

/// Brings `day_review_index` up to date with these just-written records; a review written again
/// (decided again) clears the day's changed-after-sign-off flag.
pub fn project(tx: &mut dyn Tx, written: &[(&str, &str, &Stored)]) -> Result<()> {
    let mut rows = Vec::new();
    for &(entity, id, s) in written {
        if entity != "day_reviews" {
            continue;
        }
        let f = s.fields()?;
        let or_empty = |k: &str| match text(f, k) {
            db::Value::Null => db::Value::Text(String::new()),
            v => v,
        };
        rows.push(vec![
            id.into(), or_empty("technician"), or_empty("work_date"), or_empty("status"), text(f, "note"), text(f, "reviewed_by"), text(f, "reviewed_at"),
            int(f, "minutes"), db::Value::Null, deleted(f),
        ]);
    }
    upsert(tx, HEAD, TAIL, 10, rows)
}

/// Flags the signed-off days these time entries belong to (as `work_item_index` has them now):
/// called before and after the entries' projection rows are written. Goes from the entries to
/// their days' reviews by id, so a push of time entries costs two small statements per call
/// however many days have been reviewed.
pub fn flag_changed(tx: &mut dyn Tx, time_entries: &[&str]) -> Result<()> {
    let max = *db::LIST_SIZES.last().expect("sizes");
    let mut reviews: Vec<String> = Vec::new();
    for chunk in time_entries.chunks(max) {
        let size = db::LIST_SIZES.iter().copied().find(|&n| n >= chunk.len()).unwrap_or(max);
        let sql = db::values_list(
            "SELECT DISTINCT t.technician, t.work_date FROM",
            1,
            size,
            "AS v JOIN work_item_index t ON t.entity = 'time_entries' AND t.id = v.column1 WHERE t.technician IS NOT NULL AND t.work_date IS NOT NULL",
        );
        // Padding: no record has an empty id.
        let params: Vec<db::Value> = (0..size).map(|i| db::Value::from(chunk.get(i).copied().unwrap_or(""))).collect();
        for r in tx.query(sql, &params)? {
            // A day that is no date has no review.
            if let Ok(day) = NaiveDate::parse_from_str(&r.text(1)?, "%Y-%m-%d") {
                reviews.push(review_id(&r.text(0)?, day));
            }
        }
    }
    reviews.sort();
    reviews.dedup();
    let now = crate::now_text();
    for chunk in reviews.chunks(max) {
        let size = db::LIST_SIZES.iter().copied().find(|&n| n >= chunk.len()).unwrap_or(max);
        let sql = db::values_list(
            "UPDATE day_review_index SET changed_at = $1 WHERE status = 'signed_off' AND changed_at IS NULL AND deleted = 0 AND id IN (SELECT column1 FROM",
            2,
            size,
            "AS v)",
        );
        let mut params = vec![db::Value::from(now.as_str())];
        params.extend((0..size).map(|i| db::Value::from(chunk.get(i).map(String::as_str).unwrap_or(""))));
        tx.execute(sql, &params)?;
    }
    Ok(())
}

/// A review as the console shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Review {
    pub id: String,
    pub status: String,
    pub note: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    /// The day's minutes when it was decided.
    pub minutes: Option<i64>,
    /// When an entry of the signed-off day was written after the sign-off.
    pub changed_at: Option<String>,
}

/// One technician's day in the list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DayRow {
    pub technician: String,
    pub technician_name: Option<String>,
    pub work_date: String,
    pub entries: i64,
    #[serde(rename = "A")]
    pub a: i64,
    #[serde(rename = "B")]
    pub b: i64,
    #[serde(rename = "C")]
    pub c: i64,
    #[serde(rename = "D")]
    pub d: i64,
    pub total: i64,
    pub review: Option<Review>,
}

fn review_of(r: &db::Row, at: usize) -> Result<Option<Review>> {
    let Some(id) = r.opt_text(at)? else { return Ok(None) };
    Ok(Some(Review {
        id,
        status: r.text(at + 1)?,
        note: r.opt_text(at + 2)?,
        reviewed_by: r.opt_text(at + 3)?,
        reviewed_at: r.opt_text(at + 4)?,
        minutes: r.opt_int(at + 5)?,
        changed_at: r.opt_text(at + 6)?,
    }))
}

const REVIEW_COLS: &str = "r.id, r.status, r.note, r.reviewed_by, r.reviewed_at, r.minutes, r.changed_at";

/// Every technician's day on `day`: those with time, and those with a review but no time left.
pub fn days_of(tx: &mut dyn Tx, day: NaiveDate, technician: Option<&str>) -> Result<Vec<DayRow>> {
    let sql = format!(
        "SELECT m.technician, u.display_name, m.entries, m.a, m.b, m.c, m.d, m.total, {REVIEW_COLS} \
         FROM minutes_day m \
         LEFT JOIN day_review_index r ON r.technician = m.technician AND r.work_date = m.work_date AND r.deleted = 0 \
         LEFT JOIN users u ON u.login = m.technician \
         WHERE m.work_date = $1 AND m.entries > 0 AND ($2 = '' OR m.technician = $2) \
         UNION ALL \
         SELECT r.technician, u.display_name, 0, 0, 0, 0, 0, 0, {REVIEW_COLS} \
         FROM day_review_index r LEFT JOIN users u ON u.login = r.technician \
         WHERE r.work_date = $1 AND r.deleted = 0 AND ($2 = '' OR r.technician = $2) \
         AND NOT EXISTS (SELECT 1 FROM minutes_day m WHERE m.work_date = r.work_date AND m.technician = r.technician AND m.entries > 0) \
         ORDER BY 1"
    );
    let rows = tx.query(&sql, params![day.to_string(), technician.unwrap_or("")])?;
    rows.iter()
        .map(|r| {
            Ok(DayRow {
                technician: r.text(0)?,
                technician_name: r.opt_text(1)?,
                work_date: day.to_string(),
                entries: r.int(2)?,
                a: r.int(3)?,
                b: r.int(4)?,
                c: r.int(5)?,
                d: r.int(6)?,
                total: r.int(7)?,
                review: review_of(r, 8)?,
            })
        })
        .collect()
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ListQuery {
    /// The work date, `YYYY-MM-DD`; by default yesterday (the day a supervisor reviews).
    pub date: Option<String>,
    pub technician: Option<String>,
    #[serde(flatten)]
    pub format: FormatQuery,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DayList {
    pub date: String,
    pub items: Vec<DayRow>,
}

fn the_date(v: Option<&str>) -> Result<NaiveDate> {
    Ok(super::date("date", v)?.unwrap_or_else(|| chrono::Utc::now().date_naive() - chrono::Duration::days(1)))
}

pub async fn list(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<ListQuery>) -> Result<Response> {
    let day = the_date(q.date.as_deref())?;
    let tech = q.technician.clone().filter(|t| !t.trim().is_empty());
    let items = s.db.run(Mode::Read, move |tx| days_of(tx, day, tech.as_deref())).await?;
    if q.format.csv()? {
        let rows: Vec<Value> = items.iter().map(csv_row).collect();
        return Ok(csv::table(&format!("daily-reports-{day}.csv"), COLUMNS, &rows, q.format.lang.as_deref() == Some("zh")));
    }
    Ok(Json(DayList { date: day.to_string(), items }).into_response())
}

/// The columns of the list's CSV and of the supervisor's daily report.
pub const COLUMNS: csv::Columns = &[
    ("work_date", "Day", "日期"),
    ("technician", "Technician", "技术员"),
    ("technician_name", "Technician name", "技术员姓名"),
    ("A", "A paid (min)", "A 有费服务(分钟)"),
    ("B", "B contract (min)", "B 合同服务(分钟)"),
    ("C", "C warranty (min)", "C 免费服务(分钟)"),
    ("D", "D internal (min)", "D 一般行政工作(分钟)"),
    ("total", "Total (min)", "合计(分钟)"),
    ("review", "Review", "核阅"),
    ("reviewed_by", "Reviewed by", "核阅人"),
    ("reviewed_at", "Reviewed", "核阅时间"),
    ("changed_after_sign_off", "Changed after sign-off", "核阅后有改动"),
    ("note", "Note", "说明"),
];

fn csv_row(d: &DayRow) -> Value {
    let r = d.review.as_ref();
    json!({
        "work_date": d.work_date, "technician": d.technician, "technician_name": d.technician_name,
        "A": d.a, "B": d.b, "C": d.c, "D": d.d, "total": d.total,
        "review": r.map_or("not_reviewed", |r| r.status.as_str()),
        "reviewed_by": r.and_then(|r| r.reviewed_by.clone()), "reviewed_at": r.and_then(|r| r.reviewed_at.clone()),
        "changed_after_sign_off": r.is_some_and(|r| r.changed_at.is_some()),
        "note": r.and_then(|r| r.note.clone()),
    })
}

/// One entry of a day, as the review shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DayEntry {
    pub id: String,
    pub category: Option<String>,
    /// repair, inspection, travel, internal; null for entries from before activities (other).
    pub activity: Option<String>,
    pub minutes: i64,
    pub note: Option<String>,
    pub work_order_id: Option<String>,
    pub work_order_number: Option<String>,
    pub repair_record_id: Option<String>,
}

/// A technician's day: its entries, minutes per category and per activity, the review and its
/// audit trail.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Day {
    pub technician: String,
    pub technician_name: Option<String>,
    pub work_date: String,
    pub entries: Vec<DayEntry>,
    pub categories: Map<String, Value>,
    pub activities: Map<String, Value>,
    pub total: i64,
    pub review: Option<Review>,
    pub trail: Vec<Value>,
}

/// The activity of an entry without one (recorded before #12): as the laptop derives it.
fn derived_activity(f: &Map<String, Value>) -> Option<String> {
    if let Some(a) = records::text_of(f, "activity") {
        return Some(a.to_owned());
    }
    if records::text_of(f, "repair_record_id").is_some_and(|r| !r.is_empty()) {
        return Some("repair".into());
    }
    (records::text_of(f, "category") == Some("D")).then(|| "internal".into())
}

pub fn day_of(tx: &mut dyn Tx, technician: &str, day: NaiveDate) -> Result<Day> {
    let ids: Vec<String> = tx
        .query(
            "SELECT id FROM work_item_index WHERE entity = 'time_entries' AND technician = $1 AND work_date = $2 AND deleted = 0 ORDER BY id",
            params![technician, day.to_string()],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_>>()?;
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let stored = records::load_many(tx, "time_entries", &refs)?;
    let mut entries = Vec::new();
    let (mut categories, mut activities) = (Map::new(), Map::new());
    for k in ["A", "B", "C", "D"] {
        categories.insert(k.into(), json!(0));
    }
    for k in ["repair", "inspection", "travel", "internal", "other"] {
        activities.insert(k.into(), json!(0));
    }
    let mut total = 0;
    for (id, s) in &stored {
        let f = s.fields()?;
        let minutes = records::int_of(f, "minutes").unwrap_or(0);
        let category = records::text_of(f, "category").map(str::to_owned);
        let activity = derived_activity(f);
        let add = |m: &mut Map<String, Value>, k: &str| {
            if let Some(v) = m.get_mut(k) {
                *v = json!(v.as_i64().unwrap_or(0) + minutes);
            }
        };
        add(&mut categories, category.as_deref().unwrap_or(""));
        add(&mut activities, activity.as_deref().unwrap_or("other"));
        total += minutes;
        let order = records::text_of(f, "work_order_id").filter(|o| !o.is_empty()).map(str::to_owned);
        let number = match &order {
            Some(o) => tx.query_opt("SELECT number FROM work_order_index WHERE id = $1", params![o.as_str()])?.map(|r| r.text(0)).transpose()?,
            None => None,
        };
        entries.push(DayEntry {
            id: id.clone(),
            category,
            activity,
            minutes,
            note: records::text_of(f, "note").map(str::to_owned),
            work_order_id: order,
            work_order_number: number,
            repair_record_id: records::text_of(f, "repair_record_id").filter(|r| !r.is_empty()).map(str::to_owned),
        });
    }
    let id = review_id(technician, day);
    let review = match tx.query_opt(&format!("SELECT {REVIEW_COLS} FROM day_review_index r WHERE r.id = $1 AND r.deleted = 0"), params![id.as_str()])? {
        Some(r) => review_of(&r, 0)?,
        None => None,
    };
    let trail = tx
        .query("SELECT at, actor, action, detail FROM audit_log WHERE target_entity = 'day_reviews' AND target_id = $1 ORDER BY id", params![id.as_str()])?
        .iter()
        .map(|r| {
            let detail: Value = serde_json::from_str(&r.text(3)?).unwrap_or(Value::Null);
            Ok(json!({"at": r.text(0)?, "actor": r.text(1)?, "action": r.text(2)?, "detail": detail}))
        })
        .collect::<Result<_>>()?;
    let technician_name = tx.query_opt("SELECT display_name FROM users WHERE login = $1", params![technician])?.map(|r| r.text(0)).transpose()?;
    Ok(Day { technician: technician.to_owned(), technician_name, work_date: day.to_string(), entries, categories, activities, total, review, trail })
}

fn day_param(date: &str) -> Result<NaiveDate> {
    super::date("date", Some(date))?.ok_or_else(|| Error::Invalid("date: give the work date as YYYY-MM-DD".into()))
}

pub async fn detail(State(s): State<AppState>, _u: ConsoleUser, Path((technician, date)): Path<(String, String)>) -> Result<Json<Day>> {
    let day = day_param(&date)?;
    Ok(Json(s.db.run(Mode::Read, move |tx| day_of(tx, &technician, day)).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    /// `signed_off` or `returned`.
    pub status: String,
    pub note: Option<String>,
}

/// The office signs a technician's day off or returns it with a note. Runs in a `Mode::Feed`
/// transaction.
pub fn decide(tx: &mut dyn Tx, actor: &str, technician: &str, day: NaiveDate, req: &DecideRequest) -> Result<Day> {
    let status = req.status.as_str();
    if !matches!(status, "signed_off" | "returned") {
        return Err(Error::Invalid(format!("status '{status}': sign the day off (signed_off) or return it with a note (returned)")));
    }
    let note = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if status == "returned" && note.is_none() {
        return Err(Error::Invalid("note: say what the technician must correct (a returned day needs a note)".into()));
    }
    if let Some(n) = note {
        let len = n.chars().count();
        if len > MAX_NOTE || n.contains('\0') {
            return Err(Error::Invalid(format!("note: at most {MAX_NOTE} characters of text (this is {len})")));
        }
    }
    let role = tx.query_opt("SELECT role FROM users WHERE login = $1", params![technician])?.map(|r| r.text(0)).transpose()?;
    if role.as_deref() != Some("technician") {
        return Err(Error::NotFound(format!("technician '{technician}': no such technician; pick one from the list")));
    }
    if day > chrono::Utc::now().date_naive() + chrono::Duration::days(1) {
        return Err(Error::Invalid(format!("date {day}: a day in the future cannot be reviewed yet")));
    }
    let before = day_of(tx, technician, day)?;
    if status == "signed_off" && before.entries.is_empty() {
        return Err(Error::Invalid(format!("{technician} has no time recorded on {day}: there is nothing to sign off; return the day with a note instead")));
    }
    let id = review_id(technician, day);
    let mut w = Writer::begin(tx)?;
    write_fresh(&mut w, "day_reviews", &id, &[
        ("technician", json!(technician)),
        ("work_date", json!(day.to_string())),
        ("status", json!(status)),
        ("note", json!(note)),
        ("reviewed_by", json!(actor)),
        ("reviewed_at", json!(crate::now_text())),
        ("minutes", json!(before.total)),
        ("deleted", json!(false)),
    ])?;
    w.finish()?;
    let was = before.review.as_ref().map(|r| json!({"status": r.status, "changed_at": r.changed_at}));
    audit::record(tx, actor, &format!("day_{status}"), Some("day_reviews"), Some(&id), None, json!({"technician": technician, "work_date": day.to_string(), "minutes": before.total, "note": note, "before": was}))?;
    day_of(tx, technician, day)
}

pub async fn decide_route(
    State(s): State<AppState>,
    u: ConsoleUser,
    Path((technician, date)): Path<(String, String)>,
    JsonBody(req): JsonBody<DecideRequest>,
) -> Result<Json<Day>> {
    let day = day_param(&date)?;
    let actor = u.login().to_owned();
    Ok(Json(s.db.run(Mode::Feed, move |tx| decide(tx, &actor, &technician, day, &req)).await?))
}

/// The supervisor's daily report: every technician's day in the range, minutes per category,
/// and whether it is signed off (returned, not reviewed, changed after sign-off), from the
/// `minutes_day` rollup.
pub fn supervisor_report(tx: &mut dyn Tx, from: NaiveDate, to: NaiveDate, technician: Option<&str>, rows: Option<usize>) -> Result<(Vec<Value>, Option<usize>)> {
    // The technicians' days (from the minutes rollup) with the filters; `head` is what is selected.
    let days = |head: &str| {
        let mut sql = super::Sql::new(head);
        sql.push(" FROM minutes_day m WHERE m.entries > 0");
        let (a, b) = (sql.bind(from.to_string()), sql.bind(to.to_string()));
        sql.push(&format!(" AND m.work_date >= {a} AND m.work_date <= {b}"));
        if let Some(t) = technician {
            let p = sql.bind(t);
            sql.push(&format!(" AND m.technician = {p}"));
        }
        sql
    };
    // Bytewise on both backends, so that pages follow each other the same way.
    let bytewise = if tx.backend() == db::Backend::Postgres { " COLLATE \"C\"" } else { "" };
    let order = format!(" ORDER BY m.work_date{bytewise}, m.technician{bytewise}");
    let mut total = None;
    let mut page = days("SELECT m.work_date, m.technician, m.a, m.b, m.c, m.d, m.total");
    page.push(&order);
    if let Some(n) = rows {
        let count = days("SELECT COUNT(*)");
        total = Some(tx.query_one(&count.text, &count.params)?.int(0)? as usize);
        let p = page.bind(n as i64);
        page.push(&format!(" LIMIT {p}"));
    }
    // The page's days first, then their reviews and names: joining after the limit (a year of
    // 200 technicians is 73,000 days), not before it.
    let sql = super::Sql {
        text: format!(
            "SELECT m.work_date, m.technician, u.display_name, m.a, m.b, m.c, m.d, m.total, {REVIEW_COLS} FROM ({}) m \
             LEFT JOIN day_review_index r ON r.technician = m.technician AND r.work_date = m.work_date AND r.deleted = 0 \
             LEFT JOIN users u ON u.login = m.technician{order}",
            page.text
        ),
        params: page.params,
    };
    let out = tx
        .query(&sql.text, &sql.params)?
        .iter()
        .map(|r| {
            let d = DayRow {
                work_date: r.text(0)?,
                technician: r.text(1)?,
                technician_name: r.opt_text(2)?,
                entries: 0,
                a: r.int(3)?,
                b: r.int(4)?,
                c: r.int(5)?,
                d: r.int(6)?,
                total: r.int(7)?,
                review: review_of(r, 8)?,
            };
            Ok(csv_row(&d))
        })
        .collect::<Result<Vec<Value>>>()?;
    Ok((out, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entrys_activity_is_derived_as_the_laptop_derives_it() {
        let m = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(derived_activity(&m(json!({"activity": "travel", "category": "D"}))).as_deref(), Some("travel"));
        assert_eq!(derived_activity(&m(json!({"repair_record_id": "r1", "category": "A"}))).as_deref(), Some("repair"));
        assert_eq!(derived_activity(&m(json!({"category": "D"}))).as_deref(), Some("internal"));
        assert_eq!(derived_activity(&m(json!({"category": "B"}))), None);
        assert_eq!(review_id("li.wei", NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()), "day:li.wei:2026-03-02");
    }
}
