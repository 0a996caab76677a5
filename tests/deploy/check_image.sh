#!/usr/bin/env bash
# The container image, tested without a container runtime (podman cannot start one on
# every machine): built by deploy/container/build.sh, unpacked with umoci, its config and
# its root filesystem checked against what it should hold, then its entrypoint run in the
# unpacked root as user 65532 (chroot), in demo mode, and asked for /livez, /readyz, a
# page and the hashed WebAssembly in brotli and gzip.
#   tests/deploy/check_image.sh BINARY
# Needs root (chroot, and files owned by 65532) and Debian's buildah, umoci, skopeo.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
binary=${1:?usage: check_image.sh BINARY}
check=check_image
# shellcheck source=tests/deploy/scratch.sh
source "$root/tests/deploy/scratch.sh"
# shellcheck source=scripts/toolchain.sh
source "$root/scripts/toolchain.sh"

"$root/deploy/container/build.sh" "$binary" "$work/image.oci.tar" >/dev/null
skopeo copy --quiet "oci-archive:$work/image.oci.tar" "oci:$work/layout:dkimdash"
umoci unpack --image "$work/layout:dkimdash" "$work/bundle" >/dev/null
rootfs=$work/bundle/rootfs
skopeo inspect --config "oci:$work/layout:dkimdash" >"$work/config.json"

# The config: who runs what, with which settings, and what is kept.
python3 - "$work/config.json" "$(crate_version "$root")" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))["config"]
version = sys.argv[2]
def expect(what, got, wanted):
    if got != wanted:
        sys.exit(f"check_image: {what} is {got!r}, not {wanted!r}")
expect("User", config.get("User"), "65532:65532")
expect("Entrypoint", config.get("Entrypoint"), ["/usr/local/bin/dkimdash"])
expect("Cmd", config.get("Cmd") or [], [])
expect("ExposedPorts", sorted(config.get("ExposedPorts", {})), ["3000/tcp"])
expect("Volumes", sorted(config.get("Volumes", {})), ["/data"])
env = dict(item.split("=", 1) for item in config.get("Env", []))
expect("DKIMDASH_LISTEN", env.get("DKIMDASH_LISTEN"), "0.0.0.0:3000")
expect("DKIMDASH_AUDIT_DB", env.get("DKIMDASH_AUDIT_DB"), "/data/audit.sqlite3")
labels = config.get("Labels", {})
expect("version label", labels.get("org.opencontainers.image.version"), version)
expect("licence label", labels.get("org.opencontainers.image.licenses"), "Apache-2.0")
if not labels.get("org.opencontainers.image.source"):
    sys.exit("check_image: no org.opencontainers.image.source label")
PY

# The root filesystem holds exactly this: the binary, the libraries it links, CA
# certificates, the user and group files, nsswitch.conf, /data and /tmp.
{
  printf '%s\n' . ./data ./tmp ./etc ./etc/passwd ./etc/group ./etc/nsswitch.conf \
    ./etc/ssl ./etc/ssl/certs ./etc/ssl/certs/ca-certificates.crt \
    ./usr ./usr/local ./usr/local/bin ./usr/local/bin/dkimdash
  ldd "$binary" | awk '/=> \// { print $3 } /^[[:space:]]*\// { print $1 }' | while read -r library; do
    path=.$library
    while [[ $path != . ]]; do
      echo "$path"
      path=$(dirname "$path")
    done
  done
} | sort -u >"$work/expected"
(cd "$rootfs" && find . | sort) >"$work/found"
if ! diff -u "$work/expected" "$work/found"; then
  fail "the image's root filesystem differs from what it should hold (- expected, + found)"
fi
[[ $(stat -c '%u:%g %a' "$rootfs/data") == "65532:65532 700" ]] || fail "/data is not 65532's, mode 700"
[[ $(stat -c '%a' "$rootfs/tmp") == 1777 ]] || fail "/tmp is not mode 1777"
grep -q '^dkimdash:x:65532:65532:' "$rootfs/etc/passwd" || fail "no user 65532 in /etc/passwd"

# Its entrypoint, in its root, as its user, with its environment: nothing from here.
port=45671
mapfile -t image_env < <(python3 -c '
import json, sys
for item in json.load(open(sys.argv[1]))["config"]["Env"]:
    print(item)' "$work/config.json")
# coreutils' chroot lives in /usr/sbin, which not every PATH holds.
chroot=$(PATH="$PATH:/usr/sbin:/sbin" command -v chroot) || {
  echo "check_image: chroot not found (coreutils, /usr/sbin/chroot)" >&2
  exit 1
}
# Without --auth it listens on loopback only (it refuses a wildcard address).
env -i "${image_env[@]}" DKIMDASH_LISTEN="127.0.0.1:$port" \
  "$chroot" --userspec=65532:65532 "$rootfs" /usr/local/bin/dkimdash >"$work/server.log" 2>&1 &
server=$!

python3 - "http://127.0.0.1:$port" "$server" <<'PY' || { tail -n 30 "$work/server.log" >&2; exit 1; }
import gzip, os, re, sys, time, urllib.error, urllib.request
base, server = sys.argv[1], int(sys.argv[2])
def get(path, **headers):
    request = urllib.request.Request(base + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
def running(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(") ", 1)[1][0] != "Z"
    except OSError:
        return False
deadline = time.monotonic() + 90
while True:
    try:
        if get("/readyz")[0] == 200:
            break
    except OSError:
        pass
    if not running(server):
        sys.exit("check_image: the server stopped")
    if time.monotonic() > deadline:
        sys.exit("check_image: /readyz did not answer 200 within 90 s")
    time.sleep(0.3)
status, _, _ = get("/livez")
assert status == 200, f"/livez answered {status}"
status, _, page = get("/")
page = page.decode()
assert status == 200 and "dkimdash" in page, f"/ answered {status}"
match = re.search(r'/pkg/dkimdash\.[0-9a-f]{16}\.wasm', page)
assert match, "the page names no hashed WebAssembly of the embedded site"
status, headers, body = get(match.group(0), **{"Accept-Encoding": "br"})
assert status == 200 and headers["Content-Encoding"] == "br" and body, (status, dict(headers))
assert "immutable" in headers["Cache-Control"], headers["Cache-Control"]
status, headers, body = get(match.group(0), **{"Accept-Encoding": "gzip"})
assert headers["Content-Encoding"] == "gzip", dict(headers)
assert gzip.decompress(body)[:4] == b"\0asm", "the gzip variant is not the WebAssembly"
print("check_image: the image runs as 65532 from its own root and serves its embedded site")
PY
[[ $(stat -c '%u' "$rootfs/data/audit.sqlite3") == 65532 ]] || fail "the audit log was not written by 65532 in /data"
