//! Issue 10, finding 15: a photo answer may name only a photo the laptop holds. An answer naming
//! any other attachment id could never be uploaded, so the office would wait for it for ever.

use fieldbook_core::checklist::Slot;
use fieldbook_core::import::ImportDocument;
use fieldbook_core::signature::sha256_hex;
use fieldbook_core::store::{AnswerInput, Store};
use serde_json::json;

fn demo_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("fieldbook.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
    s.import(&ImportDocument::from_json(include_str!("../../../demo/fire-protection.json"), "demo").unwrap(), "demo").unwrap();
    (dir, s)
}

fn answers(v: serde_json::Value) -> Vec<AnswerInput> {
    serde_json::from_value(v).unwrap()
}

#[test]
fn a_photo_answer_naming_a_photo_the_laptop_does_not_hold_is_refused() {
    let (_dir, mut store) = demo_store();
    let outbox = store.outbox_len().unwrap();
    // What `fieldbook answer` sends: the id of a photo never attached here (someone else's hash,
    // or a typo).
    let foreign = sha256_hex(b"another technician's photo");
    let err = store.record_answers("WO-1001", &answers(json!([{"item": "pump.photo", "asset": "JQ-PUMP-01", "value": foreign}]))).unwrap_err();
    let p = &err.problems()[0];
    assert_eq!(p.record, "work order WO-1001");
    assert_eq!(p.field, "pump.photo (asset JQ-PUMP-01)");
    assert!(p.problem.contains(&foreign) && p.problem.contains("add the photo first") && p.problem.contains("fieldbook attach"), "{}", p.problem);
    assert_eq!(store.outbox_len().unwrap(), outbox, "nothing written");

    // The app's path, one answer at a time, is refused the same way; so is a list with one
    // held photo and one missing.
    let held = store.attach_bytes(b"jpeg bytes", "image/jpeg", Some("pump.jpg")).unwrap();
    let order = store.order_detail("WO-1001").unwrap();
    let pump = order.assets.iter().find(|a| a.code == "JQ-PUMP-01").unwrap().id.clone();
    let slot = Slot { item_key: "pump.photo".into(), asset_id: pump };
    let err = store.record_answer("WO-1001", &slot, &json!([held.id, foreign])).unwrap_err();
    assert!(err.problems()[0].problem.contains(&foreign), "{err}");

    let outbox = store.outbox_len().unwrap();
    store.record_answer("WO-1001", &slot, &json!([held.id])).unwrap();
    assert_eq!(store.outbox_len().unwrap(), outbox + 1, "a held photo is answered as before");
}
