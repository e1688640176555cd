//! The laptop's data at rest (issue #13): the store encrypted with SQLCipher, attachments
//! sealed with an AEAD, and the one store key that opens both, kept in the OS credential store
//! or sealed under a passphrase — never in the clear on disk.
//!
//! - [`key`]: the store key and the subkeys derived from it.
//! - [`protection`]: how a store's key is kept (`<store>.protection.json`), unlocking, forgetting.
//! - [`keyring`]: the OS credential store.
//! - [`encrypt`]: the crash-safe migration of a plaintext store.
//! - [`sealed`]: sealed attachment files.
//!
//! The store never opens without a key; [`crate::store::Store::open`] takes one.

pub mod encrypt;
pub mod key;
pub mod keyring;
pub mod protection;
pub mod sealed;

pub use key::StoreKey;
pub use protection::{choose, forget, method, protection_path, unlock, Method, Unlock};
