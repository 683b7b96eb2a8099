# SPDX-License-Identifier: GPL-2.0-or-later
# sim/report.sh's plots: gnuplot -e "dir='OUT'" sim/plots.gp reads OUT/admission.csv and
# OUT/staleness.csv (averaged over seeds) and writes OUT/admission.png and OUT/schedulers.png.
# Columns are taken by name from the CSV header; each curve keeps only its own rows (others NaN).
set datafile separator ","
set datafile columnheaders
set terminal pngcairo size 1400,560 font ",11"
set grid
set key top left

only(field, value, y) = (strcol(field) eq value) ? column(y) : NaN
modes = "sa2c none oblivious"
schedulers = "shell round-robin weighted-round-robin least-sessions least-loaded two-choices"

set output dir."/admission.png"
set multiplot layout 1,2 title "Admission at the cluster entry (shell scheduler, mean of seeds)"
set xlabel "offered load (arrivals / cluster capacity)"
set ylabel "completed sessions/s / cluster capacity"
set yrange [0:1.1]
plot [0:3.1] (x < 1 ? x : 1) title "ideal" with lines dashtype 2 lc "gray", \
     for [i = 1:3] dir."/admission.csv" using "offered":(only("admission", word(modes, i), "completed_ratio")) \
         title word(modes, i) with linespoints lc i pt i
set ylabel "completed / ended admitted sessions"
plot [0:3.1] for [i = 1:3] dir."/admission.csv" \
         using "offered":(only("admission", word(modes, i), "admitted_completed")) \
         title word(modes, i) with linespoints lc i pt i
unset multiplot

set output dir."/schedulers.png"
set multiplot layout 1,2 title "Schedulers with stale load reports (offered 0.9, no admission, mean of seeds)"
set xlabel "load report interval δ (s)"
set logscale x
set xrange [0.08:2.5]
set autoscale y
set ylabel "imbalance: time-average of max/mean node load"
plot for [i = 1:6] dir."/staleness.csv" using "report_interval_s":(only("scheduler", word(schedulers, i), "imbalance")) \
         title word(schedulers, i) with linespoints lc i pt i
set ylabel "oscillation: mean |change| of a node's reported load"
plot for [i = 1:6] dir."/staleness.csv" using "report_interval_s":(only("scheduler", word(schedulers, i), "oscillation")) \
         title word(schedulers, i) with linespoints lc i pt i
unset multiplot
