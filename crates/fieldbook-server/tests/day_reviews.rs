//! The supervisor's review of a technician's day (核阅, #12) against the real server, on SQLite
//! and on PostgreSQL: a real laptop store records time outside repairs (internal, travel), the
//! console lists the day by category and activity, signs it off (audited), the sign-off reaches
//! that technician's laptop and no other; a change to a signed-off day's entries flags it until it
//! is signed off again; a returned day needs a note; the supervisor's daily report rolls the days
//! up. The attacker's side: a laptop signing off its own day, writing day reviews at all,
//! recording time for another technician or with an activity outside the list.

mod common;

use common::{both, id, laptop_store, pull_into, push_from, Backend, Console, Laptop, TestServer};
use fieldbook_core::model::{Activity, Category, DayReviewStatus};
use fieldbook_core::store::time::TimeInput;
use fieldbook_server::users;
use reqwest::Method;
use serde_json::json;

both!(
    a_day_is_signed_off_in_the_console_and_the_sign_off_reaches_the_laptop,
    a_laptop_cannot_sign_off_its_own_day_nor_record_anothers_time,
    an_entry_moved_off_a_signed_off_day_flags_the_day_it_left,
);

async fn office(s: &TestServer) -> Console {
    Console::as_role(s, "office.wang", users::Role::Office).await
}

fn input(day: chrono::NaiveDate, category: Category, activity: Activity, minutes: u32, order: Option<&str>, note: &str) -> TimeInput {
    TimeInput { work_date: day, category, activity, minutes, note: Some(note.into()), work_order: order.map(Into::into) }
}

/// Both days an entry moves between are flagged when signed off: the one it left (looked up
/// before the entry's row changes) and the one it joined; another technician's signed-off day
/// of the same date is not.
async fn an_entry_moved_off_a_signed_off_day_flags_the_day_it_left(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut li, li_token) = laptop_store(&s, dir.path(), "li.wei").await;
    let (mut zhang, zhang_token) = laptop_store(&s, dir.path(), "zhang.min").await;
    let (day, earlier) = (chrono::Utc::now().date_naive() - chrono::Duration::days(3), chrono::Utc::now().date_naive() - chrono::Duration::days(5));
    let entry = li.add_time_entry(&input(day, Category::Internal, Activity::Internal, 60, None, "培训 / training")).unwrap();
    li.add_time_entry(&input(earlier, Category::Internal, Activity::Internal, 30, None, "工具 / tools")).unwrap();
    push_from(&s, &li_token, &mut li).await;
    zhang.add_time_entry(&input(day, Category::Internal, Activity::Internal, 30, None, "工具检查 / tool check")).unwrap();
    push_from(&s, &zhang_token, &mut zhang).await;
    for (who, d) in [("li.wei", day), ("li.wei", earlier), ("zhang.min", day)] {
        c.post(&format!("/console/api/daily-reports/{who}/{d}"), json!({"status": "signed_off"})).await;
    }
    li.edit_time_entry(&entry.id, &input(earlier, Category::Internal, Activity::Internal, 60, None, "培训 / training")).unwrap();
    push_from(&s, &li_token, &mut li).await;
    let changed = |who: &'static str, d: chrono::NaiveDate| {
        let c = &c;
        async move { c.get(&format!("/console/api/daily-reports/{who}/{d}")).await["review"]["changed_at"].is_string() }
    };
    assert!(changed("li.wei", day).await, "the day the entry left");
    assert!(changed("li.wei", earlier).await, "the day the entry joined");
    assert!(!changed("zhang.min", day).await, "another technician's day of the same date");
}

