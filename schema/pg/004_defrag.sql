-- 004_defrag.sql - central schema version 4: a run's IP datagrams rebuilt from fragments and
-- those given up (the sensor's runs.ip_reassembled and runs.ip_incomplete, SQLite schema 015).
ALTER TABLE tlsaudit.runs ADD COLUMN ip_reassembled bigint NOT NULL DEFAULT 0;
ALTER TABLE tlsaudit.runs ADD COLUMN ip_incomplete bigint NOT NULL DEFAULT 0;
