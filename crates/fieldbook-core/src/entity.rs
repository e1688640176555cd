//! The synced record types and their fields: the one whitelist the store's generic write path
//! (and later, sync) uses to turn a change into SQL. A change names an entity and fields from
//! here, never a table or column taken from input.

use rusqlite::types::ToSqlOutput;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Integer,
    Real,
    /// Stored as 0/1, carried in changes as `true`/`false`.
    Bool,
    /// Stored as JSON text, carried in changes as the JSON value itself.
    Json,
}

#[derive(Debug)]
pub struct EntitySpec {
    /// The entity name used in changes; also the table name.
    pub name: &'static str,
    /// Every field except `id`. `deleted` (the tombstone) is always last.
    pub fields: &'static [(&'static str, FieldType)],
}

impl EntitySpec {
    pub fn field(&self, name: &str) -> Option<FieldType> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }
}

use FieldType::*;

pub const ENTITIES: &[EntitySpec] = &[
    EntitySpec { name: "customers", fields: &[("code", Text), ("name", Text), ("contact", Text), ("phone", Text), ("email", Text), ("deleted", Bool)] },
    EntitySpec { name: "sites", fields: &[("code", Text), ("customer_id", Text), ("name", Text), ("address", Text), ("region", Text), ("zone", Text), ("deleted", Bool)] },
    EntitySpec {
        name: "assets",
        fields: &[("code", Text), ("site_id", Text), ("asset_type", Text), ("name", Text), ("model", Text), ("serial", Text), ("location", Text), ("installed_on", Text), ("warranty_ends", Text), ("deleted", Bool)],
    },
    EntitySpec { name: "contracts", fields: &[("number", Text), ("customer_id", Text), ("starts_on", Text), ("ends_on", Text), ("asset_ids", Json), ("deleted", Bool)] },
    EntitySpec { name: "parts", fields: &[("sku", Text), ("name_zh", Text), ("name_en", Text), ("unit", Text), ("price_cents", Integer), ("deleted", Bool)] },
    EntitySpec { name: "checklist_templates", fields: &[("code", Text), ("version", Integer), ("body", Json), ("published_at", Text), ("deleted", Bool)] },
    EntitySpec {
        name: "work_orders",
        fields: &[
            ("number", Text), ("kind", Text), ("customer_id", Text), ("site_id", Text), ("asset_ids", Json), ("technician", Text),
            ("priority", Text), ("category", Text), ("status", Text), ("template_id", Text), ("problem", Text), ("scheduled_on", Text),
            ("reported_at", Text), ("response_deadline", Text), ("en_route_at", Text), ("arrived_at", Text), ("completed_at", Text),
            ("revision", Integer), ("follow_up_of", Text), ("review_state", Text), ("review_note", Text), ("deleted", Bool),
        ],
    },
    EntitySpec {
        name: "inspection_answers",
        fields: &[("work_order_id", Text), ("item_key", Text), ("asset_id", Text), ("value", Json), ("note", Text), ("answered_at", Text), ("deleted", Bool)],
    },
    EntitySpec {
        name: "repair_records",
        fields: &[
            ("work_order_id", Text), ("asset_id", Text), ("fault", Text), ("cause", Text), ("action", Text), ("parts", Json),
            ("labour_minutes", Integer), ("category", Text), ("fee_cents", Integer), ("fee_collected", Bool),
            ("taken_to_workshop", Bool), ("receipt_number", Text), ("recorded_at", Text), ("deleted", Bool),
        ],
    },
    EntitySpec {
        name: "time_entries",
        fields: &[("technician", Text), ("work_order_id", Text), ("repair_record_id", Text), ("work_date", Text), ("category", Text), ("minutes", Integer), ("note", Text), ("deleted", Bool)],
    },
    EntitySpec {
        name: "satisfaction_cards",
        fields: &[("work_order_id", Text), ("attitude", Integer), ("skill", Integer), ("arrival", Integer), ("promise", Integer), ("comment", Text), ("rated_at", Text), ("deleted", Bool)],
    },
    EntitySpec {
        name: "signatures",
        fields: &[
            ("work_order_id", Text), ("revision", Integer), ("signer_name", Text), ("signer_title", Text), ("signed_at", Text), ("strokes", Json),
            ("signed_content", Text), ("digest", Text), ("device_id", Text), ("device_public_key", Text), ("device_signature", Text), ("deleted", Bool),
        ],
    },
    EntitySpec {
        name: "amendments",
        fields: &[("work_order_id", Text), ("from_revision", Integer), ("reason", Text), ("amended_by", Text), ("amended_at", Text), ("deleted", Bool)],
    },
    EntitySpec { name: "attachments", fields: &[("media_type", Text), ("byte_size", Integer), ("original_name", Text), ("added_at", Text), ("deleted", Bool)] },
];

