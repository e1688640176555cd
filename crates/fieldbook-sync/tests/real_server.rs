//! The client against the real `fieldbook-server`, started in-process on 127.0.0.1:0 over an
//! SQLite database with the demo company: enrolment, the first sync, work pushed and seen by
//! the office, an idempotent re-push, photo upload, and revocation.

use std::io::Write;
use std::sync::{Arc, Mutex};

use fieldbook_core::model::Status;
use fieldbook_core::sync::protocol::{PushRequest, PushResponse, PROTOCOL_HEADER, PROTOCOL_VERSION};
use fieldbook_core::Store;
use fieldbook_server::db::{Db, Mode};
use fieldbook_server::server::{self, Running};
use fieldbook_server::{attachments, devices, enrolment, import, records, users};
use fieldbook_sync::{ClientOptions, SyncClient, SyncError};
use serde_json::json;

struct Office {
    db: Db,
    running: Running,
    _dir: tempfile::TempDir,
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

impl Office {
    async fn with_demo() -> Office {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("server.db").display());
        let db = blocking(move || {
            let db = Db::open(&url).unwrap();
            db.transaction(Mode::Write, |tx| {
                users::add(tx, "li.wei", users::Role::Technician, "李伟", None)?;
                users::add(tx, "zhang.min", users::Role::Technician, "张敏", None)
            })
            .unwrap();
            let doc = fieldbook_core::import::ImportDocument::from_json(fieldbook_server::demo::DEMO_IMPORT, "demo").unwrap();
            db.transaction(Mode::Feed, |tx| import::import(tx, &doc, "demo.json")).unwrap();
            db
        })
        .await;
        let running = server::start(db.clone(), "127.0.0.1:0".parse().unwrap(), None).await.unwrap();
        Office { db, running, _dir: dir }
    }

    fn url(&self) -> String {
        self.running.url()
    }

    async fn code_for(&self, technician: &'static str) -> String {
        let db = self.db.clone();
        blocking(move || db.transaction(Mode::Write, |tx| enrolment::issue_code(tx, technician, 1)).unwrap()).await
    }

    async fn db<T: Send + 'static>(&self, f: impl FnOnce(&Db) -> T + Send + 'static) -> T {
        let db = self.db.clone();
        blocking(move || f(&db)).await
    }
}

