//! The background loop: offline → retries with the seeded backoff → the server comes up on the
//! same port → online and synced; changes and `sync_now` trigger syncs; revocation stops it; a
//! pull stopped or failed between pages is ended.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fieldbook_core::model::Status;
use fieldbook_core::sync::protocol::FeedChange;
use fieldbook_core::Store;
use fieldbook_sync::{Backoff, ClientOptions, LoopOptions, SyncClient, SyncEvent, SyncLoop};
use support::{demo_state, Mock};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

fn options(seed: u64) -> LoopOptions {
    LoopOptions {
        interval: Duration::from_secs(60),
        poll: Duration::from_millis(50),
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_millis(400),
        seed: Some(seed),
        ..LoopOptions::default()
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<SyncEvent>) -> SyncEvent {
    tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.expect("an event within 20 s").expect("the loop is running")
}

/// Skips progress events, which come in numbers that depend on page sizes.
async fn next_milestone(rx: &mut mpsc::UnboundedReceiver<SyncEvent>) -> SyncEvent {
    loop {
        match next(rx).await {
            SyncEvent::Progress(_) => continue,
            e => return e,
        }
    }
}

fn store_at(dir: &tempfile::TempDir) -> Arc<Mutex<Store>> {
    Arc::new(Mutex::new(Store::open(&dir.path().join("laptop.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap()))
}

#[tokio::test]
async fn offline_it_retries_with_backoff_and_syncs_once_the_server_is_up() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir);
    // Enrolled earlier; a change is waiting.
    let device_id = {
        let mut s = store.lock().unwrap();
        s.set_enrolment(&format!("http://127.0.0.1:{port}"), "token-1", "li.wei").unwrap();
        s.attach_bytes(b"photo", "image/jpeg", None).unwrap();
        s.device().id.clone()
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handle = SyncLoop::spawn_with(store.clone(), options(9), move |e| {
        let _ = tx.send(e);
    });

    assert_eq!(next(&mut rx).await, SyncEvent::Started);
    assert_eq!(next(&mut rx).await, SyncEvent::Offline);
    // The waits are exactly the seeded full-jitter schedule: 100, 200, 400, 400 ms ceilings.
    let mut expected = Backoff::with_seed(Duration::from_millis(100), Duration::from_millis(400), 9);
    for n in 0..4 {
        match next(&mut rx).await {
            SyncEvent::Failed { message, kind, retry_in } => {
                assert_eq!(kind, "unreachable");
                assert!(message.contains("your changes are kept"), "{message}");
                assert_eq!(retry_in, expected.next_delay(), "retry {n}");
            }
            other => panic!("retry {n}: {other:?}"),
        }
    }
    assert_eq!(store.lock().unwrap().outbox_len().unwrap(), 1, "the change waits");

    // The server comes up where the laptop looks for it.
    let mut state = demo_state();
    state.devices.insert("token-1".into(), support::Device { id: device_id, technician: "li.wei".into(), acked_seq: 0, revoked: None });
    let mock = Mock::start_on(port, state).await;
    let report = loop {
        match next_milestone(&mut rx).await {
            SyncEvent::Failed { kind: "unreachable", .. } => continue, // a probe just before it was up
            SyncEvent::Online => {}
            SyncEvent::Started => {}
            SyncEvent::Finished(r) => break r,
            other => panic!("{other:?}"),
        }
    };
    // The whole feed, which by then includes the pushed change.
    let feed_len = mock.state().feed.len() as u32;
    assert_eq!((report.pushed, report.pulled), (1, feed_len));
    assert_eq!(store.lock().unwrap().outbox_len().unwrap(), 0);
    assert!(mock.state().requests.iter().any(|r| r == "GET /api/status"), "it probed before syncing");
    handle.stop();
}

#[tokio::test]
async fn new_changes_and_sync_now_trigger_a_sync_and_stop_ends_the_loop() {
    let mock = Mock::with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir);
    let device_id = store.lock().unwrap().device().id.clone();
    let token = mock.device(&device_id, "li.wei");
    store.lock().unwrap().set_enrolment(&mock.url, &token, "li.wei").unwrap();

    let (tx, mut rx) = mpsc::unbounded_channel();
    let handle = SyncLoop::spawn_with(store.clone(), options(1), move |e| {
        let _ = tx.send(e);
    });
    assert_eq!(next_milestone(&mut rx).await, SyncEvent::Started);
    assert_eq!(next_milestone(&mut rx).await, SyncEvent::Online);
    assert!(matches!(next_milestone(&mut rx).await, SyncEvent::Finished(r) if r.pulled > 0));

    // The technician records something; the loop notices within a poll, not the 60 s interval.
    store.lock().unwrap().set_status("WO-1001", Status::EnRoute).unwrap();
    assert_eq!(next_milestone(&mut rx).await, SyncEvent::Started);
    match next_milestone(&mut rx).await {
        SyncEvent::Finished(r) => assert!(r.pushed >= 1, "{r:?}"),
        other => panic!("{other:?}"),
    }

    handle.sync_now();
    assert_eq!(next_milestone(&mut rx).await, SyncEvent::Started);
    assert!(matches!(next_milestone(&mut rx).await, SyncEvent::Finished(r) if r.pushed == 0));

    handle.stop();
    // The loop released its share of the store.
    assert_eq!(Arc::strong_count(&store), 1);
}

#[tokio::test]
async fn a_revocation_is_reported_and_ends_the_loop() {
    let mock = Mock::with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir);
    let device_id = store.lock().unwrap().device().id.clone();
    let token = mock.device(&device_id, "li.wei");
    store.lock().unwrap().set_enrolment(&mock.url, &token, "li.wei").unwrap();
    mock.revoke_all("technician left the company", true);

    let (tx, mut rx) = mpsc::unbounded_channel();
    let handle = SyncLoop::spawn_with(store.clone(), options(2), move |e| {
        let _ = tx.send(e);
    });
    assert_eq!(next_milestone(&mut rx).await, SyncEvent::Started);
    assert_eq!(next_milestone(&mut rx).await, SyncEvent::Online);
    assert_eq!(next_milestone(&mut rx).await, SyncEvent::Revoked { reason: "technician left the company".into(), wipe: true });
    assert!(rx.recv().await.is_none(), "the loop ended and dropped its event sender");
    for _ in 0..100 {
        if handle.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(handle.is_finished());
    assert_eq!(store.lock().unwrap().sync_status().unwrap().revoked_reason.as_deref(), Some("technician left the company"));
}

/// The demo data behind 300 new customers: a first page of 300 is big enough to leave its search
/// documents for after the pull.
fn bulk_customers_first() -> support::MockState {
    let mut state = demo_state();
    let stamp = "000000000000001-0000000000-server";
    let mut feed: Vec<FeedChange> = (0..300)
        .map(|i| {
            let fields = json!({"code": format!("C-BULK-{i:03}"), "name": format!("批量客户 {i:03}"), "contact": null, "phone": null, "email": null, "deleted": false});
            let fields: Map<String, Value> = fields.as_object().unwrap().clone();
            let clocks = fields.keys().map(|k| (k.clone(), json!(stamp))).collect();
            FeedChange { seq: 0, entity: "customers".into(), record_id: format!("c-bulk-{i:03}"), fields, clocks }
        })
        .collect();
    feed.append(&mut state.feed);
    for (n, c) in feed.iter_mut().enumerate() {
        c.seq = n as i64 + 1;
    }
    state.feed = feed;
    state
}

/// The test server holding [`bulk_customers_first`], its second pull page set up by `second`, and
/// a laptop store enrolled with it.
async fn server_and_laptop(second: impl FnOnce(&mut support::MockState)) -> (Mock, tempfile::TempDir, Arc<Mutex<Store>>) {
    let mut state = bulk_customers_first();
    second(&mut state);
    let mock = Mock::start_on(0, state).await;
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir);
    let device_id = store.lock().unwrap().device().id.clone();
    let token = mock.device(&device_id, "li.wei");
    store.lock().unwrap().set_enrolment(&mock.url, &token, "li.wei").unwrap();
    (mock, dir, store)
}

fn assert_first_page_searchable(store: &Mutex<Store>) {
    let hits = store.lock().unwrap().search("批量客户 123", 5).unwrap();
    assert_eq!(hits.len(), 1, "a customer of the first page is found: {hits:?}");
    assert_eq!(hits[0].record_id, "c-bulk-123");
}

/// The app closing while a first pull is between pages: the pages already in are searchable at
/// once (not only after the next start).
#[tokio::test]
async fn stopping_in_the_middle_of_a_pull_ends_it() {
    let (mock, _dir, store) = server_and_laptop(|s| s.stall_pull_number = Some(2)).await;
    let mut options = options(3);
    options.client.pull_limit = 300;
    let handle = SyncLoop::spawn_with(store.clone(), options, |_| {});
    // The first page is being applied while the second is asked for, which never comes.
    for _ in 0..2000 {
        if mock.state().pulls == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(mock.state().pull_cursors, [0, 300], "the second page was asked for");

    handle.stop();
    assert_first_page_searchable(&store);
}

/// The network failing on the second page: the sync fails, and the first page is searchable.
#[tokio::test]
async fn a_pull_that_fails_between_pages_is_ended() {
    let (mock, _dir, store) = server_and_laptop(|s| s.fail_pull_number = Some(2)).await;
    let client = SyncClient::with_options(store.clone(), ClientOptions { pull_limit: 300, ..ClientOptions::default() }).unwrap();
    assert!(client.sync_once().await.is_err(), "the second page failed");
    assert_eq!(mock.state().pull_cursors, [0, 300]);
    assert_first_page_searchable(&store);
}
