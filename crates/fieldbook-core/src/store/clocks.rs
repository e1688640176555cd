//! How a laptop stores a record's field stamps: in the `clocks` column of the record's own row
//! (migration 0006; before, a row of `record_clocks` under a second random key), in the compact
//! form of [`crate::sync::stamps`] relative to the entity's fields. Stored field by field, a
//! work order's twenty stamps made a ~1 KB value and a first pull of 50,000 orders wrote 220 MB
//! of stamps. Values written before the compact form (every stamp listed) read the same.

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

/// A record's stamps as stored in its row (empty for a record this store does not have, or one
/// never stamped).
pub(crate) fn load(conn: &rusqlite::Connection, spec: &EntitySpec, id: &str) -> Result<Map<String, Value>> {
    use rusqlite::OptionalExtension;
    // The table name comes from the entity whitelist, never from input.
    let text: Option<String> =
        conn.prepare_cached(&format!("SELECT clocks FROM {} WHERE id = ?1", spec.name))?.query_row([id], |r| r.get(0)).optional()?.flatten();
    text.map_or_else(|| Ok(Map::new()), |t| decode(spec, id, &t))
}

/// SQL for `UPDATE … SET clocks = …`: a row without stamps takes `?2`, the compact form of the
/// new stamps; onto stamps already there `?3` is merged key by key (json_patch; listed stamps
/// override `"*"`). That patch must list its stamps as they are, never in the `"*"` form, which
/// would give its shared stamp to every field it does not list. Stamps are never null in a
/// patch, so it deletes nothing.
pub(crate) const MERGE: &str = "CASE WHEN clocks IS NULL THEN ?2 ELSE json_patch(clocks, ?3) END";

/// A record's stamps as stored, for tests.
#[cfg(test)]
pub(crate) fn read(conn: &rusqlite::Connection, entity: &str, id: &str) -> Map<String, Value> {
    let text: String = conn.query_row(&format!("SELECT clocks FROM {entity} WHERE id = ?1"), [id], |r| r.get(0)).unwrap();
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
        let all = stamps(json!({"code": "s1", "name": "s1", "contact": "s1", "phone": "s1", "email": "s1", "merged_into": "s1", "deleted": "s1"}));
        let text = encode(customers(), &all);
        assert_eq!(text, r#"{"*":"s1"}"#);
        assert_eq!(decode(customers(), "c-1", &text).unwrap(), all);
    }

    #[test]
    fn mixed_or_partial_stamps_read_back_exactly() {
        let mixed = stamps(json!({"code": "s1", "name": "s2", "contact": "s1", "phone": "s1", "email": "s1", "merged_into": "s1", "deleted": "s1"}));
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
        assert_eq!(read.len(), customers().fields.len() - 1);
    }

    #[test]
    fn a_damaged_row_names_the_record() {
        let err = decode(customers(), "c-9", "[1]").unwrap_err().to_string();
        assert!(err.contains("customers c-9"), "{err}");
    }

    #[test]
    fn stamps_merged_onto_a_compact_row_override_only_their_fields() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE customers (id TEXT PRIMARY KEY, clocks TEXT); INSERT INTO customers VALUES ('c-1', NULL)").unwrap();
        let sql = format!("UPDATE customers SET clocks = {MERGE} WHERE id = ?1");
        let write = |patch: Value| {
            let patch = stamps(patch);
            conn.execute(&sql, rusqlite::params!["c-1", encode(customers(), &patch), Value::Object(patch).to_string()]).unwrap();
        };
        let read = || -> Map<String, Value> {
            let text: String = conn.query_row("SELECT clocks FROM customers", [], |r| r.get(0)).unwrap();
            decode(customers(), "c-1", &text).unwrap()
        };
        write(json!({"code": "s1", "name": "s1", "contact": "s1"}));
        let first: String = conn.query_row("SELECT clocks FROM customers", [], |r| r.get(0)).unwrap();
        assert!(first.contains(r#""*":"s1""#), "the first stamps are stored compact: {first}");
        write(json!({"name": "s2", "phone": "s2"}));
        assert_eq!(read(), stamps(json!({"code": "s1", "name": "s2", "contact": "s1", "phone": "s2"})));
    }
}
