//! A renewal reaching the laptop, on both server backends (#12): the demo's HT-2025-017 covers
//! JQ-FACP-01 (out of warranty) until its last day, so a repair of the panel the day after
//! defaults to A on zhang.min's laptop. The office makes the expiry notice, records it sent and
//! marks the contract renewed as a new contract starting that day; after one sync the laptop
//! holds the new contract (`renewal_of` the old one, its service level) and the same repair now
//! defaults to B under it. The renewal's tracking record itself never reaches the laptop.

use chrono::{Duration, Local, NaiveDate, Utc};
use fieldbook_core::import::stable_id;
use fieldbook_core::model::Category;
use fieldbook_core::Store;
use fieldbook_scenarios::central::Central;
use fieldbook_scenarios::{test_key, Laptop};
use fieldbook_server::console::renewals::{self, NewContract, StepRequest};
use fieldbook_server::db::Mode;
use fieldbook_testkit::Backend;

fn step(kind: &str) -> StepRequest {
    StepRequest { kind: kind.into(), sent_how: None, sent_at: None, visit_on: None, visit_by: None, new_contract_id: None, new_contract: None, lost_reason: None }
}

fn default_on(laptop: &Laptop, asset: &str, day: NaiveDate) -> fieldbook_core::service_category::Default {
    let store = Store::open(&laptop.db(), &test_key()).expect("open the laptop store");
    store.default_category(asset, day).expect("the panel is on the laptop")
}

async fn renewal_reaches_the_laptop(backend: Backend) {
    let central = Central::with_demo(backend).await;
    let laptop = Laptop::new();
    laptop.json(&["init"]);
    let code = central.code_for("zhang.min").await;
    laptop.json_async(&["enroll", "--server", &central.url(), "--code", &code]).await;
    laptop.json_async(&["sync"]).await;

    let old = stable_id("contracts", "HT-2025-017");
    let panel = stable_id("assets", "JQ-FACP-01");
    let ends = NaiveDate::parse_from_str("2026-03-31", "%Y-%m-%d").unwrap() + (Local::now().date_naive() - NaiveDate::parse_from_str("2026-03-02", "%Y-%m-%d").unwrap());
    let after = ends + Duration::days(1);
    assert_eq!(default_on(&laptop, &panel, ends).category, Category::Contract, "the old contract's last day");
    let before = default_on(&laptop, &panel, after);
    assert_eq!(before.category, Category::Paid, "the day after, without a renewal: {before:?}");

    // The office: notice made, sent by e-mail, renewed as HT-2026-017 from the day after.
    let (o, a) = (old.clone(), after);
    let renewed = central
        .db_run(move |db| {
            db.transaction(Mode::Feed, |tx| renewals::add_step(tx, "office.wang", &o, &step("notice_made"), Utc::now()))?;
            let sent = StepRequest { sent_how: Some("email".into()), sent_at: Some(fieldbook_server::store_ts(Utc::now())), ..step("sent") };
            db.transaction(Mode::Feed, |tx| renewals::add_step(tx, "office.wang", &o, &sent, Utc::now()))?;
            let new = NewContract {
                number: "HT-2026-017".into(),
                starts_on: a.to_string(),
                ends_on: (a + Duration::days(364)).to_string(),
                service_level: Some("full".into()),
                asset_ids: None,
            };
            let done = StepRequest { new_contract: Some(new), ..step("renewed") };
            db.transaction(Mode::Feed, |tx| renewals::add_step(tx, "office.wang", &o, &done, Utc::now()))
        })
        .await
        .expect("the office renews the contract");
    assert_eq!(renewed["state"], "renewed");

    // One sync later the laptop holds the new contract and the default follows it.
    laptop.json_async(&["sync"]).await;
    let now = default_on(&laptop, &panel, after);
    assert_eq!(now.category, Category::Contract, "{now:?}");
    assert!(now.explain().contains("HT-2026-017"), "{}", now.explain());
    let raw = fieldbook_scenarios::raw_store(&laptop.db());
    let (renewal_of, level): (String, String) =
        raw.query_row("SELECT renewal_of, service_level FROM contracts WHERE number = 'HT-2026-017'", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!((renewal_of.as_str(), level.as_str()), (old.as_str(), "full"));
    let tables: i64 = raw.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'contract_renewals'", [], |r| r.get(0)).unwrap();
    assert_eq!(tables, 0, "a laptop has no place for the desk's renewal records");
    let refused: i64 = raw.query_row("SELECT count(*) FROM pull_refused", [], |r| r.get(0)).unwrap();
    assert_eq!(refused, 0, "nothing the laptop could not store was sent to it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewal_reaches_the_laptop_on_sqlite() {
    renewal_reaches_the_laptop(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewal_reaches_the_laptop_on_postgres() {
    renewal_reaches_the_laptop(Backend::Postgres).await
}
