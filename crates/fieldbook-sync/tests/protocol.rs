//! The client against the in-test protocol server (`support`): enrolment, push/pull, the
//! failures the protocol is designed to survive, and the errors a technician sees.

mod support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fieldbook_core::model::Status;
use fieldbook_core::sync::protocol::PROTOCOL_VERSION;
use fieldbook_core::Store;
use fieldbook_sync::{handle_revocation, ClientOptions, Revocation, SyncClient, SyncError};
use support::Mock;

struct Laptop {
    _dir: tempfile::TempDir,
    path: PathBuf,
    client: SyncClient,
}

impl Laptop {
    fn new(options: ClientOptions) -> Laptop {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("laptop.db");
        let store = Arc::new(Mutex::new(Store::open(&path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap()));
        Laptop { client: SyncClient::with_options(store, options).unwrap(), path, _dir: dir }
    }

    /// A laptop enrolled with `mock` and caught up with its feed.
    async fn enrolled(mock: &Mock, options: ClientOptions) -> Laptop {
        let l = Laptop::new(options);
        let code = mock.code(&format!("CODE-{}", l.path.display()), "li.wei");
        l.client.enroll(&mock.url, &code).await.unwrap();
        l.client.sync_once().await.unwrap();
        l
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.client.store().lock().unwrap()
    }

    fn outbox_len(&self) -> i64 {
        self.store().outbox_len().unwrap()
    }
}

fn quick() -> ClientOptions {
    ClientOptions { request_timeout: Duration::from_secs(10), ..ClientOptions::default() }
}

#[tokio::test]
async fn enrol_pull_the_work_push_changes_and_another_laptop_sees_them() {
    let mock = Mock::with_demo().await;
    let feed_len = mock.state().feed.len();
    let a = Laptop::new(quick());

    let code = mock.code("7K3P-Q9XD", "li.wei");
    let e = a.client.enroll(&format!("{}/", mock.url), &code).await.unwrap();
    assert_eq!(e.technician, "li.wei");
    assert_eq!(e.server_url, mock.url, "trailing slash dropped");
    {
        let s = a.store();
        let st = s.sync_status().unwrap();
        assert!(st.enrolled);
        assert_eq!(s.device().technician.as_deref(), Some("li.wei"));
    }

    // First sync: nothing to push, the whole demo comes down.
    let r = a.client.sync_once().await.unwrap();
    assert_eq!((r.pushed, r.pulled as usize), (0, feed_len));
    assert_eq!(r.changed as usize, feed_len);
    assert!(r.bytes_down > 0 && r.bytes_up == 0);
    assert!(a.store().find_order("WO-1001").is_ok(), "the demo work order arrived");

    // The technician works offline-style; the sync pushes it.
    {
        let mut s = a.store();
        s.set_status("WO-1001", Status::EnRoute).unwrap();
        s.set_status("WO-1001", Status::OnSite).unwrap();
    }
    let pending = a.outbox_len() as u32;
    assert!(pending >= 2);
    let r = a.client.sync_once().await.unwrap();
    assert_eq!((r.pushed, r.applied, r.duplicates, r.conflicts), (pending, pending, 0, 0));
    assert!(r.rejected.is_empty());
    assert!(r.bytes_up > 0);
    assert_eq!(a.outbox_len(), 0);
    let status = a.store().sync_status().unwrap();
    assert!(status.last_success_at.is_some() && status.last_error.is_none());
    let wo = a.store().find_order("WO-1001").unwrap();
    let on_server = mock.record("work_orders", &wo.id).unwrap();
    assert_eq!(on_server.fields["status"], "on_site");
    assert_eq!(mock.state().plain_bodies, 0, "every request body was gzip-compressed");

    // A second laptop catches up with the office, including the first laptop's work.
    let b = Laptop::enrolled(&mock, quick()).await;
    assert_eq!(b.store().find_order("WO-1001").unwrap().status, Status::OnSite);
    // Nothing more to do: a second run moves nothing.
    let r = b.client.sync_once().await.unwrap();
    assert_eq!((r.pushed, r.pulled), (0, 0));
}

#[tokio::test]
async fn a_push_whose_answer_is_lost_is_resent_and_applied_exactly_once() {
    let mock = Mock::with_demo().await;
    let a = Laptop::enrolled(&mock, ClientOptions { request_timeout: Duration::from_millis(700), ..quick() }).await;
    {
        let mut s = a.store();
        s.set_status("WO-1001", Status::EnRoute).unwrap();
        s.set_status("WO-1002", Status::EnRoute).unwrap();
    }
    let pending = a.outbox_len();
    mock.state().stall_next_push = Some(Duration::from_secs(3));

    let e = a.client.sync_once().await.unwrap_err();
    assert!(e.is_offline(), "{e:?}");
    let m = e.to_string();
    assert!(m.contains("no answer within 0.7 s") && m.contains("your changes are kept"), "{m}");
    assert_eq!(a.outbox_len(), pending, "nothing leaves the outbox without an answer");
    assert_eq!(mock.state().applied.len() as i64, pending, "the server did apply the batch");
    assert_eq!(a.store().sync_status().unwrap().last_error.as_deref(), Some(m.as_str()));

    let r = a.client.sync_once().await.unwrap();
    assert_eq!((r.pushed as i64, r.applied, r.duplicates as i64), (pending, 0, pending), "the resend is recognised as duplicates");
    assert_eq!(a.outbox_len(), 0);
    let applied = mock.state().applied.clone();
    assert_eq!(applied.len() as i64, pending, "each entry applied once: {applied:?}");
    assert!(a.store().sync_status().unwrap().last_error.is_none());
}

#[tokio::test]
async fn an_interrupted_pull_resumes_from_the_stored_cursor() {
    let mock = Mock::with_demo().await;
    let feed_len = mock.state().feed.len() as i64;
    assert!(feed_len > 15, "the demo feed spans several pages");
    let a = Laptop::new(ClientOptions { pull_limit: 5, ..quick() });
    let code = mock.code("PULL-1", "li.wei");
    a.client.enroll(&mock.url, &code).await.unwrap();
    mock.state().fail_pull_number = Some(3);

    let e = a.client.sync_once().await.unwrap_err();
    assert!(matches!(e, SyncError::ServerFailed { status: 500, .. }), "{e:?}");
    assert!(e.to_string().contains("the database went away"));
    // A full page makes the next one twice as large: pages of 5 and 10.
    assert_eq!(a.store().pull_cursor().unwrap(), 15, "two pages committed with their cursor");

    let r = a.client.sync_once().await.unwrap();
    assert_eq!(r.pulled as i64, feed_len - 15, "only what was missing is pulled again");
    let cursors = mock.state().pull_cursors.clone();
    assert_eq!(&cursors[..4], &[0, 5, 15, 15], "the retry starts from the stored cursor");
    assert_eq!(a.store().pull_cursor().unwrap(), feed_len);
    let limits: Vec<String> = mock.state().requests.iter().filter(|r| r.contains("/pull?")).map(|r| r.rsplit("limit=").next().unwrap().to_owned()).collect();
    assert_eq!(&limits[..5], &["5", "10", "20", "5", "10"], "each run starts small and grows while pages come back full");
}

#[tokio::test]
async fn an_old_client_is_told_to_update() {
    let mock = Mock::with_demo().await;
    let a = Laptop::enrolled(&mock, quick()).await;
    mock.state().min_protocol = PROTOCOL_VERSION + 1;
    let e = a.client.sync_once().await.unwrap_err();
    assert!(matches!(e, SyncError::UpgradeRequired { .. }), "{e:?}");
    let expected = format!(
        "please update Fieldbook: the server no longer accepts this version (sync protocol {PROTOCOL_VERSION}): this server speaks protocol {} and later",
        PROTOCOL_VERSION + 1
    );
    assert_eq!(e.to_string(), expected);
    assert_eq!(a.store().sync_status().unwrap().last_error, Some(e.to_string()));
}

#[tokio::test]
async fn a_replaced_token_says_to_enrol_again_and_a_used_code_is_refused() {
    let mock = Mock::with_demo().await;
    let a = Laptop::enrolled(&mock, quick()).await;
    mock.state().devices.clear();
    let e = a.client.sync_once().await.unwrap_err();
    assert!(matches!(e, SyncError::Unauthorized), "{e:?}");
    assert!(e.to_string().contains("enrol again with `fieldbook enroll`"));

    let code = mock.code("ONCE", "li.wei");
    a.client.enroll(&mock.url, &code).await.unwrap();
    let e = a.client.enroll(&mock.url, &code).await.unwrap_err();
    assert_eq!(e.to_string(), "the server did not accept the enrolment: this code is unknown or was already used");
    a.client.sync_once().await.expect("the new token works");
}

#[tokio::test]
async fn an_unreachable_server_keeps_the_changes() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let a = Laptop::new(quick());
    {
        let mut s = a.store();
        s.set_enrolment(&format!("http://127.0.0.1:{port}"), "token", "li.wei").unwrap();
        s.attach_bytes(b"a photo", "image/jpeg", None).unwrap();
    }
    let e = a.client.sync_once().await.unwrap_err();
    assert!(e.is_offline() && e.is_transient(), "{e:?}");
    let m = e.to_string();
    assert!(m.starts_with(&format!("cannot reach the server at http://127.0.0.1:{port}: cannot connect (")), "{m}");
    assert!(m.ends_with("— your changes are kept and will sync when the connection returns"), "{m}");
    assert_eq!(a.outbox_len(), 1);
    let st = a.store().sync_status().unwrap();
    assert_eq!(st.last_error.as_deref(), Some(m.as_str()));
    assert!(st.last_success_at.is_none());
}

