//! The server's answers to hostile or careless input outside the push policy (issue #10): text a
//! laptop sends that the console's projections read, login throttling, search limits, CSV cells,
//! security headers, session lifetime, enrolment ids. On SQLite and PostgreSQL.

mod common;

use common::{both, id, Backend, Laptop, TestServer};
use fieldbook_server::db::Mode;
use fieldbook_server::users;
use serde_json::{json, Value};

both!(a_non_ascii_timestamp_from_a_laptop_fails_no_one);

/// The id of an answer to an item without an asset (as `fieldbook_core::store::orders::answer_id`).
fn answer_id(order_id: &str, item_key: &str) -> String {
    const NS: uuid::Uuid = uuid::Uuid::from_u128(0x6669_656c_6462_6f6f_6b2d_616e_7377_6572);
    uuid::Uuid::new_v5(&NS, format!("{order_id}/{item_key}/").as_bytes()).to_string()
}

/// Finding 6: `"2026-03-0中"` in `rated_at`/`recorded_at`/`answered_at` panicked the console's
/// projection (`&s[..10]` inside a character), and with it every push grouped with that one.
async fn a_non_ascii_timestamp_from_a_laptop_fails_no_one(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let mut zhang = Laptop::enroll(&s, "zhang.min").await;
    let bad = "2026-03-0中";
    let (repair_order, patrol, zhang_order) = (id("work_orders", "WO-1002"), id("work_orders", "WO-1001"), id("work_orders", "WO-1004"));
    for round in 0..4 {
        let bad_entries = [
            li.entry("satisfaction_cards", &format!("sc-{round}"), json!({
                "work_order_id": repair_order, "attitude": 5, "skill": 5, "arrival": 5, "promise": 5, "comment": "", "rated_at": bad, "deleted": false,
            })),
            li.entry("repair_records", &format!("rr-{round}"), json!({
                "work_order_id": repair_order, "asset_id": id("assets", "XH-PUMP-01"), "fault": "漏水", "cause": "密封", "action": "更换",
                "labour_minutes": 5, "category": "A", "recorded_at": bad, "deleted": false,
            })),
            li.entry("inspection_answers", &answer_id(&patrol, "site.exits"), json!({
                "work_order_id": patrol, "item_key": "site.exits", "asset_id": "", "value": "fail", "note": "", "answered_at": bad, "deleted": false,
            })),
        ];
        let good = zhang.entry("repair_records", &format!("rr-zhang-{round}"), json!({
            "work_order_id": zhang_order, "asset_id": id("assets", "JQ-FACP-01"), "fault": "故障", "cause": "线路", "action": "修复",
            "labour_minutes": 30, "category": "A", "recorded_at": "2026-03-02T09:00:00.000Z", "deleted": false,
        }));
        // Each bad entry in its own push, all sent at the same moment as the other laptop's, so
        // that the push writer groups them into one transaction.
        let (r1, r2, r3, r4, r5) = tokio::join!(
            li.push_raw(&s, &bad_entries[..1]),
            zhang.push_raw(&s, std::slice::from_ref(&good)),
            li.push_raw(&s, &bad_entries[1..2]),
            zhang.push_raw(&s, std::slice::from_ref(&good)),
            li.push_raw(&s, &bad_entries[2..]),
        );
        for (who, r) in [("li.wei", r1), ("zhang.min", r2), ("li.wei", r3), ("zhang.min", r4), ("li.wei", r5)] {
            let status = r.status();
            let body = r.text().await.unwrap();
            assert!(status.as_u16() < 500, "round {round}: {who}'s push answered {status}: {body}");
            if who == "zhang.min" {
                assert_eq!(status, 200, "round {round}: the other laptop's push failed: {body}");
            }
        }
    }
    // The other laptop's repair is in, and the console's reports still answer.
    assert!(s.record("repair_records", "rr-zhang-0").await.is_some());
    let mut c = Console::as_role(&s, "office.wang", users::Role::Office).await;
    for report in ["satisfaction", "fault-prone-assets", "frequent-findings"] {
        let r = c.get(&format!("/console/api/reports/{report}?from=2026-01-01&to=2026-12-31")).await;
        assert!(r["rows"].is_array(), "{report}: {r}");
    }
    // No day was made of the bad text.
    let bad_days = s.count("SELECT COUNT(*) FROM work_item_index WHERE work_date LIKE '%中%'").await;
    assert_eq!(bad_days, 0);
    c.logout().await;
}

// ---------------------------------------------------------------------------------------------
// An office browser

struct Console {
    url: String,
    client: reqwest::Client,
    cookie: Option<String>,
}

impl Console {
    fn new(s: &TestServer) -> Console {
        Console { url: s.url.clone(), client: reqwest::Client::new(), cookie: None }
    }

    async fn add_user(s: &TestServer, login: &str, role: users::Role, password: &str) {
        let p = password.to_owned();
        let hash = common::blocking(move || users::hash_password(&p)).await.unwrap();
        let l = login.to_owned();
        s.run_db(move |db| db.transaction(Mode::Write, |tx| users::add(tx, &l, role, "Console user", Some(&hash)))).await.unwrap();
    }

    async fn as_role(s: &TestServer, login: &str, role: users::Role) -> Console {
        Console::add_user(s, login, role, "console-password").await;
        let mut c = Console::new(s);
        let r = c.login(login, "console-password").await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        c
    }

    async fn login(&mut self, login: &str, password: &str) -> reqwest::Response {
        let r = self.client.post(format!("{}/console/api/login", self.url)).json(&json!({"login": login, "password": password})).send().await.unwrap();
        if let Some(c) = r.headers().get("set-cookie") {
            self.cookie = Some(c.to_str().unwrap().split(';').next().unwrap().to_owned());
        }
        r
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self.client.request(method.clone(), format!("{}{path}", self.url));
        if method != reqwest::Method::GET {
            rb = rb.header("X-Fieldbook-Console", "1");
        }
        if let Some(c) = &self.cookie {
            rb = rb.header("Cookie", c);
        }
        rb
    }

    async fn get(&self, path: &str) -> Value {
        let r = self.req(reqwest::Method::GET, path).send().await.unwrap();
        assert_eq!(r.status(), 200, "GET {path}: {}", r.text().await.unwrap());
        r.json().await.unwrap()
    }

    async fn logout(&mut self) {
        let r = self.req(reqwest::Method::POST, "/console/api/logout").send().await.unwrap();
        assert_eq!(r.status(), 204);
        self.cookie = None;
    }
}
