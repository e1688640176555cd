#!/usr/bin/env bash
# Installs whatever Fieldbook needs that this Debian/Ubuntu machine lacks: the system packages
# for building the Tauri desktop app, the CJK font for reports, the test tools, Rust and Node.js,
# and the UI's npm packages. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian package -> why it is needed.
PACKAGES=(
  build-essential pkg-config curl ca-certificates   # C toolchain for -sys crates
  libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev  # Tauri 2
  fonts-noto-cjk                                    # Chinese text in the PDF service report
  poppler-utils                                     # pdftotext: tests read the report back
  xvfb xauth                                        # a display for the desktop app in tests
  webkit2gtk-driver                                 # WebKitWebDriver: tauri-driver drives the app with it
  postgresql                                        # the server test suite also runs on PostgreSQL
  chromium sqlite3                                  # console e2e: headless browser; reading a laptop store
  libdbus-1-dev                                     # the OS keyring (Secret Service over D-Bus) holds the store key
  gnome-keyring dbus dbus-daemon libsecret-tools    # a keyring daemon for tests and headless runs
  libglib2.0-bin                                    # gdbus: the desktop tests wait for the keyring's default collection
  squashfs-tools                                    # mksquashfs: the AppImage's file system (scripts/package.sh)
  prometheus                                        # promtool: the server's /metrics checked as Prometheus reads it
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null; then
  echo "setup: installing Rust with rustup (https://rustup.rs)"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  export PATH="$HOME/.cargo/bin:$PATH"
fi

# tauri-driver: the WebDriver server the desktop end-to-end test (tests/desktop_e2e.rs) talks to.
if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  echo "setup: installing tauri-driver (cargo install)"
  cargo install tauri-driver --locked --quiet
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js 20 or newer is needed for the UI build (found $(node --version)); install it and run again" >&2
  exit 1
fi

# The UI's packages, exactly as locked.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: ready"
