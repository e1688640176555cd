//! The order commands over Tauri's IPC on the mock runtime, against a real temporary store
//! loaded with the demo company for today: a technician's path through the app, and the errors
//! the UI shows next to fields.

use fieldbook_core::import::ImportDocument;
use fieldbook_core::Store;
use fieldbook_desktop::commands::{OpenWith, SaveAs};
use fieldbook_desktop::AppState;
use serde_json::{json, Value};
use tauri::http::{HeaderMap, HeaderValue};
use tauri::ipc::{InvokeBody, InvokeResponseBody};

mod common;
use common::MockApp;

struct App {
    mock: MockApp,
    dir: tempfile::TempDir,
}

impl App {
    /// The demo company, its dates moved to today, in a fresh store.
    fn demo() -> App {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("fieldbook.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
        store.set_technician("li.wei").unwrap();
        let mut doc =
            ImportDocument::from_json(include_str!("../../demo/fire-protection.json"), "demo")
                .unwrap();
        doc.rebase_to(chrono::Local::now().date_naive());
        store.import(&doc, "demo").unwrap();
        App { mock: MockApp::new(AppState::new(store)), dir }
    }

    fn raw(&self, cmd: &str, body: InvokeBody, headers: HeaderMap) -> Result<InvokeResponseBody, Value> {
        self.mock.raw(cmd, body, headers)
    }

    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        self.mock.invoke(cmd, args)
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    fn bytes(&self, cmd: &str, args: Value) -> Vec<u8> {
        match self.raw(cmd, InvokeBody::Json(args), HeaderMap::new()) {
            Ok(InvokeResponseBody::Raw(b)) => b,
            Ok(InvokeResponseBody::Json(j)) => panic!("{cmd} answered JSON, not bytes: {j}"),
            Err(e) => panic!("{cmd} failed: {e}"),
        }
    }

    fn detail(&self, order: &str) -> Value {
        self.ok("order_detail", json!({ "order": order }))
    }
}

fn asset_id(detail: &Value, code: &str) -> String {
    detail["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == code)
        .unwrap_or_else(|| panic!("no asset {code}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn fields(err: &Value) -> Vec<String> {
    err["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems in {err}"))
        .iter()
        .map(|p| p["field"].as_str().unwrap().to_owned())
        .collect()
}

fn strokes() -> Value {
    json!([
        [{"x": 10.0, "y": 40.0, "t": 0}, {"x": 30.5, "y": 22.0, "t": 16}, {"x": 60.0, "y": 45.0, "t": 33}],
        [{"x": 80.0, "y": 30.0, "t": 0}, {"x": 120.0, "y": 31.0, "t": 20}]
    ])
}

fn repair(parts: Value) -> Value {
    json!({
        "fault": "泵体漏水", "cause": "机械密封磨损", "action": "更换机械密封",
        "parts": parts, "labour_minutes": 95, "category": "A",
        "fee_cents": 56000, "fee_collected": true
    })
}

#[test]
fn record_answer_returns_the_normalised_value_or_names_the_field() {
    let app = App::demo();
    let d = app.detail("WO-1001");
    let order_id = d["order"]["id"].as_str().unwrap();
    let panel = asset_id(&d, "JQ-FACP-01");

    let v = app.ok(
        "record_answer",
        json!({ "order_id": order_id, "item_key": "alarm.state", "asset_id": panel, "value": "PASS" }),
    );
    assert_eq!(v, json!("pass"));
    let v = app.ok(
        "record_answer",
        json!({ "order_id": order_id, "item_key": "alarm.battery_v", "asset_id": panel, "value": " 26.4 " }),
    );
    assert_eq!(v, json!(26.4));
    let v = app.ok(
        "record_answer",
        json!({ "order_id": "WO-1001", "item_key": "site.hazards", "value": ["other", "blocked_exit"] }),
    );
    assert_eq!(
        v,
        json!(["blocked_exit", "other"]),
        "stored in option order"
    );

    let err = app
        .call(
            "record_answer",
            json!({ "order_id": order_id, "item_key": "alarm.battery_v", "asset_id": panel, "value": "26,4" }),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "invalid", "{err}");
    assert_eq!(fields(&err), ["alarm.battery_v (asset JQ-FACP-01)"]);
    assert!(
        err["problems"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("not a number"),
        "{err}"
    );

    // The stored answers are what the detail shows; the rejected one left the earlier value.
    let d = app.detail("WO-1001");
    let battery: Vec<&Value> = d["answers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["item_key"] == "alarm.battery_v")
        .collect();
    assert_eq!(battery.len(), 1);
    assert_eq!(battery[0]["value"], json!(26.4));
    assert!(d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["item_key"] == "site.hazards"));
}

#[test]
fn complete_is_refused_with_the_missing_required_items() {
    let app = App::demo();
    let err = app
        .call("complete", json!({ "order": "WO-1001" }))
        .unwrap_err();
    assert_eq!(err["kind"], "incomplete", "{err}");
    let missing = fields(&err);
    assert!(missing.contains(&"site.exits".to_string()), "{missing:?}");
    assert!(
        missing
            .iter()
            .any(|f| f.starts_with("pump.outlet_pressure (asset JQ-PUMP-0")),
        "{missing:?}"
    );
    assert!(
        err["problems"][0]["problem"]
            .as_str()
            .unwrap()
            .starts_with("required:"),
        "{err}"
    );
}

#[test]
fn add_repair_with_an_unknown_part_names_the_part() {
    let app = App::demo();
    let err = app
        .call(
            "add_repair",
            json!({ "order": "WO-1002", "repair": repair(json!([{ "sku": "NOPE-1", "quantity": 1 }])) }),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "invalid", "{err}");
    assert_eq!(fields(&err), ["part NOPE-1"]);

    let mut bad = repair(json!([]));
    bad["fault"] = json!(" ");
    bad["taken_to_workshop"] = json!(true);
    let err = app
        .call("add_repair", json!({ "order": "WO-1002", "repair": bad }))
        .unwrap_err();
    assert_eq!(fields(&err), ["fault", "receipt_number"]);

    // A malformed record is still a CommandError, not an untyped IPC failure.
    let mut wrong = repair(json!([]));
    wrong["category"] = json!("E");
    let err = app
        .call("add_repair", json!({ "order": "WO-1002", "repair": wrong }))
        .unwrap_err();
    assert_eq!(err["kind"], "invalid", "{err}");
    assert_eq!(fields(&err), ["repair"]);
}

#[test]
fn a_repair_call_from_arrival_to_signature_verifies_intact_and_amends() {
    let app = App::demo();
    let o = app.ok(
        "set_status",
        json!({ "order": "WO-1002", "status": "en_route" }),
    );
    assert_eq!(o["status"], "en_route");
    let o = app.ok(
        "set_status",
        json!({ "order": "WO-1002", "status": "on_site" }),
    );
    assert!(o["arrived_at"].is_string(), "arrival time recorded: {o}");
    let err = app
        .call(
            "set_status",
            json!({ "order": "WO-1002", "status": "somewhere" }),
        )
        .unwrap_err();
    assert_eq!(fields(&err), ["status"]);

    let parts = app.ok("parts", json!({}));
    assert!(parts
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["sku"] == "SEAL-PUMP-45"));
    let r = app.ok(
        "add_repair",
        json!({ "order": "WO-1002", "repair": repair(json!([{ "sku": "SEAL-PUMP-45", "quantity": 1, "serials": ["MS45-8812"], "faulty_returned": true }])) }),
    );
    assert_eq!(r["parts"][0]["sku"], "SEAL-PUMP-45");
    app.ok(
        "rate",
        json!({ "order": "WO-1002", "card": { "attitude": 4, "skill": 4, "arrival": 3, "promise": 4, "comment": "很专业" } }),
    );
    let err = app
        .call("rate", json!({ "order": "WO-1002", "card": { "attitude": 5, "skill": 4, "arrival": 3, "promise": 0 } }))
        .unwrap_err();
    assert_eq!(fields(&err), ["attitude", "promise"]);

    let err = app
        .call("sign", json!({ "order": "WO-1002", "request": { "signer_name": "王工", "strokes": strokes() } }))
        .unwrap_err();
    assert_eq!(
        err["kind"], "transition",
        "signing needs a completed order: {err}"
    );
    assert_eq!(
        app.ok("complete", json!({ "order": "WO-1002" }))["status"],
        "completed"
    );

    let err = app
        .call(
            "sign",
            json!({ "order": "WO-1002", "request": { "signer_name": "", "strokes": [] } }),
        )
        .unwrap_err();
    assert_eq!(fields(&err), ["signer", "strokes"]);
    let sig = app.ok(
        "sign",
        json!({ "order": "WO-1002", "request": { "signer_name": "王工", "signer_title": "设备科", "strokes": strokes() } }),
    );
    assert_eq!(sig["digest"].as_str().unwrap().len(), 64);
    assert_eq!(sig["strokes"], strokes());

    let v = app.ok("verify", json!({ "order": "WO-1002" }));
    assert_eq!(v["intact"], true, "{v}");
    assert_eq!(v["signatures"][0]["records_match"], true);

    let d = app.detail("WO-1002");
    assert_eq!(d["order"]["status"], "signed");
    assert_eq!(d["signatures"][0]["digest"], sig["digest"]);
    let err = app
        .call(
            "add_repair",
            json!({ "order": "WO-1002", "repair": repair(json!([])) }),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "locked", "{err}");

    let err = app
        .call("amend", json!({ "order": "WO-1002", "reason": "  " }))
        .unwrap_err();
    assert_eq!(fields(&err), ["reason"]);
    let o = app.ok(
        "amend",
        json!({ "order": "WO-1002", "reason": "漏记压力表" }),
    );
    assert_eq!(
        (o["status"].as_str(), o["revision"].as_i64()),
        (Some("on_site"), Some(2))
    );
    let v = app.ok("verify", json!({ "order": "WO-1002" }));
    assert_eq!(
        v["intact"], false,
        "the amended revision is not signed yet: {v}"
    );

    let day = app.ok("daily_report", json!({}));
    assert_eq!(day["totals"]["A"], 95, "{day}");
}

/// The path comes from the save dialog (here a stand-in), never from the web view: a `path`
/// the page sends is ignored (issue 10, desktop Low item).
#[test]
fn save_report_writes_a_whole_pdf_where_the_dialog_says_never_where_the_page_says() {
    let app = App::demo();
    let chosen = app.dir.path().join("out").join("chosen.pdf");
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (answer, seen) = (chosen.clone(), asked.clone());
    app.mock.manage(SaveAs(Box::new(move |name, folder| {
        seen.lock().unwrap().push((name.to_owned(), folder.to_owned()));
        Some(answer.clone())
    })));
    let named_by_page = app.dir.path().join("page-named.pdf");
    let written = app.ok("save_report", json!({ "order": "WO-1002", "path": named_by_page }));
    assert_eq!(written, json!(chosen.to_string_lossy()));
    assert!(!named_by_page.exists(), "nothing is written where the page says");
    assert_eq!(asked.lock().unwrap()[0].0, "WO-1002.pdf", "the dialog suggests the order's number");
    let pdf = std::fs::read(&chosen).unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    let leftovers: Vec<_> = std::fs::read_dir(chosen.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "chosen.pdf")
        .collect();
    assert!(leftovers.is_empty(), "no temporary file left: {leftovers:?}");

    let preview = app.bytes("report_bytes", json!({ "order": "WO-1002" }));
    assert!(preview.starts_with(b"%PDF-"));
    let err = app.call("report_bytes", json!({ "order": "WO-9999" })).unwrap_err();
    assert_eq!(err["kind"], "not_found", "{err}");
}

#[test]
fn a_cancelled_save_dialog_writes_nothing() {
    let app = App::demo();
    app.mock.manage(SaveAs(Box::new(|_, _| None)));
    assert_eq!(app.ok("save_report", json!({ "order": "WO-1002" })), Value::Null);
}

/// The report opened for printing is in a folder of this user's only (0700), not the shared,
/// predictable /tmp/fieldbook-reports, and readable by this user only (0600).
#[cfg(unix)]
#[test]
fn a_report_opened_for_printing_is_private_to_this_user() {
    use std::os::unix::fs::PermissionsExt;
    let app = App::demo();
    let opened = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = opened.clone();
    app.mock.manage(OpenWith(Box::new(move |p| {
        *seen.lock().unwrap() = Some(p.to_owned());
        Ok(())
    })));
    let path = app.ok("open_report", json!({ "order": "WO-1002" }));
    let path = std::path::PathBuf::from(path.as_str().unwrap());
    assert_eq!(opened.lock().unwrap().as_deref(), Some(path.as_path()), "the viewer got that file");
    assert!(std::fs::read(&path).unwrap().starts_with(b"%PDF-"));
    let dir = path.parent().unwrap();
    assert_ne!(dir, std::env::temp_dir().join("fieldbook-reports"));
    assert!(dir.file_name().unwrap().to_string_lossy().starts_with("fieldbook-reports-"), "{dir:?}");
    assert_eq!(std::fs::metadata(dir).unwrap().permissions().mode() & 0o777, 0o700, "{dir:?}");
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "{path:?}");
}

#[test]
fn photos_are_attached_from_raw_bytes_and_read_back() {
    let app = App::demo();
    let jpeg: Vec<u8> = [&[0xFF, 0xD8, 0xFF, 0xE0][..], b"not really a photo"].concat();
    let mut headers = HeaderMap::new();
    headers.insert("x-media-type", HeaderValue::from_static("image/jpeg"));
    headers.insert(
        "x-file-name",
        HeaderValue::from_static("%E6%B3%B5%E6%88%BF.jpg"),
    );
    let att = app
        .raw("attach_photo", InvokeBody::Raw(jpeg.clone()), headers)
        .unwrap()
        .deserialize::<Value>()
        .unwrap();
    assert_eq!(att["original_name"], "泵房.jpg");
    assert_eq!(att["media_type"], "image/jpeg");
    let id = att["id"].as_str().unwrap();
    assert_eq!(app.bytes("attachment_bytes", json!({ "id": id })), jpeg);

    let d = app.detail("WO-1001");
    let pump = asset_id(&d, "JQ-PUMP-01");
    let v = app.ok(
        "record_answer",
        json!({ "order_id": "WO-1001", "item_key": "pump.photo", "asset_id": pump, "value": [id] }),
    );
    assert_eq!(v, json!([id]));

    let err = app
        .call("attachment_bytes", json!({ "id": "../../fieldbook.db" }))
        .unwrap_err();
    assert_eq!(fields(&err), ["id"]);
    let mut headers = HeaderMap::new();
    headers.insert("x-media-type", HeaderValue::from_static("text/plain"));
    let err = app
        .raw("attach_photo", InvokeBody::Raw(b"hello".to_vec()), headers)
        .unwrap_err();
    assert_eq!(fields(&err), ["media_type"]);
}

#[test]
fn findings_raise_one_follow_up_each() {
    let app = App::demo();
    let d = app.detail("WO-1001");
    let pump = asset_id(&d, "JQ-PUMP-02");
    app.ok(
        "record_answer",
        json!({ "order_id": "WO-1001", "item_key": "pump.outlet_pressure", "asset_id": pump, "value": "0.12" }),
    );
    let f1 = app.ok(
        "create_follow_up",
        json!({ "order": "WO-1001", "item": "pump.outlet_pressure", "asset": "JQ-PUMP-02" }),
    );
    assert_eq!(f1["kind"], "repair_call");
    let again = app.ok(
        "create_follow_up",
        json!({ "order": "WO-1001", "item": "pump.outlet_pressure", "asset": pump }),
    );
    assert_eq!(
        again["number"], f1["number"],
        "raising it again returns the same order"
    );
    assert_eq!(app.detail("WO-1001")["follow_ups"], json!([f1["number"]]));
    let err = app
        .call(
            "create_follow_up",
            json!({ "order": "WO-1001", "item": "site.exits" }),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "not_found", "{err}");
}

#[test]
fn search_finds_records_and_related_orders_filter_the_day() {
    let app = App::demo();
    let hits = app.ok("search", json!({ "query": "漏水" }));
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .any(|h| h["kind"] == "work_order" && h["title"] == "WO-1002"),
        "{hits}"
    );
    assert_eq!(app.ok("search", json!({ "query": "  " })), json!([]));

    let site = app
        .ok("search", json!({ "query": "金桥广场" }))
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["kind"] == "site")
        .cloned()
        .unwrap();
    let ids = app.ok(
        "related_orders",
        json!({ "kind": "site", "record_id": site["record_id"] }),
    );
    let numbers: Vec<Value> = ids
        .as_array()
        .unwrap()
        .iter()
        .map(|id| app.detail(id.as_str().unwrap())["order"]["number"].clone())
        .collect();
    // The mall's orders by response deadline: WO-1006 is the demo's repair finished there today.
    assert_eq!(numbers, [json!("WO-1006"), json!("WO-1001"), json!("WO-1004")]);
    let err = app
        .call(
            "related_orders",
            json!({ "kind": "planet", "record_id": "x" }),
        )
        .unwrap_err();
    assert_eq!(fields(&err), ["kind"]);
}

