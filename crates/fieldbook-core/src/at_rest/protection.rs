//! How a store's key is kept, recorded beside the store in `<store>.protection.json`. The file
//! holds no secret: the method, the store's id (the name of its keyring entry) and, for the
//! passphrase method, the store key sealed under a key derived from the passphrase with Argon2id.

use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::key::{StoreKey, KEY_LEN};
use super::keyring;
use crate::error::Error;
use crate::private_files;

/// Where a store's key is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The operating system's credential store (Secret Service, Credential Manager, Keychain).
    Keyring,
    /// Sealed beside the store under a key derived from the user's passphrase.
    Passphrase,
    /// In a file the user chose, e.g. on a removable drive. Whoever has that file has the store.
    KeyFile,
}

impl Method {
    /// How the laptop reports its store to the office, and how the CLI names it.
    pub fn label(self) -> &'static str {
        match self {
            Method::Keyring => "encrypted-keyring",
            Method::Passphrase => "encrypted-passphrase",
            Method::KeyFile => "encrypted-key-file",
        }
    }

    /// The option that unlocks a store kept this way, for error messages.
    fn how_to_unlock(self) -> &'static str {
        match self {
            Method::Keyring => "it unlocks from the OS keyring of the user who created it (`--unlock keyring`)",
            Method::Passphrase => "it unlocks with its passphrase (`--unlock passphrase`, or FIELDBOOK_PASSPHRASE)",
            Method::KeyFile => "it unlocks with its key file (`--key-file PATH`)",
        }
    }
}

/// How the user unlocks (or, for a new store, chooses to protect) a store.
pub enum Unlock {
    Keyring,
    Passphrase(Zeroizing<String>),
    KeyFile(PathBuf),
}

impl Unlock {
    pub fn method(&self) -> Method {
        match self {
            Unlock::Keyring => Method::Keyring,
            Unlock::Passphrase(_) => Method::Passphrase,
            Unlock::KeyFile(_) => Method::KeyFile,
        }
    }
}

/// Argon2id cost: 64 MiB and 3 passes, RFC 9106's second recommendation; about half a second on
/// a technician's laptop, once per start of the app.
const ARGON2_M_KIB: u32 = 64 * 1024;
const ARGON2_T: u32 = 3;
const ARGON2_P: u32 = 1;
const MIN_PASSPHRASE_CHARS: usize = 8;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ProtectionFile {
    format: u32,
    method: Method,
    /// Names this store's keyring entry; a random id, so the entry says nothing about the store.
    store_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed_key: Option<SealedKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SealedKey {
    kdf: String,
    m_kib: u32,
    t: u32,
    p: u32,
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// `<store>.protection.json`.
pub fn protection_path(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".protection.json");
    PathBuf::from(name)
}

/// How the store at `store` is protected, or `None` for a store that has no key yet (a new
/// store, or a plaintext one from before encryption).
pub fn method(store: &Path) -> Result<Option<Method>, Error> {
    Ok(read(store)?.map(|f| f.method))
}

/// The way to unlock the store at `store`: the one its protection file names (a different
/// `requested` way is refused, naming the right one); for a store with none yet, `requested`,
/// else the OS keyring when this session has one, else a passphrase.
pub fn choose(store: &Path, requested: Option<Method>) -> Result<Method, Error> {
    match (method(store)?, requested) {
        (Some(m), Some(r)) if m != r => Err(Error::WrongMethod { store: store.to_owned(), method: m, hint: m.how_to_unlock() }),
        (Some(m), _) => Ok(m),
        (None, Some(r)) => Ok(r),
        (None, None) if keyring::available() => Ok(Method::Keyring),
        (None, None) => Ok(Method::Passphrase),
    }
}

fn read(store: &Path) -> Result<Option<ProtectionFile>, Error> {
    let path = protection_path(store);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let file: ProtectionFile = serde_json::from_str(&text)
        .map_err(|e| Error::ProtectionFile { path: path.clone(), problem: e.to_string() })?;
    if file.format != 1 {
        return Err(Error::ProtectionFile { path, problem: format!("format {} is newer than this Fieldbook knows (1); update Fieldbook", file.format) });
    }
    Ok(Some(file))
}

fn write(store: &Path, file: &ProtectionFile) -> Result<(), Error> {
    let path = protection_path(store);
    // The key is saved before the store exists: its folder may not yet either.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        private_files::create_dir_all(dir)?;
    }
    let json = serde_json::to_vec_pretty(file).expect("the protection file serializes");
    private_files::write_durably(&path, &json)
}

