-- 005_time_back.sql - central schema version 5: how often a run's packet time went back (the
-- sensor's runs.time_back, SQLite schema 019: files read out of time order, a clock stepped back).
ALTER TABLE tlsaudit.runs ADD COLUMN time_back bigint NOT NULL DEFAULT 0;
