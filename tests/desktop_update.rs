//! A laptop updates itself from the company's server (issue #14, docs/updates.md), end to end:
//! the desktop app as an AppImage (our runtime and packer, `scripts/package.sh appimage`) of
//! version 0.1.0, built with a throwaway updater public key, driven through `tauri-driver` +
//! WebKitWebDriver on Xvfb against a real `fieldbook-server` process.
//!
//! 1. The admin publishes a build signed with another key (`release add` without the public key,
//!    as a server that was not told the key — or a compromised one — would): the app offers it,
//!    "Install and restart" refuses it as a bad signature, the AppImage file is untouched and the
//!    app keeps running.
//! 2. The admin withdraws it and publishes version 0.2.0 signed with the company's key
//!    (`release add` with the key checks it): the app offers it, installs it, and restarts; the
//!    AppImage file is now 0.2.0's, the running process is 0.2.0's binary, and that process
//!    syncs and asks the server for updates as 0.2.0.
//!
//! Needs `scripts/build-update-e2e.sh` first (keys, the two builds, the AppImages, the
//! signatures, in target/update-e2e/). Missing pieces are a failure, never a skip.

use fantoccini::{Client, ClientBuilder, Locator};
use fieldbook_scenarios::desktop::{free_port, server_answers, start_xvfb, tauri_driver, Proc};
use fieldbook_scenarios::{bin, repo_root};
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

type Res<T = ()> = Result<T, String>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

const WAIT: Duration = Duration::from_secs(30);

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))))
}

/// What scripts/build-update-e2e.sh made.
struct Artifacts(PathBuf);

impl Artifacts {
    fn find() -> Artifacts {
        let dir = repo_root().join("target/update-e2e");
        for f in ["updater.key.pub", "0.1.0/Fieldbook_0.1.0_amd64.AppImage", "0.2.0/Fieldbook_0.2.0_amd64.AppImage.sig", "0.2.0/fieldbook-desktop", "wrong.AppImage.sig"] {
            assert!(dir.join(f).is_file(), "{} is missing: run scripts/build-update-e2e.sh first", dir.join(f).display());
        }
        Artifacts(dir)
    }

