-- 002_meta.sql - central schema version 2: what a sensor's reports read besides its rows, so
-- `tlsaudit query|report --db postgresql://...` say what the sensor's SQLite file says
-- (schema/pg/README.md). Both tables are replaced whole for a sensor at every sync.

-- The keys of the sensor's store_meta that the reports read: 'pruned_until_us' (retention
-- deleted rows older than this, microseconds) and 'refresh' (an inventory rebuild is pending
-- after a re-classification: reports read the rows).
CREATE TABLE tlsaudit.store_meta (
    sensor  text NOT NULL,
    key     text NOT NULL,
    value   text,
    PRIMARY KEY (sensor, key)
);

-- The sensor's Office 365 endpoint list versions (SQLite endpoint_sets, without the lists).
CREATE TABLE tlsaudit.endpoint_sets (
    sensor       text NOT NULL,
    id           bigint NOT NULL,
    instance     text NOT NULL,
    version      text NOT NULL,
    source       text NOT NULL,
    imported_at  text NOT NULL,
    builtin      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (sensor, id)
);
