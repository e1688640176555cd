-- Fieldbook server schema 2, PostgreSQL.
-- The office console (docs/console-api.md): sessions, audit trail, call numbering, and the
-- projections its lists and reports query. Records stay JSON in `records`; the feed writer keeps
-- these typed, indexed copies in the same transaction as every write (console/index.rs), so the
-- console answers quickly with a million work orders. Keep in step with the twin in
-- migrations/server-sqlite/0002_console.sql.

-- Console logins. Only the SHA-256 of the cookie's token is kept; a session ends after 12 h idle.
CREATE TABLE console_sessions (
    token_hash   TEXT PRIMARY KEY,
    login        TEXT NOT NULL REFERENCES users(login),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX console_sessions_login ON console_sessions (login);

-- Who did what in the console, and when. detail: JSON.
CREATE TABLE audit_log (
    id            BIGSERIAL PRIMARY KEY,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    target_entity TEXT,
    target_id     TEXT,
    work_order_id TEXT,
    detail        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_order ON audit_log (work_order_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);

-- Call numbers per day (C-YYYYMMDD-NNNN), taken under the feed lock.
CREATE TABLE call_numbers (
    day  TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);

-- One row per work order, typed. review_state is derived (see console/index.rs).
CREATE TABLE work_order_index (
    id                TEXT PRIMARY KEY,
    number            TEXT NOT NULL,
    kind              TEXT,
    status            TEXT,
    review_state      TEXT,
    technician        TEXT,
    customer_id       TEXT,
    site_id           TEXT,
    region            TEXT,
    zone              TEXT,
    priority          TEXT,
    category          TEXT,
    problem           TEXT,
    scheduled_on      TEXT,
    reported_at       TEXT NOT NULL,
    response_deadline TEXT,
    arrived_at        TEXT,
    completed_at      TEXT,
    follow_up_of      TEXT,
    repeat_window_end TEXT,                 -- reported_at + 30 days: a repair call on the same asset before then is a repeat
    asset_ids         TEXT NOT NULL DEFAULT '[]',
    deleted           BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX woi_reported ON work_order_index (reported_at, id);
CREATE INDEX woi_status ON work_order_index (status, response_deadline, id);
CREATE INDEX woi_review ON work_order_index (review_state, completed_at, id);
CREATE INDEX woi_technician ON work_order_index (technician, reported_at, id);
CREATE INDEX woi_technician_status ON work_order_index (technician, status);
CREATE INDEX woi_follow_up ON work_order_index (follow_up_of);
CREATE INDEX woi_customer ON work_order_index (customer_id, reported_at, id);
CREATE INDEX woi_region ON work_order_index (region, reported_at, id);
CREATE INDEX woi_site ON work_order_index (site_id);
CREATE INDEX woi_number ON work_order_index (number);
CREATE INDEX woi_scheduled ON work_order_index (kind, status, scheduled_on);

-- Customers, sites, assets and contracts, typed: names for lists, regions and zones for filters,
-- contract end dates for the expiry notice. parent_id: site -> customer, asset -> site,
-- contract -> customer.
CREATE TABLE reference_index (
    entity    TEXT NOT NULL,
    id        TEXT NOT NULL,
    parent_id TEXT,
    code      TEXT,
    name      TEXT,
    region    TEXT,
    zone      TEXT,
    ends_on   TEXT,
    deleted   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (entity, id)
);
CREATE INDEX reference_index_parent ON reference_index (entity, parent_id);
CREATE INDEX reference_index_code ON reference_index (entity, code);
CREATE INDEX reference_index_ends ON reference_index (entity, ends_on);

-- The records under work orders that reports count: repair records (asset, minutes, fee,
-- parts), time entries (technician, day, category, minutes), satisfaction cards (the four
-- scores) and inspection answers that are findings (item_key).
CREATE TABLE work_item_index (
    entity        TEXT NOT NULL,
    id            TEXT NOT NULL,
    work_order_id TEXT,
    asset_id      TEXT,
    technician    TEXT,
    work_date     TEXT,
    category      TEXT,
    minutes       BIGINT,
    fee_cents     BIGINT,
    parts_count   BIGINT,
    item_key      TEXT,
    finding       BIGINT NOT NULL DEFAULT 0,
    attitude      BIGINT,
    skill         BIGINT,
    arrival       BIGINT,
    promise       BIGINT,
    deleted       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (entity, id)
);
CREATE INDEX work_item_order ON work_item_index (work_order_id, entity);
CREATE INDEX work_item_date ON work_item_index (entity, work_date);
CREATE INDEX work_item_asset ON work_item_index (asset_id, entity);
