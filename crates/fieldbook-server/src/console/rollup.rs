//! Per-day rollups of the projections (migrations 0004 and 0005) and each order's first-time-fix flag
//! (`work_order_index.not_fixed`), so that a report over a whole year of a million orders reads
//! a few tens of thousands of rows instead of half a million.
//!
//! Every rollup row is the sum of a *contribution* per projection row (an order, a time entry, a
//! satisfaction card joined with its order). [`super::index::project`] brackets every change to
//! a projection row with [`Change::before`] and [`Change::after`]: the rows' contributions as
//! they were are taken away, and their contributions as they are now added, in the same
//! transaction. So a row that changes day, technician, region or status moves its counts, a
//! tombstone takes them away, and a rollup never disagrees with the projections (tests compare
//! every report read from the rollups with the same report read from the projections).
//!
//! `not_fixed` depends on other records (the next repair of the same asset, a follow-up order),
//! so [`refresh_not_fixed`] recomputes it for every order a change can affect, and moves the
//! order's contribution when it flips.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::db::{self, Tx};
use crate::error::Result;

/// One rollup table: its key (columns and the expressions over the source that fill them), its
/// summed values, and the source rows (`from` with `only` always applied).
pub struct Rollup {
    pub table: &'static str,
    keys: &'static [(&'static str, &'static str)],
    values: &'static [(&'static str, &'static str)],
    from: &'static str,
    only: &'static str,
}

/// An order's contribution to the order rollups; see migration 0004 for what each counts.
const ORDER_VALUES: &[(&str, &str)] = &[
    ("orders", "CASE WHEN w.deleted = 0 AND w.response_deadline IS NOT NULL THEN 1 ELSE 0 END"),
    ("met", "CASE WHEN w.deleted = 0 AND w.response_deadline IS NOT NULL AND w.arrived_at IS NOT NULL AND w.arrived_at <= w.response_deadline THEN 1 ELSE 0 END"),
    ("late", "CASE WHEN w.deleted = 0 AND w.response_deadline IS NOT NULL AND w.arrived_at IS NOT NULL AND w.arrived_at > w.response_deadline THEN 1 ELSE 0 END"),
    ("repairs", "CASE WHEN w.deleted = 0 AND w.kind = 'repair_call' AND w.status IN ('completed', 'signed') THEN 1 ELSE 0 END"),
    ("fixed", "CASE WHEN w.deleted = 0 AND w.kind = 'repair_call' AND w.status IN ('completed', 'signed') AND w.not_fixed = 0 THEN 1 ELSE 0 END"),
];

pub const ORDERS_BY_TECHNICIAN: Rollup = Rollup {
    table: "order_day_by_technician",
    keys: &[("day", "SUBSTR(w.reported_at, 1, 10)"), ("technician", "COALESCE(w.technician, '')")],
    values: ORDER_VALUES,
    from: "work_order_index w",
    only: "1 = 1",
};

pub const ORDERS_BY_AREA: Rollup = Rollup {
    table: "order_day_by_area",
    keys: &[("day", "SUBSTR(w.reported_at, 1, 10)"), ("zone", "COALESCE(w.zone, '')"), ("region", "COALESCE(w.region, '')")],
    values: ORDER_VALUES,
    from: "work_order_index w",
    only: "1 = 1",
};

const MINUTES_VALUES: &[(&str, &str)] = &[
    ("entries", "CASE WHEN t.deleted = 0 THEN 1 ELSE 0 END"),
    ("a", "CASE WHEN t.deleted = 0 AND t.category = 'A' THEN COALESCE(t.minutes, 0) ELSE 0 END"),
    ("b", "CASE WHEN t.deleted = 0 AND t.category = 'B' THEN COALESCE(t.minutes, 0) ELSE 0 END"),
    ("c", "CASE WHEN t.deleted = 0 AND t.category = 'C' THEN COALESCE(t.minutes, 0) ELSE 0 END"),
    ("d", "CASE WHEN t.deleted = 0 AND t.category = 'D' THEN COALESCE(t.minutes, 0) ELSE 0 END"),
    ("total", "CASE WHEN t.deleted = 0 THEN COALESCE(t.minutes, 0) ELSE 0 END"),
];

