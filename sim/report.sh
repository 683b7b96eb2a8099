#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make sim-report`: sweeps sara-sim and writes CSV tables and PNG plots, then prints a summary.
#   usage: sim/report.sh SARA_SIM OUT_DIR
#   SIM_SEEDS (default 10): seeds per point, averaged; SIM_JOBS (default: cores): parallel runs.
# Sweeps (sim/README.md explains the model and every column):
#   admission.csv   offered 0.2..3.0 step 0.2, --admission sa2c|none|oblivious, shell scheduler
#   schedulers.csv  every scheduler at offered 0.9 with 500 ms stale reports, no admission
#                   (so the scheduler alone decides the balance)
#   staleness.csv   every scheduler at offered 0.9, report interval 0.1..2 s, no admission
#   window.csv      shell and two-choices with forecast windows T = 2..32, as schedulers.csv
# *-runs.csv keep the single runs; admission.png, schedulers.png are the plots.
set -euo pipefail

sim=${1:?usage: report.sh SARA_SIM OUT_DIR}
out=${2:?usage: report.sh SARA_SIM OUT_DIR}
seeds=${SIM_SEEDS:-10}
jobs=${SIM_JOBS:-$(nproc)}
here=$(cd "$(dirname "$0")" && pwd)
schedulers="shell round-robin weighted-round-robin least-sessions least-loaded two-choices"
mkdir -p "$out"

# Runs every argument line of stdin once per seed, in parallel; stdout: header + one CSV row
# per run, sorted so the file does not depend on which run finished first.
run_points() {
    local points
    points=$(cat)
    "$sim" --csv-header
    for s in $(seq 1 "$seeds"); do
        while read -r line; do echo "$line --seed $s --csv"; done <<<"$points"
    done | xargs -P "$jobs" -L 1 "$sim" | sort -t, -k1,1 -k2,2 -k5,5n -k6,6n -k7,7n -k4,4n
}

start=$SECONDS
for admission in sa2c none oblivious; do
    for offered in $(seq 0.2 0.2 3.0); do echo "--admission $admission --scheduler shell --offered $offered"; done
done | run_points >"$out/admission-runs.csv"
for s in $schedulers; do echo "--admission none --scheduler $s --offered 0.9 --report-interval 500ms"; done \
    | run_points >"$out/schedulers-runs.csv"
for s in $schedulers; do
    for d in 100ms 200ms 500ms 1s 2s; do echo "--admission none --scheduler $s --offered 0.9 --report-interval $d"; done
done | run_points >"$out/staleness-runs.csv"
for s in shell two-choices; do
    for w in 2 4 8 16 32; do echo "--admission none --scheduler $s --offered 0.9 --report-interval 500ms --window $w"; done
done | run_points >"$out/window-runs.csv"
for table in admission schedulers staleness window; do
    awk -f "$here/average_runs.awk" "$out/$table-runs.csv" >"$out/$table.csv"
done
runs=$(($(cat "$out"/*-runs.csv | wc -l) - 4))
echo "sim-report: $runs runs ($seeds seeds per point) in $((SECONDS - start)) s -> $out"

gnuplot -e "dir='$out'" "$here/plots.gp"

# The summary: columns by name, so the CSV layout can grow.
summary() {  # FILE COLUMN...
    local file=$1
    shift
    awk -F, -v want="$*" '
        NR == 1 { n = split(want, w, " "); for (i = 1; i <= NF; i++) c[$i] = i
                  for (k = 1; k <= n; k++) printf "%-21s", w[k]; printf "\n"; next }
        { for (k = 1; k <= n; k++) { v = $c[w[k]]; printf (v ~ /^[0-9.]+$/ ? "%-21.4g" : "%-21s"), v }; printf "\n" }
    ' "$file"
}
echo
echo "== admission (shell scheduler): completed/s over cluster capacity | share of admitted sessions that completed"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { o = $c["offered"] + 0; if (!(o in seen)) { seen[o] = 1; list[++n] = o }
      ratio[o, $c["admission"]] = $c["completed_ratio"]; done[o, $c["admission"]] = $c["admitted_completed"] }
    END { printf "%-8s %8s %8s %9s   %8s %8s %9s\n", "offered", "sa2c", "none", "oblivious", "sa2c", "none", "oblivious"
          for (k = 1; k <= n; k++) { o = list[k]
              printf "%-8.1f %8.3f %8.3f %9.3f   %8.4f %8.4f %9.4f\n", o, ratio[o, "sa2c"], ratio[o, "none"],
                     ratio[o, "oblivious"], done[o, "sa2c"], done[o, "none"], done[o, "oblivious"] } }' \
    "$out/admission.csv"
echo
echo "== schedulers at offered 0.9, 500 ms stale reports, no admission"
summary "$out/schedulers.csv" scheduler imbalance oscillation completed_ratio
echo
echo "== forecast window T (scheduler.window) at offered 0.9, 500 ms stale reports, no admission"
summary "$out/window.csv" scheduler window imbalance oscillation
echo
echo "plots: $out/admission.png $out/schedulers.png"
