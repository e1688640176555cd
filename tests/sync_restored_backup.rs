//! A laptop restored from a backup, on both server backends. The backup was taken before some of
//! the technician's work had synced, so the restored store hands out outbox numbers the server
//! has already applied. The next changes made on it must still reach the server: the server
//! tells a resent duplicate (stamped no later than what it applied) from new work numbered again
//! (stamped later), refuses the latter with `sequence_reset`, and the laptop renumbers.

use fieldbook_scenarios::central::Central;
use fieldbook_scenarios::Laptop;
use fieldbook_testkit::Backend;

const ANSWERS: &str = include_str!("../demo/fixtures/inspection-wo-1001.json");

async fn restored_backup(backend: Backend) {
    let central = Central::with_demo(backend).await;
    let laptop = Laptop::new();
    laptop.json(&["init"]);
    let code = central.code_for("li.wei").await;
    laptop.json_async(&["enroll", "--server", &central.url(), "--code", &code]).await;
    laptop.json_async(&["sync"]).await;
    let backup = snapshot(&laptop);

    // Work that syncs after the backup was taken: the server applies outbox numbers 1..k.
    let answers = laptop.write("answers.json", ANSWERS);
    laptop.json_async(&["arrive", "WO-1001"]).await;
    laptop.json_async(&["answer", "WO-1001", "--file", answers.to_str().unwrap()]).await;
    let applied = laptop.json_async(&["sync"]).await["pushed"].as_i64().unwrap();
    assert!(applied > 5, "{applied}");

    // The laptop's disk is restored from the backup, and the technician goes on working.
    restore(&backup);
    laptop.json_async(&["arrive", "WO-1002"]).await;
    laptop.json_async(&["repair", "WO-1002", "--fault", "泵体漏水", "--cause", "机械密封磨损", "--action", "更换机械密封", "--minutes", "95", "--category", "A"]).await;
    let pending = laptop.json_async(&["status"]).await["pending_changes"].as_i64().unwrap();
    assert!(pending > 0 && pending < applied, "new work numbered from the backup's counter, below the applied numbers: {pending}");

    let report = laptop.json_async(&["sync"]).await;
    assert_eq!(report["renumbered"].as_i64(), Some(pending), "{report}");
    assert_eq!(report["pushed"].as_i64(), Some(pending), "{report}");
    assert_eq!(laptop.json_async(&["status"]).await["pending_changes"], 0);

    // Nothing typed after the restore was skipped as a duplicate.
    assert_eq!(central.count("SELECT count(*) FROM records WHERE entity = 'repair_records'").await, 1);
    let on_site = central
        .count("SELECT count(*) FROM records WHERE entity = 'work_orders' AND fields LIKE '%\"number\":\"WO-1002\"%' AND fields LIKE '%\"status\":\"on_site\"%'")
        .await;
    assert_eq!(on_site, 1, "WO-1002's arrival reached the server");
    // And the work synced before the restore is still there, and came back to the laptop.
    let answered = serde_json::from_str::<serde_json::Value>(ANSWERS).unwrap().as_array().unwrap().len() as i64;
    assert_eq!(central.count("SELECT count(*) FROM records WHERE entity = 'inspection_answers'").await, answered);
    let shown = laptop.json_async(&["show", "WO-1001"]).await;
    assert_eq!(shown["order"]["status"].as_str().or(shown["status"].as_str()), Some("on_site"), "{shown}");
}

/// A copy of the laptop's store files, taken while no `fieldbook` process has it open.
fn snapshot(laptop: &Laptop) -> Vec<(std::path::PathBuf, Option<Vec<u8>>)> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut p = laptop.db().into_os_string();
            p.push(suffix);
            let p = std::path::PathBuf::from(p);
            let bytes = std::fs::read(&p).ok();
            (p, bytes)
        })
        .collect()
}

fn restore(backup: &[(std::path::PathBuf, Option<Vec<u8>>)]) {
    for (path, bytes) in backup {
        match bytes {
            Some(b) => std::fs::write(path, b).expect("restore a store file"),
            None => {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_laptop_loses_nothing_on_sqlite() {
    restored_backup(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_laptop_loses_nothing_on_postgres() {
    restored_backup(Backend::Postgres).await
}
