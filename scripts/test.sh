#!/usr/bin/env bash
# Runs every Fieldbook test: the UI's unit tests, then every Rust crate's tests (core, CLI,
# desktop shell through Tauri's mock runtime, and the cross-crate scenarios in tests/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

echo "== UI: build and unit tests"
(cd ui && npm run build --silent && npm test --silent)

echo "== Rust: build every binary the scenarios drive"
cargo build --workspace --bins --locked

echo "== Rust: tests"
cargo test --workspace --locked --no-fail-fast
