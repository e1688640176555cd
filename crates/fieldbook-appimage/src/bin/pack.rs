//! Packs the desktop app into an AppImage (type 2) without anything from outside the package
//! registries: lays out the AppDir (the binary, marked as an AppImage build for Tauri's updater;
//! the .desktop entry; the icon; `AppRun`), makes its squashfs with `mksquashfs` (gzip, every file
//! owned by root, fixed times) and writes `fieldbook-appimage-runtime` with the AppImage magic
//! (`AI` 0x02 at byte 8) followed by the squashfs.
//!
//! ```text
//! fieldbook-appimage-pack --binary target/desktop/fieldbook-desktop --version 0.1.0 \
//!     --icon src-tauri/icons/128x128.png --out target/packages [--runtime PATH]
//! ```
//! prints the path of `<out>/Fieldbook_<version>_amd64.AppImage` (Tauri's own file name).
//! `scripts/package.sh appimage` calls it.

use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

const BINARY: &str = "fieldbook-desktop";
/// The bytes Tauri's bundler rewrites in the binary so the updater knows which kind of package it
/// runs from (`tauri_utils::platform::bundle_type`): `…_APP` is an AppImage.
const BUNDLE_TYPE_PREFIX: &[u8] = b"__TAURI_BUNDLE_TYPE_VAR_";
const BUNDLE_TYPES: [&[u8]; 6] = [b"UNK", b"DEB", b"RPM", b"APP", b"MSI", b"NSS"];

const DESKTOP_ENTRY: &str = "[Desktop Entry]
Type=Application
Name=Fieldbook
Name[zh_CN]=现场记录簿
Comment=Field-service records for technicians: work orders, inspections, signatures, sync with the office
Comment[zh_CN]=现场服务记录：工单、巡检、签名，与办公室同步
Exec=fieldbook-desktop %U
Icon=fieldbook-desktop
Terminal=false
Categories=Office;
StartupWMClass=fieldbook-desktop
X-AppImage-Name=Fieldbook
";

/// Runs the binary under its own name (a symbolic link would make the process, and so the
/// window's WM_CLASS that the desktop entry's StartupWMClass names, "AppRun").
const APP_RUN: &str = "#!/bin/sh\nexec \"$APPDIR/usr/bin/fieldbook-desktop\" \"$@\"\n";

struct Args {
    binary: PathBuf,
    version: String,
    icon: PathBuf,
    out: PathBuf,
    runtime: PathBuf,
}

fn parse_args() -> Result<Args> {
    let mut binary = None;
    let mut version = None;
    let mut icon = None;
    let mut out = None;
    let mut runtime = None;
    let mut args = std::env::args_os().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || -> Result<OsString> { args.next().with_context(|| format!("{} needs a value", flag.to_string_lossy())) };
        match flag.to_str() {
            Some("--binary") => binary = Some(PathBuf::from(value()?)),
            Some("--version") => version = Some(value()?.into_string().map_err(|_| anyhow::anyhow!("--version must be text"))?),
            Some("--icon") => icon = Some(PathBuf::from(value()?)),
            Some("--out") => out = Some(PathBuf::from(value()?)),
            Some("--runtime") => runtime = Some(PathBuf::from(value()?)),
            _ => bail!("unknown argument {}: use --binary PATH --version X.Y.Z --icon PNG --out DIR [--runtime PATH]", flag.to_string_lossy()),
        }
    }
    let runtime = match runtime {
        Some(r) => r,
        // Built beside this packer (same cargo target directory).
        None => std::env::current_exe()?.with_file_name("fieldbook-appimage-runtime"),
    };
    Ok(Args {
        binary: binary.context("--binary PATH (the built fieldbook-desktop) is required")?,
        version: version.context("--version X.Y.Z is required")?,
        icon: icon.context("--icon PNG is required")?,
        out: out.context("--out DIR is required")?,
        runtime,
    })
}

