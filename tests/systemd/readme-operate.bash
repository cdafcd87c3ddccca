# Sourced by tests/systemd/run.sh: runs every command of README.md's "## Operate"
# section inside the container, in the order shown, and checks its output against the
# output the README shows beneath it.
#
# The README's ```console blocks hold `$ COMMAND` lines, each followed by the output it
# printed in a real run. Both sides are normalized first (secrets masked, then times,
# ids, hashes, durations and numbers made placeholders, blanks squeezed), and the shown
# lines must appear in the real output in the same order; a command shown without
# output must print nothing. Every command must exit 0.
#
# WBKEYD_README_RECORD=FILE writes each command and its real output (secrets masked) to
# FILE, to paste into the README after a change; differences are then noted, not fatal.

# Masks what must never reach a terminal or a log: the only secret a README command
# prints is the API secret of `secret`.
readme_mask_secrets() {
    sed -E -e 's/("api_secret":")[^"]*"/\1…"/g' -e 's/^(api secret:[[:space:]]+).*/\1…/'
}

readme_normalize() {
    readme_mask_secrets | sed -E \
        -e 's/^([A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8}) [^ ]+ /\1 <host> /' \
        -e 's/^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ 0-9][0-9] [0-9:]{8} <host> )/<month> \2/' \
        -e 's/[0-9]+\.M[0-9]+P[0-9]+R[0-9a-f]+\.[^ /]+\.json/<spool file>/g' \
        -e 's/("owner":")[^"]*"/\1<instance>"/g' \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/<time>/g' \
        -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<uuid>/g' \
        -e 's/[0-9a-fA-F]{16,}/<hex>/g' \
        -e 's/\b([0-9]+(ms|h|m|s))+\b/<duration>/g' \
        -e 's/[0-9]+(\.[0-9]+)?/<n>/g' \
        -e 's/[[:space:]]+/ /g' -e 's/^ //' -e 's/ $//' |
        grep -v -e '^$' -e '^…$' || true
}

# Prints the Operate section's commands and shown output as records: "C<TAB>command"
# then "O<TAB>line" for each shown line.
readme_operate_records() {
    awk '
        /^## / { inside = ($0 == "## Operate") ; next }
        !inside { next }
        /^```console$/ { block = 1; next }
        /^```/ { block = 0; next }
        block && /^\$ / { print "C\t" substr($0, 3); next }
        block { print "O\t" $0 }
    ' "$1"
}

# CHECK: runs and checks every command; the environment variables given as arguments
# (NAME=VALUE) are set for each command (the README uses $CODE and $STATE).
check_readme_operate() {
    local readme="$1"
    shift
    local -a environment=("$@")
    local -a commands=() shown=()
    local kind text
    while IFS=$'\t' read -r kind text; do
        case "$kind" in
            C) commands+=("$text"); shown+=("") ;;
            O) shown[${#shown[@]} - 1]+="$text"$'\n' ;;
        esac
    done < <(readme_operate_records "$readme")
    [ ${#commands[@]} -ge 10 ] || fail "README.md's Operate section has ${#commands[@]} \$ commands in console blocks; expected all of its examples"
    local record="${WBKEYD_README_RECORD:-}"
    [ -z "$record" ] || : >"$record"
    local index command output status expected actual line rest
    for index in "${!commands[@]}"; do
        command="${commands[$index]}"
        status=0
        # Masked at once: the raw output never reaches a variable that is printed.
        output="$(in_container env "${environment[@]}" bash -o pipefail -c "$command" 2>&1 | readme_mask_secrets)" || status=$?
        [ -z "$record" ] || printf '$ %s\n%s\n\n' "$command" "$output" >>"$record"
        [ $status -eq 0 ] || fail "README command exited $status: $command"$'\n'"$output"
        expected="$(printf '%s' "${shown[$index]}" | readme_normalize)"
        actual="$(printf '%s\n' "$output" | readme_normalize)"
        if [ -z "$expected" ]; then
            if [ -n "$actual" ]; then
                [ -n "$record" ] || fail "README shows no output for: $command"$'\n'"but it printed:"$'\n'"$output"
                note "differs (recorded): $command"
                continue
            fi
            note "ok (no output): $command"
            continue
        fi
        rest="$actual"
        while IFS= read -r line; do
            rest="$(awk -v want="$line" 'found { print; next } $0 == want { found = 1 } END { exit !found }' <<<"$rest")" || {
                [ -n "$record" ] || fail "README command: $command"$'\n'"its shown line (normalized) '$line' is not in the real output (in order):"$'\n'"$output"
                note "differs (recorded): $command"
                continue 2
            }
        done <<<"$expected"
        note "ok: $command"
    done
}
