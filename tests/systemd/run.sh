#!/usr/bin/env bash
# wbkeyd under a real systemd (docs/design.md §8, §10), run by `make test`.
#
# Boots Debian's systemd in systemd-nspawn over a debootstrap root (cached under
# /var/cache/wbkeyd-test, so only the first run pays for it), installs the static release
# build and the shipped units with scripts/install, and checks, as an admin would see it:
# verify, start after READY, the service's user, hardening and credentials, journald
# fields and catalog, the spool's permissions, a consent through whitebit-sim to
# `active` over the socket-activated control socket, reload, the watchdog restarting a
# frozen daemon, socket activation of a stopped daemon, and a clean stop.
#
# WBKEYD_TEST_KEEP=1 leaves a failed run's container running (=always: any run's), for
# `nsenter -t PID -a bash`.
# Needs root, systemd-nspawn (systemd-container), debootstrap, nsenter and curl:
# scripts/install-deps installs them. When anything is missing it fails, never skips.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"

tier=systemd-test
# shellcheck source=tests/lib/tier.bash
source "$repo/tests/lib/tier.bash"
# shellcheck source=tests/systemd/readme-operate.bash
source "$repo/tests/systemd/readme-operate.bash"

[ "$(id -u)" -eq 0 ] || fail "needs root (systemd-nspawn and debootstrap do); CI runs make test as root"
for tool in systemd-nspawn debootstrap nsenter curl swift; do
    command -v "$tool" >/dev/null || fail "$tool is missing; run scripts/install-deps"
done

includes=systemd,systemd-sysv,dbus,procps,socat,sqlite3
sim_port=18080
cache="${WBKEYD_TEST_CACHE:-/var/cache/wbkeyd-test}"

