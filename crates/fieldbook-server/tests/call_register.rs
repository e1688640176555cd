//! The call register (#11) against the real server, on SQLite and on PostgreSQL: every type of
//! call from any channel is a `calls` record (a repair request also its work order, under the
//! same number), a new caller registered as a customer on the spot (a caller whose phone is on
//! file is refused a second record and pointed at it), bad calls write nothing, the register's
//! filters, pages and CSV, answering and closing an inquiry, and the trust rules: calls are the
//! desk's, never sent to a laptop (a real laptop store pulls everything else) nor taken from one,
//! and no technician or device token reaches these routes.

mod common;

use common::{both, id, pull_into, Backend, Console, Laptop, TestServer};
use fieldbook_server::users;
use reqwest::Method;
use serde_json::{json, Value};

both!(
    every_type_of_call_is_registered,
    a_new_caller_becomes_a_customer_unless_their_phone_is_on_file,
    bad_calls_write_nothing,
    the_register_filters_pages_and_exports,
    an_inquiry_is_answered_and_closed_by_the_office,
    calls_stay_on_the_server,
);

async fn office(s: &TestServer) -> Console {
    Console::as_role(s, "office.wang", users::Role::Office).await
}

fn minutes_ago(m: i64) -> String {
    fieldbook_server::store_ts(chrono::Utc::now() - chrono::Duration::minutes(m))
}

/// A call of the given type from 陈经理 at 金桥 (a customer on file).
fn call(call_type: &str, channel: &str, problem: &str) -> Value {
    let mut v = json!({"channel": channel, "call_type": call_type, "caller_name": "陈经理", "caller_phone": "021-5030-1234",
        "customer_id": id("customers", "C-JINQIAO"), "problem": problem, "reported_at": minutes_ago(10), "priority": "normal"});
    if call_type == "repair" {
        v["site_id"] = json!(id("sites", "S-JQ-MALL"));
    }
    v
}

/// A caller not on file.
fn stranger(call_type: &str, problem: &str) -> Value {
    json!({"channel": "phone", "call_type": call_type, "caller_name": "赵女士", "caller_phone": "139 0000 0001",
        "new_customer": {"name": "浦东某物业公司"}, "problem": problem, "reported_at": minutes_ago(5)})
}

async fn status_and_message(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (status, v["error"]["message"].as_str().unwrap_or_default().to_owned())
}

