//! The service report PDF, rendered from orders recorded in a real store and read back with
//! poppler's `pdftotext`: the customer's copy must say, in both languages, what was done.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, TimeZone, Utc};
use fieldbook_core::checklist::{Item, ItemKind, Section, Slot, Text};
use fieldbook_core::import::{stable_id, ImportDocument};
use fieldbook_core::model::*;
use fieldbook_core::report::render;
use fieldbook_core::store::{AnswerInput, SignRequest, WorkOrderDetail};
use fieldbook_core::Store;
use serde_json::json;

const DEMO: &str = include_str!("../../../demo/fire-protection.json");
const INSPECTION: &str = "WO-1001";
const REPAIR: &str = "WO-1002";

fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 3, 0, 0).unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    doc: ImportDocument,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("fieldbook.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
        store.set_clock(fixed_now);
        let doc = ImportDocument::from_json(DEMO, "demo").unwrap();
        store.import(&doc, "demo").unwrap();
        Fixture { _dir: dir, store, doc }
    }

    fn parts(&self) -> Vec<Part> {
        self.doc
            .parts
            .iter()
            .map(|p| Part { id: stable_id("parts", &p.sku), sku: p.sku.clone(), name_zh: p.name_zh.clone(), name_en: p.name_en.clone(), unit: p.unit.clone(), price_cents: p.price_cents })
            .collect()
    }

    fn render(&mut self, order: &str) -> (WorkOrderDetail, Vec<u8>) {
        let detail = self.store.order_detail(order).unwrap();
        let pdf = render(&detail, self.doc.company.as_ref(), &self.parts()).unwrap_or_else(|e| panic!("{e}"));
        (detail, pdf)
    }
}

/// A handwritten-looking signature on a 600 x 200 pixel pad: two loops and an underline.
fn signature() -> SignRequest {
    let wave = |x0: f64, n: u32| -> Stroke {
        (0..=n)
            .map(|i| {
                let t = i as f64 / n as f64;
                StrokePoint { x: x0 + 220.0 * t, y: 100.0 - 60.0 * (t * 9.0).sin() * (1.0 - t * 0.5), t: i * 12 }
            })
            .collect()
    };
    let underline = (0..=10).map(|i| StrokePoint { x: 60.0 + 48.0 * i as f64, y: 170.0 + (i as f64 * 0.7).sin() * 4.0, t: i * 15 }).collect();
    SignRequest { signer_name: "陈建国".into(), signer_title: Some("物业工程部经理".into()), strokes: vec![wave(50.0, 40), wave(300.0, 40), underline] }
}

/// Every required item of the demo inspection, with a leaking, under-pressure sprinkler pump.
fn inspection_answers() -> Vec<AnswerInput> {
    serde_json::from_str(include_str!("../../../demo/fixtures/inspection-wo-1001.json")).unwrap()
}

fn signed_inspection(f: &mut Fixture) {
    f.store.set_status(INSPECTION, Status::OnSite).unwrap();
    f.store.record_answers(INSPECTION, &inspection_answers()).unwrap();
    f.store.complete(INSPECTION).unwrap();
    f.store.rate(INSPECTION, &SatisfactionCard { attitude: 4, skill: 4, arrival: 3, promise: 4, comment: Some("巡检认真，讲解清楚 / Thorough, explained clearly".into()) }).unwrap();
    f.store.sign(INSPECTION, &signature()).unwrap();
}

/// The text of a PDF as poppler extracts it (pages separated by form feeds).
fn pdftotext(pdf: &[u8], name: &str) -> String {
    let path = sample_path(name);
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext").args(["-enc", "UTF-8"]).arg(&path).arg("-").output().unwrap_or_else(|e| {
        panic!("cannot run pdftotext ({e}): install poppler-utils (`apt-get install poppler-utils`) to run the report tests")
    });
    assert!(out.status.success(), "pdftotext failed on {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Rendered samples are kept in the target directory for looking at.
fn sample_path(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-samples");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn assert_has(text: &str, needles: &[&str]) {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for n in needles {
        assert!(flat.contains(n), "{n:?} not found in the PDF text:\n{text}");
    }
}

fn assert_small_pdf(pdf: &[u8]) {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF: {:?}", &pdf[..pdf.len().min(16)]);
    assert!(pdf.len() < 1_000_000, "report is {} bytes: the font must be subset, not embedded whole", pdf.len());
}

#[test]
fn report_of_a_signed_inspection_reads_back_in_both_languages() {
    let mut f = Fixture::new();
    signed_inspection(&mut f);
    let (detail, pdf) = f.render(INSPECTION);
    assert_small_pdf(&pdf);
    eprintln!("signed inspection report: {} bytes", pdf.len());
    let text = pdftotext(&pdf, "signed-inspection.pdf");
    let sig = detail.signatures.last().unwrap();
    assert_has(&text, &[
        "华安消防设备维保有限公司",
        "Hua'an Fire Protection Maintenance Co., Ltd.",
        "上门维修记录表 / On-site Service Record",
        INSPECTION,
        "金桥国际商业广场",
        "客户 / Customer",
        "B 合同服务 / contract",
        "定期巡检 / patrol inspection",
        "JQ-PUMP-02",
        "KQ-2021-0457",
        "0.18 MPa，低于下限 0.3 / 0.18 MPa, below minimum 0.3",
        "不合格 / failed",
        "出水阀法兰",
        "按时到场",
        "response commitment met",
        "很好 / Very good",
        "客户已签字 / SIGNED",
        "陈建国",
        "物业工程部经理",
        &sig.digest,
        &sig.device_id,
        "第 1 页",
        "Page 1 of",
    ]);
    assert!(!text.contains("NOT SIGNED"), "a signed order is marked unsigned:\n{text}");
}