# --- the Debian mirror and suite apt already uses ------------------------------------
codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
[ -n "$codename" ] || fail "no VERSION_CODENAME in /etc/os-release; this test needs a Debian host"
# deb822 paragraphs (*.sources) and one-line entries (*.list): the first "deb" source
# whose suites include the host's codename with component main.
mirror="$(
    shopt -s nullglob
    for file in /etc/apt/sources.list.d/*.sources; do
        awk -v want="$codename" '
            function flush() {
                if ((" " types " ") ~ / deb / && (" " suites " ") ~ (" " want " ") && (" " comps " ") ~ / main /) {
                    split(uris, u, " "); print u[1]; exit
                }
                types = uris = suites = comps = ""
            }
            FNR == 1 { flush() }
            /^[ \t]*$/ { flush(); next }
            /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
            /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
            /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
            /^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0 }
            END { flush() }' "$file"
    done
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$file" ] || continue
        sed -e 's/\[[^]]*\]//' "$file" | awk -v want="$codename" '
            $1 == "deb" && $3 == want { for (i = 4; i <= NF; i++) if ($i == "main") { print $2; exit } }'
    done
)"
mirror="$(head -n1 <<<"$mirror")"
[ -n "$mirror" ] || fail "no 'deb' source for $codename main in /etc/apt/sources.list*; debootstrap needs a mirror"

# --- the release build, installed into a fresh copy of the cached root ---------------
key="$(printf '%s %s %s' "$codename" "$mirror" "$includes" | sha256sum | cut -c1-12)"
base="$cache/root-$codename-$key"
mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9
if [ ! -d "$base" ]; then
    step "making the container root with debootstrap from $mirror ($codename; once, cached in $base)"
    started=$SECONDS
    rm -rf "$base.partial"
    debootstrap --variant=minbase --include="$includes" "$codename" "$base.partial" "$mirror" \
        >"$cache/debootstrap.log" 2>&1 ||
        { tail -n 20 "$cache/debootstrap.log" >&2; fail "debootstrap failed; the whole log is $cache/debootstrap.log"; }
    mv "$base.partial" "$base"
    note "debootstrap took $((SECONDS - started)) s"
fi
flock -u 9

work="$(mktemp -d /var/tmp/wbkeyd-systemd-test.XXXXXX)"
nspawn_pid=""
container_pid=""
machine="wbkeyd-test-$$"

diagnose() {
    [ -n "$container_pid" ] || return 0
    echo "systemd-test: --- systemctl status wbkeyd ---" >&2
    nsenter -t "$container_pid" -a systemctl status --no-pager wbkeyd.service wbkeyd.socket >&2 2>&1 || true
    echo "systemd-test: --- journalctl (last 60 entries of wbkeyd and whitebit-sim) ---" >&2
    nsenter -t "$container_pid" -a journalctl --no-pager -n 60 -u wbkeyd -u whitebit-sim >&2 2>&1 || true
}

cleanup() {
    local status=$?
    trap - EXIT
    [ $status -eq 0 ] || diagnose
    local keep="${WBKEYD_TEST_KEEP:-}"
    if [ -n "$container_pid" ] && { [ "$keep" = always ] || { [ "$keep" = 1 ] && [ $status -ne 0 ]; }; }; then
        echo "systemd-test: exit $status; the container is kept: nsenter -t $container_pid -a bash" >&2
        echo "systemd-test: afterwards: kill $nspawn_pid; rm -rf $work" >&2
        exit $status
    fi
    if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
        # nspawn turns SIGTERM into an orderly shutdown of the booted container.
        kill -TERM "$nspawn_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$nspawn_pid" 2>/dev/null; then
            # The container's init dies with its whole PID namespace; nspawn after it.
            [ -z "$container_pid" ] || kill -KILL "$container_pid" 2>/dev/null || true
            kill -KILL "$nspawn_pid" 2>/dev/null || true
        fi
        wait "$nspawn_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
    tier_verdict $status
    exit $status
}
trap cleanup EXIT

step "copying the cached root to $work/root"
cp -a "$base" "$work/root"

step "scripts/install: swift build -c release --static-swift-stdlib, then install into the container's root"
DESTDIR="$work/root" PREFIX=/usr scripts/install
for page in wbkeyd wbkeyctl whitebit-sim; do
    [ -s "$work/root/usr/share/man/man1/$page.1" ] || fail "scripts/install did not install the manual page $page.1"
done
for completion in bash-completion/completions/wbkeyd bash-completion/completions/wbkeyctl zsh/vendor-completions/_wbkeyctl \
    fish/vendor_completions.d/wbkeyd.fish; do
    [ -s "$work/root/usr/share/$completion" ] || fail "scripts/install did not install the completion $completion"
done
"$work/root/usr/bin/wbkeyd" --version | grep -Eq '^wbkeyd [0-9.]+ \(git [0-9a-z.-]+\)$' ||
    fail "wbkeyd --version does not name the revision: $("$work/root/usr/bin/wbkeyd" --version)"
# whitebit-sim answers on localhost inside the container; wbkeyd resolves that name, so
# name resolution runs under the unit's hardening too.
printf '127.0.0.1 localhost\n' >"$work/root/etc/hosts"

step "booting systemd in systemd-nspawn"
systemd-nspawn --quiet --keep-unit --register=no --private-network --machine="$machine" \
    --directory="$work/root" --boot </dev/null >"$work/console.log" 2>&1 &
nspawn_pid=$!

still_alive() {
    kill -0 "$nspawn_pid" 2>/dev/null && return 0
    tail -n 20 "$work/console.log" >&2
    echo "the container died"
    return 1
}
find_init() { container_pid="$(pgrep -P "$nspawn_pid" -x systemd | head -n1)"; [ -n "$container_pid" ]; }
wait_for "the container's systemd to appear" 60 find_init
in_container() { nsenter -t "$container_pid" -a "$@"; }
manager_listening() { in_container test -S /run/systemd/private; }
wait_for "the container's systemd to listen on /run/systemd/private" 60 manager_listening
boot_state="$(timeout 120 nsenter -t "$container_pid" -a systemctl is-system-running --wait || true)"
case "$boot_state" in
    running) note "booted: $boot_state" ;;
    degraded) note "booted degraded; failed units: $(in_container systemctl --failed --no-legend --plain | tr '\n' ' ')" ;;
    *) tail -n 30 "$work/console.log" >&2; fail "the container did not boot (state '$boot_state')" ;;
esac

step "checking that the static binaries find every library in the container"
missing="$(in_container ldd /usr/bin/wbkeyd /usr/bin/whitebit-sim | grep 'not found' || true)"
[ -z "$missing" ] || fail "libraries missing in the container:"$'\n'"$missing"

step "systemd-analyze verify on the installed units prints nothing"
# --man=no: the container has no man(1); the pages Documentation= names are checked below.
output="$(in_container systemd-analyze verify --man=no /usr/lib/systemd/system/wbkeyd.service /usr/lib/systemd/system/wbkeyd.socket 2>&1 || true)"
[ -z "$output" ] || fail "systemd-analyze verify said:"$'\n'"$output"
step "the manual pages that Documentation= names are installed"
for page in $(in_container sed -n 's/^Documentation=//p' /usr/lib/systemd/system/wbkeyd.service /usr/lib/systemd/system/wbkeyd.socket | tr ' ' '\n' | sed -n 's/^man:\([a-z-]*\)(1)$/\1/p' | sort -u); do
    in_container test -f "/usr/share/man/man1/$page.1" || fail "Documentation= names man:$page(1), which is not installed"
done

step "the admin's steps, as README.md's \"Deploying with systemd\" writes them"
# The block after "Then, as root": each line runs as written, but for the placeholder
# CLIENT-SECRET (the simulator's client secret) and $EDITOR, which makes the edits the
# comment asks for. The last two lines (start, status) are the next steps' own.
mapfile -t deploy < <(awk '/^Then, as root/ { found = 1; next } found && /^```bash$/ { inside = 1; next } inside && /^```$/ { exit } inside' "$repo/README.md")
[ ${#deploy[@]} -eq 7 ] || fail "README.md's deployment block has ${#deploy[@]} lines, expected 7:"$'\n'"$(printf '%s\n' "${deploy[@]}")"
[ "${deploy[5]}" = "systemctl enable --now wbkeyd.socket wbkeyd.service" ] || fail "README.md starts wbkeyd with '${deploy[5]}'"
[ "${deploy[6]}" = "echo status | socat - UNIX-CONNECT:/run/wbkeyd/control.sock" ] || fail "README.md checks wbkeyd with '${deploy[6]}'"
config="$work/root/etc/wbkeyd/wbkeyd.toml"
mkdir -p "$work/root/usr/local/sbin"
cat >"$work/root/usr/local/sbin/readme-editor" <<EOF
#!/bin/sh
# The admin's edit of README.md's deployment steps: client_id, redirect_uri (and, here,
# the simulator's address and a short /info poll).
exec sed -i -e 's|^base_url = .*|base_url = "http://localhost:$sim_port"|' \\
    -e 's|^client_id = .*|client_id = "wbkeyd-demo"|' \\
    -e 's|^redirect_uri = .*|redirect_uri = "https://partner.example/oauth/callback"|' \\
    -e 's|^info_poll_interval = .*|info_poll_interval = "500ms"|' "\$1"
EOF
chmod 0755 "$work/root/usr/local/sbin/readme-editor"
for line in "${deploy[@]:0:5}"; do
    note "# ${line}"
    in_container env EDITOR=/usr/local/sbin/readme-editor bash -c "${line//CLIENT-SECRET/demo-client-secret}" >/dev/null ||
        fail "README.md's deployment step failed: $line"
done
in_container test -s /etc/wbkeyd/master-key -a -s /etc/wbkeyd/client-secret || fail "the README's steps left no credentials"
[ "$(in_container stat -c '%a %U' /etc/wbkeyd/master-key)" = "600 root" ] ||
    fail "the README's steps left /etc/wbkeyd/master-key $(in_container stat -c '%a %U' /etc/wbkeyd/master-key)"
# The shipped example must name the paths the units give wbkeyd.
grep -qx 'directory = "/var/spool/wbkeyd"' "$config" || fail "etc/wbkeyd.toml: spool.directory is not the unit's /var/spool/wbkeyd"
grep -qx 'path = "/var/lib/wbkeyd/wbkeyd.sqlite3"' "$config" || fail "etc/wbkeyd.toml: store.path is not in the unit's StateDirectory"
grep -qx 'socket = "/run/wbkeyd/control.sock"' "$config" || fail "etc/wbkeyd.toml: control.socket is not wbkeyd.socket's ListenStream"
grep -qx 'admin_group = "wbkeyd-admin"' "$config" || fail "etc/wbkeyd.toml: control.admin_group is not the group sysusers makes"
# A second install (an upgrade) keeps the admin's config.
DESTDIR="$work/root" PREFIX=/usr scripts/install --no-build 2>/dev/null
grep -q "^base_url = \"http://localhost:$sim_port\"" "$config" || fail "a second scripts/install overwrote /etc/wbkeyd/wbkeyd.toml"
in_container env CREDENTIALS_DIRECTORY=/etc/wbkeyd wbkeyd check-config --config /etc/wbkeyd/wbkeyd.toml >/dev/null ||
    fail "wbkeyd check-config refused the test's configuration"

step "whitebit-sim on localhost:$sim_port inside the container"
in_container systemd-run --quiet --unit=whitebit-sim --property=Type=exec /usr/bin/whitebit-sim --port "$sim_port"
sim_listening() { in_container journalctl -u whitebit-sim -o cat --no-pager | grep -q "listening on http://127.0.0.1:$sim_port"; }
wait_for "whitebit-sim to listen" 60 sim_listening

# --- start ---------------------------------------------------------------------------
control() { in_container sh -c 'printf "%s\n" "$1" | socat -t 30 - UNIX-CONNECT:/run/wbkeyd/control.sock' control "$1"; }
unit() { in_container systemctl show --property="$1" --value wbkeyd.service; }
expect_unit() { # PROPERTY VALUE
    local actual
    actual="$(unit "$1")"
    [ "$actual" = "$2" ] || fail "wbkeyd.service $1 is '$actual', expected '$2'"
}

step "systemctl enable --now wbkeyd.socket; systemctl start wbkeyd returns after READY=1"
in_container systemctl enable --quiet --now wbkeyd.socket
[ "$(in_container stat -c '%a %U %G' /run/wbkeyd/control.sock)" = "660 root wbkeyd-clients" ] ||
    fail "/run/wbkeyd/control.sock is $(in_container stat -c '%a %U %G' /run/wbkeyd/control.sock), expected 660 root wbkeyd-clients"
timeout 180 nsenter -t "$container_pid" -a systemctl start wbkeyd.service || fail "systemctl start wbkeyd failed"
expect_unit ActiveState active
expect_unit SubState running
expect_unit Type notify
# Start returned, so the daemon said READY=1; READY=1 promises a listening control socket.
control status | grep -Eq '^phase: +ready$' || fail "status right after start does not say phase ready:"$'\n'"$(control status)"
ready_logged() { in_container journalctl -u wbkeyd -o cat --no-pager MESSAGE=ready | grep -qx ready; }
ready_logged || fail "no 'ready' entry in the journal after start returned"

step "the service runs as wbkeyd, hardened, with its credentials from \$CREDENTIALS_DIRECTORY"
main_pid="$(unit MainPID)"
[ "$(in_container ps -o user= -p "$main_pid")" = wbkeyd ] || fail "wbkeyd runs as $(in_container ps -o user= -p "$main_pid"), not wbkeyd"
process_status="$(in_container cat "/proc/$main_pid/status")"
for expected in 'NoNewPrivs:[[:space:]]+1' 'Seccomp:[[:space:]]+2' 'CapEff:[[:space:]]+0+$' 'CapBnd:[[:space:]]+0+$'; do
    grep -Eq "^$expected" <<<"$process_status" || fail "/proc/$main_pid/status lacks $expected"
done
expect_unit MemoryDenyWriteExecute yes
expect_unit ProtectSystem strict
environment="$(in_container sh -c "tr '\0' '\n' </proc/$main_pid/environ")"
grep -qx 'CREDENTIALS_DIRECTORY=/run/credentials/wbkeyd.service' <<<"$environment" ||
    fail "wbkeyd's environment has no CREDENTIALS_DIRECTORY=/run/credentials/wbkeyd.service"
[ "$(in_container stat -c '%a %U' /run/credentials/wbkeyd.service/master-key)" = "400 wbkeyd" ] ||
    fail "the master-key credential is $(in_container stat -c '%a %U' /run/credentials/wbkeyd.service/master-key)"
# The config names no key file and the originals are root's: the credentials directory
# is the only place wbkeyd can have read them from.
if in_container runuser -u wbkeyd -- cat /etc/wbkeyd/master-key >/dev/null 2>&1; then
    fail "user wbkeyd can read /etc/wbkeyd/master-key itself"
fi
if in_container nsenter -t "$main_pid" -m touch /etc/wbkeyd/probe 2>/dev/null; then
    fail "wbkeyd's mount namespace lets it write /etc (ProtectSystem=strict)"
fi
exposure="$(in_container systemd-analyze security wbkeyd.service | sed -n 's/^→ Overall exposure level for wbkeyd.service: \([0-9.]*\) .*/\1/p')"
awk -v s="$exposure" 'BEGIN { exit !(s != "" && s <= 2.0) }' || fail "the running unit's exposure is '$exposure', above 2.0"
note "user wbkeyd, no capabilities, seccomp on, exposure $exposure"

