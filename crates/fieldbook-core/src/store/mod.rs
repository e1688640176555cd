//! The laptop's local store: one SQLite file (WAL, foreign keys on) holding everything a
//! technician has, plus its attachments folder beside it.
//!
//! Every change a technician makes goes through [`Store::write`], whose [`Tx::put`] writes the
//! record, stamps each changed field with the hybrid logical clock and appends one outbox entry —
//! all in the one transaction, so a failed write leaves neither a record nor an outbox entry.

mod after_pull;
mod clocks;
mod corrections;
pub use corrections::{Correction, NewCorrection};
pub mod migrate;
mod orders;
mod parts;
mod service_calendar;
mod signing;
pub mod time;
pub mod workshop;
mod import;
pub mod offline_lock;
pub mod restored_server;
pub mod search;
pub mod sync;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::SigningKey;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::at_rest::{self, sealed::AttachmentSeal, StoreKey};
use crate::checklist::ChecklistTemplate;
use crate::entity::{self, FieldType};
use crate::error::{Error, Result};
use crate::private_files;
use crate::hlc::{self, Hlc, HlcClock};

pub use import::ImportSummary;
pub use offline_lock::OfflineLock;
pub use orders::{AnswerInput, OrderFilter, WorkOrderDetail, AssetHistoryEntry, TemplateVersion};
pub use signing::{SignRequest, Verification, SignatureCheck};

/// One change waiting to be sent to the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    pub seq: i64,
    pub entity: String,
    pub record_id: String,
    pub fields: Map<String, Value>,
    pub hlc: String,
    pub created_at: String,
    /// Per changed field, its stamp before this write (null: no value yet).
    pub base: Map<String, Value>,
}

/// This laptop's identity: its id and Ed25519 key.
#[derive(Clone)]
pub struct Device {
    pub id: String,
    pub technician: Option<String>,
    key: SigningKey,
}

impl Device {
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().as_bytes())
    }
    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret key.
        f.debug_struct("Device").field("id", &self.id).field("public_key", &self.public_key_hex()).finish()
    }
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    device: Device,
    /// Parsed templates by id; a stored template version never changes, so this never goes stale.
    templates: HashMap<String, Arc<ChecklistTemplate>>,
    /// The clock used for "now"; tests and benchmarks may pin it.
    now: fn() -> DateTime<Utc>,
    /// Search documents and the WAL checkpoint a pull leaves for a background thread.
    after_pull: after_pull::AfterPull,
    /// Seals attachment files; `None` only for a store opened unencrypted for a benchmark.
    seal: Option<AttachmentSeal>,
    /// Kept for the background connection a pull opens after its last page.
    key: Option<StoreKey>,
    protection: &'static str,
}

/// Timestamps as stored: RFC 3339, UTC, millisecond precision.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn parse_ts(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

