#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# lintian on the SARA packages: the built .debs, and a throw-away source package made of
# packaging/debian alone (`make deb` builds binaries only, so the source-side checks, e.g.
# debian/copyright's DEP-5 form and debian/control's Build-Depends, would otherwise never run).
# Any error or warning fails; justified ones are overridden in packaging/debian/*.lintian-overrides
# with the reason next to them.
# Usage: tests/packaging/lint.sh DEBDIR        (DEBDIR holds sara-*.deb; `make package-test`)
set -euo pipefail

DEBDIR=${1:?usage: $0 DEBDIR}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
command -v lintian >/dev/null || { echo "lint: lintian missing (make deps)" >&2; exit 2; }
shopt -s nullglob
debs=("$DEBDIR"/sara-*.deb)
((${#debs[@]} > 0)) || { echo "lint: no sara-*.deb in $DEBDIR" >&2; exit 2; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
version=$(dpkg-parsechangelog -l "$TOP/packaging/debian/changelog" -S Version)
mkdir "$TMP/sara-$version"
cp -r "$TOP/packaging/debian" "$TMP/sara-$version/debian"
(cd "$TMP" && dpkg-source -b "sara-$version" >/dev/null)

# (As root lintian prints "running with root privileges is not recommended!": harmless.)
lintian --fail-on error,warning "${debs[@]}" "$TMP/sara_$version.dsc"
echo "lint: lintian clean (${#debs[@]} .debs and the source package)"
