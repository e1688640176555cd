//! The reports, computed from the projections ([`super::index`]) so that each answers quickly
//! with a million work orders. Every report takes `from`, `to` (dates, UTC days; by default the
//! 30 days up to today), `technician`, `customer` and `region`, and answers
//! `{columns: [{key, label_en, label_zh}], rows: [...]}`, or CSV with `?format=csv`.
//!
//! Which date the range applies to: an order's `reported_at` (response, first-time fix), a
//! record's own day (time entries' work day, repairs' and findings' day, satisfaction cards'
//! rating day), the scheduled day (overdue inspections: only when a range is given), and a
//! contract's end (expiring contracts: today to `days` ahead; technician and region do not apply).
//!
//! Response, daily minutes, first-time fix, satisfaction and fault-prone assets read the per-day
//! rollups ([`super::rollup`]) when their filters fit a rollup's grain (none, a technician, or a
//! region where the rollup has one), and the projections otherwise ([`Source::Projections`] forces the
//! latter; the tests check both give the same answer). A day in a rollup is the UTC day of the
//! stored timestamp, its first 10 characters, as the projections' ranges compare them.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{csv, date, day_start, ConsoleUser, Sql};
use crate::api::AppState;
use crate::db::{Mode, Tx};
use crate::error::{Error, Result};

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ReportQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub technician: Option<String>,
    pub customer: Option<String>,
    pub region: Option<String>,
    pub by: Option<String>,
    pub days: Option<String>,
    pub format: Option<String>,
    pub lang: Option<String>,
    /// Rows in a JSON answer (CSV has every row).
    pub limit: Option<String>,
}

/// Rows in a JSON answer unless `limit` says otherwise: a page shows at most this many (a year
/// of daily reports is 73,000 rows, a table nobody reads on a screen); the CSV has them all.
pub const JSON_ROWS: usize = 1000;

/// The checked filters.
#[derive(Debug, Clone)]
pub struct Filters {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Whether the range was given (or defaulted).
    pub explicit_range: bool,
    pub technician: Option<String>,
    pub customer: Option<String>,
    pub region: Option<String>,
    /// Only the first this many rows are needed (a JSON page); `None` for every row (CSV).
    pub rows: Option<usize>,
}

fn some(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl Filters {
    pub fn parse(q: &ReportQuery) -> Result<Filters> {
        let today = chrono::Utc::now().date_naive();
        let to = date("to", q.to.as_deref())?;
        let from = date("from", q.from.as_deref())?;
        let explicit_range = to.is_some() || from.is_some();
        let to = to.unwrap_or(today);
        let from = from.unwrap_or(to - chrono::Duration::days(30));
        if from > to {
            return Err(Error::Invalid(format!("from {from} is after to {to}; swap them")));
        }
        let rows = if matches!(q.format.as_deref(), Some("csv")) {
            None
        } else {
            match q.limit.as_deref().filter(|s| !s.is_empty()) {
                None => Some(JSON_ROWS),
                Some(n) => Some(n.parse::<usize>().ok().filter(|n| (1..=100_000).contains(n)).ok_or_else(|| Error::Invalid(format!("limit '{n}': use 1 to 100000 rows")))?),
            }
        };
        Ok(Filters { from, to, explicit_range, technician: some(&q.technician), customer: some(&q.customer), region: some(&q.region), rows })
    }

    /// `AND …` on the order `w` (technician, customer, region).
    fn order_filters(&self, sql: &mut Sql, w: &str) {
        if let Some(t) = &self.technician {
            let p = sql.bind(t.as_str());
            sql.push(&format!(" AND {w}.technician = {p}"));
        }
        if let Some(c) = &self.customer {
            let p = sql.bind(c.as_str());
            sql.push(&format!(" AND {w}.customer_id = {p}"));
        }
        if let Some(r) = &self.region {
            let p = sql.bind(r.as_str());
            sql.push(&format!(" AND {w}.region = {p}"));
        }
    }

    /// `AND {col} >= from AND {col} < to + 1 day` on a timestamp column.
    fn time_range(&self, sql: &mut Sql, col: &str) {
        let (a, b) = (sql.bind(day_start(self.from)), sql.bind(day_start(self.to + chrono::Duration::days(1))));
        sql.push(&format!(" AND {col} >= {a} AND {col} < {b}"));
    }

    /// The same on a date column (`YYYY-MM-DD`).
    fn date_range(&self, sql: &mut Sql, col: &str) {
        let (a, b) = (sql.bind(self.from.to_string()), sql.bind(self.to.to_string()));
        sql.push(&format!(" AND {col} >= {a} AND {col} <= {b}"));
    }
}

/// Where a report reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The rollups when the filters fit them, else the projections.
    Rollups,
    /// Only the projections (and first-time fix computed afresh from the repairs).
    Projections,
}

/// `AND {col} >= from AND {col} <= to` on a rollup's day column.
fn day_range(f: &Filters, sql: &mut Sql, col: &str) {
    f.date_range(sql, col)
}

/// A report's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub columns: Vec<(&'static str, &'static str, &'static str)>,
    pub rows: Vec<Value>,
    /// How many rows there are in all, when `rows` holds only the first ones.
    pub total_rows: Option<usize>,
}

impl Report {
    pub fn json(&self) -> Value {
        self.json_first(usize::MAX)
    }

    /// The answer with its first `limit` rows, and how many there are in all.
    pub fn json_first(&self, limit: usize) -> Value {
        json!({
            "columns": self.columns.iter().map(|(k, en, zh)| json!({"key": k, "label_en": en, "label_zh": zh})).collect::<Vec<_>>(),
            "rows": &self.rows[..self.rows.len().min(limit)],
            "total_rows": self.total_rows.unwrap_or(self.rows.len()),
        })
    }
}

fn rate(part: i64, whole: i64) -> Value {
    if whole == 0 {
        Value::Null
    } else {
        json!(((part as f64 / whole as f64) * 1000.0).round() / 1000.0)
    }
}

/// The average of a sum (column `i`) over a count (column `i + 1`), to two places. Sums and
/// counts are BIGINTs on both engines (PostgreSQL's AVG would be a NUMERIC).
fn avg(r: &crate::db::Row, i: usize) -> Result<Value> {
    let (sum, n) = (r.opt_int(i)?.unwrap_or(0), r.opt_int(i + 1)?.unwrap_or(0));
    Ok(if n == 0 { Value::Null } else { json!(((sum as f64 / n as f64) * 100.0).round() / 100.0) })
}