/// SQLite's `-wal` or `-shm` file beside a database.
fn sqlite_sidecar(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl Store {
    /// Opens (creating if needed) the store at `path`, encrypted under `key`, and brings its
    /// schema up to date. A plaintext store from before encryption is encrypted in place first
    /// (`at_rest::encrypt`), and its attachments sealed.
    pub fn open(path: &Path, key: &StoreKey) -> Result<Store> {
        Self::open_with(path, Some(key))
    }

    /// Opens a store without encryption. Only for benchmarks that measure what encryption
    /// costs against this floor; Fieldbook itself never opens a store this way.
    #[doc(hidden)]
    pub fn open_unencrypted_for_benchmarks(path: &Path) -> Result<Store> {
        Self::open_with(path, None)
    }

    fn open_with(path: &Path, key: Option<&StoreKey>) -> Result<Store> {
        // Only the laptop's user may read the store (customer data, signatures, the device key):
        // new folders 0700, the store file 0600 before SQLite opens it (its WAL and shared-memory
        // files take that mode), and the folder the app and CLI keep it in by default made
        // private even if an older version made it readable.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_files::create_dir_all(dir)?;
            if Some(dir) == crate::default_db_path().parent() {
                private_files::restrict_dir(dir)?;
            }
        }
        if let Some(key) = key {
            at_rest::encrypt::ensure_encrypted(path, key)?;
        }
        private_files::create_file(path)?;
        let mut conn = Connection::open(path).map_err(|e| Error::io(path, std::io::Error::other(format!("cannot open the database: {e}. Check the --db path"))))?;
        if let Some(key) = key {
            at_rest::encrypt::apply_key(&conn, key)?;
        }
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Fails on a file that is not SQLite, or not encrypted under this key, before anything
        // is written to it.
        migrate::check_not_newer(&conn, path).map_err(|e| match e {
            Error::Sqlite(_) if key.is_some() => Error::WrongKey { path: path.to_owned() },
            Error::Sqlite(s) => Error::io(path, std::io::Error::other(format!("not a Fieldbook database ({s}); check the --db path"))),
            e => e,
        })?;
        // A store made by an older version may be readable by others; now that the file is
        // known to be a Fieldbook store, it and its journal become the user's only.
        for file in [path.to_owned(), sqlite_sidecar(path, "-wal"), sqlite_sidecar(path, "-shm")] {
            private_files::restrict_file(&file)?;
        }
        // WAL lets the desktop app read while a sync writes. synchronous=FULL makes every
        // committed write survive a power cut, not just a killed process: a technician's
        // typing is worth an fsync.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Sorts and temporary tables stay in memory, never in plaintext temporary files.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // One statement text per entity and set of fields written: more than the default 16.
        conn.set_prepared_statement_cache_capacity(256);
        migrate::apply_all(&conn)?;
        // Records a pull inserted whose search documents a crash kept from being built.
        after_pull::index_backlog(&mut conn)?;
        let device = load_or_create_device(&conn)?;
        let protection = match key {
            None => "plaintext",
            Some(_) => at_rest::method(path)?.map_or("encrypted", |m| m.label()),
        };
        let seal = key.map(AttachmentSeal::new);
        let store = Store { conn, path: path.to_owned(), device, templates: HashMap::new(), now: Utc::now, after_pull: Default::default(), seal, key: key.cloned(), protection };
        store.seal_plaintext_attachments()?;
        Ok(store)
    }

    /// How this store is protected at rest, as the laptop reports it to the office:
    /// `encrypted-keyring`, `encrypted-passphrase`, `encrypted-key-file`, `encrypted` (a key handed
    /// in, with no protection file: tests, benchmarks) or `plaintext`.
    pub fn protection_label(&self) -> &'static str {
        self.protection
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Pins "now" (tests, benchmarks, demos of a fixed day).
    pub fn set_clock(&mut self, now: fn() -> DateTime<Utc>) {
        self.now = now;
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.now)()
    }

    /// Read access for queries that have no typed method yet (reports, diagnostics).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The merge's stamp of every stamped field of a record (empty for a record this laptop
    /// does not have).
    pub fn record_stamps(&self, entity: &str, id: &str) -> Result<Map<String, Value>> {
        let spec = entity::spec(entity).ok_or_else(|| Error::invalid(format!("{entity} {id}"), "entity", format!("'{entity}' is not a synced entity")))?;
        clocks::load(&self.conn, spec, id)
    }

    /// The folder beside the database where attachments are kept by content hash.
    pub fn attachments_dir(&self) -> PathBuf {
        let mut name = self.path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".attachments");
        self.path.with_file_name(name)
    }

    pub fn set_technician(&mut self, login: &str) -> Result<()> {
        self.conn.execute("UPDATE device SET technician = ?1", [login])?;
        self.device.technician = Some(login.to_owned());
        Ok(())
    }

    /// Runs `f` in one immediate transaction: everything it writes, including outbox entries,
    /// commits together or not at all.
    pub fn write<T>(&mut self, f: impl FnOnce(&mut Tx<'_>) -> Result<T>) -> Result<T> {
        let now = (self.now)();
        self.after_pull.settle(&self.conn)?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The clock's last stamp is read inside the transaction, so two processes writing the
        // same file (the app and the CLI) still issue increasing stamps.
        let last: Option<String> = tx.query_row("SELECT value FROM settings WHERE key = 'hlc'", [], |r| r.get(0)).optional()?;
        let last = last.and_then(|s| s.parse::<Hlc>().ok());
        let mut w = Tx { tx, clock: HlcClock::new(self.device.id.clone(), last), now, dirty_clock: false };
        let out = f(&mut w)?;
        if w.dirty_clock {
            w.tx.execute(
                "INSERT INTO settings(key, value) VALUES ('hlc', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [w.clock.last().to_string()],
            )?;
        }
        w.tx.commit()?;
        Ok(out)
    }

    /// Changes not yet acknowledged by the server, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        let mut stmt = self.conn.prepare_cached("SELECT seq, entity, record_id, fields, hlc, created_at, base FROM outbox ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            let fields: String = r.get(3)?;
            Ok(OutboxEntry {
                seq: r.get(0)?,
                entity: r.get(1)?,
                record_id: r.get(2)?,
                fields: serde_json::from_str(&fields).unwrap_or_default(),
                hlc: r.get(4)?,
                created_at: r.get(5)?,
                base: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn outbox_len(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?)
    }

    pub(crate) fn template(&mut self, id: &str) -> Result<Arc<ChecklistTemplate>> {
        if let Some(t) = self.templates.get(id) {
            return Ok(t.clone());
        }
        let body: String = self
            .conn
            .query_row("SELECT body FROM checklist_templates WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or(Error::NotFound { entity: "checklist template", key: id.to_owned(), hint: "; sync or import the template first" })?;
        let tpl: ChecklistTemplate = serde_json::from_str(&body).map_err(|source| Error::Corrupt { what: format!("checklist template {id}"), source })?;
        let tpl = Arc::new(tpl);
        self.templates.insert(id.to_owned(), tpl.clone());
        Ok(tpl)
    }

    /// Copies a file into the content-addressed attachment folder and records it. Adding the same
    /// content twice gives the same attachment.
    pub fn attach_file(&mut self, file: &Path, media_type: Option<&str>) -> Result<crate::model::Attachment> {
        let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        let media_type = media_type.map(str::to_owned).unwrap_or_else(|| guess_media_type(file).to_owned());
        self.attach_bytes(&bytes, &media_type, name.as_deref())
    }

    pub fn attach_bytes(&mut self, bytes: &[u8], media_type: &str, original_name: Option<&str>) -> Result<crate::model::Attachment> {
        use sha2::{Digest, Sha256};
        let id = hex::encode(Sha256::digest(bytes));
        let dest = self.attachment_path(&id);
        if !dest.exists() {
            let sealed = self.seal.as_ref().map(|s| s.seal(&id, bytes));
            self.write_attachment_file(&id, sealed.as_deref().unwrap_or(bytes))?;
        }
        let att = crate::model::Attachment { id: id.clone(), media_type: media_type.to_owned(), byte_size: bytes.len() as i64, original_name: original_name.map(str::to_owned) };
        let exists: bool = self.conn.query_row("SELECT count(*) FROM attachments WHERE id = ?1", [&id], |r| r.get::<_, i64>(0))? > 0;
        if !exists {
            self.write(|tx| {
                let now = ts(tx.now());
                tx.put("attachments", &id, &[
                    ("media_type", att.media_type.clone().into()),
                    ("byte_size", att.byte_size.into()),
                    ("original_name", att.original_name.clone().into()),
                    ("added_at", now.into()),
                ])
            })?;
        }
        Ok(att)
    }

    /// Writes an attachment's file under its content's name, through a temporary name and a
    /// rename, so a crash never leaves a partial file under that name.
    fn write_attachment_file(&self, id: &str, bytes: &[u8]) -> Result<()> {
        let dest = self.attachment_path(id);
        let dir = dest.parent().expect("an attachment path has a folder");
        // The attachments folder is the store's own: private like the store.
        private_files::create_dir_all(dir)?;
        private_files::restrict_dir(&self.attachments_dir())?;
        let tmp = dir.join(format!("{id}.partial"));
        private_files::write_new(&tmp, bytes)?;
        std::fs::rename(&tmp, &dest).map_err(|e| Error::io(&dest, e))
    }

    /// Where an attachment's (sealed) file is kept.
    pub fn attachment_path(&self, id: &str) -> PathBuf {
        self.attachments_dir().join(id.get(..2).unwrap_or("__")).join(id)
    }

    /// The content of an attachment, unsealed and checked against its id.
    pub fn attachment_bytes(&self, id: &str) -> Result<Vec<u8>> {
        use sha2::{Digest, Sha256};
        let path = self.attachment_path(id);
        let stored = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let plain = match &self.seal {
            Some(seal) => seal.open(id, &stored).ok_or_else(|| Error::io(&path, std::io::Error::other("the attachment file is damaged or was not sealed by this store; sync again to fetch it from the office")))?,
            None => stored,
        };
        if hex::encode(Sha256::digest(&plain)) != id {
            return Err(Error::io(&path, std::io::Error::other("the attachment's content does not match its id; the file was changed outside Fieldbook")));
        }
        Ok(plain)
    }

    /// Seals attachment files an older Fieldbook left in plaintext, each replaced through a
    /// rename so a crash leaves it plaintext or sealed, never torn; the store notes when none
    /// are left so later opens skip the walk.
    fn seal_plaintext_attachments(&self) -> Result<()> {
        let Some(seal) = &self.seal else { return Ok(()) };
        let done: Option<String> = self.conn.query_row("SELECT value FROM settings WHERE key = 'attachments_sealed'", [], |r| r.get(0)).optional()?;
        if done.is_some() {
            return Ok(());
        }
        let root = self.attachments_dir();
        if root.exists() {
            for shard in std::fs::read_dir(&root).map_err(|e| Error::io(&root, e))? {
                let shard = shard.map_err(|e| Error::io(&root, e))?.path();
                if !shard.is_dir() {
                    continue;
                }
                for file in std::fs::read_dir(&shard).map_err(|e| Error::io(&shard, e))? {
                    let file = file.map_err(|e| Error::io(&shard, e))?.path();
                    let Some(id) = file.file_name().and_then(|n| n.to_str()).filter(|n| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit())) else {
                        // A `.partial` from a crash: never renamed into place, never recorded.
                        let _ = std::fs::remove_file(&file);
                        continue;
                    };
                    let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
                    if !at_rest::sealed::is_sealed(&bytes) {
                        self.write_attachment_file(id, &seal.seal(id, &bytes))?;
                    }
                }
            }
        }
        self.conn.execute("INSERT INTO settings(key, value) VALUES ('attachments_sealed', ?1) ON CONFLICT(key) DO NOTHING", [ts(Utc::now())])?;
        Ok(())
    }
}

fn guess_media_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}

