#!/usr/bin/env bash
# Builds dkimdash in release mode and serves the dashboard.
# Installs what is missing first (see scripts/toolchain.sh); later runs skip that.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh

ensure_rust_tools
ensure_node_modules "$root" # the release build runs wasm-opt from npm's binaryen

log "building and starting dkimdash; it will answer at http://${DKIMDASH_LISTEN:-127.0.0.1:3000} (Ctrl-C stops it)"
exec cargo leptos serve --release --precompress
