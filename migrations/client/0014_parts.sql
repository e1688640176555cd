-- Spare parts (#12), as far as a laptop takes part: its technician's van store and the van's stock
-- (written by the office and by the server's movements, entity::POLICY), and the technician's
-- requisitions (the technician asks; the office decides and ships; the technician confirms what
-- arrived). The movements themselves stay on the server (stock_movements, a desk record).
CREATE TABLE stores (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('main', 'van')),
    technician TEXT,
    deleted    INTEGER NOT NULL DEFAULT 0,
    clocks     TEXT
);
CREATE TABLE stock_levels (
    id       TEXT PRIMARY KEY,
    store_id TEXT NOT NULL,
    part_id  TEXT NOT NULL,
    on_hand  INTEGER NOT NULL,
    minimum  INTEGER NOT NULL DEFAULT 0,
    deleted  INTEGER NOT NULL DEFAULT 0,
    clocks   TEXT
);
CREATE INDEX stock_levels_store ON stock_levels (store_id, part_id);
CREATE TABLE requisitions (
    id               TEXT PRIMARY KEY,
    technician       TEXT NOT NULL,
    requested_at     TEXT NOT NULL,
    lines            TEXT NOT NULL,
    note             TEXT,
    status           TEXT CHECK (status IS NULL OR status IN ('pending', 'approved', 'rejected')),
    decided_by       TEXT,
    decided_at       TEXT,
    decision_note    TEXT,
    shipment         TEXT,
    received_at      TEXT,
    received_correct INTEGER,
    received_note    TEXT,
    deleted          INTEGER NOT NULL DEFAULT 0,
    clocks           TEXT
);
CREATE INDEX requisitions_requested ON requisitions (requested_at);
