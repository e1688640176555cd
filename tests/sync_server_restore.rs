//! The server restored from last night's backup, on both backends (issue #14). Two laptops sync;
//! the admin takes a backup while the server runs; the laptops go on working and syncing (new
//! records, edits, a signature, a satisfaction card, a photo); the admin restores the backup
//! (SQLite: `fieldbook-server restore`; PostgreSQL: `pg_restore` into a new database and
//! `fieldbook-server epoch new`). At their next sync the laptops see the new epoch, re-send what
//! they wrote from their own records, and pull again. Afterwards the server holds every record
//! every laptop had synced, exactly once, with no conflicts and nothing refused; the signed order
//! verifies; a further sync changes nothing; and each laptop's records equal the server's.
//!
//! Then the restore nobody announced: a later backup copied back by hand (epoch unchanged); the
//! laptops notice that the server is behind what they synced and recover the same way.

use std::collections::BTreeMap;

use fieldbook_scenarios::central::Central;
use fieldbook_scenarios::{raw_store, Laptop};
use fieldbook_testkit::Backend;
use serde_json::{Map, Value};

const STROKES: &str = include_str!("../demo/fixtures/strokes.json");
const ANSWERS: &str = include_str!("../demo/fixtures/inspection-wo-1001.json");

/// The entities laptops write.
const LAPTOP_ENTITIES: &[&str] = &["work_orders", "inspection_answers", "repair_records", "time_entries", "satisfaction_cards", "signatures", "amendments", "attachments"];

async fn enrolled(central: &Central, technician: &str) -> Laptop {
    let laptop = Laptop::new();
    laptop.json(&["init"]);
    let code = central.code_for(technician).await;
    laptop.json_async(&["enroll", "--server", &central.url(), "--code", &code]).await;
    laptop.json_async(&["sync"]).await;
    laptop
}

/// Records per laptop-written entity on the server, and the total.
async fn counts(central: &Central) -> BTreeMap<String, i64> {
    let mut c = BTreeMap::new();
    for e in LAPTOP_ENTITIES {
        c.insert(e.to_string(), central.count(&format!("SELECT count(*) FROM records WHERE entity = '{e}'")).await);
    }
    c.insert("all records".into(), central.count("SELECT count(*) FROM records").await);
    c
}

/// The server's copy of every laptop-written record in a technician's feed: (entity, id) → fields.
async fn server_records(central: &Central, technician: &str) -> BTreeMap<(String, String), Map<String, Value>> {
    let technician = technician.to_owned();
    let list = LAPTOP_ENTITIES.iter().map(|e| format!("'{e}'")).collect::<Vec<_>>().join(", ");
    let rows = central
        .db_run(move |db| {
            db.transaction(fieldbook_server::db::Mode::Read, |tx| {
                let rows = tx.query(&format!("SELECT entity, id, fields FROM records WHERE scope = $1 AND entity IN ({list})"), &[technician.as_str().into()])?;
                rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?, r.text(2)?))).collect::<fieldbook_server::Result<Vec<_>>>()
            })
        })
        .await
        .expect("read the server's records");
    rows.into_iter()
        .map(|(e, id, f)| {
            let Value::Object(fields) = serde_json::from_str(&f).unwrap() else { panic!("fields of {e} {id}") };
            ((e, id), fields)
        })
        .collect()
}

/// The laptop's copy of the same entities, read from its store.
fn laptop_records(laptop: &Laptop) -> BTreeMap<(String, String), Map<String, Value>> {
    let conn = raw_store(&laptop.db());
    let mut out = BTreeMap::new();
    for e in LAPTOP_ENTITIES {
        let spec = fieldbook_core::entity::spec(e).unwrap();
        let cols: Vec<&str> = spec.fields.iter().map(|(n, _)| *n).collect();
        let mut stmt = conn.prepare(&format!("SELECT id, {} FROM {e}", cols.join(", "))).unwrap();
        let rows = stmt
            .query_map([], |r| {
                let id: String = r.get(0)?;
                let fields: Map<String, Value> = spec.fields.iter().enumerate().map(|(i, (n, ty))| Ok((n.to_string(), fieldbook_core::entity::from_sql(*ty, r.get_ref(i + 1)?)))).collect::<rusqlite::Result<_>>()?;
                Ok((id, fields))
            })
            .unwrap();
        for row in rows {
            let (id, fields) = row.unwrap();
            out.insert((e.to_string(), id), fields);
        }
    }
    out
}

/// Every laptop-written record on the laptop is on the server with the same values, and the
/// other way round.
async fn assert_converged(central: &Central, laptop: &Laptop, technician: &str) {
    let server = server_records(central, technician).await;
    let local = laptop_records(laptop);
    let server_ids: Vec<_> = server.keys().collect();
    let local_ids: Vec<_> = local.keys().collect();
    assert_eq!(local_ids, server_ids, "{technician}'s laptop holds the same records as the server");
    for (key, fields) in &local {
        let on_server = &server[key];
        for (f, v) in fields {
            if let Some(s) = on_server.get(f) {
                assert_eq!(v, s, "{technician}: {key:?} field {f} differs from the server's");
            }
        }
    }
}

