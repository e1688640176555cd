//! Photos and signature renderings, uploaded separately from the records that refer to them
//! (docs/sync.md "Attachments"). Content-addressed: the name is the SHA-256 of the bytes.
//!
//! Who may do what (issue 10, findings 8 and 13):
//!
//! - **Read** (`GET`, and `HEAD` reporting a finished upload): the office, and a laptop whose
//!   technician either has a work order (assigned to them now, not deleted) with an inspection
//!   answer whose value names the attachment, or completed its upload. Anyone else is answered
//!   404, exactly as for an attachment the server does not hold: a content hash is evidence of
//!   the content, and a 403 would confirm that someone photographed that very file.
//! - **The `attachments` record** (name, media type, size, deletion) is written only by its
//!   *author*, the technician whose laptop pushed it first ([`check_record`], called by the
//!   push); `attachments.author` keeps it.
//! - **Upload**: any enrolled laptop may send bytes, but an upload in progress is the sending
//!   laptop's own (`attachment_uploads`): its offset, its declared size (`Upload-Length`), its
//!   bytes. Nobody else's declaration can make it fail. The first upload whose bytes hash to the
//!   name completes the attachment; bytes that reach the declared size without matching are
//!   thrown away and that laptop starts over. Each laptop's stored bytes (completed uploads and
//!   its unfinished ones) are limited by a quota ([`quota`], setting `attachment_quota_bytes`,
//!   default 2 GiB); one file by [`MAX_ATTACHMENT_BYTES`].
//!
//! Bytes are stored in the database in chunks, so several servers can share one PostgreSQL.

use fieldbook_core::sync::protocol::PushEntry;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::db::Tx;
use crate::error::{Error, Result};
use crate::feed::Writer;
use crate::{params, records};

/// Largest attachment accepted (a phone photo is a few MiB; a scanned PDF maybe tens).
pub const MAX_ATTACHMENT_BYTES: i64 = 256 * 1024 * 1024;
/// Largest chunk in one `PATCH`.
pub const MAX_CHUNK_BYTES: usize = 8 * 1024 * 1024;
/// Bytes of attachments one laptop may have on the server unless the `settings` row
/// [`QUOTA_SETTING`] says otherwise (`fieldbook-server attachment-quota`).
pub const DEFAULT_QUOTA_BYTES: i64 = 2 * 1024 * 1024 * 1024;
/// The `settings` key of the per-laptop quota, in bytes.
pub const QUOTA_SETTING: &str = "attachment_quota_bytes";

/// The name of an attachment, checked: 64 hex characters, lower-cased.
pub fn parse_name(s: &str) -> Result<String> {
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(Error::Invalid(format!("'{s}' is not an attachment name (the SHA-256 of its content: 64 hex characters)")))
    }
}

/// Sizes for people: "2 GiB", "300 MiB", "5,000 bytes".
pub fn describe_bytes(n: i64) -> String {
    const MIB: i64 = 1024 * 1024;
    if n >= 1024 * MIB && n % (1024 * MIB) == 0 {
        format!("{} GiB", n / (1024 * MIB))
    } else if n >= 10 * MIB {
        format!("{} MiB", n / MIB)
    } else if n >= MIB {
        format!("{:.1} MiB", n as f64 / MIB as f64)
    } else {
        format!("{n} bytes")
    }
}

/// A size as people write it: `2147483648`, `500MiB`, `4 GiB`, `800MB` (MB and GB are read as
/// MiB and GiB).
pub fn parse_size(text: &str) -> Result<i64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim().to_ascii_lowercase());
    let factor: i64 = match unit.as_str() {
        "" | "b" | "bytes" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        "g" | "gb" | "gib" => 1024 * 1024 * 1024,
        _ => 0,
    };
    number
        .parse::<i64>()
        .ok()
        .filter(|_| factor > 0)
        .and_then(|n| n.checked_mul(factor))
        .ok_or_else(|| Error::Invalid(format!("'{text}' is not a size; give bytes or a number with KiB, MiB or GiB (e.g. 4GiB)")))
}

