#!/usr/bin/env bash
# Builds the release archive: dkimdash-VERSION-x86_64-linux-gnu.tar.gz (the one-file
# binary, stripped, with the site inside it; README, licence, deploy/) and SHA256SUMS,
# and prints the newest glibc the binary needs.
#   scripts/release.sh [--binary PATH] [--out DIR]
# Without --binary it builds first (cargo leptos build --release). DIR: target/dist.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh

binary= out=$root/target/dist
while (($#)); do
  case $1 in
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: scripts/release.sh [--binary PATH] [--out DIR]" >&2; exit 2 ;;
  esac
done
if [[ -z $binary ]]; then
  ensure_rust_tools
  LEPTOS_OUTPUT_NAME=dkimdash cargo leptos build --release
  target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  binary=$target_dir/release/dkimdash
fi

version=$(crate_version "$root")
name=dkimdash-$version-x86_64-linux-gnu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/$name" "$out"
strip -o "$work/$name/dkimdash" "$binary"
chmod 0755 "$work/$name/dkimdash"
cp README.md LICENSE "$work/$name/"
cp -r deploy "$work/$name/"
# The same bytes for the same inputs: sorted names, one owner, the commit's time.
stamp=$(git log -1 --format=%ct 2>/dev/null || date +%s)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$stamp" \
  -C "$work" -cf - "$name" | gzip -9n >"$out/$name.tar.gz"
(cd "$out" && sha256sum "$name.tar.gz" >SHA256SUMS)

glibc=$(objdump -T "$work/$name/dkimdash" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)
echo "$out/$name.tar.gz"
echo "$out/SHA256SUMS"
echo "newest glibc symbol the binary needs: $glibc"
