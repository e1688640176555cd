-- Fieldbook laptop store, version 1.
--
-- Every synced table has a client-generated UUIDv7 `id` and a `deleted` tombstone flag; rows are
-- never removed, so a delete cannot be resurrected by a late replica. Structured values that are
-- always read and written whole (parts lists, pen strokes, template bodies) are JSON text.
-- Timestamps are RFC 3339 UTC text; dates are YYYY-MM-DD.

-- This laptop: its identity and signing key. Exactly one row.
CREATE TABLE device (
    id          TEXT PRIMARY KEY,
    secret_key  BLOB NOT NULL,      -- Ed25519 seed (32 bytes); never leaves the laptop
    public_key  BLOB NOT NULL,      -- Ed25519 public key (32 bytes)
    technician  TEXT,               -- login of the technician this laptop belongs to
    created_at  TEXT NOT NULL
);

-- Small key/value settings: the hybrid logical clock's last value, response policy, etc.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE customers (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    contact     TEXT,
    phone       TEXT,
    email       TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sites (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    name        TEXT NOT NULL,
    address     TEXT NOT NULL,
    region      TEXT NOT NULL,
    zone        TEXT NOT NULL CHECK (zone IN ('urban', 'suburban')),
    deleted     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sites_customer ON sites(customer_id);

CREATE TABLE assets (
    id            TEXT PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    site_id       TEXT NOT NULL REFERENCES sites(id),
    asset_type    TEXT NOT NULL,     -- e.g. 'fire_pump', 'smoke_detector_loop', 'lift'
    name          TEXT NOT NULL,
    model         TEXT,
    serial        TEXT,
    location      TEXT,
    installed_on  TEXT,
    warranty_ends TEXT,
    deleted       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX assets_site ON assets(site_id);

CREATE TABLE contracts (
    id          TEXT PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL,
    asset_ids   TEXT NOT NULL DEFAULT '[]',   -- JSON array of covered asset ids
    deleted     INTEGER NOT NULL DEFAULT 0,
    CHECK (ends_on >= starts_on)
);

-- The parts catalogue: a repair may only use parts listed here.
CREATE TABLE parts (
    id          TEXT PRIMARY KEY,
    sku         TEXT NOT NULL UNIQUE,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    unit        TEXT NOT NULL DEFAULT 'pcs',
    price_cents INTEGER,
    deleted     INTEGER NOT NULL DEFAULT 0
);

-- Checklist templates. A (code, version) pair is immutable once stored: editing a template means
-- publishing a new version, and every inspection keeps the version it started with.
CREATE TABLE checklist_templates (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1),
    body        TEXT NOT NULL,     -- JSON: the ChecklistTemplate (titles, sections, items, rules)
    published_at TEXT NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (code, version)
);

CREATE TABLE work_orders (
    id                TEXT PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL CHECK (kind IN ('patrol_inspection', 'repair_call', 'maintenance')),
    customer_id       TEXT NOT NULL REFERENCES customers(id),
    site_id           TEXT NOT NULL REFERENCES sites(id),
    asset_ids         TEXT NOT NULL DEFAULT '[]',   -- JSON array
    technician        TEXT,
    priority          TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    category          TEXT NOT NULL CHECK (category IN ('A', 'B', 'C', 'D')),
    status            TEXT NOT NULL CHECK (status IN ('new', 'dispatched', 'en_route', 'on_site', 'completed', 'signed')),
    template_id       TEXT REFERENCES checklist_templates(id),
    problem           TEXT,
    scheduled_on      TEXT NOT NULL,     -- the day the work is planned for
    reported_at       TEXT NOT NULL,     -- time of the call-in
    response_deadline TEXT NOT NULL,     -- reported_at + 6 h urban / 7 h suburban (configurable)
    en_route_at       TEXT,
    arrived_at        TEXT,
    completed_at      TEXT,
    revision          INTEGER NOT NULL DEFAULT 1,   -- bumped by every amendment of a signed order
    follow_up_of      TEXT,               -- finding key "order-id/item-key[/asset-id]" this order was raised from
    deleted           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX work_orders_day ON work_orders(scheduled_on, response_deadline);
CREATE INDEX work_orders_status ON work_orders(status, response_deadline);

-- One answer per (work order, item, asset). Its id is a UUIDv5 of that triple, so the same answer
-- given on two replicas is the same record and merges field by field.
CREATE TABLE inspection_answers (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    item_key      TEXT NOT NULL,
    asset_id      TEXT NOT NULL DEFAULT '',  -- '' for items not repeated per asset
    value         TEXT NOT NULL,             -- JSON: the AnswerValue
    note          TEXT,
    answered_at   TEXT NOT NULL,
    deleted       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (work_order_id, item_key, asset_id)
);

CREATE TABLE repair_records (
    id                 TEXT PRIMARY KEY,
    work_order_id      TEXT NOT NULL REFERENCES work_orders(id),
    asset_id           TEXT,
    fault              TEXT NOT NULL,
    cause              TEXT NOT NULL,
    action             TEXT NOT NULL,
    parts              TEXT NOT NULL DEFAULT '[]',  -- JSON array of PartUsed
    labour_minutes     INTEGER NOT NULL CHECK (labour_minutes >= 0),
    category           TEXT NOT NULL CHECK (category IN ('A', 'B', 'C', 'D')),
    fee_cents          INTEGER NOT NULL DEFAULT 0 CHECK (fee_cents >= 0),
    fee_collected      INTEGER NOT NULL DEFAULT 0,
    taken_to_workshop  INTEGER NOT NULL DEFAULT 0,
    receipt_number     TEXT,
    recorded_at        TEXT NOT NULL,
    deleted            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX repair_records_order ON repair_records(work_order_id);

-- Every hour a technician spends is one of the service categories; the daily report sums these.
CREATE TABLE time_entries (
    id            TEXT PRIMARY KEY,
    technician    TEXT NOT NULL,
    work_order_id TEXT REFERENCES work_orders(id),
    repair_record_id TEXT REFERENCES repair_records(id),
    work_date     TEXT NOT NULL,
    category      TEXT NOT NULL CHECK (category IN ('A', 'B', 'C', 'D')),
    minutes       INTEGER NOT NULL CHECK (minutes > 0),
    note          TEXT,
    deleted       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX time_entries_day ON time_entries(work_date, technician);

CREATE TABLE satisfaction_cards (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL UNIQUE REFERENCES work_orders(id),
    attitude      INTEGER NOT NULL CHECK (attitude BETWEEN 1 AND 4),
    skill         INTEGER NOT NULL CHECK (skill BETWEEN 1 AND 4),
    arrival       INTEGER NOT NULL CHECK (arrival BETWEEN 1 AND 4),
    promise       INTEGER NOT NULL CHECK (promise BETWEEN 1 AND 4),
    comment       TEXT,
    rated_at      TEXT NOT NULL,
    deleted       INTEGER NOT NULL DEFAULT 0
);

-- A customer's signature over one revision of a work order. Rows are never changed: an amendment
-- bumps the order's revision and the next signature is a new row; the old one stays as evidence.
CREATE TABLE signatures (
    id               TEXT PRIMARY KEY,
    work_order_id    TEXT NOT NULL REFERENCES work_orders(id),
    revision         INTEGER NOT NULL,
    signer_name      TEXT NOT NULL,
    signer_title     TEXT,
    signed_at        TEXT NOT NULL,
    strokes          TEXT NOT NULL,   -- JSON: [[{x, y, t}, ...], ...]
    signed_content   TEXT NOT NULL,   -- canonical JSON of exactly what was signed
    digest           TEXT NOT NULL,   -- hex SHA-256 of signed_content
    device_id        TEXT NOT NULL,
    device_public_key TEXT NOT NULL,  -- hex Ed25519 public key of the signing laptop
    device_signature TEXT NOT NULL,   -- hex Ed25519 signature over the digest bytes
    deleted          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (work_order_id, revision)
);

-- Why a signed order was reopened. The signed revision itself is kept in `signatures`.
CREATE TABLE amendments (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    from_revision INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    amended_by    TEXT,
    amended_at    TEXT NOT NULL,
    deleted       INTEGER NOT NULL DEFAULT 0
);

-- Photos and files, stored by content (SHA-256) under the store's attachments/ folder.
CREATE TABLE attachments (
    id            TEXT PRIMARY KEY,       -- hex SHA-256 of the content
    media_type    TEXT NOT NULL,
    byte_size     INTEGER NOT NULL,
    original_name TEXT,
    added_at      TEXT NOT NULL,
    deleted       INTEGER NOT NULL DEFAULT 0
);

-- Per-field hybrid-logical-clock stamps: the clock of the last write to each field of each
-- record. Sync merges field by field by comparing these.
CREATE TABLE field_clocks (
    entity    TEXT NOT NULL,
    record_id TEXT NOT NULL,
    field     TEXT NOT NULL,
    hlc       TEXT NOT NULL,
    PRIMARY KEY (entity, record_id, field)
) WITHOUT ROWID;

-- Local changes not yet acknowledged by the server, one row per write of one record. `seq` is
-- the per-device sequence number; it is never reused (AUTOINCREMENT), even after rows are
-- deleted on acknowledgement.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    entity     TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    fields     TEXT NOT NULL,   -- JSON object: field name -> new value
    hlc        TEXT NOT NULL,
    created_at TEXT NOT NULL
);
