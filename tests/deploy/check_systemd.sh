#!/usr/bin/env bash
# The systemd unit in deploy/systemd, checked without installing it: `systemd-analyze
# verify` on a copy whose ExecStart is a stub (verify refuses a command that does not
# exist, and dkimdash is not installed here), then `systemd-analyze security --offline`
# against a threshold just above the unit's score, so a protection dropped by mistake
# fails the check.
#   tests/deploy/check_systemd.sh
# Needs systemd-analyze 250 or later (--offline, --threshold): Debian's `systemd` package.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
unit=$root/deploy/systemd/dkimdash.service
# In tenths, as --threshold counts: the unit scores 1.1.
threshold=11
limit=$((threshold / 10)).$((threshold % 10))

fail() {
  echo "check_systemd: $*" >&2
  exit 1
}

command -v systemd-analyze >/dev/null ||
  fail "systemd-analyze is missing: apt-get install systemd"
version=$(systemd-analyze --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')
((${version:-0} >= 250)) ||
  fail "systemd-analyze ${version:-?} has no --offline: 250 or later is needed"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#!/bin/sh\nexit 0\n' >"$work/dkimdash"
chmod 0755 "$work/dkimdash"
sed "s|^ExecStart=/usr/local/bin/dkimdash\$|ExecStart=$work/dkimdash|" "$unit" \
  >"$work/dkimdash.service"
grep -qx "ExecStart=$work/dkimdash" "$work/dkimdash.service" ||
  fail "$unit: ExecStart is not /usr/local/bin/dkimdash"

# verify exits 0 on warnings (an unknown key is only "ignoring"), so any line about the
# unit fails; lines about the host's own units are shown and let be.
verified=0
output=$(systemd-analyze verify --man=no "$work/dkimdash.service" 2>&1) || verified=$?
about_unit=$(grep -F dkimdash <<<"$output" || true)
others=$(grep -vF dkimdash <<<"$output" || true)
if [[ -n $others ]]; then printf 'check_systemd: (about other units) %s\n' "$others" >&2; fi
if ((verified != 0)) || [[ -n $about_unit ]]; then
  fail "systemd-analyze verify (exit $verified):"$'\n'"${about_unit//$work\//}"
fi

security=0
report=$(systemd-analyze security --offline=yes --threshold="$threshold" \
  "$work/dkimdash.service" 2>&1) || security=$?
score=$(sed -n 's/.*Overall exposure level for dkimdash.service: \([0-9.]*\).*/\1/p' <<<"$report")
[[ -n $score ]] || fail "no exposure level in systemd-analyze's report:"$'\n'"$report"
if ((security != 0)); then
  grep '✗' <<<"$report" >&2 || true
  fail "exposure $score is above $limit: a protection was loosened"
fi
echo "check_systemd: unit verified; exposure $score (threshold $limit)"
