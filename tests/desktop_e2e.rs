//! The real desktop app, end to end: the debug `fieldbook-desktop` binary (with the built UI
//! embedded) on a virtual display (Xvfb), driven through `tauri-driver` + WebKitWebDriver, against
//! a real `fieldbook-server` process on the demo company.
//!
//! The technician enrols with a code from `fieldbook-server enroll`, pulls today's work, runs
//! WO-1001's patrol inspection (a failed item and a reading below its limit: two findings),
//! completes, signs on the pad with pointer strokes and has the customer rate it, records a repair
//! on WO-1002 and escalates it to an engineer (the console lists it after the sync, as the demo
//! office clerk sees it, and answers it). Then the server stops: the app says offline, and the work goes on (WO-1002 signed
//! and rated, WO-1003 started) with the changes counted as waiting. The server comes back on the
//! same database and port, "Sync now" sends everything, and the server's database holds each
//! signed order, repair, signature and card exactly once; another sync changes nothing; the
//! office's answer to the escalation shows under the repair.
//!
//! With `FIELDBOOK_SCREENSHOTS=DIR` it also saves each main screen in English and Chinese
//! (`desktop-en-today.png`, `desktop-zh-today.png`, …): `scripts/screenshots.sh`.
//! On failure it keeps its temporary folder with `failure.png` and `failure.html` and prints
//! where. Xvfb, tauri-driver or WebKitWebDriver missing is a failure, never a skip.
//!
//! `FIELDBOOK_DESKTOP_BIN=PATH` runs the scenarios against another build of the app: the installed
//! `/usr/bin/fieldbook-desktop` of the .deb, or the AppImage (`scripts/test.sh` runs the smoke
//! scenario, `smoke_start_enrol_sync_open_an_order`, against both).

use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use fieldbook_scenarios::desktop::{free_port, server_answers, start_xvfb, tauri_driver, Proc};
use fieldbook_scenarios::{bin, repo_root};
use serde_json::{json, Value};
use std::future::Future;
use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ANSWERS: &str = include_str!("../demo/fixtures/inspection-wo-1001.json");
const DEMO: &str = include_str!("../demo/fire-protection.json");

/// What went wrong, in words; the scenario stops at the first one.
type Res<T = ()> = Result<T, String>;

fn fail<T>(what: impl Into<String>) -> Res<T> {
    Err(what.into())
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

fn wait_for_port(port: u16, what: &str, within: Duration) -> Res {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    fail(format!("{what} did not listen on 127.0.0.1:{port} within {within:?}"))
}

/// The central server as its own process on a SQLite file, so going offline is stopping it.
struct Server {
    db: PathBuf,
    port: u16,
    proc: Option<Proc>,
    /// The demo office clerk's password, as `fieldbook-server demo` printed it.
    office_password: String,
}

impl Server {
    fn with_demo(dir: &Path) -> Server {
        let db = dir.join("server.db");
        let out = Command::new(bin("fieldbook-server")).arg("--database").arg(&db).arg("demo").output().expect("run fieldbook-server demo");
        assert!(out.status.success(), "fieldbook-server demo failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let printed = String::from_utf8_lossy(&out.stdout).into_owned();
        let office_password = printed
            .lines()
            .find(|l| l.split_whitespace().next() == Some("office"))
            .and_then(|l| l.split("password: ").nth(1))
            .map(|p| p.trim().to_owned())
            .unwrap_or_else(|| panic!("no password for the demo office user in:\n{printed}"));
        let mut server = Server { db, port: free_port(), proc: None, office_password };
        server.start();
        server
    }

    fn start(&mut self) {
        let mut cmd = Command::new(bin("fieldbook-server"));
        cmd.arg("--database").arg(&self.db).args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)]).stdout(Stdio::null());
        self.proc = Some(Proc::spawn("fieldbook-server", &mut cmd));
        let deadline = Instant::now() + Duration::from_secs(20);
        while !server_answers(self.port) {
            assert!(Instant::now() < deadline, "fieldbook-server did not answer on port {} within 20 s", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.stop();
        }
        assert!(!server_answers(self.port), "the server still answers after being stopped");
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A one-time enrolment code for `technician`, from the server's own command.
    fn enrolment_code(&self, technician: &str) -> String {
        let out = Command::new(bin("fieldbook-server")).arg("--database").arg(&self.db).args(["enroll", technician]).output().expect("run fieldbook-server enroll");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "fieldbook-server enroll failed:\n{}", String::from_utf8_lossy(&out.stderr));
        text.lines()
            .map(str::trim)
            .find(|l| l.len() == 19 && l.split('-').count() == 4)
            .unwrap_or_else(|| panic!("no enrolment code in:\n{text}"))
            .to_owned()
    }

    /// The console's API as the demo office clerk: logs in, then sends `method path` with `body`
    /// (none for a GET); answers the JSON.
    async fn console(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Res<Value> {
        let http = reqwest::Client::new();
        let login = http
            .post(format!("{}/console/api/login", self.url()))
            .json(&json!({"login": "office", "password": self.office_password}))
            .send()
            .await
            .map_err(|e| format!("console login: {e}"))?;
        ensure!(login.status().is_success(), "the demo office user cannot log in to the console: {}", login.status());
        let cookie = login.headers().get("set-cookie").and_then(|c| c.to_str().ok()).and_then(|c| c.split(';').next()).unwrap_or_default().to_owned();
        let mut req = http.request(method.clone(), format!("{}{path}", self.url())).header("Cookie", cookie).header("X-Fieldbook-Console", "1");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| format!("console {method} {path}: {e}"))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| format!("console {method} {path}: {e}"))?;
        ensure!(status.is_success(), "console {method} {path}: {status} {text}");
        serde_json::from_str(&text).map_err(|e| format!("console {method} {path}: not JSON ({e}): {text}"))
    }

    /// One integer from the server's database (read-only, beside the running server).
    fn count(&self, sql: &str) -> i64 {
        let conn = rusqlite::Connection::open_with_flags(&self.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open the server database");
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// The app under test: `FIELDBOOK_DESKTOP_BIN` when set (an installed binary or an AppImage),
/// else this workspace's debug build.
fn desktop_app() -> PathBuf {
    match std::env::var_os("FIELDBOOK_DESKTOP_BIN").filter(|p| !p.is_empty()) {
        Some(p) => {
            let p = std::path::absolute(PathBuf::from(p)).expect("FIELDBOOK_DESKTOP_BIN as an absolute path");
            assert!(p.is_file(), "FIELDBOOK_DESKTOP_BIN={} is not a file: install the .deb or build the AppImage first (scripts/package.sh)", p.display());
            p
        }
        None => bin("fieldbook-desktop"),
    }
}

/// Whether the app under test is an AppImage (it then runs from a `.mount_` folder in `TMPDIR`).
fn is_appimage(app: &Path) -> bool {
    std::fs::File::open(app).and_then(|mut f| {
        let mut head = [0u8; 11];
        f.read_exact(&mut head)?;
        Ok(&head[8..11] == b"AI\x02")
    })
    .unwrap_or(false)
}

/// The `.mount_…` folders an AppImage left in `tmp`.
fn appimage_folders(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp).map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with(".mount_")).collect()).unwrap_or_default()
}

/// Whether an AppImage's runtime or app still holds the lock file of its extracted folder.
fn lock_is_held(folder: &Path) -> bool {
    let lock = folder.join(".fieldbook-appimage.lock");
    lock.exists() && !Command::new("flock").args(["--nonblock", "--shared"]).arg(&lock).arg("true").status().map(|s| s.success()).unwrap_or(false)
}