/// Time entries count under their own technician (they carry it).
pub const MINUTES: Rollup = Rollup {
    table: "minutes_day",
    keys: &[("work_date", "COALESCE(t.work_date, '')"), ("technician", "COALESCE(t.technician, '')")],
    values: MINUTES_VALUES,
    from: "work_item_index t",
    only: "t.entity = 'time_entries'",
};

/// The same by the region of the entry's order (an entry without a known order is in none).
pub const MINUTES_BY_REGION: Rollup = Rollup {
    table: "minutes_day_by_region",
    keys: &[("region", "COALESCE(w.region, '')"), ("work_date", "COALESCE(t.work_date, '')"), ("technician", "COALESCE(t.technician, '')")],
    values: MINUTES_VALUES,
    from: "work_item_index t JOIN work_order_index w ON w.id = t.work_order_id",
    only: "t.entity = 'time_entries'",
};

/// Cards count under their order's technician (a card whose order is not known yet counts once
/// the order arrives: the order's change moves its cards too).
pub const SATISFACTION: Rollup = Rollup {
    table: "satisfaction_day",
    keys: &[("day", "COALESCE(s.work_date, '')"), ("technician", "COALESCE(w.technician, '')")],
    values: SATISFACTION_VALUES,
    from: "work_item_index s JOIN work_order_index w ON w.id = s.work_order_id",
    only: "s.entity = 'satisfaction_cards'",
};

pub const SATISFACTION_BY_REGION: Rollup = Rollup {
    table: "satisfaction_day_by_region",
    keys: &[("region", "COALESCE(w.region, '')"), ("day", "COALESCE(s.work_date, '')"), ("technician", "COALESCE(w.technician, '')")],
    values: SATISFACTION_VALUES,
    from: "work_item_index s JOIN work_order_index w ON w.id = s.work_order_id",
    only: "s.entity = 'satisfaction_cards'",
};

const SATISFACTION_VALUES: &[(&str, &str)] = &[
    ("cards", "CASE WHEN s.deleted = 0 THEN 1 ELSE 0 END"),
    ("attitude", "CASE WHEN s.deleted = 0 THEN COALESCE(s.attitude, 0) ELSE 0 END"),
    ("attitude_n", "CASE WHEN s.deleted = 0 AND s.attitude IS NOT NULL THEN 1 ELSE 0 END"),
    ("skill", "CASE WHEN s.deleted = 0 THEN COALESCE(s.skill, 0) ELSE 0 END"),
    ("skill_n", "CASE WHEN s.deleted = 0 AND s.skill IS NOT NULL THEN 1 ELSE 0 END"),
    ("arrival", "CASE WHEN s.deleted = 0 THEN COALESCE(s.arrival, 0) ELSE 0 END"),
    ("arrival_n", "CASE WHEN s.deleted = 0 AND s.arrival IS NOT NULL THEN 1 ELSE 0 END"),
    ("promise", "CASE WHEN s.deleted = 0 THEN COALESCE(s.promise, 0) ELSE 0 END"),
    ("promise_n", "CASE WHEN s.deleted = 0 AND s.promise IS NOT NULL THEN 1 ELSE 0 END"),
];

const ASSET_VALUES: &[(&str, &str)] = &[
    ("repairs", "CASE WHEN i.deleted = 0 AND i.entity = 'repair_records' THEN 1 ELSE 0 END"),
    ("findings", "CASE WHEN i.deleted = 0 AND i.entity = 'inspection_answers' THEN 1 ELSE 0 END"),
];

/// Repairs and findings (answers that are findings have a projection row; others have none).
pub const ASSETS: Rollup = Rollup {
    table: "asset_day",
    keys: &[("day", "COALESCE(i.work_date, '')"), ("asset_id", "i.asset_id")],
    values: ASSET_VALUES,
    from: "work_item_index i",
    only: "i.entity IN ('repair_records', 'inspection_answers') AND i.asset_id IS NOT NULL",
};