#[test]
fn app_info_names_the_store() {
    let app = App::demo();
    let info = app.ok("app_info", json!({}));
    assert!(
        info["db_path"].as_str().unwrap().ends_with("fieldbook.db"),
        "{info}"
    );
    assert_eq!(info["technician"], "li.wei");
    assert!(!info["documents_dir"].as_str().unwrap().is_empty());
}

#[test]
fn escalate_a_repair_to_an_engineer_and_see_it_on_the_order() {
    let app = App::demo();
    let r = app.ok("add_repair", json!({ "order": "WO-1002", "repair": repair(json!([])) }));
    let repair_id = r["id"].as_str().unwrap().to_owned();
    // Whom to ask is one of two words; the note is required: both named as fields.
    let err = app
        .call("escalate", json!({ "order": "WO-1002", "repair": repair_id, "to": "manager", "note": "help" }))
        .unwrap_err();
    assert_eq!(fields(&err), ["escalate_to"]);
    let err = app
        .call("escalate", json!({ "order": "WO-1002", "repair": repair_id, "to": "engineer", "note": " " }))
        .unwrap_err();
    assert_eq!(fields(&err), ["note"]);
    let e = app.ok("escalate", json!({ "order": "WO-1002", "repair": repair_id, "to": "engineer", "note": "main board broken" }));
    assert_eq!((e["status"].as_str(), e["escalate_to"].as_str()), (Some("open"), Some("engineer")));
    let detail = app.ok("order_detail", json!({ "order": "WO-1002" }));
    assert_eq!(detail["escalations"][0]["repair_record_id"], repair_id.as_str(), "{detail}");
}