/// The per-laptop quota of stored attachment bytes.
pub fn quota(tx: &mut dyn Tx) -> Result<i64> {
    let row = tx.query_opt("SELECT value FROM settings WHERE key = $1", params![QUOTA_SETTING])?;
    match row {
        None => Ok(DEFAULT_QUOTA_BYTES),
        Some(r) => {
            let v = r.text(0)?;
            v.trim().parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| Error::Internal(format!("the setting {QUOTA_SETTING} is '{v}', not a number of bytes")))
        }
    }
}

/// Sets the per-laptop quota (`None`: back to the default).
pub fn set_quota(tx: &mut dyn Tx, bytes: Option<i64>) -> Result<()> {
    match bytes {
        Some(n) if n < 0 => Err(Error::Invalid(format!("an attachment quota of {n} bytes makes no sense; give 0 or more"))),
        Some(n) => tx
            .execute(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![QUOTA_SETTING, n.to_string()],
            )
            .map(drop),
        None => tx.execute("DELETE FROM settings WHERE key = $1", params![QUOTA_SETTING]).map(drop),
    }
}

/// The laptop sending or asking, as the upload rules need it.
#[derive(Debug, Clone)]
pub struct Uploader<'a> {
    pub device_id: &'a str,
    pub technician: &'a str,
}

/// What the server holds of one attachment, as one laptop may see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UploadState {
    pub sha256: String,
    /// Bytes received so far (the `Upload-Offset`).
    pub offset: i64,
    pub byte_size: Option<i64>,
    pub complete: bool,
    pub media_type: Option<String>,
}

/// The finished attachment: size and media type.
struct Finished {
    byte_size: i64,
    media_type: Option<String>,
}

fn finished(tx: &mut dyn Tx, sha: &str) -> Result<Option<Finished>> {
    let row = tx.query_opt("SELECT byte_size, media_type FROM attachments WHERE sha256 = $1 AND complete = 1", params![sha])?;
    row.map(|r| Ok(Finished { byte_size: r.opt_int(0)?.unwrap_or(0), media_type: r.opt_text(1)? })).transpose()
}

fn complete_state(sha: &str, f: Finished) -> UploadState {
    UploadState { sha256: sha.to_owned(), offset: f.byte_size, byte_size: Some(f.byte_size), complete: true, media_type: f.media_type }
}

/// May this technician's laptops read the attachment? (See the module docs.)
pub fn may_read(tx: &mut dyn Tx, technician: &str, sha: &str) -> Result<bool> {
    let uploaded_by = tx.query_opt("SELECT uploaded_by FROM attachments WHERE sha256 = $1 AND complete = 1", params![sha])?;
    if uploaded_by.map(|r| r.opt_text(0)).transpose()?.flatten().as_deref() == Some(technician) {
        return Ok(true);
    }
    refers(tx, technician, sha)
}