step "journald: native-protocol entries with WBKEYD_* fields, MESSAGE_IDs and the catalog"
journal_json() { in_container journalctl -u wbkeyd -o json --no-pager "$@"; }
started="$(journal_json WBKEYD_EVENT=daemon_started | tail -n1)"
[ -n "$started" ] || fail "no journal entry with WBKEYD_EVENT=daemon_started"
for field in '"MESSAGE_ID":"5fafccc5199c5039a9d6c3cb020b0364"' '"_TRANSPORT":"journal"' '"SYSLOG_IDENTIFIER":"wbkeyd"' \
    '"PRIORITY":"6"' '"CODE_FILE":"' '"MESSAGE":"wbkeyd '; do
    grep -qF "$field" <<<"$started" || fail "the daemon_started entry lacks $field: $started"
done
head_entry="$(journal_json WBKEYD_EVENT=audit_head | tail -n1)"
for field in '"MESSAGE_ID":"908825909a6150d9bfbbd2f01d871b22"' '"WBKEYD_SEQ":"' '"WBKEYD_HASH":"'; do
    grep -qF "$field" <<<"$head_entry" || fail "the audit_head entry lacks $field: $head_entry"
done
# Swift's libdispatch tries to renice its worker threads for a QoS class; the unit's
# seccomp filter (~@resources) refuses, which libdispatch reports on stderr and shrugs
# off. That is the one line allowed; everything wbkeyd says must use the native protocol.
stray="$(in_container journalctl _SYSTEMD_UNIT=wbkeyd.service _TRANSPORT=stdout -o cat --no-pager |
    grep -Ev '^Failed to set thread priority for worker thread: pqc=0x[0-9a-f]+ errno=[0-9]+$' || true)"
