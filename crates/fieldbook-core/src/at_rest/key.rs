//! The store key: 32 random bytes per laptop store, from which the SQLCipher page key and the
//! attachment sealing key are derived (HKDF-SHA256, one label each), so neither use can be
//! turned into the other.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

pub const KEY_LEN: usize = 32;

/// The key of one laptop store. Wiped from memory when dropped; never printed.
#[derive(Clone)]
pub struct StoreKey(Zeroizing<[u8; KEY_LEN]>);

impl StoreKey {
    /// A fresh random key, for a store that has none yet.
    pub fn generate() -> StoreKey {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, k.as_mut());
        StoreKey(k)
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> StoreKey {
        StoreKey(Zeroizing::new(bytes))
    }

    pub(crate) fn from_hex(text: &str) -> Option<StoreKey> {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        hex::decode_to_slice(text.trim(), k.as_mut()).ok()?;
        Some(StoreKey(k))
    }

    pub(crate) fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.as_ref()))
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key SQLCipher encrypts pages with, as its raw-key literal `x'…'`: a raw key skips
    /// SQLCipher's own PBKDF2 (the store key is already random), so opening a store is fast.
    pub(crate) fn sqlcipher_key(&self) -> Zeroizing<String> {
        let k = self.subkey(b"fieldbook sqlcipher page key v1");
        Zeroizing::new(format!("x'{}'", hex::encode(k.as_ref())))
    }

    /// The key attachments are sealed with.
    pub(crate) fn attachment_key(&self) -> Zeroizing<[u8; KEY_LEN]> {
        self.subkey(b"fieldbook attachment key v1")
    }

    fn subkey(&self, label: &[u8]) -> Zeroizing<[u8; KEY_LEN]> {
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        Hkdf::<Sha256>::new(None, self.0.as_ref()).expand(label, out.as_mut()).expect("32 bytes is a valid HKDF-SHA256 length");
        out
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subkeys_differ_from_each_other_and_from_the_key() {
        let k = StoreKey::from_bytes([7; 32]);
        let page = k.sqlcipher_key();
        let att = hex::encode(k.attachment_key().as_ref());
        assert_eq!(page.len(), 2 + 64 + 1);
        assert!(!page.contains(&att));
        assert!(!page.contains(k.to_hex().as_str()) && att != *k.to_hex());
        assert_eq!(format!("{k:?}"), "StoreKey(…)");
        assert_eq!(StoreKey::from_hex(&k.to_hex()).unwrap().bytes(), k.bytes());
        assert!(StoreKey::from_hex("abc").is_none());
    }
}
