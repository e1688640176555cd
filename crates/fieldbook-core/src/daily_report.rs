//! The technician's daily report (技术员工作日报表): minutes per service category for a day.

use chrono::NaiveDate;
use serde::Serialize;

use crate::model::Category;

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
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailyReport {
    pub day: NaiveDate,
    pub technicians: Vec<TechnicianDay>,
    pub totals: CategoryMinutes,
    pub total: i64,
}

impl DailyReport {
    /// Builds the report from (technician, category, minutes) rows.
    pub fn from_rows(day: NaiveDate, rows: impl IntoIterator<Item = (String, Category, i64)>) -> Self {
        let mut technicians: Vec<TechnicianDay> = Vec::new();
        let mut totals = CategoryMinutes::default();
        for (tech, cat, minutes) in rows {
            totals.add(cat, minutes);
            match technicians.iter_mut().find(|t| t.technician == tech) {
                Some(t) => t.minutes.add(cat, minutes),
                None => {
                    let mut m = CategoryMinutes::default();
                    m.add(cat, minutes);
                    technicians.push(TechnicianDay { technician: tech, minutes: m, total: 0 });
                }
            }
        }
        for t in &mut technicians {
            t.total = t.minutes.total();
        }
        let total = totals.total();
        DailyReport { day, technicians, totals, total }
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
        let r = DailyReport::from_rows(day, [("li".into(), Category::Paid, 30), ("li".into(), Category::Internal, 15), ("wang".into(), Category::Paid, 60)]);
        assert_eq!(r.technicians.len(), 2);
        assert_eq!(r.technicians[0].total, 45);
        assert_eq!(r.totals.get(Category::Paid), 90);
        assert_eq!(r.total, 105);
        assert!(r.to_text().contains("合计"));
    }
}
