//! Test harness: a fresh database per test on either backend, the real server started
//! in-process on 127.0.0.1:0, and a scripted laptop that talks HTTP to it.
//!
//! PostgreSQL: `DATABASE_URL=postgres://…` uses that server (a database is created per test);
//! otherwise a throwaway cluster is started once per test binary from the system binaries
//! (`FIELDBOOK_PG_BIN`, default /usr/lib/postgresql/15/bin), run as the `postgres` OS user when
//! the tests run as root, in a temp dir removed by a watchdog when the test process exits.

#![allow(dead_code)]

use std::collections::HashMap;

use ed25519_dalek::SigningKey;
use fieldbook_core::hlc::{wall_clock_ms, HlcClock};
use fieldbook_core::import::ImportDocument;
use fieldbook_core::signature::{sha256_hex, sign_digest};
use fieldbook_core::sync::protocol::{EnrollRequest, EnrollResponse, FeedChange, PullResponse, PushEntry, PushRequest, PushResponse, PROTOCOL_HEADER, PROTOCOL_VERSION};
use fieldbook_server::db::{Db, Mode};
use fieldbook_server::server::{self, Running};
use fieldbook_server::{enrolment, import, users};
use serde_json::{json, Map, Value};

pub use fieldbook_testkit::{fresh_db, Backend, TestDb};
#[allow(unused_imports)]
pub use fieldbook_testkit::both;

/// Runs blocking database work from a test.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

// ---------------------------------------------------------------------------------------------
// Servers

pub struct TestServer {
    pub url: String,
    pub db: Db,
    pub db_url: String,
    pub client: reqwest::Client,
    running: Option<Running>,
    _db: Option<TestDb>,
}

impl TestServer {
    /// A server on a fresh database with the demo users (no data).
    pub async fn empty(backend: Backend) -> TestServer {
        let test_db = fresh_db(backend);
        let mut s = TestServer::on(&test_db.url).await;
        s._db = Some(test_db);
        s.run_db(|db| {
            db.transaction(Mode::Write, |tx| {
                users::add(tx, "li.wei", users::Role::Technician, "李伟", None)?;
                users::add(tx, "zhang.min", users::Role::Technician, "张敏", None)
            })
        })
        .await
        .unwrap();
        s
    }

    /// A server with the demo users and the demo company imported.
    pub async fn with_demo(backend: Backend) -> TestServer {
        let s = TestServer::empty(backend).await;
        s.import(demo_doc()).await.unwrap();
        s
    }

