//! The compact form of a record's field stamps, used on the wire (a feed change's `clocks`) and
//! in storage (the `clocks` column of a laptop's records, the server's `records.clocks`).
//!
//! The merge keeps one HLC stamp per field, and most records have the same stamp on most
//! fields (a record created in one write, or imported). Listed field by field, a work order's
//! stamps were twice the size of its values: most of a first pull's bytes, its parsing, and its
//! storage. In the compact form the key `"*"` stands for every field of the record that is not
//! listed; listed fields carry their own stamp, or `null` for "no stamp":
//! `{"*": "001764…-server", "status": "001765…-3f2a…", "review_note": null}`.
//! A map without `"*"` lists every stamp, and reads the same in both forms.
//!
//! "Every field of the record" is the change's `fields` on the wire, and the entity's field list
//! in storage: a schema change that adds a field to an entity must give it `null` in stored rows
//! that use `"*"`, or the new field would take a stamp it never had.

use serde_json::{Map, Value};

/// The key standing for every field not listed.
pub const EVERY_OTHER: &str = "*";

/// `stamps` (field → stamp) in the compact form, relative to `fields` (every field of the
/// record): the stamp most fields share under `"*"`, the others listed, fields without a stamp
/// as `null`. Without a stamp shared by two fields, the stamps are returned as they are.
pub fn compact<'f>(stamps: &Map<String, Value>, fields: impl IntoIterator<Item = &'f str>) -> Map<String, Value> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for stamp in stamps.values().filter_map(Value::as_str) {
        match counts.iter_mut().find(|(s, _)| *s == stamp) {
            Some((_, n)) => *n += 1,
            None => counts.push((stamp, 1)),
        }
    }
    let Some((shared, _)) = counts.into_iter().filter(|(_, n)| *n > 1).max_by_key(|(_, n)| *n) else {
        return stamps.iter().filter(|(_, s)| s.is_string()).map(|(f, s)| (f.clone(), s.clone())).collect();
    };
    let mut out = Map::new();
    out.insert(EVERY_OTHER.to_owned(), Value::String(shared.to_owned()));
    for (field, stamp) in stamps {
        if stamp.is_string() && stamp.as_str() != Some(shared) {
            out.insert(field.clone(), stamp.clone());
        }
    }
    for field in fields {
        if !matches!(stamps.get(field), Some(Value::String(_))) {
            out.insert(field.to_owned(), Value::Null);
        }
    }
    out
}

/// Every stamp listed, from either form, relative to `fields` (every field of the record).
/// Fields without a stamp are left out.
pub fn expand<'f>(mut stamps: Map<String, Value>, fields: impl IntoIterator<Item = &'f str>) -> Map<String, Value> {
    if let Some(shared) = stamps.remove(EVERY_OTHER) {
        for field in fields {
            if !stamps.contains_key(field) {
                stamps.insert(field.to_owned(), shared.clone());
            }
        }
    }
    stamps.retain(|_, stamp| stamp.is_string());
    stamps
}

/// The stamp of one field of the record, from either form.
pub fn stamp_of<'m>(stamps: &'m Map<String, Value>, field: &str) -> Option<&'m str> {
    match stamps.get(field) {
        Some(stamp) => stamp.as_str(),
        None => stamps.get(EVERY_OTHER).and_then(Value::as_str),
    }
}

/// The only stamp of a record stamped in one write (`{"*": s}` and nothing else).
pub fn single(stamps: &Map<String, Value>) -> Option<&str> {
    match stamps.len() {
        1 => stamps.get(EVERY_OTHER).and_then(Value::as_str),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    const FIELDS: [&str; 4] = ["code", "name", "phone", "deleted"];

    #[test]
    fn one_write_is_one_stamp() {
        let all = map(json!({"code": "s1", "name": "s1", "phone": "s1", "deleted": "s1"}));
        let c = compact(&all, FIELDS);
        assert_eq!(Value::Object(c.clone()).to_string(), r#"{"*":"s1"}"#);
        assert_eq!(single(&c), Some("s1"));
        assert_eq!(stamp_of(&c, "phone"), Some("s1"));
        assert_eq!(expand(c, FIELDS), all);
    }

    #[test]
    fn other_stamps_are_listed_and_missing_ones_are_null() {
        let some = map(json!({"code": "s1", "name": "s2", "deleted": "s1"}));
        let c = compact(&some, FIELDS);
        assert_eq!(c, map(json!({"*": "s1", "name": "s2", "phone": null})));
        assert_eq!(stamp_of(&c, "phone"), None);
        assert_eq!(stamp_of(&c, "name"), Some("s2"));
        assert_eq!(single(&c), None);
        assert_eq!(expand(c, FIELDS), some);
    }

    #[test]
    fn without_a_shared_stamp_the_stamps_stay_listed() {
        let distinct = map(json!({"code": "s1", "name": "s2"}));
        assert_eq!(compact(&distinct, FIELDS), distinct);
        assert_eq!(expand(distinct.clone(), FIELDS), distinct);
    }

    proptest! {
        /// Whatever the stamps, the compact form reads back exactly.
        #[test]
        fn compact_then_expand_is_the_identity(picks in proptest::collection::vec(proptest::option::of(0u8..3), FIELDS.len())) {
            let stamps: Map<String, Value> = FIELDS.iter().zip(&picks)
                .filter_map(|(f, p)| p.map(|p| ((*f).to_owned(), json!(format!("s{p}")))))
                .collect();
            let c = compact(&stamps, FIELDS);
            for f in FIELDS {
                prop_assert_eq!(stamp_of(&c, f), stamps.get(f).and_then(Value::as_str));
            }
            prop_assert_eq!(expand(c, FIELDS), stamps);
        }
    }
}
