#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make demo` until the live data path lands: replays the project's own captures of real
# peers (tests/data, made by tests/captures/make-captures.sh) through sarad's session
# identifier and prints the sessions it finds in each.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
captures=(tests/data/*.pcap)
if ((${#captures[@]} == 0)); then
  echo "demo: no captures in tests/data (run 'make captures' as root)" >&2
  exit 1
fi
for pcap in "${captures[@]}"; do
  name=$(basename "$pcap" .pcap)
  expected="tests/data/$name.expected.json"
  vip=198.18.100.10
  description=""
  if [[ -f "$expected" ]]; then
    vip=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vip"])' "$expected")
    description=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("description",""))' "$expected")
  fi
  echo "=================================================================================="
  echo "$name: $description"
  echo "  build/sarad replay --vip $vip $pcap"
  echo "----------------------------------------------------------------------------------"
  build/sarad replay --vip "$vip" "$pcap"
done
echo "=================================================================================="
echo "demo: replayed ${#captures[@]} captures. The live cluster (NFQUEUE, nodes, SIPp and RTSP"
echo "through sarad) replaces this replay when the data-path issue lands."
