//! The runtime at the front of Fieldbook's AppImage (type 2: this ELF, then a squashfs of the
//! AppDir). Instead of mounting the squashfs with FUSE — absent in containers and on some locked-
//! down laptops — it extracts the AppDir into a private folder `<temp dir>/.mount_<name><random>`
//! (0700, a fresh name every start), sets `APPIMAGE`, `APPDIR`, `ARGV0` and `OWD` as the reference
//! runtime does, runs `AppRun` with every argument, forwards termination signals to it, waits,
//! removes the folder and exits with the app's status. A folder whose runtime was killed outright
//! (SIGKILL: nothing could remove it) is removed at the next start: each folder holds a lock file
//! that the runtime and the app keep locked while they run, so an unlocked one is abandoned. A
//! runtime started by the app (a restart after an update) first closes the old folder's lock it
//! inherited.
//!
//! The folder's place matters: Tauri (`tauri_utils::Env::default`) trusts `APPIMAGE`/`APPDIR` only
//! for an executable under `std::env::temp_dir()/.mount_` (the reference runtime's mount point), and
//! the updater then replaces the file `APPIMAGE` names. The temporary directory is taken from the
//! same `std::env::temp_dir()`, so both sides agree on `$TMPDIR`.
//!
//! `--appimage-extract` (into `./squashfs-root`), `--appimage-offset` and `--appimage-version`
//! behave as in the reference runtime; any other `--appimage-…` first argument is refused.

use backhand::{FilesystemReader, InnerNode};
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicI32, Ordering};

/// Room for update information (AppImage spec: an ELF section `.upd_info` of 1024 bytes that
/// tools such as appimageupdatetool read) and for an embedded signature (`.sha256_sig`). Both are
/// empty: Fieldbook's updates are signed by Tauri's updater instead.
#[used]
#[unsafe(link_section = ".upd_info")]
static UPDATE_INFO: [u8; 1024] = [0; 1024];
#[used]
#[unsafe(link_section = ".sha256_sig")]
static SIGNATURE: [u8; 1024] = [0; 1024];

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The app's process id, for the signal handler (0 until it runs).
static APP_PID: AtomicI32 = AtomicI32::new(0);

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(message) => {
            eprintln!("fieldbook AppImage: {message}");
            ExitCode::from(127)
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let argv0 = if args.is_empty() { OsString::new() } else { args.remove(0) };
    let image = std::env::current_exe().map_err(|e| format!("cannot find this AppImage's own path (/proc/self/exe): {e}"))?;
    let offset = squashfs_offset(&image).map_err(|e| format!("{} is not a complete AppImage: {e}", image.display()))?;

    if let Some(first) = args.first().and_then(|a| a.to_str()).filter(|a| a.starts_with("--appimage-")) {
        match first {
            "--appimage-version" => println!("fieldbook-appimage-runtime {VERSION} (type 2, extracts instead of mounting)"),
            "--appimage-offset" => println!("{offset}"),
            "--appimage-extract" => {
                let root = PathBuf::from("squashfs-root");
                extract(&image, offset, &root).map_err(|e| format!("cannot extract {} into {}: {e}", image.display(), root.display()))?;
                println!("{}", root.display());
            }
            // We always extract and run: accepted so launchers that pass it keep working.
            "--appimage-extract-and-run" => {
                args.remove(0);
                return launch(&image, offset, argv0, args);
            }
            other => return Err(format!("unknown option {other}: this runtime knows --appimage-extract, --appimage-extract-and-run, --appimage-offset and --appimage-version")),
        }
        return Ok(ExitCode::SUCCESS);
    }
    launch(&image, offset, argv0, args)
}

/// Where the squashfs starts: the end of the runtime ELF, which is where its section header table
/// ends (the reference runtime computes it the same way; the section headers come last).
fn squashfs_offset(image: &Path) -> io::Result<u64> {
    let mut header = [0u8; 64];
    File::open(image)?.read_exact(&mut header)?;
    if &header[..4] != b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return Err(io::Error::other("not a 64-bit little-endian ELF"));
    }
    if &header[8..11] != b"AI\x02" {
        return Err(io::Error::other("no AppImage type-2 magic (\"AI\" 0x02 at byte 8)"));
    }
    let shoff = u64::from_le_bytes(header[0x28..0x30].try_into().unwrap());
    let shentsize = u16::from_le_bytes([header[0x3a], header[0x3b]]) as u64;
    let shnum = u16::from_le_bytes([header[0x3c], header[0x3d]]) as u64;
    Ok(shoff + shentsize * shnum)
}