#[test]
fn the_repair_forms_default_category_follows_the_contract_then_the_warranty() {
    let app = App::demo();
    let id = |code: &str| fieldbook_core::import::stable_id("assets", code);
    // The demo's HT-2025-017 covers the Jinqiao panel until 29 days from today: B.
    let panel = app.ok("default_category", json!({ "asset": id("JQ-FACP-01") }));
    assert_eq!((panel["category"].as_str(), panel["reason"].as_str(), panel["contract"].as_str()), (Some("B"), Some("under_contract"), Some("HT-2025-017")));
    assert!(panel["explain"].as_str().unwrap().contains("HT-2025-017"), "{panel}");
    // Xinghua's panel has no contract but is in its warranty: C.
    let xinghua = app.ok("default_category", json!({ "asset": id("XH-FACP-01") }));
    assert_eq!((xinghua["category"].as_str(), xinghua["reason"].as_str()), (Some("C"), Some("in_warranty")));
    assert!(app.call("default_category", json!({ "asset": "no-such-asset" })).is_err());
}

#[test]
fn propose_a_correction_of_the_customers_records_and_see_it_on_the_order() {
    let app = App::demo();
    let detail = app.ok("order_detail", json!({ "order": "WO-1002" }));
    let customer = detail["customer"]["id"].as_str().unwrap().to_owned();
    // A field a technician may not correct, and a value already on file: both named as fields.
    let err = app
        .call("propose_correction", json!({ "order": "WO-1002", "correction": { "record_entity": "customers", "record": customer, "field": "name", "value": "x" } }))
        .unwrap_err();
    assert_eq!(fields(&err), ["field"]);
    let on_file = detail["customer"]["phone"].as_str().unwrap().to_owned();
    let err = app
        .call("propose_correction", json!({ "order": "WO-1002", "correction": { "record_entity": "customers", "record": customer, "field": "phone", "value": on_file } }))
        .unwrap_err();
    assert_eq!(fields(&err), ["value"]);
    let c = app.ok(
        "propose_correction",
        json!({ "order": "WO-1002", "correction": { "record_entity": "assets", "record": "XH-PUMP-01", "field": "serial", "value": "LB-2022-1121", "note": "name plate" } }),
    );
    assert_eq!((c["status"].as_str(), c["field"].as_str()), (Some("pending"), Some("serial")));
    let detail = app.ok("order_detail", json!({ "order": "WO-1002" }));
    assert_eq!(detail["corrections"][0]["value"], "LB-2022-1121", "{detail}");
    let pump = detail["assets"].as_array().unwrap().iter().find(|a| a["code"] == "XH-PUMP-01").unwrap().clone();
    assert_eq!(pump["serial"], "LB-2022-1120", "the record waits for the office");
}

