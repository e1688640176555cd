-- Fieldbook server schema 16, sqlite: spare parts (#12, console/parts.rs). Keep in step with the twin
-- in migrations/server-postgres/0016_parts.sql.
--
-- Typed, indexed copies of the parts records for the console's pages and reports, kept by
-- console/parts.rs::project in the transaction that writes the records (like call_index).

-- Parts by SKU: a repair record names its parts by SKU; the movement it makes names the part.
CREATE TABLE part_index (
    id      TEXT PRIMARY KEY,
    sku     TEXT NOT NULL,
    name_zh TEXT,
    name_en TEXT,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX part_index_sku ON part_index (sku);
INSERT INTO part_index (id, sku, name_zh, name_en, deleted)
    SELECT id, COALESCE(json_extract(fields, '$.sku'), id), json_extract(fields, '$.name_zh'), json_extract(fields, '$.name_en'), COALESCE(json_extract(fields, '$.deleted'), 0) FROM records WHERE entity = 'parts';

-- The stock of a part in a store (the record's id is STORE/PART).
CREATE TABLE stock_index (
    id       TEXT PRIMARY KEY,
    store_id TEXT NOT NULL,
    part_id  TEXT NOT NULL,
    on_hand  INTEGER NOT NULL,
    minimum  INTEGER NOT NULL,
    deleted  INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX stock_index_store_part ON stock_index (store_id, part_id);
CREATE INDEX stock_index_part ON stock_index (part_id);
-- The few levels below their minimum (the stores list counts them, the stock list filters them).
CREATE INDEX stock_index_below ON stock_index (store_id, part_id) WHERE on_hand < minimum AND deleted = 0;

-- Every movement: the list with filters (newest first), per part and kind for the reports.
CREATE TABLE movement_index (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    part_id          TEXT NOT NULL,
    from_store       TEXT,
    to_store         TEXT,
    quantity         INTEGER NOT NULL,
    by_login         TEXT,
    at               TEXT NOT NULL,
    repair_record_id TEXT,
    requisition_id   TEXT,
    over_use         INTEGER NOT NULL DEFAULT 0,
    deleted          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX movement_at ON movement_index (at, id);
CREATE INDEX movement_kind_part ON movement_index (kind, part_id, at);
CREATE INDEX movement_part ON movement_index (part_id, at);
CREATE INDEX movement_from ON movement_index (from_store, at);
CREATE INDEX movement_to ON movement_index (to_store, at);

-- Requisitions: pending first for the office, and the correct-shipments share.
CREATE TABLE requisition_index (
    id               TEXT PRIMARY KEY,
    technician       TEXT NOT NULL,
    requested_at     TEXT NOT NULL,
    status           TEXT NOT NULL,
    decided_at       TEXT,
    received_at      TEXT,
    received_correct INTEGER,
    deleted          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX requisition_status ON requisition_index (status, requested_at, id);
CREATE INDEX requisition_received ON requisition_index (received_at);
