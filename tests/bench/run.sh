#!/usr/bin/env bash
# Runs every benchmark binary in BUILD_DIR. Each prints its own ratios against a baseline
# measured in the same process; absolute times on these machines drift.
set -euo pipefail
dir=${1:?usage: run.sh BUILD_DIR}
for bin in "$dir"/bench_*; do
  [[ -x "$bin" ]] || continue
  echo "=== $(basename "$bin")"
  "$bin" --benchmark_min_time=0.2
done
