//! The office console's API (docs/console-api.md) against the real server, on SQLite and on
//! PostgreSQL: sessions and authorization over every route, call-ins and dispatch reaching a
//! laptop, review (approve, return with a note that reopens the job on a real laptop store),
//! conflicts resolved back to laptops, template publishing, reports on a fixture with known
//! numbers, CSV export.

mod common;

use common::{both, id, laptop_store, pull_into, push_from, Backend, Console, Laptop, TestServer};
use fieldbook_server::db::Mode;
use fieldbook_server::users;
use reqwest::Method;
use serde_json::{json, Value};

both!(
    sessions_log_in_expire_and_log_out,
    every_console_route_needs_an_office_session,
    admin_only_changes_and_the_console_header,
    calls_get_deadlines_and_carried_over_calls_come_first,
    dispatched_calls_reach_the_laptop,
    review_approves_and_returns_with_a_note_that_reopens_the_job,
    conflicts_are_resolved_back_to_the_laptops,
    templates_publish_new_versions_and_inspections_keep_theirs,
    reports_count_a_known_fixture,
    lists_and_reports_export_csv,
    people_and_devices,
    the_web_app_is_served_from_the_binary,
    projections_are_rebuilt_from_records,
);

async fn status_and_kind(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (status, v["error"]["kind"].as_str().unwrap_or_default().to_owned())
}

async fn office(s: &TestServer) -> Console {
    Console::as_role(s, "office.wang", users::Role::Office).await
}

async fn sessions_log_in_expire_and_log_out(b: Backend) {
    let s = TestServer::empty(b).await;
    let hash = common::blocking(|| users::hash_password("console-password")).await.unwrap();
    s.run_db(move |db| {
        db.transaction(Mode::Write, |tx| {
            users::add(tx, "office.wang", users::Role::Office, "王芳", Some(&hash))?;
            tx.execute("UPDATE users SET password_hash = $1 WHERE login = 'li.wei'", &[hash.as_str().into()])?;
            Ok(())
        })
    })
    .await
    .unwrap();
    let mut c = Console::new(&s);
    // Wrong password and unknown login: the same 401 and message.
    let wrong = c.login("office.wang", "not-the-password").await;
    assert_eq!(wrong.status(), 401);
    let w: Value = wrong.json().await.unwrap();
    let unknown: Value = c.login("nobody", "console-password").await.json().await.unwrap();
    assert_eq!(w["error"]["message"], "wrong login or password");
    assert_eq!(unknown["error"]["message"], w["error"]["message"]);
    assert!(c.cookie.is_none());
    // A technician's password login is refused: the console is for the office.
    let (status, kind) = status_and_kind(c.login("li.wei", "console-password").await).await;
    assert_eq!((status, kind.as_str()), (403, "forbidden"));
    assert!(c.cookie.is_none(), "no session for a technician");
    let ok = c.login("office.wang", "console-password").await;
    assert_eq!(ok.status(), 200);
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    let me: Value = ok.json().await.unwrap();
    assert_eq!(me, json!({"login": "office.wang", "display_name": "王芳", "role": "office"}));
    assert_eq!(c.get("/console/api/me").await["login"], "office.wang");
    // Only the token's hash is stored.
    let token = c.cookie.clone().unwrap().split_once('=').unwrap().1.to_owned();
    let stored = s.count("SELECT COUNT(*) FROM console_sessions").await;
    assert_eq!(stored, 1);
    let hashes = s.run_db(|db| db.transaction(Mode::Read, |tx| tx.query_one("SELECT token_hash FROM console_sessions", &[])?.text(0))).await.unwrap();
    assert_ne!(hashes, token);
    assert_eq!(hashes, fieldbook_core::signature::sha256_hex(token.as_bytes()));
    // 12 h idle: gone.
    let old = fieldbook_server::store_ts(chrono::Utc::now() - chrono::Duration::hours(13));
    s.run_db(move |db| db.transaction(Mode::Write, |tx| tx.execute("UPDATE console_sessions SET last_seen_at = $1", &[old.into()]))).await.unwrap();
    let (status, kind) = status_and_kind(c.req(Method::GET, "/console/api/me").send().await.unwrap()).await;
    assert_eq!((status, kind.as_str()), (401, "unauthorized"));
    // Log in again, log out: the session is deleted.
    assert_eq!(c.login("office.wang", "console-password").await.status(), 200);
    assert_eq!(c.req(Method::POST, "/console/api/logout").send().await.unwrap().status(), 204);
    assert_eq!(c.req(Method::GET, "/console/api/me").send().await.unwrap().status(), 401);
    assert_eq!(s.count("SELECT COUNT(*) FROM console_sessions").await, 0);
    // The audit trail has the logins.
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'login' AND actor = 'office.wang'").await, 2);
}

/// Every console route with its path parameters filled in.
fn concrete_routes() -> Vec<(Method, String)> {
    let mut out = Vec::new();
    for (path, methods) in fieldbook_server::console::ROUTES {
        let p = path
            .replace("{id}", "x")
            .replace("{name}", "response")
            .replace("{code}", "FP-PATROL")
            .replace("{version}", "1")
            .replace("{login}", "li.wei");
        for m in *methods {
            out.push((Method::from_bytes(m.as_bytes()).unwrap(), p.clone()));
        }
    }
    out
}

