//! Wiping a laptop (issue #13, "a lost or stolen laptop gives nothing away"): everything of
//! Fieldbook's on this computer, for the revocation policy (`fieldbook-sync`'s
//! `handle_revocation`), `fieldbook wipe` and the desktop app alike.
//!
//! Two parts:
//!
//! - [`wipe_store_files`]: the store and everything named after it in its folder — its WAL and
//!   shared-memory files, its attachments folder, leftovers of a migration (`<store>.encrypting`,
//!   `<store>.protection.json`) — and the store's key in the operating system's keyring.
//!   **Every wipe goes through this one function**, so everything that belongs to a store is
//!   removed in one place.
//! - [`wipe_app_folders`]: the folders Fieldbook's programs keep outside the store's — the
//!   desktop app's data, configuration and caches (the web view's local storage and HTTP cache
//!   among them: Tauri 2 gives WebKitGTK `$XDG_DATA_HOME/<identifier>` for both its data and its
//!   cache), and the temporary folders of reports opened for printing. These belong to the laptop's one store at the default path:
//!   wiping a store elsewhere (`--db`, `FIELDBOOK_DB`: a test, a support copy) leaves them alone.
//!
//! What stays is listed in docs/security.md ("Wipe"). Deleting a file does not erase its blocks:
//! without full-disk encryption they may be read back from the free space.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The desktop app's identifier (`src-tauri/tauri.conf.json`); Tauri and WebKitGTK name the
/// app's data, configuration and cache folders after it. A test in `src-tauri` checks they agree.
pub const APP_IDENTIFIER: &str = "com.fieldbook.desktop";
/// The desktop binary's name, which WebKitGTK uses for folders of its own when no identifier is
/// given to it.
pub const DESKTOP_BINARY: &str = "fieldbook-desktop";
/// The name every temporary folder of reports opened for printing starts with.
pub const REPORT_DIR_PREFIX: &str = "fieldbook-reports-";
/// The file that says a wipe has not finished removing the web view's data (it can only be
/// removed once the web view is closed): the desktop finishes it at its next start.
pub const PENDING_MARKER: &str = "wipe-pending";

/// Deletes the store at `store_path` and every file or folder in its folder whose name starts
/// with the store's file name. Missing files are fine (a wipe may be repeated). Every path is
/// tried even when one fails; the first failure is returned. Returns what was removed.
pub fn wipe_store_files(store_path: &Path) -> Result<Vec<PathBuf>> {
    let Some(name) = store_path.file_name().map(|n| n.to_os_string()) else {
        return Err(Error::io(store_path, std::io::Error::other("not a store file; give the path of the store (e.g. fieldbook.db)")));
    };
    let dir = store_path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut targets = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry.map_err(|e| Error::io(dir, e))?;
                if entry.file_name().as_encoded_bytes().starts_with(name.as_encoded_bytes()) {
                    targets.push(entry.path());
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(dir, e)),
    }
    // The store's key goes first (its keyring entry is named in the protection file removed
    // below): without it, any copy of the store's bytes that survives stays unreadable. A
    // keyring that cannot be reached does not keep the files from being removed.
    let forgotten = crate::at_rest::forget(store_path);
    let removed = remove_all(targets)?;
    forgotten?;
    Ok(removed)
}

/// The folders of Fieldbook's programs outside the store's folder that exist now: the desktop
/// app's data, configuration and cache folders (the web view's among them) and the temporary
/// report folders of this user.
pub fn app_folders() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let named = [APP_IDENTIFIER, DESKTOP_BINARY, "fieldbook"];
    for base in [Some(data_dir()), cache_dir(), config_dir()].into_iter().flatten() {
        for name in named {
            // The store's own folder (`<data>/fieldbook`) is the store's: see `wipe_laptop`.
            if base == data_dir() && name == "fieldbook" {
                continue;
            }
            out.push(base.join(name));
        }
    }
    #[cfg(target_os = "macos")]
    if let Some(home) = home_dir() {
        out.push(home.join("Library").join("WebKit").join(APP_IDENTIFIER));
        out.push(home.join("Library").join("WebKit").join(DESKTOP_BINARY));
    }
    out.retain(|p| p.symlink_metadata().is_ok());
    out.extend(report_dirs());
    out
}

/// Deletes [`app_folders`]. Returns what was removed.
pub fn wipe_app_folders() -> Result<Vec<PathBuf>> {
    remove_all(app_folders())
}

/// A whole wipe: the store's files ([`wipe_store_files`]), and when the store is the laptop's
/// own (at the default path) also the app folders ([`wipe_app_folders`]) and the store's folder
/// once it is empty. Returns what was removed.
pub fn wipe_laptop(store_path: &Path) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    // Decided before the store goes: comparing by the real path needs the file.
    let own = is_default_store(store_path);
    let store = wipe_store_files(store_path);
    if let Ok(r) = &store {
        removed.extend(r.iter().cloned());
    }
    let mut folders = Ok(());
    if own {
        match wipe_app_folders() {
            Ok(r) => removed.extend(r),
            Err(e) => folders = Err(e),
        }
        if let Some(dir) = store_path.parent() {
            // Only when nothing else is in it (another store, the pending marker).
            if std::fs::remove_dir(dir).is_ok() {
                removed.push(dir.to_owned());
            }
        }
    }
    store?;
    folders?;
    Ok(removed)
}

