//! The `fieldbook-server` command on both backends: demo set-up whose enrolment code works,
//! users, import, devices; and a database from a newer server refused untouched.

mod common;
use common::both;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{blocking, error_of, Backend, Laptop, TestServer};
use fieldbook_core::sync::protocol::EnrollRequest;
use fieldbook_server::db::{Db, Mode};
use reqwest::Method;

both!(demo_users_import_and_devices_from_the_command_line, a_database_from_a_newer_server_is_refused);

fn cli(database: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fieldbook-server"))
        .args(args)
        .args(["--database", database])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(out: Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    text
}

async fn demo_users_import_and_devices_from_the_command_line(b: Backend) {
    let db = common::fresh_db(b);
    let url = db.url.clone();
    let out = {
        let url = url.clone();
        ok(blocking(move || cli(&url, &["demo"], None)).await)
    };
    assert!(out.contains("li.wei") && out.contains("password:") && out.contains("6 work orders"), "{out}");
    let code = out.lines().find_map(|l| l.strip_prefix("Enrolment code for li.wei's laptop (72 h): ")).expect("a code").trim().to_owned();
    let s = TestServer::on(&url).await;
    // The printed code enrols a laptop, once.
    let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let req = EnrollRequest { code: code.clone(), device_id: "cli-laptop".into(), public_key: hex::encode(key.verifying_key().as_bytes()), device_name: None };
    assert_eq!(s.req(Method::POST, "/api/enroll").json(&req).send().await.unwrap().status(), 200);
    let mut li = Laptop::enroll(&s, "li.wei").await;
    assert!(li.pull_all(&s).await.iter().any(|c| c.entity == "work_orders"), "the demo orders are in li.wei's feed");

    // Users: an office login with a password from stdin works for office endpoints.
    let url2 = url.clone();
    ok(blocking(move || cli(&url2, &["user", "add", "wang.fang", "--role", "office", "--name", "王芳", "--password-stdin"], Some("s3cret-pass\n"))).await);
    let r = s.req(Method::GET, "/api/attachments/missing").basic_auth("wang.fang", Some("s3cret-pass")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let url2 = url.clone();
    let dup = blocking(move || cli(&url2, &["user", "add", "wang.fang", "--role", "office", "--password", "another-pass"], None)).await;
    assert!(!dup.status.success() && String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    // A technician's login cannot use office endpoints.
    let url2 = url.clone();
    ok(blocking(move || cli(&url2, &["user", "add", "zhao.lei", "--role", "technician", "--password", "tech-password"], None)).await);
    let r = s.req(Method::GET, "/api/attachments/missing").basic_auth("zhao.lei", Some("tech-password")).send().await.unwrap();
    assert_eq!(error_of(r, 403).await.kind, "forbidden");

    // Import: a broken file changes nothing and says why; a good one is imported with --rebase-dates.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"format": "fieldbook-import/1", "sites": [{"code": "S", "customer": "NOPE", "name": "n", "address": "a", "region": "r", "zone": "urban"}]}"#).unwrap();
    let (url2, bad2) = (url.clone(), bad.display().to_string());
    let out = blocking(move || cli(&url2, &["import", &bad2], None)).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("customer 'NOPE' is neither in the file nor on the server"));
    let good = dir.path().join("good.json");
    std::fs::write(&good, fieldbook_server::demo::DEMO_IMPORT).unwrap();
    let (url2, good2) = (url.clone(), good.display().to_string());
    let out = ok(blocking(move || cli(&url2, &["import", &good2, "--rebase-dates"], None)).await);
    assert!(out.contains("(0 records changed)"), "the demo was already imported rebased to today: {out}");

    // Devices: listed, revoked with a wipe order, refused.
    let url2 = url.clone();
    let list = ok(blocking(move || cli(&url2, &["device", "list"], None)).await);
    assert!(list.contains("cli-laptop") && list.contains(&li.device_id) && list.contains("active"), "{list}");
    let (url2, dev) = (url.clone(), li.device_id.clone());
    ok(blocking(move || cli(&url2, &["device", "revoke", &dev, "--reason", "lost on the metro", "--wipe"], None)).await);
    let e = error_of(li.auth(s.req(Method::GET, "/api/sync/pull")).send().await.unwrap(), 403).await;
    assert!(e.wipe && e.message.contains("lost on the metro"));
    let url2 = url.clone();
    let list = ok(blocking(move || cli(&url2, &["device", "list"], None)).await);
    assert!(list.contains("revoked: lost on the metro (wipe ordered)"), "{list}");
    let url2 = url.clone();
    let out = blocking(move || cli(&url2, &["device", "revoke", "no-such-laptop", "--reason", "x"], None)).await;
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no device 'no-such-laptop'"));
    let url2 = url.clone();
    let out = blocking(move || cli(&url2, &["enroll", "wang.fang"], None)).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a technician"));
    drop(db);
}

async fn a_database_from_a_newer_server_is_refused(b: Backend) {
    let db = common::fresh_db(b);
    let url = db.url.clone();
    let err = blocking(move || {
        let opened = Db::open(&url).unwrap();
        opened.transaction(Mode::Write, |tx| tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 'later')", &[])).unwrap();
        drop(opened);
        Db::open(&url).err().expect("a newer schema must be refused").to_string()
    })
    .await;
    assert!(err.contains("schema version 99") && err.contains("update this one") && err.contains("nothing was changed"), "{err}");
    let url = db.url.clone();
    let out = blocking(move || cli(&url, &["device", "list"], None)).await;
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("schema version 99"));
}
