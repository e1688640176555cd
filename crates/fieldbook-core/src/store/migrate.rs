//! Applies the numbered SQL files of `migrations/client/` in order, recording the schema version
//! in SQLite's `user_version`. A database written by a newer Fieldbook is refused untouched.

use std::path::Path;

use rusqlite::Connection;

use crate::error::{Error, Result};

/// (version, SQL) in order. New schema changes are new files appended here, never edits.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../../../migrations/client/0001_init.sql")),
    (2, include_str!("../../../../migrations/client/0002_sync.sql")),
    (3, include_str!("../../../../migrations/client/0003_search.sql")),
    (4, include_str!("../../../../migrations/client/0004_review.sql")),
    (5, include_str!("../../../../migrations/client/0005_record_clocks.sql")),
    (6, include_str!("../../../../migrations/client/0006_stamps_in_row.sql")),
    (7, include_str!("../../../../migrations/client/0007_search_after_pull.sql")),
    (8, include_str!("../../../../migrations/client/0008_pull_refused.sql")),
    (9, include_str!("../../../../migrations/client/0009_server_restore.sql")),
    (10, include_str!("../../../../migrations/client/0010_desk.sql")),
    (11, include_str!("../../../../migrations/client/0011_corrections.sql")),
    (12, include_str!("../../../../migrations/client/0012_contract_renewals.sql")),
    (13, include_str!("../../../../migrations/client/0013_planned_inspections.sql")),
    (14, include_str!("../../../../migrations/client/0014_parts.sql")),
    (15, include_str!("../../../../migrations/client/0015_workshop.sql")),
    (16, include_str!("../../../../migrations/client/0016_time.sql")),
];

pub fn latest() -> i64 {
    MIGRATIONS.last().map(|(v, _)| *v).unwrap_or(0)
}

pub fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Fails, without changing anything, when the file's schema is newer than this program knows.
pub fn check_not_newer(conn: &Connection, path: &Path) -> Result<()> {
    let found = version(conn)?;
    if found > latest() {
        return Err(Error::SchemaTooNew { path: path.to_owned(), found, supported: latest() });
    }
    Ok(())
}

/// Brings the schema up to date; each migration and its version bump commit together.
pub fn apply_all(conn: &Connection) -> Result<()> {
    let current = version(conn)?;
    for (v, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        conn.execute_batch(&format!("BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {v};\nCOMMIT;"))
            .inspect_err(|_| {
                let _ = conn.execute_batch("ROLLBACK");
            })?;
    }
    Ok(())
}
