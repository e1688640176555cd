-- The database's lineage (issue #14, "backups that laptops survive"). The postgres twin is
-- migrations/server-postgres/0008_server_epoch.sql: keep the two in step.
--
-- One row per epoch, the current one the highest `number`. The first is made here, at the
-- database's first migration (or its upgrade). `fieldbook-server restore` (SQLite) and
-- `fieldbook-server epoch new` (after a pg_restore) start a new one. Laptops are told the
-- current epoch at every sync: a laptop that synced with another epoch re-sends what it wrote,
-- since a restored database may have lost it.
-- feed_start: the feed's last seq when the epoch began. Feed positions up to it are shared with
--   the lineage the backup came from; past it the same numbers name other changes, so a laptop
--   re-pulls from there.
CREATE TABLE server_epochs (
    number     BIGINT PRIMARY KEY,
    epoch      TEXT NOT NULL UNIQUE,
    began_at   TEXT NOT NULL,
    feed_start BIGINT NOT NULL,
    reason     TEXT NOT NULL
);
INSERT INTO server_epochs (number, epoch, began_at, feed_start, reason)
VALUES (1, lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), (SELECT COALESCE(MAX(seq), 0) FROM feed), 'first migration');