    /// Another server instance (its own pool) on an existing database.
    pub async fn on(db_url: &str) -> TestServer {
        let url = db_url.to_owned();
        let db = blocking(move || Db::open(&url)).await.expect("open the test database");
        let running = server::start(db.clone(), "127.0.0.1:0".parse().unwrap(), None).await.unwrap();
        TestServer { url: running.url(), db, db_url: db_url.to_owned(), client: reqwest::Client::new(), running: Some(running), _db: None }
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.unwrap();
        }
    }

    pub async fn run_db<T: Send + 'static>(&self, f: impl FnOnce(&Db) -> T + Send + 'static) -> T {
        let db = self.db.clone();
        blocking(move || f(&db)).await
    }

    pub async fn import(&self, doc: ImportDocument) -> fieldbook_server::Result<import::ImportReport> {
        self.run_db(move |db| db.transaction(Mode::Feed, |tx| import::import(tx, &doc, "test.json"))).await
    }

    /// A request with the protocol header.
    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.url)).header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
    }

    pub async fn code_for(&self, technician: &str) -> String {
        let t = technician.to_owned();
        self.run_db(move |db| db.transaction(Mode::Write, |tx| enrolment::issue_code(tx, &t, 1))).await.unwrap()
    }

    /// Adds an office user with a password; returns (login, password).
    pub async fn office_user(&self) -> (String, String) {
        let hash = blocking(|| users::hash_password("office-password")).await.unwrap();
        self.run_db(move |db| db.transaction(Mode::Write, |tx| users::add(tx, "office", users::Role::Office, "Office", Some(&hash)))).await.unwrap();
        ("office".into(), "office-password".into())
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        self.run_db(move |db| db.transaction(Mode::Read, |tx| tx.query(sql, &[])?[0].int(0))).await.unwrap()
    }

    /// A write by the office (as the console's dispatch, return or conflict resolution makes
    /// it): through the feed writer, stamped by the server's clock.
    pub async fn office_write(&self, entity: &'static str, id: &str, fields: Value) {
        let id = id.to_owned();
        self.run_db(move |db| {
            db.transaction(Mode::Feed, |tx| {
                let mut w = fieldbook_server::feed::Writer::begin(tx)?;
                let stamp = w.tick();
                let fields = fields.as_object().unwrap().clone();
                w.apply(&fieldbook_server::feed::Change {
                    entity,
                    id: &id,
                    fields: &fields,
                    stamps: fieldbook_core::sync::merge::Stamps::All(&stamp),
                    base: None,
                    author: None,
                })?;
                w.finish().map(|_| ())
            })
        })
        .await
        .unwrap()
    }

    /// The server's current state of a record (fields only).
    pub async fn record(&self, entity: &'static str, id: &str) -> Option<Map<String, Value>> {
        let id = id.to_owned();
        self.run_db(move |db| db.transaction(Mode::Read, |tx| fieldbook_server::records::load(tx, entity, &id))).await.unwrap().map(|s| s.fields)
    }
}

/// A whole repair record as the laptop writes it, with `extra` fields over the defaults.
pub fn repair_record(order: &str, extra: Value) -> Value {
    let mut r = json!({"work_order_id": order, "asset_id": null, "fault": "泄漏", "cause": "密封老化", "action": "更换机械密封", "parts": [],
                       "labour_minutes": 90, "category": "A", "fee_cents": 0, "fee_collected": false, "taken_to_workshop": false,
                       "receipt_number": null, "recorded_at": "2026-03-02T09:00:00.000Z", "deleted": false});
    r.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    r
}

/// A second customer, served only by zhang.min (WO-9001): what li.wei must never see.
pub fn private_company() -> fieldbook_core::import::ImportDocument {
    fieldbook_core::import::ImportDocument::from_json(
        r#"{"format": "fieldbook-import/1",
            "customers": [{"code": "C-PRIVATE", "name": "私人客户"}],
            "sites": [{"code": "S-PRIVATE", "customer": "C-PRIVATE", "name": "私人现场", "address": "路 9 号", "region": "浦东新区", "zone": "urban"}],
            "assets": [{"code": "A-PRIVATE", "site": "S-PRIVATE", "asset_type": "fire_alarm_panel", "name": "报警主机"}],
            "contracts": [{"number": "HT-PRIVATE", "customer": "C-PRIVATE", "starts_on": "2026-01-01", "ends_on": "2026-12-31", "assets": ["A-PRIVATE"]}],
            "work_orders": [{"number": "WO-9001", "kind": "repair_call", "site": "S-PRIVATE", "technician": "zhang.min", "category": "A",
                             "scheduled_on": "2026-03-02", "reported_at": "2026-03-02T01:00:00Z", "problem": "报警"}]}"#,
        "private.json",
    )
    .unwrap()
}

pub fn demo_doc() -> ImportDocument {
    ImportDocument::from_json(fieldbook_server::demo::DEMO_IMPORT, "demo").unwrap()
}

pub fn id(entity: &str, code: &str) -> String {
    fieldbook_core::import::stable_id(entity, code)
}

// ---------------------------------------------------------------------------------------------
// A scripted laptop

