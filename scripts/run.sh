#!/usr/bin/env bash
# Sets up what is missing and runs Fieldbook: the central server on its embedded SQLite store
# loaded with the demo fire-protection company, and the desktop app on a laptop store enrolled
# with that server and synced. Stopping the app stops the server; the data stays in .fieldbook/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

(cd ui && npm run build --silent)
cargo build --release --locked -p fieldbook-cli -p fieldbook-server
# The app as shipped: built for size (Cargo.toml, [profile.desktop]), which lowers its memory.
cargo build --profile desktop --locked -p fieldbook-desktop
BIN=./target/release
APP=./target/desktop/fieldbook-desktop

DATA="${FIELDBOOK_DEMO_DIR:-$PWD/.fieldbook/demo}"
PORT="${FIELDBOOK_PORT:-8780}"
SERVER_DB="$DATA/server.db"
export FIELDBOOK_DB="$DATA/laptop.db"
mkdir -p "$DATA"

# The laptop store is encrypted; its key lives in the desktop's keyring (Secret Service). A
# machine with no desktop session has no keyring: the demo then protects the store with a
# passphrase, given to the CLI and the app here (a real laptop asks for it on its unlock screen).
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && [ ! -S "${XDG_RUNTIME_DIR:-/nonexistent}/bus" ] && [ -z "${FIELDBOOK_PASSPHRASE:-}" ]; then
  export FIELDBOOK_PASSPHRASE="fieldbook-demo-passphrase"
  echo "No desktop keyring here: the demo laptop store is protected by the passphrase '$FIELDBOOK_PASSPHRASE'."
fi

if [ ! -f "$SERVER_DB" ]; then
  "$BIN/fieldbook-server" --database "$SERVER_DB" demo | tee "$DATA/demo-accounts.txt"
fi
"$BIN/fieldbook-server" --database "$SERVER_DB" serve --listen "127.0.0.1:$PORT" &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$PORT/api/openapi.json" >/dev/null 2>&1 && break
  sleep 0.1
done

"$BIN/fieldbook" init --technician li.wei >/dev/null
if ! "$BIN/fieldbook" --json status | grep -q '"enrolled": true'; then
  code=$("$BIN/fieldbook-server" --database "$SERVER_DB" enroll li.wei | grep -oE '[0-9A-Z]{4}(-[0-9A-Z]{4}){3}' | tail -1)
  "$BIN/fieldbook" enroll --server "http://127.0.0.1:$PORT" --code "$code"
fi
"$BIN/fieldbook" sync
echo "Server: http://127.0.0.1:$PORT (accounts in $DATA/demo-accounts.txt); laptop store: $FIELDBOOK_DB"
echo "Office console: http://127.0.0.1:$PORT/console/ (log in as 'office' or 'admin' with the passwords in $DATA/demo-accounts.txt)"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found: starting the app on a virtual display (xvfb-run)."
  xvfb-run -a -s "-screen 0 1366x768x24" "$APP"
else
  "$APP"
fi