fn main() -> Result<()> {
    let args = parse_args()?;
    if args.version.is_empty() || !args.version.chars().all(|c| c.is_ascii_alphanumeric() || ".-+".contains(c)) {
        bail!("--version {:?} is not a version (digits, letters, '.', '-', '+')", args.version);
    }
    let work = tempfile::Builder::new().prefix("fieldbook-appimage-").tempdir().context("cannot make a work folder")?;
    let appdir = work.path().join("AppDir");
    lay_out_appdir(&args, &appdir)?;

    let squashfs = work.path().join("AppDir.squashfs");
    let status = Command::new("mksquashfs")
        .arg(&appdir)
        .arg(&squashfs)
        // gzip: what every AppImage runtime and tool reads; root-owned, no extended attributes
        // and fixed times: the same input gives the same image.
        .args(["-comp", "gzip", "-root-owned", "-noappend", "-no-xattrs", "-no-progress", "-quiet", "-all-time", "0", "-mkfs-time", "0"])
        .status()
        .context("cannot run mksquashfs: install squashfs-tools (scripts/setup.sh does)")?;
    if !status.success() {
        bail!("mksquashfs failed ({status}) on {}", appdir.display());
    }

    let mut image = fs::read(&args.runtime).with_context(|| format!("cannot read the runtime {} (cargo build -p fieldbook-appimage)", args.runtime.display()))?;
    if image.len() < 64 || &image[..4] != b"\x7fELF" {
        bail!("{} is not an ELF executable", args.runtime.display());
    }
    if image[8..11] != [0, 0, 0] && &image[8..11] != b"AI\x02" {
        bail!("{}: bytes 8–10 (ELF padding) are not free for the AppImage magic", args.runtime.display());
    }
    image[8..11].copy_from_slice(b"AI\x02");
    image.extend_from_slice(&fs::read(&squashfs)?);

    fs::create_dir_all(&args.out).with_context(|| format!("cannot make {}", args.out.display()))?;
    let target = args.out.join(format!("Fieldbook_{}_amd64.AppImage", args.version));
    let partial = args.out.join(format!(".Fieldbook_{}_amd64.AppImage.partial", args.version));
    let mut f = fs::File::create(&partial).with_context(|| format!("cannot write {}", partial.display()))?;
    f.write_all(&image)?;
    f.sync_all()?;
    fs::set_permissions(&partial, fs::Permissions::from_mode(0o755))?;
    fs::rename(&partial, &target)?;
    println!("{}", target.display());
    Ok(())
}

/// The AppDir: `AppRun` (runs `usr/bin/fieldbook-desktop`), one .desktop entry and the icon at the top
/// (as the AppImage specification asks) and under `usr/share` (for desktop integration tools).
fn lay_out_appdir(args: &Args, appdir: &Path) -> Result<()> {
    let bin_dir = appdir.join("usr/bin");
    let apps = appdir.join("usr/share/applications");
    let icons = appdir.join("usr/share/icons/hicolor/128x128/apps");
    for d in [&bin_dir, &apps, &icons] {
        fs::create_dir_all(d)?;
    }
    let mut binary = fs::read(&args.binary).with_context(|| format!("cannot read the app binary {}", args.binary.display()))?;
    let marks = mark_bundle_type(&mut binary);
    if marks == 0 {
        // Tauri keeps the marker only when something reads it (the updater plugin).
        eprintln!("note: {} has no Tauri bundle-type marker (no updater in this build); packed as it is", args.binary.display());
    }
    let app = bin_dir.join(BINARY);
    fs::write(&app, &binary)?;
    fs::set_permissions(&app, fs::Permissions::from_mode(0o755))?;
    let app_run = appdir.join("AppRun");
    fs::write(&app_run, APP_RUN)?;
    fs::set_permissions(&app_run, fs::Permissions::from_mode(0o755))?;

    fs::write(apps.join(format!("{BINARY}.desktop")), DESKTOP_ENTRY)?;
    symlink(format!("usr/share/applications/{BINARY}.desktop"), appdir.join(format!("{BINARY}.desktop")))?;
    let png = fs::read(&args.icon).with_context(|| format!("cannot read the icon {}", args.icon.display()))?;
    if !png.starts_with(b"\x89PNG") {
        bail!("{} is not a PNG", args.icon.display());
    }
    fs::write(icons.join(format!("{BINARY}.png")), &png)?;
    symlink(format!("usr/share/icons/hicolor/128x128/apps/{BINARY}.png"), appdir.join(format!("{BINARY}.png")))?;
    symlink(format!("{BINARY}.png"), appdir.join(".DirIcon"))?;
    Ok(())
}

/// Rewrites every `__TAURI_BUNDLE_TYPE_VAR_xxx` to `…_APP` (same length); the number rewritten.
fn mark_bundle_type(binary: &mut [u8]) -> usize {
    let n = BUNDLE_TYPE_PREFIX.len();
    let mut count = 0;
    let mut i = 0;
    while i + n + 3 <= binary.len() {
        if &binary[i..i + n] == BUNDLE_TYPE_PREFIX && BUNDLE_TYPES.contains(&&binary[i + n..i + n + 3]) {
            binary[i + n..i + n + 3].copy_from_slice(b"APP");
            count += 1;
            i += n + 3;
        } else {
            i += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_every_bundle_type_marker_as_appimage() {
        let mut bytes = b"xx__TAURI_BUNDLE_TYPE_VAR_DEByy__TAURI_BUNDLE_TYPE_VAR_UNK__TAURI_BUNDLE_TYPE_VAR_ZZZ".to_vec();
        assert_eq!(mark_bundle_type(&mut bytes), 2);
        assert_eq!(&bytes[..], b"xx__TAURI_BUNDLE_TYPE_VAR_APPyy__TAURI_BUNDLE_TYPE_VAR_APP__TAURI_BUNDLE_TYPE_VAR_ZZZ");
    }
}