/// Does an inspection answer of one of the technician's current work orders name `sha` in its
/// value? A text search narrows the answers down; each candidate's value is then read as the
/// feed's scope grants read it.
fn refers(tx: &mut dyn Tx, technician: &str, sha: &str) -> Result<bool> {
    let pattern = format!("%{sha}%");
    let rows = tx.query(
        "SELECT r.fields FROM work_order_index w JOIN records r ON r.entity = 'inspection_answers' AND r.owner_id = w.id
         WHERE w.technician = $1 AND w.deleted = 0 AND r.fields LIKE $2",
        params![technician, pattern.as_str()],
    )?;
    for r in rows {
        let fields: Value = serde_json::from_str(&r.text(0)?).map_err(|e| Error::Internal(format!("stored fields of an inspection answer are not JSON: {e}")))?;
        let mut ids = std::collections::BTreeSet::new();
        if let Some(v) = fields.get("value") {
            crate::feed::collect_attachment_ids(v, &mut ids);
        }
        if ids.contains(sha) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The size the record's author declared, for their own laptops' uploads only.
fn authors_size(tx: &mut dyn Tx, sha: &str, technician: &str) -> Result<Option<i64>> {
    let author = tx.query_opt("SELECT author FROM attachments WHERE sha256 = $1", params![sha])?;
    if author.map(|r| r.opt_text(0)).transpose()?.flatten().as_deref() != Some(technician) {
        return Ok(None);
    }
    Ok(records::load(tx, "attachments", sha)?.and_then(|r| records::int(&r, "byte_size")))
}

/// This laptop's upload in progress: (received, declared size).
fn own_upload(tx: &mut dyn Tx, sha: &str, device_id: &str) -> Result<Option<(i64, Option<i64>)>> {
    let row = tx.query_opt("SELECT received_bytes, byte_size FROM attachment_uploads WHERE sha256 = $1 AND device_id = $2", params![sha, device_id])?;
    row.map(|r| Ok((r.int(0)?, r.opt_int(1)?))).transpose()
}

/// May this laptop be told that the finished attachment is there: its technician may read it,
/// or the laptop itself sent all of its bytes (proof that it holds them).
fn sees_finished(tx: &mut dyn Tx, sha: &str, f: &Finished, who: &Uploader<'_>) -> Result<bool> {
    if may_read(tx, who.technician, sha)? {
        return Ok(true);
    }
    Ok(own_upload(tx, sha, who.device_id)?.is_some_and(|(received, _)| received == f.byte_size))
}

/// What `HEAD` answers a laptop: the finished attachment if it may know of it, otherwise its
/// own upload in progress (nothing of anyone else's).
pub fn state(tx: &mut dyn Tx, sha: &str, who: &Uploader<'_>) -> Result<UploadState> {
    if let Some(f) = finished(tx, sha)? {
        if sees_finished(tx, sha, &f, who)? {
            return Ok(complete_state(sha, f));
        }
    }
    let (offset, declared) = own_upload(tx, sha, who.device_id)?.unwrap_or((0, None));
    let byte_size = match declared {
        Some(n) => Some(n),
        None => authors_size(tx, sha, who.technician)?,
    };
    Ok(UploadState { sha256: sha.to_owned(), offset, byte_size, complete: false, media_type: None })
}

/// The finished attachment, for a download by someone allowed to read it.
pub fn download_state(tx: &mut dyn Tx, sha: &str) -> Result<Option<UploadState>> {
    Ok(finished(tx, sha)?.map(|f| complete_state(sha, f)))
}

/// Bytes of attachments this laptop holds on the server: the uploads it completed and its
/// unfinished ones (at their declared size), but for `except`. An upload of content someone
/// else had already completed stores nothing and counts nothing.
pub fn quota_used(tx: &mut dyn Tx, device_id: &str, except: &str) -> Result<i64> {
    let done = tx.query_one("SELECT CAST(COALESCE(SUM(byte_size), 0) AS BIGINT) FROM attachments WHERE uploaded_device = $1 AND complete = 1", params![device_id])?.int(0)?;
    let open = tx
        .query_one(
            "SELECT CAST(COALESCE(SUM(COALESCE(u.byte_size, u.received_bytes)), 0) AS BIGINT) FROM attachment_uploads u
             WHERE u.device_id = $1 AND u.sha256 <> $2 AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = u.sha256 AND a.complete = 1)",
            params![device_id, except],
        )?
        .int(0)?;
    Ok(done + open)
}

/// What a `PATCH` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Appended {
    /// Accepted (or already complete: nothing needed).
    Held(UploadState),
    /// The bytes reached the expected size but hash to something else: they were discarded.
    WrongContent { expected_size: i64 },
}

fn too_big(sha: &str, n: i64) -> Error {
    Error::TooLarge(format!(
        "attachment {sha} has {n} bytes ({}); the server accepts files of at most {} each. Make the photo smaller (a lower resolution) or split the document, and attach it again",
        describe_bytes(n),
        describe_bytes(MAX_ATTACHMENT_BYTES)
    ))
}

