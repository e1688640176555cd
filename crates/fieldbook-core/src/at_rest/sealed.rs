//! Attachments (photos, PDFs) sealed with XChaCha20-Poly1305 under the store's attachment key.
//! A sealed file is `FBSEAL01`, a random 24-byte nonce, then the ciphertext and its tag. The
//! attachment's id (the SHA-256 of its content) is the associated data, so a file moved to
//! another attachment's name fails to open instead of showing the wrong photo.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use super::key::StoreKey;

const MAGIC: &[u8; 8] = b"FBSEAL01";
const NONCE_LEN: usize = 24;

pub struct AttachmentSeal(XChaCha20Poly1305);

impl AttachmentSeal {
    pub fn new(key: &StoreKey) -> AttachmentSeal {
        AttachmentSeal(XChaCha20Poly1305::new(key.attachment_key().as_ref().into()))
    }

    pub fn seal(&self, id: &str, plain: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let ct = self.0.encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad: id.as_bytes() }).expect("XChaCha20-Poly1305 seals any length that fits in memory");
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + ct.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// The content of a sealed file, or `None` when it was not sealed under this key for this id
    /// (tampered, swapped, or sealed by another store).
    pub fn open(&self, id: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        let rest = sealed.strip_prefix(MAGIC.as_slice())?;
        if rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ct) = rest.split_at(NONCE_LEN);
        self.0.decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: id.as_bytes() }).ok()
    }
}

/// Whether a file's bytes are sealed (as opposed to a plaintext attachment an older Fieldbook
/// wrote, which opening the store seals).
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_content_opens_only_with_its_key_and_id() {
        let seal = AttachmentSeal::new(&StoreKey::from_bytes([1; 32]));
        let sealed = seal.seal("aa11", b"photo of the pump");
        assert!(is_sealed(&sealed));
        assert!(!sealed.windows(5).any(|w| w == b"photo"));
        assert_eq!(seal.open("aa11", &sealed).unwrap(), b"photo of the pump");
        assert!(seal.open("bb22", &sealed).is_none(), "another attachment's name");
        assert!(AttachmentSeal::new(&StoreKey::from_bytes([2; 32])).open("aa11", &sealed).is_none());
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(seal.open("aa11", &flipped).is_none());
        assert!(seal.open("aa11", b"FBSEAL01short").is_none());
    }
}