/// Whether `store_path` is the laptop's store at the default path, whose wipe takes the app's
/// folders with it.
pub fn is_default_store(store_path: &Path) -> bool {
    let default = crate::default_db_path();
    store_path == default || (store_path.canonicalize().ok().zip(default.canonicalize().ok()).is_some_and(|(a, b)| a == b))
}

/// Where the desktop notes a wipe whose web-view data is still to be removed.
pub fn pending_marker() -> PathBuf {
    crate::default_db_path().with_file_name(PENDING_MARKER)
}

/// Notes that the app folders must be wiped again once the web view is closed.
pub fn mark_pending() -> Result<()> {
    let marker = pending_marker();
    if let Some(dir) = marker.parent() {
        crate::private_files::create_dir_all(dir)?;
    }
    std::fs::write(&marker, b"").map_err(|e| Error::io(&marker, e))
}

/// At start-up, before any web view exists: finishes a wipe noted by [`mark_pending`] (the app
/// folders again, then the marker). Returns what was removed (nothing when no wipe is pending).
pub fn finish_pending() -> Result<Vec<PathBuf>> {
    let marker = pending_marker();
    if !marker.exists() {
        return Ok(Vec::new());
    }
    let removed = wipe_app_folders()?;
    std::fs::remove_file(&marker).map_err(|e| Error::io(&marker, e))?;
    if let Some(dir) = marker.parent() {
        let _ = std::fs::remove_dir(dir);
    }
    Ok(removed)
}

/// Removes each path (a folder with everything in it); tries all, returns the first failure.
fn remove_all(paths: Vec<PathBuf>) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let mut first_error = None;
    for p in paths {
        let Ok(meta) = p.symlink_metadata() else { continue };
        let done = if meta.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
        match done {
            Ok(()) => removed.push(p),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                first_error.get_or_insert(Error::io(&p, std::io::Error::other(format!("could not delete it during a wipe: {e}; delete it by hand"))));
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(removed),
    }
}

/// This user's temporary report folders (`fieldbook-reports-*`, made by the desktop's
/// `private_report_dir`) in `$XDG_RUNTIME_DIR` and the temporary folder.
fn report_dirs() -> Vec<PathBuf> {
    let mut bases = vec![std::env::temp_dir()];
    if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from).filter(|p| p.is_absolute()) {
        bases.push(run);
    }
    bases.dedup();
    let mut out = Vec::new();
    for base in bases {
        let Ok(entries) = std::fs::read_dir(&base) else { continue };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(REPORT_DIR_PREFIX) && owned_by_user(&entry.path()) {
                out.push(entry.path());
            }
        }
    }
    out
}

/// A shared temporary folder holds other users' folders too: only this user's are wiped (the
/// owner of the home folder stands for this user; no extra dependency for `getuid`).
fn owned_by_user(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mine = home_dir().and_then(|h| h.metadata().ok()).map(|m| m.uid());
        path.symlink_metadata().ok().map(|m| m.uid()) == mine
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        true
    }
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")).filter(|h| !h.is_empty()).map(PathBuf::from)
}

fn data_dir() -> PathBuf {
    crate::dirs_data_dir()
}

fn xdg(var: &str, home_relative: &[&str]) -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(var).filter(|d| !d.is_empty()) {
        return Some(d.into());
    }
    home_dir().map(|h| home_relative.iter().fold(h, |p, s| p.join(s)))
}

fn cache_dir() -> Option<PathBuf> {
    if cfg!(windows) {
        std::env::var_os("LOCALAPPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        home_dir().map(|h| h.join("Library").join("Caches"))
    } else {
        xdg("XDG_CACHE_HOME", &[".cache"])
    }
}

fn config_dir() -> Option<PathBuf> {
    if cfg!(windows) {
        std::env::var_os("APPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        home_dir().map(|h| h.join("Library").join("Preferences"))
    } else {
        xdg("XDG_CONFIG_HOME", &[".config"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_named_after_the_store_goes_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("fieldbook.db");
        let mut s = crate::Store::open(&store, &crate::store::fixtures::key()).unwrap();
        s.attach_bytes(b"photo", "image/jpeg", None).unwrap();
        drop(s);
        for leftover in ["fieldbook.db-wal", "fieldbook.db.encrypting", "fieldbook.db.protection.json"] {
            std::fs::write(dir.path().join(leftover), b"x").unwrap();
        }
        std::fs::write(dir.path().join("other.db"), b"not ours to delete").unwrap();
        let removed = wipe_store_files(&store).unwrap();
        assert!(removed.iter().any(|p| p.ends_with("fieldbook.db.attachments")), "{removed:?}");
        let left: Vec<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(left, ["other.db"]);
        // Again: nothing to do, no error.
        assert!(wipe_store_files(&store).unwrap().is_empty());
        // A store somewhere else does not take the app's folders with it.
        assert!(!is_default_store(&store));
    }
}
