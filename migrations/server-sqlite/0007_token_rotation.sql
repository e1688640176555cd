-- Device tokens expire and rotate; laptops renew an expired token with their device key
-- (issue #13, "a lost or stolen laptop gives nothing away"). The postgres twin is
-- migrations/server-postgres/0007_token_rotation.sql: keep the two in step.
--
-- devices.token_hash (already there): the current token's SHA-256.
-- devices.token_issued_at: when the current token was issued; it expires a set time after
--   (30 days unless the server is told otherwise). Tokens issued before this migration count as
--   issued now, so that no laptop is locked out by the upgrade.
-- devices.next_token_hash: a rotated token handed to the laptop and not yet used by it. The
--   first request made with it makes it current and retires the old one; until then the old
--   one still works, so a lost answer never locks the laptop out.
-- devices.next_token_sealed: that same new token, XORed with SHA-256 of a domain string and the
--   current token, so that a laptop asking again (the answer was lost, or two syncs ran at
--   once) gets the same new token. Only the holder of the current token can unseal it; the
--   database alone gives nothing.
-- devices.previous_token_hash: the last retired token, to answer a copy of it with a clear 401.
-- devices.token_rotated_at: when a rotated or renewed token last became current.
-- devices.store_protection / store_protection_at: how the laptop says its store is protected
--   (encrypted-keyring, encrypted-passphrase, encrypted-key-file, plaintext) and when it last
--   said so. The laptop's own claim: a hostile laptop can lie.
ALTER TABLE devices ADD COLUMN token_issued_at TEXT;
ALTER TABLE devices ADD COLUMN next_token_hash TEXT;
ALTER TABLE devices ADD COLUMN next_token_sealed TEXT;
ALTER TABLE devices ADD COLUMN next_token_issued_at TEXT;
ALTER TABLE devices ADD COLUMN previous_token_hash TEXT;
ALTER TABLE devices ADD COLUMN token_rotated_at TEXT;
ALTER TABLE devices ADD COLUMN store_protection TEXT;
ALTER TABLE devices ADD COLUMN store_protection_at TEXT;
CREATE UNIQUE INDEX devices_next_token_hash ON devices (next_token_hash);
CREATE INDEX devices_previous_token_hash ON devices (previous_token_hash);

-- One-time challenges for renewing an expired token with the device key. Stored as SHA-256
-- like every other secret; a nonce is deleted when it is used and refused once expired.
CREATE TABLE token_renewal_nonces (
    nonce_hash TEXT PRIMARY KEY,
    device_id  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX token_renewal_nonces_device ON token_renewal_nonces (device_id);

UPDATE devices SET token_issued_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
