//! The server's answers to hostile or careless input outside the push policy (issue #10): text a
//! laptop sends that the console's projections read, login throttling, search limits, CSV cells,
//! security headers, session lifetime, enrolment ids. On SQLite and PostgreSQL.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{both, id, Backend, Console, Laptop, TestServer};
use fieldbook_core::sync::protocol::{EnrollRequest, PROTOCOL_HEADER, PROTOCOL_VERSION};
use fieldbook_server::db::{Db, Mode};
use fieldbook_server::login::{Limits, Logins};
use fieldbook_server::security::{Options, PublicUrl};
use fieldbook_server::server::{self, Running};
use fieldbook_server::users;
use serde_json::{json, Value};

both!(
    a_non_ascii_timestamp_from_a_laptop_fails_no_one,
    failed_logins_are_throttled_per_account_and_per_address,
    unknown_logins_cost_the_same_argon2_and_failures_are_audited,
    search_text_is_capped_and_overlong_addresses_answer_json,
    console_answers_carry_security_headers,
    behind_an_https_proxy_cookies_are_secure_and_hsts_is_sent,
    sessions_end_a_lifetime_after_login,
    enrolment_refuses_reserved_device_ids,
    csv_cells_that_would_be_formulas_are_neutralised,
);

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

/// A server with its own options, on a fresh database with the demo data.
struct Served {
    s: TestServer,
    logins: Arc<Logins>,
    /// Serving until the test ends (the harness's own server runs beside it, unused).
    _running: Running,
}

async fn served(b: Backend, public_url: Option<&str>) -> Served {
    // Delays long enough that no test outruns them; few free failures.
    let logins = Arc::new(Logins::new(Limits { account_free: 3, address_free: 6, first_delay: Duration::from_secs(60), ..Limits::default() }));
    let mut s = TestServer::with_demo(b).await;
    let options = Options { public_url: public_url.map(|u| PublicUrl::parse(u).unwrap()), logins: logins.clone(), ..Options::default() };
    let running: Running = server::start_with(s.db.clone(), "127.0.0.1:0".parse().unwrap(), None, options).await.unwrap();
    s.url = running.url();
    Served { s, logins, _running: running }
}

async fn error_json(r: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = r.status().as_u16();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(ct.starts_with("application/json"), "status {status}: content type '{ct}'");
    (status, retry, r.json().await.unwrap())
}

/// A GET over raw TCP, for addresses no client library sends; the whole answer as text.
async fn raw_get(base: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{PROTOCOL_HEADER}: {PROTOCOL_VERSION}\r\nConnection: close\r\n\r\n");
    // hyper may answer and close before reading all of it.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn basic(login: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}")))
}

/// An office download by HTTP Basic (any attachment path: authentication comes first).
async fn basic_get(s: &TestServer, login: &str, password: &str, from: &str) -> reqwest::Response {
    s.req(reqwest::Method::GET, &format!("/api/attachments/{}", "a".repeat(64)))
        .header("Authorization", basic(login, password))
        .header("X-Forwarded-For", from)
        .send()
        .await
        .unwrap()
}

