-- seed.sql for MariaDB: the same rows from the same formulas, in the same order (so the same
-- ids). MariaDB's Sequence engine (seq_1_to_N) stands in for generate_series.
INSERT INTO authors (name, email, created_at)
SELECT CONCAT('Author ', g.seq),
       CONCAT('author', g.seq, '@example.com'),
       TIMESTAMP '2015-01-01 00:00:00' + INTERVAL g.seq HOUR
FROM seq_1_to_1000 AS g
ORDER BY g.seq;

INSERT INTO books (author_id, title, pages, price, published_at)
SELECT a.seq,
       CONCAT('Book ', a.seq, '-', b.seq),
       50 + ((a.seq * 10 + b.seq) * 37) % 900,
       ROUND(5 + ((a.seq * 10 + b.seq) * 13 % 9000) / 100.0, 2),
       TIMESTAMP '2000-01-01 00:00:00' + INTERVAL (a.seq * 10 + b.seq) DAY
FROM seq_1_to_10 AS b, seq_1_to_1000 AS a
ORDER BY b.seq, a.seq;

INSERT INTO items (c_int, c_bigint, c_text, c_varchar, c_numeric, c_float, c_bool, c_ts, c_date, c_uuid)
SELECT (g.seq * 7919) % 100000,
       g.seq * 1000003,
       CONCAT('item text ', MD5(g.seq)),
       CONCAT('v', g.seq % 1000),
       ((g.seq * 31) % 1000000) / 100.0,
       CAST(g.seq AS DOUBLE) / 7,
       g.seq % 2 = 0,
       TIMESTAMP '2020-01-01 00:00:00' + INTERVAL g.seq SECOND,
       DATE '2000-01-01' + INTERVAL (g.seq % 10000) DAY,
       CONCAT_WS('-', SUBSTR(MD5(CONCAT('u', g.seq)), 1, 8), SUBSTR(MD5(CONCAT('u', g.seq)), 9, 4),
                 SUBSTR(MD5(CONCAT('u', g.seq)), 13, 4), SUBSTR(MD5(CONCAT('u', g.seq)), 17, 4),
                 SUBSTR(MD5(CONCAT('u', g.seq)), 21, 12))
FROM seq_1_to_100000 AS g
ORDER BY g.seq;

INSERT INTO counters (id, value) SELECT seq, 0 FROM seq_1_to_4;

ANALYZE TABLE authors, books, items, counters;

SELECT (SELECT COUNT(*) FROM authors) AS authors,
       (SELECT COUNT(*) FROM books)   AS books,
       (SELECT COUNT(*) FROM items)   AS items,
       (SELECT COUNT(*) FROM counters) AS counters;
