//! A technician's day through the `fieldbook` CLI on the demo company: inspection with findings,
//! a repair with parts, the customer's rating and signature, verification, the PDF report, the
//! daily report and the outbox — and every kind of bad input refused with nothing half-written.

use fieldbook_scenarios::{repo_root, Laptop};
use serde_json::json;

const INSPECTION: &str = "WO-1001";
const REPAIR: &str = "WO-1002";

fn demo_laptop() -> Laptop {
    let l = Laptop::new();
    l.json(&["init", "--technician", "li.wei"]);
    let demo = repo_root().join("demo/fire-protection.json");
    let s = l.json(&["import", demo.to_str().unwrap(), "--rebase-dates"]);
    assert_eq!(s["work_orders"], 6);
    l
}

fn outbox_len(l: &Laptop) -> usize {
    l.json(&["outbox"]).as_array().unwrap().len()
}

const ANSWERS: &str = r#"[
  {"item": "alarm.state", "asset": "JQ-FACP-01", "value": "pass"},
  {"item": "alarm.self_test", "asset": "JQ-FACP-01", "value": "pass"},
  {"item": "alarm.battery_v", "asset": "JQ-FACP-01", "value": "23.1"},
  {"item": "alarm.detector_test", "asset": "JQ-FACP-01", "value": "pass"},
  {"item": "pump.outlet_pressure", "asset": "JQ-PUMP-01", "value": 0.62},
  {"item": "pump.manual_start", "asset": "JQ-PUMP-01", "value": "pass"},
  {"item": "pump.leak", "asset": "JQ-PUMP-01", "value": "pass"},
  {"item": "pump.outlet_pressure", "asset": "JQ-PUMP-02", "value": 0.58},
  {"item": "pump.manual_start", "asset": "JQ-PUMP-02", "value": "pass"},
  {"item": "pump.leak", "asset": "JQ-PUMP-02", "value": "pass"},
  {"item": "ext.pressure_ok", "asset": "JQ-EXT-B1", "value": "pass"},
  {"item": "ext.count_missing", "asset": "JQ-EXT-B1", "value": 2},
  {"item": "site.exits", "value": "pass"},
  {"item": "site.exit_signs", "value": "pass"},
  {"item": "site.wiring_clean", "value": "pass"},
  {"item": "site.hazards", "value": ["blocked_exit"]}
]"#;

const STROKES: &str = include_str!("../demo/fixtures/strokes.json");