async fn server_restore(backend: Backend) {
    let mut central = Central::with_demo(backend).await;
    let li = enrolled(&central, "li.wei").await;
    let zhang = enrolled(&central, "zhang.min").await;
    let answers = li.write("answers.json", ANSWERS);
    let strokes = li.write("strokes.json", STROKES);
    let photo = li.write("pump.jpg", "\u{ff}\u{d8}\u{ff} a photo of the pump, taken after the backup");
    let (a, s, p) = (answers.to_str().unwrap().to_owned(), strokes.to_str().unwrap().to_owned(), photo.to_str().unwrap().to_owned());

    // Before the backup: some work synced.
    li.json_async(&["arrive", "WO-1001"]).await;
    li.json_async(&["answer", "WO-1001", "--file", &a]).await;
    zhang.json_async(&["arrive", "WO-1004"]).await;
    li.json_async(&["sync"]).await;
    zhang.json_async(&["sync"]).await;

    let backup = li.path("server.backup");
    central.backup(&backup).await;
    assert!(backup.exists());
    let at_backup = counts(&central).await;

    // After the backup: li.wei's device token rotates (the restored server will not know the
    // new one), a second laptop of li.wei's is enrolled (the restored server will not know it
    // at all), and more work is synced to the server that is about to be lost.
    let eight_days_ago = fieldbook_core::store::ts(chrono::Utc::now() - chrono::Duration::days(8));
    central
        .db_run(move |db| {
            db.transaction(fieldbook_server::db::Mode::Write, |tx| {
                tx.execute("UPDATE devices SET token_issued_at = $1 WHERE technician = 'li.wei'", &[eight_days_ago.as_str().into()])
            })
        })
        .await
        .unwrap();
    assert_eq!(li.json_async(&["sync"]).await["token_rotated"], true);
    let spare = enrolled(&central, "li.wei").await;
    spare.json_async(&["arrive", "WO-1005"]).await;
    spare.json_async(&["sync"]).await;
    for args in [
        vec!["complete", "WO-1001"],
        vec!["sign", "WO-1001", "--signer", "陈建国", "--strokes", &s],
        vec!["rate", "WO-1001", "--attitude", "4", "--skill", "3", "--arrival", "4", "--promise", "4"],
        vec!["arrive", "WO-1002"],
        vec!["repair", "WO-1002", "--fault", "泵体漏水", "--cause", "机械密封磨损", "--action", "更换机械密封", "--minutes", "95", "--category", "A"],
        vec!["attach", &p],
    ] {
        li.json_async(&args).await;
    }
    zhang.json_async(&["repair", "WO-1004", "--fault", "报警阀误报", "--cause", "压力开关老化", "--action", "更换压力开关", "--minutes", "40", "--category", "B"]).await;
    zhang.json_async(&["time", "--minutes", "30", "--category", "B", "--order", "WO-1004", "--note", "路程"]).await;
    let li_sync = li.json_async(&["sync"]).await;
    assert_eq!(li_sync["attachments_uploaded"], 1, "{li_sync}");
    zhang.json_async(&["sync"]).await;
    // Each pulls what the other did (nothing here: their orders differ), then one more change
    // that is still unsynced when the server is restored.
    li.json_async(&["sync"]).await;
    assert!(li.json_async(&["show", "WO-1005"]).await.to_string().contains("on_site"), "li's laptop has the spare laptop's arrival");
    li.json_async(&["en-route", "WO-1003"]).await;
    let before = counts(&central).await;
    assert!(before["signatures"] == 1 && before["repair_records"] == 2 && before["time_entries"] >= 1, "{before:?}");
    assert!(before["all records"] > at_backup["all records"], "{before:?} vs {at_backup:?}");

    // The admin restores last night's backup.
    let said = central.restore(&backup).await;
    assert!(said.contains("epoch"), "{said}");
    assert_eq!(counts(&central).await, at_backup, "the restored server has only what the backup had");

    // The laptops recover at their next sync.
    let r = li.json_async(&["sync"]).await;
    assert!(r["server_restored"].is_string(), "li's laptop noticed the restore: {r}");
    assert!(r["resent"].as_i64().unwrap() >= 5, "{r}");
    assert_eq!(r["rejected"].as_array().map_or(0, Vec::len), 0, "nothing re-sent is refused: {r}");
    assert_eq!(r["attachments_uploaded"], 1, "the photo is uploaded again: {r}");
    assert_eq!(r["token_renewed"], true, "the rotated token, unknown to the restored server, was renewed with the device key: {r}");
    let z = zhang.json_async(&["sync"]).await;
    assert!(z["server_restored"].is_string() && z["resent"].as_i64().unwrap() >= 2, "{z}");
    assert_eq!(z["rejected"].as_array().map_or(0, Vec::len), 0, "{z}");
    // The laptop enrolled after the backup is unknown: told to get a code, it enrols again and
    // re-sends what it wrote.
    let refused = spare.run(&["sync"]);
    assert!(!refused.ok && refused.stderr.contains("enrolment code") && refused.stderr.contains("nothing on this laptop is lost"), "{}", refused.stderr);
    let code = central.code_for("li.wei").await;
    spare.json_async(&["enroll", "--server", &central.url(), "--code", &code]).await;
    let again = spare.json_async(&["sync"]).await;
    assert!(again["server_restored"].is_string() && again["resent"].as_i64().unwrap() >= 1, "{again}");
    li.json_async(&["sync"]).await;
    let text = li.run(&["sync"]);
    assert!(text.ok && !text.stdout.contains("Recovered"), "a recovered laptop does not recover again: {}", text.stdout);

    // Everything every laptop had synced is there, exactly once; nothing conflicted or refused.
    assert_eq!(counts(&central).await, before, "the server holds what it held before the restore");
    assert_eq!(central.count("SELECT count(*) FROM conflicts").await, 0);
    assert_eq!(central.count("SELECT count(*) FROM rejected_changes").await, 0);
    let arrived = central.count("SELECT count(*) FROM records WHERE entity = 'work_orders' AND fields LIKE '%\"number\":\"WO-1005\"%' AND fields LIKE '%\"status\":\"on_site\"%'").await;
    assert_eq!(arrived, 1, "the spare laptop's arrival is back");
    let en_route = central.count("SELECT count(*) FROM records WHERE entity = 'work_orders' AND fields LIKE '%\"number\":\"WO-1003\"%' AND fields LIKE '%\"status\":\"en_route\"%'").await;
    assert_eq!(en_route, 1, "the change unsynced at the restore arrived too");
    let signed = central.count("SELECT count(*) FROM records WHERE entity = 'work_orders' AND fields LIKE '%\"status\":\"signed\"%'").await;
    assert_eq!(signed, 1);

    // Syncing again re-sends nothing and adds nothing to the feed.
    let feed = central.count("SELECT count(*) FROM feed").await;
    for l in [&li, &zhang] {
        let again = l.json_async(&["sync"]).await;
        assert!(again["server_restored"].is_null() && again["pushed"] == 0, "{again}");
    }
    assert_eq!(central.count("SELECT count(*) FROM feed").await, feed);
    assert_converged(&central, &li, "li.wei").await;
    assert_converged(&central, &zhang, "zhang.min").await;

    // A third laptop pulling the restored server finds the signature intact.
    let office_copy = enrolled(&central, "li.wei").await;
    assert_eq!(office_copy.json_async(&["verify", "WO-1001"]).await["intact"], true);

    // The restore nobody announced: a backup of this epoch, more work synced, then the backup
    // put back by hand (SQLite: the file copied over the database; PostgreSQL: a pg_restore
    // without `epoch new`), so the epoch is the one the laptops know. They see a server behind
    // what they synced.
    let status = li.json_async(&["status"]).await;
    assert!(status["server_restore"].is_array(), "status says when the laptop recovered: {status}");
    let second = li.path("server-2.backup");
    central.backup(&second).await;
    li.json_async(&["time", "--minutes", "20", "--category", "A", "--order", "WO-1002", "--note", "回程"]).await;
    li.json_async(&["arrive", "WO-1003"]).await;
    zhang.json_async(&["complete", "WO-1004"]).await;
    li.json_async(&["sync"]).await;
    zhang.json_async(&["sync"]).await;
    let before = counts(&central).await;
    central.restore_unannounced(&second).await;
    let r = li.json_async(&["sync"]).await;
    assert!(r["server_restored"].as_str().is_some_and(|w| w.contains("behind")), "{r}");
    assert_eq!(r["rejected"].as_array().map_or(0, Vec::len), 0, "{r}");
    let z = zhang.json_async(&["sync"]).await;
    assert!(z["server_restored"].as_str().is_some_and(|w| w.contains("behind")), "{z}");
    assert_eq!(counts(&central).await, before);
    assert_eq!(central.count("SELECT count(*) FROM conflicts").await, 0);
    assert_eq!(central.count("SELECT count(*) FROM rejected_changes").await, 0);
    li.json_async(&["sync"]).await;
    assert_converged(&central, &li, "li.wei").await;
    assert_converged(&central, &zhang, "zhang.min").await;
    central.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn laptops_resend_what_a_restored_server_lost_on_sqlite() {
    server_restore(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn laptops_resend_what_a_restored_server_lost_on_postgres() {
    server_restore(Backend::Postgres).await
}