async fn every_type_of_call_is_registered(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let orders = s.count("SELECT COUNT(*) FROM work_order_index").await;

    // A repair request: the call and its work order, one number, linked.
    let mut body = call("repair", "phone", "报警控制器显示故障");
    body["equipment_model"] = json!("JB-QB-GST200");
    let repair = c.post("/console/api/calls", body).await;
    let (rc, wo) = (&repair["call"], &repair["work_order"]);
    assert!(rc["number"].as_str().unwrap().starts_with("C-"), "{rc}");
    assert_eq!(rc["number"], wo["number"]);
    assert_eq!(rc["work_order_id"], wo["id"]);
    assert_eq!((rc["state"].as_str(), rc["call_type"].as_str(), rc["channel"].as_str()), (Some("work_order"), Some("repair"), Some("phone")));
    assert_eq!((rc["taken_by"].as_str(), rc["equipment_model"].as_str()), (Some("office.wang"), Some("JB-QB-GST200")));
    assert_eq!((wo["status"].as_str(), wo["zone"].as_str()), (Some("new"), Some("urban")));
    assert!(wo["response_deadline"].is_string());
    assert_eq!(rc["work_order_status"], "new");

    // An inquiry by e-mail, a suggestion by fax: no site, no order; answered and closed at once.
    let mut body = call("inquiry", "email", "年度维保合同何时续签？");
    body["answer"] = json!("合同 12 月 31 日到期，已寄续签文件");
    body["close"] = json!(true);
    let inquiry = c.post("/console/api/calls", body).await;
    assert_eq!(inquiry["work_order"], Value::Null);
    let ic = &inquiry["call"];
    assert_eq!((ic["state"].as_str(), ic["site_id"].as_str(), ic["work_order_id"].as_str()), (Some("closed"), None, None));
    assert_eq!(ic["answer"], "合同 12 月 31 日到期，已寄续签文件");
    assert!(ic["closed_at"].is_string());
    let suggestion = c.post("/console/api/calls", call("suggestion", "fax", "建议增加夜间值班电话")).await;
    assert_eq!((suggestion["call"]["state"].as_str(), suggestion["work_order"].as_null()), (Some("open"), Some(())));

    // A complaint: the call opens its complaint (numbered YYMM-NNN, the call as its source, the
    // category and severity the desk chose); a customer is required.
    let mut walk_in = call("complaint", "walk_in", "技术员未按时到场");
    walk_in["complaint_category"] = json!("timeliness");
    walk_in["complaint_severity"] = json!("serious");
    let complaint = c.post("/console/api/calls", walk_in).await;
    let complaint_id = complaint["call"]["complaint_id"].as_str().expect("the call names its complaint").to_owned();
    assert_eq!(complaint["call"]["state"], "complaint");
    let opened = c.get(&format!("/console/api/complaints/{complaint_id}")).await;
    assert_eq!((opened["source"].as_str(), opened["source_id"].as_str()), (Some("call"), complaint["call"]["id"].as_str()));
    assert_eq!((opened["category"].as_str(), opened["severity"].as_str()), (Some("timeliness"), Some("serious")));
    assert_eq!(opened["description"], "技术员未按时到场");
    // A complaint the complaints' rules refuse writes neither the call nor the complaint.
    let calls_before = s.count("SELECT COUNT(*) FROM call_index").await;
    let mut bad = call("complaint", "phone", "态度不好");
    bad["complaint_category"] = json!("mood");
    let (status, _) = status_and_message(c.send(Method::POST, "/console/api/calls", bad).await).await;
    assert_eq!(status, 400);
    assert_eq!(s.count("SELECT COUNT(*) FROM call_index").await, calls_before);
    let mut no_customer = call("complaint", "phone", "x");
    no_customer.as_object_mut().unwrap().remove("customer_id");
    let (status, message) = status_and_message(c.send(Method::POST, "/console/api/calls", no_customer).await).await;
    assert_eq!(status, 400);
    assert!(message.starts_with("customer_id: a complaint needs the customer"), "{message}");

    // An inquiry from someone who stays anonymous to the books: no customer at all.
    let mut anonymous = call("inquiry", "web", "贵公司是否承接气体灭火系统检测？");
    anonymous.as_object_mut().unwrap().remove("customer_id");
    let anonymous = c.post("/console/api/calls", anonymous).await;
    assert_eq!(anonymous["call"]["customer_id"], Value::Null);

    // Only the repair request made an order; every call is in the register, numbered apart.
    assert_eq!(s.count("SELECT COUNT(*) FROM work_order_index").await, orders + 1);
    assert_eq!(s.count("SELECT COUNT(*) FROM call_index").await, 5);
    assert_eq!(s.count("SELECT COUNT(DISTINCT number) FROM call_index").await, 5);
    assert_eq!(s.count("SELECT COUNT(*) FROM records WHERE entity = 'calls'").await, 5);
    // The repair's order carries the call's registration in its trail; the call its own.
    let order = c.get(&format!("/console/api/work-orders/{}", wo["id"].as_str().unwrap())).await;
    let trail: Vec<&str> = order["audit"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(trail, ["call_registered"]);
    let detail = c.get(&format!("/console/api/call-register/{}", rc["id"].as_str().unwrap())).await;
    assert_eq!(detail["audit"][0]["action"], "call_registered");
    assert_eq!(detail["customer_code"], "C-JINQIAO");
    assert_eq!(detail["site_name"], rc["site_name"]);
    // A linked call (a return visit's "not solved") is made by the server only: the console's
    // JSON cannot say what a call follows up.
    let mut linked = call("repair", "phone", "回访：问题未解决");
    linked["follows_order_id"] = json!(wo["id"]);
    linked["return_visit_id"] = json!("rv-1");
    let linked = c.post("/console/api/calls", linked).await;
    assert_eq!((linked["call"]["follows_order_id"].as_str(), linked["call"]["return_visit_id"].as_str()), (None, None));
    let follows = wo["id"].as_str().unwrap().to_owned();
    let made = s
        .run_db(move |db| {
            db.transaction(fieldbook_server::db::Mode::Feed, |tx| {
                let mut new: fieldbook_server::console::calls::NewCall = serde_json::from_value(call("repair", "phone", "回访：问题未解决")).unwrap();
                new.follows_order_id = Some(follows.clone());
                new.return_visit_id = Some("rv-1".into());
                fieldbook_server::console::calls::register_call(tx, "office.wang", &new)
            })
        })
        .await
        .unwrap();
    assert_eq!((made.call.entry.follows_order_id.as_deref(), made.call.entry.return_visit_id.as_deref()), (wo["id"].as_str(), Some("rv-1")));
    assert!(made.work_order.is_some());
    // The repair call is still the dispatch list's.
    let waiting = c.get("/console/api/calls").await;
    assert!(waiting.as_array().unwrap().iter().any(|o| o["id"] == wo["id"]));
    assert!(!waiting.as_array().unwrap().iter().any(|o| o["number"] == ic["number"]));
}

async fn a_new_caller_becomes_a_customer_unless_their_phone_is_on_file(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;

    // The caller's phone, however written, finds the customer on file ("+86 21 5030 1234").
    for phone in ["021-5030-1234", "+86 21 5030 1234", "0086 21 50301234", "(021) 5030 1234"] {
        let found = c.get(&format!("/console/api/customers?phone={}", urlencode(phone))).await;
        let codes: Vec<&str> = found.as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["C-JINQIAO"], "{phone}");
        assert_eq!(found[0]["contact"], "陈经理 (物业工程部)");
    }
    assert_eq!(c.get("/console/api/customers?phone=139%200000%200001").await, json!([]));
    // Customers from before the phone column (migration 0011) are filled by the migration's step.
    let before = s.count("SELECT COUNT(*) FROM reference_index WHERE entity = 'customers' AND phone IS NOT NULL").await;
    assert_eq!(before, 3);
    s.run_db(|db| {
        db.transaction(fieldbook_server::db::Mode::Write, |tx| {
            tx.execute("UPDATE reference_index SET phone = NULL", &[])?;
            fieldbook_server::console::calls::fill_customer_phones(tx)
        })
    })
    .await
    .unwrap();
    assert_eq!(s.count("SELECT COUNT(*) FROM reference_index WHERE entity = 'customers' AND phone = '2150301234'").await, 1);
    assert_eq!(s.count("SELECT COUNT(*) FROM reference_index WHERE entity = 'customers' AND phone IS NOT NULL").await, before);

    // An inquiry from a new caller: the customer is created with the call.
    let customers = s.count("SELECT COUNT(*) FROM reference_index WHERE entity = 'customers'").await;
    let made = c.post("/console/api/calls", stranger("inquiry", "咨询年度维保价格")).await;
    let call = &made["call"];
    assert_eq!(made["work_order"], Value::Null);
    let code = call["customer_code"].as_str().unwrap().to_owned();
    let today = chrono::Local::now().format("%Y%m%d").to_string();
    assert_eq!(code, format!("N-{today}-01"));
    assert_eq!(call["customer_name"], "浦东某物业公司");
    assert_eq!(s.count("SELECT COUNT(*) FROM reference_index WHERE entity = 'customers'").await, customers + 1);
    let cid = call["customer_id"].as_str().unwrap().to_owned();
    let record = s
        .run_db(move |db| db.transaction(fieldbook_server::db::Mode::Read, |tx| fieldbook_server::records::load(tx, "customers", &cid)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((record.fields["contact"].as_str(), record.fields["phone"].as_str()), (Some("赵女士"), Some("139 0000 0001")));
    // Found by name and by phone from now on.
    assert_eq!(c.get("/console/api/customers?q=%E6%B5%A6%E4%B8%9C%E6%9F%90").await[0]["code"], code.as_str());
    assert_eq!(c.get("/console/api/customers?phone=13900000001").await[0]["code"], code.as_str());

    // The same caller again as a new customer: refused, pointed at the record on file, nothing
    // written; registering the call for that customer works.
    let records = s.count("SELECT COUNT(*) FROM records").await;
    let r = c.send(Method::POST, "/console/api/calls", stranger("suggestion", "建议")).await;
    let (status, message) = status_and_message(r).await;
    assert_eq!(status, 409);
    assert!(message.starts_with("new_customer: the phone 139 0000 0001 is customer ") && message.contains(&code), "{message}");
    assert_eq!(s.count("SELECT COUNT(*) FROM records").await, records);

    // A repair request from another new caller: customer, site (suburban: 7 h) and order.
    let mut repair = stranger("repair", "厂房喷淋管漏水");
    repair["caller_phone"] = json!("+86 138 0013 8000");
    repair["new_customer"] = json!({"name": "松江某厂"});
    repair["new_site"] = json!({"address": "松江区某路 8 号", "region": "松江区", "zone": "suburban"});
    let made = c.post("/console/api/calls", repair).await;
    let wo = &made["work_order"];
    assert_eq!(made["call"]["customer_code"], format!("N-{today}-02"));
    assert_eq!((wo["zone"].as_str(), wo["region"].as_str(), wo["customer_name"].as_str()), (Some("suburban"), Some("松江区"), Some("松江某厂")));
    // Due by the service calendar (the demo's: 7 working hours in the suburbs).
    let reported = chrono::DateTime::parse_from_rfc3339(wo["reported_at"].as_str().unwrap()).unwrap().to_utc();
    let due = fieldbook_core::service_calendar::ServiceCalendar::default().deadline(reported, fieldbook_core::model::Zone::Suburban, None).on_site_by;
    assert_eq!(wo["response_deadline"].as_str().unwrap(), fieldbook_server::store_ts(due));
    assert_eq!(made["promise"]["policy"], "suburban");
    let sites = c.get(&format!("/console/api/customers/{}/sites", made["call"]["customer_id"].as_str().unwrap())).await;
    assert_eq!(sites[0]["code"], format!("N-{today}-02-1"));
    assert_eq!(sites[0]["address"], "松江区某路 8 号");
    // The audit trail names the customer made on the spot.
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'customer_registered'").await, 2);
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

async fn bad_calls_write_nothing(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let with = |mut v: Value, k: &str, x: Value| {
        if x.is_null() {
            v.as_object_mut().unwrap().remove(k);
        } else {
            v[k] = x;
        }
        v
    };
    let repair = call("repair", "phone", "x");
    let future = fieldbook_server::store_ts(chrono::Utc::now() + chrono::Duration::hours(2));
    let cases: Vec<(Value, &str)> = vec![
        (with(repair.clone(), "channel", json!("pigeon")), "channel 'pigeon': use one of phone, email, fax, web, walk_in"),
        (with(repair.clone(), "call_type", json!("praise")), "call_type 'praise': use one of repair, inquiry, complaint, suggestion"),
        (with(repair.clone(), "caller_name", json!("  ")), "caller_name: write who called"),
        (with(repair.clone(), "caller_phone", json!("")), "caller_phone: write the caller's phone number"),
        (with(repair.clone(), "caller_phone", json!("call me maybe")), "caller_phone 'call me maybe': write a phone number of 5 to 15 digits"),
        (with(repair.clone(), "caller_phone", json!("123")), "caller_phone '123': write a phone number"),
        (with(repair.clone(), "reported_at", json!(future)), "reported_at"),
        (with(repair.clone(), "reported_at", json!("yesterday")), "reported_at 'yesterday': give the time of the call as RFC 3339"),
        (with(repair.clone(), "problem", json!(" ")), "problem: say what the caller reported or asked"),
        (with(repair.clone(), "priority", json!("asap")), "priority"),
        (with(repair.clone(), "site_id", Value::Null), "site_id: a repair request needs the site"),
        (with(repair.clone(), "customer_id", Value::Null), "customer_id: a repair request needs the customer"),
        (with(repair.clone(), "customer_id", json!("nobody")), "customer_id 'nobody': no such customer"),
        (with(repair.clone(), "site_id", json!(id("sites", "S-XH-PLANT"))), "site_id"),
        (with(repair.clone(), "asset_ids", json!([id("assets", "XH-PUMP-01")])), "asset_ids"),
        (with(repair.clone(), "answer", json!("稍后回电")), "answer: only an inquiry or a suggestion is answered"),
        (with(repair.clone(), "new_customer", json!({"name": "x"})), "new_customer: give either customer_id"),
        (with(stranger("repair", "x"), "new_site", Value::Null), "site_id: a repair request needs the site"),
        (with(stranger("repair", "x"), "new_site", json!({"address": "x", "region": "x", "zone": "downtown"})), "new_site.zone"),
        (with(stranger("inquiry", "x"), "new_site", json!({"address": "x", "region": "x", "zone": "urban"})), "new_site: only a repair request registers a site"),
        (with(stranger("inquiry", "x"), "new_customer", json!({"name": ""})), "new_customer.name: write the new customer's name"),
        (with(call("inquiry", "phone", "x"), "asset_ids", json!([id("assets", "XH-PUMP-01")])), "asset_ids: assets are picked at one of the customer's sites"),
    ];
    let before = "SELECT (SELECT COUNT(*) FROM records) * 1000 + (SELECT COUNT(*) FROM audit_log) + (SELECT COUNT(*) FROM call_numbers) * 100 \
                  + (SELECT COUNT(*) FROM customer_numbers) * 10";
    let counts = s.count(before).await;
    let feed = s.count("SELECT COUNT(*) FROM feed").await;
    for (body, want) in cases {
        let (status, message) = status_and_message(c.send(Method::POST, "/console/api/calls", body.clone()).await).await;
        assert_eq!(status, 400, "{body}: {message}");
        assert!(message.starts_with(want), "want '{want}…', got '{message}'");
    }
    assert_eq!(s.count(before).await, counts, "a refused call writes nothing");
    assert_eq!(s.count("SELECT COUNT(*) FROM feed").await, feed);
}

async fn the_register_filters_pages_and_exports(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let mut ids = Vec::new();
    for (i, (t, ch)) in [("repair", "phone"), ("inquiry", "email"), ("suggestion", "web"), ("inquiry", "phone"), ("complaint", "fax")].iter().enumerate() {
        let mut body = call(t, ch, &format!("call {i}"));
        body["reported_at"] = json!(minutes_ago(50 - i as i64 * 10));
        ids.push(c.post("/console/api/calls", body).await["call"]["id"].as_str().unwrap().to_owned());
    }
    // Yesterday's inquiry from another customer, closed on the call.
    let mut old = call("inquiry", "phone", "old");
    old["customer_id"] = json!(id("customers", "C-RUIJIN"));
    old["reported_at"] = json!(minutes_ago(26 * 60));
    old["answer"] = json!("ok");
    old["close"] = json!(true);
    let old = c.post("/console/api/calls", old).await["call"]["id"].as_str().unwrap().to_owned();

    // Newest first, a page at a time, every call once.
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = c.get(&format!("/console/api/call-register?limit=2{after}")).await;
        seen.extend(page["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(n) => after = format!("&after={n}"),
            None => break,
        }
    }
    let mut want: Vec<String> = ids.iter().rev().cloned().collect();
    want.push(old.clone());
    assert_eq!(seen, want);

    let numbers = |v: Value| v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(numbers(c.get("/console/api/call-register?call_type=inquiry").await), [ids[3].clone(), ids[1].clone(), old.clone()]);
    assert_eq!(numbers(c.get("/console/api/call-register?call_type=inquiry&channel=phone").await), [ids[3].clone(), old.clone()]);
    // Open: nobody has answered them yet (the repair is its order's, the complaint its
    // complaint's, the old inquiry closed).
    assert_eq!(numbers(c.get("/console/api/call-register?state=open").await), [ids[3].clone(), ids[2].clone(), ids[1].clone()]);
    assert_eq!(numbers(c.get("/console/api/call-register?state=closed").await), [ids[4].clone(), ids[0].clone(), old.clone()]);
    assert_eq!(numbers(c.get(&format!("/console/api/call-register?customer={}", id("customers", "C-RUIJIN"))).await), std::slice::from_ref(&old));
    let today = chrono::Utc::now().date_naive();
    let yesterday = today - chrono::Duration::days(1);
    let on = |d: chrono::NaiveDate| format!("/console/api/call-register?from={d}&to={d}");
    let (y, t) = (numbers(c.get(&on(yesterday)).await), numbers(c.get(&on(today)).await));
    assert_eq!(y.len() + t.len(), 6, "every call falls on one UTC day: {y:?} {t:?}");
    assert!(y.contains(&old) || t.contains(&old));
    for (q, want) in [("call_type=praise", "call_type 'praise'"), ("channel=pigeon", "channel 'pigeon'"), ("state=done", "state 'done'"), ("from=2026-13-01", "from"), ("after=zzz", "after")] {
        let (status, message) = status_and_message(c.send(Method::GET, &format!("/console/api/call-register?{q}"), json!(null)).await).await;
        assert_eq!(status, 400, "{q}");
        assert!(message.starts_with(want), "{q}: {message}");
    }

    // CSV: every row, Chinese headers on request.
    let csv = c.req(Method::GET, "/console/api/call-register?format=csv&lang=zh&call_type=inquiry").send().await.unwrap().text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].trim_start_matches('\u{feff}').starts_with("来电编号,来电时间,来电方式,来电类型,来电人"), "{}", lines[0]);
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(csv.contains("瑞金路第三小学"), "{csv}");
}

async fn an_inquiry_is_answered_and_closed_by_the_office(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let inquiry = c.post("/console/api/calls", call("inquiry", "phone", "灭火器年检什么时候做？")).await["call"].clone();
    let path = format!("/console/api/call-register/{}", inquiry["id"].as_str().unwrap());
    assert_eq!((inquiry["state"].as_str(), inquiry["answer"].as_str()), (Some("open"), None));

    let answered = c.send(Method::PATCH, &path, json!({"answer": "下周二上门年检"})).await;
    assert_eq!(answered.status(), 200);
    let answered: Value = answered.json().await.unwrap();
    assert_eq!((answered["state"].as_str(), answered["answer"].as_str()), (Some("open"), Some("下周二上门年检")));
    let closed: Value = c.send(Method::PATCH, &path, json!({"closed": true})).await.json().await.unwrap();
    assert_eq!(closed["state"], "closed");
    assert_eq!(closed["answer"], "下周二上门年检");
    let reopened: Value = c.send(Method::PATCH, &path, json!({"closed": false})).await.json().await.unwrap();
    assert_eq!((reopened["state"].as_str(), reopened["closed_at"].as_str()), (Some("open"), None));
    // What was taken down is corrected; a bad correction changes nothing.
    let (status, message) = status_and_message(c.send(Method::PATCH, &path, json!({"equipment_model": "MFZ/ABC4", "caller_phone": "12"})).await).await;
    assert_eq!(status, 400);
    assert!(message.starts_with("caller_phone '12'"), "{message}");
    let corrected: Value = c.send(Method::PATCH, &path, json!({"equipment_model": "MFZ/ABC4", "problem": "灭火器年检和充装什么时候做？"})).await.json().await.unwrap();
    assert_eq!((corrected["equipment_model"].as_str(), corrected["problem"].as_str()), (Some("MFZ/ABC4"), Some("灭火器年检和充装什么时候做？")));
    let trail: Vec<&str> = corrected["audit"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(trail, ["call_registered", "call_answered", "call_closed", "call_reopened", "call_changed"]);
    assert_eq!(corrected["audit"][4]["detail"]["changed"], json!(["equipment_model", "problem"]));
    assert!(corrected["audit"].as_array().unwrap().iter().all(|e| e["actor"] == "office.wang"));
    // The register shows the corrected problem (the projection follows).
    let listed = c.get("/console/api/call-register?call_type=inquiry").await;
    assert_eq!(listed["items"][0]["problem"], "灭火器年检和充装什么时候做？");
    // The projection follows the record.
    assert_eq!(s.count("SELECT COUNT(*) FROM call_index WHERE closed_at IS NULL AND call_type = 'inquiry'").await, 1);

    // A repair request is its order's: not closed on the call. Nothing to change, no such call.
    let repair = c.post("/console/api/calls", call("repair", "phone", "x")).await["call"]["id"].as_str().unwrap().to_owned();
    let r = c.send(Method::PATCH, &format!("/console/api/call-register/{repair}"), json!({"closed": true})).await;
    let (status, message) = status_and_message(r).await;
    assert_eq!(status, 409);
    assert!(message.contains("is a repair call"), "{message}");
    let (status, message) = status_and_message(c.send(Method::PATCH, &path, json!({})).await).await;
    assert_eq!((status, message.starts_with("answer: give the answer")), (400, true), "{message}");
    assert_eq!(c.send(Method::PATCH, "/console/api/call-register/nope", json!({"closed": true})).await.status(), 404);
    assert_eq!(c.send(Method::GET, "/console/api/call-register/nope", json!(null)).await.status(), 404);
    // Without the console header a change is refused.
    let r = reqwest::Client::new().patch(format!("{}{path}", s.url)).header("Cookie", c.cookie.clone().unwrap()).json(&json!({"closed": true})).send().await.unwrap();
    assert_eq!(r.status(), 403);
}

async fn calls_stay_on_the_server(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;

    // An inquiry from a new caller and a repair request, dispatched to li.wei.
    let inquiry = c.post("/console/api/calls", stranger("inquiry", "咨询维保价格")).await["call"].clone();
    let repair = c.post("/console/api/calls", call("repair", "phone", "三楼烟感报警")).await;
    let oid = repair["work_order"]["id"].as_str().unwrap().to_owned();
    c.post(&format!("/console/api/work-orders/{oid}/dispatch"), json!({"technician": "li.wei"})).await;

    // The laptop's pull brings the order, never a call nor the inquirer's customer record.
    let pulled = li.pull_all(&s).await;
    assert!(pulled.iter().any(|ch| ch.record_id == oid));
    assert!(pulled.iter().all(|ch| ch.entity != "calls"), "a call reached a laptop");
    let new_customer = inquiry["customer_id"].as_str().unwrap();
    assert!(pulled.iter().all(|ch| ch.record_id != new_customer), "an inquirer's customer record reached a laptop");
    // A real laptop store takes the whole feed: the order is there, and applies cleanly.
    let dir = tempfile::tempdir().unwrap();
    let mut store = fieldbook_core::Store::open(&dir.path().join("laptop.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    pull_into(&s, &li.token, &mut store).await;
    let mine = store.find_order(repair["work_order"]["number"].as_str().unwrap()).unwrap();
    assert_eq!(mine.problem.as_deref(), Some("三楼烟感报警"));

    // A laptop cannot write a call, nor change one.
    let forged = uuid::Uuid::now_v7().to_string();
    let entries = vec![
        li.entry("calls", &forged, json!({"number": "C-20990101-0001", "call_type": "inquiry", "problem": "forged", "deleted": false})),
        li.entry("calls", inquiry["id"].as_str().unwrap(), json!({"closed_at": "2026-01-01T00:00:00.000Z"})),
    ];
    let r = li.push_raw(&s, &entries).await;
    let accepted = r.status().is_success();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    if accepted {
        assert_eq!(body["rejected"].as_array().map(Vec::len), Some(2), "{body}");
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM records WHERE entity = 'calls'").await, 2);
    assert_eq!(s.count("SELECT COUNT(*) FROM call_index WHERE closed_at IS NOT NULL").await, 0);

    // A device token is no console session, and a technician gets none.
    for (m, p) in [(Method::GET, "/console/api/call-register".to_owned()), (Method::GET, format!("/console/api/call-register/{}", inquiry["id"].as_str().unwrap())),
        (Method::PATCH, format!("/console/api/call-register/{}", inquiry["id"].as_str().unwrap())), (Method::POST, "/console/api/calls".to_owned()),
        (Method::GET, "/console/api/customers?phone=13900000001".to_owned())]
    {
        let r = s.req(m.clone(), &p).bearer_auth(&li.token).header("X-Fieldbook-Console", "1").json(&call("inquiry", "phone", "x")).send().await.unwrap();
        assert_eq!(r.status(), 401, "{m} {p} with a device token");
    }
    Console::add_user(&s, "tech.zhao", users::Role::Technician, "console-password").await;
    let mut t = Console::new(&s);
    assert_eq!(t.login("tech.zhao", "console-password").await.status(), 403);
    assert_eq!(t.req(Method::GET, "/console/api/call-register").send().await.unwrap().status(), 401);
}