/// The key of the store at `store`, unlocked the way `how` says. A store with no key yet gets
/// a new one, kept that way: the keyring entry, sealed key or key file is written durably
/// *before* anything is encrypted with it, so a crash never leaves data under a lost key.
pub fn unlock(store: &Path, how: &Unlock) -> Result<StoreKey, Error> {
    match read(store)? {
        Some(file) if file.method != how.method() => Err(Error::WrongMethod { store: store.to_owned(), method: file.method, hint: file.method.how_to_unlock() }),
        Some(file) => open_existing(store, &file, how),
        None => create(store, how),
    }
}

fn open_existing(store: &Path, file: &ProtectionFile, how: &Unlock) -> Result<StoreKey, Error> {
    match how {
        Unlock::Keyring => keyring::load(&file.store_id)?.ok_or_else(|| Error::KeyringEntryMissing { store: store.to_owned() }),
        Unlock::Passphrase(pass) => {
            let sealed = file.sealed_key.as_ref().ok_or_else(|| Error::ProtectionFile { path: protection_path(store), problem: "the passphrase method has no sealed key".into() })?;
            unseal_with_passphrase(store, sealed, pass)
        }
        Unlock::KeyFile(path) => read_key_file(path),
    }
}

fn create(store: &Path, how: &Unlock) -> Result<StoreKey, Error> {
    let key = StoreKey::generate();
    let store_id = uuid::Uuid::new_v4().to_string();
    let mut file = ProtectionFile { format: 1, method: how.method(), store_id, sealed_key: None };
    match how {
        Unlock::Keyring => keyring::save(&file.store_id, &key)?,
        Unlock::Passphrase(pass) => {
            if pass.chars().count() < MIN_PASSPHRASE_CHARS {
                return Err(Error::WeakPassphrase { min: MIN_PASSPHRASE_CHARS });
            }
            file.sealed_key = Some(seal_with_passphrase(&key, pass)?);
        }
        Unlock::KeyFile(path) => {
            // A key file the user made or kept from before is used as it is.
            if path.exists() {
                let existing = read_key_file(path)?;
                write(store, &file)?;
                return Ok(existing);
            }
            private_files::write_durably(path, key.to_hex().as_bytes())?;
        }
    }
    write(store, &file)?;
    Ok(key)
}

