//! The messages of sync protocol version 2 (see `docs/sync.md`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The protocol this build speaks; sent as the `Fieldbook-Protocol` header. Version 2: a feed
/// change's `clocks` may be in the compact form of [`crate::sync::stamps`].
pub const PROTOCOL_VERSION: u32 = 2;
/// The header carrying [`PROTOCOL_VERSION`].
pub const PROTOCOL_HEADER: &str = "Fieldbook-Protocol";
/// Most entries in one push batch.
pub const MAX_PUSH_BATCH: usize = 1000;
/// Most changes in one pull page.
pub const MAX_PULL_PAGE: usize = 5000;

/// One outbox entry on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushEntry {
    /// The laptop's per-device sequence number.
    pub seq: i64,
    pub entity: String,
    pub record_id: String,
    /// Changed fields and their new values.
    pub fields: Map<String, Value>,
    /// The HLC stamp of this write (every field in it gets this stamp).
    pub hlc: String,
    /// Per changed field: its stamp on the laptop before this write (`None`: no value yet).
    #[serde(default)]
    pub base: Map<String, Value>,
    /// Only in a re-sent entry (a laptop recovering from a server restored from a backup,
    /// docs/sync.md): every field's original stamp, listed, since a record is re-sent whole
    /// with fields written at different times. `hlc` is then the newest of them and `base` is
    /// empty: the laptop no longer knows what it had seen, so no conflict is recorded (the
    /// merge by stamps decides). Every check of a normal push still applies, to every stamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamps: Option<Map<String, Value>>,
}

impl PushEntry {
    /// The write this entry asks the merge to apply: one stamp for every field and the base,
    /// or, re-sent, each field's own stamp and no base.
    pub fn incoming(&self) -> crate::sync::merge::IncomingWrite<'_> {
        use crate::sync::merge::{IncomingWrite, Stamps};
        match &self.stamps {
            Some(stamps) => IncomingWrite { fields: &self.fields, clocks: Stamps::PerField(stamps), base: None },
            None => IncomingWrite { fields: &self.fields, clocks: Stamps::All(&self.hlc), base: Some(&self.base) },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub entries: Vec<PushEntry>,
}

/// An entry the server will never apply, with the reason, for the technician to see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    pub seq: i64,
    pub entity: String,
    pub record_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    /// Every entry up to here is applied (or rejected for good): delete them from the outbox.
    pub acked_seq: i64,
    pub applied: u32,
    pub duplicates: u32,
    pub conflicts: u32,
    #[serde(default)]
    pub rejected: Vec<Rejection>,
    pub server_hlc: String,
}

/// One change of the feed: the full state of a record after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedChange {
    pub seq: i64,
    pub entity: String,
    pub record_id: String,
    /// Every field of the record.
    pub fields: Map<String, Value>,
    /// The stamp of every field, in the compact form of [`crate::sync::stamps`] (`"*"` for
    /// every field not listed).
    pub clocks: Map<String, Value>,
}

impl FeedChange {
    /// The stamp of one of the fields this change carries.
    pub fn stamp(&self, field: &str) -> Option<&str> {
        super::stamps::stamp_of(&self.clocks, field)
    }

    /// The stamp of every field this change carries, listed.
    pub fn stamps(&self) -> Map<String, Value> {
        super::stamps::expand(self.clocks.clone(), self.fields.keys().map(String::as_str))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub changes: Vec<FeedChange>,
    /// Ask from here next time (the last change's seq, or the request's cursor when empty).
    pub next_cursor: i64,
    /// More changes are waiting: ask again at once.
    pub more: bool,
    pub server_hlc: String,
    /// The company's offline lock: a laptop that has not synced for this many days hides its
    /// records until it syncs again (`None`: no lock; also what an older server, which does
    /// not send it, means). The laptop keeps the value of the last page it applied.
    #[serde(default)]
    pub offline_lock_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub code: String,
    pub device_id: String,
    /// Hex Ed25519 public key.
    pub public_key: String,
    #[serde(default)]
    pub device_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub device_token: String,
    pub technician: String,
    pub server_hlc: String,
}

/// `POST /api/device/token`, the first request of every sync run: the laptop reports how its
/// store is protected (its own claim; the server only records it) and learns whether its token
/// is due for rotation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenCheckRequest {
    /// `encrypted-keyring`, `encrypted-passphrase`, `encrypted-key-file`, `encrypted` (the way
    /// the key is kept is not recorded) or `plaintext` ([`STORE_PROTECTION_LABELS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_protection: Option<String>,
}

/// The labels a laptop reports for its store's protection.
pub const STORE_PROTECTION_LABELS: &[&str] = &["encrypted-keyring", "encrypted-passphrase", "encrypted-key-file", "encrypted", "plaintext"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenCheckResponse {
    /// A fresh token when the one used is due for rotation: store it durably, then use it. The
    /// first request made with it retires the old one; until then the old one still works (and
    /// is answered this same new token again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    /// When the token to use from now on stops working unless rotated or renewed (RFC 3339).
    pub expires_at: String,
    /// Where the server's database stands, for telling a server restored from a backup
    /// (absent from servers before it was introduced: nothing is detected then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerLineage>,
}

/// The server's database lineage and how far it got, as the laptop compares it with what it
/// knows (docs/sync.md, "A server restored from a backup").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerLineage {
    /// The database's epoch: made at its first migration, new after every announced restore
    /// (`fieldbook-server restore`, `fieldbook-server epoch new`).
    pub epoch: String,
    /// The feed's last seq when this epoch began: feed positions up to it are the ones the
    /// previous lineage had too; past it they may name other changes.
    pub epoch_feed_start: i64,
    /// The feed's last seq now.
    pub feed_head: i64,
    /// The highest outbox seq of this laptop the server has applied, and its stamp.
    pub acked_seq: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_hlc: Option<String>,
}

/// `POST /api/device/renew/challenge`: a laptop whose token expired asks for a one-time nonce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenewChallengeRequest {
    pub device_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenewChallengeResponse {
    /// Sign [`crate::signature::token_renewal_message`] of it with the device key.
    pub nonce: String,
    pub expires_at: String,
}

/// `POST /api/device/renew`: the nonce, signed with the Ed25519 key registered at enrolment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenewRequest {
    pub device_id: String,
    pub nonce: String,
    /// Hex Ed25519 signature of [`crate::signature::token_renewal_message`].
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenewResponse {
    pub device_token: String,
    pub technician: String,
    pub expires_at: String,
}

/// The JSON body of every error answer: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable: `unauthorized`, `token_expired`, `device_revoked`, `protocol_unsupported`, `invalid`, `forbidden`,
    /// `not_found`, `too_large`, `conflict`, `sequence_reset`, `internal`.
    pub kind: String,
    pub message: String,
    /// With `device_revoked`: the admin ordered this laptop's data wiped.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wipe: bool,
    /// With `sequence_reset`: the highest outbox seq the server has applied for this device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_seq: Option<i64>,
}
