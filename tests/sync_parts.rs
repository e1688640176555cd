//! Spare parts across the real server and a real laptop (the `fieldbook` CLI), on both server
//! backends: the office issues parts to li.wei's van; the laptop pulls its van stock, goes
//! offline and uses parts on repairs (the second uses more than the van holds: warned, saved);
//! back online, one sync moves the van's stock by exactly what the repairs used, the over-use
//! flagged for the office; the same changes pushed again (a laptop whose acknowledgement was lost
//! sends them under new sequence numbers) move nothing more.

use fieldbook_core::entity;
use fieldbook_scenarios::central::Central;
use fieldbook_scenarios::{raw_store, Laptop};
use fieldbook_server::console::parts::{self, MovementRequest};
use fieldbook_server::db::Mode;
use fieldbook_testkit::Backend;

const SMOKE: &str = "SD-JTY-GD-G3";

async fn van_on_hand(central: &Central) -> i64 {
    central.count(&format!("SELECT on_hand FROM stock_index WHERE store_id = 'van-li.wei' AND part_id = '{}'", fieldbook_core::import::stable_id("parts", SMOKE))).await
}

async fn parts_used_offline(backend: Backend) {
    let mut central = Central::with_demo(backend).await;
    let part_id = fieldbook_core::import::stable_id("parts", SMOKE);
    let p = part_id.clone();
    central
        .db_run(move |db| {
            db.transaction(Mode::Feed, |tx| {
                parts::move_stock(tx, "office.wang", &MovementRequest { kind: "goods_in".into(), part_id: p.clone(), quantity: 10, ..Default::default() })?;
                parts::move_stock(tx, "office.wang", &MovementRequest { kind: "issue".into(), part_id: p.clone(), quantity: 3, technician: Some("li.wei".into()), ..Default::default() })
            })
        })
        .await
        .unwrap();
    assert_eq!(van_on_hand(&central).await, 3);

    let laptop = Laptop::new();
    laptop.json(&["init"]);
    let code = central.code_for("li.wei").await;
    let url = central.url();
    let l = &laptop;
    l.json_async(&["enroll", "--server", &url, "--code", &code]).await;
    l.json_async(&["sync"]).await;
    let van = l.json_async(&["van"]).await;
    assert_eq!((van[0]["sku"].as_str(), van[0]["on_hand"].as_i64(), van[0]["available"].as_i64()), (Some(SMOKE), Some(3), Some(3)), "{van}");

    // Offline: two repairs, the second beyond what is left.
    central.stop().await;
    l.json_async(&["arrive", "WO-1002"]).await;
    let repair = ["repair", "WO-1002", "--fault", "探测器故障", "--cause", "老化", "--action", "更换探测器", "--minutes", "30", "--category", "A"];
    let first = laptop.run(&[&repair[..], &["--part", &format!("{SMOKE}=1"), "--json"]].concat());
    assert!(first.ok && !first.stderr.contains("warning"), "{}", first.stderr);
    assert_eq!(l.json_async(&["van"]).await[0]["available"], 2, "offline, the van shows what is left");
    let second = laptop.run(&[&repair[..], &["--part", &format!("{SMOKE}=4+returned"), "--json"]].concat());
    assert!(second.ok, "over-use is saved: {}", second.stderr);
    assert!(second.stderr.contains("warning: your van holds 2 of SD-JTY-GD-G3, this repair uses 4"), "{}", second.stderr);
    assert_eq!(l.json_async(&["van"]).await[0]["available"], -2);

    // Keep a copy of the repairs' outbox entries, as a laptop that never heard the answer would.
    let raw = raw_store(&laptop.db());
    let cols: Vec<String> = raw
        .prepare("SELECT name FROM pragma_table_info('outbox') WHERE name <> 'seq'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let cols = cols.join(", ");
    raw.execute_batch(&format!("CREATE TABLE resend AS SELECT {cols} FROM outbox WHERE entity = 'repair_records'")).unwrap();

    central.restart().await;
    let pushed = l.json_async(&["sync"]).await;
    assert_eq!(pushed["rejected"].as_array().map(Vec::len).unwrap_or(0), 0, "{pushed}");
    assert_eq!(van_on_hand(&central).await, 3 - 5, "the van moved by exactly the five used");
    assert_eq!(central.count("SELECT CAST(COUNT(*) AS BIGINT) FROM movement_index WHERE kind = 'use' AND deleted = 0").await, 2);
    assert_eq!(central.count("SELECT CAST(COUNT(*) AS BIGINT) FROM movement_index WHERE kind = 'use' AND over_use = 1").await, 1, "the over-use is flagged");
    assert_eq!(central.count("SELECT CAST(SUM(quantity) AS BIGINT) FROM movement_index WHERE kind = 'faulty_return'").await, 4);
    let van = l.json_async(&["van"]).await;
    assert_eq!((van[0]["on_hand"].as_i64(), van[0]["unsynced_use"].as_i64()), (Some(-2), Some(0)), "the laptop holds the server's figure: {van}");

    // The same entries again, under new sequence numbers: nothing moves twice.
    raw.execute_batch(&format!("INSERT INTO outbox ({cols}) SELECT {cols} FROM resend; DROP TABLE resend")).unwrap();
    drop(raw);
    let again = l.json_async(&["sync"]).await;
    assert!(again["pushed"].as_i64().unwrap() >= 2, "{again}");
    assert_eq!(van_on_hand(&central).await, -2, "a re-push never double-counts");
    assert_eq!(central.count("SELECT CAST(COUNT(*) AS BIGINT) FROM movement_index WHERE kind = 'use'").await, 2);
    assert!(entity::is_desk("stock_movements"));
    central.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_used_offline_on_sqlite() {
    parts_used_offline(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_used_offline_on_postgres() {
    parts_used_offline(Backend::Postgres).await
}
