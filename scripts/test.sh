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

echo "== Rust: build every binary the scenarios drive"
cargo build --workspace --bins --locked

echo "== Rust: tests"
cargo test --workspace --locked --no-fail-fast

echo "== Server: the Debian package builds, installs, its unit verifies, the installed server is ready, it purges"
bash packaging/server/check-deb.sh

echo "== Console: end-to-end tests in headless Chromium against the real server (ui/e2e/console)"
(cd ui && npx playwright test)