/// In each extracted folder, locked (flock) by the runtime and the app for as long as they run.
const LOCK_FILE: &str = ".fieldbook-appimage.lock";

fn launch(image: &Path, offset: u64, argv0: OsString, args: Vec<OsString>) -> Result<ExitCode, String> {
    close_inherited_locks();
    remove_abandoned_folders();
    let appdir = private_mount_dir(image).map_err(|e| format!("cannot make a private folder under {}: {e}", std::env::temp_dir().display()))?;
    // From here on the folder is removed whatever happens.
    let _cleanup = RemoveOnDrop(appdir.clone());
    let mut lock = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(appdir.join(LOCK_FILE)).map_err(|e| format!("cannot make the lock file in {}: {e}", appdir.display()))?;
    // SAFETY: plain system calls on a descriptor we own. The lock is inherited by the app (the
    // descriptor is kept open across exec), so it is held until both have exited.
    unsafe {
        use std::os::fd::AsRawFd;
        libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB);
        libc::fcntl(lock.as_raw_fd(), libc::F_SETFD, 0);
    }
    // Written once locked: an empty lock file is one being set up, never abandoned.
    std::io::Write::write_all(&mut lock, format!("{}\n", std::process::id()).as_bytes()).map_err(|e| format!("cannot write the lock file in {}: {e}", appdir.display()))?;
    extract(image, offset, &appdir).map_err(|e| format!("cannot extract {} into {}: {e}", image.display(), appdir.display()))?;

    let mut cmd = Command::new(appdir.join("AppRun"));
    cmd.args(&args).env("APPIMAGE", image).env("APPDIR", &appdir).env("ARGV0", &argv0);
    if let Ok(owd) = std::env::current_dir() {
        cmd.env("OWD", owd);
    }
    // SAFETY: prctl is async-signal-safe. If the runtime is killed outright (SIGKILL), the app
    // goes too instead of running on from a folder nobody will remove.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    forward_signals();
    let mut child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", appdir.join("AppRun").display()))?;
    APP_PID.store(child.id() as i32, Ordering::SeqCst);
    let status = child.wait().map_err(|e| format!("lost the app's process: {e}"))?;
    APP_PID.store(0, Ordering::SeqCst);
    Ok(match (status.code(), status.signal()) {
        (Some(code), _) => ExitCode::from(code as u8),
        (None, Some(signal)) => ExitCode::from(128u8.wrapping_add(signal as u8)),
        _ => ExitCode::FAILURE,
    })
}

/// SIGTERM, SIGHUP, SIGINT and SIGQUIT sent to the runtime go to the app, so that it closes
/// normally and the runtime can then remove the folder.
fn forward_signals() {
    extern "C" fn forward(signal: libc::c_int) {
        let pid = APP_PID.load(Ordering::SeqCst);
        if pid > 0 {
            // SAFETY: kill is async-signal-safe.
            unsafe { libc::kill(pid, signal) };
        }
    }
    for signal in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT, libc::SIGQUIT] {
        // SAFETY: installing a handler that only reads an atomic and calls kill.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = forward as *const () as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Closes the descriptors of another folder's lock file that this process inherited: when the app
/// starts its AppImage again (Tauri's restart after an update runs `$APPIMAGE`), the new runtime
/// and its app would otherwise hold the old folder's lock for as long as they run — keeping that
/// folder "in use" should its runtime be killed outright, so nobody would ever remove it.
fn close_inherited_locks() {
    let Ok(entries) = fs::read_dir("/proc/self/fd") else { return };
    let inherited: Vec<i32> = entries
        .flatten()
        .filter_map(|e| {
            let fd = e.file_name().to_str()?.parse::<i32>().ok()?;
            let target = fs::read_link(e.path()).ok()?;
            let name = target.file_name()?.to_string_lossy().into_owned();
            // A removed folder's lock reads "….lock (deleted)".
            (name == LOCK_FILE || name == format!("{LOCK_FILE} (deleted)")).then_some(fd)
        })
        .collect();
    for fd in inherited {
        // SAFETY: closing a descriptor nothing in this process uses (std knows nothing of it).
        unsafe { libc::close(fd) };
    }
}

/// Removes this user's `.mount_…` folders in the temporary directory that hold our lock file and
/// that nobody holds locked any more: left by a runtime that was killed outright.
fn remove_abandoned_folders() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else { return };
    // SAFETY: getuid cannot fail.
    let me = unsafe { libc::getuid() };
    for entry in entries.flatten() {
        if !entry.file_name().as_bytes().starts_with(b".mount_") {
            continue;
        }
        use std::os::unix::fs::MetadataExt;
        let dir = entry.path();
        // Not followed: a symbolic link or someone else's folder is left alone.
        let Ok(meta) = fs::symlink_metadata(&dir) else { continue };
        if !meta.is_dir() || meta.uid() != me {
            continue;
        }
        let Ok(lock) = fs::OpenOptions::new().write(true).custom_flags(libc::O_NOFOLLOW).open(dir.join(LOCK_FILE)) else { continue };
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor we own; released when `lock` is closed.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 && lock.metadata().is_ok_and(|m| m.len() > 0) {
            let _ = fs::remove_dir_all(&dir);
        }
    }
}