async fn every_console_route_needs_an_office_session(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let li = Laptop::enroll(&s, "li.wei").await;
    let c = office(&s).await;
    let client = reqwest::Client::new();
    let routes = concrete_routes();
    assert!(routes.len() >= 28, "the route list is walked whole");
    for (method, path) in &routes {
        if path == "/console/api/login" {
            continue;
        }
        // No session at all.
        let r = client.request(method.clone(), format!("{}{path}", s.url)).header("X-Fieldbook-Console", "1").json(&json!({})).send().await.unwrap();
        assert_eq!(status_and_kind(r).await, (401, "unauthorized".to_owned()), "{method} {path} without a session");
        // A laptop's device token is no console session.
        let r = client
            .request(method.clone(), format!("{}{path}", s.url))
            .header("X-Fieldbook-Console", "1")
            .bearer_auth(&li.token)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{method} {path} with a device token");
        // A made-up cookie neither.
        let r = client
            .request(method.clone(), format!("{}{path}", s.url))
            .header("X-Fieldbook-Console", "1")
            .header("Cookie", "fieldbook_console=00ff")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{method} {path} with a forged cookie");
    }
    // The laptop sync API does not take a console cookie.
    let cookie = c.cookie.clone().unwrap();
    for (method, path) in [(Method::GET, "/api/sync/pull?cursor=0"), (Method::POST, "/api/sync/push"), (Method::GET, "/api/attachments/missing")] {
        let r = s.req(method.clone(), path).header("Cookie", &cookie).json(&json!({"entries": []})).send().await.unwrap();
        assert_eq!(r.status(), 401, "{method} {path} with a console cookie");
    }
    // With the session, the same routes answer (not 401).
    for (method, path) in &routes {
        if method == Method::GET {
            let r = c.req(method.clone(), path).send().await.unwrap();
            assert_ne!(r.status(), 401, "GET {path} with a session");
        }
    }
}

