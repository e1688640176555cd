-- Customer records kept current (#12, books).
--
-- A technician on site proposes a correction to the customer, site or an asset of one of their
-- orders: one whitelisted field (entity::CORRECTABLE) and its new value, with what the laptop
-- showed before. The office confirms it (the value is written to the record, which comes back
-- at the next pull) or rejects it with a note. The technician writes the proposal, the office
-- the decision (entity::POLICY).
CREATE TABLE corrections (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    record_entity TEXT NOT NULL CHECK (record_entity IN ('customers', 'sites', 'assets')),
    record_id     TEXT NOT NULL,
    field         TEXT NOT NULL CHECK (field IN ('contact', 'phone', 'address', 'model', 'serial', 'location')),
    old_value     TEXT,
    value         TEXT NOT NULL,
    note          TEXT,
    proposed_at   TEXT NOT NULL,
    proposed_by   TEXT NOT NULL,
    status        TEXT CHECK (status IS NULL OR status IN ('pending', 'confirmed', 'rejected')),
    decided_by    TEXT,
    decided_at    TEXT,
    decision_note TEXT,
    deleted       INTEGER NOT NULL DEFAULT 0,
    clocks        TEXT
);
CREATE INDEX corrections_order ON corrections (work_order_id);

-- Two records of one customer merged by the office: the one merged away is tombstoned and names
-- the survivor every order now points to.
ALTER TABLE customers ADD COLUMN merged_into TEXT;
