//! Folders and files only the laptop's user can open: Fieldbook's data folders are made 0700
//! and its files 0600, whatever the umask (issue #13). SQLite gives a database's WAL and
//! shared-memory files the database file's own permissions, so a store file made private keeps
//! its journal private too. On Windows the user profile's folders are already private to the
//! user (their ACLs), so these are no-ops there.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Creates `dir` and any missing parents, each new one 0700. Folders that exist are left as they
/// are (a parent may be the user's home); see [`restrict_dir`] for Fieldbook's own.
pub fn create_dir_all(dir: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir).map_err(|e| Error::io(dir, e))
}

/// Makes a folder that is Fieldbook's own (its data folder, the attachments beside a store)
/// 0700, as it would have been made.
pub fn restrict_dir(dir: &Path) -> Result<()> {
    set_mode(dir, 0o700)
}

/// Makes an existing file of Fieldbook's 0600 (a store made by an older version; its WAL).
pub fn restrict_file(path: &Path) -> Result<()> {
    if path.exists() {
        set_mode(path, 0o600)?;
    }
    Ok(())
}

/// Creates an empty file 0600 unless it exists: what SQLite then opens keeps that mode.
pub fn create_file(path: &Path) -> Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    match o.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Writes `bytes` to a new file 0600, durably (a temporary name that is renamed into place).
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| Error::io(path, e))
}

/// Replaces `path` with `bytes` so that a crash leaves the old content or the new, never a torn
/// file: written 0600 under a temporary name, flushed, renamed, and the folder flushed.
pub fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    write_new(&tmp, bytes)?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    sync_dir(path)
}

/// Flushes the folder holding `path`, so a rename into it survives a power cut.
pub fn sync_dir(path: &Path) -> Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| Error::io(path, e))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_folders_and_files_are_the_users_only_whatever_the_umask() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("a/b");
        create_dir_all(&dir).unwrap();
        assert_eq!((mode(&t.path().join("a")), mode(&dir)), (0o700, 0o700));
        let f = dir.join("f");
        write_new(&f, b"x").unwrap();
        assert_eq!(mode(&f), 0o600);
        create_file(&dir.join("g")).unwrap();
        assert_eq!(mode(&dir.join("g")), 0o600);
    }

    #[test]
    fn existing_files_of_fieldbook_are_tightened() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("old.db");
        std::fs::write(&f, b"x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        restrict_file(&f).unwrap();
        assert_eq!(mode(&f), 0o600);
        restrict_file(&t.path().join("absent")).unwrap();
    }
}
