//! The service calendar and response policies (issue #11): when the company works, and what it
//! promises a caller. Every response deadline — the console's preview and the call it registers,
//! the server's and the laptop's imports, a follow-up order raised on a laptop — comes from
//! [`ServiceCalendar::deadline`], the one function that computes it. Pure: no I/O.
//!
//! A calendar is a document (the `body` of a `service_calendars` record, published by an admin as
//! numbered versions that never change):
//!
//! - `utc_offset`: the company's fixed offset from UTC, `"+08:00"` for China (which has no daylight
//!   saving time; a calendar with DST would need a time-zone name instead).
//! - `week`: working intervals per weekday (`mon` … `sun`), e.g. 08:30–12:00 and 13:00–17:30.
//! - `holidays`: dates with no working hours, whatever their weekday.
//! - `make_up_days`: weekend dates worked in exchange for a holiday (调休), with their hours.
//! - `policies`: named response policies, each a list of commitments (accept, phone answer, on
//!   site) with the span each is due within: working hours, clock hours, calendar days or working
//!   days. The `on_site` commitment is the order's response deadline.
//! - `zones`: the policy for an urban and a suburban site; `contracts`: a policy per contract
//!   number, which wins over the zone.
//!
//! The version in force for a call is the newest one whose `effective_from` (an RFC 3339 moment)
//! is not after the time the call was taken ([`in_force`]); with none, [`ServiceCalendar::default`].

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::{FieldProblem, Result};
use crate::model::Zone;

/// Limits that keep a deadline's search finite and a typo from promising a year.
const MAX_WORKING_HOURS: u32 = 2_000;
const MAX_CLOCK_HOURS: u32 = 8_760;
const MAX_DAYS: u32 = 365;
const MAX_LISTED_DAYS: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceCalendar {
    /// `"+08:00"`: the offset of the company's wall clock from UTC.
    pub utc_offset: String,
    pub week: Week,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    #[serde(default)]
    pub make_up_days: Vec<MakeUpDay>,
    pub policies: Vec<Policy>,
    pub zones: ZonePolicies,
    /// Contract number → policy name.
    #[serde(default)]
    pub contracts: BTreeMap<String, String>,
}

/// Working intervals per weekday, in the company's local time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Week {
    #[serde(default)]
    pub mon: Vec<Interval>,
    #[serde(default)]
    pub tue: Vec<Interval>,
    #[serde(default)]
    pub wed: Vec<Interval>,
    #[serde(default)]
    pub thu: Vec<Interval>,
    #[serde(default)]
    pub fri: Vec<Interval>,
    #[serde(default)]
    pub sat: Vec<Interval>,
    #[serde(default)]
    pub sun: Vec<Interval>,
}

impl Week {
    pub fn day(&self, d: Weekday) -> &[Interval] {
        match d {
            Weekday::Mon => &self.mon,
            Weekday::Tue => &self.tue,
            Weekday::Wed => &self.wed,
            Weekday::Thu => &self.thu,
            Weekday::Fri => &self.fri,
            Weekday::Sat => &self.sat,
            Weekday::Sun => &self.sun,
        }
    }
    fn days(&self) -> [(&'static str, &[Interval]); 7] {
        [("mon", &self.mon), ("tue", &self.tue), ("wed", &self.wed), ("thu", &self.thu), ("fri", &self.fri), ("sat", &self.sat), ("sun", &self.sun)]
    }
}

/// A working interval within one day, `from` before `to` (minutes; `"HH:MM"` in the document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interval {
    #[serde(with = "hhmm")]
    pub from: NaiveTime,
    #[serde(with = "hhmm")]
    pub to: NaiveTime,
}