[ -z "$stray" ] || fail "wbkeyd wrote to stderr instead of the journal:"$'\n'"$stray"
journal_json WBKEYD_NAME=control | grep -qF '"MESSAGE":"control socket passed by systemd"' ||
    fail "wbkeyd did not log that it took the socket named 'control' from systemd"
in_container journalctl -x -u wbkeyd --no-pager MESSAGE_ID=5fafccc5199c5039a9d6c3cb020b0364 | grep -q 'Subject: wbkeyd started' ||
    fail "journalctl -x does not explain MESSAGE_ID 5fafccc5… (catalog not installed?)"

step "the spool: writers deliver, but cannot list, read or remove each other's files"
in_container useradd --no-create-home --groups wbkeyd-spool partner
in_container useradd --no-create-home --groups wbkeyd-spool other-writer
in_container useradd --no-create-home outsider
as() { local who="$1"; shift; in_container runuser -u "$who" -- sh -c "cd /var/spool/wbkeyd && $1" sh "${@:2}"; }
as partner 'umask 027 && echo "{}" > tmp/probe.json' || fail "a wbkeyd-spool member cannot create in tmp/"
[ "$(in_container stat -c '%a %U %G' /var/spool/wbkeyd/tmp/probe.json)" = "640 partner wbkeyd" ] ||
    fail "tmp/probe.json is $(in_container stat -c '%a %U %G' /var/spool/wbkeyd/tmp/probe.json), expected 640 partner wbkeyd"
