-- What the laptop knows of the server's database, to tell one restored from a backup (issue
-- #14; docs/sync.md, "A server restored from a backup").
-- server_epoch: the server's epoch at the last sync (NULL: never told, or an older server).
-- server_acked_seq: the highest outbox seq the server has acknowledged to this laptop.
ALTER TABLE sync_state ADD COLUMN server_epoch TEXT;
ALTER TABLE sync_state ADD COLUMN server_acked_seq INTEGER NOT NULL DEFAULT 0;
-- How many records the last recovery from a restored server re-sent, and when (for `fieldbook
-- status`).
ALTER TABLE sync_state ADD COLUMN server_restore_seen_at TEXT;
ALTER TABLE sync_state ADD COLUMN server_restore_resent INTEGER;

-- A re-sent outbox entry carries each field's own stamp (JSON object field -> stamp); NULL for
-- every ordinary write, whose fields all have `hlc`.
ALTER TABLE outbox ADD COLUMN stamps TEXT;
