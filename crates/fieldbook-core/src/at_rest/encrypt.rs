//! Turning a plaintext store (from before #13) into an encrypted one in place, crash-safe: a kill
//! at any moment leaves the old plaintext store or the new encrypted one under the store's
//! name, never neither, and nothing in it is lost.
//!
//! 1. The plaintext store's WAL is checkpointed into it and its journal set to DELETE, so the
//!    main file holds everything and no `-wal` with plaintext pages is left beside it.
//! 2. `sqlcipher_export` copies it into `<store>.encrypting`, which is checked (schema version,
//!    every table's row count) and flushed.
//! 3. The plaintext gets a second name, `<store>.plaintext`, and `<store>.encrypting` is
//!    renamed over the store: the one atomic step. The folder is flushed.
//! 4. `<store>.plaintext` is overwritten with zeros and removed.
//!
//! On the next open, a leftover `.encrypting` (killed before step 3) is deleted and the export
//! starts again; a leftover `.plaintext` is scrubbed once the store itself is encrypted (killed
//! in step 4) and only unlinked while the store is still that same plaintext (killed in step 3).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

use super::key::StoreKey;
use crate::error::{Error, Result};
use crate::private_files;

/// The first 16 bytes of every plaintext SQLite database. An SQLCipher file starts with its
/// random salt instead.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

fn sibling(store: &Path, suffix: &str) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Whether the file at `path` is a plaintext SQLite database (false for a missing or empty
/// file, and for an encrypted one).
pub fn is_plaintext(path: &Path) -> Result<bool> {
    let mut head = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut f) => match f.read_exact(&mut head) {
            Ok(()) => Ok(&head == SQLITE_HEADER),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(Error::io(path, e)),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Fieldbook's SQLCipher settings, for every store this process keys or creates (SQLCipher's
/// defaults are process-wide, so an export's attached copy gets them too): SQLCipher 4's AES-256
/// pages, authenticated with HMAC-SHA256 rather than its default HMAC-SHA512 — as strong for a
/// 256-bit key, and SHA-256 runs in hardware (SHA-NI) where SHA-512 does not, which keeps a
/// 50,000-record pull within its target. A wrong key is Fieldbook's error to word
/// (`Error::WrongKey`); SQLCipher's own log line on stderr would only confuse a technician.
fn configure(conn: &Connection) -> Result<()> {
    conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(())).optional()?;
    conn.query_row("PRAGMA cipher_default_hmac_algorithm = HMAC_SHA256", [], |_| Ok(())).optional()?;
    Ok(())
}

/// Gives an open connection the store key. Must come before anything reads the file.
pub fn apply_key(conn: &Connection, key: &StoreKey) -> Result<()> {
    configure(conn)?;
    conn.pragma_update(None, "key", key.sqlcipher_key().as_str())?;
    conn.query_row("PRAGMA cipher_hmac_algorithm = HMAC_SHA256", [], |_| Ok(())).optional()?;
    Ok(())
}

/// Makes sure the store at `store` is encrypted under `key`: finishes or undoes an interrupted
/// migration, and migrates a plaintext store. Returns whether a migration ran.
pub fn ensure_encrypted(store: &Path, key: &StoreKey) -> Result<bool> {
    let encrypting = sibling(store, ".encrypting");
    let plaintext_copy = sibling(store, ".plaintext");
    // Killed before the swap: the plaintext store is whole; the half-made copy goes.
    remove_if_exists(&encrypting)?;
    remove_if_exists(&sibling(&encrypting, "-journal"))?;
    if plaintext_copy.exists() {
        if is_plaintext(store)? {
            // Killed after the second name was made and before the swap: both names are the
            // same plaintext file, which must not be scrubbed.
            remove_if_exists(&plaintext_copy)?;
        } else {
            // Killed after the swap: the old plaintext is no longer needed.
            scrub_and_remove(&plaintext_copy)?;
        }
    }
    if !is_plaintext(store)? {
        return Ok(false);
    }
    encrypt(store, &encrypting, &plaintext_copy, key)?;
    Ok(true)
}

fn encrypt(store: &Path, encrypting: &Path, plaintext_copy: &Path, key: &StoreKey) -> Result<()> {
    let counts;
    {
        let plain = Connection::open(store)?;
        plain.busy_timeout(std::time::Duration::from_secs(10))?;
        // Everything into the main file, and no plaintext journal left beside the store.
        plain.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        plain.pragma_update(None, "journal_mode", "DELETE")?;
        let version: i64 = plain.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        counts = table_counts(&plain, "main")?;
        private_files::create_file(encrypting)?;
        configure(&plain)?;
        plain.execute("ATTACH DATABASE ?1 AS encrypted KEY ?2", rusqlite::params![encrypting.to_string_lossy(), key.sqlcipher_key().as_str()])?;
        plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        plain.pragma_update(Some("encrypted"), "user_version", version)?;
        plain.execute_batch("DETACH DATABASE encrypted")?;
    }
    for suffix in ["-wal", "-shm"] {
        remove_if_exists(&sibling(store, suffix))?;
    }
    // The copy must be complete and readable with the key before it replaces the original.
    {
        let enc = Connection::open(encrypting)?;
        apply_key(&enc, key)?;
        let copied = table_counts(&enc, "main").map_err(|_| Error::WrongKey { path: encrypting.to_owned() })?;
        if copied != counts {
            return Err(Error::io(encrypting, std::io::Error::other("the encrypted copy does not hold every record of the store; the plaintext store is kept unchanged")));
        }
    }
    std::fs::File::open(encrypting).and_then(|f| f.sync_all()).map_err(|e| Error::io(encrypting, e))?;
    std::fs::hard_link(store, plaintext_copy).map_err(|e| Error::io(plaintext_copy, e))?;
    private_files::sync_dir(store)?;
    std::fs::rename(encrypting, store).map_err(|e| Error::io(store, e))?;
    private_files::sync_dir(store)?;
    scrub_and_remove(plaintext_copy)
}

/// Every table's row count, by name: what an export must preserve.
fn table_counts(conn: &Connection, schema: &str) -> Result<Vec<(String, i64)>> {
    let names: Vec<String> = conn
        .prepare(&format!("SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name"))?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    names
        .into_iter()
        .map(|n| {
            let c: i64 = conn.query_row(&format!("SELECT count(*) FROM {schema}.\"{}\"", n.replace('"', "\"\"")), [], |r| r.get(0))?;
            Ok((n, c))
        })
        .collect()
}

/// Overwrites a file with zeros, flushes, and removes it: on a disk that writes in place this
/// leaves no plaintext behind; on an SSD or copy-on-write file system the old blocks may
/// survive (docs/security.md), which full-disk encryption covers.
pub fn scrub_and_remove(path: &Path) -> Result<()> {
    let len = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut f = std::fs::OpenOptions::new().write(true).open(path).map_err(|e| Error::io(path, e))?;
    let zeros = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        f.write_all(&zeros[..n]).map_err(|e| Error::io(path, e))?;
        left -= n as u64;
    }
    f.sync_all().map_err(|e| Error::io(path, e))?;
    drop(f);
    remove_if_exists(path)
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}