/// Finding 7: the N-th wrong password gets 429 with Retry-After and a JSON body, per account
/// (whatever the address) and per address (whatever the account); HTTP Basic alike.
async fn failed_logins_are_throttled_per_account_and_per_address(b: Backend) {
    let served = served(b, None).await;
    let (s, logins) = (&served.s, &served.logins);
    Console::add_user(s, "office.wang", users::Role::Office, "right-password").await;
    Console::add_user(s, "office.li", users::Role::Office, "right-password").await;
    let mut c = Console::new(s);
    for _ in 0..3 {
        assert_eq!(c.login("office.wang", "wrong-password").await.status(), 401);
    }
    // The fourth attempt waits, even with the right password, and costs no Argon2.
    let before = logins.verifications();
    let (status, retry, body) = error_json(c.login("office.wang", "right-password").await).await;
    assert_eq!(status, 429, "{body}");
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(body["error"]["kind"], "throttled");
    assert!(body["error"]["message"].as_str().unwrap().contains("wait"), "{body}");
    assert_eq!(logins.verifications(), before, "a throttled attempt checks no password");
    assert!(c.cookie.is_none());
    // The account waits from any address (the peer is loopback: a local proxy's X-Forwarded-For counts).
    let r = c.client.post(format!("{}/console/api/login", s.url)).header("X-Forwarded-For", "203.0.113.9").json(&json!({"login": "office.wang", "password": "right-password"})).send().await.unwrap();
    assert_eq!(r.status(), 429);
    // HTTP Basic counts the same account.
    assert_eq!(basic_get(s, "office.wang", "right-password", "198.51.100.1").await.status(), 429);
    // The address has 3 failures of its 6 free: three more on other logins, then it waits.
    for login in ["nobody.1", "nobody.2", "nobody.3"] {
        assert_eq!(c.login(login, "wrong-password").await.status(), 401);
    }
    let (status, retry, body) = error_json(c.login("office.li", "right-password").await).await;
    assert_eq!((status, body["error"]["kind"].as_str()), (429, Some("throttled")), "{body}");
    assert!(retry.is_some());
    // Another address, another account: not held up.
    assert_eq!(basic_get(s, "office.li", "right-password", "192.0.2.7").await.status(), 404, "a right password from elsewhere");
    // Basic: three wrong from one address, then 429 with Retry-After and JSON.
    for _ in 0..3 {
        assert_eq!(basic_get(s, "office.li", "wrong-password", "192.0.2.8").await.status(), 401);
    }
    let (status, retry, body) = error_json(basic_get(s, "office.li", "right-password", "192.0.2.9").await).await;
    assert_eq!((status, body["error"]["kind"].as_str()), (429, Some("throttled")), "{body}");
    assert!(retry.is_some());
}

/// Finding 7: an unknown login (or one without a password) costs one Argon2 check like a real
/// one, so timing does not tell which logins exist; failures are in the audit trail.
async fn unknown_logins_cost_the_same_argon2_and_failures_are_audited(b: Backend) {
    let served = served(b, None).await;
    let (s, logins) = (&served.s, &served.logins);
    Console::add_user(s, "office.wang", users::Role::Office, "right-password").await;
    let mut c = Console::new(s);
    for (login, password) in [("office.wang", "wrong-password"), ("no.such.user", "wrong-password"), ("li.wei", "any-password"), ("Not A Login!", "x")] {
        let before = logins.verifications();
        let (status, _, body) = error_json(c.login(login, password).await).await;
        assert_eq!(status, 401, "{login}: {body}");
        assert_eq!(body["error"]["message"], "wrong login or password");
        assert_eq!(logins.verifications(), before + 1, "{login}: one Argon2 check");
    }
    let before = logins.verifications();
    assert_eq!(basic_get(s, "nobody.basic", "wrong-password", "192.0.2.1").await.status(), 401);
    assert_eq!(logins.verifications(), before + 1, "Basic: one Argon2 check");
    // The audit trail has each failure, with the address and the way in.
    let admin = Console::as_role(s, "admin.zhao", users::Role::Admin).await;
    let audit = admin.get("/console/api/audit?limit=50").await;
    let failed: Vec<&Value> = audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "login_failed").collect();
    assert_eq!(failed.len(), 5, "{audit}");
    let of = |login: &str| failed.iter().find(|e| e["detail"]["login"] == login).copied().unwrap_or_else(|| panic!("no login_failed for {login}: {audit}"));
    let wang = of("office.wang");
    assert_eq!((wang["actor"].as_str(), wang["detail"]["via"].as_str(), wang["detail"]["known"].as_bool()), (Some("office.wang"), Some("console"), Some(true)));
    assert_eq!(wang["detail"]["address"], "127.0.0.1");
    assert_eq!(of("no.such.user")["detail"]["known"], false);
    assert_eq!(of("Not A Login!")["actor"], "-", "text that cannot be a login is not shown as one");
    let b = of("nobody.basic");
    assert_eq!((b["detail"]["via"].as_str(), b["detail"]["address"].as_str()), (Some("basic"), Some("192.0.2.1")));
}

