//! Updates in the desktop app (issue #14), on the mock runtime against the real server: a
//! release published on the server is offered after a sync; installing syncs first and refuses
//! while work is unsynced; a release whose signature does not verify with the built-in key is
//! refused and nothing changes; a correctly signed one passes the signature check.
//!
//! What this cannot reach: replacing the AppImage and restarting (the mock app is no AppImage,
//! so it stops at "updated by the package manager" after the signature check).

use std::net::SocketAddr;

use base64::Engine;
use fieldbook_core::Store;
use fieldbook_desktop::AppState;
use fieldbook_server::db::{Db, Mode};
use fieldbook_server::releases;
use serde_json::{json, Value};

mod common;
use common::{wait_for_status, MockApp};

struct Keys {
    public_b64: String,
    pk: minisign::PublicKey,
    sk: minisign::SecretKey,
}

impl Keys {
    fn generate() -> Keys {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let public_b64 =
            base64::engine::general_purpose::STANDARD.encode(kp.pk.to_box().unwrap().to_string());
        Keys {
            public_b64,
            pk: kp.pk,
            sk: kp.sk,
        }
    }

    /// What `tauri signer sign` writes to the `.sig` file.
    fn sign(&self, bytes: &[u8], version: &str) -> String {
        let comment = format!("timestamp:1\tfile:Fieldbook.AppImage\tversion:{version}");
        let sig = minisign::sign(
            Some(&self.pk),
            &self.sk,
            std::io::Cursor::new(bytes),
            Some(&comment),
            None,
        )
        .unwrap();
        base64::engine::general_purpose::STANDARD.encode(sig.to_string())
    }
}

fn publish(
    rt: &tokio::runtime::Runtime,
    db: &Db,
    version: &str,
    bytes: Vec<u8>,
    signature: String,
) {
    let (db, version) = (db.clone(), semver::Version::parse(version).unwrap());
    rt.block_on(tokio::task::spawn_blocking(move || {
        db.transaction(Mode::Write, |tx| {
            releases::add(
                tx,
                &releases::NewRelease {
                    version: &version,
                    target: "linux-x86_64",
                    notes_en: Some("Faster search"),
                    notes_zh: Some("搜索更快"),
                    file_name: "Fieldbook.AppImage",
                    bytes: &bytes,
                    signature: &signature,
                },
            )
        })
        .unwrap()
    }))
    .unwrap();
}

fn start(
    rt: &tokio::runtime::Runtime,
    db: &Db,
    addr: SocketAddr,
) -> fieldbook_server::server::Running {
    rt.block_on(fieldbook_server::server::start(db.clone(), addr, None))
        .unwrap()
}

fn wait_for_update(app: &MockApp, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let v = app.invoke("update_status", json!({})).unwrap();
        if done(&v) || std::time::Instant::now() > deadline {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn a_build_without_the_key_has_updates_off() {
    let dir = tempfile::tempdir().unwrap();
    let app = MockApp::new(AppState::new(
        Store::open(
            &dir.path().join("laptop.db"),
            &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32]),
        )
        .unwrap(),
    ));
    let v = app.invoke("update_status", json!({})).unwrap();
    assert_eq!(v["off_reason"], "no_key", "{v}");
    assert_eq!(v["offered"], Value::Null);
    let v = app.invoke("check_update", json!({})).unwrap();
    assert_eq!(
        v["off_reason"], "no_key",
        "a build without the key never asks: {v}"
    );
    assert_eq!(
        app.invoke("install_update", json!({})).unwrap_err()["kind"],
        "update_none"
    );
}

#[test]
fn an_offered_release_installs_only_with_everything_synced_and_a_good_signature() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let _in_runtime = rt.enter();
    let office = rt.block_on(common::Office::with_demo());
    let db = office.db.clone();
    let code = office.write(&rt, |tx| {
        fieldbook_server::enrolment::issue_code(tx, "li.wei", 1)
    });
    let keys = Keys::generate();
    let other = Keys::generate();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("laptop.db");
    let app = MockApp::with_updates(
        AppState::new(
            Store::open(
                &path,
                &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32]),
            )
            .unwrap(),
        ),
        &keys.public_b64,
    );
    let addr = office.running.addr;
    app.invoke(
        "enroll",
        json!({"server_url": office.running.url(), "code": code}),
    )
    .unwrap();
    wait_for_status(&app, |s| s["last_success_at"].is_string());
    let v = wait_for_update(&app, |v| {
        v["offered"].is_null() && !v["busy"].as_bool().unwrap()
    });
    assert_eq!(v["off_reason"], Value::Null, "{v}");
    assert_eq!(v["offered"], Value::Null, "nothing published yet: {v}");
    assert_eq!(
        v["installed"], "package_manager",
        "the test process is no AppImage: {v}"
    );

    // A release signed with another key (the server was not given the public key, so it
    // publishes it): offered after the next sync, refused by the laptop.
    publish(
        &rt,
        &db,
        "9.0.0",
        b"not our build".to_vec(),
        other.sign(b"not our build", "9.0.0"),
    );
    app.invoke("sync_now", json!({})).unwrap();
    let v = wait_for_update(&app, |v| v["offered"]["version"] == "9.0.0");
    assert_eq!(
        v["offered"]["version"], "9.0.0",
        "offered after a sync: {v}"
    );
    assert_eq!(v["offered"]["notes_zh"], "搜索更快");
    assert_eq!(v["offered"]["notes_en"], "Faster search");
    let e = app.invoke("install_update", json!({})).unwrap_err();
    assert_eq!(e["kind"], "update_bad_signature", "{e}");
    let v = app.invoke("update_status", json!({})).unwrap();
    assert_eq!(v["last_error"]["kind"], "update_bad_signature", "{v}");
    assert_eq!(v["busy"], false);

    // Work typed while the server is away: installing syncs first, the sync fails, nothing is
    // installed and the work stays.
    rt.block_on(office.running.stop()).unwrap();
    app.invoke(
        "set_status",
        json!({"order": "WO-1001", "status": "en_route"}),
    )
    .unwrap();
    let e = app.invoke("install_update", json!({})).unwrap_err();
    assert_eq!(e["kind"], "update_sync_failed", "{e}");
    assert_eq!(
        app.invoke("sync_status", json!({})).unwrap()["pending_changes"],
        1
    );

    // The admin withdraws the bad release and publishes a correctly signed one; the server is
    // back. Installing pushes the waiting change first, then the download verifies — and this
    // copy, installed as a package, is told to update through its package manager.
    let running = start(&rt, &db, addr);
    let (db2, v900) = (db.clone(), semver::Version::new(9, 0, 0));
    rt.block_on(tokio::task::spawn_blocking(move || {
        db2.transaction(Mode::Write, |tx| {
            releases::withdraw(tx, &v900, "linux-x86_64")
        })
    }))
    .unwrap()
    .unwrap();
    publish(
        &rt,
        &db,
        "9.1.0",
        b"our build 9.1.0".to_vec(),
        keys.sign(b"our build 9.1.0", "9.1.0"),
    );
    let v = app.invoke("check_update", json!({})).unwrap();
    assert_eq!(v["offered"]["version"], "9.1.0", "{v}");
    let e = app.invoke("install_update", json!({})).unwrap_err();
    assert_eq!(
        e["kind"], "update_package_manager",
        "the signature verified and nothing was replaced: {e}"
    );
    assert_eq!(
        app.invoke("sync_status", json!({})).unwrap()["pending_changes"],
        0,
        "synced before installing"
    );
    rt.block_on(running.stop()).unwrap();
}
