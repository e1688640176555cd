//! The technician's daily report (技术员工作日报表): minutes per service category (A–D) and per
//! activity (repair, inspection, travel, internal, other: entries from before activities) for a
//! day, per technician and in total.

use chrono::NaiveDate;
use serde::Serialize;

use crate::model::{Activity, Category};

/// Minutes per activity; `other` holds entries without a known activity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ActivityMinutes {
    pub repair: i64,
    pub inspection: i64,
    pub travel: i64,
    pub internal: i64,
    pub other: i64,
}

impl ActivityMinutes {
    pub fn add(&mut self, a: Option<Activity>, minutes: i64) {
        *match a {
            Some(Activity::Repair) => &mut self.repair,
            Some(Activity::Inspection) => &mut self.inspection,
            Some(Activity::Travel) => &mut self.travel,
            Some(Activity::Internal) => &mut self.internal,
            None => &mut self.other,
        } += minutes;
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CategoryMinutes {
    #[serde(rename = "A")]
    pub paid: i64,
    #[serde(rename = "B")]
    pub contract: i64,
    #[serde(rename = "C")]
    pub warranty: i64,
    #[serde(rename = "D")]
    pub internal: i64,
}

impl CategoryMinutes {
    pub fn add(&mut self, c: Category, minutes: i64) {
        *match c {
            Category::Paid => &mut self.paid,
            Category::Contract => &mut self.contract,
            Category::Warranty => &mut self.warranty,
            Category::Internal => &mut self.internal,
        } += minutes;
    }
    pub fn get(&self, c: Category) -> i64 {
        match c {
            Category::Paid => self.paid,
            Category::Contract => self.contract,
            Category::Warranty => self.warranty,
            Category::Internal => self.internal,
        }
    }
    pub fn total(&self) -> i64 {
        self.paid + self.contract + self.warranty + self.internal
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TechnicianDay {
    pub technician: String,
    pub minutes: CategoryMinutes,
    pub activities: ActivityMinutes,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailyReport {
    pub day: NaiveDate,
    pub technicians: Vec<TechnicianDay>,
    pub totals: CategoryMinutes,
    pub activity_totals: ActivityMinutes,
    pub total: i64,
}

impl DailyReport {
    /// Builds the report from (technician, category, activity, minutes) rows.
    pub fn from_rows(day: NaiveDate, rows: impl IntoIterator<Item = (String, Category, Option<Activity>, i64)>) -> Self {
        let mut technicians: Vec<TechnicianDay> = Vec::new();
        let mut totals = CategoryMinutes::default();
        let mut activity_totals = ActivityMinutes::default();
        for (tech, cat, activity, minutes) in rows {
            totals.add(cat, minutes);
            activity_totals.add(activity, minutes);
            let t = match technicians.iter().position(|t| t.technician == tech) {
                Some(i) => &mut technicians[i],
                None => {
                    technicians.push(TechnicianDay { technician: tech, minutes: CategoryMinutes::default(), activities: ActivityMinutes::default(), total: 0 });
                    technicians.last_mut().expect("just pushed")
                }
            };
            t.minutes.add(cat, minutes);
            t.activities.add(activity, minutes);
        }
        for t in &mut technicians {
            t.total = t.minutes.total();
        }
        let total = totals.total();
        DailyReport { day, technicians, totals, activity_totals, total }
    }

    /// A plain-text table for terminals, bilingual headings.
    pub fn to_text(&self) -> String {
        let mut s = format!("技术员工作日报表 / Daily report {}\n", self.day);
        s.push_str(&format!("{:<16} {:>8} {:>8} {:>8} {:>8} {:>8}\n", "technician", "A 有费", "B 合同", "C 免费", "D 行政", "total"));
        let line = |name: &str, m: &CategoryMinutes| format!("{:<16} {:>8} {:>8} {:>8} {:>8} {:>8}\n", name, m.paid, m.contract, m.warranty, m.internal, m.total());
        for t in &self.technicians {
            s.push_str(&line(&t.technician, &t.minutes));
        }
        s.push_str(&line("合计 / total", &self.totals));
        s.push_str(&format!("{:<16} {:>8} {:>8} {:>8} {:>8} {:>8}\n", "", "维修", "巡检", "路途", "内部", "其他"));
        s.push_str(&format!("{:<16} {:>8} {:>8} {:>8} {:>8} {:>8}\n", "activity", "repair", "inspect", "travel", "internal", "other"));
        let acts = |name: &str, a: &ActivityMinutes| format!("{:<16} {:>8} {:>8} {:>8} {:>8} {:>8}\n", name, a.repair, a.inspection, a.travel, a.internal, a.other);
        for t in &self.technicians {
            s.push_str(&acts(&t.technician, &t.activities));
        }
        s.push_str(&acts("合计 / total", &self.activity_totals));
        s.push_str("(minutes / 分钟)\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_per_technician_and_category() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let r = DailyReport::from_rows(day, [
            ("li".into(), Category::Paid, Some(Activity::Repair), 30),
            ("li".into(), Category::Internal, Some(Activity::Internal), 15),
            ("li".into(), Category::Contract, Some(Activity::Travel), 20),
            ("wang".into(), Category::Paid, None, 60),
        ]);
        assert_eq!(r.technicians.len(), 2);
        assert_eq!(r.technicians[0].total, 65);
        assert_eq!(r.technicians[0].activities, ActivityMinutes { repair: 30, inspection: 0, travel: 20, internal: 15, other: 0 });
        assert_eq!(r.totals.get(Category::Paid), 90);
        assert_eq!(r.activity_totals.other, 60);
        assert_eq!(r.total, 125);
        let text = r.to_text();
        assert!(text.contains("合计") && text.contains("travel"), "{text}");
    }
}
