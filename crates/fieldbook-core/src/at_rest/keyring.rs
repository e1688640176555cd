//! The store key in the operating system's credential store: Secret Service (GNOME Keyring,
//! KWallet) on Linux, Credential Manager on Windows, Keychain on macOS. One entry per store,
//! service `fieldbook`, account `store-<random store id>`.

use super::key::StoreKey;
use crate::error::Error;

const SERVICE: &str = "fieldbook";

fn entry(store_id: &str) -> Result<keyring::Entry, Error> {
    keyring::Entry::new(SERVICE, &format!("store-{store_id}")).map_err(unavailable)
}

fn unavailable(e: keyring::Error) -> Error {
    Error::KeyringUnavailable(e.to_string())
}

/// Saves a new store's key and reads it back through a fresh handle: a credential store that
/// accepts a secret but cannot return it (a locked or mock store) must fail here, before any
/// data is encrypted under a key that would then be lost.
pub fn save(store_id: &str, key: &StoreKey) -> Result<(), Error> {
    entry(store_id)?.set_password(&key.to_hex()).map_err(unavailable)?;
    match load(store_id)? {
        Some(k) if k.bytes() == key.bytes() => Ok(()),
        _ => Err(Error::KeyringUnavailable("the credential store did not give back the key it was given".into())),
    }
}

pub fn load(store_id: &str) -> Result<Option<StoreKey>, Error> {
    match entry(store_id)?.get_password() {
        Ok(hex) => Ok(Some(StoreKey::from_hex(&zeroize::Zeroizing::new(hex)).ok_or_else(|| Error::KeyringUnavailable("the keyring entry does not hold a store key".into()))?)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(unavailable(e)),
    }
}

pub fn delete(store_id: &str) -> Result<(), Error> {
    match entry(store_id)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(unavailable(e)),
    }
}

/// Whether this session has a credential store Fieldbook can use (a probe entry is written,
/// read back and deleted). False on a headless machine with no keyring daemon.
pub fn available() -> bool {
    let probe = format!("probe-{}", uuid::Uuid::new_v4());
    let key = StoreKey::generate();
    let ok = save(&probe, &key).is_ok();
    let _ = delete(&probe);
    ok
}
