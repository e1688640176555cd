//! The feed has no gaps: two independent server instances (each with its own connection pool)
//! on one database, laptops pushing through both at once, the office writing reference data
//! for everyone at the same time, and readers pulling continuously through both. Every change
//! must reach every reader that may see it exactly once, in seq order: a reader whose cursor
//! passed a seq never finds an unseen change below it later.

mod common;
use common::both;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{Backend, Laptop, TestServer};
use fieldbook_server::db::Mode;
use fieldbook_server::feed::Writer;
use serde_json::json;

both!(concurrent_pushes_reach_every_reader_exactly_once_in_order);

const BATCHES: usize = 20;
const PER_BATCH: usize = 4;
const OFFICE_WRITES: usize = 30;

async fn concurrent_pushes_reach_every_reader_exactly_once_in_order(b: Backend) {
    let first = TestServer::with_demo(b).await;
    let second = TestServer::on(&first.db_url).await;
    let servers = [Arc::new(first), Arc::new(second)];
    let technicians = ["li.wei", "zhang.min"];

    // Readers: for each technician, one laptop pulling through each server.
    let done = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for tech in technicians {
        for server in &servers {
            let mut laptop = Laptop::enroll(server, tech).await;
            let server = server.clone();
            let done = done.clone();
            readers.push(tokio::spawn(async move {
                loop {
                    let finished = done.load(Ordering::SeqCst);
                    let page = laptop.pull_page(&server, 7).await;
                    if finished && !page.more {
                        break;
                    }
                    if page.changes.is_empty() {
                        tokio::time::sleep(Duration::from_millis(3)).await;
                    }
                }
                (laptop.technician.clone(), laptop.pulled)
            }));
        }
    }

    // Writers: two laptops per technician, one pushing through each server, each batch a few
    // new time entries (one feed change each).
    let mut writers = Vec::new();
    let mut expected: BTreeMap<&str, HashSet<String>> = BTreeMap::new();
    for tech in technicians {
        for (n, server) in servers.iter().enumerate() {
            let mut laptop = Laptop::enroll(server, tech).await;
            let ids: Vec<String> = (0..BATCHES * PER_BATCH).map(|i| format!("te-{tech}-{n}-{i}")).collect();
            expected.entry(tech).or_default().extend(ids.iter().cloned());
            let server = server.clone();
            writers.push(tokio::spawn(async move {
                for batch in ids.chunks(PER_BATCH) {
                    let entries: Vec<_> = batch
                        .iter()
                        .map(|id| laptop.entry("time_entries", id, json!({"technician": laptop.technician, "work_date": "2026-03-02", "category": "D", "minutes": 5, "deleted": false})))
                        .collect();
                    let r = laptop.push(&server, &entries).await;
                    assert_eq!((r.applied as usize, r.rejected.len()), (entries.len(), 0), "{:?}", r.rejected);
                }
            }));
        }
    }
    // The office writes parts (for everyone) through both servers' pools at the same time.
    let mut office_parts = HashSet::new();
    for (n, server) in servers.iter().enumerate() {
        let ids: Vec<String> = (0..OFFICE_WRITES / 2).map(|i| format!("part-{n}-{i}")).collect();
        office_parts.extend(ids.iter().cloned());
        let db = server.db.clone();
        writers.push(tokio::spawn(async move {
            for id in ids {
                db.run(Mode::Feed, move |tx| {
                    let mut w = Writer::begin(tx)?;
                    fieldbook_server::import::write_changed(&mut w, "parts", &id, &[("sku", json!(id)), ("name_en", json!("spare")), ("deleted", json!(false))])?;
                    w.finish()
                })
                .await
                .unwrap();
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);

    for r in readers {
        let (tech, pulled) = r.await.unwrap();
        let seqs: Vec<i64> = pulled.iter().map(|c| c.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{tech}: changes out of order or repeated");
        let mut entries = HashSet::new();
        let mut parts = HashSet::new();
        for c in &pulled {
            match c.entity.as_str() {
                "time_entries" => assert!(entries.insert(c.record_id.clone()), "{tech}: {} arrived twice", c.record_id),
                "parts" if c.record_id.starts_with("part-") => assert!(parts.insert(c.record_id.clone()), "{tech}: {} arrived twice", c.record_id),
                _ => {}
            }
        }
        let want = &expected[tech.as_str()];
        let lost: Vec<_> = want.difference(&entries).collect();
        assert!(lost.is_empty(), "{tech}'s reader missed {} change(s), e.g. {:?}", lost.len(), lost.first());
        assert_eq!(entries.len(), want.len(), "{tech} received another technician's entries");
        assert_eq!(parts, office_parts, "{tech}: every office write for everyone arrives once");
    }
    // And the feed itself has no holes.
    let s = &servers[0];
    assert_eq!(s.count("SELECT COALESCE(MAX(seq), 0) - COUNT(*) FROM feed").await, 0);
}