/// Everything the scenario drives.
struct Ctx {
    c: Client,
    server: Server,
    shots: Option<PathBuf>,
    locale: &'static str,
}

const WAIT: Duration = Duration::from_secs(20);

impl Ctx {
    async fn find(&self, css: &str) -> Res<Element> {
        self.c.wait().at_most(WAIT).for_element(Locator::Css(css)).await.map_err(|e| format!("no element `{css}` within {WAIT:?}: {e}"))
    }

    async fn find_xpath(&self, xpath: &str) -> Res<Element> {
        self.c.wait().at_most(WAIT).for_element(Locator::XPath(xpath)).await.map_err(|e| format!("no element `{xpath}` within {WAIT:?}: {e}"))
    }

    async fn exists(&self, css: &str) -> Res<bool> {
        Ok(!self.c.find_all(Locator::Css(css)).await.map_err(|e| format!("find `{css}`: {e}"))?.is_empty())
    }

    async fn click(&self, css: &str) -> Res {
        let el = self.find(css).await?;
        self.scroll_to(&el).await?;
        el.click().await.map_err(|e| format!("click `{css}`: {e}"))
    }

    async fn scroll_to(&self, el: &Element) -> Res {
        self.js("arguments[0].scrollIntoView({block: 'center'});", vec![json!(el)]).await.map(|_| ())
    }

    async fn js(&self, script: &str, args: Vec<Value>) -> Res<Value> {
        self.c.execute(script, args).await.map_err(|e| format!("script failed ({e}): {script}"))
    }

    /// Types into a field as a keyboard would (replacing what is there), then leaves it so its
    /// change handler runs.
    async fn type_into(&self, css: &str, text: &str) -> Res {
        let el = self.find(css).await?;
        self.scroll_to(&el).await?;
        el.clear().await.map_err(|e| format!("clear `{css}`: {e}"))?;
        el.send_keys(text).await.map_err(|e| format!("type into `{css}`: {e}"))?;
        self.js("arguments[0].blur();", vec![json!(el)]).await?;
        Ok(())
    }

    async fn attr(&self, css: &str, name: &str) -> Res<String> {
        let el = self.find(css).await?;
        Ok(el.attr(name).await.map_err(|e| format!("attribute {name} of `{css}`: {e}"))?.unwrap_or_default())
    }

    async fn text(&self, css: &str) -> Res<String> {
        self.find(css).await?.text().await.map_err(|e| format!("text of `{css}`: {e}"))
    }

