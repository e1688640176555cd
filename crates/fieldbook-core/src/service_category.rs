//! The service category a repair of an asset defaults to (#12), and the words of a contract's
//! service level. Pure: the laptop's repair form (`Store::default_category`) and the console's
//! review (`fieldbook-server`'s `console/renewals.rs`) both ask [`default_for`], so they cannot
//! disagree.
//!
//! The rule, from the handbooks' categories: an asset covered by a contract that is live on the
//! work date is **B** (合同服务); otherwise, inside its warranty on the work date, **C** (免费服务);
//! otherwise **A** (有费服务). A contract is live from its first day to its last day, both
//! included; a warranty ending on the work date still covers that day. The technician may still
//! choose another category; the console flags the difference.

use chrono::NaiveDate;
use serde::Serialize;

use crate::model::Category;
use crate::service_calendar::ContractTerms;

/// A contract's service level: code, Chinese, English, what it covers (en).
pub const SERVICE_LEVELS: &[(&str, &str, &str)] = &[
    ("basic", "基础保养（定期巡检）", "Basic: scheduled inspections"),
    ("standard", "标准保养（巡检 + 维修人工）", "Standard: inspections and repair labour"),
    ("full", "全面保养（巡检 + 人工 + 备件）", "Full: inspections, labour and parts"),
];

/// Is `code` one of [`SERVICE_LEVELS`]?
pub fn is_service_level(code: &str) -> bool {
    SERVICE_LEVELS.iter().any(|(c, _, _)| *c == code)
}

/// Why a repair defaults to its category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// Covered by this contract, live on the work date.
    UnderContract { contract: String, ends_on: NaiveDate },
    /// Inside the asset's warranty on the work date.
    InWarranty { warranty_ends: NaiveDate },
    /// Neither: the customer pays.
    NoCover,
}

/// The default category of a repair and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Default {
    pub category: Category,
    #[serde(flatten)]
    pub reason: Reason,
}

impl Default {
    /// The reason in words, `zh / en`, for the console and the repair form's hint.
    pub fn explain(&self) -> String {
        match &self.reason {
            Reason::UnderContract { contract, ends_on } => format!("保养合同 {contract} 有效至 {ends_on} / under contract {contract} until {ends_on}"),
            Reason::InWarranty { warranty_ends } => format!("保修期至 {warranty_ends} / in warranty until {warranty_ends}"),
            Reason::NoCover => "无有效合同、已过保修期 / no live contract, out of warranty".to_owned(),
        }
    }
}

/// The default category of a repair of `asset_id` done on `work_date`, given the contracts of
/// the asset's customer (deleted ones left out by the caller) and the asset's warranty end.
/// When several live contracts cover the asset, the one ending last is named.
pub fn default_for(asset_id: &str, warranty_ends: Option<NaiveDate>, contracts: &[ContractTerms], work_date: NaiveDate) -> Default {
    let live = contracts
        .iter()
        .filter(|c| c.starts_on <= work_date && work_date <= c.ends_on && c.asset_ids.iter().any(|a| a == asset_id))
        .max_by(|a, b| a.ends_on.cmp(&b.ends_on).then_with(|| a.number.cmp(&b.number)));
    if let Some(c) = live {
        return Default { category: Category::Contract, reason: Reason::UnderContract { contract: c.number.clone(), ends_on: c.ends_on } };
    }
    match warranty_ends {
        Some(w) if work_date <= w => Default { category: Category::Warranty, reason: Reason::InWarranty { warranty_ends: w } },
        _ => Default { category: Category::Paid, reason: Reason::NoCover },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn contract(number: &str, from: &str, to: &str, assets: &[&str]) -> ContractTerms {
        ContractTerms { number: number.into(), customer_id: "c1".into(), starts_on: d(from), ends_on: d(to), asset_ids: assets.iter().map(|a| a.to_string()).collect() }
    }

    #[test]
    fn a_contract_is_live_from_its_first_to_its_last_day() {
        let cs = [contract("HT-1", "2026-01-01", "2026-12-31", &["a1"])];
        assert_eq!(default_for("a1", None, &cs, d("2025-12-31")).category, Category::Paid, "the day before it starts");
        assert_eq!(default_for("a1", None, &cs, d("2026-01-01")).category, Category::Contract, "its first day");
        let last = default_for("a1", None, &cs, d("2026-12-31"));
        assert_eq!(last.category, Category::Contract, "its last day");
        assert_eq!(last.reason, Reason::UnderContract { contract: "HT-1".into(), ends_on: d("2026-12-31") });
        assert_eq!(default_for("a1", None, &cs, d("2027-01-01")).category, Category::Paid, "the day after it ends");
    }

    #[test]
    fn a_warranty_covers_its_last_day_and_a_contract_comes_first() {
        let w = Some(d("2026-06-30"));
        assert_eq!(default_for("a1", w, &[], d("2026-06-30")).category, Category::Warranty, "warranty ending the same day");
        assert_eq!(default_for("a1", w, &[], d("2026-07-01")), Default { category: Category::Paid, reason: Reason::NoCover });
        let cs = [contract("HT-1", "2026-01-01", "2026-12-31", &["a1"])];
        assert_eq!(default_for("a1", w, &cs, d("2026-03-01")).category, Category::Contract, "under contract and in warranty: B");
    }

    #[test]
    fn only_the_contracts_covered_assets_count() {
        let cs = [contract("HT-1", "2026-01-01", "2026-12-31", &["a2"])];
        assert_eq!(default_for("a1", None, &cs, d("2026-03-01")).category, Category::Paid);
        assert_eq!(default_for("a1", Some(d("2026-03-01")), &cs, d("2026-03-01")).category, Category::Warranty);
    }

    #[test]
    fn a_renewal_takes_over_the_day_after_the_old_contract_ends() {
        let cs = [contract("HT-1", "2025-04-01", "2026-03-31", &["a1"]), contract("HT-2", "2026-04-01", "2027-03-31", &["a1"])];
        let on = |day| match default_for("a1", None, &cs, d(day)).reason {
            Reason::UnderContract { contract, .. } => contract,
            r => panic!("{r:?}"),
        };
        assert_eq!(on("2026-03-31"), "HT-1");
        assert_eq!(on("2026-04-01"), "HT-2");
        let overlapping = [contract("HT-1", "2025-04-01", "2026-04-30", &["a1"]), contract("HT-2", "2026-04-01", "2027-03-31", &["a1"])];
        assert!(matches!(default_for("a1", None, &overlapping, d("2026-04-15")).reason, Reason::UnderContract { ref contract, .. } if contract == "HT-2"), "the one ending last");
    }

    #[test]
    fn the_reason_reads_in_both_languages() {
        let cs = [contract("HT-1", "2026-01-01", "2026-12-31", &["a1"])];
        let e = default_for("a1", None, &cs, d("2026-03-01")).explain();
        assert!(e.contains("HT-1") && e.contains("2026-12-31") && e.contains("保养合同"), "{e}");
        assert!(is_service_level("full") && !is_service_level("gold"));
    }
}