#[test]
fn report_of_an_unsigned_repair_lists_parts_and_says_not_signed() {
    let mut f = Fixture::new();
    f.store.set_status(REPAIR, Status::OnSite).unwrap();
    let pump = f.store.order_detail(REPAIR).unwrap().assets[0].id.clone();
    f.store
        .add_repair(REPAIR, &NewRepairRecord {
            asset_id: Some(pump),
            fault: "泵体机械密封处漏水 / Water leaking at the mechanical seal".into(),
            cause: "密封件老化磨损 / Seal worn with age".into(),
            action: "更换机械密封并试运行 30 分钟 / Replaced the seal, test-ran for 30 min".into(),
            parts: vec![
                PartUsed { sku: "SEAL-PUMP-45".into(), quantity: 1, serials: vec!["MS45-260117".into()], faulty_returned: true },
                PartUsed { sku: "GAUGE-1.6".into(), quantity: 1, serials: vec![], faulty_returned: false },
            ],
            labour_minutes: 95,
            category: Category::Paid,
            fee_cents: 48_000,
            fee_collected: true,
            taken_to_workshop: false,
            receipt_number: None,
        })
        .unwrap();
    let (_, pdf) = f.render(REPAIR);
    assert_small_pdf(&pdf);
    let text = pdftotext(&pdf, "unsigned-repair.pdf");
    assert_has(&text, &[
        "未签字 / NOT SIGNED",
        "星华精密机械有限公司",
        "A 有费服务 / paid",
        "SEAL-PUMP-45",
        "水泵机械密封 45mm",
        "Pump mechanical seal 45 mm",
        "MS45-260117",
        "压力表 0–1.6 MPa",
        "1 小时 35 分 / 1 h 35 min",
        "¥480.00",
        "现场已收 / collected on site",
        "Seal worn with age",
    ]);
    // Without the company record and the parts catalogue the report still names both plainly.
    let pdf = render(&f.store.order_detail(REPAIR).unwrap(), None, &[]).unwrap();
    let text = pdftotext(&pdf, "unsigned-repair-bare.pdf");
    assert_has(&text, &["Fieldbook", "上门维修记录表", "SEAL-PUMP-45", "不在备件目录 / not in the parts catalogue"]);
}

#[test]
fn report_of_an_amended_order_does_not_reuse_the_old_signature() {
    let mut f = Fixture::new();
    signed_inspection(&mut f);
    f.store.amend(INSPECTION, "补录灭火器充装日期 / add refill date").unwrap();
    let (detail, pdf) = f.render(INSPECTION);
    let text = pdftotext(&pdf, "amended-inspection.pdf");
    assert_has(&text, &["未签字 / NOT SIGNED", "Revision 1 was signed by 陈建国", "第 2 版 / Rev. 2"]);
    assert!(!text.contains(&detail.signatures[0].digest), "the revision-1 digest is printed as if it covered revision 2");
}

#[test]
fn report_of_a_long_checklist_flows_onto_numbered_pages() {
    let mut f = Fixture::new();
    signed_inspection(&mut f);
    let mut detail = f.store.order_detail(INSPECTION).unwrap();
    let template = detail.template.as_mut().unwrap();
    let items: Vec<Item> = (1..=90)
        .map(|i| Item {
            key: format!("floor.{i}"),
            label: Text { zh: format!("{i} 层 喷头外观完好，无遮挡、无漏水"), en: format!("Floor {i}: sprinkler heads intact, unobstructed, not leaking") },
            kind: ItemKind::PassFail,
            required: false,
            show_if: None,
            phases: None,
        })
        .collect();
    template.sections.push(Section { key: "floors".into(), title: Text { zh: "逐层检查".into(), en: "Floor by floor".into() }, per_asset_type: None, items });
    detail.answers.extend((1..=90).map(|i| Answer {
        item_key: format!("floor.{i}"),
        asset_id: String::new(),
        value: json!(if i == 77 { "fail" } else { "pass" }),
        note: None,
        answered_at: fixed_now(),
    }));
    let values = detail.answers.iter().map(|a| (Slot { item_key: a.item_key.clone(), asset_id: a.asset_id.clone() }, a.value.clone())).collect();
    detail.findings = detail.template.as_ref().unwrap().findings(&detail.assets, &values);
    let pdf = render(&detail, f.doc.company.as_ref(), &f.parts()).unwrap();
    assert_small_pdf(&pdf);
    let text = pdftotext(&pdf, "long-checklist.pdf");
    let pages = text.matches('\u{c}').count();
    assert!(pages >= 3, "{pages} page(s)");
    assert_has(&text, &["Floor 90: sprinkler heads intact", &format!("第 {pages} 页，共 {pages} 页 / Page {pages} of {pages}"), "（续 / continued）", "Floor 77", "不合格 / failed"]);
    // The sign-off is on the last page, after every item.
    let last = text.rsplit('\u{c}').find(|p| !p.trim().is_empty()).unwrap();
    assert!(last.contains("客户签字确认"), "sign-off is not on the last page:\n{last}");
}