as wbkeyd 'cat tmp/probe.json' >/dev/null || fail "user wbkeyd cannot read a delivery made 0640"
if as other-writer 'ls tmp' >/dev/null 2>&1; then fail "a writer can list tmp/"; fi
if as other-writer 'ls new' >/dev/null 2>&1; then fail "a writer can list new/"; fi
if as other-writer 'cat tmp/probe.json' >/dev/null 2>&1; then fail "a writer can read another writer's file"; fi
if as other-writer 'rm -f tmp/probe.json' 2>/dev/null; then fail "a writer can remove another writer's file"; fi
if as other-writer 'mv tmp/probe.json new/stolen.json' 2>/dev/null; then fail "a writer can rename another writer's file"; fi
if as outsider 'true' 2>/dev/null; then fail "a user outside wbkeyd-spool can enter /var/spool/wbkeyd"; fi
as partner 'rm tmp/probe.json'
for expected in '/var/spool/wbkeyd 710 wbkeyd wbkeyd-spool' '/var/spool/wbkeyd/tmp 3733 wbkeyd wbkeyd' \
    '/var/spool/wbkeyd/new 3733 wbkeyd wbkeyd' '/var/spool/wbkeyd/claimed 700 wbkeyd wbkeyd' \
    '/var/spool/wbkeyd/rejected 700 wbkeyd wbkeyd'; do
    directory="${expected%% *}"
    actual="$directory $(in_container stat -c '%a %U %G' "$directory")"
    [ "$actual" = "$expected" ] || fail "spool directory is '$actual', expected '$expected'"
done
# A delivery its writer kept to itself (0600) cannot be read by wbkeyd: rejected, with
# the reason beside it, never silently dropped.
as partner 'umask 077 && echo "{}" > tmp/private.json && mv tmp/private.json new/private.json'
private_rejected() { in_container test -e /var/spool/wbkeyd/rejected/private.json.reason; }
wait_for "new/private.json (mode 0600) to be rejected" 60 private_rejected
in_container grep -q 'cannot be read' /var/spool/wbkeyd/rejected/private.json.reason ||
    fail "the reason for rejecting private.json is: $(in_container cat /var/spool/wbkeyd/rejected/private.json.reason)"

