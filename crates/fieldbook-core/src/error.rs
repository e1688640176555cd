//! The core's one error type. Every message names the record and, where there is one, the fix.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with one field of one record, e.g. a reading that is not a number.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldProblem {
    /// The record, in the user's words: `work order WO-2026-0001`, `item pump.pressure`.
    pub record: String,
    /// The field or checklist item key.
    pub field: String,
    /// What is wrong and, where possible, what would be right.
    pub problem: String,
}

impl FieldProblem {
    pub fn new(record: impl Into<String>, field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { record: record.into(), field: field.into(), problem: problem.into() }
    }
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {}: {}", self.record, self.field, self.problem)
    }
}

fn list(problems: &[FieldProblem]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{} invalid:{}", if .0.len() == 1 { "1 field is" } else { "some fields are" }, list(.0))]
    Invalid(Vec<FieldProblem>),

    #[error("{entity} '{key}' not found{hint}")]
    NotFound { entity: &'static str, key: String, hint: &'static str },

    #[error(
        "work order {order} cannot be completed; {} required item(s) unanswered:{}\n\
         answer them (`fieldbook answer {order} --file ANSWERS.json`) and try again",
        .missing.len(), list(.missing)
    )]
    Incomplete { order: String, missing: Vec<FieldProblem> },

    #[error(
        "work order {order} is signed (revision {revision}) and locked: {what} cannot change.\n\
         To correct it, open an amendment (`fieldbook amend {order} --reason \"...\"`); \
         the amended order needs a new customer signature and the signed revision is kept"
    )]
    Locked { order: String, revision: i64, what: String },

    #[error("work order {order}: cannot go from '{from}' to '{to}'{hint}")]
    Transition { order: String, from: String, to: String, hint: String },

    #[error(
        "{path}: the database has schema version {found}, but this Fieldbook only knows up to \
         version {supported}. It was written by a newer Fieldbook; update Fieldbook to open it \
         (the file has not been changed)"
    )]
    SchemaTooNew { path: PathBuf, found: i64, supported: i64 },

    #[error("import file {source_name}: {} problem(s), nothing was imported:{}", .problems.len(), list(.problems))]
    Import { source_name: String, problems: Vec<FieldProblem> },

    #[error("{path}: {source}")]
    Io { path: PathBuf, #[source] source: std::io::Error },

    #[error("service report: {0}")]
    Report(String),

    #[error("stored {what} is corrupt ({source}); the database was edited outside Fieldbook")]
    Corrupt { what: String, #[source] source: serde_json::Error },

    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),

    #[error(
        "{path}: cannot decrypt the store with this key: it is not the key the store was \
         protected with (another key file, another user's keyring), or the file is not a \
         Fieldbook store. Check --db and --key-file"
    )]
    WrongKey { path: PathBuf },

    #[error("{store}: wrong passphrase; try again (the store is unchanged)")]
    WrongPassphrase { store: PathBuf },

    #[error("the passphrase is too short: use at least {min} characters (a sentence is easy to remember)")]
    WeakPassphrase { min: usize },

    #[error("{store} is protected by {}: {hint}", .method.label())]
    WrongMethod { store: PathBuf, method: crate::at_rest::Method, hint: &'static str },

    #[error(
        "{store}: its key is not in this user's OS keyring (was the keyring reset, or is this \
         another account?). Without the key the store cannot be opened; if everything was synced, \
         delete the store and enrol again"
    )]
    KeyringEntryMissing { store: PathBuf },

    #[error(
        "the OS keyring is not available ({0}). On a machine without one, protect the store with \
         a passphrase (`--unlock passphrase`, or FIELDBOOK_PASSPHRASE) or, knowingly, a key file \
         (`--key-file PATH`)"
    )]
    KeyringUnavailable(String),

    #[error("{path}: the store's protection file cannot be used: {problem}")]
    ProtectionFile { path: PathBuf, problem: String },

    #[error("{path}: not a Fieldbook key file (it must hold 64 hexadecimal characters)")]
    KeyFile { path: PathBuf },

    #[error("deriving the key from the passphrase failed: {0}")]
    Kdf(String),

    #[error(
        "this laptop has not reached the server for {since_last_sync_days} day(s) (limit {limit_days}, set by your office), \
         so Fieldbook keeps its records out of sight. Connect to the network and sync (`fieldbook sync`) to unlock; \
         your unsynced work is kept and will be sent"
    )]
    OfflineLocked { since_last_sync_days: i64, limit_days: i64 },
}

impl Error {
    pub fn invalid(record: impl Into<String>, field: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::Invalid(vec![FieldProblem::new(record, field, problem)])
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// A short stable name for scripts (`--json` error output).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "invalid",
            Error::NotFound { .. } => "not_found",
            Error::Incomplete { .. } => "incomplete",
            Error::Locked { .. } => "locked",
            Error::Transition { .. } => "transition",
            Error::SchemaTooNew { .. } => "schema_too_new",
            Error::Import { .. } => "import",
            Error::Io { .. } => "io",
            Error::Report(_) => "report",
            Error::Corrupt { .. } => "corrupt",
            Error::Sqlite(_) => "database",
            Error::WrongKey { .. } => "wrong_key",
            Error::WrongPassphrase { .. } => "wrong_passphrase",
            Error::WeakPassphrase { .. } => "weak_passphrase",
            Error::WrongMethod { .. } => "wrong_unlock_method",
            Error::KeyringEntryMissing { .. } => "keyring_entry_missing",
            Error::KeyringUnavailable(_) => "keyring_unavailable",
            Error::ProtectionFile { .. } | Error::KeyFile { .. } | Error::Kdf(_) => "key_protection",
            Error::OfflineLocked { .. } => "offline_locked",
        }
    }

    /// The per-field problems, for callers that show them next to the fields.
    pub fn problems(&self) -> &[FieldProblem] {
        match self {
            Error::Invalid(p) => p,
            Error::Incomplete { missing, .. } => missing,
            Error::Import { problems, .. } => problems,
            _ => &[],
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
