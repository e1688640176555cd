//! The company's settings in the console: the offline lock (issue #13). Anyone in the console
//! may look; only an admin may change it, and the change is in the audit trail.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{audit, ConsoleUser};
use crate::api::{AppState, JsonBody};
use crate::db::Mode;
use crate::error::Result;
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

pub async fn change(State(s): State<AppState>, u: ConsoleUser, JsonBody(req): JsonBody<Settings>) -> Result<Json<Settings>> {
    u.require_admin("change the company's settings")?;
    let actor = u.login().to_owned();
    let offline_lock_days = s
        .db
        .run(Mode::Write, move |tx| {
            let before = offline_lock::days(tx)?;
            offline_lock::set_days(tx, req.offline_lock_days)?;
            audit::record(tx, &actor, "settings_changed", Some("settings"), Some(offline_lock::SETTING), None, json!({"from": before, "to": req.offline_lock_days}))?;
            offline_lock::days(tx)
        })
        .await?;
    Ok(Json(Settings { offline_lock_days }))
}
