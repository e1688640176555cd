//! The expiry notice PDF (保养到期通知书), read back with poppler's `pdftotext`: the customer's
//! letter must name, in both languages, the contract, the equipment it covers, its service level
//! and end date, what happens after it and how to renew.

use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use fieldbook_core::expiry_notice::{render, CoveredAsset, Notice};
use fieldbook_core::import::ImportDocument;

const DEMO: &str = include_str!("../../../demo/fire-protection.json");

fn pdftotext(pdf: &[u8], name: &str) -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-samples");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext").args(["-enc", "UTF-8"]).arg(&path).arg("-").output().unwrap_or_else(|e| {
        panic!("cannot run pdftotext ({e}): install poppler-utils (`apt-get install poppler-utils`) to run the report tests")
    });
    assert!(out.status.success(), "pdftotext failed on {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn notice() -> Notice {
    Notice {
        contract: "HT-2025-017".into(),
        customer: "金桥国际商业广场 (C-JINQIAO)".into(),
        starts_on: d("2025-04-01"),
        ends_on: d("2026-03-31"),
        service_level: Some("standard".into()),
        assets: vec![
            CoveredAsset { code: "JQ-FACP-01".into(), name: "火灾报警控制器".into(), site: "金桥广场 A 座".into() },
            CoveredAsset { code: "JQ-PUMP-01".into(), name: "Sprinkler pump 1".into(), site: "金桥广场 A 座".into() },
        ],
        dated: d("2026-03-02"),
    }
}

#[test]
fn the_expiry_notice_names_the_contract_its_equipment_level_end_and_how_to_renew() {
    let doc = ImportDocument::from_json(DEMO, "demo").unwrap();
    let pdf = render(&notice(), doc.company.as_ref()).unwrap_or_else(|e| panic!("{e}"));
    assert!(pdf.starts_with(b"%PDF-"));
    let text = flat(&pdftotext(&pdf, "expiry-notice-HT-2025-017.pdf"));
    let company = doc.company.as_ref().expect("the demo has a company");
    for needle in [
        company.name_zh.as_str(),
        company.name_en.as_str(),
        "保养到期通知书 / Maintenance Contract Expiry Notice",
        "合同编号 / Contract No. HT-2025-017",
        "金桥国际商业广场 (C-JINQIAO)",
        "标准保养（巡检 + 维修人工） / Standard: inspections and repair labour",
        "2026-03-31",
        "2025-04-01",
        "将于 29 天后到期",
        "Your maintenance contract HT-2025-017 with us ends on 2026-03-31.",
        "JQ-FACP-01",
        "火灾报警控制器",
        "Sprinkler pump 1",
        "定期巡检将停止",
        "After the end date, scheduled inspections stop",
        "How to renew",
        "we will visit to agree the renewal",
        "+86 21 5555 0119",
    ] {
        assert!(text.contains(needle), "{needle:?} not found in the notice's text:\n{text}");
    }
}

#[test]
fn a_contract_without_a_level_or_assets_still_makes_a_notice_and_many_assets_flow_on() {
    let mut n = notice();
    n.service_level = None;
    n.assets.clear();
    let text = flat(&pdftotext(&render(&n, None).unwrap(), "expiry-notice-bare.pdf"));
    assert!(text.contains("Fieldbook") && text.contains("HT-2025-017"), "{text}");
    let mut n = notice();
    n.assets = (0..80).map(|i| CoveredAsset { code: format!("EXT-{i:03}"), name: "灭火器 / Extinguisher".into(), site: "B1".into() }).collect();
    let text = flat(&pdftotext(&render(&n, None).unwrap(), "expiry-notice-long.pdf"));
    assert!(text.contains("EXT-079") && text.contains("Page 2 of"), "the long list did not flow on: {text}");
}