pub fn response(tx: &mut dyn Tx, f: &Filters, by: &str, src: Source) -> Result<Report> {
    let group = match by {
        "day" => "SUBSTR(w.reported_at, 1, 10)",
        "technician" => "COALESCE(w.technician, '')",
        "zone" => "COALESCE(w.zone, '')",
        other => return Err(Error::Invalid(format!("by '{other}': use day, technician or zone"))),
    };
    let now = crate::now_text();
    // Which rollup answers: by technician (grouped by day or technician, filtered by technician)
    // or by area (grouped by day or zone, filtered by region).
    let by_technician = f.customer.is_none() && f.region.is_none() && by != "zone";
    let by_area = f.customer.is_none() && f.technician.is_none() && by != "technician";
    let counts: Vec<(String, i64, i64, i64)> = if src == Source::Rollups && (by_technician || by_area) {
        let (table, col) = if by_area { ("order_day_by_area", if by == "day" { "day" } else { "zone" }) } else { ("order_day_by_technician", if by == "day" { "day" } else { "technician" }) };
        let mut sql = Sql::new(&format!("SELECT {col}, CAST(SUM(orders) AS BIGINT), CAST(SUM(met) AS BIGINT), CAST(SUM(late) AS BIGINT) FROM {table} WHERE 1 = 1"));
        day_range(f, &mut sql, "day");
        if let Some(t) = f.technician.as_deref().filter(|_| !by_area) {
            let p = sql.bind(t);
            sql.push(&format!(" AND technician = {p}"));
        }
        if let Some(r) = f.region.as_deref().filter(|_| by_area) {
            let p = sql.bind(r);
            sql.push(&format!(" AND region = {p}"));
        }
        sql.push(" GROUP BY 1 HAVING SUM(orders) > 0 ORDER BY 1");
        let mut rows: Vec<(String, i64, i64, i64)> = tx.query(&sql.text, &sql.params)?.iter().map(|r| Ok((r.text(0)?, r.int(1)?, r.int(2)?, r.int(3)?))).collect::<Result<_>>()?;
        // Orders not arrived yet are late once their deadline has passed: counted now.
        let mut sql = Sql::new("");
        let p = sql.bind(now.as_str());
        sql.push(&format!(
            "SELECT {group}, COUNT(*) FROM work_order_index w \
             WHERE w.arrived_at IS NULL AND w.deleted = 0 AND w.response_deadline IS NOT NULL AND w.response_deadline < {p}"
        ));
        f.time_range(&mut sql, "w.reported_at");
        f.order_filters(&mut sql, "w");
        sql.push(" GROUP BY 1");
        let mut late_now: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
        for r in tx.query(&sql.text, &sql.params)? {
            late_now.insert(r.text(0)?, r.int(1)?);
        }
        for row in &mut rows {
            row.3 += late_now.get(&row.0).copied().unwrap_or(0);
        }
        rows
    } else {
        let mut sql = Sql::new("");
        let now = sql.bind(now);
        sql.push(&format!(
            "SELECT {group}, COUNT(*), \
             CAST(SUM(CASE WHEN w.arrived_at IS NOT NULL AND w.arrived_at <= w.response_deadline THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN (w.arrived_at IS NOT NULL AND w.arrived_at > w.response_deadline) OR (w.arrived_at IS NULL AND w.response_deadline < {now}) THEN 1 ELSE 0 END) AS BIGINT) \
             FROM work_order_index w WHERE w.deleted = 0 AND w.response_deadline IS NOT NULL"
        ));
        f.time_range(&mut sql, "w.reported_at");
        f.order_filters(&mut sql, "w");
        sql.push(" GROUP BY 1 ORDER BY 1");
        tx.query(&sql.text, &sql.params)?.iter().map(|r| Ok((r.text(0)?, r.int(1)?, r.int(2)?, r.int(3)?))).collect::<Result<_>>()?
    };
    let rows = counts
        .into_iter()
        .map(|(group, orders, met, breached)| json!({"group": group, "orders": orders, "met": met, "breached": breached, "met_rate": rate(met, met + breached)}))
        .collect();
    Ok(Report {
        total_rows: None,
        columns: vec![
            ("group", if by == "day" { "Day" } else if by == "zone" { "Zone" } else { "Technician" }, if by == "day" { "日期" } else if by == "zone" { "城区/郊区" } else { "技术员" }),
            ("orders", "Orders", "工单数"),
            ("met", "Met", "按时"),
            ("breached", "Breached", "超时"),
            ("met_rate", "Met rate", "按时率"),
        ],
        rows,
    })
}

fn minutes_row(day: &str, tech: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("work_date".into(), json!(day));
    m.insert("technician".into(), json!(tech));
    for c in ["A", "B", "C", "D", "total"] {
        m.insert(c.into(), json!(0));
    }
    m
}

pub fn daily_minutes(tx: &mut dyn Tx, f: &Filters, src: Source) -> Result<Report> {
    let mut table: BTreeMap<(String, String), Map<String, Value>> = BTreeMap::new();
    if src == Source::Rollups && f.customer.is_none() {
        let mut sql = Sql::new("SELECT work_date, technician, a, b, c, d, total FROM minutes_day WHERE entries > 0");
        if let Some(r) = &f.region {
            sql = Sql::new("SELECT work_date, technician, a, b, c, d, total FROM minutes_day_by_region WHERE entries > 0");
            let p = sql.bind(r.as_str());
            sql.push(&format!(" AND region = {p}"));
        }
        day_range(f, &mut sql, "work_date");
        if let Some(t) = &f.technician {
            let p = sql.bind(t.as_str());
            sql.push(&format!(" AND technician = {p}"));
        }
        // A page needs only the first rows (in byte order, as the table below sorts them), and
        // reading all 73,000 of a year is what took the time; the count says how many there are.
        let mut total = None;
        if let Some(n) = f.rows {
            let count = Sql { text: sql.text.replacen("SELECT work_date, technician, a, b, c, d, total", "SELECT COUNT(*)", 1), params: sql.params.clone() };
            total = Some(tx.query_one(&count.text, &count.params)?.int(0)? as usize);
            let bytewise = if tx.backend() == crate::db::Backend::Postgres { " COLLATE \"C\"" } else { "" };
            let p = sql.bind(n as i64);
            sql.push(&format!(" ORDER BY work_date{bytewise}, technician{bytewise} LIMIT {p}"));
        }
        for r in tx.query(&sql.text, &sql.params)? {
            let (day, tech) = (r.text(0)?, r.text(1)?);
            let mut m = minutes_row(&day, &tech);
            for (i, c) in ["A", "B", "C", "D", "total"].into_iter().enumerate() {
                m.insert(c.into(), json!(r.int(2 + i)?));
            }
            table.insert((day, tech), m);
        }
        return Ok(Report { total_rows: total, ..minutes_report(table) });
    }
    // The order is joined only when a filter needs it (time entries carry their technician).
    let join = if f.customer.is_some() || f.region.is_some() { "JOIN work_order_index w ON w.id = t.work_order_id" } else { "" };
    let mut sql = Sql::new(&format!(
        "SELECT t.work_date, COALESCE(t.technician, ''), COALESCE(t.category, ''), CAST(SUM(t.minutes) AS BIGINT) FROM work_item_index t \
         {join} WHERE t.entity = 'time_entries' AND t.deleted = 0"
    ));
    f.date_range(&mut sql, "t.work_date");
    if let Some(t) = &f.technician {
        let p = sql.bind(t.as_str());
        sql.push(&format!(" AND t.technician = {p}"));
    }
    let only_orders = Filters { technician: None, ..f.clone() };
    only_orders.order_filters(&mut sql, "w");
    sql.push(" GROUP BY t.work_date, t.technician, t.category ORDER BY 1, 2");
    for r in tx.query(&sql.text, &sql.params)? {
        let (day, tech, cat, minutes) = (r.text(0)?, r.text(1)?, r.text(2)?, r.opt_int(3)?.unwrap_or(0));
        let row = table.entry((day.clone(), tech.clone())).or_insert_with(|| minutes_row(&day, &tech));
        if let Some(v) = row.get_mut(&cat).filter(|_| matches!(cat.as_str(), "A" | "B" | "C" | "D")) {
            *v = json!(v.as_i64().unwrap_or(0) + minutes);
        }
        let total = row["total"].as_i64().unwrap_or(0) + minutes;
        row.insert("total".into(), json!(total));
    }
    Ok(minutes_report(table))
}

