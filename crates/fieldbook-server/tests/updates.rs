//! Desktop releases (issue #14): the admin publishes a signed build with `fieldbook-server
//! release add`, a laptop running an older version is offered it in Tauri's dynamic update
//! format and downloads it; and from the attacker's side: no token, a revoked laptop, path
//! tricks in the platform and version, a release whose signature does not verify, a withdrawn
//! release. On SQLite and PostgreSQL.
//!
//! Keys and signatures are made as `tauri signer generate` / `tauri signer sign` make them
//! (the `minisign` crate, which the Tauri CLI uses): base64 of minisign's key and signature files.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine;
use common::{both, error_of, Backend, Laptop, TestServer};
use fieldbook_server::db::Mode;
use reqwest::Method;
use serde_json::Value;

both!(
    a_published_release_is_offered_to_older_laptops_and_downloads_as_signed,
    a_release_whose_signature_does_not_verify_is_refused_when_the_server_has_the_key,
    only_an_enrolled_unrevoked_laptop_may_ask_or_download,
    platform_and_version_in_the_path_are_checked,
    a_withdrawn_release_is_offered_to_nobody_and_its_version_is_never_reused,
);

/// A throwaway updater key pair, as `tauri signer generate -w KEY` makes it.
pub struct Keys {
    pub public_b64: String,
    pk: minisign::PublicKey,
    sk: minisign::SecretKey,
}

impl Keys {
    pub fn generate() -> Keys {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let public_b64 = b64(&kp.pk.to_box().unwrap().to_string());
        Keys { public_b64, pk: kp.pk, sk: kp.sk }
    }

