//! How a record's field stamps are stored in `record_clocks.clocks`.
//!
//! The merge works on one HLC stamp per field. Most records have one stamp for every field (a
//! record created in one write, or pulled new from the server): stored field by field, a work
//! order's twenty 33–63 byte stamps made a row of about a kilobyte — past what a WITHOUT ROWID
//! B-tree keeps on its page, so every row took an overflow page, and a first pull of 50,000
//! orders wrote 220 MB of stamps. So the stored form is a JSON object of field → stamp in which
//! the key `"*"` stands for every field of the entity that is not listed:
//! `{"*": "…-li.wei", "status": "…-server"}`. Rows written before this form (every field listed)
//! read the same. A `null` stamp means "no stamp" (a migration that adds a synced field to an
//! entity must set the new field to `null` in rows that use `"*"`, so the new field does not
//! inherit a stamp it never had).

use serde_json::{Map, Value};

use crate::entity::EntitySpec;
use crate::error::{Error, Result};

/// The key standing for every field not listed.
const EVERY_OTHER: &str = "*";

/// The stored form of a record's stamps when its row is first written: the stamp most fields
/// share as `"*"`, the others listed, and the entity's fields without a stamp as `null`. (Stamps
/// written onto an existing row are merged in as they are; see [`MERGE_ON_CONFLICT`].)
pub(crate) fn encode(spec: &EntitySpec, stamps: &Map<String, Value>) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for stamp in stamps.values().filter_map(Value::as_str) {
        match counts.iter_mut().find(|(s, _)| *s == stamp) {
            Some((_, n)) => *n += 1,
            None => counts.push((stamp, 1)),
        }
    }
    let Some((shared, _)) = counts.into_iter().filter(|(_, n)| *n > 1).max_by_key(|(_, n)| *n) else {
        return Value::Object(stamps.clone()).to_string();
    };
    let mut compact = Map::new();
    compact.insert(EVERY_OTHER.to_owned(), Value::String(shared.to_owned()));
    for (field, stamp) in stamps {
        if stamp.as_str() != Some(shared) {
            compact.insert(field.clone(), stamp.clone());
        }
    }
    for (field, _) in spec.fields {
        if !stamps.contains_key(*field) {
            compact.insert((*field).to_owned(), Value::Null);
        }
    }
    Value::Object(compact).to_string()
}

/// Every field's stamp from the stored form (fields without a stamp are left out).
pub(crate) fn decode(spec: &EntitySpec, record: &str, text: &str) -> Result<Map<String, Value>> {
    let Ok(Value::Object(mut map)) = serde_json::from_str(text) else {
        return Err(Error::invalid(format!("{} {record}", spec.name), "clocks", "the stored field stamps are not a JSON object; the database was edited outside Fieldbook"));
    };
    if let Some(every) = map.remove(EVERY_OTHER) {
        for (field, _) in spec.fields {
            if !map.contains_key(*field) {
                map.insert((*field).to_owned(), every.clone());
            }
        }
    }
    map.retain(|_, stamp| stamp.is_string());
    Ok(map)
}

/// SQL for `ON CONFLICT … DO UPDATE SET clocks = …`: stamps written onto a row that exists are
/// merged in key by key (json_patch; listed stamps override `"*"`). The patch must list its
/// stamps as they are, never in the `"*"` form, which would give its shared stamp to every field
/// it does not list. Stamps are never null in a patch, so it deletes nothing.
pub(crate) const MERGE_ON_CONFLICT: &str = "json_patch(clocks, ?4)";

/// A record's stamps as stored, for tests.
#[cfg(test)]
pub(crate) fn read(conn: &rusqlite::Connection, entity: &str, id: &str) -> Map<String, Value> {
    let text: String = conn.query_row("SELECT clocks FROM record_clocks WHERE entity = ?1 AND record_id = ?2", [entity, id], |r| r.get(0)).unwrap();
    decode(crate::entity::spec(entity).unwrap(), id, &text).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity;
    use serde_json::json;

    fn customers() -> &'static EntitySpec {
        entity::spec("customers").unwrap()
    }

    fn stamps(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_record_stamped_in_one_write_is_stored_as_one_stamp_and_reads_back_whole() {
        let all = stamps(json!({"code": "s1", "name": "s1", "contact": "s1", "phone": "s1", "email": "s1", "deleted": "s1"}));
        let text = encode(customers(), &all);
        assert_eq!(text, r#"{"*":"s1"}"#);
        assert_eq!(decode(customers(), "c-1", &text).unwrap(), all);
    }

    #[test]
    fn mixed_or_partial_stamps_read_back_exactly() {
        let mixed = stamps(json!({"code": "s1", "name": "s2", "contact": "s1", "phone": "s1", "email": "s1", "deleted": "s1"}));
        let text = encode(customers(), &mixed);
        assert_eq!(text, r#"{"*":"s1","name":"s2"}"#);
        assert_eq!(decode(customers(), "c-1", &text).unwrap(), mixed);
        let partial = stamps(json!({"code": "s1", "name": "s1", "phone": "s3"}));
        let text = encode(customers(), &partial);
        assert_eq!(decode(customers(), "c-1", &text).unwrap(), partial, "{text}: fields never stamped must not get a stamp");
        let distinct = stamps(json!({"code": "s1", "name": "s2"}));
        assert_eq!(decode(customers(), "c-1", &encode(customers(), &distinct)).unwrap(), distinct);
    }

    #[test]
    fn listed_stamps_override_the_shared_one_and_null_means_none() {
        let text = r#"{"*":"s1","name":"s2","email":null}"#;
        let read = decode(customers(), "c-1", text).unwrap();
        assert_eq!(read["name"], json!("s2"));
        assert_eq!(read["code"], json!("s1"));
        assert!(!read.contains_key("email"), "a null stamp is no stamp");
        assert_eq!(read.len(), 5);
    }

    #[test]
    fn a_damaged_row_names_the_record() {
        let err = decode(customers(), "c-9", "[1]").unwrap_err().to_string();
        assert!(err.contains("customers c-9"), "{err}");
    }

    #[test]
    fn stamps_merged_onto_a_compact_row_override_only_their_fields() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE record_clocks (entity TEXT, record_id TEXT, clocks TEXT, PRIMARY KEY (entity, record_id))").unwrap();
        let sql = format!(
            "INSERT INTO record_clocks VALUES ('customers', 'c-1', ?3) ON CONFLICT(entity, record_id) DO UPDATE SET clocks = {MERGE_ON_CONFLICT}"
        );
        let write = |patch: Value| {
            let patch = stamps(patch);
            conn.execute(&sql, rusqlite::params![None::<String>, None::<String>, encode(customers(), &patch), Value::Object(patch).to_string()]).unwrap();
        };
        let read = || -> Map<String, Value> {
            let text: String = conn.query_row("SELECT clocks FROM record_clocks", [], |r| r.get(0)).unwrap();
            decode(customers(), "c-1", &text).unwrap()
        };
        write(json!({"code": "s1", "name": "s1", "contact": "s1"}));
        write(json!({"name": "s2", "phone": "s2"}));
        assert_eq!(read(), stamps(json!({"code": "s1", "name": "s2", "contact": "s1", "phone": "s2"})));
    }
}