fn minutes_report(table: BTreeMap<(String, String), Map<String, Value>>) -> Report {
    Report {
        total_rows: None,
        columns: vec![
            ("work_date", "Day", "日期"),
            ("technician", "Technician", "技术员"),
            ("A", "A paid (min)", "A 有费服务(分钟)"),
            ("B", "B contract (min)", "B 合同服务(分钟)"),
            ("C", "C warranty (min)", "C 免费服务(分钟)"),
            ("D", "D internal (min)", "D 一般行政工作(分钟)"),
            ("total", "Total (min)", "合计(分钟)"),
        ],
        rows: table.into_values().map(Value::Object).collect(),
    }
}

/// Above this many orders, first-time fix computed afresh reads every repair at once.
const TARGETED_MAX: usize = 10_000;

/// First-time fix of completed repair calls reported in the range: from the order rollup (no
/// filter or a technician), from the orders' `not_fixed` flags (other filters), or computed
/// afresh from the repairs and follow-ups ([`Source::Projections`]).
pub fn first_time_fix(tx: &mut dyn Tx, f: &Filters, by: &str, src: Source) -> Result<Report> {
    if by != "technician" {
        return Err(Error::Invalid(format!("by '{by}': this report groups by technician")));
    }
    let mut groups: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    if src == Source::Rollups && f.customer.is_none() && f.region.is_none() {
        let mut sql = Sql::new("SELECT technician, CAST(SUM(repairs) AS BIGINT), CAST(SUM(fixed) AS BIGINT) FROM order_day_by_technician WHERE 1 = 1");
        day_range(f, &mut sql, "day");
        if let Some(t) = &f.technician {
            let p = sql.bind(t.as_str());
            sql.push(&format!(" AND technician = {p}"));
        }
        sql.push(" GROUP BY 1 HAVING SUM(repairs) > 0");
        for r in tx.query(&sql.text, &sql.params)? {
            groups.insert(r.text(0)?, (r.int(1)?, r.int(2)?));
        }
    } else {
        let mut sql = Sql::new(
            "SELECT w.id, COALESCE(w.technician, ''), w.not_fixed FROM work_order_index w \
             WHERE w.deleted = 0 AND w.kind = 'repair_call' AND w.status IN ('completed', 'signed')",
        );
        f.time_range(&mut sql, "w.reported_at");
        f.order_filters(&mut sql, "w");
        let orders: Vec<(String, String, bool)> = tx.query(&sql.text, &sql.params)?.iter().map(|r| Ok((r.text(0)?, r.text(1)?, r.int(2)? != 0))).collect::<Result<_>>()?;
        let afresh = match src {
            Source::Rollups => None,
            Source::Projections if orders.len() > TARGETED_MAX => Some(super::rollup::not_fixed_all(tx)?),
            Source::Projections => {
                let ids: Vec<&str> = orders.iter().map(|o| o.0.as_str()).collect();
                Some(super::rollup::not_fixed_of(tx, &ids)?)
            }
        };
        for (id, tech, flagged) in &orders {
            let g = groups.entry(tech.clone()).or_default();
            g.0 += 1;
            let not_fixed = afresh.as_ref().map_or(*flagged, |a| a.contains(id));
            if !not_fixed {
                g.1 += 1;
            }
        }
    }
    let rows = groups.into_iter().map(|(g, (n, ok))| json!({"group": g, "repairs": n, "fixed_first_time": ok, "rate": rate(ok, n)})).collect();
    Ok(Report {
        total_rows: None,
        columns: vec![
            ("group", "Technician", "技术员"),
            ("repairs", "Repair calls", "维修工单"),
            ("fixed_first_time", "Fixed first time", "一次修复"),
            ("rate", "First-time fix rate", "一次修复率"),
        ],
        rows,
    })
}

pub fn satisfaction(tx: &mut dyn Tx, f: &Filters, src: Source) -> Result<Report> {
    let sql = if src == Source::Rollups && f.customer.is_none() {
        let mut sql = Sql::new(&format!(
            "SELECT technician, CAST(SUM(cards) AS BIGINT), CAST(SUM(attitude) AS BIGINT), CAST(SUM(attitude_n) AS BIGINT), \
             CAST(SUM(skill) AS BIGINT), CAST(SUM(skill_n) AS BIGINT), CAST(SUM(arrival) AS BIGINT), CAST(SUM(arrival_n) AS BIGINT), \
             CAST(SUM(promise) AS BIGINT), CAST(SUM(promise_n) AS BIGINT) FROM {} WHERE 1 = 1",
            if f.region.is_some() { "satisfaction_day_by_region" } else { "satisfaction_day" }
        ));
        if let Some(r) = &f.region {
            let p = sql.bind(r.as_str());
            sql.push(&format!(" AND region = {p}"));
        }
        day_range(f, &mut sql, "day");
        if let Some(t) = &f.technician {
            let p = sql.bind(t.as_str());
            sql.push(&format!(" AND technician = {p}"));
        }
        sql.push(" GROUP BY 1 HAVING SUM(cards) > 0 ORDER BY 1");
        sql
    } else {
        satisfaction_direct(f)
    };
    let rows = tx
        .query(&sql.text, &sql.params)?
        .iter()
        .map(|r| {
            Ok(json!({
                "technician": r.text(0)?, "cards": r.int(1)?, "attitude": avg(r, 2)?, "skill": avg(r, 4)?,
                "arrival": avg(r, 6)?, "promise": avg(r, 8)?,
            }))
        })
        .collect::<Result<_>>()?;
    Ok(Report {
        total_rows: None,
        columns: vec![
            ("technician", "Technician", "技术员"),
            ("cards", "Cards", "评价数"),
            ("attitude", "Attitude", "服务态度"),
            ("skill", "Skill", "技术水平"),
            ("arrival", "Arrival", "到达及时"),
            ("promise", "Promise kept", "信守承诺"),
        ],
        rows,
    })
}

