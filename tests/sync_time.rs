//! Time and the daily report across the wire (#12), on both server backends: li.wei's laptop,
//! offline, records internal time (training) and completes a patrol inspection, whose time from
//! arrival is recorded once; back online it syncs, and the console's day for li.wei shows the
//! internal and inspection minutes; the supervisor signs the day off in the console and the
//! sign-off reaches li.wei's laptop (`fieldbook day`), not zhang.min's. Syncing again adds no
//! second inspection entry; an edit after the sign-off flags the day in the console.

use fieldbook_scenarios::central::Central;
use fieldbook_scenarios::Laptop;
use fieldbook_server::console::day_reviews::{self, DecideRequest};
use fieldbook_server::db::Mode;
use fieldbook_testkit::Backend;

const ANSWERS: &str = include_str!("../demo/fixtures/inspection-wo-1001.json");

async fn enrolled(central: &Central, technician: &str) -> Laptop {
    let laptop = Laptop::new();
    laptop.json(&["init"]);
    let code = central.code_for(technician).await;
    laptop.json_async(&["enroll", "--server", &central.url(), "--code", &code]).await;
    laptop.json_async(&["sync"]).await;
    laptop
}

async fn time_day(backend: Backend) {
    let mut central = Central::with_demo(backend).await;
    let li = enrolled(&central, "li.wei").await;
    let zhang = enrolled(&central, "zhang.min").await;

    // Offline: training in the morning, then the patrol inspection from arrival to completion.
    central.stop().await;
    let answers = li.write("answers.json", ANSWERS);
    li.json_async(&["time", "--minutes", "90", "--category", "D", "--activity", "internal", "--note", "消防规范培训 / fire code training"]).await;
    li.json_async(&["arrive", "WO-1001"]).await;
    li.json_async(&["answer", "WO-1001", "--file", answers.to_str().unwrap()]).await;
    // The inspection takes at least a second, so its entry has a minute.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    li.json_async(&["complete", "WO-1001"]).await;
    // The entries are recorded on the laptop's day; the inspection's on its completion's UTC day.
    let day = li.json_async(&["day"]).await;
    let work_date = day["work_date"].as_str().unwrap().to_owned();
    let inspections = |d: &serde_json::Value| d["entries"].as_array().unwrap().iter().filter(|e| e["activity"] == "inspection").count();
    let utc_day = chrono::Utc::now().date_naive().to_string();
    let on_utc = li.json_async(&["day", "--date", &utc_day]).await;
    assert_eq!(inspections(&on_utc), 1, "the inspection's time from arrival: {on_utc}");
    assert!(li.run(&["sync"]).stderr.contains("cannot reach the server"));

    central.restart().await;
    let pushed = li.json_async(&["sync"]).await;
    assert_eq!(pushed["rejected"].as_array().map(Vec::len).unwrap_or(0), 0, "{pushed}");

    // The console's day for li.wei: the internal time, recorded offline, is there.
    let date: chrono::NaiveDate = work_date.parse().unwrap();
    let console_day = central.db_run(move |db| db.transaction(Mode::Read, |tx| day_reviews::day_of(tx, "li.wei", date))).await.unwrap();
    assert_eq!(console_day.activities["internal"], 90, "{console_day:?}");
    assert!(console_day.entries.iter().any(|e| e.note.as_deref() == Some("消防规范培训 / fire code training")));
    let inspection_day: chrono::NaiveDate = utc_day.parse().unwrap();
    let with_inspection = central.db_run(move |db| db.transaction(Mode::Read, |tx| day_reviews::day_of(tx, "li.wei", inspection_day))).await.unwrap();
    assert_eq!(with_inspection.entries.iter().filter(|e| e.activity.as_deref() == Some("inspection")).count(), 1, "{with_inspection:?}");

    // The supervisor signs the day off; the sign-off reaches li.wei's laptop only.
    let signed = central
        .db_run(move |db| {
            db.transaction(Mode::Feed, |tx| day_reviews::decide(tx, "office.wang", "li.wei", date, &DecideRequest { status: "signed_off".into(), note: None }))
        })
        .await
        .unwrap();
    assert_eq!(signed.review.as_ref().map(|r| r.status.as_str()), Some("signed_off"));
    li.json_async(&["sync"]).await;
    let mine = li.json_async(&["day", "--date", &work_date]).await;
    assert_eq!((mine["review"]["status"].as_str(), mine["review"]["reviewed_by"].as_str()), (Some("signed_off"), Some("office.wang")), "{mine}");
    assert_eq!(mine["changed_since_sign_off"], false);
    zhang.json_async(&["sync"]).await;
    assert!(zhang.json_async(&["day", "--date", &work_date]).await["review"].is_null(), "li.wei's sign-off is not sent to zhang.min");

    // Syncing again records nothing twice.
    let feed = central.count("SELECT count(*) FROM feed").await;
    li.json_async(&["sync"]).await;
    assert_eq!(central.count("SELECT count(*) FROM feed").await, feed);
    let again = li.json_async(&["day", "--date", &utc_day]).await;
    assert_eq!(inspections(&again), 1, "{again}");
    assert_eq!(central.count("SELECT count(*) FROM records WHERE entity = 'time_entries' AND fields LIKE '%\"activity\":\"inspection\"%'").await, 1);

    // More time on the signed-off day: the console flags the day.
    li.json_async(&["time", "--minutes", "30", "--category", "D", "--activity", "internal", "--date", &work_date, "--note", "补记会议 / meeting"]).await;
    li.json_async(&["sync"]).await;
    let flagged = central.db_run(move |db| db.transaction(Mode::Read, |tx| day_reviews::day_of(tx, "li.wei", date))).await.unwrap();
    assert!(flagged.review.unwrap().changed_at.is_some(), "a change after the sign-off is flagged");
    central.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_day_on_sqlite() {
    time_day(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_day_on_postgres() {
    time_day(Backend::Postgres).await
}