step "a consent through whitebit-sim reaches active over the control socket"
url="$(control 'authorize-url u-1001')"
case "$url" in
    "http://localhost:$sim_port/auth/login?"*) ;;
    *) fail "authorize-url answered: $url" ;;
esac
# The user consents at "WhiteBIT" (sim_user plays the login page) and is sent back.
location="$(nsenter -t "$container_pid" -n curl -sS -o /dev/null -w '%{redirect_url}' "$url&sim_user=u-1001")"
code="$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$location")"
state="$(sed -n 's/.*[?&]state=\([^&]*\).*/\1/p' <<<"$location")"
[ -n "$code" ] && [ -n "$state" ] || fail "the simulated consent gave no code and state (redirect: '$location')"
# The partner's callback delivers the Maildir way, as a wbkeyd-spool member.
as partner 'umask 027 && printf "%s" "$1" > tmp/consent.json && mv tmp/consent.json new/consent.json' \
    "{\"type\":\"authorization\",\"user\":\"u-1001\",\"code\":\"$code\",\"state\":\"$state\"}" ||
    fail "the partner could not deliver into the spool"
grant_active() { control 'show u-1001' | grep -Eq '^state: +active$'; }
wait_for "grant u-1001 to become active" 90 grant_active
secured="$(journal_json WBKEYD_EVENT=secret_secured WBKEYD_USER=u-1001 | tail -n1)"
for field in '"MESSAGE_ID":"e0da182c7e0459dc965887defacb1161"' '"WBKEYD_EXTERNAL_ID":"' '"_TRANSPORT":"journal"'; do
    grep -qF "$field" <<<"$secured" || fail "the secret_secured entry for u-1001 lacks $field: $secured"
done
note "u-1001 active; $(control 'show u-1001' | grep -E '^external id:')"
# The shipped config verifies each key with one signed read (docs/design.md §12); the
# README's Operate output shows its audit row, so it must be in before those commands run.
key_verified() { journal_json WBKEYD_EVENT=key_verified WBKEYD_USER=u-1001 | grep -qF '"WBKEYD_IDENTITY":"external_id"'; }
wait_for "u-1001's key to be verified under its external id" 30 key_verified

# Under systemd 252, `systemctl reload` runs `wbkeyd check-config --reload` as the service
# and then sends SIGHUP; it returns once the signal is sent, and what the daemon made of
# it shows in the audit log, the journal and the status phase.
step "systemctl reload wbkeyd applies a new config and audits config_reloaded"
reloads_before="$(journal_json WBKEYD_EVENT=config_reloaded | grep -c . || true)"
sed -i 's|^info_poll_interval = .*|info_poll_interval = "1s"|' "$config"
in_container systemctl reload wbkeyd.service || fail "systemctl reload wbkeyd failed"
reloaded() { control 'audit 5' | grep -q config_reloaded; }
wait_for "config_reloaded in the audit log" 30 reloaded
reloads_logged() { [ "$(journal_json WBKEYD_EVENT=config_reloaded | grep -c .)" -gt "$reloads_before" ]; }
wait_for "a config_reloaded journal entry" 30 reloads_logged
journal_json WBKEYD_EVENT=config_reloaded | grep -qF '"MESSAGE_ID":"bce595bff1335e169232341ad9777292"' ||
    fail "the config_reloaded journal entry lacks its MESSAGE_ID"
back_to_ready() { control status | grep -Eq '^phase: +ready$'; }
wait_for "phase ready after the reload" 30 back_to_ready
expect_unit ActiveState active
[ "$(unit MainPID)" = "$main_pid" ] || fail "reload replaced the process"

step "a bad config fails systemctl reload (the first ExecReload= checks it as the service) and the old one keeps serving"
cp "$config" "$work/good.toml"
reloads_before="$(journal_json WBKEYD_EVENT=config_reloaded | grep -c . || true)"
printf '\n[nonsense]\nkey = 1\n' >>"$config"
if reload_output="$(in_container systemctl reload wbkeyd.service 2>&1)"; then
    fail "systemctl reload wbkeyd succeeded with a bad config"
fi
note "systemctl reload said: $reload_output"
# The check's problems reach the unit's journal and `systemctl status`.
# grep without -q reads to the end: with pipefail, a grep that quits at the first match
# can fail the pipeline by the SIGPIPE it leaves journalctl when the journal is long.
check_named() { in_container journalctl -u wbkeyd --no-pager -o cat | grep -F '/etc/wbkeyd/wbkeyd.toml: nonsense: unknown section' >/dev/null; }
wait_for "the check's problem naming [nonsense] in the journal" 30 check_named
in_container systemctl status --no-pager wbkeyd.service 2>&1 | grep -F 'nonsense: unknown section' >/dev/null ||
    fail "systemctl status does not show why the reload failed:"$'\n'"$(in_container systemctl status --no-pager wbkeyd.service 2>&1)"
