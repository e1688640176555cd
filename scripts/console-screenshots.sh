#!/usr/bin/env bash
# Screenshots of the office console in English and Chinese (1366×768) into docs/screenshots/
# (console-en-*.png, console-zh-*.png): builds the UI and the binaries, then drives a real
# server with headless Chromium (ui/e2e/console/screenshots.shots.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
(cd ui && npm run build --silent)
cargo build --workspace --bins --locked
mkdir -p docs/screenshots
(cd ui && FIELDBOOK_SCREENSHOTS=1 npx playwright test)
ls docs/screenshots/console-*.png