/// Appends `bytes` at `offset` to this laptop's upload of `sha`. Runs in a `Mode::Write`
/// transaction.
pub fn append(tx: &mut dyn Tx, sha: &str, offset: i64, upload_length: Option<i64>, bytes: &[u8], who: &Uploader<'_>) -> Result<Appended> {
    let now = crate::now_text();
    tx.execute(
        "INSERT INTO attachments (sha256, received_bytes, complete, created_at) VALUES ($1, 0, 0, $2) ON CONFLICT (sha256) DO NOTHING",
        params![sha, now.as_str()],
    )?;
    // A no-op update takes the row lock on PostgreSQL (SQLite's writer already holds the file):
    // uploads of the same content take turns, so only one completes it.
    tx.execute("UPDATE attachments SET received_bytes = received_bytes WHERE sha256 = $1", params![sha])?;
    if let Some(f) = finished(tx, sha)? {
        if sees_finished(tx, sha, &f, who)? {
            return Ok(Appended::Held(complete_state(sha, f))); // never uploaded twice
        }
        // Someone else's, done: this laptop proves it holds the bytes by sending them, and
        // learns nothing before.
    }
    tx.execute(
        "INSERT INTO attachment_uploads (sha256, device_id, technician, received_bytes, started_at) VALUES ($1, $2, $3, 0, $4) ON CONFLICT (sha256, device_id) DO NOTHING",
        params![sha, who.device_id, who.technician, now.as_str()],
    )?;
    let (received, declared) = own_upload(tx, sha, who.device_id)?.unwrap_or((0, None));
    if offset != received {
        return Err(Error::Conflict { message: format!("the server holds {received} bytes of {sha} from this laptop; continue from there (Upload-Offset)"), upload_offset: Some(received) });
    }
    let declared = match (declared, upload_length) {
        // Nothing received yet: the laptop may correct what it said.
        (_, Some(sent)) if received == 0 => Some(sent),
        (Some(d), Some(sent)) if d != sent => {
            return Err(Error::Invalid(format!(
                "Upload-Length {sent} differs from the {d} bytes this laptop declared for {sha} when it began; send the rest of the same file, or start again from offset 0"
            )))
        }
        (d, sent) => d.or(sent),
    };
    let expected = match declared {
        Some(n) => Some(n),
        None => authors_size(tx, sha, who.technician)?,
    };
    if let Some(n) = expected {
        if n > MAX_ATTACHMENT_BYTES {
            return Err(too_big(sha, n));
        }
    }
    let after = received + bytes.len() as i64;
    let limit = quota(tx)?;
    let used = quota_used(tx, who.device_id, sha)?;
    let wanted = expected.unwrap_or(after);
    if used + wanted > limit {
        return Err(Error::TooLarge(format!(
            "attachment {sha} ({}) would take this laptop past its quota: it already has {} of photos and files on the server, and each laptop may store {}. \
             Nothing is lost: the file stays on this laptop and is uploaded at a later sync. Ask the office to raise the limit \
             (an administrator runs `fieldbook-server attachment-quota --set SIZE`); unfinished uploads of this laptop count too and are freed when they complete",
            describe_bytes(wanted),
            describe_bytes(used),
            describe_bytes(limit)
        )));
    }
    match expected {
        Some(n) if after > n => return Err(Error::Invalid(format!("{sha} has {n} bytes; this chunk would take it to {after}"))),
        None if after > MAX_ATTACHMENT_BYTES => return Err(too_big(sha, after)),
        _ => {}
    }
    if !bytes.is_empty() {
        tx.execute(
            "INSERT INTO attachment_upload_chunks (sha256, device_id, chunk_offset, data) VALUES ($1, $2, $3, $4)",
            params![sha, who.device_id, received, bytes],
        )?;
    }
    tx.execute(
        "UPDATE attachment_uploads SET received_bytes = $1, byte_size = $2 WHERE sha256 = $3 AND device_id = $4",
        params![after, declared, sha, who.device_id],
    )?;
    // Hash only when it can be the end: at the expected size, or after every chunk when the
    // size is unknown.
    if expected.is_none_or(|n| after == n) && (after > 0 || expected == Some(0)) {
        if upload_hash(tx, sha, who.device_id)? == sha {
            return complete(tx, sha, after, who, &now).map(Appended::Held);
        } else if let Some(n) = expected {
            tx.execute("DELETE FROM attachment_upload_chunks WHERE sha256 = $1 AND device_id = $2", params![sha, who.device_id])?;
            tx.execute("DELETE FROM attachment_uploads WHERE sha256 = $1 AND device_id = $2", params![sha, who.device_id])?;
            return Ok(Appended::WrongContent { expected_size: n });
        }
    }
    Ok(Appended::Held(UploadState { sha256: sha.to_owned(), offset: after, byte_size: expected, complete: false, media_type: None }))
}