/// A laptop that remembers the stamps it has seen, so its writes carry an honest `base`.
pub struct Laptop {
    pub device_id: String,
    pub key: SigningKey,
    pub token: String,
    pub technician: String,
    pub cursor: i64,
    seq: i64,
    clock: HlcClock,
    /// (entity, id, field) -> stamp this laptop holds.
    pub stamps: HashMap<(String, String, String), String>,
    /// Every change pulled, in order.
    pub pulled: Vec<FeedChange>,
}

impl Laptop {
    pub async fn enroll(server: &TestServer, technician: &str) -> Laptop {
        let code = server.code_for(technician).await;
        let key = SigningKey::from_bytes(&rand::random());
        let device_id = uuid::Uuid::now_v7().to_string();
        let req = EnrollRequest { code, device_id: device_id.clone(), public_key: hex::encode(key.verifying_key().as_bytes()), device_name: Some("test laptop".into()) };
        let resp = server.req(reqwest::Method::POST, "/api/enroll").json(&req).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        let e: EnrollResponse = resp.json().await.unwrap();
        assert_eq!(e.technician, technician);
        Laptop {
            clock: HlcClock::new(device_id.clone(), None),
            device_id,
            key,
            token: e.device_token,
            technician: technician.into(),
            cursor: 0,
            seq: 0,
            stamps: HashMap::new(),
            pulled: Vec::new(),
        }
    }

    pub fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        rb.bearer_auth(&self.token)
    }

    /// A write of `fields` to a record, as the laptop's outbox would hold it.
    pub fn entry(&mut self, entity: &str, record_id: &str, fields: Value) -> PushEntry {
        self.seq += 1;
        let hlc = self.clock.tick(wall_clock_ms()).to_string();
        let fields = fields.as_object().unwrap().clone();
        let mut base = Map::new();
        for f in fields.keys() {
            let key = (entity.to_owned(), record_id.to_owned(), f.clone());
            base.insert(f.clone(), self.stamps.get(&key).map(|s| json!(s)).unwrap_or(Value::Null));
            self.stamps.insert(key, hlc.clone());
        }
        PushEntry { seq: self.seq, entity: entity.into(), record_id: record_id.into(), fields, hlc, base, stamps: None }
    }

    /// A signature record over `content` for an order, made with this laptop's key.
    pub fn signature(&mut self, order_id: &str, revision: i64, content: &str) -> PushEntry {
        let digest = sha256_hex(content.as_bytes());
        let sig = sign_digest(&self.key, &digest);
        let fields = json!({
            "work_order_id": order_id, "revision": revision, "signer_name": "陈经理", "signer_title": null,
            "signed_at": "2026-03-02T08:00:00.000Z", "strokes": [[{"x": 1.0, "y": 2.0, "t": 0}, {"x": 3.0, "y": 4.0, "t": 5}]],
            "signed_content": content, "digest": digest, "device_id": self.device_id.clone(),
            "device_public_key": hex::encode(self.key.verifying_key().as_bytes()), "device_signature": sig, "deleted": false,
        });
        self.entry("signatures", &uuid::Uuid::now_v7().to_string(), fields)
    }

    pub async fn push_raw(&self, server: &TestServer, entries: &[PushEntry]) -> reqwest::Response {
        self.auth(server.req(reqwest::Method::POST, "/api/sync/push")).json(&PushRequest { entries: entries.to_vec() }).send().await.unwrap()
    }

    pub async fn push(&self, server: &TestServer, entries: &[PushEntry]) -> PushResponse {
        let resp = self.push_raw(server, entries).await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        resp.json().await.unwrap()
    }

    pub async fn pull_page(&mut self, server: &TestServer, limit: usize) -> PullResponse {
        let resp = self.auth(server.req(reqwest::Method::GET, &format!("/api/sync/pull?cursor={}&limit={limit}", self.cursor))).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        let page: PullResponse = resp.json().await.unwrap();
        for c in &page.changes {
            for (f, s) in c.stamps() {
                let key = (c.entity.clone(), c.record_id.clone(), f);
                let s = s.as_str().unwrap().to_owned();
                if self.stamps.get(&key).is_none_or(|mine| *mine < s) {
                    self.stamps.insert(key, s);
                }
            }
        }
        if let Ok(h) = page.server_hlc.parse() {
            self.clock.observe(&h, wall_clock_ms());
        }
        self.cursor = page.next_cursor;
        self.pulled.extend(page.changes.iter().cloned());
        page
    }

    /// Pulls until the server says nothing more is waiting; returns what arrived.
    pub async fn pull_all(&mut self, server: &TestServer) -> Vec<FeedChange> {
        let start = self.pulled.len();
        loop {
            if !self.pull_page(server, 1000).await.more {
                break;
            }
        }
        self.pulled[start..].to_vec()
    }
}

