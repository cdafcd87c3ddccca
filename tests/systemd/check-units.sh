#!/usr/bin/env bash
# Host-side checks of the shipped units, run by `make test`. No running systemd needed.
#   - the exposure score of `systemd-analyze security --offline=true` is at most 2.0
#     (docs/design.md §8);
#   - every directive of the shipped units is one this systemd knows (verify would say
#     "Unknown key"; the full `systemd-analyze verify`, which also wants the installed
#     binary, runs inside the container in tests/systemd/run.sh).
# Fails loudly when a tool is missing: scripts/install-deps installs them.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() { echo "check-units: FAIL: $*" >&2; exit 1; }
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (Debian package systemd; run scripts/install-deps)"

threshold=2.0
report="$(systemd-analyze security --offline=true systemd/wbkeyd.service 2>&1)" ||
    fail "systemd-analyze security failed:"$'\n'"$report"
score="$(sed -n 's/^→ Overall exposure level for wbkeyd.service: \([0-9.]*\) .*/\1/p' <<<"$report")"
[ -n "$score" ] || fail "no exposure level in systemd-analyze's output:"$'\n'"$report"
awk -v s="$score" -v t="$threshold" 'BEGIN { exit !(s <= t) }' ||
    fail "exposure $score is above $threshold; what still counts:"$'\n'"$(grep '✗' <<<"$report")"
echo "check-units: wbkeyd.service exposure $score (at most $threshold)"

for unit in systemd/wbkeyd.service systemd/wbkeyd.socket; do
    # verify prints everything it dislikes; only the check of the (not yet installed)
    # binary is expected here, and only for the service.
    output="$(systemd-analyze verify --man=no "$unit" 2>&1 | grep -v '^wbkeyd.service: Command /usr/bin/wbkeyd is not executable: No such file or directory$' || true)"
    [ -z "$output" ] || fail "systemd-analyze verify $unit:"$'\n'"$output"
done
# The PostgreSQL drop-in example, applied to the service as systemctl would (verify loads
# UNIT.d/*.conf beside the unit it is given).
dropin="$(mktemp -d)"
trap 'rm -rf "$dropin"' EXIT
mkdir "$dropin/wbkeyd.service.d"
cp systemd/wbkeyd.service systemd/wbkeyd.socket "$dropin/"
cp systemd/wbkeyd-postgresql.conf "$dropin/wbkeyd.service.d/postgresql.conf"
output="$(systemd-analyze verify --man=no "$dropin/wbkeyd.service" 2>&1 | grep -v '^wbkeyd.service: Command /usr/bin/wbkeyd is not executable: No such file or directory$' || true)"
[ -z "$output" ] || fail "systemd-analyze verify wbkeyd.service with wbkeyd-postgresql.conf:"$'\n'"$output"
echo "check-units: unit directives known to systemd $(systemd-analyze --version | sed -n '1s/systemd \([0-9]*\).*/\1/p')"
