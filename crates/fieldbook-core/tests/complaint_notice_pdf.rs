//! The complaint result notice PDF, read back with poppler's `pdftotext`: the customer's letter
//! must say, in both languages and in the embedded font's Chinese, what they complained about,
//! what was done and the result.

use std::path::Path;
use std::process::Command;

use chrono::{TimeZone, Utc};
use fieldbook_core::complaint_notice::{render, Notice};
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

fn notice() -> Notice {
    let at = |d, h| Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap();
    Notice {
        number: "2612-007".into(),
        customer: "上海华东商业广场 (CUST-001)".into(),
        registered_at: at(1, 2),
        category: "timeliness".into(),
        severity: "serious".into(),
        work_orders: vec!["WO-1002".into()],
        description: "技术员迟到三小时，报警主机故障未能当天修复。".into(),
        actions: vec![
            (at(2, 3), "首次报告 / First report".into(), "已联系客户道歉，安排主管复查。".into()),
            (at(3, 3), "管理层书面答复 / Written reply".into(), "Management apologises; a second engineer was assigned to the site.".into()),
        ],
        result: "更换主板，系统恢复正常；补偿一次免费巡检。".into(),
        informed_how: "letter".into(),
        informed_at: at(9, 6),
        closed_at: at(9, 7),
    }
}

#[test]
fn the_result_notice_says_in_both_languages_what_was_complained_about_done_and_decided() {
    let doc = ImportDocument::from_json(DEMO, "demo").unwrap();
    let pdf = render(&notice(), doc.company.as_ref()).unwrap_or_else(|e| panic!("{e}"));
    assert!(pdf.starts_with(b"%PDF-"));
    let text = flat(&pdftotext(&pdf, "complaint-notice-2612-007.pdf"));
    let company = doc.company.as_ref().expect("the demo has a company");
    for needle in [
        company.name_zh.as_str(),
        company.name_en.as_str(),
        "客户投诉处理结果通知书 / Complaint Result Notice",
        "投诉编号 / Complaint No. 2612-007",
        "上海华东商业广场 (CUST-001)",
        "响应不及时 / Late response",
        "严重 / Serious",
        "WO-1002",
        // Chinese text the letterhead's font subset must cover, glyph for glyph.
        "技术员迟到三小时，报警主机故障未能当天修复。",
        "已联系客户道歉，安排主管复查。",
        "Management apologises; a second engineer was assigned to the site.",
        "更换主板，系统恢复正常；补偿一次免费巡检。",
        "书面信函 / By letter",
        "2026-12-01",
        "If you disagree with this result, please contact us",
    ] {
        assert!(text.contains(needle), "{needle:?} not found in the notice's text:\n{text}");
    }
}

#[test]
fn a_long_result_flows_onto_a_second_page_with_its_footer() {
    let mut n = notice();
    n.result = "处理过程记录。".repeat(400);
    let text = pdftotext(&render(&n, None).unwrap(), "complaint-notice-long.pdf");
    assert!(text.contains("Fieldbook"), "no letterhead: {text}");
    assert!(flat(&text).contains("Page 2 of"), "the long result did not flow on: {text}");
}
