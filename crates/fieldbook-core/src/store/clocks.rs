//! How a laptop stores a record's field stamps in `record_clocks.clocks`: the compact form of
//! [`crate::sync::stamps`] relative to the entity's fields. Stored field by field, a work
//! order's twenty stamps made a ~1 KB row, past what a WITHOUT ROWID B-tree keeps on its page:
//! every row took an overflow page, and a first pull of 50,000 orders wrote 220 MB of stamps.
//! Rows written before the compact form (every stamp listed) read the same.

use serde_json::{Map, Value};

use crate::entity::EntitySpec;
use crate::error::{Error, Result};
use crate::sync::stamps;

/// The stored form of a record's stamps when its row is first written (stamps written onto an
/// existing row are merged in as they are; see [`MERGE_ON_CONFLICT`]).
pub(crate) fn encode(spec: &EntitySpec, stamps: &Map<String, Value>) -> String {
    Value::Object(stamps::compact(stamps, spec.fields.iter().map(|(f, _)| *f))).to_string()
}

/// Every field's stamp from the stored form (fields without a stamp are left out).
pub(crate) fn decode(spec: &EntitySpec, record: &str, text: &str) -> Result<Map<String, Value>> {
    let Ok(Value::Object(map)) = serde_json::from_str(text) else {
        return Err(Error::invalid(format!("{} {record}", spec.name), "clocks", "the stored field stamps are not a JSON object; the database was edited outside Fieldbook"));
    };
    Ok(stamps::expand(map, spec.fields.iter().map(|(f, _)| *f)))
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
