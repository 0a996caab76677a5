#!/usr/bin/env bash
# Builds dkimdash's container image from scratch, without a container daemon and without
# pulling a base image: the one-file release binary (stripped), the C libraries it links,
# taken from this machine's Debian, CA certificates, a non-root user (65532) and a
# writable /data (the audit log) and /tmp. Writes an OCI archive.
#   deploy/container/build.sh [BINARY [OUTPUT]]
# BINARY: the release build (cargo leptos build --release; default: the target dir's).
# OUTPUT: default target/image/dkimdash-VERSION.oci.tar, tagged localhost/dkimdash:VERSION.
# Load it with `podman load -i OUTPUT` or `skopeo copy oci-archive:OUTPUT docker://…`.
# Needs (Debian): buildah, ca-certificates, binutils (strip).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# shellcheck source=scripts/toolchain.sh
source "$root/scripts/toolchain.sh"
version=$(crate_version "$root")
target_dir=${CARGO_TARGET_DIR:-$root/target}
binary=${1:-$target_dir/release/dkimdash}
output=${2:-$root/target/image/dkimdash-$version.oci.tar}
if [[ ! -x $binary ]]; then
  echo "no release binary at $binary: run cargo leptos build --release first" >&2
  exit 1
fi
for tool in buildah strip ldd; do
  command -v "$tool" >/dev/null || {
    echo "$tool is missing: apt-get install buildah binutils" >&2
    exit 1
  }
done
certificates=/etc/ssl/certs/ca-certificates.crt
[[ -f $certificates ]] || {
  echo "$certificates is missing: apt-get install ca-certificates" >&2
  exit 1
}

work=$(mktemp -d)
# buildah keeps its own storage here, not in the machine's: nothing is left behind.
storage=(--root "$work/storage" --runroot "$work/run" --storage-driver vfs)
container=
cleanup() {
  if [[ -n $container ]]; then buildah "${storage[@]}" rm "$container" >/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

rootfs=$work/rootfs
mkdir -p "$rootfs"/{usr/local/bin,etc/ssl/certs,data,tmp}
strip -o "$rootfs/usr/local/bin/dkimdash" "$binary"
chmod 0755 "$rootfs/usr/local/bin/dkimdash"
# Every library the binary loads, at the path the loader looks for it (the symlinks
# resolved: a scratch image has nothing to point at).
ldd "$binary" | awk '/=> \// { print $3 } /^[[:space:]]*\// { print $1 }' | while read -r library; do
  mkdir -p "$rootfs$(dirname "$library")"
  cp -L "$library" "$rootfs$library"
done
cp "$certificates" "$rootfs/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/sbin/nologin\ndkimdash:x:65532:65532:dkimdash:/data:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\ndkimdash:x:65532:\n' >"$rootfs/etc/group"
# glibc's default order, written down: files (the runtime's /etc/hosts), then DNS.
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
chmod 1777 "$rootfs/tmp"
chmod 0700 "$rootfs/data"
chown 65532:65532 "$rootfs/data"
# One layer, owners by number (buildah copy would make every file root's).
tar --numeric-owner --sort=name -C "$rootfs" -cf "$work/rootfs.tar" .

# Where the image was built from: the clone's origin unless told.
source_url=${DKIMDASH_SOURCE_URL:-$(git -C "$root" remote get-url origin 2>/dev/null || echo unknown)}
container=$(buildah "${storage[@]}" from scratch)
buildah "${storage[@]}" add "$container" "$work/rootfs.tar" / >/dev/null
buildah "${storage[@]}" config \
  --user 65532:65532 \
  --entrypoint '["/usr/local/bin/dkimdash"]' \
  --cmd '[]' \
  --workingdir /data \
  --port 3000/tcp \
  --volume /data \
  --env PATH=/usr/local/bin \
  --env DKIMDASH_LISTEN=0.0.0.0:3000 \
  --env DKIMDASH_AUDIT_DB=/data/audit.sqlite3 \
  --env DKIMDASH_LOG_FORMAT=json \
  --label org.opencontainers.image.title=dkimdash \
  --label "org.opencontainers.image.description=DKIM status and repair across Amazon SES identities" \
  --label "org.opencontainers.image.version=$version" \
  --label org.opencontainers.image.licenses=Apache-2.0 \
  --label "org.opencontainers.image.source=$source_url" \
  --label "org.opencontainers.image.revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)" \
  "$container"
mkdir -p "$(dirname "$output")"
rm -f "$output"
buildah "${storage[@]}" commit --quiet --format oci "$container" \
  "oci-archive:$output:localhost/dkimdash:$version" >/dev/null
echo "$output (localhost/dkimdash:$version)"