#[tokio::test]
async fn a_revoked_laptop_keeps_unsynced_work_unless_a_wipe_is_ordered() {
    let mock = Mock::with_demo().await;
    let a = Laptop::enrolled(&mock, quick()).await;
    a.store().set_status("WO-1001", Status::EnRoute).unwrap();
    mock.revoke_all("laptop reported stolen", false);

    let e = a.client.sync_once().await.unwrap_err();
    match &e {
        SyncError::Revoked { reason, wipe } => assert_eq!((reason.as_str(), *wipe), ("laptop reported stolen", false)),
        other => panic!("{other:?}"),
    }
    assert_eq!(a.store().sync_status().unwrap().revoked_reason.as_deref(), Some("laptop reported stolen"));
    let Laptop { _dir, path, client } = a;
    drop(client); // the store is closed before its files are deleted
    assert_eq!(handle_revocation(&path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32]), false).unwrap(), Revocation::Kept { unsynced: 1 });
    assert!(path.exists());

    // The admin orders a wipe: the next contact deletes everything, unsynced or not.
    mock.revoke_all("laptop reported stolen", true);
    let client = SyncClient::with_options(Arc::new(Mutex::new(Store::open(&path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap())), quick()).unwrap();
    let wipe = match client.sync_once().await {
        Err(SyncError::Revoked { wipe, .. }) => wipe,
        other => panic!("{other:?}"),
    };
    drop(client);
    assert_eq!(handle_revocation(&path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32]), wipe).unwrap(), Revocation::Wiped);
    assert!(!path.exists());
}