expect_unit ActiveState active
[ "$(unit MainPID)" = "$main_pid" ] || fail "a failed reload replaced the process"
control status | grep -Eq '^phase: +ready$' || fail "the daemon is not ready after the failed reload"
control status | grep -Eq '^last reload: +.* applied$' || fail "status does not show the last applied reload:"$'\n'"$(control status)"
control metrics | grep -qx 'wbkeyd_config_last_reload_successful 1' || fail "metrics: the last reload was not successful"
[ "$(journal_json WBKEYD_EVENT=config_reloaded | grep -c .)" -eq "$reloads_before" ] ||
    fail "the daemon was signalled although the check refused the file"

step "a good config after the failed one reloads: systemctl reload exits 0 and config_reloaded says applied"
cp "$work/good.toml" "$config"
sed -i 's|^info_poll_interval = .*|info_poll_interval = "2s"|' "$config"
in_container systemctl reload wbkeyd.service || fail "systemctl reload wbkeyd failed with a good config"
wait_for "the second reload's config_reloaded journal entry" 30 reloads_logged
wait_for "phase ready after the second reload" 30 back_to_ready
journal_json WBKEYD_EVENT=config_reloaded | tail -n1 | grep -qF '"MESSAGE":"configuration reloaded (1 live change(s)' ||
    fail "the second reload was not applied: $(journal_json WBKEYD_EVENT=config_reloaded | tail -n1)"
[ "$(unit MainPID)" = "$main_pid" ] || fail "the second reload replaced the process"
cp "$work/good.toml" "$config"

step "a frozen daemon (SIGSTOP) is restarted by systemd's watchdog"
in_container mkdir -p /etc/systemd/system/wbkeyd.service.d
printf '[Service]\nWatchdogSec=4s\nRestartSec=1s\n' >"$work/root/etc/systemd/system/wbkeyd.service.d/test-watchdog.conf"
in_container systemctl daemon-reload
in_container systemctl restart wbkeyd.service
expect_unit WatchdogUSec 4s
# First the daemon must be seen pinging (WATCHDOG=1 moves systemd's watchdog timestamp),
# so the restart below is the freeze's doing and not a daemon that never pinged.
first_ping="$(unit WatchdogTimestampMonotonic)"
pinged() { [ "$(unit WatchdogTimestampMonotonic)" != "$first_ping" ]; }
wait_for "a WATCHDOG=1 ping" 30 pinged
frozen_pid="$(unit MainPID)"
restarts="$(unit NRestarts)"
in_container kill -STOP "$frozen_pid"
restarted() {
    [ "$(unit NRestarts)" -gt "$restarts" ] && [ "$(unit ActiveState)" = active ] && [ "$(unit MainPID)" != "$frozen_pid" ]
}
wait_for "systemd's watchdog to restart wbkeyd" 120 restarted
in_container journalctl -u wbkeyd -o cat --no-pager | grep 'Watchdog timeout' >/dev/null ||
    fail "wbkeyd was restarted, but not by the watchdog"
grant_active || fail "grant u-1001 is not active after the restart"
in_container rm /etc/systemd/system/wbkeyd.service.d/test-watchdog.conf
in_container systemctl daemon-reload

step "credentials encrypted at rest with systemd-creds (LoadCredentialEncrypted=, as the unit's comment says)"
for name in client-secret master-key; do
    in_container systemd-creds encrypt --name="$name" "/etc/wbkeyd/$name" "/etc/wbkeyd/$name.cred"
done
printf '[Service]\nLoadCredential=\nLoadCredentialEncrypted=client-secret:/etc/wbkeyd/client-secret.cred\nLoadCredentialEncrypted=master-key:/etc/wbkeyd/master-key.cred\n' \
    >"$work/root/etc/systemd/system/wbkeyd.service.d/encrypted-credentials.conf"
# The plain files go: only the sealed ones remain to start from.
in_container mv /etc/wbkeyd/client-secret /etc/wbkeyd/client-secret.plain
in_container mv /etc/wbkeyd/master-key /etc/wbkeyd/master-key.plain
in_container systemctl daemon-reload
timeout 180 nsenter -t "$container_pid" -a systemctl restart wbkeyd.service || fail "wbkeyd did not start with encrypted credentials"
expect_unit ActiveState active
[ "$(in_container cmp /run/credentials/wbkeyd.service/master-key /etc/wbkeyd/master-key.plain && echo same)" = same ] ||
    fail "the decrypted master-key credential differs from the original"
