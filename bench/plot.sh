#!/usr/bin/env bash
# Draws the benchmark bar chart from a run's `W<n> <peer> <metric> <value>` lines:
# each corm peer's throughput as a ratio to the raw peer measured in the same run
# (raw-libpq for PostgreSQL, raw-sqlite3 for SQLite; W5: the pipelined async flush and
# execute_many against raw-libpq-pipelined), with the 0.9x target for the ORM marked. W1, W3 and W4 use the
# ratio each corm peer took in its own process (passes paired with raw libpq's) where it printed one.
#   bench/plot.sh RESULTS OUT.png
set -euo pipefail
RES="$1" PNG="$2"
DAT="$(mktemp /tmp/corm-bench-plot.XXXXXX)"
trap 'rm -f "$DAT"' EXIT
python3 - "$RES" >"$DAT" <<'PY'
import sys
val, same = {}, {}
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) != 4 or not p[0].startswith("W") or p[2] == "peak_rss_mb":
        continue
    if p[2] == "ratio_to_raw_libpq":
        same[(p[0], p[1])] = float(p[3])
    else:
        val[(p[0], p[1])] = float(p[3])
cols = [("corm-orm-async", "raw-libpq"), ("corm-orm-sync", "raw-libpq"),
        ("corm-core-async", "raw-libpq"), ("corm-core-sync", "raw-libpq"),
        ("corm-orm-sqlite", "raw-sqlite3"), ("corm-core-sqlite", "raw-sqlite3")]
print("workload " + " ".join(c for c, _ in cols))
for w in ["W1", "W2", "W3", "W4", "W5", "W6"]:
    out = [w + "*" if w == "W5" else w]
    for c, base in cols:
        # W5: the async flush and execute_many pipeline, so they are measured against raw
        # pipelined inserts (the bar).
        if w == "W5" and c in ("corm-orm-async", "corm-core-async"):
            base = "raw-libpq-pipelined"
        v, b = val.get((w, c)), val.get((w, base))
        if (w, c) in same:  # W1, W3, W4: the ratio the peer took in its own process
            out.append(f"{same[(w, c)]:.3f}")
        else:
            out.append(f"{v / b:.3f}" if v and b else "-")
    if any(x != "-" for x in out[1:]):
        print(" ".join(out))
PY
gnuplot <<GP
set terminal pngcairo size 1200,650 font "DejaVu Sans,11"
set output "$PNG"
set title "corm throughput as a ratio to the raw driver in the same run (W1, W3, W4: passes paired in the same process; raw = 1.0; higher is better)"
set datafile missing "-"
set style data histograms
set style histogram clustered gap 1.5
set style fill solid 0.85 border -1
set boxwidth 0.9
set key autotitle columnhead
set key outside bottom center horizontal font ",10"
set grid ytics
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set xlabel "* W5: corm-orm-async (flush) and corm-core-async (execute_many) vs raw-libpq-pipelined; sync and sqlite vs one-by-one raw" font ",9" noenhanced
set ylabel "ratio to raw"
set arrow 1 from graph 0, first 1.0 to graph 1, first 1.0 nohead lw 2 lc rgb "#333333"
set arrow 2 from graph 0, first 0.9 to graph 1, first 0.9 nohead lw 1 dt 2 lc rgb "#cc0000"
set label 1 "target 0.9x (ORM)" at graph 0.995, first 0.93 right textcolor rgb "#cc0000" font ",9"
plot for [i=2:7] "$DAT" using i:xtic(1), \
     for [i=2:7] "$DAT" using (\$0 + (i-4.5)/7.5):(column(i)):(sprintf("%.2f", column(i))) with labels offset 0,0.7 font ",8" notitle
GP
echo "wrote $PNG" >&2
