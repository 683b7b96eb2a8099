#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every benchmark binary in BUILD_DIR. Each prints its own ratios against a baseline
# measured in the same process; absolute times on these machines drift.
set -euo pipefail
dir=${1:?usage: run.sh BUILD_DIR}
for bin in "$dir"/bench_*; do
  [[ -x "$bin" ]] || continue
  echo "=== $(basename "$bin")"
  # Three repetitions in random order, medians: a burst of load elsewhere on the machine hits
  # one repetition, not one side of a ratio.
  "$bin" --benchmark_min_time=0.2 --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true \
    --benchmark_report_aggregates_only=true
done