async fn a_day_is_signed_off_in_the_console_and_the_sign_off_reaches_the_laptop(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let c = office(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut li, li_token) = laptop_store(&s, dir.path(), "li.wei").await;
    let (mut zhang, zhang_token) = laptop_store(&s, dir.path(), "zhang.min").await;
    let day = chrono::Utc::now().date_naive() - chrono::Duration::days(1);
    let training = li.add_time_entry(&input(day, Category::Internal, Activity::Internal, 120, None, "消防规范培训 / fire code training")).unwrap();
    li.add_time_entry(&input(day, Category::Contract, Activity::Travel, 40, Some("WO-1002"), "往返金桥 / to Jinqiao and back")).unwrap();
    push_from(&s, &li_token, &mut li).await;
    zhang.add_time_entry(&input(day, Category::Internal, Activity::Internal, 30, None, "工具检查 / tool check")).unwrap();
    push_from(&s, &zhang_token, &mut zhang).await;

    // The day's list: both technicians, by category, not reviewed yet.
    let list = c.get(&format!("/console/api/daily-reports?date={day}")).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.iter().map(|i| i["technician"].as_str().unwrap()).collect::<Vec<_>>(), ["li.wei", "zhang.min"], "{list}");
    assert_eq!((items[0]["B"].as_i64(), items[0]["D"].as_i64(), items[0]["total"].as_i64(), items[0]["entries"].as_i64()), (Some(40), Some(120), Some(160), Some(2)));
    assert!(items[0]["review"].is_null());

    // One technician's day: entries by category and activity.
    let path = format!("/console/api/daily-reports/li.wei/{day}");
    let d = c.get(&path).await;
    assert_eq!(d["entries"].as_array().unwrap().len(), 2, "{d}");
    assert_eq!((d["activities"]["internal"].as_i64(), d["activities"]["travel"].as_i64(), d["total"].as_i64()), (Some(120), Some(40), Some(160)));
    assert_eq!(d["categories"]["D"], 120);
    let travel = d["entries"].as_array().unwrap().iter().find(|e| e["activity"] == "travel").unwrap();
    assert_eq!(travel["work_order_number"], "WO-1002");

    // Deciding: only signed_off or returned; a return needs a note.
    assert_eq!(c.send(Method::POST, &path, json!({"status": "approved"})).await.status(), 400);
    assert_eq!(c.send(Method::POST, &path, json!({"status": "returned", "note": "  "})).await.status(), 400);
    let signed = c.post(&path, json!({"status": "signed_off"})).await;
    assert_eq!((signed["review"]["status"].as_str(), signed["review"]["reviewed_by"].as_str(), signed["review"]["minutes"].as_i64()), (Some("signed_off"), Some("office.wang"), Some(160)));
    assert_eq!(signed["trail"][0]["action"], "day_signed_off", "{signed}");
    let audit = c.get("/console/api/audit?actor=office.wang").await;
    assert_eq!(audit["items"][0]["action"], "day_signed_off", "{audit}");

    // The sign-off reaches li.wei's laptop, and not zhang.min's.
    pull_into(&s, &li_token, &mut li).await;
    let mine = li.day_time(day, None).unwrap();
    let review = mine.review.clone().expect("the sign-off was pulled");
    assert_eq!((review.status, review.reviewed_by.as_str(), review.minutes), (DayReviewStatus::SignedOff, "office.wang", Some(160)));
    assert!(!mine.changed_since_sign_off);
    pull_into(&s, &zhang_token, &mut zhang).await;
    assert!(zhang.day_review("li.wei", day).unwrap().is_none(), "another technician's day review is not sent to zhang.min");
    assert!(zhang.day_time(day, None).unwrap().review.is_none());

    // The supervisor's daily report: every technician's day, signed off or not.
    let r = c.get(&format!("/console/api/reports/supervisor-daily?from={day}&to={day}")).await;
    let rows = r["rows"].as_array().unwrap();
    let row = |t: &str| rows.iter().find(|x| x["technician"] == t).unwrap_or_else(|| panic!("no row for {t}: {r}")).clone();
    assert_eq!((row("li.wei")["review"].as_str(), row("li.wei")["total"].as_i64(), row("li.wei")["D"].as_i64()), (Some("signed_off"), Some(160), Some(120)));
    assert_eq!((row("zhang.min")["review"].as_str(), row("zhang.min")["D"].as_i64()), (Some("not_reviewed"), Some(30)));
    assert_eq!(row("li.wei")["changed_after_sign_off"], false);
    // A page of the first row says how many there are, and is the full report's first row.
    let page = c.get(&format!("/console/api/reports/supervisor-daily?from={day}&to={day}&limit=1")).await;
    assert_eq!((page["rows"].as_array().unwrap().len(), page["total_rows"].as_u64()), (1, Some(2)), "{page}");
    assert_eq!(page["rows"][0], rows[0]);

    // The technician changes the signed-off day on the laptop: the console flags it.
    li.edit_time_entry(&training.id, &input(day, Category::Internal, Activity::Internal, 150, None, "培训延长 / training ran over")).unwrap();
    assert!(li.day_time(day, None).unwrap().changed_since_sign_off, "the laptop says the supervisor will see the change");
    push_from(&s, &li_token, &mut li).await;
    let d = c.get(&path).await;
    assert!(d["review"]["changed_at"].is_string(), "{d}");
    assert_eq!(d["total"], 190);
    let r = c.get(&format!("/console/api/reports/supervisor-daily?from={day}&to={day}&technician=li.wei")).await;
    assert_eq!((r["rows"][0]["changed_after_sign_off"].as_bool(), r["rows"][0]["total"].as_i64()), (Some(true), Some(190)), "{r}");
    // zhang.min's unsigned day is not flagged by anything.
    let list = c.get(&format!("/console/api/daily-reports?date={day}")).await;
    assert!(list["items"][1]["review"].is_null());
    // Signed off again: the flag is cleared; then returned with a note, which the laptop sees.
    let again = c.post(&path, json!({"status": "signed_off"})).await;
    assert!(again["review"]["changed_at"].is_null(), "{again}");
    assert_eq!(again["review"]["minutes"], 190);
    let returned = c.post(&path, json!({"status": "returned", "note": "路途应记在 WO-1002 的类别 / travel belongs to WO-1002's category"})).await;
    assert_eq!(returned["review"]["status"], "returned");
    assert_eq!(returned["trail"].as_array().unwrap().len(), 3);
    pull_into(&s, &li_token, &mut li).await;
    let back = li.day_time(day, None).unwrap().review.unwrap();
    assert_eq!((back.status, back.note.as_deref()), (DayReviewStatus::Returned, Some("路途应记在 WO-1002 的类别 / travel belongs to WO-1002's category")));

    // CSV of the list and of the report.
    let csv = c.req(Method::GET, &format!("/console/api/daily-reports?date={day}&format=csv&lang=zh")).send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("核阅") && csv.contains("li.wei") && csv.contains("returned"), "{csv}");
    let csv = c.req(Method::GET, &format!("/console/api/reports/supervisor-daily?from={day}&to={day}&format=csv")).send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("Changed after sign-off") && csv.contains("zhang.min"), "{csv}");
}

