//! The company's settings in the console: the offline lock (issue #13) and the days from a
//! repair call's completion to its return visit (#11). Anyone in the console may look; only an
//! admin may change them, and each change is in the audit trail.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{audit, return_visits, ConsoleUser};
use crate::api::{AppState, JsonBody};
use crate::db::Mode;
use crate::error::{Error, Result};
use crate::offline_lock;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Settings {
    /// Days without reaching the server after which a laptop hides its records until it syncs;
    /// `null`: never.
    pub offline_lock_days: Option<u32>,
    /// Days from a repair call's completion to its return visit.
    pub return_visit_days: u32,
}

pub async fn get(State(s): State<AppState>, _u: ConsoleUser) -> Result<Json<Settings>> {
    Ok(Json(s.db.run(Mode::Read, current).await?))
}

fn current(tx: &mut dyn crate::db::Tx) -> Result<Settings> {
    Ok(Settings { offline_lock_days: offline_lock::days(tx)?, return_visit_days: return_visits::days(tx)? })
}

/// The requested limit: a number of days, or `null` to turn the lock off (only when the key is
/// there: [`change`] refuses a PATCH that names no setting, so nothing changes by accident).
fn requested_days(req: &Value) -> Result<Option<u32>> {
    let bad = || Error::Invalid("offline_lock_days: give a whole number of days (1 to 3650), or null to turn the offline lock off".into());
    match req.get("offline_lock_days") {
        None => Ok(None),
        Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().and_then(|d| u32::try_from(d).ok()).map(Some).ok_or_else(bad),
    }
}

pub async fn change(State(s): State<AppState>, u: ConsoleUser, JsonBody(req): JsonBody<Value>) -> Result<Json<Settings>> {
    u.require_admin("change the company's settings")?;
    let lock = req.get("offline_lock_days").is_some();
    let visit = match req.get("return_visit_days") {
        None => None,
        Some(v) => Some(v.as_u64().and_then(|d| u32::try_from(d).ok()).ok_or_else(|| {
            Error::Invalid(format!("return_visit_days: give a whole number of days (1 to {})", return_visits::MAX_DAYS))
        })?),
    };
    if !lock && visit.is_none() {
        return Err(Error::Invalid(
            "offline_lock_days: give a whole number of days (1 to 3650), or null to turn the offline lock off; or return_visit_days: days from completion to the return visit".into(),
        ));
    }
    let days = requested_days(&req)?;
    let actor = u.login().to_owned();
    let settings = s
        .db
        .run(Mode::Write, move |tx| {
            if lock {
                let before = offline_lock::days(tx)?;
                offline_lock::set_days(tx, days)?;
                audit::record(tx, &actor, "settings_changed", Some("settings"), Some(offline_lock::SETTING), None, json!({"from": before, "to": days}))?;
            }
            if let Some(d) = visit {
                let before = return_visits::days(tx)?;
                return_visits::set_days(tx, d)?;
                audit::record(tx, &actor, "settings_changed", Some("settings"), Some(return_visits::SETTING), None, json!({"from": before, "to": d}))?;
            }
            current(tx)
        })
        .await?;
    Ok(Json(settings))
}
