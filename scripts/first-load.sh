#!/usr/bin/env bash
# Starts the release build's dashboard (demo) on loopback and measures an identity page's
# first load: every file's bytes raw, gzip and brotli, and with --timing how long until it
# is interactive, on loopback and on an emulated 10 Mbit/s, 40 ms link.
#   scripts/first-load.sh [--budget BYTES] [--timing] [--runs N]
# Build first: cargo leptos build --release --precompress (scripts/test.sh does).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
binary=${DKIMDASH_BIN:-$target_dir/release/dkimdash}
if [[ ! -x $binary ]]; then
  echo "no release build at $binary: run cargo leptos build --release --precompress first" >&2
  exit 1
fi
listen=127.0.0.1:${FIRST_LOAD_PORT:-45662}
scratch=$(mktemp -d)
# From an empty directory: what is measured is the site the binary carries.
(cd "$scratch" && exec env RUST_LOG=warn,tower_http=off \
  "$binary" --listen "$listen" --audit-db "$scratch/audit.sqlite3") &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$scratch"' EXIT
# Ready once SES (the demo's simulator) has been read: the page then shows its records.
ready=false
for _ in $(seq 1 300); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://$listen/readyz', timeout=1)" 2>/dev/null; then
    ready=true
    break
  fi
  sleep 0.2
done
if [[ $ready != true ]]; then
  echo "the dashboard did not become ready on $listen within a minute" >&2
  exit 1
fi
node scripts/first-load.mjs "http://$listen" "$@"