fn satisfaction_direct(f: &Filters) -> Sql {
    let mut sql = Sql::new(
        "SELECT COALESCE(w.technician, ''), COUNT(*), \
         CAST(SUM(s.attitude) AS BIGINT), COUNT(s.attitude), CAST(SUM(s.skill) AS BIGINT), COUNT(s.skill), \
         CAST(SUM(s.arrival) AS BIGINT), COUNT(s.arrival), CAST(SUM(s.promise) AS BIGINT), COUNT(s.promise) \
         FROM work_item_index s JOIN work_order_index w ON w.id = s.work_order_id \
         WHERE s.entity = 'satisfaction_cards' AND s.deleted = 0",
    );
    f.date_range(&mut sql, "s.work_date");
    f.order_filters(&mut sql, "w");
    sql.push(" GROUP BY 1 ORDER BY 1");
    sql
}

pub fn fault_prone_assets(tx: &mut dyn Tx, f: &Filters, src: Source) -> Result<Report> {
    // Counted first (joining the order only for its filters), named after: only the top 100.
    let join = if f.technician.is_some() || f.customer.is_some() || f.region.is_some() { "JOIN work_order_index w ON w.id = i.work_order_id" } else { "" };
    let sql = if src == Source::Rollups && f.technician.is_none() && f.customer.is_none() {
        let mut sql = Sql::new(&format!(
            "SELECT asset_id, CAST(SUM(repairs) AS BIGINT) AS repairs, CAST(SUM(findings) AS BIGINT) AS findings FROM {} WHERE 1 = 1",
            if f.region.is_some() { "asset_day_by_region" } else { "asset_day" }
        ));
        if let Some(r) = &f.region {
            let p = sql.bind(r.as_str());
            sql.push(&format!(" AND region = {p}"));
        }
        day_range(f, &mut sql, "day");
        sql.push(" GROUP BY asset_id HAVING SUM(repairs) + SUM(findings) > 0 ORDER BY 2 DESC, 3 DESC, 1 LIMIT 100");
        sql
    } else {
        fault_prone_direct(f, join)
    };
    let sql = Sql {
        text: format!(
            "SELECT t.asset_id, t.repairs, t.findings, a.code, a.name, s.name FROM ({}) t \
             LEFT JOIN reference_index a ON a.entity = 'assets' AND a.id = t.asset_id \
             LEFT JOIN reference_index s ON s.entity = 'sites' AND s.id = a.parent_id ORDER BY 2 DESC, 3 DESC, 1",
            sql.text
        ),
        params: sql.params,
    };
    let rows = tx
        .query(&sql.text, &sql.params)?
        .iter()
        .map(|r| {
            Ok(json!({
                "asset_id": r.text(0)?, "repairs": r.int(1)?, "findings": r.int(2)?, "asset_code": r.opt_text(3)?, "asset_name": r.opt_text(4)?,
                "site_name": r.opt_text(5)?,
            }))
        })
        .collect::<Result<_>>()?;
    Ok(Report {
        total_rows: None,
        columns: vec![
            ("asset_code", "Asset", "设备编号"),
            ("asset_name", "Asset name", "设备名称"),
            ("site_name", "Site", "地点"),
            ("repairs", "Repairs", "维修次数"),
            ("findings", "Findings", "发现问题"),
            ("asset_id", "Asset ID", "设备ID"),
        ],
        rows,
    })
}

fn fault_prone_direct(f: &Filters, join: &str) -> Sql {
    let mut sql = Sql::new(&format!(
        "SELECT i.asset_id, CAST(SUM(CASE WHEN i.entity = 'repair_records' THEN 1 ELSE 0 END) AS BIGINT) AS repairs, \
         CAST(SUM(CASE WHEN i.entity = 'inspection_answers' THEN 1 ELSE 0 END) AS BIGINT) AS findings \
         FROM work_item_index i {join} \
         WHERE i.entity IN ('repair_records', 'inspection_answers') AND i.deleted = 0 AND i.asset_id IS NOT NULL"
    ));
    f.date_range(&mut sql, "i.work_date");
    if !join.is_empty() {
        f.order_filters(&mut sql, "w");
    }
    sql.push(" GROUP BY i.asset_id ORDER BY 2 DESC, 3 DESC, 1 LIMIT 100");
    sql
}

pub fn frequent_findings(tx: &mut dyn Tx, f: &Filters) -> Result<Report> {
    let mut sql = Sql::new(
        "SELECT i.item_key, COUNT(*) FROM work_item_index i JOIN work_order_index w ON w.id = i.work_order_id \
         WHERE i.entity = 'inspection_answers' AND i.finding = 1 AND i.deleted = 0",
    );
    f.date_range(&mut sql, "i.work_date");
    f.order_filters(&mut sql, "w");
    sql.push(" GROUP BY i.item_key ORDER BY 2 DESC, 1 LIMIT 100");
    let counts: Vec<(String, i64)> = tx.query(&sql.text, &sql.params)?.iter().map(|r| Ok((r.text(0)?, r.int(1)?))).collect::<Result<_>>()?;
    // Labels from the newest template version that has the item.
    let mut labels: BTreeMap<String, (i64, String, String)> = BTreeMap::new();
    for (_, t) in crate::records::all(tx, "checklist_templates")? {
        let version = crate::records::int(&t, "version").unwrap_or(0);
        let Some(body) = t.fields.get("body").cloned().and_then(|b| serde_json::from_value::<fieldbook_core::checklist::ChecklistTemplate>(b).ok()) else { continue };
        for (key, _) in &counts {
            if let Some(item) = body.item(key) {
                if labels.get(key).is_none_or(|(v, ..)| *v < version) {
                    labels.insert(key.clone(), (version, item.label.en.clone(), item.label.zh.clone()));
                }
            }
        }
    }
    let rows = counts
        .into_iter()
        .map(|(key, n)| {
            let (_, en, zh) = labels.get(&key).cloned().unwrap_or((0, key.clone(), key.clone()));
            json!({"item_key": key, "label_en": en, "label_zh": zh, "count": n})
        })
        .collect();
    Ok(Report {
        total_rows: None,
        columns: vec![("label_en", "Item", "项目(英文)"), ("label_zh", "Item (Chinese)", "项目"), ("count", "Findings", "发现次数"), ("item_key", "Item key", "项目编号")],
        rows,
    })
}