#[tokio::test]
async fn attachments_upload_after_the_records_resume_after_a_cut_and_are_not_sent_twice() {
    let mock = Mock::with_demo().await;
    let a = Laptop::enrolled(&mock, ClientOptions { chunk_size: 256 * 1024, ..quick() }).await;
    let photo: Vec<u8> = (0..700_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let id = a.store().attach_bytes(&photo, "image/jpeg", Some("pump.jpg")).unwrap().id;
    mock.state().cut_upload_at = Some(300_000);

    // The record syncs although its photo does not make it.
    let r = a.client.sync_once().await.expect("an attachment failure does not fail the sync");
    assert_eq!(r.pushed, 1);
    assert_eq!(r.attachments_uploaded, 0);
    assert_eq!(r.attachments_pending.len(), 1);
    assert_eq!(r.attachments_pending[0].id, id);
    assert!(r.attachments_pending[0].reason.contains("connection lost mid-upload"), "{:?}", r.attachments_pending);
    assert_eq!(mock.state().attachments[&id].len(), 300_000, "the server kept what arrived");
    assert!(mock.record("attachments", &id).is_some());

    let r = a.client.sync_once().await.unwrap();
    assert_eq!(r.attachments_uploaded, 1);
    assert!(r.attachments_pending.is_empty());
    assert!(r.bytes_up >= 400_000 && r.bytes_up < 700_000, "only the rest is sent: {}", r.bytes_up);
    assert_eq!(mock.state().attachments[&id], photo);
    assert_eq!(mock.state().patch_offsets, [0, 262_144, 300_000, 562_144], "resumed at the server's offset");

    // Confirmed: the same client does not even ask again; a new one asks once and sends nothing.
    let heads = mock.state().heads;
    a.client.sync_once().await.unwrap();
    assert_eq!(mock.state().heads, heads);
    let fresh = SyncClient::new(a.client.store().clone()).unwrap();
    let r = fresh.sync_once().await.unwrap();
    let heads_now = mock.state().heads;
    let patches = mock.state().patch_offsets.len();
    assert_eq!((r.attachments_uploaded, heads_now, patches), (0, heads + 1, 4));
}
