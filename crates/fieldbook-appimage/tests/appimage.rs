//! The packer and the runtime together, on a stand-in app (a shell script that reports what it
//! was given): the file is an AppImage type 2, the app runs from a private `.mount_` folder in
//! `TMPDIR` with `APPIMAGE`/`APPDIR`/`ARGV0`, every argument and its exit status, the folder is
//! gone afterwards (also after a SIGTERM to the runtime, and — at the next start — after a
//! SIGKILL), and `--appimage-extract` gives the AppDir. Needs `mksquashfs` (scripts/setup.sh).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ICON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../src-tauri/icons/128x128.png");

/// Writes what it got to `$REPORT`, then sleeps if asked, then exits 7.
const STAND_IN: &str = r#"#!/bin/sh
{
  echo "APPIMAGE=$APPIMAGE"
  echo "APPDIR=$APPDIR"
  echo "ARGV0=$ARGV0"
  echo "EXE=$0"
  for a in "$@"; do echo "ARG=$a"; done
} > "$REPORT"
[ "$1" = wait ] && exec sleep 30
exit 7
"#;

struct Fixture {
    dir: tempfile::TempDir,
    image: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("fieldbook-desktop");
        fs::write(&app, STAND_IN).unwrap();
        fs::set_permissions(&app, fs::Permissions::from_mode(0o755)).unwrap();
        fs::create_dir(dir.path().join("tmp")).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_fieldbook-appimage-pack"))
            .args(["--version", "9.8.7", "--icon", ICON])
            .arg("--binary")
            .arg(&app)
            .arg("--out")
            .arg(dir.path().join("out"))
            .arg("--runtime")
            .arg(env!("CARGO_BIN_EXE_fieldbook-appimage-runtime"))
            .output()
            .unwrap();
        assert!(out.status.success(), "pack failed: {}", String::from_utf8_lossy(&out.stderr));
        let image = dir.path().join("out/Fieldbook_9.8.7_amd64.AppImage");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), image.to_str().unwrap());
        Fixture { dir, image }
    }

    fn tmp(&self) -> PathBuf {
        self.dir.path().join("tmp")
    }

    fn report(&self) -> PathBuf {
        self.dir.path().join("report.txt")
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.image);
        c.env("TMPDIR", self.tmp()).env("REPORT", self.report()).current_dir(self.dir.path());
        c
    }

    fn mount_folders(&self) -> Vec<PathBuf> {
        fs::read_dir(self.tmp()).unwrap().flatten().map(|e| e.path()).filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".mount_")).collect()
    }

    fn wait_for_report(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(r) = fs::read_to_string(self.report()) {
                if !r.is_empty() {
                    return r;
                }
            }
            assert!(Instant::now() < deadline, "the app never started");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_appimage_of_type_2_with_the_squashfs_after_the_runtime() {
    let f = Fixture::new();
    let bytes = fs::read(&f.image).unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF");
    assert_eq!(&bytes[8..11], b"AI\x02", "the AppImage type-2 magic at byte 8");
    let out = f.command().arg("--appimage-offset").output().unwrap();
    let offset: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert_eq!(offset, fs::metadata(env!("CARGO_BIN_EXE_fieldbook-appimage-runtime")).unwrap().len() as usize);
    assert_eq!(&bytes[offset..offset + 4], b"hsqs", "a squashfs right after the runtime");
    assert_eq!(fs::metadata(&f.image).unwrap().permissions().mode() & 0o111, 0o111, "executable");
    let out = f.command().arg("--appimage-version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("fieldbook-appimage-runtime"));
}

#[test]
fn runs_the_app_from_a_private_mount_folder_and_removes_it() {
    let f = Fixture::new();
    let status = f.command().args(["--db", "a b.db", "--appimage-extract-and-run-not-first"]).status().unwrap();
    assert_eq!(status.code(), Some(7), "the app's exit status passes through");
    let report = f.wait_for_report();
    let line = |key: &str| report.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).unwrap_or_default().to_owned();
    assert_eq!(line("APPIMAGE"), f.image.to_str().unwrap());
    let appdir = PathBuf::from(line("APPDIR"));
    // What Tauri's Env::default requires before it trusts APPIMAGE/APPDIR.
    assert!(appdir.starts_with(f.tmp()) && appdir.file_name().unwrap().to_string_lossy().starts_with(".mount_Fieldb"), "{report}");
    assert_eq!(line("EXE"), appdir.join("usr/bin/fieldbook-desktop").to_str().unwrap(), "run under its own name");
    assert_eq!(line("ARGV0"), f.image.to_str().unwrap());
    let args: Vec<&str> = report.lines().filter_map(|l| l.strip_prefix("ARG=")).collect();
    assert_eq!(args, ["--db", "a b.db", "--appimage-extract-and-run-not-first"]);
    assert!(f.mount_folders().is_empty(), "left behind: {:?}", f.mount_folders());
}

#[test]
fn the_folder_is_private_while_the_app_runs_and_goes_after_a_sigterm() {
    let f = Fixture::new();
    let mut runtime = f.command().arg("wait").stdout(Stdio::null()).spawn().unwrap();
    f.wait_for_report();
    let folders = f.mount_folders();
    assert_eq!(folders.len(), 1);
    assert_eq!(fs::metadata(&folders[0]).unwrap().permissions().mode() & 0o777, 0o700);
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(runtime.id() as i32, libc::SIGTERM) };
    let status = runtime.wait().unwrap();
    assert_eq!(status.code(), Some(128 + 15), "the app was stopped by the forwarded SIGTERM");
    assert!(f.mount_folders().is_empty(), "left behind: {:?}", f.mount_folders());
}