impl Interval {
    pub fn new(from: &str, to: &str) -> Interval {
        Interval { from: hhmm::parse(from).expect("HH:MM"), to: hhmm::parse(to).expect("HH:MM") }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub date: NaiveDate,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MakeUpDay {
    pub date: NaiveDate,
    pub hours: Vec<Interval>,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// How contracts and zones name it, e.g. `urban`.
    pub name: String,
    #[serde(default)]
    pub label_en: String,
    #[serde(default)]
    pub label_zh: String,
    pub commitments: Vec<Commitment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commitment {
    pub kind: CommitmentKind,
    pub within: Span,
}

/// What the company promises to have done by a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitmentKind {
    /// The call accepted (受理).
    Accept,
    /// The caller phoned back with an answer.
    PhoneAnswer,
    /// The technician on site: the work order's response deadline.
    OnSite,
}

/// How long a commitment may take, counted from the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    /// Hours of working time, counted from the first working moment at or after the call.
    WorkingHours(u32),
    /// Hours on the clock, nights and holidays included.
    ClockHours(u32),
    /// Days on the clock (24 h each), nights and holidays included.
    CalendarDays(u32),
    /// By the close of the n-th working day after the day the working clock starts.
    WorkingDays(u32),
}

impl Span {
    fn amount(self) -> u32 {
        match self {
            Span::WorkingHours(n) | Span::ClockHours(n) | Span::CalendarDays(n) | Span::WorkingDays(n) => n,
        }
    }
    fn counts_working_time(self) -> bool {
        matches!(self, Span::WorkingHours(_) | Span::WorkingDays(_))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZonePolicies {
    pub urban: String,
    pub suburban: String,
}

/// What a call is promised: the policy that applies, when the working clock starts and every
/// commitment's deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deadline {
    pub policy: String,
    /// The first working moment at or after the call: when a caller outside working hours can
    /// expect the clock (and so the technician's journey) to start.
    pub clock_starts: DateTime<Utc>,
    /// The call came outside working hours (`clock_starts` is later than the call).
    pub outside_working_hours: bool,
    /// The `on_site` commitment's deadline: the work order's `response_deadline`.
    pub on_site_by: DateTime<Utc>,
    pub commitments: Vec<CommitmentDue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitmentDue {
    pub kind: CommitmentKind,
    pub within: Span,
    pub due: DateTime<Utc>,
}

/// One published version of the calendar, as a `service_calendars` record holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarVersion {
    pub version: i64,
    pub effective_from: DateTime<Utc>,
    pub calendar: ServiceCalendar,
}

/// The version in force for a call taken at `at`: the newest whose `effective_from` is not after it.
pub fn in_force(versions: &[CalendarVersion], at: DateTime<Utc>) -> Option<&CalendarVersion> {
    versions.iter().filter(|v| v.effective_from <= at).max_by_key(|v| v.version)
}

/// Parses a `service_calendars` record's `effective_from`: an RFC 3339 moment, or a bare date
/// meaning its midnight in the calendar's own offset.
pub fn parse_effective_from(text: &str, calendar: &ServiceCalendar) -> std::result::Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("'{text}' is neither an RFC 3339 moment (2026-07-01T00:00:00+08:00) nor a date (2026-07-01)"))?;
    let offset = calendar.offset().map_err(|e| e.to_string())?;
    Ok(offset.from_local_datetime(&day.and_time(NaiveTime::MIN)).single().expect("a fixed offset").with_timezone(&Utc))
}

/// A contract as far as the calendar cares: whose, when, which assets (none listed: all of the
/// customer's).
#[derive(Debug, Clone, PartialEq)]
pub struct ContractTerms {
    pub number: String,
    pub customer_id: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub asset_ids: Vec<String>,
}

/// Reads the stored versions (`version`, `effective_from`, `body` of live `service_calendars`
/// records). The server validated every body before publishing it, so one that does not read
/// is named as an error rather than skipped.
pub fn versions_from_records(rows: impl IntoIterator<Item = (i64, String, serde_json::Value)>) -> Result<Vec<CalendarVersion>> {
    rows.into_iter()
        .map(|(version, effective_from, body)| {
            let calendar = ServiceCalendar::from_json(&body).map_err(|e| crate::Error::invalid(format!("service calendar version {version}"), "body", e.to_string()))?;
            let effective_from = parse_effective_from(&effective_from, &calendar).map_err(|e| crate::Error::invalid(format!("service calendar version {version}"), "effective_from", e))?;
            Ok(CalendarVersion { version, effective_from, calendar })
        })
        .collect()
}

/// The calendar for a call taken at `at`: the version in force, or the default calendar when no
/// version was published yet (or none is effective that early).
pub fn calendar_at(versions: &[CalendarVersion], at: DateTime<Utc>) -> ServiceCalendar {
    in_force(versions, at).map(|v| v.calendar.clone()).unwrap_or_default()
}

impl ServiceCalendar {
    /// Reads and validates a calendar document.
    pub fn from_json(body: &serde_json::Value) -> Result<ServiceCalendar> {
        let cal: ServiceCalendar = serde_json::from_value(body.clone())
            .map_err(|e| crate::Error::Invalid(vec![FieldProblem::new("service calendar", "body", format!("{e}; see the calendar format in docs/console-api.md"))]))?;
        cal.validate()?;
        Ok(cal)
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a calendar serialises")
    }

