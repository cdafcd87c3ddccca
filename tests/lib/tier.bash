# Shared by the shell test tiers (tests/newcomer, tests/systemd): their messages and
# their polling. The sourcing script sets `tier` (the prefix of every line it prints)
# and defines `still_alive`, which fails, saying why on stdout, once what the tier
# waits on has died.

tier_started=$SECONDS

step() { echo "$tier: == $*" >&2; }
note() { echo "$tier:    $*" >&2; }
fail() { echo "$tier: FAIL: $*" >&2; exit 1; }

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND until it succeeds; fails after
# SECONDS, or at once when `still_alive` fails.
wait_for() {
    local what="$1" limit="$2"
    shift 2
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || fail "waited ${limit} s for $what"
        local why
        why="$(still_alive)" || fail "$why while waiting for $what"
        sleep 0.2
    done
}

# The last line of a tier, from its EXIT trap: PASS with the time it took, or FAILED.
tier_verdict() {
    if [ "$1" -eq 0 ]; then
        echo "$tier: PASS (in $((SECONDS - tier_started)) s)" >&2
    else
        echo "$tier: FAILED (exit $1)" >&2
    fi
}
