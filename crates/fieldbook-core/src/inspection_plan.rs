//! Planned inspections (#12), pure: a contract's inspection plan recurs at an interval from the
//! contract's first day; [`due_dates`] are the days a plan's inspections fall due in a period
//! (inside the contract, never twice), [`phase_of`] the contract phase of a day — early, middle or
//! late third of the contract, which the handbooks say emphasise different checks (a checklist
//! item may be shown in some phases only, `checklist::Item::phases`) — and [`planned_order_id`]
//! the one id the server gives a plan's order for a due date and site, so generating twice, or
//! from two places at once, makes each order once.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// How often a plan's inspections recur.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Monthly,
    Bimonthly,
    Quarterly,
    HalfYearly,
    Yearly,
}

impl Interval {
    pub const ALL: [Interval; 5] = [Interval::Monthly, Interval::Bimonthly, Interval::Quarterly, Interval::HalfYearly, Interval::Yearly];

    pub fn months(self) -> u32 {
        match self {
            Interval::Monthly => 1,
            Interval::Bimonthly => 2,
            Interval::Quarterly => 3,
            Interval::HalfYearly => 6,
            Interval::Yearly => 12,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Monthly => "monthly",
            Interval::Bimonthly => "bimonthly",
            Interval::Quarterly => "quarterly",
            Interval::HalfYearly => "half_yearly",
            Interval::Yearly => "yearly",
        }
    }

    /// The interval named by its word, or what the words are.
    pub fn parse(s: &str) -> Result<Interval, String> {
        Interval::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| format!("'{s}' is not an interval; use one of {}", Interval::ALL.map(Interval::as_str).join(", ")))
    }
}

/// The phase of a contract: its first, middle or last third.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Early,
    Middle,
    Late,
}

/// The words a checklist item's `phases` and a work order's `phase` may hold.
pub const PHASES: &[&str] = &["early", "middle", "late"];

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Early => "early",
            Phase::Middle => "middle",
            Phase::Late => "late",
        }
    }
}

/// The phase of `day` in a contract running `starts_on..=ends_on`: the contract's days split in
/// three (the first third early, the last third late). `None` outside the contract or for a
/// contract that ends before it starts.
pub fn phase_of(starts_on: NaiveDate, ends_on: NaiveDate, day: NaiveDate) -> Option<Phase> {
    if ends_on < starts_on || day < starts_on || day > ends_on {
        return None;
    }
    let total = (ends_on - starts_on).num_days() + 1;
    let elapsed = (day - starts_on).num_days();
    // elapsed * 3 / total is 0, 1 or 2 and never decreases as the day moves on.
    Some(match elapsed * 3 / total {
        0 => Phase::Early,
        1 => Phase::Middle,
        _ => Phase::Late,
    })
}

/// The days a plan's inspections fall due between `from` and `to` (both included): the
/// contract's first day and every `interval` after it (a 31st becomes the month's last day, the
/// next due date counted from the first day again, so dates do not drift), inside the contract.
/// Ascending, each once.
pub fn due_dates(starts_on: NaiveDate, ends_on: NaiveDate, interval: Interval, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let (from, to) = (from.max(starts_on), to.min(ends_on));
    let mut out = Vec::new();
    if from > to {
        return out;
    }
    let step = interval.months();
    // Skip to the first occurrence near `from` without walking the contract from its start.
    let months_before = {
        let m = (from.year_months() - starts_on.year_months()).max(0) as u32;
        (m / step).saturating_sub(1) * step
    };
    let mut k = months_before;
    while let Some(d) = starts_on.checked_add_months(Months::new(k)) {
        if d > to {
            break;
        }
        if d >= from {
            out.push(d);
        }
        k += step;
    }
    out
}

trait YearMonths {
    fn year_months(&self) -> i64;
}

impl YearMonths for NaiveDate {
    fn year_months(&self) -> i64 {
        use chrono::Datelike;
        self.year() as i64 * 12 + self.month0() as i64
    }
}

/// Days either side of a due date within which an order already made for the same plan and
/// site stands for it: half the interval. When the office corrects a contract's first day or a
/// plan's interval after orders were made, the due dates move but the orders made stay; a due
/// date this close to one of them is the same visit, not a second one.
pub fn same_visit_days(interval: Interval) -> i64 {
    interval.months() as i64 * 30 / 2
}

/// Whether one of the days orders were `made` for (same plan, same site) stands for `due`.
pub fn visit_made(made: &[NaiveDate], due: NaiveDate, interval: Interval) -> bool {
    made.iter().any(|m| (*m - due).num_days().abs() < same_visit_days(interval))
}