/// The same by the region of the record's order.
pub const ASSETS_BY_REGION: Rollup = Rollup {
    table: "asset_day_by_region",
    keys: &[("region", "COALESCE(w.region, '')"), ("day", "COALESCE(i.work_date, '')"), ("asset_id", "i.asset_id")],
    values: ASSET_VALUES,
    from: "work_item_index i JOIN work_order_index w ON w.id = i.work_order_id",
    only: "i.entity IN ('repair_records', 'inspection_answers') AND i.asset_id IS NOT NULL",
};

/// A stock movement's contribution (migration 0019): quantities per kind, and how many live
/// movements (a part with any is listed) and use or faulty returns (the parts-quality report).
const MOVEMENT_VALUES: &[(&str, &str)] = &[
    ("movements", "CASE WHEN m.deleted = 0 THEN 1 ELSE 0 END"),
    ("quality_movements", "CASE WHEN m.deleted = 0 AND m.kind IN ('use', 'faulty_return') THEN 1 ELSE 0 END"),
    ("goods_in", "CASE WHEN m.deleted = 0 AND m.kind = 'goods_in' THEN m.quantity ELSE 0 END"),
    ("issue", "CASE WHEN m.deleted = 0 AND m.kind = 'issue' THEN m.quantity ELSE 0 END"),
    ("transfer", "CASE WHEN m.deleted = 0 AND m.kind = 'transfer' THEN m.quantity ELSE 0 END"),
    ("used", "CASE WHEN m.deleted = 0 AND m.kind = 'use' THEN m.quantity ELSE 0 END"),
    ("faulty_return", "CASE WHEN m.deleted = 0 AND m.kind = 'faulty_return' THEN m.quantity ELSE 0 END"),
    ("write_off", "CASE WHEN m.deleted = 0 AND m.kind = 'write_off' THEN m.quantity ELSE 0 END"),
    ("over_use", "CASE WHEN m.deleted = 0 THEN m.over_use ELSE 0 END"),
];

/// Stock movements per month (UTC, as the reports' days) and part: a year of a busy company's
/// movements is half a million rows, but at most 12 × parts here. Per month, not per day: with
/// thousands of parts most (day, part) pairs hold a single movement, so a daily rollup would be
/// as long as the movements themselves. Reports take the whole months of a range from here and
/// its first and last partial months from `movement_index`.
pub const MOVEMENTS: Rollup = Rollup {
    table: "movement_month",
    keys: &[("month", "SUBSTR(m.at, 1, 7)"), ("part_id", "m.part_id")],
    values: MOVEMENT_VALUES,
    from: "movement_index m",
    only: "1 = 1",
};

pub const ALL: [&Rollup; 9] =
    [&ORDERS_BY_TECHNICIAN, &ORDERS_BY_AREA, &MINUTES, &MINUTES_BY_REGION, &SATISFACTION, &SATISFACTION_BY_REGION, &ASSETS, &ASSETS_BY_REGION, &MOVEMENTS];

