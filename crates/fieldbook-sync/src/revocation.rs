//! What happens to a revoked laptop's data: the policy of docs/sync.md ("wipes its local data
//! when nothing unsynced remains, or at once when the admin ordered a wipe") in one function, for
//! the CLI and the desktop app alike.

use std::path::Path;

use fieldbook_core::at_rest::StoreKey;
use fieldbook_core::Store;
use serde::Serialize;

use crate::error::Result;

/// The outcome of [`handle_revocation`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "local_data", rename_all = "snake_case")]
pub enum Revocation {
    /// The store and its attachments are deleted.
    Wiped,
    /// Changes the server never received are still in the outbox: the store is kept so they
    /// are not lost (the office can retrieve them from the laptop).
    Kept { unsynced: i64 },
    /// The store is not marked revoked (no revocation was received): nothing was done.
    NotRevoked,
}

impl std::fmt::Display for Revocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Revocation::Wiped => f.write_str("This laptop's Fieldbook data has been deleted"),
            Revocation::Kept { unsynced } => write!(f, "This laptop's data is kept because {unsynced} change(s) never reached the server; contact the office to recover them"),
            Revocation::NotRevoked => f.write_str("This laptop is not revoked; nothing was deleted"),
        }
    }
}

/// Applies the revocation policy to the store at `store_path` after a
/// [`SyncError::Revoked`](crate::SyncError::Revoked): wipe when nothing unsynced remains, or
/// regardless when `wipe` (the admin's order) is set; otherwise keep everything.
///
/// Every other handle on the store must be closed first: the app stops its
/// [`SyncHandle`](crate::SyncHandle) and drops its `Store`. A store not marked revoked is never
/// wiped, so a mistaken call cannot destroy a working laptop's data.
pub fn handle_revocation(store_path: &Path, key: &StoreKey, wipe: bool) -> Result<Revocation> {
    if !store_path.exists() {
        return Ok(Revocation::Wiped);
    }
    let store = Store::open(store_path, key)?;
    if store.sync_status()?.revoked_reason.is_none() {
        return Ok(Revocation::NotRevoked);
    }
    let unsynced = store.outbox_len()?;
    if unsynced > 0 && !wipe {
        return Ok(Revocation::Kept { unsynced });
    }
    store.wipe(wipe)?;
    Ok(Revocation::Wiped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_revoked_store_is_wiped_and_unsynced_work_only_on_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.db");
        let mut s = Store::open(&path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap();
        s.attach_bytes(b"photo", "image/jpeg", None).unwrap(); // one outbox entry
        let attachments = s.attachments_dir();
        drop(s);
        assert_eq!(handle_revocation(&path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32]), true).unwrap(), Revocation::NotRevoked);
        assert!(path.exists());

        Store::open(&path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap().mark_revoked("laptop replaced").unwrap();
        assert_eq!(handle_revocation(&path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32]), false).unwrap(), Revocation::Kept { unsynced: 1 });
        assert!(path.exists() && attachments.exists());
        assert_eq!(handle_revocation(&path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32]), true).unwrap(), Revocation::Wiped);
        assert!(!path.exists() && !attachments.exists());
        assert_eq!(handle_revocation(&path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32]), false).unwrap(), Revocation::Wiped, "already gone");
    }

    #[test]
    fn a_revoked_store_with_everything_synced_is_wiped_without_an_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.db");
        Store::open(&path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap().mark_revoked("left the company").unwrap();
        assert_eq!(handle_revocation(&path, &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32]), false).unwrap(), Revocation::Wiped);
        assert!(!path.exists());
    }
}
