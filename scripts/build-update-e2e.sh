#!/usr/bin/env bash
# Builds what tests/desktop_update.rs needs, into target/update-e2e/ (issue #14, docs/updates.md):
#
#   updater.key(.pub), wrong.key(.pub)   throwaway key pairs, made by the Tauri CLI as an admin would
#   0.1.0/, 0.2.0/                       the debug desktop app built with updater.key.pub as version
#                                        0.1.0 (N) and 0.2.0 (N+1) — only fieldbook-desktop recompiles
#                                        — each packed as an AppImage by scripts/package.sh, with the
#                                        binary it carries beside it; N+1's AppImage signed with updater.key
#                                        (`tauri signer sign --app-version 0.2.0`)
#   wrong.AppImage(.sig)                 N+1's AppImage signed with wrong.key as version 0.1.5
#
# The debug build keeps the key and version 0.2.0 afterwards: the next plain `cargo build` of
# fieldbook-desktop recompiles that one crate without them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
OUT="$PWD/target/update-e2e"
rm -rf "$OUT"
mkdir -p "$OUT"
[ -f ui/dist/index.html ] || (cd ui && npm run build --silent)
tauri() { (cd ui && npx tauri "$@"); }
tauri signer generate --ci -p "" -f -w "$OUT/updater.key" >/dev/null
tauri signer generate --ci -p "" -f -w "$OUT/wrong.key" >/dev/null
pubkey="$(cat "$OUT/updater.key.pub")"
for version in 0.1.0 0.2.0; do
  # Without a compiler cache (RUSTC_WRAPPER, e.g. sccache): Tauri's generate_context! reads
  # TAURI_CONFIG unseen by the cache, which would hand back the other version's object (seen: two
  # identical binaries). Cargo reruns the build script on the change and recompiles; only this
  # crate, as the wrapper is not part of cargo's fingerprints. The same package set as
  # scripts/test.sh's next step (`--workspace --bins`), so dependencies are built once with the
  # same features (a `-p fieldbook-desktop` build unifies them differently and builds them twice).
  RUSTC_WRAPPER="" CARGO_BUILD_RUSTC_WRAPPER="" \
    FIELDBOOK_UPDATER_PUBKEY="$pubkey" TAURI_CONFIG="{\"version\":\"$version\"}" cargo build --locked --workspace --bins
  bash scripts/package.sh appimage --binary target/debug/fieldbook-desktop --version "$version" --out "$OUT/$version"
  # The binary as the AppImage carries it (the packer marks its bundle type in it, so it is not
  # byte for byte target/debug's): what the test expects the running app's executable to be.
  (cd "$OUT/$version" && ./Fieldbook_${version}_amd64.AppImage --appimage-extract >/dev/null \
    && mv squashfs-root/usr/bin/fieldbook-desktop . && rm -rf squashfs-root)
done
next="$OUT/0.2.0/Fieldbook_0.2.0_amd64.AppImage"
tauri signer sign -f "$OUT/updater.key" -p "" --app-version 0.2.0 "$next" >/dev/null
cp "$next" "$OUT/wrong.AppImage"
tauri signer sign -f "$OUT/wrong.key" -p "" --app-version 0.1.5 "$OUT/wrong.AppImage" >/dev/null
echo "build-update-e2e: $(ls "$OUT")"
