#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs every Debian package that the build, the tests and the demo need. Idempotent:
# it runs apt-get only when something is missing, and `apt-get update` only then.
set -euo pipefail

packages=(
  # build
  g++ make pkg-config clang-14 libclang-rt-14-dev
  libyaml-cpp-dev libpcap-dev libnetfilter-queue-dev libmnl-dev libnetfilter-conntrack-dev
  libssl-dev libabsl-dev libboost-test-dev libbenchmark-dev nlohmann-json3-dev
  # the BPF fast path (issue 17): libbpf loads the program clang-14 compiles for -target bpf;
  # bpftool inspects what is loaded (bpftool prog, map, net)
  libbpf-dev bpftool
  # tests, captures and demo: real peers, captures, namespaces
  python3 python3-pytest python3-scapy python3-gi
  iproute2 iptables conntrack ethtool tcpdump
  sip-tester baresip tshark
  # VRRP between the two dispatchers (etc/keepalived, tests/integration/test_vrrp.py); see
  # the policy-rc.d note below
  keepalived
  # more than one active dispatcher (issue 19): FRR's zebra, bgpd and bfdd announce the VIP
  # (etc/frr); the tests run an upstream router and the dispatchers' FRR in namespaces
  frr
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
  gstreamer1.0-plugins-bad
  gir1.2-gstreamer-1.0 gir1.2-gst-rtsp-server-1.0 ffmpeg
  # make sim-report: plots
  gnuplot-nox
  # promtool (`promtool check rules`, `promtool test rules` on monitoring/prometheus); the
  # prometheus server in the package is not started (policy-rc.d below) nor used
  prometheus
  # make deb, make package-test: Debian packages, lintian, the systemd-nspawn container test
  debhelper devscripts lintian pkg-config debootstrap systemd-container
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi
if ((EUID != 0)); then
  echo "deps: missing ${missing[*]}; run 'make deps' as root" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packages must not start their services on this host: keepalived's postinst would start it
# in the root namespace whenever /etc/keepalived/keepalived.conf exists (the tests run it only
# inside their own namespaces, with their own config). A temporary
# policy-rc.d that denies every start (exit 101) does that for invoke-rc.d and
# deb-systemd-invoke alike; one that is already there (containers ship one) is left alone.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\n# temporary, tools/install-deps.sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
