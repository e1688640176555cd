-- The workshop loop (#12, core::workshop): a unit the technician could not fix on site. The
-- technician writes the receipt (unit, serial, condition, accessories, receipt number, who handed
-- it over, their strokes) and, at the end, the return with the customer's signature, which voids
-- the receipt; the office writes goods-in/out, the repair card and the supervisor's check, which
-- reach this laptop at a pull (entity::POLICY says who writes which field).
CREATE TABLE workshop_jobs (
    id                TEXT PRIMARY KEY,
    work_order_id     TEXT NOT NULL REFERENCES work_orders(id),
    repair_record_id  TEXT NOT NULL REFERENCES repair_records(id),
    receipt_number    TEXT NOT NULL,
    unit              TEXT NOT NULL,
    serial            TEXT,
    condition         TEXT NOT NULL,
    accessories       TEXT,
    received_at       TEXT NOT NULL,
    received_by       TEXT NOT NULL,
    receipt_signer    TEXT NOT NULL,
    receipt_strokes   TEXT,
    goods_in_at       TEXT,
    goods_in_by       TEXT,
    repair_minutes    INTEGER,
    repair_parts      TEXT,
    repair_done       TEXT,
    repaired_by       TEXT,
    repaired_at       TEXT,
    check_result      TEXT CHECK (check_result IS NULL OR check_result IN ('passed', 'sent_back')),
    check_note        TEXT,
    checked_by        TEXT,
    checked_at        TEXT,
    goods_out_at      TEXT,
    goods_out_by      TEXT,
    returned_at       TEXT,
    return_signer     TEXT,
    return_strokes    TEXT,
    receipt_voided_at TEXT,
    deleted           INTEGER NOT NULL DEFAULT 0,
    clocks            TEXT
);
CREATE INDEX workshop_jobs_order ON workshop_jobs (work_order_id);