#[test]
fn a_folder_left_by_a_killed_runtime_is_removed_at_the_next_start() {
    let f = Fixture::new();
    let mut runtime = f.command().arg("wait").stdout(Stdio::null()).spawn().unwrap();
    f.wait_for_report();
    let left = f.mount_folders();
    assert_eq!(left.len(), 1);
    runtime.kill().unwrap();
    runtime.wait().unwrap();
    // The app goes too (it gets SIGTERM when its runtime dies); the folder stays until then.
    wait_until("the app to stop", || !Path::new(&left[0]).join(".fieldbook-appimage.lock").exists() || !lock_is_held(&left[0]));
    fs::remove_file(f.report()).unwrap();
    assert_eq!(f.command().status().unwrap().code(), Some(7));
    assert!(f.mount_folders().is_empty(), "left behind: {:?}", f.mount_folders());
}

#[test]
fn appimage_extract_gives_the_appdir() {
    let f = Fixture::new();
    let out = f.command().arg("--appimage-extract").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let root = f.dir.path().join("squashfs-root");
    assert_eq!(fs::read_to_string(root.join("usr/bin/fieldbook-desktop")).unwrap(), STAND_IN);
    assert!(fs::read_to_string(root.join("AppRun")).unwrap().contains("exec \"$APPDIR/usr/bin/fieldbook-desktop\" \"$@\""));
    let desktop = fs::read_to_string(root.join("fieldbook-desktop.desktop")).unwrap();
    assert!(desktop.contains("Exec=fieldbook-desktop") && desktop.contains("Name[zh_CN]="), "{desktop}");
    assert!(fs::read(root.join(".DirIcon")).unwrap().starts_with(b"\x89PNG"));
    let out = f.command().arg("--appimage-mount").output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("unknown option --appimage-mount"));
}

/// Whether someone holds the lock file's flock (a shared lock attempt fails while they do).
fn lock_is_held(folder: &Path) -> bool {
    let Ok(out) = Command::new("flock").args(["--nonblock", "--shared"]).arg(folder.join(".fieldbook-appimage.lock")).arg("true").output() else { return false };
    !out.status.success()
}
