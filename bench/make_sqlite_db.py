#!/usr/bin/env python3
"""Builds the SQLite benchmark database from the same formulas as bench/data/seed.sql.

seed.sql is PostgreSQL (generate_series, md5(), interval arithmetic), so it cannot be loaded into
SQLite as it is; this script generates the identical rows instead (same ids, same values, same
insertion order). Storage follows corm's SQLite conventions: timestamps as ISO-8601 text
'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), dates 'YYYY-MM-DD', numerics as exact decimal TEXT (the
columns are declared TEXT so SQLite's affinity never turns '12.30' into a REAL), UUIDs as
canonical text, booleans 0/1.

usage: make_sqlite_db.py PATH
"""
import datetime as dt
import hashlib
import os
import sqlite3
import sys


def ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def main(path: str) -> None:
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.executescript(
        """
        PRAGMA journal_mode = WAL;
        CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,
                              created_at TEXT NOT NULL);
        CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors (id),
                            title TEXT NOT NULL, pages INTEGER NOT NULL, price TEXT NOT NULL,
                            published_at TEXT NOT NULL);
        CREATE INDEX books_author_id_idx ON books (author_id);
        CREATE TABLE items (id INTEGER PRIMARY KEY, c_int INTEGER NOT NULL, c_bigint INTEGER NOT NULL,
                            c_text TEXT NOT NULL, c_varchar TEXT NOT NULL, c_numeric TEXT NOT NULL,
                            c_float REAL NOT NULL, c_bool INTEGER NOT NULL, c_ts TEXT NOT NULL,
                            c_date TEXT NOT NULL, c_uuid TEXT NOT NULL);
        CREATE TABLE counters (id INTEGER PRIMARY KEY, value INTEGER NOT NULL DEFAULT 0);
        """
    )
    a0 = dt.datetime(2015, 1, 1)
    db.executemany(
        "INSERT INTO authors VALUES (?, ?, ?, ?)",
        ((g, f"Author {g}", f"author{g}@example.com", ts(a0 + dt.timedelta(hours=g))) for g in range(1, 1001)),
    )
    b0 = dt.datetime(2000, 1, 1)
    books = []
    bid = 0
    for b in range(1, 11):  # ORDER BY b, a
        for a in range(1, 1001):
            bid += 1
            k = a * 10 + b
            cents = 500 + (k * 13) % 9000  # round(5 + (k*13 % 9000)/100.0, 2)
            books.append((bid, a, f"Book {a}-{b}", 50 + (k * 37) % 900, f"{cents // 100}.{cents % 100:02d}",
                          ts(b0 + dt.timedelta(days=k))))
    db.executemany("INSERT INTO books VALUES (?, ?, ?, ?, ?, ?)", books)
    i0 = dt.datetime(2020, 1, 1)
    d0 = dt.date(2000, 1, 1)
    items = []
    for g in range(1, 100001):
        cents = (g * 31) % 1000000
        u = hashlib.md5(f"u{g}".encode()).hexdigest()
        items.append((g, (g * 7919) % 100000, g * 1000003, "item text " + hashlib.md5(str(g).encode()).hexdigest(),
                      f"v{g % 1000}", f"{cents // 100}.{cents % 100:02d}", g / 7.0, int(g % 2 == 0),
                      ts(i0 + dt.timedelta(seconds=g)), (d0 + dt.timedelta(days=g % 10000)).isoformat(),
                      f"{u[0:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:32]}"))
    db.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", items)
    db.executemany("INSERT INTO counters VALUES (?, 0)", ((g,) for g in range(1, 5)))
    db.commit()
    db.execute("ANALYZE")
    db.commit()
    db.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