/// Statement texts, built once per (rollup, selector, list size, sign): a handful in all.
fn statement(r: &'static Rollup, column: Option<&'static str>, size: usize, sign: i64) -> &'static str {
    use std::sync::{Mutex, OnceLock};
    type Key = (&'static str, Option<&'static str>, usize, i64);
    static BUILT: OnceLock<Mutex<HashMap<Key, &'static str>>> = OnceLock::new();
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    built.entry((r.table, column, size, sign)).or_insert_with(|| {
        let keys: Vec<&str> = r.keys.iter().map(|k| k.0).collect();
        let key_exprs: Vec<&str> = r.keys.iter().map(|k| k.1).collect();
        let names: Vec<&str> = r.values.iter().map(|v| v.0).collect();
        let sums: Vec<String> = r.values.iter().map(|v| format!("CAST({sign} * SUM({}) AS BIGINT)", v.1)).collect();
        let selector = match column {
            None => String::new(),
            Some(c) => {
                let list: Vec<String> = (1..=size).map(|i| format!("(${i})")).collect();
                format!(" AND {c} IN (SELECT column1 FROM (VALUES {}) AS v)", list.join(", "))
            }
        };
        let group: Vec<String> = (1..=keys.len()).map(|i| i.to_string()).collect();
        let set: Vec<String> = names.iter().map(|n| format!("{n} = {}.{n} + excluded.{n}", r.table)).collect();
        Box::leak(
            format!(
                "INSERT INTO {table} ({keys}, {names}) SELECT {key_exprs}, {sums} FROM {from} WHERE {only}{selector} GROUP BY {group} \
                 ON CONFLICT ({keys}) DO UPDATE SET {set}",
                table = r.table,
                keys = keys.join(", "),
                names = names.join(", "),
                key_exprs = key_exprs.join(", "),
                sums = sums.join(", "),
                from = r.from,
                only = r.only,
                group = group.join(", "),
                set = set.join(", "),
            )
            .into_boxed_str(),
        )
    })
}

/// Adds (`sign` 1) or takes away (-1) the contributions of the source rows whose `column` is in
/// `values`.
fn apply(tx: &mut dyn Tx, r: &'static Rollup, column: &'static str, values: &[&str], sign: i64) -> Result<()> {
    let max = *db::LIST_SIZES.last().expect("sizes");
    for chunk in values.chunks(max) {
        let size = db::LIST_SIZES.iter().copied().find(|&n| n >= chunk.len()).unwrap_or(max);
        // Padding: no record has an empty id.
        let params: Vec<db::Value> = (0..size).map(|i| db::Value::from(chunk.get(i).copied().unwrap_or(""))).collect();
        tx.execute(statement(r, Some(column), size, sign), &params)?;
    }
    Ok(())
}

/// Which projection rows a change touches, to bracket it: call [`Change::before`] just before
/// the rows change and [`Change::after`] just after.
pub enum Change<'a> {
    /// Work orders by id (their order rollups, their cards under their technician, and what
    /// hangs off them under their region).
    Orders(&'a [&'a str]),
    /// The work orders of one site (its region or zone changes).
    Site(&'a str),
    /// Time entries by id.
    TimeEntries(&'a [&'a str]),
    /// Satisfaction cards by id.
    Cards(&'a [&'a str]),
    /// Repair records and inspection answers by id (an answer that stops being a finding loses
    /// its projection row inside the bracket).
    RepairsAndAnswers(&'a [&'a str]),
    /// Stock movements by id.
    Movements(&'a [&'a str]),
}

impl Change<'_> {
    fn apply(&self, tx: &mut dyn Tx, sign: i64) -> Result<()> {
        match self {
            Change::Orders(ids) if !ids.is_empty() => {
                apply(tx, &ORDERS_BY_TECHNICIAN, "w.id", ids, sign)?;
                apply(tx, &ORDERS_BY_AREA, "w.id", ids, sign)?;
                apply(tx, &SATISFACTION, "s.work_order_id", ids, sign)?;
                // What counts under the order's region.
                apply(tx, &SATISFACTION_BY_REGION, "s.work_order_id", ids, sign)?;
                apply(tx, &MINUTES_BY_REGION, "t.work_order_id", ids, sign)?;
                apply(tx, &ASSETS_BY_REGION, "i.work_order_id", ids, sign)
            }
            Change::Site(id) => {
                apply(tx, &ORDERS_BY_TECHNICIAN, "w.site_id", &[id], sign)?;
                apply(tx, &ORDERS_BY_AREA, "w.site_id", &[id], sign)?;
                apply(tx, &SATISFACTION_BY_REGION, "w.site_id", &[id], sign)?;
                apply(tx, &MINUTES_BY_REGION, "w.site_id", &[id], sign)?;
                apply(tx, &ASSETS_BY_REGION, "w.site_id", &[id], sign)
            }
            Change::TimeEntries(ids) if !ids.is_empty() => {
                apply(tx, &MINUTES, "t.id", ids, sign)?;
                apply(tx, &MINUTES_BY_REGION, "t.id", ids, sign)
            }
            Change::Cards(ids) if !ids.is_empty() => {
                apply(tx, &SATISFACTION, "s.id", ids, sign)?;
                apply(tx, &SATISFACTION_BY_REGION, "s.id", ids, sign)
            }
            Change::RepairsAndAnswers(ids) if !ids.is_empty() => {
                apply(tx, &ASSETS, "i.id", ids, sign)?;
                apply(tx, &ASSETS_BY_REGION, "i.id", ids, sign)
            }
            Change::Movements(ids) if !ids.is_empty() => apply(tx, &MOVEMENTS, "m.id", ids, sign),
            _ => Ok(()),
        }
    }

    pub fn before(&self, tx: &mut dyn Tx) -> Result<()> {
        self.apply(tx, -1)
    }

    pub fn after(&self, tx: &mut dyn Tx) -> Result<()> {
        self.apply(tx, 1)
    }
}

