//! Fieldbook's core: the records a field-service technician keeps on a laptop, and the rules
//! that keep them truthful.
//!
//! - [`model`]: work orders, sites, assets, repair records, signatures… in the users' words.
//! - [`checklist`]: versioned patrol-inspection templates, answer checking, findings.
//! - [`store`]: the SQLite store; every write appends to the outbox in the same transaction.
//! - [`signature`]: canonical signed content, digests and device signatures.
//! - [`signed_record`]: what a signature covers, built from plain records; the check of a
//!   signature against the live records that the laptop and the server share.
//! - [`import`]: the `fieldbook-import/1` file format.
//! - [`report`]: the bilingual PDF service report.
//! - [`service_calendar`]: working hours, holidays and response policies; THE deadline function.
//! - [`service_category`]: the category a repair defaults to (contract B, warranty C, else A).
//! - [`hlc`], [`entity`]: clocks and the field whitelist the outbox and sync are built on.
//! - [`wipe`]: removing everything of Fieldbook's from a laptop.
//!
//! This crate knows nothing of Tauri or HTTP: the desktop shell, the CLI and the server call it.

pub mod at_rest;
pub mod checklist;
pub mod daily_report;
pub mod entity;
pub mod error;
pub mod hlc;
pub mod import;
pub mod inspection_plan;
pub mod model;
pub mod policy;
pub mod private_files;
pub mod report;
pub mod service_calendar;
pub mod service_category;
pub mod signature;
pub mod signed_record;
pub mod store;
pub mod sync;
pub mod wipe;
pub mod workshop;

pub use error::{Error, FieldProblem, Result};
pub use report::complaint_notice;
pub use report::expiry_notice;
pub use store::{OutboxEntry, Store};

/// Where the laptop keeps its store when no `--db` is given: the platform's data directory
/// (`$XDG_DATA_HOME/fieldbook/fieldbook.db` on Linux).
pub fn default_db_path() -> std::path::PathBuf {
    dirs_data_dir().join("fieldbook").join("fieldbook.db")
}

pub(crate) fn dirs_data_dir() -> std::path::PathBuf {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return d.into();
    }
    if cfg!(windows) {
        if let Some(d) = std::env::var_os("APPDATA") {
            return d.into();
        }
    }
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap_or_else(|| ".".into());
    if cfg!(target_os = "macos") {
        home.join("Library").join("Application Support")
    } else {
        home.join(".local").join("share")
    }
}
