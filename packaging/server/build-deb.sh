#!/usr/bin/env bash
# Builds the Debian package of fieldbook-server: `packaging/server/build-deb.sh [OUTDIR]`
# (default: target/debian). Prints the .deb's path on its last line.
#
# The package: /usr/bin/fieldbook-server (release build, the office console embedded — built
# first from ui/ when ui/dist-console is missing), a hardened systemd unit, the configuration
# /etc/fieldbook-server/config.toml (a conffile: an administrator's edits survive upgrades),
# the system user `fieldbook` and /var/lib/fieldbook-server (0700) made by postinst.
#
# Plain dpkg-deb rather than cargo-deb: one more tool to install on every CI machine for what
# is a folder tree and a control file, and the maintainer scripts are ours either way.
# FIELDBOOK_SERVER_BIN=PATH packages that binary instead of building one.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/target/debian}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

version="$(sed -n '/^\[workspace.package\]/,/^\[/{s/^version *= *"\(.*\)"/\1/p}' Cargo.toml)"
arch="$(dpkg --print-architecture)"
[ -n "$version" ] || { echo "build-deb: no version in Cargo.toml's [workspace.package]" >&2; exit 1; }

bin="${FIELDBOOK_SERVER_BIN:-}"
if [ -z "$bin" ]; then
  if [ ! -f ui/dist-console/index.html ]; then
    echo "build-deb: building the office console (ui/dist-console) to embed it" >&2
    command -v npm >/dev/null || { echo "build-deb: npm is needed to build the console: run scripts/setup.sh" >&2; exit 1; }
    (cd ui && npm run build --silent)
  fi
  cargo build --release --locked -p fieldbook-server >&2
  bin="$root/target/release/fieldbook-server"
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/fieldbook-server"
install -D -m 0755 "$bin" "$pkg/usr/bin/fieldbook-server"
strip --strip-unneeded "$pkg/usr/bin/fieldbook-server"
install -D -m 0644 "$here/fieldbook-server.service" "$pkg/lib/systemd/system/fieldbook-server.service"
install -D -m 0640 "$here/config.toml" "$pkg/etc/fieldbook-server/config.toml"
install -D -m 0644 "$root/docs/server-config.md" "$pkg/usr/share/doc/fieldbook-server/server-config.md"
install -D -m 0644 "$here/copyright" "$pkg/usr/share/doc/fieldbook-server/copyright"
install -d -m 0755 "$pkg/DEBIAN"
for s in postinst prerm postrm; do install -m 0755 "$here/debian/$s" "$pkg/DEBIAN/$s"; done
echo /etc/fieldbook-server/config.toml > "$pkg/DEBIAN/conffiles"

# The shared libraries the binary links (libc, OpenSSL's libcrypto for SQLCipher), as
# dpkg-shlibdeps finds them; it wants a debian/control to run beside.
deps="libc6, libssl3"
if command -v dpkg-shlibdeps >/dev/null; then
  mkdir -p "$stage/shlibs/debian"
  printf 'Source: fieldbook-server\n\nPackage: fieldbook-server\nArchitecture: any\n' > "$stage/shlibs/debian/control"
  found="$(cd "$stage/shlibs" && dpkg-shlibdeps -O "$pkg/usr/bin/fieldbook-server" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
  [ -n "$found" ] && deps="$found"
fi
size="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: fieldbook-server
Version: $version
Architecture: $arch
Maintainer: Fieldbook <fieldbook@example.com>
Section: net
Priority: optional
Installed-Size: $size
Depends: $deps, passwd
Description: Fieldbook server: sync for technicians' laptops and the office console
 The central server of Fieldbook, the offline-first field-service product: it enrols
 technicians' laptops, applies what they push, serves what changed for each of them,
 keeps their photos, and serves the office console. SQLite or PostgreSQL.
 .
 Runs as the system user 'fieldbook' under a hardened systemd unit; configured in
 /etc/fieldbook-server/config.toml; data in /var/lib/fieldbook-server.
CONTROL

deb="$out/fieldbook-server_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >&2
echo "$deb"
