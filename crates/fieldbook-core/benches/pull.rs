//! The laptop's half of a first pull: applying 50,000 pulled work orders (in the server's
//! 5,000-change pages) to a fresh store, durably committed page by page. Issue #3 asks for a
//! fresh laptop pulling 50,000 records at ≥ 50,000 records/s end to end, so applying must stay
//! well under 1 s here. The second figure waits until the records are searchable as well.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use fieldbook_core::sync::protocol::{FeedChange, PullResponse, MAX_PULL_PAGE};
use fieldbook_core::Store;
use serde_json::{json, Map, Value};

const ORDERS: usize = 50_000;
const STAMP: &str = "001764000000000-0000000000-server";

fn change(seq: i64, entity: &str, id: &str, fields: Value) -> FeedChange {
    let fields: Map<String, Value> = fields.as_object().unwrap().clone();
    // As the server sends a record written in one go: one stamp for every field.
    let clocks = json!({"*": STAMP}).as_object().unwrap().clone();
    FeedChange { seq, entity: entity.into(), record_id: id.into(), fields, clocks }
}

/// What the server sends a new laptop: its customer and site, then the work orders, with ids as
/// the office's import makes them (hashes of the order number, so in no particular order).
fn pages() -> Vec<PullResponse> {
    let mut changes = vec![
        change(1, "customers", "c-1", json!({"code": "C-JINQIAO", "name": "金桥商场", "contact": "王经理", "phone": "021-5000", "email": null, "deleted": false})),
        change(2, "sites", "s-1", json!({"code": "S-JQ-MALL", "customer_id": "c-1", "name": "金桥商场 主楼", "address": "上海市浦东新区金桥路 1 号", "region": "浦东", "zone": "urban", "deleted": false})),
    ];
    for i in 0..ORDERS {
        changes.push(change(3 + i as i64, "work_orders", &fieldbook_core::import::stable_id("work_orders", &format!("B-li.wei-{i:06}")), json!({
            "number": format!("B-li.wei-{i:06}"), "kind": "patrol_inspection", "customer_id": "c-1", "site_id": "s-1",
            "asset_ids": [], "technician": "li.wei", "priority": "normal", "category": "B", "status": "dispatched",
            "template_id": null, "problem": "月度巡检", "scheduled_on": "2026-11-24", "reported_at": "2026-11-24T00:00:00Z",
            "response_deadline": "2026-11-24T06:00:00Z", "en_route_at": null, "arrived_at": null, "completed_at": null,
            "revision": 1, "follow_up_of": null, "deleted": false,
        })));
    }
    let last = changes.len();
    changes
        .chunks(MAX_PULL_PAGE)
        .map(|c| {
            let next_cursor = c.last().unwrap().seq;
            PullResponse { changes: c.to_vec(), next_cursor, more: next_cursor < last as i64, server_hlc: STAMP.into(), offline_lock_days: None }
        })
        .collect()
}

/// A new laptop's store in a temporary folder (kept alive alongside it), encrypted as shipped.
fn fresh_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("laptop.db"), &fieldbook_core::at_rest::StoreKey::generate()).unwrap();
    (dir, store)
}

/// The same without encryption: the floor its cost is read against, in the same run.
fn fresh_unencrypted_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_unencrypted_for_benchmarks(&dir.path().join("laptop.db")).unwrap();
    (dir, store)
}

fn benches(c: &mut Criterion) {
    let pages = pages();
    let mut group = c.benchmark_group("pull");
    group.throughput(Throughput::Elements((ORDERS + 2) as u64));
    group.sample_size(10).measurement_time(Duration::from_secs(40));
    group.bench_function("apply 50,000 pulled work orders to a fresh store", |b| {
        b.iter_batched(
            fresh_store,
            |(dir, mut store)| {
                for page in &pages {
                    store.apply_pull(page).unwrap();
                }
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("apply 50,000 pulled work orders to a fresh store, unencrypted floor", |b| {
        b.iter_batched(
            fresh_unencrypted_store,
            |(dir, mut store)| {
                for page in &pages {
                    store.apply_pull(page).unwrap();
                }
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    // The same, until a search sees them too: their search documents are built after the pull
    // on a background thread, and a search waits for that.
    group.bench_function("apply 50,000 pulled work orders until they are searchable", |b| {
        b.iter_batched(
            fresh_store,
            |(dir, mut store)| {
                for page in &pages {
                    store.apply_pull(page).unwrap();
                }
                assert_eq!(store.search("B-li.wei-049999", 5).unwrap().len(), 1);
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(pull, benches);
criterion_main!(pull);
