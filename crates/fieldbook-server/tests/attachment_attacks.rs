//! Issue 10, findings 8 and 13 and the per-laptop quota, from the attacker's side: technician B
//! (zhang.min) against technician A's (li.wei's) photo, on both backends. Every test here fails
//! on 4a0eb29 (see each one for how).

mod common;
use common::both;

use common::{error_of, id, Backend, Laptop, TestServer};
use fieldbook_core::signature::sha256_hex;
use fieldbook_core::sync::merge::Stamps;
use fieldbook_server::attachments;
use fieldbook_server::db::Mode;
use fieldbook_server::feed::{Change, Writer};
use reqwest::Method;
use serde_json::{json, Value};

both!(
    another_technician_cannot_read_a_photo_by_hash,
    another_technician_cannot_rename_retype_or_delete_an_attachment_record,
    another_laptop_cannot_block_an_upload,
    the_quota_and_the_file_cap_are_clear_errors
);

fn photo(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| ((i * 31 + seed as usize) % 251) as u8).collect()
}

async fn head(s: &TestServer, laptop: &Laptop, sha: &str) -> reqwest::Response {
    let r = laptop.auth(s.req(Method::HEAD, &format!("/api/attachments/{sha}"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r
}

/// (Upload-Offset, Fieldbook-Upload-Complete) as HEAD answers this laptop.
async fn progress(s: &TestServer, laptop: &Laptop, sha: &str) -> (i64, bool) {
    let r = head(s, laptop, sha).await;
    (r.headers()["upload-offset"].to_str().unwrap().parse().unwrap(), r.headers()["fieldbook-upload-complete"] == "true")
}

async fn patch(s: &TestServer, laptop: &Laptop, sha: &str, offset: usize, bytes: &[u8], length: Option<usize>) -> reqwest::Response {
    let mut rb = laptop.auth(s.req(Method::PATCH, &format!("/api/attachments/{sha}"))).header("Upload-Offset", offset.to_string()).body(bytes.to_vec());
    if let Some(n) = length {
        rb = rb.header("Upload-Length", n.to_string());
    }
    rb.send().await.unwrap()
}

/// Uploads all of `bytes` in two chunks, as the sync client does (Upload-Length on each).
async fn upload(s: &TestServer, laptop: &Laptop, bytes: &[u8]) {
    let sha = sha256_hex(bytes);
    let half = bytes.len() / 2;
    let r = patch(s, laptop, &sha, 0, &bytes[..half], Some(bytes.len())).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = patch(s, laptop, &sha, half, &bytes[half..], Some(bytes.len())).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let st: Value = r.json().await.unwrap();
    assert_eq!(st["complete"], true, "{st}");
}

/// The id the laptop derives for an answer (fieldbook_core::store::orders::answer_id).
fn answer_id(order_id: &str, item: &str, asset_id: &str) -> String {
    const NS: uuid::Uuid = uuid::Uuid::from_u128(0x6669_656c_6462_6f6f_6b2d_616e_7377_6572);
    uuid::Uuid::new_v5(&NS, format!("{order_id}/{item}/{asset_id}").as_bytes()).to_string()
}

/// li.wei attaches `bytes` as the pump-room photo of her order WO-1001: the attachment's record
/// and the answer naming it, pushed as her laptop pushes them (before the bytes).
async fn li_answers_with(s: &TestServer, li: &mut Laptop, bytes: &[u8], media_type: &str) -> String {
    let sha = sha256_hex(bytes);
    let (order, pump) = (id("work_orders", "WO-1001"), id("assets", "JQ-PUMP-01"));
    let rec = li.entry("attachments", &sha, json!({"media_type": media_type, "byte_size": bytes.len(), "original_name": "pump.jpg", "added_at": "2026-03-02T08:00:00.000Z", "deleted": false}));
    let answer = li.entry(
        "inspection_answers",
        &answer_id(&order, "pump.photo", &pump),
        json!({"work_order_id": order, "item_key": "pump.photo", "asset_id": pump, "value": [sha], "note": null, "answered_at": "2026-03-02T08:01:00.000Z", "deleted": false}),
    );
    let resp = li.push(s, &[rec, answer]).await;
    assert_eq!((resp.applied, resp.rejected.len()), (2, 0), "{:?}", resp.rejected);
    sha
}

async fn get(s: &TestServer, laptop: &Laptop, sha: &str) -> reqwest::Response {
    laptop.auth(s.req(Method::GET, &format!("/api/attachments/{sha}"))).send().await.unwrap()
}

/// 4a0eb29: zhang's GET answered 200 with li's photo.
async fn another_technician_cannot_read_a_photo_by_hash(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let (office, password) = s.office_user().await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let li_again = Laptop::enroll(&s, "li.wei").await;
    let zhang = Laptop::enroll(&s, "zhang.min").await;
    let bytes = photo(50_000, 1);
    let sha = li_answers_with(&s, &mut li, &bytes, "image/jpeg").await;
    upload(&s, &li, &bytes).await;

    // zhang.min knows the hash (say, from a shared screenshot) but has no order naming it: the
    // photo is "not there", exactly as content the server never had.
    let e = error_of(get(&s, &zhang, &sha).await, 404).await;
    let never = sha256_hex(b"never uploaded");
    let e_never = error_of(get(&s, &zhang, &never).await, 404).await;
    assert_eq!((e.kind.as_str(), e.message.replace(&sha, "H")), ("not_found", e_never.message.replace(&never, "H")), "a refusal must not reveal that the content exists");
    // HEAD tells zhang only of his own upload (none), not li's finished one, nor its size.
    let r = head(&s, &zhang, &sha).await;
    assert_eq!((r.headers()["upload-offset"].to_str().unwrap(), r.headers()["fieldbook-upload-complete"].to_str().unwrap()), ("0", "false"));
    assert!(r.headers().get("upload-length").is_none());
    // A PATCH without the bytes teaches him nothing either: it starts an upload of his own.
    let r = patch(&s, &zhang, &sha, 0, b"guess", Some(bytes.len())).await;
    assert_eq!(r.status(), 200);
    let st: Value = r.json().await.unwrap();
    assert_eq!((st["complete"].as_bool(), st["offset"].as_i64()), (Some(false), Some(5)));
    assert_eq!(error_of(get(&s, &zhang, &sha).await, 404).await.kind, "not_found");

    // li.wei reads it from both her laptops; the office reads it.
    for laptop in [&li, &li_again] {
        let r = get(&s, laptop, &sha).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().await.unwrap().to_vec(), bytes);
    }
    let r = s.req(Method::GET, &format!("/api/attachments/{sha}")).basic_auth(&office, Some(&password)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sha256_hex(&r.bytes().await.unwrap()), sha);

    // The office hands WO-1001 to zhang.min: the order naming the photo is now his, so he reads
    // it; li.wei, who uploaded it, still does.
    let order = id("work_orders", "WO-1001");
    s.run_db(move |db| {
        db.transaction(Mode::Feed, |tx| {
            let mut w = Writer::begin(tx)?;
            let stamp = w.tick();
            let fields = json!({"technician": "zhang.min"});
            w.apply(&Change { entity: "work_orders", id: &order, fields: fields.as_object().unwrap(), stamps: Stamps::All(&stamp), base: None, author: None })?;
            w.finish()
        })
    })
    .await
    .unwrap();
    assert_eq!(get(&s, &zhang, &sha).await.bytes().await.unwrap().to_vec(), bytes);
    assert_eq!(get(&s, &li, &sha).await.status(), 200);
}

/// 4a0eb29: zhang's three changes were applied (the record renamed "pwned.exe", served as
/// text/html, tombstoned for good).
async fn another_technician_cannot_rename_retype_or_delete_an_attachment_record(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let (office, password) = s.office_user().await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let mut zhang = Laptop::enroll(&s, "zhang.min").await;
    let bytes = photo(20_000, 2);
    let sha = li_answers_with(&s, &mut li, &bytes, "image/jpeg").await;
    let before = s.record("attachments", &sha).await.unwrap();

    let attacks = [
        zhang.entry("attachments", &sha, json!({"original_name": "pwned.exe"})),
        zhang.entry("attachments", &sha, json!({"media_type": "text/html"})),
        zhang.entry("attachments", &sha, json!({"byte_size": 5})),
        zhang.entry("attachments", &sha, json!({"deleted": true})),
    ];
    let resp = zhang.push(&s, &attacks).await;
    assert_eq!((resp.applied, resp.rejected.len()), (0, 4), "{resp:?}");
    for r in &resp.rejected {
        assert!(r.reason.contains(&sha) && r.reason.contains("'pump.jpg'") && r.reason.contains("added by li.wei"), "{}", r.reason);
    }
    assert_eq!(s.record("attachments", &sha).await.unwrap(), before, "li.wei's record is unchanged");
    assert_eq!(s.count("SELECT count(*) FROM rejected_changes WHERE technician = 'zhang.min' AND entity = 'attachments'").await, 4, "kept for the office to see");
    // Nor did zhang's laptop get the record by trying.
    assert!(zhang.pull_all(&s).await.iter().all(|c| c.record_id != sha));

    // Nor can its author: an attachment's record is fixed once pushed (the write policy), so
    // no laptop can make the server call her photo a web page.
    let retype = li.entry("attachments", &sha, json!({"media_type": "text/html"}));
    let r = li.push(&s, &[retype]).await;
    assert!(r.rejected[0].reason.contains("fixed once the record exists"), "{:?}", r.rejected);
    // And what the server serves as bytes is never a type a browser would run.
    upload(&s, &li, &bytes).await;
    let r = s.req(Method::GET, &format!("/api/attachments/{sha}")).basic_auth(&office, Some(&password)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!((r.headers()["content-type"].to_str().unwrap(), r.headers()["x-content-type-options"].to_str().unwrap()), ("image/jpeg", "nosniff"));
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
}

/// 4a0eb29: zhang's Upload-Length 5, sent before li's record arrived, stuck to the hash, and
/// every chunk of li's real upload was refused ("Upload-Length … differs"); a chunk he appended
/// to her half-finished upload became part of it.
async fn another_laptop_cannot_block_an_upload(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let mut li = Laptop::enroll(&s, "li.wei").await;
    let zhang = Laptop::enroll(&s, "zhang.min").await;
    let bytes = photo(40_000, 3);
    let sha = sha256_hex(&bytes);

    // zhang.min gets there first and declares a wrong size, with a few bytes of garbage.
    assert_eq!(patch(&s, &zhang, &sha, 0, b"", Some(5)).await.status(), 200);
    assert_eq!(patch(&s, &zhang, &sha, 0, b"xyz", Some(5)).await.status(), 200);
    assert_eq!(progress(&s, &zhang, &sha).await, (3, false));

    li_answers_with(&s, &mut li, &bytes, "image/jpeg").await;
    // li.wei's laptop sees none of that: nothing received, the size her record declared.
    let r = head(&s, &li, &sha).await;
    assert_eq!((r.headers()["upload-offset"].to_str().unwrap(), r.headers()["upload-length"].to_str().unwrap()), ("0", bytes.len().to_string().as_str()));

    let half = bytes.len() / 2;
    assert_eq!(patch(&s, &li, &sha, 0, &bytes[..half], Some(bytes.len())).await.status(), 200);
    // zhang.min tries to append garbage where her upload stands: he is told of his own upload.
    let r = patch(&s, &zhang, &sha, half, &photo(half, 9), Some(bytes.len())).await;
    assert_eq!(r.headers()["upload-offset"], "3");
    assert_eq!(error_of(r, 409).await.kind, "conflict");
    // ... and when his garbage reaches the size he declared, only his upload is discarded.
    let e = error_of(patch(&s, &zhang, &sha, 3, b"!!", Some(5)).await, 400).await;
    assert!(e.message.contains("do not hash to"), "{}", e.message);
    assert_eq!(progress(&s, &zhang, &sha).await, (0, false));

    let r = patch(&s, &li, &sha, half, &bytes[half..], Some(bytes.len())).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(progress(&s, &li, &sha).await, (bytes.len() as i64, true));
    assert_eq!(get(&s, &li, &sha).await.bytes().await.unwrap().to_vec(), bytes);
    assert_eq!(s.count("SELECT count(*) FROM attachment_upload_chunks").await, 0, "uploads in progress are cleared once the content is complete");
}

/// 4a0eb29 had no quota: the second photo was stored.
async fn the_quota_and_the_file_cap_are_clear_errors(b: Backend) {
    let s = TestServer::with_demo(b).await;
    let li = Laptop::enroll(&s, "li.wei").await;
    let zhang = Laptop::enroll(&s, "zhang.min").await;
    s.run_db(|db| db.transaction(Mode::Write, |tx| attachments::set_quota(tx, Some(1000)))).await.unwrap();
    let (first, second) = (photo(600, 4), photo(600, 5));
    upload(&s, &li, &first).await;

    let sha = sha256_hex(&second);
    let e = error_of(patch(&s, &li, &sha, 0, &second[..100], Some(second.len())).await, 413).await;
    assert_eq!(e.kind, "too_large");
    for words in [sha.as_str(), "quota", "600 bytes", "1000 bytes", "stays on this laptop", "Ask the office", "fieldbook-server attachment-quota"] {
        assert!(e.message.contains(words), "'{words}' missing from: {}", e.message);
    }
    // Without a declared size the bytes themselves count.
    assert_eq!(error_of(patch(&s, &li, &sha, 0, &second, None).await, 413).await.kind, "too_large");
    assert_eq!(progress(&s, &li, &sha).await, (0, false), "nothing of it was kept");
    // The quota is per laptop: zhang.min's is untouched.
    upload(&s, &zhang, &second).await;
    // Raised again, li.wei's laptop sends its copy: that proves it holds the bytes, stores nothing
    // more, and the laptop is told the upload is complete from then on.
    s.run_db(|db| db.transaction(Mode::Write, |tx| attachments::set_quota(tx, None))).await.unwrap();
    upload(&s, &li, &second).await;
    assert_eq!(progress(&s, &li, &sha).await, (600, true));

    // One file larger than the server takes: 413 with the limit, before any byte is stored.
    let huge = attachments::MAX_ATTACHMENT_BYTES as usize + 1;
    let e = error_of(patch(&s, &li, &sha256_hex(b"a very large scan"), 0, b"%PDF", Some(huge)).await, 413).await;
    assert_eq!(e.kind, "too_large");
    assert!(e.message.contains("at most 256 MiB"), "{}", e.message);
}
