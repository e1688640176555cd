//! The crate's one error type. Its messages are read by technicians (in the CLI and the desktop
//! app's sync line), so each says what happened and what to do, never an HTTP library's wording.

use std::path::PathBuf;

use fieldbook_core::sync::protocol::PROTOCOL_VERSION;

pub type Result<T, E = SyncError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No server and device token are stored yet.
    #[error("this laptop is not enrolled with a server yet: run `fieldbook enroll --server URL --code CODE` with the code from the office")]
    NotEnrolled,

    #[error("'{url}' is not a server address: {reason} (expected e.g. https://fieldbook.example.com)")]
    InvalidUrl { url: String, reason: String },

    /// A plain `http://` address of another computer, not allowed on this laptop: nothing was
    /// sent (see `check_transport`).
    #[error("refusing to sync with {url} over unencrypted http://: on a shared or open network anyone could read this laptop's data and answer in the server's name (even order its data wiped). Use the server's https:// address (`fieldbook enroll --server https://… --code CODE`); only on a trusted office network, allow plain http:// explicitly with `--allow-insecure-http` (`fieldbook enroll` or `fieldbook sync`) or the app's Settings")]
    InsecureHttp { url: String },

    /// An answer larger than this laptop accepts; refused while it arrived.
    #[error("the answer of {url} to {what} is larger than this laptop accepts (more than {} {}); a Fieldbook server's answers stay far below that, so check the server address (is something else answering?) or ask the office to check the server", mib(*.limit), if *.decompressed { "once decompressed" } else { "as received" })]
    TooLarge { url: String, what: &'static str, limit: u64, decompressed: bool },

    /// No HTTP answer at all: no network, DNS failure, connection refused or cut, timeout.
    #[error("cannot reach the server at {url}: {detail}{}", if *.enrolling { " — check the address and the network, then enrol again" } else { " — your changes are kept and will sync when the connection returns" })]
    Unreachable { url: String, detail: String, enrolling: bool },

    /// 426: the server no longer speaks this build's protocol.
    #[error("please update Fieldbook: the server no longer accepts this version (sync protocol {PROTOCOL_VERSION}){}", server_says(.message))]
    UpgradeRequired { message: String },

    /// 401 on a sync request: the device token is unknown to the server.
    #[error(
        "this laptop is not enrolled with the server (or its token was replaced, or the server was restored from a backup taken before \
         this laptop was enrolled): ask the office for an enrolment code and enrol again with `fieldbook enroll`; nothing on this laptop \
         is lost: what it wrote is sent again once it is enrolled"
    )]
    Unauthorized,

    /// 401 `token_expired`: the device token outlived its life (the laptop was offline longer).
    /// A sync renews it with the device key by itself; this reaches the technician only when a
    /// token expires in the middle of a run, and the next run renews it.
    #[error("this laptop's device token expired{}; it is renewed with the laptop's device key at the next sync", server_says(.message))]
    TokenExpired { message: String },

    /// The server refused an enrolment code.
    #[error("the server did not accept the enrolment: {message}")]
    EnrollmentRefused { message: String },

    /// 403 `device_revoked`. The store is marked revoked; see [`crate::handle_revocation`].
    #[error("the office has revoked this laptop's access to the server: {reason}{}", if *.wipe { " (the office ordered its local data wiped)" } else { "" })]
    Revoked { reason: String, wipe: bool },

    /// 409 `sequence_reset`: this laptop numbered new changes at or below what the server has
    /// applied for it (its store was restored from a backup). The sync renumbers them and sends
    /// them again by itself; this reaches the technician only if that fails.
    #[error("the server has already applied this laptop's changes up to number {acked_seq}, and new changes were numbered below it (was the laptop's data restored from a backup?); they are kept and will be renumbered at the next sync")]
    SequenceReset { acked_seq: i64 },

    /// Any other 4xx: the request itself is refused and resending it unchanged will not help.
    #[error("the server refused the request ({status} {kind}): {message}")]
    Refused { status: u16, kind: String, message: String },

    /// 5xx (including a proxy's 502/503/504 while the server restarts): worth retrying.
    #[error("the server at {url} failed ({status}){} — your changes are kept and sync will try again", server_says(.message))]
    ServerFailed { url: String, status: u16, message: String },

    /// An answer that is not what protocol v1 promises (e.g. a captive portal's login page).
    #[error("the answer of {url} to {what} is not a Fieldbook server's ({detail}); check the server address or the network's login page")]
    Protocol { url: String, what: &'static str, detail: String },

    #[error("cannot read attachment {}: {source}", .path.display())]
    Io { path: PathBuf, source: std::io::Error },

    #[error(transparent)]
    Store(#[from] fieldbook_core::Error),
}

fn mib(bytes: u64) -> String {
    if bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

fn server_says(message: &str) -> String {
    if message.trim().is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

impl SyncError {
    /// A stable name for machine-readable output.
    pub fn kind(&self) -> &'static str {
        match self {
            SyncError::NotEnrolled => "not_enrolled",
            SyncError::InvalidUrl { .. } => "invalid_url",
            SyncError::InsecureHttp { .. } => "insecure_http",
            SyncError::TooLarge { .. } => "too_large",
            SyncError::Unreachable { .. } => "unreachable",
            SyncError::UpgradeRequired { .. } => "protocol_unsupported",
            SyncError::Unauthorized => "unauthorized",
            SyncError::TokenExpired { .. } => "token_expired",
            SyncError::EnrollmentRefused { .. } => "enrollment_refused",
            SyncError::Revoked { .. } => "device_revoked",
            SyncError::SequenceReset { .. } => "sequence_reset",
            SyncError::Refused { .. } => "refused",
            SyncError::ServerFailed { .. } => "server_failed",
            SyncError::Protocol { .. } => "protocol",
            SyncError::Io { .. } => "io",
            SyncError::Store(e) => e.kind(),
        }
    }

    /// Retrying soon can help (the network or the server may come back). The others need a
    /// person: an update, a new enrolment, the office.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SyncError::Unreachable { .. } | SyncError::ServerFailed { .. } | SyncError::Protocol { .. } | SyncError::Io { .. } | SyncError::Store(_) | SyncError::SequenceReset { .. } | SyncError::TokenExpired { .. }
        )
    }

    /// No HTTP answer came back: the laptop is offline as far as sync is concerned.
    pub fn is_offline(&self) -> bool {
        matches!(self, SyncError::Unreachable { .. })
    }
}
