//! The server's one error type, and how each error is answered over HTTP: always the protocol's
//! `ErrorBody` JSON (`{"error": {"kind", "message", "wipe"?}}`) with a stable `kind`.

use std::path::PathBuf;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use fieldbook_core::sync::protocol::{ErrorBody, ErrorDetail};

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The laptop speaks another protocol version (or sent none).
    #[error("please update Fieldbook: {0}")]
    ProtocolUnsupported(String),

    #[error("{0}")]
    Unauthorized(String),

    /// A device token past its life (`token_expired`, 401): the laptop renews it with its device
    /// key (`POST /api/device/renew`), without the office.
    #[error(
        "this laptop's device token expired at {expired_at}; Fieldbook renews it with the laptop's device key at the next sync \
         (update Fieldbook if it does not), or the office can issue a code to enrol the laptop again"
    )]
    TokenExpired { expired_at: String },

    #[error("this laptop's access was revoked ({reason}){}", if *.wipe { "; the office ordered its data wiped" } else { "" })]
    DeviceRevoked { reason: String, wipe: bool },

    #[error("{0}")]
    Forbidden(String),

    #[error("{0}")]
    Invalid(String),

    #[error("{0}")]
    NotFound(String),

    #[error("{0}")]
    TooLarge(String),

    /// An order the office tried to approve without the customer's signature of its current
    /// revision or a recorded close exception (`not_signed`, 422): the message says what is
    /// missing and how to proceed.
    #[error("{0}")]
    NotSigned(String),

    /// A request that does not fit the current state, e.g. an upload at the wrong offset (the
    /// server's offset is answered in `Upload-Offset`).
    #[error("{message}")]
    Conflict { message: String, upload_offset: Option<i64> },

    /// A push whose outbox numbers went back below what the server already applied for the
    /// device (its store was restored from a backup): resending would make the server skip new
    /// changes as duplicates, so the batch is refused until the laptop renumbers them.
    #[error(
        "this laptop numbered new changes at or below {acked_seq}, which the server has already applied for it \
         (was its data restored from a backup?); it must number its unsynced changes after {acked_seq} and send them again"
    )]
    SequenceReset { acked_seq: i64 },

    #[error(
        "{database}: the database has server schema version {found}, but this fieldbook-server only knows up to \
         version {supported}. It was written by a newer fieldbook-server; update this one (nothing was changed)"
    )]
    SchemaTooNew { database: String, found: i64, supported: i64 },

    /// Errors of the core (import documents, templates), already in the users' words.
    #[error(transparent)]
    Core(#[from] fieldbook_core::Error),

    #[error("{path}: {source}")]
    Io { path: PathBuf, #[source] source: std::io::Error },

    #[error("database error: {0}")]
    Db(#[from] DbError),

    #[error("TLS: {0}")]
    Tls(String),

    /// Too many failed logins for an account or from an address (see [`crate::login`]): 429
    /// with `Retry-After`.
    #[error("{message}")]
    Throttled { message: String, retry_after: u64 },

    /// The server cannot take this on right now (too many password checks at once): 503 with
    /// `Retry-After`.
    #[error("{0}")]
    Busy(String),

    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict { message: message.into(), upload_offset: None }
    }

    /// The protocol's stable name for this kind of error.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::ProtocolUnsupported(_) => "protocol_unsupported",
            Error::Unauthorized(_) => "unauthorized",
            Error::TokenExpired { .. } => "token_expired",
            Error::DeviceRevoked { .. } => "device_revoked",
            Error::Forbidden(_) => "forbidden",
            Error::Invalid(_) => "invalid",
            Error::Core(fieldbook_core::Error::Invalid(_) | fieldbook_core::Error::Import { .. }) => "invalid",
            Error::NotFound(_) => "not_found",
            Error::TooLarge(_) => "too_large",
            Error::NotSigned(_) => "not_signed",
            Error::Conflict { .. } => "conflict",
            Error::SequenceReset { .. } => "sequence_reset",
            Error::Throttled { .. } => "throttled",
            Error::Busy(_) => "busy",
            Error::Db(e) if e.is_bad_value() => "invalid",
            _ => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self.kind() {
            "protocol_unsupported" => StatusCode::UPGRADE_REQUIRED,
            "unauthorized" | "token_expired" => StatusCode::UNAUTHORIZED,
            "device_revoked" | "forbidden" => StatusCode::FORBIDDEN,
            "invalid" => StatusCode::BAD_REQUEST,
            "not_found" => StatusCode::NOT_FOUND,
            "too_large" => StatusCode::PAYLOAD_TOO_LARGE,
            "not_signed" => StatusCode::UNPROCESSABLE_ENTITY,
            "conflict" | "sequence_reset" => StatusCode::CONFLICT,
            "throttled" => StatusCode::TOO_MANY_REQUESTS,
            "busy" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The JSON error answer for a kind and message.
pub fn error_response(status: StatusCode, kind: &str, message: String, wipe: bool) -> Response {
    let body = ErrorBody { error: ErrorDetail { kind: kind.to_owned(), message, wipe, acked_seq: None } };
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let kind = self.kind();
        let message = if let Error::Db(e) = &self {
            if kind == "invalid" {
                tracing::info!(error = %e, "the database refused a value of a request");
                "a value in this request cannot be stored (for example a NUL character in text): remove it and send the request again".to_owned()
            } else {
                tracing::error!(error = %self, "request failed");
                "the server failed to handle this request; the details are in the server log".to_owned()
            }
        } else if kind == "internal" {
            // The details (SQL, paths) go to the log, not to the laptop.
            tracing::error!(error = %self, "request failed");
            "the server failed to handle this request; the details are in the server log".to_owned()
        } else {
            self.to_string()
        };
        let wipe = matches!(self, Error::DeviceRevoked { wipe: true, .. });
        let mut resp = match self {
            Error::SequenceReset { acked_seq } => {
                let body = ErrorBody { error: ErrorDetail { kind: kind.to_owned(), message, wipe, acked_seq: Some(acked_seq) } };
                (status, axum::Json(body)).into_response()
            }
            _ => error_response(status, kind, message, wipe),
        };
        match self {
            Error::Conflict { upload_offset: Some(o), .. } => {
                resp.headers_mut().insert("Upload-Offset", HeaderValue::from(o));
            }
            Error::Throttled { retry_after, .. } => {
                resp.headers_mut().insert(axum::http::header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            Error::Busy(_) => {
                resp.headers_mut().insert(axum::http::header::RETRY_AFTER, HeaderValue::from(1));
            }
            _ => {}
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert("WWW-Authenticate", HeaderValue::from_static("Bearer realm=\"fieldbook\", Basic realm=\"fieldbook\""));
        }
        resp
    }
}