    pub fn offset(&self) -> Result<FixedOffset> {
        parse_offset(&self.utc_offset)
            .ok_or_else(|| crate::Error::invalid("service calendar", "utc_offset", format!("'{}': write the offset as +08:00 (hours and minutes east of UTC)", self.utc_offset)))
    }

    /// Every problem at once, each naming where it is and how to fix it.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        let mut bad = |field: String, problem: String| problems.push(FieldProblem::new("service calendar", field, problem));
        if parse_offset(&self.utc_offset).is_none() {
            bad("utc_offset".into(), format!("'{}': write the offset as +08:00 (hours and minutes east of UTC)", self.utc_offset));
        }
        let check_intervals = |field: &str, list: &[Interval], bad: &mut dyn FnMut(String, String)| {
            let mut sorted: Vec<&Interval> = list.iter().collect();
            sorted.sort_by_key(|i| i.from);
            for i in &sorted {
                if i.from >= i.to {
                    bad(field.into(), format!("{}–{}: an interval must end after it starts", hhmm::show(i.from), hhmm::show(i.to)));
                }
            }
            for pair in sorted.windows(2) {
                if pair[1].from < pair[0].to {
                    bad(
                        field.into(),
                        format!("{}–{} overlaps {}–{}: working intervals of a day must not overlap", hhmm::show(pair[0].from), hhmm::show(pair[0].to), hhmm::show(pair[1].from), hhmm::show(pair[1].to)),
                    );
                }
            }
        };
        let mut any_hours = false;
        for (day, list) in self.week.days() {
            check_intervals(&format!("week.{day}"), list, &mut bad);
            any_hours |= !list.is_empty();
        }
        if !any_hours {
            bad("week".into(), "no weekday has working hours; give at least one day its hours (e.g. mon 08:30–17:30)".into());
        }
        if self.holidays.len() + self.make_up_days.len() > MAX_LISTED_DAYS {
            bad("holidays".into(), format!("more than {MAX_LISTED_DAYS} holidays and make-up days; remove past years"));
        }
        let mut holidays = BTreeSet::new();
        for h in &self.holidays {
            if !holidays.insert(h.date) {
                bad("holidays".into(), format!("{} is listed twice", h.date));
            }
        }
        let mut make_up = BTreeSet::new();
        for m in &self.make_up_days {
            let field = format!("make_up_days {}", m.date);
            if !make_up.insert(m.date) {
                bad(field.clone(), "is listed twice".into());
            }
            if holidays.contains(&m.date) {
                bad(field.clone(), "is also a holiday: a day is either a holiday or a make-up working day; remove it from one list".into());
            }
            if m.hours.is_empty() {
                bad(field.clone(), "give the hours worked that day (e.g. 08:30–12:00 and 13:00–17:30)".into());
            }
            check_intervals(&field, &m.hours, &mut bad);
        }
        let mut names = BTreeSet::new();
        for (i, p) in self.policies.iter().enumerate() {
            let field = format!("policies[{i}] {}", p.name);
            if p.name.trim().is_empty() || p.name.len() > 64 {
                bad(field.clone(), "give the policy a name of 1 to 64 characters (e.g. urban)".into());
            }
            if !names.insert(p.name.as_str()) {
                bad(field.clone(), "another policy has the same name".into());
            }
            let mut kinds = BTreeSet::new();
            for c in &p.commitments {
                if !kinds.insert(c.kind) {
                    bad(field.clone(), format!("{:?} is promised twice; keep one", c.kind));
                }
                let (n, max) = (c.within.amount(), match c.within {
                    Span::WorkingHours(_) => MAX_WORKING_HOURS,
                    Span::ClockHours(_) => MAX_CLOCK_HOURS,
                    Span::CalendarDays(_) | Span::WorkingDays(_) => MAX_DAYS,
                });
                if n == 0 {
                    bad(field.clone(), format!("{:?} within 0: a commitment needs a span of at least 1", c.kind));
                } else if n > max {
                    bad(field.clone(), format!("{:?} within {n}: at most {max}", c.kind));
                }
            }
            if !kinds.contains(&CommitmentKind::OnSite) {
                bad(field.clone(), "has no on_site commitment; the work order's response deadline is the technician on site".into());
            }
        }
        if self.policies.is_empty() {
            bad("policies".into(), "add at least one response policy (e.g. urban: on site within 6 working hours)".into());
        }
        for (field, name) in [("zones.urban", &self.zones.urban), ("zones.suburban", &self.zones.suburban)] {
            if !names.contains(name.as_str()) {
                bad(field.into(), format!("unknown policy '{name}'; the policies are: {}", names.iter().copied().collect::<Vec<_>>().join(", ")));
            }
        }
        for (contract, name) in &self.contracts {
            if contract.trim().is_empty() {
                bad("contracts".into(), "a contract assignment has an empty contract number".into());
            }
            if !names.contains(name.as_str()) {
                bad(format!("contracts.{contract}"), format!("unknown policy '{name}'; the policies are: {}", names.iter().copied().collect::<Vec<_>>().join(", ")));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(crate::Error::Invalid(problems))
        }
    }