/// Finding 14: a 50,000-character search answered 500 ("LIKE or GLOB pattern too complex"); a
/// 100,000-character query string 414 with no body.
async fn search_text_is_capped_and_overlong_addresses_answer_json(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = Console::as_role(&s, "office.wang", users::Role::Office).await;
    for path in ["/console/api/customers", "/console/api/work-orders"] {
        let (status, _, body) = error_json(c.req(reqwest::Method::GET, &format!("{path}?q={}", "a".repeat(50_000))).send().await.unwrap()).await;
        assert_eq!((status, body["error"]["kind"].as_str()), (400, Some("invalid")), "{path}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("at most 200 characters") && message.contains("50000"), "{message}");
        // At the limit, a search.
        let r = c.req(reqwest::Method::GET, &format!("{path}?q={}", "中".repeat(200))).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        // A NUL (PostgreSQL refuses it in text) is a 400, not a 500.
        let r = c.req(reqwest::Method::GET, &format!("{path}?q=a%00b")).send().await.unwrap();
        assert_eq!(r.status(), 400, "{path}");
    }
    // The same in any other filter or text the database refuses: a 400 saying what to remove.
    for path in ["/console/api/work-orders?technician=a%00b", "/console/api/work-orders?customer=a%00b", "/console/api/work-orders?region=a%00b"] {
        let (status, _, body) = error_json(c.req(reqwest::Method::GET, path).send().await.unwrap()).await;
        assert!(status == 400 || status == 200, "{path}: {status} {body}");
        if status == 400 {
            assert!(body["error"]["message"].as_str().unwrap().contains("NUL"), "{path}: {body}");
        }
    }
    assert_eq!(c.get("/console/api/customers?q=jinqiao").await.as_array().map(Vec::len), Some(1));
    // A date past chrono's range panicked when a day was added to it.
    for path in ["/console/api/work-orders?to=%2B262142-12-31", "/console/api/reports/response?to=%2B262142-12-31", "/console/api/work-orders?from=2026-3-1"] {
        let (status, _, body) = error_json(c.req(reqwest::Method::GET, path).send().await.unwrap()).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("YYYY-MM-DD"), "{body}");
    }
    // An address hyper itself refuses (over 64 KiB) answers the same JSON error body, on the
    // console and on the sync API. (No HTTP client library sends such an address: raw TCP.)
    for path in ["/console/api/customers", "/api/status"] {
        let head = raw_get(&s.url, &format!("{path}?q={}", "a".repeat(100_000))).await;
        let (head, body) = head.split_once("\r\n\r\n").unwrap_or_else(|| panic!("{path}: no head in {head:.300}"));
        assert!(head.starts_with("HTTP/1.1 414 "), "{path}: {head}");
        assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{path}: {head}");
        let body: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body:.300}"));
        assert_eq!(body["error"]["kind"], "too_large", "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("query string"), "{body}");
    }
    // The server still answers afterwards.
    assert_eq!(c.get("/console/api/me").await["login"], "office.wang");
}