/// Patrol inspections past their day and not done: open orders scheduled before today, and the
/// planned due dates (#12, `console::plans`) of active inspection plans that have no order yet
/// (`generated` false) — each with its plan and contract. Without a date range, planned due dates
/// of the last year are looked at. Oldest first; a JSON page holds the first rows (`limit`) with
/// the count of all, a CSV every row.
pub fn overdue_inspections(tx: &mut dyn Tx, f: &Filters) -> Result<Report> {
    let today = chrono::Utc::now().date_naive();
    // The open orders past their day, with the filters; `head` is what is selected.
    let overdue = |head: &str| {
        let mut sql = Sql::new(head);
        sql.push(" FROM work_order_index w WHERE w.kind = 'patrol_inspection' AND w.status IN ('new', 'dispatched', 'en_route', 'on_site') AND w.deleted = 0");
        let p = sql.bind(today.to_string());
        sql.push(&format!(" AND w.scheduled_on < {p}"));
        if f.explicit_range {
            f.date_range(&mut sql, "w.scheduled_on");
        }
        f.order_filters(&mut sql, "w");
        sql
    };
    // The page's orders first, then their names: joining after the limit, not before it.
    let mut page = overdue("SELECT w.id, w.number, w.technician, w.scheduled_on, w.customer_id, w.site_id");
    page.push(" ORDER BY w.scheduled_on, w.number");
    if let Some(n) = f.rows {
        let p = page.bind(n as i64);
        page.push(&format!(" LIMIT {p}"));
    }
    let sql = format!(
        "SELECT w.id, w.number, c.name, s.name, w.technician, w.scheduled_on, po.plan_id, po.due_on FROM ({}) w \
         LEFT JOIN reference_index c ON c.entity = 'customers' AND c.id = w.customer_id \
         LEFT JOIN reference_index s ON s.entity = 'sites' AND s.id = w.site_id \
         LEFT JOIN plan_orders po ON po.work_order_id = w.id ORDER BY w.scheduled_on, w.number",
        page.text
    );
    let found = tx.query(&sql, &page.params)?;
    let orders_in_all = match f.rows {
        Some(n) if found.len() >= n => {
            let count = overdue("SELECT COUNT(*)");
            tx.query_one(&count.text, &count.params)?.int(0)? as usize
        }
        _ => found.len(),
    };
    let days_since = |d: Option<&str>| d.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).map(|d| (today - d).num_days());
    // The plans of the planned orders and their contracts: a few queries for all of them.
    let plan_ids: Vec<String> = {
        let mut ids: Vec<String> = found.iter().filter_map(|r| r.opt_text(6).ok().flatten()).collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let plans: HashMap<String, crate::records::Stored> = crate::records::load_many(tx, "inspection_plans", &plan_ids.iter().map(String::as_str).collect::<Vec<_>>())?.into_iter().collect();
    let mut contract_ids: Vec<&str> = Vec::new();
    for p in plans.values() {
        if let Some(c) = p.text("contract_id")? {
            contract_ids.push(c);
        }
    }
    let contracts: HashMap<String, crate::records::Stored> = crate::records::load_many(tx, "contracts", &contract_ids)?.into_iter().collect();
    let mut rows: Vec<Value> = Vec::new();
    for r in found {
        let scheduled = r.opt_text(5)?;
        let (plan, contract) = match r.opt_text(6)?.and_then(|pid| plans.get(&pid)) {
            Some(p) => {
                let number = match p.text("contract_id")?.and_then(|c| contracts.get(c)) {
                    Some(c) => c.text("number")?.map(str::to_owned),
                    None => None,
                };
                (p.text("name")?.map(str::to_owned), number)
            }
            None => (None, None),
        };
        rows.push(json!({
            "work_order_id": r.text(0)?, "number": r.text(1)?, "customer_name": r.opt_text(2)?, "site_name": r.opt_text(3)?,
            "technician": r.opt_text(4)?, "scheduled_on": scheduled, "days_overdue": days_since(scheduled.as_deref()),
            "plan_name": plan, "contract_number": contract, "due_on": r.opt_text(7)?, "generated": true,
        }));
    }
    let from = if f.explicit_range { f.from } else { today - chrono::Duration::days(365) };
    let until = if f.explicit_range { (f.to + chrono::Duration::days(1)).min(today) } else { today };
    let mut missing: Vec<super::plans::NotGenerated> = super::plans::not_generated(tx, from, until)?
        .into_iter()
        .filter(|n| f.technician.as_ref().is_none_or(|t| n.technician.as_ref() == Some(t)) && f.customer.as_ref().is_none_or(|c| *c == n.customer_id))
        .collect();
    let sites = {
        let ids: Vec<&str> = missing.iter().map(|n| n.site_id.as_str()).collect();
        super::plans::reference_names(tx, "sites", &ids)?
    };
    if let Some(region) = &f.region {
        missing.retain(|n| sites.get(&n.site_id).and_then(|s| s.1.as_ref()) == Some(region));
    }
    let missing_in_all = missing.len();
    if let Some(n) = f.rows {
        missing.truncate(n);
    }
    let customers = {
        let ids: Vec<&str> = missing.iter().map(|n| n.customer_id.as_str()).collect();
        super::plans::reference_names(tx, "customers", &ids)?
    };
    for n in missing {
        let due = n.due_on.to_string();
        rows.push(json!({
            "work_order_id": null, "number": null, "customer_name": customers.get(&n.customer_id).and_then(|c| c.0.clone()),
            "site_name": sites.get(&n.site_id).and_then(|s| s.0.clone()), "technician": n.technician, "scheduled_on": due,
            "days_overdue": days_since(Some(&due)), "plan_name": n.plan_name, "contract_number": n.contract_number, "due_on": due, "generated": false,
        }));
    }
    rows.sort_by(|a, b| (a["scheduled_on"].as_str(), a["number"].as_str()).cmp(&(b["scheduled_on"].as_str(), b["number"].as_str())));
    if let Some(n) = f.rows {
        rows.truncate(n);
    }
    let in_all = orders_in_all + missing_in_all;
    Ok(Report {
        total_rows: (in_all > rows.len()).then_some(in_all),
        columns: vec![
            ("number", "Work order", "工单号"),
            ("customer_name", "Customer", "客户"),
            ("site_name", "Site", "地点"),
            ("technician", "Technician", "技术员"),
            ("scheduled_on", "Scheduled", "计划日期"),
            ("days_overdue", "Days overdue", "逾期天数"),
            ("plan_name", "Inspection plan", "巡检计划"),
            ("contract_number", "Contract", "合同"),
            ("generated", "Order generated", "已生成工单"),
        ],
        rows,
    })
}