/// Forgets the key of the store at `store`: its keyring entry and its protection file. After
/// this the store's bytes, wherever a copy of them survives, cannot be decrypted.
pub fn forget(store: &Path) -> Result<(), Error> {
    // A damaged protection file names no keyring entry that could be found: it just goes.
    if let Ok(Some(file)) = read(store) {
        if file.method == Method::Keyring {
            keyring::delete(&file.store_id)?;
        }
    }
    let path = protection_path(store);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

fn argon2(m_kib: u32, t: u32, p: u32) -> Result<Argon2<'static>, Error> {
    let params = Params::new(m_kib, t, p, Some(KEY_LEN)).map_err(|e| Error::Kdf(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn seal_with_passphrase(key: &StoreKey, pass: &str) -> Result<SealedKey, Error> {
    let salt: [u8; 16] = rand::random();
    let nonce: [u8; 24] = rand::random();
    let mut kek = Zeroizing::new([0u8; KEY_LEN]);
    argon2(ARGON2_M_KIB, ARGON2_T, ARGON2_P)?.hash_password_into(pass.as_bytes(), &salt, kek.as_mut()).map_err(|e| Error::Kdf(e.to_string()))?;
    let cipher = XChaCha20Poly1305::new(kek.as_ref().into());
    let ciphertext = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: key.bytes(), aad: b"fieldbook store key v1" })
        .map_err(|_| Error::Kdf("sealing the store key failed".into()))?;
    Ok(SealedKey {
        kdf: "argon2id".into(),
        m_kib: ARGON2_M_KIB,
        t: ARGON2_T,
        p: ARGON2_P,
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    })
}

fn unseal_with_passphrase(store: &Path, sealed: &SealedKey, pass: &str) -> Result<StoreKey, Error> {
    let bad = |what: &str| Error::ProtectionFile { path: protection_path(store), problem: format!("its {what} is damaged") };
    if sealed.kdf != "argon2id" {
        return Err(bad("key derivation"));
    }
    let salt = hex::decode(&sealed.salt).map_err(|_| bad("salt"))?;
    let nonce = hex::decode(&sealed.nonce).ok().filter(|n| n.len() == 24).ok_or_else(|| bad("nonce"))?;
    let ciphertext = hex::decode(&sealed.ciphertext).map_err(|_| bad("sealed key"))?;
    let mut kek = Zeroizing::new([0u8; KEY_LEN]);
    argon2(sealed.m_kib, sealed.t, sealed.p)?.hash_password_into(pass.as_bytes(), &salt, kek.as_mut()).map_err(|e| Error::Kdf(e.to_string()))?;
    let plain = Zeroizing::new(
        XChaCha20Poly1305::new(kek.as_ref().into())
            .decrypt(XNonce::from_slice(&nonce), Payload { msg: &ciphertext, aad: b"fieldbook store key v1" })
            .map_err(|_| Error::WrongPassphrase { store: store.to_owned() })?,
    );
    let bytes: [u8; KEY_LEN] = plain.as_slice().try_into().map_err(|_| bad("sealed key"))?;
    Ok(StoreKey::from_bytes(bytes))
}

fn read_key_file(path: &Path) -> Result<StoreKey, Error> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?);
    StoreKey::from_hex(&text).ok_or_else(|| Error::KeyFile { path: path.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passphrase_store_unlocks_with_its_passphrase_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("f.db");
        let pass = |p: &str| Unlock::Passphrase(Zeroizing::new(p.to_owned()));
        assert!(matches!(unlock(&store, &pass("short")), Err(Error::WeakPassphrase { .. })));
        assert_eq!(method(&store).unwrap(), None, "a refused passphrase leaves no protection file");
        let key = unlock(&store, &pass("correct horse")).unwrap();
        assert_eq!(method(&store).unwrap(), Some(Method::Passphrase));
        assert_eq!(unlock(&store, &pass("correct horse")).unwrap().bytes(), key.bytes());
        let wrong = unlock(&store, &pass("wrong horse!")).unwrap_err();
        assert!(matches!(wrong, Error::WrongPassphrase { .. }), "{wrong}");
        // The protection file holds neither the key nor the passphrase.
        let file = std::fs::read_to_string(protection_path(&store)).unwrap();
        assert!(!file.contains(key.to_hex().as_str()) && !file.contains("correct horse"));
        let other = unlock(&store, &Unlock::KeyFile(dir.path().join("k"))).unwrap_err();
        assert!(other.to_string().contains("passphrase"), "{other}");
        forget(&store).unwrap();
        assert_eq!(method(&store).unwrap(), None);
    }

    #[test]
    fn a_key_file_is_made_once_and_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("f.db");
        let kf = dir.path().join("usb").join("fieldbook.key");
        std::fs::create_dir(kf.parent().unwrap()).unwrap();
        let key = unlock(&store, &Unlock::KeyFile(kf.clone())).unwrap();
        assert_eq!(unlock(&store, &Unlock::KeyFile(kf.clone())).unwrap().bytes(), key.bytes());
        std::fs::write(&kf, "not a key").unwrap();
        assert!(matches!(unlock(&store, &Unlock::KeyFile(kf)), Err(Error::KeyFile { .. })));
    }
}
