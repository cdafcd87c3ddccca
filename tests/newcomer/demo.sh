#!/usr/bin/env bash
# What a new user does (issue 6), run by `make test`: clone the repository into a
# temporary directory, run the README's first command there with `--duration`, and check
# every row of the README's demo table against the still-running daemon: its state with
# `socat` on the live control socket, its events with the `sqlite3` CLI on the audit
# table. Then the demo must end by itself and leave nothing behind, and Ctrl-C must do
# the same for a second run.
#
# It clones HEAD (committed work only, as a new user gets it). Needs git, make, socat,
# sqlite3 and the Swift toolchain; `make demo` installs the Debian packages itself.
# WBKEYD_NEWCOMER_KEEP=1 keeps the clone and the demo's log after a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"

tier=newcomer-test
# shellcheck source=tests/lib/tier.bash
source "$repo/tests/lib/tier.bash"

for tool in git make socat sqlite3 setsid; do
    command -v "$tool" >/dev/null || fail "$tool is missing; run scripts/install-deps"
done

duration=150
work="$(mktemp -d /var/tmp/wbkeyd-newcomer.XXXXXX)"
demo_pid=""
still_alive() { kill -0 "$demo_pid" 2>/dev/null || { echo "the demo exited"; return 1; }; }

cleanup() {
    local status=$?
    trap - EXIT
    if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then
        kill -INT -- "-$demo_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$demo_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$demo_pid" 2>/dev/null || true
    fi
    if [ $status -ne 0 ] && [ -f "$work/demo.log" ]; then
        echo "newcomer-test: --- the demo's output (last 40 lines) ---" >&2
        tail -n 40 "$work/demo.log" >&2
    fi
    if [ $status -ne 0 ] && [ -n "${WBKEYD_NEWCOMER_KEEP:-}" ]; then
        echo "newcomer-test: kept $work" >&2
    else
        rm -rf "$work"
    fi
    tier_verdict $status
    exit $status
}
trap cleanup EXIT

# --- what the README promises ----------------------------------------------------------
step "reading the README's first command and its demo table"
clone="$work/wbkeyd"
git clone --quiet "$repo" "$clone"
readme="$clone/README.md"
# The first line of the first code block: the command a new user types first.
first_command="$(awk '/^```/ { if (inside) exit; inside = 1; next } inside && NF { sub(/[ \t]*#.*/, ""); print; exit }' "$readme")"
[ "$first_command" = "make demo" ] || fail "the README's first command is '$first_command'; this test runs it as 'make demo' with DEMO_ARGS"
# Rows of the table under "## The two commands": | `user` | story | `state` | `event`, … |
declare -A expected_state expected_events
users=()
while IFS='|' read -r _ user _ state events _; do
    user="$(tr -d '` ' <<<"$user")"
    state="$(tr -d '` ' <<<"$state")"
    events="$(tr -d '` ' <<<"$events" | tr ',' ' ')"
    users+=("$user")
    expected_state[$user]="$state"
    expected_events[$user]="$events"
