#!/usr/bin/env bash
# Regenerates docs/screenshots/ in English and Chinese at 1366×768:
# - the desktop app (desktop-{en,zh}-*.png): the desktop end-to-end test (tests/desktop_e2e.rs)
#   drives the real app through a technician's day and, with FIELDBOOK_SCREENSHOTS set, saves
#   each main screen;
# - the office console (console-{en,zh}-*.png): ui/e2e/console/screenshots.shots.ts drives a
#   real server with headless Chromium.
# Usage: scripts/screenshots.sh [desktop|console]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-both}
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

(cd ui && npm run build --silent)
cargo build --workspace --bins --locked
mkdir -p docs/screenshots
if [[ "$which" == desktop || "$which" == both ]]; then
  FIELDBOOK_SCREENSHOTS="$PWD/docs/screenshots" \
    cargo test -p fieldbook-scenarios --test desktop_e2e --locked -- --nocapture
fi
if [[ "$which" == console || "$which" == both ]]; then
  (cd ui && FIELDBOOK_SCREENSHOTS=1 npx playwright test)
fi
ls docs/screenshots/*.png
