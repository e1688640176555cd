#!/usr/bin/env bash
# Regenerates docs/screenshots/: runs the desktop end-to-end test (tests/desktop_e2e.rs), which
# drives the real app through a technician's day and, with FIELDBOOK_SCREENSHOTS set, saves each
# main screen in English and Chinese at 1366×768 (desktop-en-*.png, desktop-zh-*.png).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

(cd ui && npm run build --silent)
cargo build --workspace --bins --locked
mkdir -p docs/screenshots
FIELDBOOK_SCREENSHOTS="$PWD/docs/screenshots" \
  cargo test -p fieldbook-scenarios --test desktop_e2e --locked -- --nocapture
ls -l docs/screenshots
