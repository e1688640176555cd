//! Desktop releases for laptops to update themselves from (issue #14, docs/updates.md).
//!
//! The administrator signs an artifact offline with the company's updater key (`tauri signer
//! sign`) and publishes it with `fieldbook-server release add`; laptops ask
//! `GET /api/updates/{target}/{arch}/{current_version}` after each sync and download the artifact
//! from `GET /api/updates/download/{id}`. Both need an enrolled, unrevoked laptop.
//!
//! What protects the laptops is the public key built into the app: the laptop verifies the
//! signature itself and runs nothing that does not verify. A compromised server can withhold
//! releases or offer old signed ones, but cannot make a laptop run code the admin did not sign.
//! The server's own check at `release add` (when it is given the public key) only catches an
//! admin's mistake (wrong file, wrong key) before laptops download it for nothing.
//!
//! The bytes are stored in the database in chunks (`release_chunks`), like attachments: every
//! server sharing one PostgreSQL serves every release, and a database backup holds them.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::Tx;
use crate::error::{Error, Result};
use crate::params;

/// Bytes per stored chunk (and per piece of a download).
pub const CHUNK_BYTES: usize = 4 * 1024 * 1024;
/// Largest artifact accepted (an AppImage with WebKitGTK is under 200 MiB).
pub const MAX_ARTIFACT_BYTES: u64 = 1024 * 1024 * 1024;
/// The environment variable holding the updater public key, both where the app is packaged and
/// where `release add` runs: the content of `tauri signer generate`'s `.key.pub` file.
pub const PUBKEY_ENV: &str = "FIELDBOOK_UPDATER_PUBKEY";

/// A platform as the Tauri updater names it: `{os}-{arch}`, e.g. `linux-x86_64`. Letters,
/// digits and `_` on each side of one `-`: it is only ever a lookup key, but nothing that could
/// name a path or a query gets this far.
pub fn parse_target(text: &str) -> Result<String> {
    let part_ok = |p: &str| !p.is_empty() && p.len() <= 32 && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    match text.split_once('-') {
        Some((os, arch)) if part_ok(os) && part_ok(arch) => Ok(text.to_owned()),
        _ => Err(Error::Invalid(format!("'{text}' is not a platform; give the operating system and processor as the updater names them, e.g. linux-x86_64"))),
    }
}

/// A version: semver (`1.4.0`, `1.4.0-rc.1`), a leading `v` allowed.
pub fn parse_version(text: &str) -> Result<semver::Version> {
    semver::Version::parse(text.trim().trim_start_matches('v'))
        .map_err(|e| Error::Invalid(format!("'{text}' is not a version ({e}); give it as MAJOR.MINOR.PATCH, e.g. 1.4.0")))
}

/// A `.sig` file as Fieldbook stores and serves it: the base64 of minisign's signature file,
/// which is what `tauri signer sign` writes. A bare minisign signature file (starting
/// "untrusted comment:") is accepted and encoded.
pub fn normalize_signature(text: &str) -> Result<String> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let trimmed = text.trim();
    let decoded = if trimmed.starts_with("untrusted comment:") {
        trimmed.to_owned() + "\n"
    } else {
        let bytes = b64.decode(trimmed).map_err(|_| Error::Invalid("the signature file is neither a minisign signature nor its base64 (as `tauri signer sign` writes it)".into()))?;
        String::from_utf8(bytes).map_err(|_| Error::Invalid("the signature file's base64 does not hold a minisign signature".into()))?
    };
    minisign_verify::Signature::decode(&decoded).map_err(|e| Error::Invalid(format!("the signature file does not hold a minisign signature ({e})")))?;
    Ok(b64.encode(decoded.as_bytes()))
}

/// The version a signature is bound to (`tauri signer sign --app-version V` writes `version:V`
/// into minisign's trusted comment). Laptops require it to equal the version the server
/// announces (`requireSignedVersion`), so that a server cannot pass an old signed build off as a
/// new one; `release add` checks it first so that the admin learns it, not the laptops.
pub fn check_signed_version(signature_b64: &str, version: &semver::Version) -> Result<()> {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.decode(signature_b64).ok().and_then(|b| String::from_utf8(b).ok()).unwrap_or_default();
    let sig = minisign_verify::Signature::decode(&text).map_err(|e| Error::Invalid(format!("the signature does not decode ({e})")))?;
    let signed = sig.trusted_comment().split('\t').find_map(|f| f.strip_prefix("version:")).map(str::to_owned);
    match signed {
        Some(v) if semver::Version::parse(v.trim_start_matches('v')).ok().as_ref() == Some(version) => Ok(()),
        Some(v) => Err(Error::Invalid(format!(
            "the signature is bound to version {v}, not {version}: laptops would refuse it. Publish it as {v}, or sign the {version} build with `tauri signer sign --app-version {version}`"
        ))),
        None => Err(Error::Invalid(format!(
            "the signature is not bound to a version, and laptops require that: sign again with `tauri signer sign --app-version {version} …`"
        ))),
    }
}

