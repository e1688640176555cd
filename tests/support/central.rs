//! The central server for scenarios: the real `fieldbook-server` library started in-process on
//! loopback, on a fresh SQLite file or a throwaway PostgreSQL database, loaded with the demo
//! company (dispatched for today) and its users.

use fieldbook_core::import::ImportDocument;
use fieldbook_server::db::{Db, Mode};
use fieldbook_server::server::{self, Running};
use fieldbook_server::{enrolment, import, users};
use fieldbook_testkit::{fresh_db, Backend, TestDb};
use std::net::SocketAddr;

pub struct Central {
    pub db: Db,
    pub addr: SocketAddr,
    running: Option<Running>,
    _db: TestDb,
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking task")
}

impl Central {
    /// A server with the demo company dispatched for today and technicians li.wei and zhang.min.
    pub async fn with_demo(backend: Backend) -> Central {
        let test_db = fresh_db(backend);
        let url = test_db.url.clone();
        let db = blocking(move || Db::open(&url)).await.expect("open the server database");
        let running = server::start(db.clone(), "127.0.0.1:0".parse().unwrap(), None).await.expect("start the server");
        let central = Central { db, addr: running.addr, running: Some(running), _db: test_db };
        central
            .db_run(|db| {
                db.transaction(Mode::Write, |tx| {
                    users::add(tx, "li.wei", users::Role::Technician, "李伟", None)?;
                    users::add(tx, "zhang.min", users::Role::Technician, "张敏", None)
                })?;
                let mut doc = ImportDocument::from_json(include_str!("../../demo/fire-protection.json"), "demo").expect("demo parses");
                doc.rebase_to(chrono::Local::now().date_naive());
                db.transaction(Mode::Feed, |tx| import::import(tx, &doc, "demo")).map(|_| ())
            })
            .await
            .expect("load the demo company");
        central
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn db_run<T: Send + 'static>(&self, f: impl FnOnce(&Db) -> T + Send + 'static) -> T {
        let db = self.db.clone();
        blocking(move || f(&db)).await
    }

    pub async fn code_for(&self, technician: &str) -> String {
        let t = technician.to_owned();
        self.db_run(move |db| db.transaction(Mode::Write, |tx| enrolment::issue_code(tx, &t, 1))).await.expect("issue a code")
    }

    /// One integer from a query on the server's database.
    pub async fn count(&self, sql: &str) -> i64 {
        let sql = sql.to_owned();
        self.db_run(move |db| db.transaction(Mode::Read, |tx| tx.query(&sql, &[])?[0].int(0))).await.expect("count query")
    }

    /// Goes offline: the server stops listening (the database stays).
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("stop the server");
        }
    }

    /// Comes back online on the same address.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.running = Some(server::start(self.db.clone(), self.addr, None).await.expect("restart the server"));
    }
}