grant_active || fail "grant u-1001 is not active after the restart with encrypted credentials (its secret no longer opens?)"
in_container rm /etc/systemd/system/wbkeyd.service.d/encrypted-credentials.conf
in_container mv /etc/wbkeyd/client-secret.plain /etc/wbkeyd/client-secret
in_container mv /etc/wbkeyd/master-key.plain /etc/wbkeyd/master-key
in_container systemctl daemon-reload

step "systemctl stop wbkeyd: inactive, Result=success, exit status 0"
in_container systemctl stop wbkeyd.service 2>/dev/null
expect_unit ActiveState inactive
expect_unit Result success
# SIGTERM ends in exit(0) after the graceful shutdown (docs/design.md §8), not in death by
# the signal (which systemd would also call success). CLD_EXITED is 1.
expect_unit ExecMainCode 1
expect_unit ExecMainStatus 0
journal_json WBKEYD_EVENT=daemon_stopped | grep -qF '"MESSAGE_ID":"bb644ba4d4e55afda3bedc9a1c81a29c"' ||
    fail "no daemon_stopped journal entry"

step "a connection to the socket starts the stopped daemon (socket activation)"
control status | grep -Eq '^phase: +ready$' || fail "the socket-activated daemon did not answer status with phase ready"
expect_unit ActiveState active
grant_active || fail "grant u-1001 is not active after socket activation"

step "every command of the README's Operate section, run as shown, prints what the README shows"
# u-1002 has consented (the partner frontend got CODE and STATE back on its callback),
# so the README's `wbkeyctl submit` delivers a real authorization.
url="$(control 'authorize-url u-1002')"
location="$(nsenter -t "$container_pid" -n curl -sS -o /dev/null -w '%{redirect_url}' "$url&sim_user=u-1002")"
code="$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$location")"
state="$(sed -n 's/.*[?&]state=\([^&]*\).*/\1/p' <<<"$location")"
[ -n "$code" ] && [ -n "$state" ] || fail "the simulated consent of u-1002 gave no code and state"
check_readme_operate "$repo/README.md" "CODE=$code" "STATE=$state"

step "final stop"
in_container systemctl stop wbkeyd.socket wbkeyd.service 2>/dev/null
expect_unit ActiveState inactive
expect_unit Result success
expect_unit ExecMainCode 1
expect_unit ExecMainStatus 0

step "a bad config at start: systemctl start fails at once with 78/CONFIG, no restart loop"
cp "$config" "$work/good.toml"
printf '\n[nonsense]\nkey = 1\n' >>"$config"
if in_container systemctl start wbkeyd.service 2>/dev/null; then fail "wbkeyd started with a bad config"; fi
# failed, not activating (auto-restart): RestartPreventExitStatus=78 stopped the loop.
expect_unit ActiveState failed
expect_unit Result exit-code
expect_unit ExecMainStatus 78
expect_unit StatusText "failed: configuration refused: /etc/wbkeyd/wbkeyd.toml: nonsense: unknown section"
cp "$work/good.toml" "$config"
in_container systemctl reset-failed wbkeyd.service
in_container systemctl stop wbkeyd.socket

step "the audit chain verifies, also against the head witnessed in the journal at the stop"
# The chain is keyed under a key sealed with the master key, so audit-verify reads the
# master key (root's file; user wbkeyd only ever sees its credential copy).
witnessed="$(in_container journalctl -u wbkeyd WBKEYD_EVENT=audit_head -n 1 -o cat --no-pager |
    sed -nE 's/.*seq=([0-9]+) hash=([0-9a-f]{64}).*/\1:\2/p')"
[ -n "$witnessed" ] || fail "no audit_head witness in the journal after the stop"
[ "$(in_container sh -c 'cut -d" " -f1,2 /var/lib/wbkeyd/wbkeyd.sqlite3.witness | tr " " :')" = "$witnessed" ] ||
    fail "the witness file beside the store does not hold the head witnessed in the journal ($witnessed)"
in_container wbkeyd audit-verify --store /var/lib/wbkeyd/wbkeyd.sqlite3 --master-key-file /etc/wbkeyd/master-key \
    --expect "$witnessed" | grep -q '^audit chain sound' ||
    fail "wbkeyd audit-verify did not find the chain sound and holding $witnessed"
in_container sh -c 'umask 077 && head -c 32 /dev/urandom >/root/other-master-key'
if in_container wbkeyd audit-verify --store /var/lib/wbkeyd/wbkeyd.sqlite3 --master-key-file /root/other-master-key \
    >/dev/null 2>&1; then
    fail "wbkeyd audit-verify accepted a store with the wrong master key"
fi
