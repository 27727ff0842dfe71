-- schema.sql in MariaDB / MySQL types: the same tables, columns and index. Timestamps are
-- DATETIME(6) holding UTC (corm's sessions run with time_zone = '+00:00'), UUIDs their 36-character
-- text, booleans TINYINT(1).
DROP TABLE IF EXISTS books, authors, items, counters;

CREATE TABLE authors (
    id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name       TEXT        NOT NULL,
    email      TEXT        NOT NULL,
    created_at DATETIME(6) NOT NULL
) ENGINE = InnoDB;

CREATE TABLE books (
    id           BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    author_id    BIGINT        NOT NULL,
    title        TEXT          NOT NULL,
    pages        INT           NOT NULL,
    price        DECIMAL(10,2) NOT NULL,
    published_at DATETIME(6)   NOT NULL,
    KEY books_author_id_idx (author_id),
    CONSTRAINT books_author_id_fkey FOREIGN KEY (author_id) REFERENCES authors (id)
) ENGINE = InnoDB;

-- 'wide' table: id + 10 mixed-type columns
CREATE TABLE items (
    id        BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    c_int     INT           NOT NULL,
    c_bigint  BIGINT        NOT NULL,
    c_text    TEXT          NOT NULL,
    c_varchar VARCHAR(64)   NOT NULL,
    c_numeric DECIMAL(12,2) NOT NULL,
    c_float   DOUBLE        NOT NULL,
    c_bool    TINYINT(1)    NOT NULL,
    c_ts      DATETIME(6)   NOT NULL,
    c_date    DATE          NOT NULL,
    c_uuid    CHAR(36)      NOT NULL
) ENGINE = InnoDB;

-- W6 update_contended
CREATE TABLE counters (
    id    INT    NOT NULL PRIMARY KEY,
    value BIGINT NOT NULL DEFAULT 0
) ENGINE = InnoDB;
