//! Console sessions: `POST /console/api/login` checks the password (argon2, [`crate::users`]) and
//! role, and sets the `fieldbook_console` cookie (HttpOnly, SameSite=Strict, Path=/console). The
//! server keeps only the SHA-256 of the cookie's token in `console_sessions`; a session ends at
//! logout, after [`IDLE`] without requests, and [`LIFETIME`] after it began however busy it is
//! (a stolen cookie is not good for ever). Logins are throttled and audited ([`crate::login`]). [`ConsoleUser`] is the extractor every other
//! console endpoint takes: no valid session, 401; a device's bearer token counts for nothing here.

use axum::extract::{FromRequestParts, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fieldbook_core::signature::sha256_hex;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::api::{AppState, JsonBody};
use crate::db::{Mode, Tx};
use crate::error::{Error, Result};
use crate::login::ClientAddress;
use crate::params;
use crate::users::{self, Role, User};

pub const COOKIE_NAME: &str = "fieldbook_console";

/// A session ends after this long without a request.
pub const IDLE: chrono::Duration = chrono::Duration::hours(12);

/// A session ends this long after login whatever its use: the cookie's own `Max-Age`, now also
/// enforced by the server (a copied cookie ignores `Max-Age`).
pub const LIFETIME: chrono::Duration = chrono::Duration::hours(12);

/// `last_seen_at` is refreshed at most this often (a read then needs no write).
const TOUCH_AFTER: chrono::Duration = chrono::Duration::minutes(1);

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Me {
    pub login: String,
    pub display_name: String,
    pub role: Role,
}

/// An office or admin user with a live console session.
#[derive(Debug, Clone)]
pub struct ConsoleUser(pub User);

impl ConsoleUser {
    /// Refuses an office user what only an admin may do.
    pub fn require_admin(&self, what: &str) -> Result<()> {
        if self.0.role == Role::Admin {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("only an admin may {what}; '{}' is {}", self.0.login, self.0.role.as_str())))
        }
    }

    pub fn login(&self) -> &str {
        &self.0.login
    }
}

fn cookie_token(headers: &axum::http::HeaderMap) -> Option<String> {
    for v in headers.get_all(COOKIE) {
        let Ok(v) = v.to_str() else { continue };
        for c in v.split(';') {
            if let Some((k, val)) = c.trim().split_once('=') {
                if k == COOKIE_NAME && !val.is_empty() {
                    return Some(val.to_owned());
                }
            }
        }
    }
    None
}

/// What a session token is worth now.
pub enum Session {
    /// No such session, it expired, or its user may no longer use the console.
    None,
    /// Live; `touch`: its last-seen time is old enough to be refreshed.
    Live { user: User, touch: bool },
}

/// Looks a session token up (a read: most requests then need no write at all).
pub fn authenticate(tx: &mut dyn Tx, token: &str) -> Result<Session> {
    let hash = sha256_hex(token.as_bytes());
    let Some(row) = tx.query_opt("SELECT login, last_seen_at, created_at FROM console_sessions WHERE token_hash = $1", params![hash.as_str()])? else {
        return Ok(Session::None);
    };
    let (login, seen, created) = (row.text(0)?, row.text(1)?, row.text(2)?);
    let time = |t: &str| chrono::DateTime::parse_from_rfc3339(t).map(|t| t.to_utc()).unwrap_or_default();
    let now = chrono::Utc::now();
    if now - time(&seen) > IDLE || now - time(&created) > LIFETIME {
        return Ok(Session::None);
    }
    let Some(user) = users::find(tx, &login)? else { return Ok(Session::None) };
    if user.disabled || user.role == Role::Technician {
        return Ok(Session::None);
    }
    Ok(Session::Live { user, touch: now - time(&seen) > TOUCH_AFTER })
}

/// Notes that a session was used (idle time starts again).
pub fn touch(tx: &mut dyn Tx, token: &str) -> Result<()> {
    tx.execute("UPDATE console_sessions SET last_seen_at = $1 WHERE token_hash = $2", params![crate::now_text(), sha256_hex(token.as_bytes())])?;
    Ok(())
}

impl FromRequestParts<AppState> for ConsoleUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let none = || Error::Unauthorized("no console session (it ends after 12 h idle, and 12 h after logging in); log in again".into());
        let token = cookie_token(&parts.headers).ok_or_else(none)?;
        let t = token.clone();
        match state.db.run(Mode::Read, move |tx| authenticate(tx, &t)).await? {
            Session::None => Err(none()),
            Session::Live { user, touch: stale } => {
                if stale {
                    // A small write of its own, at most once a minute per session.
                    state.db.run(Mode::Write, move |tx| touch(tx, &token)).await?;
                }
                Ok(ConsoleUser(user))
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

fn cookie(token: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE_NAME}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}")).expect("a cookie is ASCII")
}

/// Checks a login and password (throttled, audited: [`crate::login::check`]); makes a session.
/// Answers the user and the session's token.
pub async fn open_session(s: &AppState, login: &str, password: &str, address: Option<std::net::IpAddr>) -> Result<(Me, String)> {
    let user = crate::login::check(&s.db, &s.logins, login, password, address, "console").await?;
    if user.disabled {
        return Err(Error::Forbidden(format!("user '{}' is disabled; an admin can enable it", user.login)));
    }
    if user.role == Role::Technician {
        return Err(Error::Forbidden("this console is for office staff; technicians use the Fieldbook app on their laptop".into()));
    }
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let me = Me { login: user.login.clone(), display_name: user.display_name.clone(), role: user.role };
    let t = token.clone();
    s.db.run(Mode::Write, move |tx| {
        let now = crate::now_text();
        tx.execute(
            "INSERT INTO console_sessions (token_hash, login, created_at, last_seen_at) VALUES ($1, $2, $3, $3)",
            params![sha256_hex(t.as_bytes()), user.login.as_str(), now.as_str()],
        )?;
        // Sessions idle or older than their lifetime are removed as people log in.
        let now = chrono::Utc::now();
        let (idle, old) = (crate::store_ts(now - IDLE), crate::store_ts(now - LIFETIME));
        tx.execute("DELETE FROM console_sessions WHERE last_seen_at < $1 OR created_at < $2", params![idle, old])?;
        super::audit::record(tx, &user.login, "login", Some("users"), Some(&user.login), None, serde_json::json!({}))
    })
    .await?;
    Ok((me, token))
}

pub async fn login(State(s): State<AppState>, ClientAddress(address): ClientAddress, JsonBody(req): JsonBody<LoginRequest>) -> Result<Response> {
    let (me, token) = open_session(&s, req.login.trim(), &req.password, address).await?;
    let mut resp = Json(me).into_response();
    resp.headers_mut().insert(SET_COOKIE, cookie(&token, LIFETIME.num_seconds()));
    Ok(resp)
}

pub async fn logout(State(s): State<AppState>, _user: ConsoleUser, headers: axum::http::HeaderMap) -> Result<Response> {
    if let Some(token) = cookie_token(&headers) {
        s.db.run(Mode::Write, move |tx| {
            tx.execute("DELETE FROM console_sessions WHERE token_hash = $1", params![sha256_hex(token.as_bytes())])?;
            Ok(())
        })
        .await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(SET_COOKIE, cookie("", 0));
    Ok(resp)
}

pub async fn me(ConsoleUser(u): ConsoleUser) -> Json<Me> {
    Json(Me { login: u.login, display_name: u.display_name, role: u.role })
}