/// CSP (with frame-ancestors 'none'), X-Frame-Options, Referrer-Policy and nosniff on the
/// console's API and web app; no HSTS on plain HTTP without an https:// public URL.
async fn console_answers_carry_security_headers(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let client = reqwest::Client::new();
    for path in ["/console/", "/console/orders", "/console/api/me", "/console/api/nothing-here"] {
        let r = client.get(format!("{}{path}", s.url)).send().await.unwrap();
        let h = r.headers();
        let csp = h.get("content-security-policy").unwrap_or_else(|| panic!("{path}: no CSP")).to_str().unwrap();
        for directive in ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"] {
            assert!(csp.contains(directive), "{path}: CSP '{csp}' lacks {directive}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.get("strict-transport-security").is_none(), "{path}: HSTS over plain HTTP");
    }
    let login = Console::as_role(&s, "office.wang", users::Role::Office).await;
    let r = login.req(reqwest::Method::GET, "/console/api/me").send().await.unwrap();
    assert!(r.headers().get("content-security-policy").is_some());
    // A plain HTTP session cookie cannot be Secure (the browser would never send it back).
    let mut c = Console::new(&s);
    let r = c.login("office.wang", "console-password").await;
    assert!(!r.headers()["set-cookie"].to_str().unwrap().contains("Secure"));
}

/// Behind a TLS-terminating proxy (`--public-url https://…`) the session cookie is Secure and
/// HSTS is sent; an http:// public URL changes neither.
async fn behind_an_https_proxy_cookies_are_secure_and_hsts_is_sent(b: Backend) {
    let https = served(b, Some("https://fieldbook.example.com/")).await;
    let s = &https.s;
    Console::add_user(s, "office.wang", users::Role::Office, "console-password").await;
    let mut c = Console::new(s);
    let r = c.login("office.wang", "console-password").await;
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.ends_with("; Secure"), "{cookie}");
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    let r = s.req(reqwest::Method::GET, "/api/status").send().await.unwrap();
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    let http = served(b, Some("http://10.0.0.5:8780")).await;
    let s = &http.s;
    Console::add_user(s, "office.wang", users::Role::Office, "console-password").await;
    let mut c = Console::new(s);
    let r = c.login("office.wang", "console-password").await;
    assert!(!r.headers()["set-cookie"].to_str().unwrap().contains("Secure"));
    assert!(r.headers().get("strict-transport-security").is_none());
}

/// A session ends 12 hours after login however busy it was (a copied cookie ignores Max-Age).
async fn sessions_end_a_lifetime_after_login(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = Console::as_role(&s, "office.wang", users::Role::Office).await;
    let r = c.req(reqwest::Method::GET, "/console/api/me").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let old = fieldbook_server::store_ts(chrono::Utc::now() - chrono::Duration::hours(13));
    let fresh = fieldbook_server::now_text();
    s.run_db(move |db: &Db| db.transaction(Mode::Write, |tx| tx.execute("UPDATE console_sessions SET created_at = $1, last_seen_at = $2", &[old.into(), fresh.into()]))).await.unwrap();
    let (status, _, body) = error_json(c.req(reqwest::Method::GET, "/console/api/me").send().await.unwrap()).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("12 h after logging in"), "{body}");
}

