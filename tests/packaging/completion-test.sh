#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks saractl's bash completion (packaging/bash-completion/saractl) without a terminal: it
# parses (bash -n), registers for saractl, and _saractl answers as bash would call it (COMP_WORDS,
# COMP_CWORD). Node ids come from a stub saractl that prints a `saractl nodes` table.
# Usage: tests/packaging/completion-test.sh COMPLETION_FILE [SARACTL_BINARY]
# With SARACTL_BINARY, the commands and options its --help lists must be the ones completed, so
# the completion cannot drift from what saractl really accepts.
set -euo pipefail

FILE=$(realpath "${1:?usage: $0 COMPLETION_FILE [SARACTL_BINARY]}")
SARACTL=${2:-}
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

bash -n "$FILE" || { echo "FAIL: $FILE does not parse" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cat >"$TMP/saractl" <<EOF
#!/bin/sh
echo "\$*" >>"$TMP/calls"
printf 'ID  NAME    ADDRESS      STATE\n1   node1   198.18.2.11  up\n12  node12  198.18.2.12  up\n'
EOF
chmod +x "$TMP/saractl"
mkdir "$TMP/sock" && touch "$TMP/sock/sarad.sock"

# shellcheck source=/dev/null
source "$FILE"
[[ $(complete -p saractl 2>/dev/null) == "complete -F _saractl saractl" ]] || fail "not registered for saractl"

# complete WORD... : the command line split as bash splits it (COMP_WORDBREAKS has '=', so
# `--socket=PATH` is three words and `--node=` with the cursor after '=' ends in the word "=";
# checked in an interactive bash), the cursor at the end of the last word. Prints the replies
# sorted, space-separated.
complete_words() {
    COMP_WORDS=("$TMP/saractl" "$@")
    COMP_CWORD=$#
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _saractl "$TMP/saractl" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() {
    local want=$1 got
    shift
    got=$(complete_words "$@")
    [[ $got == "$want" ]] || fail "saractl $* <TAB>: want '$want', got '$got'"
}

COMMANDS="announce drain nodes role sessions stats status undrain"
expect "$COMMANDS" ""
expect "stats status" st
expect "drain" dr
expect "--client --help --json --key --limit --node --socket" --
expect "--client --help --json --key --limit --node --socket -h" -
expect "--client --help --json --key --limit --node --socket" sessions --
expect "" sessions --key ""
expect "" sessions --client =
expect "$COMMANDS" --key c1 ""
expect "--help --json --socket" nodes --
expect "--json" stats --j
expect "--help --json --ready --socket" role --
expect "backup fault master" role ""
expect "off on" announce ""
expect "off" announce "of"
expect "master" role m
expect "" role master ""
expect "--help --json --socket" role master --
expect "$COMMANDS" --json ""
expect "" status ""
expect "1 12" drain ""
expect "12" undrain 12
expect "" drain 1 ""
expect "1 12" sessions --node ""
expect "1 12" sessions --node =
expect "12" --node = 12
expect "" sessions --limit ""
expect "$COMMANDS" --limit 10 ""
expect "$TMP/sock/sarad.sock" --socket "$TMP/sock/s"
expect "$TMP/sock/sarad.sock" --socket = "$TMP/sock/s"
expect "$COMMANDS" --socket "$TMP/sock/sarad.sock" ""
expect "$COMMANDS" --socket = "$TMP/sock/sarad.sock" ""
# --socket is passed on to the node query.
: >"$TMP/calls"
expect "1 12" --socket = "$TMP/sock/sarad.sock" drain ""
[[ $(cat "$TMP/calls") == "--socket $TMP/sock/sarad.sock nodes" ]] || fail "node query: '$(cat "$TMP/calls")'"

# Against the real binary: every command and option of `saractl --help` is completed, and
# nothing else.
if [[ -n $SARACTL ]]; then
    help=$("$SARACTL" --help)
    want_cmds=$(sed -n '/^commands:/,/^options:/p' <<<"$help" | awk '/^  [a-z]/ { print $1 }' | sort -u | tr '\n' ' ')
    got_cmds=$(complete_words "")
    [[ ${want_cmds% } == "$got_cmds" ]] || fail "saractl --help lists commands '${want_cmds% }', completion has '$got_cmds'"
    want_opts=$(grep -oE '(^|[ [,])--?[a-z]+' <<<"$help" | grep -oE -- '--?[a-z]+' | sort -u | tr '\n' ' ')
    # Every option somewhere: the global ones and role's --ready.
    got_opts=$({ complete_words -; echo; complete_words role -; } | tr ' ' '\n' | grep . | sort -u | tr '\n' ' ' | sed 's/ $//')
    [[ ${want_opts% } == "$got_opts" ]] || fail "saractl --help lists options '${want_opts% }', completion has '$got_opts'"
fi

((failures == 0)) || { echo "completion-test: $failures failure(s)" >&2; exit 1; }
echo "completion-test: ok ($FILE${SARACTL:+, checked against $SARACTL --help})"
