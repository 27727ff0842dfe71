#!/usr/bin/env python3
"""Prints each corm peer's ratio to its raw baseline across several runs (markdown): the median
of the per-run ratios and their range. One run's figures move by ±30 % with the machine's state
(and a loopback round trip by more), so a ratio is taken within each run — both peers measured
minutes apart on the same server — and only then summarised across runs.

Baselines as in table.py: raw-libpq (raw-sqlite3 for SQLite peers); for W1 and W5, corm-orm-async
and corm-core-async are also compared with raw-libpq-pipelined where the bar asks for it (W5).
For W1, W3 and W4 the corm peers also print `ratio_to_raw_libpq`, taken inside their own process
(each pass paired with a raw libpq pass seconds apart): those rows read "raw-libpq, same process".

usage: ratios.py RESULTS_FILE...
"""
import statistics
import sys

PEERS = ["corm-orm-async", "corm-orm-sync", "corm-core-async", "corm-core-sync", "corm-orm-sqlite", "corm-core-sqlite"]


def load(path):
    val = {}
    for line in open(path):
        p = line.split()
        if len(p) != 4 or not p[0].startswith("W") or p[2] == "peak_rss_mb":
            continue
        key = (p[0], p[1] + "@same-process") if p[2] == "ratio_to_raw_libpq" else (p[0], p[1])
        val[key] = float(p[3])
    return val


def main(paths):
    runs = [load(p) for p in paths]
    print(f"| workload | peer | baseline | median ratio ({len(runs)} runs) | range |")
    print("|---|---|---|---:|---|")
    for w in ["W1", "W2", "W3", "W4", "W5", "W6"]:
        for peer in PEERS:
            bases = ["raw-sqlite3"] if "sqlite" in peer else ["raw-libpq"]
            if w == "W5" and peer in ("corm-orm-async", "corm-core-async"):
                bases = ["raw-libpq-pipelined"]
            for base in bases:
                ratios = [r[(w, peer)] / r[(w, base)] for r in runs if (w, peer) in r and r.get((w, base))]
                if not ratios:
                    continue
                print(f"| {w} | {peer} | {base} | {statistics.median(ratios):.2f}x | "
                      f"{min(ratios):.2f}–{max(ratios):.2f}x |")
            same = [r[(w, peer + "@same-process")] for r in runs if (w, peer + "@same-process") in r]
            if same:
                print(f"| {w} | {peer} | raw-libpq, same process | {statistics.median(same):.3f}x | "
                      f"{min(same):.3f}–{max(same):.3f}x |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
