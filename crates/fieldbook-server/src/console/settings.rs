//! The company's settings in the console: the offline lock (issue #13). Anyone in the console
//! may look; only an admin may change it, and the change is in the audit trail.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{audit, ConsoleUser};
use crate::api::{AppState, JsonBody};
use crate::db::Mode;
use crate::error::{Error, Result};
use crate::offline_lock;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Settings {
    /// Days without reaching the server after which a laptop hides its records until it syncs;
    /// `null`: never.
    pub offline_lock_days: Option<u32>,
}

pub async fn get(State(s): State<AppState>, _u: ConsoleUser) -> Result<Json<Settings>> {
    let offline_lock_days = s.db.run(Mode::Read, offline_lock::days).await?;
    Ok(Json(Settings { offline_lock_days }))
}

/// The requested limit: a number of days, or `null` to turn the lock off. Left out is refused
/// rather than read as "off", so a PATCH that names nothing changes nothing by accident.
fn requested_days(req: &Value) -> Result<Option<u32>> {
    let bad = || Error::Invalid("offline_lock_days: give a whole number of days (1 to 3650), or null to turn the offline lock off".into());
    match req.get("offline_lock_days") {
        None => Err(bad()),
        Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().and_then(|d| u32::try_from(d).ok()).map(Some).ok_or_else(bad),
    }
}

pub async fn change(State(s): State<AppState>, u: ConsoleUser, JsonBody(req): JsonBody<Value>) -> Result<Json<Settings>> {
    u.require_admin("change the company's settings")?;
    let days = requested_days(&req)?;
    let actor = u.login().to_owned();
    let offline_lock_days = s
        .db
        .run(Mode::Write, move |tx| {
            let before = offline_lock::days(tx)?;
            offline_lock::set_days(tx, days)?;
            audit::record(tx, &actor, "settings_changed", Some("settings"), Some(offline_lock::SETTING), None, json!({"from": before, "to": days}))?;
            offline_lock::days(tx)
        })
        .await?;
    Ok(Json(Settings { offline_lock_days }))
}