/// Runs `{head} (VALUES …) {tail}` over `values` in chunks (a shorter list padded with '').
fn in_list(tx: &mut dyn Tx, head: &'static str, tail: &'static str, values: &[&str]) -> Result<Vec<db::Row>> {
    let max = *db::LIST_SIZES.last().expect("sizes");
    let mut out = Vec::new();
    for chunk in values.chunks(max) {
        let size = db::LIST_SIZES.iter().copied().find(|&n| n >= chunk.len()).unwrap_or(max);
        let params: Vec<db::Value> = (0..size).map(|i| db::Value::from(chunk.get(i).copied().unwrap_or(""))).collect();
        out.extend(tx.query(db::values_list(head, 1, size, tail), &params)?);
    }
    Ok(out)
}

/// [`in_list`] for a statement that returns no rows.
fn execute_in_list(tx: &mut dyn Tx, head: &'static str, tail: &'static str, values: &[&str]) -> Result<()> {
    let max = *db::LIST_SIZES.last().expect("sizes");
    for chunk in values.chunks(max) {
        let size = db::LIST_SIZES.iter().copied().find(|&n| n >= chunk.len()).unwrap_or(max);
        let params: Vec<db::Value> = (0..size).map(|i| db::Value::from(chunk.get(i).copied().unwrap_or(""))).collect();
        tx.execute(db::values_list(head, 1, size, tail), &params)?;
    }
    Ok(())
}

/// Orders whose repairs sit next to each other within 30 days: in each asset's repairs (one per
/// order, on its first day, in order of day then order id), an order whose next repair comes at
/// most 30 days later. `repairs` is (asset, day, order).
fn repeated(mut repairs: Vec<(String, String, String)>) -> HashSet<String> {
    repairs.sort();
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let mut out = HashSet::new();
    for pair in repairs.windows(2) {
        let ((asset, d, order), (next_asset, next, _)) = (&pair[0], &pair[1]);
        if asset != next_asset {
            continue;
        }
        if let (Some(d), Some(next)) = (day(d), day(next)) {
            if next - d <= chrono::Duration::days(30) {
                out.insert(order.clone());
            }
        }
    }
    out
}

fn repair_row(r: &db::Row) -> Result<(String, String, String)> {
    Ok((r.text(0)?, r.text(2)?, r.opt_text(1)?.unwrap_or_default()))
}