/// The id of a plan's order for one due date at one site: the same wherever and however often it
/// is computed, so generation is idempotent (an existing order is left as it is).
pub fn planned_order_id(plan_id: &str, due_on: NaiveDate, site_id: &str) -> String {
    const NS: uuid::Uuid = uuid::Uuid::from_u128(0x6669_656c_6462_6f6f_6b2d_706c_616e_6e65);
    uuid::Uuid::new_v5(&NS, format!("{plan_id}/{due_on}/{site_id}").as_bytes()).to_string()
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_due_date_moved_by_a_few_days_is_the_visit_already_made() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let made = [d("2026-04-15")];
        // The contract's first day corrected from 15 to 10 January: 10 April is the same visit.
        assert!(visit_made(&made, d("2026-04-10"), Interval::Quarterly));
        assert!(!visit_made(&made, d("2026-07-10"), Interval::Quarterly), "the next quarter is a visit of its own");
        // Monthly: within half a month only; consecutive monthly due dates never stand for each other.
        assert!(visit_made(&made, d("2026-04-01"), Interval::Monthly));
        assert!(!visit_made(&made, d("2026-05-15"), Interval::Monthly));
        assert!(!visit_made(&made, d("2026-03-31"), Interval::Monthly));
        assert!(!visit_made(&[], d("2026-04-15"), Interval::Yearly));
    }

    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_quarterly_plan_falls_due_every_three_months_from_the_contract_start() {
        let due = due_dates(d("2026-01-15"), d("2026-12-31"), Interval::Quarterly, d("2026-01-01"), d("2026-12-31"));
        assert_eq!(due, [d("2026-01-15"), d("2026-04-15"), d("2026-07-15"), d("2026-10-15")]);
        // A period: only the due dates inside it, and nothing outside the contract.
        assert_eq!(due_dates(d("2026-01-15"), d("2026-12-31"), Interval::Quarterly, d("2026-04-01"), d("2026-06-30")), [d("2026-04-15")]);
        assert!(due_dates(d("2026-01-15"), d("2026-12-31"), Interval::Monthly, d("2027-01-01"), d("2027-03-31")).is_empty());
        assert!(due_dates(d("2026-01-15"), d("2026-12-31"), Interval::Monthly, d("2025-10-01"), d("2026-01-14")).is_empty());
    }

    #[test]
    fn a_month_end_start_stays_at_month_ends_without_drifting() {
        let due = due_dates(d("2026-01-31"), d("2026-06-30"), Interval::Monthly, d("2026-01-01"), d("2026-06-30"));
        assert_eq!(due, [d("2026-01-31"), d("2026-02-28"), d("2026-03-31"), d("2026-04-30"), d("2026-05-31"), d("2026-06-30")]);
    }

    #[test]
    fn phases_are_the_thirds_of_the_contract() {
        let (s, e) = (d("2026-01-01"), d("2026-12-31"));
        assert_eq!(phase_of(s, e, s), Some(Phase::Early));
        assert_eq!(phase_of(s, e, d("2026-04-30")), Some(Phase::Early));
        assert_eq!(phase_of(s, e, d("2026-06-30")), Some(Phase::Middle));
        assert_eq!(phase_of(s, e, d("2026-10-01")), Some(Phase::Late));
        assert_eq!(phase_of(s, e, e), Some(Phase::Late));
        assert_eq!(phase_of(s, e, d("2027-01-01")), None);
        assert_eq!(phase_of(s, e, d("2025-12-31")), None);
        // A one-day contract is early on its day.
        assert_eq!(phase_of(s, s, s), Some(Phase::Early));
    }

    #[test]
    fn intervals_parse_from_their_words_only() {
        for i in Interval::ALL {
            assert_eq!(Interval::parse(i.as_str()), Ok(i));
        }
        let e = Interval::parse("weekly").unwrap_err();
        assert!(e.contains("weekly") && e.contains("quarterly"), "{e}");
    }

    #[test]
    fn a_planned_order_id_is_the_same_for_the_same_plan_day_and_site_only() {
        let a = planned_order_id("p1", d("2026-04-15"), "s1");
        assert_eq!(a, planned_order_id("p1", d("2026-04-15"), "s1"));
        assert_ne!(a, planned_order_id("p1", d("2026-04-16"), "s1"));
        assert_ne!(a, planned_order_id("p1", d("2026-04-15"), "s2"));
        assert_ne!(a, planned_order_id("p2", d("2026-04-15"), "s1"));
    }

    fn day() -> impl Strategy<Value = NaiveDate> {
        (0i64..3_000).prop_map(|n| d("2020-01-01") + chrono::Duration::days(n))
    }

    proptest! {
        /// Whatever the contract, interval and period: ascending, never twice, inside both the
        /// contract and the period, and the period's dates are exactly the whole contract's dates
        /// that fall in it (skipping ahead loses none).
        #[test]
        fn due_dates_are_never_twice_and_inside_the_contract(
            start in day(), len in 0i64..2_000, i in 0usize..5, from in day(), span in 0i64..800,
        ) {
            let end = start + chrono::Duration::days(len);
            let to = from + chrono::Duration::days(span);
            let interval = Interval::ALL[i];
            let due = due_dates(start, end, interval, from, to);
            prop_assert!(due.windows(2).all(|w| w[0] < w[1]), "{due:?}");
            for x in &due {
                prop_assert!(*x >= start && *x <= end && *x >= from && *x <= to);
                prop_assert!(phase_of(start, end, *x).is_some());
            }
            let whole: Vec<NaiveDate> = due_dates(start, end, interval, start, end).into_iter().filter(|x| *x >= from && *x <= to).collect();
            prop_assert_eq!(due, whole);
        }

        /// Phases never go back as the days go on.
        #[test]
        fn phases_only_move_forward(start in day(), len in 0i64..2_000, a in 0i64..2_000, b in 0i64..2_000) {
            let end = start + chrono::Duration::days(len);
            let (a, b) = (a.min(len), b.min(len));
            let (pa, pb) = (phase_of(start, end, start + chrono::Duration::days(a)), phase_of(start, end, start + chrono::Duration::days(b)));
            prop_assert!(pa.is_some() && pb.is_some());
            if a <= b { prop_assert!(pa <= pb); }
        }
    }
}
