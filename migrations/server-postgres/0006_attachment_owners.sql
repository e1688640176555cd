-- Attachments get owners (issue 10, findings 8 and 13). The SQLite twin is
-- migrations/server-sqlite/0006_attachment_owners.sql: keep the two in step.
--
-- attachments.author: the technician whose laptop first pushed the attachment's record; only
--   their laptops may change that record (name, media type, size, deletion) from then on.
-- attachments.uploaded_by (already there) now means: the technician whose upload completed the
--   bytes; attachments.uploaded_device the laptop, whose quota they count against.
-- An upload in progress belongs to the laptop sending it (attachment_uploads and its chunks):
--   no other laptop can see, extend, resize or discard it. The first upload whose bytes hash to
--   the name is copied into attachment_chunks and the attachment is complete.
ALTER TABLE attachments ADD COLUMN author TEXT;
ALTER TABLE attachments ADD COLUMN uploaded_device TEXT;
CREATE INDEX attachments_uploaded_device ON attachments (uploaded_device);

CREATE TABLE attachment_uploads (
    sha256         TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    technician     TEXT NOT NULL,
    byte_size      BIGINT,              -- the Upload-Length this laptop declared; NULL: not yet
    received_bytes BIGINT NOT NULL DEFAULT 0,
    started_at     TEXT NOT NULL,
    PRIMARY KEY (sha256, device_id)
);
CREATE INDEX attachment_uploads_device ON attachment_uploads (device_id);
CREATE TABLE attachment_upload_chunks (
    sha256       TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    chunk_offset BIGINT NOT NULL,
    data         BYTEA NOT NULL,
    PRIMARY KEY (sha256, device_id, chunk_offset)
);

-- Unfinished uploads had no owner to give them to: their bytes are dropped and the laptops
-- start them again at their next sync (HEAD answers offset 0).
DELETE FROM attachment_chunks WHERE sha256 IN (SELECT sha256 FROM attachments WHERE complete = 0);
UPDATE attachments SET received_bytes = 0, byte_size = NULL WHERE complete = 0;

-- The author of every attachments record so far: records.owner_id, the technician who last
-- pushed it (the best that is known).
INSERT INTO attachments (sha256, received_bytes, complete, created_at, author)
    SELECT id, 0, 0, updated_at, owner_id FROM records WHERE entity = 'attachments'
    ON CONFLICT (sha256) DO UPDATE SET author = excluded.author;
