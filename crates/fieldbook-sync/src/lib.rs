//! Fieldbook's sync client: the laptop's side of sync protocol v1 (`docs/sync.md`) over HTTP.
//! The core (`fieldbook-core`) decides what to push and how to apply what is pulled; this crate
//! moves it over the network and knows nothing of SQL.
//!
//! - [`client`]: [`SyncClient`] — enrolment and one sync run (push, pull, attachments), with
//!   the store locked only between network calls.
//! - [`sync_loop`]: [`SyncLoop`] — the desktop app's background sync with backoff and events.
//! - [`backoff`]: retry delays (exponential, full jitter).
//! - [`revocation`]: [`handle_revocation`] — what happens to a revoked laptop's data.
//! - `http` (private): the transport — headers, timeouts, gzip, HTTP status → [`SyncError`].
//! - `attachments` (private): resumable uploads.
//! - [`error`]: [`SyncError`], the crate's one error type, worded for technicians.

mod attachments;
pub mod backoff;
pub mod client;
pub mod error;
mod http;
pub mod revocation;
pub mod sync_loop;

pub use backoff::Backoff;
pub use client::{ClientOptions, Enrollment, PendingAttachment, Progress, SyncClient, SyncReport};
pub use error::{Result, SyncError};
pub use http::{check_transport, insecure_warning, MAX_DECOMPRESSED_BYTES, MAX_RESPONSE_BYTES, UPLOAD_LENGTH, UPLOAD_OFFSET};
pub use revocation::{handle_revocation, Revocation};
pub use sync_loop::{LoopOptions, SyncEvent, SyncHandle, SyncLoop};
