#!/usr/bin/env bash
# Sets up what is missing and runs Fieldbook: a demo store loaded with the demo fire-protection
# company (today's work orders), opened in the desktop app.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

(cd ui && npm run build --silent)
cargo build --release --locked -p fieldbook-cli -p fieldbook-desktop

DATA="${FIELDBOOK_DEMO_DIR:-$PWD/.fieldbook/demo}"
mkdir -p "$DATA"
export FIELDBOOK_DB="$DATA/fieldbook.db"
./target/release/fieldbook init --technician li.wei >/dev/null
./target/release/fieldbook import demo/fire-protection.json --rebase-dates
echo "Demo store: $FIELDBOOK_DB"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found: starting the app on a virtual display (xvfb-run)."
  exec xvfb-run -a ./target/release/fieldbook-desktop
fi
exec ./target/release/fieldbook-desktop