/// The error body of a response, asserting its status.
pub async fn error_of(resp: reqwest::Response, status: u16) -> fieldbook_core::sync::protocol::ErrorDetail {
    assert_eq!(resp.status().as_u16(), status, "unexpected status");
    let body: fieldbook_core::sync::protocol::ErrorBody = resp.json().await.expect("an ErrorBody");
    body.error
}

// ---------------------------------------------------------------------------------------------
// Signed content

/// The signer block that [`Laptop::signature`] rows show.
pub fn test_signer() -> Value {
    let strokes = json!([[{"x": 1.0, "y": 2.0, "t": 0}, {"x": 3.0, "y": 4.0, "t": 5}]]);
    fieldbook_core::signed_record::signer_block("陈经理", None, "2026-03-02T08:00:00.000Z", &strokes)
}

/// The comparable signed content of an order's records as the server holds them now.
pub async fn records_now(s: &TestServer, order_id: &str) -> Value {
    use fieldbook_server::records;
    let id = order_id.to_owned();
    s.run_db(move |db| {
        db.transaction(Mode::Read, |tx| {
            let order = records::load(tx, "work_orders", &id)?.expect("the order exists").fields;
            let children = |tx: &mut dyn fieldbook_server::db::Tx, entity| -> fieldbook_server::Result<Vec<(String, Map<String, Value>)>> {
                Ok(records::by_owner(tx, entity, &id)?.into_iter().map(|(id, s)| (id, s.fields)).collect())
            };
            let answers = children(tx, "inspection_answers")?;
            let repairs = children(tx, "repair_records")?;
            let template = match records::text_of(&order, "template_id") {
                Some(t) => records::load(tx, "checklist_templates", t)?.map(|s| s.fields),
                None => None,
            };
            Ok(fieldbook_server::signed::live_content(&id, &order, &answers, &repairs, template.as_ref()))
        })
    })
    .await
    .unwrap()
}

/// What a laptop would sign for an order as the server holds it now, with the signer of
/// [`Laptop::signature`]: pass it to that to make a signature the server accepts.
pub async fn signable(s: &TestServer, order_id: &str) -> String {
    let mut content = records_now(s, order_id).await;
    content["signer"] = test_signer();
    fieldbook_core::signature::canonical_json(&content)
}

// ---------------------------------------------------------------------------------------------
// The office console, as a browser uses it

/// A console session: the cookie it was given and the header every change carries.
pub struct Console {
    pub url: String,
    pub client: reqwest::Client,
    pub cookie: Option<String>,
}

impl Console {
    pub fn new(s: &TestServer) -> Console {
        Console { url: s.url.clone(), client: reqwest::Client::new(), cookie: None }
    }

    pub async fn add_user(s: &TestServer, login: &str, role: users::Role, password: &str) {
        let p = password.to_owned();
        let hash = blocking(move || users::hash_password(&p)).await.unwrap();
        let l = login.to_owned();
        s.run_db(move |db| db.transaction(Mode::Write, |tx| users::add(tx, &l, role, "Console user", Some(&hash)))).await.unwrap();
    }

