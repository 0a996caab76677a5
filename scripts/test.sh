#!/usr/bin/env bash
# Runs every check dkimdash has: formatting, clippy for both builds, the Rust tests and
# the Playwright tests in Chromium. Installs what is missing first; exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh

ensure_rust_tools
ensure_chromium
ensure_node_modules "$root"

# cargo-leptos compiles with LEPTOS_OUTPUT_NAME set, and leptos reads it at compile time:
# the same value here lets clippy and the tests reuse the release build's dependencies.
export LEPTOS_OUTPUT_NAME=dkimdash

step() { printf '\n==> %s\n' "$*" >&2; }
started=$SECONDS

step "cargo fmt --check"
cargo fmt --all --check

# --release throughout, so every step shares one set of compiled dependencies.
step "clippy, server build (ssr)"
cargo clippy --release --features ssr --all-targets -- -D warnings

step "clippy, browser build (hydrate, wasm32)"
cargo clippy --release --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

step "release build (server + WebAssembly)"
cargo leptos build --release

step "Rust tests (unit + integration, ssr)"
cargo test --release --features ssr

step "end-to-end tests in Chromium (Playwright)"
cargo leptos end-to-end --release

step "all checks passed in $((SECONDS - started)) s"