/// The updater public key as the app is packaged with it: the base64 of minisign's public key
/// file (the content of `tauri signer generate`'s `.key.pub`). A bare public key file is
/// accepted too.
pub fn decode_public_key(text: &str) -> Result<minisign_verify::PublicKey> {
    use base64::Engine;
    let trimmed = text.trim();
    let box_text = if trimmed.starts_with("untrusted comment:") {
        trimmed.to_owned()
    } else {
        let bytes = base64::engine::general_purpose::STANDARD.decode(trimmed).ok().and_then(|b| String::from_utf8(b).ok());
        bytes.ok_or_else(|| Error::Invalid(format!("the updater public key ({PUBKEY_ENV}) is not the content of a .key.pub file from `tauri signer generate`")))?
    };
    minisign_verify::PublicKey::decode(&box_text)
        .or_else(|_| minisign_verify::PublicKey::from_base64(box_text.trim()))
        .map_err(|e| Error::Invalid(format!("the updater public key ({PUBKEY_ENV}) is not a minisign public key ({e})")))
}

/// Verifies an artifact against its signature (stored form) and the public key, exactly as the
/// updater on the laptop does.
pub fn verify(bytes: &[u8], signature_b64: &str, public_key: &minisign_verify::PublicKey) -> Result<()> {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.decode(signature_b64).ok().and_then(|b| String::from_utf8(b).ok()).unwrap_or_default();
    let sig = minisign_verify::Signature::decode(&text).map_err(|e| Error::Invalid(format!("the signature does not decode ({e})")))?;
    public_key.verify(bytes, &sig, true).map_err(|e| {
        Error::Invalid(format!(
            "the signature does not verify with the updater public key ({e}): the file was changed after signing, the .sig belongs to another file, \
             or it was signed with another key. Nothing was published; laptops would refuse it"
        ))
    })
}

/// A release to publish.
pub struct NewRelease<'a> {
    pub version: &'a semver::Version,
    pub target: &'a str,
    pub notes_en: Option<&'a str>,
    pub notes_zh: Option<&'a str>,
    pub file_name: &'a str,
    pub bytes: &'a [u8],
    pub signature: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Release {
    pub id: i64,
    pub version: String,
    pub target: String,
    pub notes_en: Option<String>,
    pub notes_zh: Option<String>,
    pub file_name: String,
    pub byte_size: i64,
    pub sha256: String,
    pub signature: String,
    pub published_at: String,
    pub withdrawn_at: Option<String>,
}

const COLUMNS: &str = "id, version, target, notes_en, notes_zh, file_name, byte_size, sha256, signature, published_at, withdrawn_at";

fn row_to_release(r: &crate::db::Row) -> Result<Release> {
    Ok(Release {
        id: r.int(0)?,
        version: r.text(1)?,
        target: r.text(2)?,
        notes_en: r.opt_text(3)?,
        notes_zh: r.opt_text(4)?,
        file_name: r.text(5)?,
        byte_size: r.int(6)?,
        sha256: r.text(7)?,
        signature: r.text(8)?,
        published_at: r.text(9)?,
        withdrawn_at: r.opt_text(10)?,
    })
}

/// Stores a release and its bytes, all or nothing. A version once published for a target is
/// never reused, even withdrawn: a laptop may already run it.
pub fn add(tx: &mut dyn Tx, new: &NewRelease) -> Result<Release> {
    let version = new.version.to_string();
    if tx.query_opt("SELECT id FROM releases WHERE target = $1 AND version = $2", params![new.target, version.as_str()])?.is_some() {
        return Err(Error::Conflict {
            message: format!("version {version} for {} was already published (laptops may run it); publish the new build as a higher version", new.target),
            upload_offset: None,
        });
    }
    let sha = hex::encode(Sha256::digest(new.bytes));
    let row = tx.query_one(
        "INSERT INTO releases (version, target, notes_en, notes_zh, file_name, byte_size, sha256, signature, published_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        params![
            version.as_str(),
            new.target,
            new.notes_en.map(str::to_owned),
            new.notes_zh.map(str::to_owned),
            new.file_name,
            new.bytes.len() as i64,
            sha.as_str(),
            new.signature,
            crate::now_text()
        ],
    )?;
    let id = row.int(0)?;
    for (i, chunk) in new.bytes.chunks(CHUNK_BYTES).enumerate() {
        tx.execute("INSERT INTO release_chunks (release_id, chunk_offset, data) VALUES ($1, $2, $3)", params![id, (i * CHUNK_BYTES) as i64, chunk])?;
    }
    get(tx, id)?.ok_or_else(|| Error::Internal(format!("release {id} vanished right after it was stored")))
}

pub fn get(tx: &mut dyn Tx, id: i64) -> Result<Option<Release>> {
    tx.query_opt(&format!("SELECT {COLUMNS} FROM releases WHERE id = $1"), params![id])?.map(|r| row_to_release(&r)).transpose()
}