/// The orders among `orders` that were not fixed the first time, computed from the repairs and
/// follow-up orders as they are now (never from the stored flags).
pub fn not_fixed_of(tx: &mut dyn Tx, orders: &[&str]) -> Result<HashSet<String>> {
    if orders.is_empty() {
        return Ok(HashSet::new());
    }
    let mut assets: BTreeSet<String> = BTreeSet::new();
    for r in in_list(
        tx,
        "SELECT DISTINCT i.asset_id AS repaired FROM",
        "AS v JOIN work_item_index i ON i.entity = 'repair_records' AND i.work_order_id = v.column1 WHERE i.deleted = 0 AND i.asset_id IS NOT NULL",
        orders,
    )? {
        assets.insert(r.text(0)?);
    }
    let assets: Vec<&str> = assets.iter().map(String::as_str).collect();
    let mut repairs = Vec::new();
    for r in in_list(
        tx,
        "SELECT i.asset_id, i.work_order_id, MIN(i.work_date) AS first_day FROM",
        "AS v JOIN work_item_index i ON i.asset_id = v.column1 AND i.entity = 'repair_records' \
         WHERE i.deleted = 0 AND i.work_date IS NOT NULL GROUP BY i.asset_id, i.work_order_id",
        &assets,
    )? {
        repairs.push(repair_row(&r)?);
    }
    let repeated = repeated(repairs);
    let wanted: HashSet<&str> = orders.iter().copied().collect();
    let mut out: HashSet<String> = repeated.into_iter().filter(|o| wanted.contains(o.as_str())).collect();
    // Follow-ups name their order by id or by number.
    let mut names: HashMap<String, Vec<String>> = HashMap::new();
    for r in in_list(tx, "SELECT w.id, w.number FROM", "AS v JOIN work_order_index w ON w.id = v.column1", orders)? {
        let (id, number) = (r.text(0)?, r.text(1)?);
        names.entry(id.clone()).or_default().push(id.clone());
        names.entry(number).or_default().push(id);
    }
    let keys: Vec<&str> = names.keys().map(String::as_str).collect();
    for r in in_list(tx, "SELECT f.follow_up_of FROM", "AS v JOIN work_order_index f ON f.follow_up_of = v.column1 WHERE f.deleted = 0", &keys)? {
        out.extend(names.get(&r.text(0)?).into_iter().flatten().cloned());
    }
    Ok(out)
}

/// Every order not fixed the first time, computed from all repairs and follow-ups.
pub fn not_fixed_all(tx: &mut dyn Tx) -> Result<HashSet<String>> {
    let mut repairs = Vec::new();
    for r in tx.query(
        "SELECT asset_id, work_order_id, MIN(work_date) FROM work_item_index \
         WHERE entity = 'repair_records' AND deleted = 0 AND asset_id IS NOT NULL AND work_date IS NOT NULL GROUP BY asset_id, work_order_id",
        &[],
    )? {
        repairs.push(repair_row(&r)?);
    }
    let mut out = repeated(repairs);
    let follow: BTreeSet<String> = tx
        .query("SELECT DISTINCT follow_up_of FROM work_order_index WHERE follow_up_of IS NOT NULL AND deleted = 0", &[])?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_>>()?;
    let follow: Vec<&str> = follow.iter().map(String::as_str).collect();
    for r in in_list(tx, "SELECT w.id FROM", "AS v JOIN work_order_index w ON w.id = v.column1 OR w.number = v.column1", &follow)? {
        out.insert(r.text(0)?);
    }
    Ok(out)
}

/// Sets `not_fixed` of these orders from [`not_fixed_of`], moving the contribution of each
/// order whose flag flips.
pub fn refresh_not_fixed(tx: &mut dyn Tx, orders: &[&str]) -> Result<()> {
    if orders.is_empty() {
        return Ok(());
    }
    let now = not_fixed_of(tx, orders)?;
    let mut flip_on = Vec::new();
    let mut flip_off = Vec::new();
    for r in in_list(tx, "SELECT w.id, w.not_fixed FROM", "AS v JOIN work_order_index w ON w.id = v.column1", orders)? {
        let (id, stored) = (r.text(0)?, r.int(1)? != 0);
        match (stored, now.contains(&id)) {
            (false, true) => flip_on.push(id),
            (true, false) => flip_off.push(id),
            _ => {}
        }
    }
    set_not_fixed(tx, &flip_on, 1)?;
    set_not_fixed(tx, &flip_off, 0)
}

