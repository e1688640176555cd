//! Sync under the faults a field laptop meets, on both server backends:
//! - the `fieldbook sync` process killed (SIGKILL) at random points of a large push and of a
//!   large pull, many times over;
//! - a network that cuts connections at random, mid-request and mid-response.
//!
//! Afterwards every change is on the server exactly once and on the pulling laptop exactly once.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fieldbook_core::model::{Activity, Category};
use fieldbook_core::store::time::TimeInput;
use fieldbook_core::Store;
use fieldbook_scenarios::central::Central;
use fieldbook_scenarios::flaky_proxy::FlakyProxy;
use fieldbook_scenarios::Laptop;
use fieldbook_sync::SyncClient;
use fieldbook_testkit::Backend;

/// A small deterministic generator: the seed is printed so a failure can be replayed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

fn seed() -> u64 {
    std::env::var("FIELDBOOK_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    })
}

/// Enrols a laptop (library store) for li.wei and pulls the dispatched work.
async fn enrolled(central: &Central, dir: &std::path::Path) -> Arc<Mutex<Store>> {
    let store = Arc::new(Mutex::new(Store::open(&dir.join("fieldbook.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap()));
    let client = SyncClient::new(store.clone()).unwrap();
    client.enroll(&central.url(), &central.code_for("li.wei").await).await.unwrap();
    client.sync_once().await.unwrap();
    store
}

/// Adds `n` time entries (each a new record) on the laptop, under li.wei's order WO-1002.
fn make_time_entries(store: &Arc<Mutex<Store>>, n: u32) {
    let mut s = store.lock().unwrap();
    let today = chrono::Local::now().date_naive();
    for i in 0..n {
        // Ten entries a day at most, so no day passes 24 hours (the store refuses that).
        let work_date = today - chrono::Duration::days((i / 10) as i64);
        let input = TimeInput { work_date, category: Category::Paid, activity: Activity::Travel, minutes: 1 + i % 120, note: Some(format!("entry {i}")), work_order: Some("WO-1002".into()) };
        s.add_time("li.wei", &input).unwrap();
    }
}

/// Runs `fieldbook sync` on a laptop's store, killing it with SIGKILL after `kill_after` ms.
/// Returns true if it finished on its own.
fn sync_killed_after(db: &std::path::Path, kill_after: Option<u64>) -> bool {
    let mut child = fieldbook_scenarios::fieldbook(db).arg("sync").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    match kill_after {
        None => {
            let out = child.wait_with_output().unwrap();
            if !out.status.success() {
                eprintln!("fieldbook sync failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            out.status.success()
        }
        Some(ms) => {
            std::thread::sleep(Duration::from_millis(ms));
            let finished = child.try_wait().unwrap().is_some();
            child.kill().ok(); // SIGKILL on Unix: no cleanup, no flush
            child.wait().unwrap();
            finished
        }
    }
}

fn integrity_ok(db: &std::path::Path) {
    let c = rusqlite::Connection::open(db).unwrap();
    fieldbook_core::at_rest::encrypt::apply_key(&c, &fieldbook_scenarios::test_key()).unwrap();
    let r: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(r, "ok", "the laptop's store survived the kills intact");
}

const ENTRIES: u32 = 3000;

async fn killed_mid_push_and_mid_pull(backend: Backend) {
    let seed = seed();
    eprintln!("crash test seed {seed} (FIELDBOOK_TEST_SEED to replay)");
    let mut rng = Lcg(seed);
    let central = Central::with_demo(backend).await;
    let pusher = Laptop::new();
    let store = enrolled(&central, pusher.dir.path()).await;
    make_time_entries(&store, ENTRIES);
    drop(store); // the CLI owns the file from here

    let db = pusher.db();
    let kills = tokio::task::spawn_blocking(move || {
        let mut kills = 0;
        // Kill windows start short and grow: a kill can only land mid-way while work is left,
        // and a fast sync may finish all of it in its first run; later, longer runs let the
        // push make progress between kills.
        for i in 0..15 {
            if !sync_killed_after(&db, Some(rng.next(40 + 25 * i))) {
                kills += 1;
            }
        }
        assert!(sync_killed_after(&db, None), "a final uninterrupted sync succeeds");
        integrity_ok(&db);
        (kills, rng)
    })
    .await
    .unwrap();
    let (kills, mut rng) = kills;
    eprintln!("push killed {kills} times");
    assert!(kills > 0, "the test killed at least one sync mid-way");
    assert_eq!(Store::open(&pusher.db(), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap().outbox_len().unwrap(), 0, "everything acknowledged");
    assert_eq!(central.count("SELECT count(*) FROM records WHERE entity = 'time_entries'").await, ENTRIES as i64, "nothing lost");
    assert_eq!(central.count("SELECT count(*) FROM feed WHERE entity = 'time_entries'").await, ENTRIES as i64, "nothing applied twice");

    // A fresh laptop pulls it all while being killed.
    let puller = Laptop::new();
    drop(enrolled_without_sync(&central, puller.dir.path()).await);
    let db = puller.db();
    let kills = tokio::task::spawn_blocking(move || {
        let mut kills = 0;
        for i in 0..10 {
            if !sync_killed_after(&db, Some(rng.next(40 + 30 * i))) {
                kills += 1;
            }
        }
        assert!(sync_killed_after(&db, None));
        integrity_ok(&db);
        kills
    })
    .await
    .unwrap();
    eprintln!("pull killed {kills} times");
    let s = Store::open(&puller.db(), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    let n: i64 = s.connection().query_row("SELECT count(*) FROM time_entries", [], |r| r.get(0)).unwrap();
    assert_eq!(n, ENTRIES as i64, "every entry pulled exactly once");
    assert_eq!(s.outbox_len().unwrap(), 0, "pulling never creates outbox entries");
}

async fn enrolled_without_sync(central: &Central, dir: &std::path::Path) -> Arc<Mutex<Store>> {
    let store = Arc::new(Mutex::new(Store::open(&dir.join("fieldbook.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap()));
    SyncClient::new(store.clone()).unwrap().enroll(&central.url(), &central.code_for("li.wei").await).await.unwrap();
    store
}

/// Points an enrolled laptop at another address (the flaky proxy), keeping its token.
fn route_through(store: &Arc<Mutex<Store>>, url: &str) {
    let mut s = store.lock().unwrap();
    let e = s.enrolment().unwrap().expect("enrolled");
    s.set_enrolment(url, &e.device_token, &e.technician).unwrap();
}

async fn sync_until_done(store: &Arc<Mutex<Store>>) -> u32 {
    let client = SyncClient::new(store.clone()).unwrap();
    let mut failures = 0;
    loop {
        match client.sync_once().await {
            Ok(_) => return failures,
            Err(e) => {
                failures += 1;
                assert!(failures < 300, "sync never got through the flaky network: {e}");
            }
        }
    }
}

async fn through_a_network_that_keeps_dropping(backend: Backend) {
    let seed = seed();
    eprintln!("flaky network seed {seed}");
    let central = Central::with_demo(backend).await;
    let proxy = FlakyProxy::start(central.addr, 0.6, 40_000, seed);
    let a = Laptop::new();
    let store = enrolled(&central, a.dir.path()).await;
    make_time_entries(&store, 1500);
    route_through(&store, &proxy.url());
    let failures = sync_until_done(&store).await;
    eprintln!("push: {failures} failed attempts, {} connections cut", proxy.cuts.load(std::sync::atomic::Ordering::Relaxed));
    assert_eq!(store.lock().unwrap().outbox_len().unwrap(), 0);
    assert_eq!(central.count("SELECT count(*) FROM records WHERE entity = 'time_entries'").await, 1500);
    assert_eq!(central.count("SELECT count(*) FROM feed WHERE entity = 'time_entries'").await, 1500, "no batch applied twice");

    let b = Laptop::new();
    let puller = enrolled_without_sync(&central, b.dir.path()).await;
    route_through(&puller, &proxy.url());
    sync_until_done(&puller).await;
    let n: i64 = puller.lock().unwrap().connection().query_row("SELECT count(*) FROM time_entries", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1500);
    assert!(proxy.cuts.load(std::sync::atomic::Ordering::Relaxed) > 0, "the network really dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_push_and_mid_pull_on_sqlite() {
    killed_mid_push_and_mid_pull(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_push_and_mid_pull_on_postgres() {
    killed_mid_push_and_mid_pull(Backend::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_network_that_keeps_dropping_on_sqlite() {
    through_a_network_that_keeps_dropping(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_network_that_keeps_dropping_on_postgres() {
    through_a_network_that_keeps_dropping(Backend::Postgres).await
}
