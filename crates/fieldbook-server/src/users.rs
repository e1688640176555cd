//! People: technicians (whose laptops enrol), office staff and admins (who log in with a
//! password, kept only as an argon2 hash).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};

use crate::db::Tx;
use crate::error::{Error, Result};
use crate::params;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Technician,
    Office,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Technician => "technician",
            Role::Office => "office",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "technician" => Some(Role::Technician),
            "office" => Some(Role::Office),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
}

/// Logins are what technicians' records carry (`technician` fields): short and plain.
pub fn check_login(login: &str) -> Result<()> {
    let ok = !login.is_empty()
        && login.len() <= 64
        && login.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!("login '{login}': use 1 to 64 lowercase letters, digits, '.', '_' or '-' (e.g. li.wei)")))
    }
}

/// Hashes a password (slow on purpose: call it outside transactions).
pub fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < 8 {
        return Err(Error::Invalid("a password needs at least 8 characters".into()));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| Error::Internal(format!("hashing the password: {e}")))
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Adds a user; `password_hash` from [`hash_password`] (technicians may have none).
pub fn add(tx: &mut dyn Tx, login: &str, role: Role, display_name: &str, password_hash: Option<&str>) -> Result<()> {
    check_login(login)?;
    if find(tx, login)?.is_some() {
        return Err(Error::conflict(format!("user '{login}' already exists")));
    }
    tx.execute(
        "INSERT INTO users (login, display_name, role, password_hash, created_at, disabled) VALUES ($1, $2, $3, $4, $5, 0)",
        params![login, display_name, role.as_str(), password_hash, crate::now_text()],
    )?;
    Ok(())
}

pub fn find(tx: &mut dyn Tx, login: &str) -> Result<Option<User>> {
    let Some(r) = tx.query_opt("SELECT login, display_name, role, disabled FROM users WHERE login = $1", params![login])? else { return Ok(None) };
    let role = r.text(2)?;
    Ok(Some(User {
        login: r.text(0)?,
        display_name: r.text(1)?,
        role: Role::parse(&role).ok_or_else(|| Error::Internal(format!("user {login} has unknown role '{role}'")))?,
        disabled: r.bool(3)?,
    }))
}

/// The user and password hash for a login, for checking a password outside the transaction.
pub fn credentials(tx: &mut dyn Tx, login: &str) -> Result<Option<(User, Option<String>)>> {
    let Some(user) = find(tx, login)? else { return Ok(None) };
    let hash = tx.query_one("SELECT password_hash FROM users WHERE login = $1", params![login])?.opt_text(0)?;
    Ok(Some((user, hash)))
}
