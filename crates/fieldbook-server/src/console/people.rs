//! People and devices: users and roles, enrolment codes for technicians' laptops, enrolled
//! devices with their last sync and warnings, and revoking (optionally wiping) one. Anyone in
//! the console may look; only an admin may change anything. Passwords are hashed with argon2
//! ([`crate::users`]) outside the transaction.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{audit, csv, ConsoleUser, FormatQuery};
use crate::api::{AppState, JsonBody};
use crate::db::{Mode, Row, Tx};
use crate::devices::{self, DeviceRow};
use crate::error::{Error, Result};
use crate::users::{self, Role};
use crate::{enrolment, params};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct UserRow {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
}

const USER_COLUMNS: &str = "SELECT login, display_name, role, disabled, created_at FROM users";

fn to_user(r: &Row) -> Result<UserRow> {
    let (login, role) = (r.text(0)?, r.text(2)?);
    Ok(UserRow {
        role: Role::parse(&role).ok_or_else(|| Error::Internal(format!("user {login} has unknown role '{role}'")))?,
        login,
        display_name: r.text(1)?,
        disabled: r.bool(3)?,
        created_at: r.text(4)?,
    })
}

fn user_row(tx: &mut dyn Tx, login: &str) -> Result<UserRow> {
    let r = tx
        .query_opt(&format!("{USER_COLUMNS} WHERE login = $1"), params![login])?
        .ok_or_else(|| Error::NotFound(format!("no user '{login}'")))?;
    to_user(&r)
}

pub fn users_of(tx: &mut dyn Tx) -> Result<Vec<UserRow>> {
    tx.query(&format!("{USER_COLUMNS} ORDER BY login"), params![])?.iter().map(to_user).collect()
}

pub async fn users(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<FormatQuery>) -> Result<Response> {
    let items = s.db.run(Mode::Read, users_of).await?;
    if q.csv()? {
        let rows: Vec<Value> = items.iter().map(|t| serde_json::to_value(t).expect("serialises")).collect();
        let cols: csv::Columns =
            &[("login", "Login", "登录名"), ("display_name", "Name", "姓名"), ("role", "Role", "角色"), ("disabled", "Disabled", "已停用"), ("created_at", "Created", "创建时间")];
        return Ok(csv::table("users.csv", cols, &rows, q.lang.as_deref() == Some("zh")));
    }
    Ok(Json(items).into_response())
}

#[derive(Debug, Deserialize)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub password: Option<String>,
}

fn hash(password: Option<String>) -> Result<Option<String>> {
    password.filter(|p| !p.is_empty()).map(|p| users::hash_password(&p)).transpose()
}

pub async fn add_user(State(s): State<AppState>, u: ConsoleUser, JsonBody(req): JsonBody<NewUser>) -> Result<Response> {
    u.require_admin("add users")?;
    if req.display_name.trim().is_empty() {
        return Err(Error::Invalid("display_name: give the person's name as colleagues know it".into()));
    }
    if req.role != Role::Technician && req.password.as_deref().unwrap_or_default().is_empty() {
        return Err(Error::Invalid(format!("password: an {} logs in to the console and needs a password (at least 8 characters)", req.role.as_str())));
    }
    let pw = req.password.clone();
    let hashed = tokio::task::spawn_blocking(move || hash(pw)).await.map_err(|e| Error::Internal(e.to_string()))??;
    let actor = u.login().to_owned();
    let row = s
        .db
        .run(Mode::Write, move |tx| {
            let login = req.login.trim();
            users::add(tx, login, req.role, req.display_name.trim(), hashed.as_deref())?;
            audit::record(tx, &actor, "user_added", Some("users"), Some(login), None, json!({"role": req.role, "display_name": req.display_name.trim()}))?;
            user_row(tx, login)
        })
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(row)).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

pub async fn change_user(State(s): State<AppState>, u: ConsoleUser, Path(login): Path<String>, JsonBody(req): JsonBody<UserChange>) -> Result<Json<UserRow>> {
    u.require_admin("change users")?;
    if login == u.login() && (req.disabled == Some(true) || req.role.is_some_and(|r| r != Role::Admin)) {
        return Err(Error::Invalid("you cannot disable yourself or take away your own admin role; ask another admin".into()));
    }
    if req.display_name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(Error::Invalid("display_name: a name cannot be empty".into()));
    }
    let pw = req.password.clone();
    let hashed = tokio::task::spawn_blocking(move || hash(pw)).await.map_err(|e| Error::Internal(e.to_string()))??;
    let actor = u.login().to_owned();
    let row = s
        .db
        .run(Mode::Write, move |tx| {
            let before = user_row(tx, &login)?;
            if let Some(n) = &req.display_name {
                tx.execute("UPDATE users SET display_name = $1 WHERE login = $2", params![n.trim(), login.as_str()])?;
            }
            if let Some(r) = req.role {
                tx.execute("UPDATE users SET role = $1 WHERE login = $2", params![r.as_str(), login.as_str()])?;
            }
            if let Some(d) = req.disabled {
                tx.execute("UPDATE users SET disabled = $1 WHERE login = $2", params![d, login.as_str()])?;
            }
            if let Some(h) = &hashed {
                tx.execute("UPDATE users SET password_hash = $1 WHERE login = $2", params![h.as_str(), login.as_str()])?;
            }
            if req.disabled == Some(true) || req.role == Some(Role::Technician) || hashed.is_some() {
                // Whoever was logged in as this user must log in again.
                tx.execute("DELETE FROM console_sessions WHERE login = $1", params![login.as_str()])?;
            }
            let after = user_row(tx, &login)?;
            let detail = json!({
                "display_name": (before.display_name != after.display_name).then_some(&after.display_name),
                "role": (before.role != after.role).then_some(after.role),
                "disabled": (before.disabled != after.disabled).then_some(after.disabled),
                "password_changed": hashed.is_some(),
            });
            audit::record(tx, &actor, "user_changed", Some("users"), Some(&login), None, detail)?;
            Ok(after)
        })
        .await?;
    Ok(Json(row))
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeRequest {
    pub valid_hours: Option<u32>,
}

