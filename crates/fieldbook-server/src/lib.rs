//! Fieldbook's central server: it enrols technicians' laptops, applies what they push, serves
//! each technician the feed of what changed for them, and keeps the photos they upload. It
//! implements sync protocol version 1 (`docs/sync.md`) with the merge rule of
//! `fieldbook_core::sync::merge`, so the server and every laptop decide the same way.
//!
//! - [`db`]: storage on SQLite or PostgreSQL behind one small synchronous interface.
//! - [`records`], [`clock`], [`feed`]: records as the server holds them, the server's clock, and
//!   the one write path that merges a change and appends it to the feed for the right people.
//! - [`push`], [`pull`]: the two halves of sync; [`group`]: pushes applied many per transaction;
//!   [`signed`]: signed means locked, checked against the signed records.
//! - [`enrolment`], [`devices`], [`users`]: who may sync, and who may log in; [`login`]: password
//!   checks, throttled.
//! - [`attachments`]: resumable, content-addressed uploads.
//! - [`lineage`]: the database's epoch, its backup and restore (SQLite), so that laptops can
//!   tell a server restored from a backup and re-send what it lost.
//! - [`offline_lock`]: the company's offline lock, sent to laptops with every pull page.
//! - [`releases`]: desktop releases the admin publishes, offered to laptops that ask (issue #14).
//! - [`import`], [`demo`]: loading office data (the `fieldbook-import/1` format).
//! - [`console`]: the office console: its JSON API under `/console/api/`, the projections its
//!   lists and reports query, and its web app, embedded.
//! - [`api`], [`openapi`], [`tls`], [`server`], [`conn`]: HTTP; [`security`]: the public URL,
//!   HTTPS-only cookies and HSTS, the console's security headers.
//! - [`cli`]: the `fieldbook-server` command; [`config`]: its configuration file (every option a
//!   key); [`logs`]: text or JSON log lines; [`metrics`]: `/metrics`, `/healthz`, `/readyz`.

pub mod api;
pub mod attachments;
pub mod cli;
pub mod config;
pub mod conn;
pub mod console;
pub mod clock;
pub mod db;
pub mod demo;
pub mod devices;
pub mod enrolment;
pub mod error;
pub mod feed;
pub mod group;
pub mod import;
pub mod lineage;
pub mod login;
pub mod logs;
pub mod metrics;
pub mod offline_lock;
pub mod openapi;
pub mod pull;
pub mod push;
pub mod records;
pub mod releases;
pub mod security;
pub mod server;
pub mod signed;
pub mod tls;
pub mod users;

pub use error::{Error, Result};

/// Now, as stored: RFC 3339, UTC, milliseconds (the laptop's format).
pub fn now_text() -> String {
    fieldbook_core::store::ts(chrono::Utc::now())
}

/// A time as stored: RFC 3339, UTC, milliseconds.
pub fn store_ts(t: chrono::DateTime<chrono::Utc>) -> String {
    fieldbook_core::store::ts(t)
}
