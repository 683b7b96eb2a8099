# SPDX-License-Identifier: GPL-2.0-or-later
# Averages sara-sim --csv rows over seeds: rows with the same admission, scheduler, holding,
# offered, report_interval_s and window become one row whose numeric columns are the mean over its
# seeds (an empty cell, e.g. admitted_completed when nothing ended, is left out of its mean);
# the seed column becomes the number of seeds. Input: the header line, then the rows, in any
# order; output keeps the first-seen order of the groups.
BEGIN { FS = OFS = ","; NUMBER = "^[-+]?[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?$" }
NR == 1 {
    print
    ncol = NF
    for (i = 1; i <= NF; i++) name[i] = $i
    for (i = 1; i <= NF; i++) col[$i] = i
    next
}
{
    key = $col["admission"] FS $col["scheduler"] FS $col["holding"] FS $col["offered"] FS $col["report_interval_s"] FS $col["window"]
    if (!(key in runs)) { order[++groups] = key; for (i = 1; i <= ncol; i++) first[key, i] = $i }
    runs[key]++
    for (i = 1; i <= ncol; i++) if ($i ~ NUMBER) { sum[key, i] += $i; n[key, i]++ }
}
END {
    for (g = 1; g <= groups; g++) {
        key = order[g]
        line = ""
        for (i = 1; i <= ncol; i++) {
            if (name[i] == "seed") v = runs[key]
            else if (first[key, i] !~ NUMBER) v = first[key, i]
            else if (n[key, i] == 0) v = ""
            else v = sprintf("%.6g", sum[key, i] / n[key, i])
            line = line (i > 1 ? OFS : "") v
        }
        print line
    }
}
