#!/usr/bin/env bash
# The release archive, as an operator meets it: built by scripts/release.sh from BINARY,
# its checksum verified, unpacked in an empty directory and started there with
# environment variables only (no site directory, no hash.txt, no flags), answering
# /readyz; the newest glibc it needs must be within what the README promises.
#   tests/deploy/check_release.sh BINARY
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
binary=${1:?usage: check_release.sh BINARY}
check=check_release
# shellcheck source=tests/deploy/scratch.sh
source "$root/tests/deploy/scratch.sh"

"$root/scripts/release.sh" --binary "$binary" --out "$work/dist" >"$work/release.out"
(cd "$work/dist" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match the archive"
archive=$(ls "$work/dist"/dkimdash-*-x86_64-linux-gnu.tar.gz)
mkdir "$work/empty"
tar -C "$work/empty" -xzf "$archive"
unpacked=$(ls -d "$work/empty"/dkimdash-*)
for file in dkimdash README.md LICENSE deploy/container/build.sh deploy/systemd deploy/iam; do
  [[ -e $unpacked/$file ]] || fail "the archive has no $file"
done

# The promise is written in the README ("glibc 2.NN or newer"); the binary must keep it.
promised=$(grep -o 'glibc 2\.[0-9]* or newer' "$root/README.md" | head -n 1 | grep -o '2\.[0-9]*') ||
  fail "the README promises no glibc version"
needed=$(sed -n 's/^newest glibc symbol the binary needs: GLIBC_//p' "$work/release.out")
echo "check_release: the binary needs glibc $needed; the README promises $promised or newer"
[[ $(printf '%s\n%s\n' "$needed" "$promised" | sort -V | tail -n 1) == "$promised" ]] ||
  fail "the binary needs glibc $needed, newer than the README's $promised"

port=45672
(cd "$unpacked" && exec env -i PATH=/usr/bin:/bin DKIMDASH_LISTEN="127.0.0.1:$port" \
  DKIMDASH_AUDIT_DB="$work/data/audit.sqlite3" ./dkimdash >"$work/server.log" 2>&1) &
server=$!
for _ in $(seq 1 300); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/readyz', timeout=1)" 2>/dev/null; then
    page=$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$port/', timeout=5).read().decode())")
    grep -Eq '/pkg/dkimdash\.[0-9a-f]{16}\.wasm' <<<"$page" || fail "the page names no bundle of the embedded site"
    echo "check_release: the unpacked binary answers /readyz and serves its embedded site"
    exit 0
  fi
  kill -0 "$server" 2>/dev/null || { tail -n 20 "$work/server.log" >&2; fail "the unpacked binary stopped"; }
  sleep 0.3
done
tail -n 20 "$work/server.log" >&2
fail "the unpacked binary did not answer /readyz within 90 s"