/// This laptop's bytes hash to the name: they become the attachment (unless another upload
/// got there first), and every upload in progress of it is dropped. When another upload got
/// there first, this laptop's upload stays as a marker without bytes (its proof of holding
/// them: its `HEAD` then says complete and it does not send them again).
fn complete(tx: &mut dyn Tx, sha: &str, size: i64, who: &Uploader<'_>, now: &str) -> Result<UploadState> {
    if finished(tx, sha)?.is_some() {
        tx.execute("DELETE FROM attachment_upload_chunks WHERE sha256 = $1", params![sha])?;
        tx.execute("DELETE FROM attachment_uploads WHERE sha256 = $1 AND device_id <> $2", params![sha, who.device_id])?;
    } else {
        tx.execute("DELETE FROM attachment_chunks WHERE sha256 = $1", params![sha])?;
        tx.execute(
            "INSERT INTO attachment_chunks (sha256, chunk_offset, data) SELECT sha256, chunk_offset, data FROM attachment_upload_chunks WHERE sha256 = $1 AND device_id = $2",
            params![sha, who.device_id],
        )?;
        let media_type = records::load(tx, "attachments", sha)?.and_then(|r| records::text(&r, "media_type").map(str::to_owned));
        tx.execute(
            "UPDATE attachments SET complete = 1, byte_size = $1, received_bytes = $1, media_type = COALESCE(media_type, $2), uploaded_by = $3, uploaded_device = $4, completed_at = $5
             WHERE sha256 = $6",
            params![size, media_type.as_deref(), who.technician, who.device_id, now, sha],
        )?;
        tx.execute("DELETE FROM attachment_upload_chunks WHERE sha256 = $1", params![sha])?;
        tx.execute("DELETE FROM attachment_uploads WHERE sha256 = $1", params![sha])?;
    }
    let f = finished(tx, sha)?.ok_or_else(|| Error::Internal(format!("attachment {sha} was just completed but is not there")))?;
    Ok(complete_state(sha, f))
}

/// The chunk starting at or after `from` (offset and bytes), for streaming a download one chunk
/// at a time.
pub fn chunk_from(tx: &mut dyn Tx, sha: &str, from: i64) -> Result<Option<(i64, Vec<u8>)>> {
    let row = tx.query_opt("SELECT chunk_offset, data FROM attachment_chunks WHERE sha256 = $1 AND chunk_offset >= $2 ORDER BY chunk_offset LIMIT 1", params![sha, from])?;
    row.map(|r| Ok((r.int(0)?, r.blob(1)?))).transpose()
}

