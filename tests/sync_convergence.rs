//! Property test: two laptops of the same technician edit the same inspection offline and sync
//! in random interleavings with the real server. Afterwards both laptops and the server hold the
//! same values, and the last value each laptop wrote to a field is either that field's value or
//! kept in a conflict record — nothing is silently dropped.

use std::collections::BTreeMap;

use std::sync::{Arc, Mutex};

use fieldbook_core::checklist::Slot;
use fieldbook_core::Store;
use fieldbook_scenarios::central::Central;
use fieldbook_server::db::Mode;
use fieldbook_sync::SyncClient;
use fieldbook_testkit::Backend;
use proptest::prelude::*;
use serde_json::{json, Value};

const ORDER: &str = "WO-1001";
/// Free-text items of the demo checklist (any text is valid) and one pass/fail item.
const ITEMS: [&str; 3] = ["site.customer_issues", "site.upgrade", "site.exits"];

#[derive(Debug, Clone)]
enum Op {
    /// Laptop `l` answers item `i`.
    Answer { l: usize, i: usize },
    /// Laptop `l` syncs.
    Sync { l: usize },
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            3 => (0..2usize, 0..ITEMS.len()).prop_map(|(l, i)| Op::Answer { l, i }),
            1 => (0..2usize).prop_map(|l| Op::Sync { l }),
        ],
        1..24,
    )
}

struct Replica {
    store: Arc<Mutex<Store>>,
    client: SyncClient,
    _dir: tempfile::TempDir,
}

impl Replica {
    async fn new(central: &Central) -> Replica {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Mutex::new(Store::open(&dir.path().join("f.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap()));
        let client = SyncClient::new(store.clone()).unwrap();
        client.enroll(&central.url(), &central.code_for("li.wei").await).await.unwrap();
        client.sync_once().await.unwrap();
        Replica { store, client, _dir: dir }
    }

    /// item -> value of the order's answers.
    fn answers(&self) -> BTreeMap<String, Value> {
        let mut s = self.store.lock().unwrap();
        s.order_detail(ORDER).unwrap().answers.into_iter().map(|a| (a.item_key, a.value)).collect()
    }
}

async fn run(backend: Backend, ops: Vec<Op>) {
    let central = Central::with_demo(backend).await;
    let laptops = [Replica::new(&central).await, Replica::new(&central).await];
    // Causality bookkeeping: which writes (op index) the server and each laptop have seen.
    // A write overwritten by a laptop that had already seen it is an informed overwrite and
    // rightly leaves no conflict; any other last write must survive as value or conflict.
    let mut writes: Vec<(usize, &str, Value)> = Vec::new(); // (laptop, item, value) by op index
    let mut pending: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    let mut on_server: Vec<usize> = Vec::new();
    let mut seen: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    let mut overwritten_knowingly: Vec<usize> = Vec::new();
    for (k, op) in ops.iter().enumerate() {
        match *op {
            Op::Answer { l, i } => {
                let value = if ITEMS[i] == "site.exits" { json!(if k % 2 == 0 { "pass" } else { "fail" }) } else { json!(format!("laptop {l}, write {k}")) };
                let id = laptops[l].store.lock().unwrap().find_order(ORDER).unwrap().id;
                let slot = Slot { item_key: ITEMS[i].into(), asset_id: String::new() };
                let stored = laptops[l].store.lock().unwrap().record_answer(&id, &slot, &value).unwrap();
                for (w, (wl, wi, _)) in writes.iter().enumerate() {
                    if *wl != l && *wi == ITEMS[i] && seen[l].contains(&w) {
                        overwritten_knowingly.push(w);
                    }
                }
                while writes.len() < k {
                    writes.push((usize::MAX, "", Value::Null)); // sync ops hold no write
                }
                writes.push((l, ITEMS[i], stored));
                pending[l].push(k);
                seen[l].push(k);
            }
            Op::Sync { l } => {
                laptops[l].client.sync_once().await.unwrap();
                on_server.append(&mut pending[l]);
                seen[l] = on_server.clone();
            }
        }
    }
    // Everyone syncs twice: the second round brings each laptop the other's last pushes.
    for _ in 0..2 {
        for r in &laptops {
            r.client.sync_once().await.unwrap();
        }
    }
    let a = laptops[0].answers();
    assert_eq!(a, laptops[1].answers(), "the laptops converged");

    let (server_values, conflicts) = central
        .db_run(|db| {
            db.transaction(Mode::Read, |tx| {
                let rows = tx.query("SELECT fields FROM records WHERE entity = 'inspection_answers'", &[])?;
                let values: BTreeMap<String, Value> = rows
                    .iter()
                    .map(|r| {
                        let f: Value = serde_json::from_str(&r.text(0).unwrap()).unwrap();
                        (f["item_key"].as_str().unwrap().to_owned(), f["value"].clone())
                    })
                    .collect();
                let conflicts: Vec<(Value, Value)> = tx
                    .query("SELECT kept_value, other_value FROM conflicts WHERE entity = 'inspection_answers'", &[])?
                    .iter()
                    .map(|r| (serde_json::from_str(&r.text(0).unwrap()).unwrap(), serde_json::from_str(&r.text(1).unwrap()).unwrap()))
                    .collect();
                Ok((values, conflicts))
            })
        })
        .await
        .unwrap();
    assert_eq!(a, server_values, "the laptops hold what the server holds");
    if std::env::var_os("FIELDBOOK_TEST_VERBOSE").is_some() {
        eprintln!("{} ops, {} conflicts", ops.len(), conflicts.len());
    }
    for l in 0..2 {
        for item in ITEMS.iter().filter(|i| **i != "site.exits") {
            // Free-text values are unique per write, so they can be traced.
            let Some(w) = writes.iter().rposition(|(wl, wi, _)| *wl == l && wi == item) else { continue };
            if overwritten_knowingly.contains(&w) {
                continue;
            }
            let value = &writes[w].2;
            let kept = a.get(*item) == Some(value) || conflicts.iter().any(|(k, o)| k == value || o == value);
            assert!(kept, "laptop {l}'s last write to {item} ({value}) is neither the value nor in a conflict record; conflicts: {conflicts:?}");
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
    #[test]
    fn laptops_converge_and_keep_every_edit_on_sqlite(ops in ops()) {
        runtime().block_on(run(Backend::Sqlite, ops));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]
    #[test]
    fn laptops_converge_and_keep_every_edit_on_postgres(ops in ops()) {
        runtime().block_on(run(Backend::Postgres, ops));
    }
}