pub fn expiring_contracts(tx: &mut dyn Tx, f: &Filters, days: i64) -> Result<Report> {
    let today = chrono::Utc::now().date_naive();
    let mut sql = Sql::new(
        "SELECT k.id, k.code, c.name, k.ends_on FROM reference_index k \
         LEFT JOIN reference_index c ON c.entity = 'customers' AND c.id = k.parent_id \
         WHERE k.entity = 'contracts' AND k.deleted = 0",
    );
    let (a, b) = (sql.bind(today.to_string()), sql.bind((today + chrono::Duration::days(days)).to_string()));
    sql.push(&format!(" AND k.ends_on >= {a} AND k.ends_on <= {b}"));
    if let Some(c) = &f.customer {
        let p = sql.bind(c.as_str());
        sql.push(&format!(" AND k.parent_id = {p}"));
    }
    sql.push(" ORDER BY k.ends_on, k.code");
    let found = tx.query(&sql.text, &sql.params)?;
    let mut rows = Vec::new();
    for r in found {
        let id = r.text(0)?;
        let ends = r.opt_text(3)?;
        let left = ends.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).map(|d| (d - today).num_days());
        let assets = crate::records::load(tx, "contracts", &id)?.and_then(|s| s.fields.get("asset_ids").and_then(Value::as_array).map(Vec::len)).unwrap_or(0);
        rows.push(json!({"contract_id": id, "number": r.opt_text(1)?, "customer_name": r.opt_text(2)?, "ends_on": ends, "days_left": left, "assets": assets}));
    }
    Ok(Report {
        total_rows: None,
        columns: vec![
            ("number", "Contract", "合同号"),
            ("customer_name", "Customer", "客户"),
            ("ends_on", "Ends", "到期日"),
            ("days_left", "Days left", "剩余天数"),
            ("assets", "Assets", "设备数"),
        ],
        rows,
    })
}

/// No signature, no close (#11): completed orders by month of completion (every completed or
/// signed order has a review state, which lets the range use `woi_review`) — signed (the server
/// accepts a signed status only with a signature of the records as they stand), closed by a
/// recorded exception, and not closed (unsigned without an exception, which no count of closed
/// work includes).
pub fn closure(tx: &mut dyn Tx, f: &Filters) -> Result<Report> {
    let mut sql = Sql::new(
        "SELECT SUBSTR(w.completed_at, 1, 7), COUNT(*), \
         CAST(SUM(CASE WHEN w.status = 'signed' THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN w.status <> 'signed' AND EXISTS (SELECT 1 FROM close_exception_index e WHERE e.work_order_id = w.id AND e.deleted = 0) THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN w.review_state = 'approved' THEN 1 ELSE 0 END) AS BIGINT) \
         FROM work_order_index w WHERE w.deleted = 0 AND w.status IN ('completed', 'signed') AND w.completed_at IS NOT NULL \
         AND w.review_state IN ('pending', 'approved', 'returned')",
    );
    f.time_range(&mut sql, "w.completed_at");
    f.order_filters(&mut sql, "w");
    sql.push(" GROUP BY 1 ORDER BY 1");
    let rows = tx
        .query(&sql.text, &sql.params)?
        .iter()
        .map(|r| {
            let (n, signed, excepted, approved) = (r.int(1)?, r.int(2)?, r.int(3)?, r.int(4)?);
            Ok(json!({
                "month": r.text(0)?, "completed": n, "signed": signed, "by_exception": excepted, "closed": signed + excepted,
                "not_closed": n - signed - excepted, "approved": approved, "closed_rate": rate(signed + excepted, n),
            }))
        })
        .collect::<Result<_>>()?;
    Ok(Report {
        total_rows: None,
        columns: vec![
            ("month", "Month", "月份"),
            ("completed", "Completed", "已完工"),
            ("signed", "Signed", "客户签字"),
            ("by_exception", "Closed by exception", "例外结案"),
            ("closed", "Closed", "已结案"),
            ("not_closed", "Not closed (no signature)", "未结案(无签字)"),
            ("approved", "Approved", "已审核"),
            ("closed_rate", "Closed rate", "结案率"),
        ],
        rows,
    })
}

/// The close exceptions recorded in the range, newest first: which order, why, who.
pub fn close_exceptions(tx: &mut dyn Tx, f: &Filters) -> Result<Report> {
    let mut sql = Sql::new(
        "SELECT e.id, e.work_order_id, w.number, w.technician, e.revision, e.kind, e.recorded_by, e.recorded_at, r.fields \
         FROM close_exception_index e JOIN work_order_index w ON w.id = e.work_order_id \
         JOIN records r ON r.entity = 'close_exceptions' AND r.id = e.id WHERE e.deleted = 0",
    );
    f.time_range(&mut sql, "e.recorded_at");
    f.order_filters(&mut sql, "w");
    sql.push(" ORDER BY e.recorded_at DESC, e.id");
    let rows = tx
        .query(&sql.text, &sql.params)?
        .iter()
        .map(|r| {
            let fields: Value = serde_json::from_str(&r.text(8)?).unwrap_or(Value::Null);
            Ok(json!({
                "id": r.text(0)?, "work_order_id": r.text(1)?, "number": r.text(2)?, "technician": r.opt_text(3)?, "revision": r.opt_int(4)?,
                "kind": r.text(5)?, "recorded_by": r.opt_text(6)?, "recorded_at": r.text(7)?, "reason": fields.get("reason"),
                "photo_id": fields.get("photo_id"),
            }))
        })
        .collect::<Result<_>>()?;
    Ok(Report {
        total_rows: None,
        columns: vec![
            ("number", "Work order", "工单号"),
            ("technician", "Technician", "技术员"),
            ("revision", "Revision", "版本"),
            ("kind", "Exception", "例外类型"),
            ("reason", "Reason", "原因"),
            ("recorded_by", "Recorded by", "记录人"),
            ("recorded_at", "Recorded", "记录时间"),
            ("photo_id", "Photo", "照片"),
        ],
        rows,
    })
}

