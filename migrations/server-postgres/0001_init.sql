-- Fieldbook server schema, PostgreSQL (protocol version 1, docs/sync.md).
-- The SQLite twin is migrations/server-sqlite/0001_init.sql: keep the two in step. Column
-- types are the portable subset the server's SQL is written in: TEXT, BIGINT (booleans as 0/1,
-- times as RFC 3339 text), BLOB/BYTEA for attachment bytes.

-- People who log in to the office console, and the technicians laptops are enrolled for.
CREATE TABLE users (
    login         TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('technician', 'office', 'admin')),
    password_hash TEXT,                 -- argon2 PHC string; NULL: cannot log in with a password
    created_at    TEXT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0
);

-- One-time codes a technician types into a new laptop. Only the SHA-256 of a code is kept.
CREATE TABLE enrolment_codes (
    code_hash  TEXT PRIMARY KEY,
    technician TEXT NOT NULL REFERENCES users(login),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    device_id  TEXT
);

-- Enrolled laptops. The device token is kept only as its SHA-256.
CREATE TABLE devices (
    id            TEXT PRIMARY KEY,
    technician    TEXT NOT NULL REFERENCES users(login),
    name          TEXT,
    public_key    TEXT NOT NULL,        -- hex Ed25519, verifies the laptop's signatures
    token_hash    TEXT NOT NULL UNIQUE,
    enrolled_at   TEXT NOT NULL,
    last_seen_at  TEXT,
    acked_seq     BIGINT NOT NULL DEFAULT 0,  -- highest outbox seq applied (or refused for good)
    revoked_at    TEXT,
    revoke_reason TEXT,
    wipe_ordered  BIGINT NOT NULL DEFAULT 0
);

-- The current state of every synced record: fields and per-field HLC stamps as JSON objects.
-- owner_id is the record's parent for lookups (site -> customer, asset -> site,
-- contract -> customer, anything under a work order -> the order, attachment -> technician).
CREATE TABLE records (
    entity      TEXT NOT NULL,
    id          TEXT NOT NULL,
    fields      TEXT NOT NULL,
    clocks      TEXT NOT NULL,
    owner_id    TEXT,
    scope       TEXT,                   -- the technician whose feed it last went to (NULL: everyone or nobody)
    updated_seq BIGINT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (entity, id)
) WITH (fillfactor = 75);  -- room on each page for updated versions (HOT: no index entries per update)
CREATE INDEX records_owner ON records (entity, owner_id);

-- Which customer and site each assigned work order refers to, and whose it is: who must hear
-- about a change to a customer, site, asset or contract.
CREATE TABLE order_refs (
    work_order_id TEXT NOT NULL,
    ref_entity    TEXT NOT NULL,
    ref_id        TEXT NOT NULL,
    technician    TEXT NOT NULL,
    PRIMARY KEY (work_order_id, ref_entity)
);
CREATE INDEX order_refs_ref ON order_refs (ref_entity, ref_id);

-- The feed laptops pull: one row per change, carrying the record's full state after it.
-- scope: the technician it is for, NULL for everyone (checklist templates, parts).
CREATE TABLE feed (
    seq        BIGINT PRIMARY KEY,
    entity     TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    fields     TEXT NOT NULL,
    clocks     TEXT NOT NULL,
    scope      TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX feed_scope_seq ON feed (scope, seq);

-- Concurrent edits that lost (or won over a value kept here), for the office to review.
CREATE TABLE conflicts (
    id           TEXT PRIMARY KEY,
    entity       TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    field        TEXT NOT NULL,
    kept_value   TEXT,                  -- JSON
    kept_hlc     TEXT NOT NULL,
    other_value  TEXT,                  -- JSON
    other_hlc    TEXT NOT NULL,
    kept_device  TEXT NOT NULL,
    other_device TEXT NOT NULL,
    detected_at  TEXT NOT NULL,
    resolved_at  TEXT,
    resolved_by  TEXT,
    resolution   TEXT
);
CREATE INDEX conflicts_open ON conflicts (resolved_at, detected_at);

-- Pushed changes the server refused for good (acknowledged all the same), for office review.
CREATE TABLE rejected_changes (
    id          TEXT PRIMARY KEY,
    device_id   TEXT NOT NULL,
    technician  TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    entity      TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    fields      TEXT NOT NULL,          -- JSON
    hlc         TEXT NOT NULL,
    reason      TEXT NOT NULL,
    received_at TEXT NOT NULL
);

-- Uploaded files by content hash. The bytes live in the database (attachment_chunks) so that
-- several stateless servers can share one PostgreSQL.
CREATE TABLE attachments (
    sha256         TEXT PRIMARY KEY,
    byte_size      BIGINT,              -- known from Upload-Length or the synced record; NULL: not yet
    received_bytes BIGINT NOT NULL DEFAULT 0,
    media_type     TEXT,
    complete       BIGINT NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    completed_at   TEXT,
    uploaded_by    TEXT
);
CREATE TABLE attachment_chunks (
    sha256       TEXT NOT NULL,
    chunk_offset BIGINT NOT NULL,
    data         BYTEA NOT NULL,
    PRIMARY KEY (sha256, chunk_offset)
);

-- Server settings: the server's last HLC stamp ('hlc'), the company ('company'), the response
-- policy ('response_policy').
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
