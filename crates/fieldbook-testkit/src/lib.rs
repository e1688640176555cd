//! Test support shared by `fieldbook-server`'s tests and the cross-crate scenarios in `tests/`:
//! a fresh database per test on either server backend.
//!
//! PostgreSQL: `DATABASE_URL=postgres://…` uses that server (a database is created per test);
//! otherwise a throwaway cluster is started once per test binary from the system binaries
//! (`FIELDBOOK_PG_BIN`, default: the newest /usr/lib/postgresql/*/bin), run as the `postgres` OS user when
//! the tests run as root, in a temp dir removed by a watchdog when the test process exits.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs one scenario (an `async fn(Backend)`) as two tests, one per backend.
#[macro_export]
macro_rules! both {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await
            }
        }
    )+};
}

// ---------------------------------------------------------------------------------------------
// Databases

/// A database for one test; an SQLite file is deleted with it.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub fn fresh_db(backend: Backend) -> TestDb {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite:{}", dir.path().join("server.db").display());
            TestDb { url, _dir: Some(dir) }
        }
        Backend::Postgres => {
            let admin = postgres_admin_url();
            let name = format!("fb_test_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
            let admin2 = admin.clone();
            let name2 = name.clone();
            // The blocking postgres client must not run on an async thread.
            std::thread::spawn(move || {
                let mut c = postgres::Client::connect(&admin2, postgres::NoTls).expect("connect to the test PostgreSQL");
                c.batch_execute(&format!("CREATE DATABASE {name2}")).expect("create the test database");
            })
            .join()
            .unwrap();
            TestDb { url: with_dbname(&admin, &name), _dir: None }
        }
    }
}

/// `url` with its database name replaced.
fn with_dbname(url: &str, name: &str) -> String {
    let start = url.find("://").map(|i| i + 3).unwrap_or(0);
    let (head, tail) = match url[start..].find('/') {
        Some(i) => (&url[..start + i], &url[start + i + 1..]),
        None => (url, ""),
    };
    let query = tail.find('?').map(|i| &tail[i..]).unwrap_or("");
    format!("{head}/{name}{query}")
}

fn postgres_admin_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => url,
        _ => start_cluster(),
    })
    .clone()
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Starts a throwaway PostgreSQL cluster; returns its admin URL.
fn start_cluster() -> String {
    let bin = std::env::var_os("FIELDBOOK_PG_BIN").map(PathBuf::from).unwrap_or_else(newest_installed_postgres);
    assert!(
        bin.join("initdb").exists(),
        "PostgreSQL binaries not found in {} (set FIELDBOOK_PG_BIN, or DATABASE_URL=postgres://… to use a running server)",
        bin.display()
    );
    let root = std::env::temp_dir().join(format!("fieldbook-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let as_root = output(Command::new("id").arg("-u")) == "0";
    // initdb refuses to run as root: the cluster belongs to the postgres OS user.
    let pg = |program: &str| -> Command {
        if as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin.join(program));
            c
        } else {
            Command::new(bin.join(program))
        }
    };
    if as_root {
        let uid: u32 = output(Command::new("id").args(["-u", "postgres"])).parse().unwrap();
        let gid: u32 = output(Command::new("id").args(["-g", "postgres"])).parse().unwrap();
        std::os::unix::fs::chown(&root, Some(uid), Some(gid)).unwrap();
    }
    let data = root.join("data");
    output(pg("initdb").arg("-D").arg(&data).args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
        root.display()
    );
    output(pg("pg_ctl").arg("-D").arg(&data).arg("-l").arg(root.join("postgres.log")).args(["-w", "-t", "60", "-o", &options, "start"]));
    // Stops the cluster and removes it once this test process is gone, however it ends.
    let stop = format!(
        "while [ -d /proc/{pid} ]; do sleep 1; done; {runuser}{bin}/pg_ctl -D {data} -m immediate stop; rm -rf {root}",
        pid = std::process::id(),
        runuser = if as_root { "runuser -u postgres -- " } else { "" },
        bin = bin.display(),
        data = data.display(),
        root = root.display(),
    );
    // Deliberately never waited for: it must outlive this process.
    #[allow(clippy::zombie_processes)]
    Command::new("setsid").args(["sh", "-c", &stop]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start the cleanup watchdog");
    format!("postgres://postgres@127.0.0.1:{port}/postgres")
}

/// The PostgreSQL binaries the tests use (`FIELDBOOK_PG_BIN`, or the newest installed):
/// `pg_dump` and `pg_restore` there match the throwaway cluster's version.
pub fn postgres_bin() -> PathBuf {
    std::env::var_os("FIELDBOOK_PG_BIN").map(PathBuf::from).unwrap_or_else(newest_installed_postgres)
}

/// Debian and Ubuntu install each PostgreSQL major version under /usr/lib/postgresql/N/bin.
fn newest_installed_postgres() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"))
}

/// Every file and folder under `root`, relative to it, sorted: what a test lists after a wipe.
pub fn listing(root: &std::path::Path) -> Vec<String> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            if p.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Every file under `dir` holding one of `needles`, byte for byte, as "PATH holds NEEDLE": what
/// a thief scanning a laptop's disk would find.
pub fn files_containing(dir: &std::path::Path, needles: &[&[u8]]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                for n in needles {
                    if bytes.windows(n.len()).any(|w| w == *n) {
                        found.push(format!("{} holds {:?}", p.display(), String::from_utf8_lossy(n)));
                    }
                }
            }
        }
    }
    found
}
