# Sourced by the deploy checks that start a server ($check names the check): a scratch
# directory ($work), removed at exit with the server ($server, once started) stopped, and
# fail() for a check that does not hold.
work=$(mktemp -d)
server=
cleanup() {
  if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "$check: $*" >&2
  exit 1
}