    /// Polls `check` until it gives `Some`, for up to `within`.
    async fn until<T, F, Fut>(&self, what: &str, within: Duration, mut check: F) -> Res<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Res<Option<T>>>,
    {
        let deadline = Instant::now() + within;
        let mut last = String::new();
        loop {
            match check().await {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => {}
                Err(e) => last = e,
            }
            if Instant::now() > deadline {
                return fail(format!("{what}: not within {within:?} {last}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_attr(&self, css: &str, name: &str, want: &str) -> Res {
        let seen = std::cell::RefCell::new(String::new());
        let r = self
            .until(&format!("`{css}` {name}={want}"), WAIT, || async {
                let now = self.attr(css, name).await?;
                let done = now == want;
                *seen.borrow_mut() = now;
                Ok(done.then_some(()))
            })
            .await;
        r.map_err(|e| format!("{e} (last seen {name}={:?})", seen.borrow()))
    }

    async fn phase(&self) -> Res<String> {
        self.attr(".sync-status", "data-phase").await
    }

    async fn wait_phase(&self, want: &str, within: Duration) -> Res {
        self.until(&format!("sync status {want}"), within, || async { Ok((self.phase().await? == want).then_some(())) }).await
    }

    /// The pending-changes count the status line shows (0 for "All changes sent").
    async fn pending(&self) -> Res<u64> {
        let t = self.text("[data-testid=sync-pending]").await?;
        Ok(t.split_whitespace().next().and_then(|w| w.parse().ok()).unwrap_or(0))
    }

    async fn set_locale(&mut self, locale: &'static str) -> Res {
        let el = self.find("header select").await?;
        self.js(
            "const s = arguments[0]; s.value = arguments[1]; s.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(el), json!(locale)],
        )
        .await?;
        self.until("the language to switch", WAIT, || async {
            Ok((self.js("return document.documentElement.lang;", vec![]).await? == json!(locale)).then_some(()))
        })
        .await?;
        self.locale = locale;
        Ok(())
    }

    /// With FIELDBOOK_SCREENSHOTS set: this screen in English and in Chinese, as
    /// `desktop-en-NAME.png` and `desktop-zh-NAME.png`. The scenario goes on in English.
    async fn shot(&mut self, name: &str) -> Res {
        let Some(dir) = self.shots.clone() else { return Ok(()) };
        let mut taken: Vec<Vec<u8>> = Vec::new();
        for (locale, tag) in [("en", "en"), ("zh-CN", "zh")] {
            self.set_locale(locale).await?;
            let mut png = self.picture().await?;
            // Under load WebKit may hand back the previous frame once: the two languages can
            // never look the same, so a repeat is a stale picture.
            if taken.contains(&png) {
                tokio::time::sleep(Duration::from_secs(1)).await;
                png = self.picture().await?;
                ensure!(!taken.contains(&png), "the {name} screenshot does not change with the language");
            }
            std::fs::write(dir.join(format!("desktop-{tag}-{name}.png")), &png).map_err(|e| format!("save screenshot: {e}"))?;
            taken.push(png);
        }
        self.set_locale("en").await
    }

    /// A screenshot once the page has painted what is in the DOM (two animation frames).
    async fn picture(&self) -> Res<Vec<u8>> {
        let painted = "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));";
        self.c.execute_async(painted, vec![]).await.map_err(|e| format!("wait for a paint: {e}"))?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.c.screenshot().await.map_err(|e| format!("screenshot: {e}"))
    }

    async fn open_order(&self, number: &str) -> Res {
        self.click("[data-testid=nav-today]").await?;
        let el = self.find_xpath(&format!("//table//button[normalize-space()='{number}']")).await?;
        el.click().await.map_err(|e| format!("open {number}: {e}"))?;
        self.until(&format!("{number} to open"), WAIT, || async {
            Ok(self.text("#order-title .number").await.ok().filter(|t| t == number).map(|_| ()))
        })
        .await
    }

    async fn arrive(&self) -> Res {
        self.click("#tab-details").await?;
        self.click("[data-testid=status-on-site]").await?;
        self.wait_attr("[data-testid=order-status]", "data-status", "on_site").await
    }

    async fn complete(&self) -> Res {
        self.click("[data-testid=complete-order]").await?;
        self.wait_attr("[data-testid=order-status]", "data-status", "completed").await
    }

    /// Answers one checklist item the way the technician does: a button for pass/fail and
    /// choices, typing for readings and text. Waits for the row's "saved" mark.
    async fn answer(&self, template: &Value, item: &str, asset: &str, value: &Value) -> Res {
        let def = template["sections"].as_array().into_iter().flatten().flat_map(|s| s["items"].as_array().into_iter().flatten()).find(|i| i["key"] == item);
        let Some(def) = def else { return fail(format!("item {item} is not in the template")) };
        let row = format!("[data-item='{item}'][data-asset='{asset}']");
        let el = self.find(&row).await?;
        self.scroll_to(&el).await?;
        let text = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
        match def["kind"].as_str().unwrap_or_default() {
            "pass_fail" => self.click(&format!("{row} button.pf-{}", text(value))).await?,
            "numeric" | "text" | "date" => self.type_into(&format!("{row} input"), &text(value)).await?,
            kind @ ("single_choice" | "multiple_choice") => {
                let wanted: Vec<String> = match value.as_array() {
                    Some(a) => a.iter().map(text).collect(),
                    None => vec![text(value)],
                };
                let options = def["options"].as_array().cloned().unwrap_or_default();
                for key in &wanted {
                    let Some(i) = options.iter().position(|o| o["key"] == json!(key)) else {
                        return fail(format!("{item}: no option {key}"));
                    };
                    self.click(&format!("{row} button.choice:nth-of-type({})", i + 1)).await?;
                }
                let _ = kind;
            }
            other => return fail(format!("{item}: cannot answer a {other} item here")),
        }
        self.until(&format!("{item} ({asset}) saved"), WAIT, || async { Ok(self.exists(&format!("{row} .saved .ok")).await?.then_some(())) })
            .await
    }

    /// Draws a signature on the pad: two strokes with the mouse, as a customer would.
    async fn draw_signature(&self) -> Res {
        let pad = self.find(".pad canvas").await?;
        self.scroll_to(&pad).await?;
        let stroke = |id: &str, points: &[(f64, f64)]| {
            let mut a = MouseActions::new(id.to_owned()).then(PointerAction::MoveToElement { element: pad.clone(), duration: None, x: points[0].0, y: points[0].1 });
            a = a.then(PointerAction::Down { button: MOUSE_BUTTON_LEFT });
            for &(x, y) in &points[1..] {
                a = a.then(PointerAction::MoveToElement { element: pad.clone(), duration: Some(Duration::from_millis(40)), x, y });
            }
            a.then(PointerAction::Up { button: MOUSE_BUTTON_LEFT })
        };
        let first = stroke("pen1", &[(-160.0, 10.0), (-120.0, -30.0), (-80.0, 25.0), (-40.0, -20.0), (0.0, 20.0), (40.0, -25.0), (90.0, 15.0)]);
        let second = stroke("pen2", &[(-140.0, 40.0), (-60.0, 45.0), (30.0, 38.0), (120.0, 42.0)]);
        for s in [first, second] {
            self.c.perform_actions(s).await.map_err(|e| format!("draw on the signature pad: {e}"))?;
        }
        self.c.release_actions().await.map_err(|e| format!("release the pointer: {e}"))
    }

    async fn sign(&self, signer: &str, title: &str) -> Res {
        self.click("#tab-signature").await?;
        self.draw_signature().await?;
        self.type_into("#s-name", signer).await?;
        self.type_into("#s-title", title).await?;
        let submit = self.find(".sign form button[type=submit]").await?;
        self.until("the signature to count as drawn", WAIT, || async {
            Ok(submit.is_enabled().await.map_err(|e| e.to_string())?.then_some(()))
        })
        .await?;
        Ok(())
    }

    async fn submit_signature(&self) -> Res {
        self.click(".sign form button[type=submit]").await?;
        self.wait_attr("[data-testid=order-status]", "data-status", "signed").await?;
        ensure!(self.exists("[role=note] .digest").await?, "the signed order shows no lock with its digest");
        Ok(())
    }

    async fn rate(&self, levels: [u8; 4], comment: &str) -> Res {
        self.click("#tab-satisfaction").await?;
        for (criterion, level) in ["attitude", "skill", "arrival", "promise"].iter().zip(levels) {
            self.click(&format!("input[name='sat-{criterion}'][value='{level}']")).await?;
        }
        if !comment.is_empty() {
            self.type_into("#sat-comment", comment).await?;
        }
        self.click("form.card button[type=submit]").await?;
        self.find("form.card .ok[role=status]").await.map(|_| ())
    }

    async fn sync_now(&self) -> Res {
        let b = self.find("[data-testid=sync-now]").await?;
        self.until("Sync now to be pressable", WAIT, || async { Ok(b.is_enabled().await.map_err(|e| e.to_string())?.then_some(())) }).await?;
        b.click().await.map_err(|e| format!("press Sync now: {e}"))
    }

    /// Enrols on the enrolment screen with a fresh code for `technician`, until the first sync
    /// has put WO-1001 on the Today list.
    async fn enrol(&self, technician: &str) -> Res {
        let code = self.server.enrolment_code(technician);
        self.type_into("#enrol-server", &self.server.url()).await?;
        self.type_into("#enrol-code", &code).await?;
        self.click(".enrol form button[type=submit]").await?;
        self.find_xpath("//table//button[normalize-space()='WO-1001']").await?;
        self.wait_phase("online", WAIT).await
    }

    /// Ends a scenario: closes the session; on failure first keeps a screenshot, the page
    /// source and the scenario's folder (with both databases), and says where.
    async fn finish(&self, dir: tempfile::TempDir, result: Res) {
        if let Err(e) = &result {
            self.keep_evidence(dir.path()).await;
            let kept = dir.keep();
            let _ = self.c.clone().close().await;
            panic!("{e}\n(locale {}; screenshot, page source and both databases kept in {})", self.locale, kept.display());
        }
        let _ = self.c.clone().close().await;
    }

    /// Keeps a screenshot and the page source of the moment it failed.
    async fn keep_evidence(&self, dir: &Path) {
        if let Ok(png) = self.c.screenshot().await {
            let _ = std::fs::write(dir.join("failure.png"), png);
        }
        if let Ok(html) = self.c.source().await {
            let _ = std::fs::write(dir.join("failure.html"), html);
        }
    }
}

async fn technician_day(ctx: &mut Ctx) -> Res {
    let demo: Value = serde_json::from_str(DEMO).unwrap();
    let template = demo["checklist_templates"].as_array().unwrap().iter().find(|t| t["code"] == "FP-PATROL").cloned().unwrap();

    // First start: not enrolled, so the enrolment screen, served from the UI built into the
    // binary (a dev build would load Vite's devUrl instead).
    ctx.find("#enrol-server").await?;
    let url = ctx.c.current_url().await.map_err(|e| format!("current URL: {e}"))?;
    ensure!(url.scheme() == "tauri", "the app loaded {url}, not its embedded UI (tauri://localhost)");
    ctx.set_locale("en").await?;
    ensure!(ctx.phase().await? == "not_enrolled", "a new laptop shows {} instead of not enrolled", ctx.phase().await?);
    ctx.shot("enrolment").await?;
    // Enrolled: the background sync pulls today's work and the list shows it by itself.
    ctx.enrol("li.wei").await?;
    for number in ["WO-1002", "WO-1003"] {
        ctx.find_xpath(&format!("//table//button[normalize-space()='{number}']")).await?;
    }
    ensure!(
        ctx.c.find_all(Locator::XPath("//table//button[normalize-space()='WO-1004']")).await.map_err(|e| e.to_string())?.is_empty(),
        "zhang.min's WO-1004 is on li.wei's laptop"
    );
    ctx.shot("today").await?;

    // WO-1001: on site, the whole patrol inspection, with two findings.
    ctx.open_order("WO-1001").await?;
    ctx.arrive().await?;
    ctx.shot("order").await?;
    ctx.click("#tab-inspection").await?;
    let answers: Value = serde_json::from_str(ANSWERS).unwrap();
    for a in answers.as_array().unwrap() {
        ctx.answer(&template, a["item"].as_str().unwrap(), a["asset"].as_str().unwrap_or(""), &a["value"]).await?;
    }
    ctx.wait_attr("[data-testid=findings]", "data-count", "2").await?;
    let low = "[data-item='pump.outlet_pressure'][data-asset='JQ-PUMP-02']";
    ensure!(ctx.attr(low, "class").await?.contains("finding"), "the reading below its limit is not marked as a finding");
    ensure!(ctx.exists(&format!("{low} .hint.warn")).await?, "the low reading shows no warning");
    let el = ctx.find(low).await?;
    ctx.scroll_to(&el).await?;
    ctx.shot("inspection").await?;
    ctx.complete().await?;

    // Signed on the pad, then the customer's card.
    ctx.sign("陈建国", "物业经理").await?;
    ctx.shot("signature").await?;
    ctx.submit_signature().await?;
    ctx.rate([4, 4, 3, 4], "到场及时").await?;
    ctx.shot("satisfaction").await?;

    // WO-1002: a repair with a part, labour and category.
    ctx.open_order("WO-1002").await?;
    ctx.arrive().await?;
    ctx.click("#tab-repair").await?;
    ctx.type_into("#r-fault", "泵体漏水").await?;
    ctx.type_into("#r-cause", "机械密封磨损").await?;
    ctx.type_into("#r-action", "更换机械密封").await?;
    ctx.click("input[name='r-category'][value='A']").await?;
    ctx.type_into("#r-minutes", "95").await?;
    ctx.type_into("#r-fee", "560").await?;
    ctx.click("[data-testid=r-collected]").await?;
    ctx.click("[data-testid=r-add-part]").await?;
    let part = ctx.find("#r-part-0").await?;
    part.click().await.map_err(|e| format!("part field: {e}"))?;
    part.send_keys("SEAL-PUMP-45").await.map_err(|e| format!("type the part: {e}"))?;
    ctx.find("#r-part-0-list [role=option]").await?;
    part.send_keys("\u{E007}").await.map_err(|e| format!("pick the part: {e}"))?; // Enter
    ctx.type_into("#r-qty-0", "1").await?;
    ctx.click("[data-testid=r-returned-0]").await?;
    ctx.click("form.form button[type=submit]").await?;
    ctx.find("form.form .ok[role=status]").await?;
    ctx.until("the repair to be listed", WAIT, || async { Ok(ctx.text("#repairs-title").await?.contains('1').then_some(())) }).await?;
    ctx.shot("repair").await?;

    // The pump needs an engineer: escalated from its repair record, with a note.
    ctx.click("[data-testid=escalate]").await?;
    ctx.click("[data-testid=esc-to-engineer]").await?;
    ctx.type_into("[data-testid=esc-note]", ESCALATION_NOTE).await?;
    ctx.click("[data-testid=esc-send]").await?;
    ctx.find("ul.escalations li[data-status=open]").await?;
    ctx.shot("escalation").await?;

    // Everything so far reaches the server before it goes away.
    ctx.sync_now().await?;
    ctx.until("the online work to be sent", Duration::from_secs(30), || async {
        Ok((ctx.phase().await? == "online" && ctx.pending().await? == 0).then_some(()))
    })
    .await?;
    // The office sees the escalation in the console, and answers it.
    let listed = ctx.server.console(reqwest::Method::GET, "/console/api/escalations", None).await?;
    let first = &listed["items"][0];
    ensure!(
        listed["open"] == 1 && first["number"] == "WO-1002" && first["escalate_to"] == "engineer" && first["note"] == ESCALATION_NOTE
            && first["technician"] == "li.wei" && first["repair_fault"] == "泵体漏水",
        "the console does not list the escalation as raised: {listed}"
    );
    let answer = json!({"status": "resolved", "response": ESCALATION_RESPONSE});
    ctx.server.console(reqwest::Method::POST, &format!("/console/api/escalations/{}/answer", first["id"].as_str().unwrap_or_default()), Some(answer)).await?;

    // Offline: the server stops; the app says so and the work goes on.
    ctx.server.stop();
    ctx.sync_now().await?;
    ctx.wait_phase("offline", Duration::from_secs(30)).await?;
    ctx.open_order("WO-1002").await?;
    ctx.complete().await?;
    ctx.sign("王工", "设备主管").await?;
    ctx.submit_signature().await?;
    ctx.rate([4, 3, 4, 4], "").await?;
    ctx.open_order("WO-1003").await?;
    ctx.arrive().await?;
    ctx.click("#tab-inspection").await?;
    let first_section_asset = ctx.attr("[data-item='alarm.state']", "data-asset").await?;
    ctx.answer(&template, "alarm.state", &first_section_asset, &json!("pass")).await?;
    // The status line counts what waits (it re-reads on its own every 15 s; a press is at once).
    ctx.sync_now().await?;
    let waiting = ctx
        .until("the waiting changes to be counted", Duration::from_secs(30), || async {
            let n = ctx.pending().await?;
            Ok((n >= 5 && ctx.phase().await? == "offline").then_some(n))
        })
        .await?;
    ctx.click("[data-testid=nav-today]").await?;
    ctx.find_xpath("//table//button[normalize-space()='WO-1001']").await?;
    ctx.shot("offline").await?;
    ctx.click("[data-testid=nav-daily]").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    ctx.shot("daily-report").await?;
    ctx.click("[data-testid=nav-settings]").await?;
    ctx.until("settings to show the technician", WAIT, || async {
        Ok((ctx.text("[data-testid=set-sync-technician]").await? == "li.wei").then_some(()))
    })
    .await?;
    ctx.shot("settings").await?;
    ensure!(ctx.server.count("SELECT count(*) FROM records WHERE entity = 'signatures'") == 1, "a signature reached a stopped server");

    // Back online on the same database and port: one press sends it all.
    ctx.server.start();
    ctx.sync_now().await?;
    ctx.until("everything to be sent", Duration::from_secs(60), || async {
        Ok((ctx.phase().await? == "online" && ctx.pending().await? == 0).then_some(()))
    })
    .await?;
    eprintln!("desktop_e2e: {waiting} offline changes sent after the server came back");

    let s = &ctx.server;
    let signed = s.count(
        "SELECT count(*) FROM records WHERE entity = 'work_orders' AND json_extract(fields, '$.status') = 'signed' \
         AND json_extract(fields, '$.number') IN ('WO-1001', 'WO-1002')",
    );
    ensure!(signed == 2, "{signed} of WO-1001 and WO-1002 are signed on the server");
    let sigs = s.count("SELECT count(*) FROM records WHERE entity = 'signatures'");
    ensure!(sigs == 2, "the server holds {sigs} signatures, not 2");
    let signers = s.count("SELECT count(*) FROM records WHERE entity = 'signatures' AND json_extract(fields, '$.signer_name') IN ('陈建国', '王工')");
    ensure!(signers == 2, "the signatures on the server are not the two signers': {signers}");
    let repairs = s.count("SELECT count(*) FROM records WHERE entity = 'repair_records' AND json_extract(fields, '$.fault') = '泵体漏水'");
    ensure!(repairs == 1, "the server holds {repairs} copies of the repair");
    let cards = s.count("SELECT count(*) FROM records WHERE entity = 'satisfaction_cards'");
    ensure!(cards == 2, "the server holds {cards} satisfaction cards, not 2");
    let answered = s.count("SELECT count(*) FROM records WHERE entity = 'inspection_answers'");
    let want = answers.as_array().unwrap().len() as i64 + 1;
    ensure!(answered == want, "the server holds {answered} inspection answers, not {want}");

    // Exactly once: another sync applies nothing.
    let feed = s.count("SELECT count(*) FROM feed");
    ctx.sync_now().await?;
    ctx.until("the repeated sync to finish", Duration::from_secs(30), || async {
        Ok((ctx.phase().await? == "online").then_some(()))
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = ctx.server.count("SELECT count(*) FROM feed");
    ensure!(again == feed, "a repeated sync changed the server's feed: {feed} -> {again}");

    // The office's answer to the escalation came back with the sync: shown under the repair.
    ctx.open_order("WO-1002").await?;
    ctx.click("#tab-repair").await?;
    ctx.until("the office's answer to show", WAIT, || async {
        Ok(ctx.text("[data-testid=esc-response]").await.ok().filter(|t| t.contains(ESCALATION_RESPONSE)).map(|_| ()))
    })
    .await?;
    ensure!(ctx.exists("ul.escalations li[data-status=resolved]").await?, "the answered escalation is not shown as resolved");
    ctx.shot("escalation-answered").await?;
    Ok(())
}

const ESCALATION_NOTE: &str = "主板疑似损坏，需工程师到场 / main board looks broken, need an engineer";
const ESCALATION_RESPONSE: &str = "工程师明早9点到场 / an engineer comes at 9 tomorrow";

/// Where the app under test keeps its store key.
#[derive(Clone, Copy, PartialEq)]
enum KeyStore {
    /// A Secret Service keyring (gnome-keyring-daemon, unlocked) on a private D-Bus session
    /// bus: the desktop a technician normally has.
    Keyring,
    /// No keyring at all: the app asks for a passphrase.
    Passphrase,
}

/// The app, started through tauri-driver on `display`, on the store `laptop_db`; `home` holds
/// its data, config, cache and runtime folders (and the test keyring).
struct App {
    client: Client,
    /// The private session bus of [`KeyStore::Keyring`], to read the keyring from the test.
    bus: Option<String>,
    _driver: Proc,
}

/// The test keyring's own password (it guards the keyring file in `home`, not the store).
const KEYRING_PASSWORD: &str = "e2e-login-password";

async fn launch(home: &Path, display: &str, laptop_db: &Path, keys: KeyStore) -> App {
    let (port, native_port) = (free_port(), free_port());
    let run = home.join("run");
    let tmp = home.join("tmp");
    for d in [&run, &tmp] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    }
    let bus_file = home.join("bus-address");
    let _ = std::fs::remove_file(&bus_file);
    let driver_args = ["--port".to_owned(), port.to_string(), "--native-port".to_owned(), native_port.to_string()];
    let mut cmd = match keys {
        KeyStore::Keyring => {
            // A session bus of the test's own with gnome-keyring unlocked on it, as a desktop
            // login gives; its address is written down so the test can read the keyring too.
            // The app starts only once the login keyring is the default collection: asked
            // before that, the Secret Service wants to create one and raises a password prompt
            // nobody answers on Xvfb, and the scenario hangs (seen once in CI).
            let mut c = Command::new("dbus-run-session");
            c.args(["--", "sh", "-c"])
                .arg(concat!(
                    r#"printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 1; "#,
                    r#"i=0; while [ $i -lt 100 ]; do "#,
                    r#"case "$(gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets --method org.freedesktop.Secret.Service.ReadAlias default 2>/dev/null)" in "#,
                    r#"*collection*) break;; esac; sleep 0.1; i=$((i+1)); done; "#,
                    r#"printf %s "$DBUS_SESSION_BUS_ADDRESS" > "$BUS_FILE"; exec "$@""#
                ))
                .arg("sh")
                .arg(tauri_driver())
                .args(driver_args)
                .env("KEYRING_PASSWORD", KEYRING_PASSWORD)
                .env("BUS_FILE", &bus_file);
            c
        }
        KeyStore::Passphrase => {
            let mut c = Command::new(tauri_driver());
            c.args(driver_args).env_remove("DBUS_SESSION_BUS_ADDRESS");
            c
        }
    };
    cmd.env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("FIELDBOOK_DB")
        .env_remove("FIELDBOOK_PASSPHRASE")
        .env_remove("FIELDBOOK_KEY_FILE")
        // The webview's own storage (language, "work offline") starts empty, like a new laptop.
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_RUNTIME_DIR", &run)
        // The app's temporary files (and an AppImage's extracted folder) where the test sees them.
        .env("TMPDIR", &tmp)
        .env("LANG", "C.UTF-8")
        .stdout(Stdio::null());
    let driver = Proc::spawn("tauri-driver", &mut cmd);
    wait_for_port(port, "tauri-driver", Duration::from_secs(20)).unwrap();
    let bus = (keys == KeyStore::Keyring).then(|| std::fs::read_to_string(&bus_file).expect("the keyring session's bus address"));

    let caps = json!({
        "browserName": "wry",
        "tauri:options": { "application": desktop_app(), "args": ["--db", laptop_db] },
    });
    // tauri-driver listens before its WebKitWebDriver does: the first tries may be refused.
    let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
    builder.capabilities(caps.as_object().unwrap().clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        match builder.connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(c) => break c,
            Err(e) if Instant::now() < deadline => {
                eprintln!("desktop_e2e: no WebDriver session yet ({e}); trying again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("cannot open a WebDriver session on the app through tauri-driver + WebKitWebDriver: {e}"),
        }
    };
    App { client, bus, _driver: driver }
}

/// The two scenarios each drive a whole app on a 2-core machine: one at a time.
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Customers' names and phones, signers and typed text the scenario puts in the store: none may
/// be readable in any byte of the laptop's data folder.
const SECRETS: &[&str] = &["金桥国际商业广场", "+86 21 5030 1234", "陈建国", "泵体漏水", "机械密封磨损", "li.wei"];

use fieldbook_testkit::files_containing;

/// The laptop's store after the scenario: encrypted (plain `sqlite3` cannot read it), kept the
/// way `keys` says, and no customer's data in any byte of its folder (store, WAL, attachments).
fn check_store_at_rest(laptop_dir: &Path, keys: KeyStore) -> Res {
    let db = laptop_dir.join("laptop.db");
    let protection = std::fs::read_to_string(laptop_dir.join("laptop.db.protection.json")).map_err(|e| format!("the store has no protection file: {e}"))?;
    let method = if keys == KeyStore::Keyring { "\"keyring\"" } else { "\"passphrase\"" };
    ensure!(protection.contains(method), "the store is not protected by {method}: {protection}");
    let out = Command::new("sqlite3").arg(&db).arg("SELECT count(*) FROM customers;").output().map_err(|e| format!("sqlite3: {e}"))?;
    ensure!(!out.status.success(), "plain sqlite3 read the laptop's store: {}", String::from_utf8_lossy(&out.stdout));
    let needles: Vec<&[u8]> = SECRETS.iter().map(|s| s.as_bytes()).collect();
    let found = files_containing(laptop_dir, &needles);
    ensure!(found.is_empty(), "customer data readable on the laptop's disk: {found:?}");
    Ok(())
}

/// The store key from the test keyring, looked up as another program on the desktop could.
fn key_from_keyring(bus: &str, laptop_dir: &Path) -> Res<String> {
    let protection: Value = serde_json::from_str(&std::fs::read_to_string(laptop_dir.join("laptop.db.protection.json")).unwrap()).unwrap();
    let account = format!("store-{}", protection["store_id"].as_str().unwrap());
    let out = Command::new("secret-tool").args(["lookup", "service", "fieldbook", "username", &account]).env("DBUS_SESSION_BUS_ADDRESS", bus).output().map_err(|e| format!("secret-tool: {e}"))?;
    let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    ensure!(out.status.success() && key.len() == 64, "the store key is not in the keyring under {account}: {}", String::from_utf8_lossy(&out.stderr));
    Ok(key)
}

/// One scenario's world: a temporary folder holding the demo server's database, the app's home
/// and the laptop's store folder, and a display of its own.
struct Rig {
    dir: tempfile::TempDir,
    _xvfb: Proc,
    display: String,
    home: PathBuf,
    laptop_dir: PathBuf,
}

impl Rig {
    fn start(prefix: &str) -> (Rig, Server) {
        let dir = tempfile::Builder::new().prefix(prefix).tempdir().expect("temp dir");
        let server = Server::with_demo(dir.path());
        let (xvfb, display) = start_xvfb();
        let home = dir.path().join("home");
        let laptop_dir = dir.path().join("laptop");
        std::fs::create_dir_all(&laptop_dir).unwrap();
        (Rig { dir, _xvfb: xvfb, display, home, laptop_dir }, server)
    }
}

/// The folder `FIELDBOOK_SCREENSHOTS` names (relative: to the repository), made if need be;
/// none when it is not set.
fn screenshot_dir() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var_os("FIELDBOOK_SCREENSHOTS").filter(|s| !s.is_empty())?);
    let p = if p.is_absolute() { p } else { repo_root().join(p) };
    std::fs::create_dir_all(&p).expect("create the screenshot folder");
    Some(p)
}

/// One scenario on a fresh rig: its own server and display, the app started on a store whose
/// key is in the keyring, screenshots when asked for; evidence kept if it fails.
async fn on_a_fresh_laptop(prefix: &str, scenario: impl AsyncFnOnce(&mut Ctx) -> Res) {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let (rig, server) = Rig::start(prefix);
    let app = launch(&rig.home, &rig.display, &rig.laptop_dir.join("laptop.db"), KeyStore::Keyring).await;
    let mut ctx = Ctx { c: app.client.clone(), server, shots: screenshot_dir(), locale: "en" };
    let result = scenario(&mut ctx).await;
    ctx.finish(rig.dir, result).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn technician_day_in_the_desktop_app() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let started = Instant::now();
    let (rig, server) = Rig::start("fieldbook-e2e-");
    let (dir, display, home, laptop_dir) = (&rig.dir, &rig.display, &rig.home, &rig.laptop_dir);
    let app = launch(&home, &display, &laptop_dir.join("laptop.db"), KeyStore::Keyring).await;
    let bus = app.bus.clone().unwrap();

    let mut ctx = Ctx { c: app.client.clone(), server, shots: screenshot_dir(), locale: "en" };
    let mut result = technician_day(&mut ctx).await;
    if result.is_ok() {
        // The store the day was typed into, at rest; its key only in the keyring.
        result = check_store_at_rest(&laptop_dir, KeyStore::Keyring).and_then(|()| {
            let key = key_from_keyring(&bus, &laptop_dir)?;
            let raw = hex::decode(&key).unwrap();
            let found = files_containing(dir.path(), &[key.as_bytes(), &raw]);
            ensure!(found.is_empty(), "the store key is in a file: {found:?}");
            Ok(())
        });
    }
    ctx.finish(rig.dir, result).await;
    eprintln!("desktop_e2e: the technician's day took {:.1} s", started.elapsed().as_secs_f64());
}

/// A laptop with no keyring: the first start asks for a passphrase to be chosen (twice); the
/// technician enrols and gets today's work; the next start shows nothing until the passphrase is
/// typed, and a wrong one is refused.
async fn passphrase_laptop(ctx: &mut Ctx, relaunch: impl AsyncFnOnce() -> Client) -> Res {
    const PASSPHRASE: &str = "李师傅 2026 春";
    ctx.find("[data-testid=unlock-screen]").await?;
    ctx.set_locale("en").await?;
    ensure!(ctx.exists("[data-testid=unlock-repeat]").await?, "a new store does not ask for the passphrase twice");
    ctx.type_into("[data-testid=unlock-passphrase]", PASSPHRASE).await?;
    ctx.type_into("[data-testid=unlock-repeat]", PASSPHRASE).await?;
    ctx.click("[data-testid=unlock-submit]").await?;
    ctx.find("#enrol-server").await?;
    ctx.enrol("li.wei").await?;

    // The app closes; the next start is locked.
    let _ = ctx.c.clone().close().await;
    ctx.c = relaunch().await;
    ctx.find("[data-testid=unlock-screen]").await?;
    ctx.set_locale("en").await?;
    ensure!(!ctx.exists("[data-testid=unlock-repeat]").await?, "an existing store asks for a new passphrase");
    ensure!(!ctx.exists("table").await?, "work orders are on screen before the store is unlocked");
    ctx.type_into("[data-testid=unlock-passphrase]", "李师傅 2025 秋").await?;
    ctx.click("[data-testid=unlock-submit]").await?;
    ctx.until("the wrong passphrase to be refused", WAIT, || async {
        Ok(ctx.text("[data-testid=unlock-problem]").await.ok().filter(|t| t.contains("Wrong passphrase")).map(|_| ()))
    })
    .await?;
    ctx.type_into("[data-testid=unlock-passphrase]", PASSPHRASE).await?;
    ctx.click("[data-testid=unlock-submit]").await?;
    ctx.find_xpath("//table//button[normalize-space()='WO-1001']").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_laptop_without_a_keyring_unlocks_with_its_passphrase() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let (rig, server) = Rig::start("fieldbook-e2e-pass-");
    let (display, home, laptop_dir) = (&rig.display, &rig.home, &rig.laptop_dir);
    let db = laptop_dir.join("laptop.db");
    let first = launch(&home, &display, &db, KeyStore::Passphrase).await;
    let mut ctx = Ctx { c: first.client.clone(), server, shots: None, locale: "en" };
    let mut apps = vec![first];
    let mut result = passphrase_laptop(&mut ctx, async || {
        apps.clear();
        let app = launch(&home, &display, &db, KeyStore::Passphrase).await;
        let c = app.client.clone();
        apps.push(app);
        c
    })
    .await;
    if result.is_ok() {
        result = check_store_at_rest(&laptop_dir, KeyStore::Passphrase);
    }
    ctx.finish(rig.dir, result).await;
}

/// What an administrator's installation must do: start, enrol, sync, open an order.
async fn smoke(ctx: &mut Ctx, app: &Path, tmp: &Path) -> Res {
    ctx.find("#enrol-server").await?;
    let url = ctx.c.current_url().await.map_err(|e| format!("current URL: {e}"))?;
    ensure!(url.scheme() == "tauri", "the app loaded {url}, not its embedded UI (tauri://localhost)");
    if is_appimage(app) {
        let running = appimage_folders(tmp);
        ensure!(running.len() == 1, "the AppImage does not run from one .mount_ folder in its TMPDIR: {running:?}");
    }
    ctx.set_locale("en").await?;
    ctx.enrol("li.wei").await?;
    ctx.sync_now().await?;
    ctx.wait_phase("online", WAIT).await?;
    ctx.open_order("WO-1001").await?;
    ensure!(ctx.exists("#tab-inspection").await?, "WO-1001 opened without its inspection tab");
    Ok(())
}

/// The smoke scenario, against `FIELDBOOK_DESKTOP_BIN` (`scripts/test.sh`: the installed .deb and
/// the AppImage) or the debug build. Nothing runs from an AppImage's
/// extracted folder once the app is closed (WebKitWebDriver kills the runtime outright, so the folder
/// itself is left abandoned and goes at the next start).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_start_enrol_sync_open_an_order() {
    let _one = ONE_APP_AT_A_TIME.lock().await;
    let started = Instant::now();
    let app_path = desktop_app();
    let (rig, server) = Rig::start("fieldbook-e2e-smoke-");
    let (display, home, laptop_dir) = (&rig.display, &rig.home, &rig.laptop_dir);
    let app = launch(&home, &display, &laptop_dir.join("laptop.db"), KeyStore::Keyring).await;
    let mut ctx = Ctx { c: app.client.clone(), server, shots: None, locale: "en" };
    let tmp = home.join("tmp");
    let mut result = smoke(&mut ctx, &app_path, &tmp).await;
    if result.is_ok() && is_appimage(&app_path) {
        // Closing the session ends the app. WebKitWebDriver kills the process it started (the
        // AppImage's runtime) outright, so the runtime cannot remove its folder; the app then
        // stops too (it gets SIGTERM when its runtime dies), which leaves the folder abandoned —
        // its lock file held by nobody — and the next start removes it (crates/fieldbook-appimage
        // tests). Either way nothing may still run from it.
        let _ = ctx.c.clone().close().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let in_use = || appimage_folders(&tmp).into_iter().filter(|f| lock_is_held(&tmp.join(f))).collect::<Vec<_>>();
        while !in_use().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let left = in_use();
        if !left.is_empty() {
            result = fail(format!("the AppImage's app still runs from {left:?} in {} after closing", tmp.display()));
        }
    }
    ctx.finish(rig.dir, result).await;
    drop(app);
    eprintln!("desktop_e2e: the smoke scenario on {} took {:.1} s", app_path.display(), started.elapsed().as_secs_f64());
}

/// Spare parts (#12): the office issues two smoke detectors to li.wei's van; the laptop shows them
/// on its Van screen; a repair using three is warned (the van holds two), saved all the same, and
/// the Van screen shows one less than nothing until the next sync moves the server's stock.
async fn van_over_use(ctx: &mut Ctx) -> Res {
    let catalogue = ctx.server.console(reqwest::Method::GET, "/console/api/parts/catalogue?q=SD-JTY", None).await?;
    let part = catalogue[0]["id"].as_str().ok_or("no smoke detector in the demo's catalogue")?.to_owned();
    ctx.server.console(reqwest::Method::POST, "/console/api/parts/movements", Some(json!({"kind": "goods_in", "part_id": part, "quantity": 10}))).await?;
    ctx.server
        .console(reqwest::Method::POST, "/console/api/parts/movements", Some(json!({"kind": "issue", "part_id": part, "quantity": 2, "technician": "li.wei"})))
        .await?;
    ctx.find("#enrol-server").await?;
    ctx.set_locale("en").await?;
    ctx.enrol("li.wei").await?;
    ctx.sync_now().await?;
    ctx.wait_phase("online", WAIT).await?;
    ctx.click("[data-testid=nav-van]").await?;
    ctx.until("the van's two detectors", WAIT, || async {
        Ok(ctx.text("[data-sku='SD-JTY-GD-G3'] [data-testid=van-available]").await.ok().filter(|t| t.trim().starts_with('2')).map(|_| ()))
    })
    .await?;
    ctx.shot("van").await?;

    ctx.open_order("WO-1002").await?;
    ctx.arrive().await?;
    ctx.click("#tab-repair").await?;
    ctx.type_into("#r-fault", "三只探测器报故障").await?;
    ctx.type_into("#r-cause", "受潮").await?;
    ctx.type_into("#r-action", "更换探测器").await?;
    ctx.click("input[name='r-category'][value='A']").await?;
    ctx.type_into("#r-minutes", "40").await?;
    ctx.click("[data-testid=r-add-part]").await?;
    let field = ctx.find("#r-part-0").await?;
    field.click().await.map_err(|e| format!("part field: {e}"))?;
    field.send_keys("SD-JTY-GD-G3").await.map_err(|e| format!("type the part: {e}"))?;
    ctx.find("#r-part-0-list [role=option]").await?;
    field.send_keys("\u{E007}").await.map_err(|e| format!("pick the part: {e}"))?; // Enter
    ctx.type_into("#r-qty-0", "3").await?;
    ctx.click("form.form button[type=submit]").await?;
    ctx.find("form.form .ok[role=status]").await?;
    let warning = ctx.text("[data-testid=r-over-van]").await?;
    ensure!(warning.contains("Your van holds 2") && warning.contains("uses 3"), "the over-use warning reads: {warning}");
    ctx.until("the repair to be listed", WAIT, || async { Ok(ctx.text("#repairs-title").await?.contains('1').then_some(())) }).await?;
    // The picture shows the warning, which sits under the form.
    ctx.js("document.querySelector('[data-testid=r-over-van]').scrollIntoView({block: 'center'}); return true;", vec![]).await?;
    ctx.shot("repair-over-van").await?;

    ctx.click("[data-testid=nav-van]").await?;
    ctx.until("the van to show the over-use", WAIT, || async {
        Ok(ctx.text("[data-sku='SD-JTY-GD-G3'] [data-testid=van-available]").await.ok().filter(|t| t.trim().starts_with("-1")).map(|_| ()))
    })
    .await?;
    ctx.sync_now().await?;
    ctx.until("the server's van to move by three, flagged", Duration::from_secs(60), || async {
        let flagged = ctx.server.console(reqwest::Method::GET, "/console/api/parts/movements?kind=use&over_use=1", None).await?;
        Ok((flagged["items"].as_array().map(Vec::len) == Some(1)).then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_using_more_than_the_van_holds_is_warned_and_saved() {
    on_a_fresh_laptop("fieldbook-e2e-van-", van_over_use).await
}

/// Time outside repairs (#12): the technician records an hour and a half of training (internal
/// work, D) on the Daily report screen, sees it in the report's activities and its day total;
/// a second entry that would take the day past 24 hours is refused with what still fits, and
/// nothing of it is written; after a sync the server holds the entry with its activity.
async fn internal_time(ctx: &mut Ctx) -> Res {
    ctx.find("#enrol-server").await?;
    ctx.set_locale("en").await?;
    ctx.enrol("li.wei").await?;
    ctx.click("[data-testid=nav-daily]").await?;
    ctx.find("#t-activity").await?;
    // Internal work is the form's first choice, in category D.
    ensure!(ctx.js("return document.querySelector('#t-category').value", vec![]).await? == json!("D"), "internal work does not start in category D");
    ctx.type_into("#t-minutes", "1:30").await?;
    ctx.type_into("#t-note", "消防规范培训 / fire code training").await?;
    ctx.click("#t-submit").await?;
    ctx.until("the entry to show in the day", WAIT, || async {
        Ok(ctx.text("#t-entries").await.ok().filter(|t| t.contains("fire code training")).map(|_| ()))
    })
    .await?;
    ctx.wait_attr("[data-testid=daily-activity-internal]", "data-minutes", "90").await?;
    ctx.wait_attr("#t-total", "data-minutes", "90").await?;
    ctx.shot("daily-report-time").await?;

    // More than the day can hold: refused before anything is written.
    let pending = ctx.pending().await?;
    ctx.type_into("#t-minutes", "1400").await?;
    ctx.click("#t-submit").await?;
    ctx.until("the day's limit to be named", WAIT, || async {
        Ok(ctx.text("#t-problems").await.ok().filter(|t| t.contains("more than 24 h")).map(|_| ()))
    })
    .await?;
    ensure!(ctx.attr("#t-total", "data-minutes").await? == "90", "the refused entry changed the day");
    ensure!(ctx.pending().await? <= pending, "the refused entry was queued");

    ctx.sync_now().await?;
    ctx.until("the entry to reach the server", Duration::from_secs(60), || async {
        let n = ctx.server.count(
            "SELECT count(*) FROM records WHERE entity = 'time_entries' AND json_extract(fields, '$.activity') = 'internal' \
             AND json_extract(fields, '$.minutes') = 90 AND json_extract(fields, '$.category') = 'D'",
        );
        Ok((n == 1).then_some(()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_time_in_the_daily_report() {
    on_a_fresh_laptop("fieldbook-e2e-time-", internal_time).await
}

/// Corrections and the workshop from the laptop (#12). On WO-1002's Details tab li.wei proposes
/// the customer's new phone; the office confirms it and the next sync brings the corrected phone
/// back. A repair taken to the workshop gets its receipt, signed by the customer on the pad; the
/// office books the unit in, records the repair card, passes the check and books it out; the
/// laptop shows each step after a sync and records the return the customer signs for, which
/// voids the receipt on the server.
async fn correction_and_workshop(ctx: &mut Ctx) -> Res {
    ctx.find("#enrol-server").await?;
    ctx.set_locale("en").await?;
    ctx.enrol("li.wei").await?;
    ctx.open_order("WO-1002").await?;
    ctx.arrive().await?;

    // A correction from site: the customer's phone.
    ctx.click("[data-testid=propose-correction]").await?;
    ctx.click("#corr-field option[value='phone']").await?;
    ctx.type_into("#corr-value", "+86 21 6789 5555").await?;
    ctx.type_into("#corr-note", "客户换了号码 / the customer has a new number").await?;
    ctx.click("[data-testid=corr-send]").await?;
    ctx.wait_attr("[data-testid=correction]", "data-status", "pending").await?;
    ctx.shot("correction").await?;
    ctx.sync_now().await?;
    let correction = ctx
        .until("the correction to reach the office", Duration::from_secs(60), || async {
            let list = ctx.server.console(reqwest::Method::GET, "/console/api/corrections", None).await?;
            Ok(list["items"].as_array().and_then(|a| a.iter().find(|c| c["value"] == "+86 21 6789 5555")).and_then(|c| c["id"].as_str()).map(str::to_owned))
        })
        .await?;
    ctx.server.console(reqwest::Method::POST, &format!("/console/api/corrections/{correction}/decide"), Some(json!({"decision": "confirm"}))).await?;
    ctx.sync_now().await?;
    ctx.until("the confirmed phone to come back", Duration::from_secs(60), || async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        ctx.open_order("WO-1002").await?;
        ctx.click("#tab-details").await?;
        Ok(ctx.text("[data-testid=d-customer-contact]").await.ok().filter(|t| t.contains("+86 21 6789 5555")).map(|_| ()))
    })
    .await?;
    ctx.wait_attr("[data-testid=correction]", "data-status", "confirmed").await?;

    // A repair whose unit goes to the workshop, and its receipt signed by the customer.
    ctx.click("#tab-repair").await?;
    ctx.type_into("#r-fault", "控制器主板故障").await?;
    ctx.type_into("#r-cause", "雷击").await?;
    ctx.type_into("#r-action", "带回维修站检修").await?;
    ctx.click("input[name='r-category'][value='A']").await?;
    ctx.type_into("#r-minutes", "30").await?;
    ctx.click("[data-testid=r-workshop]").await?;
    ctx.type_into("#r-receipt", "WS-2026-0042").await?;
    ctx.click("form.form button[type=submit]").await?;
    ctx.find("form.form .ok[role=status]").await?;
    ctx.click("[data-testid=ws-write-receipt]").await?;
    ctx.type_into("input[id^='ws-unit-']", "报警控制器 JB-QB-GST200").await?;
    ctx.type_into("input[id^='ws-serial-']", "GST-200-7781").await?;
    ctx.type_into("textarea[id^='ws-condition-']", "外壳完好，无法开机 / case intact, does not power on").await?;
    ctx.type_into("input[id^='ws-signer-']", "王经理").await?;
    ensure!(ctx.c.find_all(Locator::Css(".pad canvas")).await.map_err(|e| e.to_string())?.len() == 1, "one signature pad on the Repair tab");
    ctx.draw_signature().await?;
    ctx.click("[data-testid=ws-save-receipt]").await?;
    ctx.wait_attr("[data-testid^='workshop-'] ol.steps", "data-stage", "received").await?;
    ctx.sync_now().await?;
    let job = ctx
        .until("the receipt to reach the workshop", Duration::from_secs(60), || async {
            let list = ctx.server.console(reqwest::Method::GET, "/console/api/workshop", None).await?;
            Ok(list["items"].as_array().and_then(|a| a.iter().find(|j| j["receipt_number"] == "WS-2026-0042")).and_then(|j| j["id"].as_str()).map(str::to_owned))
        })
        .await?;

    // The workshop's steps, in the console.
    for step in [json!({"step": "goods_in"}), json!({"step": "repair_card", "minutes": 95, "done": "更换主板 / replaced the main board"}), json!({"step": "check", "result": "passed"}), json!({"step": "goods_out"})] {
        ctx.server.console(reqwest::Method::POST, &format!("/console/api/workshop/{job}/steps"), Some(step)).await?;
    }
    ctx.sync_now().await?;
    ctx.until("the steps to reach the laptop", Duration::from_secs(60), || async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        ctx.open_order("WO-1002").await?;
        ctx.click("#tab-repair").await?;
        Ok(ctx.attr("[data-testid^='workshop-'] ol.steps", "data-stage").await.ok().filter(|s| s == "goods_out").map(|_| ()))
    })
    .await?;
    ensure!(ctx.text("[data-testid^='workshop-'] ol.steps").await?.contains("更换主板"), "the repair card is not shown on the laptop");

    // The return, signed by the customer: the receipt is void.
    ctx.type_into("input[id^='ws-rsigner-']", "王经理").await?;
    ctx.draw_signature().await?;
    ctx.click("[data-testid=ws-save-return]").await?;
    ctx.wait_attr("[data-testid^='workshop-'] ol.steps", "data-stage", "returned").await?;
    ctx.js("document.querySelector(\"[data-testid^='workshop-']\").scrollIntoView({block: 'center'}); return true;", vec![]).await?;
    ctx.shot("workshop").await?;
    ctx.sync_now().await?;
    ctx.until("the return to reach the workshop", Duration::from_secs(60), || async {
        let d = ctx.server.console(reqwest::Method::GET, &format!("/console/api/workshop/{job}"), None).await?;
        Ok((d["job"]["stage"] == "returned" && d["job"]["receipt_voided_at"].is_string()).then_some(()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_from_site_and_a_unit_through_the_workshop() {
    on_a_fresh_laptop("fieldbook-e2e-workshop-", correction_and_workshop).await
}