/// The return-visit rate (#11) by month of the due day: visits done of visits due (due by today),
/// overall and inside warranty (category C), against the handbooks' 100% target.
pub fn return_visit_rate(tx: &mut dyn Tx, f: &Filters) -> Result<Report> {
    let mut sql = Sql::new(
        "SELECT SUBSTR(v.due_on, 1, 7), COUNT(*), CAST(SUM(CASE WHEN v.status = 'done' THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(v.in_warranty) AS BIGINT), CAST(SUM(CASE WHEN v.status = 'done' AND v.in_warranty = 1 THEN 1 ELSE 0 END) AS BIGINT) \
         FROM return_visit_index v WHERE v.deleted = 0",
    );
    let today = sql.bind(chrono::Local::now().date_naive().to_string());
    sql.push(&format!(" AND v.due_on <= {today}"));
    f.date_range(&mut sql, "v.due_on");
    if let Some(t) = &f.technician {
        let p = sql.bind(t.as_str());
        sql.push(&format!(" AND v.technician = {p}"));
    }
    if let Some(c) = &f.customer {
        let p = sql.bind(c.as_str());
        sql.push(&format!(" AND v.customer_id = {p}"));
    }
    sql.push(" GROUP BY 1 ORDER BY 1");
    let rows = tx
        .query(&sql.text, &sql.params)?
        .iter()
        .map(|r| {
            let (due, done, w_due, w_done) = (r.int(1)?, r.int(2)?, r.int(3)?, r.int(4)?);
            Ok(json!({
                "month": r.text(0)?, "due": due, "done": done, "rate": rate(done, due), "in_warranty_due": w_due, "in_warranty_done": w_done,
                "in_warranty_rate": rate(w_done, w_due), "target": 1.0,
            }))
        })
        .collect::<Result<_>>()?;
    Ok(Report {
        total_rows: None,
        columns: vec![
            ("month", "Month", "月份"),
            ("due", "Visits due", "应回访"),
            ("done", "Visits done", "已回访"),
            ("rate", "Return-visit rate", "回访率"),
            ("in_warranty_due", "In warranty: due", "保修期内应回访"),
            ("in_warranty_done", "In warranty: done", "保修期内已回访"),
            ("in_warranty_rate", "In warranty: rate", "保修期内回访率"),
            ("target", "Target", "目标"),
        ],
        rows,
    })
}

/// The handbooks' targets the scorecard is drawn against: satisfaction ≥ 98 %, a return visit
/// for every call inside warranty (100 %).
pub const SATISFACTION_TARGET: f64 = 0.98;
pub const RETURN_VISIT_TARGET: f64 = 1.0;

/// The technician scorecard (#11): per month (`YYYY-MM`, UTC) and technician, over the months
/// the range touches (`from`'s month to `to`'s):
/// - **response met**: orders reported that month whose technician arrived by the response
///   deadline, of those arrived or past it (rollup `order_day_by_technician`);
/// - **first-time fix**: repair calls reported that month, completed or signed, not followed by
///   a repeat call on the same asset within 30 days (the same rollup);
/// - **satisfaction**: cards rated that month that are *satisfied or better* — every criterion
///   the customer rated is 3 (good) or 4 (very good), none 1 (poor) or 2 (fair) —, of all cards;
///   target ≥ 98 %;
/// - **return-visit rate**: return visits of calls inside warranty due that month that were
///   made (`visited_at` recorded), of those due; target 100 %;
/// - **complaints**: complaints registered that month naming the technician.
///
/// The month range is whole months: `from` is taken back to the first of its month and `to` on
/// to the last. `technician` filters; customer and region do not apply (refused).
pub fn scorecard(tx: &mut dyn Tx, f: &Filters) -> Result<Report> {
    if f.customer.is_some() || f.region.is_some() {
        return Err(Error::Invalid("the scorecard is per technician and month: filter by technician and dates only".into()));
    }
    use chrono::Datelike;
    let first = f.from.with_day(1).expect("day 1");
    let next_month = |d: NaiveDate| if d.month() == 12 { NaiveDate::from_ymd_opt(d.year() + 1, 1, 1) } else { NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1) };
    let after = next_month(f.to.with_day(1).expect("day 1")).ok_or_else(|| Error::Invalid(format!("to {}: too far ahead", f.to)))?;
    let last = after - chrono::Duration::days(1);
    // (month, technician) -> [met, late, repairs, fixed, cards, satisfied, visits due, made, complaints]
    let mut cells: BTreeMap<(String, String), [i64; 9]> = BTreeMap::new();
    let tech = |sql: &mut Sql, col: &str| {
        if let Some(t) = &f.technician {
            let p = sql.bind(t.as_str());
            sql.push(&format!(" AND {col} = {p}"));
        }
    };
    let (a, b) = (first.to_string(), last.to_string());
    let (ta, tb) = (day_start(first), day_start(after));

    let mut sql = Sql::new(
        "SELECT SUBSTR(day, 1, 7), technician, CAST(SUM(met) AS BIGINT), CAST(SUM(late) AS BIGINT), CAST(SUM(repairs) AS BIGINT), CAST(SUM(fixed) AS BIGINT) \
         FROM order_day_by_technician WHERE technician <> ''",
    );
    let (p1, p2) = (sql.bind(a.as_str()), sql.bind(b.as_str()));
    sql.push(&format!(" AND day >= {p1} AND day <= {p2}"));
    tech(&mut sql, "technician");
    sql.push(" GROUP BY 1, 2");
    for r in tx.query(&sql.text, &sql.params)? {
        let c = cells.entry((r.text(0)?, r.text(1)?)).or_default();
        (c[0], c[1], c[2], c[3]) = (r.int(2)?, r.int(3)?, r.int(4)?, r.int(5)?);
    }

    let mut sql = Sql::new(
        "SELECT SUBSTR(s.work_date, 1, 7), w.technician, CAST(COUNT(*) AS BIGINT), \
         CAST(SUM(CASE WHEN COALESCE(s.attitude, 4) >= 3 AND COALESCE(s.skill, 4) >= 3 AND COALESCE(s.arrival, 4) >= 3 AND COALESCE(s.promise, 4) >= 3 \
         THEN 1 ELSE 0 END) AS BIGINT) \
         FROM work_item_index s JOIN work_order_index w ON w.id = s.work_order_id \
         WHERE s.entity = 'satisfaction_cards' AND s.deleted = 0 AND w.technician IS NOT NULL",
    );
    let (p1, p2) = (sql.bind(a.as_str()), sql.bind(b.as_str()));
    sql.push(&format!(" AND s.work_date >= {p1} AND s.work_date <= {p2}"));
    tech(&mut sql, "w.technician");
    sql.push(" GROUP BY 1, 2");
    for r in tx.query(&sql.text, &sql.params)? {
        let c = cells.entry((r.text(0)?, r.text(1)?)).or_default();
        (c[4], c[5]) = (r.int(2)?, r.int(3)?);
    }

    let mut sql = Sql::new(
        "SELECT SUBSTR(due_on, 1, 7), technician, CAST(COUNT(*) AS BIGINT), CAST(SUM(CASE WHEN visited_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) \
         FROM return_visit_index WHERE deleted = 0 AND in_warranty = 1 AND technician IS NOT NULL",
    );
    let (p1, p2) = (sql.bind(a.as_str()), sql.bind(b.as_str()));
    sql.push(&format!(" AND due_on >= {p1} AND due_on <= {p2}"));
    tech(&mut sql, "technician");
    sql.push(" GROUP BY 1, 2");
    for r in tx.query(&sql.text, &sql.params)? {
        let c = cells.entry((r.text(0)?, r.text(1)?)).or_default();
        (c[6], c[7]) = (r.int(2)?, r.int(3)?);
    }

    let mut sql = Sql::new("SELECT SUBSTR(registered_at, 1, 7), technician, CAST(COUNT(*) AS BIGINT) FROM complaint_technicians WHERE deleted = 0");
    let (p1, p2) = (sql.bind(ta.as_str()), sql.bind(tb.as_str()));
    sql.push(&format!(" AND registered_at >= {p1} AND registered_at < {p2}"));
    tech(&mut sql, "technician");
    sql.push(" GROUP BY 1, 2");
    for r in tx.query(&sql.text, &sql.params)? {
        cells.entry((r.text(0)?, r.text(1)?)).or_default()[8] = r.int(2)?;
    }

    let rows = cells
        .into_iter()
        .map(|((month, technician), c)| {
            json!({
                "month": month, "technician": technician,
                "responses": c[0] + c[1], "response_met": c[0], "response_rate": rate(c[0], c[0] + c[1]),
                "repairs": c[2], "fixed_first_time": c[3], "first_time_fix_rate": rate(c[3], c[2]),
                "cards": c[4], "satisfied": c[5], "satisfaction_rate": rate(c[5], c[4]),
                "return_visits_due": c[6], "return_visits_made": c[7], "return_visit_rate": rate(c[7], c[6]),
                "complaints": c[8],
            })
        })
        .collect();
    Ok(Report {
        total_rows: None,
        columns: vec![
            ("month", "Month", "月份"),
            ("technician", "Technician", "技术员"),
            ("responses", "Responses", "响应数"),
            ("response_met", "Response met", "按时响应"),
            ("response_rate", "Response met rate", "响应达标率"),
            ("repairs", "Repair calls", "维修工单"),
            ("fixed_first_time", "Fixed first time", "一次修复"),
            ("first_time_fix_rate", "First-time fix rate", "一次修复率"),
            ("cards", "Cards", "评价数"),
            ("satisfied", "Satisfied or better", "满意及以上"),
            ("satisfaction_rate", "Satisfaction (target ≥ 98%)", "满意率(目标≥98%)"),
            ("return_visits_due", "Return visits due (in warranty)", "应回访(保内)"),
            ("return_visits_made", "Return visits made", "已回访"),
            ("return_visit_rate", "Return-visit rate (target 100%)", "回访率(目标100%)"),
            ("complaints", "Complaints", "投诉"),
        ],
        rows,
    })
}

