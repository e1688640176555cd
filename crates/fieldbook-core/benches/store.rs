//! Store benchmarks with 100,000 work orders on file (spread over a year, ~270 a day):
//! recording one checklist answer (with its outbox entry, durably committed), and listing a
//! day's work orders. Targets: answer ≤ 1 ms median, listing ≤ 5 ms median, both with the store
//! encrypted as shipped; the same on an unencrypted store is the floor that shows encryption's
//! cost in the same sitting (issue #13).

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use fieldbook_core::checklist::Slot;
use fieldbook_core::import::{stable_id, ImportDocument};
use fieldbook_core::store::ts;
use fieldbook_core::at_rest::StoreKey;
use fieldbook_core::Store;
use serde_json::json;

const ORDERS: usize = 100_000;

fn setup(dir: &std::path::Path, encrypted: bool) -> Store {
    let path = dir.join("bench.db");
    let mut store = if encrypted { Store::open(&path, &StoreKey::generate()) } else { Store::open_unencrypted_for_benchmarks(&path) }.unwrap();
    let demo = ImportDocument::from_json(include_str!("../../../demo/fire-protection.json"), "demo").unwrap();
    store.import(&demo, "demo").unwrap();
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let template = stable_id("checklist_templates", "FP-PATROL@3");
    let sites = ["S-JQ-MALL", "S-XH-PLANT", "S-RJ-SCHOOL"];
    store
        .write(|tx| {
            for i in 0..ORDERS {
                let day = start + Duration::days((i % 365) as i64);
                let reported = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap()) + Duration::minutes((i % 600) as i64);
                let site = sites[i % 3];
                tx.put_reference("work_orders", &uuid_for(i), &[
                    ("number", json!(format!("WO-B{i:06}"))), ("kind", json!("patrol_inspection")),
                    ("customer_id", json!(stable_id("customers", ["C-JINQIAO", "C-XINGHUA", "C-RUIJIN"][i % 3]))),
                    ("site_id", json!(stable_id("sites", site))), ("asset_ids", json!([])), ("technician", json!("li.wei")),
                    ("priority", json!("normal")), ("category", json!("B")), ("status", json!("dispatched")),
                    ("template_id", json!(template)), ("problem", json!("巡检")), ("scheduled_on", json!(day)),
                    ("reported_at", json!(ts(reported))), ("response_deadline", json!(ts(reported + Duration::hours(6)))),
                    ("revision", json!(1)), ("deleted", json!(false)),
                ])?;
            }
            Ok(())
        })
        .unwrap();
    store
}

fn uuid_for(i: usize) -> String {
    format!("00000000-0000-7000-8000-{i:012}")
}

fn benches(c: &mut Criterion) {
    for (encrypted, label) in [(true, ""), (false, ", unencrypted floor")] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = setup(dir.path(), encrypted);
        let day = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
        assert!(store.orders_for_day(day).unwrap().len() > 200);

        c.bench_function(&format!("list a day's work orders (100k in store{label})"), |b| b.iter(|| store.orders_for_day(day).unwrap()));

        let order = uuid_for(4242);
        let slot = Slot { item_key: "site.exits".into(), asset_id: String::new() };
        let mut flip = false;
        c.bench_function(&format!("record one checklist answer + outbox entry (100k in store{label})"), |b| {
            b.iter(|| {
                flip = !flip;
                store.record_answer(&order, &slot, &json!(if flip { "pass" } else { "fail" })).unwrap()
            })
        });
    }
}

criterion_group! {
    name = store;
    config = Criterion::default().sample_size(200).measurement_time(std::time::Duration::from_secs(8));
    targets = benches
}
criterion_main!(store);
