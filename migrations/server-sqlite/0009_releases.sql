-- Desktop releases the administrator publishes (`fieldbook-server release add`) for laptops to
-- update themselves from (issue #14, docs/updates.md). The postgres twin is
-- migrations/server-postgres/0009_releases.sql: keep the two in step.
--
-- The artifact's bytes live in the database, in chunks, like attachments: several servers
-- sharing one PostgreSQL all serve every release, and a backup of the database holds them.
--
-- releases.target: the platform as the Tauri updater names it, `{os}-{arch}` (linux-x86_64).
-- releases.version: semver text; one release per version and target.
-- releases.signature: the minisign signature of the artifact as `tauri signer sign` writes its
--   .sig file (base64 of the signature file), handed to laptops as it is. The laptop checks it
--   with the public key built into the app; the server's own check at `release add` is only a
--   convenience.
-- releases.withdrawn_at: set by `release remove`; a withdrawn release is offered to nobody and
--   its bytes are deleted.
CREATE TABLE releases (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    version      TEXT NOT NULL,
    target       TEXT NOT NULL,
    notes_en     TEXT,
    notes_zh     TEXT,
    file_name    TEXT NOT NULL,
    byte_size    BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    signature    TEXT NOT NULL,
    published_at TEXT NOT NULL,
    withdrawn_at TEXT
);
CREATE UNIQUE INDEX releases_version_target ON releases (target, version);

CREATE TABLE release_chunks (
    release_id   BIGINT NOT NULL REFERENCES releases (id),
    chunk_offset BIGINT NOT NULL,
    data         BLOB NOT NULL,
    PRIMARY KEY (release_id, chunk_offset)
);
