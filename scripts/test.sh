#!/usr/bin/env bash
# Runs every Fieldbook test: the UI's unit tests, then every Rust crate's tests (core, CLI,
# desktop shell through Tauri's mock runtime, and the cross-crate scenarios in tests/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
# A one-shot CI build gains nothing from incremental state but pays for it in disk.
if [[ "${CI:-}" == "true" ]]; then export CARGO_INCREMENTAL=0; fi

echo "== UI: build and unit tests"
(cd ui && npm run build --silent && npm test --silent)

echo "== Desktop updates: keys, versions 0.1.0 and 0.2.0 as AppImages, signatures (tests/desktop_update.rs)"
# Before the plain build below: that one rebuilds fieldbook-desktop without the throwaway key.
update_started=$SECONDS
bash scripts/build-update-e2e.sh
echo "== Desktop updates: built in $((SECONDS - update_started)) s"

echo "== Rust: build every binary the scenarios drive"
cargo build --workspace --bins --locked

echo "== Rust: tests"
cargo test --workspace --locked --no-fail-fast

echo "== Server: the Debian package builds, installs, its unit verifies, the installed server is ready, it purges"
bash packaging/server/check-deb.sh

echo "== Packages: the desktop .deb and AppImage as shipped, installed and driven (scripts/package.sh)"
packaging_started=$SECONDS
bash scripts/package.sh desktop
echo "== Packages: built in $((SECONDS - packaging_started)) s"
VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
DEB="$PWD/target/packages/fieldbook-desktop_${VERSION}_amd64.deb"
APPIMAGE="$PWD/target/packages/Fieldbook_${VERSION}_amd64.AppImage"
DEB_PACKAGE=$(dpkg-deb -f "$DEB" Package)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# Installed the way an administrator does; removed again whatever happens next.
trap '$SUDO env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq --purge "$DEB_PACKAGE" >/dev/null || true' EXIT
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$DEB" >/dev/null
test -x /usr/bin/fieldbook-desktop
# The smoke scenario (start, enrol, sync, open an order) against the installed binary, then the AppImage.
FIELDBOOK_DESKTOP_BIN=/usr/bin/fieldbook-desktop cargo test --locked -p fieldbook-scenarios --test desktop_e2e smoke
FIELDBOOK_DESKTOP_BIN="$APPIMAGE" cargo test --locked -p fieldbook-scenarios --test desktop_e2e smoke
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq --purge "$DEB_PACKAGE" >/dev/null
trap - EXIT
test ! -e /usr/bin/fieldbook-desktop
echo "== Packages: built, installed, driven and removed in $((SECONDS - packaging_started)) s"

echo "== Console: end-to-end tests in headless Chromium against the real server (ui/e2e/console)"
(cd ui && npx playwright test)