fn set_not_fixed(tx: &mut dyn Tx, ids: &[String], v: i64) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    // Cards do not depend on the flag: only the order rollups move.
    apply(tx, &ORDERS_BY_TECHNICIAN, "w.id", &ids, -1)?;
    apply(tx, &ORDERS_BY_AREA, "w.id", &ids, -1)?;
    let sql = if v == 1 {
        "UPDATE work_order_index SET not_fixed = 1 WHERE id IN (SELECT column1 FROM"
    } else {
        "UPDATE work_order_index SET not_fixed = 0 WHERE id IN (SELECT column1 FROM"
    };
    execute_in_list(tx, sql, "AS v)", &ids)?;
    apply(tx, &ORDERS_BY_TECHNICIAN, "w.id", &ids, 1)?;
    apply(tx, &ORDERS_BY_AREA, "w.id", &ids, 1)
}

/// The orders a change to these repair records can affect: the records' orders and every order
/// with a repair on one of their assets. Call before and after the change and join the two.
pub fn orders_near_repairs(tx: &mut dyn Tx, repair_ids: &[&str]) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    if repair_ids.is_empty() {
        return Ok(out);
    }
    let mut assets = BTreeSet::new();
    for r in in_list(
        tx,
        "SELECT i.work_order_id, i.asset_id FROM",
        "AS v JOIN work_item_index i ON i.entity = 'repair_records' AND i.id = v.column1",
        repair_ids,
    )? {
        if let Some(o) = r.opt_text(0)? {
            out.insert(o);
        }
        if let Some(a) = r.opt_text(1)? {
            assets.insert(a);
        }
    }
    let assets: Vec<&str> = assets.iter().map(String::as_str).collect();
    for r in in_list(
        tx,
        "SELECT DISTINCT i.work_order_id FROM",
        "AS v JOIN work_item_index i ON i.asset_id = v.column1 AND i.entity = 'repair_records' WHERE i.work_order_id IS NOT NULL",
        &assets,
    )? {
        out.insert(r.text(0)?);
    }
    Ok(out)
}

/// The orders these orders follow up (by id or number), to refresh their flags.
pub fn followed_up(tx: &mut dyn Tx, order_ids: &[&str]) -> Result<BTreeSet<String>> {
    let mut targets = BTreeSet::new();
    for r in in_list(tx, "SELECT w.follow_up_of FROM", "AS v JOIN work_order_index w ON w.id = v.column1 WHERE w.follow_up_of IS NOT NULL", order_ids)? {
        targets.insert(r.text(0)?);
    }
    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
    let mut out = BTreeSet::new();
    for r in in_list(tx, "SELECT w.id FROM", "AS v JOIN work_order_index w ON w.id = v.column1 OR w.number = v.column1", &targets)? {
        out.insert(r.text(0)?);
    }
    Ok(out)
}

/// Empties one rollup and fills it again from its projection: when the migration that adds it
/// reaches a database with data, and after a bulk load of that projection (the bench).
pub fn refill(tx: &mut dyn Tx, r: &'static Rollup) -> Result<()> {
    tx.execute(&format!("DELETE FROM {}", r.table), &[])?;
    tx.execute(statement(r, None, 0, 1), &[])?;
    Ok(())
}

/// Recomputes every flag and rollup from the projections: when migration 0004 is applied to a
/// database with data, and after a bulk load that wrote the projections directly (the bench).
pub fn rebuild(tx: &mut dyn Tx) -> Result<()> {
    let not_fixed: Vec<String> = not_fixed_all(tx)?.into_iter().collect();
    tx.execute("UPDATE work_order_index SET not_fixed = 0 WHERE not_fixed <> 0", &[])?;
    let ids: Vec<&str> = not_fixed.iter().map(String::as_str).collect();
    execute_in_list(tx, "UPDATE work_order_index SET not_fixed = 1 WHERE id IN (SELECT column1 FROM", "AS v)", &ids)?;
    for r in ALL {
        refill(tx, r)?;
    }
    Ok(())
}