    pub async fn as_role(s: &TestServer, login: &str, role: users::Role) -> Console {
        Console::add_user(s, login, role, "console-password").await;
        let mut c = Console::new(s);
        let r = c.login(login, "console-password").await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        c
    }

    pub async fn login(&mut self, login: &str, password: &str) -> reqwest::Response {
        let r = self.client.post(format!("{}/console/api/login", self.url)).json(&json!({"login": login, "password": password})).send().await.unwrap();
        if let Some(c) = r.headers().get("set-cookie") {
            self.cookie = Some(c.to_str().unwrap().split(';').next().unwrap().to_owned());
        }
        r
    }

    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self.client.request(method.clone(), format!("{}{path}", self.url));
        if method != reqwest::Method::GET {
            rb = rb.header("X-Fieldbook-Console", "1");
        }
        if let Some(c) = &self.cookie {
            rb = rb.header("Cookie", c);
        }
        rb
    }

    pub async fn get(&self, path: &str) -> Value {
        let r = self.req(reqwest::Method::GET, path).send().await.unwrap();
        assert_eq!(r.status(), 200, "GET {path}: {}", r.text().await.unwrap());
        r.json().await.unwrap()
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
        self.req(method, path).json(&body).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let r = self.send(reqwest::Method::POST, path, body).await;
        assert!(r.status().is_success(), "POST {path}: {} {}", r.status(), r.text().await.unwrap());
        r.json().await.unwrap()
    }

    pub async fn logout(&mut self) {
        let r = self.req(reqwest::Method::POST, "/console/api/logout").send().await.unwrap();
        assert_eq!(r.status(), 204);
        self.cookie = None;
    }
}

// ---------------------------------------------------------------------------------------------
// A real laptop store over HTTP

/// Enrols a real laptop store (encrypted with a fixed test key) for a technician and pulls;
/// answers (store, device token).
pub async fn laptop_store(s: &TestServer, dir: &std::path::Path, technician: &str) -> (fieldbook_core::Store, String) {
    let mut store = fieldbook_core::Store::open(&dir.join(format!("{technician}.db")), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    let code = s.code_for(technician).await;
    let req = fieldbook_core::sync::protocol::EnrollRequest {
        code,
        device_id: store.device().id.clone(),
        public_key: store.device().public_key_hex(),
        device_name: Some("ThinkPad".into()),
    };
    let enrolled: fieldbook_core::sync::protocol::EnrollResponse = s.req(reqwest::Method::POST, "/api/enroll").json(&req).send().await.unwrap().json().await.unwrap();
    store.set_enrolment(&s.url, &enrolled.device_token, &enrolled.technician).unwrap();
    pull_into(s, &enrolled.device_token, &mut store).await;
    (store, enrolled.device_token)
}

/// Pulls everything waiting into a laptop store.
pub async fn pull_into(s: &TestServer, token: &str, store: &mut fieldbook_core::Store) {
    loop {
        let cursor = store.pull_cursor().unwrap();
        let page: fieldbook_core::sync::protocol::PullResponse = s.req(reqwest::Method::GET, &format!("/api/sync/pull?cursor={cursor}&limit=500")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        store.apply_pull(&page).unwrap();
        if !page.more {
            break;
        }
    }
}

/// Pushes a laptop store's outbox; every entry must be accepted.
pub async fn push_from(s: &TestServer, token: &str, store: &mut fieldbook_core::Store) {
    let entries = store.pending_push(1000).unwrap();
    let resp: fieldbook_core::sync::protocol::PushResponse =
        s.req(reqwest::Method::POST, "/api/sync/push").bearer_auth(token).json(&fieldbook_core::sync::protocol::PushRequest { entries }).send().await.unwrap().json().await.unwrap();
    assert!(resp.rejected.is_empty(), "{:?}", resp.rejected);
    store.acknowledge(&resp).unwrap();
}
