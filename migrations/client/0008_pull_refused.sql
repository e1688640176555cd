-- Pulled records this laptop could not store (issue 10, finding 10).
--
-- The server's feed may hold a record that this laptop's schema refuses (a status, category or
-- number outside its CHECK constraints, written by an office import or an older server). Such a
-- record used to fail its whole page forever, so the laptop never synced again. Now the rest of
-- the page applies, the cursor moves on, and the record is kept here, as it came, with the
-- reason; `fieldbook status` lists it. A later version of the same record that applies (the
-- office corrects it; a newer feed change) deletes its row.
CREATE TABLE pull_refused (
    entity     TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    feed_seq   INTEGER NOT NULL,   -- the feed change refused (the latest one of this record)
    fields     TEXT NOT NULL,      -- its fields, as JSON
    clocks     TEXT NOT NULL,      -- its stamps, as JSON (as they came)
    reason     TEXT NOT NULL,
    refused_at TEXT NOT NULL,
    PRIMARY KEY (entity, record_id)
);

-- Plain http:// to a server that is not this computer, allowed explicitly by the user
-- (`fieldbook enroll --allow-insecure-http`, the app's settings); every sync then warns.
ALTER TABLE sync_state ADD COLUMN allow_insecure_http INTEGER NOT NULL DEFAULT 0;
