//! The reports, computed from the projections ([`super::index`]) so that each answers quickly
//! with a million work orders. Every report takes `from`, `to` (dates, UTC days; by default the
//! 30 days up to today), `technician`, `customer` and `region`, and answers
//! `{columns: [{key, label_en, label_zh}], rows: [...]}`, or CSV with `?format=csv`.
//!
//! Which date the range applies to: an order's `reported_at` (response, first-time fix), a
//! record's own day (time entries' work day, repairs' and findings' day, satisfaction cards'
//! rating day), the scheduled day (overdue inspections: only when a range is given), and a
//! contract's end (expiring contracts: today to `days` ahead; technician and region do not apply).

use std::collections::BTreeMap;

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
}

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
        Ok(Filters { from, to, explicit_range, technician: some(&q.technician), customer: some(&q.customer), region: some(&q.region) })
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

/// A report's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub columns: Vec<(&'static str, &'static str, &'static str)>,
    pub rows: Vec<Value>,
}

impl Report {
    pub fn json(&self) -> Value {
        json!({
            "columns": self.columns.iter().map(|(k, en, zh)| json!({"key": k, "label_en": en, "label_zh": zh})).collect::<Vec<_>>(),
            "rows": self.rows,
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

pub fn response(tx: &mut dyn Tx, f: &Filters, by: &str) -> Result<Report> {
    let group = match by {
        "day" => "SUBSTR(w.reported_at, 1, 10)",
        "technician" => "COALESCE(w.technician, '')",
        "zone" => "COALESCE(w.zone, '')",
        other => return Err(Error::Invalid(format!("by '{other}': use day, technician or zone"))),
    };
    let mut sql = Sql::new("");
    let now = sql.bind(crate::now_text());
    sql.push(&format!(
        "SELECT {group}, COUNT(*), \
         CAST(SUM(CASE WHEN w.arrived_at IS NOT NULL AND w.arrived_at <= w.response_deadline THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN (w.arrived_at IS NOT NULL AND w.arrived_at > w.response_deadline) OR (w.arrived_at IS NULL AND w.response_deadline < {now}) THEN 1 ELSE 0 END) AS BIGINT) \
         FROM work_order_index w WHERE w.deleted = 0 AND w.response_deadline IS NOT NULL"
    ));
    f.time_range(&mut sql, "w.reported_at");
    f.order_filters(&mut sql, "w");
    sql.push(" GROUP BY 1 ORDER BY 1");
    let rows = tx.query(&sql.text, &sql.params)?;
    let rows = rows
        .iter()
        .map(|r| {
            let (orders, met, breached) = (r.int(1)?, r.int(2)?, r.int(3)?);
            Ok(json!({"group": r.text(0)?, "orders": orders, "met": met, "breached": breached, "met_rate": rate(met, met + breached)}))
        })
        .collect::<Result<_>>()?;
    Ok(Report {
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

pub fn daily_minutes(tx: &mut dyn Tx, f: &Filters) -> Result<Report> {
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
    let mut table: BTreeMap<(String, String), Map<String, Value>> = BTreeMap::new();
    for r in tx.query(&sql.text, &sql.params)? {
        let (day, tech, cat, minutes) = (r.text(0)?, r.text(1)?, r.text(2)?, r.opt_int(3)?.unwrap_or(0));
        let row = table.entry((day.clone(), tech.clone())).or_insert_with(|| {
            let mut m = Map::new();
            m.insert("work_date".into(), json!(day));
            m.insert("technician".into(), json!(tech));
            for c in ["A", "B", "C", "D", "total"] {
                m.insert(c.into(), json!(0));
            }
            m
        });
        if let Some(v) = row.get_mut(&cat) {
            *v = json!(v.as_i64().unwrap_or(0) + minutes);
        }
        let total = row["total"].as_i64().unwrap_or(0) + minutes;
        row.insert("total".into(), json!(total));
    }
    Ok(Report {
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
    })
}

/// Up to this many orders, first-time fix reads only the repairs of their assets.
const TARGETED_MAX: usize = 10_000;

/// Runs `{head} (VALUES …) {tail}` over `values` in chunks, with `fixed` as `$1…` before them.
fn in_list(tx: &mut dyn Tx, head: &'static str, tail: &'static str, fixed: &[crate::db::Value], values: &[&str]) -> Result<Vec<crate::db::Row>> {
    let max = *crate::db::LIST_SIZES.last().expect("sizes");
    let mut out = Vec::new();
    for chunk in values.chunks(max) {
        let size = crate::db::LIST_SIZES.iter().copied().find(|&n| n >= chunk.len()).unwrap_or(max);
        let sql = crate::db::values_list(head, fixed.len() + 1, size, tail);
        let mut params = fixed.to_vec();
        // Padding: no record has an empty id.
        params.extend((0..size).map(|i| crate::db::Value::from(chunk.get(i).copied().unwrap_or(""))));
        out.extend(tx.query(sql, &params)?);
    }
    Ok(out)
}

pub fn first_time_fix(tx: &mut dyn Tx, f: &Filters, by: &str) -> Result<Report> {
    first_time_fix_with(tx, f, by, TARGETED_MAX)
}

/// [`first_time_fix`], reading only the orders' assets' repairs up to `targeted_max` orders
/// (both ways give the same answer; a test checks it).
pub fn first_time_fix_with(tx: &mut dyn Tx, f: &Filters, by: &str, targeted_max: usize) -> Result<Report> {
    if by != "technician" {
        return Err(Error::Invalid(format!("by '{by}': this report groups by technician")));
    }
    // A repair call is fixed the first time unless the next repair of one of its assets (in
    // another order) comes within 30 days, or a follow-up order was raised from it. Set-based,
    // in three index range reads, so that it stays fast over a month of a million orders.
    let mut sql = Sql::new(
        "SELECT w.id, w.number, COALESCE(w.technician, '') FROM work_order_index w \
         WHERE w.deleted = 0 AND w.kind = 'repair_call' AND w.status IN ('completed', 'signed')",
    );
    f.time_range(&mut sql, "w.reported_at");
    f.order_filters(&mut sql, "w");
    let orders: Vec<(String, String, String)> = tx.query(&sql.text, &sql.params)?.iter().map(|r| Ok((r.text(0)?, r.text(1)?, r.text(2)?))).collect::<Result<_>>()?;
    let in_range: std::collections::HashSet<&str> = orders.iter().map(|o| o.0.as_str()).collect();
    // Each asset's repairs in the window, one per order (its first day): either every repair in
    // the window (many orders), or only those on the assets of the orders asked about (a
    // technician's or a customer's year is a few thousand orders among a million).
    let last = f.to + chrono::Duration::days(31);
    let (lo, hi) = ((f.from - chrono::Duration::days(1)).to_string(), last.to_string());
    let mut repairs: Vec<(String, String, String)> = Vec::new(); // (asset, day, order): sorted, each asset's repairs in time order
    if orders.len() <= targeted_max {
        let ids: Vec<&str> = orders.iter().map(|o| o.0.as_str()).collect();
        let mut assets: Vec<String> = Vec::new();
        for r in in_list(
            tx,
            "SELECT DISTINCT i.asset_id FROM",
            "AS v JOIN work_item_index i ON i.entity = 'repair_records' AND i.work_order_id = v.column1 WHERE i.deleted = 0 AND i.asset_id IS NOT NULL",
            &[],
            &ids,
        )? {
            assets.push(r.text(0)?);
        }
        assets.sort();
        assets.dedup();
        let assets: Vec<&str> = assets.iter().map(String::as_str).collect();
        for r in in_list(
            tx,
            "SELECT i.asset_id, i.work_order_id, MIN(i.work_date) FROM",
            "AS v JOIN work_item_index i ON i.asset_id = v.column1 AND i.entity = 'repair_records' \
             WHERE i.deleted = 0 AND i.work_date >= $1 AND i.work_date <= $2 GROUP BY i.asset_id, i.work_order_id",
            &[lo.clone().into(), hi.clone().into()],
            &assets,
        )? {
            repairs.push((r.text(0)?, r.text(2)?, r.text(1)?));
        }
    } else {
        for r in tx.query(
            "SELECT asset_id, work_order_id, MIN(work_date) FROM work_item_index \
             WHERE entity = 'repair_records' AND deleted = 0 AND asset_id IS NOT NULL AND work_date >= $1 AND work_date <= $2 \
             GROUP BY asset_id, work_order_id",
            &[lo.into(), hi.into()],
        )? {
            repairs.push((r.text(0)?, r.text(2)?, r.text(1)?));
        }
    }
    repairs.sort();
    let mut repeated: std::collections::HashSet<String> = std::collections::HashSet::new();
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    for pair in repairs.windows(2) {
        let ((asset, d, order), (next_asset, next, _)) = (&pair[0], &pair[1]);
        if asset != next_asset || !in_range.contains(order.as_str()) {
            continue;
        }
        if let (Some(d), Some(next)) = (day(d), day(next)) {
            if next - d <= chrono::Duration::days(30) {
                repeated.insert(order.clone());
            }
        }
    }
    let mut from_orders: std::collections::HashSet<String> = std::collections::HashSet::new();
    let p = day_start(f.from);
    for r in tx.query("SELECT follow_up_of FROM work_order_index WHERE follow_up_of IS NOT NULL AND reported_at >= $1 AND deleted = 0", &[p.into()])? {
        from_orders.insert(r.text(0)?);
    }
    let mut groups: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (id, number, tech) in &orders {
        let g = groups.entry(tech.clone()).or_default();
        g.0 += 1;
        if !repeated.contains(id) && !from_orders.contains(id) && !from_orders.contains(number) {
            g.1 += 1;
        }
    }
    let rows = groups.into_iter().map(|(g, (n, ok))| json!({"group": g, "repairs": n, "fixed_first_time": ok, "rate": rate(ok, n)})).collect();
    Ok(Report {
        columns: vec![
            ("group", "Technician", "技术员"),
            ("repairs", "Repair calls", "维修工单"),
            ("fixed_first_time", "Fixed first time", "一次修复"),
            ("rate", "First-time fix rate", "一次修复率"),
        ],
        rows,
    })
}

pub fn satisfaction(tx: &mut dyn Tx, f: &Filters) -> Result<Report> {
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

pub fn fault_prone_assets(tx: &mut dyn Tx, f: &Filters) -> Result<Report> {
    // Counted first (joining the order only for its filters), named after: only the top 100.
    let join = if f.technician.is_some() || f.customer.is_some() || f.region.is_some() { "JOIN work_order_index w ON w.id = i.work_order_id" } else { "" };
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
        columns: vec![("label_en", "Item", "项目(英文)"), ("label_zh", "Item (Chinese)", "项目"), ("count", "Findings", "发现次数"), ("item_key", "Item key", "项目编号")],
        rows,
    })
}

pub fn overdue_inspections(tx: &mut dyn Tx, f: &Filters) -> Result<Report> {
    let today = chrono::Utc::now().date_naive();
    let mut sql = Sql::new(
        "SELECT w.id, w.number, c.name, s.name, w.technician, w.scheduled_on FROM work_order_index w \
         LEFT JOIN reference_index c ON c.entity = 'customers' AND c.id = w.customer_id \
         LEFT JOIN reference_index s ON s.entity = 'sites' AND s.id = w.site_id \
         WHERE w.kind = 'patrol_inspection' AND w.status IN ('new', 'dispatched', 'en_route', 'on_site') AND w.deleted = 0",
    );
    let p = sql.bind(today.to_string());
    sql.push(&format!(" AND w.scheduled_on < {p}"));
    if f.explicit_range {
        f.date_range(&mut sql, "w.scheduled_on");
    }
    f.order_filters(&mut sql, "w");
    sql.push(" ORDER BY w.scheduled_on, w.number LIMIT 5000");
    let rows = tx
        .query(&sql.text, &sql.params)?
        .iter()
        .map(|r| {
            let scheduled = r.opt_text(5)?;
            let days = scheduled.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).map(|d| (today - d).num_days());
            Ok(json!({
                "work_order_id": r.text(0)?, "number": r.text(1)?, "customer_name": r.opt_text(2)?, "site_name": r.opt_text(3)?,
                "technician": r.opt_text(4)?, "scheduled_on": scheduled, "days_overdue": days,
            }))
        })
        .collect::<Result<_>>()?;
    Ok(Report {
        columns: vec![
            ("number", "Work order", "工单号"),
            ("customer_name", "Customer", "客户"),
            ("site_name", "Site", "地点"),
            ("technician", "Technician", "技术员"),
            ("scheduled_on", "Scheduled", "计划日期"),
            ("days_overdue", "Days overdue", "逾期天数"),
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

/// Runs the named report.
pub fn run(tx: &mut dyn Tx, name: &str, q: &ReportQuery) -> Result<Report> {
    let f = Filters::parse(q)?;
    match name {
        "response" => response(tx, &f, q.by.as_deref().unwrap_or("day")),
        "daily-minutes" => daily_minutes(tx, &f),
        "first-time-fix" => first_time_fix(tx, &f, q.by.as_deref().unwrap_or("technician")),
        "satisfaction" => satisfaction(tx, &f),
        "fault-prone-assets" => fault_prone_assets(tx, &f),
        "frequent-findings" => frequent_findings(tx, &f),
        "overdue-inspections" => overdue_inspections(tx, &f),
        "expiring-contracts" => {
            let days = match q.days.as_deref().filter(|s| !s.is_empty()) {
                None => 30,
                Some(d) => d.parse::<i64>().ok().filter(|d| (0..=3650).contains(d)).ok_or_else(|| Error::Invalid(format!("days '{d}': use a number of days from 0 to 3650")))?,
            };
            expiring_contracts(tx, &f, days)
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
    let n = name.clone();
    let report = s.db.run(Mode::Read, move |tx| run(tx, &n, &q)).await?;
    if csv_out {
        return Ok(csv::table(&format!("{name}.csv"), &report.columns, &report.rows, zh));
    }
    Ok(Json(report.json()).into_response())
}