/// The SHA-256 of one laptop's upload in progress.
fn upload_hash(tx: &mut dyn Tx, sha: &str, device_id: &str) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut from = 0;
    loop {
        let row = tx.query_opt(
            "SELECT chunk_offset, data FROM attachment_upload_chunks WHERE sha256 = $1 AND device_id = $2 AND chunk_offset >= $3 ORDER BY chunk_offset LIMIT 1",
            params![sha, device_id, from],
        )?;
        let Some(r) = row else { break };
        let data = r.blob(1)?;
        hasher.update(&data);
        from = r.int(0)? + data.len() as i64;
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The push's check of an `attachments` record (see the module docs): its id is a SHA-256, its
/// size and texts are sane, and only its author — the technician whose laptop pushed it first —
/// may change it. A first push makes its technician the author. The outer `Result` is for
/// database failures; `Ok(Err(reason))` refuses the entry.
pub fn check_record(w: &mut Writer<'_>, technician: &str, e: &PushEntry) -> Result<std::result::Result<(), String>> {
    let sha = e.record_id.as_str();
    if !(sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))) {
        return Ok(Err("an attachment's id must be the SHA-256 of its content (64 lowercase hex characters)".to_owned()));
    }
    let name = |fields: &serde_json::Map<String, Value>| match records::text_of(fields, "original_name") {
        Some(n) => format!("attachment {sha} ('{n}')"),
        None => format!("attachment {sha}"),
    };
    if let Some(n) = e.fields.get("byte_size").and_then(Value::as_i64) {
        if !(0..=MAX_ATTACHMENT_BYTES).contains(&n) {
            return Ok(Err(format!("{}: byte_size {n} is not a size the server accepts (0 to {} bytes)", name(&e.fields), MAX_ATTACHMENT_BYTES)));
        }
    }
    for field in ["media_type", "original_name", "added_at"] {
        if records::text_of(&e.fields, field).is_some_and(|t| t.chars().count() > 255) {
            return Ok(Err(format!("{}: {field} is longer than 255 characters", name(&e.fields))));
        }
    }
    let row = w.tx_unbuffered().query_opt("SELECT author, complete, byte_size FROM attachments WHERE sha256 = $1", params![sha])?;
    let (author, complete, size) = match row {
        Some(r) => (r.opt_text(0)?, r.bool(1)?, r.opt_int(2)?),
        None => (None, false, None),
    };
    let existing = w.load("attachments", sha)?;
    let stored_name = match &existing {
        Some(s) => name(s.fields()?),
        None => name(&e.fields),
    };
    match author.as_deref() {
        Some(a) if a != technician => {
            return Ok(Err(format!(
                "{stored_name} was added by {a}; only {a}'s laptops can rename, retype, resize or delete it. Your answers may still refer to it; to use a photo of your own, attach it as a new file"
            )))
        }
        None if existing.is_some() => {
            return Ok(Err(format!("{stored_name} was not added from a laptop; only the office can change it")));
        }
        _ => {}
    }
    if let (true, Some(held), Some(said)) = (complete, size, e.fields.get("byte_size").and_then(Value::as_i64)) {
        if held != said {
            return Ok(Err(format!("{stored_name}: byte_size {said} differs from the {held} bytes the server holds (their SHA-256 is the name)")));
        }
    }
    Ok(Ok(()))
}

/// Makes `technician` the author of an attachment record that has none yet: called once every
/// check of the push entry passed (in the push's transaction, so a batch that fails, or an entry
/// refused for any reason, leaves no author behind).
pub fn claim_author(w: &mut Writer<'_>, technician: &str, sha: &str) -> Result<()> {
    w.tx_unbuffered().execute(
        "INSERT INTO attachments (sha256, received_bytes, complete, created_at, author) VALUES ($1, 0, 0, $2, $3)
         ON CONFLICT (sha256) DO UPDATE SET author = COALESCE(attachments.author, excluded.author)",
        params![sha, crate::now_text(), technician],
    )?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_and_written_as_people_write_them() {
        assert_eq!(parse_size("2147483648").unwrap(), DEFAULT_QUOTA_BYTES);
        assert_eq!(parse_size("2GiB").unwrap(), DEFAULT_QUOTA_BYTES);
        assert_eq!(parse_size(" 500 MiB ").unwrap(), 500 * 1024 * 1024);
        assert!(parse_size("lots").unwrap_err().to_string().contains("4GiB"));
        assert!(parse_size("-5").is_err());
        assert!(parse_size("99999999999GiB").is_err());
        assert_eq!(describe_bytes(DEFAULT_QUOTA_BYTES), "2 GiB");
        assert_eq!(describe_bytes(MAX_ATTACHMENT_BYTES), "256 MiB");
        assert_eq!(describe_bytes(600), "600 bytes");
    }
}
