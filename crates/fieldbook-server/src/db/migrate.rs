//! Schema migrations: the numbered files of `migrations/server-sqlite/` and
//! `migrations/server-postgres/`, applied in order at start, each with its version recorded in
//! `schema_migrations` in the same transaction. A database written by a newer server is refused
//! untouched. Two servers starting at once on one PostgreSQL take turns (advisory lock).

use super::{Backend, Db, Mode, Tx};
use crate::error::{Error, Result};
use crate::params;

/// (version, SQLite DDL, PostgreSQL DDL). New schema changes are new files, never edits.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, include_str!("../../../../migrations/server-sqlite/0001_init.sql"), include_str!("../../../../migrations/server-postgres/0001_init.sql")),
    (2, include_str!("../../../../migrations/server-sqlite/0002_console.sql"), include_str!("../../../../migrations/server-postgres/0002_console.sql")),
    (3, include_str!("../../../../migrations/server-sqlite/0003_acked_hlc.sql"), include_str!("../../../../migrations/server-postgres/0003_acked_hlc.sql")),
    (4, include_str!("../../../../migrations/server-sqlite/0004_report_rollups.sql"), include_str!("../../../../migrations/server-postgres/0004_report_rollups.sql")),
    (5, include_str!("../../../../migrations/server-sqlite/0005_more_rollups.sql"), include_str!("../../../../migrations/server-postgres/0005_more_rollups.sql")),
    (6, include_str!("../../../../migrations/server-sqlite/0006_attachment_owners.sql"), include_str!("../../../../migrations/server-postgres/0006_attachment_owners.sql")),
    (7, include_str!("../../../../migrations/server-sqlite/0007_token_rotation.sql"), include_str!("../../../../migrations/server-postgres/0007_token_rotation.sql")),
    (8, include_str!("../../../../migrations/server-sqlite/0008_server_epoch.sql"), include_str!("../../../../migrations/server-postgres/0008_server_epoch.sql")),
    (9, include_str!("../../../../migrations/server-sqlite/0009_releases.sql"), include_str!("../../../../migrations/server-postgres/0009_releases.sql")),
    (10, include_str!("../../../../migrations/server-sqlite/0010_service_desk.sql"), include_str!("../../../../migrations/server-postgres/0010_service_desk.sql")),
    (11, include_str!("../../../../migrations/server-sqlite/0011_call_register.sql"), include_str!("../../../../migrations/server-postgres/0011_call_register.sql")),
    (12, include_str!("../../../../migrations/server-sqlite/0012_escalation.sql"), include_str!("../../../../migrations/server-postgres/0012_escalation.sql")),
    (15, include_str!("../../../../migrations/server-sqlite/0015_inspection_plans.sql"), include_str!("../../../../migrations/server-postgres/0015_inspection_plans.sql")),
    (16, include_str!("../../../../migrations/server-sqlite/0016_parts.sql"), include_str!("../../../../migrations/server-postgres/0016_parts.sql")),
    (17, include_str!("../../../../migrations/server-sqlite/0017_workshop.sql"), include_str!("../../../../migrations/server-postgres/0017_workshop.sql")),
    (18, include_str!("../../../../migrations/server-sqlite/0018_day_reviews.sql"), include_str!("../../../../migrations/server-postgres/0018_day_reviews.sql")),
    (19, include_str!("../../../../migrations/server-sqlite/0019_movement_rollup.sql"), include_str!("../../../../migrations/server-postgres/0019_movement_rollup.sql")),
];

/// The version that added the console's projections; reaching it fills them from `records`.
const CONSOLE_PROJECTIONS: i64 = 2;

/// The last version that added a report rollup; reaching it fills them all from the projections.
const REPORT_ROLLUPS: i64 = 5;

/// The version that added customers' phones to `reference_index`; reaching it fills them.
const CUSTOMER_PHONES: i64 = 11;

/// The version that added the monthly movement rollup; reaching it fills it.
const MOVEMENT_ROLLUP: i64 = 19;

/// The PostgreSQL advisory lock held while migrating ("FBMIGRAT").
const MIGRATION_LOCK_KEY: i64 = 0x4642_4d49_4752_4154;

pub fn latest_version() -> i64 {
    MIGRATIONS.last().map(|m| m.0).unwrap_or(0)
}

/// The schema version a database is at (0: empty).
pub fn schema_version(tx: &mut dyn Tx) -> Result<i64> {
    let row = tx.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", params![])?;
    row.int(0)
}

pub(super) fn apply_all(db: &Db) -> Result<()> {
    let describe = db.location().describe();
    db.transaction(Mode::Write, |tx| {
        if tx.backend() == Backend::Postgres {
            tx.execute_batch(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"))?;
        }
        tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)")?;
        let found = schema_version(tx)?;
        if found > latest_version() {
            return Err(Error::SchemaTooNew { database: describe.clone(), found, supported: latest_version() });
        }
        for (version, sqlite, postgres) in MIGRATIONS.iter().filter(|m| m.0 > found) {
            let sql = match tx.backend() {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            };
            tx.execute_batch(sql)?;
            tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", params![*version, crate::now_text()])?;
            tracing::info!(version, "applied schema migration");
        }
        // Filled once the whole schema is there: writing the projections also moves the rollups.
        if found > 0 && found < CONSOLE_PROJECTIONS {
            crate::console::index::rebuild(tx)?;
        }
        if found > 0 && found < REPORT_ROLLUPS {
            crate::console::rollup::rebuild(tx)?;
        } else if found > 0 && found < MOVEMENT_ROLLUP {
            crate::console::rollup::refill(tx, &crate::console::rollup::MOVEMENTS)?;
        }
        if (CONSOLE_PROJECTIONS..CUSTOMER_PHONES).contains(&found) {
            crate::console::calls::fill_customer_phones(tx)?;
        }
        Ok(())
    })
}
