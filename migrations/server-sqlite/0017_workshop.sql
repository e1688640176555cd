-- The workshop loop (#12): units taken to the workshop (entity workshop_jobs), projected for the
-- console's Workshop screen (console/workshop.rs): where each stands (core::workshop::Stage),
-- open ones (not yet returned to the customer) oldest receipt first.
CREATE TABLE workshop_index (
    id               TEXT PRIMARY KEY,
    work_order_id    TEXT NOT NULL,
    repair_record_id TEXT,
    receipt_number   TEXT,
    unit             TEXT,
    stage            TEXT NOT NULL,
    still_open       INTEGER NOT NULL,
    received_at      TEXT NOT NULL,
    deleted          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX workshop_open ON workshop_index (deleted, still_open, received_at, id);
CREATE INDEX workshop_stage ON workshop_index (stage, received_at, id);
CREATE INDEX workshop_order ON workshop_index (work_order_id);
