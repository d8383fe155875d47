-- 003_truncated.sql - central schema version 3: a run's packets cut short by the snap length
-- (the sensor's runs.truncated, SQLite schema 014), so a report read from the central database
-- says a sensor's capture was incomplete as its own file does (schema/pg/README.md).
ALTER TABLE tlsaudit.runs ADD COLUMN truncated bigint NOT NULL DEFAULT 0;