async fn admin_only_changes_and_the_console_header(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let li = Laptop::enroll(&s, "li.wei").await;
    let c = office(&s).await;
    let admin = Console::as_role(&s, "admin.zhao", users::Role::Admin).await;
    let forbidden = |r: reqwest::Response| async move { status_and_kind(r).await };
    let attempts: Vec<(Method, String, Value)> = vec![
        (Method::POST, "/console/api/users".into(), json!({"login": "new.tech", "display_name": "新人", "role": "technician"})),
        (Method::PATCH, "/console/api/users/li.wei".into(), json!({"display_name": "x"})),
        (Method::POST, "/console/api/users/li.wei/enrolment-code".into(), json!({})),
        (Method::POST, format!("/console/api/devices/{}/revoke", li.device_id), json!({"reason": "lost", "wipe": false})),
    ];
    for (m, p, body) in &attempts {
        assert_eq!(forbidden(c.send(m.clone(), p, body.clone()).await).await, (403, "forbidden".into()), "office: {m} {p}");
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM users WHERE login = 'new.tech'").await, 0);
    assert_eq!(s.count("SELECT COUNT(*) FROM devices WHERE revoked_at IS NOT NULL").await, 0);
    // Without X-Fieldbook-Console, even an admin's change is refused, and nothing happens.
    let r = admin.client.post(format!("{}/console/api/users", s.url)).header("Cookie", admin.cookie.clone().unwrap()).json(&attempts[0].2).send().await.unwrap();
    assert_eq!(status_and_kind(r).await, (403, "forbidden".into()));
    assert_eq!(s.count("SELECT COUNT(*) FROM users WHERE login = 'new.tech'").await, 0);
    // With it, the admin may.
    let user = admin.post("/console/api/users", attempts[0].2.clone()).await;
    assert_eq!(user["role"], "technician");
    let code = admin.post("/console/api/users/new.tech/enrolment-code", json!({"valid_hours": 2})).await;
    assert_eq!(code["code"].as_str().unwrap().len(), 19);
    let revoked = admin.post(&format!("/console/api/devices/{}/revoke", li.device_id), json!({"reason": "stolen", "wipe": true})).await;
    assert_eq!(revoked["wipe_ordered"], true);
    assert_eq!(revoked["warning"], "revoked_unsynced");
    // The laptop hears it at its next request.
    let r = li.auth(s.req(Method::GET, "/api/sync/pull?cursor=0")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let actions: Vec<String> = admin.get("/console/api/audit?actor=admin.zhao").await["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
    assert_eq!(actions, ["device_revoked", "enrolment_code_issued", "user_added", "login"]);
    // The code is never in the trail.
    let trail = admin.get("/console/api/audit?actor=admin.zhao").await.to_string();
    assert!(!trail.contains(code["code"].as_str().unwrap()));
}

fn call(site: &str, customer: &str, reported_at: &str, problem: &str) -> Value {
    json!({"channel": "phone", "call_type": "repair", "caller_name": "陈经理", "caller_phone": "+86 21 5030 1234",
        "customer_id": id("customers", customer), "site_id": id("sites", site), "asset_ids": [], "problem": problem, "reported_at": reported_at, "priority": "high"})
}

/// Registers a repair request; answers its work order.
async fn register(c: &Console, body: Value) -> Value {
    let made = c.post("/console/api/calls", body).await;
    assert_eq!(made["call"]["number"], made["work_order"]["number"], "one number for the call and its order");
    made["work_order"].clone()
}

async fn calls_get_deadlines_and_carried_over_calls_come_first(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let now = chrono::Utc::now();
    // Today's calls stay after the server's local midnight whatever the hour the test runs at.
    let midnight = chrono::Local::now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_local_timezone(chrono::Local).earliest().unwrap().to_utc();
    let t = |h: i64| fieldbook_server::store_ts((now - chrono::Duration::hours(h)).max(midnight + chrono::Duration::minutes(h)));
    let urban = register(&c, call("S-JQ-MALL", "C-JINQIAO", &t(1), "报警控制器显示故障")).await;
    assert_eq!(urban["status"], "new");
    assert_eq!(urban["zone"], "urban");
    // The deadline is the service calendar's (no version published: the default, 6 / 7 working hours).
    let calendar = fieldbook_core::service_calendar::ServiceCalendar::default();
    let due = |v: &Value, zone| {
        let reported = chrono::DateTime::parse_from_rfc3339(v["reported_at"].as_str().unwrap()).unwrap().to_utc();
        fieldbook_server::store_ts(calendar.deadline(reported, zone, None).on_site_by)
    };
    assert_eq!(urban["response_deadline"].as_str().unwrap(), due(&urban, fieldbook_core::model::Zone::Urban));
    assert!(urban["number"].as_str().unwrap().starts_with("C-"), "{}", urban["number"]);
    let suburban = register(&c, call("S-XH-PLANT", "C-XINGHUA", &t(2), "泵房漏水")).await;
    assert_eq!(suburban["response_deadline"].as_str().unwrap(), due(&suburban, fieldbook_core::model::Zone::Suburban));
    assert_ne!(urban["number"], suburban["number"], "numbers are unique");
    // A call from two days ago that nobody dispatched: carried over, at the top.
    let old = register(&c, call("S-RJ-SCHOOL", "C-RUIJIN", &fieldbook_server::store_ts(now - chrono::Duration::hours(48)), "烟感误报")).await;
    let calls = c.get("/console/api/calls").await;
    let order: Vec<(&str, bool)> = calls.as_array().unwrap().iter().map(|c| (c["id"].as_str().unwrap(), c["carried_over"].as_bool().unwrap())).collect();
    let ids = |v: &Value| v["id"].as_str().unwrap().to_owned();
    assert_eq!(order[0], (ids(&old).as_str(), true));
    // Today's calls follow by response deadline (the urban one is due first).
    let rest: Vec<&str> = order[1..].iter().filter(|(_, carried)| !carried).map(|(i, _)| *i).collect();
    assert_eq!(rest, [ids(&urban).as_str(), ids(&suburban).as_str()]);
    // Bad input: clear errors, nothing written.
    let before = s.count("SELECT COUNT(*) FROM work_order_index").await;
    for (body, field) in [
        (call("S-JQ-MALL", "C-XINGHUA", &t(1), "x"), "site_id"),
        (call("S-JQ-MALL", "C-JINQIAO", "yesterday", "x"), "reported_at"),
        (call("S-JQ-MALL", "C-JINQIAO", &t(1), "  "), "problem"),
        ({
            let mut v = call("S-JQ-MALL", "C-JINQIAO", &t(1), "x");
            v["priority"] = json!("asap");
            v
        }, "priority"),
        ({
            let mut v = call("S-JQ-MALL", "C-JINQIAO", &t(1), "x");
            v["asset_ids"] = json!([id("assets", "XH-PUMP-01")]);
            v
        }, "asset_ids"),
    ] {
        let r = c.send(Method::POST, "/console/api/calls", body).await;
        assert_eq!(r.status(), 400);
        let e: Value = r.json().await.unwrap();
        assert!(e["error"]["message"].as_str().unwrap().starts_with(field), "{field}: {e}");
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM work_order_index").await, before);
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'call_registered'").await, 3);
    // Lookups the call form uses.
    let customers = c.get("/console/api/customers?q=jinqiao").await;
    assert_eq!(customers.as_array().unwrap().len(), 1);
    let sites = c.get(&format!("/console/api/customers/{}/sites", id("customers", "C-JINQIAO"))).await;
    assert_eq!(sites[0]["assets"].as_array().unwrap().len(), 4);
    let regions = c.get("/console/api/regions").await;
    assert_eq!(regions, json!(["松江区", "浦东新区", "黄浦区"].iter().copied().collect::<std::collections::BTreeSet<_>>()));
}

async fn dispatched_calls_reach_the_laptop(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let reported = fieldbook_server::store_ts(chrono::Utc::now() - chrono::Duration::minutes(30));
    let new = register(&c, call("S-RJ-SCHOOL", "C-RUIJIN", &reported, "三楼烟感报警")).await;
    let oid = new["id"].as_str().unwrap().to_owned();
    // Not dispatched: not on any laptop.
    assert!(li.pull_all(&s).await.iter().all(|ch| ch.record_id != oid));
    let techs = c.get("/console/api/technicians").await;
    let li_open = techs.as_array().unwrap().iter().find(|t| t["login"] == "li.wei").unwrap()["open_orders"].as_i64().unwrap();
    let d = c.post(&format!("/console/api/work-orders/{oid}/dispatch"), json!({"technician": "li.wei"})).await;
    assert_eq!((d["status"].as_str(), d["technician"].as_str(), d["technician_name"].as_str()), (Some("dispatched"), Some("li.wei"), Some("李伟")));
    let techs = c.get("/console/api/technicians").await;
    assert_eq!(techs.as_array().unwrap().iter().find(|t| t["login"] == "li.wei").unwrap()["open_orders"].as_i64().unwrap(), li_open + 1);
    // A real laptop store pulls it, with the customer and site it refers to.
    let dir = tempfile::tempdir().unwrap();
    let mut store = fieldbook_core::Store::open(&dir.path().join("laptop.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    pull_into(&s, &li.token, &mut store).await;
    let mine = store.find_order(new["number"].as_str().unwrap()).unwrap();
    assert_eq!(mine.status, fieldbook_core::model::Status::Dispatched);
    assert_eq!(mine.problem.as_deref(), Some("三楼烟感报警"));
    assert_eq!(fieldbook_core::store::ts(mine.response_deadline), new["response_deadline"].as_str().unwrap());
    // The list filters find it; not-started orders only may be dispatched.
    let page = c.get("/console/api/work-orders?technician=li.wei&status=dispatched").await;
    assert!(page["items"].as_array().unwrap().iter().any(|o| o["id"] == oid.as_str()));
    let detail = c.get(&format!("/console/api/work-orders/{oid}")).await;
    let trail: Vec<&str> = detail["audit"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(trail, ["call_registered", "dispatched"]);
    let started = id("work_orders", "WO-1002");
    s.run_db({
        let started = started.clone();
        move |db| db.transaction(Mode::Feed, |tx| {
            let mut w = fieldbook_server::feed::Writer::begin(tx)?;
            fieldbook_server::import::write_changed(&mut w, "work_orders", &started, &[("status", json!("on_site"))])?;
            w.finish().map(|_| ())
        })
    })
    .await
    .unwrap();
    let r = c.send(Method::POST, &format!("/console/api/work-orders/{started}/dispatch"), json!({"technician": "zhang.min"})).await;
    assert_eq!(status_and_kind(r).await, (409, "conflict".into()));
    let r = c.send(Method::POST, &format!("/console/api/work-orders/{oid}/dispatch"), json!({"technician": "office.wang"})).await;
    assert_eq!(r.status(), 400, "only technicians get orders");
}

/// Records a repair on a laptop.
fn repair(store: &mut fieldbook_core::Store, order: &str, asset: Option<String>, minutes: u32, fee_cents: i64) {
    let parts = vec![fieldbook_core::model::PartUsed { sku: "SD-JTY-GD-G3".into(), quantity: 2, serials: vec![], faulty_returned: false }];
    let new = fieldbook_core::model::NewRepairRecord {
        asset_id: asset, fault: "seal worn".into(), cause: "age".into(), action: "replaced the seal".into(), parts, labour_minutes: minutes,
        category: fieldbook_core::model::Category::Paid, fee_cents, fee_collected: false, taken_to_workshop: false, receipt_number: None,
    };
    store.add_repair(order, &new).unwrap();
}

async fn review_approves_and_returns_with_a_note_that_reopens_the_job(b: Backend) {
    use fieldbook_core::model::Status;
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut store, token) = laptop_store(&s, dir.path(), "li.wei").await;
    // The demo's finished job (WO-1006, imported completed) is decided first: the queue then
    // holds only this test's jobs.
    // It has no signature: approved as a recorded exception (no signature, no close).
    let wo1006 = id("work_orders", "WO-1006");
    c.post(&format!("/console/api/work-orders/{wo1006}/close-exception"), json!({"kind": "refused_to_sign", "reason": "客户拒签 / refused to sign"})).await;
    c.post(&format!("/console/api/work-orders/{wo1006}/approve"), json!({})).await;
    // Two repair jobs done on the laptop and synced.
    for n in ["WO-1002", "WO-1005"] {
        repair(&mut store, n, None, 30, 0);
        store.set_status(n, Status::EnRoute).unwrap();
        store.set_status(n, Status::OnSite).unwrap();
        store.set_status(n, Status::Completed).unwrap();
    }
    push_from(&s, &token, &mut store).await;
    let queue = c.get("/console/api/review").await;
    let numbers: Vec<&str> = queue.as_array().unwrap().iter().map(|o| o["number"].as_str().unwrap()).collect();
    assert_eq!(numbers.len(), 2, "{queue}");
    assert!(numbers.contains(&"WO-1002") && numbers.contains(&"WO-1005"));
    for item in queue.as_array().unwrap() {
        assert_eq!(item["review_state"], "pending");
        for k in ["signature_ok", "missing_attachments", "parts_count", "labour_minutes", "fee_cents"] {
            assert!(!item[k].is_null(), "{k}");
        }
    }
    let (approve_id, return_id) = (id("work_orders", "WO-1002"), id("work_orders", "WO-1005"));
    // Returning needs a note.
    let r = c.send(Method::POST, &format!("/console/api/work-orders/{return_id}/return"), json!({"note": " "})).await;
    assert_eq!(r.status(), 400);
    // Unsigned: refused until the office records why it closes without a signature.
    let r = c.send(Method::POST, &format!("/console/api/work-orders/{approve_id}/approve"), json!({})).await;
    assert_eq!(r.status(), 422);
    c.post(&format!("/console/api/work-orders/{approve_id}/close-exception"), json!({"kind": "refused_to_sign", "reason": "customer away; refused by phone"})).await;
    let approved = c.post(&format!("/console/api/work-orders/{approve_id}/approve"), json!({})).await;
    assert_eq!(approved["review_state"], "approved");
    let returned = c.post(&format!("/console/api/work-orders/{return_id}/return"), json!({"note": "请补拍泵房照片 / add the pump room photo"})).await;
    assert_eq!(returned["review_state"], "returned");
    assert_eq!(returned["status"], "on_site");
    // Deciding twice: 409.
    let r = c.send(Method::POST, &format!("/console/api/work-orders/{approve_id}/approve"), json!({})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(c.get("/console/api/review").await.as_array().unwrap().len(), 0);
    // The audit trail, per order.
    let trail = c.get(&format!("/console/api/audit?work_order_id={return_id}")).await;
    let e = &trail["items"][0];
    assert_eq!((e["action"].as_str(), e["actor"].as_str()), (Some("returned"), Some("office.wang")));
    assert_eq!(e["detail"]["note"], "请补拍泵房照片 / add the pump room photo");
    assert_eq!(c.get(&format!("/console/api/audit?work_order_id={approve_id}")).await["items"][0]["action"], "approved");
    // The laptop pulls the decision: the returned job is open again with the office's note.
    pull_into(&s, &token, &mut store).await;
    let back = store.find_order("WO-1005").unwrap();
    assert_eq!(back.status, Status::OnSite);
    assert_eq!(back.review_state.as_deref(), Some("returned"));
    assert_eq!(back.review_note.as_deref(), Some("请补拍泵房照片 / add the pump room photo"));
    assert_eq!(store.find_order("WO-1002").unwrap().review_state.as_deref(), Some("approved"));
    assert_eq!(store.find_order("WO-1002").unwrap().status, Status::Completed);
    // Completed again on the laptop: back in the queue.
    store.set_status("WO-1005", Status::Completed).unwrap();
    push_from(&s, &token, &mut store).await;
    let queue = c.get("/console/api/review").await;
    assert_eq!(queue.as_array().unwrap().iter().map(|o| o["number"].as_str().unwrap()).collect::<Vec<_>>(), ["WO-1005"]);
}

async fn conflicts_are_resolved_back_to_the_laptops(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let order = id("work_orders", "WO-1002");
    // The office sends the job back on site while the technician, offline, sets off.
    s.office_write("work_orders", &order, json!({"status": "on_site"})).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let edit = li.entry("work_orders", &order, json!({"status": "en_route"}));
    assert_eq!(li.push(&s, &[edit]).await.conflicts, 1);
    let open = c.get("/console/api/conflicts?state=open").await;
    let conflict = &open.as_array().unwrap()[0];
    assert_eq!(conflict["field"], "status");
    assert_eq!(conflict["work_order_number"], "WO-1002");
    assert_eq!(conflict["kept"]["value"], "en_route");
    assert_eq!(conflict["kept"]["technician"], "li.wei");
    assert_eq!(conflict["other"]["value"], "on_site");
    assert!(conflict["kept"]["at"].is_string());
    let cid = conflict["id"].as_str().unwrap().to_owned();
    // A value of the wrong type is refused.
    let r = c.send(Method::POST, &format!("/console/api/conflicts/{cid}/resolve"), json!({"value": 42})).await;
    assert_eq!(r.status(), 400);
    let merged = "on_site";
    let done = c.post(&format!("/console/api/conflicts/{cid}/resolve"), json!({"value": merged})).await;
    assert_eq!(done["resolved_by"], "office.wang");
    assert_eq!(done["resolution"], merged);
    assert_eq!(c.get("/console/api/conflicts").await.as_array().unwrap().len(), 0);
    assert_eq!(c.get("/console/api/conflicts?state=resolved").await.as_array().unwrap().len(), 1);
    let r = c.send(Method::POST, &format!("/console/api/conflicts/{cid}/resolve"), json!({"value": "again"})).await;
    assert_eq!(r.status(), 409);
    // The decision syncs back with a server stamp newer than both.
    let pulled = li.pull_all(&s).await;
    let change = pulled.iter().rev().find(|ch| ch.record_id == order).expect("the order comes back");
    assert_eq!(change.fields["status"], merged);
    let stamp = change.stamp("status").unwrap();
    assert!(stamp.ends_with("-server"), "{stamp}");
    assert!(stamp > conflict["kept"]["hlc"].as_str().unwrap());
    assert_eq!(s.record("work_orders", &order).await.unwrap()["status"], merged);
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'conflict_resolved'").await, 1);
    // A laptop cannot approve its own work.
    let sneaky = li.entry("work_orders", &order, json!({"review_state": "approved"}));
    let r = li.push(&s, &[sneaky]).await;
    assert_eq!(r.rejected.len(), 1, "{r:?}");
    assert!(s.record("work_orders", &order).await.unwrap().get("review_state").is_none());
}

fn template_body(title: &str) -> Value {
    json!({
        "title": {"zh": title, "en": title},
        "sections": [{"key": "s", "title": {"zh": "检查", "en": "Checks"}, "items": [
            {"key": "s.ok", "label": {"zh": "正常", "en": "Normal"}, "kind": "pass_fail", "required": true}
        ]}]
    })
}

async fn templates_publish_new_versions_and_inspections_keep_theirs(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    li.pull_all(&s).await;
    let list = c.get("/console/api/templates").await;
    let patrol = list.as_array().unwrap().iter().find(|t| t["code"] == "FP-PATROL").unwrap().clone();
    let v = patrol["latest_version"].as_i64().unwrap();
    // An invalid body names the problem; nothing is published.
    let mut bad = template_body("坏");
    bad["sections"][0]["items"][0]["kind"] = json!("numeric");
    bad["sections"][0]["items"][0]["min"] = json!(5);
    bad["sections"][0]["items"][0]["max"] = json!(1);
    let r = c.send(Method::POST, "/console/api/templates", json!({"code": "FP-PATROL", "body": bad})).await;
    assert_eq!(r.status(), 400, "{}", r.text().await.unwrap());
    let published = c.post("/console/api/templates", json!({"code": "FP-PATROL", "body": template_body("消防巡检 v2")})).await;
    assert_eq!(published["version"].as_i64().unwrap(), v + 1);
    let again = c.get(&format!("/console/api/templates/FP-PATROL/versions/{}", v + 1)).await;
    assert_eq!(again["body"]["title"]["en"], "消防巡检 v2");
    let old = c.get(&format!("/console/api/templates/FP-PATROL/versions/{v}")).await;
    assert_eq!(old["body"], patrol_body(&s, v).await, "the old version is unchanged");
    let list = c.get("/console/api/templates").await;
    let patrol = list.as_array().unwrap().iter().find(|t| t["code"] == "FP-PATROL").unwrap().clone();
    let versions: Vec<i64> = patrol["versions"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(&versions[versions.len() - 2..], [v, v + 1]);
    // The laptop gets the new version; the inspection in progress keeps its version.
    let pulled = li.pull_all(&s).await;
    assert!(pulled.iter().any(|ch| ch.entity == "checklist_templates" && ch.fields["version"] == json!(v + 1)));
    let wo = s.record("work_orders", &id("work_orders", "WO-1001")).await.unwrap();
    let tpl = s.record("checklist_templates", wo["template_id"].as_str().unwrap()).await.unwrap();
    assert_eq!(tpl["version"].as_i64().unwrap(), v);
    // A brand-new code starts at version 1.
    assert_eq!(c.post("/console/api/templates", json!({"code": "EL-CHECK", "body": template_body("电气")})).await["version"], 1);
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'template_published'").await, 2);
}

async fn patrol_body(s: &TestServer, v: i64) -> Value {
    let rec = s.record("checklist_templates", &id("checklist_templates", &format!("FP-PATROL@{v}"))).await.unwrap();
    rec["body"].clone()
}

/// A fixture with known numbers: three repair calls by li.wei this week, one repeated.
async fn reports_count_a_known_fixture(b: Backend) {
    use fieldbook_core::model::Status;
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut store, token) = laptop_store(&s, dir.path(), "li.wei").await;
    // WO-1002 (repair call, XH-PUMP-01): arrived, repaired, rated, completed.
    store.set_status("WO-1002", Status::EnRoute).unwrap();
    store.set_status("WO-1002", Status::OnSite).unwrap();
    push_from(&s, &token, &mut store).await;
    let before = c.get("/console/api/reports/response?by=technician&technician=li.wei&from=2000-01-01&to=2100-01-01").await;
    let rows = before["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(before["columns"][0]["key"], "group");
    let li_row = &rows[0];
    assert_eq!(li_row["group"], "li.wei");
    // Each met/breached count matches the orders' own arrival and deadline.
    let orders = c.get("/console/api/work-orders?technician=li.wei&from=2000-01-01&to=2100-01-01&limit=200").await;
    let (mut met, mut breached) = (0, 0);
    for o in orders["items"].as_array().unwrap() {
        match o["response_met"].as_bool() {
            Some(true) => met += 1,
            Some(false) => breached += 1,
            None => {}
        }
    }
    assert_eq!((li_row["met"].as_i64().unwrap(), li_row["breached"].as_i64().unwrap()), (met, breached));
    assert_eq!(li_row["orders"].as_i64().unwrap(), orders["items"].as_array().unwrap().len() as i64);
    // The laptop records the work: a repair, time, the customer's rating.
    let today = chrono::Utc::now().date_naive();
    repair(&mut store, "WO-1002", Some(id("assets", "XH-PUMP-01")), 45, 12000);
    {
        use fieldbook_core::model::{Activity, Category};
        use fieldbook_core::store::time::TimeInput;
        let t = |category, activity, minutes, order: Option<&str>, note: Option<&str>| TimeInput {
            work_date: today, category, activity, minutes, note: note.map(Into::into), work_order: order.map(Into::into),
        };
        store.add_time("li.wei", &t(Category::Paid, Activity::Travel, 90, Some("WO-1002"), None)).unwrap();
        store.add_time("li.wei", &t(Category::Internal, Activity::Internal, 30, None, Some("tools"))).unwrap();
    }
    store.rate("WO-1002", &fieldbook_core::model::SatisfactionCard { attitude: 4, skill: 3, arrival: 4, promise: 2, comment: None }).unwrap();
    push_from(&s, &token, &mut store).await;
    // A: the repair's 45 minutes (recorded with it) and 90 more; D: 30.
    // A finding on the patrol inspection WO-1001, then corrected: counted, then not.
    let wo1001 = id("work_orders", "WO-1001");
    let exits = fieldbook_core::checklist::Slot { item_key: "site.exits".into(), asset_id: String::new() };
    store.record_answer(&wo1001, &exits, &json!("fail")).unwrap();
    push_from(&s, &token, &mut store).await;
    let findings = c.get("/console/api/reports/frequent-findings").await;
    assert_eq!(findings["rows"], json!([{"item_key": "site.exits", "label_en": "Escape routes and exits clear", "label_zh": "疏散通道、安全出口畅通", "count": 1}]));
    let detail = c.get(&format!("/console/api/work-orders/{wo1001}")).await;
    assert_eq!(detail["inspection"]["findings"][0]["item_key"], "site.exits");
    store.record_answer(&wo1001, &exits, &json!("pass")).unwrap();
    push_from(&s, &token, &mut store).await;
    assert_eq!(c.get("/console/api/reports/frequent-findings").await["rows"], json!([]));
    let daily = c.get("/console/api/reports/daily-minutes?technician=li.wei").await;
    assert_eq!(daily["rows"], json!([{"work_date": today.to_string(), "technician": "li.wei", "A": 135, "B": 0, "C": 0, "D": 30, "total": 165}]));
    let sat = c.get("/console/api/reports/satisfaction").await;
    assert_eq!(sat["rows"], json!([{"technician": "li.wei", "cards": 1, "attitude": 4.0, "skill": 3.0, "arrival": 4.0, "promise": 2.0}]));
    let assets = c.get("/console/api/reports/fault-prone-assets").await;
    assert_eq!(assets["rows"][0]["asset_code"], "XH-PUMP-01");
    assert_eq!(assets["rows"][0]["repairs"], 1);
    let queue_item = {
        store.set_status("WO-1002", Status::Completed).unwrap();
        push_from(&s, &token, &mut store).await;
        let queue = c.get("/console/api/review").await;
        queue.as_array().unwrap().iter().find(|o| o["number"] == "WO-1002").expect("WO-1002 waits for review").clone()
    };
    assert_eq!((queue_item["parts_count"].as_i64(), queue_item["labour_minutes"].as_i64(), queue_item["fee_cents"].as_i64()), (Some(1), Some(45), Some(12000)));
    // First-time fix: WO-1002 completed with no repeat, and the demo's WO-1006 (imported
    // completed) -> 2 of 2.
    let ftf = c.get("/console/api/reports/first-time-fix?from=2000-01-01&to=2100-01-01").await;
    assert_eq!(ftf["rows"], json!([{"group": "li.wei", "repairs": 2, "fixed_first_time": 2, "rate": 1.0}]));
    // A repeat call on the same asset within 30 days makes it not fixed first time.
    let first = c.get(&format!("/console/api/work-orders/{}", id("work_orders", "WO-1002"))).await["order"]["reported_at"].as_str().unwrap().to_owned();
    let first = chrono::DateTime::parse_from_rfc3339(&first).unwrap().to_utc();
    let reported = fieldbook_server::store_ts((first + chrono::Duration::days(2)).min(chrono::Utc::now()));
    let mut repeat = call("S-XH-PLANT", "C-XINGHUA", &reported, "泵又漏水");
    repeat["asset_ids"] = json!([id("assets", "XH-PUMP-01")]);
    let repeat = register(&c, repeat).await;
    let rid = repeat["id"].as_str().unwrap().to_owned();
    s.run_db(move |db| {
        db.transaction(Mode::Feed, |tx| {
            let mut w = fieldbook_server::feed::Writer::begin(tx)?;
            fieldbook_server::import::write_changed(&mut w, "repair_records", &uuid::Uuid::now_v7().to_string(), &[
                // The repeat's repair, the day after WO-1002's.
                ("work_order_id", json!(rid)), ("asset_id", json!(id("assets", "XH-PUMP-01"))),
                ("recorded_at", json!(fieldbook_server::store_ts(chrono::Utc::now() + chrono::Duration::days(1)))),
                ("deleted", json!(false)),
            ])?;
            w.finish().map(|_| ())
        })
    })
    .await
    .unwrap();
    let ftf = c.get("/console/api/reports/first-time-fix?from=2000-01-01&to=2100-01-01").await;
    assert_eq!(ftf["rows"], json!([{"group": "li.wei", "repairs": 2, "fixed_first_time": 1, "rate": 0.5}]));
    // Computed afresh from the repairs (not from the kept flags and rollup): the same answer.
    let by_range = s
        .run_db(|db| {
            db.transaction(Mode::Read, |tx| {
                let q = fieldbook_server::console::reports::ReportQuery { from: Some("2000-01-01".into()), to: Some("2100-01-01".into()), ..Default::default() };
                fieldbook_server::console::reports::run_from(tx, "first-time-fix", &q, fieldbook_server::console::reports::Source::Projections)
            })
        })
        .await
        .unwrap();
    assert_eq!(by_range.rows, ftf["rows"].as_array().unwrap().clone());
    // Contracts ending within the window; a bad filter is a clear error.
    let mut doc = common::demo_doc();
    doc.contracts[0].ends_on = today + chrono::Duration::days(10);
    s.import(doc).await.unwrap();
    let exp = c.get("/console/api/reports/expiring-contracts").await;
    assert_eq!(exp["rows"], json!([{
        "contract_id": id("contracts", "HT-2025-017"), "number": "HT-2025-017", "customer_name": "金桥国际商业广场",
        "ends_on": (today + chrono::Duration::days(10)).to_string(), "days_left": 10, "assets": 4,
    }]));
    assert_eq!(c.get("/console/api/reports/expiring-contracts?days=5").await["rows"], json!([]));
    let r = c.req(Method::GET, "/console/api/reports/response?from=2026-13-01").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = c.req(Method::GET, "/console/api/reports/nonsense").send().await.unwrap();
    assert_eq!(r.status(), 404);
    for name in fieldbook_server::console::REPORTS {
        let v = c.get(&format!("/console/api/reports/{name}")).await;
        assert!(v["columns"].as_array().is_some_and(|c| !c.is_empty()), "{name}");
    }
}

async fn lists_and_reports_export_csv(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let tricky = "泵房漏水, \"紧急\"\n第二行";
    let reported = fieldbook_server::store_ts(chrono::Utc::now() - chrono::Duration::minutes(5));
    register(&c, call("S-XH-PLANT", "C-XINGHUA", &reported, tricky)).await;
    // Pages of 2 for JSON, but every row in CSV.
    let total = s.count("SELECT COUNT(*) FROM work_order_index").await;
    let page = c.get("/console/api/work-orders?limit=2").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let mut seen = 2;
    let mut next = page["next"].as_str().map(str::to_owned);
    while let Some(n) = next {
        let p = c.get(&format!("/console/api/work-orders?limit=2&after={n}")).await;
        seen += p["items"].as_array().unwrap().len() as i64;
        next = p["next"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, total, "keyset pages cover every order once");
    let r = c.req(Method::GET, "/console/api/work-orders?format=csv&limit=2").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.starts_with("Number,Kind,Status,"), "{text}");
    let escaped = "\"泵房漏水, \"\"紧急\"\"\n第二行\"";
    assert!(text.contains(escaped), "{text}");
    // Rows: header + every order (one has an embedded line break).
    assert_eq!(text.matches("\r\n").count() as i64, total + 1);
    let zh = c.req(Method::GET, "/console/api/work-orders?format=csv&lang=zh").send().await.unwrap().text().await.unwrap();
    assert!(zh.trim_start_matches('\u{feff}').starts_with("工单号,"), "{zh}");
    // Every list and report answers CSV.
    let mut paths: Vec<String> = ["/console/api/calls", "/console/api/review", "/console/api/audit", "/console/api/conflicts", "/console/api/templates", "/console/api/users", "/console/api/devices"]
        .iter()
        .map(|p| p.to_string())
        .collect();
    paths.extend(fieldbook_server::console::REPORTS.iter().map(|r| format!("/console/api/reports/{r}")));
    for p in paths {
        let r = c.req(Method::GET, &format!("{p}?format=csv")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{p}");
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8", "{p}");
        let b = r.bytes().await.unwrap();
        assert!(b.starts_with(b"\xEF\xBB\xBF") && b.len() > 3, "{p}");
    }
    // A report's JSON holds its first `limit` rows (1,000 by default) and how many there are;
    // its CSV every row.
    let all = c.get("/console/api/reports/response?by=day&from=2000-01-01&to=2100-01-01").await;
    let days = all["rows"].as_array().unwrap().len();
    assert!(days >= 2, "{all}");
    assert_eq!(all["total_rows"], days);
    let first = c.get("/console/api/reports/response?by=day&from=2000-01-01&to=2100-01-01&limit=1").await;
    assert_eq!((first["rows"].as_array().unwrap().len(), first["total_rows"].as_u64()), (1, Some(days as u64)));
    assert_eq!(first["rows"][0], all["rows"][0]);
    let csv = c.req(Method::GET, "/console/api/reports/response?by=day&from=2000-01-01&to=2100-01-01&limit=1&format=csv").send().await.unwrap().text().await.unwrap();
    assert_eq!(csv.matches("\r\n").count(), days + 1, "{csv}");
    let r = c.req(Method::GET, "/console/api/reports/response?limit=0").send().await.unwrap();
    assert_eq!(r.status(), 400);
    // Search by number prefix or customer name.
    let found = c.get("/console/api/work-orders?q=WO-100").await;
    let mut numbers: Vec<&str> = found["items"].as_array().unwrap().iter().map(|o| o["number"].as_str().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, ["WO-1001", "WO-1002", "WO-1003", "WO-1004", "WO-1005", "WO-1006"]);
    let found = c.get("/console/api/work-orders?q=金桥").await;
    assert!(found["items"].as_array().unwrap().iter().all(|o| o["customer_name"] == "金桥国际商业广场"));
    assert!(!found["items"].as_array().unwrap().is_empty());
    let r = c.req(Method::GET, "/console/api/work-orders?format=xml").send().await.unwrap();
    assert_eq!(r.status(), 400);
}

async fn people_and_devices(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let admin = Console::as_role(&s, "admin.zhao", users::Role::Admin).await;
    let _li = Laptop::enroll(&s, "li.wei").await;
    let users = admin.get("/console/api/users").await;
    assert!(users.as_array().unwrap().iter().any(|u| u["login"] == "li.wei" && u["role"] == "technician"));
    let devices = admin.get("/console/api/devices").await;
    assert_eq!(devices.as_array().unwrap().len(), 1);
    assert_eq!(devices[0]["technician"], "li.wei");
    assert!(devices[0]["warning"].is_null());
    // A laptop silent for four days is flagged.
    let old = fieldbook_server::store_ts(chrono::Utc::now() - chrono::Duration::days(4));
    s.run_db(move |db| db.transaction(Mode::Write, |tx| tx.execute("UPDATE devices SET last_seen_at = $1", &[old.into()]))).await.unwrap();
    assert_eq!(admin.get("/console/api/devices").await[0]["warning"], "not_seen_3_days");
    // Office staff with a password; a disabled user's session ends.
    let office = admin.post("/console/api/users", json!({"login": "office.li", "display_name": "李娜", "role": "office", "password": "office-pass-1"})).await;
    assert_eq!(office["role"], "office");
    let mut o = Console::new(&s);
    assert_eq!(o.login("office.li", "office-pass-1").await.status(), 200);
    let r = admin.send(Method::PATCH, "/console/api/users/office.li", json!({"disabled": true})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(o.req(Method::GET, "/console/api/me").send().await.unwrap().status(), 401);
    assert_eq!(o.login("office.li", "office-pass-1").await.status(), 403);
    // An admin cannot lock themselves out; a short password is refused.
    assert_eq!(admin.send(Method::PATCH, "/console/api/users/admin.zhao", json!({"disabled": true})).await.status(), 400);
    assert_eq!(admin.send(Method::POST, "/console/api/users", json!({"login": "x.y", "display_name": "X", "role": "office", "password": "short"})).await.status(), 400);
    assert_eq!(admin.send(Method::POST, "/console/api/users", json!({"login": "Bad Login", "display_name": "X", "role": "technician"})).await.status(), 400);
}

async fn the_web_app_is_served_from_the_binary(b: Backend) {
    let s = TestServer::empty(b).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = client.get(format!("{}/", s.url)).send().await.unwrap();
    assert_eq!(r.status(), 307);
    assert_eq!(r.headers()["location"], "/console/");
    let index = client.get(format!("{}/console/", s.url)).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(index.headers()["cache-control"], "no-cache");
    let html = index.text().await.unwrap();
    if fieldbook_server::console::assets::built() {
        // A built UI: its hashed files are cached for good, with their content types.
        let asset = html.split('"').find(|p| p.starts_with("/console/assets/") && p.ends_with(".js")).expect("index.html loads a script");
        let js = client.get(format!("{}{asset}", s.url)).send().await.unwrap();
        assert_eq!(js.status(), 200);
        assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
        assert_eq!(js.headers()["cache-control"], "public, max-age=31536000, immutable");
    } else {
        assert!(html.contains("npm run build"), "{html}");
    }
    // The app's own routes fall back to index.html; a missing build file is a 404.
    let deep = client.get(format!("{}/console/orders/123", s.url)).send().await.unwrap();
    assert_eq!(deep.status(), 200);
    assert_eq!(deep.text().await.unwrap(), html);
    let missing = client.get(format!("{}/console/assets/nothing-1234.js", s.url)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let api = client.get(format!("{}/console/api/nothing", s.url)).send().await.unwrap();
    assert_eq!(api.status(), 404);
}

/// A database that had records before the console's projections existed gets them filled.
async fn projections_are_rebuilt_from_records(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let tables = "SELECT (SELECT COUNT(*) FROM work_order_index) * 1000000 + (SELECT COUNT(*) FROM reference_index) * 1000 + (SELECT COUNT(*) FROM work_item_index)";
    let before = s.count(tables).await;
    assert!(before >= 5_000_000, "the demo's orders are projected: {before}");
    s.run_db(|db| {
        db.transaction(Mode::Feed, |tx| {
            tx.execute_batch("DELETE FROM work_order_index; DELETE FROM reference_index; DELETE FROM work_item_index")?;
            fieldbook_server::console::index::rebuild(tx)
        })
    })
    .await
    .unwrap();
    assert_eq!(s.count(tables).await, before);
    let c = office(&s).await;
    assert_eq!(c.get(&format!("/console/api/work-orders/{}", id("work_orders", "WO-1002"))).await["order"]["zone"], "suburban");
}
