-- Fieldbook server schema 11, SQLite: the call register (#11). Keep in step with the twin in
-- migrations/server-postgres/0011_call_register.sql.

-- A customer's phone, digits only, without the country code (86) or the trunk 0: a caller's
-- phone is matched against it before a new customer is registered (console/calls.rs). Filled for
-- existing customers by the migration step in db/migrate.rs, then kept by console/index.rs.
ALTER TABLE reference_index ADD COLUMN phone TEXT;
CREATE INDEX reference_index_phone ON reference_index (entity, phone);

-- Codes of customers registered on the spot from a call, N-YYYYMMDD-NN, per day, taken under the
-- feed lock like call numbers.
CREATE TABLE customer_numbers (
    day  TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);

-- A call's own trail in its detail (the audit trail of a record that is not an order).
CREATE INDEX audit_log_target ON audit_log (target_entity, target_id, id);