pub async fn enrolment_code(State(s): State<AppState>, u: ConsoleUser, Path(login): Path<String>, JsonBody(req): JsonBody<CodeRequest>) -> Result<Json<Value>> {
    u.require_admin("issue enrolment codes")?;
    let hours = req.valid_hours.unwrap_or(24);
    if hours > 24 * 14 {
        return Err(Error::Invalid("valid_hours: at most 336 (two weeks)".into()));
    }
    let actor = u.login().to_owned();
    let v = s
        .db
        .run(Mode::Write, move |tx| {
            let code = enrolment::issue_code(tx, &login, hours)?;
            let expires_at = crate::store_ts(chrono::Utc::now() + chrono::Duration::hours(hours.into()));
            // The code itself is shown once and never stored or logged.
            audit::record(tx, &actor, "enrolment_code_issued", Some("users"), Some(&login), None, json!({"valid_hours": hours}))?;
            Ok(json!({"code": code, "expires_at": expires_at}))
        })
        .await?;
    Ok(Json(v))
}

#[derive(Debug, Serialize, PartialEq)]
pub struct DeviceInfo {
    #[serde(flatten)]
    pub device: DeviceRow,
    /// `not_seen_3_days`: not revoked and silent for three days (it may hold unsynced work);
    /// `revoked_unsynced`: revoked and not seen since, so whatever it had not synced is not here.
    pub warning: Option<&'static str>,
}

pub fn warning(d: &DeviceRow, now: chrono::DateTime<chrono::Utc>) -> Option<&'static str> {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok().map(|t| t.to_utc());
    match &d.revoked_at {
        Some(revoked) => {
            let seen_after = d.last_seen_at.as_deref().and_then(parse).zip(parse(revoked)).is_some_and(|(s, r)| s > r);
            (!seen_after).then_some("revoked_unsynced")
        }
        None => {
            let last = d.last_seen_at.as_deref().or(Some(d.enrolled_at.as_str())).and_then(parse);
            last.is_some_and(|t| now - t > chrono::Duration::days(3)).then_some("not_seen_3_days")
        }
    }
}

pub fn devices_of(tx: &mut dyn Tx) -> Result<Vec<DeviceInfo>> {
    let now = chrono::Utc::now();
    Ok(devices::list(tx)?.into_iter().map(|d| DeviceInfo { warning: warning(&d, now), device: d }).collect())
}

pub async fn devices(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<FormatQuery>) -> Result<Response> {
    let items = s.db.run(Mode::Read, devices_of).await?;
    if q.csv()? {
        let rows: Vec<Value> = items.iter().map(|t| serde_json::to_value(t).expect("serialises")).collect();
        let cols: csv::Columns = &[
            ("id", "Device", "设备"),
            ("technician", "Technician", "技术员"),
            ("name", "Name", "名称"),
            ("enrolled_at", "Enrolled", "注册时间"),
            ("last_seen_at", "Last sync", "最近同步"),
            ("acked_seq", "Changes received", "已接收变更"),
            ("revoked_at", "Revoked", "吊销时间"),
            ("revoke_reason", "Reason", "原因"),
            ("wipe_ordered", "Wipe ordered", "已下令清除"),
            ("token_rotated_at", "Token last rotated", "令牌上次轮换"),
            ("store_protection", "Store protection (reported by the laptop)", "本地数据保护（笔记本自报）"),
            ("store_protection_at", "Protection reported", "保护状态上报时间"),
            ("warning", "Warning", "警告"),
        ];
        return Ok(csv::table("devices.csv", cols, &rows, q.lang.as_deref() == Some("zh")));
    }
    Ok(Json(items).into_response())
}

#[derive(Debug, Deserialize)]
pub struct RevokeRequest {
    pub reason: String,
    #[serde(default)]
    pub wipe: bool,
}

pub async fn revoke(State(s): State<AppState>, u: ConsoleUser, Path(id): Path<String>, JsonBody(req): JsonBody<RevokeRequest>) -> Result<Json<DeviceInfo>> {
    u.require_admin("revoke devices")?;
    if req.reason.trim().is_empty() {
        return Err(Error::Invalid("reason: say why the laptop is revoked (lost, stolen, technician left)".into()));
    }
    let actor = u.login().to_owned();
    let d = s
        .db
        .run(Mode::Write, move |tx| {
            devices::revoke(tx, &id, &req.reason, req.wipe)?;
            audit::record(tx, &actor, "device_revoked", Some("devices"), Some(&id), None, json!({"reason": req.reason.trim(), "wipe": req.wipe}))?;
            devices_of(tx)?.into_iter().find(|d| d.device.id == id).ok_or_else(|| Error::NotFound(format!("no device '{id}'")))
        })
        .await?;
    Ok(Json(d))
}
