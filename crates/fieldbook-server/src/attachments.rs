//! Photos and signature renderings, uploaded separately from the records that refer to them
//! (docs/sync.md "Attachments"). Content-addressed: the name is the SHA-256 of the bytes.
//!
//! An upload is resumable: `HEAD` tells how many bytes the server holds, each `PATCH` appends the
//! next chunk at exactly that offset. The upload is complete when the bytes hash to the name;
//! when the expected size is known (an `Upload-Length` header, or the synced `attachments`
//! record) and the bytes reach it without matching, they are thrown away and the upload starts
//! over. Bytes are stored in the database in chunks, so several servers can share one PostgreSQL.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::Tx;
use crate::error::{Error, Result};
use crate::{params, records};

/// Largest attachment accepted (a phone photo is a few MiB; a scanned PDF maybe tens).
pub const MAX_ATTACHMENT_BYTES: i64 = 256 * 1024 * 1024;
/// Largest chunk in one `PATCH`.
pub const MAX_CHUNK_BYTES: usize = 8 * 1024 * 1024;

/// The name of an attachment, checked: 64 hex characters, lower-cased.
pub fn parse_name(s: &str) -> Result<String> {
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(Error::Invalid(format!("'{s}' is not an attachment name (the SHA-256 of its content: 64 hex characters)")))
    }
}

/// What the server holds of one attachment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UploadState {
    pub sha256: String,
    /// Bytes received so far (the `Upload-Offset`).
    pub offset: i64,
    pub byte_size: Option<i64>,
    pub complete: bool,
    pub media_type: Option<String>,
}

/// The size and media type the laptop declared in the synced `attachments` record, if any.
fn declared(tx: &mut dyn Tx, sha: &str) -> Result<(Option<i64>, Option<String>)> {
    Ok(match records::load(tx, "attachments", sha)? {
        Some(r) => (records::int(&r, "byte_size"), records::text(&r, "media_type").map(str::to_owned)),
        None => (None, None),
    })
}

pub fn state(tx: &mut dyn Tx, sha: &str) -> Result<UploadState> {
    let row = tx.query_opt("SELECT received_bytes, byte_size, complete, media_type FROM attachments WHERE sha256 = $1", params![sha])?;
    let (offset, byte_size, complete, media_type) = match row {
        Some(r) => (r.int(0)?, r.opt_int(1)?, r.bool(2)?, r.opt_text(3)?),
        None => (0, None, false, None),
    };
    let (declared_size, declared_type) = declared(tx, sha)?;
    Ok(UploadState { sha256: sha.to_owned(), offset, byte_size: byte_size.or(declared_size), complete, media_type: media_type.or(declared_type) })
}

/// What a `PATCH` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Appended {
    /// Accepted (or already complete: nothing needed).
    Held(UploadState),
    /// The bytes reached the expected size but hash to something else: they were discarded.
    WrongContent { expected_size: i64 },
}

