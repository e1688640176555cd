//! Sync, the transport-free part: the protocol's message types, the per-field merge rule every
//! replica applies, and (in `store::sync`) the laptop's side of pushing and pulling. HTTP lives
//! in the `fieldbook-sync` client crate and the server; see `docs/sync.md`.

pub mod merge;
pub mod protocol;
pub mod stamps;