done < <(awk '/^## The two commands/ { inside = 1; next } /^## / { inside = 0 } inside && /^\| `/' "$readme")
[ ${#users[@]} -ge 5 ] || fail "found ${#users[@]} users in the README's demo table, expected five"
note "users: ${users[*]}"

# --- the demo, as a new user runs it -------------------------------------------------------
step "make demo DEMO_ARGS=\"--duration ${duration}s\" in a fresh clone ($clone); the first build takes minutes"
# Its own session, so that Ctrl-C can be sent to its whole process group as a terminal would.
(cd "$clone" && exec setsid make demo DEMO_ARGS="--duration ${duration}s" >"$work/demo.log" 2>&1) &
demo_pid=$!
built() { grep -q '^wbkeyd is running in ' "$work/demo.log"; }
wait_for "the build and the start of the demo" 1800 built
note "built and started after $((SECONDS - tier_started)) s"
settled() { grep -q '^every user has settled' "$work/demo.log"; }
wait_for "every user to settle (the demo says so)" 240 settled
settled_at=$SECONDS

directory="$(sed -n 's/^wbkeyd is running in //p' "$work/demo.log")"
socket="$(sed -n 's/^  echo status | socat - UNIX-CONNECT://p' "$work/demo.log")"
store="$(sed -n 's/^the audit log is the table audit in \(.*\):$/\1/p' "$work/demo.log")"
[ "$socket" = "$directory/control.sock" ] || fail "the demo printed the control socket '$socket' (directory '$directory')"
[ -f "$store" ] || fail "the demo printed the audit database '$store', which does not exist"
grep -q "wbkeyctl --socket $socket grants" "$work/demo.log" || fail "the demo printed no wbkeyctl command to try"

control() { printf '%s\n' "$1" | socat -t 30 - "UNIX-CONNECT:$socket"; }
audit_events() { # USER: that user's audit events, oldest first, one per line
    sqlite3 -readonly "$store" "SELECT event FROM audit WHERE user = '$1' ORDER BY seq"
}
contains_in_order() { # "WANTED ..." "HAVE\nHAVE ...": WANTED is a subsequence of HAVE
    local have="$2" wanted
    for wanted in $1; do
        have="$(awk -v w="$wanted" 'found { print; next } $0 == w { found = 1 } END { exit !found }' <<<"$have")" || return 1
    done
}

step "each user against the README: the demo's own promise, socat on the live socket, sqlite3 on the audit table"
for user in "${users[@]}"; do
    grep -Eq "^  $user +.* → expect ${expected_state[$user]}\$" "$work/demo.log" ||
        fail "the demo does not promise $user ends ${expected_state[$user]}, as the README says"
    shown="$(control "show $user")"
    state="$(sed -n 's/^state: *//p' <<<"$shown")"
    [ "$state" = "${expected_state[$user]}" ] ||
        fail "socat 'show $user' says state '$state'; the README says ${expected_state[$user]}:"$'\n'"$shown"
    events="$(audit_events "$user")"
    contains_in_order "${expected_events[$user]}" "$events" ||
        fail "the audit table for $user does not show '${expected_events[$user]}' in that order:"$'\n'"$events"
    note "$user: $state; audit shows ${expected_events[$user]}"
done
control 'grants json' >"$work/grants.json"
for user in "${users[@]}"; do
    listed="$(sqlite3 :memory: "SELECT json_extract(value, '\$.state') FROM json_each(readfile('$work/grants.json'), '\$.grants')
        WHERE json_extract(value, '\$.user') = '$user'")"
    [ "$listed" = "${expected_state[$user]}" ] || fail "'grants json' lists $user as '$listed', not ${expected_state[$user]}"
done
# Scenario details the table's words promise.
bob_delay="$(sqlite3 -readonly "$store" "SELECT CAST(round((julianday(d.at) - julianday(r.at)) * 86400) AS INTEGER)
    FROM audit r, audit d WHERE r.user = 'bob' AND r.event = 'authorization_received'
    AND d.user = 'bob' AND d.event = 'key_detected'")"
[ "${bob_delay:-0}" -ge 9 ] || fail "bob's key was detected ${bob_delay:-?} s after his authorization, the README says 10 s"
sqlite3 -readonly "$store" "SELECT detail FROM audit WHERE user = 'dave' AND event = 'key_revoked'" | grep -q '"reason":"secret_lost"' ||
    fail "dave's key was not deleted because his secret was lost"
[ "$(control status | sed -n 's/^phase: *//p')" = ready ] || fail "status does not say phase ready"

step "the printed commands work: wbkeyctl, audit-verify, and a secret read leaves no trace"
wbkeyctl="$clone/$(sed -n 's/^  \([^ ]*wbkeyctl\) --socket .* grants$/\1/p' "$work/demo.log")"
(cd "$clone" && "$wbkeyctl" --socket "$socket" grants) | grep -Eq '^alice +dormant ' || fail "wbkeyctl grants does not list alice as dormant"
(cd "$clone" && "$wbkeyctl" --socket "$socket" --json show alice) | grep -q '"state":"dormant"' || fail "wbkeyctl --json show alice does not say dormant"
# The command as the demo printed it (the chain is keyed: it names the master key file).
verify_command="$(sed -n 's/^  [^ ]*wbkeyd \(audit-verify --store .*\)$/\1/p' "$work/demo.log")"
[ -n "$verify_command" ] || fail "the demo printed no audit-verify command"
# shellcheck disable=SC2086 # the printed command's words
verify="$(cd "$clone" && .build/debug/wbkeyd $verify_command)" || fail "audit-verify refused the demo's chain: $verify"
note "$verify"
# bob's secret, read as the demo invites (the person running it may), must appear nowhere
# else: not in the demo's output, the audit table, the store's pages or its WAL.
secret="$(control 'secret bob json' | sed -n 's/.*"api_secret" *: *"\([^"]*\)".*/\1/p')"
[ ${#secret} -ge 16 ] || fail "'secret bob json' gave no api_secret"
for place in "$work/demo.log" "$store" "$store-wal"; do
    [ ! -e "$place" ] || ! grep -qaF "$secret" "$place" || fail "bob's API secret is readable in clear in $place"
done
sqlite3 -readonly "$store" 'SELECT * FROM audit' | grep -qF "$secret" && fail "bob's API secret is in the audit table"

step "the demo ends by itself after --duration ${duration}s and removes what it made"
# make, the demo and its daemon and simulator share one process group: ended when it is empty.
ended() { ! pgrep -g "$demo_pid" >/dev/null; }
deadline=$((settled_at + duration + 60))
until ended; do
    [ $SECONDS -lt $deadline ] || fail "the demo did not end by itself after its duration"
    sleep 1
done
wait "$demo_pid" && demo_status=0 || demo_status=$?
demo_pid=""
[ "$demo_status" -eq 0 ] || fail "make demo exited $demo_status"
grep -qx "stopped; removed $directory" "$work/demo.log" || fail "the demo did not say it removed $directory"
[ ! -e "$directory" ] || fail "$directory is still there after the demo ended"
if pgrep -f "$directory" >/dev/null; then fail "processes of the demo outlived it: $(pgrep -af "$directory")"; fi

step "Ctrl-C: a second make demo (built now) stops everything and removes its directory"
(cd "$clone" && exec setsid make demo >"$work/demo.log" 2>&1) &
demo_pid=$!
wait_for "the second demo to start" 300 built
directory="$(sed -n 's/^wbkeyd is running in //p' "$work/demo.log")"
wait_for "the second demo's first table" 60 grep -q ' grants:$' "$work/demo.log"
kill -INT -- "-$demo_pid"
deadline=$((SECONDS + 60))
until ended; do
    [ $SECONDS -lt $deadline ] || fail "Ctrl-C did not stop the demo within 60 s"
    sleep 0.5
done
wait "$demo_pid" || true
demo_pid=""
grep -qx "stopped; removed $directory" "$work/demo.log" || fail "after Ctrl-C the demo did not say it removed $directory"
[ ! -e "$directory" ] || fail "$directory is still there after Ctrl-C"
if pgrep -f "$directory" >/dev/null; then fail "processes of the demo outlived Ctrl-C: $(pgrep -af "$directory")"; fi
