//! Who is calling: a laptop (`Authorization: Bearer <device token>`) or an office user
//! (`Authorization: Basic`, login and password, role office or admin).

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;

use super::AppState;
use crate::db::Mode;
use crate::devices::{self, DeviceIdentity, TokenMatch};
use crate::error::{Error, Result};
use crate::users::{Role, User};

/// How often `last_seen_at` is refreshed: often enough for "last seen" in the device list,
/// rarely enough not to make every pull a write.
const TOUCH_AFTER: chrono::Duration = chrono::Duration::minutes(5);

fn authorization<'p>(parts: &'p Parts, scheme: &str) -> Option<&'p str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (s, rest) = value.split_once(' ')?;
    s.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

/// The enrolled, unrevoked laptop making the request, with an unexpired token.
pub struct AuthDevice(pub DeviceIdentity);

/// The bearer token an [`AuthDevice`] request presented (for `POST /api/device/token`, which
/// seals the next token with it).
#[derive(Clone)]
pub struct PresentedToken(pub String);

impl FromRequestParts<AppState> for AuthDevice {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = authorization(parts, "Bearer")
            .ok_or_else(|| Error::Unauthorized("this needs the laptop's device token (Authorization: Bearer …); enrol the laptop first".into()))?
            .to_owned();
        let policy = state.tokens;
        let presented = token.clone();
        let (device, matched) = state.db.run(Mode::Read, move |tx| devices::authenticate(tx, &presented, &policy)).await?;
        // The laptop's first request with a rotated token: from now on only that one works.
        if matched == TokenMatch::Pending {
            let (id, t) = (device.id.clone(), token.clone());
            state.db.run(Mode::Write, move |tx| devices::promote(tx, &id, &t)).await?;
        }
        parts.extensions.insert(PresentedToken(token));
        // A push notes the device as seen in its own transaction; a separate write here would
        // only queue behind the feed writer for SQLite's write lock.
        let pushing = parts.uri.path() == "/api/sync/push";
        let stale = !pushing
            && device.last_seen_at.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).is_none_or(|t| chrono::Utc::now() - t.to_utc() > TOUCH_AFTER);
        if stale {
            let id = device.id.clone();
            state.db.run(Mode::Write, move |tx| devices::touch(tx, &id)).await?;
        }
        Ok(AuthDevice(device))
    }
}

/// An office or admin user, by HTTP Basic login and password.
pub struct OfficeUser(pub User);

async fn basic_user(parts: &Parts, state: &AppState) -> Result<Option<User>> {
    let Some(encoded) = authorization(parts, "Basic") else { return Ok(None) };
    let refused = || Error::Unauthorized("wrong login or password".into());
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| refused())?;
    let decoded = String::from_utf8(decoded).map_err(|_| refused())?;
    let (login, password) = decoded.split_once(':').ok_or_else(refused)?;
    // Throttled and audited like the console's login; argon2 runs off the async threads,
    // a few at a time ([`crate::login`]).
    let user = crate::login::check(&state.db, &state.logins, login, password, crate::login::client_address(parts), "basic").await?;
    if user.disabled {
        return Err(Error::Forbidden(format!("user '{}' is disabled", user.login)));
    }
    Ok(Some(user))
}

impl FromRequestParts<AppState> for OfficeUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let user = basic_user(parts, state).await?.ok_or_else(|| Error::Unauthorized("this needs an office login (HTTP Basic)".into()))?;
        if !matches!(user.role, Role::Office | Role::Admin) {
            return Err(Error::Forbidden(format!("'{}' is a {}; this needs an office or admin login", user.login, user.role.as_str())));
        }
        Ok(OfficeUser(user))
    }
}

/// Either a laptop or an office user (downloads).
pub enum Caller {
    Device(DeviceIdentity),
    Office(User),
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        if authorization(parts, "Basic").is_some() {
            return OfficeUser::from_request_parts(parts, state).await.map(|u| Caller::Office(u.0));
        }
        AuthDevice::from_request_parts(parts, state).await.map(|d| Caller::Device(d.0))
    }
}
