//! The central server for scenarios: the real `fieldbook-server` library started in-process on
//! loopback, on a fresh SQLite file or a throwaway PostgreSQL database, loaded with the demo
//! company (dispatched for today) and its users.

use fieldbook_core::import::ImportDocument;
use fieldbook_server::db::{Db, Mode};
use fieldbook_server::server::{self, Running};
use fieldbook_server::{enrolment, import, users};
use fieldbook_testkit::{fresh_db, Backend, TestDb};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

pub struct Central {
    pub db: Db,
    pub addr: SocketAddr,
    running: Option<Running>,
    _db: TestDb,
    backend: Backend,
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
        let central = Central { db, addr: running.addr, running: Some(running), _db: test_db, backend };
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

    /// The database's URL (`sqlite:PATH` or `postgres://…`).
    pub fn database_url(&self) -> String {
        self._db.url.clone()
    }

    /// A backup taken as the admin takes it, while the server runs: `fieldbook-server backup`
    /// for SQLite, `pg_dump -Fc` for PostgreSQL.
    pub async fn backup(&self, to: &Path) {
        let (url, to, backend) = (self.database_url(), to.to_owned(), self.backend);
        blocking(move || match backend {
            Backend::Sqlite => run(Command::new(crate::bin("fieldbook-server")).args(["--database", &url, "backup"]).arg(&to)),
            Backend::Postgres => run(Command::new(fieldbook_testkit::postgres_bin().join("pg_dump")).args(["-Fc", "--file"]).arg(&to).arg(&url)),
        })
        .await;
    }

    /// The admin's restore of a backup: the server stopped, the backup put in place of its
    /// database (`fieldbook-server restore` for SQLite; `pg_restore` into a new database, then
    /// `fieldbook-server epoch new`, for PostgreSQL), the server started again on the same
    /// address. Returns what the restore command printed.
    pub async fn restore(&mut self, from: &Path) -> String {
        self.restore_with(from, true).await
    }

    /// A restore nobody announced: the backup put back by hand (the SQLite file copied over
    /// the database; `pg_restore` without `epoch new`), so the database keeps the backup's epoch.
    pub async fn restore_unannounced(&mut self, from: &Path) {
        self.restore_with(from, false).await;
    }

    async fn restore_with(&mut self, from: &Path, announce: bool) -> String {
        self.stop().await;
        let from = from.to_owned();
        match self.backend {
            Backend::Sqlite => {
                let url = self.database_url();
                // Every connection to the database closes with its last `Db`: in its place, a
                // throwaway one until the restore is done.
                let placeholder_dir = tempfile::tempdir().expect("temp dir");
                let placeholder = format!("sqlite:{}", placeholder_dir.path().join("placeholder.db").display());
                let placeholder = blocking(move || Db::open(&placeholder)).await.expect("open a placeholder database");
                drop(std::mem::replace(&mut self.db, placeholder));
                if !announce {
                    let path = url.strip_prefix("sqlite:").unwrap_or(&url).to_owned();
                    // Once the push writer's thread has let go of the database (see below).
                    std::thread::sleep(std::time::Duration::from_millis(500));
                    for suffix in ["-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{path}{suffix}"));
                    }
                    std::fs::copy(&from, &path).expect("copy the backup over the database");
                    self.db = blocking(move || Db::open(&url)).await.expect("open the restored database");
                    self.restart().await;
                    return String::new();
                }
                let said = blocking(move || {
                    // The push writer's thread lets go of its connections a moment after the
                    // server stops; until then the restore rightly refuses.
                    for _ in 0..100 {
                        let out = Command::new(crate::bin("fieldbook-server")).args(["--database", &url, "restore"]).arg(&from).output().expect("run fieldbook-server restore");
                        let stderr = String::from_utf8_lossy(&out.stderr);
                        if out.status.success() {
                            return String::from_utf8_lossy(&out.stdout).into_owned();
                        }
                        assert!(stderr.contains("open in another process"), "fieldbook-server restore failed: {stderr}");
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                    panic!("the server's database stayed open after it stopped")
                })
                .await;
                let url = self.database_url();
                self.db = blocking(move || Db::open(&url)).await.expect("open the restored database");
                self.restart().await;
                said
            }
            Backend::Postgres => {
                let restored = fresh_db(Backend::Postgres);
                let url = restored.url.clone();
                let said = blocking(move || {
                    run(Command::new(fieldbook_testkit::postgres_bin().join("pg_restore")).args(["--no-owner", "--dbname", &url]).arg(&from));
                    match announce {
                        true => run(Command::new(crate::bin("fieldbook-server")).args(["--database", &url, "epoch", "new"])),
                        false => String::new(),
                    }
                })
                .await;
                let url = restored.url.clone();
                self.db = blocking(move || Db::open(&url)).await.expect("open the restored database");
                self._db = restored;
                self.restart().await;
                said
            }
        }
    }
}

/// Runs a command that must succeed; its standard output.
fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
