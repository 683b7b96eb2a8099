#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Container test of the SARA Debian packages (issue 8; /work/shared/PACKAGING-NOTES.md).
# Usage (root): tests/packaging/run.sh DEBDIR      (DEBDIR holds sara-*.deb; `make package-test`)
#
# 1. A debootstrap minbase bookworm root filesystem with systemd and every runtime dependency of
#    the packages, cached under $SARA_PKGTEST_CACHE (default /var/cache/sara-pkgtest), keyed by
#    a hash of the suite and the package list. A cold cache builds it (45-72 s measured; network
#    needed: without it the test fails, it does not skip).
# 2. A throw-away overlayfs on top of it per run; systemd-nspawn --boot --private-network in a
#    cgroup subtree of its own; commands run inside with nsenter (no host systemd/machinectl).
# 3. Inside: apt install ./*.deb, a minimal lab config (198.18.0.0/15, dummy interface lan0 in
#    the container's own network namespace), start the three services, is-active, journal,
#    reload with a good and a bad config, stop, apt purge.
# Cleanup (also on failure or timeout): stop nspawn by its PID, unmount, remove the run folder
# and the cgroup subtree. Nothing on the host's network, firewall or routes is touched.
set -euo pipefail

DEBDIR=$(realpath "${1:?usage: $0 DEBDIR}")
SUITE=bookworm
MIRROR=${SARA_PKGTEST_MIRROR:-http://deb.debian.org/debian}
CACHE=${SARA_PKGTEST_CACHE:-/var/cache/sara-pkgtest}
TIMEOUT=${SARA_PKGTEST_TIMEOUT:-300}       # whole run, seconds (a cold cache included)
BASE_PKGS=(systemd systemd-sysv dbus iproute2 iptables procps)

# Bounded in time: the whole run under timeout(1); TERM runs the cleanup below.
if [[ -z ${SARA_PKGTEST_BOUNDED:-} ]]; then
    SARA_PKGTEST_BOUNDED=1 exec timeout --kill-after=30 "$TIMEOUT" "$0" "$@"
fi
((EUID == 0)) || { echo "package-test: needs root" >&2; exit 2; }
for t in debootstrap systemd-nspawn nsenter dpkg-deb; do
    command -v "$t" >/dev/null || { echo "package-test: $t missing (make deps)" >&2; exit 2; }
done
shopt -s nullglob
DEBS=("$DEBDIR"/sara-dispatcher_*.deb "$DEBDIR"/sara-gateway_*.deb "$DEBDIR"/sara-nodeagent_*.deb)
((${#DEBS[@]} == 3)) || { echo "package-test: need the three sara-*.deb in $DEBDIR" >&2; exit 2; }

T0=$(date +%s.%N)
log() { printf '[package-test %6.1fs] %s\n' "$(awk -v a="$(date +%s.%N)" -v b="$T0" 'BEGIN{print a-b}')" "$*"; }

# --- the cached root filesystem ---------------------------------------------------------------
# Runtime dependencies of the packages: first alternative of each Depends entry, no versions.
deps=()
for d in "${DEBS[@]}"; do
    while IFS= read -r p; do
        [[ -n "$p" && "$p" != sara-* ]] && deps+=("$p")
    done < <(dpkg-deb -f "$d" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//; s/ //g')
done
mapfile -t pkgs < <(printf '%s\n' "${BASE_PKGS[@]}" "${deps[@]}" | sort -u)
key=$(printf '%s\n' "$SUITE" "$MIRROR" "${pkgs[@]}" | sha256sum | cut -c1-16)
ROOT=$CACHE/rootfs-$key
mkdir -p "$CACHE/debs"
if [[ ! -f $ROOT/.complete ]]; then
    log "cold cache: debootstrap $SUITE into $ROOT (${pkgs[*]})"
    rm -rf "$ROOT.tmp"
    timeout "$TIMEOUT" debootstrap --variant=minbase --cache-dir="$CACHE/debs" \
        --include="$(IFS=,; echo "${pkgs[*]}")" "$SUITE" "$ROOT.tmp" "$MIRROR" >"$CACHE/debootstrap-$key.log" 2>&1 \
        || {
            # A failure, never a skip: CI starts with a cold cache, and a test that cannot build
            # its container has not tested the packages.
            tail -n 5 "$CACHE/debootstrap-$key.log" | sed 's/^/  debootstrap: /' >&2
            echo "package-test: FAILED: debootstrap of $SUITE from $MIRROR failed (a cold cache needs" \
                "the network; SARA_PKGTEST_MIRROR picks another mirror); log: $CACHE/debootstrap-$key.log" >&2
            rm -rf "$ROOT.tmp"
            exit 1
        }
    # No getty on the read-only console; a machine id for journald.
    rm -f "$ROOT.tmp/etc/machine-id"
    touch "$ROOT.tmp/.complete"
    mv "$ROOT.tmp" "$ROOT"
    log "root filesystem cached"
else
    log "warm cache: $ROOT"
fi

# --- per-run overlay, cgroup subtree, nspawn --------------------------------------------------
RUN=$(mktemp -d "$CACHE/run.XXXXXX")
CG_NAME=sara-pkgtest-$(basename "$RUN")
CGROUPS=()
for h in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do
    [[ -d $h ]] && CGROUPS+=("$h/$CG_NAME")
done
[[ ${#CGROUPS[@]} -eq 0 && -f /sys/fs/cgroup/cgroup.procs ]] && CGROUPS+=("/sys/fs/cgroup/$CG_NAME")
NSPAWN_PID=
CPID=
MERGED=$RUN/merged

cleanup() {
    local rc=$1
    set +e
    if [[ -n $NSPAWN_PID ]] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
        # SIGRTMIN+4 to the container's systemd (its PID 1) = orderly poweroff; nspawn then
        # exits by itself. (Sent to nspawn itself, the signal kills nspawn and leaves the
        # container running: measured.)
        [[ -n $CPID ]] && kill -RTMIN+4 "$CPID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$NSPAWN_PID" 2>/dev/null && kill -KILL "$NSPAWN_PID"
        wait "$NSPAWN_PID" 2>/dev/null
    fi
    # Anything left in our cgroups (only ours: the subtree we created).
    for cg in "${CGROUPS[@]}"; do
        [[ -d $cg ]] || continue
        for _ in $(seq 25); do
            pids=$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)
            [[ -z $pids ]] && break
            kill -KILL $pids 2>/dev/null; sleep 0.2
        done
        find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    mountpoint -q "$MERGED" && { umount "$MERGED" || umount -l "$MERGED"; }
    rm -rf "$RUN"
    log "cleaned up (exit $rc)"
    exit $rc
}
trap 'cleanup $?' EXIT
trap 'log "TIMEOUT or interrupted"; exit 124' TERM INT

mkdir -p "$RUN"/{upper,work,merged}
mount -t overlay overlay -o "lowerdir=$ROOT,upperdir=$RUN/upper,workdir=$RUN/work" "$MERGED"
mkdir -p "$MERGED/root/debs"
cp "${DEBS[@]}" "$MERGED/root/debs/"
cp -r "$(dirname "$0")/lab" "$MERGED/root/lab"
for cg in "${CGROUPS[@]}"; do mkdir -p "$cg"; done

log "booting the container"
(
    for cg in "${CGROUPS[@]}"; do echo "$BASHPID" > "$cg/cgroup.procs"; done
    exec env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn --boot --register=no --keep-unit \
        --private-network --console=read-only -D "$MERGED" -M "$CG_NAME"
) >"$RUN/nspawn.log" 2>&1 &
NSPAWN_PID=$!

# The container's PID 1: the process of our cgroup whose innermost PID is 1.
for _ in $(seq 100); do
    for p in $(find "${CGROUPS[0]}" -name cgroup.procs -exec cat {} + 2>/dev/null); do
        [[ $(awk '/^NSpid/{print $NF}' /proc/$p/status 2>/dev/null) == 1 ]] && { CPID=$p; break; }
    done
    [[ -n $CPID ]] && break
    kill -0 "$NSPAWN_PID" 2>/dev/null || break
    sleep 0.1
done
[[ -n $CPID ]] || { cat "$RUN/nspawn.log" >&2; echo "package-test: container did not start" >&2; exit 1; }

inside() { nsenter -t "$CPID" -a -- /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
state=
for _ in $(seq 50); do
    state=$(inside timeout 20 systemctl is-system-running --wait 2>/dev/null) && break
    [[ $state == degraded ]] && break
    sleep 0.2
done
log "container up (PID 1 = $CPID on the host), system $state"

log "running the checks inside"
timeout 180 nsenter -t "$CPID" -a -- /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    /bin/bash ${SARA_PKGTEST_TRACE:+-x} /root/lab/inside.sh
log "PASS"