    /// The policy for a call at a site in `zone`, under `contract` when one is named and assigned.
    pub fn policy_for(&self, zone: Zone, contract: Option<&str>) -> &Policy {
        let name = contract.and_then(|c| self.contracts.get(c)).unwrap_or(match zone {
            Zone::Urban => &self.zones.urban,
            Zone::Suburban => &self.zones.suburban,
        });
        self.policies.iter().find(|p| &p.name == name).expect("validated: every named policy exists")
    }

    /// The contract whose policy applies to a call from `customer_id` about `assets` on `day`: one
    /// with a policy assigned, in force that day, of that customer, covering one of the assets
    /// (or all of the customer's); the lowest number when several do, so the choice is stable.
    pub fn contract_for<'a>(&self, contracts: &'a [ContractTerms], customer_id: &str, assets: &[String], day: NaiveDate) -> Option<&'a str> {
        contracts
            .iter()
            .filter(|c| self.contracts.contains_key(&c.number) && c.customer_id == customer_id && c.starts_on <= day && day <= c.ends_on)
            .filter(|c| c.asset_ids.is_empty() || c.asset_ids.iter().any(|a| assets.contains(a)))
            .map(|c| c.number.as_str())
            .min()
    }

    /// A date's working intervals: none on a holiday, a make-up day's own, else its weekday's.
    pub fn hours_on(&self, day: NaiveDate) -> &[Interval] {
        if self.holidays.iter().any(|h| h.date == day) {
            return &[];
        }
        if let Some(m) = self.make_up_days.iter().find(|m| m.date == day) {
            return &m.hours;
        }
        self.week.day(day.weekday())
    }

    /// THE deadline: what a call taken at `reported_at` at a site in `zone` (under `contract`) is
    /// promised. The calendar must be valid ([`ServiceCalendar::validate`]).
    pub fn deadline(&self, reported_at: DateTime<Utc>, zone: Zone, contract: Option<&str>) -> Deadline {
        let policy = self.policy_for(zone, contract);
        let clock_starts = self.next_working_moment(reported_at);
        let commitments: Vec<CommitmentDue> = policy.commitments.iter().map(|c| CommitmentDue { kind: c.kind, within: c.within, due: self.due(reported_at, clock_starts, c.within) }).collect();
        let on_site_by = commitments.iter().find(|c| c.kind == CommitmentKind::OnSite).expect("validated: every policy has on_site").due;
        Deadline { policy: policy.name.clone(), clock_starts, outside_working_hours: clock_starts > reported_at, on_site_by, commitments }
    }

    /// Whether `t` is inside working hours (an interval's end counts as inside).
    pub fn is_working_time(&self, t: DateTime<Utc>) -> bool {
        let local = t.with_timezone(&self.fixed());
        let (day, time) = (local.date_naive(), local.time());
        self.hours_on(day).iter().any(|i| i.from <= time && time <= i.to)
    }

    /// The company's wall clock for a UTC moment.
    pub fn local(&self, t: DateTime<Utc>) -> DateTime<FixedOffset> {
        t.with_timezone(&self.fixed())
    }

    fn fixed(&self) -> FixedOffset {
        parse_offset(&self.utc_offset).expect("validated: utc_offset")
    }

    fn at(&self, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        self.fixed().from_local_datetime(&day.and_time(time)).single().expect("a fixed offset has one local time").with_timezone(&Utc)
    }

    /// Working intervals as UTC moments, from the one containing or after `t` onwards.
    fn intervals_from(&self, t: DateTime<Utc>) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let first = self.local(t).date_naive();
        // Terminates: holidays are finite and some weekday has hours (validated).
        first
            .iter_days()
            .flat_map(move |day| {
                let mut list: Vec<Interval> = self.hours_on(day).to_vec();
                list.sort_by_key(|i| i.from);
                list.into_iter().map(move |i| (self.at(day, i.from), self.at(day, i.to)))
            })
            .filter(move |(_, end)| *end > t)
    }

    fn next_working_moment(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let (start, _) = self.intervals_from(t).next().expect("the calendar has working hours");
        start.max(t)
    }

    fn due(&self, reported_at: DateTime<Utc>, clock_starts: DateTime<Utc>, span: Span) -> DateTime<Utc> {
        debug_assert!(span.counts_working_time() || clock_starts >= reported_at);
        match span {
            Span::ClockHours(h) => reported_at + Duration::hours(h.into()),
            Span::CalendarDays(d) => reported_at + Duration::days(d.into()),
            Span::WorkingHours(h) => {
                let mut left = Duration::hours(h.into());
                for (start, end) in self.intervals_from(reported_at) {
                    let start = start.max(reported_at);
                    if end - start >= left {
                        return start + left;
                    }
                    left -= end - start;
                }
                unreachable!("working intervals never run out")
            }
            Span::WorkingDays(n) => {
                let first = self.local(clock_starts).date_naive();
                let day = first.iter_days().skip(1).filter(|d| !self.hours_on(*d).is_empty()).nth(n as usize - 1).expect("working days never run out");
                let close = self.hours_on(day).iter().map(|i| i.to).max().expect("a working day has hours");
                self.at(day, close)
            }
        }
    }
}