/// The server's own stamps end in `server`: no laptop may enrol as it.
async fn enrolment_refuses_reserved_device_ids(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let code = s.code_for("li.wei").await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let enrol = |device_id: &str| EnrollRequest { code: code.clone(), device_id: device_id.into(), public_key: hex::encode(key.verifying_key().as_bytes()), device_name: None };
    for (device_id, says) in [("server", "reserved"), ("Server", "reserved"), ("..", "starting with a letter or digit"), ("-x", "starting with a letter or digit")] {
        let (status, _, body) = error_json(s.req(reqwest::Method::POST, "/api/enroll").json(&enrol(device_id)).send().await.unwrap()).await;
        assert_eq!(status, 400, "{device_id}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(says), "{device_id}: {body}");
    }
    // The code was not used up by the refusals.
    let r = s.req(reqwest::Method::POST, "/api/enroll").json(&enrol("0196a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// Text that a spreadsheet would run (`=`, `+`, `-`, `@` first) is exported with a leading `'`.
async fn csv_cells_that_would_be_formulas_are_neutralised(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = Console::as_role(&s, "office.wang", users::Role::Office).await;
    let problem = "=HYPERLINK(\"http://attacker.example/\",\"open\")";
    let call = json!({"channel": "phone", "call_type": "repair", "caller_name": "陈经理", "caller_phone": "021 5030 1234", "customer_id": id("customers", "C-JINQIAO"), "site_id": id("sites", "S-JQ-MALL"), "asset_ids": [], "problem": problem,
        "reported_at": fieldbook_server::now_text(), "priority": "high"});
    let r = c.req(reqwest::Method::POST, "/console/api/calls").json(&call).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let csv = c.req(reqwest::Method::GET, "/console/api/work-orders?format=csv").send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://attacker.example/\"\",\"\"open\"\")\""), "{csv}");
    assert!(!csv.contains(",\"=HYPERLINK") && !csv.contains(",=HYPERLINK"), "{csv}");
}

/// PostgreSQL over TLS when the URL asks for it (`sslmode=require`, `verify-ca`,
/// `verify-full` with `sslrootcert`): the test cluster is given a certificate and TLS is turned
/// on at run time; `pg_stat_ssl` says whether a connection of the server's pool is encrypted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_when_the_url_asks_for_it() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let url = common::fresh_db(Backend::Postgres).url;
    // A CA and a server certificate for localhost / 127.0.0.1 signed by it; another CA.
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.clone().self_signed(&ca_key).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap().signed_by(&server_key, &ca, &ca_key).unwrap();
    let other_key = KeyPair::generate().unwrap();
    let other_ca = ca_params.self_signed(&other_key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (ca_file, other_file) = (dir.path().join("ca.pem"), dir.path().join("other-ca.pem"));
    std::fs::write(&ca_file, ca.pem()).unwrap();
    std::fs::write(&other_file, other_ca.pem()).unwrap();
    // The database server writes the files itself (it runs as another OS user), then reloads.
    let (admin, cert_pem, key_pem) = (url.clone(), server_cert.pem(), server_key.serialize_pem());
    common::blocking(move || {
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        let data: String = c.query_one("SHOW data_directory", &[]).unwrap().get(0);
        let write = |c: &mut postgres::Client, name: &str, pem: &str| {
            let lines: Vec<String> = pem.lines().map(|l| format!("'{l}'")).collect();
            c.batch_execute(&format!("COPY (SELECT unnest(ARRAY[{}])) TO '{data}/{name}'", lines.join(", "))).unwrap();
        };
        write(&mut c, "fb_test_server.crt", &cert_pem);
        write(&mut c, "fb_test_server.key", &key_pem);
        // PostgreSQL refuses a key others may read; COPY made it 0644. (The tests run as root
        // or as the cluster's owner: either may change it.)
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(std::path::Path::new(&data).join("fb_test_server.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
        for sql in ["ALTER SYSTEM SET ssl_cert_file = 'fb_test_server.crt'", "ALTER SYSTEM SET ssl_key_file = 'fb_test_server.key'", "ALTER SYSTEM SET ssl = on", "SELECT pg_reload_conf()"] {
            c.batch_execute(sql).unwrap();
        }
    })
    .await;
    let with = |params: &str| if url.contains('?') { format!("{url}&{params}") } else { format!("{url}?{params}") };
    let encrypted = |db_url: String| async move {
        common::blocking(move || {
            let db = Db::open(&db_url).map_err(|e| e.to_string())?;
            db.transaction(Mode::Read, |tx| tx.query_one("SELECT CASE WHEN ssl THEN 1 ELSE 0 END FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])?.int(0))
                .map_err(|e| e.to_string())
        })
        .await
    };
    // The reload takes effect for new connections at once; give it a moment.
    let mut required = Err(String::new());
    for _ in 0..50 {
        required = encrypted(with("sslmode=require")).await;
        if required == Ok(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(required, Ok(1), "sslmode=require");
    assert_eq!(encrypted(with("sslmode=prefer")).await, Ok(1), "sslmode=prefer");
    assert_eq!(encrypted(with(&format!("sslmode=verify-full&sslrootcert={}", ca_file.display()))).await, Ok(1), "verify-full");
    assert_eq!(encrypted(with(&format!("sslmode=verify-ca&sslrootcert={}", ca_file.display()))).await, Ok(1), "verify-ca");
    // As before: no sslmode (or disable) is plain.
    assert_eq!(encrypted(url.clone()).await, Ok(0), "no sslmode");
    assert_eq!(encrypted(with("sslmode=disable")).await, Ok(0), "disable");
    // A certificate from another CA is refused, and the message says why.
    let refused = encrypted(with(&format!("sslmode=verify-full&sslrootcert={}", other_file.display()))).await.unwrap_err();
    assert!(refused.to_lowercase().contains("certificate"), "{refused}");
    let refused = encrypted(with("sslmode=verify-full")).await.unwrap_err();
    assert!(refused.contains("sslrootcert="), "{refused}");
}

// ---------------------------------------------------------------------------------------------
// An office browser


