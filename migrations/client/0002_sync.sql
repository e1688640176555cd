-- Sync, laptop side (protocol version 1, docs/sync.md).

-- For each field an outbox entry changes, the field's stamp on this laptop just before the write
-- (JSON object field -> stamp or null). The server compares it with its own stamp to tell an
-- informed overwrite from a concurrent one.
ALTER TABLE outbox ADD COLUMN base TEXT NOT NULL DEFAULT '{}';

-- Where this laptop syncs to and how far it got. One row.
CREATE TABLE sync_state (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    server_url        TEXT,
    device_token      TEXT,
    technician        TEXT,
    pull_cursor       INTEGER NOT NULL DEFAULT 0,
    last_success_at   TEXT,
    last_attempt_at   TEXT,
    last_error        TEXT,
    revoked_reason    TEXT
);
INSERT INTO sync_state (id) VALUES (1);

-- Entries the server refused for good (e.g. a change to a record signed elsewhere), kept so the
-- technician sees what happened to them.
CREATE TABLE sync_rejections (
    seq        INTEGER PRIMARY KEY,
    entity     TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    fields     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    rejected_at TEXT NOT NULL
);