    fn path(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

/// The server as its own process on a SQLite file, its log kept.
struct Server {
    db: PathBuf,
    port: u16,
    log: PathBuf,
    _proc: Proc,
}

impl Server {
    fn with_demo(dir: &Path) -> Server {
        let db = dir.join("server.db");
        let out = Command::new(bin("fieldbook-server")).arg("--database").arg(&db).arg("demo").output().unwrap();
        assert!(out.status.success(), "fieldbook-server demo: {}", String::from_utf8_lossy(&out.stderr));
        let port = free_port();
        let log = dir.join("server.log");
        let file = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(bin("fieldbook-server"));
        cmd.arg("--database").arg(&db).args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
        cmd.env("RUST_LOG", "fieldbook_server=info").env("NO_COLOR", "1").stdout(Stdio::null()).stderr(file);
        let proc = Proc::spawn("fieldbook-server", &mut cmd);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !server_answers(port) {
            assert!(Instant::now() < deadline, "fieldbook-server did not answer within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { db, port, log, _proc: proc }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn cli(&self, args: &[&str], pubkey: Option<&str>) -> Output {
        let mut cmd = Command::new(bin("fieldbook-server"));
        cmd.arg("--database").arg(&self.db).args(args).env_remove("FIELDBOOK_UPDATER_PUBKEY");
        if let Some(k) = pubkey {
            cmd.env("FIELDBOOK_UPDATER_PUBKEY", k);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "fieldbook-server {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        out
    }

    fn enrolment_code(&self) -> String {
        let out = self.cli(&["enroll", "li.wei"], None);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines().map(str::trim).find(|l| l.len() == 19 && l.split('-').count() == 4).unwrap_or_else(|| panic!("no code in {text}")).to_owned()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The AppImage `image`, started through tauri-driver, with `tmp` as its temporary directory
/// (where the runtime unpacks it into `.mount_…`, and where Tauri looks for it).
async fn launch(home: &Path, tmp: &Path, display: &str, image: &Path, laptop_db: &Path) -> (Client, Proc) {
    let (port, native_port) = (free_port(), free_port());
    let run = home.join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut cmd = Command::new(tauri_driver());
    cmd.args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
        .env("DISPLAY", display)
        .env("TMPDIR", tmp)
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("FIELDBOOK_DB")
        .env_remove("FIELDBOOK_KEY_FILE")
        .env_remove("APPIMAGE")
        .env_remove("APPDIR")
        // No keyring here: the store's passphrase from the environment (the kiosk set-up), so the
        // restarted app opens it too.
        .env("FIELDBOOK_PASSPHRASE", "update-e2e-passphrase")
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_RUNTIME_DIR", &run)
        .env("LANG", "C.UTF-8")
        .stdout(Stdio::null());
    let driver = Proc::spawn("tauri-driver", &mut cmd);
    let caps = json!({
        "browserName": "wry",
        "tauri:options": { "application": image, "args": ["--db", laptop_db] },
    });
    let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
    builder.capabilities(caps.as_object().unwrap().clone());
    let deadline = Instant::now() + Duration::from_secs(60);
    let client = loop {
        match builder.connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(c) => break c,
            Err(e) if Instant::now() < deadline => {
                eprintln!("desktop_update: no WebDriver session yet ({e}); trying again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("cannot open a WebDriver session on the AppImage through tauri-driver: {e}"),
        }
    };
    (client, driver)
}

struct Ctx {
    c: Client,
}

impl Ctx {
    async fn find(&self, css: &str) -> Res<fantoccini::elements::Element> {
        self.c.wait().at_most(WAIT).for_element(Locator::Css(css)).await.map_err(|e| format!("no `{css}` within {WAIT:?}: {e}"))
    }

    async fn click(&self, css: &str) -> Res {
        self.find(css).await?.click().await.map_err(|e| format!("click `{css}`: {e}"))
    }

    async fn type_into(&self, css: &str, text: &str) -> Res {
        let el = self.find(css).await?;
        el.clear().await.map_err(|e| format!("clear {css}: {e}"))?;
        el.send_keys(text).await.map_err(|e| format!("type into {css}: {e}"))
    }

    /// Polls until `css`'s text contains `want`.
    async fn wait_text(&self, css: &str, want: &str, within: Duration) -> Res<String> {
        let deadline = Instant::now() + within;
        loop {
            let now = match self.c.find(Locator::Css(css)).await {
                Ok(el) => el.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if now.contains(want) {
                return Ok(now);
            }
            ensure!(Instant::now() < deadline, "`{css}` did not show {want:?} within {within:?} (shows {now:?})");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn wait_attr(&self, css: &str, name: &str, want: &str, within: Duration) -> Res {
        let deadline = Instant::now() + within;
        loop {
            let now = match self.c.find(Locator::Css(css)).await {
                Ok(el) => el.attr(name).await.ok().flatten().unwrap_or_default(),
                Err(_) => String::new(),
            };
            if now == want {
                return Ok(());
            }
            ensure!(Instant::now() < deadline, "`{css}` {name} is not {want:?} within {within:?} (is {now:?})");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Settings → "Check for updates" (the app also checks after every sync).
    async fn check_for_updates(&self) -> Res {
        self.click("[data-testid=nav-settings]").await?;
        self.click("[data-testid=update-check]").await
    }
}

/// The processes whose executable lies under `tmp` (the unpacked AppImage's app): pid and the
/// SHA-256 of the executable they run.
fn apps_under(tmp: &Path) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(exe) = std::fs::read_link(entry.path().join("exe")) else { continue };
        if exe.starts_with(tmp) && exe.file_name().is_some_and(|n| n == "fieldbook-desktop") {
            // Read through /proc: the file may be gone once its runtime cleaned up.
            if let Ok(bytes) = std::fs::read(entry.path().join("exe")) {
                use sha2::Digest;
                found.push((pid, hex::encode(sha2::Sha256::digest(bytes))));
            }
        }
    }
    found
}

async fn scenario(ctx: &Ctx, server: &Server, art: &Artifacts, image: &Path, tmp: &Path) -> Res {
    let pubkey = std::fs::read_to_string(art.path("updater.key.pub")).unwrap();
    let n_image = sha256(image);
    let n_binary = sha256(&art.path("0.1.0/fieldbook-desktop"));
    let n1_binary = sha256(&art.path("0.2.0/fieldbook-desktop"));
    ensure!(n_binary != n1_binary, "the two builds are the same binary");
    ensure!(apps_under(tmp).iter().any(|(_, h)| *h == n_binary), "the app does not run from the AppImage's .mount_ folder under {}", tmp.display());

    // Enrol and sync.
    ctx.type_into("#enrol-server", &server.url()).await?;
    ctx.type_into("#enrol-code", &server.enrolment_code()).await?;
    ctx.click(".enrol form button[type=submit]").await?;
    ctx.c.wait().at_most(WAIT).for_element(Locator::XPath("//table//button[normalize-space()='WO-1001']")).await.map_err(|e| format!("no work orders after enrolling: {e}"))?;
    ctx.click("[data-testid=nav-settings]").await?;
    ctx.wait_text("[data-testid=update-current]", "0.1.0", WAIT).await?;

    // 1. A release signed with another key.
    server.cli(&["release", "add", "--version", "0.1.5", "--file", art.path("wrong.AppImage").to_str().unwrap(), "--signature", art.path("wrong.AppImage.sig").to_str().unwrap(), "--notes-en", "Not ours"], None);
    ctx.check_for_updates().await?;
    ctx.wait_text("[data-testid=update-version]", "0.1.5", WAIT).await?;
    ctx.click("[data-testid=update-install]").await?;
    ctx.wait_attr("[data-testid=update-error]", "data-kind", "update_bad_signature", Duration::from_secs(120)).await?;
    ensure!(sha256(image) == n_image, "the AppImage file changed after a refused update");
    ensure!(apps_under(tmp).iter().any(|(_, h)| *h == n_binary), "the app (0.1.0) stopped after a refused update");
    ctx.click("[data-testid=nav-today]").await?;
    ctx.c.wait().at_most(WAIT).for_element(Locator::XPath("//table//button[normalize-space()='WO-1001']")).await.map_err(|e| format!("the app does not work after a refused update: {e}"))?;

    // 2. Withdrawn; the company's signed 0.2.0 published (the server checks it with the key).
    server.cli(&["release", "remove", "--version", "0.1.5"], None);
    let n1 = art.path("0.2.0/Fieldbook_0.2.0_amd64.AppImage");
    let out = server.cli(&["release", "add", "--version", "0.2.0", "--file", n1.to_str().unwrap(), "--signature", art.path("0.2.0/Fieldbook_0.2.0_amd64.AppImage.sig").to_str().unwrap(), "--notes-en", "Version two", "--notes-zh", "第二版"], Some(pubkey.trim()));
    ensure!(String::from_utf8_lossy(&out.stdout).contains("signature verified"), "release add did not verify: {}", String::from_utf8_lossy(&out.stdout));
    ctx.check_for_updates().await?;
    ctx.wait_text("[data-testid=update-version]", "0.2.0", WAIT).await?;
    // The notes in the UI's language (Chinese unless the system asks for English; WebKit's
    // under LANG=C.UTF-8 varies): the one for it, never both or neither.
    let notes = ctx.find("[data-testid=update-notes]").await?.text().await.map_err(|e| format!("the offer's notes: {e}"))?;
    ensure!(notes == "Version two" || notes == "第二版", "the offer's notes are {notes:?}, not one language's");
    let before = Instant::now();
    ctx.click("[data-testid=update-install]").await?;

    // The AppImage is replaced and the app restarts into 0.2.0 (the WebDriver session ends with
    // the old process).
    let n1_image = sha256(&n1);
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let replaced = sha256(image) == n1_image;
        let running: Vec<_> = apps_under(tmp);
        if replaced && running.iter().any(|(_, h)| *h == n1_binary) && !running.iter().any(|(_, h)| *h == n_binary) {
            break;
        }
        ensure!(Instant::now() < deadline, "not updated within 180 s: AppImage replaced {replaced}, running {running:?}\nserver log:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    ensure!(std::fs::metadata(image).unwrap().permissions().mode() & 0o111 != 0, "the new AppImage is not executable");
    // 0.2.0 opens the store, syncs and asks the server as 0.2.0.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !server.log().contains("current_version=0.2.0") {
        ensure!(Instant::now() < deadline, "the updated app never asked the server as 0.2.0:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!("desktop_update: installed and restarted into 0.2.0 in {:.1} s", before.elapsed().as_secs_f64());

    // The restart ran the new file through its runtime: one `.mount_` folder, the new app's; the
    // old one was removed when 0.1.0 exited, and nothing still holds its lock.
    let running = apps_under(tmp);
    ensure!(running.len() == 1, "not exactly one app after the restart: {running:?}");
    let pid = running[0].0;
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let folders = mount_folders(tmp);
        if folders.len() == 1 && exe.starts_with(&folders[0]) {
            break;
        }
        ensure!(Instant::now() < deadline, "after the restart the app runs {} and the folders are {folders:?}", exe.display());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stale = held_files(pid).into_iter().filter(|f| !f.starts_with(mount_folders(tmp)[0].as_path()) && f.to_string_lossy().contains(".mount_")).collect::<Vec<_>>();
    ensure!(stale.is_empty(), "the restarted app (pid {pid}) still holds files of the old version's folder: {stale:?}");

    // Closed, the restarted app's runtime removes its folder too.
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let deadline = Instant::now() + WAIT;
    while !mount_folders(tmp).is_empty() {
        ensure!(Instant::now() < deadline, "left behind once the restarted app was closed: {:?}", mount_folders(tmp));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// The AppImage runtime's `.mount_…` folders under `tmp`.
fn mount_folders(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp).unwrap().flatten().map(|e| e.path()).filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".mount_")).collect()
}

/// The files process `pid` and its parent (the AppImage runtime) hold open.
fn held_files(pid: u32) -> Vec<PathBuf> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let parent = stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().nth(1)).and_then(|p| p.parse::<u32>().ok());
    [Some(pid), parent].into_iter().flatten().flat_map(|p| std::fs::read_dir(format!("/proc/{p}/fd")).into_iter().flatten().flatten().filter_map(|fd| std::fs::read_link(fd.path()).ok())).collect()
}

// scripts/test.sh runs scripts/build-update-e2e.sh before `cargo test`; by hand:
// `bash scripts/build-update-e2e.sh && cargo test -p fieldbook-scenarios --test desktop_update`.
// Without its artifacts the test fails and says so (Artifacts::find).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_laptop_updates_from_the_server_and_refuses_a_bad_signature() {
    let art = Artifacts::find();
    let dir = tempfile::Builder::new().prefix("fieldbook-update-e2e-").tempdir().unwrap();
    let server = Server::with_demo(dir.path());
    let (_xvfb, display) = start_xvfb();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o700)).unwrap();
    let laptop = dir.path().join("laptop");
    std::fs::create_dir_all(&laptop).unwrap();
    // Where a technician keeps the AppImage: a file the updater may replace.
    let image = laptop.join("Fieldbook.AppImage");
    std::fs::copy(art.path("0.1.0/Fieldbook_0.1.0_amd64.AppImage"), &image).unwrap();
    std::fs::set_permissions(&image, std::fs::Permissions::from_mode(0o755)).unwrap();

    let (client, driver) = launch(&dir.path().join("home"), &tmp, &display, &image, &laptop.join("laptop.db")).await;
    let ctx = Ctx { c: client };
    let result = scenario(&ctx, &server, &art, &image, &tmp).await;
    for (pid, _) in apps_under(&tmp) {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
    drop(driver);
    if let Err(e) = result {
        if let Ok(png) = ctx.c.screenshot().await {
            let _ = std::fs::write(dir.path().join("failure.png"), png);
        }
        let kept = dir.keep();
        panic!("{e}\n(folder kept: {})", kept.display());
    }
}