/// `<temp dir>/.mount_<first 6 characters of the file name><6 random characters>`, created 0700
/// and new (never an existing folder: another user could have prepared one).
fn private_mount_dir(image: &Path) -> io::Result<PathBuf> {
    let name: String = image.file_name().map(|n| n.to_string_lossy().chars().filter(|c| c.is_ascii_alphanumeric()).take(6).collect()).unwrap_or_default();
    let tmp = std::env::temp_dir();
    let mut last = None;
    for _ in 0..16 {
        let dir = tmp.join(format!(".mount_{name}{}", random_suffix()?));
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free name")))
}

fn random_suffix() -> io::Result<String> {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 6];
    File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| CHARS[*b as usize % CHARS.len()] as char).collect())
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Err(e) = fs::remove_dir_all(&self.0) {
            eprintln!("fieldbook AppImage: could not remove {}: {e}", self.0.display());
        }
    }
}

/// Writes every directory, file and symbolic link of the squashfs under `root` (created if
/// missing), with the permissions it records. Paths that would leave `root` are refused.
fn extract(image: &Path, offset: u64, root: &Path) -> Result<(), String> {
    let mut file = File::open(image).map_err(|e| e.to_string())?;
    file.seek(SeekFrom::Start(offset)).map_err(|e| e.to_string())?;
    let fs_reader = FilesystemReader::from_reader_with_offset(BufReader::with_capacity(1 << 20, file), offset).map_err(|e| format!("unreadable squashfs at byte {offset}: {e}"))?;
    fs::DirBuilder::new().recursive(true).mode(0o700).create(root).map_err(|e| e.to_string())?;
    let mut dirs = Vec::new();
    for node in fs_reader.files() {
        let relative = safe_relative(&node.fullpath).ok_or_else(|| format!("refusing the path {} in the image", node.fullpath.display()))?;
        let path = root.join(&relative);
        let mode = (node.header.permissions & 0o777) as u32;
        match &node.inner {
            InnerNode::Dir(_) => {
                if relative.as_os_str().is_empty() {
                    continue;
                }
                fs::DirBuilder::new().mode(0o700).create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                dirs.push((path, mode));
            }
            InnerNode::File(f) => {
                let mut out = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                io::copy(&mut fs_reader.file(f).reader(), &mut out).map_err(|e| format!("{}: {e}", path.display()))?;
                fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            InnerNode::Symlink(link) => {
                std::os::unix::fs::symlink(&link.link, &path).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            _ => return Err(format!("{} is a device, pipe or socket, which an AppImage does not carry", node.fullpath.display())),
        }
    }
    // Directories get their recorded permissions last, so a read-only one could still be filled.
    for (path, mode) in dirs.into_iter().rev() {
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// The image's absolute path as a path relative to the extraction root; `None` for `..` or
/// anything else that could point outside it.
fn safe_relative(full: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in full.components() {
        match part {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(p) if !p.as_bytes().contains(&b'/') && p != OsStr::new("") => out.push(p),
            _ => return None,
        }
    }
    Some(out)
}