#[test]
fn a_full_inspection_day_from_dispatch_to_signed_report() {
    let l = demo_laptop();
    let today = l.json(&["orders", "--date", "today"]);
    let numbers: Vec<&str> = today.as_array().unwrap().iter().map(|o| o["number"].as_str().unwrap()).collect();
    assert_eq!(numbers.len(), 5, "five orders today (one of them done), one tomorrow: {numbers:?}");
    assert!(numbers.contains(&INSPECTION));
    assert_eq!(outbox_len(&l), 0, "imported reference data is not pushed");

    l.json(&["en-route", INSPECTION]);
    let arrived = l.json(&["arrive", INSPECTION]);
    assert!(arrived["arrived_at"].is_string());

    // Partial answers are fine; completing lists what is still missing.
    let answers = l.write("answers.json", ANSWERS);
    let r = l.json(&["answer", INSPECTION, "--file", answers.to_str().unwrap()]);
    assert_eq!(r["recorded"], 16);
    let findings: Vec<&str> = r["findings"].as_array().unwrap().iter().map(|f| f["item_key"].as_str().unwrap()).collect();
    assert_eq!(findings, ["alarm.battery_v", "ext.count_missing", "site.hazards"]);
    assert_eq!(outbox_len(&l), 2 + 16, "two status changes and one entry per answer");

    let done = l.run(&["complete", INSPECTION]);
    assert!(!done.ok);
    assert!(done.stderr.contains("site.hazard_detail"), "the conditional detail item is now required: {}", done.stderr);

    let detail = l.write("detail.json", r#"{"answers": [{"item": "site.hazard_detail", "value": "B1 东侧疏散通道堆放纸箱 / cartons in the B1 east escape route"}]}"#);
    l.json(&["answer", INSPECTION, "--file", detail.to_str().unwrap()]);
    let follow = l.json(&["follow-up", INSPECTION, "--item", "alarm.battery_v", "--asset", "JQ-FACP-01"]);
    assert_eq!(follow["kind"], "repair_call");
    assert_eq!(follow["priority"], "high");

    l.json(&["time", "--minutes", "120", "--category", "B", "--order", INSPECTION]);
    l.json(&["rate", INSPECTION, "--attitude", "4", "--skill", "4", "--arrival", "3", "--promise", "4", "--comment", "检查很仔细"]);
    l.json(&["complete", INSPECTION]);
    let strokes = l.write("strokes.json", STROKES);
    let sig = l.json(&["sign", INSPECTION, "--signer", "陈建国", "--title", "物业工程部经理", "--strokes", strokes.to_str().unwrap()]);
    assert_eq!(sig["digest"].as_str().unwrap().len(), 64);

    let v = l.json(&["verify", INSPECTION]);
    assert_eq!(v["intact"], true, "{v}");

    // Locked: a change is refused with the way out named, and nothing is written.
    let before = outbox_len(&l);
    let r = l.run(&["--json", "answer", INSPECTION, "--file", answers.to_str().unwrap()]);
    assert!(!r.ok);
    assert_eq!(r.error_json()["error"]["kind"], "locked");
    assert!(r.error_json()["error"]["message"].as_str().unwrap().contains("fieldbook amend"));
    assert_eq!(outbox_len(&l), before);

    // The service report renders with the Chinese text and the digest in it.
    let pdf = l.path("report.pdf");
    let rep = l.json(&["report", INSPECTION, "--pdf", pdf.to_str().unwrap()]);
    assert!(rep["bytes"].as_u64().unwrap() > 1000);
    let text = pdf_text(&pdf);
    for needle in ["金桥国际商业广场", "陈建国", "疏散通道堵塞", &sig["digest"].as_str().unwrap()[..16]] {
        assert!(text.contains(needle), "report lacks {needle:?}:\n{text}");
    }

    let daily = l.json(&["daily-report", "--date", "today"]);
    assert_eq!(daily["totals"]["B"], 120);
}

#[test]
fn a_repair_call_with_parts_fee_and_amendment() {
    let l = demo_laptop();
    l.json(&["arrive", REPAIR]);
    let rec = l.json(&[
        "repair", REPAIR, "--fault", "消火栓泵启动后漏水", "--cause", "机械密封磨损", "--action", "更换机械密封，试压 0.6 MPa 无渗漏",
        "--minutes", "95", "--category", "A", "--part", "SEAL-PUMP-45=1:MS45-8812+returned", "--part", "GAUGE-1.6=1",
        "--asset", "XH-PUMP-01", "--fee", "560", "--fee-collected",
    ]);
    assert_eq!(rec["parts"][0], json!({"sku": "SEAL-PUMP-45", "quantity": 1, "serials": ["MS45-8812"], "faulty_returned": true}));
    assert_eq!(rec["fee_cents"], 56000);
    l.json(&["complete", REPAIR]);
    let strokes = l.write("s.json", STROKES);
    l.json(&["sign", REPAIR, "--signer", "王工", "--strokes", strokes.to_str().unwrap()]);

    let amended = l.json(&["amend", REPAIR, "--reason", "漏记一个压力表 / a gauge was not recorded"]);
    assert_eq!(amended["revision"], 2);
    let v = l.run(&["verify", REPAIR]);
    assert!(!v.ok, "an amended order is not intact until signed again");
    assert!(v.stdout.contains("revision 2 is not signed yet"), "{}", v.stdout);
    l.json(&["complete", REPAIR]);
    l.json(&["sign", REPAIR, "--signer", "王工", "--strokes", strokes.to_str().unwrap()]);
    let shown = l.json(&["show", REPAIR]);
    assert_eq!(shown["signatures"].as_array().unwrap().len(), 2, "the first signed revision is kept");
    assert!(l.run(&["verify", REPAIR]).ok);
    assert_eq!(l.json(&["daily-report"])["totals"]["A"], 95);
}

#[test]
fn verify_fails_after_the_database_is_edited_behind_fieldbooks_back() {
    let l = demo_laptop();
    l.json(&["arrive", REPAIR]);
    l.json(&["repair", REPAIR, "--fault", "漏水", "--cause", "密封", "--action", "更换密封", "--minutes", "60", "--category", "A"]);
    l.json(&["complete", REPAIR]);
    let strokes = l.write("s.json", STROKES);
    l.json(&["sign", REPAIR, "--signer", "王工", "--strokes", strokes.to_str().unwrap()]);
    assert!(l.run(&["verify", REPAIR]).ok);

    let conn = fieldbook_scenarios::raw_store(&l.db());
    conn.execute("UPDATE repair_records SET labour_minutes = 600", []).unwrap();
    drop(conn);
    let v = l.run(&["--json", "verify", REPAIR]);
    assert_eq!(v.code, Some(1));
    let report = v.json();
    assert_eq!(report["intact"], false);
    assert!(report["signatures"][0]["changed"].as_array().unwrap().contains(&json!("repair_records[0].labour_minutes")), "{report}");
}

#[test]
fn bad_input_is_refused_with_the_record_and_field_named_and_nothing_written() {
    let l = demo_laptop();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["repair", REPAIR, "--fault", "f", "--cause", "c", "--action", "a", "--minutes", "5", "--category", "A", "--part", "NOPE-1=1"], "part NOPE-1"),
        (vec!["repair", REPAIR, "--fault", "f", "--cause", "c", "--action", "a", "--minutes", "5", "--category", "E"], "'E' is not one of"),
        (vec!["rate", REPAIR, "--attitude", "5", "--skill", "4", "--arrival", "4", "--promise", "4"], "attitude"),
        (vec!["complete", REPAIR], "no repair record"),
        (vec!["show", "WO-9999"], "work order 'WO-9999' not found"),
        (vec!["sign", INSPECTION, "--signer", "x", "--strokes", "/nonexistent.json"], "cannot read strokes file"),
    ];
    for (args, needle) in cases {
        let r = l.run(&args);
        assert!(!r.ok, "{args:?} should fail");
        assert!(r.stderr.contains(needle), "{args:?}: expected {needle:?} in:\n{}", r.stderr);
    }
    let bad = l.write("bad.json", r#"[{"item": "pump.outlet_pressure", "asset": "JQ-PUMP-01", "value": "high"}, {"item": "site.exits", "value": "pass"}]"#);
    let r = l.run(&["--json", "answer", INSPECTION, "--file", bad.to_str().unwrap()]);
    let err = r.error_json();
    assert_eq!(err["error"]["kind"], "invalid");
    assert_eq!(err["error"]["problems"][0]["record"], "work order WO-1001");
    assert!(err["error"]["problems"][0]["field"].as_str().unwrap().starts_with("pump.outlet_pressure"));
    assert_eq!(outbox_len(&l), 0, "nothing half-written by any refused command");

    let malformed = l.write("import.json", "{\"format\": \"fieldbook-import/1\", \"customers\": [ {\"code\": \"X\"} ]}");
    let r = l.run(&["import", malformed.to_str().unwrap()]);
    assert!(!r.ok && r.stderr.contains("missing field `name`") && r.stderr.contains("nothing was imported"), "{}", r.stderr);
}

#[test]
fn a_store_from_a_newer_fieldbook_is_refused() {
    let l = demo_laptop();
    fieldbook_scenarios::raw_store(&l.db()).execute_batch("PRAGMA user_version = 42").unwrap();
    let r = l.run(&["orders"]);
    assert!(!r.ok && r.stderr.contains("schema version 42") && r.stderr.contains("update Fieldbook"), "{}", r.stderr);
}

#[test]
fn commands_other_than_init_do_not_create_a_store() {
    let l = Laptop::new();
    let r = l.run(&["orders"]);
    assert!(!r.ok && r.stderr.contains("fieldbook init"), "{}", r.stderr);
    assert!(!l.db().exists());
}

fn pdf_text(pdf: &std::path::Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is needed to read the report back: apt-get install poppler-utils");
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

