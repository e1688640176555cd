-- The HLC stamp of the last change applied for each device (the entry at `acked_seq`).
-- A device's outbox seq and stamps grow together, so an entry numbered at or below `acked_seq`
-- but stamped later than this is not a resent duplicate but new work numbered from a restored
-- backup: the server refuses that push (`sequence_reset`) instead of skipping it, and the laptop
-- renumbers its unsynced changes (docs/sync.md, "Laptop → server: push").
ALTER TABLE devices ADD COLUMN acked_hlc TEXT;