pub fn spec(entity: &str) -> Option<&'static EntitySpec> {
    ENTITIES.iter().find(|e| e.name == entity)
}

/// Converts a change's JSON value into the SQL value stored for a field of this type.
pub fn to_sql(ty: FieldType, v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::{Value as Sql, ValueRef};
    match to_sql_ref(ty, v) {
        ToSqlOutput::Owned(v) => v,
        // Borrowed only for null and text (from a JSON string, so UTF-8).
        ToSqlOutput::Borrowed(ValueRef::Text(t)) => Sql::Text(String::from_utf8_lossy(t).into_owned()),
        _ => Sql::Null,
    }
}

/// As [`to_sql`], borrowing the change's text instead of copying it: binding a page of pulled
/// records copied every text field once more than SQLite itself does.
pub fn to_sql_ref(ty: FieldType, v: &Value) -> ToSqlOutput<'_> {
    use rusqlite::types::{Value as Sql, ValueRef};
    match (ty, v) {
        (_, Value::Null) => ToSqlOutput::Borrowed(ValueRef::Null),
        (Json, v) => ToSqlOutput::Owned(Sql::Text(v.to_string())),
        (_, Value::Bool(b)) => ToSqlOutput::Owned(Sql::Integer(*b as i64)),
        (Integer | Bool, Value::Number(n)) => ToSqlOutput::Owned(n.as_i64().map(Sql::Integer).unwrap_or_else(|| Sql::Real(n.as_f64().unwrap_or(0.0)))),
        (_, Value::Number(n)) => ToSqlOutput::Owned(n.as_i64().filter(|_| ty != Real).map(Sql::Integer).unwrap_or_else(|| Sql::Real(n.as_f64().unwrap_or(0.0)))),
        (_, Value::String(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        (_, v) => ToSqlOutput::Owned(Sql::Text(v.to_string())),
    }
}

/// Converts a stored SQL value back to the JSON value a change carries.
pub fn from_sql(ty: FieldType, v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef as Sql;
    match (ty, v) {
        (_, Sql::Null) => Value::Null,
        (Bool, Sql::Integer(i)) => Value::Bool(i != 0),
        (Json, Sql::Text(t)) => serde_json::from_slice(t).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(t).into_owned())),
        (_, Sql::Integer(i)) => Value::from(i),
        (_, Sql::Real(r)) => Value::from(r),
        (_, Sql::Text(t)) => Value::String(String::from_utf8_lossy(t).into_owned()),
        (_, Sql::Blob(b)) => Value::String(hex::encode(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whitelist must match the migrations: a field here that the table lacks would fail at
    /// the first write of that entity, far from this list.
    #[test]
    fn every_entity_field_exists_in_the_schema() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::store::migrate::apply_all(&conn).unwrap();
        for e in ENTITIES {
            let mut stmt = conn.prepare(&format!("SELECT name FROM pragma_table_info('{}')", e.name)).unwrap();
            let cols: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
            assert!(cols.contains(&"id".to_string()), "{} has no id", e.name);
            for (f, _) in e.fields {
                assert!(cols.contains(&f.to_string()), "{}.{} is not in the schema", e.name, f);
            }
            assert_eq!(e.fields.last().unwrap().0, "deleted", "{}: tombstone last", e.name);
        }
    }

    #[test]
    fn values_round_trip_through_sql() {
        for (ty, v) in [(Json, serde_json::json!(["a", 1])), (Bool, Value::Bool(true)), (Integer, Value::from(42)), (Text, Value::from("x")), (Real, Value::from(0.5))] {
            let sql = to_sql(ty, &v);
            let back = from_sql(ty, (&sql).into());
            assert_eq!(back, v, "{ty:?}");
        }
    }
}