    /// The content of the `.sig` file `tauri signer sign` writes for `bytes`.
    pub fn sign(&self, bytes: &[u8], version: &str) -> String {
        let comment = format!("timestamp:1\tfile:Fieldbook.AppImage\tversion:{version}");
        let sig = minisign::sign(Some(&self.pk), &self.sk, std::io::Cursor::new(bytes), Some(&comment), Some("signature from tauri secret key")).unwrap();
        b64(&sig.to_string())
    }
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

fn cli(database: &str, args: &[&str], pubkey: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fieldbook-server"));
    c.args(args).args(["--database", database]).env("RUST_LOG", "warn").env_remove("FIELDBOOK_UPDATER_PUBKEY");
    if let Some(k) = pubkey {
        c.env("FIELDBOOK_UPDATER_PUBKEY", k);
    }
    c.output().unwrap()
}

fn ok(out: Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    text
}

fn refused(out: Output) -> String {
    assert!(!out.status.success(), "accepted: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// An artifact and its `.sig` written to `dir`.
fn artifact(dir: &Path, name: &str, bytes: &[u8], sig: &str) -> (String, String) {
    let file = dir.join(name);
    std::fs::write(&file, bytes).unwrap();
    let sig_file = dir.join(format!("{name}.sig"));
    std::fs::write(&sig_file, sig).unwrap();
    (file.display().to_string(), sig_file.display().to_string())
}

/// `release add` run off the async threads.
async fn add(db_url: &str, version: &str, file: &str, sig: &str, pubkey: Option<&str>, extra: &[&str]) -> Output {
    let (db_url, version, file, sig, pubkey) = (db_url.to_owned(), version.to_owned(), file.to_owned(), sig.to_owned(), pubkey.map(str::to_owned));
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    common::blocking(move || {
        let mut args = vec!["release", "add", "--version", &version, "--file", &file, "--signature", &sig];
        args.extend(extra.iter().map(String::as_str));
        cli(&db_url, &args, pubkey.as_deref())
    })
    .await
}

async fn check(s: &TestServer, token: &str, path: &str) -> reqwest::Response {
    s.req(Method::GET, path).bearer_auth(token).send().await.unwrap()
}

async fn release_rows(s: &TestServer) -> i64 {
    s.run_db(|db| db.transaction(Mode::Read, |tx| tx.query_one("SELECT COUNT(*) FROM releases", &[])?.int(0))).await.unwrap()
}

async fn chunk_rows(s: &TestServer) -> i64 {
    s.run_db(|db| db.transaction(Mode::Read, |tx| tx.query_one("SELECT COUNT(*) FROM release_chunks", &[])?.int(0))).await.unwrap()
}

async fn a_published_release_is_offered_to_older_laptops_and_downloads_as_signed(b: Backend) {
    let s = TestServer::empty(b).await;
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::generate();
    // Larger than one stored chunk, so the download is put together from several.
    let bytes: Vec<u8> = (0..(9 * 1024 * 1024 + 17)).map(|i| (i % 251) as u8).collect();
    let (file, sig) = artifact(dir.path(), "Fieldbook_0.2.0_amd64.AppImage", &bytes, &keys.sign(&bytes, "0.2.0"));
    let out = ok(add(&s.db_url, "0.2.0", &file, &sig, Some(&keys.public_b64), &["--notes-en", "Faster search", "--notes-zh", "搜索更快"]).await);
    assert!(out.contains("published 0.2.0 for linux-x86_64") && out.contains("signature verified"), "{out}");
    assert_eq!(chunk_rows(&s).await, 3);
    let listed = ok(common::blocking({
        let u = s.db_url.clone();
        move || cli(&u, &["release", "list"], None)
    })
    .await);
    assert!(listed.contains("0.2.0") && listed.contains("linux-x86_64") && listed.contains("offered"), "{listed}");

    let li = Laptop::enroll(&s, "li.wei").await;
    let r = check(&s, &li.token, "/api/updates/linux/x86_64/0.1.0").await;
    assert_eq!(r.status(), 200);
    let offer: Value = r.json().await.unwrap();
    assert_eq!(offer["version"], "0.2.0");
    assert_eq!(offer["notes_en"], "Faster search");
    assert_eq!(offer["notes_zh"], "搜索更快");
    assert!(offer["notes"].as_str().unwrap().contains("Faster search"));
    assert!(chrono::DateTime::parse_from_rfc3339(offer["pub_date"].as_str().unwrap()).is_ok());
    let url = offer["url"].as_str().unwrap();
    assert!(url.starts_with(&s.url) && url.contains("/api/updates/download/"), "{url}");

    // The download is the published file, and its signature verifies with the public key as the
    // updater checks it (base64 of the key file, base64 of the signature file).
    let path = url.strip_prefix(&s.url).unwrap();
    let r = check(&s, &li.token, path).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], bytes.len().to_string().as_str());
    let got = r.bytes().await.unwrap();
    assert!(got[..] == bytes[..], "the downloaded bytes differ from the published file");
    let key = fieldbook_server::releases::decode_public_key(&keys.public_b64).unwrap();
    fieldbook_server::releases::verify(&got, offer["signature"].as_str().unwrap(), &key).unwrap();

    // Nothing newer for the same or a newer version; a newer release wins over an older one.
    for current in ["0.2.0", "0.3.0", "1.0.0"] {
        assert_eq!(check(&s, &li.token, &format!("/api/updates/linux/x86_64/{current}")).await.status(), 204, "{current}");
    }
    let small = b"version 0.10.0".to_vec();
    let (file, sig) = artifact(dir.path(), "Fieldbook_0.10.0_amd64.AppImage", &small, &keys.sign(&small, "0.10.0"));
    ok(add(&s.db_url, "0.10.0", &file, &sig, Some(&keys.public_b64), &[]).await);
    let offer: Value = check(&s, &li.token, "/api/updates/linux/x86_64/0.1.0").await.json().await.unwrap();
    assert_eq!(offer["version"], "0.10.0", "semver order, not text order");
    assert_eq!(offer["notes"], "");
    // Another platform is offered nothing.
    assert_eq!(check(&s, &li.token, "/api/updates/windows/x86_64/0.1.0").await.status(), 204);
}

async fn a_release_whose_signature_does_not_verify_is_refused_when_the_server_has_the_key(b: Backend) {
    let s = TestServer::empty(b).await;
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::generate();
    let other = Keys::generate();
    let bytes = b"the real build".to_vec();

    // A file changed after signing.
    let (file, sig) = artifact(dir.path(), "changed.AppImage", b"the real build, changed", &keys.sign(&bytes, "0.2.0"));
    let err = refused(add(&s.db_url, "0.2.0", &file, &sig, Some(&keys.public_b64), &[]).await);
    assert!(err.contains("does not verify") && err.contains("Nothing was published"), "{err}");
    // Signed with another key.
    let (file, sig) = artifact(dir.path(), "other-key.AppImage", &bytes, &other.sign(&bytes, "0.2.0"));
    let err = refused(add(&s.db_url, "0.2.0", &file, &sig, Some(&keys.public_b64), &[]).await);
    assert!(err.contains("does not verify"), "{err}");
    // Not a signature at all.
    let (file, sig) = artifact(dir.path(), "garbage.AppImage", &bytes, "not a signature");
    let err = refused(add(&s.db_url, "0.2.0", &file, &sig, Some(&keys.public_b64), &[]).await);
    assert!(err.contains("signature"), "{err}");
    // Signed for another version, or bound to none (laptops require the signed version to be
    // the announced one), refused with or without the key.
    for key in [Some(keys.public_b64.as_str()), None] {
        let (file, sig) = artifact(dir.path(), "v.AppImage", &bytes, &keys.sign(&bytes, "0.1.0"));
        let err = refused(add(&s.db_url, "0.2.0", &file, &sig, key, &[]).await);
        assert!(err.contains("bound to version 0.1.0, not 0.2.0") && err.contains("--app-version 0.2.0"), "{err}");
    }
    let unbound = b64(&minisign::sign(Some(&keys.pk), &keys.sk, std::io::Cursor::new(&bytes), Some("timestamp:1\tfile:x"), None).unwrap().to_string());
    let (file, sig) = artifact(dir.path(), "unbound.AppImage", &bytes, &unbound);
    let err = refused(add(&s.db_url, "0.2.0", &file, &sig, Some(&keys.public_b64), &[]).await);
    assert!(err.contains("not bound to a version"), "{err}");
    // A public key that is not one.
    let (file, sig) = artifact(dir.path(), "good.AppImage", &bytes, &keys.sign(&bytes, "0.2.0"));
    let err = refused(add(&s.db_url, "0.2.0", &file, &sig, Some("bm90IGEga2V5"), &[]).await);
    assert!(err.contains("FIELDBOOK_UPDATER_PUBKEY"), "{err}");
    assert_eq!(release_rows(&s).await, 0, "nothing half-written");
    assert_eq!(chunk_rows(&s).await, 0);

    // Without the key the server cannot tell: it publishes, says so, and the laptop's check is
    // the one that refuses it (the laptop side is tests/desktop_update.rs).
    let (file, sig) = artifact(dir.path(), "unchecked.AppImage", &bytes, &other.sign(&bytes, "0.2.0"));
    let out = ok(add(&s.db_url, "0.2.0", &file, &sig, None, &[]).await);
    assert!(out.contains("NOT checked"), "{out}");
    let li = Laptop::enroll(&s, "li.wei").await;
    let offer: Value = check(&s, &li.token, "/api/updates/linux/x86_64/0.1.0").await.json().await.unwrap();
    let got = check(&s, &li.token, offer["url"].as_str().unwrap().strip_prefix(&s.url).unwrap()).await.bytes().await.unwrap();
    let key = fieldbook_server::releases::decode_public_key(&keys.public_b64).unwrap();
    assert!(fieldbook_server::releases::verify(&got, offer["signature"].as_str().unwrap(), &key).is_err());
}

async fn only_an_enrolled_unrevoked_laptop_may_ask_or_download(b: Backend) {
    let s = TestServer::empty(b).await;
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::generate();
    let bytes = b"0.2.0".to_vec();
    let (file, sig) = artifact(dir.path(), "a.AppImage", &bytes, &keys.sign(&bytes, "0.2.0"));
    ok(add(&s.db_url, "0.2.0", &file, &sig, Some(&keys.public_b64), &[]).await);
    let li = Laptop::enroll(&s, "li.wei").await;
    let offer: Value = check(&s, &li.token, "/api/updates/linux/x86_64/0.1.0").await.json().await.unwrap();
    let download = offer["url"].as_str().unwrap().strip_prefix(&s.url).unwrap().to_owned();

    for path in ["/api/updates/linux/x86_64/0.1.0", download.as_str()] {
        // No token; a made-up one; an office password is not a laptop.
        let r = s.req(Method::GET, path).send().await.unwrap();
        assert_eq!(error_of(r, 401).await.kind, "unauthorized", "{path}");
        let r = check(&s, "not-a-token", path).await;
        assert_eq!(error_of(r, 401).await.kind, "unauthorized", "{path}");
        let r = s.req(Method::GET, path).basic_auth("li.wei", Some("whatever")).send().await.unwrap();
        assert!(r.status() == 401, "{path}: {}", r.status());
        // Without the protocol header (the updater sends it like every sync request).
        let r = s.client.get(format!("{}{path}", s.url)).bearer_auth(&li.token).send().await.unwrap();
        assert_eq!(r.status(), 426, "{path}");
    }
    let id = li.device_id.clone();
    s.run_db(move |db| db.transaction(Mode::Write, |tx| fieldbook_server::devices::revoke(tx, &id, "stolen", false))).await.unwrap();
    for path in ["/api/updates/linux/x86_64/0.1.0", download.as_str()] {
        let r = check(&s, &li.token, path).await;
        assert_eq!(error_of(r, 403).await.kind, "device_revoked", "{path}");
    }
}

async fn platform_and_version_in_the_path_are_checked(b: Backend) {
    let s = TestServer::empty(b).await;
    let li = Laptop::enroll(&s, "li.wei").await;
    for path in [
        "/api/updates/linux/x86_64/latest",
        "/api/updates/linux/x86_64/0.1.0%2F..%2F..",
        "/api/updates/..%2F..%2Fetc/x86_64/0.1.0",
        "/api/updates/linux/..%2Fpasswd/0.1.0",
        "/api/updates/linux/X86_64/0.1.0",
        "/api/updates/linux/x86_64%00/0.1.0",
        "/api/updates/linux-x86/64/0.1.0",
        "/api/updates/download/..%2F..%2Fetc%2Fpasswd",
        "/api/updates/download/-1",
        "/api/updates/download/0",
    ] {
        let r = check(&s, &li.token, path).await;
        assert_eq!(error_of(r, 400).await.kind, "invalid", "{path}");
    }
    // Segments that do not fit the route at all.
    for path in ["/api/updates/linux/x86_64/..", "/api/updates/linux/x86_64/0.1.0/../../../status", "/api/updates/download/1/2"] {
        let r = check(&s, &li.token, path).await;
        assert!(r.status() == 404 || r.status() == 400, "{path}: {}", r.status());
    }
    // A release number that does not exist.
    let r = check(&s, &li.token, "/api/updates/download/999").await;
    assert_eq!(error_of(r, 404).await.kind, "not_found");
}

async fn a_withdrawn_release_is_offered_to_nobody_and_its_version_is_never_reused(b: Backend) {
    let s = TestServer::empty(b).await;
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::generate();
    let li = Laptop::enroll(&s, "li.wei").await;
    for v in ["0.2.0", "0.3.0"] {
        let bytes = format!("build {v}").into_bytes();
        let (file, sig) = artifact(dir.path(), &format!("{v}.AppImage"), &bytes, &keys.sign(&bytes, v));
        ok(add(&s.db_url, v, &file, &sig, Some(&keys.public_b64), &[]).await);
    }
    let offer: Value = check(&s, &li.token, "/api/updates/linux/x86_64/0.1.0").await.json().await.unwrap();
    assert_eq!(offer["version"], "0.3.0");
    let download = offer["url"].as_str().unwrap().strip_prefix(&s.url).unwrap().to_owned();

    let u = s.db_url.clone();
    let out = ok(common::blocking(move || cli(&u, &["release", "remove", "--version", "0.3.0"], None)).await);
    assert!(out.contains("withdrew 0.3.0"), "{out}");
    // The older one is offered again; the withdrawn one's bytes are gone.
    let offer: Value = check(&s, &li.token, "/api/updates/linux/x86_64/0.1.0").await.json().await.unwrap();
    assert_eq!(offer["version"], "0.2.0");
    assert_eq!(error_of(check(&s, &li.token, &download).await, 404).await.kind, "not_found");
    let u = s.db_url.clone();
    let listed = ok(common::blocking(move || cli(&u, &["release", "list"], None)).await);
    assert!(listed.lines().any(|l| l.starts_with("0.3.0") && l.contains("withdrawn")), "{listed}");

    // A version once published is not published again, withdrawn or not.
    for v in ["0.2.0", "0.3.0"] {
        let bytes = b"another build".to_vec();
        let (file, sig) = artifact(dir.path(), "again.AppImage", &bytes, &keys.sign(&bytes, v));
        let err = refused(add(&s.db_url, v, &file, &sig, Some(&keys.public_b64), &[]).await);
        assert!(err.contains("already published") && err.contains("higher version"), "{err}");
    }
    // Bad input to the command names the fix.
    let bytes = b"x".to_vec();
    let (file, sig) = artifact(dir.path(), "x.AppImage", &bytes, &keys.sign(&bytes, "0.4.0"));
    assert!(refused(add(&s.db_url, "latest", &file, &sig, None, &[]).await).contains("MAJOR.MINOR.PATCH"));
    assert!(refused(add(&s.db_url, "0.4.0", &file, &sig, None, &["--target", "../linux"]).await).contains("linux-x86_64"));
    let u = s.db_url.clone();
    assert!(refused(common::blocking(move || cli(&u, &["release", "remove", "--version", "9.9.9"], None)).await).contains("no release 9.9.9"));
}