/// Every release, newest first (withdrawn ones too, marked).
pub fn list(tx: &mut dyn Tx) -> Result<Vec<Release>> {
    let mut all: Vec<Release> = tx.query(&format!("SELECT {COLUMNS} FROM releases"), params![])?.iter().map(row_to_release).collect::<Result<_>>()?;
    all.sort_by(|a, b| a.target.cmp(&b.target).then_with(|| semver_of(&b.version).cmp(&semver_of(&a.version))));
    Ok(all)
}

fn semver_of(v: &str) -> Option<semver::Version> {
    semver::Version::parse(v).ok()
}

/// Withdraws a release: offered to nobody from now on, its bytes deleted (a laptop in the middle
/// of downloading it gets an error and keeps its version). The row stays so that the version is
/// never reused.
pub fn withdraw(tx: &mut dyn Tx, version: &semver::Version, target: &str) -> Result<Release> {
    let v = version.to_string();
    let row = tx.query_opt(&format!("SELECT {COLUMNS} FROM releases WHERE target = $1 AND version = $2"), params![target, v.as_str()])?;
    let Some(release) = row.map(|r| row_to_release(&r)).transpose()? else {
        return Err(Error::NotFound(format!("no release {v} for {target}; `fieldbook-server release list` shows them")));
    };
    if release.withdrawn_at.is_some() {
        return Ok(release);
    }
    tx.execute("UPDATE releases SET withdrawn_at = $1 WHERE id = $2", params![crate::now_text(), release.id])?;
    tx.execute("DELETE FROM release_chunks WHERE release_id = $1", params![release.id])?;
    get(tx, release.id)?.ok_or_else(|| Error::Internal(format!("release {} vanished while being withdrawn", release.id)))
}

/// The newest release for `target` that is newer than `current`, if any.
pub fn newer_than(tx: &mut dyn Tx, target: &str, current: &semver::Version) -> Result<Option<Release>> {
    let rows = tx.query(&format!("SELECT {COLUMNS} FROM releases WHERE target = $1 AND withdrawn_at IS NULL"), params![target])?;
    let mut best: Option<(semver::Version, Release)> = None;
    for r in &rows {
        let release = row_to_release(r)?;
        let Some(v) = semver_of(&release.version) else { continue };
        if &v > current && best.as_ref().is_none_or(|(b, _)| &v > b) {
            best = Some((v, release));
        }
    }
    Ok(best.map(|(_, r)| r))
}

/// A release's artifact that may be downloaded (published, not withdrawn).
pub fn downloadable(tx: &mut dyn Tx, id: i64) -> Result<Option<Release>> {
    Ok(get(tx, id)?.filter(|r| r.withdrawn_at.is_none()))
}

/// The first stored chunk at or after `from`: (its offset, its bytes).
pub fn chunk_from(tx: &mut dyn Tx, id: i64, from: i64) -> Result<Option<(i64, Vec<u8>)>> {
    let row = tx.query_opt("SELECT chunk_offset, data FROM release_chunks WHERE release_id = $1 AND chunk_offset >= $2 ORDER BY chunk_offset LIMIT 1", params![id, from])?;
    row.map(|r| Ok((r.int(0)?, r.blob(1)?))).transpose()
}

/// What the updater on a laptop reads (Tauri's dynamic update format).
#[derive(Debug, Serialize)]
pub struct UpdateOffer {
    pub version: String,
    /// The notes in both languages; the app shows the one in the technician's language.
    pub notes: String,
    pub pub_date: String,
    pub url: String,
    pub signature: String,
    pub notes_en: Option<String>,
    pub notes_zh: Option<String>,
}

impl UpdateOffer {
    pub fn new(release: Release, download_url: String) -> UpdateOffer {
        let notes = match (&release.notes_en, &release.notes_zh) {
            (Some(en), Some(zh)) => format!("{en}\n\n{zh}"),
            (Some(one), None) | (None, Some(one)) => one.clone(),
            (None, None) => String::new(),
        };
        UpdateOffer { version: release.version, notes, pub_date: release.published_at, url: download_url, signature: release.signature, notes_en: release.notes_en, notes_zh: release.notes_zh }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_os_dash_arch_and_nothing_else() {
        assert!(parse_target("linux-x86_64").is_ok());
        assert!(parse_target("windows-aarch64").is_ok());
        for bad in ["linux", "../etc-passwd", "linux-x86_64/..", "linux-", "-x86_64", "Linux-x86_64", "linux-x86 64", "linux-x86_64-appimage", "", "linux-%2e%2e"] {
            assert!(parse_target(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn versions_are_semver() {
        assert_eq!(parse_version("v1.2.3").unwrap().to_string(), "1.2.3");
        for bad in ["1.2", "..%2f", "1.2.3/../x", "latest", ""] {
            assert!(parse_version(bad).is_err(), "{bad} accepted");
        }
    }
}