/// Appends `bytes` at `offset`. Runs in a `Mode::Write` transaction.
pub fn append(tx: &mut dyn Tx, sha: &str, offset: i64, upload_length: Option<i64>, bytes: &[u8], uploaded_by: &str) -> Result<Appended> {
    let now = crate::now_text();
    tx.execute(
        "INSERT INTO attachments (sha256, received_bytes, complete, created_at, uploaded_by) VALUES ($1, 0, 0, $2, $3) ON CONFLICT (sha256) DO NOTHING",
        params![sha, now.as_str(), uploaded_by],
    )?;
    // A no-op update takes the row lock on PostgreSQL (SQLite's writer already holds the file):
    // two laptops uploading the same photo at once take turns.
    tx.execute("UPDATE attachments SET received_bytes = received_bytes WHERE sha256 = $1", params![sha])?;
    let st = state(tx, sha)?;
    if st.complete {
        return Ok(Appended::Held(st)); // never uploaded twice
    }
    if offset != st.offset {
        return Err(Error::Conflict { message: format!("the server holds {} bytes of {sha}; continue from there (Upload-Offset)", st.offset), upload_offset: Some(st.offset) });
    }
    if let (Some(declared), Some(sent)) = (st.byte_size, upload_length) {
        if declared != sent {
            return Err(Error::Invalid(format!("Upload-Length {sent} differs from the size {declared} already declared for {sha}")));
        }
    }
    let expected = st.byte_size.or(upload_length);
    if expected.is_some_and(|n| !(0..=MAX_ATTACHMENT_BYTES).contains(&n)) {
        return Err(Error::TooLarge(format!("attachments are limited to {MAX_ATTACHMENT_BYTES} bytes")));
    }
    let received = st.offset + bytes.len() as i64;
    if received > expected.unwrap_or(MAX_ATTACHMENT_BYTES) {
        return Err(match expected {
            Some(n) => Error::Invalid(format!("{sha} has {n} bytes; this chunk would take it to {received}")),
            None => Error::TooLarge(format!("attachments are limited to {MAX_ATTACHMENT_BYTES} bytes")),
        });
    }
    if !bytes.is_empty() {
        tx.execute("INSERT INTO attachment_chunks (sha256, chunk_offset, data) VALUES ($1, $2, $3)", params![sha, st.offset, bytes])?;
    }
    tx.execute(
        "UPDATE attachments SET received_bytes = $1, byte_size = $2, media_type = COALESCE(media_type, $3) WHERE sha256 = $4",
        params![received, expected, st.media_type.as_deref(), sha],
    )?;
    // Hash only when it can be the end: at the expected size, or after every chunk when the
    // size is unknown.
    if expected.is_none_or(|n| received == n) && (received > 0 || expected == Some(0)) {
        if content_hash(tx, sha)? == sha {
            tx.execute("UPDATE attachments SET complete = 1, byte_size = $1, completed_at = $2 WHERE sha256 = $3", params![received, now.as_str(), sha])?;
        } else if let Some(n) = expected {
            tx.execute("DELETE FROM attachment_chunks WHERE sha256 = $1", params![sha])?;
            tx.execute("UPDATE attachments SET received_bytes = 0 WHERE sha256 = $1", params![sha])?;
            return Ok(Appended::WrongContent { expected_size: n });
        }
    }
    Ok(Appended::Held(state(tx, sha)?))
}

/// The chunk starting at or after `from` (offset and bytes), for streaming a download one chunk
/// at a time.
pub fn chunk_from(tx: &mut dyn Tx, sha: &str, from: i64) -> Result<Option<(i64, Vec<u8>)>> {
    let row = tx.query_opt("SELECT chunk_offset, data FROM attachment_chunks WHERE sha256 = $1 AND chunk_offset >= $2 ORDER BY chunk_offset LIMIT 1", params![sha, from])?;
    row.map(|r| Ok((r.int(0)?, r.blob(1)?))).transpose()
}

fn content_hash(tx: &mut dyn Tx, sha: &str) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut from = 0;
    while let Some((offset, data)) = chunk_from(tx, sha, from)? {
        hasher.update(&data);
        from = offset + data.len() as i64;
    }
    Ok(hex::encode(hasher.finalize()))
}

/// An attachment a synced record names whose bytes have not all arrived.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Missing {
    pub sha256: String,
    pub media_type: Option<String>,
    pub byte_size: Option<i64>,
    pub received_bytes: i64,
    /// The technician whose laptop holds it.
    pub technician: Option<String>,
    pub original_name: Option<String>,
}

/// Attachments referred to by synced records but not (completely) uploaded, for the office.
pub fn missing(tx: &mut dyn Tx) -> Result<Vec<Missing>> {
    let rows = tx.query(
        "SELECT r.id, r.owner_id, a.received_bytes, a.complete FROM records r LEFT JOIN attachments a ON a.sha256 = r.id
         WHERE r.entity = 'attachments' AND (a.complete IS NULL OR a.complete = 0) ORDER BY r.updated_at, r.id",
        params![],
    )?;
    let mut out = Vec::new();
    for r in rows {
        let sha = r.text(0)?;
        let Some(record) = records::load(tx, "attachments", &sha)? else { continue };
        if record.fields.get("deleted") == Some(&serde_json::Value::Bool(true)) {
            continue;
        }
        out.push(Missing {
            media_type: records::text(&record, "media_type").map(str::to_owned),
            byte_size: records::int(&record, "byte_size"),
            original_name: records::text(&record, "original_name").map(str::to_owned),
            received_bytes: r.opt_int(2)?.unwrap_or(0),
            technician: r.opt_text(1)?,
            sha256: sha,
        });
    }
    Ok(out)
}