#[test]
fn a_workshop_receipt_then_the_return_only_after_goods_out() {
    let app = App::demo();
    let mut taken = repair(json!([]));
    taken["taken_to_workshop"] = json!(true);
    taken["receipt_number"] = json!("SJ-42");
    let r = app.ok("add_repair", json!({ "order": "WO-1002", "repair": taken }));
    let repair_id = r["id"].as_str().unwrap().to_owned();
    // The core's problems come back named by field.
    let err = app
        .call("workshop_receipt", json!({ "order": "WO-1002", "receipt": { "repair_record_id": repair_id, "unit": "GST200", "condition": " ", "signer_name": "王经理", "strokes": [] } }))
        .unwrap_err();
    assert_eq!(fields(&err), ["condition"]);
    let job = app.ok(
        "workshop_receipt",
        json!({ "order": "WO-1002", "receipt": { "repair_record_id": repair_id, "unit": "GST200", "condition": "board burnt", "signer_name": "王经理", "strokes": [] } }),
    );
    assert_eq!((job["stage"].as_str(), job["receipt_number"].as_str()), (Some("received"), Some("SJ-42")));
    let jobs = app.ok("workshop_jobs", json!({ "order": "WO-1002" }));
    assert_eq!(jobs[0]["id"], job["id"]);
    let err = app
        .call("workshop_return", json!({ "job": job["id"], "signature": { "signer_name": "王经理", "strokes": [[{ "x": 1.0, "y": 2.0, "t": 0 }]] } }))
        .unwrap_err();
    assert_eq!(fields(&err), ["stage"], "not before goods-out");
}
