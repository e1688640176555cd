#!/usr/bin/env bash
# Builds Fieldbook's installers into one folder (target/packages/ unless --out DIR):
#
#   scripts/package.sh desktop   the desktop app as a .deb (Tauri's bundler) and an AppImage (ours)
#   scripts/package.sh deb       the .deb only
#   scripts/package.sh appimage [--binary PATH] [--version X.Y.Z]
#                                the AppImage only, of PATH (default: the `desktop` profile build,
#                                built here) — the packer the updater's end-to-end test calls
#   scripts/package.sh server    the server's .deb (packaging/server/build-deb.sh OUTDIR)
#   scripts/package.sh all       all of the above
#
# The desktop binary is always the one we ship: the `desktop` cargo profile (Cargo.toml: fat LTO,
# optimised for size), with the built UI embedded. Nothing here downloads anything but crates and
# npm packages. Windows and macOS installers are made by .github/workflows/release.yml.
# What each package contains: docs/packaging.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

what="${1:-}"; [ -n "$what" ] || usage; shift
OUT="$PWD/target/packages"
VERSION=""
BINARY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --version) VERSION="$2"; shift 2 ;;
    --binary) BINARY="$(realpath "$2")"; shift 2 ;;
    *) echo "package.sh: unknown option $1" >&2; usage ;;
  esac
done
mkdir -p "$OUT"
# The app's version is the workspace's (src-tauri takes it from there; tauri.conf.json names none).
[ -n "$VERSION" ] || VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)

# The UI is embedded in the binary at compile time: build it first.
build_ui() {
  (cd ui && npm run build --silent)
}

# The .deb, by Tauri's bundler (npm @tauri-apps/cli, ui/package.json). `tauri build` runs
# `cargo build --profile desktop` itself (a `--profile` after `--` replaces its `--release` and
# tells the bundler to take target/desktop/), then bundles. The deb bundler needs no download.
deb() {
  build_ui
  local started=$SECONDS
  npx --prefix ui tauri build --ci --bundles deb -- --profile desktop --locked
  local built="target/desktop/bundle/deb/Fieldbook_${VERSION}_amd64.deb"
  [ -f "$built" ] || { echo "package.sh: Tauri's bundler did not make $built" >&2; exit 1; }
  # Debian's file name: <package>_<version>_<arch>.deb.
  cp "$built" "$OUT/fieldbook-desktop_${VERSION}_amd64.deb"
  echo "package.sh: $OUT/fieldbook-desktop_${VERSION}_amd64.deb ($(du -h "$OUT/fieldbook-desktop_${VERSION}_amd64.deb" | cut -f1), $((SECONDS - started)) s)"
}

# The AppImage, by our runtime and packer (crates/fieldbook-appimage; why: docs/packaging.md).
appimage() {
  local started=$SECONDS
  cargo build --profile desktop --locked -p fieldbook-appimage
  if [ -z "$BINARY" ]; then
    if [ ! -x target/desktop/fieldbook-desktop ] || [ "${1:-}" != "--reuse" ]; then
      build_ui
      cargo build --profile desktop --locked -p fieldbook-desktop
    fi
    BINARY="$PWD/target/desktop/fieldbook-desktop"
  fi
  target/desktop/fieldbook-appimage-pack --binary "$BINARY" --version "$VERSION" \
    --icon src-tauri/icons/128x128.png --out "$OUT" --runtime target/desktop/fieldbook-appimage-runtime
  local image="$OUT/Fieldbook_${VERSION}_amd64.AppImage"
  echo "package.sh: $image ($(du -h "$image" | cut -f1), $((SECONDS - started)) s)"
}

server() {
  local script=packaging/server/build-deb.sh
  if [ ! -f "$script" ]; then
    echo "package.sh: $script is not in this checkout yet (the server's .deb is being written on its own branch); no server package made" >&2
    exit 1
  fi
  bash "$script" "$OUT"
}

case "$what" in
  deb) deb ;;
  appimage) appimage ;;
  # The .deb's build leaves the shipped binary in target/desktop: the AppImage packs that one.
  desktop) deb; appimage --reuse ;;
  server) server ;;
  all) deb; appimage --reuse; server ;;
  -h|--help|help) usage ;;
  *) echo "package.sh: unknown package '$what'" >&2; usage ;;
esac