fn laptop(dir: &tempfile::TempDir) -> SyncClient {
    let store = Store::open(&dir.path().join("laptop.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    SyncClient::with_options(Arc::new(Mutex::new(store)), ClientOptions::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_technicians_day_syncs_with_the_real_server() {
    let office = Office::with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let client = laptop(&dir);

    let code = office.code_for("li.wei").await;
    let e = client.enroll(&office.url(), &code).await.unwrap();
    assert_eq!(e.technician, "li.wei");

    let r = client.sync_once().await.unwrap();
    assert_eq!(r.pushed, 0);
    assert!(r.pulled > 0 && r.bytes_down > 0, "{r:?}");
    let (wo, outbox) = {
        let s = client.store().lock().unwrap();
        assert!(s.find_order("WO-1004").is_err(), "zhang.min's order is not in li.wei's feed");
        (s.find_order("WO-1001").unwrap(), s.outbox_len().unwrap())
    };
    assert_eq!(outbox, 0);

    // The day's work: on the way, on site, a photo.
    let photo: Vec<u8> = (0..600_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let (entries, photo_id) = {
        let mut s = client.store().lock().unwrap();
        s.set_status("WO-1001", Status::EnRoute).unwrap();
        s.set_status("WO-1001", Status::OnSite).unwrap();
        let photo_id = s.attach_bytes(&photo, "image/jpeg", Some("panel.jpg")).unwrap().id;
        (s.pending_push(1000).unwrap(), photo_id)
    };
    let r = client.sync_once().await.unwrap();
    assert_eq!(r.pushed as usize, entries.len());
    assert_eq!((r.applied as usize, r.duplicates, r.conflicts), (entries.len(), 0, 0), "{r:?}");
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!(r.attachments_uploaded, 1, "{:?}", r.attachments_pending);
    assert!(r.attachments_pending.is_empty());
    let id = wo.id.clone();
    let on_server = office.db(move |db| db.transaction(Mode::Read, |tx| records::load(tx, "work_orders", &id)).unwrap()).await.unwrap();
    assert_eq!(on_server.fields["status"], "on_site");
    let pid = photo_id.clone();
    // As the laptop that uploaded it sees it (uploads are per laptop).
    let device_id = client.store().lock().unwrap().device().id.clone();
    let held = office
        .db(move |db| db.transaction(Mode::Read, |tx| attachments::state(tx, &pid, &attachments::Uploader { device_id: &device_id, technician: "li.wei" })).unwrap())
        .await;
    assert!(held.complete && held.offset == photo.len() as i64, "{held:?}");

    // The same batch again, as after a lost answer: every entry is a duplicate, none applied.
    let token = client.store().lock().unwrap().enrolment().unwrap().unwrap().device_token;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&serde_json::to_vec(&PushRequest { entries: entries.clone() }).unwrap()).unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/api/sync/push", office.url()))
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .bearer_auth(&token)
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let again: PushResponse = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!((again.applied, again.duplicates as usize), (0, entries.len()));
    assert_eq!(again.acked_seq, entries.last().unwrap().seq);

    // Caught up: nothing to push; the photo is not uploaded again.
    let r = client.sync_once().await.unwrap();
    assert_eq!((r.pushed, r.attachments_uploaded), (0, 0));
    assert!(r.attachments_pending.is_empty());
    let status = client.store().lock().unwrap().sync_status().unwrap();
    assert!(status.last_success_at.is_some() && status.last_error.is_none() && status.pending_changes == 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_laptop_is_told_so_by_the_real_server() {
    let office = Office::with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let client = laptop(&dir);
    let code = office.code_for("li.wei").await;
    client.enroll(&office.url(), &code).await.unwrap();
    client.sync_once().await.unwrap();

    let device_id = client.store().lock().unwrap().device().id.clone();
    office.db(move |db| db.transaction(Mode::Write, |tx| devices::revoke(tx, &device_id, "laptop reported stolen", true)).unwrap()).await;
    match client.sync_once().await {
        Err(SyncError::Revoked { reason, wipe }) => {
            assert!(reason.contains("laptop reported stolen"), "{reason}");
            assert!(wipe);
        }
        other => panic!("{other:?}"),
    }
    assert!(client.store().lock().unwrap().sync_status().unwrap().revoked_reason.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_enrolment_code_is_refused_by_the_real_server() {
    let office = Office::with_demo().await;
    let code = office.code_for("li.wei").await;
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    laptop(&d1).enroll(&office.url(), &code).await.unwrap();
    let e = laptop(&d2).enroll(&office.url(), &code).await.unwrap_err();
    assert!(matches!(e, SyncError::EnrollmentRefused { .. }), "{e:?}");
    assert!(e.to_string().starts_with("the server did not accept the enrolment: the enrolment code is unknown, already used or expired"), "{e}");

    // A mistyped address: nothing is kept "for later" because nothing was enrolled.
    let e = laptop(&d2).enroll("http://127.0.0.1:9", &code).await.unwrap_err();
    assert!(e.to_string().ends_with("— check the address and the network, then enrol again"), "{e}");
}

/// Writes `fields` of one record as the office would (an import, a console decision): through
/// the server's feed writer with the server's clock, no checks but the writer's own. Values the
/// laptop's schema refuses get into the feed this way.
async fn office_writes(office: &Office, entity: &'static str, id: String, fields: serde_json::Value) {
    office
        .db(move |db| {
            db.transaction(Mode::Feed, |tx| {
                let mut w = fieldbook_server::feed::Writer::begin(tx)?;
                let stamp = w.tick();
                let fields = fields.as_object().unwrap().clone();
                w.apply(&fieldbook_server::feed::Change { entity, id: &id, fields: &fields, stamps: fieldbook_core::sync::merge::Stamps::All(&stamp), base: None, author: None })?;
                w.finish().map(|_| ())
            })
            .unwrap()
        })
        .await
}

/// Issue 10, finding 10: one record in a technician's feed that no laptop can store (status
/// "bogus") used to fail that page on every sync of every laptop of theirs, for good. Now each
/// laptop syncs everything else, reports the one, and takes its corrected version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_no_laptop_can_store_does_not_stop_their_sync_and_is_reported() {
    let office = Office::with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let client = laptop(&dir);
    client.enroll(&office.url(), &office.code_for("li.wei").await).await.unwrap();
    client.sync_once().await.unwrap();
    let (bad, other) = {
        let s = client.store().lock().unwrap();
        (s.find_order("WO-1001").unwrap(), s.find_order("WO-1002").unwrap())
    };

    // The office writes a status no laptop knows on one order, and a change to another.
    office_writes(&office, "work_orders", bad.id.clone(), json!({"status": "bogus"})).await;
    office_writes(&office, "work_orders", other.id.clone(), json!({"problem": "客户来电：水泵漏水"})).await;
    let r = client.sync_once().await.expect("the sync goes on past the record");
    assert_eq!((r.pulled, r.changed, r.refused), (2, 1, 1), "{r:?}");
    {
        let s = client.store().lock().unwrap();
        assert_eq!(s.find_order("WO-1002").unwrap().problem.as_deref(), Some("客户来电：水泵漏水"), "the rest of the page applied");
        assert_eq!(s.find_order("WO-1001").unwrap().status, bad.status, "the refused change wrote nothing");
        let st = s.sync_status().unwrap();
        assert!(st.last_error.is_none(), "{:?}", st.last_error);
        assert_eq!(st.pull_refused.len(), 1);
        assert_eq!(st.pull_refused[0].record_id, bad.id);
        assert!(st.pull_refused[0].reason.contains("CHECK constraint failed"), "{}", st.pull_refused[0].reason);
    }
    // The next sync is not stuck behind it either.
    let r = client.sync_once().await.unwrap();
    assert_eq!((r.pulled, r.refused), (0, 0));

    // A laptop enrolled now syncs too: it has the order as it stood before that change (an
    // earlier change of the feed), and everything else.
    let dir2 = tempfile::tempdir().unwrap();
    let second = laptop(&dir2);
    second.enroll(&office.url(), &office.code_for("li.wei").await).await.unwrap();
    let r = second.sync_once().await.expect("a new laptop syncs too");
    assert_eq!(r.refused, 1, "{r:?}");
    {
        let s = second.store().lock().unwrap();
        assert_eq!(s.find_order("WO-1001").unwrap().status, bad.status);
        assert_eq!(s.find_order("WO-1002").unwrap().problem.as_deref(), Some("客户来电：水泵漏水"));
        let st = s.sync_status().unwrap();
        assert_eq!(st.pull_refused_total as u32, r.refused);
        assert!(st.pull_refused.iter().any(|x| x.record_id == bad.id));
    }

    // The office corrects it: both laptops take it and clear the refusal.
    office_writes(&office, "work_orders", bad.id.clone(), json!({"status": "dispatched"})).await;
    let r = client.sync_once().await.unwrap();
    assert_eq!((r.changed, r.refused), (1, 0), "{r:?}");
    let st = client.store().lock().unwrap().sync_status().unwrap();
    assert_eq!(st.pull_refused_total, 0, "{:?}", st.pull_refused);
    second.sync_once().await.unwrap();
    let s = second.store().lock().unwrap();
    assert_eq!(s.find_order("WO-1001").unwrap().status, Status::Dispatched);
    assert!(s.sync_status().unwrap().pull_refused.iter().all(|x| x.record_id != bad.id));
}

/// Moves the laptop's token `days` into the past on the server, as if issued then.
async fn age_token(office: &Office, device_id: &str, days: i64) {
    let (id, at) = (device_id.to_owned(), fieldbook_server::store_ts(chrono::Utc::now() - chrono::Duration::days(days)));
    office
        .db(move |db| db.transaction(Mode::Write, |tx| tx.execute("UPDATE devices SET token_issued_at = $1 WHERE id = $2", fieldbook_server::params![at, id])).unwrap())
        .await;
}

async fn device_column(office: &Office, device_id: &str, column: &'static str) -> Option<String> {
    let id = device_id.to_owned();
    let sql = format!("SELECT {column} FROM devices WHERE id = $1");
    office.db(move |db| db.transaction(Mode::Read, |tx| tx.query_one(&sql, fieldbook_server::params![id])?.opt_text(0)).unwrap()).await
}

fn stored_token(client: &SyncClient) -> String {
    client.store().lock().unwrap().enrolment().unwrap().unwrap().device_token
}

async fn pull_with(office: &Office, token: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .get(format!("{}/api/sync/pull?cursor=0&limit=1", office.url()))
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

/// A week after enrolment the sync hands the laptop a new token: it is stored, used by the rest
/// of the same run (which retires the old one on the server), and the protection is reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_token_is_stored_and_used_by_the_real_server() {
    let office = Office::with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let client = laptop(&dir);
    client.enroll(&office.url(), &office.code_for("li.wei").await).await.unwrap();
    let device_id = client.store().lock().unwrap().device().id.clone();
    let r = client.sync_once().await.unwrap();
    assert!(!r.token_rotated && !r.token_renewed);
    // The test's store is encrypted under a key handed to it (no protection file): "encrypted".
    assert_eq!(device_column(&office, &device_id, "store_protection").await.as_deref(), Some("encrypted"));

    let old = stored_token(&client);
    age_token(&office, &device_id, 8).await;
    client.store().lock().unwrap().set_status("WO-1001", Status::EnRoute).unwrap();
    let r = client.sync_once().await.unwrap();
    assert!(r.token_rotated && !r.token_renewed, "{r:?}");
    assert_eq!(r.pushed, 1, "the rest of the run synced with the new token");
    let new = stored_token(&client);
    assert_ne!(new, old);
    assert_eq!(device_column(&office, &device_id, "token_hash").await, Some(fieldbook_core::signature::sha256_hex(new.as_bytes())), "promoted");
    assert!(device_column(&office, &device_id, "token_rotated_at").await.is_some());
    assert_eq!(pull_with(&office, &old).await, 401, "a copy of the old token is refused");
    let r = client.sync_once().await.unwrap();
    assert!(!r.token_rotated, "the new token is fresh");
}

/// A laptop offline for longer than a token's life renews with its device key on its next sync
/// and carries on, its unsynced work included, without the office.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_laptop_whose_token_expired_renews_and_syncs_without_enrolling_again() {
    let office = Office::with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let client = laptop(&dir);
    client.enroll(&office.url(), &office.code_for("li.wei").await).await.unwrap();
    client.sync_once().await.unwrap();
    let device_id = client.store().lock().unwrap().device().id.clone();
    let old = stored_token(&client);

    age_token(&office, &device_id, 45).await;
    assert_eq!(pull_with(&office, &old).await, 401);
    client.store().lock().unwrap().set_status("WO-1001", Status::EnRoute).unwrap();
    let r = client.sync_once().await.unwrap();
    assert!(r.token_renewed, "{r:?}");
    assert_eq!(r.pushed, 1);
    let new = stored_token(&client);
    assert_ne!(new, old);
    assert_eq!(pull_with(&office, &new).await, 200);
    assert_eq!(pull_with(&office, &old).await, 401);
    let status = client.store().lock().unwrap().sync_status().unwrap();
    assert!(status.last_error.is_none() && status.pending_changes == 0, "{status:?}");
}

/// The answer to a renewal is lost: the server has retired the laptop's expired token and the
/// laptop never got the new one. Its next sync is refused the old token and renews again with
/// the key, rather than locking the technician out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_renewal_answer_does_not_lock_the_laptop_out() {
    let office = Office::with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let client = laptop(&dir);
    client.enroll(&office.url(), &office.code_for("li.wei").await).await.unwrap();
    let device_id = client.store().lock().unwrap().device().id.clone();
    age_token(&office, &device_id, 45).await;

    let http = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{}{path}", office.url())).header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap())
            .send()
    };
    let c = post("/api/device/renew/challenge", json!({"device_id": device_id})).await.unwrap().bytes().await.unwrap();
    let c: serde_json::Value = serde_json::from_slice(&c).unwrap();
    let nonce = c["nonce"].as_str().unwrap().to_owned();
    let signature = client.store().lock().unwrap().sign_token_renewal(&nonce);
    let lost = post("/api/device/renew", json!({"device_id": device_id, "nonce": nonce, "signature": signature})).await.unwrap();
    assert_eq!(lost.status(), 200);
    drop(lost);

    let r = client.sync_once().await.unwrap();
    assert!(r.token_renewed, "{r:?}");
    assert_eq!(pull_with(&office, &stored_token(&client)).await, 200);
}
