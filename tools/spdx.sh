#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every source file of SARA names its licence in an SPDX line near its top (COPYING, issue 21).
#   tools/spdx.sh --check   list the files without one and fail (make package-test runs it)
#   tools/spdx.sh --add     add the line where a file's syntax allows a comment
# Where the line goes: first, in the file's comment syntax, except after a shebang (`#!`, also
# Kamailio's `#!KAMAILIO`) and after an XML declaration and its DOCTYPE (nothing may precede a
# declaration; SIPp's scenarios keep their comments after the DOCTYPE). Man pages start with a
# `.\"` comment line. Data files (JSON, captures, fuzz inputs, images, Debian's
# control files whose format has no comments) are not source and are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly ID="SPDX-License-Identifier: GPL-2.0-or-later"
mode=${1:-}
[[ $mode == --check || $mode == --add ]] || { echo "usage: $0 --check|--add" >&2; exit 2; }

# The comment that carries ID in FILE's syntax; empty for files that are not source.
comment_for() {
    case "$1" in
    COPYING | tests/data/* | tests/fuzz/corpus/* | tests/fuzz/regressions/* | *.json | *.png | *.md | .gitignore) ;;
    packaging/debian/changelog | packaging/debian/control | packaging/debian/copyright) ;;
    packaging/debian/source/* | packaging/debian/*.manpages | packaging/debian/*.lintian-overrides) ;;
    tests/captures/baresip/*) ;;  # baresip's own config files, written by make-captures.sh's peers
    *.cpp | *.hpp) echo "// $ID" ;;
    *.xml) echo "<!-- $ID -->" ;;
    *.5 | *.8) echo ".\\\" $ID" ;;
    *) echo "# $ID" ;;
    esac
}

# The line number after which the comment goes (0: at the very top).
insert_after() {
    local file=$1 line1 line2
    line1=$(sed -n 1p "$file")
    line2=$(sed -n 2p "$file")
    if [[ $line1 == '<?xml'* ]]; then
        [[ $line2 == '<!DOCTYPE'* ]] && echo 2 || echo 1
    elif [[ $line1 == '#!'* ]]; then
        echo 1
    else
        echo 0
    fi
}

missing=0
while IFS= read -r file; do
    [[ -f $file ]] || continue
    comment=$(comment_for "$file")
    [[ -n $comment ]] || continue
    head -n 5 "$file" | grep -qF "$ID" && continue
    if [[ $mode == --check ]]; then
        echo "spdx: no '$ID' in the first 5 lines of $file" >&2
        missing=$((missing + 1))
        continue
    fi
    after=$(insert_after "$file")
    if ((after == 0)); then
        { printf '%s\n' "$comment"; cat "$file"; } >"$file.spdx"
    else
        { head -n "$after" "$file"; printf '%s\n' "$comment"; tail -n +"$((after + 1))" "$file"; } >"$file.spdx"
    fi
    chmod --reference="$file" "$file.spdx"
    mv "$file.spdx" "$file"
done < <(git ls-files)
if ((missing > 0)); then
    echo "spdx: $missing file(s) without a licence line (tools/spdx.sh --add)" >&2
    exit 1
fi
[[ $mode == --check ]] && echo "spdx: every source file names its licence"
exit 0