fn time_entry(technician: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut e = json!({"technician": technician, "work_order_id": null, "work_date": "2026-03-02", "category": "D", "minutes": 60,
        "note": "training", "activity": "internal", "deleted": false});
    e.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    e
}

async fn a_laptop_cannot_sign_off_its_own_day_nor_record_anothers_time(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let mut zhang = Laptop::enroll(&s, "zhang.min").await;
    let review = json!({"technician": "li.wei", "work_date": "2026-03-02", "status": "signed_off", "note": null, "reviewed_by": "li.wei",
        "reviewed_at": "2026-03-02T18:00:00.000Z", "minutes": 60, "deleted": false});
    let zhang_order = id("work_orders", "WO-1004");
    let attempts = [
        ("its own day signed off", li.entry("day_reviews", "day:li.wei:2026-03-02", review.clone()), "li"),
        ("a day review under another id", li.entry("day_reviews", "mine", review.clone()), "li"),
        ("another technician's day signed off", zhang.entry("day_reviews", "day:li.wei:2026-03-02", review.clone()), "zhang"),
        ("time for another technician", li.entry("time_entries", "t1", time_entry("zhang.min", json!({}))), "li"),
        ("time on another technician's order", li.entry("time_entries", "t2", time_entry("li.wei", json!({"work_order_id": zhang_order, "category": "B", "activity": "travel"}))), "li"),
        ("an activity outside the list", li.entry("time_entries", "t3", time_entry("li.wei", json!({"activity": "lunch"}))), "li"),
        ("more than a day", li.entry("time_entries", "t4", time_entry("li.wei", json!({"minutes": 1441}))), "li"),
    ];
    for (what, entry, who) in attempts {
        let laptop = if who == "li" { &li } else { &zhang };
        let r = laptop.push(&s, &[entry]).await;
        assert_eq!(r.rejected.len(), 1, "{what} is refused: {r:?}");
    }
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM records WHERE entity IN ('day_reviews', 'time_entries')").await, 0, "nothing of them was kept");
    assert_eq!(s.count("SELECT CAST(COUNT(*) AS BIGINT) FROM day_review_index").await, 0);

    // A good entry, signed off in the console; the laptop cannot then rewrite the review.
    let good = li.entry("time_entries", "t-ok", time_entry("li.wei", json!({})));
    assert!(li.push(&s, &[good]).await.rejected.is_empty());
    let c = office(&s).await;
    c.post("/console/api/daily-reports/li.wei/2026-03-02", json!({"status": "signed_off"})).await;
    let undo = li.entry("day_reviews", "day:li.wei:2026-03-02", json!({"status": "returned", "note": "never mind"}));
    let r = li.push(&s, &[undo]).await;
    assert_eq!(r.rejected.len(), 1, "{r:?}");
    assert!(r.rejected[0].reason.contains("supervisor"), "{:?}", r.rejected);
    // Nor move its entry to another technician after the fact.
    let moved = li.entry("time_entries", "t-ok", json!({"technician": "zhang.min"}));
    assert_eq!(li.push(&s, &[moved]).await.rejected.len(), 1);
    assert_eq!(c.get("/console/api/daily-reports/li.wei/2026-03-02").await["review"]["status"], "signed_off");

    // The console refuses what is no day to review.
    for (path, body, status) in [
        ("/console/api/daily-reports/nobody/2026-03-02", json!({"status": "signed_off"}), 404),
        ("/console/api/daily-reports/office.wang/2026-03-02", json!({"status": "signed_off"}), 404),
        ("/console/api/daily-reports/zhang.min/2026-03-02", json!({"status": "signed_off"}), 400),
        ("/console/api/daily-reports/li.wei/2999-01-01", json!({"status": "returned", "note": "x"}), 400),
        ("/console/api/daily-reports/li.wei/2026-02-30", json!({"status": "signed_off"}), 400),
        ("/console/api/daily-reports/li.wei/2026-03-02", json!({"status": "signed_off", "minutes": 5}), 400),
    ] {
        assert_eq!(c.send(Method::POST, path, body.clone()).await.status(), status, "{path} {body}");
    }
    // A device token is no console session.
    let r = s.req(Method::POST, "/console/api/daily-reports/li.wei/2026-03-02").header("X-Fieldbook-Console", "1").bearer_auth(&li.token).json(&json!({"status": "signed_off"})).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // zhang.min's laptop never hears of li.wei's review; li.wei's does.
    assert!(zhang.pull_all(&s).await.iter().all(|ch| ch.entity != "day_reviews"));
    assert!(li.pull_all(&s).await.iter().any(|ch| ch.entity == "day_reviews" && ch.record_id == "day:li.wei:2026-03-02"));
}