fn load_or_create_device(conn: &Connection) -> Result<Device> {
    let row: Option<(String, Vec<u8>, Option<String>)> =
        conn.query_row("SELECT id, secret_key, technician FROM device", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
    if let Some((id, secret, technician)) = row {
        let seed: [u8; 32] = secret.try_into().map_err(|_| Error::io("device key", std::io::Error::other("the stored device key is not 32 bytes; the database was edited outside Fieldbook")))?;
        return Ok(Device { id, technician, key: SigningKey::from_bytes(&seed) });
    }
    let seed: [u8; 32] = rand::random();
    let key = SigningKey::from_bytes(&seed);
    let id = uuid::Uuid::now_v7().to_string();
    conn.execute(
        "INSERT INTO device(id, secret_key, public_key, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, seed.to_vec(), key.verifying_key().as_bytes().to_vec(), ts(Utc::now())],
    )?;
    Ok(Device { id, technician: None, key })
}

/// A write transaction. [`Tx::put`] is the one way a synced record changes.
pub struct Tx<'c> {
    tx: rusqlite::Transaction<'c>,
    clock: HlcClock,
    now: DateTime<Utc>,
    dirty_clock: bool,
}

impl Tx<'_> {
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    pub fn conn(&self) -> &Connection {
        &self.tx
    }

    /// Inserts or updates record `id` of `entity` with `fields`, stamps each field with one
    /// fresh clock value and appends one outbox entry carrying exactly these fields.
    pub fn put(&mut self, entity: &str, id: &str, fields: &[(&str, Value)]) -> Result<()> {
        self.put_inner(entity, id, fields, true)
    }

    /// Like [`Tx::put`] but without an outbox entry: for reference data loaded onto this laptop
    /// by `import`, which the office's server holds already and a laptop must not push.
    pub fn put_reference(&mut self, entity: &str, id: &str, fields: &[(&str, Value)]) -> Result<()> {
        self.put_inner(entity, id, fields, false)
    }

    fn put_inner(&mut self, entity: &str, id: &str, fields: &[(&str, Value)], outbox: bool) -> Result<()> {
        // The stamps this laptop had before the write: the outbox's `base`, which lets the
        // server tell an informed overwrite from a concurrent one.
        let base = if outbox { self.field_clocks(entity, id)? } else { Map::new() };
        if outbox {
            self.check_policy(entity, id, fields)?;
        }
        self.write_row(entity, id, fields)?;
        let stamp = self.clock.tick(hlc::wall_clock_ms()).to_string();
        self.dirty_clock = true;
        self.set_clocks(entity, id, fields.iter().map(|(f, _)| (*f, stamp.as_str())))?;
        if !outbox {
            return Ok(());
        }
        let base: Map<String, Value> = fields.iter().map(|(f, _)| ((*f).to_owned(), base.get(*f).cloned().unwrap_or(Value::Null))).collect();
        let map: Map<String, Value> = fields.iter().map(|(f, v)| ((*f).to_owned(), v.clone())).collect();
        self.tx
            .prepare_cached("INSERT INTO outbox(entity, record_id, fields, hlc, created_at, base) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
            .execute(params![entity, id, Value::Object(map).to_string(), stamp, ts(self.now), Value::Object(base).to_string()])?;
        Ok(())
    }

    /// Refuses a technician's write that the server's write policy would refuse
    /// (`crate::policy`), before it reaches the outbox: what the laptop cannot get accepted it
    /// must not promise the technician. References to other records are the server's to check.
    fn check_policy(&self, entity: &str, id: &str, fields: &[(&str, Value)]) -> Result<()> {
        let map: Map<String, Value> = fields.iter().map(|(f, v)| ((*f).to_owned(), v.clone())).collect();
        let policy = entity::policy(entity).unwrap_or_else(|| panic!("'{entity}' has no write policy"));
        let spec = entity::spec(entity).expect("every policy has its entity");
        // Only the fields that may not change are compared with the stored record.
        let fixed: Vec<&str> = fields.iter().map(|(f, _)| *f).filter(|f| policy.field(f).is_some_and(|r| r.writer != entity::Writer::Technician)).collect();
        let sql = format!("SELECT id{} FROM {entity} WHERE id = ?1", fixed.iter().map(|f| format!(", {f}")).collect::<String>());
        let stored = self
            .tx
            .prepare_cached(&sql)?
            .query_row([id], |r| {
                let mut m = Map::new();
                for (i, f) in fixed.iter().enumerate() {
                    let ty = spec.field(f).expect("policy fields are whitelisted");
                    m.insert((*f).to_owned(), entity::from_sql(ty, r.get_ref(i + 1)?));
                }
                Ok(m)
            })
            .optional()?;
        crate::policy::check_laptop_write(entity, id, &map, stored.as_ref())
            .map(|_| ())
            .map_err(|why| Error::invalid(format!("{} {id}", crate::policy::singular(entity)), fields.first().map_or("", |(f, _)| *f), format!("the server would refuse this change: {why}")))
    }

    /// The stamp of every field of a record on this laptop.
    pub(crate) fn field_clocks(&self, entity: &str, id: &str) -> Result<Map<String, Value>> {
        let spec = entity::spec(entity).unwrap_or_else(|| panic!("'{entity}' is not a synced entity"));
        clocks::load(&self.tx, spec, id)
    }

    /// Stamps the given fields of a record, keeping the stamps of its other fields.
    pub(crate) fn set_clocks<'a>(&mut self, entity: &str, id: &str, stamps: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<()> {
        let spec = entity::spec(entity).unwrap_or_else(|| panic!("'{entity}' is not a synced entity"));
        let stamps: Map<String, Value> = stamps.into_iter().map(|(f, s)| (f.to_owned(), Value::String(s.to_owned()))).collect();
        let sql = format!("UPDATE {} SET clocks = {} WHERE id = ?1", spec.name, clocks::MERGE);
        let compact = clocks::encode(spec, &stamps);
        let updated = self.tx.prepare_cached(&sql)?.execute(params![id, compact, Value::Object(stamps).to_string()])?;
        // Stamps live in the record's row, which `write_row` wrote in this transaction; stamps
        // with nowhere to go must fail the write rather than vanish.
        if updated != 1 {
            return Err(Error::invalid(format!("{entity} {id}"), "clocks", "the record has no row to hold its field stamps; this is a bug in Fieldbook, please report it"));
        }
        Ok(())
    }

    /// Writes fields of one record (updating it, or inserting it when new). Field names come
    /// from the entity whitelist, never from input, so they are safe to put in SQL.
    pub(crate) fn write_row(&mut self, entity: &str, id: &str, fields: &[(&str, Value)]) -> Result<()> {
        let spec = entity::spec(entity).unwrap_or_else(|| panic!("'{entity}' is not a synced entity"));
        let types: Vec<FieldType> = fields
            .iter()
            .map(|(f, _)| spec.field(f).unwrap_or_else(|| panic!("'{entity}.{f}' is not a synced field")))
            .collect();
        let names: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
        let mut values: Vec<rusqlite::types::Value> = Vec::with_capacity(fields.len() + 1);
        values.push(id.to_owned().into());
        values.extend(fields.iter().zip(&types).map(|((_, v), t)| entity::to_sql(*t, v)));
        // An update names only the changed fields, so it cannot be an INSERT … ON CONFLICT
        // (the insert half would trip NOT NULL columns it does not name).
        let update = format!(
            "UPDATE {entity} SET {sets} WHERE id = ?1",
            sets = names.iter().enumerate().map(|(i, n)| format!("{n} = ?{}", i + 2)).collect::<Vec<_>>().join(", "),
        );
        let changed = self.tx.prepare_cached(&update)?.execute(rusqlite::params_from_iter(&values))?;
        if changed == 0 {
            let insert = format!(
                "INSERT INTO {entity} (id, {cols}) VALUES (?1, {vals})",
                cols = names.join(", "),
                vals = (0..names.len()).map(|i| format!("?{}", i + 2)).collect::<Vec<_>>().join(", "),
            );
            self.tx.prepare_cached(&insert)?.execute(rusqlite::params_from_iter(&values))?;
        }
        Ok(())
    }

    /// Moves this laptop's clock past a stamp seen from another replica.
    pub(crate) fn observe(&mut self, stamp: &str) {
        if let Ok(h) = stamp.parse::<Hlc>() {
            self.clock.observe(&h, hlc::wall_clock_ms());
            self.dirty_clock = true;
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod fixtures {
    use super::Store;
    use crate::at_rest::StoreKey;
    use crate::import::ImportDocument;

    /// The key of every test store.
    pub fn key() -> StoreKey {
        StoreKey::from_bytes([0x5a; 32])
    }

    /// A store in a temporary folder loaded with the demo company.
    pub fn demo_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("fieldbook.db"), &key()).unwrap();
        s.import(&ImportDocument::from_json(include_str!("../../../../demo/fire-protection.json"), "demo").unwrap(), "demo").unwrap();
        (dir, s)
    }
}