impl Default for ServiceCalendar {
    /// Mon–Fri 08:30–12:00 and 13:00–17:30 (UTC+8); China's public holidays and make-up working
    /// days for 2026 (State Council notice) and the holidays of 2027 as expected (their make-up
    /// days are published late in 2026: an admin adds them); on site within 6 working hours in
    /// the city, 7 in the suburbs (市区六小时, 郊区七小时); and the other handbook's tiers as the
    /// policies `in_province` and `out_of_province`, for contracts that use them.
    fn default() -> Self {
        let day = || vec![Interval::new("08:30", "12:00"), Interval::new("13:00", "17:30")];
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date");
        let mut holidays = Vec::new();
        let mut span = |from: &str, to: &str, name: &str| {
            for date in d(from).iter_days().take_while(|x| *x <= d(to)) {
                holidays.push(Holiday { date, name: name.to_owned() });
            }
        };
        span("2026-01-01", "2026-01-03", "元旦 New Year's Day");
        span("2026-02-15", "2026-02-23", "春节 Spring Festival");
        span("2026-04-04", "2026-04-06", "清明节 Qingming Festival");
        span("2026-05-01", "2026-05-05", "劳动节 Labour Day");
        span("2026-06-19", "2026-06-21", "端午节 Dragon Boat Festival");
        span("2026-09-25", "2026-09-27", "中秋节 Mid-Autumn Festival");
        span("2026-10-01", "2026-10-07", "国庆节 National Day");
        span("2027-01-01", "2027-01-01", "元旦 New Year's Day");
        span("2027-02-06", "2027-02-12", "春节 Spring Festival");
        span("2027-04-05", "2027-04-05", "清明节 Qingming Festival");
        span("2027-05-01", "2027-05-05", "劳动节 Labour Day");
        span("2027-06-09", "2027-06-09", "端午节 Dragon Boat Festival");
        span("2027-09-15", "2027-09-15", "中秋节 Mid-Autumn Festival");
        span("2027-10-01", "2027-10-07", "国庆节 National Day");
        let make_up_days = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
            .into_iter()
            .map(|s| MakeUpDay { date: d(s), hours: day(), name: "调休上班 make-up working day".into() })
            .collect();
        let policy = |name: &str, en: &str, zh: &str, commitments: Vec<(CommitmentKind, Span)>| Policy {
            name: name.into(),
            label_en: en.into(),
            label_zh: zh.into(),
            commitments: commitments.into_iter().map(|(kind, within)| Commitment { kind, within }).collect(),
        };
        use CommitmentKind::*;
        ServiceCalendar {
            utc_offset: "+08:00".into(),
            week: Week { mon: day(), tue: day(), wed: day(), thu: day(), fri: day(), sat: vec![], sun: vec![] },
            holidays,
            make_up_days,
            policies: vec![
                policy("urban", "Urban: on site within 6 working hours", "市区:6个工作小时内到场", vec![(OnSite, Span::WorkingHours(6))]),
                policy("suburban", "Suburban: on site within 7 working hours", "郊区:7个工作小时内到场", vec![(OnSite, Span::WorkingHours(7))]),
                policy(
                    "in_province",
                    "In province: accepted in 24 h, phone answer in 48 h, on site in 2 working days",
                    "省内:24小时内受理,48小时内电话答复,2个工作日内到场",
                    vec![(Accept, Span::ClockHours(24)), (PhoneAnswer, Span::ClockHours(48)), (OnSite, Span::WorkingDays(2))],
                ),
                policy(
                    "out_of_province",
                    "Out of province: accepted in 24 h, phone answer in 48 h, on site in 5 working days",
                    "省外:24小时内受理,48小时内电话答复,5个工作日内到场",
                    vec![(Accept, Span::ClockHours(24)), (PhoneAnswer, Span::ClockHours(48)), (OnSite, Span::WorkingDays(5))],
                ),
            ],
            zones: ZonePolicies { urban: "urban".into(), suburban: "suburban".into() },
            contracts: BTreeMap::new(),
        }
    }
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// `"HH:MM"` times in the document.
mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn parse(s: &str) -> Option<NaiveTime> {
        if s.len() != 5 {
            return None;
        }
        NaiveTime::parse_from_str(s, "%H:%M").ok()
    }
    pub fn show(t: NaiveTime) -> String {
        t.format("%H:%M").to_string()
    }
    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&show(*t))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| serde::de::Error::custom(format!("'{s}' is not a time of day; write it as HH:MM, e.g. 08:30")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cal() -> ServiceCalendar {
        ServiceCalendar::default()
    }
    /// A moment on the company's wall clock (UTC+8).
    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("{s}:00+08:00")).unwrap().with_timezone(&Utc)
    }
    fn show(t: DateTime<Utc>) -> String {
        cal().local(t).format("%Y-%m-%dT%H:%M").to_string()
    }
    fn on_site(t: &str, zone: Zone, contract: Option<&str>) -> String {
        show(cal().deadline(at(t), zone, contract).on_site_by)
    }

    #[test]
    fn the_default_calendar_is_valid() {
        cal().validate().unwrap();
        let back = ServiceCalendar::from_json(&cal().to_json()).unwrap();
        assert_eq!(back, cal());
    }

    #[test]
    fn inside_working_hours_the_clock_runs_at_once() {
        // Tue 2026-03-10 09:00: 3 h to noon, lunch, 3 h more for urban (6), 4 h for suburban (7).
        assert_eq!(on_site("2026-03-10T09:00", Zone::Urban, None), "2026-03-10T16:00");
        assert_eq!(on_site("2026-03-10T09:00", Zone::Suburban, None), "2026-03-10T17:00");
        let d = cal().deadline(at("2026-03-10T09:00"), Zone::Urban, None);
        assert!(!d.outside_working_hours);
        assert_eq!(d.clock_starts, at("2026-03-10T09:00"));
    }

    #[test]
    fn across_a_night() {
        // Tue 15:00: 2.5 h left today, the rest on Wednesday morning.
        assert_eq!(on_site("2026-03-10T15:00", Zone::Urban, None), "2026-03-11T12:00");
        assert_eq!(on_site("2026-03-10T15:00", Zone::Suburban, None), "2026-03-11T14:00");
        // At 21:00 the clock waits for the morning.
        let d = cal().deadline(at("2026-03-10T21:00"), Zone::Urban, None);
        assert!(d.outside_working_hours);
        assert_eq!(show(d.clock_starts), "2026-03-11T08:30");
        assert_eq!(show(d.on_site_by), "2026-03-11T15:30");
    }

    #[test]
    fn a_friday_evening_call_is_due_on_monday_morning_or_later() {
        // Fri 2026-03-13 16:00: 1.5 h on Friday, 4.5 h / 5.5 h on Monday.
        assert_eq!(on_site("2026-03-13T16:00", Zone::Urban, None), "2026-03-16T14:00");
        assert_eq!(on_site("2026-03-13T16:00", Zone::Suburban, None), "2026-03-16T15:00");
        // Fri 18:30: nothing on Friday, the weekend skipped.
        let d = cal().deadline(at("2026-03-13T18:30"), Zone::Urban, None);
        assert_eq!(show(d.clock_starts), "2026-03-16T08:30");
        assert_eq!(show(d.on_site_by), "2026-03-16T15:30");
        // A Saturday call too.
        assert_eq!(on_site("2026-03-14T10:00", Zone::Suburban, None), "2026-03-16T16:30");
    }

    #[test]
    fn a_holiday_has_no_working_hours() {
        // Wed 2026-09-30 16:00: 1.5 h, then National Day (Oct 1–7): the other 4.5 h on Thursday 8th.
        assert_eq!(on_site("2026-09-30T16:00", Zone::Urban, None), "2026-10-08T14:00");
        // A call on a holiday waits for its end.
        let d = cal().deadline(at("2026-10-03T10:00"), Zone::Suburban, None);
        assert_eq!(show(d.clock_starts), "2026-10-08T08:30");
        assert_eq!(show(d.on_site_by), "2026-10-08T16:30");
    }

    #[test]
    fn a_make_up_day_is_worked() {
        // Fri 2026-02-13 17:00: 0.5 h, then Saturday Feb 14 is a make-up working day.
        assert_eq!(on_site("2026-02-13T17:00", Zone::Urban, None), "2026-02-14T15:00");
        // Sunday Sep 20 2026 is worked (before National Day).
        let d = cal().deadline(at("2026-09-20T09:00"), Zone::Urban, None);
        assert!(!d.outside_working_hours);
        assert_eq!(show(d.on_site_by), "2026-09-20T16:00");
        // A plain Sunday is not.
        assert!(cal().deadline(at("2026-09-13T09:00"), Zone::Urban, None).outside_working_hours);
    }

    #[test]
    fn the_other_handbooks_tiers_under_a_contract() {
        let mut c = cal();
        c.contracts.insert("HT-2026-001".into(), "in_province".into());
        c.contracts.insert("HT-2026-002".into(), "out_of_province".into());
        // Fri 2026-03-13 18:30.
        let d = c.deadline(at("2026-03-13T18:30"), Zone::Urban, Some("HT-2026-001"));
        assert_eq!(d.policy, "in_province");
        let due = |k: CommitmentKind| show(d.commitments.iter().find(|x| x.kind == k).unwrap().due);
        assert_eq!(due(CommitmentKind::Accept), "2026-03-14T18:30");
        assert_eq!(due(CommitmentKind::PhoneAnswer), "2026-03-15T18:30");
        // The clock starts Monday; two working days after it: close of Wednesday.
        assert_eq!(due(CommitmentKind::OnSite), "2026-03-18T17:30");
        let d = c.deadline(at("2026-03-13T18:30"), Zone::Urban, Some("HT-2026-002"));
        assert_eq!(show(d.on_site_by), "2026-03-23T17:30");
        // Five working days across National Day: from Wed Sep 30, Oct 8, 9, 10 (make-up), 12, 13.
        let d = c.deadline(at("2026-09-30T10:00"), Zone::Suburban, Some("HT-2026-002"));
        assert_eq!(show(d.on_site_by), "2026-10-13T17:30");
        // A contract with no assignment keeps the zone's policy.
        assert_eq!(c.deadline(at("2026-03-13T18:30"), Zone::Suburban, Some("HT-OTHER")).policy, "suburban");
    }

    #[test]
    fn a_contract_applies_to_its_customers_assets_while_in_force() {
        let mut c = cal();
        c.contracts.insert("HT-2".into(), "in_province".into());
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let terms = |number: &str, assets: &[&str]| ContractTerms {
            number: number.into(), customer_id: "C1".into(), starts_on: d("2026-01-01"), ends_on: d("2026-12-31"), asset_ids: assets.iter().map(|a| a.to_string()).collect(),
        };
        let list = vec![terms("HT-1", &[]), terms("HT-2", &["A1"])];
        let a1 = vec!["A1".to_string()];
        assert_eq!(c.contract_for(&list, "C1", &a1, d("2026-03-13")), Some("HT-2"));
        assert_eq!(c.contract_for(&list, "C1", &["A9".to_string()], d("2026-03-13")), None, "HT-1 has no policy assigned");
        assert_eq!(c.contract_for(&list, "C2", &a1, d("2026-03-13")), None);
        assert_eq!(c.contract_for(&list, "C1", &a1, d("2027-01-01")), None);
    }

    #[test]
    fn calendar_days_are_clock_days() {
        let mut c = cal();
        c.policies[0].commitments = vec![Commitment { kind: CommitmentKind::OnSite, within: Span::CalendarDays(2) }];
        assert_eq!(show(c.deadline(at("2026-03-13T18:30"), Zone::Urban, None).on_site_by), "2026-03-15T18:30");
    }

    #[test]
    fn the_version_in_force_is_the_newest_already_effective() {
        let v = |version, from: &str| CalendarVersion { version, effective_from: at(from), calendar: cal() };
        let versions = vec![v(1, "2026-01-01T00:00"), v(2, "2026-06-01T00:00"), v(3, "2026-09-01T00:00")];
        assert_eq!(in_force(&versions, at("2025-12-31T23:59")), None);
        assert_eq!(in_force(&versions, at("2026-05-31T23:59")).unwrap().version, 1);
        assert_eq!(in_force(&versions, at("2026-06-01T00:00")).unwrap().version, 2);
        assert_eq!(in_force(&versions, at("2027-01-01T00:00")).unwrap().version, 3);
        assert_eq!(parse_effective_from("2026-06-01", &cal()).unwrap(), at("2026-06-01T00:00"));
        assert!(parse_effective_from("June", &cal()).unwrap_err().contains("RFC 3339"));
    }

    fn problems(c: &ServiceCalendar) -> String {
        c.validate().unwrap_err().to_string()
    }

    #[test]
    fn bad_calendars_are_refused_naming_the_problem() {
        let mut c = cal();
        c.week.mon = vec![Interval::new("08:30", "12:00"), Interval::new("11:00", "17:30")];
        assert!(problems(&c).contains("week.mon: 08:30–12:00 overlaps 11:00–17:30"), "{}", problems(&c));
        let mut c = cal();
        c.week.tue = vec![Interval::new("12:00", "08:00")];
        assert!(problems(&c).contains("must end after it starts"));
        let mut c = cal();
        c.make_up_days.push(MakeUpDay { date: c.holidays[0].date, hours: vec![Interval::new("09:00", "10:00")], name: String::new() });
        assert!(problems(&c).contains("make_up_days 2026-01-01: is also a holiday"), "{}", problems(&c));
        let mut c = cal();
        c.zones.urban = "city".into();
        assert!(problems(&c).contains("zones.urban: unknown policy 'city'"), "{}", problems(&c));
        let mut c = cal();
        c.contracts.insert("HT-1".into(), "gold".into());
        assert!(problems(&c).contains("contracts.HT-1: unknown policy 'gold'"));
        let mut c = cal();
        c.policies[0].commitments[0].within = Span::WorkingHours(0);
        assert!(problems(&c).contains("within 0"), "{}", problems(&c));
        let mut c = cal();
        c.policies[1].commitments = vec![Commitment { kind: CommitmentKind::Accept, within: Span::ClockHours(24) }];
        assert!(problems(&c).contains("has no on_site commitment"));
        let mut c = cal();
        c.week = Week::default();
        assert!(problems(&c).contains("no weekday has working hours"));
        let mut c = cal();
        c.utc_offset = "Asia/Shanghai".into();
        assert!(problems(&c).contains("utc_offset"));
        let err = ServiceCalendar::from_json(&serde_json::json!({"utc_offset": "+08:00", "week": {"mon": [{"from": "8:30", "to": "12:00"}]}, "policies": [], "zones": {"urban": "u", "suburban": "s"}}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("HH:MM"), "{err}");
    }

    fn any_zone() -> impl Strategy<Value = Zone> {
        prop_oneof![Just(Zone::Urban), Just(Zone::Suburban)]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        /// Any call in 2026–2027, any zone, either tier: the on-site deadline is in working hours
        /// (every working-time span), and a later call is never due earlier.
        #[test]
        fn deadlines_fall_in_working_hours_and_never_go_back(
            minutes in 0i64..(2 * 366 * 24 * 60), later in 0i64..(10 * 24 * 60), zone in any_zone(), contract in prop_oneof![Just(None), Just(Some("IN")), Just(Some("OUT"))],
        ) {
            let mut c = cal();
            c.contracts.insert("IN".into(), "in_province".into());
            c.contracts.insert("OUT".into(), "out_of_province".into());
            let t1 = at("2026-01-01T00:00") + Duration::minutes(minutes) + Duration::seconds(minutes % 59);
            let t2 = t1 + Duration::minutes(later);
            let (d1, d2) = (c.deadline(t1, zone, contract), c.deadline(t2, zone, contract));
            for d in [&d1, &d2] {
                prop_assert!(c.is_working_time(d.on_site_by), "{} is outside working hours", show(d.on_site_by));
                prop_assert!(c.is_working_time(d.clock_starts));
                for due in &d.commitments {
                    if due.within.counts_working_time() {
                        prop_assert!(c.is_working_time(due.due));
                    }
                }
            }
            prop_assert!(d1.on_site_by > t1);
            prop_assert!(d1.clock_starts >= t1);
            prop_assert!(d2.on_site_by >= d1.on_site_by, "{} then {}", show(d1.on_site_by), show(d2.on_site_by));
            prop_assert!(d2.clock_starts >= d1.clock_starts);
        }
    }
}
