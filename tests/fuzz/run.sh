#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every libFuzzer target in BUILD_DIR: first over its seed corpus and regression cases
# (tests/fuzz/corpus/NAME, tests/fuzz/regressions/NAME — a crash there fails the run), then
# fuzzes for SECONDS each with a scratch corpus under build/ so the checkout stays clean.
# Prints one line per target with its execution count.
set -euo pipefail
build_dir=${1:?usage: run.sh BUILD_DIR SECONDS}
seconds=${2:?usage: run.sh BUILD_DIR SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
failed=0
for bin in "$build_dir"/fuzz_*; do
  [[ -x "$bin" ]] || continue
  name=$(basename "$bin"); name=${name#fuzz_}
  seeds=("$here/corpus/$name")
  [[ -d "$here/regressions/$name" ]] && seeds+=("$here/regressions/$name")
  # Replay seeds and regressions exactly once each.
  if ! "$bin" -runs=0 "${seeds[@]}" >"$build_dir/$name.replay.log" 2>&1; then
    echo "fuzz $name: FAILED on seeds/regressions (see $build_dir/$name.replay.log)"; failed=1; continue
  fi
  scratch="$build_dir/corpus-$name"; mkdir -p "$scratch"
  if "$bin" -max_total_time="$seconds" -max_len=70000 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$build_dir/crash-$name-" "$scratch" "${seeds[@]}" >"$build_dir/$name.log" 2>&1; then
    execs=$(grep -m1 'stat::number_of_executed_units' "$build_dir/$name.log" | awk '{print $2}')
    echo "fuzz $name: ok, ${execs:-?} executions in ${seconds}s"
  else
    echo "fuzz $name: FINDING (see $build_dir/$name.log and $build_dir/crash-$name-*)"; failed=1
  fi
done
exit $failed
