#!/usr/bin/env bash
# Installs what building dkimdash needs and is missing; skips what is present.
# Sourced by scripts/demo.sh and scripts/test.sh. Nothing here downloads a binary:
# every tool comes from a package registry (see ../shared/TOOLCHAIN.md for why each pin).
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
# Must match the wasm-bindgen pin in Cargo.toml / Cargo.lock.
WASM_BINDGEN_VERSION=0.2.130
# Runs each Rust test in its own process, side by side (scripts/test.sh, .config/nextest.toml).
NEXTEST_VERSION=0.9.151

export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '==> %s\n' "$*" >&2; }

# The crate's version, from the Cargo.toml of the repository at $1.
crate_version() {
  sed -n 's/^version = "\(.*\)"$/\1/p' "$1/Cargo.toml" | head -n 1
}

# Builds a crate from its registry source after pinning one dependency that breaks the
# crate's own lockfile on this Rust (`cargo install --locked` alone fails for both tools).
install_with_pin() {
  local crate=$1 version=$2 dep=$3 dep_version=$4
  log "installing $crate $version from source (pinning $dep $dep_version)"
  cargo info "$crate@$version" >/dev/null
  local src
  src=$(ls -d "$HOME"/.cargo/registry/src/*/"$crate-$version" | head -n 1)
  local work
  work=$(mktemp -d)
  cp -r "$src" "$work/src"
  (cd "$work/src" && cargo update -p "$dep" --precise "$dep_version")
  cargo_install_tool "$crate" --path "$work/src" --locked
  rm -rf "$work"
}

# `cargo install` for a build tool, unoptimised and without the tool's own release
# settings (cargo-leptos asks for fat LTO in one codegen unit). Their time goes to waiting
# for cargo, rustc and wasm-opt: measured on 2 cores, cargo-leptos compiled in 8 minutes
# instead of 26 and then built the site in 81 s instead of 77; wasm-bindgen takes 1.6 s
# instead of 0.4 on this crate's module. Built in a target dir of their own, so the
# project's is never locked by it or filled with the tools' code (each tool in a dir of
# its own: they may compile side by side). $1 names the tool.
cargo_install_tool() {
  local name=$1
  shift
  CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_TARGET_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/dkimdash/tools-target/$name" \
    cargo install "$@"
}

# The missing tools compile side by side, each in a background job with a log of its own,
# while the caller goes on until wait_for_rust_tools: the last crates of a tool compile
# one at a time, and the other core is then free for the next tool (or for the caller's
# apt, npm and pip installs).
tool_jobs=() tool_names=() tool_logs=()
start_tool_install() {
  local name=$1 log
  shift
  log=$(mktemp "${TMPDIR:-/tmp}/dkimdash-install-$name.XXXXXX")
  log "installing $name in the background (log: $log)"
  "$@" >"$log" 2>&1 &
  tool_jobs+=("$!") tool_names+=("$name") tool_logs+=("$log")
}

# Waits for every tool started; prints each one's last line, or its whole log if it failed.
wait_for_rust_tools() {
  local failed=0 i
  for i in "${!tool_jobs[@]}"; do
    if wait "${tool_jobs[$i]}"; then
      log "${tool_names[$i]}: $(tail -n 1 "${tool_logs[$i]}")"
    else
      log "installing ${tool_names[$i]} failed:"
      cat "${tool_logs[$i]}" >&2
      failed=1
    fi
    rm -f "${tool_logs[$i]}"
  done
  tool_jobs=() tool_names=() tool_logs=()
  return "$failed"
}

# Starts installing what building the dashboard needs and is missing.
start_rust_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding rustup target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    start_tool_install cargo-leptos \
      install_with_pin cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-util-schemas 0.14.1
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
    start_tool_install wasm-bindgen-cli \
      install_with_pin wasm-bindgen-cli "$WASM_BINDGEN_VERSION" webpki-roots 1.0.10
  fi
}

ensure_rust_tools() {
  start_rust_tools
  wait_for_rust_tools
}

# Starts installing the test runner if missing: only the tests need it, not the demo.
start_test_runner() {
  if ! cargo nextest --version 2>/dev/null | grep -q "$NEXTEST_VERSION"; then
    # Without self-update: nothing here downloads a binary.
    start_tool_install cargo-nextest cargo_install_tool cargo-nextest \
      cargo-nextest --version "$NEXTEST_VERSION" --locked \
      --no-default-features --features default-no-update
  fi
}

# Clippy's lints in the builds that follow instead of in `cargo clippy` runs of their own:
# clippy-driver as this workspace's compiler wrapper (what `cargo clippy` sets up for its
# `cargo check`) lints each crate of the workspace while compiling it, warnings as errors.
# A `cargo clippy` compiles every dependency again as metadata only (on a cold machine,
# 5 minutes for the server's and 2 for the WebAssembly's); here they are compiled once.
# Cargo fingerprints the wrapper, so every build in the run must see the same setting.
lint_in_builds() {
  local driver
  driver=$(rustup which clippy-driver 2>/dev/null) || {
    rustup component add clippy
    driver=$(rustup which clippy-driver)
  }
  export RUSTC_WORKSPACE_WRAPPER=$driver
  # Arguments for clippy-driver, separated as cargo-clippy separates them.
  export CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
}

# npm packages of end2end/: Playwright (never its browser download) and binaryen's wasm-opt,
# which cargo-leptos's release build runs (Debian's binaryen 108 breaks hydration).
# Installed again when the lockfile differs from the one they were installed from.
ensure_node_modules() {
  local root=$1
  local modules="$root/end2end/node_modules"
  if ! command -v npm >/dev/null; then
    log "installing nodejs and npm"
    apt_install nodejs npm
  fi
  if [ ! -x "$modules/.bin/wasm-opt" ] || [ ! -x "$modules/.bin/playwright" ] ||
    ! cmp -s "$root/end2end/package-lock.json" "$modules/.installed-from-package-lock.json"; then
    log "npm ci in end2end/"
    (cd "$root/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    cp "$root/end2end/package-lock.json" "$modules/.installed-from-package-lock.json"
  fi
  export PATH="$root/end2end/node_modules/.bin:$PATH"
}

ensure_chromium() {
  if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
    apt_install chromium
  fi
}

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# A Python virtualenv for REQUIREMENTS, outside the clone so later runs on the same machine
# reuse it, rebuilt when the requirements change. Prints its path.
ensure_venv() {
  local name=$1 requirements=$2
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/dkimdash/$name"
  if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/requirements.txt"; then
    log "installing the Python packages of $requirements"
    python3 -m venv "$venv" || { apt_install python3-venv && python3 -m venv "$venv"; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/requirements.txt"
  fi
  printf '%s\n' "$venv"
}

# The other SES clients the simulator is tested against (boto3), and moto.
ensure_python_clients() {
  ensure_venv venv "$1/tests/clients/requirements.txt"
}

# What the deploy checks need (tests/deploy): Debian's buildah, umoci and skopeo for the
# image, binutils (strip, objdump), CA certificates, systemd-analyze; and their Python
# packages (prints the virtualenv's path).
ensure_deploy_checks() {
  local missing=()
  command -v buildah >/dev/null || missing+=(buildah)
  command -v umoci >/dev/null || missing+=(umoci)
  command -v skopeo >/dev/null || missing+=(skopeo)
  command -v objdump >/dev/null || missing+=(binutils)
  command -v systemd-analyze >/dev/null || missing+=(systemd)
  [ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
  if [ ${#missing[@]} -gt 0 ]; then
    apt_install "${missing[@]}" >&2
  fi
  ensure_venv deploy-venv "$1/tests/deploy/requirements.txt"
}

# Starts `dkimdash simulator` from a built binary on a loopback port and waits until it
# answers. Sets SIMULATOR_PID.
start_simulator() {
  local binary=$1 listen=$2
  "$binary" simulator --listen "$listen" --no-seed --calls-per-second 0 &
  SIMULATOR_PID=$!
  for _ in $(seq 1 50); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://$listen/_sim/health', timeout=1)" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  log "the SES simulator did not start on $listen"
  return 1
}
