#!/usr/bin/env python3
"""Prints the benchmark table (markdown) from `W<n> <peer> <metric> <value>` lines.

ratio = value / the same workload's and metric's baseline from the same run: raw-libpq (one
statement per round trip) for PostgreSQL peers, raw-libmariadb for MariaDB peers, raw-sqlite3 for
SQLite peers (peak_rss_mb: lower
is better, ratio shown as is); "ratio to raw pipelined" compares corm peers with raw-libpq-pipelined
where that variant exists (W1, W5). `ratio_to_raw_libpq` rows (W1, W3, W4) are a corm peer's ratio
taken inside its own process, each pass paired with a raw libpq pass: printed as they are.

usage: table.py RESULTS_FILE
"""
import sys

ORDER = ["raw-libpq", "raw-libpq-pipelined", "raw-libpq-copy", "corm-orm-async", "corm-orm-async-identity-map",
         "corm-orm-sync",
         "corm-core-async", "corm-core-async-checkout", "corm-core-sync", "corm-core-sync-checkout",
         "raw-libmariadb", "corm-orm-mariadb", "corm-core-mariadb", "corm-core-mariadb-checkout",
         "raw-sqlite3", "corm-orm-sqlite", "corm-core-sqlite", "corm-core-sqlite-checkout"]


def group(peer):
    """0 PostgreSQL, 1 MariaDB, 2 SQLite: the table lists each server's peers together."""
    return 2 if "sqlite" in peer else 1 if "mariadb" in peer else 0


BASELINE = ["raw-libpq", "raw-libmariadb", "raw-sqlite3"]


def main(path):
    rows = []
    for line in open(path):
        parts = line.split()
        if len(parts) == 4 and parts[0].startswith("W"):
            rows.append((parts[0], parts[1], parts[2], float(parts[3])))
    val = {(w, p, m): v for w, p, m, v in rows}

    def key(r):
        w, p, m, _ = r
        return (w, group(p), m == "peak_rss_mb", ORDER.index(p) if p in ORDER else 99, m == "ratio_to_raw_libpq")

    print("| workload | peer | metric | value | ratio to raw | ratio to raw pipelined |")
    print("|---|---|---|---:|---:|---:|")
    for w, p, m, v in sorted(rows, key=key):
        if m == "ratio_to_raw_libpq":
            print(f"| {w} | {p} | {m} (same process) | {v:.3f} | {v:.2f}x | |")
            continue
        base = BASELINE[group(p)]
        b = val.get((w, base, m))
        ratio = f"{v / b:.2f}x" if b else ""
        pb = None if group(p) else val.get((w, "raw-libpq-pipelined", m))
        pratio = f"{v / pb:.2f}x" if pb and p.startswith("corm") else ""
        print(f"| {w} | {p} | {m} | {v:,.1f} | {ratio} | {pratio} |")


if __name__ == "__main__":
    main(sys.argv[1])