/// Runs the named report.
pub fn run(tx: &mut dyn Tx, name: &str, q: &ReportQuery) -> Result<Report> {
    run_from(tx, name, q, Source::Rollups)
}

/// Runs the named report from `src`.
pub fn run_from(tx: &mut dyn Tx, name: &str, q: &ReportQuery, src: Source) -> Result<Report> {
    let f = Filters::parse(q)?;
    match name {
        "response" => response(tx, &f, q.by.as_deref().unwrap_or("day"), src),
        "daily-minutes" => daily_minutes(tx, &f, src),
        "first-time-fix" => first_time_fix(tx, &f, q.by.as_deref().unwrap_or("technician"), src),
        "satisfaction" => satisfaction(tx, &f, src),
        "fault-prone-assets" => fault_prone_assets(tx, &f, src),
        "frequent-findings" => frequent_findings(tx, &f),
        "scorecard" => scorecard(tx, &f),
        "overdue-inspections" => overdue_inspections(tx, &f),
        "expiring-contracts" => {
            let days = match q.days.as_deref().filter(|s| !s.is_empty()) {
                None => 30,
                Some(d) => d.parse::<i64>().ok().filter(|d| (0..=3650).contains(d)).ok_or_else(|| Error::Invalid(format!("days '{d}': use a number of days from 0 to 3650")))?,
            };
            expiring_contracts(tx, &f, days)
        }
        "closure" => closure(tx, &f),
        "close-exceptions" => close_exceptions(tx, &f),
        "return-visit-rate" => return_visit_rate(tx, &f),
        "stock" => super::parts::stock_report(tx, &f),
        "movements" => super::parts::movements_report(tx, &f, src),
        "parts-quality" => super::parts::quality_report(tx, &f, src),
        "correct-shipments" => super::parts::correct_shipments_report(tx, &f),
        "supervisor-daily" => {
            let (rows, total_rows) = super::day_reviews::supervisor_report(tx, f.from, f.to, f.technician.as_deref(), f.rows)?;
            Ok(Report { columns: super::day_reviews::COLUMNS.to_vec(), rows, total_rows })
        }
        other => Err(Error::NotFound(format!("no report '{other}'; the reports are: {}", super::REPORTS.join(", ")))),
    }
}

pub async fn report(State(s): State<AppState>, _u: ConsoleUser, Path(name): Path<String>, Query(q): Query<ReportQuery>) -> Result<Response> {
    let csv_out = match q.format.as_deref() {
        None | Some("") | Some("json") => false,
        Some("csv") => true,
        Some(f) => return Err(Error::Invalid(format!("format '{f}': use csv or leave it out for JSON"))),
    };
    let zh = q.lang.as_deref() == Some("zh");
    let limit = Filters::parse(&q)?.rows.unwrap_or(usize::MAX);
    let n = name.clone();
    let report = s.db.run(Mode::Read, move |tx| run(tx, &n, &q)).await?;
    if csv_out {
        return Ok(csv::table(&format!("{name}.csv"), &report.columns, &report.rows, zh));
    }
    Ok(Json(report.json_first(limit)).into_response())
}
