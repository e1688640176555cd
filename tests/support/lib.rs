//! Shared support for the scenarios: finding the workspace's binaries and running them, and a
//! flaky network to sync through.

pub mod central;
pub mod desktop;
pub mod flaky_proxy;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A binary built by this workspace (`fieldbook`, `fieldbook-server`), from the same target
/// directory as the running test. The test command builds every binary before testing.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let dir = exe.parent().and_then(Path::parent).expect("target directory");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} is not built: run `cargo build --workspace --bins` first (the README's test command does)", path.display());
    path
}

/// The repository root (for the demo data and fixtures).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_owned()
}

/// The result of one command: exit status, stdout and stderr as text.
pub struct Run {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }
    pub fn error_json(&self) -> serde_json::Value {
        serde_json::from_str(self.stderr.trim()).unwrap_or_else(|e| panic!("stderr is not JSON ({e}):\n{}", self.stderr))
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            ok: o.status.success(),
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// A laptop: a temporary folder with its own store, driven through the `fieldbook` CLI.
pub struct Laptop {
    pub dir: tempfile::TempDir,
}

impl Laptop {
    pub fn new() -> Self {
        Laptop { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("fieldbook.db")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `fieldbook --db <this laptop's store> ARGS...`.
    pub fn run(&self, args: &[&str]) -> Run {
        fieldbook(&self.db()).args(args).output().expect("run fieldbook").into()
    }

    /// Runs a command that must succeed, returning its `--json` output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        json_at(&self.db(), args)
    }

    /// [`Laptop::json`] on a blocking thread, for scenarios whose server runs on the test's own
    /// async runtime (a blocking call there could starve it).
    pub async fn json_async(&self, args: &[&str]) -> serde_json::Value {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let db = self.db();
        tokio::task::spawn_blocking(move || json_at(&db, &args.iter().map(String::as_str).collect::<Vec<_>>())).await.expect("fieldbook task")
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).expect("write fixture");
        p
    }
}

/// The key of the scenarios' laptop stores, in-process and (through [`fieldbook`]) in the CLI.
pub fn test_key() -> fieldbook_core::at_rest::StoreKey {
    fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])
}

/// A connection to a scenario laptop's store behind Fieldbook's back (the tests that edit it as
/// an attacker with the key would), keyed with [`test_key`].
pub fn raw_store(db: &Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(db).expect("open the laptop store");
    fieldbook_core::at_rest::encrypt::apply_key(&c, &test_key()).expect("key the laptop store");
    c
}

/// `fieldbook --db DB`, its store's key in a key file beside it (`DB.key`): the scenarios run on
/// machines without an OS keyring, and a key file costs no key derivation per command. The
/// passphrase and keyring paths have tests of their own (fieldbook-cli, desktop_e2e).
pub fn fieldbook(db: &Path) -> Command {
    let key_file = db.with_extension("key");
    if !key_file.exists() {
        // The key the scenarios' in-process stores use too (`Store::open(.., &test_key())`).
        std::fs::write(&key_file, "07".repeat(32)).expect("write the test key file");
    }
    let mut c = Command::new(bin("fieldbook"));
    c.arg("--db").arg(db).env_remove("FIELDBOOK_DB").env_remove("FIELDBOOK_UNLOCK").env_remove("FIELDBOOK_PASSPHRASE").env("FIELDBOOK_KEY_FILE", db.with_extension("key"));
    c
}

/// Runs `fieldbook --db DB --json ARGS...`, which must succeed, and parses its output.
fn json_at(db: &Path, args: &[&str]) -> serde_json::Value {
    let out = fieldbook(db).arg("--json").args(args).output().expect("run fieldbook");
    let r: Run = out.into();
    assert!(r.ok, "fieldbook {args:?} failed:\n{}", r.stderr);
    r.json()
}

impl Default for Laptop {
    fn default() -> Self {
        Self::new()
    }
}
